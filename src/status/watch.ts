/**
 * `ha-setup status --watch`: the pair live, as typed events and a view (nothing here prints: report/watch.ts does).
 * Each node's status is read about once a second in one round trip (collect.ts nodeStatus; the VRRP listen for
 * strangers is left out), who holds each VIP comes from a loop streamed from every node (a sample every 50 ms), and
 * clients are probed through each VIP from the controller. The holder stream, the probes and the X-LB attribution
 * are observe/'s.
 */
import { hostForUrl } from '../answers/ip.js';
import type { Config } from '../answers/resolve.js';
import type { Conn } from '../conn.js';
import { startWatch, type HolderSample, type Watch } from '../observe/holder-stream.js';
import { identify, identities } from '../observe/identify.js';
import { orderedProbe, type ProbeLoop, type ProbeSample } from '../observe/probe.js';
import {
  judgePair,
  LATENT_EVERY,
  nodeStatus,
  WATCH_FACTS,
  WATCH_LIGHT_FACTS,
  type NodeStatus,
  type PairStatus,
} from './collect.js';

/** a holder stream silent this long no longer says what its node holds: a status read since does, or a node that is
 * heard holding the VIP (a busy node's silence is not a VIP gone) */
export const STALE_MS = 1000;
/** ...and is started again after this long when the connection is alive */
const RESTART_MS = 3000;
/** a lost connection is tried again this often */
const RECONNECT_MS = 5000;
/** transitions kept for the view */
const KEPT = 20;

/** what the watch takes from the transport (tests give fakes) */
export interface WatchDeps {
  /** probe loop through a VIP, results in the order sent (default: observe/probe.ts orderedProbe on http://VIP/) */
  probe?(vip: string, intervalMs: number, onResult: (r: ProbeSample) => void): ProbeLoop;
  /** one node's status (default: collect.ts nodeStatus) */
  nodeStatus?(cfg: Config, name: string, conn: Conn | undefined, facts?: readonly string[]): Promise<NodeStatus>;
  now?(): number;
}

export interface InstanceView {
  name: string;
  state: string | null;
  priority: number | null;
}

export interface NodeView {
  node: string;
  host: string;
  /** false until the node's first status */
  known: boolean;
  reachable: boolean;
  error: string | null;
  keepalived: string;
  nginx: string;
  instances: InstanceView[];
  /** keepalived runs but its state could not be read: why (the instances are unknown, not absent) */
  stateUnreadable: string | null;
  maintenance: boolean;
  demoted: string[];
}

export interface VipView {
  instance: string;
  vip: string;
  /** null until every node has said */
  holders: string[] | null;
  expected: string | null;
  problem: string | null;
}

export interface ClientsView {
  instance: string;
  vip: string;
  /** the last probe: null before the first answer */
  served: boolean | null;
  by: string | null;
  /** how `by` was found: the X-LB header, or the VIP holder at the time */
  via: 'header' | 'holder' | null;
  status: number;
  ms: number;
  ok: number;
  failed: number;
  total: number;
  everServed: boolean;
  /** the first failed probe of the current failure */
  failingSince: number | null;
  failedRun: number;
  lastOutage: { t: number; ms: number; failed: number } | null;
}

/** a line of the last transitions: t null for a keepalived log line (it carries its own time) */
export interface TransitionView {
  t: number | null;
  text: string;
}

export interface WatchView {
  started: number;
  now: number;
  probeIntervalMs: number;
  nodes: NodeView[];
  vips: VipView[];
  clients: ClientsView[];
  transitions: TransitionView[];
  problems: string[];
}

export type NodeEvent = { kind: 'node'; t: number; changes: string[]; first: boolean } & NodeView;
export interface VipEvent {
  kind: 'vip';
  t: number;
  instance: string;
  vip: string;
  /** null: the first holders the watch knows */
  from: string[] | null;
  to: string[];
  /** when nobody held it in between: the last holders and how long it had none */
  movedFrom?: string[];
  gapMs?: number;
}
export interface ClientsEvent {
  kind: 'clients';
  t: number;
  instance: string;
  vip: string;
  served: boolean;
  status: number;
  by: string | null;
  via: 'header' | 'holder' | null;
  ms: number;
  ok: number;
  failed: number;
  total: number;
  first: boolean;
  /** served again: how long and how many probes failed */
  outage?: { ms: number; failed: number };
}
export interface TransitionEvent {
  kind: 'transition';
  t: number;
  node: string;
  line: string;
}
export type WatchEvent = NodeEvent | VipEvent | ClientsEvent | TransitionEvent;

