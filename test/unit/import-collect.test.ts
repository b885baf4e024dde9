import { describe, expect, it } from 'vitest';
import { parseFileEntries } from '../../src/facts/file-entries.js';
import { parseSections } from '../../src/facts/gather.js';
import { parseInterfaces, parseKeepalivedVersion, VARS } from '../../src/facts/table.js';
import type { KeepalivedBinary } from '../../src/facts/types.js';
import { collectHost, defaultConfOf, hostReader, versionOf } from '../../src/import/collect.js';
import { execStartArgv, parseDaemonArgs, parseEnvironmentFile } from '../../src/import/daemon-options.js';
import { mapImport } from '../../src/import/map.js';
import { PATHS } from '../../src/paths.js';
import { fixture } from '../fixtures/import/hosts.js';
import { fakeConn, fakeNode, type FakeCall, type FakeConn } from '../helpers/fake-conn.js';
import {
  addrs,
  factsOf,
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

/** a connection answering import's facts as the host would */
function hostConn(h: ImportHost, name = 'lb01'): FakeConn {
  return fakeConn((c) => {
    const stdout = importAnswer(h, c.text, c.args);
    return stdout === null ? { code: 127, stderr: 'unexpected script' } : { stdout };
  }, fakeNode({ name }));
}

/** each round trip: "host" (the first), or the globs it read ("DIR GLOB") */
function trips(conn: FakeConn): (string | string[])[] {
  const globs = VARS.indexOf('GLOBS');
  const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return conn.calls.map((c) =>
    factsOf(c.text)?.includes('globs')
      ? c.args[globs].split('\n').map((l) => l.split(' ').map(unb64).join(' '))
      : 'host',
  );
}

/** nothing a host sent runs a process's binary or asks any binary for its version */
function runsNothing(calls: FakeCall[]): void {
  for (const c of calls) {
    expect(c.text).not.toContain('--version');
    for (const l of c.text.split('\n').filter((x) => x.includes('/exe"')))
      expect(l).toMatch(/readlink "\$p\/exe"|ka_read "pid:\$\{p#\/proc\/\}" "\$p\/exe" "\$e"/);
  }
}

/** the version line and build options a binary's file holds, from what its --version prints */
function bin(text: string, over: Partial<KeepalivedBinary> = {}): KeepalivedBinary {
  return {
    from: 'path',
    path: '/usr/sbin/keepalived',
    deleted: false,
    versionLine: /^Keepalived v.*$/m.exec(text)?.[0] ?? '',
    build: /^configure options: (.*)$/m.exec(text)?.[1] ?? '',
    ...over,
  };
}

const OS_DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian';

describe('the interfaces fact: one parser for init, status, the wizard and import', () => {
  it('ip -o link / -4 addr / -6 addr: IPv4 "a.b.c.d/len" addresses, and every address in detail', () => {
    const prefixed = (p: string, t: string) =>
      t
        .split('\n')
        .map((l) => `${p} ${l}`)
        .join('\n');
    const text = [
      prefixed('link', LINKS),
      prefixed('addr', addrs('172.16.70.181', ['172.16.70.183'])),
      'addr 2: ens33    inet6 fe80::20c:29ff:fea1:824e/64 scope link \\       valid_lft forever preferred_lft forever',
    ].join('\n');
    const ifs = parseInterfaces(text);
    expect(Object.keys(ifs)).toEqual(['lo', 'ens33', 'eth1']);
    expect(ifs.ens33).toMatchObject({ up: true, mac: '00:0c:29:a1:82:4e', multicast: true });
    expect(ifs.ens33.addresses).toEqual(['172.16.70.181/24', '172.16.70.183/32']);
    expect(ifs.ens33.ips).toEqual([
      { address: '172.16.70.181', prefix: 24, family: 4, secondary: false },
      { address: '172.16.70.183', prefix: 32, family: 4, secondary: false },
      { address: 'fe80::20c:29ff:fea1:824e', prefix: 64, family: 6, secondary: false },
    ]);
    expect(ifs.eth1).toMatchObject({ up: false, addresses: [], ips: [] });
    const lab = parseInterfaces(
      'link 2: host0@if332: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n' +
        'addr 2: host0    inet 198.18.0.104/24 scope global secondary host0:1\\       valid_lft forever',
    );
    // no link-layer address on the line: the interface is still there
    expect(lab.host0.mac).toBe('');
    expect(lab.host0.ips).toEqual([
      { address: '198.18.0.104', prefix: 24, family: 4, secondary: true, label: 'host0:1' },
    ]);
  });
});

describe('a keepalived binary, read as a file', () => {
  it('the version and the default configuration file of the build', () => {
    const of = (t: string) => defaultConfOf(parseKeepalivedVersion(t), bin(t).build);
    expect(parseKeepalivedVersion(VERSION_DEBIAN)).toBe('2.2.7');
    expect(of(VERSION_DEBIAN)).toEqual({ defaultConf: '/etc/keepalived/keepalived.conf' });
    expect(parseKeepalivedVersion(VERSION_CENTOS7)).toBe('1.3.5');
    expect(of(VERSION_CENTOS7)).toEqual({ defaultConf: '/etc/keepalived/keepalived.conf' });
    expect(of(VERSION_004).defaultConf).toBe('/etc/keepalived/keepalived.conf');
    expect(defaultConfOf('2.2.8', '--prefix=/opt/ka')).toEqual({
      defaultConf: '/opt/ka/etc/keepalived/keepalived.conf',
      oldDefault: '/etc/keepalived/keepalived.conf',
    });
    expect(defaultConfOf('2.2.8', '--prefix=/usr --sysconf=/etc').defaultConf).toBe('/etc/keepalived/keepalived.conf');
  });

  it("its package's version first, and which source gave it; a deleted one's from its file", () => {
    const pkg = { name: 'keepalived', version: '1:2.2.7-1+b2' };
    expect(versionOf(bin(VERSION_DEBIAN, { pkg }))).toEqual({
      version: '2.2.7',
      from: 'the package keepalived 1:2.2.7-1+b2, which owns /usr/sbin/keepalived',
      notes: [],
    });
    expect(versionOf(bin(VERSION_004, { pkg })).notes).toEqual([
      "/usr/sbin/keepalived says keepalived 2.2.4, its package keepalived 1:2.2.7-1+b2: the package's is used",
    ]);
    expect(versionOf(bin(VERSION_004, { path: '/data/apps/keepalived/sbin/keepalived' }))).toMatchObject({
      version: '2.2.4',
      from: 'read from /data/apps/keepalived/sbin/keepalived (not run)',
    });
    expect(versionOf(bin(VERSION_004, { deleted: true, from: 'pid:7' }))).toMatchObject({
      version: '2.2.4',
      from: 'read from /usr/sbin/keepalived as it ran (deleted or replaced since) (not run)',
    });
    expect(versionOf(bin('', {})).version).toBeNull();
    expect(versionOf(undefined).from).toBe('no keepalived binary found');
  });
});

describe('collect: parsers', () => {
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
    const s = parseSections('junk\n@@a\n1\n2\n@@b\n@@end\n@@c\nno');
    expect(s).toEqual({ a: '1\n2', b: '' });
    const weird = 'line\r\n\u0000\u00ff "quotes" \\ $x\n';
    expect(parseFileEntries(fileEntry('/p a/t\nx', weird))[0]).toMatchObject({ path: '/p a/t\nx', text: weird });
  });
});

