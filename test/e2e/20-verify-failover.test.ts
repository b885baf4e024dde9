/**
 * verify-failover and status on the lab (issue 5's "done when"): every scenario moves the VIP and is restored,
 * an independent curl loop on the client host agrees with the reported gap, broken pairs are refused, a VIP that
 * cannot move is reported, Ctrl-C restores, and status catches a split brain made by hand.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { answersFile, cli, inHost, json, lab, labAnswers, ROOT, vipHolders } from '../helpers/lab.js';

let answers = '';
const VIP = () => `${lab().prefix}.100`;

async function healthy(): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const s = await cli(['status', '--answers', answers, '--json']);
    // settled: every instance back to MASTER/BACKUP (a node whose check just recovered leaves FAULT after `rise`)
    const settled = s.code === 0 && json.status(s).nodes.every((n) => n.instances.every((i) => i.state !== 'FAULT'));
    if (settled && vipHolders(VIP()).join() === 'lb01') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the pair did not become healthy');
}

/**
 * an independent client: curl every 50 ms from the client host (each in the background), for `seconds`; each sample
 * with the load balancer that answered (nginx's X-LB header)
 */
function clientLoop(seconds: number): { stop(): void; done: Promise<{ t: number; ok: boolean; lb: string }[]> } {
  inHost('client', 'rm -f /tmp/stop-client-loop');
  const script =
    `end=$(( $(date +%s) + ${seconds} )); ` +
    'while [ "$(date +%s)" -lt "$end" ] && [ ! -e /tmp/stop-client-loop ]; do ' +
    `( s=$(date +%s%3N); c=$(curl -s -o /dev/null --max-time 0.2 -w '%{http_code} %header{x-lb}' http://${VIP()}/); ` +
    'echo "$s $c" ) & sleep 0.05; done; wait';
  const p = spawn('bash', [join(ROOT, 'scripts', 'lab'), 'exec', 'client', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return {
    stop: () => void inHost('client', 'touch /tmp/stop-client-loop'),
    done: new Promise((res) =>
      p.on('close', () =>
        res(
          out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => {
              const [t, c, lb] = l.split(' ');
              return { t: Number(t), ok: Number(c) > 0 && Number(c) < 500, lb: lb ?? '' };
            })
            .sort((a, b) => a.t - b.t),
        ),
      ),
    ),
  };
}

/**
 * gap seen by the independent loop around a fault, as verify-failover defines it: first failure after it, to the
 * first success served by the new holder (an answer of the old master, in flight as nginx stopped, does not end it;
 * once, in a full run, it made this loop's gap 83 ms against 2355 ms); and the loop's widest spacing there (a request
 * every 50 ms from a shell: forks in a busy container stretch it, and the loop cannot place either end of the gap
 * closer than its spacing)
 */
function independentGap(
  samples: { t: number; ok: boolean; lb: string }[],
  faultAt: number,
  newHolder: string,
): { gap: number; spacing: number } {
  const after = samples.filter((s) => s.t >= faultAt - 200 && s.t <= faultAt + 20_000);
  const fail = after.find((s) => !s.ok);
  if (!fail) return { gap: 0, spacing: 0 };
  const back = after.find((s) => s.t > fail.t && s.ok && s.lb === newHolder);
  if (!back) return { gap: Infinity, spacing: 0 };
  const near = after.filter((s) => s.t >= fail.t - 500 && s.t <= back.t);
  const spacing = Math.max(0, ...near.slice(1).map((s, i) => s.t - near[i].t));
  return { gap: back.t - fail.t, spacing };
}

beforeAll(async () => {
  answers = answersFile(labAnswers());
  const r = await cli(['init', '--answers', answers, '--yes']);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  await healthy();
});

describe('verify-failover --scenario all', () => {
  it('every scenario moves the VIP and is restored; an independent client agrees on the gap', async () => {
    const loop = clientLoop(300);
    const r = await cli(['verify-failover', '--answers', answers, '--scenario', 'all', '--json']);
    loop.stop();
    const indep = await loop.done;
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = json.verify(r);
    expect(out.ok).toBe(true);
    expect(out.scenarios.map((s) => s.name)).toEqual(['nginx', 'keepalived', 'crash', 'link', 'switchover']);
    for (const s of out.scenarios) {
      expect(s, JSON.stringify(s)).toMatchObject({
        instance: 'VI_1',
        masterBefore: 'lb01',
        masterAfter: 'lb02',
        restored: true,
        vipReturned: true,
        ok: true,
      });
      expect(s.gapMs).toBeGreaterThanOrEqual(0);
      expect(s.totalProbes).toBeGreaterThan(20);
      const mine = independentGap(indep, s.faultAt, s.masterAfter ?? 'lb02');
      // 200 ms, and the independent loop's own resolution there (seen: 228 ms apart on a 2.1 s gap in a full run)
      expect(
        Math.abs(mine.gap - (s.gapMs ?? Infinity)),
        `${s.name}: reported ${s.gapMs} ms, independent ${mine.gap} ms (its samples up to ${mine.spacing} ms apart)`,
      ).toBeLessThanOrEqual(200 + mine.spacing);
    }
    // the terminal picture went to stderr
    expect(r.stderr).toMatch(/clients \|[#x ]+\|/);
    // the link scenario drops the master's SSH connection: the run took its host lock again, and left no holder
    // behind (neither the dead connection's nor its own)
    expect(r.stderr).not.toMatch(/lock could not be taken again/);
    await new Promise((res) => setTimeout(res, 1000));
    for (const h of ['lb01', 'lb02']) {
      expect(inHost(h, 'pgrep -af "ha-setup-loc[k]"', { allowFail: true }).stdout, h).toBe('');
    }
  });

  it('afterwards status shows the original master holding the VIP and all services up', async () => {
    const s = await cli(['status', '--answers', answers, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const st = json.status(s);
    expect(st.vips[0].holders).toEqual(['lb01']);
    expect(st.nodes.map((n) => [n.node, n.keepalived, n.nginx])).toEqual([
      ['lb01', 'active', 'active'],
      ['lb02', 'active', 'active'],
    ]);
    expect(st.nodes[0].instances).toEqual([{ name: 'VI_1', state: 'MASTER', effectivePriority: 110 }]);
    expect(st.nodes[1].instances).toEqual([{ name: 'VI_1', state: 'BACKUP', effectivePriority: 100 }]);
  });
});

describe('refusals and failures', () => {
  it('refuses in preflight when the backup is broken (keepalived stopped there)', async () => {
    inHost('lb02', 'systemctl stop keepalived');
    try {
      const r = await cli(['verify-failover', '--answers', answers, '--scenario', 'keepalived']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/preflight: the pair is not healthy/);
      expect(r.stderr).toMatch(/lb02: keepalived is inactive/);
      expect(inHost('lb01', 'systemctl is-active keepalived').stdout.trim()).toBe('active');
    } finally {
      inHost('lb02', 'systemctl start keepalived');
    }
    await healthy();
  });

  it(
    'when the VIP cannot serve (backup nginx down, forced), exits non-zero, says why, ' +
      'and still restores the master',
    async () => {
      inHost('lb02', 'systemctl mask --runtime --now nginx');
      try {
        // from a settled state: lb02's check has failed `fall` times and put it in FAULT (the test's snapshot)
        for (let i = 0; i < 40; i++) {
          const st = json.status(await cli(['status', '--answers', answers, '--json']));
          if (st.nodes[1].instances[0]?.state === 'FAULT') break;
          await new Promise((res) => setTimeout(res, 250));
        }
        const r = await cli(['verify-failover', '--answers', answers, '--scenario', 'keepalived', '--force', '--json']);
        expect(r.code, r.stderr).toBe(1);
        const s = json.verify(r).scenarios[0];
        expect(s.ok).toBe(false);
        expect(s.restored).toBe(true);
        expect(s.reasons.join()).toMatch(/clients were not served again/);
        expect(r.stderr).toMatch(/VI_1 keepalived: .*clients were not served again/);
        expect(s.reasons.join()).toMatch(/the VIP left lb01 but no other node took it/);
        expect(inHost('lb01', 'systemctl is-active keepalived').stdout.trim()).toBe('active');
      } finally {
        inHost('lb02', 'systemctl unmask --runtime nginx; systemctl start nginx');
      }
      await healthy();
    },
  );

  it('SIGINT in the middle of a scenario restores: nginx and keepalived running on all nodes', async () => {
    const p = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'ha-setup'), 'verify-failover', '--answers', answers, '--scenario', 'nginx'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let err = '';
    const closed = new Promise<number>((res) => p.on('close', (c) => res(c ?? -1)));
    try {
      // (a run that ends before the fault fails here with its output, not by waiting forever)
      await new Promise<void>((res, rej) => {
        p.stderr.on('data', (d) => {
          err += d;
          if (/nginx stopped and masked .* on lb01/.test(err)) res();
        });
        p.on('close', (c) => rej(new Error(`verify-failover ended (exit ${c}) before the fault:\n${err}`)));
      });
      // the progress line comes just before the fault is injected: wait until nginx is really down
      for (
        let i = 0;
        i < 100 && inHost('lb01', 'systemctl is-active nginx', { allowFail: true }).stdout.trim() === 'active';
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(inHost('lb01', 'systemctl is-active nginx', { allowFail: true }).stdout.trim()).not.toBe('active');
      p.kill('SIGINT');
    } finally {
      setTimeout(() => p.kill('SIGKILL'), 60_000).unref();
    }
    const code = await closed;
    expect(code).toBe(130);
    expect(err).toMatch(/SIGINT: stopping the test and restoring/);
    for (const h of ['lb01', 'lb02']) {
      expect(inHost(h, 'systemctl is-active nginx keepalived').stdout.trim().split('\n')).toEqual(['active', 'active']);
      expect(inHost(h, 'systemctl is-enabled nginx').stdout.trim()).toBe('enabled');
    }
    await healthy();
  });
});

describe('status', () => {
  it('detects a split brain made by hand (VIP added on the backup)', async () => {
    await healthy();
    inHost('lb02', `ip addr add ${VIP()}/24 dev host0`);
    try {
      const r = await cli(['status', '--answers', answers]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/SPLIT BRAIN: VI_1 .* is on lb01 and lb02 at once/);
    } finally {
      inHost('lb02', `ip addr del ${VIP()}/24 dev host0`);
    }
    const ok = await cli(['status', '--answers', answers]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/VI_1 .*: lb01 {2}\(expected: master lb01\)/);
  });
});
