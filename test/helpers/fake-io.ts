import type { IO } from '../../src/io.js';

export function fakeIO(
  opts: { tty?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): IO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    stdinIsTTY: !!opts.tty,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    color: false,
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
  };
}
