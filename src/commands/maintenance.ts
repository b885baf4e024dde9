/** `ha-setup maintenance NODE on|off`: drain a node (its VIPs handed over, FAULT until off), or put it back. */
import type { IO } from '../io.js';
import { runDay2 } from '../apply/day2.js';
import { UsageError } from '../errors.js';
import { maintenanceOffPlan, maintenanceOnPlan } from '../plan/day2.js';
import { passwordPrompt } from '../password-prompt.js';
import { day2Result, loadConfig, lockRequest, progressRenderer } from './common.js';

export async function maintenanceCommand(
  io: IO,
  node: string,
  state: string,
  opts: { answers?: string; json?: boolean; waitLock?: string; dryRun?: boolean },
): Promise<number> {
  if (state !== 'on' && state !== 'off')
    throw new UsageError(`maintenance: the state must be on or off (got "${state}")`);
  const cfg = loadConfig(io, opts.answers);
  if (!cfg.nodes.some((n) => n.name === node))
    throw new UsageError(`maintenance: unknown node "${node}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const lock = lockRequest(io, `maintenance ${node} ${state}`, 300, opts.waitLock);
  const build = state === 'on' ? maintenanceOnPlan : maintenanceOffPlan;
  const out = await runDay2(io, cfg, (pf) => build(cfg, pf, node), {
    dryRun: !!opts.dryRun,
    lock,
    renderer: progressRenderer(io, !!opts.json),
    askPassword: passwordPrompt(io),
  });
  const code = day2Result(io, cfg, out, !!opts.json);
  if (state === 'on' && out.kind === 'run')
    io.err(
      `${node} is in maintenance: it holds no VIP and takes none, across keepalived restarts and reboots, until ` +
        `\`ha-setup maintenance ${node} off\`. You may stop nginx, patch, reboot.`,
    );
  return code;
}
