#!/bin/bash
# Managed by ha-setup (run over SSH, never installed): check a keepalived.conf with a keepalived that has no -t
# (1.x, e.g. CentOS 7's 1.3.5, which even answers -t with exit 0): run the real binary for a few seconds in a private
# network + mount namespace, then read what it logged.
#   usage: validate-keepalived-1x.sh CONF [KEEPALIVED_BINARY] [SECONDS]
# Without KEEPALIVED_BINARY (as ha-setup runs it): the keepalived root's PATH finds, by the path it resolves to, only
# when nobody but root can change that file (ha_bin of src/facts/safe-file.ts, which ha-setup puts in front of this
# script); else nothing runs (exit 2).
# Interfaces the config names (interface X / dev X) are recreated in the namespace (as veths with carrier) only if
# they exist on this host, each with this host's addresses on it (both families, IPv6 without DAD), so a wrong
# interface name still fails and a unicast source of either family is there to send from.
#   exit 0 = no problem seen, 1 = problems (printed), 2 = could not run the check
# Side effects on the host: none (tmpfs over /run and the script directories; /dev/null over /dev/log and the
# console; a private netns whose interfaces are veths named as in the config, and every process left in it killed;
# scripts are replaced by `exit 0` stubs with the real files' owner/mode so that script existence and security are
# still checked but nothing runs; syslog goes nowhere).
# Works with util-linux 2.23 (CentOS 7: no --propagation, so the mounts are made private explicitly). -R keeps
# 1.3.5 from respawning a child that died on a bad file.
set -u
CONF=$(readlink -f "${1:?usage: $0 CONF [BINARY] [SECONDS]}")
KA=${2:-}
SECS=${3:-2}
[ -r "$CONF" ] || { echo "cannot read $CONF" >&2; exit 2; }
if [ -z "$KA" ]; then
  command -v ha_bin >/dev/null || { echo "no KEEPALIVED_BINARY, and no ha_bin in front of this script" >&2; exit 2; }
  r=$(ha_bin keepalived)
  case $r in
    "ok "*) KA=${r#ok } ;;
    "") echo "no keepalived on root's PATH" >&2; exit 2 ;;
    *) echo "${r#no }: not run (ha-setup runs as root only a binary nobody but root can change)" >&2; exit 2 ;;
  esac
fi
command -v "$KA" >/dev/null || { echo "no keepalived binary $KA" >&2; exit 2; }
# the file and the snippets it includes (the operator's conf.d): their scripts and interfaces count too
FILES="$CONF"
for g in $(sed -n 's/^[[:space:]]*include[[:space:]][[:space:]]*\([^[:space:]#!]*\).*/\1/p' "$CONF"); do
  for f in $g; do [ -f "$f" ] && FILES="$FILES $f"; done
done
IFACES=""
# shellcheck disable=SC2086
for i in $(cat $FILES | grep -oE "(^|[[:space:]])(interface|dev)[[:space:]]+[^[:space:]!#]+" | awk '{print $2}' | sort -u); do
  ip link show dev "$i" >/dev/null 2>&1 || continue
  # every address of both families but link-local (an IPv6 unicast source must exist there: keepalived sends from it)
  IFACES="$IFACES $i=$(ip -o addr show dev "$i" | awk '$4 !~ /^fe80:/ {printf "%s%s", s, $4; s = ","}')"
done
export CONF KA SECS IFACES FILES
out=$(unshare -m -n /bin/bash -c '
set -e
mount --make-rprivate /
# script paths (vrrp_script script, notify*), first word, without quotes
scripts=$(cat $FILES | grep -E "^[[:space:]]*(script|notify|notify_master|notify_backup|notify_fault|notify_stop)[[:space:]]" |
  sed -E "s/^[[:space:]]*[a-z_]+[[:space:]]+\"?([^\" ]+).*/\1/" | sort -u)
# a private /run first (no pid-file clash with a running keepalived; /dev/log dangles), and the work dir in it:
# nothing is created on the host
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/.kav && W=/run/.kav
for d in $(for s in $scripts; do dirname "$s"; done | sort -u); do
  [ -d "$d" ] || continue
  mkdir -p "$W/orig$d"; mount --bind "$d" "$W/orig$d"
  mount -t tmpfs -o mode="$(stat -c %a "$d")" tmpfs "$d"; chown --reference="$W/orig$d" "$d"
  for f in "$W/orig$d"/*; do
    [ -f "$f" ] || continue
    printf "#!/bin/sh\nexit 0\n" >"$d/${f##*/}"
    chown --reference="$f" "$d/${f##*/}"; chmod --reference="$f" "$d/${f##*/}"
  done
