/**
 * A host as `ha-setup import` reads it (import/collect.ts): what its main script and its read script print for a
 * host described by its processes, keepalived binaries, files, addresses and nginx -T, in the scripts' formats
 * ("@@name" sections, "@file <base64 path> <mode> <kind>" entries). The guides' 004 pair is built from captured
 * fixtures (test/fixtures/import).
 */
import { mainScript, readScript } from '../../src/import/collect.js';
import { fixture, nginxDump } from '../fixtures/import/hosts.js';

export interface ImportHost {
  hostname: string;
  os: string;
  unit?: string;
  procs?: { pid: number; ppid: number; exe: string; argv: string[] }[];
  bins: Record<string, string>;
  envfiles?: Record<string, string>;
  /** the host's files (configurations, scripts) */
  files: Record<string, string>;
  own: string;
  holds?: string[];
  services?: string;
  nginx?: { rc: number; out: string; err: string } | null;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** one "@file" entry as the scripts print it */
export const fileEntry = (path: string, text: string | null, mode = '644', kind = 'file') =>
  text === null ? `@file ${b64(path)} - missing\n\n` : `@file ${b64(path)} ${mode} ${kind}\n${b64(text)}\n`;

/** a file entry and, like the scripts' scripts_of(), the scripts it names that exist on the host */
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

/** what the main script prints on such a host */
export function mainOutput(h: ImportHost): string {
  const procs = (h.procs ?? [])
    .map((p) => `${p.pid} ${p.ppid} ${b64(p.exe)} ${b64(`${p.argv.join('\0')}\0`)}`)
    .join('\n');
  const bins = Object.entries(h.bins)
    .map(([b, v]) => `@bin ${b64(b)}\n${v}`)
    .join('');
  const env = Object.entries(h.envfiles ?? {})
    .map(([p, t]) => fileEntry(p, t))
    .join('');
  const candidates = ['/etc/keepalived/keepalived.conf', '/usr/local/etc/keepalived/keepalived.conf'];
  const words = [
    ...(h.procs ?? []).flatMap((p) => p.argv),
    ...Object.values(h.envfiles ?? {}).flatMap((t) => t.replace(/"/g, '').split(/\s+/)),
  ];
  const cmdF = words.filter((_, i) => words[i - 1] === '-f');
  const confs = [...new Set([...cmdF, ...candidates])].map((p) => conf(h, p)).join('');
  const nginx = h.nginx
    ? `rc ${h.nginx.rc}\nbin ${b64('/usr/sbin/nginx')}\nout ${b64(h.nginx.out)}\nerr ${b64(h.nginx.err)}\n`
    : 'none\n';
  return (
    `@@hostname\n${h.hostname}\n@@os\n${h.os}\n@@unit\n${h.unit ?? ''}\n@@procs\n${procs}\n@@version\n${bins}` +
    `@@envfiles\n${env}@@conf\n${confs}@@links\n${LINKS}\n` +
    `@@addrs\n${addrs(h.own, h.holds ?? [])}\n` +
    `@@services\n${h.services ?? 'keepalived active\nnginx active'}\n@@nginx\n${nginx}@@end\n`
  );
}

/** what the read script prints for DIR PATTERN pairs: the host's files matching each glob */
export function readOutput(h: ImportHost, args: readonly string[]): string {
  let out = '';
  for (let i = 0; i + 1 < args.length; i += 2) {
    const [dir, pat] = [args[i], args[i + 1]];
    out += `@@glob ${b64(dir)} ${b64(pat)}\n`;
    const abs = pat.startsWith('/') ? pat : `${dir}/${pat}`.replace(/\/[^/]+\/\.\.\//g, '/');
    const re = new RegExp(`^${abs.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    for (const p of Object.keys(h.files).sort()) if (re.test(p)) out += conf(h, p);
  }
  return `${out}@@end\n`;
}

/** what the host prints for one of import's scripts (null: not an import script) */
export function importAnswer(h: ImportHost, script: string, args: readonly string[]): string | null {
  if (script === mainScript()) return mainOutput(h);
  if (script === readScript()) return readOutput(h, args);
  return null;
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
