/**
 * The pair's VRRP instances across hosts (matched by map-units.ts): refused when the hosts disagree on what must
 * agree (VIPs, advert interval, VRRP version, authentication, one VIP holder), and turned into the answers'
 * instances (names, master or auto, priorities, preempt, unicast, authPassEnv).
 */
import { twinName } from '../answers/instances.js';
import { AUTH_PASS_RE, ENV_RE, INSTANCE_RE, INSTANCE_RULE, type AnswersInput } from '../answers/schema.js';
import { vrrpVersionOf } from './map-complete.js';
import type { HostModel, InstanceModel, VipModel } from './map-host.js';
import type { ImportedSecret } from './types.js';

export { vrrpVersionOf } from './map-complete.js';

type InstanceAnswers = AnswersInput['instances'][number];
type VipAnswers = InstanceAnswers['vips'][number];

export interface PairContext {
  models: HostModel[];
  names: string[];
  refusals: string[];
  warnings: string[];
  decisions: string[];
  secrets: ImportedSecret[];
  passwordEnvPrefix: string;
}

/** one answers instance on every host, in host order (map-units.ts matches them) */
export interface Vrid {
  vrid: number;
  /** its vrrp_instance on every host: the IPv4 one of an instance with both families */
  per: InstanceModel[];
  /** the IPv6 twin on every host of an instance with both families; null otherwise */
  twin: InstanceModel[] | null;
  /** the host whose view the answers take for it: its master, or with master: auto the node holding its VIPs */
  master?: number;
}

/** the vrrp_instances of an answers instance: one per host, and the IPv6 twins' */
export function rowsOf(x: Vrid): InstanceModel[][] {
  return x.twin ? [x.per, x.twin] : [x.per];
}

const vipKey = (v: VipModel) =>
  `${v.address}/${v.prefix}${v.dev ? ` dev ${v.dev}` : ''}${v.label ? ` label ${v.label}` : ''}` +
  (v.excluded ? ' (excluded)' : '');

/** what must agree between the hosts of one instance (its names may differ: instances[].names) */
export function checkAgreement(ctx: PairContext, x: Vrid): void {
  const { names, models } = ctx;
  const differ = (what: string, row: InstanceModel[], f: (i: InstanceModel, h: number) => string) => {
    const vals = row.map(f);
    if (new Set(vals).size > 1)
      ctx.refusals.push(
        `VRID ${x.vrid}: the hosts disagree on ${what}: ${vals.map((v, h) => `${names[h]} ${v}`).join(', ')}`,
      );
  };
  for (const row of rowsOf(x)) differ('the VIPs', row, (i) => i.vips.map(vipKey).sort().join(' ') || '(none)');
  differ('the advert interval', x.per, (i) => `${i.advertInt}s`);
  differ('the VRRP version', x.per, (i, h) => `v${vrrpVersionOf(models[h], i)}`);
  differ('the authentication type', x.per, (i) => i.run.auth ?? 'none');
  // only where a type makes keepalived use it (a password without auth_type PASS or AH is never sent)
  const passes = x.per.filter((i) => i.authType).map((i) => i.authPass ?? '');
  if (new Set(passes).size > 1)
    ctx.refusals.push(
      `VRID ${x.vrid}: the hosts disagree on the authentication password (${names.join(', ')}; values not shown)`,
    );
  for (const v of rowsOf(x).flatMap((r) => r[0].vips)) {
    const holders = models.map((m, h) => (m.host.holds.includes(v.address) ? names[h] : null)).filter(Boolean);
    if (holders.length > 1)
      ctx.refusals.push(
        `VRID ${x.vrid} (${x.per[0].name}): split brain now: ${v.address} is held by ${holders.join(' and ')}`,
      );
  }
  if (!x.per[0].vips.length) ctx.refusals.push(`VRID ${x.vrid} (${x.per[0].name}): no VIP ha-setup can manage`);
  else if (x.per.some((i) => i.vips.every((v) => v.excluded)))
    ctx.refusals.push(
      `VRID ${x.vrid} (${x.per[0].name}): only virtual_ipaddress_excluded addresses: ha-setup advertises its VIPs, ` +
        'and the running nodes, which advertise none, would drop those adverts during the takeover',
    );
  for (const name of new Set(x.per.map((i) => i.name)))
    if (!INSTANCE_RE.test(name))
      ctx.refusals.push(`VRID ${x.vrid}: instance name '${name}' is not one ha-setup accepts (${INSTANCE_RULE})`);
  if (x.per.some((i) => i.run.priority === 255))
    ctx.refusals.push(`VRID ${x.vrid}: priority 255 (the address owner) cannot be reproduced (ha-setup: 1..254)`);
}

