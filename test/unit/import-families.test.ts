/**
 * `ha-setup import` of the pairs the answers can express since issue 26 item 1: IPv6 and dual-stack instances (one
 * virtual router id per address family), instances on another interface than the node's, no fixed master (equal
 * priorities, the checks' weights decide), instance names that differ between nodes, a VIP kept where nopreempt
 * keeps it. A snippet written for each construct, read as keepalived reads it and mapped.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { vrrpInstancesOf, vrrpSyncGroupsOf } from '../../src/answers/targets.js';
import { mapImport } from '../../src/import/map.js';
import type { ImportResult } from '../../src/import/types.js';
import { importedHost } from '../fixtures/import/hosts.js';

const F = '/etc/keepalived/keepalived.conf';

interface Inst {
  name: string;
  vrid?: number;
  prio: number;
  iface?: string;
  vips: string[];
  extra?: string;
}

/** a vrrp_instance block */
function inst(i: Inst): string {
  return (
    `vrrp_instance ${i.name} {\n    state BACKUP\n    interface ${i.iface ?? 'eth0'}\n` +
    `    virtual_router_id ${i.vrid ?? 60}\n    priority ${i.prio}\n    advert_int 1\n${i.extra ?? ''}` +
    `    virtual_ipaddress {\n${i.vips.map((v) => `        ${v}\n`).join('')}    }\n}\n`
  );
}

function group(name: string, members: string[]): string {
  return `vrrp_sync_group ${name} {\n    group {\n${members.map((m) => `        ${m}\n`).join('')}    }\n}\n`;
}

interface HostConf {
  conf: string;
  ifs?: Record<string, string[]>;
  holds?: string[];
}

/** hosts a, b (c...) running these configurations; the first holds `holds` unless a host says otherwise */
async function hosts(confs: HostConf[], holds: string[] = []): Promise<ImportResult> {
  const all = await Promise.all(
    confs.map((c, h) => {
      const name = String.fromCharCode(97 + h);
      return importedHost({
        given: name,
        hostname: name,
        files: { [F]: c.conf },
        ifs: c.ifs ?? { eth0: [`10.0.0.${h + 1}/24`, `fd00::${h + 1}/64`, `fe80::${h + 1}/64`] },
        holds: c.holds ?? (h === 0 ? holds : []),
      });
    }),
  );
  const r = mapImport(all, { ssh: {} });
  // every line of every host has its fate, and a reason when it is not mapped
  expect(r.dropped.filter((d) => d.text.includes('not handled'))).toEqual([]);
  return r;
}

/** the vrrp_instances and sync groups init would render on each node for these answers */
function rendered(r: ImportResult): string[] {
  const cfg = resolveAnswers(r.answers, { env: { HA_WEB4_PASS: 'x', HA_VI_1_PASS: 'x' } });
  return cfg.nodes.map((n) =>
    [
      ...vrrpInstancesOf(cfg, n).map((v) => `${v.name} ${v.iface} ${v.base.virtualRouterId} IPv${v.family}`),
      ...vrrpSyncGroupsOf(cfg, n).map((g) => `${g.name}: ${g.members.join(' ')}`),
    ].join(', '),
  );
}

