/**
 * The parts of the mapping around the instances: the health check (the tracked vrrp_script), sync groups, notify,
 * nginx, logging, the includeDir and the snippets of what keepalived can include but the answers cannot express.
 */
import { ABS_PATH_RE, EMAIL_RE, INSTANCE_RE, isHostAddress, type AnswersInput } from '../answers/schema.js';
import { facilityName } from './daemon-options.js';
import type { ConfNode } from './keepalived-conf.js';
import { classifyCheck, commandWords } from './map-checks.js';
import { effectiveNopreempt, type PairContext, type Vrid } from './map-instances.js';
import { allTracks, type ScriptModel } from './map-host.js';

type HealthCheck = NonNullable<AnswersInput['healthCheck']>;

function where(ctx: PairContext, h: number, n: ConfNode): string {
  return `${ctx.names[h]}:${n.at.file}:${n.at.line}`;
}

/** the tracked vrrp_script -> healthCheck; other scripts kept (untracked) or dropped (a second tracked one) */
export function healthCheckOf(ctx: PairContext, vrids: Vrid[], ref: number): HealthCheck | undefined {
  const { models } = ctx;
  const tracked: string[] = [];
  models.forEach((m) => {
    for (const t of allTracks(m)) {
      if (!m.scripts.has(t.name)) m.fates.set(t.node, 'dropped', `no vrrp_script ${t.name}: keepalived ignores it`);
      else if (!tracked.includes(t.name)) tracked.push(t.name);
    }
  });
  const chosen = tracked.find((t) => models[ref].scripts.has(t)) ?? tracked[0];
  models.forEach((m) => {
    for (const s of m.scripts.values()) {
      if (s.name === chosen) continue;
      if (tracked.includes(s.name))
        m.fates.set(s.node, 'dropped', 'a second tracked script: ha-setup tracks one check');
      else m.fates.default(s.node, 'kept');
    }
    for (const t of allTracks(m))
      if (t.name !== chosen && m.scripts.has(t.name))
        m.fates.set(t.node, 'dropped', 'a second tracked script: ha-setup tracks one check');
  });
  if (!chosen) {
    ctx.decisions.push('healthCheck: no vrrp_script was tracked; ha-setup adds its nginx check (FAULT on failure)');
    return undefined;
  }
  const refModel = models[ref].scripts.has(chosen) ? ref : models.findIndex((m) => m.scripts.has(chosen));
  const s = models[refModel].scripts.get(chosen)!;
  compareScripts(ctx, chosen, refModel);
  return checkAnswer(ctx, vrids, s, refModel);
}

function compareScripts(ctx: PairContext, name: string, ref: number): void {
  const key = (s: ScriptModel) => JSON.stringify([s.args, s.interval, s.fall, s.rise, s.timeout, s.weight]);
  const base = ctx.models[ref].scripts.get(name)!;
  ctx.models.forEach((m, h) => {
    const s = m.scripts.get(name);
    if (s) m.fates.set(s.node, 'mapped');
    for (const c of s?.node.children ?? [])
      if (c.keyword === 'user' || c.keyword === 'init_fail')
        m.fates.set(c, 'dropped', "not reproduced: ha-setup's check runs its own way");
    if (s && key(s) !== key(base))
      ctx.warnings.push(`vrrp_script ${name}: ${ctx.names[h]}'s differs from ${ctx.names[ref]}'s, whose is imported`);
  });
}

function checkAnswer(ctx: PairContext, vrids: Vrid[], s: ScriptModel, ref: number): HealthCheck {
  const m = ctx.models[ref];
  const words = commandWords(s.args, m.host.keepalivedMajor);
  const kind = classifyCheck(words, m.host.scripts);
  const scriptNode = s.node.children?.find((c) => c.keyword === 'script');
  const hc: HealthCheck = { mode: kind.kind === 'restart-then-stop' ? 'restart-then-stop' : 'weight' };
  if (kind.kind === 'http') hc.url = kind.url;
  if (kind.kind === 'other') {
    ctx.warnings.push(`${where(ctx, ref, s.node)}: vrrp_script ${s.name}: ${kind.what}; ha-setup checks nginx instead`);
    if (scriptNode) m.fates.set(scriptNode, 'dropped', `replaced by ha-setup's nginx check: ${kind.what}`);
  } else {
    const what =
      kind.kind === 'http'
        ? `an HTTP check of ${kind.url}`
        : kind.kind === 'process'
          ? 'an nginx process check'
          : "the guides' restart-then-stop script";
    ctx.decisions.push(`healthCheck: vrrp_script ${s.name} (${where(ctx, ref, s.node)}) is ${what}`);
  }
  hc.interval = Math.min(300, Math.max(1, Math.ceil(s.interval)));
  if (hc.interval !== s.interval) ctx.decisions.push(`healthCheck.interval: ${s.interval} s read as ${hc.interval} s`);
  hc.fall = Math.min(100, s.fall);
  hc.rise = Math.min(100, s.rise);
  if (s.timeout !== undefined) hc.timeout = Math.min(60, Math.max(1, Math.ceil(s.timeout)));
  const w = weightOf(ctx, vrids, s, hc.mode ?? 'weight', ref);
  if (w !== undefined) hc.weight = w;
  return hc;
}

