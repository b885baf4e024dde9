/** What every move of VIPs needs: the pair's connections, waiting on the VIP holders, the state flags. */
import type { Config } from '../answers/resolve.js';
import { masterDownMs } from '../answers/timing.js';
import type { Target } from '../answers/targets.js';
import type { Conn } from '../conn.js';
import { FLAG_WRITE_SH, PATHS } from '../paths.js';
import { sleep } from '../sleep.js';
import { vipHolders, type VipHolders } from '../observe/holders.js';

export interface PairEnv {
  cfg: Config;
  conns: Record<string, Conn>;
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * how a state flag is written on a node: the executor's records its previous value in the run's manifest (so an
   * interrupted run, or `rollback`, puts it back); default setFlag on the node's connection
   */
  writeFlag?: (node: string, name: string, on: boolean) => Promise<void>;
}

/** seconds the kernel keeps a hold on lo (refreshed while it is needed) */
export const HOLD_SECONDS = 8;
/** the label of a hold: a VIP on lo with it is ha-setup's, and never counts as holding the VIP */
export const HOLD_LABEL = 'lo:hahold';

export { sleep };

/** write a state flag (0 or 1) atomically where keepalived watches it */
export async function setFlag(conn: Conn, name: string, on: boolean): Promise<void> {
  await conn.mustSh(
    FLAG_WRITE_SH,
    [PATHS.flagDir, name, on ? '1' : '0'],
    `${on ? 'setting' : 'clearing'} the ${name} flag`,
  );
}

/** write state flag `name` on `node` the way the environment says (PairEnv.writeFlag), else setFlag */
export async function writeFlag(env: PairEnv, node: string, name: string, on: boolean): Promise<void> {
  if (env.writeFlag) await env.writeFlag(node, name, on);
  else await setFlag(env.conns[node], name, on);
}

/** wait until `cond` holds on the VIP holders, polling every 100 ms; `tick` every 2 s meanwhile */
export async function waitHolders(
  env: PairEnv,
  cond: (h: VipHolders) => boolean,
  timeoutMs: number,
  tick?: () => Promise<void>,
): Promise<{ ok: boolean; holders: VipHolders }> {
  const deadline = Date.now() + timeoutMs;
  let last = Date.now();
  for (;;) {
    const holders = await vipHolders(env.cfg, env.conns);
    if (cond(holders)) return { ok: true, holders };
    if (Date.now() > deadline || env.signal?.aborted) return { ok: false, holders };
    if (tick && Date.now() - last > 2000) {
      await tick();
      last = Date.now();
    }
    await sleep(100);
  }
}

/**
 * the latest keepalived 1.x sees a state flag change: flag.sh runs every second with a 2 s timeout (2.x reads the
 * flag file through inotify at once). 1 s was counted before: on the loaded lab a 1.3.5 node whose demotion was
 * lifted had not taken its VIP back 3.1 s later, and the give-back of verify-failover was called failed
 */
export const FLAG_SCRIPT_MS = 3000;

/**
 * the longest a takeover can take for these targets (the moment a planned move gives up): a master-down timer, a
 * 1.x flag script, 1 s, an advert
 */
export function takeoverMs(cfg: Config, targets: Target[]): number {
  const ints = targets.flatMap((t) => t.instances);
  const worst = Math.max(...ints.map((i) => masterDownMs(cfg, i, Math.min(...Object.values(i.priorities)))));
  return worst + FLAG_SCRIPT_MS + 1000 + Math.max(...ints.map((i) => i.advertInt * 1000));
}
