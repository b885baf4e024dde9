/**
 * `ha-setup rollback` after its arguments are checked: a session on every node (locked, unless a dry run, which only
 * reads), each node's run to restore (the latest that changed something and was not rolled back, or --run) and
 * the plan of its restore from that run's manifest (restore.ts planRestore); a dry run returns it; a real run is
 * confirmed, then executed by the one executor (apply/execute.ts) on every node in parallel: a failure on one node
 * is reported (its restore can be run again), a Ctrl-C lets the restores in progress finish.
 */
import type { Config } from '../answers/resolve.js';
import type { BaseFacts, NodePlan, PairPlan } from '../plan/types.js';
import type { IO } from '../io.js';
import { PATHS } from '../paths.js';
import { executePlan, sessionEnv, type ExecuteEnv, type PlanOutcome } from './execute.js';
import type { LockRequest } from './lock.js';
import { readManifest } from './manifest.js';
import { latestRun, readRestorePlan } from './restore.js';
import { openHostSession } from './session.js';
import type { Conn } from '../conn.js';

export interface RollbackOptions {
  /** a run id to restore on every node (default: each node's latest) */
  run?: string;
  /** only this node */
  node?: string;
  dryRun: boolean;
  lock: LockRequest;
  renderer: ExecuteEnv['renderer'];
  askPassword?: (message: string) => Promise<string>;
  /** asked once the plan is built, before anything changes: false stops (nothing changed) */
  confirm: (plan: RollbackPlan) => Promise<boolean>;
}

export interface RollbackPlan extends PairPlan<BaseFacts> {
  /** per node: the run restored there, null: none */
  runs: Record<string, string | null>;
}

/** what `rollback --json` prints */
export interface RollbackReport {
  runs: Record<string, string | null>;
  /** per node restored: what was done, one line each */
  restored: Record<string, string[]>;
  /** per node: the actions run, in the plan's wording (what --dry-run lists) */
  actions: Record<string, string[]>;
  /** one line per node whose restore failed */
  failures: string[];
  interrupted: boolean;
}

export type RollbackOutcome =
  | { kind: 'plan'; plan: RollbackPlan }
  | { kind: 'cancelled'; plan: RollbackPlan }
  | { kind: 'run'; plan: RollbackPlan; report: RollbackReport };

/** one node's restore: the run to restore and its actions (none when the node has no such run) */
async function nodeRestore(conn: Conn, run: string | undefined): Promise<NodePlan<BaseFacts> | null> {
  const id = run ?? (await latestRun(conn));
  if (!id) return null;
  const runDir = `${PATHS.backupRoot}/${id}`;
  if (!(await readManifest(conn, runDir)).length) return null;
  const { actions, services } = await readRestorePlan(conn, runDir);
  return {
    node: conn.node.name,
    host: conn.node.host,
    role: `restore run ${id}`,
    leaving: false,
    facts: { services },
    steps: [{ id: 'rollback', title: `restore run ${id}`, changes: actions, handlers: [], notes: [] }],
    rolling: false,
    rollingOrder: null,
    rollingFrom: null,
    holds: [],
  };
}

export async function readRollbackPlan(
  cfg: Config,
  conns: Record<string, Conn>,
  opts: Pick<RollbackOptions, 'run' | 'node'>,
): Promise<RollbackPlan> {
  const targets = cfg.nodes.filter((n) => !opts.node || n.name === opts.node);
  const nodes = await Promise.all(targets.map((n) => nodeRestore(conns[n.name], opts.run)));
  const runs = Object.fromEntries(targets.map((n, i) => [n.name, nodes[i]?.role.replace(/^restore run /, '') ?? null]));
  return { nodes: nodes.filter((p) => p !== null), refusals: [], warnings: [], undo: 'none', runs };
}

function rollbackReport(plan: RollbackPlan, out: PlanOutcome): RollbackReport {
  const restored: Record<string, string[]> = {};
  const failures: string[] = [];
  for (const r of out.nodes) {
    if (r.ok) restored[r.node] = r.log;
    else failures.push(`${r.node}: ${r.error}`);
  }
  const actions = Object.fromEntries(out.nodes.map((r) => [r.node, r.actions]));
  return { runs: plan.runs, restored, actions, failures, interrupted: out.interrupted };
}

export async function runRollback(io: IO, cfg: Config, opts: RollbackOptions): Promise<RollbackOutcome> {
  const s = await openHostSession(io, cfg, {
    lock: opts.dryRun ? undefined : opts.lock,
    askPassword: opts.askPassword,
  });
  try {
    const plan = await readRollbackPlan(cfg, s.conns, opts);
    if (opts.dryRun) return { kind: 'plan', plan };
    if (!plan.nodes.length) return { kind: 'run', plan, report: rollbackReport(plan, emptyOutcome()) };
    if (!(await opts.confirm(plan))) return { kind: 'cancelled', plan };
    const out = await executePlan(sessionEnv(s, cfg, io, opts.renderer), plan);
    return { kind: 'run', plan, report: rollbackReport(plan, out) };
  } finally {
    s.end();
  }
}

function emptyOutcome(): PlanOutcome {
  return { nodes: [], logs: {}, interrupted: false };
}
