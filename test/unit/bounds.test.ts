import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import {
  boundFeatures,
  boundsSummary,
  linkDownMs,
  expectedBounds,
  marginMs,
  masterDownMs,
  reElectionMs,
  settleTimeoutMs,
  skewMs,
  takeoverNode,
  TRANSITION_MS,
  RESTART_ATTEMPT_MS,
} from '../../src/failover/bounds.js';
import { activeActive, clone, fast, pair } from '../fixtures/answers.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });

describe('VRRP timers', () => {
  it('skew: (256 - p) / 256 s in VRRPv2, times the advert interval in VRRPv3', () => {
    expect(skewMs({ vrrpVersion: 2 }, { advertInt: 1 }, 100)).toBeCloseTo(609.375, 3);
    expect(skewMs({ vrrpVersion: 2 }, { advertInt: 3 }, 100)).toBeCloseTo(609.375, 3);
    expect(skewMs({ vrrpVersion: 3 }, { advertInt: 0.1 }, 100)).toBeCloseTo(60.9375, 3);
    expect(masterDownMs({ vrrpVersion: 2 }, { advertInt: 1 }, 100)).toBeCloseTo(3609.375, 3);
    expect(masterDownMs({ vrrpVersion: 3 }, { advertInt: 0.1 }, 200)).toBeCloseTo(321.875, 3);
  });
});

describe('after a keepalived start or reload, init watches the VIPs for the slowest election', () => {
  it('the lowest priority of any instance sets it (its skew is longest), plus a second', () => {
    // pair: lb02 priority 100, advert 1 s, VRRPv2: 3 s + 0.61 s
    expect(reElectionMs(cfgOf(pair))).toBeCloseTo(3000 + 609.375 + 1000, 3);
    // fast: advert 0.1 s, VRRPv3: the skew scales with the advert
    expect(reElectionMs(cfgOf(fast))).toBeCloseTo(300 + (156 / 256) * 100 + 1000, 3);
  });
});

