/**
 * Every fact ha-setup reads from a host, in one table: a POSIX sh snippet and the parser of what it prints
 * (pyinfra's shape). init, status, verify-failover, the wizard's discovery and the session each gather the subset
 * they need in ONE round trip per host (gather.ts); the Facts type is derived from this table.
 *
 * Snippets read their inputs from shell variables set by the gather script ($FILES, $VIPS, $IFACE, ...: see VARS),
 * which come in as quoted positional parameters: no value is ever pasted into the script text. Shell functions that
 * several facts use (the file checks of safe-file.ts) are their preludes, defined once per round trip.
 */
import { isHostAddress, NAME_RE, USER_RE } from '../answers/schema.js';
import { canonicalIP, canonicalIPv6 } from '../answers/ip.js';
import { NGINX_STOP_UNIT, PATHS } from '../paths.js';
import {
  KA_BINS_SH,
  KA_ENV_SH,
  KA_PROCS_SH,
  KA_UNIT_SH,
  NGINX_DUMP_SH,
  parseKeepalivedBins,
  parseKeepalivedProcs,
  parseKeepalivedUnit,
  parseNginxDump,
} from './daemons.js';
import { GLOBS_SH, parseFileEntries, parseGlobs } from './file-entries.js';
import { offsetMinutes, parseLogStamp } from './logstamp.js';
import {
  BIN_CHECK_PRELUDE,
  FILE_CHECK_SH,
  HA_BIN_PRELUDE,
  NOTIFY_SCRIPT_SH,
  parseBins,
  parseNotifyScript,
} from './safe-file.js';
import { NO_LISTENER, parseVrrpAdverts, VRRP_LISTEN_SH } from './vrrp.js';
import type {
  FileFact,
  FlagFacts,
  InstanceState,
  InterfaceFact,
  Members,
  OsFact,
  OsFamily,
  ServiceFact,
  TestFact,
} from './types.js';

/** inputs of the snippets, in the order the gather script takes them as positional parameters */
export const VARS = [
  'FILES',
  'VIPS',
  'IFACE',
  'NGINX_DIR',
  'FW_RULES',
  'DIRS',
  'LISTEN',
  'LOGFILE',
  'BACKENDS',
  'STATE_DIR',
  'CONF',
  'UPGRADE',
  'GLOBS',
  'NOTIFY_SCRIPT',
] as const;
export type FactVar = (typeof VARS)[number];
export type FactVars = Partial<Record<FactVar, string>>;

export interface FactDef<T> {
  /** POSIX sh; stderr is discarded; may use the VARS and the functions its prelude defines */
  sh: string;
  parse(text: string): T;
  /** shell function definitions the snippet uses, each put once in front of a gather script (gather.ts) */
  prelude?: readonly string[];
}

const lines = (t: string) =>
  t
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

function fact<T>(sh: string, parse: (text: string) => T, prelude?: readonly string[]): FactDef<T> {
  return prelude ? { sh, parse, prelude } : { sh, parse };
}

/** a fact's snippet with its prelude, to run on its own */
export function factSh(f: FactDef<unknown>): string {
  return [...(f.prelude ?? []), f.sh].join('\n');
}

/** the keepalived that root's PATH finds, in $k, when ha_bin accepts it (else $k is empty: nothing is run) */
const KA_BIN = 'k=$(ha_bin keepalived); case $k in "ok "*) k=${k#ok } ;; *) k= ;; esac';

export const SERVICES = [
  'keepalived',
  'nginx',
  'rsyslog',
  'firewalld',
  'prometheus-node-exporter',
  'ha-setup-metrics.timer',
  NGINX_STOP_UNIT,
] as const;

export function parseOsRelease(t: string): OsFact {
  const kv: Record<string, string> = {};
  for (const l of lines(t)) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l);
    if (m) kv[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  const id = (kv.ID ?? '').toLowerCase();
  const idLike = (kv.ID_LIKE ?? '').toLowerCase();
  const all = `${id} ${idLike}`;
  let family: OsFamily | 'unknown' = 'unknown';
  if (/\b(debian|ubuntu)\b/.test(all)) family = 'debian';
  else if (/\b(rhel|centos|fedora|rocky|almalinux|ol|amzn)\b/.test(all)) family = 'rhel';
  return { id, idLike, family, version: kv.VERSION_ID ?? '', pretty: kv.PRETTY_NAME ?? id };
}

export function parseKeepalivedVersion(t: string): string | null {
  const m = /Keepalived v(\d+\.\d+\.\d+)/.exec(t);
  return m ? m[1] : null;
}

/** CAP_SYS_RESOURCE (capability 24) in the bounding set: "CapBnd: 000001fffeffffff" -> false */
export function parseCapBnd(t: string): boolean | null {
  const hex = lines(t)[0];
  if (!hex || !/^[0-9a-f]{1,16}$/i.test(hex)) return null;
  return ((BigInt(`0x${hex}`) >> 24n) & 1n) === 1n;
}

export type PackageName = 'keepalived' | 'nginx' | 'rsync' | 'curl' | 'nodeexporter';

