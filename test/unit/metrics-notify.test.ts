/**
 * The notify hook (templates/notify-metrics.sh.ejs) run under sh and bash with stub logger, metrics and operator
 * scripts, the real curl behind a wrapper that records its arguments, and a local HTTP receiver: state files, one
 * POST per transition with the right body and headers, retries, split brain, and that keepalived is never kept
 * waiting.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  renderMetricsNotifyScript,
  webhookHeadersFile,
  webhookUrlFile,
  type NotifyScriptData,
} from '../../src/metrics/notify.js';
import { cleanupTempDirs, tempDir, which, writeExec } from '../fixtures/metrics/harness.js';
import { keepalivedCheck } from '../helpers/keepalived-check.js';
import { removeSafeDirs, safeDir } from '../helpers/safe-dir.js';

afterAll(cleanupTempDirs);
afterAll(removeSafeDirs);

const TOKEN = 'Bearer s3cr3t-t0ken';

interface Post {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** an HTTP server that records every request and answers with the given statuses, then 200 */
async function receiver(statuses: number[] = []) {
  const posts: Post[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push({ headers: req.headers, body, at: Date.now() });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook?x=1`,
    posts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Hook {
  dir: string;
  stateDir: string;
  script: string;
  /** run the hook: exit code and how long it took (ms) */
  run(...args: string[]): Promise<{ code: number; ms: number }>;
  log(): string;
  curlArgs(): string;
  metricsRuns(): number;
  operatorCalls(): string[];
}

function hook(url: string | null, more: Partial<NotifyScriptData> = {}, shell = 'sh'): Hook {
  const dir = tempDir('ha-notify-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const stateDir = join(dir, 'run');
  writeExec(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/log'\n`);
  writeExec(join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${dir}/curl.args'\nexec ${which('curl')} "$@"\n`);
  const metricsScript = writeExec(join(dir, 'metrics.sh'), `#!/bin/sh\necho run >> '${dir}/metrics.runs'\n`);
  // in a directory only root can write to (else the hook refuses to run it: below)
  const operatorScript = writeExec(
    join(safeDir('ha-notify-'), 'on-vrrp'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/operator'\n`,
  );
  const headersFile = join(dir, 'webhook.headers');
  writeFileSync(headersFile, webhookHeadersFile(`Authorization: ${TOKEN}\nX-Quote: a "b" \\c\n`), { mode: 0o600 });
  const urlFile = join(dir, 'webhook.url');
  if (url !== null) writeFileSync(urlFile, webhookUrlFile(url), { mode: 0o600 });
  const script = join(dir, 'notify.sh');
  const data: NotifyScriptData = {
    node: 'lb01',
    facility: 'local4',
    operatorScript,
    stateDir,
    metricsScript,
    webhook: url === null ? null : { urlFile, headersFile },
    vipsByInstance: { VI_1: ['10.0.0.10/24', '10.0.0.11'], VI_2: [] },
    path: `${bin}:/usr/bin:/bin`,
    ...more,
  };
  writeExec(script, renderMetricsNotifyScript(data));
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  return {
    dir,
    stateDir,
    script,
    run: (...args) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        execFile(shell, [script, ...args], (err) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, ms: performance.now() - t0 }),
        );
      }),
    log: () => read('log'),
    curlArgs: () => read('curl.args'),
    metricsRuns: () => read('metrics.runs').split('\n').filter(Boolean).length,
    operatorCalls: () => read('operator').split('\n').filter(Boolean),
  };
}

const stateOf = (h: Hook, name: string) => readFileSync(join(h.stateDir, 'vrrp', name), 'utf8');