describe('import: an IPv4 and an IPv6 instance with one virtual router id', () => {
  const web = (prio4: number, prio6: number, extra = '') =>
    inst({ name: 'web4', prio: prio4, vips: ['10.0.0.60/24'], extra }) +
    inst({ name: 'web6', prio: prio6, vips: ['fd00::60/64'], extra });

  it('in one sync group, any names: one instance with VIPs of both families (twin and group renamed)', async () => {
    const r = await hosts(
      [
        { conf: group('WEB', ['web4', 'web6']) + web(150, 150) },
        { conf: group('WEB', ['web4', 'web6']) + web(100, 100) },
      ],
      ['10.0.0.60', 'fd00::60'],
    );
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances).toEqual([
      { name: 'web4', virtualRouterId: 60, vips: ['10.0.0.60/24', 'fd00::60/64'], master: 'a', advertInt: 1 },
    ]);
    expect(r.answers.syncGroups).toBeUndefined();
    expect(r.dropped).toEqual([]);
    expect(r.warnings).toContain(
      'instances web4: ha-setup names the IPv6 instance after the IPv4 one: init renames a web6 -> web4_v6, ' +
        'b web6 -> web4_v6 (what reads the old name, a notify script or a monitoring rule, must follow)',
    );
    expect(r.warnings).toContain(
      "vrrp_sync_group WEB (a): the group of web4's IPv4 and IPv6 instances: init renames it web4_dual",
    );
    expect(rendered(r)).toEqual([
      'web4 eth0 60 IPv4, web4_v6 eth0 60 IPv6, web4_dual: web4 web4_v6',
      'web4 eth0 60 IPv4, web4_v6 eth0 60 IPv6, web4_dual: web4 web4_v6',
    ]);
  });

  it('outside any group with one priority and start state: one instance, kept together by ha-setup', async () => {
    const r = await hosts([{ conf: web(150, 150) }, { conf: web(100, 100) }], ['10.0.0.60', 'fd00::60']);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances.map((i) => [i.name, i.vips])).toEqual([['web4', ['10.0.0.60/24', 'fd00::60/64']]]);
    expect(r.decisions).toContain(
      'instances web4 (VRID 60): its IPv4 and IPv6 vrrp_instances (one id, one interface) move together: one ' +
        'instance with VIPs of both families; ha-setup runs the IPv6 ones in web4_v6, in one sync group with it',
    );
  });

  it('that do not move together (other priorities, no common group): two instances of one id', async () => {
    const r = await hosts([{ conf: web(150, 140) }, { conf: web(100, 90) }], ['10.0.0.60', 'fd00::60']);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances.map((i) => [i.name, i.virtualRouterId, i.vips, i.priorities])).toEqual([
      ['web4', 60, ['10.0.0.60/24'], undefined],
      ['web6', 60, ['fd00::60/64'], { a: 140, b: 90 }],
    ]);
    expect(rendered(r)[0]).toBe('web4 eth0 60 IPv4, web6 eth0 60 IPv6');
  });

  it('one host runs them together, the other apart: one instance per family on every host', async () => {
    const r = await hosts([{ conf: web(150, 150) }, { conf: web(100, 90) }], ['10.0.0.60', 'fd00::60']);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances.map((i) => i.name)).toEqual(['web4', 'web6']);
    expect(r.decisions).toContain(
      'VRID 60: its IPv4 and IPv6 instances move together on a only: one instance per address family',
    );
  });

  it('an IPv6 VIP in an IPv4 instance is ignored by keepalived; one id twice for one family is refused', async () => {
    const mixed = inst({ name: 'VI_1', prio: 150, vips: ['10.0.0.60/24', 'fd00::61/64'] });
    const r = await hosts([{ conf: mixed }, { conf: mixed.replace('priority 150', 'priority 100') }]);
    expect(r.answers.instances[0].vips).toEqual(['10.0.0.60/24']);
    expect(r.dropped).toContainEqual({
      at: `a:${F}:9`,
      text:
        'fd00::61/64: an IPv6 address in an IPv4 instance: keepalived ignores it (one address family per ' +
        'vrrp_instance, set by its first address)',
    });
    const twice = mixed + inst({ name: 'VI_2', prio: 150, vips: ['10.0.0.62/24'] });
    const refused = await hosts([{ conf: twice }, { conf: twice.replace(/priority 150/g, 'priority 100') }]);
    expect(refused.refusals).toContain(
      'a: VRID 60 is used by VI_1 and VI_2 on eth0 (IPv4): keepalived refuses an id twice on an interface for one ' +
        'address family',
    );
  });
});

