/** Planners are pure: answers + facts fixtures in, changes out. No SSH. */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { buildPlan } from '../../src/plan/build.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { actionsOf, changeCount, isPairAction, type Action } from '../../src/plan/types.js';
import type { Change } from '../../src/steps/types.js';
import { FLAG_WRITE_SH, NGINX_STOP_UNIT, PATHS } from '../../src/paths.js';
import { firewall } from '../../src/steps/firewall.js';
import { multicast } from '../../src/steps/multicast.js';
import { nginx } from '../../src/steps/nginx.js';
import { selinux } from '../../src/steps/selinux.js';
import { logging } from '../../src/steps/logging.js';
import { keepalivedConfig } from '../../src/steps/keepalived-config.js';
import { members } from '../../src/steps/members.js';
import { services } from '../../src/steps/services.js';
import { parseMembers } from '../../src/facts/table.js';
import { clone, fast, pair, syncGroup } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';
import { addAddress } from '../fixtures/facts.js';

const cfgOf = (a: unknown) => resolveAnswers(a, { env: {} });
const ctx = (a: unknown, mutate: (f: InitFacts) => void = () => {}, family: 'debian' | 'rhel' = 'rhel') => {
  const cfg = cfgOf(a);
  const all = allFresh(cfg, family);
  mutate(all.lb02);
  return { cfg, node: cfg.nodes[1], facts: all.lb02, all };
};
const kinds = (cs: Action[]) =>
  cs.map((c) =>
    c.kind === 'command'
      ? c.argv.join(' ')
      : c.kind === 'file'
        ? `file ${c.path}`
        : c.kind === 'service'
          ? `${c.action} ${c.name}`
          : c.kind,
  );

describe('selinux', () => {
  it('enforcing config and runtime: edit the file, setenforce 0', () => {
    const p = selinux.plan(ctx(pair));
    expect(kinds(p.changes)).toEqual(['file /etc/selinux/config', 'setenforce 0']);
    const f = p.changes[0] as Extract<Change, { kind: 'file' }>;
    expect(f.content).toBe('SELINUX=disabled\nSELINUXTYPE=targeted\n');
    expect(f.before).toBe('SELINUX=enforcing\nSELINUXTYPE=targeted\n');
  });
  it('permissive when asked', () => {
    const a = { ...clone(pair), system: { selinux: 'permissive' } };
    const f = selinux.plan(ctx(a)).changes[0] as Extract<Change, { kind: 'file' }>;
    expect(f.content).toContain('SELINUX=permissive');
  });
  it('no SELinux on the host: nothing', () => {
    const p = selinux.plan(ctx(pair, () => {}, 'debian'));
    expect(p.changes).toEqual([]);
    expect(p.notes.join()).toMatch(/absent/);
  });
  it('leave: nothing even when enforcing', () => {
    expect(selinux.plan(ctx({ ...clone(pair), system: { selinux: 'leave' } })).changes).toEqual([]);
  });
});

