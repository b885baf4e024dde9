/**
 * keepalived configuration (the guides' step "configure keepalived": global_defs, vrrp_script, vrrp_instance, check
 * script): keepalived.conf rendered per node (router_id, script security, vrrp_script, one vrrp_instance per
 * instance with this node's priority, ha-setup's state flags), the health-check script (0755 root, as
 * enable_script_security requires), the notify hook, and systemd drop-ins. keepalived.conf is validated before it
 * replaces the old one (`keepalived -t`; on 1.x, which has none, a real start in a private namespace); a change
 * reloads keepalived if it runs.
 */
import { nodeInterfaces, vrrpInstancesOf, vrrpSyncGroupsOf } from '../answers/targets.js';
import { flagArgv, NGINX_STOP_UNIT, PATHS } from '../paths.js';
import {
  renderCheckScript,
  renderFlagScript,
  renderKeepalivedConf,
  renderKeepalivedDropin,
  vipsOfNode,
  renderNginxDropin,
  renderNginxStopUnit,
  stateFlags,
  trackFileOf,
  DEFAULT_RENDER_PATHS,
  readTemplate,
} from '../render.js';
import { renderNotifyScript } from '../metrics/notify.js';
import type { Change } from './types.js';
import { HA_BIN_PRELUDE } from '../facts/safe-file.js';
import { keepalivedFeatures } from '../keepalived.js';
import {
  currentContent,
  fileChange,
  keepalivedVersionOf,
  mayRun,
  refuse,
  stepPlan,
  svc,
  type Step,
  type StepContext,
} from './context.js';

export const INCLUDE_PLACEHOLDER =
  '! Managed by ha-setup: keepalived before 2.0 refuses an include that matches no file.\n' +
  '! Put your own *.conf snippets beside this one (mode 0644: keepalived skips an executable file).\n';

export function includePlaceholder(dir: string): string {
  return `${dir}/00-ha-setup.conf`;
}

/**
 * the check that stands in for `keepalived -t` on 1.x (templates/validate-keepalived-1x.sh), with the functions it
 * finds keepalived with (ha_bin: only a binary nobody but root can change) after its first line
 */
