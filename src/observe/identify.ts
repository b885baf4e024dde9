/**
 * Who answered a probe: the response header (X-LB) names the node that served it, in whatever form the operator's
 * nginx puts there: the node name of the answers file, the host's own hostname (gathered once, short or full), or
 * one of its addresses. Node names are the user's and need not be hostnames. An answer nothing identifies is left
 * unattributed, and the measurement then falls back to the VIP holder timeline.
 */
import { canonicalIP, isIPv4, isIPv6 } from '../answers/ip.js';

export interface NodeIdentity {
  node: string;
  names: string[];
}

/** what a status read of the pair tells about each node (status/collect.ts PairStatus) */
export interface SeenNodes {
  nodes: { node: string; hostname: string; addresses: string[] }[];
  vips: { vip: string }[];
}

export function identities(cfg: { nodes: { name: string; host: string; address?: string }[] }, status: SeenNodes) {
  return cfg.nodes.map((n): NodeIdentity => {
    const s = status.nodes.find((x) => x.node === n.name);
    const vips = new Set(status.vips.map((v) => v.vip));
    const hostname = s?.hostname ?? '';
    const names = [n.name, n.host, n.address, hostname, hostname.split('.')[0], ...(s?.addresses ?? [])]
      .filter((x): x is string => !!x && !vips.has(x))
      .map((x) => x.toLowerCase());
    return { node: n.name, names: [...new Set(names)] };
  });
}

/**
 * The node a header value identifies, or null. A value that several nodes could claim (two hosts with the same
 * short hostname) identifies none of them; the node name wins over the other forms.
 */
export function identify(value: string | null, ids: NodeIdentity[]): string | null {
  if (!value) return null;
  const v = value.trim().toLowerCase();
  const byName = ids.find((i) => i.node.toLowerCase() === v);
  if (byName) return byName.node;
  const forms = isIPv4(v) || isIPv6(v) ? [canonicalIP(v) ?? v] : [v, v.split('.')[0]];
  for (const f of forms) {
    const hits = ids.filter((i) => i.names.includes(f));
    if (hits.length === 1) return hits[0].node;
    if (hits.length > 1) return null;
  }
  return null;
}
