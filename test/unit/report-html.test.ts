/**
 * The --report page as a browser renders it: headless Chromium (Debian package `chromium`, /usr/bin/chromium or
 * $CHROMIUM) opens the HTML and the SVG written from fixture results and the checks run on the rendered page
 * (computed styles, layout boxes), not on the markup. Chromium is driven over its DevTools protocol on a pipe
 * (--remote-debugging-pipe), so no npm package is needed. A missing Chromium fails the test, it does not skip.
 * The report, the SVG and a screenshot stay in the temp directory printed by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HolderPoint } from '../../src/failover/measure.js';
import type { ProbeSample } from '../../src/observe/probe.js';
import type { ScenarioResult } from '../../src/failover/run.js';
import { headline, html, svg } from '../../src/report/timeline.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// ----------------------------------------------------------------------------------------------------------------
// fixtures: 3 nodes whose names are not hostnames (and need escaping), 4 scenarios: ok, split brain in a sync group
// with a very long name, a failed one (gap over the limit, not restored), and a 30 s one
// ----------------------------------------------------------------------------------------------------------------

const NODES = ['edge <north>', 'Rack B & C', '"spare" one'];
const [A, B, C] = NODES;
const T0 = 1_760_000_000_000;
const LONG_GROUP = 'edge_and_api_sync_group_whose_name_is_long_enough_to_need_wrapping_in_any_title_and_table';

interface Spec {
  name: ScenarioResult['name'];
  instance: string;
  group?: string;
  from: string;
  to: string | null;
  /** times in ms from the start of the scenario */
  fault: number;
  failFrom: number | null;
  failTo: number | null;
  moved: number | null;
  restore: number;
  back: number | null;
  end: number;
  holders: HolderPoint[];
  expected: number;
  limit: number;
  restored?: boolean;
  reasons?: string[];
  after?: string[];
  splitBrainMs?: number;
}

function result(x: Spec): ScenarioResult {
  const probes: ProbeSample[] = [];
  for (let t = 0; t < x.end; t += 50) {
    const failed = x.failFrom !== null && t >= x.failFrom && (x.failTo === null || t < x.failTo);
    const by = x.failFrom !== null && t >= x.failFrom ? (x.to ?? x.from) : x.from;
    probes.push({ t: T0 + t, ok: !failed, status: failed ? 0 : 200, servedBy: failed ? null : by, ms: 3 });
  }
  const gap = x.failFrom === null ? 0 : x.failTo === null ? null : x.failTo - x.failFrom;
  const at = (t: number | null) => (t === null ? null : T0 + t);
  const reasons = x.reasons ?? [];
  return {
    name: x.name,
    instance: x.group ?? x.instance,
    group: x.group ?? null,
    vips: x.group ? ['198.18.0.100', '198.18.0.101'] : ['198.18.0.100'],
    vip: '198.18.0.100',
    perVip: [],
    masterBefore: x.from,
    masterAfter: x.to,
    timeToHolderMs: x.moved === null ? null : x.moved - x.fault,
    gapMs: gap,
    expectedMaxMs: x.expected,
    maxGapMs: x.limit,
    bound: `check fails 2 x every 1 s (2.00 s), FAULT: priority-0 advert, skew 0.61 s of ${x.to ?? 'nobody'}`,
    failedProbes: probes.filter((p) => !p.ok).length,
    totalProbes: probes.length,
    splitBrainMs: x.splitBrainMs ?? 0,
    faultAt: T0 + x.fault,
    firstFailAt: at(x.failFrom),
    recoveredAt: at(x.failTo),
    restored: x.restored ?? true,
    restoreLog: [],
    left: x.restored === false ? ['keepalived stopped on ' + x.from] : [],
    vipReturned: x.back !== null,
    return: null,
    holderAfterRestore: x.after ?? [x.from],
    groupMoved: x.group ? true : null,
    notes: [],
    ok: reasons.length === 0,
    reasons,
    timeline: {
      start: T0,
      faultAt: T0 + x.fault,
      movedAt: at(x.moved),
      restoredAt: T0 + x.restore,
      returnedAt: at(x.back),
      end: T0 + x.end,
      probes,
      holders: x.holders.map((h) => ({ t: T0 + h.t, holders: h.holders })),
    },
  };
}

