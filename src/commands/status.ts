/** `ha-setup status`: per node services, VRRP state and VIPs; exit 1 on split brain, lost VIP or a node down. */
import { table } from '../report/table.js';
import { openSession } from '../ssh/session.js';
import { passwordPrompt } from '../prompts.js';
import { OperationError } from '../errors.js';
import { styler, type IO } from '../io.js';
import { pairStatus } from '../status/collect.js';
import { loadConfig } from './common.js';

/** "2/2" or "1/2 (10.0.0.22:80 down)": which nginx.upstream backends answer from this node (any HTTP status) */
function backendsCell(bs: { backend: string; status: number }[]): string {
  const down = bs.filter((b) => b.status === 0).map((b) => b.backend);
  return `${bs.length - down.length}/${bs.length}${down.length ? ` (${down.join(', ')} down)` : ''}`;
}

export async function statusCommand(io: IO, opts: { answers?: string; json?: boolean }): Promise<number> {
  const cfg = loadConfig(io, opts.answers);
  const st = styler(io);
  const session = await openSession(io, cfg, { askPassword: passwordPrompt(io) });
  try {
    const s = await pairStatus(cfg, session.conns);
    if (opts.json) io.out(JSON.stringify(s, null, 2));
    else {
      const rows = s.nodes.map((n) => [
        n.node,
        n.host,
        n.reachable ? 'yes' : 'NO',
        n.keepalived,
        n.nginx,
        n.instances.map((i) => `${i.name}=${i.state ?? '?'}(${i.effectivePriority ?? '?'})`).join(' ') || '-',
        cfg.instances
          .flatMap((i) => i.vips.map((v) => v.address))
          .filter((v) => n.addresses.includes(v))
          .join(' ') || '-',
        ...(cfg.nginx.upstream ? [backendsCell(n.backends)] : []),
      ]);
      const head = ['node', 'host', 'reachable', 'keepalived', 'nginx', 'vrrp state (effective prio)', 'holds VIP'];
      io.out(table([...head, ...(cfg.nginx.upstream ? ['backends answering'] : [])], rows));
      io.out('');
      for (const v of s.vips) {
        const expect = v.preempt ? `master ${v.master}` : 'any one node (nopreempt)';
        io.out(`${v.instance} ${v.vip}: ${v.holders.length ? v.holders.join(', ') : 'nobody'}  (expected: ${expect})`);
      }
      for (const n of s.nodes) {
        if (n.transitions.length) {
          io.out(`\n${n.node} recent transitions:`);
          for (const t of n.transitions.slice(-4)) io.out(`  ${t}`);
        }
      }
      for (const p of s.problems) io.err(st.red(p));
    }
    if (!s.ok) throw new OperationError(`pair unhealthy: ${s.problems.length} problem(s)`, opts.json ? s.problems : []);
    return 0;
  } finally {
    session.close();
  }
}
