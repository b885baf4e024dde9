/**
 * The wizard in a real terminal: tmux runs `ha-setup init`, we type at its prompts (@inquirer/prompts), and the
 * saved answers must equal the example pair (the VRRP password typed at the prompt is never saved).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { pair } from '../fixtures/answers.js';

const ROOT = resolve(__dirname, '..', '..');
const session = `ha-wizard-${process.pid}`;
const autoSession = `ha-wizard-auto-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
const screen = (name = session) => tmux('capture-pane', '-p', '-t', name).stdout;

async function waitFor(re: RegExp, timeoutMs = 15_000, name = session): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = screen(name);
    if (re.test(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  tmux('kill-session', '-t', session);
  tmux('kill-session', '-t', autoSession);
});

describe('wizard under tmux', () => {
  it('asks only for what is missing and saves an equivalent answers file without the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wiz-'));
    const partial = join(dir, 'partial.yaml');
    const out = join(dir, 'saved.yaml');
    const done = join(dir, 'done');
    writeFileSync(
      partial,
      stringify({
        nodes: pair.nodes,
        ssh: { hostKeyPolicy: 'strict' },
        healthCheck: pair.healthCheck,
        system: { selinux: 'disable', firewall: 'disable', multicast: true },
      }),
    );
    const cmd =
      `NO_COLOR=1 ${process.execPath} ${join(ROOT, 'bin', 'ha-setup')} init --answers ${partial} ` +
      `--dry-run --offline --save-answers ${out} > ${join(dir, 'plan.txt')}; echo $? > ${done}; sleep 30`;
    expect(tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '50', cmd).status).toBe(0);
    await waitFor(/Layout/);
    tmux('send-keys', '-t', session, 'Enter'); // active-passive (default)
    await waitFor(/master \(starts with the VIP\)/);
    tmux('send-keys', '-t', session, 'Enter'); // lb01
    await waitFor(/VI_1: VIP\(s\)/);
    tmux('send-keys', '-t', session, '-l', '172.16.70.183/24');
    tmux('send-keys', '-t', session, 'Enter');
    await waitFor(/virtual router id/);
    tmux('send-keys', '-t', session, 'Enter'); // 51
    await waitFor(/VRRP password/);
    tmux('send-keys', '-t', session, '-l', '1111');
    tmux('send-keys', '-t', session, 'Enter');
    await waitFor(/preempt/);
    expect(screen()).not.toContain('1111'); // masked while typing
    tmux('send-keys', '-t', session, 'Enter'); // yes
    await waitFor(/Failover profile/);
    tmux('send-keys', '-t', session, 'Enter'); // standard
    await waitFor(/Web backends behind the pair/);
    tmux('send-keys', '-t', session, 'Enter'); // none: keep the operator's nginx configuration
    await waitFor(/Apply these answers\?/);
    expect(screen()).toMatch(/VI_1 worst-case client gap/);
    tmux('send-keys', '-t', session, 'Enter'); // show the plan
    const end = Date.now() + 15_000;
    while (!existsSync(done) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(done, 'utf8').trim()).toBe('0');
    const saved = readFileSync(out, 'utf8');
    expect(saved).not.toContain('1111');
    const data = parse(saved);
    data.instances[0].authPass = '1111';
    const got = resolveAnswers(data, { env: {} });
    const want = resolveAnswers(pair, { env: {} });
    expect(got.instances).toEqual(want.instances);
    expect(got.nodes).toEqual(want.nodes);
    expect(readFileSync(join(dir, 'plan.txt'), 'utf8')).toMatch(/== lb01 \(172\.16\.70\.181\) VI_1 MASTER/);
  });

  it('equal priorities: no master question; the screen says the health check decides (master: auto)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wiz-'));
    const partial = join(dir, 'partial.yaml');
    const out = join(dir, 'saved.yaml');
    const done = join(dir, 'done');
    writeFileSync(
      partial,
      stringify({
        nodes: pair.nodes.map((n) => ({ ...n, priority: 100 })),
        ssh: { hostKeyPolicy: 'strict' },
        healthCheck: pair.healthCheck,
        profile: 'standard',
        nginx: {},
        system: { selinux: 'disable', firewall: 'disable', multicast: true },
      }),
    );
    const cmd =
      `NO_COLOR=1 ${process.execPath} ${join(ROOT, 'bin', 'ha-setup')} init --answers ${partial} ` +
      `--dry-run --offline --save-answers ${out} > ${join(dir, 'plan.txt')}; echo $? > ${done}; sleep 30`;
    expect(tmux('new-session', '-d', '-s', autoSession, '-x', '200', '-y', '50', cmd).status).toBe(0);
    const keys = (...k: string[]) => tmux('send-keys', '-t', autoSession, ...k);
    await waitFor(/Layout/, 15_000, autoSession);
    keys('Enter'); // active-passive
    const shown = await waitFor(/VI_1: VIP\(s\)/, 15_000, autoSession);
    expect(shown).not.toMatch(/master \(starts with the VIP\)/);
    expect(shown.replace(/\s+/g, ' ')).toContain(
      "VI_1: lb01 and lb02 have the same priority 100: no fixed master (master: auto); the health check's weight " +
        'decides which node holds the VIPs',
    );
    keys('-l', '172.16.70.183/24');
    keys('Enter');
    await waitFor(/virtual router id/, 15_000, autoSession);
    keys('Enter'); // 51
    await waitFor(/VRRP password/, 15_000, autoSession);
    keys('-l', '1111');
    keys('Enter');
    await waitFor(/take the VIPs back \(preempt\)/, 15_000, autoSession);
    keys('Enter'); // yes
    const review = await waitFor(/Apply these answers\?/, 15_000, autoSession);
    expect(review).toMatch(/master auto \(lb02 first, the health check's weight decides\)/);
    keys('Enter'); // show the plan
    const end = Date.now() + 15_000;
    while (!existsSync(done) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(done, 'utf8').trim()).toBe('0');
    const data = parse(readFileSync(out, 'utf8'));
    expect(data.instances[0]).toMatchObject({ master: 'auto', vips: ['172.16.70.183/24'] });
    expect(data.instances[0]).not.toHaveProperty('authPass');
  });
});
