/**
 * nginx (the guides' steps "nginx on both LBs" and "sync the configuration with rsync"): install nginx where
 * missing, copy the load balancer's nginx configuration from nginx.syncFrom to the other nodes (the guides: `rsync
 * -avz lb01:/etc/nginx/ /etc/nginx/`), validate it with `nginx -t` before reloading (restoring the previous
 * directory if it fails), allow binding the VIP on a backup (net.ipv4.ip_nonlocal_bind=1), and enable + start nginx.
 */
import { PATHS } from '../paths.js';
import type { Change } from '../plan/types.js';
import { renderNginxUpstream, UPSTREAM_HEADER } from '../render.js';
import { fileChange, installChange, stepPlan, svc, type Step } from './context.js';

export const SYSCTL_CONTENT =
  '# Managed by ha-setup: nginx may bind the VIP on a node that does not hold it yet\nnet.ipv4.ip_nonlocal_bind = 1\n';

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

export const nginx: Step = {
  id: 'nginx',
  title: 'nginx: install, sync configuration, enable',
  plan(ctx) {
    const { cfg, node, facts } = ctx;
    const changes: Change[] = [];
    const handlers: Change[] = [];
    const notes: string[] = [];
    if (!facts.packages.nginx) {
      if (!cfg.nginx.install)
        return { ...stepPlan(this), refuse: `nginx is not installed on ${node.name} and nginx.install is false` };
      const c = installChange(ctx, 'nginx');
      if ('refuse' in c) return { ...stepPlan(this), refuse: c.refuse };
      changes.push(c);
    }
    const src = ctx.all[cfg.nginx.syncFrom];
    if (!cfg.nginx.sync) notes.push('nginx.sync is false: each node keeps its own nginx configuration');
    else if (node.name !== cfg.nginx.syncFrom && src && !src.assumed && src.os.family !== facts.os.family) {
      // Debian's and RHEL's nginx differ (user www-data / nginx, sites-enabled / conf.d, module includes): a copy of
      // one's tree onto the other fails nginx -t at best
      return {
        ...stepPlan(this),
        refuse:
          `nginx.syncFrom ${cfg.nginx.syncFrom} runs ${src.os.pretty || src.os.id} and ${node.name} runs ` +
          `${facts.os.pretty || facts.os.id}: their nginx layouts differ, so a copy of ${cfg.nginx.configDir} would ` +
          'break nginx here; set nginx.sync: false (each node keeps its own nginx; nginx.upstream writes the same ' +
          'load balancer on every node), or pair hosts of one family',
      };
    } else if (node.name !== cfg.nginx.syncFrom && src && !src.assumed && !src.nginxTree && !src.packages.nginx) {
      // a fresh source: this run installs its nginx, and this node gets the same package's configuration
      notes.push(`${cfg.nginx.syncFrom} has no nginx yet (this run installs it): nothing to copy from it`);
    } else if (node.name !== cfg.nginx.syncFrom) {
      if (!src?.nginxTree) {
        if (src && !src.assumed)
          return {
            ...stepPlan(this),
            refuse: `nginx.syncFrom ${cfg.nginx.syncFrom} has no ${cfg.nginx.configDir} to copy`,
          };
        changes.push({
          kind: 'nginx-sync',
          from: cfg.nginx.syncFrom,
          configDir: cfg.nginx.configDir,
          added: [],
          changed: [],
          removed: [],
        });
      } else {
        const d = diffTrees(src.nginxTree, facts.nginxTree);
        if (d.added.length + d.changed.length + d.removed.length > 0) {
          // rsync only when there is something to copy (a second run with equal trees installs nothing)
          if (!facts.packages.rsync && facts.pkgManager)
            changes.push({ kind: 'package', manager: facts.pkgManager, names: ['rsync'] });
          changes.push({ kind: 'nginx-sync', from: cfg.nginx.syncFrom, configDir: cfg.nginx.configDir, ...d });
          if (svc(ctx, 'nginx').active === 'active')
            handlers.push({ kind: 'service', name: 'nginx', action: 'reload-or-restart' });
        } else notes.push(`${cfg.nginx.configDir} already equals ${cfg.nginx.syncFrom}'s`);
      }
    } else notes.push(`source of the nginx configuration (nginx.syncFrom)`);

    const sysctlChanges = fileChange(ctx, PATHS.sysctl, SYSCTL_CONTENT, '644');
    changes.push(...sysctlChanges);
    if (facts.sysctl['net.ipv4.ip_nonlocal_bind'] !== '1') {
      changes.push({
        kind: 'command',
        argv: ['sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1'],
        describe: 'net.ipv4.ip_nonlocal_bind=1 now',
        undo: ['sysctl', '-q', '-w', `net.ipv4.ip_nonlocal_bind=${facts.sysctl['net.ipv4.ip_nonlocal_bind'] ?? '0'}`],
      });
    }
    // the guides' 004 upstream: one managed file, the same on every node (so the sync leaves it as it is)
    const upstream = renderNginxUpstream(cfg);
    const upPath = `${cfg.nginx.configDir}/${PATHS.nginxUpstream}`;
    const upFile = facts.files[upPath];
    const up: Change[] =
      upstream !== null
        ? fileChange(ctx, upPath, upstream, '644', { validate: ['nginx', '-t'], validateInPlace: true })
        : // nginx.upstream taken out of the answers: the file ha-setup wrote goes (a file of the same name that
          // ha-setup did not write stays, with a note)
          upFile?.exists && upFile.content?.startsWith(UPSTREAM_HEADER)
          ? [{ kind: 'remove-file', path: upPath, before: upFile.content, validate: ['nginx', '-t'] }]
          : [];
    if (upstream === null && upFile?.exists && !up.length)
      notes.push(`${upPath} was not written by ha-setup: left as it is`);
    changes.push(...up);
    if (up.length && svc(ctx, 'nginx').active === 'active' && !handlers.length) {
      handlers.push({ kind: 'service', name: 'nginx', action: 'reload-or-restart' });
    }
    const s = svc(ctx, 'nginx');
    if (s.enabled !== 'enabled') changes.push({ kind: 'service', name: 'nginx', action: 'enable' });
    if (s.active !== 'active') changes.push({ kind: 'service', name: 'nginx', action: 'start' });
    return stepPlan(this, changes, handlers, notes);
  },
};
