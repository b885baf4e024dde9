/**
 * The controller's own probe (observe/probe.ts startLocalProbe), the ordered probe of `status --watch`
 * (orderedProbe) and what clients see during a day-2 move (observe/clients.ts), against a real HTTP server in the
 * test process: answers attributed by their X-LB header, server errors and refused or hanging connections counted
 * as failures, the wait for five good answers after a move.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { watchAllClients, watchClients } from '../../src/observe/clients.js';
import { orderedProbe, startLocalProbe, type ProbeSample } from '../../src/observe/probe.js';

/** how the "VIP" answers right now */
let mode: 'ok' | 'error' | 'hang' = 'ok';
let servedBy = 'lb01';
let server: Server;
let base: string;
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (mode === 'hang') return void hanging.push(res);
    res.writeHead(mode === 'ok' ? 200 : 503, { 'x-lb': servedBy, connection: 'close' });
    res.end(mode);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hanging.forEach((r) => r.destroy());
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  mode = 'ok';
  servedBy = 'lb01';
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(5);
  }
}

describe('the local probe', () => {
  it('one GET per interval on a fresh connection, each answer timed and attributed by X-LB', async () => {
    const p = startLocalProbe(`http://${base}/`, 20, 500);
    await wait(250);
    await p.stop();
    expect(p.samples.length).toBeGreaterThanOrEqual(5);
    for (const s of p.samples) expect(s).toMatchObject({ ok: true, status: 200, servedBy: 'lb01' });
    // sorted by time, each sent at its own time
    const t = p.samples.map((s) => s.t);
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    expect(new Set(t).size).toBe(t.length);
    // nothing more after stop
    const n = p.samples.length;
    await wait(60);
    expect(p.samples.length).toBe(n);
  });

  it('a server error fails with its status; a refused connection or a timeout fails with none', async () => {
    mode = 'error';
    const e = startLocalProbe(`http://${base}/`, 20, 500);
    await wait(100);
    await e.stop();
    expect(e.samples[0]).toMatchObject({ ok: false, status: 503, servedBy: 'lb01' });

    const refused = startLocalProbe('http://127.0.0.1:9/', 20, 500);
    await wait(60);
    await refused.stop();
    expect(refused.samples[0]).toMatchObject({ ok: false, status: 0, servedBy: null });

    mode = 'hang';
    const slow = startLocalProbe(`http://${base}/`, 1000, 100);
    await wait(20);
    await slow.stop();
    expect(slow.samples).toEqual([expect.objectContaining({ ok: false, status: 0, servedBy: null })]);
    expect(slow.samples[0].ms).toBeGreaterThanOrEqual(90);
  });
});

describe('clients during a move (watchClients)', () => {
  it('counts the answers around the move and waits until five in a row are good after it', async () => {
    const w = await watchClients(base, 20);
    // the move: a moment of errors, then another node answers
    mode = 'error';
    await wait(100);
    mode = 'ok';
    servedBy = 'lb02';
    const view = await w.stop();
    expect(view.reachable).toBe(true);
    expect(view.failed).toBeGreaterThan(0);
    expect(view.total).toBeGreaterThan(view.failed + 5);
    expect(view.servedBy).toEqual(['lb02']);
  });

  it('every VIP of a move (both families of a dual-stack target): one view, the counts summed', async () => {
    const w = await watchAllClients([base, base], 20);
    mode = 'error';
    await wait(100);
    mode = 'ok';
    servedBy = 'lb02';
    const view = await w.stop();
    expect(view.reachable).toBe(true);
    expect(view.failed).toBeGreaterThan(1);
    expect(view.servedBy).toEqual(['lb02']);
    // one unreachable VIP: the move's clients were not all checked
    const half = await watchAllClients([base, '127.0.0.1:9'], 20);
    expect((await half.stop()).reachable).toBe(false);
  });

  it('a VIP the controller cannot reach: not checked, stop returns at once', async () => {
    const w = await watchClients('127.0.0.1:9', 20);
    const t0 = Date.now();
    const view = await w.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(view).toMatchObject({ reachable: false, servedBy: [] });
    expect(view.failed).toBe(view.total);
  });
});

describe('the ordered probe of status --watch (orderedProbe)', () => {
  it('GETs through the URL, X-LB read, results in the order sent even when answered later', async () => {
    let n = 0;
    const server = createServer((_req, res) => {
      const k = ++n;
      const answer = () => res.writeHead(200, { 'x-lb': k === 1 ? 'lb01' : 'lb02' }).end('ok');
      if (k === 1) setTimeout(answer, 250);
      else answer();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const got: ProbeSample[] = [];
    const p = orderedProbe(url, 50, 1000, (r) => got.push(r));
    await until('answers after the slow first one', () => got.length >= 4);
    await p.stop();
    const count = got.length;
    expect(got[0]).toMatchObject({ ok: true, status: 200, servedBy: 'lb01' });
    expect(got[0].ms).toBeGreaterThanOrEqual(200);
    expect(got.slice(1).every((r) => r.servedBy === 'lb02')).toBe(true);
    expect(got.map((r) => r.t)).toEqual([...got.map((r) => r.t)].sort((a, b) => a - b));
    await wait(120);
    expect(got.length).toBe(count);
    await new Promise((r) => server.close(r));
  });

  it('no answer: failed', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const got: ProbeSample[] = [];
    const p = orderedProbe(`http://127.0.0.1:${port}/`, 50, 500, (r) => got.push(r));
    await until('a refused probe', () => got.length >= 2);
    await p.stop();
    expect(got[0]).toMatchObject({ ok: false, status: 0, servedBy: null });
  });
});
