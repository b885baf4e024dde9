/**
 * IPv6 VIPs beside the IPv4 ones (dual-stack). Offered when the instance's interface has a global IPv6 address on
 * the nodes (the facts' `ip -o -6 addr`), in that prefix, and checked as the IPv4 ones are: the interface's prefix,
 * no node's address, no other instance's VIP and, online, nothing answering for it on the link (`ping -6` from the
 * master and the neighbour entry its solicitation leaves). The proposal: the IPv4 VIP's last octet written as the
 * interface id (198.18.0.253 -> fd00:198:18::253, as hosts numbered like the lab's are), else ::254, ::253... down.
 */
import { canonicalIPv6, isLinkLocal6, parseCidr, sameSubnet } from '../answers/ip.js';
import { startWaiting } from '../spinner.js';
import type { HostDiscovery } from './discovery.js';
import { globalIPv6, VIP_PROPOSAL_TRIES, type VipCheck } from './network.js';
import { validators } from './prompter.js';
import { say, type Known, type WizardState } from './state.js';

/** the 128 bits of a canonical IPv6 address (no embedded IPv4 tail: parseCidr writes it in hex) */
function toBig(address: string): bigint {
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => n * 65536n + BigInt(parseInt(g, 16)), 0n);
}

function fromBig(n: bigint): string {
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((n >> BigInt(16 * i)) & 0xffffn).toString(16));
  return canonicalIPv6(g.join(':'));
}

/** "fd00:198:18::/64" */
export function network6Of(address: string, prefix: number): string {
  const size = 1n << BigInt(128 - prefix);
  return `${fromBig((toBig(address) / size) * size)}/${prefix}`;
}

/**
 * IPv6 addresses to propose as a VIP on an interface with address `ifaceCidr6` ("fd00:198:18::11/64"), best first:
 * `hint` (the IPv4 VIP, whose last octet becomes the interface id), then ::254 down, never the subnet-router
 * address (::0) nor one of `exclude`; at most `max`. Each must still be checked before it is proposed.
 */
