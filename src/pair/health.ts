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
  /** the node expected to hold it; null: any one node (nopreempt, or no node can) */
  expected: string | null;
  master: string;
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

/** the nodes of the highest effective priority for the target (demotions counted) among those that can hold it */
function topNodes(cfg: Config, target: Target, ctx: PairContext): string[] {
  const inst = target.instances[0];
  const prio = (n: string) =>
    inst.priorities[n] - (on(ctx.flags?.[n], `demote.${target.name}`) ? target.demoteWeight : 0);
  const able = cfg.nodes.map((n) => n.name).filter((n) => !excluded(target, n, ctx));
  const top = Math.max(...able.map(prio));
  return able.filter((n) => prio(n) === top);
}

/** the node with the highest effective priority for the target (its demotion counted), among those that can hold it */
export function expectedHolder(cfg: Config, target: Target, ctx: PairContext = {}): string | null {
  return topNodes(cfg, target, ctx)[0] ?? null;
}

export function judgeVips(cfg: Config, holders: VipHolders, ctx: PairContext = {}): VipVerdict[] {
  const out: VipVerdict[] = [];
  for (const t of targetsOf(cfg)) {
    const top = t.preempt ? topNodes(cfg, t, ctx) : [];
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
        } else if (expected && h[0] !== expected) {
          problem = 'wrong-holder';
          const why = expected === inst.master ? 'its master' : 'the highest priority after a switchover';
          text = `${inst.name} ${v.address} is on ${h[0]}, expected on ${expected} (${why})`;
        }
        out.push({ ...base, preempt: t.preempt, problem, text });
      }
    }
  }
  return out;
}

/** the problems of a judgement, one line each */
export function vipProblems(verdicts: VipVerdict[]): string[] {
  return verdicts.flatMap((v) => (v.text ? [v.text] : []));
}