describe('firewall', () => {
  it('disable: stop and disable firewalld, with an undo', () => {
    const p = firewall.plan(ctx(pair));
    expect(p.changes).toEqual([
      {
        kind: 'command',
        argv: ['systemctl', 'disable', '--now', 'firewalld'],
        describe: 'stop and disable firewalld',
        undo: ['systemctl', 'enable', '--now', 'firewalld'],
        // what it makes true for the later steps
        sets: { firewalld: { active: false, enabled: false }, services: { firewalld: { active: 'inactive' } } },
      },
    ]);
  });
  it('open: permanent vrrp, http, https rules and a reload', () => {
    const p = firewall.plan(ctx({ ...clone(pair), system: { firewall: 'open' } }));
    expect(kinds(p.changes)).toEqual([
      'firewall-cmd --permanent --add-protocol=vrrp',
      'firewall-cmd --permanent --add-service=http',
      'firewall-cmd --permanent --add-service=https',
    ]);
    expect(kinds(p.handlers)).toEqual(['firewall-cmd --reload']);
  });
  it('open when rules exist: nothing', () => {
    const p = firewall.plan(
      ctx({ ...clone(pair), system: { firewall: 'open' } }, (f) =>
        Object.assign(f.firewalld, { protocols: ['vrrp'], services: ['ssh', 'http', 'https'] }),
      ),
    );
    expect(p.changes).toEqual([]);
  });
  it('open with metrics.install: node_exporter 9100/tcp too, once', () => {
    const a = { ...clone(pair), system: { firewall: 'open' }, metrics: { install: true } };
    const rules = (f: InitFacts) => Object.assign(f.firewalld, { protocols: ['vrrp'], services: ['http', 'https'] });
    expect(kinds(firewall.plan(ctx(a, rules)).changes)).toEqual(['firewall-cmd --permanent --add-port=9100/tcp']);
    const open = (f: InitFacts) => Object.assign(rules(f), { ports: ['9100/tcp'] });
    expect(firewall.plan(ctx(a, open)).changes).toEqual([]);
  });
  it('open with ufw active: refuse (precondition)', () => {
    const p = firewall.plan(
      ctx({ ...clone(pair), system: { firewall: 'open' } }, (f) => (f.ufw = { installed: true, active: true })),
    );
    expect(p.refuse).toMatch(/ufw is active/);
  });
  it('leave: warns when firewalld would block VRRP', () => {
    const p = firewall.plan(ctx({ ...clone(pair), system: { firewall: 'leave' } }));
    expect(p.changes).toEqual([]);
    expect(p.notes.join()).toMatch(/split brain/);
  });
});

describe('multicast', () => {
  it('turns MULTICAST on when off', () => {
    const p = multicast.plan(ctx(pair, (f) => (f.interfaces.ens33.multicast = false)));
    expect(kinds(p.changes)).toEqual(['ip link set dev ens33 multicast on']);
  });
  it('nothing when already on', () => expect(multicast.plan(ctx(pair)).changes).toEqual([]));
});

describe('nginx', () => {
  it('backup: sync from the master, reload after, sysctl, enable', () => {
    const p = nginx.plan(ctx(pair));
    const sync = p.changes.find((c) => c.kind === 'nginx-sync') as Extract<Change, { kind: 'nginx-sync' }>;
    expect(sync).toMatchObject({
      from: 'lb01',
      added: ['sites-enabled/default'],
      changed: ['nginx.conf'],
      removed: [],
    });
    expect(kinds(p.handlers)).toEqual(['reload-or-restart nginx']);
    expect(kinds(p.changes)).toContain(`file ${PATHS.sysctl}`);
  });
  it('install when missing and allowed; refuse when not', () => {
    expect(kinds(nginx.plan(ctx(pair, (f) => (f.packages.nginx = null))).changes)[0]).toBe('package');
    expect(
      nginx.plan(ctx({ ...clone(pair), nginx: { install: false } }, (f) => (f.packages.nginx = null))).refuse,
    ).toMatch(/nginx is not installed on lb02 and nginx.install is false/);
  });
  it('a Debian source and a RHEL-family target are not synced (refused); nginx.sync: false keeps each nginx', () => {
    const cfg = cfgOf(pair);
    const facts = allFresh(cfg);
    facts.lb02.os = {
      id: 'rocky',
      idLike: 'rhel centos fedora',
      family: 'rhel',
      version: '9.4',
      pretty: 'Rocky Linux 9.4',
    };
    const p = nginx.plan({ cfg, node: cfg.nodes[1], facts: facts.lb02, all: facts });
    expect(p.refuse).toMatch(
      /^nginx\.syncFrom lb01 runs Debian GNU\/Linux 12 \(assumed\) and lb02 runs Rocky Linux 9\.4: their nginx layouts/,
    );
    const off = cfgOf({ ...clone(pair), nginx: { sync: false } });
    const q = nginx.plan({ cfg: off, node: off.nodes[1], facts: facts.lb02, all: facts });
    expect(q.refuse).toBeUndefined();
    expect(q.changes.some((c) => c.kind === 'nginx-sync')).toBe(false);
    expect(q.notes).toContain('nginx.sync is false: each node keeps its own nginx configuration');
  });
});

