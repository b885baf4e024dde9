/**
 * `ha-setup status`: per node services, VRRP state and VIPs; exit 1 on split brain, lost VIP, a node down, a latent
 * fault or a host acting for the pair without being a member. `--watch`: the same live until Ctrl-C (status/watch.ts
 * watches, report/watch.ts prints).
 */
import type { Config } from '../answers/resolve.js';
import type { Conn } from '../conn.js';
import { OperationError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderStatus } from '../report/status.js';
import { startRenderer, watchOutput, type RendererOptions, type WatchRenderer } from '../report/watch.js';
import { openSession, type Session } from '../ssh/session.js';
import { pairStatus } from '../status/collect.js';
import { strangers } from '../status/strangers.js';
import { startStatusWatch, type WatchDeps, type WatchOptions } from '../status/watch.js';
import { loadConfig } from './common.js';

export interface StatusOptions {
  answers?: string;
  json?: boolean;
  watch?: boolean;
  /** --watch: ms between probes through each VIP */
  interval?: string;
  /** --watch: stop after this many seconds */
  duration?: string;
}

export async function statusCommand(io: IO, opts: StatusOptions): Promise<number> {
  const times = opts.watch ? watchTimes(opts) : null;
  if (!times && (opts.interval !== undefined || opts.duration !== undefined))
    throw new UsageError('--interval and --duration go with --watch');
  const cfg = loadConfig(io, opts.answers);
  const session = await openSession(io, cfg, { askPassword: passwordPrompt(io) });
  try {
    return times ? await statusWatch(io, cfg, session, times, !!opts.json) : await statusOnce(io, cfg, session, opts);
  } finally {
    session.close();
  }
}

async function statusOnce(io: IO, cfg: Config, session: Session, opts: StatusOptions): Promise<number> {
  const [s, others] = await Promise.all([pairStatus(cfg, session.conns), strangers(cfg, session.conns)]);
  s.strangers = others;
  s.problems.push(...others.map((x) => `NOT A MEMBER: ${x}`));
  s.ok = s.problems.length === 0 && s.latent.length === 0;
  renderStatus(io, cfg, s, !!opts.json);
  if (!s.ok)
    throw new OperationError(
      `pair unhealthy: ${s.problems.length + s.latent.length} problem(s)`,
      opts.json ? [...s.problems, ...s.latent] : [],
    );
  return 0;
}

/** --interval (50..5000 ms, default 200) and --duration (seconds, none: until Ctrl-C), checked */
export function watchTimes(opts: Pick<StatusOptions, 'interval' | 'duration'>): {
  probeIntervalMs: number;
  durationMs: number | null;
} {
  const interval = Number(opts.interval ?? 200);
  if (!Number.isInteger(interval) || interval < 50 || interval > 5000)
    throw new UsageError(`--interval: milliseconds between 50 and 5000 (not ${opts.interval})`);
  const duration = opts.duration === undefined ? null : Number(opts.duration);
  if (duration !== null && !(duration > 0 && Number.isFinite(duration)))
    throw new UsageError(`--duration: a number of seconds above 0 (not ${opts.duration})`);
  return { probeIntervalMs: interval, durationMs: duration === null ? null : Math.round(duration * 1000) };
}

function statusWatch(
  io: IO,
  cfg: Config,
  session: Session,
  times: ReturnType<typeof watchTimes>,
  json: boolean,
): Promise<number> {
  return runWatch(io, cfg, session.conns, {
    ...times,
    json,
    reconnect: (name) => session.reconnect(cfg.nodes.find((n) => n.name === name)!),
    size: () => ({ columns: process.stdout.columns, rows: process.stdout.rows }),
    // a closed stdout (`| head`) is an 'error' on the stream: stop quietly instead of crashing
    onOutputError: (stop) => void process.stdout.on('error', stop),
  });
}

export type RunWatchOptions = Omit<WatchOptions, 'probeIntervalMs'> &
  Pick<RendererOptions, 'size'> & {
    probeIntervalMs: number;
    durationMs: number | null;
    json: boolean;
    /** hook the output's failures (the process's stdout) */
    onOutputError?: (stop: () => void) => void;
  };

/**
 * Watch until Ctrl-C, the duration, or stdout going away; 0, or 1 when the duration ends on a view with problems.
 * The first Ctrl-C stops the loops and restores the cursor; the caller closes the connections.
 */
export async function runWatch(
  io: IO,
  cfg: Config,
  conns: Record<string, Conn | undefined>,
  o: RunWatchOptions,
  deps: WatchDeps = {},
): Promise<number> {
  let finish: (why: 'interrupt' | 'duration' | 'closed') => void = () => undefined;
  const ended = new Promise<'interrupt' | 'duration' | 'closed'>((resolve) => (finish = resolve));
  let out: WatchRenderer | null = null;
  const w = startStatusWatch(cfg, conns, o, deps, (e) => out?.event(e));
  const renderer = startRenderer(io, watchOutput(io, o.json), () => w.view(), {
    size: o.size,
    onClosed: () => finish('closed'),
  });
  out = renderer;
  io.interrupt?.onInterrupt({
    first: () => finish('interrupt'),
    second: () => {
      renderer.restore();
      return [];
    },
  });
  o.onOutputError?.(() => (renderer.closed(), finish('closed')));
  const timer = o.durationMs === null ? null : setTimeout(() => finish('duration'), o.durationMs);
  let why: Awaited<typeof ended>;
  try {
    why = await ended;
  } finally {
    if (timer) clearTimeout(timer);
    await w.stop();
    renderer.stop();
    io.interrupt?.onInterrupt(null);
  }
  const problems = w.view().problems;
  if (why === 'duration' && problems.length)
    throw new OperationError(`the pair had ${problems.length} problem(s) at the end of the watch`, problems);
  return 0;
}
