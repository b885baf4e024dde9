/**
 * Watches, on every node at once, whether it holds each VIP: a loop on the host prints a timestamped sample every
 * 50 ms over the SSH connection. Samples survive a node that drops off (link scenario): its stream just ends.
 */
import type { Conn } from '../conn.js';
import { q } from '../ssh/shell.js';
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
      const script =
        // a VIP on lo is ha-setup's short hand-over hold, not the node holding the VIP (pair/holders.ts)
        `while :; do a=$(ip -o -4 addr show 2>/dev/null | grep -v '^[0-9]*: lo '); printf '%s' "$(date +%s%N)"; ` +
        `for v in ${vips.map(q).join(' ')}; do case "$a" in *" inet $v/"*) printf ' %s' "$v";; esac; done; ` +
        `echo; sleep ${(periodMs / 1000).toFixed(3)}; done`;
      stops.push(
        await streamLines(conn, script, (line) => {
          const [ts, ...held] = line.split(' ');
          samples.push({ t: hostNsToMs(ts, offset), node, vips: held.filter(Boolean) });
        }),
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
