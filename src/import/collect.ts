/**
 * Reading what runs on a host for `ha-setup import`: POSIX sh scripts run through an injected runner (the lead
 * engineer passes an SSH session running as root) and the parsers of their output. One main script reads the
 * facts, keepalived's command line (the running daemon's, else the unit's and its environment files'), the
 * candidate configuration files and the scripts they name; then one script per include level reads what the
 * configuration includes (globs expanded on the host, every file base64-encoded so any byte survives).
 */
import { isIPv4 } from '../answers/schema.js';
import {
  execStartArgv,
  parseDaemonArgs,
  parseEnvironmentFile,
  parseEnvironmentProperty,
  type DaemonOptions,
} from './daemon-options.js';
import { loadKeepalivedConfig, walkConf, type IncludedFile, type KeepalivedConfig } from './keepalived-conf.js';
import { findNginxUpstream, splitNginxDump } from './nginx-conf.js';
import type { HostInterface, HostNginx, ImportedHost } from './types.js';

export type Runner = (script: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** shell functions shared by the scripts: base64 without line breaks, one file entry, scripts named by a config */
const SH_LIB = String.raw`export LC_ALL=C
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/usr/bin:/bin"
b64() { base64 | tr -d '\n'; }
emit() {
  _ep=$(printf %s "$1" | b64)
  if [ -d "$1" ]; then echo "@file $_ep - dir"; echo; return; fi
  if [ ! -e "$1" ]; then echo "@file $_ep - missing"; echo; return; fi
  _em=$(stat -c %a "$1" 2>/dev/null || echo -)
  if [ ! -f "$1" ]; then echo "@file $_ep $_em special"; echo; return; fi
  if [ ! -r "$1" ]; then echo "@file $_ep $_em unreadable"; echo; return; fi
  echo "@file $_ep $_em file"; head -c 1048576 "$1" | b64; echo
}
scripts_of() {
  [ -f "$1" ] || return 0
  awk '{ sub(/^[ \t]+/, ""); if ($1 ~ /^(script|notify|notify_[a-z_]+|[a-z_]*_script)$/)
    for (i = 2; i <= NF; i++) { v = $i; gsub(/["'\'']/, "", v); if (v ~ /^\//) print v } }' "$1" 2>/dev/null |
  while IFS= read -r _ss; do
    [ -f "$_ss" ] || continue
    [ "$(head -c 4 "$_ss" | od -An -c | tr -d ' \n')" = '177ELF' ] && continue
    [ "$(wc -c < "$_ss")" -le 262144 ] || continue
    echo "@script"; emit "$_ss"
  done
}
`;

/** the main script: sections "@@name", each file as "@file <base64 path> <mode> <kind>" + a base64 line */
export function mainScript(): string {
  return String.raw`${SH_LIB}
T=$(mktemp -d 2>/dev/null) || { T=/tmp/ha-setup-import.$$; mkdir -m 700 "$T"; }
trap 'rm -rf "$T"' EXIT
echo @@hostname; hostname 2>/dev/null || uname -n
echo @@os; grep -E '^(ID|ID_LIKE|VERSION_ID|PRETTY_NAME)=' /etc/os-release 2>/dev/null
echo @@unit
systemctl show keepalived.service -p LoadState -p ActiveState -p UnitFileState -p MainPID -p ExecStart \
  -p EnvironmentFiles -p Environment 2>/dev/null
echo @@procs
for p in /proc/[0-9]*; do
  e=$(readlink "$p/exe" 2>/dev/null) || continue
  case "$e" in */keepalived|*/keepalived' (deleted)') ;; *) continue ;; esac
  pp=$(awk '/^PPid:/ { print $2 }' "$p/status" 2>/dev/null)
  echo "${'$'}{p#/proc/} ${'$'}{pp:-0} $(printf %s "$e" | b64) $(b64 < "$p/cmdline")"
done
echo @@version
: > "$T/bins"
for p in /proc/[0-9]*; do e=$(readlink "$p/exe" 2>/dev/null) || continue
  case "$e" in */keepalived|*/keepalived' (deleted)') echo "${'$'}{e% (deleted)}" >> "$T/bins" ;; esac; done
systemctl show keepalived.service -p ExecStart 2>/dev/null | sed -n 's/.*path=\([^ ;]*\).*/\1/p' >> "$T/bins"
command -v keepalived >> "$T/bins" 2>/dev/null
awk '!seen[$0]++' "$T/bins" > "$T/b"
while IFS= read -r b; do
  [ -x "$b" ] || continue
  echo "@bin $(printf %s "$b" | b64)"; "$b" --version 2>&1 | head -n 40
done < "$T/b"
echo @@envfiles
{ echo /etc/default/keepalived; echo /etc/sysconfig/keepalived
  systemctl show keepalived.service -p EnvironmentFiles 2>/dev/null | sed -n 's/^EnvironmentFiles=\([^ ]*\).*/\1/p'
} | awk '!seen[$0]++' | while IFS= read -r f; do [ -e "$f" ] && emit "$f"; done
echo @@conf
{ for p in /proc/[0-9]*; do e=$(readlink "$p/exe" 2>/dev/null) || continue
    case "$e" in */keepalived) tr '\0' '\n' < "$p/cmdline" ;; esac; done
  systemctl show keepalived.service -p ExecStart 2>/dev/null |
    sed -n 's/.*argv\[\]=\(.*\) ; ignore.*/\1/p' | tr ' ' '\n'
  sed -n -e 's/^[[:space:]]*DAEMON_ARGS=//p' -e 's/^[[:space:]]*KEEPALIVED_OPTIONS=//p' /etc/default/keepalived \
    /etc/sysconfig/keepalived 2>/dev/null | tr -d '"'"'" | tr ' \t' '\n\n'
  while IFS= read -r b; do "$b" --version 2>&1 |
    sed -n -e 's|.*--prefix=\([^ ]*\).*|\1/etc/keepalived/keepalived.conf|p' \
      -e 's|.*--sysconfdir=\([^ ]*\).*|\1/keepalived/keepalived.conf|p'; done < "$T/b"
} | awk 'prev == "-f" || prev == "--use-file" { print } /^-f./ { print substr($0, 3) }
    /^--use-file=/ { sub(/^--use-file=/, ""); print } /^\/.*\/keepalived\.conf$/ { print } { prev = $0 }' > "$T/c"
{ cat "$T/c"; echo /etc/keepalived/keepalived.conf; echo /usr/local/etc/keepalived/keepalived.conf; } |
  awk '!seen[$0]++' | while IFS= read -r c; do
    case "$c" in /*) ;; *) c="/$c" ;; esac
    emit "$c"; scripts_of "$c"
  done
echo @@links; ip -o link show 2>/dev/null
echo @@addrs; ip -o -4 addr show 2>/dev/null
echo @@services
for s in keepalived nginx; do
  a=$(systemctl is-active "$s" 2>/dev/null); [ -n "$a" ] || { pidof "$s" >/dev/null 2>&1 && a=active || a=unknown; }
  echo "$s $a"
done
echo @@nginx
ng=; conf=
for p in /proc/[0-9]*; do e=$(readlink "$p/exe" 2>/dev/null) || continue
  case "$e" in */nginx) ;; *) continue ;; esac
  c=$(tr '\0' ' ' < "$p/cmdline")
  case "$c" in *'master process'*) ng=$e; conf=$(printf %s "$c" | sed -n 's/.* -c \([^ ]*\).*/\1/p'); break ;; esac
done
[ -n "$ng" ] || ng=$(command -v nginx 2>/dev/null)
if [ -n "$ng" ] && [ -x "$ng" ]; then
  if [ -n "$conf" ]; then "$ng" -T -c "$conf" > "$T/o" 2> "$T/e"; else "$ng" -T > "$T/o" 2> "$T/e"; fi
  echo "rc $?"; echo "bin $(printf %s "$ng" | b64)"; echo "out $(b64 < "$T/o")"; echo "err $(b64 < "$T/e")"
else echo none; fi
echo @@end
`;
}

/** reads globs (relative: from a directory) on the host; args: DIR PATTERN pairs */
export function readScript(): string {
  return String.raw`${SH_LIB}
while [ $# -ge 2 ]; do
  d=$1; pat=$2; shift 2
  echo "@@glob $(printf %s "$d" | b64) $(printf %s "$pat" | b64)"
  ( cd "$d" 2>/dev/null || cd /
    IFS=''; set +f
    for f in $pat; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      case "$f" in /*) p=$f ;; *) p="$(pwd)/$f" ;; esac
      emit "$p"; scripts_of "$p"
    done )
done
echo @@end
`;
}

const decode = (s: string) => Buffer.from(s.trim(), 'base64').toString('utf8');

/** "@@name" sections (up to "@@end") */
export function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  let cur: string | null = null;
  let buf: string[] = [];
  for (const l of out.split('\n')) {
    const m = /^@@([a-z]+)$/.exec(l);
    if (m) {
      if (cur) res[cur] = buf.join('\n');
      if (m[1] === 'end') return res;
      cur = m[1];
      buf = [];
    } else buf.push(l);
  }
  if (cur) res[cur] = buf.join('\n');
  return res;
}

