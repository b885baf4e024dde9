/** The CLI as a user meets it: exit codes, one-line errors on stderr, results on stdout, no stack traces. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli.js';
import { initCommand } from '../../src/commands/init.js';
import { resolveAnswers } from '../../src/answers/resolve.js';
import type { Prompter, Validate } from '../../src/wizard/prompter.js';
import type { PlanJson } from '../../src/report/plan.js';
import { pair, type RawAnswers } from '../fixtures/answers.js';
import { fakeIO } from '../helpers/fake-io.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-'));
const write = (name: string, data: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof data === 'string' ? data : stringify(data));
  return p;
};
const noStack = (lines: string[]) => expect(lines.join('\n')).not.toMatch(/^\s+at |Error: |\.ts:\d+/m);

describe('exit codes and messages', () => {
  it('invalid answers: exit 2, one line per problem naming the key', async () => {
    const bad = structuredClone(pair) as RawAnswers;
    bad.nodes[0].interface = 'eth0; rm -rf /';
    bad.instances[0].virtualRouterId = 300;
    const io = fakeIO();
    expect(await main(['init', '--answers', write('bad.yaml', bad), '--yes'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/^ha-setup: .*bad\.yaml: 2 problem\(s\)$/);
    expect(io.stderr.slice(1)).toEqual([
      expect.stringMatching(
        /^ {2}nodes\[0\]\.interface: must be a plain Linux interface name.*\(got "eth0; rm -rf \/"\)$/,
      ),
      expect.stringMatching(/^ {2}instances\[0\]\.virtualRouterId: must be 1\.\.255 \(got 300\)$/),
    ]);
    expect(io.stdout).toEqual([]);
    noStack(io.stderr);
  });
  it('unreadable or broken YAML: exit 2', async () => {
    const io = fakeIO();
    expect(await main(['init', '--answers', join(dir, 'nope.yaml'), '--dry-run', '--offline'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/--answers: cannot read .*nope\.yaml: ENOENT/);
    const io2 = fakeIO();
    expect(await main(['init', '--answers', write('broken.yaml', 'nodes: [ {'), '--dry-run', '--offline'], io2)).toBe(
      2,
    );
    noStack(io2.stderr);
  });
  it('incomplete answers without a terminal: exit 2 listing the missing keys, no prompt, no hang', async () => {
    const io = fakeIO({ tty: false });
    const partial = { nodes: pair.nodes };
    expect(await main(['init', '--answers', write('partial.yaml', partial), '--yes'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/incomplete answers and no terminal to ask[\s\S]*instances: is required/);
  });
  it('unknown flag or command: exit 2', async () => {
    expect(await main(['init', '--frobnicate'], fakeIO())).toBe(2);
    expect(await main(['explode'], fakeIO())).toBe(2);
    expect(await main(['init', '--offline'], fakeIO())).toBe(2);
    expect(await main(['verify-failover', '--scenario', 'meteor'], fakeIO())).toBe(2);
  });
  it('--scenario takes one name, a comma-separated list (in order, each once) or all', async () => {
    const { parseScenarios } = await import('../../src/commands/verify-failover.js');
    const five = ['nginx', 'keepalived', 'crash', 'link', 'switchover'];
    expect(parseScenarios(undefined)).toEqual(five);
    expect(parseScenarios('all')).toEqual(five);
    expect(parseScenarios('link')).toEqual(['link']);
    expect(parseScenarios('switchover,nginx')).toEqual(['switchover', 'nginx']);
    expect(parseScenarios('crash, keepalived,crash')).toEqual(['crash', 'keepalived']);
    expect(() => parseScenarios('nginx,,link')).toThrow(/unknown scenario ""/);
  });
  it('bad verify-failover and rollback flags: exit 2 naming the flag, before any connection', async () => {
    const file = write('flags.yaml', pair);
    const bad: [string[], RegExp][] = [
      [
        ['verify-failover', '--scenario', 'nginx,meteor'],
        new RegExp(
          '--scenario: unknown scenario "meteor" \\(allowed: nginx, keepalived, crash, link, switchover, ' +
            'a comma-separated list of them, or all\\)',
        ),
      ],
      [['verify-failover', '--probe-url', "http://x/'; rm -rf /"], /--probe-url: must be an http\(s\) URL/],
      [['verify-failover', '--probe-from', 'a;b'], /--probe-from: must be a node name or host name/],
      [['verify-failover', '--max-gap', 'soon'], /--max-gap: must be a positive number of seconds/],
      [['verify-failover', '--probe-interval', '1'], /--probe-interval: must be 10\.\.5000 ms/],
      [['verify-failover', '--instance', 'VI_9'], /--instance: unknown instance "VI_9" \(instances: VI_1\)/],
      [['verify-failover', '--report', 'out.pdf'], /--report: the file must end in \.html or \.svg/],
      [['rollback', '--run', '../../etc'], /--run: "\.\.\/\.\.\/etc" is not a run id/],
      [['rollback', '--node', 'lb9'], /--node: unknown node "lb9"/],
    ];
    for (const [args, re] of bad) {
      const io = fakeIO();
      expect(await main([...args, '--answers', file], io), args.join(' ')).toBe(2);
      expect(io.stderr.join('\n')).toMatch(re);
      noStack(io.stderr);
    }
  });
  it('status without an answers file: exit 2 with a hint', async () => {
    const io = fakeIO({ cwd: dir });
    expect(await main(['status'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/no answers file given/);
  });
  it('--help is on stdout, exit 0', async () => {
    const io = fakeIO();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/verify-failover/);
  });
});

describe('schema', () => {
  it('prints a JSON Schema with the contract keys', async () => {
    const io = fakeIO();
    expect(await main(['schema'], io)).toBe(0);
    const s = JSON.parse(io.stdout.join(''));
    expect(Object.keys(s.properties)).toEqual(
      expect.arrayContaining([
        'nodes',
        'ssh',
        'instances',
        'profile',
        'healthCheck',
        'nginx',
        'system',
        'logging',
        'notify',
      ]),
    );
    expect(s.properties.nodes.items.properties.priority).toMatchObject({ minimum: 1, maximum: 254 });
  });
});

describe('init --dry-run --offline', () => {
  it('JSON plan: nodes, files, steps in the documented order, no secret', async () => {
    const io = fakeIO();
    expect(
      await main(
        ['init', '--answers', write('pair.yaml', pair), '--dry-run', '--offline', '--json', '--os', 'rhel'],
        io,
      ),
    ).toBe(0);
    const plan = JSON.parse(io.stdout.join('')) as PlanJson;
    expect(plan.nodes.map((n) => n.name)).toEqual(['lb01', 'lb02']);
    expect(plan.nodes[0].steps.map((s) => s.id)).toEqual([
      'selinux',
      'firewall',
      'multicast',
      'nginx',
      'keepalived-install',
      'keepalived-config',
      'logging',
      'services',
      'metrics',
      'members',
    ]);
    expect(plan.warnings).toEqual([]);
    for (const n of plan.nodes) {
      // fresh hosts: nothing runs yet, so nothing is held, nothing rolls, nobody leaves
      expect(n).toMatchObject({ leaving: false, rolling: null, holds: [] });
      // every action in run order: each step's changes, then its handlers
      expect(n.actions).toEqual(n.steps.flatMap((s) => [...s.changes, ...s.handlers]));
      expect(n.actions[0]).toBe('update /etc/selinux/config (mode 644)');
      expect(n.actions.at(-1)).toBe('create /var/lib/ha-setup/members.json (mode 644)');
      expect(n.actions).toContain('install keepalived with yum (1.3.5)');
    }
    const conf = plan.nodes[0].files.find((f) => f.path === '/etc/keepalived/keepalived.conf');
    expect(conf?.content).toContain('auth_pass ********');
    expect(io.stdout.join('')).not.toContain('1111');
  });
  it('text plan names every file and step', async () => {
    const io = fakeIO();
    expect(await main(['init', '--answers', write('pair2.yaml', pair), '--dry-run', '--offline'], io)).toBe(0);
    const t = io.stdout.join('\n');
    expect(t).toMatch(/== lb01 \(172\.16\.70\.181\) VI_1 MASTER/);
    // written after the keepalived package the plan installs (which may ship one): not "new"
    expect(t).toMatch(/--- \/etc\/keepalived\/keepalived\.conf \(mode 600\) ---/);
    expect(t).not.toContain('auth_pass 1111');
  });
});

describe('wizard', () => {
  function scripted(answers: (string | boolean)[]): Prompter & { asked: string[] } {
    const asked: string[] = [];
    const next = async (m: string, validate?: Validate) => {
      asked.push(m);
      if (!answers.length) throw new Error(`unexpected question: ${m}`);
      const a = answers.shift()!;
      if (validate && typeof a === 'string') {
        const ok = await validate(a);
        if (ok !== true) throw new Error(`answer "${a}" to "${m}" rejected: ${ok}`);
      }
      return a;
    };
    return {
      asked,
      input: async (q) => String(await next(q.message, q.validate)),
      password: async (q) => String(await next(q.message, q.validate)),
      select: async (q) => (await next(q.message)) as never,
      confirm: async (q) => Boolean(await next(q.message)),
    };
  }

  it('asks only for what the file lacks, and the result equals the example pair', async () => {
    const partial = {
      nodes: pair.nodes,
      ssh: { hostKeyPolicy: 'strict' },
      healthCheck: pair.healthCheck,
      system: { selinux: 'disable', firewall: 'disable', multicast: true },
    };
    const p = scripted(['single', 'lb01', '172.16.70.183/24', '51', '1111', true, 'standard', '', 'apply']);
    const io = fakeIO({ tty: true });
    const saved = join(dir, 'saved.yaml');
    expect(
      await initCommand(io, { answers: write('w.yaml', partial), dryRun: true, offline: true, saveAnswers: saved }, p),
    ).toBe(0);
    expect(p.asked.some((m) => /SSH address|interface/.test(m))).toBe(false);
    const text = readFileSync(saved, 'utf8');
    expect(text).not.toContain('1111');
    expect(text).toMatch(/authPass was left out/);
    const back = resolveAnswers(
      {
        ...(await import('yaml')).parse(text),
        instances: [{ ...(await import('yaml')).parse(text).instances[0], authPass: '1111' }],
      },
      { env: {} },
    );
    const ref = resolveAnswers(pair, { env: {} });
    expect(back.instances).toEqual(ref.instances);
    expect(back.nodes).toEqual(ref.nodes);
  });

  it('rejects an unsafe interface name at the prompt', async () => {
    // the hosts first (a pair running there would be offered for takeover before the rest), then each one's name
    const p = scripted(['', 'strict', '2', '10.0.0.1', 'root', '10.0.0.2', 'root', 'lb01', 'eth0;reboot']);
    await expect(initCommand(fakeIO({ tty: true }), { dryRun: true, offline: true }, p)).rejects.toThrow(
      /rejected: a plain Linux interface name/,
    );
  });

  it('Ctrl-C at a prompt exits 130 without a stack trace', async () => {
    const io = fakeIO({ tty: true });
    const exitPrompt = Object.assign(new Error('User force closed the prompt with SIGINT'), {
      name: 'ExitPromptError',
    });
    const p: Prompter = {
      input: async () => Promise.reject(exitPrompt),
      password: async () => '',
      select: async () => Promise.reject(exitPrompt),
      confirm: async () => false,
    };
    const { exitCodeOf } = await import('../../src/errors.js');
    const err = await initCommand(io, { dryRun: true, offline: true }, p).catch((e) => e);
    expect(exitCodeOf(err)).toBe(130);
  });
});
