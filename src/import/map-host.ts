/**
 * One host's keepalived configuration read into a model of what keepalived does with it (values read the way
 * keepalived reads them: an invalid priority is 100, an unknown state is BACKUP...), and the fate of every node of
 * its tree: mapped into the answers, kept as an includeDir snippet, or dropped (with why).
 */
import { isIPv4 } from '../answers/schema.js';
import { dirnameOf, walkConf, type ConfNode } from './keepalived-conf.js';
import { knownKeyword, type KeywordSection } from './keepalived-keywords.js';
import type { ImportedHost } from './types.js';

export type How = 'mapped' | 'kept' | 'dropped';

/** the fate of each node of one host's tree */
export interface Fate {
  how: How;
  text?: string;
  /** a mapped node's note is a warning (how keepalived read it) or names a dropped part of it */
  part?: 'dropped';
}

export class Fates {
  private readonly m = new Map<ConfNode, Fate>();

  constructor(readonly host: string) {}

  /** set a node's fate (and, unless already decided, its descendants' without a note) */
  set(node: ConfNode, how: How, text?: string, part?: 'dropped'): void {
    this.m.set(node, { how, ...(text ? { text } : {}), ...(part ? { part } : {}) });
    for (const [c] of walkConf(node.children ?? [])) if (!this.m.has(c)) this.m.set(c, { how });
  }

  /** set a block's own fate only (its lines are decided one by one) */
  mark(node: ConfNode, how: How, text?: string): void {
    this.m.set(node, { how, ...(text ? { text } : {}) });
  }

  /** decide a node only if nothing decided it yet */
  default(node: ConfNode, how: How, text?: string): void {
    if (!this.m.has(node)) this.set(node, how, text);
  }

  get(node: ConfNode): Fate | undefined {
    return this.m.get(node);
  }

  at(node: ConfNode): string {
    return `${this.host}:${node.at.file}:${node.at.line}`;
  }
}

export interface VipModel {
  address: string;
  prefix: number;
  explicitPrefix: boolean;
  dev?: string;
  label?: string;
  node: ConfNode;
}

export interface NotifyModel {
  kind: string;
  words: string[];
  node: ConfNode;
}

/** a track_script line: NAME [weight N [reverse]] (the weight overrides the vrrp_script's) */
export interface TrackModel {
  name: string;
  node: ConfNode;
  weight?: number;
}

/** track_script lines of a block */
function tracksOf(fates: Fates, k: ConfNode): TrackModel[] {
  return values(fates, k).map((c) => {
    const i = c.args.indexOf('weight');
    const w = i >= 0 && /^-?\d+$/.test(c.args[i + 1] ?? '') ? Number(c.args[i + 1]) : undefined;
    if (c.args.includes('reverse')) fates.set(c, 'mapped', 'reverse: not reproduced', 'dropped');
    return { name: c.keyword, node: c, ...(w !== undefined ? { weight: w } : {}) };
  });
}

export interface InstanceModel {
  name: string;
  node: ConfNode;
  wantMaster: boolean;
  stateNode?: ConfNode;
  interface?: string;
  vrid: number | null;
  priority: number;
  priorityNode?: ConfNode;
  advertInt: number;
  advertRaw?: string;
  version?: number;
  authType?: string;
  authPass?: string;
  authPassNode?: ConfNode;
  authNode?: ConfNode;
  vips: VipModel[];
  nopreempt: boolean;
  preemptDelay?: number;
  unicastSrc?: string;
  unicastPeers: string[];
  tracks: TrackModel[];
  notifies: NotifyModel[];
  smtpAlert?: ConfNode;
  mcastSrc?: ConfNode;
}

export interface ScriptModel {
  name: string;
  node: ConfNode;
  args: string[];
  interval: number;
  fall: number;
  rise: number;
  timeout?: number;
  weight: number;
  weightNode?: ConfNode;
}

export interface GroupModel {
  name: string;
  node: ConfNode;
  members: string[];
  tracks: TrackModel[];
  notifies: NotifyModel[];
}

export interface HostModel {
  host: ImportedHost;
  fates: Fates;
  routerId?: string;
  emails: { value: string; node: ConfNode }[];
  emailFrom?: { value: string; node: ConfNode };
  smtpServer?: { value: string; node: ConfNode };
  vrrpVersion?: number;
  strict?: ConfNode;
  instances: InstanceModel[];
  scripts: Map<string, ScriptModel>;
  groups: GroupModel[];
  /** `include DIR/*...` globs: directories */
  includeDirs: { dir: string; node: ConfNode }[];
  /** global_defs lines kept as a snippet */
  keptGlobals: ConfNode[];
  /** top-level blocks kept as snippets */
  keptRoots: ConfNode[];
}

