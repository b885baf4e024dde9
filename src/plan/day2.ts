/**
 * The plans of the day-2 commands that change hosts, built from the pair's facts before anything changes (pure):
 * `switchover` and `maintenance NODE on|off`, in init's vocabulary (types.ts): state flags ('flag'), a switchover's
 * move ('switch'), a drain ('drain'), a node's return ('return'). `--dry-run` prints the plan; the real run executes
 * it (apply/execute.ts). One step per unit (a target's switchover, a maintenance change), across the nodes: a step
 * that does not finish (a failure, Ctrl-C, a dropped connection) is undone on every node, finished ones stay
 * ('step' undo). A flag already at the value a step wants is not written again.
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, vipsOf, type Target } from '../answers/targets.js';
import { PreconditionError } from '../errors.js';
import { expectedHolder, returnsHome, topHolders } from '../pair/health.js';
import { readinessOf, type ReadinessFacts } from '../pair/handover.js';
import type { PairFacts } from '../pair/switchover.js';
import { roleOf } from './build.js';
import { targetRef } from './rolling.js';
import type { Action, NodePlan, PairPlan, PlannedStep } from './types.js';

/** what a day-2 plan moves, for the report */
export interface PlannedMove {
  target: string;
  vips: string[];
  from: string | null;
  /** the node expected to hold the VIPs after (null: none known) */
  to: string | null;
  /** said to the operator (preempt would bring the VIPs back, nothing to do...) */
  notes: string[];
}

export interface Day2Plan extends PairPlan<ReadinessFacts> {
  /** 'switchover', 'maintenance on', 'maintenance off' */
  operation: string;
  moves: PlannedMove[];
}

type StepId = Pick<PlannedStep, 'id' | 'title'>;

/** the plan's nodes as the actions are added: each node's steps in order, the nodes that move VIPs in order */
class Builder {
  private readonly steps = new Map<string, PlannedStep[]>();
  private readonly movers: string[] = [];

  constructor(
    private readonly cfg: Config,
    private readonly pf: PairFacts,
  ) {}

  add(node: string, step: StepId, a: Action): void {
    const list = this.steps.get(node) ?? [];
    this.steps.set(node, list);
    let s = list.find((x) => x.id === step.id);
    if (!s) list.push((s = { ...step, changes: [], handlers: [], notes: [] }));
    s.changes.push(a);
    if (a.kind === 'switch' && !this.movers.includes(node)) this.movers.push(node);
  }

  /** a flag write, unless the flag already has that value */
  flag(node: string, step: StepId, name: string, on: boolean): void {
    if ((this.pf.facts[node].flags[name] ?? 0) !== (on ? 1 : 0)) this.add(node, step, { kind: 'flag', name, on });
  }

  /**
   * The nodes with something to do, in the answers' order; a node that moves VIPs runs them in the rolling phase
   * (after every node's flags, one node at a time, in the order of the targets), its steps that only write flags
   * first.
   */
  plan(operation: string, moves: PlannedMove[]): Day2Plan {
    const nodes = this.cfg.nodes
      .filter((n) => this.steps.has(n.name))
      .map((n): NodePlan<ReadinessFacts> => {
        const hasSwitch = (s: PlannedStep) => s.changes.some((a) => a.kind === 'switch');
        const steps = [...this.steps.get(n.name)!].sort((a, b) => Number(hasSwitch(a)) - Number(hasSwitch(b)));
        const first = steps.flatMap((s) => s.changes).findIndex((a) => a.kind === 'switch');
        return {
          node: n.name,
          host: n.host,
          role: roleOf(this.cfg, n.name),
          leaving: false,
          facts: this.pf.facts[n.name],
          steps,
          rolling: first >= 0,
          rollingOrder: first >= 0 ? this.movers.indexOf(n.name) + 1 : null,
          rollingFrom: first >= 0 ? first : null,
          holds: Object.entries(this.pf.holders)
            .filter(([, h]) => h.includes(n.name))
            .map(([v]) => v),
        };
      });
    return { operation, moves, nodes, refusals: [], warnings: [], undo: 'step' };
  }
}

/** the node taking `t` over: the one named, or the ready node of the highest priority that does not hold it */
function chooseTaker(cfg: Config, pf: PairFacts, t: Target, holder: string, to?: string): string {
  const candidates = cfg.nodes
    .filter((n) => n.name !== holder && (!to || n.name === to))
    .sort((a, b) => t.instances[0].priorities[b.name] - t.instances[0].priorities[a.name]);
  const why: string[] = [];
  for (const n of candidates) {
    const r = readinessOf(pf.facts[n.name]);
    if (r.ready) return n.name;
    why.push(`${n.name}: ${r.why}`);
  }
  throw new PreconditionError(
    `switchover: no ${to ? `ready ${to}` : 'other ready node'} to take ${t.name} over from ${holder}`,
    why,
  );
}

/**
 * switchover: for each target, the demotions that make its taker win its elections (none at all when the taker
 * wins by its own priority, else every other node demoted; the holder itself only in the move's trigger: demoted
 * before, it would lose the VIPs by plain preemption before the planned move is in place), then the move.
 */
