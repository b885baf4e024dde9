/**
 * Pairs built by hand from the guides' procedure (test/e2e/handbuilt/*.sh), taken over by ha-setup: `import` reads
 * what runs into answers (every line it does not carry over named with file:line), `init --yes` takes the pair over
 * while a probe through each VIP every 20 ms counts failed requests (expected 0), verify-failover passes on it, and a
 * re-run changes nothing. A latent nginx fault on the master (a broken configuration on disk, nginx still running on
 * the old one) makes verify-failover refuse before touching anything, and status and init show it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AnswersInput } from '../../src/answers/schema.js';
import { addr, cli, fullLab, inHost, json, lab, labReset, mainPid, ROOT, vipHolders } from '../helpers/lab.js';
import { probed } from '../helpers/probe.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const VIP = (n: number) => `${lab().prefix}.${n}`;
const script = (name: string) => readFileSync(join(ROOT, 'test', 'e2e', 'handbuilt', name), 'utf8');
const sshArgs = () => ['--identity', fullLab().identityFile, '--known-hosts', fullLab().knownHostsFile];

/** run a hand-built setup script on a host with its arguments */
function buildByHand(host: string, file: string, args: (string | number)[]): void {
  const quoted = args.map((a) => `'${String(a)}'`).join(' ');
  inHost(host, `cat > /tmp/setup.sh <<'EOF_SETUP'\n${script(file)}\nEOF_SETUP\nsh /tmp/setup.sh ${quoted}`, {
    timeoutMs: 180_000,
  });
}

