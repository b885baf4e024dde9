/**
 * The managed nginx load balancer (nginx.upstream, the guides' 004): rendered, then checked by the REAL
 * `nginx -t` inside a minimal nginx.conf that includes it the way Debian's and RHEL's do (conf.d/*.conf in http {}).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { PATHS } from '../../src/paths.js';
import { renderNginxUpstream } from '../../src/render.js';
import { nginx } from '../../src/steps/nginx.js';
import { activeActive, clone, dualStack, pair, type RawAnswers } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function nginxT(conf: string): { code: number; out: string } {
  const d = mkdtempSync(join(tmpdir(), 'ngx-'));
  dirs.push(d);
  mkdirSync(join(d, 'conf.d'));
  mkdirSync(join(d, 'logs'));
  writeFileSync(join(d, 'conf.d', 'ha-setup-upstream.conf'), conf);
  writeFileSync(
    join(d, 'nginx.conf'),
    `error_log ${d}/logs/error.log;\npid ${d}/nginx.pid;\nevents {}\nhttp {\n  access_log off;\n` +
      // Debian's default site and RHEL's nginx.conf listen on both families' wildcards
      `  include ${d}/conf.d/*.conf;\n  server { listen 80 default_server; listen [::]:80 default_server; ` +
      'return 200; }\n}\n',
  );
  const r = spawnSync('nginx', ['-t', '-c', join(d, 'nginx.conf'), '-p', d], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function withUpstream(base: unknown, upstream: unknown) {
  const a = clone(base) as RawAnswers;
  a.nginx = { upstream };
  return resolveAnswers(a, { env: {} });
}

describe('nginx.upstream', () => {
  it('renders an upstream and a server on every VIP, passing X-Forwarded-For; the real nginx -t accepts it', () => {
    const cfg = withUpstream(activeActive, { backends: ['172.16.70.191:80', '172.16.70.192'], maxFails: 2 });
    const conf = renderNginxUpstream(cfg)!;
    expect(conf).toContain('    server 172.16.70.191:80 max_fails=2 fail_timeout=10s;\n');
    expect(conf).toContain('    server 172.16.70.192 max_fails=2 fail_timeout=10s;\n');
    expect(conf).toContain('    listen 172.16.70.183:80;\n    listen 172.16.70.184:80;\n');
    expect(conf).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    expect(conf).toContain('add_header X-LB $hostname always;');
    const r = nginxT(conf);
    expect(r.code, r.out).toBe(0);
  });

  it('IPv6 VIPs: listened on in brackets; the backup may bind them (net.ipv6.ip_nonlocal_bind too)', () => {
    const cfg = withUpstream(dualStack, { backends: ['172.16.70.191:80'] });
    const conf = renderNginxUpstream(cfg)!;
    expect(conf).toContain('    listen 172.16.70.183:80;\n    listen [fd00:172:16::183]:80;\n');
    const r = nginxT(conf);
    expect(r.code, r.out).toBe(0);
    const facts = allFresh(cfg);
    const plan = nginx.plan({ cfg, node: cfg.nodes[1], facts: facts.lb02, all: facts });
    expect(plan.changes.find((c) => c.kind === 'file' && c.path === PATHS.sysctl)).toMatchObject({
      content:
        '# Managed by ha-setup: nginx may bind the VIP on a node that does not hold it yet\n' +
        'net.ipv4.ip_nonlocal_bind = 1\nnet.ipv6.ip_nonlocal_bind = 1\n',
    });
    expect(plan.changes.flatMap((c) => (c.kind === 'command' ? [c.describe] : []))).toEqual([
      'net.ipv4.ip_nonlocal_bind=1 now',
      'net.ipv6.ip_nonlocal_bind=1 now',
    ]);
  });

  it('the checker is real: a backend name that does not resolve is rejected', () => {
    const r = nginxT(renderNginxUpstream(withUpstream(pair, { backends: ['no-such-host.invalid:80'] }))!);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/host not found in upstream "no-such-host\.invalid:80"/);
  });

  it('answers: backends must be HOST[:PORT]; absent upstream leaves nginx alone', () => {
    expect(() => withUpstream(pair, { backends: ['10.0.0.1:99999'] })).toThrow();
    expect(() => withUpstream(pair, { backends: ['10.0.0.1;reboot'] })).toThrow();
    expect(() => withUpstream(pair, { backends: [] })).toThrow();
    expect(renderNginxUpstream(resolveAnswers(pair, { env: {} }))).toBeNull();
  });

  it('nginx step: the file on every node, validated in place with nginx -t; nothing on a converged host', () => {
    const cfg = withUpstream(pair, { backends: ['172.16.70.191:80'] });
    const facts = allFresh(cfg);
    const path = `/etc/nginx/${PATHS.nginxUpstream}`;
    for (const node of cfg.nodes) {
      const p = nginx.plan({ cfg, node, facts: facts[node.name], all: facts });
      const f = p.changes.find((c) => c.kind === 'file' && c.path === path);
      expect(f).toMatchObject({ mode: '644', validate: ['nginx', '-t'], validateInPlace: true });
      expect(p.handlers).toContainEqual({ kind: 'service', name: 'nginx', action: 'reload-or-restart' });
    }
    const after = converge(cfg, facts);
    for (const node of cfg.nodes) {
      expect(nginx.plan({ cfg, node, facts: after[node.name], all: after }).changes).toEqual([]);
    }
  });

  it('nginx.upstream taken out of the answers: the managed file is removed (validated); a foreign one stays', () => {
    const withUp = withUpstream(pair, { backends: ['172.16.70.191:80'] });
    const cfg = resolveAnswers(pair, { env: {} });
    const path = `/etc/nginx/${PATHS.nginxUpstream}`;
    const converged = converge(withUp, allFresh(withUp));
    for (const node of cfg.nodes) {
      const p = nginx.plan({ cfg, node, facts: converged[node.name], all: converged });
      const rm = p.changes.filter((c) => c.kind === 'remove-file');
      expect(rm).toEqual([
        { kind: 'remove-file', path, before: converged[node.name].files[path].content, validate: ['nginx', '-t'] },
      ]);
      expect(p.handlers).toContainEqual({ kind: 'service', name: 'nginx', action: 'reload-or-restart' });
    }
    const after = converge(cfg, converged);
    for (const node of cfg.nodes) {
      expect(nginx.plan({ cfg, node, facts: after[node.name], all: after }).changes).toEqual([]);
    }
    const foreign = converge(cfg, allFresh(cfg));
    for (const f of Object.values(foreign))
      f.files[path] = { exists: true, content: 'upstream mine { server 10.0.0.1; }\n', mode: '644' };
    const p = nginx.plan({ cfg, node: cfg.nodes[0], facts: foreign[cfg.nodes[0].name], all: foreign });
    expect(p.changes).toEqual([]);
    expect(p.notes.join('\n')).toContain('was not written by ha-setup: left as it is');
  });
});
