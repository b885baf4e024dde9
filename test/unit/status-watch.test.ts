/**
 * `status --watch` (issue 20 part 3): the watch over scripted connections (status reads answered from gathered
 * facts, the holder loop of observe/holder-stream.ts streamed through a scripted spawn, probes given by the test), the
 * events of a holder change and a probe failure, the plain lines, the JSON lines, the terminal frame, and leaving:
 * Ctrl-C, the duration, a closed stdout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { runWatch, statusCommand, watchTimes } from '../../src/commands/status.js';
import { UsageError } from '../../src/errors.js';
import { styler, type Interrupt, type IO } from '../../src/io.js';
import { clock, fit, frame, jsonLine, plainLine, startRenderer } from '../../src/report/watch.js';
import { renderStatus } from '../../src/report/status.js';
import { judgePair, LATENT_EVERY, nodeStatus } from '../../src/status/collect.js';
import type { ProbeSample } from '../../src/observe/probe.js';
import { newLines, startStatusWatch, WatchState, type WatchDeps, type WatchEvent } from '../../src/status/watch.js';
import { pair } from '../fixtures/answers.js';
import { fakeConn, fakeNode, fakeSpawn, gathered, type FakeConn, type FakeStream } from '../helpers/fake-conn.js';
import { rawControls } from '../helpers/control.js';
import { fakeIO } from '../helpers/fake-io.js';

const cfg = resolveAnswers(pair, { env: {} });
const VIP = '172.16.70.183';
const plain = styler({ color: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** a node as the test wants it: what its status read and its holder loop say, changed as the test goes */
interface Host {
  name: 'lb01' | 'lb02';
  vip: boolean;
  keepalived: string;
  state: string;
  prio: number;
  log: string[];
  /** what `nginx -t` says on the host (default: exit 0) */
  nginxtest?: string;
  conn: FakeConn;
  streams: FakeStream[];
}

const ns = () => `${BigInt(Date.now()) * 1_000_000n}`;

function statusText(h: Host): string {
  const addr = h.name === 'lb01' ? '172.16.70.181' : '172.16.70.182';
  return gathered({
    services: `keepalived ${h.keepalived} enabled 123\nnginx active enabled 9`,
    hostname: `${h.name}.example`,
    kaversion: 'Keepalived v2.2.7 (01/16,2022)',
    interfaces:
      'link 2: ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 link/ether 02:00:00:00:00:01\n' +
      `addr 2: ens33    inet ${addr}/24 scope global ens33` +
      (h.vip ? `\naddr 2: ens33    inet ${VIP}/24 scope global secondary ens33` : ''),
    kadata:
      h.keepalived === 'active'
        ? ` VRRP Instance = VI_1\n   State = ${h.state}\n   Effective priority = ${h.prio}`
        : '',
    transitions: h.log.join('\n'),
    backends: '',
    flags: 'maintenance 0',
    nginxtest: h.nginxtest ?? 'exit 0',
    katest: '',
  });
}

function host(name: 'lb01' | 'lb02', over: Partial<Host> = {}): Host {
  const h = { name, vip: name === 'lb01', keepalived: 'active', log: [], ...over } as Host;
  h.state ??= h.vip ? 'MASTER' : 'BACKUP';
  h.prio ??= name === 'lb01' ? 110 : 100;
  const node = cfg.nodes.find((n) => n.name === name)!;
  h.conn = fakeConn(
    (c) => (c.text === 'date +%s%N' ? { stdout: ns() } : c.kind === 'sh' ? { stdout: statusText(h) } : undefined),
    fakeNode(node),
  );
  h.streams = fakeSpawn(h.conn);
  return h;
}

/** the remote holder loop of every host: a sample every 20 ms on its latest stream */
function sampling(hosts: Host[]): () => void {
  const t = setInterval(() => {
    for (const h of hosts) h.streams[h.streams.length - 1]?.push(`${ns()}${h.vip ? ` ${VIP}` : ''}\n`);
  }, 20);
  return () => clearInterval(t);
}

interface FakeProbe {
  vip: string;
  intervalMs: number;
  on: (r: ProbeSample) => void;
  stopped: boolean;
}

