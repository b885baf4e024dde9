/**
 * The per-node preconditions on facts: a VIP that is already an address of a node is only acceptable when the
 * running keepalived manages it, whether ha-setup's keepalived.conf names it or (a pair built by hand) a file it
 * includes does, as the running keepalived's own state dump says (the kavips fact).
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { preflight } from '../../src/plan/preflight.js';
import { activeActive } from '../fixtures/answers.js';
import { fresh } from '../fixtures/facts.js';

const cfg = resolveAnswers(activeActive, { env: {} });
const node = cfg.nodes[1];
const vip2 = cfg.instances[1].vips[0].address;

function holding(over: { kaActive: boolean; kavips: string[] }) {
  const f = fresh(cfg, node);
  f.interfaces[node.interface].addresses.push(`${vip2}/24`);
  f.services.keepalived = { active: over.kaActive ? 'active' : 'inactive', enabled: 'enabled', mainPid: 9 };
  f.kavips = over.kavips;
  return f;
}
const refusals = (f: ReturnType<typeof holding>) =>
  preflight(cfg, node, f, new Set()).filter((l) => l.includes('not managed by keepalived'));

describe('a VIP already on a node', () => {
  it('held by the running keepalived from an included file (no mention in keepalived.conf): accepted', () => {
    expect(refusals(holding({ kaActive: true, kavips: [vip2] }))).toEqual([]);
  });
  it('an address keepalived does not manage, or keepalived not running: refused, naming the VIP', () => {
    const why =
      `${node.name} (${node.host}): VIP ${vip2} (VI_2) is already an address of ${node.interface} ` + 'and not managed';
    expect(refusals(holding({ kaActive: true, kavips: [] }))[0]).toMatch(why);
    expect(refusals(holding({ kaActive: false, kavips: [vip2] }))[0]).toMatch(why);
  });
});
