/**
 * Pairs as people run them, beyond the guides (issue 26): a dual-stack VIP (an IPv4 instance and its IPv6 twin in
 * one sync group) with an instance on a second interface; a weight-driven pair (master: auto, equal priorities, the
 * check's weight decides: the Kubernetes API style) set up by init; and the same kind of pair built by hand as the
 * kubeadm guides do (names that differ between the nodes, an IPv6 twin), imported and taken over with 0 failed
 * requests through each VIP, every VIP left on the node that held it; and an older dual-stack pair whose IPv6 VIP is
 * an excluded address of its IPv4 instance, taken over the same way. VIPs from .170 and ids from 81: 60-takeover's
 * hand-built pair (ids 71/72, VIPs .140/.141) may still run on lb04.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AnswersInput } from '../../src/answers/schema.js';
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
  mainPid,
  ROOT,
  vipHolders,
  type LabAnswers,
} from '../helpers/lab.js';
import { probed } from '../helpers/probe.js';

const V4 = (n: number) => `${lab().prefix}.${n}`;
const V6 = (n: number) => `${lab().prefix6}${n}`;
const SEG2 = (n: number) => `${lab().prefix2}.${n}`;
const sshArgs = () => ['--identity', fullLab().identityFile, '--known-hosts', fullLab().knownHostsFile];

/**
 * a client's view: the status code of a GET through a VIP (curl -g for an IPv6 literal), from the client host, or
 * for a VIP of the second segment (only the LBs and the controller are on it) from the controller
 */
