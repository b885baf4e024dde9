/**
 * The hosts: the SSH section (the private key; offline, what to do with unknown host keys), then each load
 * balancer's address, SSH user, name, VRRP interface and priority. Online each host is connected to as soon as its
 * address is given: an unknown host key is shown for the user to trust (into the known_hosts file they choose), a
 * host that cannot be reached is asked again at once, and what was read of it (name, interfaces) gives the defaults.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_PATH_RE, NAME_RE, isIPv4 } from '../answers/schema.js';
import type { ResolvedNode } from '../answers/resolve.js';
import { startWaiting } from '../spinner.js';
import { trustHostKey } from '../ssh/known-hosts.js';
import { expandHome } from '../home.js';
import { askInterface } from './network.js';
import { intIn, validators } from './prompter.js';
import { has, say, type Known, type Partial, type WizardState } from './state.js';

const hostKey = (n: Partial) => `${String(n.user ?? 'root')}@${String(n.host)}:${String(n.port ?? 22)}`;

/** a node of the partial answers, as the transport needs it */
export function resolvedNode(n: Partial): ResolvedNode {
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

/** connect to a node until it works: an unknown key may be trusted; returns null when the user gives up */
export async function reach(s: WizardState, n: Partial): Promise<Known | null> {
  const { a, p, d } = s;
  if (!d) return null;
  const k = s.known.get(hostKey(n));
  if (k) return k;
  for (;;) {
    const node = resolvedNode(n);
    const w = s.io ? startWaiting(s.io, `connecting to ${node.host}`) : null;
    const r = await d.probe(node);
    if (r.ok) {
      w?.succeed(`${node.host}: ${r.info.hostname}, ${r.info.os}`);
      const got = { conn: r.conn, info: r.info };
      s.known.set(hostKey(n), got);
      return got;
    }
    if (r.kind !== 'unknown-key' || !r.key) {
      // unreachable, a changed host key, authentication: a failure
      w?.fail(`${node.host}: not connected`);
      say(s, r.message);
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
}

/** the ssh section: the private key; offline also what to do with an unknown host key */
export async function askSsh(s: WizardState): Promise<void> {
  const { a, p, d } = s;
  const defKey = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k)).find((f) => existsSync(f));
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
}

/** LB `i + 1`'s address and user, asked again until the host is a new one and (online) reached */
async function askHost(s: WizardState, i: number, nodes: Partial[]): Promise<{ entry: Partial; k: Known | null }> {
  const { p, d } = s;
  const n = i + 1;
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
    const entry = { host, user };
    if (nodes.some((x) => x.host === host)) {
      say(
        s,
        `${host} is already LB ${nodes.findIndex((x) => x.host === host) + 1}; each load balancer is its own host`,
      );
      continue;
    }
    const k = await reach(s, entry);
    if (d && !k) {
      say(s, `LB ${n}: give the address again (or another host)`);
      continue;
    }
    return { entry, k };
  }
}

/**
 * every load balancer: how many, then each one's host and user (each reached as it is given), then each one's name,
 * interface and priority. `between`, after the hosts: true when it answered the rest (a pair taken over: the
 * running pair's nodes replace them, takeover.ts), so nothing of what it replaces is asked before it.
 */
export async function askNodes(s: WizardState, between?: () => Promise<boolean>): Promise<void> {
  const { a, p } = s;
  const count = Number(
    await p.input({ message: 'How many load balancers?', default: '2', validate: intIn(2, 16, 'count') }),
  );
  const hosts: { entry: Partial; k: Known | null }[] = [];
  for (let i = 0; i < count; i++)
    hosts.push(
      await askHost(
        s,
        i,
        hosts.map((h) => h.entry),
      ),
    );
  a.nodes = hosts.map((h) => ({ ...h.entry }));
  if (between && (await between())) return;
  const nodes: Partial[] = [];
  for (const [i, { entry, k }] of hosts.entries()) nodes.push(await askNodeDetails(s, i, entry, k, nodes));
  a.nodes = nodes;
}

/** LB `i + 1`'s name, VRRP interface and priority (its host and user `entry` known, `k` what was read of it) */
async function askNodeDetails(
  s: WizardState,
  i: number,
  entry: Partial,
  k: Known | null,
  nodes: Partial[],
): Promise<Partial> {
  const { p } = s;
  const n = i + 1;
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
  const iface = await askInterface(p, `LB ${n} (${name})`, k, i > 0 ? String(nodes[0].interface) : 'eth0');
  const priority = Number(
    await p.input({
      message: `LB ${n}: priority (1..254, the master highest; equal ones: no fixed master, the health check decides)`,
      default: String(Math.max(1, 110 - 10 * i)),
      validate: validators.priority,
    }),
  );
  const addr = k?.info.interfaces.find((x) => x.name === iface)?.addresses[0]?.split('/')[0];
  return {
    name,
    ...entry,
    interface: iface,
    priority,
    ...(addr && !isIPv4(String(entry.host)) ? { address: addr } : {}),
  };
}

/**
 * the nodes are given: ask only what each one lacks (address, interface, priority). `between`, once every host is
 * known: as for askNodes (true: a pair taken over answered the rest)
 */
export async function completeNodes(s: WizardState, between?: () => Promise<boolean>): Promise<void> {
  const { a, p } = s;
  for (const [i, n] of (a.nodes as Partial[]).entries()) {
    const label = String(n.name ?? n.host ?? `#${i + 1}`);
    if (!has(n, 'host')) {
      n.host = (await p.input({ message: `${label}: SSH address`, validate: validators.host })).trim();
    }
  }
  if (between && (await between())) return;
  for (const [i, n] of (a.nodes as Partial[]).entries()) {
    const label = String(n.name ?? n.host);
    if (!has(n, 'interface')) n.interface = await askInterface(p, label, await reach(s, n), 'eth0');
    if (!has(n, 'priority')) {
      n.priority = Number(
        await p.input({
          message: `${label}: priority (1..254; equal ones: no fixed master, the health check decides)`,
          default: String(Math.max(1, 110 - 10 * i)),
          validate: validators.priority,
        }),
      );
    }
  }
}

/** every address (both families) of every node that the wizard reached (a VIP must be none of them) */
export async function nodeAddresses(s: WizardState): Promise<string[]> {
  const out: string[] = [];
  for (const n of s.a.nodes as Partial[]) {
    out.push(String(n.host), ...(n.address ? [String(n.address)] : []));
    const k = await reach(s, n);
    if (k) out.push(...k.info.interfaces.flatMap((i) => (i.ips ?? []).map((x) => x.address)));
  }
  return out;
}
