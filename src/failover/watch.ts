/**
 * Watches, on every node at once, whether it holds each VIP: a loop on the host prints a timestamped sample every
 * 50 ms over the SSH connection. Samples survive a node that drops off (link scenario): its stream just ends.
 */
import type { HostConnection } from '../apply/ssh.js';
import { q } from '../apply/shell.js';

export interface HolderSample {
  t: number;
  node: string;
  vips: string[];
}

export interface Watch {
  samples: HolderSample[];
  stop(): Promise<void>;
}

export async function startWatch(conns: Record<string, HostConnection>, vips: string[], periodMs = 50): Promise<Watch> {
  const samples: HolderSample[] = [];
  const stops: (() => Promise<void>)[] = [];
  await Promise.all(
    Object.entries(conns).map(async ([node, conn]) => {
      if (!conn.alive) return;
      const t0 = Date.now();
      const clock = await conn.run('date +%s%N', { root: false });
      const offset = Number(BigInt(clock.stdout.trim()) / 1_000_000n) - (t0 + Date.now()) / 2;
      const script = `while :; do a=$(ip -o -4 addr show 2>/dev/null); printf '%s' "$(date +%s%N)"; for v in ${vips.map(q).join(' ')}; do case "$a" in *" inet $v/"*) printf ' %s' "$v";; esac; done; echo; sleep ${(periodMs / 1000).toFixed(3)}; done`;
      const { ch, done } = await conn.spawn(`sh -c ${q(script)}`);
      let buf = '';
      ch.on('data', (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const [ts, ...held] = buf.slice(0, i).trim().split(' ');
          buf = buf.slice(i + 1);
          if (ts) samples.push({ t: Number(BigInt(ts) / 1_000_000n) - offset, node, vips: held.filter(Boolean) });
        }
      });
      stops.push(async () => {
        try {
          ch.signal('KILL');
        } catch {
          /* ignore */
        }
        ch.close();
        await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
      });
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
export function holderTimeline(samples: HolderSample[], vip: string, nodes: string[]): { t: number; holders: string[] }[] {
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
