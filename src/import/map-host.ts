/**
 * One host's keepalived configuration read into a model of what keepalived does with it (each keyword's handler
 * reads the words it reads, and keepalived ignores the rest: named in a note; an invalid priority is 100, an unknown
 * state is BACKUP...), and the fate of every node of its tree: mapped into the answers, kept as an includeDir
 * snippet, or dropped (with why). What keepalived settles when it completes an instance (the priority of a MASTER
 * without one, vrrp_strict's rules, nopreempt and preempt_delay cleared) is in map-complete.ts.
 */
import { canonicalIP, familyOf } from '../answers/ip.js';
import { dirnameOf, eachConf, type ConfNode } from './keepalived-conf.js';
import { completeInstance } from './map-complete.js';
import {
  Fates,
  type Fate,
  type GroupModel,
  type HostModel,
  type How,
  type InstanceModel,
  type NotifyModel,
  type ScriptModel,
  type TrackModel,
  type VipModel,
} from './map-model.js';
import type { ImportedHost } from './types.js';

export type { Fate, GroupModel, HostModel, How, InstanceModel, NotifyModel, ScriptModel, TrackModel, VipModel };
export { Fates };

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
 * the words after a keyword's value that its handler does not read (keepalived ignores them), as a note: `reads`
 * is how many words the handler takes (null when it takes them all)
 */
export function ignoredWords(k: ConfNode, reads: number): string | undefined {
  if (k.args.length <= reads) return undefined;
  const used = [k.keyword, ...k.args.slice(0, reads)].join(' ');
  return `keepalived reads '${used}' and ignores what follows: ${k.args.slice(reads).join(' ')}`;
}