export function vip6Candidates(
  ifaceCidr6: string,
  exclude: string[],
  hint?: string,
  max = VIP_PROPOSAL_TRIES,
): string[] {
  const c = parseCidr(ifaceCidr6);
  if (!c || c.family !== 6 || c.prefix > 126) return [];
  const size = 1n << BigInt(128 - c.prefix);
  const network = (toBig(c.address) / size) * size;
  const octet = hint && /^\d+\.\d+\.\d+\.(\d+)$/.exec(hint)?.[1];
  const ids = [...(octet ? [octet] : []), ...Array.from({ length: 254 }, (_, k) => String(254 - k))];
  const out: string[] = [];
  for (const id of ids) {
    const n = BigInt(`0x${id}`);
    if (n === 0n || n >= size) continue;
    const ip = fromBig(network + n);
    if (!exclude.includes(ip) && !out.includes(ip)) out.push(ip);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * One IPv6 VIP as typed for an interface with address `ifaceCidr6` (null: not known): an IPv6 address of its
 * prefix (the prefix may be left out: the interface's is used), not link-local, no node's. The VIP with its prefix,
 * or one line naming the field and what it allows.
 */
export function checkVip6(text: string, ifaceCidr6: string | null, nodeAddresses: string[]): string | { vip: string } {
  const syntax = validators.vip6(text);
  if (syntax !== true) return syntax;
  const c = parseCidr(text.trim())!;
  const iface = ifaceCidr6 ? parseCidr(ifaceCidr6) : null;
  const net = iface ? network6Of(iface.address, iface.prefix) : null;
  if (isLinkLocal6(c.address))
    return `IPv6 VIP: ${c.address} is link-local (fe80::/10); give a global address${net ? ` of ${net}` : ''}`;
  if (iface && !sameSubnet(c.address, iface.address, iface.prefix))
    return `IPv6 VIP: ${c.address} is not in the interface's prefix ${net}`;
  const prefix = text.includes('/') ? c.prefix : (iface?.prefix ?? 128);
  if (iface && prefix !== iface.prefix) return `IPv6 VIP: use the interface's prefix /${iface.prefix} (got /${prefix})`;
  if (nodeAddresses.includes(c.address))
    return `IPv6 VIP: ${c.address} is a load balancer's own address; a VIP must be free`;
  return { vip: `${c.address}/${prefix}` };
}

/** where an instance's IPv6 VIP goes: the prefix of its interface, and the addresses it must not be */
export interface Vip6Place {
  /** the node it is probed from (the master, or the first node when no node is the master) */
  master: string;
  mk: Known;
  iface: string;
  /** the master's global IPv6 address on the interface, with its prefix ("fd00:198:18::11/64") */
  cidr6: string;
  /** its prefix ("fd00:198:18::/64") */
  prefix: string;
  /** every node's addresses (both families) */
  addresses: string[];
  /** the VIPs of the instances asked before (addresses without prefix) */
  taken: string[];
}

/** a typed IPv6 VIP (or a candidate) checked: as checkVip6, no other instance's, and nothing answering for it */
export function vip6Check(d: HostDiscovery | undefined, at: Vip6Place): VipCheck {
  return async (part) => {
    const c = checkVip6(part, at.cidr6, at.addresses);
    if (typeof c === 'string') return c;
    const ip = c.vip.split('/')[0];
    if (at.taken.includes(ip)) return `IPv6 VIP: ${ip} is already a VIP of another instance`;
    let probeFailed = false;
    const got = d ? await d.ndpAnswer(at.mk.conn, at.iface, ip).catch(() => ((probeFailed = true), null)) : null;
    if (got)
      return (
        `IPv6 VIP: ${ip} is in use: it answers ` +
        (got.lladdr ? `neighbour discovery from ${got.lladdr}` : 'ping -6') +
        '; choose a free address'
      );
    return { vip: c.vip, probeFailed };
  };
}

/**
 * The IPv6 place of an instance on interface `ifaceOf(node)` of each node, probed from `from`: null (no IPv6 VIP
 * offered) offline, when the master's interface has no global IPv6 address, or when a node reached has none in its
 * prefix (said).
 */
export async function ipv6Place(
  s: WizardState,
  name: string,
  from: { master: string; mk: Known | null; iface: string; addresses: string[]; taken: string[] },
  others: { name: string; k: Known | null; iface: string }[],
): Promise<Vip6Place | null> {
  const { mk } = from;
  if (!s.d || !mk) return null;
  const cidr6 = globalIPv6(mk.info.interfaces.find((i) => i.name === from.iface))[0];
  if (!cidr6) return null;
  const c = parseCidr(cidr6)!;
  const prefix = network6Of(c.address, c.prefix);
  for (const o of others) {
    const theirs = globalIPv6(o.k?.info.interfaces.find((i) => i.name === o.iface));
    if (o.k && !theirs.some((x) => sameSubnet(x.split('/')[0], c.address, c.prefix))) {
      say(s, `${name}: no IPv6 VIP offered: ${o.name} has no address of ${prefix} on ${o.iface}`);
      return null;
    }
  }
  return { ...from, mk, cidr6, prefix };
}

/** online, a free IPv6 address of the prefix to propose (as proposeVip: the first candidate that passes) */
export async function proposeVip6(
  s: WizardState,
  name: string,
  at: Vip6Place,
  checkOne: VipCheck,
  hint?: string,
): Promise<string | undefined> {
  const candidates = vip6Candidates(at.cidr6, [...at.addresses, ...at.taken], hint);
  const w = s.io
    ? startWaiting(
        s.io,
        `looking for a free IPv6 VIP in ${at.prefix} (ping -6 and neighbour discovery from ${at.master})`,
      )
    : null;
  let why = candidates.length
    ? `${candidates.join(', ')} all answer on the link`
    : `no address of ${at.prefix} is left to propose`;
  for (const ip of candidates) {
    const c = await checkOne(ip);
    if (typeof c === 'string') continue;
    if (c.probeFailed) {
      why = `the probe from ${at.master} failed, so ${ip} could not be checked`;
      break;
    }
    w?.succeed(`${ip} is free (nothing answers ping -6 or neighbour discovery for it): proposed for ${name}`);
    return ip;
  }
  w?.info(`no IPv6 VIP proposed: ${why}`);
  return undefined;
}
