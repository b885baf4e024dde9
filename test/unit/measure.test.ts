/** Gap, time-to-holder, split brain from fixture samples. */
import { describe, expect, it } from 'vitest';
import { measure } from '../../src/failover/measure.js';
import type { ProbeSample } from '../../src/observe/probe.js';
import { holderTimeline } from '../../src/observe/holder-stream.js';
import { strip, svg } from '../../src/report/timeline.js';
import type { ScenarioResult } from '../../src/failover/run.js';

/** probes every 50 ms from t=0; failing in [failFrom, failTo); served by lb01 before, lb02 after */
function probes(failFrom: number, failTo: number, end = 5000): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let t = 0; t < end; t += 50) {
    const ok = t < failFrom || t >= failTo;
    out.push({ t, ok, status: ok ? 200 : 0, servedBy: ok ? (t < failFrom ? 'lb01' : 'lb02') : null, ms: 2 });
  }
  return out;
}

describe('measure', () => {
  const timeline = [
    { t: 0, holders: ['lb01'] },
    { t: 1400, holders: ['lb02'] },
  ];
  it('gap = first failed probe -> first good probe through the new holder', () => {
    const m = measure(probes(1050, 1450), timeline, 1000, 'lb01', 5000, 200);
    expect(m).toMatchObject({
      newHolder: 'lb02',
      timeToHolderMs: 400,
      firstFailAt: 1050,
      recoveredAt: 1450,
      gapMs: 400,
      failedProbes: 8,
      splitBrainMs: 0,
      unrecovered: false,
    });
    expect(m.totalProbes).toBe(84); // from fault - probe timeout (800 ms) to the window end, every 50 ms
  });
  it('no failed probe: gap 0', () => {
    expect(measure(probes(99999, 99999), timeline, 1000, 'lb01', 5000, 200).gapMs).toBe(0);
  });
  it('a good answer still coming from the old master does not end the gap', () => {
    const p = probes(1050, 1450);
    p.find((s) => s.t === 1200)!.ok = true;
    p.find((s) => s.t === 1200)!.servedBy = 'lb01';
    expect(measure(p, timeline, 1000, 'lb01', 5000, 200).gapMs).toBe(400);
  });
  it('the old master back by itself (crash restarted, VIP taken back) ends the gap when it answers', () => {
    // VIP to lb02 at 1400 but lb02 never answers; lb01's keepalived restarts and takes the VIP back at 2000
    const tl = [
      { t: 0, holders: ['lb01'] },
      { t: 1400, holders: ['lb01', 'lb02'] },
      { t: 2000, holders: ['lb01'] },
    ];
    const p = probes(1050, 2050).map((s) => (s.ok && s.t >= 2050 ? { ...s, servedBy: 'lb01' } : s));
    expect(measure(p, tl, 1000, 'lb01', 5000, 200)).toMatchObject({
      newHolder: 'lb02',
      firstFailAt: 1050,
      recoveredAt: 2050,
      gapMs: 1000,
      unrecovered: false,
    });
    // while both hold it, an answer from lb01 does not count
    const p2 = probes(1050, 2050).map((s) =>
      s.t === 1600
        ? { ...s, ok: true, status: 200, servedBy: 'lb01' }
        : s.ok && s.t >= 2050
          ? { ...s, servedBy: 'lb01' }
          : s,
    );
    expect(measure(p2, tl, 1000, 'lb01', 5000, 200).recoveredAt).toBe(2050);
  });
  it('never served again: unrecovered, gap null', () => {
    const m = measure(probes(1050, 99999), timeline, 1000, 'lb01', 5000, 200);
    expect(m).toMatchObject({ gapMs: null, unrecovered: true });
  });
  it('VIP never moved', () => {
    expect(measure(probes(1050, 99999), [{ t: 0, holders: ['lb01'] }], 1000, 'lb01', 5000, 200)).toMatchObject({
      newHolder: null,
      timeToHolderMs: null,
    });
  });
  it('split brain time is the overlap of holders after the fault', () => {
    const tl = [
      { t: 0, holders: ['lb01'] },
      { t: 1400, holders: ['lb01', 'lb02'] },
      { t: 2900, holders: ['lb02'] },
    ];
    expect(measure(probes(1050, 1450), tl, 1000, 'lb01', 5000, 200).splitBrainMs).toBe(1500);
  });
  it('holder timeline from per-node samples (only changes kept)', () => {
    const s = [
      { t: 0, node: 'lb01', vips: ['V'] },
      { t: 10, node: 'lb02', vips: [] },
      { t: 50, node: 'lb01', vips: ['V'] },
      { t: 60, node: 'lb02', vips: ['V'] },
      { t: 100, node: 'lb01', vips: [] },
    ];
    expect(holderTimeline(s, 'V', ['lb01', 'lb02'])).toEqual([
      { t: 0, holders: ['lb01'] },
      { t: 60, holders: ['lb01', 'lb02'] },
      { t: 100, holders: ['lb02'] },
    ]);
  });
});

