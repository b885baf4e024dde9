/**
 * Package files for hosts with no repository (packages.keepalived / packages.nginx): each file is what its name
 * says (an RPM lead, a Debian ar archive), a host gets the file of its family's format, and a file of the wrong
 * format is a precondition refusal (nothing changes anywhere).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { inspectPackage, parsePackageFileName } from '../../src/answers/packages.js';
import { ValidationError } from '../../src/errors.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { buildPlan } from '../../src/plan/build.js';
import { keepalivedInstall } from '../../src/steps/keepalived-install.js';
import { keepalivedVersionOf } from '../../src/steps/context.js';
import { describeAction } from '../../src/plan/describe.js';
import { actionsOf } from '../../src/plan/types.js';
import { clone, pair, type RawAnswers } from '../fixtures/answers.js';
import { allFresh } from '../fixtures/facts.js';

const dir = mkdtempSync(join(tmpdir(), 'pkgs-'));
const RPM = Buffer.concat([Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0]), Buffer.alloc(100)]);
const DEB = Buffer.from('!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n', 'latin1');
writeFileSync(join(dir, 'keepalived-1.3.5-19.el7.x86_64.rpm'), RPM);
writeFileSync(join(dir, 'keepalived_2.2.7-1_amd64.deb'), DEB);
writeFileSync(join(dir, 'keepalived-2.2.7-1.el9.x86_64.rpm'), DEB); // a .deb named .rpm
writeFileSync(join(dir, 'nginx-1.22.1-1.el9.x86_64.rpm'), RPM);
writeFileSync(join(dir, 'keepalived_1%3a2.2.7-1+b2+lab1_amd64.deb'), DEB);

function withPackages(packages: unknown) {
  const a = clone(pair) as RawAnswers;
  a.packages = packages;
  return resolveAnswers(a, { env: {}, source: join(dir, 'ha-setup.yaml') });
}
function problems(packages: unknown): string[] {
  try {
    withPackages(packages);
  } catch (e) {
    if (e instanceof ValidationError) return e.details;
    throw e;
  }
  return [];
}

/** every node's facts with keepalived `pkg` (2.2.7) installed, then `more` applied to each */
function withKeepalived<T extends Record<string, InitFacts>>(facts: T, pkg: string, more?: (f: InitFacts) => void): T {
  for (const f of Object.values(facts)) {
    f.packages.keepalived = pkg;
    f.kaversion = '2.2.7';
    more?.(f);
  }
  return facts;
}

