/**
 * Before verify-failover injects anything: each thing a scenario stops must be proven able to come back, on every
 * node (a latent fault on any node refuses the whole test, naming node, service and the first error line), and each
 * target needs another node ready to take over. Nothing is touched when this refuses.
 */
import { keepalivedNames } from '../answers/instances.js';
import type { Config } from '../answers/resolve.js';
import type { Target } from '../answers/targets.js';
import { PATHS } from '../paths.js';
import type { Conn } from '../conn.js';
import { keepalivedFeatures } from '../keepalived.js';
import { validateScript1x } from '../steps/keepalived-config.js';
import { latentOf, type NodeStatus, type PairStatus } from '../status/collect.js';
import type { ScenarioName } from './scenarios.js';

const masked = (e: string) => e === 'masked' || e === 'masked-runtime';

/** services a scenario stops on the master, and that the restore starts again */
const STOPS: Record<ScenarioName, ('nginx' | 'keepalived')[]> = {
  nginx: ['nginx'],
  keepalived: ['keepalived'],
  crash: ['keepalived'],
  link: ['keepalived'],
  switchover: [],
};

/** the node holding the target's (first) VIP in `s`, if any */
export function holderOf(s: PairStatus, target: Target): string | undefined {
  return s.vips.find((v) => v.instance === target.instances[0].name)?.holders[0];
}

/**
 * Right before a scenario's fault: what it stops on the node holding the target now (after an earlier scenario of a
 * nopreempt target, that may be another node than the one the preflight saw hold it) must be able to start again
 */
export function faultUndoProblems(now: PairStatus, target: Target, name: ScenarioName): string[] {
  const holder = holderOf(now, target);
  const n = now.nodes.find((x) => x.node === holder);
  return n ? [...latentOf(n), ...unitProblems(n, STOPS[name])] : [];
}

/** units the test stops there that someone else masked or left failed: the test could not start them again */
function unitProblems(n: NodeStatus, units: ('nginx' | 'keepalived')[]): string[] {
  const out: string[] = [];
  for (const u of units) {
    const s = n.units[u];
    if (masked(s.enabled))
      out.push(`${u} on ${n.node} is ${s.enabled}: the test could not start it again after stopping it`);
    else if (s.active === 'failed') out.push(`${u} on ${n.node} is failed: fix it before the test`);
  }
  return out;
}

/** why a node cannot take a target over now, or null when it can */
export function notReady(n: NodeStatus, t: Target): string | null {
  if (!n.reachable) return `${n.node} is unreachable`;
  if (n.maintenance) return `${n.node} is in maintenance`;
  if (n.keepalived !== 'active') return `keepalived on ${n.node} is ${n.keepalived}`;
  if (n.nginx !== 'active') return `nginx on ${n.node} is ${n.nginx}`;
  // each instance under the name it has on this node (instances[].names), and its IPv6 twin when it has one
  const own = t.instances.flatMap((i) => keepalivedNames(i, n.node));
  const bad = own.filter((name) => n.instances.find((x) => x.name === name)?.state !== 'BACKUP');
  if (bad.length) return `${bad.join(', ')} on ${n.node} is not BACKUP`;
  return null;
}

/** keepalived before 2.0.4 has no -t: its configuration is checked by a real start in a private namespace */
async function checkOld(conn: Conn, node: string): Promise<string | null> {
  const r = await conn.exec(['bash', '-c', validateScript1x(), 'validate', PATHS.keepalivedConf], {
    timeoutMs: 60_000,
  });
  if (r.code === 0) return null;
  const first = (r.stderr + r.stdout).trim().split('\n').filter(Boolean)[0] ?? `exit ${r.code}`;
  return `keepalived on ${node} would not start again on its configuration: ${first}`;
}

/** the restore commands a scenario relies on */
async function toolsMissing(conn: Conn, node: string, names: ScenarioName[]): Promise<string | null> {
  const need = ['systemctl', ...(names.includes('link') ? ['ip', 'setsid', 'nohup'] : [])];
  const r = await conn.sh('for c in "$@"; do command -v "$c" >/dev/null 2>&1 || echo "$c"; done', need);
  const missing = r.stdout.split('\n').filter(Boolean);
  return missing.length ? `${node} has no ${missing.join(', ')}: the test could not undo its fault there` : null;
}

export async function precheck(
  _cfg: Config,
  conns: Record<string, Conn>,
  snapshot: PairStatus,
  targets: Target[],
  names: ScenarioName[],
): Promise<string[]> {
  const refusals: string[] = [];
  // faults go to the nodes holding a VIP (each target's master): there, what a scenario stops must start again
  const faulted = new Set(snapshot.vips.flatMap((v) => v.holders));
  const stopped = [...new Set(names.flatMap((n) => STOPS[n]))];
  refusals.push(
    ...snapshot.nodes.flatMap((n) => [...latentOf(n), ...(faulted.has(n.node) ? unitProblems(n, stopped) : [])]),
  );
  const stopsKeepalived = names.some((n) => STOPS[n].includes('keepalived'));
  const checks = snapshot.nodes
    .filter((n) => n.reachable && conns[n.node]?.alive)
    .map(async (n) => {
      const out: (string | null)[] = [await toolsMissing(conns[n.node], n.node, names)];
      if (stopsKeepalived && n.keepalivedVersion && !keepalivedFeatures(n.keepalivedVersion).configTest)
        out.push(await checkOld(conns[n.node], n.node));
      return out;
    });
  refusals.push(...(await Promise.all(checks)).flat().filter((x): x is string => !!x));
  for (const t of targets) {
    const holder = holderOf(snapshot, t);
    const others = snapshot.nodes.filter((n) => n.node !== holder);
    const why = others.map((n) => notReady(n, t));
    if (!why.some((w) => w === null))
      refusals.push(`no node is ready to take ${t.name} over from ${holder ?? 'nobody'}: ${why.join('; ')}`);
  }
  return [...new Set(refusals)];
}