function served(vip: string): string {
  const url = vip.includes(':') ? `http://[${vip}]/` : `http://${vip}/`;
  const args = ['-g', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', url];
  if (vip.startsWith(`${lab().prefix2}.`)) return spawnSync('curl', args, { encoding: 'utf8' }).stdout;
  return inHost(
    'client',
    `curl ${args
      .slice(0, -1)
      .map((a) => `'${a}'`)
      .join(' ')} '${url}'`,
    { allowFail: true },
  ).stdout;
}

async function waitServed(vip: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (served(vip) !== '200') {
    if (Date.now() > end) throw new Error(`${vip} is not served`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** init, and a re-run that changes and restarts nothing */
async function initTwice(a: LabAnswers, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const file = answersFile(a);
  const init = await cli(['init', '--answers', file, '--yes', '--json'], { env });
  expect(init.code, init.stderr).toBe(0);
  expect(json.init(init).ok).toBe(true);
  const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
  expect(again.code, again.stderr).toBe(0);
  expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual(
    a.nodes.map((n) => [n.name, 0, []]),
  );
  return file;
}

async function verify(file: string, scenarios: string, env: NodeJS.ProcessEnv = {}) {
  const v = await cli(['verify-failover', '--answers', file, '--scenario', scenarios, '--json'], {
    env,
    timeoutMs: 900_000,
  });
  expect(v.code, `${v.stderr}\n${v.stdout}`).toBe(0);
  const r = json.verify(v);
  expect(r.ok).toBe(true);
  for (const s of r.scenarios) {
    expectPassed(s);
    for (const p of s.perVip) expect(p.gapMs, `${s.instance} ${s.name} ${p.vip}`).toBeLessThanOrEqual(s.maxGapMs);
  }
  return r;
}

describe('a dual-stack VIP, and an instance on the second interface', () => {
  it('init, the IPv6 VIP added while the IPv4 one serves (0 failed); every VIP of both families served', async () => {
    labReset('lb01', 'lb02', 'lb03');
    const l = lab();
    const a = labAnswers();
    a.instances = [
      {
        name: 'VI_1',
        virtualRouterId: 81,
        vips: [`${V4(170)}/24`, `${V6(170)}/64`],
        master: 'lb01',
        authPass: 'lab1234',
      },
      {
        name: 'VI_2',
        virtualRouterId: 82,
        vips: [`${SEG2(170)}/24`],
        master: 'lb02',
        authPass: 'lab5678',
        interface: l.iface2,
      },
    ];
    // first the pair without the IPv6 VIP; then the VIP added under a probe through the IPv4 one: its twin and their
    // sync group are new, and keepalived's reload of a group it is MASTER of resets the holder (3.4 s without a VIP)
    const v4only = structuredClone(a);
    v4only.instances[0].vips = [`${V4(170)}/24`];
    const first = await cli(['init', '--answers', answersFile(v4only), '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    await waitServed(V4(170));
    let added: Awaited<ReturnType<typeof cli>> | null = null;
    const v4 = await probed(V4(170), async () => {
      added = await cli(['init', '--answers', answersFile(a), '--yes', '--json']);
    });
    console.log(`IPv6 VIP added: ${V4(170)} ${v4.failed} failed of ${v4.total}`);
    expect(added!.code, added!.stderr).toBe(0);
    expect(v4.failed, JSON.stringify(v4.failures.slice(0, 3))).toBe(0);
    const file = await initTwice(a);
    for (const vip of [V4(170), V6(170), SEG2(170)]) expect(served(vip), vip).toBe('200');
    expect(vipHolders(V4(170))).toEqual(['lb01']);
    expect(vipHolders(V6(170))).toEqual(['lb01']);
    expect(vipHolders(SEG2(170))).toEqual(['lb02']);
    // keepalived runs the twin: VI_1 (IPv4) and VI_1_v6 in one sync group on each node
    const conf = inHost('lb01', 'cat /etc/keepalived/keepalived.conf').stdout;
    expect(conf).toMatch(/vrrp_instance VI_1_v6 \{/);
    expect(conf).toMatch(/interface host1/);
    const st = await cli(['status', '--answers', file, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const status = json.status(st);
    expect(status.ok).toBe(true);
    expect(status.vips.map((v) => [v.vip, v.holders])).toEqual([
      [V4(170), ['lb01']],
      [V6(170), ['lb01']],
      [SEG2(170), ['lb02']],
    ]);
    // both families fail over together, each probed on its own, each within the bound; VI_2 on host1 too
    const r = await verify(file, 'keepalived,crash');
    const vi1 = r.scenarios.filter((s) => s.instance === 'VI_1');
    expect(vi1.map((s) => s.perVip.map((p) => p.vip))).toEqual([
      [V4(170), V6(170)],
      [V4(170), V6(170)],
    ]);
    for (const s of vi1) {
      expect(s.masterAfter).toBe('lb02');
      for (const p of s.perVip) expect(p.returnFailed).toBe(0);
    }
    expect(r.scenarios.filter((s) => s.instance === 'VI_2').map((s) => s.masterBefore)).toEqual(['lb02', 'lb02']);
    console.log(
      'dual stack: ' +
        vi1.map((s) => `${s.name} ${s.perVip.map((p) => `${p.vip} ${p.gapMs} ms`).join(', ')}`).join('; '),
    );
  });
});

describe('a weight-driven pair (master: auto, equal priorities, the check weight decides)', () => {
  it('init; faults move the VIP and it stays where it went (a backup does not preempt an equal master)', async () => {
    labReset('lb01', 'lb03');
    const a = labAnswers({
      nodes: [
        { name: 'lb01', host: addr('lb01'), interface: lab().iface, priority: 100 },
        { name: 'lb03', host: addr('lb03'), interface: lab().iface, priority: 100 },
      ],
      healthCheck: { mode: 'weight', interval: 1, fall: 2, rise: 1, weight: 2, url: 'http://127.0.0.1/' },
    });
    a.instances = [
      { name: 'k8s-api', virtualRouterId: 85, vips: [`${V4(175)}/24`], master: 'auto', authPass: 'k8sPass1' },
    ];
    const file = await initTwice(a);
    const holder = vipHolders(V4(175), ['lb01', 'lb03']);
    expect(holder).toHaveLength(1);
    const r = await verify(file, 'nginx,keepalived');
    for (const s of r.scenarios) {
      expect(s.return).toBeNull();
      expect(s.masterAfter).not.toBe(s.masterBefore);
      expect(s.holderAfterRestore).toEqual([s.masterAfter]);
    }
    const st = await cli(['status', '--answers', file, '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(json.status(st).ok).toBe(true);
  });
});

describe('a Kubernetes API pair built by hand (kubeadm style): imported and taken over', () => {
  const script = readFileSync(join(ROOT, 'test', 'e2e', 'handbuilt', 'k8s-api.sh'), 'utf8');
  const build = (host: string, name: string) =>
    inHost(
      host,
      `cat > /tmp/setup.sh <<'EOF_SETUP'\n${script}\nEOF_SETUP\n` +
        `sh /tmp/setup.sh '${name}' 88 '${V4(180)}/24' '${V6(180)}/64' '${addr('web01')}' '${addr('web02')}'`,
      { timeoutMs: 180_000 },
    );
  let file = '';
  const env: Record<string, string> = {};

  it('import: one instance of both families, master: auto, the names of each node', async () => {
    labReset('lb01', 'lb03');
    build('lb01', 'API_A');
    build('lb03', 'API_B');
    await waitServed(V4(180));
    await waitServed(V6(180));
    const dir = mkdtempSync(join(tmpdir(), 'ha-import-'));
    file = join(dir, 'ha.yaml');
    const r = await cli(['import', addr('lb01'), addr('lb03'), ...sshArgs(), '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    const a = parse(readFileSync(file, 'utf8')) as AnswersInput;
    expect(a.instances).toHaveLength(1);
    const inst = a.instances[0];
    expect(inst.master).toBe('auto');
    expect(inst.virtualRouterId).toBe(88);
    expect(inst.vips).toEqual([`${V4(180)}/24`, `${V6(180)}/64`]);
    expect(Object.values(inst.names ?? {}).sort()).toEqual(['API_A', 'API_B'].filter((n) => n !== inst.name));
    expect(a.nodes.map((n) => n.priority)).toEqual([100, 100]);
    expect(JSON.stringify(a)).not.toContain('k8sPass1');
    // the password is named by the variable it must come from, never written
    const passEnv = inst.authPassEnv!;
    expect(r.stderr).toContain(passEnv);
    env[passEnv] = 'k8sPass1';
  });

  it('init takes it over with 0 failed requests through both VIPs; each VIP stays where it was', async () => {
    const before = vipHolders(V4(180), ['lb01', 'lb03']);
    expect(before).toHaveLength(1);
    let init: Awaited<ReturnType<typeof cli>> | null = null;
    const v6 = await probed(V6(180), async () => {
      const v4 = await probed(V4(180), async () => {
        init = await cli(['init', '--answers', file, '--yes', '--json'], { env });
      });
      console.log(`takeover k8s-api: ${V4(180)} ${v4.failed} failed of ${v4.total}`);
      expect(v4.failed, JSON.stringify(v4.failures.slice(0, 3))).toBe(0);
    });
    console.log(`takeover k8s-api: ${V6(180)} ${v6.failed} failed of ${v6.total}`);
    expect(v6.failed, JSON.stringify(v6.failures.slice(0, 3))).toBe(0);
    expect(init!.code, init!.stderr).toBe(0);
    expect(json.init(init!).ok).toBe(true);
    expect(vipHolders(V4(180), ['lb01', 'lb03'])).toEqual(before);
    expect(vipHolders(V6(180), ['lb01', 'lb03'])).toEqual(before);
    // keepalived keeps each node's own instance name
    expect(inHost('lb03', 'cat /etc/keepalived/keepalived.conf').stdout).toMatch(/vrrp_instance API_B \{/);
  });

  it('verify-failover passes on it; a re-run changes and restarts nothing', async () => {
    await verify(file, 'keepalived', env);
    const pids = ['lb01', 'lb03'].map((h) => mainPid(h, 'keepalived'));
    const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual([
      ['lb01', 0, []],
      ['lb03', 0, []],
    ]);
    expect(['lb01', 'lb03'].map((h) => mainPid(h, 'keepalived'))).toEqual(pids);
  });

  it('switchover to lb01, maintenance on it and off: 0 failed requests; the VIPs stay on lb03 (a tie)', async () => {
    // lb01 is the first node: the one a tie used to be read as "the master" of (off then tried to move the VIPs
    // back to it by preemption, which keepalived never does for an equal priority, waited and failed)
    const runs: Awaited<ReturnType<typeof cli>>[] = [];
    const v6 = await probed(V6(180), async () => {
      const v4 = await probed(V4(180), async () => {
        runs.push(await cli(['switchover', '--to', 'lb01', '--answers', file, '--json'], { env }));
        for (const state of ['on', 'off'])
          runs.push(await cli(['maintenance', 'lb01', state, '--answers', file, '--json'], { env }));
      });
      expect(v4.failed, JSON.stringify(v4.failures.slice(0, 3))).toBe(0);
    });
    expect(v6.failed, JSON.stringify(v6.failures.slice(0, 3))).toBe(0);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(vipHolders(V4(180), ['lb01', 'lb03'])).toEqual(['lb03']);
    expect(vipHolders(V6(180), ['lb01', 'lb03'])).toEqual(['lb03']);
  });
});

describe('an older dual-stack pair: its IPv6 VIP in virtual_ipaddress_excluded, imported and taken over', () => {
  const script = readFileSync(join(ROOT, 'test', 'e2e', 'handbuilt', 'dual-excluded.sh'), 'utf8');
  const build = (host: string, prio: number) =>
    inHost(
      host,
      `cat > /tmp/setup.sh <<'EOF_SETUP'\n${script}\nEOF_SETUP\n` +
        `sh /tmp/setup.sh ${prio} 89 '${V4(185)}/24' '${V6(185)}/64' '${addr('web01')}' '${addr('web02')}'`,
      { timeoutMs: 180_000 },
    );

  it('the excluded IPv6 address becomes a VIP of the instance; init takes over with 0 failed on both', async () => {
    labReset('lb01', 'lb03');
    build('lb01', 150);
    build('lb03', 100);
    await waitServed(V4(185));
    await waitServed(V6(185));
    const dir = mkdtempSync(join(tmpdir(), 'ha-import-'));
    const file = join(dir, 'ha.yaml');
    const r = await cli(['import', addr('lb01'), addr('lb03'), ...sshArgs(), '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    // once "not managed any more": the takeover would have removed an address clients use
    expect(r.stderr).toMatch(/virtual_ipaddress_excluded: keepalived moves these addresses with the instance/);
    const a = parse(readFileSync(file, 'utf8')) as AnswersInput;
    expect(a.instances.map((i) => [i.master, i.vips])).toEqual([['lb01', [`${V4(185)}/24`, `${V6(185)}/64`]]]);
    // the program the check runs (/usr/bin/curl) is not read as the check: the URL is the command line's
    expect(a.healthCheck?.url).toBe('http://127.0.0.1/');
    const env = { [a.instances[0].authPassEnv!]: 'dsPass12' };
    // the holder's new sync group (the instance and its IPv6 twin) would be reset by a reload: it is restarted
    // with its VIPs handed over first
    let init: Awaited<ReturnType<typeof cli>> | null = null;
    const v6 = await probed(V6(185), async () => {
      const v4 = await probed(V4(185), async () => {
        init = await cli(['init', '--answers', file, '--yes', '--json'], { env });
      });
      console.log(`takeover excluded: ${V4(185)} ${v4.failed} failed of ${v4.total}`);
      expect(v4.failed, JSON.stringify(v4.failures.slice(0, 3))).toBe(0);
    });
    console.log(`takeover excluded: ${V6(185)} ${v6.failed} failed of ${v6.total}`);
    expect(v6.failed, JSON.stringify(v6.failures.slice(0, 3))).toBe(0);
    expect(init!.code, init!.stderr).toBe(0);
    expect(vipHolders(V4(185), ['lb01', 'lb03'])).toEqual(['lb01']);
    expect(vipHolders(V6(185), ['lb01', 'lb03'])).toEqual(['lb01']);
    const again = await cli(['init', '--answers', file, '--yes', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(json.init(again).nodes.map((n) => [n.node, n.changes, n.restarted])).toEqual([
      ['lb01', 0, []],
      ['lb03', 0, []],
    ]);
  });
});
