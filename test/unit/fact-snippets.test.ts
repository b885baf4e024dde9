/**
 * The fact snippets' own text processing (awk/sed over systemctl, dpkg-query and firewall-cmd output), run by a
 * real sh with those three commands replaced by printers of output captured from lab hosts. What the parsers
 * then make of it is in facts.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FACTS, factSh, parseServices, type FactDef } from '../../src/facts/table.js';
import { HOLDER_LOOP } from '../../src/facts/streamed.js';
import { removeSafeDirs, safeDir } from '../helpers/safe-dir.js';

const fx = (f: string) => join(__dirname, '..', 'fixtures', 'cmd', f);
const bin = mkdtempSync(join(tmpdir(), 'fact-bin-'));
afterAll(() => {
  rmSync(bin, { recursive: true, force: true });
  removeSafeDirs();
});

function printer(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}
printer(
  'systemctl',
  `case "$1" in show) cat '${fx('systemctl-show.txt')}';; is-active) echo active;; is-enabled) echo enabled;; esac`,
);
printer('firewall-cmd', `cat '${fx('firewall-cmd-list-all.txt')}'`);
printer('dpkg-query', `cat "$DPKG_FIXTURE"`);

function run<T>(f: FactDef<T>, env: Record<string, string> = {}): { text: string; value: T } {
  const r = spawnSync('/bin/sh', ['-c', factSh(f)], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
  });
  expect(r.status).toBe(0);
  return { text: r.stdout, value: f.parse(r.stdout) };
}

describe('fact snippets over captured command output', () => {
  it('services: one systemctl call, blocks mapped to the units in argument order', () => {
    const { text, value } = run(FACTS.services);
    expect(text.trim().split('\n')).toEqual([
      'keepalived inactive  0',
      'nginx active enabled 55',
      'rsyslog active enabled 35',
      'firewalld active enabled 40',
    ]);
    expect(value).toEqual(parseServices(text));
    expect(value.keepalived).toEqual({ active: 'inactive', enabled: 'not-found', mainPid: 0 });
    expect(value.firewalld).toEqual({ active: 'active', enabled: 'enabled', mainPid: 40 });
  });

  it('packages: installed ones with their version; removed-with-config and unknown ones are absent', () => {
    const dpkg = join(bin, 'dpkg.txt');
    writeFileSync(
      dpkg,
      readFileSync(fx('dpkg-query.txt'), 'utf8').replace(
        /^keepalived install ok installed/m,
        'keepalived deinstall ok config-files',
      ),
    );
    expect(run(FACTS.packages, { DPKG_FIXTURE: fx('dpkg-query.txt') }).value).toEqual({
      keepalived: '1:2.2.7-1+b2',
      nginx: '1.22.1-9+deb12u11',
      rsync: '3.5.0+ds1-0+deb12u1',
      curl: '7.88.1-10+deb12u15',
      nodeexporter: null,
    });
    expect(run(FACTS.packages, { DPKG_FIXTURE: dpkg }).value.keepalived).toBeNull();
  });

  it('firewalld: services, protocols and every rich rule from one --list-all', () => {
    expect(run(FACTS.firewalld, { FW_RULES: '1' }).value).toEqual({
      installed: true,
      active: true,
      enabled: true,
      services: ['dhcpv6-client', 'ssh'],
      protocols: ['vrrp'],
      ports: [],
      richRules: ['rule protocol value="vrrp" accept', 'rule family="ipv4" source address="198.18.0.0/24" accept'],
    });
  });

  it('firewalld: open ports (node_exporter 9100/tcp), not forward-ports or source-ports', () => {
    const listing = readFileSync(fx('firewall-cmd-list-all.txt'), 'utf8')
      .replace(/^ {2}ports: *$/m, '  ports: 9100/tcp 8080/tcp')
      .replace(/^ {2}forward-ports: *$/m, '  forward-ports: port=80:proto=tcp:toport=8080:toaddr=');
    const f = join(bin, 'list-all-ports.txt');
    writeFileSync(f, listing);
    printer('firewall-cmd', `cat '${f}'`);
    expect(run(FACTS.firewalld, { FW_RULES: '1' }).value.ports).toEqual(['9100/tcp', '8080/tcp']);
    printer('firewall-cmd', `cat '${fx('firewall-cmd-list-all.txt')}'`);
  });

  it('firewalld: no firewall-cmd at all when the rules are not wanted (system.firewall: disable)', () => {
    printer('firewall-cmd', 'echo called >&2; exit 9');
    expect(run(FACTS.firewalld, { FW_RULES: '0' }).value).toEqual({
      installed: true,
      active: true,
      enabled: true,
      services: [],
      protocols: [],
      ports: [],
      richRules: [],
    });
    printer('firewall-cmd', `cat '${fx('firewall-cmd-list-all.txt')}'`);
  });

  it("nginxtest: nginx -t's output and exit code; no nginx on the host is nothing known", () => {
    // PATH: a stub nginx in a directory only root can write (ha_bin runs no other), and the system's tools (this
    // machine's nginx is in /usr/sbin: not on it)
    const safe = safeDir();
    const PATH = `${safe}:/usr/bin:/bin`;
    const nginx = (body: string) => {
      writeFileSync(join(safe, 'nginx'), `#!/bin/sh\n${body}\n`);
      chmodSync(join(safe, 'nginx'), 0o755);
    };
    nginx('echo \'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/x.conf:1\' >&2; exit 1');
    expect(run(FACTS.nginxtest, { PATH }).value).toEqual({
      ok: false,
      code: 1,
      firstError: 'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/x.conf:1',
    });
    nginx("echo 'nginx: configuration file /etc/nginx/nginx.conf test is successful' >&2");
    expect(run(FACTS.nginxtest, { PATH }).value).toEqual({ ok: true, code: 0, firstError: null });
    rmSync(join(safe, 'nginx'));
    expect(run(FACTS.nginxtest, { PATH })).toEqual({ text: '', value: null });
  });

  it('vip6neighbors: ping -6 from the interface, then the fresh neighbour entry; ping6 where ping has no -6', () => {
    const log = join(bin, 'ndp.log');
    writeFileSync(log, '');
    // fd00:198:18::22 answers neighbour discovery (not the echo), fd00:198:18::23 the echo; nothing else answers
    printer(
      'ip',
      [
        `echo "ip $*" >> '${log}'`,
        'case "$*" in *"neigh show to fd00:198:18::22 dev host0 nud reachable"*)',
        '  echo "fd00:198:18::22 lladdr aa:bb:cc:00:00:22 router REACHABLE";; esac',
      ].join('\n'),
    );
    const ping = (name: string) =>
      printer(
        name,
        [
          `echo "${name} $*" >> '${log}'`,
          'if [ -n "$NO_PING_6" ] && [ "$1" = -6 ]; then echo "ping: invalid option -- \'6\'" >&2; exit 2; fi',
          'case "$*" in *fd00:198:18::23) exit 0;; esac; exit 1',
        ].join('\n'),
      );
    ping('ping');
    ping('ping6');
    const vars = { VIPS: '198.18.0.100 fd00:198:18::22 fd00:198:18::23 fd00:198:18::100', IFACE: 'host0' };
    const { text, value } = run(FACTS.vip6neighbors, vars);
    expect(text.trim().split('\n')).toEqual([
      'fd00:198:18::22 aa:bb:cc:00:00:22 no',
      'fd00:198:18::23 - yes',
      'fd00:198:18::100 - no',
    ]);
    expect(value).toEqual([
      { vip: 'fd00:198:18::22', lladdr: 'aa:bb:cc:00:00:22', echo: false },
      { vip: 'fd00:198:18::23', lladdr: null, echo: true },
      { vip: 'fd00:198:18::100', lladdr: null, echo: false },
    ]);
    // an IPv4 address is not probed here (ARP: vipneighbors); each IPv6 one flushed, pinged once, then read
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.includes('198.18.0.100'))).toEqual([]);
    expect(calls.slice(0, 3)).toEqual([
      'ip -6 neigh flush to fd00:198:18::22 dev host0',
      'ping -6 -c 1 -W 1 -I host0 fd00:198:18::22',
      'ip -6 neigh show to fd00:198:18::22 dev host0 nud reachable',
    ]);
    expect(calls.filter((c) => c.startsWith('ping6'))).toEqual([]);

    // an old ping (no -6): ping6 with the same arguments
    writeFileSync(log, '');
    expect(run(FACTS.vip6neighbors, { ...vars, NO_PING_6: '1' }).value).toEqual(value);
    expect(
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter((c) => c.includes('::23') && c.startsWith('ping')),
    ).toEqual(['ping -6 -c 1 -W 1 -I host0 fd00:198:18::23', 'ping6 -c 1 -W 1 -I host0 fd00:198:18::23']);
    for (const f of ['ip', 'ping', 'ping6']) rmSync(join(bin, f));
  });

  describe("vrrpseen: what keepalived logged of other routers in the last 30 s, by the host's clock", () => {
    // the host's clock and zone, pinned: `date +%s` / `date +%z` answer these, any other date call is the real one
    const pinned = (epoch: number, zone: string) =>
      printer('date', `case "$1" in +%s) echo ${epoch} ;; +%z) echo '${zone}' ;; *) exec /bin/date "$@" ;; esac`);
    const log = join(bin, 'keepalived.log');
    const seen = (env: Record<string, string> = {}) =>
      run(FACTS.vrrpseen, { LOGFILE: log, TZ: 'UTC', ...env }).value.map((x) => [x.src, x.line, x.trusted]);
    // no journal unless a test gives one (never this machine's own)
    beforeEach(() => printer('journalctl', 'exit 0'));
    afterAll(() => ['date', 'journalctl'].forEach((f) => rmSync(join(bin, f), { force: true })));

    it('traditional stamps on days 1-9 (padded with a space) and RFC 3339 ones, in the host zone', () => {
      // Sun 6 Dec 2026 15:15:20 UTC, a host in UTC+1: its stamps say 16:15
      pinned(Date.UTC(2026, 11, 6, 15, 15, 20) / 1000, '+0100');
      writeFileSync(
        log,
        [
          'Dec  6 16:10:20 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.97',
          'Dec  6 16:15:05 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.99 - x',
          'Dec  6 16:15:10 lb01 Keepalived_vrrp[9]: (VI_1) Entering MASTER STATE',
          '2026-12-06T15:15:12.123456+00:00 lb01 Keepalived_vrrp[9]: (VI_1) received an invalid passwd!',
          '2026-12-06T16:15:18+01:00 lb01 Keepalived_vrrp[9]: (VI_1) unicast source address 10.0.0.98 not a ' +
            'unicast peer',
          '',
        ].join('\n'),
      );
      expect(seen()).toEqual([
        ['10.0.0.99', 'lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.99 - x', false],
        [null, 'lb01 Keepalived_vrrp[9]: (VI_1) received an invalid passwd!', false],
        ['10.0.0.98', 'lb01 Keepalived_vrrp[9]: (VI_1) unicast source address 10.0.0.98 not a unicast peer', false],
      ]);
    });

    it("the year turn: on 1 January a line of 31 December's last seconds is 5 s old, not next December's", () => {
      pinned(Date.UTC(2027, 0, 1, 0, 0, 3) / 1000, '+0000');
      writeFileSync(
        log,
        [
          'Dec 31 23:59:58 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.99',
          'Dec 31 23:58:58 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.96',
          'Jan  1 00:00:01 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.95',
          '',
        ].join('\n'),
      );
      expect(seen().map((x) => x[0])).toEqual(['10.0.0.99', '10.0.0.95']);
    });

    it("keepalived's journal first: its lines are trusted, the log file (anyone's logger) is not read then", () => {
      pinned(Date.UTC(2026, 11, 6, 15, 15, 20) / 1000, '+0000');
      writeFileSync(log, 'Dec  6 15:15:19 lb01 Keepalived_vrrp[9]: (VI_1) x advert from 10.9.9.9\n');
      // a journalctl that has keepalived.service's lines: the unit's probe (-n 1) and the read since a minute ago
      printer(
        'journalctl',
        [
          'case " $* " in *" _SYSTEMD_UNIT=keepalived.service"*) ;; *) exit 0 ;; esac',
          'case " $* " in *" -n 1 "*) echo started; exit 0 ;; esac',
          'echo "2026-12-06T15:15:18+0000 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert ' +
            'from 10.0.0.99"',
          'echo "2026-12-06T15:14:18+0000 lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert ' +
            'from 10.0.0.93"',
        ].join('\n'),
      );
      expect(seen()).toEqual([
        ['10.0.0.99', 'lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.0.0.99', true],
      ]);
      printer('journalctl', 'exit 0');
      // no journal and no log file (keepalived logs elsewhere): nothing (keepalived logs elsewhere): nothing
      expect(seen({ LOGFILE: join(bin, 'none.log') })).toEqual([]);
    });
  });
});

describe('streamed facts: the holder loop (facts/streamed.ts) over captured `ip -o -4 addr show` lines', () => {
  it('prints the host clock and the VIPs given as parameters that an interface other than lo holds', () => {
    const facts = readFileSync(join(__dirname, '..', 'fixtures', 'facts-debian12-lb02.txt'), 'utf8');
    const captured = facts
      .split('\n')
      .filter((l) => l.startsWith('addr '))
      .map((l) => l.slice('addr '.length));
    const extra = [
      '2: host0    inet 198.18.0.100/24 scope global secondary host0\\       valid_lft forever preferred_lft forever',
      // ha-setup's short hand-over hold (pair/move.ts hold): not the node holding the VIP
      '1: lo    inet 198.18.0.101/32 scope global lo:hahold\\       valid_lft 8sec preferred_lft 8sec',
    ];
    writeFileSync(join(bin, 'ip.txt'), [...captured, ...extra].join('\n') + '\n');
    printer('ip', `cat '${join(bin, 'ip.txt')}'`);
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = spawnSync('/bin/sh', ['-c', HOLDER_LOOP.sh(20), 'sh', '198.18.0.10', '198.18.0.100', '198.18.0.101'], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin` },
      timeout: 500,
    });
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) {
      const s = HOLDER_LOOP.parseLine(l);
      expect(s.vips).toEqual(['198.18.0.100']);
      expect(BigInt(s.ns)).toBeGreaterThanOrEqual(before);
    }
  });

  it('a line without VIPs is a sample of none', () => {
    expect(HOLDER_LOOP.parseLine('1765030520123456789')).toEqual({ ns: '1765030520123456789', vips: [] });
  });
});
