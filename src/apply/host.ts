/**
 * Acting on one host: lock, facts, backups, atomic writes, commands, services, and restoring a run.
 * Every file is backed up under /var/backups/ha-setup/<run>/files<path> BEFORE it changes, and the run's
 * manifest.jsonl records each change so a failed step (or `ha-setup rollback`) can put the host back.
 */
import { readFileSync } from 'node:fs';
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { OperationError, PreconditionError } from '../errors.js';
import { factsArgs, factsScript, parseFactsOutput } from '../facts/gather.js';
import { PATHS } from '../paths.js';
import type { Change, Facts } from '../plan/types.js';
import type { ExecOptions, HostConnection } from '../ssh/ssh.js';
import { cmd, q } from '../ssh/shell.js';

/** apt-get never asks, and keeps a configuration file the operator changed (dpkg's conffile prompt) */
const APT_OPTIONS = ['-y', '-q', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];

export type ManifestEntry =
  | { type: 'start'; runId: string; time: string; services: Facts['services']; node: string }
  | { type: 'file'; path: string; existed: boolean }
  | { type: 'dir'; path: string; existed: boolean }
  | { type: 'command'; argv: string[]; undo?: string[] }
  | { type: 'package'; names: string[] }
  | { type: 'end'; ok: boolean; time: string }
  | { type: 'rolledback'; time: string };

export class HostRunner {
  readonly runDir: string;
  private backedUp = new Set<string>();
  private lockChannel: { close(): void } | null = null;
  private started = false;
  restarted: string[] = [];

  constructor(
    readonly conn: HostConnection,
    readonly cfg: Config,
    readonly node: ResolvedNode,
    readonly runId: string,
  ) {
    this.runDir = `${PATHS.backupRoot}/${runId}`;
  }

  /**
   * flock held by a channel that lives as long as our SSH session: a dropped connection frees it. The holder is
   * named for this run; `takeOver` (after a reconnect) ends this run's own holder from the dead connection first,
   * which sshd may not notice for a long time, and waits a little for the lock.
   */
  async lock(opts: { takeOver?: boolean } = {}): Promise<void> {
    const { ch, done } = await this.conn.spawn(
      cmd([
        'sh',
        '-c',
        [
          'mkdir -p /run/lock',
          'w=-n',
          // the holder is one process (flock's child inherits the locked descriptor: no `cat` beside it)
          'if [ "$2" = takeover ]; then pkill -f "ha-setup-lock $3\\$"; w="-w 10"; fi',
          'exec flock $w -E 75 "$1" sh -c "echo locked; while read -r _; do :; done" ha-setup-lock "$3"',
        ].join('\n'),
        'sh',
        PATHS.lockDir,
        opts.takeOver ? 'takeover' : 'new',
        this.runId,
      ]),
    );
    const first = await new Promise<string>((resolve) => {
      let buf = '';
      ch.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
      // spawn() caught the exit status in ssh2's callback; an 'exit' listener added here could be too late
      void done.then((r) => resolve(`exit ${r.code}`));
    });
    if (first !== 'locked') {
      ch.close();
      throw new PreconditionError(
        `${this.node.name}: another ha-setup run holds ${PATHS.lockDir} on this host ` +
          `(${first === 'exit 75' ? 'lock busy' : first})`,
      );
    }
    this.lockChannel = ch;
  }

  get locked(): boolean {
    return this.lockChannel !== null;
  }

  unlock(): void {
    this.lockChannel?.close();
    this.lockChannel = null;
  }

