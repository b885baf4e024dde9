/**
 * keepalived's command line as its getopt_long() reads it (keepalived 1.3.5 and 2.x core/main.c), and the systemd
 * unit / environment files that build it: which configuration file keepalived reads (`-f`), its log facility
 * (`-S`), `-D`, its config id (`-i`).
 */

export interface DaemonOptions {
  /** the argv after the program name */
  argv: string[];
  /** -f / --use-file (exactly as keepalived gets it: `-f=/x` gives "=/x") */
  useFile?: string;
  /** -D / --log-detail */
  logDetail: boolean;
  /** -S / --log-facility as keepalived reads it: 0..7 for local0..local7, or a name (daemon, user...) */
  logFacility?: number | string;
  logFacilityRaw?: string;
  /** -i / --config-id */
  configId?: string;
  /** what keepalived would do with the options that matter here */
  notes: string[];
  /** the other options given (as -X or --name[=value]) */
  other: string[];
}

interface LongOpt {
  name: string;
  short: string;
  arg: 'none' | 'required' | 'optional';
}

const LONG_1X: LongOpt[] = [
  ['use-file', 'f', 'required'],
  ['vrrp', 'P', 'none'],
  ['check', 'C', 'none'],
  ['log-console', 'l', 'none'],
  ['log-detail', 'D', 'none'],
  ['log-facility', 'S', 'required'],
  ['release-vips', 'X', 'none'],
  ['dont-release-vrrp', 'V', 'none'],
  ['dont-release-ipvs', 'I', 'none'],
  ['dont-respawn', 'R', 'none'],
  ['dont-fork', 'n', 'none'],
  ['dump-conf', 'd', 'none'],
  ['pid', 'p', 'required'],
  ['vrrp_pid', 'r', 'required'],
  ['checkers_pid', 'c', 'required'],
  ['address-monitoring', 'a', 'none'],
  ['snmp', 'x', 'none'],
  ['snmp-agent-socket', 'A', 'required'],
  ['core-dump', 'm', 'none'],
  ['core-dump-pattern', 'M', 'optional'],
  ['mem-check-log', 'L', 'none'],
  ['namespace', 's', 'required'],
  ['config-id', 'i', 'required'],
  ['version', 'v', 'none'],
  ['help', 'h', 'none'],
].map(([name, short, arg]) => ({ name, short, arg }) as LongOpt);

const LONG_2X: LongOpt[] = [
  ...LONG_1X,
  ...[
    ['no_bfd', 'B', 'none'],
    ['all', '', 'none'],
    ['log-file', 'g', 'optional'],
    ['all-config', 'e', 'none'],
    ['flush-log-file', '', 'none'],
    ['no-syslog', 'G', 'none'],
    ['umask', 'u', 'required'],
    ['genhash', 'T', 'none'],
    ['bfd_pid', 'b', 'required'],
    ['no-mem-check', '', 'none'],
    ['signum', '', 'required'],
    ['config-test', 't', 'optional'],
    ['config-fd', '', 'required'],
    ['perf', '', 'optional'],
    ['debug', '', 'optional'],
  ].map(([name, short, arg]) => ({ name, short, arg }) as LongOpt),
];

/** short options taking an argument (`:`) or an optional one (`::`), from getopt_long's option strings */
const SHORT_1X = 'vhlndDRS:f:p:i:mMPCr:VXIc:axA:Ls:';
const SHORT_2X = 'vhlndu:DRS:f:p:i:es:mM::g::Gt::PCr:VXIc:aTb:BxA:L';

function shortArg(spec: string, c: string): 'none' | 'required' | 'optional' | null {
  const i = spec.indexOf(c);
  if (i < 0 || c === ':') return null;
  if (spec[i + 1] !== ':') return 'none';
  return spec[i + 2] === ':' ? 'optional' : 'required';
}

