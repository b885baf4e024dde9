/**
 * What an answers instance becomes in keepalived beyond one vrrp_instance of one address family: its name on each
 * node (instances[].names: a pair taken over keeps its names), its interface (instances[].interface), its master
 * (a node, or auto: equal priorities, the health check's weight decides) and, for IPv6 VIPs, its twin: keepalived
 * keeps one address family per vrrp_instance, so an instance with IPv6 VIPs is rendered as the instance (IPv4 VIPs)
 * and its IPv6 twin (VRRPv3), in one sync group so that they move together; an IPv6-only instance is one vrrp_instance.
 */
import type { Family } from './ip.js';
import type { Answers } from './schema.js';
import { ipToInt } from './schema.js';

/** what these functions read of a resolved node and instance (resolve.ts builds them with these functions) */
interface NodeLike {
  name: string;
  address?: string;
}
interface InstanceLike {
  name: string;
  names: Record<string, string>;
  vips: { family: Family }[];
}

/** the keepalived name of an instance's IPv6 twin on a node */
export function twinName(name: string): string {
  return `${name}_v6`;
}

/** the vrrp_instance names of an instance on `node`: its name there, and its IPv6 twin's when it has both families */
export function keepalivedNames(inst: InstanceLike, node: string): string[] {
  const own = inst.names[node] ?? inst.name;
  return hasV4(inst) && hasV6(inst) ? [own, twinName(own)] : [own];
}

/**
 * the node keepalived elects first: `master`, or with master: auto the highest priority, ties to the highest
 * primary address (keepalived's tie-break: the higher IP wins), else the first such node of the answers
 */
export function masterOf(master: string, priorities: Record<string, number>, nodes: NodeLike[]): string {
  if (master !== 'auto') return master;
  const top = Math.max(...nodes.map((n) => priorities[n.name]));
  const tied = nodes.filter((n) => priorities[n.name] === top);
  const known = tied.filter((n) => n.address);
  if (known.length === tied.length && known.length > 1)
    return known.reduce((a, b) => (ipToInt(b.address!) > ipToInt(a.address!) ? b : a)).name;
  return tied[0].name;
}

/** the vrrp_instance names each node's keepalived will have (the twins' too): unique per node, known nodes only */
export function checkInstanceExtras(
  a: Answers,
  nodes: NodeLike[],
  instances: InstanceLike[],
  problems: string[],
): void {
  const nodeNames = new Set(nodes.map((n) => n.name));
  a.instances.forEach((inst, i) => {
    for (const k of Object.keys(inst.names ?? {}))
      if (!nodeNames.has(k))
        problems.push(`instances[${i}].names.${k}: unknown node "${k}" (nodes: ${[...nodeNames].join(', ')})`);
    if (inst.master === 'auto' && nodeNames.has('auto'))
      problems.push(`instances[${i}].master: auto is the keyword for no fixed master, and also a node's name`);
  });
  for (const n of nodes) {
    const seen = new Map<string, string>();
    instances.forEach((inst, i) => {
      const all = keepalivedNames(inst, n.name);
      const own = all[0];
      for (const name of all) {
        if (seen.has(name))
          problems.push(
            `instances[${i}]: on ${n.name} keepalived would have two vrrp_instance ${name} (${seen.get(name)} ` +
              `and ${inst.name}${name === own ? '' : "'s IPv6 twin"}); give one of them another name`,
          );
        seen.set(name, inst.name);
      }
    });
  }
}

export const hasV4 = (inst: Pick<InstanceLike, 'vips'>) => inst.vips.some((v) => v.family === 4);
export const hasV6 = (inst: Pick<InstanceLike, 'vips'>) => inst.vips.some((v) => v.family === 6);
