/**
 * Metrics and alerts (no new daemon): the metrics script writes ha_setup.prom into node_exporter's textfile
 * collector directory from a systemd timer every 15 s (and from the notify hook at each transition); with
 * metrics.install the distribution's node_exporter is installed and enabled (port 9100). The webhook's URL and header
 * lines (secrets: a token) go to root-only files the notify hook reads, removed when the answers no longer give them.
 * metrics: false removes what an earlier run wrote.
 */
import { targetsOf } from '../answers/targets.js';
import { PATHS } from '../paths.js';
import { metricsTargetsOf, renderMetricsScript, renderMetricsService, renderMetricsTimer } from '../metrics/render.js';
import { webhookHeadersFile, webhookUrlFile } from '../metrics/notify.js';
import type { Change, StepContext } from './types.js';
import { currentContent, fileChange, mayRun, refuse, stepPlan, svc, type Step } from './context.js';

const EXPORTER = 'prometheus-node-exporter';
const TIMER = 'ha-setup-metrics.timer';

function exporterChanges(ctx: StepContext): Change[] | { refuse: string } {
  const { cfg, facts, node } = ctx;
  if (!cfg.metrics?.install) return [];
  const out: Change[] = [];
  if (!facts.packages.nodeexporter) {
    const files = cfg.packages.nodeExporter;
    if (!facts.pkgmanager)
      return { refuse: `${EXPORTER} is not installed on ${node.name} and no apt, dnf or yum was found` };
    const want = facts.os.family === 'rhel' ? 'rpm' : 'deb';
    const f = files.find((x) => x.format === want);
    if (files.length && !f) return { refuse: `packages.nodeExporter: no .${want} for ${node.name}` };
    out.push(
      f
        ? { kind: 'package-file', manager: facts.pkgmanager, name: EXPORTER, localPath: f.path, file: f.file }
        : { kind: 'package', manager: facts.pkgmanager, names: [EXPORTER] },
    );
  }
  const s = facts.packages.nodeexporter ? svc(ctx, EXPORTER) : { active: 'unknown', enabled: 'unknown', mainPid: 0 };
  if (s.enabled !== 'enabled') out.push({ kind: 'service', name: EXPORTER, action: 'enable' });
  if (!mayRun(s) || s.active === 'unknown') out.push({ kind: 'service', name: EXPORTER, action: 'start' });
  return out;
}

/** metrics: false after a run that had them: the timer stopped, ha-setup's metrics files removed */
function removal(ctx: StepContext): Change[] {
  const out: Change[] = [];
  const t = svc(ctx, TIMER);
  if (t.active === 'active') out.push({ kind: 'service', name: TIMER, action: 'stop' });
  if (t.enabled === 'enabled') out.push({ kind: 'service', name: TIMER, action: 'disable' });
  for (const p of [PATHS.metricsTimer, PATHS.metricsService, PATHS.metricsScript]) {
    const cur = currentContent(ctx.facts, p);
    if (cur !== null) out.push({ kind: 'remove-file', path: p, before: cur });
  }
  return out;
}

/** a file whose whole content is a secret: root-only, shown only as changed; removed when `content` is null */
function secretFile(ctx: StepContext, path: string, content: string | null): Change[] {
  if (content !== null) return fileChange(ctx, path, content, '600', { sensitive: true });
  const cur = currentContent(ctx.facts, path);
  return cur === null ? [] : [{ kind: 'remove-file', path, before: cur }];
}

export const metrics: Step = {
  id: 'metrics',
  title: 'Metrics (node_exporter textfile) and alerts',
  plan(ctx) {
    const { cfg, node } = ctx;
    const changes: Change[] = [];
    const handlers: Change[] = [];
    const { webhook, headers } = cfg.alerts;
    changes.push(
      ...secretFile(ctx, PATHS.webhookUrl, webhook ? webhookUrlFile(webhook) : null),
      ...secretFile(ctx, PATHS.webhookHeaders, webhook && headers ? webhookHeadersFile(headers) : null),
    );
    if (!cfg.metrics) {
      // the alerts' files stay: the notify hook posts transitions without the metrics too
      const r = removal(ctx);
      const reload: Change[] = r.length ? [{ kind: 'service', name: 'systemd', action: 'daemon-reload' }] : [];
      return stepPlan(this, [...changes, ...r], reload, ['metrics: false']);
    }
    const ex = exporterChanges(ctx);
    if ('refuse' in ex) return refuse(this, ex.refuse);
    changes.push(...ex);
    if (!ctx.facts.dirs[cfg.metrics.textfileDir])
      changes.push({
        kind: 'command',
        argv: ['mkdir', '-p', '-m', '0755', cfg.metrics.textfileDir],
        describe: `create ${cfg.metrics.textfileDir} (node_exporter's textfile collector directory)`,
        undo: ['rmdir', cfg.metrics.textfileDir],
        sets: { dirs: { [cfg.metrics.textfileDir]: true } },
      });
    const weights = new Map(targetsOf(cfg).map((t) => [t.name, t.demoteWeight]));
    const script = renderMetricsScript({
      node: node.name,
      textfileDir: cfg.metrics.textfileDir,
      stateDir: PATHS.runDir,
      flagDir: PATHS.flagDir,
      targets: metricsTargetsOf(cfg, node, (inst, group) => weights.get(group ?? inst) ?? 0),
    });
    changes.push(...fileChange(ctx, PATHS.metricsScript, script, '755'));
    const units = [
      ...fileChange(ctx, PATHS.metricsService, renderMetricsService(), '644'),
      ...fileChange(ctx, PATHS.metricsTimer, renderMetricsTimer(), '644'),
    ];
    changes.push(...units);
    if (units.length) handlers.push({ kind: 'service', name: 'systemd', action: 'daemon-reload' });
    const t = svc(ctx, TIMER);
    if (t.enabled !== 'enabled') changes.push({ kind: 'service', name: TIMER, action: 'enable' });
    if (t.active !== 'active') handlers.push({ kind: 'service', name: TIMER, action: 'start' });
    return stepPlan(this, changes, handlers);
  },
};
