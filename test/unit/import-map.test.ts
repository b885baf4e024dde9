import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { answersSchema } from '../../src/answers/schema.js';
import { parseDaemonArgs } from '../../src/import/daemon-options.js';
import { parseKeepalivedText, walkConf } from '../../src/import/keepalived-conf.js';
import { classifyCheck, commandOf } from '../../src/import/map-checks.js';
import { IMPORTED_DIR, mapImport, nodeNames, printConf } from '../../src/import/map.js';
import type { ImportedHost, ImportResult } from '../../src/import/types.js';
import { FIXTURES, fixture, importedHost, type HostSpec } from '../fixtures/import/hosts.js';

const SSH = { ssh: { user: 'root', identityFile: '~/.ssh/id_ed25519' } };

/** what keepalived runs for one script line */
const command = (line: string, major: 1 | 2, notify = false) =>
  commandOf(parseKeepalivedText(line, '/k.conf', { major }).tree[0], major, notify);
const KA_MAIN = '/data/apps/keepalived/etc/keepalived/keepalived.conf';
const NGINX_004: [string, string][] = [
  ['/etc/nginx/nginx.conf', fixture('nginx-org-nginx.conf')],
  ['/etc/nginx/mime.types', fixture('nginx-mime.types')],
  ['/etc/nginx/conf.d/default.conf', fixture('nginx-org-default.conf')],
  ['/etc/nginx/conf.d/web.conf', fixture('004-web.conf')],
];

/** guide 004's active-active pair as it runs: each node holds the VIP of the instance it is MASTER of */
function pair004(over: { a?: Partial<HostSpec>; b?: Partial<HostSpec> } = {}): Promise<ImportedHost[]> {
  const common = {
    main: KA_MAIN,
    argv: ['-f', KA_MAIN, '-D'],
    scripts: { '/data/apps/keepalived/chk_nginx.sh': fixture('004-chk_nginx.sh') },
    nginx: NGINX_004,
  };
  return Promise.all([
    importedHost({
      ...common,
      given: '172.16.70.181',
      hostname: 'KeepMaster',
      files: { [KA_MAIN]: fixture('004-keepmaster.conf') },
      ifs: { lo: ['127.0.0.1/8'], ens33: ['172.16.70.181/24'] },
      holds: ['172.16.70.183'],
      ...over.a,
    }),
    importedHost({
      ...common,
      given: '172.16.70.182',
      hostname: 'KeepBackup',
      files: { [KA_MAIN]: fixture('004-keepbackup.conf') },
      ifs: { lo: ['127.0.0.1/8'], ens33: ['172.16.70.182/24'] },
      holds: ['172.16.70.184'],
      ...over.b,
    }),
  ]);
}

/** guide 000's pair: lb01 built from lb02's final configuration (the guide shows lb02's only) */
function pair000(
  lb01 = 'pair-000-lb01.conf',
  lb02 = 'pair-000-lb02.conf',
  holds: [string[], string[]] = [['10.0.0.3'], []],
) {
  const F = '/etc/keepalived/keepalived.conf';
  const scripts = { '/servers/scripts/check_nginx.sh': fixture('000-check_nginx.sh') };
  return Promise.all([
    importedHost({
      given: 'lb01',
      hostname: 'lb01',
      files: { [F]: fixture(lb01) },
      ifs: { ens33: ['10.0.0.7/24'] },
      holds: holds[0],
      scripts,
      major: 1,
    }),
    importedHost({
      given: 'lb02',
      hostname: 'lb02',
      files: { [F]: fixture(lb02) },
      ifs: { ens33: ['10.0.0.8/24'] },
      holds: holds[1],
      scripts,
      major: 1,
    }),
  ]);
}

/**
 * every node of every host's tree has exactly one ledger entry, mapped, kept or dropped (never "not handled"), and
 * every kept or dropped node is named in a note: itself, or the block it is in
 */
function expectAccountedFor(hosts: ImportedHost[], r: ImportResult): void {
  const names = nodeNames(hosts);
  const nodes: { at: string; keyword: string; parents: string[] }[] = [];
  hosts.forEach((h, i) => {
    for (const [n, parents] of walkConf(h.config.tree))
      nodes.push({
        at: `${names[i]}:${n.at.file}:${n.at.line}`,
        keyword: n.keyword,
        parents: parents.map((p) => `${names[i]}:${p.at.file}:${p.at.line}`),
      });
  });
  expect(r.ledger.map((l) => `${l.at} ${l.keyword}`)).toEqual(nodes.map((n) => `${n.at} ${n.keyword}`));
  expect(r.dropped.filter((d) => d.text.includes('not handled'))).toEqual([]);
  const noted = new Set([...r.dropped, ...r.kept].map((n) => n.at));
  r.ledger.forEach((l, i) => {
    expect(['mapped', 'kept', 'dropped']).toContain(l.how);
    if (l.how !== 'mapped') expect([nodes[i].at, ...nodes[i].parents].some((a) => noted.has(a))).toBe(true);
  });
}

