/**
 * The plan of a run: per node, the steps with their changes in the order they will run, and the pair-level
 * actions the rolling restarts add (hand the VIPs over before a node's keepalived or nginx goes down, wait until
 * they are back). Built once, before anything changes (build.ts); shown by --dry-run; executed as is (apply/).
 */
import type { InitFacts } from '../facts/gather.js';
import type { Change } from '../steps/types.js';

/** a VRRP target (an instance or a sync group) as the rolling actions need it */
export interface TargetRef {
  name: string;
  vips: string[];
  preempt: boolean;
}

export type PairAction =
  /**
   * hand this node's VIPs to another ready node without a gap: the node keeps answering for them (a short-lived
   * address on lo) while its keepalived stops (its priority-0 advert makes the best backup take over at once), and
   * lets go once another node holds them
   */
  | { kind: 'handover'; targets: TargetRef[] }
  /**
   * keepalived running again and a ready backup or master; `targets` (preempt to this node) moved back to it as a
   * planned move; `release`: targets handed over that stay where they are (their temporary demotion lifted)
   */
  | { kind: 'return'; targets: TargetRef[]; release: TargetRef[] }
  /** after a restart on a node that holds no VIP: wait until it is a ready backup before the next node goes */
  | { kind: 'await-ready' };

export type Action = Change | PairAction;

export function isPairAction(a: Action): a is PairAction {
  return a.kind === 'handover' || a.kind === 'return' || a.kind === 'await-ready';
}

export interface PlannedStep {
  id: string;
  title: string;
  changes: Action[];
  /** services restarted or reloaded because of the changes (a restart supersedes a reload), then pair actions */
  handlers: Action[];
  notes: string[];
}

export interface NodePlan {
  node: string;
  host: string;
  role: string;
  /** the node left the answers: this run deconfigures it */
  leaving: boolean;
  /** the facts as read before the run */
  facts: InitFacts;
  steps: PlannedStep[];
  /** runs in the rolling phase: one node at a time, after every node of the parallel phase */
  rolling: boolean;
  /** its place in the rolling phase (1 = first): nodes that hold no VIP first, those that do last */
  rollingOrder: number | null;
  /**
   * where its rolling turn starts, as an index into its actions (actionsOf): the actions before it (file writes,
   * reloads) run in the parallel phase with every other node's, the rest one node at a time; null: not rolling
   */
  rollingFrom: number | null;
  /** the VIPs the node holds now */
  holds: string[];
}

export interface PairPlan {
  nodes: NodePlan[];
  /** precondition refusals, one line each; non-empty means nothing may change */
  refusals: string[];
  /** warnings shown with the plan (latent faults, a VIP that must stay put...) */
  warnings: string[];
}

/** the changes a node's plan makes (services restarted because of them and pair actions not counted) */
export function changeCount(p: NodePlan): number {
  return p.steps.reduce((n, s) => n + s.changes.filter((c) => c.kind !== 'verify' && !isPairAction(c)).length, 0);
}

export function actionsOf(p: NodePlan): Action[] {
  return p.steps.flatMap((s) => [...s.changes, ...s.handlers]);
}

/** how many of the node's actions (from the first) run in the parallel phase: those before its rolling turn, or all */
export function parallelCount(p: NodePlan): number {
  return p.rolling ? (p.rollingFrom ?? 0) : actionsOf(p).length;
}