/** every track_script line of a host: in its instances and in its sync groups */
export function allTracks(m: HostModel): TrackModel[] {
  return [...m.instances.flatMap((i) => i.tracks), ...m.groups.flatMap((g) => g.tracks)];
}

const SEC = /^(\d+)(?:\.(\d+))?$/;

/**
 * keepalived 2.x read_unsigned (digits only) / 1.3.5 strtoul with an end check: both refuse "110" followed by a
 * full-width space (the guides' "priority 110\u3000\u3000# ..." is priority 100 for keepalived)
 */
export function readUnsigned(v: string | undefined, min: number, max: number): number | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

/** seconds with decimals ("1", "0.5"); 1.x reads it with atof (a trailing garbage is ignored) */
export function readSeconds(v: string | undefined, major: 1 | 2): number | null {
  if (v === undefined) return null;
  if (major === 1) {
    const m = /^\s*([+-]?\d*\.?\d+)/.exec(v);
    return m && Number(m[1]) > 0 ? Number(m[1]) : null;
  }
  const m = SEC.exec(v);
  return m && Number(v) > 0 ? Number(v) : null;
}

/**
 * the children keepalived reads as keywords of a block: an unknown keyword with its own block ends the enclosing
 * block (keepalived ignores the keyword and its `{`, reads the inner lines at this level, and the inner `}` closes
 * the enclosing block): the lines after it are not part of the block for keepalived
 */
export function effectiveChildren(block: ConfNode, section: KeywordSection, major: 1 | 2, fates: Fates): ConfNode[] {
  const out: ConfNode[] = [];
  const kids = block.children ?? [];
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i];
    if (k.children && !knownKeyword(major, section, k.keyword)) {
      const after = kids.slice(i + 1);
      fates.set(
        k,
        'dropped',
        `keepalived ${major}.x does not know '${k.keyword}': it ignores it and its '{', reads its lines as ` +
          `${block.keyword} keywords, and its '}' ends ${block.keyword} ${block.args[0] ?? ''} here` +
          (after.length ? `: the ${after.length} line(s) after it are read at the top level and ignored` : ''),
      );
      for (const a of after) fates.set(a, 'dropped', `ignored by keepalived: ${block.keyword} ended early (above)`);
      for (const c of k.children) fates.set(c, 'dropped', `read by keepalived as a ${block.keyword} keyword`);
      return out;
    }
    out.push(k);
  }
  return out;
}

/** the values of a value block (an include among them is followed: its lines are the values) */
function values(fates: Fates, k: ConfNode): ConfNode[] {
  const out: ConfNode[] = [];
  for (const c of k.children ?? []) {
    if (c.included !== undefined) fates.set(c, 'mapped');
    else out.push(c);
  }
  return out;
}

function unknown(major: 1 | 2, section: string): string {
  return `keepalived ${major}.x does not know this keyword in ${section}: it logs "Unknown keyword" and ignores it`;
}

/** read global_defs */
function readGlobals(m: HostModel, block: ConfNode): void {
  const { fates } = m;
  const major = m.host.keepalivedMajor;
  fates.mark(block, 'mapped');
  for (const k of effectiveChildren(block, 'global_defs', major, fates)) {
    if (fates.get(k)?.how === 'dropped') continue;
    const v = k.args[0];
    switch (k.keyword) {
      case 'router_id':
        m.routerId = v;
        fates.set(k, 'mapped');
        break;
      case 'notification_email':
        for (const e of values(fates, k)) for (const w of [e.keyword, ...e.args]) m.emails.push({ value: w, node: e });
        for (const e of k.args) m.emails.push({ value: e, node: k });
        fates.set(k, 'mapped');
        break;
      case 'notification_email_from':
        if (v) m.emailFrom = { value: v, node: k };
        fates.set(k, 'mapped');
        break;
      case 'smtp_server':
        if (v) m.smtpServer = { value: v, node: k };
        fates.set(
          k,
          'mapped',
          k.args.length > 1 ? `port ${k.args[1]}: not reproduced (port 25)` : undefined,
          'dropped',
        );
        break;
      case 'vrrp_version':
        m.vrrpVersion = readUnsigned(v, 2, 3) ?? undefined;
        fates.set(k, 'mapped');
        break;
      default:
        readGlobalOther(m, k, major);
    }
  }
}

