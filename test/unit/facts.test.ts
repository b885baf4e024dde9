/** Fact parsers on real output captured from lab hosts (Debian 12, Rocky-like, CentOS-7-like) and fixture text. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseFactsOutput,
  parseInterfaces,
  parseKeepalivedVersion,
  parseOsRelease,
  parseTree,
  sysResourceFact,
} from '../../src/facts/gather.js';
import { parseKeepalivedData } from '../../src/status/collect.js';
import { configuredVips } from '../../src/plan/preflight.js';
import { loadAnswersFile, resolveAnswers } from '../../src/answers/resolve.js';
import { buildPlan } from '../../src/plan/build.js';
import { changeCount } from '../../src/plan/types.js';

const fx = (f: string) => readFileSync(join(__dirname, '..', 'fixtures', f), 'utf8');

describe('facts from a real Debian 12 lab host', () => {
  const f = parseFactsOutput(fx('facts-debian12-lb02.txt'));
  it('os, package manager, systemd, root', () => {
    expect(f.os).toMatchObject({ id: 'debian', family: 'debian', version: '12' });
    expect(f.pkgManager).toBe('apt');
    expect(f.systemd).toBe(true);
    expect(f.uid).toBe(0);
    expect(f.sudo).toBe('root');
  });
  it('packages and keepalived version', () => {
    expect(f.packages.keepalived).toBe('1:2.2.7-1+b2');
    expect(f.packages.nginx).toMatch(/^1\.22\.1/);
    expect(f.keepalivedVersion).toBe('2.2.7');
  });
  it('firewalld installed but stopped, no getenforce', () => {
    expect(f.firewalld).toMatchObject({ installed: true, active: false, enabled: false });
    expect(f.selinux).toEqual({ runtime: null, tools: false });
  });
  it('interfaces with flags, MAC and addresses', () => {
    expect(f.interfaces.host0).toMatchObject({ up: true, multicast: true, addresses: ['198.18.0.12/24'] });
    expect(f.interfaces.host0.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  });
  it('files with content and mode, missing files', () => {
    expect(f.files['/etc/selinux/config']).toMatchObject({ exists: true, mode: '644' });
    expect(f.files['/etc/selinux/config'].content).toContain('SELINUX=disabled');
    expect(f.files['/etc/keepalived/keepalived.conf'].mode).toBe('600');
    expect(configuredVips(f.files['/etc/keepalived/keepalived.conf'].content)).toEqual(new Set(['198.18.0.100']));
  });
  it('services, sysctl, nginx tree, VIP neighbour', () => {
    expect(f.services.keepalived).toMatchObject({ active: 'active', enabled: 'enabled' });
    expect(f.services.keepalived.mainPid).toBeGreaterThan(0);
    expect(f.sysctl['net.ipv4.ip_nonlocal_bind']).toBe('1');
    expect(f.nginxTree!['nginx.conf']).toMatch(/^[0-9a-f]{64}$/);
    expect(f.nginxTree!['sites-enabled/default']).toBe('link:/etc/nginx/sites-available/default');
    expect(f.vipNeighbors[0].vip).toBe('198.18.0.100');
  });
});

describe('single parsers', () => {
  it('CentOS 7 os-release is rhel', () =>
    expect(parseOsRelease(fx('os-release-centos7.txt'))).toMatchObject({ id: 'centos', family: 'rhel', version: '7' }));
  it('Rocky and Ubuntu', () => {
    expect(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"').family).toBe('rhel');
    expect(parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"').family).toBe('debian');
    expect(parseOsRelease('ID=alpine').family).toBe('unknown');
  });
  it('CAP_SYS_RESOURCE from CapBnd (the lab and this machine: 000001fffeffffff, without it)', () => {
    expect(sysResourceFact.parse('000001fffeffffff\n')).toBe(false);
    expect(sysResourceFact.parse('000001ffffffffff')).toBe(true);
    expect(sysResourceFact.parse('0000003fffffffff')).toBe(true);
    expect(sysResourceFact.parse('')).toBeNull();
    expect(sysResourceFact.parse('zz')).toBeNull();
  });
  it('keepalived --version', () => {
    expect(parseKeepalivedVersion('Keepalived v2.2.7 (01/16,2022)')).toBe('2.2.7');
    expect(parseKeepalivedVersion('Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2')).toBe('1.3.5');
    expect(parseKeepalivedVersion('')).toBeNull();
  });
  it('ip -o link/addr with the @ifN suffix and no MULTICAST', () => {
    const t =
      'link 2: ens33@if5: <BROADCAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default ' +
      'qlen 1000\\    link/ether 00:0c:29:aa:bb:cc brd ff:ff:ff:ff:ff:ff\n' +
      'addr 2: ens33    inet 172.16.70.181/24 brd 172.16.70.255 scope global ens33\\' +
      '       valid_lft forever preferred_lft forever\n' +
      'addr 2: ens33    inet 172.16.70.183/24 scope global secondary ens33';
    expect(parseInterfaces(t).ens33).toEqual({
      name: 'ens33',
      up: true,
      multicast: false,
      flags: ['BROADCAST', 'UP', 'LOWER_UP'],
      mac: '00:0c:29:aa:bb:cc',
      addresses: ['172.16.70.181/24', '172.16.70.183/24'],
    });
  });
  it('nginx tree listing', () => {
    expect(parseTree('@none')).toBeNull();
    expect(parseTree(`${'c'.repeat(64)}  ./conf.d/a b.conf\nlink:../x ./y`)).toEqual({
      'conf.d/a b.conf': 'c'.repeat(64),
      y: 'link:../x',
    });
  });
  it('keepalived SIGUSR1 data dump', () => {
    expect(parseKeepalivedData(fx('keepalived-data.txt'))).toEqual([
      { name: 'VI_1', state: 'MASTER', effectivePriority: 110 },
      { name: 'VI_2', state: 'BACKUP', effectivePriority: 80 },
    ]);
  });
});

/**
 * Real output captured from the lab's RHEL-like hosts (scripts/lab: Rocky-like and CentOS-7-like, rpm and dnf/yum
 * in RHEL's layout): a fresh Rocky host, a fresh CentOS 7 host, and a CentOS 7 pair after `init`
 * (test/fixtures/answers-centos7-lab.yaml).
 */