describe('logging', () => {
  it('RHEL: KEEPALIVED_OPTIONS in /etc/sysconfig/keepalived', () => {
    const p = logging.plan(ctx(pair));
    const f = p.changes.find((c) => c.kind === 'file' && c.path === '/etc/sysconfig/keepalived') as Extract<
      Change,
      { kind: 'file' }
    >;
    expect(f.content).toContain('KEEPALIVED_OPTIONS="-D -S 4"');
  });
  it('Debian: DAEMON_ARGS in /etc/default/keepalived, keeping the package comments', () => {
    const p = logging.plan(
      ctx(
        pair,
        (f) =>
          (f.files['/etc/default/keepalived'] = {
            exists: true,
            mode: '644',
            content: '# Options to pass to keepalived\nDAEMON_ARGS=""\n',
          }),
        'debian',
      ),
    );
    const f = p.changes.find((c) => c.kind === 'file' && c.path === '/etc/default/keepalived') as Extract<
      Change,
      { kind: 'file' }
    >;
    expect(f.content).toBe('# Options to pass to keepalived\nDAEMON_ARGS="-D -S 4"\n');
    expect(kinds(p.handlers)).toEqual(['restart rsyslog']);
  });
});

describe('keepalived config', () => {
  it('validated with keepalived -t, mode 600 (auth_pass masked by key); reload only when keepalived runs', () => {
    const c = ctx(pair, () => {}, 'debian');
    let p = keepalivedConfig.plan(c);
    const conf = p.changes.find((x) => x.kind === 'file' && x.path === PATHS.keepalivedConf) as Extract<
      Change,
      { kind: 'file' }
    >;
    expect(conf).toMatchObject({ mode: '600', validate: ['keepalived', '-t', '-f', '{file}'] });
    // not a secret as a whole: the plan shows its diff, with the auth_pass lines masked (plan-build.test.ts)
    expect(conf.sensitive).toBeUndefined();
    expect(kinds(p.handlers)).toEqual(['daemon-reload systemd']);
    c.facts.services.keepalived = { active: 'active', enabled: 'enabled', mainPid: 42 };
    p = keepalivedConfig.plan(c);
    expect(kinds(p.handlers)).toContain('reload-or-restart keepalived');
  });
  it('a handover flag left on by an interrupted move is cleared, written like every flag (through a dot file)', () => {
    const c = ctx(pair, (f) => (f.flags = { 'handover.VI_1': 1, 'demote.VI_1': 1 }), 'debian');
    const clear = keepalivedConfig.plan(c).changes.filter((x) => x.kind === 'command' && x.argv[0] === 'sh');
    expect(clear).toEqual([
      {
        kind: 'command',
        argv: ['sh', '-c', FLAG_WRITE_SH, 'sh', PATHS.flagDir, 'handover.VI_1', '0'],
        describe: 'clear the stale handover.VI_1 flag (left by an interrupted move)',
        sets: { flags: { 'handover.VI_1': 0 } },
      },
    ]);
    expect(FLAG_WRITE_SH).toContain('"$1/.$2.tmp"');
  });
  it('includeDir: the directory is created when missing (undone by rmdir), nothing when it exists', () => {
    const c = ctx(syncGroup);
    const mk = keepalivedConfig.plan(c).changes.filter((x) => x.kind === 'command');
    // the state flag directory comes first (initVars asks for it in DIRS); each mkdir says the directory exists after
    expect(mk).toEqual([
      {
        kind: 'command',
        argv: ['mkdir', '-p', '-m', '0755', PATHS.flagDir],
        describe: `create ${PATHS.flagDir} for the state flags keepalived tracks`,
        undo: ['rmdir', PATHS.flagDir],
        sets: { dirs: { [PATHS.flagDir]: true } },
      },
      {
        kind: 'command',
        argv: ['mkdir', '-p', '-m', '0755', '/etc/keepalived/conf.d'],
        describe: "create /etc/keepalived/conf.d for the operator's keepalived snippets",
        undo: ['rmdir', '/etc/keepalived/conf.d'],
        sets: { dirs: { '/etc/keepalived/conf.d': true } },
      },
    ]);
    c.facts.dirs['/etc/keepalived/conf.d'] = true;
    expect(keepalivedConfig.plan(c).changes.filter((x) => x.kind === 'command')).toEqual([mk[0]]);
    c.facts.dirs[PATHS.flagDir] = true;
    expect(keepalivedConfig.plan(c).changes.filter((x) => x.kind === 'command')).toEqual([]);
  });
  it('fast profile adds the nginx drop-in and the unit that signals a planned stop before it begins', () => {
    const p = keepalivedConfig.plan(ctx(fast, () => {}, 'debian'));
    expect(kinds(p.changes)).toContain(`file ${PATHS.nginxDropin}`);
    expect(kinds(p.changes)).toContain(`file ${PATHS.nginxStopUnit}`);
    const file = (path: string) =>
      (p.changes.find((x) => x.kind === 'file' && x.path === path) as Extract<Change, { kind: 'file' }>).content;
    expect(file(PATHS.nginxDropin)).toContain(`Wants=${NGINX_STOP_UNIT}`);
    // stopped with nginx and before it; its write only when nginx's own stop or restart is queued
    expect(file(PATHS.nginxStopUnit)).toMatch(/PartOf=nginx\.service\nAfter=nginx\.service/);
    expect(file(PATHS.nginxStopUnit)).toContain('grep -Eq "nginx.service +(stop|restart) " || exit 0;');
    expect(file(PATHS.nginxStopUnit)).toContain(`echo 1 > ${PATHS.trackFile}`);
    // nginx may run (fresh host: unknown): the unit started after the daemon-reload
    expect(kinds(p.handlers).slice(0, 2)).toEqual(['daemon-reload systemd', `start ${NGINX_STOP_UNIT}`]);
    // the units in place, nginx running, the unit not: started on its own (no daemon-reload)
    const running = ctx(
      fast,
      (f) => (f.services.nginx = { active: 'active', enabled: 'enabled', mainPid: 7 }),
      'debian',
    );
    const planned = keepalivedConfig.plan(running);
    for (const c of planned.changes)
      if (c.kind === 'file') running.facts.files[c.path] = { exists: true, content: c.content, mode: c.mode };
    const again = keepalivedConfig.plan(running);
    expect(kinds(again.changes).filter((k) => !k.startsWith('file '))).toContain(`start ${NGINX_STOP_UNIT}`);
    expect(kinds(again.handlers)).not.toContain('daemon-reload systemd');
    // running: nothing; nginx stopped: its start starts the unit (Wants=)
    running.facts.services[NGINX_STOP_UNIT] = { active: 'active', enabled: 'static', mainPid: 0 };
    expect(kinds(keepalivedConfig.plan(running).changes)).not.toContain(`start ${NGINX_STOP_UNIT}`);
    running.facts.services[NGINX_STOP_UNIT] = { active: 'inactive', enabled: 'static', mainPid: 0 };
    running.facts.services.nginx = { active: 'inactive', enabled: 'enabled', mainPid: 0 };
    expect(kinds(keepalivedConfig.plan(running).changes)).not.toContain(`start ${NGINX_STOP_UNIT}`);
  });
  it("CentOS 7 (its repositories' keepalived 1.3.5): no track_file nor its drop-in, validated by a real start", () => {
    const c = ctx(fast); // assumed RHEL host: CentOS 7, candidate 1.3.5
    expect(c.facts.kacandidate).toBe('1.3.5');
    const p = keepalivedConfig.plan(c);
    expect(kinds(p.changes)).not.toContain(`file ${PATHS.nginxDropin}`);
    // ha-setup's state flags through flag.sh (a vrrp_script per flag), which the step writes
    expect(kinds(p.changes)).toContain(`file ${PATHS.flagScript}`);
    const conf = p.changes.find((x) => x.kind === 'file' && x.path === PATHS.keepalivedConf) as Extract<
      Change,
      { kind: 'file' }
    >;
    expect(conf.content).not.toContain('track_file');
    expect(conf.content).toContain(`script "${PATHS.flagScript} maintenance"`);
    expect(conf.validate?.slice(0, 2)).toEqual(['bash', '-c']);
    expect(conf.validate?.slice(3)).toEqual(['validate-keepalived-1x', '{file}']);
    // once 2.2.7 is what is installed, the same host is planned for it: the flag files tracked, no flag.sh
    c.facts.kaversion = '2.2.7';
    const two = keepalivedConfig.plan(c);
    expect(kinds(two.changes)).toContain(`file ${PATHS.nginxDropin}`);
    expect(kinds(two.changes)).not.toContain(`file ${PATHS.flagScript}`);
    const conf2 = two.changes.find((x) => x.kind === 'file' && x.path === PATHS.keepalivedConf) as Extract<
      Change,
      { kind: 'file' }
    >;
    expect(conf2.content).toContain(`file "${PATHS.flagDir}/maintenance"`);
    expect(conf2.validate).toEqual(['keepalived', '-t', '-f', '{file}']);
  });
  it('includeDir: a placeholder snippet (1.x dies on an include that matches nothing)', () => {
    const p = keepalivedConfig.plan(ctx(syncGroup));
    expect(kinds(p.changes)).toContain('file /etc/keepalived/conf.d/00-ha-setup.conf');
  });
});

