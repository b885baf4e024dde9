/** `ha-setup switchover`: move a target's VIPs to another ready node without a failed request (a plan, run). */
import type { IO } from '../io.js';
import { runDay2 } from '../apply/day2.js';
import { UsageError } from '../errors.js';
import { targetsToMove } from '../pair/switchover.js';
import { switchoverPlan } from '../plan/day2.js';
import { passwordPrompt } from '../password-prompt.js';
import { day2Result, loadConfig, lockRequest, progressRenderer } from './common.js';

export interface SwitchoverOptions {
  answers?: string;
  instance?: string;
  all?: boolean;
  to?: string;
  json?: boolean;
  waitLock?: string;
  dryRun?: boolean;
}

export async function switchoverCommand(io: IO, opts: SwitchoverOptions): Promise<number> {
  if (opts.instance && opts.all) throw new UsageError('--instance and --all: give one of them');
  const cfg = loadConfig(io, opts.answers);
  if (opts.to && !cfg.nodes.some((n) => n.name === opts.to))
    throw new UsageError(`--to: unknown node "${opts.to}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const targets = targetsToMove(cfg, opts);
  const lock = lockRequest(io, 'switchover', 300, opts.waitLock);
  const out = await runDay2(io, cfg, (pf) => switchoverPlan(cfg, pf, targets, opts.to), {
    dryRun: !!opts.dryRun,
    lock,
    renderer: progressRenderer(io, !!opts.json),
    askPassword: passwordPrompt(io),
  });
  return day2Result(io, cfg, out, !!opts.json);
}
