/**
 * What ha-setup itself writes into a pair's keepalived configuration (templates/keepalived.conf.ejs): its state
 * flags (track_file blocks on PATHS.flagDir and the fast profile's nginx state file on 2.x, vrrp_script blocks
 * running PATHS.flagScript on 1.x) and the instances' lines that track them, its notify hook (the operator's
 * notify script, the metrics and the webhook are read back from it) and the split-brain call of that hook, the
 * global_defs lines it derives from the answers. Read back, they are the answers that write them again: an import
 * of a pair ha-setup set up, then init, changes nothing. None of them is an operator snippet.
 */
import { isFastProfile } from '../answers/resolve.js';
import type { AnswersInput } from '../answers/schema.js';
import { PATHS } from '../paths.js';
import { REALTIME_PRIORITY } from '../render.js';
import type { ConfNode } from './keepalived-conf.js';
import { commandOf } from './map-checks.js';
import type { HostModel } from './map-host.js';
import type { PairContext } from './map-instances.js';

/** the names of the state flags ha-setup tracks on this host (its track_file and flag vrrp_script blocks) */
function ownTrackers(m: HostModel): Set<string> {
  const own = new Set<string>();
  for (const [name, t] of m.trackFiles)
    if (t.file === PATHS.trackFile || t.file?.startsWith(`${PATHS.flagDir}/`)) {
      own.add(name);
      m.fates.set(t.node, 'mapped');
    }
  for (const [name, s] of m.scripts) {
    const words = s.scriptNode ? commandOf(s.scriptNode, m.host.keepalivedMajor, false).words : [];
    if (words[0] === PATHS.flagScript) {
      own.add(name);
      m.fates.set(s.node, 'mapped');
      m.scripts.delete(name);
    }
  }
  return own;
}

/** a notify line that runs ha-setup's hook (the split-brain call included): it is written again from the answers */
function ownNotify(m: HostModel, n: ConfNode, instance: string): boolean {
  const c = commandOf(n, m.host.keepalivedMajor, true);
  if (c.words[0] !== PATHS.notifyScript) return false;
  if (n.keyword === 'notify') return c.words.length === 1;
  return n.keyword === 'notify_master_rx_lower_pri' && c.words.slice(1).join(' ') === `SPLIT_BRAIN ${instance}`;
}

/**
 * mark ha-setup's own constructs of every host as mapped and take them out of the model, so the rest of the
 * mapping sees the operator's only; returns whether every host runs ha-setup's notify hook
 */
export function markOwn(ctx: PairContext): boolean {
  let hooks = 0;
  for (const m of ctx.models) {
    const own = ownTrackers(m);
    let hook = false;
    for (const i of m.instances) {
      i.notifies = i.notifies.filter((n) => {
        if (!ownNotify(m, n.node, i.name)) return true;
        m.fates.set(n.node, 'mapped');
        hook ||= n.kind === 'notify';
        return false;
      });
      i.tracks = i.tracks.filter((t) => !own.has(t.name) || void m.fates.set(t.node, 'mapped'));
      for (const t of i.trackFiles)
        if (own.has(t.name)) m.fates.set(t.node, 'mapped');
        else m.fates.set(t.node, 'dropped', "ha-setup's instances track only its own files (its state flags)");
    }
    for (const g of m.groups) g.tracks = g.tracks.filter((t) => !own.has(t.name) || void m.fates.set(t.node, 'mapped'));
    if (hook) hooks++;
  }
  return hooks === ctx.models.length && hooks > 0;
}

