import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collectHost,
  hostReader,
  mainScript,
  parseFileEntries,
  parseInterfaces,
  parseVersion,
  readScript,
  sections,
  type Runner,
} from '../../src/import/collect.js';
import { execStartArgv, parseDaemonArgs, parseEnvironmentFile } from '../../src/import/daemon-options.js';
import { mapImport } from '../../src/import/map.js';
import { fixture } from '../fixtures/import/hosts.js';
import {
  addrs,
  fileEntry,
  guide004,
  importAnswer,
  KA,
  LINKS,
  VERSION_004,
  type ImportHost,
} from '../helpers/import-host.js';

// captured from the lab's hosts (Debian 12, CentOS 7) and shaped like the guides' hosts
const VERSION_DEBIAN = fixture('keepalived-version-debian12.txt');
const VERSION_CENTOS7 =
  'Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2\n\nCopyright(C) 2001-2017 Alexandre Cassen\n';

/** a runner answering the two scripts as the host would, recording each run */
function fakeRunner(h: ImportHost): { run: Runner; runs: string[][] } {
  const runs: string[][] = [];
  const run: Runner = async (script, args) => {
    runs.push(args);
    const stdout = importAnswer(h, script, args);
    return stdout === null ? { code: 127, stdout: '', stderr: 'unexpected script' } : { code: 0, stdout, stderr: '' };
  };
  return { run, runs };
}

const OS_DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian';

