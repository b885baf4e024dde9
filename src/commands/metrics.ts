/** `ha-setup metrics rules`: the Prometheus alerting rules for the pair's series (split brain, lost VIP, ...). */
import { writeFileSync } from 'node:fs';
import type { IO } from '../io.js';
import { alertRules } from '../metrics/rules.js';
import { answersPath, loadConfig } from './common.js';
import { UsageError } from '../errors.js';

export async function metricsCommand(io: IO, what: string, opts: { answers?: string; out?: string; job?: string }) {
  if (what !== 'rules') throw new UsageError(`metrics: unknown subcommand "${what}" (allowed: rules)`);
  if (opts.job !== undefined && !/^[A-Za-z0-9_:.-]{1,100}$/.test(opts.job))
    throw new UsageError(
      `--job: must be a Prometheus job name of A-Z a-z 0-9 _ : . - (got ${JSON.stringify(opts.job)})`,
    );
  // with answers, a VIP no node reports at all is an alert too
  const cfg = answersPath(io, opts.answers) ? loadConfig(io, opts.answers) : null;
  const text = alertRules({
    ...(cfg ? { vips: cfg.instances.flatMap((i) => i.vips.map((v) => v.address)) } : {}),
    ...(opts.job ? { job: opts.job } : {}),
  });
  if (opts.out) {
    writeFileSync(opts.out, text);
    io.err(`wrote ${opts.out}`);
  } else io.out(text);
  return 0;
}
