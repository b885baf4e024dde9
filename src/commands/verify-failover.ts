/**
 * `ha-setup verify-failover`: preflight (the pair must be healthy), then each scenario on each instance's master,
 * measured and restored. Ctrl-C restores what is stopped; a second Ctrl-C says what is left and how to fix it.
 */
import { writeFileSync } from 'node:fs';
import { table } from '../report/table.js';
import { openSession } from '../ssh/session.js';
import { CancelledError, OperationError, PreconditionError, UsageError } from '../errors.js';
import { Aborted, pendingRestores, runScenario, type RunEnv, type ScenarioResult } from '../failover/run.js';
import { SCENARIOS, type ScenarioName } from '../failover/scenarios.js';
import { URL_RE } from '../answers/schema.js';
import { styler, type IO } from '../io.js';
import { html, strip, svg } from '../report/timeline.js';
import { pairStatus } from '../status/collect.js';
import { loadConfig } from './common.js';

/** what `verify-failover --json` prints */
export interface VerifyReport {
  ok: boolean;
  maxGapMs: number;
  scenarios: (Omit<ScenarioResult, 'timeline' | 'restoreLog'> & { restoreLog?: string[] })[];
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

export function defaultMaxGapMs(profile: 'standard' | 'fast'): number {
  return profile === 'fast' ? 2000 : 6000;
}

export async function verifyFailoverCommand(io: IO, opts: VerifyOptions): Promise<number> {
  const names = parseScenarios(opts.scenario);
  const cfg = loadConfig(io, opts.answers);
  const st = styler(io);
  const instances = opts.instance ? cfg.instances.filter((i) => i.name === opts.instance) : cfg.instances;
  if (!instances.length)
    throw new UsageError(
      `--instance: unknown instance "${opts.instance}" (instances: ${cfg.instances.map((i) => i.name).join(', ')})`,
    );
  const maxGapMs = opts.maxGap !== undefined ? Number(opts.maxGap) * 1000 : defaultMaxGapMs(cfg.profile);
  if (!Number.isFinite(maxGapMs) || maxGapMs <= 0)
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

  const session = await openSession(io, cfg, { lock: true, facts: false });
  const abort = new AbortController();
  let signals = 0;
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
    if (!pendingRestores.size) io.err('  nothing: every restore had already run');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results: ScenarioResult[] = [];
  try {
    const pre = await pairStatus(cfg, session.conns);
    const wrongHolder = pre.vips
      .filter((v) => v.preempt && v.holders.length === 1 && v.holders[0] !== v.master)
      .map((v) => `${v.instance} ${v.vip} is on ${v.holders[0]}, not on its master ${v.master}`);
    if ((!pre.ok || wrongHolder.length) && !opts.force) {
      throw new PreconditionError(
        'preflight: the pair is not healthy, so a failover test would prove nothing (use --force to run anyway)',
        [...pre.problems, ...wrongHolder],
      );
    }
    const run: RunEnv = {
      cfg,
      conns: session.conns,
      env: io.env,
      log: session.log.write,
      progress: (l) => io.err(st.dim(`… ${l}`)),
      signal: abort.signal,
      probeUrl: opts.probeUrl,
      probeFrom: opts.probeFrom,
      probeIntervalMs,
      maxGapMs,
    };
    const plan = instances.flatMap((inst) => names.map((name) => ({ inst, name })));
    for (const [k, { inst, name }] of plan.entries()) {
      if (abort.signal.aborted) break;
      try {
        const r = await runScenario(run, inst, name);
        results.push(r);
        io.err(
          strip(
            r,
            cfg.nodes.map((n) => n.name),
            { color: io.color },
          ) + '\n',
        );
      } catch (e) {
        if (e instanceof Aborted || abort.signal.aborted) break;
        throw e;
      }
      // recovery between scenarios: the pair must be whole again before the next fault
      if (!abort.signal.aborted && k < plan.length - 1) {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const s = await pairStatus(cfg, session.conns);
          if (s.ok) break;
          if (Date.now() > deadline) {
            io.err(st.red(`the pair did not recover after ${name}: ${s.problems.join('; ')}`));
            break;
          }
          await new Promise((res) => setTimeout(res, 500));
        }
      }
    }
  } finally {
    // anything still pending (an exception or Ctrl-C in the middle): restore now
    for (const [key, p] of [...pendingRestores]) {
      try {
        const lines = await p.run();
        io.err(`restored ${p.describe}: ${lines.join('; ')}`);
      } catch (e) {
        io.err(st.red(`could not restore ${p.describe}: ${(e as Error).message}; fix by hand: ${p.manual}`));
      }
      pendingRestores.delete(key);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    Object.values(session.runners).forEach((r) => r.unlock());
    session.close();
  }

  const nodes = cfg.nodes.map((n) => n.name);
  if (opts.report) {
    writeFileSync(opts.report, opts.report.endsWith('.svg') ? svg(results, nodes) : html(results, nodes));
    io.err(`report: ${opts.report}`);
  }
  const summary = results.map(({ timeline: _timeline, restoreLog, ...r }) => (opts.verbose ? { ...r, restoreLog } : r));
  if (opts.json)
    io.out(
      JSON.stringify(
        {
          ok: results.length > 0 && results.every((r) => r.ok) && !abort.signal.aborted,
          maxGapMs,
          scenarios: summary,
        } satisfies VerifyReport,
        null,
        2,
      ),
    );
  else {
    io.out(
      table(
        [
          'instance',
          'scenario',
          'from',
          'to',
          'gap',
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
          r.timeToHolderMs === null ? '-' : `${(r.timeToHolderMs / 1000).toFixed(2)} s`,
          `${r.failedProbes}/${r.totalProbes}`,
          `${r.splitBrainMs} ms`,
          r.restored ? 'yes' : 'NO',
          r.holderAfterRestore.join(' ') || 'none',
          r.ok ? 'ok' : 'FAIL',
        ]),
      ),
    );
  }
  for (const r of results.filter((x) => !x.ok)) io.err(st.red(`${r.instance} ${r.name}: ${r.reasons.join('; ')}`));
  if (abort.signal.aborted) throw new CancelledError('interrupted; everything the test stopped was restored');
  const bad = results.filter((r) => !r.ok);
  if (bad.length) throw new OperationError(`${bad.length} of ${results.length} scenario(s) failed`);
  return 0;
}
