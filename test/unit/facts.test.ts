/** Fact parsers on real output captured from lab hosts (Debian 12, Rocky-like, CentOS-7-like) and fixture text. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FACTS,
  parseCapBnd,
  parseDataVips,
  parseFlags,
  parseInterfaces,
  parseKeepalivedData,
  parseKeepalivedVersion,
  parseMembers,
  parseOsRelease,
  parseTest,
  parseTree,
} from '../../src/facts/table.js';
import {
  gatherArgs,
  gatherScript,
  INIT_FACTS,
  initVars,
  parseGathered,
  parseSections,
} from '../../src/facts/gather.js';
import { VARS } from '../../src/facts/table.js';
import { configuredVips } from '../../src/plan/preflight.js';
import { loadAnswersFile, resolveAnswers } from '../../src/answers/resolve.js';
import { buildPlan } from '../../src/plan/build.js';
import { actionsOf, changeCount, isPairAction } from '../../src/plan/types.js';
import { describeAction } from '../../src/plan/describe.js';
import { PATHS } from '../../src/paths.js';
import { clone, pair, syncGroup } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';

const fx = (f: string) => readFileSync(join(__dirname, '..', 'fixtures', f), 'utf8');
/** the fixtures are gather outputs: every fact init plans from, and what the session reads as the login user */
const factsOf = (f: string) => parseGathered([...INIT_FACTS, 'hostname', 'uid', 'sudo', 'vrrp'] as const, fx(f));

