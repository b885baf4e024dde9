/**
 * A session for changing hosts: the transport session (connected, root or sudo on every node), a runner per node,
 * each host's ha-setup lock, and the facts init plans from, read in one round trip per host while a second one
 * listens for other VRRP routers on the segment at the same time (waited for only when the run would add a
 * virtual router id the nodes do not advertise yet). Members recorded by an earlier run that are no
 * longer in the answers are connected to as well (init deconfigures them). Any failure here is a precondition
 * refusal: nothing has been changed on any host yet.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { PreconditionError } from '../errors.js';
import { gather, INIT_FACTS, initVars, VRRP_LISTEN_SECONDS, type InitFacts } from '../facts/gather.js';
import { vridsAdvertised } from '../plan/preflight.js';
import type { VrrpAdvert } from '../facts/vrrp.js';
import type { IO } from '../io.js';
import type { LeavingNode } from '../plan/build.js';
import { openSession, type Session, type SessionOptions } from '../ssh/session.js';
import type { LockRequest } from './lock.js';
import { HostRunner } from './runner.js';

export interface HostSession extends Session {
  runners: Record<string, HostRunner>;
  /** what the session locked every node for (null: it took no lock) */
  lockRequest: LockRequest | null;
  /** unlock every host and close every connection */
  end(): void;
}

export async function openHostSession(
  io: IO,
  cfg: Config,
  opts: SessionOptions & { lock?: LockRequest } = {},
): Promise<HostSession> {
  const session = await openSession(io, cfg, opts);
  const runners: Record<string, HostRunner> = {};
  for (const n of cfg.nodes) runners[n.name] = new HostRunner(session.conns[n.name], n, session.runId);
  const end = () => {
    Object.values(runners).forEach((r) => r.unlock());
    session.close();
  };
  try {
    if (opts.lock) await lockAll(io, Object.values(runners), opts.lock);
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
      const r = new HostRunner(c, node, session.runId);
      runners[node.name] = r;
      if (had && opts.lock) {
        await r
          .lock(opts.lock, { takeOver: true, onNote: (t) => io.err(t) })
          .catch((e: Error) => io.err(`${node.name}: the ha-setup lock could not be taken again: ${e.message}`));
      }
    }
    return c;
  };
  return { ...session, reconnect, runners, end, lockRequest: opts.lock ?? null };
}

async function lockAll(io: IO, runners: HostRunner[], req: LockRequest): Promise<void> {
  const locks = await Promise.allSettled(runners.map((r) => r.lock(req, { onNote: (t) => io.err(t) })));
  const lp = locks.flatMap((l) => (l.status === 'rejected' ? [(l.reason as Error).message] : []));
  if (lp.length) throw new PreconditionError('a node is busy; nothing was changed', lp);
}

/** what init plans from: every node's facts, the adverts heard, the members that left the answers */
export interface PlanFacts {
  facts: Record<string, InitFacts>;
  /** VRRP adverts each node heard while its facts were read; null when no node could listen */
  adverts: Record<string, VrrpAdvert[]> | null;
  /** nodes that could not listen while others did (no raw socket, no tcpdump, the listener failed) */
  unheard: string[];
  leaving: LeavingNode[];
}

/**
 * Read init's facts on every node, listening for other VRRP routers at the same time; the listening is only waited
 * for when the run would add a virtual router id to the segment (else it ends on its own, ignored). Then find the
 * leavers.
 */
export async function readPlanFacts(
  s: HostSession,
  cfg: Config,
  opts: { listen: boolean; lock: LockRequest | null },
): Promise<PlanFacts> {
  const listening = cfg.nodes.map((n) =>
    opts.listen
      ? gather(
          s.conns[n.name],
          ['vrrp'],
          { IFACE: n.interface, LISTEN: String(VRRP_LISTEN_SECONDS) },
          {
            timeoutMs: 30_000,
          },
        ).catch(() => null)
      : Promise.resolve(null),
  );
  const got = await Promise.all(cfg.nodes.map((n) => gather(s.conns[n.name], INIT_FACTS, initVars(cfg, n))));
  const facts = Object.fromEntries(cfg.nodes.map((n, i) => [n.name, got[i]]));
  const listenSkipped = opts.listen && vridsAdvertised(cfg, facts);
  const heardBy = opts.listen && !listenSkipped ? await Promise.all(listening) : [];
  const heard = heardBy.flatMap((h, i) => (h?.vrrp.heard ? [[cfg.nodes[i].name, h.vrrp.adverts] as const] : []));
  const unheard = heardBy.flatMap((h, i) => (h?.vrrp.heard ? [] : [cfg.nodes[i].name]));
  const leaving = await connectLeavers(s, cfg, facts, opts.lock);
  return {
    facts,
    adverts: listenSkipped ? {} : heard.length ? Object.fromEntries(heard) : null,
    unheard: heard.length ? unheard : [],
    leaving,
  };
}

/** the members recorded on the nodes that are not in the answers any more: connected, locked, their facts read */
async function connectLeavers(
  s: HostSession,
  cfg: Config,
  facts: Record<string, InitFacts>,
  lock: LockRequest | null,
): Promise<LeavingNode[]> {
  const names = new Set(cfg.nodes.map((n) => n.name));
  const recorded = new Map<string, { name: string; host: string; port?: number; user?: string }>();
  for (const f of Object.values(facts)) for (const m of f.members?.nodes ?? []) recorded.set(m.name, m);
  const gone = [...recorded.values()].filter((m) => !names.has(m.name));
  const problems: string[] = [];
  const out: LeavingNode[] = [];
  for (const m of gone) {
    const node: ResolvedNode = {
      name: m.name,
      host: m.host,
      port: m.port ?? 22,
      user: m.user ?? 'root',
      interface: cfg.nodes[0].interface,
      priority: 1,
    };
    try {
      const conn = await s.reconnect(node);
      s.conns[node.name] = conn;
      const runner = new HostRunner(conn, node, s.runId);
      s.runners[node.name] = runner;
      if (lock) await runner.lock(lock);
      out.push({ node, facts: await gather(conn, INIT_FACTS, initVars(cfg, node, { probeVips: false })) });
    } catch (e) {
      problems.push(
        `${m.name} (${m.host}) left the answers but cannot be reached to take it out of the pair: ` +
          (e as Error).message,
      );
    }
  }
  if (problems.length)
    throw new PreconditionError('a node that left the answers must be deconfigured first; nothing was changed', [
      ...problems,
      'bring it back up (or put it back in the answers) and run init again',
    ]);
  return out;
}
