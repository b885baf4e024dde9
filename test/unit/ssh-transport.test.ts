/**
 * The SSH transport against a real SSH server in the test process (test/helpers/ssh-server.ts): host keys checked
 * against known_hosts (unknown, accept-new, changed, revoked), logins (key, password asked once, nothing left to
 * try), commands quoted for the remote shell, exit codes and signals, stdin, timeouts, sudo wrapping (without and
 * with a password), streamed channels, a dropped connection, ssh_config aliases and a ProxyJump hop; then the
 * session over several users: root, sudo without a password, sudo with one, no sudo at all.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedNode } from '../../src/answers/resolve.js';
import { OperationError, PreconditionError } from '../../src/errors.js';
import { fingerprint } from '../../src/ssh/known-hosts.js';
import { openSession } from '../../src/ssh/session.js';
import { connect, HostKeyError, oneLine, type ConnectOptions, type HostConnection } from '../../src/ssh/ssh.js';
import { fakeIO } from '../helpers/fake-io.js';
import {
  keyPair,
  shellWords,
  silentPort,
  startSshServer,
  type ExecReply,
  type ExecRequest,
  type TestSshServer,
} from '../helpers/ssh-server.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-transport-'));
const home = join(dir, 'home');
mkdirSync(home);
const client = keyPair();
const stranger = keyPair();
const keyFile = join(dir, 'id_ed25519');
const strangerFile = join(dir, 'stranger_ed25519');
writeFileSync(keyFile, client.private, { mode: 0o600 });
writeFileSync(strangerFile, stranger.private, { mode: 0o600 });
const SUDO_PW = 'lab-Sudo-9';

/** what the users are on the "host": uid and what sudo says (the session's gather reads both) */
const USERS: Record<string, { uid: number; sudo: 'nopasswd' | 'password' | 'none' }> = {
  root: { uid: 0, sudo: 'nopasswd' },
  ops: { uid: 1000, sudo: 'nopasswd' },
  opspw: { uid: 1001, sudo: 'password' },
  nosudo: { uid: 1002, sudo: 'none' },
  pwonly: { uid: 0, sudo: 'nopasswd' },
  jumper: { uid: 1003, sudo: 'none' },
};

/** what the host answers a command (already unwrapped from sudo): scripted by the test */
let answer: (cmd: string, req: ExecRequest, asRoot: boolean) => ExecReply | Promise<ExecReply> = () => ({});

async function respond(req: ExecRequest): Promise<ExecReply> {
  const w = shellWords(req.command);
  if (w[0] === 'sudo' && w[1] === '-n') return inner(w[5], req, true);
  if (w[0] === 'sudo' && w[1] === '-k') {
    const stdin = await req.stdin();
    const [pw] = stdin.split('\n');
    if (USERS[req.user]?.sudo !== 'password' || pw !== SUDO_PW)
      return { code: 1, stderr: 'sudo: 1 incorrect password attempt\n' };
    return inner(w[8], req, true);
  }
  return inner(req.command, req, false);
}

function inner(cmd: string, req: ExecRequest, sudo: boolean): ExecReply | Promise<ExecReply> {
  const u = USERS[req.user];
  // the session's gather as the login user: uid and sudo
  if (cmd.includes('echo "@@uid"')) return { stdout: `@@uid\n${u.uid}\n@@sudo\n${u.sudo}\n@@end\n` };
  if (cmd === 'true') return {};
  return answer(cmd, req, sudo || u.uid === 0);
}

/** a promise that must fail: its error (typed), or the test fails */
const unexpected = (): never => {
  throw new Error('expected a failure');
};

let srv: TestSshServer;
let knownHosts: string;
const token = () => `[127.0.0.1]:${srv.port}`;

function node(over: Partial<ResolvedNode> = {}): ResolvedNode {
  return { name: 'lb01', host: '127.0.0.1', port: srv.port, user: 'root', interface: 'eth0', priority: 100, ...over };
}

function options(over: Partial<ConnectOptions['ssh']> = {}, rest: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    ssh: {
      identityFile: keyFile,
      knownHostsFile: knownHosts,
      hostKeyPolicy: 'strict',
      connectTimeout: 5,
      useAgent: false,
      configFile: join(dir, 'no-ssh-config'),
      ...over,
    },
    env: {},
    ...rest,
  };
}

