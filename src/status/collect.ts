/**
 * Health of the pair, read from every node in one round trip each through the facts table: services (running,
 * enabled, masked), links, VIPs on the interfaces, keepalived's own view (state and effective priority per
 * instance), recent transitions, ha-setup's state flags (maintenance, a switchover's demotions), latent faults (a
 * configuration on disk that would not start again, a keepalived or nginx binary ha-setup does not run because a user
 * other than root could have changed it), and what identifies the host. verify-failover takes it as the
 * snapshot the pair must return to after every fault. The VIPs are judged by pair/health.ts.
 */
import type { Config } from '../answers/resolve.js';
import { gather } from '../facts/gather.js';
import type { Facts } from '../facts/table.js';
import type { InstanceState, TestFact } from '../facts/types.js';
import { judgeVips, type VipVerdict } from '../pair/health.js';
import { addressesOn } from '../observe/holders.js';
import { PATHS } from '../paths.js';
import type { Conn } from '../conn.js';

export type { InstanceState } from '../facts/types.js';

export interface UnitState {
  /** systemctl is-active: active, inactive, failed, activating... */
  active: string;
  /** systemctl is-enabled: enabled, disabled, masked-runtime, masked, static... */
  enabled: string;
}

export const UNITS = ['keepalived', 'nginx'] as const;
export type UnitName = (typeof UNITS)[number];

export interface NodeStatus {
  node: string;
  host: string;
  reachable: boolean;
  error?: string;
  keepalived: string;
  nginx: string;
  keepalivedPid: number;
  units: Record<UnitName, UnitState>;
  /** every interface and whether it is administratively up */
  links: Record<string, boolean>;
  hostname: string;
  keepalivedVersion: string | null;
  /** the node's IPv4 addresses (lo left out: a hand-over hold there is not holding a VIP) */
  addresses: string[];
  instances: InstanceState[];
  /** keepalived runs but its state dump could not be read: why (its instances are then unknown, not absent) */
  stateUnreadable: string | null;
  transitions: string[];
  /** nginx.upstream: each backend's HTTP status seen from this node (0: no answer) */
  backends: { backend: string; status: number }[];
  /** ha-setup maintenance on this node */
  maintenance: boolean;
  /** targets this node is demoted for (a switchover chose another node) */
  demoted: string[];
  /** the state flags as read (maintenance, demote.TARGET, handover.TARGET) */
  flags: Record<string, number>;
  /** configuration on disk that would not start again: nginx -t, keepalived -t (2.0.4+) */
  nginxTest: TestFact | null;
  keepalivedTest: TestFact | null;
  /**
   * keepalived, nginx or a binary their units start that a user other than root could have changed: why, one line
   * each (the bins fact); ha-setup runs none of them, so the configuration tests above were not run either
   */
  unsafeBinaries: string[];
}

export interface PairStatus {
  nodes: NodeStatus[];
  vips: (Omit<VipVerdict, 'text' | 'problem'> & { problem: VipVerdict['problem'] })[];
  /** latent faults: a service that runs but would not start again */
  latent: string[];
  /** hosts that advertise or hold one of the pair's VRIDs or VIPs without being a member (status fills it) */
  strangers?: string[];
  problems: string[];
  ok: boolean;
}

export const STATUS_FACTS = [
  'services',
  'hostname',
  'kaversion',
  'interfaces',
  'kadata',
  'transitions',
  'backends',
  'flags',
  'nginxtest',
  'katest',
  'bins',
] as const;
type StatusFact = (typeof STATUS_FACTS)[number];

/**
 * what `status --watch` reads every second: the status without the backends (a curl of up to 1 s per backend
 * that is down) and keepalived's version, which the watch shows nowhere
 */
export const WATCH_FACTS = STATUS_FACTS.filter((n) => n !== 'backends' && n !== 'kaversion' && n !== 'bins');
/**
 * ...and most of its reads leave out the latent-fault checks too (`nginx -t`, `keepalived -t`: a process each that
 * parses every file, every second on every node, next to the health check on a busy host); the watch runs them
 * every LATENT_EVERY reads and shows their last result in between
 */
export const WATCH_LIGHT_FACTS = WATCH_FACTS.filter((n) => n !== 'nginxtest' && n !== 'katest');
export const LATENT_EVERY = 10;
/**
 * what verify-failover's restore compares with its snapshot, polled while the pair settles: units, links, VIP holders,
 * VRRP states, flags (the latent-fault checks and the backends' curls are read once per scenario, not per poll)
 */
export const DRIFT_FACTS = ['services', 'hostname', 'interfaces', 'kadata', 'flags'] as const;
/** facts a status read may leave out (their parts of the status are empty then) */
type OptionalFact = 'backends' | 'kaversion' | 'transitions' | 'nginxtest' | 'katest' | 'bins';

function unknownNode(cfg: Config, name: string): NodeStatus {
  const node = cfg.nodes.find((n) => n.name === name)!;
  const unknown: UnitState = { active: 'unknown', enabled: 'unknown' };
  return {
    node: name,
    host: node.host,
    reachable: false,
    keepalived: 'unknown',
    nginx: 'unknown',
    keepalivedPid: 0,
    units: { keepalived: unknown, nginx: unknown },
    links: {},
    hostname: '',
    keepalivedVersion: null,
    addresses: [],
    instances: [],
    stateUnreadable: null,
    transitions: [],
    backends: [],
    maintenance: false,
    demoted: [],
    flags: {},
    nginxTest: null,
    keepalivedTest: null,
    unsafeBinaries: [],
  };
}

