/**
 * Reading what runs on a host for `ha-setup import`, as facts of the one table (src/facts/table.ts) gathered as root:
 * the first round trip reads the host (name, OS, interfaces, services), keepalived's unit, processes, binaries (read
 * as files: nothing of keepalived's is ever run) and environment files, and nginx -T (run only for a root-owned
 * binary of a package, with the unit's configuration); then keepalived's configuration file is chosen as keepalived
 * would choose it, and one `globs` round trip per include level reads it and what it includes (globs expanded on
 * the host, every file whole, any byte intact), with the scripts it names.
 */
import { canonicalIP } from '../answers/ip.js';
import type { Conn } from '../conn.js';
import { globsVar } from '../facts/file-entries.js';
import { gather } from '../facts/gather.js';
import { parseKeepalivedVersion, type Facts } from '../facts/table.js';
import type { FileEntry, KeepalivedBinary, KeepalivedProcess, NginxDumpFact } from '../facts/types.js';
import {
  execStartArgv,
  parseDaemonArgs,
  parseEnvironmentFile,
  parseEnvironmentProperty,
  type DaemonOptions,
} from './daemon-options.js';
import { loadKeepalivedConfig, walkConf, type IncludedFile, type KeepalivedConfig } from './keepalived-conf.js';
import { PATHS } from '../paths.js';
import { hookVar } from './map-own.js';
import { findNginxUpstream, splitNginxDump } from './nginx-conf.js';
import type { HostInterface, HostNginx, ImportedHost } from './types.js';

/** what the first round trip reads */
export const HOST_FACTS = [
  'hostname',
  'os',
  'interfaces',
  'services',
  'kaunit',
  'kaprocs',
  'kabins',
  'kaenv',
  'nginxdump',
] as const;
export type HostFacts = Pick<Facts, (typeof HOST_FACTS)[number]>;

/**
 * the default configuration file of a keepalived build: up to 2.2.4 /etc/keepalived/keepalived.conf whatever the
 * prefix; from 2.2.5 SYSCONFDIR/keepalived/keepalived.conf, and when that does not exist the same path without the
 * prefix (keepalived's OLD_DEFAULT_CONFIG_FILE). `build`: the configure options (--prefix=, --sysconfdir=)
 */
