/**
 * Putting a host back as a run found it (a failed or interrupted step, or `ha-setup rollback`): files and
 * directories restored from the run's backups (or removed when they did not exist), commands undone and state
 * flags put back in reverse order, services returned to their earlier state: started or stopped, enabled or not,
 * and a running one reloaded or restarted only when a file it reads was restored. Packages stay installed.
 * planRestore lists the actions from the run's manifest (what `rollback --dry-run` shows); runRestoreAction runs
 * one; restoreRun does both at once.
 */
import { PATHS, daemonOptionsFile, FLAG_WRITE_SH, NGINX_STOP_UNIT } from '../paths.js';
import type { Conn } from '../conn.js';
import { gather } from '../facts/gather.js';
import type { FlagFacts, ServiceFact } from '../facts/types.js';
import type { RestoreAction } from '../plan/types.js';
import { appendManifest, readManifest, type ManifestEntry } from './manifest.js';

/** the longest one restore command may take on a host (a service restart waits for the unit) */
const RESTORE_TIMEOUT_MS = 120_000;

/** Latest run directory on a host (optionally one that still can be rolled back). */
export async function latestRun(conn: Conn): Promise<string | null> {
  const r = await conn.sh('ls -1 "$1" 2>/dev/null | sort | tail -n 50', [PATHS.backupRoot], { timeoutMs: 30_000 });
  const runs = r.stdout.split('\n').filter((l) => /^\d{8}T\d{6}Z-[a-z0-9]+$/.test(l));
  for (const run of runs.reverse()) {
    const m = await readManifest(conn, `${PATHS.backupRoot}/${run}`);
    if (
      m.some((e) => e.type === 'file' || e.type === 'dir' || e.type === 'command' || e.type === 'flag') &&
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
 * The changes of the manifest undone, newest first. A flag the run wrote several times goes straight back to the
 * value it had before the first write (replaying its history backwards would pass through the values in between,
 * and keepalived acts on each: a transient demotion moves a VIP); not at all when it has that value now (`flags`).
 */
function undoEntries(entries: ManifestEntry[], runDir: string, flags: FlagFacts | null): RestoreAction[] {
  const out: RestoreAction[] = [];
  const firstWrite = new Map<string, ManifestEntry>();
  for (const e of entries) if (e.type === 'flag' && !firstWrite.has(e.name)) firstWrite.set(e.name, e);
  for (const e of [...entries].reverse()) {
    if (e.type === 'file') {
      out.push(
        e.existed
          ? { runDir, kind: 'put-back', path: e.path, dir: false }
          : { runDir, kind: 'remove-new', path: e.path },
      );
    } else if (e.type === 'dir' && e.existed) out.push({ runDir, kind: 'put-back', path: e.path, dir: true });
    else if (e.type === 'command' && e.undo) out.push({ runDir, kind: 'undo-command', argv: e.undo });
    else if (e.type === 'flag' && firstWrite.get(e.name) === e && (flags?.[e.name] ?? null) !== (e.before ?? 0))
      out.push({ runDir, kind: 'flag-back', name: e.name, value: e.before ?? 0 });
    else if (e.type === 'package') out.push({ runDir, kind: 'left-installed', names: e.names });
  }
  return out;
}

/** keepalived, nginx and rsyslog back as the run found them (`now`: as they are), after the files */
function unitActions(entries: ManifestEntry[], runDir: string, now: Record<string, ServiceFact>): RestoreAction[] {
  const start = entries.find((e): e is Extract<ManifestEntry, { type: 'start' }> => e.type === 'start');
  if (!start) return [];
  const touched = entries.flatMap((e) => (e.type === 'file' || e.type === 'dir' ? [e.path] : []));
  const dirs = entries.filter((e) => e.type === 'dir').map((e) => e.path);
  const optionsRestored = [daemonOptionsFile('debian').path, daemonOptionsFile('rhel').path].some((p) =>
    touched.includes(p),
  );
  const services = new Set(touched.map((p) => serviceOfPath(p, dirs)));
  const restartAll = services.has('all');
  const out: RestoreAction[] = [];
  const unit = (name: string, action: Extract<RestoreAction, { kind: 'unit' }>['action'], why: string) =>
    out.push({ runDir, kind: 'unit', name, action, why });
  // the unit that signals nginx's stop to keepalived: started or stopped as it was (stopped alone it writes nothing)
  for (const name of ['rsyslog', 'nginx', NGINX_STOP_UNIT, 'keepalived']) {
    const before = start.services[name];
    if (!before) continue;
    const isActive = now[name]?.active === 'active';
    // a running service restarts only when a file it reads was restored (restarting keepalived for an nginx file
    // would move the VIP for nothing)
    if (before.active === 'active' && (!isActive || restartAll || services.has(name as 'nginx'))) {
      // keepalived and nginx re-read their configuration on a reload, which moves no VIP; keepalived's daemon
      // options need a restart
      const reload = (name === 'nginx' || (name === 'keepalived' && !optionsRestored)) && !restartAll;
      if (!isActive) unit(name, 'start', 'it ran before');
      else unit(name, reload ? 'reload-or-restart' : 'restart', 'it reads what was put back');
    } else if (before.active !== 'active' && isActive) unit(name, 'stop', 'it was not running before');
    const enabled = now[name]?.enabled;
    if (before.enabled === 'enabled' && enabled !== 'enabled') unit(name, 'enable', 'it was enabled before');
    else if (before.enabled !== 'enabled' && enabled === 'enabled')
      unit(name, 'disable', `it was ${before.enabled || 'not installed'} before`);
  }
  return out;
}

/**
 * What putting a host back from `runDir` takes, in order: every change of the manifest undone (newest first),
 * systemd reloaded, the services as they were (`now`: how they are, and the state flags, read from the host), the
 * run marked rolled back.
 */
export function planRestore(
  entries: ManifestEntry[],
  runDir: string,
  now: { services: Record<string, ServiceFact>; flags: FlagFacts | null },
): RestoreAction[] {
  return [
    ...undoEntries(entries, runDir, now.flags),
    { runDir, kind: 'unit', name: 'systemd', action: 'daemon-reload', why: '' },
    ...unitActions(entries, runDir, now.services),
    { runDir, kind: 'rolled-back' },
  ];
}

/** read the manifest, the services and the state flags now (one round trip), and plan the host's restore */
export async function readRestorePlan(
  conn: Conn,
  runDir: string,
): Promise<{ actions: RestoreAction[]; services: Record<string, ServiceFact> }> {
  const entries = await readManifest(conn, runDir);
  const now = await gather(conn, ['services', 'flags'], { STATE_DIR: PATHS.flagDir }, { timeoutMs: 30_000 });
  return { actions: planRestore(entries, runDir, now), services: now.services };
}

/** run one restore action; what was done, for the report (null: nothing worth a line) */
export async function runRestoreAction(conn: Conn, a: RestoreAction): Promise<string | null> {
  const opts = { timeoutMs: RESTORE_TIMEOUT_MS };
  const exit = (code: number) => (code ? ` (exit ${code})` : '');
  switch (a.kind) {
    case 'put-back':
      await conn.mustSh(
        a.dir
          ? 'rsync -a --delete "$1/files$2/" "$2/"'
          : 't=$(mktemp "$(dirname "$2")/.ha-setup.tmp.XXXXXX") && cp -a "$1/files$2" "$t" && mv -f "$t" "$2"',
        [a.runDir, a.path],
        `restoring ${a.path}`,
        opts,
      );
      return `restored ${a.path}${a.dir ? '/' : ''}`;
    case 'remove-new':
      await conn.exec(['rm', '-f', a.path], opts);
      return `removed ${a.path} (did not exist before)`;
    case 'undo-command':
      return `undo: ${a.argv.join(' ')}${exit((await conn.exec(a.argv, opts)).code)}`;
    case 'flag-back':
      await conn.mustSh(FLAG_WRITE_SH, [PATHS.flagDir, a.name, String(a.value)], `putting ${a.name} back`, opts);
      return `flag ${a.name} back to ${a.value}`;
    case 'left-installed':
      return `left installed: ${a.names.join(' ')}`;
    case 'unit':
      return unitAction(conn, a, opts);
    case 'rolled-back':
      await appendManifest(conn, a.runDir, { type: 'rolledback', time: new Date().toISOString() });
      return null;
  }
}

async function unitAction(
  conn: Conn,
  a: Extract<RestoreAction, { kind: 'unit' }>,
  opts: { timeoutMs: number },
): Promise<string | null> {
  if (a.action === 'daemon-reload') {
    await conn.exec(['systemctl', 'daemon-reload'], opts);
    return null;
  }
  const r = await conn.exec(['systemctl', a.action, a.name], opts);
  const code = r.code ? ` (exit ${r.code})` : '';
  if (a.action === 'stop') return `stop ${a.name} (was not running before)${code}`;
  if (a.action === 'enable' || a.action === 'disable') return `${a.action} ${a.name} (${a.why})${code}`;
  return `${a.action} ${a.name}${code}`;
}

/** Put a host back as the manifest found it (restore.ts's header); what was done, one line each. */
export async function restoreRun(conn: Conn, runDir: string): Promise<string[]> {
  const done: string[] = [];
  for (const a of (await readRestorePlan(conn, runDir)).actions) {
    const line = await runRestoreAction(conn, a);
    if (line) done.push(line);
  }
  return done;
}
