/**
 * import's facts run by a real sh on this machine: the file checks (file_check, bin_check) on temporary files,
 * nginx -T run only for a binary that passes them (systemctl and nginx replaced by stubs that leave a mark when
 * run), the keepalived processes and binaries of processes started here (a copy of sleep named keepalived, with the
 * strings a keepalived binary holds appended: root's, another user's, a deleted one), and the globs read.
 *
 * Not covered here: an access control list on a file (no setfacl on this machine); a file of another owner when the
 * tests do not run as root (chown needs root); a process of another user likewise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  appendFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globsVar, parseFileEntries } from '../../src/facts/file-entries.js';
import { gatherArgs, gatherScript, parseGathered } from '../../src/facts/gather.js';
import { BIN_CHECK_SH } from '../../src/facts/safe-file.js';
import type { FactName, FactVars } from '../../src/facts/table.js';
import { removeSafeDirs, safeDir } from '../helpers/safe-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'ha-import-facts-'));
// another user runs a binary in here
chmodSync(tmp, 0o755);
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
  removeSafeDirs();
});
const root = process.getuid?.() === 0;

/** a directory of stub commands put first on PATH */
function stubs(cmds: Record<string, string>): string {
  const d = mkdtempSync(join(tmp, 'bin-'));
  for (const [n, body] of Object.entries(cmds)) {
    writeFileSync(join(d, n), `#!/bin/sh\n${body}\n`);
    chmodSync(join(d, n), 0o755);
  }
  return d;
}

