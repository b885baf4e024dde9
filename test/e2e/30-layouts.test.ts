/**
 * The layout matrix: the guides' own layouts, and others that are not the default, each on freshly reset lab hosts.
 * Every entry: a fresh `init`, a re-run with 0 changes, `verify-failover --json` (every scenario, or those the
 * layout's point is about) exiting 0 with every scenario ok and restored, every service that ran before running
 * again, and `status` healthy. Then a pair that cannot recover: the run stops before the next fault, exits 1 and
 * names what is left.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../src/commands/verify-failover.js';
import {
  addr,
  answersFile,
  cli,
  fullLab,
  inHost,
  expectPassed,
  json,
  lab,
  labAnswers,
  labReset,
  vipHolders,
  type LabAnswers,
} from '../helpers/lab.js';

const VIP = (n = 100) => `${lab().prefix}.${n}`;
const upstream = () => ({ sync: false, upstream: { backends: [`${addr('web01')}:80`, `${addr('web02')}:80`] } });

interface Entry {
  /** what each LB runs before the test (keepalived, nginx) */
  services: Record<string, string[]>;
  report: VerifyReport;
}

/** every LB of the default lab fresh again (an earlier layout's keepalived must not hold a VIP: a refusal) */
const freshLbs = () => labReset('lb01', 'lb02', 'lb03');

/**
 * fresh hosts, init, a re-run with 0 changes, verify-failover (`scenarios`, default all), services and status
 * afterwards
 */
async function layout(hosts: string[], a: LabAnswers, env: NodeJS.ProcessEnv = {}, scenarios = 'all'): Promise<Entry> {
  freshLbs();
  const file = answersFile(a);
  const init = await cli(['init', '--answers', file, '--yes', '--json'], { env });
  expect(init.code, init.stderr).toBe(0);
  expect(json.init(init).ok).toBe(true);
  const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
  expect(again.code, again.stderr).toBe(0);
  expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual(
    a.nodes.map((n) => [n.name ?? n.host, 0, []]),
  );
  const services = Object.fromEntries(
    hosts.map((h) => [h, inHost(h, 'systemctl is-active keepalived nginx', { allowFail: true }).stdout.split('\n')]),
  );
  const v = await cli(['verify-failover', '--answers', file, '--scenario', scenarios, '--json'], {
    env,
    timeoutMs: 900_000,
  });
  const report = json.verify(v);
  expect(v.code, `${v.stderr}\n${v.stdout}`).toBe(0);
  expect(report.ok).toBe(true);
  expect(report.stopped).toBeNull();
  for (const s of report.scenarios) {
    expectPassed(s);
    if (s.gapMs !== null) expect(s.gapMs, `${s.instance} ${s.name}`).toBeLessThanOrEqual(s.maxGapMs);
  }
  for (const h of hosts) {
    expect(inHost(h, 'systemctl is-active keepalived nginx', { allowFail: true }).stdout.split('\n')).toEqual(
      services[h],
    );
  }
  const st = await cli(['status', '--answers', file, '--json'], { env });
  expect(st.code, st.stderr).toBe(0);
  expect(json.status(st).ok).toBe(true);
  return { services, report };
}

