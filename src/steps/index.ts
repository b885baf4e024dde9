/** The documented procedure, in the guides' order, then the pair's members recorded. */
import type { Step } from './types.js';
import { firewall } from './firewall.js';
import { keepalivedConfig } from './keepalived-config.js';
import { keepalivedInstall } from './keepalived-install.js';
import { logging } from './logging.js';
import { members } from './members.js';
import { metrics } from './metrics.js';
import { multicast } from './multicast.js';
import { nginx } from './nginx.js';
import { selinux } from './selinux.js';
import { services } from './services.js';

export const STEPS: Step[] = [
  selinux,
  firewall,
  multicast,
  nginx,
  keepalivedInstall,
  keepalivedConfig,
  logging,
  services,
  metrics,
  members,
];
export type { Change, FileChange, Step, StepContext, StepPlan } from './types.js';
