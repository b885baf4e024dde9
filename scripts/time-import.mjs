#!/usr/bin/env node
// Times ha-setup import's keepalived parser and mapper (the built dist/import: run `npm run build` first) on a
// generated pair of large LVS configurations: virtual_servers whose real_servers check a tracked file
// (FILE_CHECK { track_file }), with the pair's vrrp_instance last. Prints one line per run: lines per host, parse
// and map times of the pair, and what came out (the instance must be found, the LVS part kept as one snippet).
// Usage: node scripts/time-import.mjs [LINES] [RUNS]   (defaults 10000 lines, 3 runs; the first run is cold)
const { loadKeepalivedConfig } = await import('../dist/import/keepalived-conf.js');
const { mapImport } = await import('../dist/import/map.js');
const { parseDaemonArgs } = await import('../dist/import/daemon-options.js');

const lines = Number(process.argv[2] ?? 10000);
const runs = Number(process.argv[3] ?? 3);
if (!Number.isInteger(lines) || lines < 100 || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node scripts/time-import.mjs [LINES >= 100] [RUNS >= 1]   (after npm run build)');
  process.exit(2);
}

/** about `n` lines of keepalived configuration */
function conf(n, prio, state) {
  const out = ['global_defs {', '    router_id LB', '}', 'track_file TF_1 {', '    file /run/tf1', '    weight 0', '}'];
  for (let vs = 1; out.length < n - 12; vs++) {
    out.push(
      `virtual_server 10.1.${vs >> 8}.${vs & 255} 80 {`,
      '    delay_loop 6',
      '    lb_kind DR',
      '    protocol TCP',
    );
    for (let r = 1; r <= 4; r++)
      out.push(
        `    real_server 10.2.${vs & 255}.${r} 80 {`,
        '        weight 1',
        '        FILE_CHECK {',
        '            track_file TF_1',
        '        }',
        '    }',
      );
    out.push('}');
  }
  out.push(
    'vrrp_instance VI_1 {',
    `    state ${state}`,
    '    interface eth0',
    '    virtual_router_id 51',
    `    priority ${prio}`,
    '    virtual_ipaddress {',
    '        10.0.0.100/24',
    '    }',
    '}',
  );
  return `${out.join('\n')}\n`;
}

const F = '/etc/keepalived/keepalived.conf';
async function host(name, text, address, holds) {
  const config = await loadKeepalivedConfig(F, async (g) => (g === F ? [{ path: F, text }] : []), {
    major: 2,
    version: '2.2.7',
  });
  return {
    given: name,
    hostname: name,
    osFamily: 'debian',
    keepalivedVersion: '2.2.7',
    keepalivedMajor: 2,
    daemonOptions: { ...parseDaemonArgs(['-D'], 2), source: 'generated' },
    configPath: F,
    interfaces: [
      {
        name: 'eth0',
        up: true,
        multicast: true,
        flags: ['UP'],
        mac: '',
        addresses: [`${address}/24`],
        ips: [{ address, prefix: 24, family: 4, secondary: false }],
      },
    ],
    holds,
    config,
    scripts: {},
    services: { keepalived: 'active', nginx: 'active' },
    latent: [],
  };
}

const a = conf(lines, 150, 'MASTER');
const b = conf(lines, 100, 'BACKUP');
let failed = false;
for (let run = 1; run <= runs; run++) {
  const t0 = performance.now();
  const hosts = [await host('lb01', a, '10.0.0.1', ['10.0.0.100']), await host('lb02', b, '10.0.0.2', [])];
  const t1 = performance.now();
  const r = mapImport(hosts, { ssh: {} });
  const t2 = performance.now();
  const ok = !r.refusals.length && r.answers.instances.length === 1 && r.snippets.length === 1;
  failed ||= !ok;
  console.log(
    `run ${run}${run === 1 ? ' (cold)' : ''}: 2 hosts x ${a.split('\n').length - 1} lines: ` +
      `parse ${(t1 - t0).toFixed(0)} ms, map ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms; ` +
      (ok ? `1 instance, snippet ${r.snippets[0].text.length} bytes` : `NOT MAPPED: ${r.refusals.join('; ')}`),
  );
}
process.exit(failed ? 1 : 0);
