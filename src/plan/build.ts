/** answers + facts -> one plan per node (pure). */
import type { Config } from '../answers/resolve.js';
import { STEPS } from '../steps/index.js';
import { foreignVrids, preflight } from './preflight.js';
import type { Facts, NodePlan } from './types.js';

export function roleOf(cfg: Config, node: string): string {
  const roles = cfg.instances.map((i) => `${i.name} ${i.preempt && i.master === node ? 'MASTER' : 'BACKUP'}`);
  return roles.join(', ');
}

export interface BuiltPlan {
  plans: NodePlan[];
  /** precondition refusals, one line each; non-empty means nothing may change */
  refusals: string[];
}

export function buildPlan(
  cfg: Config,
  factsByNode: Record<string, Facts>,
  opts: { skipNetworkChecks?: boolean } = {},
): BuiltPlan {
  const refusals: string[] = [];
  const macs = new Set(
    Object.values(factsByNode).flatMap((f) => Object.values(f.interfaces).map((i) => i.mac.toLowerCase())),
  );
  const plans: NodePlan[] = cfg.nodes.map((node) => {
    const facts = factsByNode[node.name];
    refusals.push(...preflight(cfg, node, facts, macs, opts.skipNetworkChecks ? [] : facts.vipNeighbors));
    const steps = STEPS.map((s) => {
      const p = s.plan({ cfg, node, facts, all: factsByNode });
      if (p.refuse) refusals.push(`${node.name} (${node.host}): ${p.refuse}`);
      return p;
    });
    return { node: node.name, host: node.host, role: roleOf(cfg, node.name), facts, steps };
  });
  if (!opts.skipNetworkChecks) refusals.push(...foreignVrids(cfg, factsByNode));
  return { plans, refusals };
}
