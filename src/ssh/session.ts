/**
 * A session over all nodes: connect (in parallel) and find out how to act as root on each (root login, sudo without
 * a password, or sudo with the password asked once for all hosts). Every command (init, status, verify-failover,
 * rollback) opens one, so a non-root user with sudo, ~/.ssh/config aliases and ProxyJump work for all of them. Any
 * failure here is a precondition refusal: nothing has been changed on any host.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import { RunLog } from './runlog.js';
import { gather } from '../facts/gather.js';
import type { Conn } from '../conn.js';
import { connect, type ConnectOptions } from './ssh.js';

export interface Session {
  runId: string;
  log: RunLog;
  conns: Record<string, Conn>;
  /**
   * A new connection to a node (or another host, e.g. --probe-from) with the session's options and password, acting
   * as root the same way; replaces the node's connection in `conns` when it is a node. `strictHostKey`: an unknown
   * host key is refused whatever ssh.hostKeyPolicy says (a host the answers do not name is never trusted on first
   * use); the refusal is a HostKeyError, before any login is tried.
   */
  reconnect(node: ResolvedNode, opts?: { connectTimeout?: number; strictHostKey?: boolean }): Promise<Conn>;
  close(): void;
}

export interface SessionOptions {
  /** ask for a password (SSH or sudo) on the terminal; without it only ssh.passwordEnv can give one */
  askPassword?: (message: string) => Promise<string>;
  /** a password already given (the wizard asked it while it connected to the hosts) */
  password?: string;
  runId?: string;
}

/**
 * Act as root on a connected host: root directly, or sudo (with the password when it needs one); refuses a user
 * who cannot become root.
 */
export async function becomeRoot(c: Conn, n: ResolvedNode, password: () => Promise<string | undefined>): Promise<void> {
  // as the login user: the uid, then whether sudo works without a password (for `sh`, the one command ha-setup runs
  // through sudo, ignoring a cached credential that would expire in the middle of a run)
  const p = await gather(c, ['uid', 'sudo'], {}, { root: false, timeoutMs: 30_000 }).catch(() => ({
    uid: -1,
    sudo: 'none' as const,
  }));
  if (p.uid === 0) c.sudo = 'root';
  else if (p.uid < 0) throw new PreconditionError(`${n.name}: cannot run commands as ${n.user}`);
  else if (p.sudo === 'nopasswd') c.sudo = 'nopasswd';
  else if (p.sudo === 'none') {
    throw new PreconditionError(`${n.name}: user ${n.user} is not root and there is no sudo on the host`);
  } else {
    const pw = await password();
    if (!pw) {
      throw new PreconditionError(
        `${n.name}: user ${n.user} needs a password for sudo: set ssh.passwordEnv or run in a terminal`,
      );
    }
    c.sudo = 'password';
    c.sudoPassword = pw;
    const check = await c.exec(['true'], { timeoutMs: 30_000 });
    if (check.code !== 0) {
      throw new PreconditionError(`${n.name}: sudo refused the password of ${n.user} (or ${n.user} may not sudo)`);
    }
  }
}

export function newRunId(now = new Date()): string {
  return (
    now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z') +
    '-' +
    Math.random().toString(36).slice(2, 6)
  );
}

/** what a session needs of the answers: the nodes, their SSH options, and where secrets are collected */
export type SessionConfig = Pick<Config, 'nodes' | 'secrets'> & { answers: { ssh: Config['answers']['ssh'] } };

export async function openSession(io: IO, cfg: SessionConfig, opts: SessionOptions = {}): Promise<Session> {
  const runId = opts.runId ?? newRunId();
  // a password the wizard already asked for is a secret like any other (masked in logs and output)
  if (opts.password) cfg.secrets.push(opts.password);
  const log = new RunLog(runId, cfg.secrets, io.env);
  let cachedPassword: Promise<string | undefined> | null = null;
  const password = () => {
    const fromEnv = cfg.answers.ssh.passwordEnv ? io.env[cfg.answers.ssh.passwordEnv] : undefined;
    if (fromEnv) return Promise.resolve(fromEnv);
    if (opts.password) return Promise.resolve(opts.password);
    if (!opts.askPassword) return Promise.resolve(undefined);
    cachedPassword ??= opts.askPassword('SSH / sudo password (asked once for all hosts)').then((p) => {
      if (p) cfg.secrets.push(p);
      return p;
    });
    return cachedPassword;
  };
  const connectOptions = (connectTimeout?: number, strict = false): ConnectOptions => ({
    ssh: {
      ...cfg.answers.ssh,
      ...(connectTimeout ? { connectTimeout } : {}),
      ...(strict ? { hostKeyPolicy: 'strict' as const } : {}),
    },
    env: io.env,
    password,
    log: log.write,
    onNewHostKey: (label, fp) => io.err(`${label}: new host key ${fp} added to known_hosts (accept-new)`),
  });

  const conns: Record<string, Conn> = {};
  const close = () => Object.values(conns).forEach((c) => c.close());
  const results = await Promise.allSettled(
    cfg.nodes.map(async (n) => {
      const c = await connect(n, connectOptions());
      conns[n.name] = c;
      await becomeRoot(c, n, password);
      return c;
    }),
  );
  const problems = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (problems.length) {
    close();
    throw new PreconditionError(`cannot reach or become root on every node; nothing was changed`, problems);
  }
  return {
    runId,
    log,
    conns,
    async reconnect(node, o = {}) {
      const isNode = cfg.nodes.some((n) => n.name === node.name);
      const old = isNode ? conns[node.name] : undefined;
      const c = await connect(node, connectOptions(o.connectTimeout, o.strictHostKey));
      try {
        if (old) {
          c.sudo = old.sudo;
          c.sudoPassword = old.sudoPassword;
        } else await becomeRoot(c, node, password);
      } catch (e) {
        c.close();
        throw e;
      }
      if (isNode) {
        conns[node.name] = c;
        old?.close();
      }
      return c;
    },
    close,
  };
}

/**
 * The node's connection, made again when it died or no longer answers (a dropped link, a host rebooted): the one it
 * has when a quick command still runs there, else a new one (session.reconnect), up to `tries` times `gapMs` apart.
 */
export async function liveConnection(s: Session, node: ResolvedNode, tries = 10, gapMs = 1000): Promise<Conn> {
  const old = s.conns[node.name];
  if (old?.alive) {
    const r = await old.run('true', { timeoutMs: 3000 }).catch(() => null);
    if (r && r.code === 0) return old;
  }
  let lastErr: Error | null = null;
  for (let i = 0; i < tries; i++) {
    try {
      return await s.reconnect(node, { connectTimeout: 5 });
    } catch (e) {
      lastErr = e as Error;
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }
  throw lastErr ?? new Error(`${node.name}: cannot reconnect`);
}