/** the facts as gather() reads them, by a real sh */
function facts<N extends FactName>(names: N[], vars: FactVars = {}, path = '') {
  const r = spawnSync('sh', ['-c', gatherScript(names), 'sh', ...gatherArgs(vars)], {
    encoding: 'utf8',
    env: { PATH: `${path}${path ? ':' : ''}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
  });
  expect(r.stdout).toContain('@@end');
  return parseGathered(names, r.stdout);
}

/** bin_check's or file_check's answer for a path */
function check(fn: 'file_check' | 'bin_check', path: string): string {
  return spawnSync('sh', ['-c', `${BIN_CHECK_SH}\n${fn} "$1"`, 'sh', path], { encoding: 'utf8' }).stdout.trim();
}

function exec(path: string, body = '#!/bin/sh\n'): string {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
  return path;
}

describe('file_check / bin_check: only a file nobody but root can have written', () => {
  const safe = safeDir();

  it('a root-owned file, not group/world-writable, in directories likewise: its resolved path', () => {
    const f = exec(join(safe, 'run.sh'));
    expect(check('file_check', f)).toBe(`ok ${f}`);
    symlinkSync(f, join(safe, 'link'));
    expect(check('file_check', join(safe, 'link'))).toBe(`ok ${f}`);
  });

  it('refused: writable by group or others, in such a directory, under /tmp, not a file, missing', () => {
    const g = exec(join(safe, 'group.sh'));
    chmodSync(g, 0o775);
    expect(check('file_check', g)).toBe('no it is writable by group or others (mode 775)');
    // a link to it is no better
    symlinkSync(g, join(safe, 'to-group'));
    expect(check('file_check', join(safe, 'to-group'))).toBe('no it is writable by group or others (mode 775)');
    mkdirSync(join(safe, 'open'));
    chmodSync(join(safe, 'open'), 0o777);
    const o = exec(join(safe, 'open', 'x.sh'));
    expect(check('file_check', o)).toBe(
      `no its directory ${join(safe, 'open')} is writable by group or others (mode 777)`,
    );
    const t = exec(join(tmp, 'x.sh'));
    expect(check('file_check', t)).toMatch(/^no its directory \/tmp is writable by group or others \(mode 1777\)$/);
    expect(check('file_check', safe)).toBe('no it is not a regular file');
    expect(check('file_check', join(safe, 'none'))).toBe('no it does not exist');
    symlinkSync(join(safe, 'gone'), join(safe, 'dangling'));
    expect(check('file_check', join(safe, 'dangling'))).toBe('no it does not exist');
  });

  it("refused: another user's file (as root: chown); a file of the user running the check is accepted", () => {
    const f = exec(join(safe, 'theirs.sh'));
    if (root) {
      chownSync(f, 1000, 1000);
      expect(check('file_check', f)).toBe('no it is owned by uid 1000, not root');
    } else expect(check('file_check', f)).toBe(`ok ${f}`);
  });

  it("bin_check: a package's file only (the given path or the one it resolves to)", () => {
    const f = exec(join(safe, 'nginx'));
    expect(check('bin_check', f)).toBe('no it is not owned by a package');
    expect(check('bin_check', '/usr/sbin/keepalived')).toBe('ok /usr/sbin/keepalived');
    // Debian 12 merged /usr: dpkg knows /bin/echo, which resolves to /usr/bin/echo
    expect(check('bin_check', '/bin/echo')).toBe('ok /usr/bin/echo');
  });
});

describe('nginxdump: nginx -T only of a safe binary, with the configuration the unit names', () => {
  const safe = safeDir();
  const mark = join(tmp, 'nginx-ran');
  const fakeNginx = (path: string) => exec(path, `#!/bin/sh\ntouch '${mark}'\n`);
  /** systemctl showing an nginx unit that starts `bin` with `args` */
  const unit = (bin: string, args: string) =>
    stubs({
      systemctl: `echo 'ExecStart={ path=${bin} ; argv[]=${bin} ${args} ; ignore_errors=no ; pid=0 }'`,
    });

  it("the unit's binary with the unit's -c, whatever a process's argv says", () => {
    // a process that looks like nginx's master with another -c (import once took -c from there)
    const p = spawn('bash', ['-c', 'exec -a "nginx: master process /usr/sbin/nginx -c /tmp/evil.conf" sleep 20']);
    procs.push(p);
    const f = facts(['nginxdump'], {}, unit('/bin/echo', '-g daemon on; master_process on; -c /etc/nginx/unit.conf'));
    expect(f.nginxdump).toEqual({
      state: 'ran',
      binary: '/bin/echo',
      conf: '/etc/nginx/unit.conf',
      rc: 0,
      out: '-T -c /etc/nginx/unit.conf\n',
      err: '',
    });
    // -c attached, after other options (nginx reads "-qc/x" as -q -c /x)
    expect(facts(['nginxdump'], {}, unit('/bin/echo', '-qc/etc/nginx/b.conf')).nginxdump).toMatchObject({
      conf: '/etc/nginx/b.conf',
    });
  });

  it('not run: group-writable, in a world-writable directory, not of a package, of another owner', () => {
    const g = fakeNginx(join(safe, 'nginx-g'));
    chmodSync(g, 0o775);
    expect(facts(['nginxdump'], {}, unit(g, '')).nginxdump).toEqual({
      state: 'unsafe',
      binary: g,
      why: 'it is writable by group or others (mode 775)',
    });
    // no unit: the nginx on PATH, here in a directory under /tmp
    const onPath = stubs({ systemctl: 'exit 0' });
    fakeNginx(join(onPath, 'nginx'));
    expect(facts(['nginxdump'], {}, onPath).nginxdump).toMatchObject({
      state: 'unsafe',
      why: 'its directory /tmp is writable by group or others (mode 1777)',
    });
    const n = fakeNginx(join(safe, 'nginx-n'));
    expect(facts(['nginxdump'], {}, unit(n, '')).nginxdump).toMatchObject({ why: 'it is not owned by a package' });
    if (root) {
      const o = fakeNginx(join(safe, 'nginx-o'));
      chownSync(o, 1000, 1000);
      expect(facts(['nginxdump'], {}, unit(o, '')).nginxdump).toMatchObject({
        why: 'it is owned by uid 1000, not root',
      });
    }
    expect(existsSync(mark)).toBe(false);
  });
});

describe('kaprocs / kabins: processes named keepalived, binaries read and never run', () => {
  /** a copy of sleep named keepalived holding a keepalived binary's version and configure strings */
  function fakeKeepalived(dir: string, version: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const f = join(dir, 'keepalived');
    copyFileSync('/bin/sleep', f);
    appendFileSync(f, Buffer.from(`\0Keepalived v${version} (01/01,2099)\0--prefix=/opt/ka --sysconfdir=/etc\0`));
    chmodSync(f, 0o755);
    return f;
  }
  const start = (f: string, opts: { uid?: number; gid?: number } = {}) => {
    const p = spawn(f, ['20'], opts);
    procs.push(p);
    return p.pid!;
  };

  it("root's are the daemon's candidates (a deleted one read through /proc); another user's is listed only", () => {
    const mine = fakeKeepalived(join(tmp, 'root'), '9.9.1');
    const pid = start(mine);
    const gone = fakeKeepalived(join(tmp, 'gone'), '9.9.2');
    const gonePid = start(gone);
    rmSync(gone);
    const users = fakeKeepalived(join(tmp, 'user'), '9.9.3');
    const userPid = root ? start(users, { uid: 65534, gid: 65534 }) : 0;
    const f = facts(['kaprocs', 'kabins'], {}, stubs({ systemctl: 'exit 0' }));
    const ours = f.kaprocs.filter((p) => [pid, gonePid, userPid].includes(p.pid));
    expect(ours.find((p) => p.pid === pid)).toMatchObject({ exe: mine, deleted: false, argv: [mine, '20'] });
    expect(ours.find((p) => p.pid === gonePid)).toMatchObject({ exe: gone, deleted: true });
    const bins = f.kabins.filter((b) => b.path.startsWith(tmp));
    expect(bins).toEqual([
      ...[
        { path: mine, deleted: false, v: '9.9.1', pid },
        { path: gone, deleted: true, v: '9.9.2', pid: gonePid },
      ]
        .sort((a, b) => String(a.pid).localeCompare(String(b.pid)))
        .map((b) => ({
          from: `pid:${b.pid}`,
          path: b.path,
          deleted: b.deleted,
          versionLine: `Keepalived v${b.v} (01/01,2099)`,
          build: '--prefix=/opt/ka --sysconfdir=/etc',
        })),
    ]);
    if (root) {
      expect(ours.find((p) => p.pid === userPid)).toMatchObject({ uid: 65534, euid: 65534, exe: users });
      expect(f.kabins.some((b) => b.path === users)).toBe(false);
    }
    // keepalived installed on this machine (on PATH, or running): its package, its version and build read from the file
    expect(f.kabins.find((b) => b.path === '/usr/sbin/keepalived')).toMatchObject({
      path: '/usr/sbin/keepalived',
      pkg: { name: 'keepalived' },
      versionLine: expect.stringMatching(/^Keepalived v2\.\d+\.\d+ \(/),
      build: expect.stringContaining('--prefix=/usr'),
    });
  });
});

describe('globs: expanded on the host, relative to a directory, every file whole', () => {
  it('entries for each glob in order, with the scripts a file names', () => {
    const dir = mkdtempSync(join(tmp, 'conf-'));
    mkdirSync(join(dir, 'conf.d/sub.conf'), { recursive: true });
    writeFileSync(join(dir, 'keepalived.conf'), `vrrp_script c {\n  script "/bin/sh ${join(dir, 'chk.sh')}"\n}\n`);
    writeFileSync(join(dir, 'conf.d/a b.conf'), 'router_id "\u00e9t\u00e9"\n');
    writeFileSync(join(dir, 'conf.d/x.conf'), 'x\n');
    chmodSync(join(dir, 'conf.d/x.conf'), 0o755);
    writeFileSync(join(dir, 'chk.sh'), '#!/bin/sh\nkillall -0 nginx\n');
    const reads = [
      { dir, glob: 'conf.d/*.conf' },
      { dir: '/', glob: join(dir, 'keepalived.conf') },
      { dir: '/', glob: '/none/*' },
    ];
    const { globs } = facts(['globs'], { GLOBS: globsVar(reads) });
    expect(globs.map((g) => [g.dir, g.glob])).toEqual(reads.map((r) => [r.dir, r.glob]));
    expect(globs[0].files.map((e) => [e.path.slice(dir.length), e.text, e.skip])).toEqual([
      ['/conf.d/a b.conf', 'router_id "\u00e9t\u00e9"\n', undefined],
      ['/conf.d/sub.conf', '', 'a directory'],
      ['/conf.d/x.conf', 'x\n', 'executable (mode 755): keepalived reads only non-executable files'],
    ]);
    expect(globs[1].files.map((e) => [e.path.slice(dir.length), !!e.script])).toEqual([
      ['/keepalived.conf', false],
      ['/chk.sh', true],
    ]);
    expect(globs[2].files).toEqual([]);
    expect(parseFileEntries('')).toEqual([]);
  });
});
