/**
 * The answers model: what the user tells ha-setup (YAML file or wizard). Every value that later reaches a
 * shell command or a config file is constrained here to a safe character set, so templates and commands can
 * rely on it; commands still quote every value (see ssh/shell.ts).
 */
import { z } from 'zod';
import { isIPv4, isIPv6, parseCidr } from './ip.js';

export const IFACE_RE = /^(?!\.{1,2}$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const HOST_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
export const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
/**
 * a VRRP instance's name as keepalived reads it (any word) and as ha-setup also uses it: in state flag file names,
 * metric labels and the notify hook's arguments, so no path separator, quote, shell or keepalived syntax character
 */
export const INSTANCE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:@+,=%^~-]{0,62}$/;
export const INSTANCE_RULE = '1-63 characters of A-Z a-z 0-9 _ . : @ + , = % ^ ~ - starting with a letter, digit or _';
export const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** absolute path made of safe characters only (no spaces, quotes, $, ;, newlines) */
export const ABS_PATH_RE = /^\/(?:[A-Za-z0-9_.@+-]+\/?)*$/;
/** local path for SSH files: may start with ~ */
export const LOCAL_PATH_RE = /^(?:~\/|\/|\.{1,2}\/)?[A-Za-z0-9_.@+\-/]*$/;
/**
 * keepalived auth_pass: 1-8 printable ASCII characters that keepalived 1.x and 2.x read the same way. Left out: space,
 * " (quotes a word), ! and # (start a comment), { and } (2.x splits a line on them: `pw}}` closes the instance),
 * $ (2.x substitutes $NAME, and has built-in names: `a$_PWD` is the current directory there, itself in 1.x) and \
 * (2.x joins the next line to one at the end of a line; 2.x also reads \# and \! as # and !).
 */
export const AUTH_PASS_RE = /^[A-Za-z0-9%&'()*+,\-./:;<=>?@[\]^_`|~]{1,8}$/;
/** what AUTH_PASS_RE allows, for messages */
export const AUTH_PASS_RULE = '1-8 printable ASCII characters without spaces or { } " ! # $ \\';
/** http(s) URL without quotes, spaces or backslashes (health check, failover probe) */
export const URL_RE = /^https?:\/\/[A-Za-z0-9.:[\]-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~%!$&()*+,;=:@/-]*)?$/;
/** a local keepalived snippet file: safe characters, ending in .conf (what `include DIR/*.conf` reads) */
export const SNIPPET_RE = /^(?:~\/|\/|\.{1,2}\/)?[A-Za-z0-9_.@+\-/]*\.conf$/;
export const EMAIL_RE = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** an IPv4 address, or a DNS name / ssh alias that does not look like a (broken) IPv4 address */
export function isHostAddress(s: string): boolean {
  if (isIPv4(s)) return true;
  return HOST_RE.test(s) && !/^[\d.]+$/.test(s);
}

/** an nginx upstream server: IPv4 or DNS name, optional :port */
export function isBackend(s: string): boolean {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  return !!m && isHostAddress(m[1]) && (m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535));
}

export { isIPv4, isIPv6, parseCidr, sameSubnet } from './ip.js';

export function ipToInt(s: string): number {
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

const ifaceName = z
  .string()
  .regex(
    IFACE_RE,
    'must be a plain Linux interface name: 1-15 characters of A-Z a-z 0-9 _ . - (no spaces, quotes, ; or $)',
  );

const cidr = z
  .string()
  .refine(
    (s) => parseCidr(s) !== null,
    'must be an IPv4 or IPv6 address with an optional prefix, e.g. 172.16.70.183/24 or fd00:198:18::100/64',
  );

const vipObject = z.strictObject({
  address: cidr,
  dev: ifaceName.optional(),
  label: z
    .string()
    .regex(
      /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$/,
      'must be an interface label like ens33:1 (1-15 characters of A-Z a-z 0-9 _ . : -)',
    )
    .optional(),
});
export const vipSchema = z.union([cidr, vipObject], {
  error: 'must be "a.b.c.d/len", "x:y::z/len" or { address, dev?, label? }',
});

export const nodeSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_RE, 'must be 1-63 characters of A-Z a-z 0-9 _ . - starting with a letter or digit')
    .optional(),
  host: z.string().refine(isHostAddress, 'must be an IPv4 address or a DNS name / ssh config alias'),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().regex(USER_RE, 'must be a plain user name (a-z 0-9 _ -)').optional(),
  interface: ifaceName,
  priority: z
    .number({ error: 'must be a whole number 1..254' })
    .int('must be a whole number 1..254')
    .min(1, 'must be 1..254')
    .max(254, 'must be 1..254'),
  /** address of this node on the VRRP interface (unicast_src_ip); default: host when it is an IPv4 address */
  address: z.string().refine(isIPv4, 'must be an IPv4 address').optional(),
  /** this node's IPv6 address on the VRRP interface: the unicast source of an instance's IPv6 VIPs */
  address6: z
    .string()
    .refine(isIPv6, 'must be an IPv6 address (a global or unique-local one of the interface)')
    .optional(),
});

