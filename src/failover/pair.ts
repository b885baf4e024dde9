/**
 * The whole pair as verify-failover found it, and bringing it back. Before the first fault every node is
 * snapshotted (keepalived and nginx running / enabled / masked, each link up or down, who holds each VIP, which
 * instances are in FAULT). After each scenario every difference is undone, whatever caused it (the scenario, the
 * guides' check script stopping keepalived, systemd), and the run goes on only when the pair matches its snapshot
 * again. The comparison and the repair commands are pure (unit-tested); applying them is one shell per node.
 */
import { nodeInterfaces } from '../answers/targets.js';
import type { Config, ResolvedNode } from '../answers/resolve.js';
import type { Conn } from '../conn.js';
import { flagArgv } from '../paths.js';
import { cmd, q } from '../ssh/shell.js';
import { UNITS, type NodeStatus, type PairStatus, type UnitState } from '../status/collect.js';

export interface Drift {
  kind: 'ssh' | 'link' | 'unit' | 'state' | 'vip' | 'flag';
  /** the node it is about (for a VIP: its holders now) */
  node: string;
  /** "keepalived", "nginx", "link host0", "VI_1 state", "VI_1 198.18.0.100" */
  what: string;
  was: string;
  now: string;
  /** commands (argv) that put it back, run as root on the node; empty when only keepalived itself can */
  fix: string[][];
}

const masked = (e: string) => e === 'masked' || e === 'masked-runtime';
// "activating" is not running: a unit that cannot start sits in activating (auto-restart) between its tries
const running = (a: string) => a === 'active' || a === 'reloading';
const maskFlag = (e: string) => (e === 'masked-runtime' ? ['--runtime'] : []);

/**
 * Commands that turn a unit's state `now` back into `was`: unmask (or mask), enable or disable (only between those
 * two: static and alias units are nobody's to change), then start or stop. A runtime mask leaves the enablement
 * links alone, so after the unmask the unit is as enabled as it was.
 */
export function unitFix(unit: string, was: UnitState, now: UnitState): string[][] {
  const out: string[][] = [];
  if (masked(now.enabled) && now.enabled !== was.enabled)
    out.push(['systemctl', 'unmask', ...maskFlag(now.enabled), unit]);
  if (masked(was.enabled) && now.enabled !== was.enabled)
    out.push(['systemctl', 'mask', ...maskFlag(was.enabled), unit]);
  if (!masked(was.enabled) && !masked(now.enabled) && was.enabled !== now.enabled) {
    if (was.enabled === 'enabled') out.push(['systemctl', 'enable', unit]);
    else if (was.enabled === 'disabled') out.push(['systemctl', 'disable', unit]);
  }
  if (running(was.active) && !running(now.active)) {
    out.push(['systemctl', 'reset-failed', unit], ['systemctl', 'start', unit]);
  } else if (!running(was.active) && running(now.active)) out.push(['systemctl', 'stop', unit]);
  return out;
}

/** ha-setup's state flags (demote.X, handover.X, maintenance) that differ from the snapshot, and their fix */
function flagDrift(was: NodeStatus, now: NodeStatus, keepDemotions: boolean): Drift[] {
  const names = new Set([...Object.keys(was.flags ?? {}), ...Object.keys(now.flags ?? {})]);
  return [...names]
    .filter((f) => !(keepDemotions && f.startsWith('demote.')))
    .filter((f) => (was.flags?.[f] ?? 0) !== (now.flags?.[f] ?? 0))
    .map((f) => ({
      kind: 'flag' as const,
      node: was.node,
      what: `flag ${f}`,
      was: String(was.flags?.[f] ?? 0),
      now: String(now.flags?.[f] ?? 0),
      fix: [flagArgv(f, was.flags?.[f] ?? 0)],
    }));
}

/**
 * Links, units, instances and state flags of one node that differ from its snapshot. `keepDemotions` while a run
 * keeps the master demoted on purpose (until it gives the VIPs back): its demote.TARGET flags are not drift.
 */
