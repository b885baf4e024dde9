/** A shell loop running on a host, streaming timestamped lines back over the SSH connection. */
import type { Conn } from '../conn.js';
import { q } from '../ssh/shell.js';

/** remote clock minus controller clock, in ms (half a round trip of error) */
export async function clockOffsetMs(conn: Conn): Promise<number> {
  const t0 = Date.now();
  const clock = await conn.run('date +%s%N', { root: false });
  return Number(BigInt(clock.stdout.trim()) / 1_000_000n) - (t0 + Date.now()) / 2;
}

/** nanoseconds since the epoch on the host -> controller ms */
export function hostNsToMs(ns: string, offsetMs: number): number {
  return Number(BigInt(ns) / 1_000_000n) - offsetMs;
}

/**
 * run `script` with sh on the host, `args` its positional parameters; every complete output line goes to onLine;
 * returns the stop function
 */
export async function streamLines(
  conn: Conn,
  script: string,
  onLine: (line: string) => void,
  args: readonly string[] = [],
): Promise<() => Promise<void>> {
  // read-only loops (who holds a VIP, a curl probe): no sudo, and nothing between the loop and the channel
  const params = args.length ? ` sh ${args.map(q).join(' ')}` : '';
  const { ch, done } = await conn.spawn(`sh -c ${q(script)}${params}`, { root: false });
  let buf = '';
  ch.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  });
  return async () => {
    try {
      ch.signal('KILL');
    } catch {
      /* the channel may already be gone */
    }
    ch.close();
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  };
}
