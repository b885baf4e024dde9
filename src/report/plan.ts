/** Rendering a plan for people (text) and machines (JSON). Secrets are masked in both. */
import { redact } from '../answers/resolve.js';
import { describeAction } from '../plan/describe.js';
import { actionsOf, changeCount, parallelCount, type NodePlan, type PairPlan } from '../plan/types.js';
import type { FileChange } from '../steps/types.js';
import { unifiedDiff } from './diff.js';

export function maskConfigSecrets(text: string): string {
  return text.replace(/^(\s*auth_pass\s+)\S+/gm, '$1********');
}

export function safeContent(c: FileChange, secrets: readonly string[]): string {
  return redact(maskConfigSecrets(c.content), secrets);
}

/** kept for callers that describe one change */
export const describeChange = describeAction;

export interface PlanJson {
  offline: boolean;
  warnings: string[];
  nodes: {
    name: string;
    host: string;
    role: string;
    leaving: boolean;
    changes: number;
    /** every action in the order it will run, in the wording of the progress output and the run's report */
    actions: string[];
    /** the rolling phase: this node's place (1 = first), null when it runs in the parallel phase */
    rolling: number | null;
    /** with `rolling`: how many of `actions` run first, in the parallel phase; the rest is its rolling turn */
    parallelActions: number;
    holds: string[];
    files: { path: string; mode: string; content: string; diff: string | null }[];
    steps: { id: string; title: string; description: string; changes: string[]; handlers: string[]; notes: string[] }[];
  }[];
}

function filesOf(p: NodePlan): FileChange[] {
  return actionsOf(p).filter((c): c is FileChange => c.kind === 'file');
}

function fileDiff(f: FileChange, secrets: readonly string[]): string | null {
  if (f.before === null || f.before === 'unknown') return null;
  return redact(maskConfigSecrets(unifiedDiff(f.before, f.content, f.path)), secrets);
}

export function planToJson(plan: PairPlan, secrets: readonly string[], offline: boolean): PlanJson {
  return {
    offline,
    warnings: plan.warnings,
    nodes: plan.nodes.map((p) => ({
      name: p.node,
      host: p.host,
      role: p.role,
      leaving: p.leaving,
      changes: changeCount(p),
      actions: actionsOf(p).map((a) => redact(describeAction(a), secrets)),
      rolling: p.rollingOrder,
      parallelActions: parallelCount(p),
      holds: p.holds,
      files: filesOf(p).map((c) => ({
        path: c.path,
        mode: c.mode,
        content: safeContent(c, secrets),
        diff: fileDiff(c, secrets),
      })),
      steps: p.steps.map((s) => ({
        id: s.id,
        title: s.title,
        description: s.changes.length
          ? s.changes.map(describeAction).join('; ')
          : s.notes.join('; ') || 'nothing to change',
        changes: s.changes.map(describeAction),
        handlers: s.handlers.map(describeAction),
        notes: s.notes,
      })),
    })),
  };
}

function nodeHeader(p: NodePlan): string {
  const where = p.rolling ? `, rolling ${p.rollingOrder} (one node at a time)` : '';
  const holds = p.holds.length ? `, holds ${p.holds.join(' ')}` : '';
  return `== ${p.node} (${p.host}) ${p.role}: ${changeCount(p)} change(s)${holds}${where} ==`;
}

export function planToText(
  plan: PairPlan,
  secrets: readonly string[],
  opts: { offline: boolean; showContent: boolean },
): string {
  const out: string[] = [];
  for (const p of plan.nodes) {
    out.push(nodeHeader(p));
    let k = 0;
    // where the node's rolling turn starts: what is above runs in parallel with the other nodes
    const turn = () =>
      p.rolling && k++ === p.rollingFrom
        ? [`    ~~ rolling turn ${p.rollingOrder}: from here one node at a time, the others done ~~`]
        : [];
    p.steps.forEach((s, i) => {
      out.push(`[${i + 1}] ${s.title}`);
      if (!s.changes.length && !s.handlers.length) out.push(`    ok: ${s.notes.join('; ') || 'nothing to change'}`);
      for (const c of s.changes) out.push(...turn(), `    - ${redact(describeAction(c), secrets)}`);
      for (const h of s.handlers) out.push(...turn(), `    then ${redact(describeAction(h), secrets)}`);
      if (s.changes.length || s.handlers.length) for (const n of s.notes) out.push(`    note: ${n}`);
    });
    for (const f of filesOf(p)) {
      out.push('');
      const diff = fileDiff(f, secrets);
      if (diff !== null && !opts.showContent) out.push(diff);
      else {
        out.push(`--- ${f.path} (mode ${f.mode}${f.before === null ? ', new' : ''}) ---`);
        out.push(safeContent(f, secrets).replace(/\n$/, ''));
        out.push(`--- end ${f.path} ---`);
      }
    }
    out.push('');
  }
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  if (opts.offline)
    out.push('(offline plan: facts were assumed, not read from the hosts; run without --offline to see real diffs)');
  return out.join('\n');
}

/** what init shows before it asks to apply: the nodes that leave the pair (their plan) and the warnings; '' if none */
export function leavingToText(plan: PairPlan, secrets: readonly string[]): string {
  const leaving = plan.nodes.filter((p) => p.leaving);
  if (!leaving.length && !plan.warnings.length) return '';
  return planToText({ ...plan, nodes: leaving }, secrets, { offline: false, showContent: false });
}
