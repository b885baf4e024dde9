// The life of a pair before and after ha-setup built it, measured by what clients see: a probe through the VIP every
// 20 ms from the controller counts failed requests and the longest gap of each operation.
//
//   --takeover  a pair built by hand from guide 004 (test/e2e/handbuilt/guide-004.sh: keepalived from apt, the
//               guide's check script and upstream) on two Debian LBs, `ha-setup import`, then `init --yes`, with
//               standard and fast answers: takeover.<profile>.{failed, probes, gapMs, initS, runs}
//   --day2      on the mixed pair lb01 (Debian) + lb02 (Rocky-like), both profiles: the guides' manual way (stop
//               keepalived on the master, start it again), switchover, maintenance on and off, a change that
//               restarts keepalived, a keepalived package upgrade (the lab's one-release-later packages), a node
//               added and a node removed (lb03): day2.<profile>.<operation>.{failed, probes, gapMs}
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const PROBE_MS = 20;

export function day2Kit(ROOT) {
  const dir = mkdtempSync(join(tmpdir(), 'ha-bench-day2-'));
  const labJson = () => JSON.parse(readFileSync('/run/ha-setup-lab/lab.json', 'utf8'));
  const addr = (h) => labJson().hosts.find((x) => x.name === h).address;
  const lab = (...args) => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`lab ${args.join(' ')}: exit ${r.status}`);
  };
  const inHost = (h, script) => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'exec', h, 'sh', '-c', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${h}: ${script.slice(0, 80)}: exit ${r.status} ${r.stderr}`);
    return r.stdout;
  };
  // the same without blocking the event loop (the probe through the VIP runs in this process meanwhile)
  const inHostAsync = (h, script) =>
    new Promise((res, rej) => {
      const p = spawn('bash', [join(ROOT, 'scripts', 'lab'), 'exec', h, 'sh', '-c', script], { stdio: 'ignore' });
      p.on('close', (code) => (code === 0 ? res() : rej(new Error(`${h}: ${script.slice(0, 80)}: exit ${code}`))));
    });
  const cli = (args, env = {}) =>
    new Promise((res) => {
      const start = Date.now();
      const p = spawn(process.execPath, [join(ROOT, 'bin', 'ha-setup'), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', HA_SETUP_LOG_DIR: join(tmpdir(), 'ha-setup-bench-logs'), ...env },
      });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => res({ code, out, err, ms: Date.now() - start }));
    });
  const must = async (args, env) => {
    const r = await cli(args, env);
    if (r.code !== 0) throw new Error(`ha-setup ${args.slice(0, 3).join(' ')}: exit ${r.code}: ${r.err.slice(-800)}`);
    return r;
  };
  return { dir, labJson, addr, lab, inHost, inHostAsync, cli, must };
}

/** the longest run of failed probes: from the first failed one to the next served one (ms) */
export function longestGap(samples) {
  let gap = 0;
  let start = null;
  for (const s of samples) {
    if (!s.ok) start ??= s.t;
    else if (start !== null) {
      gap = Math.max(gap, s.t - start);
      start = null;
    }
  }
  return start !== null ? Math.max(gap, (samples.at(-1)?.t ?? start) - start + PROBE_MS) : gap;
}

async function measured(ROOT, vip, fn) {
  const { startLocalProbe } = await import(join(ROOT, 'dist', 'failover', 'probe.js'));
  const probe = startLocalProbe(`http://${vip}/`, PROBE_MS, 1000);
  await new Promise((r) => setTimeout(r, 500));
  const t = Date.now();
  try {
    await fn();
  } finally {
    await new Promise((r) => setTimeout(r, 1000));
    await probe.stop();
  }
  const s = probe.samples;
  return {
    failed: s.filter((x) => !x.ok).length,
    probes: s.length,
    gapMs: longestGap(s),
    seconds: (Date.now() - t) / 1000,
  };
}

