/**
 * The SSH layer against a real sshd on a lab host: every command's exit status arrives, even when the event loop
 * is busy (other hosts' work, progress rendering) and a fast command's replies land in one TCP read.
 * Regression: listeners attached one microtask after ssh2's exec callback missed the exit status ("exit -1").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { connect, type HostConnection } from '../../src/ssh/ssh.js';
import { labAnswers } from '../helpers/lab.js';

describe('ssh on a lab host', () => {
  let conn: HostConnection;
  beforeAll(async () => {
    const cfg = resolveAnswers(labAnswers());
    conn = await connect(cfg.nodes[1], { ssh: cfg.answers.ssh, env: process.env });
  });
  afterAll(() => conn?.close());

  it('exit codes of 100 fast commands under a busy event loop: none lost', async () => {
    // 25 ms of synchronous work every tick: replies pile up and are parsed in one go
    const busy = setInterval(() => {
      const t = Date.now();
      while (Date.now() - t < 25);
    }, 1);
    const codes: number[] = [];
    try {
      for (let i = 0; i < 100; i++) codes.push((await conn.sh('exit "$1"', [String(i % 3)])).code);
    } finally {
      clearInterval(busy);
    }
    expect(codes).toEqual(Array.from({ length: 100 }, (_, i) => i % 3));
  });
});
