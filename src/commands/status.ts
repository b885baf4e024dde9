/**
 * `ha-setup status`: per node services, VRRP state and VIPs; exit 1 on split brain, lost VIP, a node down, a latent
 * fault or a host acting for the pair without being a member.
 */
import { OperationError } from '../errors.js';
import type { IO } from '../io.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderStatus } from '../report/status.js';
import { openSession } from '../ssh/session.js';
import { pairStatus } from '../status/collect.js';
import { strangers } from '../status/strangers.js';
import { loadConfig } from './common.js';

export async function statusCommand(io: IO, opts: { answers?: string; json?: boolean }): Promise<number> {
  const cfg = loadConfig(io, opts.answers);
  const session = await openSession(io, cfg, { askPassword: passwordPrompt(io) });
  try {
    const [s, others] = await Promise.all([pairStatus(cfg, session.conns), strangers(cfg, session.conns)]);
    s.strangers = others;
    s.problems.push(...others.map((x) => `NOT A MEMBER: ${x}`));
    s.ok = s.problems.length === 0 && s.latent.length === 0;
    renderStatus(io, cfg, s, !!opts.json);
    if (!s.ok)
      throw new OperationError(
        `pair unhealthy: ${s.problems.length + s.latent.length} problem(s)`,
        opts.json ? [...s.problems, ...s.latent] : [],
      );
    return 0;
  } finally {
    session.close();
  }
}
