/**
 * Access to the lab from tests: host addresses (from the lab's state file), running a command inside a host
 * (nsenter, independent of sshd), and running the built ha-setup CLI as a real subprocess.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import type { AnswersInput } from '../../src/answers/schema.js';
import type { InitReport } from '../../src/apply/init.js';
import type { VerifyReport } from '../../src/commands/verify-failover.js';
import type { PlanJson } from '../../src/report/plan.js';
import type { PairStatus } from '../../src/status/collect.js';

type NodeInput = AnswersInput['nodes'][number];
type InstanceInput = AnswersInput['instances'][number];

export const ROOT = resolve(__dirname, '..', '..');
export const LAB_DIR = process.env.HA_LAB_DIR ?? '/run/ha-setup-lab';

export interface LabState {
  controller: string;
  prefix: string;
  iface: string;
  /** every host's IPv6 address is PREFIX6 + its IPv4 address's last octet (fd00:198:18::11), the controller ::1 */
  prefix6: string;
  /** the load balancers' second interface (host1) on the second bridge, PREFIX2.N/24 */
  iface2: string;
  prefix2: string;
  controller2: string;
  identityFile: string;
  knownHostsFile: string;
  hosts: { name: string; address: string; role: string }[];
}

export function lab(): LabState {
  return JSON.parse(readFileSync(join(LAB_DIR, 'lab.json'), 'utf8')) as LabState;
}

