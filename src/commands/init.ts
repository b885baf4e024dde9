/** `ha-setup init`: answers (file and/or wizard) -> facts -> plan -> apply -> report. */
import { writeFileSync } from 'node:fs';
import { loadAnswersFile, resolveAnswers, type Config } from '../answers/resolve.js';
import { answersForSaving, missingKeys, summary } from '../answers/summary.js';
import { NAME_RE } from '../answers/schema.js';
import { UsageError, ValidationError } from '../errors.js';
import type { OsFamily } from '../facts/types.js';
import type { IO } from '../io.js';
import { planOffline } from '../plan/offline.js';
import { passwordPrompt } from '../password-prompt.js';
import { confirmApply, inquirerPrompter, type Prompter } from '../wizard/prompter.js';
import { leavingToText, planToJson, planToText } from '../report/plan.js';
import { changeCount, type PairPlan } from '../plan/types.js';
import { printBounds } from '../report/bounds.js';
import { renderInitReport } from '../report/init.js';
import { boundFeatures } from '../failover/bounds.js';
import { keepalivedVersionOf } from '../steps/context.js';
import { askAnswers } from '../wizard/index.js';
import { answersPath, lockRequest, printWarnings, progressRenderer } from './common.js';

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
  /** recorded members that left the answers, dropped from the records without being touched */
  forget?: string[];
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

/** --forget NODE: a node name, not one of the answers (whether the nodes record it is known once they are read) */
function checkForget(cfg: Config, forget: string[], offline: boolean): void {
  if (!forget.length) return;
  if (offline) throw new UsageError('--forget needs the members the nodes record: it does not go with --offline');
  const bad = forget.find((n) => !NAME_RE.test(n));
  if (bad !== undefined) throw new UsageError(`--forget ${JSON.stringify(bad)}: not a node name (A-Z a-z 0-9 _ . -)`);
  const kept = forget.find((n) => cfg.nodes.some((x) => x.name === n));
  if (kept) throw new UsageError(`--forget ${kept}: a node of the answers, not one that left them`);
}

/**
 * The question before init changes the hosts, asked once the plan is built: the nodes that leave the pair (their
 * plan) and the plan's warnings shown first. After the wizard's review (`asked`) only when nodes leave the pair,
 * which the review could not show. None for a dry run or --yes.
 */
function confirmation(io: IO, cfg: Config, opts: InitOptions, asked: boolean, prompter?: Prompter) {
  if (opts.dryRun || opts.yes) return undefined;
  return async (plan: PairPlan): Promise<boolean> => {
    const leaving = plan.nodes.filter((p) => p.leaving);
    if (asked && !leaving.length) return true;
    const shown = leavingToText(plan, cfg.secrets);
    if (shown) io.err(shown);
    const out = leaving.filter((p) => changeCount(p) > 0).map((p) => p.node);
    const also = out.length ? ` and take ${out.join(', ')} out of the pair` : '';
    return confirmApply(prompter ?? (await inquirerPrompter()), `Apply this to ${cfg.nodes.length} nodes${also} now?`);
  };
}

export async function initCommand(io: IO, opts: InitOptions, prompter?: Prompter): Promise<number> {
  if (opts.offline && !opts.dryRun) throw new UsageError('--offline only goes with --dry-run');
  const lock = lockRequest(io, 'init', 1800, opts.waitLock);
  const { data, source, asked, password, env } = await settleAnswers(io, opts, prompter);
  // `env`: what the wizard learned for this run only (a taken-over pair's VRRP passwords, by their variables)
  const cfg = resolveAnswers(data, { env: { ...io.env, ...env }, source });
  checkForget(cfg, opts.forget ?? [], !!opts.offline);
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
  // asked once the plan is built (runInit); refused here, before any host is reached, when it cannot be asked
  if (!opts.dryRun && !opts.yes && !asked && !io.stdinIsTTY && !prompter)
    throw new UsageError('init changes the hosts: confirm with --yes when there is no terminal');
  const { runInit, initFailure } = await import('../apply/init.js');
  const out = await runInit(io, cfg, {
    dryRun: !!opts.dryRun,
    renderer: progressRenderer(io, !!opts.json),
    password,
    askPassword: passwordPrompt(io),
    lock,
    forget: opts.forget,
    confirm: confirmation(io, cfg, opts, asked, prompter),
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