done
if [ -S /dev/log ]; then mount --bind /dev/null /dev/log; fi
# without /dev/log, syslog() of a keepalived started with -l falls back to the system console: its lines would land
# on the console of the host, and a console nobody reads (the passive pty of a container) blocks the write, and
# keepalived with it, forever
if [ -e /dev/console ]; then mount --bind /dev/null /dev/console; fi
ip link set lo up
n=0
for ia in $IFACES; do
  i=${ia%%=*} a=${ia#*=} n=$((n + 1))
  ip link add "$i" type veth peer name "kavpeer$n" && ip link set "kavpeer$n" up && ip link set "$i" up
  for x in $(printf "%s" "$a" | tr , " "); do
    case $x in *:*) ip -6 addr add "$x" dev "$i" nodad ;; *) ip addr add "$x" dev "$i" ;; esac
  done
done
cd /
"$KA" -f "$CONF" -n -l -D -R >/run/ka.log 2>&1 &
p=$!
sleep "$SECS"
kill -TERM $p 2>/dev/null || echo "@@exited-early"
for _ in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.2; done
# then it and whatever else of its runs in this private network namespace, killed (a child whose parent died before
# it could stop it would outlive this script), found without a process start per process (-ef compares the
# namespaces by inode)
for d in /proc/[0-9]*; do
  [ "${d#/proc/}" = $$ ] && continue
  [ "$d/ns/net" -ef /proc/$$/ns/net ] && kill -KILL "${d#/proc/}" 2>/dev/null
done
cat /run/ka.log
' 2>&1) || { echo "$out"; echo "namespace setup failed" >&2; exit 2; }

bad='Unknown keyword|missing a parameter|permanent error|Unable to find config|Unable to find configuration file|'\
'Unable to read configuration|not a regular non-executable|Cant find interface|Unknown interface|not valid|unknown state|'\
'invalid IP|parsed invalid|to unknown .* interface|Unknown configuration entry|No .* parameter specified|no match, ignoring|'\
'weight must be between|Disabling (track|notify) script|Unable to access script|Cannot find script|Unsafe permissions|'\
'is not executable|SECURITY VIOLATION|Permissions failure|unknown authentication type|Truncating auth_pass|'\
'advertisement interval .* (must be|out of range)|does not support authentication|no password given|'\
'Cannot find an IP address|is duplicated on interface|doesn.t exist - ignoring|has only [0-9]+ virtual router|'\
'ignoring (weights of )?tracked|Unmatched quote|Missing .\{|Unexpected .\{|missing at beginning of block|'\
'Extra characters after|does not exist|Error setting|Invalid user/group|Unable to set uid|Unable to resolve script|'\
'incompatible with|already defined|already specified|must have a name|malformed|MUST be of the same family|'\
'cannot exist in more than one|segmentation fault|died: (Exiting|Respawning)|exited with status|exited due to|'\
'invalid option|unrecognized option|Unexpected argument|@@exited-early|Configuration error|Cannot specify|'\
'Invalid|invalid|is very large|reconfigure'
ok='Using (LinkWatch kernel netlink reflector|MII-BMSR/ETHTOOL NIC polling thread)'
problems=$(printf "%s\n" "$out" | grep -E "$bad" | grep -v "Unable to resolve default script username 'keepalived_script'" | sort -u)
if [ -n "$problems" ]; then
  echo "keepalived 1.3.5 rejects or changes this configuration:"; printf "%s\n" "$problems" | sed 's/^/  /'; exit 1
fi
if ! printf "%s\n" "$out" | grep -qE "$ok"; then
  echo "keepalived 1.3.5 did not complete its VRRP start-up; its log:"; printf "%s\n" "$out" | sed 's/^/  /'; exit 1
fi
echo "keepalived 1.3.5 accepted $CONF"
exit 0