describe('notify hook: a transition', () => {
  for (const shell of ['sh', 'bash']) {
    it(`under ${shell}: state file, metrics refresh, one POST (body, headers from file), operator script`, async () => {
      const rx = await receiver();
      const h = hook(rx.url, {}, shell);
      const before = Math.floor(Date.now() / 1000);
      const r = await h.run('INSTANCE', 'VI_1', 'MASTER', '110');
      expect(r.code).toBe(0);
      const [state, time, count, prio, seq] = stateOf(h, 'VI_1').trim().split(' ');
      expect([state, count, prio]).toEqual(['MASTER', '1', '110']);
      expect(Number(time)).toBeGreaterThanOrEqual(before);
      expect(seq).toMatch(/^\d{19}$/);
      expect(h.log()).toBe('-p local4.notice -t ha-setup transition INSTANCE VI_1 -> MASTER (priority 110)\n');
      expect(h.operatorCalls()).toEqual(['INSTANCE VI_1 MASTER 110']);
      await until('the POST', () => rx.posts.length === 1);
      await until('the metrics refresh', () => h.metricsRuns() === 1);
      const body = JSON.parse(rx.posts[0].body);
      expect(body).toEqual({
        node: 'lb01',
        instance: 'VI_1',
        state: 'MASTER',
        priority: 110,
        vips: ['10.0.0.10', '10.0.0.11'],
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      });
      expect(Math.abs(Date.parse(body.time) / 1000 - before)).toBeLessThan(5);
      expect(rx.posts[0].headers.authorization).toBe(TOKEN);
      expect(rx.posts[0].headers['x-quote']).toBe('a "b" \\c');
      expect(rx.posts[0].headers['content-type']).toBe('application/json');
      // the token is in neither the script nor curl's arguments, and neither is the URL (a Slack-style hook's
      // credential: it is read from its root-only file)
      expect(readFileSync(h.script, 'utf8')).not.toContain('s3cr3t');
      expect(readFileSync(h.script, 'utf8')).not.toContain('127.0.0.1');
      expect(h.curlArgs()).not.toContain('s3cr3t');
      expect(h.curlArgs()).not.toContain('127.0.0.1');
      await new Promise((r) => setTimeout(r, 300));
      expect(rx.posts.length).toBe(1);
      await rx.close();
    });
  }

  it('counts transitions: one POST each, the newest state kept', async () => {
    const rx = await receiver();
    const h = hook(rx.url);
    await h.run('INSTANCE', 'VI_1', 'BACKUP', '100');
    await h.run('INSTANCE', 'VI_1', 'MASTER', '100');
    await h.run('INSTANCE', 'VI_2', 'FAULT', '0');
    expect(stateOf(h, 'VI_1')).toMatch(/^MASTER \d+ 2 100 \d+\n$/);
    expect(stateOf(h, 'VI_2')).toMatch(/^FAULT \d+ 1 0 \d+\n$/);
    await until('3 POSTs', () => rx.posts.length === 3);
    const bodies = rx.posts.map((p) => JSON.parse(p.body));
    expect(bodies.map((b) => `${b.instance} ${b.state}`).sort()).toEqual(['VI_1 BACKUP', 'VI_1 MASTER', 'VI_2 FAULT']);
    expect(bodies.find((b) => b.instance === 'VI_2').vips).toEqual([]);
    await rx.close();
  });

  it('concurrent hooks of one instance lose no count (flock)', async () => {
    const h = hook(null);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => h.run('INSTANCE', 'VI_1', i % 2 ? 'MASTER' : 'BACKUP', '1')),
    );
    expect(stateOf(h, 'VI_1')).toMatch(/^(MASTER|BACKUP) \d+ 12 1 \d+\n$/);
  });
});

