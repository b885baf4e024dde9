/**
 * Metrics of the pair through node_exporter's textfile collector (issue 20): the script that writes ha_setup.prom on
 * each load balancer, and the systemd timer that runs it every 15 s. Pure: data in, text out.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { vrrpInstancesOf } from '../answers/targets.js';
import { renderTemplate } from '../render.js';
import {
  SYSTEM_PATH,
  checkIface,
  checkInt,
  checkName,
  checkPath,
  checkSearchPath,
  labels,
  shq,
  vipAddress,
} from './shell.js';

/** where the metrics pieces live on a load balancer */
export const METRICS_PATHS = {
  metricsScript: '/etc/keepalived/ha-setup/metrics.sh',
  notifyScript: '/etc/keepalived/ha-setup/notify.sh',
  /** Debian's prometheus-node-exporter default (--collector.textfile.directory) */
  textfileDir: '/var/lib/prometheus/node-exporter',
  /** runtime data (tmpfs): VRRP states written by the notify hook, the health check's last result */
  stateDir: '/run/ha-setup',
  /** operator flags that survive a reboot: maintenance, demote.TARGET, handover.TARGET */
  flagDir: '/var/lib/ha-setup/state',
  /** the webhook's HTTP headers, one "Name: value" a line, root-only (0600) */
  webhookHeaders: '/etc/keepalived/ha-setup/webhook.headers',
  service: '/etc/systemd/system/ha-setup-metrics.service',
  timer: '/etc/systemd/system/ha-setup-metrics.timer',
} as const;

/** one VRRP instance of this node, as the metrics script sees it */
export interface MetricsTarget {
  instance: string;
  /** its sync group, or null */
  group: string | null;
  /** the node's configured priority in this instance */
  basePriority: number;
  /** address with or without /prefix (the metric's vip label is the address alone); dev as configured */
  vips: { address: string; dev: string }[];
  /** the health check's weight on this instance: 0 = a failed check means FAULT */
  checkWeight: number;
  /** priority lost while the target (sync group, else instance) is demoted */
  demoteWeight: number;
}

export interface MetricsScriptData {
  /** ha-setup node name: the node label */
  node: string;
  /** node_exporter's textfile-collector directory; default METRICS_PATHS.textfileDir */
  textfileDir?: string;
  /** default METRICS_PATHS.stateDir */
  stateDir?: string;
  /** default METRICS_PATHS.flagDir */
  flagDir?: string;
  targets: MetricsTarget[];
  /** PATH the script runs with; default /usr/sbin:/usr/bin:/sbin:/bin (tests put stub commands first) */
  path?: string;
}

/** the shell script that writes ha_setup.prom (install as METRICS_PATHS.metricsScript, root, 0755) */
export function renderMetricsScript(data: MetricsScriptData): string {
  const node = checkName('node name', data.node);
  const seen = new Set<string>();
  const targets = data.targets.map((t) => {
    const instance = checkName('VRRP instance name', t.instance);
    if (seen.has(instance)) throw new Error(`metrics: VRRP instance ${instance} listed twice`);
    seen.add(instance);
    const target = t.group === null ? instance : checkName('sync group name', t.group);
    const own: [string, string][] = [
      ['vrrp_instance', instance],
      ['node', node],
    ];
    return {
      instance,
      target,
      basePriority: checkInt('base priority', t.basePriority, 1, 254),
      checkWeight: checkInt('check weight', t.checkWeight, -254, 254),
      demoteWeight: checkInt('demote weight', t.demoteWeight, 0, 254),
      labels: labels(own),
      vips: t.vips.map((v) => {
        checkIface(v.dev);
        const address = vipAddress(v.address);
        return { address, labels: labels([...own, ['vip', address]]) };
      }),
    };
  });
  return renderTemplate('metrics.sh.ejs', {
    sh: shq,
    node,
    nodeLabels: labels([['node', node]]),
    path: checkSearchPath(data.path ?? SYSTEM_PATH),
    textfileDir: checkPath('textfileDir', data.textfileDir ?? METRICS_PATHS.textfileDir),
    stateDir: checkPath('stateDir', data.stateDir ?? METRICS_PATHS.stateDir),
    flagDir: checkPath('flagDir', data.flagDir ?? METRICS_PATHS.flagDir),
    targets,
  });
}

/**
 * the metrics targets of a node from the resolved configuration: every instance (a node takes part in all of them),
 * its sync group, the node's priority in it, its VIPs (dev defaults to the node's VRRP interface) and the check's
 * weight on it. demoteWeight: the priority a demotion takes away, one number or per instance and group (e.g. the
 * demoteWeight of the instance's switchover target); 0 when there is no demotion.
 */
export function metricsTargetsOf(
  cfg: Pick<Config, 'instances' | 'syncGroups' | 'nodes'>,
  node: ResolvedNode,
  demoteWeight: number | ((instance: string, group: string | null) => number) = 0,
): MetricsTarget[] {
  // every vrrp_instance of the node by its name there (an IPv6 twin, another name on this node); `group` names the
  // target whose state flags it follows: its sync group, else the answers' instance when that is another name
  return vrrpInstancesOf(cfg, node).map((v) => {
    const inst = v.base;
    const userGroup = cfg.syncGroups.find((g) => g.instances.includes(inst.name))?.name ?? null;
    return {
      instance: v.name,
      group: userGroup ?? (inst.name !== v.name ? inst.name : null),
      basePriority: inst.priorities[node.name] ?? node.priority,
      vips: v.vips.map((a) => ({ address: a.address, dev: a.dev ?? v.iface })),
      checkWeight: inst.trackWeight,
      demoteWeight: typeof demoteWeight === 'number' ? demoteWeight : demoteWeight(inst.name, userGroup),
    };
  });
}

export interface MetricsUnitData {
  /** the script the service runs; default METRICS_PATHS.metricsScript */
  script?: string;
  /** seconds between runs; default 15 */
  intervalSeconds?: number;
}

/** ha-setup-metrics.service: one run of the metrics script (started by the timer) */
export function renderMetricsService(data: MetricsUnitData = {}): string {
  return renderTemplate('ha-setup-metrics.service.ejs', {
    script: checkPath('metrics script', data.script ?? METRICS_PATHS.metricsScript),
  });
}

/** ha-setup-metrics.timer: the service every intervalSeconds (enable and start the timer, not the service) */
export function renderMetricsTimer(data: MetricsUnitData = {}): string {
  return renderTemplate('ha-setup-metrics.timer.ejs', {
    interval: checkInt('metrics interval', data.intervalSeconds ?? 15, 1, 3600),
  });
}
