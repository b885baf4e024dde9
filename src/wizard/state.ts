/**
 * What the sections of the wizard share while they ask: the answers so far, the prompter, what was learned about
 * each host reached (so nothing about a host is asked twice), the discovery (absent with --offline) and the IO.
 */
import type { Conn } from '../conn.js';
import type { IO } from '../io.js';
import type { HostDiscovery, HostInfo } from './discovery.js';
import type { Prompter } from './prompter.js';

/** answers (or a part of them) as the wizard has them: not validated yet */
export type Partial = Record<string, unknown>;

/** what the wizard learned about a host while asking (kept, so nothing about a host is asked twice) */
export interface Known {
  conn: Conn;
  info: HostInfo;
}

export interface WizardState {
  /** the answers: the partial ones given, completed section by section (secrets included, for this run only) */
  a: Partial;
  p: Prompter;
  /** the hosts reached, by user@host:port */
  known: Map<string, Known>;
  /** connect as you go; absent with --offline (then the questions are asked blind) */
  d?: HostDiscovery;
  io?: IO;
}

/** a line for the user (stderr), between the questions */
export const say = (s: WizardState, t: string) => s.io?.err(t);

/** `key` is set (present and not undefined) in `obj` */
export function has(obj: unknown, key: string): boolean {
  return (
    !!obj &&
    typeof obj === 'object' &&
    key in (obj as Record<string, unknown>) &&
    (obj as Record<string, unknown>)[key] !== undefined
  );
}
