/**
 * Day-2 moves of VIPs on a serving pair: `switchover` (a target's VIPs from their holder to another ready node) and
 * `maintenance NODE on|off` (a node drained: FAULT for every instance through a state flag keepalived tracks, so it
 * holds and takes no VIP across keepalived restarts and reboots; back again with its VIPs per preempt). Every move is
 * a hand-over without a gap (handover.ts). Returns what was done; the commands render it.
 */
import type { Config } from '../answers/resolve.js';
import { targetsOf, vipsOf, type Target } from '../answers/targets.js';
import { OperationError, PreconditionError } from '../errors.js';
import { gather } from '../facts/gather.js';
import type { FlagFacts } from '../facts/types.js';
import { PATHS } from '../paths.js';
import { expectedHolder } from './health.js';
import { handOver, readiness, returnTo, setFlag, type PairEnv } from './handover.js';
import { vipHolders } from '../observe/holders.js';

export interface MoveResult {
  target: string;
  vips: string[];
  from: string | null;
  to: string | null;
  /** what was done, one line each */
  log: string[];
  /** said to the operator (preempt would bring the VIPs back, ...) */
  notes: string[];
}

/** every node's state flags */
export async function readFlags(env: PairEnv): Promise<Record<string, FlagFacts>> {
  const r = await Promise.all(
    env.cfg.nodes.map(async (n) => {
      const c = env.conns[n.name];
      const f = c?.alive ? await gather(c, ['flags'], { STATE_DIR: PATHS.flagDir }).catch(() => null) : null;
      return [n.name, f?.flags ?? {}] as const;
    }),
  );
  return Object.fromEntries(r);
}

/** the node taking `t` over: the one named, or the ready node of the highest priority that does not hold it */
async function chooseTaker(env: PairEnv, t: Target, holder: string, to?: string): Promise<string> {
  const candidates = env.cfg.nodes
    .filter((n) => n.name !== holder && (!to || n.name === to))
    .sort((a, b) => t.instances[0].priorities[b.name] - t.instances[0].priorities[a.name]);
  const why: string[] = [];
  for (const n of candidates) {
    const r = await readiness(env.conns[n.name]);
    if (r.ready) return n.name;
    why.push(`${n.name}: ${r.why}`);
  }
  throw new PreconditionError(
    `switchover: no ${to ? `ready ${to}` : 'other ready node'} to take ${t.name} over from ${holder}`,
    why,
  );
}

/**
 * demote flags so that `to` wins the target's elections: none at all when `to` wins by its own priority, else every
 * other node demoted. The current holder `from` is left as it is here: demoted now it would lose the VIPs by plain
 * preemption before the planned move is in place; the hand-over demotes it in its trigger (`demote` option)
 */
async function preferNode(
  env: PairEnv,
  t: Target,
  to: string,
  from: string,
): Promise<{ log: string[]; natural: boolean }> {
  const natural = expectedHolder(env.cfg, t, {}) === to;
  const log: string[] = [];
  for (const n of env.cfg.nodes) {
    if (n.name === from && !natural) continue;
    const on = !natural && n.name !== to;
    await setFlag(env.conns[n.name], `demote.${t.name}`, on);
    if (on) log.push(`${n.name} demoted for ${t.name}`);
  }
  if (!natural) log.push(`${from} demoted for ${t.name} as it hands over`);
  return { log, natural };
}

export async function switchover(env: PairEnv, t: Target, to?: string): Promise<MoveResult> {
  if (to && !env.cfg.nodes.some((n) => n.name === to))
    throw new PreconditionError(`--to: unknown node "${to}" (nodes: ${env.cfg.nodes.map((n) => n.name).join(', ')})`);
  const vips = vipsOf(t);
  const holders = await vipHolders(env.cfg, env.conns);
  const held = [...new Set(vips.flatMap((v) => holders[v] ?? []))];
  if (held.length !== 1)
    throw new PreconditionError(
      `switchover: ${t.name} is held by ${held.join(' and ') || 'no node'}; run ha-setup status and fix the pair first`,
    );
  const from = held[0];
  if (to === from) return { target: t.name, vips, from, to, log: [`${t.name} is already on ${to}`], notes: [] };
  const taker = await chooseTaker(env, t, from, to);
  const { log, natural } = await preferNode(env, t, taker, from);
  log.push(...(await handOver(env, from, [t], { how: 'flag', to: taker, demote: !natural })));
  const now = await vipHolders(env.cfg, env.conns);
  const where = [...new Set(vips.flatMap((v) => now[v] ?? []))];
  if (where.length !== 1 || where[0] !== taker)
    throw new OperationError(`switchover: ${t.name} went to ${where.join(' and ') || 'no node'}, not ${taker}`);
  const notes =
    t.preempt && expectedHolder(env.cfg, t, {}) !== taker
      ? [
          `${t.name} preempts: without the switchover it would go back to ${expectedHolder(env.cfg, t, {})}; ` +
            `it stays on ${taker} until the next \`ha-setup switchover\` or \`ha-setup maintenance NODE off\``,
        ]
      : [];
  return { target: t.name, vips, from, to: taker, log, notes };
}

