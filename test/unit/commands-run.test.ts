/**
 * The commands that reach hosts, run through main() (src/cli.ts) with a fake IO against a simulated pair: the SSH
 * transport's connect is replaced by the simulation's connections (test/helpers/sim-pair.ts), so the session, the
 * locks, the facts, the plan, the apply, the report and the exit codes are the real ones. init on fresh hosts and
 * again (nothing to do), its dry run, a failed node restored, refusals (a VIP already in use, a busy host, a node
 * that cannot be reached, a member that left the answers), VIPs that do not settle; rollback; status; switchover and
 * maintenance; metrics rules.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { resolveAnswers } from '../../src/answers/resolve.js';
import type { InitReport } from '../../src/apply/init.js';
import { main } from '../../src/cli.js';
import { OperationError } from '../../src/errors.js';
import type { IO } from '../../src/io.js';
import { PATHS } from '../../src/paths.js';
import { pair, weightDriven, type RawAnswers } from '../fixtures/answers.js';
import { drive } from '../helpers/clock.js';
import { fakeIO } from '../helpers/fake-io.js';
import { SimPair } from '../helpers/sim-pair.js';

const lab = vi.hoisted(() => ({
  sim: null as unknown as SimPair,
  unreachable: new Set<string>(),
  clients: [] as string[],
}));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) =>
  (await import('../helpers/sim-connect.js')).simTransport(await importOriginal<object>(), lab),
);

// what clients see during a switchover: the controller cannot reach the lab's VIPs, so the probe is the model's
vi.mock('../../src/observe/clients.js', () => {
  const watchClients = async (vip: string) => {
    lab.clients.push(vip);
    return {
      stop: async () => ({ reachable: true, failed: 0, total: 40, servedBy: lab.sim.holders()[vip] ?? [] }),
    };
  };
  return {
    watchClients,
    watchAllClients: async (vips: string[]) => {
      const ws = await Promise.all(vips.map(watchClients));
      return {
        stop: async () => {
          const vs = await Promise.all(ws.map((w) => w.stop()));
          return { ...vs[0], total: vs.reduce((n, v) => n + v.total, 0), servedBy: vs.flatMap((v) => v.servedBy) };
        },
      };
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'commands-run-'));
const answersFile = (a: RawAnswers = pair, name = 'ha-setup.yaml') => {
  const p = join(dir, name);
  writeFileSync(p, stringify(a));
  return p;
};
const ENV = { HA_SETUP_LOG_DIR: join(dir, 'logs') };
const cfgOf = (a: RawAnswers = pair) => resolveAnswers(structuredClone(a), { env: {} });
const VIP = '172.16.70.183';

async function run(argv: string[]) {
  const io = fakeIO({ env: ENV, cwd: dir });
  const code = await drive(main(argv, io));
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

// main() imports each command's module when it runs: loaded here with real timers (module loading is real I/O,
// which fake time does not move)
beforeAll(async () => {
  await Promise.all([
    import('../../src/commands/init.js'),
    import('../../src/commands/status.js'),
    import('../../src/commands/rollback.js'),
    import('../../src/commands/switchover.js'),
    import('../../src/commands/maintenance.js'),
    import('../../src/commands/metrics.js'),
    import('../../src/apply/init.js'),
  ]);
});

beforeEach(() => {
  vi.useFakeTimers();
  // a pinned clock: run ids are dated, and a date such as 20261206T211113Z holds the fixtures' password 1111, which
  // the output masks wherever it appears
  vi.setSystemTime(new Date('2026-03-04T05:06:07Z'));
  lab.unreachable.clear();
  lab.clients.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('init', () => {
  it('fresh hosts: all installed and started in parallel, the VIP settles on its master; again: nothing', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const file = answersFile();
    const r = await run(['init', '--answers', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as InitReport;
    expect(report.ok).toBe(true);
    expect(report.vips).toEqual({ [VIP]: ['lb01'] });
    expect(report.nodes.map((n) => [n.node, n.role, n.ok, n.holds])).toEqual([
      ['lb01', 'VI_1 MASTER', true, [VIP]],
      ['lb02', 'VI_1 BACKUP', true, []],
    ]);
    expect(report.nodes[0].actions).toContain('install keepalived with apt-get (2.2.7)');
    expect(report.nodes[0].restarted).toContain('start keepalived');
    expect(report.log).toBe(join(ENV.HA_SETUP_LOG_DIR, `${report.runId}.log`));
    for (const n of ['lb01', 'lb02']) {
      const h = lab.sim.host(n);
      expect(h.kaversion).toBe('2.2.7');
      expect(h.units.keepalived).toEqual({ active: 'active', enabled: 'enabled' });
      expect(h.files.get(PATHS.keepalivedConf)!.content).toMatch(/vrrp_instance VI_1 \{/);
      expect(h.files.get(PATHS.keepalivedConf)!.mode).toBe('600');
      // the run's manifest: how the services were, every change, the end
      const m = h.manifests.get(`${PATHS.backupRoot}/${report.runId}`)!.map((l) => JSON.parse(l));
      expect(m[0]).toMatchObject({ type: 'start', node: n, runId: report.runId });
      expect(m.at(-1)).toMatchObject({ type: 'end', ok: true });
    }
    // locked first, unlocked last, on both
    expect(lab.sim.events.slice(0, 2).sort()).toEqual(['lb01: locked', 'lb02: locked']);
    expect(lab.sim.events.slice(-2).sort()).toEqual(['lb01: unlocked', 'lb02: unlocked']);

    lab.sim.events.length = 0;
    const again = await run(['init', '--answers', file, '--yes', '--json']);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.out) as InitReport;
    expect(second.nodes.map((n) => n.changes)).toEqual([0, 0]);
    expect(lab.sim.events.sort()).toEqual(['lb01: locked', 'lb01: unlocked', 'lb02: locked', 'lb02: unlocked']);
  });

  it('the table report on a run without a terminal, and the log and backups named after it', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^node\s+host\s+role\s+changes\s+holds VIP\s+result$/m);
    expect(r.out).toMatch(/^lb01\s+172\.16\.70\.181\s+VI_1 MASTER\s+\d+\s+172\.16\.70\.183\s+ok$/m);
    expect(r.err).toMatch(/^log: .*\.log {3}backups on each node: \/var\/backups\/ha-setup\/\S+\/$/m);
  });

  it('--dry-run reads the hosts and prints the plan; nothing is locked or changed', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const r = await run(['init', '--answers', answersFile(), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('install keepalived with apt-get (2.2.7)');
    expect(lab.sim.events).toEqual([]);
    const j = await run(['init', '--answers', answersFile(), '--dry-run', '--json']);
    expect(JSON.parse(j.out).nodes.map((n: { name: string; changes: number }) => [n.name, n.changes > 10])).toEqual([
      ['lb01', true],
      ['lb02', true],
    ]);
  });

  it('a node whose keepalived.conf is rejected fails and is restored; the other one is done; exit 1', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    lab.sim.on(/^keepalived -t -f/, { code: 1, stderr: 'Unknown keyword "vrrp_instanc"\n' }, { node: 'lb02' });
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `lb02: lb02: keepalived rejected the new ${PATHS.keepalivedConf} (exit 1): Unknown keyword "vrrp_instanc"`,
    );
    expect(r.err).toMatch(/^ha-setup: 1 node\(s\) failed and were restored: lb02$/m);
    expect(r.out).toMatch(/^lb02\s.*FAILED \(restored\)$/m);
    // lb02: what the run wrote is gone again (they did not exist before), keepalived stays installed
    expect([...lab.sim.host('lb02').files.keys()].filter((p) => !p.includes('.ha-setup.tmp'))).toEqual([]);
    expect(r.err).toContain('  left installed: keepalived');
    expect(lab.sim.host('lb01').files.has(PATHS.keepalivedConf)).toBe(true);
  });

  it('refused before anything changes: a VIP already on an interface and not managed by keepalived', async () => {
    lab.sim = new SimPair(cfgOf());
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ha-setup: preconditions failed; nothing was changed$/m);
    expect(r.err).toContain(
      `  lb01 (172.16.70.181): VIP ${VIP} (VI_1) is already an address of ens33 and not managed by keepalived here`,
    );
    expect(lab.sim.events.filter((e) => !/locked/.test(e))).toEqual([]);
  });

  it('refused before anything changes: a keepalived a user other than root could have changed', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    // the bins fact as a host with a source-built, group-writable keepalived answers it (safe-binaries.test.ts)
    lab.sim.host('lb02').base.bins =
      'keepalived no keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775)\n' +
      'nginx ok /usr/sbin/nginx';
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ha-setup: preconditions failed; nothing was changed$/m);
    expect(r.err).toContain(
      '  lb02 (172.16.70.182): keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775); ' +
        'ha-setup runs keepalived and nginx as root only from a file nobody but root can change',
    );
    expect(lab.sim.events.filter((e) => !/locked/.test(e))).toEqual([]);
  });

  it('refused: a node that cannot be reached, or that another run holds', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    lab.unreachable.add('lb02');
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'ha-setup: cannot reach or become root on every node; nothing was changed\n' +
        '  lb02 (172.16.70.182:22): unreachable: no SSH answer within 10 s',
    );
    lab.unreachable.clear();
    lab.sim.host('lb01').lockBusy = true;
    const busy = await run(['init', '--answers', answersFile(), '--yes']);
    expect(busy.code).toBe(2);
    expect(busy.err).toContain('ha-setup: a node is busy; nothing was changed');
    expect(busy.err).toContain(
      'lb01: another ha-setup run holds the lock on this host: `ha-setup switchover --to lb02` by alice on ops-desk',
    );
    // the lock taken on lb02 was given back
    expect(lab.sim.events).toEqual(['lb02: locked', 'lb02: unlocked']);
  });

  it('VIPs that do not settle where keepalived should elect them: exit 1 naming the problem', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    lab.sim.host('lb01').neverTakesOver = true;
    lab.sim.host('lb02').neverTakesOver = true;
    const r = await run(['init', '--answers', answersFile(), '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).problems).toEqual([`LOST VIP: VI_1 ${VIP} is on no node`]);
    expect(r.err).toContain('ha-setup: the VIPs did not settle where keepalived should elect them');
  });

  it('a member that left the answers is connected, locked and deconfigured; unreachable, it refuses', async () => {
    const three = structuredClone(pair) as RawAnswers;
    three.nodes.push({ name: 'lb03', host: '172.16.70.185', interface: 'ens33', priority: 90 });
    lab.sim = new SimPair(cfgOf(three), { fresh: true });
    expect((await run(['init', '--answers', answersFile(three, 'three.yaml'), '--yes'])).code).toBe(0);
    // lb03 leaves the answers
    lab.sim.events.length = 0;
    lab.unreachable.add('lb03');
    const refused = await run(['init', '--answers', answersFile(), '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'ha-setup: a node that left the answers must be deconfigured first; nothing was changed',
    );
    expect(refused.err).toContain('  lb03 (172.16.70.185) left the answers but cannot be reached to take it out');
    lab.unreachable.clear();
    const r = await run(['init', '--answers', answersFile(), '--yes', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as InitReport;
    const lb03 = report.nodes.find((n) => n.node === 'lb03')!;
    expect(lb03).toMatchObject({ leaving: true, ok: true, ran: true });
    expect(lab.sim.host('lb03').units.keepalived.active).toBe('inactive');
    expect(lab.sim.events).toContain('lb03: locked');
  });
});

describe('rollback', () => {
  it('restores the last run on every node after confirmation (--yes), and says what it did', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const file = answersFile();
    const init = JSON.parse((await run(['init', '--answers', file, '--yes', '--json'])).out) as InitReport;
    lab.sim.events.length = 0;
    const r = await run(['rollback', '--answers', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.runs).toEqual({ lb01: init.runId, lb02: init.runId });
    expect(out.restored.lb01).toContain(`removed ${PATHS.keepalivedConf} (did not exist before)`);
    expect(out.failures).toEqual([]);
    expect(r.err).toContain(`lb01: restore run ${init.runId}`);
    expect(lab.sim.host('lb01').files.has(PATHS.keepalivedConf)).toBe(false);
    // keepalived did not run before the run: stopped again
    expect(lab.sim.host('lb01').units.keepalived.active).toBe('inactive');
    // nothing left to roll back now
    const again = await run(['rollback', '--answers', file, '--yes']);
    expect(again.code).toBe(0);
    expect(again.err).toBe('lb01: no ha-setup run to restore\nlb02: no ha-setup run to restore');
  });

  it('one node, a given run; refusals: a bad run id, an unknown node, no terminal to confirm', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const file = answersFile();
    const init = JSON.parse((await run(['init', '--answers', file, '--yes', '--json'])).out) as InitReport;
    expect((await run(['rollback', '--answers', file, '--run', 'yesterday'])).err).toBe(
      'ha-setup: --run: "yesterday" is not a run id (like 20261122T021500Z-ab12)',
    );
    expect((await run(['rollback', '--answers', file, '--node', 'lb09'])).code).toBe(2);
    const noTty = await run(['rollback', '--answers', file, '--node', 'lb02']);
    expect(noTty.code).toBe(2);
    expect(noTty.err).toContain('rollback changes the hosts: confirm with --yes when there is no terminal');
    const r = await run(['rollback', '--answers', file, '--node', 'lb02', '--run', init.runId, '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^lb02:\n {2}/);
    expect(lab.sim.host('lb02').files.has(PATHS.keepalivedConf)).toBe(false);
    expect(lab.sim.host('lb01').files.has(PATHS.keepalivedConf)).toBe(true);
  });

  it('a restore that fails on a node: the others are restored, exit 1 naming it', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const file = answersFile();
    const opts = '/etc/default/keepalived';
    lab.sim.host('lb01').files.set(opts, { content: 'DAEMON_ARGS=""\n', mode: '644' });
    await run(['init', '--answers', file, '--yes']);
    expect(lab.sim.host('lb01').files.get(opts)!.content).not.toBe('DAEMON_ARGS=""\n');
    lab.sim.on('t=$(mktemp "$(dirname "$2")/.ha-setup.tmp.XXXXXX")', { code: 1, stderr: 'read-only file system\n' });
    const r = await run(['rollback', '--answers', file, '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').slice(-2)).toEqual([
      'ha-setup: rollback failed on some nodes',
      `  lb01: lb01: restoring ${opts} failed (exit 1)`,
    ]);
    expect(Object.keys(JSON.parse(r.out).restored)).toEqual(['lb02']);
    expect(lab.sim.host('lb02').files.has(PATHS.keepalivedConf)).toBe(false);
  });
});

describe('status', () => {
  it('a healthy pair: exit 0, one row per node; JSON with the VIPs', async () => {
    lab.sim = new SimPair(cfgOf());
    const r = await run(['status', '--answers', answersFile(), '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.ok).toBe(true);
    expect(s.vips).toEqual([expect.objectContaining({ vip: VIP, holders: ['lb01'], problem: null })]);
    expect(s.nodes.map((n: { node: string; instances: unknown }) => [n.node, n.instances])).toEqual([
      ['lb01', [{ name: 'VI_1', state: 'MASTER', effectivePriority: 110 }]],
      ['lb02', [{ name: 'VI_1', state: 'BACKUP', effectivePriority: 100 }]],
    ]);
    expect(lab.sim.events).toEqual([]);
  });

  it('a lost VIP, a latent fault and a stranger on the segment: exit 1 listing them', async () => {
    lab.sim = new SimPair(cfgOf());
    lab.sim.host('lb01').units.nginx.active = 'failed';
    lab.sim.host('lb02').units.keepalived.active = 'inactive';
    lab.sim.host('lb02').nginxTest = { code: 1, text: 'nginx: [emerg] unexpected "}" in /etc/nginx/nginx.conf:9' };
    lab.sim.on(/@@vrrp/, () => ({
      stdout: `@@vrrp\n198.18.0.99 51 150 2\n@@vipneighbors\n${VIP} 66:66:66:66:66:66\n@@end\n`,
    }));
    const r = await run(['status', '--answers', answersFile(), '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ha-setup: pair unhealthy: 7 problem(s)');
    expect(r.err.split('\n').slice(1)).toEqual([
      '  lb01: nginx is failed',
      // its check puts the instance in FAULT
      '  lb01: VI_1 is in FAULT state',
      '  lb02: keepalived is inactive',
      `  LOST VIP: VI_1 ${VIP} is on no node`,
      '  NOT A MEMBER: 198.18.0.99 advertises VRID 51 (VI_1, priority 150) on ens33',
      `  NOT A MEMBER: VIP ${VIP} answers ARP from 66:66:66:66:66:66`,
      '  nginx on lb02 would not start again after a restart or reboot: nginx: [emerg] unexpected "}" in ' +
        '/etc/nginx/nginx.conf:9',
    ]);
  });
});

describe('status as a table', () => {
  it('master auto: the VIP on any node of the highest priority is where keepalived keeps it', async () => {
    lab.sim = new SimPair(cfgOf(weightDriven));
    // lb02 took it over while lb01 and lb03 were down; back, neither preempts an equal priority
    for (const n of ['lb01', 'lb03']) lab.sim.host(n).units.keepalived.active = 'inactive';
    expect(lab.sim.holders()[VIP]).toEqual(['lb02']);
    for (const n of ['lb01', 'lb03']) lab.sim.host(n).units.keepalived.active = 'active';
    const r = await run(['status', '--answers', answersFile(weightDriven, 'auto.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`k8s-api ${VIP}: lb02  (expected: any one node of the highest priority (master: auto))`);
  });

  it('per node: reachable, services, VRRP state, VIPs held, maintenance or demotion; who holds each VIP', async () => {
    const upstream = { ...structuredClone(pair), nginx: { upstream: { backends: ['10.0.0.21:80', '10.0.0.22:80'] } } };
    lab.sim = new SimPair(cfgOf(upstream));
    await run(['switchover', '--answers', answersFile(upstream, 'upstream.yaml')]);
    for (const n of ['lb01', 'lb02']) lab.sim.host(n).backends['10.0.0.22:80'] = 0;
    lab.sim.host('lb01').transitions = ['VRRP_Instance(VI_1) Entering BACKUP STATE'];
    const r = await run(['status', '--answers', answersFile(upstream, 'upstream.yaml')]);
    expect(r.code).toBe(0);
    // the table's columns, split on the runs of spaces between them
    const rows = r.out.split('\n').map((l) => l.split(/ {2,}/));
    expect(rows[0]).toEqual([
      'node',
      'host',
      'reachable',
      'keepalived',
      'nginx',
      'vrrp state (effective prio)',
      'holds VIP',
      'mode',
      'backends answering',
    ]);
    expect(rows[2]).toEqual([
      'lb01',
      '172.16.70.181',
      'yes',
      'active',
      'active',
      // 110 less the demotion (the priorities' spread + 1)
      'VI_1=BACKUP(99)',
      '-',
      'demoted (VI_1)',
      '1/2 (10.0.0.22:80 down)',
    ]);
    expect(rows[3].slice(0, 8)).toEqual([
      'lb02',
      '172.16.70.182',
      'yes',
      'active',
      'active',
      'VI_1=MASTER(100)',
      VIP,
      '-',
    ]);
    expect(r.out).toContain(`VI_1 ${VIP}: lb02  (expected: lb02 (the master lb01 is demoted or in maintenance))`);
    expect(r.out).toContain('lb01 recent transitions:\n  VRRP_Instance(VI_1) Entering BACKUP STATE');
  });
});

describe('switchover and maintenance', () => {
  it('switchover moves the VIP without a gap; the table says from, to and what clients saw', async () => {
    lab.sim = new SimPair(cfgOf());
    const r = await run(['switchover', '--answers', answersFile()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VI_1\s+172\.16\.70\.183\s+lb01\s+lb02\s+done\s+0\/40$/m);
    expect(r.err).toContain(`  ${VIP} now on lb02`);
    expect(r.err).toMatch(/^note: VI_1 preempts: /m);
    expect(lab.clients).toEqual([VIP]);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb02'] });
    expect(lab.sim.eventsOf('lb01').at(-1)).toBe('lb01: unlocked');
  });

  it('switchover refusals: --instance with --all, an unknown --to, no ready node (exit 2, nothing moved)', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    expect((await run(['switchover', '--answers', file, '--instance', 'VI_1', '--all'])).err).toBe(
      'ha-setup: --instance and --all: give one of them',
    );
    expect((await run(['switchover', '--answers', file, '--to', 'lb07'])).code).toBe(2);
    lab.sim.host('lb02').units.nginx.active = 'inactive';
    const r = await run(['switchover', '--answers', file, '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'ha-setup: switchover: no other ready node to take VI_1 over from lb01\n  lb02: nginx is inactive',
    );
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('maintenance on drains the node, off brings the VIP back (JSON); a bad state or node is refused', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    const on = await run(['maintenance', 'lb01', 'on', '--answers', file, '--json']);
    expect(on.code).toBe(0);
    expect(JSON.parse(on.out)).toMatchObject({
      ok: true,
      operation: 'maintenance on',
      moves: [{ from: 'lb01', to: 'lb02' }],
    });
    expect(on.err).toContain('lb01 is in maintenance: it holds no VIP and takes none');
    expect(lab.sim.host('lb01').flags.maintenance).toBe(1);
    const off = await run(['maintenance', 'lb01', 'off', '--answers', file]);
    expect(off.code).toBe(0);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
    expect((await run(['maintenance', 'lb01', 'sideways', '--answers', file])).err).toBe(
      'ha-setup: maintenance: the state must be on or off (got "sideways")',
    );
    expect((await run(['maintenance', 'lb09', 'on', '--answers', file])).err).toBe(
      'ha-setup: maintenance: unknown node "lb09" (nodes: lb01, lb02)',
    );
    lab.sim.host('lb02').units.keepalived.active = 'inactive';
    const refused = await run(['maintenance', 'lb01', 'on', '--answers', file]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^ha-setup: maintenance: no other node is ready to take VI_1 over from lb01/);
  });
});

type Handlers = Parameters<NonNullable<IO['interrupt']>['onInterrupt']>[0];

/** main() with an IO whose Ctrl-C the test presses: `press()` calls the handlers a command registered */
function interruptible() {
  let handlers: Handlers = null;
  const io = { ...fakeIO({ env: ENV, cwd: dir }), interrupt: { onInterrupt: (h: Handlers) => (handlers = h) } };
  return {
    io,
    press: () => handlers?.first('SIGINT'),
    pressAgain: () => handlers?.second('SIGINT') ?? [],
    run: async (argv: string[]) => {
      const code = await drive(main(argv, io));
      return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
    },
  };
}