export function parsePackages(t: string): Record<PackageName, string | null> {
  const out: Record<PackageName, string | null> = {
    keepalived: null,
    nginx: null,
    rsync: null,
    curl: null,
    nodeexporter: null,
  };
  for (const l of lines(t)) {
    const [pkg, ...v] = l.split(' ');
    const name = pkg === 'prometheus-node-exporter' ? 'nodeexporter' : pkg;
    if (name in out) out[name as PackageName] = v.join(' ').trim() || null;
  }
  return out;
}

export interface FirewalldFact {
  installed: boolean;
  active: boolean;
  enabled: boolean;
  services: string[];
  protocols: string[];
  /** "9100/tcp" */
  ports: string[];
  richRules: string[];
}

export function parseFirewalld(t: string): FirewalldFact {
  const out: FirewalldFact = {
    installed: false,
    active: false,
    enabled: false,
    services: [],
    protocols: [],
    ports: [],
    richRules: [],
  };
  for (const l of lines(t)) {
    const [k, ...rest] = l.split(' ');
    const v = rest.join(' ').trim();
    if (k === 'installed') out.installed = v === 'yes';
    else if (k === 'active') out.active = v === 'active';
    else if (k === 'enabled') out.enabled = v === 'enabled';
    else if (k === 'services') out.services = v ? v.split(/\s+/) : [];
    else if (k === 'protocols') out.protocols = v ? v.split(/\s+/) : [];
    else if (k === 'ports') out.ports = v ? v.split(/\s+/) : [];
    else if (k === 'rich') out.richRules.push(v);
  }
  return out;
}

/**
 * `ip -o link` + `ip -o -4 addr` + `ip -o -6 addr` (lines prefixed "link " / "addr "): each interface with its IPv4
 * addresses ("a.b.c.d/len") and every address with its prefix, family, secondary flag and label
 */
export function parseInterfaces(t: string): Record<string, InterfaceFact> {
  const out: Record<string, InterfaceFact> = {};
  for (const l of lines(t)) {
    const link = /^link \d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>(?:.*?link\/\S+ ([0-9a-f:]+))?/.exec(l);
    if (link) {
      const flags = link[2].split(',');
      out[link[1]] = {
        name: link[1],
        flags,
        up: flags.includes('UP'),
        multicast: flags.includes('MULTICAST'),
        mac: link[3] ?? '',
        addresses: [],
        ips: [],
      };
      continue;
    }
    const m = /^addr \d+:\s+([^:@\s]+)(?:@\S+)?\s+inet(6?) ([0-9A-Fa-f:.]+)\/(\d+)(.*)$/.exec(l);
    const iface = m && out[m[1]];
    if (!m || !iface) continue;
    const family = m[2] ? 6 : 4;
    const rest = m[5].split('\\')[0];
    const label = family === 4 ? /\s(\S+)\s*$/.exec(rest)?.[1] : undefined;
    if (family === 4) iface.addresses.push(`${m[3]}/${m[4]}`);
    iface.ips.push({
      address: family === 6 ? canonicalIPv6(m[3]) : m[3],
      prefix: Number(m[4]),
      family,
      secondary: /\ssecondary\b/.test(rest),
      ...(label && label !== iface.name && label.includes(':') ? { label } : {}),
    });
  }
  return out;
}

/** "@file PATH MODE" followed by one base64 line, or "@missing PATH" */
export function parseFiles(t: string): Record<string, FileFact> {
  const out: Record<string, FileFact> = {};
  const ls = t.split('\n');
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l.startsWith('@missing ')) out[l.slice(9)] = { exists: false };
    else if (l.startsWith('@file ')) {
      const rest = l.slice(6);
      const sp = rest.lastIndexOf(' ');
      out[rest.slice(0, sp)] = {
        exists: true,
        mode: rest.slice(sp + 1),
        content: Buffer.from((ls[i + 1] ?? '').trim(), 'base64').toString('utf8'),
      };
      i++;
    }
  }
  return out;
}

/** "name active enabled pid" lines */
export function parseServices(t: string): Record<string, ServiceFact> {
  const out: Record<string, ServiceFact> = {};
  for (const l of lines(t)) {
    const [name, active, enabled, pid] = l.split(' ');
    out[name] = { active: active || 'inactive', enabled: enabled || 'not-found', mainPid: Number(pid) || 0 };
  }
  return out;
}

/** "HASH  ./path" lines and "link:TARGET ./path" lines, or "@none" */
export function parseTree(t: string): Record<string, string> | null {
  const ls = lines(t);
  if (ls[0] === '@none') return null;
  const out: Record<string, string> = {};
  for (const l of ls) {
    let m = /^([0-9a-f]{64})\s+\.\/(.+)$/.exec(l);
    if (m) {
      out[m[2]] = m[1];
      continue;
    }
    m = /^link:(\S*) \.\/(.+)$/.exec(l);
    if (m) out[m[2]] = `link:${m[1]}`;
  }
  return out;
}

