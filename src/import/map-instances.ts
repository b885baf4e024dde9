/**
 * The pair's VRRP instances across hosts: matched by virtual router id, refused when the hosts disagree on what
 * must agree (name, VIPs, advert interval, VRRP version, authentication, distinct priorities, one VIP holder),
 * and turned into the answers' instances (master, priorities, preempt, unicast, authPassEnv).
 */
import { AUTH_PASS_RE, ENV_RE, INSTANCE_RE, type AnswersInput } from '../answers/schema.js';
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

/** one instance (by VRID) on every host, in host order */
export interface Vrid {
  vrid: number;
  per: InstanceModel[];
}

/** instances matched by VRID; a VRID missing on a host, or an instance without a valid id, is refused */
export function matchInstances(ctx: PairContext): Vrid[] {
  const ids: number[] = [];
  ctx.models.forEach((m, h) => {
    for (const i of m.instances) {
      if (i.vrid === null) ctx.refusals.push(`${ctx.names[h]}: vrrp_instance ${i.name} has no valid virtual_router_id`);
      else if (!ids.includes(i.vrid)) ids.push(i.vrid);
      const same = m.instances.filter((j) => j.vrid !== null && j.vrid === i.vrid);
      if (same.length > 1 && same[0] === i)
        ctx.refusals.push(
          `${ctx.names[h]}: VRID ${i.vrid} is used by ${same.map((j) => j.name).join(' and ')}; ` +
            'ha-setup runs one instance per VRID',
        );
    }
  });
  const out: Vrid[] = [];
  for (const vrid of ids) {
    const per = ctx.models.map((m) => m.instances.find((i) => i.vrid === vrid));
    const missing = per.map((p, h) => (p ? null : ctx.names[h])).filter((x): x is string => !!x);
    if (missing.length) {
      const has = per.map((p, h) => (p ? `${ctx.names[h]} (${p.name})` : null)).filter(Boolean);
      ctx.refusals.push(`VRID ${vrid}: configured on ${has.join(', ')} but not on ${missing.join(', ')}`);
      continue;
    }
    out.push({ vrid, per: per as InstanceModel[] });
  }
  return out;
}

const vipKey = (v: VipModel) =>
  `${v.address}/${v.prefix}${v.dev ? ` dev ${v.dev}` : ''}${v.label ? ` label ${v.label}` : ''}`;

/** what must agree between the hosts of one VRID */
export function checkAgreement(ctx: PairContext, x: Vrid): void {
  const { names, models } = ctx;
  const differ = (what: string, f: (i: InstanceModel, h: number) => string) => {
    const vals = x.per.map(f);
    if (new Set(vals).size > 1)
      ctx.refusals.push(
        `VRID ${x.vrid}: the hosts disagree on ${what}: ${vals.map((v, h) => `${names[h]} ${v}`).join(', ')}`,
      );
  };
  differ('the instance name', (i) => i.name);
  differ('the VIPs', (i) => i.vips.map(vipKey).sort().join(' ') || '(none)');
  differ('the advert interval', (i) => `${i.advertInt}s`);
  differ('the VRRP version', (i, h) => `v${vrrpVersionOf(models[h], i)}`);
  differ('the authentication type', (i) => i.run.auth ?? 'none');
  const passes = x.per.map((i) => i.authPass ?? '');
  if (new Set(passes).size > 1)
    ctx.refusals.push(
      `VRID ${x.vrid}: the hosts disagree on the authentication password (${names.join(', ')}; values not shown)`,
    );
  const byPrio = new Map<number, string[]>();
  x.per.forEach((i, h) => byPrio.set(i.run.priority, [...(byPrio.get(i.run.priority) ?? []), names[h]]));
  for (const [p, hs] of byPrio)
    if (hs.length > 1)
      ctx.refusals.push(`VRID ${x.vrid} (${x.per[0].name}): ${hs.join(' and ')} both have priority ${p}`);
  for (const v of x.per[0].vips) {
    const holders = models.map((m, h) => (m.host.holds.includes(v.address) ? names[h] : null)).filter(Boolean);
    if (holders.length > 1)
      ctx.refusals.push(
        `VRID ${x.vrid} (${x.per[0].name}): split brain now: ${v.address} is held by ${holders.join(' and ')}`,
      );
  }
  if (!x.per[0].vips.length) ctx.refusals.push(`VRID ${x.vrid} (${x.per[0].name}): no IPv4 VIP ha-setup can manage`);
  if (!INSTANCE_RE.test(x.per[0].name))
    ctx.refusals.push(
      `VRID ${x.vrid}: instance name '${x.per[0].name}' is not one ha-setup accepts (1-31 of A-Z 0-9 _ . -)`,
    );
  if (x.per.some((i) => i.run.priority === 255))
    ctx.refusals.push(`VRID ${x.vrid}: priority 255 (the address owner) cannot be reproduced (ha-setup: 1..254)`);
}

