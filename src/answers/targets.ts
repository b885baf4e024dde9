/**
 * What moves as one: an instance, or a sync group (its instances move together). Switchover, maintenance, the
 * rolling restarts, verify-failover and the state flags keepalived tracks all work per target.
 */
import type { Config, ResolvedInstance } from './resolve.js';

export interface Target {
  /** the instance's name, or the sync group's */
  name: string;
  group: string | null;
  instances: ResolvedInstance[];
  /** the configured master (the same for every instance of a sync group) */
  master: string;
  preempt: boolean;
  /**
   * priority a demoted node loses (switchover: every node but the chosen one is demoted): more than the spread of
   * the target's priorities, so a demoted node is below every node that is not, and keeps its order among them
   */
  demoteWeight: number;
}

export function targetsOf(cfg: Pick<Config, 'instances' | 'syncGroups'>): Target[] {
  const out: Target[] = [];
  const make = (name: string, group: string | null, instances: ResolvedInstance[]): Target => {
    const prios = instances.flatMap((i) => Object.values(i.priorities));
    return {
      name,
      group,
      instances,
      master: instances[0].master,
      preempt: instances.every((i) => i.preempt),
      demoteWeight: Math.min(253, Math.max(...prios) - Math.min(...prios) + 1),
    };
  };
  for (const inst of cfg.instances) {
    const g = cfg.syncGroups.find((x) => x.instances.includes(inst.name));
    if (!g) out.push(make(inst.name, null, [inst]));
    else if (g.instances[0] === inst.name)
      out.push(
        make(
          g.name,
          g.name,
          g.instances.map((n) => cfg.instances.find((i) => i.name === n)!),
        ),
      );
  }
  return out;
}

export function targetOf(cfg: Pick<Config, 'instances' | 'syncGroups'>, instance: string): Target | undefined {
  return targetsOf(cfg).find((t) => t.name === instance || t.instances.some((i) => i.name === instance));
}

export function vipsOf(t: Target): string[] {
  return t.instances.flatMap((i) => i.vips.map((v) => v.address));
}
