/**
 * The plan of a whole run (plan/build.ts, plan/rolling.ts, plan/preflight.ts latentFaults): pure, from answers and
 * facts fixtures. A node whose plan takes keepalived or nginx down runs in the rolling phase, handing its VIPs over
 * first; reloads stay in the parallel phase; a node that left the answers is deconfigured; a latent nginx fault is
 * a warning, or a refusal when the run would reload nginx there.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Config } from '../../src/answers/resolve.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { buildPlan } from '../../src/plan/build.js';
import { describeAction } from '../../src/plan/describe.js';
import { isDisruptive } from '../../src/plan/rolling.js';
import { LEFT_ALONE } from '../../src/steps/deconfigure.js';
import { afterChange } from '../../src/steps/effects.js';
import { actionsOf, changeCount, isChange, isPairAction, type NodePlan } from '../../src/plan/types.js';
import { PATHS } from '../../src/paths.js';
import { planToJson, planToText } from '../../src/report/plan.js';
import { clone, nopreempt, pair, weightDriven } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';
import { addAddress } from '../fixtures/facts.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });
const VIP = '172.16.70.183';

/** a pair as a successful init leaves it (Debian), with the VIP on `holder` */
function converged(cfg: Config, holder: string | null = 'lb01', vip = VIP): Record<string, InitFacts> {
  const f = converge(cfg, allFresh(cfg, 'debian'));
  if (holder) addAddress(f[holder].interfaces.ens33, `${vip}/24`);
  return f;
}
const lines = (p: NodePlan) => actionsOf(p).map(describeAction);
const byNode = (nodes: NodePlan[]) => Object.fromEntries(nodes.map((n) => [n.node, n]));

describe('a reload that would reset a sync group the node is MASTER of', () => {
  // an IPv6 VIP added to a serving IPv4 instance: its twin and their sync group are new; keepalived's reload keeps a
  // group MASTER only when every member was, so the holder's VI_1 went BACKUP for 3.4 s on the lab
  const v6 = clone(pair);
  v6.instances[0].vips = ['172.16.70.183/24', 'fd00::183/64'];
  const cfg = cfgOf(v6);
  const plan = buildPlan({ cfg, facts: converged(cfgOf(pair)), skipNetworkChecks: true });
  const { lb01, lb02 } = byNode(plan.nodes);

  it('the holder restarts in the rolling phase, its VIPs handed over first; the other node reloads', () => {
    expect(plan.refusals).toEqual([]);
    expect(lines(lb01)).toContain('systemctl restart keepalived');
    expect(lines(lb01)).not.toContain('systemctl reload-or-restart keepalived');
    expect(lb01.rolling).toBe(true);
    const acts = actionsOf(lb01);
    const restart = acts.findIndex((a) => a.kind === 'service' && a.name === 'keepalived' && a.action === 'restart');
    expect(acts[restart - 1].kind).toBe('handover');
    expect(lines(lb02)).toContain('systemctl reload-or-restart keepalived');
    expect(lb02.rolling).toBe(false);
  });

  it('refused when the same run also changes what the holder advertises (the nodes would not hear each other)', () => {
    const more = clone(v6);
    more.instances[0].vips = ['172.16.70.183/24', '172.16.70.184/24', 'fd00::183/64'];
    const r = buildPlan({ cfg: cfgOf(more), facts: converged(cfgOf(pair)), skipNetworkChecks: true });
    expect(r.refusals.join('\n')).toMatch(
      /lb01 holds the VIPs of VI_1, which a reload would reset .* make the two changes in separate runs/,
    );
  });

  it('another virtual router id on the holder: keepalived would not know the instance again: restarted', () => {
    const other = clone(pair);
    other.instances[0].virtualRouterId = 61;
    const r = buildPlan({ cfg: cfgOf(other), facts: converged(cfgOf(pair)), skipNetworkChecks: true });
    expect(lines(byNode(r.nodes).lb01)).toContain('systemctl restart keepalived');
    expect(lines(byNode(r.nodes).lb02)).toContain('systemctl reload-or-restart keepalived');
  });

  it('keepalived 2.0.0 .. 2.0.7 puts every sync group in BACKUP on a reload: a holder in one restarts', () => {
    const facts = converged(cfg);
    for (const f of Object.values(facts)) f.kaversion = '2.0.5';
    const other = cfgOf({ ...v6, healthCheck: { ...v6.healthCheck, interval: 3 } });
    const r = buildPlan({ cfg: other, facts, skipNetworkChecks: true });
    expect(lines(byNode(r.nodes).lb01)).toContain('systemctl restart keepalived');
  });

  it('a group that is there already (same name, same members) reloads on the holder too', () => {
    const again = buildPlan({ cfg, facts: converged(cfg), skipNetworkChecks: true });
    const other = cfgOf({ ...v6, healthCheck: { ...v6.healthCheck, interval: 3 } });
    const changed = buildPlan({ cfg: other, facts: converged(cfg), skipNetworkChecks: true });
    expect(again.nodes.map((n) => changeCount(n))).toEqual([0, 0]);
    expect(lines(byNode(changed.nodes).lb01)).toContain('systemctl reload-or-restart keepalived');
    expect(byNode(changed.nodes).lb01.rolling).toBe(false);
  });
});

