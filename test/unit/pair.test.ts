/**
 * The whole-pair snapshot verify-failover restores to, who answered a probe, and how a session becomes root:
 * pure logic from data fixtures.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { identify, identities } from '../../src/failover/identify.js';
import { describeDrift, manualFix, pairDrift, unitFix } from '../../src/failover/pair.js';
import { targetsOf } from '../../src/failover/run.js';
import { parsePrivilege } from '../../src/ssh/session.js';
import { parseUnits, type NodeStatus, type PairStatus } from '../../src/status/collect.js';
import { activeActive, guides000, pair, syncGroup, threeNodes } from '../fixtures/answers.js';

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
    transitions: [],
    backends: [],
    ...over,
  };
}

function status(nodes: NodeStatus[], holders: Record<string, string[]>, preempt = true): PairStatus {
  return {
    nodes,
    vips: Object.entries(holders).map(([vip, h]) => ({ instance: 'VI_1', vip, holders: h, master: 'lb01', preempt })),
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
    const viaSudo = manualFix(d[1], { ...n, user: 'ops', sudo: true, port: 2222 })!;
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

describe('status parsing and privilege', () => {
  it('units: active, pid and enablement (masked-runtime when the nginx scenario masked it)', () => {
    expect(parseUnits('keepalived active 123 enabled\nnginx inactive 0 masked-runtime\n')).toEqual({
      keepalived: { active: 'active', pid: 123, unit: { active: 'active', enabled: 'enabled' } },
      nginx: { active: 'inactive', pid: 0, unit: { active: 'inactive', enabled: 'masked-runtime' } },
    });
    expect(parseUnits('keepalived inactive 0\n').keepalived.unit).toEqual({ active: 'inactive', enabled: 'unknown' });
  });

  it('privilege: root, sudo without a password, sudo with one, no sudo', () => {
    expect(parsePrivilege('0\nnopasswd\n')).toEqual({ uid: 0, sudo: 'nopasswd' });
    expect(parsePrivilege('1001\nnopasswd\n')).toEqual({ uid: 1001, sudo: 'nopasswd' });
    expect(parsePrivilege('1002\npassword\n')).toEqual({ uid: 1002, sudo: 'password' });
    expect(parsePrivilege('1003\nnone\n')).toEqual({ uid: 1003, sudo: 'none' });
    expect(parsePrivilege('')).toEqual({ uid: -1, sudo: 'none' });
  });
});
