/**
 * A scripted Conn (src/conn.ts) for unit tests: every command goes to `answer`, which returns what the host
 * would print; every call is recorded (kind, what ran, its arguments and options) for the test to check.
 */
import type { ResolvedNode } from '../../src/answers/resolve.js';
import type { Conn, ExecOptions, ExecResult, Privilege, Spawned } from '../../src/conn.js';

export interface FakeCall {
  kind: 'run' | 'exec' | 'sh';
  /** the command line, the argv joined by spaces, or the script */
  text: string;
  args: readonly string[];
  opts: ExecOptions;
}

export type Answer = (call: FakeCall) => Partial<ExecResult> | undefined;

export interface FakeConn extends Conn {
  calls: FakeCall[];
}

export function fakeNode(over: Partial<ResolvedNode> = {}): ResolvedNode {
  return { name: 'lb01', host: '172.16.70.181', port: 22, user: 'root', interface: 'ens33', priority: 110, ...over };
}

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
    exec: (argv, opts = {}) => call({ kind: 'exec', text: argv.join(' '), args: argv, opts }),
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
