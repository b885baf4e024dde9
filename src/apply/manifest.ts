/** The run's manifest on each host: what was backed up and done, so a failed run or `rollback` can undo it. */
import type { ServiceFact } from '../facts/types.js';
import type { Conn } from '../conn.js';

export type ManifestEntry =
  | { type: 'start'; runId: string; time: string; services: Record<string, ServiceFact>; node: string }
  | { type: 'file'; path: string; existed: boolean }
  | { type: 'dir'; path: string; existed: boolean }
  | { type: 'command'; argv: string[]; undo?: string[] }
  | { type: 'package'; names: string[] }
  /** a state flag written (maintenance, demote.TARGET, handover.TARGET): its value before (null: no flag file) */
  | { type: 'flag'; name: string; before: number | null }
  | { type: 'end'; ok: boolean; time: string }
  | { type: 'rolledback'; time: string };

/** Append one entry to a run's manifest.jsonl on the host (the run directory is created root-only). */
export async function appendManifest(conn: Conn, runDir: string, entry: ManifestEntry): Promise<void> {
  await conn.mustSh(appendManifestSh('"$1"', '"$2"'), [runDir, JSON.stringify(entry)], 'writing the backup manifest', {
    timeoutMs: 30_000,
  });
}

/** sh appending a line to a run's manifest.jsonl (the run directory created root-only); both are shell words */
export function appendManifestSh(runDir: string, line: string): string {
  return `mkdir -p ${runDir} && chmod 700 ${runDir} && printf "%s\\n" ${line} >> ${runDir}/manifest.jsonl`;
}

/** Read a run's manifest from a host. */
export async function readManifest(conn: Conn, runDir: string): Promise<ManifestEntry[]> {
  const r = await conn.exec(['cat', `${runDir}/manifest.jsonl`], { timeoutMs: 30_000 });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestEntry);
}
