/**
 * `init` after the answers are settled: open a session (connect, lock, facts) on every node, build the whole plan,
 * refuse on any failed precondition (nothing changed), execute the plan as built, and when a keepalived started,
 * reloaded or handed VIPs over, wait until every VIP is settled where keepalived is expected to elect it. Returns
 * typed results; the command renders them.
 */
import { isFastProfile, type Config } from '../answers/resolve.js';
import { CancelledError, OperationError, PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import { reElectionMs } from '../answers/timing.js';
import { keepalivedFeatures } from '../keepalived.js';
import { keepalivedVersionOf } from '../steps/context.js';
import { judgeVips, vipProblems } from '../pair/health.js';
import { vipHolders, type VipHolders } from '../observe/holders.js';
import { sleep } from '../pair/handover.js';
import { buildPlan } from '../plan/build.js';
import type { PairPlan } from '../plan/types.js';
import type { Conn } from '../conn.js';
import { executePlan, notRestoredLines, sessionEnv, type NodeResult } from './execute.js';
import type { LockRequest } from './lock.js';
import { openHostSession, readPlanFacts, type HostSession } from './session.js';
import type { FlagFacts } from '../facts/types.js';

export interface RunOptions {
  dryRun: boolean;
  /** listr2's renderer for the progress */
  renderer: 'default' | 'simple' | 'silent';
  /** the SSH / sudo password the wizard already asked for */
  password?: string;
  askPassword?: (message: string) => Promise<string>;
  /** ha-setup's lock on every node (not taken by a dry run) */
  lock: LockRequest;
  /** recorded members to drop from the records without touching them (--forget) */
  forget?: string[];
  /**
   * asked once the plan is built (leavers connected, their facts read), before anything changes; false: nothing
   * changes (CancelledError). Not asked on a dry run.
   */
  confirm?: (plan: PairPlan) => Promise<boolean>;
}

/** what `init --json` prints */
export interface InitReport {
  ok: boolean;
  runId: string;
  /** Ctrl-C stopped the run (the nodes it left half done were put back, or say why not) */
  interrupted: boolean;
  log: string;
  nodes: (NodeResult & { holds: string[] })[];
  vips: VipHolders;
  problems: string[];
  warnings: string[];
}

export type InitOutcome = { kind: 'plan'; plan: PairPlan; cfg: Config } | { kind: 'run'; report: InitReport };

/** did the run do something after which keepalived may elect again (a start, reload or restart, a hand-over)? */
function electionMayMove(results: NodeResult[]): boolean {
  return results.some(
    (r) =>
      r.restarted.some((x) => / keepalived$/.test(x)) || r.actions.some((a) => /^(hand |keepalived running)/.test(a)),
  );
}

/**
 * Wait until every VIP is held by one node, the one keepalived is expected to elect (health.ts). `stableUntil`
 * (epoch ms): only a sample at or after it counts: keepalived applies a reload after systemctl returns, and a reload
 * that re-creates an instance drops the VIP until the master-down timer, so a sample right after it can show the
 * old, settled state.
 */
export async function waitForSettled(
  cfg: Config,
  conns: Record<string, Conn>,
  flags: Record<string, FlagFacts | undefined>,
  timeoutMs: number,
  stableUntil = 0,
): Promise<{ ok: boolean; holders: VipHolders; problems: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holders = await vipHolders(cfg, conns);
    const problems = vipProblems(judgeVips(cfg, holders, { flags }));
    if (Date.now() >= stableUntil && !problems.length) return { ok: true, holders, problems };
    if (Date.now() > deadline) return { ok: false, holders, problems };
    await sleep(100); // one round trip per node: the VIP is seen within ~0.1 s of the election
  }
}

async function planRun(io: IO, cfg: Config, s: HostSession, opts: RunOptions): Promise<PairPlan> {
  const pf = await readPlanFacts(s, cfg, { listen: true, lock: opts.dryRun ? null : opts.lock, forget: opts.forget });
  const plan = buildPlan({
    cfg,
    facts: pf.facts,
    leaving: pf.leaving,
    memberNotes: pf.memberNotes,
    adverts: pf.adverts,
  });
  if (!pf.adverts)
    plan.warnings.push('no node could listen for other VRRP routers: the virtual router ids are not checked');
  for (const n of pf.unheard)
    plan.warnings.push(
      `${n} could not listen for other VRRP routers: its segment was checked from the other nodes only`,
    );
  if (plan.refusals.length) throw new PreconditionError('preconditions failed; nothing was changed', plan.refusals);
  return plan;
}