describe('expected bounds from the configuration', () => {
  it('default pair (FAULT check every 1 s, fall 2): nginx 2 s + skew, stop = skew, crash/link = 3 s + skew', () => {
    const cfg = cfgOf(pair);
    const b = expectedBounds(cfg, cfg.instances[0], 'lb01');
    const skew = 609.375;
    expect(b.nginx.expectedMaxMs).toBeCloseTo(2000 + skew + TRANSITION_MS, 3);
    expect(b.keepalived.expectedMaxMs).toBeCloseTo(skew + TRANSITION_MS, 3);
    expect(b.crash.expectedMaxMs).toBeCloseTo(3000 + skew + TRANSITION_MS, 3);
    expect(b.link.expectedMaxMs).toBeCloseTo(3000 + skew + TRANSITION_MS, 3);
    expect(b.nginx.why).toMatch(/check fails 2 x every 1 s .*FAULT: priority-0 advert, skew 0\.61 s of lb02/);
  });

  it("the guides' 004 timing (interval 2, fall 3, weight -20): 6 s detection + the backup's master-down timer", () => {
    const a = clone(activeActive) as Record<string, unknown>;
    a.healthCheck = { mode: 'weight', interval: 2, fall: 3, rise: 1, weight: -20 };
    const cfg = cfgOf(a);
    const b1 = expectedBounds(cfg, cfg.instances[0], 'lb01');
    expect(b1.nginx.expectedMaxMs).toBeCloseTo(6000 + 3609.375 + TRANSITION_MS, 3);
    expect(b1.nginx.why).toMatch(/priority drops by 20: the backup waits its master-down timer 3 x 1 s/);
    // VI_2 is mastered by lb02: lb01 takes over
    const b2 = expectedBounds(cfg, cfg.instances[1], 'lb02');
    expect(b2.nginx.why).toMatch(/skew 0\.61 s of lb01 \(priority 100\)/);
    // the measured 8.25 s of the issue is inside the bound, the old fixed 6 s default was not
    expect(b1.nginx.expectedMaxMs + marginMs(b1.nginx.expectedMaxMs)).toBeGreaterThan(8250);
  });

  it('preempt_delay adds to a priority drop (the backup keeps the old master that long)', () => {
    const a = clone(pair) as Record<string, unknown>;
    (a.instances as Record<string, unknown>[])[0].preemptDelay = 5;
    a.healthCheck = { mode: 'weight', interval: 1, fall: 2, weight: -20 };
    const cfg = cfgOf(a);
    expect(expectedBounds(cfg, cfg.instances[0], 'lb01').nginx.expectedMaxMs).toBeCloseTo(
      2000 + 5000 + 3609.375 + TRANSITION_MS,
      3,
    );
  });

  it("the guides' 000 (nopreempt, restart-then-stop, interval 5): one run, restart attempt, keepalived stopped", () => {
    const cfg = cfgOf({
      ...pair,
      instances: [{ name: 'VI_1', virtualRouterId: 50, vips: ['10.0.0.3/24'], master: 'lb01', preempt: false }],
      healthCheck: { mode: 'restart-then-stop', interval: 5 },
    });
    // after a nopreempt failover the VIP is on lb02: the bound is then about lb01 taking over
    const b = expectedBounds(cfg, cfg.instances[0], 'lb02');
    const skewLb01 = ((256 - 110) * 1000) / 256;
    expect(b.nginx.expectedMaxMs).toBeCloseTo(5000 + RESTART_ATTEMPT_MS + skewLb01 + TRANSITION_MS, 3);
    expect(b.nginx.why).toMatch(/check every 5 s, one restart attempt/);
    expect(b.keepalived.why).toMatch(/of lb01 \(priority 110\)/);
  });

  it('fast profile: track_file makes nginx a VRRPv3 skew; without track_file (1.3.5) it is the check', () => {
    const cfg = cfgOf(fast);
    const skew = ((256 - 100) * 100) / 256;
    expect(expectedBounds(cfg, cfg.instances[0], 'lb01').nginx.expectedMaxMs).toBeCloseTo(skew + TRANSITION_MS, 3);
    expect(expectedBounds(cfg, cfg.instances[0], 'lb01', { trackFile: false }).nginx.expectedMaxMs).toBeCloseTo(
      2000 + skew + TRANSITION_MS,
      3,
    );
    expect(expectedBounds(cfg, cfg.instances[0], 'lb01').link.expectedMaxMs).toBeCloseTo(300 + skew + TRANSITION_MS, 3);
  });

  it('three nodes: the highest-priority other node takes over', () => {
    const cfg = cfgOf({
      ...pair,
      profile: 'fast',
      nodes: [
        { name: 'a', host: '10.0.0.11', interface: 'eth0', priority: 150 },
        { name: 'b', host: '10.0.0.12', interface: 'eth0', priority: 120 },
        { name: 'c', host: '10.0.0.13', interface: 'eth0', priority: 90 },
      ],
      instances: [{ name: 'VI_1', virtualRouterId: 51, vips: ['10.0.0.100/24'], master: 'a', unicast: true }],
    });
    expect(takeoverNode(cfg.instances[0], 'a')).toEqual({ name: 'b', priority: 120 });
    expect(takeoverNode(cfg.instances[0], 'b')).toEqual({ name: 'a', priority: 150 });
    const b = expectedBounds(cfg, cfg.instances[0], 'a');
    expect(b.crash.expectedMaxMs).toBeCloseTo(300 + ((256 - 120) * 100) / 256 + TRANSITION_MS, 3);
  });

  it('keepalived 1.x (CentOS 7): a check result and each takeover one advert later; no track_file', () => {
    const cfg = cfgOf(fast);
    const f = boundFeatures(cfg, ['1.3.5', '2.2.7']);
    expect(f).toEqual({ trackFile: false, lateTransition: true });
    expect(boundFeatures(cfg, ['2.2.7', null])).toEqual({ trackFile: true, lateTransition: false });
    const std = cfgOf(pair);
    const b = expectedBounds(std, std.instances[0], 'lb01', boundFeatures(std, ['1.3.5', '1.3.5']));
    expect(b.keepalived.expectedMaxMs).toBeCloseTo(609.375 + 1000 + TRANSITION_MS, 3);
    expect(b.nginx.expectedMaxMs).toBeCloseTo(2000 + 1000 + 609.375 + 1000 + TRANSITION_MS, 3);
    expect(b.link.expectedMaxMs).toBeCloseTo(3609.375 + 1000 + TRANSITION_MS, 3);
    expect(b.keepalived.why).toMatch(/\+ 1\.00 s \(keepalived 1\.x takes over one advert later\)/);
    // the link scenario outlasts the bound
    expect(linkDownMs(b.link.expectedMaxMs)).toBe(7000);
    expect(linkDownMs(400)).toBe(4000);
  });

  it('margin: 0.5 s plus 20 %', () => {
    expect(marginMs(0)).toBe(500);
    expect(marginMs(10_000)).toBe(2500);
  });

  it('settle time grows with the check, preempt_delay and the advert interval', () => {
    const cfg = cfgOf(pair);
    expect(settleTimeoutMs(cfg, cfg.instances[0])).toBe(10_000 + 2 * 1000 + 4000);
  });
});

describe('init summary', () => {
  it('one line per instance; no warning for the default pair', () => {
    const { lines, warnings } = boundsSummary(cfgOf(pair));
    expect(lines).toEqual([
      '  VI_1 worst-case client gap: nginx down 2.71 s, keepalived stopped 0.71 s, keepalived crash 3.71 s, ' +
        'node loss 3.71 s',
    ]);
    expect(warnings).toEqual([]);
  });

  it('warns when nginx failures take more than a few seconds, and says how to shorten it', () => {
    const a = clone(activeActive) as Record<string, unknown>;
    a.healthCheck = { mode: 'weight', interval: 2, fall: 3, weight: -20 };
    const { warnings } = boundsSummary(cfgOf(a));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^VI_1: when nginx dies on the master, clients may wait up to 9\.71 s/);
    expect(warnings[0]).toMatch(/a shorter check \(healthCheck\.interval 2, fall 3\)/);
    expect(warnings[0]).toMatch(/healthCheck\.weight 0 \(FAULT/);
    expect(warnings[0]).toMatch(/profile fast/);
  });
});