describe('mapImport: guide 004 (active-active, two instances)', () => {
  it('reproduces the running pair in answers that pass the schema and resolve', async () => {
    const hosts = await pair004();
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers).toEqual({
      nodes: [
        { name: 'KeepMaster', host: '172.16.70.181', user: 'root', interface: 'ens33', priority: 110 },
        { name: 'KeepBackup', host: '172.16.70.182', user: 'root', interface: 'ens33', priority: 100 },
      ],
      instances: [
        {
          name: 'VI_1',
          virtualRouterId: 51,
          vips: ['172.16.70.183/32'],
          master: 'KeepMaster',
          advertInt: 1,
          authPassEnv: 'HA_VI_1_PASS',
        },
        {
          name: 'VI_2',
          virtualRouterId: 52,
          vips: ['172.16.70.184/32'],
          master: 'KeepBackup',
          advertInt: 1,
          authPassEnv: 'HA_VI_2_PASS',
        },
      ],
      profile: 'standard',
      ssh: { identityFile: '~/.ssh/id_ed25519' },
      healthCheck: { mode: 'restart-then-stop', interval: 2, fall: 1, rise: 1 },
      nginx: {
        sync: true,
        syncFrom: 'KeepMaster',
        upstream: { backends: ['172.16.70.191:80', '172.16.70.192:80'], listen: 80, maxFails: 3, failTimeout: 20 },
      },
      system: { selinux: 'leave', firewall: 'leave', multicast: true },
      notify: {
        email: ['acassen@firewall.loc', 'failover@firewall.loc', 'sysadmin@firewall.loc'],
        emailFrom: 'Alexandre.Cassen@firewall.loc',
        smtpServer: '192.168.200.1',
        script: null,
      },
      keepalived: { includeDir: IMPORTED_DIR },
    });
    expect(answersSchema.safeParse(r.answers).success).toBe(true);
    const cfg = resolveAnswers(r.answers, { env: { HA_VI_1_PASS: '1111', HA_VI_2_PASS: '1111' } });
    expect(cfg.instances.map((i) => [i.name, i.master, i.priorities])).toEqual([
      ['VI_1', 'KeepMaster', { KeepMaster: 110, KeepBackup: 100 }],
      ['VI_2', 'KeepBackup', { KeepMaster: 100, KeepBackup: 110 }],
    ]);
    expectAccountedFor(hosts, r);
  });
});

describe('mapImport: guide 004, secrets and notes', () => {
  it('names the password variable, says where the password is, and never copies it', async () => {
    const r = mapImport(await pair004(), SSH);
    expect(r.secrets).toEqual([
      { env: 'HA_VI_1_PASS', instance: 'VI_1', where: `KeepMaster:${KA_MAIN}:34` },
      { env: 'HA_VI_2_PASS', instance: 'VI_2', where: `KeepMaster:${KA_MAIN}:52` },
    ]);
    expect(JSON.stringify(r.answers)).not.toContain('1111');
    expect(JSON.stringify(r.snippets)).not.toContain('1111');
    const prefixed = mapImport(await pair004(), { ssh: {}, passwordEnvPrefix: 'LB_' });
    expect(prefixed.answers.instances.map((i) => i.authPassEnv)).toEqual(['LB_VI_1_PASS', 'LB_VI_2_PASS']);
  });

  it('reports what it keeps, drops and decides, with host:file:line', async () => {
    const r = mapImport(await pair004(), SSH);
    // smtp_connect_timeout 30 is what ha-setup writes itself with notify.email: mapped
    expect(r.kept).toEqual([
      {
        at: `KeepMaster:${KA_MAIN}:14`,
        text: `vrrp_skip_check_adv_addr: kept as a snippet in includeDir: ${IMPORTED_DIR}/imported.conf`,
      },
      {
        at: `KeepBackup:${KA_MAIN}:14`,
        text: `vrrp_skip_check_adv_addr: kept as a snippet in includeDir: ${IMPORTED_DIR}/imported.conf`,
      },
    ]);
    expect(r.snippets).toEqual([
      {
        name: 'imported.conf',
        text:
          '! imported by ha-setup from KeepMaster, KeepBackup: what the answers cannot express\n' +
          'global_defs {\n    vrrp_skip_check_adv_addr\n}\n',
      },
    ]);
    const dropped = r.dropped.map((d) => `${d.at.replace(KA_MAIN, 'K')} ${d.text.split(':')[0]}`);
    expect(dropped).toEqual([
      'KeepMaster:/etc/nginx/conf.d/web.conf:4 nginx',
      'KeepMaster:/etc/nginx/conf.d/web.conf:12 nginx',
      'KeepBackup:/etc/nginx/conf.d/web.conf:4 nginx',
      'KeepBackup:/etc/nginx/conf.d/web.conf:12 nginx',
      'KeepMaster:K:15 vrrp_strict',
      'KeepMaster:K:16 vrrp_garp_interval',
      'KeepMaster:K:17 vrrp_gna_interval',
      'KeepBackup:K:15 vrrp_strict',
      'KeepBackup:K:16 vrrp_garp_interval',
      'KeepBackup:K:17 vrrp_gna_interval',
    ]);
    // vrrp_strict: keepalived starts a MASTER that is not the address owner (priority 255) as BACKUP
    expect(r.warnings).toEqual([
      `KeepMaster:${KA_MAIN}:26: vrrp_instance VI_1: vrrp_strict: the start state must match being the address ` +
        'owner: keepalived starts it BACKUP',
      `KeepBackup:${KA_MAIN}:44: vrrp_instance VI_2: vrrp_strict: the start state must match being the address ` +
        'owner: keepalived starts it BACKUP',
      `KeepBackup:${KA_MAIN}:27: state: 'BAKCUP' is not a state: keepalived reads it as BACKUP`,
    ]);
    expect(r.decisions).toContain(
      'instances VI_2 (VRID 52): master KeepBackup: it holds the VIPs now and has the highest priority (110)',
    );
    expect(r.decisions).toContain(
      'healthCheck.weight: -5 not imported: the script stops keepalived itself and exits 0, so keepalived never ' +
        'applies the weight',
    );
  });

  it('nginx.sync is false when the hosts nginx configurations differ; latent faults are warnings', async () => {
    const other: [string, string][] = [...NGINX_004.slice(0, 3), ['/etc/nginx/conf.d/web.conf', '# nothing\n']];
    const hosts = await pair004({
      b: { nginx: other, nginxFails: 'nginx: [emerg] unknown directive "x"', keepalived: 'failed' },
    });
    const r = mapImport(hosts, SSH);
    expect(r.answers.nginx).toMatchObject({ sync: false });
    expect(r.answers.nginx!.syncFrom).toBeUndefined();
    expect(r.warnings).toContain(
      'KeepBackup: latent fault: nginx -T fails (exit 1): nginx: [emerg] unknown directive "x"',
    );
    expect(r.warnings).toContain('KeepBackup: latent fault: keepalived is not active (failed)');
  });
});

