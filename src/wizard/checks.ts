/**
 * The failover checks: the profile (standard VRRPv2 1 s adverts, fast VRRPv3 0.1 s, ultra 0.02 s) and what happens
 * when nginx fails on the master (move the VIP at once, or the guides' restart-then-stop; ultra moves it at once),
 * with the health-check URL.
 */
import { validators } from './prompter.js';
import { has, type WizardState } from './state.js';

/** the profile and the health check, each only when the answers lack it */
export async function askChecks(s: WizardState): Promise<void> {
  const { a, p } = s;
  if (!has(a, 'profile')) {
    a.profile = await p.select({
      message: 'Failover profile',
      choices: [
        { value: 'standard', name: 'standard: VRRPv2, advert 1 s (the guides, made valid for current keepalived)' },
        {
          value: 'fast',
          name: 'fast: VRRPv3, advert 0.1 s, instant nginx stop detection (more adverts, jitter-sensitive)',
        },
        {
          value: 'ultra',
          name: 'ultra: VRRPv3, advert 0.02 s: failover under 0.1 s (keepalived 2.x; a busy or lossy segment flaps)',
        },
      ],
      default: 'standard',
    });
  }
  if (!has(a, 'healthCheck')) {
    // ultra's figures need the VIP to move at once: the restart attempt alone takes 1.5 s
    const mode: 'weight' | 'restart-then-stop' =
      a.profile === 'ultra'
        ? 'weight'
        : await p.select({
            message: 'When nginx fails on the master',
            choices: [
              {
                value: 'weight',
                name: 'move the VIP at once (the node goes FAULT); it comes back when nginx does (recommended)',
              },
              {
                value: 'restart-then-stop',
                name: "try to restart nginx, else stop keepalived (the guides' check_nginx.sh)",
              },
            ],
            default: 'weight',
          });
    const url = (
      await p.input({
        message: 'Health-check URL on each LB (empty: check the nginx process only)',
        default: 'http://127.0.0.1/',
        validate: validators.url,
      })
    ).trim();
    a.healthCheck = { mode, ...(url ? { url } : {}) };
  }
}
