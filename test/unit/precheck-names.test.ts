/**
 * Whether a node can take a target over, read under the names the node's keepalived gives the target's instances: a
 * pair taken over keeps a name per node (instances[].names), and a dual-stack instance runs as NAME and its IPv6
 * twin NAME_v6 there (verify-failover refused a kubeadm-style pair: "API_A on lb03 is not BACKUP" while lb03 runs
 * API_B and API_B_v6, both BACKUP).
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { targetsOf } from '../../src/answers/targets.js';
import { notReady } from '../../src/failover/precheck.js';
import type { NodeStatus } from '../../src/status/collect.js';
import { weightDriven } from '../fixtures/answers.js';

const cfg = resolveAnswers(
  {
    ...structuredClone(weightDriven),
    instances: [{ ...weightDriven.instances[0], vips: ['172.16.70.183/24', 'fd00:172:16::183/64'] }],
  },
  { env: {} },
);
const [target] = targetsOf(cfg);

function node(name: string, instances: [string, string][]): NodeStatus {
  return {
    node: name,
    reachable: true,
    maintenance: false,
    keepalived: 'active',
    nginx: 'active',
    instances: instances.map(([n, state]) => ({ name: n, state })),
  } as unknown as NodeStatus;
}

describe('notReady: a node read under its own instance names', () => {
  it('lb02 runs VI_API and VI_API_v6 (its names): ready when both are BACKUP', () => {
    expect(
      notReady(
        node('lb02', [
          ['VI_API', 'BACKUP'],
          ['VI_API_v6', 'BACKUP'],
        ]),
        target,
      ),
    ).toBeNull();
    expect(
      notReady(
        node('lb01', [
          ['k8s-api', 'BACKUP'],
          ['k8s-api_v6', 'BACKUP'],
        ]),
        target,
      ),
    ).toBeNull();
  });

  it('the twin not BACKUP, or the answers name where the node has its own: not ready, named', () => {
    expect(
      notReady(
        node('lb02', [
          ['VI_API', 'BACKUP'],
          ['VI_API_v6', 'FAULT'],
        ]),
        target,
      ),
    ).toBe('VI_API_v6 on lb02 is not BACKUP');
    expect(notReady(node('lb02', [['k8s-api', 'BACKUP']]), target)).toBe('VI_API, VI_API_v6 on lb02 is not BACKUP');
  });
});
