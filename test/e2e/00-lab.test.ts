/**
 * The lab itself (issue 3): real hosts reachable the way the demo and the tests use them; the RHEL-like variants,
 * the sudo users and `lab reset` (issues 10 and 11).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addr, fullLab, inHost, lab, labReset, labSsh, ROOT, variantOf } from '../helpers/lab.js';

describe('lab', () => {
  it('ssh with the lab key and known_hosts under strict host key checking', () => {
    const l = lab();
    const r = spawnSync(
      'ssh',
      [
        '-i',
        l.identityFile,
        '-o',
        `UserKnownHostsFile=${l.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        `root@${addr('lb01')}`,
        'hostname',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.stderr).not.toMatch(/Permanently added|WARNING/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('lb01');
    const viaScript = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'ssh', 'lb02', 'hostname'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(viaScript.stdout.trim()).toBe('lb02');
  });

  it("curl from the client host gets web01's own page", () => {
    expect(inHost('client', `curl -s -m 3 http://${addr('web01')}/`).stdout).toContain('served by web01');
    expect(inHost('client', `curl -s -m 3 http://${addr('web02')}/`).stdout).toContain('served by web02');
  });

  // (that the LBs start without keepalived, and lb02 with firewalld running and SELINUX=enforcing, is checked at
  // the start of 10-init, before anything changes them)
  it('LBs get keepalived only from the lab repository', () => {
    const policy = inHost('lb01', 'apt-cache policy keepalived').stdout;
    expect(policy).toMatch(/Candidate: \S+/);
    expect(policy).toContain('file:/srv/ha-lab-repo');
    expect(policy).not.toMatch(/deb\.debian\.org|http:\/\//);
  });

  it('the bridge has the only lab address on this machine, on the benchmark range', () => {
    const l = lab();
    expect(l.prefix.startsWith('198.18.') || l.prefix.startsWith('198.19.')).toBe(true);
    const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
    expect(routes.split('\n').filter((r) => r.startsWith(`${l.prefix}.`)).length).toBe(1);
  });
});

/** the paths of the commands found on PATH (dash's `command -v` looks at its first name only) */
const which = (names: string) => `for c in ${names}; do command -v $c; done; true`;

