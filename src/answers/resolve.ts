/**
 * answers (YAML / object) -> validated, resolved configuration with every derived value made explicit
 * (per-instance priorities, health-check weight, VRRP version...). Problems are collected, one line each,
 * naming the key path and what is allowed; the caller turns them into a ValidationError (exit 2).
 */
import { readFileSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { expandHome } from '../home.js';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { canonicalIPv6, type Family } from './ip.js';
import { checkInstanceExtras, masterOf } from './instances.js';
import { inspectPackage, packageBaseDir, type PackageFile } from './packages.js';
import {
  answersSchema,
  AUTH_PASS_RE,
  AUTH_PASS_RULE,
  instanceSchema,
  nodeSchema,
  syncGroupSchema,
  isIPv4,
  parseCidr,
  URL_RE,
  type Answers,
  type InstanceAnswers,
  type Vip,
} from './schema.js';

export interface ResolvedNode {
  name: string;
  host: string;
  port: number;
  user: string;
  interface: string;
  priority: number;
  /** IPv4 on the VRRP interface when known (node.address, else host when it is an IP) */
  address?: string;
  /** IPv6 on the VRRP interface when given (nodes[].address6: the unicast source of IPv6 VIPs) */
  address6?: string;
}

export interface ResolvedVip {
  /** canonical (IPv6 in RFC 5952 form) */
  address: string;
  prefix: number;
  family: Family;
  dev?: string;
  label?: string;
}

export interface ResolvedInstance {
  name: string;
  virtualRouterId: number;
  vips: ResolvedVip[];
  master: string;
  advertInt: number;
  /** the password itself (never printed); null when no authentication (VRRPv3 or none given) */
  authPass: string | null;
  preempt: boolean;
  preemptDelay?: number;
  unicast: boolean;
  /** effective priority of every node in this instance */
  priorities: Record<string, number>;
  /**
   * master: auto: no node in particular holds the VIPs (equal priorities: the health check's weight and keepalived's
   * tie-break decide); `master` is then the node keepalived elects first, for display only
   */
  masterAuto: boolean;
  /** the VRRP interface on every node when the instance overrides the node's (instances[].interface) */
  interface: string | null;
  /** the instance's name in keepalived on each node (instances[].names, else `name`) */
  names: Record<string, string>;
  /** weight of the health check on this instance (0 = FAULT on failure) */
  trackWeight: number;
}

export interface ResolvedHealthCheck {
  mode: 'weight' | 'restart-then-stop';
  interval: number;
  fall: number;
  rise: number;
  /** how long nginx may take to answer the check (curl --max-time) */
  timeout: number;
  /**
   * keepalived's limit for the whole script (vrrp_script timeout): `timeout` plus CHECK_SCRIPT_SLACK_S for the
   * script's own process starts, so a busy host is not read as a dead nginx (keepalived kills a script at its
   * timeout and counts a failure)
   */
  scriptTimeout: number;
  weight: number;
  url?: string;
}

/**
 * seconds keepalived gives the check script beyond the check's own limit: its process starts (pgrep, curl, date, mv)
 * took up to 0.25 s each on the loaded lab, and a script killed at exactly the curl limit failed twice in a row
 * (fall 2) on a node whose nginx answered: FAULT, and the VIP left it
 */
export const CHECK_SCRIPT_SLACK_S = 2;

export interface Config {
  answers: Answers;
  nodes: ResolvedNode[];
  instances: ResolvedInstance[];
  profile: Profile;
  vrrpVersion: 2 | 3;
  healthCheck: ResolvedHealthCheck;
  nginx: {
    install: boolean;
    sync: boolean;
    syncFrom: string;
    configDir: string;
    upstream: { backends: string[]; listen: number; maxFails: number; failTimeout: number } | null;
  };
  system: Answers['system'];
  logging: Answers['logging'] & { facilityNumber: number };
  notify: Answers['notify'];
  restartOnCrash: boolean;
  releaseVipsOnExit: boolean;
  realtime: boolean;
  syncGroups: { name: string; instances: string[] }[];
  /** package files for hosts with no repository, per package (a host uses the one of its family's format) */
  packages: Record<'keepalived' | 'nginx' | 'nodeExporter', PackageFile[]>;
  /** packages upgraded to the newest version of the hosts' repositories (packages.upgrade) */
  upgrade: 'keepalived'[];
  /** directory whose *.conf keepalived.conf includes (null: no include) */
  includeDir: string | null;
  /** keepalived snippets installed in includeDir (keepalived.snippets): file name, content, node (null: all) */
  snippets: { name: string; content: string; node: string | null }[];
  /** node_exporter's textfile collector (null: metrics: false) */
  metrics: { textfileDir: string; install: boolean } | null;
  /**
   * a webhook called on every VRRP transition (alerts.webhook or the value of alerts.webhookEnv: a secret); `headers`:
   * the header lines from alerts.webhookHeadersEnv
   */
  alerts: { webhook: string | null; headers: string | null };
  /** every secret value, for redaction of anything printed or logged */
  secrets: string[];
  warnings: string[];
}

/** keys whose value is never quoted in a message (the webhook's URL is the credential of a Slack-style hook) */
const SECRET_KEYS = new Set(['authPass', 'password', 'webhook']);

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s ? `.${String(p)}` : String(p);
  }
  return s || '(top level)';
}

