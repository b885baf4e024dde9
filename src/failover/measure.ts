/**
 * From raw samples to the figures an operator cares about (pure, tested with fixtures):
 * - timeToHolderMs: fault injected -> another node holds the VIP
 * - gapMs: first failed probe after the fault -> first good probe served through the new holder, or through a
 *   node that holds the VIP alone again after it moved (the old master back by itself: a crash restarted by systemd)
 * - failed/total probes between the fault and the restore
 * - splitBrainMs: how long the VIP was on more than one node at once
 */
import type { ProbeSample } from '../observe/probe.js';
import type { HolderPoint, Measured } from './types.js';

export type { HolderPoint, Measured } from './types.js';

export function holdersAt(timeline: HolderPoint[], t: number): string[] {
  let cur: string[] = [];
  for (const p of timeline) {
    if (p.t > t) break;
    cur = p.holders;
  }
  return cur;
}

export function measure(
  samples: ProbeSample[],
  timeline: HolderPoint[],
  faultAt: number,
  master: string,
  windowEnd: number,
  probeTimeoutMs: number,
): Measured {
  const moved = timeline.find((p) => p.t >= faultAt && p.holders.some((h) => h !== master));
  const newHolder = moved ? (moved.holders.find((h) => h !== master) ?? null) : null;
  // a probe sent just before the fault can fail because of it
  const inWindow = samples.filter((s) => s.t >= faultAt - probeTimeoutMs && s.t <= windowEnd);
  const firstFail = inWindow.find((s) => !s.ok) ?? null;
  let recovered: ProbeSample | null = null;
  if (firstFail) {
    // an answer from the old master while it still holds the VIP (in flight at the fault) does not end the gap;
    // once the VIP has moved, whoever holds it alone and answers does
    const servedOk = (s: ProbeSample): boolean => {
      const hs = holdersAt(timeline, s.t);
      const backAlone = !!moved && s.t > moved.t && hs.length === 1;
      if (s.servedBy) return s.servedBy === newHolder || (backAlone && hs[0] === s.servedBy);
      return (newHolder !== null && hs.includes(newHolder)) || backAlone;
    };
    recovered = inWindow.find((s) => s.t > firstFail.t && s.ok && servedOk(s)) ?? null;
  }
  let split = 0;
  for (let i = 0; i < timeline.length; i++) {
    const p = timeline[i];
    const end = Math.min(timeline[i + 1]?.t ?? windowEnd, windowEnd);
    const start = Math.max(p.t, faultAt);
    if (p.holders.length > 1 && end > start) split += end - start;
  }
  return {
    newHolder,
    timeToHolderMs: moved ? Math.max(0, moved.t - faultAt) : null,
    firstFailAt: firstFail?.t ?? null,
    recoveredAt: recovered?.t ?? null,
    gapMs: firstFail ? (recovered ? recovered.t - firstFail.t : null) : 0,
    failedProbes: inWindow.filter((s) => !s.ok).length,
    totalProbes: inWindow.length,
    splitBrainMs: Math.round(split),
    unrecovered: !!firstFail && !recovered,
  };
}