export function defaultConfOf(version: string | null, build: string): { defaultConf: string; oldDefault?: string } {
  const n = (version ?? '0.0.0').split('.').map(Number);
  const before225 = n[0] < 2 || (n[0] === 2 && (n[1] < 2 || (n[1] === 2 && n[2] < 5)));
  const arg = (name: string, min: number) => {
    for (const m of build.matchAll(/--([a-z-]+)=(\S+)/g))
      if (m[1].length >= min && name.startsWith(m[1])) return m[2].replace(/^['"]|['"]$/g, '');
    return undefined;
  };
  if (!version || before225) return { defaultConf: '/etc/keepalived/keepalived.conf' };
  const prefix = arg('prefix', 3) ?? '/usr/local';
  const sysconf = (arg('sysconfdir', 4) ?? `${prefix}/etc`).replace(/\$\{prefix\}|\$\(prefix\)/, prefix);
  const defaultConf = `${sysconf}/keepalived/keepalived.conf`;
  const old = defaultConf.startsWith(prefix) && prefix !== '/' ? defaultConf.slice(prefix.length) : undefined;
  return { defaultConf, ...(old && old !== defaultConf ? { oldDefault: old } : {}) };
}

/** a keepalived binary's version: its package's (not for a deleted binary), else the string in the file */
export function versionOf(b: KeepalivedBinary | undefined): { version: string | null; from: string; notes: string[] } {
  if (!b) return { version: null, from: 'no keepalived binary found', notes: [] };
  const inFile = parseKeepalivedVersion(b.versionLine);
  const pkg = b.pkg && !b.deleted ? /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(b.pkg.version)?.[1] : undefined;
  if (b.pkg && pkg) {
    const notes =
      inFile && inFile !== pkg
        ? [`${b.path} says keepalived ${inFile}, its package ${b.pkg.name} ${b.pkg.version}: the package's is used`]
        : [];
    return { version: pkg, from: `the package ${b.pkg.name} ${b.pkg.version}, which owns ${b.path}`, notes };
  }
  const where = b.deleted ? `${b.path} as it ran (deleted or replaced since)` : b.path;
  return { version: inFile, from: `${inFile ? 'read from' : 'not found in'} ${where} (not run)`, notes: [] };
}

export interface DaemonChoice {
  binary: string;
  version: string | null;
  /** where the version comes from (a package, the binary's file) */
  versionFrom: string;
  /** the build's configure options ('' when unknown) */
  build: string;
  options: DaemonOptions & { source: string };
  running: boolean;
  /** processes named keepalived that are not the daemon, and why they are ignored; a version that disagrees */
  warnings: string[];
}

/** keepalived's daemon: a process of root's running keepalived's binary (VRRP needs root); the others, why not */
function daemonProcs(procs: KeepalivedProcess[]): { daemon: KeepalivedProcess[]; warnings: string[] } {
  const daemon: KeepalivedProcess[] = [];
  const warnings: string[] = [];
  for (const p of procs) {
    const exe = p.exe ? `${p.exe}${p.deleted ? ' (deleted)' : ''}` : 'binary unknown';
    if (p.uid !== 0 || p.euid !== 0) {
      const as = p.uid === p.euid ? `uid ${p.uid}` : `uid ${p.uid} (effective ${p.euid})`;
      warnings.push(`a process named keepalived runs as ${as} (pid ${p.pid}, ${exe}): not the daemon, ignored`);
    } else if (!/\/keepalived$/.test(p.exe))
      warnings.push(`a root process named keepalived runs ${exe} (pid ${p.pid}): not keepalived's binary, ignored`);
    else daemon.push(p);
  }
  return { daemon, warnings };
}

/** keepalived's binary and argv: the running daemon's, else what the unit would start */
export function chooseDaemon(f: Pick<HostFacts, 'kaunit' | 'kaprocs' | 'kabins'>, envFiles: FileEntry[]): DaemonChoice {
  const { daemon, warnings } = daemonProcs(f.kaprocs);
  const unit = f.kaunit;
  const pids = new Set(daemon.map((p) => p.pid));
  const parent = daemon.find((p) => p.pid === unit.mainPid) ?? daemon.find((p) => !pids.has(p.ppid));
  const choice = (
    binary: string,
    bin: KeepalivedBinary | undefined,
    options: DaemonChoice['options'],
    running: boolean,
  ) => {
    const v = versionOf(bin);
    return {
      binary,
      version: v.version,
      versionFrom: v.from,
      build: bin?.build ?? '',
      options,
      running,
      warnings: [...warnings, ...v.notes],
    };
  };
  if (parent) {
    const bin =
      f.kabins.find((b) => b.from.startsWith('pid:') && b.path === parent.exe && b.deleted === parent.deleted) ??
      f.kabins.find((b) => b.path === parent.exe);
    const major = majorOf(versionOf(bin).version);
    const source = `the running keepalived (pid ${parent.pid})`;
    return choice(parent.exe, bin, { ...parseDaemonArgs(parent.argv.slice(1), major), source }, true);
  }
  const env: Record<string, string> = {};
  for (const e of envFiles)
    if (!unit.environmentFiles.length || unit.environmentFiles.includes(e.path))
      Object.assign(env, parseEnvironmentFile(e.text));
  Object.assign(env, parseEnvironmentProperty(unit.environment));
  const argv = execStartArgv(unit.execStart, env);
  const installed = f.kabins.filter((b) => !b.from.startsWith('pid:'));
  const bin = installed.find((b) => b.path === argv?.[0]) ?? installed[0];
  const binary = argv?.[0] ?? bin?.path ?? 'keepalived';
  const major = majorOf(versionOf(bin).version);
  if (argv) {
    const source = 'the keepalived unit (ExecStart and its environment)';
    return choice(binary, bin, { ...parseDaemonArgs(argv.slice(1), major), source }, false);
  }
  const raw = env.DAEMON_ARGS ?? env.KEEPALIVED_OPTIONS ?? '';
  const source = env.DAEMON_ARGS !== undefined ? 'DAEMON_ARGS' : 'KEEPALIVED_OPTIONS';
  return choice(binary, bin, { ...parseDaemonArgs(raw.split(/\s+/).filter(Boolean), major), source }, false);
}

function majorOf(version: string | null): 1 | 2 {
  return version?.startsWith('1.') ? 1 : 2;
}

type Read = (glob: string, dir: string) => Promise<IncludedFile[]>;

/**
 * a ReadIncluded that reads every glob asked for in the same tick in one round trip (the globs fact); `seen` gets
 * every entry read, the scripts the files name included
 */
export function hostReader(conn: Conn, seen: FileEntry[] = []): Read {
  let queue: { glob: string; dir: string; resolve: (f: IncludedFile[]) => void; reject: (e: Error) => void }[] = [];
  const flush = async () => {
    const batch = queue;
    queue = [];
    try {
      const { globs } = await gather(conn, ['globs'], { GLOBS: globsVar(batch) });
      batch.forEach((q, i) => {
        const entries = globs[i]?.files ?? [];
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

/**
 * the main configuration file keepalived reads, as it would choose it (-f, else its build's default, else the old
 * default when only that exists), read with the files it names: one round trip (both defaults asked at once)
 */
async function mainConfig(
  d: DaemonChoice,
  read: Read,
  given?: string,
): Promise<{ path: string; files: IncludedFile[]; note?: string }> {
  const v = defaultConfOf(d.version, d.build);
  let path = given ?? d.options.useFile ?? v.defaultConf;
  if (!path.startsWith('/')) path = `/${path}`;
  const old = !given && !d.options.useFile && majorOf(d.version) === 2 ? v.oldDefault : undefined;
  const [main, fallback] = await Promise.all([read(path, '/'), old ? read(old, '/') : Promise.resolve([])]);
  const exists = (files: IncludedFile[], p: string) => files.some((f) => f.path === p && !f.skip);
  if (old && !exists(main, path) && exists(fallback, old))
    return { path: old, files: fallback, note: `${path} does not exist: keepalived falls back to ${old}` };
  return { path, files: main };
}

function nginxOf(d: NginxDumpFact, latent: string[], warnings: string[]): HostNginx | undefined {
  if (d.state === 'none') return undefined;
  if (d.state === 'unsafe') {
    warnings.push(
      `nginx -T not run: ${d.binary}: ${d.why} (ha-setup runs only a root-owned binary of a package, in root-owned ` +
        "directories): the answers have nothing of this host's nginx configuration",
    );
    return undefined;
  }
  const ok = d.rc === 0;
  const firstError = ok
    ? undefined
    : (d.err.split('\n').find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ?? d.err.trim());
  if (!ok) latent.push(`nginx -T fails (exit ${d.rc}): ${firstError ?? 'no message'}; the next nginx reload fails too`);
  const { upstream, notes } = findNginxUpstream(d.out);
  return { binary: d.binary, ok, firstError, files: splitNginxDump(d.out), upstream, notes };
}

export interface CollectOptions {
  /** the keepalived configuration to read instead of the one keepalived uses (tests) */
  configPath?: string;
}

/** read one host through `conn` (as root): `given` is what the user typed (kept as the node's host) */
export async function collectHost(given: string, conn: Conn, opts: CollectOptions = {}): Promise<ImportedHost> {
  const f = await gather(conn, HOST_FACTS);
  const latent: string[] = [];
  const daemon = chooseDaemon(f, f.kaenv);
  const warnings = [...daemon.warnings];
  const major = majorOf(daemon.version);
  const hostname = f.hostname.trim() || given;
  const seen: FileEntry[] = [];
  const remote = hostReader(conn, seen);
  const main = await mainConfig(daemon, remote, opts.configPath);
  if (main.note) daemon.options.notes.push(main.note);
  const read: Read = (glob, dir) => (glob === main.path ? Promise.resolve(main.files) : remote(glob, dir));
  const config = await loadKeepalivedConfig(main.path, read, {
    major,
    configId: daemon.options.configId ?? (major === 2 ? hostname.split('.')[0] : undefined),
  });
  const scripts = await readScripts(config, seen, remote);
  const webhookUrl = await readWebhookUrl(scripts, remote);
  const services = {
    keepalived: daemon.running ? 'active' : (f.services.keepalived?.active ?? 'unknown'),
    nginx: f.services.nginx?.active ?? 'unknown',
  };
  if (services.keepalived !== 'active')
    latent.push(`keepalived is not active (${services.keepalived}): the pair runs on the other node(s) alone`);
  const interfaces = Object.values(f.interfaces);
  const nginx = nginxOf(f.nginxdump, latent, warnings);
  return {
    given,
    hostname,
    osFamily: f.os.family === 'unknown' ? 'other' : f.os.family,
    ...(f.os.id ? { osId: f.os.id } : {}),
    keepalivedVersion: daemon.version,
    keepalivedMajor: major,
    daemonOptions: daemon.options,
    configPath: main.path,
    interfaces,
    holds: vipsHeld(config, interfaces),
    config,
    scripts,
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    ...(nginx ? { nginx } : {}),
    services,
    latent,
    notes: [`keepalived ${daemon.version ?? 'version unknown'}: ${daemon.versionFrom}`],
    warnings,
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

/**
 * the URL ha-setup's notify hook posts to, from its root-only file (PATHS.webhookUrl, the one the hook names): kept
 * in memory for a takeover in the same run, never in the answers or the output
 */
async function readWebhookUrl(
  scripts: Record<string, string>,
  remote: (glob: string, dir: string) => Promise<IncludedFile[]>,
): Promise<string | undefined> {
  const hook = scripts[PATHS.notifyScript];
  if (hook === undefined || hookVar(hook, 'WEBHOOK_URL_FILE') !== PATHS.webhookUrl) return undefined;
  const got = await remote(PATHS.webhookUrl, '/').catch(() => [] as IncludedFile[]);
  const line = got
    .find((e) => e.path === PATHS.webhookUrl && !e.skip)
    ?.text.split('\n')[0]
    .trim();
  return line || undefined;
}

/** the configuration's VIPs (virtual_ipaddress entries) that this host has on an interface now */
export function vipsHeld(config: KeepalivedConfig, interfaces: HostInterface[]): string[] {
  const have = new Set(interfaces.flatMap((i) => i.ips.map((a) => a.address)));
  const out: string[] = [];
  for (const [n, parents] of walkConf(config.tree)) {
    const p = parents[parents.length - 1];
    if (!p || !/^virtual_ipaddress(_excluded)?$/.test(p.keyword)) continue;
    const addr = canonicalIP(n.keyword.split('/')[0]);
    if (addr && have.has(addr) && !out.includes(addr)) out.push(addr);
  }
  return out;
}
