/**
 * The pair's health check: the tracked vrrp_script -> healthCheck (mode, URL, timing), and the weight keepalived
 * applies on each host (a track_script line's `weight N` overrides the vrrp_script's). What ha-setup's check does
 * otherwise than the one it replaces (certificate verification, which HTTP answers count as healthy) is named.
 */
import type { AnswersInput } from '../answers/schema.js';
import type { ConfNode } from './keepalived-conf.js';
import { classifyCheck, commandOf, type CheckKind, type HttpTool } from './map-checks.js';
import { allTracks, ignoredWords, type ScriptModel } from './map-host.js';
import type { InstanceModel } from './map-model.js';
import { rowsOf, type PairContext, type Vrid } from './map-instances.js';

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

function scriptKey(ctx: PairContext, h: number, s: ScriptModel): string {
  const cmd = s.scriptNode ? commandOf(s.scriptNode, ctx.models[h].host.keepalivedMajor, false).words : [];
  return JSON.stringify([cmd, s.interval, s.fall, s.rise, s.timeout, s.weight]);
}

/** the words each timing line of a vrrp_script has a handler for (weight: N [reverse]) */
const SCRIPT_READS: Record<string, number> = { interval: 1, timeout: 1, rise: 1, fall: 1, weight: 2 };

function compareScripts(ctx: PairContext, name: string, ref: number): void {
  const base = scriptKey(ctx, ref, ctx.models[ref].scripts.get(name)!);
  ctx.models.forEach((m, h) => {
    const s = m.scripts.get(name);
    if (!s) return;
    m.fates.set(s.node, 'mapped');
    for (const c of s.node.children ?? []) {
      if (c.keyword === 'user' || c.keyword === 'init_fail')
        m.fates.set(c, 'dropped', "not reproduced: ha-setup's check runs its own way");
      const extra = SCRIPT_READS[c.keyword] === undefined ? undefined : ignoredWords(c, SCRIPT_READS[c.keyword]);
      if (extra) m.fates.set(c, 'mapped', extra, 'dropped');
    }
    if (scriptKey(ctx, h, s) !== base)
      ctx.warnings.push(`vrrp_script ${name}: ${ctx.names[h]}'s differs from ${ctx.names[ref]}'s, whose is imported`);
  });
}

/**
 * the script line: what keepalived runs of it (the words an unquoted command line has after its first are not),
 * and the note that says so
 */
function checkKind(ctx: PairContext, ref: number, s: ScriptModel): { kind: CheckKind; ignored?: string } {
  const m = ctx.models[ref];
  if (!s.scriptNode) return { kind: { kind: 'other', what: 'it has no script line' } };
  const cmd = commandOf(s.scriptNode, m.host.keepalivedMajor, false);
  const ignored = cmd.ignored.length
    ? `keepalived runs '${cmd.words.join(' ')}' and ignores what follows it: ${cmd.ignored.join(' ')} ` +
      '(a command with arguments must be quoted)'
    : undefined;
  if (ignored) m.fates.set(s.scriptNode, 'mapped', ignored, 'dropped');
  return { kind: classifyCheck(cmd.words, m.host.scripts), ignored };
}

/** what ha-setup's check (curl, certificate verified, healthy below 500) does otherwise than this client */
function httpDifferences(url: string, tool: HttpTool): { refuse?: string; notes: string[] } {
  const notes: string[] = [];
  if (tool.failOnError)
    notes.push("it fails on an HTTP error (4xx too); ha-setup's check fails on no answer or a 5xx only");
  else notes.push("it succeeds on any HTTP answer; ha-setup's check fails on a 5xx too");
  if (tool.insecure && url.startsWith('https:'))
    return {
      refuse:
        "it does not verify the certificate (curl -k): ha-setup's check does, so a self-signed certificate would " +
        'put every node in FAULT; ha-setup checks the nginx process instead (the answers have no key to skip ' +
        'the verification)',
      notes,
    };
  return { notes };
}

