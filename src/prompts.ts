/**
 * Every question ha-setup asks lives here. The wizard asks ONLY for what the given (partial) answers lack,
 * validates each answer with the same rules as the answers file, and never stores secrets in what it returns
 * for saving. A Prompter is injected so tests can script the answers.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ABS_PATH_RE,
  AUTH_PASS_RE,
  IFACE_RE,
  NAME_RE,
  URL_RE,
  USER_RE,
  isHostAddress,
  parseCidr,
  type AnswersInput,
} from './answers/schema.js';

export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

export interface Prompter {
  input(q: { message: string; default?: string; validate?: (v: string) => true | string }): Promise<string>;
  password(q: { message: string; validate?: (v: string) => true | string }): Promise<string>;
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
      p.select<T>({ message: q.message, choices: q.choices, default: q.default }, ctx),
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
};

type Partial = Record<string, unknown>;

function has(obj: unknown, key: string): boolean {
  return (
    !!obj &&
    typeof obj === 'object' &&
    key in (obj as Record<string, unknown>) &&
    (obj as Record<string, unknown>)[key] !== undefined
  );
}

/**
 * Complete the partial answers by asking. Returns the full answers (with secrets, for this run only).
 */
export async function wizard(partial: Partial, p: Prompter): Promise<AnswersInput> {
  const a: Partial = structuredClone(partial ?? {});

  if (!Array.isArray(a.nodes) || a.nodes.length < 2) {
    const nodes: Partial[] = [];
    const count = Number(
      await p.input({ message: 'How many load balancers?', default: '2', validate: intIn(2, 16, 'count') }),
    );
    for (let i = 0; i < count; i++) {
      const n = i + 1;
      const host = (
        await p.input({ message: `LB ${n}: SSH address (IP or host name)`, validate: validators.host })
      ).trim();
      const name = (
        await p.input({
          message: `LB ${n}: name`,
          default: `lb${String(n).padStart(2, '0')}`,
          validate: validators.name,
        })
      ).trim();
      const user = (
        await p.input({
          message: `LB ${n}: SSH user (non-root uses sudo)`,
          default: i > 0 ? String(nodes[0].user) : 'root',
          validate: validators.user,
        })
      ).trim();
      const iface = (
        await p.input({
          message: `LB ${n}: VRRP interface`,
          default: i > 0 ? String(nodes[0].interface) : 'eth0',
          validate: validators.iface,
        })
      ).trim();
      const priority = Number(
        await p.input({
          message: `LB ${n}: priority (1..254, the master highest)`,
          default: String(Math.max(1, 110 - 10 * i)),
          validate: validators.priority,
        }),
      );
      nodes.push({ name, host, user, interface: iface, priority });
    }
    a.nodes = nodes;
  } else {
    // complete node entries that lack a required key
    for (const [i, n] of (a.nodes as Partial[]).entries()) {
      const label = String(n.name ?? n.host ?? `#${i + 1}`);
      if (!has(n, 'host'))
        n.host = (await p.input({ message: `${label}: SSH address`, validate: validators.host })).trim();
      if (!has(n, 'interface'))
        n.interface = (
          await p.input({ message: `${label}: VRRP interface`, default: 'eth0', validate: validators.iface })
        ).trim();
      if (!has(n, 'priority'))
        n.priority = Number(
          await p.input({
            message: `${label}: priority (1..254)`,
            default: String(Math.max(1, 110 - 10 * i)),
            validate: validators.priority,
          }),
        );
    }
  }
  const nodes = a.nodes as Partial[];
  const nodeNames = nodes.map((n) => String(n.name ?? n.host));

  if (!has(a, 'ssh')) {
    const defKey = ['id_ed25519', 'id_ecdsa', 'id_rsa']
      .map((k) => join(homedir(), '.ssh', k))
      .find((f) => existsSync(f));
    const identityFile = (
      await p.input({ message: 'SSH private key (empty: ssh-agent only)', default: defKey ?? '' })
    ).trim();
    const hostKeyPolicy = await p.select({
      message: 'Unknown SSH host keys',
      choices: [
        { value: 'strict', name: 'refuse (strict: keys must already be in known_hosts)' },
        { value: 'accept-new', name: 'show the fingerprint and add it (accept-new)' },
      ],
      default: 'strict',
    });
    a.ssh = { ...(identityFile ? { identityFile } : {}), hostKeyPolicy };
  }

  if (!Array.isArray(a.instances) || a.instances.length === 0) {
    const layout = await p.select({
      message: 'Layout',
      choices: [
        { value: 'single', name: 'active-passive: one VIP on a master, the others stand by' },
        { value: 'double', name: 'active-active: two VIPs, each with its own master (seed 004: VI_1 + VI_2)' },
      ],
      default: 'single',
    });
    const count = layout === 'double' ? 2 : 1;
    const instances: Partial[] = [];
    for (let i = 0; i < count; i++) {
      const name = `VI_${i + 1}`;
      const vipsText = await p.input({
        message: `${name}: VIP(s) with prefix, e.g. 172.16.70.183/24`,
        validate: validators.vips,
      });
      const vrid = Number(
        await p.input({
          message: `${name}: virtual router id (1..255, unique on the segment)`,
          default: String(51 + i),
          validate: validators.vrid,
        }),
      );
      const master = await p.select({
        message: `${name}: master (starts with the VIP)`,
        choices: nodeNames.map((n) => ({ value: n, name: n })),
        default: nodeNames[i % nodeNames.length],
      });
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
        vips: vipsText.split(/[\s,]+/).filter(Boolean),
        master,
        ...(authPass ? { authPass } : {}),
        preempt,
      });
    }
    a.instances = instances;
  }

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
        { value: 'restart-then-stop', name: "try to restart nginx, else stop keepalived (the guides' check_nginx.sh)" },
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

  if (!has(a, 'system')) {
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
  }
  return a as AnswersInput;
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