describe('facts from a real Debian 12 lab host', () => {
  const f = factsOf('facts-debian12-lb02.txt');
  it('os, package manager, systemd, root', () => {
    expect(f.hostname).toBe('lb02');
    expect(f.os).toMatchObject({ id: 'debian', family: 'debian', version: '12' });
    expect(f.pkgmanager).toBe('apt');
    expect(f.systemd).toBe(true);
    // a root login: the session acts as root directly (uid 0), whatever sudo would say
    expect(f.uid).toBe(0);
  });
  it('packages and keepalived version', () => {
    expect(f.packages.keepalived).toBe('1:2.2.7-1+b2');
    expect(f.packages.nginx).toMatch(/^1\.22\.1/);
    expect(f.kaversion).toBe('2.2.7');
    // installed: no candidate asked for
    expect(f.kacandidate).toBeNull();
  });
  it('firewalld installed but stopped, no getenforce', () => {
    expect(f.firewalld).toMatchObject({ installed: true, active: false, enabled: false });
    expect(f.selinux).toEqual({ runtime: null, tools: false });
  });
  it('interfaces with flags, MAC and addresses', () => {
    expect(f.interfaces.host0).toMatchObject({ up: true, multicast: true, addresses: ['198.18.0.12/24'] });
    expect(f.interfaces.host0.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  });
  it('files with content and mode, missing files', () => {
    expect(f.files['/etc/selinux/config']).toMatchObject({ exists: true, mode: '644' });
    expect(f.files['/etc/selinux/config'].content).toContain('SELINUX=disabled');
    expect(f.files['/etc/keepalived/keepalived.conf'].mode).toBe('600');
    expect(configuredVips(f.files['/etc/keepalived/keepalived.conf'].content)).toEqual(new Set(['198.18.0.100']));
    // an excluded address is keepalived's too: it adds and removes it with the instance
    const conf =
      'vrrp_instance VI_DS {\n    virtual_ipaddress {\n        10.0.0.5/24\n    }\n' +
      '    virtual_ipaddress_excluded {\n        2001:db8::5/64\n    }\n}\n';
    expect(configuredVips(conf)).toEqual(new Set(['10.0.0.5', '2001:db8::5']));
  });
  it('services, sysctl, nginx tree, VIP neighbour', () => {
    expect(f.services.keepalived).toMatchObject({ active: 'active', enabled: 'enabled' });
    expect(f.services.keepalived.mainPid).toBeGreaterThan(0);
    expect(f.sysctl['net.ipv4.ip_nonlocal_bind']).toBe('1');
    expect(f.nginxtree!['nginx.conf']).toMatch(/^[0-9a-f]{64}$/);
    expect(f.nginxtree!['sites-enabled/default']).toBe('link:/etc/nginx/sites-available/default');
    expect(f.vipneighbors[0]).toEqual({ vip: '198.18.0.100', lladdr: '7e:48:11:67:35:a7' });
  });
  it('facts the capture had no section for read as "not known" (not as an error)', () => {
    expect(f.capbnd).toBeNull();
    expect(f.nginxtest).toBeNull();
    expect(f.flags).toEqual({});
    expect(f.members).toBeNull();
    expect(f.dirs).toEqual({});
  });
});

describe('single parsers', () => {
  it('CentOS 7 os-release is rhel', () =>
    expect(parseOsRelease(fx('os-release-centos7.txt'))).toMatchObject({ id: 'centos', family: 'rhel', version: '7' }));
  it('Rocky and Ubuntu', () => {
    expect(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"').family).toBe('rhel');
    expect(parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"').family).toBe('debian');
    expect(parseOsRelease('ID=alpine').family).toBe('unknown');
  });
  it('CAP_SYS_RESOURCE from CapBnd (the lab and this machine: 000001fffeffffff, without it)', () => {
    expect(parseCapBnd('000001fffeffffff\n')).toBe(false);
    expect(parseCapBnd('000001ffffffffff')).toBe(true);
    expect(parseCapBnd('0000003fffffffff')).toBe(true);
    expect(parseCapBnd('')).toBeNull();
    expect(parseCapBnd('zz')).toBeNull();
    expect(FACTS.capbnd.parse).toBe(parseCapBnd);
  });
  it('keepalived --version', () => {
    expect(parseKeepalivedVersion('Keepalived v2.2.7 (01/16,2022)')).toBe('2.2.7');
    expect(parseKeepalivedVersion('Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2')).toBe('1.3.5');
    expect(parseKeepalivedVersion('')).toBeNull();
  });
  it('ip -o link/addr with the @ifN suffix and no MULTICAST', () => {
    const t =
      'link 2: ens33@if5: <BROADCAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default ' +
      'qlen 1000\\    link/ether 00:0c:29:aa:bb:cc brd ff:ff:ff:ff:ff:ff\n' +
      'addr 2: ens33    inet 172.16.70.181/24 brd 172.16.70.255 scope global ens33\\' +
      '       valid_lft forever preferred_lft forever\n' +
      'addr 2: ens33    inet 172.16.70.183/24 scope global secondary ens33';
    expect(parseInterfaces(t).ens33).toEqual({
      name: 'ens33',
      up: true,
      multicast: false,
      flags: ['BROADCAST', 'UP', 'LOWER_UP'],
      mac: '00:0c:29:aa:bb:cc',
      addresses: ['172.16.70.181/24', '172.16.70.183/24'],
      ips: [
        { address: '172.16.70.181', prefix: 24, family: 4, secondary: false },
        { address: '172.16.70.183', prefix: 24, family: 4, secondary: true },
      ],
    });
  });
  it('nginx tree listing', () => {
    expect(parseTree('@none')).toBeNull();
    expect(parseTree(`${'c'.repeat(64)}  ./conf.d/a b.conf\nlink:../x ./y`)).toEqual({
      'conf.d/a b.conf': 'c'.repeat(64),
      y: 'link:../x',
    });
  });
  it('keepalived SIGUSR1 data dump', () => {
    expect(parseKeepalivedData(fx('keepalived-data.txt'))).toEqual([
      { name: 'VI_1', state: 'MASTER', effectivePriority: 110 },
      { name: 'VI_2', state: 'BACKUP', effectivePriority: 80 },
    ]);
  });
  it('nginx -t / keepalived -t: the exit code on the last line, the first error line kept', () => {
    expect(parseTest('nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nexit 0\n')).toEqual({
      ok: true,
      code: 0,
      firstError: null,
    });
    const bad =
      'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/x.conf:1\n' +
      'nginx: configuration file /etc/nginx/nginx.conf test failed\nexit 1\n';
    expect(parseTest(bad)).toEqual({
      ok: false,
      code: 1,
      firstError: 'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/x.conf:1',
    });
    // not run (no nginx, keepalived without -t): nothing known, not a failure
    expect(parseTest('')).toBeNull();
  });
  it('state flags: NAME VALUE, a value that is not a number is off, an unsafe name is ignored', () => {
    expect(parseFlags('maintenance 1\ndemote.VI_1 0\nhandover.G_WEB 1\njunk x\n../x 1\n')).toEqual({
      maintenance: 1,
      'demote.VI_1': 0,
      'handover.G_WEB': 1,
      junk: 0,
    });
  });
  it('members.json: the nodes kept; broken or empty is null', () => {
    const m = { nodes: [{ name: 'lb01', host: '10.0.0.1', port: 22, user: 'root' }, { name: 'x' }] };
    expect(parseMembers(JSON.stringify(m))).toEqual({
      nodes: [m.nodes[0]],
      ignored: ['entry 2: host undefined is not an IPv4 address or a DNS name'],
    });
    expect(parseMembers('')).toBeNull();
    expect(parseMembers('{"nodes": ')).toBeNull();
    expect(parseMembers('{"other": 1}')).toBeNull();
  });
  it("members.json: only entries that pass the answers' rules for a node are kept, the others named", () => {
    const nodes = [
      { name: 'lb03', host: 'lb03.example.net', port: 2222, user: 'ops', extra: 'dropped' },
      { name: 'lb04', host: '10.0.0.4; rm -rf /', port: 22 },
      { name: '-oProxyCommand=x', host: '10.0.0.5' },
      { name: 'lb06', host: '10.0.0.6', port: 0 },
      { name: 'lb07', host: '10.0.0.7', port: '22' },
      { name: 'lb08', host: '10.0.0.8', user: 'Root\u001b[2J' },
      { name: 'lb09', host: '300.1.1.1' },
      'lb10',
      { name: 'lb11', host: '10.0.0.11' },
    ];
    expect(parseMembers(JSON.stringify({ nodes }))).toEqual({
      nodes: [
        { name: 'lb03', host: 'lb03.example.net', port: 2222, user: 'ops' },
        { name: 'lb11', host: '10.0.0.11' },
      ],
      ignored: [
        'entry 2: host "10.0.0.4; rm -rf /" is not an IPv4 address or a DNS name',
        'entry 3: name "-oProxyCommand=x" is not a node name',
        'entry 4: port 0 is not 1..65535',
        'entry 5: port "22" is not 1..65535',
        // a control character from a host is shown escaped, never sent to the terminal
        'entry 6: user "Root\\u001b[2J" is not a plain user name',
        'entry 7: host "300.1.1.1" is not an IPv4 address or a DNS name',
        'entry 8: not an object',
      ],
    });
  });
  it('privilege as the login user: uid and sudo (unknown output is no privilege)', () => {
    expect(FACTS.uid.parse('1001\n')).toBe(1001);
    expect(FACTS.uid.parse('')).toBe(-1);
    expect(FACTS.uid.parse('id: cannot find name')).toBe(-1);
    expect(FACTS.sudo.parse('nopasswd\n')).toBe('nopasswd');
    expect(FACTS.sudo.parse('password')).toBe('password');
    expect(FACTS.sudo.parse('none')).toBe('none');
    expect(FACTS.sudo.parse('')).toBe('none');
  });
  it("the address SSH came in on, from $SSH_CONNECTION's third field", () => {
    expect(FACTS.sshAddress.parse('198.18.0.1 40312 198.18.0.11 22\n')).toBe('198.18.0.11');
    expect(FACTS.sshAddress.parse('\n')).toBeNull();
  });
});

describe('a newer keepalived in the repositories (kaupgrade: only when packages.upgrade asks)', () => {
  // captured on the lab with a second repository holding the next revision (test/e2e/61-day2.test.ts)
  const names = ['kaupgrade', 'packages', 'kaversion'] as const;
  it("Debian: apt-cache's candidate when dpkg says it is newer than the installed one", () => {
    const f = parseGathered(names, fx('facts-kaupgrade-debian12.txt'));
    expect(f.kaupgrade).toEqual({ full: '1:2.2.7-1+b2+lab1', version: '2.2.7' });
    expect(f.packages.keepalived).toBe('1:2.2.7-1+b2');
  });
  it("Rocky-like: dnf's list of upgrades", () => {
    const f = parseGathered(names, fx('facts-kaupgrade-rocky9.txt'));
    expect(f.kaupgrade).toEqual({ full: '2.2.7-2.el9', version: '2.2.7' });
    expect(f.packages.keepalived).toBe('2.2.7-1.el9');
  });
  it('nothing newer, not asked, or a line that is no version: null', () => {
    expect(FACTS.kaupgrade.parse('')).toBeNull();
    expect(FACTS.kaupgrade.parse('2.3.1 $(reboot)\n')).toBeNull();
    expect(FACTS.kaupgrade.parse('2:2.3.1-1.el9\n')).toEqual({ full: '2:2.3.1-1.el9', version: '2.3.1' });
  });
  it('asked through $UPGRADE only (no package manager is queried otherwise)', () => {
    const cfg = resolveAnswers({ ...clone(pair), packages: { upgrade: ['keepalived'] } }, { env: {} });
    expect(initVars(cfg, cfg.nodes[0]).UPGRADE).toBe('keepalived');
    const plain = resolveAnswers(clone(pair), { env: {} });
    expect(initVars(plain, plain.nodes[0]).UPGRADE).toBe('');
    const r = spawnSync('sh', ['-c', gatherScript(['kaupgrade']), 'sh', ...gatherArgs({})], { encoding: 'utf8' });
    expect(parseGathered(['kaupgrade'], r.stdout).kaupgrade).toBeNull();
  });
});

describe('gathering: one script, sections read back', () => {
  it('sections split on "@@name" lines; what follows @@end is ignored', () => {
    expect(parseSections('@@a\nx\ny\n@@b\n@@c\nz\n@@end\n@@d\nnoise')).toEqual({ a: 'x\ny', b: '', c: 'z' });
  });
  it('the inputs are positional parameters in the order of VARS, never pasted into the script', () => {
    const evil = '/etc/a $(touch /tmp/pwned) `id`';
    const script = gatherScript(['files', 'dirs']);
    expect(script).not.toContain('pwned');
    expect(script).toMatch(/^FILES="\$\{1\}"; VIPS="\$\{2\}"; /);
    expect(script.trimEnd().endsWith('echo "@@end"')).toBe(true);
    const args = gatherArgs({ FILES: evil, STATE_DIR: '/var/lib/ha-setup/state' });
    expect(args).toHaveLength(VARS.length);
    expect(args[VARS.indexOf('FILES')]).toBe(evil);
    expect(args[VARS.indexOf('STATE_DIR')]).toBe('/var/lib/ha-setup/state');
    expect(args.filter((a) => a !== '')).toHaveLength(2);
  });
  it("init's inputs: every file a plan writes is read (a re-run must see it), the directories it may create", () => {
    const cfg = resolveAnswers(
      { ...clone(syncGroup), nginx: { upstream: { backends: ['10.0.0.5:80', '10.0.0.6:80'] } } },
      { env: {} },
    );
    const v = initVars(cfg, cfg.nodes[1]);
    expect(v).toMatchObject({ IFACE: 'ens33', NGINX_DIR: '/etc/nginx', FW_RULES: '0', STATE_DIR: PATHS.flagDir });
    expect(v.VIPS).toBe('172.16.70.183 172.16.70.184');
    expect(initVars(cfg, cfg.nodes[1], { probeVips: false }).VIPS).toBe('');
    expect(v.DIRS!.split(' ')).toEqual(expect.arrayContaining([PATHS.flagDir, '/etc/keepalived/conf.d']));
    const read = new Set(v.FILES!.split(' '));
    for (const family of ['debian', 'rhel'] as const) {
      for (const p of buildPlan({ cfg, facts: allFresh(cfg, family), skipNetworkChecks: true }).nodes) {
        const written = actionsOf(p).flatMap((a) => (a.kind === 'file' || a.kind === 'remove-file' ? [a.path] : []));
        expect(written.filter((path) => !read.has(path))).toEqual([]);
      }
    }
    const open = resolveAnswers({ ...clone(pair), system: { firewall: 'open' } }, { env: {} });
    expect(initVars(open, open.nodes[0]).FW_RULES).toBe('1');
  });

  it('a real sh runs the script: each fact in its own section, parsed by its own parser', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gather-'));
    try {
      writeFileSync(join(dir, 'maintenance'), '1\n');
      writeFileSync(join(dir, 'demote.VI_1'), '0');
      const names = ['uid', 'dirs', 'flags', 'files'] as const;
      const r = spawnSync(
        'sh',
        [
          '-c',
          gatherScript(names),
          'sh',
          ...gatherArgs({ DIRS: `${dir} ${dir}/nope`, STATE_DIR: dir, FILES: `${dir}/maintenance ${dir}/none` }),
        ],
        { encoding: 'utf8' },
      );
      expect(r.stdout).toContain('@@end');
      const f = parseGathered(names, r.stdout);
      expect(f.uid).toBe(process.getuid!());
      expect(f.dirs).toEqual({ [dir]: true, [`${dir}/nope`]: false });
      expect(f.flags).toEqual({ maintenance: 1, 'demote.VI_1': 0 });
      expect(f.files[`${dir}/maintenance`]).toMatchObject({ exists: true, content: '1\n' });
      expect(f.files[`${dir}/none`]).toEqual({ exists: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Real output captured from the lab's RHEL-like hosts (scripts/lab: Rocky-like and CentOS-7-like, rpm and dnf/yum
 * in RHEL's layout): a fresh Rocky host, a fresh CentOS 7 host, and a CentOS 7 pair after `init`
 * (test/fixtures/answers-centos7-lab.yaml).
 */
describe('facts from the lab RHEL-like hosts', () => {
  const rocky = factsOf('facts-rocky9-fresh.txt');
  const c7 = factsOf('facts-centos7-fresh.txt');
  const cfg = resolveAnswers(loadAnswersFile(join(__dirname, '..', 'fixtures', 'answers-centos7-lab.yaml')), {
    env: {},
  });

  it('a fresh Rocky 9 host: rhel, dnf, rpm packages, 2.2.7 in its repository, firewalld and SELinux config', () => {
    expect(rocky.os).toMatchObject({ id: 'rocky', family: 'rhel', version: '9.4' });
    expect(rocky.pkgmanager).toBe('dnf');
    expect(rocky.packages).toEqual({
      keepalived: null,
      nginx: null,
      rsync: null,
      curl: '7.88.1-1.el9',
      nodeexporter: null,
    });
    expect(rocky.kaversion).toBeNull();
    expect(rocky.kacandidate).toBe('2.2.7');
    expect(rocky.firewalld).toMatchObject({ installed: true, active: true, enabled: true });
    expect(rocky.files['/etc/selinux/config'].content).toContain('SELINUX=enforcing');
    expect(rocky.files['/etc/sysconfig/keepalived']).toEqual({ exists: false });
  });

  it('a fresh CentOS 7 host: yum only, 1.3.5 in its repository; the plan renders for 1.3.5', () => {
    expect(c7.os).toMatchObject({ id: 'centos', family: 'rhel', version: '7' });
    expect(c7.pkgmanager).toBe('yum');
    expect(c7.kacandidate).toBe('1.3.5');
    const facts = { lb04: structuredClone(c7), lb05: structuredClone(c7) };
    const { nodes } = buildPlan({ cfg, facts, skipNetworkChecks: true });
    const steps = nodes[1].steps;
    const install = steps.find((s) => s.id === 'keepalived-install')!.changes;
    // the version the configuration was rendered for: another one installed stops the node's run
    expect(install).toEqual([{ kind: 'package', manager: 'yum', names: ['keepalived'], expectVersion: '1.3.5' }]);
    const ka = steps.find((s) => s.id === 'keepalived-config')!.changes;
    const conf = ka.find((c) => c.kind === 'file' && c.path === PATHS.keepalivedConf);
    expect(conf && conf.kind === 'file' && conf.validate?.[3]).toBe('validate-keepalived-1x');
    // 1.x tracks ha-setup's state flags through a script (no track_file before 2.0)
    expect(ka.some((c) => c.kind === 'file' && c.path === PATHS.flagScript)).toBe(true);
  });

  it('a CentOS 7 pair after an init of the previous version: only what this version adds, then nothing', () => {
    const lb04 = factsOf('facts-centos7-converged-lb04.txt');
    const lb05 = factsOf('facts-centos7-converged-lb05.txt');
    expect(lb05.kaversion).toBe('1.3.5');
    expect(lb05.packages.keepalived).toBe('1.3.5-19.el7');
    expect(lb05.files['/etc/sysconfig/keepalived'].content).toMatch(/^KEEPALIVED_OPTIONS="-D -S 4"$/m);
    expect(lb05.services.keepalived).toMatchObject({ active: 'active', enabled: 'enabled' });
    const facts = { lb04, lb05 };
    const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
    expect(plan.refusals).toEqual([]);
    // captured before the state flags and the members file existed: the flag script, the flag directory and the
    // configuration that tracks them, loaded by a reload; nothing installed again, no daemon option changed, nothing
    // restarted, so no rolling phase either
    for (const p of plan.nodes) {
      const acts = actionsOf(p);
      const lines = acts.map(describeAction);
      expect(p.rolling).toBe(false);
      expect(acts.some(isPairAction)).toBe(false);
      expect(acts.filter((a) => a.kind === 'package' || a.kind === 'package-file')).toEqual([]);
      expect(lines).not.toContain('update /etc/sysconfig/keepalived (mode 644)');
      expect(lines.filter((l) => /keepalived|nginx/.test(l) && /^systemctl (restart|stop)/.test(l))).toEqual([]);
      expect(lines).toEqual(
        expect.arrayContaining([
          `create ${PATHS.flagScript} (mode 755)`,
          `run: mkdir -p -m 0755 ${PATHS.flagDir}  (create ${PATHS.flagDir} for the state flags keepalived tracks)`,
          expect.stringMatching(
            /^update \/etc\/keepalived\/keepalived\.conf \(mode 600\), validated by a real keepalived start/,
          ),
          'systemctl reload-or-restart keepalived',
        ]),
      );
      // the members file is written last
      expect(lines[lines.length - 1]).toBe(`create ${PATHS.members} (mode 644)`);
    }
    expect(plan.nodes.map((p) => p.holds)).toEqual([['198.18.0.104'], []]);
    const again = buildPlan({ cfg, facts: converge(cfg, facts), skipNetworkChecks: true });
    expect(again.refusals).toEqual([]);
    expect(again.nodes.map((p) => changeCount(p))).toEqual([0, 0]);
    expect(again.nodes.flatMap((p) => p.steps.flatMap((s) => s.handlers))).toEqual([]);
  });
});

describe("the running keepalived's VIPs (kavips: a hand-built pair may configure them in an included file)", () => {
  const dump = readFileSync(join(__dirname, '..', 'fixtures', 'keepalived-data-active-active.txt'), 'utf8');
  it("keepalived.data of the guides' active-active pair (2.2.7, lab lb04): both VIPs; the 1.3 format too", () => {
    expect(parseDataVips(dump)).toEqual(['198.18.0.140', '198.18.0.141']);
    expect(parseDataVips('     10.0.0.5/24 brd 10.0.0.255 dev eth0 scope global\n   Virtual IP = 1\n')).toEqual([
      '10.0.0.5',
    ]);
  });
});