describe('notify hook: order, states, names', () => {
  it('a late hook of an older transition counts but does not overwrite the newer state', async () => {
    const h = hook(null);
    mkdirSync(join(h.stateDir, 'vrrp'), { recursive: true });
    writeFileSync(join(h.stateDir, 'vrrp', 'VI_1'), 'MASTER 1700000000 4 110 9000000000000000000\n');
    await h.run('INSTANCE', 'VI_1', 'BACKUP', '100');
    expect(stateOf(h, 'VI_1')).toBe('MASTER 1700000000 5 110 9000000000000000000\n');
  });

  it('STOP and DELETED are recorded as STOP; an unknown state is only logged', async () => {
    const h = hook(null);
    await h.run('INSTANCE', 'VI_1', 'DELETED', '0');
    expect(stateOf(h, 'VI_1')).toMatch(/^STOP \d+ 1 0 /);
    await h.run('INSTANCE', 'VI_1', 'STOP', '0');
    expect(stateOf(h, 'VI_1')).toMatch(/^STOP \d+ 2 0 /);
    await h.run('INSTANCE', 'VI_1', '{UNKNOWN}', '0');
    expect(stateOf(h, 'VI_1')).toMatch(/^STOP \d+ 2 0 /);
    expect(h.operatorCalls().length).toBe(3);
  });

  it('GROUP: logged and handed to the operator script, no state file, no POST', async () => {
    const rx = await receiver();
    const h = hook(rx.url);
    await h.run('GROUP', 'G_WEB', 'MASTER', '0');
    expect(h.log()).toContain('transition GROUP G_WEB -> MASTER (priority 0)');
    expect(h.operatorCalls()).toEqual(['GROUP G_WEB MASTER 0']);
    expect(existsSync(join(h.stateDir, 'vrrp', 'G_WEB'))).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.posts.length).toBe(0);
    await rx.close();
  });

  it('a name that is not one (path, quote) writes nothing', async () => {
    const h = hook(null);
    for (const name of ['../x', 'a"b', '..', '']) await h.run('INSTANCE', name, 'MASTER', '1');
    expect(existsSync(join(h.stateDir, 'x'))).toBe(false);
    expect(existsSync(join(h.stateDir, 'vrrp'))).toBe(false);
    expect(h.log().split('\n').filter(Boolean).length).toBe(4);
  });

  it('no webhook: no curl; no operator script: nothing run; keepalived 2.x extra args ignored', async () => {
    const h = hook(null, { operatorScript: null });
    expect(readFileSync(h.script, 'utf8')).not.toContain('file_check');
    const r = await h.run('INSTANCE', 'VI_1', 'MASTER', '110', 'extra', 'args');
    expect(r.code).toBe(0);
    expect(stateOf(h, 'VI_1')).toMatch(/^MASTER \d+ 1 110 /);
    await until('the metrics refresh', () => h.metricsRuns() === 1);
    expect(h.curlArgs()).toBe('');
    expect(h.operatorCalls()).toEqual([]);
  });
});

describe("notify hook: the operator's script only when nobody but root can change it", () => {
  const operator = (dir: string, name = 'on-vrrp') =>
    writeExec(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/ran'\n`);
  const ran = (dir: string) => existsSync(join(dir, 'ran'));
  const warning = (h: Hook) =>
    h
      .log()
      .split('\n')
      .find((l) => l.includes('.warning'));

  it('in a directory anyone can write to (/tmp): not run, the log says why', async () => {
    const dir = tempDir('ha-notify-op-');
    const h = hook(null, { operatorScript: operator(dir) });
    expect((await h.run('INSTANCE', 'VI_1', 'MASTER', '110')).code).toBe(0);
    expect(ran(dir)).toBe(false);
    expect(warning(h)).toBe(
      `-p local4.warning -t ha-setup notify.script ${join(dir, 'on-vrrp')} not run: its directory /tmp is ` +
        'writable by group or others (mode 1777)',
    );
    // the transition itself is recorded as always
    expect(stateOf(h, 'VI_1')).toMatch(/^MASTER \d+ 1 110 /);
  });

  it('group-writable, or its directory: not run; a link to a safe script runs the script it resolves to', async () => {
    const safe = safeDir('ha-notify-op-');
    const g = operator(safe, 'group');
    chmodSync(g, 0o775);
    const h = hook(null, { operatorScript: g });
    await h.run('INSTANCE', 'VI_1', 'MASTER', '110');
    expect(ran(safe)).toBe(false);
    expect(warning(h)).toContain(`notify.script ${g} not run: it is writable by group or others (mode 775)`);
    mkdirSync(join(safe, 'open'), { mode: 0o777 });
    chmodSync(join(safe, 'open'), 0o777);
    const o = operator(join(safe, 'open'));
    const h2 = hook(null, { operatorScript: o });
    await h2.run('INSTANCE', 'VI_1', 'MASTER', '110');
    expect(warning(h2)).toContain(`its directory ${join(safe, 'open')} is writable by group or others (mode 777)`);
    // the link sits in /tmp, where anyone could point it elsewhere: the hook runs what it resolved and checked
    const good = operator(safe, 'good');
    const link = join(tempDir('ha-notify-link-'), 'hook');
    symlinkSync(good, link);
    const h3 = hook(null, { operatorScript: link });
    await h3.run('INSTANCE', 'VI_1', 'BACKUP', '100');
    expect(readFileSync(join(safe, 'ran'), 'utf8')).toBe('INSTANCE VI_1 BACKUP 100\n');
    expect(warning(h3)).toBeUndefined();
  });
});

describe('notify hook: the URL from its root-only file', () => {
  it('a URL file that is gone: no curl, the transition still recorded', async () => {
    const rx = await receiver();
    const h = hook(rx.url);
    rmSync(join(h.dir, 'webhook.url'));
    expect((await h.run('INSTANCE', 'VI_1', 'MASTER', '110')).code).toBe(0);
    expect(stateOf(h, 'VI_1')).toMatch(/^MASTER \d+ 1 110 /);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.curlArgs()).toBe('');
    expect(rx.posts.length).toBe(0);
    await rx.close();
  });
});

