/**
 * Moving VIPs between nodes without a failed request (the rolling restarts, switchover, maintenance, and
 * verify-failover's return of the VIPs): who is ready to take over, the hand-over from a node (its keepalived
 * stopped, a handover flag, maintenance), and the return to a node afterwards (preempt). Each is a planned move
 * (move.ts): the old holder answers until the new one holds the VIPs, and finishes the requests in flight.
 */
import { targetsOf, vipsOf, type Target } from '../answers/targets.js';
import type { Conn } from '../conn.js';
import { OperationError } from '../errors.js';
import { gather } from '../facts/gather.js';
import type { Facts } from '../facts/table.js';
import { PATHS } from '../paths.js';
import { sleep, takeoverMs, waitHolders, writeFlag, type PairEnv } from './handover-env.js';
import { vipHolders } from '../observe/holders.js';
import { plannedMove } from './move.js';

export { setFlag, sleep, takeoverMs, writeFlag, type PairEnv } from './handover-env.js';

export interface NodeReadiness {
  ready: boolean;
  /** why not, for messages */
  why: string | null;
  states: Record<string, string | null>;
}

/** the facts readiness is judged on, read in one round trip */
export const READINESS_FACTS = ['services', 'kadata', 'flags'] as const;
export type ReadinessFacts = Pick<Facts, (typeof READINESS_FACTS)[number]>;

/** read a node's readiness facts (one round trip) */
export function readReadinessFacts(conn: Conn): Promise<ReadinessFacts> {
  return gather(conn, READINESS_FACTS, { STATE_DIR: PATHS.flagDir }, { timeoutMs: 20_000 });
}

/** keepalived and nginx running, every instance BACKUP or MASTER (the running keepalived's own view) */
export function readinessOf(f: ReadinessFacts): NodeReadiness {
  const { instances, unreadable } = f.kadata;
  const states = Object.fromEntries(instances.map((i) => [i.name, i.state]));
  const ka = f.services.keepalived?.active;
  const ngx = f.services.nginx?.active;
  let why: string | null = null;
  if (ka !== 'active') why = `keepalived is ${ka ?? 'unknown'}`;
  else if (ngx !== 'active') why = `nginx is ${ngx ?? 'unknown'}`;
  else if ((f.flags.maintenance ?? 0) !== 0) why = 'it is in maintenance';
  else if (unreadable) why = `its VRRP state is unknown: ${unreadable}`;
  else {
    const bad = instances.filter((i) => i.state !== 'BACKUP' && i.state !== 'MASTER');
    if (bad.length) why = bad.map((i) => `${i.name} is ${i.state ?? 'unknown'}`).join(', ');
    else if (!instances.length) why = 'keepalived reports no instance';
  }
  return { ready: !why, why, states };
}

/** keepalived and nginx running, every instance BACKUP or MASTER, read from the node now */
export async function readiness(conn: Conn): Promise<NodeReadiness> {
  return readinessOf(await readReadinessFacts(conn));
}

/** the other nodes ready to take over from `from` (an error naming why none is) */
export async function readyTakers(env: PairEnv, from: string, targets: Target[]): Promise<string[]> {
  const others = env.cfg.nodes.filter((n) => n.name !== from && env.conns[n.name]?.alive);
  const r = await Promise.all(others.map(async (n) => [n.name, await readiness(env.conns[n.name])] as const));
  const ready = r.filter(([, x]) => x.ready).map(([n]) => n);
  if (!ready.length) {
    const why = r.map(([n, x]) => `${n}: ${x.why}`).join('; ') || 'no other node is connected';
    throw new OperationError(
      `no other node is ready to take ${targets.map((t) => t.name).join(', ')} over from ${from} (${why})`,
    );
  }
  return ready;
}

export interface HandoverOptions {
  /**
   * 'stop': keepalived stops (a restart or a removal follows; the node comes back demoted for these targets until
   * `returnTo`); 'flag': the targets' handover flags (FAULT) for the moment of the move (switchover);
   * 'maintenance': the node's maintenance flag (FAULT for every instance until maintenance off)
   */
  how: 'stop' | 'flag' | 'maintenance';
  /** the node the VIPs must go to (switchover --to); default: whichever ready node keepalived elects */
  to?: string;
  /**
   * with 'flag': the old holder is also demoted for the targets, in the trigger (after its FAULT, so the demotion
   * moves nothing by itself: a preemption before the handoff is in place would bypass it), and stays demoted
   */
  demote?: boolean;
}

/** flags on `node` for every target: demote (the node stays a backup when it comes back) or handover */
async function flags(
  env: PairEnv,
  node: string,
  prefix: 'demote' | 'handover',
  targets: Target[],
  on: boolean,
): Promise<void> {
  for (const t of targets) await writeFlag(env, node, `${prefix}.${t.name}`, on);
}

/**
 * Hand `targets` held by `from` to another ready node without a gap. Returns what it did, one line each. On failure
 * everything is put back (keepalived started again, the flags cleared) and the VIPs stay where they were.
 */
