/**
 * Health of the pair, read from every node in one round trip each: services (running, enabled, masked), links, VIPs
 * on the interfaces, keepalived's own view (SIGUSR1 data dump: state and effective priority per instance), recent
 * transitions from the log, and what identifies the host (hostname, addresses, keepalived version). verify-failover
 * takes it as the snapshot the pair must return to after every fault.
 */
import type { Config } from '../answers/resolve.js';
import type { HostConnection } from '../ssh/ssh.js';
import { interfacesFact, parseKeepalivedVersion } from '../facts/gather.js';

export interface InstanceState {
  name: string;
  state: string | null;
  effectivePriority: number | null;
}

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
  addresses: string[];
  instances: InstanceState[];
  transitions: string[];
  /** nginx.upstream: each backend's HTTP status seen from this node (0: no answer) */
  backends: { backend: string; status: number }[];
}

export interface PairStatus {
  nodes: NodeStatus[];
  vips: { instance: string; vip: string; holders: string[]; master: string; preempt: boolean }[];
  problems: string[];
  ok: boolean;
}

/**
 * keepalived.data (written on SIGUSR1): " VRRP Instance = VI_1" ... "   State = MASTER" ...
 * "   Effective priority = 110"
 */
export function parseKeepalivedData(text: string): InstanceState[] {
  const out: InstanceState[] = [];
  let cur: InstanceState | null = null;
  for (const line of text.split('\n')) {
    const inst = /^\s*VRRP Instance = (\S+)/.exec(line);
    if (inst) {
      cur = { name: inst[1], state: null, effectivePriority: null };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const st = /^\s*State = (\S+)/.exec(line);
    if (st && cur.state === null) cur.state = st[1];
    const ep = /^\s*Effective priority = (\d+)/.exec(line);
    if (ep && cur.effectivePriority === null) cur.effectivePriority = Number(ep[1]);
  }
  return out;
}

export const STATUS_SCRIPT = `
echo "@@svc"; for s in ${UNITS.join(' ')}; do echo "$s $(systemctl is-active $s 2>/dev/null) \
$(systemctl show $s -p MainPID --value 2>/dev/null) $(systemctl is-enabled $s 2>/dev/null)"; done
echo "@@host"; hostname 2>/dev/null || cat /etc/hostname
echo "@@version"; command -v keepalived >/dev/null 2>&1 && keepalived --version 2>&1 | head -1
echo "@@ip"; ${interfacesFact.sh}
echo "@@data"
pid=$(systemctl show keepalived -p MainPID --value 2>/dev/null)
if [ -n "$pid" ] && [ "$pid" != 0 ]; then
  rm -f /tmp/keepalived.data
  kill -USR1 "$pid" 2>/dev/null
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /tmp/keepalived.data ] && break; sleep 0.1; done
  sleep 0.1; cat /tmp/keepalived.data 2>/dev/null
fi
echo "@@log"; [ -f "$1" ] && grep -E \
'Entering (MASTER|BACKUP|FAULT) STATE|received lower priority|sent 0 priority|transition' "$1" | tail -n 8
echo "@@backends"; for b in $2; do
  echo "$b $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$b/" 2>/dev/null || echo 0)"; done
echo "@@end"
`;

/** "@@svc" lines: "NAME ACTIVE PID ENABLED" */
export function parseUnits(text: string): Record<UnitName, { active: string; pid: number; unit: UnitState }> {
  const out = Object.fromEntries(
    UNITS.map((u) => [u, { active: 'unknown', pid: 0, unit: { active: 'unknown', enabled: 'unknown' } }]),
  ) as Record<UnitName, { active: string; pid: number; unit: UnitState }>;
  for (const l of text.trim().split('\n')) {
    const [n, a, p, e] = l.trim().split(/\s+/);
    if (!(UNITS as readonly string[]).includes(n)) continue;
    const active = a || 'unknown';
    out[n as UnitName] = { active, pid: Number(p) || 0, unit: { active, enabled: e || 'unknown' } };
  }
  return out;
}

function sections(out: string): Record<string, string> {
  const s: Record<string, string> = {};
  let cur = '';
  for (const l of out.split('\n')) {
    const m = /^@@(\w+)$/.exec(l);
    if (m) cur = m[1];
    else if (cur) s[cur] = (s[cur] ?? '') + l + '\n';
  }
  return s;
}

export async function nodeStatus(cfg: Config, name: string, conn: HostConnection | undefined): Promise<NodeStatus> {
  const node = cfg.nodes.find((n) => n.name === name)!;
  const unknown: UnitState = { active: 'unknown', enabled: 'unknown' };
  const base: NodeStatus = {
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
    transitions: [],
    backends: [],
  };
  if (!conn?.alive) return { ...base, error: 'not connected' };
  try {
    const backends = cfg.nginx.upstream?.backends ?? [];
    const r = await conn.sh(STATUS_SCRIPT, [cfg.logging.file, backends.join(' ')], { timeoutMs: 15_000 });
    const s = sections(r.stdout);
    const svc = parseUnits(s.svc ?? '');
    const ifs = interfacesFact.parse(s.ip ?? '');
    return {
      ...base,
      reachable: true,
      keepalived: svc.keepalived.active,
      nginx: svc.nginx.active,
      keepalivedPid: svc.keepalived.pid,
      units: { keepalived: svc.keepalived.unit, nginx: svc.nginx.unit },
      links: Object.fromEntries(Object.values(ifs).map((i) => [i.name, i.up])),
      hostname: (s.host ?? '').trim().split('\n')[0] ?? '',
      keepalivedVersion: parseKeepalivedVersion(s.version ?? ''),
      addresses: Object.values(ifs).flatMap((i) => i.addresses.map((a) => a.split('/')[0])),
      instances: parseKeepalivedData(s.data ?? ''),
      transitions: (s.log ?? '').trim().split('\n').filter(Boolean),
      backends: (s.backends ?? '')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [backend, code] = l.split(' ');
          return { backend, status: Number(code) || 0 };
        }),
    };
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

export async function pairStatus(cfg: Config, conns: Record<string, HostConnection | undefined>): Promise<PairStatus> {
  const nodes = await Promise.all(cfg.nodes.map((n) => nodeStatus(cfg, n.name, conns[n.name])));
  const problems: string[] = [];
  for (const n of nodes) {
    if (!n.reachable) problems.push(`${n.node}: unreachable${n.error ? ` (${n.error})` : ''}`);
    else {
      if (n.keepalived !== 'active') problems.push(`${n.node}: keepalived is ${n.keepalived}`);
      if (n.nginx !== 'active') problems.push(`${n.node}: nginx is ${n.nginx}`);
      for (const i of n.instances) if (i.state === 'FAULT') problems.push(`${n.node}: ${i.name} is in FAULT state`);
    }
  }
  const vips: PairStatus['vips'] = [];
  for (const inst of cfg.instances) {
    for (const v of inst.vips) {
      const holders = nodes.filter((n) => n.addresses.includes(v.address)).map((n) => n.node);
      vips.push({ instance: inst.name, vip: v.address, holders, master: inst.master, preempt: inst.preempt });
      if (holders.length > 1)
        problems.push(`SPLIT BRAIN: ${inst.name} ${v.address} is on ${holders.join(' and ')} at once`);
      else if (holders.length === 0) problems.push(`LOST VIP: ${inst.name} ${v.address} is on no node`);
    }
  }
  return { nodes, vips, problems, ok: problems.length === 0 };
}
