/**
 * Scripting a fake connection (test/helpers/fake-conn.ts): rules that answer a command or script text with recorded
 * output, and FakeChannel, ssh2's channel as far as ha-setup uses it, for scripted streamed commands (spawn).
 */
import { Duplex, PassThrough } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { ExecResult, Spawned } from '../../src/conn.js';
import type { Answer, FakeCall } from './fake-conn.js';

/** one scripted answer: a command line, argv or script matched by text (substring), RegExp or predicate */
export interface Rule {
  match: string | RegExp | ((c: FakeCall) => boolean);
  reply: Partial<ExecResult> | ((c: FakeCall) => Partial<ExecResult> | undefined);
  /** answer this many times only (then the next rule, or the fallback, answers) */
  times?: number;
}

export function matches(m: Rule['match'], c: FakeCall): boolean {
  if (typeof m === 'string') return c.text.includes(m);
  if (m instanceof RegExp) return m.test(c.text);
  return m(c);
}

/** an Answer from rules, first match first; what no rule answers goes to `fallback` (default: exit 0, no output) */
export function scripted(rules: Rule[], fallback: Answer = () => undefined): Answer {
  return (c) => {
    for (const r of rules) {
      if (r.times === 0 || !matches(r.match, c)) continue;
      const out = typeof r.reply === 'function' ? r.reply(c) : r.reply;
      if (out === undefined) continue;
      if (r.times !== undefined) r.times--;
      return out;
    }
    return fallback(c);
  };
}

/**
 * ssh2's channel as far as ha-setup uses it: data out (push/line), the caller's input (written, 'finish' at its
 * EOF), stderr, signal() and close(); `done` settles with the exit status when the channel closes.
 */
export class FakeChannel extends Duplex {
  readonly stderr = new PassThrough();
  readonly written: Buffer[] = [];
  readonly signals: string[] = [];
  readonly done: Promise<ExecResult>;
  private code = -1;
  private stderrText = '';
  private settle!: (r: ExecResult) => void;
  /** closed by the caller, or ended by the command */
  ended = false;

  constructor() {
    // 'close' is emitted once, by close() (the caller's or the command's end)
    super({ autoDestroy: false, emitClose: false });
    this.done = new Promise((r) => (this.settle = r));
    this.stderr.on('data', (d: Buffer) => (this.stderrText += d.toString()));
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(Buffer.from(chunk));
    cb();
  }
  /** a line of output */
  line(text: string): void {
    if (!this.ended) this.push(`${text}\n`);
  }
  signal(name: string): void {
    this.signals.push(name);
  }
  /** the command ended by itself with `code` */
  exit(code: number, stderr = ''): void {
    if (this.ended) return;
    this.code = code;
    if (stderr) this.stderrText += stderr;
    this.push(null);
    this.close();
  }
  /** the caller (or the host) closed the channel */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('close');
    this.settle({ code: this.code, stdout: '', stderr: this.stderrText });
  }
  spawned(): Spawned {
    return { ch: this as unknown as ClientChannel, done: this.done };
  }
}
