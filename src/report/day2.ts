/**
 * What switchover, maintenance and rollback print: the plan of a dry run (the moves, then every node's actions in
 * init's wording), and after a real run each move (from, to, done or undone, what clients saw) or each node's
 * restore.
 */
import type { Day2Report } from '../apply/day2.js';
import type { RollbackPlan, RollbackReport } from '../apply/rollback.js';
import type { IO } from '../io.js';
import type { Day2Plan } from '../plan/day2.js';
import { printable } from '../printable.js';
import { planToJson, planToText } from './plan.js';
import { table } from './table.js';

const moveRow = (m: Day2Plan['moves'][number]) => [m.target, m.vips.join(' ') || '-', m.from ?? '-', m.to ?? '-'];

/** a day-2 dry run: the moves, then the plan; --json: both, with every node's actions */
export function renderDay2Plan(io: IO, plan: Day2Plan, secrets: readonly string[], json: boolean): void {
  if (json) {
    io.out(
      JSON.stringify(
        { dryRun: true, operation: plan.operation, moves: plan.moves, ...planToJson(plan, secrets, false) },
        null,
        2,
      ),
    );
    return;
  }
  io.out(table(['target', 'VIPs', 'from', 'to'], plan.moves.map(moveRow)));
  io.out(plan.nodes.length ? planToText(plan, secrets, { offline: false, showContent: false }) : 'nothing to do');
  for (const m of plan.moves) for (const n of m.notes) io.err(`note: ${n}`);
  io.err(`${plan.operation} --dry-run: nothing was changed`);
}

export function renderDay2Report(io: IO, r: Day2Report, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(r, null, 2));
    return;
  }
  for (const m of r.moves) for (const l of m.log) io.err(`  ${printable(l)}`);
  io.out(
    table(
      ['target', 'VIPs', 'from', 'to', 'result', 'clients failed'],
      r.moves.map((m) => [
        ...moveRow(m),
        m.result,
        m.clients.reachable ? `${m.clients.failed}/${m.clients.total}` : 'not checked (VIP not reachable from here)',
      ]),
    ),
  );
  for (const m of r.moves) for (const n of m.notes) io.err(`note: ${n}`);
  for (const n of r.nodes.filter((x) => x.restored?.length || x.notRestored)) {
    for (const l of n.restored ?? []) io.err(`${n.node}: undone: ${printable(l)}`);
    if (n.notRestored) io.err(`${n.node}: NOT undone: ${printable(n.notRestored)}`);
  }
}

/** what rollback says before it asks, and what a dry run prints: each node's run */
export function rollbackRuns(plan: RollbackPlan): string[] {
  return Object.entries(plan.runs).map(
    ([n, run]) => `${n}: ${run ? `restore run ${run}` : 'no ha-setup run to restore'}`,
  );
}

export function renderRollbackPlan(io: IO, plan: RollbackPlan, secrets: readonly string[], json: boolean): void {
  if (json) {
    io.out(JSON.stringify({ dryRun: true, runs: plan.runs, ...planToJson(plan, secrets, false) }, null, 2));
    return;
  }
  for (const l of rollbackRuns(plan)) io.err(l);
  if (plan.nodes.length) io.out(planToText(plan, secrets, { offline: false, showContent: false }));
  io.err('rollback --dry-run: nothing was changed');
}

export function renderRollbackReport(io: IO, r: RollbackReport, json: boolean): void {
  if (json) io.out(JSON.stringify(r, null, 2));
  else for (const [n, lines] of Object.entries(r.restored)) io.out(`${n}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
}