export function validateScript1x(): string {
  return readTemplate('validate-keepalived-1x.sh').replace(/^(#!.*\n)/, (l) => `${l}${HA_BIN_PRELUDE.join('\n')}\n`);
}

/** a directory created when missing (with what it makes true for the later steps) */
function mkdir(ctx: StepContext, dir: string, mode: string, why: string): Change[] {
  if (ctx.facts.dirs[dir]) return [];
  return [
    {
      kind: 'command',
      argv: ['mkdir', '-p', '-m', mode, dir],
      describe: `create ${dir} ${why}`,
      undo: ['rmdir', dir],
      sets: { dirs: { [dir]: true } },
    },
  ];
}

/** the scripts keepalived runs, the drop-ins, the state flag directory and the include directory */
function supportFiles(ctx: StepContext, version: string | null): { changes: Change[]; unitChanged: boolean } {
  const { cfg, node } = ctx;
  const changes: Change[] = [];
  changes.push(...fileChange(ctx, PATHS.checkScript, renderCheckScript(cfg), '755'));
  changes.push(...fileChange(ctx, PATHS.notifyScript, renderNotifyScript(cfg, node), '755'));
  if (stateFlags(cfg, version).mode === 'script')
    changes.push(...fileChange(ctx, PATHS.flagScript, renderFlagScript(), '755'));
  changes.push(...mkdir(ctx, PATHS.flagDir, '0755', 'for the state flags keepalived tracks'));
  // a handover flag is only ever on during a move (the host lock keeps runs apart): one left on is stale
  for (const [name, v] of Object.entries(ctx.facts.flags))
    if (name.startsWith('handover.') && v !== 0)
      changes.push({
        kind: 'command',
        argv: flagArgv(name, 0),
        describe: `clear the stale ${name} flag (left by an interrupted move)`,
        sets: { flags: { [name]: 0 } },
      });
  const dropin = renderKeepalivedDropin(
    nodeInterfaces(cfg, node),
    cfg.system.multicast,
    cfg.restartOnCrash,
    cfg.releaseVipsOnExit ? vipsOfNode(cfg, node) : [],
  );
  const units = [
    ...fileChange(ctx, PATHS.keepalivedDropin, dropin, '644'),
    ...(trackFileOf(cfg, version)
      ? [
          ...fileChange(ctx, PATHS.nginxDropin, renderNginxDropin(), '644'),
          ...fileChange(ctx, PATHS.nginxStopUnit, renderNginxStopUnit(), '644'),
        ]
      : []),
  ];
  changes.push(...units);
  // the guides' `include /etc/keepalived/conf.d/*.conf`: the directory must exist for the operator's snippets, and
  // keepalived before 2.0 dies on an include that matches no file (at start and on reload): keep one there
  if (cfg.includeDir) {
    changes.push(...mkdir(ctx, cfg.includeDir, '0755', "for the operator's keepalived snippets"));
    changes.push(...fileChange(ctx, includePlaceholder(cfg.includeDir), INCLUDE_PLACEHOLDER, '644'));
    // what `ha-setup import` kept of a hand-built configuration (validated with keepalived.conf, which includes it)
    for (const s of cfg.snippets.filter((x) => !x.node || x.node === node.name))
      changes.push(...fileChange(ctx, `${cfg.includeDir}/${s.name}`, s.content, '644'));
  }
  return { changes, unitChanged: units.length > 0 };
}

/** the vrrp_sync_groups of a keepalived.conf: name -> its members, sorted (comments and blank lines left out) */
export function syncGroupsIn(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^\s*vrrp_sync_group\s+(\S+)\s*\{\s*group\s*\{([^}]*)\}/gm;
  for (const m of conf.matchAll(re)) {
    const members = m[2]
      .split('\n')
      .map((l) => l.replace(/[#!].*$/, '').trim())
      .filter(Boolean)
      .flatMap((l) => l.split(/\s+/));
    out.set(m[1], members.sort().join(' '));
  }
  return out;
}

/**
 * Would a reload put a VIP this node holds down for a while? keepalived's reload keeps a sync group MASTER only when
 * all its members were MASTER before (2.x set_previous_sync_group_states, vrrp_init_state): a group that is new, or
 * has other members than before (an IPv6 VIP's twin added to an instance, a syncGroups entry), resets a MASTER
 * member to BACKUP until every member's master-down timer has passed (seen on the lab: an IPv6 VIP added to a
 * serving IPv4 pair lost its IPv4 VIP for 3.4 s). Such a node is restarted in the rolling phase instead, its VIPs
 * handed over first; what it cannot tell (no configuration read) counts as a change.
 */
export function reloadResetsHolder(ctx: StepContext): boolean {
  const { cfg, node, facts } = ctx;
  const held = new Set(Object.values(facts.interfaces).flatMap((f) => f.ips.map((a) => a.address)));
  const holds = new Set(
    vrrpInstancesOf(cfg, node)
      .filter((v) => v.vips.some((a) => held.has(a.address)))
      .map((v) => v.name),
  );
  if (!holds.size) return false;
  const before = syncGroupsIn(currentContent(facts, PATHS.keepalivedConf) ?? '');
  return vrrpSyncGroupsOf(cfg, node).some(
    (g) => g.members.some((m) => holds.has(m)) && before.get(g.name) !== [...g.members].sort().join(' '),
  );
}

export const keepalivedConfig: Step = {
  id: 'keepalived-config',
  title: 'keepalived: configuration and health check',
  plan(ctx) {
    const { cfg, node } = ctx;
    // rendered for the keepalived the host has (or will get: the package file's or the repository's version)
    const version = keepalivedVersionOf(cfg, ctx.facts);
    // ultra's figures need 2.x: 1.x has no track_file (nginx's stop seen by the check, a second or more later) and
    // applies check results and takes over one advert late
    if (cfg.profile === 'ultra' && !keepalivedFeatures(version).trackFile)
      return refuse(
        this,
        `profile ultra needs keepalived 2.x on every node; ${node.name} runs (or would get) ${version}, which has ` +
          'no track_file and takes over one advert late: use profile fast there',
      );
    // the peers as they run now where keepalived is installed: during an upgrade rolled through the pair a peer
    // still runs its old version (a 2.x node keeps its 1.x peers' unicast checksum until a re-run after the upgrade)
    const peers = cfg.nodes
      .filter((n) => n.name !== node.name)
      .map((n) => ctx.all[n.name]?.kaversion ?? keepalivedVersionOf(cfg, ctx.all[n.name]));
    const { changes, unitChanged } = supportFiles(ctx, version);
    const conf = renderKeepalivedConf(cfg, node, DEFAULT_RENDER_PATHS, { self: version, peers });
    const confChanges = fileChange(ctx, PATHS.keepalivedConf, conf, '600', {
      validate: keepalivedFeatures(version).configTest
        ? ['keepalived', '-t', '-f', '{file}']
        : ['bash', '-c', validateScript1x(), 'validate-keepalived-1x', '{file}'],
    });
    changes.push(...confChanges);
    const handlers: Change[] = [];
    if (unitChanged) handlers.push({ kind: 'service', name: 'systemd', action: 'daemon-reload' });
    // nginx's drop-in starts the signalling unit with nginx; a running nginx gets it now (only an active unit is
    // stopped with nginx, so a planned stop is signalled before it begins): after the daemon-reload when the units
    // change, else on its own
    if (trackFileOf(cfg, version) && mayRun(svc(ctx, 'nginx')) && svc(ctx, NGINX_STOP_UNIT).active !== 'active') {
      const start: Change = { kind: 'service', name: NGINX_STOP_UNIT, action: 'start' };
      if (unitChanged) handlers.push(start);
      else changes.push(start);
    }
    const checkChanged = changes.some(
      (c) =>
        c.kind === 'file' &&
        (c.path === PATHS.checkScript || (!!cfg.includeDir && c.path.startsWith(`${cfg.includeDir}/`))),
    );
    // a reload is harmless to clients (the VIP stays where it is) unless it resets a sync group this node is MASTER
    // of (then a restart, rolled with its VIPs handed over first); a keepalived that is not running is started by
    // the services step, after its daemon options are in place
    if (svc(ctx, 'keepalived').active === 'active' && (confChanges.length || checkChanged))
      handlers.push({
        kind: 'service',
        name: 'keepalived',
        action: confChanges.length && reloadResetsHolder(ctx) ? 'restart' : 'reload-or-restart',
      });
    return stepPlan(this, changes, handlers);
  },
};
