/**
 * The wizard's discovery (src/wizard/discovery.ts) over the scripted SSH fake: what it connects with, how it becomes
 * root, what it reads as the login user and as root, how a refused host key or a failed read comes back to the
 * wizard, and the ARP, IPv6 neighbour and VRRP probes; the host's answers are sections of facts captured on the
 * lab's hosts.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveAnswers, type ResolvedNode } from '../../src/answers/resolve.js';
import { parseSections } from '../../src/facts/gather.js';
import { NO_LISTENER } from '../../src/facts/vrrp.js';
import { PATHS } from '../../src/paths.js';
import type { ConnectOptions } from '../../src/ssh/ssh.js';
import { HostKeyError } from '../../src/ssh/ssh.js';
import { renderMembers } from '../../src/steps/members.js';
import { Discovery } from '../../src/wizard/discovery.js';
import { pair } from '../fixtures/answers.js';
import { fakeConn, fakeNode, gathered, type FakeConn } from '../helpers/fake-conn.js';
import { scripted, type Rule } from '../helpers/scripted.js';

const lab = vi.hoisted(() => ({
  rules: [] as Rule[],
  conns: [] as FakeConn[],
  connects: [] as ConnectOptions[],
  refuse: null as Error | null,
}));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/ssh/ssh.js')>();
  return {
    ...orig,
    connect: async (node: ResolvedNode, opts: ConnectOptions) => {
      lab.connects.push(opts);
      if (lab.refuse) throw lab.refuse;
      const c = fakeConn(
        scripted(lab.rules, () => ({ code: 127, stderr: 'not scripted' })),
        node,
      );
      lab.conns.push(c);
      return c;
    },
  };
});

/** sections of a fact capture (test/fixtures/facts-*.txt) */
const captured = (file: string) => parseSections(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8'));
const debian = captured('facts-debian12-lb02.txt');
const centos = captured('facts-centos7-converged-lb04.txt');
const rocky = captured('facts-rocky9-fresh.txt');

/** the gather script that reads `fact` first (scripts start their sections in the order asked) */
const reads = (fact: string) => (c: { text: string }) => c.text.includes(`echo "@@${fact}"`);

/** lb02 as the lab's Debian 12 host, logged in as root, over SSH from 198.18.0.1 */
const debianHost = (): Rule[] => [
  { match: reads('uid'), reply: { stdout: gathered({ uid: debian.uid, sudo: debian.sudo }) } },
  {
    match: reads('hostname'),
    reply: {
      stdout: gathered({
        hostname: debian.hostname,
        sshAddress: '198.18.0.1 40022 198.18.0.12 22',
        os: debian.os,
        interfaces: debian.interfaces,
      }),
    },
  },
  { match: reads('services'), reply: { stdout: gathered({ services: debian.services, members: '' }) } },
];

const node = () => fakeNode({ name: 'lb02', host: '198.18.0.12' });
const discovery = (password = vi.fn(async () => undefined as string | undefined)) =>
  new Discovery({ env: {}, password, log: () => undefined });

beforeEach(() => {
  lab.rules = debianHost();
  lab.conns = [];
  lab.connects = [];
  lab.refuse = null;
});

describe('Discovery.probe', () => {
  it("connects with the wizard's ssh section (keys strict), reads as its user, keepalived as root", async () => {
    const d = discovery();
    d.useSsh({ identityFile: '~/.ssh/lab_key', knownHostsFile: '/tmp/kh', hostKeyPolicy: 'accept-new' });
    const p = await d.probe(node());
    expect(lab.connects[0].ssh).toEqual({
      identityFile: '~/.ssh/lab_key',
      knownHostsFile: '/tmp/kh',
      // an unknown key is shown to the user, who trusts it: never accepted behind their back
      hostKeyPolicy: 'strict',
      connectTimeout: 10,
      useAgent: true,
    });
    expect(p).toEqual({
      ok: true,
      conn: lab.conns[0],
      info: {
        hostname: 'lb02',
        sshAddress: '198.18.0.12',
        os: 'Debian GNU/Linux 12 (bookworm)',
        family: 'debian',
        interfaces: [
          expect.objectContaining({ name: 'lo', addresses: ['127.0.0.1/8'] }),
          expect.objectContaining({ name: 'host0', up: true, addresses: ['198.18.0.12/24'] }),
        ],
        // keepalived runs there, without ha-setup's members file: a pair built by hand
        keepalived: { active: true, managed: false },
      },
    });
    const c = lab.conns[0];
    expect(c.sudo).toBe('root');
    // uid and sudo, then the host as the login user (sudo would drop SSH_CONNECTION), then keepalived as root
    expect(c.calls.map((x) => x.opts.root)).toEqual([false, false, true]);
    expect(c.calls[2].args).toContain(PATHS.flagDir);
    d.close();
  });

  it("a members file on the host: keepalived is ha-setup's", async () => {
    const members = renderMembers(resolveAnswers(structuredClone(pair), { env: {} }));
    lab.rules[2] = {
      match: reads('services'),
      reply: { stdout: gathered({ services: rocky.services, members }) },
    };
    const p = await discovery().probe(node());
    expect(p.ok && p.info.keepalived).toEqual({ active: false, managed: true });
  });

  it('a host key refused: unknown (shown to trust), changed or revoked (refused), with the key', async () => {
    const key = { type: 'ssh-ed25519', fingerprint: 'SHA256:abc', line: '198.18.0.12 ssh-ed25519 AAAA' };
    const d = discovery();
    for (const [reason, kind] of [
      ['unknown', 'unknown-key'],
      ['changed', 'changed-key'],
      ['revoked', 'changed-key'],
    ] as const) {
      lab.refuse = new HostKeyError(`host key ${reason}`, reason, key, '/tmp/kh');
      expect(await d.probe(node())).toEqual({ ok: false, kind, message: `host key ${reason}`, key });
    }
    lab.refuse = new Error('lb02 (198.18.0.12:22): unreachable: no SSH answer within 10 s');
    expect(await d.probe(node())).toEqual({
      ok: false,
      kind: 'other',
      message: 'lb02 (198.18.0.12:22): unreachable: no SSH answer within 10 s',
    });
  });

  it('a user who cannot become root, or a host that cannot be read: said, and the connection closed', async () => {
    lab.rules[0] = { match: reads('uid'), reply: { stdout: gathered({ uid: '1000', sudo: 'none' }) } };
    const n = node();
    n.user = 'ops';
    const noSudo = await discovery().probe(n);
    expect(noSudo).toEqual({
      ok: false,
      kind: 'other',
      message: 'lb02: user ops is not root and there is no sudo on the host',
    });
    expect(lab.conns[0].alive).toBe(false);

    lab.rules = debianHost();
    lab.rules[1] = { match: reads('hostname'), reply: { code: 1, stdout: '@@hostname\n', stderr: 'sh: killed' } };
    const unread = await discovery().probe(node());
    expect(unread).toEqual({
      ok: false,
      kind: 'other',
      message: "lb02: reading the host's facts failed (exit 1): sh: killed",
    });
    expect(lab.conns[1].alive).toBe(false);
  });

  it('sudo with a password: asked once, and kept as the sudo password of the connection', async () => {
    lab.rules[0] = { match: reads('uid'), reply: { stdout: gathered({ uid: '1000', sudo: 'password' }) } };
    // sudo's check of the password
    lab.rules.push({ match: (c) => c.kind === 'exec' && c.text === 'true', reply: {} });
    const password = vi.fn(async () => 'pw' as string | undefined);
    const n = node();
    n.user = 'ops';
    const p = await discovery(password).probe(n);
    expect(p.ok).toBe(true);
    expect(password).toHaveBeenCalledTimes(1);
    expect(lab.conns[0].sudo).toBe('password');
    expect(lab.conns[0].sudoPassword).toBe('pw');
  });
});

describe('Discovery.arpAnswer, ndpAnswer and listen', () => {
  it('the link-layer address that answers ARP for a VIP; null for a VIP nothing answers', async () => {
    const d = discovery();
    const p = await d.probe(node());
    if (!p.ok) throw new Error(p.message);
    lab.rules.unshift({
      match: reads('vipneighbors'),
      reply: { stdout: gathered({ vipneighbors: debian.vipneighbors }) },
    });
    expect(await d.arpAnswer(p.conn, 'host0', '198.18.0.100')).toBe('7e:48:11:67:35:a7');
    const asked = lab.conns[0].calls.at(-1)!;
    expect(asked.args).toEqual(expect.arrayContaining(['198.18.0.100', 'host0']));
    lab.rules[0] = { match: reads('vipneighbors'), reply: { stdout: gathered({ vipneighbors: rocky.vipneighbors }) } };
    expect(await d.arpAnswer(p.conn, 'host0', '198.18.0.104')).toBeNull();
  });

  it('who answers for an IPv6 VIP: its neighbour entry or an echo reply; null when nothing does', async () => {
    const d = discovery();
    const p = await d.probe(node());
    if (!p.ok) throw new Error(p.message);
    const answer = (line: string) => ({
      match: reads('vip6neighbors'),
      reply: { stdout: gathered({ vip6neighbors: line }) },
    });
    lab.rules.unshift(answer('fd00:198:18::22 aa:bb:cc:00:00:22 no'));
    expect(await d.ndpAnswer(p.conn, 'host0', 'fd00:198:18::22')).toEqual({ lladdr: 'aa:bb:cc:00:00:22', echo: false });
    const asked = lab.conns[0].calls.at(-1)!;
    // the address and the interface go in as parameters (quoted), as root (ip neigh flush)
    expect(asked.args).toEqual(expect.arrayContaining(['fd00:198:18::22', 'host0']));
    expect(asked.text).not.toContain('fd00:198:18::22');
    expect(asked.opts.root).toBe(true);
    lab.rules[0] = answer('fd00:198:18::23 - yes');
    expect(await d.ndpAnswer(p.conn, 'host0', 'fd00:198:18::23')).toEqual({ lladdr: null, echo: true });
    lab.rules[0] = answer('fd00:198:18::100 - no');
    expect(await d.ndpAnswer(p.conn, 'host0', 'fd00:198:18::100')).toBeNull();
  });

  it('the VRRP adverts heard on an interface, waited for as long as asked; no listener is an error', async () => {
    const d = discovery();
    const p = await d.probe(node());
    if (!p.ok) throw new Error(p.message);
    lab.rules.unshift({ match: reads('vrrp'), reply: { stdout: gathered({ vrrp: centos.vrrp }) } });
    const heard = await d.listen(p.conn, 'host0', 2);
    expect(new Set(heard.map((a) => JSON.stringify(a)))).toEqual(
      new Set([JSON.stringify({ src: '198.18.0.11', vrid: 51, priority: 110, version: 3 })]),
    );
    const call = lab.conns[0].calls.at(-1)!;
    expect(call.args).toEqual(expect.arrayContaining(['host0', '2']));
    expect(call.opts.timeoutMs).toBe(17_000);
    lab.rules[0] = { match: reads('vrrp'), reply: { stdout: gathered({ vrrp: NO_LISTENER }) } };
    await expect(d.listen(p.conn, 'host0', 2)).rejects.toThrow('no raw socket from perl or python3, and no tcpdump');
  });

  it('close ends every connection it opened', async () => {
    const d = discovery();
    await d.probe(node());
    await d.probe(fakeNode());
    expect(lab.conns.map((c) => c.alive)).toEqual([true, true]);
    d.close();
    expect(lab.conns.map((c) => c.alive)).toEqual([false, false]);
  });
});
