import type { Config, ResolvedNode } from '../answers/resolve.js';
import type { Change, Facts, StepPlan } from '../plan/types.js';

/** What every planner gets: the resolved answers, this node, its facts, and every node's facts. */
export interface StepContext {
  cfg: Config;
  node: ResolvedNode;
  facts: Facts;
  /** facts of all nodes by name (the nginx sync compares with its source) */
  all: Record<string, Facts>;
}

export interface Step {
  id: string;
  title: string;
  plan(ctx: StepContext): StepPlan;
}

export function stepPlan(
  step: Pick<Step, 'id' | 'title'>,
  changes: Change[] = [],
  handlers: Change[] = [],
  notes: string[] = [],
): StepPlan {
  return { id: step.id, title: step.title, changes, handlers: changes.length ? handlers : [], notes };
}

/** A file change only when the content or mode differs from the host's. */
export function fileChange(
  ctx: StepContext,
  path: string,
  content: string,
  mode: string,
  extra: Partial<Extract<Change, { kind: 'file' }>> = {},
): Change[] {
  const f = ctx.facts.files[path];
  const before = f?.exists ? (f.content ?? '') : null;
  if (before === content && f?.mode === mode) return [];
  return [{ kind: 'file', path, content, mode, before, ...extra }];
}

export function svc(ctx: StepContext, name: string) {
  return ctx.facts.services[name] ?? { active: 'inactive', enabled: 'disabled', mainPid: 0 };
}
