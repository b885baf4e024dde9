/** What `import` says besides the answers: decisions, kept and dropped constructs (file:line), passwords, warnings. */
import type { ImportOutcome } from '../import/run.js';
import { styler, type IO } from '../io.js';

export function renderImport(io: IO, out: ImportOutcome, snippetFiles: string[], json: boolean): void {
  const r = out.result;
  if (json) {
    const { ledger: _ledger, ...rest } = r;
    io.out(JSON.stringify({ ok: true, ...rest, snippetFiles }, null, 2));
    return;
  }
  const st = styler(io);
  for (const d of r.decisions) io.err(`decided: ${d}`);
  for (const n of r.kept) io.err(`kept: ${n.at}: ${n.text}`);
  for (const n of r.dropped) io.err(st.yellow(`dropped: ${n.at}: ${n.text}`));
  for (const f of snippetFiles) io.err(`wrote ${f} (named by keepalived.snippets; init installs it)`);
  for (const s of r.secrets)
    io.err(
      `password: instance ${s.instance} reads it from $${s.env} (the current value is at ${s.where}): ` +
        `export ${s.env}=...`,
    );
  for (const w of r.warnings) io.err(st.yellow(`warning: ${w}`));
}
