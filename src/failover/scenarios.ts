/**
 * Faults injected on the current master, each with the restore that undoes it. Restores are idempotent: they are
 * run after every scenario, and again from the Ctrl-C handler if the user interrupts. Right after a fault the
 * master is demoted for the target (a state flag), so whatever comes back on it stays a backup until the run gives
 * the VIPs back on purpose: the return is a planned move too, measured apart from the fault.
 */
import type { Target } from '../answers/targets.js';
import { vipsOf } from '../answers/targets.js';
import { handOver, setFlag, type PairEnv } from '../pair/handover.js';
import { PATHS } from '../paths.js';
import type { Conn } from '../conn.js';
import type { ScenarioName } from './types.js';

export type { ScenarioName } from './types.js';
export const SCENARIOS: ScenarioName[] = ['nginx', 'keepalived', 'crash', 'link', 'switchover'];

export interface FaultContext {
  conn: Conn;
  iface: string;
  /** the link scenario keeps the link down this long */
  linkDownSeconds: number;
  pair: PairEnv;
  master: string;
  target: Target;
}

export interface Scenario {
  name: ScenarioName;
  describe: string;
  /** inject the fault on the master */
  inject(ctx: FaultContext): Promise<void>;
  /** undo it (safe to run twice, safe to run when inject never ran) */
  restore(conn: Conn, iface: string): Promise<string[]>;
  /** how to fix it by hand if even the restore could not run */
  manual(iface: string): string;
}

async function must(conn: Conn, script: string, what: string, args: string[] = []): Promise<void> {
  const r = await conn.sh(script, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${conn.node.name}: ${what} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/** the master stays a backup when it comes back (its demote flag for the target), until the run gives back */
export const demote = (ctx: FaultContext) => setFlag(ctx.conn, `demote.${ctx.target.name}`, true);

/** the least time the link scenario keeps the link down (longer when the configuration needs it: bounds.ts) */
export const LINK_DOWN_SECONDS = 4;

const startKeepalived = async (c: Conn) => {
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
};

export const scenarios: Record<ScenarioName, Scenario> = {
  nginx: {
    name: 'nginx',
    describe: 'nginx stopped and masked (cannot restart, so a self-healing check cannot hide the test)',
    async inject(ctx) {
      await must(
        ctx.conn,
        'systemctl mask --runtime --now nginx >/dev/null 2>&1 || ' +
          '{ systemctl mask --runtime nginx && systemctl stop nginx; }',
        'stopping nginx',
      );
      // not demoted here: keepalived runs on, and a demotion now (track_file: at once) would move the VIP before
      // the health check saw anything; the run demotes it before the restore instead
    },
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
    async inject(ctx) {
      await must(ctx.conn, 'systemctl stop keepalived', 'stopping keepalived');
      await demote(ctx);
    },
    restore: startKeepalived,
    manual: () => 'systemctl start keepalived',
  },
  crash: {
    name: 'crash',
    describe: 'keepalived killed with SIGKILL (no goodbye advert: the backup waits for the master-down timer)',
    async inject(ctx) {
      await must(ctx.conn, 'systemctl kill --signal=KILL keepalived', 'killing keepalived');
      await demote(ctx);
    },
    restore: startKeepalived,
    manual: () => 'systemctl start keepalived',
  },
  link: {
    name: 'link',
    describe: 'node loss: the VRRP interface goes down (a detached job brings it back)',
    async inject(ctx) {
      // detached from our SSH session, which dies with the link; the demote flag is set once the link is down
      const secs = Math.max(LINK_DOWN_SECONDS, Math.round(ctx.linkDownSeconds));
      const r = await ctx.conn.sh(
        `nohup setsid sh -c 'sleep 0.2; ip link set dev "$1" down; mkdir -p "$3"; echo 1 > "$3/.$4.tmp"; ` +
          `mv -f "$3/.$4.tmp" "$3/$4"; sleep "$2"; ip link set dev "$1" up' sh "$1" "$2" "$3" "$4" ` +
          '>/dev/null 2>&1 </dev/null & echo started',
        [ctx.iface, String(secs), PATHS.flagDir, `demote.${ctx.target.name}`],
        { timeoutMs: 10_000 },
      );
      if (!r.stdout.includes('started')) throw new Error(`${ctx.conn.node.name}: could not start the link-down job`);
    },
    async restore(c, iface) {
      const r = await c.sh('ip link set dev "$1" up; ip -o link show dev "$1" | grep -o "state [A-Z]*"', [iface], {
        timeoutMs: 20_000,
      });
      return [`${iface} on ${c.node.name}: ${r.stdout.trim() || `exit ${r.code}`}`];
    },
    manual: (iface) => `ip link set dev ${iface} up`,
  },
  switchover: {
    name: 'switchover',
    describe: "a planned switchover: the master's VIPs handed to the best backup (ha-setup switchover)",
    async inject(ctx) {
      await demote(ctx);
      await handOver(ctx.pair, ctx.master, [ctx.target], { how: 'flag' });
    },
    async restore(c) {
      return [`${c.node.name}: nothing to undo (the switchover left it a ready backup)`];
    },
    manual: () => 'nothing: the node is a backup',
  },
};

export { vipsOf };
