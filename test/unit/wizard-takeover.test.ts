/**
 * The order of the wizard's questions around a pair that already runs, with a scripted prompter and a scripted
 * discovery (no network): the takeover is offered as soon as the hosts are known, before the names, interfaces,
 * priorities and VIPs that the running pair answers (taken over, none of them is asked); and master: auto, where
 * the nodes' priorities tie (given by the operator or read from the pair): said, never asked.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { summary } from '../../src/answers/summary.js';
import { priorityTies } from '../../src/wizard/instances.js';
import type { ImportPair } from '../../src/wizard/takeover.js';
import { wizard } from '../../src/wizard/wizard.js';
import type { RawAnswers } from '../fixtures/answers.js';
import { fakeIO } from '../helpers/fake-io.js';
import { ENTER, scripted, scriptedDiscovery } from '../helpers/wizard-script.js';

const knownHosts = () => {
  const kh = join(mkdtempSync(join(tmpdir(), 'wizt-kh-')), 'known_hosts');
  writeFileSync(kh, '198.18.0.11 ssh-ed25519 AAAAC3Nza\n198.18.0.12 ssh-ed25519 AAAAC3Nza\n');
  return { hostKeyPolicy: 'strict', knownHostsFile: kh, identityFile: '/root/.ssh/lab_key' };
};

/** what `ha-setup import` gives for a pair whose priorities tie (the Kubernetes API VIP style) */
const imported = (master = 'auto') => ({
  nodes: [
    { name: 'k1', host: '198.18.0.11', interface: 'host0', priority: 100 },
    { name: 'k2', host: '198.18.0.12', interface: 'host0', priority: 100 },
  ],
  instances: [{ name: 'VI_API', virtualRouterId: 51, vips: ['198.18.0.100/24'], master, authPassEnv: 'HA_VI_API' }],
  profile: 'standard',
  healthCheck: { mode: 'weight', weight: 2 },
  nginx: {},
  system: { selinux: 'leave', firewall: 'leave', multicast: true },
});

const handBuilt = () => scriptedDiscovery({ keepalived: { active: true, managed: false }, shape: () => ({}) });
const importing =
  (calls: string[][]): ImportPair =>
  async (nodes) => {
    calls.push(nodes.map((n) => `${n.user}@${n.host}`));
    return { answers: imported() as never, passwords: {} };
  };

