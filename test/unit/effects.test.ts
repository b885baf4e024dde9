/**
 * What each change makes true on a host (steps/effects.ts): the plan is built step by step on these simulated
 * facts, so a later step sees what an earlier one leaves behind, and what cannot be known before the run (what a
 * package install writes, whether its service starts) is 'unknown'.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { buildPlan } from '../../src/plan/build.js';
import { describeAction } from '../../src/plan/describe.js';
import { actionsOf } from '../../src/plan/types.js';
import { PATHS } from '../../src/paths.js';
import { currentContent, fileChange } from '../../src/steps/context.js';
import { afterChange, deepMerge } from '../../src/steps/effects.js';
import type { Change } from '../../src/steps/types.js';
import { pair } from '../fixtures/answers.js';
import { allFresh } from '../fixtures/facts.js';

const cfg = resolveAnswers(pair, { env: {} });
const base = (family: 'debian' | 'rhel' = 'debian'): Record<string, InitFacts> => allFresh(cfg, family);

/** afterChange must not touch its input: the facts as read stay in the plan (NodePlan.facts) */
function after(f: InitFacts, c: Change, all: Record<string, InitFacts> = { lb02: f }): InitFacts {
  const before = structuredClone(f);
  const out = afterChange(f, c, all);
  expect(f).toEqual(before);
  return out;
}

