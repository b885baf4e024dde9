/**
 * A node that left the answers: its VIPs are handed over first (plan/rolling.ts), then keepalived is stopped and
 * disabled and every file ha-setup wrote there is backed up and removed (the host's own files stay: nginx and its
 * configuration, the daemon options file, the packages). Pure: the node's facts -> changes.
 */
import { PATHS } from '../paths.js';
import { UPSTREAM_HEADER } from '../render.js';
import type { Change, StepPlan } from './types.js';
import { currentContent, stepPlan, svc, type StepContext } from './context.js';
import { INCLUDE_PLACEHOLDER, includePlaceholder } from './keepalived-config.js';

/** files ha-setup writes whose first lines say so (the others are recognised by their path) */
const MARKED = [PATHS.keepalivedConf, PATHS.checkScript, PATHS.notifyScript, PATHS.flagScript, PATHS.metricsScript];
const OURS = [
  PATHS.keepalivedDropin,
  PATHS.nginxDropin,
  PATHS.metricsService,
  PATHS.metricsTimer,
  PATHS.rsyslogRule,
  PATHS.logrotate,
  PATHS.sysctl,
  PATHS.webhookHeaders,
  PATHS.webhookUrl,
  PATHS.members,
];

export function deconfigureSteps(ctx: StepContext): StepPlan[] {
  const step = { id: 'deconfigure', title: 'Leave the pair: keepalived stopped and disabled, ha-setup files removed' };
  const changes: Change[] = [];
  const ka = svc(ctx, 'keepalived');
  if (ka.active === 'active') changes.push({ kind: 'service', name: 'keepalived', action: 'stop' });
  if (ka.enabled === 'enabled') changes.push({ kind: 'service', name: 'keepalived', action: 'disable' });
  const timer = svc(ctx, 'ha-setup-metrics.timer');
  if (timer.active === 'active') changes.push({ kind: 'service', name: 'ha-setup-metrics.timer', action: 'stop' });
  if (timer.enabled === 'enabled') changes.push({ kind: 'service', name: 'ha-setup-metrics.timer', action: 'disable' });
  const remove = (path: string, validate?: string[]) => {
    const cur = currentContent(ctx.facts, path);
    if (cur !== null) changes.push({ kind: 'remove-file', path, before: cur, ...(validate ? { validate } : {}) });
  };
  const ours = (p: string) => /Managed by ha-setup/.test(currentContent(ctx.facts, p)?.slice(0, 300) ?? '');
  const confIsOurs = ours(PATHS.keepalivedConf);
  for (const p of MARKED) if (ours(p)) remove(p);
  for (const p of OURS) remove(p);
  // the include placeholder and the snippets init installed (only with ha-setup's keepalived.conf, which includes
  // them: keepalived 1.x refuses an include that matches no file)
  const dir = ctx.cfg.includeDir;
  if (dir && confIsOurs) {
    if (currentContent(ctx.facts, includePlaceholder(dir)) === INCLUDE_PLACEHOLDER) remove(includePlaceholder(dir));
    for (const sn of ctx.cfg.snippets)
      if (currentContent(ctx.facts, `${dir}/${sn.name}`) === sn.content) remove(`${dir}/${sn.name}`);
  }
  // runtime state: the flags, the fast profile's track file, the metrics this node exported (node_exporter would
  // keep serving the last values of a node that left)
  if (ctx.facts.dirs[PATHS.flagDir]) {
    const prom = ctx.cfg.metrics ? [`${ctx.cfg.metrics.textfileDir}/ha_setup.prom`] : [];
    changes.push({
      kind: 'command',
      argv: ['rm', '-rf', '--', PATHS.flagDir, PATHS.trackFile, ...prom],
      describe: `remove ha-setup's state: ${[PATHS.flagDir, PATHS.trackFile, ...prom].join(', ')}`,
      sets: { dirs: { [PATHS.flagDir]: false } },
    });
  }
  const upstream = `${ctx.cfg.nginx.configDir}/${PATHS.nginxUpstream}`;
  const up = currentContent(ctx.facts, upstream);
  if (up?.startsWith(UPSTREAM_HEADER)) remove(upstream, ['nginx', '-t']);
  const handlers: Change[] = [{ kind: 'service', name: 'systemd', action: 'daemon-reload' }];
  if (changes.some((c) => c.kind === 'remove-file' && c.path === PATHS.rsyslogRule))
    handlers.push({ kind: 'service', name: 'rsyslog', action: 'restart' });
  if (up?.startsWith(UPSTREAM_HEADER) && svc(ctx, 'nginx').active === 'active')
    handlers.push({ kind: 'service', name: 'nginx', action: 'reload-or-restart' });
  return [stepPlan(step, changes, handlers, changes.length ? [] : ['nothing of ha-setup left on this host'])];
}
