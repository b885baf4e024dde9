/**
 * Every rendered keepalived.conf goes through the real `keepalived -t -f` (interfaces created in a private
 * network namespace, scripts at their real paths with safe permissions). String checks come on top.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Config, type ResolvedNode } from '../../src/answers/resolve.js';
import { vrrpInstancesOf } from '../../src/answers/targets.js';
import { PATHS } from '../../src/paths.js';
import {
  DEFAULT_RENDER_PATHS,
  renderCheckScript,
  renderKeepalivedConf,
  renderRsyslogRule,
  renderLogrotate,
  renderKeepalivedDropin,
  renderNginxDropin,
  setOptionsVariable,
  vipsOfNode,
} from '../../src/render.js';
import { renderNotifyScript } from '../../src/metrics/notify.js';
import {
  activeActive,
  clone,
  delayed,
  fast,
  guides,
  nopreempt,
  pair,
  syncGroup,
  unicast,
  variants,
} from '../fixtures/answers.js';
import { keepalivedCheck } from '../helpers/keepalived-check.js';

function scripts(cfg: Config, node: ResolvedNode = cfg.nodes[0]): Record<string, string> {
  return { [PATHS.checkScript]: renderCheckScript(cfg), [PATHS.notifyScript]: renderNotifyScript(cfg, node) };
}

describe('keepalived.conf passes the real keepalived -t for every variant and node', () => {
  for (const [name, answers] of Object.entries(variants)) {
    const cfg = resolveAnswers(answers, { env: {} });
    for (const node of cfg.nodes) {
      it(`${name} on ${node.name}`, () => {
        const conf = renderKeepalivedConf(cfg, node);
        const ifaces = [...new Set([node.interface, ...vrrpInstancesOf(cfg, node).map((v) => v.iface)])];
        const r = keepalivedCheck(conf, ifaces, scripts(cfg, node));
        expect(r.output).not.toMatch(/WARNING|Unknown keyword|invalid|ignoring/i);
        expect(r.code, r.output).toBe(0);
      });
    }
  }

  it("include: the operator's snippets are read and checked together with the main file", () => {
    const cfg = resolveAnswers(syncGroup, { env: {} });
    const conf = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(conf).toMatch(/\ninclude \/etc\/keepalived\/conf\.d\/\*\.conf\n/);
    const good = keepalivedCheck(conf, ['ens33'], {
      ...scripts(cfg),
      '/etc/keepalived/conf.d/extra.conf': 'vrrp_script chk_extra {\n    script "/bin/true"\n    interval 5\n}\n',
    });
    expect(good.code, good.output).toBe(0);
    const bad = keepalivedCheck(conf, ['ens33'], {
      ...scripts(cfg),
      '/etc/keepalived/conf.d/extra.conf': 'vrrp_script chk_extra {\n    scrip "/bin/true"\n}\n',
    });
    expect(bad.code, bad.output).not.toBe(0);
    expect(bad.output).toMatch(/Unknown keyword 'scrip'|scrip/);
  });

  it('the checker is real: a missing interface fails', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const r = keepalivedCheck(renderKeepalivedConf(cfg, cfg.nodes[0]), ['eth9'], scripts(cfg));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/interface ens33 .* doesn't exist/);
  });

  it('the checker is real: the guides\' "vrrp_garp_interval 0" is rejected by current keepalived', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const conf = renderKeepalivedConf(cfg, cfg.nodes[0]).replace(
      '    enable_script_security\n',
      '    enable_script_security\n    vrrp_garp_interval 0\n',
    );
    const r = keepalivedCheck(conf, ['ens33'], scripts(cfg));
    expect(r.code).not.toBe(0);
  });

  it('the checker is real: a missing check script fails', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const r = keepalivedCheck(renderKeepalivedConf(cfg, cfg.nodes[0]), ['ens33'], {});
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/chk_nginx since not found/);
  });

  it('the checker is real: a check script in a world-writable directory is refused (script security)', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const r = keepalivedCheck(renderKeepalivedConf(cfg, cfg.nodes[0]), ['ens33'], scripts(cfg), {
      [PATHS.scriptDir]: '777',
    });
    expect(r.code, r.output).not.toBe(0);
  });
});

/** the trimmed lines of the first `header {` block at or after `from`, up to its closing brace */
function block(conf: string, header: string, from = 0): string[] {
  const start = conf.indexOf(`${header} {\n`, from);
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of conf.slice(start + header.length + 3).split('\n')) {
    if (l.trim() === '}') break;
    out.push(l.trim());
  }
  return out;
}