/** the master chosen: a node (`master`), or none in particular (`auto`: equal priorities; `master` its holder) */
interface MasterChoice {
  master: number;
  auto: boolean;
  /** the VIPs stay on a node below the highest priority: the higher ones do not preempt */
  keptByNopreempt: boolean;
}

/** the hosts that hold every VIP of the instance now */
function holdersOf(ctx: PairContext, x: Vrid): number[] {
  if (!x.per[0].vips.length) return [];
  return ctx.models
    .map((m, h) => (rowsOf(x).every((r) => r[h].vips.every((v) => m.host.holds.includes(v.address))) ? h : -1))
    .filter((h) => h >= 0);
}

/**
 * who is master: equal priorities -> auto (keepalived never preempts an equal priority: the holder keeps the VIPs);
 * the VIP holder when it has the highest priority, or when every node above it has nopreempt (keepalived keeps the
 * VIPs there: a takeover must too); else the highest priority (state MASTER named)
 */
function masterOf(ctx: PairContext, x: Vrid): MasterChoice {
  const { names } = ctx;
  const prios = x.per.map((i) => i.run.priority);
  const top = prios.indexOf(Math.max(...prios));
  const holders = holdersOf(ctx, x);
  const holder = holders.length === 1 ? holders[0] : -1;
  const label = `instances ${x.per[0].name} (VRID ${x.vrid})`;
  const tied = [...new Set(prios.filter((p, h) => prios.indexOf(p) !== h))];
  if (tied.length) {
    const each = tied.map((p) => `${names.filter((_, h) => prios[h] === p).join(' and ')} have priority ${p}`);
    const now = holder >= 0 ? `${names[holder]} holds` : 'no host holds all';
    ctx.decisions.push(
      `${label}: master auto: ${each.join('; ')} (no fixed master: the checks' weights decide, and a node that ` +
        `holds the VIPs keeps them against an equal priority); ${now} its VIPs now`,
    );
    return { master: holder >= 0 ? holder : top, auto: true, keptByNopreempt: false };
  }
  if (holder === top) {
    ctx.decisions.push(
      `${label}: master ${names[top]}: it holds the VIPs now and has the highest priority (${prios[top]})`,
    );
    return { master: top, auto: false, keptByNopreempt: false };
  }
  if (holder >= 0) {
    const above = x.per.map((_, h) => h).filter((h) => prios[h] > prios[holder]);
    if (rowsOf(x).every((r) => above.every((h) => r[h].run.nopreempt))) {
      ctx.warnings.push(
        `${label}: master ${names[holder]}: it holds the VIPs now and keepalived keeps them there (nopreempt on ` +
          `${above.map((h) => `${names[h]}, priority ${prios[h]}`).join('; ')}); the answers give ${names[holder]} ` +
          'the highest priority, so init changes the priorities, not where the VIPs are',
      );
      return { master: holder, auto: false, keptByNopreempt: true };
    }
    ctx.warnings.push(
      `${label}: master ${names[top]} (highest priority ${prios[top]}), but ${names[holder]} holds the VIPs now ` +
        `(priority ${prios[holder]}): a failed check on ${names[top]}?`,
    );
    return { master: top, auto: false, keptByNopreempt: false };
  }
  const masters = x.per.map((i, h) => (i.run.master ? h : -1)).filter((h) => h >= 0);
  const stateMaster = masters.length ? `; state MASTER on ${masters.map((h) => names[h]).join(', ')}` : '';
  const why =
    masters.length === 1 && masters[0] === top
      ? 'state MASTER and the highest priority'
      : `the highest priority (${prios[top]})${stateMaster}`;
  ctx.decisions.push(
    `${label}: master ${names[top]}: ${why}; ${holders.length ? 'several hosts' : 'no host'} holds all its VIPs now`,
  );
  return { master: top, auto: false, keptByNopreempt: false };
}

function vipAnswer(v: VipModel): VipAnswers {
  const address = `${v.address}/${v.prefix}`;
  return v.dev || v.label
    ? { address, ...(v.dev ? { dev: v.dev } : {}), ...(v.label ? { label: v.label } : {}) }
    : address;
}

/** the priorities ha-setup's resolve derives without `priorities` (master first, then the node priority order) */
function derivedPriorities(nodePrio: number[], master: number): number[] {
  const sorted = [...nodePrio].sort((a, b) => b - a);
  const order = [master, ...nodePrio.map((_, h) => h).filter((h) => h !== master)];
  order.sort((a, b) => (a === master ? -1 : b === master ? 1 : nodePrio[b] - nodePrio[a]));
  const out: number[] = [];
  order.forEach((h, k) => (out[h] = sorted[k]));
  return out;
}

export function envNameOf(prefix: string, instance: string): string {
  const n = `${prefix}${instance.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_PASS`;
  return ENV_RE.test(n) ? n : `HA_PASS_${instance.length}`;
}