beforeAll(async () => {
  vi.stubEnv('HOME', home); // the default identity files (~/.ssh/id_*) are the test's, not this machine's
  srv = await startSshServer({
    users: {
      root: { publicKey: client.public },
      ops: { publicKey: client.public },
      opspw: { publicKey: client.public },
      nosudo: { publicKey: client.public },
      jumper: { publicKey: client.public },
      pwonly: { password: 'secret-pw' },
    },
    respond,
  });
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${srv.hostKeyLine(token())}\n`);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await srv.close();
});
beforeEach(() => {
  answer = () => ({});
});

describe('commands over a real SSH connection', () => {
  let c: HostConnection;
  const log: string[] = [];
  beforeAll(async () => {
    c = await connect(node(), options({}, { log: (l) => log.push(l) }));
  });
  afterAll(() => c.close());

  it('argv quoted for the remote shell; stdout, stderr and the exit code back; each command logged', async () => {
    answer = (cmd) =>
      cmd === "printf '%s\\n' 'a b' 'it'\\''s'"
        ? { stdout: "a b\nit's\n", stderr: 'warning: x\n', code: 3 }
        : { code: 127 };
    const before = c.commands;
    const r = await c.exec(['printf', '%s\\n', 'a b', "it's"]);
    expect(r).toEqual({ code: 3, signal: undefined, stdout: "a b\nit's\n", stderr: 'warning: x\n' });
    expect(c.commands).toBe(before + 1);
    expect(log.at(-1)).toBe(`[lb01] $ printf '%s\\n' 'a b' 'it'\\''s'\n[lb01] exit 3: warning: x`);
  });

  it('sh passes the script and its positional parameters as words; stdin reaches the command', async () => {
    let seen: string[] = [];
    answer = async (cmd, req) => {
      seen = shellWords(cmd);
      return { stdout: (await req.stdin()).toUpperCase() };
    };
    const r = await c.sh('cat > "$1"', ['/tmp/x y'], { stdin: 'content\n' });
    expect(seen).toEqual(['sh', '-c', 'cat > "$1"', 'sh', '/tmp/x y']);
    expect(r.stdout).toBe('CONTENT\n');
  });

  it('a command killed by a signal has no exit code (-1) and names the signal', async () => {
    answer = () => ({ code: null, signal: 'KILL' });
    const r = await c.run('sleep 100');
    expect(r.code).toBe(-1);
    expect(r.signal).toBe('SIGKILL');
    expect(log.at(-1)).toBe('[lb01] $ sleep 100\n[lb01] exit -1 (SIGKILL)');
  });

  it('must and mustSh throw an OperationError naming the host, what failed, the last output lines', async () => {
    answer = () => ({ code: 2, stderr: 'one\ntwo\nthree\nfour\n' });
    await expect(c.must(['systemctl', 'start', 'nginx'], 'starting nginx')).rejects.toThrow(
      new OperationError('lb01: starting nginx failed (exit 2): two | three | four'),
    );
    answer = () => ({ code: 1, stdout: 'only stdout\n' });
    await expect(c.mustSh('exit 1', [], 'the script')).rejects.toThrow('lb01: the script failed (exit 1): only stdout');
    answer = () => ({ stdout: 'fine' });
    expect((await c.must(['hostname'], 'x')).stdout).toBe('fine');
    expect((await c.mustSh('hostname', [], 'x')).stdout).toBe('fine');
  });

  it('a command that does not end in time is killed and rejected; the connection stays usable', async () => {
    answer = (cmd) => (cmd === 'sleep 1000' ? { hang: true } : { stdout: 'still here' });
    const t0 = Date.now();
    await expect(c.run('sleep 1000', { timeoutMs: 300 })).rejects.toThrow(
      /^lb01: command timed out after 0 s: sleep 1000$/,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await c.run('echo')).stdout).toBe('still here');
    expect(c.alive).toBe(true);
  });

  it('a command whose caller gives no timeout is bounded by the default: a hung one fails, never waits', async () => {
    answer = (cmd) => (cmd.includes('sleep 1000') ? { hang: true } : { stdout: 'still here' });
    // the default is 120 s; the test's connection gets a short one (ConnectOptions.commandTimeoutMs)
    const short = await connect(node(), options({}, { commandTimeoutMs: 300 }));
    try {
      const t0 = Date.now();
      await expect(short.sh('sleep 1000; echo "$1"', ['x'])).rejects.toThrow(/^lb01: command timed out after 0 s: /);
      await expect(short.must(['sleep', '1000'], 'sleeping')).rejects.toThrow(/command timed out/);
      expect(Date.now() - t0).toBeLessThan(5000);
      // a caller's own timeout still wins over the default
      answer = async () => {
        await new Promise((r) => setTimeout(r, 600));
        return { stdout: 'slow but done' };
      };
      expect((await short.run('slow', { timeoutMs: 5000 })).stdout).toBe('slow but done');
      expect(short.alive).toBe(true);
    } finally {
      short.close();
    }
    expect(c.defaultTimeoutMs).toBe(120_000);
  });

  it('sudo without a password wraps the command in sudo -n sh -c; root: false runs it as the login user', async () => {
    const ran: { command: string; root: boolean }[] = [];
    answer = (cmd, _req, asRoot) => (ran.push({ command: cmd, root: asRoot }), { stdout: 'ok' });
    c.sudo = 'nopasswd';
    try {
      await c.exec(['systemctl', 'restart', 'nginx']);
      await c.exec(['id', '-un'], { root: false });
    } finally {
      c.sudo = 'root';
    }
    expect(srv.commands.slice(-2).map((x) => x.command)).toEqual([
      "sudo -n -- sh -c 'systemctl restart nginx'",
      'id -un',
    ]);
    expect(ran.map((r) => r.command)).toEqual(['systemctl restart nginx', 'id -un']);
  });

  it('sudo with a password: sudo -k -S reads the password first, then the command gets its own stdin', async () => {
    const pw = await connect(node({ user: 'opspw' }), options());
    try {
      pw.sudo = 'password';
      pw.sudoPassword = SUDO_PW;
      answer = async (cmd, req) => ({ stdout: `${cmd}|${(await req.stdin()).split('\n').slice(1).join('\n')}` });
      const r = await pw.exec(['cat'], { stdin: 'file body' });
      expect(r).toMatchObject({ code: 0, stdout: 'cat|file body' });
      expect(srv.commands.at(-1)!.command).toBe("sudo -k -S -p '' -- sh -c cat");
      pw.sudoPassword = 'wrong';
      expect((await pw.exec(['cat'])).code).toBe(1);
    } finally {
      pw.close();
    }
  });

  it('spawn streams a channel the caller reads; closing it settles `done`', async () => {
    answer = () => ({ stream: ['locked'] });
    const { ch, done } = await c.spawn('flock -n /run/lock/x sh -c "echo locked; read"');
    const first = await new Promise<string>((r) => ch.once('data', (d: Buffer) => r(d.toString())));
    expect(first).toBe('locked\n');
    ch.close();
    expect((await done).code).toBe(-1);
    // a spawned command that ends by itself: its exit status and stderr
    answer = () => ({ code: 75, stderr: 'busy\n' });
    const s = await c.spawn('flock -n /run/lock/x true');
    s.ch.resume();
    expect(await s.done).toEqual({ code: 75, signal: undefined, stdout: '', stderr: 'busy\n' });
  });

  it('a long command is logged as its start and its end on one line', () => {
    const long = `echo ${'x'.repeat(400)}\nsecond line`;
    const flat = long.replace('\n', '\\n');
    expect(oneLine(long)).toBe(`${flat.slice(0, 200)} … ${flat.slice(-100)}`);
    expect(oneLine(long)).toMatch(/^echo x{195} … x{87}\\nsecond line$/);
    expect(oneLine('a\nb')).toBe('a\\nb');
  });
});

