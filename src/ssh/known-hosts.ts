/**
 * known_hosts verification (OpenSSH format): plain and hashed (|1|salt|hash) host patterns, [host]:port for
 * non-22 ports, wildcards, negation, @revoked and @cert-authority markers (CA lines are not used to accept keys).
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  type: string;
  blob: Buffer;
  revoked: boolean;
}

export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** key type name inside an SSH public key blob (string length-prefixed) */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  );
  return re.test(s);
}

function patternMatches(field: string, names: string[]): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const key = Buffer.from(salt, 'base64');
    return names.some((n) => createHmac('sha1', key).update(n).digest('base64') === hash);
  }
  let positive = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (names.some((n) => globMatch(p.slice(1), n))) return false;
    } else if (names.some((n) => globMatch(p, n))) positive = true;
  }
  return positive;
}

export function parseKnownHosts(text: string, names: string[]): KnownKey[] {
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let marker = '';
    if (parts[0].startsWith('@')) marker = parts.shift()!;
    if (parts.length < 3 || marker === '@cert-authority') continue;
    const [hosts, type, b64] = parts;
    if (!patternMatches(hosts, names)) continue;
    let blob: Buffer;
    try {
      blob = Buffer.from(b64, 'base64');
    } catch {
      continue;
    }
    out.push({ type, blob, revoked: marker === '@revoked' });
  }
  return out;
}

export type HostKeyVerdict =
  | { ok: true; known: true }
  | { ok: true; known: false; added: boolean }
  | { ok: false; reason: 'changed' | 'unknown' | 'revoked'; message: string; presented: PresentedKey };

/** the key a host presented, and the known_hosts line that would trust it */
export interface PresentedKey {
  type: string;
  fingerprint: string;
  line: string;
}

export interface VerifyInput {
  files: string[];
  /** file new keys are appended to (accept-new) */
  writeFile: string;
  names: string[]; // tokens to look up: host / [host]:port, HostKeyAlias...
  label: string; // for messages
  policy: 'strict' | 'accept-new';
  blob: Buffer;
}

export function knownKeysFor(files: string[], names: string[]): KnownKey[] {
  return files.flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, 'utf8'), names) : []));
}

export function verifyHostKey(v: VerifyInput): HostKeyVerdict {
  const keys = knownKeysFor(v.files, v.names);
  const fp = fingerprint(v.blob);
  const presented = { type: blobType(v.blob), fingerprint: fp, line: knownHostsLine(v.names[0], v.blob) };
  if (keys.some((k) => k.revoked && k.blob.equals(v.blob))) {
    return {
      ok: false,
      reason: 'revoked',
      message: `${v.label}: host key ${fp} is marked @revoked in known_hosts`,
      presented,
    };
  }
  const good = keys.filter((k) => !k.revoked);
  if (good.some((k) => k.blob.equals(v.blob))) return { ok: true, known: true };
  const type = blobType(v.blob);
  const sameType = good.filter((k) => blobType(k.blob) === type || k.type === type);
  if (good.length) {
    const old = (sameType.length ? sameType : good).map((k) => `${k.type} ${fingerprint(k.blob)}`).join(', ');
    return {
      ok: false,
      reason: 'changed',
      presented,
      message:
        `${v.label}: HOST KEY CHANGED: known_hosts has ${old}, the host now presents ${type} ${fp}. ` +
        'Someone may be intercepting the connection, or the host was reinstalled; ' +
        `check out of band, then remove the old line (ssh-keygen -R ${v.names[0]})`,
    };
  }
  if (v.policy === 'strict') {
    return {
      ok: false,
      reason: 'unknown',
      presented,
      message:
        `${v.label}: host key ${type} ${fp} is not in known_hosts (${v.files.join(', ')}); ` +
        `verify it and add it (ssh-keyscan ${v.names[0]} >> known_hosts) or set ssh.hostKeyPolicy: accept-new`,
    };
  }
  trustHostKey(v.writeFile, presented.line);
  return { ok: true, known: false, added: true };
}

export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${blobType(blob)} ${blob.toString('base64')}`;
}

/** append a known_hosts line (the file and its directory are created private when missing) */
export function trustHostKey(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${line}\n`, { mode: 0o600 });
}

/** host key algorithms to offer so that the server presents a key type we know (else a mismatch is "changed") */
export function hostKeyAlgorithmsFor(keys: KnownKey[]): string[] | undefined {
  if (!keys.length) return undefined;
  const algos = new Set<string>();
  for (const k of keys) {
    const t = blobType(k.blob);
    if (t === 'ssh-rsa') ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].forEach((a) => algos.add(a));
    else algos.add(t);
  }
  return [...algos];
}