export function switchoverPlan(cfg: Config, pf: PairFacts, targets: Target[], to?: string): Day2Plan {
  const b = new Builder(cfg, pf);
  const moves: PlannedMove[] = [];
  for (const t of targets) {
    const vips = vipsOf(t);
    const held = [...new Set(vips.flatMap((v) => pf.holders[v] ?? []))];
    if (held.length !== 1)
      throw new PreconditionError(
        `switchover: ${t.name} is held by ${held.join(' and ') || 'no node'}; run ha-setup status and fix the pair ` +
          'first',
      );
    const from = held[0];
    if (to === from) {
      moves.push({ target: t.name, vips, from, to, notes: [`${t.name} is already on ${to}`] });
      continue;
    }
    const taker = chooseTaker(cfg, pf, t, from, to);
    // the taker wins by its own priority: it is at the top (alone, or tied: master: auto), and once the holder is
    // FAULT no other node ties with it
    const rest = topHolders(cfg, t, { flags: { [from]: { [`handover.${t.name}`]: 1 } } });
    const natural = topHolders(cfg, t, {}).includes(taker) && rest.length === 1 && rest[0] === taker;
    const step = { id: `switchover ${t.name}`, title: `switchover ${t.name}: ${from} -> ${taker}` };
    for (const n of cfg.nodes)
      if (n.name !== from || natural) b.flag(n.name, step, `demote.${t.name}`, !natural && n.name !== taker);
    b.add(from, step, { kind: 'switch', target: targetRef(t), to: taker, demote: !natural });
    const home = expectedHolder(cfg, t, {});
    const notes =
      returnsHome(cfg, t, {}) && home !== taker
        ? [
            `${t.name} preempts: without the switchover it would go back to ${home}; it stays on ${taker} until the ` +
              'next `ha-setup switchover` or `ha-setup maintenance NODE off`',
          ]
        : [];
    moves.push({ target: t.name, vips, from, to: taker, notes });
  }
  return b.plan('switchover', moves);
}

/** maintenance on: the node's VIPs handed over by its maintenance flag (a refusal when no other node is ready) */
export function maintenanceOnPlan(cfg: Config, pf: PairFacts, node: string): Day2Plan {
  const b = new Builder(cfg, pf);
  const step = { id: 'maintenance on', title: `maintenance on: ${node} drained, FAULT until off` };
  const held = targetsOf(cfg).filter((t) => vipsOf(t).some((v) => (pf.holders[v] ?? []).includes(node)));
  if (!held.length) {
    b.flag(node, step, 'maintenance', true);
    return b.plan('maintenance on', [
      {
        target: '-',
        vips: [],
        from: null,
        to: null,
        notes: [`${node} holds no VIP: only its maintenance flag is set`],
      },
    ]);
  }
  const others = cfg.nodes.filter((n) => n.name !== node).map((n) => [n.name, readinessOf(pf.facts[n.name])] as const);
  if (!others.some(([, r]) => r.ready)) {
    const why = others.map(([n, r]) => `${n}: ${r.why}`).join('; ') || 'no other node is connected';
    throw new PreconditionError(
      `maintenance: no other node is ready to take ${held.map((t) => t.name).join(', ')} over from ${node} (${why})`,
    );
  }
  // who keepalived elects once the node is in FAULT, among the ready nodes
  const flags = Object.fromEntries(Object.entries(pf.facts).map(([n, f]) => [n, f.flags]));
  flags[node] = { ...flags[node], maintenance: 1 };
  const unable = new Set(others.filter(([, r]) => !r.ready).map(([n]) => n));
  const takers = held.map((t) => expectedHolder(cfg, t, { flags, unable }));
  const to = takers.every((x) => x === takers[0]) ? takers[0] : null;
  b.add(node, step, { kind: 'drain', targets: held.map(targetRef), to });
  const moves = held.map((t, i) => ({ target: t.name, vips: vipsOf(t), from: node, to: takers[i], notes: [] }));
  return b.plan('maintenance on', moves);
}

/**
 * maintenance off: the flag and the node's demotions cleared, and its VIPs that preempt to it moved back as a
 * planned move: it stays demoted for them until the current holder is ready to hand over (returnTo)
 */
export function maintenanceOffPlan(cfg: Config, pf: PairFacts, node: string): Day2Plan {
  const { services } = pf.facts[node];
  const ka = services.keepalived?.active ?? 'unknown';
  const ngx = services.nginx?.active ?? 'unknown';
  if (ka !== 'active' || ngx !== 'active')
    throw new PreconditionError(
      `maintenance off: ${node} must run keepalived and nginx first (keepalived ${ka}, nginx ${ngx}): ` +
        'systemctl start nginx keepalived, then run this again',
    );
  const b = new Builder(cfg, pf);
  const step = { id: 'maintenance off', title: `maintenance off: ${node} back in the pair` };
  const targets = targetsOf(cfg);
  const flags = Object.fromEntries(Object.entries(pf.facts).map(([n, f]) => [n, f.flags]));
  flags[node] = {};
  // the targets that come back to it; not one it holds already (run on a node that is not in maintenance): demoted
  // for the move back, it would hand them over by preemption instead
  const holds = (t: Target) => vipsOf(t).every((v) => (pf.holders[v] ?? []).includes(node));
  // (keepalived moves a target back by itself only with preempt and one node at the top: equal priorities, master:
  // auto, keep the VIP where it is)
  const back = targets.filter(
    (t) => returnsHome(cfg, t, { flags }) && expectedHolder(cfg, t, { flags }) === node && !holds(t),
  );
  for (const t of targets) b.flag(node, step, `demote.${t.name}`, back.includes(t));
  b.flag(node, step, 'maintenance', false);
  b.add(node, step, { kind: 'return', targets: back.map(targetRef), release: [] });
  const stay = targets.filter((t) => !back.includes(t) && !holds(t)).map((t) => t.name);
  const from = [...new Set(back.flatMap(vipsOf).flatMap((v) => pf.holders[v] ?? []))];
  return b.plan('maintenance off', [
    {
      target: back.map((t) => t.name).join(', ') || '-',
      vips: back.flatMap(vipsOf),
      from: from.length === 1 ? from[0] : null,
      to: node,
      notes: stay.length
        ? [`${stay.join(', ')} stay where they are (nopreempt, equal priorities, or another node is preferred)`]
        : [],
    },
  ]);
}
