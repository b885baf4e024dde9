/** known_hosts verification and shell quoting (run through a real sh); ssh_config: ssh-config.test.ts. */
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, hostToken, verifyHostKey } from '../../src/ssh/known-hosts.js';
import { cmd, q } from '../../src/ssh/shell.js';

function keyBlob(type: string): Buffer {
  const t = Buffer.from(type);
  const body = randomBytes(32);
  const b = Buffer.alloc(4 + t.length + 4 + body.length);
  b.writeUInt32BE(t.length, 0);
  t.copy(b, 4);
  b.writeUInt32BE(body.length, 4 + t.length);
  body.copy(b, 8 + t.length);
  return b;
}

describe('known_hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-'));
  const good = keyBlob('ssh-ed25519');
  const other = keyBlob('ssh-ed25519');
  const file = join(dir, 'known_hosts');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('10.1.1.2').digest('base64')}`;
  writeFileSync(
    file,
    [
      `10.1.1.1,lb01 ssh-ed25519 ${good.toString('base64')}`,
      `${hashed} ssh-ed25519 ${good.toString('base64')}`,
      `[10.1.1.3]:2222 ssh-ed25519 ${good.toString('base64')}`,
      `@revoked 10.1.1.4 ssh-ed25519 ${good.toString('base64')}`,
    ].join('\n') + '\n',
  );
  const v = (names: string[], blob: Buffer, policy: 'strict' | 'accept-new' = 'strict', f = file) =>
    verifyHostKey({ files: [f], writeFile: f, names, label: names[0], policy, blob });

  it('plain, hashed and [host]:port entries match', () => {
    expect(v(['10.1.1.1'], good)).toEqual({ ok: true, known: true });
    expect(v(['10.1.1.2'], good)).toEqual({ ok: true, known: true });
    expect(v([hostToken('10.1.1.3', 2222)], good)).toEqual({ ok: true, known: true });
  });
  it('a changed key always refuses, naming both fingerprints, even with accept-new', () => {
    const r = v(['10.1.1.1'], other, 'accept-new');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('changed');
      expect(r.message).toContain(fingerprint(good));
      expect(r.message).toContain(fingerprint(other));
    }
  });
  it('unknown host: strict refuses, accept-new appends the key', () => {
    const f2 = join(dir, 'kh2');
    writeFileSync(f2, '');
    const r = v(['10.9.9.9'], other, 'strict', f2);
    expect(r).toMatchObject({ ok: false, reason: 'unknown' });
    expect(v(['10.9.9.9'], other, 'accept-new', f2)).toEqual({ ok: true, known: false, added: true });
    expect(readFileSync(f2, 'utf8')).toBe(`10.9.9.9 ssh-ed25519 ${other.toString('base64')}\n`);
    expect(v(['10.9.9.9'], other, 'strict', f2)).toEqual({ ok: true, known: true });
  });
  it('@revoked refuses', () =>
    expect(v(['10.1.1.4'], good, 'accept-new')).toMatchObject({ ok: false, reason: 'revoked' }));
});

describe('shell quoting survives a real shell', () => {
  const nasty = ["a'b", '$(id)', '`x`', 'a b', 'semi;colon', 'new\nline', '', '-n', '\\', '"q"', '*'];
  it('each argument arrives byte for byte', () => {
    const r = spawnSync('sh', ['-c', `printf '%s\\0' ${cmd(nasty)}`], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
  });
  it('plain words stay readable', () =>
    expect(q('/etc/keepalived/keepalived.conf')).toBe('/etc/keepalived/keepalived.conf'));
});
