/**
 * What the rest of ha-setup needs of a connection to a host: run a command (argv, a sh script, or a command line
 * already quoted), optionally as root, and stream one. The ssh2 transport (ssh.ts) implements it; unit tests use a
 * scripted fake (test/helpers/fake-conn.ts) that answers recorded outputs.
 */
import type { ClientChannel } from 'ssh2';
import type { ResolvedNode } from './answers/resolve.js';

export interface ExecResult {
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** the longest the command may run (the transport's default, 120 s, when not given) */
  timeoutMs?: number;
  /** run as root (sudo for non-root users); default true */
  root?: boolean;
}

/** how this connection acts as root: a root login, sudo without a password, or sudo with one */
export type Privilege = 'root' | 'nopasswd' | 'password';

/** a channel the caller pipes (stdin/stdout), e.g. the nginx sync's tar stream or a sampling loop */
export interface Spawned {
  ch: ClientChannel;
  done: Promise<ExecResult>;
}

export interface Conn {
  readonly node: ResolvedNode;
  readonly alive: boolean;
  /** the number of commands (round trips) run so far */
  readonly commands: number;
  sudo: Privilege;
  sudoPassword?: string;
  /** a command line whose values the caller quoted (cmd()/q()) */
  run(command: string, opts?: ExecOptions): Promise<ExecResult>;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  sh(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** like exec/sh, but a non-zero exit throws an OperationError naming the host and `what` */
  must(argv: readonly string[], what: string, opts?: ExecOptions): Promise<ExecResult>;
  mustSh(script: string, args: readonly string[], what: string, opts?: ExecOptions): Promise<ExecResult>;
  spawn(command: string, opts?: { root?: boolean }): Promise<Spawned>;
  close(): void;
}
