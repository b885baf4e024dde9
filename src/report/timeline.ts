/** Timeline pictures of a failover test: a terminal strip per scenario, and a self-contained SVG/HTML. */
import type { ScenarioResult } from '../failover/run.js';
import { holdersAt } from '../failover/measure.js';

const s = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);

export function headline(r: ScenarioResult): string {
  return (
    `${r.instance} ${r.name}: ${r.masterBefore} -> ${r.masterAfter ?? 'nobody'}, gap ${s(r.gapMs)} ` +
    `(bound ${s(r.expectedMaxMs)}), ` +
    `new holder after ${s(r.timeToHolderMs)}, failed ${r.failedProbes}/${r.totalProbes} probes, ` +
    `split brain ${r.splitBrainMs} ms, ${r.restored ? 'restored' : 'NOT RESTORED'}, ` +
    `VIP ${r.vipReturned ? `back on ${r.masterBefore}` : `on ${r.holderAfterRestore.join(' and ') || 'no node'}`}`
  );
}

export function strip(r: ScenarioResult, nodes: string[], opts: { width?: number; color?: boolean } = {}): string {
  const width = opts.width ?? 72;
  const { start, end, faultAt, movedAt, restoredAt, returnedAt, probes, holders } = r.timeline;
  const span = Math.max(1, end - start);
  const col = (t: number) => Math.min(width - 1, Math.max(0, Math.floor(((t - start) / span) * width)));
  const c = (code: number, x: string) => (opts.color ? `\x1b[${code}m${x}\x1b[39m` : x);
  const clients: string[] = new Array(width).fill(' ');
  const failed = new Array(width).fill(false);
  const good = new Array(width).fill(false);
  for (const p of probes) (p.ok ? good : failed)[col(p.t)] = true;
  for (let i = 0; i < width; i++) clients[i] = failed[i] ? c(31, 'x') : good[i] ? c(32, '#') : ' ';
  const vip: string[] = [];
  for (let i = 0; i < width; i++) {
    const h = holdersAt(holders, start + ((i + 0.5) / width) * span);
    vip.push(h.length === 0 ? c(33, '.') : h.length > 1 ? c(31, '!') : String(nodes.indexOf(h[0]) + 1));
  }
  const ev: string[] = new Array(width).fill(' ');
  const mark = (t: number | null, ch: string) => {
    if (t !== null && t >= start) ev[col(t)] = ch;
  };
  mark(faultAt, 'F');
  mark(movedAt, 'M');
  mark(restoredAt, 'R');
  mark(returnedAt, 'B');
  const scale: string[] = new Array(width).fill(' ');
  const stepS = Math.max(1, Math.ceil(span / 1000 / 8));
  for (let sec = 0; sec * 1000 <= span; sec += stepS) {
    const label = `${sec}s`;
    const at = col(start + sec * 1000);
    for (let k = 0; k < label.length && at + k < width; k++) scale[at + k] = label[k];
  }
  return [
    headline(r),
    `  clients |${clients.join('')}|  # served  x failed`,
    `  VIP on  |${vip.join('')}|  ${nodes.map((n, i) => `${i + 1} ${n}`).join('  ')}  ! several  . none`,
    `  events  |${ev.join('')}|  F fault  M moved  R restore  B back`,
    `           ${scale.join('')}`,
    ...(r.reasons.length ? r.reasons.map((x) => `  NOT OK: ${x}`) : ['  ok']),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The report (--report FILE.html | FILE.svg): a summary first (scenario, measured gap, expected bound, verdict),
// then one timeline per scenario on a time axis in seconds from the fault. Every text is escaped (node names come
// from the user); titles wrap, never cut; a node has one colour on the whole page, the legend's.
// ---------------------------------------------------------------------------------------------------------------

/** escape for HTML and XML text and attributes; control characters (invalid in XML) dropped, tab and newline spaced */
const esc = (x: string) =>
  x
    .replace(/\p{Cc}/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : ''))
    .replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** node colours: dark enough for white text, none green, red, grey or yellow (those mean something else) */
const PALETTE = ['#1f77b4', '#d95f02', '#7b3294', '#8c564b', '#0f7c8c', '#3f3f9f', '#c51b7d', '#6b6b00'];
const SERVED = '#2ca02c';
const FAILED = '#d62728';
const GAP = '#a50f15';
const NOBODY = '#d9d9d9';
/** several nodes at once: black and yellow stripes (a pattern in each picture) */
const SPLIT_A = '#222222';
const SPLIT_B = '#f2c200';
const OK_BG = '#1a7f37';
const FAIL_BG = '#cf222e';
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const MONO = 'DejaVu Sans Mono, Liberation Mono, monospace';

/** advances (em) of DejaVu Sans by kind of character, rounded up; anything else counts 1 em */
const EM: [RegExp, number][] = [
  [/[ijl|'!]/, 0.28],
  [/[ .,:;]/, 0.32],
  [/[ftI]/, 0.4],
  [/[r()[\]{}\-"]/, 0.42],
  [/[sczJ]/, 0.56],
  [/[mw]/, 0.98],
  [/[a-z0-9?_*#$]/, 0.64],
  [/[MW%]/, 1],
  [/[A-Z+<>=~&@]/, 0.84],
];
/**
 * Width of a text in px, from the advances of DejaVu Sans, the widest of the usual sans-serif fonts (Liberation Sans
 * and Arial are narrower), so that what is laid out by it does not overlap; bold is about 10 % wider.
 */
function textW(x: string, px: number, bold = false): number {
  let em = 0;
  for (const ch of x) em += EM.find(([re]) => re.test(ch))?.[1] ?? 1;
  return em * px * (bold ? 1.1 : 1);
}
/** monospace advance (DejaVu Sans Mono and Liberation Mono: 0.6 em), rounded up */
const monoW = (px: number) => px * 0.61;

/** every node of the page, the configured ones first: the index is the colour everywhere in the report */
function pageNodes(results: ScenarioResult[], nodes: string[]): string[] {
  const all = [...nodes];
  const add = (n: string | null) => {
    if (n !== null && !all.includes(n)) all.push(n);
  };
  for (const r of results) {
    add(r.masterBefore);
    add(r.masterAfter);
    r.timeline.holders.forEach((h) => h.holders.forEach(add));
    r.holderAfterRestore.forEach(add);
  }
  return all;
}

const colourOf = (all: string[], n: string) => PALETTE[Math.max(0, all.indexOf(n)) % PALETTE.length];

/** a tick step (s) for at most 8 ticks: 0.5 s for 2 s, 1 s for 5 to 8 s, 2 s for 12 s, 5 s for 30 s, 10 s for 60 s */
function tickStep(spanS: number): number {
  for (const step of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (spanS / step <= 8) return step;
  return Math.ceil(spanS / 8 / 600) * 600;
}

/** "-1 s", "0 s", "0.5 s", "12 s" */
const secLabel = (v: number) => {
  const n = Math.round(v * 10) / 10;
  return `${Object.is(n, -0) ? 0 : n} s`;
};
const rel = (ms: number) => `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(2)} s`;

/** greedy word wrap; a word longer than a line is split (never cut) */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while ([...word].length > max) {
      if (cur) lines.push(cur);
      cur = '';
      lines.push([...word].slice(0, max).join(''));
      word = [...word].slice(max).join('');
    }
    if (!cur) cur = word;
    else if ([...cur].length + 1 + [...word].length <= max) cur += ` ${word}`;
    else {
      lines.push(cur);
      cur = word;
    }
  }
  if (cur || !lines.length) lines.push(cur);
  return lines;
}

/** the summary figures of one scenario, as text (the HTML table and the SVG rows show the same) */
function summaryRow(r: ScenarioResult) {
  return {
    target: r.group ? `sync group ${r.group}` : r.instance,
    vips: r.vips.length ? r.vips.join(', ') : r.vip,
    scenario: r.name,
    from: r.masterBefore,
    to: r.masterAfter ?? 'nobody',
    gap: r.gapMs === null ? 'not served again' : s(r.gapMs),
    bound: s(r.expectedMaxMs),
    limit: s(r.maxGapMs),
    verdict: r.ok ? 'ok' : 'FAIL',
    restored: r.restored ? 'yes' : 'NO',
  };
}

function gapText(r: ScenarioResult): string {
  if (r.gapMs === null) return `clients not served again (limit ${s(r.maxGapMs)})`;
  if (r.firstFailAt === null) return `no failed probe: gap 0 s (limit ${s(r.maxGapMs)})`;
  return `gap ${s(r.gapMs)} ${r.gapMs > r.maxGapMs ? '>' : '≤'} limit ${s(r.maxGapMs)}`;
}

interface Drawn {
  body: string;
  height: number;
}

const f = (n: number) => n.toFixed(1);

/** a text of the picture, escaped; `halo`: a white outline so that it reads over the lanes */
function txt(
  xx: number,
  y: number,
  text: string,
  attrs: { size?: number; anchor?: string; fill?: string; cls?: string; bold?: boolean; halo?: boolean } = {},
): string {
  return (
    `<text x="${f(xx)}" y="${f(y)}" font-size="${attrs.size ?? 11}" font-family="${FONT}"` +
    (attrs.anchor ? ` text-anchor="${attrs.anchor}"` : '') +
    (attrs.fill ? ` fill="${attrs.fill}"` : '') +
    (attrs.bold ? ' font-weight="bold"' : '') +
    (attrs.halo ? ' stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"' : '') +
    (attrs.cls ? ` class="${attrs.cls}"` : '') +
    `>${esc(text)}</text>`
  );
}

/**
 * One picture as it is drawn: the scenario, the time scale (x of a time in ms, clamped to the scenario's window,
 * between x0 and x1), the y of each lane, and what is drawn so far: `out` in order, then `labels` (texts over the
 * lanes, drawn last so that no marker line crosses them).
 */
interface Frame {
  r: ScenarioResult;
  all: string[];
  width: number;
  /** the scenario's window in ms (at least 1) */
  span: number;
  x0: number;
  x1: number;
  x: (t: number) => number;
  /** the fill of several holders at once: this picture's pattern */
  split: string;
  clientsY: number;
  gapY: number;
  holderY: number;
  laneBottom: number;
  axisY: number;
  out: string[];
  labels: string[];
}

/** an event (fault, moved, restore, back) with its label placed: right of its line if it fits, on the first free row */
interface PlacedEvent {
  t: number;
  kind: 'fault' | 'moved' | 'restore' | 'back';
  label: string;
  xx: number;
  w: number;
  left: number;
  row: number;
}

/** event labels on as many rows as it takes for none to overlap another */
function placeEvents(
  r: ScenarioResult,
  x: (t: number) => number,
  width: number,
): { placed: PlacedEvent[]; rows: number } {
  const { start, end, faultAt, movedAt, restoredAt, returnedAt } = r.timeline;
  const events = (
    [
      [faultAt, 'fault', 'fault'],
      [movedAt, 'moved', `moved ${rel((movedAt ?? 0) - faultAt)}`],
      [restoredAt, 'restore', `restore ${rel((restoredAt ?? 0) - faultAt)}`],
      [returnedAt, 'back', `back ${rel((returnedAt ?? 0) - faultAt)}`],
    ] as const
  )
    .filter(([t]) => t !== null && t >= start && t <= end)
    .map(([t, kind, label]) => ({ t: t!, kind, label, xx: x(t!), w: textW(label, 11, kind === 'fault') }))
    .sort((a, b) => a.xx - b.xx);
  const rowsEnd: number[] = [];
  const placed = events.map((e) => {
    const left = e.xx + 3 + e.w <= width - 4 ? e.xx + 3 : e.xx - 3 - e.w;
    let row = rowsEnd.findIndex((edge) => left >= edge + 8);
    if (row < 0) row = rowsEnd.push(0) - 1;
    rowsEnd[row] = left + e.w;
    return { ...e, left, row };
  });
  return { placed, rows: rowsEnd.length };
}

/** grid and axis: seconds from the fault; then the lanes' names */
function drawAxis(g: Frame): void {
  const { r, span, x0, x1, x, clientsY, gapY, holderY, laneBottom, axisY, out } = g;
  const { start, end, faultAt } = r.timeline;
  const step = tickStep(span / 1000);
  const first = Math.ceil((start - faultAt) / 1000 / step - 1e-9);
  out.push(`<line x1="${x0}" x2="${x1}" y1="${axisY}" y2="${axisY}" stroke="#57606a"/>`);
  for (let k = first; faultAt + k * step * 1000 <= end + 1e-6; k++) {
    const xx = f(x(faultAt + k * step * 1000));
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${clientsY}" y2="${laneBottom}" stroke="#d0d7de"/>` +
        `<line x1="${xx}" x2="${xx}" y1="${axisY}" y2="${axisY + 5}" stroke="#57606a"/>` +
        txt(x(faultAt + k * step * 1000), axisY + 17, secLabel(k * step), { anchor: 'middle', cls: 'tick-label' }),
    );
  }
  out.push(txt(x0 - 22, axisY + 17, 's after fault', { anchor: 'end', fill: '#57606a' }));

  // lane labels
  out.push(
    txt(x0 - 8, clientsY + 14, 'clients', { anchor: 'end', bold: true }),
    txt(x0 - 8, gapY + 10, 'gap', { anchor: 'end', bold: true }),
    txt(x0 - 8, holderY + 14, 'VIP on', { anchor: 'end', bold: true }),
  );
}

/** clients: one mark per run of probes alike (served or failed), as long as they lasted; none where no probe ran */
function drawClients(g: Frame): void {
  const { r, x0, x1, x, clientsY, out } = g;
  const { start, end, faultAt } = r.timeline;
  const probes = r.timeline.probes.filter((p) => p.t >= start && p.t <= end).sort((a, b) => a.t - b.t);
  const steps = probes
    .slice(1)
    .map((p, i) => p.t - probes[i].t)
    .sort((a, b) => a - b);
  const usual = steps.length ? steps[Math.floor(steps.length / 2)] : 100;
  out.push(`<rect x="${x0}" y="${clientsY}" width="${x1 - x0}" height="20" fill="#f6f8fa"/>`);
  for (let i = 0; i < probes.length;) {
    let j = i + 1;
    while (j < probes.length && probes[j].ok === probes[i].ok && probes[j].t - probes[j - 1].t <= 3 * usual) j++;
    const last = probes[j - 1];
    const until = Math.min(end, probes[j] && probes[j].t - last.t <= 3 * usual ? probes[j].t : last.t + usual);
    const by = [...new Set(probes.slice(i, j).map((p) => p.servedBy ?? '?'))].join(', ');
    const what = probes[i].ok ? `served (HTTP ${probes[i].status}, from ${by})` : 'failed';
    out.push(
      `<rect class="probes" data-count="${j - i}" x="${f(x(probes[i].t))}" y="${clientsY}" ` +
        `width="${f(Math.max(1, x(until) - x(probes[i].t)))}" height="20" fill="${probes[i].ok ? SERVED : FAILED}">` +
        `<title>${esc(`${rel(probes[i].t - faultAt)} to ${rel(last.t - faultAt)}: ${j - i} probe(s) ${what}`)}` +
        '</title></rect>',
    );
    i = j;
  }
}

/** gap: the measured gap (first failed probe -> served again) against the limit used */
function drawGap(g: Frame): void {
  const { r, width, x, gapY, out, labels } = g;
  const { end, faultAt } = r.timeline;
  const gt = gapText(r);
  const over = r.gapMs === null || r.gapMs > r.maxGapMs;
  if (r.firstFailAt !== null) {
    const a = x(r.firstFailAt);
    const b = x(r.recoveredAt ?? end);
    const lim = x(r.firstFailAt + r.maxGapMs);
    out.push(
      `<rect class="limit" x="${f(a)}" y="${gapY}" width="${f(Math.max(1, lim - a))}" height="14" fill="none" ` +
        'stroke="#57606a" stroke-dasharray="4,3"/>' +
        `<rect class="gap" x="${f(a)}" y="${gapY + 3}" width="${f(Math.max(2, b - a))}" height="8" fill="${GAP}">` +
        `<title>${esc(gt)}</title></rect>`,
    );
    const right = Math.max(b, lim) + 6;
    const w = textW(gt, 11, over);
    const tx = right + w <= width - 4 ? right : a - 6 - w >= 4 ? a - 6 - w : a + 4;
    labels.push(txt(tx, gapY + 11, gt, { fill: over ? FAIL_BG : '#1f2328', bold: over, cls: 'gap-label', halo: true }));
  } else labels.push(txt(x(faultAt) + 4, gapY + 11, gt, { cls: 'gap-label', halo: true }));
}

/** VIP holders: one colour per node, striped when several hold it, grey when nobody does */
function drawHolders(g: Frame): void {
  const { r, all, x0, x1, x, split, holderY, out, labels } = g;
  const { start, end, faultAt, holders } = r.timeline;
  out.push(`<rect x="${x0}" y="${holderY}" width="${x1 - x0}" height="20" fill="#f6f8fa"/>`);
  holders.forEach((h, i) => {
    const t0 = Math.max(h.t, start);
    const t1 = Math.min(holders[i + 1]?.t ?? end, end);
    if (t1 <= t0) return;
    const a = x(t0);
    const w = x(t1) - a;
    const who = h.holders.length === 0 ? 'nobody' : h.holders.join(' and ');
    const [fill, data, label, ink] =
      h.holders.length === 0
        ? [NOBODY, 'data-kind="nobody"', 'nobody', '#1f2328']
        : h.holders.length > 1
          ? [split, 'data-kind="split"', '', '']
          : [colourOf(all, h.holders[0]), `data-kind="node" data-node="${esc(h.holders[0])}"`, h.holders[0], '#fff'];
    out.push(
      `<rect class="holder" ${data} x="${f(a)}" y="${holderY}" width="${f(Math.max(1, w))}" height="20" ` +
        `fill="${fill}"><title>${esc(`${rel(t0 - faultAt)} to ${rel(t1 - faultAt)}: ${who}`)}</title></rect>`,
    );
    if (label && textW(label, 11) + 8 <= w) labels.push(txt(a + 4, holderY + 14, label, { fill: ink }));
  });
}

/** event markers over the lanes, labels above */
function drawEvents(g: Frame, placed: PlacedEvent[]): void {
  for (const e of placed) {
    const labelY = 12 + e.row * 14;
    g.out.push(
      `<line class="event" x1="${f(e.xx)}" x2="${f(e.xx)}" y1="${labelY + 3}" y2="${g.laneBottom}" ` +
        `stroke="#1f2328" stroke-width="${e.kind === 'fault' ? 2 : 1}"` +
        `${e.kind === 'fault' ? '' : ' stroke-dasharray="4,3"'}/>` +
        txt(e.left, labelY, e.label, { cls: 'event-label', bold: e.kind === 'fault' }),
    );
  }
}

/** legend, wrapped over as many rows as it takes; node colours are exactly the lane's. Returns its last row's y. */
function drawLegend(g: Frame): number {
  const { all, width, x0, split, axisY, out } = g;
  const items: { fill: string; label: string; data: string; stroke?: string }[] = [
    { fill: SERVED, label: 'served', data: 'data-kind="served"' },
    { fill: FAILED, label: 'failed', data: 'data-kind="failed"' },
    ...all.map((n) => ({ fill: colourOf(all, n), label: n, data: `data-kind="node" data-node="${esc(n)}"` })),
    { fill: NOBODY, label: 'nobody', data: 'data-kind="nobody"' },
    { fill: split, label: 'several nodes (split brain)', data: 'data-kind="split"' },
    { fill: GAP, label: 'measured gap', data: 'data-kind="gap"' },
    { fill: 'none', label: 'limit', data: 'data-kind="limit"', stroke: '#57606a' },
  ];
  let lx = x0;
  let ly = axisY + 32;
  for (const it of items) {
    const w = 17 + textW(it.label, 11) + 16;
    if (lx + w > width - 4 && lx > x0) {
      lx = x0;
      ly += 18;
    }
    out.push(
      `<g class="legend-item" ${it.data}><rect class="swatch" x="${f(lx)}" y="${ly - 10}" width="12" height="12" ` +
        `fill="${it.fill}"${it.stroke ? ` stroke="${it.stroke}" stroke-dasharray="3,2"` : ''}/>` +
        `${txt(lx + 17, ly, it.label)}</g>`,
    );
    lx += w;
  }
  out.push(txt(x0 - 8, axisY + 32, 'legend', { anchor: 'end', fill: '#57606a' }));
  return ly;
}

/**
 * One scenario's picture, `width` wide, from y=0: event labels, the clients lane (a mark per run of probes alike),
 * the gap lane (measured gap against the limit), the VIP-holder lane (one colour per node), the time axis in seconds
 * from the fault, and the legend. `id` keeps the pattern of this picture apart from the others of the page.
 */
function drawTimeline(r: ScenarioResult, all: string[], width: number, id: string): Drawn {
  const { start, end } = r.timeline;
  const span = Math.max(1, end - start);
  const x0 = 110;
  const x1 = width - 20;
  const clamp = (t: number) => Math.min(end, Math.max(start, t));
  const x = (t: number) => x0 + ((clamp(t) - start) / span) * (x1 - x0);
  const { placed, rows } = placeEvents(r, x, width);
  const evH = Math.max(1, rows) * 14 + 4;
  const clientsY = evH + 4;
  const gapY = clientsY + 28;
  const holderY = gapY + 22;
  const laneBottom = holderY + 22;
  const axisY = laneBottom + 6;
  const layout = { clientsY, gapY, holderY, laneBottom, axisY };
  const g: Frame = { r, all, width, span, x0, x1, x, split: `url(#${id})`, ...layout, out: [], labels: [] };
  g.out.push(
    `<defs><pattern id="${id}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="8" height="8" fill="${SPLIT_B}"/><rect width="4" height="8" fill="${SPLIT_A}"/></pattern></defs>`,
  );
  drawAxis(g);
  drawClients(g);
  drawGap(g);
  drawHolders(g);
  drawEvents(g, placed);
  const ly = drawLegend(g);
  return { body: g.out.join('') + g.labels.join(''), height: ly + 8 };
}

/** Standalone SVG (--report x.svg): summary rows, the reasons of the failures, then every timeline. */
export function svg(results: ScenarioResult[], nodes: string[]): string {
  const all = pageNodes(results, nodes);
  const px = 12;
  const cw = monoW(px);
  const rows = results.map(summaryRow);
  const head = ['instance', 'scenario', 'from -> to', 'gap', 'bound (limit)', 'verdict', 'restored'];
  const cells = rows.map((w) => [
    w.target,
    w.scenario,
    `${w.from} -> ${w.to}`,
    w.gap,
    `${w.bound} (${w.limit})`,
    w.verdict,
    w.restored,
  ]);
  // long values (a sync group's name) wrap inside their column rather than widening the canvas
  const caps = [30, 10, 36, 16, 22, 7, 8];
  const wrapped = cells.map((c) => c.map((v, i) => wrap(v, caps[i])));
  const colW = head.map((h, i) =>
    Math.max(h.length, ...wrapped.map((c) => Math.max(...c[i].map((l) => [...l].length)))),
  );
  colW.forEach((chars, i) => (colW[i] = chars * cw + 16));
  const W = Math.ceil(Math.max(1000, 20 + colW.reduce((a, b) => a + b, 0)));
  const maxChars = Math.floor((W - 20) / cw);
  const mono = (x: number, y: number, text: string, extra = '') =>
    `<text x="${x.toFixed(1)}" y="${y}" font-size="${px}" font-family="${MONO}"${extra}>${esc(text)}</text>`;
  const parts: string[] = [];
  let y = 24;
  parts.push(
    `<text x="10" y="${y}" font-size="18" font-weight="bold" font-family="${FONT}">ha-setup verify-failover</text>`,
  );
  y += 20;
  parts.push(mono(10, y, `${reportDate()}, ${overall(results)}`, ' fill="#57606a"'));
  y += 26;
  const colX = colW.map((_, i) => 10 + colW.slice(0, i).reduce((a, b) => a + b, 0));
  parts.push(`<g class="summary">`);
  head.forEach((h, i) => parts.push(mono(colX[i] + 4, y, h, ' font-weight="bold"')));
  parts.push(`<line x1="10" x2="${10 + colW.reduce((a, b) => a + b, 0)}" y1="${y + 5}" y2="${y + 5}" stroke="#999"/>`);
  wrapped.forEach((c, k) => {
    y += 20;
    const lines = Math.max(...c.map((l) => l.length));
    parts.push('<g class="row">');
    c.forEach((cell, i) => {
      const verdict = i === 5;
      const extra = verdict
        ? ' fill="#fff" font-weight="bold"'
        : i === 6 && !results[k].restored
          ? ` fill="${FAIL_BG}" font-weight="bold"`
          : '';
      parts.push('<g class="cell">');
      if (verdict) {
        parts.push(
          `<rect x="${colX[i].toFixed(1)}" y="${y - 13}" width="${(colW[i] - 4).toFixed(1)}" ` +
            `height="${lines * 15 + 3}" fill="${results[k].ok ? OK_BG : FAIL_BG}"/>`,
        );
      }
      cell.forEach((line, n) => parts.push(mono(colX[i] + 4, y + n * 15, line, extra)));
      parts.push('</g>');
    });
    parts.push('</g>');
    y += (lines - 1) * 15;
  });
  parts.push('</g>');
  y += 10;
  for (const r of results.filter((x) => x.reasons.length)) {
    for (const reason of r.reasons) {
      for (const line of wrap(`${summaryRow(r).target} ${r.name}: ${reason}`, maxChars)) {
        y += 16;
        parts.push(mono(10, y, line, ` fill="${FAIL_BG}"`));
      }
    }
  }
  results.forEach((r, k) => {
    y += 34;
    parts.push(`<g class="scenario">`);
    for (const line of wrap(headline(r), maxChars)) {
      parts.push(mono(10, y, line, ' font-weight="bold" class="title"'));
      y += 16;
    }
    const sub = `${r.ok ? 'ok' : 'FAIL'}; expected at most ${s(r.expectedMaxMs)} (${r.bound}); limit ${s(r.maxGapMs)}`;
    for (const line of wrap(sub, maxChars)) {
      parts.push(mono(10, y, line, ` fill="${r.ok ? '#57606a' : FAIL_BG}"`));
      y += 16;
    }
    const d = drawTimeline(r, all, W, `split-${k}`);
    parts.push(`<g class="timeline" transform="translate(0,${y})">${d.body}</g></g>`);
    y += d.height;
  });
  const H = Math.ceil(y + 16);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<rect width="${W}" height="${H}" fill="#fff"/>${parts.join('')}</svg>\n`
  );
}

function reportDate(): string {
  return `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function overall(results: ScenarioResult[]): string {
  const failed = results.filter((r) => !r.ok).length;
  if (!results.length) return 'no scenario ran';
  return failed ? `${failed} of ${results.length} scenarios FAILED` : `all ${results.length} scenarios ok`;
}

const CSS = `
body{margin:0;background:#fff;color:#1f2328;font:14px/1.45 ${FONT}}
main{max-width:1060px;margin:0 auto;padding:16px 24px 40px}
h1{font-size:22px;margin:0 0 2px}
.meta{color:#57606a;margin:0 0 10px}
.overall{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
.overall.ok{background:${OK_BG}}.overall.fail{background:${FAIL_BG}}
table.summary{border-collapse:collapse;margin:12px 0}
table.summary th,table.summary td{border:1px solid #d0d7de;padding:5px 10px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
table.summary th{background:#f6f8fa;white-space:nowrap}
table.summary td.scenario,table.summary td.from-to{white-space:nowrap}
table.summary td.num{text-align:right;font-variant-numeric:tabular-nums}
.nw{white-space:nowrap}
.target{max-width:20em}
.table{overflow-x:auto}
table.summary td.verdict{color:#fff;font-weight:bold;text-align:center;white-space:nowrap}
td.verdict.ok{background:${OK_BG}}td.verdict.fail{background:${FAIL_BG}}
td.restored{white-space:nowrap}
td.restored.no,td.over{color:${FAIL_BG};font-weight:bold}
.small{color:#57606a;font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 0}
.reasons{margin:4px 0 12px;padding-left:20px;color:${FAIL_BG}}
.reasons b{color:#1f2328}
section.scenario{border-top:1px solid #d0d7de;margin-top:22px;padding-top:10px}
section.scenario h2{font-size:15px;font-weight:600;margin:0 0 4px;white-space:normal;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 8px;margin-right:8px;border-radius:4px;color:#fff;font-size:13px}
.badge.ok{background:${OK_BG}}.badge.fail{background:${FAIL_BG}}
p.bound{margin:0 0 6px;overflow-wrap:anywhere}
svg.timeline{display:block;width:100%;max-width:1000px;height:auto;margin-top:6px}
`;

/** Self-contained HTML page (inline CSS and SVG, no script, nothing fetched). */
export function html(results: ScenarioResult[], nodes: string[]): string {
  const all = pageNodes(results, nodes);
  const dot = (n: string | null) =>
    n === null
      ? `<span class="node"><span class="dot" style="background:${NOBODY}"></span>nobody</span>`
      : `<span class="node"><span class="dot" style="background:${colourOf(all, n)}"></span>${esc(n)}</span>`;
  const failed = results.filter((r) => !r.ok);
  const rows = results.map((r, k) => {
    const w = summaryRow(r);
    const over = r.gapMs === null || r.gapMs > r.maxGapMs;
    return (
      `<tr class="${r.ok ? 'ok' : 'fail'}"><td><div class="target">${esc(w.target)}<br>` +
      `<span class="small">${esc(w.vips)}</span></div></td>` +
      `<td class="scenario"><a href="#scenario-${k}">${esc(w.scenario)}</a></td>` +
      `<td class="from-to">${dot(r.masterBefore)} → ${dot(r.masterAfter)}</td>` +
      `<td class="num gap${over ? ' over' : ''}"><span class="nw">${esc(w.gap)}</span></td>` +
      `<td class="num bound" title="${esc(r.bound)}"><span class="nw">${esc(w.bound)}</span> ` +
      `<span class="small nw">(limit ${esc(w.limit)})</span></td>` +
      `<td class="verdict ${r.ok ? 'ok' : 'fail'}">${w.verdict}</td>` +
      `<td class="restored ${r.restored ? 'yes' : 'no'}">${w.restored}</td></tr>`
    );
  });
  const reasons = failed.length
    ? '<h3>Why it failed</h3><ul class="reasons">' +
      failed
        .flatMap((r) => r.reasons.map((x) => `<li><b>${esc(summaryRow(r).target)} ${esc(r.name)}:</b> ${esc(x)}</li>`))
        .join('') +
      '</ul>'
    : '';
  const sections = results.map((r, k) => {
    const d = drawTimeline(r, all, 1000, `split-${k}`);
    return (
      `<section class="scenario" id="scenario-${k}"><h2><span class="badge ${r.ok ? 'ok' : 'fail'}">` +
      `${r.ok ? 'ok' : 'FAIL'}</span>${esc(headline(r))}</h2>` +
      `<p class="bound small">expected at most ${esc(s(r.expectedMaxMs))} (${esc(r.bound)}); ` +
      `limit used ${esc(s(r.maxGapMs))}; VIP${r.vips.length > 1 ? 's' : ''} ${esc(summaryRow(r).vips)}</p>` +
      (r.reasons.length ? `<ul class="reasons">${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '') +
      `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="1000" height="${d.height}" ` +
      `viewBox="0 0 1000 ${d.height}" role="img" aria-label="${esc(`timeline of ${headline(r)}`)}">${d.body}</svg>` +
      '</section>'
    );
  });
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>ha-setup verify-failover: ${esc(overall(results))}</title><style>${CSS}</style></head><body><main>` +
    `<h1>ha-setup verify-failover</h1><p class="meta">${esc(reportDate())} · ` +
    `<span class="overall ${failed.length || !results.length ? 'fail' : 'ok'}">${esc(overall(results))}</span></p>` +
    '<div class="table"><table class="summary"><thead><tr><th>instance</th><th>scenario</th><th>from → to</th>' +
    '<th>measured gap</th>' +
    '<th>expected bound (limit)</th><th>verdict</th><th>restored</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>${reasons}${sections.join('')}</main></body></html>\n`
  );
}
