/**
 * A host as `ha-setup import` reads it (import/collect.ts): what the facts it gathers print (src/facts/table.ts:
 * hostname, os, interfaces, services, kaunit, kaprocs, kabins, kaenv, nginxdump, globs) for a host described by its
 * processes, keepalived binaries, packages, files, addresses and nginx -T, in the facts' formats ("@@name" sections,
 * "@file <base64 path> <mode> <kind>" entries). Only the facts' own scripts are answered (gatherScript of the names).
 * The guides' 004 pair is built from captured fixtures (test/fixtures/import).
 */
import { gatherScript } from '../../src/facts/gather.js';
import { VARS, type FactName } from '../../src/facts/table.js';
import { fixture, nginxDump } from '../fixtures/import/hosts.js';

export interface ImportHost {
  hostname: string;
  os: string;
  /** `systemctl show keepalived.service -p ...` */
  unit?: string;
  /** processes named keepalived; exe ends in " (deleted)" for a deleted binary; uid 0 unless given */
  procs?: { pid: number; ppid: number; uid?: number; exe: string; argv: string[] }[];
  /** keepalived binaries by path (a running deleted one: "PATH (deleted)"): what `keepalived --version` prints */
  bins: Record<string, string>;
  /** "NAME VERSION" of the package owning a binary's path */
  packages?: Record<string, string>;
  envfiles?: Record<string, string>;
  /** the host's files (configurations, scripts) */
  files: Record<string, string>;
  own: string;
  holds?: string[];
  /** "unit state" lines */
  services?: string;
  nginx?: { rc: number; out: string; err: string; conf?: string } | null;
  /** nginx's binary fails bin_check: why (nginx -T is then not run) */
  nginxUnsafe?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** one "@file" entry as the facts print it */
export const fileEntry = (path: string, text: string | null, mode = '644', kind = 'file') =>
  text === null ? `@file ${b64(path)} - missing\n\n` : `@file ${b64(path)} ${mode} ${kind}\n${b64(text)}\n`;

/** a file entry and, like the facts' scripts_of(), the scripts it names that exist on the host */
function conf(h: ImportHost, path: string): string {
  const text = h.files[path] ?? null;
  let out = fileEntry(path, text);
  for (const line of (text ?? '').split('\n')) {
    const w = line.trim().split(/\s+/);
    if (!/^(script|notify\w*)$/.test(w[0])) continue;
    for (const v of w.slice(1).map((x) => x.replace(/["']/g, '')))
      if (v.startsWith('/') && h.files[v] !== undefined) out += `@script\n${fileEntry(v, h.files[v], '755')}`;
  }
  return out;
}

/** `ip -o link` and `ip -o addr` as the lab's hosts print them */
export const LINKS = fixture('ip-o-link.txt').trimEnd();
export const addrs = (own: string, vips: string[]) =>
  [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    `2: ens33    inet ${own}/24 brd 172.16.70.255 scope global noprefixroute ens33\\       valid_lft forever`,
    ...vips.map((v) => `2: ens33    inet ${v}/32 scope global ens33\\       valid_lft forever preferred_lft forever`),
  ].join('\n');

/** what the kabins fact reads from a binary's file, from what its --version prints */
function binEntry(h: ImportHost, from: string, path: string): string {
  const text = h.bins[path];
  const deleted = path.endsWith(' (deleted)');
  const pkg = deleted ? undefined : h.packages?.[path];
  let out = `@bin ${from} ${b64(path)}\n${deleted ? 'deleted\n' : ''}${pkg ? `pkg ${pkg}\n` : ''}`;
  if (text !== undefined) {
    const version = /^Keepalived v\d.*$/m.exec(text)?.[0] ?? '';
    const build = /^configure options: (.*)$/m.exec(text)?.[1] ?? '';
    out += `version ${version}\nbuild ${build}\n`;
  }
  return out;
}

const root = (p: { uid?: number; exe: string }) =>
  (p.uid ?? 0) === 0 && /\/keepalived$/.test(p.exe.replace(/ \(deleted\)$/, ''));

/** the keepalived binaries the host would read: root's processes', the unit's, the one on PATH */
function kabins(h: ImportHost): string {
  const seen = new Set<string>();
  let out = '';
  for (const p of h.procs ?? [])
    if (root(p) && !seen.has(p.exe)) {
      seen.add(p.exe);
      out += binEntry(h, `pid:${p.pid}`, p.exe);
    }
  const unit = /path=([^ ;]*)/.exec(h.unit ?? '')?.[1];
  if (unit && !seen.has(unit)) {
    seen.add(unit);
    out += binEntry(h, 'unit', unit);
  }
  const onPath = Object.keys(h.bins).find((b) => !b.endsWith(' (deleted)'));
  if (onPath && !seen.has(onPath)) out += binEntry(h, 'path', onPath);
  return out;
}

function nginxdump(h: ImportHost): string {
  if (h.nginxUnsafe) return `unsafe ${b64('/usr/sbin/nginx')} ${b64(h.nginxUnsafe)}`;
  if (!h.nginx) return 'none';
  const n = h.nginx;
  return [
    `rc ${n.rc}`,
    `bin ${b64('/usr/sbin/nginx')}`,
    `conf ${b64(n.conf ?? '')}`,
    `out ${b64(n.out)}`,
    `err ${b64(n.err)}`,
  ].join('\n');
}

/** what the globs fact prints for $GLOBS: the host's files matching each glob */
export function globsOutput(h: ImportHost, globs: string): string {
  let out = '';
  for (const l of globs.split('\n').filter(Boolean)) {
    const [d64, p64 = ''] = l.split(' ');
    const [dir, pat] = [unb64(d64), unb64(p64)];
    out += `@glob ${d64} ${p64}\n`;
    const abs = pat.startsWith('/') ? pat : `${dir}/${pat}`.replace(/\/[^/]+\/\.\.\//g, '/');
    const re = new RegExp(`^${abs.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    for (const p of Object.keys(h.files).sort()) if (re.test(p)) out += conf(h, p);
  }
  return out;
}

const ANSWERS: Partial<Record<FactName, (h: ImportHost, vars: Record<string, string>) => string>> = {
  hostname: (h) => h.hostname,
  os: (h) => h.os,
  interfaces: (h) =>
    [
      ...LINKS.split('\n').map((l) => `link ${l}`),
      ...addrs(h.own, h.holds ?? [])
        .split('\n')
        .map((l) => `addr ${l}`),
    ].join('\n'),
  services: (h) =>
    (h.services ?? 'keepalived active\nnginx active')
      .split('\n')
      .map((l) => `${l} enabled 0`)
      .join('\n'),
  kaunit: (h) => h.unit ?? '',
  kaprocs: (h) =>
    (h.procs ?? [])
      .map((p) => `${p.pid} ${p.ppid} ${p.uid ?? 0} ${p.uid ?? 0} ${b64(p.exe)} ${b64(`${p.argv.join('\0')}\0`)}`)
      .join('\n'),
  kabins,
  kaenv: (h) =>
    Object.entries(h.envfiles ?? {})
      .map(([p, t]) => fileEntry(p, t))
      .join(''),
  nginxdump,
  globs: (h, vars) => globsOutput(h, vars.GLOBS ?? ''),
};

/** the facts a gather script reads, when it is exactly gatherScript(names) of facts this host answers */
export function factsOf(script: string): FactName[] | null {
  const names = [...script.matchAll(/^echo "@@([a-z0-9]+)"$/gm)].map((m) => m[1] as FactName).slice(0, -1);
  if (!names.length || names.some((n) => !ANSWERS[n]) || script !== gatherScript(names)) return null;
  return names;
}

/** what the host prints for one of import's gather scripts (null: not one) */
export function importAnswer(h: ImportHost, script: string, args: readonly string[]): string | null {
  const names = factsOf(script);
  if (!names) return null;
  const vars = Object.fromEntries(VARS.map((v, i) => [v, args[i] ?? '']));
  return `${names.map((n) => `@@${n}\n${ANSWERS[n]!(h, vars)}\n`).join('')}@@end\n`;
}

export const KA = '/data/apps/keepalived/etc/keepalived/keepalived.conf';
export const VERSION_004 = `Keepalived v2.2.4 (08/21,2021)

configure options: --prefix=/data/apps/keepalived

Config options:  LVS VRRP VRRP_AUTH VRRP_VMAC OLD_CHKSUM_COMPAT INIT=systemd
`;

/** the guides' 004 pair: keepalived built in /data/apps, active-active, their chk_nginx.sh, nginx from nginx.org */
export function guide004(name: 'KeepMaster' | 'KeepBackup'): ImportHost {
  const master = name === 'KeepMaster';
  const argv = ['/data/apps/keepalived/sbin/keepalived', '-f', KA, '-D'];
  return {
    hostname: name,
    os: 'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"',
    unit: 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\nMainPID=0',
    procs: [
      { pid: 57266, ppid: 1, exe: '/data/apps/keepalived/sbin/keepalived', argv },
      { pid: 57267, ppid: 57266, exe: '/data/apps/keepalived/sbin/keepalived', argv },
    ],
    bins: { '/data/apps/keepalived/sbin/keepalived': VERSION_004 },
    files: {
      [KA]: fixture(master ? '004-keepmaster.conf' : '004-keepbackup.conf'),
      '/data/apps/keepalived/chk_nginx.sh': fixture('004-chk_nginx.sh'),
    },
    own: master ? '172.16.70.181' : '172.16.70.182',
    holds: [master ? '172.16.70.183' : '172.16.70.184'],
    services: 'keepalived unknown\nnginx active',
    nginx: {
      rc: 0,
      out: nginxDump([
        ['/etc/nginx/nginx.conf', fixture('nginx-org-nginx.conf')],
        ['/etc/nginx/conf.d/web.conf', fixture('004-web.conf')],
      ]),
      err:
        'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n' +
        'nginx: configuration file /etc/nginx/nginx.conf test is successful\n',
    },
  };
}
