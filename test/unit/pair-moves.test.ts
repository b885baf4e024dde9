/**
 * Moving VIPs on a serving pair (pair/move.ts, handover.ts, switchover.ts) against a simulated pair whose VIPs
 * follow keepalived's election (test/helpers/sim-pair.ts), under fake timers: the planned move's steps in order
 * (handoff rule on the taker, hold on lo, the trigger, the wait, arp_ignore while draining, everything undone), the
 * undo when nobody takes over, switchover's choice of a taker and its demotions, maintenance on and off (planned by
 * plan/day2.ts and run by the executor, as the commands do), the rolling restart's stop and return, and the
 * refusals.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveAnswers, type Config } from '../../src/answers/resolve.js';
import { targetsOf } from '../../src/answers/targets.js';
import { OperationError, PreconditionError } from '../../src/errors.js';
import { awaitReady, handOver, readiness, readyTakers, returnTo, takeoverMs } from '../../src/pair/handover.js';
import { vipHolders } from '../../src/observe/holders.js';
import { addressOn, DRAIN_MAX_MS, handoffOn, plannedMove } from '../../src/pair/move.js';
import { gatherScript } from '../../src/facts/gather.js';
import { fakeConn } from '../helpers/fake-conn.js';
import { executePlan } from '../../src/apply/execute.js';
import { HostRunner } from '../../src/apply/runner.js';
import { readPairFacts, targetsToMove, type PairFacts } from '../../src/pair/switchover.js';
import { maintenanceOffPlan, maintenanceOnPlan, switchoverPlan, type Day2Plan } from '../../src/plan/day2.js';
import type { Target } from '../../src/answers/targets.js';
import { activeActive, nopreempt, pair, threeNodes, weightDriven } from '../fixtures/answers.js';
import { drive, unexpected } from '../helpers/clock.js';
import { SimPair } from '../helpers/sim-pair.js';

const VIP = '172.16.70.183';
const cfgOf = (a: unknown): Config => resolveAnswers(structuredClone(a), { env: {} });

function setup(answers: unknown = pair, lagMs = 300) {
  const cfg = cfgOf(answers);
  const sim = new SimPair(cfg, { lagMs });
  const progress: string[] = [];
  const env = { cfg, conns: sim.conns, progress: (l: string) => progress.push(l) };
  return { cfg, sim, env, progress, t: targetsOf(cfg)[0] };
}

type Env = ReturnType<typeof setup>['env'];

/**
 * A day-2 command as it runs: the pair's facts read, the plan built, executed by the one executor; a failed node's
 * error is thrown. Returns the plan, its first move and what the moves said (log).
 */
