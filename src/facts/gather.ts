/**
 * Facts: each one is a shell snippet plus a parser. All snippets run in ONE round trip per host (a script fed to
 * `sh -s` on stdin, arguments passed as quoted positional parameters), each section introduced by "@@name".
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { managedFiles } from '../paths.js';
import type { Facts, FileFact, InterfaceFact, OsFamily, ServiceFact } from '../plan/types.js';
import { parseVrrpAdverts, VRRP_LISTEN_SH } from './vrrp.js';

export const SERVICES = ['keepalived', 'nginx', 'rsyslog', 'firewalld'] as const;

export interface FactDef<T> {
  name: string;
  /** POSIX sh; "$FILES", "$VIPS", "$IFACE", "$NGINX_DIR", "$FW_RULES" are set by the wrapper */
  sh: string;
  parse(text: string): T;
}

const lines = (t: string) =>
  t
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export const hostnameFact: FactDef<string> = {
  name: 'hostname',
  sh: 'hostname 2>/dev/null || cat /etc/hostname',
  parse: (t) => lines(t)[0] ?? '',
};

export function parseOsRelease(t: string): Facts['os'] {
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
export const osFact: FactDef<Facts['os']> = {
  name: 'os',
  sh: 'cat /etc/os-release 2>/dev/null',
  parse: parseOsRelease,
};

export const uidFact: FactDef<number> = { name: 'uid', sh: 'id -u', parse: (t) => Number(lines(t)[0] ?? -1) };

/** CAP_SYS_RESOURCE (capability 24) in the bounding set: "CapBnd: 000001fffeffffff" -> false */
export const sysResourceFact: FactDef<boolean | null> = {
  name: 'capbnd',
  sh: "sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status",
  parse: (t) => {
    const hex = lines(t)[0];
    if (!hex || !/^[0-9a-f]{1,16}$/i.test(hex)) return null;
    return ((BigInt(`0x${hex}`) >> 24n) & 1n) === 1n;
  },
};

export const systemdFact: FactDef<boolean> = {
  name: 'systemd',
  sh: '[ -d /run/systemd/system ] && echo yes || echo no',
  parse: (t) => lines(t)[0] === 'yes',
};

export const sudoFact: FactDef<Facts['sudo']> = {
  name: 'sudo',
  sh:
    'if [ "$(id -u)" = 0 ]; then echo root; ' +
    'elif command -v sudo >/dev/null 2>&1; then sudo -n true 2>/dev/null && echo nopasswd || echo password; ' +
    'else echo none; fi',
  parse: (t) =>
    ['root', 'nopasswd', 'password', 'none'].includes(lines(t)[0]) ? (lines(t)[0] as Facts['sudo']) : 'none',
};

export const pkgManagerFact: FactDef<Facts['pkgManager']> = {
  name: 'pkgmanager',
  sh: 'for m in apt-get dnf yum; do command -v $m >/dev/null 2>&1 && { echo $m; break; }; done',
  parse: (t) => {
    const m = lines(t)[0];
    return m === 'apt-get' ? 'apt' : m === 'dnf' ? 'dnf' : m === 'yum' ? 'yum' : null;
  },
};

export const packagesFact: FactDef<Facts['packages']> = {
  name: 'packages',
  sh: `if command -v dpkg-query >/dev/null 2>&1; then
  dpkg-query -W -f='\${Package} \${Status} \${Version}\\n' keepalived nginx rsync curl 2>/dev/null \
| sed -n 's/^\\([^ ]*\\) install ok installed /\\1 /p'
elif command -v rpm >/dev/null 2>&1; then
  rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' keepalived nginx rsync curl 2>/dev/null | grep -v 'is not installed'
fi`,
  parse: (t) => {
    const out: Facts['packages'] = { keepalived: null, nginx: null, rsync: null, curl: null };
    for (const l of lines(t)) {
      const [name, ...v] = l.split(' ');
      if (name in out) out[name as keyof Facts['packages']] = v.join(' ').trim() || null;
    }
    return out;
  },
};

export function parseKeepalivedVersion(t: string): string | null {
  const m = /Keepalived v(\d+\.\d+\.\d+)/.exec(t);
  return m ? m[1] : null;
}
export const keepalivedVersionFact: FactDef<string | null> = {
  name: 'kaversion',
  sh: 'command -v keepalived >/dev/null 2>&1 && keepalived --version 2>&1 | head -1',
  parse: parseKeepalivedVersion,
};

/**
 * The keepalived version the host's package manager would install (only when it is not installed): rendering and
 * the dry-run plan then target that version (CentOS 7's repositories give 1.3.5) before the install happens.
 */
export const keepalivedCandidateFact: FactDef<string | null> = {
  name: 'kacandidate',
  sh: `if ! command -v keepalived >/dev/null 2>&1; then
  if command -v apt-cache >/dev/null 2>&1; then
    apt-cache policy keepalived 2>/dev/null | awk '/Candidate:/ {print $2; exit}'
  elif command -v dnf >/dev/null 2>&1; then dnf -q info keepalived 2>/dev/null | awk '/^Version/ {print $3; exit}'
  elif command -v yum >/dev/null 2>&1; then yum -q info keepalived 2>/dev/null | awk '/^Version/ {print $3; exit}'
  fi
fi`,
  parse: (t) => /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(lines(t)[0] ?? '')?.[1] ?? null,
};

export const selinuxFact: FactDef<Facts['selinux']> = {
  name: 'selinux',
  sh: 'if command -v getenforce >/dev/null 2>&1; then echo "tools $(getenforce 2>/dev/null)"; else echo "none"; fi',
  parse: (t) => {
    const l = lines(t)[0] ?? 'none';
    if (l === 'none') return { runtime: null, tools: false };
    const v = l.split(' ')[1]?.toLowerCase();
    return { tools: true, runtime: v === 'enforcing' || v === 'permissive' || v === 'disabled' ? v : null };
  },
};

export const firewalldFact: FactDef<Facts['firewalld']> = {
  name: 'firewalld',
  sh: `if command -v firewall-cmd >/dev/null 2>&1; then
  echo "installed yes"
  a=$(systemctl is-active firewalld 2>/dev/null)
  echo "active $a"
  echo "enabled $(systemctl is-enabled firewalld 2>/dev/null)"
  if [ "$a" = active ] && [ "$FW_RULES" = 1 ]; then
    # one firewall-cmd (a Python start-up of ~0.4 s each) for the default zone's services, protocols, rich rules
    firewall-cmd --permanent --list-all 2>/dev/null | awk '
      /^[ \t]+services:/ { sub(/^[ \t]+services: ?/, ""); print "services " $0; r = 0; next }
      /^[ \t]+protocols:/ { sub(/^[ \t]+protocols: ?/, ""); print "protocols " $0; r = 0; next }
      /^[ \t]+rich rules:/ { r = 1; next }
      r && /^[ \t]+rule / { sub(/^[ \t]+/, ""); print "rich " $0; next }
      /^[ \t]+[a-z-]+:/ { r = 0 }'
  fi
else echo "installed no"; fi`,
  parse: (t) => {
    const out: Facts['firewalld'] = {
      installed: false,
      active: false,
      enabled: false,
      services: [],
      protocols: [],
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
      else if (k === 'rich') out.richRules.push(v);
    }
    return out;
  },
};

export const ufwFact: FactDef<Facts['ufw']> = {
  name: 'ufw',
  sh:
    'if command -v ufw >/dev/null 2>&1; then echo "installed $(ufw status 2>/dev/null | head -1)"; ' +
    'else echo none; fi',
  parse: (t) => {
    const l = lines(t)[0] ?? 'none';
    return { installed: l !== 'none', active: /Status: active/.test(l) };
  },
};

/** `ip -o link` + `ip -o -4 addr` */
export function parseInterfaces(t: string): Record<string, InterfaceFact> {
  const out: Record<string, InterfaceFact> = {};
  for (const l of lines(t)) {
    let m = /^link \d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>.*?link\/\S+ ([0-9a-f:]+)/.exec(l);
    if (m) {
      const flags = m[2].split(',');
      out[m[1]] = {
        name: m[1],
        flags,
        up: flags.includes('UP'),
        multicast: flags.includes('MULTICAST'),
        mac: m[3],
        addresses: [],
      };
      continue;
    }
    m = /^addr \d+: ([^:@\s]+)\s+inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(l);
    if (m && out[m[1]]) out[m[1]].addresses.push(m[2]);
  }
  return out;
}
export const interfacesFact: FactDef<Record<string, InterfaceFact>> = {
  name: 'interfaces',
  sh: 'ip -o link show 2>/dev/null | sed "s/^/link /"; ip -o -4 addr show 2>/dev/null | sed "s/^/addr /"',
  parse: parseInterfaces,
};

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
      const path = rest.slice(0, sp);
      const mode = rest.slice(sp + 1);
      out[path] = { exists: true, mode, content: Buffer.from((ls[i + 1] ?? '').trim(), 'base64').toString('utf8') };
      i++;
    }
  }
  return out;
}
export const filesFact: FactDef<Record<string, FileFact>> = {
  name: 'files',
  sh: `for f in $FILES; do
  if [ -f "$f" ]; then echo "@file $f $(stat -c %a "$f")"; base64 -w0 < "$f"; echo; else echo "@missing $f"; fi
done`,
  parse: parseFiles,
};

