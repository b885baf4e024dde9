/**
 * keepalived and nginx as they run on a host, for `import`: the keepalived unit, the processes named keepalived, the
 * keepalived binaries (read as files, never run: their version and build options are strings in the file; a
 * package's version preferred), the environment files the unit reads, and `nginx -T` of the binary the nginx unit
 * names, run only when only root could have written it (bin_check, safe-file.ts) and owned by a package.
 */
import { B64_SH, FILE_ENTRY_SH } from './file-entries.js';
import type { KeepalivedBinary, KeepalivedProcess, KeepalivedUnit, NginxDumpFact } from './types.js';

const decode = (s: string) => (s === '-' ? '' : Buffer.from(s.trim(), 'base64').toString('utf8'));

function kv(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of text.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) (out[l.slice(0, i)] ??= []).push(l.slice(i + 1));
  }
  return out;
}

export const KA_UNIT_SH =
  'systemctl show keepalived.service -p LoadState -p ActiveState -p UnitFileState -p MainPID -p ExecStart ' +
  '-p EnvironmentFiles -p Environment';

export function parseKeepalivedUnit(t: string): KeepalivedUnit {
  const p = kv(t);
  return {
    loadState: p.LoadState?.[0] ?? '',
    activeState: p.ActiveState?.[0] ?? '',
    mainPid: Number(p.MainPID?.[0]) || 0,
    execStart: p.ExecStart?.[0] ?? '',
    environmentFiles: (p.EnvironmentFiles ?? []).map((v) => v.split(/\s+/)[0]).filter(Boolean),
    environment: p.Environment?.[0] ?? '',
  };
}

/** "PID PPID UID EUID <base64 exe> <base64 cmdline>" for every process named keepalived (its name or its binary's) */
export const KA_PROCS_SH = String.raw`${B64_SH}
for p in /proc/[0-9]*; do
  n=; { read -r n < "$p/comm"; } 2>/dev/null
  e=$(readlink "$p/exe" 2>/dev/null)
  case "$n" in keepalived) ;; *) case "${'$'}{e% (deleted)}" in */keepalived) ;; *) continue ;; esac ;; esac
  s=$(awk '/^PPid:/ { pp = $2 } /^Uid:/ { u = $2 " " $3 } END { print (pp == "" ? 0 : pp), (u == "" ? "- -" : u) }' \
    "$p/status" 2>/dev/null)
  x=$(printf %s "$e" | b64); a=$(b64 < "$p/cmdline" 2>/dev/null)
  echo "${'$'}{p#/proc/} ${'$'}{s:-0 - -} ${'$'}{x:--} ${'$'}{a:--}"
done`;

export function parseKeepalivedProcs(t: string): KeepalivedProcess[] {
  const out: KeepalivedProcess[] = [];
  for (const l of t.split('\n')) {
    const w = l.trim().split(' ');
    if (w.length < 6 || !/^\d+$/.test(w[0])) continue;
    const exe = decode(w[4]);
    const argv = decode(w[5]).split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    const id = (v: string) => (/^\d+$/.test(v) ? Number(v) : -1);
    out.push({
      pid: Number(w[0]),
      ppid: Number(w[1]) || 0,
      uid: id(w[2]),
      euid: id(w[3]),
      exe: exe.replace(/ \(deleted\)$/, ''),
      deleted: / \(deleted\)$/.test(exe),
      argv,
    });
  }
  return out;
}

/**
 * For each candidate keepalived binary: a root keepalived process's (read through /proc/PID/exe: the running file,
 * deleted or not), the unit's ExecStart path, `command -v keepalived`: "@bin FROM <base64 path>", "deleted", "pkg NAME
 * VERSION", "version ..." and "build ..." (strings read from the file with grep: nothing is run). Its prelude:
 * BIN_CHECK_PRELUDE (safe-file.ts)
 */
export const KA_BINS_SH = String.raw`${B64_SH}
ka_read() {
  echo "@bin $1 $(printf %s "$3" | b64)"
  case "$3" in
    *' (deleted)') echo deleted ;;
    *) _kp=$(pkg_of "$3"); _kr=$(readlink -f -- "$3" 2>/dev/null)
      [ -n "$_kp" ] || [ -z "$_kr" ] || _kp=$(pkg_of "$_kr")
      [ -n "$_kp" ] && echo "pkg $_kp" ;;
  esac
  if [ -f "$2" ]; then
    echo "version $(grep -a -o -m 1 'Keepalived v[0-9][0-9.]*[[:print:]]*' "$2" | head -n 1)"
    echo "build $(grep -a -o -m 1 -E '[[:print:]]*--(pre|sysc)[a-z]*=[[:print:]]*' "$2" | head -n 1)"
  fi
}
_ks='|'
for p in /proc/[0-9]*; do
  e=$(readlink "$p/exe" 2>/dev/null) || continue
  case "${'$'}{e% (deleted)}" in */keepalived) ;; *) continue ;; esac
  [ "$(awk '/^Uid:/ { print $2 " " $3 }' "$p/status" 2>/dev/null)" = "0 0" ] || continue
  case "$_ks" in *"|$e|"*) continue ;; esac
  _ks="$_ks$e|"
  ka_read "pid:${'$'}{p#/proc/}" "$p/exe" "$e"
done
u=$(systemctl show keepalived.service -p ExecStart 2>/dev/null | sed -n 's/.*path=\([^ ;]*\).*/\1/p' | head -n 1)
case "$u" in /*) case "$_ks" in *"|$u|"*) ;; *) _ks="$_ks$u|"; ka_read unit "$u" "$u" ;; esac ;; esac
c=$(command -v keepalived 2>/dev/null)
case "$c" in /*) case "$_ks" in *"|$c|"*) ;; *) ka_read path "$c" "$c" ;; esac ;; esac`;

