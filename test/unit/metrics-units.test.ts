/** The systemd units of the metrics timer: their text, and `systemd-analyze verify` when it runs here. */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMetricsService, renderMetricsTimer } from '../../src/metrics/render.js';
import { cleanupTempDirs, tempDir, writeExec } from '../fixtures/metrics/harness.js';

afterAll(cleanupTempDirs);

const lines = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('#'));

describe('ha-setup-metrics units', () => {
  it('service: oneshot running the script, niced, no IP sockets, host network kept', () => {
    const s = renderMetricsService();
    expect(lines(s)).toEqual(
      expect.arrayContaining([
        '[Service]',
        'Type=oneshot',
        'ExecStart=/etc/keepalived/ha-setup/metrics.sh',
        'Nice=10',
        'RestrictAddressFamilies=AF_UNIX AF_NETLINK',
      ]),
    );
    expect(s).not.toMatch(/^PrivateNetwork=/m);
    expect(s).not.toMatch(/^\[Install\]/m);
    expect(renderMetricsService({ script: '/opt/m.sh' })).toContain('ExecStart=/opt/m.sh\n');
    expect(() => renderMetricsService({ script: 'm.sh; rm -rf /' })).toThrow();
  });

  it('timer: every 15 s from boot and from its own start, 1 s accuracy, wanted by timers.target', () => {
    expect(lines(renderMetricsTimer())).toEqual([
      '[Unit]',
      'Description=ha-setup: keepalived pair metrics every 15 s',
      '[Timer]',
      'OnActiveSec=15s',
      'OnBootSec=15s',
      'OnUnitActiveSec=15s',
      'AccuracySec=1s',
      'Unit=ha-setup-metrics.service',
      '[Install]',
      'WantedBy=timers.target',
    ]);
    expect(renderMetricsTimer({ intervalSeconds: 30 })).toContain('OnUnitActiveSec=30s\n');
    expect(() => renderMetricsTimer({ intervalSeconds: 0 })).toThrow();
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.skipIf(!analyze)('systemd-analyze verify: no warning on either unit', () => {
    const dir = tempDir('ha-units-');
    const script = writeExec(join(dir, 'metrics.sh'), '#!/bin/sh\nexit 0\n');
    writeFileSync(join(dir, 'ha-setup-metrics.service'), renderMetricsService({ script }));
    writeFileSync(join(dir, 'ha-setup-metrics.timer'), renderMetricsTimer());
    const r = spawnSync(
      'systemd-analyze',
      ['verify', join(dir, 'ha-setup-metrics.service'), join(dir, 'ha-setup-metrics.timer')],
      { encoding: 'utf8' },
    );
    expect(existsSync(script)).toBe(true);
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