export function parseServices(t: string): Record<string, ServiceFact> {
  const out: Record<string, ServiceFact> = {};
  for (const l of lines(t)) {
    const [name, active, enabled, pid] = l.split(' ');
    out[name] = { active: active || 'inactive', enabled: enabled || 'not-found', mainPid: Number(pid) || 0 };
  }
  return out;
}
export const servicesFact: FactDef<Record<string, ServiceFact>> = {
  name: 'services',
  // one systemctl call for every unit (blocks in argument order, separated by blank lines), printed as
  // "name active enabled pid" lines
  sh: `systemctl show -p ActiveState -p UnitFileState -p MainPID ${SERVICES.join(' ')} 2>/dev/null \
| awk -F= -v names='${SERVICES.join(' ')}' '
BEGIN { split(names, n, " ") }
function flush() { if (seen) print n[++i], a, e, p; seen = 0; a = ""; e = ""; p = "" }
$1 == "ActiveState" { a = $2; seen = 1 } $1 == "UnitFileState" { e = $2; seen = 1 } $1 == "MainPID" { p = $2; seen = 1 }
/^$/ { flush() } END { flush() }'`,
  parse: parseServices,
};

export const sysctlFact: FactDef<Record<string, string>> = {
  name: 'sysctl',
  sh: 'echo "net.ipv4.ip_nonlocal_bind $(sysctl -n net.ipv4.ip_nonlocal_bind 2>/dev/null)"',
  parse: (t) => Object.fromEntries(lines(t).map((l) => l.split(' ') as [string, string])),
};

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
export const nginxTreeFact: FactDef<Record<string, string> | null> = {
  name: 'nginxtree',
  sh:
    `if [ -d "$NGINX_DIR" ]; then (cd "$NGINX_DIR" && find . -type f -exec sha256sum {} + 2>/dev/null; ` +
    `find . -type l -printf 'link:%l %p\\n' 2>/dev/null) | sort -k2; else echo @none; fi`,
  parse: parseTree,
};

