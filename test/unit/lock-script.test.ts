/**
 * ha-setup's lock script (apply/lock.ts LOCK_SH) run by a real sh with the real flock, pkill, base64 and stat, in a
 * directory of this test's (as the user running the tests: on a host the script runs as root and wants the
 * directory root's alone).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_SH, parseLockReply } from '../../src/apply/lock.js';

const base = mkdtempSync(join(tmpdir(), 'lock-'));
const held: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  held.forEach((p) => p.kill('SIGKILL'));
  rmSync(base, { recursive: true, force: true });
});

const b64 = (run: string) => Buffer.from(JSON.stringify({ run, command: `ha-setup init # ${run}` })).toString('base64');
const args = (dir: string, run: string, victim = '', wait = '0') => [
  '-c',
  LOCK_SH,
  'sh',
  dir,
  run,
  b64(run),
  victim,
  wait,
];

/** a holder: the script running with its stdin open, resolved with its first line */
function hold(dir: string, run: string, victim = ''): Promise<{ p: ChildProcessWithoutNullStreams; first: string }> {
  const p = spawn('sh', args(dir, run, victim, victim ? '5' : '0'));
  held.push(p);
  return new Promise((resolve) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ p, first: out.split('\n')[0] });
    });
    p.on('exit', () => resolve({ p, first: out.trim() }));
  });
}
const exited = (p: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c))));

describe('the lock script on a real shell', () => {
  it('one holder; a second run is told who holds it; a beat on each line; released when the channel ends', async () => {
    const dir = join(base, 'a');
    const one = await hold(dir, 'RUN1');
    expect(one.first).toBe('locked');
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('755');
    expect(JSON.parse(readFileSync(join(dir, 'holder'), 'utf8'))).toEqual({
      run: 'RUN1',
      command: 'ha-setup init # RUN1',
    });
    const two = spawnSync('sh', args(dir, 'RUN2'), { encoding: 'utf8' });
    expect(two.status).toBe(75);
    const reply = parseLockReply(two.stdout.trim());
    expect(reply).toMatchObject({ kind: 'busy', holder: { run: 'RUN1', command: 'ha-setup init # RUN1' } });
    // the beat: each line the run writes touches it
    utimesSync(join(dir, 'beat'), new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    const before = statSync(join(dir, 'beat')).mtimeMs;
    one.p.stdin.write('\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(statSync(join(dir, 'beat')).mtimeMs).toBeGreaterThan(before + 50_000);
    const again = parseLockReply(spawnSync('sh', args(dir, 'RUN2'), { encoding: 'utf8' }).stdout.trim());
    expect(again.kind === 'busy' && again.beatAgeS).toBeLessThanOrEqual(1);
    // the run's channel ends: the holder goes, and its record with it
    one.p.stdin.end();
    expect(await exited(one.p)).toBe(0);
    expect(existsSync(join(dir, 'holder'))).toBe(false);
    const three = await hold(dir, 'RUN3');
    expect(three.first).toBe('locked');
    three.p.stdin.end();
    await exited(three.p);
  });

  it("a stale holder named as the victim is ended and its lock taken; another run's holder is left alone", async () => {
    const dir = join(base, 'b');
    const old = await hold(dir, 'OLD1');
    const other = await hold(join(base, 'c'), 'OTHER');
    const next = await hold(dir, 'NEW1', 'OLD1');
    expect(next.first).toBe('locked');
    expect(await exited(old.p)).not.toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'holder'), 'utf8')).run).toBe('NEW1');
    expect(other.p.exitCode).toBeNull();
    [next, other].forEach((h) => h.p.stdin.end());
    await Promise.all([exited(next.p), exited(other.p)]);
  });

  it('refused where another user could write: a group/world-writable directory, a link at the lock', () => {
    const dir = join(base, 'd');
    expect(spawnSync('sh', args(dir, 'R'), { encoding: 'utf8', input: '' }).status).toBe(0);
    chmodSync(dir, 0o1777);
    const me = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
    let r = spawnSync('sh', args(dir, 'R'), { encoding: 'utf8' });
    expect(r.status).toBe(76);
    expect(parseLockReply(r.stdout.trim())).toEqual({
      kind: 'unsafe',
      why: `${dir} is not a directory that only ${me} can write`,
    });
    chmodSync(dir, 0o755);
    rmSync(join(dir, 'lock'), { force: true });
    symlinkSync('/etc/passwd', join(dir, 'lock'));
    r = spawnSync('sh', args(dir, 'R'), { encoding: 'utf8' });
    expect(r.status).toBe(76);
    expect(r.stdout).toBe(`unsafe ${dir}/lock is a symbolic link\n`);
  });
});