const results: ScenarioResult[] = [
  result({
    name: 'nginx',
    instance: 'VI_web',
    from: A,
    to: B,
    fault: 1000,
    failFrom: 1050,
    failTo: 1450,
    moved: 1400,
    restore: 3000,
    back: 3500,
    end: 5000,
    holders: [
      { t: 0, holders: [A] },
      { t: 1400, holders: [B] },
      { t: 3500, holders: [A] },
    ],
    expected: 2709,
    limit: 3751,
  }),
  result({
    name: 'keepalived',
    instance: 'VI_api',
    group: LONG_GROUP,
    from: A,
    to: B,
    fault: 1000,
    failFrom: 1900,
    failTo: 2800,
    moved: 1800,
    restore: 6000,
    back: 6800,
    end: 8000,
    holders: [
      { t: 0, holders: [A] },
      { t: 1800, holders: [A, B] },
      { t: 3000, holders: [B] },
      { t: 6000, holders: [] },
      { t: 6800, holders: [A] },
    ],
    expected: 3200,
    limit: 4300,
    splitBrainMs: 1200,
  }),
  result({
    name: 'crash',
    instance: 'VI_api',
    from: B,
    to: C,
    fault: 1000,
    failFrom: 1050,
    failTo: 6250,
    moved: 5900,
    restore: 8000,
    back: null,
    end: 12000,
    holders: [
      { t: 0, holders: [B] },
      { t: 1200, holders: [] },
      { t: 5900, holders: [C] },
    ],
    expected: 3000,
    limit: 4100,
    restored: false,
    after: [C],
    reasons: [
      "gap 5.20 s over the configuration's bound 3.00 s + margin 1.10 s (keepalived killed: master-down timer)",
      `not as before the test: keepalived stopped on ${B}`,
      `the VIP did not return to ${B} after the restore (preempt)`,
    ],
  }),
  result({
    name: 'link',
    instance: 'VI_web',
    from: A,
    to: B,
    fault: 2000,
    failFrom: 2100,
    failTo: 3100,
    moved: 3000,
    restore: 6000,
    back: 9000,
    end: 30000,
    holders: [
      { t: 0, holders: [A] },
      { t: 3000, holders: [B] },
      { t: 9000, holders: [A] },
    ],
    expected: 3600,
    limit: 4700,
  }),
];

// ----------------------------------------------------------------------------------------------------------------
// a minimal DevTools-protocol client over --remote-debugging-pipe (fd 3: to Chromium, fd 4: from it, JSON + NUL)
// ----------------------------------------------------------------------------------------------------------------

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

