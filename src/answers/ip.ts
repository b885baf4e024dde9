/**
 * IPv4 and IPv6 addresses as the answers, the facts and the reports compare them: one canonical text per address
 * (RFC 5952 for IPv6: lower case, the longest run of zero groups as ::), prefixes, subnets, and how a URL or an
 * nginx `listen` names an address of either family.
 */
export type Family = 4 | 6;

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => String(Number(o)) === o && Number(o) <= 255);
}

/** the eight 16-bit groups of an IPv6 address (an embedded IPv4 tail too); null when it is not one */
function groups6(s: string): number[] | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45 || !s.includes(':')) return null;
  let text = s;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    if (!isIPv4(v4[1])) return null;
    const o = v4[1].split('.').map(Number);
    const hex = (a: number, b: number) => (a * 256 + b).toString(16);
    text = `${text.slice(0, text.length - v4[1].length)}${hex(o[0], o[1])}:${hex(o[2], o[3])}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = part(halves[0]);
  const rest = halves.length === 2 ? part(halves[1]) : [];
  if ([...head, ...rest].some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return null;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  const zeros = new Array<string>(8 - known).fill('0');
  return [...head, ...zeros, ...rest].map((g) => parseInt(g, 16));
}

export function isIPv6(s: string): boolean {
  return groups6(s) !== null;
}

/** RFC 5952 text of an IPv6 address (the input when it is not one) */
export function canonicalIPv6(s: string): string {
  const g = groups6(s);
  if (!g) return s;
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** the address as ha-setup compares it (IPv6 canonical), or null when it is neither family */
export function canonicalIP(s: string): string | null {
  if (isIPv4(s)) return s;
  return isIPv6(s) ? canonicalIPv6(s) : null;
}

export function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

/** "a.b.c.d/len" or "x:y::z/len" (len optional: /32, /128); the address canonical */
export function parseCidr(s: string): { address: string; prefix: number; family: Family } | null {
  const [raw, len, extra] = s.split('/');
  if (extra !== undefined) return null;
  const address = canonicalIP(raw);
  if (!address) return null;
  const family = familyOf(address);
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return null;
  return { address, prefix: Number(len), family };
}

function bits(address: string): bigint {
  if (isIPv4(address)) return address.split('.').reduce((n, o) => n * 256n + BigInt(o), 0n);
  return (groups6(address) ?? []).reduce((n, g) => n * 65536n + BigInt(g), 0n);
}

/** a and b in one subnet of `prefix` bits (both of one family) */
export function sameSubnet(a: string, b: string, prefix: number): boolean {
  if (familyOf(a) !== familyOf(b)) return false;
  const width = familyOf(a) === 4 ? 32 : 128;
  const shift = BigInt(width - prefix);
  return bits(a) >> shift === bits(b) >> shift;
}

/** the address as it goes in a URL's host or an nginx listen: IPv6 in brackets (anything else as it is) */
export function hostForUrl(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

/** an IPv6 link-local address (fe80::/10): where VRRPv3 adverts over IPv6 come from */
export function isLinkLocal6(address: string): boolean {
  const g = groups6(address);
  return !!g && (g[0] & 0xffc0) === 0xfe80;
}