  async facts(opts: { probeVips?: boolean } = {}): Promise<Facts> {
    const r = await this.conn.sh(factsScript(), factsArgs(this.cfg, this.node, opts), { timeoutMs: 60_000 });
    if (!r.stdout.includes('@@end'))
      throw new OperationError(
        `${this.node.name}: gathering facts failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
      );
    return parseFactsOutput(r.stdout);
  }

  private record(entry: ManifestEntry): Promise<void> {
    return appendManifest(this.conn, this.runDir, entry);
  }

  async begin(facts: Facts): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.record({
      type: 'start',
      runId: this.runId,
      time: new Date().toISOString(),
      services: facts.services,
      node: this.node.name,
    });
  }

  async end(ok: boolean): Promise<void> {
    if (this.started) await this.record({ type: 'end', ok, time: new Date().toISOString() });
  }

  /**
   * One round trip: copy `path` (a file, or a directory) into the run's backup set and record it in the manifest
   * — skipped when this run already backed it up — then run `script` in the same shell. The script's own
   * positional parameters start at $6 (`args`); $1 is the path. On failure the path counts as not backed up.
   */
  private async withBackup(
    path: string,
    type: 'file' | 'dir',
    script: string[],
    args: string[],
    what: string,
    opts: ExecOptions = {},
  ) {
    const first = !this.backedUp.has(path);
    const line = (existed: boolean) => JSON.stringify({ type, path, existed } satisfies ManifestEntry);
    const backup = [
      'mkdir -p "$3" && chmod 700 "$3"', // root-only before anything is copied into it
      'if { [ "$2" = dir ] && [ -d "$1" ]; } || { [ "$2" = file ] && { [ -e "$1" ] || [ -L "$1" ]; }; }; then',
      // separate commands, so that set -e stops on any of them (it ignores a failure early in an && list)
      '  mkdir -p "$(dirname "$3/files$1")"',
      '  cp -a "$1" "$3/files$1"',
      '  l=$4',
      'else l=$5; fi',
      appendManifestSh('"$3"', '"$l"'),
    ];
    this.backedUp.add(path);
    try {
      return await this.conn.mustSh(
        ['set -e', ...(first ? backup : []), ...script].join('\n'),
        [path, type, this.runDir, line(true), line(false), ...args],
        what,
        opts,
      );
    } catch (e) {
      if (first) this.backedUp.delete(path);
      throw e;
    }
  }

  async backupDir(path: string): Promise<void> {
    await this.withBackup(path, 'dir', [], [], `backing up ${path}`);
  }

  /**
   * Back up (first time in this run), then write a temp file in the same directory; without validation it is
   * renamed over the target in the same round trip, otherwise validated first. Never a partial file.
   */
  async writeFile(c: Extract<Change, { kind: 'file' }>): Promise<void> {
    const validate = c.validate ?? null;
    const r = await this.withBackup(
      c.path,
      'file',
      [
        'f=$1; d=$(dirname "$f"); mkdir -p "$d"; rm -f "$d"/.ha-setup.tmp.*; ' +
          't=$(mktemp "$d/.ha-setup.tmp.XXXXXX"); cat > "$t"; chmod "$6" "$t"',
        'if [ -e "$f" ]; then chown --reference="$f" "$t" 2>/dev/null || true; fi',
        'if [ "$7" = install ]; then mv -f "$t" "$f"; sync "$f" 2>/dev/null || true; fi',
        'echo "$t"',
      ],
      [c.mode, validate && !c.validateInPlace ? 'keep' : 'install'],
      `writing ${c.path}`,
      { stdin: c.content },
    );
    if (!validate) return;
    if (c.validateInPlace) {
      const v = await this.conn.exec(validate, { timeoutMs: 60_000 });
      if (v.code === 0) return;
      // put the previous file back (or remove the new one), as the backup recorded it
      const back = await this.conn.sh('if [ -e "$1/files$2" ]; then cp -a "$1/files$2" "$2"; else rm -f "$2"; fi', [
        this.runDir,
        c.path,
      ]);
      throw new OperationError(
        `${this.node.name}: ${validate.join(' ')} rejected the new ${c.path} (exit ${v.code}); ` +
          (back.code === 0
            ? 'the previous one was put back'
            : `putting the previous one back FAILED (exit ${back.code})`) +
          `: ` +
          lastLines(v.stderr + v.stdout),
      );
    }
    const tmp = r.stdout.trim().split('\n').pop()!;
    const v = await this.conn.exec(
      validate.map((a) => (a === '{file}' ? tmp : a)),
      { timeoutMs: 60_000 },
    );
    if (v.code !== 0) {
      await this.conn.exec(['rm', '-f', tmp]);
      const why = lastLines(v.stderr + v.stdout);
      throw new OperationError(`${this.node.name}: ${validate[0]} rejected the new ${c.path} (exit ${v.code}): ${why}`);
    }
    await this.conn.must(
      ['sh', '-c', 'mv -f "$1" "$2" && sync "$2" 2>/dev/null; true', 'sh', tmp, c.path],
      `installing ${c.path}`,
    );
  }

  /** Back up (first time in this run) and remove; with validation, put it back when the validator fails. */
  async removeFile(c: Extract<Change, { kind: 'remove-file' }>): Promise<void> {
    await this.withBackup(c.path, 'file', ['rm -f "$1"'], [], `removing ${c.path}`);
    if (!c.validate) return;
    const v = await this.conn.exec(c.validate, { timeoutMs: 60_000 });
    if (v.code === 0) return;
    const back = await this.conn.sh('cp -a "$1/files$2" "$2"', [this.runDir, c.path]);
    throw new OperationError(
      `${this.node.name}: ${c.validate.join(' ')} fails without ${c.path} (exit ${v.code}; the configuration still ` +
        `uses it?); ${back.code === 0 ? 'it was put back' : `putting it back FAILED (exit ${back.code})`}: ` +
        lastLines(v.stderr + v.stdout),
    );
  }

  async command(c: Extract<Change, { kind: 'command' }>): Promise<void> {
    await this.conn.must(c.argv, c.describe, { timeoutMs: 120_000 });
    await this.record({ type: 'command', argv: c.argv, undo: c.undo });
  }

  async install(c: Extract<Change, { kind: 'package' }>): Promise<void> {
    await this.record({ type: 'package', names: c.names });
    if (c.manager === 'apt') {
      const env = 'DEBIAN_FRONTEND=noninteractive';
      const install = `${env} apt-get install ${APT_OPTIONS.join(' ')} ${c.names.map(q).join(' ')}`;
      let r = await this.conn.run(install, { timeoutMs: 15 * 60_000 });
      if (
        r.code !== 0 &&
        /Unable to locate package|has no installation candidate|Failed to fetch|404/.test(r.stderr + r.stdout)
      ) {
        await this.conn.run(`${env} apt-get update -q`, { timeoutMs: 10 * 60_000 });
        r = await this.conn.run(install, { timeoutMs: 15 * 60_000 });
      }
      if (r.code !== 0)
        throw new OperationError(
          `${this.node.name}: apt-get install ${c.names.join(' ')} failed (exit ${r.code}): ` +
            `${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
        );
    } else {
      await this.conn.must([c.manager, 'install', '-y', ...c.names], `${c.manager} install ${c.names.join(' ')}`, {
        timeoutMs: 15 * 60_000,
      });
    }
  }

