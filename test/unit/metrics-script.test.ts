/**
 * The metrics script (templates/metrics.sh.ejs) rendered into temp directories and run under sh (dash) and bash
 * with stub `ip` and `systemctl` first on PATH: what it writes passes `promtool check metrics`, and its values in
 * the situations that matter.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { metricsTargetsOf, renderMetricsScript, type MetricsTarget } from '../../src/metrics/render.js';
import { escapeLabelValue } from '../../src/metrics/shell.js';
import { syncGroup } from '../fixtures/answers.js';
import { cleanupTempDirs, parseProm, promtool, tempDir, which, writeExec } from '../fixtures/metrics/harness.js';

afterAll(cleanupTempDirs);

const TARGETS: MetricsTarget[] = [
  {
    instance: 'VI_1',
    group: null,
    basePriority: 110,
    vips: [
      { address: '10.0.0.10/24', dev: 'eth0' },
      { address: '10.0.0.11', dev: 'eth0' },
    ],
    checkWeight: -20,
    demoteWeight: 50,
  },
  {
    instance: 'VI_2',
    group: 'G_WEB',
    basePriority: 100,
    vips: [{ address: '10.0.0.20/24', dev: 'eth0' }],
    checkWeight: 0,
    demoteWeight: 30,
  },
  {
    instance: 'VI_1_v6',
    group: 'VI_1',
    basePriority: 110,
    vips: [{ address: 'FD00:0:0::10/64', dev: 'eth0' }],
    checkWeight: -20,
    demoteWeight: 50,
  },
];

const IP_BASE = [
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '2: eth0    inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever',
];
const ipLine = (dev: string, addr: string) =>
  `2: ${dev}    inet ${addr}/24 scope global secondary ${dev}\\       valid_lft forever preferred_lft forever`;

interface Host {
  dir: string;
  textfileDir: string;
  stateDir: string;
  flagDir: string;
  script: string;
  /** what `ip -o addr show` prints (null: ip fails) */
  ip(lines: string[] | null): void;
  /** the units `systemctl is-active` calls active */
  active(...units: string[]): void;
  vrrp(instance: string, line: string): void;
  flag(name: string, value: string): void;
  check(line: string): void;
  run(shell?: string): { prom: string; values: Map<string, number> };
}

