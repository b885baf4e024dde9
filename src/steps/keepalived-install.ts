/**
 * Install keepalived (the guides' step "install keepalived": `yum install -y keepalived`) with the host's package
 * manager, plus curl when the health check probes a URL. The version is read from `keepalived --version` afterwards.
 */
import type { Change } from '../plan/types.js';
import { installChange, stepPlan, type Step } from './context.js';

export const keepalivedInstall: Step = {
  id: 'keepalived-install',
  title: 'keepalived: install',
  plan(ctx) {
    const { facts, cfg, node } = ctx;
    const changes: Change[] = [];
    if (!facts.packages.keepalived) {
      const c = installChange(ctx, 'keepalived');
      if ('refuse' in c) return { ...stepPlan(this), refuse: c.refuse };
      changes.push(c);
    }
    if (cfg.healthCheck.url && !facts.packages.curl) {
      if (!facts.pkgManager) {
        return { ...stepPlan(this), refuse: `curl missing on ${node.name} and no apt, dnf or yum was found` };
      }
      changes.push({ kind: 'package', manager: facts.pkgManager, names: ['curl'] });
    }
    if (!changes.length) {
      return stepPlan(
        this,
        [],
        [],
        [`keepalived ${facts.keepalivedVersion ?? facts.packages.keepalived} already installed`],
      );
    }
    return stepPlan(this, changes);
  },
};
