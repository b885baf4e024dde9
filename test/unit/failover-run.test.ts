/**
 * verify-failover without a lab: the whole run (failover/verify.ts, run.ts, precheck.ts, restore.ts, watch.ts,
 * probe.ts) against the simulated pair (test/helpers/sim-pair.ts) under fake timers. Its connections replace the SSH
 * transport's; the VIP watcher and the probe (--probe-from a host) are the simulation's streamed loops, fed from
 * keepalived's election in the model. Each scenario on the master: the fault, the VIP moving and clients served
 * again, the restore, the VIPs given back as a planned move, the pair compared with its snapshot; the verdicts; the
 * refusals before anything is touched (an unhealthy pair, a latent fault, no ready backup); a pair that does not
 * come back (the run stops, with the commands to fix it by hand); Ctrl-C (restore, then what is left).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedNode } from '../../src/answers/resolve.js';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { targetsOf } from '../../src/answers/targets.js';
import { main } from '../../src/cli.js';
import type { Interrupt } from '../../src/io.js';
import { runVerify, type VerifyReport } from '../../src/failover/verify.js';
import { precheck } from '../../src/failover/precheck.js';
import { pairStatus } from '../../src/status/collect.js';
import { pair, activeActive, dualStack, weightDriven, type RawAnswers } from '../fixtures/answers.js';
import { drive } from '../helpers/clock.js';
import { fakeIO } from '../helpers/fake-io.js';
import { SimPair } from '../helpers/sim-pair.js';

const lab = vi.hoisted(() => ({ sim: null as unknown as SimPair, unreachable: new Set<string>() }));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/ssh/ssh.js')>();
  return {
    ...orig,
    connect: async (node: ResolvedNode) => {
      if (lab.unreachable.has(node.name)) throw new Error(`${node.name} (${node.host}:22): unreachable`);
      return lab.sim.connect(node);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'failover-run-'));
const ENV = { HA_SETUP_LOG_DIR: join(dir, 'logs') };
const VIP = '172.16.70.183';
const cfgOf = (a: RawAnswers = pair) => resolveAnswers(structuredClone(a), { env: {} });
const answersFile = (a: RawAnswers = pair) => {
  const p = join(dir, `answers-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, stringify(a));
  return p;
};

/** Ctrl-C as cli.ts delivers it: the handlers the command registered, called by the test */
function fakeInterrupt() {
  let h: Parameters<Interrupt['onInterrupt']>[0] = null;
  const registered: boolean[] = [];
  return {
    interrupt: { onInterrupt: (x) => void ((h = x), registered.push(!!x)) } as Interrupt,
    registered,
    first: () => h?.first('SIGINT'),
    second: () => h?.second('SIGINT') ?? [],
  };
}

