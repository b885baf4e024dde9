/**
 * The whole-pair snapshot verify-failover restores to, who answered a probe, and how a session becomes root:
 * pure logic from data fixtures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { identify, identities } from '../../src/observe/identify.js';
import { describeDrift, manualFix, pairDrift, unitFix } from '../../src/failover/pair.js';
import { faultUndoProblems } from '../../src/failover/precheck.js';
import { targetsOf } from '../../src/failover/run.js';
import { PreconditionError } from '../../src/errors.js';
import { parseGathered } from '../../src/facts/gather.js';
import { becomeRoot } from '../../src/ssh/session.js';
import { judgePair, nodeStatusOf, STATUS_FACTS, type NodeStatus, type PairStatus } from '../../src/status/collect.js';
import { activeActive, guides000, pair, syncGroup, threeNodes } from '../fixtures/answers.js';
import { fakeConn, fakeNode, gathered } from '../helpers/fake-conn.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });

function node(name: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    node: name,
    host: name,
    reachable: true,
    keepalived: 'active',
    nginx: 'active',
    keepalivedPid: 10,
    units: { keepalived: { active: 'active', enabled: 'enabled' }, nginx: { active: 'active', enabled: 'enabled' } },
    links: { lo: true, ens33: true },
    hostname: name,
    keepalivedVersion: '2.2.7',
    addresses: [],
    instances: [{ name: 'VI_1', state: 'BACKUP', effectivePriority: 100 }],
    stateUnreadable: null,
    transitions: [],
    backends: [],
    maintenance: false,
    demoted: [],
    flags: {},
    nginxTest: null,
    keepalivedTest: null,
    unsafeBinaries: [],
    ...over,
  };
}

function status(nodes: NodeStatus[], holders: Record<string, string[]>, preempt = true): PairStatus {
  return {
    nodes,
    vips: Object.entries(holders).map(([vip, h]) => ({
      instance: 'VI_1',
      vip,
      holders: h,
      expected: preempt ? 'lb01' : null,
      master: 'lb01',
      preempt,
      problem: h.length > 1 ? 'split-brain' : h.length === 0 ? 'lost' : null,
    })),
    latent: [],
    problems: [],
    ok: true,
  };
}

describe('unit fixes: back to the snapshot whatever changed it', () => {
  const on = { active: 'active', enabled: 'enabled' };
  it('stopped by a check script: reset-failed + start', () => {
    expect(unitFix('keepalived', on, { active: 'inactive', enabled: 'enabled' })).toEqual([
      ['systemctl', 'reset-failed', 'keepalived'],
      ['systemctl', 'start', 'keepalived'],
    ]);
  });
  it('runtime-masked and stopped by the nginx scenario: unmask --runtime first, then start', () => {
    expect(unitFix('nginx', on, { active: 'inactive', enabled: 'masked-runtime' })).toEqual([
      ['systemctl', 'unmask', '--runtime', 'nginx'],
      ['systemctl', 'reset-failed', 'nginx'],
      ['systemctl', 'start', 'nginx'],
    ]);
  });
  it('disabled or started behind our back: back as it was; the same state needs nothing', () => {
    expect(unitFix('nginx', on, { active: 'active', enabled: 'disabled' })).toEqual([['systemctl', 'enable', 'nginx']]);
    expect(unitFix('nginx', { active: 'inactive', enabled: 'disabled' }, on)).toEqual([
      ['systemctl', 'disable', 'nginx'],
      ['systemctl', 'stop', 'nginx'],
    ]);
    expect(unitFix('nginx', on, on)).toEqual([]);
    // a unit that cannot start loops through activating (auto-restart): not running
    expect(unitFix('keepalived', on, { active: 'activating', enabled: 'enabled' })).toEqual([
      ['systemctl', 'reset-failed', 'keepalived'],
      ['systemctl', 'start', 'keepalived'],
    ]);
  });
});

describe('pair drift', () => {
  const cfg = cfgOf(pair);
  const before = status([node('lb01'), node('lb02')], { '172.16.70.183': ['lb01'] });

  it('the same pair: nothing to do', () => {
    expect(pairDrift(before, before, cfg)).toEqual([]);
  });

  it("the guides' check script stopped keepalived on the old master; its link is still down", () => {
    const now = status(
      [
        node('lb01', {
          keepalived: 'inactive',
          units: { ...node('lb01').units, keepalived: { active: 'inactive', enabled: 'enabled' } },
          links: { lo: true, ens33: false },
        }),
        node('lb02'),
      ],
      { '172.16.70.183': ['lb02'] },
    );
    const d = pairDrift(before, now, cfg);
    expect(d.map(describeDrift)).toEqual([
      'lb01: link ens33 was up, now down',
      'lb01: keepalived was active, enabled, now inactive, enabled',
      'VI_1 172.16.70.183: held by lb02 (was lb01)',
    ]);
    expect(d[0].fix).toEqual([['ip', 'link', 'set', 'dev', 'ens33', 'up']]);
    const n = cfg.nodes[0];
    expect(manualFix(d[1], n)).toBe(
      "ssh root@172.16.70.181 'systemctl reset-failed keepalived && systemctl start keepalived'",
    );
    // a login that is not root goes through sudo
    const viaSudo = manualFix(d[1], { ...n, user: 'ops', port: 2222 })!;
    expect(viaSudo).toMatch(/^ssh -t -p 2222 ops@172\.16\.70\.181 'sudo sh -c /);
    // pasted into a local shell, ssh sends the remote shell exactly: sudo sh -c '<both commands>'
    const args = spawnSync('sh', ['-c', `set -- ${viaSudo.slice('ssh '.length)}; shift 4; printf '%s' "$*"`], {
      encoding: 'utf8',
    }).stdout;
    expect(args).toBe("sudo sh -c 'systemctl reset-failed keepalived && systemctl start keepalived'");
    expect(manualFix(d[2], n)).toBeNull();
  });

  it('nopreempt: the VIP may stay where the failover put it; two holders or none is never as before', () => {
    const cfgN = cfgOf(guides000);
    const b = status([node('lb01'), node('lb02')], { '10.0.0.3': ['lb01'] }, false);
    expect(pairDrift(b, status([node('lb01'), node('lb02')], { '10.0.0.3': ['lb02'] }, false), cfgN)).toEqual([]);
    expect(
      pairDrift(b, status([node('lb01'), node('lb02')], { '10.0.0.3': ['lb01', 'lb02'] }, false), cfgN).map(
        describeDrift,
      ),
    ).toEqual(['VI_1 10.0.0.3: held by lb01 and lb02 (was lb01)']);
    expect(
      pairDrift(b, status([node('lb01'), node('lb02')], { '10.0.0.3': [] }, false), cfgN).map(describeDrift),
    ).toEqual(['VI_1 10.0.0.3: held by no node (was lb01)']);
  });

  it('an instance still in FAULT (nginx not healthy again yet) and an unreachable node are not as before', () => {
    const now = status(
      [node('lb01', { instances: [{ name: 'VI_1', state: 'FAULT', effectivePriority: 0 }] }), node('lb02')],
      { '172.16.70.183': ['lb02'] },
    );
    expect(pairDrift(before, now, cfg).map(describeDrift)).toContain('lb01: VI_1 state was BACKUP, now FAULT');
    const gone = status([{ ...node('lb01'), reachable: false, error: 'SSH connection closed' }, node('lb02')], {
      '172.16.70.183': ['lb01'],
    });
    expect(pairDrift(before, gone, cfg).map(describeDrift)).toEqual([
      'lb01: SSH was reachable, now SSH connection closed',
    ]);
  });
});

describe('state flags left behind', () => {
  const cfg = cfgOf(guides000);
  const before = status([node('lb01'), node('lb02')], { '172.16.70.183': ['lb01'] });

  it('a demote flag still set after a run is drift, fixed by writing the old value back atomically', () => {
    const now = status([node('lb01', { flags: { 'demote.VI_1': 1 }, demoted: ['VI_1'] }), node('lb02')], {
      '172.16.70.183': ['lb01'],
    });
    const d = pairDrift(before, now, cfg);
    expect(d.map(describeDrift)).toEqual(['lb01: flag demote.VI_1 was 0, now 1']);
    const fix = d[0].fix[0];
    expect(fix.slice(0, 2)).toEqual(['sh', '-c']);
    expect(fix.slice(-3)).toEqual(['/var/lib/ha-setup/state', 'demote.VI_1', '0']);
    // run as given, into a scratch directory: the value lands whole (a temporary file, then mv)
    const dir = mkdtempSync(join(tmpdir(), 'flag-'));
    const r = spawnSync(fix[0], [...fix.slice(1, 4), join(dir, 'state'), ...fix.slice(5)]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'state', 'demote.VI_1'), 'utf8')).toBe('0\n');
    expect(readdirSync(join(dir, 'state'))).toEqual(['demote.VI_1']);
  });

  it('while the run keeps the master demoted on purpose the demote flag is not drift; any other flag is', () => {
    const now = status([node('lb01', { flags: { 'demote.VI_1': 1 } }), node('lb02')], { '172.16.70.183': ['lb01'] });
    expect(pairDrift(before, now, cfg, true)).toEqual([]);
    const other = status([node('lb01', { flags: { 'demote.VI_1': 1, 'handover.VI_1': 1 } }), node('lb02')], {
      '172.16.70.183': ['lb01'],
    });
    expect(pairDrift(before, other, cfg, true).map(describeDrift)).toEqual(['lb01: flag handover.VI_1 was 0, now 1']);
    // a flag that was set before the run (maintenance by the operator) and is gone now is put back as it was
    const kept = status([node('lb01', { flags: { maintenance: 1 } }), node('lb02')], { '172.16.70.183': ['lb01'] });
    const gone = pairDrift(kept, before, cfg);
    expect(gone.map(describeDrift)).toEqual(['lb01: flag maintenance was 1, now 0']);
    expect(gone[0].fix[0].slice(-2)).toEqual(['maintenance', '1']);
  });
});

describe('right before each fault: what it stops on the node holding the target now can come back', () => {
  it('nopreempt: the VIP is on lb02 after the first scenario; nginx masked there refuses the nginx scenario', () => {
    const cfg = cfgOf(guides000);
    const t = targetsOf(cfg)[0];
    const masked = { active: 'active', enabled: 'masked-runtime' };
    const now = status(
      [node('lb01'), node('lb02', { units: { keepalived: { active: 'active', enabled: 'enabled' }, nginx: masked } })],
      { '172.16.70.183': ['lb02'] },
      false,
    );
    expect(faultUndoProblems(now, t, 'nginx')).toEqual([
      'nginx on lb02 is masked-runtime: the test could not start it again after stopping it',
    ]);
    // a scenario that stops keepalived does not need nginx to start again
    expect(faultUndoProblems(now, t, 'keepalived')).toEqual([]);
  });
});

describe('who answered a probe', () => {
  it('node names that are not hostnames: the X-LB hostname, short or full, or an address identifies the node', () => {
    const cfg = cfgOf(threeNodes);
    const s = status(
      [
        node('a', { hostname: 'lb01.lab.example', addresses: ['172.16.70.181', '172.16.70.183'] }),
        node('b', { hostname: 'lb02', addresses: ['172.16.70.182'] }),
        node('c', { hostname: 'lb03', addresses: ['172.16.70.185'] }),
      ],
      { '172.16.70.183': ['a'] },
    );
    const ids = identities(cfg, s);
    expect(identify('lb01', ids)).toBe('a');
    expect(identify('LB01.lab.example', ids)).toBe('a');
    expect(identify('lb02.lab.example', ids)).toBe('b');
    expect(identify('b', ids)).toBe('b');
    expect(identify('172.16.70.185', ids)).toBe('c');
    // the VIP moves between nodes: it identifies nobody
    expect(identify('172.16.70.183', ids)).toBeNull();
    expect(identify('web01', ids)).toBeNull();
    expect(identify(null, ids)).toBeNull();
  });

  it('a name two hosts share identifies neither', () => {
    const cfg = cfgOf(pair);
    const ids = identities(cfg, status([node('lb01', { hostname: 'lb' }), node('lb02', { hostname: 'lb' })], {}));
    expect(identify('lb', ids)).toBeNull();
    expect(identify('lb01', ids)).toBe('lb01');
  });
});

describe('targets: an instance, or a sync group moving as one', () => {
  it('active-active: one target per instance; a sync group: one target with all its instances', () => {
    expect(targetsOf(cfgOf(activeActive)).map((t) => [t.name, t.group, t.instances.map((i) => i.name)])).toEqual([
      ['VI_1', null, ['VI_1']],
      ['VI_2', null, ['VI_2']],
    ]);
    expect(targetsOf(cfgOf(syncGroup)).map((t) => [t.name, t.group, t.instances.map((i) => i.name)])).toEqual([
      ['G_WEB', 'G_WEB', ['VI_1', 'VI_2']],
    ]);
  });
});

describe('status from the facts table, and privilege', () => {
  const statusText = gathered({
    services: 'keepalived active enabled 123\nnginx inactive masked-runtime 0\nrsyslog active enabled 9',
    hostname: 'lb01.example',
    kaversion: 'Keepalived v2.2.7 (01/16,2022)',
    interfaces:
      'link 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 link/loopback 00:00:00:00:00:00\n' +
      'link 2: ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 link/ether 02:00:00:00:00:01\n' +
      'link 3: ens34: <BROADCAST,MULTICAST> mtu 1500 link/ether 02:00:00:00:00:02\n' +
      'addr 1: lo    inet 127.0.0.1/8 scope host lo\n' +
      // a hand-over hold on lo is not holding the VIP
      'addr 1: lo    inet 172.16.70.184/32 scope host lo\n' +
      'addr 2: ens33    inet 172.16.70.181/24 scope global ens33\n' +
      'addr 2: ens33    inet 172.16.70.183/24 scope global secondary ens33',
    kadata: ' VRRP Instance = VI_1\n   State = MASTER\n   Effective priority = 110',
    transitions: 'Keepalived_vrrp[1]: (VI_1) Entering MASTER STATE',
    backends: '10.0.0.5:80 200\n10.0.0.6:80 0',
    flags: 'maintenance 0\ndemote.VI_1 1\ndemote.VI_2 0',
    nginxtest: 'nginx: [emerg] unknown directive "x" in /etc/nginx/conf.d/a.conf:1\nexit 1',
    katest: '',
  });

  it('units from the services fact: active, pid, enablement (masked-runtime when the nginx scenario masked it)', () => {
    const base = node('lb01', { reachable: false });
    const s = nodeStatusOf(base, parseGathered(STATUS_FACTS, statusText));
    expect(s.reachable).toBe(true);
    expect(s.units).toEqual({
      keepalived: { active: 'active', enabled: 'enabled' },
      nginx: { active: 'inactive', enabled: 'masked-runtime' },
    });
    expect([s.keepalived, s.nginx, s.keepalivedPid]).toEqual(['active', 'inactive', 123]);
    // a unit the services fact does not list is not known
    const none = nodeStatusOf(base, parseGathered(STATUS_FACTS, gathered({ services: '' })));
    expect(none.units.keepalived).toEqual({ active: 'unknown', enabled: 'unknown' });
    expect(none.keepalivedPid).toBe(0);
  });

  it('links, addresses (lo left out), instances, flags, latent faults', () => {
    const s = nodeStatusOf(node('lb01'), parseGathered(STATUS_FACTS, statusText));
    expect(s.links).toEqual({ lo: true, ens33: true, ens34: false });
    expect(s.addresses).toEqual(['172.16.70.181', '172.16.70.183']);
    expect(s.hostname).toBe('lb01.example');
    expect(s.keepalivedVersion).toBe('2.2.7');
    expect(s.instances).toEqual([{ name: 'VI_1', state: 'MASTER', effectivePriority: 110 }]);
    expect(s.backends).toEqual([
      { backend: '10.0.0.5:80', status: 200 },
      { backend: '10.0.0.6:80', status: 0 },
    ]);
    expect(s.maintenance).toBe(false);
    expect(s.demoted).toEqual(['VI_1']);
    expect(s.nginxTest).toMatchObject({ ok: false, code: 1 });
    expect(s.keepalivedTest).toBeNull();
    const pairStatus = judgePair(cfgOf(pair), [s, node('lb02')]);
    expect(pairStatus.latent).toEqual([
      'nginx on lb01 would not start again after a restart or reboot: ' +
        'nginx: [emerg] unknown directive "x" in /etc/nginx/conf.d/a.conf:1',
    ]);
    // a keepalived a user other than root could have changed (the bins fact): not run, so not checked either
    const unsafe = nodeStatusOf(
      node('lb02'),
      parseGathered(
        STATUS_FACTS,
        gathered({
          services: 'keepalived active enabled 9\nnginx active enabled 8',
          bins: 'keepalived no keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775)',
        }),
      ),
    );
    expect(judgePair(cfgOf(pair), [s, unsafe]).latent.slice(1)).toEqual([
      'lb02: keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775); ha-setup does not ' +
        'run it (nor checks the configuration with it), and a start of the service runs it as root',
    ]);
    // nginx down on lb01 is a problem, and lb01 cannot be the expected holder: lb02 is; a VIP on another node than
    // expected is init's concern, status only counts a split brain or a lost VIP
    expect(pairStatus.problems).toEqual(['lb01: nginx is inactive']);
    // a running keepalived whose state cannot be read: a problem (exit 1), its instances unknown, not absent
    const unread = { ...node('lb02'), instances: [], stateUnreadable: 'busy: another reader held it for 10 s' };
    expect(judgePair(cfgOf(pair), [s, unread]).problems).toContain(
      'lb02: its VRRP state is unknown (busy: another reader held it for 10 s)',
    );
    expect(pairStatus.vips).toEqual([
      {
        instance: 'VI_1',
        vip: '172.16.70.183',
        holders: ['lb01'],
        expected: 'lb02',
        master: 'lb01',
        preempt: true,
        problem: 'wrong-holder',
      },
    ]);
  });

  it('privilege: root, sudo without a password, sudo with one (asked once, checked), no sudo', async () => {
    const as = (uid: string, sudo: string, sudoTrue = 0) =>
      fakeConn((c) =>
        c.kind === 'sh' ? { stdout: gathered({ uid, sudo }) } : c.text === 'true' ? { code: sudoTrue } : undefined,
      );
    const n = fakeNode({ user: 'ops' });
    const noPassword = async () => undefined;

    const root = as('0', 'none');
    await becomeRoot(root, fakeNode(), noPassword);
    expect(root.sudo).toBe('root');
    // read as the login user (sudo would drop what it reads), in one round trip
    expect(root.calls).toHaveLength(1);
    expect(root.calls[0].opts.root).toBe(false);

    const nopasswd = as('1001', 'nopasswd');
    await becomeRoot(nopasswd, n, noPassword);
    expect(nopasswd.sudo).toBe('nopasswd');

    let asked = 0;
    const withPassword = as('1002', 'password');
    await becomeRoot(withPassword, n, async () => (asked++, 'secret'));
    expect([withPassword.sudo, withPassword.sudoPassword, asked]).toEqual(['password', 'secret', 1]);
    expect(withPassword.calls.map((c) => [c.kind, c.text])).toContainEqual(['exec', 'true']);

    await expect(becomeRoot(as('1002', 'password'), n, noPassword)).rejects.toThrow(
      /lb01: user ops needs a password for sudo: set ssh.passwordEnv or run in a terminal/,
    );
    await expect(becomeRoot(as('1002', 'password', 1), n, async () => 'wrong')).rejects.toThrow(
      /sudo refused the password of ops/,
    );
    await expect(becomeRoot(as('1003', 'none'), n, noPassword)).rejects.toThrow(
      /lb01: user ops is not root and there is no sudo on the host/,
    );
    // nothing readable: no privilege at all
    const err = await becomeRoot(as('', ''), n, noPassword).catch((e) => e);
    expect(err).toBeInstanceOf(PreconditionError);
    expect((err as Error).message).toMatch(/lb01: cannot run commands as ops/);
  });
});