const GLOBAL_DROPPED: Record<string, string> = {
  vrrp_strict:
    'ha-setup does not set vrrp_strict: with it keepalived adds firewall rules that drop traffic to the VIPs, ' +
    'refuses unicast, and ignores the authentication',
  enable_script_security: 'ha-setup sets it for its own scripts',
  script_user: 'ha-setup runs its scripts as root with enable_script_security',
  vrrp_rt_priority: 'not reproduced: failover.realtime sets vrrp_rt_priority 49 (see the README before turning it on)',
  notify_fifo: 'not reproduced: ha-setup notifies with notify.script',
  vrrp_notify_fifo: 'not reproduced: ha-setup notifies with notify.script',
};

function readGlobalOther(m: HostModel, k: ConfNode, major: 1 | 2): void {
  const { fates } = m;
  if (!knownKeyword(major, 'global_defs', k.keyword)) return fates.set(k, 'dropped', unknown(major, 'global_defs'));
  if (k.keyword === 'vrrp_strict') m.strict = k;
  if (GLOBAL_DROPPED[k.keyword]) return fates.set(k, 'dropped', GLOBAL_DROPPED[k.keyword]);
  if (/^vrrp_g(arp|na)_interval$/.test(k.keyword) && Number(k.args[0]) === 0)
    return fates.set(k, 'dropped', "0 is keepalived's default, and current keepalived refuses the 0");
  m.keptGlobals.push(k);
}

function vipOf(n: ConfNode, iface: string | undefined, fates: Fates): VipModel | null {
  const [addr, len, extra] = n.keyword.split('/');
  const prefix = len === undefined ? 32 : /^\d{1,2}$/.test(len) && Number(len) <= 32 ? Number(len) : NaN;
  if (extra !== undefined || !isIPv4(addr) || Number.isNaN(prefix)) {
    fates.set(n, 'dropped', "not an IPv4 address[/prefix]: ha-setup's VIPs are IPv4");
    return null;
  }
  const vip: VipModel = { address: addr, prefix, explicitPrefix: len !== undefined, node: n };
  const rest: string[] = [];
  for (let i = 0; i < n.args.length; i++) {
    const a = n.args[i];
    if (a === 'dev' && n.args[i + 1]) vip.dev = n.args[++i];
    else if (a === 'label' && n.args[i + 1]) vip.label = n.args[++i];
    else rest.push(a);
  }
  if (vip.dev === iface) delete vip.dev;
  fates.set(
    n,
    'mapped',
    rest.length ? `${rest.join(' ')}: not reproduced (ha-setup's VIP has an address, dev and label)` : undefined,
    'dropped',
  );
  return vip;
}

const INSTANCE_DROPPED: Record<string, string> = {
  track_interface: 'ha-setup tracks the VRRP interface only',
  dont_track_primary: 'ha-setup tracks the VRRP interface',
  virtual_ipaddress_excluded: 'ha-setup has no excluded VIPs: these addresses are not managed any more',
  virtual_routes: 'ha-setup has no virtual routes',
  virtual_rules: 'ha-setup has no virtual rules',
  use_vmac: 'ha-setup does not use a VRRP virtual MAC',
  strict_mode: 'ha-setup does not set strict mode (see vrrp_strict)',
  lvs_sync_daemon_interface: 'ha-setup does not run the LVS sync daemon',
  track_file: "ha-setup's fast profile tracks its own nginx state file",
  track_process: 'ha-setup checks nginx with its health check',
};

/** read one vrrp_instance */
function readInstance(m: HostModel, block: ConfNode): InstanceModel {
  const { fates } = m;
  const major = m.host.keepalivedMajor;
  const inst: InstanceModel = {
    name: block.args[0] ?? '',
    node: block,
    wantMaster: false,
    vrid: null,
    priority: 100,
    advertInt: 1,
    vips: [],
    nopreempt: false,
    unicastPeers: [],
    tracks: [],
    notifies: [],
  };
  fates.mark(block, 'mapped');
  const kids = effectiveChildren(block, 'vrrp_instance', major, fates);
  const iface = kids.find((k) => k.keyword === 'interface')?.args[0];
  for (const k of kids) readInstanceKeyword(m, inst, k, iface);
  return inst;
}

