/**
 * The wizard driven without a terminal or a network: a scripted Prompter (answers in order, each question recorded
 * with its default, its choices and the answers its validation rejected) and a scripted HostDiscovery over host
 * fixtures (the lab's numbering: 198.18.0.N on host0, with IPv6 fd00:198:18::N/64 beside it when asked for, and a
 * second interface eth1 10.9.9.N/24).
 */
import { readFileSync } from 'node:fs';
import type { HostDiscovery, HostInfo, NdpAnswer, Probe } from '../../src/wizard/discovery.js';
import type { InterfaceFact } from '../../src/facts/types.js';
import type { HostConnection } from '../../src/ssh/ssh.js';
import type { Prompter, Validate } from '../../src/wizard/prompter.js';

export interface Asked {
  message: string;
  default?: string | boolean;
  /** a select's values, and what it shows for them */
  choices?: string[];
  choiceNames?: string[];
  rejected: string[];
}

/** the user presses Enter: the question's default is the answer (validated like a typed one, as inquirer does) */
export const ENTER = Symbol('Enter');
export type Answer = string | boolean | typeof ENTER;

/** answers in order; a string answer that the question's validation rejects is recorded, and the next one used */
export function scripted(answers: Answer[]): Prompter & { asked: Asked[] } {
  const asked: Asked[] = [];
  const next = async (q: Asked, validate?: Validate) => {
    asked.push(q);
    for (;;) {
      if (!answers.length) throw new Error(`unexpected question: ${q.message}`);
      const given = answers.shift()!;
      const a = given === ENTER ? (q.default ?? '') : given;
      if (validate && typeof a === 'string') {
        const ok = await validate(a);
        if (ok !== true) {
          q.rejected.push(`${a}: ${ok}`);
          continue;
        }
      }
      if (q.choices && !q.choices.includes(String(a))) throw new Error(`${String(a)} is no choice of: ${q.message}`);
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
        choiceNames: q.choices.map((c) => c.name),
        rejected: [],
      })) as never,
    confirm: async (q) => Boolean(await next({ message: q.message, default: q.default, rejected: [] })),
  };
}

const iface = (name: string, mac: string, ips: InterfaceFact['ips']): InterfaceFact => ({
  name,
  up: true,
  multicast: true,
  flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
  mac,
  addresses: ips.filter((x) => x.family === 4).map((x) => `${x.address}/${x.prefix}`),
  ips,
});

export interface HostShape {
  /** host0 also has fd00:198:18::N/64 (and its link-local address, which never counts) */
  ipv6?: boolean;
  /** host0 has no IPv4 address (IPv6 only) */
  noIPv4?: boolean;
  /** eth1 is down (a single candidate interface) */
  eth1Down?: boolean;
}

/** what the wizard reads of the lab host 198.18.0.N (`addr`): lo, eth1 10.9.9.N/24 and host0 */
export function hostInfo(host: string, addr: string, shape: HostShape = {}): HostInfo {
  const n = addr.split('.')[3];
  const v4 = (address: string, prefix: number) => ({ address, prefix, family: 4 as const, secondary: false });
  const v6 = (address: string, prefix: number) => ({ address, prefix, family: 6 as const, secondary: false });
  const eth1 = iface('eth1', '02:00:00:00:00:09', [v4(`10.9.9.${n}`, 24)]);
  return {
    hostname: host,
    sshAddress: addr,
    os: 'Debian GNU/Linux 12 (bookworm)',
    family: 'debian',
    interfaces: [
      { ...iface('lo', '00:00:00:00:00:00', [v4('127.0.0.1', 8), v6('::1', 128)]), flags: ['LOOPBACK', 'UP'] },
      shape.eth1Down ? { ...eth1, up: false, flags: ['BROADCAST', 'MULTICAST'] } : eth1,
      iface('host0', `02:00:00:00:00:${n}`, [
        ...(shape.noIPv4 ? [] : [v4(addr, 24)]),
        ...(shape.ipv6 ? [v6(`fd00:198:18::${n}`, 64)] : []),
        v6(`fe80::ff:fe00:${n}`, 64),
      ]),
    ],
  };
}

export interface DiscoveryScript {
  arpInUse?: (ip: string) => boolean;
  arpFails?: boolean;
  keepalived?: { active: boolean; managed: boolean };
  /** how each host looks (by its SSH address) */
  shape?: (host: string) => HostShape;
  /** who answers for an IPv6 address (default: fd00:198:18::22 from aa:bb:cc:00:00:22, nothing else) */
  ndp?: (ip: string) => NdpAnswer | null;
  ndpFails?: boolean;
}

export type ScriptedDiscovery = HostDiscovery & {
  trusted: string[];
  probes: string[];
  /** the addresses ARP-probed, in order */
  arp: string[];
  /** every probe of the link: "arp|ndp IFACE ADDRESS", and every listen: "listen IFACE" */
  link: string[];
};

/**
 * A scripted discovery: 198.18.0.91 is unreachable, other hosts have an unknown key until it is trusted (into the
 * known_hosts file the wizard was given). ARP: 198.18.0.22 and 198.18.0.254 (the first VIP candidate) answer, and
 * so does every address in `arpInUse`; with `arpFails` the probe itself fails.
 */
export function scriptedDiscovery(opts: DiscoveryScript = {}): ScriptedDiscovery {
  const trusted: string[] = [];
  const probes: string[] = [];
  const arp: string[] = [];
  const link: string[] = [];
  const conn = {} as HostConnection;
  return {
    trusted,
    probes,
    arp,
    link,
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
        const name = { '198.18.0.11': 'lb01', '198.18.0.12': 'lb02' }[node.host] ?? `lb${node.host.split('.')[3]}`;
        const i = hostInfo(name, node.host, opts.shape?.(node.host));
        return { ok: true, conn, info: { ...i, ...(opts.keepalived ? { keepalived: opts.keepalived } : {}) } };
      }
      return {
        ok: false,
        kind: 'unknown-key',
        message: `${node.host}: host key ssh-ed25519 SHA256:abc is not in known_hosts`,
        key: { type: 'ssh-ed25519', fingerprint: 'SHA256:abc', line: `${node.host} ssh-ed25519 AAAAC3Nza` },
      };
    },
    async arpAnswer(_c, ifc, vip) {
      arp.push(vip);
      link.push(`arp ${ifc} ${vip}`);
      if (opts.arpFails) throw new Error('ip: command not found');
      if (vip === '198.18.0.22' || vip === '10.9.9.22') return 'aa:bb:cc:00:00:22';
      if (vip === '198.18.0.254' || vip === '10.9.9.254' || opts.arpInUse?.(vip)) return 'aa:bb:cc:00:00:fe';
      return null;
    },
    async ndpAnswer(_c, ifc, vip) {
      link.push(`ndp ${ifc} ${vip}`);
      if (opts.ndpFails) throw new Error('ping: command not found');
      if (opts.ndp) return opts.ndp(vip);
      return vip === 'fd00:198:18::22' ? { lladdr: 'aa:bb:cc:00:00:22', echo: true } : null;
    },
    async listen(_c, ifc) {
      link.push(`listen ${ifc}`);
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
