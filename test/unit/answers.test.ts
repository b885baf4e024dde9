import { describe, expect, it } from 'vitest';
import { resolveAnswers, parseAnswersYaml } from '../../src/answers/resolve.js';
import { ValidationError } from '../../src/errors.js';
import {
  activeActive,
  clone,
  dualStack,
  nopreempt,
  pair,
  syncGroup,
  twoInterfaces,
  v6Only,
  weightDriven,
  type RawAnswers,
} from '../fixtures/answers.js';

function problems(data: unknown, env: NodeJS.ProcessEnv = {}, needSecrets = true): string[] {
  try {
    resolveAnswers(data, { env, needSecrets });
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('answers: valid files resolve with explicit derived values', () => {
  it('pair: defaults, master/backup priorities, FAULT-style check by default', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    expect(cfg.nodes.map((n) => [n.name, n.port, n.user, n.address])).toEqual([
      ['lb01', 22, 'root', '172.16.70.181'],
      ['lb02', 22, 'root', '172.16.70.182'],
    ]);
    expect(cfg.instances[0].priorities).toEqual({ lb01: 110, lb02: 100 });
    expect(cfg.instances[0].advertInt).toBe(1);
    expect(cfg.vrrpVersion).toBe(2);
    expect(cfg.healthCheck.weight).toBe(0);
    expect(cfg.instances[0].trackWeight).toBe(0);
    expect(cfg.system).toEqual({ selinux: 'disable', firewall: 'disable', multicast: true });
    expect(cfg.nginx.syncFrom).toBe('lb01');
    expect(cfg.secrets).toContain('1111');
  });

  it('active-active: each instance gives its master the highest priority', () => {
    const cfg = resolveAnswers(activeActive, { env: {} });
    expect(cfg.instances.map((i) => i.priorities)).toEqual([
      { lb01: 110, lb02: 100 },
      { lb02: 110, lb01: 100 },
    ]);
  });

  it('nopreempt: weight 0 (FAULT) and both nodes start BACKUP', () => {
    const cfg = resolveAnswers(nopreempt, { env: {} });
    expect(cfg.instances[0].trackWeight).toBe(0);
    expect(cfg.instances[0].preempt).toBe(false);
  });

  it('authPassEnv reads the secret from the environment only', () => {
    const a = clone(pair) as RawAnswers;
    delete a.instances[0].authPass;
    a.instances[0].authPassEnv = 'VRRP_PASS';
    expect(resolveAnswers(a, { env: { VRRP_PASS: 'abc' } }).instances[0].authPass).toBe('abc');
    expect(problems(a, {})).toEqual(['instances[0].authPassEnv: environment variable VRRP_PASS is not set']);
  });

  it('commands that write no configuration (status, switchover...) need no secret exported', () => {
    const a = clone(pair) as RawAnswers;
    delete a.instances[0].authPass;
    a.instances[0].authPassEnv = 'VRRP_PASS';
    a.alerts = { webhook: 'http://10.0.0.9/hook', webhookHeadersEnv: 'HOOK_HEADERS' };
    const cfg = resolveAnswers(a, { env: {}, needSecrets: false });
    expect(cfg.instances[0].authPass).toBeNull();
    expect(cfg.alerts.headers).toBeNull();
    // the webhook's URL is a secret (a Slack-style hook's credential): masked in whatever the command prints
    expect(cfg.secrets).toEqual(['http://10.0.0.9/hook']);
    // a value that is set is still checked
    expect(problems(a, { VRRP_PASS: 'has space' }, false)).toEqual([
      'instances[0].authPassEnv: the value of VRRP_PASS must be 1-8 printable ASCII characters without spaces or ' +
        '{ } " ! # $ \\',
    ]);
  });

  it('an explicit negative weight is kept when it beats the priority gap', () => {
    const a = clone(pair) as RawAnswers;
    a.healthCheck.weight = -30;
    const cfg = resolveAnswers(a, { env: {} });
    expect(cfg.healthCheck.weight).toBe(-30);
    expect(cfg.instances[0].trackWeight).toBe(-30);
  });
});

describe("answers: sync groups (the guides' vrrp_sync_group)", () => {
  it('resolves; an instance in two groups, different masters or mixed preempt are refused', () => {
    const ok = resolveAnswers(syncGroup, { env: {} });
    expect(ok.syncGroups).toEqual([{ name: 'G_WEB', instances: ['VI_1', 'VI_2'] }]);
    expect(ok.includeDir).toBe('/etc/keepalived/conf.d');
    const a = clone(syncGroup) as RawAnswers;
    a.instances.push({ name: 'VI_3', virtualRouterId: 53, vips: ['172.16.70.186/24'], master: 'lb02' });
    a.instances[1].preempt = false;
    a.syncGroups.push({ name: 'G_2', instances: ['VI_2', 'VI_3'] });
    a.healthCheck.weight = -20;
    const p = problems(a);
    expect(p).toContain(
      'syncGroups[1].instances[0]: VI_2 is already in syncGroups[0]; an instance can be in one sync group only',
    );
    expect(p).toContain('syncGroups[0]: VI_1, VI_2 must all preempt or all not (preempt: false)');
    const b = clone(syncGroup) as RawAnswers;
    b.instances[1].master = 'lb02';
    expect(problems(b)).toEqual([
      'syncGroups[0]: VI_1 (master lb01), VI_2 (master lb02) have different masters; a sync group moves together, ' +
        'so all its instances need the same master',
    ]);
    // a weight is honoured in a group: every group is rendered with sync_group_tracking_weight / global_tracking
    const c = clone(syncGroup) as RawAnswers;
    c.healthCheck.weight = -20;
    expect(resolveAnswers(c, { env: {} }).instances.map((i) => i.trackWeight)).toEqual([-20, -20]);
  });
});

describe('answers: every invalid input gives one line naming the key and what is allowed', () => {
  const cases: [string, (a: RawAnswers) => void, RegExp][] = [
    ['bad IP', (a) => (a.nodes[0].host = '300.1.1.1'), /^nodes\[0\]\.host: must be an IPv4 address or a DNS name/],
    [
      'bad CIDR',
      (a) => (a.instances[0].vips = ['172.16.70.183/33']),
      /^instances\[0\]\.vips\[0\]: must be an IPv4 or IPv6 address with an optional prefix.*\(got "172\.16\.70\.183\/3/,
    ],
    [
      'VIP equal to a node address',
      (a) => (a.instances[0].vips = ['172.16.70.182/24']),
      /^instances\[0\]\.vips\[0\]: 172\.16\.70\.182 is a node's own address/,
    ],
    [
      'VRID 0',
      (a) => (a.instances[0].virtualRouterId = 0),
      /^instances\[0\]\.virtualRouterId: must be 1\.\.255 \(got 0\)/,
    ],
    [
      'VRID 256',
      (a) => (a.instances[0].virtualRouterId = 256),
      /^instances\[0\]\.virtualRouterId: must be 1\.\.255 \(got 256\)/,
    ],
    ['priority 0', (a) => (a.nodes[1].priority = 0), /^nodes\[1\]\.priority: must be 1\.\.254 \(got 0\)/],
    ['priority 255', (a) => (a.nodes[0].priority = 255), /^nodes\[0\]\.priority: must be 1\.\.254 \(got 255\)/],
    ['equal priorities', (a) => (a.nodes[1].priority = 110), /^instances\[0\]: lb01 and lb02 both have priority 110/],
    [
      'authPass too long',
      (a) => (a.instances[0].authPass = '123456789'),
      /^instances\[0\]\.authPass: must be 1-8 printable ASCII characters without spaces or \{ \} " ! # \$ \\$/,
    ],
    [
      'interface with ;',
      (a) => (a.nodes[0].interface = 'eth0;reboot'),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'interface with $',
      (a) => (a.nodes[0].interface = '$(id)'),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'interface with space',
      (a) => (a.nodes[0].interface = 'eth 0'),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'interface with quote',
      (a) => (a.nodes[0].interface = "eth0'"),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'interface with newline',
      (a) => (a.nodes[0].interface = 'eth0\nx'),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'interface too long',
      (a) => (a.nodes[0].interface = 'a234567890123456'),
      /^nodes\[0\]\.interface: must be a plain Linux interface name/,
    ],
    [
      'unknown master',
      (a) => (a.instances[0].master = 'lb03'),
      /^instances\[0\]\.master: unknown node "lb03" \(nodes: lb01, lb02\)/,
    ],
    ['one node', (a) => a.nodes.pop(), /^nodes: needs at least two load balancers/],
    [
      'preempt=false with a weight check',
      (a) => {
        a.instances[0].preempt = false;
        a.healthCheck.weight = -20;
      },
      /^healthCheck\.weight: must be 0 when preempt is false/,
    ],
    [
      'unknown key',
      (a) => (a.nodes[0].prio = 1),
      /^nodes\[0\]\.prio: unknown key \(allowed: name, host, port, user, interface, priority, address, address6\)/,
    ],
    ['wrong type', (a) => (a.nodes[0].priority = 'high'), /^nodes\[0\]\.priority: must be a number/],
    ['missing interface', (a) => delete a.nodes[0].interface, /^nodes\[0\]\.interface: is required/],
    ['bad profile', (a) => (a.profile = 'turbo'), /^profile: must be one of standard, fast, ultra \(got "turbo"\)/],
    [
      'bad selinux',
      (a) => (a.system = { selinux: 'off' }),
      /^system\.selinux: must be one of disable, permissive, leave \(got "off"\)/,
    ],
    [
      'duplicate VRID',
      (a) => a.instances.push({ name: 'VI_2', virtualRouterId: 51, vips: ['172.16.70.190/24'], master: 'lb02' }),
      /^instances\[1\]\.virtualRouterId: 51 is already used by instances\[0\]/,
    ],
    [
      'master not highest',
      (a) => (a.instances[0].priorities = { lb02: 120 }),
      /^instances\[0\]\.master: lb01 has priority 110 but lb02 has 120/,
    ],
    [
      'weight too small to move the VIP',
      (a) => (a.healthCheck.weight = -5),
      /^healthCheck\.weight: -5 cannot move the VIP: the master leads its backup by 10/,
    ],
    [
      'sub-second advert without fast',
      (a) => (a.instances[0].advertInt = 0.5),
      /^instances\[0\]\.advertInt: must be a whole number of seconds 1\.\.255 with profile standard/,
    ],
    [
      'url with a quote',
      (a) => (a.healthCheck.url = "http://127.0.0.1/'x"),
      /^healthCheck\.url: must be an http\(s\) URL/,
    ],
    [
      'unsafe log path',
      (a) => (a.logging = { file: '/var/log/a b.log' }),
      /^logging\.file: must be an absolute path of safe characters/,
    ],
    [
      'sync group naming an unknown instance',
      (a) => (a.syncGroups = [{ name: 'G1', instances: ['VI_1', 'VI_9'] }]),
      /^syncGroups\[0\]\.instances\[1\]: unknown instance "VI_9" \(instances: VI_1\)$/,
    ],
    [
      'sync group of one instance',
      (a) => (a.syncGroups = [{ name: 'G1', instances: ['VI_1'] }]),
      /^syncGroups\[0\]\.instances: needs at least two instances/,
    ],
    [
      'sync group with an unknown key',
      (a) => (a.syncGroups = [{ name: 'G1', instances: ['VI_1', 'VI_2'], notify: 'x' }]),
      /^syncGroups\[0\]\.notify: unknown key \(allowed: name, instances\)$/,
    ],
    [
      'sync group name with a space',
      (a) => (a.syncGroups = [{ name: 'G 1', instances: ['VI_1', 'VI_2'] }]),
      /^syncGroups\[0\]\.name: must be 1-63 characters/,
    ],
    [
      'failover.realtime not a boolean',
      (a) => (a.failover = { realtime: 'yes' as never }),
      /^failover\.realtime: must be true or false \(got "yes"\)$/,
    ],
    [
      'failover.releaseVipsOnExit not a boolean',
      (a) => (a.failover = { releaseVipsOnExit: 1 as never }),
      /^failover\.releaseVipsOnExit: must be true or false \(got 1\)$/,
    ],
    [
      'include directory with a shell character',
      (a) => (a.keepalived = { includeDir: '/etc/keepalived/conf.d;reboot' }),
      /^keepalived\.includeDir: must be an absolute path of safe characters/,
    ],
  ];
  for (const [name, mutate, re] of cases) {
    it(name, () => {
      const a = clone(pair) as RawAnswers;
      mutate(a);
      const p = problems(a);
      expect(
        p.some((l) => re.test(l)),
        `${JSON.stringify(p)} should match ${re}`,
      ).toBe(true);
      for (const l of p) expect(l).not.toMatch(/\n/);
    });
  }

  it('never echoes an authPass in a message', () => {
    const a = clone(pair) as RawAnswers;
    a.instances[0].authPass = 'supersecret9';
    const p = problems(a);
    expect(p.join('\n')).not.toContain('supersecret9');
  });

  it('YAML syntax errors are validation errors, not crashes', () => {
    expect(() => parseAnswersYaml('nodes: [\n  - a', 'x.yaml')).toThrow(ValidationError);
    expect(() => parseAnswersYaml('a: 1\na: 2', 'x.yaml')).toThrow(ValidationError);
  });
});

describe('answers: the pairs people run (IPv6, dual stack, several interfaces, no fixed master, names)', () => {
  it('IPv6 VIPs: canonical, their prefix; a dual-stack instance stays one instance; unicast needs address6', () => {
    const cfg = resolveAnswers(v6Only, { env: {} });
    expect(cfg.nodes.map((n) => n.address6)).toEqual(['fd00:172:16::181', 'fd00:172:16::182']);
    expect(cfg.instances[0].vips).toEqual([{ address: 'fd00:172:16::186', prefix: 64, family: 6 }]);
    const dual = resolveAnswers(dualStack, { env: {} });
    expect(dual.instances).toHaveLength(1);
    expect(dual.instances[0].vips.map((v) => `${v.address}/${v.prefix} v${v.family}`)).toEqual([
      '172.16.70.183/24 v4',
      'fd00:172:16::183/64 v6',
    ]);
    const a = clone(v6Only) as RawAnswers;
    delete a.nodes[1].address6;
    a.instances[0].vips.push('FD00:172:16:0:0:0:0:186/64', 'fd00::1/129');
    expect(problems(a)).toEqual([
      'instances[0].vips[2]: must be an IPv4 or IPv6 address with an optional prefix, e.g. 172.16.70.183/24 or ' +
        'fd00:198:18::100/64 (got "fd00::1/129")',
    ]);
    a.instances[0].vips.pop();
    expect(problems(a)).toEqual([
      'instances[0].vips[1]: fd00:172:16::186 is already a VIP of VI_6',
      "instances[0].unicast: node lb02 needs an IPv6 address (set nodes[].address6) for the IPv6 VIPs' " +
        'unicast_src_ip/unicast_peer',
    ]);
  });

  it('master: auto: equal priorities allowed, the first master is the one keepalived elects (highest address)', () => {
    const cfg = resolveAnswers(weightDriven, { env: {} });
    expect(cfg.instances[0]).toMatchObject({
      masterAuto: true,
      master: 'lb03',
      priorities: { lb01: 100, lb02: 100, lb03: 100 },
      trackWeight: 2,
      names: { lb01: 'k8s-api', lb02: 'VI_API', lb03: 'k8s-api' },
    });
    // with a fixed master, equal priorities are still refused
    const b = clone(weightDriven) as RawAnswers;
    b.instances[0].master = 'lb01';
    expect(problems(b)[0]).toMatch(/^instances\[0\]: lb01 and lb02 both have priority 100/);
  });

  it('names: per node, known nodes, one vrrp_instance name per node (the IPv6 twins too)', () => {
    const a = clone(dualStack) as RawAnswers;
    a.instances.push({ name: 'VI_1_v6', virtualRouterId: 52, vips: ['172.16.70.184/24'], master: 'lb01' });
    a.instances[0].names = { lb09: 'X' };
    expect(problems(a)).toEqual([
      'instances[0].names.lb09: unknown node "lb09" (nodes: lb01, lb02)',
      'instances[1]: on lb01 keepalived would have two vrrp_instance VI_1_v6 (VI_1 and VI_1_v6); give one of them ' +
        'another name',
      'instances[1]: on lb02 keepalived would have two vrrp_instance VI_1_v6 (VI_1 and VI_1_v6); give one of them ' +
        'another name',
    ]);
  });

  it('virtual router ids: one per interface and address family, as keepalived allows them', () => {
    const a = clone(pair) as RawAnswers;
    // an IPv4 and an IPv6 instance share 51, and so does one on another interface
    a.instances.push(
      { name: 'VI_6', virtualRouterId: 51, vips: ['fd00:172:16::190/64'], master: 'lb02' },
      { name: 'VI_B', virtualRouterId: 51, vips: ['10.9.0.10/24'], master: 'lb01', interface: 'ens34' },
    );
    expect(resolveAnswers(a, { env: {} }).instances.map((i) => i.virtualRouterId)).toEqual([51, 51, 51]);
    // a dual-stack instance takes 51 for both families on ens33
    a.instances[0].vips.push('fd00:172:16::183/64');
    expect(problems(a)).toEqual([
      'instances[1].virtualRouterId: 51 is already used by instances[0] on ens33 (IPv6); keepalived allows one ' +
        'instance per id, interface and address family',
    ]);
  });

  it('instances[].interface: the instance on another interface than the node', () => {
    const cfg = resolveAnswers(twoInterfaces, { env: {} });
    expect(cfg.instances.map((i) => i.interface)).toEqual([null, 'ens34']);
  });
});
