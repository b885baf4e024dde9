/**
 * verify-failover: for each instance and scenario, break the current master on purpose while a probe measures
 * what clients see and a watcher records who holds the VIP; then ALWAYS restore what was broken (also on errors
 * and on Ctrl-C, through the pending-restore list) and check where the VIP goes back.
 */
import type { Config, ResolvedInstance, ResolvedNode } from '../answers/resolve.js';
import { connect, type HostConnection } from '../ssh/ssh.js';
import { measure, holdersAt, type HolderPoint } from './measure.js';
import { startLocalProbe, startRemoteProbe, type Probe, type ProbeSample } from './probe.js';
import { LINK_DOWN_SECONDS, scenarios, type ScenarioName } from './scenarios.js';
import { holderTimeline, startWatch } from './watch.js';

export interface ScenarioResult {
  name: ScenarioName;
  instance: string;
  vip: string;
  masterBefore: string;
  masterAfter: string | null;
  timeToHolderMs: number | null;
  gapMs: number | null;
  failedProbes: number;
  totalProbes: number;
  splitBrainMs: number;
  /** epoch ms (controller clock): when the fault was injected, the first failed and first good-again probe */
  faultAt: number;
  firstFailAt: number | null;
  recoveredAt: number | null;
  restored: boolean;
  restoreLog: string[];
  vipReturned: boolean;
  /** where the VIP is after the restore (and the settle time) */
  holderAfterRestore: string[];
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
  conns: Record<string, HostConnection>;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  progress: (line: string) => void;
  signal: AbortSignal;
  probeUrl?: string;
  probeFrom?: string;
  probeIntervalMs: number;
  maxGapMs: number;
}

/** restores not yet done: the Ctrl-C handler runs (or prints) these */
export const pendingRestores = new Map<string, { describe: string; manual: string; run: () => Promise<string[]> }>();

export class Aborted extends Error {}

/** how long the crash scenario waits for a stale VIP to disappear before restoring by hand */
export const STALE_VIP_WAIT_MS = 5000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export async function reconnect(run: RunEnv, node: ResolvedNode): Promise<HostConnection> {
  const old = run.conns[node.name];
  if (old?.alive) {
    const r = await old.run('true', { timeoutMs: 3000 }).catch(() => null);
    if (r && r.code === 0) return old;
    old.close();
  }
  let lastErr: Error | null = null;
  for (let i = 0; i < 10; i++) {
    try {
      const c = await connect(node, { ssh: { ...run.cfg.answers.ssh, connectTimeout: 5 }, env: run.env, log: run.log });
      c.sudo = old?.sudo ?? 'root';
      c.sudoPassword = old?.sudoPassword;
      run.conns[node.name] = c;
      return c;
    } catch (e) {
      lastErr = e as Error;
      await sleep(1000);
    }
  }
  throw lastErr ?? new Error(`${node.name}: cannot reconnect`);
}

function currentHolders(
  watchSamples: { t: number; node: string; vips: string[] }[],
  vip: string,
  nodes: string[],
): string[] {
  const tl = holderTimeline(watchSamples, vip, nodes);
  return tl.length ? tl[tl.length - 1].holders : [];
}

