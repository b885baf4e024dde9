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
  /** `keepalived -t`: check a configuration and exit (2.0.4+) */
  configTest: boolean;
  /** top-level `track_file` blocks read through inotify (2.x) */
  trackFile: boolean;
}

/** features of a version; an unknown version (not installed yet) is taken as current 2.x */
export function keepalivedFeatures(version: string | null): KeepalivedFeatures {
  const v = version ?? '2.2.7';
  return {
    configTest: versionAtLeast(v, '2.0.4'),
    trackFile: versionAtLeast(v, '2.0.0'),
  };
}
