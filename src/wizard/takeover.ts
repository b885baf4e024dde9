/**
 * A pair built by hand: when a host the user gave already runs keepalived that ha-setup did not set up, the wizard
 * offers to take it over as it is (the answers read from the hosts, as `ha-setup import` does, so the hand-over
 * keeps every VIP where it is and costs no request) instead of replacing it from scratch, or to quit. Offered once
 * the hosts are known, before the questions whose answers the running pair gives (names, interfaces, priorities,
 * VIPs); an instance it reads with no fixed master (master: auto) is said to be decided by the health check.
 */
import type { ResolvedNode } from '../answers/resolve.js';
import type { AnswersInput } from '../answers/schema.js';
import { CancelledError, PreconditionError } from '../errors.js';
import { reach, resolvedNode } from './hosts.js';
import { masterAutoLine, priorityTies } from './instances.js';
import { say, type Partial, type WizardState } from './state.js';

/** what an import gives the wizard: the answers (snippets already written) and the VRRP passwords found */
export interface ImportedPair {
  answers: AnswersInput;
  /**
   * by the environment variable the answers name (authPassEnv, which stays in the answers): the caller provides
   * them to this run as that variable, never in the answers or a saved file
   */
  passwords: Record<string, string>;
}

/** `ssh`: the answers' ssh section as the wizard has it (key, known_hosts file) */
export type ImportPair = (nodes: ResolvedNode[], ssh: Partial) => Promise<ImportedPair>;

/** nodes running a keepalived ha-setup did not set up */
async function handBuilt(s: WizardState): Promise<string[]> {
  const out: string[] = [];
  for (const n of s.a.nodes as Partial[]) {
    const k = await reach(s, n);
    if (k?.info.keepalived?.active && !k.info.keepalived.managed) out.push(String(n.name ?? n.host));
  }
  return out;
}

/**
 * Offer the takeover; true when the answers now come from the running pair (nodes, instances and all they say),
 * false when the user sets the pair up anew (or nothing runs there).
 */
export async function offerImport(s: WizardState, importPair: ImportPair): Promise<boolean> {
  const built = await handBuilt(s);
  if (!built.length) return false;
  say(s, `${built.join(' and ')}: keepalived is running and ha-setup did not set it up (a pair built by hand?)`);
  const how = await s.p.select({
    message: 'What should ha-setup do with the running pair?',
    choices: [
      {
        value: 'import',
        name: 'take it over as it is: read its configuration from the hosts, keep its VIPs where they are',
      },
      { value: 'replace', name: 'set it up anew from my answers (its configuration is backed up, then replaced)' },
      { value: 'quit', name: 'quit without changing anything' },
    ],
    default: 'import',
  });
  if (how === 'quit') throw new CancelledError('nothing changed (quit: a pair already runs there)');
  if (how === 'replace') return false;
  const given = s.a.nodes as Partial[];
  let got: ImportedPair;
  try {
    got = await importPair(given.map(resolvedNode), (s.a.ssh ?? {}) as Partial);
  } catch (e) {
    if (!(e instanceof PreconditionError)) throw e;
    // the pair cannot be taken over as it is: say why, and let the user set it up anew or stop
    say(s, [e.message, ...e.details.map((d) => `  ${d}`)].join('\n'));
    const next = await s.p.select({
      message: 'ha-setup cannot take this pair over as it is. Then?',
      choices: [
        { value: 'replace', name: 'set it up anew from my answers (its configuration is backed up, then replaced)' },
        { value: 'quit', name: 'quit without changing anything' },
      ],
      default: 'quit',
    });
    if (next === 'quit') throw new CancelledError('nothing changed (quit: the running pair cannot be taken over)');
    return false;
  }
  const imported = structuredClone(got.answers) as Partial;
  // the login the user gave for each host stays (import reads the hosts with the first one's)
  for (const n of (imported.nodes ?? []) as Partial[]) {
    const mine = given.find((g) => g.host === n.host);
    if (mine?.user !== undefined) n.user = mine.user;
    if (mine?.port !== undefined) n.port = mine.port;
  }
  for (const inst of (imported.instances ?? []) as Partial[]) {
    const env = inst.authPassEnv as string | undefined;
    if (env && got.passwords[env] !== undefined && s.io?.env[env] === undefined)
      say(
        s,
        `${String(inst.name)}: the VRRP password read from the hosts is ${env} for this run ` +
          `(export ${env} for later runs; it is never saved)`,
      );
  }
  for (const [k, v] of Object.entries(imported)) if (k !== 'ssh') s.a[k] = v;
  say(s, `the answers now describe the running pair (${(imported.nodes as Partial[]).length} nodes); review them`);
  sayMasterAuto(s, imported);
  return true;
}

/** the imported instances with no fixed master (master: auto): which priorities tie, and that the checks decide */
function sayMasterAuto(s: WizardState, imported: Partial): void {
  const nodes = (imported.nodes ?? []) as Partial[];
  for (const inst of (imported.instances ?? []) as Partial[]) {
    if (inst.master !== 'auto') continue;
    const own = (inst.priorities ?? {}) as Record<string, number>;
    const names = nodes.map((n) => String(n.name ?? n.host));
    const ties = priorityTies(names.map((n, k) => [n, own[n] ?? Number(nodes[k].priority)]));
    say(s, masterAutoLine(String(inst.name), ties ?? 'no node is the fixed master'));
  }
}
