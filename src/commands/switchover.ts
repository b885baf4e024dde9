/** `ha-setup switchover`: move a target's VIPs to another ready node without a failed request. */
import type { IO } from '../io.js';
import { openHostSession } from '../apply/session.js';
import { UsageError } from '../errors.js';
import { vipsOf } from '../answers/targets.js';
import { watchClients, type ClientView } from '../observe/clients.js';
import { switchover, targetsToMove, type MoveResult } from '../pair/switchover.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderMoves } from '../report/day2.js';
import { loadConfig, lockRequest } from './common.js';

export interface SwitchoverOptions {
  answers?: string;
  instance?: string;
  all?: boolean;
  to?: string;
  json?: boolean;
  waitLock?: string;
}

export async function switchoverCommand(io: IO, opts: SwitchoverOptions): Promise<number> {
  if (opts.instance && opts.all) throw new UsageError('--instance and --all: give one of them');
  const cfg = loadConfig(io, opts.answers);
  if (opts.to && !cfg.nodes.some((n) => n.name === opts.to))
    throw new UsageError(`--to: unknown node "${opts.to}" (nodes: ${cfg.nodes.map((n) => n.name).join(', ')})`);
  const targets = targetsToMove(cfg, opts);
  const lock = lockRequest(io, 'switchover', 300, opts.waitLock);
  const s = await openHostSession(io, cfg, { lock, askPassword: passwordPrompt(io) });
  const moves: (MoveResult & { clients: ClientView })[] = [];
  try {
    const env = { cfg, conns: s.conns, progress: (l: string) => io.err(`… ${l}`) };
    for (const t of targets) {
      const clients = await watchClients(vipsOf(t)[0]);
      const r = await switchover(env, t, opts.to).catch(async (e: unknown) => {
        await clients.stop();
        throw e;
      });
      moves.push({ ...r, clients: await clients.stop() });
    }
  } finally {
    s.end();
  }
  renderMoves(io, 'switchover', moves, !!opts.json);
  return 0;
}