describe('package files', () => {
  it('names and versions from rpmbuild and dpkg-deb file names', () => {
    // `full`: the version as rpm -q / dpkg-query report it once installed (what tells an upgrade apart)
    expect(parsePackageFileName('keepalived-1.3.5-19.el7.x86_64.rpm')).toEqual({
      name: 'keepalived',
      version: '1.3.5',
      full: '1.3.5-19.el7',
    });
    expect(parsePackageFileName('keepalived_1:2.2.7-1_amd64.deb')).toEqual({
      name: 'keepalived',
      version: '2.2.7',
      full: '1:2.2.7-1',
    });
    expect(parsePackageFileName('keepalived_1%3a2.2.7-1+b2_amd64.deb')).toEqual({
      name: 'keepalived',
      version: '2.2.7',
      full: '1:2.2.7-1+b2',
    });
    expect(parsePackageFileName('keepalived.rpm')).toBeNull();
  });

  it('relative to the answers file; content checked against the name', () => {
    const cfg = withPackages({ keepalived: ['./keepalived-1.3.5-19.el7.x86_64.rpm', 'keepalived_2.2.7-1_amd64.deb'] });
    expect(cfg.packages.keepalived.map((p) => [p.file, p.format, p.version])).toEqual([
      ['keepalived-1.3.5-19.el7.x86_64.rpm', 'rpm', '1.3.5'],
      ['keepalived_2.2.7-1_amd64.deb', 'deb', '2.2.7'],
    ]);
    expect(problems({ keepalived: 'keepalived-2.2.7-1.el9.x86_64.rpm' })).toEqual([
      'packages.keepalived: keepalived-2.2.7-1.el9.x86_64.rpm is not an RPM package ' +
        '(it does not start with an RPM lead)',
    ]);
    expect(problems({ keepalived: 'nginx-1.22.1-1.el9.x86_64.rpm' })).toEqual([
      'packages.keepalived: nginx-1.22.1-1.el9.x86_64.rpm is a package of nginx, not keepalived',
    ]);
    expect(problems({ keepalived: 'missing-1.0-1.el9.x86_64.rpm' })[0]).toMatch(
      /^packages\.keepalived: missing-1\.0-1\.el9\.x86_64\.rpm cannot be read \(ENOENT\)$/,
    );
    expect(problems({ keepalived: 'keepalived.tar.gz' })[0]).toMatch(/must be an \.rpm or a \.deb file/);
    expect(problems({ keepalived: '/tmp/x;reboot.rpm' })[0]).toMatch(/must be a file path of safe characters/);
    expect(inspectPackage(join(dir, 'keepalived_2.2.7-1_amd64.deb'), 'keepalived', '/')).toMatchObject({
      format: 'deb',
    });
  });

  it('a host gets the file of its format; a file of the other format is refused before anything changes', () => {
    const cfg = withPackages({ keepalived: 'keepalived-1.3.5-19.el7.x86_64.rpm' });
    const rhel = allFresh(cfg, 'rhel');
    rhel.lb01.kacandidate = '2.2.7'; // what the host's repositories would give instead
    const p = keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: rhel.lb01, all: rhel });
    expect(p.changes[0]).toEqual({
      kind: 'package-file',
      manager: 'yum',
      name: 'keepalived',
      localPath: join(dir, 'keepalived-1.3.5-19.el7.x86_64.rpm'),
      file: 'keepalived-1.3.5-19.el7.x86_64.rpm',
      // rendered for the package file's version (not the repository's candidate); another one installed stops the run
      expectVersion: '1.3.5',
    });
    const deb = allFresh(cfg, 'debian');
    expect(buildPlan({ cfg, facts: deb, skipNetworkChecks: true }).refusals).toEqual([
      'lb01 (172.16.70.181): packages.keepalived: keepalived-1.3.5-19.el7.x86_64.rpm cannot be installed on lb01 ' +
        '(Debian GNU/Linux 12 (assumed), a Debian-family host: give a .deb)',
      'lb02 (172.16.70.182): packages.keepalived: keepalived-1.3.5-19.el7.x86_64.rpm cannot be installed on lb02 ' +
        '(Debian GNU/Linux 12 (assumed), a Debian-family host: give a .deb)',
    ]);
  });

  it('another version of keepalived in packages.keepalived than the installed one is an upgrade, rolled', () => {
    const cfg = withPackages({ keepalived: 'keepalived_1%3a2.2.7-1+b2+lab1_amd64.deb' });
    const facts = withKeepalived(allFresh(cfg, 'debian'), '1:2.2.7-1+b2');
    const p = keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: facts.lb01, all: facts });
    expect(p.changes[0]).toMatchObject({ kind: 'package-file', file: 'keepalived_1%3a2.2.7-1+b2+lab1_amd64.deb' });
    expect(p.notes).toContain('keepalived 1:2.2.7-1+b2 installed, 1:2.2.7-1+b2+lab1 given: upgraded');
    // one node at a time, the VIPs handed over first (a package upgrade restarts keepalived)
    const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
    expect(plan.nodes.map((n) => [n.node, n.rolling])).toEqual([
      ['lb01', true],
      ['lb02', true],
    ]);
    // once installed, the same file is nothing to do
    for (const f of Object.values(facts)) f.packages.keepalived = '1:2.2.7-1+b2+lab1';
    const again = keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: facts.lb01, all: facts });
    expect(again.changes).toEqual([]);
  });

  it('packages.upgrade: a newer keepalived in the repositories is installed exactly, rolled, rendered for', () => {
    const cfg = withPackages({ upgrade: ['keepalived'] });
    expect(cfg.upgrade).toEqual(['keepalived']);
    const facts = withKeepalived(allFresh(cfg, 'rhel'), '2.2.7-1.el9', (f) => {
      f.pkgmanager = 'dnf';
      f.kaupgrade = { full: '2:2.3.1-1.el9', version: '2.3.1' };
      f.services.keepalived = { active: 'active', enabled: 'enabled', mainPid: 42 };
    });
    const p = keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: facts.lb01, all: facts });
    expect(p.changes).toEqual([
      {
        kind: 'package',
        manager: 'dnf',
        names: ['keepalived'],
        expectVersion: '2.3.1',
        upgrade: { from: '2.2.7-1.el9', to: '2:2.3.1-1.el9' },
      },
    ]);
    expect(p.notes).toContain('keepalived 2.2.7-1.el9 installed, 2:2.3.1-1.el9 in the repositories: upgraded');
    expect(keepalivedVersionOf(cfg, facts.lb01)).toBe('2.3.1');
    expect(describeAction(p.changes[0])).toBe('upgrade keepalived 2.2.7-1.el9 -> 2:2.3.1-1.el9 with dnf');
    const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
    expect(plan.nodes.map((n) => [n.node, n.rolling])).toEqual([
      ['lb01', true],
      ['lb02', true],
    ]);
    // the package restarts keepalived on its old configuration: the new one written after it is loaded too
    const actions = actionsOf(plan.nodes[0]).map(describeAction);
    expect(actions.indexOf('systemctl reload-or-restart keepalived')).toBeGreaterThan(
      actions.indexOf('upgrade keepalived 2.2.7-1.el9 -> 2:2.3.1-1.el9 with dnf'),
    );
    expect(actions.indexOf('upgrade keepalived 2.2.7-1.el9 -> 2:2.3.1-1.el9 with dnf')).toBeGreaterThan(-1);
    // not asked: the installed keepalived stays (and the configuration is rendered for it)
    const plain = withPackages({});
    expect(keepalivedInstall.plan({ cfg: plain, node: plain.nodes[0], facts: facts.lb01, all: facts }).changes).toEqual(
      [],
    );
    expect(keepalivedVersionOf(plain, facts.lb01)).toBe('2.2.7');
    // nothing newer
    facts.lb01.kaupgrade = null;
    expect(keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: facts.lb01, all: facts }).changes).toEqual([]);
  });

  it('packages.upgrade: only keepalived, and not with package files of it', () => {
    expect(problems({ upgrade: ['nginx'] })[0]).toBe('packages.upgrade[0]: must be one of keepalived (got "nginx")');
    expect(problems({ upgrade: ['keepalived'], keepalived: 'keepalived_2.2.7-1_amd64.deb' })).toEqual([
      'packages.upgrade: keepalived comes from the package files of packages.keepalived or from the repositories ' +
        '(upgrade), not both',
    ]);
  });

  it("Debian's pool file names carry no epoch: keepalived_2.2.7-1+b2_amd64.deb is the installed 1:2.2.7-1+b2", () => {
    writeFileSync(join(dir, 'keepalived_2.2.7-1+b2_amd64.deb'), DEB);
    const cfg = withPackages({ keepalived: 'keepalived_2.2.7-1+b2_amd64.deb' });
    const facts = withKeepalived(allFresh(cfg, 'debian'), '1:2.2.7-1+b2');
    const p = keepalivedInstall.plan({ cfg, node: cfg.nodes[0], facts: facts.lb01, all: facts });
    expect(p.changes).toEqual([]);
    // another revision without an epoch is still an upgrade
    const other = withPackages({ keepalived: 'keepalived_1%3a2.2.7-1+b2+lab1_amd64.deb' });
    const q = keepalivedInstall.plan({ cfg: other, node: other.nodes[0], facts: facts.lb01, all: facts });
    expect(q.changes).toHaveLength(1);
  });
});