/**
 * keepalived.data (written on SIGUSR1, 1.3.5 and 2.x alike): " VRRP Instance = VI_1" ... "   State = MASTER" ...
 * "   Effective priority = 110"
 */
export function parseKeepalivedData(text: string): InstanceState[] {
  const out: InstanceState[] = [];
  let cur: InstanceState | null = null;
  for (const line of text.split('\n')) {
    const inst = /^\s*VRRP Instance = (\S+)/.exec(line);
    if (inst) {
      cur = { name: inst[1], state: null, effectivePriority: null };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const st = /^\s*State = (\S+)/.exec(line);
    if (st && cur.state === null) cur.state = st[1];
    const ep = /^\s*Effective priority = (\d+)/.exec(line);
    if (ep && cur.effectivePriority === null) cur.effectivePriority = Number(ep[1]);
  }
  return out;
}

/**
 * The addresses keepalived.data lists under its instances (virtual IPs, excluded ones too):
 * "     10.0.0.5/24 dev eth0 scope global set" (2.x), "     10.0.0.5/24 brd 10.0.0.255 dev eth0 scope global" (1.3)
 */
export function parseDataVips(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s+([0-9A-Fa-f:.]+)(?:\/\d+)?(?: brd \S+)? dev \S+/.exec(line);
    const ip = m && canonicalIP(m[1]);
    if (ip) out.add(ip);
  }
  return [...out];
}

/** what keepalived logs about VRRP packets on its ids from another router (accepted adverts, refused packets) */
const SEEN_RE =
  'advert from|wrong version|invalid passwd|auth, expecting|interval mismatch|not present in MASTER advert|' +
  'invalid ip address count|not a unicast peer|with our IP address';

export interface SeenLine {
  /** the sender the line names; null when it names none (a packet keepalived refused) */
  src: string | null;
  /** the line without its stamp */
  line: string;
  /**
   * from the journal, where only keepalived's own processes (its unit's cgroup) write; a line of a log file may come
   * from any local user (`logger -p local4.info ...`) and proves nothing
   */
  trusted: boolean;
}

/**
 * The vrrpseen fact: "now EPOCH ZONE" (the host's clock), then "journal LINE" or "file LINE" lines; only those of the
 * last 30 s by their own stamp count (both stamp forms, any day, the year turn: logstamp.ts)
 */
export function parseSeen(t: string): SeenLine[] {
  const ls = lines(t);
  const now = /^now (\d+) ([+-]\d{4}|Z)$/.exec(ls[0] ?? '');
  if (!now) return [];
  const nowS = Number(now[1]);
  const offset = offsetMinutes(now[2]) ?? 0;
  const out: SeenLine[] = [];
  for (const l of ls.slice(1)) {
    const m = /^(journal|file) (.*)$/.exec(l);
    const stamp = m && parseLogStamp(m[2], nowS, offset);
    if (!m || !stamp || stamp.at < nowS - 30 || stamp.at > nowS + 5) continue;
    const src =
      / from ([0-9a-fA-F:.]*[0-9a-fA-F])(?:\s|$)/.exec(stamp.rest)?.[1] ??
      /address ([0-9a-fA-F:.]*[0-9a-fA-F]) not a unicast/.exec(stamp.rest)?.[1] ??
      null;
    out.push({ src, line: stamp.rest, trusted: m[1] === 'journal' });
  }
  return out.slice(-20);
}

/** "exit N" as the last line, the program's output before it */
export function parseTest(t: string): TestFact | null {
  const ls = t.replace(/\n+$/, '').split('\n');
  const last = ls.pop() ?? '';
  const m = /^exit (\d+)$/.exec(last.trim());
  if (!m) return null;
  const code = Number(m[1]);
  const errors = ls.filter((l) => /emerg|error|fail|unknown|invalid|not found|no such/i.test(l));
  return {
    ok: code === 0,
    code,
    firstError: code === 0 ? null : (errors[0] ?? ls[ls.length - 1] ?? '').trim() || null,
  };
}

/** "NAME VALUE" lines of the state flags (maintenance, demote.TARGET, handover.TARGET) */
export function parseFlags(t: string): FlagFacts {
  const out: FlagFacts = {};
  for (const l of lines(t)) {
    const [name, value] = l.split(' ');
    if (/^[A-Za-z0-9_.-]+$/.test(name ?? '')) out[name] = /^-?\d+$/.test(value ?? '') ? Number(value) : 0;
  }
  return out;
}

