/**
 * The VRRP instances: the layout (one VIP, or two with a master each), then for each instance its master, its
 * VIP(s), its virtual router id, its VRRP password (never saved) and whether the master takes the VIP back (preempt).
 * Online the VIP is checked against the master's subnet and ARP (a free one is proposed), and before the first id
 * is proposed the wizard listens on the master's interface for the ids other VRRP routers use on the segment.
 */
import { lowestFreeVrid, usedVrids, type VrrpAdvert } from '../facts/vrrp.js';
import { startWaiting } from '../spinner.js';
import { nodeAddresses, reach } from './hosts.js';
import { checkVip, proposeVip, subnetOf, vipCheck, type VipPlace } from './network.js';
import { validators } from './prompter.js';
import type { Partial, WizardState } from './state.js';

/** the VRRP adverts heard on the segment: listened for once, from the first master reached */
interface Segment {
  heard: VrrpAdvert[] | null;
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
  const segment: Segment = { heard: null, listenSeconds };
  for (let i = 0; i < count; i++) {
    instances.push(await askInstance(s, i, { nodes, nodeNames, instances, addresses, segment }));
  }
  s.a.instances = instances;
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
  const master = await p.select({
    message: `${name}: master (starts with the VIP)`,
    choices: nodeNames.map((n) => ({ value: n, name: n })),
    default: nodeNames[i % nodeNames.length],
  });
  const mNode = nodes[nodeNames.indexOf(master)];
  const mk = await reach(s, mNode);
  const mIface = String(mNode.interface);
  const cidr = mk?.info.interfaces.find((x) => x.name === mIface)?.addresses[0] ?? null;
  const taken = instances.flatMap((x) => (x.vips as string[]).map((v) => v.split('/')[0]));
  const at: VipPlace = { master, mk, mIface, cidr, subnet: subnetOf(cidr), addresses, taken };
  const vips = await askVips(s, name, at);
  const heard = await listenOnce(s, ctx.segment, at);
  const vrid = await askVrid(s, name, i, instances, heard);
  const authPass = await p.password({
    message: `${name}: VRRP password (max 8, empty for none; never saved)`,
    validate: validators.authPass,
  });
  const preempt = await p.confirm({
    message: `${name}: give the VIP back to the master when it recovers (preempt)?`,
    default: true,
  });
  return {
    name,
    virtualRouterId: vrid,
    vips,
    master,
    ...(authPass ? { authPass } : {}),
    preempt,
  };
}

/** the VIP(s) of instance `name`, each checked (online, a free one proposed); with the interface's prefix */
async function askVips(s: WizardState, name: string, at: VipPlace): Promise<string[]> {
  const { master, mIface, cidr, subnet, addresses } = at;
  const checkOne = vipCheck(s.d, at);
  // online, propose a free address of the master's subnet: the first candidate that passes the same checks
  const vipProposal = await proposeVip(s, name, at, checkOne);
  const vipsText = await s.p.input({
    message: cidr
      ? `${name}: VIP, a free address in ${subnet} (${mIface} of ${master})`
      : `${name}: VIP(s) with prefix, e.g. 172.16.70.183/24`,
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

/** which ids other routers use on the segment: listen once, from the first master's interface */
async function listenOnce(s: WizardState, seg: Segment, at: VipPlace): Promise<VrrpAdvert[]> {
  const { mk, mIface, master, addresses } = at;
  if (s.d && mk && seg.heard === null) {
    const secs = seg.listenSeconds;
    const w = s.io ? startWaiting(s.io, `listening for VRRP adverts on ${mIface} of ${master} (${secs} s)`) : null;
    let why = '';
    const heard = await s.d.listen(mk.conn, mIface, secs).catch((e: Error) => ((why = e.message), []));
    const foreign = heard.filter((x) => !addresses.includes(x.src));
    seg.heard = foreign;
    if (why) w?.fail(`could not listen for VRRP adverts on ${mIface} (${why}): the proposed id is not checked`);
    else
      w?.succeed(
        foreign.length
          ? `virtual router ids in use on the segment: ${sortedIds(usedVrids(foreign).keys())}`
          : 'no other VRRP router heard on the segment',
      );
  }
  return seg.heard ?? [];
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
