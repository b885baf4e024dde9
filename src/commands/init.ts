/** `ha-setup init`: answers (file and/or wizard) -> facts -> plan -> apply -> report. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { checkShape, formatPath, loadAnswersFile, resolveAnswers, type Config } from '../answers/resolve.js';
import { CancelledError, UsageError, ValidationError } from '../errors.js';
import { assumedFacts } from '../facts/assumed.js';
import type { IO } from '../io.js';
import { buildPlan } from '../plan/build.js';
import type { OsFamily } from '../plan/types.js';
import { confirmApply, inquirerPrompter, wizard, type Prompter } from '../prompts.js';
import { planToJson, planToText } from '../report/plan.js';
import { answersPath, printWarnings } from './common.js';
import { boundFeatures, boundsSummary } from '../failover/bounds.js';
import { printBounds } from '../report/bounds.js';
import { keepalivedVersionOf } from '../steps/context.js';
import { Discovery } from '../discover.js';

export interface InitOptions {
  answers?: string;
  yes?: boolean;
  dryRun?: boolean;
  offline?: boolean;
  os?: OsFamily;
  json?: boolean;
  verbose?: boolean;
  saveAnswers?: string;
}

/** Keys the answers lack (as dotted paths), or null when the shape is complete. Other problems throw. */
export function missingKeys(data: unknown, source: string): string[] | null {
  const r = checkShape(data);
  if (r.ok) return null;
  const missing: string[] = [];
  const other: string[] = [];
  r.issues.forEach((issue, i) => {
    const input = (issue as { input?: unknown }).input;
    const isMissing =
      (issue.code === 'invalid_type' && input === undefined) ||
      (issue.code === 'too_small' && Array.isArray(input) && input.length === 0);
    if (isMissing) missing.push(formatPath(issue.path));
    else other.push(r.problems[i] ?? issue.message);
  });
  if (other.length) throw new ValidationError(`${source}: ${other.length} problem(s)`, other);
  return missing;
}

export function answersForSaving(data: unknown): string {
  const copy = structuredClone(data) as { instances?: Record<string, unknown>[]; ssh?: Record<string, unknown> };
  let dropped = false;
  for (const inst of copy.instances ?? []) {
    if ('authPass' in inst) {
      delete inst.authPass;
      dropped = true;
    }
  }
  if (copy.ssh && 'password' in copy.ssh) delete copy.ssh.password;
  const header = [
    '# ha-setup answers (reference: ha-setup schema, README "Answers file")',
    '# yaml-language-server: $schema=./ha-setup.schema.json',
    ...(dropped
      ? ['# authPass was left out on purpose: add it back, or set authPassEnv: VAR and export VAR before running']
      : []),
  ];
  return header.join('\n') + '\n' + stringify(copy);
}

export function summary(cfg: Config): string {
  const l: string[] = [];
  for (const n of cfg.nodes)
    l.push(`  node ${n.name}: ${n.user}@${n.host}:${n.port}, interface ${n.interface}, priority ${n.priority}`);
  for (const i of cfg.instances) {
    l.push(
      `  ${i.name}: VRID ${i.virtualRouterId}, VIP ${i.vips.map((v) => `${v.address}/${v.prefix}`).join(' ')}, ` +
        `master ${i.master}, ${i.preempt ? 'preempt' : 'nopreempt'}, advert ${i.advertInt}s, ` +
        `${i.unicast ? 'unicast' : 'multicast'}, auth ${i.authPass ? 'yes' : 'no'}, ` +
        `priorities ${Object.entries(i.priorities)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    );
  }
  const hc = cfg.healthCheck;
  l.push(
    `  profile ${cfg.profile} (VRRPv${cfg.vrrpVersion}); health check ${hc.mode}, every ${hc.interval}s, ` +
      `fall ${hc.fall}, rise ${hc.rise}, weight ${hc.weight}${hc.url ? `, ${hc.url}` : ', process only'}`,
  );
  // what the nginx step will apply: the guides' copy of the configuration only when nginx.sync is on
  const ng = cfg.nginx;
  l.push(
    ng.sync
      ? `  nginx configuration copied from ${ng.syncFrom} to the others (rsync of ${ng.configDir})`
      : '  nginx: each node keeps its own configuration (nginx.sync: false)',
  );
  if (ng.upstream) {
    l.push(
      `  nginx: ha-setup's load balancer for ${ng.upstream.backends.join(', ')} on every node ` +
        `(port ${ng.upstream.listen} of the VIPs)`,
    );
  }
  l.push(
    `  SELinux ${cfg.system.selinux}, firewall ${cfg.system.firewall}, ` +
      `multicast ${cfg.system.multicast ? 'on' : 'untouched'}; ` +
      `logs ${cfg.logging.facility} -> ${cfg.logging.file}`,
  );
  return l.join('\n');
}

