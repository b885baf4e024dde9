/**
 * `ha-setup import` on one construct at a time (issue 26): a snippet written for each, read as keepalived reads it
 * (by context, each keyword's handler taking the words it reads), and mapped to the answers, a snippet, or a note.
 */
import { describe, expect, it } from 'vitest';
import { parseKeepalivedText, walkConf, type ConfNode } from '../../src/import/keepalived-conf.js';
import { mapImport } from '../../src/import/map.js';
import type { ImportResult } from '../../src/import/types.js';
import { importedHost, outline as lines } from '../fixtures/import/hosts.js';

const outline = (nodes: ConfNode[]) => lines(nodes, true);

const F = '/etc/keepalived/keepalived.conf';

/** a vrrp_instance with the pair's usual lines; `extra` lines go inside it */
function instance(prio: number | null, extra = '', state = 'BACKUP'): string {
  return (
    `vrrp_instance VI_1 {\n    state ${state}\n    interface eth0\n    virtual_router_id 51\n` +
    (prio === null ? '' : `    priority ${prio}\n`) +
    `    advert_int 1\n${extra}    virtual_ipaddress {\n        10.0.0.100/24\n    }\n}\n`
  );
}

/** two hosts (a holds the VIP) running these configurations */
async function pair(
  a: string,
  b: string,
  opts: { major?: 1 | 2; scripts?: Record<string, string>; version?: string } = {},
): Promise<ImportResult> {
  const hosts = await Promise.all([
    importedHost({
      given: 'a',
      hostname: 'a',
      files: { [F]: a },
      ifs: { eth0: ['10.0.0.1/24'] },
      holds: ['10.0.0.100'],
      ...opts,
    }),
    importedHost({ given: 'b', hostname: 'b', files: { [F]: b }, ifs: { eth0: ['10.0.0.2/24'] }, ...opts }),
  ]);
  return mapImport(hosts, { ssh: {} });
}

/** an LVS configuration: virtual_servers whose real_servers check a tracked file (FILE_CHECK { track_file }) */
function lvs(servers: number): string {
  let out = 'track_file TF_1 {\n    file /run/tf1\n    weight 0\n}\n';
  for (let v = 1; v <= servers; v++) {
    out += `virtual_server 10.1.0.${v} 80 {\n    delay_loop 6\n    lb_kind DR\n    protocol TCP\n`;
    for (let r = 1; r <= 2; r++)
      out +=
        `    real_server 10.2.${v}.${r} 80 {\n        weight 1\n        FILE_CHECK {\n` +
        '            track_file TF_1\n        }\n    }\n';
    out += '}\n';
  }
  return out;
}

