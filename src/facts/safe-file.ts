/**
 * Whether a file on a host is one only root could have written: the checks keepalived's enable_script_security makes
 * before it runs a script as root, as POSIX sh functions. ha-setup runs nothing as root that fails them: the
 * keepalived and nginx it manages (their version, `keepalived -t`, `nginx -t`: ha_bin below), the nginx binary import
 * runs (`nginx -T`, bin_check), the operator's notify.script the notify hook runs (templates/notify-metrics.sh.ejs
 * includes FILE_CHECK_SH), which init's preflight checks first (the notifyscript fact), and init refuses a host whose
 * keepalived or nginx, or a binary their units start, fails them (the bins fact).
 */
import type { BinFact } from './types.js';

/**
 * file_check PATH: prints "ok RESOLVED" when the file PATH names (readlink -f) is a regular file owned by root (or by
 * the user running the check: root wherever ha-setup runs it) and not writable by its group or others, without an
 * access control list, and so is every directory above it; else "no WHY". Executing RESOLVED (not PATH) keeps a link
 * in a directory someone else can write from being pointed elsewhere after the check.
 */
export const FILE_CHECK_SH = String.raw`file_check() {
  _fc=$(readlink -f -- "$1" 2>/dev/null)
  { [ -n "$_fc" ] && [ -e "$_fc" ]; } || { echo "no it does not exist"; return; }
  [ -f "$_fc" ] || { echo "no it is not a regular file"; return; }
  ( _me=$(id -u)
    set -- "$_fc"
    _fp=$_fc
    while [ "$_fp" != / ]; do _fp=${'$'}{_fp%/*}; [ -n "$_fp" ] || _fp=/; set -- "$@" "$_fp"; done
    # one ls for the file and every directory above it, in that order: mode string, links, uid
    ls -ldnUq -- "$@" 2>/dev/null | {
      for _fp in "$@"; do
        read -r _fm _fl _fu _fr || { echo "no it cannot be examined (ls)"; exit; }
        if [ "$_fu" != 0 ] && [ "$_fu" != "$_me" ]; then _fw="is owned by uid $_fu, not root"
        else case $_fm in
          ?????w* | ????????w*) _fw="is writable by group or others (mode $(stat -c %a -- "$_fp"))" ;;
          ??????????+*) _fw="has an access control list (ls -l shows +)" ;;
          *) continue ;;
        esac; fi
        if [ "$_fp" = "$1" ]; then echo "no it $_fw"; else echo "no its directory $_fp $_fw"; fi
        exit
      done
      echo "ok $1"
    } )
}`;

/**
 * pkg_of PATH: "NAME VERSION" of the package that owns exactly PATH (dpkg or rpm), or nothing. bin_check PATH:
 * file_check's answer, and "no is not owned by a package" when neither PATH nor the file it resolves to belongs to
 * one (a binary that came with the system, not one someone put there). Needs FILE_CHECK_SH (BIN_CHECK_SH: both).
 */
export const PKG_CHECK_SH = String.raw`pkg_of() {
  if command -v dpkg-query >/dev/null 2>&1; then
    _pn=$(dpkg-query -S "$1" 2>/dev/null | awk -v p="$1" '!/^diversion by/ {
      i = index($0, ": ")
      if (i && substr($0, i + 2) == p) { n = substr($0, 1, i - 1); sub(/,.*/, "", n); print n; exit } }')
    [ -n "$_pn" ] && echo "$_pn $(dpkg-query -W -f='${'$'}{Version}' "$_pn" 2>/dev/null)"
  elif command -v rpm >/dev/null 2>&1; then
    _pr=$(rpm -qf --qf '%{NAME} %{VERSION}-%{RELEASE}\n' "$1" 2>/dev/null) && printf '%s\n' "$_pr" | head -n 1
  fi
}
bin_check() {
  _bc=$(file_check "$1")
  case $_bc in "ok "*) ;; *) echo "$_bc"; return ;; esac
  if [ -n "$(pkg_of "$1")" ] || [ -n "$(pkg_of "${'$'}{_bc#ok }")" ]; then echo "$_bc"
  else echo "no it is not owned by a package"; fi
}`;

export const BIN_CHECK_SH = `${FILE_CHECK_SH}\n${PKG_CHECK_SH}`;