describe('import: IPv6-only instances', () => {
  it("IPv6 VIPs, unicast between IPv6 peers: the node's IPv6 source is nodes[].address6", async () => {
    const six = (prio: number, src: string, peer: string) =>
      inst({
        name: 'VI_6',
        vrid: 66,
        prio,
        vips: ['fd00::66/64'],
        extra: `    unicast_src_ip ${src}\n    unicast_peer {\n        ${peer}\n    }\n`,
      });
    const r = await hosts(
      [{ conf: six(150, 'FD00:0::1', 'fd00::2') }, { conf: six(100, 'fd00::2', 'fd00::1') }],
      ['fd00::66'],
    );
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => [n.name, n.address, n.address6])).toEqual([
      // (an IPv4 address too, as for any host given by name)
      ['a', '10.0.0.1', 'fd00::1'],
      ['b', '10.0.0.2', 'fd00::2'],
    ]);
    expect(r.answers.instances).toEqual([
      { name: 'VI_6', virtualRouterId: 66, vips: ['fd00::66/64'], master: 'a', advertInt: 1, unicast: true },
    ]);
    expect(r.dropped).toEqual([]);
  });

  it('native_ipv6, unicast peers, no source: the global address of the interface (not link-local)', async () => {
    const six = (prio: number, peer: string) =>
      `vrrp_instance VI_6 {\n    native_ipv6\n    interface eth0\n    virtual_router_id 66\n    priority ${prio}\n` +
      `    unicast_peer {\n        ${peer}\n    }\n    virtual_ipaddress {\n        fd00::66/64\n    }\n}\n`;
    const r = await hosts([{ conf: six(150, 'fd00::2') }, { conf: six(100, 'fd00::1') }], ['fd00::66']);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => n.address6)).toEqual(['fd00::1', 'fd00::2']);
    expect(r.answers.instances[0]).toMatchObject({ vips: ['fd00::66/64'], unicast: true });
    expect(r.ledger.find((l) => l.keyword === 'native_ipv6')?.how).toBe('mapped');
    // no global address: refused, with why
    const bare = await hosts([
      { conf: six(150, 'fd00::2'), ifs: { eth0: ['10.0.0.1/24', 'fe80::1/64'] } },
      { conf: six(100, 'fd00::1') },
    ]);
    expect(bare.refusals).toEqual([
      'a: no IPv6 address to send the IPv6 unicast adverts from (no unicast_src_ip, no global address on the ' +
        'interface): ha-setup needs one (nodes[].address6)',
    ]);
  });
});

describe('import: instances on several interfaces', () => {
  const three = (prio: number, ifs: [string, string]) =>
    inst({ name: 'VI_1', vrid: 51, prio, iface: ifs[0], vips: ['10.0.0.51/24'] }) +
    inst({ name: 'VI_2', vrid: 52, prio, iface: ifs[1], vips: ['10.9.0.52/24'] }) +
    inst({ name: 'VI_3', vrid: 53, prio, iface: ifs[0], vips: ['10.0.0.53/24'] }) +
    // one id on two interfaces is another instance for keepalived
    inst({ name: 'VI_9', vrid: 51, prio, iface: ifs[1], vips: ['10.9.0.59/24'] });
  const ifs = (h: number) => ({ eth0: [`10.0.0.${h}/24`], eth1: [`10.9.0.${h}/24`] });

  it("the node's interface is the one most instances use; the others name theirs", async () => {
    const r = await hosts([
      { conf: three(150, ['eth0', 'eth1']), ifs: ifs(1) },
      { conf: three(100, ['eth0', 'eth1']), ifs: ifs(2) },
    ]);
    expect(r.refusals).toEqual([]);
    expect(r.answers.nodes.map((n) => n.interface)).toEqual(['eth0', 'eth0']);
    expect(r.answers.instances.map((i) => [i.name, i.virtualRouterId, i.interface])).toEqual([
      ['VI_1', 51, undefined],
      ['VI_9', 51, 'eth1'],
      ['VI_2', 52, 'eth1'],
      ['VI_3', 53, undefined],
    ]);
    expect(rendered(r)[1]).toBe('VI_1 eth0 51 IPv4, VI_9 eth1 51 IPv4, VI_2 eth1 52 IPv4, VI_3 eth0 53 IPv4');
  });

  it('another interface under another name on each node: refused, one line each', async () => {
    const r = await hosts([
      { conf: three(150, ['eth0', 'eth1']), ifs: ifs(1) },
      { conf: three(100, ['ens3', 'ens4']), ifs: { ens3: ['10.0.0.2/24'], ens4: ['10.9.0.2/24'] } },
    ]);
    expect(r.refusals).toEqual([
      // one id on two interfaces: which is which on the other host?
      'VRID 51: on several interfaces (a eth0 and eth1, b ens3 and ens4): ha-setup matches the instances of one id ' +
        'across the hosts by their interface, which must then have the same name on every host',
      "VRID 52 (VI_2): on other interfaces than its nodes', under different names (a eth1 (its node's eth0), " +
        "b ens4 (its node's ens3)): ha-setup's instances[].interface is one name for every node",
    ]);
  });
});