function readInstanceKeyword(m: HostModel, inst: InstanceModel, k: ConfNode, iface: string | undefined): void {
  const { fates } = m;
  const major = m.host.keepalivedMajor;
  const v = k.args[0];
  const mapped = (text?: string) => fates.set(k, 'mapped', text);
  switch (k.keyword) {
    case 'state':
      inst.stateNode = k;
      // MASTER sets it; BACKUP never clears it; 2.x reads an unknown state as BACKUP, 1.x ignores it
      if (v === 'MASTER') inst.wantMaster = true;
      else if (v !== 'BACKUP' && major === 2) inst.wantMaster = false;
      return mapped(
        v === 'MASTER' || v === 'BACKUP' ? undefined : `'${v ?? ''}' is not a state: keepalived reads it as BACKUP`,
      );
    case 'interface':
      inst.interface = v;
      return mapped();
    case 'virtual_router_id':
      inst.vrid = readUnsigned(v, 1, 255);
      return mapped(inst.vrid === null ? `'${v ?? ''}' is not 1..255: keepalived refuses it` : undefined);
    case 'priority': {
      const p = readUnsigned(v, 1, 255);
      inst.priority = p ?? 100;
      inst.priorityNode = k;
      return mapped(p === null ? `'${v ?? ''}' is not 1..255: keepalived uses 100` : undefined);
    }
    case 'advert_int': {
      const s = readSeconds(v, major);
      if (s !== null) inst.advertInt = s;
      inst.advertRaw = v;
      return mapped(s === null ? `'${v ?? ''}' is not a number of seconds: keepalived keeps 1 s` : undefined);
    }
    case 'version':
      inst.version = readUnsigned(v, 2, 3) ?? undefined;
      return mapped();
    case 'authentication':
      return readAuth(m, inst, k);
    case 'virtual_ipaddress':
      fates.mark(k, 'mapped');
      for (const c of values(fates, k)) {
        const vip = vipOf(c, iface, fates);
        if (vip) inst.vips.push(vip);
      }
      return;
    case 'nopreempt':
      inst.nopreempt = true;
      return mapped();
    case 'preempt':
      inst.nopreempt = false;
      return mapped();
    case 'preempt_delay':
      inst.preemptDelay = readSeconds(v, major) ?? 0;
      return mapped();
    case 'unicast_src_ip':
      inst.unicastSrc = v;
      return mapped();
    case 'unicast_peer':
      for (const c of values(fates, k)) inst.unicastPeers.push(c.keyword);
      return mapped();
    case 'track_script':
      inst.tracks.push(...tracksOf(fates, k));
      return mapped();
    case 'mcast_src_ip':
      inst.mcastSrc = k;
      return;
    case 'smtp_alert':
      inst.smtpAlert = k;
      return;
  }
  if (/^notify(_\w+)?$/.test(k.keyword) && knownKeyword(major, 'vrrp_instance', k.keyword)) {
    inst.notifies.push({ kind: k.keyword, words: k.args, node: k });
    return;
  }
  if (!knownKeyword(major, 'vrrp_instance', k.keyword)) return fates.set(k, 'dropped', unknown(major, 'vrrp_instance'));
  fates.set(k, 'dropped', INSTANCE_DROPPED[k.keyword] ?? 'ha-setup renders its instances without it');
}

function readAuth(m: HostModel, inst: InstanceModel, k: ConfNode): void {
  m.fates.mark(k, 'mapped');
  inst.authNode = k;
  for (const c of k.children ?? []) {
    if (c.keyword === 'auth_type') inst.authType = c.args[0];
    else if (c.keyword === 'auth_pass') {
      inst.authPass = c.args[0] ?? '';
      inst.authPassNode = c;
    } else {
      m.fates.set(c, 'dropped', unknown(m.host.keepalivedMajor, 'authentication'));
      continue;
    }
    m.fates.set(c, 'mapped');
  }
}

function readScriptBlock(m: HostModel, block: ConfNode): ScriptModel {
  const major = m.host.keepalivedMajor;
  const s: ScriptModel = { name: block.args[0] ?? '', node: block, args: [], interval: 1, fall: 1, rise: 1, weight: 0 };
  for (const k of effectiveChildren(block, 'vrrp_script', major, m.fates)) {
    if (m.fates.get(k)?.how === 'dropped') continue;
    const v = k.args[0];
    if (k.keyword === 'script') s.args = k.args;
    else if (k.keyword === 'interval') s.interval = readSeconds(v, major) ?? 1;
    else if (k.keyword === 'fall') s.fall = readUnsigned(v, 1, 1_000_000) ?? 1;
    else if (k.keyword === 'rise') s.rise = readUnsigned(v, 1, 1_000_000) ?? 1;
    else if (k.keyword === 'timeout') s.timeout = readSeconds(v, major) ?? undefined;
    else if (k.keyword === 'weight') {
      s.weight = /^-?\d+$/.test(v ?? '') ? Number(v) : 0;
      s.weightNode = k;
      if (k.args.includes('reverse')) m.fates.set(k, 'mapped', 'reverse: not reproduced', 'dropped');
    } else if (!knownKeyword(major, 'vrrp_script', k.keyword)) m.fates.set(k, 'dropped', unknown(major, 'vrrp_script'));
  }
  return s;
}