/** guide 004's pair by hand on lb01 + lb03 (VRID 61), imported; the answers file for `profile` */
async function handBuilt(ROOT, k, profile, vip) {
  k.lab('reset', 'lb01:debian', 'lb02:rocky', 'lb03:debian');
  const script = readFileSync(join(ROOT, 'test', 'e2e', 'handbuilt', 'guide-004.sh'), 'utf8');
  for (const [h, st, p] of [
    ['lb01', 'MASTER', 110],
    ['lb03', 'BACKUP', 100],
  ])
    k.inHost(
      h,
      `cat > /tmp/s.sh <<'EOF_S'\n${script}\nEOF_S\n` +
        `sh /tmp/s.sh ${st} ${p} 61 ${vip} ${k.addr('web01')} ${k.addr('web02')}`,
    );
  for (let i = 0; i < 40; i++) {
    if (spawnSync('curl', ['-s', '-m', '1', '-o', '/dev/null', `http://${vip}/`]).status === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const l = k.labJson();
  const out = join(k.dir, `takeover-${profile}.yaml`);
  await k.must([
    'import',
    k.addr('lb01'),
    k.addr('lb03'),
    '--identity',
    l.identityFile,
    '--known-hosts',
    l.knownHostsFile,
    '--out',
    out,
  ]);
  const a = parse(readFileSync(out, 'utf8'));
  if (profile === 'fast') {
    a.profile = 'fast';
    for (const i of a.instances) delete i.advertInt;
  }
  writeFileSync(out, stringify(a));
  return out;
}

export async function takeoverBench(ROOT, log, runs) {
  const k = day2Kit(ROOT);
  k.lab('up', '--pairs', '2');
  const vip = `${k.labJson().prefix}.130`;
  const env = { HA_VI_1_PASS: '1111' };
  const out = {};
  for (const profile of ['standard', 'fast']) {
    const rs = [];
    for (let i = 1; i <= runs; i++) {
      const file = await handBuilt(ROOT, k, profile, vip);
      let initS = null;
      const m = await measured(ROOT, vip, async () => {
        const r = await k.must(['init', '--answers', file, '--yes'], env);
        initS = r.ms / 1000;
      });
      rs.push({ ...m, initS });
      log(
        `takeover ${profile} run ${i}: ${m.failed} failed of ${m.probes} (longest gap ${m.gapMs} ms), ` +
          `init ${initS.toFixed(1)} s`,
      );
    }
    out[profile] = {
      failed: rs.reduce((n, r) => n + r.failed, 0),
      probes: rs.reduce((n, r) => n + r.probes, 0),
      gapMs: Math.max(...rs.map((r) => r.gapMs)),
      initS: rs.map((r) => r.initS).sort((a, b) => a - b)[Math.floor(rs.length / 2)],
      runs: rs.length,
      samples: rs,
    };
  }
  k.lab('down');
  return out;
}

function pairAnswers(k, profile, over = {}) {
  const l = k.labJson();
  const nodes = (over.nodes ?? ['lb01', 'lb02']).map((h, i) => ({
    name: h,
    host: k.addr(h),
    interface: l.iface,
    priority: 110 - 10 * i,
  }));
  return {
    nodes,
    ssh: { identityFile: l.identityFile, knownHostsFile: l.knownHostsFile, useAgent: false },
    instances: [{ name: 'VI_1', virtualRouterId: 51, vips: [`${l.prefix}.100/24`], master: 'lb01' }],
    profile,
    healthCheck: { mode: 'weight', url: 'http://127.0.0.1/' },
    nginx: { sync: false, upstream: { backends: [`${k.addr('web01')}:80`, `${k.addr('web02')}:80`] } },
    ...(over.logging ? { logging: over.logging } : {}),
    ...(over.packages ? { packages: over.packages } : {}),
  };
}

/** the operations of day 2, each measured: name -> what it runs */
function operations(k, profile, write) {
  const base = write('base', pairAnswers(k, profile));
  return [
    [
      'manual',
      async () => {
        // the guides' way: stop keepalived on the master, start it again once the backup has the VIP
        await k.inHostAsync('lb01', 'systemctl stop keepalived; sleep 3; systemctl start keepalived; sleep 5');
      },
    ],
    ['switchover', () => k.must(['switchover', '--answers', base])],
    ['switchoverBack', () => k.must(['switchover', '--answers', base, '--to', 'lb01'])],
    ['maintenanceOn', () => k.must(['maintenance', 'lb01', 'on', '--answers', base])],
    ['maintenanceOff', () => k.must(['maintenance', 'lb01', 'off', '--answers', base])],
    [
      'restart',
      () =>
        k.must([
          'init',
          '--answers',
          write('restart', pairAnswers(k, profile, { logging: { facility: 'local5' } })),
          '--yes',
        ]),
    ],
    [
      'upgrade',
      () => {
        const next = k.labJson().next;
        return k.must([
          'init',
          '--answers',
          write(
            'upgrade',
            pairAnswers(k, profile, {
              logging: { facility: 'local5' },
              packages: { keepalived: [next.deb, next.rpm] },
            }),
          ),
          '--yes',
        ]);
      },
    ],
    [
      'nodeAdd',
      () =>
        k.must([
          'init',
          '--answers',
          write('add', pairAnswers(k, profile, { nodes: ['lb01', 'lb02', 'lb03'], logging: { facility: 'local5' } })),
          '--yes',
        ]),
    ],
    [
      'nodeRemove',
      () =>
        k.must([
          'init',
          '--answers',
          write('remove', pairAnswers(k, profile, { logging: { facility: 'local5' } })),
          '--yes',
        ]),
    ],
  ];
}

export async function day2Bench(ROOT, log, runs) {
  const k = day2Kit(ROOT);
  k.lab('up', '--pairs', '1');
  const vip = `${k.labJson().prefix}.100`;
  const out = {};
  for (const profile of ['standard', 'fast']) {
    const raw = {};
    for (let i = 1; i <= runs; i++) {
      k.lab('reset', 'lb01:debian', 'lb02:rocky', 'lb03:debian');
      const write = (name, a) => {
        const p = join(k.dir, `${profile}-${name}.yaml`);
        writeFileSync(p, stringify(a));
        return p;
      };
      const ops = operations(k, profile, write);
      await k.must(['init', '--answers', write('base', pairAnswers(k, profile)), '--yes']);
      for (const [name, fn] of ops) {
        const m = await measured(ROOT, vip, fn);
        (raw[name] ??= []).push(m);
        log(`day2 ${profile} run ${i} ${name}: ${m.failed} failed of ${m.probes}, longest gap ${m.gapMs} ms`);
      }
    }
    out[profile] = Object.fromEntries(
      Object.entries(raw).map(([name, rs]) => [
        name,
        {
          failed: rs.reduce((n, r) => n + r.failed, 0),
          probes: rs.reduce((n, r) => n + r.probes, 0),
          gapMs: Math.max(...rs.map((r) => r.gapMs)),
          runs: rs.length,
        },
      ]),
    );
  }
  k.lab('down');
  return out;
}
