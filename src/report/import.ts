/**
 * What `import` says besides the answers: decisions, kept and dropped constructs (file:line), passwords, warnings.
 * Their text quotes the hosts' files (keywords, paths, values): shown with control characters escaped.
 */
import type { ImportOutcome } from '../import/run.js';
import { styler, type IO } from '../io.js';
import { printable } from '../printable.js';

export function renderImport(io: IO, out: ImportOutcome, snippetFiles: string[], json: boolean): void {
  const r = out.result;
  if (json) {
    const { ledger: _ledger, ...rest } = r;
    io.out(JSON.stringify({ ok: true, ...rest, snippetFiles }, null, 2));
    return;
  }
  const st = styler(io);
  const say = (line: string, paint: (s: string) => string = (x) => x) => io.err(paint(printable(line)));
  for (const d of r.decisions) say(`decided: ${d}`);
  for (const n of r.kept) say(`kept: ${n.at}: ${n.text}`);
  for (const n of r.dropped) say(`dropped: ${n.at}: ${n.text}`, st.yellow);
  for (const f of snippetFiles) say(`wrote ${f} (named by keepalived.snippets; init installs it)`);
  for (const s of r.secrets)
    say(
      s.instance === undefined
        ? `webhook: alerts.webhookEnv reads its URL from $${s.env} (the current value is in ${s.where}): ` +
            `export ${s.env}=...`
        : `password: instance ${s.instance} reads it from $${s.env} (the current value is at ${s.where}): ` +
            `export ${s.env}=...`,
    );
  for (const w of r.warnings) say(`warning: ${w}`, st.yellow);
}
