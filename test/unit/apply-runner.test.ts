/**
 * Applying a plan to hosts without a lab: the runner (apply/runner.ts) on a simulated host (test/helpers/sim-pair.ts)
 * that keeps files, backups and the manifest: backups before the first change, compare-and-swap writes (FactChanged
 * when a file changed since the plan read it), validation of a temp file or in place with the restore path, packages
 * (apt's update-and-retry, the installed version checked), services, the nginx sync through tar channels, the lock;
 * restore.ts putting a host back from the manifest; execute.ts running the parallel then the rolling phase.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveAnswers, type Config } from '../../src/answers/resolve.js';
import { executePlan, type ExecuteEnv } from '../../src/apply/execute.js';
import { appendManifest, readManifest } from '../../src/apply/manifest.js';
import { latestRun, restoreRun } from '../../src/apply/restore.js';
import { staleReason, type LockHolder } from '../../src/apply/lock.js';
import { expectedHash, FactChanged, HostRunner } from '../../src/apply/runner.js';
import { lastLines } from '../../src/printable.js';
import { OperationError, PreconditionError } from '../../src/errors.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { FACTS, factSh } from '../../src/facts/table.js';
import { PATHS } from '../../src/paths.js';
import type { IO } from '../../src/io.js';
import type { Action, NodePlan, PairPlan, PlannedStep } from '../../src/plan/types.js';
import type { Change, FileChange } from '../../src/steps/types.js';
import { pair } from '../fixtures/answers.js';
import { drive, unexpected } from '../helpers/clock.js';
import { LIVE_HOLDER, SimPair } from '../helpers/sim-pair.js';

const RUN = '20260101T120000Z-abcd';
const RUN_DIR = `${PATHS.backupRoot}/${RUN}`;
const CONF = PATHS.keepalivedConf;
const cfgOf = (a: unknown): Config => resolveAnswers(structuredClone(a), { env: {} });

function setup() {
  const cfg = cfgOf(pair);
  const sim = new SimPair(cfg);
  const runner = (n = 'lb01') =>
    new HostRunner(
      sim.conns[n],
      cfg.nodes.find((x) => x.name === n)!,
      RUN,
    );
  return { cfg, sim, runner, h: sim.host('lb01'), conn: sim.conns.lb01 };
}

const file = (over: Partial<FileChange> = {}): FileChange => ({
  kind: 'file',
  path: CONF,
  content: 'new conf\n',
  mode: '600',
  before: null,
  ...over,
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const manifestOf = (sim: SimPair, n = 'lb01') => (sim.host(n).manifests.get(RUN_DIR) ?? []).map((l) => JSON.parse(l));

describe('writing a file', () => {
  it('backs it up once per run (recorded in the manifest), then writes it whole with its mode', async () => {
    const { sim, runner, h, conn } = setup();
    const r = runner();
    await r.writeFile(file());
    const call = conn.calls.at(-1)!;
    expect(call.args).toEqual([
      CONF,
      'file',
      RUN_DIR,
      JSON.stringify({ type: 'file', path: CONF, existed: true }),
      JSON.stringify({ type: 'file', path: CONF, existed: false }),
      '600',
      'install',
      'absent',
    ]);
    expect(call.opts.stdin).toBe('new conf\n');
    expect(h.files.get(CONF)).toEqual({ content: 'new conf\n', mode: '600' });
    // the same path again in this run: compare-and-swap against what the plan read, no second backup
    await r.writeFile(file({ content: 'newer\n', before: 'new conf\n' }));
    expect(conn.calls.at(-1)!.text).not.toContain('cp -a');
    expect(conn.calls.at(-1)!.args[7]).toBe(expectedHash('new conf\n'));
    expect(h.files.get(CONF)!.content).toBe('newer\n');
    expect(manifestOf(sim)).toEqual([{ type: 'file', path: CONF, existed: false }]);
    expect(sim.events).toEqual([`lb01: backup ${CONF}`, `lb01: write ${CONF}`, `lb01: write ${CONF}`]);
  });

  it('a file changed since the plan read it: FactChanged, nothing written, the backup not counted', async () => {
    const { sim, runner, h, conn } = setup();
    h.files.set(CONF, { content: 'edited by hand\n', mode: '644' });
    const r = runner();
    const e = await r.writeFile(file({ before: 'what the plan read\n' })).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(FactChanged);
    expect(e.message).toBe(`lb01: ${CONF} changed since the plan was made: nothing written`);
    expect(h.files.get(CONF)!.content).toBe('edited by hand\n');
    // the next attempt backs it up again (the failed round trip may not have)
    await r.writeFile(file({ before: 'edited by hand\n' }));
    expect(conn.calls.at(-1)!.text).toContain('cp -a "$1" "$3/files$1"');
    expect(sim.events).toEqual([`lb01: backup ${CONF}`, `lb01: write ${CONF}`]);
    // "unknown" (a package may have written it): any content is accepted
    expect(expectedHash('unknown')).toBe('any');
  });

  it('validated as a temp file: installed only when the validator accepts it, the temp removed otherwise', async () => {
    const { sim, runner, h } = setup();
    const validate = ['keepalived', '-t', '-f', '{file}'];
    await runner().writeFile(file({ validate }));
    expect(sim.events).toEqual([
      `lb01: backup ${CONF}`,
      `lb01: stage ${CONF}`,
      'lb01: run keepalived -t -f /etc/keepalived/.ha-setup.tmp.BBBBBB',
      `lb01: install ${CONF}`,
    ]);
    expect(h.files.get(CONF)).toEqual({ content: 'new conf\n', mode: '600' });
    sim.events.length = 0;
    sim.on(/^keepalived -t/, { code: 1, stderr: 'line 3: unknown keyword "vrrp_instanc"\n' });
    const e = await runner()
      .writeFile(file({ validate, content: 'broken\n', before: 'new conf\n' }))
      .then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect(e.message).toBe(
      `lb01: keepalived rejected the new ${CONF} (exit 1): line 3: unknown keyword "vrrp_instanc"`,
    );
    expect(sim.events.slice(-1)).toEqual(['lb01: rm /etc/keepalived/.ha-setup.tmp.BBBBBB']);
    expect(h.files.get(CONF)!.content).toBe('new conf\n');
  });

  it("a validator's output from the host reaches the error with its control characters escaped", async () => {
    const { sim, runner } = setup();
    sim.on(/^keepalived -t/, { code: 1, stderr: 'line 3: \x1b]0;owned\x07\x1b[2Jbad\r\n' });
    const e = await runner()
      .writeFile(file({ validate: ['keepalived', '-t', '-f', '{file}'] }))
      .then(unexpected, (x: Error) => x);
    expect(e.message).toBe(`lb01: keepalived rejected the new ${CONF} (exit 1): line 3: \\x1b]0;owned\\x07\\x1b[2Jbad`);
  });

  it('validated in place (nginx -t reads conf.d): a rejected file is replaced by the previous one again', async () => {
    const { sim, runner, h } = setup();
    const up = `/etc/nginx/${PATHS.nginxUpstream}`;
    h.files.set(up, { content: 'upstream old {}\n', mode: '644' });
    sim.on(/^nginx -t$/, { code: 1, stderr: 'nginx: [emerg] unknown directive "upstrem"\n' });
    const c = file({ path: up, content: 'upstrem x {}\n', before: 'upstream old {}\n' });
    const e = await runner()
      .writeFile({ ...c, validate: ['nginx', '-t'], validateInPlace: true })
      .then(unexpected, (x: Error) => x);
    expect(e.message).toBe(
      `lb01: nginx -t rejected the new ${up} (exit 1); the previous one was put back: ` +
        'nginx: [emerg] unknown directive "upstrem"',
    );
    expect(sim.events).toEqual([`lb01: backup ${up}`, `lb01: write ${up}`, `lb01: restore ${up}`]);
    expect(h.files.get(up)!.content).toBe('upstream old {}\n');
    // and when even putting it back fails, it says so
    sim.on('if [ -e "$1/files$2" ]', { code: 1 });
    const e2 = await runner()
      .writeFile({ ...c, before: 'upstream old {}\n', validate: ['nginx', '-t'], validateInPlace: true })
      .then(unexpected, (x: Error) => x);
    expect(e2.message).toContain('putting the previous one back FAILED (exit 1)');
  });

  it('removing a file: backed up first; when the configuration still needs it, it is put back', async () => {
    const { sim, runner, h } = setup();
    const up = `/etc/nginx/${PATHS.nginxUpstream}`;
    h.files.set(up, { content: 'upstream x {}\n', mode: '644' });
    await runner().removeFile({ kind: 'remove-file', path: up, before: 'upstream x {}\n' });
    expect(h.files.has(up)).toBe(false);
    expect(manifestOf(sim)).toEqual([{ type: 'file', path: up, existed: true }]);
    h.files.set(up, { content: 'upstream x {}\n', mode: '644' });
    sim.on(/^nginx -t$/, { code: 1, stderr: 'host not found in upstream "x"\n' });
    const e = await runner()
      .removeFile({ kind: 'remove-file', path: up, before: 'upstream x {}\n', validate: ['nginx', '-t'] })
      .then(unexpected, (x: Error) => x);
    expect(e.message).toBe(
      `lb01: nginx -t fails without ${up} (exit 1; the configuration still uses it?); it was put back: ` +
        'host not found in upstream "x"',
    );
  });

  it('keepalived -t and nginx -t run only through the check of the binary on the host (checkedArgv)', async () => {
    const { sim, runner, conn } = setup();
    const up = `/etc/nginx/${PATHS.nginxUpstream}`;
    await runner().writeFile(file({ validate: ['keepalived', '-t', '-f', '{file}'] }));
    await runner().writeFile(file({ path: up, validate: ['nginx', '-t'], validateInPlace: true }));
    await runner().removeFile({ kind: 'remove-file', path: up, before: 'new conf\n', validate: ['nginx', '-t'] });
    await drive(runner().syncNginx(sim.conns.lb02, '/etc/nginx'), { stepMs: 5 });
    const validators = conn.calls.filter((c) => c.kind === 'exec' && /^(keepalived|nginx)$/.test(c.args[0]));
    expect(validators.map((c) => [c.text, c.checked])).toEqual([
      ['keepalived -t -f /etc/keepalived/.ha-setup.tmp.BBBBBB', true],
      ['nginx -t', true],
      ['nginx -t', true],
      ['nginx -t', true],
    ]);
    // a binary the check refuses (safe-binaries.test.ts: exit 126, why on stderr): not run, the file not installed
    sim.on(/^keepalived -t/, {
      code: 126,
      stderr:
        'keepalived at /usr/local/sbin/keepalived is writable by group or others (mode 775): not run (ha-setup ' +
        'runs as root only a binary nobody but root can change)\n',
    });
    await expect(
      runner().writeFile(
        file({ content: 'newer\n', before: 'new conf\n', validate: ['keepalived', '-t', '-f', '{file}'] }),
      ),
    ).rejects.toThrow(
      `lb01: keepalived rejected the new ${CONF} (exit 126): keepalived at /usr/local/sbin/keepalived is writable`,
    );
  });

  it('a failing write names the step and the last lines of the output', async () => {
    const { sim, runner } = setup();
    sim.on('cat > "$t"', { code: 1, stderr: 'mktemp: failed\ndisk full\n' });
    await expect(runner().writeFile(file())).rejects.toThrow(
      `lb01: writing ${CONF} failed (exit 1): mktemp: failed | disk full`,
    );
    expect(lastLines('a\n\n  \nb\nc\nd\ne\n', 2)).toBe('d | e');
  });
});

describe('commands, packages, services, checks', () => {
  it('a command runs and is recorded with its undo', async () => {
    const { sim, runner } = setup();
    await runner().command({ kind: 'command', argv: ['sysctl', '--system'], describe: 'apply sysctl', undo: ['true'] });
    expect(manifestOf(sim)).toEqual([{ type: 'command', argv: ['sysctl', '--system'], undo: ['true'] }]);
    sim.on(/^sysctl/, { code: 255, stderr: 'sysctl: permission denied\n' });
    await expect(
      runner().command({ kind: 'command', argv: ['sysctl', '--system'], describe: 'apply sysctl' }),
    ).rejects.toThrow('lb01: apply sysctl failed (exit 255)');
  });

  it('apt: a package the lists do not know: apt-get update, install again; the version checked', async () => {
    const { sim, runner, conn } = setup();
    let tries = 0;
    sim.on(/apt-get install/, () =>
      ++tries === 1 ? { code: 100, stderr: 'E: Unable to locate package keepalived\n' } : undefined,
    );
    await runner().install({ kind: 'package', manager: 'apt', names: ['keepalived'], expectVersion: '2.2.7' });
    const runs = conn.calls.filter((c) => c.kind === 'run').map((c) => c.text);
    expect(runs).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef ' +
        '-o Dpkg::Options::=--force-confold keepalived',
      'DEBIAN_FRONTEND=noninteractive apt-get update -q',
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef ' +
        '-o Dpkg::Options::=--force-confold keepalived',
      // keepalived --version, of a binary nobody but root can change only (ha_bin)
      factSh(FACTS.kaversion),
    ]);
    expect(manifestOf(sim)).toEqual([{ type: 'package', names: ['keepalived'] }]);
  });

  it('packages.upgrade: exactly the version the plan saw, with apt-get, dnf or yum, checked in full', async () => {
    const { runner, conn, sim } = setup();
    // the command fails; or it succeeds and installs nothing (yum: "No packages marked for update", exit 0)
    sim.on(/upgrade -y keepalived-2.2.8/, { code: 1, stderr: 'No match for argument: keepalived-2.2.8-1.el9\n' });
    sim.on(/upgrade -y keepalived-2.2.9/, { stdout: 'No packages marked for update\n' });
    // what the packages fact reads after the upgrade command: the version it installed
    let installed = '';
    sim.on(/apt-get install|upgrade -y/, (c) => {
      const v = /keepalived[=-](.*)$/.exec(c.text)?.[1] ?? '';
      installed = c.text.includes('apt-get') ? v : v.replace(/^\d+:/, '');
      return {};
    });
    sim.on(
      (c) => c.text === FACTS.packages.sh,
      () => ({ stdout: `keepalived ${installed}\n` }),
    );
    const up = (manager: 'apt' | 'dnf' | 'yum', to: string) =>
      runner().install({
        kind: 'package',
        manager,
        names: ['keepalived'],
        expectVersion: '2.2.7',
        upgrade: { from: '1:2.2.7-1+b2', to },
      });
    await up('apt', '1:2.2.7-1+b2+lab1');
    await up('dnf', '2.2.7-2.el9');
    // an epoch: yum 3 reads NAME-EPOCH:VERSION-RELEASE only with the architecture; without it any epoch matches
    await up('yum', '2:2.2.7-2.el9');
    const cmds = conn.calls.map((c) => c.text).filter((t) => /upgrade|apt-get install/.test(t));
    expect(cmds).toEqual([
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef ' +
        '-o Dpkg::Options::=--force-confold keepalived=1:2.2.7-1+b2+lab1',
      'dnf upgrade -y keepalived-2.2.7-2.el9',
      'yum upgrade -y keepalived-2.2.7-2.el9',
    ]);
    expect(manifestOf(sim)).toEqual([
      { type: 'package', names: ['keepalived'] },
      { type: 'package', names: ['keepalived'] },
      { type: 'package', names: ['keepalived'] },
    ]);
    // the two set up first: a failing command, and one that installs nothing
    await expect(up('dnf', '2.2.8-1.el9')).rejects.toThrow(
      'lb01: dnf upgrade keepalived to 2.2.8-1.el9 failed (exit 1)',
    );
    installed = '2.2.7-1.el9';
    await expect(up('yum', '2.2.9-1.el9')).rejects.toThrow(
      'lb01: yum upgrade -y keepalived-2.2.9-1.el9 left keepalived 2.2.7-1.el9 installed, not 2.2.9-1.el9',
    );
  });

  it('another keepalived version installed than the plan rendered for: FactChanged', async () => {
    const { runner, sim } = setup();
    sim.on((c) => c.text === factSh(FACTS.kaversion), { stdout: 'Keepalived v2.3.1 (03/01,2025)\n' });
    const e = await runner()
      .install({ kind: 'package', manager: 'dnf', names: ['keepalived'], expectVersion: '2.2.7' })
      .then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(FactChanged);
    expect(e.message).toBe(
      'lb01: keepalived 2.3.1 was installed where the plan expected 2.2.7 (its configuration was rendered for that ' +
        'version): run init again to plan for what is installed',
    );
  });

  it('apt failing for good, and dnf failing: the error names the packages', async () => {
    const { sim, runner } = setup();
    sim.on(/apt-get install/, { code: 100, stderr: 'E: Sub-process /usr/bin/dpkg returned an error code (1)\n' });
    await expect(runner().install({ kind: 'package', manager: 'apt', names: ['nginx', 'rsync'] })).rejects.toThrow(
      'lb01: apt-get install nginx rsync failed (exit 100): E: Sub-process /usr/bin/dpkg returned',
    );
    sim.on(/^dnf install/, { code: 1, stderr: 'No match for argument: nginx\n' });
    await expect(runner().install({ kind: 'package', manager: 'dnf', names: ['nginx'] })).rejects.toThrow(
      'lb01: dnf install nginx failed (exit 1)',
    );
  });

  it('a package file from the controller: copied over, installed, removed from the host in any case', async () => {
    const { sim, runner, conn } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'pkg-'));
    const local = join(dir, 'keepalived_2.2.7_amd64.deb');
    writeFileSync(local, 'DEB');
    const c = {
      kind: 'package-file' as const,
      manager: 'apt' as const,
      name: 'keepalived',
      localPath: local,
      file: 'keepalived_2.2.7_amd64.deb',
      expectVersion: '2.2.7',
    };
    await runner().installFile(c);
    const texts = conn.calls.map((x) => x.text);
    expect(conn.calls.find((x) => x.text.includes('cat > "$1/$2"'))!.opts.stdin).toEqual(Buffer.from('DEB'));
    expect(texts).toContain(
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef -o ' +
        'Dpkg::Options::=--force-confold /var/lib/ha-setup/packages/keepalived_2.2.7_amd64.deb',
    );
    expect(texts).toContain('rm -f /var/lib/ha-setup/packages/keepalived_2.2.7_amd64.deb');
    sim.on(/^yum install/, { code: 1 });
    await expect(runner().installFile({ ...c, manager: 'yum', file: 'k.rpm' })).rejects.toThrow(
      'lb01: yum install k.rpm failed',
    );
    expect(conn.calls.at(-1)!.text).toBe('rm -f /var/lib/ha-setup/packages/k.rpm');
  });

  it('services: a restart is remembered for the report, daemon-reload is not; a failed check names it', async () => {
    const { runner, sim } = setup();
    const r = runner();
    await r.service({ kind: 'service', name: '', action: 'daemon-reload' });
    await r.service({ kind: 'service', name: 'nginx', action: 'enable' });
    await r.service({ kind: 'service', name: 'keepalived', action: 'restart' });
    expect(r.restarted).toEqual(['restart keepalived']);
    sim.on(/^curl/, { code: 7 });
    await expect(
      r.verify({ kind: 'verify', describe: 'nginx answers', argv: ['curl', '-sf', 'http://127.0.0.1/'] }),
    ).rejects.toThrow('lb01: check failed: nginx answers');
  });

  it('begin records the services as they were (once), end records the outcome only after a beginning', async () => {
    const { sim, runner } = setup();
    const r = runner();
    await r.end(true);
    expect(manifestOf(sim)).toEqual([]);
    const services = { keepalived: { active: 'active', enabled: 'enabled', mainPid: 1 } };
    await r.begin(services);
    await r.begin(services);
    await r.end(false);
    expect(manifestOf(sim).map((e) => e.type)).toEqual(['start', 'end']);
    expect(manifestOf(sim)[0]).toMatchObject({ runId: RUN, node: 'lb01', services });
    expect(r.begun).toBe(true);
  });
});

describe('the nginx sync', () => {
  it('tar from the source into a stage, rsync --delete into place, nginx -t; the stage removed', async () => {
    const { sim, runner, conn } = setup();
    const changes = await drive(runner().syncNginx(sim.conns.lb02, '/etc/nginx'), { stepMs: 5 });
    expect(changes).toEqual(['>f.st...... nginx.conf', 'cd+++++++++ sites-enabled/']);
    expect(sim.channels.map((c) => `${c.node}: ${c.command}`)).toEqual([
      'lb01: tar --numeric-owner -C /var/lib/ha-setup/nginx-stage.CCCCCC -xpf -',
      'lb02: tar --numeric-owner -C /etc/nginx -cf - .',
    ]);
    expect(sim.events).toEqual([
      'lb01: backup /etc/nginx',
      'lb01: untar TAR-STREAM',
      'lb01: rsync /var/lib/ha-setup/nginx-stage.CCCCCC -> /etc/nginx',
    ]);
    expect(conn.calls.at(-1)!.text).toBe('rm -rf /var/lib/ha-setup/nginx-stage.CCCCCC');
  });

  it('nginx -t rejects the copied configuration: the previous tree is restored', async () => {
    const { sim, runner, conn } = setup();
    sim.on(/^nginx -t$/, { code: 1, stderr: 'nginx: [emerg] a\nnginx: configuration file test failed\n' });
    await expect(drive(runner().syncNginx(sim.conns.lb02, '/etc/nginx'), { stepMs: 5 })).rejects.toThrow(
      'lb01: nginx -t rejected the configuration copied from lb02; the previous /etc/nginx was restored: ' +
        'nginx: [emerg] a | nginx: configuration file test failed',
    );
    expect(sim.events.at(-1)).toBe('lb01: restore /etc/nginx/');
    expect(conn.calls.at(-1)!.text).toBe('rm -rf /var/lib/ha-setup/nginx-stage.CCCCCC');
  });
});

describe('the lock', () => {
  const REQ = { command: 'ha-setup init --answers ha.yaml', boundS: 1800 };
  it('held by a channel for the whole session, its holder recorded; a busy host refused, holder named', async () => {
    const { sim, runner } = setup();
    const r = runner();
    await drive(r.lock(REQ), { stepMs: 5 });
    expect(r.locked).toBe(true);
    expect(sim.host('lb01').locked).toBe(true);
    const cmd = sim.channels[0].command;
    expect(cmd).toContain(` ${PATHS.lockDir} ${RUN} `);
    const holder = JSON.parse(Buffer.from(/ (\S+) '' 0$/.exec(cmd)![1], 'base64').toString());
    expect(holder).toMatchObject({ run: RUN, command: REQ.command, boundS: 1800, pid: process.pid });
    r.unlock();
    expect(r.locked).toBe(false);
    expect(sim.events).toEqual(['lb01: locked', 'lb01: unlocked']);
    // after a reconnect: this run's own holder on the dead connection is ended first
    await drive(r.lock(REQ, { takeOver: true }), { stepMs: 5 });
    expect(sim.channels[1].command).toMatch(new RegExp(` ${RUN} 10$`));
    sim.host('lb02').lockBusy = true;
    const e = await drive(runner('lb02').lock(REQ), { stepMs: 5 }).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe(
      'lb02: another ha-setup run holds the lock on this host: `ha-setup switchover --to lb02` by alice on ' +
        'ops-desk (pid 4242), since 2026-01-01T11:59:00.000Z (65 s ago), last heard 2 s ago; --wait-lock SECONDS ' +
        'waits for it',
    );
  });

  it('--wait-lock waits for a live holder, then takes the lock (or refuses when the time is up)', async () => {
    const { sim, runner } = setup();
    sim.host('lb01').lockBusy = true;
    setTimeout(() => (sim.host('lb01').lockBusy = false), 2500);
    await drive(runner().lock({ ...REQ, waitS: 10 }), { stepMs: 100 });
    expect(sim.host('lb01').locked).toBe(true);
    expect(sim.channels.filter((c) => c.node === 'lb01').length).toBe(4);
    sim.host('lb02').lockBusy = true;
    const e = await drive(runner('lb02').lock({ ...REQ, waitS: 2 }), { stepMs: 100 }).then(unexpected, (x) => x);
    expect((e as Error).message).toMatch(/last heard 2 s ago \(waited 2 s\)$/);
  });

  it('a holder gone silent past its command bound is ended and its lock taken over, and said so', async () => {
    const { sim, runner } = setup();
    const holder = { ...LIVE_HOLDER, controller: 'gone-desk' };
    sim.host('lb01').lockBusy = { holder, beatAgeS: 400, ageS: 900 };
    const notes: string[] = [];
    await drive(runner().lock(REQ, { onNote: (t) => notes.push(t) }), { stepMs: 5 });
    expect(sim.host('lb01').locked).toBe(true);
    expect(notes).toEqual([
      'lb01: took over the lock of `ha-setup switchover --to lb02` by alice on gone-desk (pid 4242), since ' +
        '2026-01-01T11:59:00.000Z (15 min ago), last heard 400 s ago: its controller gone-desk has not been heard ' +
        'for 400 s and the lock is older than the 300 s that command may take',
    ]);
    expect(sim.events).toEqual([`lb01: ended the stale holder ${holder.run}`, 'lb01: locked']);
    // silent, but younger than its bound: a controller cut off may still act, so it is waited for / refused
    sim.host('lb02').lockBusy = { holder, beatAgeS: 400, ageS: 200 };
    await expect(drive(runner('lb02').lock(REQ), { stepMs: 5 })).rejects.toThrow(/holds the lock/);
  });

  it('a lost lock channel stops every further change on that host', async () => {
    const { sim, runner } = setup();
    const r = runner();
    await drive(r.lock(REQ), { stepMs: 5 });
    sim.channels[0].ch.emit('close');
    expect(r.locked).toBe(false);
    await expect(drive(r.writeFile(file()), { stepMs: 5 })).rejects.toThrow(
      "lb01: ha-setup's lock on this host was lost (its SSH channel closed): nothing more is changed there",
    );
    expect(sim.host('lb01').files.has(CONF)).toBe(false);
  });
});

describe('staleReason: when a busy lock may be taken over', () => {
  const busy = (over: Partial<{ beatAgeS: number; ageS: number }>, h: Partial<LockHolder> = {}) => ({
    kind: 'busy' as const,
    holder: { ...LIVE_HOLDER, ...h },
    beatAgeS: 2,
    ageS: 10,
    ...over,
  });
  const here = { controller: 'ops-desk', alive: (pid: number) => pid === 4242 };
  it('its process on this controller is dead; or silent for 30 s and older than its bound', () => {
    expect(staleReason(busy({}), here)).toBeNull();
    expect(staleReason(busy({}, { pid: 999 }), here)).toBe('its process 999 on ops-desk is gone');
    // another controller's pid says nothing here
    expect(staleReason(busy({}, { pid: 999, controller: 'x' }), here)).toBeNull();
    expect(staleReason(busy({ beatAgeS: 31, ageS: 299 }, { controller: 'x' }), here)).toBeNull();
    expect(staleReason(busy({ beatAgeS: 29, ageS: 301 }, { controller: 'x' }), here)).toBeNull();
    expect(staleReason(busy({ beatAgeS: 31, ageS: 301 }, { controller: 'x' }), here)).toMatch(/not been heard/);
  });
});

describe('putting a host back (restore.ts)', () => {
  it('files restored or removed in reverse order, commands undone, services back as they were', async () => {
    const { sim, runner, h } = setup();
    h.files.set(CONF, { content: 'old conf\n', mode: '600' });
    const r = runner();
    await r.begin({
      keepalived: { active: 'active', enabled: 'enabled', mainPid: 1 },
      nginx: { active: 'active', enabled: 'enabled', mainPid: 2 },
      rsyslog: { active: 'inactive', enabled: 'disabled', mainPid: 0 },
    });
    await r.writeFile(file({ before: 'old conf\n' }));
    await r.writeFile(file({ path: PATHS.sysctl, before: null, mode: '644' }));
    await r.command({ kind: 'command', argv: ['sysctl', '--system'], describe: 'x', undo: ['sysctl', '-w', 'a=0'] });
    await r.install({ kind: 'package', manager: 'apt', names: ['curl'] });
    h.units.rsyslog.active = 'active';
    sim.events.length = 0;
    const from = sim.conns.lb01.calls.length;
    const done = await restoreRun(sim.conns.lb01, RUN_DIR);
    // whether each unit runs now: the facts' services fact, read once for the three
    const asked = sim.conns.lb01.calls.slice(from).filter((c) => /is-active|echo "@@services"/.test(c.text));
    expect(asked.map((c) => c.kind)).toEqual(['sh']);
    expect(done).toEqual([
      'left installed: curl',
      'undo: sysctl -w a=0',
      `removed ${PATHS.sysctl} (did not exist before)`,
      `restored ${CONF}`,
      // services in the order rsyslog, nginx, keepalived: rsyslog did not run before; keepalived.conf restored:
      // keepalived reloads (no VIP moves); nginx read nothing restored: left alone
      'stop rsyslog (was not running before)',
      'disable rsyslog (it was disabled before)',
      'reload-or-restart keepalived',
    ]);
    expect(h.files.get(CONF)!.content).toBe('old conf\n');
    expect(h.files.has(PATHS.sysctl)).toBe(false);
    expect(sim.events).toEqual([
      'lb01: run sysctl -w a=0',
      `lb01: rm ${PATHS.sysctl}`,
      `lb01: restore ${CONF}`,
      'lb01: systemctl daemon-reload',
      'lb01: systemctl stop rsyslog',
      'lb01: systemctl disable rsyslog',
      // enablement changed only where it differs from before (nginx and keepalived are enabled, as they were)
      'lb01: systemctl reload-or-restart keepalived',
    ]);
    expect(manifestOf(sim).at(-1)).toMatchObject({ type: 'rolledback' });
  });

  it('an unknown path restarts every service that ran; a stopped one starts; enablement back', async () => {
    const { sim, runner, h } = setup();
    const r = runner();
    await r.begin({
      keepalived: { active: 'active', enabled: 'enabled', mainPid: 1 },
      nginx: { active: 'active', enabled: 'not-found', mainPid: 2 },
    });
    await r.writeFile(file({ path: '/etc/default/keepalived', mode: '644' }));
    await r.writeFile(file({ path: '/opt/other.conf', mode: '644' }));
    h.units.nginx = { active: 'inactive', enabled: 'enabled' };
    const done = await restoreRun(sim.conns.lb01, RUN_DIR);
    // an unknown path: every service that ran is restarted (keepalived too, not only reloaded); nginx had stopped
    // nginx was not enabled before (not-found) and is now: disabled again
    expect(done.slice(-3)).toEqual(['start nginx', 'disable nginx (it was not-found before)', 'restart keepalived']);
    expect(sim.events.slice(-3)).toEqual([
      'lb01: systemctl start nginx',
      'lb01: systemctl disable nginx',
      'lb01: systemctl restart keepalived',
    ]);
  });

  it('latestRun: the newest run that changed something and was not rolled back', async () => {
    const { sim } = setup();
    const c = sim.conns.lb01;
    const dirOf = (id: string) => `${PATHS.backupRoot}/${id}`;
    await appendManifest(c, dirOf('20260101T000000Z-aaaa'), { type: 'file', path: CONF, existed: true });
    await appendManifest(c, dirOf('20260102T000000Z-bbbb'), { type: 'command', argv: ['x'] });
    await appendManifest(c, dirOf('20260102T000000Z-bbbb'), { type: 'rolledback', time: 't' });
    await appendManifest(c, dirOf('20260103T000000Z-cccc'), { type: 'package', names: ['curl'] });
    expect(await latestRun(c)).toBe('20260101T000000Z-aaaa');
    expect(await readManifest(c, dirOf('20260109T000000Z-none'))).toEqual([]);
    expect(await latestRun(new SimPair(cfgOf(pair)).conns.lb02)).toBeNull();
  });
});

// ------------------------------------------------------------------------------------------------------ execute

const step = (id: string, changes: PlannedStep['changes'], handlers: PlannedStep['handlers'] = []): PlannedStep => ({
  id,
  title: id,
  changes,
  handlers,
  notes: [],
});

function nodePlan(
  cfg: Config,
  name: string,
  steps: PlannedStep[],
  rollingOrder: number | null = null,
  rollingFrom = 0,
): NodePlan {
  const n = cfg.nodes.find((x) => x.name === name)!;
  return {
    node: name,
    host: n.host,
    role: 'backup',
    leaving: false,
    facts: { services: { keepalived: { active: 'active', enabled: 'enabled', mainPid: 1 } } } as unknown as InitFacts,
    steps,
    rolling: rollingOrder !== null,
    rollingOrder,
    rollingFrom: rollingOrder !== null ? rollingFrom : null,
    holds: [],
  };
}

/** lb01, which holds the VIP, in the rolling phase: the VIP handed over, keepalived.conf written, a restart, back */
function masterTurn(cfg: Config, content: string): NodePlan {
  const ref = { name: 'VI_1', vips: ['172.16.70.183'], preempt: true };
  const restart: Change = { kind: 'service', name: 'keepalived', action: 'restart' };
  const changes: Action[] = [{ kind: 'handover', targets: [ref] }, file({ content, before: null })];
  return nodePlan(
    cfg,
    'lb01',
    [step('keepalived', changes, [restart, { kind: 'return', targets: [ref], release: [] }])],
    1,
  );
}

