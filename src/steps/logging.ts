/**
 * Logging (the guides' step "keepalived log to its own file"): keepalived logs with `-D -S 4` (detail, facility
 * local4) set in the daemon options (RHEL /etc/sysconfig/keepalived KEEPALIVED_OPTIONS, Debian
 * /etc/default/keepalived DAEMON_ARGS), rsyslog writes that facility to its own file, logrotate rotates it.
 * New daemon options take a keepalived restart (a reload keeps the options it started with): on a node that holds
 * VIPs the plan hands them over first (plan/rolling.ts).
 */
import { daemonOptionsFile, PATHS } from '../paths.js';
import { renderLogrotate, renderRsyslogRule, setOptionsVariable } from '../render.js';
import type { Change } from './types.js';
import { currentContent, fileChange, stepPlan, svc, type Step } from './context.js';

export function daemonOptions(cfg: { logging: { facilityNumber: number } }): string {
  return `-D -S ${cfg.logging.facilityNumber}`;
}

export const logging: Step = {
  id: 'logging',
  title: 'Logging: keepalived to its own file',
  plan(ctx) {
    const { cfg, facts } = ctx;
    const opt = daemonOptionsFile(facts.os.family === 'rhel' ? 'rhel' : 'debian');
    const content = setOptionsVariable(
      currentContent(facts, opt.path),
      opt.variable,
      daemonOptions(cfg),
      '# Options to pass to keepalived (managed by ha-setup)',
    );
    const changes: Change[] = [];
    const handlers: Change[] = [];
    const optChanges = fileChange(ctx, opt.path, content, facts.files[opt.path]?.mode ?? '644');
    changes.push(...optChanges);
    const rule = fileChange(ctx, PATHS.rsyslogRule, renderRsyslogRule(cfg), '644');
    changes.push(...rule);
    if (cfg.logging.logrotate) changes.push(...fileChange(ctx, PATHS.logrotate, renderLogrotate(cfg), '644'));
    if (rule.length) handlers.push({ kind: 'service', name: 'rsyslog', action: 'restart' });
    if (optChanges.length && svc(ctx, 'keepalived').active === 'active')
      handlers.push({ kind: 'service', name: 'keepalived', action: 'restart' });
    return stepPlan(this, changes, handlers);
  },
};
