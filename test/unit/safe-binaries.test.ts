/**
 * ha-setup runs the keepalived and nginx it manages as root only from a file nobody but root can change (ha_bin of
 * src/facts/safe-file.ts): the facts that run them (kaversion, katest, nginxtest), the apply's validators
 * (checkedArgv) and the 1.x check (validate-keepalived-1x.sh), each run by a real sh on this machine with stubs that
 * leave a mark when run; the bins fact says why not (root's PATH, and the binaries their units start), and init's
 * preflight refuses such a host with that line.
 *
 * The stubs live under safeDir() (a directory only the user running the tests can write, as root's are), made
 * group-writable where a test needs it; this machine's own keepalived and nginx are in /usr/sbin.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { gatherArgs, gatherScript, parseGathered } from '../../src/facts/gather.js';
import { checkedArgv } from '../../src/facts/safe-file.js';
import type { FactName, FactVars } from '../../src/facts/table.js';
import { preflight } from '../../src/plan/preflight.js';
import { validateScript1x } from '../../src/steps/keepalived-config.js';
import { pair } from '../fixtures/answers.js';
import { fresh } from '../fixtures/facts.js';
import { removeSafeDirs, safeDir } from '../helpers/safe-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'ha-safe-bins-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  removeSafeDirs();
});
const mark = join(tmp, 'ran');
beforeEach(() => rmSync(mark, { force: true }));

const SYSTEM = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NOT_RUN = 'not run (ha-setup runs as root only a binary nobody but root can change)';

/** a keepalived or nginx that leaves the mark when run, and answers as one */
function payload(path: string, mode = 0o755): string {
  writeFileSync(
    path,
    '#!/bin/sh\n' +
      `echo "$0 $*" >> '${mark}'\n` +
      'case "$1" in --version) echo "Keepalived v2.2.7 (01/16,2022)" >&2 ;; esac\n' +
      'echo "configuration file test is successful" >&2\n',
  );
  chmodSync(path, mode);
  return path;
}

/** a directory of binaries (mode 0755 unless told) */
function binDir(parent: string, name: string, mode = 0o755): string {
  const d = join(parent, name);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
}

/** the facts as gather() reads them, by a real sh with `path` first on root's PATH */
function facts<N extends FactName>(names: N[], path: string, vars: FactVars = {}) {
  const r = spawnSync('sh', ['-c', gatherScript(names), 'sh', ...gatherArgs(vars)], {
    encoding: 'utf8',
    env: { PATH: `${path}:${SYSTEM}` },
  });
  expect(r.stdout).toContain('@@end');
  return parseGathered(names, r.stdout);
}

