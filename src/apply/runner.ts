/**
 * Acting on one host: the lock, backups, atomic writes, commands, packages, services. Every file is backed up under
 * /var/backups/ha-setup/<run>/files<path> BEFORE it changes, and the run's manifest.jsonl records each change so a
 * failed step (or `ha-setup rollback`) can put the host back (restore.ts). Each change is executed as planned; a
 * fact that turns out different from what the plan assumed (a file changed since it was read, another keepalived
 * version installed) stops the node's run before the next change (FactChanged).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ResolvedNode } from '../answers/resolve.js';
import { noEpoch } from '../answers/packages.js';
import { OperationError, PreconditionError } from '../errors.js';
import { checkedArgv } from '../facts/safe-file.js';
import { FACTS, factSh } from '../facts/table.js';
import type { ServiceFact } from '../facts/types.js';
import { FLAG_WRITE_SH, PATHS } from '../paths.js';
import { lastLines } from '../printable.js';
import type { Change } from '../steps/types.js';
import type { Conn, ExecOptions } from '../conn.js';
import { cmd, q } from '../ssh/shell.js';
import {
  BEAT_S,
  describeHolder,
  LOCK_SH,
  lockHolder,
  parseLockReply,
  staleReason,
  type LockAttempt,
  type LockHolder,
  type LockRequest,
} from './lock.js';
import { appendManifest, appendManifestSh, type ManifestEntry } from './manifest.js';

/** what the plan assumed differs from what the host has when the change runs */
export class FactChanged extends OperationError {}

/** the longest a file write, a backup or a small command of the runner may take on a host */
export const WRITE_TIMEOUT_MS = 60_000;

/** apt-get never asks, and keeps a configuration file the operator changed (dpkg's conffile prompt) */
const APT_OPTIONS = ['-y', '-q', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];

export class HostRunner {
  readonly runDir: string;
  private backedUp = new Set<string>();
  private lockChannel: { close(): void } | null = null;
  private lockLost = false;
  private started = false;
  restarted: string[] = [];

  constructor(
    readonly conn: Conn,
    readonly node: ResolvedNode,
    readonly runId: string,
  ) {
    this.runDir = `${PATHS.backupRoot}/${runId}`;
  }

  /**
   * Take ha-setup's lock on this host (lock.ts) for `req`'s command: a busy lock is waited for up to req.waitS, then
   * refused naming its holder; a holder whose controller is gone (staleReason) is ended and its lock taken over,
   * which `onNote` is told. `takeOver` (after a reconnect) ends this run's own holder from the dead connection first,
   * which sshd may not notice for a long time.
   */
  async lock(req: LockRequest, opts: { takeOver?: boolean; onNote?: (text: string) => void } = {}): Promise<void> {
    const holder = lockHolder(this.runId, req);
    const deadline = Date.now() + (req.waitS ?? 0) * 1000;
    let victim = opts.takeOver ? this.runId : '';
    for (;;) {
      const a = await this.tryLock(holder, victim);
      if (a.kind === 'locked') return;
      if (a.kind !== 'busy')
        throw new PreconditionError(
          `${this.node.name}: ha-setup's lock cannot be taken: ${a.kind === 'unsafe' ? a.why : a.why}`,
        );
      const stale = staleReason(a);
      if (stale && victim !== (a.holder?.run ?? '')) {
        opts.onNote?.(`${this.node.name}: took over the lock of ${describeHolder(a)}: ${stale}`);
        victim = a.holder?.run ?? '';
        if (victim) continue;
      }
      if (Date.now() >= deadline)
        throw new PreconditionError(
          `${this.node.name}: another ha-setup run holds the lock on this host: ${describeHolder(a)}` +
            (req.waitS ? ` (waited ${req.waitS} s)` : '; --wait-lock SECONDS waits for it'),
        );
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async tryLock(holder: LockHolder, victim: string): Promise<LockAttempt> {
    const b64 = Buffer.from(JSON.stringify(holder)).toString('base64');
    const { ch, done } = await this.conn.spawn(
      cmd(['sh', '-c', LOCK_SH, 'sh', PATHS.lockDir, this.runId, b64, victim, victim ? '10' : '0']),
    );
    const first = await new Promise<string>((resolve) => {
      let buf = '';
      ch.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')).trim());
      });
      // spawn() caught the exit status in ssh2's callback; an 'exit' listener added here could be too late
      void done.then((r) => resolve(buf.trim() || `exit ${r.code}`));
    });
    const a = parseLockReply(first);
    if (a.kind !== 'locked') {
      ch.close();
      return a;
    }
    this.lockChannel = ch;
    // the beat: a line every few seconds tells the host this run is alive; the channel closing under us means the
    // lock is gone (the connection dropped): nothing more may change on this host
    const beat = setInterval(() => {
      try {
        ch.write('\n');
      } catch {
        /* the close handler below records the loss */
      }
    }, BEAT_S * 1000);
    beat.unref?.();
    ch.on('close', () => {
      clearInterval(beat);
      if (this.lockChannel === ch) {
        this.lockChannel = null;
        this.lockLost = true;
      }
    });
    return a;
  }