class Browser {
  private next = 1;
  private pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private waiters: {
    method: string;
    sessionId?: string;
    resolve: (p: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }[] = [];
  private stderr = '';
  /** why Chromium is gone, once it is: every request and wait fails with it */
  private dead: Error | null = null;
  private exited: Promise<void>;
  private constructor(private child: ChildProcess) {
    const input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    let buf = Buffer.alloc(0);
    output.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let end = buf.indexOf(0); end >= 0; end = buf.indexOf(0)) {
        this.dispatch(JSON.parse(buf.subarray(0, end).toString('utf8')) as Message);
        buf = buf.subarray(end + 1);
      }
    });
    input.on('error', () => {});
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      const gone = (why: string) => {
        if (this.dead) return;
        this.dead = new Error(`chromium ${why}: ${this.stderr.trim().slice(-2000)}`);
        for (const p of [...this.pending.values(), ...this.waiters]) p.reject(this.dead);
        this.pending.clear();
        this.waiters = [];
        resolve();
      };
      child.on('exit', (code, signal) => gone(`exited (${code ?? signal})`));
      child.on('error', (e) => gone(`could not run ${CHROMIUM} (${e.message})`));
    });
  }

  static launch(userDataDir: string): Browser {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--hide-scrollbars',
      '--remote-debugging-pipe',
      `--user-data-dir=${userDataDir}`,
      'about:blank',
    ];
    return new Browser(spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] }));
  }

  private dispatch(m: Message) {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m.result ?? {});
    } else if (m.method) {
      const i = this.waiters.findIndex((w) => w.method === m.method && w.sessionId === m.sessionId);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m.params ?? {});
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(this.dead);
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  }

  event(method: string, sessionId?: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      this.dead ? reject(this.dead) : this.waiters.push({ method, sessionId, resolve, reject }),
    );
  }

  async page(width: number, height: number): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    await this.send('Page.enable', {}, sessionId);
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    return new Page(this, sessionId);
  }

  async close(): Promise<void> {
    await Promise.race([this.send('Browser.close').catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

class Page {
  constructor(
    private browser: Browser,
    private sessionId: string,
  ) {}

  async open(file: string): Promise<void> {
    const loaded = this.browser.event('Page.loadEventFired', this.sessionId);
    loaded.catch(() => {}); // awaited below, unless the navigation itself fails
    const nav = await this.browser.send('Page.navigate', { url: pathToFileURL(file).href }, this.sessionId);
    if (nav.errorText) throw new Error(`chromium could not open ${file}: ${String(nav.errorText)}`);
    await loaded;
  }

  async eval<T>(expression: string): Promise<T> {
    const r = (await this.browser.send(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true },
      this.sessionId,
    )) as { result: { value: T }; exceptionDetails?: { exception?: { description?: string }; text: string } };
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value;
  }

  async resize(width: number, height: number): Promise<void> {
    await this.browser.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: 1, mobile: false },
      this.sessionId,
    );
  }

  /** the whole page, not only the viewport */
  async screenshot(file: string): Promise<void> {
    const m = (await this.browser.send('Page.getLayoutMetrics', {}, this.sessionId)) as {
      cssContentSize: { width: number; height: number };
    };
    const { width, height } = m.cssContentSize;
    const shot = await this.browser.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } },
      this.sessionId,
    );
    writeFileSync(file, Buffer.from(String(shot.data), 'base64'));
  }
}

// ----------------------------------------------------------------------------------------------------------------
// what the rendered page shows (evaluated in the page)
// ----------------------------------------------------------------------------------------------------------------

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface Rendered {
  viewport: number;
  pageScrollWidth: number;
  rows: { cells: string[]; verdict: string; verdictBg: string }[];
  titles: { text: string; scrollWidth: number; clientWidth: number; box: Box }[];
  svgs: {
    inSection: boolean;
    box: Box;
    ticks: { text: string; x: number }[];
    events: (Box & { text: string })[];
    texts: (Box & { text: string })[];
    holders: { kind: string; node: string | null; fill: string }[];
    legend: { kind: string; node: string | null; text: string; fill: string }[];
    probes: { served: number; failed: number };
  }[];
}

