/** The shapes of facts read from a host (the table in table.ts says how each is read). Pure data. */
export type OsFamily = 'debian' | 'rhel';

export interface OsFact {
  id: string;
  idLike: string;
  family: OsFamily | 'unknown';
  version: string;
  pretty: string;
}

export interface FileFact {
  /** 'unknown': an earlier step of the plan (a package install) may create or change it */
  exists: boolean | 'unknown';
  content?: string;
  mode?: string; // octal, e.g. "644"
}

export interface ServiceFact {
  /** systemctl is-active (ActiveState); 'unknown' after a package install the plan makes */
  active: string;
  /** systemctl is-enabled (UnitFileState) */
  enabled: string;
  mainPid: number;
}

/** one address of an interface, as `ip -o addr` shows it */
export interface IpAddress {
  address: string;
  prefix: number;
  family: 4 | 6;
  /** `ip addr`'s "secondary" flag (a second IPv4 address in the same subnet: how a VIP usually shows) */
  secondary: boolean;
  /** an IPv4 address's label when it is not the interface's name ("eth0:1") */
  label?: string;
}

export interface InterfaceFact {
  name: string;
  up: boolean;
  multicast: boolean;
  flags: string[];
  /** the link-layer address ('' when the link has none) */
  mac: string;
  /** the IPv4 addresses, "a.b.c.d/len" */
  addresses: string[];
  /** every address, IPv4 then IPv6, with its prefix and flags */
  ips: IpAddress[];
}

/** an instance as the running keepalived reports it */
export interface InstanceState {
  name: string;
  state: string | null;
  effectivePriority: number | null;
}

/** a configuration test (nginx -t, keepalived -t): null when it was not run */
export interface TestFact {
  ok: boolean;
  code: number;
  /** the first error line, for one-line reports */
  firstError: string | null;
}

/** the state flags keepalived tracks: name -> value (0 off, 1 on) */
export type FlagFacts = Record<string, number>;

/** the pair's members as init records them on every node */
export interface Members {
  nodes: { name: string; host: string; port?: number; user?: string }[];
  /** entries left out because they do not pass the answers' rules: "entry N: why" (parseMembers) */
  ignored?: string[];
}

/** a file read whole from a host (the file entries of file-entries.ts) */
export interface FileEntry {
  path: string;
  /** the content ('' when it was not read: see skip) */
  text: string;
  /** octal, or '-' when it does not exist */
  mode?: string;
  /** named by a configuration as a script (scripts_of) */
  script?: boolean;
  /** why keepalived would not read it (a directory, a dangling link, executable...) */
  skip?: string;
}

/** the keepalived unit as `systemctl show` has it */
export interface KeepalivedUnit {
  loadState: string;
  activeState: string;
  mainPid: number;
  /** the raw ExecStart property ("{ path=... ; argv[]=... ; ... }"), '' when none */
  execStart: string;
  /** EnvironmentFiles= paths */
  environmentFiles: string[];
  /** the raw Environment property */
  environment: string;
}

/** a process named keepalived (its name or its binary's) */
export interface KeepalivedProcess {
  pid: number;
  ppid: number;
  /** real and effective uid (-1: unknown) */
  uid: number;
  euid: number;
  /** its binary's path ('' when unknown), without " (deleted)" */
  exe: string;
  /** its binary was deleted (or replaced) since it started */
  deleted: boolean;
  argv: string[];
}

/** a keepalived binary as read from its file, never run */
export interface KeepalivedBinary {
  /** "pid:N" (a root keepalived's binary, read through /proc/N/exe), "unit" (ExecStart), "path" (command -v) */
  from: string;
  path: string;
  deleted: boolean;
  /** the package that owns the path (not for a deleted binary: the package's file is another one now) */
  pkg?: { name: string; version: string };
  /** "Keepalived v2.2.7 (01/16,2022)" as the file has it; '' when not found */
  versionLine: string;
  /** the configure options the file has (what `keepalived --version` prints after "configure options:") */
  build: string;
}

/** nginx -T of the binary the nginx unit (else PATH) names, run only when bin_check passes */
export type NginxDumpFact =
  | { state: 'none' }
  | { state: 'unsafe'; binary: string; why: string }
  | { state: 'ran'; binary: string; conf: string; rc: number; out: string; err: string };

/** a keepalived or nginx binary ha-setup runs (root's PATH finds it) or their unit starts, as ha_path judged it */
export type BinFact =
  | {
      /** "keepalived" / "nginx": root's PATH finds it; "keepalived.service" / "nginx.service": its unit runs it */
      via: string;
      /** the file it resolves to: what ha-setup runs */
      path: string;
    }
  | {
      via: string;
      /** why nothing runs it, one line ("keepalived at /usr/local/sbin/keepalived is writable by group or ...") */
      refused: string;
    };
