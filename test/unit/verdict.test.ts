/**
 * The verdict of one verify-failover scenario (failover/verdict.ts, pure): what was measured -> ok or not, with one
 * reason per failure and notes for what is not one.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { targetsOf } from '../../src/answers/targets.js';
import type { Measured } from '../../src/failover/measure.js';
import { SPLIT_BRAIN_LIMIT_MS, verdict, type VerdictInput } from '../../src/failover/verdict.js';
import { pair, syncGroup } from '../fixtures/answers.js';

const T = 1_000_000;
const cfg = resolveAnswers(pair, { env: {} });
const target = targetsOf(cfg)[0];

/** a clean failover: lb01 -> lb02 400 ms after the fault, 200 ms of failed probes, back on lb01 afterwards */
function input(over: Partial<VerdictInput> = {}, m: Partial<Measured> = {}): VerdictInput {
  return {
    name: 'nginx',
    target,
    master: 'lb01',
    measured: {
      newHolder: 'lb02',
      timeToHolderMs: 400,
      firstFailAt: T + 100,
      recoveredAt: T + 300,
      gapMs: 200,
      failedProbes: 4,
      totalProbes: 100,
      splitBrainMs: 0,
      unrecovered: false,
      ...m,
    },
    timelines: {
      '172.16.70.183': [
        { t: T - 1000, holders: ['lb01'] },
        { t: T + 400, holders: ['lb02'] },
      ],
    },
    faultAt: T,
    bound: 3000,
    maxGapMs: 4000,
    maxGapGiven: false,
    why: 'advert_int 1 s x 3 + skew',
    restoreFailed: null,
    left: [],
    expectBack: true,
    after: ['lb01'],
    ret: { failedProbes: 0, totalProbes: 40, gapMs: 0 },
    ...over,
  };
}

