/**
 * The worst-case client gap each failover scenario can have, derived from the configuration alone (pure, unit-tested
 * with fixtures). verify-failover shows it beside the measured gap and uses it, plus a stated margin, as the default
 * --max-gap; init prints it in the summary. The model is keepalived's VRRP timers (RFC 3768 / 5798):
 *
 * - skew time of a backup with priority p: (256 - p) / 256 s in VRRPv2, (256 - p) x advert / 256 in VRRPv3;
 * - master-down timer: 3 x advert + skew, counted from the last advert the backup heard;
 * - a master that stops keepalived, or enters FAULT, sends a priority-0 advert: the backup takes over after its skew;
 * - a master that dies (SIGKILL, link down) sends nothing: the backup waits its master-down timer;
 * - a master whose priority drops below the backup's keeps advertising: a preempting backup discards those adverts
 *   (after its preempt_delay) and takes over when its master-down timer runs out;
 * - the health check fails after `fall` runs, one every `interval` s (worst case: fall x interval after nginx died);
 *   the fast profile's track_file reacts at once (inotify); the guides' restart-then-stop script tries one restart,
 *   waits 1 s and stops keepalived in the same run (fall does not apply);
 * - keepalived before 2.0 (CentOS 7's 1.3.5) applies a check result at the next advert, and logs "Transition to
 *   MASTER STATE" one advert interval before it really takes the VIP (seen on the lab): one advert more for each.
 */
import { isFastProfile, type Config, type Profile, type ResolvedInstance } from '../answers/resolve.js';
import { keepalivedFeatures } from '../keepalived.js';
import { masterDownMs, skewMs } from '../answers/timing.js';
import type { ScenarioName } from './scenarios.js';

export interface ScenarioBound {
  /** worst-case client gap the configuration implies, ms */
  expectedMaxMs: number;
  /** one line: how the figure is made up */
  why: string;
}

export type Bounds = Record<ScenarioName, ScenarioBound>;

/** what the keepalived on the nodes can do (1.3.5 has no track_file: the fast profile's instant signal is lost) */
export interface BoundFeatures {
  trackFile: boolean;
  /** keepalived before 2.0: a check result and a takeover each take one advert interval more */
  lateTransition?: boolean;
}

/** what the keepalived versions of the nodes (null: not known, taken as 2.x) can do, for the bounds */
export function boundFeatures(cfg: Config, versions: (string | null)[]): BoundFeatures {
  return {
    trackFile:
      isFastProfile(cfg.profile) &&
      cfg.healthCheck.mode === 'weight' &&
      versions.every((v) => keepalivedFeatures(v).trackFile),
    lateTransition: versions.some((v) => keepalivedFeatures(v).lateTransition),
  };
}

/** time a transition takes beyond the timers: state change, VIP added, gratuitous ARP, the next probe answered */
export const TRANSITION_MS = 100;
/** the guides' restart-then-stop script: `systemctl restart nginx`, `sleep 1`, then `systemctl stop keepalived` */
export const RESTART_ATTEMPT_MS = 1500;

/**
 * a stated margin on top of a bound for --max-gap: 0.5 s plus 20 % of the bound; the ultra profile's bounds are
 * 0.11-0.17 s, so its margin is 0.05 s plus 20 % (a probe every 10 ms, ARP, the new master's first answers)
 */
export function marginMs(boundMs: number, profile: Profile = 'standard'): number {
  return Math.round((profile === 'ultra' ? 50 : 500) + 0.2 * boundMs);
}

export { masterDownMs, reElectionMs, skewMs } from '../answers/timing.js';

