/**
 * Directories the file checks of src/facts/safe-file.ts accept: under the home directory of the user running the
 * tests (root-owned /root here; a user's own home elsewhere: file_check accepts files of the user running it), not
 * under /tmp, which anyone can write to. Removed by removeSafeDirs().
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** a fresh directory (0755) that only its owner can write, nor any directory above it */
export function safeDir(prefix = 'ha-safe-'): string {
  const d = mkdtempSync(join(homedir(), `.${prefix}`));
  chmodSync(d, 0o755);
  made.push(d);
  return d;
}

export function removeSafeDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
