/**
 * keepalived configuration (seed 001 §2, 003, 004): keepalived.conf rendered per node (router_id, script security,
 * vrrp_script, one vrrp_instance per instance with this node's state and priority), the health-check script
 * (0755 root, as enable_script_security requires), the notify hook, and systemd drop-ins. keepalived.conf is
 * validated with `keepalived -t -f` before it replaces the old one; a change reloads keepalived if it runs.
 */
import { PATHS } from '../paths.js';
import {
  renderCheckScript,
  renderKeepalivedConf,
  renderKeepalivedDropin,
  renderNginxDropin,
  renderNotifyScript,
  trackFileOf,
} from '../render.js';
import type { Change } from '../plan/types.js';
import { fileChange, stepPlan, svc, type Step } from './context.js';

export const keepalivedConfig: Step = {
  id: 'keepalived-config',
  title: 'keepalived: configuration and health check',
  plan(ctx) {
    const { cfg, node } = ctx;
    const changes: Change[] = [];
    const handlers: Change[] = [];
    changes.push(...fileChange(ctx, PATHS.checkScript, renderCheckScript(cfg), '755'));
    changes.push(...fileChange(ctx, PATHS.notifyScript, renderNotifyScript(cfg), '755'));
    const dropin = renderKeepalivedDropin(node.interface, cfg.system.multicast, cfg.restartOnCrash);
    const dropinChanges = fileChange(ctx, PATHS.keepalivedDropin, dropin, '644');
    const nginxDropinChanges = trackFileOf(cfg) ? fileChange(ctx, PATHS.nginxDropin, renderNginxDropin(), '644') : [];
    changes.push(...dropinChanges, ...nginxDropinChanges);
    // the guides' `include /etc/keepalived/conf.d/*.conf`: the directory must exist for the operator's snippets
    if (cfg.includeDir && !ctx.facts.dirs[cfg.includeDir]) {
      changes.push({
        kind: 'command',
        argv: ['mkdir', '-p', '-m', '0755', cfg.includeDir],
        describe: `create ${cfg.includeDir} for the operator's keepalived snippets`,
        undo: ['rmdir', cfg.includeDir],
      });
    }
    const conf = renderKeepalivedConf(cfg, node);
    const confChanges = fileChange(ctx, PATHS.keepalivedConf, conf, '600', {
      validate: ['keepalived', '-t', '-f', '{file}'],
      sensitive: cfg.instances.some((i) => i.authPass !== null),
    });
    changes.push(...confChanges);
    if (dropinChanges.length || nginxDropinChanges.length)
      handlers.push({ kind: 'service', name: 'systemd', action: 'daemon-reload' });
    const running = svc(ctx, 'keepalived').active === 'active';
    if (running && (confChanges.length || changes.some((c) => c.kind === 'file' && c.path === PATHS.checkScript))) {
      handlers.push({ kind: 'service', name: 'keepalived', action: 'reload-or-restart' });
    }
    return stepPlan(this, changes, handlers);
  },
};
