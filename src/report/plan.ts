/** Rendering a plan for people (text) and machines (JSON). Secrets are masked in both. */
import type { Change, NodePlan } from '../plan/types.js';
import { changeCount } from '../plan/types.js';
import { redact } from '../answers/resolve.js';
import { unifiedDiff } from './diff.js';

export function maskConfigSecrets(text: string): string {
  return text.replace(/^(\s*auth_pass\s+)\S+/gm, '$1********');
}

export function safeContent(c: Extract<Change, { kind: 'file' }>, secrets: readonly string[]): string {
  return redact(maskConfigSecrets(c.content), secrets);
}

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'file':
      return (
        `${c.before === null ? 'create' : 'update'} ${c.path} (mode ${c.mode})` +
        `${c.validate ? `, validated with ${c.validate[0]} -t` : ''}`
      );
    case 'remove-file':
      return `remove ${c.path}${c.validate ? `, validated with ${c.validate[0]} -t` : ''}`;
    case 'command':
      return `run: ${c.argv.join(' ')}  (${c.describe})`;
    case 'package':
      return `install ${c.names.join(' ')} with ${c.manager === 'apt' ? 'apt-get' : c.manager}`;
    case 'package-file':
      return `copy ${c.file} to the host and install it with ${c.manager === 'apt' ? 'apt-get' : c.manager}`;
    case 'service':
      return c.action === 'daemon-reload' ? 'systemctl daemon-reload' : `systemctl ${c.action} ${c.name}`;
    case 'nginx-sync': {
      const n = c.added.length + c.changed.length + c.removed.length;
      return (
        `sync ${c.configDir}/ from ${c.from} (rsync -a --delete` +
        `${n ? `: ${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed` : ''}` +
        '), nginx -t, reload'
      );
    }
    case 'verify':
      return `check: ${c.describe}`;
  }
}

export interface PlanJson {
  offline: boolean;
  nodes: {
    name: string;
    host: string;
    role: string;
    changes: number;
    files: { path: string; mode: string; content: string; diff: string | null }[];
    steps: { id: string; title: string; description: string; changes: string[]; handlers: string[]; notes: string[] }[];
  }[];
}

export function planToJson(plans: NodePlan[], secrets: readonly string[], offline: boolean): PlanJson {
  return {
    offline,
    nodes: plans.map((p) => ({
      name: p.node,
      host: p.host,
      role: p.role,
      changes: changeCount(p),
      files: p.steps.flatMap((s) =>
        s.changes.flatMap((c) =>
          c.kind === 'file'
            ? [
                {
                  path: c.path,
                  mode: c.mode,
                  content: safeContent(c, secrets),
                  diff:
                    c.before === null
                      ? null
                      : redact(maskConfigSecrets(unifiedDiff(c.before, c.content, c.path)), secrets),
                },
              ]
            : [],
        ),
      ),
      steps: p.steps.map((s) => ({
        id: s.id,
        title: s.title,
        description: s.changes.length
          ? s.changes.map(describeChange).join('; ')
          : s.notes.join('; ') || 'nothing to change',
        changes: s.changes.map(describeChange),
        handlers: s.handlers.map(describeChange),
        notes: s.notes,
      })),
    })),
  };
}

export function planToText(
  plans: NodePlan[],
  secrets: readonly string[],
  opts: { offline: boolean; showContent: boolean },
): string {
  const out: string[] = [];
  for (const p of plans) {
    out.push(`== ${p.node} (${p.host}) ${p.role}: ${changeCount(p)} change(s) ==`);
    p.steps.forEach((s, i) => {
      out.push(`[${i + 1}] ${s.title}`);
      if (!s.changes.length) out.push(`    ok: ${s.notes.join('; ') || 'nothing to change'}`);
      for (const c of s.changes) out.push(`    - ${describeChange(c)}`);
      for (const h of s.handlers) out.push(`    then ${describeChange(h)}`);
      if (s.changes.length) for (const n of s.notes) out.push(`    note: ${n}`);
    });
    const files = p.steps.flatMap((s) =>
      s.changes.filter((c): c is Extract<Change, { kind: 'file' }> => c.kind === 'file'),
    );
    for (const f of files) {
      out.push('');
      if (f.before !== null && !opts.showContent) {
        out.push(redact(maskConfigSecrets(unifiedDiff(f.before, f.content, f.path)), secrets));
      } else {
        out.push(`--- ${f.path} (mode ${f.mode}${f.before === null ? ', new' : ''}) ---`);
        out.push(safeContent(f, secrets).replace(/\n$/, ''));
        out.push(`--- end ${f.path} ---`);
      }
    }
    out.push('');
  }
  if (opts.offline)
    out.push('(offline plan: facts were assumed, not read from the hosts; run without --offline to see real diffs)');
  return out.join('\n');
}
