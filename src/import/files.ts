/**
 * What an import leaves for the run that takes the pair over: the snippet files (written beside the answers, never
 * over a file that is there, and named by keepalived.snippets) and, for a wizard that goes on to apply, the VRRP
 * passwords as the hosts have them (in memory only: the saved answers name an environment variable, never a
 * password).
 */
import { basename, join } from 'node:path';
import { AUTH_PASS_RE, URL_RE, type AnswersInput } from '../answers/schema.js';
import { PATHS } from '../paths.js';
import type { LocalFile } from '../local-files.js';
import { walkConf } from './keepalived-conf.js';
import { hookVar } from './map-own.js';
import type { ImportOutcome } from './run.js';

/**
 * the snippets as files in `dir` (for writeLocalFiles: mode 0644), named in the answers (relative: `./NAME`, or
 * absolute)
 */
export function snippetFiles(
  answers: AnswersInput,
  snippets: ImportOutcome['result']['snippets'],
  dir: string,
  opts: { absolute?: boolean } = {},
): LocalFile[] {
  const files = snippets.map((s) => ({ node: s.node, path: join(dir, s.name), text: s.text, mode: 0o644 }));
  if (files.length) {
    const ref = (p: string) => (opts.absolute ? p : `./${basename(p)}`);
    answers.keepalived = {
      ...answers.keepalived,
      snippets: files.map((f) => (f.node ? { file: ref(f.path), node: f.node } : ref(f.path))),
    };
  }
  return files.map(({ path, text, mode }) => ({ path, text, mode }));
}

/**
 * The current VRRP password of each imported instance, by the environment variable the answers name (what the
 * first host's auth_pass says, cut to the 8 characters keepalived uses), and the webhook's URL; a value ha-setup
 * would refuse is left out.
 */
export function importedPasswords(out: ImportOutcome): Record<string, string> {
  const found: Record<string, string> = {};
  for (const s of out.result.secrets) {
    if (s.instance === undefined) {
      const url = webhookOf(out, s.where.split(':')[0]);
      if (url && URL_RE.test(url)) found[s.env] = url;
      continue;
    }
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

/** the webhook URL of a node's notify hook: read from its root-only file, or (an older hook) from the hook itself */
function webhookOf(out: ImportOutcome, node: string): string | undefined {
  const host = out.hosts[out.result.answers.nodes.findIndex((n) => n.name === node)];
  if (!host) return undefined;
  const hook = host.scripts[PATHS.notifyScript];
  return host.webhookUrl ?? (hook === undefined ? undefined : (hookVar(hook, 'WEBHOOK_URL') ?? undefined));
}