/** a node's directories, stubs and rendered script; withSystemctl false: a PATH of symlinks with `pidof` instead */
function host(targets: MetricsTarget[] = TARGETS, node = 'lb01', withSystemctl = true): Host {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  const [textfileDir, stateDir, flagDir] = ['textfile', 'run', 'flags'].map((d) => join(dir, d));
  mkdirSync(bin);
  mkdirSync(join(stateDir, 'vrrp'), { recursive: true });
  mkdirSync(flagDir);
  writeExec(join(bin, 'ip'), `#!/bin/sh\n[ "$*" = "-o addr show" ] && exec cat '${dir}/ip.out'\nexit 1\n`);
  const up = `[ -e '${dir}/up.'"$U" ]`;
  if (withSystemctl) writeExec(join(bin, 'systemctl'), `#!/bin/sh\nU=$2\n[ "$1" = is-active ] && ${up}\n`);
  else {
    writeExec(join(bin, 'pidof'), `#!/bin/sh\nU=$1\n${up}\n`);
    for (const c of ['awk', 'date', 'mktemp', 'chmod', 'mv', 'rm', 'mkdir', 'cat']) symlinkSync(which(c), join(bin, c));
  }
  const script = join(dir, 'metrics.sh');
  const path = withSystemctl ? `${bin}:/usr/bin:/bin` : bin;
  writeExec(script, renderMetricsScript({ node, textfileDir, stateDir, flagDir, targets, path }));
  const h: Host = {
    dir,
    textfileDir,
    stateDir,
    flagDir,
    script,
    ip: (lines) => {
      if (lines === null) rmIfExists(join(dir, 'ip.out'));
      else writeFileSync(join(dir, 'ip.out'), lines.map((l) => l + '\n').join(''));
    },
    active: (...units) => {
      for (const u of ['nginx', 'keepalived']) rmIfExists(join(dir, `up.${u}`));
      for (const u of units) writeFileSync(join(dir, `up.${u}`), '');
    },
    vrrp: (instance, line) => writeFileSync(join(stateDir, 'vrrp', instance), line + '\n'),
    flag: (name, value) => writeFileSync(join(flagDir, name), value + '\n'),
    check: (line) => writeFileSync(join(stateDir, 'check'), line + '\n'),
    run: (shell = 'sh') => {
      const r = spawnSync(shell, [script], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const prom = readFileSync(join(textfileDir, 'ha_setup.prom'), 'utf8');
      return { prom, values: parseProm(prom) };
    },
  };
  h.ip(IP_BASE);
  h.active('nginx', 'keepalived');
  return h;
}

function rmIfExists(p: string): void {
  if (existsSync(p)) spawnSync('rm', ['-f', p]);
}

const L = (inst: string, node = 'lb01') => `vrrp_instance="${inst}",node="${node}"`;
const V = (inst: string, vip: string, node = 'lb01') => `${L(inst, node)},vip="${vip}"`;
const N = (node = 'lb01') => `node="${node}"`;

describe('metrics.sh writes ha_setup.prom that promtool accepts', () => {
  for (const shell of ['sh', 'bash']) {
    it(`under ${shell}: every family, HELP and TYPE, lint-clean`, () => {
      const h = host();
      h.vrrp('VI_1', 'MASTER 1700000000 3 110');
      h.check('OK 1700000100');
      const { prom } = h.run(shell);
      const r = promtool(['check', 'metrics'], prom);
      expect(r.out).toBe('');
      expect(r.status).toBe(0);
      for (const name of [
        'ha_setup_vrrp_state',
        'ha_setup_vrrp_transitions_total',
        'ha_setup_vrrp_last_transition_timestamp_seconds',
        'ha_setup_vrrp_priority_effective',
        'ha_setup_vip_held',
        'ha_setup_nginx_up',
        'ha_setup_keepalived_up',
        'ha_setup_check_ok',
        'ha_setup_maintenance',
        'ha_setup_split_brain_seen_total',
        'ha_setup_metrics_last_run_timestamp_seconds',
      ]) {
        expect(prom).toContain(`# HELP ${name} `);
        expect(prom).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
      }
      expect(prom).not.toMatch(/[{,]instance=/);
    });
  }

  it('replaces the file atomically: no temporary file left, readable by node_exporter (0644)', () => {
    const h = host();
    h.run();
    h.run();
    expect(readdirSync(h.textfileDir)).toEqual(['ha_setup.prom']);
    expect(statSync(join(h.textfileDir, 'ha_setup.prom')).mode & 0o777).toBe(0o644);
  });

  it('passes promtool with unreadable data: garbage state files, ip failing', () => {
    const h = host();
    h.vrrp('VI_1', 'WHAT? x y z');
    h.vrrp('VI_2', '');
    h.check('maybe');
    h.flag('maintenance', 'yes');
    h.flag('handover.VI_1', 'on');
    writeFileSync(join(h.stateDir, 'vrrp', 'VI_1.splitbrain'), '-3\n');
    h.ip(null);
    const { prom, values } = h.run();
    expect(promtool(['check', 'metrics'], prom).status).toBe(0);
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_transitions_total{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_split_brain_seen_total{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_maintenance{${N()}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(110);
    expect(prom).not.toContain('ha_setup_vip_held');
    expect(prom).not.toContain('ha_setup_check_ok');
  });
});

describe('metrics.sh values: state, VIPs', () => {
  it('master holding its VIPs; a VIP on lo (hand-over hold) is not held', () => {
    const h = host();
    h.vrrp('VI_1', 'MASTER 1700000000 3 110 1700000000123456789');
    h.vrrp('VI_2', 'BACKUP 1700000050 2 100');
    h.check('OK 1700000100');
    h.ip([
      ...IP_BASE,
      ipLine('eth0', '10.0.0.10'),
      ipLine('eth0', '10.0.0.11'),
      ipLine('lo', '10.0.0.20'),
      '2: eth0    inet6 fd00::10/64 scope global nodad \\       valid_lft forever preferred_lft forever',
      '2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever',
    ]);
    const before = Math.floor(Date.now() / 1000);
    const { values } = h.run();
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(2);
    expect(values.get(`ha_setup_vrrp_transitions_total{${L('VI_1')}}`)).toBe(3);
    expect(values.get(`ha_setup_vrrp_last_transition_timestamp_seconds{${L('VI_1')}}`)).toBe(1700000000);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(110);
    expect(values.get(`ha_setup_vip_held{${V('VI_1', '10.0.0.10')}}`)).toBe(1);
    expect(values.get(`ha_setup_vip_held{${V('VI_1', '10.0.0.11')}}`)).toBe(1);
    expect(values.get(`ha_setup_vip_held{${V('VI_2', '10.0.0.20')}}`)).toBe(0);
    // an IPv6 VIP (its twin instance), labelled as `ip addr` prints it
    expect(values.get(`ha_setup_vip_held{${V('VI_1_v6', 'fd00::10')}}`)).toBe(1);
    expect(values.get(`ha_setup_vrrp_state{${L('VI_2')}}`)).toBe(1);
    expect(values.get(`ha_setup_nginx_up{${N()}}`)).toBe(1);
    expect(values.get(`ha_setup_keepalived_up{${N()}}`)).toBe(1);
    expect(values.get(`ha_setup_check_ok{${N()}}`)).toBe(1);
    expect(values.get(`ha_setup_maintenance{${N()}}`)).toBe(0);
    expect(values.get(`ha_setup_metrics_last_run_timestamp_seconds{${N()}}`)).toBeGreaterThanOrEqual(before);
  });

  it('backup: state 1, VIP not held, base priority', () => {
    const h = host();
    h.vrrp('VI_1', 'BACKUP 1700000000 4 100');
    const { values } = h.run();
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(1);
    expect(values.get(`ha_setup_vip_held{${V('VI_1', '10.0.0.10')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(110);
  });

  it('FAULT by maintenance: state 3, priority 0 on every instance, maintenance 1', () => {
    const h = host();
    h.vrrp('VI_1', 'FAULT 1700000000 5 0');
    h.vrrp('VI_2', 'BACKUP 1700000000 5 0');
    h.flag('maintenance', '1');
    const { values } = h.run();
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(3);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_2')}}`)).toBe(0);
    expect(values.get(`ha_setup_maintenance{${N()}}`)).toBe(1);
  });
});

describe('metrics.sh values: priority, missing data, keepalived down, no systemctl', () => {
  it('demoted: base minus the demote weight, by instance or by sync group, never below 1', () => {
    const h = host();
    h.flag('demote.VI_1', '1');
    h.flag('demote.VI_2', '1'); // VI_2 is in G_WEB: its flag is demote.G_WEB
    let v = h.run().values;
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(60);
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_2')}}`)).toBe(100);
    h.flag('demote.G_WEB', '1');
    v = h.run().values;
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_2')}}`)).toBe(70);
    const low = host([{ ...TARGETS[0], basePriority: 30 }]);
    low.flag('demote.VI_1', '1');
    expect(low.run().values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(1);
  });

  it('hand-over: priority 0 for that target only; a flag is on with any number but 0', () => {
    const h = host();
    h.flag('handover.G_WEB', '1');
    h.flag('handover.VI_1', '0');
    let v = h.run().values;
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(110);
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_2')}}`)).toBe(0);
    h.flag('handover.VI_1', '2');
    v = h.run().values;
    expect(v.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(0);
  });

  it('check failing: weight -20 lowers the priority, weight 0 means 0 (FAULT); a positive one counts while OK', () => {
    const h = host();
    h.check('FAIL 1700000100');
    const { values } = h.run();
    expect(values.get(`ha_setup_check_ok{${N()}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(90);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_2')}}`)).toBe(0);
    const plus = host([{ ...TARGETS[0], checkWeight: 20, basePriority: 240 }]);
    expect(plus.run().values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(254);
    plus.check('FAIL 1700000100');
    expect(plus.run().values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(240);
  });

  it('missing state files: the state as the node shows it, 0 transitions, time 0, no check_ok', () => {
    const h = host();
    const { prom, values } = h.run();
    // no transition seen since the hook was installed (init reloads keepalived, which calls no hook): keepalived
    // runs and the VIP is not here, so a backup
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(1);
    expect(values.get(`ha_setup_vrrp_transitions_total{${L('VI_2')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_last_transition_timestamp_seconds{${L('VI_2')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(110);
    expect(values.get(`ha_setup_split_brain_seen_total{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_maintenance{${N()}}`)).toBe(0);
    expect(prom).not.toContain('ha_setup_check_ok');
    // holding the instance's first VIP: a master; in maintenance, or its weight-0 check failing: FAULT
    h.ip([...IP_BASE, ipLine('eth0', '10.0.0.10')]);
    expect(h.run().values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(2);
    h.check('FAIL 1700000100');
    expect(h.run().values.get(`ha_setup_vrrp_state{${L('VI_2')}}`)).toBe(3);
    h.flag('maintenance', '1');
    expect(h.run().values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(3);
  });

  it('keepalived not running: the last state written no longer counts (0, priority 0); nginx down', () => {
    const h = host();
    h.vrrp('VI_1', 'MASTER 1700000000 3 110');
    h.active();
    const { values } = h.run();
    expect(values.get(`ha_setup_keepalived_up{${N()}}`)).toBe(0);
    expect(values.get(`ha_setup_nginx_up{${N()}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_state{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_priority_effective{${L('VI_1')}}`)).toBe(0);
    expect(values.get(`ha_setup_vrrp_transitions_total{${L('VI_1')}}`)).toBe(3);
  });

  it('split-brain counter from INSTANCE.splitbrain', () => {
    const h = host();
    writeFileSync(join(h.stateDir, 'vrrp', 'VI_2.splitbrain'), '7 1700000000 1700000000\n');
    expect(h.run().values.get(`ha_setup_split_brain_seen_total{${L('VI_2')}}`)).toBe(7);
  });

  it('without systemctl: pidof tells whether nginx and keepalived run', () => {
    const h = host(TARGETS, 'lb02', false);
    h.active('keepalived');
    const { prom, values } = h.run();
    expect(promtool(['check', 'metrics'], prom).status).toBe(0);
    expect(values.get(`ha_setup_nginx_up{${N('lb02')}}`)).toBe(0);
    expect(values.get(`ha_setup_keepalived_up{${N('lb02')}}`)).toBe(1);
  });
});

describe('renderMetricsScript', () => {
  it('renders every path as a variable at the top, quoted', () => {
    const s = renderMetricsScript({ node: 'lb01', targets: TARGETS });
    expect(s).toMatch(/^TEXTFILE_DIR='\/var\/lib\/prometheus\/node-exporter'$/m);
    expect(s).toMatch(/^STATE_DIR='\/run\/ha-setup'$/m);
    expect(s).toMatch(/^FLAG_DIR='\/var\/lib\/ha-setup\/state'$/m);
    expect(s).toMatch(/^PATH='\/usr\/sbin:\/usr\/bin:\/sbin:\/bin'$/m);
    expect(s.split('\n').every((l) => l.length <= 120)).toBe(true);
  });

  it('refuses names, VIPs, paths and numbers that are not safe to render', () => {
    const bad: [string, () => string][] = [
      ['node', () => renderMetricsScript({ node: 'lb"01', targets: [] })],
      ['instance', () => renderMetricsScript({ node: 'lb01', targets: [{ ...TARGETS[0], instance: "V'1" }] })],
      ['group', () => renderMetricsScript({ node: 'lb01', targets: [{ ...TARGETS[1], group: 'G WEB' }] })],
      [
        'vip',
        () =>
          renderMetricsScript({ node: 'lb01', targets: [{ ...TARGETS[0], vips: [{ address: '1.2.3', dev: 'e' }] }] }),
      ],
      [
        'dev',
        () =>
          renderMetricsScript({
            node: 'lb01',
            targets: [{ ...TARGETS[0], vips: [{ address: '1.2.3.4', dev: 'a b' }] }],
          }),
      ],
      ['path', () => renderMetricsScript({ node: 'lb01', targets: [], textfileDir: 'relative' })],
      ['dotdot', () => renderMetricsScript({ node: 'lb01', targets: [], stateDir: '/run/../etc' })],
      ['priority', () => renderMetricsScript({ node: 'lb01', targets: [{ ...TARGETS[0], basePriority: 300 }] })],
      ['twice', () => renderMetricsScript({ node: 'lb01', targets: [TARGETS[0], TARGETS[0]] })],
    ];
    for (const [what, f] of bad) expect(f, what).toThrow(/metrics:/);
  });

  it('escapes label values (backslash, double quote, newline)', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('metricsTargetsOf: instances, sync group, priority, VIPs with their dev, check weight', () => {
    const cfg = resolveAnswers(syncGroup, { env: {} });
    const node = cfg.nodes[1];
    const t = metricsTargetsOf(cfg, node, 25);
    expect(t.map((x) => x.instance)).toEqual(cfg.instances.map((i) => i.name));
    for (const x of t) {
      const inst = cfg.instances.find((i) => i.name === x.instance)!;
      expect(x.group).toBe(cfg.syncGroups[0].name);
      expect(x.basePriority).toBe(inst.priorities[node.name]);
      expect(x.checkWeight).toBe(inst.trackWeight);
      expect(x.demoteWeight).toBe(25);
      expect(x.vips).toEqual(inst.vips.map((v) => ({ address: v.address, dev: v.dev ?? node.interface })));
    }
    expect(() => renderMetricsScript({ node: node.name, targets: t })).not.toThrow();
    const per = metricsTargetsOf(cfg, node, (instance, group) => (instance === 'VI_2' && group === 'G_WEB' ? 7 : 3));
    expect(per.map((x) => x.demoteWeight)).toEqual([3, 7]);
  });
});
