/** Injected input/output, so commands can be tested without a terminal (vercel CLI style). */
export interface IO {
  /** results: what a script consumes (plans, tables, JSON) */
  out(text: string): void;
  /** messages: progress, warnings, errors */
  err(text: string): void;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly color: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** the command line after the program's name (named in ha-setup's lock on the hosts) */
  readonly argv?: readonly string[];
  /** Ctrl-C / SIGTERM while a command runs (cli.ts installs it; absent in tests that do not need it) */
  readonly interrupt?: Interrupt;
}

/**
 * What a command does on Ctrl-C: the first one calls `first` (the command stops and restores what it changed), a
 * second one prints what `second` returns (what is left and how to fix it by hand) and cli.ts exits 130.
 */
export interface Interrupt {
  onInterrupt(handlers: { first: (signal: string) => void; second: (signal: string) => string[] } | null): void;
}

export function processIO(): IO {
  const env = process.env;
  const color = !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb' && !!process.stderr.isTTY;
  return {
    out: (t) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    err: (t) => void process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    stdinIsTTY: !!process.stdin.isTTY,
    stdoutIsTTY: !!process.stdout.isTTY,
    stderrIsTTY: !!process.stderr.isTTY,
    color,
    env,
    cwd: process.cwd(),
    argv: process.argv.slice(2),
  };
}

/** Minimal styling that honours NO_COLOR / non-TTY. */
export function styler(io: Pick<IO, 'color'>) {
  const wrap = (open: number, close: number) => (s: string) => (io.color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}
