/**
 * The members an earlier init recorded on the nodes (members.json) are a host's word, checked before init acts on
 * it: entries that fail the answers' rules are ignored and named, names recorded at different hosts are refused, a
 * member at a node's address is that node renamed; a node that left the answers is changed only when its own files
 * show ha-setup set it up, is shown before the question, and when it cannot be reached is refused with the way out
 * (--forget NODE). Through main() (src/cli.ts) and initCommand against a simulated pair (test/helpers/sim-pair.ts),
 * the SSH transport's connect replaced by the simulation's connections.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { resolveAnswers } from '../../src/answers/resolve.js';
import type { InitReport } from '../../src/apply/init.js';
import { main } from '../../src/cli.js';
import { initCommand } from '../../src/commands/init.js';
import { CancelledError } from '../../src/errors.js';
import { PATHS } from '../../src/paths.js';
import type { PlanJson } from '../../src/report/plan.js';
import { LEFT_ALONE } from '../../src/steps/deconfigure.js';
import { recordedLeavers } from '../../src/steps/members.js';
import type { Prompter } from '../../src/wizard/prompter.js';
import { pair, type RawAnswers } from '../fixtures/answers.js';
import { drive } from '../helpers/clock.js';
import { fakeIO } from '../helpers/fake-io.js';
import { SimPair } from '../helpers/sim-pair.js';

const lab = vi.hoisted(() => ({
  sim: null as unknown as SimPair,
  unreachable: new Set<string>(),
  /** every host init connected to, by name */
  connected: [] as string[],
}));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) =>
  (await import('../helpers/sim-connect.js')).simTransport(await importOriginal<object>(), lab),
);

const dir = mkdtempSync(join(tmpdir(), 'init-members-'));
const ENV = { HA_SETUP_LOG_DIR: join(dir, 'logs') };
const answersFile = (a: RawAnswers = pair, name = 'ha-setup.yaml') => {
  const p = join(dir, name);
  writeFileSync(p, stringify(a));
  return p;
};
const cfgOf = (a: RawAnswers = pair) => resolveAnswers(structuredClone(a), { env: {} });
const three = structuredClone(pair) as RawAnswers;
three.nodes.push({ name: 'lb03', host: '172.16.70.185', interface: 'ens33', priority: 90 });
const LB03 = { name: 'lb03', host: '172.16.70.185', port: 22, user: 'root', interface: 'ens33', priority: 90 };

