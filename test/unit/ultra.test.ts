/**
 * The ultra profile (issue 27): VRRPv3 with 0.02 s adverts and the instant nginx signal; its bounds, its margin and
 * verify-failover's probe every 10 ms; refused where its figures cannot hold (keepalived 1.x, the guides'
 * restart-then-stop check). The rendered file goes through the real keepalived in render.test.ts (variant `ultra`).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADVERT, isFastProfile, resolveAnswers } from '../../src/answers/resolve.js';
import { ValidationError } from '../../src/errors.js';
import { defaultProbeIntervalMs } from '../../src/commands/verify-failover.js';
import { boundFeatures, expectedBounds, marginMs } from '../../src/failover/bounds.js';
import { buildPlan } from '../../src/plan/build.js';
import { renderKeepalivedConf, trackFileOf } from '../../src/render.js';
import { clone, pair, ultra } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });

function problems(a: unknown): string[] {
  try {
    cfgOf(a);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.details;
  }
}

describe('profile ultra', () => {
  it('VRRPv3, adverts every 0.02 s unless the answers say otherwise, the instant nginx signal', () => {
    const cfg = cfgOf(ultra);
    expect([cfg.profile, cfg.vrrpVersion, cfg.instances[0].advertInt]).toEqual(['ultra', 3, 0.02]);
    expect(DEFAULT_ADVERT).toEqual({ standard: 1, fast: 0.1, ultra: 0.02 });
    expect([isFastProfile('standard'), isFastProfile('fast'), isFastProfile('ultra')]).toEqual([false, true, true]);
    expect(trackFileOf(cfg)).toEqual({ weight: cfg.healthCheck.weight });
    const conf = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(conf).toMatch(/^! node lb01, profile ultra \(VRRPv3\)$/m);
    expect(conf).toMatch(/^ {4}vrrp_version 3$/m);
    expect(conf).toMatch(/^ {4}advert_int 0\.02$/m);
    expect(conf).toMatch(/^ {4}vrrp_garp_master_delay 1$/m);
    expect(conf).toMatch(/^ {4}vrrp_priority -20$/m);
    expect(renderKeepalivedConf(cfgOf({ ...clone(ultra), profile: 'fast' }), cfg.nodes[0])).not.toContain(
      'vrrp_priority',
    );
    expect(conf).toContain('track_file');
    const slower = clone(ultra) as { instances: { advertInt?: number }[] };
    slower.instances[0].advertInt = 0.05;
    expect(cfgOf(slower).instances[0].advertInt).toBe(0.05);
    slower.instances[0].advertInt = 0.005;
    expect(problems(slower)).toEqual([
      'instances[0].advertInt: must be 0.01..40.95 seconds in steps of 0.01 with profile ultra (VRRPv3) (got 0.005)',
    ]);
  });

  it("refused with the guides' restart-then-stop check: one line naming the key", () => {
    const a = { ...clone(ultra), healthCheck: { mode: 'restart-then-stop', interval: 1 } };
    expect(problems(a)).toEqual([
      'healthCheck.mode: profile ultra needs weight (restart-then-stop tries a restart and waits 1.5 s before the ' +
        'VIP can move)',
    ]);
    expect(problems({ ...clone(pair), profile: 'turbo' })).toEqual([
      'profile: must be one of standard, fast, ultra (got "turbo")',
    ]);
  });

  it('bounds under 0.2 s for every fault (priority 100: skew 12 ms), a margin of 0.05 s + 20 %', () => {
    const cfg = cfgOf(ultra);
    const b = expectedBounds(cfg, cfg.instances[0], 'lb01', boundFeatures(cfg, ['2.2.7', '2.2.7']));
    // nginx: track_file at once, FAULT: priority-0 advert, the backup's skew (156 x 0.02 / 256 s) + 100 ms
    expect(b.nginx.expectedMaxMs).toBeCloseTo(112.19, 2);
    expect(b.keepalived.expectedMaxMs).toBeCloseTo(112.19, 2);
    // crash, link: master-down timer 3 x 0.02 s + skew, + 100 ms
    expect(b.crash.expectedMaxMs).toBeCloseTo(172.19, 2);
    expect(b.link.expectedMaxMs).toBeCloseTo(172.19, 2);
    expect(marginMs(172, 'ultra')).toBe(84);
    expect(marginMs(172, 'fast')).toBe(534);
    expect(marginMs(172)).toBe(534);
  });

  it('verify-failover probes every 10 ms on an ultra pair, every 50 ms elsewhere', () => {
    expect(defaultProbeIntervalMs('ultra')).toBe(10);
    expect(defaultProbeIntervalMs('fast')).toBe(50);
    expect(defaultProbeIntervalMs('standard')).toBe(50);
  });

  it('refused on a node with keepalived 1.x (no track_file, a takeover one advert late); planned on 2.x', () => {
    const cfg = cfgOf(ultra);
    const facts = converge(cfg, allFresh(cfg, 'debian'));
    expect(buildPlan({ cfg, facts, skipNetworkChecks: true }).refusals).toEqual([]);
    facts.lb02.kaversion = '1.3.5';
    expect(buildPlan({ cfg, facts, skipNetworkChecks: true }).refusals).toEqual([
      'lb02 (172.16.70.182): profile ultra needs keepalived 2.x on every node; lb02 runs (or would get) 1.3.5, ' +
        'which has no track_file and takes over one advert late: use profile fast there',
    ]);
  });
});
