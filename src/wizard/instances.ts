/**
 * The VRRP instances: the layout (one VIP, or two with a master each), then for each instance its master (none when
 * the nodes' priorities tie: master auto, the health check decides), its interface (asked when a node has several),
 * its VIP(s) (an IPv6 one beside them when the interface has a global IPv6 address: network6.ts), its virtual router
 * id, its VRRP password (never saved) and whether the master takes the VIP back (preempt). Online the VIP is checked
 * against the master's subnet and ARP (a free one is proposed), and before the first id on an interface is proposed
 * the wizard listens there for the ids other VRRP routers use on the segment.
 */
import { lowestFreeVrid, usedVrids, type VrrpAdvert } from '../facts/vrrp.js';
import { startWaiting } from '../spinner.js';
import { nodeAddresses, reach } from './hosts.js';
import {
  addressesOf,
  candidateInterfaces,
  checkVip,
  proposeVip,
  subnetOf,
  vipCheck,
  type VipPlace,
} from './network.js';
import { checkVip6, ipv6Place, proposeVip6, vip6Check, type Vip6Place } from './network6.js';
import { validators } from './prompter.js';
import { say, type Known, type Partial, type WizardState } from './state.js';

/** the VRRP adverts heard on each interface: listened for once per interface, from the first master reached */
interface Segment {
  heard: Map<string, VrrpAdvert[]>;
  listenSeconds: number;
}

const sortedIds = (ids: Iterable<number>) => [...ids].sort((x, y) => x - y).join(', ');

/** the instances: the layout, then each instance in turn */
export async function askInstances(s: WizardState, listenSeconds = 3): Promise<void> {
  const nodes = s.a.nodes as Partial[];
  const nodeNames = nodes.map((n) => String(n.name ?? n.host));
  const layout = await s.p.select({
    message: 'Layout',
    choices: [
      { value: 'single', name: 'active-passive: one VIP on a master, the others stand by' },
      { value: 'double', name: "active-active: two VIPs, each with its own master (the guides' VI_1 + VI_2)" },
    ],
    default: 'single',
  });
  const count = layout === 'double' ? 2 : 1;
  const instances: Partial[] = [];
  const addresses = await nodeAddresses(s);
  const segment: Segment = { heard: new Map(), listenSeconds };
  for (let i = 0; i < count; i++) {
    instances.push(await askInstance(s, i, { nodes, nodeNames, instances, addresses, segment }));
  }
  s.a.instances = instances;
}

/**
 * the nodes whose priorities tie ("lb01 and lb02 have the same priority 100"), null when they all differ;
 * `priorities` by node name
 */
export function priorityTies(priorities: [string, number][]): string | null {
  const by = new Map<number, string[]>();
  for (const [n, p] of priorities) by.set(p, [...(by.get(p) ?? []), n]);
  const ties = [...by].filter(([, ns]) => ns.length > 1);
  if (!ties.length) return null;
  return ties.map(([p, ns]) => `${ns.join(' and ')} have the same priority ${p}`).join('; ');
}

/** what the wizard says of an instance with master: auto (the nodes' priorities tie) */
export const masterAutoLine = (name: string, ties: string) =>
  `${name}: ${ties}: no fixed master (master: auto); the health check's weight decides which node holds the ` +
  'VIPs (a node whose check fails gives them up; at equal priorities keepalived prefers the higher address)';

/** the master of instance `name`: asked, unless the nodes' priorities tie (then auto, and said so) */
async function askMaster(s: WizardState, name: string, i: number, nodes: Partial[], nodeNames: string[]) {
  const ties = priorityTies(nodes.map((n, k) => [nodeNames[k], Number(n.priority)]));
  if (ties) {
    say(s, masterAutoLine(name, ties));
    return 'auto';
  }
  return s.p.select({
    message: `${name}: master (starts with the VIP)`,
    choices: nodeNames.map((n) => ({ value: n, name: n })),
    default: nodeNames[i % nodeNames.length],
  });
}

/**
 * Online, when a node has several interfaces an instance could live on (up, with an address, not lo): which one
 * instance `name` uses on every node. null: the nodes' own VRRP interface (instances[].interface left out).
 */