export async function initCommand(io: IO, opts: InitOptions, prompter?: Prompter): Promise<number> {
  if (opts.offline && !opts.dryRun) throw new UsageError('--offline only goes with --dry-run');
  const path = answersPath(io, opts.answers);
  let data: unknown = path ? loadAnswersFile(path) : {};
  const source = path ?? 'answers';
  const missing = missingKeys(data, source);
  let asked = false;
  let password: string | undefined;
  if (missing) {
    const canPrompt = (io.stdinIsTTY && !(opts.yes && path)) || !!prompter;
    if (!canPrompt) {
      throw new ValidationError(
        `${source}: incomplete answers and no terminal to ask ` +
          `(${opts.yes ? '--yes never prompts' : 'stdin is not a TTY'}); missing:`,
        missing.map((m) => `${m}: is required`),
      );
    }
    const p = prompter ?? (await inquirerPrompter());
    // online, the wizard connects to each host as it is given (and may need the SSH / sudo password once)
    let pw: Promise<string> | null = null;
    const askOnce = () =>
      (pw ??= p.password({ message: 'SSH / sudo password (asked once for all hosts)' }).then((x) => {
        password = x || undefined;
        return x;
      }));
    const discovery = opts.offline ? undefined : new Discovery({ env: io.env, password: askOnce });
    data = await wizard(data as Record<string, unknown>, p, {
      discovery,
      io,
      review: {
        summarize: (a) => {
          try {
            const c = resolveAnswers(a, { env: io.env, source });
            const b = boundsSummary(c);
            const text = [
              `Summary:`,
              summary(c),
              ...b.lines,
              ...[...c.warnings, ...b.warnings].map((w) => `warning: ${w}`),
            ];
            return { text: text.join('\n'), problems: [] };
          } catch (e) {
            if (e instanceof ValidationError) return { text: '', problems: e.details };
            throw e;
          }
        },
        save: (a, file) => writeFileSync(file, answersForSaving(a), { mode: 0o600 }),
        applyLabel: opts.dryRun ? 'show the plan (dry run: nothing changes)' : 'apply: set up the pair now',
      },
    });
    asked = true;
  }
  const cfg = resolveAnswers(data, { env: io.env, source });
  if (!asked) printWarnings(io, cfg.warnings);

  if (!asked && !opts.yes && !opts.dryRun) io.err(`Summary:\n${summary(cfg)}`);
  if (opts.saveAnswers) {
    writeFileSync(opts.saveAnswers, answersForSaving(data), { mode: 0o600 });
    io.err(`answers saved to ${opts.saveAnswers} (secrets left out)`);
  }

  if (opts.dryRun && opts.offline) {
    const facts = Object.fromEntries(cfg.nodes.map((n) => [n.name, assumedFacts(cfg, n, opts.os ?? 'debian')]));
    const { plans, refusals } = buildPlan(cfg, facts, { skipNetworkChecks: true });
    if (refusals.length) throw new ValidationError('the plan cannot run on the assumed hosts', refusals);
    printBounds(
      io,
      cfg,
      boundFeatures(
        cfg,
        cfg.nodes.map((n) => keepalivedVersionOf(cfg, facts[n.name])),
      ),
    );
    if (opts.json) io.out(JSON.stringify(planToJson(plans, cfg.secrets, true), null, 2));
    else io.out(planToText(plans, cfg.secrets, { offline: true, showContent: true }));
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
  const { runInit } = await import('../apply/init-run.js');
  return runInit(io, cfg, { dryRun: !!opts.dryRun, json: !!opts.json, verbose: !!opts.verbose, password });
}
