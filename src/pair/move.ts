/**
 * One planned move of VIPs from a node (`from`) to another, without a failed request:
 *
 * 1. the nodes that may take the VIPs over pass packets of connections they do not know on to `from` (nftables: a
 *    TCP packet to a VIP whose connection did not open here since the handoff began, by its SYN, is duplicated to
 *    `from` and dropped here), so a request in flight at the switch is finished by `from`;
 * 2. `from` holds the VIPs on its lo (kernel lifetime of a few seconds, refreshed while needed), so it keeps
 *    answering while its keepalived lets go of them;
 * 3. the trigger (keepalived stopped, a handover flag, a demotion cleared...) makes another node take them over
 *    (gratuitous ARPs move the clients);
 * 4. once another node holds every VIP, `from` stops answering ARP for its held copies (arp_ignore 1 on its VRRP
 *    interface) and drains: it keeps the held copies until no established connection to a VIP is left there (at
 *    most DRAIN_MAX_MS);
 * 5. everything is undone: holds, arp_ignore, the handoff rules (each also expires by itself should the run die).
 *
 * Without nftables on a taker, step 1 is skipped there (a request in flight at the very instant of the switch may
 * then be reset) and said so.
 */
import { isLinkLocal6 } from '../answers/ip.js';
import type { ResolvedNode } from '../answers/resolve.js';
import { targetsOf, vipsOf, vrrpInstancesOf } from '../answers/targets.js';
import type { Conn } from '../conn.js';
import { OperationError } from '../errors.js';
import { gather } from '../facts/gather.js';
import { HOLD_LABEL, HOLD_SECONDS, sleep, waitHolders, type PairEnv } from './handover-env.js';
import type { VipHolders } from '../observe/holders.js';

/** the longest `from` keeps its held copies for connections still open there */
export const DRAIN_MAX_MS = 30_000;
/** cleanup timers on the hosts, should the run die before it undoes a move */
const DEADMAN_SECONDS = 180;
const HANDOFF_TABLE = 'ha_setup_handoff';
const HANDOFF_MARK = '0x48a5';

/** hold the VIPs on lo (IPv4 with the hold's label; IPv6 without DAD: an IPv6 address on lo is never advertised) */
export async function hold(conn: Conn, vips: string[]): Promise<void> {
  const life = `valid_lft ${HOLD_SECONDS} preferred_lft ${HOLD_SECONDS}`;
  await conn.mustSh(
    'for v in "$@"; do case $v in ' +
      `*:*) ip -6 addr replace "$v/128" dev lo ${life} nodad || exit 1 ;; ` +
      `*) ip -4 addr replace "$v/32" dev lo label ${HOLD_LABEL} ${life} || exit 1 ;; esac; done`,
    vips,
    `holding ${vips.join(' ')} on lo`,
  );
}

export async function unhold(conn: Conn, vips: string[]): Promise<void> {
  await conn.sh(
    'for v in "$@"; do case $v in *:*) ip -6 addr del "$v/128" dev lo ;; *) ip -4 addr del "$v/32" dev lo ;; esac ' +
      '2>/dev/null; done; exit 0',
    vips,
  );
}

/** VIPs of one family on one interface of the old holder, and its address there (where their flows go on to) */
export interface HandoffGroup {
  family: 4 | 6;
  dev: string;
  from: string;
  vips: string[];
}

/** removes every handoff table (one per family and interface), from the run or from the deadman timer */
const HANDOFF_CLEAN =
  `nft list tables 2>/dev/null | awk '$3 ~ /^${HANDOFF_TABLE}_/ { print $2, $3 }' | ` +
  'while read -r f t; do nft delete table "$f" "$t"; done';

/**
 * the handoff rules on a taker, one table per group (ip or ip6): flows to the group's VIPs it does not know go on to
 * the old holder's address on that interface; false when there is no nft
 */