function checkAnswer(ctx: PairContext, vrids: Vrid[], s: ScriptModel, ref: number): HealthCheck {
  const m = ctx.models[ref];
  const { kind, ignored } = checkKind(ctx, ref, s);
  const hc: HealthCheck = { mode: kind.kind === 'restart-then-stop' ? 'restart-then-stop' : 'weight' };
  if (kind.kind === 'http') {
    const diff = kind.own ? { notes: [] } : httpDifferences(kind.url, kind.tool);
    if (diff.refuse) ctx.warnings.push(`${where(ctx, ref, s.node)}: vrrp_script ${s.name}: ${diff.refuse}`);
    else hc.url = kind.url;
    for (const n of diff.notes)
      ctx.warnings.push(`${where(ctx, ref, s.node)}: vrrp_script ${s.name} (${kind.url}): ${n}`);
  }
  if (kind.kind === 'other') {
    ctx.warnings.push(`${where(ctx, ref, s.node)}: vrrp_script ${s.name}: ${kind.what}; ha-setup checks nginx instead`);
    const why = `replaced by ha-setup's nginx check: ${kind.what}${ignored ? `; ${ignored}` : ''}`;
    if (s.scriptNode) m.fates.set(s.scriptNode, 'dropped', why);
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
  // ha-setup's own check says its limit: keepalived's timeout for it is that plus CHECK_SCRIPT_SLACK_S
  if (kind.kind !== 'other' && kind.limit !== undefined) hc.timeout = Math.min(60, Math.max(1, kind.limit));
  else if (s.timeout !== undefined) hc.timeout = Math.min(60, Math.max(1, Math.ceil(s.timeout)));
  else if (hc.mode === 'weight' && hc.interval > 2) {
    // keepalived gives a script without a timeout its interval (vrrp_scheduler.c), not ha-setup's default of 2 s
    hc.timeout = Math.min(60, hc.interval);
    ctx.decisions.push(
      `healthCheck.timeout: vrrp_script ${s.name} has none: keepalived lets it run its interval, ${hc.timeout} s`,
    );
  }
  const w = weightOf(ctx, vrids, s, hc.mode ?? 'weight', ref);
  if (w !== undefined) hc.weight = w;
  return hc;
}

/**
 * the weight keepalived applies on each host to each instance: the instance's (or its sync group's) track_script
 * line's `weight N`, else that host's vrrp_script weight
 */
function hostWeights(ctx: PairContext, row: InstanceModel[], name: string): number[] {
  return row.map((i, h) => {
    const m = ctx.models[h];
    const group = m.groups.find((g) => g.members.includes(i.name));
    const line = [...i.tracks, ...(group?.tracks ?? [])].find((t) => t.name === name);
    return line?.weight ?? m.scripts.get(name)?.weight ?? 0;
  });
}

/** a failed check on the master moves the VIP: FAULT (weight 0), or a node whose priority then beats it */
function moves(prios: number[], weights: number[], master: number): boolean {
  if (weights[master] === 0) return true;
  const failed = prios[master] + Math.min(0, weights[master]);
  return prios.some((p, h) => h !== master && p + Math.max(0, weights[h]) > failed);
}

function masterIndex(row: InstanceModel[]): number {
  return row.reduce((b, i, h) => (i.run.priority > row[b].run.priority ? h : b), 0);
}

function weightOf(ctx: PairContext, vrids: Vrid[], s: ScriptModel, mode: string, ref: number): number | undefined {
  const rows = vrids.flatMap(rowsOf);
  const perVrid = rows.map((r) => hostWeights(ctx, r, s.name));
  const all = [...new Set(perVrid.flat())];
  const refW = perVrid[0]?.[ref] ?? s.weight;
  const drop = (why: string) => {
    ctx.decisions.push(`healthCheck.weight: ${all.join(', ')} not imported: ${why}`);
    return undefined;
  };
  if (all.length === 1 && all[0] === 0) return undefined;
  if (mode === 'restart-then-stop')
    return drop('the script stops keepalived itself and exits 0, so keepalived never applies the weight');
  if (ctx.models.some((m) => m.groups.some((g) => !g.trackingWeight)))
    return drop(
      'keepalived ignores tracking weights in a sync group without sync_group_tracking_weight (global_tracking on ' +
        '1.x): a failed check puts the group in FAULT',
    );
  if (rows.some((r) => r.some((i) => i.run.nopreempt)))
    return drop('with nopreempt only FAULT (weight 0) moves the VIP');
  const runs = rows.map((r, k) =>
    moves(
      r.map((i) => i.run.priority),
      perVrid[k],
      masterIndex(r),
    ),
  );
  const each = (k: number) => rows[k].map((_, h) => `${ctx.names[h]} ${perVrid[k][h]}`).join(', ');
  if (runs.every((r) => !r)) {
    ctx.warnings.push(
      `healthCheck: a failed check never moved the VIP (each host's priority and weight: ${each(0)}): ` +
        'ha-setup uses weight 0 (FAULT) instead',
    );
    return undefined;
  }
  const gap = Math.max(
    0,
    ...rows.map((r) => {
      const ps = r.map((i) => i.run.priority).sort((a, b) => b - a);
      return ps[0] - (ps[1] ?? 0);
    }),
  );
  const fits = (w: number) => w !== 0 && Math.abs(w) > gap;
  const w = fits(refW) ? refW : all.filter(fits).sort((a, b) => Math.abs(a) - Math.abs(b))[0];
  if (all.length > 1 || w !== refW)
    ctx.warnings.push(
      `healthCheck: the hosts track ${s.name} with different weights (${each(0)}); ha-setup uses one on every ` +
        (w === undefined ? 'node: none moves the VIP alone, so weight 0 (FAULT), which does' : `node: ${w}`),
    );
  return w === undefined ? undefined : Math.max(-253, Math.min(253, w));
}