function probes(): { list: FakeProbe[]; factory: NonNullable<WatchDeps['probe']> } {
  const list: FakeProbe[] = [];
  return {
    list,
    factory: (vip, intervalMs, on) => {
      const p: FakeProbe = { vip, intervalMs, on, stopped: false };
      list.push(p);
      return { stop: async () => void (p.stopped = true) };
    },
  };
}

const answer = (p: FakeProbe, ok: boolean, servedBy: string | null = null) =>
  p.on({ t: Date.now(), ok, status: ok ? 200 : 0, servedBy, ms: 2 });

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** a watch over lb01 (MASTER, holding the VIP) and lb02, with fast loops */
function watchPair(over: { lb01?: Partial<Host>; lb02?: Partial<Host> } = {}) {
  const hosts = [host('lb01', over.lb01), host('lb02', over.lb02)];
  const fake = probes();
  const reads: Record<string, number> = { lb01: 0, lb02: 0 };
  const deps: WatchDeps = {
    probe: fake.factory,
    nodeStatus: (c, name, conn) => (reads[name]++, nodeStatus(c, name, conn)),
  };
  const conns = { lb01: hosts[0].conn, lb02: hosts[1].conn };
  cleanups.push(sampling(hosts));
  return { hosts, fake, reads, deps, conns, opts: { probeIntervalMs: 200, statusIntervalMs: 40, tickMs: 10 } };
}