describe('layout matrix (each on freshly reset hosts)', () => {
  it("the guides' 000: nopreempt, their check script (restart nginx, else stop keepalived), every 5 s", async () => {
    // two Debian hosts: the guides' nginx sync from lb01 (the lab's load balancer for web01/web02) to lb03
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 150 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      healthCheck: { mode: 'restart-then-stop', interval: 5 },
      nginx: { sync: true, syncFrom: 'lb01' },
    });
    a.instances[0] = { ...a.instances[0], virtualRouterId: 50, preempt: false };
    const { report } = await layout(['lb01', 'lb03'], a);
    const nginx = report.scenarios.find((s) => s.name === 'nginx')!;
    // the check script stopped keepalived on the old master; the run restored it (the old outage is gone)
    expect(nginx.left).toEqual([]);
    // nopreempt: the node whose keepalived started first holds the VIP (init starts both at once), so the scenario
    // ran on either; the VIP went to the other one and stayed there
    expect(nginx.masterAfter).toBe(nginx.masterBefore === 'lb01' ? 'lb03' : 'lb01');
    expect(inHost('lb03', 'cat /etc/nginx/sites-available/default').stdout).toContain('upstream web');
    const tree = (h: string) => inHost(h, 'cd /etc/nginx && find . -type f -exec sha256sum {} + | sort -k2').stdout;
    expect(tree('lb03')).toBe(tree('lb01'));
    // nopreempt: each scenario on whoever holds the VIP then, so both nodes were failed over from
    expect(new Set(report.scenarios.map((s) => s.masterBefore))).toEqual(new Set(['lb01', 'lb03']));
  });

  it("the guides' 000, the old bug: their script stops keepalived in the nginx scenario; restored", async () => {
    // the same pair as above is still up: only the nginx scenario, with the restore log
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 150 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      healthCheck: { mode: 'restart-then-stop', interval: 5 },
      nginx: { sync: true, syncFrom: 'lb01' },
    });
    a.instances[0] = { ...a.instances[0], virtualRouterId: 50, preempt: false };
    const v = await cli(['verify-failover', '--answers', answersFile(a), '--scenario', 'nginx', '--json', '-v']);
    expect(v.code, v.stderr).toBe(0);
    const s = json.verify(v).scenarios[0];
    expect(s.restoreLog).toContain(`${s.masterBefore}: systemctl start keepalived`);
    expect(inHost(s.masterBefore, 'systemctl is-active keepalived nginx').stdout.split('\n')).toEqual([
      'active',
      'active',
      '',
    ]);
  });

  it("the guides' 004: active-active, their timing (interval 2, fall 3, weight -20), each on its master", async () => {
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 110 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      healthCheck: { mode: 'weight', interval: 2, fall: 3, rise: 1, weight: -20, url: 'http://127.0.0.1/' },
      nginx: { sync: true, syncFrom: 'lb01' },
    });
    a.instances.push({
      name: 'VI_2',
      virtualRouterId: 52,
      vips: [`${VIP(101)}/24`],
      master: 'lb03',
      authPass: 'lab5678',
    });
    // what is this layout's own: the nginx failure at the guides' check timing, and a master lost at their VRRP
    // timers, on each VIP's master (keepalived stopped, the link lost and the planned switchover are measured on
    // the default pair in 20-verify-failover and on the layouts below)
    const { report } = await layout(['lb01', 'lb03'], a, {}, 'nginx,crash');
    expect(report.scenarios.map((s) => [s.instance, s.name, s.masterBefore])).toEqual([
      ['VI_1', 'nginx', 'lb01'],
      ['VI_1', 'crash', 'lb01'],
      ['VI_2', 'nginx', 'lb03'],
      ['VI_2', 'crash', 'lb03'],
    ]);
    // the nginx failover takes the check's 6 s plus the backup's master-down timer: within the computed bound
    for (const s of report.scenarios.filter((x) => x.name === 'nginx')) {
      expect(s.expectedMaxMs).toBeGreaterThan(9000);
      expect(s.gapMs).toBeGreaterThan(4000);
      expect(s.gapMs).toBeLessThanOrEqual(s.expectedMaxMs + 500);
    }
  });

  it('three nodes (a, b, c: not the hostnames), unicast, fast profile, firewalld open on the Rocky host', async () => {
    const a = labAnswers({
      nodes: [
        { name: 'a', host: addr('lb01'), interface: lab().iface, priority: 150 },
        { name: 'b', host: addr('lb02'), interface: lab().iface, priority: 120 },
        { name: 'c', host: addr('lb03'), interface: lab().iface, priority: 90 },
      ],
      profile: 'fast',
      system: { selinux: 'disable', firewall: 'open', multicast: true },
      nginx: upstream(),
    });
    a.instances[0] = { name: 'VI_1', virtualRouterId: 61, vips: [`${VIP()}/24`], master: 'a', unicast: true };
    const { report } = await layout(['lb01', 'lb02', 'lb03'], a);
    expect(inHost('lb02', 'systemctl is-active firewalld').stdout.trim()).toBe('active');
    // answers carry the hostname (X-LB: lb02): attributed to node b, so clients count as served through b
    for (const s of report.scenarios) expect(['b', 'c']).toContain(s.masterAfter);
  });

  it('sudo users: ops without a password (reached through ~/.ssh/config with ProxyJump), opspw with one', async () => {
    const l = fullLab();
    const dir = mkdtempSync(join(tmpdir(), 'sshcfg-'));
    const cfgFile = join(dir, 'config');
    writeFileSync(
      cfgFile,
      `Host lb01-via-client\n  HostName ${addr('lb01')}\n  User ${l.users.sudo}\n  ProxyJump root@${addr('client')}\n`,
    );
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: 'lb01-via-client', interface: l.iface, priority: 110, address: addr('lb01') },
        { name: 'lb03', host: addr('lb03'), user: l.users.sudoPassword, interface: l.iface, priority: 100 },
      ],
      nginx: upstream(),
      // what is tested here is the path (jump host, sudo with and without a password), not the timers: the fast
      // profile's short ones keep the five scenarios quick
      profile: 'fast',
    });
    a.ssh = { ...a.ssh, configFile: cfgFile, passwordEnv: 'HA_E2E_SUDO' };
    const env = { HA_E2E_SUDO: l.users.password };
    // through the jump host and sudo: a unit masked and unmasked (nginx), and the master's link lost (its SSH
    // connection drops: the restore reconnects through the jump host, sudo again)
    const { report } = await layout(['lb01', 'lb03'], a, env, 'nginx,link');
    expect(report.scenarios.map((s) => s.name)).toEqual(['nginx', 'link']);
    // rollback works the same way: through the jump host, with sudo
    const rb = await cli(['rollback', '--answers', answersFile(a), '--yes'], { env });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/removed \/etc\/keepalived\/keepalived\.conf \(did not exist before\)/);
    expect(inHost('lb03', 'systemctl is-active keepalived', { allowFail: true }).stdout.trim()).toBe('inactive');
    // the password reached no output and none of the run logs (every remote command is logged)
    for (const x of [rb.stdout, rb.stderr]) expect(x).not.toContain(l.users.password);
    const logDir = join(tmpdir(), 'ha-setup-e2e-logs');
    const logs = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8'));
    expect(logs.length).toBeGreaterThan(0);
    for (const text of logs) expect(text).not.toContain(l.users.password);
  });

  it("a sync group (the guides' vrrp_sync_group): two VIPs move together; operator's snippets included", async () => {
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 110 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      syncGroups: [{ name: 'G_WEB', instances: ['VI_1', 'VI_2'] }],
      keepalived: { includeDir: '/etc/keepalived/conf.d' },
      nginx: upstream(),
      // the group moving as one is tested here, not the timers (the guides' layouts above keep theirs)
      profile: 'fast',
    });
    a.instances.push({
      name: 'VI_2',
      virtualRouterId: 52,
      vips: [`${VIP(101)}/24`],
      master: 'lb01',
      authPass: 'lab5678',
    });
    // the group as one: a stop (priority-0 adverts) and a master lost (the group's timers)
    const { report } = await layout(['lb01', 'lb03'], a, {}, 'keepalived,link');
    expect(report.scenarios.map((s) => s.name)).toEqual(['keepalived', 'link']);
    for (const s of report.scenarios) {
      expect(s.instance).toBe('G_WEB');
      expect(s.vips).toEqual([VIP(), VIP(101)]);
      expect(s.groupMoved).toBe(true);
    }
    expect(inHost('lb01', 'ls /etc/keepalived/conf.d').stdout.trim()).toBe('00-ha-setup.conf');
    expect(vipHolders(VIP(101), ['lb01', 'lb03'])).toEqual(['lb01']);
  });
});

