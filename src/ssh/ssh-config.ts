/**
 * How ssh would reach a host, from ~/.ssh/config (or ssh.configFile) as OpenSSH itself reads it: `ssh -G HOST`
 * (Include, Match, Host patterns, CanonicalizeHostname, the system ssh_config: all of ssh_config(5)). Where ssh is
 * not installed (or too old for -G, before OpenSSH 6.8), a parser of our own reads the file: Host blocks (patterns
 * with * ? and !), HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile, HostKeyAlias; no Include, no
 * Match (its blocks are skipped).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join, resolve as absolute } from 'node:path';
import { PreconditionError } from '../errors.js';
import { expandHome } from '../home.js';

/** what ssh_config says about one host, settled as ssh settles it */
export interface SshHostConfig {
  /** where to connect: HostName, else the host itself */
  hostName: string;
  /** the User ssh_config sets for the host; null when none does (ssh would log in as the local user) */
  user: string | null;
  port: number;
  /** the identity files ssh would offer, ~ and %-tokens expanded: the configured ones, or its defaults if none */
  identityFiles: string[];
  /** ProxyJump as written (hops separated by commas); null when none */
  proxyJump: string | null;
  /** the first UserKnownHostsFile when ssh_config sets one; null for ssh's default (~/.ssh/known_hosts) */
  userKnownHostsFile: string | null;
  hostKeyAlias: string | null;
}

/** the fallback's default identity files when none is configured (ssh -G lists ssh's own) */
const FALLBACK_DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** a User no one has: set last, it shows through only when ssh_config sets none for the host */
const NO_USER = 'ha-setup-no-user-set';

/**
 * ssh_config's view of `host` (an answers' host or a ProxyJump hop). `configFile`: ssh -F (a file that does not
 * exist: no configuration at all, as before ha-setup asked ssh); without it ~/.ssh/config and /etc/ssh/ssh_config.
 * A configuration ssh refuses is a PreconditionError with ssh's words.
 */
export async function resolveSshConfig(host: string, configFile?: string): Promise<SshHostConfig> {
  if (host.startsWith('-') || /\s/.test(host)) throw new PreconditionError(`ssh_config: host "${host}" not understood`);
  const file = configFile === undefined ? undefined : expandHome(configFile);
  const fileArgs = file === undefined ? [] : ['-F', existsSync(file) ? file : 'none'];
  const g = await sshG(host, fileArgs);
  if (!g) return fromOwnParser(host, file);
  const first = (k: string) => g.get(k)?.[0] ?? null;
  const user = first('user');
  const hostName = first('hostname') ?? host;
  const port = Number(first('port') ?? 22);
  const tokens: Record<string, string> = {
    '%': '%',
    d: homedir(),
    h: hostName,
    i: String(userInfo().uid),
    n: host,
    p: String(port),
    r: user ?? userInfo().username,
    u: userInfo().username,
  };
  const known = first('userknownhostsfile')?.split(/\s+/) ?? [];
  const pwHome = userInfo().homedir;
  const knownDefault = known.join(' ') === `${pwHome}/.ssh/known_hosts ${pwHome}/.ssh/known_hosts2`;
  return {
    hostName,
    user: user !== null && user !== userInfo().username ? user : await explicitUser(host, file),
    port,
    identityFiles: (g.get('identityfile') ?? []).map((f) =>
      expandHome(f).replace(/%(.)/g, (t, c: string) => tokens[c] ?? t),
    ),
    proxyJump: first('proxyjump'),
    userKnownHostsFile: known.length && !knownDefault ? known[0] : null,
    hostKeyAlias: first('hostkeyalias'),
  };
}

/**
 * `ssh -G [-F file] host` as a map of lower-case keyword -> values (a keyword given several times, e.g.
 * identityfile, has several); null when there is no ssh, or one without -G
 */
