/**
 * The wizard: asks ONLY for what the given (partial) answers lack, section by section (hosts.ts, instances.ts,
 * checks.ts, system.ts), validates each answer with the same rules as the answers file, and never stores secrets in
 * what it returns for saving. A Prompter is injected so tests can script the answers.
 *
 * Online (not --offline) it finds things out as it goes, through a Discovery (discovery.ts): each host is connected
 * to as soon as its address is given (an unknown host key is shown for the user to trust, a host that cannot be
 * reached is asked again at once), its interfaces are offered in a list, a VIP must be in the interface's subnet
 * and free (the proposed one is an address of that subnet that nothing answers ARP for; beside it an IPv6 one when
 * the interface has a global IPv6 address, that nothing answers ping -6 or neighbour discovery for), an instance may
 * live on another interface when the nodes have several, and the proposed virtual router id is one no other router
 * advertises on the segment. Nodes of equal priorities make no master question: master auto, the check decides.
 * Before anything is applied the user reviews a summary and may edit a section, save the answers, or quit
 * (review.ts). When a host already runs a keepalived ha-setup
 * did not set up, the wizard offers to take that pair over as it is (takeover.ts), once it knows the hosts and
 * before it asks what the running pair then answers.
 */
import type { AnswersInput } from '../answers/schema.js';
import type { IO } from '../io.js';
import { askChecks } from './checks.js';
import type { HostDiscovery } from './discovery.js';
import { askNodes, askSsh, completeNodes } from './hosts.js';
import { askInstances } from './instances.js';
import type { Prompter } from './prompter.js';
import { offerImport, type ImportPair } from './takeover.js';
import { review, type ReviewOptions } from './review.js';
import { has, type Partial, type WizardState } from './state.js';
import { askNginx, askSystem } from './system.js';

export interface WizardOptions {
  /** connect as you go; absent with --offline (then the questions are asked blind) */
  discovery?: HostDiscovery;
  io?: IO;
  /** the review before anything is applied: the summary (or the problems) of the answers so far, and saving them */
  review?: ReviewOptions;
  /** seconds to listen for other routers' VRRP adverts before proposing a virtual router id */
  listenSeconds?: number;
  /** read a pair already running on the hosts (ha-setup import): offered when one runs there */
  importPair?: ImportPair;
}

/**
 * Complete the partial answers by asking. Returns the full answers (with secrets, for this run only).
 */
export async function wizard(partial: Partial, p: Prompter, opts: WizardOptions = {}): Promise<AnswersInput> {
  const s: WizardState = { a: structuredClone(partial ?? {}), p, known: new Map(), d: opts.discovery, io: opts.io };
  const { a, d } = s;
  let asked = false;
  const ask = async (missing: boolean, fn: () => Promise<void>) => {
    if (!missing) return;
    asked = true;
    await fn();
  };
  try {
    await ask(!has(a, 'ssh'), () => askSsh(s));
    if (d) d.useSsh((a.ssh ?? {}) as Partial);
    // a pair built by hand runs there: take it over as it is, or set it up anew (takeover.ts). Offered as soon as
    // the hosts are known, before the names, interfaces, priorities and VIPs that the running pair then answers
    let takenOver = false;
    const offer = async () =>
      (takenOver = !!(d && opts.importPair && !has(a, 'instances') && (await offerImport(s, opts.importPair))));
    if (!Array.isArray(a.nodes) || a.nodes.length < 2) await ask(true, () => askNodes(s, offer));
    else await completeNodes(s, offer);
    // only what the import could not determine is asked
    if (takenOver) await ask(true, () => completeNodes(s));
    await ask(!Array.isArray(a.instances) || a.instances.length === 0, () => askInstances(s, opts.listenSeconds));
    await ask(!has(a, 'profile') || !has(a, 'healthCheck'), () => askChecks(s));
    await ask(!has(a, 'nginx'), () => askNginx(s));
    await ask(!has(a, 'system'), () => askSystem(s));
    // review: apply, edit a section, save, or quit
    if (opts.review && asked) await review(s, opts.review, opts.listenSeconds);
  } finally {
    d?.close();
  }
  return a as AnswersInput;
}