/** each vrrp_instance's priority in a rendered keepalived.conf */
function priorities(conf: string): Record<string, number> {
  return Object.fromEntries(
    [...conf.matchAll(/vrrp_instance (\S+) \{[^}]*?\n\s+priority (\d+)\n/g)].map((m) => [m[1], Number(m[2])]),
  );
}

describe('keepalived.conf content', () => {
  it('pair: both start BACKUP, the master wins by priority (110 on lb01, 100 on lb02), auth, VIP, track weight', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const a = renderKeepalivedConf(cfg, cfg.nodes[0]);
    const b = renderKeepalivedConf(cfg, cfg.nodes[1]);
    expect(a).toMatch(/router_id lb01\n/);
    // a restarted node never claims the VIP at start-up: no node starts MASTER
    expect(a).toMatch(/state BACKUP\n\s+interface ens33\n\s+virtual_router_id 51\n\s+priority 110\n\s+advert_int 1\n/);
    expect(b).toMatch(/state BACKUP\n\s+interface ens33\n\s+virtual_router_id 51\n\s+priority 100\n/);
    expect(a + b).not.toContain('state MASTER');
    expect(priorities(a).VI_1).toBeGreaterThan(priorities(b).VI_1);
    expect(a).toContain('auth_pass 1111');
    expect(a).toContain('172.16.70.183/24 dev ens33');
    expect(a).toContain('chk_nginx weight 0');
    const w = resolveAnswers({ ...pair, healthCheck: { mode: 'weight', weight: -20 } }, { env: {} });
    expect(renderKeepalivedConf(w, w.nodes[0])).toContain('chk_nginx weight -20');
    expect(a).toContain('enable_script_security');
    expect(a).not.toContain('vrrp_garp_interval');
    expect(a).not.toContain('vrrp_strict');
    expect(a).not.toContain('&quot;');
  });

  it('active-active: every instance starts BACKUP; VI_2 has the higher priority on lb02, VI_1 on lb01', () => {
    const cfg = resolveAnswers(activeActive, { env: {} });
    const a = renderKeepalivedConf(cfg, cfg.nodes[0]);
    const b = renderKeepalivedConf(cfg, cfg.nodes[1]);
    expect(b).toMatch(/vrrp_instance VI_1 \{\n\s+state BACKUP[\s\S]*priority 100/);
    expect(b).toMatch(/vrrp_instance VI_2 \{\n\s+state BACKUP[\s\S]*virtual_router_id 52\n\s+priority 110/);
    expect(a + b).not.toContain('state MASTER');
    expect(priorities(a)).toEqual({ VI_1: 110, VI_2: 100 });
    expect(priorities(b)).toEqual({ VI_1: 100, VI_2: 110 });
  });

  it('nopreempt: both BACKUP, nopreempt, FAULT-style weight 0', () => {
    const cfg = resolveAnswers(nopreempt, { env: {} });
    for (const n of cfg.nodes) {
      const c = renderKeepalivedConf(cfg, n);
      expect(c).toMatch(/state BACKUP/);
      expect(c).not.toMatch(/state MASTER/);
      expect(c).toContain('nopreempt');
      expect(c).toContain('chk_nginx weight 0');
    }
  });

  it('unicast: src ip and the peer, label kept', () => {
    const cfg = resolveAnswers(unicast, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(c).toMatch(/unicast_src_ip 172\.16\.70\.181\n\s+unicast_peer \{\n\s+172\.16\.70\.182\n\s+\}/);
    expect(c).toContain('172.16.70.183/24 dev ens33 label ens33:1');
  });

  it('fast: VRRPv3, advert 0.1, no authentication, instant nginx signal through a track_file', () => {
    const cfg = resolveAnswers(fast, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(c).toContain('vrrp_version 3');
    expect(c).toContain('advert_int 0.1');
    expect(c).not.toContain('authentication');
    expect(c).toMatch(/track_file nginx_state \{\n\s+file "\/var\/lib\/ha-setup\/nginx.state"\n\s+weight 0\n/);
    expect(c).toMatch(/track_file \{\n\s+nginx_state weight 0\n/);
    expect(c).not.toContain('preempt_delay'); // 0 is no delay
    expect(renderNginxDropin()).toContain(
      "ExecStopPost=-/bin/sh -c 'mkdir -p /var/lib/ha-setup && echo 1 > /var/lib/ha-setup/nginx.state'",
    );
  });

  it('preempt_delay: the master starts BACKUP too (keepalived clears a delay on a MASTER start)', () => {
    const cfg = resolveAnswers(delayed, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(c).toMatch(/state BACKUP\n/);
    expect(c).toContain('preempt_delay 5');
    expect(c).not.toContain('state MASTER');
  });

  it('VRRP in real time only when asked (failover.realtime), on 2.x (vrrp_rt_priority), not on 1.3.5', () => {
    const off = resolveAnswers(pair, { env: {} });
    expect(renderKeepalivedConf(off, off.nodes[0])).not.toContain('vrrp_rt_priority');
    const cfg = resolveAnswers({ ...clone(pair), failover: { realtime: true } }, { env: {} });
    expect(renderKeepalivedConf(cfg, cfg.nodes[0])).toMatch(/\n {4}vrrp_rt_priority 49\n/);
    expect(renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: [] })).not.toContain(
      'vrrp_rt_priority',
    );
  });

  it('for keepalived 1.3.5: no track_file (1.3.5 has none; its block would end the instance early)', () => {
    const cfg = resolveAnswers(fast, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: ['1.3.5'] });
    expect(c).not.toContain('track_file');
    expect(c).toContain('vrrp_version 3');
    expect(c).toMatch(/notify "\/etc\/keepalived\/ha-setup\/notify\.sh"\n}/);
  });

  it('a 2.x node with a 1.x peer in VRRPv3 unicast checksums the old way; not with a 2.x peer or v2', () => {
    const cfg = resolveAnswers({ ...clone(unicast), profile: 'fast' }, { env: {} });
    const mixed = renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '2.2.7', peers: ['1.3.5'] });
    expect(mixed).toMatch(/old_unicast_checksum\n\s+unicast_src_ip 172\.16\.70\.181\n/);
    const r = keepalivedCheck(mixed, ['ens33'], scripts(cfg));
    expect(r.code, r.output).toBe(0);
    const two = renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '2.2.7', peers: ['2.2.7'] });
    expect(two).not.toContain('old_unicast_checksum');
    const old = renderKeepalivedConf(cfg, cfg.nodes[1], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: ['2.2.7'] });
    expect(old).not.toContain('old_unicast_checksum');
    const v2 = resolveAnswers(unicast, { env: {} });
    expect(
      renderKeepalivedConf(v2, v2.nodes[0], DEFAULT_RENDER_PATHS, { self: '2.2.7', peers: ['1.3.5'] }),
    ).not.toContain('old_unicast_checksum');
  });

  it("state flags on 2.x: a track_file per flag on /var/lib/ha-setup/state, listed in every instance's block", () => {
    const cfg = resolveAnswers(activeActive, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0]);
    // maintenance and handover put instances in FAULT (weight 0); a demotion drops below every other node (110-100+1)
    expect(block(c, 'track_file ha_maintenance')).toEqual(['file "/var/lib/ha-setup/state/maintenance"', 'weight 0']);
    for (const t of ['VI_1', 'VI_2']) {
      expect(block(c, `track_file ha_handover_${t}`)).toEqual([
        `file "/var/lib/ha-setup/state/handover.${t}"`,
        'weight 0',
      ]);
      expect(block(c, `track_file ha_demote_${t}`)).toEqual([
        `file "/var/lib/ha-setup/state/demote.${t}"`,
        'weight -11',
      ]);
      expect(block(c, 'track_file', c.indexOf(`vrrp_instance ${t} {`))).toEqual([
        'ha_maintenance weight 0',
        `ha_handover_${t} weight 0`,
        `ha_demote_${t} weight -11`,
      ]);
    }
    // 2.x tracks the files: no flag script
    expect(c).not.toContain(PATHS.flagScript);
  });

  it('state flags on 1.x: a vrrp_script per flag running flag.sh NAME, listed in track_script', () => {
    const cfg = resolveAnswers(activeActive, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[1], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: ['1.3.5'] });
    expect(c).not.toContain('track_file');
    const every = ['interval 1', 'timeout 2', 'fall 1', 'rise 1'];
    expect(block(c, 'vrrp_script ha_maintenance')).toEqual([
      `script "${PATHS.flagScript} maintenance"`,
      ...every,
      'weight 0',
    ]);
    expect(block(c, 'vrrp_script ha_demote_VI_2')).toEqual([
      `script "${PATHS.flagScript} demote.VI_2"`,
      ...every,
      'weight -11',
    ]);
    expect(block(c, 'track_script', c.indexOf('vrrp_instance VI_2 {'))).toEqual([
      'chk_nginx weight 0',
      'ha_maintenance weight 0',
      'ha_handover_VI_2 weight 0',
      'ha_demote_VI_2 weight -11',
    ]);
  });

  it('sync groups: one handover and demote flag for the group, tracked by every member with group weights', () => {
    const cfg = resolveAnswers(syncGroup, { env: {} });
    const two = renderKeepalivedConf(cfg, cfg.nodes[0]);
    for (const i of ['VI_1', 'VI_2'])
      expect(block(two, 'track_file', two.indexOf(`vrrp_instance ${i} {`))).toEqual([
        'ha_maintenance weight 0',
        'ha_handover_G_WEB weight 0',
        'ha_demote_G_WEB weight -11',
      ]);
    expect(two).not.toMatch(/ha_(handover|demote)_VI_/);
    expect(two).toMatch(/vrrp_sync_group G_WEB \{[\s\S]*\n\s+sync_group_tracking_weight\n\}/);
    const one = renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: ['1.3.5'] });
    expect(one).toMatch(/vrrp_sync_group G_WEB \{[\s\S]*\n\s+global_tracking\n\}/);
    expect(one).not.toContain('sync_group_tracking_weight');
  });

  it('guides: restart-then-stop script, notify e-mail and script', () => {
    const cfg = resolveAnswers(guides, { env: {} });
    const c = renderKeepalivedConf(cfg, cfg.nodes[0]);
    expect(c).toMatch(/notification_email \{\n\s+ops@example\.com\n\s+\}/);
    // the guides' script may take 3 s (a restart, 1 s, a second check); keepalived gives it 2 s more
    expect(c).toMatch(/interval 2\n\s+timeout 5\n\s+fall 3\n\s+rise 2\n\s+weight 0/);
    const s = renderCheckScript(cfg);
    expect(s).toContain('systemctl restart nginx');
    expect(s).toContain('systemctl stop keepalived');
    const notify = renderNotifyScript(cfg, cfg.nodes[0]);
    expect(notify).toContain("OPERATOR_SCRIPT='/usr/local/bin/on-vrrp'");
    // run by its checked, resolved path (file_check: nobody but root can change it)
    expect(notify).toContain('op=$(file_check "$OPERATOR_SCRIPT")');
    expect(notify).toContain('exec "${op#ok }" "$@"');
  });
});