/** a node's status from its facts (pure) */
export function nodeStatusOf(
  base: NodeStatus,
  f: Pick<Facts, Exclude<StatusFact, OptionalFact>> & Partial<Pick<Facts, OptionalFact>>,
): NodeStatus {
  const unit = (n: UnitName): UnitState => ({
    active: f.services[n]?.active ?? 'unknown',
    enabled: f.services[n]?.enabled ?? 'unknown',
  });
  return {
    ...base,
    reachable: true,
    keepalived: unit('keepalived').active,
    nginx: unit('nginx').active,
    keepalivedPid: f.services.keepalived?.mainPid ?? 0,
    units: { keepalived: unit('keepalived'), nginx: unit('nginx') },
    links: Object.fromEntries(Object.values(f.interfaces).map((i) => [i.name, i.up])),
    hostname: f.hostname,
    keepalivedVersion: f.kaversion ?? null,
    addresses: [...addressesOn(f.interfaces)],
    instances: f.kadata.instances,
    stateUnreadable: f.kadata.unreadable,
    transitions: f.transitions ?? [],
    backends: f.backends ?? [],
    maintenance: (f.flags.maintenance ?? 0) !== 0,
    demoted: Object.keys(f.flags)
      .filter((k) => k.startsWith('demote.') && f.flags[k] !== 0)
      .map((k) => k.slice('demote.'.length)),
    flags: f.flags,
    nginxTest: f.nginxtest ?? null,
    keepalivedTest: f.katest ?? null,
    unsafeBinaries: (f.bins ?? []).flatMap((b) => ('refused' in b ? [b.refused] : [])),
  };
}

export async function nodeStatus(
  cfg: Config,
  name: string,
  conn: Conn | undefined,
  facts: readonly StatusFact[] = STATUS_FACTS,
): Promise<NodeStatus> {
  const base = unknownNode(cfg, name);
  if (!conn?.alive) return { ...base, error: 'not connected' };
  try {
    const f = await gather(
      conn,
      facts,
      {
        LOGFILE: cfg.logging.file,
        BACKENDS: (cfg.nginx.upstream?.backends ?? []).join(' '),
        STATE_DIR: PATHS.flagDir,
        CONF: PATHS.keepalivedConf,
      },
      { timeoutMs: 20_000 },
    );
    return nodeStatusOf(base, f);
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

/** the latent faults of a node, one line each */
export function latentOf(n: NodeStatus): string[] {
  const out: string[] = [];
  if (n.nginxTest && !n.nginxTest.ok)
    out.push(`nginx on ${n.node} would not start again after a restart or reboot: ${n.nginxTest.firstError ?? ''}`);
  if (n.keepalivedTest && !n.keepalivedTest.ok)
    out.push(
      `keepalived on ${n.node} would not start again on its configuration: ${n.keepalivedTest.firstError ?? ''}`,
    );
  for (const b of n.unsafeBinaries)
    out.push(
      `${n.node}: ${b}; ha-setup does not run it (nor checks the configuration with it), and a start of the ` +
        'service runs it as root',
    );
  return out;
}

/** the pair's health (pure): problems of each node, latent faults, and the VIPs judged */
export function judgePair(cfg: Config, nodes: NodeStatus[]): PairStatus {
  const problems: string[] = [];
  const unable = new Set<string>();
  for (const n of nodes) {
    if (!n.reachable) {
      problems.push(`${n.node}: unreachable${n.error ? ` (${n.error})` : ''}`);
      unable.add(n.node);
      continue;
    }
    if (n.keepalived !== 'active') problems.push(`${n.node}: keepalived is ${n.keepalived}`);
    if (n.nginx !== 'active') problems.push(`${n.node}: nginx is ${n.nginx}`);
    if (n.keepalived !== 'active' || n.nginx !== 'active') unable.add(n.node);
    if (n.keepalived === 'active' && n.stateUnreadable)
      problems.push(`${n.node}: its VRRP state is unknown (${n.stateUnreadable})`);
    for (const i of n.instances)
      if (i.state === 'FAULT' && !n.maintenance) problems.push(`${n.node}: ${i.name} is in FAULT state`);
  }
  const holders = Object.fromEntries(
    cfg.instances.flatMap((i) =>
      i.vips.map((v) => [v.address, nodes.filter((n) => n.addresses.includes(v.address)).map((n) => n.node)]),
    ),
  );
  const flags = Object.fromEntries(nodes.map((n) => [n.node, n.reachable ? n.flags : undefined]));
  const verdicts = judgeVips(cfg, holders, { flags, unable });
  // a VIP on another node than expected is a problem for init; for status only a split brain or a lost VIP is
  for (const v of verdicts) if (v.problem === 'split-brain' || v.problem === 'lost') problems.push(v.text!);
  const latent = nodes.flatMap(latentOf);
  return {
    nodes,
    vips: verdicts.map(({ text: _text, ...v }) => v),
    latent,
    problems,
    ok: problems.length === 0,
  };
}

export async function pairStatus(
  cfg: Config,
  conns: Record<string, Conn | undefined>,
  facts: readonly StatusFact[] = STATUS_FACTS,
): Promise<PairStatus> {
  const nodes = await Promise.all(cfg.nodes.map((n) => nodeStatus(cfg, n.name, conns[n.name], facts)));
  return judgePair(cfg, nodes);
}