describe('notify hook: the webhook is bounded and never delays keepalived', () => {
  it('retries after a 500, 1 s apart', async () => {
    const rx = await receiver([500]);
    const h = hook(rx.url);
    await h.run('INSTANCE', 'VI_1', 'MASTER', '110');
    await until('2 tries', () => rx.posts.length === 2);
    expect(rx.posts[1].body).toBe(rx.posts[0].body);
    expect(rx.posts[1].at - rx.posts[0].at).toBeGreaterThanOrEqual(900);
    await new Promise((r) => setTimeout(r, 1300));
    expect(rx.posts.length).toBe(2);
    expect(h.log()).not.toContain('not delivered');
    await rx.close();
  });

  it('gives up after 3 tries and logs it; a 4xx is not retried', async () => {
    const rx = await receiver([503, 502, 500, 500]);
    const h = hook(rx.url);
    await h.run('INSTANCE', 'VI_1', 'MASTER', '110');
    await until('the warning', () => h.log().includes('not delivered'));
    expect(rx.posts.length).toBe(3);
    expect(h.log()).toContain(
      '-p local4.warning -t ha-setup webhook: VI_1 MASTER not delivered after 3 tries (HTTP 500)',
    );
    const rx4 = await receiver([404]);
    const h4 = hook(rx4.url);
    await h4.run('INSTANCE', 'VI_1', 'BACKUP', '100');
    await until('the warning', () => h4.log().includes('not delivered'));
    expect(rx4.posts.length).toBe(1);
    await rx.close();
    await rx4.close();
  });

  // what is asserted is that the hook does not wait for the webhook: a hook that did would take at least curl's
  // --max-time 3 of a try; 2 s leaves room for a loaded machine (the hook's own speed is not a unit test's business)
  it('returns before one webhook try could end when the webhook accepts the connection and never answers', async () => {
    const sockets: Socket[] = [];
    const server = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const h = hook(`http://127.0.0.1:${port}/`);
    for (const state of ['BACKUP', 'MASTER']) {
      const r = await h.run('INSTANCE', 'VI_1', state, '110');
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(2000);
    }
    await until('curl connected', () => sockets.length >= 2);
    const r = await h.run('SPLIT_BRAIN', 'VI_1');
    expect(r.ms).toBeLessThan(2000);
    for (const s of sockets) s.destroy();
    server.close();
  });
});

describe('notify hook: split brain (notify_master_rx_lower_pri)', () => {
  it('counts every advert; logs, refreshes and posts SPLIT_BRAIN once per window', async () => {
    const rx = await receiver();
    const h = hook(rx.url);
    // the three adverts in one clock second (the state keeps the last one's beside the announcement's): a run that
    // straddled a second made this test fail now and then
    writeExec(
      join(h.dir, 'bin', 'date'),
      `#!/bin/sh\n[ "$1" = +%s ] && exec echo 1795810653\nexec ${which('date')} "$@"\n`,
    );
    await h.run('INSTANCE', 'VI_1', 'MASTER', '110');
    await until('the transition POST', () => rx.posts.length === 1);
    for (let i = 0; i < 3; i++) expect((await h.run('SPLIT_BRAIN', 'VI_1')).code).toBe(0);
    expect(stateOf(h, 'VI_1.splitbrain')).toMatch(/^3 (\d+) \1\n$/);
    await until('the split-brain POST', () => rx.posts.length === 2);
    const body = JSON.parse(rx.posts[1].body);
    expect(body).toMatchObject({ node: 'lb01', instance: 'VI_1', state: 'SPLIT_BRAIN', priority: 110 });
    expect(body.vips).toEqual(['10.0.0.10', '10.0.0.11']);
    expect(h.log().match(/split brain: VI_1/g)?.length).toBe(1);
    expect(h.operatorCalls()).toEqual(['INSTANCE VI_1 MASTER 110']);
    await until('2 metrics refreshes', () => h.metricsRuns() === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.posts.length).toBe(2);
    await rx.close();
  });

  it('announces again once the window has passed', async () => {
    const rx = await receiver();
    const h = hook(rx.url, { splitBrainRepeatSeconds: 0 });
    await h.run('SPLIT_BRAIN', 'VI_2');
    await h.run('SPLIT_BRAIN', 'VI_2');
    await until('2 POSTs', () => rx.posts.length === 2);
    expect(JSON.parse(rx.posts[0].body)).toMatchObject({ instance: 'VI_2', state: 'SPLIT_BRAIN', priority: 0 });
    expect(stateOf(h, 'VI_2.splitbrain')).toMatch(/^2 \d+ \d+\n$/);
    await rx.close();
  });
});