function shapeKeys(schema: unknown): string[] {
  let s = schema as {
    def?: { innerType?: unknown; type?: string; options?: unknown[] };
    shape?: Record<string, unknown>;
  };
  for (let i = 0; i < 5 && s && !s.shape && s.def?.innerType; i++) s = s.def.innerType as typeof s;
  return s?.shape ? Object.keys(s.shape) : [];
}

function allowedKeysAt(path: ReadonlyArray<PropertyKey>): string[] {
  if (path.length === 0) return Object.keys(answersSchema.shape);
  if (path[0] === 'nodes' && path.length === 2) return Object.keys(nodeSchema.shape);
  if (path[0] === 'instances' && path.length === 2) return Object.keys(instanceSchema.shape);
  if (path[0] === 'instances' && path[2] === 'vips') return ['address', 'dev', 'label'];
  if (path[0] === 'syncGroups' && path.length === 2) return Object.keys(syncGroupSchema.shape);
  if (path.length === 1) return shapeKeys((answersSchema.shape as Record<string, unknown>)[String(path[0])]);
  return [];
}

function describeValue(path: ReadonlyArray<PropertyKey>, input: unknown): string {
  if (path.some((p) => SECRET_KEYS.has(String(p)))) return '';
  if (input === undefined) return ' (missing)';
  if (typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean') {
    return ` (got ${JSON.stringify(input)})`;
  }
  return '';
}

/** zod issues -> one line each: "nodes[0].priority: must be 1..254 (got 300)" */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const allowed = allowedKeysAt(issue.path);
        lines.push(
          `${formatPath([...issue.path, key])}: unknown key` +
            `${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
        );
      }
      continue;
    }
    let msg = issue.message;
    if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined)
      msg = `is required (${expectedOf(issue)})`;
    else if (issue.code === 'invalid_type') msg = `must be ${expectedOf(issue)}`;
    else if (issue.code === 'invalid_value')
      msg = `must be one of ${(issue as { values: unknown[] }).values.map(String).join(', ')}`;
    const described =
      issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined
        ? ''
        : describeValue(issue.path, (issue as { input?: unknown }).input);
    lines.push(`${formatPath(issue.path)}: ${msg}${described}`);
  }
  return lines;
}

function expectedOf(issue: z.core.$ZodIssue): string {
  const e = (issue as { expected?: string }).expected;
  if (e === 'number') return 'a number';
  if (e === 'string') return 'a string';
  if (e === 'boolean') return 'true or false';
  if (e === 'array') return 'a list';
  if (e === 'object') return 'a mapping';
  return e ?? 'a valid value';
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** the working directory (relative package paths when the answers did not come from a file) */
  cwd?: string;
  /** where the answers came from, for messages */
  source?: string;
  /**
   * false for commands that never write a configuration (status, verify-failover, switchover, maintenance,
   * rollback, metrics rules): a secret's environment variable that is not set is no problem there (its value null)
   */
  needSecrets?: boolean;
}

/** Parse YAML text into a plain object; YAML syntax errors become one ValidationError line each. */
export function parseAnswersYaml(text: string, source = 'answers'): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ValidationError(
      `${source}: not valid YAML`,
      doc.errors.map((e) => `${source}: ${e.message.split('\n')[0]}`),
    );
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  return value;
}

export function loadAnswersFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValidationError(
      `--answers: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseAnswersYaml(text, path);
}