export function nodeDrift(was: NodeStatus, now: NodeStatus, cfg: Config, keepDemotions = false): Drift[] {
  const out: Drift[] = [];
  if (!now.reachable) {
    return [{ kind: 'ssh', node: was.node, what: 'SSH', was: 'reachable', now: now.error ?? 'unreachable', fix: [] }];
  }
  const node = cfg.nodes.find((n) => n.name === was.node);
  const ifaces = node ? nodeInterfaces(cfg, node) : [];
  for (const i of ifaces) {
    if (was.links[i] && now.links[i] === false) {
      out.push({
        kind: 'link',
        node: was.node,
        what: `link ${i}`,
        was: 'up',
        now: 'down',
        fix: [['ip', 'link', 'set', 'dev', i, 'up']],
      });
    }
  }
  for (const u of UNITS) {
    const w = was.units[u];
    const n = now.units[u];
    const sameRun = running(w.active) === running(n.active);
    if (sameRun && w.enabled === n.enabled) continue;
    out.push({
      kind: 'unit',
      node: was.node,
      what: u,
      was: `${w.active}, ${w.enabled}`,
      now: `${n.active}, ${n.enabled}`,
      fix: unitFix(u, w, n),
    });
  }
  // an instance that was not in FAULT and is now (nginx not healthy again yet): only time and keepalived fix it
  for (const inst of now.instances) {
    const before = was.instances.find((i) => i.name === inst.name);
    if (inst.state === 'FAULT' && before && before.state !== 'FAULT') {
      out.push({
        kind: 'state',
        node: was.node,
        what: `${inst.name} state`,
        was: before.state ?? '?',
        now: 'FAULT',
        fix: [],
      });
    }
  }
  out.push(...flagDrift(was, now, keepDemotions));
  return out;
}

/**
 * Everything that differs from the snapshot. VIPs: each must be held by exactly one node, and by the same node as
 * before when the instance preempts (a nopreempt VIP may stay where the failover put it: that is its design).
 */
export function pairDrift(before: PairStatus, now: PairStatus, cfg: Config, keepDemotions = false): Drift[] {
  const out: Drift[] = [];
  for (const was of before.nodes) {
    const n = now.nodes.find((x) => x.node === was.node);
    if (n) out.push(...nodeDrift(was, n, cfg, keepDemotions));
  }
  for (const v of now.vips) {
    const prev = before.vips.find((x) => x.vip === v.vip);
    const who = v.holders.join(' and ') || 'no node';
    if (v.holders.length !== 1) {
      out.push({
        kind: 'vip',
        node: who,
        what: `${v.instance} ${v.vip}`,
        was: prev?.holders.join(' and ') || '?',
        now: who,
        fix: [],
      });
    } else if (v.preempt && prev && prev.holders.length === 1 && prev.holders[0] !== v.holders[0]) {
      out.push({
        kind: 'vip',
        node: v.holders[0],
        what: `${v.instance} ${v.vip}`,
        was: prev.holders[0],
        now: who,
        fix: [],
      });
    }
  }
  return out;
}

/** "lb01: keepalived was active, enabled, now inactive, enabled" */
export function describeDrift(d: Drift): string {
  if (d.kind === 'vip') return `${d.what}: held by ${d.now} (was ${d.was})`;
  return `${d.node}: ${d.what} was ${d.was}, now ${d.now}`;
}

/** the command an operator runs by hand to put it back: ssh user@host [sudo] sh -c '...' */
export function manualFix(
  d: Drift,
  node: ResolvedNode | undefined,
  sudo = !!node && node.user !== 'root',
): string | null {
  if (!d.fix.length) return null;
  const line = d.fix.map((c) => cmd(c)).join(' && ');
  return node ? sshCommand(node, line, sudo) : line;
}

/**
 * A command line an operator pastes into a local shell to run `line` as root on a node: ssh joins its arguments
 * into one string for the remote shell, so the remote command is quoted once for that shell and once more for the
 * local one (`ssh h sudo sh -c 'a && b'` would run `sh -c a` remotely, and b without sudo).
 */
export function sshCommand(node: Pick<ResolvedNode, 'user' | 'host' | 'port'>, line: string, sudo: boolean): string {
  // the remote login shell runs the line as root; through sudo it needs a shell of its own (and a terminal for
  // the password prompt)
  const opts = `${sudo ? '-t ' : ''}${node.port !== 22 ? `-p ${node.port} ` : ''}`;
  return `ssh ${opts}${node.user}@${node.host} ${q(sudo ? `sudo sh -c ${q(line)}` : line)}`;
}

/**
 * Apply the fixes of one node's drift in one round trip (each command runs even if an earlier one failed); returns
 * one line per command with its exit code.
 */
export async function applyFixes(conn: Conn, drift: Drift[]): Promise<string[]> {
  const cmds = drift.flatMap((d) => d.fix);
  if (!cmds.length) return [];
  const script = cmds.map((c) => `${cmd(c)} >/dev/null 2>&1; echo "$?"`).join('\n');
  const r = await conn.sh(script, [], { timeoutMs: 120_000 });
  const codes = r.stdout.trim().split('\n');
  return cmds
    .filter((c) => c[1] !== 'reset-failed')
    .map((c) => {
      const code = codes[cmds.indexOf(c)] ?? '?';
      return `${conn.node.name}: ${c.join(' ')}${code === '0' ? '' : ` (exit ${code})`}`;
    });
}
