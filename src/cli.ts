/**
 * Entry point: commander wiring only. Every command is a thin file in commands/; typed errors are mapped to
 * exit codes here, once (0 ok, 1 operation failed, 2 usage/validation/precondition, 130 interrupted).
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeOf, HaError } from './errors.js';
import { processIO, styler, type IO } from './io.js';

export interface GlobalOptions {
  answers?: string;
  json?: boolean;
  verbose?: boolean;
  yes?: boolean;
}

function addShared(cmd: Command, { answers = true } = {}): Command {
  if (answers) cmd.option('-a, --answers <file>', 'answers file (YAML); default ./ha-setup.yaml when present');
  return cmd.option('--json', 'machine-readable result on stdout').option('-v, --verbose', 'more detail on stderr');
}

export function buildProgram(io: IO, run: (p: Promise<number>) => void): Command {
  const program = new Command('ha-setup');
  program
    .description(
      'Set up a highly available nginx load-balancer pair with keepalived (VRRP) over SSH, and prove it fails over.',
    )
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .showHelpAfterError('(run ha-setup --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();

  addShared(
    program
      .command('init')
      .description('ask for (or read) the answers, then set up keepalived + nginx on every node over SSH')
      .option('-y, --yes', 'do not ask for confirmation (with --answers: never prompt)')
      .option('--dry-run', 'show the plan: every file (with diffs against the hosts) and step, change nothing')
      .option('--offline', 'with --dry-run: do not connect, assume fresh hosts')
      .addOption(
        new Option('--os <family>', 'with --offline: the assumed OS family')
          .choices(['debian', 'rhel'])
          .default('debian'),
      )
      .option('--save-answers <file>', 'write the collected answers (secrets left out) to this file'),
  ).action(async (opts) => run((await import('./commands/init.js')).initCommand(io, opts)));

  addShared(
    program
      .command('status')
      .description('per node: services, VRRP state, who holds each VIP; exit 1 on split brain or lost VIP'),
  ).action(async (opts) => run((await import('./commands/status.js')).statusCommand(io, opts)));

  addShared(
    program
      .command('verify-failover')
      .description(
        'break the master on purpose, measure the gap a client sees, check the VIP moved, restore everything',
      )
      .option('--scenario <names>', 'faults to inject, comma-separated: nginx, keepalived, crash, link, or all', 'all')
      .option('--instance <name>', 'only this VRRP instance (default: every instance)')
      .option('--max-gap <seconds>', 'fail when clients see a longer gap (default from the profile)')
      .option('--probe-url <url>', 'URL probed through the VIP (default http://VIP/)')
      .option('--probe-from <node-or-host>', 'run the probe on this host over SSH instead of the controller')
      .option('--probe-interval <ms>', 'milliseconds between probes', '50')
      .option('--report <file>', 'also write a self-contained timeline picture (.html or .svg)')
      .option('--force', 'skip the preflight health check (the test may then fail on purpose)'),
  ).action(async (opts) => run((await import('./commands/verify-failover.js')).verifyFailoverCommand(io, opts)));

  addShared(
    program
      .command('rollback')
      .description(
        'restore the files of the last ha-setup run (or --run ID) on every node and restart what they affect',
      )
      .option('--run <id>', 'backup set to restore (default: the latest on each node)')
      .option('--node <name>', 'only this node')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (opts) => run((await import('./commands/rollback.js')).rollbackCommand(io, opts)));

  program
    .command('schema')
    .description('print the JSON Schema of the answers file (for editor completion)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts) => run((await import('./commands/schema.js')).schemaCommand(io, opts)));

  return program;
}

export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  let pending: Promise<number> | null = null;
  const program = buildProgram(io, (p) => (pending = p));
  const st = styler(io);
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (!pending) return 0;
    return await pending;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      // commander already printed its one-line message
      return 2;
    }
    const code = exitCodeOf(err);
    if (err instanceof HaError) {
      io.err(st.red(`ha-setup: ${err.message}`));
      for (const d of err.details) io.err(`  ${d}`);
    } else if (code === 130) {
      io.err('ha-setup: interrupted');
    } else {
      io.err(st.red(`ha-setup: ${(err as Error)?.message ?? String(err)}`));
      if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    }
    return code;
  }
}
