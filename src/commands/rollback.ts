/** `ha-setup rollback`: restore the last ha-setup run's backups on each node (or --run ID); --dry-run lists it. */
import { runRollback, type RollbackPlan } from '../apply/rollback.js';
import { CancelledError, OperationError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderRollbackPlan, renderRollbackReport, rollbackRuns } from '../report/day2.js';
import { inquirerPrompter } from '../wizard/prompter.js';
import { loadConfig, lockRequest, progressRenderer } from './common.js';

export async function rollbackCommand(
  io: IO,
  opts: {
    answers?: string;
    run?: string;
    node?: string;
    yes?: boolean;
    json?: boolean;
    waitLock?: string;
    dryRun?: boolean;
  },
): Promise<number> {
  const cfg = loadConfig(io, opts.answers);
  if (opts.run && !/^\d{8}T\d{6}Z-[a-z0-9]+$/.test(opts.run))
    throw new UsageError(`--run: "${opts.run}" is not a run id (like 20261122T021500Z-ab12)`);
  if (opts.node && !cfg.nodes.some((n) => n.name === opts.node))
    throw new UsageError(`--node: unknown node "${opts.node}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const confirm = async (plan: RollbackPlan): Promise<boolean> => {
    for (const l of rollbackRuns(plan)) io.err(l);
    if (opts.yes) return true;
    if (!io.stdinIsTTY)
      throw new UsageError('rollback changes the hosts: confirm with --yes when there is no terminal');
    return (await inquirerPrompter()).confirm({ message: 'Restore these backups now?', default: false });
  };
  const out = await runRollback(io, cfg, {
    run: opts.run,
    node: opts.node,
    dryRun: !!opts.dryRun,
    lock: lockRequest(io, 'rollback', 600, opts.waitLock),
    renderer: progressRenderer(io, !!opts.json),
    askPassword: passwordPrompt(io),
    confirm,
  });
  if (out.kind === 'plan') {
    renderRollbackPlan(io, out.plan, cfg.secrets, !!opts.json);
    return 0;
  }
  if (out.kind === 'cancelled') throw new CancelledError('nothing changed (not confirmed)');
  if (!out.plan.nodes.length) {
    for (const l of rollbackRuns(out.plan)) io.err(l);
    return 0;
  }
  renderRollbackReport(io, out.report, !!opts.json);
  if (out.report.failures.length) throw new OperationError('rollback failed on some nodes', out.report.failures);
  if (out.report.interrupted) throw new CancelledError('interrupted; the restores in progress were finished');
  return 0;
}
