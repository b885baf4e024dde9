/**
 * What a change makes true on a host, as facts: the plan is built step by step on the facts each earlier step
 * leaves behind, so the whole plan exists before anything changes (and apply executes exactly it). Where the outcome
 * cannot be known in advance (what a package install writes, whether its service starts) the fact becomes
 * 'unknown' and the later steps plan for either case.
 */
import { noEpoch } from '../answers/packages.js';
import type { InitFacts } from '../facts/gather.js';
import type { Change, FactPatch } from './types.js';

/** configuration files a package may create or replace (besides its whole directory for nginx) */
const PACKAGE_FILES: Record<string, string[]> = {
  keepalived: ['/etc/keepalived/keepalived.conf', '/etc/default/keepalived', '/etc/sysconfig/keepalived'],
  nginx: [],
};

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** a copy of `base` with `patch` merged in (objects key by key; arrays and values replaced) */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isObject(base) || !isObject(patch)) return (patch === undefined ? base : patch) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

/**
 * `name` installed in `version` (x.y.z for keepalived); `full`: the version as the packages fact will read it, when
 * the plan knows it (an upgrade from the repositories)
 */
function installed(
  f: InitFacts,
  name: string,
  version: string | null | undefined,
  nginxDir: string,
  full?: string,
): InitFacts {
  const out = structuredClone(f);
  const key = name === 'prometheus-node-exporter' ? 'nodeexporter' : name;
  const upgrade = key in f.packages && !!f.packages[key as keyof InitFacts['packages']];
  if (key in out.packages) out.packages[key as keyof InitFacts['packages']] = full ?? version ?? 'unknown';
  if (name === 'keepalived') {
    out.kaversion = version ?? out.kacandidate ?? out.kaversion;
    out.kaupgrade = null; // nothing newer once installed
  }
  // an upgrade keeps the configuration files (Debian's conffiles with --force-confold, RPM's %config(noreplace)) and
  // the service's state: the package restarts a running one on the old files, so a new configuration still needs
  // its reload or restart, and a stopped one stays stopped
  if (upgrade) return out;
  // a fresh keepalived does not start (Debian's unit needs a non-empty keepalived.conf, RHEL's is not enabled);
  // nginx starts on Debian and not on RHEL: unknown, so the later steps start or reload it either way
  out.services[name] = { active: name === 'keepalived' ? 'inactive' : 'unknown', enabled: 'unknown', mainPid: 0 };
  const owned = (p: string) => PACKAGE_FILES[name]?.includes(p) || (name === 'nginx' && p.startsWith(`${nginxDir}/`));
  for (const p of [...Object.keys(out.files), ...(PACKAGE_FILES[name] ?? [])])
    if (owned(p)) out.files[p] = { exists: 'unknown' };
  if (name === 'nginx') out.nginxtree = null;
  return out;
}

const SERVICE_STATE: Record<string, { active?: string; enabled?: string }> = {
  enable: { enabled: 'enabled' },
  disable: { enabled: 'disabled' },
  start: { active: 'active' },
  restart: { active: 'active' },
  'reload-or-restart': { active: 'active' },
  stop: { active: 'inactive' },
};

/** the facts after `c` ran on the host (pure) */
export function afterChange(
  f: InitFacts,
  c: Change,
  all: Record<string, InitFacts>,
  nginxDir = '/etc/nginx',
): InitFacts {
  switch (c.kind) {
    case 'file':
      return deepMerge(f, { files: { [c.path]: { exists: true, content: c.content, mode: c.mode } } });
    case 'remove-file':
      return { ...f, files: { ...f.files, [c.path]: { exists: false } } };
    case 'command':
      return c.sets ? deepMerge(f, c.sets as FactPatch) : f;
    case 'package': {
      // an upgrade's version as the packages fact reads it: dpkg's with its epoch, rpm's VERSION-RELEASE without
      const to = c.upgrade && (c.manager === 'apt' ? c.upgrade.to : noEpoch(c.upgrade.to));
      return c.names.reduce(
        (x, n) =>
          n === 'keepalived'
            ? installed(x, n, c.expectVersion, nginxDir, to || undefined)
            : installed(x, n, 'planned', nginxDir),
        f,
      );
    }
    case 'package-file':
      return installed(f, c.name, c.expectVersion ?? 'planned', nginxDir);
    case 'service': {
      const s = SERVICE_STATE[c.action];
      if (!s) return f;
      const cur = f.services[c.name] ?? { active: 'inactive', enabled: 'not-found', mainPid: 0 };
      return deepMerge(f, { services: { [c.name]: { ...cur, ...s } } });
    }
    case 'nginx-sync': {
      const src = all[c.from];
      const files = Object.fromEntries(
        Object.entries(src?.files ?? {}).filter(([p]) => p.startsWith(`${c.configDir}/`)),
      );
      return deepMerge({ ...f, nginxtree: structuredClone(src?.nginxtree ?? null) }, { files });
    }
    case 'verify':
      return f;
  }
}
