/**
 * Install keepalived (the guides' step "install keepalived": `yum install -y keepalived`) with the host's package
 * manager, plus curl when the health check probes a URL or alerts post to a webhook. The version the plan renders
 * for is the repository's candidate (or the package file's); a different one installed stops the node's run.
 */
import { isInstalledVersion } from '../answers/packages.js';
import type { Change } from './types.js';
import { installChange, refuse, stepPlan, type Step } from './context.js';

export const keepalivedInstall: Step = {
  id: 'keepalived-install',
  title: 'keepalived: install',
  plan(ctx) {
    const { facts, cfg, node } = ctx;
    const changes: Change[] = [];
    const notes: string[] = [];
    const file = cfg.packages.keepalived.find((p) => p.format === (facts.os.family === 'rhel' ? 'rpm' : 'deb'));
    // another version in packages.keepalived than the one installed: an upgrade (rolled: plan/rolling.ts)
    const upgrade = !!facts.packages.keepalived && !!file && !isInstalledVersion(facts.packages.keepalived, file);
    if (!facts.packages.keepalived || upgrade) {
      const c = installChange(ctx, 'keepalived');
      if ('refuse' in c) return refuse(this, c.refuse);
      if (upgrade) notes.push(`keepalived ${facts.packages.keepalived} installed, ${file!.full} given: upgraded`);
      changes.push(c);
    }
    // packages.upgrade: the repositories offer a newer keepalived than the installed one (rolled too)
    const newer = facts.packages.keepalived && !file && cfg.upgrade.includes('keepalived') ? facts.kaupgrade : null;
    if (newer && facts.pkgmanager) {
      changes.push({
        kind: 'package',
        manager: facts.pkgmanager,
        names: ['keepalived'],
        expectVersion: newer.version,
        upgrade: { from: facts.packages.keepalived!, to: newer.full },
      });
      notes.push(`keepalived ${facts.packages.keepalived} installed, ${newer.full} in the repositories: upgraded`);
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