describe('rolling restarts', () => {
  // new daemon options (another log facility) take a keepalived restart: a reload keeps the old ones
  const cfg = cfgOf({ ...clone(pair), logging: { facility: 'local5' } });
  const facts = converged(cfgOf(pair));
  const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
  const { lb01, lb02 } = byNode(plan.nodes);

  it('both nodes restart keepalived: the rolling phase, the node holding no VIP first', () => {
    expect(plan.refusals).toEqual([]);
    expect([lb01.holds, lb02.holds]).toEqual([[VIP], []]);
    expect([lb01.rolling, lb02.rolling]).toEqual([true, true]);
    expect([lb01.rollingOrder, lb02.rollingOrder]).toEqual([2, 1]);
    for (const p of [lb01, lb02]) expect(lines(p)).toContain('systemctl restart keepalived');
  });

  it('the holder hands its VIP over right before the restart, and takes it back at the end (preempt)', () => {
    const acts = actionsOf(lb01);
    const restart = acts.findIndex((a) => a.kind === 'service' && a.name === 'keepalived' && a.action === 'restart');
    const ref = { name: 'VI_1', vips: [VIP], preempt: true };
    expect(acts[restart - 1]).toEqual({ kind: 'handover', targets: [ref] });
    expect(acts.filter((a) => a.kind === 'handover')).toHaveLength(1);
    // the hand-over sits in the step that restarts (logging: new daemon options), among its handlers
    const logging = lb01.steps.find((s) => s.id === 'logging')!;
    expect(logging.handlers.map((h) => h.kind)).toEqual(['service', 'handover', 'service']);
    const last = lb01.steps.at(-1)!;
    expect(last).toEqual({
      id: 'rolling',
      title: 'Back in the pair: keepalived running, VIPs returned',
      changes: [],
      handlers: [{ kind: 'return', targets: [ref], release: [] }],
      notes: [],
    });
    expect(acts.at(-1)).toEqual({ kind: 'return', targets: [ref], release: [] });
  });

  it('a change that also reloads keepalived (the fast profile: VRRPv3): every reload before any rolling turn', () => {
    const fastLog = cfgOf({ ...clone(pair), profile: 'fast', logging: { facility: 'local5' } });
    const n = byNode(buildPlan({ cfg: fastLog, facts, skipNetworkChecks: true }).nodes);
    for (const p of [n.lb01, n.lb02]) {
      const l = lines(p);
      const reload = l.indexOf('systemctl reload-or-restart keepalived');
      // the new configuration (VRRPv3) reaches both nodes in the parallel phase, so they never speak different
      // versions for a whole rolling turn; the restart (new daemon options) is the node's turn
      expect(reload, p.node).toBeGreaterThan(-1);
      expect(reload, p.node).toBeLessThan(p.rollingFrom!);
      expect(l.indexOf('systemctl restart keepalived'), p.node).toBeGreaterThanOrEqual(p.rollingFrom!);
    }
    // the holder's turn starts with its hand-over, right before the restart
    expect(lines(n.lb01)[n.lb01.rollingFrom!]).toMatch(/^hand VI_1 /);
    expect(lines(n.lb01)[n.lb01.rollingFrom! + 1]).toBe('systemctl restart keepalived');
    expect([n.lb02.rollingOrder, n.lb01.rollingOrder]).toEqual([1, 2]);
  });

  it('the plan shows where each rolling turn starts (text and JSON)', () => {
    const text = planToText(plan, [], { offline: false, showContent: false }).split('\n');
    const mark = text.indexOf('    ~~ rolling turn 2: from here one node at a time, the others done ~~');
    expect(mark).toBeGreaterThan(-1);
    expect(text[mark + 1]).toMatch(/^ {4}then hand VI_1 /);
    const json = planToJson(plan, [], false).nodes.find((x) => x.name === 'lb01')!;
    expect(json.parallelActions).toBe(lb01.rollingFrom);
    expect(json.actions[json.parallelActions]).toMatch(/^hand VI_1 /);
  });

  it('the node holding nothing hands nothing over; it is a ready backup again before the next node goes', () => {
    expect(actionsOf(lb02).some((a) => a.kind === 'handover' || a.kind === 'return')).toBe(false);
    expect(lb02.steps.at(-1)).toEqual({
      id: 'rolling',
      title: 'Back in the pair: a ready backup',
      changes: [],
      handlers: [{ kind: 'await-ready' }],
      notes: [],
    });
  });

  it('pair actions are handlers, not changes: both nodes count the same changes', () => {
    for (const p of [lb01, lb02]) expect(p.steps.flatMap((s) => s.changes).some(isPairAction)).toBe(false);
    expect(changeCount(lb01)).toBe(changeCount(lb02));
    expect(changeCount(lb01)).toBeGreaterThan(0);
  });

  it('a reload-only change (a priority) stays in the parallel phase: no pair action, no order', () => {
    const higher = cfgOf({ ...clone(pair), nodes: [{ ...pair.nodes[0], priority: 120 }, pair.nodes[1]] });
    const p = buildPlan({ cfg: higher, facts, skipNetworkChecks: true });
    expect(p.refusals).toEqual([]);
    for (const n of p.nodes) {
      expect(lines(n)).toContain('systemctl reload-or-restart keepalived');
      expect(lines(n).filter((l) => /^systemctl (restart|stop) (keepalived|nginx)$/.test(l))).toEqual([]);
      expect(actionsOf(n).some(isPairAction)).toBe(false);
      expect([n.rolling, n.rollingOrder]).toEqual([false, null]);
      expect(n.steps.some((s) => s.id === 'rolling')).toBe(false);
    }
  });

  it('nopreempt: the VIP it held is moved back by its holder after the turn (a run keeps VIPs where they were)', () => {
    const np = cfgOf({ ...clone(nopreempt), logging: { facility: 'local5' } });
    const f = converged(cfgOf(nopreempt), 'lb02', '10.0.0.3');
    const n = byNode(buildPlan({ cfg: np, facts: f, skipNetworkChecks: true }).nodes);
    const ref = { name: 'VI_1', vips: ['10.0.0.3'], preempt: false };
    expect(actionsOf(n.lb02)).toContainEqual({ kind: 'handover', targets: [ref] });
    // it does not come back by itself (nopreempt): the holder then hands it back
    expect(n.lb02.steps.at(-1)).toMatchObject({
      handlers: [{ kind: 'return', targets: [], release: [], moveBack: [ref] }],
      notes: [],
    });
    expect(describeAction(n.lb02.steps.at(-1)!.handlers[0])).toBe(
      'keepalived running again here, a ready node; VI_1 (10.0.0.3) moved back here (held here before; they do ' +
        'not return by themselves: nopreempt or equal priorities): handed over by their holder',
    );
    expect([n.lb01.rollingOrder, n.lb02.rollingOrder]).toEqual([1, 2]);
  });

  it('master: auto (equal priorities): the same, moved back to the node that held it', () => {
    const auto = cfgOf({ ...clone(weightDriven), logging: { facility: 'local5' } });
    const f = converged(cfgOf(weightDriven), 'lb02', '172.16.70.183');
    const n = byNode(buildPlan({ cfg: auto, facts: f, skipNetworkChecks: true }).nodes);
    expect(n.lb02.steps.at(-1)).toMatchObject({
      handlers: [{ kind: 'return', targets: [], release: [], moveBack: [{ name: 'k8s-api' }] }],
    });
  });

  it('preempt, but the holder is demoted (after a switchover): the VIP is not taken back', () => {
    const f = converged(cfgOf(pair));
    f.lb01.flags = { 'demote.VI_1': 1 };
    const n = byNode(buildPlan({ cfg, facts: f, skipNetworkChecks: true }).nodes);
    // a demotion set on purpose (switchover) is not lifted by the return
    expect(n.lb01.steps.at(-1)).toMatchObject({
      handlers: [{ kind: 'return', targets: [], release: [] }],
      notes: ['VI_1 stays where the hand-over put it (another node is preferred)'],
    });
  });

  it('what takes keepalived or nginx down: a restart or stop of a running one, an upgrade of an installed one', () => {
    const f = facts.lb01;
    expect(isDisruptive({ kind: 'service', name: 'keepalived', action: 'restart' }, f)).toBe(true);
    expect(isDisruptive({ kind: 'service', name: 'nginx', action: 'stop' }, f)).toBe(true);
    expect(isDisruptive({ kind: 'service', name: 'keepalived', action: 'reload-or-restart' }, f)).toBe(false);
    expect(isDisruptive({ kind: 'service', name: 'rsyslog', action: 'restart' }, f)).toBe(false);
    const stopped = {
      ...f,
      services: { ...f.services, keepalived: { active: 'inactive', enabled: 'enabled', mainPid: 0 } },
    };
    expect(isDisruptive({ kind: 'service', name: 'keepalived', action: 'restart' }, stopped)).toBe(false);
    expect(isDisruptive({ kind: 'package', manager: 'apt', names: ['nginx'] }, f)).toBe(true);
    expect(isDisruptive({ kind: 'package', manager: 'apt', names: ['curl'] }, f)).toBe(false);
    const none = { ...f, packages: { ...f.packages, keepalived: null } };
    const file = {
      kind: 'package-file',
      manager: 'apt',
      name: 'keepalived',
      localPath: '/k.deb',
      file: 'k.deb',
    } as const;
    expect(isDisruptive(file, f)).toBe(true);
    expect(isDisruptive(file, none)).toBe(false);
  });
});

