/**
 * The RHEL family for real (the guides are written for CentOS 7): a Rocky-like pair (dnf, keepalived 2.2.7 in RHEL's
 * packaging), a CentOS-7-like pair (yum only, keepalived 1.3.5 built from the vendored source: no -t, no track_file),
 * and hosts with no repository at all, where ha-setup pushes the lab's RPM files and installs them. Each pair:
 * init on fresh hosts, a re-run with 0 changes and no restarts, verify-failover (all scenarios on CentOS 7; nginx and
 * crash, on RHEL's units, on Rocky), rollback. The mixed pair (Debian + Rocky-like) is the default lab pair of
 * 10-init and 20-verify-failover.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addr,
  answersFile,
  cli,
  etcSum,
  fullLab,
  inHost,
  json,
  lab,
  labAnswers,
  labReset,
  mainPid,
  vipHolders,
  type LabAnswers,
} from '../helpers/lab.js';

const pairAnswers = (a: string, b: string, vip: number, vrid: number, over: Partial<LabAnswers> = {}) => {
  const l = lab();
  const x = labAnswers({
    nodes: [
      { name: a, host: addr(a), interface: l.iface, priority: 110 },
      { name: b, host: addr(b), interface: l.iface, priority: 100 },
    ],
    nginx: { upstream: { backends: [`${addr('web01')}:80`, `${addr('web02')}:80`] } },
    system: { selinux: 'disable', firewall: 'open', multicast: true },
    ...over,
  });
  x.instances[0] = { ...x.instances[0], virtualRouterId: vrid, vips: [`${l.prefix}.${vip}/24`], master: a };
  return x;
};

/** fresh pair: init, a re-run with 0 changes and the same PIDs, verify-failover all, rollback */
async function rhelPair(a: string, b: string, answers: LabAnswers, vip: string, scenarios = 'all'): Promise<void> {
  const file = answersFile(answers);
  const init = await cli(['init', '--answers', file, '--yes', '--json']);
  expect(init.code, init.stderr).toBe(0);
  expect(vipHolders(vip, [a, b])).toEqual([a]);
  expect(inHost('client', `curl -s -m 3 http://${vip}/`).stdout).toMatch(/served by web0[12]/);
  const pids = [a, b].map((h) => [mainPid(h, 'keepalived'), mainPid(h, 'nginx')]);
  const again = await cli(['init', '--answers', file, '--yes', '--json']);
  expect(again.code, again.stderr).toBe(0);
  expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual([
    [a, 0, []],
    [b, 0, []],
  ]);
  expect([a, b].map((h) => [mainPid(h, 'keepalived'), mainPid(h, 'nginx')])).toEqual(pids);
  for (const h of [a, b]) {
    expect(inHost(h, 'cat /etc/sysconfig/keepalived').stdout).toMatch(/^KEEPALIVED_OPTIONS="-D -S 4"$/m);
    expect(Number(inHost(h, 'grep -c Keepalived /var/log/keepalived.log').stdout.trim())).toBeGreaterThan(0);
    expect(inHost(h, 'command -v apt-get dpkg-query || echo none').stdout.trim()).toBe('none');
  }
  const v = await cli(['verify-failover', '--answers', file, '--scenario', scenarios, '--json'], {
    timeoutMs: 600_000,
  });
  expect(v.code, `${v.stderr}\n${v.stdout}`).toBe(0);
  const report = json.verify(v);
  if (scenarios !== 'all') expect(report.scenarios.map((s) => s.name)).toEqual(scenarios.split(','));
  for (const s of report.scenarios) expect([s.name, s.ok, s.restored]).toEqual([s.name, true, true]);
  // rollback restores the previous files: a changed answer, then back
  const conf = inHost(a, 'cat /etc/keepalived/keepalived.conf').stdout;
  const changed = structuredClone(answers);
  changed.instances[0].advertInt = 2;
  expect((await cli(['init', '--answers', answersFile(changed), '--yes'])).code).toBe(0);
  expect(inHost(a, 'grep advert_int /etc/keepalived/keepalived.conf').stdout.trim()).toBe('advert_int 2');
  const rb = await cli(['rollback', '--answers', file, '--yes']);
  expect(rb.code, rb.stderr).toBe(0);
  expect(inHost(a, 'cat /etc/keepalived/keepalived.conf').stdout).toBe(conf);
  expect(inHost(a, 'systemctl is-active keepalived').stdout.trim()).toBe('active');
}

