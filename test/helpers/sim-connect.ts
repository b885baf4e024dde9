/**
 * The SSH transport (src/ssh/ssh.ts) with its connect replaced by a simulated pair's connections (sim-pair.ts), for
 * tests that run commands through main(): `vi.mock('../../src/ssh/ssh.js', async (orig) =>
 * (await import('../helpers/sim-connect.js')).simTransport(await orig(), lab))`. A host in `unreachable` fails as
 * an SSH connect timeout does; every host connected to is recorded in `connected`.
 */
import type { ResolvedNode } from '../../src/answers/resolve.js';
import { PreconditionError } from '../../src/errors.js';
import type { SimPair } from './sim-pair.js';

export interface SimLab {
  sim: SimPair;
  unreachable: Set<string>;
  connected?: string[];
}

export function simTransport<T extends object>(orig: T, lab: SimLab): T {
  return {
    ...orig,
    connect: async (node: ResolvedNode) => {
      lab.connected?.push(node.name);
      if (lab.unreachable.has(node.name))
        throw new PreconditionError(`${node.name} (${node.host}:22): unreachable: no SSH answer within 10 s`);
      return lab.sim.connect(node);
    },
  };
}
