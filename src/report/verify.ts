/** What verify-failover prints: a table of the scenarios on stdout (or the JSON report), reasons on stderr. */
import type { ScenarioResult } from '../failover/run.js';
import { MARGIN_TEXT, type VerifyOutcome, type VerifyReport } from '../failover/verify.js';
import { styler, type IO } from '../io.js';
import { table } from './table.js';
import { strip } from './timeline.js';

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function verifyReport(o: VerifyOutcome, maxGapMs: number | undefined, verbose: boolean): VerifyReport {
  const scenarios = o.results.map(({ timeline: _t, restoreLog, ...r }) => (verbose ? { ...r, restoreLog } : r));
  const ok = o.results.length > 0 && o.results.every((r) => r.ok) && !o.interrupted && !o.stopped;
  return { ok, maxGapMs: maxGapMs ?? null, margin: MARGIN_TEXT, scenarios, stopped: o.stopped };
}

function row(r: ScenarioResult): string[] {
  return [
    r.instance,
    r.name,
    r.masterBefore,
    r.masterAfter ?? '-',
    r.gapMs === null ? 'never' : sec(r.gapMs),
    sec(r.expectedMaxMs),
    r.timeToHolderMs === null ? '-' : sec(r.timeToHolderMs),
    `${r.failedProbes}/${r.totalProbes}`,
    `${r.splitBrainMs} ms`,
    r.return ? `${r.return.failedProbes}/${r.return.totalProbes}` : '-',
    r.restored ? 'yes' : 'NO',
    r.holderAfterRestore.join(' ') || 'none',
    r.ok ? 'ok' : 'FAIL',
  ];
}

/** a target with several VIPs (both address families, a sync group): one row more per VIP, its own probe's figures */
function rows(r: ScenarioResult): string[][] {
  if (r.perVip.length < 2) return [row(r)];
  return [
    row(r),
    ...r.perVip.map((v) => [
      `  ${v.vip}`,
      '',
      '',
      '',
      v.gapMs === null ? 'never' : sec(v.gapMs),
      '',
      '',
      `${v.failedProbes}/${v.totalProbes}`,
      '',
      v.returnFailed === null ? '-' : String(v.returnFailed),
      '',
      '',
      '',
    ]),
  ];
}

/** one scenario's timeline strip, printed as it ends */
export function scenarioStrip(io: IO, r: ScenarioResult, nodes: string[]): void {
  io.err(strip(r, nodes, { color: io.color }) + '\n');
}

export function renderVerify(
  io: IO,
  o: VerifyOutcome,
  opts: { json: boolean; maxGapMs?: number; verbose: boolean },
): void {
  const st = styler(io);
  if (opts.json) io.out(JSON.stringify(verifyReport(o, opts.maxGapMs, opts.verbose), null, 2));
  else {
    const head = ['instance', 'scenario', 'from', 'to', 'gap', 'bound', 'new holder', 'failed'];
    io.out(
      table([...head, 'split brain', 'return failed', 'restored', 'VIP after', 'result'], o.results.flatMap(rows)),
    );
    io.out(
      'bound: the worst case the configuration implies; a gap fails above ' +
        (opts.maxGapMs !== undefined ? `--max-gap ${opts.maxGapMs / 1000} s` : MARGIN_TEXT) +
        '; return: the VIPs given back to their master afterwards, a planned move',
    );
  }
  for (const r of o.results.filter((x) => x.notes.length)) io.err(`${r.instance} ${r.name}: ${r.notes.join('; ')}`);
  for (const r of o.results.filter((x) => !x.ok)) io.err(st.red(`${r.instance} ${r.name}: ${r.reasons.join('; ')}`));
  if (o.stopped) {
    io.err(st.red(`stopped: ${o.stopped.reason}`));
    for (const l of o.stopped.left) io.err(st.red(`  left: ${l}`));
    for (const f of o.stopped.fix) io.err(`  fix: ${f}`);
  }
}