export interface FileEntry extends IncludedFile {
  mode?: string;
  script?: boolean;
}

/** "@file <b64 path> <mode> <kind>" + base64 content lines ("@script" before one marks a script) */
export function parseFileEntries(text: string): FileEntry[] {
  const out: FileEntry[] = [];
  const lines = text.split('\n');
  let script = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '@script') {
      script = true;
      continue;
    }
    const m = /^@file (\S*) (\S+) (\S+)$/.exec(lines[i]);
    if (!m) continue;
    const path = decode(m[1]);
    const kind = m[3];
    const body = lines[i + 1] ?? '';
    i++;
    const e: FileEntry = { path, text: kind === 'file' ? decode(body) : '', mode: m[2], script };
    script = false;
    const skip = skipOf(kind, m[2]);
    if (skip) e.skip = skip;
    out.push(e);
  }
  return out;
}

function skipOf(kind: string, mode: string): string | undefined {
  if (kind === 'dir') return 'a directory';
  if (kind === 'missing') return 'a dangling link';
  if (kind === 'special') return 'not a regular file';
  if (kind === 'unreadable') return 'not readable';
  if (/^[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o111) !== 0)
    return `executable (mode ${mode}): keepalived reads only non-executable files`;
  return undefined;
}

/** `ip -o link` + `ip -o -4 addr` -> interfaces with their IPv4 addresses */
export function parseInterfaces(links: string, addrs: string): HostInterface[] {
  const ifs = new Map<string, HostInterface>();
  for (const l of links.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(l);
    if (m) ifs.set(m[1], { name: m[1], up: m[2].split(',').includes('UP'), addresses: [] });
  }
  for (const l of addrs.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)\/(\d+)(.*)$/.exec(l);
    if (!m) continue;
    const name = m[1].replace(/@.*/, '');
    const rest = m[4].split('\\')[0];
    const label = /\s(\S+)\s*$/.exec(rest)?.[1];
    const iface = ifs.get(name) ?? { name, up: true, addresses: [] };
    ifs.set(name, iface);
    iface.addresses.push({
      address: m[2],
      prefix: Number(m[3]),
      secondary: /\ssecondary\b/.test(rest),
      ...(label && label !== name && label.includes(':') ? { label } : {}),
    });
  }
  return [...ifs.values()];
}