describe('executing a plan: the parallel phase, then the rolling one', () => {
  const ref = { name: 'VI_1', vips: ['172.16.70.183'], preempt: true };
  function env(sim: SimPair, cfg: Config): ExecuteEnv {
    const runners = Object.fromEntries(cfg.nodes.map((n) => [n.name, new HostRunner(sim.conns[n.name], n, RUN)]));
    return { cfg, conns: sim.conns, runners, renderer: 'silent' };
  }
  const conf = (c: string): Change => file({ content: c, before: null });
  const restart: Change = { kind: 'service', name: 'keepalived', action: 'restart' };

  it('every node ok: the backup in parallel, the master rolling (hand-over, change, restart, return)', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const plan: PairPlan = {
      nodes: [
        masterTurn(cfg, 'lb01 conf\n'),
        nodePlan(cfg, 'lb02', [
          step('keepalived', [conf('lb02 conf\n'), { kind: 'verify', describe: 'ok', argv: ['true'] }], [restart]),
          step('ready', [], [{ kind: 'await-ready' }]),
        ]),
      ],
      refusals: [],
      warnings: [],
    };
    const results = (await drive(executePlan(env(sim, cfg), plan))).nodes;
    expect(results.map((r) => ({ node: r.node, ok: r.ok, ran: r.ran, changes: r.changes }))).toEqual([
      { node: 'lb01', ok: true, ran: true, changes: 1 },
      { node: 'lb02', ok: true, ran: true, changes: 1 },
    ]);
    expect(results[0].actions).toEqual([
      'hand VI_1 (172.16.70.183) over to a ready node without a gap, stopping keepalived here',
      `create ${CONF} (mode 600)`,
      'systemctl restart keepalived',
      'keepalived running again here, a ready node; then VI_1 (172.16.70.183) back here (preempt)',
    ]);
    expect(results[1].restarted).toEqual(['restart keepalived']);
    expect(results[0].roundTrips).toBe(sim.conns.lb01.calls.length);
    // lb02 (parallel) finished before lb01 (rolling) started; lb01's VIP went to lb02 and came back
    const order = sim.events.filter((e) => /write|flag demote|stop keepalived|restart keepalived/.test(e));
    expect(order).toEqual([
      `lb02: write ${CONF}`,
      'lb02: systemctl restart keepalived',
      'lb01: flag demote.VI_1=1',
      'lb01: systemctl stop keepalived',
      `lb01: write ${CONF}`,
      'lb01: systemctl restart keepalived',
      'lb01: flag demote.VI_1=1',
      'lb01: flag demote.VI_1=0',
    ]);
    expect(sim.holders()).toEqual({ '172.16.70.183': ['lb01'] });
    // the hand-over's demotion and the return's flags are in the manifest too (a restore or rollback puts them back)
    expect(manifestOf(sim, 'lb01').map((e) => e.type)).toEqual(['start', 'flag', 'file', 'flag', 'flag', 'end']);
    expect(manifestOf(sim, 'lb01')[1]).toEqual({ type: 'flag', name: 'demote.VI_1', before: null });
  });

  it("a rolling node's actions before its turn run in the parallel phase, then one node at a time", async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const reload: Change = { kind: 'service', name: 'keepalived', action: 'reload-or-restart' };
    const plan: PairPlan = {
      nodes: [
        nodePlan(
          cfg,
          'lb01',
          [
            step('keepalived', [conf('lb01 conf\n')], [reload]),
            step('logging', [], [{ kind: 'handover', targets: [ref] }, restart]),
            step('rolling', [], [{ kind: 'return', targets: [ref], release: [] }]),
          ],
          2,
          2,
        ),
        nodePlan(
          cfg,
          'lb02',
          [step('keepalived', [conf('lb02 conf\n')], [reload]), step('logging', [], [restart])],
          1,
          2,
        ),
      ],
      refusals: [],
      warnings: [],
    };
    const results = (await drive(executePlan(env(sim, cfg), plan))).nodes;
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const order = sim.events.filter((e) => /write|demote|(stop|restart|reload-or-restart) keepalived/.test(e));
    // both nodes on the new configuration (reloaded) before any restart: then lb02's turn, then lb01's
    expect(order.slice(0, 4).sort()).toEqual([
      'lb01: systemctl reload-or-restart keepalived',
      `lb01: write ${CONF}`,
      'lb02: systemctl reload-or-restart keepalived',
      `lb02: write ${CONF}`,
    ]);
    expect(order.slice(4)).toEqual([
      'lb02: systemctl restart keepalived',
      'lb01: flag demote.VI_1=1',
      'lb01: systemctl stop keepalived',
      'lb01: systemctl restart keepalived',
      'lb01: flag demote.VI_1=1',
      'lb01: flag demote.VI_1=0',
    ]);
    // each node's actions are reported in its plan's order, both parts together
    expect(results[0].actions).toEqual([
      `create ${CONF} (mode 600)`,
      'systemctl reload-or-restart keepalived',
      'hand VI_1 (172.16.70.183) over to a ready node without a gap, stopping keepalived here',
      'systemctl restart keepalived',
      'keepalived running again here, a ready node; then VI_1 (172.16.70.183) back here (preempt)',
    ]);
    expect(manifestOf(sim, 'lb01').map((e) => e.type)).toEqual(['start', 'file', 'flag', 'flag', 'flag', 'end']);
  });

  it('a failure in the parallel phase also puts back what the rolling nodes did before their turn', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    sim.host('lb01').files.set(CONF, { content: 'lb01 before\n', mode: '600' });
    sim.on(/^keepalived -t/, { code: 1, stderr: 'bad\n' }, { node: 'lb02' });
    const plan: PairPlan = {
      nodes: [
        nodePlan(cfg, 'lb01', [step('k', [file({ content: 'lb01 new\n', before: 'lb01 before\n' })], [restart])], 1, 1),
        nodePlan(cfg, 'lb02', [
          step('k', [file({ content: 'new\n', before: null, validate: ['keepalived', '-t', '-f', '{file}'] })]),
        ]),
      ],
      refusals: [],
      warnings: [],
    };
    const [r1, r2] = (await drive(executePlan(env(sim, cfg), plan))).nodes;
    expect(r2.ok).toBe(false);
    expect(r1).toMatchObject({
      ok: false,
      ran: true,
      error: 'stopped before its rolling turn: another node failed',
    });
    expect(r1.notRestored).toBeUndefined();
    expect(r1.restored).toContain(`restored ${CONF}`);
    expect(sim.host('lb01').files.get(CONF)!.content).toBe('lb01 before\n');
    expect(sim.eventsOf('lb01').some((e) => /restart keepalived$/.test(e) && !/reload/.test(e))).toBe(false);
  });

  it('a failure in the parallel phase: that node restored from its backups; no rolling phase', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    sim.host('lb02').files.set(CONF, { content: 'lb02 before\n', mode: '600' });
    sim.on(/^keepalived -t/, { code: 1, stderr: 'bad\n' }, { node: 'lb02' });
    const plan: PairPlan = {
      nodes: [
        nodePlan(cfg, 'lb01', [step('k', [conf('x\n')], [restart])], 1),
        nodePlan(cfg, 'lb02', [
          step('k', [
            file({ path: PATHS.sysctl, content: 'net\n', mode: '644' }),
            file({ content: 'new\n', before: 'lb02 before\n', validate: ['keepalived', '-t', '-f', '{file}'] }),
          ]),
        ]),
      ],
      refusals: [],
      warnings: [],
    };
    const [r1, r2] = (await drive(executePlan(env(sim, cfg), plan))).nodes;
    expect(r2).toMatchObject({
      ok: false,
      ran: true,
      error: `lb02: keepalived rejected the new ${CONF} (exit 1): bad`,
    });
    // in reverse order; keepalived.conf was backed up before its validation failed, so it is put back too
    expect(r2.restored).toEqual([
      `restored ${CONF}`,
      `removed ${PATHS.sysctl} (did not exist before)`,
      'reload-or-restart keepalived',
    ]);
    expect(r1).toMatchObject({ ok: true, ran: false, changes: 0 });
    expect(sim.eventsOf('lb01')).toEqual([]);
    expect(sim.host('lb02').files.get(CONF)!.content).toBe('lb02 before\n');
    expect(manifestOf(sim, 'lb02').map((e) => e.type)).toEqual(['start', 'file', 'file', 'rolledback', 'end']);
  });

  it('a failure in the rolling phase stops it: later nodes do not run; a restore that fails is reported', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    sim.on(/^systemctl restart keepalived$/, { code: 1, stderr: 'Job failed\n' }, { node: 'lb02' });
    sim.on(/^cat \/var\/backups/, { code: 0, stdout: 'not json\n' }, { node: 'lb02' });
    const plan: PairPlan = {
      nodes: [
        nodePlan(cfg, 'lb01', [step('k', [conf('a\n')])], 2),
        nodePlan(cfg, 'lb02', [step('k', [conf('b\n')], [restart])], 1),
      ],
      refusals: [],
      warnings: [],
    };
    const [r1, r2] = (await drive(executePlan(env(sim, cfg), plan))).nodes;
    expect(r2.ok).toBe(false);
    expect(r2.error).toBe('lb02: systemctl restart keepalived failed (exit 1)');
    // said NOT restored, never restored
    expect(r2.restored).toBeUndefined();
    expect(r2.notRestored).toMatch(/^the restore failed: /);
    expect(r1).toMatchObject({ ok: true, ran: false });
  });
});

