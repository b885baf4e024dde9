/**
 * Install keepalived (the guides' step "install keepalived": `yum install -y keepalived`) with the host's package
 * manager, plus curl when the health check probes a URL or alerts post to a webhook. The version the plan renders
 * for is the repository's candidate (or the package file's); a different one installed stops the node's run.
 */
import type { Change } from './types.js';
import { installChange, keepalivedUpgrade, refuse, stepPlan, type Step } from './context.js';

export const keepalivedInstall: Step = {
  id: 'keepalived-install',
  title: 'keepalived: install',
  plan(ctx) {
    const { facts, cfg, node } = ctx;
    const changes: Change[] = [];
    const notes: string[] = [];
    // an upgrade of the installed keepalived (rolled: plan/rolling.ts)
    const up = keepalivedUpgrade(cfg, facts);
    if (!facts.packages.keepalived || (up && 'file' in up)) {
      const c = installChange(ctx, 'keepalived');
      if ('refuse' in c) return refuse(this, c.refuse);
      if (up && 'file' in up)
        notes.push(`keepalived ${facts.packages.keepalived} installed, ${up.file.full} given: upgraded`);
      changes.push(c);
    }
    if (up && 'repo' in up && facts.pkgmanager) {
      changes.push({
        kind: 'package',
        manager: facts.pkgmanager,
        names: ['keepalived'],
        expectVersion: up.repo.version,
        upgrade: { from: facts.packages.keepalived!, to: up.repo.full },
      });
      notes.push(`keepalived ${facts.packages.keepalived} installed, ${up.repo.full} in the repositories: upgraded`);
    }
    if ((cfg.healthCheck.url || cfg.alerts.webhook) && !facts.packages.curl) {
      if (!facts.pkgmanager) return refuse(this, `curl missing on ${node.name} and no apt, dnf or yum was found`);
      changes.push({ kind: 'package', manager: facts.pkgmanager, names: ['curl'] });
    }
    if (!changes.length) {
      return stepPlan(this, [], [], [`keepalived ${facts.kaversion ?? facts.packages.keepalived} already installed`]);
    }
    return stepPlan(this, changes, [], notes);
  },
};