describe('services and members', () => {
  it('services: start (the election begins) and enable what is not, check the log; nothing when all run', () => {
    const c = ctx(pair, () => {}, 'debian');
    const p = services.plan(c);
    expect(kinds(p.changes)).toEqual(['start keepalived', 'enable keepalived', 'verify']);
    expect(p.changes[2]).toMatchObject({
      kind: 'verify',
      describe: 'a keepalived line reaches /var/log/keepalived.log',
    });
    c.facts.services.keepalived = { active: 'active', enabled: 'enabled', mainPid: 42 };
    const q = services.plan(c);
    expect(q.changes).toEqual([]);
    expect(q.handlers).toEqual([]);
    expect(q.notes).toEqual(['rsyslog and keepalived enabled and running']);
  });
  it("members: the answers' nodes as JSON in /var/lib/ha-setup/members.json, nothing when it is the same", () => {
    const c = ctx(pair);
    const p = members.plan(c);
    expect(p.changes).toHaveLength(1);
    const f = p.changes[0] as Extract<Change, { kind: 'file' }>;
    expect(f).toMatchObject({ kind: 'file', path: PATHS.members, mode: '644', before: null });
    expect(parseMembers(f.content)).toEqual({
      nodes: [
        { name: 'lb01', host: '172.16.70.181', port: 22, user: 'root' },
        { name: 'lb02', host: '172.16.70.182', port: 22, user: 'root' },
      ],
    });
    c.facts.files[PATHS.members] = { exists: true, mode: '644', content: f.content };
    expect(members.plan(c).changes).toEqual([]);
  });
});

