/**
 * A simulated pair for unit tests of what moves VIPs and changes hosts (apply, pair/, failover/, status/): every node
 * is a scripted connection (fake-conn.ts) answering from a small model of the host: keepalived and nginx (running,
 * enabled, masked), the VRRP link, ha-setup's state flags, files, backups and manifests, holds on lo, the handoff
 * rule, arp_ignore. Who holds each VIP follows keepalived's election from that model (the highest priority after the
 * demotions, among the nodes that can hold it; nopreempt keeps the holder), applied `lagMs` after the last change (a
 * holder that cannot hold it any more drops it at once): a wait for the VIP to move sees it move some polls later.
 *
 * Facts are answered in the facts table's formats (gather scripts section by section); what the model does not
 * hold comes from a host captured in the lab (test/fixtures/facts-debian12-lb02.txt). Streamed commands (the ha-setup
 * lock, the VIP watcher, the curl probe, tar for the nginx sync) are FakeChannels fed from the model on timers, so
 * vitest's fake timers (test/helpers/clock.ts) run them without waiting. Every call is recorded per node
 * (conn.calls), and what changed the model is logged in order in `events`, e.g. "lb01: flag demote.VI_1=1".
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepalivedNames } from '../../src/answers/instances.js';
import type { Config, ResolvedNode } from '../../src/answers/resolve.js';
import { targetsOf, type Target } from '../../src/answers/targets.js';
import type { ExecResult, Spawned } from '../../src/conn.js';
import { parseSections } from '../../src/facts/gather.js';
import { FACTS, factSh, SERVICES, VARS } from '../../src/facts/table.js';
import type { LockHolder } from '../../src/apply/lock.js';
import { NGINX_STOP_UNIT, PATHS } from '../../src/paths.js';
import { fakeConn, type FakeCall, type FakeConn } from './fake-conn.js';
import { FakeChannel, matches, type Rule } from './scripted.js';
import { shellWords } from './ssh-server.js';

const FIXTURES = join(__dirname, '..', 'fixtures');

export interface Unit {
  active: string;
  enabled: string;
}

export interface SimHost {
  node: ResolvedNode;
  mac: string;
  units: Record<string, Unit>;
  /** the VRRP interface is up */
  link: boolean;
  flags: Record<string, number>;
  files: Map<string, { content: string; mode: string }>;
  dirs: Set<string>;
  /** VIPs held on lo (a hand-over hold) */
  held: Set<string>;
  handoff: boolean;
  arpQuiet: boolean;
  /** nft on the host (the handoff rule) */
  nft: boolean;
  /** what `ss` counts as established connections on the VIPs, one value per call (then 0) */
  openConnections: number[];
  /** the installed keepalived's version (null: not installed) */
  kaversion: string | null;
  packages: Record<string, string>;
  /** nginx -t on the configuration on disk */
  nginxTest: { code: number; text: string };
  /** keepalived -t on the configuration on disk (2.0.4+) */
  kaTest: { code: number; text: string } | null;
  /** recent VRRP transitions in keepalived's log, and each nginx.upstream backend's HTTP status from here */
  transitions: string[];
  backends: Record<string, number>;
  /** the node reports itself a ready backup but never takes a VIP over */
  neverTakesOver: boolean;
  /**
   * another ha-setup run holds the lock: true (a live run's, on another controller), or its holder record with how
   * long ago it beat and was taken; a lock request that names that holder's run as stale ends it and locks
   */
  lockBusy: boolean | { holder: LockHolder; beatAgeS: number; ageS: number };
  locked: boolean;
  uid: number;
  sudo: 'nopasswd' | 'password' | 'none';
  /** run directory -> manifest lines; `${runDir}|${path}` -> the backup (null: did not exist) */
  manifests: Map<string, string[]>;
  backups: Map<string, string | null>;
  tmp: Map<string, string>;
  /** sections of a host captured in the lab, for the facts the model does not hold */
  base: Record<string, string>;
}

export interface SimOptions {
  /** ms after the last change until keepalived's election shows (default 300) */
  lagMs?: number;
  /** captured gather output the static facts come from */
  fixture?: string;
  /** hosts without keepalived (nginx serving): what init starts from; default: a pair that runs */
  fresh?: boolean;
}

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const ns = () => `${BigInt(Date.now()) * 1_000_000n}`;
const running = (u: Unit | undefined) => u?.active === 'active' || u?.active === 'reloading';

