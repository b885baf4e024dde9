/**
 * Day 2 on a serving pair, each operation under a probe through the VIP every 20 ms (expected: 0 failed requests):
 * switchover and back, maintenance on and off (the node takes no VIP across a keepalived restart meanwhile), a
 * change that restarts keepalived (rolled one node at a time, the master's VIPs handed over first; the dry run's
 * actions are the ones applied), and on a three-node unicast pair a node taken out of the answers (deconfigured,
 * no longer advertising or holding the VIP) and put back.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  answersFile,
  cli,
  fullLab,
  inHost,
  json,
  lab,
  ROOT,
  labAnswers,
  labReset,
  vipHolders,
  type LabAnswers,
} from '../helpers/lab.js';
import { probed } from '../helpers/probe.js';

const VIP = () => `${lab().prefix}.100`;

const VERSION_OF: Record<string, string> = {
  lb01: "dpkg-query -W -f='${Version}' keepalived",
  lb02: 'rpm -q --qf "%{VERSION}-%{RELEASE}" keepalived',
  lb03: "dpkg-query -W -f='${Version}' keepalived",
};

/** a package repository on a lab host holding one package file from the controller; the package lists refreshed */
function addRepository(host: string, local: string, name: string): void {
  const put = spawnSync(
    'bash',
    [
      join(ROOT, 'scripts', 'lab'),
      'exec',
      host,
      'sh',
      '-c',
      'mkdir -p /srv/ha-next && cat > "/srv/ha-next/$1"',
      'sh',
      name,
    ],
    {
      input: readFileSync(local),
    },
  );
  expect(put.status, String(put.stderr)).toBe(0);
  inHost(
    host,
    `set -e; cd /srv/ha-next
if command -v apt-get >/dev/null; then
  dpkg-scanpackages -m . /dev/null >Packages 2>/dev/null
  echo "deb [trusted=yes] file:/srv/ha-next ./" >/etc/apt/sources.list.d/ha-next.list
  apt-get update -qq
else
  createrepo_c -q .
  printf '[ha-next]\nname=next\nbaseurl=file:///srv/ha-next\nenabled=1\ngpgcheck=0\n' >/etc/yum.repos.d/ha-next.repo
fi`,
  );
}

async function underProbe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = await probed(VIP(), () => cli(args, { env }));
  const r = p.result;
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
  console.log(`${args.slice(0, 3).join(' ')}: ${p.failed} failed of ${p.total} probes`);
  expect(p.failed, JSON.stringify(p.failures.slice(0, 3))).toBe(0);
  return r;
}

