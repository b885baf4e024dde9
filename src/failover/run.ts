/**
 * verify-failover: for each target (an instance, or a sync group whose instances move together) and scenario, break
 * the current master on purpose while a probe measures what clients see and a watcher records who holds the VIPs;
 * then ALWAYS restore: first what the scenario broke, then every difference from the snapshot the run took of the
 * whole pair before its first fault (also what a check script or systemd changed). The scenario counts as restored
 * only when the pair matches that snapshot again; the caller stops before the next fault otherwise.
 */
import type { Config, ResolvedInstance, ResolvedNode } from '../answers/resolve.js';
import type { Session } from '../ssh/session.js';
import type { HostConnection } from '../ssh/ssh.js';
import { pairStatus, type PairStatus } from '../status/collect.js';
import { expectedBounds, linkDownMs, marginMs, settleTimeoutMs, type BoundFeatures } from './bounds.js';
import { identify, type NodeIdentity } from './identify.js';
import { measure, holdersAt, type HolderPoint } from './measure.js';
import { applyFixes, describeDrift, pairDrift, type Drift } from './pair.js';
import { startLocalProbe, startRemoteProbe, type Probe, type ProbeSample } from './probe.js';
import { scenarios, type ScenarioName } from './scenarios.js';
import { holderTimeline, startWatch, type HolderSample } from './watch.js';
import type { Waiting } from '../spinner.js';

/** what one fault is aimed at: an instance, or a sync group (its first instance leads, all its VIPs must move) */
export interface Target {
  name: string;
  group: string | null;
  instances: ResolvedInstance[];
}

export function targetsOf(cfg: Config): Target[] {
  const grouped = new Set(cfg.syncGroups.flatMap((g) => g.instances));
  const out: Target[] = [];
  for (const inst of cfg.instances) {
    const g = cfg.syncGroups.find((x) => x.instances.includes(inst.name));
    if (!g) out.push({ name: inst.name, group: null, instances: [inst] });
    else if (g.instances[0] === inst.name) {
      out.push({
        name: g.name,
        group: g.name,
        instances: g.instances.map((n) => cfg.instances.find((i) => i.name === n)!),
      });
    }
  }
  return out.filter((t) => t.group || !grouped.has(t.name));
}

export interface ScenarioResult {
  name: ScenarioName;
  /** the instance, or the sync group's name */
  instance: string;
  group: string | null;
  /** every VIP watched (all of a sync group's); `vip` is the one probed */
  vips: string[];
  vip: string;
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

async function waitFor(cond: () => boolean, timeoutMs: number, signal: AbortSignal, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(stepMs, signal);
  }
  return cond();
}

/** the node's connection, reconnected when it died (the link scenario drops it): up to 10 tries, 1 s apart */
export async function reconnect(run: RunEnv, node: ResolvedNode): Promise<HostConnection> {
  const old = run.session.conns[node.name];
  if (old?.alive) {
    const r = await old.run('true', { timeoutMs: 3000 }).catch(() => null);
    if (r && r.code === 0) return old;
  }
  let lastErr: Error | null = null;
  for (let i = 0; i < 10; i++) {
    try {
      return await run.session.reconnect(node, { connectTimeout: 5 });
    } catch (e) {
      lastErr = e as Error;
      await sleep(1000);
    }
  }
  throw lastErr ?? new Error(`${node.name}: cannot reconnect`);
}

function currentHolders(watchSamples: HolderSample[], vip: string, nodes: string[]): string[] {
  const tl = holderTimeline(watchSamples, vip, nodes);
  return tl.length ? tl[tl.length - 1].holders : [];
}

/**
 * Bring every node back to the snapshot: fix what differs (start what was running, unmask what was not masked,
 * links up...) and wait until the pair matches it, re-applying fixes while it settles (a check script can stop
 * keepalived again a moment after the first fix). Returns what was done and what is still different.
 */
