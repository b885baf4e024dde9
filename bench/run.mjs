#!/usr/bin/env node
// ha-setup benchmarks on the lab (root). Both write bench/results.json (each its own part) and bench/results.md.
//
//   npm run bench                N=5 runs per figure (BENCH_RUNS to change), about 15 minutes on 2 cores:
//     1. failover gap and split-brain time per scenario (nginx, keepalived, crash, link) for three configurations,
//        interleaved run by run so a noisy machine hits them alike: the guides' (script interval 2, fall 3, rise 2,
//        weight -5, advert 1, restart-then-stop script, no restart drop-in, no VIP release), ha-setup standard,
//        ha-setup fast;
//     2. init wall time on fresh hosts (keepalived installed from the lab repositories) and on an idempotent
//        re-run, for 1 pair and for 3 pairs in parallel, with the machine's busy CPU-seconds;
//     3. `ha-setup --help` start-up time, SSH round trips per host of a re-run.
//   npm run bench -- --stress    about 18 minutes: false failovers and split brains under a busy or lossy master
//     (bench/stress.mjs), and the four scenarios' gaps under the busy master.
//   npm run bench -- --ultra     the ultra profile's four scenarios (BENCH_RUNS runs, a probe every 10 ms).
//   npm run bench -- --stress-ultra   the stress benchmark with ultra in the guides' place (about 20 minutes).
//   npm run bench -- --help      the flags and environment variables; an unknown flag is refused (exit 2).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { renderResults } from './report.mjs';
import { CONDITIONS, readLab, SHORT_CONDITIONS, stressPlan } from './stress.mjs';
import { day2Bench, takeoverBench } from './day2.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// The command line, read before any lab work: --help prints the usage and exits 0, anything unknown exits 2. A new
// flag is one more entry here (its help, one string per line) and its use below, as FLAGS.has('--name').
const KNOWN_FLAGS = {
  '--takeover': [
    'instead of the main benchmark: failed requests (a probe every 20 ms through the VIP) while',
    'init takes over a pair built by hand from guide 004, standard and fast answers: takeover',
  ],
  '--day2': [
    'instead of the main benchmark: failed requests and the longest gap of each day-2 operation',
    '(manual stop, switchover, maintenance on/off, a restart, a package upgrade, node add/remove),',
    'both profiles: day2',
  ],
  '--init': ['instead of the main benchmark: only the init wall times (fresh and re-run, 1 and 3 pairs)'],
  '--ultra': [
    'instead of the main benchmark: the ultra profile (VRRPv3, 0.02 s adverts) on the same mixed pair,',
    'BENCH_RUNS runs of the four scenarios, a probe every 10 ms: failover.ultra',
  ],
  '--stress-ultra': [
    'the stress benchmark with ultra in the place of the guides (standard, fast and ultra side by',
    "side, as many hogs on the masters' CPU as before): stress.{standard,fast,ultra}, the guides' kept",
  ],
  '--stress': [
    'about 18 minutes, instead of the main benchmark: false failovers and split brains under a busy or',
    "lossy master (bench/stress.mjs), and the four scenarios' gaps under the busy master",
  ],
};
function usage() {
  const flags = { ...KNOWN_FLAGS, '--help, -h': ['this text (nothing else is done)'] };
  return `usage: node bench/run.mjs [FLAG...]   (npm run bench -- [FLAG...]; root, the lab)

Brings the lab up, measures, takes the lab down, and writes bench/results.json and bench/results.md. Without a
flag: the main benchmark, about 15 minutes on 2 cores: failover gap and split-brain time per scenario for the
guides' configuration, ha-setup standard and fast; init wall time on fresh hosts and on a re-run; --help start-up.

Flags:
${Object.entries(flags)
  .map(([flag, lines]) => `  ${flag.padEnd(14)}  ${lines.join(`\n${' '.repeat(16)}`)}`)
  .join('\n')}

Environment: BENCH_RUNS (runs per figure, default 5), BENCH_STRESS_WINDOW (seconds per stress condition, 200),
BENCH_STRESS_SHORT_WINDOW (seconds of the rt and loss25 stress conditions, 60), BENCH_STRESS_CONDITIONS (some
conditions only, comma-separated), BENCH_DAY2_RUNS (runs of each --takeover and --day2 figure, 2).
`;
}
const FLAGS = new Set();
for (const arg of process.argv.slice(2)) {
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(usage());
    process.exit(0);
  }
  if (!Object.hasOwn(KNOWN_FLAGS, arg)) {
    process.stderr.write(`bench: unknown ${arg.startsWith('-') ? 'flag' : 'argument'} ${arg} (bench/run.mjs --help)\n`);
    process.exit(2);
  }
  FLAGS.add(arg);
}
const STRESS_ULTRA = FLAGS.has('--stress-ultra');
const STRESS = FLAGS.has('--stress') || STRESS_ULTRA;
const ULTRA = FLAGS.has('--ultra');
if (ULTRA && FLAGS.size > 1) {
  process.stderr.write('bench: --ultra runs alone (give one flag per run)\n');
  process.exit(2);
}
const TAKEOVER = FLAGS.has('--takeover');
const DAY2 = FLAGS.has('--day2');
const INIT_ONLY = FLAGS.has('--init');
const DAY2_RUNS = Number(process.env.BENCH_DAY2_RUNS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WINDOW_S = Number(process.env.BENCH_STRESS_WINDOW ?? 200);
const SHORT_WINDOW_S = Number(process.env.BENCH_STRESS_SHORT_WINDOW ?? 60);
const SCEN = ['nginx', 'keepalived', 'crash', 'link'];
const t0 = Date.now();
const log = (m) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function lab(...args) {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')}: exit ${r.status}`);
  return r.stdout;
}
const inHost = (h, script) =>
  spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'exec', h, 'sh', '-c', script], { encoding: 'utf8' });

