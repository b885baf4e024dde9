/** What clients see while something runs: HTTP GETs through a VIP from the controller (src/observe/probe.ts). */
import { hostForUrl } from '../../src/answers/ip.js';
import { startLocalProbe, type ProbeSample } from '../../src/observe/probe.js';

export interface Probed<T> {
  result: T;
  failed: number;
  total: number;
  /** the failed samples, for the test's message */
  failures: ProbeSample[];
}

/** probe `vip` (IPv4 or IPv6) every `intervalMs` from 0.5 s before `fn` until 1 s after it */
export async function probed<T>(vip: string, fn: () => Promise<T>, intervalMs = 20): Promise<Probed<T>> {
  const probe = startLocalProbe(`http://${hostForUrl(vip)}/`, intervalMs, 1000);
  await new Promise((r) => setTimeout(r, 500));
  let result: T;
  try {
    result = await fn();
  } finally {
    await new Promise((r) => setTimeout(r, 1000));
    await probe.stop();
  }
  const failures = probe.samples.filter((s) => !s.ok);
  return { result, failed: failures.length, total: probe.samples.length, failures };
}
