/** The unified diff of a planned file change (jsdiff), in the plan's wording: host's file against ha-setup's. */
import { structuredPatch } from 'diff';

/**
 * `--- PATH (on host)` / `+++ PATH (ha-setup)`, then @@ hunks with `context` lines around each change (a hunk of
 * no old or new lines starts at the line before, as diff -u writes it); only the two names when the texts are the
 * same (a change of mode)
 */
export function unifiedDiff(before: string, after: string, path: string, context = 3): string {
  const { hunks } = structuredPatch(path, path, before, after, undefined, undefined, { context });
  const out = [`--- ${path} (on host)`, `+++ ${path} (ha-setup)`];
  for (const h of hunks) {
    const from = h.oldLines ? h.oldStart : h.oldStart - 1;
    const to = h.newLines ? h.newStart : h.newStart - 1;
    out.push(`@@ -${from},${h.oldLines} +${to},${h.newLines} @@`, ...h.lines);
  }
  return out.join('\n');
}