function cli(args) {
  const start = process.hrtime.bigint();
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'ha-setup'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', HA_SETUP_LOG_DIR: join(tmpdir(), 'ha-setup-bench-logs') },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => res({ code, out, err, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'ha-bench-'));
/** answers for a pair of lab LBs (`hosts`), one VIP, nginx kept per node with the load balancer written by ha-setup */
function answers(name, hosts, vipOctet, vrid, over = {}) {
  const st = readLab();
  const a = (n) => st.hosts.find((h) => h.name === n).address;
  const data = {
    nodes: hosts.map((h, i) => ({
      name: h,
      host: a(h),
      interface: st.iface,
      priority: over.priorities?.[i] ?? 110 - 10 * i,
    })),
    ssh: { identityFile: st.identityFile, knownHostsFile: st.knownHostsFile, useAgent: false },
    instances: [
      {
        name: 'VI_1',
        virtualRouterId: vrid,
        vips: [`${st.prefix}.${vipOctet}/24`],
        master: hosts[0],
        ...(over.instance ?? {}),
      },
    ],
    profile: over.profile ?? 'standard',
    healthCheck: over.healthCheck ?? { mode: 'weight', url: 'http://127.0.0.1/' },
    nginx: { sync: false, upstream: { backends: [`${a('web01')}:80`, `${a('web02')}:80`] } },
    system: { selinux: 'disable', firewall: 'disable', multicast: true },
    ...(over.failover ? { failover: over.failover } : {}),
  };
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, stringify(data));
  return p;
}

/** the guides' configuration: their check timing and script, none of ha-setup's crash handling or rt scheduling */
const GUIDES = {
  priorities: [101, 100],
  healthCheck: { mode: 'restart-then-stop', interval: 2, fall: 3, rise: 2, weight: -5 },
  failover: { restartOnCrash: false, releaseVipsOnExit: false, realtime: false },
};

/** busy CPU-seconds of the whole machine so far (every lab host, ha-setup, the kernel): /proc/stat */
function cpuBusyS() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** fresh lab hosts are still finishing their boot: wait (at most 20 s) until the machine is below 15 % busy */
async function waitQuiet() {
  const start = Date.now();
  while (Date.now() - start < 20_000) {
    const c0 = cpuBusyS();
    await sleep(500);
    if ((cpuBusyS() - c0) / (0.5 * cpus().length) < 0.15) return;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] : null;
};