/** "lb01, lb02", or "nobody" */
export function holdersText(h: string[] | null): string {
  return h === null ? '?' : h.length ? h.join(', ') : 'nobody';
}

/** an instance as the watch shows it: STATE(effective priority), '-' when the node has none */
export function instanceText(i: InstanceView | undefined): string {
  return i ? `${i.state ?? '?'}(${i.priority ?? '?'})` : '-';
}

export function nodeView(n: NodeStatus): NodeView {
  return {
    node: n.node,
    host: n.host,
    known: true,
    reachable: n.reachable,
    error: n.error ?? null,
    keepalived: n.keepalived,
    nginx: n.nginx,
    instances: n.instances.map((i) => ({ name: i.name, state: i.state, priority: i.effectivePriority })),
    stateUnreadable: n.stateUnreadable,
    maintenance: n.maintenance,
    demoted: n.demoted,
  };
}

/** what changed between two views of a node, one phrase each ("keepalived active -> inactive") */
export function nodeChanges(a: NodeView, b: NodeView): string[] {
  const out: string[] = [];
  const diff = (what: string, x: string, y: string) => void (x !== y && out.push(`${what} ${x} -> ${y}`));
  diff('reachable', a.reachable ? 'yes' : 'no', b.reachable ? 'yes' : 'no');
  // an unreachable node's services are unknown, not changed
  if (!a.reachable || !b.reachable) return out;
  diff('keepalived', a.keepalived, b.keepalived);
  diff('nginx', a.nginx, b.nginx);
  const names = [...new Set([...a.instances, ...b.instances].map((i) => i.name))];
  for (const n of names)
    diff(n, instanceText(a.instances.find((i) => i.name === n)), instanceText(b.instances.find((i) => i.name === n)));
  diff('maintenance', a.maintenance ? 'on' : 'off', b.maintenance ? 'on' : 'off');
  diff('demoted', a.demoted.join(',') || '-', b.demoted.join(',') || '-');
  return out;
}

/** the lines of `cur` after those already seen in `old` (both the tail of the same log) */
export function newLines(old: string[], cur: string[]): string[] {
  if (!old.length) return cur;
  const at = cur.lastIndexOf(old[old.length - 1]);
  if (at >= 0) return cur.slice(at + 1);
  const seen = new Set(old);
  return cur.filter((l) => !seen.has(l));
}

function pendingNode(cfg: Config, name: string): NodeView {
  const host = cfg.nodes.find((n) => n.name === name)?.host ?? '';
  return {
    node: name,
    host,
    known: false,
    reachable: false,
    error: null,
    keepalived: '?',
    nginx: '?',
    instances: [],
    stateUnreadable: null,
    maintenance: false,
    demoted: [],
  };
}

function newClients(instance: string, vip: string): ClientsView {
  return {
    instance,
    vip,
    served: null,
    by: null,
    via: null,
    status: 0,
    ms: 0,
    ok: 0,
    failed: 0,
    total: 0,
    everServed: false,
    failingSince: null,
    failedRun: 0,
    lastOutage: null,
  };
}

/**
 * The watch's state: fed node statuses, holder samples and probe results, it returns the events they make and
 * keeps the view. Pure but for the clock passed in.
 */
export class WatchState {
  readonly vips: { instance: string; vip: string }[];
  private statuses = new Map<string, { status: NodeStatus; at: number }>();
  private views = new Map<string, NodeView>();
  private logs = new Map<string, string[]>();
  private streamed = new Map<string, { vips: Set<string>; at: number }>();
  private holders = new Map<string, string[]>();
  private empty = new Map<string, { since: number; last: string[] }>();
  private clients = new Map<string, ClientsView>();
  private transitions: TransitionView[] = [];
  private judged: PairStatus | null = null;
  private who: (value: string | null) => string | null = () => null;

  constructor(
    private readonly cfg: Config,
    private readonly started: number,
    private readonly probeIntervalMs: number,
  ) {
    this.vips = cfg.instances.flatMap((i) => i.vips.map((v) => ({ instance: i.name, vip: v.address })));
    for (const v of this.vips) this.clients.set(v.vip, newClients(v.instance, v.vip));
  }