describe('timeline pictures', () => {
  const r: ScenarioResult = {
    name: 'nginx',
    instance: 'VI_1',
    group: null,
    vips: ['198.18.0.100'],
    vip: '198.18.0.100',
    perVip: [],
    masterBefore: 'lb01',
    masterAfter: 'lb02',
    timeToHolderMs: 400,
    gapMs: 400,
    expectedMaxMs: 2709,
    maxGapMs: 3751,
    bound: 'check fails 2 x every 1 s (2.00 s), FAULT: priority-0 advert, skew 0.61 s of lb02',
    failedProbes: 8,
    totalProbes: 85,
    splitBrainMs: 0,
    faultAt: 1000,
    firstFailAt: 1050,
    recoveredAt: 1450,
    restored: true,
    restoreLog: [],
    left: [],
    vipReturned: true,
    return: null,
    holderAfterRestore: ['lb01'],
    groupMoved: null,
    notes: [],
    ok: true,
    reasons: [],
    timeline: {
      start: 0,
      faultAt: 1000,
      movedAt: 1400,
      restoredAt: 3000,
      returnedAt: 3500,
      end: 5000,
      probes: probes(1050, 1450),
      holders: [
        { t: 0, holders: ['lb01'] },
        { t: 1400, holders: ['lb02'] },
        { t: 3500, holders: ['lb01'] },
      ],
    },
  };
  it('terminal strip: failures, holders and events line up on one scale', () => {
    const t = strip(r, ['lb01', 'lb02'], { width: 50 });
    const lines = t.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        '^VI_1 nginx: lb01 -> lb02, gap 0\\.40 s \\(bound 2\\.71 s\\), ' +
          'new holder after 0\\.40 s, failed 8/85 probes, ' +
          'split brain 0 ms, restored, VIP back on lb01$',
      ),
    );
    const clients = lines[1].split('|')[1];
    const vip = lines[2].split('|')[1];
    const ev = lines[3].split('|')[1];
    expect(clients.indexOf('x')).toBe(10);
    expect(ev.indexOf('F')).toBe(10);
    expect(ev.indexOf('M')).toBe(14);
    expect(vip.slice(0, 14)).toBe('1'.repeat(14));
    expect(vip.slice(14, 35)).toBe('2'.repeat(21));
    expect(vip.slice(35)).toBe('1'.repeat(15));
    expect(t).not.toContain('\x1b[');
  });
  it('svg: one probe mark per run of failed probes, counting them, self-contained', () => {
    const x = svg([r], ['lb01', 'lb02']);
    expect(x.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(x.match(/data-count="(\d+)"[^>]*fill="#d62728"><title>/g)).toEqual([
      expect.stringMatching(/^data-count="8"/),
    ]);
    expect(x).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });
});