const RENDERED = `(() => {
  const box = (el) => { const b = el.getBoundingClientRect(); return { left: b.left, right: b.right, top: b.top,
    bottom: b.bottom }; };
  const fill = (el) => getComputedStyle(el).fill;
  return {
    viewport: document.documentElement.clientWidth,
    pageScrollWidth: document.documentElement.scrollWidth,
    rows: [...document.querySelectorAll('table.summary tbody tr')].map((tr) => ({
      cells: [...tr.cells].map((td) => td.innerText.replace(/\\s+/g, ' ').trim()),
      verdict: tr.querySelector('td.verdict')?.innerText ?? '',
      verdictBg: tr.querySelector('td.verdict') ? getComputedStyle(tr.querySelector('td.verdict')).backgroundColor : '',
    })),
    titles: [...document.querySelectorAll('section.scenario h2')].map((h) => ({
      text: h.textContent, scrollWidth: h.scrollWidth, clientWidth: h.clientWidth, box: box(h),
    })),
    svgs: [...document.querySelectorAll('svg.timeline')].map((svg) => ({
      inSection: !!svg.closest('section.scenario'),
      box: box(svg),
      ticks: [...svg.querySelectorAll('text.tick-label')].map((t) => ({ text: t.textContent, x: box(t).left })),
      events: [...svg.querySelectorAll('text.event-label')].map((t) => ({ text: t.textContent, ...box(t) })),
      texts: [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent, ...box(t) })),
      holders: [...svg.querySelectorAll('rect.holder')].map((r) => ({
        kind: r.dataset.kind, node: r.dataset.node ?? null, fill: fill(r),
      })),
      legend: [...svg.querySelectorAll('g.legend-item')].map((g) => ({
        kind: g.dataset.kind, node: g.dataset.node ?? null, text: g.textContent, fill: fill(g.querySelector('.swatch')),
      })),
      probes: [...svg.querySelectorAll('rect.probes')].reduce((n, r) => {
        n[fill(r) === 'rgb(214, 39, 40)' ? 'failed' : 'served'] += Number(r.dataset.count);
        return n;
      }, { served: 0, failed: 0 }),
    })),
  };
})()`;

const rgb = (css: string) => {
  const m = /^rgba?\((\d+), (\d+), (\d+)/.exec(css);
  if (!m) throw new Error(`not a colour: ${css}`);
  return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]) };
};
const greenish = (css: string) => {
  const { r, g, b } = rgb(css);
  return g > r + 40 && g > b + 40;
};
const reddish = (css: string) => {
  const { r, g, b } = rgb(css);
  return r > g + 80 && r > b + 80;
};
const overlap = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

