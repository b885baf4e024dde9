/** Helpers every planner uses: a file change only when needed, installing a package, a service's state. */
import { isInstalledVersion, type PackageFile } from '../answers/packages.js';
import type { Config } from '../answers/resolve.js';
import type { InitFacts } from '../facts/gather.js';
import type { ServiceFact } from '../facts/types.js';
import type { Change, FileChange, Step, StepContext, StepPlan } from './types.js';

export type { Step, StepContext } from './types.js';

export function stepPlan(
  step: Pick<Step, 'id' | 'title'>,
  changes: Change[] = [],
  handlers: Change[] = [],
  notes: string[] = [],
): StepPlan {
  return { id: step.id, title: step.title, changes, handlers: changes.length ? handlers : [], notes };
}

export function refuse(step: Pick<Step, 'id' | 'title'>, why: string): StepPlan {
  return { ...stepPlan(step), refuse: why };
}

/** A file change only when the content or mode differs from the host's (or may: after a package install). */
export function fileChange(
  ctx: StepContext,
  path: string,
  content: string,
  mode: string,
  extra: Partial<FileChange> = {},
): Change[] {
  const f = ctx.facts.files[path];
  if (f?.exists === 'unknown') return [{ kind: 'file', path, content, mode, before: 'unknown', ...extra }];
  const before = f?.exists ? (f.content ?? '') : null;
  if (before === content && f?.mode === mode) return [];
  return [{ kind: 'file', path, content, mode, before, ...extra }];
}

/** the current content of a file, '' when it is missing or its content is not known before the run */
export function currentContent(facts: InitFacts, path: string): string | null {
  const f = facts.files[path];
  return f?.exists === true ? (f.content ?? '') : null;
}

/**
 * Install `name` when missing: from the answers' package file of the host's format (packages.*) when one is given,
 * else from the host's repositories. Returns the change, or why it cannot be done (a precondition refusal).
 */
export function installChange(ctx: StepContext, name: 'keepalived' | 'nginx'): Change | { refuse: string } {
  const { cfg, facts, node } = ctx;
  if (!facts.pkgmanager) return { refuse: `${name} is not installed on ${node.name} and no apt, dnf or yum was found` };
  const files = cfg.packages[name];
  const expectVersion = name === 'keepalived' ? keepalivedVersionOf(cfg, facts) : undefined;
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
    return { kind: 'package-file', manager: facts.pkgmanager, name, localPath: f.path, file: f.file, expectVersion };
  }
  return { kind: 'package', manager: facts.pkgmanager, names: [name], ...(expectVersion ? { expectVersion } : {}) };
}

/**
 * The upgrade the plan makes of an installed keepalived: a package file (packages.keepalived) of another version than
 * the installed one, or the newer version the repositories offer when packages.upgrade asks; null: none
 */
export function keepalivedUpgrade(
  cfg: Config,
  facts: InitFacts,
): { file: PackageFile } | { repo: NonNullable<InitFacts['kaupgrade']> } | null {
  const installed = facts.packages.keepalived;
  if (!installed) return null;
  const file = cfg.packages.keepalived.find((p) => p.format === (facts.os.family === 'rhel' ? 'rpm' : 'deb'));
  if (file) return isInstalledVersion(installed, file) ? null : { file };
  return cfg.upgrade.includes('keepalived') && facts.kaupgrade ? { repo: facts.kaupgrade } : null;
}

/**
 * The keepalived version a host's configuration is rendered for: the installed one, else the package file's that
 * ha-setup will install, else what the host's repositories offer; null when nothing tells (taken as current 2.x).
 */
export function keepalivedVersionOf(cfg: Config, facts: InitFacts | undefined): string | null {
  if (!facts) return null;
  const format = facts.os.family === 'rhel' ? 'rpm' : 'deb';
  const file = cfg.packages.keepalived.find((p) => p.format === format);
  // an upgrade (a package file of another version, or the repositories' newer one): rendered for the new version
  const up = keepalivedUpgrade(cfg, facts);
  if (facts.kaversion && up && 'repo' in up && up.repo.version) return up.repo.version;
  if (facts.kaversion && !(up && 'file' in up)) return facts.kaversion;
  return file?.version ?? facts.kacandidate ?? facts.kaversion ?? null;
}

export function svc(ctx: Pick<StepContext, 'facts'>, name: string): ServiceFact {
  return ctx.facts.services[name] ?? { active: 'inactive', enabled: 'not-found', mainPid: 0 };
}

/** running now, or may be (a package install the plan makes may have started it) */
export function mayRun(s: ServiceFact): boolean {
  return s.active === 'active' || s.active === 'unknown';
}
