/** Fact parsers on real output captured from a lab host (Debian 12) and on fixture text (CentOS 7). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseFactsOutput,
  parseInterfaces,
  parseKeepalivedVersion,
  parseOsRelease,
  parseTree,
} from '../../src/facts/gather.js';
import { parseKeepalivedData } from '../../src/status/collect.js';
import { configuredVips } from '../../src/plan/preflight.js';

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