describe('a node that left the answers', () => {
  const three = cfgOf({
    ...clone(pair),
    nodes: [...pair.nodes, { name: 'lb03', host: '172.16.70.185', interface: 'ens33', priority: 90 }],
  });
  const cfg = cfgOf(pair);

  function planWithout(lb03Holds: boolean) {
    const f = converge(three, allFresh(three, 'debian'));
    if (lb03Holds) addAddress(f.lb03.interfaces.ens33, `${VIP}/24`);
    return buildPlan({
      cfg,
      facts: { lb01: f.lb01, lb02: f.lb02 },
      leaving: [{ node: three.nodes[2], facts: f.lb03 }],
      skipNetworkChecks: true,
    });
  }

  it("is deconfigured: keepalived stopped and disabled, ha-setup's files removed, the host's own kept", () => {
    const plan = planWithout(false);
    expect(plan.refusals).toEqual([]);
    const lb03 = byNode(plan.nodes).lb03;
    expect(lb03).toMatchObject({ node: 'lb03', host: '172.16.70.185', role: 'leaving the pair', leaving: true });
    expect(lb03.steps.map((s) => s.id)).toEqual(['deconfigure']);
    const acts = actionsOf(lb03);
    expect(acts.slice(0, 2)).toEqual([
      { kind: 'service', name: 'keepalived', action: 'stop' },
      { kind: 'service', name: 'keepalived', action: 'disable' },
    ]);
    const removed = acts.flatMap((a) => (a.kind === 'remove-file' ? [a.path] : []));
    expect(removed).toEqual(
      expect.arrayContaining([
        PATHS.keepalivedConf,
        PATHS.checkScript,
        PATHS.notifyScript,
        PATHS.keepalivedDropin,
        PATHS.rsyslogRule,
        PATHS.logrotate,
        PATHS.sysctl,
        PATHS.members,
      ]),
    );
    // each removal keeps what it removes (the backup and the undo)
    for (const a of acts) if (a.kind === 'remove-file') expect(a.before).toBe(lb03.facts.files[a.path].content);
    // the daemon options file and nginx are the host's
    expect(removed).not.toContain('/etc/default/keepalived');
    expect(removed.some((p) => p.startsWith('/etc/nginx/'))).toBe(false);
    expect(lb03.steps[0].handlers).toEqual([
      { kind: 'service', name: 'systemd', action: 'daemon-reload' },
      { kind: 'service', name: 'rsyslog', action: 'restart' },
    ]);
    // stopping a running keepalived: the rolling phase, without a return (it does not come back)
    expect([lb03.rolling, lb03.rollingOrder]).toEqual([true, 1]);
    expect(acts.some((a) => a.kind === 'return' || a.kind === 'await-ready')).toBe(false);
    // the others record the new members
    for (const n of plan.nodes.filter((x) => !x.leaving))
      expect(lines(n)).toContain(`update ${PATHS.members} (mode 644)`);
  });

  it('leaves nothing of ha-setup: the include placeholder, the state flags, the metrics; then no change', () => {
    const withDir = (c: typeof pair) => ({ ...clone(c), keepalived: { includeDir: '/etc/keepalived/conf.d' } });
    const three2 = cfgOf({ ...withDir(pair), nodes: [...pair.nodes, three.nodes[2]] });
    const two = cfgOf(withDir(pair));
    const f = converge(three2, allFresh(three2, 'debian'));
    expect(f.lb03.dirs[PATHS.flagDir]).toBe(true);
    const plan = buildPlan({
      cfg: two,
      facts: { lb01: f.lb01, lb02: f.lb02 },
      leaving: [{ node: three2.nodes[2], facts: f.lb03 }],
      skipNetworkChecks: true,
    });
    const lb03 = byNode(plan.nodes).lb03;
    const acts = actionsOf(lb03);
    expect(acts.flatMap((a) => (a.kind === 'remove-file' ? [a.path] : []))).toContain(
      '/etc/keepalived/conf.d/00-ha-setup.conf',
    );
    expect(acts).toContainEqual(
      expect.objectContaining({
        kind: 'command',
        argv: ['rm', '-rf', '--', PATHS.flagDir, PATHS.trackFile, '/var/lib/prometheus/node-exporter/ha_setup.prom'],
      }),
    );
    // what the run leaves: nothing more to do on a second run
    let left = f.lb03;
    for (const a of acts) if (isChange(a)) left = afterChange(left, a, {}, '/etc/nginx');
    const again = buildPlan({
      cfg: two,
      facts: { lb01: f.lb01, lb02: f.lb02 },
      leaving: [{ node: three2.nodes[2], facts: left }],
      skipNetworkChecks: true,
    });
    expect(actionsOf(byNode(again.nodes).lb03)).toEqual([]);
  });

  it('holding a VIP: hands it over before keepalived stops', () => {
    const lb03 = byNode(planWithout(true).nodes).lb03;
    expect(actionsOf(lb03).slice(0, 2)).toEqual([
      { kind: 'handover', targets: [{ name: 'VI_1', vips: [VIP], preempt: true }] },
      { kind: 'service', name: 'keepalived', action: 'stop' },
    ]);
    expect(lb03.holds).toEqual([VIP]);
  });

  it("a host ha-setup did not set up is left alone: its keepalived runs on; it is shown, and is not the pair's", () => {
    // lb03 runs its own keepalived (no members.json of its own, a keepalived.conf without ha-setup's header)
    const f = converge(three, allFresh(three, 'debian'));
    const own = structuredClone(f.lb03);
    own.files[PATHS.keepalivedConf] = { exists: true, mode: '644', content: 'vrrp_instance OWN {\n}\n' };
    own.files[PATHS.members] = { exists: false };
    own.members = null;
    own.services.keepalived = { active: 'active', enabled: 'enabled', mainPid: 4242 };
    const input = { cfg, facts: { lb01: f.lb01, lb02: f.lb02 }, leaving: [{ node: three.nodes[2], facts: own }] };
    const plan = buildPlan({ ...input, skipNetworkChecks: true });
    const lb03 = byNode(plan.nodes).lb03;
    expect(actionsOf(lb03)).toEqual([]);
    expect(lb03).toMatchObject({ leaving: true, role: 'left the answers, left alone', rolling: false });
    expect(lb03.steps).toEqual([
      {
        id: 'deconfigure',
        title: 'Left alone: not set up by ha-setup',
        changes: [],
        handlers: [],
        notes: [LEFT_ALONE],
      },
    ]);
    expect(plan.warnings).toContain(`lb03 (172.16.70.185) left the answers: ${LEFT_ALONE}`);
    expect(planToText(plan, [], { offline: false, showContent: false })).toContain(
      '== lb03 (172.16.70.185) left the answers, left alone: 0 change(s) ==\n[1] Left alone: not set up by ha-setup\n' +
        `    ok: ${LEFT_ALONE}`,
    );
    // its VRRP adverts on the pair's id are another router's, not a member's
    const src = own.interfaces.ens33.addresses[0].split('/')[0];
    const heard = buildPlan({ ...input, adverts: { lb01: [{ src, vrid: 51, priority: 100, version: 2 }] } });
    expect(heard.refusals).toContainEqual(expect.stringMatching(/^instances\[0\]\.virtualRouterId: 51 \(VI_1\) is/));
    // ha-setup's own keepalived.conf, or its own members.json listing it: ha-setup set it up, it is taken out
    expect(
      actionsOf(byNode(buildPlan({ ...input, leaving: [{ node: three.nodes[2], facts: f.lb03 }] }).nodes).lb03),
    ).toContainEqual({ kind: 'service', name: 'keepalived', action: 'stop' });
    const listed = { ...structuredClone(own), members: { nodes: [{ name: 'lb03', host: '172.16.70.185' }] } };
    expect(
      actionsOf(byNode(buildPlan({ ...input, leaving: [{ node: three.nodes[2], facts: listed }] }).nodes).lb03),
    ).toContainEqual({ kind: 'service', name: 'keepalived', action: 'disable' });
  });

  it('a keepalived.conf ha-setup did not write stays; a host ha-setup did not set up: left alone', () => {
    const f = converge(three, allFresh(three, 'debian'));
    f.lb03.files[PATHS.keepalivedConf] = { exists: true, mode: '644', content: 'vrrp_instance OWN {\n}\n' };
    const lb03 = byNode(
      buildPlan({ cfg, facts: { lb01: f.lb01, lb02: f.lb02 }, leaving: [{ node: three.nodes[2], facts: f.lb03 }] })
        .nodes,
    ).lb03;
    expect(lines(lb03)).not.toContain(`remove ${PATHS.keepalivedConf}`);
    const clean = allFresh(three, 'debian').lb03;
    const none = byNode(
      buildPlan({ cfg, facts: allFresh(cfg, 'debian'), leaving: [{ node: three.nodes[2], facts: clean }] }).nodes,
    ).lb03;
    expect(none.steps[0]).toMatchObject({ changes: [], handlers: [], notes: [LEFT_ALONE] });
    expect(none.rolling).toBe(false);
  });
});

