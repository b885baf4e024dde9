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

/**
 * Install `name` when missing: from the answers' package file of the host's format (packages.*) when one is given,
 * else from the host's repositories. Returns the change, or why it cannot be done (a precondition refusal).
 */
export function installChange(ctx: StepContext, name: 'keepalived' | 'nginx'): Change | { refuse: string } {
  const { cfg, facts, node } = ctx;
  if (!facts.pkgManager) return { refuse: `${name} is not installed on ${node.name} and no apt, dnf or yum was found` };
  const files = cfg.packages[name];
  if (files.length) {
    const want = facts.os.family === 'rhel' ? 'rpm' : 'deb';
    const f = files.find((x) => x.format === want);
    if (!f) {
      return {
        refuse:
          `packages.${name}: ${files.map((x) => x.file).join(', ')} cannot be installed on ${node.name} ` +
          `(${facts.os.pretty || facts.os.id}, ` +
          `${want === 'rpm' ? 'a RHEL-family host: give an .rpm' : 'a Debian-family host: give a .deb'})`,
      };
    }
    return { kind: 'package-file', manager: facts.pkgManager, name, localPath: f.path, file: f.file };
  }
  return { kind: 'package', manager: facts.pkgManager, names: [name] };
}

/**
 * The keepalived version a host's configuration is rendered for: the installed one, else the package file's that
 * ha-setup will install, else what the host's repositories offer; null when nothing tells (taken as current 2.x).
 */
export function keepalivedVersionOf(cfg: Config, facts: Facts | undefined): string | null {
  if (!facts) return null;
  if (facts.keepalivedVersion) return facts.keepalivedVersion;
  const format = facts.os.family === 'rhel' ? 'rpm' : 'deb';
  return cfg.packages.keepalived.find((p) => p.format === format)?.version ?? facts.keepalivedCandidate ?? null;
}

export function svc(ctx: StepContext, name: string) {
  return ctx.facts.services[name] ?? { active: 'inactive', enabled: 'disabled', mainPid: 0 };
}
