/**
 * What `status --watch` prints: on a terminal a frame redrawn in place (cursor moves, at most ~5 times a second and
 * only when something changed or the clock's second did); without one a timestamped line per change; with --json
 * one JSON object per change (newline-delimited). Colours only on the terminal and when io.color (NO_COLOR). What the
 * hosts said (log lines, errors, instance names and states) is shown with control characters escaped.
 */
import { styler, type IO } from '../io.js';
import { printable } from '../printable.js';
import {
  holdersText,
  instanceText,
  type ClientsView,
  type NodeView,
  type WatchEvent,
  type WatchView,
} from '../status/watch.js';

type Styler = ReturnType<typeof styler>;
type Paint = (s: string) => string;
export type WatchOutput = 'tty' | 'plain' | 'json';

const ESC = '\x1b[';
const HIDE = `${ESC}?25l`;
const SHOW = `${ESC}?25h`;
/** at most this often on a change */
const REDRAW_MS = 200;
const TRANSITIONS_SHOWN = 6;

export function watchOutput(io: Pick<IO, 'stdoutIsTTY'>, json: boolean): WatchOutput {
  return json ? 'json' : io.stdoutIsTTY ? 'tty' : 'plain';
}

/** 12:01:03.250, local time */
export function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** 3s, 1m05s, 2h10m */
function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  return s < 3600
    ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** 612 ms below 10 s, else as elapsed */
function duration(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  return s < 3600
    ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** one JSON object per event: {time (ISO), kind, ...} */
export function jsonLine(e: WatchEvent): string {
  const { t, kind, ...rest } = e;
  return JSON.stringify({ time: new Date(t).toISOString(), kind, ...rest });
}

function instancesText(n: Pick<NodeView, 'instances'>): string {
  return printable(n.instances.map((i) => `${i.name} ${instanceText(i)}`).join(', '));
}

function nodeText(e: Extract<WatchEvent, { kind: 'node' }>, st: Styler): string {
  if (!e.reachable) return st.red(`${e.node}: UNREACHABLE${e.error ? ` (${printable(e.error)})` : ''}`);
  if (!e.first) return `${e.node}: ${printable(e.changes.join('; '))}`;
  const mode = [e.maintenance ? 'maintenance' : '', e.demoted.length ? `demoted (${e.demoted.join(', ')})` : ''];
  const parts = [`keepalived ${e.keepalived}`, `nginx ${e.nginx}`, instancesText(e), ...mode];
  return `${e.node}: ${parts.filter(Boolean).join(', ')}`;
}

function clientsText(e: Extract<WatchEvent, { kind: 'clients' }>, st: Styler): string {
  const counts = `${e.ok} served, ${e.failed} failed of ${e.total}`;
  const head = `clients ${e.instance} ${e.vip}:`;
  if (!e.served) return st.red(`${head} FAILED (${e.status ? `HTTP ${e.status}` : 'no answer'}); ${counts}`);
  const by = e.by ? ` by ${e.by}${e.via === 'holder' ? ' (the holder)' : ''}` : '';
  const again = e.outage ? ` again after ${duration(e.outage.ms)} (${e.outage.failed} failed)` : '';
  return `${head} ${st.green(`served${by}${again}`)} (HTTP ${e.status}, ${e.ms} ms); ${counts}`;
}

/** the text of an event, without its time */
export function eventText(e: WatchEvent, st: Styler): string {
  switch (e.kind) {
    case 'node':
      return nodeText(e, st);
    case 'vip': {
      const head = `${e.instance} ${e.vip}`;
      const paint: Paint = e.to.length === 1 ? (s) => s : st.red;
      if (!e.from) return `${head} held by ${paint(holdersText(e.to))}`;
      const after = e.movedFrom
        ? ` (after ${holdersText(e.movedFrom)}, ${duration(e.gapMs ?? 0)} without a holder)`
        : '';
      return `${head} ${holdersText(e.from)} -> ${paint(holdersText(e.to))}${after}`;
    }
    case 'clients':
      return clientsText(e, st);
    case 'transition':
      return `${e.node} log: ${printable(e.line)}`;
  }
}

/** a plain line per event: "12:01:03.250 VI_1 198.18.0.100 lb01 -> lb02" */
export function plainLine(e: WatchEvent, st: Styler): string {
  return `${clock(e.t)} ${eventText(e, st)}`;
}

type Cell = string | [string, Paint];

/** columns padded on the visible text, then painted */
function grid(rows: Cell[][]): string[] {
  const text = (c: Cell) => (typeof c === 'string' ? c : c[0]);
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, text(c).length)));
  return rows.map((r) =>
    r
      .map((c, i) => (typeof c === 'string' ? c : c[1](c[0])) + ' '.repeat(w[i] - text(c).length))
      .join('  ')
      .trimEnd(),
  );
}

