/**
 * Faults injected on the current master, each with the restore that undoes it. Restores are idempotent: they are
 * run after every scenario, and again from the Ctrl-C handler if the user interrupts.
 */
import type { HostConnection } from '../ssh/ssh.js';

export type ScenarioName = 'nginx' | 'keepalived' | 'crash' | 'link';
export const SCENARIOS: ScenarioName[] = ['nginx', 'keepalived', 'crash', 'link'];

export interface Scenario {
  name: ScenarioName;
  describe: string;
  /** inject the fault on the master (the link scenario keeps the link down `linkDownSeconds`) */
  inject(conn: HostConnection, iface: string, opts?: { linkDownSeconds?: number }): Promise<void>;
  /** undo it (safe to run twice, safe to run when inject never ran) */
  restore(conn: HostConnection, iface: string): Promise<string[]>;
  /** how to fix it by hand if even the restore could not run */
  manual(iface: string): string;
}

async function must(conn: HostConnection, script: string, what: string): Promise<void> {
  const r = await conn.sh(script, [], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${conn.node.name}: ${what} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/** the least time the link scenario keeps the link down (longer when the configuration needs it: bounds.ts) */
export const LINK_DOWN_SECONDS = 4;

export const scenarios: Record<ScenarioName, Scenario> = {
  nginx: {
    name: 'nginx',
    describe: 'nginx stopped and masked (cannot restart, so a self-healing check cannot hide the test)',
    inject: (c) =>
      must(
        c,
        'systemctl mask --runtime --now nginx >/dev/null 2>&1 || ' +
          '{ systemctl mask --runtime nginx && systemctl stop nginx; }',
        'stopping nginx',
      ),
    async restore(c) {
      const r = await c.sh(
        'systemctl unmask --runtime nginx >/dev/null 2>&1; ' +
          'systemctl is-active --quiet nginx || systemctl start nginx; systemctl is-active nginx',
        [],
        { timeoutMs: 60_000 },
      );
      return [`nginx on ${c.node.name}: ${r.stdout.trim() || `exit ${r.code}`}`];
    },
    manual: () => 'systemctl unmask --runtime nginx && systemctl start nginx',
  },
  keepalived: {
    name: 'keepalived',
    describe: 'systemctl stop keepalived (the master says goodbye with a priority-0 advert)',
    inject: (c) => must(c, 'systemctl stop keepalived', 'stopping keepalived'),
    async restore(c) {
      const r = await c.sh(
        'systemctl is-active --quiet keepalived || systemctl start keepalived; systemctl is-active keepalived',
        [],
        { timeoutMs: 60_000 },
      );
      return [`keepalived on ${c.node.name}: ${r.stdout.trim() || `exit ${r.code}`}`];
    },
    manual: () => 'systemctl start keepalived',
  },
  crash: {
    name: 'crash',
    describe: 'keepalived killed with SIGKILL (no goodbye advert: the backup waits for the master-down timer)',
    inject: (c) => must(c, 'systemctl kill --signal=KILL keepalived', 'killing keepalived'),
    async restore(c) {
      // systemd may already have restarted it (ha-setup's drop-in Restart=on-failure); start only if it is down
      const r = await c.sh(
        'for i in 1 2 3 4 5 6 7 8 9 10; do systemctl is-active --quiet keepalived && break; ' +
          'st=$(systemctl is-active keepalived); [ "$st" = activating ] || break; sleep 0.3; done; ' +
          'systemctl is-active --quiet keepalived || ' +
          '{ systemctl reset-failed keepalived 2>/dev/null; systemctl start keepalived; }; ' +
          'systemctl is-active keepalived',
        [],
        { timeoutMs: 60_000 },
      );
      return [`keepalived on ${c.node.name}: ${r.stdout.trim() || `exit ${r.code}`}`];
    },
    manual: () => 'systemctl start keepalived',
  },
  link: {
    name: 'link',
    describe: 'node loss: the VRRP interface goes down (a detached job brings it back)',
    async inject(c, iface, opts = {}) {
      // detached from our SSH session: the session itself dies with the link
      const secs = Math.max(LINK_DOWN_SECONDS, Math.round(opts.linkDownSeconds ?? LINK_DOWN_SECONDS));
      const r = await c.sh(
        `nohup setsid sh -c 'sleep 0.2; ip link set dev "$1" down; ` +
          `sleep "$2"; ip link set dev "$1" up' sh "$1" "$2" >/dev/null 2>&1 </dev/null & echo started`,
        [iface, String(secs)],
        { timeoutMs: 10_000 },
      );
      if (!r.stdout.includes('started')) throw new Error(`${c.node.name}: could not start the link-down job`);
    },
    async restore(c, iface) {
      const r = await c.sh(
        'ip link show dev "$1" | grep -q "state DOWN\\|,UP" ; ip link set dev "$1" up; ' +
          'ip -o link show dev "$1" | grep -o "state [A-Z]*"',
        [iface],
        { timeoutMs: 20_000 },
      );
      return [`${iface} on ${c.node.name}: ${r.stdout.trim() || `exit ${r.code}`}`];
    },
    manual: (iface) => `ip link set dev ${iface} up`,
  },
};