/** the holder of a lock another run holds (lockBusy: true) */
export const LIVE_HOLDER: LockHolder = {
  run: '20260101T115900Z-ffff',
  command: 'ha-setup switchover --to lb02',
  user: 'alice',
  controller: 'ops-desk',
  pid: 4242,
  since: '2026-01-01T11:59:00.000Z',
  boundS: 300,
};

export class SimPair {
  readonly hosts: Record<string, SimHost> = {};
  readonly conns: Record<string, FakeConn> = {};
  readonly events: string[] = [];
  readonly rules: (Rule & { node?: string })[] = [];
  readonly targets: Target[];
  /** the current holder of each target (null: nobody) */
  readonly holder: Record<string, string | null> = {};
  /** every streamed channel, open or not, with its command and node */
  readonly channels: { node: string; command: string; ch: FakeChannel }[] = [];
  lagMs: number;
  private changedAt = 0;
  private readonly base: Record<string, string>;

  constructor(
    readonly cfg: Config,
    opts: SimOptions = {},
  ) {
    this.lagMs = opts.lagMs ?? 300;
    this.targets = targetsOf(cfg);
    this.base = parseSections(readFileSync(join(FIXTURES, opts.fixture ?? 'facts-debian12-lb02.txt'), 'utf8'));
    cfg.nodes.forEach((n, i) => {
      const h = this.addHost(n, i);
      if (!opts.fresh) return;
      h.kaversion = null;
      delete h.packages.keepalived;
      h.units.keepalived = { active: 'inactive', enabled: '' };
    });
    for (const t of this.targets) this.holder[t.name] = null;
    this.elect(true);
  }

  /** a host of the model (a node, or another host the test connects to: a probe host, a node that left) */
  addHost(node: ResolvedNode, i = Object.keys(this.hosts).length): SimHost {
    const h: SimHost = {
      node,
      mac: `52:54:00:00:00:${(0x10 + i).toString(16)}`,
      units: {
        keepalived: { active: 'active', enabled: 'enabled' },
        nginx: { active: 'active', enabled: 'enabled' },
        rsyslog: { active: 'active', enabled: 'enabled' },
        firewalld: { active: 'inactive', enabled: 'disabled' },
      },
      link: true,
      flags: {},
      files: new Map(),
      dirs: new Set([PATHS.flagDir]),
      held: new Set(),
      handoff: false,
      arpQuiet: false,
      nft: true,
      openConnections: [],
      kaversion: '2.2.7',
      packages: { keepalived: '1:2.2.7-1+b2', nginx: '1.22.1-9+deb12u11', rsync: '3.2.7-1', curl: '7.88.1-10' },
      nginxTest: { code: 0, text: 'nginx: configuration file /etc/nginx/nginx.conf test is successful' },
      kaTest: { code: 0, text: '' },
      transitions: [],
      backends: {},
      neverTakesOver: false,
      lockBusy: false,
      locked: false,
      uid: 0,
      sudo: 'nopasswd',
      manifests: new Map(),
      backups: new Map(),
      tmp: new Map(),
      base: { ...this.base, hostname: node.name },
    };
    this.hosts[node.name] = h;
    this.connect(node);
    return h;
  }

  /** a new connection to a host (a reconnect): the node's entry in `conns` becomes it; unknown hosts are added */
  connect(node: ResolvedNode): FakeConn {
    if (!this.hosts[node.name]) this.addHost(node);
    const conn = fakeConn((c) => this.answer(node.name, c), node);
    conn.spawn = async (command) => this.spawn(node.name, command);
    this.conns[node.name] = conn;
    return conn;
  }

  host(name: string): SimHost {
    return this.hosts[name];
  }

  /** a scripted answer that comes before the model's (optionally on one node only) */
  on(match: Rule['match'], reply: Rule['reply'], opts: { node?: string; times?: number } = {}): void {
    this.rules.push({ match, reply, ...opts });
  }

  /** the model changed: keepalived elects again `lagMs` from now */
  touch(): void {
    this.changedAt = Date.now();
  }

