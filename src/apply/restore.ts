/**
 * Putting a host back as a run found it (a failed step, or `ha-setup rollback`): files and directories restored
 * from the run's backups (or removed when they did not exist), commands undone in reverse order, services returned
 * to their earlier state: started or stopped, enabled or not, and a running one reloaded or restarted only when a
 * file it reads was restored. Packages stay installed.
 */
import { PATHS, daemonOptionsFile } from '../paths.js';
import type { Conn } from '../conn.js';
import { gather } from '../facts/gather.js';
import { appendManifest, readManifest, type ManifestEntry } from './manifest.js';

/** Latest run directory on a host (optionally one that still can be rolled back). */
export async function latestRun(conn: Conn): Promise<string | null> {
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
export async function restoreRun(conn: Conn, runDir: string): Promise<string[]> {
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
  const optionsRestored = [daemonOptionsFile('debian').path, daemonOptionsFile('rhel').path].some((p) =>
    touched.has(p),
  );
  const services = new Set<string>();
  let restartAll = false;
  for (const path of touched) {
    const s = serviceOfPath(path, dirs);
    if (s === 'all') restartAll = true;
    else if (s) services.add(s);
  }
  if (start) {
    const { services: now } = await gather(conn, ['services']);
    for (const name of ['rsyslog', 'nginx', 'keepalived']) {
      const before = start.services[name];
      if (!before) continue;
      const isActive = now[name]?.active === 'active';
      // a running service restarts only when a file it reads was restored (restarting keepalived for an nginx
      // file would move the VIP for nothing)
      if (before.active === 'active' && (!isActive || restartAll || services.has(name))) {
        // keepalived and nginx re-read their configuration on a reload, which moves no VIP; keepalived's daemon
        // options need a restart
        const reload = (name === 'nginx' || (name === 'keepalived' && !optionsRestored)) && !restartAll;
        const action = !isActive ? 'start' : reload ? 'reload-or-restart' : 'restart';
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