describe('import: no fixed master, names per node, the VIPs kept where they are', () => {
  const api = (name: string) =>
    'vrrp_script chk {\n    script "/usr/bin/killall -0 nginx"\n    interval 1\n    weight 2\n}\n' +
    inst({
      name,
      vrid: 51,
      prio: 100,
      vips: ['10.0.0.51/24'],
      extra: '    track_script {\n        chk\n    }\n',
    });

  it('equal priorities, the weight decides (kubeadm): master auto, the holder said, names per node', async () => {
    const r = await hosts([
      { conf: api('k8s-api@v1:main') },
      { conf: api('VI_API'), holds: ['10.0.0.51'] },
      { conf: api('k8s-api@v1:main') },
    ]);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances).toEqual([
      {
        name: 'k8s-api@v1:main',
        names: { b: 'VI_API' },
        virtualRouterId: 51,
        vips: ['10.0.0.51/24'],
        master: 'auto',
        advertInt: 1,
      },
    ]);
    expect(r.answers.nodes.map((n) => n.priority)).toEqual([100, 100, 100]);
    expect(r.answers.healthCheck).toMatchObject({ mode: 'weight', weight: 2 });
    expect(r.decisions).toContain(
      'instances k8s-api@v1:main (VRID 51): master auto: a and b and c have priority 100 (no fixed master: the ' +
        "checks' weights decide, and a node that holds the VIPs keeps them against an equal priority); b holds its " +
        'VIPs now',
    );
    expect(r.decisions).toContain(
      'instances k8s-api@v1:main (VRID 51): named VI_API on b (instances[].names): one instance, the virtual ' +
        'router id ties them',
    );
    const cfg = resolveAnswers(r.answers, { env: {} });
    expect(cfg.instances[0]).toMatchObject({ masterAuto: true, trackWeight: 2 });
    expect(cfg.instances[0].names).toEqual({ a: 'k8s-api@v1:main', b: 'VI_API', c: 'k8s-api@v1:main' });
  });

  it('a name keepalived reads but ha-setup cannot write (a path separator): refused, naming the rule', async () => {
    const r = await hosts([{ conf: api('api/v1') }, { conf: api('api/v1') }]);
    expect(r.refusals).toEqual([
      "VRID 51: instance name 'api/v1' is not one ha-setup accepts (1-63 characters of A-Z a-z 0-9 _ . : @ + , = " +
        '% ^ ~ - starting with a letter, digit or _)',
    ]);
  });
});

