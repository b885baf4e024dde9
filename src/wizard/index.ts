/**
 * The wizard as init uses it: asks for what the answers lack (wizard.ts and its sections), connecting to the hosts
 * as it goes (discovery.ts), then a review (summary, bounds, warnings) before anything is applied.
 */
import { writeFileSync } from 'node:fs';
import type { AnswersInput } from '../answers/schema.js';
import { resolveAnswers } from '../answers/resolve.js';
import { answersForSaving, summary } from '../answers/summary.js';
import { ValidationError } from '../errors.js';
import { boundsSummary } from '../failover/bounds.js';
import type { IO } from '../io.js';
import { Discovery } from './discovery.js';
import { inquirerPrompter, type Prompter } from './prompter.js';
import type { ImportedPair } from './takeover.js';
import type { ResolvedNode } from '../answers/resolve.js';
import { importedPasswords, snippetFiles } from '../import/files.js';
import { writeLocalFiles } from '../local-files.js';
import { runImport } from '../import/run.js';
import { renderImport } from '../report/import.js';
import { wizard } from './wizard.js';

/** the review's summary of answers so far, or the problems that keep them from being used */
export function reviewText(
  io: IO,
  a: AnswersInput,
  source: string,
  env: NodeJS.ProcessEnv = io.env,
): { text: string; problems: string[] } {
  try {
    const c = resolveAnswers(a, { env, source });
    const b = boundsSummary(c);
    const text = ['Summary:', summary(c), ...b.lines, ...[...c.warnings, ...b.warnings].map((w) => `warning: ${w}`)];
    return { text: text.join('\n'), problems: [] };
  } catch (e) {
    if (e instanceof ValidationError) return { text: '', problems: e.details };
    throw e;
  }
}

/**
 * The running pair read as `ha-setup import` reads it (the import's report on stderr); its snippets are written
 * into the current directory (never over a file that is there) and named by absolute path, so the answers work
 * wherever they are saved.
 */
async function importPair(
  io: IO,
  ssh: Record<string, unknown>,
  nodes: ResolvedNode[],
  password: () => Promise<string>,
): Promise<ImportedPair> {
  const out = await runImport(io, {
    hosts: nodes.map((n) => n.host),
    logins: nodes.map((n) => ({ user: n.user, port: n.port })),
    identityFile: typeof ssh.identityFile === 'string' ? ssh.identityFile : undefined,
    knownHostsFile: typeof ssh.knownHostsFile === 'string' ? ssh.knownHostsFile : undefined,
    askPassword: () => password(),
  });
  const files = snippetFiles(out.result.answers, out.result.snippets, io.cwd, { absolute: true });
  writeLocalFiles(files, { force: false, replaceHow: 'move it away, or run ha-setup from another directory' });
  const written = files.map((f) => f.path);
  renderImport(io, out, written, false);
  return { answers: out.result.answers, passwords: importedPasswords(out) };
}

export async function askAnswers(
  io: IO,
  data: unknown,
  opts: { source: string; offline: boolean; dryRun: boolean; prompter?: Prompter },
): Promise<{ data: AnswersInput; password?: string; env: Record<string, string> }> {
  const p = opts.prompter ?? (await inquirerPrompter());
  let password: string | undefined;
  // the VRRP passwords a takeover read from the hosts, as the variables the answers name (this run only)
  const env: Record<string, string> = {};
  // online, the wizard connects to each host as it is given (and may need the SSH / sudo password once)
  let pw: Promise<string> | null = null;
  const askOnce = () =>
    (pw ??= p.password({ message: 'SSH / sudo password (asked once for all hosts)' }).then((x) => {
      password = x || undefined;
      return x;
    }));
  const discovery = opts.offline ? undefined : new Discovery({ env: io.env, password: askOnce });
  const answers = await wizard(data as Record<string, unknown>, p, {
    discovery,
    io,
    importPair: async (nodes, ssh) => {
      const got = await importPair(io, ssh, nodes, askOnce);
      for (const [k, v] of Object.entries(got.passwords)) if (io.env[k] === undefined) env[k] = v;
      return got;
    },
    review: {
      summarize: (a) => reviewText(io, a, opts.source, { ...io.env, ...env }),
      save: (a, file) => writeFileSync(file, answersForSaving(a), { mode: 0o600 }),
      applyLabel: opts.dryRun ? 'show the plan (dry run: nothing changes)' : 'apply: set up the pair now',
    },
  });
  return { data: answers, password, env };
}
