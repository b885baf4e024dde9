/**
 * The one executor of a plan (init's, switchover's, maintenance's, rollback's), exactly as built: first every
 * node's actions up to its rolling turn, in parallel (all of them for a node that takes nothing down); then the
 * rolling nodes' turns one at a time in their order (plan/rolling.ts), each handing its VIPs over first. A failed
 * action stops that node's run, and what it left half done is undone as the plan's undo policy says
 * (plan/types.ts UndoPolicy); in the rolling phase no further node goes after a failure. Ctrl-C (env.io) stops
 * every node before its next action and undoes the same way; a second one prints what is left to do by hand. A
 * node whose connection dropped is connected again before it is put back, and said "not restored" when it cannot
 * be. Progress is one listr2 task per host.
 */
import { Listr, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { Config } from '../answers/resolve.js';
import { targetsOf, type Target } from '../answers/targets.js';
import type { IO } from '../io.js';
import { awaitReady, handOver, returnTo, type PairEnv } from '../pair/handover.js';
import { switchTarget } from '../pair/switchover.js';
import { describeAction } from '../plan/describe.js';
import {
  actionsOf,
  isHostChange,
  isPairAction,
  isRestoreAction,
  parallelCount,
  type Action,
  type BaseFacts,
  type NodePlan,
  type PairAction,
  type PairPlan,
  type TargetRef,
} from '../plan/types.js';
import type { Change } from '../steps/types.js';
import type { Conn } from '../conn.js';
import { OperationError } from '../errors.js';
import { restoreRun, runRestoreAction } from './restore.js';
import type { HostRunner } from './runner.js';
import type { HostSession } from './session.js';
import { liveConnection } from '../ssh/session.js';

export interface NodeResult {
  node: string;
  host: string;
  role: string;
  leaving: boolean;
  changes: number;
  restarted: string[];
  /** what was executed, one line per action, in the plan's wording */
  actions: string[];
  /** what the pair actions said as they went (a planned move's steps), and what a restore did */
  log: string[];
  /** the ids of the node's steps whose every action ran */
  stepsDone: string[];
  ok: boolean;
  /** false: the rolling phase stopped before this node after another one failed */
  ran: boolean;
  /** it was stopped by Ctrl-C */
  interrupted?: boolean;
  error?: string;
  /** what was undone on the node after a failure or an interruption */
  restored?: string[];
  /** why what the run left half done on the node could NOT be undone (fix it by hand: `manual`) */
  notRestored?: string;
  /** SSH commands (round trips) this run made on the host, facts and lock included */
  roundTrips?: number;
}

export interface ExecuteEnv {
  cfg: Config;
  conns: Record<string, Conn>;
  runners: Record<string, HostRunner>;
  /** listr2's renderer: 'default' on a terminal, 'simple' without one, 'silent' for --json */
  renderer: 'default' | 'simple' | 'silent';
  /** Ctrl-C handling while the plan runs (io.interrupt), and where its messages go */
  io?: Pick<IO, 'err' | 'interrupt'>;
  /** connect a node again (its runner too) after its connection dropped; without it such a node is not restored */
  reconnect?: (node: string) => Promise<void>;
}

export interface PlanOutcome {
  nodes: NodeResult[];
  /** what the pair actions of each step said as they went (a planned move's steps), by step id */
  logs: Record<string, string[]>;
  /** Ctrl-C stopped the run */
  interrupted: boolean;
}

type Task = ListrTaskWrapper<unknown, never, never>;
type AnyPlan = PairPlan<BaseFacts>;
type AnyNode = NodePlan<BaseFacts>;

/** a state flag written by a step, to put back when the step does not finish ('step' undo) */
interface FlagUndo {
  step: string;
  node: string;
  name: string;
  before: number | null;
  /** the value written */
  value: number;
}

/** the state of one execution, shared by every node's task */
interface Run {
  env: ExecuteEnv;
  plan: AnyPlan;
  results: Map<string, NodeResult>;
  signal: AbortSignal;
  undos: FlagUndo[];
  logs: Record<string, string[]>;
}

class Interrupted extends Error {}

function targetsOfRefs(cfg: Config, refs: TargetRef[]): Target[] {
  const all = targetsOf(cfg);
  return refs.map((r) => all.find((t) => t.name === r.name)!).filter(Boolean);
}

/** the first change the run makes on a node records how its services were (a restore returns them to it) */
async function begin(run: Run, node: string): Promise<HostRunner> {
  const r = run.env.runners[node];
  if (!r.begun) await r.begin(run.plan.nodes.find((p) => p.node === node)?.facts.services ?? {});
  return r;
}

/** the pair's view for a pair action of `step` on `p`: its progress in the task and the node's log, flags recorded */
function pairEnv(run: Run, step: string, task: Task, res: NodeResult): PairEnv {
  return {
    cfg: run.env.cfg,
    conns: run.env.conns,
    signal: run.signal,
    progress: (l) => {
      task.output = l;
      res.log.push(l);
      (run.logs[step] ??= []).push(l);
    },
    writeFlag: async (node, name, on) => {
      const before = await (await begin(run, node)).flag(name, on);
      run.undos.push({ step, node, name, before, value: on ? 1 : 0 });
    },
  };
}

async function runPairAction(run: Run, p: AnyNode, a: PairAction, pair: PairEnv): Promise<void> {
  const cfg = run.env.cfg;
  switch (a.kind) {
    case 'handover':
      await handOver(pair, p.node, targetsOfRefs(cfg, a.targets), { how: 'stop' });
      return;
    case 'return':
      await returnTo(
        pair,
        p.node,
        targetsOfRefs(cfg, a.targets),
        targetsOfRefs(cfg, a.release),
        targetsOfRefs(cfg, a.moveBack ?? []),
      );
      return;
    case 'await-ready':
      await awaitReady(pair, p.node);
      return;
    case 'flag':
      await pair.writeFlag!(p.node, a.name, a.on);
      return;
    case 'switch':
      await switchTarget(pair, p.node, targetsOfRefs(cfg, [a.target])[0], a.to, a.demote);
      return;
    case 'drain':
      await handOver(pair, p.node, targetsOfRefs(cfg, a.targets), { how: 'maintenance' });
      return;
  }
}

/** one action on its node: a change through the runner, a pair action through the pair, a restore step */
async function runAction(run: Run, p: AnyNode, step: string, a: Action, task: Task, res: NodeResult) {
  if (isPairAction(a)) return runPairAction(run, p, a, pairEnv(run, step, task, res));
  if (isRestoreAction(a)) {
    const line = await runRestoreAction(run.env.conns[p.node], a);
    if (line) res.log.push(line);
    return;
  }
  if (a.kind !== 'verify') await begin(run, p.node);
  return applyChange(run.env, run.env.runners[p.node], a);
}

async function applyChange(env: ExecuteEnv, r: HostRunner, c: Change): Promise<void> {
  switch (c.kind) {
    case 'file':
      return r.writeFile(c);
    case 'remove-file':
      return r.removeFile(c);
    case 'command':
      return r.command(c);
    case 'package':
      return r.install(c);
    case 'package-file':
      return r.installFile(c);
    case 'service':
      return r.service(c);
    case 'nginx-sync':
      await r.syncNginx(env.conns[c.from], c.configDir);
      return;
    case 'verify':
      return r.verify(c);
  }
}

/**
 * The node's runner on a connection that answers: env.reconnect keeps it or makes a new one (trying for a while);
 * an error saying why when there is none.
 */
async function usableRunner(env: ExecuteEnv, node: string): Promise<HostRunner> {
  if (env.reconnect) await env.reconnect(node);
  else if (!env.runners[node].conn.alive) throw new OperationError(`${node}: its SSH connection is gone`);
  return env.runners[node];
}

/** the executor's environment on a host session: its connections and runners, a dropped node connected again */
export function sessionEnv(
  s: HostSession,
  cfg: Config,
  io: Pick<IO, 'err' | 'interrupt'>,
  renderer: ExecuteEnv['renderer'],
): ExecuteEnv {
  const nodeOf = (n: string) => cfg.nodes.find((x) => x.name === n) ?? s.runners[n].node;
  return {
    cfg,
    conns: s.conns,
    runners: s.runners,
    renderer,
    io,
    reconnect: async (n) => void (await liveConnection(s, nodeOf(n))),
  };
}

/**
 * Put a node back from the run's backups ('node' undo: after its own failure or an interruption, or when the run
 * stops before its rolling turn), on a connection made again if it dropped; "not restored" when that fails.
 */
async function restoreNode(env: ExecuteEnv, p: AnyNode, task: Task, res: NodeResult): Promise<void> {
  if (!env.runners[p.node].begun) return;
  task.output = `${p.node}: restoring ${p.node} from its backups`;
  let r: HostRunner;
  try {
    r = await usableRunner(env, p.node);
  } catch (e) {
    res.notRestored = `no connection to put it back: ${(e as Error).message}`;
    return;
  }
  try {
    res.restored = await restoreRun(r.conn, r.runDir);
    await r.end(false);
  } catch (re) {
    res.notRestored = `the restore failed: ${(re as Error).message}`;
  }
}

/** one action's place in the node's plan: its step and its index among the node's actions */
function* placed(p: AnyNode): Generator<{ step: string; a: Action; i: number; change: boolean }> {
  let i = 0;
  for (const s of p.steps) {
    for (const a of s.changes) yield { step: s.id, a, i: i++, change: true };
    for (const a of s.handlers) yield { step: s.id, a, i: i++, change: false };
  }
}

/**
 * The node's actions from index `from` up to `to` (its part in one phase), in order; `last`: the node's run ends
 * here. On a failure or an interruption, what it left half done is undone ('node': the host restored here; 'step':
 * after the run, undoFlags).
 */
async function runNode(run: Run, p: AnyNode, task: Task, part: { from: number; to: number; last: boolean }) {
  const res = run.results.get(p.node)!;
  const policy = run.plan.undo ?? 'node';
  res.ran = true;
  try {
    for (const { step, a, i, change } of placed(p)) {
      if (i < part.from || i >= part.to) continue;
      if (run.signal.aborted && policy !== 'none') throw new Interrupted('interrupted');
      const line = describeAction(a);
      task.output = `${p.steps.find((s) => s.id === step)?.title ?? step}: ${line}`;
      await runAction(run, p, step, a, task, res);
      res.actions.push(line);
      if (change && isHostChange(a)) res.changes++;
      if (i === actionIndexOfLast(p, step)) res.stepsDone.push(step);
    }
    res.restarted = run.env.runners[p.node].restarted;
    if (part.last && run.env.runners[p.node].begun) await run.env.runners[p.node].end(true);
  } catch (e) {
    res.ok = false;
    res.interrupted = run.signal.aborted;
    res.error = res.interrupted ? 'interrupted (Ctrl-C)' : (e as Error).message;
    if (policy === 'node') await restoreNode(run.env, p, task, res);
    throw e;
  }
}

function actionIndexOfLast(p: AnyNode, step: string): number {
  let last = -1;
  for (const x of placed(p)) if (x.step === step) last = x.i;
  return last;
}

function listr(
  env: ExecuteEnv,
  tasks: { title: string; task: (c: unknown, t: Task) => Promise<void> }[],
  concurrent: boolean,
) {
  return new Listr(
    tasks as never,
    {
      concurrent,
      exitOnError: !concurrent,
      renderer: env.renderer,
      fallbackRenderer: 'simple',
      rendererOptions: { processOutput: new ProcessOutput(process.stderr, process.stderr) } as never,
      collectErrors: 'minimal',
      // Ctrl-C is the executor's (env.io): listr2's own handler would exit at once, leaving the hosts half done
      registerSignalListeners: false,
    } as never,
  );
}

export function emptyResult(p: AnyNode): NodeResult {
  return {
    node: p.node,
    host: p.host,
    role: p.role,
    leaving: p.leaving,
    changes: 0,
    restarted: [],
    actions: [],
    log: [],
    stepsDone: [],
    ok: true,
    ran: false,
  };
}

/** the steps (by id, across the nodes) that did not finish: their actions did not all run */
function unfinishedSteps(run: Run): Set<string> {
  const out = new Set<string>();
  for (const p of run.plan.nodes)
    for (const s of p.steps)
      if (s.changes.length + s.handlers.length && !run.results.get(p.node)!.stepsDone.includes(s.id)) out.add(s.id);
  return out;
}

/**
 * 'step' undo: each flag the unfinished steps wrote goes straight back to the value it had before their first
 * write (newest flag first, on every node it was written on), unless it has it again: replaying the writes backwards
 * would pass through the values in between, and keepalived acts on each
 */
async function undoFlags(run: Run): Promise<void> {
  const open = unfinishedSteps(run);
  const written = run.undos.filter((u) => open.has(u.step));
  const keys = [...new Set(written.map((u) => `${u.node}\n${u.name}`))].reverse();
  for (const key of keys) {
    const mine = written.filter((u) => `${u.node}\n${u.name}` === key);
    const { node, name } = mine[0];
    const back = mine[0].before ?? 0;
    const res = run.results.get(node)!;
    if (res.notRestored || mine[mine.length - 1].value === back) continue;
    try {
      await (await usableRunner(run.env, node)).flag(name, back !== 0);
      (res.restored ??= []).push(`flag ${name} back to ${back}`);
    } catch (e) {
      res.notRestored = `the ${name} flag could not be put back to ${back}: ${(e as Error).message}`;
    }
  }
}

/** what a second Ctrl-C prints: each node the run left half done, and how to put it back by hand */
function leftByHand(run: Run): string[] {
  const out: string[] = [];
  // 'step' undo: a node that finished its part of a step that did not finish has flags to put back too
  const open = unfinishedSteps(run);
  const openFlags = new Set(run.undos.filter((u) => open.has(u.step)).map((u) => u.node));
  for (const p of run.plan.nodes) {
    const res = run.results.get(p.node)!;
    const r = run.env.runners[p.node];
    const finished = res.ok && res.actions.length === actionsOf(p).length;
    const restoreOf = actionsOf(p).find(isRestoreAction)?.runDir;
    if (restoreOf) {
      if (!res.ran || finished) continue;
      const id = restoreOf.slice(restoreOf.lastIndexOf('/') + 1);
      out.push(
        `  ${p.node}: its rollback of run ${id} may not be finished: ` +
          `ha-setup rollback --run ${id} --node ${p.node} --yes`,
      );
    } else if (r.begun && (!finished || openFlags.has(p.node)) && !res.restored) {
      out.push(
        `  ${p.node}: ha-setup rollback --run ${r.runId} --node ${p.node} --yes  ` +
          '(puts back what this run changed there: files, state flags, services)',
      );
    }
  }
  return out.length ? out : ['  nothing: no node was left half done'];
}

/** Ctrl-C while the plan runs: the first stops it (and the undo runs), the second prints what is left by hand */
function watchInterrupt(run: Run, abort: AbortController): () => void {
  const io = run.env.io;
  if (!io?.interrupt) return () => undefined;
  const policy = run.plan.undo ?? 'node';
  const what =
    policy === 'none'
      ? 'letting the restores in progress finish'
      : policy === 'step'
        ? 'stopping, and undoing the move in progress'
        : 'stopping every node before its next action, and putting back the nodes left half done';
  io.interrupt.onInterrupt({
    first: (sig) => {
      io.err(`\n${sig}: ${what} (press Ctrl-C again to leave them as they are)`);
      abort.abort();
    },
    second: (sig) => [`${sig} again: NOT putting anything back. Left half done, to fix by hand:`, ...leftByHand(run)],
  });
  return () => io.interrupt!.onInterrupt(null);
}

/**
 * Run the plan; every node gets a result (ok, failed and undone or not, or not run). Phase 1, in parallel: every
 * node's actions up to its rolling turn (all of them for a node that takes nothing down). Phase 2, one node at a
 * time in the rolling order: the rest. A failure or Ctrl-C in phase 1 stops the run before phase 2; one in phase 2
 * stops it before the next node. With the 'node' undo, a rolling node whose turn did not run is put back too (its
 * phase-1 changes would otherwise stay half done); with 'step', the unfinished steps' flags are put back.
 */
export async function executePlan(env: ExecuteEnv, plan: AnyPlan): Promise<PlanOutcome> {
  const abort = new AbortController();
  const run: Run = { env, plan, results: new Map(), signal: abort.signal, undos: [], logs: {} };
  for (const p of plan.nodes) run.results.set(p.node, emptyResult(p));
  const stopWatching = watchInterrupt(run, abort);
  try {
    await phases(run);
    if ((plan.undo ?? 'node') === 'node') await restoreUnturned(run);
    else if (plan.undo === 'step' && [...run.results.values()].some((r) => !r.ok)) await undoFlags(run);
  } finally {
    stopWatching();
  }
  for (const r of run.results.values()) r.roundTrips = env.conns[r.node]?.commands;
  return { nodes: [...run.results.values()], logs: run.logs, interrupted: abort.signal.aborted };
}

async function phases(run: Run): Promise<void> {
  const { plan, results } = run;
  const total = (p: AnyNode) => actionsOf(p).length;
  const done = (p: AnyNode, res: NodeResult, t: Task) =>
    (t.title =
      `${p.node} (${p.host}): ${res.changes} change(s)` +
      `${res.restarted.length ? `, ${res.restarted.join(', ')}` : ''}`);
  const first = (p: AnyNode) => ({
    title: `${p.node} (${p.host})${p.rolling ? ': up to its rolling turn' : ''}`,
    task: async (_ctx: unknown, t: Task) => {
      await runNode(run, p, t, { from: 0, to: parallelCount(p), last: !p.rolling });
      if (!p.rolling) done(p, results.get(p.node)!, t);
    },
  });
  const turn = (p: AnyNode) => ({
    title: `${p.node} (${p.host}): rolling ${p.rollingOrder}`,
    task: async (_ctx: unknown, t: Task) => {
      await runNode(run, p, t, { from: parallelCount(p), to: total(p), last: true });
      done(p, results.get(p.node)!, t);
    },
  });
  const rolling = plan.nodes.filter((p) => p.rolling).sort((a, b) => (a.rollingOrder ?? 0) - (b.rollingOrder ?? 0));
  await listr(run.env, plan.nodes.filter((p) => !p.rolling || parallelCount(p) > 0).map(first), true)
    .run()
    .catch(() => undefined);
  if ([...results.values()].every((r) => r.ok) && !run.signal.aborted && rolling.length)
    await listr(run.env, rolling.map(turn), false)
      .run()
      .catch(() => undefined);
}

/**
 * 'node' undo: a rolling node that began (phase 1) and whose turn did not run, because the run stopped, is put back
 * from its backups: the rolling phase needs every other node as it should be, and its phase-1 changes alone are half
 * of its run
 */
async function restoreUnturned(run: Run): Promise<void> {
  const stopped = [...run.results.values()].some((r) => !r.ok) || run.signal.aborted;
  if (!stopped) return;
  for (const p of run.plan.nodes.filter((x) => x.rolling)) {
    const res = run.results.get(p.node)!;
    if (!res.ok || res.actions.length > parallelCount(p) || !run.env.runners[p.node].begun) continue;
    res.ok = false;
    res.interrupted = run.signal.aborted;
    const why = run.signal.aborted ? 'interrupted (Ctrl-C)' : 'another node failed';
    res.error = `stopped before its rolling turn: ${why}`;
    await restoreNode(run.env, p, { output: '' } as Task, res);
  }
}

/** the nodes a run left half done and could not put back, each with how to do it by hand */
export function notRestoredLines(runId: string, nodes: NodeResult[]): string[] {
  return nodes
    .filter((n) => n.notRestored)
    .map(
      (n) => `${n.node}: NOT put back (${n.notRestored}); by hand: ha-setup rollback --run ${runId} --node ${n.node}`,
    );
}