  get locked(): boolean {
    return this.lockChannel !== null;
  }

  /** it held the lock and lost it (its channel closed with the connection) */
  get lostLock(): boolean {
    return this.lockLost;
  }

  unlock(): void {
    const ch = this.lockChannel;
    this.lockChannel = null;
    ch?.close();
  }

  /** a run that held the lock and lost it (its channel closed) changes nothing more on this host */
  private held(): void {
    if (this.lockLost)
      throw new OperationError(
        `${this.node.name}: ha-setup's lock on this host was lost (its SSH channel closed): nothing more is ` +
          'changed there',
      );
  }

  private record(entry: ManifestEntry): Promise<void> {
    return appendManifest(this.conn, this.runDir, entry);
  }

  /** the first change of the run on this host records how its services were (a restore returns them to it) */
  async begin(services: Record<string, ServiceFact>): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.record({
      type: 'start',
      runId: this.runId,
      time: new Date().toISOString(),
      services,
      node: this.node.name,
    });
  }

  get begun(): boolean {
    return this.started;
  }

  /** this run goes on on a new connection (a reconnect): what the old runner began and backed up carries over */
  carryOn(old: HostRunner): void {
    this.started = old.started;
    old.backedUp.forEach((p) => this.backedUp.add(p));
    this.restarted = old.restarted;
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
    opts: ExecOptions & { pre?: string[] } = {},
  ) {
    this.held();
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
      const r = await this.conn.sh(
        ['set -e', ...(opts.pre ?? []), ...(first ? backup : []), ...script].join('\n'),
        [path, type, this.runDir, line(true), line(false), ...args],
        { timeoutMs: WRITE_TIMEOUT_MS, ...opts },
      );
      if (r.code === 75) throw new FactChanged(`${this.node.name}: ${lastLines(r.stderr, 1) || `${path} changed`}`);
      if (r.code !== 0)
        throw new OperationError(
          `${this.node.name}: ${what} failed (exit ${r.code}): ` + lastLines(r.stderr || r.stdout, 3),
        );
      return r;
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
      [c.mode, validate && !c.validateInPlace ? 'keep' : 'install', expectedHash(c.before)],
      `writing ${c.path}`,
      { stdin: c.content, pre: [CAS_SH] },
    );
    if (!validate) return;
    if (c.validateInPlace) {
      const v = await this.conn.exec(validator(validate), { timeoutMs: 60_000 });
      if (v.code === 0) return;
      // put the previous file back (or remove the new one), as the backup recorded it
      const back = await this.conn.sh(
        'if [ -e "$1/files$2" ]; then cp -a "$1/files$2" "$2"; else rm -f "$2"; fi',
        [this.runDir, c.path],
        { timeoutMs: WRITE_TIMEOUT_MS },
      );
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
    const v = await this.conn.exec(validator(validate.map((a) => (a === '{file}' ? tmp : a))), { timeoutMs: 60_000 });
    if (v.code !== 0) {
      await this.conn.exec(['rm', '-f', tmp], { timeoutMs: WRITE_TIMEOUT_MS });
      const why = lastLines(v.stderr + v.stdout);
      throw new OperationError(`${this.node.name}: ${validate[0]} rejected the new ${c.path} (exit ${v.code}): ${why}`);
    }
    await this.conn.must(
      ['sh', '-c', 'mv -f "$1" "$2" && sync "$2" 2>/dev/null; true', 'sh', tmp, c.path],
      `installing ${c.path}`,
      { timeoutMs: WRITE_TIMEOUT_MS },
    );
  }

  /** Back up (first time in this run) and remove; with validation, put it back when the validator fails. */
  async removeFile(c: Extract<Change, { kind: 'remove-file' }>): Promise<void> {
    await this.withBackup(c.path, 'file', ['rm -f "$1"'], ['', '', expectedHash(c.before)], `removing ${c.path}`, {
      pre: [CAS_SH],
    });
    if (!c.validate) return;
    const v = await this.conn.exec(validator(c.validate), { timeoutMs: 60_000 });
    if (v.code === 0) return;
    const back = await this.conn.sh('cp -a "$1/files$2" "$2"', [this.runDir, c.path], {
      timeoutMs: WRITE_TIMEOUT_MS,
    });
    throw new OperationError(
      `${this.node.name}: ${c.validate.join(' ')} fails without ${c.path} (exit ${v.code}; the configuration still ` +
        `uses it?); ${back.code === 0 ? 'it was put back' : `putting it back FAILED (exit ${back.code})`}: ` +
        lastLines(v.stderr + v.stdout),
    );
  }

  /**
   * Write state flag `name` (0 or 1) where keepalived watches it, in one round trip with the manifest entry that
   * records the value it had (a restore, or `rollback`, puts that back); returns that value (null: no flag file).
   */
  async flag(name: string, on: boolean): Promise<number | null> {
    this.held();
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new OperationError(`${this.node.name}: not a state flag: ${name}`);
    const r = await this.conn.mustSh(
      [
        'set -e',
        'if [ -f "$1/$2" ]; then b=$(tr -cd 0-9 < "$1/$2" | head -c 9); b=${b:-0}; else b=null; fi',
        'l=$(printf \'{"type":"flag","name":"%s","before":%s}\' "$2" "$b")',
        appendManifestSh('"$4"', '"$l"'),
        FLAG_WRITE_SH,
        'echo "$b"',
      ].join('\n'),
      [PATHS.flagDir, name, on ? '1' : '0', this.runDir],
      `${on ? 'setting' : 'clearing'} the ${name} flag`,
      { timeoutMs: WRITE_TIMEOUT_MS },
    );
    const before = r.stdout.trim().split('\n').pop() ?? 'null';
    return before === 'null' ? null : Number(before);
  }

  async command(c: Extract<Change, { kind: 'command' }>): Promise<void> {
    this.held();
    await this.conn.must(c.argv, c.describe, { timeoutMs: 120_000 });
    await this.record({ type: 'command', argv: c.argv, undo: c.undo });
  }

  async install(c: Extract<Change, { kind: 'package' }>): Promise<void> {
    this.held();
    await this.record({ type: 'package', names: c.names });
    if (c.upgrade) await this.upgrade(c.manager, 'keepalived', c.upgrade.to);
    else if (c.manager === 'apt') {
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
            `${lastLines(r.stderr || r.stdout, 3)}`,
        );
    } else {
      await this.conn.must([c.manager, 'install', '-y', ...c.names], `${c.manager} install ${c.names.join(' ')}`, {
        timeoutMs: 15 * 60_000,
      });
    }
    if (c.names.includes('keepalived')) await this.checkVersion(c.expectVersion);
  }

  /**
   * packages.upgrade: exactly the version the plan saw in the repositories (not whatever is newest by now), then
   * checked in full (a release-only upgrade keeps the x.y.z the version check compares; yum may also do nothing and
   * exit 0). dnf and yum get NAME-VERSION-RELEASE: yum 3 reads an epoch only with the architecture
   */
  private async upgrade(manager: 'apt' | 'dnf' | 'yum', name: 'keepalived', to: string): Promise<void> {
    const argv =
      manager === 'apt'
        ? ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', ...APT_OPTIONS, `${name}=${to}`]
        : [manager, 'upgrade', '-y', `${name}-${noEpoch(to)}`];
    await this.conn.must(argv, `${manager === 'apt' ? 'apt-get' : manager} upgrade ${name} to ${to}`, {
      timeoutMs: 15 * 60_000,
    });
    const r = await this.conn.run(FACTS.packages.sh, { timeoutMs: 30_000 });
    const now = FACTS.packages.parse(r.stdout)[name];
    if (!now || noEpoch(now) !== noEpoch(to))
      throw new OperationError(
        `${this.node.name}: ${argv.slice(argv.indexOf(manager === 'apt' ? 'apt-get' : manager)).join(' ')} ` +
          `left ${name} ${now ?? '(none)'} installed, not ${to}`,
      );
  }

  /** the plan rendered keepalived.conf for the version it expected: another one stops the node's run */
  private async checkVersion(expected: string | null | undefined): Promise<void> {
    if (!expected) return;
    const r = await this.conn.run(factSh(FACTS.kaversion), { timeoutMs: 30_000 });
    const got = FACTS.kaversion.parse(r.stdout);
    if (got !== expected)
      throw new FactChanged(
        `${this.node.name}: keepalived ${got ?? '(none)'} was installed where the plan expected ${expected} ` +
          '(its configuration was rendered for that version): run init again to plan for what is installed',
      );
  }

  /** a package file from the controller: pushed over this SSH connection, installed, then removed from the host */
  async installFile(c: Extract<Change, { kind: 'package-file' }>): Promise<void> {
    this.held();
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
      await this.conn.exec(['rm', '-f', path], { timeoutMs: WRITE_TIMEOUT_MS }).catch(() => undefined);
    }
    if (c.name === 'keepalived') await this.checkVersion(c.expectVersion);
  }

  async service(c: Extract<Change, { kind: 'service' }>): Promise<void> {
    this.held();
    if (c.action === 'daemon-reload') {
      await this.conn.must(['systemctl', 'daemon-reload'], 'systemctl daemon-reload', { timeoutMs: 120_000 });
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
  async syncNginx(source: Conn, configDir: string): Promise<string[]> {
    await this.backupDir(configDir);
    const stage = (
      await this.conn.mustSh(
        'mkdir -p "$1" && mktemp -d "$1/nginx-stage.XXXXXX"',
        [PATHS.stateDir],
        'creating a staging directory',
        { timeoutMs: WRITE_TIMEOUT_MS },
      )
    ).stdout.trim();
    try {
      // receiver first, so the sender's output always has somewhere to go
      const dst = await this.conn.spawn(cmd(['tar', '--numeric-owner', '-C', stage, '-xpf', '-']));
      const src = await source.spawn(cmd(['tar', '--numeric-owner', '-C', configDir, '-cf', '-', '.']));
      src.ch.end(); // tar -c reads nothing: EOF on its stdin, as run() does
      dst.ch.resume(); // tar -x prints nothing, but its stdout must be drained for the channel to close
      src.ch.pipe(dst.ch);
      const [rs, rd] = await bounded(
        Promise.all([src.done, dst.done]),
        STREAM_TIMEOUT_MS,
        () => {
          src.ch.close();
          dst.ch.close();
        },
        `${this.node.name}: copying ${configDir} from ${source.node.name} did not end within ` +
          `${STREAM_TIMEOUT_MS / 1000} s`,
      );
      if (rs.code !== 0)
        throw new OperationError(
          `${source.node.name}: reading ${configDir} failed (exit ${rs.code}): ${lastLines(rs.stderr)}`,
        );
      if (rd.code !== 0)
        throw new OperationError(
          `${this.node.name}: receiving ${configDir} failed (exit ${rd.code}): ${lastLines(rd.stderr)}`,
        );
      const r = await this.conn.mustSh(
        'rsync -a --delete --itemize-changes "$1/" "$2/"',
        [stage, configDir],
        `rsync ${configDir}`,
        { timeoutMs: 120_000 },
      );
      const t = await this.conn.exec(validator(['nginx', '-t']), { timeoutMs: WRITE_TIMEOUT_MS });
      if (t.code !== 0) {
        await this.conn.sh('rsync -a --delete "$1/files$2/" "$2/"', [this.runDir, configDir], { timeoutMs: 120_000 });
        throw new OperationError(
          `${this.node.name}: nginx -t rejected the configuration copied from ${source.node.name}; ` +
            `the previous ${configDir} was restored: ${lastLines(t.stderr, 2)}`,
        );
      }
      return r.stdout.split('\n').filter(Boolean);
    } finally {
      await this.conn.exec(['rm', '-rf', stage], { timeoutMs: WRITE_TIMEOUT_MS }).catch(() => undefined);
    }
  }

  async verify(c: Extract<Change, { kind: 'verify' }>): Promise<void> {
    const r = await this.conn.exec(c.argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new OperationError(`${this.node.name}: check failed: ${c.describe}`);
  }
}

/**
 * a validator's argv as it runs: keepalived and nginx by the path root's PATH finds, only when nobody but root can
 * change that file (checkedArgv; init's preflight refuses such a host already: this holds for what changed since)
 */
function validator(argv: readonly string[]): readonly string[] {
  return argv[0] === 'keepalived' || argv[0] === 'nginx' ? checkedArgv(argv) : argv;
}

/** the longest the nginx sync's tar stream between two hosts may take */
const STREAM_TIMEOUT_MS = 5 * 60_000;

/** `p`, or an OperationError `why` after `ms` (then `stop` is called: the streams are closed) */
async function bounded<T>(p: Promise<T>, ms: number, stop: () => void, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => {
      stop();
      reject(new OperationError(why));
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * compare-and-swap: the file must still be what the plan read ($8: its sha256, "absent", or "any" when an earlier
 * change of the plan may have written it); exit 75 otherwise, before anything changed
 */
const CAS_SH = [
  'if [ "$8" != any ]; then',
  '  if [ -e "$1" ] || [ -L "$1" ]; then cur=$(sha256sum < "$1" | cut -c1-64); else cur=absent; fi',
  '  if [ "$cur" != "$8" ]; then echo "$1 changed since the plan was made: nothing written" >&2; exit 75; fi',
  'fi',
].join('\n');

export function expectedHash(before: string | null | 'unknown'): string {
  if (before === 'unknown') return 'any';
  if (before === null) return 'absent';
  return createHash('sha256').update(before, 'utf8').digest('hex');
}
