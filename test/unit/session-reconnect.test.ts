/**
 * Connections that come back (the link scenario drops the master's): the host session's reconnect moves the node's
 * runner to the new connection and takes the ha-setup lock again (ending this run's own holder from the dead
 * connection); verify-failover's reconnect keeps a connection that still answers and otherwise tries again, ten
 * times a second apart. Against the simulated pair, its connections standing in for the SSH transport's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedNode } from '../../src/answers/resolve.js';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { openHostSession } from '../../src/apply/session.js';
import { reconnect } from '../../src/failover/restore.js';
import type { Session } from '../../src/ssh/session.js';
import { pair } from '../fixtures/answers.js';
import { drive, unexpected } from '../helpers/clock.js';
import { fakeIO } from '../helpers/fake-io.js';
import { SimPair } from '../helpers/sim-pair.js';

const lab = vi.hoisted(() => ({ sim: null as unknown as SimPair, connects: 0 }));

vi.mock('../../src/ssh/ssh.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/ssh/ssh.js')>();
  return {
    ...orig,
    connect: async (node: ResolvedNode) => {
      lab.connects++;
      return lab.sim.connect(node);
    },
  };
});

const cfgOf = () => resolveAnswers(structuredClone(pair), { env: {} });
const io = () => fakeIO({ env: { HA_SETUP_LOG_DIR: '/tmp/ha-setup-test-logs' } });

beforeEach(() => {
  vi.useFakeTimers();
  lab.connects = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

const LOCK = { command: 'ha-setup verify-failover', boundS: 1800 };

describe("the host session's reconnect", () => {
  it('the runner moves to the new connection and takes the lock over from the dead one', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const s = await drive(openHostSession(io(), cfg, { lock: LOCK, runId: '20260101T000000Z-rcon' }));
    try {
      const old = s.conns.lb01;
      const oldRunner = s.runners.lb01;
      expect(oldRunner.locked).toBe(true);
      const c = await drive(s.reconnect(cfg.nodes[0]));
      expect(c).not.toBe(old);
      expect(s.conns.lb01).toBe(c);
      expect(s.runners.lb01).not.toBe(oldRunner);
      expect(s.runners.lb01.conn).toBe(c);
      expect(s.runners.lb01.locked).toBe(true);
      expect(oldRunner.locked).toBe(false);
      const locks = lab.sim.channels.filter((x) => x.node === 'lb01' && x.command.includes('ha-setup-lock'));
      // the lock script's last arguments: the run whose holder to end first, and how long to wait for the lock
      expect(locks.map((x) => x.command.split(' ').slice(-2).join(' '))).toEqual(["'' 0", '20260101T000000Z-rcon 10']);
      expect(locks[0].ch.ended).toBe(true);
    } finally {
      s.end();
    }
    expect(lab.sim.host('lb01').locked).toBe(false);
  });

  it('the lock cannot be taken again: said, and the new connection is still used', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const out = io();
    const s = await drive(openHostSession(out, cfg, { lock: LOCK }));
    lab.sim.host('lb02').lockBusy = true;
    const c = await drive(s.reconnect(cfg.nodes[1]));
    expect(s.conns.lb02).toBe(c);
    expect(s.runners.lb02.locked).toBe(false);
    expect(out.stderr).toEqual([
      'lb02: the ha-setup lock could not be taken again: lb02: another ha-setup run holds the lock on this host: ' +
        '`ha-setup switchover --to lb02` by alice on ops-desk (pid 4242), since 2026-01-01T11:59:00.000Z (65 s ago), ' +
        'last heard 2 s ago; --wait-lock SECONDS waits for it',
    ]);
    s.end();
  });

  it('without the lock (status, dry runs) a reconnect takes none', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const s = await drive(openHostSession(io(), cfg));
    await drive(s.reconnect(cfg.nodes[0]));
    expect(s.runners.lb01.locked).toBe(false);
    expect(lab.sim.channels).toEqual([]);
    s.end();
  });
});

describe("verify-failover's reconnect", () => {
  function session(conns: Session['conns'], again: Session['reconnect']): Pick<Session, 'conns' | 'reconnect'> {
    return { conns, reconnect: again };
  }

  it('a connection that still answers is kept', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const again = vi.fn();
    const c = await drive(reconnect({ session: session(lab.sim.conns, again) as Session }, cfg.nodes[0]));
    expect(c).toBe(lab.sim.conns.lb01);
    expect(again).not.toHaveBeenCalled();
    expect(lab.sim.conns.lb01.calls.at(-1)).toMatchObject({ kind: 'run', text: 'true', opts: { timeoutMs: 3000 } });
  });

  it('a dead one is replaced; one that cannot be replaced is tried ten times, a second apart', async () => {
    const cfg = cfgOf();
    lab.sim = new SimPair(cfg);
    const conns = { ...lab.sim.conns };
    conns.lb01.close();
    const fresh = lab.sim.connect(cfg.nodes[0]);
    const ok = vi.fn().mockRejectedValueOnce(new Error('lb01: unreachable')).mockResolvedValue(fresh);
    expect(await drive(reconnect({ session: session(conns, ok) as Session }, cfg.nodes[0]))).toBe(fresh);
    expect(ok).toHaveBeenCalledTimes(2);
    expect(ok.mock.calls[0][1]).toEqual({ connectTimeout: 5 });

    const never = vi.fn().mockRejectedValue(new Error('lb01 (172.16.70.181:22): unreachable'));
    // an old connection that does not answer any more counts as dead
    const mute = { ...lab.sim.conns };
    lab.sim.on((c) => c.text === 'true', { code: 255 }, { node: 'lb01' });
    const start = Date.now();
    const e = await drive(reconnect({ session: session(mute, never) as Session }, cfg.nodes[0])).then(
      unexpected,
      (x: Error) => x,
    );
    expect(e.message).toBe('lb01 (172.16.70.181:22): unreachable');
    expect(never).toHaveBeenCalledTimes(10);
    expect(Date.now() - start).toBeGreaterThanOrEqual(10_000);
  });
});