describe('facts from the lab RHEL-like hosts', () => {
  const rocky = parseFactsOutput(fx('facts-rocky9-fresh.txt'));
  const c7 = parseFactsOutput(fx('facts-centos7-fresh.txt'));
  const cfg = resolveAnswers(loadAnswersFile(join(__dirname, '..', 'fixtures', 'answers-centos7-lab.yaml')), {
    env: {},
  });

  it('a fresh Rocky 9 host: rhel, dnf, rpm packages, 2.2.7 in its repository, firewalld and SELinux config', () => {
    expect(rocky.os).toMatchObject({ id: 'rocky', family: 'rhel', version: '9.4' });
    expect(rocky.pkgManager).toBe('dnf');
    expect(rocky.packages).toEqual({ keepalived: null, nginx: null, rsync: null, curl: '7.88.1-1.el9' });
    expect(rocky.keepalivedVersion).toBeNull();
    expect(rocky.keepalivedCandidate).toBe('2.2.7');
    expect(rocky.firewalld).toMatchObject({ installed: true, active: true, enabled: true });
    expect(rocky.files['/etc/selinux/config'].content).toContain('SELINUX=enforcing');
    expect(rocky.files['/etc/sysconfig/keepalived']).toEqual({ exists: false });
  });

  it('a fresh CentOS 7 host: yum only, 1.3.5 in its repository; the plan renders for 1.3.5', () => {
    expect(c7.os).toMatchObject({ id: 'centos', family: 'rhel', version: '7' });
    expect(c7.pkgManager).toBe('yum');
    expect(c7.keepalivedCandidate).toBe('1.3.5');
    const facts = { lb04: { ...c7, hostname: 'lb04' }, lb05: c7 };
    const { plans } = buildPlan(cfg, facts, { skipNetworkChecks: true });
    const steps = plans[1].steps;
    const install = steps.find((s) => s.id === 'keepalived-install')!.changes;
    expect(install).toEqual([{ kind: 'package', manager: 'yum', names: ['keepalived'] }]);
    const conf = steps
      .find((s) => s.id === 'keepalived-config')!
      .changes.find((c) => c.kind === 'file' && c.path === '/etc/keepalived/keepalived.conf');
    expect(conf && conf.kind === 'file' && conf.validate?.[3]).toBe('validate-keepalived-1x');
  });

  it('a CentOS 7 pair after init: keepalived 1.3.5 (its --version), and a second plan changes nothing', () => {
    const lb04 = parseFactsOutput(fx('facts-centos7-converged-lb04.txt'));
    const lb05 = parseFactsOutput(fx('facts-centos7-converged-lb05.txt'));
    expect(lb05.keepalivedVersion).toBe('1.3.5');
    expect(lb05.packages.keepalived).toBe('1.3.5-19.el7');
    expect(lb05.files['/etc/sysconfig/keepalived'].content).toMatch(/^KEEPALIVED_OPTIONS="-D -S 4"$/m);
    expect(lb05.services.keepalived).toMatchObject({ active: 'active', enabled: 'enabled' });
    const { plans, refusals } = buildPlan(cfg, { lb04, lb05 }, { skipNetworkChecks: true });
    expect(refusals).toEqual([]);
    expect(plans.map((p) => changeCount(p))).toEqual([0, 0]);
  });
});
