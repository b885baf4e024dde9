/** What a configuration promises, printed for people: the worst-case client gap per failure (bounds.ts). */
import type { Config } from '../answers/resolve.js';
import { boundsSummary, type BoundFeatures } from '../failover/bounds.js';
import { styler, type IO } from '../io.js';

export function printBounds(io: IO, cfg: Config, features?: BoundFeatures): void {
  const { lines, warnings } = boundsSummary(cfg, features);
  io.err(`Expected worst-case client gaps (from this configuration; verify-failover measures them):`);
  io.err(lines.join('\n'));
  const st = styler(io);
  for (const w of warnings) io.err(st.yellow(`warning: ${w}`));
}
