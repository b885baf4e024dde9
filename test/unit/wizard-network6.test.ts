/**
 * The wizard's network questions beyond one IPv4 VIP on the nodes' interface, with a scripted prompter and a
 * scripted discovery (test/helpers/wizard-script.ts, no network): the IPv6 VIP offered beside the IPv4 one when the
 * interface has a global IPv6 address on the nodes (a free one proposed, checked with ping -6 and neighbour
 * discovery from the master; accepted, changed or declined), an interface with IPv6 only, and the interface asked
 * per instance when the nodes have several. Also the IPv6 rules on their own.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { checkVip6, network6Of, vip6Candidates } from '../../src/wizard/network6.js';
import { wizard } from '../../src/wizard/wizard.js';
import type { RawAnswers } from '../fixtures/answers.js';
import { fakeIO } from '../helpers/fake-io.js';
import { ENTER, scripted, scriptedDiscovery, type Answer, type DiscoveryScript } from '../helpers/wizard-script.js';

/** the lab pair known (host keys), its nodes and everything but the instances answered */
function pairGiven(nodes?: Record<string, unknown>[]) {
  const kh = join(mkdtempSync(join(tmpdir(), 'wiz6-kh-')), 'known_hosts');
  writeFileSync(kh, '198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
  return {
    ssh: { hostKeyPolicy: 'strict', knownHostsFile: kh },
    nodes: nodes ?? [
      { name: 'lb01', host: '198.18.0.11', interface: 'host0', priority: 110 },
      { name: 'lb02', host: '198.18.0.12', interface: 'host0', priority: 100 },
    ],
    profile: 'standard',
    healthCheck: { mode: 'weight' },
    nginx: {},
    system: { selinux: 'leave', firewall: 'leave', multicast: true },
  };
}

async function run(answers: Answer[], script: DiscoveryScript, nodes?: Record<string, unknown>[]) {
  const d = scriptedDiscovery(script);
  const p = scripted(answers);
  const io = fakeIO();
  const a = (await wizard(pairGiven(nodes), p, { discovery: d, io })) as RawAnswers;
  return { a, p, d, io, q: (re: RegExp) => p.asked.find((x) => re.test(x.message))! };
}

const dualStack = { shape: () => ({ ipv6: true, eth1Down: true }) };

describe('an IPv6 VIP beside the IPv4 one (dual-stack)', () => {
  it('a free address of the prefix is proposed (the IPv4 VIP as its interface id) and accepted', async () => {
    // master, IPv4 VIP (proposed), IPv6 VIP (proposed), id, password, preempt
    const { a, q, d, io } = await run(['single', 'lb01', ENTER, ENTER, ENTER, '', true], dualStack);
    const six = q(/IPv6 VIP beside/);
    expect(six.message).toBe('VI_1: an IPv6 VIP beside 198.18.0.253/24 (dual-stack: host0 has fd00:198:18::11/64)?');
    expect(six.choices).toEqual(['proposed', 'other', 'none']);
    expect(six.choiceNames).toEqual([
      'yes: fd00:198:18::253/64 (free)',
      'yes, another address of fd00:198:18::/64',
      'no: IPv4 only',
    ]);
    expect(six.default).toBe('proposed');
    expect(d.link.filter((l) => l.startsWith('ndp'))).toEqual(['ndp host0 fd00:198:18::253']);
    expect(io.stderr).toContain(
      'fd00:198:18::253 is free (nothing answers ping -6 or neighbour discovery for it): proposed for VI_1',
    );
    expect(a.instances[0].vips).toEqual(['198.18.0.253/24', 'fd00:198:18::253/64']);
    expect(a.instances[0]).not.toHaveProperty('interface');
    const cfg = resolveAnswers({ ...a, instances: [{ ...a.instances[0], authPass: undefined }] }, { env: {} });
    expect(cfg.instances[0].vips.map((v) => [v.address, v.prefix, v.family])).toEqual([
      ['198.18.0.253', 24, 4],
      ['fd00:198:18::253', 64, 6],
    ]);
  });

  it('another address: each bad one refused in one line naming the field; an address in use skipped', async () => {
    const ndp: DiscoveryScript['ndp'] = (ip) =>
      ip === 'fd00:198:18::253'
        ? { lladdr: null, echo: true }
        : ip === 'fd00:198:18::22'
          ? { lladdr: 'aa:bb:cc:00:00:22', echo: false }
          : null;
    const typed = [
      'zz',
      '198.18.0.5',
      'fe80::5',
      'fd00:198:19::5',
      'fd00:198:18::5/80',
      'fd00:198:18::12',
      'fd00:198:18::22',
      'fd00:198:18::253',
      'FD00:198:18:0::100',
    ];
    const { a, q, d } = await run(['single', 'lb01', ENTER, 'other', ...typed, ENTER, '', true], { ...dualStack, ndp });
    // ::253 answers ping -6: the next candidate from the top is proposed
    expect(d.link.filter((l) => l.startsWith('ndp')).slice(0, 2)).toEqual([
      'ndp host0 fd00:198:18::253',
      'ndp host0 fd00:198:18::254',
    ]);
    expect(q(/IPv6 VIP beside/).choiceNames?.[0]).toBe('yes: fd00:198:18::254/64 (free)');
    const typedQ = q(/IPv6 VIP, a free address/);
    expect(typedQ.message).toBe('VI_1: IPv6 VIP, a free address in fd00:198:18::/64 (host0 of lb01)');
    expect(typedQ.default).toBeUndefined();
    expect(typedQ.rejected).toEqual([
      'zz: IPv6 VIP: "zz" is not an IPv6 address; give x:y::z with an optional /prefix',
      '198.18.0.5: IPv6 VIP: 198.18.0.5 is an IPv4 address; give an IPv6 address (x:y::z)',
      'fe80::5: IPv6 VIP: fe80::5 is link-local (fe80::/10); give a global address of fd00:198:18::/64',
      "fd00:198:19::5: IPv6 VIP: fd00:198:19::5 is not in the interface's prefix fd00:198:18::/64",
      "fd00:198:18::5/80: IPv6 VIP: use the interface's prefix /64 (got /80)",
      "fd00:198:18::12: IPv6 VIP: fd00:198:18::12 is a load balancer's own address; a VIP must be free",
      'fd00:198:18::22: IPv6 VIP: fd00:198:18::22 is in use: it answers neighbour discovery from ' +
        'aa:bb:cc:00:00:22; choose a free address',
      'fd00:198:18::253: IPv6 VIP: fd00:198:18::253 is in use: it answers ping -6; choose a free address',
    ]);
    // written as ha-setup compares addresses (RFC 5952), with the interface's prefix
    expect(a.instances[0].vips).toEqual(['198.18.0.253/24', 'fd00:198:18::100/64']);
  });

  it('declined: IPv4 only; not offered when a node has no address of the prefix on the interface', async () => {
    const declined = await run(['single', 'lb01', ENTER, 'none', ENTER, '', true], dualStack);
    expect(declined.a.instances[0].vips).toEqual(['198.18.0.253/24']);

    const lb02v4 = await run(['single', 'lb01', ENTER, ENTER, '', true], {
      shape: (h) => ({ ipv6: h === '198.18.0.11', eth1Down: true }),
    });
    expect(lb02v4.p.asked.some((x) => /IPv6/.test(x.message))).toBe(false);
    expect(lb02v4.io.stderr).toContain('VI_1: no IPv6 VIP offered: lb02 has no address of fd00:198:18::/64 on host0');
    expect(lb02v4.d.link.some((l) => l.startsWith('ndp'))).toBe(false);
    expect(lb02v4.a.instances[0].vips).toEqual(['198.18.0.253/24']);

    // no global IPv6 address (a link-local one only): nothing offered, nothing said
    const v4only = await run(['single', 'lb01', ENTER, ENTER, '', true], { shape: () => ({ eth1Down: true }) });
    expect(v4only.p.asked.some((x) => /IPv6/.test(x.message))).toBe(false);
    expect(v4only.io.stderr.filter((l) => /IPv6/.test(l))).toEqual([]);
  });

  it("the probe fails: nothing proposed (said why); a typed address is the operator's choice", async () => {
    const { a, q, io } = await run(['single', 'lb01', ENTER, 'other', 'fd00:198:18::100', ENTER, '', true], {
      ...dualStack,
      ndpFails: true,
    });
    const six = q(/IPv6 VIP beside/);
    expect(six.choices).toEqual(['other', 'none']);
    expect(six.default).toBe('none');
    expect(io.stderr).toContain(
      'no IPv6 VIP proposed: the probe from lb01 failed, so fd00:198:18::253 could not be checked',
    );
    expect(a.instances[0].vips).toEqual(['198.18.0.253/24', 'fd00:198:18::100/64']);
  });

  it("IPv6 only on the interface: the instance's VIP is IPv6, asked (not offered), a free one proposed", async () => {
    // master, interface (eth1 has IPv4: two candidates), IPv6 VIP, id, password, preempt
    const { a, p, q } = await run(['single', 'lb01', ENTER, ENTER, ENTER, '', true], {
      shape: () => ({ ipv6: true, noIPv4: true }),
    });
    expect(p.asked.some((x) => /: VIP/.test(x.message) || /beside/.test(x.message))).toBe(false);
    expect(q(/IPv6 VIP, a free address/).default).toBe('fd00:198:18::254');
    expect(a.instances[0].vips).toEqual(['fd00:198:18::254/64']);
  });

  it('offline: the VIPs are typed, of either family', async () => {
    const p = scripted(['single', 'lb01', '172.16.70.183/24, fd00:198:18::100/64', '51', '', true]);
    const a = (await wizard(pairGiven(), p)) as RawAnswers;
    expect(p.asked.find((x) => /VIP\(s\)/.test(x.message))!.message).toBe(
      'VI_1: VIP(s) with prefix, e.g. 172.16.70.183/24 or fd00:198:18::100/64',
    );
    expect(a.instances[0].vips).toEqual(['172.16.70.183/24', 'fd00:198:18::100/64']);
  });
});

describe('several interfaces: the interface of each instance', () => {
  it("asked per instance (default: the nodes' own); written only when it differs", async () => {
    const { a, p, d } = await run(
      [
        'double',
        'lb01',
        'eth1', // VI_1 on eth1: its VIP in 10.9.9.0/24, probed and listened for there
        ENTER,
        ENTER,
        '',
        true,
        'lb02',
        ENTER, // VI_2 on host0, the nodes' interface
        ENTER,
        ENTER,
        '',
        true,
      ],
      {},
    );
    const [q1, q2] = p.asked.filter((x) => /interface of its VIPs/.test(x.message));
    expect(q1.message).toBe('VI_1: interface of its VIPs and VRRP adverts (on every node)');
    expect(q1.choices).toEqual(['host0', 'eth1']);
    expect(q1.choiceNames).toEqual([
      "host0  lb01 198.18.0.11/24, lb02 198.18.0.12/24  (the nodes' VRRP interface)",
      'eth1  lb01 10.9.9.11/24, lb02 10.9.9.12/24',
    ]);
    expect([q1.default, q2.default]).toEqual(['host0', 'host0']);
    expect(p.asked.find((x) => /VI_1: VIP/.test(x.message))!.message).toBe(
      'VI_1: VIP, a free address in 10.9.9.0/24 (eth1 of lb01)',
    );
    expect(a.instances[0]).toMatchObject({ name: 'VI_1', interface: 'eth1', vips: ['10.9.9.253/24'] });
    expect(a.instances[1]).toMatchObject({ name: 'VI_2', vips: ['198.18.0.253/24'] });
    expect(a.instances[1]).not.toHaveProperty('interface');
    // ARP from the instance's interface; the ids other routers use heard on each interface once
    expect(d.link).toEqual([
      'arp eth1 10.9.9.254',
      'arp eth1 10.9.9.253',
      'arp eth1 10.9.9.253',
      'listen eth1',
      'arp host0 198.18.0.254',
      'arp host0 198.18.0.253',
      'arp host0 198.18.0.253',
      'listen host0',
    ]);
    const cfg = resolveAnswers(a, { env: {} });
    expect(cfg.instances.map((x) => x.interface)).toEqual(['eth1', null]);
  });

  it('one candidate interface: not asked; interfaces named apart per node: "each node\'s own" first', async () => {
    const one = await run(['single', 'lb01', ENTER, ENTER, '', true], { shape: () => ({ eth1Down: true }) });
    expect(one.p.asked.some((x) => /interface of its VIPs/.test(x.message))).toBe(false);

    const mixed = await run(['single', 'lb01', ENTER, ENTER, ENTER, '', true], {}, [
      { name: 'lb01', host: '198.18.0.11', interface: 'host0', priority: 110 },
      { name: 'lb02', host: '198.18.0.12', interface: 'eth1', priority: 100 },
    ]);
    const q = mixed.q(/interface of its VIPs/);
    expect(q.choices).toEqual(['', 'eth1', 'host0']);
    expect(q.choiceNames?.[0]).toBe("each node's own VRRP interface (lb01 host0, lb02 eth1)");
    expect(q.default).toBe('');
    expect(mixed.a.instances[0]).not.toHaveProperty('interface');
  });
});

describe('IPv6 VIP rules', () => {
  it("candidates: the IPv4 VIP as the interface id first, then ::254 down; never a node's or ::0", () => {
    expect(vip6Candidates('fd00:198:18::11/64', [], '198.18.0.253')).toEqual([
      'fd00:198:18::253',
      'fd00:198:18::254',
      'fd00:198:18::252',
      'fd00:198:18::251',
      'fd00:198:18::250',
    ]);
    expect(vip6Candidates('fd00:198:18::11/64', ['fd00:198:18::254', 'fd00:198:18::252'], undefined, 2)).toEqual([
      'fd00:198:18::253',
      'fd00:198:18::251',
    ]);
    // a /120 holds ::0..::ff: ids written like octets that do not fit are skipped
    expect(vip6Candidates('2001:db8::1:5/120', [], undefined, 2)).toEqual(['2001:db8::1:99', '2001:db8::1:98']);
    expect(vip6Candidates('fd00::1/127', [])).toEqual([]);
    expect(vip6Candidates('198.18.0.11/24', [])).toEqual([]);
  });

  it("an IPv6 VIP: of the interface's prefix, with its prefix, global, no node's", () => {
    expect(checkVip6('fd00:198:18::100', 'fd00:198:18::11/64', [])).toEqual({ vip: 'fd00:198:18::100/64' });
    expect(checkVip6(' FD00:198:18::0:100/64 ', 'fd00:198:18::11/64', [])).toEqual({ vip: 'fd00:198:18::100/64' });
    expect(checkVip6('fd00:198:18::100', null, [])).toEqual({ vip: 'fd00:198:18::100/128' });
    expect(checkVip6('fd00:198:18::11', 'fd00:198:18::11/64', ['fd00:198:18::11'])).toMatch(/own address/);
    expect(checkVip6('fe80::1', null, [])).toBe('IPv6 VIP: fe80::1 is link-local (fe80::/10); give a global address');
    expect(network6Of('fd00:198:18::11', 64)).toBe('fd00:198:18::/64');
    expect(network6Of('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
  });
});
