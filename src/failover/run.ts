/**
 * verify-failover: for each target (an instance, or a sync group whose instances move together) and scenario, break
 * the current master on purpose while a probe measures what clients see and a watcher records who holds the VIPs;
 * then ALWAYS restore: first what the scenario broke, then every difference from the snapshot the run took of the
 * whole pair before its first fault. The master comes back demoted (a backup); the VIPs are then given back to it as
 * a planned move, measured apart from the fault. The scenario counts as restored only when the pair matches its
 * snapshot again; the caller stops before the next fault otherwise.
 */
import { hostForUrl } from '../answers/ip.js';
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { vipsOf, type Target } from '../answers/targets.js';
import { returnTo, setFlag } from '../pair/handover.js';
import { returnsHome } from '../pair/health.js';
import type { Session } from '../ssh/session.js';
import type { Conn } from '../conn.js';
import type { PairStatus } from '../status/collect.js';
import { expectedBounds, linkDownMs, marginMs, settleTimeoutMs, type BoundFeatures } from './bounds.js';
import { identify, type NodeIdentity } from '../observe/identify.js';
import { measure, holdersAt } from './measure.js';
import { restorePair, reconnect } from './restore.js';
import { startLocalProbe, startRemoteProbe, type Probe, type ProbeSample } from '../observe/probe.js';
import { scenarios } from './scenarios.js';
import type { HolderPoint, Measured, ReturnMeasure, ScenarioName, VipFigures } from './types.js';
import { holderTimeline, startWatch, type Watch } from '../observe/holder-stream.js';
import { verdict } from './verdict.js';
import type { Waiting } from '../spinner.js';

export { targetsOf, type Target } from '../answers/targets.js';
export { restorePair } from './restore.js';

export interface ScenarioResult {
  name: ScenarioName;
  /** the instance, or the sync group's name */
  instance: string;
  group: string | null;
  /** every VIP watched (all of a sync group's, both address families); `vip` is the first, the figures' own */
  vips: string[];
  vip: string;
  /** each VIP probed on its own (every VIP of the target, unless --probe-url names one URL): its figures */
  perVip: VipFigures[];
  masterBefore: string;
  masterAfter: string | null;
  timeToHolderMs: number | null;
  gapMs: number | null;
  /** the worst case the configuration implies (bounds.ts), and the limit used: --max-gap, or the bound + margin */
  expectedMaxMs: number;
  maxGapMs: number;
  bound: string;
  failedProbes: number;
  totalProbes: number;
  splitBrainMs: number;
  /** epoch ms (controller clock): when the fault was injected, the first failed and first good-again probe */
  faultAt: number;
  firstFailAt: number | null;
  recoveredAt: number | null;
  /** the whole pair matched its snapshot again after the restore */
  restored: boolean;
  restoreLog: string[];
  /** what still differs from the snapshot (empty when restored) */
  left: string[];
  vipReturned: boolean;
  /** the return of the VIPs to the master (preempt), measured apart from the fault; null when there was none */
  return: ReturnMeasure | null;
  /** where the VIP is after the restore (and the settle time) */
  holderAfterRestore: string[];
  /** sync groups: every VIP of the group moved to the same node */
  groupMoved: boolean | null;
  /** what happened that is not a failure, e.g. a crashed keepalived back before any failover was needed */
  notes: string[];
  ok: boolean;
  reasons: string[];
  /** raw data for the timeline picture, times relative to the start of the scenario (ms) */
  timeline: {
    start: number;
    faultAt: number;
    movedAt: number | null;
    restoredAt: number | null;
    returnedAt: number | null;
    end: number;
    probes: ProbeSample[];
    holders: HolderPoint[];
  };
}

export interface RunEnv {
  cfg: Config;
  session: Session;
  log: (line: string) => void;
  progress: (line: string) => void;
  /** one thing awaited (the VIP to move): a spinner on a terminal, plain lines otherwise */
  waiting?: (text: string) => Waiting;
  signal: AbortSignal;
  probeUrl?: string;
  probeFrom?: string;
  probeIntervalMs: number;
  /** --max-gap: overrides every scenario's bound + margin */
  maxGapMs?: number;
  /** the pair before the first fault */
  snapshot: PairStatus;
  ids: NodeIdentity[];
  features: BoundFeatures;
}

