/**
 * The network: which interface VRRP runs on (online, a list of the host's interfaces, the one SSH came in on
 * first), and where a VIP may go: in the master interface's subnet, no node's address, no other instance's VIP and
 * (online) nothing answering ARP for it. Online a free address of that subnet is proposed, from the top down. The
 * IPv6 twin of each rule is in network6.ts.
 */
import { parseCidr, sameSubnet } from '../answers/schema.js';
import { isLinkLocal6 } from '../answers/ip.js';
import type { InterfaceFact } from '../facts/types.js';
import { startWaiting } from '../spinner.js';
import { defaultInterface, type HostDiscovery } from './discovery.js';
import { validators, type Prompter } from './prompter.js';
import type { Known, WizardState } from './state.js';

/** an interface's global IPv6 addresses with their prefix ("fd00:198:18::11/64"): not link-local, not loopback */
export function globalIPv6(i: InterfaceFact | undefined): string[] {
  return (i?.ips ?? [])
    .filter((x) => x.family === 6 && !isLinkLocal6(x.address) && x.address !== '::1')
    .map((x) => `${x.address}/${x.prefix}`);
}

/** the interfaces a VRRP instance can live on: up, not lo, with an IPv4 or a global IPv6 address */
export function candidateInterfaces(k: Known): InterfaceFact[] {
  return k.info.interfaces.filter((i) => i.name !== 'lo' && i.up && (i.addresses.length || globalIPv6(i).length));
}

/** what the interface list shows of an interface's addresses: IPv4, then global IPv6 */
export const addressesOf = (i: InterfaceFact) => [...i.addresses, ...globalIPv6(i)].join(' ');

/** the VRRP interface of a node: a list of the host's interfaces when it was reached, else typed */
export async function askInterface(p: Prompter, label: string, k: Known | null, def: string): Promise<string> {
  if (k && k.info.interfaces.some((i) => i.name !== 'lo')) {
    const ifs = k.info.interfaces.filter((i) => i.name !== 'lo');
    return p.select({
      message: `${label}: VRRP interface`,
      choices: ifs.map((i) => ({
        value: i.name,
        name: `${i.name}  ${addressesOf(i) || 'no address'}  ${i.up ? 'UP' : 'DOWN'}`,
      })),
      default: defaultInterface(k.info) ?? ifs[0].name,
    });
  }
  return (await p.input({ message: `${label}: VRRP interface`, default: def, validate: validators.iface })).trim();
}

/**
 * A VIP for an interface with address `ifaceCidr` ("198.18.0.11/24"): in its subnet, not a node's address. The
 * prefix may be left out (the interface's is used). Returns the VIP with its prefix, or why not.
 */
export function checkVip(text: string, ifaceCidr: string | null, nodeAddresses: string[]): string | { vip: string } {
  const c = parseCidr(text.trim());
  if (!c) return `${text.trim()} is not an IPv4 or IPv6 address with an optional /prefix`;
  const iface = ifaceCidr ? parseCidr(ifaceCidr) : null;
  const prefix = text.includes('/') ? c.prefix : (iface?.prefix ?? (c.family === 6 ? 128 : 32));
  if (iface && !sameSubnet(c.address, iface.address, iface.prefix)) {
    return `${c.address} is not in the interface's subnet ${networkOf(iface.address, iface.prefix)}`;
  }
  if (iface && prefix !== iface.prefix) return `use the interface's prefix /${iface.prefix} (got /${prefix})`;
  if (nodeAddresses.includes(c.address)) return `${c.address} is a load balancer's own address; a VIP must be free`;
  return { vip: `${c.address}/${prefix}` };
}

export function networkOf(address: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(address) / size) * size;
  return `${intToIp(base)}/${prefix}`;
}

