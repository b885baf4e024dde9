/**
 * The verify-failover run: preflight (the pair healthy, every fault's undo proven possible), a snapshot of the whole
 * pair, then each scenario on each target's current master, measured against the bound the configuration implies
 * and restored to the snapshot. The run stops before the next fault when the pair did not come back as it was.
 * Ctrl-C restores what is stopped; a second Ctrl-C says what is left and how to fix it. Returns a typed report.
 */
import { nodeInterfaces } from '../answers/targets.js';
import type { Config } from '../answers/resolve.js';
import type { Target } from '../answers/targets.js';
import type { LockRequest } from '../apply/lock.js';
import { openHostSession, type HostSession } from '../apply/session.js';
import { CancelledError, PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import { passwordPrompt } from '../password-prompt.js';
import { startWaiting } from '../spinner.js';
import { pairStatus, UNITS, type PairStatus } from '../status/collect.js';
import { boundFeatures, settleTimeoutMs } from './bounds.js';
import { identities } from '../observe/identify.js';
import { describeDrift, manualFix, pairDrift, sshCommand } from './pair.js';
import { faultUndoProblems, holderOf, notReady, precheck } from './precheck.js';
import { restorePair } from './restore.js';
import { Aborted, pendingRestores, runScenario, type RunEnv, type ScenarioResult } from './run.js';
import type { ScenarioName } from './scenarios.js';

export const MARGIN_TEXT = "the bound + 0.5 s + 20 % (probe timing, ARP, the new master's first answers)";

export interface VerifyOptions {
  names: ScenarioName[];
  targets: Target[];
  maxGapMs?: number;
  probeUrl?: string;
  probeFrom?: string;
  probeIntervalMs: number;
  /** skip the health preflight (the test may then fail on purpose); the undo checks always run */
  force: boolean;
  /** called with each scenario's result as it ends (the command draws its timeline) */
  onResult?: (r: ScenarioResult) => void;
  /** ha-setup's lock on every node, held for the whole test */
  lock: LockRequest;
}

/** what `verify-failover --json` prints */
export interface VerifyReport {
  ok: boolean;
  /** --max-gap when given; otherwise null: each scenario's limit is its expectedMaxMs + margin (maxGapMs) */
  maxGapMs: number | null;
  margin: string;
  scenarios: (Omit<ScenarioResult, 'timeline' | 'restoreLog'> & { restoreLog?: string[] })[];
  /** set when the run stopped before its last fault because the pair was not as before */
  stopped: { reason: string; left: string[]; fix: string[] } | null;
}

export interface VerifyOutcome {
  results: ScenarioResult[];
  stopped: VerifyReport['stopped'];
  interrupted: boolean;
}

/** fix-by-hand lines: the connection's way of becoming root, else the answers' (a user other than root sudoes) */
function sudoOf(cfg: Config, s: HostSession, n: string): boolean {
  const c = s.conns[n];
  return c ? c.sudo !== 'root' : (cfg.nodes.find((x) => x.name === n)?.user ?? 'root') !== 'root';
}

/** by hand, per node: everything that ran before started again, links up (printed on a second Ctrl-C) */
function snapshotRestoreCommands(cfg: Config, snapshot: PairStatus, sudo: (node: string) => boolean): string[] {
  return snapshot.nodes.flatMap((n) => {
    const node = cfg.nodes.find((x) => x.name === n.node);
    if (!node || !n.reachable) return [];
    const units = UNITS.filter((u) => n.units[u].active === 'active');
    const ifaces = nodeInterfaces(cfg, node);
    const links = Object.entries(n.links).filter(([i, up]) => up && ifaces.includes(i));
    const parts = [
      ...units.map((u) => `systemctl unmask --runtime ${u} 2>/dev/null; systemctl start ${u}`),
      ...links.map(([i]) => `ip link set dev ${i} up`),
    ];
    return parts.length ? [sshCommand(node, parts.join('; '), sudo(node.name))] : [];
  });
}

/** null when another node can take over the target's VIPs now and the pair is as before; else why not */
function readyToFailOver(run: RunEnv, target: Target, now: PairStatus): string | null {
  const drift = pairDrift(run.snapshot, now, run.cfg);
  if (drift.length) return `the pair is not as before the test: ${drift.map(describeDrift).join('; ')}`;
  const holder = holderOf(now, target);
  const why = now.nodes.filter((n) => n.node !== holder).map((n) => notReady(n, target));
  if (why.some((w) => w === null)) return null;
  return `no node is ready to take ${target.name} over from ${holder ?? 'nobody'} (${why.join('; ')})`;
}

/** the pair healthy and every undo proven possible, or PreconditionError (exit 2) before anything is touched */
async function preflight(cfg: Config, s: HostSession, snapshot: PairStatus, opts: VerifyOptions): Promise<void> {
  const wrongHolder = snapshot.vips
    .filter((v) => v.problem === 'wrong-holder')
    .map((v) => `${v.instance} ${v.vip} is on ${v.holders[0]}, not on ${v.expected}`);
  if ((!snapshot.ok || wrongHolder.length) && !opts.force)
    throw new PreconditionError(
      'preflight: the pair is not healthy, so a failover test would prove nothing (use --force to run anyway)',
      [...snapshot.problems, ...wrongHolder],
    );
  const refusals = await precheck(cfg, s.conns, snapshot, opts.force ? [] : opts.targets, opts.names);
  if (refusals.length)
    throw new PreconditionError('preflight: a fault could not be undone on this pair; nothing was touched', refusals);
}

async function scenariosLoop(run: RunEnv, opts: VerifyOptions, io: IO, out: VerifyOutcome): Promise<void> {
  const plan = opts.targets.flatMap((target) => opts.names.map((name) => ({ target, name })));
  for (const [k, { target, name }] of plan.entries()) {
    if (run.signal.aborted) break;
    const now = await pairStatus(run.cfg, run.session.conns);
    // even with --force: what the fault stops on the node holding the target now must be able to come back
    const why = [...faultUndoProblems(now, target, name), ...(opts.force ? [] : [readyToFailOver(run, target, now)])];
    if (why.some(Boolean)) {
      out.stopped = {
        reason: `not injecting ${name} on ${target.name}: ${why.filter(Boolean).join('; ')}`,
        left: [],
        fix: [],
      };
      return;
    }
    try {
      const r = await runScenario(run, target, name);
      out.results.push(r);
      if (opts.onResult) opts.onResult(r);
      else io.err(scenarioLine(r));
      if (!r.restored && k < plan.length - 1) {
        out.stopped = {
          reason:
            `the pair did not come back as it was after ${target.name} ${name}; ` +
            'the remaining scenarios were not run',
          left: r.left,
          fix: [],
        };
        return;
      }
    } catch (e) {
      if (e instanceof Aborted || run.signal.aborted) return;
      throw e;
    }
  }
}

function scenarioLine(r: ScenarioResult): string {
  const gap = r.gapMs === null ? 'never served again' : `gap ${(r.gapMs / 1000).toFixed(2)} s`;
  const back = r.return ? `, return ${r.return.failedProbes}/${r.return.totalProbes} failed` : '';
  return `${r.instance} ${r.name}: ${r.ok ? 'ok' : 'FAIL'} (${gap}, ${r.failedProbes}/${r.totalProbes} failed${back})`;
}

/** after an interruption or a stop: every pending restore, then the whole pair back to the snapshot */
async function finalRestore(run: RunEnv, s: HostSession, io: IO, out: VerifyOutcome, completed: boolean) {
  for (const [key, p] of [...pendingRestores]) {
    try {
      io.err(`restored ${p.describe}: ${(await p.run()).join('; ')}`);
    } catch (e) {
      io.err(`could not restore ${p.describe}: ${(e as Error).message}; fix by hand: ${p.manual}`);
    }
    pendingRestores.delete(key);
  }
  if (completed && !run.signal.aborted && !out.stopped) return;
  // after a scenario that already waited its settle time in vain, one more pass (fix, report) is enough
  const waited = out.results.length > 0 && !out.results[out.results.length - 1].restored;
  const settle = Math.max(...run.cfg.instances.map((i) => settleTimeoutMs(run.cfg, i)));
  const back = await restorePair(run, waited ? 0 : settle).catch((e: Error) => ({
    log: [`could not check the pair: ${e.message}`],
    left: [],
  }));
  for (const l of back.log) io.err(`restore: ${l}`);
  if (back.left.length) {
    const fix = back.left.flatMap((d) => {
      const m = manualFix(
        d,
        run.cfg.nodes.find((n) => n.name === d.node),
        sudoOf(run.cfg, s, d.node),
      );
      return m ? [m] : [];
    });
    out.stopped = {
      reason: out.stopped?.reason ?? 'the pair is not as the test found it',
      left: back.left.map(describeDrift),
      fix,
    };
  } else if (out.stopped) out.stopped.left = [];
}

export async function runVerify(io: IO, cfg: Config, opts: VerifyOptions): Promise<VerifyOutcome> {
  const s = await openHostSession(io, cfg, { lock: opts.lock, askPassword: passwordPrompt(io) });
  const abort = new AbortController();
  const out: VerifyOutcome = { results: [], stopped: null, interrupted: false };
  let fixes: string[] = [];
  io.interrupt?.onInterrupt({
    first: (sig) => {
      io.err(`\n${sig}: stopping the test and restoring what it stopped (press Ctrl-C again to leave it as it is)`);
      out.interrupted = true;
      abort.abort();
    },
    second: (sig) => [
      `${sig} again: NOT restoring. Left as it is:`,
      ...[...pendingRestores.values()].map((p) => `  ${p.describe}: fix with ${p.manual}`),
      ...(pendingRestores.size ? [] : ['  no scenario fault: every scenario restore had already run']),
      '  to bring every node back as the test found it:',
      ...fixes.map((f) => `    ${f}`),
    ],
  });
  let run: RunEnv | null = null;
  let completed = false;
  try {
    const snapshot = await pairStatus(cfg, s.conns);
    await preflight(cfg, s, snapshot, opts);
    fixes = snapshotRestoreCommands(cfg, snapshot, (n) => sudoOf(cfg, s, n));
    run = {
      cfg,
      session: s,
      log: s.log.write,
      progress: (l) => io.err(`… ${l}`),
      waiting: (t) => startWaiting(io, t),
      signal: abort.signal,
      probeUrl: opts.probeUrl,
      probeFrom: opts.probeFrom,
      probeIntervalMs: opts.probeIntervalMs,
      maxGapMs: opts.maxGapMs,
      snapshot,
      ids: identities(cfg, snapshot),
      features: boundFeatures(
        cfg,
        snapshot.nodes.map((n) => n.keepalivedVersion),
      ),
    };
    await scenariosLoop(run, opts, io, out);
    completed = true;
  } finally {
    if (run) await finalRestore(run, s, io, out, completed);
    io.interrupt?.onInterrupt(null);
    s.end();
  }
  return out;
}

export function interruptedError(): CancelledError {
  return new CancelledError('interrupted; everything the test stopped was restored');
}
