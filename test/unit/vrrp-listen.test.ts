/**
 * The VRRP listener the wizard and init's preflight use to find ids in use on the segment: tcpdump's output through
 * the snippet's own sed (a real sh, tcpdump replaced by a printer of captured output), the parser, and the free id.
 */
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lowestFreeVrid, NO_LISTENER, parseVrrpAdverts, usedVrids, VRRP_LISTEN_SH } from '../../src/facts/vrrp.js';

const bin = mkdtempSync(join(tmpdir(), 'vrrp-bin-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const fx = join(__dirname, '..', 'fixtures', 'cmd', 'tcpdump-vrrp.txt');
// like tcpdump: prints what it captured and runs until timeout ends it
writeFileSync(join(bin, 'tcpdump'), `#!/bin/sh\ncat '${fx}'\nexec sleep 30\n`);
chmodSync(join(bin, 'tcpdump'), 0o755);
// a host without perl and python3 (tcpdump is the last resort): only the tools the snippet needs besides them
const tools = ['sh', 'sed', 'timeout', 'head', 'ip', 'cat', 'sleep'];
for (const tool of tools) {
  const path = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(path, join(bin, tool));
}
// a host where nothing can listen: perl's raw socket refused (exit 3), tcpdump failing at once
const none = mkdtempSync(join(tmpdir(), 'vrrp-none-'));
afterAll(() => rmSync(none, { recursive: true, force: true }));
for (const tool of tools) symlinkSync(join(bin, tool), join(none, tool));
writeFileSync(join(none, 'perl'), '#!/bin/sh\nexit 3\n');
writeFileSync(join(none, 'tcpdump'), '#!/bin/sh\necho "tcpdump: eth0: no permission" >&2; exit 1\n');
chmodSync(join(none, 'perl'), 0o755);
chmodSync(join(none, 'tcpdump'), 0o755);

describe('VRRP listener', () => {
  it('tcpdump lines become "SRC VRID PRIORITY VERSION", other traffic is ignored', () => {
    const r = spawnSync('sh', ['-c', VRRP_LISTEN_SH, 'sh', 'eth0', '1'], {
      encoding: 'utf8',
      env: { PATH: bin },
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['10.9.0.1 77 120 2', '198.18.0.22 51 100 3', '198.18.0.11 52 110 2']);
    expect(parseVrrpAdverts(r.stdout)).toEqual([
      { src: '10.9.0.1', vrid: 77, priority: 120, version: 2 },
      { src: '198.18.0.22', vrid: 51, priority: 100, version: 3 },
      { src: '198.18.0.11', vrid: 52, priority: 110, version: 2 },
    ]);
  });

  it('a listener that cannot listen falls through to the next; none at all says so (not "nothing heard")', () => {
    const r = spawnSync('sh', ['-c', VRRP_LISTEN_SH, 'sh', 'lo', '1'], { encoding: 'utf8', env: { PATH: none } });
    expect(r.stdout.trim()).toBe(NO_LISTENER);
  });

  it('the parser drops malformed lines and impossible values', () => {
    expect(
      parseVrrpAdverts('@nolistener\n1.2.3.4 0 100 2\n1.2.3.4 256 100 2\n999.1.1.1 5 1 2\n1.2.3.4 5 1 4\n'),
    ).toEqual([]);
  });

  it('used ids: one entry per source; the lowest free id from 51 upward, wrapping to 1', () => {
    const used = usedVrids(
      parseVrrpAdverts('10.0.0.1 51 100 2\n10.0.0.1 51 100 2\n10.0.0.2 51 90 2\n10.0.0.3 52 1 2\n'),
    );
    expect([...used.keys()]).toEqual([51, 52]);
    expect(used.get(51)?.map((a) => a.src)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(lowestFreeVrid(used.keys())).toBe(53);
    expect(lowestFreeVrid([])).toBe(51);
    expect(lowestFreeVrid(Array.from({ length: 205 }, (_, i) => i + 51))).toBe(1);
    expect(lowestFreeVrid(Array.from({ length: 255 }, (_, i) => i + 1))).toBeNull();
  });
});