/** the weight keepalived applies: a track_script line's `weight N` overrides the vrrp_script's */
function trackedWeight(ctx: PairContext, s: ScriptModel, ref: number): number {
  const order = [ref, ...ctx.models.keys()].filter((h, i, all) => all.indexOf(h) === i);
  const weights = order.flatMap((h) =>
    allTracks(ctx.models[h])
      .filter((t) => t.name === s.name)
      .map((t) => t.weight ?? s.weight),
  );
  if (new Set(weights).size > 1)
    ctx.warnings.push(
      `healthCheck: vrrp_script ${s.name} is tracked with different weights (${[...new Set(weights)].join(', ')}); ` +
        `ha-setup uses one: ${weights[0]}`,
    );
  return weights[0] ?? s.weight;
}

function weightOf(ctx: PairContext, vrids: Vrid[], script: ScriptModel, mode: string, ref: number): number | undefined {
  const s = { ...script, weight: trackedWeight(ctx, script, ref) };
  if (!s.weight) return undefined;
  const drop = (why: string) => {
    ctx.decisions.push(`healthCheck.weight: ${s.weight} not imported: ${why}`);
    return undefined;
  };
  if (mode === 'restart-then-stop')
    return drop('the script stops keepalived itself and exits 0, so keepalived never applies the weight');
  if (ctx.models.some((m) => m.groups.length))
    return drop('keepalived ignores tracking weights in a sync group (a failed check puts the group in FAULT)');
  if (vrids.some((x) => x.per.some((i, h) => effectiveNopreempt(ctx.models[h], i))))
    return drop('with nopreempt only FAULT (weight 0) moves the VIP');
  const gap = Math.max(
    0,
    ...vrids.map((x) => {
      const ps = x.per.map((i) => i.priority).sort((a, b) => b - a);
      return ps[0] - (ps[1] ?? 0);
    }),
  );
  if (Math.abs(s.weight) <= gap) {
    ctx.warnings.push(
      `healthCheck: weight ${s.weight} cannot move the VIP (the master leads by ${gap}): a failed check never ` +
        'failed over; ha-setup uses weight 0 (FAULT) instead',
    );
    return undefined;
  }
  return Math.max(-253, Math.min(253, s.weight));
}

/** vrrp_sync_group -> syncGroups (a group of one instance does nothing more than the instance) */
export function syncGroupsOf(ctx: PairContext, vrids: Vrid[]): AnswersInput['syncGroups'] {
  const names = new Set(vrids.map((x) => x.per[0].name));
  const out: NonNullable<AnswersInput['syncGroups']> = [];
  ctx.models.forEach((m, h) => {
    for (const g of m.groups) {
      const members = g.members.filter((n) => names.has(n));
      if (members.length < 2 || !INSTANCE_RE.test(g.name)) {
        m.fates.set(g.node, 'dropped', `sync group of ${members.length} instance(s): nothing to move together`);
        continue;
      }
      m.fates.set(g.node, 'mapped');
      const same = out.find((o) => o.name === g.name);
      if (!same) out.push({ name: g.name, instances: members });
      else if (same.instances.join() !== members.join())
        ctx.warnings.push(`vrrp_sync_group ${g.name}: ${ctx.names[h]}'s members differ; the first host's are imported`);
    }
  });
  return out;
}

