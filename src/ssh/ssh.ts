/**
 * SSH transport (ssh2): one connection per host, reused for every command of a run. Host keys are verified
 * against known_hosts (never blindly accepted); auth tries ssh-agent, then identity files, then a password.
 * Commands are argv arrays, quoted for the remote shell, and run through sudo when the user is not root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Duplex } from 'node:stream';
import ssh2, { type ConnectConfig } from 'ssh2';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { OperationError, PreconditionError } from '../errors.js';
import {
  hostKeyAlgorithmsFor,
  hostToken,
  knownKeysFor,
  verifyHostKey,
  fingerprint,
  type HostKeyVerdict,
  type KnownKey,
  type PresentedKey,
} from './known-hosts.js';
import { cmd } from './shell.js';
import type { Conn, ExecOptions, ExecResult, Privilege, Spawned } from '../conn.js';
import { expandHome } from '../home.js';
import { lastLines } from '../printable.js';
import { resolveSshConfig } from './ssh-config.js';

export type { ExecOptions, ExecResult } from '../conn.js';

export interface ConnectOptions {
  /** answers' ssh section */
  ssh: Config['answers']['ssh'];
  env: NodeJS.ProcessEnv;
  /** password for SSH and sudo, when one is needed */
  password?: () => Promise<string | undefined>;
  /** called when accept-new added a key */
  onNewHostKey?: (label: string, fp: string) => void;
  log?: (line: string) => void;
  /** the longest a command may run when its caller gives no timeout (default DEFAULT_COMMAND_TIMEOUT_MS) */
  commandTimeoutMs?: number;
}

/**
 * the longest a command runs when its caller gives no timeout of its own: a command that hangs on a live
 * connection (a full disk, a stuck NFS mount, a systemctl job waiting on another) fails instead of waiting forever.
 * Package installs and the VRRP listen pass their own, longer or shorter.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** the host key is unknown, changed or revoked: what it presented, for the wizard to show and (if new) trust */
export class HostKeyError extends PreconditionError {
  constructor(
    message: string,
    readonly reason: 'changed' | 'unknown' | 'revoked',
    readonly presented: PresentedKey,
    readonly knownHostsFile: string,
  ) {
    super(message);
  }
}

/** a command for the run log: one line (scripts' newlines shown as \\n), long ones as their start and end */
export function oneLine(command: string): string {
  const c = command.replace(/\n/g, '\\n');
  return c.length > 300 ? `${c.slice(0, 200)} … ${c.slice(-100)}` : c;
}

export class HostConnection implements Conn {
  private dead: Error | null = null;
  sudo: Privilege = 'root';
  sudoPassword?: string;
  commands = 0;
  /** the timeout of a command whose caller gives none */
  defaultTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS;

  constructor(
    readonly node: ResolvedNode,
    private readonly conn: Client,
    private readonly log: (line: string) => void,
    private readonly jump?: Client,
  ) {
    const closed = () => (this.dead ??= new OperationError(`${node.name}: SSH connection closed`));
    conn.on('end', closed);
    conn.on('close', closed);
    conn.on('error', (e) => (this.dead ??= new OperationError(`${node.name}: SSH connection failed: ${e.message}`)));
    // the jump host's connection carries this one: its failure is this connection's (and an 'error' event with no
    // listener would end the process, skipping verify-failover's restores)
    jump?.on('error', (e) => (this.dead ??= new OperationError(`${node.name}: SSH jump host failed: ${e.message}`)));
    jump?.on('close', closed);
  }

  get alive(): boolean {
    return !this.dead;
  }

  private wrap(command: string, root: boolean): { line: string; prefix: string } {
    if (!root || this.sudo === 'root') return { line: command, prefix: '' };
    if (this.sudo === 'nopasswd') return { line: `sudo -n -- sh -c ${cmd([command])}`, prefix: '' };
    // -k: sudo reads the password every time; with a cached credential it would not, and the password line would
    // become the command's own input (a file written with `cat > file` would start with it)
    return { line: `sudo -k -S -p '' -- sh -c ${cmd([command])}`, prefix: `${this.sudoPassword ?? ''}\n` };
  }

