/**
 * Rendering a plan for people (text) and machines (JSON). Secrets never show: a file marked sensitive (its whole
 * content is a secret) is only said to change; in every other file a line that sets a secret (auth_pass...) is
 * masked on both sides of its diff, and every secret value known (the answers', and the old ones the hosts' files
 * set) is replaced by ********. The hosts' text is shown with its control characters escaped.
 */
import { redact } from '../answers/resolve.js';
import { describeAction } from '../plan/describe.js';
import { actionsOf, changeCount, parallelCount, type BaseFacts, type NodePlan, type PairPlan } from '../plan/types.js';
import { printable } from '../printable.js';
import type { FileChange } from '../steps/types.js';
import { unifiedDiff } from './diff.js';
import { maskSecretLines, secretValuesIn } from './mask.js';

/** what a plan may print of a file: its content and diff made safe, or nothing but that it is a secret */
interface FileView {
  secret: boolean;
  content: string | null;
  diff: string | null;
}

/** lines: masked by key, then every known secret value, then the control characters escaped */
function safeText(text: string, secrets: readonly string[]): string {
  return redact(maskSecretLines(text), secrets).split('\n').map(printable).join('\n');
}

function fileView(f: FileChange, secrets: readonly string[]): FileView {
  if (f.sensitive) return { secret: true, content: null, diff: null };
  const known = f.before === null || f.before === 'unknown';
  return {
    secret: false,
    content: safeText(f.content, secrets),
    diff: known ? null : safeText(unifiedDiff(f.before as string, f.content, f.path), secrets),
  };
}

/** the answers' secrets and those the hosts' current files set (a password the answers no longer know) */
function planSecrets(plan: PairPlan<BaseFacts>, secrets: readonly string[]): string[] {
  const old = plan.nodes.flatMap((p) =>
    actionsOf(p).flatMap((c) =>
      (c.kind === 'file' || c.kind === 'remove-file') && typeof c.before === 'string' ? secretValuesIn(c.before) : [],
    ),
  );
  return [...new Set([...secrets, ...old])];
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
    /** `secret`: the whole file is one (content and diff null: it only changes) */
    files: { path: string; mode: string; secret: boolean; content: string | null; diff: string | null }[];
    steps: { id: string; title: string; description: string; changes: string[]; handlers: string[]; notes: string[] }[];
  }[];
}

function filesOf(p: NodePlan<BaseFacts>): FileChange[] {
  return actionsOf(p).filter((c): c is FileChange => c.kind === 'file');
}

export function planToJson(plan: PairPlan<BaseFacts>, answerSecrets: readonly string[], offline: boolean): PlanJson {
  const secrets = planSecrets(plan, answerSecrets);
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
      files: filesOf(p).map((c) => ({ path: c.path, mode: c.mode, ...fileView(c, secrets) })),
      steps: p.steps.map((s) => {
        const changes = s.changes.map((c) => redact(describeAction(c), secrets));
        return {
          id: s.id,
          title: s.title,
          description: changes.length ? changes.join('; ') : s.notes.join('; ') || 'nothing to change',
          changes,
          handlers: s.handlers.map((h) => redact(describeAction(h), secrets)),
          notes: s.notes,
        };
      }),
    })),
  };
}

function nodeHeader(p: NodePlan<BaseFacts>): string {
  const where = p.rolling ? `, rolling ${p.rollingOrder} (one node at a time)` : '';
  const holds = p.holds.length ? `, holds ${p.holds.join(' ')}` : '';
  return `== ${p.node} (${p.host}) ${p.role}: ${changeCount(p)} change(s)${holds}${where} ==`;
}

/** a file of the plan: its diff against the host's, else (new, or --offline) its content */
function fileText(f: FileChange, secrets: readonly string[], showContent: boolean): string[] {
  const v = fileView(f, secrets);
  const head = `--- ${f.path} (mode ${f.mode}${f.before === null ? ', new' : ''})`;
  if (v.secret) return [`${head}: changed (secret) ---`];
  if (v.diff !== null && !showContent) return [v.diff];
  return [`${head} ---`, (v.content ?? '').replace(/\n$/, ''), `--- end ${f.path} ---`];
}

export function planToText(
  plan: PairPlan<BaseFacts>,
  answerSecrets: readonly string[],
  opts: { offline: boolean; showContent: boolean },
): string {
  const secrets = planSecrets(plan, answerSecrets);
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
      const notes = s.notes.map(printable);
      if (!s.changes.length && !s.handlers.length) out.push(`    ok: ${notes.join('; ') || 'nothing to change'}`);
      for (const c of s.changes) out.push(...turn(), `    - ${redact(describeAction(c), secrets)}`);
      for (const h of s.handlers) out.push(...turn(), `    then ${redact(describeAction(h), secrets)}`);
      if (s.changes.length || s.handlers.length) for (const n of notes) out.push(`    note: ${n}`);
    });
    for (const f of filesOf(p)) out.push('', ...fileText(f, secrets, opts.showContent));
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
