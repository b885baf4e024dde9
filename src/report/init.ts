/** What `init` prints when it ran: a table of the nodes on stdout (or the JSON report), problems on stderr. */
import type { Config } from '../answers/resolve.js';
import { redact } from '../answers/resolve.js';
import type { InitReport } from '../apply/init.js';
import { styler, type IO } from '../io.js';
import { PATHS } from '../paths.js';
import { printable } from '../printable.js';
import { table } from './table.js';

export function renderInitReport(io: IO, report: InitReport, cfg: Config, json: boolean): void {
  const safe: InitReport = {
    ...report,
    nodes: report.nodes.map((n) => ({ ...n, actions: n.actions.map((a) => redact(a, cfg.secrets)) })),
  };
  if (json) {
    io.out(JSON.stringify(safe, null, 2));
    return;
  }
  const st = styler(io);
  const rows = safe.nodes.map((n) => [
    n.node,
    n.host,
    n.role,
    String(n.changes),
    n.holds.join(' ') || '-',
    resultOf(n),
  ]);
  io.out(table(['node', 'host', 'role', 'changes', 'holds VIP', 'result'], rows));
  for (const w of report.warnings) io.err(st.yellow(`warning: ${w}`));
  // a failure's text quotes the host's error output: control characters escaped
  for (const f of report.nodes.filter((n) => !n.ok)) {
    io.err(st.red(`${f.node}: ${printable(f.error ?? 'not run: the rolling phase stopped after a failure')}`));
    for (const x of f.restored ?? []) io.err(`  ${printable(x)}`);
    if (f.notRestored) io.err(st.red(`  NOT restored: ${printable(f.notRestored)}`));
  }
  for (const p of report.problems.filter((x) => !report.nodes.some((n) => x.startsWith(`${n.node}: `))))
    io.err(st.red(printable(p)));
  io.err(`log: ${report.log}   backups on each node: ${PATHS.backupRoot}/${report.runId}/`);
}

/** a node's result in the table: ok, FAILED or interrupted and whether what it left half done was put back */
function resultOf(n: InitReport['nodes'][number]): string {
  if (n.ok) return 'ok';
  if (!n.ran) return 'not run';
  const what = n.interrupted ? 'interrupted' : 'FAILED';
  return n.notRestored ? `${what} (NOT restored)` : `${what} (restored)`;
}
