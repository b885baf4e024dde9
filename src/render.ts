/** Renders the templates in templates/ with ejs, without HTML escaping (config text is not HTML). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { hostForUrl } from './answers/ip.js';
import { isFastProfile, type Config, type ResolvedNode } from './answers/resolve.js';
import { keepalivedFeatures } from './keepalived.js';
import { targetsOf, vrrpInstancesOf, vrrpSyncGroupsOf } from './answers/targets.js';
import { NGINX_STOP_UNIT, PATHS } from './paths.js';

export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'templates');

const cache = new Map<string, string>();
/** a file of templates/ as it is (also the static scripts ha-setup runs on hosts) */
export function readTemplate(name: string): string {
  return template(name);
}
function template(name: string): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = readFileSync(join(TEMPLATE_DIR, name), 'utf8');
    cache.set(name, t);
  }
  return t;
}

export function renderTemplate(name: string, data: Record<string, unknown>): string {
  return ejs.render(template(name), data, {
    escape: (v: unknown) => (v === undefined || v === null ? '' : String(v)),
    async: false,
  });
}

export interface RenderPaths {
  checkScript: string;
  notifyScript: string | null;
  trackFile: string;
  trackDir: string;
  flagDir: string;
  flagScript: string;
}

export const DEFAULT_RENDER_PATHS: RenderPaths = {
  checkScript: PATHS.checkScript,
  notifyScript: PATHS.notifyScript,
  trackFile: PATHS.trackFile,
  trackDir: PATHS.trackDir,
  flagDir: PATHS.flagDir,
  flagScript: PATHS.flagScript,
};

/**
 * the fast and ultra profiles add an instant nginx stop/start signal (track_file written by systemd), same weight as
 * the check; keepalived before 2.0 has no track_file
 */
export function trackFileOf(cfg: Config, version: string | null = null): { weight: number } | null {
  if (!isFastProfile(cfg.profile) || cfg.healthCheck.mode !== 'weight') return null;
  if (!keepalivedFeatures(version).trackFile) return null;
  return { weight: cfg.healthCheck.weight };
}

/**
 * real-time priority of keepalived's VRRP process (SCHED_RR): above a typical real-time competitor (the stress
 * bench's chrt -r 10 made a fast pair fail over 14 times in 15 s without it, never with it), below the kernel's
 * own threads (50 is the default of threaded interrupts)
 */
export const REALTIME_PRIORITY = 49;

/** the keepalived versions a node's configuration is rendered for: its own, and its peers' */
export interface RenderVersions {
  self: string | null;
  peers: (string | null)[];
}

/**
 * ha-setup's state flags as keepalived tracks them (switchover, maintenance): on 2.x the flag files themselves
 * (track_file, inotify: at once), on 1.x a script per flag run every second (1.3.5 has no track_file). Each
 * target (an instance, or a sync group) has a demote flag (its priority drops below every node not demoted) and a
 * handover flag (FAULT: the priority-0 advert hands its VIPs over at once); maintenance puts every instance in FAULT.
 */
export function stateFlags(cfg: Config, version: string | null) {
  const targets = targetsOf(cfg);
  const flag = (name: string, weight: number) => ({ id: `ha_${name.replace(/\./g, '_')}`, file: name, weight });
  const byInstance: Record<string, { id: string; weight: number }[]> = {};
  const all = [flag('maintenance', 0)];
  for (const t of targets) {
    const own = [flag(`handover.${t.name}`, 0), flag(`demote.${t.name}`, -t.demoteWeight)];
    all.push(...own);
    for (const i of t.instances) byInstance[i.name] = [all[0], ...own];
  }
  return { mode: keepalivedFeatures(version).trackFile ? 'file' : 'script', all, byInstance };
}