/** Validate the shape only (no cross-field checks): used by the wizard to know what is missing. */
export function checkShape(
  data: unknown,
): { ok: true; answers: Answers } | { ok: false; problems: string[]; issues: z.core.$ZodIssue[] } {
  const r = answersSchema.safeParse(data, { reportInput: true });
  if (r.success) return { ok: true, answers: r.data };
  return { ok: false, problems: formatIssues(r.error.issues), issues: r.error.issues };
}

function vipOf(v: Vip): ResolvedVip {
  if (typeof v === 'string') {
    const c = parseCidr(v)!;
    return { address: c.address, prefix: c.prefix, family: c.family };
  }
  const c = parseCidr(v.address)!;
  return { address: c.address, prefix: c.prefix, family: c.family, dev: v.dev, label: v.label };
}

const FACILITY = { local0: 0, local1: 1, local2: 2, local3: 3, local4: 4, local5: 5, local6: 6, local7: 7 } as const;

/** what the resolution steps share: the problems and warnings found, the secrets seen */
interface Found {
  problems: string[];
  warnings: string[];
  secrets: string[];
  /** a secret's variable that is not set is a problem (commands that write configuration) */
  needSecrets: boolean;
}

function resolveNodes(a: Answers, found: Found): ResolvedNode[] {
  const nodes: ResolvedNode[] = a.nodes.map((n) => ({
    name: n.name ?? n.host,
    host: n.host,
    port: n.port ?? 22,
    user: n.user ?? 'root',
    interface: n.interface,
    priority: n.priority,
    address: n.address ?? (isIPv4(n.host) ? n.host : undefined),
    ...(n.address6 ? { address6: canonicalIPv6(n.address6) } : {}),
  }));
  const names = new Map<string, number>();
  const hosts = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (names.has(n.name))
      found.problems.push(`nodes[${i}].name: "${n.name}" is used by two nodes; names must be unique`);
    names.set(n.name, i);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(n.name))
      found.problems.push(
        `nodes[${i}].name: must be 1-63 characters of A-Z a-z 0-9 _ . - (got ${JSON.stringify(n.name)})`,
      );
    const key = `${n.host}:${n.port}`;
    if (hosts.has(key))
      found.problems.push(
        `nodes[${i}].host: ${n.host} is already nodes[${hosts.get(key)}]; each load balancer is a different host`,
      );
    hosts.set(key, i);
  });
  return nodes;
}

export type Profile = 'standard' | 'fast' | 'ultra';

/** the advert interval each profile starts from: 1 s (VRRPv2), 0.1 s (fast), 0.02 s (ultra: failover under 0.1 s) */
export const DEFAULT_ADVERT: Record<Profile, number> = { standard: 1, fast: 0.1, ultra: 0.02 };

/** the profiles that run VRRPv3 with sub-second adverts and signal nginx's stop at once (track_file) */
export function isFastProfile(profile: Profile): boolean {
  return profile !== 'standard';
}

/** the advert interval: whole seconds for VRRPv2, centiseconds for v3 */
function advertIntOf(inst: InstanceAnswers, at: string, profile: Profile, found: Found): number {
  const vrrpVersion = isFastProfile(profile) ? 3 : 2;
  const advertInt = inst.advertInt ?? DEFAULT_ADVERT[profile];
  if (vrrpVersion === 2) {
    if (!Number.isInteger(advertInt) || advertInt < 1 || advertInt > 255) {
      found.problems.push(
        `${at}.advertInt: must be a whole number of seconds 1..255 with profile standard (VRRPv2); ` +
          `sub-second needs profile: fast or ultra (got ${advertInt})`,
      );
    }
    return advertInt;
  }
  const centi = Math.round(advertInt * 100);
  if (Math.abs(centi - advertInt * 100) > 1e-6 || centi < 1 || centi > 4095) {
    found.problems.push(
      `${at}.advertInt: must be 0.01..40.95 seconds in steps of 0.01 with profile ${profile} (VRRPv3) ` +
        `(got ${advertInt})`,
    );
  }
  return centi / 100;
}