describe('collectHost', () => {
  it('guide 004: the running keepalived built in /data/apps, its -f file, the check script, nginx -T', async () => {
    const conn = hostConn(guide004('KeepMaster'));
    const h = await collectHost('172.16.70.181', conn);
    // the host, then the -f file (with the script it names)
    expect(trips(conn)).toEqual(['host', [`/ ${KA}`]]);
    expect(h).toMatchObject({
      given: '172.16.70.181',
      hostname: 'KeepMaster',
      osFamily: 'rhel',
      osId: 'centos',
      keepalivedVersion: '2.2.4',
      keepalivedMajor: 2,
      configPath: KA,
      holds: ['172.16.70.183'],
      // no keepalived unit here, but its daemon runs
      services: { keepalived: 'active', nginx: 'active' },
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
    expect(h.latent).toEqual([]);
    expect(h.notes).toEqual(['keepalived 2.2.4: read from /data/apps/keepalived/sbin/keepalived (not run)']);
    expect(h.warnings).toEqual([]);
    runsNothing(conn.calls);
  });

  it('both hosts of guide 004 collected and mapped', async () => {
    const hosts = await Promise.all(
      (['KeepMaster', 'KeepBackup'] as const).map((n, i) => collectHost(`172.16.70.18${i + 1}`, hostConn(guide004(n)))),
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
      packages: { '/usr/sbin/keepalived': 'keepalived 1:2.2.7-1+b2' },
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
    const conn = hostConn(host);
    const h = await collectHost('lb01', conn);
    expect(h.configPath).toBe('/etc/keepalived/main.conf');
    expect(h.daemonOptions).toMatchObject({
      logFacility: 4,
      source: 'the keepalived unit (ExecStart and its environment)',
    });
    // the host, main.conf, then one round trip per include level (the script came with the file naming it)
    expect(trips(conn)).toEqual([
      'host',
      ['/ /etc/keepalived/main.conf'],
      ['/etc/keepalived conf.d/*.conf', '/etc/keepalived vips/*.inc'],
      ['/etc/keepalived/conf.d ../deep/b.conf'],
    ]);
    expect(h.keepalivedVersion).toBe('2.2.7');
    expect(h.notes).toEqual(['keepalived 2.2.7: the package keepalived 1:2.2.7-1+b2, which owns /usr/sbin/keepalived']);
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

  it("ha-setup's notify hook posts to a webhook: its URL read from the root-only file the hook names", async () => {
    const hook = `#!/bin/sh\nWEBHOOK_URL_FILE='${PATHS.webhookUrl}'\nWEBHOOK_HEADERS=''\n`;
    const host: ImportHost = {
      hostname: 'lb01',
      os: OS_DEBIAN,
      unit: fixture('systemctl-show-keepalived-debian12.txt'),
      bins: { '/usr/sbin/keepalived': VERSION_DEBIAN },
      packages: { '/usr/sbin/keepalived': 'keepalived 1:2.2.7-1+b2' },
      envfiles: {},
      files: {
        '/etc/keepalived/keepalived.conf': `vrrp_instance V {\n  notify "${PATHS.notifyScript}"\n}\n`,
        [PATHS.notifyScript]: hook,
        [PATHS.webhookUrl]: 'https://hooks.example.com/ha\n',
      },
      own: '172.16.70.181',
      services: 'keepalived active\nnginx active',
    };
    const h = await collectHost('lb01', hostConn(host));
    expect(h.webhookUrl).toBe('https://hooks.example.com/ha');
    // another file named by the hook is not read
    host.files[PATHS.notifyScript] = hook.replace(PATHS.webhookUrl, '/etc/shadow');
    expect((await collectHost('lb01', hostConn(host))).webhookUrl).toBeUndefined();
  });

  it('a host that cannot run the script is an error naming it', async () => {
    const conn = fakeConn(() => ({ code: 1, stderr: 'sh: permission denied' }), fakeNode({ name: 'lb9' }));
    await expect(collectHost('lb9', conn)).rejects.toThrow(
      "lb9: reading the host's facts failed (exit 1): sh: permission denied",
    );
  });

  it('hostReader sends the reads of one tick in one run', async () => {
    const host = guide004('KeepMaster');
    const conn = hostConn(host);
    const read = hostReader(conn);
    const [a, b] = await Promise.all([read(KA, '/'), read('/data/apps/keepalived/*.sh', '/')]);
    expect(trips(conn)).toEqual([[`/ ${KA}`, '/ /data/apps/keepalived/*.sh']]);
    expect(a.map((f) => f.path)).toEqual([KA]);
    expect(b.map((f) => f.path)).toEqual(['/data/apps/keepalived/chk_nginx.sh']);
  });
});

describe('import runs nothing a user could have put there', () => {
  /** Debian's stopped unit reading /etc/keepalived/keepalived.conf, and a keepalived process of uid 1000's */
  const withUserProcess = (): ImportHost => ({
    hostname: 'lb01',
    os: OS_DEBIAN,
    unit: fixture('systemctl-show-keepalived-debian12.txt'),
    procs: [
      { pid: 4242, ppid: 1, uid: 1000, exe: '/home/bob/keepalived', argv: ['keepalived', '-f', '/home/bob/k.conf'] },
    ],
    bins: { '/usr/sbin/keepalived': VERSION_DEBIAN, '/home/bob/keepalived': 'Keepalived v9.9.9 (bob)\n' },
    files: {
      '/etc/keepalived/keepalived.conf': 'vrrp_instance V {\n  interface ens33\n  virtual_router_id 9\n}\n',
      '/home/bob/k.conf': 'vrrp_instance B {\n  interface ens33\n  virtual_router_id 66\n}\n',
    },
    own: '172.16.70.181',
    services: 'keepalived inactive\nnginx active',
  });

  it('a keepalived process of another user is reported; nothing of it (argv, -f, binary) is used or run', async () => {
    const conn = hostConn(withUserProcess());
    const h = await collectHost('lb01', conn);
    expect(h.warnings).toEqual([
      'a process named keepalived runs as uid 1000 (pid 4242, /home/bob/keepalived): not the daemon, ignored',
    ]);
    expect(h.daemonOptions.source).toBe('the keepalived unit (ExecStart and its environment)');
    expect(h.configPath).toBe('/etc/keepalived/keepalived.conf');
    expect(h.config.files).toEqual(['/etc/keepalived/keepalived.conf']);
    expect(h.keepalivedVersion).toBe('2.2.7');
    expect(JSON.stringify(trips(conn))).not.toContain('/home/bob');
    runsNothing(conn.calls);
  });

  it("a root daemon's binary deleted since it started: the running version, read, not run", async () => {
    const host: ImportHost = {
      ...withUserProcess(),
      procs: [
        { pid: 700, ppid: 1, exe: '/usr/sbin/keepalived (deleted)', argv: ['/usr/sbin/keepalived', '-D'] },
        { pid: 701, ppid: 700, exe: '/usr/sbin/keepalived (deleted)', argv: ['/usr/sbin/keepalived', '-D'] },
      ],
      bins: { '/usr/sbin/keepalived (deleted)': VERSION_004, '/usr/sbin/keepalived': VERSION_DEBIAN },
      packages: { '/usr/sbin/keepalived': 'keepalived 1:2.2.7-1+b2' },
    };
    const conn = hostConn(host);
    const h = await collectHost('lb01', conn);
    expect(h.daemonOptions.source).toBe('the running keepalived (pid 700)');
    expect(h.keepalivedVersion).toBe('2.2.4');
    expect(h.notes).toEqual([
      'keepalived 2.2.4: read from /usr/sbin/keepalived as it ran (deleted or replaced since) (not run)',
    ]);
    expect(h.services.keepalived).toBe('active');
    runsNothing(conn.calls);
  });

  it('nginx -T not run for a binary that fails bin_check: said why, no nginx part', async () => {
    const host = { ...guide004('KeepMaster'), nginxUnsafe: 'it is writable by group or others (mode 775)' };
    const h = await collectHost('172.16.70.181', hostConn(host));
    expect(h.nginx).toBeUndefined();
    expect(h.warnings).toEqual([
      'nginx -T not run: /usr/sbin/nginx: it is writable by group or others (mode 775) (ha-setup runs only a ' +
        "root-owned binary of a package, in root-owned directories): the answers have nothing of this host's nginx " +
        'configuration',
    ]);
  });
});