/** the instance's name: the one most hosts give it (the first host's on a tie); the others in `names` */
function namesOf(ctx: PairContext, x: Vrid): { name: string; names?: Record<string, string> } {
  const count = (n: string) => x.per.filter((i) => i.name === n).length;
  const name = x.per.reduce((b, i) => (count(i.name) > count(b) ? i.name : b), x.per[0].name);
  const names = Object.fromEntries(x.per.flatMap((i, h) => (i.name === name ? [] : [[ctx.names[h], i.name]])));
  if (!Object.keys(names).length) return { name };
  ctx.decisions.push(
    `instances ${name} (VRID ${x.vrid}): named ${Object.entries(names)
      .map(([n, v]) => `${v} on ${n}`)
      .join(', ')} (instances[].names): one instance, the virtual router id ties them`,
  );
  return { name, names };
}

/** an IPv4 and an IPv6 instance taken as one: how ha-setup runs them (its twin X_v6, in sync group X_dual) */
function twinNotes(ctx: PairContext, x: Vrid, name: string): void {
  if (!x.twin) return;
  const renamed = x.twin.flatMap((t, h) =>
    t.name === twinName(x.per[h].name) ? [] : [`${ctx.names[h]} ${t.name} -> ${twinName(x.per[h].name)}`],
  );
  ctx.decisions.push(
    `instances ${name} (VRID ${x.vrid}): its IPv4 and IPv6 vrrp_instances (one id, one interface) move together: ` +
      `one instance with VIPs of both families; ha-setup runs the IPv6 ones in ${twinName(name)}, in one sync ` +
      'group with it',
  );
  if (renamed.length)
    ctx.warnings.push(
      `instances ${name}: ha-setup names the IPv6 instance after the IPv4 one: init renames ${renamed.join(', ')} ` +
        '(what reads the old name, a notify script or a monitoring rule, must follow)',
    );
}

/** per-instance priorities when they are not what resolve derives from the node priorities */
function prioritiesOf(x: Vrid, choice: MasterChoice, nodePrio: number[]): number[] | null {
  const actual = x.per.map((i) => i.run.priority);
  if (choice.auto) return actual.some((p, h) => p !== nodePrio[h]) ? actual : null;
  const wanted = [...actual];
  if (choice.keptByNopreempt) {
    // the holder takes the highest priority (the answers' master has it): the others keep their order
    const top = wanted.indexOf(Math.max(...wanted));
    [wanted[top], wanted[choice.master]] = [wanted[choice.master], wanted[top]];
  }
  const derived = derivedPriorities(nodePrio, choice.master);
  return wanted.some((p, h) => p !== derived[h]) ? wanted : null;
}

/** the answers' instance for one VRID */
export function instanceAnswer(ctx: PairContext, x: Vrid, nodePrio: number[]): InstanceAnswers {
  const { names } = ctx;
  const first = x.per[0];
  const choice = masterOf(ctx, x);
  const master = choice.master;
  x.master = master;
  const named = namesOf(ctx, x);
  const vips = rowsOf(x).flatMap((r) => r[0].vips);
  const inst: InstanceAnswers = {
    name: named.name,
    ...(named.names ? { names: named.names } : {}),
    virtualRouterId: x.vrid,
    vips: vips.map(vipAnswer),
    master: choice.auto ? 'auto' : names[master],
    advertInt: first.advertInt,
  };
  if (vips.some((v) => !v.explicitPrefix))
    ctx.decisions.push(`instances ${inst.name}: a VIP without /prefix is /32 (IPv6: /128), as keepalived adds it`);
  twinNotes(ctx, x, inst.name);
  const priorities = prioritiesOf(x, choice, nodePrio);
  if (priorities) inst.priorities = Object.fromEntries(names.map((n, h) => [n, priorities[h]]));
  for (const row of rowsOf(x))
    row.forEach((i, h) => {
      for (const n of i.run.notes)
        ctx.warnings.push(`${ctx.models[h].fates.at(i.node)}: vrrp_instance ${i.name}: ${n}`);
    });
  preemptOf(ctx, x, choice, inst);
  authOf(ctx, x, inst);
  const uni = x.per.map((i) => i.unicastPeers.length > 0);
  if (new Set(uni).size > 1)
    ctx.refusals.push(
      `VRID ${x.vrid}: unicast on ${names.filter((_, h) => uni[h]).join(', ')} but multicast on ` +
        `${names.filter((_, h) => !uni[h]).join(', ')}: these hosts do not hear each other`,
    );
  else if (uni[0]) inst.unicast = true;
  return inst;
}