  private event(node: string, what: string): void {
    this.events.push(`${node}: ${what}`);
  }

  /** events without the ones matching `drop` (default: none dropped) */
  eventsOf(node?: string): string[] {
    return this.events.filter((e) => !node || e.startsWith(`${node}: `));
  }

  // ---------------------------------------------------------------------------------------------------- election

  private canHold(t: Target, n: string): boolean {
    const h = this.hosts[n];
    if (!h || !this.cfg.nodes.some((x) => x.name === n)) return false;
    return (
      running(h.units.keepalived) &&
      running(h.units.nginx) &&
      h.link &&
      !h.flags.maintenance &&
      !h.flags[`handover.${t.name}`]
    );
  }

  private priority(t: Target, n: string): number {
    const p = t.instances[0].priorities[n] ?? 0;
    return p - (this.hosts[n].flags[`demote.${t.name}`] ? t.demoteWeight : 0);
  }

  /** keepalived's election now: a holder that cannot hold drops at once, the new one after the lag */
  private elect(now = false): void {
    const settled = now || Date.now() - this.changedAt >= this.lagMs;
    for (const t of this.targets) {
      const cur = this.holder[t.name];
      if (cur && !this.canHold(t, cur)) this.holder[t.name] = null;
      if (!settled) continue;
      const kept = this.holder[t.name];
      if (!t.preempt && kept) continue;
      let best: string | null = null;
      for (const n of this.cfg.nodes.map((x) => x.name)) {
        if (!this.canHold(t, n) || (n !== kept && this.hosts[n].neverTakesOver)) continue;
        if (best === null || this.priority(t, n) > this.priority(t, best)) best = n;
      }
      // an equal priority never preempts (master: auto): the holder keeps it
      if (kept && best && this.canHold(t, kept) && this.priority(t, kept) === this.priority(t, best)) best = kept;
      this.holder[t.name] = best;
    }
  }

  /** the VIPs each node holds on its interface now */
  vipsOn(node: string): string[] {
    this.elect();
    return this.targets
      .filter((t) => this.holder[t.name] === node)
      .flatMap((t) => t.instances.flatMap((i) => i.vips.map((v) => v.address)));
  }

  /** who holds each VIP now */
  holders(): Record<string, string[]> {
    this.elect();
    const out: Record<string, string[]> = {};
    for (const t of this.targets)
      for (const i of t.instances)
        for (const v of i.vips) out[v.address] = this.holder[t.name] ? [this.holder[t.name]!] : [];
    return out;
  }

  private targetOfVip(vip: string): Target | undefined {
    return this.targets.find((t) => t.instances.some((i) => i.vips.some((v) => v.address === vip)));
  }

  // ------------------------------------------------------------------------------------------------------- facts

  interfaces(name: string): string {
    const h = this.hosts[name];
    const i = h.node.interface;
    const flags = h.link ? 'BROADCAST,MULTICAST,UP,LOWER_UP' : 'BROADCAST,MULTICAST';
    const lines = [
      'link 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000' +
        '\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      `link 2: ${i}: <${flags}> mtu 1500 qdisc noqueue state ${h.link ? 'UP' : 'DOWN'} mode DEFAULT group default ` +
        `qlen 1000\\    link/ether ${h.mac} brd ff:ff:ff:ff:ff:ff`,
      'addr 1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      ...[...h.held].map((v) => `addr 1: lo    inet ${v}/32 scope global lo:hahold\\       valid_lft 8sec`),
      `addr 2: ${i}    inet ${h.node.host}/24 brd 172.16.70.255 scope global ${i}\\       valid_lft forever`,
      ...(h.link ? this.vipsOn(name) : []).map(
        (v) => `addr 2: ${i}    inet ${v}/24 scope global secondary ${i}\\       valid_lft forever`,
      ),
    ];
    return lines.join('\n');
  }