describe('deepMerge', () => {
  it('objects key by key, arrays and plain values replaced, the base left as it was', () => {
    const b = { a: { b: 1, c: [1, 2] }, d: 1, s: 'x' };
    const out = deepMerge(b, { a: { c: [3] }, e: 2, s: 'y' });
    expect(out).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2, s: 'y' });
    expect(b).toEqual({ a: { b: 1, c: [1, 2] }, d: 1, s: 'x' });
    expect(out.a).not.toBe(b.a);
  });
  it('undefined keeps the base; null and a value replace an object', () => {
    expect(deepMerge({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
    expect(deepMerge({ a: { b: 1 } }, { a: 'flat' })).toEqual({ a: 'flat' });
    expect(deepMerge({ a: { b: 1 } }, { a: { b: undefined } })).toEqual({ a: { b: 1 } });
  });
});

describe('afterChange: one change kind at a time', () => {
  it('file: exists with the content and mode written; remove-file: gone', () => {
    const f = base().lb02;
    const w = after(f, { kind: 'file', path: PATHS.members, content: '{}\n', mode: '644', before: null });
    expect(w.files[PATHS.members]).toEqual({ exists: true, content: '{}\n', mode: '644' });
    const r = after(w, { kind: 'remove-file', path: PATHS.members, before: '{}\n' });
    expect(r.files[PATHS.members].exists).toBe(false);
    expect(currentContent(r, PATHS.members)).toBeNull();
    // a later step writing it again creates it
    expect(fileChange({ cfg, node: cfg.nodes[1], facts: r, all: {} }, PATHS.members, '{}\n', '644')).toEqual([
      { kind: 'file', path: PATHS.members, content: '{}\n', mode: '644', before: null },
    ]);
    // nothing else changed
    expect({ ...r, files: f.files }).toEqual(f);
  });

  it('command: what its `sets` says, merged into the facts; without `sets` nothing is assumed', () => {
    const f = base('rhel').lb02;
    const stop: Change = {
      kind: 'command',
      argv: ['systemctl', 'disable', '--now', 'firewalld'],
      describe: 'stop and disable firewalld',
      sets: { firewalld: { active: false, enabled: false }, services: { firewalld: { active: 'inactive' } } },
    };
    const out = after(f, stop);
    expect(out.firewalld).toEqual({ ...f.firewalld, active: false, enabled: false });
    // the rest of the service's fact is kept (deep merge), the other services untouched
    expect(out.services.firewalld).toEqual({ ...f.services.firewalld, active: 'inactive' });
    expect(out.services.nginx).toEqual(f.services.nginx);
    const plain: Change = { kind: 'command', argv: ['true'], describe: 'nothing' };
    expect(afterChange(f, plain, {})).toBe(f);
  });

  it('command: a directory created, an interface flag turned on (nested keys)', () => {
    const f = base().lb02;
    const mk = after(f, {
      kind: 'command',
      argv: ['mkdir', '-p', PATHS.flagDir],
      describe: 'mkdir',
      sets: { dirs: { [PATHS.flagDir]: true } },
    });
    expect(mk.dirs).toEqual({ [PATHS.flagDir]: true });
    f.interfaces.ens33.multicast = false;
    const mc = after(f, {
      kind: 'command',
      argv: ['ip', 'link', 'set', 'dev', 'ens33', 'multicast', 'on'],
      describe: 'multicast on ens33',
      sets: { interfaces: { ens33: { multicast: true } } },
    });
    expect(mc.interfaces.ens33).toEqual({ ...f.interfaces.ens33, multicast: true });
    expect(mc.interfaces.lo).toEqual(f.interfaces.lo);
  });

  it('service: enable / disable set the enablement, start / restart / reload-or-restart / stop the state', () => {
    const f = base().lb02;
    const svc = (name: string, action: Extract<Change, { kind: 'service' }>['action']) =>
      after(f, { kind: 'service', name, action }).services[name];
    expect(svc('keepalived', 'enable')).toEqual({ active: 'inactive', enabled: 'enabled', mainPid: 0 });
    expect(svc('nginx', 'disable')).toEqual({ ...f.services.nginx, enabled: 'disabled' });
    expect(svc('keepalived', 'start').active).toBe('active');
    expect(svc('keepalived', 'restart').active).toBe('active');
    expect(svc('keepalived', 'reload-or-restart').active).toBe('active');
    expect(svc('nginx', 'stop')).toEqual({ ...f.services.nginx, active: 'inactive' });
    // a unit the facts do not know starts from "not found"
    expect(svc('ha-setup-metrics.timer', 'enable')).toEqual({ active: 'inactive', enabled: 'enabled', mainPid: 0 });
    // daemon-reload changes no unit's state
    expect(afterChange(f, { kind: 'service', name: 'systemd', action: 'daemon-reload' }, {})).toBe(f);
  });

  it('verify: nothing changes', () => {
    const f = base().lb02;
    expect(afterChange(f, { kind: 'verify', describe: 'x', argv: ['true'] }, {})).toBe(f);
  });

  it("nginx-sync: the source's tree and its files under the configuration directory, nothing else", () => {
    const all = base();
    const src = all.lb01;
    src.files['/etc/nginx/conf.d/site.conf'] = { exists: true, content: 'server {}\n', mode: '644' };
    src.files[PATHS.keepalivedConf] = { exists: true, content: 'lb01 only\n', mode: '600' };
    const f = all.lb02;
    const out = after(
      f,
      { kind: 'nginx-sync', from: 'lb01', configDir: '/etc/nginx', added: [], changed: [], removed: [] },
      all,
    );
    expect(out.nginxtree).toEqual(src.nginxtree);
    expect(out.files['/etc/nginx/conf.d/site.conf']).toEqual(src.files['/etc/nginx/conf.d/site.conf']);
    expect(out.files[PATHS.keepalivedConf]).toBeUndefined();
    // a copy: later changes to one node's simulated facts do not leak into the other's
    out.nginxtree!['nginx.conf'] = 'changed';
    expect(src.nginxtree!['nginx.conf']).toBe('a'.repeat(64));
  });
});

describe('afterChange: a package install leaves what it writes unknown', () => {
  function withListedFiles(f: InitFacts): InitFacts {
    // the files fact lists every path it was asked for, missing ones included (as a real gather does)
    for (const p of [PATHS.keepalivedConf, '/etc/default/keepalived', PATHS.members, '/etc/nginx/conf.d/x.conf'])
      f.files[p] ??= { exists: false };
    f.files['/etc/nginx/conf.d/x.conf'] = { exists: true, content: 'x', mode: '644' };
    return f;
  }

  it('keepalived: the version the plan rendered for, not running, its configuration files unknown', () => {
    const f = withListedFiles(base().lb02);
    const out = after(f, { kind: 'package', manager: 'apt', names: ['keepalived'], expectVersion: '2.2.7' });
    expect(out.packages.keepalived).toBe('2.2.7');
    expect(out.kaversion).toBe('2.2.7');
    // a fresh keepalived does not start (Debian's unit needs a configuration; RHEL's is not enabled)
    expect(out.services.keepalived).toEqual({ active: 'inactive', enabled: 'unknown', mainPid: 0 });
    expect(out.files[PATHS.keepalivedConf]).toEqual({ exists: 'unknown' });
    expect(out.files['/etc/default/keepalived']).toEqual({ exists: 'unknown' });
    // not the package's: as they were
    expect(out.files[PATHS.members]).toEqual({ exists: false });
    expect(out.files['/etc/nginx/conf.d/x.conf']).toEqual(f.files['/etc/nginx/conf.d/x.conf']);
    expect(out.nginxtree).toEqual(f.nginxtree);
  });

  it('a keepalived upgrade from the repositories: the new full version installed, nothing newer left', () => {
    const f = base().lb02;
    f.packages.keepalived = '1:2.2.7-1+b2';
    f.kaupgrade = { full: '1:2.3.1-1', version: '2.3.1' };
    const out = after(f, {
      kind: 'package',
      manager: 'apt',
      names: ['keepalived'],
      expectVersion: '2.3.1',
      upgrade: { from: '1:2.2.7-1+b2', to: '1:2.3.1-1' },
    });
    expect(out.packages.keepalived).toBe('1:2.3.1-1');
    expect(out.kaversion).toBe('2.3.1');
    expect(out.kaupgrade).toBeNull();
    // the package keeps its configuration files and restarts a running keepalived on them: a new configuration
    // still needs its reload (the service is as it was, not "fresh install, stopped")
    expect(out.services.keepalived).toEqual(f.services.keepalived);
    expect(out.files).toEqual(f.files);
    // rpm's version as the packages fact reads it (no epoch)
    const rpm = after(f, {
      kind: 'package',
      manager: 'dnf',
      names: ['keepalived'],
      expectVersion: '2.3.1',
      upgrade: { from: '2.2.7-1.el9', to: '2:2.3.1-1.el9' },
    });
    expect(rpm.packages.keepalived).toBe('2.3.1-1.el9');
  });

  it("keepalived without an expected version: the repository's candidate", () => {
    const f = base('rhel').lb02;
    const out = after(f, { kind: 'package', manager: 'yum', names: ['keepalived'] });
    expect(out.kaversion).toBe(f.kacandidate);
    expect(out.kaversion).toBe('1.3.5');
  });

  it('nginx: installed, may run or not, every file of its directory and its tree unknown', () => {
    const f = withListedFiles(base().lb02);
    f.packages.nginx = null;
    const out = after(f, { kind: 'package', manager: 'apt', names: ['nginx'] });
    expect(out.packages.nginx).toBe('planned');
    expect(out.services.nginx).toEqual({ active: 'unknown', enabled: 'unknown', mainPid: 0 });
    expect(out.files['/etc/nginx/conf.d/x.conf']).toEqual({ exists: 'unknown' });
    expect(out.files[PATHS.keepalivedConf]).toEqual({ exists: false });
    expect(out.nginxtree).toBeNull();
  });

  it('package-file: the same, with the version of the file', () => {
    const f = withListedFiles(base('rhel').lb02);
    const out = after(f, {
      kind: 'package-file',
      manager: 'yum',
      name: 'keepalived',
      localPath: '/tmp/keepalived-2.2.8-1.el7.x86_64.rpm',
      file: 'keepalived-2.2.8-1.el7.x86_64.rpm',
      expectVersion: '2.2.8',
    });
    expect([out.packages.keepalived, out.kaversion]).toEqual(['2.2.8', '2.2.8']);
    expect(out.files[PATHS.keepalivedConf]).toEqual({ exists: 'unknown' });
  });

  it('the later steps plan for either case: write (not create) what the package may have written, start it', () => {
    const all = base();
    for (const f of Object.values(all)) withListedFiles(f);
    const { nodes, refusals } = buildPlan({ cfg, facts: all, skipNetworkChecks: true });
    expect(refusals).toEqual([]);
    const lines = actionsOf(nodes[1]).map(describeAction);
    expect(lines).toContain('install keepalived with apt-get (2.2.7)');
    expect(lines).toContain(`write ${PATHS.keepalivedConf} (mode 600), validated with keepalived -t`);
    expect(lines).toContain('write /etc/default/keepalived (mode 644)');
    expect(lines).toContain('systemctl start keepalived');
    // what the package may have written is not diffed against a guess
    const conf = actionsOf(nodes[1]).find((a) => a.kind === 'file' && a.path === PATHS.keepalivedConf);
    expect(conf).toMatchObject({ before: 'unknown' });
  });
});
