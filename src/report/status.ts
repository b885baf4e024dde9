/**
 * What `status` prints: a table of the nodes, who holds each VIP and who should, recent transitions, problems. What
 * the hosts said (states, log lines, errors) is shown with control characters escaped.
 */
import type { Config } from '../answers/resolve.js';
import { styler, type IO } from '../io.js';
import { printable } from '../printable.js';
import type { NodeStatus, PairStatus } from '../status/collect.js';
import { table } from './table.js';

/** "2/2" or "1/2 (10.0.0.22:80 down)": which nginx.upstream backends answer from this node (any HTTP status) */
function backendsCell(bs: { backend: string; status: number }[]): string {
  const down = bs.filter((b) => b.status === 0).map((b) => b.backend);
  return `${bs.length - down.length}/${bs.length}${down.length ? ` (${down.join(', ')} down)` : ''}`;
}

function row(cfg: Config, n: NodeStatus): string[] {
  const mode = n.maintenance ? 'maintenance' : n.demoted.length ? `demoted (${n.demoted.join(', ')})` : '-';
  return [
    n.node,
    n.host,
    n.reachable ? 'yes' : 'NO',
    n.keepalived,
    n.nginx,
    n.stateUnreadable
      ? 'unknown (state not readable)'
      : n.instances.map((i) => `${i.name}=${i.state ?? '?'}(${i.effectivePriority ?? '?'})`).join(' ') || '-',
    cfg.instances
      .flatMap((i) => i.vips.map((v) => v.address))
      .filter((v) => n.addresses.includes(v))
      .join(' ') || '-',
    mode,
    ...(cfg.nginx.upstream ? [backendsCell(n.backends)] : []),
  ];
}

export function renderStatus(io: IO, cfg: Config, s: PairStatus, json: boolean): void {
  const st = styler(io);
  if (json) {
    io.out(JSON.stringify(s, null, 2));
    return;
  }
  const head = ['node', 'host', 'reachable', 'keepalived', 'nginx', 'vrrp state (effective prio)', 'holds VIP', 'mode'];
  io.out(
    table(
      [...head, ...(cfg.nginx.upstream ? ['backends answering'] : [])],
      s.nodes.map((n) => row(cfg, n).map(printable)),
    ),
  );
  io.out('');
  for (const v of s.vips) {
    const auto = cfg.instances.find((i) => i.name === v.instance)?.masterAuto;
    const expect =
      auto && v.expected === v.holders[0]
        ? 'any one node of the highest priority (master: auto)'
        : !v.preempt
          ? 'any one node (nopreempt)'
          : v.expected === v.master
            ? `master ${v.master}`
            : `${v.expected ?? 'none'} (the master ${v.master} is demoted or in maintenance)`;
    io.out(`${v.instance} ${v.vip}: ${v.holders.length ? v.holders.join(', ') : 'nobody'}  (expected: ${expect})`);
  }
  for (const n of s.nodes) {
    if (!n.transitions.length) continue;
    io.out(`\n${n.node} recent transitions:`);
    for (const t of n.transitions.slice(-4)) io.out(`  ${printable(t)}`);
  }
  for (const p of s.problems) io.err(st.red(printable(p)));
  for (const l of s.latent) io.err(st.red(`LATENT FAULT: ${printable(l)}`));
}