describe('renderMetricsNotifyScript and webhookHeadersFile', () => {
  const base: NotifyScriptData = {
    node: 'lb01',
    facility: 'local4',
    operatorScript: null,
    metricsScript: '/etc/keepalived/ha-setup/metrics.sh',
    webhook: null,
    vipsByInstance: {},
  };

  it('refuses what is not safe to render', () => {
    const bad: Partial<NotifyScriptData>[] = [
      { node: 'lb 01' },
      { facility: 'local9' },
      { operatorScript: 'on-vrrp' },
      { webhook: { urlFile: 'u', headersFile: '/etc/h' } },
      { webhook: { urlFile: '/etc/u"; rm -rf /', headersFile: '/etc/h' } },
      { webhook: { urlFile: '/etc/u', headersFile: 'h' } },
      { vipsByInstance: { 'V I': [] } },
      { vipsByInstance: { VI_1: ['10.0.0.300'] } },
    ];
    for (const b of bad) expect(() => renderMetricsNotifyScript({ ...base, ...b }), JSON.stringify(b)).toThrow();
    expect(renderMetricsNotifyScript(base)).toMatch(/^STATE_DIR='\/run\/ha-setup'$/m);
  });

  it('URL: one line, an http(s) URL without quotes or spaces; anything else refused without echoing it', () => {
    expect(webhookUrlFile('https://hooks.example.com/services/T0/B0/xyz')).toBe(
      'https://hooks.example.com/services/T0/B0/xyz\n',
    );
    for (const bad of ['ftp://x/secret1', 'https://x/"secret1', 'https://x/secret1\nurl = "http://y/"'])
      expect(() => webhookUrlFile(bad), bad).toThrow(/^webhook URL: must be http or https/);
    expect(() => webhookUrlFile('ftp://x/secret1')).not.toThrow(/secret1/);
  });

  it('headers: one "Name: value" a line, blank lines dropped; anything else refused without echoing it', () => {
    expect(webhookHeadersFile('\r\nAuthorization: Bearer x\r\n\nX-A:b\n')).toBe('Authorization: Bearer x\nX-A:b\n');
    expect(webhookHeadersFile('')).toBe('');
    expect(() => webhookHeadersFile('just-a-token-secret')).toThrow(/^webhook headers: line 1 /);
    expect(() => webhookHeadersFile('just-a-token-secret')).not.toThrow(/secret/);
    expect(() => webhookHeadersFile('X: a\u0000b')).toThrow();
  });
});

describe('the keepalived configuration the hook expects', () => {
  it('keepalived -t accepts notify and notify_master_rx_lower_pri "<hook> SPLIT_BRAIN NAME" (script security)', () => {
    const path = '/etc/keepalived/ha-setup/notify.sh';
    const conf = [
      'global_defs {\n    router_id lb01\n    enable_script_security\n    script_user root\n}',
      'vrrp_instance VI_1 {',
      '    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    advert_int 1',
      '    virtual_ipaddress {\n        10.254.1.10/24 dev eth0\n    }',
      `    notify "${path}"`,
      `    notify_master_rx_lower_pri "${path} SPLIT_BRAIN VI_1"`,
      '}\n',
    ].join('\n');
    const hookText = renderMetricsNotifyScript({
      node: 'lb01',
      facility: 'local4',
      operatorScript: null,
      metricsScript: '/etc/keepalived/ha-setup/metrics.sh',
      webhook: null,
      vipsByInstance: { VI_1: ['10.254.1.10/24'] },
    });
    const r = keepalivedCheck(conf, ['eth0'], { [path]: hookText });
    expect(r.output).not.toMatch(/unknown keyword|error|warning/i);
    expect(r.code).toBe(0);
  });
});