describe('a connection that goes away', () => {
  it('the server ending it: alive turns false and every command rejects naming the host', async () => {
    const c = await connect(node(), options());
    answer = () => ({ hang: true });
    const pending = c.run('sleep 100');
    await new Promise((r) => setTimeout(r, 50));
    srv.dropAll();
    await expect(pending).rejects.toThrow('lb01: SSH connection closed');
    expect(c.alive).toBe(false);
    await expect(c.run('true')).rejects.toThrow('lb01: SSH connection closed');
    await expect(c.spawn('true')).rejects.toThrow('lb01: SSH connection closed');
  });
  it('destroy drops the TCP connection at once', async () => {
    const c = await connect(node(), options());
    c.destroy();
    await vi.waitFor(() => expect(c.alive).toBe(false));
  });
});

describe('host keys', () => {
  it('strict: an unknown host is refused with the key it presented (for the wizard to show and trust)', async () => {
    const empty = join(dir, 'kh-empty');
    writeFileSync(empty, '');
    const logins = srv.logins.length;
    const e = await connect(node(), options({ knownHostsFile: empty })).then(unexpected, (x: unknown) => x);
    expect(e).toBeInstanceOf(HostKeyError);
    const h = e as HostKeyError;
    expect(h.reason).toBe('unknown');
    expect(h.presented.fingerprint).toBe(fingerprint(srv.hostKeyBlob));
    expect(h.presented.line).toBe(srv.hostKeyLine(token()));
    expect(h.knownHostsFile).toBe(empty);
    expect(h.message).toMatch(/^lb01 \(127\.0\.0\.1:\d+\): host key ssh-ed25519 SHA256:\S+ is not in known_hosts/);
    // refused before any login was attempted
    expect(srv.logins.length).toBe(logins);
  });

  it('accept-new: an unknown host is trusted and written down; the next strict connection knows it', async () => {
    const file = join(dir, 'kh-new', 'known_hosts');
    const added: string[] = [];
    const c = await connect(
      node(),
      options(
        { knownHostsFile: file, hostKeyPolicy: 'accept-new' },
        { onNewHostKey: (l, fp) => added.push(`${l} ${fp}`) },
      ),
    );
    c.close();
    expect(added).toEqual([`lb01 (127.0.0.1:${srv.port}) ${fingerprint(srv.hostKeyBlob)}`]);
    expect(readFileSync(file, 'utf8')).toBe(`${srv.hostKeyLine(token())}\n`);
    const again = await connect(node(), options({ knownHostsFile: file }));
    again.close();
  });

  it('a changed key is refused even with accept-new; a revoked one too', async () => {
    const other = keyPair();
    const { utils } = (await import('ssh2')).default;
    const otherKey = utils.parseKey(other.public);
    if (otherKey instanceof Error) throw otherKey;
    const changed = join(dir, 'kh-changed');
    writeFileSync(changed, `${token()} ssh-ed25519 ${otherKey.getPublicSSH().toString('base64')}\n`);
    const e = await connect(node(), options({ knownHostsFile: changed, hostKeyPolicy: 'accept-new' })).then(
      unexpected,
      (x: HostKeyError) => x,
    );
    expect(e).toBeInstanceOf(HostKeyError);
    expect((e as HostKeyError).reason).toBe('changed');
    expect((e as HostKeyError).message).toContain('HOST KEY CHANGED');
    const revoked = join(dir, 'kh-revoked');
    writeFileSync(revoked, `@revoked ${srv.hostKeyLine(token())}\n`);
    const r = await connect(node(), options({ knownHostsFile: revoked })).then(unexpected, (x: HostKeyError) => x);
    expect((r as HostKeyError).reason).toBe('revoked');
  });
});