describe('the watch: events from the status reads, the holder streams and the probes', () => {
  it('a holder change and a probe failure, each seen once, in order, with counts', async () => {
    const p = watchPair({ lb02: { log: ['May 1 12:00:00 lb02 Keepalived_vrrp[9]: (VI_1) Entering BACKUP STATE'] } });
    const [lb01, lb02] = p.hosts;
    const events: WatchEvent[] = [];
    const w = startStatusWatch(cfg, p.conns, p.opts, p.deps, (e) => events.push(e));
    cleanups.push(() => w.stop());
    const vips = () => events.filter((e) => e.kind === 'vip');
    const clients = () => events.filter((e) => e.kind === 'clients');
    await until('the first view', () => vips().length === 1 && events.filter((e) => e.kind === 'node').length === 2);
    expect(vips()[0]).toMatchObject({ instance: 'VI_1', vip: VIP, from: null, to: ['lb01'] });
    expect(events.find((e) => e.kind === 'node' && e.node === 'lb01')).toMatchObject({
      first: true,
      reachable: true,
      keepalived: 'active',
      instances: [{ name: 'VI_1', state: 'MASTER', priority: 110 }],
    });
    // one probe loop per VIP at the interval asked; the X-LB header names lb01 by its hostname
    expect(p.fake.list.map((x) => [x.vip, x.intervalMs])).toEqual([[VIP, 200]]);
    const probe = p.fake.list[0];
    answer(probe, true, 'lb01.example');
    answer(probe, true, 'lb01.example');
    expect(clients()).toMatchObject([{ served: true, by: 'lb01', via: 'header', ok: 1, total: 1, first: true }]);

    // keepalived stops on lb01: the VIP leaves it, nobody holds it for a moment, then lb02 does
    Object.assign(lb01, { vip: false, keepalived: 'inactive' });
    const vip = (from: string[], to: string[]) =>
      vips().find((e) => e.kind === 'vip' && e.from?.join() === from.join() && e.to.join() === to.join());
    await until('lb01 -> nobody', () => !!vip(['lb01'], []));
    answer(probe, false);
    answer(probe, false);
    answer(probe, false);
    Object.assign(lb02, { vip: true, state: 'MASTER' });
    lb02.log = [...lb02.log, 'May 1 12:00:03 lb02 Keepalived_vrrp[9]: (VI_1) Entering MASTER STATE'];
    await until('nobody -> lb02', () => !!vip([], ['lb02']));
    expect(vip([], ['lb02'])).toMatchObject({ movedFrom: ['lb01'], gapMs: expect.any(Number) });
    // each change once: the first holders, lb01 -> nobody, nobody -> lb02
    expect(vips()).toHaveLength(3);
    // no X-LB header: the answer is put on the holder
    answer(probe, true);
    expect(clients().slice(1)).toMatchObject([
      { served: false, failed: 1, total: 3 },
      { served: true, by: 'lb02', via: 'holder', ok: 3, failed: 3, total: 6, outage: { failed: 3 } },
    ]);
    await until('the node changes and the log line', () =>
      events.some((e) => e.kind === 'transition' && e.line.includes('Entering MASTER')),
    );
    const lb01Change = events.find((e) => e.kind === 'node' && e.node === 'lb01' && !e.first);
    expect(lb01Change).toMatchObject({ changes: ['keepalived active -> inactive', 'VI_1 MASTER(110) -> -'] });
    // the log's tail found at the start is history (in the view), not an event
    expect(events.filter((e) => e.kind === 'transition')).toHaveLength(1);
    const v = w.view();
    expect(v.vips[0]).toMatchObject({ holders: ['lb02'], expected: 'lb02', problem: null });
    expect(v.transitions.map((t) => t.text)).toContain(`VI_1 ${VIP} lb01 -> nobody`);
    expect(v.transitions[0].text).toMatch(/^lb02: .*Entering BACKUP STATE/);
    expect(v.problems).toEqual(['lb01: keepalived is inactive']);
  });

  it('cheap on the hosts: each status read is one round trip, no VRRP listen; stop ends every loop', async () => {
    const p = watchPair();
    const events: WatchEvent[] = [];
    const w = startStatusWatch(cfg, p.conns, p.opts, p.deps, (e) => events.push(e));
    await until('a few reads', () => p.reads.lb01 >= 3 && p.reads.lb02 >= 3);
    await w.stop();
    for (const h of p.hosts) {
      const sh = h.conn.calls.filter((c) => c.kind === 'sh');
      expect(sh.length).toBe(p.reads[h.name]);
      expect(sh.every((c) => c.text.includes('@@services') && !/tcpdump|SOCK_RAW/.test(c.text))).toBe(true);
      // the holder loop: one stream per node (after its clock offset), killed and closed by stop
      expect(h.streams).toHaveLength(1);
      expect(h.streams[0].command).toContain('ip -o addr show');
      expect(h.streams[0].signals).toContain('KILL');
      expect(h.streams[0].closed).toBe(true);
    }
    expect(p.fake.list.every((x) => x.stopped)).toBe(true);
    const n = events.length;
    answer(p.fake.list[0], false);
    await sleep(100);
    expect(events.length).toBe(n);
  });

  // nginx -t and keepalived -t: on the first read and every 10th, their last result shown in between
  it("each read leaves out what the watch shows nowhere (backends' curls, keepalived's version)", async () => {
    const p = watchPair();
    const views: WatchEvent[] = [];
    const w = startStatusWatch(cfg, p.conns, p.opts, { ...p.deps, nodeStatus: undefined }, (e) => views.push(e));
    const reads = (h: Host) => h.conn.calls.filter((c) => c.kind === 'sh');
    await until('a few reads', () => p.hosts.every((h) => reads(h).length >= 3));
    await w.stop();
    for (const h of p.hosts) {
      const r = reads(h);
      expect(r.every((c) => c.text.includes('@@services'))).toBe(true);
      expect(r.some((c) => /@@backends|@@kaversion/.test(c.text))).toBe(false);
      expect(r.map((c) => c.text.includes('@@katest') && c.text.includes('@@nginxtest')).slice(0, 3)).toEqual([
        true,
        false,
        false,
      ]);
    }
    expect(LATENT_EVERY).toBe(10);
    expect(views.length).toBeGreaterThan(0);
  });

  it('a latent fault found by the first read stays in the view through the reads without nginx -t', async () => {
    const p = watchPair({ lb01: { nginxtest: 'nginx: [emerg] unknown directive "this"\nexit 1' } });
    const w = startStatusWatch(cfg, p.conns, p.opts, { ...p.deps, nodeStatus: undefined }, () => undefined);
    const reads = () => p.hosts[0].conn.calls.filter((c) => c.kind === 'sh').length;
    const seen: boolean[] = [];
    await until('four reads of lb01', () => {
      seen.push(w.view().problems.some((x) => /lb01/.test(x) && /nginx/.test(x)));
      return reads() >= 4;
    });
    await w.stop();
    // once read, the fault is in every view after it
    expect(seen.slice(seen.indexOf(true))).not.toContain(false);
    expect(seen).toContain(true);
  });

  it('a silent stream is not a VIP gone: the node keeps it until a status read or another node says', async () => {
    const s = new WatchState(cfg, 0, 200);
    expect(s.onHolderSamples([{ t: 1000, node: 'lb01', vips: [VIP] }])).toEqual([]);
    expect(s.onHolderSamples([{ t: 1010, node: 'lb02', vips: [] }])).toMatchObject([{ from: null, to: ['lb01'] }]);
    s.onHolderSamples([{ t: 2000, node: 'lb02', vips: [] }]);
    // lb01 silent for more than a second (a busy node, a slow sshd): still the holder, no event
    expect(s.refresh(2100)).toEqual([]);
    expect(s.refresh(5000)).toEqual([]);
    // lb02 is heard holding it: the VIP moved
    expect(s.onHolderSamples([{ t: 5050, node: 'lb02', vips: [VIP] }])).toMatchObject([
      { from: ['lb01'], to: ['lb02'] },
    ]);
    // lb02 silent and lb01 back without it: lb02 keeps it
    s.onHolderSamples([{ t: 5100, node: 'lb01', vips: [] }]);
    expect(s.refresh(7000)).toEqual([]);
    // a status read of lb02 newer than its last sample says it cannot be reached: nobody holds the VIP
    const gone = await nodeStatus(cfg, 'lb02', undefined);
    expect(s.onNodeStatus(gone, 7100).filter((e) => e.kind === 'vip')).toMatchObject([{ from: ['lb02'], to: [] }]);
    expect(newLines(['a', 'b'], ['a', 'b', 'c'])).toEqual(['c']);
    expect(newLines(['a', 'b'], ['b', 'c', 'd'])).toEqual(['c', 'd']);
    expect(newLines(['x'], ['c', 'd'])).toEqual(['c', 'd']);
  });
});

