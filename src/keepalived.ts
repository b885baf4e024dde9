/**
 * What each keepalived version accepts, in one place: the templates render only what the host's version reads,
 * validation uses `keepalived -t` where it exists, and verify-failover's bounds know which signals exist.
 * (Refined for 1.3.5, CentOS 7's version, from its source: see the RHEL notes in the README.)
 */
export function versionAtLeast(v: string | null, min: string): boolean {
  if (!v) return false;
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export interface KeepalivedFeatures {
  /**
   * `keepalived -t`: check a configuration and exit (2.0.4+). 1.3.5 has none, and it answers an unknown option
   * with exit 0: ha-setup validates there by starting the new file in a private namespace (validate-1x.sh)
   */
  configTest: boolean;
  /**
   * `track_file` (2.0.0+; 1.3.5 knows neither it nor vrrp_track_file, and an instance-level track_file block even
   * ends the vrrp_instance early, losing the keywords after it): the fast profile's instant nginx stop signal
   */
  trackFile: boolean;
  /**
   * 2.x computes the VRRPv3 checksum of unicast adverts differently from 1.x; `old_unicast_checksum` makes a 2.x
   * node talk to a 1.x peer (without it both hold the VIP: seen on the lab)
   */
  oldUnicastChecksum: boolean;
  /** an `include` glob that matches no file is fatal before 2.0 (at start and on reload) */
  emptyIncludeOk: boolean;
  /**
   * before 2.0 a check result applies at the next advert, and a takeover logs "Transition to MASTER STATE" one
   * advert interval before the VIP is taken (seen on the lab): verify-failover's bounds add an advert for each
   */
  lateTransition: boolean;
  /**
   * 1.x starts an instance that tracks a weight-0 vrrp_script in FAULT until the script's first result, and may be
   * MASTER for a moment before that when no advert came (seen on the lab with 1.3.5: BACKUP, MASTER, FAULT, then
   * BACKUP and MASTER after the check's rise): the first holder seen after a start can lose the VIP again
   */
  faultAtStart: boolean;
  /** `vrrp_rt_priority`: the VRRP process in real-time scheduling (2.x; 1.3.5 has no such keyword) */
  realtime: boolean;
  /** `notify_master_rx_lower_pri`: a script when a master hears a lower-priority master (2.0.6+): a split brain */
  rxLowerPri: boolean;
}

/** features of a version; an unknown version (not installed yet) is taken as current 2.x */
export function keepalivedFeatures(version: string | null): KeepalivedFeatures {
  const v = version ?? '2.2.7';
  const two = versionAtLeast(v, '2.0.0');
  return {
    configTest: versionAtLeast(v, '2.0.4'),
    trackFile: two,
    oldUnicastChecksum: two,
    emptyIncludeOk: two,
    lateTransition: !two,
    faultAtStart: !two,
    realtime: two,
    rxLowerPri: versionAtLeast(v, '2.0.6'),
  };
}
