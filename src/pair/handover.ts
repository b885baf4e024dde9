/**
 * Moving VIPs between nodes without a failed request (the rolling restarts, switchover, maintenance).
 *
 * The old holder keeps answering for its VIPs while keepalived lets go of them: each VIP is also put on its `lo`,
 * with a lifetime of a few seconds that the kernel enforces (a run that dies leaves nothing behind for long). Then
 * its keepalived gives the VIPs up at once: it stops (a restart follows), or a handover flag puts the target in
 * FAULT (switchover, maintenance). Either way it sends a priority-0 advert, and the best backup takes over after its
 * skew time (no master-down wait) and announces itself with gratuitous ARPs. As soon as another node holds every
 * VIP, the old holder lets go of its `lo` copies. Clients see no gap: one of the two nodes answers at every moment.
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, vipsOf, type Target } from '../answers/targets.js';
import { OperationError } from '../errors.js';
import { gather } from '../facts/gather.js';
import { PATHS } from '../paths.js';
import type { Conn } from '../ssh/conn.js';
import { masterDownMs } from '../answers/timing.js';
import { vipHolders, type VipHolders } from './holders.js';

export interface PairEnv {
  cfg: Config;
  conns: Record<string, Conn>;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

/** seconds the kernel keeps a hold on lo (refreshed while it is needed) */
export const HOLD_SECONDS = 8;
/** the label of a hold: a VIP on lo with it is ha-setup's, and never counts as holding the VIP */
export const HOLD_LABEL = 'lo:hahold';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** add (or refresh) the holds of `vips` on the node's lo */
export async function hold(conn: Conn, vips: string[]): Promise<void> {
  await conn.mustSh(
    'for v in "$@"; do ip -4 addr replace "$v/32" dev lo label ' +
      `${HOLD_LABEL} valid_lft ${HOLD_SECONDS} preferred_lft ${HOLD_SECONDS} || exit 1; done`,
    vips,
    `holding ${vips.join(' ')} on lo`,
  );
}

export async function unhold(conn: Conn, vips: string[]): Promise<void> {
  await conn.sh('for v in "$@"; do ip -4 addr del "$v/32" dev lo 2>/dev/null; done; exit 0', vips);
}

/** write a state flag (0 or 1) atomically where keepalived watches it */
export async function setFlag(conn: Conn, name: string, on: boolean): Promise<void> {
  await conn.mustSh(
    'mkdir -p "$1" && printf "%s\\n" "$3" > "$1/.$2.tmp" && mv -f "$1/.$2.tmp" "$1/$2"',
    [PATHS.flagDir, name, on ? '1' : '0'],
    `${on ? 'setting' : 'clearing'} the ${name} flag`,
  );
}

export interface NodeReadiness {
  ready: boolean;
  /** why not, for messages */
  why: string | null;
  states: Record<string, string | null>;
}

/** keepalived and nginx running, every instance BACKUP or MASTER (the running keepalived's own view) */
export async function readiness(conn: Conn): Promise<NodeReadiness> {
  const f = await gather(conn, ['services', 'kadata', 'flags'], { STATE_DIR: PATHS.flagDir }, { timeoutMs: 20_000 });
  const states = Object.fromEntries(f.kadata.map((i) => [i.name, i.state]));
  const ka = f.services.keepalived?.active;
  const ngx = f.services.nginx?.active;
  let why: string | null = null;
  if (ka !== 'active') why = `keepalived is ${ka ?? 'unknown'}`;
  else if (ngx !== 'active') why = `nginx is ${ngx ?? 'unknown'}`;
  else if ((f.flags.maintenance ?? 0) !== 0) why = 'it is in maintenance';
  else {
    const bad = f.kadata.filter((i) => i.state !== 'BACKUP' && i.state !== 'MASTER');
    if (bad.length) why = bad.map((i) => `${i.name} is ${i.state ?? 'unknown'}`).join(', ');
    else if (!f.kadata.length) why = 'keepalived reports no instance';
  }
  return { ready: !why, why, states };
}

/** wait until `cond` holds on the VIP holders, polling every 100 ms; false when the time is up */
export async function waitHolders(
  env: PairEnv,
  cond: (h: VipHolders) => boolean,
  timeoutMs: number,
  tick?: () => Promise<void>,
): Promise<{ ok: boolean; holders: VipHolders }> {
  const deadline = Date.now() + timeoutMs;
  let last = Date.now();
  for (;;) {
    const holders = await vipHolders(env.cfg, env.conns);
    if (cond(holders)) return { ok: true, holders };
    if (Date.now() > deadline || env.signal?.aborted) return { ok: false, holders };
    if (tick && Date.now() - last > 2000) {
      await tick();
      last = Date.now();
    }
    await sleep(100);
  }
}

/** the longest a takeover after a priority-0 advert can take for these targets, with room for 1.x and a flag script */
export function takeoverMs(cfg: Config, targets: Target[]): number {
  const worst = Math.max(
    ...targets.flatMap((t) => t.instances.map((i) => masterDownMs(cfg, i, Math.min(...Object.values(i.priorities))))),
  );
  // a 1.x flag script runs every second; keepalived 1.x acts one advert later
  return worst + 2000 + Math.max(...targets.flatMap((t) => t.instances.map((i) => i.advertInt * 1000)));
}

