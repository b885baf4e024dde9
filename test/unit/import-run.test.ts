/**
 * `ha-setup import HOST...` through main() (src/cli.ts): the session connects to every host as every command does
 * (the SSH transport's connect replaced by scripted connections answering import's scripts like the guides' 004
 * hosts, test/helpers/import-host.ts), collects, maps, and writes answers (stdout, or --out with its snippets), with
 * the report on stderr; the SSH options given on the command line reach the connection and the answers; a pair
 * ha-setup cannot take over is refused; bad arguments are refused before connecting; no local file that is there is
 * written over (--force replaces it); the hosts' text is printed with control characters escaped.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { ResolvedNode } from '../../src/answers/resolve.js';
import { main } from '../../src/cli.js';
import { runImport } from '../../src/import/run.js';
import type { ConnectOptions } from '../../src/ssh/ssh.js';
import { fakeConn } from '../helpers/fake-conn.js';
import { rawControls } from '../helpers/control.js';
import { fakeIO } from '../helpers/fake-io.js';
import { factsOf, guide004, importAnswer, type ImportHost } from '../helpers/import-host.js';

const lab = vi.hoisted(() => ({
  hosts: {} as Record<string, ImportHost>,
  connects: [] as { node: ResolvedNode; ssh: ConnectOptions['ssh'] }[],
  scripts: [] as string[],
  /** what every script after the login check answers instead (a host that fails) */
  fail: null as null | { code: number; stderr: string },
}));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/ssh/ssh.js')>();
  return {
    ...orig,
    connect: async (node: ResolvedNode, opts: ConnectOptions) => {
      lab.connects.push({ node, ssh: opts.ssh });
      const h = lab.hosts[node.host];
      return fakeConn((c) => {
        if (c.text.includes('echo "@@uid"'))
          return { stdout: `@@uid\n${node.user === 'root' ? 0 : 1000}\n@@sudo\nnopasswd\n@@end\n` };
        if (lab.fail) return lab.fail;
        lab.scripts.push(`${node.host} ${factsOf(c.text)?.includes('globs') ? 'read' : 'main'}`);
        const out = importAnswer(h, c.text, c.args);
        return out === null ? { code: 127, stderr: 'unexpected script' } : { stdout: out };
      }, node);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'import-run-'));
const ENV = { HA_SETUP_LOG_DIR: join(dir, 'logs') };