describe('latent faults: nginx -t fails on disk while nginx runs', () => {
  const cfg = cfgOf(pair);
  const broken = {
    ok: false,
    code: 1,
    firstError: 'nginx: [emerg] unknown directive "x" in /etc/nginx/conf.d/a.conf:1',
  };
  const line =
    'nginx on lb02 would not start again after a restart or reboot: ' +
    'nginx: [emerg] unknown directive "x" in /etc/nginx/conf.d/a.conf:1';

  it('a warning when the run does not touch nginx there', () => {
    const f = converged(cfg);
    f.lb02.nginxtest = broken;
    const p = buildPlan({ cfg, facts: f, skipNetworkChecks: true });
    expect(p.warnings).toEqual([line]);
    expect(p.refusals).toEqual([]);
  });

  it('a refusal when the run would reload nginx there (here: a new file to sync from lb01)', () => {
    const f = converged(cfg);
    f.lb02.nginxtest = broken;
    f.lb01.nginxtree = { ...f.lb01.nginxtree, 'conf.d/new.conf': 'c'.repeat(64) };
    const p = buildPlan({ cfg, facts: f, skipNetworkChecks: true });
    expect(lines(byNode(p.nodes).lb02)).toContain('systemctl reload-or-restart nginx');
    expect(p.refusals).toEqual([`${line}; fix it first (this run would reload nginx there)`]);
    expect(p.warnings).toEqual([]);
  });

  it('without an error line: the exit code; nginx -t not run or passing: nothing', () => {
    const f = converged(cfg);
    f.lb02.nginxtest = { ok: false, code: 1, firstError: null };
    expect(buildPlan({ cfg, facts: f, skipNetworkChecks: true }).warnings).toEqual([
      'nginx on lb02 would not start again after a restart or reboot: nginx -t exit 1',
    ]);
    f.lb02.nginxtest = { ok: true, code: 0, firstError: null };
    expect(buildPlan({ cfg, facts: f, skipNetworkChecks: true }).warnings).toEqual([]);
  });
});

describe('the plan is a function of the facts', () => {
  it('the same facts give the same actions twice (what --dry-run shows is what runs); the facts stay as read', () => {
    for (const [a, facts] of [
      [pair, allFresh(cfgOf(pair), 'rhel')],
      [{ ...clone(pair), logging: { facility: 'local5' } }, converged(cfgOf(pair))],
    ] as const) {
      const cfg = cfgOf(a);
      const before = structuredClone(facts);
      const one = buildPlan({ cfg, facts, skipNetworkChecks: true });
      const two = buildPlan({ cfg, facts, skipNetworkChecks: true });
      expect(two.nodes.map(actionsOf)).toEqual(one.nodes.map(actionsOf));
      expect(two.nodes.map((n) => [n.rolling, n.rollingOrder])).toEqual(
        one.nodes.map((n) => [n.rolling, n.rollingOrder]),
      );
      expect(facts).toEqual(before);
      for (const n of one.nodes) expect(n.facts).toEqual(before[n.node]);
    }
  });
});