export async function restorePair(
  run: RunEnv,
  timeoutMs: number,
  opts: { signal?: AbortSignal } = {},
): Promise<{ log: string[]; left: Drift[] }> {
  const { cfg } = run;
  const log: string[] = [];
  const deadline = Date.now() + timeoutMs;
  const status = async () => {
    for (const n of cfg.nodes) {
      // one quick try: a node whose link is still down answers on a later round
      if (!run.session.conns[n.name]?.alive) await run.session.reconnect(n, { connectTimeout: 3 }).catch(() => null);
    }
    return pairDrift(run.snapshot, await pairStatus(cfg, run.session.conns), cfg);
  };
  let drift = await status();
  while (drift.length) {
    const fixable = drift.filter((d) => d.fix.length);
    for (const n of cfg.nodes) {
      const mine = fixable.filter((d) => d.node === n.name);
      const conn = run.session.conns[n.name];
      if (mine.length && conn?.alive) log.push(...(await applyFixes(conn, mine).catch((e: Error) => [e.message])));
    }
    if (Date.now() >= deadline) {
      // what the last fixes achieved, once more after a moment (a started service needs a little while)
      if (fixable.length && timeoutMs > 0) {
        await sleep(1000, opts.signal);
        drift = await status();
      }
      break;
    }
    await sleep(500, opts.signal);
    drift = await status();
  }
  return { log, left: drift };
}

