/**
 * The plan of a run: per node, the steps with their changes in the order they will run, and the pair-level
 * actions the rolling restarts add (hand the VIPs over before a node's keepalived or nginx goes down, wait until
 * they are back). Built once, before anything changes (build.ts); shown by --dry-run; executed as is (apply/).
 */
import type { InitFacts } from '../facts/gather.js';
import type { ServiceFact } from '../facts/types.js';
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
   * planned move; `release`: targets handed over that stay where they are (their temporary demotion lifted);
   * `moveBack`: targets it held that do not come back by themselves (nopreempt, priorities tied at the top), moved
   * back by their holder's hand-over
   */
  | { kind: 'return'; targets: TargetRef[]; release: TargetRef[]; moveBack?: TargetRef[] }
  /** after a restart on a node that holds no VIP: wait until it is a ready backup before the next node goes */
  | { kind: 'await-ready' }
  /**
   * a state flag keepalived tracks on this node (maintenance, demote.TARGET), written where keepalived watches it;
   * the value it had is recorded in the run's manifest (an undo, or `rollback`, puts it back)
   */
  | { kind: 'flag'; name: string; on: boolean }
  /**
   * switchover: this node's VIPs of `target` moved to `to` as a planned move: its handover flag (FAULT for the
   * target) for the moment of the move, cleared after; with `demote` it is also demoted for the target in the
   * trigger and stays so. Checked: `to` holds them after.
   */
  | { kind: 'switch'; target: TargetRef; to: string; demote: boolean }
  /**
   * maintenance on: the node's maintenance flag (FAULT for every instance until off) as the trigger of a planned
   * move of its VIPs of `targets` to a ready node (`to`: the one expected to take them, for the plan's wording)
   */
  | { kind: 'drain'; targets: TargetRef[]; to: string | null };

/**
 * Putting a host back from a run's backups (`rollback`, or a failed or interrupted node): apply/restore.ts plans
 * them from the run's manifest (newest change first) and runs them.
 */
export type RestoreAction = { runDir: string } & (
  | { kind: 'put-back'; path: string; dir: boolean }
  | { kind: 'remove-new'; path: string }
  | { kind: 'undo-command'; argv: string[] }
  | { kind: 'flag-back'; name: string; value: number }
  | { kind: 'left-installed'; names: string[] }
  | {
      kind: 'unit';
      name: string;
      action: 'daemon-reload' | 'start' | 'stop' | 'restart' | 'reload-or-restart' | 'enable' | 'disable';
      why: string;
    }
  | { kind: 'rolled-back' }
);

export type Action = Change | PairAction | RestoreAction;

const PAIR_KINDS: readonly string[] = ['handover', 'return', 'await-ready', 'flag', 'switch', 'drain'];
const RESTORE_KINDS: readonly string[] = [
  'put-back',
  'remove-new',
  'undo-command',
  'flag-back',
  'left-installed',
  'unit',
  'rolled-back',
];

export function isPairAction(a: Action): a is PairAction {
  return PAIR_KINDS.includes(a.kind);
}

export function isRestoreAction(a: Action): a is RestoreAction {
  return RESTORE_KINDS.includes(a.kind);
}

/** a change of one host, made through its runner (steps/types.ts) */
export function isChange(a: Action): a is Change {
  return !isPairAction(a) && !isRestoreAction(a);
}

/** an action that changes the host: a change (not a check), a state flag, a restore step that puts something back */
export function isHostChange(a: Action): boolean {
  if (a.kind === 'flag') return true;
  if (isRestoreAction(a))
    return !(
      a.kind === 'left-installed' ||
      a.kind === 'rolled-back' ||
      (a.kind === 'unit' && a.action === 'daemon-reload')
    );
  return isChange(a) && a.kind !== 'verify';
}

export interface PlannedStep {
  id: string;
  title: string;
  changes: Action[];
  /** services restarted or reloaded because of the changes (a restart supersedes a reload), then pair actions */
  handlers: Action[];
  notes: string[];
}

/** what the executor needs of a node's facts: how its services were before the run (the manifest records it) */
export interface BaseFacts {
  services: Record<string, ServiceFact>;
}

export interface NodePlan<F extends BaseFacts = InitFacts> {
  node: string;
  host: string;
  role: string;
  /** the node left the answers: this run deconfigures it */
  leaving: boolean;
  /** the facts as read before the run */
  facts: F;
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

/**
 * What is undone when a node's run fails or is interrupted (apply/execute.ts): 'node' (init): the node is put back
 * from the run's backups; 'step' (switchover, maintenance): the actions of the unfinished steps (a step: the
 * actions of one id on every node, e.g. one target's move) are undone on every node, the finished ones stay;
 * 'none' (rollback): the plan is itself a restore, nothing is undone and a Ctrl-C lets it finish.
 */
export type UndoPolicy = 'node' | 'step' | 'none';

export interface PairPlan<F extends BaseFacts = InitFacts> {
  nodes: NodePlan<F>[];
  /** precondition refusals, one line each; non-empty means nothing may change */
  refusals: string[];
  /** warnings shown with the plan (latent faults, a VIP that must stay put...) */
  warnings: string[];
  /** default 'node' */
  undo?: UndoPolicy;
}

/** the changes a node's plan makes (services restarted because of them and pair actions not counted) */
export function changeCount(p: Pick<NodePlan<BaseFacts>, 'steps'>): number {
  return p.steps.reduce((n, s) => n + s.changes.filter(isHostChange).length, 0);
}

export function actionsOf(p: Pick<NodePlan<BaseFacts>, 'steps'>): Action[] {
  return p.steps.flatMap((s) => [...s.changes, ...s.handlers]);
}

/** how many of the node's actions (from the first) run in the parallel phase: those before its rolling turn, or all */
export function parallelCount(p: NodePlan<BaseFacts>): number {
  return p.rolling ? (p.rollingFrom ?? 0) : actionsOf(p).length;
}
