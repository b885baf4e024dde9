/**
 * Waiting on one thing (connecting to a host, listening for VRRP adverts, a VIP to move): an ora spinner on a
 * terminal, plain lines otherwise (a log, CI). Several hosts progressing at once use listr2 instead (apply/).
 */
import ora from 'ora';
import type { IO } from './io.js';

export interface Waiting {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  /** ends neutrally, neither done nor failed (e.g. a question follows: "host key not known yet") */
  info(text: string): void;
}

export function startWaiting(io: IO, text: string): Waiting {
  if (io.stderrIsTTY) {
    // discardStdin off: a prompt may follow at once, and it needs the terminal's input as it is
    const s = ora({ text, stream: process.stderr, discardStdin: false, color: io.color ? 'cyan' : false }).start();
    return {
      update: (t) => void (s.text = t),
      succeed: (t) => void s.succeed(t ?? text),
      fail: (t) => void s.fail(t ?? text),
      info: (t) => void s.info(t),
    };
  }
  io.err(`${text} …`);
  return {
    update: () => undefined,
    succeed: (t) => io.err(t ?? `${text}: done`),
    fail: (t) => io.err(t ?? `${text}: failed`),
    info: (t) => io.err(t),
  };
}

/** run `fn` under a spinner; its result (or error) decides how the spinner ends */
export async function waitOn<T>(io: IO, text: string, fn: () => Promise<T>, done?: (r: T) => string): Promise<T> {
  const w = startWaiting(io, text);
  try {
    const r = await fn();
    w.succeed(done ? done(r) : undefined);
    return r;
  } catch (e) {
    w.fail(`${text}: ${(e as Error).message}`);
    throw e;
  }
}