/** a value read from a host, for a message: JSON-quoted, every control character escaped, at most 40 characters */
const shown = (v: unknown) =>
  (JSON.stringify(v) ?? String(v))
    .replace(
      /[\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .slice(0, 40);

/** why a members.json entry is not one init may connect to (the answers' rules for a node), or null */
function memberProblem(n: unknown): string | null {
  if (!n || typeof n !== 'object' || Array.isArray(n)) return 'not an object';
  const m = n as Record<string, unknown>;
  if (typeof m.name !== 'string' || !NAME_RE.test(m.name)) return `name ${shown(m.name)} is not a node name`;
  if (typeof m.host !== 'string' || !isHostAddress(m.host))
    return `host ${shown(m.host)} is not an IPv4 address or a DNS name`;
  if (m.port !== undefined && !(Number.isInteger(m.port) && (m.port as number) >= 1 && (m.port as number) <= 65535))
    return `port ${shown(m.port)} is not 1..65535`;
  if (m.user !== undefined && (typeof m.user !== 'string' || !USER_RE.test(m.user)))
    return `user ${shown(m.user)} is not a plain user name`;
  return null;
}

/**
 * members.json: the entries that pass the answers' rules for a node (name, host, port, user), each kept as those
 * fields only; the others are listed in `ignored` ("entry N: why", N from 1; absent when none). Not JSON, or no
 * nodes list: null.
 */
export function parseMembers(t: string): Members | null {
  const text = t.trim();
  if (!text) return null;
  let v: { nodes?: unknown };
  try {
    v = JSON.parse(text) as { nodes?: unknown };
  } catch {
    return null;
  }
  if (!v || !Array.isArray(v.nodes)) return null;
  const out: Members = { nodes: [] };
  v.nodes.forEach((n: Members['nodes'][number], i) => {
    const why = memberProblem(n);
    if (why) (out.ignored ??= []).push(`entry ${i + 1}: ${why}`);
    else
      out.nodes.push({
        name: n.name,
        host: n.host,
        ...(n.port !== undefined ? { port: n.port } : {}),
        ...(n.user !== undefined ? { user: n.user } : {}),
      });
  });
  return out;
}

/**
 * keepalived's state dump (SIGUSR1 writes /tmp/keepalived.data, 1.3.5 and 2.x alike), filtered on the host by
 * `pattern` (an ERE, quoted for sh) and removed once read. Any number of readers (status, its watch, a switchover's
 * readiness, metrics) take turns under a lock in ha-setup's root-only directory, so none removes another's dump while
 * it waits; the file is created empty and private first: keepalived 1.3.5 truncates and writes it with its own
 * umask (world-readable), and it holds the VRRP passwords (2.0.9+ write a private file and rename it). The first
 * line says how it went: "dump ok", or "dump <why>" when the state could not be read. MainPID through sed: systemd
 * before 230 (CentOS 7) has no --value.
 */
function kaDump(pattern: string): string {
  return `pid=$(systemctl show -p MainPID keepalived 2>/dev/null | sed -n 's/^MainPID=//p')
if [ -n "$pid" ] && [ "$pid" != 0 ]; then
  d=${PATHS.lockDir}
  [ -d "$d" ] || mkdir -m 0755 "$d" 2>/dev/null
  if [ -L "$d" ] || [ "$(stat -c %u "$d" 2>/dev/null)" != "$(id -u)" ] \
    || [ -n "$(find "$d" -maxdepth 0 -perm /022 2>/dev/null)" ] || [ -L "$d/dump.lock" ]; then
    echo "dump refused: $d is not a directory only $(id -un) can write"
  else (
    flock -w 10 9 || { echo "dump busy: another reader held keepalived's state dump for 10 s"; exit 0; }
    f=/tmp/keepalived.data
    rm -f "$f"
    ( umask 077; set -C; : > "$f" ) 2>/dev/null || { echo "dump refused: $f was created by someone else"; exit 0; }
    if ! kill -USR1 "$pid" 2>/dev/null; then echo "dump failed: keepalived (pid $pid) cannot be signalled"
    else
      # complete once written and closed: no process of keepalived's (1.3.5's VRRP child writes it in place) has it
      # open any more
      n=0; sz=0
      while [ "$n" -lt 40 ]; do
        # a keepalived on its way out (stopping, crashing) writes nothing: no reason to wait for it
        kill -0 "$pid" 2>/dev/null || break
        sz=$(stat -c %s "$f" 2>/dev/null || echo 0)
        if [ "$sz" -gt 0 ]; then
          for p in "$pid" $(pgrep -P "$pid" 2>/dev/null); do ls -l "/proc/$p/fd" 2>/dev/null; done \
            | grep -q " $f$" || break
        fi
        n=$((n + 1)); sleep 0.05
      done
      if [ "$sz" -gt 0 ]; then echo "dump ok"; grep -E ${pattern} "$f"
      elif kill -0 "$pid" 2>/dev/null; then echo "dump timeout: keepalived (pid $pid) wrote no state dump within 2 s"
      else echo "dump failed: keepalived (pid $pid) exited while its state was asked"; fi
    fi
    rm -f "$f"
  ) 9>"$d/dump.lock"; fi
fi`;
}

/** the first line of a state dump's output: null when it was read (or keepalived does not run), else why not */
export function dumpProblem(text: string): string | null {
  const first = /^dump (.*)$/m.exec(text)?.[1];
  return first === undefined || first === 'ok' ? null : first;
}

/** the table: what each fact runs on the host and how its output is read */
export const FACTS = {
  hostname: fact('hostname 2>/dev/null || cat /etc/hostname', (t) => lines(t)[0] ?? ''),
  os: fact('cat /etc/os-release 2>/dev/null', parseOsRelease),
  /** as the login user: the uid, then whether sudo works without a password (for `sh`, ignoring a cached one) */
  uid: fact('id -u', (t) => (/^\d+$/.test(lines(t)[0] ?? '') ? Number(lines(t)[0]) : -1)),
  sudo: fact(
    'if command -v sudo >/dev/null 2>&1; then ' +
      'if sudo -k -n sh -c true 2>/dev/null; then echo nopasswd; else echo password; fi; else echo none; fi',
    (t): 'nopasswd' | 'password' | 'none' => {
      const v = lines(t)[0];
      return v === 'nopasswd' || v === 'password' ? v : 'none';
    },
  ),
  /** the address the SSH connection came in on (as the login user: sudo drops SSH_CONNECTION) */
  sshAddress: fact('echo "$SSH_CONNECTION"', (t) => {
    const p = (lines(t)[0] ?? '').split(/\s+/);
    return p.length >= 3 && p[2] ? p[2] : null;
  }),
  capbnd: fact("sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status", parseCapBnd),
  systemd: fact('[ -d /run/systemd/system ] && echo yes || echo no', (t) => lines(t)[0] === 'yes'),
  pkgmanager: fact(
    'for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { echo $m; break; }; done',
    (t): 'apt' | 'dnf' | 'yum' | null => {
      const m = lines(t)[0];
      return m === 'apt-get' ? 'apt' : m === 'dnf' ? 'dnf' : m === 'yum' ? 'yum' : null;
    },
  ),
  packages: fact(
    `if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='\${Package} \${Status} \${Version}\\n' keepalived nginx rsync curl prometheus-node-exporter \
2>/dev/null \
| sed -n 's/^\\([^ ]*\\) install ok installed /\\1 /p'
elif command -v rpm >/dev/null 2>&1; then
  rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' keepalived nginx rsync curl prometheus-node-exporter 2>/dev/null \
| grep -v 'is not installed'
fi`,
    parsePackages,
  ),
  /** the version `keepalived --version` prints, run only when ha_bin accepts the binary (else null: see bins) */
  kaversion: fact(`${KA_BIN}\n[ -z "$k" ] || "$k" --version 2>&1 | head -1`, parseKeepalivedVersion, HA_BIN_PRELUDE),
  /**
   * the keepalived version the package manager would install (only when it is not installed): rendering and the
   * dry-run plan target that version (CentOS 7's repositories give 1.3.5) before the install happens
   */
  kacandidate: fact(
    `if ! command -v keepalived >/dev/null 2>&1; then
  if command -v apt-cache >/dev/null 2>&1; then
    apt-cache policy keepalived 2>/dev/null | awk '/Candidate:/ {print $2; exit}'
  elif command -v dnf >/dev/null 2>&1; then dnf -q info keepalived 2>/dev/null | awk '/^Version/ {print $3; exit}'
  elif command -v yum >/dev/null 2>&1; then yum -q info keepalived 2>/dev/null | awk '/^Version/ {print $3; exit}'
  fi
fi`,
    (t) => /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(lines(t)[0] ?? '')?.[1] ?? null,
  ),
  /**
   * a newer keepalived than the installed one in the host's repositories, only when packages.upgrade asks ($UPGRADE):
   * its full version (dpkg's, or rpm's [EPOCH:]VERSION-RELEASE) as the package manager would install it
   */
  kaupgrade: fact(
    `case " $UPGRADE " in *" keepalived "*) u=1 ;; *) u= ;; esac
if [ -n "$u" ] && command -v keepalived >/dev/null 2>&1; then
  if command -v apt-cache >/dev/null 2>&1; then
    p=$(apt-cache policy keepalived 2>/dev/null)
    i=$(printf '%s\\n' "$p" | awk '/Installed:/ {print $2; exit}')
    c=$(printf '%s\\n' "$p" | awk '/Candidate:/ {print $2; exit}')
    if [ -n "$c" ] && [ "$c" != "(none)" ] && [ -n "$i" ] && [ "$i" != "(none)" ] \\
      && dpkg --compare-versions "$c" gt "$i"; then echo "$c"; fi
  elif command -v dnf >/dev/null 2>&1; then
    # metadata may be refreshed first: bounded, so that a slow mirror cannot stall the whole read of the host
    timeout 40 dnf -q list --upgrades keepalived 2>/dev/null | awk '$1 ~ /^keepalived\\./ {print $2; exit}'
  elif command -v yum >/dev/null 2>&1; then
    timeout 40 yum -q list updates keepalived 2>/dev/null | awk '$1 ~ /^keepalived\\./ {print $2; exit}'
  fi
fi`,
    (t): { full: string; version: string | null } | null => {
      const full = lines(t)[0];
      if (!full || !/^[0-9A-Za-z.+~:_-]+$/.test(full)) return null;
      return { full, version: /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(full)?.[1] ?? null };
    },
  ),
  selinux: fact(
    'if command -v getenforce >/dev/null 2>&1; then echo "tools $(getenforce 2>/dev/null)"; else echo "none"; fi',
    (t): { runtime: 'enforcing' | 'permissive' | 'disabled' | null; tools: boolean } => {
      const l = lines(t)[0] ?? 'none';
      if (l === 'none') return { runtime: null, tools: false };
      const v = l.split(' ')[1]?.toLowerCase();
      return { tools: true, runtime: v === 'enforcing' || v === 'permissive' || v === 'disabled' ? v : null };
    },
  ),
  firewalld: fact(
    `if command -v firewall-cmd >/dev/null 2>&1; then
  echo "installed yes"
  a=$(systemctl is-active firewalld 2>/dev/null)
  echo "active $a"
  echo "enabled $(systemctl is-enabled firewalld 2>/dev/null)"
  if [ "$a" = active ] && [ "$FW_RULES" = 1 ]; then
    # one firewall-cmd (a Python start-up of ~0.4 s each) for the default zone's services, protocols, rich rules
    firewall-cmd --permanent --list-all 2>/dev/null | awk '
      /^[ \\t]+services:/ { sub(/^[ \\t]+services: ?/, ""); print "services " $0; r = 0; next }
      /^[ \\t]+protocols:/ { sub(/^[ \\t]+protocols: ?/, ""); print "protocols " $0; r = 0; next }
      /^[ \\t]+ports:/ { sub(/^[ \\t]+ports: ?/, ""); print "ports " $0; r = 0; next }
      /^[ \\t]+rich rules:/ { r = 1; next }
      r && /^[ \\t]+rule / { sub(/^[ \\t]+/, ""); print "rich " $0; next }
      /^[ \\t]+[a-z-]+:/ { r = 0 }'
  fi
else echo "installed no"; fi`,
    parseFirewalld,
  ),
  ufw: fact(
    'if command -v ufw >/dev/null 2>&1; then echo "installed $(ufw status 2>/dev/null | head -1)"; else echo none; fi',
    (t) => {
      const l = lines(t)[0] ?? 'none';
      return { installed: l !== 'none', active: /Status: active/.test(l) };
    },
  ),
  interfaces: fact(
    'ip -o link show 2>/dev/null | sed "s/^/link /"; ip -o -4 addr show 2>/dev/null | sed "s/^/addr /"; ' +
      'ip -o -6 addr show 2>/dev/null | sed "s/^/addr /"',
    parseInterfaces,
  ),
  files: fact(
    `for f in $FILES; do
  if [ -f "$f" ]; then echo "@file $f $(stat -c %a "$f")"; base64 -w0 < "$f"; echo; else echo "@missing $f"; fi
done`,
    parseFiles,
  ),
  services: fact(
    // one systemctl call for every unit (blocks in argument order, separated by blank lines), printed as
    // "name active enabled pid" lines
    `systemctl show -p ActiveState -p UnitFileState -p MainPID ${SERVICES.join(' ')} 2>/dev/null \
| awk -F= -v names='${SERVICES.join(' ')}' '
BEGIN { split(names, n, " ") }
function flush() { if (seen) print n[++i], a, e, p; seen = 0; a = ""; e = ""; p = "" }
$1 == "ActiveState" { a = $2; seen = 1 } $1 == "UnitFileState" { e = $2; seen = 1 } $1 == "MainPID" { p = $2; seen = 1 }
/^$/ { flush() } END { flush() }'`,
    parseServices,
  ),
  sysctl: fact(
    'for k in net.ipv4.ip_nonlocal_bind net.ipv6.ip_nonlocal_bind; do echo "$k $(sysctl -n $k 2>/dev/null)"; done',
    (t) => Object.fromEntries(lines(t).map((l) => l.split(' ') as [string, string])),
  ),
  nginxtree: fact(
    `if [ -d "$NGINX_DIR" ]; then (cd "$NGINX_DIR" && find . -type f -exec sha256sum {} + 2>/dev/null; ` +
      `find . -type l -printf 'link:%l %p\\n' 2>/dev/null) | sort -k2; else echo @none; fi`,
    parseTree,
  ),
  /** keepalived's unit (import: what it would start, with which environment) */
  kaunit: fact(KA_UNIT_SH, parseKeepalivedUnit),
  /** every process named keepalived, of any user (import: only root's is the daemon) */
  kaprocs: fact(KA_PROCS_SH, parseKeepalivedProcs),
  /** the candidate keepalived binaries, read as files (version, build options, package): none is run */
  kabins: fact(KA_BINS_SH, parseKeepalivedBins, BIN_CHECK_PRELUDE),
  /** the environment files keepalived's unit reads, whole */
  kaenv: fact(KA_ENV_SH, parseFileEntries),
  /** nginx -T of the unit's binary and configuration, run only for a root-owned binary of a package */
  nginxdump: fact(NGINX_DUMP_SH, parseNginxDump, BIN_CHECK_PRELUDE),
  /** the files $GLOBS match (keepalived's configuration and includes) and the scripts they name, whole */
  globs: fact(GLOBS_SH, parseGlobs),
  /** notify.script ($NOTIFY_SCRIPT) as the notify hook checks it before running it as root */
  notifyscript: fact(NOTIFY_SCRIPT_SH, parseNotifyScript, [FILE_CHECK_SH]),
  /**
   * the keepalived and nginx ha-setup runs (root's PATH) and every binary their units start (ExecStart and the other
   * Exec* commands, the distribution's and ha-setup's drop-ins', but the one PATH found already), each checked by
   * ha_path: ha-setup runs none that a user other than root could have changed (the facts that run keepalived or
   * nginx run nothing then), and init refuses a host where one of them is such a file
   */
  bins: fact(
    `for n in keepalived nginx; do
  r=$(ha_bin "$n"); [ -z "$r" ] || echo "$n $r"
  c=$(command -v "$n" 2>/dev/null)
  systemctl show -p ExecStartPre -p ExecStart -p ExecStartPost -p ExecReload -p ExecStop -p ExecStopPost \
    "$n.service" 2>/dev/null | grep -o 'path=[^ ;]*' | sed 's/^path=//' | awk '!s[$0]++' \
    | while IFS= read -r p; do
      [ "$p" = "$c" ] || echo "$n.service $(ha_path "$p (run by $n.service)" "$p")"; done
done`,
    parseBins,
    HA_BIN_PRELUDE,
  ),
  /**
   * which link-layer address answers ARP for each VIP: a neighbour entry left from earlier (the VIP was on another
   * host a minute ago) proves nothing, so it is flushed, asked again, and only a fresh answer (REACHABLE) counts
   */
  vipneighbors: fact(
    `for v in $VIPS; do ip neigh flush to "$v" dev "$IFACE" >/dev/null 2>&1; done
if command -v bash >/dev/null 2>&1; then
  # a TCP attempt makes the kernel ARP for the VIP; an address in use answers at once (RST), a free one times out
  for v in $VIPS; do timeout 1 bash -c ": </dev/tcp/$v/9" >/dev/null 2>&1 & done; wait
fi
for v in $VIPS; do echo "$v $(ip neigh show to "$v" dev "$IFACE" nud reachable 2>/dev/null \
| sed -n 's/.* lladdr \\([0-9a-f:]*\\).*/\\1/p' | head -1)"; done`,
    (t) =>
      lines(t).map((l) => {
        const [vip, mac] = l.split(' ');
        return { vip, lladdr: mac || null };
      }),
  ),
  /**
   * who answers for each IPv6 address of $VIPS on $IFACE (the wizard's check that an IPv6 VIP is free): the
   * neighbour entry flushed (an old one proves nothing), one `ping -6` (ping6 where ping has no -6) whose neighbour
   * solicitation a host using the address answers even when it drops the echo, then the fresh entry (REACHABLE) read
   * with `ip -6 neigh`. One line per address: "VIP LLADDR|- yes|no" (yes: an echo reply came back)
   */
  vip6neighbors: fact(
    `for v in $VIPS; do
  case "$v" in *:*) ;; *) continue ;; esac
  ip -6 neigh flush to "$v" dev "$IFACE" >/dev/null 2>&1
  ping -6 -c 1 -W 1 -I "$IFACE" "$v" >/dev/null 2>&1; r=$?
  if [ "$r" -eq 2 ] && command -v ping6 >/dev/null 2>&1; then ping6 -c 1 -W 1 -I "$IFACE" "$v" >/dev/null 2>&1; r=$?; fi
  m=$(ip -6 neigh show to "$v" dev "$IFACE" nud reachable 2>/dev/null \
| sed -n 's/.* lladdr \\([0-9a-f:]*\\).*/\\1/p' | head -1)
  if [ "$r" -eq 0 ]; then e=yes; else e=no; fi
  echo "$v \${m:--} $e"
done`,
    (t) =>
      lines(t).map((l) => {
        const [vip, mac, echo] = l.split(' ');
        return { vip, lladdr: mac && mac !== '-' ? mac : null, echo: echo === 'yes' };
      }),
  ),
  /** "PATH yes|no": whether each directory ha-setup may create exists */
  dirs: fact('for d in $DIRS; do if [ -d "$d" ]; then echo "$d yes"; else echo "$d no"; fi; done', (t) =>
    Object.fromEntries(
      lines(t).map((l) => {
        const [d, v] = l.split(' ');
        return [d, v === 'yes'];
      }),
    ),
  ),
  /** VRRP adverts heard on $IFACE for $LISTEN seconds (other routers' virtual router ids) */
  vrrp: fact(`if [ -n "$LISTEN" ]; then ( set -- "$IFACE" "$LISTEN"\n${VRRP_LISTEN_SH}\n) 2>/dev/null; fi`, (t) => ({
    heard: !t.includes(NO_LISTENER),
    adverts: parseVrrpAdverts(t),
  })),
  /**
   * the running keepalived's own view (SIGUSR1 data dump): state and effective priority per instance, and why it
   * could not be read (null: read, or keepalived does not run)
   */
  kadata: fact(`${kaDump("'^ *(VRRP Instance|State|Effective priority) = '")}`, (t) => ({
    instances: parseKeepalivedData(t),
    unreadable: dumpProblem(t),
  })),
  /** recent VRRP transitions from keepalived's log file */
  transitions: fact(
    `[ -f "$LOGFILE" ] && grep -E \
'Entering (MASTER|BACKUP|FAULT) STATE|received lower priority|sent 0 priority|transition' "$LOGFILE" | tail -n 8`,
    lines,
  ),
  /** each nginx.upstream backend's HTTP status seen from this host (0: no answer) */
  backends: fact(
    `for b in $BACKENDS; do
  echo "$b $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$b/" 2>/dev/null || echo 0)"; done`,
    (t) =>
      lines(t).map((l) => {
        const [backend, code] = l.split(' ');
        return { backend, status: Number(code) || 0 };
      }),
  ),
  /**
   * would nginx start again on the configuration on disk? (a failed reload leaves nginx running on the old one: a
   * latent fault that a restart or a reboot turns into an outage)
   */
  nginxtest: fact(
    `n=$(ha_bin nginx); case $n in "ok "*) "\${n#ok }" -t 2>&1; echo "exit $?" ;; esac`,
    parseTest,
    HA_BIN_PRELUDE,
  ),
  /**
   * keepalived's configuration on disk, checked by the installed keepalived when it has -t (2.0.4+; else none), run
   * only when ha_bin accepts the binary
   */
  katest: fact(
    `${KA_BIN}
if [ -n "$k" ] && [ -f "$CONF" ]; then
  v=$("$k" --version 2>&1 | head -1 \\
    | sed -n 's/.*Keepalived v\\([0-9]*\\)\\.\\([0-9]*\\)\\.\\([0-9]*\\).*/\\1 \\2 \\3/p')
  set -- $v
  if [ "\${1:-0}" -gt 2 ] || { [ "\${1:-0}" = 2 ] && { [ "$2" -gt 0 ] || [ "$3" -ge 4 ]; }; }; then
    out=$("$k" -t -f "$CONF" 2>&1); c=$?; printf '%s\\n' "$out" | tail -n 5; echo "exit $c"
  fi
fi`,
    parseTest,
    HA_BIN_PRELUDE,
  ),
  /**
   * VIPs the running keepalived itself manages (its SIGUSR1 state dump, of which only the address lines leave the
   * host: the dump also holds the VRRP password), read only when one of $VIPS is an address
   * of this host that $CONF does not name: a pair built by hand may configure it in an included file
   */
  kavips: fact(
    `need=
for v in $VIPS; do
  re=$(printf '%s' "$v" | sed 's/[.]/[.]/g')
  ip -o addr show 2>/dev/null | grep -q " $v/" \\
    && ! grep -qiE "(^|[^0-9a-f.:])$re([^0-9a-f:]|$)" "$CONF" 2>/dev/null && need=1
done
if [ -n "$need" ]; then
${kaDump("'^[[:space:]]+[0-9A-Fa-f:.]+(/[0-9]+)?( brd [0-9.]+)? dev '")}
fi`,
    parseDataVips,
  ),
  /**
   * Another VRRP router on the pair's ids as the running keepalived heard it in the last 30 s: the adverts it logs
   * with their source, and the packets it refused (another VRRP version, password, advert interval, VIPs, an unknown
   * unicast source). Read from the journal, where only keepalived's unit writes (a local user's `logger` line lands
   * under its own session); where keepalived's lines are not in the journal, from its log file, whose lines anyone
   * can forge and only warn. Only masters advertise, as for the listener: this is what a re-run checks instead of
   * listening.
   */
  vrrpseen: fact(
    `echo "now $(date +%s) $(date +%z)"
re='${SEEN_RE}'
if command -v journalctl >/dev/null 2>&1 \\
  && journalctl -q --no-pager -n 1 -o cat _SYSTEMD_UNIT=keepalived.service 2>/dev/null | grep -q .; then
  since=$(date -d "@$(( $(date +%s) - 60 ))" '+%Y-%m-%d %H:%M:%S')
  journalctl -q --no-pager --since "$since" -o short-iso _SYSTEMD_UNIT=keepalived.service 2>/dev/null \\
    | grep -E "$re" | tail -n 200 | sed 's/^/journal /'
elif [ -f "$LOGFILE" ]; then
  tail -n 2000 "$LOGFILE" 2>/dev/null | grep -E "$re" | tail -n 200 | sed 's/^/file /'
fi`,
    parseSeen,
  ),
  /** the state flags keepalived tracks (maintenance, demote.TARGET, handover.TARGET), 0 or 1 each */
  flags: fact(
    `for f in "$STATE_DIR"/*; do [ -f "$f" ] && echo "\${f##*/} $(head -c 16 "$f" | tr -cd '0-9-')"; done`,
    parseFlags,
  ),
  /** the pair's members as the last init recorded them on this host */
  members: fact('cat "$STATE_DIR/../members.json" 2>/dev/null', parseMembers),
} satisfies Record<string, FactDef<unknown>>;

export type FactName = keyof typeof FACTS;
/** every fact, typed from the table */
export type Facts = { [K in FactName]: ReturnType<(typeof FACTS)[K]['parse']> };