export async function runScenario(run: RunEnv, target: Target, name: ScenarioName): Promise<ScenarioResult> {
  const { cfg } = run;
  const sc = scenarios[name];
  const inst = target.instances[0];
  const vips = target.instances.flatMap((i) => i.vips.map((v) => v.address));
  const vip = vips[0];
  const nodes = cfg.nodes.map((n) => n.name);
  const url = run.probeUrl ?? `http://${vip}/`;
  const probeTimeout = Math.max(100, Math.min(1000, run.probeIntervalMs * 4));
  const start = Date.now();

  const watch = await startWatch(run.session.conns, vips);
  await waitFor(() => nodes.every((n) => watch.samples.some((s) => s.node === n)), 5000, run.signal);
  const holdersNow = currentHolders(watch.samples, vip, nodes);
  if (holdersNow.length !== 1) {
    await watch.stop();
    throw new Error(
      `${target.name} ${vip}: held by ${holdersNow.join(' and ') || 'no node'} before the test; run ha-setup status`,
    );
  }
  const master = holdersNow[0];
  const masterNode = cfg.nodes.find((n) => n.name === master)!;
  const bounds = expectedBounds(cfg, inst, master, run.features);
  const bound = Math.max(
    ...target.instances.map((i) => expectedBounds(cfg, i, master, run.features)[name].expectedMaxMs),
  );
  const maxGapMs = run.maxGapMs ?? Math.round(bound + marginMs(bound));
  // the link stays down long enough for the backup to take over, whatever the configuration's timers
  // (a sync group moves together: the slowest of its instances decides)
  const linkDown = linkDownMs(
    Math.max(...target.instances.map((i) => expectedBounds(cfg, i, master, run.features).link.expectedMaxMs)),
  );

  let probe: Probe;
  let probeConn: HostConnection | null = null;
  if (run.probeFrom) {
    const pn = cfg.nodes.find((n) => n.name === run.probeFrom);
    if (pn) probe = await startRemoteProbe(run.session.conns[pn.name], url, run.probeIntervalMs, probeTimeout);
    else {
      const other: ResolvedNode = { ...masterNode, name: run.probeFrom, host: run.probeFrom, port: 22, user: 'root' };
      probeConn = await run.session.reconnect({ ...other, address: undefined, sudo: false });
      probe = await startRemoteProbe(probeConn, url, run.probeIntervalMs, probeTimeout);
    }
  } else probe = startLocalProbe(url, run.probeIntervalMs, probeTimeout);

  let stopped = false;
  const stopSampling = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([probe.stop(), watch.stop()]);
    probeConn?.close();
  };
  try {
    return await measureScenario();
  } finally {
    await stopSampling();
  }

  async function measureScenario(): Promise<ScenarioResult> {
    const restoreKey = `${name}@${master}`;
    let restoreLog: string[] = [];
    let restoreFailed: string | null = null;
    let faultAt = 0;
    let restoredAt: number | null = null;
    let returnedAt: number | null = null;
    const doRestore = async (): Promise<string[]> => {
      const c = await reconnect(run, masterNode);
      const lines = await sc.restore(c, masterNode.interface);
      pendingRestores.delete(restoreKey);
      return lines;
    };
    try {
      run.progress(`${target.name}: baseline through ${master}`);
      await sleep(600, run.signal);
      if (!probe.samples.some((s) => s.ok)) {
        throw new Error(
          `${url} does not answer before the test (is the controller on the VIP's network? try --probe-from)`,
        );
      }
      pendingRestores.set(restoreKey, {
        describe: `${name} on ${master}`,
        manual: `on ${master}: ${sc.manual(masterNode.interface)}`,
        run: doRestore,
      });
      run.progress(`${target.name}: ${sc.describe} on ${master}`);
      faultAt = Date.now();
      await sc.inject(run.session.conns[master], masterNode.interface, { linkDownSeconds: linkDown / 1000 });
      // wait until another node holds the VIP and clients are served again (or give up); "moved" means another
      // node held the VIP at some point since the fault, not only now: after a crash the restarted master may
      // already have taken it back (preempt)
      const giveUp = Math.max(maxGapMs * 2, 15_000);
      const w = run.waiting?.(
        `${target.name}: waiting for another node to take ${vip} and serve clients ` +
          `(bound ${(bound / 1000).toFixed(2)} s)`,
      );
      const moved = await waitFor(
        () => {
          const m = measureNow();
          if (m.newHolder === null) return false;
          return m.firstFailAt !== null ? m.recoveredAt !== null : Date.now() - faultAt > 2000;
        },
        giveUp,
        run.signal,
      ).catch((e: unknown) => {
        w?.fail(`${target.name}: interrupted`);
        throw e;
      });
      const now = measureNow();
      if (moved) {
        w?.succeed(
          `${target.name}: ${now.newHolder} took ${vip}` +
            (now.gapMs !== null ? `, clients served again after ${(now.gapMs / 1000).toFixed(2)} s` : ''),
        );
      } else w?.fail(`${target.name}: ${vip} did not move within ${(giveUp / 1000).toFixed(0)} s`);
      if (name === 'link') await sleep(Math.max(0, faultAt + linkDown + 1500 - Date.now()), run.signal);
      else if (name === 'crash') {
        // does the stale VIP leave the killed master by itself (a restart by systemd)? watch for up to 5 s
        await waitFor(
          () => currentHolders(watch.samples, vip, nodes).length === 1 && Date.now() - faultAt > 1000,
          STALE_VIP_WAIT_MS,
          run.signal,
        );
        await sleep(300, run.signal);
      } else await sleep(500, run.signal);
    } finally {
      // ALWAYS restore, whatever happened above (the abort signal is deliberately not passed on): first what the
      // scenario broke, then whatever else differs from the snapshot (a check script may have stopped keepalived)
      if (pendingRestores.has(restoreKey)) {
        run.progress(`${target.name}: restoring ${master}`);
        restoredAt = Date.now();
        try {
          restoreLog = await doRestore();
        } catch (e) {
          restoreFailed = (e as Error).message;
          restoreLog = [`restore failed: ${restoreFailed}`];
        }
        const first = await restorePair(run, 0).catch((e: Error) => ({ log: [e.message], left: [] }));
        restoreLog.push(...first.log);
      }
    }
    // where does the VIP go now: back to the master (preempt) or stays (nopreempt)
    const expectBack = inst.preempt && inst.master === master;
    const settleMs = Math.max(...target.instances.map((i) => settleTimeoutMs(cfg, i)));
    if (!run.signal.aborted) {
      await waitFor(
        () => {
          const h = currentHolders(watch.samples, vip, nodes);
          return expectBack ? h.length === 1 && h[0] === master : h.length === 1;
        },
        settleMs,
        run.signal,
      ).catch(() => false);
      await sleep(400, run.signal).catch(() => undefined);
    }
    await stopSampling();
    // the whole pair must match its snapshot again (services, links, VIPs, no new FAULT)
    const settled = await restorePair(run, run.signal.aborted ? 0 : settleMs).catch((e: Error) => ({
      log: [e.message],
      left: [{ kind: 'ssh', node: '?', what: 'status', was: 'readable', now: e.message, fix: [] } as Drift],
    }));
    restoreLog.push(...settled.log);
    const left = settled.left.map(describeDrift);
    const end = Date.now();
    const tl = holderTimeline(watch.samples, vip, nodes);
    const m = measureNow(restoredAt ?? end);
    const after = tl.length ? tl[tl.length - 1].holders : [];
    if (expectBack) {
      returnedAt =
        tl.find((p) => restoredAt !== null && p.t >= restoredAt && p.holders.length === 1 && p.holders[0] === master)
          ?.t ?? null;
    }
    const vipReturned = after.length === 1 && after[0] === master;

    // a sync group moves as one: every VIP of the group held by the new holder at some time after the fault
    let groupMoved: boolean | null = null;
    const reasons: string[] = [];
    if (target.group && m.newHolder) {
      const stray = vips.filter(
        (v) => !holderTimeline(watch.samples, v, nodes).some((p) => p.t >= faultAt && p.holders.includes(m.newHolder!)),
      );
      groupMoved = stray.length === 0;
      if (stray.length) reasons.push(`sync group ${target.group}: ${stray.join(', ')} did not move to ${m.newHolder}`);
    }
    const notes: string[] = [];
    if (!m.newHolder && name === 'crash' && m.failedProbes === 0 && m.splitBrainMs === 0) {
      // systemd restarted keepalived before the backup's master-down timer ran out: the VIP stayed, clients were
      // served all along (keepalived 1.x keeps the VIP through its restart; 2.x removes and retakes it)
      notes.push(
        `keepalived on ${master} was restarted before the backup's master-down timer ran out: ` +
          'no failover was needed, no client failed',
      );
    } else if (!m.newHolder) {
      const orphaned = tl.some((p) => p.t >= faultAt && p.holders.length === 0);
      reasons.push(
        orphaned
          ? `the VIP left ${master} but no other node took it (is the backup in FAULT? check its nginx and keepalived)`
          : `the VIP never left ${master}`,
      );
    }
    if (m.unrecovered) {
      reasons.push(`clients were not served again through ${m.newHolder ?? 'another node'} before the restore`);
    }
    if (m.gapMs !== null && m.gapMs > maxGapMs) {
      reasons.push(
        `gap ${(m.gapMs / 1000).toFixed(2)} s is over ` +
          (run.maxGapMs !== undefined
            ? `--max-gap ${(maxGapMs / 1000).toFixed(2)} s`
            : `the configuration's bound ${(bound / 1000).toFixed(2)} s ` +
              `+ margin ${(marginMs(bound) / 1000).toFixed(2)} s ` +
              `(${bounds[name].why})`),
      );
    }
    if (m.splitBrainMs > 2000) {
      reasons.push(
        name === 'crash' && m.splitBrainMs >= STALE_VIP_WAIT_MS - 500
          ? `split brain: the killed master kept a stale VIP until the restore ` +
              `(${(m.splitBrainMs / 1000).toFixed(2)} s; nothing restarts keepalived: set failover.restartOnCrash)`
          : `split brain: the VIP was on two nodes for ${(m.splitBrainMs / 1000).toFixed(2)} s`,
      );
    }
    if (restoreFailed) reasons.push(`restore failed: ${restoreFailed}`);
    if (left.length) reasons.push(`not as before the test: ${left.join('; ')}`);
    if (expectBack && !vipReturned) reasons.push(`the VIP did not return to ${master} after the restore (preempt)`);

    return {
      name,
      instance: target.name,
      group: target.group,
      vips,
      vip,
      masterBefore: master,
      masterAfter: m.newHolder,
      timeToHolderMs: m.timeToHolderMs,
      gapMs: m.gapMs,
      expectedMaxMs: Math.round(bound),
      maxGapMs,
      bound: bounds[name].why,
      failedProbes: m.failedProbes,
      totalProbes: m.totalProbes,
      splitBrainMs: m.splitBrainMs,
      faultAt,
      firstFailAt: m.firstFailAt,
      recoveredAt: m.recoveredAt,
      restored: !left.length && !restoreFailed,
      restoreLog,
      left,
      vipReturned,
      holderAfterRestore: after,
      groupMoved,
      notes,
      ok: reasons.length === 0,
      reasons,
      timeline: {
        start,
        faultAt,
        movedAt: m.timeToHolderMs !== null ? faultAt + m.timeToHolderMs : null,
        restoredAt,
        returnedAt,
        end,
        probes: attributed(),
        holders: tl,
      },
    };

    /** probe answers attributed to nodes by whatever identifies them (node name, hostname, address) */
    function attributed(): ProbeSample[] {
      return probe.samples.map((s) => ({ ...s, servedBy: identify(s.servedBy, run.ids) }));
    }

    function measureNow(windowEnd = Date.now()) {
      return measure(attributed(), holderTimeline(watch.samples, vip, nodes), faultAt, master, windowEnd, probeTimeout);
    }
  }
}

export { holdersAt };
