/**
 * Files read whole from a host, any byte intact: each as "@file <base64 path> <mode> <kind>" and one base64 line of
 * its content (the first MiB), "@script" before the entry of a script a configuration names. The `globs` fact
 * expands globs on the host (relative ones from a directory) and reads every match so, with the scripts each
 * matching file names: keepalived's configuration and its includes for `import`.
 */
import type { FileEntry } from './types.js';

/** b64: base64 without line breaks */
export const B64_SH = String.raw`b64() { base64 | tr -d '\n'; }`;

/** emit PATH: one file entry; scripts_of PATH: an entry for each script file the configuration PATH names */
export const FILE_ENTRY_SH = String.raw`${B64_SH}
emit() {
  _ep=$(printf %s "$1" | b64)
  if [ -d "$1" ]; then echo "@file $_ep - dir"; echo; return; fi
  if [ ! -e "$1" ]; then echo "@file $_ep - missing"; echo; return; fi
  _em=$(stat -c %a "$1" 2>/dev/null || echo -)
  if [ ! -f "$1" ]; then echo "@file $_ep $_em special"; echo; return; fi
  if [ ! -r "$1" ]; then echo "@file $_ep $_em unreadable"; echo; return; fi
  echo "@file $_ep $_em file"; head -c 1048576 "$1" | b64; echo
}
scripts_of() {
  [ -f "$1" ] || return 0
  awk '{ sub(/^[ \t]+/, ""); if ($1 ~ /^(script|notify|notify_[a-z_]+|[a-z_]*_script)$/)
    for (i = 2; i <= NF; i++) { v = $i; gsub(/["'\'']/, "", v); if (v ~ /^\//) print v } }' "$1" 2>/dev/null |
  while IFS= read -r _ss; do
    [ -f "$_ss" ] || continue
    [ "$(head -c 4 "$_ss" | od -An -c | tr -d ' \n')" = '177ELF' ] && continue
    [ "$(wc -c < "$_ss")" -le 262144 ] || continue
    echo "@script"; emit "$_ss"
  done
}`;

/**
 * the globs fact: $GLOBS is "<base64 DIR> <base64 PATTERN>" lines (any byte survives); for each, "@glob" and the
 * two words, then an entry for every match of PATTERN (relative: from DIR) and for the scripts each match names
 */
export const GLOBS_SH = String.raw`${FILE_ENTRY_SH}
printf '%s\n' "$GLOBS" | while read -r _gd _gp; do
  [ -n "$_gd" ] || continue
  echo "@glob $_gd $_gp"
  ( d=$(printf %s "$_gd" | base64 -d); pat=$(printf %s "$_gp" | base64 -d)
    cd "$d" 2>/dev/null || cd /
    IFS=''; set +f
    for f in $pat; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      case "$f" in /*) p=$f ;; *) p="$(pwd)/$f" ;; esac
      emit "$p"; scripts_of "$p"
    done )
done`;

const decode = (s: string) => Buffer.from(s.trim(), 'base64').toString('utf8');
const encode = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** the $GLOBS value for these reads */
export function globsVar(reads: readonly { dir: string; glob: string }[]): string {
  return reads.map((r) => `${encode(r.dir)} ${encode(r.glob)}`).join('\n');
}

/** file entries (emit's and scripts_of's output) */
export function parseFileEntries(text: string): FileEntry[] {
  const out: FileEntry[] = [];
  const lines = text.split('\n');
  let script = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '@script') {
      script = true;
      continue;
    }
    const m = /^@file (\S*) (\S+) (\S+)$/.exec(lines[i]);
    if (!m) continue;
    const kind = m[3];
    const body = lines[i + 1] ?? '';
    i++;
    const e: FileEntry = { path: decode(m[1]), text: kind === 'file' ? decode(body) : '', mode: m[2], script };
    script = false;
    const skip = skipOf(kind, m[2]);
    if (skip) e.skip = skip;
    out.push(e);
  }
  return out;
}

function skipOf(kind: string, mode: string): string | undefined {
  if (kind === 'dir') return 'a directory';
  if (kind === 'missing') return 'a dangling link';
  if (kind === 'special') return 'not a regular file';
  if (kind === 'unreadable') return 'not readable';
  if (/^[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o111) !== 0)
    return `executable (mode ${mode}): keepalived reads only non-executable files`;
  return undefined;
}

/** the globs fact's output: each read in the order of $GLOBS with the entries it gave */
export function parseGlobs(t: string): { dir: string; glob: string; files: FileEntry[] }[] {
  const out: { dir: string; glob: string; files: FileEntry[] }[] = [];
  const parts = t.split(/^(@glob \S* ?\S*)$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const [, d = '', g = ''] = parts[i].split(' ');
    out.push({ dir: decode(d), glob: decode(g), files: parseFileEntries(parts[i + 1] ?? '') });
  }
  return out;
}
