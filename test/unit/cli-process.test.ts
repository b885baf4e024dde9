/**
 * What cli.ts and io.ts do with the real process: Ctrl-C / SIGTERM handling (the first signal to the command's
 * handler, a second one prints what is left and exits 130, none registered exits at once), the process's IO and its
 * colours, errors that are not ha-setup's own (exit 1, the stack with --verbose; a prompt's Ctrl-C is 130), help and
 * version; the spinner on a terminal and without one.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { main, processInterrupt } from '../../src/cli.js';
import { processIO, styler } from '../../src/io.js';
import { startWaiting, waitOn } from '../../src/spinner.js';
import { fakeIO } from '../helpers/fake-io.js';

const status = vi.hoisted(() => ({ impl: async (): Promise<number> => 0 }));
vi.mock('../../src/commands/status.js', () => ({ statusCommand: () => status.impl() }));

/** process.exit does not return: the mock throws this instead */
class Exited extends Error {}
let exit: MockInstance<typeof process.exit>;
beforeEach(() => {
  exit = vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Exited();
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** the listener processInterrupt added for a signal (called directly: emitting would reach vitest's own) */
const handlerOf = (sig: 'SIGINT' | 'SIGTERM') => process.listeners(sig).at(-1) as (s: string) => void;

describe('Ctrl-C and SIGTERM', () => {
  it('first to the command (it restores), second prints what is left and exits 130; disposed afterwards', () => {
    const io = fakeIO();
    const before = process.listeners('SIGINT').length;
    const p = processInterrupt(io);
    expect(process.listeners('SIGINT').length).toBe(before + 1);
    const first = vi.fn();
    p.interrupt.onInterrupt({ first, second: (s) => [`${s} again: left as it is`, '  fix: systemctl start x'] });
    handlerOf('SIGINT')('SIGINT');
    expect(first).toHaveBeenCalledWith('SIGINT');
    expect(exit).not.toHaveBeenCalled();
    expect(() => handlerOf('SIGTERM')('SIGTERM')).toThrow(Exited);
    expect(io.stderr).toEqual(['SIGTERM again: left as it is', '  fix: systemctl start x']);
    expect(exit).toHaveBeenCalledWith(130);
    // a new registration starts counting again
    p.interrupt.onInterrupt({ first, second: () => [] });
    handlerOf('SIGINT')('SIGINT');
    expect(first).toHaveBeenCalledTimes(2);
    expect(exit).toHaveBeenCalledTimes(1);
    p.dispose();
    expect(process.listeners('SIGINT').length).toBe(before);
  });

  it('no command handler registered: the signal ends the process with 130 at once', () => {
    const p = processInterrupt(fakeIO());
    p.interrupt.onInterrupt(null);
    expect(() => handlerOf('SIGINT')('SIGINT')).toThrow(Exited);
    expect(exit).toHaveBeenCalledWith(130);
    p.dispose();
  });

  it('after the command ended: a signal exits with its code (a watch ended by its duration stays 0)', () => {
    const p = processInterrupt(fakeIO());
    p.interrupt.onInterrupt({ first: vi.fn(), second: () => [] });
    p.interrupt.onInterrupt(null);
    p.finished(0);
    expect(() => handlerOf('SIGINT')('SIGINT')).toThrow(Exited);
    expect(exit).toHaveBeenCalledWith(0);
    p.finished(1);
    expect(() => handlerOf('SIGTERM')('SIGTERM')).toThrow(Exited);
    expect(exit).toHaveBeenLastCalledWith(1);
    p.dispose();
  });
});

describe("the process's IO", () => {
  it('results to stdout and messages to stderr, each a line; colours only on a terminal without NO_COLOR', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const io = processIO();
    io.out('result');
    io.out('line\n');
    io.err('message');
    expect(out.mock.calls.map((c) => c[0])).toEqual(['result\n', 'line\n']);
    expect(err.mock.calls.map((c) => c[0])).toEqual(['message\n']);
    expect(io.env).toBe(process.env);
    expect(io.cwd).toBe(process.cwd());
    expect(io.color).toBe(!!process.stderr.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb');
    vi.stubEnv('NO_COLOR', '1');
    expect(processIO().color).toBe(false);
    expect(styler({ color: true }).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(styler({ color: false }).bold('x')).toBe('x');
  });
});

describe('errors that are not ha-setup’s own', () => {
  it('exit 1 with one line; --verbose adds the stack; a prompt’s Ctrl-C is 130', async () => {
    status.impl = async () => {
      throw new Error('socket hang up');
    };
    const io = fakeIO();
    expect(await main(['status'], io)).toBe(1);
    expect(io.stderr).toEqual(['ha-setup: socket hang up']);
    const v = fakeIO();
    expect(await main(['status', '--verbose'], v)).toBe(1);
    expect(v.stderr[0]).toBe('ha-setup: socket hang up');
    expect(v.stderr[1]).toMatch(/^Error: socket hang up\n\s+at /);
    status.impl = async () => {
      throw Object.assign(new Error('User force closed the prompt with SIGINT'), { name: 'ExitPromptError' });
    };
    const c = fakeIO();
    expect(await main(['status'], c)).toBe(130);
    expect(c.stderr).toEqual(['ha-setup: interrupted']);
  });

  it('--help and --version exit 0 with their text on stdout', async () => {
    const h = fakeIO();
    expect(await main(['--help'], h)).toBe(0);
    expect(h.stdout.join('\n')).toMatch(/^Usage: ha-setup \[options\] \[command\]/);
    const v = fakeIO();
    expect(await main(['-V'], v)).toBe(0);
    expect(v.stdout).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+/)]);
    expect(await main([], fakeIO())).toBe(0);
  });
});

describe('the spinner', () => {
  it('without a terminal: plain lines for start, the end and information', async () => {
    const io = fakeIO();
    const w = startWaiting(io, 'connecting to lb01');
    w.update('still connecting');
    w.info('host key not known yet');
    w.succeed();
    startWaiting(io, 'listening').fail();
    expect(io.stderr).toEqual([
      'connecting to lb01 …',
      'host key not known yet',
      'connecting to lb01: done',
      'listening …',
      'listening: failed',
    ]);
    const r = await waitOn(
      io,
      'reading facts',
      async () => 3,
      (n) => `read ${n} hosts`,
    );
    expect(r).toBe(3);
    await expect(
      waitOn(io, 'reading facts', async () => {
        throw new Error('lb02: timed out');
      }),
    ).rejects.toThrow('lb02: timed out');
    expect(io.stderr.slice(-4)).toEqual([
      'reading facts …',
      'read 3 hosts',
      'reading facts …',
      'reading facts: lb02: timed out',
    ]);
  });

  it('on a terminal: ora on stderr, ending with the line it was given', () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const io = { ...fakeIO(), stderrIsTTY: true };
    const w = startWaiting(io, 'waiting for the VIP');
    w.update('waiting for 172.16.70.183');
    w.succeed('172.16.70.183 moved');
    startWaiting(io, 'a').fail('a failed');
    startWaiting(io, 'b').info('b: see above');
    const written = err.mock.calls.map((c) => String(c[0])).join('');
    expect(written).toContain('172.16.70.183 moved');
    expect(written).toContain('a failed');
    expect(written).toContain('b: see above');
    expect(io.stderr).toEqual([]);
  });
});
