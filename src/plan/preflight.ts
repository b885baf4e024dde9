/**
 * Preconditions checked on every host before anything changes anywhere. Any refusal stops the run (exit 2).
 */
import { canonicalIP } from '../answers/ip.js';
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { nodeInterfaces, vrrpInstancesOf } from '../answers/targets.js';
import { PATHS } from '../paths.js';
import { lowestFreeVrid, type VrrpAdvert } from '../facts/vrrp.js';
import type { InitFacts } from '../facts/gather.js';
import { currentContent } from '../steps/context.js';
import { actionsOf, type NodePlan } from './types.js';

/** keepalived.conf addresses currently configured (to tell our own VIP from a foreign one on a re-run) */
export function configuredVips(conf: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!conf) return out;
  // virtual_ipaddress_excluded too: keepalived adds and removes those addresses with the instance as well
  const re = /virtual_ipaddress(?:_excluded)?\s*\{([^}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(conf))) {
    for (const line of m[1].split('\n')) {
      const a = /^\s*([0-9A-Fa-f:.]+)(?:\/\d+)?(?:\s|$)/.exec(line);
      const ip = a && canonicalIP(a[1]);
      if (ip) out.add(ip);
    }
  }
  return out;
}

/** each vrrp_instance of a keepalived.conf: its id, interface and whether it is unicast */
function instancesOf(conf: string): { vrid: number; iface: string | null; unicast: boolean }[] {
  return conf
    .split(/^\s*vrrp_instance\s+/m)
    .slice(1)
    .map((b) => ({
      vrid: Number(/^\s*virtual_router_id\s+(\d+)/m.exec(b)?.[1] ?? NaN),
      iface: /^\s*interface\s+(\S+)/m.exec(b)?.[1] ?? null,
      unicast: /^\s*unicast_peer\b/m.test(b),
    }));
}

/**
 * Every node already runs keepalived with a keepalived.conf that advertises each planned virtual router id on the
 * same interface, the same way (multicast or unicast): the run adds no id to any segment, so it need not listen
 * for other routers first (a conflict there would already exist, and `status` reports it). A re-run is then not
 * held up by the listening. An id on a new interface or a switch to multicast is listened for.
 */
export function vridsAdvertised(cfg: Config, facts: Record<string, InitFacts>): boolean {
  return cfg.nodes.every((n) => {
    const f = facts[n.name];
    if (!f || f.services.keepalived?.active !== 'active') return false;
    const conf = currentContent(f, PATHS.keepalivedConf) ?? '';
    // ha-setup's configuration: keepalived logs to logging.file, where the run looks for other routers instead
    // (heardByKeepalived)
    if (!conf.startsWith('! Managed by ha-setup')) return false;
    const have = instancesOf(conf);
    return cfg.instances.every((i) =>
      have.some((h) => h.vrid === i.virtualRouterId && h.iface === n.interface && h.unicast === i.unicast),
    );
  });
}

/**
 * every address of the pair's hosts (leaving nodes included, lo too; IPv6 link-local ones, the source of VRRPv3
 * adverts over IPv6): the source of the pair's own adverts
 */
function pairAddresses(everyFacts: InitFacts[]): Set<string> {
  return new Set(everyFacts.flatMap((f) => Object.values(f.interfaces).flatMap((i) => i.ips.map((a) => a.address))));
}

/**
 * Another VRRP router on the pair's ids as the running keepalived of a node heard it in the last 30 s (the vrrpseen
 * fact), checked by every run, listening or not. An advert keepalived accepted from an address that is no node's is
 * a refusal when keepalived's own journal says so: that router takes part in the pair's elections. The same line in
 * a log file (which any local user can write with `logger`) is a warning, and so is a packet keepalived refused
 * (another VRRP version, password, advert interval or VIPs; its log names no source): it disturbs no election and may
 * come from a node of the pair still on other settings (an interrupted run).
 */
