/**
 * What a step plans: the changes to one host, in the order they run. Pure data (JSON-safe): the plan shown by
 * --dry-run is this data, and apply executes exactly it.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import type { InitFacts } from '../facts/gather.js';

/** a deep partial of the facts: what a command makes true (the plan's later steps are planned on it) */
export type FactPatch = { [K in keyof InitFacts]?: unknown };

export interface FileChange {
  kind: 'file';
  path: string;
  content: string;
  mode: string;
  /** current content, null when the file does not exist; 'unknown' when an earlier step (a package) may write it */
  before: string | null | 'unknown';
  /** command (argv) that validates the written file; {file} is replaced by the temp path */
  validate?: string[];
  /**
   * validate the file where it belongs (a program that reads it only from there, like nginx -t for a conf.d file):
   * install it, validate, and put the old one back (or remove the new one) when validation fails
   */
  validateInPlace?: boolean;
  /**
   * the whole content is a secret (a token, a webhook URL): the plan says the file changes, never its content or
   * diff. (A file with a secret on some lines, keepalived.conf's auth_pass, is shown with those lines masked.)
   */
  sensitive?: boolean;
}

export type ServiceAction = 'enable' | 'disable' | 'start' | 'stop' | 'restart' | 'reload-or-restart' | 'daemon-reload';

export type Change =
  | FileChange
  /** a file ha-setup wrote earlier and the answers no longer ask for: backed up, removed, validated */
  | { kind: 'remove-file'; path: string; before: string; validate?: string[] }
  | { kind: 'command'; argv: string[]; describe: string; undo?: string[]; sets?: FactPatch }
  /** `expectVersion`: the keepalived version the plan rendered for; another one installed stops the node's run */
  | {
      kind: 'package';
      manager: 'apt' | 'dnf' | 'yum';
      names: string[];
      expectVersion?: string | null;
      /** packages.upgrade: the installed version and the repositories' newer one, installed exactly */
      upgrade?: { from: string; to: string };
    }
  /** a package file from the controller (packages.*), pushed over SSH and installed with the host's manager */
  | {
      kind: 'package-file';
      manager: 'apt' | 'dnf' | 'yum';
      name: string;
      localPath: string;
      file: string;
      expectVersion?: string | null;
    }
  | { kind: 'service'; name: string; action: ServiceAction }
  | { kind: 'nginx-sync'; from: string; configDir: string; added: string[]; changed: string[]; removed: string[] }
  | { kind: 'verify'; describe: string; argv: string[] };

export interface StepPlan {
  id: string;
  title: string;
  /** the changes, then the services to restart or reload because of them (handlers), in the order they run */
  changes: Change[];
  handlers: Change[];
  notes: string[];
  /** when set the step cannot run: a precondition problem (collected before anything changes) */
  refuse?: string;
}

/** What every planner gets: the resolved answers, this node, its facts as the earlier steps leave them. */
export interface StepContext {
  cfg: Config;
  node: ResolvedNode;
  facts: InitFacts;
  /** every node's facts as read (the nginx sync compares with its source) */
  all: Record<string, InitFacts>;
}

export interface Step {
  id: string;
  title: string;
  plan(ctx: StepContext): StepPlan;
}
