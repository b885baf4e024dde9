/**
 * The time of a log line as the host wrote it: RFC 3339 / ISO 8601 stamps (rsyslog's high-precision format,
 * journalctl -o short-iso: "2026-12-06T15:15:20.123456+00:00", "2026-12-06T15:15:20+0000") and the traditional
 * syslog stamp ("Dec  6 15:15:20": no year, no zone, the day padded with a space). A traditional stamp is read in
 * the host's zone (its UTC offset, `date +%z`) and in the year that puts it at or before the host's clock: on
 * 1 January "Dec 31 23:59:50" is last year's.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "+0100" / "-05:30" / "Z" -> minutes east of UTC; null when it is none of them */
export function offsetMinutes(z: string): number | null {
  if (z === 'Z') return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(z);
  if (!m) return null;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

const ISO_RE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)(?=\s|$)/;
const TRAD_RE = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?=\s|$)/;

/**
 * The epoch seconds of `line`'s leading stamp and the rest of the line after it, or null when it has none.
 * `nowS` and `hostOffsetMin` are the host's clock and zone when the lines were read.
 */
export function parseLogStamp(line: string, nowS: number, hostOffsetMin: number): { at: number; rest: string } | null {
  const iso = ISO_RE.exec(line);
  if (iso) {
    const off = offsetMinutes(iso[8]);
    if (off === null) return null;
    const [y, mo, d, h, mi, s] = iso.slice(1, 7).map(Number);
    const frac = iso[7] ? Number(`0.${iso[7]}`) : 0;
    const at = Date.UTC(y, mo - 1, d, h, mi, s) / 1000 + frac - off * 60;
    return Number.isFinite(at) ? { at, rest: line.slice(iso[0].length).trimStart() } : null;
  }
  const t = TRAD_RE.exec(line);
  if (!t) return null;
  const month = MONTHS.indexOf(t[1]);
  if (month < 0) return null;
  const [day, h, mi, s] = t.slice(2, 6).map(Number);
  // the host's local year now; a stamp later than the host's clock (beyond a day of skew) is from the year before
  const localNow = new Date((nowS + hostOffsetMin * 60) * 1000);
  const at = (year: number) => Date.UTC(year, month, day, h, mi, s) / 1000 - hostOffsetMin * 60;
  let year = localNow.getUTCFullYear();
  if (at(year) > nowS + 86_400) year -= 1;
  return { at: at(year), rest: line.slice(t[0].length).trimStart() };
}