describe('lab: RHEL-like hosts', () => {
  it('lb02 is Rocky Linux 9: rpm and dnf, no apt or dpkg, nginx keepalived rsync only in the lab repository', () => {
    expect(variantOf('lb02')).toBe('rocky');
    expect(inHost('lb02', '. /etc/os-release; echo $ID $VERSION_ID').stdout.trim()).toBe('rocky 9.4');
    expect(inHost('lb02', which('apt-get apt dpkg dpkg-query')).stdout.trim()).toBe('');
    expect(inHost('lb02', which('dnf rpm')).stdout.trim().split('\n')).toEqual(['/usr/bin/dnf', '/usr/bin/rpm']);
    expect(inHost('lb02', 'command -v yum').stdout.trim()).toBe('/usr/bin/yum');
    expect(inHost('lb02', 'rpm -q curl').stdout).toMatch(/^curl-\S+\.el9\.x86_64/);
    const missing = inHost('lb02', 'rpm -q nginx keepalived rsync', { allowFail: true });
    expect(missing.status).not.toBe(0);
    for (const p of ['nginx', 'keepalived', 'rsync']) expect(missing.stdout).toContain(`package ${p} is not installed`);
    const avail = inHost('lb02', 'dnf -q list available keepalived nginx rsync').stdout;
    for (const p of ['keepalived', 'nginx', 'rsync'])
      expect(avail).toMatch(new RegExp(`^${p}\\.x86_64 .*\\.el9 +ha-lab$`, 'm'));
    expect(inHost('lb02', 'systemctl is-active firewalld').stdout.trim()).toBe('active');
    expect(inHost('lb02', 'grep ^SELINUX= /etc/selinux/config').stdout.trim()).toBe('SELINUX=enforcing');
  });

  it('the topology: Debian lb01 and lb03 around the Rocky lb02; lb01 has the load-balancer nginx config', () => {
    const l = fullLab();
    const lbs = l.hosts.filter((h) => h.role === 'lb' && ['lb01', 'lb02', 'lb03'].includes(h.name));
    expect(lbs.map((h) => [h.name, h.address, h.variant])).toEqual([
      ['lb01', `${l.prefix}.11`, 'debian'],
      ['lb02', `${l.prefix}.12`, 'rocky'],
      ['lb03', `${l.prefix}.13`, 'debian'],
    ]);
    expect(inHost('lb01', 'cat /etc/nginx/sites-available/default').stdout).toContain('add_header X-LB $hostname');
    expect(inHost('lb03', 'cat /etc/nginx/sites-available/default').stdout).not.toContain('X-LB');
    for (const f of Object.values(l.rpms.el9)) expect(existsSync(f), f).toBe(true);
  });

  it('every LB variant has ops (sudo without a password) and opspw (sudo with one), both by key', () => {
    const { users } = fullLab();
    for (const h of ['lb01', 'lb02']) {
      const ops = labSsh(users.sudo, h, 'id -un; sudo -n id -u');
      expect(ops.status, ops.stderr).toBe(0);
      expect(ops.stdout.split('\n').slice(0, 2)).toEqual([users.sudo, '0']);
      expect(labSsh(users.sudoPassword, h, 'sudo -n true').status).not.toBe(0);
      const pw = labSsh(users.sudoPassword, h, "sudo -S -p '' id -u", { input: `${users.password}\n` });
      expect(pw.status, pw.stderr).toBe(0);
      expect(pw.stdout.trim()).toBe('0');
    }
  });

  it('web02 has keepalived installed, disabled and stopped (a foreign VRRP router for tests)', () => {
    expect(inHost('web02', "dpkg-query -W -f='${Status}' keepalived").stdout).toBe('install ok installed');
    expect(inHost('web02', 'systemctl is-enabled keepalived', { allowFail: true }).stdout.trim()).toBe('disabled');
    expect(inHost('web02', 'systemctl is-active keepalived', { allowFail: true }).stdout.trim()).toBe('inactive');
  });

  it('lab reset lb04:centos7: yum only, keepalived 1.3.5 from the el7 repository; reset wipes the host', () => {
    const missing = fullLab().rpms.el7Missing;
    if (missing) {
      // without the vendored source the variant is refused, saying why (never a CentOS 7 host with 2.2.7)
      expect(() => labReset('lb04:centos7')).toThrow(/source missing/);
      return;
    }
    const started = (h: string) => inHost(h, 'ps -o lstart= -p 1').stdout.trim(); // when its init started
    const lb01Started = started('lb01');
    const t0 = Date.now();
    labReset('lb04:centos7');
    const resetMs = Date.now() - t0;
    expect(variantOf('lb04')).toBe('centos7');
    expect(inHost('lb04', '. /etc/os-release; echo $ID $VERSION_ID').stdout.trim()).toBe('centos 7');
    expect(inHost('lb04', 'command -v yum').stdout.trim()).toBe('/usr/bin/yum');
    expect(inHost('lb04', which('dnf dnf-3 apt-get dpkg-query')).stdout.trim()).toBe('');
    expect(inHost('lb04', 'yum -q list available keepalived').stdout).toMatch(/^keepalived\.x86_64 +1\.3\.5-19\.el7 /m);
    inHost('lb04', 'yum install -y keepalived');
    expect(inHost('lb04', 'keepalived --version 2>&1 | head -1').stdout).toMatch(/Keepalived v1\.3\.5\b/);
    expect(inHost('lb04', 'rpm -q keepalived').stdout.trim()).toBe('keepalived-1.3.5-19.el7.x86_64');
    // the same host again, as Rocky without any repository: same host key (strict ssh), nothing installed
    labReset('lb04:rocky-norepo');
    const ssh = labSsh('root', 'lb04', '. /etc/os-release; echo $ID; ls /etc/yum.repos.d; rpm -q keepalived; true');
    expect(ssh.stderr).not.toMatch(/WARNING|Permanently added/);
    expect(ssh.stdout.trim().split('\n')).toEqual(['rocky', 'package keepalived is not installed']);
    expect(inHost('lb04', 'dnf install -y keepalived', { allowFail: true }).status).not.toBe(0);
    // the offline way: the el9 RPM file pushed over SSH and installed with rpm, as on RHEL (no Debian warning)
    const { users, rpms } = fullLab();
    const push = 'cat >/tmp/keepalived.rpm && sudo -n rpm -i /tmp/keepalived.rpm && rpm -q keepalived';
    const offline = labSsh(users.sudo, 'lb04', push, { input: readFileSync(rpms.el9.keepalived) });
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stdout.trim()).toBe('keepalived-2.2.7-1.el9.x86_64');
    expect(offline.stderr).not.toMatch(/Alien|warning/i);
    // left as a fresh CentOS 7 host; the hosts the other files use are untouched
    labReset('lb04:centos7');
    expect(inHost('lb04', 'rpm -q keepalived', { allowFail: true }).stdout).toContain('not installed');
    expect(resetMs).toBeLessThan(30_000);
    expect(started('lb01')).toBe(lb01Started);
  });
});
