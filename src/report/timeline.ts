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

const esc = (x: string) =>
  x.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

export function svg(results: ScenarioResult[], nodes: string[]): string {
  const W = 900;
  const rowH = 120;
  const colors = ['#2b7bb9', '#e08a00', '#6a3d9a', '#33a02c'];
  const parts: string[] = [];
  results.forEach((r, k) => {
    const y0 = k * rowH + 10;
    const { start, end, probes, holders, faultAt, movedAt, restoredAt, returnedAt } = r.timeline;
    const span = Math.max(1, end - start);
    const x = (t: number) => 10 + ((t - start) / span) * (W - 20);
    parts.push(`<text x="10" y="${y0 + 12}" font-size="12" font-family="monospace">${esc(headline(r))}</text>`);
    for (const p of probes)
      parts.push(
        `<rect x="${x(p.t).toFixed(1)}" y="${y0 + 20}" width="2" height="24" fill="${p.ok ? '#2ca02c' : '#d62728'}">` +
          `<title>${new Date(p.t).toISOString()} ` +
          `${p.ok ? `ok ${p.status} ${p.servedBy ?? ''}` : 'failed'}</title></rect>`,
      );
    holders.forEach((h, i) => {
      const t1 = holders[i + 1]?.t ?? end;
      const fill =
        h.holders.length === 0
          ? '#ccc'
          : h.holders.length > 1
            ? '#d62728'
            : colors[nodes.indexOf(h.holders[0]) % colors.length];
      parts.push(
        `<rect x="${x(Math.max(h.t, start)).toFixed(1)}" y="${y0 + 50}" ` +
          `width="${Math.max(1, x(t1) - x(Math.max(h.t, start))).toFixed(1)}" height="16" fill="${fill}">` +
          `<title>${esc(h.holders.join(', ') || 'nobody')}</title></rect>`,
      );
    });
    for (const [t, label] of [
      [faultAt, 'fault'],
      [movedAt, 'moved'],
      [restoredAt, 'restore'],
      [returnedAt, 'back'],
    ] as const) {
      if (t === null) continue;
      parts.push(
        `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y0 + 18}" y2="${y0 + 70}" ` +
          'stroke="#000" stroke-dasharray="3,2"/>' +
          `<text x="${(x(t) + 2).toFixed(1)}" y="${y0 + 82}" font-size="10" font-family="sans-serif">${label}</text>`,
      );
    }
    parts.push(
      `<text x="10" y="${y0 + 98}" font-size="10" font-family="sans-serif">` +
        `${nodes.map((n, i) => `<tspan fill="${colors[i % colors.length]}">■ ${esc(n)}</tspan>`).join(' ')} ` +
        `<tspan fill="#d62728">■ several</tspan>; span ${(span / 1000).toFixed(1)} s; ` +
        'probes green = served, red = failed</text>',
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${results.length * rowH + 20}" ` +
    `viewBox="0 0 ${W} ${results.length * rowH + 20}">${parts.join('')}</svg>\n`
  );
}

export function html(results: ScenarioResult[], nodes: string[]): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>ha-setup verify-failover</title></head>' +
    '<body style="font-family:sans-serif"><h1>ha-setup verify-failover</h1>' +
    `<p>${esc(new Date().toISOString())}</p>${svg(results, nodes)}` +
    `<pre>${esc(results.map((r) => strip(r, nodes)).join('\n\n'))}</pre></body></html>\n`
  );
}