/**
 * a secret from the environment variable `name` (the answers' `key` names it): null when it is not set (a problem
 * for a command that writes configuration) or not `allowed` (a problem that never quotes the value)
 */
function envSecret(
  key: string,
  name: string,
  env: NodeJS.ProcessEnv,
  found: Found,
  allowed: { ok: (v: string) => boolean; rule: string },
): string | null {
  const v = env[name];
  if (v === undefined || v === '') {
    if (found.needSecrets) found.problems.push(`${key}: environment variable ${name} is not set`);
    return null;
  }
  if (allowed.ok(v)) return v;
  found.problems.push(`${key}: the value of ${name} must be ${allowed.rule}`);
  return null;
}

function authPassOf(inst: InstanceAnswers, at: string, vrrpVersion: 2 | 3, env: NodeJS.ProcessEnv, found: Found) {
  let authPass: string | null = null;
  if (inst.authPass !== undefined && inst.authPassEnv !== undefined) {
    found.problems.push(`${at}: give authPass or authPassEnv, not both`);
  } else if (inst.authPassEnv !== undefined) {
    const rule = { ok: (v: string) => AUTH_PASS_RE.test(v), rule: AUTH_PASS_RULE };
    authPass = envSecret(`${at}.authPassEnv`, inst.authPassEnv, env, found, rule);
  } else if (inst.authPass !== undefined) authPass = inst.authPass;
  if (authPass === null) return null;
  found.secrets.push(authPass);
  if (vrrpVersion === 3) {
    found.warnings.push(`${at}: VRRPv3 (profile fast or ultra) has no authentication; authPass is not used`);
    return null;
  }
  return authPass;
}

/**
 * priorities: master first, then the others by their node priority; explicit overrides win. master: auto: the node
 * priorities as given (equal ones allowed: the health check's weight decides)
 */
function prioritiesOf(inst: InstanceAnswers, at: string, nodes: ResolvedNode[], found: Found) {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const nodeNames = nodes.map((n) => n.name).join(', ');
  const priorities: Record<string, number> = {};
  const auto = inst.master === 'auto';
  if (byName.has(inst.master) && !auto) {
    const sortedValues = nodes.map((n) => n.priority).sort((x, y) => y - x);
    const order = [
      byName.get(inst.master)!,
      ...nodes.filter((n) => n.name !== inst.master).sort((x, y) => y.priority - x.priority),
    ];
    order.forEach((n, k) => (priorities[n.name] = sortedValues[k]));
  } else nodes.forEach((n) => (priorities[n.name] = n.priority));
  for (const [k, v] of Object.entries(inst.priorities ?? {})) {
    if (!byName.has(k)) found.problems.push(`${at}.priorities.${k}: unknown node "${k}" (nodes: ${nodeNames})`);
    else priorities[k] = v;
  }
  const seen = new Map<number, string>();
  for (const n of nodes) {
    const p = priorities[n.name];
    if (seen.has(p) && !auto)
      found.problems.push(
        `${at}: ${seen.get(p)} and ${n.name} both have priority ${p}; priorities in one instance must differ`,
      );
    seen.set(p, n.name);
  }
  if (byName.has(inst.master)) {
    const mp = priorities[inst.master];
    const top = nodes.filter((n) => n.name !== inst.master && priorities[n.name] >= mp);
    if (top.length)
      found.problems.push(
        `${at}.master: ${inst.master} has priority ${mp} but ` +
          `${top.map((n) => `${n.name} has ${priorities[n.name]}`).join(', ')}` +
          '; the master needs the highest priority (or master: auto, where equal priorities are allowed)',
      );
  }
  return priorities;
}