  /** a node's status read at t: its changes, new lines in keepalived's log, holders it makes known */
  onNodeStatus(st: NodeStatus, t: number): WatchEvent[] {
    const events: WatchEvent[] = [];
    this.statuses.set(st.node, { status: st, at: t });
    const view = nodeView(st);
    const old = this.views.get(st.node);
    this.views.set(st.node, view);
    const changes = old ? nodeChanges(old, view) : [];
    if (!old || changes.length) events.push({ kind: 'node', t, ...view, changes, first: !old });
    if (st.reachable) {
      const known = this.logs.get(st.node);
      this.logs.set(st.node, st.transitions);
      // the log's tail as the watch finds it is history, shown but not an event
      if (!known) this.remember(st.transitions.map((l) => ({ t: null, text: `${st.node}: ${l}` })));
      for (const line of known ? newLines(known, st.transitions) : []) {
        events.push({ kind: 'transition', t, node: st.node, line });
        this.remember([{ t: null, text: `${st.node}: ${line}` }]);
      }
    }
    events.push(...this.recompute(t));
    this.judge();
    return events;
  }

  /** samples from the holder streams (any order) */
  onHolderSamples(samples: HolderSample[]): WatchEvent[] {
    const events: WatchEvent[] = [];
    for (const s of [...samples].sort((a, b) => a.t - b.t)) {
      this.streamed.set(s.node, { vips: new Set(s.vips), at: s.t });
      events.push(...this.recompute(s.t));
    }
    return events;
  }

  /** a stream that went silent stops counting once a status read or another node says otherwise */
  refresh(t: number): WatchEvent[] {
    return this.recompute(t);
  }

  /** the time of a node's last holder sample, or null */
  streamedAt(node: string): number | null {
    return this.streamed.get(node)?.at ?? null;
  }

  /** a probe through `vip` answered (or not): an event when it starts or stops being served, or another serves */
  onProbe(vip: string, r: ProbeSample): WatchEvent[] {
    const c = this.clients.get(vip);
    if (!c) return [];
    // served before the pair was read once (the X-LB header cannot be told yet): the first event waits for that
    if (r.ok && !this.judged && c.served === null) {
      // counted, not reported yet
      Object.assign(c, { ok: c.ok + 1, total: c.total + 1, everServed: true });
      return [];
    }
    let by = r.ok ? this.who(r.servedBy) : null;
    let via: ClientsView['via'] = by ? 'header' : null;
    const h = this.holders.get(vip);
    if (r.ok && !by && h?.length === 1) [by, via] = [h[0], 'holder'];
    const first = c.served === null;
    const changed = first || c.served !== r.ok || (r.ok && by !== c.by);
    let outage: ClientsEvent['outage'];
    if (!r.ok) {
      if (c.served !== false) [c.failingSince, c.failedRun] = [r.t, 0];
      c.failedRun++;
    } else if (c.served === false && c.failingSince !== null) {
      outage = { ms: r.t - c.failingSince, failed: c.failedRun };
      c.lastOutage = { t: r.t, ...outage };
      c.failingSince = null;
    }
    Object.assign(c, { served: r.ok, by, via, status: r.status, ms: r.ms, total: c.total + 1 });
    if (r.ok) [c.ok, c.everServed] = [c.ok + 1, true];
    else c.failed++;
    if (!changed) return [];
    const { instance, ok, failed, total } = c;
    const e: ClientsEvent = {
      kind: 'clients',
      t: r.t,
      instance,
      vip,
      served: r.ok,
      status: r.status,
      by,
      via,
      ms: r.ms,
      ok,
      failed,
      total,
      first,
    };
    if (outage) e.outage = outage;
    return [e];
  }

  problems(): string[] {
    const out = this.judged ? [...this.judged.problems, ...this.judged.latent] : [];
    for (const c of this.clients.values())
      if (c.everServed && c.served === false)
        out.push(`clients: ${c.instance} ${c.vip} not served (${c.failedRun} probe(s) failed in a row)`);
    return out;
  }

  view(now: number): WatchView {
    return {
      started: this.started,
      now,
      probeIntervalMs: this.probeIntervalMs,
      nodes: this.cfg.nodes.map((n) => this.views.get(n.name) ?? pendingNode(this.cfg, n.name)),
      vips: this.vips.map(({ instance, vip }) => {
        const j = this.judged?.vips.find((v) => v.vip === vip);
        return {
          instance,
          vip,
          holders: this.holders.get(vip) ?? null,
          expected: j?.expected ?? null,
          problem: j?.problem ?? null,
        };
      }),
      clients: this.vips.map(({ vip }) => ({ ...this.clients.get(vip)! })),
      transitions: this.transitions.slice(),
      problems: this.problems(),
    };
  }