  private kadata(name: string): string {
    const h = this.hosts[name];
    if (!running(h.units.keepalived)) return '';
    this.elect();
    return (
      'dump ok\n' +
      this.targets
        .flatMap((t) =>
          // as keepalived names them on this node: its own name (instances[].names), and an IPv6 twin
          t.instances.flatMap((i) => {
            const state = this.holder[t.name] === name ? 'MASTER' : this.canHold(t, name) ? 'BACKUP' : 'FAULT';
            return keepalivedNames(i, name).map(
              (n) => ` VRRP Instance = ${n}\n   State = ${state}\n   Effective priority = ${this.priority(t, name)}`,
            );
          }),
        )
        .join('\n')
    );
  }

  private section(name: string, fact: string, vars: Record<string, string>): string {
    const h = this.hosts[name];
    switch (fact) {
      case 'hostname':
        return name;
      case 'uid':
        return String(h.uid);
      case 'sudo':
        return h.sudo;
      case 'interfaces':
        return this.interfaces(name);
      case 'services':
        return SERVICES.map((s) => {
          const u = h.units[s.replace(/\.service$/, '')] ?? { active: 'inactive', enabled: '' };
          return `${s} ${u.active} ${u.enabled} ${running(u) ? 100 : 0}`;
        }).join('\n');
      case 'kadata':
        return this.kadata(name);
      case 'flags':
        return Object.entries(h.flags)
          .map(([k, v]) => `${k} ${v}`)
          .join('\n');
      case 'kaversion':
        return h.kaversion ? `Keepalived v${h.kaversion} (01/16,2022)` : '';
      case 'kacandidate':
        return h.kaversion ? '' : '1:2.2.7-1+b2';
      case 'packages':
        return Object.entries(h.packages)
          .map(([k, v]) => `${k} ${v}`)
          .join('\n');
      case 'files':
        return (vars.FILES ?? '')
          .split(' ')
          .filter(Boolean)
          .map((p) => {
            const f = h.files.get(p);
            return f ? `@file ${p} ${f.mode}\n${Buffer.from(f.content).toString('base64')}` : `@missing ${p}`;
          })
          .join('\n');
      case 'dirs':
        return (vars.DIRS ?? '')
          .split(' ')
          .filter(Boolean)
          .map((d) => `${d} ${h.dirs.has(d) ? 'yes' : 'no'}`)
          .join('\n');
      case 'members':
        return h.files.get(PATHS.members)?.content ?? '';
      case 'nginxtest':
        return `${h.nginxTest.text}\nexit ${h.nginxTest.code}`;
      case 'katest':
        return h.kaTest ? `${h.kaTest.text}\nexit ${h.kaTest.code}` : '';
      case 'vipneighbors':
        return (vars.VIPS ?? '')
          .split(' ')
          .filter(Boolean)
          .map((v) => {
            const who = this.holders()[v]?.[0];
            return `${v} ${who && who !== name ? this.hosts[who].mac : ''}`;
          })
          .join('\n');
      case 'transitions':
        return h.transitions.join('\n');
      case 'backends':
        return (vars.BACKENDS ?? '')
          .split(' ')
          .filter(Boolean)
          .map((b) => `${b} ${h.backends[b] ?? 200}`)
          .join('\n');
      case 'vrrp':
        return '';
      default:
        return h.base[fact] ?? '';
    }
  }

  private gather(name: string, c: FakeCall): Partial<ExecResult> {
    const names = [...c.text.matchAll(/^echo "@@([a-z0-9]+)"$/gm)].map((m) => m[1]).filter((n) => n !== 'end');
    const vars = Object.fromEntries(VARS.map((v, i) => [v, c.args[i] ?? '']));
    const out = names.map((n) => `@@${n}\n${this.section(name, n, vars)}\n`).join('') + '@@end\n';
    return { stdout: out };
  }

  // ---------------------------------------------------------------------------------------------------- commands

