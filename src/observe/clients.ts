/**
 * What clients see during a day-2 move: HTTP GETs through the VIP from the controller (probe.ts), counted
 * around the move, and a wait until they are served again after it.
 */
import { hostForUrl } from '../answers/ip.js';
import { startLocalProbe, type Probe } from './probe.js';
import { sleep } from '../sleep.js';

export interface ClientView {
  /** the VIP answered before the move (else the controller cannot reach it: clients were not checked) */
  reachable: boolean;
  failed: number;
  total: number;
  /** the X-LB header values of the answers after the move */
  servedBy: string[];
}

export interface ClientWatch {
  stop(): Promise<ClientView>;
}

/** probe `vip` every `intervalMs` until stop(); stop waits for 5 answers in a row after the move (up to 10 s) */
export async function watchClients(vip: string, intervalMs = 50): Promise<ClientWatch> {
  const probe: Probe = startLocalProbe(`http://${hostForUrl(vip)}/`, intervalMs, 1000);
  await sleep(400);
  const reachable = probe.samples.some((s) => s.ok);
  return {
    async stop() {
      const from = Date.now();
      const deadline = from + 10_000;
      while (reachable && Date.now() < deadline) {
        const after = probe.samples.filter((s) => s.t >= from);
        if (after.length >= 5 && after.slice(-5).every((s) => s.ok)) break;
        await sleep(100);
      }
      await probe.stop();
      const s = probe.samples;
      return {
        reachable,
        failed: s.filter((x) => !x.ok).length,
        total: s.length,
        servedBy: [...new Set(s.filter((x) => x.t >= from && x.ok && x.servedBy).map((x) => x.servedBy!))],
      };
    },
  };
}

/** every VIP of a move watched (both address families of a dual-stack target): one view, the counts summed */
export async function watchAllClients(vips: string[], intervalMs = 50): Promise<ClientWatch> {
  const watches = await Promise.all(vips.map((v) => watchClients(v, intervalMs)));
  return {
    async stop() {
      const views = await Promise.all(watches.map((w) => w.stop()));
      return {
        reachable: views.every((v) => v.reachable),
        failed: views.reduce((n, v) => n + v.failed, 0),
        total: views.reduce((n, v) => n + v.total, 0),
        servedBy: [...new Set(views.flatMap((v) => v.servedBy))],
      };
    },
  };
}
