/** Loading answers for a command: --answers FILE, else ./ha-setup.yaml when present. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadAnswersFile, resolveAnswers, type Config } from '../answers/resolve.js';
import { day2Failure, type Day2Outcome } from '../apply/day2.js';
import type { ExecuteEnv } from '../apply/execute.js';
import type { LockRequest } from '../apply/lock.js';
import { UsageError } from '../errors.js';
import { styler, type IO } from '../io.js';
import { renderDay2Plan, renderDay2Report } from '../report/day2.js';

export function answersPath(io: IO, given?: string): string | null {
  if (given) return given;
  const def = join(io.cwd, 'ha-setup.yaml');
  return existsSync(def) ? def : null;
}

/**
 * The answers resolved for a command that looks at or operates the pair and writes no configuration: a VRRP
 * password or a webhook token need not be exported for it (init resolves its answers with the secrets)
 */
export function loadConfig(io: IO, given?: string): Config {
  const path = answersPath(io, given);
  if (!path)
    throw new UsageError(
      '--answers: no answers file given and no ./ha-setup.yaml here (run ha-setup init to create one)',
    );
  const cfg = resolveAnswers(loadAnswersFile(path), { env: io.env, source: path, needSecrets: false });
  printWarnings(io, cfg.warnings);
  return cfg;
}

/**
 * What a command that changes hosts asks of ha-setup's lock on every node: its command line (for a second run to
 * name it), the longest it runs, and --wait-lock SECONDS (0..3600; default: refuse at once)
 */
export function lockRequest(io: IO, name: string, boundS: number, waitLock?: string): LockRequest {
  let waitS = 0;
  if (waitLock !== undefined) {
    waitS = Number(waitLock);
    if (!/^\d+$/.test(waitLock) || waitS > 3600)
      throw new UsageError(`--wait-lock: seconds to wait for another run's lock, 0..3600 (got ${waitLock})`);
  }
  const line = io.argv?.length ? io.argv.join(' ') : name;
  return { command: `ha-setup ${line.replace(/[^\x20-\x7e]/g, '?')}`, boundS, waitS };
}

export function printWarnings(io: IO, warnings: string[]): void {
  const st = styler(io);
  for (const w of warnings) io.err(st.yellow(`warning: ${w}`));
}

/** how a run shows its progress: listr2's live view on a terminal, one line per event without one, none for --json */
export function progressRenderer(io: IO, json: boolean): ExecuteEnv['renderer'] {
  return json ? 'silent' : io.stderrIsTTY ? 'default' : 'simple';
}

/** a day-2 command's output: the plan of a dry run, or the run's report (and its error: exit 1 or 130) */
export function day2Result(io: IO, cfg: Config, out: Day2Outcome, json: boolean): number {
  if (out.kind === 'plan') {
    renderDay2Plan(io, out.plan, cfg.secrets, json);
    return 0;
  }
  renderDay2Report(io, out.report, json);
  const failure = day2Failure(out.report);
  if (failure) throw failure;
  return 0;
}
