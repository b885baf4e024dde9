/**
 * Who holds each VIP, from the addresses on each node's interfaces. An address on `lo` does not count: ha-setup's
 * hand-over keeps a VIP on lo of the old holder for the moment the new one takes it (pair/handover.ts).
 */
import type { Config } from '../answers/resolve.js';
import { FACTS } from '../facts/table.js';
import type { InterfaceFact } from '../facts/types.js';
import type { Conn } from '../conn.js';

export type VipHolders = Record<string, string[]>;

/** every address a node holds on its interfaces (IPv4 and IPv6, IPv6 canonical), lo left out */
export function addressesOn(interfaces: Record<string, InterfaceFact>): Set<string> {
  return new Set(
    Object.values(interfaces)
      .filter((i) => i.name !== 'lo')
      .flatMap((i) => (i.ips ?? []).map((a) => a.address)),
  );
}

/** the answers' VIPs among a node's addresses */
export function heldVips(cfg: Config, interfaces: Record<string, InterfaceFact>): string[] {
  const a = addressesOn(interfaces);
  return cfg.instances.flatMap((i) => i.vips.map((v) => v.address)).filter((v) => a.has(v));
}

/** a node's addresses now (one round trip; read without root) */
export async function addressesOf(conn: Conn): Promise<Set<string>> {
  const r = await conn.run(FACTS.interfaces.sh, { root: false, timeoutMs: 10_000 });
  return addressesOn(FACTS.interfaces.parse(r.stdout));
}

/** who holds each VIP now, read on every node at once (an unreachable node holds nothing) */
export async function vipHolders(cfg: Config, conns: Record<string, Conn | undefined>): Promise<VipHolders> {
  const entries = await Promise.all(
    cfg.nodes.map(async (n) => {
      const c = conns[n.name];
      const a = c?.alive ? await addressesOf(c).catch(() => new Set<string>()) : new Set<string>();
      return [n.name, a] as const;
    }),
  );
  const out: VipHolders = {};
  for (const inst of cfg.instances)
    for (const v of inst.vips) out[v.address] = entries.filter(([, a]) => a.has(v.address)).map(([n]) => n);
  return out;
}
