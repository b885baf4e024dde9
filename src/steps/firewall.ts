/**
 * Firewall (the guides' preparation step "firewalld"): the guides stop and disable firewalld, or add a rule that
 * lets VRRP through. system.firewall: disable (stop+disable firewalld / ufw) | open (permanent rules for VRRP, http,
 * https) | leave.
 */
import type { Change } from './types.js';
import { refuse, stepPlan, type Step } from './context.js';

export const firewall: Step = {
  id: 'firewall',
  title: 'Firewall',
  plan(ctx) {
    const want = ctx.cfg.system.firewall;
    const fw = ctx.facts.firewalld;
    const ufw = ctx.facts.ufw;
    if (want === 'leave') {
      const notes = ['system.firewall is leave: not touched'];
      if (
        fw.active &&
        !fw.protocols.includes('vrrp') &&
        !fw.richRules.some((r) => /vrrp|protocol value="112"/.test(r))
      ) {
        notes.push('firewalld is running without a VRRP rule: expect a split brain (VIP on both nodes)');
      }
      return stepPlan(this, [], [], notes);
    }
    const changes: Change[] = [];
    const handlers: Change[] = [];
    if (want === 'disable') {
      if (fw.active || fw.enabled) {
        changes.push({
          kind: 'command',
          argv: ['systemctl', 'disable', '--now', 'firewalld'],
          describe: 'stop and disable firewalld',
          undo: ['systemctl', 'enable', '--now', 'firewalld'],
          sets: { firewalld: { active: false, enabled: false }, services: { firewalld: { active: 'inactive' } } },
        });
      }
      if (ufw.active)
        changes.push({
          kind: 'command',
          argv: ['ufw', 'disable'],
          describe: 'disable ufw',
          undo: ['ufw', '--force', 'enable'],
          sets: { ufw: { active: false } },
        });
      return stepPlan(this, changes, [], fw.installed || ufw.installed ? [] : ['no firewalld or ufw installed']);
    }
    // open
    if (ufw.active) {
      return refuse(
        this,
        'ufw is active and cannot pass VRRP (IP protocol 112) by a plain rule: set system.firewall to disable or leave',
      );
    }
    if (!fw.installed) return stepPlan(this, [], [], ['no firewalld installed: nothing to open']);
    if (!fw.active) return stepPlan(this, [], [], ['firewalld is installed but not running: nothing to open']);
    if (!fw.protocols.includes('vrrp')) {
      changes.push({
        kind: 'command',
        argv: ['firewall-cmd', '--permanent', '--add-protocol=vrrp'],
        describe: 'firewalld: accept VRRP (protocol 112)',
        undo: ['firewall-cmd', '--permanent', '--remove-protocol=vrrp'],
        sets: { firewalld: { protocols: [...fw.protocols, 'vrrp'] } },
      });
    }
    const services = [...fw.services];
    for (const s of ['http', 'https']) {
      if (!services.includes(s)) {
        services.push(s);
        changes.push({
          kind: 'command',
          argv: ['firewall-cmd', '--permanent', `--add-service=${s}`],
          describe: `firewalld: accept ${s}`,
          undo: ['firewall-cmd', '--permanent', `--remove-service=${s}`],
          sets: { firewalld: { services: [...services] } },
        });
      }
    }
    // node_exporter installed by ha-setup (metrics.install) is scraped on its port
    if (ctx.cfg.metrics && ctx.cfg.metrics.install && !(fw.ports ?? []).includes('9100/tcp')) {
      changes.push({
        kind: 'command',
        argv: ['firewall-cmd', '--permanent', '--add-port=9100/tcp'],
        describe: 'firewalld: accept 9100/tcp (node_exporter, metrics.install)',
        undo: ['firewall-cmd', '--permanent', '--remove-port=9100/tcp'],
        sets: { firewalld: { ports: [...(fw.ports ?? []), '9100/tcp'] } },
      });
    }
    handlers.push({
      kind: 'command',
      argv: ['firewall-cmd', '--reload'],
      describe: 'firewalld: load the permanent rules',
    });
    return stepPlan(this, changes, handlers);
  },
};
