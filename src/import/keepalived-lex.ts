/**
 * keepalived's line reading rules, ported from its lib/parser.c so that a configuration is read the way the running
 * daemon read it: 1.x (read_line + alloc_strvec of 1.3.5) and 2.x (decomment + alloc_strvec_r of 2.2.x).
 *
 * 1.x: a line whose first non-blank character is `!` or `#` is a comment; otherwise words are split at blanks, a
 * `"..."` word keeps its blanks (no escapes), and an unquoted `!` or `#` ends the line even when glued to a word.
 * Braces are not split from words: `{` opens a block only as the last word of a line, `}` closes one only as the
 * first word.
 * 2.x: `!` or `#` outside double quotes starts a comment anywhere (`\#`, `\!` escape them); the line is trimmed; the
 * first `{` or `}` outside quotes splits the line (what follows is read as the next line), so braces may be glued to
 * words; words are split at blanks, `"..."` is one word.
 */

/** C's isspace() in the C locale */
export const C_SPACE = ' \t\n\v\f\r';
const BLANK = ' \t';

export function isCSpace(c: string | undefined): boolean {
  return c !== undefined && c !== '' && C_SPACE.includes(c);
}

/** keepalived 1.3.5 alloc_strvec(): the words of a line, comments removed ([] for a blank or comment line) */
export function tokens1x(line: string): { words: string[]; unmatchedQuote: boolean } {
  const words: string[] = [];
  let i = 0;
  while (i < line.length && isCSpace(line[i])) i++;
  if (i >= line.length || line[i] === '!' || line[i] === '#') return { words, unmatchedQuote: false };
  for (;;) {
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) return { words, unmatchedQuote: true };
      words.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < line.length && !isCSpace(line[i]) && !'"!#'.includes(line[i])) i++;
      words.push(line.slice(start, i));
    }
    while (i < line.length && isCSpace(line[i])) i++;
    if (i >= line.length || line[i] === '!' || line[i] === '#') return { words, unmatchedQuote: false };
  }
}

/**
 * keepalived 2.x decomment(): leading blanks and comments removed (`!`/`#` outside double quotes), `\#` and `\!`
 * unescaped outside quotes, trailing blanks removed; a final `\` is kept (continuation of a $DEFINITION)
 */
export function decomment2x(raw: string): { text: string; unterminatedQuote: boolean } {
  let s = raw.replace(/^[ \t]+/, '');
  let quote = false;
  let cont = false;
  let skip = -1;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      if (skip < 0) quote = !quote;
      i++;
    } else if (c === '\\') {
      if (i + 1 < s.length) {
        if (!quote && (s[i + 1] === '#' || s[i + 1] === '!')) {
          s = s.slice(0, i) + s.slice(i + 1);
          i++;
        } else i += 2;
      } else {
        s = s.slice(0, i);
        cont = true;
        break;
      }
    } else {
      if (!quote && skip < 0 && (c === '!' || c === '#')) skip = i;
      i++;
    }
  }
  if (skip >= 0) s = s.slice(0, skip);
  s = s.replace(/[ \t]+$/, '');
  if (cont) s += '\\';
  return { text: s, unterminatedQuote: quote };
}

/** keepalived 2.x alloc_strvec_r(): words split at C blanks, `"..."` one word without its quotes */
export function tokens2x(line: string): { words: string[]; unmatchedQuote: boolean } {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isCSpace(line[i])) i++;
    if (i >= line.length) return { words, unmatchedQuote: false };
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) return { words, unmatchedQuote: true };
      words.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < line.length && !isCSpace(line[i]) && line[i] !== '"') i++;
      words.push(line.slice(start, i));
    }
  }
}

/**
 * keepalived 2.x: the first `{` or `}` outside double quotes splits a line. Returns the part read now and the rest
 * read as the next line (null when nothing is left).
 */
export function splitBrace2x(buf: string): { now: string; rest: string | null } {
  let p = 0;
  if (buf[0] !== '{' && buf[0] !== '}') {
    p = -1;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === '"') {
        const close = buf.indexOf('"', i + 1);
        if (close < 0) break;
        i = close;
      } else if (c === '{' || c === '}') {
        p = i;
        break;
      }
    }
  }
  if (p < 0) return { now: trimEnd(buf), rest: null };
  let skip = 0;
  if (p === 0) {
    skip = 1;
    while (skip < buf.length && BLANK.includes(buf[skip])) skip++;
  }
  const restRaw = buf.slice(p + skip);
  const now = trimEnd(buf.slice(0, p + skip));
  const rest = trimEnd(restRaw);
  return { now, rest: restRaw.length ? rest : null };
}

function trimEnd(s: string): string {
  return s.replace(/[ \t]+$/, '');
}

/**
 * keepalived 2.x is_include(): `include`, or `includer|m|w|b|a`, followed by white space; the rest of the line
 * (after blanks) is the glob, taken as it is (quotes are not removed)
 */
export function includeOf2x(buf: string): { kind: string; glob: string } | null {
  if (!buf.startsWith('include') || buf.length <= 7) return null;
  let at: number;
  let kind = 'include';
  if (isCSpace(buf[7])) at = 8;
  else if ('rmwba'.includes(buf[7]) && isCSpace(buf[8])) {
    kind = buf.slice(0, 8);
    at = 9;
  } else return null;
  while (at < buf.length && BLANK.includes(buf[at])) at++;
  return { kind, glob: buf.slice(at) };
}

/** keepalived 1.3.5 check_include(): exactly two words, the first `include` */
export function includeOf1x(line: string): { kind: string; glob: string } | null {
  const { words } = tokens1x(line);
  return words.length === 2 && words[0] === 'include' ? { kind: 'include', glob: words[1] } : null;
}

/**
 * glob(3)'s GLOB_BRACE as keepalived 2.x uses it: `a{b,c}d` -> [abd, acd] (nested braces too, `\` escapes)
 */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const alts = splitTopLevel(pattern.slice(open + 1, i));
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        return alts.flatMap((a) => expandBraces(head + a + tail));
      }
    }
  }
  return [pattern];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * keepalived 2.x alloc_strvec_quoted_escaped(): how it reads a script line (vrrp_script `script`, notify*): words
 * split at blanks, "..." and '...' quote, a backslash escapes (\n, \t, \xHH, \0oo, \cX...). null when a quote is
 * not closed or a backslash ends the line (keepalived then ignores the script)
 */
export function quotedEscaped(src: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < src.length && isCSpace(src[i])) i++;
    if (i >= src.length) return words;
    let word = '';
    let quote = '';
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') {
        if (++i >= src.length) return null;
        const e = escapeAt(src, i);
        word += e.char;
        i = e.end - 1;
      } else if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (isCSpace(c)) break;
      else word += c;
    }
    if (quote) return null;
    words.push(word);
  }
}

function escapeAt(s: string, i: number): { char: string; end: number } {
  const c = s[i];
  const hex = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(i));
  if (hex) return { char: String.fromCharCode(parseInt(hex[1], 16)), end: i + hex[0].length };
  if (c === 'c' && i + 1 < s.length) return { char: String.fromCharCode(s.charCodeAt(i + 1) & 0x1f), end: i + 2 };
  const oct = /^[0-7]{1,3}/.exec(s.slice(i));
  if (oct) return { char: String.fromCharCode(parseInt(oct[0], 8) & 0xff), end: i + oct[0].length };
  return { char: ESCAPES[c] ?? c, end: i + 1 };
}