describe('a pair that cannot recover', () => {
  it('keepalived cannot start again on the old master: no next fault, exit 1, what is left named', async () => {
    // the sync-group pair above is healthy; break lb01's keepalived for its next start (it keeps running now)
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 110 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      nginx: upstream(),
    });
    freshLbs();
    const file = answersFile(a);
    expect((await cli(['init', '--answers', file, '--yes'])).code).toBe(0);
    inHost(
      'lb01',
      'printf "[Service]\\nExecStartPre=/bin/false\\n" > /etc/systemd/system/keepalived.service.d/zz-broken.conf && ' +
        'systemctl daemon-reload',
    );
    try {
      const v = await cli(['verify-failover', '--answers', file, '--scenario', 'keepalived,crash,link', '--json']);
      expect(v.code).toBe(1);
      const r = json.verify(v);
      expect(r.scenarios.map((s) => s.name)).toEqual(['keepalived']); // crash and link were never injected
      expect(r.scenarios[0].restored).toBe(false);
      expect(r.stopped?.reason).toMatch(/the pair did not come back as it was after VI_1 keepalived/);
      expect(r.stopped?.left).toContain('lb01: keepalived was active, enabled, now activating, enabled');
      expect(r.stopped?.fix.join('\n')).toMatch(
        /ssh root@\S+ 'systemctl reset-failed keepalived && systemctl start keepalived'/,
      );
      expect(v.stderr).toMatch(/stopped: the pair did not come back as it was/);
      // the backup took over and was left alone: still running, holding the VIP
      expect(inHost('lb03', 'systemctl is-active keepalived').stdout.trim()).toBe('active');
      expect(vipHolders(VIP(), ['lb01', 'lb03'])).toEqual(['lb03']);
    } finally {
      inHost(
        'lb01',
        'rm -f /etc/systemd/system/keepalived.service.d/zz-broken.conf; systemctl daemon-reload; ' +
          'systemctl reset-failed keepalived; systemctl start keepalived',
      );
    }
  });
});