export const instanceSchema = z.strictObject({
  name: z.string().regex(INSTANCE_RE, `must be ${INSTANCE_RULE}`),
  /**
   * the instance's name in keepalived on some nodes, when it differs from `name` there (a pair taken over as it
   * runs: the virtual router id ties them); { lb02: VI_API }
   */
  names: z.record(z.string(), z.string().regex(INSTANCE_RE, `must be ${INSTANCE_RULE}`)).optional(),
  /** the VRRP interface of this instance on every node, when it is not the node's interface */
  interface: ifaceName.optional(),
  virtualRouterId: z
    .number({ error: 'must be a whole number 1..255' })
    .int('must be a whole number 1..255')
    .min(1, 'must be 1..255')
    .max(255, 'must be 1..255'),
  vips: z.array(vipSchema).min(1, 'needs at least one VIP'),
  /**
   * the node that holds the VIPs when all is well; `auto`: nobody in particular (equal priorities, the health
   * check's weight decides: the Kubernetes API VIP style)
   */
  master: z.string().min(1, 'must name a node, or be auto'),
  advertInt: z.number().positive('must be > 0').optional(),
  authPass: z.string().regex(AUTH_PASS_RE, `must be ${AUTH_PASS_RULE}`).optional(),
  authPassEnv: z.string().regex(ENV_RE, 'must be an environment variable name').optional(),
  preempt: z.boolean().default(true),
  preemptDelay: z.number().int().min(0).max(1000, 'must be 0..1000 seconds').optional(),
  unicast: z.boolean().default(false),
  /** per-node priority override for this instance: { lb01: 110, lb02: 100 } */
  priorities: z.record(z.string(), z.number().int().min(1, 'must be 1..254').max(254, 'must be 1..254')).optional(),
});

const packageFile = z
  .string()
  // apt-get download writes an epoch's colon as %3a (keepalived_1%3a2.2.7-1+b2_amd64.deb); the path is always quoted
  .regex(/^(?:~\/|\/|\.{1,2}\/)?[A-Za-z0-9_.@+%:\-/]*$/, 'must be a file path of safe characters')
  .refine((s) => /\.(rpm|deb)$/.test(s), 'must be an .rpm or a .deb file');
const packageFiles = z.union([packageFile, z.array(packageFile).min(1)], {
  error: 'must be an .rpm or .deb file path, or a list of them',
});

export const syncGroupSchema = z.strictObject({
  name: z.string().regex(INSTANCE_RE, `must be ${INSTANCE_RULE}`),
  /** instances that move together: a fault in one moves them all (keepalived's vrrp_sync_group) */
  instances: z.array(z.string().regex(INSTANCE_RE, 'must name an instance')).min(2, 'needs at least two instances'),
});