  private remember(lines: TransitionView[]): void {
    this.transitions.push(...lines);
    this.transitions.splice(0, Math.max(0, this.transitions.length - KEPT));
  }

  /**
   * does `node` hold `vip` at t: its stream while it is fresh, else a status read since its last sample; null when
   * neither says (a stream gone silent on a busy node is not a VIP gone)
   */
  private holds(node: string, vip: string, t: number): boolean | null {
    const s = this.streamed.get(node);
    if (s && t - s.at <= STALE_MS) return s.vips.has(vip);
    const st = this.statuses.get(node);
    if (st && (!s || st.at >= s.at)) return st.status.reachable && st.status.addresses.includes(vip);
    return null;
  }

  /** holders of every VIP at t; an event for each that changed (none until every node has said something) */
  private recompute(t: number): WatchEvent[] {
    const names = this.cfg.nodes.map((n) => n.name);
    if (names.some((n) => !this.streamed.has(n) && !this.statuses.has(n))) return [];
    const events: WatchEvent[] = [];
    for (const { instance, vip } of this.vips) {
      const said = names.map((n) => [n, this.holds(n, vip, t)] as const);
      const before = this.holders.get(vip) ?? null;
      // a node that says nothing keeps what it was last seen holding, until a node that does say holds the VIP
      const othersHold = said.some(([, h]) => h === true);
      const now = said
        .filter(([n, h]) => h === true || (h === null && !othersHold && !!before?.includes(n)))
        .map(([n]) => n);
      if (before && before.join() === now.join()) continue;
      this.holders.set(vip, now);
      events.push(this.vipEvent(instance, vip, before, now, t));
    }
    if (events.length) this.judge();
    return events;
  }

  private vipEvent(instance: string, vip: string, from: string[] | null, to: string[], t: number): VipEvent {
    const e: VipEvent = { kind: 'vip', t, instance, vip, from, to };
    const gap = this.empty.get(vip);
    if (to.length === 0) {
      if (!gap && from?.length) this.empty.set(vip, { since: t, last: from });
    } else {
      this.empty.delete(vip);
      if (gap && from?.length === 0) [e.movedFrom, e.gapMs] = [gap.last, t - gap.since];
    }
    if (from) this.remember([{ t, text: `${instance} ${vip} ${holdersText(from)} -> ${holdersText(to)}` }]);
    return e;
  }

  /** the pair judged as status does, with the holders the streams saw */
  private judge(): void {
    if (this.cfg.nodes.some((n) => !this.statuses.has(n.name))) return;
    const all = new Set(this.vips.map((v) => v.vip));
    const nodes = this.cfg.nodes.map(({ name }) => {
      const s = this.statuses.get(name)!.status;
      const held = this.vips.filter((v) => this.holders.get(v.vip)?.includes(name)).map((v) => v.vip);
      return this.holders.size ? { ...s, addresses: [...s.addresses.filter((a) => !all.has(a)), ...held] } : s;
    });
    this.judged = judgePair(this.cfg, nodes);
    const ids = identities(this.cfg, this.judged);
    this.who = (v) => identify(v, ids);
  }
}

export interface WatchOptions {
  /** ms between probes through each VIP */
  probeIntervalMs: number;
  /** ms between two status reads of a node (default 1000) */
  statusIntervalMs?: number;
  /** ms between two reads of the holder samples (default 50) */
  tickMs?: number;
  /** a probe not answered within this fails (default 1000) */
  probeTimeoutMs?: number;
  /** a new connection to a node whose connection was lost (session.reconnect) */
  reconnect?(node: string): Promise<Conn>;
}

export interface StatusWatch {
  view(): WatchView;
  /** stop every loop (probes, holder streams, status reads); no event after it */
  stop(): Promise<void>;
}

/** the loops of a watch: status reads per node, holder streams, probes, and a tick reading the streams */
class WatchRun implements StatusWatch {
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly wake = new Set<() => void>();
  private readonly streams = new Map<string, { stream: Watch; conn: Conn; since: number }>();
  private readonly probes: ProbeLoop[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private lastTick: number;
  readonly state: WatchState;

  constructor(
    private readonly cfg: Config,
    private readonly conns: Record<string, Conn | undefined>,
    private readonly opts: WatchOptions,
    private readonly deps: WatchDeps,
    private readonly onEvent: (e: WatchEvent) => void,
  ) {
    this.now = deps.now ?? Date.now;
    this.state = new WatchState(cfg, this.now(), opts.probeIntervalMs);
    this.lastTick = this.now();
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 50);
    const probe =
      deps.probe ??
      ((vip: string, ms: number, on: (r: ProbeSample) => void) =>
        orderedProbe(`http://${hostForUrl(vip)}/`, ms, opts.probeTimeoutMs ?? 1000, on));
    for (const { vip } of this.state.vips)
      this.probes.push(probe(vip, opts.probeIntervalMs, (r) => this.emit(this.state.onProbe(vip, r))));
    for (const n of cfg.nodes) void this.nodeLoop(n.name);
  }

