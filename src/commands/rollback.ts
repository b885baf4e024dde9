/** `ha-setup rollback`: restore the last ha-setup run's backups on each node (or --run ID). */
import { latestRun, restoreRun } from '../apply/restore.js';
import { openHostSession } from '../apply/session.js';
import { CancelledError, OperationError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { PATHS } from '../paths.js';
import { passwordPrompt } from '../password-prompt.js';
import { inquirerPrompter } from '../wizard/prompter.js';
import { loadConfig, lockRequest } from './common.js';

export async function rollbackCommand(
  io: IO,
  opts: { answers?: string; run?: string; node?: string; yes?: boolean; json?: boolean; waitLock?: string },
): Promise<number> {
  const cfg = loadConfig(io, opts.answers);
  if (opts.run && !/^\d{8}T\d{6}Z-[a-z0-9]+$/.test(opts.run))
    throw new UsageError(`--run: "${opts.run}" is not a run id (like 20261122T021500Z-ab12)`);
  if (opts.node && !cfg.nodes.some((n) => n.name === opts.node))
    throw new UsageError(`--node: unknown node "${opts.node}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const lock = lockRequest(io, 'rollback', 600, opts.waitLock);
  const session = await openHostSession(io, cfg, { lock, askPassword: passwordPrompt(io) });
  try {
    const targets = cfg.nodes.filter((n) => !opts.node || n.name === opts.node);
    const runs: Record<string, string | null> = {};
    for (const n of targets) runs[n.name] = opts.run ?? (await latestRun(session.conns[n.name]));
    for (const n of targets)
      io.err(`${n.name}: ${runs[n.name] ? `restore run ${runs[n.name]}` : 'no ha-setup run to restore'}`);
    if (!Object.values(runs).some(Boolean)) return 0;
    if (!opts.yes) {
      if (!io.stdinIsTTY)
        throw new UsageError('rollback changes the hosts: confirm with --yes when there is no terminal');
      const ok = await (await inquirerPrompter()).confirm({ message: 'Restore these backups now?', default: false });
      if (!ok) throw new CancelledError('nothing changed (not confirmed)');
    }
    const result: Record<string, string[]> = {};
    const failures: string[] = [];
    await Promise.all(
      targets.map(async (n) => {
        const run = runs[n.name];
        if (!run) return;
        try {
          result[n.name] = await restoreRun(session.conns[n.name], `${PATHS.backupRoot}/${run}`);
        } catch (e) {
          failures.push(`${n.name}: ${(e as Error).message}`);
        }
      }),
    );
    if (opts.json) io.out(JSON.stringify({ runs, restored: result, failures }, null, 2));
    else for (const [n, lines] of Object.entries(result)) io.out(`${n}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    if (failures.length) throw new OperationError('rollback failed on some nodes', failures);
    return 0;
  } finally {
    session.end();
  }
}