/** the node that takes over from `holder`: the highest priority among the others */
export function takeoverNode(inst: ResolvedInstance, holder: string): { name: string; priority: number } {
  const others = Object.entries(inst.priorities)
    .filter(([n]) => n !== holder)
    .sort((a, b) => b[1] - a[1]);
  const [name, priority] = others[0] ?? [holder, inst.priorities[holder] ?? 100];
  return { name, priority };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Bounds for one instance whose VIP is on `holder` now (its master, or under nopreempt whoever holds it).
 * `features` describes the keepalived running on the nodes; by default what ha-setup renders for 2.x.
 */
export function expectedBounds(
  cfg: Config,
  inst: ResolvedInstance,
  holder: string,
  features: BoundFeatures = { trackFile: isFastProfile(cfg.profile) && cfg.healthCheck.mode === 'weight' },
): Bounds {
  const backup = takeoverNode(inst, holder);
  const a = inst.advertInt;
  // keepalived 1.x: "Transition to MASTER" one advert before the VIP is taken, check results at the next advert
  const late = features.lateTransition ? a * 1000 : 0;
  const lateWhy = late ? ` + ${s(late)} (keepalived 1.x takes over one advert later)` : '';
  const skew = skewMs(cfg, inst, backup.priority) + late;
  const down = masterDownMs(cfg, inst, backup.priority) + late;
  const downWhy =
    `master-down timer 3 x ${a} s + skew ${s(skewMs(cfg, inst, backup.priority))} of ${backup.name} ` +
    `(priority ${backup.priority})${lateWhy}`;
  const hc = cfg.healthCheck;
  const detectMs = hc.fall * hc.interval * 1000 + late;

  let nginx: ScenarioBound;
  if (hc.mode === 'restart-then-stop') {
    const ms = hc.interval * 1000 + RESTART_ATTEMPT_MS + skew + TRANSITION_MS;
    nginx = {
      expectedMaxMs: ms,
      why:
        `check every ${hc.interval} s, one restart attempt and 1 s pause (${s(RESTART_ATTEMPT_MS)}), ` +
        `then keepalived stopped: priority-0 advert, skew ${s(skew - late)} of ${backup.name}${lateWhy}`,
    };
  } else if (inst.trackWeight === 0) {
    const instant = features.trackFile;
    const ms = (instant ? 0 : detectMs) + skew + TRANSITION_MS;
    nginx = {
      expectedMaxMs: ms,
      why: instant
        ? `nginx stop signalled at once (track_file), FAULT: priority-0 advert, skew ${s(skew)} of ${backup.name}`
        : `check fails ${hc.fall} x every ${hc.interval} s (${s(detectMs)}), FAULT: priority-0 advert, ` +
          `skew ${s(skew - late)} of ${backup.name}${lateWhy}`,
    };
  } else {
    const instant = features.trackFile;
    const delay = (inst.preemptDelay ?? 0) * 1000;
    const ms = (instant ? 0 : detectMs) + delay + down + TRANSITION_MS;
    nginx = {
      expectedMaxMs: ms,
      why:
        (instant ? 'nginx stop signalled at once (track_file)' : `check fails ${hc.fall} x every ${hc.interval} s`) +
        `, priority drops by ${-inst.trackWeight}: ` +
        (delay ? `preempt_delay ${s(delay)}, ` : '') +
        `the backup waits its ${downWhy}`,
    };
  }
  return {
    nginx,
    keepalived: {
      expectedMaxMs: skew + TRANSITION_MS,
      why:
        `keepalived stopped: priority-0 advert, skew ${s(skew - late)} of ${backup.name} ` +
        `(priority ${backup.priority})${lateWhy}`,
    },
    crash: { expectedMaxMs: down + TRANSITION_MS, why: `no goodbye after SIGKILL: ${downWhy}` },
    link: { expectedMaxMs: down + TRANSITION_MS, why: `no adverts while the link is down: ${downWhy}` },
    switchover: {
      expectedMaxMs: 0,
      why: 'a planned hand-over: the old holder answers for the VIPs until the new one holds them',
    },
  };
}

/** how long the link scenario keeps the master's interface down: long enough for the backup to take over */
export function linkDownMs(bound: number): number {
  return Math.max(4000, Math.ceil((bound + 2000) / 1000) * 1000);
}

/**
 * How long the pair may take to be whole again after a scenario's restore: keepalived starting, the health check
 * passing `rise` times, preempt_delay, a few adverts for the VIP to come back, and slack for a slow host.
 */
export function settleTimeoutMs(cfg: Config, inst: ResolvedInstance): number {
  const hc = cfg.healthCheck;
  return Math.round(
    10_000 + (hc.rise + 1) * hc.interval * 1000 + (inst.preemptDelay ?? 0) * 1000 + 4 * inst.advertInt * 1000,
  );
}

/** one line per scenario for the init summary, and a warning when nginx failures take long to move the VIP */
export function boundsSummary(cfg: Config, features?: BoundFeatures): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const inst of cfg.instances) {
    const b = expectedBounds(cfg, inst, inst.master, features);
    lines.push(
      `  ${inst.name} worst-case client gap: nginx down ${s(b.nginx.expectedMaxMs)}, keepalived stopped ` +
        `${s(b.keepalived.expectedMaxMs)}, keepalived crash ${s(b.crash.expectedMaxMs)}, ` +
        `node loss ${s(b.link.expectedMaxMs)}`,
    );
    if (b.nginx.expectedMaxMs > NGINX_WARN_MS) {
      const hc = cfg.healthCheck;
      const how: string[] = [];
      if (hc.interval * hc.fall > 2) how.push(`a shorter check (healthCheck.interval ${hc.interval}, fall ${hc.fall})`);
      if (inst.trackWeight < 0) how.push('healthCheck.weight 0 (FAULT: the backup takes over after its skew time)');
      if (hc.mode === 'restart-then-stop')
        how.push('healthCheck.mode weight (no restart attempt, no stopped keepalived)');
      if (!isFastProfile(cfg.profile)) how.push('profile fast (instant nginx stop signal, 0.1 s adverts)');
      warnings.push(
        `${inst.name}: when nginx dies on the master, clients may wait up to ${s(b.nginx.expectedMaxMs)} ` +
          `(${b.nginx.why})` +
          (how.length ? `; to shorten it: ${how.join(', or ')}` : ''),
      );
    }
  }
  return { lines, warnings };
}

/** above this, init warns that nginx failures take long to move the VIP */
export const NGINX_WARN_MS = 3000;