describe('whole plan', () => {
  it('fresh hosts: every step in the documented order, changes on both, the members file written last', () => {
    const cfg = cfgOf(pair);
    const { nodes, refusals, warnings } = buildPlan({ cfg, facts: allFresh(cfg, 'rhel') });
    expect(refusals).toEqual([]);
    expect(warnings).toEqual([]);
    for (const p of nodes) {
      expect(p.steps.map((s) => s.id)).toEqual([
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
      expect(changeCount(p)).toBeGreaterThan(8);
      const last = actionsOf(p).at(-1)!;
      expect(last).toMatchObject({ kind: 'file', path: PATHS.members });
      // nothing runs yet: nothing to hand over, no rolling phase
      expect(p).toMatchObject({ leaving: false, rolling: false, rollingOrder: null, holds: [] });
    }
    expect(nodes.map((p) => p.role)).toEqual(['VI_1 MASTER', 'VI_1 BACKUP']);
  });
  for (const family of ['debian', 'rhel'] as const) {
    it(`a converged ${family} host plans zero changes and no handlers (second run restarts nothing)`, () => {
      const cfg = cfgOf(pair);
      const after = converge(cfg, allFresh(cfg, family));
      const { nodes, refusals } = buildPlan({ cfg, facts: after, skipNetworkChecks: true });
      expect(refusals).toEqual([]);
      for (const p of nodes) {
        expect(changeCount(p), JSON.stringify(p.steps.map((s) => kinds(s.changes)))).toBe(0);
        expect(p.steps.flatMap((s) => s.handlers)).toEqual([]);
        expect(actionsOf(p).some(isPairAction)).toBe(false);
        expect(p.rolling).toBe(false);
      }
    });
  }
  it(
    'refusals: unknown interface, foreign VIP on an interface, ' + 'ARP answer from a stranger, unsupported OS',
    () => {
      const cfg = cfgOf(pair);
      const f = allFresh(cfg);
      delete f.lb01.interfaces.ens33;
      addAddress(f.lb02.interfaces.ens33, '172.16.70.183/24');
      f.lb02.vipneighbors = [{ vip: '172.16.70.183', lladdr: 'aa:bb:cc:dd:ee:ff' }];
      f.lb02.os.family = 'unknown';
      const { refusals } = buildPlan({ cfg, facts: f });
      expect(refusals).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^lb01 \(172\.16\.70\.181\): interface ens33 not found \(has: lo\)/),
          expect.stringMatching(/^lb02 .*VIP 172\.16\.70\.183 \(VI_1\) is already an address of ens33/),
          expect.stringMatching(/^lb02 .*VIP 172\.16\.70\.183 already answers on the network from aa:bb:cc:dd:ee:ff/),
          expect.stringMatching(/^lb02 .*unsupported OS/),
        ]),
      );
      // --offline reads nothing from the network: the ARP answer is not checked
      expect(buildPlan({ cfg, facts: f, skipNetworkChecks: true }).refusals).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/already answers on the network/)]),
      );
    },
  );

  it('failover.realtime is refused on a host without CAP_SYS_RESOURCE (its VRRP process dies on reload)', () => {
    const on = cfgOf({ ...clone(pair), failover: { realtime: true } });
    const f = allFresh(on);
    f.lb02.capbnd = false;
    expect(buildPlan({ cfg: on, facts: f }).refusals).toEqual([
      'lb02 (172.16.70.182): failover.realtime: this host has no CAP_SYS_RESOURCE (a container?), so ' +
        "keepalived's real-time VRRP process would be killed on every reload; set failover.realtime: false",
    ]);
    f.lb02.capbnd = true;
    expect(buildPlan({ cfg: on, facts: f }).refusals).toEqual([]);
    // off (the default): nothing to refuse
    const off = cfgOf(pair);
    const g = allFresh(off);
    g.lb01.capbnd = false;
    expect(buildPlan({ cfg: off, facts: g }).refusals).toEqual([]);
  });

  it('a foreign VRRP router advertising our id refuses once; our own adverts (a re-run) do not', () => {
    const cfg = cfgOf(pair);
    const facts = allFresh(cfg);
    const adverts = {
      lb01: [
        { src: '172.16.70.182', vrid: 51, priority: 100, version: 2 },
        { src: '172.16.70.50', vrid: 51, priority: 150, version: 2 },
        { src: '172.16.70.50', vrid: 52, priority: 150, version: 2 },
      ],
      lb02: [{ src: '172.16.70.50', vrid: 51, priority: 150, version: 2 }],
    };
    expect(buildPlan({ cfg, facts, adverts }).refusals).toEqual([
      'instances[0].virtualRouterId: 51 (VI_1) is already used on the segment by 172.16.70.50 (priority 150, ' +
        'VRRPv2), heard from lb01, lb02; two clusters with one id on a segment both flap: choose another id ' +
        '(53 is free)',
    ]);
    expect(buildPlan({ cfg, facts, adverts, skipNetworkChecks: true }).refusals).toEqual([]);
    const ours = { lb01: [{ src: '172.16.70.182', vrid: 51, priority: 100, version: 2 }], lb02: [] };
    expect(buildPlan({ cfg, facts, adverts: ours }).refusals).toEqual([]);
    // not listened (null): nothing to judge
    expect(buildPlan({ cfg, facts, adverts: null }).refusals).toEqual([]);
  });
});