/** terminal escape sequences (built, not a literal: no control characters in a regex literal) */
const ESCAPES = new RegExp(String.fromCharCode(27) + '\\[[0-9;?]*[A-Za-z]', 'g');
const T = new Date(2025, 4, 1, 12, 1, 3, 250).getTime();

describe('rendering', () => {
  const vipMove: WatchEvent = { kind: 'vip', t: T, instance: 'VI_1', vip: VIP, from: ['lb01'], to: ['lb02'] };
  const back: WatchEvent = {
    kind: 'clients',
    t: T + 700,
    instance: 'VI_1',
    vip: VIP,
    served: true,
    status: 200,
    by: 'lb02',
    via: 'header',
    ms: 3,
    ok: 120,
    failed: 4,
    total: 124,
    first: false,
    outage: { ms: 700, failed: 4 },
  };

  it('plain lines: a timestamped line per change', () => {
    expect(clock(T)).toBe('12:01:03.250');
    expect(plainLine(vipMove, plain)).toBe(`12:01:03.250 VI_1 ${VIP} lb01 -> lb02`);
    const gap = { ...vipMove, from: [], movedFrom: ['lb01'], gapMs: 612 };
    expect(plainLine(gap, plain)).toBe(`12:01:03.250 VI_1 ${VIP} nobody -> lb02 (after lb01, 612 ms without a holder)`);
    expect(plainLine({ ...vipMove, from: null, to: ['lb01'] }, plain)).toBe(`12:01:03.250 VI_1 ${VIP} held by lb01`);
    expect(plainLine(back, plain)).toBe(
      `12:01:03.950 clients VI_1 ${VIP}: served by lb02 again after 700 ms (4 failed) (HTTP 200, 3 ms); ` +
        '120 served, 4 failed of 124',
    );
    const failed = { ...back, served: false, status: 0, by: null, via: null, outage: undefined };
    expect(plainLine(failed, plain)).toBe(
      `12:01:03.950 clients VI_1 ${VIP}: FAILED (no answer); 120 served, 4 failed of 124`,
    );
    const node: WatchEvent = {
      kind: 'node',
      t: T,
      node: 'lb01',
      host: 'h',
      known: true,
      reachable: true,
      error: null,
      keepalived: 'inactive',
      nginx: 'active',
      instances: [],
      stateUnreadable: null,
      maintenance: false,
      demoted: [],
      changes: ['keepalived active -> inactive', 'VI_1 MASTER(110) -> -'],
      first: false,
    };
    expect(plainLine(node, plain)).toBe('12:01:03.250 lb01: keepalived active -> inactive; VI_1 MASTER(110) -> -');
    expect(plainLine({ kind: 'transition', t: T, node: 'lb02', line: 'x' }, plain)).toBe('12:01:03.250 lb02 log: x');
    // colour only when io.color (NO_COLOR leaves it false)
    expect(plainLine(failed, styler({ color: true }))).toContain('\x1b[31m');
    expect(plainLine(failed, plain)).not.toContain('\x1b[');
  });

  it('JSON lines: one object per event, {time, kind, ...}', () => {
    const io = fakeIO();
    const r = startRenderer(io, 'json', () => {
      throw new Error('no view in JSON');
    });
    r.event(vipMove);
    r.event(back);
    r.stop();
    expect(io.stdout).toHaveLength(2);
    const [a, b] = io.stdout.map((l) => JSON.parse(l));
    expect(a).toEqual({
      time: new Date(T).toISOString(),
      kind: 'vip',
      instance: 'VI_1',
      vip: VIP,
      from: ['lb01'],
      to: ['lb02'],
    });
    expect(b).toMatchObject({ kind: 'clients', served: true, by: 'lb02', failed: 4, outage: { ms: 700, failed: 4 } });
    expect(jsonLine(vipMove)).not.toContain('\n');
  });

  /** a view: lb02 holds the VIP after lb01's keepalived stopped, clients served again after failures */
  function movedView() {
    const s = new WatchState(cfg, T - 65_000, 200);
    const hosts = [host('lb01', { vip: false, keepalived: 'inactive' }), host('lb02', { vip: true, state: 'MASTER' })];
    s.onHolderSamples([
      { t: T - 1000, node: 'lb01', vips: [VIP] },
      { t: T - 1000, node: 'lb02', vips: [] },
    ]);
    return Promise.all(hosts.map((h) => nodeStatus(cfg, h.name, h.conn))).then((st) => {
      st.forEach((x) => s.onNodeStatus(x, T - 500));
      s.onHolderSamples([
        { t: T, node: 'lb01', vips: [] },
        { t: T, node: 'lb02', vips: [VIP] },
      ]);
      const ok = (servedBy: string | null) => ({ t: T, ok: true, status: 200, servedBy, ms: 1 });
      for (let i = 0; i < 9; i++) s.onProbe(VIP, ok('lb01'));
      for (let i = 0; i < 3; i++) s.onProbe(VIP, { ...ok(null), ok: false, status: 0 });
      for (let i = 0; i < 3; i++) s.onProbe(VIP, ok('lb02.example'));
      return s;
    });
  }

  it('the terminal frame: nodes, VIP holder, clients served/failed counts, transitions, problems', async () => {
    const v = (await movedView()).view(T);
    const text = frame(v, plain).join('\n');
    expect(text).toMatch(/^ha-setup status --watch {2}12:01:03 {2}watching for 1m05s, clients probed every 200 ms/);
    expect(text).toMatch(/lb01 +172\.16\.70\.181 +yes +inactive +active +- +-/);
    expect(text).toMatch(/lb02 +172\.16\.70\.182 +yes +active +active +VI_1=MASTER\(100\) +-/);
    expect(text).toMatch(/vip +holder +expected +clients +served +failed +last outage/);
    const row = `VI_1 ${VIP} +lb02 +lb02 +served by lb02 +12 +3 +0 ms, 3 failed, 12:01:03`;
    expect(text).toMatch(new RegExp(row.replace(/\./g, '\\.')));
    expect(text).toContain(`12:01:03.250 VI_1 ${VIP} lb01 -> nobody\n  12:01:03.250 VI_1 ${VIP} nobody -> lb02`);
    expect(text).toMatch(/problems\n {2}lb01: keepalived is inactive/);
  });

  it('the terminal: drawn in place (cursor up, lines cleared), cut to the width, cursor back', async () => {
    const s = await movedView();
    const io = fakeIO();
    const r = startRenderer(io, 'tty', () => s.view(Date.now()), { size: () => ({ columns: 40, rows: 50 }) });
    await until('the first frame', () => io.stdout.length === 1, 1000);
    expect(io.stdout[0].startsWith('\x1b[?25l')).toBe(true);
    const lines = io.stdout[0].split('\n').length;
    r.event({ kind: 'transition', t: Date.now(), node: 'lb01', line: 'x' });
    await until('a redraw on the change', () => io.stdout.length === 2, 1000);
    expect(io.stdout[1].startsWith(`\x1b[${lines}F`)).toBe(true);
    // nothing changed: no redraw before the clock's second turns
    const before = io.stdout.length;
    await sleep(150);
    expect(io.stdout.length - before).toBeLessThanOrEqual(1);
    r.stop();
    const last = io.stdout[io.stdout.length - 1];
    expect(last.endsWith('\x1b[J\x1b[?25h')).toBe(true);
    for (const l of last.split('\n')) expect(l.replace(ESCAPES, '').length).toBeLessThanOrEqual(39);
    const n = io.stdout.length;
    await sleep(250);
    expect(io.stdout.length).toBe(n);
    expect(fit('\x1b[32mabcdef\x1b[39m', 3)).toBe('\x1b[32mabc\x1b[0m');
  });

  it('NO_COLOR: colours on the terminal only when io.color; never in plain lines to a pipe', async () => {
    const s = await movedView();
    const sgr = new RegExp(String.fromCharCode(27) + '\\[\\d+m');
    const draw = async (color: boolean, mode: 'tty' | 'plain') => {
      const io = Object.assign(fakeIO(), { color });
      const r = startRenderer(io, mode, () => s.view(T));
      r.event({ kind: 'vip', t: T, instance: 'VI_1', vip: VIP, from: ['lb01'], to: [] });
      await sleep(mode === 'tty' ? 150 : 0);
      r.stop();
      return io.stdout.join('\n');
    };
    expect(await draw(true, 'tty')).toMatch(sgr);
    expect(await draw(false, 'tty')).not.toMatch(sgr);
    const piped = await draw(true, 'plain');
    expect(piped).toBe(`12:01:03.250 VI_1 ${VIP} lb01 -> nobody`);
  });
});

