/**
 * Day-2 moves of VIPs on a serving pair: `switchover` (a target's VIPs from their holder to another ready node) and
 * `maintenance NODE on|off` (a node drained: FAULT for every instance through a state flag keepalived tracks, so it
 * holds and takes no VIP across keepalived restarts and reboots; back again with its VIPs per preempt). What each
 * does is planned from the pair's facts (plan/day2.ts) and run by the executor (apply/execute.ts); here: the facts
 * they plan from, which targets a switchover moves, and a switchover's move itself. Every move is a hand-over
 * without a gap (handover.ts).
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, vipsOf, type Target } from '../answers/targets.js';
import type { Conn } from '../conn.js';
import { OperationError, PreconditionError } from '../errors.js';
import { vipHolders, type VipHolders } from '../observe/holders.js';
import { handOver, readReadinessFacts, type PairEnv, type ReadinessFacts } from './handover.js';

/** what a day-2 command plans from: each node's services, VRRP states and flags, and who holds each VIP */
export interface PairFacts {
  facts: Record<string, ReadinessFacts>;
  holders: VipHolders;
}

/** read every node's facts (one round trip each, in parallel) and the VIP holders */
export async function readPairFacts(cfg: Config, conns: Record<string, Conn>): Promise<PairFacts> {
  const got = await Promise.all(cfg.nodes.map((n) => readReadinessFacts(conns[n.name])));
  const facts = Object.fromEntries(cfg.nodes.map((n, i) => [n.name, got[i]]));
  return { facts, holders: await vipHolders(cfg, conns) };
}

/**
 * A switchover's move of `t` from `from` to `to` (a 'switch' action): handed over by its handover flag (and demoted
 * in the trigger with `demote`), then checked: `to` must hold every VIP of it.
 */
export async function switchTarget(env: PairEnv, from: string, t: Target, to: string, demote: boolean): Promise<void> {
  await handOver(env, from, [t], { how: 'flag', to, demote });
  const now = await vipHolders(env.cfg, env.conns);
  const where = [...new Set(vipsOf(t).flatMap((v) => now[v] ?? []))];
  if (where.length !== 1 || where[0] !== to)
    throw new OperationError(`switchover: ${t.name} went to ${where.join(' and ') || 'no node'}, not ${to}`);
}

export function targetsToMove(cfg: Config, opts: { instance?: string; all?: boolean }): Target[] {
  const all = targetsOf(cfg);
  if (opts.all) return all;
  if (opts.instance) {
    const t = all.filter((x) => x.name === opts.instance || x.instances.some((i) => i.name === opts.instance));
    if (!t.length)
      throw new PreconditionError(
        `--instance: unknown instance "${opts.instance}" (instances: ${cfg.instances.map((i) => i.name).join(', ')})`,
      );
    return t;
  }
  if (all.length === 1) return all;
  throw new PreconditionError(
    `switchover: this pair has ${all.length} instances or sync groups (${all.map((t) => t.name).join(', ')}): ` +
      'name one with --instance NAME, or --all',
  );
}