async function verify(argv: string[], io = fakeIO({ env: ENV, cwd: dir })) {
  const code = await drive(main(['verify-failover', ...argv], io));
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

beforeAll(async () => {
  await import('../../src/commands/verify-failover.js');
});
beforeEach(() => {
  vi.useFakeTimers();
  lab.unreachable.clear();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('every scenario on a healthy pair', () => {
  it('each fault moves the VIP within its bound, is restored, the VIP comes back without a failed probe', async () => {
    lab.sim = new SimPair(cfgOf());
    const report = join(dir, 'timeline.html');
    const r = await verify([
      '--answers',
      answersFile(),
      '--probe-from',
      'client',
      '--probe-interval',
      '50',
      '--report',
      report,
      '--json',
    ]);
    expect(r.err).not.toMatch(/^ha-setup: /m);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as VerifyReport;
    expect(out.ok).toBe(true);
    expect(out.stopped).toBeNull();
    expect(out.scenarios.map((s) => [s.name, s.ok, s.masterBefore, s.masterAfter, s.restored, s.vipReturned])).toEqual([
      ['nginx', true, 'lb01', 'lb02', true, true],
      ['keepalived', true, 'lb01', 'lb02', true, true],
      ['crash', true, 'lb01', 'lb02', true, true],
      ['link', true, 'lb01', 'lb02', true, true],
      ['switchover', true, 'lb01', 'lb02', true, true],
    ]);
    for (const s of out.scenarios) {
      expect(s.gapMs!).toBeLessThanOrEqual(s.maxGapMs);
      expect(s.totalProbes).toBeGreaterThan(10);
      expect(s.return).toMatchObject({ failedProbes: 0 });
      expect(s.holderAfterRestore).toEqual(['lb01']);
    }
    // the planned switchover loses nothing; the faults do lose some probes while the VIP moves
    expect(out.scenarios.find((s) => s.name === 'switchover')!.failedProbes).toBe(0);
    expect(out.scenarios.find((s) => s.name === 'keepalived')!.failedProbes).toBeGreaterThan(0);
    // the faults, in order, on the master; each undone
    const faults = lab.sim
      .eventsOf('lb01')
      .filter((e) => /systemctl mask|stop keepalived|kill|link down|handover\.VI_1=1/.test(e));
    expect(faults).toEqual([
      'lb01: systemctl mask nginx',
      'lb01: systemctl stop keepalived',
      'lb01: systemctl kill keepalived',
      'lb01: link down',
      'lb01: flag handover.VI_1=1',
    ]);
    // the nginx fault: the master is demoted only once the health check has moved the VIP, right before nginx comes
    // back (demoted at once, its priority would move the VIP before the check saw anything: no measurement)
    const ev = lab.sim.events;
    const masked = ev.indexOf('lb01: systemctl mask nginx');
    const demoted = ev.findIndex((e, i) => i > masked && e === 'lb01: flag demote.VI_1=1');
    const unmasked = ev.findIndex((e, i) => i > masked && /^lb01: systemctl unmask nginx/.test(e));
    expect(demoted, ev.slice(masked, unmasked + 1).join('\n')).toBeGreaterThan(masked);
    expect(demoted).toBeLessThan(unmasked);
    expect(out.scenarios[0].gapMs!).toBeGreaterThan(0);
    expect(lab.sim.host('lb01')).toMatchObject({ link: true, flags: { 'demote.VI_1': 0, 'handover.VI_1': 0 } });
    expect(lab.sim.host('lb01').units.nginx).toEqual({ active: 'active', enabled: 'enabled' });
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
    // the probe ran on the probe host, the watcher on every node; all of them stopped
    expect(lab.sim.channels.filter((c) => c.command.includes('curl')).every((c) => c.node === 'client')).toBe(true);
    expect(lab.sim.channels.every((c) => c.ch.ended)).toBe(true);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(r.err).toContain(`report: ${report}`);
  });

  it('dual stack: each VIP probed on its own, both move together, each within the bound', async () => {
    // each node with its IPv6 address (where the hand-over of the VIPs' return sends the IPv6 flows it keeps)
    const a = {
      ...dualStack,
      nodes: dualStack.nodes.map((n, i) => ({ ...n, address6: `fd00:172:16::18${i + 1}` })),
    } as RawAnswers;
    lab.sim = new SimPair(cfgOf(a));
    const r = await verify([
      '--answers',
      answersFile(a),
      '--probe-from',
      'client',
      '--probe-interval',
      '50',
      '--scenario',
      'keepalived,crash',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as VerifyReport;
    for (const s of out.scenarios) {
      expect(s.vips).toEqual([VIP, 'fd00:172:16::183']);
      expect(s.perVip.map((v) => v.vip)).toEqual([VIP, 'fd00:172:16::183']);
      for (const v of s.perVip) {
        expect(v.totalProbes).toBeGreaterThan(10);
        expect(v.failedProbes).toBeGreaterThan(0);
        expect(v.gapMs!).toBeLessThanOrEqual(s.maxGapMs);
        expect(v.returnFailed).toBe(0);
      }
      expect(s.masterAfter).toBe('lb02');
    }
    // the probes asked both families' URLs on the probe host
    const curls = lab.sim.channels.filter((c) => c.command.includes('curl')).map((c) => c.command);
    expect(curls.some((c) => c.includes('http://[fd00:172:16::183]/'))).toBe(true);
    expect(curls.some((c) => c.includes(`http://${VIP}/`))).toBe(true);
    // the table: a row per VIP under the scenario's
    const t = await verify(['--answers', answersFile(a), '--probe-from', 'client', '--scenario', 'crash']);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(new RegExp(`^ +${VIP} +\\d\\.\\d\\d s +\\d+/\\d+ +0 *$`, 'm'));
    expect(t.out).toMatch(/^ +fd00:172:16::183 +\d\.\d\d s +\d+\/\d+ +0 *$/m);
  });

  it('master: auto (equal priorities): the VIP moves and stays where it went (no return expected)', async () => {
    lab.sim = new SimPair(cfgOf(weightDriven as RawAnswers));
    const r = await verify([
      '--answers',
      answersFile(weightDriven as RawAnswers),
      '--probe-from',
      'client',
      '--probe-interval',
      '50',
      '--scenario',
      'keepalived',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const [s] = (JSON.parse(r.out) as VerifyReport).scenarios;
    expect(s).toMatchObject({ ok: true, restored: true, return: null });
    expect(s.masterAfter).not.toBe(s.masterBefore);
    expect(s.holderAfterRestore).toEqual([s.masterAfter]);
  });

  it('the text report, one target of two (--instance), one scenario, a given --max-gap', async () => {
    lab.sim = new SimPair(cfgOf(activeActive));
    const r = await verify([
      '--answers',
      answersFile(activeActive),
      '--probe-from',
      'lb02',
      '--instance',
      'VI_2',
      '--scenario',
      'keepalived',
      '--max-gap',
      '5',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/VI_2/);
    expect(r.out).not.toMatch(/VI_1\s+keepalived/);
    // VI_2's master is lb02: the fault went there
    expect(lab.sim.eventsOf('lb02')).toContain('lb02: systemctl stop keepalived');
    expect(lab.sim.eventsOf('lb01')).not.toContain('lb01: systemctl stop keepalived');
  });
});

describe('refusals before anything is touched (exit 2)', () => {
  it('an unhealthy pair: keepalived down on the backup', async () => {
    lab.sim = new SimPair(cfgOf());
    lab.sim.host('lb02').units.keepalived.active = 'inactive';
    const r = await verify(['--answers', answersFile(), '--probe-from', 'client']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'ha-setup: preflight: the pair is not healthy, so a failover test would prove nothing (use --force to run ' +
        'anyway)\n  lb02: keepalived is inactive',
    );
    expect(lab.sim.events.filter((e) => !/locked/.test(e))).toEqual([]);
  });

  it('a latent fault: nginx would not start again on the backup (even with --force)', async () => {
    lab.sim = new SimPair(cfgOf());
    lab.sim.host('lb02').nginxTest = { code: 1, text: 'nginx: [emerg] unknown directive "sever" in /etc/nginx/x:1' };
    const r = await verify(['--answers', answersFile(), '--probe-from', 'client', '--force']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'ha-setup: preflight: a fault could not be undone on this pair; nothing was touched\n' +
        '  nginx on lb02 would not start again after a restart or reboot: nginx: [emerg] unknown directive "sever" ' +
        'in /etc/nginx/x:1',
    );
    expect(lab.sim.events.filter((e) => !/locked/.test(e))).toEqual([]);
  });

  it('the VIP on another node than keepalived should elect', async () => {
    lab.sim = new SimPair(cfgOf());
    // moved to lb02 (a switchover); then lb01 is preferred again but does not take it back
    lab.sim.host('lb01').flags['demote.VI_1'] = 1;
    lab.sim.touch();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb02'] });
    lab.sim.host('lb01').neverTakesOver = true;
    lab.sim.host('lb01').flags = {};
    const r = await verify(['--answers', answersFile(), '--probe-from', 'client']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`  VI_1 ${VIP} is on lb02, not on lb01`);
  });
});

describe('precheck', () => {
  it('a masked unit on the master, tools missing for the link scenario, 1.x checked by a real start', async () => {
    const cfg = cfgOf();
    const sim = new SimPair(cfg);
    sim.host('lb01').units.nginx.enabled = 'masked';
    sim.host('lb02').kaversion = '1.3.5';
    sim.on('command -v "$c"', { stdout: 'setsid\n' }, { node: 'lb02' });
    sim.on(/^bash -c/, { code: 1, stderr: "Unknown keyword 'track_file'\nmore\n" }, { node: 'lb02' });
    const snapshot = await drive(pairStatus(cfg, sim.conns));
    const t = targetsOf(cfg);
    const refusals = await drive(precheck(cfg, sim.conns, snapshot, t, ['nginx', 'keepalived', 'link']));
    expect(refusals).toEqual([
      'nginx on lb01 is masked: the test could not start it again after stopping it',
      'lb02 has no setsid: the test could not undo its fault there',
      "keepalived on lb02 would not start again on its configuration: Unknown keyword 'track_file'",
    ]);
    // the check of the 1.x configuration is the template's real start, on the configuration on disk
    const check = sim.conns.lb02.calls.find((c) => c.text.startsWith('bash -c'))!;
    expect(check.args.slice(-2)).toEqual(['validate', '/etc/keepalived/keepalived.conf']);
  });

  it('no node ready to take a target over', async () => {
    const cfg = cfgOf();
    const sim = new SimPair(cfg);
    sim.host('lb02').flags.maintenance = 1;
    const snapshot = await drive(pairStatus(cfg, sim.conns));
    expect(await drive(precheck(cfg, sim.conns, snapshot, targetsOf(cfg), ['switchover']))).toEqual([
      'no node is ready to take VI_1 over from lb01: lb02 is in maintenance',
    ]);
  });
});

describe('a pair that does not come back', () => {
  it('keepalived will not start again on the master: the run stops before the next fault, with the fix', async () => {
    lab.sim = new SimPair(cfgOf());
    let stopped = false;
    lab.sim.on('systemctl stop keepalived', () => ((stopped = true), undefined), { node: 'lb01' });
    // after the fault, keepalived cannot be started again on lb01
    lab.sim.on(
      (c) => stopped && /start keepalived|is-active --quiet keepalived/.test(c.text),
      { code: 1, stdout: 'failed\n', stderr: 'Job for keepalived.service failed\n' },
      { node: 'lb01' },
    );
    const r = await verify(['--answers', answersFile(), '--probe-from', 'client', '--scenario', 'keepalived,crash']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        '^ha-setup: verify-failover stopped: the pair did not come back as it was after VI_1 keepalived; ' +
          'the remaining scenarios were not run$',
        'm',
      ),
    );
    // the crash scenario never ran
    expect(lab.sim.events).not.toContain('lb01: systemctl kill keepalived');
    expect(r.out + r.err).toContain(
      "ssh root@172.16.70.181 'systemctl reset-failed keepalived && systemctl start keepalived'",
    );
  });

  it('the backup never takes the VIP over: the scenario fails, the pair is restored', async () => {
    lab.sim = new SimPair(cfgOf());
    lab.sim.host('lb02').neverTakesOver = true;
    const r = await verify([
      '--answers',
      answersFile(),
      '--probe-from',
      'client',
      '--scenario',
      'keepalived',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as VerifyReport;
    expect(out.scenarios[0]).toMatchObject({ name: 'keepalived', ok: false, masterAfter: null, restored: true });
    expect(out.scenarios[0].reasons.slice(0, 2)).toEqual([
      'the VIP left lb01 but no other node took it (is the backup in FAULT? check its nginx and keepalived)',
      'clients were not served again through another node before the restore',
    ]);
    expect(r.err).toMatch(/^ha-setup: 1 of 1 scenario\(s\) failed$/m);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });
});

describe('Ctrl-C', () => {
  it('the first one stops the test and restores what it stopped; a second one says what is left', async () => {
    lab.sim = new SimPair(cfgOf());
    const ctrlC = fakeInterrupt();
    const io = { ...fakeIO({ env: ENV, cwd: dir }), interrupt: ctrlC.interrupt };
    let second: string[] = [];
    lab.sim.on(
      'systemctl stop keepalived',
      () => {
        ctrlC.first();
        second = ctrlC.second();
        return undefined;
      },
      { node: 'lb01' },
    );
    const code = await drive(main(['verify-failover', '--answers', answersFile(), '--probe-from', 'client'], io));
    expect(code).toBe(130);
    expect(io.stderr).toContain(
      '\nSIGINT: stopping the test and restoring what it stopped (press Ctrl-C again to leave it as it is)',
    );
    expect(io.stderr.at(-1)).toBe('ha-setup: interrupted; everything the test stopped was restored');
    // what a second Ctrl-C would have printed at that moment: the pending restore and the commands by hand
    expect(second[0]).toBe('SIGINT again: NOT restoring. Left as it is:');
    expect(second).toContain('  keepalived on lb01: fix with on lb01: systemctl start keepalived');
    expect(second).toContain(
      "    ssh root@172.16.70.181 'systemctl unmask --runtime keepalived 2>/dev/null; systemctl start keepalived; " +
        "systemctl unmask --runtime nginx 2>/dev/null; systemctl start nginx; ip link set dev ens33 up'",
    );
    // registered for the run, removed after it
    expect(ctrlC.registered).toEqual([true, false]);
    // nothing else was injected; keepalived runs again and the VIP is back
    expect(lab.sim.events).not.toContain('lb01: systemctl kill keepalived');
    expect(lab.sim.host('lb01').units.keepalived.active).toBe('active');
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });
});

describe('stops and restores that cannot run', () => {
  it('the pair is not ready for the next target: the run stops before injecting anything there', async () => {
    const cfg = cfgOf(activeActive);
    lab.sim = new SimPair(cfg);
    const io = fakeIO({ env: ENV });
    const out = await drive(
      runVerify(io, cfg, {
        names: ['keepalived'],
        targets: targetsOf(cfg),
        probeFrom: 'client',
        probeIntervalMs: 50,
        force: false,
        lock: { command: 'ha-setup verify-failover', boundS: 1800 },
        // after the first scenario someone puts lb01 in maintenance
        onResult: () => void (lab.sim.host('lb01').flags.maintenance = 1),
      }),
    );
    expect(out.results.map((r) => [r.instance, r.ok])).toEqual([['VI_1', true]]);
    expect(out.stopped?.reason).toMatch(/^not injecting keepalived on VI_2: /);
    // VI_2's master (lb02) was never touched
    expect(lab.sim.eventsOf('lb02')).not.toContain('lb02: systemctl stop keepalived');
  });

  it('the master cannot be reached to undo its fault: said, with the command to run by hand', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    // the fault cuts lb01 off: its connection stops answering and no new one can be made
    lab.sim.on('systemctl mask --runtime --now nginx', () => {
      lab.unreachable.add('lb01');
      lab.sim.on((c) => c.text === 'true', { code: 255 }, { node: 'lb01' });
      return undefined;
    });
    const io = fakeIO({ env: ENV });
    const out = await drive(
      runVerify(io, cfg, {
        names: ['nginx'],
        targets: targetsOf(cfg),
        probeFrom: 'client',
        probeIntervalMs: 50,
        force: false,
        lock: { command: 'ha-setup verify-failover', boundS: 1800 },
      }),
    );
    expect(out.results[0]).toMatchObject({ name: 'nginx', restored: false });
    expect(out.results[0].restoreLog[0]).toBe('restore failed: lb01 (172.16.70.181:22): unreachable');
    expect(io.stderr).toContain(
      'could not restore nginx on lb01: lb01 (172.16.70.181:22): unreachable; fix by hand: on lb01: ' +
        'systemctl unmask --runtime nginx && systemctl start nginx',
    );
    // the scenario's line (no onResult given) says it failed
    expect(io.stderr).toContainEqual(expect.stringMatching(/^VI_1 nginx: FAIL \(gap \d\.\d\d s, \d+\/\d+ failed/));
  });
});

describe('runVerify directly', () => {
  it('reports each scenario through onResult as it ends', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const seen: string[] = [];
    const out = await drive(
      runVerify(fakeIO({ env: ENV }), cfg, {
        names: ['switchover'],
        targets: targetsOf(cfg),
        probeFrom: 'lb02',
        probeIntervalMs: 100,
        force: false,
        lock: { command: 'ha-setup verify-failover', boundS: 1800 },
        onResult: (r) => seen.push(`${r.instance} ${r.name} ${r.ok}`),
      }),
    );
    expect(seen).toEqual(['VI_1 switchover true']);
    expect(out).toMatchObject({ stopped: null, interrupted: false });
  });
});
