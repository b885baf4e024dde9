/**
 * keepalived's state dump as the facts read it (kadata, kavips), run by a real sh against a fake keepalived: a
 * process that writes the lab-captured dump of the guides' active-active pair to /tmp/keepalived.data on SIGUSR1,
 * either as 2.0.9+ does (a private temp file renamed over it) or as 1.3.5 does (truncated and written in place, in a
 * few pieces). `systemctl show -p MainPID keepalived` names it. The lock directory is ha-setup's own (/run/ha-setup).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FACTS, parseDataVips } from '../../src/facts/table.js';

const dump = readFileSync(join(__dirname, '..', 'fixtures', 'keepalived-data-active-active.txt'), 'utf8');
const bin = mkdtempSync(join(tmpdir(), 'dump-bin-'));
const modes = join(bin, 'modes');
let ka: ChildProcess | null = null;
afterEach(() => {
  ka?.kill('SIGKILL');
  ka = null;
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** a keepalived that dumps `dump` on SIGUSR1, the 2.x way (rename) or the 1.3.5 way (in place, in pieces) */
function fakeKeepalived(style: '2.x' | '1.3.5' | 'silent' | 'dying'): void {
  writeFileSync(join(bin, 'dump.txt'), dump);
  const write =
    style === '2.x'
      ? `t=$(mktemp /tmp/keepalived.dataXXXXXX); cat "${bin}/dump.txt" > "$t"; mv -f "$t" /tmp/keepalived.data`
      : style === '1.3.5'
        ? `stat -c %a /tmp/keepalived.data >> "${modes}" 2>/dev/null; ` +
          `{ head -c 300 "${bin}/dump.txt"; sleep 0.3; tail -c +301 "${bin}/dump.txt"; } > /tmp/keepalived.data`
        : style === 'dying'
          ? 'exit 0'
          : ':';
  // umask 0, as a daemon may run: what 1.3.5 creates is then world-readable unless the reader created it first
  ka = spawn('sh', ['-c', `umask 0; trap '${write.replace(/'/g, `'\\''`)}' USR1; while :; do sleep 0.02; done`]);
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho MainPID=${ka.pid}\n`);
  chmodSync(join(bin, 'systemctl'), 0o755);
}

// kavips reads the dump only for a VIP this host has that keepalived.conf does not name: 127.0.0.1 here
const env = { PATH: `${bin}:/usr/bin:/bin`, VIPS: '127.0.0.1', CONF: join(bin, 'none.conf') };
const read = <T>(f: { sh: string; parse(t: string): T }) =>
  new Promise<{ text: string; value: T }>((resolve) => {
    const p = spawn('sh', ['-c', f.sh], { env });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.on('close', () => resolve({ text, value: f.parse(text) }));
  });

describe("keepalived's state dump: every reader gets a whole, current one", () => {
  it('ten readers at once (status, a watch, a switchover): each reads every instance, none told "none"', async () => {
    fakeKeepalived('2.x');
    await new Promise((r) => setTimeout(r, 100));
    const all = await Promise.all(Array.from({ length: 10 }, () => read(FACTS.kadata)));
    for (const r of all) {
      expect(r.value.unreadable).toBeNull();
      expect(r.value.instances.map((i) => [i.name, i.state])).toEqual([
        ['VI_1', 'MASTER'],
        ['VI_2', 'MASTER'],
      ]);
      // only the lines asked for leave the host: never the passwords the dump holds
      expect(r.text).not.toMatch(/Password|1111|2222/);
    }
    expect(spawnSync('ls', ['/tmp/keepalived.data']).status).not.toBe(0);
  });

  it('1.3.5 writes in place with its own umask: the file it writes is private, read once complete', async () => {
    fakeKeepalived('1.3.5');
    rmSync(modes, { force: true });
    await new Promise((r) => setTimeout(r, 100));
    const [a, b] = await Promise.all([read(FACTS.kadata), read(FACTS.kavips)]);
    expect(a.value.instances.map((i) => i.name)).toEqual(['VI_1', 'VI_2']);
    expect(b.value).toEqual(['198.18.0.140', '198.18.0.141']);
    expect(b.text).not.toMatch(/Password|1111|2222/);
    expect(parseDataVips(b.text)).toEqual(b.value);
    // what keepalived found when it opened the file: the reader's empty private one
    expect(readFileSync(modes, 'utf8').trim().split('\n')).toEqual(['600', '600']);
  });

  it('a keepalived on its way out: said at once, no waiting for a dump that never comes', async () => {
    fakeKeepalived('dying');
    await new Promise((r) => setTimeout(r, 100));
    const r = await read(FACTS.kadata);
    expect(r.value.unreadable).toBe(`failed: keepalived (pid ${ka!.pid}) exited while its state was asked`);
  });

  it('a keepalived that writes nothing: the state is unknown, with the reason (never "no instance")', async () => {
    fakeKeepalived('silent');
    await new Promise((r) => setTimeout(r, 100));
    const r = await read(FACTS.kadata);
    expect(r.value).toEqual({
      instances: [],
      unreadable: `timeout: keepalived (pid ${ka!.pid}) wrote no state dump within 2 s`,
    });
  });
});