describe('reading by context, as keepalived does', () => {
  it('track_file is a block at the top level, values in a vrrp_instance, one line in a FILE_CHECK', () => {
    const c = parseKeepalivedText(lvs(1) + instance(150, '    track_file {\n        TF_1 weight 0\n    }\n'), F);
    expect(outline(c.tree)).toEqual([
      'track_file TF_1',
      '  file /run/tf1',
      '  weight 0',
      'virtual_server 10.1.0.1 80',
      '  delay_loop 6',
      '  lb_kind DR',
      '  protocol TCP',
      '  real_server 10.2.1.1 80',
      '    weight 1',
      '    FILE_CHECK',
      '      track_file TF_1',
      '  real_server 10.2.1.2 80',
      '    weight 1',
      '    FILE_CHECK',
      '      track_file TF_1',
      'vrrp_instance VI_1',
      '  state BACKUP',
      '  interface eth0',
      '  virtual_router_id 51',
      '  priority 150',
      '  advert_int 1',
      '  track_file',
      '    TF_1 weight 0',
      '  virtual_ipaddress',
      '    10.0.0.100/24',
    ]);
    expect(c.problems).toEqual([]);
  });

  it('a keyword keepalived does not know there: its { is ignored and its } ends the enclosing block', () => {
    const text = 'vrrp_instance V {\n  state BACKUP\n  foo {\n    bar 1\n  }\n  priority 9\n}\n';
    const c = parseKeepalivedText(text, F);
    // keepalived 2.2.7 -t: Unknown keyword 'foo', Unexpected '{', Unknown keyword 'bar', 'priority', '}'
    expect(outline(c.tree)).toEqual([
      'vrrp_instance V',
      '  state BACKUP',
      '  foo (unknown)',
      '  bar 1 (unknown)',
      'priority 9 (unknown)',
    ]);
    expect(c.tree[1].misplaced).toBe(
      "'vrrp_instance V' ended at line 5 with the '}' meant for the '{' ignored at line 3",
    );
    expect(c.problems.map((p) => p.at.line)).toEqual([3, 5, 7]);
  });

  it('a keyword newer than the host keepalived is unknown to it (auth_hmac: 2.4.0)', () => {
    const text = instance(150, '    auth_hmac {\n        key k\n    }\n');
    const old = parseKeepalivedText(text, F, { version: '2.2.7' });
    expect(outline(old.tree).slice(6, 9)).toEqual([
      '  auth_hmac (unknown)',
      '  key k (unknown)',
      'virtual_ipaddress (unknown)',
    ]);
    const now = parseKeepalivedText(text, F, { version: '2.4.0' });
    expect(outline(now.tree).slice(6, 8)).toEqual(['  auth_hmac', '    key k']);
  });

  it('a vrrp_instance with two names, or a second one of a name, is skipped whole (skip_block)', () => {
    const text = instance(150).replace('VI_1', 'VI 1') + instance(150) + instance(100);
    const c = parseKeepalivedText(text, F);
    expect(c.tree.map((n) => `${n.keyword} ${n.args.join(' ')}${n.skipped ? ` (skipped: ${n.skipped})` : ''}`)).toEqual(
      [
        'vrrp_instance VI 1 (skipped: keepalived skips the whole block: vrrp_instance takes exactly one name (here 2))',
        'vrrp_instance VI_1',
        'vrrp_instance VI_1 (skipped: keepalived skips the whole block: a second vrrp_instance VI_1)',
      ],
    );
  });

  it('a global_defs whose braces do not balance: the VRRP process counts braces and never reads what follows', () => {
    const text = 'global_defs {\n  foo {\n  }\n' + instance(150) + '}\n';
    const c = parseKeepalivedText(text, F);
    const vi = c.tree.find((n) => n.keyword === 'vrrp_instance')!;
    expect(vi.skipped).toContain("keepalived's VRRP process never reads it: it counts it inside 'global_defs'");
  });
});

