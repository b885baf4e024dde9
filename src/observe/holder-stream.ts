/**
 * Watches, on every node at once, whether it holds each VIP: a loop on the host prints a timestamped sample every
 * 50 ms over the SSH connection (the streamed fact HOLDER_LOOP, facts/streamed.ts). Samples survive a node that
 * drops off (link scenario): its stream just ends.
 */
import type { Conn } from '../conn.js';
import { HOLDER_LOOP } from '../facts/streamed.js';
import { clockOffsetMs, hostNsToMs, streamLines } from './remote-loop.js';

export interface HolderSample {
  t: number;
  node: string;
  vips: string[];
}

export interface Watch {
  samples: HolderSample[];
  stop(): Promise<void>;
}

export async function startWatch(conns: Record<string, Conn>, vips: string[], periodMs = 50): Promise<Watch> {
  const samples: HolderSample[] = [];
  const stops: (() => Promise<void>)[] = [];
  await Promise.all(
    Object.entries(conns).map(async ([node, conn]) => {
      if (!conn.alive) return;
      const offset = await clockOffsetMs(conn);
      stops.push(
        await streamLines(
          conn,
          HOLDER_LOOP.sh(periodMs),
          (line) => {
            const { ns, vips: held } = HOLDER_LOOP.parseLine(line);
            samples.push({ t: hostNsToMs(ns, offset), node, vips: held });
          },
          vips,
        ),
      );
    }),
  );
  return {
    samples,
    async stop() {
      await Promise.all(stops.map((s) => s()));
      samples.sort((a, b) => a.t - b.t);
    },
  };
}

/** who held `vip` over time: a list of [t, holders] whenever the set changes */
export function holderTimeline(
  samples: HolderSample[],
  vip: string,
  nodes: string[],
): { t: number; holders: string[] }[] {
  const last: Record<string, boolean> = Object.fromEntries(nodes.map((n) => [n, false]));
  const out: { t: number; holders: string[] }[] = [];
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    last[s.node] = s.vips.includes(vip);
    const holders = nodes.filter((n) => last[n]);
    const prev = out[out.length - 1];
    if (!prev || prev.holders.join() !== holders.join()) out.push({ t: s.t, holders });
  }
  return out;
}