async function day2(env: Env, build: (pf: PairFacts) => Day2Plan) {
  const plan = build(await drive(readPairFacts(env.cfg, env.conns)));
  const runners = Object.fromEntries(
    env.cfg.nodes.map((n) => [n.name, new HostRunner(env.conns[n.name], n, '20260101T120000Z-moves')]),
  );
  const out = await drive(executePlan({ cfg: env.cfg, conns: env.conns, runners, renderer: 'silent' }, plan));
  const failed = out.nodes.find((r) => !r.ok);
  if (failed) throw new OperationError(failed.error!);
  return { plan, move: plan.moves[0], log: Object.values(out.logs).flat(), out };
}
const switchover = (env: Env, t: Target, to?: string) => day2(env, (pf) => switchoverPlan(env.cfg, pf, [t], to));
const maintenanceOn = (env: Env, node: string) => day2(env, (pf) => maintenanceOnPlan(env.cfg, pf, node));
const maintenanceOff = (env: Env, node: string) => day2(env, (pf) => maintenanceOffPlan(env.cfg, pf, node));

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('switchover', () => {
  it('moves the VIP to the backup as a planned move, in order; the old holder stays a demoted backup', async () => {
    const { sim, env, t, progress } = setup();
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
    const r = await drive(switchover(env, t));
    expect(r.move).toMatchObject({ target: 'VI_1', vips: [VIP], from: 'lb01', to: 'lb02' });
    // lb02 is not lb01's natural successor by priority here: every other node is demoted (lb02 is not, and its
    // flag is 0 already: not written again); the holder itself only in the trigger, after its FAULT (demoted
    // before, it would lose the VIP by preemption ahead of the handoff)
    expect(r.out.nodes[0].actions).toEqual([
      `move VI_1 (${VIP}) to lb02 without a gap: the handover flag here (FAULT for VI_1) for the moment of the move, ` +
        'demoted for VI_1 as it hands over, cleared after; then lb02 must hold them',
    ]);
    expect(sim.events).toEqual([
      'lb02: handoff on to 172.16.70.181 for 172.16.70.183',
      `lb01: hold ${VIP}`,
      'lb01: flag handover.VI_1=1',
      'lb01: flag demote.VI_1=1',
      'lb01: arp_ignore on',
      `lb01: unhold ${VIP}`,
      'lb01: arp_ignore off',
      'lb02: handoff off',
      // a switchover's FAULT lasts only for the move
      'lb01: flag handover.VI_1=0',
    ]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb02'] });
    expect(sim.host('lb01').flags).toEqual({ 'demote.VI_1': 1, 'handover.VI_1': 0 });
    expect(r.log).toEqual([`lb01: answering for ${VIP} while keepalived lets go of them`, `${VIP} now on lb02`]);
    expect(progress).toEqual([]);
    // preempt would bring it back to lb01 without the demotion: said so
    expect(r.move.notes).toEqual([
      'VI_1 preempts: without the switchover it would go back to lb01; it stays on lb02 until the next ' +
        '`ha-setup switchover` or `ha-setup maintenance NODE off`',
    ]);
    expect(Object.values(sim.hosts).some((h) => h.held.size || h.handoff || h.arpQuiet)).toBe(false);
  });

  it('back to the node that wins by priority: no demotion at all, no note', async () => {
    const { sim, env, t } = setup();
    await drive(switchover(env, t));
    sim.events.length = 0;
    const back = await drive(switchover(env, t, 'lb01'));
    expect(back.move).toMatchObject({ from: 'lb02', to: 'lb01', notes: [] });
    // lb02 was never demoted: only lb01's demotion is lifted
    expect(sim.events.slice(0, 1)).toEqual(['lb01: flag demote.VI_1=0']);
    expect(back.plan.nodes.map((p) => [p.node, p.rolling])).toEqual([
      ['lb01', false],
      ['lb02', true],
    ]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('nobody takes over in time: the trigger undone, the VIP stays, the error says where it was', async () => {
    const { sim, env, t, cfg } = setup();
    sim.host('lb02').neverTakesOver = true;
    const start = Date.now();
    const e = await drive(switchover(env, t)).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect(e.message).toBe(`lb01: no other node took ${VIP} over in time (${VIP} on no node)`);
    // it waited the longest a takeover can take, refreshing the hold on lo meanwhile (every 2 s)
    expect(Date.now() - start).toBeGreaterThanOrEqual(takeoverMs(cfg, [t]));
    const lb01 = sim.eventsOf('lb01');
    expect(lb01.filter((x) => x === `lb01: hold ${VIP}`).length).toBeGreaterThan(2);
    // undone: the flag cleared (by the undo, then once more by handOver's finally), the hold dropped; the step's
    // undo finds every flag back at its value already: no write through the values in between
    expect(lb01.filter((x) => x === 'lb01: flag handover.VI_1=0')).toHaveLength(2);
    expect(lb01.slice(-2)).toEqual([`lb01: unhold ${VIP}`, 'lb01: flag handover.VI_1=0']);
    expect(lb01.filter((x) => /flag .*=1$/.test(x))).toEqual([
      'lb01: flag handover.VI_1=1',
      'lb01: flag demote.VI_1=1',
    ]);
    expect(lb01).not.toContain('lb01: arp_ignore on');
    expect(sim.events).toContain('lb02: handoff off');
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('master: auto, two nodes: the taker wins its tie once the holder is FAULT; nobody demoted', async () => {
    const { sim, env, t } = setup({ ...weightDriven, nodes: weightDriven.nodes.slice(0, 2) });
    const r = await drive(switchover(env, t));
    // no "preempts back" note either: an equal priority never preempts
    expect(r.move).toMatchObject({ from: 'lb01', to: 'lb02', notes: [] });
    expect(sim.events.filter((e) => e.includes('demote'))).toEqual([]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb02'] });
  });

  it('master: auto, three nodes: the third ties with the taker, so it is demoted for the move', async () => {
    const { sim, env, t } = setup(weightDriven);
    const r = await drive(switchover(env, t, 'lb03'));
    expect(r.move).toMatchObject({ from: 'lb01', to: 'lb03' });
    expect(sim.events.filter((e) => e.includes('demote'))).toEqual([
      'lb02: flag demote.k8s-api=1',
      'lb01: flag demote.k8s-api=1',
    ]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb03'] });
  });

  it('refusals before anything changes: unknown --to, a VIP on no node, no ready taker', async () => {
    const { sim, env, t } = setup();
    sim.host('lb02').units.nginx.active = 'inactive';
    const e = await drive(switchover(env, t)).then(unexpected, (x: PreconditionError) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe('switchover: no other ready node to take VI_1 over from lb01');
    expect(e.details).toEqual(['lb02: nginx is inactive']);
    sim.host('lb01').units.keepalived.active = 'inactive';
    await expect(drive(switchover(env, t))).rejects.toThrow(
      'switchover: VI_1 is held by no node; run ha-setup status and fix the pair first',
    );
    expect(sim.events).toEqual([]);
  });

  it('to the node that already holds it: nothing to do', async () => {
    const { sim, env, t } = setup();
    const r = await drive(switchover(env, t, 'lb01'));
    expect(r.move.notes).toEqual(['VI_1 is already on lb01']);
    expect(r.plan.nodes).toEqual([]);
    expect(sim.events).toEqual([]);
  });

  it('which targets move: --all, --instance (an instance or its group), refusals', () => {
    const cfg = cfgOf(activeActive);
    expect(targetsToMove(cfg, { all: true }).map((x) => x.name)).toEqual(['VI_1', 'VI_2']);
    expect(targetsToMove(cfg, { instance: 'VI_2' }).map((x) => x.name)).toEqual(['VI_2']);
    expect(() => targetsToMove(cfg, {})).toThrow(
      'switchover: this pair has 2 instances or sync groups (VI_1, VI_2): name one with --instance NAME, or --all',
    );
    expect(() => targetsToMove(cfg, { instance: 'VI_9' })).toThrow(
      '--instance: unknown instance "VI_9" (instances: VI_1, VI_2)',
    );
    expect(targetsToMove(cfgOf(pair), {}).map((x) => x.name)).toEqual(['VI_1']);
  });
});

describe('the planned move itself', () => {
  it('a taker without nft: said so, the move goes on without the handoff rule there', async () => {
    const { sim, env, t } = setup();
    sim.host('lb02').nft = false;
    const log = await drive(handOver(env, 'lb01', [t], { how: 'flag' }));
    expect(log[0]).toBe('lb02 has no nft: a request in flight at the switch may be reset there');
    expect(sim.events).not.toContain('lb02: handoff off');
    expect(sim.holders()).toEqual({ [VIP]: ['lb02'] });
  });

  it('drains: the held copies stay until the connections open on the old holder are done', async () => {
    const { sim, env, t } = setup();
    sim.host('lb01').openConnections = [3, 3, 2, 1, 0];
    await drive(handOver(env, 'lb01', [t], { how: 'flag' }));
    const lb01 = sim.eventsOf('lb01');
    // unhold only after the last connection closed, arp_ignore on the whole time
    expect(lb01.indexOf('lb01: arp_ignore on')).toBeLessThan(lb01.indexOf(`lb01: unhold ${VIP}`));
    expect(sim.host('lb01').openConnections).toEqual([]);
  });

  it('drains at most DRAIN_MAX_MS, refreshing the hold, then closes what is left', async () => {
    const { sim, env, t, progress } = setup();
    sim.host('lb01').openConnections = Array(10_000).fill(2);
    const start = Date.now();
    await drive(handOver(env, 'lb01', [t], { how: 'flag' }));
    expect(Date.now() - start).toBeGreaterThan(DRAIN_MAX_MS);
    expect(progress.at(-1)).toBe('lb01: 2 connection(s) still open after 30 s: closing them');
    const holds = sim.eventsOf('lb01').filter((x) => x === `lb01: hold ${VIP}`).length;
    expect(holds).toBeGreaterThanOrEqual(DRAIN_MAX_MS / 2000 - 1);
  });

  it('no ready taker at all: the error names why each node is not', async () => {
    const { sim, env, t } = setup();
    sim.host('lb02').flags.maintenance = 1;
    await expect(drive(readyTakers(env, 'lb01', [t]))).rejects.toThrow(
      'no other node is ready to take VI_1 over from lb01 (lb02: it is in maintenance)',
    );
    await expect(drive(handOver(env, 'lb01', [t], { how: 'flag', to: 'lb02' }))).rejects.toThrow(
      'no other node is ready',
    );
    sim.host('lb02').flags.maintenance = 0;
    sim.host('lb02').units.keepalived.active = 'failed';
    await expect(drive(handOver(env, 'lb01', [t], { how: 'flag', to: 'lb02' }))).rejects.toThrow(
      'keepalived is failed',
    );
    expect(sim.events).toEqual([]);
  });

  it('readiness: each reason a node is not a ready backup', async () => {
    const { sim } = setup();
    const c = sim.conns.lb02;
    expect(await drive(readiness(c))).toEqual({ ready: true, why: null, states: { VI_1: 'BACKUP' } });
    sim.host('lb02').units.nginx.active = 'failed';
    expect((await drive(readiness(c))).why).toBe('nginx is failed');
    sim.host('lb02').units.nginx.active = 'active';
    sim.host('lb02').link = false;
    expect(await drive(readiness(c))).toMatchObject({ ready: false, why: 'VI_1 is FAULT' });
    sim.on(
      '@@kadata',
      { stdout: '@@services\nkeepalived active enabled 1\nnginx active enabled 2\n@@end\n' },
      { times: 1 },
    );
    expect((await drive(readiness(c))).why).toBe('keepalived reports no instance');
    // a dump that could not be read is an unknown state, never "no instance"
    sim.on('@@kadata', {
      stdout:
        '@@services\nkeepalived active enabled 1\nnginx active enabled 2\n' +
        '@@kadata\ndump timeout: keepalived (pid 1) wrote no state dump within 2 s\n@@end\n',
    });
    expect((await drive(readiness(c))).why).toBe(
      'its VRRP state is unknown: timeout: keepalived (pid 1) wrote no state dump within 2 s',
    );
  });

  it('an aborted wait stops polling and reports the holders it saw', async () => {
    const { sim, env } = setup();
    sim.host('lb02').neverTakesOver = true;
    const abort = new AbortController();
    const p = drive(
      plannedMove(
        { ...env, signal: abort.signal },
        {
          from: 'lb01',
          vips: [VIP],
          takers: ['lb02'],
          trigger: async () => {
            sim.host('lb01').flags['handover.VI_1'] = 1;
            sim.touch();
            abort.abort();
          },
          undo: async () => {
            sim.host('lb01').flags['handover.VI_1'] = 0;
            sim.touch();
          },
          timeoutMs: 60_000,
        },
      ),
    );
    const start = Date.now();
    await expect(p).rejects.toThrow('lb01: no other node took 172.16.70.183 over in time (172.16.70.183 on no node)');
    expect(Date.now() - start).toBeLessThan(5000);
  });
});

describe('maintenance', () => {
  it('on: the VIPs handed over (maintenance flag), then off: they come back as a planned move (preempt)', async () => {
    const { sim, env } = setup();
    const on = await drive(maintenanceOn(env, 'lb01'));
    expect(on.plan.moves).toEqual([expect.objectContaining({ target: 'VI_1', vips: [VIP], from: 'lb01', to: 'lb02' })]);
    expect(sim.events.filter((e) => e.includes('flag'))).toEqual(['lb01: flag maintenance=1']);
    expect(sim.holders()).toEqual({ [VIP]: ['lb02'] });
    sim.events.length = 0;
    const off = await drive(maintenanceOff(env, 'lb01'));
    expect(off.plan.moves).toEqual([{ target: 'VI_1', vips: [VIP], from: 'lb02', to: 'lb01', notes: [] }]);
    expect(off.out.nodes[0].actions).toEqual([
      'set the demote.VI_1 flag (a lower priority for VI_1)',
      'clear the maintenance flag (out of maintenance)',
      `keepalived running again here, a ready node; then VI_1 (${VIP}) back here (preempt)`,
    ]);
    expect(off.log).toEqual([`lb02: answering for ${VIP} while keepalived lets go of them`, `${VIP} now on lb01`]);
    expect(sim.events.filter((e) => !/systemctl|hold|arp|handoff/.test(e))).toEqual([
      // it stays demoted until the current holder is set up to answer, then the demotion is lifted
      'lb01: flag demote.VI_1=1',
      'lb01: flag maintenance=0',
      'lb01: flag demote.VI_1=1',
      'lb01: flag demote.VI_1=0',
    ]);
    expect(sim.events).toContain('lb01: handoff on to 172.16.70.182 for 172.16.70.183');
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('on for a node that holds nothing: only the flag; nopreempt VIPs stay where they are at off', async () => {
    const { sim, env } = setup(nopreempt);
    const r = await drive(maintenanceOn(env, 'lb02'));
    expect(r.move.notes).toEqual(['lb02 holds no VIP: only its maintenance flag is set']);
    expect(r.out.nodes[0].actions).toEqual(['set the maintenance flag (FAULT for every instance)']);
    const off = await drive(maintenanceOff(env, 'lb02'));
    expect(off.move).toMatchObject({ target: '-', vips: [], to: 'lb02' });
    expect(off.move.notes).toEqual([
      'VI_1 stay where they are (nopreempt, equal priorities, or another node is preferred)',
    ]);
    expect(sim.host('lb02').flags).toEqual({ maintenance: 0 });
  });

  it('off on a node that holds its VIPs (not in maintenance): no demotion, which would move them away', async () => {
    const { sim, env } = setup();
    const off = await drive(maintenanceOff(env, 'lb01'));
    expect(off.plan.moves).toEqual([{ target: '-', vips: [], from: null, to: 'lb01', notes: [] }]);
    expect(off.out.nodes[0].actions).toEqual(['keepalived running again here, a ready node']);
    expect(sim.events.filter((e) => e.includes('flag'))).toEqual([]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('master: auto (equal priorities): off leaves the VIP where maintenance put it, no move back', async () => {
    // keepalived never preempts an equal priority: a move back by preemption would wait in vain and be undone
    const { sim, env } = setup(weightDriven);
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
    await drive(maintenanceOn(env, 'lb01'));
    const [holder] = sim.holders()[VIP];
    expect(holder).not.toBe('lb01');
    sim.events.length = 0;
    const off = await drive(maintenanceOff(env, 'lb01'));
    expect(off.move).toMatchObject({ target: '-', vips: [], to: 'lb01' });
    expect(off.move.notes).toEqual([
      'k8s-api stay where they are (nopreempt, equal priorities, or another node is preferred)',
    ]);
    expect(sim.events.filter((e) => e.includes('flag'))).toEqual(['lb01: flag maintenance=0']);
    expect(sim.holders()).toEqual({ [VIP]: [holder] });
  });

  it('refusals: on with no other node ready (nothing changed), off while keepalived or nginx is down', async () => {
    const { sim, env } = setup();
    sim.host('lb02').units.keepalived.active = 'inactive';
    const e = await drive(maintenanceOn(env, 'lb01')).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toMatch(/^maintenance: no other node is ready to take VI_1 over from lb01/);
    expect(sim.events).toEqual([]);
    sim.host('lb01').units.nginx.active = 'inactive';
    const from = sim.conns.lb01.calls.length;
    await expect(drive(maintenanceOff(env, 'lb01'))).rejects.toThrow(
      'maintenance off: lb01 must run keepalived and nginx first (keepalived active, nginx inactive): ' +
        'systemctl start nginx keepalived, then run this again',
    );
    // read in one round trip with the node's VRRP states and flags (the facts every day-2 plan reads), and the
    // holders: nothing changed
    const calls = sim.conns.lb01.calls.slice(from);
    expect(calls.filter((c) => c.text.includes('echo "@@services"'))).toHaveLength(1);
    expect(sim.events).toEqual([]);
  });
});

describe('the rolling restart: stop, then return', () => {
  it('handOver "stop" demotes, stops keepalived; returnTo starts it, awaits ready, gives the VIP back', async () => {
    const { sim, env, t } = setup();
    await drive(handOver(env, 'lb01', [t], { how: 'stop' }));
    expect(sim.events.slice(0, 5)).toEqual([
      'lb02: handoff on to 172.16.70.181 for 172.16.70.183',
      `lb01: hold ${VIP}`,
      'lb01: flag demote.VI_1=1',
      'lb01: systemctl stop keepalived',
      'lb01: arp_ignore on',
    ]);
    expect(sim.holders()).toEqual({ [VIP]: ['lb02'] });
    sim.events.length = 0;
    const from = sim.conns.lb01.calls.length;
    const log = await drive(returnTo(env, 'lb01', [t]));
    // whether keepalived runs: the facts' services fact, no systemctl is-active of its own
    expect(sim.conns.lb01.calls.slice(from).filter((c) => c.text.includes('is-active'))).toEqual([]);
    expect(log).toEqual([
      'lb01: keepalived started',
      `lb02: answering for ${VIP} while keepalived lets go of them`,
      `${VIP} now on lb01`,
    ]);
    expect(sim.events.slice(0, 2)).toEqual(['lb01: flag demote.VI_1=1', 'lb01: systemctl start keepalived']);
    expect(sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('a stopped node that does not preempt back: its demotion is lifted, the VIP settles where it is', async () => {
    const { sim, env, t } = setup();
    await drive(handOver(env, 'lb01', [t], { how: 'stop' }));
    sim.events.length = 0;
    expect(await drive(returnTo(env, 'lb01', [], [t]))).toEqual(['lb01: keepalived started']);
    expect(sim.events).toEqual(['lb01: systemctl start keepalived', 'lb01: flag demote.VI_1=0']);
    // back to lb01 by preempt once the demotion is gone (keepalived's own election, not a planned move)
    await vi.advanceTimersByTimeAsync(1000);
    expect((await drive(vipHolders(env.cfg, env.conns)))[VIP]).toEqual(['lb01']);
  });

  it('nopreempt: the VIP it held is moved back by its holder, a planned move (0 failed requests)', async () => {
    const { sim, env, t } = setup(nopreempt);
    const vip = t.instances[0].vips[0].address;
    await drive(handOver(env, 'lb01', [t], { how: 'stop' }));
    expect(sim.holders()).toEqual({ [vip]: ['lb02'] });
    sim.events.length = 0;
    const log = await drive(returnTo(env, 'lb01', [], [], [t]));
    expect(log[0]).toBe('lb01: keepalived started');
    expect(log.at(-1)).toBe(`${vip} now on lb01`);
    // lb01 back, its demotion lifted, then lb02 hands the VIP over (its handover flag for the moment of the move)
    expect(sim.events.filter((e) => /flag|systemctl/.test(e))).toEqual([
      'lb01: systemctl start keepalived',
      'lb01: flag demote.VI_1=0',
      'lb02: flag handover.VI_1=1',
      'lb02: flag handover.VI_1=0',
    ]);
    expect(sim.holders()).toEqual({ [vip]: ['lb01'] });
    await vi.advanceTimersByTimeAsync(3000);
    expect(sim.holders()).toEqual({ [vip]: ['lb01'] });
  });

  it('three nodes: a bystander is demoted for the move back, and only for it', async () => {
    const { sim, env } = setup({
      ...structuredClone(threeNodes),
      instances: [{ ...threeNodes.instances[0], preempt: false }],
    });
    const t = targetsOf(env.cfg)[0];
    const vip = t.instances[0].vips[0].address;
    await drive(handOver(env, 'a', [t], { how: 'stop' }));
    expect(sim.holders()).toEqual({ [vip]: ['b'] });
    sim.events.length = 0;
    await drive(returnTo(env, 'a', [], [], [t]));
    expect(sim.holders()).toEqual({ [vip]: ['a'] });
    const third = 'c';
    expect(sim.events.filter((e) => e.startsWith(`${third}: flag`))).toEqual([
      `${third}: flag demote.VI_1=1`,
      `${third}: flag demote.VI_1=0`,
    ]);
  });

  it('returnTo when the VIP is already on the node: the demotion is lifted and it settles', async () => {
    const { sim, env, t } = setup();
    const log = await drive(returnTo(env, 'lb01', [t]));
    expect(log).toEqual([`${VIP} settled`]);
    expect(sim.host('lb01').flags['demote.VI_1']).toBe(0);
  });

  it('awaitReady gives up after the takeover time + 10 s, saying why', async () => {
    const { sim, env } = setup();
    sim.host('lb02').units.nginx.active = 'inactive';
    await expect(drive(awaitReady(env, 'lb02'))).rejects.toThrow('lb02 is not a ready backup again: nginx is inactive');
  });

  it('three nodes: the highest-priority ready node is chosen, and --to another one demotes the rest', async () => {
    const { sim, env } = setup(threeNodes);
    const t = targetsOf(env.cfg)[0];
    const r = await drive(switchover(env, t));
    expect(r.move).toMatchObject({ from: 'a', to: 'b' });
    const r2 = await drive(switchover(env, t, 'c'));
    expect(r2.move).toMatchObject({ from: 'b', to: 'c' });
    // a stays demoted (from the first switchover: not written again), c's demotion of then is lifted first; the
    // holder b is demoted in the hand-over's trigger, after its FAULT: before it, c would preempt outside the
    // planned move
    expect(r2.out.nodes.map((n) => [n.node, n.actions.map((x) => x.slice(0, 40))])).toEqual([
      ['b', ['move VI_1 (172.16.70.183) to c without a']],
      ['c', ['clear the demote.VI_1 flag (its own prio']],
    ]);
    expect(sim.host('a').flags['demote.VI_1']).toBe(1);
    const ev = sim.events;
    expect(ev.indexOf('b: flag demote.VI_1=1')).toBeGreaterThan(ev.indexOf('b: flag handover.VI_1=1'));
    expect(sim.holders()).toEqual({ [VIP]: ['c'] });
  });
});

describe('the handoff on a taker, and where it sends the flows it keeps', () => {
  const ifaces = [
    'link 2: host0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\\    link/ether 7e:48:11:67:35:a7 brd ff:ff',
    'addr 2: host0    inet 198.18.0.190/24 scope global host0\\       valid_lft forever',
    'addr 2: host0    inet 198.18.0.11/24 scope global secondary host0\\       valid_lft forever',
    // IPv6 has no secondary addresses, and lists the VIP the node holds first
    'addr 2: host0    inet6 fd00:198:18::190/64 scope global nodad\\       valid_lft forever',
    'addr 2: host0    inet6 fd00:198:18::11/64 scope global\\       valid_lft forever',
    'addr 2: host0    inet6 fe80::7c48:11ff:fe67:35a7/64 scope link\\       valid_lft forever',
  ].join('\n');

  it("the old holder's own address of each family, never a VIP (a handoff to the VIP came back)", async () => {
    // the host's answer to the one-round-trip read of the interfaces fact
    const read = (out: string) => (c: { text: string }) =>
      c.text === gatherScript(['interfaces']) ? { stdout: `@@interfaces\n${out}\n@@end\n` } : undefined;
    const conn = fakeConn(read(ifaces));
    const vips = ['198.18.0.190', 'fd00:198:18::190'];
    expect(await addressOn(conn, 'host0', 6, vips)).toBe('fd00:198:18::11');
    // a VIP that is the interface's primary IPv4 address (the only one of its subnet there) is skipped too
    expect(await addressOn(conn, 'host0', 4, vips)).toBe('198.18.0.11');
    // only VIPs there: an error, not a handoff to the VIP
    const only = fakeConn(read(ifaces.split('\n').slice(0, 2).join('\n')));
    const e = await addressOn(only, 'host0', 4, vips).then(unexpected, (x: Error) => x);
    expect(e.message).toBe('lb01: no IPv4 address on host0');
  });

  it('flows by their SYN since the handoff began; a VIP not yet local goes on; old nft: conntrack', async () => {
    const scripts: string[] = [];
    let sets = true;
    const conn = fakeConn((c) => {
      if (c.kind !== 'sh' || !c.text.startsWith('from=$1')) return undefined;
      scripts.push(c.text);
      return { code: c.text.includes('add set') && !sets ? 1 : 0 };
    });
    const group = { family: 6 as const, dev: 'host0', from: 'fd00:198:18::11', vips: ['fd00:198:18::190'] };
    expect(await handoffOn(conn, [group])).toBe(true);
    const rules = scripts[0].split('\n').filter((l) => l.startsWith('nft add rule'));
    expect(rules).toEqual([
      `nft add rule ip6 ha_setup_handoff_6_0 pre ip6 daddr "$set_" fib daddr type != local counter ` +
        'dup to "$from" device "$dev" drop || exit 1',
      `nft add rule ip6 ha_setup_handoff_6_0 pre ip6 daddr "$set_" 'tcp flags & (syn | ack) == syn counter add ` +
        "@mine { ip6 saddr . tcp sport . ip6 daddr . tcp dport }' || exit 1",
      `nft add rule ip6 ha_setup_handoff_6_0 pre ip6 daddr "$set_" 'meta l4proto tcp ip6 saddr . tcp sport . ` +
        `ip6 daddr . tcp dport != @mine counter' dup to "$from" device "$dev" drop || exit 1`,
    ]);
    expect(conn.calls.find((c) => c.text === scripts[0])?.args).toEqual([
      'fd00:198:18::11',
      'host0',
      'fd00:198:18::190',
    ]);
    // an nft or kernel without dynamic sets: the conntrack rules instead
    sets = false;
    scripts.length = 0;
    expect(await handoffOn(conn, [group])).toBe(true);
    expect(scripts).toHaveLength(2);
    expect(scripts[1]).toContain('ct state new ct mark set 0x48a5');
    expect(scripts[1]).not.toContain('add set');
  });
});