export async function runInit(io: IO, cfg: Config, opts: RunOptions): Promise<InitOutcome> {
  const s = await openHostSession(io, cfg, {
    lock: opts.dryRun ? undefined : opts.lock,
    askPassword: opts.askPassword,
    password: opts.password,
  });
  try {
    const plan = await planRun(io, cfg, s, opts);
    if (opts.dryRun) return { kind: 'plan', plan, cfg };
    if (opts.confirm && !(await opts.confirm(plan))) throw new CancelledError('nothing changed (not confirmed)');
    const out = await executePlan(sessionEnv(s, cfg, io, opts.renderer), plan);
    const results = out.nodes;
    const failed = results.filter((r) => !r.ok);
    const flags = Object.fromEntries(plan.nodes.map((p) => [p.node, p.facts.flags]));
    let holders: VipHolders = {};
    let vipProblemsFound: string[] = [];
    if (!failed.length) {
      // a keepalived that ran before may still show its old state for a while, and 1.x after a start may hold the
      // VIP for a moment before its scripts have reported (faultAtStart): then only a holder seen after the
      // re-election (plus the scripts' first results on 1.x) counts; on a fresh 2.x pair the first holder is the
      // new election's, so it is enough to see the expected one
      const ranBefore = plan.nodes.some((p) => p.facts.services.keepalived?.active === 'active');
      const oneX = plan.nodes.some((p) => keepalivedFeatures(keepalivedVersionOf(cfg, p.facts)).faultAtStart);
      const hc = cfg.healthCheck;
      const scriptsMs = oneX ? (hc.interval * hc.rise + hc.scriptTimeout + 1) * 1000 : 0;
      const stableUntil =
        (ranBefore || oneX) && electionMayMove(results) ? Date.now() + reElectionMs(cfg) + scriptsMs : 0;
      const timeoutMs = (isFastProfile(cfg.profile) ? 8000 : 15000) + scriptsMs;
      const w = await waitForSettled(cfg, s.conns, flags, timeoutMs, stableUntil);
      holders = w.holders;
      vipProblemsFound = w.ok ? [] : w.problems;
    } else holders = await vipHolders(cfg, s.conns).catch(() => ({}));
    const report: InitReport = {
      ok: !failed.length && !vipProblemsFound.length && !out.interrupted,
      runId: s.runId,
      interrupted: out.interrupted,
      log: s.log.path,
      nodes: results.map((r) => ({
        ...r,
        holds: Object.entries(holders)
          .filter(([, hs]) => hs.includes(r.node))
          .map(([v]) => v),
      })),
      vips: holders,
      problems: [...failed.map((f) => `${f.node}: ${f.error ?? 'not run'}`), ...vipProblemsFound],
      warnings: plan.warnings,
    };
    return { kind: 'run', report };
  } finally {
    s.end();
  }
}

/**
 * The error an init report ends with, or null when it is ok: Ctrl-C (exit 130), or failed nodes (exit 1), each
 * said restored or NOT restored (its connection could not be made again, its restore failed: fix it by hand)
 */
export function initFailure(r: InitReport): OperationError | CancelledError | null {
  const failed = r.nodes.filter((n) => !n.ok);
  const stuck = failed.filter((n) => n.notRestored);
  const fix = notRestoredLines(r.runId, stuck);
  if (r.interrupted) {
    const restored = failed.filter((n) => n.restored).map((n) => n.node);
    const text = restored.length ? `; restored: ${restored.join(', ')}` : '';
    if (stuck.length) return new OperationError(`interrupted${text}; ${stuck.length} node(s) NOT restored`, fix);
    return new CancelledError(`interrupted${text || '; no node was left half done'}`);
  }
  if (stuck.length) {
    const restored = failed.filter((n) => !n.notRestored).map((n) => n.node);
    return new OperationError(
      `${failed.length} node(s) failed: ${stuck.length} NOT restored` +
        (restored.length ? `, restored: ${restored.join(', ')}` : ''),
      fix,
    );
  }
  if (failed.length)
    return new OperationError(
      `${failed.length} node(s) failed and were restored: ${failed.map((f) => f.node).join(', ')}`,
    );
  if (!r.ok) return new OperationError('the VIPs did not settle where keepalived should elect them', r.problems);
  return null;
}