function resolveInstances(
  a: Answers,
  nodes: ResolvedNode[],
  vrrpVersion: 2 | 3,
  env: NodeJS.ProcessEnv,
  found: Found,
): ResolvedInstance[] {
  const nameSeen = new Map<string, number>();
  const vipSeen = new Map<string, string>();
  const nodeAddresses = new Set(nodes.flatMap((n) => [n.host, n.address].filter((x): x is string => !!x)));
  const nodeNames = nodes.map((n) => n.name).join(', ');
  return a.instances.map((inst, i) => {
    const at = `instances[${i}]`;
    if (nameSeen.has(inst.name))
      found.problems.push(
        `${at}.name: "${inst.name}" is already instances[${nameSeen.get(inst.name)}]; instance names must be unique`,
      );
    nameSeen.set(inst.name, i);
    if (!nodes.some((n) => n.name === inst.master) && inst.master !== 'auto')
      found.problems.push(`${at}.master: unknown node "${inst.master}" (nodes: ${nodeNames}), or auto`);
    const vips = inst.vips.map(vipOf);
    vips.forEach((v, j) => {
      if (nodeAddresses.has(v.address))
        found.problems.push(`${at}.vips[${j}]: ${v.address} is a node's own address; the VIP must be a free address`);
      const prev = vipSeen.get(v.address);
      if (prev) found.problems.push(`${at}.vips[${j}]: ${v.address} is already a VIP of ${prev}`);
      vipSeen.set(v.address, inst.name);
      if (v.prefix === (v.family === 4 ? 32 : 128))
        found.warnings.push(`${at}.vips[${j}]: ${v.address} has no prefix; keepalived will add it as /${v.prefix}`);
    });
    if (inst.unicast)
      for (const n of nodes) {
        if (!n.address && vips.some((v) => v.family === 4))
          found.problems.push(
            `${at}.unicast: node ${n.name} needs an IPv4 address (set nodes[].address) for unicast_src_ip/unicast_peer`,
          );
        if (!n.address6 && vips.some((v) => v.family === 6))
          found.problems.push(
            `${at}.unicast: node ${n.name} needs an IPv6 address (set nodes[].address6) for the IPv6 VIPs' ` +
              'unicast_src_ip/unicast_peer',
          );
      }
    if (!inst.preempt && inst.preemptDelay !== undefined)
      found.problems.push(`${at}.preemptDelay: only applies with preempt: true`);
    const priorities = prioritiesOf(inst, at, nodes, found);
    return {
      name: inst.name,
      virtualRouterId: inst.virtualRouterId,
      vips,
      master: masterOf(inst.master, priorities, nodes),
      masterAuto: inst.master === 'auto',
      interface: inst.interface ?? null,
      names: Object.fromEntries(nodes.map((n) => [n.name, inst.names?.[n.name] ?? inst.name])),
      advertInt: advertIntOf(inst, at, a.profile, found),
      authPass: authPassOf(inst, at, vrrpVersion, env, found),
      preempt: inst.preempt,
      preemptDelay: inst.preemptDelay,
      unicast: inst.unicast,
      priorities,
      trackWeight: 0,
    };
  });
}

/**
 * keepalived refuses one virtual router id twice on an interface for one address family (VRRP over IPv4 and over
 * IPv6 are apart): an IPv4 and an IPv6 instance, or two instances on two interfaces, may share one
 */
function checkVrids(nodes: ResolvedNode[], instances: ResolvedInstance[], found: Found): void {
  const seen = new Map<string, number>();
  const told = new Set<string>();
  for (const n of nodes)
    instances.forEach((inst, i) => {
      const iface = inst.interface ?? n.interface;
      for (const f of new Set(inst.vips.map((v) => v.family))) {
        const key = `${n.name} ${iface} ${f} ${inst.virtualRouterId}`;
        const j = seen.get(key);
        if (j === undefined) seen.set(key, i);
        else if (!told.has(`${j} ${i}`)) {
          told.add(`${j} ${i}`);
          found.problems.push(
            `instances[${i}].virtualRouterId: ${inst.virtualRouterId} is already used by instances[${j}] on ` +
              `${iface} (IPv${f}); keepalived allows one instance per id, interface and address family`,
          );
        }
      }
    });
}

