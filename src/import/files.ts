/**
 * What an import leaves for the run that takes the pair over: the snippet files (written beside the answers and
 * named by keepalived.snippets) and, for a wizard that goes on to apply, the VRRP passwords as the hosts have them
 * (in memory only: the saved answers name an environment variable, never a password).
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AUTH_PASS_RE, type AnswersInput } from '../answers/schema.js';
import { walkConf } from './keepalived-conf.js';
import type { ImportOutcome } from './run.js';

/** write the snippets into `dir` and name them in the answers (relative: `./NAME`, or absolute); returns the paths */
export function writeSnippets(
  answers: AnswersInput,
  snippets: ImportOutcome['result']['snippets'],
  dir: string,
  opts: { absolute?: boolean } = {},
): string[] {
  const files = snippets.map((s) => ({ ...s, path: join(dir, s.name) }));
  for (const f of files) writeFileSync(f.path, f.text, { mode: 0o644 });
  if (files.length) {
    const ref = (p: string) => (opts.absolute ? p : `./${basename(p)}`);
    answers.keepalived = {
      ...answers.keepalived,
      snippets: files.map((f) => (f.node ? { file: ref(f.path), node: f.node } : ref(f.path))),
    };
  }
  return files.map((f) => f.path);
}

/**
 * The current VRRP password of each imported instance, by the environment variable the answers name (what the
 * first host's auth_pass says, cut to the 8 characters keepalived uses); a value ha-setup would refuse is left out.
 */
export function importedPasswords(out: ImportOutcome): Record<string, string> {
  const found: Record<string, string> = {};
  for (const s of out.result.secrets) {
    const m = /^[^:]+:(.+):(\d+)$/.exec(s.where);
    if (!m) continue;
    for (const h of out.hosts) {
      for (const [n] of walkConf(h.config.tree)) {
        if (n.keyword !== 'auth_pass' || n.at.file !== m[1] || n.at.line !== Number(m[2])) continue;
        const v = (n.args[0] ?? '').slice(0, 8);
        if (AUTH_PASS_RE.test(v)) found[s.env] = v;
      }
      if (found[s.env] !== undefined) break;
    }
  }
  return found;
}
