/**
 * The answers for people and for saving: what is missing (for the wizard or a clear refusal), a summary of what will
 * be applied, and the answers as YAML without their secrets.
 */
import { stringify } from 'yaml';
import { ValidationError } from '../errors.js';
import { checkShape, formatPath, type Config } from './resolve.js';

/** Keys the answers lack (as dotted paths), or null when the shape is complete. Other problems throw. */
export function missingKeys(data: unknown, source: string): string[] | null {
  const r = checkShape(data);
  if (r.ok) return null;
  const missing: string[] = [];
  const other: string[] = [];
  r.issues.forEach((issue, i) => {
    const input = (issue as { input?: unknown }).input;
    const isMissing =
      (issue.code === 'invalid_type' && input === undefined) ||
      (issue.code === 'too_small' && Array.isArray(input) && input.length === 0);
    if (isMissing) missing.push(formatPath(issue.path));
    else other.push(r.problems[i] ?? issue.message);
  });
  if (other.length) throw new ValidationError(`${source}: ${other.length} problem(s)`, other);
  return missing;
}

export function answersForSaving(data: unknown, opts: { imported?: boolean } = {}): string {
  const copy = structuredClone(data) as {
    instances?: Record<string, unknown>[];
    ssh?: Record<string, unknown>;
    alerts?: Record<string, unknown>;
  };
  let dropped = false;
  for (const inst of copy.instances ?? []) {
    if ('authPass' in inst) {
      delete inst.authPass;
      dropped = true;
    }
  }
  if (copy.ssh && 'password' in copy.ssh) delete copy.ssh.password;
  // the webhook's URL is a credential (Slack-style hooks): alerts.webhookEnv names a variable instead
  const hook = !!copy.alerts && 'webhook' in copy.alerts;
  if (hook) delete copy.alerts!.webhook;
  const header = [
    '# ha-setup answers (reference: ha-setup schema, README "Answers file")',
    '# yaml-language-server: $schema=./ha-setup.schema.json',
    ...(opts.imported
      ? [
          '# written by `ha-setup import` from what runs on the hosts: check it, then `ha-setup init --dry-run`',
          '# (the VRRP passwords are not here: export each authPassEnv variable, see the import output)',
        ]
      : []),
    ...(dropped
      ? ['# authPass was left out on purpose: add it back, or set authPassEnv: VAR and export VAR before running']
      : []),
    ...(hook
      ? ['# alerts.webhook was left out on purpose: add it back, or set alerts.webhookEnv: VAR and export VAR']
      : []),
  ];
  return header.join('\n') + '\n' + stringify(copy);
}

export function summary(cfg: Config): string {
  const l: string[] = [];
  for (const n of cfg.nodes)
    l.push(`  node ${n.name}: ${n.user}@${n.host}:${n.port}, interface ${n.interface}, priority ${n.priority}`);
  for (const i of cfg.instances) {
    // master: auto: no fixed master, the node elected first and what moves the VIPs after
    const master = i.masterAuto ? `auto (${i.master} first, the health check's weight decides)` : i.master;
    l.push(
      `  ${i.name}: VRID ${i.virtualRouterId}, VIP ${i.vips.map((v) => `${v.address}/${v.prefix}`).join(' ')}, ` +
        `master ${master}, ${i.preempt ? 'preempt' : 'nopreempt'}, advert ${i.advertInt}s, ` +
        `${i.unicast ? 'unicast' : 'multicast'}, auth ${i.authPass ? 'yes' : 'no'}, ` +
        `priorities ${Object.entries(i.priorities)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    );
  }
  const hc = cfg.healthCheck;
  l.push(
    `  profile ${cfg.profile} (VRRPv${cfg.vrrpVersion}); health check ${hc.mode}, every ${hc.interval}s, ` +
      `fall ${hc.fall}, rise ${hc.rise}, weight ${hc.weight}${hc.url ? `, ${hc.url}` : ', process only'}`,
  );
  // what the nginx step will apply: the guides' copy of the configuration only when nginx.sync is on
  const ng = cfg.nginx;
  l.push(
    ng.sync
      ? `  nginx configuration copied from ${ng.syncFrom} to the others (rsync of ${ng.configDir})`
      : '  nginx: each node keeps its own configuration (nginx.sync: false)',
  );
  if (ng.upstream) {
    l.push(
      `  nginx: ha-setup's load balancer for ${ng.upstream.backends.join(', ')} on every node ` +
        `(port ${ng.upstream.listen} of the VIPs)`,
    );
  }
  l.push(
    `  SELinux ${cfg.system.selinux}, firewall ${cfg.system.firewall}, ` +
      `multicast ${cfg.system.multicast ? 'on' : 'untouched'}; ` +
      `logs ${cfg.logging.facility} -> ${cfg.logging.file}`,
  );
  return l.join('\n');
}
