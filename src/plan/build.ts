/**
 * answers + facts -> the plan of the whole run (pure). Each node's steps are planned on the facts the earlier steps
 * leave behind (steps/effects.ts), so the plan is complete before anything changes; a node whose plan takes down
 * keepalived or nginx while it serves goes in the rolling phase with its VIPs handed over first (rolling.ts).
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import type { InitFacts } from '../facts/gather.js';
import { STEPS } from '../steps/index.js';
import { deconfigureSteps, LEFT_ALONE, setUpByHaSetup } from '../steps/deconfigure.js';
import { afterChange } from '../steps/effects.js';
import type { Change } from '../steps/types.js';
import { heardByKeepalived, latentFaults, foreignVrids, preflight } from './preflight.js';
import { addRolling } from './rolling.js';
import { actionsOf, type NodePlan, type PairPlan, type PlannedStep } from './types.js';
import type { VrrpAdvert } from '../facts/vrrp.js';
import { heldVips } from '../observe/holders.js';

export function roleOf(cfg: Config, node: string): string {
  return cfg.instances.map((i) => `${i.name} ${i.preempt && i.master === node ? 'MASTER' : 'BACKUP'}`).join(', ');
}

const SERVICE_ORDER: Record<string, number> = { 'daemon-reload': 0, 'reload-or-restart': 1, restart: 2 };

/** dedupe handlers: a restart of a service supersedes its reload */
export function mergeHandlers(hs: Change[]): Change[] {
  const out: Change[] = [];
  for (const h of hs) {
    if (h.kind === 'service') {
      const i = out.findIndex((o) => o.kind === 'service' && o.name === h.name);
      if (i >= 0) {
        const o = out[i] as Extract<Change, { kind: 'service' }>;
        if ((SERVICE_ORDER[h.action] ?? 0) > (SERVICE_ORDER[o.action] ?? 0)) out[i] = h;
        continue;
      }
    } else if (h.kind === 'command' && out.some((o) => o.kind === 'command' && o.argv.join(' ') === h.argv.join(' ')))
      continue;
    out.push(h);
  }
  return out;
}

/** one node's steps, each planned on the facts the ones before it leave */
function planNode(cfg: Config, node: ResolvedNode, all: Record<string, InitFacts>, refusals: string[]): PlannedStep[] {
  let facts = all[node.name];
  const steps: PlannedStep[] = [];
  for (const s of STEPS) {
    const p = s.plan({ cfg, node, facts, all });
    if (p.refuse) refusals.push(`${node.name} (${node.host}): ${p.refuse}`);
    const handlers = mergeHandlers(p.handlers);
    for (const c of [...p.changes, ...handlers]) facts = afterChange(facts, c, all, cfg.nginx.configDir);
    steps.push({ id: p.id, title: p.title, changes: p.changes, handlers, notes: p.notes });
  }
  return steps;
}

export interface LeavingNode {
  node: ResolvedNode;
  facts: InitFacts;
}

export interface BuildInput {
  cfg: Config;
  /** facts of every node of the answers */
  facts: Record<string, InitFacts>;
  /** recorded members that left the answers (init deconfigures those ha-setup set up, and leaves the others alone) */
  leaving?: LeavingNode[];
  /** what the recorded members came to (entries ignored, members forgotten): warnings of the plan */
  memberNotes?: string[];
  /** VRRP adverts each node heard while the facts were read (null: not listened) */
  adverts?: Record<string, VrrpAdvert[]> | null;
  /** --offline: no ARP or VRRP checks (nothing was read from the network) */
  skipNetworkChecks?: boolean;
}

export function buildPlan(input: BuildInput): PairPlan {
  const { cfg, facts } = input;
  const leaving = input.leaving ?? [];
  const refusals: string[] = [];
  const warnings: string[] = [...(input.memberNotes ?? [])];
  // a leaver ha-setup did not set up is not one of the pair: its MAC and its VRRP adverts are another host's
  const ours = leaving.filter((l) => setUpByHaSetup(l.node.name, l.facts));
  const everyFacts = [...Object.values(facts), ...ours.map((l) => l.facts)];
  const macs = new Set(everyFacts.flatMap((f) => Object.values(f.interfaces).map((i) => i.mac.toLowerCase())));
  const nodes: NodePlan[] = cfg.nodes.map((node) => {
    const f = facts[node.name];
    refusals.push(...preflight(cfg, node, f, macs, input.skipNetworkChecks ? [] : f.vipneighbors));
    const steps = planNode(cfg, node, facts, refusals);
    const plan: NodePlan = {
      node: node.name,
      host: node.host,
      role: roleOf(cfg, node.name),
      leaving: false,
      facts: f,
      steps,
      rolling: false,
      rollingOrder: null,
      rollingFrom: null,
      holds: heldVips(cfg, f.interfaces),
    };
    const latent = latentFaults(node.name, f, plan);
    warnings.push(...latent.warnings);
    refusals.push(...latent.refusals);
    return plan;
  });
  for (const l of leaving) {
    const steps = deconfigureSteps({ cfg, node: l.node, facts: l.facts, all: facts }).map((s) => ({
      ...s,
      handlers: mergeHandlers(s.handlers),
    }));
    const alone = !ours.includes(l);
    if (alone) warnings.push(`${l.node.name} (${l.node.host}) left the answers: ${LEFT_ALONE}`);
    nodes.push({
      node: l.node.name,
      host: l.node.host,
      role: alone ? 'left the answers, left alone' : 'leaving the pair',
      leaving: true,
      facts: l.facts,
      steps,
      rolling: false,
      rollingOrder: null,
      rollingFrom: null,
      holds: heldVips(cfg, l.facts.interfaces),
    });
  }
  // a configuration that fails nginx -t must not be copied to the other nodes
  for (const p of nodes)
    for (const a of actionsOf(p))
      if (a.kind === 'nginx-sync' && facts[a.from]?.nginxtest && !facts[a.from].nginxtest!.ok) {
        const why = facts[a.from].nginxtest!.firstError ?? 'see nginx -t';
        refusals.push(
          `${p.node}: nginx.syncFrom ${a.from} fails nginx -t (${why}): ` +
            `its configuration would be copied here; fix it on ${a.from} first`,
        );
      }
  if (!input.skipNetworkChecks && input.adverts) refusals.push(...foreignVrids(cfg, everyFacts, input.adverts));
  // what the running keepalived heard: the check of every run, whether it listened or not
  if (!input.skipNetworkChecks) {
    const heard = heardByKeepalived(cfg, facts, everyFacts);
    refusals.push(...heard.refusals);
    warnings.push(...heard.warnings);
  }
  refusals.push(...addRolling(cfg, nodes));
  return { nodes, refusals, warnings };
}