  private systemctl(name: string, argv: readonly string[]): Partial<ExecResult> {
    const h = this.hosts[name];
    const action = argv[1];
    if (action === 'daemon-reload') return (this.event(name, 'systemctl daemon-reload'), {});
    const unitName = argv[argv.length - 1].replace(/\.service$/, '');
    const u = (h.units[unitName] ??= { active: 'inactive', enabled: 'disabled' });
    const masked = u.enabled.startsWith('masked');
    switch (action) {
      case 'is-active':
        return { stdout: `${u.active}\n`, code: running(u) ? 0 : 3 };
      case 'is-enabled':
        return { stdout: `${u.enabled}\n`, code: u.enabled === 'enabled' ? 0 : 1 };
      case 'reset-failed':
        if (u.active === 'failed') u.active = 'inactive';
        return {};
      case 'start':
      case 'restart':
      case 'reload-or-restart':
        if (masked)
          return { code: 1, stderr: `Failed to start ${unitName}.service: Unit ${unitName}.service is masked.` };
        u.active = 'active';
        break;
      case 'stop':
        u.active = 'inactive';
        break;
      case 'kill':
        u.active = 'failed';
        break;
      case 'enable':
      case 'disable':
        u.enabled = `${action}d`;
        break;
      case 'mask':
        u.enabled = argv.includes('--runtime') ? 'masked-runtime' : 'masked';
        if (argv.includes('--now')) u.active = 'inactive';
        break;
      case 'unmask':
        u.enabled = 'enabled';
        break;
    }
    // ha-setup's signalling unit: stopped with nginx (PartOf=), started with it when nginx's drop-in wants it
    if (unitName === 'nginx') {
      const signal = (h.units[NGINX_STOP_UNIT.replace(/\.service$/, '')] ??= { active: 'inactive', enabled: 'static' });
      if (!running(u)) signal.active = 'inactive';
      else if (h.files.has(PATHS.nginxDropin)) signal.active = 'active';
    }
    this.event(name, `systemctl ${action} ${unitName}`);
    this.touch();
    return {};
  }

  private setFlag(name: string, flag: string, value: string): void {
    this.hosts[name].flags[flag] = Number(value);
    this.event(name, `flag ${flag}=${value}`);
    this.touch();
  }

  private manifest(name: string, runDir: string, line: string): void {
    const h = this.hosts[name];
    const m = h.manifests.get(runDir) ?? [];
    m.push(line);
    h.manifests.set(runDir, m);
  }

  /** the runner's backup-then-change script (runner.ts withBackup): CAS, backup, manifest, then the change */
  private withBackup(name: string, c: FakeCall): Partial<ExecResult> {
    const h = this.hosts[name];
    const [path, type, runDir, existedLine, absentLine, ...rest] = c.args;
    if (c.text.includes('changed since the plan was made')) {
      const expected = rest[2];
      const cur = h.files.get(path);
      const now = cur ? sha(cur.content) : 'absent';
      if (expected !== 'any' && expected !== now)
        return { code: 75, stderr: `${path} changed since the plan was made: nothing written\n` };
    }
    if (c.text.includes('cp -a "$1" "$3/files$1"')) {
      const exists = type === 'dir' ? h.dirs.has(path) : h.files.has(path);
      h.backups.set(`${runDir}|${path}`, exists && type === 'file' ? h.files.get(path)!.content : null);
      this.manifest(name, runDir, exists ? existedLine : absentLine);
      this.event(name, `backup ${path}`);
    }
    if (c.text.includes('cat > "$t"')) {
      const content = String(c.opts.stdin ?? '');
      const dir = path.slice(0, path.lastIndexOf('/'));
      if (rest[1] === 'install') {
        h.files.set(path, { content, mode: rest[0] });
        this.event(name, `write ${path}`);
        return { stdout: `${dir}/.ha-setup.tmp.AAAAAA\n` };
      }
      const tmp = `${dir}/.ha-setup.tmp.BBBBBB`;
      h.tmp.set(tmp, content);
      h.files.set(`${tmp}#mode`, { content: rest[0], mode: rest[0] });
      this.event(name, `stage ${path}`);
      return { stdout: `${tmp}\n` };
    }
    if (c.text.includes('rm -f "$1"')) {
      h.files.delete(path);
      this.event(name, `remove ${path}`);
    }
    return {};
  }