  /** a package file from the controller: pushed over this SSH connection, installed, then removed from the host */
  async installFile(c: Extract<Change, { kind: 'package-file' }>): Promise<void> {
    await this.record({ type: 'package', names: [c.name] });
    const dir = `${PATHS.stateDir}/packages`;
    await this.conn.mustSh('mkdir -p "$1" && chmod 700 "$1" && cat > "$1/$2"', [dir, c.file], `copying ${c.file}`, {
      stdin: readFileSync(c.localPath),
      timeoutMs: 10 * 60_000,
    });
    const path = `${dir}/${c.file}`;
    const argv =
      c.manager === 'apt'
        ? ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', ...APT_OPTIONS, path]
        : [c.manager, 'install', '-y', path];
    try {
      await this.conn.must(argv, `${argv.includes('apt-get') ? 'apt-get' : c.manager} install ${c.file}`, {
        timeoutMs: 15 * 60_000,
      });
    } finally {
      await this.conn.exec(['rm', '-f', path]).catch(() => undefined);
    }
  }

  async service(c: Extract<Change, { kind: 'service' }>): Promise<void> {
    if (c.action === 'daemon-reload') {
      await this.conn.must(['systemctl', 'daemon-reload'], 'systemctl daemon-reload');
      return;
    }
    await this.conn.must(['systemctl', c.action, c.name], `systemctl ${c.action} ${c.name}`, { timeoutMs: 120_000 });
    if (c.action === 'restart' || c.action === 'reload-or-restart' || c.action === 'start')
      this.restarted.push(`${c.action} ${c.name}`);
  }

