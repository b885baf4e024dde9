/**
 * The per-node preconditions on facts: a VIP that is already an address of a node is only acceptable when the
 * running keepalived manages it, whether ha-setup's keepalived.conf names it or (a pair built by hand) a file it
 * includes does, as the running keepalived's own state dump says (the kavips fact).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { gatherArgs, gatherScript, initVars, parseGathered } from '../../src/facts/gather.js';
import { heardByKeepalived, preflight, vridsAdvertised } from '../../src/plan/preflight.js';
import { activeActive } from '../fixtures/answers.js';
import { addAddress, allFresh, converge, fresh } from '../fixtures/facts.js';

const cfg = resolveAnswers(activeActive, { env: {} });
const node = cfg.nodes[1];
const vip2 = cfg.instances[1].vips[0].address;

function holding(over: { kaActive: boolean; kavips: string[] }) {
  const f = fresh(cfg, node);
  addAddress(f.interfaces[node.interface], `${vip2}/24`);
  f.services.keepalived = { active: over.kaActive ? 'active' : 'inactive', enabled: 'enabled', mainPid: 9 };
  f.kavips = over.kavips;
  return f;
}
const refusals = (f: ReturnType<typeof holding>) =>
  preflight(cfg, node, f, new Set()).filter((l) => l.includes('not managed by keepalived'));

describe('a VIP already on a node', () => {
  it('held by the running keepalived from an included file (no mention in keepalived.conf): accepted', () => {
    expect(refusals(holding({ kaActive: true, kavips: [vip2] }))).toEqual([]);
  });
  it('an address keepalived does not manage, or keepalived not running: refused, naming the VIP', () => {
    const why =
      `${node.name} (${node.host}): VIP ${vip2} (VI_2) is already an address of ${node.interface} ` + 'and not managed';
    expect(refusals(holding({ kaActive: true, kavips: [] }))[0]).toMatch(why);
    expect(refusals(holding({ kaActive: false, kavips: [vip2] }))[0]).toMatch(why);
  });
});

describe('listening for other VRRP routers is needed only when the run adds a virtual router id', () => {
  it('fresh hosts: needed; a converged pair (keepalived running with every id): not; a new instance: needed', () => {
    expect(vridsAdvertised(cfg, allFresh(cfg))).toBe(false);
    const done = converge(cfg, allFresh(cfg));
    expect(vridsAdvertised(cfg, done)).toBe(true);
    const more = resolveAnswers(
      {
        ...activeActive,
        instances: [
          ...activeActive.instances,
          { name: 'VI_3', virtualRouterId: 77, vips: ['172.16.70.190/24'], master: 'lb01' },
        ],
      },
      { env: {} },
    );
    expect(vridsAdvertised(more, done)).toBe(false);
    // an instance moved to another interface (another segment), or unicast turned off (multicast from now on)
    const moved = resolveAnswers(
      { ...activeActive, nodes: activeActive.nodes.map((n) => ({ ...n, interface: 'eth9' })) },
      { env: {} },
    );
    expect(vridsAdvertised(moved, done)).toBe(false);
    const uni = resolveAnswers(
      { ...activeActive, instances: activeActive.instances.map((i) => ({ ...i, unicast: true })) },
      { env: {} },
    );
    expect(vridsAdvertised(uni, done)).toBe(false);
    // keepalived stopped on one node: its ids are not on the segment now
    done.lb02.services.keepalived = { ...done.lb02.services.keepalived, active: 'inactive' };
    expect(vridsAdvertised(cfg, done)).toBe(false);
  });
});

describe('another VRRP router as the running keepalived heard it (every run, listening or not)', () => {
  it("an advert accepted from an address not a node's: a refusal; a refused packet (no source): a warning", () => {
    const f = converge(cfg, allFresh(cfg));
    const nodeIp = f.lb02.interfaces.ens33.addresses[0].split('/')[0];
    f.lb01.vrrpseen = [
      {
        src: nodeIp,
        line: `lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (100) advert from ${nodeIp}`,
        trusted: true,
      },
    ];
    expect(heardByKeepalived(cfg, f, Object.values(f))).toEqual({ refusals: [], warnings: [] });
    f.lb02.vrrpseen = [
      {
        src: '172.16.70.199',
        line: 'lb02 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from x',
        trusted: true,
      },
    ];
    f.lb01.vrrpseen.push({
      src: null,
      line: 'lb01 Keepalived_vrrp[9]: (VI_2) received an invalid passwd!',
      trusted: true,
    });
    expect(heardByKeepalived(cfg, f, Object.values(f))).toEqual({
      refusals: [
        "lb02 (172.16.70.182): another VRRP router on the pair's virtual router ids (172.16.70.199) takes part in " +
          'its elections, as keepalived there heard it in the last 30 s: lb02 Keepalived_vrrp[9]: (VI_1) received ' +
          'lower priority (90) advert from x; two clusters with one id on a segment both flap: give one of them ' +
          'another id',
      ],
      warnings: [
        "lb01: keepalived refused VRRP packets on the pair's ids in the last 30 s (lb01 Keepalived_vrrp[9]: (VI_2) " +
          'received an invalid passwd!): another router with other settings, or a node of the pair still on ' +
          'different ones; `ha-setup status` listens for other routers',
      ],
    });
  });
  it("a log file's line (anyone's logger can write it) only warns, whatever it names", () => {
    const f = converge(cfg, allFresh(cfg));
    const forged = 'lb01 Keepalived_vrrp[9]: (VI_1) received lower priority (90) advert from 10.9.9.9';
    f.lb01.vrrpseen = [{ src: '10.9.9.9', line: forged, trusted: false }];
    const r = heardByKeepalived(cfg, f, Object.values(f));
    expect(r.refusals).toEqual([]);
    expect(r.warnings).toEqual([
      "lb01: keepalived's log file names another VRRP router on the pair's ids (10.9.9.9) in the last 30 s " +
        `(${forged}); its lines are not in the journal, so this proves nothing (any local user can write that file ` +
        'through syslog): `ha-setup status` listens for other routers',
    ]);
  });
  it("the listening is skipped only with ha-setup's keepalived.conf (its log file is where keepalived logs)", () => {
    const done = converge(cfg, allFresh(cfg));
    const path = '/etc/keepalived/keepalived.conf';
    done.lb01.files[path] = {
      ...done.lb01.files[path],
      content: done.lb01.files[path].content!.replace(/^! Managed by ha-setup/, '! by hand'),
    } as never;
    expect(vridsAdvertised(cfg, done)).toBe(false);
  });
});

describe('notify.script: run as root by the notify hook, so only root may be able to change it', () => {
  const withScript = resolveAnswers(
    { ...activeActive, notify: { email: [], script: '/usr/local/bin/on-vrrp' } },
    { env: {} },
  );
  const script = (notifyscript: ReturnType<typeof fresh>['notifyscript']) => {
    const f = fresh(withScript, node);
    f.notifyscript = notifyscript;
    return preflight(withScript, node, f, new Set()).filter((l) => l.includes('notify.script'));
  };

  it('refused before anything changes: one line naming the file and why', () => {
    expect(
      script({ ok: false, why: 'its directory /usr/local/bin is writable by group or others (mode 775)' }),
    ).toEqual([
      `${node.name} (${node.host}): notify.script /usr/local/bin/on-vrrp: its directory /usr/local/bin is ` +
        'writable by group or others (mode 775); the notify hook runs it as root only when nobody but root can ' +
        'change it or a directory above it (what keepalived checks with enable_script_security)',
    ]);
    expect(script({ ok: false, why: 'it does not exist' })[0]).toContain('on-vrrp: it does not exist;');
  });

  it('a safe script, no script, or nothing read (offline): no refusal', () => {
    expect(script({ ok: true, path: '/usr/local/bin/on-vrrp' })).toEqual([]);
    expect(script(null)).toEqual([]);
    const f = fresh(cfg, node);
    f.notifyscript = { ok: false, why: 'it does not exist' };
    expect(preflight(cfg, node, f, new Set()).filter((l) => l.includes('notify.script'))).toEqual([]);
  });

  it('init reads it (the notifyscript fact, $NOTIFY_SCRIPT): what a real sh says of a script under /tmp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-notify-'));
    const s = join(dir, 'on-vrrp');
    writeFileSync(s, '#!/bin/sh\n', { mode: 0o755 });
    try {
      expect(initVars(withScript, node).NOTIFY_SCRIPT).toBe('/usr/local/bin/on-vrrp');
      const r = spawnSync('sh', ['-c', gatherScript(['notifyscript']), 'sh', ...gatherArgs({ NOTIFY_SCRIPT: s })], {
        encoding: 'utf8',
      });
      expect(parseGathered(['notifyscript'], r.stdout).notifyscript).toEqual({
        ok: false,
        why: 'its directory /tmp is writable by group or others (mode 1777)',
      });
      expect(
        parseGathered(
          ['notifyscript'],
          spawnSync('sh', ['-c', gatherScript(['notifyscript'])], { encoding: 'utf8' }).stdout,
        ).notifyscript,
      ).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
