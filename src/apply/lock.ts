/**
 * One change at a time on a pair: every command that changes hosts holds ha-setup's lock on every node for as long
 * as it runs. The lock is a flock held by a process on the host whose stdin is an SSH channel of the run (a dropped
 * connection frees it), in a directory only root can write (/run/ha-setup: never a world-writable one, where any
 * local user could hold the lock file or plant a link). Beside it the holder says who it is (controller, user, pid,
 * command, since, the command's bound) and a beat file is touched each time the run writes a line to the channel
 * (every few seconds): a second run names the first, and tells a live holder from one whose controller is gone.
 */
import { hostname, userInfo } from 'node:os';

/** who holds the lock, as the holder file records it */
export interface LockHolder {
  run: string;
  /** the command line, as typed (printable, cut) */
  command: string;
  user: string;
  controller: string;
  pid: number;
  /** ISO time the lock was taken */
  since: string;
  /** the longest the command runs: past it, with no beat, its controller has given up */
  boundS: number;
}

/** what a command that changes hosts asks of the lock */
export interface LockRequest {
  command: string;
  boundS: number;
  /** --wait-lock: seconds to wait for a live holder (0: refuse at once) */
  waitS?: number;
}

/** seconds between the beats a holder's controller writes */
export const BEAT_S = 5;
/** a beat older than this: the controller has not written for six beats (gone, or cut off) */
export const BEAT_STALE_S = 30;

export function lockHolder(run: string, req: LockRequest, now = new Date()): LockHolder {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return {
    run,
    command: req.command.slice(0, 160),
    user,
    controller: hostname(),
    pid: process.pid,
    since: now.toISOString(),
    boundS: req.boundS,
  };
}

/**
 * The lock script, run as root. $1 the directory, $2 this run's id, $3 the holder (JSON, base64), $4 the run whose
 * stale holder to end first (empty: none), $5 how long flock waits for it. Prints "locked" and holds the lock until
 * its stdin ends (each line read touches the beat); or "busy HOLDER BEAT_AGE AGE" and exits 75; or "unsafe WHY" and
 * exits 76 when the directory is not root's alone.
 */
export const LOCK_SH = String.raw`d=$1
umask 022
[ -d "$d" ] || mkdir -m 0755 "$d" 2>/dev/null
if [ -L "$d" ] || [ ! -d "$d" ] || [ "$(stat -c %u "$d")" != "$(id -u)" ] \
  || [ -n "$(find "$d" -maxdepth 0 -perm /022 2>/dev/null)" ]; then
  echo "unsafe $d is not a directory that only $(id -un) can write"; exit 76
fi
for f in lock holder beat .holder.tmp; do
  if [ -L "$d/$f" ]; then echo "unsafe $d/$f is a symbolic link"; exit 76; fi
done
w=-n
if [ -n "$4" ]; then pkill -f "ha-setup-lock $d [A-Za-z0-9+/=]* $4\$"; w="-w $5"; fi
flock $w -E 75 "$d/lock" sh -c '
printf %s "$2" | base64 -d > "$1/.holder.tmp" && mv -f "$1/.holder.tmp" "$1/holder"; : > "$1/beat"; echo locked
while read -r _; do : > "$1/beat"; done
rm -f "$1/holder" "$1/beat"' ha-setup-lock "$d" "$3" "$2"
rc=$?
if [ "$rc" = 75 ]; then
  now=$(date +%s)
  echo "busy $(base64 -w0 < "$d/holder" 2>/dev/null) $((now - $(stat -c %Y "$d/beat" 2>/dev/null || echo 0))) \
$((now - $(stat -c %Y "$d/holder" 2>/dev/null || echo 0)))"
fi
exit $rc`;

export type LockAttempt =
  | { kind: 'locked' }
  | { kind: 'busy'; holder: LockHolder | null; beatAgeS: number; ageS: number }
  | { kind: 'unsafe'; why: string }
  | { kind: 'failed'; why: string };

/** the first line the lock script printed, and its exit code when it ended */
export function parseLockReply(first: string): LockAttempt {
  if (first === 'locked') return { kind: 'locked' };
  const unsafe = /^unsafe (.*)$/.exec(first);
  if (unsafe) return { kind: 'unsafe', why: unsafe[1] };
  const busy = /^busy (\S*) (-?\d+) (-?\d+)$/.exec(first);
  if (busy) return { kind: 'busy', holder: parseHolder(busy[1]), beatAgeS: Number(busy[2]), ageS: Number(busy[3]) };
  return { kind: 'failed', why: first || 'no answer' };
}

function parseHolder(b64: string): LockHolder | null {
  try {
    const v = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as Partial<LockHolder>;
    const str = (x: unknown) => (typeof x === 'string' ? x.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : '?');
    if (!v || typeof v !== 'object') return null;
    return {
      run: str(v.run),
      command: str(v.command),
      user: str(v.user),
      controller: str(v.controller),
      pid: Number(v.pid) || 0,
      since: str(v.since),
      boundS: Number(v.boundS) || 0,
    };
  } catch {
    return null;
  }
}

/** is a process of this machine alive? (a holder whose controller is this machine) */
export function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why a busy lock's holder is gone (the lock may be taken over), or null while it may still be acting: its
 * controller is this machine and its pid is dead; or it has not beaten for BEAT_STALE_S and it is older than its
 * command's bound (a controller cut off by the network gives up by then)
 */
export function staleReason(
  a: Extract<LockAttempt, { kind: 'busy' }>,
  here: { controller: string; alive: (pid: number) => boolean } = { controller: hostname(), alive: pidAlive },
): string | null {
  const h = a.holder;
  if (!h) return a.ageS > 0 && a.beatAgeS > BEAT_STALE_S ? 'its holder left no record and has not beaten' : null;
  if (h.controller === here.controller && h.pid && !here.alive(h.pid))
    return `its process ${h.pid} on ${h.controller} is gone`;
  if (a.beatAgeS > BEAT_STALE_S && a.ageS > h.boundS)
    return (
      `its controller ${h.controller} has not been heard for ${a.beatAgeS} s and the lock is older than the ` +
      `${h.boundS} s that command may take`
    );
  return null;
}

/** "init --answers ha.yaml by alice on ctl01 (pid 4242), since 16:50:12 (3 min ago), last heard 2 s ago" */
export function describeHolder(a: Extract<LockAttempt, { kind: 'busy' }>): string {
  const h = a.holder;
  if (!h) return 'a run that left no record';
  const ago = a.ageS >= 120 ? `${Math.round(a.ageS / 60)} min` : `${a.ageS} s`;
  return (
    `\`${h.command}\` by ${h.user} on ${h.controller} (pid ${h.pid}), since ${h.since} (${ago} ago), ` +
    `last heard ${a.beatAgeS} s ago`
  );
}