  /**
   * nginx configuration: tar stream from the source host's connection into a staging directory here, then the
   * guides' rsync (-a --delete) from staging into the config dir, `nginx -t`, restore the old tree on failure.
   * Returns rsync's itemized changes.
   */
  async syncNginx(source: HostConnection, configDir: string): Promise<string[]> {
    await this.backupDir(configDir);
    const stage = (
      await this.conn.mustSh(
        'mkdir -p "$1" && mktemp -d "$1/nginx-stage.XXXXXX"',
        [PATHS.stateDir],
        'creating a staging directory',
      )
    ).stdout.trim();
    try {
      // receiver first, so the sender's output always has somewhere to go
      const dst = await this.conn.spawn(cmd(['tar', '--numeric-owner', '-C', stage, '-xpf', '-']));
      const src = await source.spawn(cmd(['tar', '--numeric-owner', '-C', configDir, '-cf', '-', '.']));
      src.ch.end(); // tar -c reads nothing: EOF on its stdin, as run() does
      dst.ch.resume(); // tar -x prints nothing, but its stdout must be drained for the channel to close
      src.ch.pipe(dst.ch);
      const [rs, rd] = await Promise.all([src.done, dst.done]);
      if (rs.code !== 0)
        throw new OperationError(
          `${source.node.name}: reading ${configDir} failed (exit ${rs.code}): ${rs.stderr.trim()}`,
        );
      if (rd.code !== 0)
        throw new OperationError(
          `${this.node.name}: receiving ${configDir} failed (exit ${rd.code}): ${rd.stderr.trim()}`,
        );
      const r = await this.conn.mustSh(
        'rsync -a --delete --itemize-changes "$1/" "$2/"',
        [stage, configDir],
        `rsync ${configDir}`,
        { timeoutMs: 120_000 },
      );
      const t = await this.conn.exec(['nginx', '-t']);
      if (t.code !== 0) {
        await this.conn.sh('rsync -a --delete "$1/files$2/" "$2/"', [this.runDir, configDir]);
        throw new OperationError(
          `${this.node.name}: nginx -t rejected the configuration copied from ${source.node.name}; ` +
            `the previous ${configDir} was restored: ${t.stderr.trim().split('\n').slice(-2).join(' | ')}`,
        );
      }
      return r.stdout.split('\n').filter(Boolean);
    } finally {
      await this.conn.exec(['rm', '-rf', stage]).catch(() => undefined);
    }
  }

  async verify(c: Extract<Change, { kind: 'verify' }>): Promise<void> {
    const r = await this.conn.exec(c.argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new OperationError(`${this.node.name}: check failed: ${c.describe}`);
  }
}

/** the last non-empty lines of a program's output, on one line */
function lastLines(text: string, n = 4): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => !/^\s*$/.test(l))
    .slice(-n)
    .join(' | ');
}

/** Append one entry to a run's manifest.jsonl on the host (the run directory is created root-only). */
async function appendManifest(conn: HostConnection, runDir: string, entry: ManifestEntry): Promise<void> {
  await conn.mustSh(appendManifestSh('"$1"', '"$2"'), [runDir, JSON.stringify(entry)], 'writing the backup manifest');
}

/** sh appending a line to a run's manifest.jsonl (the run directory created root-only); both are shell words */
function appendManifestSh(runDir: string, line: string): string {
  return `mkdir -p ${runDir} && chmod 700 ${runDir} && printf "%s\\n" ${line} >> ${runDir}/manifest.jsonl`;
}

/** Read a run's manifest from a host. */
export async function readManifest(conn: HostConnection, runDir: string): Promise<ManifestEntry[]> {
  const r = await conn.exec(['cat', `${runDir}/manifest.jsonl`]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestEntry);
}

/** Latest run directory on a host (optionally one that still can be rolled back). */
export async function latestRun(conn: HostConnection): Promise<string | null> {
  const r = await conn.sh('ls -1 "$1" 2>/dev/null | sort | tail -n 50', [PATHS.backupRoot]);
  const runs = r.stdout.split('\n').filter((l) => /^\d{8}T\d{6}Z-[a-z0-9]+$/.test(l));
  for (const run of runs.reverse()) {
    const m = await readManifest(conn, `${PATHS.backupRoot}/${run}`);
    if (
      m.some((e) => e.type === 'file' || e.type === 'dir' || e.type === 'command') &&
      !m.some((e) => e.type === 'rolledback')
    )
      return run;
  }
  return null;
}

/**
 * The service that reads a restored path: null for files no service reads at run time, 'all' when it cannot be
 * told (then every service that ran before is restarted). `dirs` are the restored directories (nginx's).
 */
