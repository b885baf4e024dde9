/**
 * The pair's vrrp_instances matched across hosts into the answers' instances. keepalived keeps one address family
 * per vrrp_instance and one virtual router id per interface and family, so an IPv4 and an IPv6 instance may share an
 * id on one interface: when they move together (one sync group, or the same priority and start state outside any)
 * and ha-setup would render both alike, they are one instance with VIPs of both families (ha-setup's own X and its
 * IPv6 twin X_v6 among them); otherwise each is an instance of its own. Instances are matched across hosts by
 * virtual router id and address families (and by interface when a host runs one id on several): their names may
 * differ between hosts (instances[].names).
 */
import type { HostModel, InstanceModel } from './map-host.js';
import type { PairContext, Vrid } from './map-instances.js';

/** one host's instance as the answers see it: an instance, or an IPv4 instance with its IPv6 twin */
interface Unit {
  primary: InstanceModel;
  twin: InstanceModel | null;
}

function groupOf(m: HostModel, i: InstanceModel) {
  return m.groups.find((g) => g.members.includes(i.name));
}

/** an IPv4 and an IPv6 instance (one id, one interface) that move together and that ha-setup renders alike */
function pairable(m: HostModel, a: InstanceModel, b: InstanceModel): boolean {
  const ga = groupOf(m, a);
  const gb = groupOf(m, b);
  const together = ga ? ga === gb : !gb && a.run.master === b.run.master;
  return (
    together &&
    a.vips.length > 0 &&
    b.vips.length > 0 &&
    a.run.priority === b.run.priority &&
    a.run.nopreempt === b.run.nopreempt &&
    a.run.preemptDelay === b.run.preemptDelay &&
    a.advertInt === b.advertInt &&
    a.unicastPeers.length > 0 === b.unicastPeers.length > 0
  );
}

/** one host's IPv4 instances with their IPv6 twin */
function hostPairs(m: HostModel): Map<InstanceModel, InstanceModel> {
  const out = new Map<InstanceModel, InstanceModel>();
  for (const a of m.instances) {
    if (a.family !== 4 || a.vrid === null) continue;
    const same = (f: 4 | 6) =>
      m.instances.filter((j) => j.family === f && j.vrid === a.vrid && j.interface === a.interface);
    const v6 = same(6);
    if (same(4).length === 1 && v6.length === 1 && pairable(m, a, v6[0])) out.set(a, v6[0]);
  }
  return out;
}

/** a pair of families is one instance only when every host runs that id so (else each family is one instance) */
function agreedPairs(ctx: PairContext): Map<InstanceModel, InstanceModel>[] {
  const pairs = ctx.models.map(hostPairs);
  const ids = [...new Set(pairs.flatMap((p) => [...p.keys()].map((a) => a.vrid!)))];
  for (const id of ids) {
    const counts = pairs.map((p) => [...p.keys()].filter((a) => a.vrid === id).length);
    if (counts.every((c) => c === counts[0])) continue;
    const on = ctx.names.filter((_, h) => counts[h] > 0);
    ctx.decisions.push(
      `VRID ${id}: its IPv4 and IPv6 instances move together on ${on.join(', ')} only: one instance per address ` +
        'family',
    );
    for (const p of pairs) for (const a of [...p.keys()]) if (a.vrid === id) p.delete(a);
  }
  return pairs;
}

const familyText = (u: Unit) => (u.twin ? 'IPv4 and IPv6' : `IPv${u.primary.family}`);
const keyOf = (u: Unit) => `${u.primary.vrid}/${familyText(u)}`;

/** a host's units in its instances' order; an id twice on one interface for one family is refused (as keepalived) */
function unitsOf(ctx: PairContext, h: number, pairs: Map<InstanceModel, InstanceModel>): Unit[] {
  const m = ctx.models[h];
  const twins = new Set(pairs.values());
  const out: Unit[] = [];
  for (const i of m.instances) {
    if (i.vrid === null) {
      ctx.refusals.push(`${ctx.names[h]}: vrrp_instance ${i.name} has no valid virtual_router_id`);
      continue;
    }
    const same = m.instances.filter((j) => j.vrid === i.vrid && j.family === i.family && j.interface === i.interface);
    if (same.length > 1 && same[0] === i)
      ctx.refusals.push(
        `${ctx.names[h]}: VRID ${i.vrid} is used by ${same.map((j) => j.name).join(' and ')} on ` +
          `${i.interface ?? 'no interface'} (IPv${i.family}): keepalived refuses an id twice on an interface for one ` +
          'address family',
      );
    if (!twins.has(i)) out.push({ primary: i, twin: pairs.get(i) ?? null });
  }
  return out;
}

/** the units of one key on every host, matched by interface when a host has several */
function matchKey(ctx: PairContext, key: string, per: Unit[][]): Unit[][] | null {
  const [vrid, family] = key.split('/');
  const label = `VRID ${vrid}${family === 'IPv4' ? '' : ` (${family})`}`;
  const missing = per.map((u, h) => (u.length ? null : ctx.names[h])).filter((x): x is string => !!x);
  if (missing.length) {
    const has = per.flatMap((u, h) => u.map((x) => `${ctx.names[h]} (${x.primary.name})`));
    ctx.refusals.push(`${label}: configured on ${has.join(', ')} but not on ${missing.join(', ')}`);
    return null;
  }
  if (per.every((u) => u.length === 1)) return [per.map((u) => u[0])];
  const ifs = per.map((u) => u.map((x) => x.primary.interface ?? '').sort());
  if (ifs.some((l) => l.join() !== ifs[0].join() || new Set(l).size !== l.length)) {
    const each = per.map((u, h) => `${ctx.names[h]} ${u.map((x) => x.primary.interface ?? '?').join(' and ')}`);
    ctx.refusals.push(
      `${label}: on several interfaces (${each.join(', ')}): ha-setup matches the instances of one id across the ` +
        'hosts by their interface, which must then have the same name on every host',
    );
    return null;
  }
  return ifs[0].map((i) => per.map((u) => u.find((x) => (x.primary.interface ?? '') === i)!));
}

/** the answers' instances: each with its vrrp_instance (and IPv6 twin) on every host, in host order */
export function matchInstances(ctx: PairContext): Vrid[] {
  const pairs = agreedPairs(ctx);
  const units = ctx.models.map((_, h) => unitsOf(ctx, h, pairs[h]));
  const keys = [...new Set(units.flatMap((u) => u.map(keyOf)))];
  const out: Vrid[] = [];
  for (const key of keys) {
    const matched = matchKey(
      ctx,
      key,
      units.map((u) => u.filter((x) => keyOf(x) === key)),
    );
    for (const row of matched ?? []) {
      const twin = row.every((u) => u.twin) ? row.map((u) => u.twin!) : null;
      out.push({ vrid: row[0].primary.vrid!, per: row.map((u) => u.primary), twin });
    }
  }
  return out;
}
