/**
 * A session for changing hosts: the transport session (connected, root or sudo on every node), a runner per node,
 * each host's ha-setup lock, and the facts init plans from, read in one round trip per host while a second one
 * listens for other VRRP routers on the segment at the same time (waited for only when the run would add a
 * virtual router id the nodes do not advertise yet). Members recorded by an earlier run that are no
 * longer in the answers are connected to as well, their unknown host keys refused (init deconfigures those ha-setup
 * set up). Any failure here is a precondition refusal: nothing has been changed on any host yet.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { PreconditionError, UsageError } from '../errors.js';
import { gather, INIT_FACTS, initVars, VRRP_LISTEN_SECONDS, type InitFacts } from '../facts/gather.js';
import { vridsAdvertised } from '../plan/preflight.js';
import type { VrrpAdvert } from '../facts/vrrp.js';
import type { IO } from '../io.js';
import type { LeavingNode } from '../plan/build.js';
import { PATHS } from '../paths.js';
import { openSession, type Session, type SessionOptions } from '../ssh/session.js';
import { HostKeyError } from '../ssh/ssh.js';
import { setUpByHaSetup } from '../steps/deconfigure.js';
import { recordedLeavers, type Recorded } from '../steps/members.js';
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
      // held, or lost with the connection that dropped: taken again on the new one
      const had = old.locked || old.lostLock;
      old.unlock();
      const r = new HostRunner(c, node, session.runId);
      r.carryOn(old);
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
  /** what the recorded members came to: entries ignored, members forgotten (steps/members.ts recordedLeavers) */
  memberNotes: string[];
}

/**
 * Read init's facts on every node, listening for other VRRP routers at the same time; the listening is only waited
 * for when the run would add a virtual router id to the segment (else it ends on its own, ignored). Then find the
 * leavers.
 */
export async function readPlanFacts(
  s: HostSession,
  cfg: Config,
  opts: { listen: boolean; lock: LockRequest | null; forget?: readonly string[] },
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
  const { leaving, notes } = await connectLeavers(s, cfg, facts, { lock: opts.lock, forget: opts.forget ?? [] });
  return {
    facts,
    adverts: listenSkipped ? {} : heard.length ? Object.fromEntries(heard) : null,
    unheard: heard.length ? unheard : [],
    leaving,
    memberNotes: notes,
  };
}

/** why a leaver could not be connected to, for the refusal: an unknown host key with its fingerprint */
function leaverProblem(m: Recorded, e: Error): string {
  const head = `${m.name} (${m.host}) left the answers but cannot be reached to take it out of the pair: `;
  if (!(e instanceof HostKeyError) || e.reason !== 'unknown') return head + e.message;
  const keyscan = `ssh-keyscan${m.port === 22 ? '' : ` -p ${m.port}`} ${m.host} >> ${e.knownHostsFile}`;
  return (
    head +
    `its host key ${e.presented.type} ${e.presented.fingerprint} is not in known_hosts, and a host named only by ` +
    `a node's ${PATHS.members} is never trusted on first use (whatever ssh.hostKeyPolicy says): ` +
    `check the fingerprint on the host, then add it (${keyscan})`
  );
}

/**
 * Connect to a leaver (its unknown host key refused), lock it and read its facts; a host ha-setup did not set up is
 * not locked (nothing is written there).
 */
async function connectLeaver(s: HostSession, cfg: Config, m: Recorded, lock: LockRequest | null): Promise<LeavingNode> {
  const node: ResolvedNode = { ...m, interface: cfg.nodes[0].interface, priority: 1 };
  const conn = await s.reconnect(node, { strictHostKey: true });
  s.conns[node.name] = conn;
  const runner = new HostRunner(conn, node, s.runId);
  s.runners[node.name] = runner;
  const read = () => gather(conn, INIT_FACTS, initVars(cfg, node, { probeVips: false }));
  const facts = await read();
  if (!lock || !setUpByHaSetup(node.name, facts)) return { node, facts };
  // read again under the lock: what is planned is what the host has while this run holds it
  await runner.lock(lock);
  return { node, facts: await read() };
}

/**
 * The members recorded on the nodes (validated entries) that are not in the answers any more: connected (a strict
 * host key), locked when ha-setup set them up, their facts read. `forget`: leavers dropped from the records without
 * being touched. Refused (nothing changed): a --forget that names no leaver; a leaver the nodes record at different
 * hosts, or that cannot be reached, with the way out.
 */
async function connectLeavers(
  s: HostSession,
  cfg: Config,
  facts: Record<string, InitFacts>,
  opts: { lock: LockRequest | null; forget: readonly string[] },
): Promise<{ leaving: LeavingNode[]; notes: string[] }> {
  const r = recordedLeavers(cfg, facts, opts.forget);
  if (r.notLeavers.length) {
    const known = [...r.leavers, ...r.conflicts].map((l) => l.name);
    throw new UsageError(
      `--forget ${r.notLeavers.join(', ')}: not a member the nodes record that left the answers ` +
        `(${known.length ? `those are: ${known.join(', ')}` : 'there is none'})`,
    );
  }
  const problems = r.conflicts.map((c) => c.why);
  const stuck = r.conflicts.map((c) => c.name);
  const leaving: LeavingNode[] = [];
  for (const m of r.leavers) {
    try {
      leaving.push(await connectLeaver(s, cfg, m, opts.lock));
    } catch (e) {
      problems.push(leaverProblem(m, e as Error));
      stuck.push(m.name);
    }
  }
  if (problems.length)
    throw new PreconditionError('a node that left the answers must be deconfigured first; nothing was changed', [
      ...problems,
      'to go on: make it reachable (or put it back in the answers) and run init again, or run init with ' +
        `${stuck.map((n) => `--forget ${n}`).join(' ')} to drop it from the recorded members without touching it ` +
        "(if it still runs keepalived, it may still advertise the pair's virtual router ids)",
    ]);
  return { leaving, notes: r.notes };
}