export const answersSchema = z.strictObject({
  nodes: z.array(nodeSchema).min(2, 'needs at least two load balancers'),
  ssh: z
    .strictObject({
      identityFile: z.string().regex(LOCAL_PATH_RE, 'must be a file path').optional(),
      knownHostsFile: z.string().regex(LOCAL_PATH_RE, 'must be a file path').optional(),
      hostKeyPolicy: z.enum(['strict', 'accept-new'], { error: 'must be strict or accept-new' }).default('strict'),
      /** read the SSH / sudo password from this environment variable (never from the file) */
      passwordEnv: z.string().regex(ENV_RE, 'must be an environment variable name').optional(),
      connectTimeout: z.number().int().min(1).max(300).default(10),
      useAgent: z.boolean().default(true),
      configFile: z.string().regex(LOCAL_PATH_RE, 'must be a file path').optional(),
    })
    .default({ hostKeyPolicy: 'strict', connectTimeout: 10, useAgent: true }),
  instances: z.array(instanceSchema).min(1, 'needs at least one instance'),
  /** the guides' vrrp_sync_group: instances that must move together (all on the same master) */
  syncGroups: z.array(syncGroupSchema).default([]),
  profile: z.enum(['standard', 'fast', 'ultra'], { error: 'must be standard, fast or ultra' }).default('standard'),
  healthCheck: z
    .strictObject({
      mode: z.enum(['weight', 'restart-then-stop'], { error: 'must be weight or restart-then-stop' }).default('weight'),
      interval: z
        .number()
        .int('must be a whole number of seconds (keepalived minimum 1)')
        .min(1, 'must be >= 1 (keepalived runs scripts at most once a second)')
        .max(300)
        .default(1),
      fall: z.number().int().min(1).max(100).default(2),
      rise: z.number().int().min(1).max(100).default(1),
      timeout: z.number().int().min(1).max(60).optional(),
      weight: z
        .number()
        .int('must be a whole number -253..253')
        .min(-253, 'must be -253..253')
        .max(253, 'must be -253..253')
        .optional(),
      url: z
        .string()
        .regex(URL_RE, 'must be an http(s) URL without quotes or spaces, e.g. http://127.0.0.1/')
        .refine((u) => !/['"`\\\s]/.test(u), 'must not contain quotes, backslashes or spaces')
        .optional(),
    })
    .default({ mode: 'weight', interval: 1, fall: 2, rise: 1 }),
  nginx: z
    .strictObject({
      install: z.boolean().default(true),
      /** the guides' rsync of configDir from syncFrom to the other nodes (off for a mixed Debian/RHEL pair) */
      sync: z.boolean().default(true),
      syncFrom: z.string().optional(),
      configDir: z.string().regex(ABS_PATH_RE, 'must be an absolute path of safe characters').default('/etc/nginx'),
      /**
       * the guides' 004: web backends behind the pair. ha-setup writes one managed file (an upstream and a server on
       * the VIPs proxying to it); without it the operator's own nginx configuration is left as it is
       */
      upstream: z
        .strictObject({
          backends: z
            .array(z.string().refine(isBackend, 'must be HOST:PORT or HOST (an IPv4 address or a DNS name)'))
            .min(1, 'needs at least one backend'),
          listen: z.number().int().min(1).max(65535).default(80),
          maxFails: z.number().int().min(0).max(100).default(3),
          failTimeout: z.number().int().min(1).max(3600).default(10),
        })
        .optional(),
    })
    .default({ install: true, sync: true, configDir: '/etc/nginx' }),
  system: z
    .strictObject({
      selinux: z
        .enum(['disable', 'permissive', 'leave'], { error: 'must be disable, permissive or leave' })
        .default('disable'),
      firewall: z.enum(['disable', 'open', 'leave'], { error: 'must be disable, open or leave' }).default('disable'),
      multicast: z.boolean().default(true),
    })
    .default({ selinux: 'disable', firewall: 'disable', multicast: true }),
  logging: z
    .strictObject({
      facility: z
        .enum(['local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], {
          error: 'must be local0..local7',
        })
        .default('local4'),
      file: z
        .string()
        .regex(ABS_PATH_RE, 'must be an absolute path of safe characters')
        .default('/var/log/keepalived.log'),
      logrotate: z.boolean().default(true),
    })
    .default({ facility: 'local4', file: '/var/log/keepalived.log', logrotate: true }),
  notify: z
    .strictObject({
      email: z.array(z.string().regex(EMAIL_RE, 'must be an e-mail address')).default([]),
      emailFrom: z.string().regex(EMAIL_RE, 'must be an e-mail address').optional(),
      smtpServer: z.string().refine(isHostAddress, 'must be an IPv4 address or host name').optional(),
      script: z.string().regex(ABS_PATH_RE, 'must be an absolute path of safe characters').nullable().default(null),
    })
    .default({ email: [], script: null }),
  keepalived: z
    .strictObject({
      /**
       * the guides' `include /etc/keepalived/conf.d/*.conf`: a directory of the operator's own keepalived snippets,
       * included at the end of keepalived.conf and validated together with it
       */
      includeDir: z.string().regex(ABS_PATH_RE, 'must be an absolute path of safe characters').optional(),
      /**
       * keepalived configuration snippets (files next to the answers file) that ha-setup installs in includeDir:
       * what `ha-setup import` kept of a hand-built configuration that the answers cannot express. `node`: only on
       * that node
       */
      snippets: z
        .array(
          z.union([
            z.string().regex(SNIPPET_RE, 'must be a .conf file path of safe characters'),
            z.strictObject({
              file: z.string().regex(SNIPPET_RE, 'must be a .conf file path of safe characters'),
              node: z.string().regex(NAME_RE, 'must name a node').optional(),
            }),
          ]),
        )
        .optional(),
    })
    .default({}),
  /**
   * package files for hosts with no repository (the guides build keepalived from source for them): pushed over SSH
   * and installed with the host's own package manager. One file, or a list (an .rpm for the RHEL family and a .deb
   * for Debian/Ubuntu in a mixed pair); a path relative to the answers file
   */
  packages: z
    .strictObject({
      keepalived: packageFiles.optional(),
      nginx: packageFiles.optional(),
      /** node_exporter for metrics.install on hosts with no repository (prometheus-node-exporter) */
      nodeExporter: packageFiles.optional(),
      /**
       * packages kept at the newest version the hosts' repositories offer, as their package lists say (refresh them
       * first: apt-get update; dnf and yum refresh their own metadata): a newer keepalived is installed one node at a
       * time, its VIPs handed over first. Without it an installed keepalived is never upgraded
       */
      upgrade: z.array(z.enum(['keepalived'])).optional(),
    })
    .default({}),
  /**
   * Prometheus metrics through node_exporter's textfile collector: ha-setup's notify hook and a 15 s timer write
   * ha_setup.prom there (no new daemon). false turns it off
   */
  metrics: z
    .union([
      z.literal(false),
      z.strictObject({
        textfileDir: z
          .string()
          .regex(ABS_PATH_RE, 'must be an absolute path of safe characters')
          .default('/var/lib/prometheus/node-exporter'),
        /** install and enable the distribution's node_exporter (prometheus-node-exporter) on port 9100 */
        install: z.boolean().default(false),
      }),
    ])
    .default({ textfileDir: '/var/lib/prometheus/node-exporter', install: false }),
  /** alerts on every VRRP transition (and a split brain a node sees) */
  alerts: z
    .strictObject({
      /** POSTed a JSON body { node, instance, state, priority, vips, time } on every transition */
      webhook: z.string().regex(URL_RE, 'must be an http(s) URL without quotes or spaces').optional(),
      /**
       * the environment variable that holds the webhook's URL instead of `webhook` (for a Slack-style hook the URL
       * is the credential itself): the answers then never carry it
       */
      webhookEnv: z.string().regex(ENV_RE, 'must be an environment variable name').optional(),
      /** extra HTTP header lines ("Authorization: Bearer ...") read from this environment variable, never stored */
      webhookHeadersEnv: z.string().regex(ENV_RE, 'must be an environment variable name').optional(),
    })
    .default({}),
  failover: z
    .strictObject({
      /** systemd drop-in that restarts keepalived after a crash (default: on; the distribution unit has no Restart=) */
      restartOnCrash: z.boolean().optional(),
      /**
       * systemd removes the node's VIPs when keepalived exits (ExecStopPost): a killed master keeps no stale VIP
       * beside the backup that takes over (default: on)
       */
      releaseVipsOnExit: z.boolean().optional(),
      /**
       * keepalived's VRRP process in real-time scheduling (vrrp_rt_priority 49; keepalived 2.x), so a real-time
       * workload on the master's CPU cannot delay its adverts into a false failover (default: off). Refused on a
       * host without CAP_SYS_RESOURCE (a container, say): there keepalived 2.2's VRRP process is killed on reload.
       */
      realtime: z.boolean().optional(),
    })
    .default({}),
});

export type AnswersInput = z.input<typeof answersSchema>;
export type Answers = z.output<typeof answersSchema>;
export type NodeAnswers = z.output<typeof nodeSchema>;
export type InstanceAnswers = z.output<typeof instanceSchema>;
export type Vip = z.output<typeof vipSchema>;