export async function runScenario(run: RunEnv, inst: ResolvedInstance, name: ScenarioName): Promise<ScenarioResult> {
  const { cfg } = run;
  const sc = scenarios[name];
  const vip = inst.vips[0].address;
  const nodes = cfg.nodes.map((n) => n.name);
  const url = run.probeUrl ?? `http://${vip}/`;
  const probeTimeout = Math.max(100, Math.min(1000, run.probeIntervalMs * 4));
  const start = Date.now();

  const watch = await startWatch(
    run.conns,
    inst.vips.map((v) => v.address),
  );
  await waitFor(() => nodes.every((n) => watch.samples.some((s) => s.node === n)), 5000, run.signal);
  const holdersNow = currentHolders(watch.samples, vip, nodes);
  if (holdersNow.length !== 1) {
    await watch.stop();
    throw new Error(
      `${inst.name} ${vip}: held by ${holdersNow.join(' and ') || 'no node'} before the test; run ha-setup status`,
    );
  }
  const master = holdersNow[0];
  const masterNode = cfg.nodes.find((n) => n.name === master)!;
  let probe: Probe;
  if (run.probeFrom) {
    const pn = cfg.nodes.find((n) => n.name === run.probeFrom) ?? {
      ...masterNode,
      name: run.probeFrom,
      host: run.probeFrom,
      port: 22,
      user: 'root',
      address: undefined,
      sudo: false,
    };
    const pc = run.conns[pn.name]?.alive
      ? run.conns[pn.name]
      : await connect(pn, { ssh: cfg.answers.ssh, env: run.env, log: run.log });
    run.conns[pn.name] ??= pc;
    probe = await startRemoteProbe(pc, url, run.probeIntervalMs, probeTimeout);
  } else probe = startLocalProbe(url, run.probeIntervalMs, probeTimeout);

  let stopped = false;
  const stopSampling = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([probe.stop(), watch.stop()]);
  };
  try {
    return await measureScenario();
  } finally {
    await stopSampling();
  }

  async function measureScenario(): Promise<ScenarioResult> {
    const restoreKey = `${name}@${master}`;
    let restored = false;
    let restoreLog: string[] = [];
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
      run.progress(`${inst.name}: baseline through ${master}`);
      await sleep(600, run.signal);
      if (!probe.samples.some((s) => s.ok))
        throw new Error(
          `${url} does not answer before the test (is the controller on the VIP's network? try --probe-from)`,
        );
      pendingRestores.set(restoreKey, {
        describe: `${name} on ${master}`,
        manual: `on ${master}: ${sc.manual(masterNode.interface)}`,
        run: doRestore,
      });
      run.progress(`${inst.name}: ${sc.describe} on ${master}`);
      faultAt = Date.now();
      await sc.inject(run.conns[master], masterNode.interface);
      // wait until another node holds the VIP and clients are served again (or give up)
      const giveUp = Math.max(run.maxGapMs * 2, 15_000);
      // "moved" means another node held the VIP at some point since the fault, not only now: after a crash the
      // restarted master may already have taken it back (preempt)
      await waitFor(
        () => {
          const m = measure(
            probe.samples,
            holderTimeline(watch.samples, vip, nodes),
            faultAt,
            master,
            Date.now(),
            probeTimeout,
          );
          if (m.newHolder === null) return false;
          return m.firstFailAt !== null ? m.recoveredAt !== null : Date.now() - faultAt > 2000;
        },
        giveUp,
        run.signal,
      );
      if (name === 'link') await sleep(Math.max(0, faultAt + LINK_DOWN_SECONDS * 1000 + 1500 - Date.now()), run.signal);
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
      // ALWAYS restore, whatever happened above (the abort signal is deliberately not passed on)
      if (pendingRestores.has(restoreKey)) {
        run.progress(`${inst.name}: restoring ${master}`);
        restoredAt = Date.now();
        try {
          restoreLog = await doRestore();
          restored = true;
        } catch (e) {
          restoreLog = [`restore failed: ${(e as Error).message}`];
        }
      }
    }
    // where does the VIP go now: back to the master (preempt) or stays (nopreempt)
    const expectBack = inst.preempt && inst.master === master;
    if (!run.signal.aborted) {
      await waitFor(
        () => {
          const h = currentHolders(watch.samples, vip, nodes);
          return expectBack ? h.length === 1 && h[0] === master : h.length === 1;
        },
        Math.max(10_000, inst.advertInt * 10_000 + (inst.preemptDelay ?? 0) * 1000),
        run.signal,
      ).catch(() => false);
      await sleep(400, run.signal).catch(() => undefined);
    }
    await stopSampling();
    const end = Date.now();
    const tl = holderTimeline(watch.samples, vip, nodes);
    const m = measure(probe.samples, tl, faultAt, master, restoredAt ?? end, probeTimeout);
    const after = tl.length ? tl[tl.length - 1].holders : [];
    if (expectBack)
      returnedAt =
        tl.find((p) => restoredAt !== null && p.t >= restoredAt && p.holders.length === 1 && p.holders[0] === master)
          ?.t ?? null;
    const vipReturned = after.length === 1 && after[0] === master;

    const reasons: string[] = [];
    if (!m.newHolder) {
      const orphaned = tl.some((p) => p.t >= faultAt && p.holders.length === 0);
      reasons.push(
        orphaned
          ? `the VIP left ${master} but no other node took it (is the backup in FAULT? check its nginx and keepalived)`
          : `the VIP never left ${master}`,
      );
    }
    if (m.unrecovered)
      reasons.push(`clients were not served again through ${m.newHolder ?? 'another node'} before the restore`);
    if (m.gapMs !== null && m.gapMs > run.maxGapMs)
      reasons.push(`gap ${(m.gapMs / 1000).toFixed(2)} s is over --max-gap ${(run.maxGapMs / 1000).toFixed(2)} s`);
    if (m.splitBrainMs > 2000) {
      reasons.push(
        name === 'crash' && m.splitBrainMs >= STALE_VIP_WAIT_MS - 500
          ? 'split brain: the killed master kept a stale VIP until the restore ' +
              `(${(m.splitBrainMs / 1000).toFixed(2)} s; nothing restarts keepalived: set failover.restartOnCrash)`
          : `split brain: the VIP was on two nodes for ${(m.splitBrainMs / 1000).toFixed(2)} s`,
      );
    }
    if (!restored) reasons.push('restore failed');
    if (expectBack && !vipReturned) reasons.push(`the VIP did not return to ${master} after the restore (preempt)`);
    if (after.length !== 1) reasons.push(`after the restore the VIP is on ${after.join(' and ') || 'no node'}`);

    return {
      name,
      instance: inst.name,
      vip,
      masterBefore: master,
      masterAfter: m.newHolder,
      timeToHolderMs: m.timeToHolderMs,
      gapMs: m.gapMs,
      failedProbes: m.failedProbes,
      totalProbes: m.totalProbes,
      splitBrainMs: m.splitBrainMs,
      faultAt,
      firstFailAt: m.firstFailAt,
      recoveredAt: m.recoveredAt,
      restored,
      restoreLog,
      vipReturned,
      holderAfterRestore: after,
      ok: reasons.length === 0,
      reasons,
      timeline: {
        start,
        faultAt,
        movedAt: m.timeToHolderMs !== null ? faultAt + m.timeToHolderMs : null,
        restoredAt,
        returnedAt,
        end,
        probes: probe.samples,
        holders: tl,
      },
    };
  }
}

export { holdersAt };