  /**
   * A command could not start. When the connection is going down, ssh2 fails the pending exec ("Unable to exec")
   * before it emits 'end'/'close': wait a moment so the error says what really happened.
   */
  private execFailed(e: Error, reject: (e: Error) => void): void {
    setTimeout(
      () => reject(this.dead ?? new OperationError(`${this.node.name}: cannot run a command: ${e.message}`)),
      50,
    );
  }

  /** run a shell command line (caller quotes every value with cmd()/q()); bounded by opts.timeoutMs or the default */
  run(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.dead) return Promise.reject(this.dead);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const { line, prefix } = this.wrap(command, opts.root ?? true);
    this.commands++;
    return new Promise((resolve, reject) => {
      this.conn.exec(line, (e, ch) => {
        if (e) return this.execFailed(e, reject);
        // Every listener is attached here, synchronously: ssh2 parses a whole TCP read in one go, so a fast
        // command's exit status can arrive in the same read as the exec's success, and an 'exit' listener
        // added one microtask later would miss it (seen as "exit -1" on the lab once round trips got fast).
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let code = -1;
        let signal: string | undefined;
        let timer: NodeJS.Timeout | undefined;
        const onConnClose = () => reject(this.dead ?? new OperationError(`${this.node.name}: SSH connection closed`));
        this.conn.once('close', onConnClose);
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => err.push(d));
        ch.on('exit', (c: number | null, sig?: string) => {
          code = c ?? -1;
          signal = sig ?? undefined;
        });
        ch.on('close', () => {
          if (timer) clearTimeout(timer);
          this.conn.removeListener('close', onConnClose);
          const r: ExecResult = {
            code,
            signal,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          };
          this.log(
            `[${this.node.name}] $ ${oneLine(command)}\n` +
              `[${this.node.name}] exit ${code}${signal ? ` (${signal})` : ''}` +
              `${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
          );
          resolve(r);
        });
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            try {
              ch.signal('KILL');
            } catch {
              /* ignore */
            }
            ch.close();
            reject(
              new OperationError(
                `${this.node.name}: command timed out after ${Math.round(timeoutMs / 1000)} s: ` +
                  `${command.slice(0, 120)}`,
              ),
            );
          }, timeoutMs);
        }
        if (prefix) ch.write(prefix);
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /** run argv (each element quoted) */
  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(cmd(argv), opts);
  }

  /** run a POSIX sh script with positional arguments */
  sh(script: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(cmd(['sh', '-c', script, 'sh', ...args]), opts);
  }

  /** like exec, but a non-zero exit throws an OperationError naming the host and the command */
  async must(argv: readonly string[], what: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0)
      throw new OperationError(
        `${this.node.name}: ${what} failed (exit ${r.code}): ` + lastLines(r.stderr || r.stdout, 3),
      );
    return r;
  }

  async mustSh(script: string, args: readonly string[], what: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.sh(script, args, opts);
    if (r.code !== 0)
      throw new OperationError(
        `${this.node.name}: ${what} failed (exit ${r.code}): ` + lastLines(r.stderr || r.stdout, 3),
      );
    return r;
  }

  /**
   * A command whose stdin/stdout the caller pipes (the nginx sync). Listeners are attached before anything can
   * arrive, and `done` settles with the exit code once the channel closes.
   */
  async spawn(command: string, opts: { root?: boolean } = {}): Promise<Spawned> {
    if (this.dead) throw this.dead;
    const { line, prefix } = this.wrap(command, opts.root ?? true);
    this.commands++;
    return new Promise((resolve, reject) => {
      this.conn.exec(line, (err, ch) => {
        if (err) return this.execFailed(err, reject);
        let code = -1;
        let signal: string | undefined;
        let stderr = '';
        ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        ch.on('exit', (c: number | null, s?: string) => {
          code = c ?? -1;
          signal = s ?? undefined;
        });
        let settled = false;
        const done = new Promise<ExecResult>((res) => {
          const settle = () => {
            if (settled) return;
            settled = true;
            this.log(
              `[${this.node.name}] $ ${command}\n` +
                `[${this.node.name}] exit ${code}${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ''}`,
            );
            res({ code, signal, stdout: '', stderr });
          };
          ch.on('close', settle);
          // the exit status is what matters: do not wait forever for a close the server may delay
          ch.on('exit', () => setTimeout(settle, 2000).unref());
        });
        if (prefix) ch.write(prefix);
        resolve({ ch, done });
      });
    });
  }

  close(): void {
    this.conn.end();
    this.jump?.end();
  }

  /** drop the TCP connection at once (tests of interrupted runs) */
  destroy(): void {
    (this.conn as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
    this.conn.end();
  }
}

function readKey(path: string): Buffer | null {
  const p = expandHome(path);
  if (!existsSync(p)) return null;
  const buf = readFileSync(p);
  const parsed = utils.parseKey(buf);
  if (parsed instanceof Error) return null; // encrypted or unsupported: the agent may still have it
  return buf;
}

interface Target {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  knownHostsFiles: string[];
  names: string[];
  proxyJump?: string;
}

/**
 * Where and as whom to log in to `node.host`: ssh_config's view of it (ssh -G), the given values first: the port when
 * `portGiven`, the user as `userOf` settles it from ssh_config's User (null: none set), the answers' identity file
 * before ssh_config's (or ssh's default) ones, the answers' known_hosts file before ssh_config's.
 */
async function targetFor(
  node: ResolvedNode,
  opts: ConnectOptions,
  portGiven: boolean,
  userOf: (configured: string | null) => string,
): Promise<Target> {
  const sc = await resolveSshConfig(node.host, opts.ssh.configFile);
  const host = sc.hostName;
  const port = portGiven ? node.port : sc.port;
  const identityFiles = [
    ...new Set([...(opts.ssh.identityFile ? [expandHome(opts.ssh.identityFile)] : []), ...sc.identityFiles]),
  ];
  const knownHostsFiles = [
    expandHome(opts.ssh.knownHostsFile ?? sc.userKnownHostsFile ?? '~/.ssh/known_hosts'),
    ...(opts.ssh.knownHostsFile ? [] : ['/etc/ssh/ssh_known_hosts']),
  ];
  const names = [
    ...new Set([sc.hostKeyAlias, hostToken(host, port), hostToken(node.host, port)].filter((x): x is string => !!x)),
  ];
  const user = userOf(sc.user);
  return { host, port, user, identityFiles, knownHostsFiles, names, proxyJump: sc.proxyJump ?? undefined };
}

/** ask the server for the key types known_hosts has for it (so a known host is verified by its known key) */
function algorithmsFor(known: KnownKey[]): ConnectConfig['algorithms'] {
  const keys = hostKeyAlgorithmsFor(known);
  return keys ? { serverHostKey: keys as never } : undefined;
}

function connectClient(cfg: ConnectConfig, sock?: Duplex): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    const onError = (e: Error) => {
      // a client that failed (a timeout, a refused login) may still report its socket closing later: with no
      // listener that 'error' event would end the process
      c.on('error', () => undefined);
      c.end();
      reject(e);
    };
    c.once('ready', () => {
      c.removeListener('error', onError);
      // an 'error' event with no listener ends the process: between here and the HostConnection that watches it
      // (a jump host's connection waits for the whole target login) a failure shows as the next step's failure
      c.on('error', () => undefined);
      resolve(c);
    });
    c.once('error', onError);
    // every command is a small request and a small reply: without TCP_NODELAY, Nagle plus the peer's delayed ACK
    // add ~40 ms to each round trip (measured on the lab: 48 ms -> 6 ms per command)
    c.once('connect', () => c.setNoDelay(true));
    c.connect(sock ? { ...cfg, sock: sock as unknown as ConnectConfig['sock'] } : cfg);
  });
}

type KeyFile = { f: string; key: Buffer };

/** the identity files that exist and parse (an encrypted one is left to the agent) */
function readKeys(files: string[]): KeyFile[] {
  return files.map((f) => ({ f, key: readKey(f) })).filter((k): k is KeyFile => !!k.key);
}

/** what the logins of one connect share: the agent socket, and the password once one was asked (sudo's too) */
interface AuthState {
  agent: string | undefined;
  password: string | undefined;
}

/**
 * Auth for one connection (the jump host and the target each get their own: they are separate logins): ssh-agent,
 * then each identity file, then the password (asked once per login); `tried` records what was tried, for the message.
 */
function authHandler(
  opts: ConnectOptions,
  auth: AuthState,
  user: string,
  tried: string[],
  keyFiles: KeyFile[],
): ConnectConfig['authHandler'] {
  let triedPassword = false;
  return ((_methodsLeft: string[] | null, _partial: boolean, next: (m: unknown) => void) => {
    if (auth.agent && !tried.includes('agent')) {
      tried.push('agent');
      return next({ type: 'agent', username: user, agent: auth.agent });
    }
    const k = keyFiles.find((x) => !tried.includes(x.f));
    if (k) {
      tried.push(k.f);
      return next({ type: 'publickey', username: user, key: k.key });
    }
    if (!triedPassword && opts.password) {
      triedPassword = true;
      opts
        .password()
        .then((pw) => {
          auth.password = pw;
          next(pw ? { type: 'password', username: user, password: pw } : false);
        })
        .catch(() => next(false));
      return;
    }
    return next(false);
  }) as unknown as ConnectConfig['authHandler'];
}

/** the last host key verdict of a connection, kept for the error when the connection fails */
interface Seen {
  verdict: HostKeyVerdict | null;
}

/** verify the key `t` presents against known_hosts with the answers' policy; accept-new reports a key it added */
function hostVerifier(opts: ConnectOptions, t: Target, label: string, seen: Seen): (key: Buffer) => boolean {
  return (key: Buffer) => {
    const verdict = verifyHostKey({
      files: t.knownHostsFiles,
      writeFile: t.knownHostsFiles[0],
      names: t.names,
      label,
      policy: opts.ssh.hostKeyPolicy,
      blob: key,
    });
    seen.verdict = verdict;
    if (verdict.ok && !verdict.known) opts.onNewHostKey?.(label, fingerprint(key));
    return verdict.ok;
  };
}

/**
 * The ProxyJump host's connection (its first hop only): its own ssh_config entry, known keys and login; the
 * target's settings otherwise (timeouts, keepalive). A refused host key or login is a PreconditionError naming it.
 */
async function connectJump(
  node: ResolvedNode,
  t: Target,
  label: string,
  opts: ConnectOptions,
  base: ConnectConfig,
  auth: AuthState,
): Promise<Client> {
  // the first hop, [ssh://][user@]host[:port] (an IPv6 address in brackets); without a user, the jump host's User
  // in ssh_config, else the local user name (as ssh)
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(t.proxyJump!.split(',')[0]);
  if (!m) throw new PreconditionError(`${label}: ProxyJump ${t.proxyJump} not understood`);
  const host = m[2].replace(/^\[(.*)\]$/, '$1');
  const jumpNode: ResolvedNode = { ...node, name: `${node.name}-jump`, host, port: Number(m[3] ?? 22) };
  const jt = await targetFor(jumpNode, opts, !!m[3], (u) => m[1] ?? u ?? userInfo().username);
  const jumpKnown = knownKeysFor(jt.knownHostsFiles, jt.names);
  const seen: Seen = { verdict: null };
  const jumpTried: string[] = [];
  const jumpKeys = readKeys(jt.identityFiles);
  return connectClient({
    ...base,
    host: jt.host,
    port: jt.port,
    username: jt.user,
    authHandler: authHandler(opts, auth, jt.user, jumpTried, jumpKeys),
    algorithms: algorithmsFor(jumpKnown),
    hostVerifier: hostVerifier(opts, jt, `jump host ${jt.host}`, seen),
  }).catch((e: Error & { level?: string }) => {
    const v = seen.verdict;
    if (v && !v.ok) throw new PreconditionError(v.message);
    if (e.level === 'client-authentication') {
      throw new PreconditionError(
        `${label}: authentication failed on the jump host ${jt.user}@${jt.host} ` +
          `(tried: ${jumpTried.join(', ') || 'nothing'})`,
      );
    }
    throw e;
  });
}

/** a channel from the jump host to the target, for the target's SSH connection to run in */
function forwardTo(jump: Client, t: Target): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) =>
    jump.forwardOut('127.0.0.1', 0, t.host, t.port, (err, stream) =>
      err ? reject(err) : resolve(stream as unknown as Duplex),
    ),
  );
}

/**
 * Why the connection to `t` failed, as the error to throw: a PreconditionError as it is (the jump host's), a refused
 * host key as a HostKeyError (with the key, for the wizard to show), else what ssh2 said in the user's terms.
 */
function connectError(
  e: unknown,
  verdict: HostKeyVerdict | null,
  t: Target,
  label: string,
  methods: string[],
  opts: ConnectOptions,
): Error {
  if (e instanceof PreconditionError) return e;
  if (verdict && !verdict.ok) {
    return new HostKeyError(verdict.message, verdict.reason, verdict.presented, t.knownHostsFiles[0]);
  }
  const err = e as Error & { level?: string; code?: string };
  if (err.level === 'client-authentication') {
    return new PreconditionError(
      `${label}: authentication failed for user ${t.user} ` +
        `(tried: ${methods.join(', ') || 'nothing: no agent, key or password'})`,
    );
  }
  if (err.level === 'client-timeout' || /Timed out/.test(err.message)) {
    return new PreconditionError(`${label}: unreachable: no SSH answer within ${opts.ssh.connectTimeout} s`);
  }
  return new PreconditionError(`${label}: cannot connect: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '));
}

/**
 * Connect to a node (through its ProxyJump host when ssh_config names one), host key verified, logged in. The
 * password, when one was asked, is kept as the sudo password of the connection.
 */
export async function connect(node: ResolvedNode, opts: ConnectOptions): Promise<HostConnection> {
  // the answers' user, unless it is the default (root) and ssh_config sets one
  const t = await targetFor(node, opts, node.port !== 22, (u) => (node.user !== 'root' || !u ? node.user : u));
  const log = opts.log ?? (() => {});
  const label = `${node.name} (${t.host}:${t.port})`;
  const seen: Seen = { verdict: null };
  const known = knownKeysFor(t.knownHostsFiles, t.names);
  const keys = readKeys(t.identityFiles);
  const agent = opts.ssh.useAgent && opts.env.SSH_AUTH_SOCK ? opts.env.SSH_AUTH_SOCK : undefined;
  const auth: AuthState = { agent, password: undefined };
  // what the target connection tried (for the message); the jump host's attempts are its own
  const methods: string[] = [];
  const base: ConnectConfig = {
    host: t.host,
    port: t.port,
    username: t.user,
    readyTimeout: opts.ssh.connectTimeout * 1000,
    keepaliveInterval: 5000,
    keepaliveCountMax: 6,
    algorithms: algorithmsFor(known),
    hostVerifier: hostVerifier(opts, t, label, seen),
    authHandler: authHandler(opts, auth, t.user, methods, keys),
  };

  let jump: Client | undefined;
  let sock: Duplex | undefined;
  try {
    if (t.proxyJump) {
      jump = await connectJump(node, t, label, opts, base, auth);
      sock = await forwardTo(jump, t);
    }
    const client = await connectClient(base, sock);
    const hc = new HostConnection(node, client, log, jump);
    if (auth.password) hc.sudoPassword = auth.password;
    if (opts.commandTimeoutMs !== undefined) hc.defaultTimeoutMs = opts.commandTimeoutMs;
    return hc;
  } catch (e) {
    jump?.end();
    throw connectError(e, seen.verdict, t, label, methods, opts);
  }
}
