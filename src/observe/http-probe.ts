/**
 * One client request through a VIP, as the probes of verify-failover and `status --watch` (probe.ts) send it: an
 * HTTP GET on a fresh connection (so it follows ARP like a new client) with its own timeout; answered when the
 * status is below 500, and by whom the X-LB header says.
 */
import http from 'node:http';

/** one request: sent at t (ms since the epoch), answered or not */
export interface ProbeSample {
  t: number;
  ok: boolean;
  status: number;
  /** the X-LB header */
  servedBy: string | null;
  ms: number;
  /** why it failed, when the client saw why: the socket error's code (ECONNRESET, EHOSTUNREACH...) or 'timeout' */
  error?: string;
}

/** send one request; `onDone` is called exactly once. Destroying the returned request ends it as failed */
export function probeOnce(
  url: string,
  timeoutMs: number,
  userAgent: string,
  onDone: (s: ProbeSample) => void,
): http.ClientRequest {
  const t = Date.now();
  let settled = false;
  const finish = (ok: boolean, status: number, servedBy: string | null, error?: string) => {
    if (settled) return;
    settled = true;
    onDone({ t, ok, status, servedBy, ms: Date.now() - t, ...(error ? { error } : {}) });
  };
  const why = (e: Error) => (e as NodeJS.ErrnoException).code ?? e.message;
  const headers = { 'user-agent': userAgent, connection: 'close' };
  const req = http.get(url, { agent: false, timeout: timeoutMs, headers }, (res) => {
    const by = res.headers['x-lb'];
    const status = res.statusCode ?? 0;
    res.resume();
    res.on('end', () => finish(status > 0 && status < 500, status, typeof by === 'string' ? by : null));
    res.on('error', (e) => finish(false, 0, null, why(e)));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => finish(false, 0, null, why(e)));
  return req;
}