export async function handoffOn(conn: Conn, groups: HandoffGroup[]): Promise<boolean> {
  const first = await conn.sh(`command -v nft >/dev/null 2>&1 || exit 3\n${HANDOFF_CLEAN}\nexit 0`, [], {
    timeoutMs: 20_000,
  });
  if (first.code === 3) return false;
  for (const [i, g] of groups.entries()) {
    const fam = g.family === 6 ? 'ip6' : 'ip';
    const addr = g.family === 6 ? 'ipv6_addr' : 'ipv4_addr';
    const t = `${fam} ${HANDOFF_TABLE}_${g.family}_${i}`;
    const head = [
      'from=$1; dev=$2; shift 2; set_=$(printf "%s, " "$@"); set_="{ ${set_%, } }"',
      `nft delete table ${t} 2>/dev/null`,
      `nft add table ${t} || exit 1`,
      `nft add chain ${t} pre '{ type filter hook prerouting priority -150; }' || exit 1`,
    ];
    const flow = `${fam} saddr . tcp sport . ${fam} daddr . tcp dport`;
    // the flows this node saw open (their SYN) since the handoff began: every other TCP packet to a VIP belongs to
    // a connection `from` opened. Conntrack's "new" cannot tell that: a client reuses its ports within seconds, and
    // this node's conntrack (and a TIME_WAIT socket) still knows the 4-tuple from when it last held the VIP, so the
    // request went to the stale socket here and timed out (IPv6 probes at 200 requests/s on the lab, 2-3 in 12
    // switchovers)
    const bySet = [
      ...head,
      `nft add set ${t} mine '{ type ${addr} . inet_service . ${addr} . inet_service; ` +
        "flags dynamic, timeout; timeout 10m; size 262144; }' || exit 1",
      // not local here yet: keepalived sends its unsolicited NA as it adds an IPv6 VIP, and the kernel installs the
      // address's local route a moment later; a SYN in between got "unreachable route" back (a 1 s retransmit: a
      // request over its timeout, 1-2 in 12 switchovers at 200 requests/s on the lab)
      `nft add rule ${t} pre ${fam} daddr "$set_" fib daddr type != local counter ` +
        'dup to "$from" device "$dev" drop || exit 1',
      `nft add rule ${t} pre ${fam} daddr "$set_" ` +
        `'tcp flags & (syn | ack) == syn counter add @mine { ${flow} }' || exit 1`,
      `nft add rule ${t} pre ${fam} daddr "$set_" 'meta l4proto tcp ${flow} != @mine counter' ` +
        'dup to "$from" device "$dev" drop || exit 1',
    ];
    // an nft or kernel without dynamic sets of concatenations: conntrack's view (a packet that is no SYN and opens
    // a connection here), right but for a reused 4-tuple
    const byConntrack = [
      ...head,
      `nft add rule ${t} pre ${fam} daddr "$set_" tcp flags \\& syn == 0 ct state new ` +
        `ct mark set ${HANDOFF_MARK} || exit 1`,
      `nft add rule ${t} pre ct mark ${HANDOFF_MARK} ${fam} daddr "$set_" ` +
        'dup to "$from" device "$dev" drop || exit 1',
    ];
    const args = [g.from, g.dev, ...g.vips];
    let r = await conn.sh(bySet.join('\n'), args, { timeoutMs: 20_000 });
    if (r.code !== 0) r = await conn.sh(byConntrack.join('\n'), args, { timeoutMs: 20_000 });
    if (r.code !== 0)
      throw new OperationError(`${conn.node.name}: the handoff rule failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  await conn.sh(
    'systemctl stop ha-setup-handoff-clean.timer >/dev/null 2>&1\n' +
      `systemd-run --quiet --unit=ha-setup-handoff-clean --on-active=${DEADMAN_SECONDS} sh -c "$1" ` +
      '>/dev/null 2>&1 || true',
    [HANDOFF_CLEAN],
    { timeoutMs: 20_000 },
  );
  return true;
}

export async function handoffOff(conn: Conn): Promise<void> {
  await conn.sh(`${HANDOFF_CLEAN}; systemctl stop ha-setup-handoff-clean.timer >/dev/null 2>&1; exit 0`, [], {
    timeoutMs: 20_000,
  });
}

/**
 * arp_ignore on the VRRP interface: 1 while `from` drains (it answers for the held VIPs without claiming them), then
 * the value it had
 */
export async function arpQuiet(conn: Conn, iface: string, on: boolean): Promise<void> {
  const script = on
    ? [
        'k=net.ipv4.conf.$1.arp_ignore; f=/run/ha-setup/arp_ignore.$1; mkdir -p /run/ha-setup',
        '[ -f "$f" ] || sysctl -n "$k" > "$f" || exit 1',
        'sysctl -qw "$k=1" || exit 1',
        'systemctl stop ha-setup-arp-restore.timer >/dev/null 2>&1',
        `systemd-run --quiet --unit=ha-setup-arp-restore --on-active=${DEADMAN_SECONDS} ` +
          'sh -c \'sysctl -qw "$0=$(cat "$1")" && rm -f "$1"\' "$k" "$f" >/dev/null 2>&1 || true',
      ]
    : [
        'k=net.ipv4.conf.$1.arp_ignore; f=/run/ha-setup/arp_ignore.$1',
        '[ -f "$f" ] && sysctl -qw "$k=$(cat "$f")" && rm -f "$f"',
        'systemctl stop ha-setup-arp-restore.timer >/dev/null 2>&1; exit 0',
      ];
  await conn.mustSh(script.join('\n'), [iface], `arp_ignore on ${iface}`);
}

/** established TCP connections with a VIP as their local address on the node */
export async function openConnections(conn: Conn, vips: string[]): Promise<number> {
  const r = await conn.sh(
    'n=0; for v in "$@"; do c=$(ss -Htn state established src "$v" | wc -l); n=$((n + c)); done; echo $n',
    vips,
  );
  return Number(r.stdout.trim()) || 0;
}

/**
 * the node's own address of a family on an interface (where the handoff sends the flows it keeps): its first IPv4
 * one that is not secondary, or its first global IPv6 one (not link-local); never one of the pair's VIPs (`vips`):
 * IPv6 has no secondary addresses and lists the VIP the node holds first, and a handoff to the VIP sent the flows
 * back to the taker itself (reset, or looped there)
 */
export async function addressOn(conn: Conn, iface: string, family: 4 | 6 = 4, vips: string[] = []): Promise<string> {
  const f = await gather(conn, ['interfaces'], {}, { timeoutMs: 10_000 });
  const ips = (f.interfaces[iface]?.ips ?? []).filter(
    (a) => a.family === family && !isLinkLocal6(a.address) && !vips.includes(a.address),
  );
  const a =
    ips.find((x) => !x.secondary)?.address ??
    ips[0]?.address ??
    (family === 4 ? conn.node.address : conn.node.address6);
  if (!a || vips.includes(a)) throw new OperationError(`${conn.node.name}: no IPv${family} address on ${iface}`);
  return a;
}

/** each VIP's family and interface on `node` (its instance's interface, or the VIP's own dev) */
export function vipRoutes(cfg: PairEnv['cfg'], node: ResolvedNode, vips: string[]): Omit<HandoffGroup, 'from'>[] {
  const groups: Omit<HandoffGroup, 'from'>[] = [];
  for (const v of vrrpInstancesOf(cfg, node))
    for (const a of v.vips) {
      if (!vips.includes(a.address)) continue;
      const dev = a.dev ?? v.iface;
      const g = groups.find((x) => x.family === a.family && x.dev === dev);
      if (g) g.vips.push(a.address);
      else groups.push({ family: a.family, dev, vips: [a.address] });
    }
  return groups;
}

export interface MoveSpec {
  from: string;
  vips: string[];
  /** the nodes that may take the VIPs over (the handoff rule goes there) */
  takers: string[];
  /** what makes another node take them over */
  trigger: () => Promise<void>;
  /** undo the trigger when no node took over in time */
  undo: () => Promise<void>;
  /** the node the VIPs must go to (null: any node but `from`) */
  to?: string | null;
  timeoutMs: number;
}

function movedTo(vips: string[], from: string, to: string | null | undefined) {
  return (h: VipHolders) => vips.every((v) => (h[v] ?? []).length === 1 && (to ? h[v][0] === to : h[v][0] !== from));
}

/** steps 1-5 above; returns what was done, one line each */
export async function plannedMove(env: PairEnv, m: MoveSpec): Promise<string[]> {
  const log: string[] = [];
  const say = (l: string) => (log.push(l), env.progress?.(l));
  const node = env.cfg.nodes.find((n) => n.name === m.from)!;
  const conn = env.conns[m.from];
  // per family and interface: the old holder's address there, where the takers pass on the flows they do not know
  const routes = vipRoutes(env.cfg, node, m.vips);
  const groups: HandoffGroup[] = [];
  const allVips = targetsOf(env.cfg).flatMap(vipsOf);
  for (const r of routes) groups.push({ ...r, from: await addressOn(conn, r.dev, r.family, allVips) });
  const arpDevs = [...new Set(routes.filter((r) => r.family === 4).map((r) => r.dev))];
  const handoffs: string[] = [];
  let quiet = false;
  try {
    for (const t of m.takers) {
      const tn = env.cfg.nodes.find((n) => n.name === t)!;
      // the taker's interface of each group: the same instance's there
      const theirs = vipRoutes(env.cfg, tn, m.vips);
      const own = groups.map((g) => ({ ...g, dev: theirs.find((x) => x.vips.includes(g.vips[0]))?.dev ?? g.dev }));
      if (await handoffOn(env.conns[t], own)) handoffs.push(t);
      else say(`${t} has no nft: a request in flight at the switch may be reset there`);
    }
    await hold(conn, m.vips);
    say(`${m.from}: answering for ${m.vips.join(' ')} while keepalived lets go of them`);
    await m.trigger();
    const moved = await waitHolders(env, movedTo(m.vips, m.from, m.to), m.timeoutMs, () => hold(conn, m.vips));
    if (!moved.ok) {
      await m.undo().catch((e: Error) => say(`putting ${m.from} back: ${e.message}`));
      await waitHolders(
        env,
        (h) => m.vips.every((v) => (h[v] ?? []).length === 1),
        m.timeoutMs,
        () => hold(conn, m.vips),
      );
      const where = m.vips.map((v) => `${v} on ${(moved.holders[v] ?? []).join(' and ') || 'no node'}`).join(', ');
      throw new OperationError(`${m.from}: no other node took ${m.vips.join(' ')} over in time (${where})`);
    }
    say(m.vips.map((v) => `${v} now on ${moved.holders[v][0]}`).join(', '));
    for (const d of arpDevs) await arpQuiet(conn, d, true);
    quiet = true;
    await drain(env, conn, m.vips, say);
  } finally {
    await unhold(conn, m.vips).catch(() => undefined);
    if (quiet) for (const d of arpDevs) await arpQuiet(conn, d, false).catch(() => undefined);
    for (const t of handoffs) await handoffOff(env.conns[t]).catch(() => undefined);
  }
  return log;
}

/** keep the held copies until the connections open on `from` are done (at most DRAIN_MAX_MS) */
async function drain(env: PairEnv, conn: Conn, vips: string[], say: (l: string) => void): Promise<void> {
  const start = Date.now();
  let last = Date.now();
  for (;;) {
    const open = await openConnections(conn, vips);
    if (open === 0) return;
    if (Date.now() - start > DRAIN_MAX_MS || env.signal?.aborted) {
      say(`${conn.node.name}: ${open} connection(s) still open after ${DRAIN_MAX_MS / 1000} s: closing them`);
      return;
    }
    if (Date.now() - last > 2000) {
      await hold(conn, vips);
      last = Date.now();
    }
    await sleep(200);
  }
}