export function renderKeepalivedConf(
  cfg: Config,
  node: ResolvedNode,
  paths: RenderPaths = DEFAULT_RENDER_PATHS,
  versions: RenderVersions = { self: null, peers: [] },
): string {
  const f = keepalivedFeatures(versions.self);
  // a 2.x node with a 1.x peer in VRRPv3 unicast must checksum the old way
  const oldPeer = versions.peers.some((v) => !keepalivedFeatures(v).oldUnicastChecksum);
  return renderTemplate('keepalived.conf.ejs', {
    cfg,
    node,
    paths,
    trackFile: trackFileOf(cfg, versions.self),
    fastProfile: isFastProfile(cfg.profile),
    realtime: cfg.realtime && f.realtime ? REALTIME_PRIORITY : null,
    oldUnicastChecksum: f.oldUnicastChecksum && oldPeer && cfg.vrrpVersion === 3,
    flags: stateFlags(cfg, versions.self),
    // a master that hears another master of lower priority (a split brain) calls the notify hook (2.0.6+)
    rxLowerPri: f.rxLowerPri ? paths.notifyScript : null,
    flagDir: paths.flagDir,
    flagScript: paths.flagScript,
    groupWeights: f.trackFile ? 'sync_group_tracking_weight' : 'global_tracking',
    vrrp: vrrpInstancesOf(cfg, node),
    groups: vrrpSyncGroupsOf(cfg, node),
  });
}

export function renderFlagScript(): string {
  return renderTemplate('flag.sh.ejs', { flagDir: PATHS.flagDir });
}

export function renderCheckScript(cfg: Config): string {
  return renderTemplate('check_nginx.sh.ejs', { cfg, runDir: PATHS.runDir });
}

export function renderRsyslogRule(cfg: Config): string {
  return renderTemplate('rsyslog.conf.ejs', { cfg });
}

export function renderLogrotate(cfg: Config): string {
  return renderTemplate('logrotate.ejs', { cfg });
}

/** the VIPs a node's keepalived may hold, with their interface: systemd removes them when keepalived dies */
export function vipsOfNode(cfg: Config, node: ResolvedNode): ReleasedVip[] {
  return vrrpInstancesOf(cfg, node).flatMap((v) =>
    v.vips.map((a) => ({ address: a.address, prefix: a.prefix, dev: a.dev ?? v.iface, family: a.family })),
  );
}

export interface ReleasedVip {
  address: string;
  prefix: number;
  dev: string;
  family: 4 | 6;
}

/** keepalived's drop-in: multicast on every interface the pair uses before it starts, the VIPs released after it */
export function renderKeepalivedDropin(
  ifaces: string[],
  multicast: boolean,
  restartOnCrash: boolean,
  releaseVips: ReleasedVip[] = [],
): string {
  return renderTemplate('keepalived-dropin.conf.ejs', { ifaces, multicast, restartOnCrash, releaseVips });
}

/** how the managed nginx upstream file starts: a file that does not was not written by ha-setup */
export const UPSTREAM_HEADER = '# Managed by ha-setup:';

/** the managed nginx load balancer (nginx.upstream): null when the operator keeps their own configuration */
export function renderNginxUpstream(cfg: Config): string | null {
  if (!cfg.nginx.upstream) return null;
  // IPv6 VIPs in brackets: `listen [fd00::100]:80;`
  const vips = [...new Set(cfg.instances.flatMap((i) => i.vips.map((v) => hostForUrl(v.address))))];
  return renderTemplate('nginx-upstream.conf.ejs', { up: cfg.nginx.upstream, vips });
}

export function renderNginxDropin(paths: RenderPaths = DEFAULT_RENDER_PATHS): string {
  return renderTemplate('nginx-dropin.conf.ejs', { paths, unit: NGINX_STOP_UNIT });
}

export function renderNginxStopUnit(paths: RenderPaths = DEFAULT_RENDER_PATHS): string {
  return renderTemplate('nginx-stop.service.ejs', { paths });
}

/** Replace or add VAR="value" in a shell-style options file, keeping every other line. */
export function setOptionsVariable(current: string | null, variable: string, value: string, header: string): string {
  const line = `${variable}="${value}"`;
  if (current === null || current.trim() === '') return `${header}\n${line}\n`;
  const lines = current.replace(/\n$/, '').split('\n');
  const re = new RegExp(`^\\s*${variable}=`);
  const idx = lines.findIndex((l) => re.test(l));
  if (idx >= 0) lines[idx] = line;
  else lines.push(line);
  return lines.join('\n') + '\n';
}
