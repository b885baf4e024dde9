/**
 * Every question ha-setup asks lives here. The wizard asks ONLY for what the given (partial) answers lack,
 * validates each answer with the same rules as the answers file, and never stores secrets in what it returns
 * for saving. A Prompter is injected so tests can script the answers.
 *
 * Online (not --offline) it finds things out as it goes, through a Discovery (discover.ts): each host is connected
 * to as soon as its address is given (an unknown host key is shown for the user to trust, a host that cannot be
 * reached is asked again at once), its interfaces are offered in a list, a VIP must be in the interface's subnet
 * and free (the proposed one is an address of that subnet that nothing answers ARP for), and the proposed virtual
 * router id is one no other router advertises on the segment. Before anything is applied the user reviews a summary
 * and may edit a section, save the answers, or quit.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ABS_PATH_RE,
  AUTH_PASS_RE,
  IFACE_RE,
  LOCAL_PATH_RE,
  NAME_RE,
  URL_RE,
  USER_RE,
  isBackend,
  isHostAddress,
  isIPv4,
  parseCidr,
  sameSubnet,
  type AnswersInput,
} from './answers/schema.js';
import { defaultInterface, type HostDiscovery, type HostInfo } from './discover.js';
import { lowestFreeVrid, usedVrids, type VrrpAdvert } from './facts/vrrp.js';
import { CancelledError } from './errors.js';
import type { IO } from './io.js';
import type { ResolvedNode } from './answers/resolve.js';
import { trustHostKey } from './ssh/known-hosts.js';
import { expandHome } from './ssh/ssh-config.js';
import type { Conn } from './ssh/conn.js';
import { startWaiting } from './spinner.js';

export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

export type Validate = (v: string) => true | string | Promise<true | string>;

export interface Prompter {
  input(q: { message: string; default?: string; validate?: Validate }): Promise<string>;
  password(q: { message: string; validate?: Validate }): Promise<string>;
  select<T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
}

export async function inquirerPrompter(): Promise<Prompter> {
  const p = await import('@inquirer/prompts');
  // questions are messages, not results: they go to the terminal on stderr, so stdout stays clean for plans/JSON
  const ctx = { input: process.stdin, output: process.stderr };
  return {
    input: (q) => p.input({ message: q.message, default: q.default, validate: q.validate }, ctx),
    password: (q) => p.password({ message: q.message, mask: '*', validate: q.validate }, ctx),
    select: <T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }) =>
      p.select<T>({ message: q.message, choices: q.choices, default: q.default, pageSize: 12 }, ctx),
    confirm: (q) => p.confirm({ message: q.message, default: q.default }, ctx),
  };
}

const rx = (re: RegExp, msg: string) => (v: string) => (re.test(v.trim()) ? true : msg);
const intIn = (lo: number, hi: number, what: string) => (v: string) =>
  /^\d+$/.test(v.trim()) && Number(v) >= lo && Number(v) <= hi ? true : `${what} must be a whole number ${lo}..${hi}`;

export const validators = {
  host: (v: string) => (isHostAddress(v.trim()) ? true : 'an IPv4 address or a DNS name / ssh config alias'),
  name: rx(NAME_RE, '1-63 characters of A-Z a-z 0-9 _ . -'),
  user: rx(USER_RE, 'a plain user name (a-z 0-9 _ -)'),
  iface: rx(IFACE_RE, 'a plain Linux interface name: 1-15 characters of A-Z a-z 0-9 _ . - (no spaces, quotes, ; or $)'),
  priority: intIn(1, 254, 'priority'),
  vrid: intIn(1, 255, 'virtual router id'),
  port: intIn(1, 65535, 'port'),
  vips: (v: string) => {
    const parts = v.split(/[\s,]+/).filter(Boolean);
    if (!parts.length) return 'at least one VIP, e.g. 172.16.70.183/24';
    const bad = parts.find((p) => !parseCidr(p));
    return bad ? `${bad} is not an IPv4 address with an optional /prefix` : true;
  },
  authPass: (v: string) =>
    v === '' || AUTH_PASS_RE.test(v) ? true : '1-8 printable characters without spaces, quotes, backslash, # or !',
  url: (v: string) => (v === '' || URL_RE.test(v) ? true : 'an http(s) URL without quotes or spaces, or empty'),
  path: rx(ABS_PATH_RE, 'an absolute path of safe characters'),
  localPath: rx(LOCAL_PATH_RE, 'a file path of safe characters (~/ allowed)'),
  backends: (v: string) => {
    const parts = v.split(/[\s,]+/).filter(Boolean);
    const bad = parts.find((p) => !isBackend(p));
    return bad ? `${bad} is not HOST or HOST:PORT (an IPv4 address or a DNS name)` : true;
  },
};

/**
 * A VIP for an interface with address `ifaceCidr` ("198.18.0.11/24"): in its subnet, not a node's address. The
 * prefix may be left out (the interface's is used). Returns the VIP with its prefix, or why not.
 */
