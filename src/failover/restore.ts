/**
 * Bringing the pair back to the snapshot verify-failover took before its first fault: every difference fixed
 * (start what was running, unmask what was not masked, links up...) until the pair matches it again, re-applying
 * fixes while it settles (a check script can stop keepalived again a moment after the first fix).
 */
import type { ResolvedNode } from '../answers/resolve.js';
import type { Conn } from '../conn.js';
import { liveConnection, type Session } from '../ssh/session.js';
import { DRIFT_FACTS, pairStatus, type PairStatus } from '../status/collect.js';
import type { Config } from '../answers/resolve.js';
import { applyFixes, pairDrift, type Drift } from './pair.js';

export interface RestoreEnv {
  cfg: Config;
  session: Session;
  snapshot: PairStatus;
  signal: AbortSignal;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the node's connection, reconnected when it died (the link scenario drops it): up to 10 tries, 1 s apart */
export function reconnect(run: Pick<RestoreEnv, 'session'>, node: ResolvedNode): Promise<Conn> {
  return liveConnection(run.session, node);
}

/** what differs from the snapshot now (a node whose link is still down gets one quick reconnect try per round) */
async function driftNow(run: RestoreEnv, keepDemotions: boolean): Promise<Drift[]> {
  for (const n of run.cfg.nodes)
    if (!run.session.conns[n.name]?.alive) await run.session.reconnect(n, { connectTimeout: 3 }).catch(() => null);
  return pairDrift(run.snapshot, await pairStatus(run.cfg, run.session.conns, DRIFT_FACTS), run.cfg, keepDemotions);
}

/**
 * Fix what differs and wait until the pair matches the snapshot; returns what was done and what still differs.
 * `keepDemotions` leaves the demote flags alone (the master stays demoted until the VIPs are given back).
 */
export async function restorePair(
  run: RestoreEnv,
  timeoutMs: number,
  opts: { keepDemotions?: boolean } = {},
): Promise<{ log: string[]; left: Drift[] }> {
  const log: string[] = [];
  const keep = opts.keepDemotions ?? false;
  const deadline = Date.now() + timeoutMs;
  let drift = await driftNow(run, keep);
  while (drift.length) {
    const fixable = drift.filter((d) => d.fix.length);
    for (const n of run.cfg.nodes) {
      const mine = fixable.filter((d) => d.node === n.name);
      const conn = run.session.conns[n.name];
      if (mine.length && conn?.alive) log.push(...(await applyFixes(conn, mine).catch((e: Error) => [e.message])));
    }
    if (Date.now() >= deadline) {
      // what the last fixes achieved, once more after a moment (a started service needs a little while)
      if (fixable.length && timeoutMs > 0) {
        await wait(1000);
        drift = await driftNow(run, keep);
      }
      break;
    }
    await wait(500);
    drift = await driftNow(run, keep);
  }
  return { log, left: drift };
}
