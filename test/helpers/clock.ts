/**
 * Driving code that waits (sleep and setTimeout polling) under vitest's fake timers: the clock is advanced in steps
 * until the promise settles, so a minute of polling runs in milliseconds and Date.now() moves with it.
 */
import { vi } from 'vitest';

// the real one, taken before any test fakes the timers: real I/O (a module loaded by import(), a file) needs the
// event loop to turn, which advancing fake timers alone never does
const realSetImmediate = globalThis.setImmediate;
const turn = () => new Promise<void>((r) => realSetImmediate(() => r()));

/** advance the fake clock `stepMs` at a time until `p` settles (at most `maxMs` of fake time); its outcome */
export async function drive<T>(p: Promise<T>, { stepMs = 50, maxMs = 30 * 60_000 } = {}): Promise<T> {
  let settled = false;
  const watched = p.finally(() => (settled = true));
  watched.catch(() => undefined);
  for (let t = 0; !settled; t += stepMs) {
    if (t > maxMs) throw new Error(`drive: still pending after ${maxMs} ms of fake time`);
    await vi.advanceTimersByTimeAsync(stepMs);
    await turn();
  }
  return watched;
}

/** the fake clock's time since `since` */
export const elapsed = (since: number) => Date.now() - since;

/** for `.then(unexpected, (e: E) => e)`: a promise that must fail gives its error, typed; a result fails the test */
export const unexpected = (): never => {
  throw new Error('expected a failure, got a result');
};
