/**
 * Facts assumed for `init --dry-run --offline`: a fresh host of the given family where nothing ha-setup manages
 * exists yet (keepalived not installed, nginx installed with a default configuration, SELinux and firewalld as the
 * guides' CentOS hosts have them on rhel).
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import type { InitFacts } from './gather.js';
import type { OsFamily } from './types.js';

export function assumedFacts(cfg: Config, node: ResolvedNode, family: OsFamily): InitFacts {
  const rhel = family === 'rhel';
  const svc = (active: string, enabled: string) => ({ active, enabled, mainPid: 0 });
  return {
    assumed: true,
    os: rhel
      ? { id: 'centos', idLike: 'rhel fedora', family, version: '7', pretty: 'CentOS Linux 7 (assumed)' }
      : { id: 'debian', idLike: '', family, version: '12', pretty: 'Debian GNU/Linux 12 (assumed)' },
    pkgmanager: rhel ? 'yum' : 'apt',
    systemd: true,
    packages: { keepalived: null, nginx: '1.22.1', rsync: '3.2.7', curl: '7.88.1', nodeexporter: null },
    kaversion: null,
    // what the distribution's repositories install: CentOS 7 (the guides' OS) has 1.3.5, Debian 12 has 2.2.7
    kacandidate: rhel ? '1.3.5' : '2.2.7',
    kaupgrade: null,
    selinux: rhel ? { runtime: 'enforcing', tools: true } : { runtime: null, tools: false },
    firewalld: rhel
      ? {
          installed: true,
          active: true,
          enabled: true,
          services: ['ssh', 'dhcpv6-client'],
          protocols: [],
          ports: [],
          richRules: [],
        }
      : { installed: false, active: false, enabled: false, services: [], protocols: [], ports: [], richRules: [] },
    ufw: { installed: false, active: false },
    interfaces: {
      lo: {
        name: 'lo',
        up: true,
        multicast: false,
        flags: ['LOOPBACK', 'UP'],
        mac: '00:00:00:00:00:00',
        addresses: ['127.0.0.1/8'],
        ips: [{ address: '127.0.0.1', prefix: 8, family: 4, secondary: false }],
      },
      [node.interface]: {
        name: node.interface,
        up: true,
        multicast: true,
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mac: '00:00:00:00:00:00',
        addresses: node.address ? [`${node.address}/24`] : [],
        ips: node.address ? [{ address: node.address, prefix: 24, family: 4, secondary: false }] : [],
      },
    },
    files: rhel
      ? { '/etc/selinux/config': { exists: true, mode: '644', content: 'SELINUX=enforcing\nSELINUXTYPE=targeted\n' } }
      : {},
    services: {
      nginx: svc('active', 'enabled'),
      rsyslog: svc('active', 'enabled'),
      keepalived: svc('inactive', 'not-found'),
      firewalld: rhel ? svc('active', 'enabled') : svc('inactive', 'not-found'),
    },
    sysctl: { 'net.ipv4.ip_nonlocal_bind': '0', 'net.ipv6.ip_nonlocal_bind': '0' },
    nginxtree: null,
    vipneighbors: [],
    dirs: {},
    capbnd: null,
    nginxtest: null,
    flags: {},
    members: null,
    kavips: [],
    vrrpseen: [],
    notifyscript: null,
    bins: [],
  };
}