async function run(argv: string[]) {
  const io = fakeIO({ env: ENV, cwd: dir });
  const code = await drive(main(argv, io));
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** members.json as init writes it, on the nodes named */
function record(nodes: string[], members: unknown[]) {
  for (const n of nodes)
    lab.sim.host(n).files.set(PATHS.members, { content: JSON.stringify({ nodes: members }), mode: '644' });
}
const member = (name: string, host: string) => ({ name, host, port: 22, user: 'root' });
const PAIR = [member('lb01', '172.16.70.181'), member('lb02', '172.16.70.182')];

/** a pair of three set up by init, lb03 then taken out of the answers */
async function threeThenTwo() {
  lab.sim = new SimPair(cfgOf(three), { fresh: true });
  expect((await run(['init', '--answers', answersFile(three, 'three.yaml'), '--yes'])).code).toBe(0);
  lab.sim.events.length = 0;
  lab.connected.length = 0;
}

beforeAll(async () => {
  await Promise.all([import('../../src/commands/init.js'), import('../../src/apply/init.js')]);
});
beforeEach(() => {
  vi.useFakeTimers();
  lab.unreachable.clear();
  lab.connected.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the recorded members (pure)', () => {
  const cfg = cfgOf();
  const facts = (lb01: unknown[], lb02: unknown[], ignored: string[] = []) => ({
    lb01: { members: { nodes: lb01, ignored } },
    lb02: { members: { nodes: lb02 } },
  });

  it('a leaver recorded alike; another host for one name is a conflict; a node of the answers renamed is none', () => {
    const r = recordedLeavers(
      cfg,
      facts(
        [...PAIR, member('lb03', '10.0.0.3'), member('lb04', '10.0.0.4'), member('old1', '172.16.70.181')],
        [...PAIR, member('lb03', '10.0.0.3'), member('lb04', '10.0.0.9')],
        ['entry 6: host "a b" is not an IPv4 address or a DNS name'],
      ) as never,
    );
    expect(r.leavers).toEqual([member('lb03', '10.0.0.3')]);
    expect(r.conflicts).toEqual([
      {
        name: 'lb04',
        why:
          'lb04 left the answers but the nodes record it at different hosts ' +
          '(lb01: 10.0.0.4:22, lb02: 10.0.0.9:22): connected to neither',
      },
    ]);
    expect(r.notes).toEqual([
      `lb01: ${PATHS.members} entry 6 ignored: host "a b" is not an IPv4 address or a DNS name`,
      'old1 (172.16.70.181:22) is node lb01 of the answers now: not taken out',
    ]);
    expect(r.notLeavers).toEqual([]);
  });

  it('--forget: a leaver or a conflict dropped without being connected to; a name that is neither is reported', () => {
    const f = facts([member('lb03', '10.0.0.3'), member('lb04', '10.0.0.4')], [member('lb04', '10.0.0.9')]);
    const r = recordedLeavers(cfg, f as never, ['lb03', 'lb04', 'lb09']);
    expect(r.leavers).toEqual([]);
    expect(r.conflicts).toEqual([]);
    expect(r.notes).toEqual([
      expect.stringMatching(/^lb03 \(10\.0\.0\.3:22\): forgotten \(--forget\): dropped from the recorded members/),
      expect.stringMatching(/^lb04 \(10\.0\.0\.4:22 or 10\.0\.0\.9:22\): forgotten \(--forget\)/),
    ]);
    expect(r.notLeavers).toEqual(['lb09']);
  });
});

describe('init and the members that left the answers', () => {
  it('a host ha-setup never set up, named by the nodes: shown, left alone (keepalived on, not locked)', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    const lb03 = lab.sim.addHost(LB03);
    record(['lb01', 'lb02'], [...PAIR, member('lb03', LB03.host)]);
    const dry = await run(['init', '--answers', answersFile(), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as PlanJson;
    expect(plan.nodes.find((n) => n.name === 'lb03')).toMatchObject({
      leaving: true,
      role: 'left the answers, left alone',
      actions: [],
    });
    expect(plan.warnings).toContain(`lb03 (172.16.70.185) left the answers: ${LEFT_ALONE}`);
    const r = await run(['init', '--answers', answersFile(), '--yes', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as InitReport;
    expect(report.nodes.find((n) => n.node === 'lb03')).toMatchObject({ leaving: true, changes: 0, actions: [] });
    expect(report.warnings).toContain(`lb03 (172.16.70.185) left the answers: ${LEFT_ALONE}`);
    expect(lb03.units.keepalived).toEqual({ active: 'active', enabled: 'enabled' });
    expect(lab.sim.eventsOf('lb03')).toEqual([]);
    // the records name the answers' nodes only now: the next run does not look for it
    lab.connected.length = 0;
    expect((await run(['init', '--answers', answersFile(), '--yes'])).code).toBe(0);
    expect(lab.connected).not.toContain('lb03');
  });

  it('the leaver and its plan are shown before the question; not confirmed: nothing changes', async () => {
    await threeThenTwo();
    const io = fakeIO({ env: ENV, cwd: dir, tty: true });
    const asked: { message: string; shown: string }[] = [];
    const prompter = {
      confirm: async (q: { message: string }) => (
        asked.push({ message: q.message, shown: io.stderr.join('\n') }),
        false
      ),
    } as unknown as Prompter;
    const e = await drive(initCommand(io, { answers: answersFile() }, prompter)).catch((x: Error) => x);
    expect(e).toBeInstanceOf(CancelledError);
    expect(asked.map((a) => a.message)).toEqual(['Apply this to 2 nodes and take lb03 out of the pair now?']);
    expect(asked[0].shown).toContain('== lb03 (172.16.70.185) leaving the pair: ');
    expect(asked[0].shown).toContain('    - systemctl stop keepalived');
    expect(lab.sim.host('lb03').units.keepalived).toEqual({ active: 'active', enabled: 'enabled' });
    // every lock given back, nothing else done
    expect(lab.sim.events.filter((x) => !/: (un)?locked$/.test(x))).toEqual([]);
    expect(lab.sim.events).toContain('lb03: unlocked');
  });

  it('unreachable: refused with the way out; --forget drops it without connecting, says what that leaves', async () => {
    await threeThenTwo();
    lab.unreachable.add('lb03');
    const refused = await run(['init', '--answers', answersFile(), '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      '  lb03 (172.16.70.185) left the answers but cannot be reached to take it out of the pair: ' +
        'lb03 (172.16.70.185:22): unreachable: no SSH answer within 10 s\n' +
        '  to go on: make it reachable (or put it back in the answers) and run init again, or run init with ' +
        '--forget lb03 to drop it from the recorded members without touching it',
    );
    lab.connected.length = 0;
    const r = await run(['init', '--answers', answersFile(), '--yes', '--forget', 'lb03']);
    expect(r.code).toBe(0);
    expect(lab.connected).not.toContain('lb03');
    expect(r.err).toContain(
      'warning: lb03 (172.16.70.185:22): forgotten (--forget): dropped from the recorded members without being ' +
        "connected to; if it still runs keepalived, it may still advertise the pair's virtual router ids",
    );
    expect(JSON.parse(lab.sim.host('lb01').files.get(PATHS.members)!.content)).toEqual({ nodes: PAIR });
    // no longer recorded: a plain init goes on, and forgetting it again is a mistake
    lab.connected.length = 0;
    expect((await run(['init', '--answers', answersFile(), '--yes'])).code).toBe(0);
    expect(lab.connected).not.toContain('lb03');
    const again = await run(['init', '--answers', answersFile(), '--yes', '--forget', 'lb03']);
    expect(again.code).toBe(2);
    expect(again.err).toBe(
      'ha-setup: --forget lb03: not a member the nodes record that left the answers (there is none)',
    );
  });

  it('--forget refused: a node of the answers, a name that is no node, with --offline', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    record(['lb01'], [...PAIR, member('lb03', LB03.host)]);
    const cases: [string[], string][] = [
      [['--forget', 'lb01'], 'ha-setup: --forget lb01: a node of the answers, not one that left them'],
      [['--forget', 'a;b'], 'ha-setup: --forget "a;b": not a node name (A-Z a-z 0-9 _ . -)'],
      [
        ['--forget', 'lb09'],
        'ha-setup: --forget lb09: not a member the nodes record that left the answers (those are: lb03)',
      ],
      [
        ['--dry-run', '--offline', '--forget', 'lb03'],
        'ha-setup: --forget needs the members the nodes record: it does not go with --offline',
      ],
    ];
    for (const [args, err] of cases) {
      const r = await run(['init', '--answers', answersFile(), '--yes', ...args]);
      expect([r.code, r.err]).toEqual([2, err]);
    }
    expect(lab.connected).not.toContain('lb03');
    expect(lab.sim.eventsOf().filter((e) => !/: (un)?locked$/.test(e))).toEqual([]);
  });

  it('one name at two hosts: refused, connected to neither; entries breaking the rules ignored, named', async () => {
    lab.sim = new SimPair(cfgOf(), { fresh: true });
    record(['lb01'], [...PAIR, member('lb03', '172.16.70.185'), { name: 'lb04', host: '10.0.0.4;reboot' }]);
    record(['lb02'], [...PAIR, member('lb03', '172.16.70.186')]);
    const r = await run(['init', '--answers', answersFile(), '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      '  lb03 left the answers but the nodes record it at different hosts ' +
        '(lb01: 172.16.70.185:22, lb02: 172.16.70.186:22): connected to neither',
    );
    expect(r.err).toContain('run init with --forget lb03 to drop it');
    expect(lab.connected.filter((n) => !['lb01', 'lb02'].includes(n))).toEqual([]);
    const dry = await run(['init', '--answers', answersFile(), '--dry-run', '--forget', 'lb03']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(
      `warning: lb01: ${PATHS.members} entry 4 ignored: host "10.0.0.4;reboot" is not an IPv4 address or a DNS name`,
    );
    expect(dry.out).toContain('warning: lb03 (172.16.70.185:22 or 172.16.70.186:22): forgotten (--forget)');
    expect(lab.connected.filter((n) => !['lb01', 'lb02'].includes(n))).toEqual([]);
  });
});