async function mustInit(file, label) {
  const r = await cli(['init', '--answers', file, '--yes', '--json']);
  if (r.code !== 0) throw new Error(`init ${label} failed (${r.code}): ${r.err.slice(-1500)}`);
  return { ...r, report: JSON.parse(r.out) };
}

/** the pair healthy with the VIP on its master (a run that failed may have left something behind) */
async function waitHealthy(file, hosts) {
  for (let i = 0; i < 60; i++) {
    const s = await cli(['status', '--answers', file, '--json']);
    if (s.code === 0) {
      const st = JSON.parse(s.out);
      if (st.vips.every((v) => v.holders.length === 1 && v.holders[0] === v.master)) return;
    }
    for (const h of hosts) {
      inHost(
        h,
        'systemctl unmask --runtime nginx >/dev/null 2>&1; ' +
          'systemctl is-active --quiet nginx || systemctl start nginx; ' +
          'systemctl reset-failed keepalived 2>/dev/null; systemctl is-active --quiet keepalived || ' +
          'systemctl start keepalived; ip link set dev host0 up',
      );
    }
    await sleep(1000);
  }
  throw new Error(`${file}: the pair did not become healthy`);
}

/** verify-failover --json for some scenarios; null figures when it gave no JSON */
async function scenarios(file, names) {
  const r = await cli([
    'verify-failover',
    '--answers',
    file,
    '--scenario',
    names.join(','),
    '--json',
    '--max-gap',
    '30',
  ]);
  let out = null;
  try {
    out = JSON.parse(r.out).scenarios;
  } catch {
    log(`verify-failover gave no JSON (exit ${r.code}): ${r.err.slice(-400)}`);
  }
  return names.map((s) => {
    const res = out?.find((x) => x.name === s);
    return res
      ? {
          gapMs: res.gapMs,
          splitBrainMs: res.splitBrainMs,
          timeToHolderMs: res.timeToHolderMs,
          expectedMaxMs: res.expectedMaxMs,
          vipReturned: res.vipReturned,
          ok: res.ok,
          reasons: res.reasons,
        }
      : { gapMs: null, error: r.err.slice(-300) };
  });
}

function summarize(rs) {
  const gaps = rs.map((r) => r.gapMs).filter((g) => typeof g === 'number');
  const splits = rs.map((r) => r.splitBrainMs).filter((g) => typeof g === 'number');
  return {
    medianMs: median(gaps),
    p95Ms: p95(gaps),
    runs: gaps.length,
    splitBrainMs: median(splits),
    splitBrainP95Ms: p95(splits),
    expectedMaxMs: rs.find((r) => r.expectedMaxMs !== undefined)?.expectedMaxMs ?? null,
    vipReturned: rs.filter((r) => r.vipReturned).length,
    never: rs.length - gaps.length,
  };
}

const machine = {
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
  node: process.version,
  keepalived: (spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).stderr.match(/Keepalived v\S+/) ?? [
    '?',
  ])[0],
  date: new Date().toISOString(),
};
log(`machine ${JSON.stringify(machine)}`);
const resultsPath = join(ROOT, 'bench', 'results.json');
const previous = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
let results;

