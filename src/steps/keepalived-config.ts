/**
 * keepalived configuration (the guides' step "configure keepalived": global_defs, vrrp_script, vrrp_instance, check
 * script): keepalived.conf rendered per node (router_id, script security, vrrp_script, one vrrp_instance per
 * instance with this node's state and priority), the health-check script (0755 root, as enable_script_security
 * requires), the notify hook, and systemd drop-ins. keepalived.conf is validated before it replaces the old one
 * (`keepalived -t`; on 1.x, which has none, a real start in a private namespace); a change reloads keepalived if it
 * runs.
 */
import { PATHS } from '../paths.js';
import {
  renderCheckScript,
  renderKeepalivedConf,
  renderKeepalivedDropin,
  vipsOfNode,
  renderNginxDropin,
  renderNotifyScript,
  trackFileOf,
  DEFAULT_RENDER_PATHS,
  readTemplate,
} from '../render.js';
import type { Change } from '../plan/types.js';
import { keepalivedFeatures } from '../keepalived.js';
import { fileChange, keepalivedVersionOf, stepPlan, svc, type Step } from './context.js';

export const INCLUDE_PLACEHOLDER =
  '! Managed by ha-setup: keepalived before 2.0 refuses an include that matches no file.\n' +
  '! Put your own *.conf snippets beside this one (mode 0644: keepalived skips an executable file).\n';

export function includePlaceholder(dir: string): string {
  return `${dir}/00-ha-setup.conf`;
}

/** the check that stands in for `keepalived -t` on 1.x (templates/validate-keepalived-1x.sh) */
export function validateScript1x(): string {
  return readTemplate('validate-keepalived-1x.sh');
}

export const keepalivedConfig: Step = {
  id: 'keepalived-config',
  title: 'keepalived: configuration and health check',
  plan(ctx) {
    const { cfg, node } = ctx;
    // rendered for the keepalived the host has (or will get: the package file's or the repository's version)
    const version = keepalivedVersionOf(cfg, ctx.facts);
    const peers = cfg.nodes.filter((n) => n.name !== node.name).map((n) => keepalivedVersionOf(cfg, ctx.all[n.name]));
    const changes: Change[] = [];
    const handlers: Change[] = [];
    changes.push(...fileChange(ctx, PATHS.checkScript, renderCheckScript(cfg), '755'));
    changes.push(...fileChange(ctx, PATHS.notifyScript, renderNotifyScript(cfg), '755'));
    const dropin = renderKeepalivedDropin(
      node.interface,
      cfg.system.multicast,
      cfg.restartOnCrash,
      cfg.releaseVipsOnExit ? vipsOfNode(cfg, node) : [],
    );
    const dropinChanges = fileChange(ctx, PATHS.keepalivedDropin, dropin, '644');
    const nginxDropinChanges = trackFileOf(cfg, version)
      ? fileChange(ctx, PATHS.nginxDropin, renderNginxDropin(), '644')
      : [];
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
    // keepalived before 2.0 dies on an include that matches no file (at start and on reload): keep one there
    if (cfg.includeDir)
      changes.push(...fileChange(ctx, includePlaceholder(cfg.includeDir), INCLUDE_PLACEHOLDER, '644'));
    const conf = renderKeepalivedConf(cfg, node, DEFAULT_RENDER_PATHS, { self: version, peers });
    const confChanges = fileChange(ctx, PATHS.keepalivedConf, conf, '600', {
      validate: keepalivedFeatures(version).configTest
        ? ['keepalived', '-t', '-f', '{file}']
        : ['bash', '-c', validateScript1x(), 'validate-keepalived-1x', '{file}'],
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