function nodeRows(v: WatchView, st: Styler): string[] {
  const good = (s: string, ok: boolean): Cell => [s, ok ? st.green : st.red];
  const rows: Cell[][] = [['node', 'host', 'reachable', 'keepalived', 'nginx', 'vrrp (effective prio)', 'mode']];
  for (const n of v.nodes) {
    if (!n.known) {
      rows.push([n.node, n.host, ['…', st.dim]]);
      continue;
    }
    const mode = n.maintenance ? 'maintenance' : n.demoted.length ? `demoted (${n.demoted.join(', ')})` : '-';
    rows.push([
      n.node,
      n.host,
      good(n.reachable ? 'yes' : `NO${n.error ? ` (${printable(n.error)})` : ''}`, n.reachable),
      ...(n.reachable
        ? [good(n.keepalived, n.keepalived === 'active'), good(n.nginx, n.nginx === 'active')]
        : ['?', '?']),
      n.stateUnreadable
        ? ['unknown (state not readable)', st.red]
        : printable(n.instances.map((i) => `${i.name}=${instanceText(i)}`).join(' ')) || '-',
      [mode, mode === '-' ? (s) => s : st.yellow],
    ]);
  }
  return grid(rows);
}

function clientsCells(c: ClientsView, now: number, st: Styler): Cell[] {
  const o = c.lastOutage;
  const counts = [String(c.ok), c.failed ? ([String(c.failed), st.red] as Cell) : '0'];
  const last = o ? `${duration(o.ms)}, ${o.failed} failed, ${clock(o.t).slice(0, 8)}` : '-';
  if (c.served === null) return [['waiting for the first answer', st.dim], ...counts, last];
  if (c.served === false) {
    const since = c.failingSince !== null ? ` for ${duration(now - c.failingSince)}` : '';
    return [[c.everServed ? `FAILED${since}` : 'FAILED (never served from here)', st.red], ...counts, last];
  }
  const by = c.by ? ` by ${c.by}${c.via === 'holder' ? ' (holder)' : ''}` : '';
  return [[`served${by}`, st.green], ...counts, last];
}

function vipRows(v: WatchView, st: Styler): string[] {
  const rows: Cell[][] = [['vip', 'holder', 'expected', 'clients', 'served', 'failed', 'last outage']];
  v.vips.forEach((x, i) => {
    const ok = x.holders !== null && x.holders.length === 1 && !x.problem;
    rows.push([
      `${x.instance} ${x.vip}`,
      [holdersText(x.holders), x.holders === null ? st.dim : ok ? st.green : st.red],
      x.expected ?? 'any',
      ...clientsCells(v.clients[i], v.now, st),
    ]);
  });
  return grid(rows);
}

/** the terminal frame: header, nodes, VIPs with the clients' view, last transitions, problems */
export function frame(v: WatchView, st: Styler): string[] {
  const head =
    `${st.bold('ha-setup status --watch')}  ${clock(v.now).slice(0, 8)}  ` +
    st.dim(`watching for ${elapsed(v.now - v.started)}, clients probed every ${v.probeIntervalMs} ms, Ctrl-C to leave`);
  const out = [head, '', ...nodeRows(v, st), '', ...vipRows(v, st)];
  if (v.transitions.length) {
    out.push('', st.bold('last transitions'));
    for (const t of v.transitions.slice(-TRANSITIONS_SHOWN))
      out.push(`  ${t.t === null ? '' : `${clock(t.t)} `}${printable(t.text)}`);
  }
  if (v.problems.length) out.push('', st.red('problems'), ...v.problems.map((p) => `  ${st.red(printable(p))}`));
  return out;
}