async function askInstanceInterface(s: WizardState, name: string, nodes: Partial[]): Promise<string | null> {
  if (!s.d) return null;
  const reached: { n: Partial; k: Known }[] = [];
  for (const n of nodes) {
    const k = await reach(s, n);
    if (k) reached.push({ n, k });
  }
  const cands = reached.map((x) => candidateInterfaces(x.k));
  if (!cands.some((c) => c.length > 1)) return null;
  const common = (cands[0] ?? []).map((i) => i.name).filter((nm) => cands.every((c) => c.some((i) => i.name === nm)));
  const own = [...new Set(nodes.map((n) => String(n.interface)))];
  const shared = own.length === 1 ? own[0] : null;
  const others = common.filter((x) => x !== shared);
  if (!others.length) return null;
  const describe = (nm: string) =>
    `${nm}  ${reached
      .map((x) => {
        const i = x.k.info.interfaces.find((y) => y.name === nm);
        return `${String(x.n.name)} ${(i && addressesOf(i)) || 'no address'}`;
      })
      .join(', ')}`;
  const ownList = nodes.map((n) => `${String(n.name)} ${String(n.interface)}`).join(', ');
  const got = await s.p.select({
    message: `${name}: interface of its VIPs and VRRP adverts (on every node)`,
    choices: [
      shared
        ? { value: shared, name: `${describe(shared)}  (the nodes' VRRP interface)` }
        : { value: '', name: `each node's own VRRP interface (${ownList})` },
      ...others.map((nm) => ({ value: nm, name: describe(nm) })),
    ],
    default: shared ?? '',
  });
  return got === '' || got === shared ? null : got;
}

/** instance `i`: VI_1, VI_2 */
async function askInstance(
  s: WizardState,
  i: number,
  ctx: { nodes: Partial[]; nodeNames: string[]; instances: Partial[]; addresses: string[]; segment: Segment },
): Promise<Partial> {
  const { p } = s;
  const { nodes, nodeNames, instances, addresses } = ctx;
  const name = `VI_${i + 1}`;
  const master = await askMaster(s, name, i, nodes, nodeNames);
  const iface = await askInstanceInterface(s, name, nodes);
  // the node the VIPs are checked from: the master, or with master auto the first of the highest priority
  const top = Math.max(...nodes.map((n) => Number(n.priority)));
  const from = master === 'auto' ? nodeNames[nodes.findIndex((n) => Number(n.priority) === top)] : master;
  const mNode = nodes[nodeNames.indexOf(from)];
  const mk = await reach(s, mNode);
  const mIface = iface ?? String(mNode.interface);
  const cidr = mk?.info.interfaces.find((x) => x.name === mIface)?.addresses[0] ?? null;
  const taken = instances.flatMap((x) => (x.vips as string[]).map((v) => v.split('/')[0]));
  const at: VipPlace = { master: from, mk, mIface, cidr, subnet: subnetOf(cidr), addresses, taken };
  const others = [];
  for (const [k, n] of nodes.entries())
    if (n !== mNode) others.push({ name: nodeNames[k], k: await reach(s, n), iface: iface ?? String(n.interface) });
  const at6 = await ipv6Place(s, name, { master: from, mk, iface: mIface, addresses, taken }, others);
  const vips = await askVips(s, name, at, at6);
  const heard = await listenOnce(s, ctx.segment, at);
  const vrid = await askVrid(s, name, i, instances, heard);
  const authPass = await p.password({
    message: `${name}: VRRP password (max 8, empty for none; never saved)`,
    validate: validators.authPass,
  });
  const preempt = await p.confirm({
    message:
      master === 'auto'
        ? `${name}: let a node whose priority is higher again take the VIPs back (preempt)?`
        : `${name}: give the VIP back to the master when it recovers (preempt)?`,
    default: true,
  });
  return {
    name,
    ...(iface ? { interface: iface } : {}),
    virtualRouterId: vrid,
    vips,
    master,
    ...(authPass ? { authPass } : {}),
    preempt,
  };
}

/**
 * the VIPs of instance `name`: the IPv4 ones (unless the interface has only IPv6), then an IPv6 one when the
 * interface has a global IPv6 address on the nodes (`at6`)
 */
async function askVips(s: WizardState, name: string, at: VipPlace, at6: Vip6Place | null): Promise<string[]> {
  const v4 = at.cidr || !at6 ? await askVips4(s, name, at) : [];
  const v6 = at6 ? await askVip6(s, name, at6, v4) : [];
  return [...v4, ...v6];
}

/** the VIP(s) of instance `name`, each checked (online, a free one proposed); with the interface's prefix */
async function askVips4(s: WizardState, name: string, at: VipPlace): Promise<string[]> {
  const { master, mIface, cidr, subnet, addresses } = at;
  const checkOne = vipCheck(s.d, at);
  // online, propose a free address of the master's subnet: the first candidate that passes the same checks
  const vipProposal = await proposeVip(s, name, at, checkOne);
  const vipsText = await s.p.input({
    message: cidr
      ? `${name}: VIP, a free address in ${subnet} (${mIface} of ${master})`
      : `${name}: VIP(s) with prefix, e.g. 172.16.70.183/24 or fd00:198:18::100/64`,
    ...(vipProposal ? { default: vipProposal } : {}),
    validate: async (v) => {
      const parts = v.split(/[\s,]+/).filter(Boolean);
      if (!parts.length) return 'at least one VIP';
      for (const part of parts) {
        const c = await checkOne(part);
        if (typeof c === 'string') return c;
      }
      return true;
    },
  });
  return vipsText
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((x) => {
      const c = checkVip(x, cidr, addresses);
      return typeof c === 'string' ? x : c.vip;
    });
}

