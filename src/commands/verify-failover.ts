/** `ha-setup verify-failover`: options checked, the run (failover/verify.ts), its report rendered. */
import { writeFileSync } from 'node:fs';
import { targetsOf } from '../answers/targets.js';
import type { Config } from '../answers/resolve.js';
import { URL_RE } from '../answers/schema.js';
import { OperationError, UsageError } from '../errors.js';
import { interruptedError, runVerify } from '../failover/verify.js';
import { SCENARIOS, type ScenarioName } from '../failover/scenarios.js';
import type { IO } from '../io.js';
import { html, svg } from '../report/timeline.js';
import { renderVerify, scenarioStrip } from '../report/verify.js';
import { loadConfig, lockRequest } from './common.js';

export type { VerifyReport } from '../failover/verify.js';

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
  waitLock?: string;
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

/** probes every 50 ms, every 10 ms on an ultra pair (its failovers take under 100 ms) */
export function defaultProbeIntervalMs(profile: Config['profile']): number {
  return profile === 'ultra' ? 10 : 50;
}

function parseOptions(opts: VerifyOptions, profile: Config['profile']) {
  const maxGapMs = opts.maxGap !== undefined ? Number(opts.maxGap) * 1000 : undefined;
  if (maxGapMs !== undefined && (!Number.isFinite(maxGapMs) || maxGapMs <= 0))
    throw new UsageError(`--max-gap: must be a positive number of seconds (got ${opts.maxGap})`);
  const probeIntervalMs = Number(opts.probeInterval ?? defaultProbeIntervalMs(profile));
  if (!Number.isInteger(probeIntervalMs) || probeIntervalMs < 10 || probeIntervalMs > 5000)
    throw new UsageError(`--probe-interval: must be 10..5000 ms (got ${opts.probeInterval})`);
  if (opts.probeUrl && !URL_RE.test(opts.probeUrl))
    throw new UsageError(`--probe-url: must be an http(s) URL without quotes or spaces (got ${opts.probeUrl})`);
  if (opts.probeFrom && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(opts.probeFrom))
    throw new UsageError(`--probe-from: must be a node name or host name (got ${opts.probeFrom})`);
  if (opts.report && !/\.(html|svg)$/.test(opts.report))
    throw new UsageError('--report: the file must end in .html or .svg');
  return { maxGapMs, probeIntervalMs };
}

export async function verifyFailoverCommand(io: IO, opts: VerifyOptions): Promise<number> {
  const names = parseScenarios(opts.scenario);
  const lock = lockRequest(io, 'verify-failover', 1800, opts.waitLock);
  const cfg = loadConfig(io, opts.answers);
  const all = targetsOf(cfg);
  const targets = opts.instance
    ? all.filter((t) => t.name === opts.instance || t.instances.some((i) => i.name === opts.instance))
    : all;
  if (!targets.length)
    throw new UsageError(
      `--instance: unknown instance "${opts.instance}" (instances: ${cfg.instances.map((i) => i.name).join(', ')})`,
    );
  const { maxGapMs, probeIntervalMs } = parseOptions(opts, cfg.profile);
  const nodes = cfg.nodes.map((n) => n.name);
  const o = await runVerify(io, cfg, {
    names,
    targets,
    maxGapMs,
    probeUrl: opts.probeUrl,
    probeFrom: opts.probeFrom,
    probeIntervalMs,
    force: !!opts.force,
    lock,
    onResult: (r) => scenarioStrip(io, r, nodes),
  });
  if (opts.report) {
    writeFileSync(opts.report, opts.report.endsWith('.svg') ? svg(o.results, nodes) : html(o.results, nodes));
    io.err(`report: ${opts.report}`);
  }
  renderVerify(io, o, { json: !!opts.json, maxGapMs, verbose: !!opts.verbose });
  if (o.interrupted) throw interruptedError();
  const bad = o.results.filter((r) => !r.ok);
  if (o.stopped) throw new OperationError(`verify-failover stopped: ${o.stopped.reason}`);
  if (bad.length) throw new OperationError(`${bad.length} of ${o.results.length} scenario(s) failed`);
  return 0;
}
