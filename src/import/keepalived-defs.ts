/**
 * keepalived 2.x parameter definitions, ported from lib/parser.c: `$NAME=value` (a final `\` continues it on the next
 * lines: a multiline definition), `$NAME` / `${NAME}` substitution, the standard definitions (_PWD, _INSTANCE,
 * _RANDOM, _HASH, _BANG), and the line generators `~SEQ(var, [start, [step,]] end) text` and
 * `~LST(var|{a,b}, value|{v1,v2}, ...) text`.
 */

export interface Definition {
  name: string;
  value: string;
  multiline: boolean;
  /** a standard definition computed when used */
  fn?: 'pwd' | 'instance' | 'random';
  maxParams: number;
}

export interface LineGenerator {
  /** ~SEQ: one variable; ~LST: one or more */
  vars: string[];
  /** the values still to generate, one set per line */
  values: string[][];
  text: string;
}

/** C's strtol(s, &end, 0) */
export function strtol0(s: string, from: number): { value: number; end: number } {
  let i = from;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i])) i++;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') sign = s[i++] === '-' ? -1 : 1;
  let base = 10;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (s[i] === '0') base = 8;
  const digits = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
  const start = i;
  while (i < s.length && digits.test(s[i])) i++;
  if (i === start) return { value: 0, end: from };
  return { value: sign * parseInt(s.slice(start, i), base), end: i };
}

const isAlpha = (c: string | undefined): boolean => !!c && /[A-Za-z]/.test(c);
const isNameChar = (c: string | undefined): boolean => !!c && /[A-Za-z0-9_]/.test(c);

export function standardDefinitions(): Map<string, Definition> {
  const m = new Map<string, Definition>();
  const add = (name: string, value: string, fn?: Definition['fn'], maxParams = 0) =>
    m.set(name, { name, value, multiline: false, fn, maxParams });
  add('_PWD', '', 'pwd');
  add('_INSTANCE', '', 'instance');
  add('_RANDOM', '', 'random', 2);
  add('_HASH', '#');
  add('_BANG', '!');
  return m;
}

/**
 * check_definition(): `$NAME=value` (NAME: a letter or _ then letters, digits, _; no blank before `=`). Returns the
 * definition (value without its final `\` when multiline) or null when the line is not a definition.
 */
export function parseDefinition(buf: string): { name: string; value: string; multiline: boolean } | null {
  if (buf[0] !== '$' || !(isAlpha(buf[1]) || buf[1] === '_')) return null;
  let p = 2;
  while (p < buf.length && buf[p] !== '=') {
    if (!isNameChar(buf[p])) return null;
    p++;
  }
  if (buf[p] !== '=') return null;
  const name = buf.slice(1, p);
  p++;
  while (p < buf.length && (buf[p] === ' ' || buf[p] === '\t')) p++;
  let value = buf.slice(p);
  if (value.endsWith('\\')) {
    value = value.slice(0, -1).replace(/[ \t]+$/, '');
    return { name, value: value ? `${value}\n` : '', multiline: true };
  }
  return { name, value, multiline: false };
}

/** a use of a definition at buf[start] (just after `$`): find_definition(name, 0, false) */
export function definitionUse(
  buf: string,
  start: number,
  defs: Map<string, Definition>,
): { def: Definition; length: number; params: string | null } | null {
  let p = start;
  const braces = buf[p] === '{';
  if (braces) p++;
  if (!(isAlpha(buf[p]) || buf[p] === '_')) return null;
  const nameStart = p;
  while (isNameChar(buf[p])) p++;
  const name = buf.slice(nameStart, p);
  let params: string | null = null;
  if (braces) {
    const ps = p;
    while (p < buf.length && (buf[p] === ' ' || /[0-9]/.test(buf[p]))) p++;
    const raw = buf.slice(ps, p);
    if (raw.trim()) {
      if (raw.endsWith(' ')) return null;
      params = raw.trim();
    }
    if (buf[p] !== '}') return null;
  } else if (p < buf.length && !' \t,)'.includes(buf[p])) return null;
  const end = braces ? p + 1 : p;
  const allowMultiline = end === buf.length && params === null;
  const def = defs.get(name);
  if (!def || (def.multiline && !allowMultiline)) return null;
  if (params !== null && !def.maxParams) return null;
  return { def, length: end - start, params };
}