describe('--report HTML and SVG, rendered by headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-setup-report-'));
  const htmlFile = join(dir, 'report.html');
  const svgFile = join(dir, 'report.svg');
  const shot = join(dir, 'report.png');
  let browser: Browser | undefined;
  let wide: Rendered;
  let narrow: Rendered;
  let svgTexts: { width: number; texts: (Box & { text: string })[]; titles: string[]; rows: string[][] };

  let failure: unknown = null;

  async function render() {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `headless Chromium is needed for this test and ${CHROMIUM} does not exist: ` +
          'install the Debian package (apt-get install -y chromium) or set CHROMIUM to its path',
      );
    }
    writeFileSync(htmlFile, html(results, NODES));
    writeFileSync(svgFile, svg(results, NODES));
    browser = Browser.launch(join(dir, 'profile'));
    const page = await browser.page(1280, 900);
    await page.open(htmlFile);
    wide = await page.eval<Rendered>(RENDERED);
    await page.screenshot(shot);
    await page.resize(640, 900);
    narrow = await page.eval<Rendered>(RENDERED);
    await page.resize(1280, 900);
    await page.open(svgFile);
    await page.screenshot(join(dir, 'report-svg.png'));
    svgTexts = await page.eval(`(() => {
      const root = document.documentElement;
      const texts = [...document.querySelectorAll('text')].map((t) => {
        const b = t.getBBox(); return { text: t.textContent, left: b.x, right: b.x + b.width, top: b.y,
          bottom: b.y + b.height };
      });
      return { width: root.width.baseVal.value, texts,
        titles: [...document.querySelectorAll('g.scenario')].map((g) =>
          [...g.querySelectorAll('text.title')].map((t) => t.textContent).join(' ')),
        rows: [...document.querySelectorAll('g.summary g.row')].map((row) =>
          [...row.querySelectorAll('g.cell')].map((c) => c.textContent)) };
    })()`);
    console.info(`report, svg and screenshot in ${dir}`);
  }

  // no Chromium, or it failed: every test fails with the reason (none is skipped)
  beforeAll(async () => {
    failure = await render().then(
      () => null,
      (e: unknown) => e,
    );
  }, 20_000);
  beforeEach(() => {
    if (failure) throw failure;
  });

  afterAll(async () => {
    await browser?.close();
    try {
      rmSync(join(dir, 'profile'), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // Chromium's helper processes can outlive the browser for a moment and still write into its profile (seen
      // as ENOTEMPTY): the temporary directory is then left behind, which is harmless
    }
  });

  it('a summary table first: one row per scenario with the measured gap, the bound, the limit and the verdict', () => {
    expect(wide.rows).toHaveLength(results.length);
    wide.rows.forEach((row, i) => {
      const r = results[i];
      expect(row.cells[0]).toContain(r.group ? `sync group ${r.group}` : r.instance);
      expect(row.cells[1]).toBe(r.name);
      expect(row.cells[2]).toBe(`${r.masterBefore} → ${r.masterAfter ?? 'nobody'}`);
      expect(row.cells[3]).toBe(`${(r.gapMs! / 1000).toFixed(2)} s`);
      expect(row.cells[4]).toBe(`${(r.expectedMaxMs / 1000).toFixed(2)} s (limit ${(r.maxGapMs / 1000).toFixed(2)} s)`);
      expect(row.verdict).toBe(r.ok ? 'ok' : 'FAIL');
      expect(row.cells[6]).toBe(r.restored ? 'yes' : 'NO');
    });
    expect(wide.rows.map((r) => r.cells[3])).toEqual(['0.40 s', '0.90 s', '5.20 s', '1.00 s']);
  });

  it('the verdict cell is green when ok, red when failed (computed style)', () => {
    wide.rows.forEach((row, i) => {
      expect(results[i].ok ? greenish(row.verdictBg) : reddish(row.verdictBg), `${i}: ${row.verdictBg}`).toBe(true);
    });
  });

  it('one rendered timeline per scenario, each in its section', () => {
    expect(wide.svgs).toHaveLength(results.length);
    for (const s of wide.svgs) {
      expect(s.inSection).toBe(true);
      expect(s.box.right - s.box.left).toBeGreaterThan(500);
      expect(s.box.bottom - s.box.top).toBeGreaterThan(100);
      expect(s.box.right).toBeLessThanOrEqual(wide.viewport);
    }
    expect(wide.svgs.map((s) => s.probes.failed)).toEqual(results.map((r) => r.failedProbes));
    expect(wide.svgs.map((s) => s.probes.served + s.probes.failed)).toEqual(results.map((r) => r.totalProbes));
    expect(narrow.svgs.every((s) => s.box.right - s.box.left > 0 && s.box.right <= narrow.viewport)).toBe(true);
  });

  it('full titles, wrapped, never cut (also in a narrow window)', () => {
    for (const view of [wide, narrow]) {
      expect(view.titles).toHaveLength(results.length);
      view.titles.forEach((t, i) => {
        expect(t.text).toContain(headline(results[i]));
        expect(t.scrollWidth).toBeLessThanOrEqual(t.clientWidth);
        expect(t.box.right).toBeLessThanOrEqual(view.viewport);
      });
      expect(view.pageScrollWidth).toBeLessThanOrEqual(view.viewport);
    }
    // the long ones take several lines in a narrow window
    expect(narrow.titles[1].box.bottom - narrow.titles[1].box.top).toBeGreaterThan(60);
  });

  it('a time axis in seconds from the fault, with a sensible step', () => {
    const labels = wide.svgs.map((s) => s.ticks.map((t) => t.text));
    expect(labels[0]).toEqual(['-1 s', '0 s', '1 s', '2 s', '3 s', '4 s']);
    expect(labels[1]).toEqual(['-1 s', '0 s', '1 s', '2 s', '3 s', '4 s', '5 s', '6 s', '7 s']);
    expect(labels[2]).toEqual(['0 s', '2 s', '4 s', '6 s', '8 s', '10 s']);
    expect(labels[3]).toEqual(['0 s', '5 s', '10 s', '15 s', '20 s', '25 s']);
    for (const s of wide.svgs) {
      const xs = s.ticks.map((t) => t.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
  });

  it('event labels and every text stay readable: no overlap, nothing outside the picture', () => {
    for (const s of wide.svgs) {
      expect(s.events.map((e) => e.text.split(' ')[0])).toEqual(expect.arrayContaining(['fault', 'moved', 'restore']));
      for (let i = 0; i < s.events.length; i++)
        for (let j = i + 1; j < s.events.length; j++)
          expect(overlap(s.events[i], s.events[j]), `${s.events[i].text} / ${s.events[j].text}`).toBe(false);
      for (const t of s.texts) {
        expect(t.left, t.text).toBeGreaterThanOrEqual(s.box.left - 0.5);
        expect(t.right, t.text).toBeLessThanOrEqual(s.box.right + 0.5);
      }
    }
  });

  it('the legend shows each node in exactly the colour of its holder bars, the same on the whole page', () => {
    const colour = new Map<string, string>();
    for (const s of wide.svgs) {
      const legendNodes = s.legend.filter((l) => l.kind === 'node');
      expect(legendNodes.map((l) => l.node)).toEqual(NODES);
      for (const l of legendNodes) {
        expect(l.text).toBe(l.node);
        expect(colour.get(l.node!) ?? l.fill).toBe(l.fill);
        colour.set(l.node!, l.fill);
      }
      const nodeBars = s.holders.filter((h) => h.kind === 'node');
      expect(nodeBars.length).toBeGreaterThan(0);
      for (const h of nodeBars) expect(h.fill, h.node!).toBe(legendNodes.find((l) => l.node === h.node)!.fill);
      // nobody and several nodes: their own entries, colours no node has
      const nobody = s.legend.find((l) => l.kind === 'nobody')!;
      const several = s.legend.find((l) => l.kind === 'split')!;
      expect(nobody.text).toBe('nobody');
      expect(several.text).toBe('several nodes (split brain)');
      for (const other of [nobody, several]) expect([...colour.values()]).not.toContain(other.fill);
      for (const h of s.holders.filter((x) => x.kind !== 'node'))
        expect(h.fill).toBe((h.kind === 'nobody' ? nobody : several).fill);
    }
    expect(new Set(colour.values()).size).toBe(NODES.length);
    expect(wide.svgs[1].holders.some((h) => h.kind === 'split')).toBe(true);
    expect(wide.svgs[2].holders.some((h) => h.kind === 'nobody')).toBe(true);
  });

  it('the standalone SVG: summary rows first, full titles wrapped inside the canvas', () => {
    const bare = (x: string) => x.replace(/\s+/g, '');
    expect(svgTexts.rows.map((cells) => cells.map(bare))).toEqual(
      results.map((r) =>
        [
          r.group ? `sync group ${r.group}` : r.instance,
          r.name,
          `${r.masterBefore} -> ${r.masterAfter}`,
          `${(r.gapMs! / 1000).toFixed(2)} s`,
          `${(r.expectedMaxMs / 1000).toFixed(2)} s (${(r.maxGapMs / 1000).toFixed(2)} s)`,
          r.ok ? 'ok' : 'FAIL',
          r.restored ? 'yes' : 'NO',
        ].map(bare),
      ),
    );
    expect(svgTexts.titles.map((t) => t.replace(/\s+/g, ''))).toEqual(
      results.map((r) => headline(r).replace(/\s+/g, '')),
    );
    for (const t of svgTexts.texts) {
      expect(t.left, t.text).toBeGreaterThanOrEqual(0);
      expect(t.right, t.text).toBeLessThanOrEqual(svgTexts.width);
    }
  });
});
