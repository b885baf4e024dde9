/**
 * Executing a plan exactly as built: first every node's actions up to its rolling turn, in parallel (all of them
 * for a node that takes nothing down); then the rolling nodes' turns one at a time in their order
 * (plan/rolling.ts), each handing its VIPs over first. A failed action stops
 * that node's run and restores it from its backups; in the rolling phase no further node goes after a failure.
 * Progress is one listr2 task per host.
 */
import { Listr, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { Config } from '../answers/resolve.js';
import { targetsOf, type Target } from '../answers/targets.js';
import type { InitFacts } from '../facts/gather.js';
import { awaitReady, handOver, returnTo, type PairEnv } from '../pair/handover.js';
import { describeAction } from '../plan/describe.js';
import {
  actionsOf,
  isPairAction,
  parallelCount,
  type Action,
  type NodePlan,
  type PairPlan,
  type TargetRef,
} from '../plan/types.js';
import type { Change } from '../steps/types.js';
import type { Conn } from '../conn.js';
import { restoreRun } from './restore.js';
import type { HostRunner } from './runner.js';

export interface NodeResult {
  node: string;
  host: string;
  role: string;
  leaving: boolean;
  changes: number;
  restarted: string[];
  /** what was executed, one line per action, in the plan's wording */
  actions: string[];
  ok: boolean;
  /** false: the rolling phase stopped before this node after another one failed */
  ran: boolean;
  error?: string;
  restored?: string[];
  /** SSH commands (round trips) this run made on the host, facts and lock included */
  roundTrips?: number;
}

export interface ExecuteEnv {
  cfg: Config;
  conns: Record<string, Conn>;
  runners: Record<string, HostRunner>;
  /** listr2's renderer: 'default' on a terminal, 'simple' without one, 'silent' for --json */
  renderer: 'default' | 'simple' | 'silent';
  signal?: AbortSignal;
}

type Task = ListrTaskWrapper<unknown, never, never>;

function targetsOfRefs(cfg: Config, refs: TargetRef[]): Target[] {
  const all = targetsOf(cfg);
  return refs.map((r) => all.find((t) => t.name === r.name)!).filter(Boolean);
}

/** one action on its node: a change through the runner, a pair action through the pair's connections */
async function runAction(env: ExecuteEnv, p: NodePlan, a: Action, task: Task): Promise<number> {
  const pair: PairEnv = { cfg: env.cfg, conns: env.conns, signal: env.signal, progress: (l) => (task.output = l) };
  if (isPairAction(a)) {
    if (a.kind === 'handover') await handOver(pair, p.node, targetsOfRefs(env.cfg, a.targets), { how: 'stop' });
    else if (a.kind === 'return')
      await returnTo(pair, p.node, targetsOfRefs(env.cfg, a.targets), targetsOfRefs(env.cfg, a.release));
    else await awaitReady(pair, p.node);
    return 0;
  }
  return applyChange(env, env.runners[p.node], a);
}

async function applyChange(env: ExecuteEnv, r: HostRunner, c: Change): Promise<number> {
  switch (c.kind) {
    case 'file':
      await r.writeFile(c);
      return 1;
    case 'remove-file':
      await r.removeFile(c);
      return 1;
    case 'command':
      await r.command(c);
      return 1;
    case 'package':
      await r.install(c);
      return 1;
    case 'package-file':
      await r.installFile(c);
      return 1;
    case 'service':
      await r.service(c);
      return 1;
    case 'nginx-sync':
      await r.syncNginx(env.conns[c.from], c.configDir);
      return 1;
    case 'verify':
      await r.verify(c);
      return 0;
  }
}

/** restore a node from the run's backups (after its own failure, or when the run stops before its rolling turn) */
async function restoreNode(r: HostRunner, p: NodePlan, task: Task, res: NodeResult): Promise<void> {
  if (!r.begun || !r.conn.alive) return;
  task.output = `${p.node}: restoring ${p.node} from its backups`;
  try {
    res.restored = await restoreRun(r.conn, r.runDir);
    await r.end(false);
  } catch (re) {
    res.restored = [`restore failed: ${(re as Error).message}`];
  }
}

/**
 * The node's actions from index `from` up to `to` (its part in one phase), in order; `last`: the node's run ends
 * here. On a failure its host is restored from the run's backups.
 */
async function runNode(
  env: ExecuteEnv,
  p: NodePlan,
  task: Task,
  res: NodeResult,
  part: { from: number; to: number; last: boolean },
): Promise<void> {
  const r = env.runners[p.node];
  res.ran = true;
  let i = 0;
  try {
    for (const s of p.steps) {
      for (const a of [...s.changes, ...s.handlers]) {
        if (i++ < part.from || i > part.to) continue;
        if (!isPairAction(a) && a.kind !== 'verify' && !r.begun) await r.begin((p.facts as InitFacts).services);
        const line = describeAction(a);
        task.output = `${s.title}: ${line}`;
        const n = await runAction(env, p, a, task);
        res.actions.push(line);
        if (!isPairAction(a) && s.changes.includes(a)) res.changes += n;
      }
    }
    res.restarted = r.restarted;
    if (part.last && r.begun) await r.end(true);
  } catch (e) {
    res.ok = false;
    res.error = (e as Error).message;
    await restoreNode(r, p, task, res);
    throw e;
  }
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
    } as never,
  );
}