async function run(argv: string[]) {
  const io = fakeIO({ env: ENV, cwd: dir });
  const code = await main(['import', ...argv], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n'), io };
}

beforeAll(async () => {
  await import('../../src/commands/import.js');
});
beforeEach(() => {
  lab.hosts = { '172.16.70.181': guide004('KeepMaster'), '172.16.70.182': guide004('KeepBackup') };
  lab.connects.length = 0;
  lab.scripts.length = 0;
  lab.fail = null;
});

describe('import', () => {
  it("the guides' 004 pair: answers on stdout that reproduce it; decisions, passwords on stderr", async () => {
    const r = await run(['172.16.70.181', '172.16.70.182']);
    expect(r.code).toBe(0);
    const answers = parse(r.out);
    expect(answers.nodes.map((n: { name: string; host: string }) => [n.name, n.host])).toEqual([
      ['KeepMaster', '172.16.70.181'],
      ['KeepBackup', '172.16.70.182'],
    ]);
    expect(answers.instances.map((i: { name: string; master: string }) => [i.name, i.master])).toEqual([
      ['VI_1', 'KeepMaster'],
      ['VI_2', 'KeepBackup'],
    ]);
    expect(answers.healthCheck).toMatchObject({ mode: 'restart-then-stop' });
    // every host connected as root on port 22, read in one main run (and its includes), nothing else ran
    expect(lab.connects.map((c) => [c.node.host, c.node.user, c.node.port])).toEqual([
      ['172.16.70.181', 'root', 22],
      ['172.16.70.182', 'root', 22],
    ]);
    expect(lab.scripts.filter((s) => s.endsWith('main')).sort()).toEqual(['172.16.70.181 main', '172.16.70.182 main']);
    expect(r.err).toMatch(/^decided: /m);
    expect(r.err).toMatch(
      /^password: instance VI_1 reads it from \$\w+ \(the current value is at .+\): export \w+=\.\.\.$/m,
    );
    // the VRRP passwords are not in the answers: they come from the environment
    expect(r.out).not.toMatch(/authPass: \S/);
    // without --out the snippet goes to the current directory
    expect(r.err).toContain(`wrote ${join(dir, 'imported.conf')} (named by keepalived.snippets; init installs it)`);
    expect(answers.keepalived.snippets).toEqual(['./imported.conf']);
  });

  it("each keepalived version's source; a user's keepalived process is a warning, nothing of it used", async () => {
    const h = lab.hosts['172.16.70.181'];
    h.procs = [
      ...(h.procs ?? []),
      { pid: 4242, ppid: 1, uid: 1000, exe: '/home/bob/keepalived', argv: ['keepalived', '-f', '/home/bob/k.conf'] },
    ];
    const r = await run(['172.16.70.181', '172.16.70.182']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      'decided: 172.16.70.181: keepalived 2.2.4: read from /data/apps/keepalived/sbin/keepalived (not run)',
    );
    expect(r.err).toContain(
      'warning: 172.16.70.181: a process named keepalived runs as uid 1000 (pid 4242, /home/bob/keepalived): ' +
        'not the daemon, ignored',
    );
    expect(r.err).not.toContain('/home/bob/k.conf');
  });

  it('--out writes the answers (private), --json the report; SSH options reach the session', async () => {
    const out = join(dir, 'imported', '..', 'ha-setup.yaml');
    const r = await run([
      '172.16.70.181',
      '172.16.70.182',
      '--user',
      'ops',
      '--port',
      '2222',
      '--identity',
      './id_ed25519',
      '--known-hosts',
      './known_hosts',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toBe(`wrote ${out}`);
    const report = JSON.parse(r.out);
    // what keepalived allows in an included snippet (and ha-setup does not model) goes to a file beside the answers
    const snippet = join(dir, 'imported.conf');
    expect(report).toMatchObject({ ok: true, refusals: [], snippetFiles: [snippet] });
    expect(readFileSync(snippet, 'utf8')).not.toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const answers = parse(readFileSync(out, 'utf8'));
    expect(answers.keepalived.snippets).toEqual(['./imported.conf']);
    // the login goes to each node, the key and known_hosts to the ssh section
    expect(answers.ssh).toEqual({ identityFile: './id_ed25519', knownHostsFile: './known_hosts' });
    expect(answers.nodes.map((n: { user: string; port: number }) => [n.user, n.port])).toEqual([
      ['ops', 2222],
      ['ops', 2222],
    ]);
    expect(lab.connects.map((c) => [c.node.user, c.node.port])).toEqual([
      ['ops', 2222],
      ['ops', 2222],
    ]);
    expect(lab.connects[0].ssh).toMatchObject({ identityFile: './id_ed25519', knownHostsFile: './known_hosts' });
  });

  it("the wizard's takeover reads each host with its own login (user and port per node)", async () => {
    const out = await runImport(fakeIO(), {
      hosts: ['172.16.70.181', '172.16.70.182'],
      logins: [
        { user: 'ops', port: 22 },
        { user: 'admin', port: 2202 },
      ],
    });
    expect(out.result.refusals).toEqual([]);
    expect(lab.connects.map((c) => [c.node.host, c.node.user, c.node.port])).toEqual([
      ['172.16.70.181', 'ops', 22],
      ['172.16.70.182', 'admin', 2202],
    ]);
  });

  it('a pair ha-setup cannot take over safely: exit 2 with the reasons, no answers written', async () => {
    lab.hosts['172.16.70.182'] = { ...guide004('KeepMaster'), hostname: 'KeepMaster2', own: '172.16.70.182' };
    const r = await run(['172.16.70.181', '172.16.70.182']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe('ha-setup: import: ha-setup cannot take this pair over safely');
    expect(r.err).toMatch(
      /^ {2}VRID 51 \(VI_1\): split brain now: 172\.16\.70\.183 is held by KeepMaster and KeepMaster2$/m,
    );
  });

  it("the hosts' text reaches the terminal with its control characters escaped (a keyword with escapes)", async () => {
    for (const h of Object.values(lab.hosts)) {
      const k = Object.keys(h.files)[0];
      h.files[k] = h.files[k].replace('global_defs {', 'global_defs {\n   \x1b[2Jvrrp_x\x1b]0;t\x07 1');
    }
    const r = await run(['172.16.70.181', '172.16.70.182']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^dropped: KeepMaster:\S+:5: \\x1b\[2Jvrrp_x\\x1b\]0;t\\x07: keepalived 2\.x does not know/m);
    expect(rawControls(r.err)).toEqual([]);
  });

  it("a host's error output reaches the terminal with its control characters escaped (exit 1)", async () => {
    lab.fail = { code: 1, stderr: 'sh: \x1b]0;owned\x07\x1b[2Jbroken\n' };
    const r = await run(['172.16.70.181', '172.16.70.182']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('\\x1b]0;owned\\x07\\x1b[2Jbroken');
    expect(rawControls(r.err)).toEqual([]);
  });

  it('the answers and snippets never go over a file or through a link there; --force replaces them', async () => {
    const d = mkdtempSync(join(dir, 'out-'));
    const out = join(d, 'ha.yaml');
    writeFileSync(out, 'mine\n');
    writeFileSync(join(d, 'target'), 'not yours\n');
    symlinkSync(join(d, 'target'), join(d, 'imported.conf'));
    const r = await run(['172.16.70.181', '172.16.70.182', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `ha-setup: ${join(d, 'imported.conf')}, ${out}: already there, not overwritten (give --force to replace)`,
    );
    expect([readFileSync(out, 'utf8'), readFileSync(join(d, 'target'), 'utf8')]).toEqual(['mine\n', 'not yours\n']);
    expect(lstatSync(join(d, 'imported.conf')).isSymbolicLink()).toBe(true);

    const f = await run(['172.16.70.181', '172.16.70.182', '--out', out, '--force']);
    expect(f.code).toBe(0);
    // the link itself is replaced by the snippet, never what it points to; the answers are private
    expect(lstatSync(join(d, 'imported.conf')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('not yours\n');
    expect(parse(readFileSync(out, 'utf8')).keepalived.snippets).toEqual(['./imported.conf']);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).sort()).toEqual(['ha.yaml', 'imported.conf', 'target']);
    // the same import again: the files already hold what it writes, nothing is in the way
    expect((await run(['172.16.70.181', '172.16.70.182', '--out', out])).code).toBe(0);
  });

  it('bad arguments are refused before any connection (exit 2)', async () => {
    const bad: [string[], string][] = [
      [['172.16.70.181'], 'import: give every host of the pair (at least two)'],
      [['172.16.70.181', 'a b'], 'import: "a b" is not an IPv4 address or a host name'],
      [['lb01', 'lb01'], 'import: a host is given twice'],
      [['lb01', 'lb02', '--user', 'root;x'], '--user: must be a plain user name (got root;x)'],
      [['lb01', 'lb02', '--port', '70000'], '--port: must be 1..65535 (got 70000)'],
      [['lb01', 'lb02', '--out', 'a b.yaml'], '--out: must be a file path of safe characters'],
    ];
    for (const [args, msg] of bad) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`ha-setup: ${msg}`);
    }
    expect(lab.connects).toEqual([]);
  });
});