function sshG(host: string, args: string[]): Promise<Map<string, string[]> | null> {
  return new Promise((resolve, reject) => {
    execFile('ssh', ['-G', ...args, host], { timeout: 10_000 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      if (e?.code === 'ENOENT' || (e && /(unknown|illegal) option -- G/.test(stderr))) return resolve(null);
      if (e) {
        const why = stderr
          .split(/\r?\n/)
          // the lines that say why (not ssh's tty notice, nor its count of bad options)
          .filter((l) => l.trim() && !/^Pseudo-terminal|: terminating, \d+ bad configuration options$/.test(l))
          .join('; ');
        const msg = `ssh -G ${host} refused the SSH configuration: ${why || (e.killed ? 'timed out' : e.message)}`;
        return reject(new PreconditionError(msg));
      }
      const out = new Map<string, string[]>();
      for (const line of stdout.split(/\r?\n/)) {
        const m = /^(\S+) (.*)$/.exec(line);
        if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
      }
      resolve(out);
    });
  });
}

/**
 * The User ssh_config sets for `host`, when ssh -G printed the local user name (which it also prints when none is
 * set): the same configuration read once more with a User of no one's after it, which only shows when none is set.
 */
async function explicitUser(host: string, file: string | undefined): Promise<string | null> {
  if (file !== undefined && !existsSync(file)) return null;
  // without -F, ssh reads ~/.ssh/config, then the system file (Include expands ~ as ssh does)
  // (a relative Include is relative to ~/.ssh: the file's own path made absolute)
  const includes = file !== undefined ? [absolute(file)] : ['~/.ssh/config', '/etc/ssh/ssh_config'];
  const dir = mkdtempSync(join(tmpdir(), 'ha-setup-ssh-'));
  try {
    const wrapper = join(dir, 'config');
    writeFileSync(wrapper, [...includes.map((f) => `Host *\nInclude "${f}"`), `Host *\nUser ${NO_USER}\n`].join('\n'));
    const user = (await sshG(host, ['-F', wrapper]))?.get('user')?.[0] ?? null;
    return user === NO_USER ? null : user;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** without ssh: the file read by parseSshConfig, with ssh's defaults where it says nothing */
function fromOwnParser(host: string, file = `${homedir()}/.ssh/config`): SshHostConfig {
  const sc = existsSync(file) ? parseSshConfig(readFileSync(file, 'utf8'), host) : { identityFiles: [] };
  return {
    hostName: sc.hostName ?? host,
    user: sc.user ?? null,
    port: sc.port ?? 22,
    identityFiles: sc.identityFiles.length
      ? sc.identityFiles
      : FALLBACK_DEFAULT_KEYS.map((k) => `${homedir()}/.ssh/${k}`),
    proxyJump: sc.proxyJump ?? null,
    userKnownHostsFile: sc.userKnownHostsFile ?? null,
    hostKeyAlias: sc.hostKeyAlias ?? null,
  };
}

/** what the fallback parser found (first value wins, as in OpenSSH) */
export interface ParsedHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  userKnownHostsFile?: string;
  hostKeyAlias?: string;
}

function glob(p: string, s: string): boolean {
  return new RegExp(
    '^' +
      p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  ).test(s);
}

/** the fallback parser: ssh_config text without Include or Match (a Match block is skipped) */
export function parseSshConfig(text: string, host: string): ParsedHostConfig {
  const out: ParsedHostConfig = { identityFiles: [] };
  let active = true;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const value = m[2].trim().replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      const pats = value.split(/\s+/);
      const neg = pats.filter((p) => p.startsWith('!')).some((p) => glob(p.slice(1), host));
      active = !neg && pats.filter((p) => !p.startsWith('!')).some((p) => glob(p, host));
      continue;
    }
    if (key === 'match') {
      active = false; // Match blocks are not evaluated
      continue;
    }
    if (!active) continue;
    const tok = (s: string) => s.replace(/%h/g, host).replace(/%%/g, '%');
    if (key === 'hostname' && out.hostName === undefined) out.hostName = tok(value);
    else if (key === 'user' && out.user === undefined) out.user = value;
    else if (key === 'port' && out.port === undefined) out.port = Number(value);
    else if (key === 'identityfile') out.identityFiles.push(expandHome(tok(value)));
    else if (key === 'proxyjump' && out.proxyJump === undefined && value.toLowerCase() !== 'none')
      out.proxyJump = value;
    else if (key === 'userknownhostsfile' && out.userKnownHostsFile === undefined)
      out.userKnownHostsFile = expandHome(value.split(/\s+/)[0]);
    else if (key === 'hostkeyalias' && out.hostKeyAlias === undefined) out.hostKeyAlias = value;
  }
  return out;
}