describe('logins', () => {
  it('a key the host does not accept, then the password (asked once), kept as the sudo password', async () => {
    let asked = 0;
    const c = await connect(
      node({ user: 'pwonly' }),
      options({ identityFile: strangerFile }, { password: async () => (asked++, 'secret-pw') }),
    );
    try {
      expect(asked).toBe(1);
      expect(c.sudoPassword).toBe('secret-pw');
      expect(srv.logins.at(-1)).toEqual({ user: 'pwonly', method: 'password' });
    } finally {
      c.close();
    }
  });

  it('nothing left to try: a refusal naming the user and what was tried', async () => {
    const e = await connect(
      node({ user: 'pwonly' }),
      options({ identityFile: strangerFile }, { password: async () => 'wrong' }),
    ).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe(
      `lb01 (127.0.0.1:${srv.port}): authentication failed for user pwonly (tried: ${strangerFile})`,
    );
    const none = await connect(node({ user: 'pwonly' }), options({ identityFile: join(dir, 'missing-key') })).then(
      unexpected,
      (x: Error) => x,
    );
    expect(none.message).toMatch(/authentication failed for user pwonly \(tried: nothing: no agent, key or password\)/);
  });

  // current behaviour (see the report of issue 19): ssh2 gives up on the whole connection when the agent socket
  // does not answer, instead of going on with the identity files as OpenSSH does
  it('SSH_AUTH_SOCK is tried first: a socket that does not answer fails the connection, named', async () => {
    const e = await connect(
      node({ user: 'pwonly' }),
      options({ identityFile: strangerFile, useAgent: true }, { env: { SSH_AUTH_SOCK: join(dir, 'no-agent.sock') } }),
    ).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe(`lb01 (127.0.0.1:${srv.port}): cannot connect: Failed to connect to agent`);
  });
});

