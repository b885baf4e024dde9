/** The documented procedure, in the guides' order. */
import type { Step } from './context.js';
import { firewall } from './firewall.js';
import { keepalivedConfig } from './keepalived-config.js';
import { keepalivedInstall } from './keepalived-install.js';
import { logging } from './logging.js';
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
];
export type { Step, StepContext } from './context.js';
