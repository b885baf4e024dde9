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

export interface InterfaceFact {
  name: string;
  up: boolean;
  multicast: boolean;
  flags: string[];
  mac: string;
  addresses: string[]; // "a.b.c.d/len"
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