describe('reaching the host', () => {
  it('nothing listens: "cannot connect" with the system error', async () => {
    const closed = await silentPort();
    const port = closed.port;
    await closed.close();
    const e = await connect(node({ port }), options()).then(unexpected, (x: Error) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe(
      `lb01 (127.0.0.1:${port}): cannot connect: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
  it('no SSH answer within connectTimeout: unreachable', async () => {
    const silent = await silentPort();
    try {
      const e = await connect(node({ port: silent.port }), options({ connectTimeout: 1 })).then(
        unexpected,
        (x: Error) => x,
      );
      expect(e.message).toBe(`lb01 (127.0.0.1:${silent.port}): unreachable: no SSH answer within 1 s`);
    } finally {
      await silent.close();
    }
  });
  /** connect to `host` as ssh_config `cfgFile` says, run a command: the server's record of it (user, command) */
  async function commandSeenFrom(host: string, cfgFile: string) {
    const c = await connect(node({ host, port: 22 }), options({ configFile: cfgFile }));
    try {
      answer = (cmd) => ({ stdout: cmd });
      expect((await c.run('whoami', { root: false })).stdout).toBe('whoami');
      return srv.commands.at(-1);
    } finally {
      c.close();
    }
  }
  it('an ssh_config alias gives the host name, port and user (the node keeps its own name)', async () => {
    const cfgFile = join(dir, 'ssh_config_alias');
    writeFileSync(cfgFile, `Host lbalias\n  HostName 127.0.0.1\n  Port ${srv.port}\n  User ops\n`);
    expect(await commandSeenFrom('lbalias', cfgFile)).toEqual({ user: 'ops', command: 'whoami' });
  });
  it('a host defined only in a file ~/.ssh/config includes, matched by Match host: reached as ssh would', async () => {
    const cfgFile = join(dir, 'ssh_config_include');
    mkdirSync(join(dir, 'ssh_config.d'), { recursive: true });
    writeFileSync(join(dir, 'ssh_config.d', 'lab.conf'), `Host lbincluded\n  HostName 127.0.0.1\n  Port ${srv.port}\n`);
    writeFileSync(cfgFile, `Include ${dir}/ssh_config.d/*.conf\nMatch host 127.0.0.1\n  User ops\n`);
    expect(await commandSeenFrom('lbincluded', cfgFile)).toEqual({ user: 'ops', command: 'whoami' });
  });
  it('ProxyJump: the jump host is logged into first, the target is reached through a forwarded channel', async () => {
    const cfgFile = join(dir, 'ssh_config_jump');
    writeFileSync(
      cfgFile,
      // the URI form, the address in brackets (as an IPv6 one would be)
      `Host target\n  HostName 127.0.0.1\n  Port ${srv.port}\n  ProxyJump ssh://jumper@[127.0.0.1]:${srv.port}\n`,
    );
    const forwards = srv.forwards.length;
    const logins = srv.logins.length;
    const c = await connect(node({ host: 'target', port: 22 }), options({ configFile: cfgFile }));
    try {
      expect(srv.logins.slice(logins)).toEqual([
        { user: 'jumper', method: 'publickey' },
        { user: 'root', method: 'publickey' },
      ]);
      expect(srv.forwards.slice(forwards)).toEqual([{ host: '127.0.0.1', port: srv.port }]);
      answer = () => ({ stdout: 'through the jump host' });
      expect((await c.run('hostname')).stdout).toBe('through the jump host');
    } finally {
      c.close();
    }
  });
  it('ProxyJump refusals name the jump host: its login, its host key; a hop ssh refuses is refused', async () => {
    const cfgFile = join(dir, 'ssh_config_jump_bad');
    writeFileSync(
      cfgFile,
      `Host badlogin\n  HostName 127.0.0.1\n  Port ${srv.port}\n  ProxyJump pwonly@127.0.0.1:${srv.port}\n` +
        `Host badkey\n  HostName 127.0.0.1\n  Port ${srv.port}\n  ProxyJump jumper@localhost:${srv.port}\n`,
    );
    // a hop ssh refuses makes the whole file refused, as ssh would: a file of its own
    const badHopFile = join(dir, 'ssh_config_jump_badhop');
    writeFileSync(badHopFile, `Host badhop\n  HostName 127.0.0.1\n  ProxyJump a:b:c\n`);
    const login = await connect(node({ host: 'badlogin', port: 22 }), options({ configFile: cfgFile })).then(
      unexpected,
      (x: Error) => x,
    );
    expect(login).toBeInstanceOf(PreconditionError);
    expect(login.message).toBe(
      `lb01 (127.0.0.1:${srv.port}): authentication failed on the jump host pwonly@127.0.0.1 (tried: ${keyFile})`,
    );
    const key = await connect(node({ host: 'badkey', port: 22 }), options({ configFile: cfgFile })).then(
      unexpected,
      (x: Error) => x,
    );
    expect(key).toBeInstanceOf(PreconditionError);
    expect(key.message).toBe(
      `jump host localhost: host key ssh-ed25519 ${fingerprint(srv.hostKeyBlob)} is not in known_hosts ` +
        `(${knownHosts}); verify it and add it (ssh-keyscan [localhost]:${srv.port} >> known_hosts) ` +
        'or set ssh.hostKeyPolicy: accept-new',
    );
    const hop = await connect(node({ host: 'badhop', port: 22 }), options({ configFile: badHopFile })).then(
      unexpected,
      (x: Error) => x,
    );
    expect(hop).toBeInstanceOf(PreconditionError);
    expect(hop.message).toBe(
      `ssh -G badhop refused the SSH configuration: ${badHopFile} line 3: Invalid ProxyJump "a:b:c"`,
    );
  });
});

describe('a session over every node: how each one acts as root', () => {
  const logDir = join(dir, 'logs');
  const ssh = () => ({
    identityFile: keyFile,
    knownHostsFile: knownHosts,
    hostKeyPolicy: 'strict' as const,
    connectTimeout: 5,
    useAgent: false,
    configFile: join(dir, 'no-ssh-config'),
    passwordEnv: 'HA_PW',
  });
  const nodes = (...users: string[]) => users.map((u) => node({ name: `n-${u}`, user: u }));

  it('root, sudo without a password, sudo with the one of ssh.passwordEnv; secrets masked in the log', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir, HA_PW: SUDO_PW } });
    // resolveAnswers puts the password of ssh.passwordEnv among the secrets
    const cfg = { nodes: nodes('root', 'ops', 'opspw'), secrets: [SUDO_PW], answers: { ssh: ssh() } };
    const s = await openSession(io, cfg, { runId: '20260101T000000Z-test' });
    try {
      expect(Object.fromEntries(Object.entries(s.conns).map(([n, c]) => [n, c.sudo]))).toEqual({
        'n-root': 'root',
        'n-ops': 'nopasswd',
        'n-opspw': 'password',
      });
      expect(s.conns['n-opspw'].sudoPassword).toBe(SUDO_PW);
      answer = (cmd) => ({ stdout: `ran ${cmd}` });
      expect((await s.conns['n-opspw'].exec(['echo', SUDO_PW])).stdout).toBe(`ran echo ${SUDO_PW}`);
      expect(s.log.path).toBe(join(logDir, '20260101T000000Z-test.log'));
      const text = readFileSync(s.log.path, 'utf8');
      expect(text).toContain('[n-ops] $ ');
      expect(text).toContain('[n-opspw] $ echo ********');
      expect(text).not.toContain(SUDO_PW);
      // a new connection to a node acts as root the same way without asking again; the old one is closed
      const old = s.conns['n-ops'];
      const re = await s.reconnect(cfg.nodes[1], { connectTimeout: 3 });
      expect(re).not.toBe(old);
      expect(re.sudo).toBe('nopasswd');
      expect(s.conns['n-ops']).toBe(re);
      await vi.waitFor(() => expect(old.alive).toBe(false));
      // another host (a probe host): becomes root by itself, is not a node of the session
      const other = await s.reconnect(node({ name: 'client', user: 'ops' }));
      expect(other.sudo).toBe('nopasswd');
      expect(s.conns.client).toBeUndefined();
      other.close();
    } finally {
      s.close();
    }
  });

  it('the password is asked once for all hosts (and added to the secrets) when no variable gives it', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir } });
    const cfg = { nodes: nodes('opspw', 'pwonly'), secrets: [] as string[], answers: { ssh: ssh() } };
    cfg.nodes[1] = { ...cfg.nodes[1], name: 'n-opspw2', user: 'opspw' };
    const asked: string[] = [];
    const s = await openSession(io, cfg, { askPassword: async (m) => (asked.push(m), SUDO_PW) });
    s.close();
    expect(asked).toEqual(['SSH / sudo password (asked once for all hosts)']);
    expect(cfg.secrets).toEqual([SUDO_PW]);
  });

  it('a user who cannot become root, or a sudo password refused: nothing changed, one line per node', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir, HA_PW: 'not-it' } });
    const cfg = { nodes: nodes('root', 'nosudo', 'opspw'), secrets: [] as string[], answers: { ssh: ssh() } };
    const e = await openSession(io, cfg).then(unexpected, (x: PreconditionError) => x);
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e.message).toBe('cannot reach or become root on every node; nothing was changed');
    expect([...e.details].sort()).toEqual([
      'n-nosudo: user nosudo is not root and there is no sudo on the host',
      'n-opspw: sudo refused the password of opspw (or opspw may not sudo)',
    ]);
  });

  it('sudo needs a password and nothing can give one: refused, saying how to give it', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir } });
    const cfg = {
      nodes: nodes('opspw'),
      secrets: [] as string[],
      answers: { ssh: { ...ssh(), passwordEnv: undefined } },
    };
    const e = await openSession(io, cfg, { password: undefined }).then(unexpected, (x: PreconditionError) => x);
    expect(e.details).toEqual([
      'n-opspw: user opspw needs a password for sudo: set ssh.passwordEnv or run in a terminal',
    ]);
  });

  it('a password the wizard already asked is used and masked like any secret', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir } });
    const cfg = { nodes: nodes('opspw'), secrets: [] as string[], answers: { ssh: ssh() } };
    const s = await openSession(io, cfg, { password: SUDO_PW });
    s.close();
    expect(s.conns['n-opspw'].sudo).toBe('password');
    expect(cfg.secrets).toContain(SUDO_PW);
  });

  it('accept-new in a session tells the operator which key was added', async () => {
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: logDir } });
    const file = join(dir, 'kh-session', 'known_hosts');
    const cfg = {
      nodes: nodes('root'),
      secrets: [] as string[],
      answers: { ssh: { ...ssh(), knownHostsFile: file, hostKeyPolicy: 'accept-new' as const } },
    };
    const s = await openSession(io, cfg);
    s.close();
    expect(io.stderr).toEqual([
      `n-root (127.0.0.1:${srv.port}): new host key ${fingerprint(srv.hostKeyBlob)} added to known_hosts (accept-new)`,
    ]);
  });
});