describe('interrupted halfway: Ctrl-C and a dropped connection', () => {
  const restart: Change = { kind: 'service', name: 'keepalived', action: 'restart' };
  type Handlers = Parameters<NonNullable<IO['interrupt']>['onInterrupt']>[0];

  /** an executor environment with a Ctrl-C the test presses (`ctrlC.first()`, `ctrlC.second()`) */
  function interruptible(sim: SimPair, cfg: Config) {
    const runners = Object.fromEntries(cfg.nodes.map((n) => [n.name, new HostRunner(sim.conns[n.name], n, RUN)]));
    let handlers: Handlers = null;
    const said: string[] = [];
    const env: ExecuteEnv = {
      cfg,
      conns: sim.conns,
      runners,
      renderer: 'silent',
      io: { err: (l) => void said.push(l), interrupt: { onInterrupt: (h) => (handlers = h) } },
    };
    return {
      env,
      said,
      ctrlC: { first: () => handlers!.first('SIGINT'), second: () => handlers!.second('SIGINT') },
      registered: () => handlers !== null,
    };
  }
  const rollingPlan = (cfg: Config): PairPlan => ({
    nodes: [masterTurn(cfg, 'lb01 new\n')],
    refusals: [],
    warnings: [],
  });

  it("Ctrl-C in init's rolling turn right after systemctl stop keepalived: started again, demote cleared", async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const x = interruptible(sim, cfg);
    let left: string[] = [];
    sim.on(/^systemctl stop keepalived$/, () => {
      x.ctrlC.first();
      left = x.ctrlC.second();
      return undefined; // the model stops it
    });
    const out = await drive(executePlan(x.env, rollingPlan(cfg)));
    expect(out.interrupted).toBe(true);
    expect(out.nodes[0]).toMatchObject({ ok: false, ran: true, interrupted: true, error: 'interrupted (Ctrl-C)' });
    expect(out.nodes[0].notRestored).toBeUndefined();
    // the move was undone, then the node put back from the manifest: keepalived runs, the demotion is gone
    expect(sim.host('lb01').units.keepalived.active).toBe('active');
    expect(sim.host('lb01').flags['demote.VI_1']).toBe(0);
    // the move's own undo had put both back: the restore from the manifest found nothing left to do
    expect(out.nodes[0].restored).toEqual([]);
    expect(manifestOf(sim).map((e) => e.type)).toEqual(['start', 'flag', 'flag', 'rolledback', 'end']);
    // nothing after the interruption ran: no file written, no restart
    expect(sim.host('lb01').files.has(CONF)).toBe(false);
    expect(sim.eventsOf('lb01')).not.toContain('lb01: systemctl restart keepalived');
    expect(x.said[0]).toMatch(/^\nSIGINT: stopping every node before its next action/);
    // a second Ctrl-C at that moment: the way to put it back by hand
    expect(left).toEqual([
      'SIGINT again: NOT putting anything back. Left half done, to fix by hand:',
      `  lb01: ha-setup rollback --run ${RUN} --node lb01 --yes  (puts back what this run changed there: files, ` +
        'state flags, services)',
    ]);
    // the handlers are the executor's only while it runs
    expect(x.registered()).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sim.holders()).toEqual({ '172.16.70.183': ['lb01'] });
  });

  it('Ctrl-C once the VIPs moved (keepalived stopped): the restore starts it and clears the demotion', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const x = interruptible(sim, cfg);
    sim.on('sysctl -qw "$k=1"', () => (x.ctrlC.first(), undefined), { node: 'lb01' });
    const out = await drive(executePlan(x.env, rollingPlan(cfg)));
    expect(out.interrupted).toBe(true);
    expect(out.nodes[0].actions).toEqual([
      'hand VI_1 (172.16.70.183) over to a ready node without a gap, stopping keepalived here',
    ]);
    expect(out.nodes[0].restored).toEqual(['flag demote.VI_1 back to 0', 'start keepalived']);
    expect(sim.host('lb01').units.keepalived.active).toBe('active');
    expect(sim.host('lb01').flags['demote.VI_1']).toBe(0);
    expect(manifestOf(sim).map((e) => e.type)).toEqual(['start', 'flag', 'rolledback', 'end']);
  });

  const writeAndRestart = (cfg: Config): PairPlan => ({
    nodes: [nodePlan(cfg, 'lb02', [step('k', [file({ content: 'lb02 new\n', before: null })], [restart])])],
    refusals: [],
    warnings: [],
  });
  /** lb02's connection drops while keepalived restarts */
  const dropAtRestart = (sim: SimPair) =>
    sim.on(
      /^systemctl restart keepalived$/,
      () => {
        sim.conns.lb02.close();
        throw new OperationError('lb02: SSH connection closed');
      },
      { node: 'lb02', times: 1 },
    );

  it('a connection dropped mid-run: connected again first, then the node is restored', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const x = interruptible(sim, cfg);
    dropAtRestart(sim);
    x.env.reconnect = async (n) => {
      const node = cfg.nodes.find((y) => y.name === n)!;
      sim.events.push(`${n}: reconnected`);
      x.env.conns[n] = sim.connect(node);
      const r = new HostRunner(x.env.conns[n], node, RUN);
      r.carryOn(x.env.runners[n]);
      x.env.runners[n] = r;
    };
    const [r2] = (await drive(executePlan(x.env, writeAndRestart(cfg)))).nodes;
    expect(r2).toMatchObject({ ok: false, error: 'lb02: SSH connection closed' });
    expect(r2.restored).toEqual([`removed ${CONF} (did not exist before)`, 'reload-or-restart keepalived']);
    expect(r2.notRestored).toBeUndefined();
    const ev = sim.eventsOf('lb02');
    expect(ev.indexOf('lb02: reconnected')).toBeLessThan(ev.indexOf(`lb02: rm ${CONF}`));
    expect(sim.host('lb02').files.has(CONF)).toBe(false);
    // the run's end recorded through the new connection (its runner carried on the old one's beginning)
    expect(manifestOf(sim, 'lb02').map((e) => e.type)).toEqual(['start', 'file', 'rolledback', 'end']);
  });

  it('a connection that cannot be made again: said NOT restored, never restored', async () => {
    const cfg = cfgOf(pair);
    const sim = new SimPair(cfg);
    const x = interruptible(sim, cfg);
    dropAtRestart(sim);
    x.env.reconnect = async (n) => {
      throw new PreconditionError(`${n} (172.16.70.182:22): unreachable: no SSH answer within 5 s`);
    };
    const [r2] = (await drive(executePlan(x.env, writeAndRestart(cfg)))).nodes;
    expect(r2.ok).toBe(false);
    expect(r2.restored).toBeUndefined();
    expect(r2.notRestored).toBe(
      'no connection to put it back: lb02 (172.16.70.182:22): unreachable: no SSH answer within 5 s',
    );
    // without a way to reconnect at all, a dead connection is not used either
    delete x.env.reconnect;
    const sim2 = new SimPair(cfg);
    const y = interruptible(sim2, cfg);
    dropAtRestart(sim2);
    const [s2] = (await drive(executePlan(y.env, writeAndRestart(cfg)))).nodes;
    expect(s2.notRestored).toBe('no connection to put it back: lb02: its SSH connection is gone');
  });
});

