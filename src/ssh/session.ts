/**
 * A session over all nodes: connect (in parallel), find out about sudo, lock, gather facts. Any failure here is a
 * precondition refusal: nothing has been changed on any host yet.
 */
import type { Config } from '../answers/resolve.js';
import { PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import type { Facts } from '../plan/types.js';
import { HostRunner, newRunId } from '../apply/host.js';
import { RunLog } from '../apply/runlog.js';
import { connect, type HostConnection } from './ssh.js';

export interface Session {
  runId: string;
  log: RunLog;
  conns: Record<string, HostConnection>;
  runners: Record<string, HostRunner>;
  facts: Record<string, Facts>;
  close(): void;
}

export interface SessionOptions {
  lock?: boolean;
  facts?: boolean;
  /** ask for a password (SSH or sudo) on the terminal */
  askPassword?: (message: string) => Promise<string>;
}

export async function openSession(io: IO, cfg: Config, opts: SessionOptions = {}): Promise<Session> {
  const runId = newRunId();
  const log = new RunLog(runId, cfg.secrets, io.env);
  let cachedPassword: Promise<string | undefined> | null = null;
  const password = () => {
    if (cfg.answers.ssh.passwordEnv && io.env[cfg.answers.ssh.passwordEnv])
      return Promise.resolve(io.env[cfg.answers.ssh.passwordEnv]);
    if (!opts.askPassword) return Promise.resolve(undefined);
    cachedPassword ??= opts.askPassword('SSH / sudo password (asked once for all hosts)').then((p) => {
      if (p) cfg.secrets.push(p);
      return p;
    });
    return cachedPassword;
  };
  const results = await Promise.allSettled(
    cfg.nodes.map((n) =>
      connect(n, {
        ssh: cfg.answers.ssh,
        env: io.env,
        password,
        log: log.write,
        onNewHostKey: (label, fp) => io.err(`${label}: new host key ${fp} added to known_hosts (accept-new)`),
      }),
    ),
  );
  const conns: Record<string, HostConnection> = {};
  const problems: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') conns[cfg.nodes[i].name] = r.value;
    else problems.push((r.reason as Error).message);
  });
  const close = () => Object.values(conns).forEach((c) => c.close());
  if (problems.length) {
    close();
    throw new PreconditionError(`cannot reach every node; nothing was changed`, problems);
  }
  const runners: Record<string, HostRunner> = {};
  for (const n of cfg.nodes) runners[n.name] = new HostRunner(conns[n.name], cfg, n, runId);
  const facts: Record<string, Facts> = {};
  try {
    if (opts.lock) {
      const locks = await Promise.allSettled(cfg.nodes.map((n) => runners[n.name].lock()));
      const lp = locks.flatMap((l) => (l.status === 'rejected' ? [(l.reason as Error).message] : []));
      if (lp.length) throw new PreconditionError('a node is busy; nothing was changed', lp);
    }
    if (opts.facts !== false) {
      const fs = await Promise.all(cfg.nodes.map((n) => runners[n.name].facts()));
      cfg.nodes.forEach((n, i) => (facts[n.name] = fs[i]));
      // sudo: a password is needed when a non-root user has no NOPASSWD rule
      for (const n of cfg.nodes) {
        const f = facts[n.name];
        const c = conns[n.name];
        if (f.uid === 0) c.sudo = 'root';
        else if (f.sudo === 'nopasswd') {
          c.sudo = 'nopasswd';
          facts[n.name] = await runners[n.name].facts();
        } else if (f.sudo === 'password') {
          const pw = await password();
          if (!pw)
            throw new PreconditionError(
              `${n.name}: user ${n.user} needs a sudo password: set ssh.passwordEnv or run in a terminal`,
            );
          c.sudo = 'password';
          c.sudoPassword = pw;
          const check = await c.exec(['true']);
          if (check.code !== 0) throw new PreconditionError(`${n.name}: sudo refused the password for ${n.user}`);
          facts[n.name] = await runners[n.name].facts();
        }
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { runId, log, conns, runners, facts, close };
}