export async function handOver(
  env: PairEnv,
  from: string,
  targets: Target[],
  opts: HandoverOptions,
): Promise<string[]> {
  const conn = env.conns[from];
  const takers = await readyTakers(env, from, targets);
  if (opts.to && !takers.includes(opts.to)) throw new OperationError(`${opts.to} is not ready to take the VIPs over`);
  const trigger = async () => {
    if (opts.how === 'stop') {
      // it comes back a backup for these targets: the return is a planned move too (returnTo)
      await flags(env, from, 'demote', targets, true);
      await conn.must(['systemctl', 'stop', 'keepalived'], 'systemctl stop keepalived');
    } else if (opts.how === 'flag') {
      await flags(env, from, 'handover', targets, true);
      if (opts.demote) await flags(env, from, 'demote', targets, true);
    } else await writeFlag(env, from, 'maintenance', true);
  };
  const undo = async () => {
    if (opts.how === 'stop') {
      await flags(env, from, 'demote', targets, false);
      await conn.exec(['systemctl', 'start', 'keepalived'], { timeoutMs: 120_000 });
    } else if (opts.how === 'flag') {
      if (opts.demote) await flags(env, from, 'demote', targets, false);
      await flags(env, from, 'handover', targets, false);
    } else await writeFlag(env, from, 'maintenance', false);
  };
  try {
    return await plannedMove(env, {
      from,
      vips: targets.flatMap(vipsOf),
      takers: opts.to ? [opts.to] : takers,
      trigger,
      undo,
      to: opts.to ?? null,
      timeoutMs: takeoverMs(env.cfg, targets),
    });
  } finally {
    // a switchover's FAULT lasts only for the move: the old holder is a (demoted) backup again
    if (opts.how === 'flag') await flags(env, from, 'handover', targets, false).catch(() => undefined);
  }
}

/**
 * After a node's restart (or maintenance off): keepalived running (started if it is not), the node a ready backup
 * or master, and the VIPs of `back` (targets that preempt to it) moved back to it as a planned move: it stays
 * demoted while the current holder is set up to answer and finish requests, then the demotion is lifted and it
 * preempts. The demotions of `release` (targets handed over before, that do not come back) are lifted too.
 */
export async function returnTo(
  env: PairEnv,
  node: string,
  back: Target[],
  release: Target[] = [],
  moveBack: Target[] = [],
): Promise<string[]> {
  const conn = env.conns[node];
  const log: string[] = [];
  await flags(env, node, 'demote', back, true);
  const { services } = await gather(conn, ['services']);
  if (services.keepalived?.active !== 'active') {
    await conn.must(['systemctl', 'start', 'keepalived'], 'systemctl start keepalived');
    log.push(`${node}: keepalived started`);
  }
  const all = [...back, ...release, ...moveBack];
  await awaitReady(env, node, all.length ? all : targetsOf(env.cfg));
  await flags(env, node, 'demote', [...release, ...moveBack], false);
  log.push(...(await moveBackTo(env, node, moveBack)));
  if (!back.length) return log;
  const holders = await vipHolders(env.cfg, env.conns);
  const vips = back.flatMap(vipsOf);
  const from = [...new Set(vips.flatMap((v) => holders[v] ?? []))];
  if (from.length !== 1 || from[0] === node) {
    await flags(env, node, 'demote', back, false);
    const r = await waitHolders(env, (h) => vips.every((v) => (h[v] ?? []).length === 1), takeoverMs(env.cfg, back));
    return [...log, r.ok ? `${vips.join(' ')} settled` : `${vips.join(' ')}: held by ${from.join(' and ') || 'none'}`];
  }
  const longest = Math.max(...back.flatMap((t) => t.instances.map((i) => i.advertInt * 1000)));
  log.push(
    ...(await plannedMove(env, {
      from: from[0],
      vips,
      takers: [node],
      trigger: () => flags(env, node, 'demote', back, false),
      undo: () => flags(env, node, 'demote', back, true),
      to: node,
      timeoutMs: takeoverMs(env.cfg, back) + 4 * longest,
    })),
  );
  return log;
}

/**
 * Targets that do not come back to `node` by themselves (nopreempt, or priorities tied at the top) moved back to it
 * because it held them before: their holder hands them over (its handover flag: FAULT for the moment of the move)
 * while every other node is demoted for them, so that `node` is the one that takes them; the demotions are lifted
 * after. A planned move: the old holder answers until `node` holds the VIPs.
 */
async function moveBackTo(env: PairEnv, node: string, targets: Target[]): Promise<string[]> {
  const log: string[] = [];
  if (!targets.length) return log;
  const holders = await vipHolders(env.cfg, env.conns);
  for (const t of targets) {
    const from = [...new Set(vipsOf(t).flatMap((v) => holders[v] ?? []))];
    if (from.length !== 1 || from[0] === node) continue;
    const others = env.cfg.nodes.map((n) => n.name).filter((n) => n !== node && n !== from[0] && env.conns[n]?.alive);
    const demoted: string[] = [];
    try {
      for (const b of others) {
        const { flags: f } = await gather(env.conns[b], ['flags']);
        if (f[`demote.${t.name}`]) continue;
        await writeFlag(env, b, `demote.${t.name}`, true);
        demoted.push(b);
      }
      log.push(...(await handOver(env, from[0], [t], { how: 'flag', to: node })));
    } finally {
      for (const b of demoted) await writeFlag(env, b, `demote.${t.name}`, false);
    }
  }
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

export function targetsByName(cfg: PairEnv['cfg'], names: string[]): Target[] {
  return targetsOf(cfg).filter((t) => names.includes(t.name));
}
