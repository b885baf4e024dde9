/**
 * Entry point: commander wiring only. Every command is a thin file in commands/; typed errors are mapped to
 * exit codes here, once (0 ok, 1 operation failed, 2 usage/validation/precondition, 130 interrupted).
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeOf, HaError } from './errors.js';
import { processIO, styler, type Interrupt, type IO } from './io.js';
import { printable } from './printable.js';

export interface GlobalOptions {
  answers?: string;
  json?: boolean;
  verbose?: boolean;
  yes?: boolean;
}

function addShared(cmd: Command, { answers = true, lock = false } = {}): Command {
  if (answers) cmd.option('-a, --answers <file>', 'answers file (YAML); default ./ha-setup.yaml when present');
  if (lock)
    cmd.option(
      '--wait-lock <seconds>',
      'when another ha-setup run changes the pair, wait up to this long for it (default: refuse at once)',
    );
  return cmd.option('--json', 'machine-readable result on stdout').option('-v, --verbose', 'more detail on stderr');
}

type Run = (p: Promise<number>) => void;

/** init, status, verify-failover, rollback: building and proving the pair */
function addSetupCommands(program: Command, io: IO, run: Run): void {
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
      .option('--save-answers <file>', 'write the collected answers (secrets left out) to this file')
      .option(
        '--forget <node>',
        'a node an earlier init recorded that left the answers (one that cannot be reached): drop it from the ' +
          'recorded members without connecting to it or changing it (repeatable)',
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      ),
    { lock: true },
  ).action(async (opts) => run((await import('./commands/init.js')).initCommand(io, opts)));

  addShared(
    program
      .command('status')
      .description(
        'per node: services, VRRP state, who holds each VIP; exit 1 on any problem (split brain, lost VIP, a node ' +
          'unreachable or down, FAULT, a latent fault, a host that is not a member)',
      )
      .option('--watch', 'live until Ctrl-C: nodes, VIP holders, what clients see through each VIP, transitions')
      .option('--interval <ms>', 'with --watch: milliseconds between probes through each VIP (50..5000, default 200)')
      .option(
        '--duration <seconds>',
        'with --watch: stop after this many seconds (exit 1 if the pair then has a problem)',
      ),
  ).action(async (opts) => run((await import('./commands/status.js')).statusCommand(io, opts)));

  addShared(
    program
      .command('verify-failover')
      .description(
        'break the master on purpose, measure the gap a client sees, check the VIP moved, restore everything',
      )
      .option(
        '--scenario <names>',
        'faults to inject, comma-separated: nginx, keepalived, crash, link, switchover, or all',
        'all',
      )
      .option('--instance <name>', 'only this VRRP instance (default: every instance)')
      .option('--max-gap <seconds>', 'fail when clients see a longer gap (default from the profile)')
      .option('--probe-url <url>', 'URL probed through the VIP (default http://VIP/)')
      .option('--probe-from <node-or-host>', 'run the probe on this host over SSH instead of the controller')
      .option('--probe-interval <ms>', 'milliseconds between probes (default 50; 10 on an ultra pair)')
      .option('--report <file>', 'also write a self-contained timeline picture (.html or .svg)')
      .option('--force', 'skip the preflight health check (the test may then fail on purpose)'),
    { lock: true },
  ).action(async (opts) => run((await import('./commands/verify-failover.js')).verifyFailoverCommand(io, opts)));

  addShared(
    program
      .command('rollback')
      .description(
        'restore the files of the last ha-setup run (or --run ID) on every node and restart what they affect',
      )
      .option('--run <id>', 'backup set to restore (default: the latest on each node)')
      .option('--node <name>', 'only this node')
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--dry-run', 'list what each node would restore (files, flags, services); change nothing, take no lock'),
    { lock: true },
  ).action(async (opts) => run((await import('./commands/rollback.js')).rollbackCommand(io, opts)));
}