function readGroup(m: HostModel, block: ConfNode): GroupModel {
  const major = m.host.keepalivedMajor;
  const g: GroupModel = { name: block.args[0] ?? '', node: block, members: [], tracks: [], notifies: [] };
  for (const k of effectiveChildren(block, 'vrrp_sync_group', major, m.fates)) {
    if (m.fates.get(k)?.how === 'dropped') continue;
    if (k.keyword === 'group') g.members.push(...values(m.fates, k).flatMap((c) => [c.keyword, ...c.args]), ...k.args);
    else if (k.keyword === 'track_script') g.tracks.push(...tracksOf(m.fates, k));
    else if (/^notify(_\w+)?$/.test(k.keyword) && knownKeyword(major, 'vrrp_sync_group', k.keyword))
      g.notifies.push({ kind: k.keyword, words: k.args, node: k });
    else if (k.keyword === 'smtp_alert') continue;
    else if (!knownKeyword(major, 'vrrp_sync_group', k.keyword))
      m.fates.set(k, 'dropped', unknown(major, 'vrrp_sync_group'));
    else m.fates.set(k, 'dropped', 'ha-setup renders its sync groups without it');
  }
  return g;
}

/** the directory of an include glob like DIR/*.conf (a directory of snippets); relative: from `fromDir` */
export function includeDirOf(glob: string, fromDir = '/'): string | null {
  const abs = glob.startsWith('/') ? glob : `${fromDir}/${glob}`;
  const parts: string[] = [];
  for (const p of abs.split('/')) {
    if (p === '..') parts.pop();
    else if (p && p !== '.') parts.push(p);
  }
  const m = /^(\/[^*?[\]{}]*)\/\*[^/]*$/.exec(`/${parts.join('/')}`);
  return m ? m[1] : null;
}

const BLOCK_ROOTS = new Set(['global_defs', 'vrrp_instance', 'vrrp_script', 'vrrp_sync_group']);

/** read one host's configuration into its model */
export function readHost(host: ImportedHost, name: string): HostModel {
  const m: HostModel = {
    host,
    fates: new Fates(name),
    emails: [],
    instances: [],
    scripts: new Map(),
    groups: [],
    includeDirs: [],
    keptGlobals: [],
    keptRoots: [],
  };
  const major = host.keepalivedMajor;
  for (const n of host.config.tree) {
    if (n.keyword === 'global_defs' && n.children) readGlobals(m, n);
    else if (n.keyword === 'vrrp_instance' && n.children) {
      if (m.instances.some((i) => i.name === n.args[0]))
        m.fates.set(n, 'dropped', `a second vrrp_instance ${n.args[0]}: keepalived refuses the duplicate name`);
      else m.instances.push(readInstance(m, n));
    } else if (n.keyword === 'vrrp_script' && n.children) m.scripts.set(n.args[0] ?? '', readScriptBlock(m, n));
    else if (n.keyword === 'vrrp_sync_group' && n.children) m.groups.push(readGroup(m, n));
    else if (/^include[rmwba]?$/.test(n.keyword)) {
      const dir = includeDirOf(n.args[0] ?? '', dirnameOf(n.at.file));
      if (dir) m.includeDirs.push({ dir, node: n });
      m.fates.set(n, 'mapped');
    } else if (knownKeyword(major, 'root', n.keyword) && !BLOCK_ROOTS.has(n.keyword)) m.keptRoots.push(n);
    else if (knownKeyword(major, 'root', n.keyword))
      m.fates.set(n, 'dropped', 'without a { } block: keepalived reads nothing from it');
    else
      m.fates.set(
        n,
        'dropped',
        n.children
          ? `${unknown(major, 'the top level')}, and reads the lines of its block as top-level keywords`
          : unknown(major, 'the top level'),
      );
  }
  return m;
}
