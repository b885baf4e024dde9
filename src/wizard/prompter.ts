/**
 * How the wizard asks: the Prompter it is given (@inquirer/prompts on the terminal, a scripted one in tests), the
 * validators every answer goes through (the same rules as the answers file), and the last question before init
 * applies anything (confirmApply).
 */
import {
  ABS_PATH_RE,
  AUTH_PASS_RE,
  AUTH_PASS_RULE,
  IFACE_RE,
  LOCAL_PATH_RE,
  NAME_RE,
  URL_RE,
  USER_RE,
  isBackend,
  isHostAddress,
  parseCidr,
} from '../answers/schema.js';

export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

export type Validate = (v: string) => true | string | Promise<true | string>;

export interface Prompter {
  input(q: { message: string; default?: string; validate?: Validate }): Promise<string>;
  password(q: { message: string; validate?: Validate }): Promise<string>;
  select<T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
}

export async function inquirerPrompter(): Promise<Prompter> {
  const p = await import('@inquirer/prompts');
  // questions are messages, not results: they go to the terminal on stderr, so stdout stays clean for plans/JSON
  const ctx = { input: process.stdin, output: process.stderr };
  return {
    input: (q) => p.input({ message: q.message, default: q.default, validate: q.validate }, ctx),
    password: (q) => p.password({ message: q.message, mask: '*', validate: q.validate }, ctx),
    select: <T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }) =>
      p.select<T>({ message: q.message, choices: q.choices, default: q.default, pageSize: 12 }, ctx),
    confirm: (q) => p.confirm({ message: q.message, default: q.default }, ctx),
  };
}

const rx = (re: RegExp, msg: string) => (v: string) => (re.test(v.trim()) ? true : msg);
export const intIn = (lo: number, hi: number, what: string) => (v: string) =>
  /^\d+$/.test(v.trim()) && Number(v) >= lo && Number(v) <= hi ? true : `${what} must be a whole number ${lo}..${hi}`;

export const validators = {
  host: (v: string) => (isHostAddress(v.trim()) ? true : 'an IPv4 address or a DNS name / ssh config alias'),
  name: rx(NAME_RE, '1-63 characters of A-Z a-z 0-9 _ . -'),
  user: rx(USER_RE, 'a plain user name (a-z 0-9 _ -)'),
  iface: rx(IFACE_RE, 'a plain Linux interface name: 1-15 characters of A-Z a-z 0-9 _ . - (no spaces, quotes, ; or $)'),
  priority: intIn(1, 254, 'priority'),
  vrid: intIn(1, 255, 'virtual router id'),
  port: intIn(1, 65535, 'port'),
  vips: (v: string) => {
    const parts = v.split(/[\s,]+/).filter(Boolean);
    if (!parts.length) return 'at least one VIP, e.g. 172.16.70.183/24';
    const bad = parts.find((p) => !parseCidr(p));
    return bad ? `${bad} is not an IPv4 or IPv6 address with an optional /prefix` : true;
  },
  /** an IPv6 VIP as typed: an IPv6 address with an optional /prefix (where it may go: network6.ts) */
  vip6: (v: string) => {
    const t = v.trim();
    const c = parseCidr(t);
    if (!c) return `IPv6 VIP: "${t}" is not an IPv6 address; give x:y::z with an optional /prefix`;
    return c.family === 6 ? true : `IPv6 VIP: ${c.address} is an IPv4 address; give an IPv6 address (x:y::z)`;
  },
  authPass: (v: string) => (v === '' || AUTH_PASS_RE.test(v) ? true : AUTH_PASS_RULE),
  url: (v: string) => (v === '' || URL_RE.test(v) ? true : 'an http(s) URL without quotes or spaces, or empty'),
  path: rx(ABS_PATH_RE, 'an absolute path of safe characters'),
  localPath: rx(LOCAL_PATH_RE, 'a file path of safe characters (~/ allowed)'),
  backends: (v: string) => {
    const parts = v.split(/[\s,]+/).filter(Boolean);
    const bad = parts.find((p) => !isBackend(p));
    return bad ? `${bad} is not HOST or HOST:PORT (an IPv4 address or a DNS name)` : true;
  },
};

export async function confirmApply(p: Prompter, message: string): Promise<boolean> {
  return p.confirm({ message, default: false });
}
