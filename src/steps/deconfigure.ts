/**
 * A node that left the answers: its VIPs are handed over first (plan/rolling.ts), then keepalived is stopped and
 * disabled and every file ha-setup wrote there is backed up and removed (the host's own files stay: nginx and its
 * configuration, the daemon options file, the packages). Only a host whose own files show ha-setup set it up is
 * touched: a host named by another node's members.json alone is left as it is. Pure: the node's facts -> changes.
 */
import type { InitFacts } from '../facts/gather.js';
import { PATHS, NGINX_STOP_UNIT } from '../paths.js';
import { UPSTREAM_HEADER } from '../render.js';
import type { Change, StepPlan } from './types.js';
import { currentContent, stepPlan, svc, type StepContext } from './context.js';
import { INCLUDE_PLACEHOLDER, includePlaceholder } from './keepalived-config.js';

/** files ha-setup writes whose first lines say so (the others are recognised by their path) */
const MARKED = [PATHS.keepalivedConf, PATHS.checkScript, PATHS.notifyScript, PATHS.flagScript, PATHS.metricsScript];
const OURS = [
  PATHS.keepalivedDropin,
  PATHS.nginxDropin,
  PATHS.nginxStopUnit,
  PATHS.metricsService,
  PATHS.metricsTimer,
  PATHS.rsyslogRule,
  PATHS.logrotate,
  PATHS.sysctl,
  PATHS.webhookHeaders,
  PATHS.webhookUrl,
  PATHS.members,
];

/** the file starts with ha-setup's "Managed by ha-setup" header */
const ours = (facts: InitFacts, p: string) => /Managed by ha-setup/.test(currentContent(facts, p)?.slice(0, 300) ?? '');

/** ha-setup set this host up as `name`: its own members.json lists it, or its keepalived.conf is ha-setup's */
export function setUpByHaSetup(name: string, facts: InitFacts): boolean {
  return !!facts.members?.nodes.some((m) => m.name === name) || ours(facts, PATHS.keepalivedConf);
}

/** the plan's word for a leaver ha-setup did not set up */
export const LEFT_ALONE =
  "not set up by ha-setup (its own members.json does not list it, its keepalived.conf is not ha-setup's): " +
  'left alone, nothing changed there';

export function deconfigureSteps(ctx: StepContext): StepPlan[] {
  if (!setUpByHaSetup(ctx.node.name, ctx.facts))
    return [stepPlan({ id: 'deconfigure', title: 'Left alone: not set up by ha-setup' }, [], [], [LEFT_ALONE])];
  const step = { id: 'deconfigure', title: 'Leave the pair: keepalived stopped and disabled, ha-setup files removed' };
  const changes: Change[] = [];
  const ka = svc(ctx, 'keepalived');
  if (ka.active === 'active') changes.push({ kind: 'service', name: 'keepalived', action: 'stop' });
  if (ka.enabled === 'enabled') changes.push({ kind: 'service', name: 'keepalived', action: 'disable' });
  const timer = svc(ctx, 'ha-setup-metrics.timer');
  if (timer.active === 'active') changes.push({ kind: 'service', name: 'ha-setup-metrics.timer', action: 'stop' });
  if (timer.enabled === 'enabled') changes.push({ kind: 'service', name: 'ha-setup-metrics.timer', action: 'disable' });
  // nothing to signal once keepalived is gone (its stop alone: nginx keeps running)
  if (svc(ctx, NGINX_STOP_UNIT).active === 'active')
    changes.push({ kind: 'service', name: NGINX_STOP_UNIT, action: 'stop' });
  const remove = (path: string, validate?: string[]) => {
    const cur = currentContent(ctx.facts, path);
    if (cur !== null) changes.push({ kind: 'remove-file', path, before: cur, ...(validate ? { validate } : {}) });
  };
  const confIsOurs = ours(ctx.facts, PATHS.keepalivedConf);
  for (const p of MARKED) if (ours(ctx.facts, p)) remove(p);
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
