/**
 * `switchover` and `maintenance NODE on|off` after their arguments are checked: a session on every node (locked,
 * unless a dry run, which only reads), the pair's facts, the plan (plan/day2.ts). A dry run returns the plan; a
 * real run executes it with the one executor (apply/execute.ts: progress, Ctrl-C, the undo of an unfinished move, a
 * dropped connection made again) while clients are watched through the VIPs that move, and reports each move and
 * each node. Returns typed results; the commands render them.
 */
import type { Config } from '../answers/resolve.js';
import type { IO } from '../io.js';
import { vipHolders, type VipHolders } from '../observe/holders.js';
import { watchAllClients, type ClientView } from '../observe/clients.js';
import { readPairFacts, type PairFacts } from '../pair/switchover.js';
import type { Day2Plan, PlannedMove } from '../plan/day2.js';
import { CancelledError, OperationError } from '../errors.js';
import {
  executePlan,
  notRestoredLines,
  sessionEnv,
  type ExecuteEnv,
  type NodeResult,
  type PlanOutcome,
} from './execute.js';
import type { LockRequest } from './lock.js';
import { openHostSession } from './session.js';

export interface Day2Options {
  dryRun: boolean;
  lock: LockRequest;
  renderer: ExecuteEnv['renderer'];
  askPassword?: (message: string) => Promise<string>;
}

export interface MoveReport extends PlannedMove {
  /** done: the move ran to its end; undone: it did not (a failure, Ctrl-C) and was put back; not undone: see nodes */
  result: 'done' | 'nothing to do' | 'undone' | 'NOT undone';
  /** who holds its VIPs after the run */
  holders: string[];
  /** what the move did, one line each */
  log: string[];
  clients: ClientView;
}

/** what `switchover --json` and `maintenance --json` print */
export interface Day2Report {
  ok: boolean;
  operation: string;
  runId: string;
  interrupted: boolean;
  moves: MoveReport[];
  nodes: NodeResult[];
  /** one line each: a node that failed, a node not put back (with how to do it by hand) */
  problems: string[];
}

export type Day2Outcome = { kind: 'plan'; plan: Day2Plan } | { kind: 'run'; report: Day2Report };

const UNWATCHED: ClientView = { reachable: false, failed: 0, total: 0, servedBy: [] };

export async function runDay2(
  io: IO,
  cfg: Config,
  build: (pf: PairFacts) => Day2Plan,
  opts: Day2Options,
): Promise<Day2Outcome> {
  const s = await openHostSession(io, cfg, {
    lock: opts.dryRun ? undefined : opts.lock,
    askPassword: opts.askPassword,
  });
  try {
    const plan = build(await readPairFacts(cfg, s.conns));
    if (opts.dryRun) return { kind: 'plan', plan };
    const watched = plan.moves.map((m) => !!m.vips.length && !!m.to && m.from !== m.to && plan.nodes.length > 0);
    const watches = await Promise.all(plan.moves.map((m, i) => (watched[i] ? watchAllClients(m.vips) : null)));
    let out: PlanOutcome | null = null;
    let views: ClientView[] = [];
    try {
      out = await executePlan(sessionEnv(s, cfg, io, opts.renderer), plan);
    } finally {
      views = await Promise.all(watches.map((w) => w?.stop() ?? UNWATCHED));
    }
    const holders = await vipHolders(cfg, s.conns).catch((): VipHolders => ({}));
    return { kind: 'run', report: day2Report(plan, out, holders, views, s.runId) };
  } finally {
    s.end();
  }
}

/** each move's outcome: its step done on every node, or undone (its flags put back), and where its VIPs are now */
function day2Report(
  plan: Day2Plan,
  out: PlanOutcome,
  holders: VipHolders,
  views: ClientView[],
  runId: string,
): Day2Report {
  const moves = plan.moves.map((m, i): MoveReport => {
    const steps = plan.nodes.flatMap((p) => p.steps.filter((x) => stepOf(x.id, m, plan)).map((x) => [p.node, x.id]));
    const res = (n: string) => out.nodes.find((r) => r.node === n)!;
    const done = steps.every(([n, id]) => res(n).stepsDone.includes(id));
    const stuck = steps.some(([n]) => res(n).notRestored);
    const log = [...new Set(steps.flatMap(([, id]) => out.logs[id] ?? []))];
    return {
      ...m,
      result: !steps.length ? 'nothing to do' : done ? 'done' : stuck ? 'NOT undone' : 'undone',
      holders: [...new Set(m.vips.flatMap((v) => holders[v] ?? []))],
      log,
      clients: views[i],
    };
  });
  const problems = [
    ...out.nodes.filter((r) => !r.ok).map((r) => `${r.node}: ${r.error ?? 'not run'}`),
    ...notRestoredLines(runId, out.nodes),
  ];
  return {
    ok: !problems.length && !out.interrupted,
    operation: plan.operation,
    runId,
    interrupted: out.interrupted,
    moves,
    nodes: out.nodes,
    problems,
  };
}

/** whether step `id` is the one of move `m` (a switchover's is named for its target; maintenance has one step) */
function stepOf(id: string, m: PlannedMove, plan: Day2Plan): boolean {
  return plan.operation === 'switchover' ? id === `switchover ${m.target}` : true;
}

/**
 * The error a day-2 run ends with, or null when it is ok: Ctrl-C with the move in progress undone (exit 130); a
 * move that failed, or a node whose flags could not be put back (exit 1, with how to do it by hand)
 */
export function day2Failure(r: Day2Report): OperationError | CancelledError | null {
  const fix = notRestoredLines(r.runId, r.nodes);
  if (r.interrupted && !fix.length)
    return new CancelledError(`${r.operation}: interrupted; the move in progress was undone, the finished ones stay`);
  if (r.interrupted) return new OperationError(`${r.operation}: interrupted; ${fix.length} node(s) NOT put back`, fix);
  if (!r.problems.length) return null;
  const how = fix.length ? `${fix.length} node(s) NOT put back` : 'what it had begun was undone';
  return new OperationError(`${r.operation} failed; ${how}`, r.problems);
}
