/**
 * A scripted Conn (src/conn.ts) for unit tests: every command goes to `answer`, which returns what the host
 * would print; every call is recorded (kind, what ran, its arguments and options) for the test to check.
 */
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import type { ResolvedNode } from '../../src/answers/resolve.js';
import type { Conn, ExecOptions, ExecResult, Privilege, Spawned } from '../../src/conn.js';
import { CHECKED_RUN_SH } from '../../src/facts/safe-file.js';

export interface FakeCall {
  kind: 'run' | 'exec' | 'sh';
  /** the command line, the argv joined by spaces, or the script */
  text: string;
  args: readonly string[];
  opts: ExecOptions;
  /**
   * an argv run through checkedArgv (safe-file.ts: only when nobody but root can change the binary): text and args
   * are the argv it wraps, as the host runs it when the check passes (the check itself runs in a real sh elsewhere)
   */
  checked?: true;
}

export type Answer = (call: FakeCall) => Partial<ExecResult> | undefined;

export interface FakeConn extends Conn {
  calls: FakeCall[];
}

export function fakeNode(over: Partial<ResolvedNode> = {}): ResolvedNode {
  return { name: 'lb01', host: '172.16.70.181', port: 22, user: 'root', interface: 'ens33', priority: 110, ...over };
}

/** the argv a checkedArgv wraps, else argv itself */
const uncheckedArgv = (argv: readonly string[]) =>
  argv[0] === 'sh' && argv[1] === '-c' && argv[2] === CHECKED_RUN_SH ? argv.slice(3) : argv;

export function fakeConn(answer: Answer, node: ResolvedNode = fakeNode()): FakeConn {
  const calls: FakeCall[] = [];
  let alive = true;
  const call = async (c: FakeCall): Promise<ExecResult> => {
    calls.push(c);
    return { code: 0, stdout: '', stderr: '', ...answer(c) };
  };
  const conn: FakeConn = {
    node,
    calls,
    get alive() {
      return alive;
    },
    get commands() {
      return calls.length;
    },
    sudo: 'root' as Privilege,
    run: (command, opts = {}) => call({ kind: 'run', text: command, args: [], opts }),
    exec: (argv, opts = {}) => {
      const inner = uncheckedArgv(argv);
      return call({
        kind: 'exec',
        text: inner.join(' '),
        args: inner,
        opts,
        ...(inner !== argv ? { checked: true } : {}),
      });
    },
    sh: (script, args = [], opts = {}) => call({ kind: 'sh', text: script, args, opts }),
    async must(argv, what, opts) {
      const r = await conn.exec(argv, opts);
      if (r.code !== 0) throw new Error(`${node.name}: ${what} failed (exit ${r.code})`);
      return r;
    },
    async mustSh(script, args, what, opts) {
      const r = await conn.sh(script, args, opts);
      if (r.code !== 0) throw new Error(`${node.name}: ${what} failed (exit ${r.code})`);
      return r;
    },
    spawn(): Promise<Spawned> {
      return Promise.reject(new Error('fakeConn: spawn is not scripted'));
    },
    close() {
      alive = false;
    },
  };
  return conn;
}

/** what a gather script prints for these sections (the facts' raw text, "@@name" each, then "@@end") */
export function gathered(sections: Record<string, string>): string {
  return (
    Object.entries(sections)
      .map(([k, v]) => `@@${k.toLowerCase()}\n${v}\n`)
      .join('') + '@@end\n'
  );
}

/** a streamed command (Conn.spawn, e.g. a sampling loop) that the test drives: it pushes what the host prints */
export interface FakeStream {
  command: string;
  ch: ClientChannel;
  done: Promise<ExecResult>;
  /** output from the host, as it would come in (any chunking) */
  push(text: string): void;
  /** the command ends on the host */
  end(code?: number): void;
  /** signals sent to the channel (ch.signal) */
  signals: string[];
  /** the channel was closed (ch.close) or the command ended */
  closed: boolean;
}

/** make conn.spawn scripted: every spawned command becomes a FakeStream, in the returned list */
export function fakeSpawn(conn: FakeConn): FakeStream[] {
  const streams: FakeStream[] = [];
  conn.spawn = async (command) => {
    const ee = new EventEmitter();
    let settle: (r: ExecResult) => void = () => undefined;
    const done = new Promise<ExecResult>((r) => (settle = r));
    const finish = (code: number, signal?: string) => {
      if (s.closed) return;
      s.closed = true;
      settle({ code, signal, stdout: '', stderr: '' });
      ee.emit('close');
    };
    const ch = Object.assign(ee, {
      signal: (sig: string) => (s.signals.push(sig), true),
      close: () => finish(-1, s.signals[s.signals.length - 1]),
    });
    const s: FakeStream = {
      command,
      ch: ch as unknown as ClientChannel,
      done,
      push: (text) => void (!s.closed && ee.emit('data', Buffer.from(text))),
      end: (code = 0) => finish(code),
      signals: [],
      closed: false,
    };
    streams.push(s);
    return { ch: s.ch, done };
  };
  return streams;
}