describe('mapImport: refusals', () => {
  it("the hosts disagree on a VRID's VIPs", async () => {
    const r = mapImport(await pair000('pair-000-lb01.conf', 'pair-000-lb02-othervip.conf'), SSH);
    expect(r.refusals).toEqual(['VRID 50: the hosts disagree on the VIPs: lb01 10.0.0.3/32, lb02 10.0.0.4/32']);
  });

  it('advert interval, version, auth type and password, split brain (not names, nor equal priorities)', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const conf = (name: string, prio: number, extra: string) =>
      `vrrp_instance ${name} {\n interface eth0\n virtual_router_id 7\n priority ${prio}\n${extra}` +
      ' virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n';
    const host = (given: string, text: string, holds: string[]) =>
      importedHost({
        given,
        hostname: given,
        files: { [F]: text },
        ifs: { eth0: [`10.0.0.${given.length}/24`] },
        holds,
      });
    const hosts = await Promise.all([
      host('lb1', conf('VI_A', 100, ' advert_int 1\n authentication {\n  auth_type PASS\n  auth_pass aa\n }\n'), [
        '10.0.0.9',
      ]),
      host(
        'lb02',
        conf('VI_B', 100, ' advert_int 2\n version 3\n authentication {\n  auth_type AH\n  auth_pass bb\n }\n'),
        ['10.0.0.9'],
      ),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([
      'VRID 7: the hosts disagree on the advert interval: lb1 1s, lb02 2s',
      'VRID 7: the hosts disagree on the VRRP version: lb1 v2, lb02 v3',
      // VRRPv3 has no authentication: keepalived ignores lb02's AH
      'VRID 7: the hosts disagree on the authentication type: lb1 PASS, lb02 none',
      'VRID 7: the hosts disagree on the authentication password (lb1, lb02; values not shown)',
      'VRID 7 (VI_A): split brain now: 10.0.0.9 is held by lb1 and lb02',
      'the instances mix VRRP versions 2 and 3; ha-setup runs one profile',
    ]);
    expect(JSON.stringify(r)).not.toMatch(/"(aa|bb)"/);
    // names differ: one instance named per node; equal priorities: no fixed master
    expect(r.answers.instances[0]).toMatchObject({ name: 'VI_A', names: { lb02: 'VI_B' }, master: 'auto' });
  });

  it('an instance on one host only, or without a valid virtual router id', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const a = 'vrrp_instance V {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.9\n }\n}\n';
    const b = a.replace('virtual_router_id 7', 'virtual_router_id 300');
    const hosts = await Promise.all([
      importedHost({ given: 'a', hostname: 'a', files: { [F]: a }, ifs: { eth0: ['10.0.0.1/24'] } }),
      importedHost({ given: 'b', hostname: 'b', files: { [F]: b }, ifs: { eth0: ['10.0.0.2/24'] } }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([
      'b: vrrp_instance V has no valid virtual_router_id',
      'VRID 7: configured on a (V) but not on b',
      'no vrrp_instance common to the hosts: nothing to take over',
    ]);
    expect(r.dropped.find((d) => d.text.startsWith('virtual_router_id'))).toBeUndefined();
    expect(r.warnings).toContain(`b:${F}:3: virtual_router_id: '300' is not 1..255: keepalived refuses it`);
  });
});

describe('mapImport: guide 004, its first keepalived.conf', () => {
  it('"priority 110" and full-width spaces is priority 100 for keepalived: equal priorities, master auto', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const master = fixture('004-keepalived-first.conf');
    // the guide's backup: "备服务器这为 BACKUP", "备服务器这小于110"
    const backup = master.replace(/state MASTER.*/, 'state BACKUP').replace(/priority 110.*/, 'priority 100');
    const hosts = await Promise.all([
      importedHost({
        given: 'a',
        hostname: 'KeepMaster',
        files: { [F]: master },
        ifs: { ens33: ['172.16.70.181/24'] },
      }),
      importedHost({
        given: 'b',
        hostname: 'KeepBackup',
        files: { [F]: backup },
        ifs: { ens33: ['172.16.70.182/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    // keepalived runs both at 100: no fixed master, the check's weight -5 moves the VIP off a failing holder
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances[0].master).toBe('auto');
    expect(r.answers.healthCheck?.weight).toBe(-5);
    expect(r.decisions).toContain(
      'instances VI_1 (VRID 51): master auto: KeepMaster and KeepBackup have priority 100 (no fixed master: the ' +
        "checks' weights decide, and a node that holds the VIPs keeps them against an equal priority); no host " +
        'holds all its VIPs now',
    );
    expect(r.warnings).toContain(
      `KeepMaster:${F}:27: state: 'MASTER\u3000\u3000\u3000\u3000' is not a state: keepalived reads it as BACKUP`,
    );
    expect(r.warnings).toContain(
      `KeepMaster:${F}:30: priority: '110\u3000\u3000\u3000\u3000' is not 1..255: keepalived uses 100`,
    );
  });
});

describe('mapImport: guide 000 (nopreempt, the restart-then-stop script, keepalived 1.3.5)', () => {
  it('maps the pair; the master is the VIP holder with the highest priority', async () => {
    const hosts = await pair000();
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => [n.name, n.priority, n.interface])).toEqual([
      ['lb01', 200, 'ens33'],
      ['lb02', 150, 'ens33'],
    ]);
    expect(r.answers.instances).toEqual([
      {
        name: 'VI_1',
        virtualRouterId: 50,
        vips: ['10.0.0.3/32'],
        master: 'lb01',
        advertInt: 1,
        authPassEnv: 'HA_VI_1_PASS',
      },
    ]);
    expect(r.answers.healthCheck).toEqual({ mode: 'restart-then-stop', interval: 5, fall: 1, rise: 1 });
    expect(answersSchema.safeParse(r.answers).success).toBe(true);
    expectAccountedFor(hosts, r);
  });

  it('nopreempt after a failover: the VIP stays where keepalived keeps it, on the lower priority holder', async () => {
    const hosts = await pair000('pair-000-lb01-nopreempt.conf', 'pair-000-lb02-nopreempt.conf', [[], ['10.0.0.3']]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    // lb02 is the master now: it takes the highest priority (nodes keep theirs: resolve derives the swap)
    expect(r.answers.instances[0]).toMatchObject({ master: 'lb02', preempt: false });
    expect(r.answers.instances[0].priorities).toBeUndefined();
    expect(r.warnings).toContain(
      'instances VI_1 (VRID 50): master lb02: it holds the VIPs now and keepalived keeps them there (nopreempt on ' +
        'lb01, priority 200); the answers give lb02 the highest priority, so init changes the priorities, not ' +
        'where the VIPs are',
    );
    const cfg = resolveAnswers(r.answers, { env: { HA_VI_1_PASS: '1111' } });
    expect(cfg.instances[0]).toMatchObject({ master: 'lb02', preempt: false, priorities: { lb01: 150, lb02: 200 } });
  });

  it('a VIP on the lower priority node of a preempting pair: the master stays the highest priority', async () => {
    const hosts = await pair000('pair-000-lb01.conf', 'pair-000-lb02.conf', [[], ['10.0.0.3']]);
    const r = mapImport(hosts, SSH);
    expect(r.answers.instances[0]).toMatchObject({ master: 'lb01' });
    expect(r.warnings).toContain(
      'instances VI_1 (VRID 50): master lb01 (highest priority 200), but lb02 holds the VIPs now (priority 150): ' +
        'a failed check on lb01?',
    );
  });
});

describe('mapImport: the other guides pairs', () => {
  const F = '/etc/keepalived/keepalived.conf';
  const pair = (a: string, b: string, spec: Partial<HostSpec> = {}) =>
    Promise.all([
      importedHost({
        given: '192.168.0.201',
        hostname: 'lb01',
        files: { [F]: fixture(a) },
        ifs: { enp0s3: ['192.168.0.201/24'] },
        holds: ['192.168.0.200'],
        ...spec,
      }),
      importedHost({
        given: '192.168.0.202',
        hostname: 'lb02',
        files: { [F]: fixture(b) },
        ifs: { enp0s3: ['192.168.0.202/24'] },
        ...spec,
      }),
    ]);

  it('003: the check_ng.sh restart-then-stop script, weight not applied', async () => {
    const hosts = await pair('003-master.conf', '003-backup.conf', {
      scripts: { '/etc/keepalived/check_ng.sh': fixture('003-check_ng.sh') },
    });
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => n.name)).toEqual(['nginx_master', 'nginx_backup']);
    expect(r.answers.healthCheck).toEqual({ mode: 'restart-then-stop', interval: 2, fall: 3, rise: 2 });
    expect(r.answers.instances[0].master).toBe('nginx_master');
    expectAccountedFor(hosts, r);
  });

  it('002: one router_id for both (host names used), a sync group of one, state SLAVE, a keyword typo', async () => {
    const hosts = await Promise.all([
      importedHost({
        given: 'h1',
        hostname: 'ha1',
        files: { [F]: fixture('002-master.conf') },
        ifs: { ens33: ['192.168.171.161/24'] },
        holds: ['192.168.171.160'],
      }),
      importedHost({
        given: 'h2',
        hostname: 'ha2',
        files: { [F]: fixture('002-slave.conf') },
        ifs: { ens33: ['192.168.171.162/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => n.name)).toEqual(['ha1', 'ha2']);
    expect(r.answers.instances).toEqual([
      {
        name: 'VI_HA',
        virtualRouterId: 51,
        vips: ['192.168.171.160/24'],
        master: 'ha1',
        advertInt: 5,
        authPassEnv: 'HA_VI_HA_PASS',
      },
    ]);
    expect(r.answers.syncGroups).toBeUndefined();
    const texts = r.dropped.map((d) => d.text);
    expect(texts).toContain('vrrp_sync_group: sync group of 1 instance(s): nothing to move together');
    expect(texts).toContain(
      'lvs_sync_daemon_inteface: keepalived 2.x does not know this keyword in vrrp_instance: ' +
        'it logs "Unknown keyword" and ignores it',
    );
    expect(r.warnings).toContain(`ha2:${F}:14: state: 'SLAVE' is not a state: keepalived reads it as BACKUP`);
    expectAccountedFor(hosts, r);
  });
});

describe('mapImport: guide 001', () => {
  const F = '/etc/keepalived/keepalived.conf';

  it('001: a haproxy check is not an nginx check (warned); master and backup on different interfaces', async () => {
    const hosts = await Promise.all([
      importedHost({
        given: 'm',
        hostname: 'm',
        files: { [F]: fixture('001-master.conf') },
        ifs: { eth0: ['192.168.31.110/24'] },
        holds: ['192.168.31.199'],
      }),
      importedHost({
        given: 'b',
        hostname: 'b',
        files: { [F]: fixture('001-backup.conf') },
        ifs: { ens33: ['192.168.31.112/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.answers.nodes.map((n) => [n.name, n.interface])).toEqual([
      ['LVS_DEVEL_MASTER', 'eth0'],
      ['LVS_DEVEL_BACKUP', 'ens33'],
    ]);
    expect(r.answers.healthCheck).toEqual({ mode: 'weight', interval: 3, fall: 3, rise: 1, timeout: 2, weight: -11 });
    expect(r.warnings).toContain(
      `LVS_DEVEL_MASTER:${F}:8: vrrp_script check_haproxy: it checks the process haproxy, not nginx; ` +
        'ha-setup checks nginx instead',
    );
    expect(resolveAnswers(r.answers, { env: { HA_VI_1_PASS: '1111' } }).healthCheck.weight).toBe(-11);
    expectAccountedFor(hosts, r);
  });
});

describe('mapImport: includes', () => {
  function treeFiles(): Record<string, string> {
    const root = join(FIXTURES, 'tree');
    const files: Record<string, string> = {};
    const walk = (p: string) => {
      if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
      else files[`/${relative(root, p)}`] = readFileSync(p, 'utf8');
    };
    walk(root);
    return files;
  }

  it('conf.d holds the tracked check: ha-setup includes its own directory with what it cannot express', async () => {
    const files = treeFiles();
    const lb02 = Object.fromEntries(
      Object.entries(files).map(([p, t]) => [
        p,
        t
          .replace('router_id lb01', 'router_id lb02')
          .replace('state MASTER', 'state BACKUP')
          .replace('priority 150', 'priority 100'),
      ]),
    );
    const hosts = await Promise.all([
      importedHost({
        given: '10.0.0.1',
        hostname: 'lb01',
        files,
        ifs: { eth0: ['10.0.0.1/24'] },
        holds: ['10.0.0.10', '10.0.0.11'],
      }),
      importedHost({ given: '10.0.0.2', hostname: 'lb02', files: lb02, ifs: { eth0: ['10.0.0.2/24'] } }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances[0].vips).toEqual(['10.0.0.10/24', { address: '10.0.0.11/24', label: 'eth0:1' }]);
    expect(r.answers.healthCheck).toEqual({ mode: 'weight', interval: 2, fall: 2, rise: 1 });
    expect(r.answers.keepalived).toEqual({ includeDir: IMPORTED_DIR });
    const dir = r.warnings.find((w) => w.startsWith('keepalived.includeDir'));
    expect(dir).toContain('/etc/keepalived/conf.d holds what ha-setup now writes itself (vrrp_script chk_nginx)');
    expect(r.warnings.filter((w) => w.includes('include cycle'))).toHaveLength(2);
    expect(r.snippets).toHaveLength(1);
    expect(r.snippets[0].text).toContain('virtual_server 10.0.0.10 443 {\n    delay_loop 6\n');
    expect(r.snippets[0].text).toContain('static_routes {\n    192.168.100.0/24 via 10.0.0.1 dev eth0\n}\n');
    expect(r.snippets[0].text).toContain('vrrp_script chk_unused {\n    script /bin/true\n}\n');
    expect(r.kept.map((k) => k.at)).toEqual([
      'lb01:/etc/keepalived/conf.d/20-lvs.conf:2',
      'lb01:/etc/keepalived/extra/routes.ka:2',
      'lb01:/etc/keepalived/loop/b.conf:2',
      'lb02:/etc/keepalived/conf.d/20-lvs.conf:2',
      'lb02:/etc/keepalived/extra/routes.ka:2',
      'lb02:/etc/keepalived/loop/b.conf:2',
    ]);
    expectAccountedFor(hosts, r);
  });

  it('a conf.d of kept snippets only stays the includeDir', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const main = (p: number) =>
      `vrrp_instance V {\n interface eth0\n virtual_router_id 9\n priority ${p}\n` +
      ' virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n' +
      'include /etc/keepalived/conf.d/*.conf\n';
    const routes = 'static_routes {\n  192.168.1.0/24 via 10.0.0.254\n}\n';
    const hosts = await Promise.all([
      importedHost({
        given: 'a',
        hostname: 'a',
        files: { [F]: main(150), '/etc/keepalived/conf.d/r.conf': routes },
        ifs: { eth0: ['10.0.0.1/24'] },
      }),
      importedHost({
        given: 'b',
        hostname: 'b',
        files: { [F]: main(100), '/etc/keepalived/conf.d/r.conf': routes },
        ifs: { eth0: ['10.0.0.2/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.answers.keepalived).toEqual({ includeDir: '/etc/keepalived/conf.d' });
    expect(r.snippets).toEqual([]);
    expect(r.kept[0]).toEqual({
      at: 'a:/etc/keepalived/conf.d/r.conf:1',
      text: 'static_routes: stays in /etc/keepalived/conf.d (keepalived.includeDir)',
    });
  });
});

describe('mapImport: keepalived 1.x and 2.x readings', () => {
  const F = '/etc/keepalived/keepalived.conf';

  it('keepalived 1.3.5 does not know track_file: its block ends the instance early (as it reads it)', async () => {
    const text = fixture('v1-track-file.conf');
    const hosts = await Promise.all(
      ['a', 'b'].map((h, i) =>
        importedHost({
          given: h,
          hostname: h,
          files: { [F]: text.replace('priority 150', `priority ${150 - i}`) },
          ifs: { eth0: [`10.0.0.${i + 1}/24`] },
          major: 1,
        }),
      ),
    );
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toContain('VRID 51 (VI_1): no VIP ha-setup can manage');
    const a = r.dropped.filter((d) => d.at.startsWith('a:')).map((d) => `${d.at.split(':')[2]} ${d.text.slice(0, 70)}`);
    expect(a).toEqual([
      '2 vrrp_track_file: keepalived 1.x does not know this keyword in the top ',
      '3 file: keepalived 1.x does not know this keyword in the top level: it l',
      '10 track_file: keepalived 1.x does not know this keyword in vrrp_instance',
      '11 nginx_state: keepalived 1.x does not know this keyword in vrrp_instanc',
      '13 advert_int: keepalived 1.x does not know this keyword in the top level',
      '14 virtual_ipaddress: keepalived 1.x does not know this keyword in the to',
      '15 10.0.0.10/24: keepalived 1.x does not know this keyword in the top lev',
    ]);
    // the lines after the instance's early end are read at the top level: each says why
    expect(r.dropped.find((d) => d.at === `a:${F}:13`)!.text).toContain(
      "it is read there because 'vrrp_instance VI_1' ended at line 12 with the '}' meant for the '{' ignored at " +
        'line 10',
    );
    expect(r.warnings).toContain(
      `a:${F}:12: this '}' (meant for the '{' of line 10) ends 'vrrp_instance VI_1': keepalived reads the lines ` +
        'after it as top-level keywords',
    );
  });

  it('2.x definitions, ~SEQ VIPs, unicast peers and a notify script', async () => {
    const text = fixture('v2-constructs.conf');
    const hosts = await Promise.all([
      importedHost({
        given: 'lb01',
        hostname: 'lb01',
        files: { [F]: text },
        ifs: { eth0: ['192.168.50.11/24'] },
        holds: ['192.168.50.100', '192.168.50.101', '192.168.50.102'],
      }),
      importedHost({
        given: 'lb02',
        hostname: 'lb02',
        files: { [F]: text.replace('unicast_src_ip 192.168.50.11', 'unicast_src_ip 192.168.50.12') },
        ifs: { eth0: ['192.168.50.12/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes).toEqual([
      { name: 'lb01', host: 'lb01', user: 'root', interface: 'eth0', priority: 150, address: '192.168.50.11' },
      { name: 'lb02', host: 'lb02', user: 'root', interface: 'eth0', priority: 100, address: '192.168.50.12' },
    ]);
    expect(r.answers.instances[0]).toEqual({
      name: 'VI_1',
      virtualRouterId: 60,
      vips: ['192.168.50.100/24', '192.168.50.101/24', '192.168.50.102/24'],
      master: 'lb01',
      advertInt: 1,
      unicast: true,
    });
    expect(r.answers.notify).toEqual({ email: [], script: '/usr/local/bin/notify.sh' });
    expect(r.dropped.filter((d) => d.text.startsWith('not understood'))).toEqual([
      {
        at: `lb01:${F}:32`,
        text: 'not understood: ${_RANDOM}: a random number; the value keepalived used is not known',
      },
      {
        at: `lb02:${F}:32`,
        text: 'not understood: ${_RANDOM}: a random number; the value keepalived used is not known',
      },
    ]);
    // the node's own address in its peers is the node itself, not a foreign host
    expect(r.warnings.filter((w) => w.includes('unicast_peer'))).toEqual([]);
    expect(r.decisions).toContain(
      `lb01:${F}:22: unicast_peer 192.168.50.11 is lb01 itself: ha-setup lists the other nodes`,
    );
    expect(answersSchema.safeParse(r.answers).success).toBe(true);
    expectAccountedFor(hosts, r);
  });
});

describe('mapImport: edge cases', () => {
  const F = '/etc/keepalived/keepalived.conf';

  it('edge cases: quoted names, glued braces, several notify commands, an unusable password', async () => {
    const text = fixture('edge-cases.conf');
    const hosts = await Promise.all([
      importedHost({
        given: 'a',
        hostname: 'a',
        files: { [F]: text },
        ifs: { eth0: ['10.0.0.1/24'] },
        holds: ['10.0.0.10'],
      }),
      importedHost({
        given: 'b',
        hostname: 'b',
        files: { [F]: text.replace('router_id lb01', 'router_id lb02').replace('priority 150', 'priority 100') },
        ifs: { eth0: ['10.0.0.2/24'] },
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances[0].vips).toEqual([{ address: '10.0.0.10/24', label: 'eth0:1' }]);
    expect(r.answers.healthCheck).toMatchObject({ url: 'http://127.0.0.1/', interval: 2, fall: 3, rise: 2 });
    expect(r.dropped.map((d) => d.text)).toContain(
      'notify_master: several notify commands (/etc/keepalived/notify.sh master | /etc/keepalived/notify.sh backup): ' +
        'ha-setup runs one notify.script',
    );
    expect(r.warnings).toContain(
      `lb01:${F}:18: the current auth_pass has characters ha-setup does not accept; choose a new one for HA_VI_1_PASS`,
    );
    expect(r.warnings).toContain(`lb01:${F}:27: extra '}' found: keepalived ignores it`);
  });
});

describe('the corpus: every guide configuration maps, and every construct is accounted for', () => {
  const confs = readdirSync(FIXTURES).filter((f) => /\.conf$/.test(f) && !/web\.conf|^nginx/.test(f));

  it.each(confs)('%s', async (name) => {
    const F = '/etc/keepalived/keepalived.conf';
    for (const major of [1, 2] as const) {
      const host = await importedHost({
        given: 'h',
        hostname: 'h',
        files: { [F]: fixture(name) },
        ifs: { eth0: ['10.9.9.9/24'] },
        major,
      });
      const r = mapImport([host], SSH);
      expectAccountedFor([host], r);
      const how = (k: string) => r.ledger.filter((l) => l.keyword === k).map((l) => l.how);
      if (major === 2) {
        for (const k of ['virtual_router_id', 'virtual_ipaddress', 'priority'])
          expect(how(k).every((h) => h === 'mapped')).toBe(true);
        expect(how('vrrp_instance').every((h) => h === 'mapped')).toBe(true);
      }
    }
  });
});

describe('pieces', () => {
  it('classifies the guides check scripts', () => {
    const s = {
      '/a.sh': fixture('000-check_nginx.sh'),
      '/b.sh': fixture('003-check-curl.sh'),
      '/c.sh': fixture('004-chk_nginx.sh'),
    };
    expect(classifyCheck(['/a.sh'], s).kind).toBe('restart-then-stop');
    expect(classifyCheck(['/bin/bash', '/c.sh'], s)).toEqual({ kind: 'restart-then-stop', file: '/c.sh' });
    expect(classifyCheck(['/b.sh'], s)).toEqual({
      kind: 'http',
      url: 'http://localhost/',
      file: '/b.sh',
      tool: { insecure: false, failOnError: false },
    });
    expect(classifyCheck(command('script "killall -0 nginx"', 2).words, s).kind).toBe('process');
    expect(classifyCheck(command('script "wget -q --spider 127.0.0.1:8080/index.html"', 2).words, s)).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:8080/index.html',
      tool: { insecure: false, failOnError: true },
    });
    expect(classifyCheck(['/usr/bin/nc', '-nzv', '127.0.0.1', '5000'], s).kind).toBe('other');
    expect(classifyCheck(['/missing.sh'], s)).toEqual({
      kind: 'other',
      what: 'its script /missing.sh could not be read',
    });
    // keepalived runs the first value of a script line: unquoted words after it are not run (1.x and 2.x)
    expect(command('script killall -0 nginx', 1)).toEqual({ words: ['killall'], user: [], ignored: ['-0', 'nginx'] });
    expect(command('script killall -0 nginx', 2)).toEqual({ words: ['killall'], user: [], ignored: ['-0', 'nginx'] });
    // 2.x re-reads the line with single quotes and escapes; a notify line takes a user and a group after it
    expect(command(`notify "/bin/n.sh 'a b'" keepalived_script`, 2, true)).toEqual({
      words: ['/bin/n.sh', 'a b'],
      user: ['keepalived_script'],
      ignored: [],
    });
  });

  it('node names: router_id when valid and unique, else host names', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const h = (rid: string, hostname: string) =>
      importedHost({
        given: hostname,
        hostname,
        files: { [F]: `global_defs {\n router_id ${rid}\n}\n` },
        ifs: { eth0: [] },
      });
    expect(nodeNames(await Promise.all([h('a', 'x.example'), h('b', 'y.example')]))).toEqual(['a', 'b']);
    expect(nodeNames(await Promise.all([h('a', 'x.example'), h('a', 'y.example')]))).toEqual(['x', 'y']);
  });

  it('prints keepalived text that reads back the same', () => {
    const nodes = [
      {
        keyword: 'vrrp_script',
        args: ['chk web'],
        at: { file: 'f', line: 1 },
        children: [{ keyword: 'script', args: ['/bin/echo a#b'], at: { file: 'f', line: 2 } }],
      },
    ];
    expect(printConf(nodes)).toBe('vrrp_script "chk web" {\n    script "/bin/echo a#b"\n}\n');
  });

  it("a track_script line's weight overrides the vrrp_script's; reverse is reported", async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const conf = (p: number) =>
      'vrrp_script chk {\n script "/usr/bin/killall -0 nginx"\n weight -5 reverse\n}\n' +
      `vrrp_instance V {\n interface eth0\n virtual_router_id 9\n priority ${p}\n` +
      ' virtual_ipaddress {\n  10.0.0.9/24\n }\n track_script {\n  chk weight -60\n }\n}\n';
    const hosts = await Promise.all([
      importedHost({ given: 'a', hostname: 'a', files: { [F]: conf(150) }, ifs: { eth0: ['10.0.0.1/24'] } }),
      importedHost({ given: 'b', hostname: 'b', files: { [F]: conf(100) }, ifs: { eth0: ['10.0.0.2/24'] } }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.answers.healthCheck).toEqual({ mode: 'weight', interval: 1, fall: 1, rise: 1, weight: -60 });
    expect(r.dropped).toContainEqual({ at: `a:${F}:3`, text: 'weight: reverse: not reproduced' });
    expectAccountedFor(hosts, r);
  });

  it('daemon options other than -D, -S, -f, -i are noted as dropped', async () => {
    const F = '/etc/keepalived/keepalived.conf';
    const conf = (p: number) =>
      `vrrp_instance V {\n interface eth0\n virtual_router_id 9\n priority ${p}\n` +
      ' virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n';
    const hosts = await Promise.all([
      importedHost({
        given: 'a',
        hostname: 'a',
        files: { [F]: conf(150) },
        ifs: { eth0: ['10.0.0.1/24'] },
        argv: ['-D', '-S', '3', '--vrrp', '-X'],
      }),
      importedHost({
        given: 'b',
        hostname: 'b',
        files: { [F]: conf(100) },
        ifs: { eth0: ['10.0.0.2/24'] },
        argv: ['-DS3', '-P'],
      }),
    ]);
    const r = mapImport(hosts, SSH);
    expect(r.answers.logging).toEqual({ facility: 'local3' });
    expect(r.dropped).toEqual([
      { at: 'a:KEEPALIVED_OPTIONS', text: 'keepalived options --vrrp -X: not reproduced' },
      { at: 'b:KEEPALIVED_OPTIONS', text: 'keepalived options -P: not reproduced' },
    ]);
    expect(parseDaemonArgs(['--use-f', '/x.conf', '--vrrp', '-Df/y.conf']).other).toEqual(['--vrrp']);
    expect(parseDaemonArgs(['--pid=/run/k.pid', '-p', '/run/k2.pid']).other).toEqual([
      '--pid=/run/k.pid',
      '-p /run/k2.pid',
    ]);
    expect(hosts[1].daemonOptions).toMatchObject(parseDaemonArgs(['-DS3', '-P']));
  });
});