  view(): WatchView {
    return this.state.view(this.now());
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    clearInterval(this.timer);
    for (const w of [...this.wake]) w();
    const loops = [...this.probes, ...[...this.streams.values()].map((s) => s.stream)];
    this.streams.clear();
    this.stopping = Promise.all(loops.map((l) => l.stop().catch(() => undefined))).then(() => undefined);
    return this.stopping;
  }

  private emit(events: WatchEvent[]): void {
    for (const e of events) if (!this.stopped) this.onEvent(e);
  }

  private tick(): void {
    const samples: HolderSample[] = [];
    // taken out of the stream's array, so a long watch does not keep them all
    for (const { stream } of this.streams.values()) samples.push(...stream.samples.splice(0));
    this.emit(this.state.onHolderSamples(samples));
    // after the controller itself stalled, the streams' lines may still wait in the sockets: not silence yet
    const t = this.now();
    const stalled = t - this.lastTick > STALE_MS / 2;
    this.lastTick = t;
    if (!stalled) this.emit(this.state.refresh(t));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  /** about once a second: reconnect if the connection is lost, keep the holder stream going, read the status */
  private async nodeLoop(name: string): Promise<void> {
    let conn = this.conns[name];
    let tried = -Infinity;
    const read =
      this.deps.nodeStatus ??
      ((c: Config, n: string, x: Conn | undefined, f?: readonly string[]) =>
        nodeStatus(c, n, x, (f ?? WATCH_FACTS) as typeof WATCH_FACTS));
    let reads = 0;
    let latent: Pick<NodeStatus, 'nginxTest' | 'keepalivedTest'> | null = null;
    while (!this.stopped) {
      const t0 = this.now();
      if (!conn?.alive && this.opts.reconnect && t0 - tried >= RECONNECT_MS) {
        tried = t0;
        conn = await this.opts.reconnect(name).catch(() => conn);
      }
      if (!this.stopped) await this.ensureStream(name, conn);
      if (this.stopped) break;
      // the latent-fault checks on the first read and every LATENT_EVERY reads after a reachable one; their last
      // result in between
      const full = !latent || reads % LATENT_EVERY === 0;
      const st = await read(this.cfg, name, conn, full ? WATCH_FACTS : WATCH_LIGHT_FACTS);
      if (this.stopped) break;
      if (st.reachable) {
        reads++;
        if (full) latent = { nginxTest: st.nginxTest, keepalivedTest: st.keepalivedTest };
        else if (latent) Object.assign(st, latent);
      }
      this.emit(this.state.onNodeStatus(st, this.now()));
      await this.sleep((this.opts.statusIntervalMs ?? 1000) - (this.now() - t0));
    }
  }

  /** (re)start the node's holder stream when it has none, it went silent, or the connection is a new one */
  private async ensureStream(name: string, conn: Conn | undefined): Promise<void> {
    const cur = this.streams.get(name);
    const last = Math.max(this.state.streamedAt(name) ?? -Infinity, cur?.since ?? -Infinity);
    if (cur && cur.conn === conn && this.now() - last < RESTART_MS) return;
    if (!conn?.alive) return;
    if (cur) {
      this.streams.delete(name);
      void cur.stream.stop().catch(() => undefined);
    }
    const stream = await startWatch(
      { [name]: conn },
      this.state.vips.map((v) => v.vip),
      50,
    ).catch(() => null);
    if (!stream) return;
    if (this.stopped) return void (await stream.stop().catch(() => undefined));
    this.streams.set(name, { stream, conn, since: this.now() });
  }
}

/** start watching the pair: events go to onEvent as they happen until stop() */
export function startStatusWatch(
  cfg: Config,
  conns: Record<string, Conn | undefined>,
  opts: WatchOptions,
  deps: WatchDeps,
  onEvent: (e: WatchEvent) => void,
): StatusWatch {
  return new WatchRun(cfg, conns, opts, deps, onEvent);
}
