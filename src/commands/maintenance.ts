/** `ha-setup maintenance NODE on|off`: drain a node (its VIPs handed over, FAULT until off), or put it back. */
import type { IO } from '../io.js';
import { openHostSession } from '../apply/session.js';
import { targetsOf, vipsOf } from '../answers/targets.js';
import { UsageError } from '../errors.js';
import { watchClients, type ClientView } from '../observe/clients.js';
import { maintenanceOff, maintenanceOn, type MoveResult } from '../pair/switchover.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderMoves } from '../report/day2.js';
import { loadConfig, lockRequest } from './common.js';

export async function maintenanceCommand(
  io: IO,
  node: string,
  state: string,
  opts: { answers?: string; json?: boolean; waitLock?: string },
): Promise<number> {
  if (state !== 'on' && state !== 'off')
    throw new UsageError(`maintenance: the state must be on or off (got "${state}")`);
  const cfg = loadConfig(io, opts.answers);
  if (!cfg.nodes.some((n) => n.name === node))
    throw new UsageError(`maintenance: unknown node "${node}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const lock = lockRequest(io, `maintenance ${node} ${state}`, 300, opts.waitLock);
  const s = await openHostSession(io, cfg, { lock, askPassword: passwordPrompt(io) });
  let moves: (MoveResult & { clients: ClientView })[];
  try {
    const env = { cfg, conns: s.conns, progress: (l: string) => io.err(`… ${l}`) };
    // clients through each target's VIP (every target may move: the node may hold any of them)
    const targets = targetsOf(cfg);
    const watches = await Promise.all(targets.map((t) => watchClients(vipsOf(t)[0])));
    const stopAll = () => Promise.all(watches.map((w) => w.stop()));
    const run = state === 'on' ? maintenanceOn(env, node) : maintenanceOff(env, node);
    const r = await run.catch(async (e: unknown) => {
      await stopAll();
      throw e;
    });
    const views = await stopAll();
    moves = r.map((m) => ({
      ...m,
      clients:
        views[
          Math.max(
            0,
            targets.findIndex((t) => t.name === m.target),
          )
        ],
    }));
  } finally {
    s.end();
  }
  renderMoves(io, `maintenance ${state}`, moves, !!opts.json);
  if (state === 'on')
    io.err(
      `${node} is in maintenance: it holds no VIP and takes none, across keepalived restarts and reboots, until ` +
        `\`ha-setup maintenance ${node} off\`. You may stop nginx, patch, reboot.`,
    );
  return 0;
}
