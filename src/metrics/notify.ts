/**
 * The keepalived notify hook that keeps the metrics' VRRP state files and posts each transition to a webhook
 * (replaces templates/notify.sh.ejs: same log line, same hand-over to the operator's notify script).
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { vrrpInstancesOf } from '../answers/targets.js';
import { FILE_CHECK_SH } from '../facts/safe-file.js';
import { PATHS } from '../paths.js';
import { renderTemplate } from '../render.js';
import { METRICS_PATHS } from './render.js';
import {
  SYSTEM_PATH,
  checkFacility,
  checkInt,
  checkName,
  checkPath,
  checkSearchPath,
  shq,
  URL_RE,
  vipAddress,
} from './shell.js';

export interface NotifyScriptData {
  /** ha-setup node name (the webhook's "node") */
  node: string;
  /** syslog facility of the logger lines (logging.facility, e.g. local4) */
  facility: string;
  /** the operator's notify script (notify.script), run with keepalived's arguments; null = none */
  operatorScript: string | null;
  /** default METRICS_PATHS.stateDir */
  stateDir?: string;
  /** the metrics script, run detached after each transition; null = no refresh */
  metricsScript: string | null;
  /**
   * POST each transition to the URL in urlFile (root-only, 0600: webhookUrlFile); headersFile: root-only (0600)
   * "Name: value" lines; null = no webhook
   */
  webhook: { urlFile: string; headersFile: string } | null;
  /** the VIPs (address, with or without /prefix) of each instance, for the webhook's "vips" */
  vipsByInstance: Record<string, string[]>;
  /** tries of a webhook POST, 1 s apart; default 3 */
  webhookTries?: number;
  /** a split brain is logged and posted at most once in this many seconds per instance; default 60 */
  splitBrainRepeatSeconds?: number;
  /** PATH the hook runs with; default /usr/sbin:/usr/bin:/sbin:/bin (tests put stub commands first) */
  path?: string;
}

/** the notify hook (install as METRICS_PATHS.notifyScript, root, 0755) */
export function renderMetricsNotifyScript(data: NotifyScriptData): string {
  const vipsByInstance: Record<string, string[]> = {};
  for (const [inst, vips] of Object.entries(data.vipsByInstance)) {
    vipsByInstance[checkName('VRRP instance name', inst)] = vips.map(vipAddress);
  }
  return renderTemplate('notify-metrics.sh.ejs', {
    sh: shq,
    node: checkName('node name', data.node),
    facility: checkFacility(data.facility),
    operatorScript: data.operatorScript === null ? null : checkPath('operator notify script', data.operatorScript),
    stateDir: checkPath('stateDir', data.stateDir ?? METRICS_PATHS.stateDir),
    metricsScript: data.metricsScript === null ? null : checkPath('metrics script', data.metricsScript),
    webhook: data.webhook && {
      urlFile: checkPath('webhook URL file', data.webhook.urlFile),
      headersFile: checkPath('webhook headers file', data.webhook.headersFile),
    },
    vipsByInstance,
    webhookTries: checkInt('webhook tries', data.webhookTries ?? 3, 1, 10),
    splitBrainRepeat: checkInt('split-brain repeat', data.splitBrainRepeatSeconds ?? 60, 0, 86400),
    path: checkSearchPath(data.path ?? SYSTEM_PATH),
    fileCheckSh: FILE_CHECK_SH,
  });
}

/**
 * ha-setup's notify hook for a node of the answers: logs each transition, keeps the metrics' state files, posts to
 * the webhook, runs notify.script
 */
export function renderNotifyScript(cfg: Config, node: ResolvedNode): string {
  return renderMetricsNotifyScript({
    node: node.name,
    facility: cfg.logging.facility,
    operatorScript: cfg.notify.script,
    stateDir: PATHS.runDir,
    metricsScript: cfg.metrics ? PATHS.metricsScript : null,
    webhook: cfg.alerts.webhook ? { urlFile: PATHS.webhookUrl, headersFile: PATHS.webhookHeaders } : null,
    vipsByInstance: Object.fromEntries(vrrpInstancesOf(cfg, node).map((v) => [v.name, v.vips.map((a) => a.address)])),
  });
}

/**
 * the webhook URL file's content: the URL on one line (the hook reads the first); throws on anything but an http(s)
 * URL without quotes, backslashes or spaces, never quoting it in the message. Write it root-only (0600).
 */
export function webhookUrlFile(url: string): string {
  if (!URL_RE.test(url)) throw new Error('webhook URL: must be http or https, without quotes, backslashes or spaces');
  return `${url}\n`;
}

/**
 * the webhook headers file's content from one value (e.g. an environment variable): "Name: value" headers
 * separated by newlines; throws on anything else (a header without a name, a control character), never quoting
 * the value in the message. Write it root-only (0600) to METRICS_PATHS.webhookHeaders.
 */
export function webhookHeadersFile(value: string): string {
  const lines = value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  lines.forEach((l, i) => {
    const control = [...l].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
    if (control || !/^[A-Za-z0-9!$%&'*+.^_`|~-][A-Za-z0-9!#$%&'*+.^_`|~-]*:/.test(l)) {
      throw new Error(`webhook headers: line ${i + 1} is not "Name: value" of printable characters`);
    }
  });
  return lines.length ? lines.join('\n') + '\n' : '';
}
