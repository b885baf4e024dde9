/**
 * Which virtual router ids are in use on a segment: listen for VRRP adverts (IP protocol 112 to 224.0.0.18) on an
 * interface for a few seconds. Two clusters with the same id on one segment both flap, so the wizard proposes a
 * free id and init's preflight refuses one that a router other than the nodes advertises. Needs nothing installed:
 * a raw socket from perl (Debian's perl-base) or python3 (RHEL's), bound to the interface and a member of the VRRP
 * group on it (a NIC that filters multicast passes the group's frames then), else tcpdump in promiscuous mode; as
 * root.
 * Every way prints one line per advert: "SRC VRID PRIORITY VERSION".
 */
import { isIPv4 } from '../answers/schema.js';

export interface VrrpAdvert {
  src: string;
  vrid: number;
  priority: number;
  version: number;
}

/** perl: join 224.0.0.18 on the interface's address, read raw protocol-112 packets until the time is up */
const PERL = `use Socket;
my ($addr, $secs, $iface) = @ARGV;
socket(my $s, PF_INET, SOCK_RAW, 112) or exit 3;
setsockopt($s, SOL_SOCKET, 25, pack("Z*", $iface)) or exit 3;
setsockopt($s, IPPROTO_IP, 35, pack("a4 a4", inet_aton("224.0.0.18"), inet_aton($addr)));
# Time::HiRes is not in perl-base: without it, whole seconds, never less than asked
my $now = eval { require Time::HiRes; \\&Time::HiRes::time } || sub { time() };
my $end = $now->() + $secs + (defined &Time::HiRes::time ? 0 : 1); my $rin = ""; vec($rin, fileno($s), 1) = 1;
$| = 1;
while ((my $left = $end - $now->()) > 0) {
  next unless select(my $r = $rin, undef, undef, $left);
  my $buf; recv($s, $buf, 4096, 0) or next;
  my $ihl = (ord(substr($buf, 0, 1)) & 15) * 4;
  next if length($buf) < $ihl + 3;
  printf "%s %d %d %d\\n", inet_ntoa(substr($buf, 12, 4)), ord(substr($buf, $ihl + 1, 1)),
    ord(substr($buf, $ihl + 2, 1)), ord(substr($buf, $ihl, 1)) >> 4;
}`;

const PYTHON = `import socket, sys, time, select
addr, secs, iface = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.SOL_SOCKET, 25, iface.encode() + b"\\0")
s.setsockopt(socket.IPPROTO_IP, 35, socket.inet_aton("224.0.0.18") + socket.inet_aton(addr))
end = time.time() + secs
while True:
    left = end - time.time()
    if left <= 0: break
    if not select.select([s], [], [], left)[0]: continue
    b = s.recv(4096); ihl = (b[0] & 15) * 4
    if len(b) < ihl + 3: continue
    print(socket.inet_ntoa(b[12:16]), b[ihl + 1], b[ihl + 2], b[ihl] >> 4, flush=True)`;

/**
 * sh listening on "$1" (interface) for "$2" seconds; prints advert lines. The interface's first IPv4 address is
 * the membership address for the raw-socket ways.
 */
/** "... IP SRC > DST: VRRPv2, Advertisement, vrid 51, prio 100, ..." -> "SRC VRID PRIORITY VERSION" */
const TCPDUMP_SED =
  's/.* IP \\([0-9.]*\\) > [0-9.]*: VRRPv\\([23]\\), Advertisement, ' +
  'vrid \\([0-9]*\\), prio \\([0-9]*\\).*/\\1 \\3 \\4 \\2/p';

/** what the listener prints when no way of listening worked */
export const NO_LISTENER = '@nolistener';

export const VRRP_LISTEN_SH = `iface=$1; secs=$2
addr=$(ip -o -4 addr show dev "$iface" 2>/dev/null | sed -n 's/.* inet \\([0-9.]*\\)\\/.*/\\1/p' | head -1)
# each way in turn until one could listen (a raw socket can be refused: no CAP_NET_RAW, no such interface)
if [ -n "$addr" ] && command -v perl >/dev/null 2>&1 &&
  perl -e '${PERL.replace(/'/g, `'\\''`)}' "$addr" "$secs" "$iface"; then :
elif [ -n "$addr" ] && command -v python3 >/dev/null 2>&1 &&
  python3 -c '${PYTHON.replace(/'/g, `'\\''`)}' "$addr" "$secs" "$iface" 2>/dev/null; then :
elif command -v tcpdump >/dev/null 2>&1; then
  # tcpdump listened when timeout ended it (124); anything else is a failure to listen
  { timeout "$secs" tcpdump -l -n -i "$iface" 'ip proto 112' 2>/dev/null; [ $? = 124 ] || echo ${NO_LISTENER}; } |
    sed -n -e '${TCPDUMP_SED}' -e '/^${NO_LISTENER}$/p'
else
  echo ${NO_LISTENER}
fi`;

/** advert lines -> adverts (malformed lines and impossible values are dropped) */
export function parseVrrpAdverts(text: string): VrrpAdvert[] {
  const out: VrrpAdvert[] = [];
  for (const l of text.split('\n')) {
    const m = /^\s*(\d+\.\d+\.\d+\.\d+) (\d{1,3}) (\d{1,3}) ([23])\s*$/.exec(l);
    if (!m || !isIPv4(m[1])) continue;
    const vrid = Number(m[2]);
    const priority = Number(m[3]);
    if (vrid < 1 || vrid > 255 || priority > 255) continue;
    out.push({ src: m[1], vrid, priority, version: Number(m[4]) });
  }
  return out;
}

/** one entry per (vrid, source) */
export function usedVrids(adverts: VrrpAdvert[]): Map<number, VrrpAdvert[]> {
  const out = new Map<number, VrrpAdvert[]>();
  for (const a of adverts) {
    const list = out.get(a.vrid) ?? [];
    if (!list.some((x) => x.src === a.src)) list.push(a);
    out.set(a.vrid, list);
  }
  return out;
}

/** the lowest free id from `from` (the guides use 51) upward, wrapping to 1; null when all 255 are taken */
export function lowestFreeVrid(used: Iterable<number>, from = 51): number | null {
  const taken = new Set(used);
  for (let k = 0; k < 255; k++) {
    const id = ((from - 1 + k) % 255) + 1;
    if (!taken.has(id)) return id;
  }
  return null;
}
