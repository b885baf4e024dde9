/**
 * keepalived's VRRP timers for a configuration (RFC 3768 / 5798): the skew time of a backup of priority p, its
 * master-down timer, and the longest an election can take. Used by the bounds verify-failover measures against,
 * by init's wait for the VIPs to settle and by the hand-overs' timeouts.
 */
import type { Config, ResolvedInstance } from './resolve.js';

export function skewMs(cfg: Pick<Config, 'vrrpVersion'>, inst: Pick<ResolvedInstance, 'advertInt'>, p: number): number {
  const base = cfg.vrrpVersion === 2 ? 1000 : inst.advertInt * 1000;
  return ((256 - p) * base) / 256;
}

export function masterDownMs(cfg: Pick<Config, 'vrrpVersion'>, inst: Pick<ResolvedInstance, 'advertInt'>, p: number) {
  return 3 * inst.advertInt * 1000 + skewMs(cfg, inst, p);
}

/** the longest an election after a keepalived start or reload can take: the slowest master-down timer + 1 s */
export function reElectionMs(cfg: Config): number {
  // the lowest priority has the longest skew
  return Math.max(...cfg.instances.map((i) => masterDownMs(cfg, i, Math.min(...Object.values(i.priorities))))) + 1000;
}
