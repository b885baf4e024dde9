/**
 * nginx (the guides' steps "nginx on both LBs" and "sync the configuration with rsync"): install nginx where
 * missing, copy the load balancer's nginx configuration from nginx.syncFrom to the other nodes (the guides: `rsync
 * -avz lb01:/etc/nginx/ /etc/nginx/`), validate it with `nginx -t` before reloading (restoring the previous
 * directory if it fails), allow binding the VIP on a backup (net.ipv4.ip_nonlocal_bind=1, and ipv6's for IPv6
 * VIPs), and enable + start nginx.
 */
import { PATHS } from '../paths.js';
import { renderNginxUpstream, UPSTREAM_HEADER } from '../render.js';
import type { Change, StepPlan } from './types.js';
import { currentContent, fileChange, installChange, mayRun, refuse, stepPlan, svc, type Step } from './context.js';
import type { StepContext } from './types.js';

/** the address families of the VIPs whose nonlocal bind nginx needs: ipv4, and ipv6 when a VIP is IPv6 */
export function nonlocalBindKeys(cfg: StepContext['cfg']): string[] {
  const v6 = cfg.instances.some((i) => i.vips.some((v) => v.family === 6));
  return ['net.ipv4.ip_nonlocal_bind', ...(v6 ? ['net.ipv6.ip_nonlocal_bind'] : [])];
}

export function sysctlContent(cfg: StepContext['cfg']): string {
  return (
    '# Managed by ha-setup: nginx may bind the VIP on a node that does not hold it yet\n' +
    nonlocalBindKeys(cfg)
      .map((k) => `${k} = 1\n`)
      .join('')
  );
}

export function diffTrees(src: Record<string, string>, dst: Record<string, string> | null) {
  const d = dst ?? {};
  const added = Object.keys(src)
    .filter((k) => !(k in d))
    .sort();
  const changed = Object.keys(src)
    .filter((k) => k in d && d[k] !== src[k])
    .sort();
  const removed = Object.keys(d)
    .filter((k) => !(k in src))
    .sort();
  return { added, changed, removed };
}

/** the guides' rsync from nginx.syncFrom: the changes, or why it cannot be done, or a note */
function syncChanges(ctx: StepContext): { changes: Change[]; note?: string; refuse?: string } {
  const { cfg, node, facts } = ctx;
  const src = ctx.all[cfg.nginx.syncFrom];
  const from = cfg.nginx.syncFrom;
  if (!cfg.nginx.sync) return { changes: [], note: 'nginx.sync is false: each node keeps its own nginx configuration' };
  if (node.name === from) return { changes: [], note: 'source of the nginx configuration (nginx.syncFrom)' };
  if (src && !src.assumed && src.os.family !== facts.os.family) {
    // Debian's and RHEL's nginx differ (user www-data / nginx, sites-enabled / conf.d, module includes): a copy of
    // one's tree onto the other fails nginx -t at best
    return {
      changes: [],
      refuse:
        `nginx.syncFrom ${from} runs ${src.os.pretty || src.os.id} and ${node.name} runs ` +
        `${facts.os.pretty || facts.os.id}: their nginx layouts differ, so a copy of ${cfg.nginx.configDir} would ` +
        'break nginx here; set nginx.sync: false (each node keeps its own nginx; nginx.upstream writes the same ' +
        'load balancer on every node), or pair hosts of one family',
    };
  }
  if (src && !src.assumed && !src.nginxtree && !src.packages.nginx) {
    // a fresh source: this run installs its nginx, and this node gets the same package's configuration
    return { changes: [], note: `${from} has no nginx yet (this run installs it): nothing to copy from it` };
  }
  if (!src?.nginxtree) {
    if (src && !src.assumed)
      return { changes: [], refuse: `nginx.syncFrom ${from} has no ${cfg.nginx.configDir} to copy` };
    return {
      changes: [{ kind: 'nginx-sync', from, configDir: cfg.nginx.configDir, added: [], changed: [], removed: [] }],
    };
  }
  const d = diffTrees(src.nginxtree, facts.nginxtree);
  if (d.added.length + d.changed.length + d.removed.length === 0)
    return { changes: [], note: `${cfg.nginx.configDir} already equals ${from}'s` };
  // rsync only when there is something to copy (a second run with equal trees installs nothing)
  const rsync: Change[] =
    !facts.packages.rsync && facts.pkgmanager ? [{ kind: 'package', manager: facts.pkgmanager, names: ['rsync'] }] : [];
  return { changes: [...rsync, { kind: 'nginx-sync', from, configDir: cfg.nginx.configDir, ...d }] };
}

