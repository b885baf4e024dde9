/**
 * The review before anything is applied: the summary of the answers (or the problems that keep them from being
 * used), then apply, edit a section (asked again), save the answers (without the passwords), or quit.
 */
import type { AnswersInput } from '../answers/schema.js';
import { CancelledError } from '../errors.js';
import { expandHome } from '../home.js';
import { askChecks } from './checks.js';
import { askNodes } from './hosts.js';
import { askInstances } from './instances.js';
import { validators } from './prompter.js';
import { say, type Partial, type WizardState } from './state.js';
import { askNginx, askSystem } from './system.js';

export interface ReviewOptions {
  summarize(a: AnswersInput): { text: string; problems: string[] };
  save(a: AnswersInput, path: string): void;
  /** what "apply" does here: apply the changes, or (dry run) show the plan */
  applyLabel: string;
}

/** review until the user applies (returns) or quits (CancelledError); `listenSeconds` as for askInstances */
export async function review(s: WizardState, r: ReviewOptions, listenSeconds?: number): Promise<void> {
  const { a, p } = s;
  for (;;) {
    const { text, problems } = r.summarize(a as AnswersInput);
    say(s, problems.length ? `These answers cannot be used yet:\n${problems.map((x) => `  ${x}`).join('\n')}` : text);
    const choice = await p.select({
      message: problems.length ? 'Fix which part?' : 'Apply these answers?',
      choices: [
        ...(problems.length ? [] : [{ value: 'apply', name: r.applyLabel }]),
        { value: 'hosts', name: 'edit the hosts (addresses, users, interfaces, priorities)' },
        { value: 'instances', name: 'edit the VIPs and instances (ids, masters, passwords)' },
        { value: 'checks', name: 'edit the failover profile and the nginx health check' },
        { value: 'system', name: 'edit the system settings (SELinux, firewall) and the web backends' },
        { value: 'save', name: 'save the answers to a file (without the passwords)' },
        { value: 'quit', name: 'quit without changing anything' },
      ],
      default: problems.length ? 'hosts' : 'apply',
    });
    if (choice === 'apply') break;
    if (choice === 'quit') throw new CancelledError('nothing changed (quit at the review)');
    if (choice === 'save') {
      const path = (
        await p.input({ message: 'Save to', default: 'ha-setup.yaml', validate: validators.localPath })
      ).trim();
      r.save(a as AnswersInput, expandHome(path));
      say(s, `answers saved to ${path} (passwords left out)`);
    } else if (choice === 'hosts') {
      delete a.nodes;
      await askNodes(s);
      // instances name nodes: ask again only when a master is gone
      const names = (a.nodes as Partial[]).map((n) => String(n.name));
      if ((a.instances as Partial[]).some((x) => x.master !== 'auto' && !names.includes(String(x.master)))) {
        await askInstances(s, listenSeconds);
      }
    } else if (choice === 'instances') await askInstances(s, listenSeconds);
    else if (choice === 'checks') {
      delete a.profile;
      delete a.healthCheck;
      await askChecks(s);
    } else {
      await askSystem(s);
      await askNginx(s);
    }
  }
}
