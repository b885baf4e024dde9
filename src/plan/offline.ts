/** `init --dry-run --offline`: the plan for fresh hosts of one family, from assumed facts (nothing is read). */
import type { Config } from '../answers/resolve.js';
import { ValidationError } from '../errors.js';
import { assumedFacts } from '../facts/assumed.js';
import type { InitFacts } from '../facts/gather.js';
import type { OsFamily } from '../facts/types.js';
import { buildPlan } from './build.js';
import type { PairPlan } from './types.js';

export function planOffline(cfg: Config, family: OsFamily): { plan: PairPlan; facts: Record<string, InitFacts> } {
  const facts = Object.fromEntries(cfg.nodes.map((n) => [n.name, assumedFacts(cfg, n, family)]));
  const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
  if (plan.refusals.length) throw new ValidationError('the plan cannot run on the assumed hosts', plan.refusals);
  return { plan, facts };
}