/** the guides' 004 upstream: one managed file, the same on every node; removed when it leaves the answers */
function upstreamChanges(ctx: StepContext): { changes: Change[]; note?: string } {
  const { cfg } = ctx;
  const upstream = renderNginxUpstream(cfg);
  const upPath = `${cfg.nginx.configDir}/${PATHS.nginxUpstream}`;
  if (upstream !== null)
    return { changes: fileChange(ctx, upPath, upstream, '644', { validate: ['nginx', '-t'], validateInPlace: true }) };
  const cur = currentContent(ctx.facts, upPath);
  if (cur === null) return { changes: [] };
  // nginx.upstream taken out of the answers: the file ha-setup wrote goes (one it did not write stays, with a note)
  if (cur.startsWith(UPSTREAM_HEADER))
    return { changes: [{ kind: 'remove-file', path: upPath, before: cur, validate: ['nginx', '-t'] }] };
  return { changes: [], note: `${upPath} was not written by ha-setup: left as it is` };
}

export const nginx: Step = {
  id: 'nginx',
  title: 'nginx: install, sync configuration, enable',
  plan(ctx): StepPlan {
    const { cfg, node, facts } = ctx;
    const changes: Change[] = [];
    const notes: string[] = [];
    // after an install nginx may run or not (Debian starts it, RHEL does not): planned for either case
    let s = svc(ctx, 'nginx');
    if (!facts.packages.nginx) {
      s = { active: 'unknown', enabled: 'unknown', mainPid: 0 };
      if (!cfg.nginx.install) return refuse(this, `nginx is not installed on ${node.name} and nginx.install is false`);
      const c = installChange(ctx, 'nginx');
      if ('refuse' in c) return refuse(this, c.refuse);
      changes.push(c);
    }
    const sync = syncChanges(ctx);
    if (sync.refuse) return refuse(this, sync.refuse);
    if (sync.note) notes.push(sync.note);
    changes.push(...sync.changes);
    changes.push(...fileChange(ctx, PATHS.sysctl, sysctlContent(cfg), '644'));
    for (const k of nonlocalBindKeys(cfg))
      if (facts.sysctl[k] !== '1')
        changes.push({
          kind: 'command',
          argv: ['sysctl', '-q', '-w', `${k}=1`],
          describe: `${k}=1 now`,
          undo: ['sysctl', '-q', '-w', `${k}=${facts.sysctl[k] ?? '0'}`],
          sets: { sysctl: { [k]: '1' } },
        });
    const up = upstreamChanges(ctx);
    if (up.note) notes.push(up.note);
    changes.push(...up.changes);
    const handlers: Change[] =
      (sync.changes.length || up.changes.length) && mayRun(s)
        ? [{ kind: 'service', name: 'nginx', action: 'reload-or-restart' }]
        : [];
    if (s.enabled !== 'enabled') changes.push({ kind: 'service', name: 'nginx', action: 'enable' });
    // after a package install nginx may or may not run (Debian starts it, RHEL does not): reload-or-restart starts
    // it when it does not, and loads the new configuration when it does
    if (s.active !== 'active' && !handlers.length)
      changes.push({ kind: 'service', name: 'nginx', action: s.active === 'unknown' ? 'reload-or-restart' : 'start' });
    return stepPlan(this, changes, handlers, notes);
  },
};