describe('collect: the host scripts', () => {
  it('are POSIX sh (dash -n)', () => {
    for (const s of [mainScript(), readScript()])
      expect(() => execFileSync('dash', ['-n'], { input: s })).not.toThrow();
  });

  const dir = mkdtempSync(join(tmpdir(), 'ha-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the read script expands globs on the host, relative to a directory, and base64s every file', () => {
    mkdirSync(join(dir, 'conf.d/sub.conf'), { recursive: true });
    writeFileSync(join(dir, 'keepalived.conf'), 'vrrp_script c {\n  script "/bin/sh ' + join(dir, 'chk.sh') + '"\n}\n');
    writeFileSync(join(dir, 'conf.d/a b.conf'), 'router_id "\u00e9t\u00e9"\n');
    writeFileSync(join(dir, 'conf.d/x.conf'), 'x\n');
    chmodSync(join(dir, 'conf.d/x.conf'), 0o755);
    writeFileSync(join(dir, 'chk.sh'), '#!/bin/sh\nkillall -0 nginx\n');
    const out = execFileSync(
      'sh',
      ['-c', readScript(), 'sh', dir, 'conf.d/*.conf', '/', join(dir, 'keepalived.conf'), '/', '/none/*'],
      {
        encoding: 'utf8',
      },
    );
    const parts = out.split(/^@@glob .*$/m).slice(1);
    expect(parts).toHaveLength(3);
    expect(parseFileEntries(parts[0]).map((e) => [e.path.slice(dir.length), e.text, e.skip])).toEqual([
      ['/conf.d/a b.conf', 'router_id "\u00e9t\u00e9"\n', undefined],
      ['/conf.d/sub.conf', '', 'a directory'],
      ['/conf.d/x.conf', 'x\n', 'executable (mode 755): keepalived reads only non-executable files'],
    ]);
    const main = parseFileEntries(parts[1]);
    expect(main.map((e) => [e.path.slice(dir.length), !!e.script])).toEqual([
      ['/keepalived.conf', false],
      ['/chk.sh', true],
    ]);
    expect(parseFileEntries(parts[2].replace(/@@end[\s\S]*/, ''))).toEqual([]);
  });
});

describe('collect: parsers', () => {
  it('ip -o link / ip -o -4 addr', () => {
    expect(parseInterfaces(LINKS, addrs('172.16.70.181', ['172.16.70.183']))).toEqual([
      { name: 'lo', up: true, addresses: [{ address: '127.0.0.1', prefix: 8, secondary: false }] },
      {
        name: 'ens33',
        up: true,
        addresses: [
          { address: '172.16.70.181', prefix: 24, secondary: false },
          { address: '172.16.70.183', prefix: 32, secondary: false },
        ],
      },
      { name: 'eth1', up: false, addresses: [] },
    ]);
    const lab = parseInterfaces(
      '2: host0@if332: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
      '2: host0    inet 198.18.0.104/24 scope global secondary host0:1\\       valid_lft forever preferred_lft forever',
    );
    expect(lab[0].addresses[0]).toEqual({ address: '198.18.0.104', prefix: 24, secondary: true, label: 'host0:1' });
  });

  it('keepalived --version: the version and the default configuration file of the build', () => {
    expect(parseVersion(VERSION_DEBIAN)).toEqual({ version: '2.2.7', defaultConf: '/etc/keepalived/keepalived.conf' });
    expect(parseVersion(VERSION_CENTOS7)).toEqual({ version: '1.3.5', defaultConf: '/etc/keepalived/keepalived.conf' });
    expect(parseVersion(VERSION_004).defaultConf).toBe('/etc/keepalived/keepalived.conf');
    expect(parseVersion('Keepalived v2.2.8 (04/04,2023)\n\nconfigure options: --prefix=/opt/ka\n')).toEqual({
      version: '2.2.8',
      defaultConf: '/opt/ka/etc/keepalived/keepalived.conf',
      oldDefault: '/etc/keepalived/keepalived.conf',
    });
    expect(parseVersion('Keepalived v2.2.8\nconfigure options: --prefix=/usr --sysconf=/etc\n').defaultConf).toBe(
      '/etc/keepalived/keepalived.conf',
    );
  });

  it("keepalived's options as getopt_long reads them", () => {
    expect(parseDaemonArgs(['-D', '-S', '4'])).toMatchObject({ logDetail: true, logFacility: 4, other: [] });
    expect(parseDaemonArgs(['--log-facility=local4', '--use-file', '/k.conf']).logFacility).toBe(4);
    expect(parseDaemonArgs(['--use-f=/a.conf']).useFile).toBe('/a.conf');
    expect(parseDaemonArgs(['-f/b.conf', '-DS7'])).toMatchObject({
      useFile: '/b.conf',
      logDetail: true,
      logFacility: 7,
    });
    const eq = parseDaemonArgs(['-f=/etc/k.conf']);
    expect(eq.useFile).toBe('=/etc/k.conf');
    expect(eq.notes[0]).toContain('takes "=/etc/k.conf"');
    // keepalived 1.3.5 reads -S with atoi(): "local4" is facility 0
    expect(parseDaemonArgs(['-S', 'local4'], 1)).toMatchObject({ logFacility: 0 });
    expect(parseDaemonArgs(['--u', 'x']).notes).toEqual(['--u: ambiguous option (keepalived refuses it)']);
    expect(parseDaemonArgs(['--u', 'x'], 1).useFile).toBe('x');
  });

  it('systemd: ExecStart argv with $VAR split and ${VAR} whole; EnvironmentFile syntax', () => {
    const env = parseEnvironmentFile(
      '# Options\nDAEMON_ARGS="-D -S 4"\nKEEPALIVED_OPTIONS=\'-D\' # comment\nX=a\\\nb\n',
    );
    expect(env).toEqual({ DAEMON_ARGS: '-D -S 4', KEEPALIVED_OPTIONS: '-D', X: 'ab' });
    const show =
      'ExecStart={ path=/usr/sbin/keepalived ; argv[]=/usr/sbin/keepalived --dont-fork $DAEMON_ARGS ${X} ; ' +
      'ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }';
    expect(execStartArgv(show, env)).toEqual(['/usr/sbin/keepalived', '--dont-fork', '-D', '-S', '4', 'ab']);
    expect(execStartArgv('ExecStart=', env)).toBeNull();
  });

  it('sections and file entries survive any byte', () => {
    const s = sections('junk\n@@a\n1\n2\n@@b\n@@end\n@@c\nno');
    expect(s).toEqual({ a: '1\n2', b: '' });
    const weird = 'line\r\n\u0000\u00ff "quotes" \\ $x\n';
    expect(parseFileEntries(fileEntry('/p a/t\nx', weird))[0]).toMatchObject({ path: '/p a/t\nx', text: weird });
  });
});

describe('collectHost', () => {
  it('guide 004: the running keepalived built in /data/apps, its -f file, the check script, nginx -T', async () => {
    const { run, runs } = fakeRunner(guide004('KeepMaster'));
    const h = await collectHost('172.16.70.181', run);
    expect(runs).toEqual([[]]);
    expect(h).toMatchObject({
      given: '172.16.70.181',
      hostname: 'KeepMaster',
      osFamily: 'rhel',
      osId: 'centos',
      keepalivedVersion: '2.2.4',
      keepalivedMajor: 2,
      configPath: KA,
      holds: ['172.16.70.183'],
      services: { keepalived: 'unknown', nginx: 'active' },
    });
    expect(h.daemonOptions).toMatchObject({
      useFile: KA,
      logDetail: true,
      source: 'the running keepalived (pid 57266)',
    });
    expect(h.config.files).toEqual([KA]);
    expect(Object.keys(h.scripts)).toEqual(['/data/apps/keepalived/chk_nginx.sh']);
    expect(h.nginx).toMatchObject({
      ok: true,
      upstream: { name: 'web', backends: ['172.16.70.191:80', '172.16.70.192:80'] },
    });
    expect(h.latent).toEqual(['keepalived is not active (unknown): the pair runs on the other node(s) alone']);
  });

  it('both hosts of guide 004 collected and mapped', async () => {
    const hosts = await Promise.all(
      (['KeepMaster', 'KeepBackup'] as const).map((n, i) =>
        collectHost(`172.16.70.18${i + 1}`, fakeRunner(guide004(n)).run),
      ),
    );
    const r = mapImport(hosts, { ssh: {} });
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances.map((i) => [i.name, i.master])).toEqual([
      ['VI_1', 'KeepMaster'],
      ['VI_2', 'KeepBackup'],
    ]);
    expect(r.answers.healthCheck).toMatchObject({ mode: 'restart-then-stop' });
  });
});

