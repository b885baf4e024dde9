/**
 * The alerting rules (src/metrics/rules.ts) through the real promtool: `check rules` on every variant, and `test rules`
 * with the scenarios of test/fixtures/metrics/alerts.test.yml (a normal pair, split brain, a stale node, a lost VIP,
 * unreported VIPs, flapping, FAULT vs maintenance, a split brain seen by keepalived 2.x, node_exporter down).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRules, type AlertRulesOptions } from '../../src/metrics/rules.js';
import { cleanupTempDirs, promtool, tempDir } from '../fixtures/metrics/harness.js';

afterAll(cleanupTempDirs);

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'metrics', 'alerts.test.yml');

interface RuleDoc {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesOf = (yaml: string): RuleDoc[] => parse(yaml).groups[0].rules;

function checkRules(yaml: string): { status: number | null; out: string } {
  const file = join(tempDir('ha-rules-'), 'rules.yml');
  writeFileSync(file, yaml);
  return promtool(['check', 'rules', file]);
}

describe('alertRules', () => {
  it('passes promtool check rules, with and without options', () => {
    for (const opts of [{}, { vips: ['10.0.0.10/24', '10.0.0.20'], job: 'node', labels: { team: 'web' } }]) {
      const r = checkRules(alertRules(opts));
      expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
      expect(r.status).toBe(0);
    }
  });

  it('passes promtool test rules: every scenario of the fixture', () => {
    const dir = tempDir('ha-rules-');
    writeFileSync(join(dir, 'rules.yml'), alertRules({ vips: ['10.0.0.10', '10.0.0.20'], job: 'node' }));
    copyFileSync(FIXTURE, join(dir, 'alerts.test.yml'));
    const r = promtool(['test', 'rules', join(dir, 'alerts.test.yml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('group ha-setup; every alert has a severity, a summary and a description', () => {
    const yaml = alertRules();
    expect(parse(yaml).groups.map((g: { name: string }) => g.name)).toEqual(['ha-setup']);
    const rules = rulesOf(yaml);
    expect(rules.map((r) => r.alert)).toEqual([
      'HaSetupSplitBrain',
      'HaSetupVipLost',
      'HaSetupVipUnreported',
      'HaSetupFlapping',
      'HaSetupFault',
      'HaSetupSplitBrainSeen',
      'HaSetupCheckFailing',
      'HaSetupKeepalivedDown',
      'HaSetupMetricsStale',
    ]);
    for (const r of rules) {
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.annotations.summary).toMatch(/\{\{ \$labels\.\w+ \}\}/);
      expect(r.annotations.description.length).toBeGreaterThan(40);
    }
    expect(yaml).not.toContain('absent(');
  });

  it('options: flap threshold and window, stale seconds, durations, VIPs, job, extra labels', () => {
    const rules = rulesOf(
      alertRules({
        flapTransitions: 10,
        flapWindow: '30m',
        staleSeconds: 300,
        vipLostFor: '1m',
        vips: ['10.0.0.10/24'],
        job: 'lb-node',
        labels: { team: 'web' },
      }),
    );
    const by = (a: string) => rules.find((r) => r.alert === a)!;
    expect(by('HaSetupFlapping').expr).toBe('increase(ha_setup_vrrp_transitions_total[30m]) > 10');
    expect(by('HaSetupMetricsStale').expr).toBe('time() - ha_setup_metrics_last_run_timestamp_seconds > 300');
    expect(by('HaSetupSplitBrain').expr).toContain('< 300');
    expect(by('HaSetupVipLost').for).toBe('1m');
    expect(by('HaSetupVipUnreported').expr).toContain('or on (vip) absent(ha_setup_vip_held{vip="10.0.0.10"})');
    expect(by('HaSetupExporterDown').expr).toBe('up{job="lb-node"} == 0');
    expect(rules.every((r) => r.labels.team === 'web')).toBe(true);
  });

  it('refuses options that would not make a valid rule', () => {
    const bads: AlertRulesOptions[] = [
      { flapTransitions: 0 },
      { flapWindow: '15 minutes' },
      { job: 'a"b' },
      { vips: ['10.0.0'] },
      { labels: { 'bad-name': 'x' } },
      { labels: { severity: 'info' } },
    ];
    for (const bad of bads) {
      expect(() => alertRules(bad), JSON.stringify(bad)).toThrow();
    }
  });
});
