/**
 * Multicast (the guides' preparation step "enable multicast"): VRRP adverts go to 224.0.0.18, so the interface needs
 * MULTICAST on (`ip link set multicast on dev IFACE`). It persists through keepalived's drop-in (ExecStartPre, see
 * keepalived-config), which turns it on again before keepalived starts after a reboot.
 */
import { nodeInterfaces } from '../answers/targets.js';
import type { Change } from './types.js';
import { stepPlan, type Step } from './context.js';

export const multicast: Step = {
  id: 'multicast',
  title: 'Multicast on the VRRP interface',
  plan(ctx) {
    if (!ctx.cfg.system.multicast) return stepPlan(this, [], [], ['system.multicast is false: not touched']);
    const ifaces = nodeInterfaces(ctx.cfg, ctx.node);
    const changes: Change[] = [];
    for (const name of ifaces) {
      const f = ctx.facts.interfaces[name];
      if (f && !f.multicast) {
        changes.push({
          kind: 'command',
          argv: ['ip', 'link', 'set', 'dev', name, 'multicast', 'on'],
          describe: `multicast on ${name}`,
          undo: ['ip', 'link', 'set', 'dev', name, 'multicast', 'off'],
          sets: { interfaces: { [name]: { multicast: true } } },
        });
      }
    }
    return stepPlan(this, changes, [], changes.length ? [] : [`${ifaces.join(', ')}: MULTICAST already on`]);
  },
};
