/** What switchover and maintenance print: each move (from, to, what was done) and what clients saw. */
import type { ClientView } from '../observe/clients.js';
import type { MoveResult } from '../pair/switchover.js';
import type { IO } from '../io.js';
import { table } from './table.js';

export function renderMoves(io: IO, what: string, moves: (MoveResult & { clients: ClientView })[], json: boolean) {
  if (json) {
    io.out(JSON.stringify({ ok: true, operation: what, moves }, null, 2));
    return;
  }
  for (const m of moves) for (const l of m.log) io.err(`  ${l}`);
  io.out(
    table(
      ['target', 'VIPs', 'from', 'to', 'clients failed'],
      moves.map((m) => [
        m.target,
        m.vips.join(' ') || '-',
        m.from ?? '-',
        m.to ?? '-',
        m.clients.reachable ? `${m.clients.failed}/${m.clients.total}` : 'not checked (VIP not reachable from here)',
      ]),
    ),
  );
  for (const m of moves) for (const n of m.notes) io.err(`note: ${n}`);
}