export const vipNeighborsFact: FactDef<{ vip: string; lladdr: string | null }[]> = {
  name: 'vipneighbors',
  // a neighbour entry left from earlier (the VIP was on another host a minute ago) proves nothing: flush it, ask
  // again, and count only a fresh answer (REACHABLE)
  sh: `for v in $VIPS; do ip neigh flush to "$v" dev "$IFACE" >/dev/null 2>&1; done
if command -v bash >/dev/null 2>&1; then
  # a TCP attempt makes the kernel ARP for the VIP; an address in use answers at once (RST), a free one times out
  for v in $VIPS; do timeout 1 bash -c ": </dev/tcp/$v/9" >/dev/null 2>&1 & done; wait
fi
for v in $VIPS; do echo "$v $(ip neigh show to "$v" dev "$IFACE" nud reachable 2>/dev/null \
| sed -n 's/.* lladdr \\([0-9a-f:]*\\).*/\\1/p' | head -1)"; done`,
  parse: (t) =>
    lines(t).map((l) => {
      const [vip, mac] = l.split(' ');
      return { vip, lladdr: mac || null };
    }),
};

/** "PATH yes|no": whether each directory ha-setup may create exists */
export const dirsFact: FactDef<Record<string, boolean>> = {
  name: 'dirs',
  sh: 'for d in $DIRS; do if [ -d "$d" ]; then echo "$d yes"; else echo "$d no"; fi; done',
  parse: (t) =>
    Object.fromEntries(
      lines(t).map((l) => {
        const [d, v] = l.split(' ');
        return [d, v === 'yes'];
      }),
    ),
};

