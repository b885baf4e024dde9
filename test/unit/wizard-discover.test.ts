/**
 * The wizard online, with a scripted prompter and a scripted discovery (data fixtures, no SSH): a typo'd host is
 * asked again at once, an unknown host key is shown (a neutral line, not a failure) and trusted into the chosen
 * known_hosts file, the interface list defaults to the one SSH came in on, a VIP outside the subnet or in use is
 * refused, the proposed VIP is the first free address from the top of the subnet (one that answers ARP is skipped),
 * and the proposed virtual router id avoids the ids heard on the segment. Also the subnet checks on their own.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultInterface, parseHostInfo } from '../../src/wizard/discovery.js';
import { checkVip, networkOf, VIP_PROPOSAL_TRIES, vipCandidates } from '../../src/wizard/network.js';
import { wizard } from '../../src/wizard/wizard.js';
import { answersForSaving } from '../../src/answers/summary.js';
import { PreconditionError } from '../../src/errors.js';
import type { RawAnswers } from '../fixtures/answers.js';
import { fakeIO } from '../helpers/fake-io.js';
import { ENTER, scripted, scriptedDiscovery as discovery, type Answer } from '../helpers/wizard-script.js';

describe('online wizard', () => {
  it('connects as it goes, trusts keys, offers interfaces, checks the VIP and proposes a free id', async () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'wiz-kh-')), 'known_hosts');
    const d = discovery();
    const p = scripted([
      '/root/.ssh/lab_key', // SSH private key
      '2', // how many
      '198.18.0.91', // typo: unreachable, asked again
      'root',
      '198.18.0.11',
      'root',
      true, // trust lb01's key
      kh, // known_hosts file
      '198.18.0.12',
      'root',
      true, // trust lb02's key (file already chosen)
      'lb01', // name (default: hostname)
      'host0', // interface
      '110',
      'lb02',
      'host0',
      '100',
      'single',
      'lb01', // master
      'host0', // the instance's interface (eth1 is up with an address too)
      '10.1.1.1', // not in the subnet: rejected
      '198.18.0.22', // answers ARP: rejected
      '198.18.0.12', // a node's address: rejected
      '198.18.0.100', // ok (prefix from the interface)
      '51', // heard on the segment: rejected
      '52',
      '', // no password
      true, // preempt
      'standard',
      'weight',
      'http://127.0.0.1/',
      '198.18.0.21:80,198.18.0.22:80',
      'disable',
      'disable',
    ]);
    const io = fakeIO();
    // the result is checked field by field below
    const a = (await wizard({}, p, { discovery: d, io })) as RawAnswers;
    expect(d.probes).toEqual(['198.18.0.91', '198.18.0.11', '198.18.0.11', '198.18.0.12', '198.18.0.12']);
    // an unreachable host is a failure; an unknown host key is a neutral line, then the question
    expect(io.stderr).toContain('198.18.0.91: not connected');
    for (const h of ['198.18.0.11', '198.18.0.12']) {
      expect(io.stderr.filter((l) => l.startsWith(`${h}:`) && /not connected|✖/.test(l))).toEqual([]);
      expect(io.stderr).toContain(
        `${h}: host key not known yet (not in your known_hosts); compare it with the host's own before you trust it`,
      );
    }
    expect(readFileSync(kh, 'utf8')).toBe('198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
    expect(p.asked.filter((q) => /known_hosts file/.test(q.message))).toHaveLength(1);
    const ifq = p.asked.find((q) => /LB 1 \(lb01\): VRRP interface/.test(q.message))!;
    expect(ifq.choices).toEqual(['eth1', 'host0']);
    expect(ifq.default).toBe('host0');
    expect(p.asked.find((q) => /LB 1: name/.test(q.message))!.default).toBe('lb01');
    const vipq = p.asked.find((q) => /VI_1: VIP/.test(q.message))!;
    expect(vipq.message).toMatch(/a free address in 198\.18\.0\.0\/24 \(host0 of lb01\)/);
    // proposed: .254 answers ARP (skipped), .253 is the first free address from the top of the subnet
    expect(vipq.default).toBe('198.18.0.253');
    expect(d.arp.slice(0, 2)).toEqual(['198.18.0.254', '198.18.0.253']);
    expect(io.stderr).toContain('198.18.0.253 is free (nothing answers ARP for it): proposed for VI_1');
    expect(vipq.rejected).toEqual([
      "10.1.1.1: 10.1.1.1 is not in the interface's subnet 198.18.0.0/24",
      '198.18.0.22: 198.18.0.22 is in use: it answers ARP from aa:bb:cc:00:00:22; choose a free address',
      "198.18.0.12: 198.18.0.12 is a load balancer's own address; a VIP must be free",
    ]);
    const vridq = p.asked.find((q) => /virtual router id/.test(q.message))!;
    expect(vridq.default).toBe('52');
    expect(vridq.rejected).toEqual(['51: 51 is in use on the segment by 198.18.0.50; 52 is free']);
    expect(a.nodes).toEqual([
      { name: 'lb01', host: '198.18.0.11', user: 'root', interface: 'host0', priority: 110 },
      { name: 'lb02', host: '198.18.0.12', user: 'root', interface: 'host0', priority: 100 },
    ]);
    expect(a.instances[0]).toMatchObject({ virtualRouterId: 52, vips: ['198.18.0.100/24'], master: 'lb01' });
    expect(a.ssh).toEqual({ identityFile: '/root/.ssh/lab_key', hostKeyPolicy: 'strict', knownHostsFile: kh });
    expect(a.nginx).toEqual({ upstream: { backends: ['198.18.0.21:80', '198.18.0.22:80'] } });
  });

  /** known hosts, the nodes and everything but the instances already answered: the wizard asks for the instances */
  const instancesOnly = (layout: 'single' | 'double', vips: (string | typeof ENTER)[]) => {
    const kh = join(mkdtempSync(join(tmpdir(), 'wiz-kh-')), 'known_hosts');
    writeFileSync(kh, '198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
    const partial = {
      ssh: { hostKeyPolicy: 'strict', knownHostsFile: kh },
      nodes: [
        { name: 'lb01', host: '198.18.0.11', interface: 'host0', priority: 110 },
        { name: 'lb02', host: '198.18.0.12', interface: 'host0', priority: 100 },
      ],
      profile: 'standard',
      healthCheck: { mode: 'weight' },
      nginx: {},
      system: { selinux: 'leave', firewall: 'leave', multicast: true },
    };
    // master, interface (host0: the nodes'), VIP, id, password, preempt
    const perInstance = (i: number): Answer[] => [i === 0 ? 'lb01' : 'lb02', ENTER, vips[i], ENTER, '', true];
    const answers: Answer[] = [layout, ...perInstance(0), ...(layout === 'double' ? perInstance(1) : [])];
    return { partial, answers };
  };

  it('the proposed VIP is accepted with Enter; a second instance gets the next free address', async () => {
    const d = discovery();
    const { partial, answers } = instancesOnly('double', [ENTER, ENTER]);
    const p = scripted(answers);
    const a = (await wizard(partial, p, { discovery: d })) as RawAnswers;
    const [q1, q2] = p.asked.filter((q) => /: VIP/.test(q.message));
    expect([q1.default, q2.default]).toEqual(['198.18.0.253', '198.18.0.252']);
    expect([q1.rejected, q2.rejected]).toEqual([[], []]);
    expect(a.instances.map((x: { vips: string[] }) => x.vips)).toEqual([['198.18.0.253/24'], ['198.18.0.252/24']]);
    // VI_2's candidates skip VI_1's VIP (.253, not probed again) and .254, which answers ARP
    expect(d.arp).toEqual([
      '198.18.0.254', // VI_1: candidate, answers ARP
      '198.18.0.253', // VI_1: candidate, free
      '198.18.0.253', // VI_1: Enter, checked again like a typed VIP
      '198.18.0.254', // VI_2: candidate, answers ARP
      '198.18.0.252', // VI_2: candidate, free
      '198.18.0.252', // VI_2: Enter
    ]);
  });

  it('no VIP is proposed when every candidate answers ARP, or when the ARP probe fails', async () => {
    const busy = discovery({ arpInUse: (ip) => ip !== '198.18.0.100' });
    const io = fakeIO();
    const one = instancesOnly('single', ['198.18.0.100']);
    const p = scripted(one.answers);
    await wizard(one.partial, p, { discovery: busy, io });
    expect(p.asked.find((q) => /VI_1: VIP/.test(q.message))!.default).toBeUndefined();
    expect(busy.arp).toHaveLength(VIP_PROPOSAL_TRIES + 1); // the candidates tried, then the typed VIP
    expect(io.stderr).toContain(
      'no VIP proposed: 198.18.0.254, 198.18.0.253, 198.18.0.252, 198.18.0.251, 198.18.0.250 all answer ARP',
    );

    const failing = discovery({ arpFails: true });
    const again = instancesOnly('single', ['198.18.0.100']);
    const p2 = scripted(again.answers);
    const a = (await wizard(again.partial, p2, { discovery: failing })) as RawAnswers;
    expect(p2.asked.find((q) => /VI_1: VIP/.test(q.message))!.default).toBeUndefined();
    expect(failing.arp).toEqual(['198.18.0.254', '198.18.0.100']); // one failed probe ends the search
    expect(a.instances[0].vips).toEqual(['198.18.0.100/24']); // a typed VIP stays the user's choice
  });

  it('a refused host key (not trusted) asks for the address again', async () => {
    const d = discovery();
    const p = scripted(['', '2', '198.18.0.11', 'root', false, '198.18.0.91', 'root']);
    await expect(wizard({}, p, { discovery: d })).rejects.toThrow(/unexpected question: LB 1: SSH address/);
    expect(p.asked.map((q) => q.message).filter((m) => /SSH address/.test(m))).toHaveLength(3);
  });
});

