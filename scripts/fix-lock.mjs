// npm on these machines leaves other platforms' optional packages (rollup's native builds) out of
// package-lock.json, and `npm ci` then refuses the lock as out of sync. This adds the missing entries from the
// registry's metadata (version, integrity, os/cpu/libc), marked optional, so `npm ci` accepts the lock and skips
// them on platforms they are not for. Run after `npm install`: node scripts/fix-lock.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(pkg.optionalDependencies ?? {})) {
    if (lock.packages[`node_modules/${name}`] || lock.packages[`${key}/node_modules/${name}`]) continue;
    const view = (spec) => {
      try {
        const meta = JSON.parse(
          execFileSync('npm', ['view', spec, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
        );
        return Array.isArray(meta) ? meta[meta.length - 1] : meta;
      } catch {
        return null;
      }
    };
    // the exact build may be missing from the registry this machine reaches: then take os/cpu/libc from the
    // newest build (npm ci never fetches another platform's optional package; it only checks the lock)
    const exact = view(`${name}@${range}`);
    const m = exact ?? view(name);
    if (!m) throw new Error(`fix-lock: no metadata at all for ${name}`);
    const entry = exact
      ? { version: m.version, integrity: m.dist.integrity }
      : { version: range.replace(/^[\^~=]/, '') };
    if (m.cpu) entry.cpu = m.cpu;
    if (pkg.dev) entry.dev = true;
    if (m.libc) entry.libc = m.libc;
    if (m.license) entry.license = m.license;
    entry.optional = true;
    if (m.os) entry.os = m.os;
    lock.packages[`node_modules/${name}`] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`fix-lock: added ${added} optional package entries`);
