/**
 * The verdict of one scenario (pure): from what was measured to ok or not, the reasons, and the notes. A gap over
 * the limit, a VIP that never moved or never came back, a split brain, a pair not as before, a return that cost
 * clients something are failures; a crashed keepalived restarted before any failover was needed is a note.
 */
import type { Target } from '../answers/targets.js';
import type { HolderPoint, Measured, ReturnMeasure, ScenarioName, VipFigures } from './types.js';

export interface VerdictInput {
  name: ScenarioName;
  target: Target;
  master: string;
  measured: Measured;
  /** who held each VIP over time */
  timelines: Record<string, HolderPoint[]>;
  faultAt: number;
  bound: number;
  maxGapMs: number;
  maxGapGiven: boolean;
  why: string;
  restoreFailed: string | null;
  left: { kind: string; node: string; what: string; was: string; now: string }[];
  /** the VIPs should be back on the master (preempt) */
  expectBack: boolean;
  after: string[];
  ret: ReturnMeasure | null;
  /** the target's further VIPs (its other address family, the rest of a sync group), each probed on its own */
  others?: VipFigures[];
}

export interface Verdict {
  reasons: string[];
  notes: string[];
  left: string[];
  groupMoved: boolean | null;
  ret: ReturnMeasure | null;
}

/** how long a split brain may last before it is a failure (one advert and the probe's own timing) */
export const SPLIT_BRAIN_LIMIT_MS = 2000;

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function describeLeft(d: VerdictInput['left'][number]): string {
  if (d.kind === 'vip') return `${d.what}: held by ${d.now} (was ${d.was})`;
  return `${d.node}: ${d.what} was ${d.was}, now ${d.now}`;
}

function movementReasons(x: VerdictInput, notes: string[], reasons: string[]): void {
  const m = x.measured;
  if (!m.newHolder && x.name === 'crash' && m.failedProbes === 0 && m.splitBrainMs === 0) {
    // systemd restarted keepalived before the backup's master-down timer ran out: the VIP stayed, clients were
    // served all along (keepalived 1.x keeps the VIP through its restart; 2.x removes and retakes it)
    notes.push(
      `keepalived on ${x.master} was restarted before the backup's master-down timer ran out: ` +
        'no failover was needed, no client failed',
    );
  } else if (!m.newHolder) {
    const tl = x.timelines[Object.keys(x.timelines)[0]] ?? [];
    const orphaned = tl.some((p) => p.t >= x.faultAt && p.holders.length === 0);
    reasons.push(
      orphaned
        ? `the VIP left ${x.master} but no other node took it (is the backup in FAULT? check its nginx and keepalived)`
        : `the VIP never left ${x.master}`,
    );
  }
  if (m.unrecovered)
    reasons.push(`clients were not served again through ${m.newHolder ?? 'another node'} before the restore`);
}

export function verdict(x: VerdictInput): Verdict {
  const m = x.measured;
  const reasons: string[] = [];
  const notes: string[] = [];
  let groupMoved: boolean | null = null;
  if (x.target.group && m.newHolder) {
    // a sync group moves as one: every VIP of the group held by the new holder at some time after the fault
    const stray = Object.entries(x.timelines)
      .filter(([, tl]) => !tl.some((p) => p.t >= x.faultAt && p.holders.includes(m.newHolder!)))
      .map(([v]) => v);
    groupMoved = stray.length === 0;
    if (stray.length) reasons.push(`sync group ${x.target.group}: ${stray.join(', ')} did not move to ${m.newHolder}`);
  }
  movementReasons(x, notes, reasons);
  if (m.gapMs !== null && m.gapMs > x.maxGapMs)
    reasons.push(
      `gap ${sec(m.gapMs)} is over ` +
        (x.maxGapGiven
          ? `--max-gap ${sec(x.maxGapMs)}`
          : `the configuration's bound ${sec(x.bound)} + margin ${sec(x.maxGapMs - x.bound)} (${x.why})`),
    );
  if (m.splitBrainMs > SPLIT_BRAIN_LIMIT_MS)
    reasons.push(
      x.name === 'crash' && m.splitBrainMs >= 4500
        ? `split brain: the killed master kept a stale VIP until the restore (${sec(m.splitBrainMs)}; ` +
            'nothing restarts keepalived: set failover.restartOnCrash)'
        : `split brain: the VIP was on two nodes for ${sec(m.splitBrainMs)}`,
    );
  if (x.restoreFailed) reasons.push(`restore failed: ${x.restoreFailed}`);
  const left = x.left.map(describeLeft);
  if (left.length) reasons.push(`not as before the test: ${left.join('; ')}`);
  const backNow = x.after.length === 1 && x.after[0] === x.master;
  if (x.expectBack && !backNow) reasons.push(`the VIP did not return to ${x.master} after the restore (preempt)`);
  for (const o of x.others ?? []) {
    if (o.gapMs === null) reasons.push(`${o.vip}: clients were not served again before the restore`);
    else if (o.gapMs > x.maxGapMs) reasons.push(`${o.vip}: gap ${sec(o.gapMs)} is over the limit ${sec(x.maxGapMs)}`);
    if (o.returnFailed) reasons.push(`${o.vip}: the planned return failed ${o.returnFailed} requests`);
  }
  if (x.ret && x.ret.failedProbes > 0)
    reasons.push(
      `giving the VIP back to ${x.master} (a planned move) failed ${x.ret.failedProbes} of ${x.ret.totalProbes} ` +
        `requests (gap ${sec(x.ret.gapMs)})`,
    );
  return { reasons, notes, left, groupMoved, ret: x.ret };
}
