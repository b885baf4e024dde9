/**
 * Install keepalived (seed 001 §1.1: `yum install -y keepalived`) with the host's package manager, plus curl
 * when the health check probes a URL. The version is read from `keepalived --version` afterwards.
 */
import type { Change } from '../plan/types.js';
import { stepPlan, type Step } from './context.js';

export const keepalivedInstall: Step = {
  id: 'keepalived-install',
  title: 'keepalived: install',
  plan(ctx) {
    const { facts, cfg, node } = ctx;
    const names: string[] = [];
    if (!facts.packages.keepalived) names.push('keepalived');
    if (cfg.healthCheck.url && !facts.packages.curl) names.push('curl');
    if (!names.length)
      return stepPlan(
        this,
        [],
        [],
        [`keepalived ${facts.keepalivedVersion ?? facts.packages.keepalived} already installed`],
      );
    if (!facts.pkgManager)
      return {
        ...stepPlan(this),
        refuse: `${names.join(', ')} missing on ${node.name} and no apt, dnf or yum was found`,
      };
    const changes: Change[] = [{ kind: 'package', manager: facts.pkgManager, names }];
    return stepPlan(this, changes);
  },
};