/** `NAME='value'` of ha-setup's notify hook (shell single quotes, as metrics/shell.ts shq writes them) */
export function hookVar(text: string, name: string): string | null {
  const m = new RegExp(`^${name}=((?:'[^']*'|\\\\')*)$`, 'm').exec(text);
  if (!m) return null;
  return m[1].replace(/'\\''/g, "'").replace(/^'|'$/g, '');
}

/** the answers ha-setup's notify hook was written from: notify.script, metrics, alerts.webhook */
export function hookAnswers(
  ctx: PairContext,
  ref: number,
  answers: AnswersInput,
  notify: NonNullable<AnswersInput['notify']>,
): void {
  const text = ctx.models[ref].host.scripts[PATHS.notifyScript];
  if (text === undefined) {
    ctx.warnings.push(
      `${PATHS.notifyScript}: ha-setup's notify hook could not be read: notify.script, metrics and ` +
        'alerts are not known (check them in the answers)',
    );
    return;
  }
  notify.script = hookVar(text, 'OPERATOR_SCRIPT') || null;
  if (hookVar(text, 'METRICS') === '') answers.metrics = false;
  else
    ctx.decisions.push(
      'metrics: on (the hook refreshes them); metrics.textfileDir and metrics.install are not in what keepalived ' +
        'runs: the defaults are imported',
    );
  // the URL is a credential (a Slack-style hook): in a root-only file (WEBHOOK_URL_FILE), in the hook itself
  // before (WEBHOOK_URL); the answers name a variable for it, as for the VRRP passwords
  const urlFile = hookVar(text, 'WEBHOOK_URL_FILE');
  if (urlFile || hookVar(text, 'WEBHOOK_URL')) {
    const env = `${ctx.passwordEnvPrefix}WEBHOOK_URL`;
    answers.alerts = { webhookEnv: env };
    ctx.secrets.push({ env, where: `${ctx.names[ref]}:${urlFile || PATHS.notifyScript}` });
    ctx.warnings.push(
      `alerts.webhookEnv: ${env} (ha-setup's hook posts to a webhook); its header lines, if any, are in ` +
        `${PATHS.webhookHeaders}: name the variable that holds them in alerts.webhookHeadersEnv`,
    );
  }
  ctx.decisions.push(
    `notify: ha-setup's own notify hook (${PATHS.notifyScript}) runs on every node: read back from it`,
  );
}

/** global_defs lines ha-setup writes for these answers: mapped (the rest stays as the operator's snippet) */
export function ownGlobals(ctx: PairContext, answers: AnswersInput): void {
  const fast = isFastProfile(answers.profile ?? 'standard');
  const email = !!answers.notify?.email?.length;
  for (const m of ctx.models) {
    m.keptGlobals = m.keptGlobals.filter((k) => {
      const v = k.args.join(' ');
      const mine =
        (fast && k.keyword === 'vrrp_garp_master_delay' && v === '1') ||
        (fast && k.keyword === 'vrrp_garp_master_repeat' && v === '3') ||
        (answers.profile === 'ultra' && k.keyword === 'vrrp_priority' && v === '-20') ||
        (email && k.keyword === 'smtp_connect_timeout' && v === '30');
      if (mine) m.fates.set(k, 'mapped');
      return !mine;
    });
  }
}

/** vrrp_rt_priority -> failover.realtime (keepalived 2.x; ha-setup runs it at REALTIME_PRIORITY) */
export function realtimeOf(ctx: PairContext, ref: number): boolean | undefined {
  const rt = ctx.models.map((m) => m.rtPriority);
  ctx.models.forEach((m, h) => {
    const r = rt[h];
    if (!r) return;
    const text =
      m.host.keepalivedMajor === 1
        ? 'keepalived 1.x has no real-time scheduling option'
        : r.value === REALTIME_PRIORITY
          ? ''
          : `ha-setup runs keepalived's VRRP process at real-time priority ${REALTIME_PRIORITY} (not ${r.value})`;
    m.fates.set(r.node, 'mapped', text, text ? 'dropped' : undefined);
  });
  if (new Set(rt.map((r) => !!r)).size > 1)
    ctx.warnings.push(
      `vrrp_rt_priority: on ${ctx.names.filter((_, h) => rt[h]).join(', ')} only: failover.realtime is one ` +
        `setting for every node; imported: ${ctx.names[ref]}'s`,
    );
  return rt[ref] ? true : undefined;
}
