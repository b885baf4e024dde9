/**
 * keepalived configuration (the guides' step "configure keepalived": global_defs, vrrp_script, vrrp_instance, check
 * script): keepalived.conf rendered per node (router_id, script security, vrrp_script, one vrrp_instance per
 * instance with this node's priority, ha-setup's state flags), the health-check script (0755 root, as
 * enable_script_security requires), the notify hook, and systemd drop-ins. keepalived.conf is validated before it
 * replaces the old one (`keepalived -t`; on 1.x, which has none, a real start in a private namespace); a change
 * reloads keepalived if it runs.
 */
import { canonicalIP } from '../answers/ip.js';
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
import { keepalivedFeatures, versionAtLeast } from '../keepalived.js';
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

/** a keepalived.conf without comments (`#`, `!`) */
function uncommented(conf: string): string {
  return conf.replace(/[#!].*$/gm, '');
}

/** the vrrp_sync_groups of a keepalived.conf: name -> its members, sorted */
export function syncGroupsIn(conf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, body] of blocksIn(conf, 'vrrp_sync_group')) {
    const members = /\bgroup\s*\{([^}]*)\}/.exec(body)?.[1].trim().split(/\s+/).filter(Boolean) ?? [];
    out.set(name, members.sort().join(' '));
  }
  return out;
}

/** the top-level blocks `KEYWORD NAME { ... }` of a keepalived.conf: name -> body (braces counted) */
export function blocksIn(conf: string, keyword: string): Map<string, string> {
  const text = uncommented(conf);
  const out = new Map<string, string>();
  const re = new RegExp(`^\\s*${keyword}\\s+(\\S+)\\s*\\{`, 'gm');
  for (const m of text.matchAll(re)) {
    let depth = 1;
    let k = m.index + m[0].length;
    for (; k < text.length && depth > 0; k++) depth += text[k] === '{' ? 1 : text[k] === '}' ? -1 : 0;
    out.set(m[1], text.slice(m.index + m[0].length, k - 1));
  }
  return out;
}

/** the value of `key` in a block (keepalived reads a quoted word without its quotes) */
const word = (body: string, key: string) =>
  (new RegExp(`^\\s*${key}\\s+(\\S+)`, 'm').exec(body)?.[1] ?? '').replace(/^"(.*)"$/, '$1');

/** what keepalived matches an instance by across a reload (vrrp_exist: id, interface, unicast and its source) */
function identityOf(body: string): string {
  const unicast = /^\s*unicast_peer\b/m.test(body) ? `unicast from ${word(body, 'unicast_src_ip')}` : 'multicast';
  return `${word(body, 'virtual_router_id')} ${word(body, 'interface')} ${unicast}`;
}

/** what an instance's adverts carry that a peer checks (its VIPs, interval, version, authentication) */
function advertOf(body: string, globalVersion: string): string {
  const vips = (/\bvirtual_ipaddress\s*\{([^}]*)\}/.exec(body)?.[1] ?? '')
    .split('\n')
    .map((l) => {
      const a = l.trim().split(/\s+/)[0]?.split('/')[0] ?? '';
      return a && (canonicalIP(a) ?? a);
    })
    .filter(Boolean)
    .sort();
  const auth = /\bauthentication\s*\{([^}]*)\}/.exec(body)?.[1] ?? '';
  const version = word(body, 'version') || globalVersion || '2';
  return [
    vips.join(' '),
    String(Number(word(body, 'advert_int')) || 1),
    version,
    // VRRPv3 carries no authentication (keepalived ignores the block)
    // keepalived sends the first 8 characters of a longer password
    version === '2' ? `${word(auth, 'auth_type')}:${word(auth, 'auth_pass').slice(0, 8)}` : '',
  ].join(' | ');
}

/** the node's keepalived.conf as it is and as the run renders it, each with its vrrp_instance blocks: read once */
export interface ConfChange {
  old: string;
  conf: string;
  oldBlocks: Map<string, string>;
  newBlocks: Map<string, string>;
}

