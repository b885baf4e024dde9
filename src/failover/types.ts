/**
 * The figures of a failover scenario shared by the run (run.ts), the measure (measure.ts) and the verdict
 * (verdict.ts): here so that the verdict does not import the run that calls it.
 */

export type ScenarioName = 'nginx' | 'keepalived' | 'crash' | 'link' | 'switchover';

export interface HolderPoint {
  t: number;
  holders: string[];
}

export interface Measured {
  newHolder: string | null;
  timeToHolderMs: number | null;
  firstFailAt: number | null;
  recoveredAt: number | null;
  gapMs: number | null;
  failedProbes: number;
  totalProbes: number;
  splitBrainMs: number;
  /** the probe failed at the end of the window (clients never came back) */
  unrecovered: boolean;
}

export interface ReturnMeasure {
  /** failed / total probes while the VIPs were given back to the master (a planned move: expected 0) */
  failedProbes: number;
  totalProbes: number;
  /** longest run of failed probes during the return, ms */
  gapMs: number;
}

/** what clients of one VIP saw in a scenario (each VIP of a target has its own probe) */
export interface VipFigures {
  vip: string;
  gapMs: number | null;
  failedProbes: number;
  totalProbes: number;
  /** failed probes while the VIPs were given back (a planned move: expected 0); null without a return */
  returnFailed: number | null;
}
