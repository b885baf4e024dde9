/**
 * Prometheus alerting rules on the ha_setup_* metrics (issue 20): one rules file, group "ha-setup", an alert on
 * every way the pair can go wrong between tests. Checked by `promtool check rules` and `promtool test rules`.
 */
import { stringify } from 'yaml';
import { checkInt, vipAddress } from './shell.js';

export interface AlertRulesOptions {
  /** HaSetupFlapping: more VRRP transitions than this in flapWindow on one node (default 6: a failover and its
   *  return are 2; one verify-failover run makes about 8, so silence it while testing) */
  flapTransitions?: number;
  /** default 15m */
  flapWindow?: string;
  /** a node whose metrics are older than this is stale (HaSetupMetricsStale) and left out of the VIP alerts;
   *  default 120 (the timer writes every 15 s) */
  staleSeconds?: number;
  /** default 5s */
  splitBrainFor?: string;
  /** default 30s */
  vipLostFor?: string;
  /** default 30s */
  faultFor?: string;
  /** default 1m */
  checkFailingFor?: string;
  /** VIPs that must be reported: HaSetupVipUnreported also when no node ever reported them since Prometheus began */
  vips?: string[];
  /** HaSetupVipUnreported: a VIP reported in this window and no longer (default 1h) */
  unreportedLookback?: string;
  /** the Prometheus job scraping the load balancers' node_exporter: adds HaSetupExporterDown (up == 0) */
  job?: string;
  /** extra labels on every alert (e.g. team) */
  labels?: Record<string, string>;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}

const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_VALUE_RE = /^[A-Za-z0-9_.:\-/ ]{1,128}$/;

function duration(what: string, v: string): string {
  if (!DURATION_RE.test(v)) throw new Error(`alert rules: invalid ${what} duration: ${JSON.stringify(v)}`);
  return v;
}

function labelValue(what: string, v: string): string {
  if (!LABEL_VALUE_RE.test(v)) throw new Error(`alert rules: invalid ${what}: ${JSON.stringify(v)}`);
  return v;
}

/** the rules of the VIPs: held by two nodes, by none, reported by none */
function vipRules(
  o: Required<Pick<AlertRulesOptions, 'staleSeconds' | 'splitBrainFor' | 'vipLostFor'>>,
  vips: string[],
  lookback: string,
): Rule[] {
  // a node counts when its metrics are fresh: a stale file (timer stopped, node_exporter still serving it) would
  // otherwise hold a VIP forever
  const fresh = `on (node) (time() - ha_setup_metrics_last_run_timestamp_seconds < ${o.staleSeconds})`;
  const by = 'by (vrrp_instance, vip)';
  return [
    {
      alert: 'HaSetupSplitBrain',
      // nodes, not series: the same node scraped twice is still one node
      expr: `count ${by} (max by (vrrp_instance, vip, node) (ha_setup_vip_held == 1 and ${fresh})) > 1`,
      for: o.splitBrainFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Split brain: VIP {{ $labels.vip }} ({{ $labels.vrrp_instance }}) is held by {{ $value }} nodes',
        description:
          'More than one load balancer has VIP {{ $labels.vip }} on an interface: clients reach whichever answered ' +
          'ARP last. ha_setup_vip_held{vip="{{ $labels.vip }}"} names the nodes; `ha-setup status` the expected one.',
      },
    },
    {
      alert: 'HaSetupVipLost',
      expr: `max ${by} (ha_setup_vip_held and ${fresh}) == 0`,
      for: o.vipLostFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'VIP {{ $labels.vip }} ({{ $labels.vrrp_instance }}) is held by no node',
        description:
          'Every load balancer with fresh metrics says it does not hold VIP {{ $labels.vip }}: nothing answers on ' +
          'it. (When no node reports at all, HaSetupVipUnreported fires instead.)',
      },
    },
    {
      alert: 'HaSetupVipUnreported',
      // a VIP reported in the lookback window and no longer; or a VIP of the configuration never reported at all
      expr: [
        `(count ${by} (last_over_time(ha_setup_vip_held[${lookback}])) ` +
          `unless on (vrrp_instance, vip) count ${by} (ha_setup_vip_held))`,
        ...vips.map((vip) => `absent(ha_setup_vip_held{vip="${vip}"})`),
      ].join(' or on (vip) '),
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'VIP {{ $labels.vip }} is reported by no node',
        description:
          'No node reports ha_setup_vip_held for VIP {{ $labels.vip }} (every load balancer down, or node_exporter ' +
          'or the metrics timer stopped on all of them): whether it is served is unknown.',
      },
    },
  ];
}

