/**
 * Services (the guides' step "start keepalived and check the VIP"): keepalived (and rsyslog) enabled and running;
 * then a keepalived line must reach the log file. Which node holds each VIP is checked across all nodes once every
 * host is done.
 */
import type { Change } from './types.js';
import { stepPlan, svc, type Step } from './context.js';

export const services: Step = {
  id: 'services',
  title: 'Services: keepalived enabled and running',
  plan(ctx) {
    const changes: Change[] = [];
    for (const name of ['rsyslog', 'keepalived']) {
      const s = svc(ctx, name);
      // started first: keepalived's first election (its master-down timer) runs while it is enabled, which on
      // Debian goes through systemd-sysv-install (~0.6 s)
      if (s.active !== 'active') changes.push({ kind: 'service', name, action: 'start' });
      if (s.enabled !== 'enabled' && s.enabled !== 'static' && s.enabled !== 'alias')
        changes.push({ kind: 'service', name, action: 'enable' });
    }
    if (!changes.length) return stepPlan(this, [], [], ['rsyslog and keepalived enabled and running']);
    const verify: Change = {
      kind: 'verify',
      describe: `a keepalived line reaches ${ctx.cfg.logging.file}`,
      argv: [
        'sh',
        '-c',
        'for i in $(seq 1 50); do grep -q Keepalived "$1" 2>/dev/null && exit 0; sleep 0.2; done; exit 1',
        'sh',
        ctx.cfg.logging.file,
      ],
    };
    return stepPlan(this, [...changes, verify]);
  },
};