/** a fake IO with a terminal and Ctrl-C: `press()` is the first Ctrl-C */
function ttyIO(): IO & { stdout: string[]; stderr: string[]; press(): void; handlers: () => unknown } {
  let h: Parameters<Interrupt['onInterrupt']>[0] = null;
  const base = fakeIO();
  return Object.assign(base, {
    stdoutIsTTY: true,
    interrupt: { onInterrupt: (x: typeof h) => void (h = x) },
    press: () => h?.first('SIGINT'),
    handlers: () => h,
  });
}

describe('leaving', () => {
  it('Ctrl-C stops everything: loops, streams, probes; the cursor back; 0', async () => {
    const p = watchPair();
    const io = ttyIO();
    const done = runWatch(io, cfg, p.conns, { ...p.opts, durationMs: null, json: false }, p.deps);
    await until('watching', () => io.stdout.length > 0 && p.hosts.every((h) => h.streams.length === 1));
    expect(io.handlers()).not.toBeNull();
    io.press();
    expect(await done).toBe(0);
    for (const h of p.hosts) expect([h.streams[0].signals, h.streams[0].closed]).toEqual([['KILL'], true]);
    expect(p.fake.list.every((x) => x.stopped)).toBe(true);
    expect(io.stdout[io.stdout.length - 1].endsWith('\x1b[?25h')).toBe(true);
    expect(io.handlers()).toBeNull();
    const [n, reads] = [io.stdout.length, p.reads.lb01];
    await sleep(200);
    expect([io.stdout.length, p.reads.lb01]).toEqual([n, reads]);
  });

  it('--duration: 0 on a healthy pair, exit 1 when the last view has a problem', async () => {
    const ok = watchPair();
    const io = fakeIO();
    expect(await runWatch(io, cfg, ok.conns, { ...ok.opts, durationMs: 300, json: true }, ok.deps)).toBe(0);
    const kinds = io.stdout.map((l) => JSON.parse(l).kind);
    expect(kinds).toEqual(expect.arrayContaining(['node', 'vip']));
    const bad = watchPair({ lb02: { keepalived: 'inactive' } });
    const err = await runWatch(fakeIO(), cfg, bad.conns, { ...bad.opts, durationMs: 300, json: false }, bad.deps).catch(
      (e: Error & { exitCode: number; details: string[] }) => e,
    );
    expect(err).toMatchObject({ exitCode: 1, details: ['lb02: keepalived is inactive'] });
  });

  it('a closed stdout stops the watch without a crash', async () => {
    const p = watchPair();
    const io = fakeIO();
    let writes = 0;
    const closing = Object.assign(io, {
      out: () => {
        writes++;
        throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      },
    });
    expect(await runWatch(closing, cfg, p.conns, { ...p.opts, durationMs: null, json: true }, p.deps)).toBe(0);
    expect(writes).toBe(1);
    // the process's stdout failing: the same
    const q = watchPair();
    let fail: () => void = () => undefined;
    const done = runWatch(
      fakeIO(),
      cfg,
      q.conns,
      {
        ...q.opts,
        durationMs: null,
        json: true,
        onOutputError: (stop) => void (fail = stop),
      },
      q.deps,
    );
    await sleep(50);
    fail();
    expect(await done).toBe(0);
  });

  it('options: --interval 50..5000 (200), --duration in seconds, both only with --watch', async () => {
    expect(watchTimes({})).toEqual({ probeIntervalMs: 200, durationMs: null });
    expect(watchTimes({ interval: '50', duration: '1.5' })).toEqual({ probeIntervalMs: 50, durationMs: 1500 });
    for (const bad of [
      { interval: '20' },
      { interval: '5001' },
      { interval: 'x' },
      { duration: '0' },
      { duration: 'x' },
    ])
      expect(() => watchTimes(bad)).toThrow(UsageError);
    await expect(statusCommand(fakeIO(), { interval: '100' })).rejects.toThrow(
      '--interval and --duration go with --watch',
    );
  });
});