describe('RHEL-like pairs', () => {
  it('Rocky-like pair (lb02 + lb04): dnf from the lab repository, RHEL units and sysconfig', async () => {
    labReset('lb02', 'lb04:rocky');
    // the fast profile (VRRPv3, 0.1 s adverts): the RHEL userland is tested here, the standard timers elsewhere
    const a = pairAnswers('lb02', 'lb04', 102, 72, { profile: 'fast' });
    // RHEL's units: nginx masked and unmasked, keepalived killed and restarted by ha-setup's drop-in (the CentOS 7
    // pair below runs every scenario)
    await rhelPair('lb02', 'lb04', a, `${lab().prefix}.102`, 'nginx,crash');
    expect(inHost('lb04', 'rpm -q keepalived').stdout.trim()).toBe('keepalived-2.2.7-1.el9.x86_64');
    expect(inHost('lb04', 'systemctl cat keepalived').stdout).toMatch(/EnvironmentFile=-\/etc\/sysconfig\/keepalived/);
  });

  it('CentOS-7-like pair (lb04 + lb05): yum, keepalived 1.3.5 (validated by a real start; no track_file)', async () => {
    if (!fullLab().rpms.el7) throw new Error(`no CentOS 7 variant in this lab: ${fullLab().rpms.el7Missing}`);
    labReset('lb04:centos7', 'lb05:centos7');
    const a = pairAnswers('lb04', 'lb05', 104, 74, { profile: 'fast' });
    await rhelPair('lb04', 'lb05', a, `${lab().prefix}.104`);
    for (const h of ['lb04', 'lb05']) {
      expect(inHost(h, 'rpm -q keepalived').stdout.trim()).toBe('keepalived-1.3.5-19.el7.x86_64');
      expect(inHost(h, 'keepalived --version 2>&1 | head -1').stdout).toMatch(/^Keepalived v1\.3\.5/);
      expect(inHost(h, 'command -v dnf || echo none').stdout.trim()).toBe('none');
      // rendered for 1.3.5: VRRPv3 for the fast profile, but no track_file (1.3.5 has none)
      const conf = inHost(h, 'cat /etc/keepalived/keepalived.conf').stdout;
      expect(conf).toContain('vrrp_version 3');
      expect(conf).not.toContain('track_file');
      // every check ran 1.3.5 in a namespace of its own and left nothing behind: no process of it, and it wrote
      // nothing on the console (a console nobody reads blocked such a check, and left its VRRP child running)
      expect(inHost(h, "pgrep -f -- ' -n -l -D -R$' || echo none").stdout.trim()).toBe('none');
      expect(inHost(h, 'timeout 2 sh -c "echo > /dev/console" && echo writable').stdout.trim()).toBe('writable');
    }
    // the new file was checked by starting 1.3.5 on it (it has no -t, and answers -t with exit 0): the run log
    const logDir = join(tmpdir(), 'ha-setup-e2e-logs');
    const logs = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8'));
    const checks = logs
      .join('\n')
      .split('\n')
      .filter((l) => /validate-keepalived-1x .*\.ha-setup\.tmp\./.test(l));
    expect(checks.some((l) => l.includes('[lb04] $ bash -c'))).toBe(true);
  });

  it('no repository at all (rocky-norepo): package RPM files pushed and installed; a .deb refused', async () => {
    labReset('lb04:rocky-norepo', 'lb05:rocky-norepo');
    const rpms = fullLab().rpms.el9;
    expect(inHost('lb04', 'ls /etc/yum.repos.d | wc -l').stdout.trim()).toBe('0');
    // a Debian package for a RHEL-family host: refused before anything changes
    const deb = readdirSync('/var/cache/ha-setup-lab/repo').find((f) => /^keepalived_.*\.deb$/.test(f));
    expect(deb).toBeTruthy();
    const bad = pairAnswers('lb04', 'lb05', 104, 74, {
      packages: { keepalived: join('/var/cache/ha-setup-lab/repo', deb!), nginx: rpms.nginx },
    });
    const before = [etcSum('lb04'), etcSum('lb05')];
    const refused = await cli(['init', '--answers', answersFile(bad), '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /packages\.keepalived: keepalived_.*\.deb cannot be installed on lb04 \(Rocky Linux/,
    );
    expect(refused.stderr).toMatch(/nothing was changed/);
    expect([etcSum('lb04'), etcSum('lb05')]).toEqual(before);
    // the lab's RPM files: pushed over SSH, installed with the host's dnf, and the pair works
    const a = pairAnswers('lb04', 'lb05', 104, 74, { packages: { keepalived: rpms.keepalived, nginx: rpms.nginx } });
    const init = await cli(['init', '--answers', answersFile(a), '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    for (const h of ['lb04', 'lb05']) {
      expect(inHost(h, 'rpm -q keepalived nginx').stdout.trim().split('\n')).toEqual([
        'keepalived-2.2.7-1.el9.x86_64',
        'nginx-1.22.1-1.el9.x86_64',
      ]);
      expect(inHost(h, 'ls /var/lib/ha-setup/packages 2>/dev/null | wc -l').stdout.trim()).toBe('0');
    }
    const v = await cli(['verify-failover', '--answers', answersFile(a), '--scenario', 'keepalived,crash', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(json.verify(v).scenarios.every((s) => s.ok && s.restored)).toBe(true);
  });
});
