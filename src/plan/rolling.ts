/**
 * Rolling restarts: a node whose plan takes keepalived or nginx down (a restart, a stop, a package upgrade) runs
 * that part in the rolling phase, one node at a time, nodes that hold no VIP first. A node that holds VIPs hands
 * them over to a ready node first (no gap: plan/types.ts 'handover') and, once it is back, takes back those that
 * preempt says are its own, and has those that do not come back by themselves (nopreempt, equal priorities) handed
 * back by their holder: a run leaves every VIP where it found it; a node that holds none is a ready backup again
 * before the next one goes. What comes
 * before (file writes, reloads) runs in the parallel phase with every other node's: reloads do not move a VIP, and
 * a change the old and new configurations cannot speak across (a VRRP version, an advert interval) then reaches
 * every node at once instead of splitting the pair for a whole rolling turn.
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, vipsOf } from '../answers/targets.js';
import type { InitFacts } from '../facts/gather.js';
import { expectedHolder, returnsHome, topHolders } from '../pair/health.js';
import { afterChange } from '../steps/effects.js';
import { isChange, type Action, type NodePlan, type TargetRef } from './types.js';

const SERVED = ['keepalived', 'nginx'];

/** does `a` take keepalived or nginx down on a host in state `f`? */
export function isDisruptive(a: Action, f: InitFacts): boolean {
  if (a.kind === 'service')
    return (
      SERVED.includes(a.name) &&
      (a.action === 'restart' || a.action === 'stop') &&
      f.services[a.name]?.active === 'active'
    );
  if (a.kind === 'package') return a.names.some((n) => SERVED.includes(n) && !!f.packages[n as 'nginx']);
  if (a.kind === 'package-file') return SERVED.includes(a.name) && !!f.packages[a.name as 'nginx'];
  return false;
}

/** where the node's first disruptive action is: [step index, 'changes' | 'handlers', index], or null */
function firstDisruptive(p: NodePlan, all: Record<string, InitFacts>): [number, 'changes' | 'handlers', number] | null {
  let f = p.facts;
  for (const [si, s] of p.steps.entries()) {
    for (const list of ['changes', 'handlers'] as const) {
      for (const [ai, a] of s[list].entries()) {
        if (!isChange(a)) continue;
        if (isDisruptive(a, f)) return [si, list, ai];
        f = afterChange(f, a, all);
      }
    }
  }
  return null;
}

/** a target as the plan names it */
export function targetRef(t: ReturnType<typeof targetsOf>[number]): TargetRef {
  return { name: t.name, vips: vipsOf(t), preempt: t.preempt };
}

/** mark the rolling nodes, add their pair actions and their order; returns refusals */
export function addRolling(cfg: Config, nodes: NodePlan[]): string[] {
  const refusals: string[] = [];
  const all = Object.fromEntries(nodes.map((n) => [n.node, n.facts]));
  const flags = Object.fromEntries(nodes.map((n) => [n.node, n.facts.flags]));
  const targets = targetsOf(cfg);
  for (const p of nodes) {
    const at = firstDisruptive(p, all);
    if (!at) continue;
    p.rolling = true;
    const held = targets.filter((t) => vipsOf(t).some((v) => p.holds.includes(v)));
    if (held.length) {
      if (!nodes.some((o) => o !== p && !o.leaving))
        refusals.push(
          `${p.node}: holds ${held.map((t) => t.name).join(', ')} and must stop keepalived or nginx, ` +
            'but no other node can take over',
        );
      const [si, list, ai] = at;
      p.steps[si][list].splice(ai, 0, { kind: 'handover', targets: held.map(targetRef) });
    }
    // the turn starts at the hand-over (inserted at `at`) or at the first disruptive action
    const [si, list, ai] = at;
    p.rollingFrom =
      p.steps.slice(0, si).reduce((n, s) => n + s.changes.length + s.handlers.length, 0) +
      (list === 'handlers' ? p.steps[si].changes.length : 0) +
      ai;
    if (p.leaving) continue;
    const back = targets.filter(
      (t) => held.includes(t) && returnsHome(cfg, t, { flags }) && expectedHolder(cfg, t, { flags }) === p.node,
    );
    // held here, not coming back by themselves (nopreempt, a tie at the top) and not demoted here on purpose: moved
    // back by their holder's hand-over (a run keeps every VIP where it found it)
    const moveBack = held.filter(
      (t) =>
        !back.includes(t) &&
        !p.facts.flags[`demote.${t.name}`] &&
        (!t.preempt || topHolders(cfg, t, { flags }).includes(p.node)),
    );
    // handed over and not coming back: the hand-over's temporary demotion is lifted (not one set on purpose)
    const release = held.filter(
      (t) => !back.includes(t) && !moveBack.includes(t) && !p.facts.flags[`demote.${t.name}`],
    );
    p.steps.push({
      id: 'rolling',
      title: held.length ? 'Back in the pair: keepalived running, VIPs returned' : 'Back in the pair: a ready backup',
      changes: [],
      handlers: [
        held.length
          ? {
              kind: 'return',
              targets: back.map(targetRef),
              release: release.map(targetRef),
              ...(moveBack.length ? { moveBack: moveBack.map(targetRef) } : {}),
            }
          : { kind: 'await-ready' },
      ],
      notes: held
        .filter((t) => !back.includes(t) && !moveBack.includes(t))
        .map(
          (t) =>
            `${t.name} stays where the hand-over put it (${t.preempt ? 'another node is preferred' : 'nopreempt'})`,
        ),
    });
  }
  // nodes holding no VIP first (they are the ready backups the holders hand over to), leaving nodes, then holders
  const rank = (p: NodePlan) => (p.holds.length === 0 ? 0 : p.leaving ? 1 : 2);
  nodes
    .filter((p) => p.rolling)
    .sort((a, b) => rank(a) - rank(b))
    .forEach((p, i) => (p.rollingOrder = i + 1));
  return refusals;
}