export function serviceOfPath(path: string, dirs: string[]): 'keepalived' | 'nginx' | 'rsyslog' | 'all' | null {
  // keepalived runs its check and notify scripts afresh each time: restoring them needs no restart
  const unread: string[] = [PATHS.logrotate, PATHS.sysctl, PATHS.selinuxConfig, PATHS.checkScript, PATHS.notifyScript];
  if (unread.includes(path)) return null;
  if (path.startsWith('/etc/rsyslog')) return 'rsyslog'; // before keepalived: its rule file is named for it
  if (path.includes('keepalived')) return 'keepalived';
  if (path.includes('nginx') || dirs.some((d) => path === d || path.startsWith(`${d}/`))) return 'nginx';
  return 'all';
}

/**
 * Put a host back as the manifest found it: files and directories restored (or removed when they did not
 * exist), commands undone in reverse order, services returned to their earlier state. Packages stay installed.
 */
export async function restoreRun(conn: HostConnection, runDir: string): Promise<string[]> {
  const entries = await readManifest(conn, runDir);
  const done: string[] = [];
  const start = entries.find((e): e is Extract<ManifestEntry, { type: 'start' }> => e.type === 'start');
  const touched = new Set<string>();
  for (const e of [...entries].reverse()) {
    if (e.type === 'file') {
      touched.add(e.path);
      if (e.existed) {
        await conn.mustSh(
          't=$(mktemp "$(dirname "$2")/.ha-setup.tmp.XXXXXX") && cp -a "$1/files$2" "$t" && mv -f "$t" "$2"',
          [runDir, e.path],
          `restoring ${e.path}`,
        );
        done.push(`restored ${e.path}`);
      } else {
        await conn.exec(['rm', '-f', e.path]);
        done.push(`removed ${e.path} (did not exist before)`);
      }
    } else if (e.type === 'dir') {
      touched.add(e.path);
      if (e.existed) {
        await conn.mustSh('rsync -a --delete "$1/files$2/" "$2/"', [runDir, e.path], `restoring ${e.path}`);
        done.push(`restored ${e.path}/`);
      }
    } else if (e.type === 'command' && e.undo) {
      const r = await conn.exec(e.undo, { timeoutMs: 120_000 });
      done.push(`undo: ${e.undo.join(' ')}${r.code ? ` (exit ${r.code})` : ''}`);
    } else if (e.type === 'package') {
      done.push(`left installed: ${e.names.join(' ')}`);
    }
  }
  await conn.exec(['systemctl', 'daemon-reload']);
  const dirs = entries.filter((e) => e.type === 'dir').map((e) => e.path);
  const services = new Set<string>();
  let restartAll = false;
  for (const path of touched) {
    const s = serviceOfPath(path, dirs);
    if (s === 'all') restartAll = true;
    else if (s) services.add(s);
  }
  if (start) {
    for (const name of ['rsyslog', 'nginx', 'keepalived']) {
      const before = start.services[name];
      if (!before) continue;
      const now = await conn.exec(['systemctl', 'is-active', name]);
      const isActive = now.stdout.trim() === 'active';
      // a running service restarts only when a file it reads was restored (restarting keepalived for an nginx
      // file would move the VIP for nothing)
      if (before.active === 'active' && (!isActive || restartAll || services.has(name))) {
        const action = isActive ? 'restart' : 'start';
        const r = await conn.exec(['systemctl', action, name], { timeoutMs: 120_000 });
        done.push(`${action} ${name}${r.code ? ` (exit ${r.code})` : ''}`);
      } else if (before.active !== 'active' && isActive) {
        await conn.exec(['systemctl', 'stop', name], { timeoutMs: 120_000 });
        done.push(`stop ${name} (was not running before)`);
      }
      if (before.enabled === 'enabled') await conn.exec(['systemctl', 'enable', name]);
      else if (before.enabled === 'disabled') await conn.exec(['systemctl', 'disable', name]);
      else if (before.enabled === 'not-found' || before.enabled === '') {
        const en = await conn.exec(['systemctl', 'is-enabled', name]);
        if (en.stdout.trim() === 'enabled') await conn.exec(['systemctl', 'disable', name]);
      }
    }
  }
  await appendManifest(conn, runDir, { type: 'rolledback', time: new Date().toISOString() });
  return done;
}