/** `~SEQ(...)` -> its generator, or an error message */
export function parseSeq(buf: string, replace: (s: string) => string): LineGenerator | string {
  let p = 4;
  const hex = buf[p] === 'x';
  if (hex) p++;
  p = skipBlanks(buf, p);
  if (buf[p++] !== '(') return `invalid ~SEQ specification '${buf}'`;
  p = skipBlanks(buf, p);
  const varStart = p;
  while (p < buf.length && !' \t,)'.includes(buf[p])) p++;
  const name = buf.slice(varStart, p);
  p = skipBlanks(buf, p);
  if (p >= buf.length || buf[p] === ')' || !name) return `invalid ~SEQ definition '${buf}'`;
  p = skipBlanks(buf, p + 1);
  const close = buf.indexOf(')', p);
  if (close < 0) return `invalid ~SEQ definition '${buf}' (no ')')`;
  const nums = replace(buf.slice(p, close + 1));
  const r = seqNumbers(nums);
  if (typeof r === 'string') return `${r} '${buf}'`;
  if (hex && (r.start < 0 || r.end < 0)) return `~SEQx is only valid for positive numbers '${buf}'`;
  const values: string[][] = [];
  for (let n = r.start; r.step > 0 ? n <= r.end : n >= r.end; n += r.step) {
    values.push([hex ? n.toString(16) : String(n)]);
    if (values.length > 10_000) return `~SEQ generates more than 10000 lines '${buf}'`;
  }
  return { vars: [name], values, text: buf.slice(skipBlanks(buf, close + 1)) };
}

function seqNumbers(s: string): { start: number; step: number; end: number } | string {
  const one = strtol0(s, 0);
  let p = skipBlanks(s, one.end);
  if (s[p] === ')') return { end: one.value, step: one.value < 1 ? -1 : 1, start: one.value < 0 ? -1 : 1 };
  if (s[p] !== ',') return 'invalid ~SEQ definition';
  const two = strtol0(s, p + 1);
  p = skipBlanks(s, two.end);
  if (s[p] === ')') return { start: one.value, end: two.value, step: one.value <= two.value ? 1 : -1 };
  if (s[p] !== ',') return 'invalid ~SEQ definition';
  const three = strtol0(s, p + 1);
  p = skipBlanks(s, three.end);
  if (s[p] !== ')') return 'invalid ~SEQ definition';
  const [start, step, end] = [one.value, two.value, three.value];
  if (!step || (start < end && step < 0) || (start > end && step > 0)) return 'invalid ~SEQ values';
  return { start, step, end };
}

/** `~LST(...)` -> its generator, or an error message */
export function parseLst(buf: string): LineGenerator | string {
  const bad = `invalid ~LST specification '${buf}'`;
  let p = skipBlanks(buf, 4);
  if (buf[p++] !== '(') return bad;
  p = skipBlanks(buf, p);
  const names = readSet(buf, p, ' \t,}');
  if (!names) return bad;
  p = names.end;
  if (buf[p++] !== ',') return bad;
  p = skipBlanks(buf, p);
  const values: string[][] = [];
  for (;;) {
    const set = readSet(buf, p, ' \t,})');
    if (!set) return bad;
    if (set.items.length > names.items.length) return `~LST specification has too many values '${buf}'`;
    while (set.items.length < names.items.length) set.items.push('');
    values.push(set.items);
    p = set.end;
    if (buf[p] === ')') break;
    if (buf[p] !== ',') return bad;
    p = skipBlanks(buf, p + 1);
  }
  if (!names.items.length || !values.length) return bad;
  return { vars: names.items, values, text: buf.slice(skipBlanks(buf, p + 1)) };
}

/** one name/value, or a `{a, b}` set of them; `end` is just after it (and blanks) */
function readSet(buf: string, p: number, stops: string): { items: string[]; end: number } | null {
  const items: string[] = [];
  if (buf[p] !== '{') {
    const s = p;
    while (p < buf.length && !stops.includes(buf[p])) p++;
    items.push(buf.slice(s, p));
    return { items, end: skipBlanks(buf, p) };
  }
  p = skipBlanks(buf, p + 1);
  for (;;) {
    const s = p;
    while (p < buf.length && !' \t,})'.includes(buf[p])) p++;
    items.push(buf.slice(s, p));
    p = skipBlanks(buf, p);
    if (buf[p] === '}') return { items, end: skipBlanks(buf, p + 1) };
    if (buf[p] !== ',') return null;
    p = skipBlanks(buf, p + 1);
  }
}

function skipBlanks(s: string, p: number): number {
  while (p < s.length && (s[p] === ' ' || s[p] === '\t')) p++;
  return p;
}
