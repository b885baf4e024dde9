/**
 * The one judgement of VIP health (pair/health.ts) shared by init, status, verify-failover and switchover: exactly
 * one holder per VIP, and with preempt the node keepalived is expected to elect after ha-setup's state flags.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { targetOf, targetsOf } from '../../src/answers/targets.js';
import { excluded, expectedHolder, judgeVips, returnsHome, topHolders, vipProblems } from '../../src/pair/health.js';
import { activeActive, nopreempt, pair, syncGroup, threeNodes, weightDriven } from '../fixtures/answers.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });
const VIP = '172.16.70.183';

describe('judgeVips', () => {
  const cfg = cfgOf(pair);

  it('one holder, the master: healthy', () => {
    expect(judgeVips(cfg, { [VIP]: ['lb01'] })).toEqual([
      {
        instance: 'VI_1',
        vip: VIP,
        holders: ['lb01'],
        expected: 'lb01',
        master: 'lb01',
        preempt: true,
        problem: null,
        text: null,
      },
    ]);
  });

  it('master auto (equal priorities): any node of the highest priority keeps the VIP it holds', () => {
    const auto = cfgOf(weightDriven);
    // keepalived never preempts an equal priority: lb02 keeps what it took over (a takeover leaves it there)
    expect(judgeVips(auto, { [VIP]: ['lb02'] })[0]).toMatchObject({ problem: null, expected: 'lb02' });
    // demoted by a switchover, lb01 is below the others: either of them
    const flags = { lb01: { 'demote.k8s-api': 1 } };
    expect(judgeVips(auto, { [VIP]: ['lb03'] }, { flags })[0]).toMatchObject({ problem: null, expected: 'lb03' });
    expect(judgeVips(auto, { [VIP]: ['lb01'] }, { flags })[0]).toMatchObject({
      problem: 'wrong-holder',
      expected: 'lb02',
    });
  });

  it('split brain: the VIP on two nodes at once', () => {
    const [v] = judgeVips(cfg, { [VIP]: ['lb01', 'lb02'] });
    expect(v.problem).toBe('split-brain');
    expect(v.text).toBe(
      `SPLIT BRAIN: VI_1 ${VIP} is on lb01 and lb02 at once (check that VRRP passes between them: firewall, multicast)`,
    );
  });

  it('lost VIP: on no node (a VIP missing from the holders map counts as held by nobody)', () => {
    expect(judgeVips(cfg, { [VIP]: [] })[0]).toMatchObject({
      problem: 'lost',
      text: `LOST VIP: VI_1 ${VIP} is on no node`,
    });
    expect(judgeVips(cfg, {})[0]).toMatchObject({ problem: 'lost', holders: [] });
  });

  it('wrong holder: with preempt the VIP belongs on the master', () => {
    const [v] = judgeVips(cfg, { [VIP]: ['lb02'] });
    expect(v).toMatchObject({ problem: 'wrong-holder', expected: 'lb01' });
    expect(v.text).toBe(`VI_1 ${VIP} is on lb02, expected on lb01 (its master)`);
  });

  it('master: auto (equal priorities): any of the tied nodes may hold it, and it stays where it is', () => {
    const auto = cfgOf(weightDriven);
    const [t] = targetsOf(auto);
    expect(topHolders(auto, t)).toEqual(['lb01', 'lb02', 'lb03']);
    expect(returnsHome(auto, t)).toBe(false);
    for (const node of ['lb01', 'lb02', 'lb03'])
      expect(judgeVips(auto, { [VIP]: [node] })[0]).toMatchObject({ problem: null, expected: node, preempt: false });
    // one of them demoted (a switchover) or in maintenance: the others still tie
    const flags = { lb01: { 'demote.k8s-api': 1 }, lb02: {}, lb03: { maintenance: 1 } };
    expect(topHolders(auto, t, { flags })).toEqual(['lb02']);
    expect(returnsHome(auto, t, { flags })).toBe(true);
    const [v] = judgeVips(auto, { [VIP]: ['lb01'] }, { flags });
    expect(v).toMatchObject({ problem: 'wrong-holder', expected: 'lb02' });
    const two = { lb01: { 'demote.k8s-api': 1 }, lb02: {}, lb03: {} };
    expect(judgeVips(auto, { [VIP]: ['lb01'] }, { flags: two })[0].text).toBe(
      `k8s-api ${VIP} is on lb01, expected on lb02 or lb03 (the highest priority, equal on these nodes)`,
    );
  });

  it('after a switchover (the master demoted) the other node is expected, and the master is the wrong holder', () => {
    const flags = { lb01: { 'demote.VI_1': 1 }, lb02: {} };
    expect(judgeVips(cfg, { [VIP]: ['lb02'] }, { flags })[0]).toMatchObject({ problem: null, expected: 'lb02' });
    const [v] = judgeVips(cfg, { [VIP]: ['lb01'] }, { flags });
    expect(v.problem).toBe('wrong-holder');
    expect(v.text).toBe(`VI_1 ${VIP} is on lb01, expected on lb02 (the highest priority after a switchover)`);
  });

  it('nopreempt: any one holder is right; two or none still are not', () => {
    const np = cfgOf(nopreempt);
    for (const h of [['lb01'], ['lb02']]) {
      expect(judgeVips(np, { '10.0.0.3': h })[0]).toMatchObject({ problem: null, expected: null, preempt: false });
    }
    expect(judgeVips(np, { '10.0.0.3': ['lb01', 'lb02'] })[0].problem).toBe('split-brain');
    expect(judgeVips(np, { '10.0.0.3': [] })[0].problem).toBe('lost');
  });

  it('active-active: each VIP judged against its own instance; the problems one line each', () => {
    const aa = cfgOf(activeActive);
    const v = judgeVips(aa, { [VIP]: ['lb01'], '172.16.70.184': ['lb01'] });
    expect(v.map((x) => [x.instance, x.expected, x.problem])).toEqual([
      ['VI_1', 'lb01', null],
      ['VI_2', 'lb02', 'wrong-holder'],
    ]);
    expect(vipProblems(v)).toEqual(['VI_2 172.16.70.184 is on lb01, expected on lb02 (its master)']);
  });
});

describe('expectedHolder: who keepalived elects, after the state flags', () => {
  const cfg = cfgOf(pair);
  const t = targetsOf(cfg)[0];

  it('no flags: the highest priority (the master)', () => {
    expect(expectedHolder(cfg, t)).toBe('lb01');
    expect(expectedHolder(cfg, t, { flags: { lb01: {}, lb02: {} } })).toBe('lb01');
  });

  it('demote.T lowers that node below every node not demoted; a flag at 0 is off', () => {
    expect(expectedHolder(cfg, t, { flags: { lb01: { 'demote.VI_1': 1 } } })).toBe('lb02');
    expect(expectedHolder(cfg, t, { flags: { lb01: { 'demote.VI_1': 0 } } })).toBe('lb01');
    // a demotion of the backup changes nothing; one for another target neither
    expect(expectedHolder(cfg, t, { flags: { lb02: { 'demote.VI_1': 1 } } })).toBe('lb01');
    expect(expectedHolder(cfg, t, { flags: { lb01: { 'demote.VI_9': 1 } } })).toBe('lb01');
  });

  it('three nodes: a demoted node goes below all the others, which keep their order', () => {
    const c3 = cfgOf(threeNodes);
    const t3 = targetsOf(c3)[0];
    // priorities 150, 120, 90: the demote weight is more than the spread (61), so a drops to 89, below c
    expect(t3.demoteWeight).toBe(61);
    expect(expectedHolder(c3, t3, { flags: { a: { 'demote.VI_1': 1 } } })).toBe('b');
    expect(expectedHolder(c3, t3, { flags: { a: { 'demote.VI_1': 1 }, b: { 'demote.VI_1': 1 } } })).toBe('c');
    // every node demoted: their own order again
    const all = { 'demote.VI_1': 1 };
    expect(expectedHolder(c3, t3, { flags: { a: all, b: all, c: all } })).toBe('a');
  });

  it('maintenance and handover.T exclude a node; so does being unable (keepalived or nginx down)', () => {
    expect(expectedHolder(cfg, t, { flags: { lb01: { maintenance: 1 } } })).toBe('lb02');
    expect(expectedHolder(cfg, t, { flags: { lb01: { 'handover.VI_1': 1 } } })).toBe('lb02');
    expect(expectedHolder(cfg, t, { unable: new Set(['lb01']) })).toBe('lb02');
    expect(excluded(t, 'lb01', { flags: { lb01: { 'handover.VI_1': 1 } } })).toBe(true);
    expect(excluded(t, 'lb01', { flags: { lb01: { 'handover.VI_2': 1 } } })).toBe(false);
    // nobody can: no node expected, and then any single holder is accepted
    const none = { flags: { lb01: { maintenance: 1 } }, unable: new Set(['lb02']) };
    expect(expectedHolder(cfg, t, none)).toBeNull();
    expect(judgeVips(cfg, { [VIP]: ['lb02'] }, none)[0]).toMatchObject({ expected: null, problem: null });
  });

  it("a sync group moves as one: its flags are the group's, and every VIP of it follows", () => {
    const sg = cfgOf(syncGroup);
    const g = targetOf(sg, 'VI_2')!;
    expect(g.name).toBe('G_WEB');
    expect(expectedHolder(sg, g, { flags: { lb01: { 'demote.G_WEB': 1 } } })).toBe('lb02');
    // a flag named after one member instance is not the group's
    expect(expectedHolder(sg, g, { flags: { lb01: { 'demote.VI_1': 1 } } })).toBe('lb01');
    const v = judgeVips(sg, { [VIP]: ['lb02'], '172.16.70.184': ['lb02'] }, { flags: { lb01: { 'demote.G_WEB': 1 } } });
    expect(v.map((x) => [x.instance, x.expected, x.problem])).toEqual([
      ['VI_1', 'lb02', null],
      ['VI_2', 'lb02', null],
    ]);
  });
});