/** other nodes ready to take `targets` over from `from` (each target needs one) */
export async function readyTakers(env: PairEnv, from: string, targets: Target[]): Promise<string[]> {
  const others = env.cfg.nodes.filter((n) => n.name !== from && env.conns[n.name]?.alive);
  const r = await Promise.all(others.map(async (n) => [n.name, await readiness(env.conns[n.name])] as const));
  const ready = r.filter(([, x]) => x.ready).map(([n]) => n);
  const missing = targets.filter((t) => !ready.length || t.instances.some(() => false));
  if (!ready.length || missing.length) {
    const why = r.map(([n, x]) => `${n}: ${x.why}`).join('; ') || 'no other node is connected';
    throw new OperationError(
      `no other node is ready to take ${targets.map((t) => t.name).join(', ')} over from ${from} (${why})`,
    );
  }
  return ready;
}

export interface HandoverOptions {
  /** 'stop': keepalived stops (a restart or a removal follows); 'flag': the targets' handover flags (FAULT) */
  how: 'stop' | 'flag';
  /** also a reason for the log */
  why?: string;
}

/**
 * Hand `targets` held by `from` to another ready node without a gap. Returns what it did, one line each. On failure
 * everything is put back (keepalived started again, the flag cleared) and the VIPs stay where they were.
 */
export async function handOver(
  env: PairEnv,
  from: string,
  targets: Target[],
  opts: HandoverOptions,
): Promise<string[]> {
  const conn = env.conns[from];
  const vips = targets.flatMap(vipsOf);
  const log: string[] = [];
  const say = (l: string) => {
    log.push(l);
    env.progress?.(l);
  };
  await readyTakers(env, from, targets);
  await hold(conn, vips);
  say(`${from}: answering for ${vips.join(' ')} on lo while keepalived lets go of them`);
  try {
    if (opts.how === 'stop') await conn.must(['systemctl', 'stop', 'keepalived'], 'systemctl stop keepalived');
    else for (const t of targets) await setFlag(conn, `handover.${t.name}`, true);
    const moved = await waitHolders(
      env,
      (h) => vips.every((v) => (h[v] ?? []).length === 1 && h[v][0] !== from),
      takeoverMs(env.cfg, targets),
      () => hold(conn, vips),
    );
    if (!moved.ok) {
      const where = vips.map((v) => `${v} on ${(moved.holders[v] ?? []).join(' and ') || 'no node'}`).join(', ');
      throw new OperationError(`${from}: no other node took ${vips.join(' ')} over in time (${where})`);
    }
    say(`${vips.map((v) => `${v} now on ${moved.holders[v][0]}`).join(', ')}`);
  } catch (e) {
    await putBack(env, from, targets, opts, vips).catch((pe: Error) => log.push(`putting ${from} back: ${pe.message}`));
    throw e;
  } finally {
    if (opts.how === 'flag') for (const t of targets) await setFlag(conn, `handover.${t.name}`, false).catch(() => {});
  }
  await unhold(conn, vips);
  return log;
}

/** a failed hand-over: keepalived on the old holder as it was, its VIPs back on it, then the holds go */
async function putBack(env: PairEnv, from: string, targets: Target[], opts: HandoverOptions, vips: string[]) {
  const conn = env.conns[from];
  if (opts.how === 'stop') await conn.exec(['systemctl', 'start', 'keepalived']);
  else for (const t of targets) await setFlag(conn, `handover.${t.name}`, false);
  await waitHolders(
    env,
    (h) => vips.every((v) => (h[v] ?? []).length === 1),
    takeoverMs(env.cfg, targets),
    () => hold(conn, vips),
  );
  await unhold(conn, vips);
}

/**
 * After a node's restart: keepalived running (started if it is not), the node a ready backup or master, and the
 * VIPs of `back` (targets that preempt to it) on it again. Returns what it did.
 */
export async function returnTo(env: PairEnv, node: string, back: Target[]): Promise<string[]> {
  const conn = env.conns[node];
  const log: string[] = [];
  const ka = await conn.exec(['systemctl', 'is-active', 'keepalived']);
  if (ka.stdout.trim() !== 'active') {
    await conn.must(['systemctl', 'start', 'keepalived'], 'systemctl start keepalived');
    log.push(`${node}: keepalived started`);
  }
  await awaitReady(env, node, back.length ? back : targetsOf(env.cfg));
  const vips = back.flatMap(vipsOf);
  if (!vips.length) return log;
  const r = await waitHolders(
    env,
    (h) => vips.every((v) => (h[v] ?? []).length === 1 && h[v][0] === node),
    takeoverMs(env.cfg, back) + 4 * Math.max(...back.flatMap((t) => t.instances.map((i) => i.advertInt * 1000))),
  );
  if (!r.ok) throw new OperationError(`${node}: ${vips.join(' ')} did not come back to it (preempt) in time`);
  log.push(`${vips.join(' ')} back on ${node}`);
  return log;
}

/** wait until keepalived on `node` is a ready backup or master (after a start or restart) */
export async function awaitReady(env: PairEnv, node: string, targets: Target[] = targetsOf(env.cfg)): Promise<void> {
  const deadline = Date.now() + takeoverMs(env.cfg, targets) + 10_000;
  let last: NodeReadiness | null = null;
  while (Date.now() < deadline && !env.signal?.aborted) {
    last = await readiness(env.conns[node]);
    if (last.ready) return;
    await sleep(250);
  }
  throw new OperationError(`${node} is not a ready backup again: ${last?.why ?? 'interrupted'}`);
}

export function targetsByName(cfg: Config, names: string[]): Target[] {
  return targetsOf(cfg).filter((t) => names.includes(t.name));
}