/** note a mapped keyword (with the words keepalived ignores after it, if any) */
function mapWords(fates: Fates, k: ConfNode, reads: number, text?: string): void {
  const extra = ignoredWords(k, reads);
  if (extra) fates.set(k, 'mapped', text ? `${text}; ${extra}` : extra, 'dropped');
  else fates.set(k, 'mapped', text);
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

/** a block's keyword lines keepalived reads (those it does not know or skips are decided by readHost) */
function lines(fates: Fates, block: ConfNode): ConfNode[] {
  return (block.children ?? []).filter((k) => fates.get(k)?.how !== 'dropped');
}

function unknown(major: 1 | 2, section: string): string {
  return `keepalived ${major}.x does not know this keyword in ${section}: it logs "Unknown keyword" and ignores it`;
}

/** track_script / track_file lines of a block */
function tracksOf(fates: Fates, k: ConfNode): TrackModel[] {
  return values(fates, k).map((c) => {
    const i = c.args.indexOf('weight');
    const w = i >= 0 && /^-?\d+$/.test(c.args[i + 1] ?? '') ? Number(c.args[i + 1]) : undefined;
    if (c.args.includes('reverse')) fates.set(c, 'mapped', 'reverse: not reproduced', 'dropped');
    return { name: c.keyword, node: c, ...(w !== undefined ? { weight: w } : {}) };
  });
}

/** read global_defs */
function readGlobals(m: HostModel, block: ConfNode): void {
  const { fates } = m;
  fates.mark(block, 'mapped');
  for (const k of lines(fates, block)) {
    const v = k.args[0];
    switch (k.keyword) {
      case 'router_id':
        m.routerId = v;
        mapWords(fates, k, 1);
        break;
      case 'notification_email':
        for (const e of values(fates, k)) for (const w of [e.keyword, ...e.args]) m.emails.push({ value: w, node: e });
        fates.set(k, 'mapped');
        break;
      case 'notification_email_from':
        if (v) m.emailFrom = { value: v, node: k };
        mapWords(fates, k, 1);
        break;
      case 'smtp_server':
        if (v) m.smtpServer = { value: v, node: k };
        mapWords(fates, k, 2, k.args.length > 1 && k.args[1] !== '25' ? `port ${k.args[1]}: not reproduced (25)` : '');
        break;
      case 'vrrp_version':
        m.vrrpVersion = readUnsigned(v, 2, 3) ?? m.vrrpVersion;
        mapWords(fates, k, 1);
        break;
      default:
        readGlobalOther(m, k, block.children ?? []);
    }
  }
}

const GLOBAL_DROPPED: Record<string, string> = {
  vrrp_strict:
    'ha-setup does not set vrrp_strict: with it keepalived adds firewall rules that drop traffic to the VIPs, ' +
    'refuses unicast, and ignores the authentication',
};

/** a fifo's script runs only with its fifo (notify_fifo_script without notify_fifo does nothing) */
const FIFO_SCRIPT = /^(vrrp_|lvs_)?notify_fifo_script$/;

function readGlobalOther(m: HostModel, k: ConfNode, siblings: ConfNode[]): void {
  const { fates } = m;
  if (k.keyword === 'vrrp_strict') m.strict = k;
  if (k.keyword === 'vrrp_rt_priority') {
    const n = readUnsigned(k.args[0], 1, 99);
    if (n !== null) m.rtPriority = { value: n, node: k };
    return;
  }
  if (GLOBAL_DROPPED[k.keyword]) return fates.set(k, 'dropped', GLOBAL_DROPPED[k.keyword]);
  // ha-setup writes both itself: its scripts run as root under script security
  if (k.keyword === 'enable_script_security') return mapWords(fates, k, 0);
  if (k.keyword === 'script_user')
    return k.args.join(' ') === 'root'
      ? fates.set(k, 'mapped')
      : fates.set(k, 'dropped', 'ha-setup runs its scripts as root with enable_script_security');
  if (/^vrrp_g(arp|na)_interval$/.test(k.keyword) && Number(k.args[0]) === 0)
    return fates.set(k, 'dropped', "0 is keepalived's default, and current keepalived refuses the 0");
  if (FIFO_SCRIPT.test(k.keyword)) {
    const fifo = k.keyword.replace('_script', '');
    if (!siblings.some((g) => g.keyword === fifo && g.args.length && !g.unknown))
      return fates.set(k, 'dropped', `without ${fifo} keepalived never runs it (the script reads that fifo)`);
  }
  m.keptGlobals.push(k);
}

/** the family of an address line of an instance: the first one sets the instance's; one of the other is ignored */
function sameFamily(inst: InstanceModel, family: 4 | 6): boolean {
  if (!inst.familySet) {
    inst.family = family;
    inst.familySet = true;
  }
  return inst.family === family;
}

const otherFamily = (inst: InstanceModel, family: 4 | 6) =>
  `an IPv${family} address in an IPv${inst.family} instance: keepalived ignores it (one address family per ` +
  'vrrp_instance, set by its first address)';

/**
 * one line of virtual_ipaddress (of the instance's family: the first address sets it) or of
 * virtual_ipaddress_excluded (`excluded`: any family, keepalived's alloc_vrrp_evip checks none)
 */
function vipOf(
  n: ConfNode,
  inst: InstanceModel,
  iface: string | undefined,
  fates: Fates,
  excluded: boolean,
): VipModel | null {
  const [addr, len, extra] = n.keyword.split('/');
  const address = canonicalIP(addr);
  const max = address && familyOf(address) === 6 ? 128 : 32;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) && Number(len) <= max ? Number(len) : NaN;
  if (extra !== undefined || !address || Number.isNaN(prefix)) {
    fates.set(n, 'dropped', 'not an IPv4 or IPv6 address[/prefix]: keepalived skips it');
    return null;
  }
  if (!excluded && !sameFamily(inst, familyOf(address))) {
    fates.set(n, 'dropped', otherFamily(inst, familyOf(address)));
    return null;
  }
  const vip: VipModel = { address, prefix, explicitPrefix: len !== undefined, node: n };
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

/** unicast_src_ip and each unicast_peer: an address of the instance's family (keepalived skips the others) */
function unicastAddress(fates: Fates, inst: InstanceModel, k: ConfNode, v: string | undefined): string | undefined {
  const address = v === undefined ? null : canonicalIP(v);
  if (!address) {
    fates.set(k, 'dropped', `'${v ?? ''}' is not an IP address: keepalived skips it`);
    return undefined;
  }
  if (sameFamily(inst, familyOf(address))) return address;
  fates.set(k, 'dropped', otherFamily(inst, familyOf(address)));
  return undefined;
}

const EXCLUDED_NOTE =
  'keepalived moves these addresses with the instance without advertising them: ha-setup makes them VIPs of the ' +
  'instance (advertised; IPv6 ones of an IPv4 instance in its IPv6 twin, one sync group)';

const INSTANCE_DROPPED: Record<string, string> = {
  track_interface: 'ha-setup tracks the VRRP interface only',
  dont_track_primary: 'ha-setup tracks the VRRP interface',
  virtual_routes: 'ha-setup has no virtual routes',
  virtual_rules: 'ha-setup has no virtual rules',
  use_vmac: 'ha-setup does not use a VRRP virtual MAC',
  strict_mode: 'ha-setup does not set strict mode (see vrrp_strict)',
  lvs_sync_daemon_interface: 'ha-setup does not run the LVS sync daemon',
  track_process: 'ha-setup checks nginx with its health check',
};

function newInstance(block: ConfNode): InstanceModel {
  return {
    name: block.args[0] ?? '',
    node: block,
    wantMaster: false,
    family: 4,
    familySet: false,
    vrid: null,
    priorityRead: null,
    advertInt: 1,
    vips: [],
    nopreempt: false,
    strictMode: null,
    unicastPeers: [],
    tracks: [],
    trackFiles: [],
    notifies: [],
    run: { priority: 100, master: false, nopreempt: false, preemptDelay: 0, auth: null, notes: [] },
  };
}

/** read one vrrp_instance */
function readInstance(m: HostModel, block: ConfNode): InstanceModel {
  const inst = newInstance(block);
  m.fates.mark(block, 'mapped');
  const kids = lines(m.fates, block);
  const iface = kids.find((k) => k.keyword === 'interface')?.args[0];
  for (const k of kids) readInstanceKeyword(m, inst, k, iface);
  // the advertised addresses first, then the excluded ones (whatever order the blocks came in), each address once
  inst.vips.sort((a, b) => Number(!!a.excluded) - Number(!!b.excluded));
  const seen = new Set<string>();
  inst.vips = inst.vips.filter((v) => {
    if (!seen.has(v.address)) {
      seen.add(v.address);
      return true;
    }
    m.fates.set(v.node, 'dropped', `${v.address} is already a VIP of this instance`);
    return false;
  });
  return inst;
}

function readInstanceKeyword(m: HostModel, inst: InstanceModel, k: ConfNode, iface: string | undefined): void {
  const { fates } = m;
  const major = m.host.keepalivedMajor;
  const v = k.args[0];
  switch (k.keyword) {
    case 'state':
      inst.stateNode = k;
      // MASTER sets it; BACKUP never clears it; 2.x reads an unknown state as BACKUP, 1.x ignores it
      if (v === 'MASTER') inst.wantMaster = true;
      else if (v !== 'BACKUP' && major === 2) inst.wantMaster = false;
      return mapWords(
        fates,
        k,
        1,
        v === 'MASTER' || v === 'BACKUP' ? undefined : `'${v ?? ''}' is not a state: keepalived reads it as BACKUP`,
      );
    case 'interface':
      inst.interface = v;
      return mapWords(fates, k, 1);
    case 'virtual_router_id':
      inst.vrid = readUnsigned(v, 1, 255);
      return mapWords(fates, k, 1, inst.vrid === null ? `'${v ?? ''}' is not 1..255: keepalived refuses it` : '');
    case 'priority': {
      const p = readUnsigned(v, 1, 255);
      inst.priorityRead = p ?? 100;
      inst.priorityNode = k;
      return mapWords(fates, k, 1, p === null ? `'${v ?? ''}' is not 1..255: keepalived uses 100` : '');
    }
    case 'advert_int': {
      const s = readSeconds(v, major);
      if (s !== null) inst.advertInt = s;
      inst.advertRaw = v;
      return mapWords(fates, k, 1, s === null ? `'${v ?? ''}' is not a number of seconds: keepalived keeps 1 s` : '');
    }
    case 'version':
      inst.version = readUnsigned(v, 2, 3) ?? inst.version;
      return mapWords(fates, k, 1);
    case 'authentication':
      return readAuth(m, inst, k);
    case 'virtual_ipaddress':
    case 'virtual_ipaddress_excluded':
      fates.mark(k, 'mapped', k.keyword === 'virtual_ipaddress' ? undefined : EXCLUDED_NOTE);
      for (const c of values(fates, k)) {
        const excluded = k.keyword === 'virtual_ipaddress_excluded';
        const vip = vipOf(c, inst, iface, fates, excluded);
        if (vip) inst.vips.push(excluded ? { ...vip, excluded } : vip);
      }
      return;
    case 'nopreempt':
    case 'preempt':
      inst.nopreempt = k.keyword === 'nopreempt';
      return mapWords(fates, k, 0);
    case 'preempt_delay':
      inst.preemptDelay = readSeconds(v, major) ?? 0;
      return mapWords(fates, k, 1);
    case 'unicast_src_ip': {
      const address = unicastAddress(fates, inst, k, v);
      if (address) inst.unicastSrc = address;
      return address ? mapWords(fates, k, 1) : undefined;
    }
    case 'unicast_peer':
      for (const c of values(fates, k)) {
        const address = unicastAddress(fates, inst, c, c.keyword);
        if (address) inst.unicastPeers.push({ address, node: c });
      }
      return fates.set(k, 'mapped');
    case 'native_ipv6':
      if (inst.familySet && inst.family === 4)
        return fates.set(k, 'dropped', 'the instance has IPv4 addresses: keepalived ignores it');
      sameFamily(inst, 6);
      return mapWords(fates, k, 0);
    case 'track_script':
      inst.tracks.push(...tracksOf(fates, k));
      return fates.set(k, 'mapped');
    case 'track_file':
      inst.trackFiles.push(...tracksOf(fates, k));
      return fates.set(k, 'mapped');
    case 'strict_mode':
      inst.strictMode = v === undefined ? true : v === 'true' || v === 'on' || v === 'yes';
      return fates.set(k, 'dropped', INSTANCE_DROPPED.strict_mode);
    case 'mcast_src_ip':
      inst.mcastSrc = k;
      return;
    case 'old_unicast_checksum':
      // ha-setup writes it itself on a 2.x node whose peer runs 1.x (VRRPv3 unicast)
      return mapWords(fates, k, 0);
    case 'smtp_alert':
      if (v === undefined || ['true', 'on', 'yes'].includes(v)) inst.smtpAlert = k;
      else fates.set(k, 'mapped');
      return;
  }
  if (/^notify(_\w+)?$/.test(k.keyword)) return void inst.notifies.push({ kind: k.keyword, node: k });
  fates.set(k, 'dropped', INSTANCE_DROPPED[k.keyword] ?? 'ha-setup renders its instances without it');
}

function readAuth(m: HostModel, inst: InstanceModel, k: ConfNode): void {
  m.fates.mark(k, 'mapped');
  inst.authNode = k;
  for (const c of lines(m.fates, k)) {
    if (c.keyword === 'auth_type') {
      const t = c.args[0];
      // an unknown type leaves the type as it was (keepalived logs it)
      if (t === 'PASS' || t === 'AH') inst.authType = t;
      inst.authTypeNode = c;
      mapWords(
        m.fates,
        c,
        1,
        t === 'PASS' || t === 'AH' ? '' : `'${t ?? ''}' is not PASS or AH: keepalived ignores it`,
      );
    } else if (c.keyword === 'auth_pass') {
      inst.authPass = c.args[0] ?? '';
      inst.authPassNode = c;
      mapWords(m.fates, c, 1);
    }
  }
}

function readScriptBlock(m: HostModel, block: ConfNode): ScriptModel {
  const major = m.host.keepalivedMajor;
  const s: ScriptModel = { name: block.args[0] ?? '', node: block, interval: 1, fall: 1, rise: 1, weight: 0 };
  for (const k of lines(m.fates, block)) {
    const v = k.args[0];
    if (k.keyword === 'script') s.scriptNode = k;
    else if (k.keyword === 'interval') s.interval = readSeconds(v, major) ?? 1;
    else if (k.keyword === 'fall') s.fall = readUnsigned(v, 1, 1_000_000) ?? 1;
    else if (k.keyword === 'rise') s.rise = readUnsigned(v, 1, 1_000_000) ?? 1;
    else if (k.keyword === 'timeout') s.timeout = readSeconds(v, major) ?? undefined;
    else if (k.keyword === 'weight') {
      s.weight = /^-?\d+$/.test(v ?? '') ? Number(v) : 0;
      s.weightNode = k;
      if (k.args[1] === 'reverse') m.fates.set(k, 'mapped', 'reverse: not reproduced', 'dropped');
    }
  }
  return s;
}

/** a top-level track_file block: kept as a snippet unless ha-setup writes it itself (map-own.ts) */
function readTrackFile(m: HostModel, block: ConfNode): void {
  const t: { node: ConfNode; file?: string; weight: number } = { node: block, weight: 0 };
  for (const k of lines(m.fates, block)) {
    if (k.keyword === 'file') t.file = k.args[0];
    else if (k.keyword === 'weight') t.weight = /^-?\d+$/.test(k.args[0] ?? '') ? Number(k.args[0]) : 0;
  }
  m.trackFiles.set(block.args[0] ?? '', t);
  m.keptRoots.push(block);
}

function readGroup(m: HostModel, block: ConfNode): GroupModel {
  const major = m.host.keepalivedMajor;
  const g: GroupModel = {
    name: block.args[0] ?? '',
    node: block,
    members: [],
    tracks: [],
    notifies: [],
    trackingWeight: false,
  };
  for (const k of lines(m.fates, block)) {
    if (k.keyword === 'group') g.members.push(...values(m.fates, k).flatMap((c) => [c.keyword, ...c.args]));
    else if (k.keyword === 'track_script') g.tracks.push(...tracksOf(m.fates, k));
    else if (/^notify(_\w+)?$/.test(k.keyword)) g.notifies.push({ kind: k.keyword, node: k });
    else if (k.keyword === 'smtp_alert') continue;
    else if (k.keyword === 'global_tracking' || k.keyword === 'sync_group_tracking_weight') {
      // ha-setup's sync groups track with every member's weights: the keyword of the node's keepalived
      const own = major === 2 ? 'sync_group_tracking_weight' : 'global_tracking';
      // 2.x reads global_tracking as sync_group_tracking_weight (deprecated); 1.x does not know the latter
      g.trackingWeight = true;
      if (k.keyword === own) m.fates.set(k, 'mapped');
      else m.fates.set(k, 'dropped', `ha-setup writes ${own} on keepalived ${major}.x`);
    } else m.fates.set(k, 'dropped', 'ha-setup renders its sync groups without it');
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

/**
 * keywords whose handler reads its first value unconditionally (strvec_slot(strvec, 1)): without one keepalived 2.x
 * exits ("is missing a parameter"), 1.x dereferences nothing and dies
 */
const NEEDS_VALUE: Record<string, Set<string>> = {
  '': new Set(['track_file', 'vrrp_track_file']),
  global_defs: new Set(['smtp_server', 'vrrp_version']),
  vrrp_instance: new Set([
    'state',
    'interface',
    'virtual_router_id',
    'priority',
    'advert_int',
    'version',
    'preempt_delay',
    'unicast_src_ip',
    'mcast_src_ip',
  ]),
  authentication: new Set(['auth_type', 'auth_pass']),
  vrrp_script: new Set(['interval', 'timeout', 'weight', 'rise', 'fall']),
};

/** what keepalived does not read at all: keywords it does not know where they stand, blocks it skips */
function unread(m: HostModel): void {
  const major = m.host.keepalivedMajor;
  eachConf(m.host.config.tree, (n, parents) => {
    const parent = parents[parents.length - 1];
    if (!n.args.length && !n.unknown && !n.included && NEEDS_VALUE[parent?.keyword ?? '']?.has(n.keyword))
      m.fatal.push(`${m.fates.at(n)}: '${n.keyword}' without a value: keepalived stops there (configuration error)`);
    const misplaced = n.misplaced ? `; it is read there because ${n.misplaced}` : '';
    if (n.unknown) m.fates.set(n, 'dropped', unknown(major, parent ? parent.keyword : 'the top level') + misplaced);
    else if (n.skipped) m.fates.set(n, 'dropped', n.skipped);
  });
}

const ROOT_READERS: Record<string, (m: HostModel, n: ConfNode) => void> = {
  global_defs: readGlobals,
  vrrp_instance: (m, n) => {
    const inst = readInstance(m, n);
    m.instances.push(inst);
  },
  vrrp_script: (m, n) => void m.scripts.set(n.args[0] ?? '', readScriptBlock(m, n)),
  vrrp_sync_group: (m, n) => void m.groups.push(readGroup(m, n)),
  track_file: readTrackFile,
  vrrp_track_file: readTrackFile,
};

/** read one host's configuration into its model */
export function readHost(host: ImportedHost, name: string): HostModel {
  const m: HostModel = {
    host,
    fates: new Fates(name),
    emails: [],
    instances: [],
    scripts: new Map(),
    trackFiles: new Map(),
    groups: [],
    includeDirs: [],
    keptGlobals: [],
    keptRoots: [],
    fatal: [],
  };
  unread(m);
  for (const n of host.config.tree) {
    if (m.fates.get(n)?.how === 'dropped') continue;
    const reader = ROOT_READERS[n.keyword];
    if (reader) reader(m, n);
    else if (/^include[rmwba]?$/.test(n.keyword)) {
      const dir = includeDirOf(n.args[0] ?? '', dirnameOf(n.at.file));
      if (dir) m.includeDirs.push({ dir, node: n });
      m.fates.set(n, 'mapped');
    } else m.keptRoots.push(n);
  }
  for (const i of m.instances) i.run = completeInstance(m, i);
  return m;
}
