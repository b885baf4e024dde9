/**
 * `ha-setup verify-failover`: preflight (the pair must be healthy), a snapshot of the whole pair, then each scenario
 * on each target's current master (an instance, or a sync group), measured against the bound the configuration
 * implies and restored to the snapshot. The run stops before the next fault when the pair did not come back as it
 * was. Ctrl-C restores what is stopped; a second Ctrl-C says what is left and how to fix it.
 */
import { writeFileSync } from 'node:fs';
import { table } from '../report/table.js';
import { openHostSession } from '../apply/host-session.js';
import { CancelledError, OperationError, PreconditionError, UsageError } from '../errors.js';
import { identities } from '../failover/identify.js';
import { describeDrift, manualFix, pairDrift, sshCommand } from '../failover/pair.js';
import {
  Aborted,
  pendingRestores,
  restorePair,
  runScenario,
  targetsOf,
  type RunEnv,
  type ScenarioResult,
} from '../failover/run.js';
import { boundFeatures, settleTimeoutMs } from '../failover/bounds.js';
import { passwordPrompt } from '../prompts.js';
import { startWaiting } from '../spinner.js';
import { SCENARIOS, type ScenarioName } from '../failover/scenarios.js';
import { URL_RE } from '../answers/schema.js';
import { styler, type IO } from '../io.js';
import { html, strip, svg } from '../report/timeline.js';
import { pairStatus, UNITS, type PairStatus } from '../status/collect.js';
import { loadConfig } from './common.js';
import type { Config } from '../answers/resolve.js';

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