export function addr(name: string): string {
  const h = lab().hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no lab host ${name}`);
  return h.address;
}

/** run a command inside a lab host */
export function inHost(
  name: string,
  script: string,
  opts: { allowFail?: boolean; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'exec', name, 'sh', '-c', script], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (!opts.allowFail && r.status !== 0) throw new Error(`${name}: ${script} -> exit ${r.status}: ${r.stderr}`);
  return r;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'ha-setup'), ...args], {
      env: { ...process.env, NO_COLOR: '1', HA_SETUP_LOG_DIR: join(tmpdir(), 'ha-setup-e2e-logs'), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** the --json output of each command, typed */
export const json = {
  init: (r: CliResult) => JSON.parse(r.stdout) as InitReport,
  plan: (r: CliResult) => JSON.parse(r.stdout) as PlanJson,
  verify: (r: CliResult) => JSON.parse(r.stdout) as VerifyReport,
  status: (r: CliResult) => JSON.parse(r.stdout) as PairStatus,
};

/** a verify-failover scenario passed and restored the pair, with no reason given against it */
export function expectPassed(s: VerifyReport['scenarios'][number]): void {
  expect({ instance: s.instance, name: s.name, ok: s.ok, restored: s.restored, reasons: s.reasons }).toEqual({
    instance: s.instance,
    name: s.name,
    ok: true,
    restored: true,
    reasons: [],
  });
}

/** answers for the lab: the required sections are always there, so tests can change them in place */
export type LabAnswers = AnswersInput & {
  nodes: NodeInput[];
  instances: InstanceInput[];
  ssh: NonNullable<AnswersInput['ssh']>;
};

/**
 * The lab pair's answers, with overrides: lb01 (Debian) and lb02 (Rocky-like), so every run covers both families.
 * Their nginx layouts differ, so each keeps its own nginx (no sync) and ha-setup writes the load balancer in front
 * of web01 and web02 on both (nginx.upstream).
 */
export function labAnswers(over: Partial<AnswersInput> = {}): LabAnswers {
  const l = lab();
  return {
    nodes: [
      { name: 'lb01', host: addr('lb01'), interface: l.iface, priority: 110 },
      { name: 'lb02', host: addr('lb02'), interface: l.iface, priority: 100 },
    ],
    ssh: {
      identityFile: l.identityFile,
      knownHostsFile: l.knownHostsFile,
      hostKeyPolicy: 'strict',
      useAgent: false,
      connectTimeout: 5,
    },
    instances: [
      {
        name: 'VI_1',
        virtualRouterId: 51,
        vips: [`${l.prefix}.100/24`],
        master: 'lb01',
        authPass: 'lab1234',
        preempt: true,
      },
    ],
    profile: 'standard',
    healthCheck: { mode: 'weight', interval: 1, fall: 2, rise: 1, url: 'http://127.0.0.1/' },
    nginx: { install: true, sync: false, upstream: { backends: [`${addr('web01')}:80`, `${addr('web02')}:80`] } },
    system: { selinux: 'disable', firewall: 'disable', multicast: true },
    logging: { facility: 'local4', file: '/var/log/keepalived.log', logrotate: true },
    ...over,
  };
}

export function answersFile(data: unknown, name = 'answers.yaml'): string {
  const d = mkdtempSync(join(tmpdir(), 'ha-e2e-'));
  const p = join(d, name);
  writeFileSync(p, stringify(data));
  return p;
}

/** checksum of every file under /etc on a host (refusals must leave it unchanged) */
export function etcSum(name: string): string {
  // regular files by content, symlinks by target (never followed: /etc/mtab points into /proc)
  return inHost(
    name,
    '{ find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum; ' +
      "find /etc -xdev -type l -printf '%p -> %l\\n' | sort; } 2>/dev/null | sha256sum",
  ).stdout.trim();
}

/** the hosts holding `vip` (either family; an IPv6 VIP written as ip prints it) */
export function vipHolders(vip: string, hosts = ['lb01', 'lb02']): string[] {
  return hosts.filter(
    (h) => inHost(h, `ip -o addr show | grep -q ' ${vip}/' && echo yes || true`).stdout.trim() === 'yes',
  );
}

export function mainPid(host: string, svc: string): number {
  return Number(inHost(host, `systemctl show ${svc} -p MainPID --value`).stdout.trim());
}

// ---------------------------------------------------------------------------------------------------------------
// RHEL-like host variants, sudo users and `lab reset` (issues 10 and 11)

/** a lab host's variant: what its overlay imitates (see scripts/lab.d/README.md) */
export type LabVariant = 'debian' | 'debian-fw' | 'rocky' | 'rocky-norepo' | 'centos7' | 'centos7-norepo';

/** the RPM files the lab built for one distribution (absolute paths on the controller) */
export interface LabRpms {
  keepalived: string;
  nginx: string;
  rsync: string;
  curl: string;
}

/** lab.json in full: hosts with their variant, the sudo users, the RPM files */
export interface FullLabState extends LabState {
  dir: string;
  bridge: string;
  subnet: string;
  pairs: number;
  hosts: { name: string; address: string; role: string; variant: LabVariant }[];
  /** `sudo`: passwordless sudo; `sudoPassword`: sudo asks for `password` */
  users: { sudo: string; sudoPassword: string; password: string };
  /** el7 is absent (and el7Missing says why) when the vendored keepalived 1.3.5 source is missing */
  rpms: { el9: LabRpms; el7?: LabRpms; el7Missing?: string };
  /** the keepalived 1.3.5 binary the lab built (absent with the vendored source) */
  keepalived135?: string;
  /** the lab's keepalived one package revision later, outside its repositories: an upgrade for the tests */
  next: { deb: string; rpm: string };
}

export function fullLab(): FullLabState {
  return lab() as FullLabState;
}

export function variantOf(name: string): LabVariant {
  const h = fullLab().hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no lab host ${name}`);
  return h.variant;
}

/**
 * `scripts/lab reset HOST[:VARIANT]...`: each host rebuilt from scratch (same address and SSH host key), booted and
 * ready; lb04..lb06 are added when the lab lacks them. Throws when the lab refuses or fails.
 */
export function labReset(...specs: string[]): SpawnSyncReturns<string> {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), 'reset', ...specs], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`lab reset ${specs.join(' ')} -> exit ${r.status}: ${r.stderr}`);
  return r;
}

/** ssh to a lab host as a user, with the lab key and known_hosts (strict); `input` goes to the command's stdin */
export function labSsh(
  user: string,
  host: string,
  script: string,
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const l = lab();
  const args = [
    '-i',
    l.identityFile,
    '-o',
    `UserKnownHostsFile=${l.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
  ];
  args.push('-o', 'BatchMode=yes', '-o', 'GlobalKnownHostsFile=/dev/null', `${user}@${addr(host)}`, script);
  return spawnSync('ssh', args, { encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeoutMs ?? 20_000 });
}