export function emptyResult(p: NodePlan): NodeResult {
  return {
    node: p.node,
    host: p.host,
    role: p.role,
    leaving: p.leaving,
    changes: 0,
    restarted: [],
    actions: [],
    ok: true,
    ran: false,
  };
}

/**
 * Run the plan; every node gets a result (ok, failed and restored, or not run). Phase 1, in parallel: every node's
 * actions up to its rolling turn (all of them for a node that takes nothing down). Phase 2, one node at a time in
 * the rolling order: the rest. A failure in phase 1 stops the run before phase 2, and the rolling nodes' phase-1
 * changes are restored (they would otherwise stay half done).
 */
export async function executePlan(env: ExecuteEnv, plan: PairPlan): Promise<NodeResult[]> {
  const results = new Map(plan.nodes.map((p) => [p.node, emptyResult(p)]));
  const total = (p: NodePlan) => actionsOf(p).length;
  const done = (p: NodePlan, res: NodeResult, t: Task) =>
    (t.title =
      `${p.node} (${p.host}): ${res.changes} change(s)` +
      `${res.restarted.length ? `, ${res.restarted.join(', ')}` : ''}`);
  const first = (p: NodePlan) => ({
    title: `${p.node} (${p.host})${p.rolling ? ': up to its rolling turn' : ''}`,
    task: async (_ctx: unknown, t: Task) => {
      const res = results.get(p.node)!;
      await runNode(env, p, t, res, { from: 0, to: parallelCount(p), last: !p.rolling });
      if (!p.rolling) done(p, res, t);
    },
  });
  const turn = (p: NodePlan) => ({
    title: `${p.node} (${p.host}): rolling ${p.rollingOrder}`,
    task: async (_ctx: unknown, t: Task) => {
      const res = results.get(p.node)!;
      await runNode(env, p, t, res, { from: parallelCount(p), to: total(p), last: true });
      done(p, res, t);
    },
  });
  const rolling = plan.nodes.filter((p) => p.rolling).sort((a, b) => (a.rollingOrder ?? 0) - (b.rollingOrder ?? 0));
  await listr(env, plan.nodes.filter((p) => !p.rolling || parallelCount(p) > 0).map(first), true)
    .run()
    .catch(() => undefined);
  if ([...results.values()].every((r) => r.ok)) {
    if (rolling.length)
      await listr(env, rolling.map(turn), false)
        .run()
        .catch(() => undefined);
  } else {
    // the rolling phase needs every other node as it should be: it does not start, and what its nodes did in
    // phase 1 is put back
    for (const p of rolling) {
      const res = results.get(p.node)!;
      if (!res.ok || !env.runners[p.node].begun) continue;
      res.ok = false;
      res.error = 'stopped before its rolling turn: another node failed; restored';
      await restoreNode(env.runners[p.node], p, { output: '' } as Task, res);
    }
  }
  for (const r of results.values()) r.roundTrips = env.conns[r.node]?.commands;
  return [...results.values()];
}