export function heardByKeepalived(
  cfg: Config,
  facts: Record<string, InitFacts>,
  everyFacts: InitFacts[],
): { refusals: string[]; warnings: string[] } {
  const ours = pairAddresses(everyFacts);
  const refusals: string[] = [];
  const warnings: string[] = [];
  for (const n of cfg.nodes) {
    const seen = facts[n.name]?.vrrpseen ?? [];
    const foreign = seen.filter((x) => x.src && !ours.has(x.src));
    const proven = foreign.filter((x) => x.trusted);
    const told = foreign.filter((x) => !x.trusted);
    const refused = seen.filter((x) => !x.src);
    if (proven.length)
      refusals.push(
        `${n.name} (${n.host}): another VRRP router on the pair's virtual router ids (${proven[0].src}) takes part ` +
          `in its elections, as keepalived there heard it in the last 30 s: ` +
          `${proven[proven.length - 1].line.trim()}; ` +
          'two clusters with one id on a segment both flap: give one of them another id',
      );
    if (told.length)
      warnings.push(
        `${n.name}: keepalived's log file names another VRRP router on the pair's ids (${told[0].src}) in the last ` +
          `30 s (${told[told.length - 1].line.trim()}); its lines are not in the journal, so this proves nothing ` +
          '(any local user can write that file through syslog): `ha-setup status` listens for other routers',
      );
    if (refused.length)
      warnings.push(
        `${n.name}: keepalived refused VRRP packets on the pair's ids in the last 30 s ` +
          `(${refused[refused.length - 1].line.trim()}): another router with other settings, or a node of the pair ` +
          'still on different ones; `ha-setup status` listens for other routers',
      );
  }
  return { refusals, warnings };
}

/**
 * Virtual router ids that a router other than the nodes advertises on the segment (heard by any node during the
 * preflight): two clusters with one id on one segment both flap, so that is a precondition failure.
 */
export function foreignVrids(cfg: Config, everyFacts: InitFacts[], adverts: Record<string, VrrpAdvert[]>): string[] {
  // the pair's own adverts (every node's, leaving ones included) are not a conflict
  const ours = pairAddresses(everyFacts);
  const heard = Object.entries(adverts).flatMap(([node, list]) => list.map((a) => ({ ...a, node })));
  const foreign = heard.filter((a) => !ours.has(a.src));
  const out: string[] = [];
  cfg.instances.forEach((inst, i) => {
    const hits = foreign.filter((a) => a.vrid === inst.virtualRouterId);
    if (!hits.length) return;
    const srcs = [...new Set(hits.map((a) => `${a.src} (priority ${a.priority}, VRRPv${a.version})`))];
    const free = lowestFreeVrid([...heard.map((a) => a.vrid), ...cfg.instances.map((x) => x.virtualRouterId)]);
    out.push(
      `instances[${i}].virtualRouterId: ${inst.virtualRouterId} (${inst.name}) is already used on the segment by ` +
        `${srcs.join(', ')}, heard from ${[...new Set(hits.map((a) => a.node))].join(', ')}; two clusters with one ` +
        `id on a segment both flap: choose another id${free ? ` (${free} is free)` : ''}`,
    );
  });
  return out;
}

export interface NeighborFact {
  vip: string;
  /** link-layer address that answered ARP for the VIP, if any */
  lladdr: string | null;
}

