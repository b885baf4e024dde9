/** Who holds each VIP: read `ip -o -4 addr` on every node. */
import type { Config } from '../answers/resolve.js';
import { interfacesFact } from '../facts/gather.js';
import type { HostConnection } from '../ssh/ssh.js';

export type VipHolders = Record<string, string[]>;

export async function addressesOf(conn: HostConnection): Promise<Set<string>> {
  const r = await conn.run(interfacesFact.sh, { root: false, timeoutMs: 10_000 });
  const ifs = interfacesFact.parse(r.stdout);
  return new Set(Object.values(ifs).flatMap((i) => i.addresses.map((a) => a.split('/')[0])));
}

export async function vipHolders(cfg: Config, conns: Record<string, HostConnection>): Promise<VipHolders> {
  const entries = await Promise.all(
    cfg.nodes.map(
      async (n) =>
        [
          n.name,
          conns[n.name]?.alive ? await addressesOf(conns[n.name]).catch(() => new Set<string>()) : new Set<string>(),
        ] as const,
    ),
  );
  const out: VipHolders = {};
  for (const inst of cfg.instances)
    for (const v of inst.vips) out[v.address] = entries.filter(([, a]) => a.has(v.address)).map(([n]) => n);
  return out;
}

export function vipsSettled(cfg: Config, h: VipHolders): boolean {
  return cfg.instances.every((inst) =>
    inst.vips.every((v) => {
      const holders = h[v.address] ?? [];
      return holders.length === 1 && (!inst.preempt || holders[0] === inst.master);
    }),
  );
}

/**
 * Wait until every VIP is on one node (its master, with preempt). `stableUntil` (epoch ms): only a sample taken at
 * or after that time counts: keepalived applies a reload after systemctl returns, and a reload that re-creates an
 * instance (a new VRRP version, say) drops the VIP until the master-down timer, so a sample right after the reload
 * can still show the old, settled state.
 */
export async function waitForVips(
  cfg: Config,
  conns: Record<string, HostConnection>,
  timeoutMs: number,
  stableUntil = 0,
): Promise<{ ok: boolean; holders: VipHolders }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holders = await vipHolders(cfg, conns);
    if (Date.now() >= stableUntil && vipsSettled(cfg, holders)) return { ok: true, holders };
    if (Date.now() > deadline) return { ok: false, holders };
    await new Promise((r) => setTimeout(r, 250));
  }
}