describe('subnet checks', () => {
  it('VIP candidates: from the top of the subnet down, never the network, broadcast or an excluded address', () => {
    expect(vipCandidates('198.18.0.11/24', [])).toEqual([
      '198.18.0.254',
      '198.18.0.253',
      '198.18.0.252',
      '198.18.0.251',
      '198.18.0.250',
    ]);
    expect(vipCandidates('198.18.0.11/24', ['198.18.0.254', '198.18.0.252'], 3)).toEqual([
      '198.18.0.253',
      '198.18.0.251',
      '198.18.0.250',
    ]);
    expect(vipCandidates('172.16.70.181/20', [], 2)).toEqual(['172.16.79.254', '172.16.79.253']);
    expect(vipCandidates('10.0.0.5/30', [])).toEqual(['10.0.0.6', '10.0.0.5']); // .4 network, .7 broadcast
    expect(vipCandidates('10.0.0.5/30', ['10.0.0.6', '10.0.0.5'])).toEqual([]);
    expect(vipCandidates('10.0.0.5/31', [])).toEqual([]);
    expect(vipCandidates('not-an-address', [])).toEqual([]);
  });

  it('a VIP must be in the interface subnet, with its prefix, and not a node address', () => {
    expect(checkVip('198.18.0.100', '198.18.0.11/24', [])).toEqual({ vip: '198.18.0.100/24' });
    expect(checkVip('198.18.0.100/24', '198.18.0.11/24', [])).toEqual({ vip: '198.18.0.100/24' });
    expect(checkVip('198.18.0.100/25', '198.18.0.11/24', [])).toBe("use the interface's prefix /24 (got /25)");
    expect(checkVip('198.18.1.100', '198.18.0.11/24', [])).toBe(
      "198.18.1.100 is not in the interface's subnet 198.18.0.0/24",
    );
    expect(checkVip('198.18.0.11', '198.18.0.11/24', ['198.18.0.11'])).toMatch(/load balancer's own address/);
    expect(checkVip('198.18.0.300', '198.18.0.11/24', [])).toMatch(/not an IPv4 or IPv6 address/);
    expect(checkVip('172.16.70.183/24', null, [])).toEqual({ vip: '172.16.70.183/24' });
    expect(networkOf('172.16.70.183', 20)).toBe('172.16.64.0/20');
    expect(networkOf('10.1.2.3', 8)).toBe('10.0.0.0/8');
  });

  it('host info: the interface SSH came in on is the default', () => {
    const i = parseHostInfo(
      '@@hostname\nlb01\n@@sshaddress\n198.18.0.1 40312 198.18.0.11 22\n' +
        '@@os\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n@@interfaces\n' +
        'link 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN link/loopback 00:00:00:00:00:00\n' +
        'link 2: eth1@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 link/ether 02:00:00:00:00:09\n' +
        'link 3: host0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 link/ether 02:00:00:00:00:01\n' +
        'addr 1: lo    inet 127.0.0.1/8 scope host lo\n' +
        'addr 2: eth1    inet 10.9.9.9/24 scope global eth1\n' +
        'addr 3: host0    inet 198.18.0.11/24 brd 198.18.0.255 scope global host0\n',
    );
    expect(i).toMatchObject({
      hostname: 'lb01',
      sshAddress: '198.18.0.11',
      os: 'Rocky Linux 9.4 (Blue Onyx)',
      family: 'rhel',
    });
    expect(i.interfaces.map((x) => x.name)).toEqual(['lo', 'eth1', 'host0']);
    expect(defaultInterface(i)).toBe('host0');
    expect(defaultInterface({ ...i, sshAddress: null })).toBe('eth1');
  });
});

describe('a pair built by hand already runs on the hosts', () => {
  const given = () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'wiz-kh-')), 'known_hosts');
    writeFileSync(kh, '198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
    return {
      ssh: { hostKeyPolicy: 'strict', knownHostsFile: kh, identityFile: '/root/.ssh/lab_key' },
      nodes: [
        { name: 'a', host: '198.18.0.11', user: 'ops', interface: 'host0', priority: 110 },
        { name: 'b', host: '198.18.0.12', user: 'ops', interface: 'host0', priority: 100 },
      ],
    };
  };
  /** what `ha-setup import` would give for the guides' pair (node names from the hosts' router_id) */
  const imported = () => ({
    nodes: [
      { name: 'LVS_DEVEL_1', host: '198.18.0.11', interface: 'host0', priority: 100 },
      { name: 'LVS_DEVEL_2', host: '198.18.0.12', interface: 'host0', priority: 90 },
    ],
    instances: [
      { name: 'VI_1', virtualRouterId: 51, vips: ['198.18.0.100/24'], master: 'LVS_DEVEL_1', authPassEnv: 'HA_VI_1' },
    ],
    profile: 'standard',
    healthCheck: { mode: 'weight' },
    nginx: {},
    system: { selinux: 'leave', firewall: 'leave', multicast: true },
  });

  it('offers the takeover; "take it over" fills the answers from the hosts, the password for this run', async () => {
    const calls: { hosts: string[]; ssh: unknown }[] = [];
    const p = scripted(['import']);
    const io = fakeIO();
    const a = (await wizard(given(), p, {
      discovery: discovery({ keepalived: { active: true, managed: false } }),
      io,
      importPair: async (nodes, ssh) => {
        calls.push({ hosts: nodes.map((n) => `${n.user}@${n.host}`), ssh });
        return { answers: imported() as never, passwords: { HA_VI_1: '1111' } };
      },
    })) as RawAnswers;
    const q = p.asked.find((x) => /running pair/.test(x.message))!;
    expect(q.choices).toEqual(['import', 'replace', 'quit']);
    expect(q.default).toBe('import');
    expect(io.stderr).toContain(
      'a and b: keepalived is running and ha-setup did not set it up (a pair built by hand?)',
    );
    // read with the user's own login and SSH settings
    expect(calls.map((c) => c.hosts)).toEqual([['ops@198.18.0.11', 'ops@198.18.0.12']]);
    expect((calls[0].ssh as { identityFile: string }).identityFile).toBe('/root/.ssh/lab_key');
    expect(a.nodes.map((n: { name: string; user: string; priority: number }) => [n.name, n.user, n.priority])).toEqual([
      ['LVS_DEVEL_1', 'ops', 100],
      ['LVS_DEVEL_2', 'ops', 90],
    ]);
    // the answers keep naming the variable: the password read is given to this run as HA_VI_1 (askAnswers), so
    // saved answers still say where it comes from, and never hold it
    expect(a.instances[0]).toMatchObject({ master: 'LVS_DEVEL_1', authPassEnv: 'HA_VI_1' });
    expect(a.instances[0]).not.toHaveProperty('authPass');
    expect(answersForSaving(a)).toMatch(/authPassEnv: HA_VI_1/);
    expect(answersForSaving(a)).not.toContain('1111');
    expect(io.stderr).toContain(
      'VI_1: the VRRP password read from the hosts is HA_VI_1 for this run (export HA_VI_1 for later runs; ' +
        'it is never saved)',
    );
    // nothing else was asked: the running pair answered it
    expect(p.asked).toHaveLength(1);
  });

  it('an exported password wins; "quit" changes nothing; ha-setup\'s own pair is not offered', async () => {
    const io = fakeIO({ env: { HA_VI_1: 'fromenv' } });
    const a = (await wizard(given(), scripted(['import']), {
      discovery: discovery({ keepalived: { active: true, managed: false } }),
      io,
      importPair: async () => ({ answers: imported() as never, passwords: { HA_VI_1: '1111' } }),
    })) as RawAnswers;
    expect(a.instances[0]).toMatchObject({ authPassEnv: 'HA_VI_1' });
    expect(a.instances[0]).not.toHaveProperty('authPass');
    // the operator's own variable is used: no password read from the hosts is offered for this run
    expect(io.stderr.filter((l) => /for this run/.test(l))).toEqual([]);

    let called = false;
    const importPair = async () => {
      called = true;
      return { answers: imported() as never, passwords: {} };
    };
    await expect(
      wizard(given(), scripted(['quit']), {
        discovery: discovery({ keepalived: { active: true, managed: false } }),
        io: fakeIO(),
        importPair,
      }),
    ).rejects.toThrow(/nothing changed \(quit: a pair already runs there\)/);
    expect(called).toBe(false);

    // set up by ha-setup (its members file is there): the wizard goes straight on to the instances
    const p = scripted([]);
    await expect(
      wizard(given(), p, {
        discovery: discovery({ keepalived: { active: true, managed: true } }),
        io: fakeIO(),
        importPair,
      }),
    ).rejects.toThrow(/unexpected question: How many VRRP instances|unexpected question/);
    expect(p.asked.some((x) => /running pair/.test(x.message))).toBe(false);
    expect(called).toBe(false);
  });

  it('a pair import refuses (the nodes disagree): the reasons, then set up anew or quit', async () => {
    const io = fakeIO();
    const refuse = async () => {
      throw new PreconditionError('import: ha-setup cannot take this pair over safely', [
        'VRID 51 (VI_1): a and b both have priority 100',
      ]);
    };
    await expect(
      wizard(given(), scripted(['import', 'quit']), {
        discovery: discovery({ keepalived: { active: true, managed: false } }),
        io,
        importPair: refuse,
      }),
    ).rejects.toThrow(/quit: the running pair cannot be taken over/);
    expect(io.stderr).toContain(
      'import: ha-setup cannot take this pair over safely\n  VRID 51 (VI_1): a and b both have priority 100',
    );
    // "set it up anew": the wizard goes on to the instances (the next question)
    const p = scripted(['import', 'replace']);
    await expect(
      wizard(given(), p, {
        discovery: discovery({ keepalived: { active: true, managed: false } }),
        io: fakeIO(),
        importPair: refuse,
      }),
    ).rejects.toThrow(/unexpected question/);
    expect(p.asked.map((q) => q.message).slice(0, 2)).toEqual([
      'What should ha-setup do with the running pair?',
      'ha-setup cannot take this pair over as it is. Then?',
    ]);
  });
});