describe('state flags in the manifest', () => {
  it('each write records the value it had; a restore (rollback) puts back the value before the first', async () => {
    const { sim, runner, h } = setup();
    h.flags['demote.VI_1'] = 1;
    const r = runner();
    expect(await r.flag('maintenance', true)).toBeNull();
    expect(await r.flag('demote.VI_1', false)).toBe(1);
    expect(await r.flag('maintenance', false)).toBe(1);
    expect(manifestOf(sim)).toEqual([
      { type: 'flag', name: 'maintenance', before: null },
      { type: 'flag', name: 'demote.VI_1', before: 1 },
      { type: 'flag', name: 'maintenance', before: 1 },
    ]);
    expect(await latestRun(sim.conns.lb01)).toBe(RUN);
    sim.events.length = 0;
    const done = await restoreRun(sim.conns.lb01, RUN_DIR);
    // each flag straight back to its value before the run's first write, when it does not have it now: never
    // through the values in between (keepalived acts on each: a transient FAULT or demotion moves a VIP)
    expect(done).toEqual(['flag demote.VI_1 back to 1']);
    expect(sim.events).toEqual(['lb01: flag demote.VI_1=1', 'lb01: systemctl daemon-reload']);
    expect(h.flags).toEqual({ 'demote.VI_1': 1, maintenance: 0 });
    await expect(r.flag('x; rm -rf /', true)).rejects.toThrow('lb01: not a state flag: x; rm -rf /');
  });

  it('every remote step of a write, a restore and the manifest has its own timeout', async () => {
    const { sim, runner } = setup();
    const r = runner();
    await r.begin({});
    await r.writeFile(file());
    await r.service({ kind: 'service', name: 'keepalived', action: 'daemon-reload' });
    await r.flag('maintenance', true);
    await restoreRun(sim.conns.lb01, RUN_DIR);
    const untimed = sim.conns.lb01.calls.filter((c) => !c.opts.timeoutMs).map((c) => c.text.slice(0, 40));
    expect(untimed).toEqual([]);
  });
});