  answer(name: string, c: FakeCall): Partial<ExecResult> | undefined {
    for (const r of this.rules) {
      if ((r.node && r.node !== name) || r.times === 0 || !matches(r.match, c)) continue;
      const out = typeof r.reply === 'function' ? r.reply(c) : r.reply;
      if (out === undefined) continue;
      if (r.times !== undefined) r.times--;
      return out;
    }
    const h = this.hosts[name];
    const t = c.text;
    if (c.kind === 'sh' && t.includes('echo "@@end"')) return this.gather(name, c);
    if (c.kind === 'run') {
      if (t === FACTS.interfaces.sh) return { stdout: this.interfaces(name) };
      if (t === factSh(FACTS.kaversion)) return { stdout: this.section(name, 'kaversion', {}) };
      if (t === 'date +%s%N') return { stdout: `${ns()}\n` };
      if (/apt-get install/.test(t)) return this.installed(name, t.split(' ').slice(-1));
      return {};
    }
    if (c.kind === 'exec') return this.exec(name, c);
    // sh scripts
    if (t.includes('>/dev/null 2>&1; echo "$?"')) return this.fixes(name, t);
    if (t.includes('"type":"flag"')) {
      // the runner's flag write (runner.ts flag): the value it had recorded in the run's manifest, then written
      const [, flag, value, runDir] = c.args;
      const before = flag in h.flags ? h.flags[flag] : null;
      this.manifest(name, runDir, JSON.stringify({ type: 'flag', name: flag, before }));
      this.setFlag(name, flag, value);
      return { stdout: `${before}\n` };
    }
    if (t.includes('printf "%s\\n" "$3" > "$1/.$2.tmp"')) return (this.setFlag(name, c.args[1], c.args[2]), {});
    if ((c.args[1] === 'file' || c.args[1] === 'dir') && c.args[2]?.startsWith(PATHS.backupRoot))
      return this.withBackup(name, c);
    if (t.includes('"$1"/manifest.jsonl')) return (this.manifest(name, c.args[0], c.args[1]), {});
    if (t.includes('ip -4 addr replace')) {
      c.args.forEach((v) => h.held.add(v));
      this.event(name, `hold ${c.args.join(' ')}`);
      return {};
    }
    if (t.includes('ip -4 addr del')) {
      c.args.forEach((v) => h.held.delete(v));
      this.event(name, `unhold ${c.args.join(' ')}`);
      return {};
    }
    // the handoff (pair/move.ts): nft there at all (and any old tables removed), a table per family and interface
    // (its address, interface and VIPs as parameters), the deadman timer; its removal
    if (t.startsWith('command -v nft')) return h.nft ? {} : { code: 3 };
    if (t.startsWith('from=$1; dev=$2') && t.includes('nft add table')) {
      h.handoff = true;
      this.event(name, `handoff on to ${c.args[0]} for ${c.args.slice(2).join(' ')}`);
      return {};
    }
    if (t.includes('--unit=ha-setup-handoff-clean')) return {};
    if (t.startsWith('nft list tables')) {
      h.handoff = false;
      this.event(name, 'handoff off');
      return {};
    }
    if (t.includes('arp_ignore')) {
      h.arpQuiet = t.includes('sysctl -qw "$k=1"');
      this.event(name, `arp_ignore ${h.arpQuiet ? 'on' : 'off'}`);
      return {};
    }
    if (t.includes('ss -Htn state established')) return { stdout: `${h.openConnections.shift() ?? 0}\n` };
    if (t.includes('command -v "$c"')) return {};
    if (t.includes('systemctl mask --runtime --now nginx'))
      return this.systemctl(name, ['systemctl', 'mask', '--runtime', '--now', 'nginx']);
    if (t.startsWith('systemctl unmask --runtime nginx')) {
      this.systemctl(name, ['systemctl', 'unmask', 'nginx']);
      if (!running(h.units.nginx)) this.systemctl(name, ['systemctl', 'start', 'nginx']);
      return { stdout: `${h.units.nginx.active}\n` };
    }
    if (t === 'systemctl stop keepalived') return this.systemctl(name, ['systemctl', 'stop', 'keepalived']);
    if (t === 'systemctl kill --signal=KILL keepalived')
      return this.systemctl(name, ['systemctl', 'kill', 'keepalived']);
    if (t.includes('systemctl is-active --quiet keepalived ||')) {
      if (!running(h.units.keepalived)) this.systemctl(name, ['systemctl', 'start', 'keepalived']);
      return { stdout: `${h.units.keepalived.active}\n` };
    }
    if (t.startsWith('nohup setsid')) {
      const [, secs, , flag] = c.args;
      h.link = false;
      this.event(name, 'link down');
      this.setFlag(name, flag, '1');
      setTimeout(() => this.linkUp(name), Number(secs) * 1000);
      return { stdout: 'started\n' };
    }
    if (t.startsWith('ip link set dev "$1" up')) {
      this.linkUp(name);
      return { stdout: 'state UP\n' };
    }
    if (t.startsWith('ls -1 "$1"')) {
      const runs = [...h.manifests.keys()].map((d) => d.slice(d.lastIndexOf('/') + 1)).sort();
      return { stdout: runs.map((r) => `${r}\n`).join('') };
    }
    if (t.includes('cp -a "$1/files$2" "$t" && mv -f "$t" "$2"') || t.startsWith('if [ -e "$1/files$2" ]')) {
      const b = h.backups.get(`${c.args[0]}|${c.args[1]}`);
      if (b === undefined || b === null) h.files.delete(c.args[1]);
      else h.files.set(c.args[1], { content: b, mode: h.files.get(c.args[1])?.mode ?? '644' });
      this.event(name, `restore ${c.args[1]}`);
      return {};
    }
    if (t.startsWith('rsync -a --delete "$1/files$2/"')) return (this.event(name, `restore ${c.args[1]}/`), {});
    if (t.startsWith('rsync -a --delete --itemize-changes')) {
      this.event(name, `rsync ${c.args[0]} -> ${c.args[1]}`);
      return { stdout: '>f.st...... nginx.conf\ncd+++++++++ sites-enabled/\n' };
    }
    if (t.includes('mktemp -d "$1/nginx-stage.XXXXXX"')) return { stdout: `${c.args[0]}/nginx-stage.CCCCCC\n` };
    if (t.includes('cat > "$1/$2"')) return (this.event(name, `copy ${c.args[1]}`), {});
    return {};
  }