/** the health check's weight: 0 (FAULT) by default and with nopreempt; a negative one must beat the priority gap */
function checkWeightOf(hc: Answers['healthCheck'], instances: ResolvedInstance[], found: Found): number {
  const nopreempt = instances.filter((x) => !x.preempt);
  if (nopreempt.length) {
    if (hc.weight !== undefined && hc.weight !== 0) {
      found.problems.push(
        `healthCheck.weight: must be 0 when preempt is false (${nopreempt.map((x) => x.name).join(', ')}): ` +
          'with nopreempt a priority change never moves the VIP, ' +
          `a failed check must put the node in FAULT (got ${hc.weight})`,
      );
    }
    return 0;
  }
  // default: a failed check puts the node in FAULT; a master entering FAULT sends a priority-0 advert, so the
  // backup takes over after its skew time instead of waiting for the master-down timer (3 adverts + skew)
  if (hc.weight === undefined) return 0;
  const gap = Math.max(
    0,
    ...instances.map((x) => {
      const ps = Object.values(x.priorities).sort((p, q) => q - p);
      return ps[0] - (ps[1] ?? 0);
    }),
  );
  if (hc.weight !== 0 && Math.abs(hc.weight) <= gap) {
    found.problems.push(
      `healthCheck.weight: ${hc.weight} cannot move the VIP: the master leads its backup by ${gap}; ` +
        `use a weight below -${gap} (or 0 for FAULT)`,
    );
  }
  return hc.weight;
}

/**
 * the guides' vrrp_sync_group: one group per instance, one master and one preempt setting per group. Its members
 * track the check with the same weight: every group is rendered with sync_group_tracking_weight (2.x) or
 * global_tracking (1.x), which make keepalived honour weights in a group (without them it ignores them)
 */
function checkSyncGroups(a: Answers, instances: ResolvedInstance[], found: Found): void {
  const groupOf = new Map<string, number>();
  const groupNames = new Map<string, number>();
  a.syncGroups.forEach((g, gi) => {
    const at = `syncGroups[${gi}]`;
    if (groupNames.has(g.name))
      found.problems.push(`${at}.name: "${g.name}" is already syncGroups[${groupNames.get(g.name)}]`);
    groupNames.set(g.name, gi);
    if (instances.some((i) => i.name === g.name))
      found.problems.push(`${at}.name: "${g.name}" is also an instance's name; a sync group needs its own name`);
    const members: ResolvedInstance[] = [];
    g.instances.forEach((name, ii) => {
      const inst = instances.find((x) => x.name === name);
      if (!inst) {
        const known = instances.map((x) => x.name).join(', ');
        found.problems.push(`${at}.instances[${ii}]: unknown instance "${name}" (instances: ${known})`);
      } else if (groupOf.has(name)) {
        found.problems.push(
          `${at}.instances[${ii}]: ${name} is already in syncGroups[${groupOf.get(name)}]; ` +
            'an instance can be in one sync group only',
        );
      } else {
        groupOf.set(name, gi);
        members.push(inst);
      }
    });
    const masterOfMember = (m: ResolvedInstance) => (m.masterAuto ? 'auto' : m.master);
    if (new Set(members.map(masterOfMember)).size > 1) {
      found.problems.push(
        `${at}: ${members.map((m) => `${m.name} (master ${masterOfMember(m)})`).join(', ')} have different ` +
          'masters; a sync group moves together, so all its instances need the same master',
      );
    }
    if (new Set(members.map((m) => m.preempt)).size > 1)
      found.problems.push(
        `${at}: ${members.map((m) => m.name).join(', ')} must all preempt or all not (preempt: false)`,
      );
  });
}

/** package files for hosts with no repository: each must be what its name says */
function resolvePackages(a: Answers, opts: ResolveOptions, found: Found): Config['packages'] {
  const packages: Config['packages'] = { keepalived: [], nginx: [], nodeExporter: [] };
  const names = { keepalived: 'keepalived', nginx: 'nginx', nodeExporter: 'prometheus-node-exporter' } as const;
  for (const key of ['keepalived', 'nginx', 'nodeExporter'] as const) {
    const given = a.packages[key];
    const list = given === undefined ? [] : Array.isArray(given) ? given : [given];
    list.forEach((f, i) => {
      const at = Array.isArray(given) ? `packages.${key}[${i}]` : `packages.${key}`;
      const r = inspectPackage(f, names[key], packageBaseDir(opts.source, opts.cwd ?? process.cwd()));
      if (typeof r === 'string') found.problems.push(`${at}: ${r}`);
      else if (packages[key].some((x) => x.format === r.format)) {
        found.problems.push(`${at}: a second .${r.format} for ${key}; give one per package format`);
      } else packages[key].push(r);
    });
  }
  if (a.packages.upgrade?.includes('keepalived') && packages.keepalived.length)
    found.problems.push(
      'packages.upgrade: keepalived comes from the package files of packages.keepalived or from the repositories ' +
        '(upgrade), not both',
    );
  return packages;
}

