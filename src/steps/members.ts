/**
 * Members: the nodes of the pair, recorded on every node at the end of each init. The next init reads it back, so
 * a node taken out of the answers is found and deconfigured (steps/deconfigure.ts) instead of staying a silent
 * member that still advertises the pair's VRIDs; `status` reports hosts that act for the pair without being one.
 */
import type { Config } from '../answers/resolve.js';
import type { Members } from '../facts/types.js';
import { PATHS } from '../paths.js';
import { fileChange, stepPlan, type Step } from './context.js';

export function membersOf(cfg: Config): Members {
  return { nodes: cfg.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, user: n.user })) };
}

export function renderMembers(cfg: Config): string {
  return JSON.stringify(membersOf(cfg), null, 2) + '\n';
}

export const members: Step = {
  id: 'members',
  title: 'Members of the pair recorded',
  plan(ctx) {
    const changes = fileChange(ctx, PATHS.members, renderMembers(ctx.cfg), '644');
    return stepPlan(this, changes, [], changes.length ? [] : ['members unchanged']);
  },
};

/** a member a node records that is not in the answers (port and user as init connects: 22, root by default) */
export interface Recorded {
  name: string;
  host: string;
  port: number;
  user: string;
}

/** what the members recorded on the nodes come to for this run (recordedLeavers) */
export interface RecordedLeavers {
  /** members not in the answers, recorded alike by every node that records them: init takes them out of the pair */
  leavers: Recorded[];
  /** names the nodes record at different hosts: connected to neither (a refusal unless forgotten) */
  conflicts: { name: string; why: string }[];
  /** for the plan: entries ignored, members forgotten, a recorded member that is now another node of the answers */
  notes: string[];
  /** --forget names that are no such member */
  notLeavers: string[];
}

const FORGOTTEN =
  'forgotten (--forget): dropped from the recorded members without being connected to; ' +
  "if it still runs keepalived, it may still advertise the pair's virtual router ids: stop it there by hand";

/**
 * The members the nodes of the answers record (their members.json, entries validated by parseMembers) that left the
 * answers; `forget`: names dropped from the records without being touched. A recorded member at the host and port
 * of a node of the answers is that node renamed, not a leaver.
 */
export function recordedLeavers(
  cfg: Config,
  facts: Record<string, { members?: Members | null }>,
  forget: readonly string[] = [],
): RecordedLeavers {
  const notes: string[] = [];
  const names = new Set(cfg.nodes.map((n) => n.name));
  const nodeAt = new Map(cfg.nodes.map((n) => [`${n.host}:${n.port}`, n.name]));
  const byName = new Map<string, { rec: Recorded; by: string }[]>();
  const renamed = new Set<string>();
  for (const n of cfg.nodes) {
    const m = facts[n.name]?.members;
    for (const why of m?.ignored ?? [])
      notes.push(`${n.name}: ${PATHS.members} ${why.replace(/^(entry \d+):/, '$1 ignored:')}`);
    for (const e of m?.nodes ?? []) {
      if (names.has(e.name)) continue;
      const rec = { name: e.name, host: e.host, port: e.port ?? 22, user: e.user ?? 'root' };
      const now = nodeAt.get(`${rec.host}:${rec.port}`);
      if (now) renamed.add(`${rec.name} (${rec.host}:${rec.port}) is node ${now} of the answers now: not taken out`);
      else byName.set(e.name, [...(byName.get(e.name) ?? []), { rec, by: n.name }]);
    }
  }
  notes.push(...renamed);
  const leavers: Recorded[] = [];
  const conflicts: RecordedLeavers['conflicts'] = [];
  for (const [name, recs] of byName) {
    const at = [...new Set(recs.map((r) => `${r.rec.host}:${r.rec.port}`))];
    if (forget.includes(name)) notes.push(`${name} (${at.join(' or ')}): ${FORGOTTEN}`);
    else if (at.length === 1) leavers.push(recs[0].rec);
    else
      conflicts.push({
        name,
        why:
          `${name} left the answers but the nodes record it at different hosts ` +
          `(${recs.map((r) => `${r.by}: ${r.rec.host}:${r.rec.port}`).join(', ')}): connected to neither`,
      });
  }
  return { leavers, conflicts, notes, notLeavers: forget.filter((f) => !byName.has(f)) };
}
