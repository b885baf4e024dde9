/**
 * `init` after the answers are settled: open a session (connect, lock, facts) on every node, refuse on any
 * failed precondition (nothing changed), then apply each node's plan in parallel, step by step, with progress
 * per host. A failed step restores that host from its backups. Finally: who holds each VIP, and does it answer.
 */
import { Listr, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { OperationError, PreconditionError } from '../errors.js';
import { styler, type IO } from '../io.js';
import { buildPlan } from '../plan/build.js';
import type { Change, Facts, NodePlan } from '../plan/types.js';
import { planToJson, planToText, describeChange } from '../report/plan.js';
import { table } from '../report/table.js';
import { STEPS } from '../steps/index.js';
import { restoreRun, type HostRunner } from './host.js';
import { openHostSession, type HostSession } from './host-session.js';
import { passwordPrompt } from '../prompts.js';
import { printBounds } from '../report/bounds.js';
import { boundFeatures, reElectionMs } from '../failover/bounds.js';
import { keepalivedVersionOf } from '../steps/context.js';
import { vipHolders, waitForVips, type VipHolders } from './vip.js';

export interface RunOptions {
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  /** the SSH / sudo password the wizard already asked for */
  password?: string;
}

export interface NodeResult {
  node: string;
  host: string;
  role: string;
  changes: number;
  restarted: string[];
  ok: boolean;
  error?: string;
  restored?: string[];
  keepalivedPid?: number;
  /** SSH commands (round trips) this run made on the host, facts and lock included */
  roundTrips?: number;
}

/** what `init --json` prints */
export interface InitReport {
  ok: boolean;
  runId: string;
  log: string;
  nodes: (NodeResult & { holds: string[] })[];
  vips: VipHolders;
  problems: string[];
}

const SERVICE_ORDER: Record<string, number> = { 'daemon-reload': 0, restart: 2, 'reload-or-restart': 1 };

/** dedupe handlers: a restart of a service supersedes its reload */
export function mergeHandlers(hs: Change[]): Change[] {
  const out: Change[] = [];
  for (const h of hs) {
    if (h.kind === 'service') {
      const i = out.findIndex((o) => o.kind === 'service' && o.name === h.name);
      if (i >= 0) {
        const o = out[i] as Extract<Change, { kind: 'service' }>;
        if ((SERVICE_ORDER[h.action] ?? 0) > (SERVICE_ORDER[o.action] ?? 0)) out[i] = h;
        continue;
      }
    } else if (h.kind === 'command' && out.some((o) => o.kind === 'command' && o.argv.join(' ') === h.argv.join(' ')))
      continue;
    out.push(h);
  }
  return out;
}

async function applyChange(r: HostRunner, c: Change, facts: Facts, session: HostSession, cfg: Config): Promise<number> {
  switch (c.kind) {
    case 'file':
      await r.writeFile(c);
      return 1;
    case 'remove-file':
      await r.removeFile(c);
      return 1;
    case 'command':
      await r.command(c);
      return 1;
    case 'package':
      await r.install(c);
      return 1;
    case 'package-file':
      await r.installFile(c);
      return 1;
    case 'service':
      await r.service(c);
      return 1;
    case 'nginx-sync': {
      const items = await r.syncNginx(session.conns[cfg.nginx.syncFrom], c.configDir);
      return items.length ? 1 : 0;
    }
    case 'verify':
      await r.verify(c);
      return 0;
  }
}

async function applyNode(
  cfg: Config,
  node: ResolvedNode,
  session: HostSession,
  task: ListrTaskWrapper<unknown, never, never>,
  result: NodeResult,
): Promise<void> {
  const r = session.runners[node.name];
  let facts = session.facts[node.name];
  let begun = false;
  try {
    for (const step of STEPS) {
      const plan = step.plan({ cfg, node, facts, all: session.facts });
      if (plan.refuse) throw new PreconditionError(`${node.name}: ${plan.refuse}`);
      const real = plan.changes.filter((c) => c.kind !== 'verify');
      if (real.length && !begun) {
        await r.begin(facts);
        begun = true;
      }
      task.output = `${node.name}: ${step.title}${real.length ? `: ${real.length} change(s)` : ': ok'}`;
      for (const c of plan.changes) {
        if (c.kind !== 'verify') task.output = `${node.name}: ${step.title}: ${describeChange(c)}`;
        result.changes += await applyChange(r, c, facts, session, cfg);
      }
      for (const h of mergeHandlers(plan.handlers)) {
        task.output = `${node.name}: ${step.title}: ${describeChange(h)}`;
        await applyChange(r, h, facts, session, cfg);
      }
      // later steps plan from what is there now (the VIPs' ARP probe is only for the preflight)
      if (real.length) facts = await r.facts({ probeVips: false });
    }
    session.facts[node.name] = facts;
    result.restarted = r.restarted;
    result.keepalivedPid = facts.services.keepalived?.mainPid;
    if (begun) await r.end(true);
  } catch (e) {
    result.ok = false;
    result.error = (e as Error).message;
    if (begun && r.conn.alive) {
      task.output = `${node.name}: failed: restoring ${node.name} from its backups`;
      try {
        result.restored = await restoreRun(r.conn, r.runDir);
        await r.end(false);
      } catch (re) {
        result.restored = [`restore failed: ${(re as Error).message}`];
      }
    }
    throw e;
  }
}

export async function runInit(io: IO, cfg: Config, opts: RunOptions): Promise<number> {
  const st = styler(io);
  const session = await openHostSession(io, cfg, {
    lock: !opts.dryRun,
    facts: true,
    askPassword: passwordPrompt(io),
    password: opts.password,
  });
  try {
    const { plans, refusals } = buildPlan(cfg, session.facts);
    if (refusals.length) throw new PreconditionError(`preconditions failed; nothing was changed`, refusals);
    // what this configuration promises on these hosts' keepalived versions (verify-failover measures it)
    const versions = cfg.nodes.map((n) => keepalivedVersionOf(cfg, session.facts[n.name]));
    printBounds(io, cfg, boundFeatures(cfg, versions));
    if (opts.dryRun) {
      if (opts.json) io.out(JSON.stringify(planToJson(plans, cfg.secrets, false), null, 2));
      else io.out(planToText(plans, cfg.secrets, { offline: false, showContent: false }));
      return 0;
    }
    const results: Record<string, NodeResult> = Object.fromEntries(
      plans.map((p: NodePlan) => [
        p.node,
        { node: p.node, host: p.host, role: p.role, changes: 0, restarted: [], ok: true },
      ]),
    );
    const tasks = new Listr(
      cfg.nodes.map((node) => ({
        title: `${node.name} (${node.host})`,
        task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
          await applyNode(cfg, node, session, task, results[node.name]);
          const res = results[node.name];
          task.title =
            `${node.name} (${node.host}): ${res.changes} change(s)` +
            `${res.restarted.length ? `, ${res.restarted.join(', ')}` : ''}`;
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        renderer: opts.json ? 'silent' : io.stderrIsTTY ? 'default' : 'simple',
        fallbackRenderer: 'simple',
        rendererOptions: { processOutput: new ProcessOutput(process.stderr, process.stderr) } as never,
        collectErrors: 'minimal',
      } as never,
    );
    await tasks.run().catch(() => undefined);
    const failed = Object.values(results).filter((r) => !r.ok);
    for (const r of Object.values(results)) r.roundTrips = session.conns[r.node]?.commands;

    // who holds each VIP now
    let holders: VipHolders = {};
    let vipOk = false;
    if (!failed.length) {
      // a keepalived (re)started or reloaded here may still re-elect: watch for a master-down timer and a second
      const touched = Object.values(results).some((r) => r.restarted.some((x) => / keepalived$/.test(x)));
      const stableUntil = touched ? Date.now() + reElectionMs(cfg) : 0;
      const w = await waitForVips(cfg, session.conns, cfg.profile === 'fast' ? 8000 : 15000, stableUntil);
      holders = w.holders;
      vipOk = w.ok;
    } else {
      holders = await vipHolders(cfg, session.conns).catch(() => ({}));
    }
    const vipProblems = vipOk || failed.length ? [] : describeVipProblems(cfg, holders);
    const report: InitReport = {
      ok: !failed.length && vipOk,
      runId: session.runId,
      log: session.log.path,
      nodes: Object.values(results).map((r) => ({
        ...r,
        holds: Object.entries(holders)
          .filter(([, hs]) => hs.includes(r.node))
          .map(([v]) => v),
      })),
      vips: holders,
      problems: [...failed.map((f) => `${f.node}: ${f.error}`), ...vipProblems],
    };
    if (opts.json) io.out(JSON.stringify(report, null, 2));
    else {
      const rows = report.nodes.map((n) => [
        n.node,
        n.host,
        n.role,
        String(n.changes),
        n.holds.join(' ') || '-',
        n.ok ? 'ok' : 'FAILED (restored)',
      ]);
      io.out(table(['node', 'host', 'role', 'changes', 'holds VIP', 'result'], rows));
      for (const f of failed) {
        io.err(st.red(`${f.node}: ${f.error}`));
        for (const x of f.restored ?? []) io.err(`  ${x}`);
      }
      for (const p of vipProblems) io.err(st.red(p));
      io.err(`log: ${session.log.path}   backups on each node: /var/backups/ha-setup/${session.runId}/`);
    }
    if (failed.length)
      throw new OperationError(
        `${failed.length} node(s) failed and were restored: ${failed.map((f) => f.node).join(', ')}`,
      );
    if (!vipOk) throw new OperationError('the VIPs did not settle on their masters', vipProblems);
    return 0;
  } finally {
    session.end();
  }
}

function describeVipProblems(cfg: Config, holders: VipHolders): string[] {
  const out: string[] = [];
  for (const inst of cfg.instances) {
    for (const v of inst.vips) {
      const h = holders[v.address] ?? [];
      if (h.length === 0) out.push(`${inst.name} ${v.address}: held by no node (lost VIP)`);
      else if (h.length > 1)
        out.push(
          `${inst.name} ${v.address}: held by ${h.join(' and ')} at once ` +
            '(split brain: check that VRRP passes the firewall)',
        );
      else if (inst.preempt && h[0] !== inst.master)
        out.push(`${inst.name} ${v.address}: held by ${h[0]}, expected the master ${inst.master}`);
    }
  }
  return out;
}
