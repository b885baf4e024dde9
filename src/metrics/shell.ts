/** Quoting and validation shared by the metrics templates: every rendered value is checked, then quoted. */
import { canonicalIPv6, isIPv6 } from '../answers/ip.js';

/**
 * node, instance and sync-group names: the only characters a name may have in a label, a path or JSON (what the
 * answers allow an instance's name: answers/schema.ts INSTANCE_RE)
 */
export const METRICS_NAME_RE = /^[A-Za-z0-9_.:@+,=%^~-]{1,63}$/;
/** an absolute path of safe characters (rendered into shell scripts and systemd units) */
export const METRICS_PATH_RE = /^\/(?:[A-Za-z0-9_.@+-]+\/?)*$/;
/** a PATH value: absolute directories separated by colons */
const SEARCH_PATH_RE = /^\/[A-Za-z0-9_.@+/-]*(?::\/[A-Za-z0-9_.@+/-]*)*$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IFACE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
/** a webhook URL: http(s), no quotes, backslashes, spaces or control characters (it goes into a curl config) */
export const URL_RE = /^https?:\/\/[A-Za-z0-9.:[\]-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~%!$&()*+,;=:@/?#-]*)?$/;
const FACILITY_RE = /^(?:local[0-7]|daemon|user|syslog|auth|authpriv)$/;

/** a string as one single-quoted shell word */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** a label value in the Prometheus text format: backslash, double quote and newline escaped */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `a="x",b="y"` in the given order */
export function labels(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
}

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`metrics: invalid ${what}: ${JSON.stringify(value)}`);
}

export function checkName(what: string, v: string): string {
  check(METRICS_NAME_RE.test(v), `${what} (A-Z a-z 0-9 _ . : @ + , = % ^ ~ -, 1-63 characters)`, v);
  return v;
}

export function checkPath(what: string, v: string): string {
  check(METRICS_PATH_RE.test(v) && !/(^|\/)\.\.(\/|$)/.test(v), `${what} (an absolute path)`, v);
  return v;
}

export function checkSearchPath(v: string): string {
  check(SEARCH_PATH_RE.test(v), 'PATH (absolute directories separated by :)', v);
  return v;
}

export function checkInt(what: string, v: number, min: number, max: number): number {
  check(Number.isInteger(v) && v >= min && v <= max, `${what} (a whole number ${min}..${max})`, v);
  return v;
}

/** an IPv4 or IPv6 VIP, with or without its /prefix: the address alone (IPv6 as `ip addr` prints it) */
export function vipAddress(v: string): string {
  const [raw, prefix, extra] = v.split('/');
  const address = IPV4_RE.test(raw) ? raw : isIPv6(raw) ? canonicalIPv6(raw) : null;
  const max = address?.includes(':') ? 128 : 32;
  const okPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
  check(address !== null && extra === undefined && okPrefix, 'VIP (IPv4 or IPv6 address)', v);
  return address!;
}

export function checkIface(v: string): string {
  check(IFACE_RE.test(v), 'interface name', v);
  return v;
}

export function checkFacility(v: string): string {
  check(FACILITY_RE.test(v), 'syslog facility', v);
  return v;
}

/** the PATH the scripts run with: the usual system directories */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
