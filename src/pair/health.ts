/**
 * The one judgement of VIP health, for init (the wait for settling), status, verify-failover and switchover: each
 * VIP must be held by exactly one node, and with preempt by the node keepalived is expected to elect: the highest
 * priority among the nodes that can hold it, after ha-setup's state flags (a switchover's demotions, maintenance);
 * among equal highest priorities (master: auto) the one that holds it (keepalived never preempts an equal one).
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, type Target } from '../answers/targets.js';
import type { FlagFacts } from '../facts/types.js';
import type { VipHolders } from '../observe/holders.js';

export type VipProblem = 'split-brain' | 'lost' | 'wrong-holder';

export interface VipVerdict {
  instance: string;
  vip: string;
  holders: string[];
  /** the node expected to hold it; null: any one node (nopreempt, a tie at the top, or no node can) */
  expected: string | null;
  master: string;
  /** keepalived moves it back to the expected node by itself (preempt, and no tie of priorities at the top) */
  preempt: boolean;
  problem: VipProblem | null;
  /** one line for people, null when healthy */
  text: string | null;
}

/** what the judgement knows about the nodes besides who holds what */
export interface PairContext {
  /** each node's state flags (maintenance, demote.TARGET, handover.TARGET) */
  flags?: Record<string, FlagFacts | undefined>;
  /** nodes that cannot hold a VIP now (unreachable, keepalived down, in FAULT) */
  unable?: Set<string>;
}

const on = (flags: FlagFacts | undefined, name: string) => (flags?.[name] ?? 0) !== 0;

/** a node keepalived would not elect for the target now: maintenance, handover, or unable */
export function excluded(target: Target, node: string, ctx: PairContext): boolean {
  const f = ctx.flags?.[node];
  return on(f, 'maintenance') || on(f, `handover.${target.name}`) || !!ctx.unable?.has(node);
}

/**
 * the nodes with the highest effective priority for the target (their demotion counted), among those that can hold
 * it: one node, or several with equal priorities (master: auto, where the checks' weights decide): keepalived keeps
 * the VIP on whichever of those holds it (a backup does not preempt a master of equal priority)
 */
export function topHolders(cfg: Config, target: Target, ctx: PairContext = {}): string[] {
  const inst = target.instances[0];
  let best: { nodes: string[]; prio: number } | null = null;
  for (const n of cfg.nodes) {
    if (excluded(target, n.name, ctx)) continue;
    const prio = inst.priorities[n.name] - (on(ctx.flags?.[n.name], `demote.${target.name}`) ? target.demoteWeight : 0);
    if (!best || prio > best.prio) best = { nodes: [n.name], prio };
    else if (prio === best.prio) best.nodes.push(n.name);
  }
  return best?.nodes ?? [];
}

/** the node with the highest effective priority for the target (its demotion counted); of a tie, the first */
export function expectedHolder(cfg: Config, target: Target, ctx: PairContext = {}): string | null {
  return topHolders(cfg, target, ctx)[0] ?? null;
}

/** whether keepalived moves the target's VIPs back to one node by itself: preempt and no tie at the top */
export function returnsHome(cfg: Config, target: Target, ctx: PairContext = {}): boolean {
  return target.preempt && topHolders(cfg, target, ctx).length === 1;
}

export function judgeVips(cfg: Config, holders: VipHolders, ctx: PairContext = {}): VipVerdict[] {
  const out: VipVerdict[] = [];
  for (const t of targetsOf(cfg)) {
    const top = t.preempt ? topHolders(cfg, t, ctx) : [];
    for (const inst of t.instances) {
      for (const v of inst.vips) {
        const h = holders[v.address] ?? [];
        // equal priorities (master: auto): keepalived never preempts an equal priority, the holder keeps the VIP
        const expected = h.length === 1 && top.includes(h[0]) ? h[0] : (top[0] ?? null);
        const base = { instance: inst.name, vip: v.address, holders: h, expected, master: inst.master };
        let problem: VipProblem | null = null;
        let text: string | null = null;
        if (h.length > 1) {
          problem = 'split-brain';
          text =
            `SPLIT BRAIN: ${inst.name} ${v.address} is on ${h.join(' and ')} at once ` +
            '(check that VRRP passes between them: firewall, multicast)';
        } else if (h.length === 0) {
          problem = 'lost';
          text = `LOST VIP: ${inst.name} ${v.address} is on no node`;
        } else if (top.length && !top.includes(h[0])) {
          problem = 'wrong-holder';
          const why =
            top.length > 1
              ? 'the highest priority, equal on these nodes'
              : expected === inst.master
                ? 'its master'
                : 'the highest priority after a switchover';
          text = `${inst.name} ${v.address} is on ${h[0]}, expected on ${top.join(' or ')} (${why})`;
        }
        out.push({ ...base, preempt: t.preempt && top.length <= 1, problem, text });
      }
    }
  }
  return out;
}

/** the problems of a judgement, one line each */
export function vipProblems(verdicts: VipVerdict[]): string[] {
  return verdicts.flatMap((v) => (v.text ? [v.text] : []));
}