describe('import: addresses as keepalived reads them', () => {
  it('one family per instance, set by its first address: the other family ignored, a bad address skipped', async () => {
    const conf = (prio: number, peer: string) =>
      `vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority ${prio}\n` +
      '    virtual_ipaddress {\n        10.0.0.51/24\n        not-an-ip/24\n        10.0.0.52/33\n    }\n' +
      // after the IPv4 VIPs: an IPv6 source, native_ipv6, an IPv6 peer are ignored
      `    unicast_src_ip fd00::9\n    native_ipv6\n    unicast_peer {\n        fd00::8\n        nope\n` +
      `        ${peer}\n    }\n}\n`;
    const r = await hosts([{ conf: conf(150, '10.0.0.2') }, { conf: conf(100, '10.0.0.1') }]);
    expect(r.refusals).toEqual([]);
    expect(r.answers.instances[0]).toMatchObject({ vips: ['10.0.0.51/24'], unicast: true });
    // no IPv4 source: the interface's address
    expect(r.answers.nodes.map((n) => n.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    const other = 'keepalived ignores it (one address family per vrrp_instance, set by its first address)';
    expect(r.dropped.filter((d) => d.at.startsWith('a:')).map((d) => `${d.at.split(':')[2]} ${d.text}`)).toEqual([
      '7 not-an-ip/24: not an IPv4 or IPv6 address[/prefix]: keepalived skips it',
      '8 10.0.0.52/33: not an IPv4 or IPv6 address[/prefix]: keepalived skips it',
      `10 unicast_src_ip: an IPv6 address in an IPv4 instance: ${other}`,
      '11 native_ipv6: the instance has IPv4 addresses: keepalived ignores it',
      `13 fd00::8: an IPv6 address in an IPv4 instance: ${other}`,
      "14 nope: 'nope' is not an IP address: keepalived skips it",
    ]);
  });

  it('two unicast sources of one family on a node: refused (ha-setup has one per node and family)', async () => {
    const two = (h: number) =>
      ['VI_1', 'VI_2']
        .map((name, k) =>
          inst({
            name,
            vrid: 51 + k,
            prio: 150 - h * 50,
            vips: [`10.0.0.${51 + k}/24`],
            extra: `    unicast_src_ip 10.0.${k}.${h + 1}\n    unicast_peer {\n        10.0.${k}.${2 - h}\n    }\n`,
          }),
        )
        .join('');
    const r = await hosts([{ conf: two(0) }, { conf: two(1) }]);
    expect(r.refusals).toContain(
      'a: unicast_src_ip 10.0.0.1 and 10.0.1.1: ha-setup sends the IPv4 adverts of every instance from one address ' +
        'of the node (nodes[].address)',
    );
  });
});

describe('import: a sync group and the check weight', () => {
  const grouped = (prio: number, tracking: string) =>
    'vrrp_script chk {\n    script "/usr/bin/killall -0 nginx"\n    interval 1\n    weight -60\n}\n' +
    `vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n${tracking}}\n` +
    ['VI_1', 'VI_2']
      .map((name, k) =>
        inst({
          name,
          vrid: 51 + k,
          prio,
          vips: [`10.0.0.${51 + k}/24`],
          extra: '    track_script {\n        chk\n    }\n',
        }),
      )
      .join('');

  it('keepalived applies the weights only with sync_group_tracking_weight: kept then, else dropped', async () => {
    const on = await hosts([
      { conf: grouped(150, '    sync_group_tracking_weight\n') },
      { conf: grouped(100, '    sync_group_tracking_weight\n') },
    ]);
    expect(on.answers.healthCheck?.weight).toBe(-60);
    expect(on.answers.syncGroups).toEqual([{ name: 'G', instances: ['VI_1', 'VI_2'] }]);
    const off = await hosts([{ conf: grouped(150, '') }, { conf: grouped(100, '') }]);
    expect(off.answers.healthCheck?.weight).toBeUndefined();
    expect(off.decisions).toContain(
      'healthCheck.weight: -60 not imported: keepalived ignores tracking weights in a sync group without ' +
        'sync_group_tracking_weight (global_tracking on 1.x): a failed check puts the group in FAULT',
    );
  });

  it('a sync group on one host only: written on every node, said so', async () => {
    const r = await hosts([
      { conf: grouped(150, '    sync_group_tracking_weight\n') },
      { conf: grouped(100, '').replace(/vrrp_sync_group G \{[^]*?\n\}\n/, '') },
    ]);
    expect(r.answers.syncGroups).toEqual([{ name: 'G', instances: ['VI_1', 'VI_2'] }]);
    expect(r.warnings).toContain('vrrp_sync_group G: on a only: ha-setup writes it on every node');
  });
});