describe('verdict', () => {
  it('a clean failover and return: no reason, no note; the return measure passed through', () => {
    expect(verdict(input())).toEqual({
      reasons: [],
      notes: [],
      left: [],
      groupMoved: null,
      ret: { failedProbes: 0, totalProbes: 40, gapMs: 0 },
    });
  });

  it('the VIP never left the master', () => {
    const v = verdict(input({}, { newHolder: null, timeToHolderMs: null }));
    expect(v.reasons).toEqual(['the VIP never left lb01']);
  });

  it('the VIP left the master but nobody took it (orphaned after the fault)', () => {
    const timelines = {
      '172.16.70.183': [
        { t: T - 1000, holders: ['lb01'] },
        { t: T + 300, holders: [] },
      ],
    };
    const v = verdict(input({ timelines }, { newHolder: null, timeToHolderMs: null }));
    expect(v.reasons).toEqual([
      'the VIP left lb01 but no other node took it (is the backup in FAULT? check its nginx and keepalived)',
    ]);
    // nobody before the fault is not "left after the fault"
    const before = { '172.16.70.183': [{ t: T - 10, holders: [] }] };
    expect(verdict(input({ timelines: before }, { newHolder: null })).reasons).toEqual(['the VIP never left lb01']);
  });

  it('crash: keepalived restarted before any failover was needed is a note, not a failure', () => {
    const v = verdict(input({ name: 'crash' }, { newHolder: null, failedProbes: 0, splitBrainMs: 0, gapMs: 0 }));
    expect(v.reasons).toEqual([]);
    expect(v.notes).toEqual([
      "keepalived on lb01 was restarted before the backup's master-down timer ran out: " +
        'no failover was needed, no client failed',
    ]);
    // a client failed: it is not that case
    const w = verdict(input({ name: 'crash' }, { newHolder: null, failedProbes: 1 }));
    expect(w.notes).toEqual([]);
    expect(w.reasons).toEqual(['the VIP never left lb01']);
  });

  it('clients never served again before the restore', () => {
    expect(verdict(input({}, { unrecovered: true, gapMs: null })).reasons).toEqual([
      'clients were not served again through lb02 before the restore',
    ]);
    expect(verdict(input({}, { newHolder: null, unrecovered: true, gapMs: null })).reasons).toEqual([
      'the VIP never left lb01',
      'clients were not served again through another node before the restore',
    ]);
  });

  it("a gap over the limit: --max-gap when given, else the configuration's bound + margin and why", () => {
    expect(verdict(input({}, { gapMs: 4000 })).reasons).toEqual([]);
    expect(verdict(input({}, { gapMs: 4500 })).reasons).toEqual([
      "gap 4.50 s is over the configuration's bound 3.00 s + margin 1.00 s (advert_int 1 s x 3 + skew)",
    ]);
    expect(verdict(input({ maxGapMs: 2000, maxGapGiven: true }, { gapMs: 2500 })).reasons).toEqual([
      'gap 2.50 s is over --max-gap 2.00 s',
    ]);
  });

  it('split brain: over the limit only; a crashed master keeping a stale VIP says what fixes it', () => {
    expect(verdict(input({}, { splitBrainMs: SPLIT_BRAIN_LIMIT_MS })).reasons).toEqual([]);
    expect(verdict(input({}, { splitBrainMs: 2500 })).reasons).toEqual([
      'split brain: the VIP was on two nodes for 2.50 s',
    ]);
    // not a crash: the plain wording whatever the length
    expect(verdict(input({}, { splitBrainMs: 5000 })).reasons).toEqual([
      'split brain: the VIP was on two nodes for 5.00 s',
    ]);
    expect(verdict(input({ name: 'crash' }, { splitBrainMs: 4500 })).reasons).toEqual([
      'split brain: the killed master kept a stale VIP until the restore (4.50 s; ' +
        'nothing restarts keepalived: set failover.restartOnCrash)',
    ]);
    expect(verdict(input({ name: 'crash' }, { splitBrainMs: 4499 })).reasons).toEqual([
      'split brain: the VIP was on two nodes for 4.50 s',
    ]);
  });

  it('a failed restore, and a pair not as before the test (each difference described)', () => {
    const v = verdict(
      input({
        restoreFailed: 'lb01: systemctl start nginx failed (exit 1)',
        left: [
          { kind: 'vip', node: 'lb02', what: 'VI_1 172.16.70.183', was: 'lb01', now: 'lb02' },
          { kind: 'unit', node: 'lb01', what: 'nginx', was: 'active, enabled', now: 'inactive, enabled' },
        ],
      }),
    );
    expect(v.left).toEqual([
      'VI_1 172.16.70.183: held by lb02 (was lb01)',
      'lb01: nginx was active, enabled, now inactive, enabled',
    ]);
    expect(v.reasons).toEqual([
      'restore failed: lb01: systemctl start nginx failed (exit 1)',
      'not as before the test: VI_1 172.16.70.183: held by lb02 (was lb01); ' +
        'lb01: nginx was active, enabled, now inactive, enabled',
    ]);
  });

  it('preempt: the VIP must be back on the master, alone; nopreempt does not ask for it', () => {
    const reason = 'the VIP did not return to lb01 after the restore (preempt)';
    expect(verdict(input({ after: ['lb02'] })).reasons).toEqual([reason]);
    expect(verdict(input({ after: ['lb01', 'lb02'] })).reasons).toEqual([reason]);
    expect(verdict(input({ after: [] })).reasons).toEqual([reason]);
    expect(verdict(input({ after: ['lb02'], expectBack: false })).reasons).toEqual([]);
  });

  it('the return (a planned move) must cost clients nothing', () => {
    const ret = { failedProbes: 3, totalProbes: 40, gapMs: 150 };
    const v = verdict(input({ ret }));
    expect(v.reasons).toEqual(['giving the VIP back to lb01 (a planned move) failed 3 of 40 requests (gap 0.15 s)']);
    expect(v.ret).toBe(ret);
    expect(verdict(input({ ret: null })).reasons).toEqual([]);
  });

  it('reasons come in a fixed order: movement, gap, split brain, restore, drift, return', () => {
    const v = verdict(
      input(
        {
          restoreFailed: 'x',
          left: [{ kind: 'unit', node: 'lb01', what: 'nginx', was: 'a', now: 'b' }],
          after: ['lb02'],
          ret: { failedProbes: 1, totalProbes: 10, gapMs: 50 },
        },
        { unrecovered: true, gapMs: 9000, splitBrainMs: 3000 },
      ),
    );
    expect(v.reasons.map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual([
      'clients were',
      'gap 9.00',
      'split brain:',
      'restore failed:',
      'not as',
      'the VIP',
      'giving the',
    ]);
  });
});

describe('verdict: sync groups', () => {
  const sg = resolveAnswers(syncGroup, { env: {} });
  const group = targetsOf(sg)[0];
  const tl = (after: string) => [
    { t: T - 1000, holders: ['lb01'] },
    { t: T + 400, holders: [after] },
  ];

  it('every VIP of the group moved to the new holder: groupMoved', () => {
    const v = verdict(
      input({ target: group, timelines: { '172.16.70.183': tl('lb02'), '172.16.70.184': tl('lb02') } }),
    );
    expect(v.groupMoved).toBe(true);
    expect(v.reasons).toEqual([]);
  });

  it('a VIP of the group left behind is a failure naming it', () => {
    const v = verdict(
      input({ target: group, timelines: { '172.16.70.183': tl('lb02'), '172.16.70.184': tl('lb01') } }),
    );
    expect(v.groupMoved).toBe(false);
    expect(v.reasons).toEqual(['sync group G_WEB: 172.16.70.184 did not move to lb02']);
  });

  it('nothing moved at all: not judged as a group (the movement reason says it)', () => {
    const v = verdict(input({ target: group }, { newHolder: null }));
    expect(v.groupMoved).toBeNull();
    expect(v.reasons).toEqual(['the VIP never left lb01']);
  });
});