async function waitServed(vip: string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const r = inHost('client', `curl -s -m 1 -o /dev/null -w '%{http_code}' http://${vip}/`, { allowFail: true });
    if (r.stdout === '200') return;
    if (Date.now() > end) throw new Error(`${vip} not served by the hand-built pair`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** import the pair: the answers file and stderr (every decision, kept and dropped line) */
async function importPair(hosts: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-import-'));
  const out = join(dir, 'ha.yaml');
  const r = await cli(['import', ...hosts.map(addr), ...sshArgs(), '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return { file: out, answers: parse(readFileSync(out, 'utf8')) as AnswersInput, stderr: r.stderr };
}

/** init under a probe through every VIP: each probe's failed count */
async function takeOver(file: string, vips: string[], env: NodeJS.ProcessEnv) {
  const probes = vips.map(() => ({ failed: 0, total: 0 }));
  const run = async (i: number): Promise<Awaited<ReturnType<typeof cli>>> => {
    if (i === vips.length) return cli(['init', '--answers', file, '--yes', '--json'], { env });
    const p = await probed(vips[i], () => run(i + 1));
    probes[i] = { failed: p.failed, total: p.total };
    return p.result;
  };
  const init = await run(0);
  return { init, probes };
}

describe('a Debian pair built by hand from guide 004 (preempt, chk_nginx.sh every 2 s, weight -5, upstream)', () => {
  const env = { HA_VI_1_PASS: '1111' };
  let file = '';
  it('import reads it back: names, VRID, /32 VIP, master, restart-then-stop check, email, upstream', async () => {
    labReset('lb01:debian', 'lb02:rocky', 'lb03:debian');
    buildByHand('lb01', 'guide-004.sh', ['MASTER', 110, 61, VIP(130), addr('web01'), addr('web02')]);
    buildByHand('lb03', 'guide-004.sh', ['BACKUP', 100, 61, VIP(130), addr('web01'), addr('web02')]);
    await waitServed(VIP(130));
    const imp = await importPair(['lb01', 'lb03']);
    file = imp.file;
    const a = imp.answers;
    // router_id LVS_DEVEL on both: the host names name the nodes
    expect(a.nodes.map((n) => [n.name, n.priority])).toEqual([
      ['lb01', 110],
      ['lb03', 100],
    ]);
    expect(a.instances[0]).toMatchObject({ virtualRouterId: 61, vips: [`${VIP(130)}/32`], master: 'lb01' });
    expect(a.instances[0].authPassEnv).toBe('HA_VI_1_PASS');
    expect(JSON.stringify(a)).not.toContain('1111');
    expect(a.healthCheck).toMatchObject({ mode: 'restart-then-stop', interval: 2 });
    expect(a.notify?.email).toEqual(['acassen@firewall.loc', 'failover@firewall.loc', 'sysadmin@firewall.loc']);
    expect(a.nginx?.upstream?.backends).toEqual([`${addr('web01')}:80`, `${addr('web02')}:80`]);
    // every line not carried over is named with host:file:line
    expect(imp.stderr).toMatch(/kept: lb01:\/etc\/keepalived\/keepalived\.conf:\d+: vrrp_skip_check_adv_addr/);
    expect(imp.stderr).toMatch(/dropped: lb01:\/etc\/nginx\/conf\.d\/web\.conf:\d+: .*weight=2/);
    expect(imp.stderr).toMatch(/HA_VI_1_PASS .*lb01:\/etc\/keepalived\/keepalived\.conf:\d+/);
  });

  it('init takes it over with 0 failed requests (probe every 20 ms through the VIP)', async () => {
    const { init, probes } = await takeOver(file, [VIP(130)], env);
    expect(init.code, init.stderr).toBe(0);
    const report = json.init(init);
    expect(report.ok).toBe(true);
    // keepalived's daemon options change (-S 4): both restart, one at a time, the master's VIP handed over first
    const lb01 = report.nodes.find((n) => n.node === 'lb01')!;
    expect(lb01.actions.some((x) => /^hand VI_1/.test(x))).toBe(true);
    console.log(`takeover guide 004: ${probes[0].failed} failed of ${probes[0].total} probes`);
    expect(probes[0].failed).toBe(0);
    expect(vipHolders(VIP(130), ['lb01', 'lb03'])).toEqual(['lb01']);
  });

  it('verify-failover passes on it; a re-run changes and restarts nothing', async () => {
    const v = await cli(['verify-failover', '--answers', file, '--scenario', 'keepalived,switchover', '--json'], {
      env,
      timeoutMs: 600_000,
    });
    expect(v.code, v.stderr).toBe(0);
    const r = json.verify(v);
    expect(r.scenarios.every((s) => s.ok && s.restored)).toBe(true);
    expect(r.scenarios.every((s) => (s.return?.failedProbes ?? 0) === 0)).toBe(true);
    const pids = ['lb01', 'lb03'].map((h) => mainPid(h, 'keepalived'));
    const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
    expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual([
      ['lb01', 0, []],
      ['lb03', 0, []],
    ]);
    expect(['lb01', 'lb03'].map((h) => mainPid(h, 'keepalived'))).toEqual(pids);
  });

  it('a latent nginx fault on the master: verify exits 2, nothing touched; status and init show it', async () => {
    inHost('lb01', 'echo "this is broken;" >> /etc/nginx/conf.d/web.conf');
    const before = mainPid('lb01', 'nginx');
    const v = await cli(['verify-failover', '--answers', file], { env });
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(
      /nginx on lb01 would not start again after a restart or reboot: .*unknown directive "this"/,
    );
    expect(mainPid('lb01', 'nginx')).toBe(before);
    expect(vipHolders(VIP(130), ['lb01', 'lb03'])).toEqual(['lb01']);
    const s = await cli(['status', '--answers', file], { env });
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/LATENT FAULT: nginx on lb01/);
    const i = await cli(['init', '--answers', file, '--yes'], { env });
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/nginx.syncFrom lb01 fails nginx -t|nginx on lb01 would not start again/);
    inHost('lb01', 'sed -i "/this is broken/d" /etc/nginx/conf.d/web.conf && nginx -t');
  });
});

describe('a RHEL-like active-active pair built by hand from guide 001 (notify scripts, an included conf.d)', () => {
  const env = { HA_VI_1_PASS: '1111', HA_VI_2_PASS: '2222' };
  let file = '';
  it('import reads both instances, the included one too, with their masters', async () => {
    labReset('lb01:debian', 'lb02:rocky', 'lb03:debian', 'lb04:rocky');
    const web = [addr('web01'), addr('web02')];
    buildByHand('lb02', 'guide-001.sh', ['MASTER', 110, 'BACKUP', 100, 71, 72, VIP(140), VIP(141), ...web]);
    buildByHand('lb04', 'guide-001.sh', ['BACKUP', 100, 'MASTER', 110, 71, 72, VIP(140), VIP(141), ...web]);
    await waitServed(VIP(140));
    await waitServed(VIP(141));
    const imp = await importPair(['lb02', 'lb04']);
    file = imp.file;
    const a = imp.answers;
    expect(a.instances.map((i) => [i.name, i.virtualRouterId, i.master])).toEqual([
      ['VI_1', 71, 'lb02'],
      ['VI_2', 72, 'lb04'],
    ]);
    expect(a.notify?.email).toEqual(['ops@example.com']);
    expect(a.logging?.facility).toBe('local0');
    expect(imp.stderr).toMatch(/keepalived\.conf\.d\/vi_2\.conf/);
  });

  it('init takes it over with 0 failed requests through both VIPs; a re-run changes nothing', async () => {
    const { init, probes } = await takeOver(file, [VIP(140), VIP(141)], env);
    expect(init.code, init.stderr).toBe(0);
    console.log(`takeover guide 001: ${probes.map((p) => `${p.failed} failed of ${p.total}`).join(', ')}`);
    expect(probes.map((p) => p.failed)).toEqual([0, 0]);
    expect(vipHolders(VIP(140), ['lb02', 'lb04'])).toEqual(['lb02']);
    expect(vipHolders(VIP(141), ['lb02', 'lb04'])).toEqual(['lb04']);
    const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
    expect(json.init(again).nodes.map((n) => n.changes)).toEqual([0, 0]);
  });
});
