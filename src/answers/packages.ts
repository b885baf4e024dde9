/**
 * Package files given in the answers (packages.keepalived / packages.nginx) for hosts with no repository: what each
 * file is, read from its first bytes (an RPM lead, or a Debian ar archive), and its name and version from the file
 * name as rpmbuild and dpkg-deb write them. A file whose content is not what its name says is refused.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { expandHome } from '../home.js';

export interface PackageFile {
  /** absolute path on the controller */
  path: string;
  file: string;
  format: 'rpm' | 'deb';
  name: string;
  /** upstream version (x.y.z), null when the file name does not say */
  version: string | null;
  /** the whole version as the package manager reports it once installed: rpm VERSION-RELEASE, dpkg's Version */
  full: string | null;
}

const RPM_LEAD = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
const DEB_AR = Buffer.from('!<arch>\ndebian-binary', 'latin1');

/** name and version from NAME-VERSION-RELEASE.ARCH.rpm or NAME_[EPOCH:]VERSION[-REVISION]_ARCH.deb */
export function parsePackageFileName(
  given: string,
): { name: string; version: string | null; full: string | null } | null {
  const file = given.replace(/%3a/gi, ':');
  let m = /^(.+)-([^-]+)-([^-]+)\.([^.]+)\.rpm$/.exec(file);
  if (m) return { name: m[1], version: /^(\d+\.\d+(?:\.\d+)?)/.exec(m[2])?.[1] ?? null, full: `${m[2]}-${m[3]}` };
  m = /^([^_]+)_((?:\d+:)?([^_]+))_([^_]+)\.deb$/.exec(file);
  if (m) return { name: m[1], version: /^(\d+\.\d+(?:\.\d+)?)/.exec(m[3])?.[1] ?? null, full: m[2] };
  return null;
}

/** the first bytes of a file, or why it cannot be read */
function head(path: string, n: number): Buffer | string {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(n);
      const got = readSync(fd, buf, 0, n, 0);
      return buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

/** inspect one file; a string is the problem */
export function inspectPackage(given: string, expectName: string, baseDir: string): PackageFile | string {
  const p = expandHome(given);
  const path = isAbsolute(p) ? p : resolve(baseDir, p);
  const file = basename(path);
  const h = head(path, DEB_AR.length);
  if (typeof h === 'string') return `${given} ${h}`;
  const format = file.endsWith('.rpm') ? 'rpm' : 'deb';
  if (format === 'rpm' && !h.subarray(0, 4).equals(RPM_LEAD)) {
    return `${given} is not an RPM package (it does not start with an RPM lead)`;
  }
  if (format === 'deb' && !h.equals(DEB_AR)) return `${given} is not a Debian package (not an ar archive)`;
  const parsed = parsePackageFileName(file);
  if (!parsed) {
    return (
      `${given}: the file name does not say the package name and version ` +
      '(NAME-VERSION-RELEASE.ARCH.rpm or NAME_VERSION_ARCH.deb)'
    );
  }
  if (parsed.name !== expectName) return `${given} is a package of ${parsed.name}, not ${expectName}`;
  return { path, file, format, name: parsed.name, version: parsed.version, full: parsed.full };
}

/** the directory relative package paths are taken from: the answers file's, else the working directory */
export function packageBaseDir(source: string | undefined, cwd: string): string {
  return source && source !== 'answers' ? dirname(resolve(cwd, source)) : cwd;
}

/** a package version without its epoch ("1:2.2.7-1+b2" -> "2.2.7-1+b2"): rpm -q's VERSION-RELEASE carries none */
export const noEpoch = (v: string): string => v.replace(/^\d+:/, '');

/**
 * The installed version (dpkg's Version, rpm's VERSION-RELEASE) is the package file's: a file name without an epoch
 * (Debian's pool names never carry it: keepalived_2.2.7-1+b2_amd64.deb is 1:2.2.7-1+b2) matches any epoch
 */
export function isInstalledVersion(installed: string, file: PackageFile): boolean {
  if (!file.full) return true;
  return file.full.includes(':') ? installed === file.full : noEpoch(installed) === file.full;
}