/** the rules of one node's instances: flapping, FAULT, lower-priority adverts */
function instanceRules(flapTransitions: number, flapWindow: string, faultFor: string): Rule[] {
  const notMaintenance = 'unless on (node) ha_setup_maintenance == 1';
  return [
    {
      alert: 'HaSetupFlapping',
      expr: `increase(ha_setup_vrrp_transitions_total[${flapWindow}]) > ${flapTransitions}`,
      labels: { severity: 'warning' },
      annotations: {
        summary:
          `{{ $labels.vrrp_instance }} flaps on {{ $labels.node }}: {{ $value | humanize }} transitions in ` +
          flapWindow,
        description:
          'The VRRP state of {{ $labels.vrrp_instance }} on {{ $labels.node }} changed more than ' +
          `${flapTransitions} times in ${flapWindow}: a health check that comes and goes, lost adverts, or a ` +
          'starved keepalived. Each transition moves the VIP.',
      },
    },
    {
      alert: 'HaSetupFault',
      expr: `ha_setup_vrrp_state == 3 ${notMaintenance}`,
      for: faultFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.vrrp_instance }} is in FAULT on {{ $labels.node }}',
        description:
          'keepalived holds {{ $labels.vrrp_instance }} in FAULT on {{ $labels.node }} outside maintenance (a failed ' +
          'health check of weight 0, an interface down): this node cannot take its VIPs over.',
      },
    },
    {
      alert: 'HaSetupSplitBrainSeen',
      expr: 'increase(ha_setup_split_brain_seen_total[5m]) > 0',
      labels: { severity: 'warning' },
      annotations: {
        summary: '{{ $labels.vrrp_instance }} on {{ $labels.node }} saw another master',
        description:
          'While master, {{ $labels.vrrp_instance }} on {{ $labels.node }} received adverts from a lower-priority ' +
          'router that also claims master (keepalived >= 2.0.6): adverts were lost between the nodes for a while.',
      },
    },
  ];
}

/** the rules of one node: check, keepalived, stale metrics, exporter down */
function nodeRules(checkFailingFor: string, staleSeconds: number, job: string | undefined): Rule[] {
  const notMaintenance = 'unless on (node) ha_setup_maintenance == 1';
  const rules: Rule[] = [
    {
      alert: 'HaSetupCheckFailing',
      expr: `ha_setup_check_ok == 0 ${notMaintenance}`,
      for: checkFailingFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The nginx health check fails on {{ $labels.node }}',
        description:
          'The health check keepalived runs on {{ $labels.node }} fails outside maintenance: this node gives its ' +
          'VIPs away (or cannot take them).',
      },
    },
    {
      alert: 'HaSetupKeepalivedDown',
      expr: `ha_setup_keepalived_up == 0 ${notMaintenance}`,
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'keepalived is not running on {{ $labels.node }}',
        description: 'keepalived is stopped on {{ $labels.node }} outside maintenance: the pair has no spare.',
      },
    },
    {
      alert: 'HaSetupMetricsStale',
      expr: `time() - ha_setup_metrics_last_run_timestamp_seconds > ${staleSeconds}`,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The ha-setup metrics of {{ $labels.node }} are {{ $value | humanizeDuration }} old',
        description:
          'ha_setup.prom on {{ $labels.node }} was not rewritten for {{ $value | humanizeDuration }} ' +
          '(ha-setup-metrics.timer stopped or the script fails): its VIPs are left out of the VIP alerts.',
      },
    },
  ];
  if (job !== undefined) {
    rules.push({
      alert: 'HaSetupExporterDown',
      expr: `up{job="${labelValue('job', job)}"} == 0`,
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'node_exporter {{ $labels.instance }} is down',
        description: 'Prometheus cannot scrape {{ $labels.instance }}: none of its ha_setup metrics are known.',
      },
    });
  }
  return rules;
}

/** the alerting rules file (YAML), group ha-setup */
export function alertRules(opts: AlertRulesOptions = {}): string {
  const staleSeconds = checkInt('staleSeconds', opts.staleSeconds ?? 120, 1, 86400);
  const extra = opts.labels ?? {};
  for (const [k, v] of Object.entries(extra)) {
    if (!LABEL_NAME_RE.test(k) || k === 'severity') throw new Error(`alert rules: invalid label name ${k}`);
    labelValue(`label ${k}`, v);
  }
  const rules = [
    ...vipRules(
      {
        staleSeconds,
        splitBrainFor: duration('splitBrainFor', opts.splitBrainFor ?? '5s'),
        vipLostFor: duration('vipLostFor', opts.vipLostFor ?? '30s'),
      },
      [...new Set((opts.vips ?? []).map(vipAddress))],
      duration('unreportedLookback', opts.unreportedLookback ?? '1h'),
    ),
    ...instanceRules(
      checkInt('flapTransitions', opts.flapTransitions ?? 6, 1, 10000),
      duration('flapWindow', opts.flapWindow ?? '15m'),
      duration('faultFor', opts.faultFor ?? '30s'),
    ),
    ...nodeRules(duration('checkFailingFor', opts.checkFailingFor ?? '1m'), staleSeconds, opts.job),
  ].map((r) => ({ ...r, labels: { ...extra, ...r.labels } }));
  const header = '# Managed by ha-setup: Prometheus alerting rules on the ha_setup_* metrics of the load balancers.\n';
  return header + stringify({ groups: [{ name: 'ha-setup', rules }] }, { lineWidth: 0 });
}