describe('collectHost: a stopped unit, includes, failures', () => {
  it('Debian unit with DAEMON_ARGS, keepalived stopped; one run per include level; nginx -T failing', async () => {
    const host: ImportHost = {
      hostname: 'lb01.example.org',
      os: OS_DEBIAN,
      unit: fixture('systemctl-show-keepalived-debian12.txt'),
      bins: { '/usr/sbin/keepalived': VERSION_DEBIAN },
      envfiles: { '/etc/default/keepalived': '# Options\nDAEMON_ARGS="-D -S 4 -f /etc/keepalived/main.conf"\n' },
      files: {
        '/etc/keepalived/main.conf':
          '@lb01 include conf.d/*.conf\nvrrp_instance V {\n  interface ens33\n  include vips/*.inc\n}\n',
        '/etc/keepalived/conf.d/a.conf': 'include ../deep/b.conf\n',
        '/etc/keepalived/deep/b.conf': 'vrrp_script c {\n  script /usr/local/bin/chk.sh\n}\n',
        '/etc/keepalived/vips/1.inc': 'virtual_router_id 9\n',
        '/usr/local/bin/chk.sh': '#!/bin/sh\npidof nginx\n',
      },
      own: '172.16.70.181',
      services: 'keepalived inactive\nnginx failed',
      nginx: {
        rc: 1,
        out: '',
        err:
          'nginx: [emerg] unknown directive "upstreem" in /etc/nginx/conf.d/web.conf:1\n' +
          'nginx: configuration file /etc/nginx/nginx.conf test failed\n',
      },
    };
    const { run, runs } = fakeRunner(host);
    const h = await collectHost('lb01', run);
    expect(h.configPath).toBe('/etc/keepalived/main.conf');
    expect(h.daemonOptions).toMatchObject({
      logFacility: 4,
      source: 'the keepalived unit (ExecStart and its environment)',
    });
    // the main script (with main.conf), then one run per include level (the script came with the file naming it)
    expect(runs).toEqual([
      [],
      ['/etc/keepalived', 'conf.d/*.conf', '/etc/keepalived', 'vips/*.inc'],
      ['/etc/keepalived/conf.d', '../deep/b.conf'],
    ]);
    expect(h.config.files).toEqual([
      '/etc/keepalived/main.conf',
      '/etc/keepalived/conf.d/a.conf',
      '/etc/keepalived/deep/b.conf',
      '/etc/keepalived/vips/1.inc',
    ]);
    expect(h.scripts).toEqual({ '/usr/local/bin/chk.sh': '#!/bin/sh\npidof nginx\n' });
    expect(h.latent).toEqual([
      'keepalived is not active (inactive): the pair runs on the other node(s) alone',
      'nginx -T fails (exit 1): nginx: [emerg] unknown directive "upstreem" in /etc/nginx/conf.d/web.conf:1; ' +
        'the next nginx reload fails too',
    ]);
    expect(h.osFamily).toBe('debian');
  });

  it('a host that cannot run the script is an error naming it', async () => {
    const run: Runner = async () => ({ code: 1, stdout: '', stderr: 'sh: permission denied' });
    await expect(collectHost('lb9', run)).rejects.toThrow(
      'lb9: reading the host failed (exit 1): sh: permission denied',
    );
  });

  it('hostReader sends the reads of one tick in one run', async () => {
    const host = guide004('KeepMaster');
    const { run, runs } = fakeRunner(host);
    const read = hostReader(run);
    const [a, b] = await Promise.all([read(KA, '/'), read('/data/apps/keepalived/*.sh', '/')]);
    expect(runs).toHaveLength(1);
    expect(a.map((f) => f.path)).toEqual([KA]);
    expect(b.map((f) => f.path)).toEqual(['/data/apps/keepalived/chk_nginx.sh']);
  });
});