const SGR = new RegExp(`^${ESC.replace('[', '\\[')}[0-9;?]*[A-Za-z]`);

/** cut a line to `columns` visible characters (escape sequences kept, a colour cut is reset) */
export function fit(line: string, columns: number): string {
  let out = '';
  let seen = 0;
  let i = 0;
  while (i < line.length) {
    const m = line.charCodeAt(i) === 27 ? SGR.exec(line.slice(i)) : null;
    if (m) {
      out += m[0];
      i += m[0].length;
    } else if (seen >= columns) {
      return out.includes(ESC) ? `${out}${ESC}0m` : out;
    } else {
      out += line[i++];
      seen++;
    }
  }
  return out;
}

export interface RendererOptions {
  /** the terminal's size now (columns, rows), when known */
  size?: () => { columns?: number; rows?: number };
  /** writing failed (stdout closed): the command stops */
  onClosed?: () => void;
  now?: () => number;
}

export interface WatchRenderer {
  event(e: WatchEvent): void;
  /** stdout went away: write nothing more */
  closed(): void;
  /** the cursor back (a second Ctrl-C leaves at once) */
  restore(): void;
  /** the last frame drawn, the cursor shown, timers cleared */
  stop(): void;
}

/** the renderer for `mode`; `view` gives the watch's view now */
export function startRenderer(
  io: IO,
  mode: WatchOutput,
  view: () => WatchView,
  opts: RendererOptions = {},
): WatchRenderer {
  // colour on the terminal only (io.color: NO_COLOR, TERM=dumb): not into a file or a pipe
  const st = styler({ color: io.color && mode === 'tty' });
  const now = opts.now ?? Date.now;
  let gone = false;
  const write = (text: string) => {
    if (gone) return;
    try {
      io.out(text);
    } catch {
      gone = true;
      opts.onClosed?.();
    }
  };
  if (mode !== 'tty') {
    const line = mode === 'json' ? jsonLine : (e: WatchEvent) => plainLine(e, st);
    return { event: (e) => write(line(e)), closed: () => void (gone = true), restore() {}, stop() {} };
  }
  return terminal(write, view, st, now, opts, () => (gone = true));
}

/** the frame redrawn in place: the cursor moved up over the last frame, every line cleared to its end */
function terminal(
  write: (text: string) => void,
  view: () => WatchView,
  st: Styler,
  now: () => number,
  opts: RendererOptions,
  close: () => void,
): WatchRenderer {
  let drawn = 0;
  let dirty = true;
  let last = -Infinity;
  let hidden = false;
  let stopped = false;
  const draw = (extra = '') => {
    const size = opts.size?.() ?? {};
    const rows = size.rows ? Math.max(1, size.rows - 1) : Infinity;
    const lines = frame(view(), st)
      .slice(0, rows)
      .map((l) => (size.columns ? fit(l, size.columns - 1) : l));
    const up = drawn ? `${ESC}${drawn}F` : '';
    write(`${hidden ? '' : HIDE}${up}${lines.map((l) => `${l}${ESC}K`).join('\n')}${ESC}J${extra}`);
    [drawn, hidden, dirty, last] = [lines.length, true, false, now()];
  };
  const timer = setInterval(() => {
    const t = now();
    if ((dirty && t - last >= REDRAW_MS) || Math.floor(t / 1000) !== Math.floor(last / 1000)) draw();
  }, REDRAW_MS / 2);
  return {
    event() {
      dirty = true;
    },
    closed() {
      close();
    },
    restore() {
      if (hidden) write(SHOW);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw(SHOW);
    },
  };
}
