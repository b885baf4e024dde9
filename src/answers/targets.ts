/**
 * What moves as one: an instance, or a sync group (its instances move together). Switchover, maintenance, the
 * rolling restarts, verify-failover and the state flags keepalived tracks all work per target.
 */
import type { Family } from './ip.js';
import { hasV4, hasV6, twinName } from './instances.js';
import type { Config, ResolvedInstance, ResolvedNode, ResolvedVip } from './resolve.js';

export interface Target {
  /** the instance's name, or the sync group's */
  name: string;
  group: string | null;
  instances: ResolvedInstance[];
  /** the configured master (the same for every instance of a sync group) */
  master: string;
  preempt: boolean;
  /**
   * priority a demoted node loses (switchover: every node but the chosen one is demoted): more than the spread of
   * the target's priorities, so a demoted node is below every node that is not, and keeps its order among them
   */
  demoteWeight: number;
}

export function targetsOf(cfg: Pick<Config, 'instances' | 'syncGroups'>): Target[] {
  const out: Target[] = [];
  const make = (name: string, group: string | null, instances: ResolvedInstance[]): Target => {
    const prios = instances.flatMap((i) => Object.values(i.priorities));
    return {
      name,
      group,
      instances,
      master: instances[0].master,
      preempt: instances.every((i) => i.preempt),
      demoteWeight: Math.min(253, Math.max(...prios) - Math.min(...prios) + 1),
    };
  };
  for (const inst of cfg.instances) {
    const g = cfg.syncGroups.find((x) => x.instances.includes(inst.name));
    if (!g) out.push(make(inst.name, null, [inst]));
    else if (g.instances[0] === inst.name)
      out.push(
        make(
          g.name,
          g.name,
          g.instances.map((n) => cfg.instances.find((i) => i.name === n)!),
        ),
      );
  }
  return out;
}

export function targetOf(cfg: Pick<Config, 'instances' | 'syncGroups'>, instance: string): Target | undefined {
  return targetsOf(cfg).find((t) => t.name === instance || t.instances.some((i) => i.name === instance));
}

export function vipsOf(t: Target): string[] {
  return t.instances.flatMap((i) => i.vips.map((v) => v.address));
}

/** one vrrp_instance as keepalived runs it on a node: an answers instance, or its IPv6 twin */
export interface VrrpInstance {
  /** its name in keepalived on this node */
  name: string;
  base: ResolvedInstance;
  family: Family;
  vips: ResolvedVip[];
  /** the VRRP interface on this node */
  iface: string;
  /** this node's unicast source and its peers' addresses, of the instance's family (unicast only) */
  unicast: { src: string; peers: string[] } | null;
}

/**
 * the vrrp_instances of `node`, in the answers' order: each instance with IPv4 VIPs as itself, its IPv6 VIPs in its
 * twin (twinName: keepalived keeps one address family per vrrp_instance); an IPv6-only instance as itself
 */
export function vrrpInstancesOf(cfg: Pick<Config, 'instances' | 'nodes'>, node: ResolvedNode): VrrpInstance[] {
  return cfg.instances.flatMap((inst) => {
    const own = inst.names[node.name] ?? inst.name;
    const iface = inst.interface ?? node.interface;
    const peers = cfg.nodes.filter((n) => n.name !== node.name);
    const make = (family: Family, name: string): VrrpInstance => ({
      name,
      base: inst,
      family,
      vips: inst.vips.filter((v) => v.family === family),
      iface,
      unicast: !inst.unicast
        ? null
        : family === 4
          ? { src: node.address ?? '', peers: peers.map((p) => p.address ?? '') }
          : { src: node.address6 ?? '', peers: peers.map((p) => p.address6 ?? '') },
    });
    const out: VrrpInstance[] = [];
    if (hasV4(inst)) out.push(make(4, own));
    if (hasV6(inst)) out.push(make(6, hasV4(inst) ? twinName(own) : own));
    return out;
  });
}

/**
 * the vrrp_sync_groups of `node`: each of the answers' groups with its members' vrrp_instances (twins included),
 * and one group per dual-stack instance outside them (the instance and its twin move together)
 */
export function vrrpSyncGroupsOf(
  cfg: Pick<Config, 'instances' | 'nodes' | 'syncGroups'>,
  node: ResolvedNode,
): { name: string; members: string[] }[] {
  const vrrp = vrrpInstancesOf(cfg, node);
  const of = (instance: string) => vrrp.filter((v) => v.base.name === instance).map((v) => v.name);
  const grouped = new Set(cfg.syncGroups.flatMap((g) => g.instances));
  return [
    ...cfg.syncGroups.map((g) => ({ name: g.name, members: g.instances.flatMap(of) })),
    ...cfg.instances
      .filter((i) => !grouped.has(i.name) && hasV4(i) && hasV6(i))
      .map((i) => ({ name: dualGroupName(i.names[node.name] ?? i.name), members: of(i.name) })),
  ];
}

/** the sync group that keeps a dual-stack instance and its IPv6 twin together */
export function dualGroupName(name: string): string {
  return `${name}_dual`;
}

/** every interface the pair uses on a node: its VRRP interface, its instances' (instances[].interface), VIPs' devs */
export function nodeInterfaces(cfg: Pick<Config, 'instances' | 'nodes'>, node: ResolvedNode): string[] {
  return [
    ...new Set([
      node.interface,
      ...vrrpInstancesOf(cfg, node).flatMap((v) => [v.iface, ...v.vips.map((a) => a.dev ?? v.iface)]),
    ]),
  ];
}