/** maintenance on: the node's VIPs handed over, then every instance in FAULT until maintenance off */
export async function maintenanceOn(env: PairEnv, node: string): Promise<MoveResult[]> {
  const holders = await vipHolders(env.cfg, env.conns);
  const held = targetsOf(env.cfg).filter((t) => vipsOf(t).some((v) => (holders[v] ?? []).includes(node)));
  if (!held.length) {
    await setFlag(env.conns[node], 'maintenance', true);
    const log = [`${node}: maintenance flag on (it held no VIP)`];
    return [{ target: '-', vips: [], from: null, to: null, log, notes: [] }];
  }
  const log = await handOver(env, node, held, { how: 'maintenance' }).catch((e: Error) => {
    // nothing changed yet when no node could take over: a refusal
    throw /no other node is ready/.test(e.message) ? new PreconditionError(`maintenance: ${e.message}`) : e;
  });
  const now = await vipHolders(env.cfg, env.conns);
  return held.map((t) => ({
    target: t.name,
    vips: vipsOf(t),
    from: node,
    to: now[vipsOf(t)[0]]?.[0] ?? null,
    log,
    notes: [],
  }));
}

/** maintenance off: the flag and the node's demotions cleared; its VIPs come back as preempt says */
export async function maintenanceOff(env: PairEnv, node: string): Promise<MoveResult[]> {
  const conn = env.conns[node];
  const { services } = await gather(conn, ['services']);
  const ka = services.keepalived?.active ?? 'unknown';
  const ngx = services.nginx?.active ?? 'unknown';
  if (ka !== 'active' || ngx !== 'active')
    throw new PreconditionError(
      `maintenance off: ${node} must run keepalived and nginx first (keepalived ${ka}, nginx ${ngx}): ` +
        'systemctl start nginx keepalived, then run this again',
    );
  // maintenance off also lifts the node's demotions (a switchover away from it); the VIPs that preempt to it
  // come back as a planned move: it stays demoted for them until the current holder is ready to hand over
  const targets = targetsOf(env.cfg);
  const flags = await readFlags(env);
  flags[node] = {};
  const back = targets.filter((t) => t.preempt && expectedHolder(env.cfg, t, { flags }) === node);
  for (const t of targets) await setFlag(conn, `demote.${t.name}`, back.includes(t));
  await setFlag(conn, 'maintenance', false);
  const log = [`${node}: maintenance flag off`];
  log.push(...(await returnTo(env, node, back)));
  const stay = targets.filter((t) => !back.includes(t)).map((t) => t.name);
  return [
    {
      target: back.map((t) => t.name).join(', ') || '-',
      vips: back.flatMap(vipsOf),
      from: null,
      to: node,
      log,
      notes: stay.length ? [`${stay.join(', ')} stay where they are (nopreempt, or another node is preferred)`] : [],
    },
  ];
}

export function targetsToMove(cfg: Config, opts: { instance?: string; all?: boolean }): Target[] {
  const all = targetsOf(cfg);
  if (opts.all) return all;
  if (opts.instance) {
    const t = all.filter((x) => x.name === opts.instance || x.instances.some((i) => i.name === opts.instance));
    if (!t.length)
      throw new PreconditionError(
        `--instance: unknown instance "${opts.instance}" (instances: ${cfg.instances.map((i) => i.name).join(', ')})`,
      );
    return t;
  }
  if (all.length === 1) return all;
  throw new PreconditionError(
    `switchover: this pair has ${all.length} instances or sync groups (${all.map((t) => t.name).join(', ')}): ` +
      'name one with --instance NAME, or --all',
  );
}
