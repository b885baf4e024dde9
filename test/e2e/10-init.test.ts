/**
 * `ha-setup init` against real lab hosts (sshd, systemd, apt, rpm/dnf, nginx, rsyslog, firewalld) on the mixed pair:
 * lb01 is Debian, lb02 is Rocky-like (its packages come from the lab's RPM repository through dnf). The tests run in
 * order on one lab: refusals on fresh hosts first, then the real run, then re-runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/apply/manifest.js';
import {
  addr,
  answersFile,
  cli,
  etcSum,
  inHost,
  json,
  lab,
  labAnswers,
  mainPid,
  vipHolders,
  ROOT,
  type LabAnswers,
} from '../helpers/lab.js';

const VIP = () => `${lab().prefix}.100`;
const VIP2 = () => `${lab().prefix}.101`;

describe('refusals leave every host unchanged (nothing is touched before all preconditions pass)', () => {
  const cases: [string, () => LabAnswers, RegExp][] = [
    [
      'unknown interface',
      () => {
        const a = labAnswers();
        a.nodes[1].interface = 'eth7';
        return a;
      },
      /lb02 .*interface eth7 not found \(has: .*host0/,
    ],
    [
      'host key changed',
      () => {
        const d = mkdtempSync(join(tmpdir(), 'kh-'));
        const kh = join(d, 'known_hosts');
        const other = readFileSync(`${lab().identityFile}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
        const lines = readFileSync(lab().knownHostsFile, 'utf8')
          .split('\n')
          .map((l) => (l.startsWith(`${addr('lb01')},`) ? `${addr('lb01')} ${other}` : l));
        writeFileSync(kh, lines.join('\n'));
        const a = labAnswers();
        a.ssh.knownHostsFile = kh;
        return a;
      },
      /lb01 .*HOST KEY CHANGED: known_hosts has ssh-ed25519 SHA256:.*the host now presents ssh-ed25519 SHA256:/,
    ],
    [
      'unreachable host',
      () => {
        const a = labAnswers();
        a.nodes[1].host = `${lab().prefix}.99`;
        a.ssh.connectTimeout = 3;
        return a;
      },
      /lb02 .*unreachable: no SSH answer within 3 s|lb02 .*(EHOSTUNREACH|ECONNREFUSED|cannot connect)/,
    ],
    [
      'wrong key',
      () => {
        const d = mkdtempSync(join(tmpdir(), 'key-'));
        spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'k')]);
        const a = labAnswers();
        a.ssh.identityFile = join(d, 'k');
        return a;
      },
      /authentication failed for user root/,
    ],
    [
      "the guides' nginx sync between a Debian and a RHEL-family host",
      () => {
        const a = labAnswers();
        a.nginx = { sync: true, syncFrom: 'lb01' };
        return a;
      },
      /lb02 .*nginx\.syncFrom lb01 runs Debian GNU\/Linux 12 .* and lb02 runs Rocky Linux 9\.4 .*nginx layouts differ/,
    ],
    [
      'VIP that is already a host address on the network (web01)',
      () => {
        const a = labAnswers();
        a.instances[0].vips = [`${addr('web01')}/24`];
        return a;
      },
      /VIP .* already answers on the network from [0-9a-f:]+, which is none of the load balancers/,
    ],
  ];

  for (const [name, make, re] of cases) {
    it(`${name}: exit 2, clear message, /etc unchanged on both LBs`, async () => {
      const before = { lb01: etcSum('lb01'), lb02: etcSum('lb02') };
      const r = await cli(['init', '--answers', answersFile(await make()), '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect({ lb01: etcSum('lb01'), lb02: etcSum('lb02') }).toEqual(before);
    });
  }
});

describe('init on fresh hosts', () => {
  it('keepalived is not installed before', () => {
    for (const h of ['lb01', 'lb02'])
      expect(inHost(h, 'command -v keepalived || echo none').stdout.trim()).toBe('none');
    expect(inHost('lb02', 'systemctl is-active firewalld').stdout.trim()).toBe('active');
    expect(inHost('lb02', 'grep ^SELINUX= /etc/selinux/config').stdout.trim()).toBe('SELINUX=enforcing');
  });

  it('exits 0; the VIP is only on lb01 and answers through it from the client host', async () => {
    // firewall: open keeps lb02's firewalld running: VRRP must pass its rules or the pair splits
    const r = await cli([
      'init',
      '--answers',
      answersFile(labAnswers({ system: { selinux: 'disable', firewall: 'open', multicast: true } })),
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = json.init(r);
    expect(report.ok).toBe(true);
    expect(report.nodes.map((n) => [n.node, n.ok, n.holds])).toEqual([
      ['lb01', true, [VIP()]],
      ['lb02', true, []],
    ]);
    expect(report.nodes.every((n) => n.changes > 5)).toBe(true);
    expect(r.stdout).not.toContain('lab1234');
    expect(vipHolders(VIP())).toEqual(['lb01']);
    const page = inHost('client', `curl -s -m 3 -D - http://${VIP()}/`).stdout;
    expect(page).toMatch(/X-LB: lb01/);
    expect(page).toMatch(/served by web0[12]/);
  });

  it('keepalived was installed from the lab repositories (apt on lb01, dnf on lb02), and logs to its own file', () => {
    expect(inHost('lb01', "dpkg-query -W -f='${Status}' keepalived").stdout).toBe('install ok installed');
    expect(inHost('lb01', 'cat /etc/default/keepalived').stdout).toContain('DAEMON_ARGS="-D -S 4"');
    expect(inHost('lb02', 'rpm -q keepalived nginx').stdout.trim().split('\n')).toEqual([
      'keepalived-2.2.7-1.el9.x86_64',
      'nginx-1.22.1-1.el9.x86_64',
    ]);
    expect(inHost('lb02', 'cat /etc/sysconfig/keepalived').stdout).toMatch(/^KEEPALIVED_OPTIONS="-D -S 4"$/m);
    for (const h of ['lb01', 'lb02']) {
      expect(inHost(h, 'grep -c Keepalived /var/log/keepalived.log').stdout.trim()).not.toBe('0');
    }
  });

  it('SELinux config, firewall rules and multicast are as asked on the host that has them', () => {
    expect(inHost('lb02', 'grep ^SELINUX= /etc/selinux/config').stdout.trim()).toBe('SELINUX=disabled');
    expect(inHost('lb02', 'systemctl is-active firewalld').stdout.trim()).toBe('active');
    expect(inHost('lb02', 'firewall-cmd --list-protocols').stdout).toMatch(/\bvrrp\b/);
    expect(inHost('lb02', 'firewall-cmd --list-services').stdout).toMatch(/\bhttp\b.*\bhttps\b|\bhttps\b.*\bhttp\b/);
    for (const h of ['lb01', 'lb02']) expect(inHost(h, 'ip -o link show host0').stdout).toMatch(/MULTICAST/);
  });

  it('the same load balancer on both (nginx.upstream), each on its own nginx; both backends answer', async () => {
    const file = '/etc/nginx/conf.d/ha-setup-upstream.conf';
    expect(inHost('lb02', `cat ${file}`).stdout).toBe(inHost('lb01', `cat ${file}`).stdout);
    expect(inHost('lb02', `cat ${file}`).stdout).toContain(`server ${addr('web02')}:80 max_fails=3`);
    expect(inHost('lb02', 'grep -c "^user nginx;" /etc/nginx/nginx.conf').stdout.trim()).toBe('1');
    expect(inHost('lb01', 'grep -c "^user www-data;" /etc/nginx/nginx.conf').stdout.trim()).toBe('1');
    const pages = new Set<string>();
    for (let i = 0; i < 6; i++) {
      pages.add(/served by (web0[12])/.exec(inHost('client', `curl -s -m 3 http://${VIP()}/`).stdout)?.[1] ?? '');
    }
    expect([...pages].sort()).toEqual(['web01', 'web02']);
    const s = await cli(['status', '--answers', answersFile(labAnswers()), '--json']);
    expect(json.status(s).nodes.map((n) => [n.node, n.backends.map((b) => b.status)])).toEqual([
      ['lb01', [200, 200]],
      ['lb02', [200, 200]],
    ]);
  });

  it('every changed file has a backup and a manifest on the host', () => {
    const run = inHost('lb02', 'ls -1 /var/backups/ha-setup | tail -1').stdout.trim();
    const m = inHost('lb02', `cat /var/backups/ha-setup/${run}/manifest.jsonl`)
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ManifestEntry);
    expect(m[0].type).toBe('start');
    expect(m.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(
      expect.arrayContaining(['/etc/selinux/config', '/etc/keepalived/keepalived.conf']),
    );
    expect(inHost('lb02', `grep ^SELINUX= /var/backups/ha-setup/${run}/files/etc/selinux/config`).stdout.trim()).toBe(
      'SELINUX=enforcing',
    );
  });
});

describe('idempotence', () => {
  it('a second run reports 0 changes and restarts nothing (keepalived and nginx PIDs unchanged)', async () => {
    const pids = ['lb01', 'lb02'].map((h) => [mainPid(h, 'keepalived'), mainPid(h, 'nginx'), mainPid(h, 'rsyslog')]);
    const r = await cli([
      'init',
      '--answers',
      answersFile(labAnswers({ system: { selinux: 'disable', firewall: 'open', multicast: true } })),
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = json.init(r);
    expect(report.nodes.map((n) => n.changes)).toEqual([0, 0]);
    expect(report.nodes.map((n) => n.restarted)).toEqual([[], []]);
    expect(['lb01', 'lb02'].map((h) => [mainPid(h, 'keepalived'), mainPid(h, 'nginx'), mainPid(h, 'rsyslog')])).toEqual(
      pids,
    );
  });

  it(
    '--dry-run against the hosts shows 0 changes; ' + 'a changed answer shows a real diff and changes nothing',
    async () => {
      const same = await cli([
        'init',
        '--answers',
        answersFile(labAnswers({ system: { selinux: 'disable', firewall: 'open', multicast: true } })),
        '--dry-run',
        '--json',
      ]);
      expect(same.code, same.stderr).toBe(0);
      expect(json.plan(same).nodes.map((n) => n.changes)).toEqual([0, 0]);
      const before = etcSum('lb01');
      const a = labAnswers({ system: { selinux: 'disable', firewall: 'open', multicast: true } });
      a.instances[0].advertInt = 2;
      const diff = await cli(['init', '--answers', answersFile(a), '--dry-run']);
      expect(diff.code, diff.stderr).toBe(0);
      expect(diff.stdout).toMatch(/^-\s+advert_int 1$/m);
      expect(diff.stdout).toMatch(/^\+\s+advert_int 2$/m);
      expect(diff.stdout).not.toContain('lab1234');
      expect(etcSum('lb01')).toBe(before);
    },
  );
});

describe('firewall: disable stops firewalld (the guides)', () => {
  it('only the firewall step changes on lb02', async () => {
    const r = await cli(['init', '--answers', answersFile(labAnswers()), '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json.init(r).nodes.map((n) => n.changes)).toEqual([0, 1]);
    expect(inHost('lb02', 'systemctl is-active firewalld', { allowFail: true }).stdout.trim()).toBe('inactive');
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });
});

describe('interrupted run', () => {
  it(
    'killing the SSH connection during the keepalived config step leaves a complete old or new file; ' +
      'the next run completes',
    async () => {
      const oldConf = inHost('lb01', 'cat /etc/keepalived/keepalived.conf').stdout;
      const a = labAnswers();
      a.instances[0].advertInt = 2;
      const file = answersFile(a);
      // on lb01: as soon as the new config's temp file appears, kill every sshd session (the controller's connection)
      const watcher = spawn(
        'bash',
        [
          join(ROOT, 'scripts', 'lab'),
          'exec',
          'lb01',
          'sh',
          '-c',
          'for i in $(seq 1 3000); do if ls /etc/keepalived/.ha-setup.tmp.* >/dev/null 2>&1; then ' +
            'pkill -KILL -f "[s]shd: root@"; echo killed; exit 0; fi; sleep 0.01; done; echo timeout',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let watched = '';
      watcher.stdout.on('data', (d) => (watched += d));
      const watcherDone = new Promise((res) => watcher.on('close', res));
      const r = await cli(['init', '--answers', file, '--yes']);
      await watcherDone;
      expect(watched.trim()).toBe('killed');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/lb01.*(connection|closed)/i);
      const now = inHost('lb01', 'cat /etc/keepalived/keepalived.conf').stdout;
      const isOld = now === oldConf;
      const isNew = now === oldConf.replace('advert_int 1', 'advert_int 2');
      expect(isOld || isNew, now).toBe(true);
      const again = await cli(['init', '--answers', file, '--yes', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(inHost('lb01', 'grep advert_int /etc/keepalived/keepalived.conf').stdout.trim()).toBe('advert_int 2');
      expect(inHost('lb01', 'ls /etc/keepalived/').stdout).not.toMatch(/\.ha-setup\.tmp/);
      expect(vipHolders(VIP())).toEqual(['lb01']);
    },
  );
});

describe("active-active (the guides' VI_1 + VI_2)", () => {
  it('each VIP on its own master; then back to the single pair', async () => {
    const a = labAnswers();
    a.instances.push({
      name: 'VI_2',
      virtualRouterId: 52,
      vips: [`${VIP2()}/24`],
      master: 'lb02',
      authPass: 'lab5678',
      preempt: true,
    });
    const r = await cli(['init', '--answers', answersFile(a), '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(vipHolders(VIP())).toEqual(['lb01']);
    expect(vipHolders(VIP2())).toEqual(['lb02']);
    expect(inHost('client', `curl -s -m 3 -D - http://${VIP2()}/`).stdout).toMatch(/X-LB: lb02/);
    const back = await cli(['init', '--answers', answersFile(labAnswers()), '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(vipHolders(VIP2())).toEqual([]);
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });
});

describe('rollback', () => {
  it('restores the previous keepalived.conf and brings keepalived back on it', async () => {
    const before = inHost('lb01', 'cat /etc/keepalived/keepalived.conf').stdout;
    const a = labAnswers();
    a.instances[0].advertInt = 3;
    expect((await cli(['init', '--answers', answersFile(a), '--yes'])).code).toBe(0);
    expect(inHost('lb01', 'grep advert_int /etc/keepalived/keepalived.conf').stdout.trim()).toBe('advert_int 3');
    const r = await cli(['rollback', '--answers', answersFile(a), '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/restored \/etc\/keepalived\/keepalived\.conf/);
    expect(inHost('lb01', 'cat /etc/keepalived/keepalived.conf').stdout).toBe(before);
    expect(inHost('lb01', 'systemctl is-active keepalived').stdout.trim()).toBe('active');
    const again = await cli(['init', '--answers', answersFile(labAnswers()), '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json.init(again).nodes.map((n) => n.changes)).toEqual([0, 0]);
    await new Promise((res) => setTimeout(res, 4000));
    expect(vipHolders(VIP())).toEqual(['lb01']);
  });
});

describe('nginx.upstream taken out of the answers', () => {
  const file = '/etc/nginx/conf.d/ha-setup-upstream.conf';
  it('removes the managed file on both (backed up, nginx -t); rollback restores it; re-runs: no change', async () => {
    const before = inHost('lb01', `cat ${file}`).stdout;
    const a = labAnswers();
    delete (a.nginx as { upstream?: unknown }).upstream;
    const r = await cli(['init', '--answers', answersFile(a), '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // the removal, then nginx reloaded without the file
    expect(json.init(r).nodes.map((n) => [n.changes, n.restarted])).toEqual([
      [1, ['reload-or-restart nginx']],
      [1, ['reload-or-restart nginx']],
    ]);
    for (const h of ['lb01', 'lb02']) {
      expect(inHost(h, `test -e ${file}`, { allowFail: true }).status).not.toBe(0);
      expect(inHost(h, 'nginx -t', { allowFail: true }).status).toBe(0);
      expect(inHost(h, 'systemctl is-active nginx').stdout.trim()).toBe('active');
      const run = inHost(h, 'ls -1 /var/backups/ha-setup | tail -1').stdout.trim();
      expect(inHost(h, `cat /var/backups/ha-setup/${run}/files${file}`).stdout).toBe(before);
    }
    const again = await cli(['init', '--answers', answersFile(a), '--yes', '--json']);
    expect(json.init(again).nodes.map((n) => n.changes)).toEqual([0, 0]);
    const rb = await cli(['rollback', '--answers', answersFile(labAnswers()), '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    for (const h of ['lb01', 'lb02']) expect(inHost(h, `cat ${file}`).stdout).toBe(before);
    expect(inHost('client', `curl -s -m 3 http://${VIP()}/`).stdout).toMatch(/served by web0[12]/);
    const back = await cli(['init', '--answers', answersFile(labAnswers()), '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(json.init(back).nodes.map((n) => n.changes)).toEqual([0, 0]);
  });
});
