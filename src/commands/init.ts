/** `ha-setup init`: answers (file and/or wizard) -> facts -> plan -> apply -> report. */
import { writeFileSync } from 'node:fs';
import { loadAnswersFile, resolveAnswers, type Config } from '../answers/resolve.js';
import { answersForSaving, missingKeys, summary } from '../answers/summary.js';
import { CancelledError, UsageError, ValidationError } from '../errors.js';
import type { OsFamily } from '../facts/types.js';
import type { IO } from '../io.js';
import { planOffline } from '../plan/offline.js';
import { passwordPrompt } from '../password-prompt.js';
import { confirmApply, inquirerPrompter, type Prompter } from '../wizard/prompter.js';
import { planToJson, planToText } from '../report/plan.js';
import { printBounds } from '../report/bounds.js';
import { renderInitReport } from '../report/init.js';
import { boundFeatures } from '../failover/bounds.js';
import { keepalivedVersionOf } from '../steps/context.js';
import { askAnswers } from '../wizard/index.js';
import { answersPath, lockRequest, printWarnings } from './common.js';

export { answersForSaving, missingKeys, summary };

export interface InitOptions {
  answers?: string;
  yes?: boolean;
  dryRun?: boolean;
  offline?: boolean;
  os?: OsFamily;
  json?: boolean;
  verbose?: boolean;
  saveAnswers?: string;
  waitLock?: string;
}

/** the answers from the file, completed by the wizard when something is missing and there is a terminal */
async function settleAnswers(io: IO, opts: InitOptions, prompter?: Prompter) {
  const path = answersPath(io, opts.answers);
  const data: unknown = path ? loadAnswersFile(path) : {};
  const source = path ?? 'answers';
  const missing = missingKeys(data, source);
  if (!missing) return { data, source, asked: false, password: undefined, env: {} };
  const canPrompt = (io.stdinIsTTY && !(opts.yes && path)) || !!prompter;
  if (!canPrompt) {
    throw new ValidationError(
      `${source}: incomplete answers and no terminal to ask ` +
        `(${opts.yes ? '--yes never prompts' : 'stdin is not a TTY'}); missing:`,
      missing.map((m) => `${m}: is required`),
    );
  }
  const r = await askAnswers(io, data, { source, offline: !!opts.offline, dryRun: !!opts.dryRun, prompter });
  return { data: r.data, source, asked: true, password: r.password, env: r.env };
}

function printPlanBounds(io: IO, cfg: Config, versions: (string | null)[]): void {
  printBounds(io, cfg, boundFeatures(cfg, versions));
}

export async function initCommand(io: IO, opts: InitOptions, prompter?: Prompter): Promise<number> {
  if (opts.offline && !opts.dryRun) throw new UsageError('--offline only goes with --dry-run');
  const lock = lockRequest(io, 'init', 1800, opts.waitLock);
  const { data, source, asked, password, env } = await settleAnswers(io, opts, prompter);
  // `env`: what the wizard learned for this run only (a taken-over pair's VRRP passwords, by their variables)
  const cfg = resolveAnswers(data, { env: { ...io.env, ...env }, source });
  if (!asked) printWarnings(io, cfg.warnings);
  if (!asked && !opts.yes && !opts.dryRun) io.err(`Summary:\n${summary(cfg)}`);
  if (opts.saveAnswers) {
    writeFileSync(opts.saveAnswers, answersForSaving(data), { mode: 0o600 });
    io.err(`answers saved to ${opts.saveAnswers} (secrets left out)`);
  }
  if (opts.dryRun && opts.offline) {
    const { plan, facts } = planOffline(cfg, opts.os ?? 'debian');
    printPlanBounds(
      io,
      cfg,
      cfg.nodes.map((n) => keepalivedVersionOf(cfg, facts[n.name])),
    );
    if (opts.json) io.out(JSON.stringify(planToJson(plan, cfg.secrets, true), null, 2));
    else io.out(planToText(plan, cfg.secrets, { offline: true, showContent: true }));
    return 0;
  }
  // the wizard's review already asked whether to apply
  if (!opts.dryRun && !opts.yes && !asked) {
    if (!io.stdinIsTTY && !prompter)
      throw new UsageError('init changes the hosts: confirm with --yes when there is no terminal');
    const ok = await confirmApply(
      prompter ?? (await inquirerPrompter()),
      `Apply this to ${cfg.nodes.length} nodes now?`,
    );
    if (!ok) throw new CancelledError('nothing changed (not confirmed)');
  }
  const { runInit, initFailure } = await import('../apply/init.js');
  const out = await runInit(io, cfg, {
    dryRun: !!opts.dryRun,
    renderer: opts.json ? 'silent' : io.stderrIsTTY ? 'default' : 'simple',
    password,
    askPassword: passwordPrompt(io),
    lock,
  });
  if (out.kind === 'plan') {
    printPlanBounds(
      io,
      cfg,
      out.plan.nodes.filter((p) => !p.leaving).map((p) => keepalivedVersionOf(cfg, p.facts)),
    );
    if (opts.json) io.out(JSON.stringify(planToJson(out.plan, cfg.secrets, false), null, 2));
    else io.out(planToText(out.plan, cfg.secrets, { offline: false, showContent: false }));
    return 0;
  }
  renderInitReport(io, out.report, cfg, !!opts.json);
  const failure = initFailure(out.report);
  if (failure) throw failure;
  return 0;
}