/** the runner's write of state flag `name` = `value` on `node` (runner.ts flag) */
const flagWrite = (name: string, value: string) => (c: { text: string; args: readonly string[] }) =>
  c.text.includes('"type":"flag"') && c.args[1] === name && c.args[2] === value;

describe('--dry-run: the plan of switchover, maintenance and rollback, and the run executing it', () => {
  it('switchover --dry-run changes nothing and takes no lock; the real run executes exactly that list', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    const dry = await run(['switchover', '--answers', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(lab.sim.events).toEqual([]);
    expect(lab.sim.channels.filter((c) => c.command.includes('ha-setup-lock'))).toEqual([]);
    expect(dry.out).toMatch(/^VI_1\s+172\.16\.70\.183\s+lb01\s+lb02$/m);
    expect(dry.out).toContain('== lb01 (172.16.70.181) VI_1 MASTER: 0 change(s), holds 172.16.70.183, rolling 1');
    expect(dry.out).toContain(`    - move VI_1 (${VIP}) to lb02 without a gap: the handover flag here`);
    expect(dry.err).toMatch(/^note: VI_1 preempts: /m);
    expect(dry.err).toContain('switchover --dry-run: nothing was changed');
    const plan = JSON.parse((await run(['switchover', '--answers', file, '--dry-run', '--json'])).out);
    expect(plan).toMatchObject({ dryRun: true, operation: 'switchover', moves: [{ from: 'lb01', to: 'lb02' }] });
    expect(lab.sim.events).toEqual([]);
    const r = await run(['switchover', '--answers', file, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const executed = report.nodes.map((n: { node: string; actions: string[] }) => [n.node, n.actions]);
    expect(executed).toEqual(plan.nodes.map((n: { name: string; actions: string[] }) => [n.name, n.actions]));
    expect(report.moves).toMatchObject([{ target: 'VI_1', result: 'done', holders: ['lb02'] }]);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb02'] });
  });

  it('maintenance NODE on|off --dry-run change nothing; the runs execute those lists', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    for (const state of ['on', 'off']) {
      const dry = await run(['maintenance', 'lb01', state, '--answers', file, '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      expect(lab.sim.events).toEqual([]);
      const plan = JSON.parse(dry.out);
      const r = await run(['maintenance', 'lb01', state, '--answers', file, '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.nodes.map((n: { actions: string[] }) => n.actions)).toEqual(
        plan.nodes.map((n: { actions: string[] }) => n.actions),
      );
      lab.sim.events.length = 0;
    }
    expect(lab.sim.host('lb01').flags.maintenance).toBe(0);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
    const text = await run(['maintenance', 'lb01', 'on', '--answers', file, '--dry-run']);
    expect(text.out).toContain(
      `    - set the maintenance flag (FAULT for every instance until maintenance off): VI_1 (${VIP}) handed over ` +
        'to lb02 without a gap',
    );
  });

  it('rollback --dry-run lists what each node would restore; the rollback runs that list', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const file = answersFile();
    const init = JSON.parse((await run(['init', '--answers', file, '--yes', '--json'])).out) as InitReport;
    lab.sim.events.length = 0;
    const dry = await run(['rollback', '--answers', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.err).toContain(`lb01: restore run ${init.runId}`);
    expect(dry.out).toContain(`    - remove ${PATHS.keepalivedConf} (it did not exist before the run)`);
    expect(dry.out).toContain('    - systemctl stop keepalived (it was not running before)');
    expect(lab.sim.events).toEqual([]);
    const plan = JSON.parse((await run(['rollback', '--answers', file, '--dry-run', '--json'])).out);
    expect(plan.runs).toEqual({ lb01: init.runId, lb02: init.runId });
    const r = JSON.parse((await run(['rollback', '--answers', file, '--yes', '--json'])).out);
    expect(r.actions).toEqual(
      Object.fromEntries(plan.nodes.map((n: { name: string; actions: string[] }) => [n.name, n.actions])),
    );
    expect(lab.sim.host('lb01').files.has(PATHS.keepalivedConf)).toBe(false);
  });
});

describe('interrupted halfway: Ctrl-C and a dropped connection in the changing commands', () => {
  it('Ctrl-C after the hand-over flag in switchover: it is cleared, the node not left in FAULT; exit 130', async () => {
    lab.sim = new SimPair(cfgOf());
    const x = interruptible();
    lab.sim.on(flagWrite('handover.VI_1', '1'), () => (x.press(), undefined), { node: 'lb01' });
    const r = await x.run(['switchover', '--answers', answersFile()]);
    expect(r.code).toBe(130);
    expect(r.err).toContain('SIGINT: stopping, and undoing the move in progress');
    expect(r.err).toMatch(/^ha-setup: switchover: interrupted; the move in progress was undone/m);
    expect(r.out).toMatch(/^VI_1\s+172\.16\.70\.183\s+lb01\s+lb02\s+undone\s/m);
    // no flag left on: neither the hand-over's FAULT nor the demotion of its trigger
    expect(lab.sim.host('lb01').flags).toEqual({ 'handover.VI_1': 0, 'demote.VI_1': 0 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
    const state = await run(['status', '--answers', answersFile(), '--json']);
    expect(JSON.parse(state.out).nodes[0].instances).toEqual([
      { name: 'VI_1', state: 'MASTER', effectivePriority: 110 },
    ]);
  });

  it('Ctrl-C in maintenance on as the node drains: its flag cleared; a second one says what is left', async () => {
    lab.sim = new SimPair(cfgOf());
    const x = interruptible();
    let left: string[] = [];
    lab.sim.on(
      flagWrite('maintenance', '1'),
      () => {
        x.press();
        left = x.pressAgain();
        return undefined;
      },
      { node: 'lb01' },
    );
    const r = await x.run(['maintenance', 'lb01', 'on', '--answers', answersFile()]);
    expect(r.code).toBe(130);
    expect(lab.sim.host('lb01').flags.maintenance).toBe(0);
    expect(r.err).not.toContain('lb01 is in maintenance');
    expect(left[1]).toMatch(/^ {2}lb01: ha-setup rollback --run \S+ --node lb01 --yes/);
  });

  /** `node`'s connection dies: every command on it fails from now on, and its lock channel closes */
  function kill(node: string): void {
    const old = lab.sim.conns[node];
    const dead = () => Promise.reject(new OperationError(`${node}: SSH connection closed`));
    old.close();
    Object.assign(old, { run: dead, exec: dead, sh: dead, spawn: dead });
    for (const c of lab.sim.channels.filter((x) => x.node === node && x.command.includes('ha-setup-lock')))
      c.ch.close();
  }

  /** a rule's reply: the first time, `node`'s connection dies under the command (a throwing reply uses no `times`) */
  function dropOnce(node: string) {
    let dropped = false;
    return () => {
      if (dropped) return undefined;
      dropped = true;
      kill(node);
      throw new OperationError(`${node}: SSH connection closed`);
    };
  }

  it('a connection dropped in the middle of a switchover: connected again, the hand-over flag put back', async () => {
    lab.sim = new SimPair(cfgOf());
    lab.sim.on(flagWrite('demote.VI_1', '1'), dropOnce('lb01'), { node: 'lb01' });
    const r = await run(['switchover', '--answers', answersFile(), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.moves).toMatchObject([{ target: 'VI_1', result: 'undone' }]);
    expect(report.nodes[0]).toMatchObject({ node: 'lb01', ok: false, restored: ['flag handover.VI_1 back to 0'] });
    expect(r.err).toMatch(/^ha-setup: switchover failed; what it had begun was undone$/m);
    // put back through a new connection, the node not left in FAULT; the VIP back on its master
    expect(lab.sim.host('lb01').flags).toEqual({ 'handover.VI_1': 0 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb01'] });
  });

  it('a connection dropped as maintenance off gives the VIPs back: the node is in maintenance again', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    expect((await run(['maintenance', 'lb01', 'on', '--answers', file])).code).toBe(0);
    lab.sim.on(flagWrite('demote.VI_1', '0'), dropOnce('lb01'), { node: 'lb01' });
    const r = await run(['maintenance', 'lb01', 'off', '--answers', file, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).nodes[0].restored).toEqual(['flag maintenance back to 1', 'flag demote.VI_1 back to 0']);
    // as before the command: in maintenance, not demoted, the VIP on lb02
    expect(lab.sim.host('lb01').flags).toEqual({ maintenance: 1, 'demote.VI_1': 0 });
    expect(lab.sim.holders()).toEqual({ [VIP]: ['lb02'] });
  });

  /** lb02's connection drops while its keepalived (re)starts in init; `then` runs first */
  const dropAtRestart = (then: () => void = () => undefined) => {
    const drop = dropOnce('lb02');
    lab.sim.on(
      (c) => c.text === 'systemctl start keepalived' || c.text === 'systemctl restart keepalived',
      () => (then(), drop()),
      { node: 'lb02' },
    );
  };

  it('a connection dropped mid-init: connected again (the lock taken over), then the node restored', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    dropAtRestart();
    const r = await run(['init', '--answers', answersFile(), '--yes', '--json']);
    expect(r.code).toBe(1);
    const lb02 = (JSON.parse(r.out) as InitReport).nodes.find((n) => n.node === 'lb02')!;
    expect(lb02).toMatchObject({ ok: false, error: 'lb02: SSH connection closed' });
    expect(lb02.notRestored).toBeUndefined();
    expect(lb02.restored).toContain(`removed ${PATHS.keepalivedConf} (did not exist before)`);
    expect(r.err).toMatch(/^ha-setup: 1 node\(s\) failed and were restored: lb02$/m);
    expect(lab.sim.host('lb02').files.has(PATHS.keepalivedConf)).toBe(false);
    // the new connection took the run's lock over before the restore
    expect(lab.sim.eventsOf('lb02').filter((e) => /locked/.test(e))).toEqual([
      'lb02: locked',
      'lb02: unlocked',
      'lb02: locked',
      'lb02: unlocked',
    ]);
  });

  it('a connection that cannot be made again: said NOT restored, with the way to do it by hand; exit 1', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    dropAtRestart(() => lab.unreachable.add('lb02'));
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^lb02\s.*FAILED \(NOT restored\)$/m);
    expect(r.err).not.toMatch(/failed and were restored/);
    expect(r.err).toMatch(/^ha-setup: 1 node\(s\) failed: 1 NOT restored$/m);
    const runId = /backups on each node: \/var\/backups\/ha-setup\/(\S+)\//.exec(r.err)![1];
    expect(r.err.split('\n')).toContain(
      '  lb02: NOT put back (no connection to put it back: lb02 (172.16.70.182:22): unreachable: no SSH answer ' +
        `within 10 s); by hand: ha-setup rollback --run ${runId} --node lb02`,
    );
    // what it wrote there is still there: nothing claims otherwise
    expect(lab.sim.host('lb02').files.has(PATHS.keepalivedConf)).toBe(true);
  });
});

describe('metrics rules', () => {
  it('to stdout, with the answers VIPs and a job; to a file; a bad job or subcommand refused', async () => {
    lab.sim = new SimPair(cfgOf());
    const file = answersFile();
    const r = await run(['metrics', 'rules', '--answers', file, '--job', 'lb-exporter']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(VIP);
    expect(r.out).toContain('lb-exporter');
    const out = join(dir, 'rules.yml');
    const w = await run(['metrics', 'rules', '--out', out]);
    expect(w.err).toBe(`wrote ${out}`);
    expect(readFileSync(out, 'utf8')).toMatch(/^groups:/m);
    expect((await run(['metrics', 'rules', '--job', 'a b'])).err).toBe(
      'ha-setup: --job: must be a Prometheus job name of A-Z a-z 0-9 _ : . - (got "a b")',
    );
    expect((await run(['metrics', 'alerts'])).err).toBe(
      'ha-setup: metrics: unknown subcommand "alerts" (allowed: rules)',
    );
  });
});