/** restores not yet done: the Ctrl-C handler runs (or prints) these */
export const pendingRestores = new Map<string, { describe: string; manual: string; run: () => Promise<string[]> }>();

export class Aborted extends Error {}

/** how long the crash scenario waits for a stale VIP to disappear before restoring by hand */
export const STALE_VIP_WAIT_MS = 5000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Aborted('interrupted'));
    const onAbort = () => {
      clearTimeout(t);
      reject(new Aborted('interrupted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function waitFor(cond: () => boolean, timeoutMs: number, signal: AbortSignal, stepMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(stepMs, signal);
  }
  return cond();
}

/** what one scenario watches and measures: the probe, the holders of the target's VIPs, and the figures */
interface Sampling {
  probe: Probe;
  /** one probe per further VIP of the target (its other family, the rest of a sync group) */
  others: { vip: string; probe: Probe }[];
  watch: Watch;
  vips: string[];
  vip: string;
  nodes: string[];
  probeTimeout: number;
  probeConn: Conn | null;
  stopped: boolean;
}

async function startSampling(run: RunEnv, target: Target, master: ResolvedNode | null): Promise<Sampling> {
  const vips = vipsOf(target);
  const vip = vips[0];
  const urlOf = (v: string) => `http://${hostForUrl(v)}/`;
  const probeTimeout = Math.max(100, Math.min(1000, run.probeIntervalMs * 4));
  // who holds the VIPs, sampled every 50 ms, or every 20 ms under a faster probe (ultra's 10 ms: a takeover there
  // takes 0.07 s, a split brain may be shorter than 50 ms)
  const watch = await startWatch(run.session.conns, vips, Math.min(50, Math.max(20, run.probeIntervalMs * 2)));
  let start: (url: string) => Promise<Probe> | Probe = (url) => startLocalProbe(url, run.probeIntervalMs, probeTimeout);
  let probeConn: Conn | null = null;
  if (run.probeFrom) {
    const pn = run.cfg.nodes.find((n) => n.name === run.probeFrom);
    let conn: Conn;
    if (pn) conn = run.session.conns[pn.name];
    else {
      const base = master ?? run.cfg.nodes[0];
      const other: ResolvedNode = { ...base, name: run.probeFrom, host: run.probeFrom, port: 22, user: 'root' };
      probeConn = conn = await run.session.reconnect({ ...other, address: undefined });
    }
    start = (url) => startRemoteProbe(conn, url, run.probeIntervalMs, probeTimeout);
  }
  const probe = await start(run.probeUrl ?? urlOf(vip));
  const others = run.probeUrl
    ? []
    : await Promise.all(vips.slice(1).map(async (v) => ({ vip: v, probe: await start(urlOf(v)) })));
  const nodes = run.cfg.nodes.map((n) => n.name);
  return { probe, others, watch, vips, vip, nodes, probeTimeout, probeConn, stopped: false };
}

async function stopSampling(s: Sampling): Promise<void> {
  if (s.stopped) return;
  s.stopped = true;
  await Promise.all([s.probe.stop(), ...s.others.map((o) => o.probe.stop()), s.watch.stop()]);
  s.probeConn?.close();
}

function holdersOf(s: Sampling, vip = s.vip) {
  return holderTimeline(s.watch.samples, vip, s.nodes);
}

function currentHolders(s: Sampling): string[] {
  const tl = holdersOf(s);
  return tl.length ? tl[tl.length - 1].holders : [];
}

/** probe answers attributed to nodes by whatever identifies them (node name, hostname, address) */
function attributed(run: RunEnv, s: Sampling, probe = s.probe): ProbeSample[] {
  return probe.samples.map((p) => ({ ...p, servedBy: identify(p.servedBy, run.ids) }));
}

function measureNow(run: RunEnv, s: Sampling, faultAt: number, master: string, windowEnd = Date.now()): Measured {
  return measure(attributed(run, s), holdersOf(s), faultAt, master, windowEnd, s.probeTimeout);
}

/** each VIP's own figures: the first from the main probe's, the others measured on their own probe and holders */
function perVipOf(
  run: RunEnv,
  s: Sampling,
  x: { m: Measured; faultAt: number; master: string; end: number; back: { from: number; to: number } | null },
): VipFigures[] {
  const ret = (probe: Probe) => (x.back ? returnMeasure(run, s, x.back, probe).failedProbes : null);
  const first = { vip: s.vip, gapMs: x.m.gapMs, failedProbes: x.m.failedProbes, totalProbes: x.m.totalProbes };
  return [
    { ...first, returnFailed: ret(s.probe) },
    ...s.others.map((o) => {
      const m = measure(attributed(run, s, o.probe), holdersOf(s, o.vip), x.faultAt, x.master, x.end, s.probeTimeout);
      const figures = { vip: o.vip, gapMs: m.gapMs, failedProbes: m.failedProbes, totalProbes: m.totalProbes };
      return { ...figures, returnFailed: ret(o.probe) };
    }),
  ];
}

/** the bounds and limits of a scenario on this target with this master */
function limitsOf(run: RunEnv, target: Target, master: string, name: ScenarioName) {
  const bounds = target.instances.map((i) => expectedBounds(run.cfg, i, master, run.features));
  const bound = Math.max(...bounds.map((b) => b[name].expectedMaxMs));
  const maxGapMs = run.maxGapMs ?? Math.round(bound + marginMs(bound, run.cfg.profile));
  // the link stays down long enough for the backup to take over (a sync group: the slowest of its instances)
  const linkDown = linkDownMs(Math.max(...bounds.map((b) => b.link.expectedMaxMs)));
  return { bound, maxGapMs, linkDown, why: bounds[0][name].why };
}

interface FaultRun {
  faultAt: number;
  restoredAt: number | null;
  restoreLog: string[];
  restoreFailed: string | null;
}

/** inject the fault, wait until another node took the VIP and clients are served again (or give up) */
async function injectAndWait(
  run: RunEnv,
  target: Target,
  name: ScenarioName,
  master: ResolvedNode,
  s: Sampling,
  lim: ReturnType<typeof limitsOf>,
  fr: FaultRun,
): Promise<void> {
  const sc = scenarios[name];
  run.progress(`${target.name}: ${sc.describe} on ${master.name}`);
  fr.faultAt = Date.now();
  await sc.inject({
    conn: run.session.conns[master.name],
    iface: master.interface,
    linkDownSeconds: lim.linkDown / 1000,
    pair: { cfg: run.cfg, conns: run.session.conns, signal: run.signal, progress: run.progress },
    master: master.name,
    target,
  });
  // "moved" means another node held the VIP at some point since the fault, not only now: after a crash the
  // restarted master may already have taken it back
  const giveUp = Math.max(lim.maxGapMs * 2, 15_000);
  const w = run.waiting?.(
    `${target.name}: waiting for another node to take ${s.vip} and serve clients ` +
      `(bound ${(lim.bound / 1000).toFixed(2)} s)`,
  );
  const moved = await waitFor(
    () => {
      const m = measureNow(run, s, fr.faultAt, master.name);
      if (m.newHolder === null) return false;
      return m.firstFailAt !== null ? m.recoveredAt !== null : Date.now() - fr.faultAt > 2000;
    },
    giveUp,
    run.signal,
  ).catch((e: unknown) => {
    w?.fail(`${target.name}: interrupted`);
    throw e;
  });
  const now = measureNow(run, s, fr.faultAt, master.name);
  if (moved)
    w?.succeed(
      `${target.name}: ${now.newHolder} took ${s.vip}` +
        (now.gapMs !== null ? `, clients served again after ${(now.gapMs / 1000).toFixed(2)} s` : ''),
    );
  else w?.fail(`${target.name}: ${s.vip} did not move within ${(giveUp / 1000).toFixed(0)} s`);
  if (name === 'link') await sleep(Math.max(0, fr.faultAt + lim.linkDown + 1500 - Date.now()), run.signal);
  else if (name === 'crash') {
    // does the stale VIP leave the killed master by itself (a restart by systemd)? watch for up to 5 s
    await waitFor(
      () => currentHolders(s).length === 1 && Date.now() - fr.faultAt > 1000,
      STALE_VIP_WAIT_MS,
      run.signal,
    );
    await sleep(300, run.signal);
  } else await sleep(500, run.signal);
}

/** undo what the scenario broke, then a first pass over the whole pair (the abort signal is not passed on) */
async function restoreFault(run: RunEnv, name: ScenarioName, master: ResolvedNode, key: string, fr: FaultRun) {
  if (!pendingRestores.has(key)) return;
  run.progress(`${master.name}: restoring after ${name}`);
  fr.restoredAt = Date.now();
  try {
    fr.restoreLog = await pendingRestores.get(key)!.run();
  } catch (e) {
    fr.restoreFailed = (e as Error).message;
    fr.restoreLog = [`restore failed: ${fr.restoreFailed}`];
  }
  const first = await restorePair(run, 0, { keepDemotions: true }).catch((e: Error) => ({
    log: [e.message],
    left: [],
  }));
  fr.restoreLog.push(...first.log);
}

/**
 * The master is back as a demoted backup: give its VIPs back as a planned move (the current holder answers and
 * finishes the requests in flight while the master's demotion is lifted and it preempts), measured apart from the
 * fault. Without preempt (or when another node is preferred) the demotion is just lifted. Returns when the return
 * started and ended.
 */
async function giveBack(
  run: RunEnv,
  target: Target,
  master: ResolvedNode,
): Promise<{ from: number; to: number } | null> {
  const expectBack = returnsHome(run.cfg, target) && target.master === master.name;
  await reconnect(run, master);
  const env = { cfg: run.cfg, conns: run.session.conns, signal: run.signal, progress: run.progress };
  const from = Date.now();
  try {
    if (!expectBack || run.signal.aborted) {
      await returnTo(env, master.name, [], [target]);
      return null;
    }
    await returnTo(env, master.name, [target]);
  } catch (e) {
    // the run leaves the master as it found it: never demoted, even when the planned return could not be made
    await setFlag(run.session.conns[master.name], `demote.${target.name}`, false).catch(() => undefined);
    throw e;
  }
  await sleep(1000, run.signal).catch(() => undefined);
  return { from, to: Date.now() };
}

function returnMeasure(run: RunEnv, s: Sampling, w: { from: number; to: number }, probe = s.probe): ReturnMeasure {
  const inWindow = attributed(run, s, probe).filter((p) => p.t >= w.from && p.t <= w.to);
  let gap = 0;
  let start: number | null = null;
  for (const p of inWindow) {
    if (!p.ok) start ??= p.t;
    else if (start !== null) {
      gap = Math.max(gap, p.t - start);
      start = null;
    }
  }
  return { failedProbes: inWindow.filter((p) => !p.ok).length, totalProbes: inWindow.length, gapMs: gap };
}

/** one scenario on one target: fault, measure, restore, give back, check the pair is as before */
export async function runScenario(run: RunEnv, target: Target, name: ScenarioName): Promise<ScenarioResult> {
  const start = Date.now();
  const s = await startSampling(run, target, null);
  try {
    await waitFor(() => s.nodes.every((n) => s.watch.samples.some((x) => x.node === n)), 5000, run.signal);
    const holdersNow = currentHolders(s);
    if (holdersNow.length !== 1)
      throw new Error(
        `${target.name} ${s.vip}: held by ${holdersNow.join(' and ') || 'no node'} before the test; ` +
          'run ha-setup status',
      );
    const master = run.cfg.nodes.find((n) => n.name === holdersNow[0])!;
    return await scenarioOn(run, target, name, master, s, start);
  } finally {
    await stopSampling(s);
  }
}

async function scenarioOn(
  run: RunEnv,
  target: Target,
  name: ScenarioName,
  master: ResolvedNode,
  s: Sampling,
  start: number,
): Promise<ScenarioResult> {
  const sc = scenarios[name];
  const lim = limitsOf(run, target, master.name, name);
  const key = `${name}@${master.name}`;
  const fr: FaultRun = { faultAt: 0, restoredAt: null, restoreLog: [], restoreFailed: null };
  try {
    run.progress(`${target.name}: baseline through ${master.name}`);
    await sleep(600, run.signal);
    for (const [vip, probe] of [[s.vip, s.probe] as const, ...s.others.map((o) => [o.vip, o.probe] as const)])
      if (!probe.samples.some((x) => x.ok))
        throw new Error(
          `${vip} does not answer before the test (is the controller on the VIP's network? try --probe-from)`,
        );
    pendingRestores.set(key, {
      describe: `${name} on ${master.name}`,
      manual: `on ${master.name}: ${sc.manual(master.interface)}`,
      run: async () => {
        const c = await reconnect(run, master);
        // what comes back comes back a backup (given back later as a planned move): demoted before the restore
        await setFlag(c, `demote.${target.name}`, true);
        const lines = await sc.restore(c, master.interface);
        pendingRestores.delete(key);
        return lines;
      },
    });
    await injectAndWait(run, target, name, master, s, lim, fr);
  } finally {
    // ALWAYS restore, whatever happened above: first what the scenario broke, then whatever else differs
    await restoreFault(run, name, master, key, fr);
  }
  const back = await giveBack(run, target, master).catch((e: Error) => {
    fr.restoreLog.push(`giving the VIPs back: ${e.message}`);
    return null;
  });
  await stopSampling(s);
  const settleMs = Math.max(...target.instances.map((i) => settleTimeoutMs(run.cfg, i)));
  const settled = await restorePair(run, run.signal.aborted ? 0 : settleMs).catch((e: Error) => ({
    log: [e.message],
    left: [{ kind: 'ssh' as const, node: '?', what: 'status', was: 'readable', now: e.message, fix: [] }],
  }));
  fr.restoreLog.push(...settled.log);
  return assemble(run, target, name, master, s, { start, lim, fr, back, left: settled.left.map((d) => d) });
}

function assemble(
  run: RunEnv,
  target: Target,
  name: ScenarioName,
  master: ResolvedNode,
  s: Sampling,
  x: {
    start: number;
    lim: ReturnType<typeof limitsOf>;
    fr: FaultRun;
    back: { from: number; to: number } | null;
    left: { kind: string; node: string; what: string; was: string; now: string }[];
  },
): ScenarioResult {
  const { fr, lim } = x;
  const end = Date.now();
  const tl = holdersOf(s);
  const m = measureNow(run, s, fr.faultAt, master.name, fr.restoredAt ?? end);
  const after = tl.length ? tl[tl.length - 1].holders : [];
  const perVip = perVipOf(run, s, {
    m,
    faultAt: fr.faultAt,
    master: master.name,
    end: fr.restoredAt ?? end,
    back: x.back,
  });
  const expectBack = returnsHome(run.cfg, target) && target.master === master.name;
  const returnedAt = expectBack
    ? (tl.find(
        (p) => fr.restoredAt !== null && p.t >= fr.restoredAt && p.holders.length === 1 && p.holders[0] === master.name,
      )?.t ?? null)
    : null;
  const v = verdict({
    name,
    target,
    master: master.name,
    measured: m,
    timelines: Object.fromEntries(s.vips.map((vip) => [vip, holdersOf(s, vip)])),
    faultAt: fr.faultAt,
    bound: lim.bound,
    maxGapMs: lim.maxGapMs,
    maxGapGiven: run.maxGapMs !== undefined,
    why: lim.why,
    restoreFailed: fr.restoreFailed,
    left: x.left,
    expectBack,
    after,
    ret: x.back ? returnMeasure(run, s, x.back) : null,
    others: perVip.slice(1),
  });
  return {
    name,
    instance: target.name,
    group: target.group,
    vips: s.vips,
    vip: s.vip,
    perVip,
    masterBefore: master.name,
    masterAfter: m.newHolder,
    timeToHolderMs: m.timeToHolderMs,
    gapMs: m.gapMs,
    expectedMaxMs: Math.round(lim.bound),
    maxGapMs: lim.maxGapMs,
    bound: lim.why,
    failedProbes: m.failedProbes,
    totalProbes: m.totalProbes,
    splitBrainMs: m.splitBrainMs,
    faultAt: fr.faultAt,
    firstFailAt: m.firstFailAt,
    recoveredAt: m.recoveredAt,
    restored: !v.left.length && !fr.restoreFailed,
    restoreLog: fr.restoreLog,
    left: v.left,
    vipReturned: after.length === 1 && after[0] === master.name,
    return: v.ret,
    holderAfterRestore: after,
    groupMoved: v.groupMoved,
    notes: v.notes,
    ok: v.reasons.length === 0,
    reasons: v.reasons,
    timeline: {
      start: x.start,
      faultAt: fr.faultAt,
      movedAt: m.timeToHolderMs !== null ? fr.faultAt + m.timeToHolderMs : null,
      restoredAt: fr.restoredAt,
      returnedAt,
      end,
      probes: attributed(run, s),
      holders: tl,
    },
  };
}

export { holdersAt };
