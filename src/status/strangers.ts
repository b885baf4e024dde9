/**
 * Hosts that act for the pair without being one of its members: one node listens for VRRP adverts of the pair's
 * virtual router ids (from any source that is not a node), and asks who answers ARP for each VIP (a link-layer
 * address that is none of the nodes'). A node taken out of the answers but still running keepalived shows up here
 * as soon as it advertises (it became master) or holds a VIP.
 */
import type { Config } from '../answers/resolve.js';
import { gather, VRRP_LISTEN_SECONDS } from '../facts/gather.js';
import type { Conn } from '../conn.js';

export async function strangers(cfg: Config, conns: Record<string, Conn | undefined>): Promise<string[]> {
  const live = cfg.nodes.filter((n) => conns[n.name]?.alive);
  if (!live.length) return [];
  const ifs = await Promise.all(
    live.map((n) => gather(conns[n.name]!, ['interfaces'], {}, { timeoutMs: 15_000 }).catch(() => null)),
  );
  const addrs = new Set(cfg.nodes.flatMap((n) => [n.host, n.address].filter((x): x is string => !!x)));
  const macs = new Set<string>();
  for (const f of ifs)
    for (const i of Object.values(f?.interfaces ?? {})) {
      macs.add(i.mac.toLowerCase());
      for (const a of i.ips ?? []) addrs.add(a.address);
    }
  const n = live[0];
  const vips = cfg.instances.flatMap((i) => i.vips.map((v) => v.address));
  const vrids = new Map(cfg.instances.map((i) => [i.virtualRouterId, i.name]));
  const f = await gather(
    conns[n.name]!,
    ['vrrp', 'vipneighbors'],
    { IFACE: n.interface, LISTEN: String(VRRP_LISTEN_SECONDS), VIPS: vips.join(' ') },
    { timeoutMs: 30_000 },
  ).catch(() => null);
  if (!f) return [];
  const out = new Set<string>();
  for (const a of f.vrrp.adverts)
    if (vrids.has(a.vrid) && !addrs.has(a.src))
      out.add(`${a.src} advertises VRID ${a.vrid} (${vrids.get(a.vrid)}, priority ${a.priority}) on ${n.interface}`);
  for (const v of f.vipneighbors)
    if (v.lladdr && !macs.has(v.lladdr.toLowerCase())) out.add(`VIP ${v.vip} answers ARP from ${v.lladdr}`);
  return [...out];
}