  private linkUp(name: string): void {
    const h = this.hosts[name];
    if (h.link) return;
    h.link = true;
    this.event(name, 'link up');
    this.touch();
  }

  private installed(name: string, names: string[]): Partial<ExecResult> {
    const h = this.hosts[name];
    for (const n of names) {
      if (n === 'keepalived') {
        h.kaversion = '2.2.7';
        h.packages.keepalived = '1:2.2.7-1+b2';
        h.units.keepalived ??= { active: 'inactive', enabled: 'enabled' };
      } else h.packages[n] = '1.0';
    }
    this.event(name, `install ${names.join(' ')}`);
    return {};
  }

  /** verify-failover's repairs (pair.ts applyFixes): one command a line, each followed by its exit status */
  private fixes(name: string, script: string): Partial<ExecResult> {
    const codes = script
      .split('\n')
      .map((l) => shellWords(l.slice(0, l.indexOf(' >/dev/null'))))
      .map((argv) => this.exec(name, { kind: 'exec', text: argv.join(' '), args: argv, opts: {} }).code ?? 0);
    return { stdout: codes.map((x) => `${x}\n`).join('') };
  }

  private exec(name: string, c: FakeCall): Partial<ExecResult> {
    const h = this.hosts[name];
    const a = c.args;
    switch (a[0]) {
      case 'systemctl':
        return this.systemctl(name, a);
      case 'true':
        return {};
      case 'cat': {
        const m = h.manifests.get(a[1].replace(/\/manifest\.jsonl$/, ''));
        return m ? { stdout: m.map((l) => `${l}\n`).join('') } : { code: 1, stderr: 'No such file or directory\n' };
      }
      case 'rm':
        for (const p of a.slice(2)) if (h.tmp.delete(p) || h.files.delete(p)) this.event(name, `rm ${p}`);
        return {};
      case 'nginx':
        return { code: h.nginxTest.code, stderr: `${h.nginxTest.text}\n` };
      case 'ip':
        if (a[1] === 'link' && a[a.length - 1] === 'up') this.linkUp(name);
        return {};
      case 'sh':
        // installing a validated temp file (runner.ts): mv -f TMP PATH
        if (a[1] === '-c' && !a[2].startsWith('mv -f "$1" "$2"'))
          return this.answer(name, { kind: 'sh', text: a[2], args: a.slice(4), opts: c.opts }) ?? {};
        if (a[2].startsWith('mv -f "$1" "$2"')) {
          const content = h.tmp.get(a[4]) ?? '';
          const mode = h.files.get(`${a[4]}#mode`)?.content ?? '644';
          h.tmp.delete(a[4]);
          h.files.delete(`${a[4]}#mode`);
          h.files.set(a[5], { content, mode });
          this.event(name, `install ${a[5]}`);
        }
        return {};
      case 'mkdir':
        h.dirs.add(a[a.length - 1]);
        this.event(name, `mkdir ${a[a.length - 1]}`);
        return {};
      case 'dnf':
      case 'yum':
        if (a[1] === 'install') return this.installed(name, a.slice(3));
        return {};
      default:
        this.event(name, `run ${a.join(' ').slice(0, 80)}`);
        return {};
    }
  }

