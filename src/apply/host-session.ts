/**
 * A session for acting on hosts: the transport session (connected, root or sudo on every node), a runner per node,
 * optionally each host's ha-setup lock and its facts. Any failure here is a precondition refusal: nothing has been
 * changed on any host yet.
 */
import type { Config } from '../answers/resolve.js';
import { PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import type { Facts } from '../plan/types.js';
import { openSession, type Session, type SessionOptions } from '../ssh/session.js';
import { HostRunner } from './host.js';

export interface HostSession extends Session {
  runners: Record<string, HostRunner>;
  facts: Record<string, Facts>;
  /** unlock every host and close every connection */
  end(): void;
}

export async function openHostSession(
  io: IO,
  cfg: Config,
  opts: SessionOptions & { lock?: boolean; facts?: boolean } = {},
): Promise<HostSession> {
  const session = await openSession(io, cfg, opts);
  const runners: Record<string, HostRunner> = {};
  for (const n of cfg.nodes) runners[n.name] = new HostRunner(session.conns[n.name], cfg, n, session.runId);
  const facts: Record<string, Facts> = {};
  const end = () => {
    Object.values(runners).forEach((r) => r.unlock());
    session.close();
  };
  try {
    if (opts.lock) {
      const locks = await Promise.allSettled(cfg.nodes.map((n) => runners[n.name].lock()));
      const lp = locks.flatMap((l) => (l.status === 'rejected' ? [(l.reason as Error).message] : []));
      if (lp.length) throw new PreconditionError('a node is busy; nothing was changed', lp);
    }
    if (opts.facts) {
      const fs = await Promise.all(cfg.nodes.map((n) => runners[n.name].facts()));
      cfg.nodes.forEach((n, i) => (facts[n.name] = fs[i]));
    }
  } catch (e) {
    end();
    throw e;
  }
  // a node reconnected (verify-failover's link scenario drops the connection, and with it the lock's channel): its
  // runner moves to the new connection and takes the host's lock again
  const reconnect: Session['reconnect'] = async (node, o) => {
    const c = await session.reconnect(node, o);
    const old = runners[node.name];
    if (old && old.conn !== c) {
      const had = old.locked;
      old.unlock();
      const r = new HostRunner(c, cfg, node, session.runId);
      runners[node.name] = r;
      if (had) {
        await r
          .lock({ takeOver: true })
          .catch((e: Error) => io.err(`${node.name}: the ha-setup lock could not be taken again: ${e.message}`));
      }
    }
    return c;
  };
  return { ...session, reconnect, runners, facts, end };
}