const FACILITIES = ['local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];

/** parse keepalived's argv (without argv[0]) as getopt_long() with keepalived's options does */
export function parseDaemonArgs(argv: string[], major: 1 | 2 = 2): DaemonOptions {
  const longs = major === 1 ? LONG_1X : LONG_2X;
  const shorts = major === 1 ? SHORT_1X : SHORT_2X;
  const o: DaemonOptions = { argv, logDetail: false, notes: [], other: [] };
  const set = (c: string, val: string | undefined, shown: string) => {
    if (c.length !== 1 || !'DfiSn'.includes(c)) o.other.push(shown);
    applyOption(o, c, val, major);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a.startsWith('--')) {
      const [name, eq] = splitEq(a.slice(2));
      const hits = longs.filter((l) => l.name === name || l.name.startsWith(name));
      const exact = hits.find((l) => l.name === name);
      const opt = exact ?? (hits.length === 1 ? hits[0] : null);
      if (!opt) {
        o.notes.push(`${a}: ${hits.length ? 'ambiguous' : 'unknown'} option (keepalived refuses it)`);
        continue;
      }
      let val = eq;
      if (opt.arg === 'required' && val === undefined) val = argv[++i];
      set(opt.short || opt.name, val, opt.arg === 'required' && eq === undefined ? `${a} ${val ?? ''}`.trim() : a);
      continue;
    }
    if (!a.startsWith('-') || a === '-') continue;
    for (let j = 1; j < a.length; j++) {
      const kind = shortArg(shorts, a[j]);
      if (kind === null) {
        o.notes.push(`-${a[j]}: unknown option (keepalived refuses it)`);
        continue;
      }
      if (kind === 'none') {
        set(a[j], undefined, `-${a[j]}`);
        continue;
      }
      let val: string | undefined = a.slice(j + 1);
      if (!val) val = kind === 'required' ? argv[++i] : undefined;
      set(a[j], val, `-${a[j]}${val === undefined ? '' : ` ${val}`}`);
      break;
    }
  }
  return o;
}

function splitEq(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function applyOption(o: DaemonOptions, c: string, val: string | undefined, major: 1 | 2): void {
  if (c === 'D') o.logDetail = true;
  else if (c === 'f' && val !== undefined) {
    o.useFile = val;
    if (val.startsWith('='))
      o.notes.push(`-f${val}: keepalived takes "${val}" (with its "=") as the file name; -f ${val.slice(1)} was meant`);
  } else if (c === 'i' && val !== undefined) o.configId = val;
  else if (c === 'S' && val !== undefined) {
    o.logFacilityRaw = val;
    o.logFacility = facilityOf(val, major, o.notes);
  }
}

/** -S as keepalived reads it: 1.3.5 atoi() (so "local4" is 0!), 2.x a number 0..7, localN, or a facility name */
function facilityOf(val: string, major: 1 | 2, notes: string[]): number | string | undefined {
  if (major === 1) {
    const m = /^\s*([+-]?\d+)/.exec(val);
    const n = m ? Number(m[1]) : 0;
    if (!/^\d+$/.test(val)) notes.push(`-S ${val}: keepalived 1.x reads it with atoi(): facility local${n}`);
    return n >= 0 && n <= 7 ? n : undefined;
  }
  if (/^\d+$/.test(val) && Number(val) <= 7) return Number(val);
  const m = /^local(\d+)$/.exec(val);
  if (m && Number(m[1]) <= 7) return Number(m[1]);
  const names = ['auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp'];
  if (names.includes(val)) return val;
  notes.push(`-S ${val}: keepalived 2.x refuses this log facility`);
  return undefined;
}

export function facilityName(f: number | string | undefined): string | undefined {
  return typeof f === 'number' ? FACILITIES[f] : f;
}

/**
 * systemd's ExecStart argv from `systemctl show -p ExecStart` ("{ path=... ; argv[]=... ; ... }"), with $VAR
 * (split at white space) and ${VAR} (one word) replaced from the unit's environment
 */
export function execStartArgv(show: string, env: Record<string, string>): string[] | null {
  const m = /argv\[\]=(.*?) ; (?:ignore_errors|start_time|stop_time|pid|code|status|flags)=/.exec(show);
  if (!m) return null;
  const words = m[1].split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (const w of words) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (whole) {
      out.push(...(env[whole[1]] ?? '').split(/\s+/).filter(Boolean));
      continue;
    }
    out.push(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => env[n] ?? ''));
  }
  return out;
}

/** a systemd EnvironmentFile= (KEY=VALUE lines, quotes removed, # and ; comments, \ continuations) */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.replace(/\\\n/g, '').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    env[m[1]] = unquoteEnv(m[2]);
  }
  return env;
}

function unquoteEnv(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '"' || c === "'") {
      const end = v.indexOf(c, i + 1);
      if (end < 0) return out + v.slice(i + 1);
      out += v.slice(i + 1, end);
      i = end;
    } else if (c === '#' && (i === 0 || /\s/.test(v[i - 1]))) break;
    else out += c;
  }
  return out.trim();
}

/** `Environment=A=1 "B=x y"` of `systemctl show` */
export function parseEnvironmentProperty(value: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of value.matchAll(/"([^"]*)"|(\S+)/g)) {
    const kv = m[1] ?? m[2];
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}
