/** Every path ha-setup writes on a host, in one place. */
export const PATHS = {
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  scriptDir: '/etc/keepalived/ha-setup',
  checkScript: '/etc/keepalived/ha-setup/check_nginx.sh',
  notifyScript: '/etc/keepalived/ha-setup/notify.sh',
  /** tells keepalived 1.x whether a state flag is on (2.x tracks the flag files themselves) */
  flagScript: '/etc/keepalived/ha-setup/flag.sh',
  metricsScript: '/etc/keepalived/ha-setup/metrics.sh',
  /** the webhook's header lines (a token from the environment): root only */
  webhookHeaders: '/etc/keepalived/ha-setup/webhook.headers',
  /** the webhook's URL (the credential of a Slack-style hook): root only */
  webhookUrl: '/etc/keepalived/ha-setup/webhook.url',
  stateDir: '/var/lib/ha-setup',
  trackDir: '/var/lib/ha-setup',
  trackFile: '/var/lib/ha-setup/nginx.state',
  /** the state flags keepalived tracks: maintenance, demote.TARGET, handover.TARGET (0 or 1) */
  flagDir: '/var/lib/ha-setup/state',
  /** the pair's members as init records them on every node */
  members: '/var/lib/ha-setup/members.json',
  /** runtime data of the notify hook and the check (VRRP state per instance, the last check), for the metrics */
  runDir: '/run/ha-setup',
  keepalivedDropin: '/etc/systemd/system/keepalived.service.d/ha-setup.conf',
  nginxDropin: '/etc/systemd/system/nginx.service.d/ha-setup.conf',
  /** stopped before nginx stops (PartOf=, After=): writes the track file first, so the VIP moves while nginx serves */
  nginxStopUnit: '/etc/systemd/system/ha-setup-nginx-stop.service',
  metricsService: '/etc/systemd/system/ha-setup-metrics.service',
  metricsTimer: '/etc/systemd/system/ha-setup-metrics.timer',
  rsyslogRule: '/etc/rsyslog.d/30-ha-setup-keepalived.conf',
  logrotate: '/etc/logrotate.d/ha-setup-keepalived',
  sysctl: '/etc/sysctl.d/90-ha-setup.conf',
  /** relative to nginx.configDir: included by Debian's and RHEL's nginx.conf (conf.d/*.conf in http {}) */
  nginxUpstream: 'conf.d/ha-setup-upstream.conf',
  selinuxConfig: '/etc/selinux/config',
  backupRoot: '/var/backups/ha-setup',
  /** ha-setup's lock (lock.ts) and the state dump's: root's alone, never a world-writable directory like /run/lock */
  lockDir: '/run/ha-setup',
  runLog: '/var/log/ha-setup.log',
} as const;

/** the unit whose stop (before nginx's) writes the track file (PATHS.nginxStopUnit): nginx's drop-in wants it */
export const NGINX_STOP_UNIT = 'ha-setup-nginx-stop.service';

/**
 * writes state flag $2 = $3 in directory $1 atomically, through a dot file (the flags fact, keepalived's track_file
 * and the flag script read every other name in that directory as a flag)
 */
export const FLAG_WRITE_SH = 'mkdir -p "$1" && printf "%s\\n" "$3" > "$1/.$2.tmp" && mv -f "$1/.$2.tmp" "$1/$2"';

/** the command that writes state flag `name` = `value` where keepalived watches it */
export function flagArgv(name: string, value: number): string[] {
  return ['sh', '-c', FLAG_WRITE_SH, 'sh', PATHS.flagDir, name, String(value)];
}

/** keepalived's daemon options file of an OS family (facts' OsFamily, spelled out: paths.ts imports no folder) */
export function daemonOptionsFile(family: 'debian' | 'rhel'): { path: string; variable: string } {
  return family === 'rhel'
    ? { path: '/etc/sysconfig/keepalived', variable: 'KEEPALIVED_OPTIONS' }
    : { path: '/etc/default/keepalived', variable: 'DAEMON_ARGS' };
}

/** Files whose current content the planner needs (gathered as facts). */
export function managedFiles(
  nginxConfigDir: string,
  includeDir: string | null = null,
  snippets: string[] = [],
): string[] {
  return [
    `${nginxConfigDir}/${PATHS.nginxUpstream}`,
    ...(includeDir ? [`${includeDir}/00-ha-setup.conf`, ...snippets.map((s) => `${includeDir}/${s}`)] : []),
    PATHS.keepalivedConf,
    PATHS.checkScript,
    PATHS.notifyScript,
    PATHS.flagScript,
    PATHS.metricsScript,
    PATHS.webhookHeaders,
    PATHS.webhookUrl,
    PATHS.keepalivedDropin,
    PATHS.nginxDropin,
    PATHS.nginxStopUnit,
    PATHS.metricsService,
    PATHS.metricsTimer,
    PATHS.rsyslogRule,
    PATHS.logrotate,
    PATHS.sysctl,
    PATHS.selinuxConfig,
    PATHS.members,
    '/etc/sysconfig/keepalived',
    '/etc/default/keepalived',
    PATHS.trackFile,
  ];
}