  // ---------------------------------------------------------------------------------------------------- streams

  private spawn(name: string, command: string): Spawned {
    const ch = new FakeChannel();
    this.channels.push({ node: name, command, ch });
    const h = this.hosts[name];
    const every = (ms: number, f: () => void) => {
      const timer = setInterval(() => (ch.ended ? clearInterval(timer) : f()), ms);
      setTimeout(() => !ch.ended && f(), 0);
      ch.on('close', () => clearInterval(timer));
    };
    const period = (def: number) => {
      const m = [...command.matchAll(/sleep (\d+\.\d+)/g)].pop();
      return m ? Math.round(Number(m[1]) * 1000) : def;
    };
    if (command.includes('ha-setup-lock')) {
      setTimeout(() => {
        const busy = h.lockBusy === true ? { holder: LIVE_HOLDER, beatAgeS: 2, ageS: 65 } : h.lockBusy;
        // the lock script's arguments: ... DIR RUN HOLDER VICTIM WAIT
        const victim = /'?([^' ]*)'? '?(\d+)'?$/.exec(command)?.[1] ?? '';
        if (busy && !(victim && victim === busy.holder.run)) {
          const b64 = Buffer.from(JSON.stringify(busy.holder)).toString('base64');
          ch.line(`busy ${b64} ${busy.beatAgeS} ${busy.ageS}`);
          return ch.exit(75);
        }
        if (busy) this.event(name, `ended the stale holder ${victim}`);
        h.lockBusy = false;
        h.locked = true;
        this.event(name, 'locked');
        ch.line('locked');
      }, 0);
      ch.on('close', () => {
        if (h.locked) this.event(name, 'unlocked');
        h.locked = false;
      });
    } else if (command.includes('ip -o addr show')) {
      // the VIPs are the loop's positional parameters, after the quoted script: sh -c '...' sh VIP...
      const vips = /' sh ([^']*)$/.exec(command)?.[1].split(' ') ?? [];
      // while the link is down the loop goes on on the host (keepalived has dropped the VIPs): its lines arrive
      // late but with their own timestamps, which is all the watcher reads
      every(period(50), () => {
        const on = h.link ? this.vipsOn(name) : [];
        ch.line(
          `${ns()}${vips
            .filter((v) => on.includes(v))
            .map((v) => ` ${v}`)
            .join('')}`,
        );
      });
    } else if (command.includes('curl')) {
      const vip = /http:\/\/\[?([0-9a-f.:]+?)\]?\//.exec(command)?.[1] ?? '';
      every(period(50), () => {
        const t = this.targetOfVip(vip);
        this.elect();
        // the holder answers; while nobody holds the VIP, a node holding it on lo (a planned move) still does
        const held = Object.values(this.hosts).find((x) => x.held.has(vip))?.node.name ?? null;
        const who = (t ? this.holder[t.name] : null) ?? held;
        const ok = who && running(this.hosts[who].units.nginx) && this.hosts[who].link;
        const s = ns();
        ch.line(`${s} ${s} ${ok ? `200 ${who}` : '000 '}`);
      });
    } else if (command.includes(' -cf -')) {
      setTimeout(() => {
        ch.push(Buffer.from('TAR-STREAM'));
        ch.exit(0);
      }, 0);
    } else if (command.includes(' -xpf -')) {
      ch.on('finish', () => {
        this.event(name, `untar ${Buffer.concat(ch.written).toString()}`);
        ch.exit(0);
      });
    }
    return ch.spawned();
  }
}