/**
 * ha_path SUBJECT PATH: file_check's answer for a path the host gave ("ok RESOLVED"), or "no SUBJECT WHY", one line
 * for the operator ("no keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775)"; a link
 * named with the file it resolves to). ha_bin NAME: the same for the file `command -v NAME` finds on root's PATH, as
 * "NAME at PATH", or nothing when NAME is not there. The caller runs RESOLVED, never NAME. Needs FILE_CHECK_SH.
 */
export const HA_BIN_SH = String.raw`ha_path() {
  case $2 in /*) _hr=$(file_check "$2") ;; *) _hr="no it is not an absolute path" ;; esac
  case $_hr in "ok "*) echo "$_hr"; return ;; esac
  _hs=$1; _hf=$(readlink -f -- "$2" 2>/dev/null)
  [ -z "$_hf" ] || [ "$_hf" = "$2" ] || _hs="$_hs (a link to $_hf)"
  case $_hr in "no it "*) echo "no $_hs ${'$'}{_hr#no it }" ;; *) echo "no $_hs: ${'$'}{_hr#no }" ;; esac
}
ha_bin() {
  _hb=$(command -v "$1" 2>/dev/null) || return 0
  ha_path "$1 at $_hb" "$_hb"
}`;

/** the shell functions of the facts that run keepalived or nginx (a fact's prelude: table.ts) */
export const HA_BIN_PRELUDE = [FILE_CHECK_SH, HA_BIN_SH] as const;
/** the shell functions of import's reading of unknown daemons (package ownership: bin_check) */
export const BIN_CHECK_PRELUDE = [FILE_CHECK_SH, PKG_CHECK_SH] as const;

/**
 * sh -c CHECKED_RUN_SH NAME ARGS...: runs NAME with ARGS as root's PATH finds it, by its resolved path, only when
 * ha_bin accepts it; else nothing runs: exit 126 with ha_bin's line on stderr (127: not on the PATH)
 */
export const CHECKED_RUN_SH = String.raw`${FILE_CHECK_SH}
${HA_BIN_SH}
_r=$(ha_bin "$0")
case $_r in
  "ok "*) exec "${'$'}{_r#ok }" "$@" ;;
  "") echo "$0: not found on root's PATH" >&2; exit 127 ;;
  *) echo "${'$'}{_r#no }: not run (ha-setup runs as root only a binary nobody but root can change)" >&2; exit 126 ;;
esac`;

/** argv (NAME ARGS...) run through CHECKED_RUN_SH: how the apply runs keepalived -t and nginx -t */
export function checkedArgv(argv: readonly string[]): string[] {
  return ['sh', '-c', CHECKED_RUN_SH, ...argv];
}

/** file_check's answer: the resolved path, or why not */
export function parseFileCheck(line: string): { ok: true; path: string } | { ok: false; why: string } | null {
  const m = /^(ok|no) (.*)$/.exec(line.trim());
  if (!m) return null;
  return m[1] === 'ok' ? { ok: true, path: m[2] } : { ok: false, why: m[2] };
}

/**
 * the notifyscript fact: notify.script ($NOTIFY_SCRIPT) checked as the notify hook checks it before running it (its
 * prelude: FILE_CHECK_SH)
 */
export const NOTIFY_SCRIPT_SH = String.raw`if [ -n "$NOTIFY_SCRIPT" ]; then
  r=$(file_check "$NOTIFY_SCRIPT")
  case $r in
    "ok "*) if [ -x "${'$'}{r#ok }" ]; then echo "$r"; else echo "no it is not executable"; fi ;;
    *) echo "$r" ;;
  esac
fi`;

/** null: no notify.script (or not read); else whether the hook would run it, and why not */
export function parseNotifyScript(t: string): { ok: true; path: string } | { ok: false; why: string } | null {
  return parseFileCheck(t.split('\n').find((l) => /^(ok|no) /.test(l)) ?? '');
}

/** the bins fact: "VIA ok RESOLVED" or "VIA no WHY" lines (table.ts) */
export function parseBins(t: string): BinFact[] {
  const out: BinFact[] = [];
  for (const l of t.split('\n')) {
    const m = /^([a-z]+(?:\.service)?) (ok|no) (.+)$/.exec(l.trim());
    if (m) out.push(m[2] === 'ok' ? { via: m[1], path: m[3] } : { via: m[1], refused: m[3] });
  }
  return out;
}