/**
 * "Keepalived v2.2.7 (01/16,2022)" -> 2.2.7; and the default configuration file of that build: up to 2.2.4
 * /etc/keepalived/keepalived.conf whatever the prefix; from 2.2.5 SYSCONFDIR/keepalived/keepalived.conf, and when
 * that does not exist the same path without the prefix (keepalived's OLD_DEFAULT_CONFIG_FILE)
 */
export function parseVersion(text: string): { version: string | null; defaultConf: string; oldDefault?: string } {
  const v = /Keepalived v(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? null;
  const n = (v ?? '0.0.0').split('.').map(Number);
  const before225 = n[0] < 2 || (n[0] === 2 && (n[1] < 2 || (n[1] === 2 && n[2] < 5)));
  const opts = /configure options:(.*)/.exec(text)?.[1] ?? '';
  const arg = (name: string, min: number) => {
    for (const m of opts.matchAll(/--([a-z-]+)=(\S+)/g))
      if (m[1].length >= min && name.startsWith(m[1])) return m[2].replace(/^['"]|['"]$/g, '');
    return undefined;
  };
  if (!v || before225) return { version: v, defaultConf: '/etc/keepalived/keepalived.conf' };
  const prefix = arg('prefix', 3) ?? '/usr/local';
  const sysconf = (arg('sysconfdir', 4) ?? `${prefix}/etc`).replace(/\$\{prefix\}|\$\(prefix\)/, prefix);
  const defaultConf = `${sysconf}/keepalived/keepalived.conf`;
  const old = defaultConf.startsWith(prefix) && prefix !== '/' ? defaultConf.slice(prefix.length) : undefined;
  return { version: v, defaultConf, ...(old && old !== defaultConf ? { oldDefault: old } : {}) };
}

interface Proc {
  pid: number;
  ppid: number;
  exe: string;
  argv: string[];
}

function parseProcs(text: string): Proc[] {
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((w) => w.length >= 3 && /^\d+$/.test(w[0]))
    .map((w) => ({
      pid: Number(w[0]),
      ppid: Number(w[1]),
      exe: decode(w[2]).replace(/ \(deleted\)$/, ''),
      argv: decode(w[3] ?? '')
        .split('\0')
        .filter((a, i, all) => i < all.length - 1 || a !== ''),
    }));
}

function parseBins(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let cur: string | null = null;
  for (const l of text.split('\n')) {
    const b = /^@bin (\S+)$/.exec(l);
    if (b) {
      cur = decode(b[1]);
      m.set(cur, '');
    } else if (cur) m.set(cur, `${m.get(cur)}${l}\n`);
  }
  return m;
}

function kv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

export interface DaemonChoice {
  binary: string;
  versionText: string;
  options: DaemonOptions & { source: string };
  running: boolean;
}

/** keepalived's binary and argv: the running daemon's, else what the unit would start */
export function chooseDaemon(s: Record<string, string>, envFiles: FileEntry[]): DaemonChoice {
  const procs = parseProcs(s.procs ?? '');
  const bins = parseBins(s.version ?? '');
  const unit = kv(s.unit ?? '');
  const pids = new Set(procs.map((p) => p.pid));
  const parent = procs.find((p) => p.pid === Number(unit.MainPID)) ?? procs.find((p) => !pids.has(p.ppid));
  const firstBin = [...bins.keys()][0] ?? 'keepalived';
  if (parent) {
    const binary = parent.exe;
    const text = bins.get(binary) ?? bins.get(parent.argv[0]) ?? '';
    const major = majorOf(text);
    const options = {
      ...parseDaemonArgs(parent.argv.slice(1), major),
      source: `the running keepalived (pid ${parent.pid})`,
    };
    return { binary, versionText: text, options, running: true };
  }
  const env: Record<string, string> = {};
  const listed = (s.unit ?? '')
    .split('\n')
    .filter((l) => l.startsWith('EnvironmentFiles='))
    .map((l) => l.slice('EnvironmentFiles='.length).split(/\s+/)[0]);
  for (const f of envFiles)
    if (!listed.length || listed.includes(f.path)) Object.assign(env, parseEnvironmentFile(f.text));
  Object.assign(env, parseEnvironmentProperty(unit.Environment ?? ''));
  const argv = execStartArgv(unit.ExecStart ?? '', env);
  const binary = argv?.[0] ?? firstBin;
  const text = bins.get(binary) ?? bins.get(firstBin) ?? '';
  const major = majorOf(text);
  if (argv)
    return {
      binary,
      versionText: text,
      options: {
        ...parseDaemonArgs(argv.slice(1), major),
        source: 'the keepalived unit (ExecStart and its environment)',
      },
      running: false,
    };
  const raw = env.DAEMON_ARGS ?? env.KEEPALIVED_OPTIONS ?? '';
  const source = env.DAEMON_ARGS !== undefined ? 'DAEMON_ARGS' : 'KEEPALIVED_OPTIONS';
  return {
    binary,
    versionText: text,
    options: { ...parseDaemonArgs(raw.split(/\s+/).filter(Boolean), major), source },
    running: false,
  };
}

function majorOf(versionText: string): 1 | 2 {
  return /Keepalived v1\./.test(versionText) ? 1 : 2;
}

/** a ReadIncluded that sends every read asked for in the same tick to the host in one script run */
export function hostReader(
  run: Runner,
  seen: FileEntry[] = [],
): (glob: string, dir: string) => Promise<IncludedFile[]> {
  let queue: { glob: string; dir: string; resolve: (f: IncludedFile[]) => void; reject: (e: Error) => void }[] = [];
  const flush = async () => {
    const batch = queue;
    queue = [];
    try {
      const r = await run(
        readScript(),
        batch.flatMap((q) => [q.dir, q.glob]),
      );
      if (!r.stdout.includes('@@end')) throw new Error(`reading files failed (exit ${r.code}): ${r.stderr.trim()}`);
      const parts = r.stdout.split(/^@@glob .*$/m).slice(1);
      batch.forEach((q, i) => {
        const entries = parseFileEntries((parts[i] ?? '').replace(/@@end[\s\S]*$/, ''));
        seen.push(...entries);
        q.resolve(entries.filter((e) => !e.script));
      });
    } catch (e) {
      for (const q of batch) q.reject(e as Error);
    }
  };
  return (glob, dir) =>
    new Promise((resolve, reject) => {
      if (!queue.length) queueMicrotask(() => void flush());
      queue.push({ glob, dir, resolve, reject });
    });
}

/** the script paths the configuration runs (vrrp_script `script`, notify*), first word or the interpreter's file */
export function scriptPaths(config: KeepalivedConfig): string[] {
  const out = new Set<string>();
  for (const [n] of walkConf(config.tree)) {
    if (!/^(script|notify|notify_[a-z_]+|[a-z_]*_script)$/.test(n.keyword) || !n.args.length) continue;
    const words = n.args.length === 1 ? splitCommand(n.args[0]) : n.args;
    for (const w of words.slice(0, 3)) if (w.startsWith('/')) out.add(w);
  }
  return [...out];
}

/** a script line split into words (quotes and backslashes as keepalived's alloc_strvec_quoted_escaped reads them) */
export function splitCommand(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (quote) {
      if (c === quote) quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (has || cur) words.push(cur);
  return words;
}

function osFamilyOf(os: string): { family: ImportedHost['osFamily']; id?: string } {
  const env = parseEnvironmentFile(os);
  const ids = `${env.ID ?? ''} ${env.ID_LIKE ?? ''}`;
  const family = /\b(debian|ubuntu)\b/.test(ids) ? 'debian' : /\b(rhel|centos|fedora)\b/.test(ids) ? 'rhel' : 'other';
  return { family, id: env.ID };
}

function nginxOf(section: string, latent: string[]): HostNginx | undefined {
  if (!section.trim() || section.trim() === 'none') return undefined;
  const f = kv(section.replace(/^(rc|bin|out|err) /gm, '$1='));
  const dump = decode(f.out ?? '');
  const err = decode(f.err ?? '');
  const ok = f.rc === '0';
  const firstError = ok
    ? undefined
    : (err.split('\n').find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ?? err.trim());
  if (!ok) latent.push(`nginx -T fails (exit ${f.rc}): ${firstError ?? 'no message'}; the next nginx reload fails too`);
  const { upstream, notes } = findNginxUpstream(dump);
  return { binary: decode(f.bin ?? ''), ok, firstError, files: splitNginxDump(dump), upstream, notes };
}

/** the main configuration file keepalived reads, as it would choose it */
function configPathOf(d: DaemonChoice, conf: FileEntry[]): { path: string; note?: string } {
  const major = majorOf(d.versionText);
  const v = parseVersion(d.versionText);
  let path = d.options.useFile ?? v.defaultConf;
  if (!path.startsWith('/')) path = `/${path}`;
  if (!d.options.useFile && major === 2 && v.oldDefault) {
    const exists = (p: string) => conf.some((c) => c.path === p && !c.skip && c.mode !== '-');
    if (!exists(v.defaultConf) && exists(v.oldDefault))
      return { path: v.oldDefault, note: `${v.defaultConf} does not exist: keepalived falls back to ${v.oldDefault}` };
  }
  return { path };
}

export interface CollectOptions {
  /** the keepalived configuration to read instead of the one keepalived uses (tests) */
  configPath?: string;
}

/** read one host: `given` is what the user typed (kept as the node's host) */
export async function collectHost(given: string, run: Runner, opts: CollectOptions = {}): Promise<ImportedHost> {
  const r = await run(mainScript(), []);
  if (!r.stdout.includes('@@end'))
    throw new Error(`${given}: reading the host failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
  const s = sections(r.stdout);
  const latent: string[] = [];
  const envFiles = parseFileEntries(s.envfiles ?? '');
  const confFiles = parseFileEntries(s.conf ?? '');
  const daemon = chooseDaemon(s, envFiles);
  const major = majorOf(daemon.versionText);
  const chosen = configPathOf(daemon, confFiles);
  const configPath = opts.configPath ?? chosen.path;
  if (chosen.note) daemon.options.notes.push(chosen.note);
  const hostname = (s.hostname ?? '').trim() || given;
  const seen: FileEntry[] = [...confFiles];
  const remote = hostReader(run, seen);
  const read = async (glob: string, dir: string): Promise<IncludedFile[]> => {
    const pre = confFiles.find((c) => c.path === glob && !c.script);
    return pre && pre.mode !== '-' ? [pre] : remote(glob, dir);
  };
  const config = await loadKeepalivedConfig(configPath, read, {
    major,
    configId: daemon.options.configId ?? (major === 2 ? hostname.split('.')[0] : undefined),
  });
  const scripts = await readScripts(config, seen, remote);
  const services = servicesOf(s.services ?? '');
  if (services.keepalived !== 'active')
    latent.push(`keepalived is not active (${services.keepalived}): the pair runs on the other node(s) alone`);
  const interfaces = parseInterfaces(s.links ?? '', s.addrs ?? '');
  const os = osFamilyOf(s.os ?? '');
  return {
    given,
    hostname,
    osFamily: os.family,
    ...(os.id ? { osId: os.id } : {}),
    keepalivedVersion: parseVersion(daemon.versionText).version,
    keepalivedMajor: major,
    daemonOptions: daemon.options,
    configPath,
    interfaces,
    holds: vipsHeld(config, interfaces),
    config,
    scripts,
    nginx: nginxOf(s.nginx ?? '', latent),
    services,
    latent,
  };
}

async function readScripts(
  config: KeepalivedConfig,
  seen: FileEntry[],
  remote: (glob: string, dir: string) => Promise<IncludedFile[]>,
): Promise<Record<string, string>> {
  const scripts: Record<string, string> = {};
  const byPath = new Map(seen.filter((e) => e.script && !e.skip?.startsWith('not')).map((e) => [e.path, e]));
  const wanted = scriptPaths(config);
  const missing = wanted.filter((p) => !byPath.has(p) && !seen.some((e) => e.path === p));
  if (missing.length) {
    const got = await Promise.all(missing.map((p) => remote(p, '/').catch(() => [] as IncludedFile[])));
    got.flat().forEach((e) => byPath.set(e.path, { ...e, script: true }));
    for (const e of seen) if (e.script) byPath.set(e.path, e);
  }
  for (const p of wanted) {
    const e = byPath.get(p);
    if (e && e.text) scripts[p] = e.text;
  }
  return scripts;
}

function servicesOf(text: string): ImportedHost['services'] {
  const m = Object.fromEntries(text.split('\n').map((l) => l.trim().split(/\s+/)));
  return { keepalived: m.keepalived ?? 'unknown', nginx: m.nginx ?? 'unknown' };
}

/** the configuration's VIPs (virtual_ipaddress entries) that this host has on an interface now */
export function vipsHeld(config: KeepalivedConfig, interfaces: HostInterface[]): string[] {
  const have = new Set(interfaces.flatMap((i) => i.addresses.map((a) => a.address)));
  const out: string[] = [];
  for (const [n, parents] of walkConf(config.tree)) {
    const p = parents[parents.length - 1];
    if (!p || !/^virtual_ipaddress(_excluded)?$/.test(p.keyword)) continue;
    const addr = n.keyword.split('/')[0];
    if (isIPv4(addr) && have.has(addr) && !out.includes(addr)) out.push(addr);
  }
  return out;
}