/** notification_email* / smtp_server / notify scripts -> notify */
export function notifyOf(ctx: PairContext, ref: number): AnswersInput['notify'] {
  const m = ctx.models[ref];
  const email = m.emails.filter((e) => EMAIL_RE.test(e.value)).map((e) => e.value);
  ctx.models.forEach((x, h) => {
    for (const e of x.emails)
      if (!EMAIL_RE.test(e.value)) x.fates.set(e.node, 'dropped', `'${e.value}' is not an e-mail address`);
    const mine = x.emails.map((e) => e.value).join();
    if (h !== ref && mine !== m.emails.map((e) => e.value).join())
      ctx.warnings.push(`notification_email: ${ctx.names[h]}'s differs from ${ctx.names[ref]}'s, whose is imported`);
  });
  const out: NonNullable<AnswersInput['notify']> = { email };
  if (m.emailFrom && EMAIL_RE.test(m.emailFrom.value)) out.emailFrom = m.emailFrom.value;
  else if (m.emailFrom) m.fates.set(m.emailFrom.node, 'dropped', 'not an e-mail address');
  if (m.smtpServer && isHostAddress(m.smtpServer.value)) out.smtpServer = m.smtpServer.value;
  else if (m.smtpServer) m.fates.set(m.smtpServer.node, 'dropped', 'not a host address');
  out.script = notifyScriptOf(ctx);
  for (const x of ctx.models)
    for (const i of x.instances)
      if (i.smtpAlert)
        x.fates.default(i.smtpAlert, email.length ? 'mapped' : 'dropped', email.length ? undefined : 'no e-mail');
  return out;
}

function notifyScriptOf(ctx: PairContext): string | null {
  const all = ctx.models.flatMap((m, h) =>
    [...m.instances.flatMap((i) => i.notifies), ...m.groups.flatMap((g) => g.notifies)].map((n) => ({ n, m, h })),
  );
  if (!all.length) return null;
  const cmds = [...new Set(all.map((x) => x.n.words.join(' ')))];
  const path = cmds.length === 1 ? commandWords(all[0].n.words, all[0].m.host.keepalivedMajor) : [];
  if (path.length === 1 && ABS_PATH_RE.test(path[0])) {
    for (const x of all) x.m.fates.set(x.n.node, 'mapped');
    const kinds = [...new Set(all.map((x) => x.n.kind))];
    if (kinds.some((k) => k !== 'notify'))
      ctx.warnings.push(
        `notify.script: ${path[0]} ran as ${kinds.join(', ')}; ha-setup runs it on every transition with ` +
          'TYPE NAME STATE PRIORITY',
      );
    return path[0];
  }
  const why =
    cmds.length > 1
      ? `several notify commands (${cmds.join(' | ')}): ha-setup runs one notify.script`
      : `'${cmds[0]}': notify.script is one script path without arguments`;
  for (const x of all) x.m.fates.set(x.n.node, 'dropped', why);
  return null;
}

/** -S N -> logging.facility; other daemon options -> notes */
export function loggingOf(ctx: PairContext, dropped: { at: string; text: string }[]): AnswersInput['logging'] {
  const fac = ctx.models.map((m) => facilityName(m.host.daemonOptions.logFacility));
  ctx.models.forEach((m, h) => {
    const o = m.host.daemonOptions;
    const at = `${ctx.names[h]}:${o.source}`;
    for (const n of o.notes) dropped.push({ at, text: n });
    if (o.useFile && o.useFile !== '/etc/keepalived/keepalived.conf')
      ctx.decisions.push(`${at}: keepalived reads ${o.useFile} (-f); ha-setup writes /etc/keepalived/keepalived.conf`);
    if (o.configId) dropped.push({ at, text: `-i ${o.configId}: ha-setup writes each node's own configuration` });
    const other = o.other;
    if (other.length) dropped.push({ at, text: `keepalived options ${other.join(' ')}: not reproduced` });
  });
  if (new Set(fac).size > 1) ctx.warnings.push(`-S: the hosts log to different facilities (${fac.join(', ')})`);
  const f = fac[0];
  if (f && /^local[0-7]$/.test(f)) return { facility: f as 'local4' };
  ctx.decisions.push(
    f
      ? `logging: keepalived logs to ${f}; ha-setup uses local4 (-S 4) and its own log file`
      : 'logging: keepalived logs to the daemon facility (no -S); ha-setup uses local4 (-S 4) and its own log file',
  );
  return undefined;
}
