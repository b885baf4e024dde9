/**
 * Members: the nodes of the pair, recorded on every node at the end of each init. The next init reads it back, so
 * a node taken out of the answers is found and deconfigured (steps/deconfigure.ts) instead of staying a silent
 * member that still advertises the pair's VRIDs; `status` reports hosts that act for the pair without being one.
 */
import type { Config } from '../answers/resolve.js';
import type { Members } from '../facts/types.js';
import { PATHS } from '../paths.js';
import { fileChange, stepPlan, type Step } from './context.js';

export function membersOf(cfg: Config): Members {
  return { nodes: cfg.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, user: n.user })) };
}

export function renderMembers(cfg: Config): string {
  return JSON.stringify(membersOf(cfg), null, 2) + '\n';
}

export const members: Step = {
  id: 'members',
  title: 'Members of the pair recorded',
  plan(ctx) {
    const changes = fileChange(ctx, PATHS.members, renderMembers(ctx.cfg), '644');
    return stepPlan(this, changes, [], changes.length ? [] : ['members unchanged']);
  },
};