/** a value the answers hold once, read from one host: a note when the hosts' values differ (naming each) */
export function differs(
  ctx: PairContext,
  what: string,
  vals: (string | undefined)[],
  ref: number,
  consequence = 'ha-setup writes one value for every node',
): void {
  if (new Set(vals).size < 2) return;
  const each = vals.map((v, h) => `${ctx.names[h]} ${v ?? '(none)'}`).join(', ');
  ctx.warnings.push(`${what} differs between the hosts (${each}): ${consequence}; imported: ${ctx.names[ref]}'s`);
}

function preemptOf(ctx: PairContext, x: Vrid, choice: MasterChoice, inst: InstanceAnswers): void {
  const { names } = ctx;
  const { master } = choice;
  const eff = x.per.map((i) => i.run.nopreempt);
  // the VIPs stay on a lower priority because the nodes above it do not preempt: so must ha-setup's pair
  const nopreempt = eff[master] || choice.keptByNopreempt;
  if (nopreempt) inst.preempt = false;
  if (new Set(eff).size > 1)
    ctx.decisions.push(
      `instances ${inst.name}: nopreempt on ${names.filter((_, h) => eff[h]).join(', ')} only: ` +
        (choice.keptByNopreempt
          ? 'it keeps the VIPs where they are (nopreempt)'
          : `the master's setting counts (${eff[master] ? 'nopreempt' : 'preempt'})`),
    );
  const delays = x.per.map((i) => i.run.preemptDelay);
  const delay = delays[master];
  if (delay && !nopreempt) inst.preemptDelay = Math.min(1000, Math.round(delay));
  differs(
    ctx,
    `instances ${inst.name}: preempt_delay`,
    delays.map((d) => `${d} s`),
    master,
    'ha-setup writes one for every node (the master returning is the one it delays)',
  );
}

function authOf(ctx: PairContext, x: Vrid, inst: InstanceAnswers): void {
  const { models, names } = ctx;
  const first = x.per[0];
  const noAuth = (row: InstanceModel[]) =>
    row.forEach((p, h) => {
      if (!p.authNode) return;
      const v6 = p.family === 6 ? ' (VRRP over IPv6 is VRRPv3)' : '';
      models[h].fates.set(p.authNode, 'dropped', `VRRPv3${v6} has no authentication: keepalived ignores it`);
    });
  if (x.twin) noAuth(x.twin);
  if (vrrpVersionOf(models[0], first) === 3) return noAuth(x.per);
  // no auth_type PASS or AH: keepalived sends and accepts adverts without authentication (its password unused)
  const typeless = x.per.map((p) => !!p.authNode && !p.authType);
  x.per.forEach((p, h) => {
    if (typeless[h])
      models[h].fates.set(p.authNode!, 'dropped', 'no auth_type PASS or AH: keepalived runs without authentication');
  });
  // what keepalived runs (vrrp_strict clears the type on 2.x): a mix is refused (checkAgreement), this says why
  const runs = x.per.map((p) => p.run.auth !== null);
  if (typeless.some(Boolean) && runs.some(Boolean))
    ctx.warnings.push(
      `VRID ${x.vrid}: authentication runs on ${names.filter((_, h) => runs[h]).join(', ')} but not on ` +
        `${names.filter((_, h) => typeless[h]).join(', ')}: keepalived drops the adverts of the other kind`,
    );
  // the password of the first host whose auth_type makes keepalived read it (whatever the hosts' order)
  const src = x.per.findIndex((p) => !!p.authType && p.authPass !== undefined && !!p.authPassNode);
  if (src < 0) return;
  const i = x.per[src];
  if (i.authPass === undefined || !i.authPassNode) return;
  if (models.some((m) => m.strict))
    ctx.decisions.push(
      `instances ${inst.name}: vrrp_strict made keepalived ignore the authentication; ` +
        'ha-setup will use it on every node',
    );
  x.per.forEach((p, h) => {
    if (p.authType === 'AH' && p.authTypeNode)
      models[h].fates.set(
        p.authTypeNode,
        'mapped',
        "AH: ha-setup authenticates with PASS and the same password (keepalived's IPsec AH is not reproduced)",
        'dropped',
      );
  });
  const env = envNameOf(ctx.passwordEnvPrefix, inst.name);
  inst.authPassEnv = env;
  const where = `${names[src]}:${i.authPassNode.at.file}:${i.authPassNode.at.line}`;
  ctx.secrets.push({ env, instance: inst.name, where });
  if (i.authPass.length > 8)
    ctx.warnings.push(
      `${where}: auth_pass is longer than 8 characters: keepalived uses its first 8; set ${env} to those`,
    );
  else if (!AUTH_PASS_RE.test(i.authPass))
    ctx.warnings.push(
      `${where}: the current auth_pass has characters ha-setup does not accept; choose a new one for ${env}`,
    );
}