describe("the hosts' text is shown with its control characters escaped", () => {
  const evil = '\x1b]0;owned\x07\r\x1b[2J';

  it('status: log lines and states from keepalived', async () => {
    const hosts = [
      host('lb01', { log: [`Keepalived_vrrp: (VI_1) Entering MASTER STATE${evil}`], state: 'MASTER\x1b]0;owned\x07' }),
      host('lb02'),
    ];
    const nodes = await Promise.all(hosts.map((h) => nodeStatus(cfg, h.name, h.conn)));
    const io = fakeIO();
    renderStatus(io, cfg, judgePair(cfg, nodes), false);
    const out = [...io.stdout, ...io.stderr].join('\n');
    expect(out).toContain('  Keepalived_vrrp: (VI_1) Entering MASTER STATE\\x1b]0;owned\\x07\\x0d\\x1b[2J');
    expect(out).toContain('VI_1=MASTER\\x1b]0;owned\\x07(110)');
    expect(rawControls(out)).toEqual([]);
  });

  it('the watch: a log line, an error; its own colours and cursor moves stay', () => {
    const colour = styler({ color: true });
    const log = plainLine({ kind: 'transition', t: T, node: 'lb01', line: `x${evil}` }, plain);
    expect(log).toBe('12:01:03.250 lb01 log: x\\x1b]0;owned\\x07\\x0d\\x1b[2J');
    const down = plainLine(
      {
        kind: 'node',
        t: T,
        node: 'lb01',
        first: false,
        reachable: false,
        error: `ssh: ${evil}`,
      } as unknown as WatchEvent,
      colour,
    );
    expect(down).toBe('12:01:03.250 \x1b[31mlb01: UNREACHABLE (ssh: \\x1b]0;owned\\x07\\x0d\\x1b[2J)\x1b[39m');
  });
});