export function checkVip(text: string, ifaceCidr: string | null, nodeAddresses: string[]): string | { vip: string } {
  const c = parseCidr(text.trim());
  if (!c) return `${text.trim()} is not an IPv4 address with an optional /prefix`;
  const iface = ifaceCidr ? parseCidr(ifaceCidr) : null;
  const prefix = text.includes('/') ? c.prefix : (iface?.prefix ?? 32);
  if (iface && !sameSubnet(c.address, iface.address, iface.prefix)) {
    return `${c.address} is not in the interface's subnet ${networkOf(iface.address, iface.prefix)}`;
  }
  if (iface && prefix !== iface.prefix) return `use the interface's prefix /${iface.prefix} (got /${prefix})`;
  if (nodeAddresses.includes(c.address)) return `${c.address} is a load balancer's own address; a VIP must be free`;
  return { vip: `${c.address}/${prefix}` };
}

export function networkOf(address: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(address) / size) * size;
  return `${intToIp(base)}/${prefix}`;
}

const ipToInt = (address: string) => address.split('.').reduce((x, o) => x * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** how many free-looking addresses the wizard ARP-probes (up to 1 s each) before it gives up proposing a VIP */
export const VIP_PROPOSAL_TRIES = 5;

/**
 * Addresses to propose as a VIP on an interface with address `ifaceCidr` ("198.18.0.11/24"), best first: from the
 * top of its subnet down (.254 of a /24: the end where hosts are rarely numbered from), never the network or
 * broadcast address nor one of `exclude` (the nodes' addresses, the VIPs already chosen); at most `max` of them.
 * Each must still be checked (checkVip and the ARP probe) before it is proposed.
 */
export function vipCandidates(ifaceCidr: string, exclude: string[], max = VIP_PROPOSAL_TRIES): string[] {
  const c = parseCidr(ifaceCidr);
  if (!c || c.prefix > 30) return [];
  const size = 2 ** (32 - c.prefix);
  const network = Math.floor(ipToInt(c.address) / size) * size;
  const out: string[] = [];
  for (let n = network + size - 2; n > network && out.length < max; n--) {
    const ip = intToIp(n);
    if (!exclude.includes(ip)) out.push(ip);
  }
  return out;
}

type Partial = Record<string, unknown>;

function has(obj: unknown, key: string): boolean {
  return (
    !!obj &&
    typeof obj === 'object' &&
    key in (obj as Record<string, unknown>) &&
    (obj as Record<string, unknown>)[key] !== undefined
  );
}

export interface WizardOptions {
  /** connect as you go; absent with --offline (then the questions are asked blind) */
  discovery?: HostDiscovery;
  io?: IO;
  /** the review before anything is applied: the summary (or the problems) of the answers so far, and saving them */
  review?: {
    summarize(a: AnswersInput): { text: string; problems: string[] };
    save(a: AnswersInput, path: string): void;
    /** what "apply" does here: apply the changes, or (dry run) show the plan */
    applyLabel: string;
  };
  /** seconds to listen for other routers' VRRP adverts before proposing a virtual router id */
  listenSeconds?: number;
}

/** what the wizard learned about a host while asking (kept, so nothing about a host is asked twice) */
interface Known {
  conn: Conn;
  info: HostInfo;
}

/**
 * Complete the partial answers by asking. Returns the full answers (with secrets, for this run only).
 */
export async function wizard(partial: Partial, p: Prompter, opts: WizardOptions = {}): Promise<AnswersInput> {
  const a: Partial = structuredClone(partial ?? {});
  const known = new Map<string, Known>();
  const d = opts.discovery;
  const say = (t: string) => opts.io?.err(t);
  const key = (n: Partial) => `${String(n.user ?? 'root')}@${String(n.host)}:${String(n.port ?? 22)}`;

  /** connect to a node until it works: an unknown key may be trusted; returns null when the user gives up */
  const reach = async (n: Partial): Promise<Known | null> => {
    if (!d) return null;
    const k = known.get(key(n));
    if (k) return k;
    for (;;) {
      const node = resolvedNode(n);
      const w = opts.io ? startWaiting(opts.io, `connecting to ${node.host}`) : null;
      const r = await d.probe(node);
      if (r.ok) {
        w?.succeed(`${node.host}: ${r.info.hostname}, ${r.info.os}`);
        const got = { conn: r.conn, info: r.info };
        known.set(key(n), got);
        return got;
      }
      if (r.kind !== 'unknown-key' || !r.key) {
        // unreachable, a changed host key, authentication: a failure
        w?.fail(`${node.host}: not connected`);
        say(r.message);
        return null;
      }
      // an unknown host key is a question for the user, not a failure: the spinner ends neutrally
      w?.info(
        `${node.host}: host key not known yet (not in your known_hosts); compare it with the host's own ` +
          'before you trust it',
      );
      const trust = await p.confirm({
        message: `Trust the host key of ${node.host} (${r.key.type} ${r.key.fingerprint})?`,
        default: false,
      });
      if (!trust) return null;
      const ssh = a.ssh as Partial;
      if (!has(ssh, 'knownHostsFile')) {
        ssh.knownHostsFile = (
          await p.input({
            message: 'Add trusted host keys to which known_hosts file?',
            default: '~/.ssh/known_hosts',
            validate: validators.localPath,
          })
        ).trim();
        d.useSsh(ssh);
      }
      trustHostKey(expandHome(String(ssh.knownHostsFile)), r.key.line);
    }
  };

  const askSsh = async () => {
    const defKey = ['id_ed25519', 'id_ecdsa', 'id_rsa']
      .map((k) => join(homedir(), '.ssh', k))
      .find((f) => existsSync(f));
    const identityFile = (
      await p.input({
        message: 'SSH private key (empty: ssh-agent only)',
        default: defKey ?? '',
        validate: (v) => (v === '' || LOCAL_PATH_RE.test(v) ? true : 'a file path of safe characters'),
      })
    ).trim();
    if (d) {
      // unknown host keys are shown as each host is connected to, for the user to trust or not
      a.ssh = { ...(identityFile ? { identityFile } : {}), hostKeyPolicy: 'strict' };
      return;
    }
    const hostKeyPolicy = await p.select({
      message: 'Unknown SSH host keys',
      choices: [
        { value: 'strict', name: 'refuse (strict: keys must already be in known_hosts)' },
        { value: 'accept-new', name: 'show the fingerprint and add it (accept-new)' },
      ],
      default: 'strict',
    });
    a.ssh = { ...(identityFile ? { identityFile } : {}), hostKeyPolicy };
  };

  const askInterface = async (label: string, k: Known | null, def: string): Promise<string> => {
    if (k && k.info.interfaces.some((i) => i.name !== 'lo')) {
      const ifs = k.info.interfaces.filter((i) => i.name !== 'lo');
      return p.select({
        message: `${label}: VRRP interface`,
        choices: ifs.map((i) => ({
          value: i.name,
          name: `${i.name}  ${i.addresses.join(' ') || 'no IPv4 address'}  ${i.up ? 'UP' : 'DOWN'}`,
        })),
        default: defaultInterface(k.info) ?? ifs[0].name,
      });
    }
    return (await p.input({ message: `${label}: VRRP interface`, default: def, validate: validators.iface })).trim();
  };

  const askNodes = async () => {
    const nodes: Partial[] = [];
    const count = Number(
      await p.input({ message: 'How many load balancers?', default: '2', validate: intIn(2, 16, 'count') }),
    );
    for (let i = 0; i < count; i++) {
      const n = i + 1;
      let entry: Partial;
      let k: Known | null;
      for (;;) {
        const host = (
          await p.input({ message: `LB ${n}: SSH address (IP or host name)`, validate: validators.host })
        ).trim();
        const user = (
          await p.input({
            message: `LB ${n}: SSH user (non-root uses sudo)`,
            default: i > 0 ? String(nodes[0].user) : 'root',
            validate: validators.user,
          })
        ).trim();
        entry = { host, user };
        if (nodes.some((x) => x.host === host)) {
          say(
            `${host} is already LB ${nodes.findIndex((x) => x.host === host) + 1}; each load balancer is its own host`,
          );
          continue;
        }
        k = await reach(entry);
        if (d && !k) {
          say(`LB ${n}: give the address again (or another host)`);
          continue;
        }
        break;
      }
      const taken = nodes.map((x) => String(x.name));
      const hostname = k?.info.hostname.split('.')[0] ?? '';
      const defName =
        hostname && NAME_RE.test(hostname) && !taken.includes(hostname) ? hostname : `lb${String(n).padStart(2, '0')}`;
      const name = (
        await p.input({
          message: `LB ${n}: name`,
          default: defName,
          validate: (v) => {
            const ok = validators.name(v);
            if (ok !== true) return ok;
            return taken.includes(v.trim()) ? `${v.trim()} is already a name` : true;
          },
        })
      ).trim();
      const iface = await askInterface(`LB ${n} (${name})`, k, i > 0 ? String(nodes[0].interface) : 'eth0');
      const priority = Number(
        await p.input({
          message: `LB ${n}: priority (1..254, the master highest)`,
          default: String(Math.max(1, 110 - 10 * i)),
          validate: validators.priority,
        }),
      );
      const addr = k?.info.interfaces.find((x) => x.name === iface)?.addresses[0]?.split('/')[0];
      nodes.push({
        name,
        ...entry,
        interface: iface,
        priority,
        ...(addr && !isIPv4(String(entry.host)) ? { address: addr } : {}),
      });
    }
    a.nodes = nodes;
  };

  const completeNodes = async () => {
    for (const [i, n] of (a.nodes as Partial[]).entries()) {
      const label = String(n.name ?? n.host ?? `#${i + 1}`);
      if (!has(n, 'host')) {
        n.host = (await p.input({ message: `${label}: SSH address`, validate: validators.host })).trim();
      }
      if (!has(n, 'interface')) n.interface = await askInterface(label, await reach(n), 'eth0');
      if (!has(n, 'priority')) {
        n.priority = Number(
          await p.input({
            message: `${label}: priority (1..254)`,
            default: String(Math.max(1, 110 - 10 * i)),
            validate: validators.priority,
          }),
        );
      }
    }
  };

  /** every IPv4 address of every node that the wizard reached (a VIP must be none of them) */
  const nodeAddresses = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const n of a.nodes as Partial[]) {
      out.push(String(n.host), ...(n.address ? [String(n.address)] : []));
      const k = await reach(n);
      if (k) out.push(...k.info.interfaces.flatMap((i) => i.addresses.map((x) => x.split('/')[0])));
    }
    return out;
  };

  const askInstances = async () => {
    const nodes = a.nodes as Partial[];
    const nodeNames = nodes.map((n) => String(n.name ?? n.host));
    const layout = await p.select({
      message: 'Layout',
      choices: [
        { value: 'single', name: 'active-passive: one VIP on a master, the others stand by' },
        { value: 'double', name: "active-active: two VIPs, each with its own master (the guides' VI_1 + VI_2)" },
      ],
      default: 'single',
    });
    const count = layout === 'double' ? 2 : 1;
    const instances: Partial[] = [];
    const addresses = await nodeAddresses();
    let heard: VrrpAdvert[] | null = null;
    for (let i = 0; i < count; i++) {
      const name = `VI_${i + 1}`;
      const master = await p.select({
        message: `${name}: master (starts with the VIP)`,
        choices: nodeNames.map((n) => ({ value: n, name: n })),
        default: nodeNames[i % nodeNames.length],
      });
      const mNode = nodes[nodeNames.indexOf(master)];
      const mk = await reach(mNode);
      const mIface = String(mNode.interface);
      const cidr = mk?.info.interfaces.find((x) => x.name === mIface)?.addresses[0] ?? null;
      const taken = instances.flatMap((x) => (x.vips as string[]).map((v) => v.split('/')[0]));
      const subnet = cidr ? networkOf(cidr.split('/')[0], Number(cidr.split('/')[1])) : null;
      /**
       * One VIP as typed (or a candidate for the proposal): in the subnet, no node's, no other instance's, nothing
       * answering ARP. `probeFailed`: the ARP probe could not run (a typed VIP is then the user's choice).
       */
      const checkOne = async (part: string): Promise<string | { vip: string; probeFailed: boolean }> => {
        const c = checkVip(part, cidr, addresses);
        if (typeof c === 'string') return c;
        const ip = c.vip.split('/')[0];
        if (taken.includes(ip)) return `${ip} is already a VIP of another instance`;
        let probeFailed = false;
        if (d && mk) {
          const mac = await d.arpAnswer(mk.conn, mIface, ip).catch(() => ((probeFailed = true), null));
          if (mac) return `${ip} is in use: it answers ARP from ${mac}; choose a free address`;
        }
        return { vip: c.vip, probeFailed };
      };
      // online, propose a free address of the master's subnet: the first candidate that passes the same checks
      let vipProposal: string | undefined;
      if (d && mk && cidr) {
        const candidates = vipCandidates(cidr, [...addresses, ...taken]);
        const w = opts.io ? startWaiting(opts.io, `looking for a free VIP in ${subnet} (ARP from ${master})`) : null;
        let why = candidates.length
          ? `${candidates.join(', ')} all answer ARP`
          : `no address of ${subnet} is left to propose`;
        for (const ip of candidates) {
          const c = await checkOne(ip);
          if (typeof c === 'string') continue;
          if (c.probeFailed) {
            why = `the ARP probe from ${master} failed, so ${ip} could not be checked`;
            break;
          }
          vipProposal = ip;
          break;
        }
        if (vipProposal) w?.succeed(`${vipProposal} is free (nothing answers ARP for it): proposed for ${name}`);
        else w?.info(`no VIP proposed: ${why}`);
      }
      const vipsText = await p.input({
        message: cidr
          ? `${name}: VIP, a free address in ${subnet} (${mIface} of ${master})`
          : `${name}: VIP(s) with prefix, e.g. 172.16.70.183/24`,
        ...(vipProposal ? { default: vipProposal } : {}),
        validate: async (v) => {
          const parts = v.split(/[\s,]+/).filter(Boolean);
          if (!parts.length) return 'at least one VIP';
          for (const part of parts) {
            const c = await checkOne(part);
            if (typeof c === 'string') return c;
          }
          return true;
        },
      });
      const vips = vipsText
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((x) => {
          const c = checkVip(x, cidr, addresses);
          return typeof c === 'string' ? x : c.vip;
        });
      // which ids other routers use on the segment: listen once, from the first master's interface
      if (d && mk && heard === null) {
        const secs = opts.listenSeconds ?? 3;
        const w = opts.io
          ? startWaiting(opts.io, `listening for VRRP adverts on ${mIface} of ${master} (${secs} s)`)
          : null;
        let why = '';
        heard = await d.listen(mk.conn, mIface, secs).catch((e: Error) => ((why = e.message), []));
        const foreign = heard.filter((x) => !addresses.includes(x.src));
        heard = foreign;
        if (why) w?.fail(`could not listen for VRRP adverts on ${mIface} (${why}): the proposed id is not checked`);
        else
          w?.succeed(
            foreign.length
              ? `virtual router ids in use on the segment: ${sortedIds(usedVrids(foreign).keys())}`
              : 'no other VRRP router heard on the segment',
          );
      }
      const used = usedVrids(heard ?? []);
      const mine = instances.map((x) => Number(x.virtualRouterId));
      const proposal = lowestFreeVrid([...used.keys(), ...mine]) ?? 51;
      const vrid = Number(
        await p.input({
          message: `${name}: virtual router id (1..255, unique on the segment)`,
          default: String(d ? proposal : 51 + i),
          validate: (v) => {
            const ok = validators.vrid(v);
            if (ok !== true) return ok;
            const id = Number(v);
            if (mine.includes(id)) return `${id} is already the id of another instance`;
            const by = used.get(id);
            if (by) {
              return `${id} is in use on the segment by ${by.map((x) => x.src).join(', ')}; ${proposal} is free`;
            }
            return true;
          },
        }),
      );
      const authPass = await p.password({
        message: `${name}: VRRP password (max 8, empty for none; never saved)`,
        validate: validators.authPass,
      });
      const preempt = await p.confirm({
        message: `${name}: give the VIP back to the master when it recovers (preempt)?`,
        default: true,
      });
      instances.push({
        name,
        virtualRouterId: vrid,
        vips,
        master,
        ...(authPass ? { authPass } : {}),
        preempt,
      });
    }
    a.instances = instances;
  };

  const askChecks = async () => {
    if (!has(a, 'profile')) {
      a.profile = await p.select({
        message: 'Failover profile',
        choices: [
          { value: 'standard', name: 'standard: VRRPv2, advert 1 s (the guides, made valid for current keepalived)' },
          {
            value: 'fast',
            name: 'fast: VRRPv3, advert 0.1 s, instant nginx stop detection (more adverts, jitter-sensitive)',
          },
        ],
        default: 'standard',
      });
    }
    if (!has(a, 'healthCheck')) {
      const mode = await p.select({
        message: 'When nginx fails on the master',
        choices: [
          {
            value: 'weight',
            name: 'move the VIP at once (the node goes FAULT); it comes back when nginx does (recommended)',
          },
          {
            value: 'restart-then-stop',
            name: "try to restart nginx, else stop keepalived (the guides' check_nginx.sh)",
          },
        ],
        default: 'weight',
      });
      const url = (
        await p.input({
          message: 'Health-check URL on each LB (empty: check the nginx process only)',
          default: 'http://127.0.0.1/',
          validate: validators.url,
        })
      ).trim();
      a.healthCheck = { mode, ...(url ? { url } : {}) };
    }
  };

  const askNginx = async () => {
    const text = (
      await p.input({
        message:
          "Web backends behind the pair, HOST:PORT comma-separated (the guides' upstream; empty: keep your own " +
          'nginx configuration)',
        default: '',
        validate: validators.backends,
      })
    ).trim();
    const backends = text.split(/[\s,]+/).filter(Boolean);
    // the guides copy the source's /etc/nginx to the others: not between a Debian and a RHEL-family host
    const families = new Set<string>();
    for (const n of a.nodes as Partial[]) {
      const k = await reach(n);
      if (k) families.add(k.info.family);
    }
    const mixed = families.size > 1;
    if (mixed) {
      say(
        'the load balancers run different OS families (Debian and RHEL): each keeps its own nginx configuration ' +
          '(nginx.sync: false)' +
          (backends.length ? '; ha-setup writes the same load balancer for the backends on every node' : ''),
      );
    }
    a.nginx = { ...(mixed ? { sync: false } : {}), ...(backends.length ? { upstream: { backends } } : {}) };
  };

  const askSystem = async () => {
    const selinux = await p.select({
      message: 'SELinux (the guides disable it)',
      choices: [
        { value: 'disable', name: 'disable: setenforce 0 and SELINUX=disabled' },
        { value: 'permissive', name: 'permissive' },
        { value: 'leave', name: 'leave as it is' },
      ],
      default: 'disable',
    });
    const firewall = await p.select({
      message: 'Firewall',
      choices: [
        { value: 'disable', name: 'disable firewalld (the guides)' },
        { value: 'open', name: 'keep firewalld, open VRRP, http, https' },
        { value: 'leave', name: 'leave as it is (VRRP must already pass, or the pair splits)' },
      ],
      default: 'disable',
    });
    a.system = { selinux, firewall, multicast: true };
  };

  let asked = false;
  const ask = async (missing: boolean, fn: () => Promise<void>) => {
    if (!missing) return;
    asked = true;
    await fn();
  };
  try {
    await ask(!has(a, 'ssh'), askSsh);
    if (d) d.useSsh((a.ssh ?? {}) as Partial);
    if (!Array.isArray(a.nodes) || a.nodes.length < 2) await ask(true, askNodes);
    else await completeNodes();
    await ask(!Array.isArray(a.instances) || a.instances.length === 0, askInstances);
    await ask(!has(a, 'profile') || !has(a, 'healthCheck'), askChecks);
    await ask(!has(a, 'nginx'), askNginx);
    await ask(!has(a, 'system'), askSystem);

    // review: apply, edit a section, save, or quit
    if (opts.review && asked) {
      for (;;) {
        const { text, problems } = opts.review.summarize(a as AnswersInput);
        say(problems.length ? `These answers cannot be used yet:\n${problems.map((x) => `  ${x}`).join('\n')}` : text);
        const choice = await p.select({
          message: problems.length ? 'Fix which part?' : 'Apply these answers?',
          choices: [
            ...(problems.length ? [] : [{ value: 'apply', name: opts.review.applyLabel }]),
            { value: 'hosts', name: 'edit the hosts (addresses, users, interfaces, priorities)' },
            { value: 'instances', name: 'edit the VIPs and instances (ids, masters, passwords)' },
            { value: 'checks', name: 'edit the failover profile and the nginx health check' },
            { value: 'system', name: 'edit the system settings (SELinux, firewall) and the web backends' },
            { value: 'save', name: 'save the answers to a file (without the passwords)' },
            { value: 'quit', name: 'quit without changing anything' },
          ],
          default: problems.length ? 'hosts' : 'apply',
        });
        if (choice === 'apply') break;
        if (choice === 'quit') throw new CancelledError('nothing changed (quit at the review)');
        if (choice === 'save') {
          const path = (
            await p.input({ message: 'Save to', default: 'ha-setup.yaml', validate: validators.localPath })
          ).trim();
          opts.review.save(a as AnswersInput, expandHome(path));
          say(`answers saved to ${path} (passwords left out)`);
        } else if (choice === 'hosts') {
          delete a.nodes;
          await askNodes();
          // instances name nodes: ask again only when a master is gone
          const names = (a.nodes as Partial[]).map((n) => String(n.name));
          if ((a.instances as Partial[]).some((x) => !names.includes(String(x.master)))) await askInstances();
        } else if (choice === 'instances') await askInstances();
        else if (choice === 'checks') {
          delete a.profile;
          delete a.healthCheck;
          await askChecks();
        } else {
          await askSystem();
          await askNginx();
        }
      }
    }
  } finally {
    d?.close();
  }
  return a as AnswersInput;
}

const sortedIds = (ids: Iterable<number>) => [...ids].sort((x, y) => x - y).join(', ');

/** a node of the partial answers, as the transport needs it */
function resolvedNode(n: Partial): ResolvedNode {
  const user = String(n.user ?? 'root');
  return {
    name: String(n.name ?? n.host),
    host: String(n.host),
    port: Number(n.port ?? 22),
    user,
    interface: String(n.interface ?? 'lo'),
    priority: Number(n.priority ?? 100),
    address: n.address ? String(n.address) : undefined,
  };
}

/** the SSH / sudo password, asked on the terminal (stderr) when there is one; never echoed */
export function passwordPrompt(io: { stdinIsTTY: boolean }): ((message: string) => Promise<string>) | undefined {
  if (!io.stdinIsTTY) return undefined;
  return async (message) => {
    const { password } = await import('@inquirer/prompts');
    return password({ message, mask: '*' }, { input: process.stdin, output: process.stderr });
  };
}

export async function confirmApply(p: Prompter, message: string): Promise<boolean> {
  return p.confirm({ message, default: false });
}
