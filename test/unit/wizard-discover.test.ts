/**
 * The wizard online, with a scripted prompter and a scripted discovery (data fixtures, no SSH): a typo'd host is
 * asked again at once, an unknown host key is shown and trusted into the chosen known_hosts file, the interface
 * list defaults to the one SSH came in on, a VIP outside the subnet or in use is refused, and the proposed virtual
 * router id avoids the ids heard on the segment. Also the subnet checks on their own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostDiscovery, HostInfo, Probe } from '../../src/discover.js';
import { defaultInterface, parseHostInfo } from '../../src/discover.js';
import type { HostConnection } from '../../src/ssh/ssh.js';
import { checkVip, networkOf, wizard, type Prompter, type Validate } from '../../src/prompts.js';
import type { RawAnswers } from '../fixtures/answers.js';

interface Asked {
  message: string;
  default?: string | boolean;
  choices?: string[];
  rejected: string[];
}

/** answers in order; a string answer that the question's validation rejects is recorded, and the next one used */
function scripted(answers: (string | boolean)[]): Prompter & { asked: Asked[] } {
  const asked: Asked[] = [];
  const next = async (q: Asked, validate?: Validate) => {
    asked.push(q);
    for (;;) {
      if (!answers.length) throw new Error(`unexpected question: ${q.message}`);
      const a = answers.shift()!;
      if (validate && typeof a === 'string') {
        const ok = await validate(a);
        if (ok !== true) {
          q.rejected.push(`${a}: ${ok}`);
          continue;
        }
      }
      return a;
    }
  };
  return {
    asked,
    input: async (q) => String(await next({ message: q.message, default: q.default, rejected: [] }, q.validate)),
    password: async (q) => String(await next({ message: q.message, rejected: [] }, q.validate)),
    select: async (q) =>
      (await next({
        message: q.message,
        default: q.default,
        choices: q.choices.map((c) => c.value),
        rejected: [],
      })) as never,
    confirm: async (q) => Boolean(await next({ message: q.message, default: q.default, rejected: [] })),
  };
}

const info = (host: string, addr: string): HostInfo => ({
  hostname: host,
  sshAddress: addr,
  os: 'Debian GNU/Linux 12 (bookworm)',
  family: 'debian',
  interfaces: [
    {
      name: 'lo',
      up: true,
      multicast: false,
      flags: ['LOOPBACK', 'UP'],
      mac: '00:00:00:00:00:00',
      addresses: ['127.0.0.1/8'],
    },
    { name: 'eth1', up: true, multicast: true, flags: ['UP'], mac: '02:00:00:00:00:09', addresses: ['10.9.9.9/24'] },
    { name: 'host0', up: true, multicast: true, flags: ['UP'], mac: '02:00:00:00:00:01', addresses: [`${addr}/24`] },
  ],
});

function discovery(): HostDiscovery & { trusted: string[]; probes: string[] } {
  const trusted: string[] = [];
  const probes: string[] = [];
  const conn = {} as HostConnection;
  return {
    trusted,
    probes,
    useSsh(ssh) {
      if (ssh.knownHostsFile) trusted.push(`file ${ssh.knownHostsFile}`);
    },
    async probe(node): Promise<Probe> {
      probes.push(node.host);
      if (node.host === '198.18.0.91') {
        return { ok: false, kind: 'other', message: 'lb (198.18.0.91:22): unreachable: no SSH answer within 10 s' };
      }
      const file = trusted.find((t) => t.startsWith('file '))?.slice(5);
      if (file && readFileSafe(file).includes(`${node.host} ssh-ed25519`)) {
        return { ok: true, conn, info: info(node.host === '198.18.0.11' ? 'lb01' : 'lb02', node.host) };
      }
      return {
        ok: false,
        kind: 'unknown-key',
        message: `${node.host}: host key ssh-ed25519 SHA256:abc is not in known_hosts`,
        key: { type: 'ssh-ed25519', fingerprint: 'SHA256:abc', line: `${node.host} ssh-ed25519 AAAAC3Nza` },
      };
    },
    async arpAnswer(_c, _i, vip) {
      return vip === '198.18.0.22' ? 'aa:bb:cc:00:00:22' : null;
    },
    async listen() {
      return [
        { src: '198.18.0.50', vrid: 51, priority: 100, version: 2 },
        { src: '198.18.0.11', vrid: 60, priority: 100, version: 2 }, // a node's own: not foreign
      ];
    },
    close() {},
  };
}

function readFileSafe(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

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
      'lb01', // name (default: hostname)
      'host0', // interface
      '110',
      '198.18.0.12',
      'root',
      true, // trust lb02's key (file already chosen)
      'lb02',
      'host0',
      '100',
      'single',
      'lb01', // master
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
    // the result is checked field by field below
    const a = (await wizard({}, p, { discovery: d })) as RawAnswers;
    expect(d.probes).toEqual(['198.18.0.91', '198.18.0.11', '198.18.0.11', '198.18.0.12', '198.18.0.12']);
    expect(readFileSync(kh, 'utf8')).toBe('198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
    expect(p.asked.filter((q) => /known_hosts file/.test(q.message))).toHaveLength(1);
    const ifq = p.asked.find((q) => /LB 1 \(lb01\): VRRP interface/.test(q.message))!;
    expect(ifq.choices).toEqual(['eth1', 'host0']);
    expect(ifq.default).toBe('host0');
    expect(p.asked.find((q) => /LB 1: name/.test(q.message))!.default).toBe('lb01');
    const vipq = p.asked.find((q) => /VI_1: VIP/.test(q.message))!;
    expect(vipq.message).toMatch(/a free address in 198\.18\.0\.0\/24 \(host0 of lb01\)/);
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

  it('a refused host key (not trusted) asks for the address again', async () => {
    const d = discovery();
    const p = scripted(['', '2', '198.18.0.11', 'root', false, '198.18.0.91', 'root']);
    await expect(wizard({}, p, { discovery: d })).rejects.toThrow(/unexpected question: LB 1: SSH address/);
    expect(p.asked.map((q) => q.message).filter((m) => /SSH address/.test(m))).toHaveLength(3);
  });
});

describe('subnet checks', () => {
  it('a VIP must be in the interface subnet, with its prefix, and not a node address', () => {
    expect(checkVip('198.18.0.100', '198.18.0.11/24', [])).toEqual({ vip: '198.18.0.100/24' });
    expect(checkVip('198.18.0.100/24', '198.18.0.11/24', [])).toEqual({ vip: '198.18.0.100/24' });
    expect(checkVip('198.18.0.100/25', '198.18.0.11/24', [])).toBe("use the interface's prefix /24 (got /25)");
    expect(checkVip('198.18.1.100', '198.18.0.11/24', [])).toBe(
      "198.18.1.100 is not in the interface's subnet 198.18.0.0/24",
    );
    expect(checkVip('198.18.0.11', '198.18.0.11/24', ['198.18.0.11'])).toMatch(/load balancer's own address/);
    expect(checkVip('198.18.0.300', '198.18.0.11/24', [])).toMatch(/not an IPv4 address/);
    expect(checkVip('172.16.70.183/24', null, [])).toEqual({ vip: '172.16.70.183/24' });
    expect(networkOf('172.16.70.183', 20)).toBe('172.16.64.0/20');
    expect(networkOf('10.1.2.3', 8)).toBe('10.0.0.0/8');
  });

  it('host info: the interface SSH came in on is the default', () => {
    const i = parseHostInfo(
      '@@host\nlb01\n@@ssh\n198.18.0.1 40312 198.18.0.11 22\n' +
        '@@os\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n@@ip\n' +
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
