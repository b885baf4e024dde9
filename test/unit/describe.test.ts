/** One line per action (plan/describe.ts): the words of --dry-run, the progress output and the run's report. */
import { describe, expect, it } from 'vitest';
import { describeAction } from '../../src/plan/describe.js';
import type { TargetRef } from '../../src/plan/types.js';

const VI_1: TargetRef = { name: 'VI_1', vips: ['10.0.0.3'], preempt: true };
const G: TargetRef = { name: 'G_WEB', vips: ['10.0.0.4', '10.0.0.5'], preempt: true };

describe('describeAction', () => {
  it('file: create (missing), update (known content), write (unknown after a package install); the validator', () => {
    const f = { kind: 'file', path: '/etc/x.conf', content: 'x', mode: '644' } as const;
    expect(describeAction({ ...f, before: null })).toBe('create /etc/x.conf (mode 644)');
    expect(describeAction({ ...f, before: 'old' })).toBe('update /etc/x.conf (mode 644)');
    expect(describeAction({ ...f, before: '' })).toBe('update /etc/x.conf (mode 644)');
    expect(describeAction({ ...f, before: 'unknown' })).toBe('write /etc/x.conf (mode 644)');
    expect(
      describeAction({
        ...f,
        path: '/etc/keepalived/keepalived.conf',
        mode: '600',
        before: null,
        validate: ['keepalived', '-t', '-f', '{file}'],
      }),
    ).toBe('create /etc/keepalived/keepalived.conf (mode 600), validated with keepalived -t');
    expect(describeAction({ ...f, before: 'old', validate: ['nginx', '-t'], validateInPlace: true })).toBe(
      'update /etc/x.conf (mode 644), validated with nginx -t',
    );
  });

  it('remove-file, with its validator when one checks the result', () => {
    expect(describeAction({ kind: 'remove-file', path: '/var/lib/ha-setup/members.json', before: '{}' })).toBe(
      'remove /var/lib/ha-setup/members.json',
    );
    expect(
      describeAction({ kind: 'remove-file', path: '/etc/nginx/conf.d/u.conf', before: 'x', validate: ['nginx', '-t'] }),
    ).toBe('remove /etc/nginx/conf.d/u.conf, validated with nginx -t');
  });

  it('command: the argv and what it is for (its undo and sets are not shown)', () => {
    expect(
      describeAction({
        kind: 'command',
        argv: ['setenforce', '0'],
        describe: 'setenforce 0 (permissive until reboot)',
        undo: ['setenforce', '1'],
        sets: { selinux: { runtime: 'permissive' } },
      }),
    ).toBe('run: setenforce 0  (setenforce 0 (permissive until reboot))');
  });

  it("package: apt-get for apt, the manager's own name otherwise; the expected keepalived version", () => {
    expect(describeAction({ kind: 'package', manager: 'apt', names: ['keepalived'], expectVersion: '2.2.7' })).toBe(
      'install keepalived with apt-get (2.2.7)',
    );
    expect(describeAction({ kind: 'package', manager: 'yum', names: ['curl', 'rsync'] })).toBe(
      'install curl rsync with yum',
    );
    expect(describeAction({ kind: 'package', manager: 'dnf', names: ['keepalived'], expectVersion: null })).toBe(
      'install keepalived with dnf',
    );
  });

  it('package-file: copied to the host, installed with its manager', () => {
    expect(
      describeAction({
        kind: 'package-file',
        manager: 'apt',
        name: 'keepalived',
        localPath: '/srv/pkgs/keepalived_2.2.7-1_amd64.deb',
        file: 'keepalived_2.2.7-1_amd64.deb',
        expectVersion: '2.2.7',
      }),
    ).toBe('copy keepalived_2.2.7-1_amd64.deb to the host and install it with apt-get');
  });

  it('service: systemctl ACTION NAME; daemon-reload names no unit', () => {
    for (const action of ['enable', 'disable', 'start', 'stop', 'restart', 'reload-or-restart'] as const)
      expect(describeAction({ kind: 'service', name: 'keepalived', action })).toBe(`systemctl ${action} keepalived`);
    expect(describeAction({ kind: 'service', name: 'systemd', action: 'daemon-reload' })).toBe(
      'systemctl daemon-reload',
    );
  });

  it('nginx-sync: rsync from the source, the counts when there are any, then nginx -t and a reload', () => {
    const s = { kind: 'nginx-sync', from: 'lb01', configDir: '/etc/nginx' } as const;
    expect(describeAction({ ...s, added: ['a', 'b'], changed: ['nginx.conf'], removed: [] })).toBe(
      'sync /etc/nginx/ from lb01 (rsync -a --delete: 2 added, 1 changed, 0 removed), nginx -t, reload',
    );
    // an offline plan does not know the trees: no counts
    expect(describeAction({ ...s, added: [], changed: [], removed: [] })).toBe(
      'sync /etc/nginx/ from lb01 (rsync -a --delete), nginx -t, reload',
    );
  });

  it('verify: a check', () => {
    expect(
      describeAction({ kind: 'verify', describe: 'a keepalived line reaches /var/log/keepalived.log', argv: ['sh'] }),
    ).toBe('check: a keepalived line reaches /var/log/keepalived.log');
  });

  it('handover: the targets and their VIPs, handed over without a gap', () => {
    expect(describeAction({ kind: 'handover', targets: [VI_1, G] })).toBe(
      'hand VI_1 (10.0.0.3), G_WEB (10.0.0.4 10.0.0.5) over to a ready node without a gap, stopping keepalived here',
    );
  });

  it('return: a ready node again, then the VIPs that preempt says are its own', () => {
    expect(describeAction({ kind: 'return', targets: [VI_1], release: [] })).toBe(
      'keepalived running again here, a ready node; then VI_1 (10.0.0.3) back here (preempt)',
    );
    expect(describeAction({ kind: 'return', targets: [], release: [] })).toBe(
      'keepalived running again here, a ready node',
    );
    // a target that stays where the hand-over put it is not announced as coming back
    const stays = describeAction({ kind: 'return', targets: [], release: [{ ...VI_1, preempt: false }] });
    expect(stays.startsWith('keepalived running again here, a ready node')).toBe(true);
    expect(stays).not.toMatch(/back here/);
  });

  it('await-ready: a ready backup before the next node goes', () => {
    expect(describeAction({ kind: 'await-ready' })).toBe(
      'wait until keepalived here is a ready backup before the next node',
    );
  });
});