describe('other rendered files', () => {
  const cfg = resolveAnswers(pair, { env: {} });
  it('rsyslog rule and logrotate follow logging.*', () => {
    expect(renderRsyslogRule(cfg)).toMatch(/^local4\.\*\s+\/var\/log\/keepalived\.log\n& stop\n/m);
    expect(renderLogrotate(cfg)).toMatch(/^\/var\/log\/keepalived\.log \{/m);
  });
  it('health-check script quotes the URL and checks the process', () => {
    const s = renderCheckScript(cfg);
    expect(s).toContain("'http://127.0.0.1/'");
    expect(s).toContain('pgrep -x nginx');
  });
  it("the check's limit is nginx's answer (curl); keepalived gives the whole script 2 s more (busy host)", () => {
    for (const [timeout, script] of [
      [undefined, 3],
      [4, 6],
    ] as const) {
      const c = resolveAnswers({ ...pair, healthCheck: { ...pair.healthCheck, timeout } }, { env: {} });
      expect(c.healthCheck.timeout).toBe(script - 2);
      expect(renderCheckScript(c)).toContain(`--max-time ${script - 2} 'http://127.0.0.1/'`);
      expect(renderCheckScript(c)).toMatch(new RegExp(`^# healthCheck\\.timeout: ${script - 2} s for nginx`, 'm'));
      expect(renderKeepalivedConf(c, c.nodes[0])).toMatch(
        new RegExp(`vrrp_script chk_nginx \\{[^}]*\\n\\s+timeout ${script}\\n`),
      );
    }
  });
  it('keepalived drop-in: multicast on before start, restart on crash when asked', () => {
    expect(renderKeepalivedDropin(['ens33'], true, true)).toMatch(
      /ExecStartPre=-\/bin\/sh -c 'exec ip link set dev ens33 multicast on'[\s\S]*Restart=on-failure\nRestartSec=1/,
    );
    expect(renderKeepalivedDropin(['ens33'], false, false)).not.toMatch(/ExecStartPre|Restart=|ExecStopPost/);
  });
  it("keepalived drop-in: systemd removes the node's VIPs when keepalived dies (no stale VIP after a crash)", () => {
    const cfg = resolveAnswers(
      {
        ...clone(pair),
        instances: [
          {
            name: 'VI_1',
            virtualRouterId: 51,
            vips: ['172.16.70.183/24', { address: '10.1.1.5/24', dev: 'eth1' }, 'fd00:1::5/64'],
            master: 'lb01',
          },
        ],
      },
      { env: {} },
    );
    const d = renderKeepalivedDropin(['ens33', 'eth1'], true, true, vipsOfNode(cfg, cfg.nodes[0]));
    expect(d).toContain(
      "ExecStopPost=-/bin/sh -c 'ip -4 addr del 172.16.70.183/24 dev ens33 2>/dev/null; " +
        "ip -4 addr del 10.1.1.5/24 dev eth1 2>/dev/null; ip -6 addr del fd00:1::5/64 dev ens33 2>/dev/null; exit 0'\n",
    );
    expect(d).toContain(
      "ExecStartPre=-/bin/sh -c 'exec ip link set dev ens33 multicast on'\n" +
        "ExecStartPre=-/bin/sh -c 'exec ip link set dev eth1 multicast on'\n",
    );
    // the unit file is systemd's: no % (a specifier) nor $ (a variable) may reach it
    expect(d).not.toMatch(/[%$]/);
    expect(resolveAnswers(pair, { env: {} }).releaseVipsOnExit).toBe(true);
  });
  it('daemon options: replace the variable, keep every other line', () => {
    const debian =
      '# Options to pass to keepalived\n\n# DAEMON_ARGS are appended to the keepalived command-line\nDAEMON_ARGS=""\n';
    expect(setOptionsVariable(debian, 'DAEMON_ARGS', '-D -S 4', '#')).toBe(
      debian.replace('DAEMON_ARGS=""', 'DAEMON_ARGS="-D -S 4"'),
    );
    expect(setOptionsVariable('KEEPALIVED_OPTIONS="-D"\n', 'KEEPALIVED_OPTIONS', '-D -S 4', '#')).toBe(
      'KEEPALIVED_OPTIONS="-D -S 4"\n',
    );
    expect(setOptionsVariable(null, 'KEEPALIVED_OPTIONS', '-D -S 4', '# h')).toBe(
      '# h\nKEEPALIVED_OPTIONS="-D -S 4"\n',
    );
  });
});