export function confChange(ctx: StepContext, conf: string): ConfChange {
  const old = currentContent(ctx.facts, PATHS.keepalivedConf) ?? '';
  return { old, conf, oldBlocks: blocksIn(old, 'vrrp_instance'), newBlocks: blocksIn(conf, 'vrrp_instance') };
}

/**
 * The instances this node is MASTER of (it holds their VIPs) that a reload would reset, which puts their VIPs down
 * until the master-down timers pass: one keepalived no longer recognises (its id, interface or unicast source
 * changed: vrrp_exist), or whose sync group is new or has other members (keepalived keeps a group MASTER across a
 * reload only when all its members were MASTER before: set_previous_sync_group_states, vrrp_init_state; 1.3.5
 * restores a group by name, and resets one that lost members), or any grouped one on 2.0.0..2.0.7 (every group goes
 * BACKUP on a reload there). Seen on the lab: an IPv6 VIP added to a serving IPv4 pair (its twin and their group
 * new) left the IPv4 VIP on no node for 3.4 s. What the current keepalived.conf does not show counts as a change.
 */
export function reloadResets(ctx: StepContext, version: string | null, c: ConfChange): string[] {
  const { cfg, node, facts } = ctx;
  const held = new Set(Object.values(facts.interfaces).flatMap((f) => f.ips.map((a) => a.address)));
  const mine = vrrpInstancesOf(cfg, node);
  const holds = new Set(mine.filter((v) => v.vips.some((a) => held.has(a.address))).map((v) => v.name));
  if (!holds.size) return [];
  const before = syncGroupsIn(c.old);
  const groups = vrrpSyncGroupsOf(cfg, node);
  const anyGroupResets = versionAtLeast(version, '2.0.0') && !versionAtLeast(version, '2.0.8');
  const out = new Set<string>();
  for (const g of groups) {
    if (!anyGroupResets && before.get(g.name) === [...g.members].sort().join(' ')) continue;
    for (const m of g.members) if (holds.has(m)) out.add(m);
  }
  for (const name of holds) {
    const was = c.oldBlocks.get(name);
    if (was === undefined || identityOf(was) !== identityOf(c.newBlocks.get(name) ?? '')) out.add(name);
  }
  return [...out];
}

/**
 * The instances that exist before and after (same name), are reset by the reload on this node, and advertise
 * otherwise after it: the holder restarts only in its rolling turn while the other nodes reload at once, so for that
 * whole time the two configurations would drop each other's adverts (a VIP count, an interval, a version, a
 * password: vrrp_check_packet) and both nodes would hold the VIPs.
 */
export function speaksOtherwise(c: ConfChange, resets: string[]): string[] {
  if (!resets.length) return [];
  const gv = (text: string) => /^\s*vrrp_version\s+(\d)/m.exec(uncommented(text))?.[1] ?? '';
  const [oldV, newV] = [gv(c.old), gv(c.conf)];
  return resets.filter((n) => {
    const was = c.oldBlocks.get(n);
    const now = c.newBlocks.get(n);
    return was !== undefined && now !== undefined && advertOf(was, oldV) !== advertOf(now, newV);
  });
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
    const running = svc(ctx, 'keepalived').active === 'active';
    const change = running && confChanges.length ? confChange(ctx, conf) : null;
    const resets = change ? reloadResets(ctx, ctx.facts.kaversion ?? version, change) : [];
    const both = change ? speaksOtherwise(change, resets) : [];
    if (both.length)
      return refuse(
        this,
        `${node.name} holds the VIPs of ${both.join(', ')}, which a reload would reset (a new sync group or ` +
          'member, or another id, interface or unicast source), so keepalived restarts there in its rolling turn; ' +
          'this run also changes what they advertise (VIPs, interval, version or password), and the other nodes, ' +
          'reloaded first, would not hear it until then: make the two changes in separate runs',
      );
    if (running && (confChanges.length || checkChanged))
      handlers.push({ kind: 'service', name: 'keepalived', action: resets.length ? 'restart' : 'reload-or-restart' });
    return stepPlan(this, changes, handlers);
  },
};