/** switchover and maintenance: day 2 */
function addDay2Commands(program: Command, io: IO, run: Run): void {
  addShared(
    program
      .command('switchover')
      .description("move an instance's VIPs to another ready node without a gap (the old holder stays a backup)")
      .option('--instance <name>', 'the instance or sync group to move (needed when there are several)')
      .option('--all', 'every instance and sync group')
      .option('--to <node>', 'the node to move to (default: the ready node of the highest priority)')
      .option('--dry-run', 'show the plan: the flags and moves on each node; change nothing, take no lock'),
    { lock: true },
  ).action(async (opts) => run((await import('./commands/switchover.js')).switchoverCommand(io, opts)));

  addShared(
    program
      .command('maintenance')
      .description('on: drain NODE (VIPs handed over, it takes none until off); off: put it back (VIPs per preempt)')
      .argument('<node>', 'the node')
      .argument('<state>', 'on or off')
      .option('--dry-run', 'show the plan: the flags and moves on the node; change nothing, take no lock'),
    { lock: true },
  ).action(async (node, state, opts) =>
    run((await import('./commands/maintenance.js')).maintenanceCommand(io, node, state, opts)),
  );
}

/** import, metrics rules, schema */
function addToolCommands(program: Command, io: IO, run: Run): void {
  program
    .command('import')
    .description('write answers that reproduce a pair built by hand (reads keepalived and nginx on the hosts)')
    .argument('<hosts...>', 'every load balancer of the pair (address, host name or ~/.ssh/config alias)')
    .option('--user <user>', 'SSH user (non-root uses sudo)')
    .option('--port <port>', 'SSH port')
    .option('--identity <file>', 'SSH private key')
    .option('--known-hosts <file>', 'known_hosts file (host keys are checked as by every command)')
    .option('-o, --out <file>', 'write the answers there instead of stdout (snippet files go beside it)')
    .option('--force', 'replace the answers and snippet files when they are there (never written over otherwise)')
    .option('--json', 'machine-readable result on stdout')
    .action(async (hosts, opts) => run((await import('./commands/import.js')).importCommand(io, hosts, opts)));

  program
    .command('metrics')
    .description("Prometheus alerting rules for ha-setup's series: ha-setup metrics rules > ha-setup.rules.yml")
    .argument('<what>', 'rules')
    .option('-a, --answers <file>', 'answers file: a VIP no node reports becomes an alert too')
    .option(
      '--job <name>',
      "the Prometheus job scraping the load balancers' node_exporter (adds an exporter-down rule)",
    )
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (what, opts) => run((await import('./commands/metrics.js')).metricsCommand(io, what, opts)));

  program
    .command('schema')
    .description('print the JSON Schema of the answers file (for editor completion)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts) => run((await import('./commands/schema.js')).schemaCommand(io, opts)));
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
  addSetupCommands(program, io, run);
  addDay2Commands(program, io, run);
  addToolCommands(program, io, run);
  return program;
}

/**
 * Ctrl-C and SIGTERM for the process: the command that registered handlers stops and restores on the first one; a
 * second one prints what is left and exits 130 at once. Without handlers a signal ends the process with 130. Once the
 * command has ended (`finished`), a signal while the last connections close exits with the command's own code: the
 * work is done, and a signal must not turn its result into a kill.
 */
export function processInterrupt(io: Pick<IO, 'err'>): {
  interrupt: Interrupt;
  finished(code: number): void;
  dispose(): void;
} {
  let handlers: Parameters<Interrupt['onInterrupt']>[0] = null;
  let count = 0;
  let done: number | null = null;
  const on = (sig: NodeJS.Signals) => {
    if (done !== null) process.exit(done);
    count++;
    if (!handlers) process.exit(130);
    if (count === 1) return handlers.first(sig);
    for (const l of handlers.second(sig)) io.err(l);
    process.exit(130);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    interrupt: { onInterrupt: (h) => ((handlers = h), (count = 0)) },
    finished: (code) => void (done = code),
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
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
    // an error's text often quotes a host (a program's error output, a line of its files): control characters escaped
    if (err instanceof HaError) {
      io.err(st.red(`ha-setup: ${printable(err.message)}`));
      for (const d of err.details) io.err(`  ${printable(d)}`);
    } else if (code === 130) {
      io.err('ha-setup: interrupted');
    } else {
      io.err(st.red(`ha-setup: ${printable((err as Error)?.message ?? String(err))}`));
      if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    }
    return code;
  }
}