if (ULTRA) {
  // the ultra profile on the mixed pair of the main benchmark, its scenarios run by run; the others' figures kept
  const hosts = ['lb01', 'lb02'];
  const file = answers('ultra', hosts, 100, 50, { profile: 'ultra' });
  lab('up', '--pairs', '1');
  const raw = Object.fromEntries(SCEN.map((x) => [x, []]));
  for (let run = 1; run <= RUNS; run++) {
    await mustInit(file, 'ultra');
    await waitHealthy(file, hosts);
    const rs = await scenarios(file, SCEN);
    SCEN.forEach((x, k) => {
      raw[x].push(rs[k]);
      log(`run ${run} ultra ${x}: gap ${rs[k].gapMs ?? '?'} ms, split ${rs[k].splitBrainMs ?? '?'} ms`);
    });
    await waitHealthy(file, hosts);
  }
  lab('down');
  results = {
    ...previous,
    failover: {
      ...previous.failover,
      ultra: Object.fromEntries(Object.entries(raw).map(([x, rs]) => [x, summarize(rs)])),
    },
    raw: { ...previous.raw, ultra: raw },
    ultraMeta: { machine, runs: RUNS, probeIntervalMs: 10, wallS: (Date.now() - t0) / 1000 },
  };
} else if (TAKEOVER || DAY2) {
  results = { ...previous };
  if (TAKEOVER) results.takeover = { ...(await takeoverBench(ROOT, log, DAY2_RUNS)), machine };
  if (DAY2) results.day2 = { ...(await day2Bench(ROOT, log, DAY2_RUNS)), machine };
} else if (!STRESS) {
  // --help start-up
  const helpMs = [];
  for (let i = 0; i < 15; i++) helpMs.push((await cli(['--help'])).ms);
  log(`--help median ${median(helpMs).toFixed(0)} ms`);

  // init timings: RUNS rounds, each on fresh hosts (a new lab once its boot has settled): 3 pairs in parallel,
  // then their re-run; a new lab again: 1 pair, then its re-run. Busy CPU-seconds of the machine around each.
  const PAIRS = [
    ['lb01', 'lb02'],
    ['lb03', 'lb04'],
    ['lb05', 'lb06'],
  ];
  const s = {
    oneFresh: [],
    oneFreshCpu: [],
    oneRerun: [],
    oneRerunCpu: [],
    threeFresh: [],
    threeFreshCpu: [],
    threeRerun: [],
    threeRerunCpu: [],
  };
  let three = null;
  let roundTrips = null;
  async function timed(fn, times, cpuList) {
    const c0 = cpuBusyS();
    const rs = await fn();
    cpuList.push(cpuBusyS() - c0);
    times.push(Math.max(...rs.map((r) => r.ms)) / 1000);
    return rs;
  }
  for (let i = 1; i <= RUNS; i++) {
    lab('up', '--pairs', '3');
    three ??= PAIRS.map((p, k) => answers(`pair${k + 1}`, p, 101 + k, 51 + k));
    await waitQuiet();
    await timed(() => Promise.all(three.map((f, k) => mustInit(f, `pair${k + 1}`))), s.threeFresh, s.threeFreshCpu);
    await timed(() => Promise.all(three.map((f) => mustInit(f, 're-run'))), s.threeRerun, s.threeRerunCpu);
    lab('up', '--pairs', '3');
    await waitQuiet();
    await timed(async () => [await mustInit(three[0], 'pair1')], s.oneFresh, s.oneFreshCpu);
    const [r] = await timed(async () => [await mustInit(three[0], 're-run')], s.oneRerun, s.oneRerunCpu);
    roundTrips = r.report.nodes.map((n) => ({ node: n.node, roundTrips: n.roundTrips, changes: n.changes }));
    log(
      `init round ${i}: 3 pairs fresh ${s.threeFresh.at(-1).toFixed(1)} s, ` +
        `re-run ${s.threeRerun.at(-1).toFixed(2)} s; ` +
        `1 pair fresh ${s.oneFresh.at(-1).toFixed(1)} s, re-run ${s.oneRerun.at(-1).toFixed(2)} s`,
    );
  }

  // failover: the three configurations on the mixed pair lb01 (Debian) + lb02 (Rocky-like)
  const hosts = ['lb01', 'lb02'];
  const variants = {
    guides: answers('guides', hosts, 100, 50, GUIDES),
    standard: answers('standard', hosts, 100, 50),
    fast: answers('fast', hosts, 100, 50, { profile: 'fast' }),
  };
  if (!INIT_ONLY) lab('up', '--pairs', '1');
  const raw = Object.fromEntries(Object.keys(variants).map((v) => [v, Object.fromEntries(SCEN.map((x) => [x, []]))]));
  for (let run = 1; run <= (INIT_ONLY ? 0 : RUNS); run++) {
    for (const [v, file] of Object.entries(variants)) {
      await mustInit(file, v);
      await waitHealthy(file, hosts);
      // verify-failover restores the whole pair after each scenario (also what the guides' script stopped)
      const rs = await scenarios(file, SCEN);
      SCEN.forEach((x, k) => {
        raw[v][x].push(rs[k]);
        log(`run ${run} ${v} ${x}: gap ${rs[k].gapMs ?? '?'} ms, split ${rs[k].splitBrainMs ?? '?'} ms`);
      });
      await waitHealthy(file, hosts);
    }
  }
  lab('down');
  const failover = Object.fromEntries(
    Object.entries(raw).map(([v, byS]) => [
      v,
      Object.fromEntries(Object.entries(byS).map(([x, rs]) => [x, summarize(rs)])),
    ]),
  );
  const oneFreshS = median(s.oneFresh);
  const threeFreshS = median(s.threeFresh);
  results = {
    ...previous,
    machine,
    runs: RUNS,
    // ultra's figures come from --ultra: kept
    failover: INIT_ONLY
      ? previous.failover
      : { ...failover, ...(previous.failover?.ultra ? { ultra: previous.failover.ultra } : {}) },
    init: {
      freshPairS: oneFreshS,
      freshPairP95S: p95(s.oneFresh),
      rerunPairS: median(s.oneRerun),
      rerunPairP95S: p95(s.oneRerun),
      threePairsFreshS: threeFreshS,
      threePairsFreshP95S: p95(s.threeFresh),
      threePairsRerunS: median(s.threeRerun),
      threePairsRerunP95S: p95(s.threeRerun),
      samples: s,
      threePairsOverOne: threeFreshS / oneFreshS,
      threePairsOverOneRerun: median(s.threeRerun) / median(s.oneRerun),
      freshPairCpuS: median(s.oneFreshCpu),
      threePairsFreshCpuS: median(s.threeFreshCpu),
      rerunPairCpuS: median(s.oneRerunCpu),
      threePairsRerunCpuS: median(s.threeRerunCpu),
      // the least time three pairs can take on this machine's cores if nothing waited on anything
      cpuBoundThreePairsOverOne: Math.max(oneFreshS, median(s.threeFreshCpu) / cpus().length) / oneFreshS,
      cpuBoundThreePairsOverOneRerun:
        Math.max(median(s.oneRerun), median(s.threeRerunCpu) / cpus().length) / median(s.oneRerun),
    },
    helpMs: median(helpMs),
    roundTripsRerun: roundTrips,
    raw: INIT_ONLY ? previous.raw : { ...raw, ...(previous.raw?.ultra ? { ultra: previous.raw.ultra } : {}) },
    wallS: (Date.now() - t0) / 1000,
  };
  delete results.targets;
} else {
  // stress: three Debian pairs side by side (the even LBs of --pairs 3 are Rocky-like: made Debian here)
  lab('up', '--pairs', '3');
  lab('reset', 'lb02:debian', 'lb04:debian', 'lb06:debian');
  // --stress-ultra: ultra on the guides' hosts (three pairs at most in the lab), the same load on the masters' CPU
  const first = STRESS_ULTRA ? 'ultra' : 'guides';
  const pairs = {
    [first]: ['lb01', 'lb02'],
    standard: ['lb03', 'lb04'],
    fast: ['lb05', 'lb06'],
  };
  const st = readLab();
  const files = {
    [first]: STRESS_ULTRA
      ? answers('s-ultra', pairs.ultra, 101, 61, { profile: 'ultra' })
      : answers('s-guides', pairs.guides, 101, 61, GUIDES),
    standard: answers('s-standard', pairs.standard, 102, 62),
    fast: answers('s-fast', pairs.fast, 103, 63, { profile: 'fast' }),
  };
  const vips = { [first]: `${st.prefix}.101`, standard: `${st.prefix}.102`, fast: `${st.prefix}.103` };
  const all = Object.values(pairs).flat();
  const masters = Object.values(pairs).map((p) => p[0]);
  const backups = Object.values(pairs).map((p) => p[1]);
  await Promise.all(Object.entries(files).map(([v, f]) => mustInit(f, v)));
  const sp = stressPlan(ROOT);
  const stress = { [first]: {}, standard: {}, fast: {} };
  // BENCH_STRESS_CONDITIONS: some of them only (a comma-separated list), each merged into the figures kept
  const only = process.env.BENCH_STRESS_CONDITIONS?.split(',').filter(Boolean);
  const conditions = [...CONDITIONS, ...SHORT_CONDITIONS].filter((c) => !only || only.includes(c));
  for (const condition of conditions) {
    const windowS = SHORT_CONDITIONS.includes(condition) ? SHORT_WINDOW_S : WINDOW_S;
    for (const [v, f] of Object.entries(files)) await waitHealthy(f, pairs[v]);
    sp.apply(condition, masters, backups);
    const stop = sp.watch(all, Object.values(vips));
    const start = Date.now();
    log(`${condition}: ${windowS} s under stress`);
    await sleep(windowS * 1000);
    const end = Date.now();
    const events = stop();
    sp.clear(masters, backups);
    for (const [v, [m, b]] of Object.entries(pairs)) {
      const c = sp.count(events, vips[v], m, b, start, end);
      stress[v][condition] = {
        flaps: c.flaps,
        flapsPerHour: Math.round((c.flaps * 3600) / windowS),
        windowS,
        splitBrainMs: c.splitBrainMs,
      };
      log(`${condition} ${v}: ${c.flaps} false failovers, split brain ${c.splitBrainMs} ms`);
    }
  }
  // the four scenarios with the master's CPU saturated, one configuration after the other (--stress-ultra: ultra's)
  const underCpu = {};
  for (const [v, f] of Object.entries(files)) {
    if (STRESS_ULTRA && v !== 'ultra') continue;
    await waitHealthy(f, pairs[v]);
    sp.apply('cpu', [pairs[v][0]], [pairs[v][1]]);
    const rs = await scenarios(f, SCEN);
    sp.clear([pairs[v][0]], [pairs[v][1]]);
    underCpu[v] = Object.fromEntries(SCEN.map((x, k) => [x, summarize([rs[k]])]));
    log(`${v} under cpu: ${SCEN.map((x, k) => `${x} ${rs[k].gapMs} ms`).join(', ')}`);
  }
  lab('down');
  const meta = { machine, windowS: WINDOW_S, wallS: (Date.now() - t0) / 1000 };
  // --stress-ultra adds ultra's figures; standard and fast, measured beside it, are kept in its meta (the main stress
  // table stays one run's); a --stress keeps ultra's
  results = STRESS_ULTRA
    ? {
        ...previous,
        stress: { ...previous.stress, ultra: { ...previous.stress?.ultra, ...stress.ultra } },
        stressScenarios: { ...previous.stressScenarios, ultra: underCpu.ultra },
        stressUltraMeta: {
          ...meta,
          conditions,
          beside: { stress: { standard: stress.standard, fast: stress.fast } },
          ...(previous.stressUltraMeta ? { before: previous.stressUltraMeta } : {}),
        },
      }
    : {
        ...previous,
        stress: { ...stress, ...(previous.stress?.ultra ? { ultra: previous.stress.ultra } : {}) },
        stressScenarios: {
          ...underCpu,
          ...(previous.stressScenarios?.ultra ? { ultra: previous.stressScenarios.ultra } : {}),
        },
        stressMeta: meta,
      };
}

writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
const baselinePath = join(ROOT, 'bench', 'baseline.json');
const baseline = existsSync(baselinePath) ? JSON.parse(readFileSync(baselinePath, 'utf8')) : null;
writeFileSync(join(ROOT, 'bench', 'results.md'), renderResults(results, baseline));
log(`wrote bench/results.md and bench/results.json in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