export const ALL_FACTS = [
  hostnameFact,
  osFact,
  uidFact,
  sysResourceFact,
  systemdFact,
  sudoFact,
  pkgManagerFact,
  packagesFact,
  keepalivedVersionFact,
  keepalivedCandidateFact,
  selinuxFact,
  firewalldFact,
  ufwFact,
  interfacesFact,
  filesFact,
  servicesFact,
  sysctlFact,
  nginxTreeFact,
  vipNeighborsFact,
  dirsFact,
] as const;

/** The single script gathering every fact; variables come from positional parameters (quoted by the caller). */
export function factsScript(): string {
  const body = ALL_FACTS.map((f) => `echo "@@${f.name}"\n{ ${f.sh}\n} 2>/dev/null`).join('\n');
  const vars = 'FILES="$1"; VIPS="$2"; IFACE="$3"; NGINX_DIR="$4"; FW_RULES="$5"; DIRS="$6"; LISTEN="$7"';
  // the VRRP listener (preflight only) runs in the background while the other facts are gathered
  const listen = [
    'if [ -n "$LISTEN" ]; then vt=$(mktemp)',
    `  ( set -- "$IFACE" "$LISTEN"\n${VRRP_LISTEN_SH}\n  ) >"$vt" 2>/dev/null &`,
    '  vp=$!',
    'fi',
  ].join('\n');
  const collect = `echo "@@vrrp"\nif [ -n "$LISTEN" ]; then wait "$vp"; cat "$vt"; rm -f "$vt"; fi`;
  return `${vars}\nexport LC_ALL=C\n${listen}\n${body}\n${collect}\necho "@@end"\n`;
}

/** seconds the preflight listens for VRRP adverts of other routers (a router advertising every second is heard) */
export const VRRP_LISTEN_SECONDS = 1.5;

/**
 * The facts script's arguments. `probeVips: false` leaves the VIPs out: the ARP probe (up to 1 s for an unused
 * address) only serves the preflight "is the VIP already in use" check, not the re-gathers between steps.
 * firewalld's rules (a firewall-cmd start-up, ~0.4 s of CPU) are listed only when system.firewall can use them.
 * The VRRP listener (is a virtual router id used by another router on the segment?) also runs only then.
 */
export function factsArgs(cfg: Config, node: ResolvedNode, opts: { probeVips?: boolean } = {}): string[] {
  return [
    managedFiles(cfg.nginx.configDir, cfg.includeDir).join(' '),
    opts.probeVips === false ? '' : cfg.instances.flatMap((i) => i.vips.map((v) => v.address)).join(' '),
    node.interface,
    cfg.nginx.configDir,
    cfg.system.firewall === 'disable' ? '0' : '1',
    cfg.includeDir ?? '',
    opts.probeVips === false ? '' : String(VRRP_LISTEN_SECONDS),
  ];
}

export function parseFactsOutput(out: string): Facts {
  const sections: Record<string, string> = {};
  let cur: string | null = null;
  let buf: string[] = [];
  for (const l of out.split('\n')) {
    const m = /^@@([a-z]+)$/.exec(l);
    if (m) {
      if (cur) sections[cur] = buf.join('\n');
      cur = m[1];
      buf = [];
    } else buf.push(l);
  }
  if (cur) sections[cur] = buf.join('\n');
  const get = <T>(f: FactDef<T>) => f.parse(sections[f.name] ?? '');
  return {
    hostname: get(hostnameFact),
    os: get(osFact),
    uid: get(uidFact),
    sysResource: get(sysResourceFact),
    systemd: get(systemdFact),
    sudo: get(sudoFact),
    pkgManager: get(pkgManagerFact),
    packages: get(packagesFact),
    keepalivedVersion: get(keepalivedVersionFact),
    keepalivedCandidate: get(keepalivedCandidateFact),
    selinux: get(selinuxFact),
    firewalld: get(firewalldFact),
    ufw: get(ufwFact),
    interfaces: get(interfacesFact),
    files: get(filesFact),
    services: get(servicesFact),
    sysctl: get(sysctlFact),
    nginxTree: get(nginxTreeFact),
    vipNeighbors: get(vipNeighborsFact),
    dirs: get(dirsFact),
    vrrpAdverts: parseVrrpAdverts(sections.vrrp ?? ''),
  };
}