/**
 * Full validation and resolution. Throws ValidationError listing every problem found.
 */
export function resolveAnswers(data: unknown, opts: ResolveOptions = {}): Config {
  const env = opts.env ?? process.env;
  const shape = checkShape(data);
  if (!shape.ok)
    throw new ValidationError(`${opts.source ?? 'answers'}: ${shape.problems.length} problem(s)`, shape.problems);
  const a = shape.answers;
  const found: Found = { problems: [], warnings: [], secrets: [], needSecrets: opts.needSecrets ?? true };
  const vrrpVersion: 2 | 3 = isFastProfile(a.profile) ? 3 : 2;
  // ultra promises failover in under 100 ms: the guides' restart-then-stop script takes 1.5 s before it lets go
  if (a.profile === 'ultra' && a.healthCheck.mode !== 'weight')
    found.problems.push(
      'healthCheck.mode: profile ultra needs weight (restart-then-stop tries a restart and waits 1.5 s before the ' +
        'VIP can move)',
    );
  const nodes = resolveNodes(a, found);
  const instances = resolveInstances(a, nodes, vrrpVersion, env, found);
  checkVrids(nodes, instances, found);
  checkInstanceExtras(a, nodes, instances, found.problems);
  const weight = checkWeightOf(a.healthCheck, instances, found);
  instances.forEach((x) => (x.trackWeight = x.preempt ? weight : 0));
  checkSyncGroups(a, instances, found);
  const syncFrom = a.nginx.syncFrom ?? a.instances[0]?.master ?? nodes[0].name;
  if (a.nginx.syncFrom !== undefined && !nodes.some((n) => n.name === a.nginx.syncFrom))
    found.problems.push(
      `nginx.syncFrom: unknown node "${a.nginx.syncFrom}" (nodes: ${nodes.map((n) => n.name).join(', ')})`,
    );
  if (a.notify.email.length && !a.notify.smtpServer)
    found.warnings.push('notify.email: no notify.smtpServer given; keepalived will use 127.0.0.1');
  const envPw = a.ssh.passwordEnv ? env[a.ssh.passwordEnv] : undefined;
  if (envPw) found.secrets.push(envPw);
  const alerts = resolveAlerts(a, env, found);
  const snippets = resolveSnippets(a, opts, nodes, found);
  const packages = resolvePackages(a, opts, found);
  if (found.problems.length)
    throw new ValidationError(`${opts.source ?? 'answers'}: ${found.problems.length} problem(s)`, found.problems);
  return buildConfig(a, { nodes, instances, vrrpVersion, weight, syncFrom, packages, alerts, snippets }, found);
}