describe('the facts run keepalived and nginx only from a file nobody but root can change', () => {
  const safe = safeDir();
  const conf = join(safe, 'keepalived.conf');
  writeFileSync(conf, 'global_defs {\n}\n');
  const RUNNERS = ['kaversion', 'katest', 'nginxtest', 'bins'] as const;

  it('group-writable keepalived and nginx first on the PATH: nothing runs them; bins says why, one line each', () => {
    const gw = binDir(safe, 'gw');
    const ka = payload(join(gw, 'keepalived'), 0o775);
    const ngx = payload(join(gw, 'nginx'), 0o775);
    const f = facts([...RUNNERS], gw, { CONF: conf });
    expect(existsSync(mark)).toBe(false);
    expect([f.kaversion, f.katest, f.nginxtest]).toEqual([null, null, null]);
    expect(f.bins).toEqual([
      { via: 'keepalived', refused: `keepalived at ${ka} is writable by group or others (mode 775)` },
      { via: 'nginx', refused: `nginx at ${ngx} is writable by group or others (mode 775)` },
    ]);
    // the same files, only root able to change them: run (by their resolved path), as the payload proves
    chmodSync(ka, 0o755);
    chmodSync(ngx, 0o755);
    const ok = facts([...RUNNERS], gw, { CONF: conf });
    expect(existsSync(mark)).toBe(true);
    expect(ok.kaversion).toBe('2.2.7');
    expect(ok.katest).toEqual({ ok: true, code: 0, firstError: null });
    expect(ok.nginxtest).toEqual({ ok: true, code: 0, firstError: null });
    expect(ok.bins).toEqual([
      { via: 'keepalived', path: ka },
      { via: 'nginx', path: ngx },
    ]);
  });

  it('a directory above it others can write, a link to a group-writable file: refused, the link resolved', () => {
    const open = binDir(safe, 'open', 0o777);
    const ka = payload(join(open, 'keepalived'));
    expect(facts(['kaversion', 'bins'], open)).toEqual({
      kaversion: null,
      bins: [
        {
          via: 'keepalived',
          refused: `keepalived at ${ka}: its directory ${open} is writable by group or others (mode 777)`,
        },
        { via: 'nginx', path: '/usr/sbin/nginx' },
      ],
    });
    const gw = binDir(safe, 'gw2');
    const target = payload(join(gw, 'keepalived-2.2.7'), 0o775);
    const links = binDir(safe, 'links');
    symlinkSync(target, join(links, 'keepalived'));
    expect(facts(['katest', 'bins'], links, { CONF: conf })).toEqual({
      katest: null,
      bins: [
        {
          via: 'keepalived',
          refused: `keepalived at ${links}/keepalived (a link to ${target}) is writable by group or others (mode 775)`,
        },
        { via: 'nginx', path: '/usr/sbin/nginx' },
      ],
    });
    expect(existsSync(mark)).toBe(false);
  });

  it("what the units start (every Exec* binary, the PATH's one said once): checked the same way", () => {
    const gw = binDir(safe, 'unitbin');
    const ka = payload(join(gw, 'keepalived'), 0o775);
    const stubs = binDir(tmp, 'stubs');
    // systemctl show -p ExecStartPre ... UNIT: keepalived.service starts the group-writable file; nginx.service runs
    // this machine's nginx (ExecStartPre and ExecStart: one line), and /bin/sh from a drop-in
    writeFileSync(
      join(stubs, 'systemctl'),
      '#!/bin/sh\ncase "$*" in\n' +
        `  *keepalived.service*) echo 'ExecStart={ path=${ka} ; argv[]=${ka} -D ; ignore_errors=no ; pid=0 }' ;;\n` +
        "  *nginx.service*) echo 'ExecStartPre={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -t -q ; pid=0 }'\n" +
        "    echo 'ExecStart={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx ; ignore_errors=no ; pid=0 }'\n" +
        "    echo 'ExecStopPost={ path=/bin/sh ; argv[]=/bin/sh -c echo 1 ; ignore_errors=yes ; pid=0 }' ;;\n" +
        'esac\n',
    );
    chmodSync(join(stubs, 'systemctl'), 0o755);
    const sh = spawnSync('readlink', ['-f', '/bin/sh'], { encoding: 'utf8' }).stdout.trim();
    expect(facts(['bins'], stubs).bins).toEqual([
      { via: 'keepalived', path: '/usr/sbin/keepalived' },
      {
        via: 'keepalived.service',
        refused: `${ka} (run by keepalived.service) is writable by group or others (mode 775)`,
      },
      { via: 'nginx', path: '/usr/sbin/nginx' },
      { via: 'nginx.service', path: sh },
    ]);
    expect(existsSync(mark)).toBe(false);
  });

  it("init's preflight refuses that host: one line naming the file and why (exit 2 through init)", () => {
    const gw = binDir(safe, 'pre');
    const ka = payload(join(gw, 'keepalived'), 0o775);
    const cfg = resolveAnswers(structuredClone(pair), { env: {} });
    const node = cfg.nodes[0];
    const f = fresh(cfg, node);
    f.bins = facts(['bins'], gw).bins;
    expect(preflight(cfg, node, f, new Set()).filter((l) => l.includes('keepalived at'))).toEqual([
      `${node.name} (${node.host}): keepalived at ${ka} is writable by group or others (mode 775); ha-setup runs ` +
        'keepalived and nginx as root only from a file nobody but root can change (root-owned, not writable by ' +
        'group or others, nor any directory above it, no ACL): fix that first',
    ]);
    f.bins = facts(['bins'], '/nonexistent').bins;
    expect(preflight(cfg, node, f, new Set()).filter((l) => l.includes('keepalived at'))).toEqual([]);
  });
});

describe("the apply's validators and the 1.x check run the checked binary by its resolved path, or nothing", () => {
  const safe = safeDir();
  const gw = binDir(safe, 'gw');
  const unsafe = payload(join(gw, 'keepalived'), 0o775);
  const run = (argv: readonly string[], path: string) =>
    // HOME: bash run from here may read this machine's ~/.bashrc
    spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH: `${path}:${SYSTEM}`, HOME: tmp } });

  it('checkedArgv (keepalived -t, nginx -t): exit 126 and why, nothing run; a safe one by its resolved path', () => {
    const r = run(checkedArgv(['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']), gw);
    expect([r.status, r.stdout, r.stderr]).toEqual([
      126,
      '',
      `keepalived at ${unsafe} is writable by group or others (mode 775): ${NOT_RUN}\n`,
    ]);
    expect(existsSync(mark)).toBe(false);
    const real = payload(join(binDir(safe, 'opt'), 'keepalived-2.2.7'));
    const links = binDir(safe, 'links');
    symlinkSync(real, join(links, 'keepalived'));
    const ok = run(checkedArgv(['keepalived', '-t', '-f', 'a b']), links);
    expect(ok.status).toBe(0);
    expect(spawnSync('cat', [mark], { encoding: 'utf8' }).stdout).toBe(`${real} -t -f a b\n`);
    expect(run(checkedArgv(['no-such-binary', '-t']), links).status).toBe(127);
  });

  it('validate-keepalived-1x.sh as ha-setup runs it (no binary given): exit 2 and why, nothing run', () => {
    const conf = join(safe, 'keepalived.conf');
    writeFileSync(conf, 'global_defs {\n}\n');
    const r = run(['bash', '-c', validateScript1x(), 'validate-keepalived-1x', conf], gw);
    expect([r.status, r.stderr]).toEqual([
      2,
      `keepalived at ${unsafe} is writable by group or others (mode 775): ${NOT_RUN}\n`,
    ]);
    expect(existsSync(mark)).toBe(false);
  });
});