describe('day 2 on the mixed Debian + RHEL-like pair', () => {
  let file = '';
  let a: LabAnswers;
  it('set up: a fresh pair', async () => {
    labReset('lb01:debian', 'lb02:rocky', 'lb03:debian');
    a = labAnswers();
    file = answersFile(a);
    const r = await cli(['init', '--answers', file, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });

  it('switchover moves the VIP to lb02 and back without a failed request; status expects the chosen node', async () => {
    const r = await underProbe(['switchover', '--answers', file, '--json']);
    expect(JSON.parse(r.stdout).moves[0]).toMatchObject({ target: 'VI_1', from: 'lb01', to: 'lb02' });
    expect(vipHolders(VIP())).toEqual(['lb02']);
    const s = await cli(['status', '--answers', file, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(json.status(s).vips[0]).toMatchObject({ holders: ['lb02'], expected: 'lb02' });
    await underProbe(['switchover', '--answers', file, '--to', 'lb01']);
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });

  it('maintenance on drains lb01 (no VIP, not even after a keepalived restart); off brings it back', async () => {
    await underProbe(['maintenance', 'lb01', 'on', '--answers', file]);
    expect(vipHolders(VIP())).toEqual(['lb02']);
    inHost('lb01', 'systemctl restart keepalived; sleep 5');
    expect(vipHolders(VIP())).toEqual(['lb02']);
    const s = json.status(await cli(['status', '--answers', file, '--json']));
    expect(s.nodes.find((n) => n.node === 'lb01')?.maintenance).toBe(true);
    // verify-failover never relies on a node in maintenance: no node could take over from lb02
    const v = await cli(['verify-failover', '--answers', file, '--scenario', 'keepalived']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/lb01 is in maintenance/);
    await underProbe(['maintenance', 'lb01', 'off', '--answers', file]);
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });

  it('a change that restarts keepalived rolls through the nodes: 0 failed requests, as the dry run said', async () => {
    const b = structuredClone(a);
    b.logging = { facility: 'local5', file: '/var/log/keepalived.log', logrotate: true };
    const f = answersFile(b);
    const dry = json.plan(await cli(['init', '--answers', f, '--dry-run', '--json']));
    const lb01 = dry.nodes.find((n) => n.name === 'lb01')!;
    expect(lb01.rolling).toBe(2);
    expect(lb01.actions.findIndex((x) => x.startsWith('hand VI_1'))).toBeLessThan(
      lb01.actions.indexOf('systemctl restart keepalived'),
    );
    const r = await underProbe(['init', '--answers', f, '--yes', '--json']);
    const applied = json.init(r);
    for (const n of applied.nodes) expect(n.actions).toEqual(dry.nodes.find((d) => d.name === n.node)!.actions);
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });

  it('a keepalived package upgrade (packages.keepalived: the next revision) is rolled: 0 failed', async () => {
    const { next } = fullLab();
    const b = structuredClone(a);
    b.packages = { keepalived: [next.deb, next.rpm] };
    const f = answersFile(b);
    const pids = () => ['lb01', 'lb02'].map((h) => inHost(h, 'systemctl show -p MainPID --value keepalived').stdout);
    const dry = json.plan(await cli(['init', '--answers', f, '--dry-run', '--json']));
    for (const n of dry.nodes) expect(n.rolling, n.name).toBeGreaterThan(0);
    const before = pids();
    const r = await underProbe(['init', '--answers', f, '--yes', '--json']);
    for (const n of json.init(r).nodes) expect(n.actions).toEqual(dry.nodes.find((d) => d.name === n.node)!.actions);
    expect(inHost('lb01', "dpkg-query -W -f='${Version}' keepalived").stdout).toMatch(/\+lab1$/);
    expect(inHost('lb02', 'rpm -q --qf "%{VERSION}-%{RELEASE}" keepalived').stdout).toBe('2.2.7-2.el9');
    // the new binaries run on both (every keepalived was restarted), and the VIP is back on its master
    pids().forEach((p, i) => expect(p, `node ${i + 1}`).not.toBe(before[i]));
    expect(vipHolders(VIP())).toEqual(['lb01']);
    const again = json.init(await cli(['init', '--answers', f, '--yes', '--json']));
    expect(again.nodes.map((n) => n.changes)).toEqual([0, 0]);
  });

  it('verify-failover --scenario switchover: the planned move measured, gap 0 and its return 0 failed', async () => {
    const v = await cli(['verify-failover', '--answers', file, '--scenario', 'switchover', '--json']);
    expect(v.code, v.stderr).toBe(0);
    const s = json.verify(v).scenarios[0];
    expect(s).toMatchObject({ name: 'switchover', ok: true, restored: true, failedProbes: 0, gapMs: 0 });
    expect(s.return?.failedProbes).toBe(0);
  });
});

describe('three nodes, unicast: a node taken out of the answers, then put back', () => {
  const three = (): LabAnswers => {
    const a = labAnswers();
    a.nodes = [
      ...a.nodes,
      { name: 'lb03', host: lab().hosts.find((h) => h.name === 'lb03')!.address, interface: lab().iface, priority: 90 },
    ];
    a.nodes.forEach((n) => (n.address = n.host));
    a.instances[0].unicast = true;
    return a;
  };
  it('set up: three nodes', async () => {
    labReset('lb01:debian', 'lb02:rocky', 'lb03:debian');
    const r = await cli(['init', '--answers', answersFile(three()), '--yes']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('lb03 leaves: deconfigured (keepalived stopped, disabled, ha-setup files gone), 0 failed requests', async () => {
    const two = three();
    two.nodes = two.nodes.filter((n) => n.name !== 'lb03');
    const f = answersFile(two);
    const dry = json.plan(await cli(['init', '--answers', f, '--dry-run', '--json']));
    const leaving = dry.nodes.find((n) => n.name === 'lb03')!;
    expect(leaving.leaving).toBe(true);
    expect(leaving.actions).toEqual(
      expect.arrayContaining(['systemctl stop keepalived', 'systemctl disable keepalived']),
    );
    await underProbe(['init', '--answers', f, '--yes']);
    expect(
      inHost('lb03', 'systemctl is-active keepalived; systemctl is-enabled keepalived', { allowFail: true }).stdout,
    ).toMatch(/inactive\s+disabled/);
    expect(inHost('lb03', 'ls /etc/keepalived/ha-setup /var/lib/ha-setup/members.json 2>&1 || true').stdout).toMatch(
      /No such file/,
    );
    expect(inHost('lb01', 'cat /var/lib/ha-setup/members.json').stdout).not.toContain('lb03');
    expect(vipHolders(VIP(), ['lb01', 'lb02', 'lb03'])).toEqual(['lb01']);
    const s = await cli(['status', '--answers', f]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/NOT A MEMBER/);
  });

  it('lb03 joins again: added with no VIP move and 0 failed requests', async () => {
    await underProbe(['init', '--answers', answersFile(three()), '--yes']);
    expect(vipHolders(VIP(), ['lb01', 'lb02', 'lb03'])).toEqual(['lb01']);
    expect(inHost('lb03', 'systemctl is-active keepalived').stdout.trim()).toBe('active');
  });

  it('a newer keepalived in the repositories: kept until packages.upgrade asks, then rolled: 0 failed', async () => {
    // a second repository on each host with the next package revision, and the package lists refreshed: what an
    // operator's distribution update looks like before anyone upgrades
    const { next } = fullLab();
    for (const h of ['lb01', 'lb03']) addRepository(h, next.deb, 'keepalived_2.2.7-1+b2+lab1_amd64.deb');
    addRepository('lb02', next.rpm, 'keepalived-2.2.7-2.el9.x86_64.rpm');
    const LB = ['lb01', 'lb02', 'lb03'];
    const versions = () => LB.map((h) => inHost(h, VERSION_OF[h]).stdout);
    const before = versions();
    // not asked: nothing to do
    const same = json.plan(await cli(['init', '--answers', answersFile(three()), '--dry-run', '--json']));
    expect(same.nodes.map((n) => n.actions)).toEqual([[], [], []]);
    // with a change in the same run (lb03's priority): the package restarts keepalived on its old configuration,
    // the new one must still be loaded after it
    const b = three();
    b.packages = { upgrade: ['keepalived'] };
    b.nodes.find((n) => n.name === 'lb03')!.priority = 95;
    const f = answersFile(b);
    const dry = json.plan(await cli(['init', '--answers', f, '--dry-run', '--json']));
    expect(dry.nodes.find((n) => n.name === 'lb01')!.actions).toEqual(
      expect.arrayContaining(['upgrade keepalived 1:2.2.7-1+b2 -> 1:2.2.7-1+b2+lab1 with apt-get']),
    );
    expect(dry.nodes.find((n) => n.name === 'lb02')!.actions).toEqual(
      expect.arrayContaining(['upgrade keepalived 2.2.7-1.el9 -> 2.2.7-2.el9 with dnf']),
    );
    // one node at a time, the master (lb01) last
    for (const n of dry.nodes) expect(n.rolling, n.name).toBeGreaterThan(0);
    expect(dry.nodes.find((n) => n.name === 'lb01')!.rolling).toBe(3);
    const pids = () => LB.map((h) => inHost(h, 'systemctl show -p MainPID keepalived').stdout);
    const pidsBefore = pids();
    const r = await underProbe(['init', '--answers', f, '--yes', '--json']);
    for (const n of json.init(r).nodes) expect(n.actions).toEqual(dry.nodes.find((d) => d.name === n.node)!.actions);
    expect(versions()).toEqual(['1:2.2.7-1+b2+lab1', '2.2.7-2.el9', '1:2.2.7-1+b2+lab1']);
    expect(before).toEqual(['1:2.2.7-1+b2', '2.2.7-1.el9', '1:2.2.7-1+b2']);
    pids().forEach((p, i) => expect(p, LB[i]).not.toBe(pidsBefore[i]));
    expect(vipHolders(VIP(), LB)).toEqual(['lb01']);
    const st = json.status(await cli(['status', '--answers', f, '--json']));
    expect(st.nodes.find((n) => n.node === 'lb03')!.instances[0].effectivePriority).toBe(95);
    const again = json.init(await cli(['init', '--answers', f, '--yes', '--json']));
    expect(again.nodes.map((n) => n.changes)).toEqual([0, 0, 0]);
  });
});