/** who is master: the VIP holder (when consistent with the priorities), else state MASTER, else top priority */
function masterOf(ctx: PairContext, x: Vrid): number {
  const { names, models } = ctx;
  const top = x.per.reduce((b, i, h) => (i.run.priority > x.per[b].run.priority ? h : b), 0);
  const holders = models
    .map((m, h) => (x.per[h].vips.length && x.per[h].vips.every((v) => m.host.holds.includes(v.address)) ? h : -1))
    .filter((h) => h >= 0);
  const label = `instances ${x.per[0].name} (VRID ${x.vrid}): master ${names[top]}`;
  if (holders.length === 1 && holders[0] === top) {
    ctx.decisions.push(`${label}: it holds the VIPs now and has the highest priority (${x.per[top].run.priority})`);
    return top;
  }
  if (holders.length === 1) {
    ctx.warnings.push(
      `${label} (highest priority ${x.per[top].run.priority}), but ${names[holders[0]]} holds the VIPs now ` +
        `(priority ${x.per[holders[0]].run.priority}): a failed check on ${names[top]}, or nopreempt after a failover?`,
    );
    return top;
  }
  const masters = x.per.map((i, h) => (i.run.master ? h : -1)).filter((h) => h >= 0);
  const stateMaster = masters.length ? `; state MASTER on ${masters.map((h) => names[h]).join(', ')}` : '';
  const why =
    masters.length === 1 && masters[0] === top
      ? 'state MASTER and the highest priority'
      : `the highest priority (${x.per[top].run.priority})${stateMaster}`;
  ctx.decisions.push(`${label}: ${why}; ${holders.length ? 'several hosts' : 'no host'} holds all its VIPs now`);
  return top;
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

/** the answers' instance for one VRID */
export function instanceAnswer(ctx: PairContext, x: Vrid, nodePrio: number[]): InstanceAnswers {
  const { names } = ctx;
  const first = x.per[0];
  const master = masterOf(ctx, x);
  const inst: InstanceAnswers = {
    name: first.name,
    virtualRouterId: x.vrid,
    vips: first.vips.map(vipAnswer),
    master: names[master],
    advertInt: first.advertInt,
  };
  if (first.vips.some((v) => !v.explicitPrefix))
    ctx.decisions.push(`instances ${first.name}: a VIP without /prefix is /32, as keepalived adds it`);
  const actual = x.per.map((i) => i.run.priority);
  const derived = derivedPriorities(nodePrio, master);
  if (actual.some((p, h) => p !== derived[h]))
    inst.priorities = Object.fromEntries(names.map((n, h) => [n, actual[h]]));
  x.per.forEach((i, h) => {
    for (const n of i.run.notes) ctx.warnings.push(`${ctx.models[h].fates.at(i.node)}: vrrp_instance ${i.name}: ${n}`);
  });
  preemptOf(ctx, x, master, inst);
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

function preemptOf(ctx: PairContext, x: Vrid, master: number, inst: InstanceAnswers): void {
  const { names } = ctx;
  const eff = x.per.map((i) => i.run.nopreempt);
  if (eff[master]) inst.preempt = false;
  if (new Set(eff).size > 1)
    ctx.decisions.push(
      `instances ${inst.name}: nopreempt on ${names.filter((_, h) => eff[h]).join(', ')} only: ` +
        `the master's setting counts (${eff[master] ? 'nopreempt' : 'preempt'})`,
    );
  const delays = x.per.map((i) => i.run.preemptDelay);
  const delay = delays[master];
  if (delay && !eff[master]) inst.preemptDelay = Math.min(1000, Math.round(delay));
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
  const i = x.per[0];
  if (vrrpVersionOf(models[0], i) === 3) {
    x.per.forEach((p, h) => {
      if (p.authNode) models[h].fates.set(p.authNode, 'dropped', 'VRRPv3 has no authentication: keepalived ignores it');
    });
    return;
  }
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
  const where = `${names[0]}:${i.authPassNode.at.file}:${i.authPassNode.at.line}`;
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