describe('mapping what keepalived runs', () => {
  it('LVS with FILE_CHECK track_file: the instances are read, the LVS part kept as keepalived reads it', async () => {
    const r = await pair(lvs(3) + instance(150, '', 'MASTER'), lvs(3) + instance(100));
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances.map((i) => i.name)).toEqual(['VI_1']);
    expect(r.snippets).toHaveLength(1);
    const text = r.snippets[0].text;
    expect(text).toContain(
      '    real_server 10.2.3.2 80 {\n        weight 1\n' +
        '        FILE_CHECK {\n            track_file TF_1\n        }\n' +
        '    }\n}\n',
    );
    // nothing nested deeper than a real_server's checker
    expect(text.split('\n').every((l) => !l.startsWith(' '.repeat(16)))).toBe(true);
    expect(text).toContain('track_file TF_1 {\n    file /run/tf1\n    weight 0\n}\n');
  });

  it('auth_type AH: ha-setup authenticates with PASS, and says so', async () => {
    const auth = '    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n';
    const r = await pair(instance(150, auth), instance(100, auth));
    expect(r.answers.instances[0].authPassEnv).toBe('HA_VI_1_PASS');
    expect(r.dropped).toContainEqual({
      at: `a:${F}:8`,
      text:
        'auth_type: AH: ha-setup authenticates with PASS and the same password ' +
        "(keepalived's IPsec AH is not reproduced)",
    });
  });

  it('an authentication block without auth_type PASS or AH: keepalived runs without it, no password', async () => {
    const auth = '    authentication {\n        auth_pass secret1\n    }\n';
    const r = await pair(instance(150, auth, 'MASTER'), instance(100, auth));
    expect(r.answers.instances[0].authPassEnv).toBeUndefined();
    expect(r.secrets).toEqual([]);
    expect(r.dropped).toContainEqual({
      at: `a:${F}:7`,
      text: 'authentication: no auth_type PASS or AH: keepalived runs without authentication',
    });
    // 'PASS;' is not PASS either (vrrp_auth_type_handler compares the word)
    const semi = '    authentication {\n        auth_type PASS;\n        auth_pass secret1\n    }\n';
    const s = await pair(instance(150, semi, 'MASTER'), instance(100, semi));
    expect(s.answers.instances[0].authPassEnv).toBeUndefined();
    // one host with PASS, the other without a type: they drop each other's adverts
    const pass = '    authentication {\n        auth_type PASS\n        auth_pass secret1\n    }\n';
    const mixed = await pair(instance(150, pass, 'MASTER'), instance(100, auth));
    expect(mixed.warnings).toContain(
      'VRID 51: authentication runs on a but not on b: keepalived drops the adverts of the other kind',
    );
  });

  it('advert_int as keepalived runs it: VRRPv2 whole seconds, VRRPv3 10 ms, the range of each version', async () => {
    const adv = (v: string) => instance(150, '', 'MASTER').replace('advert_int 1', `advert_int ${v}`);
    const half = await pair(adv('0.5'), instance(100));
    expect(half.refusals).toEqual([]);
    expect(half.answers.instances[0].advertInt ?? 1).toBe(1);
    expect(half.warnings).toContain(
      `a:${F}:1: vrrp_instance VI_1: advert_int 0.5 with VRRPv2: keepalived rounds it to whole seconds: 1 s`,
    );
    const big = await pair(adv('1.6'), instance(100).replace('advert_int 1', 'advert_int 2'));
    expect(big.answers.instances[0].advertInt).toBe(2);
    // 2.0.10 on: the parser reads 0.01..255 s and keeps 1 s for anything else
    const out = await pair(adv('300'), instance(100));
    expect(out.answers.instances[0].advertInt ?? 1).toBe(1);
    expect(out.refusals).toEqual([]);
    // before (2.0.0 .. 2.0.9, 1.x): any positive value, VRRPv2 capped at 255 s
    const early = await pair(adv('300'), instance(100).replace('advert_int 1', 'advert_int 255'), { version: '2.0.5' });
    expect(early.answers.instances[0].advertInt).toBe(255);
    // VRRPv3: units of 10 ms, from the decimal value (0.145 is 0.15, as keepalived's microseconds make it)
    const v3 = 'global_defs {\n    vrrp_version 3\n}\n';
    const fine = await pair(v3 + adv('0.123'), v3 + instance(100).replace('advert_int 1', 'advert_int 0.12'));
    expect(fine.answers.instances[0].advertInt).toBe(0.12);
    const mid = await pair(v3 + adv('0.145'), v3 + instance(100).replace('advert_int 1', 'advert_int 0.15'));
    expect(mid.refusals).toEqual([]);
    expect(mid.answers.instances[0].advertInt).toBe(0.15);
    // keepalived 1.3.5 rounds the same way (its vrrp_complete_instance)
    const old = await pair(adv('0.5'), instance(100), { major: 1 });
    expect(old.refusals).toEqual([]);
    expect(old.answers.instances[0].advertInt ?? 1).toBe(1);
  });

  it('authentication as each host runs it: passwords compared only where a type uses them', async () => {
    const block = (type: string | null, pw: string) =>
      `    authentication {\n${type ? `        auth_type ${type}\n` : ''}        auth_pass ${pw}\n    }\n`;
    // neither host runs authentication: their unused passwords may differ
    const unused = await pair(instance(150, block(null, 'one1'), 'MASTER'), instance(100, block(null, 'two2')));
    expect(unused.refusals).toEqual([]);
    expect(unused.answers.instances[0].authPassEnv).toBeUndefined();
    // vrrp_strict (2.x) clears the type: nobody runs it, no claim that one side drops the other's adverts; the
    // password carried is the typed host's, whichever host comes first
    const strict = 'global_defs {\n    vrrp_strict\n}\n';
    const r = await pair(
      strict + instance(150, block(null, 'one1'), 'MASTER'),
      strict + instance(100, block('PASS', 'two2')),
    );
    expect(r.warnings.filter((w) => w.includes('drops the adverts'))).toEqual([]);
    expect(r.answers.instances[0].authPassEnv).toBe('HA_VI_1_PASS');
    expect(r.secrets.map((x) => x.where)).toEqual([`b:${F}:12`]);
  });

  it('a check that runs a program: its command line is the check, never the bytes of the program file', async () => {
    const elf = (...texts: string[]) => `\x7fELF\x02\x01\x01\0\0${texts.join('\0')}\0`;
    const scripts = {
      '/usr/bin/curl': elf('https://curl.se/docs/sslcerts.html', 'curl: (6) Could not resolve'),
      '/usr/bin/killall': elf('killall -0 sshd', 'usage'),
    };
    const check = (cmd: string) =>
      `vrrp_script chk {\n    script "${cmd}"\n    interval 1\n    fall 2\n}\n` +
      instance(150, '    track_script {\n        chk\n    }\n', 'MASTER');
    const curl = '/usr/bin/curl -s -o /dev/null --max-time 1 http://127.0.0.1/';
    const r = await pair(check(curl), check(curl).replace('150', '100').replace('MASTER', 'BACKUP'), { scripts });
    expect(r.answers.healthCheck?.url).toBe('http://127.0.0.1/');
    const killall = '/usr/bin/killall -0 nginx';
    const k = await pair(check(killall), check(killall).replace('150', '100').replace('MASTER', 'BACKUP'), {
      scripts,
    });
    expect(k.decisions).toContain(`healthCheck: vrrp_script chk (a:${F}:1) is an nginx process check`);
  });

  it('virtual_ipaddress_excluded: VIPs of the instance, of either family (keepalived moves them with it)', async () => {
    const ex = '    virtual_ipaddress_excluded {\n        2001:db8::100/64\n        10.0.0.101/24\n    }\n';
    const r = await pair(instance(150, ex, 'MASTER'), instance(100, ex));
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances[0].vips).toEqual(['10.0.0.100/24', '2001:db8::100/64', '10.0.0.101/24']);
    expect(r.dropped.filter((d) => d.text.includes('excluded'))).toEqual([]);
    expect(r.warnings).toContain(
      `a:${F}:7: virtual_ipaddress_excluded: keepalived moves these addresses with the instance without ` +
        'advertising them: ha-setup makes them VIPs of the instance (advertised; IPv6 ones of an IPv4 instance in ' +
        'its IPv6 twin, one sync group)',
    );
  });

  it('excluded addresses: each once, an instance of excluded ones only refused, the hosts compared', async () => {
    const ex = (a: string) => `    virtual_ipaddress_excluded {\n        ${a}\n    }\n`;
    const dup = await pair(instance(150, ex('10.0.0.100/24'), 'MASTER'), instance(100, ex('10.0.0.100/24')));
    expect(dup.answers.instances[0].vips).toEqual(['10.0.0.100/24']);
    expect(dup.dropped).toContainEqual({
      at: `a:${F}:8`,
      text: '10.0.0.100/24: 10.0.0.100 is already a VIP of this instance',
    });
    const only = (prio: number, state = 'BACKUP') =>
      instance(prio, ex('2001:db8::100/64'), state).replace(/ {4}virtual_ipaddress \{\n[^}]*\}\n/, '');
    const r = await pair(only(150, 'MASTER'), only(100));
    expect(r.refusals).toContain(
      'VRID 51 (VI_1): only virtual_ipaddress_excluded addresses: ha-setup advertises its VIPs, and the running ' +
        'nodes, which advertise none, would drop those adverts during the takeover',
    );
    const mixed = await pair(
      instance(150, ex('10.0.0.101/24'), 'MASTER'),
      instance(100, '').replace('10.0.0.100/24', '10.0.0.100/24\n        10.0.0.101/24'),
    );
    expect(mixed.refusals.some((x) => x.includes('10.0.0.101/24 (excluded)'))).toBe(true);
  });

  it('a vrrp_script without timeout: keepalived lets it run its interval; the answers say so', async () => {
    const script = 'vrrp_script chk {\n    script "/usr/bin/pgrep nginx"\n    interval 5\n    weight -60\n}\n';
    const track = '    track_script {\n        chk weight 0\n    }\n';
    const r = await pair(script + instance(150, track, 'MASTER'), script + instance(100, track));
    expect(r.answers.healthCheck?.timeout).toBe(5);
    expect(r.decisions).toContain(
      'healthCheck.timeout: vrrp_script chk has none: keepalived lets it run its interval, 5 s',
    );
    const withTimeout = await pair(
      script.replace('interval 5', 'interval 5\n    timeout 2') + instance(150, track, 'MASTER'),
      script.replace('interval 5', 'interval 5\n    timeout 2') + instance(100, track),
    );
    expect(withTimeout.answers.healthCheck?.timeout).toBe(2);
  });

  it('state MASTER without a priority line: keepalived runs priority 255 (the address owner)', async () => {
    const r = await pair(instance(null, '', 'MASTER'), instance(null));
    expect(r.warnings).toContain(
      `a:${F}:1: vrrp_instance VI_1: no priority line: keepalived gives state MASTER priority 255 (the address owner)`,
    );
    expect(r.refusals).toEqual(['VRID 51: priority 255 (the address owner) cannot be reproduced (ha-setup: 1..254)']);
    const backups = await pair(instance(150, '', 'MASTER'), instance(null));
    expect(backups.answers.nodes.map((n) => n.priority)).toEqual([150, 100]);
  });

  it('vrrp_strict + state MASTER + nopreempt: keepalived 2.x starts it BACKUP and keeps nopreempt', async () => {
    const strict = 'global_defs {\n    vrrp_strict\n}\n';
    const r = await pair(
      strict + instance(150, '    nopreempt\n', 'MASTER'),
      strict + instance(100, '    nopreempt\n'),
    );
    expect(r.answers.instances[0].preempt).toBe(false);
    // without vrrp_strict keepalived 2.x clears nopreempt on the MASTER
    const plain = await pair(instance(150, '    nopreempt\n', 'MASTER'), instance(100, '    nopreempt\n'));
    expect(plain.answers.instances[0].preempt).toBeUndefined();
    expect(plain.warnings).toContain(
      `a:${F}:1: vrrp_instance VI_1: nopreempt with state MASTER: keepalived clears nopreempt`,
    );
  });

  it('words after a value: each handler reads its own, keepalived ignores the rest: named', async () => {
    const a =
      'vrrp_script chk {\n    script "/usr/bin/killall -0 nginx"\n    interval 2 s\n}\n' +
      instance(150, '    advert_int 1  1\n    track_script {\n        chk\n    }\n').replace(
        'state BACKUP',
        'state MASTER priority 200',
      );
    const b = instance(100).replace('state BACKUP', 'state BACKUP or MASTER');
    const r = await pair(a, b);
    expect(r.answers.nodes.map((n) => n.priority)).toEqual([150, 100]);
    expect(r.dropped).toContainEqual({
      at: `a:${F}:6`,
      text: "state: keepalived reads 'state MASTER' and ignores what follows: priority 200",
    });
    expect(r.dropped).toContainEqual({
      at: `a:${F}:11`,
      text: "advert_int: keepalived reads 'advert_int 1' and ignores what follows: 1",
    });
    expect(r.dropped).toContainEqual({
      at: `a:${F}:3`,
      text: "interval: keepalived reads 'interval 2' and ignores what follows: s",
    });
    expect(r.dropped).toContainEqual({
      at: `b:${F}:2`,
      text: "state: keepalived reads 'state BACKUP' and ignores what follows: or MASTER",
    });
  });

  it('a script line: keepalived runs its first value; an unquoted command loses its arguments', async () => {
    const check = (line: string) =>
      `vrrp_script chk {\n    ${line}\n    interval 2\n}\n` + instance(150, '    track_script {\n        chk\n    }\n');
    const r = await pair(
      check('script /usr/bin/curl -sf http://127.0.0.1/'),
      check('script /usr/bin/curl -sf http://127.0.0.1/'),
    );
    expect(r.dropped).toContainEqual({
      at: `a:${F}:2`,
      text:
        "script: replaced by ha-setup's nginx check: its script /usr/bin/curl could not be read; keepalived runs " +
        "'/usr/bin/curl' and ignores what follows it: -sf http://127.0.0.1/ (a command with arguments must be quoted)",
    });
    expect(r.answers.healthCheck?.url).toBeUndefined();
  });

  it('curl -sfk https: no certificate check; ha-setup checks it: no URL, the difference named', async () => {
    const check = (url: string, flags: string) =>
      `vrrp_script chk {\n    script "/usr/bin/curl ${flags} ${url}"\n    interval 2\n    weight -60\n}\n` +
      instance(150, '    track_script {\n        chk\n    }\n');
    const https = await pair(check('https://127.0.0.1/health', '-sfk'), check('https://127.0.0.1/health', '-sfk'));
    expect(https.answers.healthCheck).toEqual({ mode: 'weight', interval: 2, fall: 1, rise: 1, weight: -60 });
    expect(
      https.warnings.some((w) => w.includes("it does not verify the certificate (curl -k): ha-setup's check")),
    ).toBe(true);
    expect(https.warnings).toContain(
      `a:${F}:1: vrrp_script chk (https://127.0.0.1/health): it fails on an HTTP error (4xx too); ` +
        "ha-setup's check fails on no answer or a 5xx only",
    );
    const http = await pair(check('http://127.0.0.1/', '-s'), check('http://127.0.0.1/', '-s'));
    expect(http.answers.healthCheck?.url).toBe('http://127.0.0.1/');
    expect(http.warnings).toContain(
      `a:${F}:1: vrrp_script chk (http://127.0.0.1/): it succeeds on any HTTP answer; ha-setup's check fails on a ` +
        '5xx too',
    );
  });

  it('notify_fifo and notify_fifo_script are kept together; a fifo script without its fifo does nothing', async () => {
    const both = 'global_defs {\n    notify_fifo /run/ka.fifo\n    notify_fifo_script /usr/local/bin/fifo.sh\n}\n';
    const r = await pair(both + instance(150), both + instance(100));
    expect(r.snippets[0].text).toContain(
      'global_defs {\n    notify_fifo /run/ka.fifo\n    notify_fifo_script /usr/local/bin/fifo.sh\n}\n',
    );
    const alone = 'global_defs {\n    vrrp_notify_fifo_script /usr/local/bin/fifo.sh\n}\n';
    const s = await pair(alone + instance(150), alone + instance(100));
    expect(s.snippets).toEqual([]);
    expect(s.dropped).toContainEqual({
      at: `a:${F}:2`,
      text: 'vrrp_notify_fifo_script: without vrrp_notify_fifo keepalived never runs it (the script reads that fifo)',
    });
  });

  it("each host's own weight: A 110 + weight 10, B 100 + weight 20: a failed check on A moves the VIP", async () => {
    const conf = (prio: number, w: number) =>
      `vrrp_script chk {\n    script "/usr/bin/killall -0 nginx"\n    weight ${w}\n}\n` +
      instance(prio, '    track_script {\n        chk\n    }\n');
    const r = await pair(conf(110, 10), conf(100, 20));
    expect(r.warnings.filter((w) => w.includes('never moved the VIP'))).toEqual([]);
    expect(r.answers.healthCheck?.weight).toBe(20);
    expect(r.warnings).toContain(
      'healthCheck: the hosts track chk with different weights (a 10, b 20); ha-setup uses one on every node: 20',
    );
    // the same weight on both, no bigger than the lead: a failed check never moved it
    const still = await pair(conf(110, 10), conf(100, 10));
    expect(still.answers.healthCheck?.weight).toBeUndefined();
    expect(still.warnings.some((w) => w.startsWith('healthCheck: a failed check never moved the VIP'))).toBe(true);
  });

  it('values that differ between hosts are named (preempt_delay, notification_email_from, smtp_server)', async () => {
    const globals = (from: string, smtp: string) =>
      `global_defs {\n    notification_email {\n        ops@example.com\n    }\n` +
      `    notification_email_from ${from}\n    smtp_server ${smtp}\n}\n`;
    const r = await pair(
      globals('ka@a.example.com', '10.0.0.25') + instance(150, '    preempt_delay 10\n'),
      globals('ka@b.example.com', '10.0.0.26') + instance(100, '    preempt_delay 30\n'),
    );
    expect(r.answers.instances[0].preemptDelay).toBe(10);
    expect(r.warnings).toContain(
      'instances VI_1: preempt_delay differs between the hosts (a 10 s, b 30 s): ha-setup writes one for every node ' +
        "(the master returning is the one it delays); imported: a's",
    );
    expect(r.warnings).toContain(
      'notification_email_from differs between the hosts (a ka@a.example.com, b ka@b.example.com): ha-setup writes ' +
        "one value for every node; imported: a's",
    );
    expect(r.warnings).toContain(
      'smtp_server differs between the hosts (a 10.0.0.25, b 10.0.0.26): ha-setup writes one value for every node; ' +
        "imported: a's",
    );
  });

  it("a node's own address in its unicast_peer list is the node itself, not a foreign host", async () => {
    const peers = '    unicast_peer {\n        10.0.0.1\n        10.0.0.2\n    }\n';
    const r = await pair(
      instance(150, `    unicast_src_ip 10.0.0.1\n${peers}`),
      instance(100, `    unicast_src_ip 10.0.0.2\n${peers}`),
    );
    expect(r.answers.instances[0].unicast).toBe(true);
    expect(r.warnings.filter((w) => w.includes('unicast_peer'))).toEqual([]);
    expect(r.dropped.filter((d) => d.text.includes('imported hosts'))).toEqual([]);
    const foreign = await pair(
      instance(150, '    unicast_src_ip 10.0.0.1\n    unicast_peer {\n        10.0.0.2\n        10.0.0.9\n    }\n'),
      instance(100, `    unicast_src_ip 10.0.0.2\n${peers}`),
    );
    expect(foreign.dropped).toContainEqual({
      at: `a:${F}:10`,
      text: '10.0.0.9: not one of the imported hosts: ha-setup sends its adverts to the imported nodes only',
    });
  });

  it('a keyword without the value its handler reads: keepalived stops, the pair is refused', async () => {
    const r = await pair(instance(150).replace('state BACKUP', 'state'), instance(100));
    expect(r.refusals).toContain(`a:${F}:2: 'state' without a value: keepalived stops there (configuration error)`);
  });
});

describe('every node of a tree read by context has one place', () => {
  it('the nodes of an LVS configuration nest no deeper than keepalived nests them', () => {
    const c = parseKeepalivedText(lvs(50) + instance(150), F);
    let deepest = 0;
    for (const [, parents] of walkConf(c.tree)) deepest = Math.max(deepest, parents.length);
    expect(deepest).toBe(3);
    expect(c.tree.filter((n) => n.keyword === 'vrrp_instance')).toHaveLength(1);
  });
});