export function preflight(
  cfg: Config,
  node: ResolvedNode,
  facts: InitFacts,
  macsOfNodes: Set<string>,
  neighbors: NeighborFact[] = [],
): string[] {
  const out: string[] = [];
  const who = `${node.name} (${node.host})`;
  if (!facts.systemd) out.push(`${who}: systemd is not running; ha-setup manages services with systemctl`);
  if (facts.os.family === 'unknown')
    out.push(
      `${who}: unsupported OS "${facts.os.pretty || facts.os.id}" ` +
        '(supported: Debian/Ubuntu, RHEL/CentOS/Rocky/AlmaLinux/Fedora)',
    );
  // keepalived 2.2 re-applies its real-time limit on every reload; without CAP_SYS_RESOURCE that fails and the kernel
  // kills the VRRP process (seen on the lab: two VRRP processes afterwards, the VIP on both nodes)
  if (cfg.realtime && facts.capbnd === false)
    out.push(
      `${who}: failover.realtime: this host has no CAP_SYS_RESOURCE (a container?), so keepalived's real-time ` +
        'VRRP process would be killed on every reload; set failover.realtime: false',
    );
  const ns = facts.notifyscript;
  if (cfg.notify.script && ns && !ns.ok)
    out.push(
      `${who}: notify.script ${cfg.notify.script}: ${ns.why}; the notify hook runs it as root only when nobody but ` +
        'root can change it or a directory above it (what keepalived checks with enable_script_security)',
    );
  // keepalived -t, nginx -t and the services' starts run these as root: only files nobody but root can change
  for (const b of facts.bins ?? [])
    if ('refused' in b)
      out.push(
        `${who}: ${b.refused}; ha-setup runs keepalived and nginx as root only from a file nobody but root can ` +
          'change (root-owned, not writable by group or others, nor any directory above it, no ACL): fix that first',
      );
  // (becoming root is the session's precondition, checked on connecting: facts are always gathered as root)
  const names = Object.keys(facts.interfaces);
  for (const i of nodeInterfaces(cfg, node)) {
    if (!facts.interfaces[i]) out.push(`${who}: interface ${i} not found (has: ${names.join(', ') || 'none'})`);
  }
  const ours = configuredVips(currentContent(facts, PATHS.keepalivedConf) ?? undefined);
  const kaActive = facts.services.keepalived?.active === 'active';
  for (const inst of cfg.instances) {
    for (const v of inst.vips) {
      for (const f of Object.values(facts.interfaces)) {
        const managed = kaActive && (ours.has(v.address) || (facts.kavips ?? []).includes(v.address));
        if (f.ips.some((a) => a.address === v.address) && !managed) {
          out.push(
            `${who}: VIP ${v.address} (${inst.name}) is already an address of ${f.name} ` +
              'and not managed by keepalived here; remove it or choose a free VIP',
          );
        }
      }
    }
  }
  for (const n of neighbors) {
    if (n.lladdr && !macsOfNodes.has(n.lladdr.toLowerCase())) {
      out.push(
        `${who}: VIP ${n.vip} already answers on the network from ${n.lladdr}, ` +
          'which is none of the load balancers; choose a free VIP',
      );
    }
  }
  out.push(...unicastSources(cfg, node, facts));
  return out;
}

/** a unicast instance's source address of each family must be on its interface there */
function unicastSources(cfg: Config, node: ResolvedNode, facts: InitFacts): string[] {
  const out = new Set<string>();
  for (const v of vrrpInstancesOf(cfg, node)) {
    const f = facts.interfaces[v.iface];
    if (!v.unicast || !v.unicast.src || !f) continue;
    if (!f.ips.some((a) => a.address === v.unicast!.src))
      out.add(
        `${node.name} (${node.host}): address ${v.unicast.src} (unicast_src_ip of ${v.name}) is not on ${v.iface}`,
      );
  }
  return [...out];
}

/**
 * Latent faults: nginx's configuration on disk fails `nginx -t` while nginx runs on an older one (an edit followed by
 * a failed reload). Reported as a warning; refused when this run would reload or restart nginx on that node, which
 * would take it down.
 */
export function latentFaults(
  name: string,
  facts: InitFacts,
  plan: NodePlan,
): { warnings: string[]; refusals: string[] } {
  const t = facts.nginxtest;
  if (!t || t.ok) return { warnings: [], refusals: [] };
  const why = t.firstError ?? `nginx -t exit ${t.code}`;
  const line = `nginx on ${name} would not start again after a restart or reboot: ${why}`;
  const touches = actionsOf(plan).some(
    (a) =>
      (a.kind === 'service' && a.name === 'nginx' && a.action !== 'enable') ||
      a.kind === 'nginx-sync' ||
      (a.kind === 'file' && !!a.validate && a.validate[0] === 'nginx'),
  );
  return touches
    ? { warnings: [], refusals: [`${line}; fix it first (this run would reload nginx there)`] }
    : { warnings: [line], refusals: [] };
}
