/** Which services a rollback restarts: only those that read a restored file (pure mapping, no host). */
import { describe, expect, it } from 'vitest';
import { planRestore, serviceOfPath } from '../../src/apply/restore.js';
import { NGINX_STOP_UNIT, PATHS } from '../../src/paths.js';

describe('rollback: the service of a restored path', () => {
  it('maps ha-setup’s files to the service that reads them', () => {
    expect(serviceOfPath(PATHS.keepalivedConf, [])).toBe('keepalived');
    expect(serviceOfPath(PATHS.keepalivedDropin, [])).toBe('keepalived');
    expect(serviceOfPath('/etc/default/keepalived', [])).toBe('keepalived');
    expect(serviceOfPath('/etc/sysconfig/keepalived', [])).toBe('keepalived');
    expect(serviceOfPath(`/etc/nginx/${PATHS.nginxUpstream}`, [])).toBe('nginx');
    expect(serviceOfPath(PATHS.nginxDropin, [])).toBe('nginx');
    expect(serviceOfPath(PATHS.rsyslogRule, [])).toBe('rsyslog');
  });

  it('files no service keeps open restart nothing; an unknown path restarts everything that ran', () => {
    // keepalived runs its check and notify scripts afresh each time
    for (const p of [PATHS.sysctl, PATHS.logrotate, PATHS.selinuxConfig, PATHS.checkScript, PATHS.notifyScript])
      expect(serviceOfPath(p, [])).toBeNull();
    // an nginx tree outside /etc/nginx is nginx's because it was restored as the synced directory
    expect(serviceOfPath('/opt/lb/conf', ['/opt/lb/conf'])).toBe('nginx');
    expect(serviceOfPath('/opt/lb/conf/conf.d/ha-setup-upstream.conf', ['/opt/lb/conf'])).toBe('nginx');
    expect(serviceOfPath('/opt/lb/conf/conf.d/ha-setup-upstream.conf', [])).toBe('all');
    expect(serviceOfPath('/opt/lb/conf-other/x.conf', ['/opt/lb/conf'])).toBe('all');
  });

  it("the unit that signals nginx's stop is put back as it was: stopped when the run started it", () => {
    const svc = (active: string) => ({ active, enabled: 'static', mainPid: 0 });
    const start = {
      type: 'start' as const,
      runId: 'r1',
      time: '2026-12-07T00:00:00Z',
      node: 'lb01',
      services: { nginx: svc('active'), [NGINX_STOP_UNIT]: svc('inactive') },
    };
    const file = { type: 'file' as const, path: PATHS.nginxStopUnit, existed: false };
    const now = { services: { nginx: svc('active'), [NGINX_STOP_UNIT]: svc('active') }, flags: null };
    const actions = planRestore([start, file], '/var/backups/ha-setup/r1', now);
    expect(actions.filter((a) => a.kind === 'unit').map((a) => `${a.action} ${a.name}`)).toEqual([
      'daemon-reload systemd',
      'reload-or-restart nginx',
      `stop ${NGINX_STOP_UNIT}`,
    ]);
  });
});