/** keepalived.snippets: local files (relative to the answers file) read now, installed in includeDir by init */
function resolveSnippets(a: Answers, opts: ResolveOptions, nodes: ResolvedNode[], found: Found): Config['snippets'] {
  const out: Config['snippets'] = [];
  const base = packageBaseDir(opts.source, opts.cwd ?? process.cwd());
  (a.keepalived.snippets ?? []).forEach((s, i) => {
    const at = `keepalived.snippets[${i}]`;
    const file = typeof s === 'string' ? s : s.file;
    const node = typeof s === 'string' ? null : (s.node ?? null);
    if (!a.keepalived.includeDir) found.problems.push(`${at}: needs keepalived.includeDir (where it is installed)`);
    if (node && !nodes.some((n) => n.name === node)) found.problems.push(`${at}.node: unknown node "${node}"`);
    const path = resolvePath(base, expandHome(file));
    try {
      const content = readFileSync(path, 'utf8');
      const name = basename(path);
      if (out.some((x) => x.name === name && (x.node === node || !x.node || !node)))
        found.problems.push(`${at}: a second snippet named ${name}`);
      out.push({ name, content, node });
    } catch (e) {
      found.problems.push(`${at}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
  return out;
}

/**
 * alerts: the webhook's URL (alerts.webhook, or the variable alerts.webhookEnv names) and its headers (a token, from
 * the variable alerts.webhookHeadersEnv names, never from the file) are secrets: masked in every output and log
 */
function resolveAlerts(a: Answers, env: NodeJS.ProcessEnv, found: Found): Config['alerts'] {
  const { webhook, webhookEnv, webhookHeadersEnv } = a.alerts;
  let url = webhook ?? null;
  if (webhook !== undefined && webhookEnv !== undefined)
    found.problems.push('alerts: give webhook or webhookEnv, not both');
  else if (webhookEnv !== undefined) {
    const rule = { ok: (v: string) => URL_RE.test(v), rule: 'an http(s) URL without quotes or spaces' };
    url = envSecret('alerts.webhookEnv', webhookEnv, env, found, rule);
  }
  if (url) found.secrets.push(url);
  let headers: string | null = null;
  if (webhookHeadersEnv !== undefined) {
    if (webhook === undefined && webhookEnv === undefined)
      found.problems.push('alerts.webhookHeadersEnv: only applies with alerts.webhook or alerts.webhookEnv');
    const rule = {
      ok: (v: string) => !v.split('\n').some((l) => l.trim() && !/^[A-Za-z0-9-]+:[^\r\0]*$/.test(l.trim())),
      rule: 'HTTP header lines "Name: value" (one per line)',
    };
    headers = envSecret('alerts.webhookHeadersEnv', webhookHeadersEnv, env, found, rule);
    for (const l of headers?.split('\n') ?? []) {
      const value = l.slice(l.indexOf(':') + 1).trim();
      if (value) found.secrets.push(value);
    }
  }
  return { webhook: url, headers };
}

function buildConfig(
  a: Answers,
  r: {
    nodes: ResolvedNode[];
    instances: ResolvedInstance[];
    vrrpVersion: 2 | 3;
    weight: number;
    syncFrom: string;
    packages: Config['packages'];
    alerts: Config['alerts'];
    snippets: Config['snippets'];
  },
  found: Found,
): Config {
  const hc = a.healthCheck;
  // the guides' script restarts nginx, waits 1 s and checks again before it stops keepalived: a shorter timeout
  // would kill it first (keepalived counts that as a failure, and keepalived is never stopped)
  const timeout = hc.timeout ?? (hc.mode === 'restart-then-stop' ? 3 : Math.max(1, Math.min(hc.interval, 2)));
  return {
    answers: a,
    nodes: r.nodes,
    instances: r.instances,
    profile: a.profile,
    vrrpVersion: r.vrrpVersion,
    healthCheck: {
      mode: hc.mode,
      interval: hc.interval,
      fall: hc.fall,
      rise: hc.rise,
      timeout,
      scriptTimeout: timeout + CHECK_SCRIPT_SLACK_S,
      weight: r.weight,
      url: hc.url,
    },
    nginx: {
      install: a.nginx.install,
      sync: a.nginx.sync,
      syncFrom: r.syncFrom,
      configDir: a.nginx.configDir.replace(/\/+$/, '') || '/',
      upstream: a.nginx.upstream ?? null,
    },
    system: a.system,
    logging: { ...a.logging, facilityNumber: FACILITY[a.logging.facility] },
    notify: a.notify,
    restartOnCrash: a.failover.restartOnCrash ?? true,
    releaseVipsOnExit: a.failover.releaseVipsOnExit ?? true,
    realtime: a.failover.realtime ?? false,
    syncGroups: a.syncGroups,
    packages: r.packages,
    upgrade: a.packages.upgrade ?? [],
    includeDir: a.keepalived.includeDir ? a.keepalived.includeDir.replace(/\/+$/, '') || '/' : null,
    metrics:
      a.metrics === false
        ? null
        : { textfileDir: a.metrics.textfileDir.replace(/\/+$/, '') || '/', install: a.metrics.install },
    alerts: r.alerts,
    snippets: r.snippets,
    secrets: found.secrets,
    warnings: found.warnings,
  };
}

/** Replace every secret in text by ******** (output, logs, saved files). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}