export function parseKeepalivedBins(t: string): KeepalivedBinary[] {
  const out: KeepalivedBinary[] = [];
  let cur: KeepalivedBinary | null = null;
  for (const l of t.split('\n')) {
    const head = /^@bin (\S+) (\S+)$/.exec(l);
    if (head) {
      const raw = decode(head[2]);
      cur = {
        from: head[1],
        path: raw.replace(/ \(deleted\)$/, ''),
        deleted: / \(deleted\)$/.test(raw),
        versionLine: '',
        build: '',
      };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const pkg = /^pkg (\S+) (\S+)$/.exec(l);
    if (l === 'deleted') cur.deleted = true;
    else if (pkg) cur.pkg = { name: pkg[1], version: pkg[2] };
    else if (l.startsWith('version ')) cur.versionLine = l.slice(8).trim();
    else if (l.startsWith('build ')) cur.build = l.slice(6).trim();
  }
  return out;
}

/** the environment files keepalived's unit may read (Debian's, RHEL's, the unit's EnvironmentFiles), as file entries */
export const KA_ENV_SH = String.raw`${FILE_ENTRY_SH}
{ echo /etc/default/keepalived; echo /etc/sysconfig/keepalived
  systemctl show keepalived.service -p EnvironmentFiles 2>/dev/null | sed -n 's/^EnvironmentFiles=\([^ ]*\).*/\1/p'
} | awk '!seen[$0]++' | while IFS= read -r f; do [ -e "$f" ] && emit "$f"; done`;

/**
 * nginx -T: the binary the nginx unit's ExecStart names (else `command -v nginx`), its configuration the unit's -c
 * (else nginx's default), run (bounded: 20 s) only when bin_check passes; "bin", "conf", "rc", "out", "err" lines
 * (base64), or "unsafe <base64 binary> <base64 why>", or "none". Its prelude: BIN_CHECK_PRELUDE (safe-file.ts)
 */
export const NGINX_DUMP_SH = String.raw`${B64_SH}
_nu=$(systemctl show nginx.service -p ExecStart 2>/dev/null | head -n 1)
_nb=$(printf '%s\n' "$_nu" | sed -n 's/.*path=\([^ ;]*\).*/\1/p')
_nc=$(printf '%s\n' "$_nu" | sed -n 's/.*argv\[\]=\(.*\) ; ignore_errors=.*/\1/p' | awk '{
  for (i = 2; i <= NF; i++) { w = $i; if (w !~ /^-[^-]/) continue
    for (j = 2; j <= length(w); j++) { ch = substr(w, j, 1)
      if (ch == "c") c = (j < length(w)) ? substr(w, j + 1) : $(i + 1)
      if (index("cgpes", ch)) { if (j == length(w)) i++; break } } }
  print c }')
[ -n "$_nb" ] || _nb=$(command -v nginx 2>/dev/null)
case "$_nb" in
  /*) _nr=$(bin_check "$_nb")
    case $_nr in
      "ok "*) _nd=$(mktemp -d 2>/dev/null) || { _nd=/tmp/ha-setup-nginx.$$; mkdir -m 700 "$_nd" || _nd=; }
        if [ -n "$_nd" ]; then
          _nto=; command -v timeout >/dev/null 2>&1 && _nto="timeout 20"
          if [ -n "$_nc" ]; then $_nto "${'$'}{_nr#ok }" -T -c "$_nc" > "$_nd/o" 2> "$_nd/e" < /dev/null
          else $_nto "${'$'}{_nr#ok }" -T > "$_nd/o" 2> "$_nd/e" < /dev/null; fi
          echo "rc $?"; echo "bin $(printf %s "$_nb" | b64)"; echo "conf $(printf %s "$_nc" | b64)"
          echo "out $(b64 < "$_nd/o")"; echo "err $(b64 < "$_nd/e")"
          rm -rf "$_nd"
        else echo "unsafe $(printf %s "$_nb" | b64) $(printf %s 'no private temporary directory' | b64)"; fi ;;
      *) echo "unsafe $(printf %s "$_nb" | b64) $(printf %s "${'$'}{_nr#no }" | b64)" ;;
    esac ;;
  *) echo none ;;
esac`;

export function parseNginxDump(t: string): NginxDumpFact {
  const unsafe = /^unsafe (\S*) (\S*)$/m.exec(t);
  if (unsafe) return { state: 'unsafe', binary: decode(unsafe[1]), why: decode(unsafe[2]) };
  const f: Record<string, string> = {};
  for (const m of t.matchAll(/^(rc|bin|conf|out|err) ?(.*)$/gm)) f[m[1]] = m[2];
  if (f.rc === undefined || !/^\d+$/.test(f.rc)) return { state: 'none' };
  return {
    state: 'ran',
    binary: decode(f.bin ?? ''),
    conf: decode(f.conf ?? ''),
    rc: Number(f.rc),
    out: decode(f.out ?? ''),
    err: decode(f.err ?? ''),
  };
}