const HOSTS = [
  'How many load balancers?',
  'LB 1: SSH address',
  'LB 1: SSH user',
  'LB 2: SSH address',
  'LB 2: SSH user',
];
const short = (m: string) => m.replace(/ \(.*$/, '');

describe('a running pair: the takeover is offered before what it answers', () => {
  it('the hosts, then the takeover; taken over, no name, interface, priority or VIP is asked', async () => {
    const calls: string[][] = [];
    const p = scripted(['2', '198.18.0.11', 'ops', '198.18.0.12', ENTER, 'import']);
    const io = fakeIO();
    const a = (await wizard({ ssh: knownHosts() }, p, {
      discovery: handBuilt(),
      io,
      importPair: importing(calls),
    })) as RawAnswers;
    expect(p.asked.map((q) => short(q.message))).toEqual([...HOSTS, 'What should ha-setup do with the running pair?']);
    const q = p.asked.at(-1)!;
    expect(q.choiceNames?.[0]).toBe(
      'take it over as it is: read its configuration from the hosts, keep its VIPs where they are',
    );
    expect(calls).toEqual([['ops@198.18.0.11', 'ops@198.18.0.12']]);
    expect(io.stderr).toContain(
      '198.18.0.11 and 198.18.0.12: keepalived is running and ha-setup did not set it up (a pair built by hand?)',
    );
    expect(a.nodes.map((n: { name: string; user: string }) => `${n.user}@${n.name}`)).toEqual(['ops@k1', 'ops@k2']);
    expect(a.instances[0]).toMatchObject({ name: 'VI_API', vips: ['198.18.0.100/24'], master: 'auto' });
  });

  it('set up anew: the names, interfaces and priorities come after the choice', async () => {
    const p = scripted(['2', '198.18.0.11', 'root', '198.18.0.12', 'root', 'replace', ENTER, ENTER, ENTER]);
    await expect(
      wizard({ ssh: knownHosts() }, p, { discovery: handBuilt(), importPair: importing([]) }),
    ).rejects.toThrow(/unexpected question: LB 2: name/);
    expect(p.asked.map((q) => short(q.message))).toEqual([
      ...HOSTS,
      'What should ha-setup do with the running pair?',
      'LB 1: name',
      'LB 1',
      'LB 1: priority',
      'LB 2: name',
    ]);
  });

  it('nodes given without their priorities: the takeover first, then only what the import lacks', async () => {
    const nodes = [
      { name: 'a', host: '198.18.0.11', user: 'ops' },
      { name: 'b', host: '198.18.0.12', user: 'ops' },
    ];
    const p = scripted(['import', '90']);
    const a = (await wizard({ ssh: knownHosts(), nodes }, p, {
      discovery: handBuilt(),
      io: fakeIO(),
      importPair: async () => {
        const got = imported();
        delete (got.nodes[1] as { priority?: number }).priority; // not determined by the import
        return { answers: got as never, passwords: {} };
      },
    })) as RawAnswers;
    // one question for what the import could not read: k2's priority (after the takeover, not before)
    expect(p.asked.map((q) => q.message)).toEqual([
      'What should ha-setup do with the running pair?',
      'k2: priority (1..254; equal ones: no fixed master, the health check decides)',
    ]);
    expect(a.nodes.map((n: { priority: number }) => n.priority)).toEqual([100, 90]);
  });
});

describe('master: auto where the priorities tie', () => {
  it('the operator gives equal priorities: no master question; said that the health check decides', async () => {
    const p = scripted(['single', ENTER, ENTER, '', true]);
    const io = fakeIO();
    const partial = {
      ssh: knownHosts(),
      nodes: [
        { name: 'lb01', host: '198.18.0.11', interface: 'host0', priority: 100 },
        { name: 'lb02', host: '198.18.0.12', interface: 'host0', priority: 100 },
      ],
      profile: 'standard',
      healthCheck: { mode: 'weight' },
      nginx: {},
      system: { selinux: 'leave', firewall: 'leave', multicast: true },
    };
    const d = scriptedDiscovery({ shape: () => ({ eth1Down: true }) });
    const a = (await wizard(partial, p, { discovery: d, io })) as RawAnswers;
    expect(p.asked.some((q) => /: master \(/.test(q.message))).toBe(false);
    expect(io.stderr).toContain(
      "VI_1: lb01 and lb02 have the same priority 100: no fixed master (master: auto); the health check's weight " +
        'decides which node holds the VIPs (a node whose check fails gives them up; at equal priorities keepalived ' +
        'prefers the higher address)',
    );
    expect(a.instances[0].master).toBe('auto');
    // the VIP is checked from the first node of the highest priority
    expect(p.asked.find((q) => /: VIP/.test(q.message))!.message).toMatch(/\(host0 of lb01\)$/);
    const cfg = resolveAnswers(a, { env: {} });
    expect(cfg.instances[0]).toMatchObject({ masterAuto: true, master: 'lb02' });
    expect(summary(cfg)).toMatch(/master auto \(lb02 first, the health check's weight decides\)/);
  });

  it('a pair taken over with equal priorities: said, nothing asked', async () => {
    const p = scripted(['import']);
    const io = fakeIO();
    await wizard({ ssh: knownHosts(), nodes: imported().nodes }, p, {
      discovery: handBuilt(),
      io,
      importPair: importing([]),
    });
    expect(p.asked).toHaveLength(1);
    expect(io.stderr).toContain(
      "VI_API: k1 and k2 have the same priority 100: no fixed master (master: auto); the health check's weight " +
        'decides which node holds the VIPs (a node whose check fails gives them up; at equal priorities keepalived ' +
        'prefers the higher address)',
    );
  });

  it('ties named per priority; none when all differ', () => {
    expect(
      priorityTies([
        ['a', 110],
        ['b', 100],
        ['c', 100],
      ]),
    ).toBe('b and c have the same priority 100');
    expect(
      priorityTies([
        ['a', 100],
        ['b', 100],
        ['c', 90],
        ['d', 90],
      ]),
    ).toBe('a and b have the same priority 100; c and d have the same priority 90');
    expect(
      priorityTies([
        ['a', 110],
        ['b', 100],
      ]),
    ).toBeNull();
  });
});
