/**
 * What the wizard finds out about the hosts while it asks: it connects to each host as soon as its address is
 * given (host key verified; an unknown key is shown for the user to trust, a changed one is refused), reads its
 * interfaces and the address SSH came in on, checks that a VIP is free (the preflight's ARP probe; for an IPv6 VIP
 * `ping -6` and the neighbour entry it leaves) and listens for the virtual router ids other VRRP routers use on the
 * segment. Transport only: the questions are in the other
 * files of src/wizard/ (hosts.ts, network.ts, instances.ts...).
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { gather, parseGathered } from '../facts/gather.js';
import { PATHS } from '../paths.js';
import type { VrrpAdvert } from '../facts/vrrp.js';
import type { InterfaceFact } from '../facts/types.js';
import { becomeRoot } from '../ssh/session.js';
import type { Conn } from '../conn.js';
import { connect, HostKeyError } from '../ssh/ssh.js';
import type { PresentedKey } from '../ssh/known-hosts.js';

export interface HostInfo {
  hostname: string;
  /** the host's address the SSH connection came in on ($SSH_CONNECTION), to default the VRRP interface */
  sshAddress: string | null;
  interfaces: InterfaceFact[];
  os: string;
  /** debian, rhel or unknown (from /etc/os-release, as the facts read it) */
  family: string;
  /** keepalived running there, and whether ha-setup set it up (its members file): a pair built by hand if not */
  keepalived?: { active: boolean; managed: boolean };
}

export type Probe =
  | { ok: true; conn: Conn; info: HostInfo }
  | {
      ok: false;
      /** unknown: the user may trust `key`; changed / revoked: refused; other: unreachable, auth... */
      kind: 'unknown-key' | 'changed-key' | 'other';
      message: string;
      key?: PresentedKey;
    };

/** what the wizard reads of a host, as the login user (sudo would drop SSH_CONNECTION) */
export const INFO_FACTS = ['hostname', 'sshAddress', 'os', 'interfaces'] as const;

export function hostInfoOf(f: ReturnType<typeof parseGathered<(typeof INFO_FACTS)[number]>>): HostInfo {
  return {
    hostname: f.hostname,
    sshAddress: f.sshAddress,
    interfaces: Object.values(f.interfaces),
    os: f.os.pretty || 'unknown',
    family: f.os.family,
  };
}

/** a gather script's output (@@ sections) -> what the wizard knows of the host */
export function parseHostInfo(out: string): HostInfo {
  return hostInfoOf(parseGathered(INFO_FACTS, out));
}

/** the interface to offer first: the one carrying the address SSH came in on, else the first up non-loopback one */
export function defaultInterface(info: HostInfo): string | null {
  const bySsh = info.interfaces.find(
    (i) => info.sshAddress && i.addresses.some((a) => a.split('/')[0] === info.sshAddress),
  );
  if (bySsh) return bySsh.name;
  return info.interfaces.find((i) => i.name !== 'lo' && i.up && i.addresses.length)?.name ?? null;
}

export interface DiscoveryOptions {
  env: NodeJS.ProcessEnv;
  /** asked once when a host needs a password (SSH or sudo) */
  password: () => Promise<string | undefined>;
  log?: (line: string) => void;
}

type SshAnswers = Config['answers']['ssh'];

/** who answers for an IPv6 address on the link: the link-layer address of its neighbour entry, an echo reply */
export interface NdpAnswer {
  lladdr: string | null;
  echo: boolean;
}

/** what the wizard uses (tests give it a scripted one) */
export interface HostDiscovery {
  useSsh(ssh: Partial<SshAnswers>): void;
  probe(node: ResolvedNode): Promise<Probe>;
  arpAnswer(conn: Conn, iface: string, vip: string): Promise<string | null>;
  ndpAnswer(conn: Conn, iface: string, vip: string): Promise<NdpAnswer | null>;
  listen(conn: Conn, iface: string, seconds: number): Promise<VrrpAdvert[]>;
  close(): void;
}

export class Discovery implements HostDiscovery {
  private conns: Conn[] = [];
  private ssh: SshAnswers = { hostKeyPolicy: 'strict', connectTimeout: 10, useAgent: true };
  constructor(private opts: DiscoveryOptions) {}

  /** the answers' ssh section as the wizard has it so far (key, known_hosts file...) */
  useSsh(ssh: Partial<SshAnswers>): void {
    this.ssh = { hostKeyPolicy: 'strict', connectTimeout: 10, useAgent: true, ...ssh };
  }

  /** connect (strict host keys), become root, read what the wizard offers */
  async probe(node: ResolvedNode): Promise<Probe> {
    let conn: Conn;
    try {
      conn = await connect(node, {
        ssh: { ...this.ssh, hostKeyPolicy: 'strict' },
        env: this.opts.env,
        password: this.opts.password,
        log: this.opts.log,
      });
    } catch (e) {
      if (e instanceof HostKeyError) {
        return {
          ok: false,
          kind: e.reason === 'unknown' ? 'unknown-key' : 'changed-key',
          message: e.message,
          key: e.presented,
        };
      }
      return { ok: false, kind: 'other', message: (e as Error).message };
    }
    this.conns.push(conn);
    try {
      await becomeRoot(conn, node, this.opts.password);
      const f = await gather(conn, INFO_FACTS, {}, { root: false, timeoutMs: 15_000 });
      const ka = await gather(conn, ['services', 'members'], { STATE_DIR: PATHS.flagDir }, { timeoutMs: 15_000 });
      const keepalived = { active: ka.services.keepalived?.active === 'active', managed: ka.members !== null };
      return { ok: true, conn, info: { ...hostInfoOf(f), keepalived } };
    } catch (e) {
      conn.close();
      return { ok: false, kind: 'other', message: (e as Error).message };
    }
  }

  /** null when nothing answers ARP for `vip` on `iface`; else the link-layer address that does */
  async arpAnswer(conn: Conn, iface: string, vip: string): Promise<string | null> {
    const f = await gather(conn, ['vipneighbors'], { VIPS: vip, IFACE: iface }, { timeoutMs: 15_000 });
    return f.vipneighbors.find((n) => n.vip === vip)?.lladdr ?? null;
  }

  /** null when nothing answers for the IPv6 address `vip` on `iface` (neither neighbour discovery nor ping -6) */
  async ndpAnswer(conn: Conn, iface: string, vip: string): Promise<NdpAnswer | null> {
    const f = await gather(conn, ['vip6neighbors'], { VIPS: vip, IFACE: iface }, { timeoutMs: 15_000 });
    const n = f.vip6neighbors.find((x) => x.vip === vip);
    return n && (n.lladdr || n.echo) ? { lladdr: n.lladdr, echo: n.echo } : null;
  }

  /** VRRP adverts heard on `iface` during `seconds` */
  async listen(conn: Conn, iface: string, seconds: number): Promise<VrrpAdvert[]> {
    const f = await gather(
      conn,
      ['vrrp'],
      { IFACE: iface, LISTEN: String(seconds) },
      { timeoutMs: (seconds + 15) * 1000 },
    );
    if (!f.vrrp.heard) throw new Error('no raw socket from perl or python3, and no tcpdump');
    return f.vrrp.adverts;
  }

  close(): void {
    this.conns.forEach((c) => c.close());
    this.conns = [];
  }
}
