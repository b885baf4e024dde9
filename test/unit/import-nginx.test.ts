import { describe, expect, it } from 'vitest';
import {
  findNginxUpstream,
  nginxSeconds,
  parseNginxText,
  resolveNginxIncludes,
  splitNginxDump,
} from '../../src/import/nginx-conf.js';
import { fixture, nginxDump } from '../fixtures/import/hosts.js';

const guide004: [string, string][] = [
  ['/etc/nginx/nginx.conf', fixture('nginx-org-nginx.conf')],
  ['/etc/nginx/mime.types', fixture('nginx-mime.types')],
  ['/etc/nginx/conf.d/default.conf', fixture('nginx-org-default.conf')],
  ['/etc/nginx/conf.d/web.conf', fixture('004-web.conf')],
];

/** an nginx.conf whose http block includes conf.d, and conf.d files */
function dumpOf(confd: Record<string, string>): string {
  return nginxDump([
    ['/etc/nginx/nginx.conf', 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n'],
    ...Object.entries(confd).map(([n, t]) => [`/etc/nginx/conf.d/${n}`, t] as [string, string]),
  ]);
}

describe('nginx -T', () => {
  it('splits the dump into its files, in nginx order', () => {
    const files = splitNginxDump(nginxDump(guide004));
    expect(files.map((f) => f.path)).toEqual(guide004.map(([p]) => p));
    expect(files[3].text).toBe(fixture('004-web.conf'));
  });

  it('tokenizes as nginx does: comments, quotes with escapes, ${var}, blocks, lines', () => {
    const notes: { at: string; text: string }[] = [];
    const t = parseNginxText(
      'log_format main \'$a "b" \\\'c\\\'\';  # comment\nset $x "${host}{";\nlocation ~ ^/a {\n  return 200;\n}\n',
      'f',
      notes,
    );
    expect(t.map((d) => [d.name, d.args, d.line])).toEqual([
      ['log_format', ['main', '$a "b" \'c\''], 1],
      ['set', ['$x', '${host}{'], 2],
      ['location', ['~', '^/a'], 3],
    ]);
    expect(t[2].children!.map((d) => d.name)).toEqual(['return']);
    expect(notes).toEqual([]);
    parseNginxText('server { listen 80 }\n}', 'g', notes);
    expect(notes.map((n) => n.text)).toEqual(["directive without ';' before '}'", "unexpected '}'"]);
  });

  it('follows include globs (relative ones from the main file directory)', () => {
    const notes: { at: string; text: string }[] = [];
    const files = splitNginxDump(
      nginxDump([
        ['/etc/nginx/nginx.conf', 'http { include sites/*; }\n'],
        ['/etc/nginx/sites/b', 'server { listen 81; }\n'],
        ['/etc/nginx/sites/a', 'server { listen 80; }\n'],
      ]),
    );
    const tree = resolveNginxIncludes(files, notes);
    expect(tree[0].children!.map((s) => `${s.file} ${s.children![0].args[0]}`)).toEqual([
      '/etc/nginx/sites/a 80',
      '/etc/nginx/sites/b 81',
    ]);
  });

  it('nginx times in whole seconds', () => {
    expect([nginxSeconds('20s'), nginxSeconds('30'), nginxSeconds('1m'), nginxSeconds('1m30s')]).toEqual([
      20, 30, 60, 90,
    ]);
    expect(nginxSeconds('500ms')).toBeNull();
  });
});

describe('findNginxUpstream', () => {
  it("guide 004's web.conf: backends, listen port, max_fails/fail_timeout, the weight reported", () => {
    const { upstream, notes } = findNginxUpstream(nginxDump(guide004));
    expect(upstream).toEqual({
      name: 'web',
      at: '/etc/nginx/conf.d/web.conf:2',
      backends: ['172.16.70.191:80', '172.16.70.192:80'],
      backendsAt: ['/etc/nginx/conf.d/web.conf:3', '/etc/nginx/conf.d/web.conf:4'],
      listen: 80,
      listens: [80],
      serverAt: '/etc/nginx/conf.d/web.conf:10',
      maxFails: 3,
      failTimeout: 20,
    });
    expect(notes).toEqual([
      {
        at: '/etc/nginx/conf.d/web.conf:4',
        text: "server 172.16.70.192:80: weight=2 (ha-setup's upstream weighs all backends the same) is dropped",
      },
      {
        at: '/etc/nginx/conf.d/web.conf:12',
        text: "server_name www.zhangwencheng.org: ha-setup's server answers any name on the VIPs",
      },
    ]);
  });

  it("without max_fails / fail_timeout every server agrees on nginx's defaults (1, 10 s)", () => {
    const { upstream } = findNginxUpstream(
      dumpOf({
        'lb.conf':
          'upstream b { server 10.0.0.21; server web2:8080; }\nserver { location / { proxy_pass http://b; } }\n',
      }),
    );
    expect(upstream).toMatchObject({ backends: ['10.0.0.21', 'web2:8080'], listen: 80, maxFails: 1, failTimeout: 10 });
  });

  it('reports what the managed upstream cannot express', () => {
    const { upstream, notes } = findNginxUpstream(
      dumpOf({
        'a.conf': [
          'upstream app {',
          '  ip_hash;',
          '  server 10.0.0.21:80 max_fails=2;',
          '  server 10.0.0.22:80 max_fails=5 fail_timeout=500ms;',
          '  server 10.0.0.23:80 backup;',
          '  server 10.0.0.24:80 down;',
          '  server unix:/run/app.sock;',
          '}',
          'upstream other { server 10.0.0.31:80; }',
          'server {',
          '  listen 443 ssl;',
          '  listen 10.0.0.100:8080;',
          '  ssl_certificate /etc/ssl/a.pem;',
          '  location /api/ { proxy_pass http://app/v1/; }',
          '  location /other { proxy_pass http://other; }',
          '}',
        ].join('\n'),
      }),
    );
    expect(upstream).toMatchObject({ name: 'app', backends: ['10.0.0.21:80', '10.0.0.22:80', '10.0.0.23:80'] });
    expect(upstream!.listens).toEqual([443, 8080]);
    expect(upstream!.maxFails).toBeUndefined();
    expect(upstream!.failTimeout).toBeUndefined();
    const texts = notes.map((n) => `${n.at.replace('/etc/nginx/conf.d/', '')} ${n.text}`);
    expect(texts).toEqual([
      'a.conf:14 proxy_pass http://app/v1/: its URI is dropped',
      'a.conf:9 upstream other: a second upstream in use, not imported',
      'a.conf:2 upstream app: ip_hash is not reproduced',
      'a.conf:5 server 10.0.0.23:80: backup (a backup server) is dropped',
      'a.conf:6 server 10.0.0.24:80 is marked down: left out',
      'a.conf:7 server unix:/run/app.sock: not HOST[:PORT], left out',
      'a.conf:1 max_fails differs between servers: not imported',
      'a.conf:1 fail_timeout differs between servers or is not whole seconds',
      'a.conf:13 ssl_certificate: ssl is not reproduced',
      'a.conf:11 listen 443 ssl: ssl is not reproduced',
      "a.conf:12 listen 10.0.0.100:8080: ha-setup's server listens on the VIPs instead of this address",
    ]);
  });

  it('no proxy_pass to an upstream: no upstream; a stream block is reported', () => {
    const r = findNginxUpstream(
      nginxDump([
        ['/etc/nginx/nginx.conf', 'stream { upstream s { server 10.0.0.1:53; } }\nhttp { server { listen 80; } }\n'],
      ]),
    );
    expect(r.upstream).toBeNull();
    expect(r.notes).toEqual([
      { at: '/etc/nginx/nginx.conf:1', text: 'stream (TCP/UDP) load balancing is not reproduced' },
    ]);
    expect(findNginxUpstream('').upstream).toBeNull();
  });
});