/**
 * The IPv6 VIP of instance `name` beside its IPv4 ones `v4` (dual-stack): the free address proposed, another one of
 * the prefix, or none. Without IPv4 VIPs (an interface with IPv6 only) it is the instance's VIP: asked, not offered.
 */
async function askVip6(s: WizardState, name: string, at: Vip6Place, v4: string[]): Promise<string[]> {
  const checkOne = vip6Check(s.d, at);
  const proposal = await proposeVip6(s, name, at, checkOne, v4[0]?.split('/')[0]);
  const len = at.cidr6.split('/')[1];
  const ask = (def?: string) =>
    s.p.input({
      message: `${name}: IPv6 VIP, a free address in ${at.prefix} (${at.iface} of ${at.master})`,
      ...(def ? { default: def } : {}),
      validate: async (v) => {
        const parts = v.split(/[\s,]+/).filter(Boolean);
        if (!parts.length) return `IPv6 VIP: give an address of ${at.prefix}`;
        for (const part of parts) {
          const c = await checkOne(part);
          if (typeof c === 'string') return c;
        }
        return true;
      },
    });
  let text: string;
  if (!v4.length) text = await ask(proposal);
  else {
    const how = await s.p.select({
      message: `${name}: an IPv6 VIP beside ${v4.join(', ')} (dual-stack: ${at.iface} has ${at.cidr6})?`,
      choices: [
        ...(proposal ? [{ value: 'proposed', name: `yes: ${proposal}/${len} (free)` }] : []),
        { value: 'other', name: `yes, another address of ${at.prefix}` },
        { value: 'none', name: 'no: IPv4 only' },
      ],
      default: proposal ? 'proposed' : 'none',
    });
    if (how === 'none') return [];
    text = how === 'proposed' && proposal ? proposal : await ask();
  }
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((x) => {
      const c = checkVip6(x, at.cidr6, at.addresses);
      return typeof c === 'string' ? x : c.vip;
    });
}

/** which ids other routers use on the segment of `at.mIface`: listened for once per interface, from its master */
async function listenOnce(s: WizardState, seg: Segment, at: VipPlace): Promise<VrrpAdvert[]> {
  const { mk, mIface, master, addresses } = at;
  if (s.d && mk && !seg.heard.has(mIface)) {
    const secs = seg.listenSeconds;
    const w = s.io ? startWaiting(s.io, `listening for VRRP adverts on ${mIface} of ${master} (${secs} s)`) : null;
    let why = '';
    const heard = await s.d.listen(mk.conn, mIface, secs).catch((e: Error) => ((why = e.message), []));
    const foreign = heard.filter((x) => !addresses.includes(x.src));
    seg.heard.set(mIface, foreign);
    if (why) w?.fail(`could not listen for VRRP adverts on ${mIface} (${why}): the proposed id is not checked`);
    else
      w?.succeed(
        foreign.length
          ? `virtual router ids in use on the segment: ${sortedIds(usedVrids(foreign).keys())}`
          : 'no other VRRP router heard on the segment',
      );
  }
  return seg.heard.get(mIface) ?? [];
}

/** instance `name`'s virtual router id: online the lowest one free on the segment is proposed, offline 51, 52 */
async function askVrid(
  s: WizardState,
  name: string,
  i: number,
  instances: Partial[],
  heard: VrrpAdvert[],
): Promise<number> {
  const used = usedVrids(heard);
  const mine = instances.map((x) => Number(x.virtualRouterId));
  const proposal = lowestFreeVrid([...used.keys(), ...mine]) ?? 51;
  return Number(
    await s.p.input({
      message: `${name}: virtual router id (1..255, unique on the segment)`,
      default: String(s.d ? proposal : 51 + i),
      validate: (v) => {
        const ok = validators.vrid(v);
        if (ok !== true) return ok;
        const id = Number(v);
        if (mine.includes(id)) return `${id} is already the id of another instance`;
        const by = used.get(id);
        if (by) {
          return `${id} is in use on the segment by ${by.map((x) => x.src).join(', ')}; ${proposal} is free`;
        }
        return true;
      },
    }),
  );
}
