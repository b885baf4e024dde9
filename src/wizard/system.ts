/**
 * The system around keepalived: the web backends nginx balances (or none: each node keeps its own configuration;
 * between a Debian and a RHEL-family host nothing is copied), SELinux and the firewall.
 */
import { reach } from './hosts.js';
import { validators } from './prompter.js';
import { say, type Partial, type WizardState } from './state.js';

/** the nginx section: the backends, and whether the configuration is synced (not between OS families) */
export async function askNginx(s: WizardState): Promise<void> {
  const { a, p } = s;
  const text = (
    await p.input({
      message:
        "Web backends behind the pair, HOST:PORT comma-separated (the guides' upstream; empty: keep your own " +
        'nginx configuration)',
      default: '',
      validate: validators.backends,
    })
  ).trim();
  const backends = text.split(/[\s,]+/).filter(Boolean);
  // the guides copy the source's /etc/nginx to the others: not between a Debian and a RHEL-family host
  const families = new Set<string>();
  for (const n of a.nodes as Partial[]) {
    const k = await reach(s, n);
    if (k) families.add(k.info.family);
  }
  const mixed = families.size > 1;
  if (mixed) {
    say(
      s,
      'the load balancers run different OS families (Debian and RHEL): each keeps its own nginx configuration ' +
        '(nginx.sync: false)' +
        (backends.length ? '; ha-setup writes the same load balancer for the backends on every node' : ''),
    );
  }
  a.nginx = { ...(mixed ? { sync: false } : {}), ...(backends.length ? { upstream: { backends } } : {}) };
}

/** the system section: SELinux and the firewall */
export async function askSystem(s: WizardState): Promise<void> {
  const { a, p } = s;
  const selinux = await p.select({
    message: 'SELinux (the guides disable it)',
    choices: [
      { value: 'disable', name: 'disable: setenforce 0 and SELINUX=disabled' },
      { value: 'permissive', name: 'permissive' },
      { value: 'leave', name: 'leave as it is' },
    ],
    default: 'disable',
  });
  const firewall = await p.select({
    message: 'Firewall',
    choices: [
      { value: 'disable', name: 'disable firewalld (the guides)' },
      { value: 'open', name: 'keep firewalld, open VRRP, http, https' },
      { value: 'leave', name: 'leave as it is (VRRP must already pass, or the pair splits)' },
    ],
    default: 'disable',
  });
  a.system = { selinux, firewall, multicast: true };
}
