/**
 * Client probe: an HTTP GET to the VIP every N ms on a fresh connection (so it follows ARP like a new client),
 * each with a short timeout. From the controller by default, or from another host over SSH (--probe-from).
 * Every result is kept with its timestamp (ms since the epoch, controller clock).
 */
import type http from 'node:http';
import type { Conn } from '../conn.js';
import { probeOnce, type ProbeSample } from './http-probe.js';
import { q } from '../ssh/shell.js';
import { clockOffsetMs, hostNsToMs, streamLines } from './remote-loop.js';

export type { ProbeSample };

export interface Probe {
  samples: ProbeSample[];
  stop(): Promise<void>;
}

export function startLocalProbe(url: string, intervalMs: number, timeoutMs: number): Probe {
  const samples: ProbeSample[] = [];
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const one = () => {
    const p = new Promise<void>((resolve) => {
      probeOnce(url, timeoutMs, 'ha-setup-probe', (s) => {
        samples.push(s);
        resolve();
      });
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  let next = Date.now();
  let timer: NodeJS.Timeout;
  const tick = () => {
    if (stopped) return;
    one();
    next += intervalMs;
    timer = setTimeout(tick, Math.max(0, next - Date.now()));
  };
  tick();
  return {
    samples,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...pending]);
      samples.sort((a, b) => a.t - b.t);
    },
  };
}

export interface ProbeLoop {
  stop(): Promise<void>;
}

/**
 * HTTP GET through a VIP every intervalMs on a fresh connection (like startLocalProbe), each with its timeout;
 * results go to onResult in the order the probes were sent, so an old probe timing out after a newer one was
 * answered is not read as the VIP failing again.
 */
export function orderedProbe(
  url: string,
  intervalMs: number,
  timeoutMs: number,
  onResult: (r: ProbeSample) => void,
): ProbeLoop {
  let stopped = false;
  let sent = 0;
  let next = 0;
  const done = new Map<number, ProbeSample>();
  const inFlight = new Set<http.ClientRequest>();
  const flush = () => {
    for (let r = done.get(next); r && !stopped; r = done.get(next)) {
      done.delete(next++);
      onResult(r);
    }
  };
  const one = () => {
    const n = sent++;
    const req = probeOnce(url, timeoutMs, 'ha-setup-watch', (s) => {
      inFlight.delete(req);
      done.set(n, s);
      flush();
    });
    inFlight.add(req);
  };
  let due = Date.now();
  let timer: NodeJS.Timeout;
  const tick = () => {
    if (stopped) return;
    one();
    // after a stall (a suspended laptop), carry on from now rather than catching up in a burst
    due = Math.max(due + intervalMs, Date.now() - intervalMs);
    timer = setTimeout(tick, Math.max(0, due - Date.now()));
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const r of inFlight) r.destroy();
      inFlight.clear();
    },
  };
}

/** the same loop with curl on a remote host; its clock is mapped onto the controller's by a measured offset */
export async function startRemoteProbe(conn: Conn, url: string, intervalMs: number, timeoutMs: number): Promise<Probe> {
  const samples: ProbeSample[] = [];
  const offset = await clockOffsetMs(conn);
  const script = `command -v curl >/dev/null || { echo "curl missing" >&2; exit 3; }
while :; do
  ( s=$(date +%s%N); r=$(curl -g -s -o /dev/null --max-time ${(timeoutMs / 1000).toFixed(3)} \
-w '%{http_code} %header{x-lb}' ${q(url)} 2>/dev/null); e=$(date +%s%N); echo "$s $e $r" ) &
  # a heartbeat from the loop itself: once the channel is gone this write kills the loop (SIGPIPE), even where
  # sshd ignores the signal request that stops it
  echo
  sleep ${(intervalMs / 1000).toFixed(3)}
done`;
  const stop = await streamLines(conn, script, (line) => {
    const [s, e, code, by] = line.split(' ');
    if (!s || !e) return;
    const status = Number(code) || 0;
    samples.push({
      t: hostNsToMs(s, offset),
      ms: Number((BigInt(e) - BigInt(s)) / 1_000_000n),
      ok: status > 0 && status < 500,
      status,
      servedBy: by || null,
    });
  });
  return {
    samples,
    async stop() {
      await stop();
      samples.sort((a, b) => a.t - b.t);
    },
  };
}
