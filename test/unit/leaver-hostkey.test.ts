/**
 * A node that left the answers is a host only a file on a node names: init connects to it with a strict host key
 * whatever ssh.hostKeyPolicy says. Its unknown key is refused before any login, with the fingerprint to check, and
 * is not written to known_hosts; once the operator adds it, the leaver is read. The leaver is a real SSH server in
 * the test process (test/helpers/ssh-server.ts); the pair's nodes are the simulated pair (test/helpers/sim-pair.ts).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { readPlanFacts, type HostSession } from '../../src/apply/session.js';
import { PreconditionError } from '../../src/errors.js';
import { PATHS } from '../../src/paths.js';
import { fingerprint } from '../../src/ssh/known-hosts.js';
import { openSession } from '../../src/ssh/session.js';
import { clone, pair } from '../fixtures/answers.js';
import { unexpected } from '../helpers/clock.js';
import { fakeIO } from '../helpers/fake-io.js';
import { SimPair } from '../helpers/sim-pair.js';
import { keyPair, startSshServer, type TestSshServer } from '../helpers/ssh-server.js';

const dir = mkdtempSync(join(tmpdir(), 'leaver-hostkey-'));
const client = keyPair();
const keyFile = join(dir, 'id_ed25519');
writeFileSync(keyFile, client.private, { mode: 0o600 });
const knownHosts = join(dir, 'known_hosts');
let srv: TestSshServer;

beforeAll(async () => {
  vi.stubEnv('HOME', dir); // no identity file, agent or known_hosts of this machine's
  srv = await startSshServer({
    users: { root: { publicKey: client.public } },
    // as root: the session's uid/sudo probe, then init's facts of a host with nothing of ha-setup (none known)
    respond: ({ command }) => ({
      stdout: command.includes('echo "@@uid"') ? '@@uid\n0\n@@sudo\nnopasswd\n@@end\n' : '@@end\n',
    }),
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await srv.close();
});

describe('a node that left the answers: its host key', () => {
  it('unknown: refused with its fingerprint even with accept-new, nothing trusted, no login tried', async () => {
    // the answers trust new keys of the nodes they name
    const cfg = resolveAnswers(
      {
        ...clone(pair),
        ssh: { hostKeyPolicy: 'accept-new', knownHostsFile: knownHosts, identityFile: keyFile, useAgent: false },
      },
      { env: {} },
    );
    cfg.answers.ssh.configFile = join(dir, 'no-ssh-config');
    const sim = new SimPair(cfg);
    const members = { nodes: [...cfg.nodes, { name: 'lb03', host: '127.0.0.1', port: srv.port, user: 'root' }] };
    sim.host('lb01').files.set(PATHS.members, { content: JSON.stringify(members), mode: '644' });
    const io = fakeIO({ env: { HA_SETUP_LOG_DIR: join(dir, 'logs') } });
    const real = await openSession(io, { nodes: [], secrets: [], answers: cfg.answers });
    const conns = { ...sim.conns };
    const end = () => Object.values(conns).forEach((c) => c.close());
    const s: HostSession = { ...real, conns, runners: {}, lockRequest: null, end };
    try {
      const e = await readPlanFacts(s, cfg, { listen: false, lock: null }).then(unexpected, (x: Error) => x);
      expect(e).toBeInstanceOf(PreconditionError);
      expect((e as PreconditionError).details[0]).toBe(
        `lb03 (127.0.0.1) left the answers but cannot be reached to take it out of the pair: its host key ` +
          `ssh-ed25519 ${fingerprint(srv.hostKeyBlob)} is not in known_hosts, and a host named only by a node's ` +
          `${PATHS.members} is never trusted on first use (whatever ssh.hostKeyPolicy says): check the fingerprint ` +
          `on the host, then add it (ssh-keyscan -p ${srv.port} 127.0.0.1 >> ${knownHosts})`,
      );
      expect(existsSync(knownHosts)).toBe(false);
      expect(io.stderr).toEqual([]);
      expect(srv.logins).toEqual([]);
      expect(srv.commands).toEqual([]);

      // the operator checked it and added it: the leaver is connected to and read (nothing of ha-setup there)
      writeFileSync(knownHosts, `${srv.hostKeyLine(`[127.0.0.1]:${srv.port}`)}\n`);
      const pf = await readPlanFacts(s, cfg, { listen: false, lock: null });
      expect(pf.leaving.map((l) => [l.node.name, l.node.host, l.node.port])).toEqual([['lb03', '127.0.0.1', srv.port]]);
      expect(srv.logins).toEqual([{ user: 'root', method: 'publickey' }]);
      expect(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      s.end();
    }
  });
});
