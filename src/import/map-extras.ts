/**
 * The parts of the mapping around the instances: sync groups, notify (e-mail, the notify script), logging.
 */
import { ABS_PATH_RE, EMAIL_RE, INSTANCE_RE, isHostAddress, type AnswersInput } from '../answers/schema.js';
import { facilityName } from './daemon-options.js';
import { commandOf } from './map-checks.js';
import { dualGroupName } from '../answers/targets.js';
import { differs, rowsOf, type PairContext, type Vrid } from './map-instances.js';

/**
 * vrrp_sync_group -> syncGroups, its members named as the answers name them (a group of one instance does nothing
 * more than the instance). A group of exactly an instance's IPv4 and IPv6 vrrp_instances is the one ha-setup writes
 * itself for such an instance (NAME_dual)
 */
export function syncGroupsOf(
  ctx: PairContext,
  vrids: Vrid[],
  instances: AnswersInput['instances'],
): AnswersInput['syncGroups'] {
  const out: NonNullable<AnswersInput['syncGroups']> = [];
  const on: string[][] = [];
  ctx.models.forEach((m, h) => {
    const answersName = new Map(vrids.flatMap((x, k) => rowsOf(x).map((r) => [r[h].name, instances[k].name] as const)));
    for (const g of m.groups) {
      const members = [...new Set(g.members.flatMap((n) => answersName.get(n) ?? []))];
      const dual = vrids.find(
        (x) => x.twin && g.members.length === 2 && rowsOf(x).every((r) => g.members.includes(r[h].name)),
      );
      if (dual) {
        m.fates.set(g.node, 'mapped');
        const own = dualGroupName(dual.per[h].name);
        if (g.name !== own)
          ctx.warnings.push(
            `vrrp_sync_group ${g.name} (${ctx.names[h]}): the group of ${members[0]}'s IPv4 and IPv6 instances: ` +
              `init renames it ${own}`,
          );
        continue;
      }
      if (members.length < 2 || !INSTANCE_RE.test(g.name)) {
        m.fates.set(g.node, 'dropped', `sync group of ${members.length} instance(s): nothing to move together`);
        continue;
      }
      m.fates.set(g.node, 'mapped');
      const k = out.findIndex((o) => o.name === g.name);
      if (k < 0) {
        out.push({ name: g.name, instances: members });
        on.push([ctx.names[h]]);
        continue;
      }
      on[k].push(ctx.names[h]);
      if (out[k].instances.join() !== members.join())
        ctx.warnings.push(`vrrp_sync_group ${g.name}: ${ctx.names[h]}'s members differ; the first host's are imported`);
    }
  });
  out.forEach((g, k) => {
    if (on[k].length < ctx.names.length)
      ctx.warnings.push(`vrrp_sync_group ${g.name}: on ${on[k].join(', ')} only: ha-setup writes it on every node`);
  });
  return out;
}

/** ha-setup's own notification_email_from: keepalived@NODE on each node */
function ownFrom(ctx: PairContext, h: number): string {
  return `keepalived@${ctx.names[h]}`;
}

/** notification_email* / smtp_server / notify scripts -> notify (`hook`: every host runs ha-setup's notify hook) */
export function notifyOf(ctx: PairContext, ref: number, hook: boolean): NonNullable<AnswersInput['notify']> {
  const m = ctx.models[ref];
  const email = m.emails.filter((e) => EMAIL_RE.test(e.value)).map((e) => e.value);
  ctx.models.forEach((x) => {
    for (const e of x.emails)
      if (!EMAIL_RE.test(e.value)) x.fates.set(e.node, 'dropped', `'${e.value}' is not an e-mail address`);
  });
  differs(
    ctx,
    'notification_email',
    ctx.models.map((x) => x.emails.map((e) => e.value).join(' ') || undefined),
    ref,
  );
  const out: NonNullable<AnswersInput['notify']> = { email };
  // ha-setup writes keepalived@NODE on each node when notify.emailFrom is not given
  const froms = ctx.models.map((x) => x.emailFrom?.value);
  if (!froms.every((f, h) => f === ownFrom(ctx, h))) {
    differs(ctx, 'notification_email_from', froms, ref);
    if (m.emailFrom && EMAIL_RE.test(m.emailFrom.value)) out.emailFrom = m.emailFrom.value;
    else if (m.emailFrom) m.fates.set(m.emailFrom.node, 'dropped', 'not an e-mail address');
  }
  differs(
    ctx,
    'smtp_server',
    ctx.models.map((x) => x.smtpServer?.node.args.join(' ')),
    ref,
  );
  if (m.smtpServer && isHostAddress(m.smtpServer.value)) out.smtpServer = m.smtpServer.value;
  else if (m.smtpServer) m.fates.set(m.smtpServer.node, 'dropped', 'not a host address');
  out.script = hook ? null : notifyScriptOf(ctx);
  for (const x of ctx.models)
    for (const i of x.instances)
      if (i.smtpAlert)
        x.fates.default(i.smtpAlert, email.length ? 'mapped' : 'dropped', email.length ? undefined : 'no e-mail');
  return out;
}

function notifyScriptOf(ctx: PairContext): string | null {
  const all = ctx.models.flatMap((m) =>
    [...m.instances.flatMap((i) => i.notifies), ...m.groups.flatMap((g) => g.notifies)].map((n) => ({
      n,
      m,
      cmd: commandOf(n.node, m.host.keepalivedMajor, true),
    })),
  );
  if (!all.length) return null;
  const cmds = [...new Set(all.map((x) => x.cmd.words.join(' ')))];
  const path = cmds.length === 1 ? all[0].cmd.words : [];
  if (path.length === 1 && ABS_PATH_RE.test(path[0])) {
    for (const x of all) {
      const extra = [...x.cmd.user, ...x.cmd.ignored];
      if (extra.length)
        x.m.fates.set(x.n.node, 'mapped', `${extra.join(' ')}: not reproduced (ha-setup runs it as root)`, 'dropped');
      else x.m.fates.set(x.n.node, 'mapped');
    }
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