const ipToInt = (address: string) => address.split('.').reduce((x, o) => x * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** how many free-looking addresses the wizard ARP-probes (up to 1 s each) before it gives up proposing a VIP */
export const VIP_PROPOSAL_TRIES = 5;

/**
 * Addresses to propose as a VIP on an interface with address `ifaceCidr` ("198.18.0.11/24"), best first: from the
 * top of its subnet down (.254 of a /24: the end where hosts are rarely numbered from), never the network or
 * broadcast address nor one of `exclude` (the nodes' addresses, the VIPs already chosen); at most `max` of them.
 * Each must still be checked (checkVip and the ARP probe) before it is proposed.
 */
export function vipCandidates(ifaceCidr: string, exclude: string[], max = VIP_PROPOSAL_TRIES): string[] {
  const c = parseCidr(ifaceCidr);
  if (!c || c.prefix > 30) return [];
  const size = 2 ** (32 - c.prefix);
  const network = Math.floor(ipToInt(c.address) / size) * size;
  const out: string[] = [];
  for (let n = network + size - 2; n > network && out.length < max; n--) {
    const ip = intToIp(n);
    if (!exclude.includes(ip)) out.push(ip);
  }
  return out;
}

/** where an instance's VIP goes: its master's interface, and the addresses it must not be */
export interface VipPlace {
  /** the master's name */
  master: string;
  /** what the wizard knows of the master (null offline, or when it was not reached) */
  mk: Known | null;
  mIface: string;
  /** the master interface's first address with its prefix ("198.18.0.11/24"), null when not known */
  cidr: string | null;
  /** its subnet ("198.18.0.0/24"), null when not known */
  subnet: string | null;
  /** every node's addresses */
  addresses: string[];
  /** the VIPs of the instances asked before (addresses without prefix) */
  taken: string[];
}

/** the subnet of an interface address with its prefix, null when not known */
export const subnetOf = (cidr: string | null) =>
  cidr ? networkOf(cidr.split('/')[0], Number(cidr.split('/')[1])) : null;

/**
 * One VIP as typed (or a candidate for the proposal): in the subnet, no node's, no other instance's, nothing
 * answering ARP. `probeFailed`: the ARP probe could not run (a typed VIP is then the user's choice).
 */
export type VipCheck = (part: string) => Promise<string | { vip: string; probeFailed: boolean }>;

export function vipCheck(d: HostDiscovery | undefined, at: VipPlace): VipCheck {
  const { mk, mIface, cidr, addresses, taken } = at;
  return async (part) => {
    const c = checkVip(part, cidr, addresses);
    if (typeof c === 'string') return c;
    const ip = c.vip.split('/')[0];
    if (taken.includes(ip)) return `${ip} is already a VIP of another instance`;
    let probeFailed = false;
    if (d && mk) {
      const mac = await d.arpAnswer(mk.conn, mIface, ip).catch(() => ((probeFailed = true), null));
      if (mac) return `${ip} is in use: it answers ARP from ${mac}; choose a free address`;
    }
    return { vip: c.vip, probeFailed };
  };
}

/**
 * Online, a free address of the master's subnet to propose for instance `name`: the first candidate that passes
 * the same checks as a typed VIP; undefined offline, or when none does (the spinner says why).
 */
export async function proposeVip(
  s: WizardState,
  name: string,
  at: VipPlace,
  checkOne: VipCheck,
): Promise<string | undefined> {
  const { mk, cidr, master, subnet, addresses, taken } = at;
  let vipProposal: string | undefined;
  if (s.d && mk && cidr) {
    const candidates = vipCandidates(cidr, [...addresses, ...taken]);
    const w = s.io ? startWaiting(s.io, `looking for a free VIP in ${subnet} (ARP from ${master})`) : null;
    let why = candidates.length
      ? `${candidates.join(', ')} all answer ARP`
      : `no address of ${subnet} is left to propose`;
    for (const ip of candidates) {
      const c = await checkOne(ip);
      if (typeof c === 'string') continue;
      if (c.probeFailed) {
        why = `the ARP probe from ${master} failed, so ${ip} could not be checked`;
        break;
      }
      vipProposal = ip;
      break;
    }
    if (vipProposal) w?.succeed(`${vipProposal} is free (nothing answers ARP for it): proposed for ${name}`);
    else w?.info(`no VIP proposed: ${why}`);
  }
  return vipProposal;
}