export interface VerifyOptions {
  answers?: string;
  scenario?: string;
  instance?: string;
  maxGap?: string;
  probeUrl?: string;
  probeFrom?: string;
  probeInterval?: string;
  report?: string;
  force?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** "all", one name, or a comma-separated list ("keepalived,crash"): in the order given, each once */
export function parseScenarios(given: string | undefined): ScenarioName[] {
  if (!given || given === 'all') return [...SCENARIOS];
  const names = given.split(',').map((n) => n.trim());
  const bad = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (bad.length)
    throw new UsageError(
      `--scenario: unknown scenario "${bad[0]}" ` +
        `(allowed: ${SCENARIOS.join(', ')}, a comma-separated list of them, or all)`,
    );
  return [...new Set(names as ScenarioName[])];
}

export async function verifyFailoverCommand(io: IO, opts: VerifyOptions): Promise<number> {
  const names = parseScenarios(opts.scenario);
  const cfg = loadConfig(io, opts.answers);
  const st = styler(io);
  const allTargets = targetsOf(cfg);
  const targets = opts.instance
    ? allTargets.filter((t) => t.name === opts.instance || t.instances.some((i) => i.name === opts.instance))
    : allTargets;
  if (!targets.length) {
    throw new UsageError(
      `--instance: unknown instance "${opts.instance}" (instances: ${cfg.instances.map((i) => i.name).join(', ')})`,
    );
  }
  const maxGapMs = opts.maxGap !== undefined ? Number(opts.maxGap) * 1000 : undefined;
  if (maxGapMs !== undefined && (!Number.isFinite(maxGapMs) || maxGapMs <= 0))
    throw new UsageError(`--max-gap: must be a positive number of seconds (got ${opts.maxGap})`);
  const probeIntervalMs = Number(opts.probeInterval ?? 50);
  if (!Number.isInteger(probeIntervalMs) || probeIntervalMs < 10 || probeIntervalMs > 5000)
    throw new UsageError(`--probe-interval: must be 10..5000 ms (got ${opts.probeInterval})`);
  if (opts.probeUrl && !URL_RE.test(opts.probeUrl))
    throw new UsageError(`--probe-url: must be an http(s) URL without quotes or spaces (got ${opts.probeUrl})`);
  if (opts.probeFrom && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(opts.probeFrom))
    throw new UsageError(`--probe-from: must be a node name or host name (got ${opts.probeFrom})`);
  if (opts.report && !/\.(html|svg)$/.test(opts.report))
    throw new UsageError('--report: the file must end in .html or .svg');

  const session = await openHostSession(io, cfg, { lock: true, askPassword: passwordPrompt(io) });
  const abort = new AbortController();
  let signals = 0;
  let snapshotFixes: string[] = [];
  // fix-by-hand lines: the connection's way of becoming root, else the answers' (a user other than root sudoes)
  const sudoOf = (n: string) => {
    const c = session.conns[n];
    return c ? c.sudo !== 'root' : !!cfg.nodes.find((x) => x.name === n)?.sudo;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.err(
        st.yellow(
          `\n${sig}: stopping the test and restoring what it stopped (press Ctrl-C again to leave it as it is)`,
        ),
      );
      abort.abort();
      return;
    }
    io.err(st.red(`${sig} again: NOT restoring. Left as it is:`));
    for (const p of pendingRestores.values()) io.err(`  ${p.describe}: fix with ${p.manual}`);
    if (!pendingRestores.size) io.err('  no scenario fault: every scenario restore had already run');
    io.err('  to bring every node back as the test found it:');
    for (const f of snapshotFixes) io.err(`    ${f}`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results: ScenarioResult[] = [];
  let stopped: VerifyReport['stopped'] = null;
  let run: RunEnv | null = null;
  let completed = false;
  try {
    const snapshot = await pairStatus(cfg, session.conns);
    const wrongHolder = snapshot.vips
      .filter((v) => v.preempt && v.holders.length === 1 && v.holders[0] !== v.master)
      .map((v) => `${v.instance} ${v.vip} is on ${v.holders[0]}, not on its master ${v.master}`);
    if ((!snapshot.ok || wrongHolder.length) && !opts.force) {
      throw new PreconditionError(
        'preflight: the pair is not healthy, so a failover test would prove nothing (use --force to run anyway)',
        [...snapshot.problems, ...wrongHolder],
      );
    }
    snapshotFixes = snapshotRestoreCommands(cfg, snapshot, sudoOf);
    const versions = snapshot.nodes.map((n) => n.keepalivedVersion);
    run = {
      cfg,
      session,
      log: session.log.write,
      progress: (l) => io.err(st.dim(`… ${l}`)),
      waiting: (t) => startWaiting(io, t),
      signal: abort.signal,
      probeUrl: opts.probeUrl,
      probeFrom: opts.probeFrom,
      probeIntervalMs,
      maxGapMs,
      snapshot,
      ids: identities(cfg, snapshot),
      features: boundFeatures(cfg, versions),
    };
    const plan = targets.flatMap((target) => names.map((name) => ({ target, name })));
    for (const [k, { target, name }] of plan.entries()) {
      if (abort.signal.aborted) break;
      // never break a pair that cannot take over: another node must be ready (keepalived up, BACKUP, nginx up)
      if (!opts.force) {
        const ready = await readyToFailOver(
          run,
          target.instances.map((i) => i.name),
        );
        if (ready) {
          stopped = { reason: `not injecting ${name} on ${target.name}: ${ready}`, left: [], fix: [] };
          break;
        }
      }
      try {
        const r = await runScenario(run, target, name);
        results.push(r);
        io.err(
          strip(
            r,
            cfg.nodes.map((n) => n.name),
            { color: io.color },
          ) + '\n',
        );
        if (!r.restored && k < plan.length - 1) {
          stopped = {
            reason:
              `the pair did not come back as it was after ${target.name} ${name}; ` +
              'the remaining scenarios were not run',
            left: r.left,
            fix: [],
          };
          break;
        }
      } catch (e) {
        if (e instanceof Aborted || abort.signal.aborted) break;
        throw e;
      }
    }
    completed = true;
  } finally {
    // anything still pending (an exception or Ctrl-C in the middle): restore now, then the whole pair
    for (const [key, p] of [...pendingRestores]) {
      try {
        const lines = await p.run();
        io.err(`restored ${p.describe}: ${lines.join('; ')}`);
      } catch (e) {
        io.err(st.red(`could not restore ${p.describe}: ${(e as Error).message}; fix by hand: ${p.manual}`));
      }
      pendingRestores.delete(key);
    }
    if (run && (!completed || abort.signal.aborted || stopped)) {
      // after a scenario that already waited its settle time in vain, one more pass (fix, report) is enough
      const waited = results.length > 0 && !results[results.length - 1].restored;
      const settle = Math.max(...cfg.instances.map((i) => settleTimeoutMs(cfg, i)));
      const back = await restorePair(run, waited ? 0 : settle).catch((e: Error) => ({
        log: [`could not check the pair: ${e.message}`],
        left: [],
      }));
      for (const l of back.log) io.err(`restore: ${l}`);
      if (back.left.length) {
        const fix = back.left.flatMap((d) => {
          const m = manualFix(
            d,
            cfg.nodes.find((n) => n.name === d.node),
            sudoOf(d.node),
          );
          return m ? [m] : [];
        });
        stopped = {
          reason: stopped?.reason ?? 'the pair is not as the test found it',
          left: back.left.map(describeDrift),
          fix,
        };
      } else if (stopped) stopped.left = [];
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.end();
  }

  const nodes = cfg.nodes.map((n) => n.name);
  if (opts.report) {
    writeFileSync(opts.report, opts.report.endsWith('.svg') ? svg(results, nodes) : html(results, nodes));
    io.err(`report: ${opts.report}`);
  }
  const summary = results.map(({ timeline: _timeline, restoreLog, ...r }) => (opts.verbose ? { ...r, restoreLog } : r));
  const ok = results.length > 0 && results.every((r) => r.ok) && !abort.signal.aborted && !stopped;
  if (opts.json) {
    const report: VerifyReport = { ok, maxGapMs: maxGapMs ?? null, margin: MARGIN_TEXT, scenarios: summary, stopped };
    io.out(JSON.stringify(report, null, 2));
  } else {
    io.out(
      table(
        [
          'instance',
          'scenario',
          'from',
          'to',
          'gap',
          'bound',
          'new holder',
          'failed',
          'split brain',
          'restored',
          'VIP after',
          'result',
        ],
        results.map((r) => [
          r.instance,
          r.name,
          r.masterBefore,
          r.masterAfter ?? '-',
          r.gapMs === null ? 'never' : `${(r.gapMs / 1000).toFixed(2)} s`,
          `${(r.expectedMaxMs / 1000).toFixed(2)} s`,
          r.timeToHolderMs === null ? '-' : `${(r.timeToHolderMs / 1000).toFixed(2)} s`,
          `${r.failedProbes}/${r.totalProbes}`,
          `${r.splitBrainMs} ms`,
          r.restored ? 'yes' : 'NO',
          r.holderAfterRestore.join(' ') || 'none',
          r.ok ? 'ok' : 'FAIL',
        ]),
      ),
    );
    io.out(
      'bound: the worst case the configuration implies; a gap fails above ' +
        (maxGapMs !== undefined ? `--max-gap ${maxGapMs / 1000} s` : MARGIN_TEXT),
    );
  }
  for (const r of results.filter((x) => x.notes.length)) io.err(`${r.instance} ${r.name}: ${r.notes.join('; ')}`);
  for (const r of results.filter((x) => !x.ok)) io.err(st.red(`${r.instance} ${r.name}: ${r.reasons.join('; ')}`));
  if (stopped) {
    io.err(st.red(`stopped: ${stopped.reason}`));
    for (const l of stopped.left) io.err(st.red(`  left: ${l}`));
    for (const f of stopped.fix) io.err(`  fix: ${f}`);
  }
  if (abort.signal.aborted) throw new CancelledError('interrupted; everything the test stopped was restored');
  const bad = results.filter((r) => !r.ok);
  if (stopped) throw new OperationError(`verify-failover stopped: ${stopped.reason}`);
  if (bad.length) throw new OperationError(`${bad.length} of ${results.length} scenario(s) failed`);
  return 0;
}

export const MARGIN_TEXT = "the bound + 0.5 s + 20 % (probe timing, ARP, the new master's first answers)";

/** null when another node can take over the target's VIPs now; else why not */
async function readyToFailOver(run: RunEnv, instances: string[]): Promise<string | null> {
  const now = await pairStatus(run.cfg, run.session.conns);
  const drift = pairDrift(run.snapshot, now, run.cfg);
  if (drift.length) return `the pair is not as before the test: ${drift.map(describeDrift).join('; ')}`;
  for (const name of instances) {
    const v = now.vips.find((x) => x.instance === name);
    const holder = v?.holders[0];
    const ready = now.nodes.filter(
      (n) =>
        n.node !== holder &&
        n.reachable &&
        n.keepalived === 'active' &&
        n.nginx === 'active' &&
        n.instances.some((i) => i.name === name && i.state === 'BACKUP'),
    );
    if (!ready.length)
      return `no node is ready to take ${name} over from ${holder ?? 'nobody'} (none is BACKUP with nginx up)`;
  }
  return null;
}

/** by hand, per node: everything that ran before started again, links up (printed on a second Ctrl-C) */
function snapshotRestoreCommands(cfg: Config, snapshot: PairStatus, sudoOf: (node: string) => boolean): string[] {
  return snapshot.nodes.flatMap((n) => {
    const node = cfg.nodes.find((x) => x.name === n.node);
    if (!node || !n.reachable) return [];
    const units = UNITS.filter((u) => n.units[u].active === 'active');
    const links = Object.entries(n.links).filter(([i, up]) => up && i === node.interface);
    const parts = [
      ...units.map((u) => `systemctl unmask --runtime ${u} 2>/dev/null; systemctl start ${u}`),
      ...links.map(([i]) => `ip link set dev ${i} up`),
    ];
    if (!parts.length) return [];
    return [sshCommand(node, parts.join('; '), sudoOf(node.name))];
  });
}
