/** What `ha-setup import` reads from each host, and what it makes of the pair. */
import type { AnswersInput } from '../answers/schema.js';
import type { InterfaceFact, IpAddress } from '../facts/types.js';
import type { DaemonOptions } from './daemon-options.js';
import type { KeepalivedConfig } from './keepalived-conf.js';
import type { NginxUpstream } from './nginx-conf.js';

/** an address of a host's interface (the interfaces fact's) */
export type HostAddress = IpAddress;

/** a host's interface (the interfaces fact's) */
export type HostInterface = InterfaceFact;

/** nginx as `nginx -T` shows it on one host */
export interface HostNginx {
  binary: string;
  /** nginx -T exit code 0 */
  ok: boolean;
  /** the first error line of a failing nginx -T (a latent fault: the next reload fails) */
  firstError?: string;
  /** every configuration file nginx -T dumped, in its order */
  files: { path: string; text: string }[];
  upstream: NginxUpstream | null;
  notes: { at: string; text: string }[];
}

/** one host as it runs now: the mapper's input */
export interface ImportedHost {
  /** what the user typed (ssh address or alias) */
  given: string;
  hostname: string;
  osFamily: 'debian' | 'rhel' | 'other';
  osId?: string;
  /** "2.2.7", "1.3.5" (its package's, else read from the binary); null when unknown */
  keepalivedVersion: string | null;
  /** the rules keepalived reads its configuration with */
  keepalivedMajor: 1 | 2;
  /** the daemon's options and where they come from (the running process, the unit, the defaults file) */
  daemonOptions: DaemonOptions & { source: string };
  /** the main configuration file keepalived reads */
  configPath: string;
  interfaces: HostInterface[];
  /** VIPs of the configuration that this host holds now */
  holds: string[];
  config: KeepalivedConfig;
  /** scripts the configuration runs (vrrp_script, notify), by path */
  scripts: Record<string, string>;
  nginx?: HostNginx;
  services: { keepalived: string; nginx: string };
  /** the webhook URL ha-setup's notify hook posts to (its root-only file), for a takeover in the same run */
  webhookUrl?: string;
  /** latent faults found while reading (keepalived not running, nginx -T failing...) */
  latent: string[];
  /** how what was read was decided (where keepalived's version comes from) */
  notes?: string[];
  /** what was read and left alone, and why (a keepalived process that is not the daemon, nginx -T not run) */
  warnings?: string[];
}

/** a secret the answers read from a variable: an instance's VRRP password, or (no instance) the webhook's URL */
export interface ImportedSecret {
  env: string;
  /** the instance whose authPassEnv names it; none: alerts.webhookEnv */
  instance?: string;
  /** where its current value is: host:file:line (a password), host:file (the URL) */
  where: string;
}

export interface Note {
  /** host:file:line */
  at: string;
  text: string;
}

export interface ImportOptions {
  ssh: { user?: string; port?: number; identityFile?: string; knownHostsFile?: string };
  /** prefix of the password variables named in authPassEnv (default HA_) */
  passwordEnvPrefix?: string;
}

export interface ImportResult {
  answers: AnswersInput;
  /** constructs kept as they are: in a snippet of keepalived.includeDir */
  kept: Note[];
  /** constructs the answers cannot express, with why */
  dropped: Note[];
  /** why ha-setup cannot take this pair over (exit 2): one line each */
  refusals: string[];
  warnings: string[];
  /** where each secret is now (a VRRP password, the webhook's URL); the answers name the variable only */
  secrets: ImportedSecret[];
  /**
   * files to write into keepalived.includeDir: what the answers cannot express but keepalived can include (`node`:
   * that node's only, when the hosts' kept parts differ)
   */
  snippets: { name: string; text: string; node?: string }[];
  /** how each value was decided (which node is master and why, the profile, nginx sync...) */
  decisions: string[];
  /** how each keyword of every host's configuration was handled (the "nothing silently lost" ledger) */
  ledger: { at: string; keyword: string; how: 'mapped' | 'kept' | 'dropped' }[];
}
