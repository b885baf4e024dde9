/** The lab itself (issue 3): real hosts reachable the way the demo and the tests use them. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addr, inHost, lab, ROOT } from '../helpers/lab.js';

describe('lab', () => {
  it('ssh with the lab key and known_hosts under strict host key checking', () => {
    const l = lab();
    const r = spawnSync(
      'ssh',
      [
        '-i',
        l.identityFile,
        '-o',
        `UserKnownHostsFile=${l.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        `root@${addr('lb01')}`,
        'hostname',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.stderr).not.toMatch(/Permanently added|WARNING/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('lb01');
    const viaScript = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'ssh', 'lb02', 'hostname'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(viaScript.stdout.trim()).toBe('lb02');
  });

  it("curl from the client host gets web01's own page", () => {
    expect(inHost('client', `curl -s -m 3 http://${addr('web01')}/`).stdout).toContain('served by web01');
    expect(inHost('client', `curl -s -m 3 http://${addr('web02')}/`).stdout).toContain('served by web02');
  });

  // (that the LBs start without keepalived, and lb02 with firewalld running and SELINUX=enforcing, is checked at
  // the start of 10-init, before anything changes them)
  it('LBs get keepalived only from the lab repository', () => {
    const policy = inHost('lb01', 'apt-cache policy keepalived').stdout;
    expect(policy).toMatch(/Candidate: \S+/);
    expect(policy).toContain('file:/srv/ha-lab-repo');
    expect(policy).not.toMatch(/deb\.debian\.org|http:\/\//);
  });

  it('the bridge has the only lab address on this machine, on the benchmark range', () => {
    const l = lab();
    expect(l.prefix.startsWith('198.18.') || l.prefix.startsWith('198.19.')).toBe(true);
    const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
    expect(routes.split('\n').filter((r) => r.startsWith(`${l.prefix}.`)).length).toBe(1);
  });
});
