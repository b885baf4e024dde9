/**
 * A pair ha-setup set up, imported, set up again: the same files. Each answers fixture is rendered as init writes it
 * on every node (keepalived.conf for the node's keepalived, the check script, the notify hook), read back the way
 * `ha-setup import` reads hosts, mapped to answers, and those answers rendered again: 0 changes. None of ha-setup's
 * own blocks (state flags, the fast profile's nginx state file, the notify hook and its split-brain call) comes back
 * as an operator snippet.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Config, type ResolvedNode } from '../../src/answers/resolve.js';
import { vrrpInstancesOf } from '../../src/answers/targets.js';
import { mapImport } from '../../src/import/map.js';
import { importedPasswords } from '../../src/import/files.js';
import type { ImportResult } from '../../src/import/types.js';
import { PATHS } from '../../src/paths.js';
import { renderImport } from '../../src/report/import.js';
import { renderNotifyScript } from '../../src/metrics/notify.js';
import { DEFAULT_RENDER_PATHS, renderCheckScript, renderFlagScript, renderKeepalivedConf } from '../../src/render.js';
import { clone, fast, pair, variants } from '../fixtures/answers.js';
import { importedHost } from '../fixtures/import/hosts.js';
import { fakeIO } from '../helpers/fake-io.js';

/** each node's keepalived version: one for all, or one per node in node order */
type Versions = string | string[];
const versionOf = (cfg: Config, v: Versions, name: string) =>
  typeof v === 'string' ? v : v[cfg.nodes.findIndex((n) => n.name === name)];

/** what init writes on one node that keepalived reads or runs */
function rendered(cfg: Config, node: ResolvedNode, versions: Versions): Record<string, string> {
  const version = versionOf(cfg, versions, node.name);
  const peers = cfg.nodes.filter((n) => n.name !== node.name).map((n) => versionOf(cfg, versions, n.name));
  return {
    [PATHS.keepalivedConf]: renderKeepalivedConf(cfg, node, DEFAULT_RENDER_PATHS, { self: version, peers }),
    [PATHS.checkScript]: renderCheckScript(cfg),
    [PATHS.notifyScript]: renderNotifyScript(cfg, node),
    [PATHS.flagScript]: renderFlagScript(),
  };
}

/** the passwords (and the webhook's URL) of the answers, by the variable the import names */
function passwordEnv(cfg: Config, r: ImportResult): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of r.secrets)
    env[s.env] =
      s.instance === undefined ? cfg.alerts.webhook! : cfg.instances.find((i) => i.name === s.instance)!.authPass!;
  return env;
}

async function roundTrip(
  answers: unknown,
  versions: Versions,
  edit: (files: Record<string, string>) => Record<string, string> = (f) => f,
) {
  const cfg = resolveAnswers(answers, { env: {} });
  const hosts = await Promise.all(
    cfg.nodes.map((node) => {
      const version = versionOf(cfg, versions, node.name);
      const files = edit(rendered(cfg, node, versions));
      const holds = cfg.instances.filter((i) => i.master === node.name).flatMap((i) => i.vips.map((v) => v.address));
      return importedHost({
        given: node.host,
        hostname: node.name,
        files: { [PATHS.keepalivedConf]: files[PATHS.keepalivedConf] },
        scripts: files,
        ifs: { [node.interface]: [`${node.address ?? node.host}/24`] },
        holds,
        major: version.startsWith('1.') ? 1 : 2,
        version,
      });
    }),
  );
  const r = mapImport(hosts, { ssh: {} });
  const again = resolveAnswers(r.answers, { env: passwordEnv(cfg, r) });
  return { cfg, r, again, hosts };
}

const withAlerts = {
  ...clone(pair),
  metrics: false,
  alerts: { webhook: 'https://hooks.example.com/ha' },
  notify: { email: ['ops@example.com'], script: '/usr/local/bin/on-vrrp' },
};

const layouts: Record<string, unknown> = {
  ...variants,
  withAlerts,
  realtime: { ...clone(pair), failover: { realtime: true } },
};

describe('import of a pair ha-setup set up, then init: 0 changes', () => {
  const runs: [string, unknown, Versions][] = [];
  for (const version of ['2.2.7', '1.3.5'])
    for (const [name, answers] of Object.entries(layouts))
      // on 1.x: no real-time keyword, fast renders without its track_file, ultra is refused
      if (
        !version.startsWith('1.') ||
        (name !== 'realtime' && !['fast', 'ultra'].includes((answers as { profile?: string }).profile ?? ''))
      )
        runs.push([name, answers, version]);
  // a 2.x node with a 1.x peer in VRRPv3 unicast: ha-setup writes old_unicast_checksum on the 2.x node
  runs.push([
    'fast unicast',
    { ...clone(fast), instances: [{ ...fast.instances[0], unicast: true }] },
    ['2.2.7', '1.3.5'],
  ]);
  for (const [name, answers, version] of runs) {
    it(`${name}, keepalived ${version}`, async () => {
      const { cfg, r, again } = await roundTrip(answers, version);
      expect(r.refusals).toEqual([]);
      for (const node of cfg.nodes) {
        const after = again.nodes.find((n) => n.name === node.name)!;
        expect(after).toBeDefined();
        const before = rendered(cfg, node, version);
        const now = rendered(again, after, version);
        expect(now[PATHS.keepalivedConf]).toBe(before[PATHS.keepalivedConf]);
        expect(now[PATHS.checkScript]).toBe(before[PATHS.checkScript]);
        expect(now[PATHS.notifyScript]).toBe(before[PATHS.notifyScript]);
      }
      // nothing of ha-setup's own is an operator snippet, dropped, or kept
      expect(r.snippets).toEqual([]);
      expect(r.kept).toEqual([]);
      expect(r.dropped).toEqual([]);
      expect(r.ledger.filter((l) => l.keyword === 'notify_master_rx_lower_pri').map((l) => l.how)).toEqual(
        cfg.nodes.flatMap((n) =>
          versionOf(cfg, version, n.name) === '2.2.7' ? vrrpInstancesOf(cfg, n).map(() => 'mapped') : [],
        ),
      );
    });
  }
});

describe("ha-setup's check: its limit on nginx's answer, not keepalived's timeout for the script", () => {
  it("read from the line the check says it on; a check written before that line: keepalived's timeout", async () => {
    const answers = { ...clone(pair), healthCheck: { ...pair.healthCheck, timeout: 2 } };
    const now = await roundTrip(answers, '2.2.7');
    expect(now.r.answers.healthCheck?.timeout).toBe(2);
    expect(now.again.healthCheck.scriptTimeout).toBe(4);
    // an older ha-setup's pair: keepalived's timeout was the check's limit, and the script did not say it
    const older = await roundTrip(answers, '2.2.7', (f) => ({
      ...f,
      [PATHS.keepalivedConf]: f[PATHS.keepalivedConf].replace(
        /(vrrp_script chk_nginx \{[^}]*\n\s+timeout) 4\n/,
        '$1 3\n',
      ),
      [PATHS.checkScript]: f[PATHS.checkScript].replace(/^# healthCheck\.timeout: .*\n/m, ''),
    }));
    expect(older.r.answers.healthCheck?.timeout).toBe(3);
  });
});

describe("ha-setup's webhook: its URL is a secret the answers name a variable for", () => {
  it('alerts.webhookEnv, where the URL is; a takeover in the same run gets it from the root-only file', async () => {
    const { r, again, hosts } = await roundTrip(withAlerts, '2.2.7');
    expect(r.answers.alerts).toEqual({ webhookEnv: 'HA_WEBHOOK_URL' });
    expect(r.secrets).toContainEqual({ env: 'HA_WEBHOOK_URL', where: `lb01:${PATHS.webhookUrl}` });
    expect(JSON.stringify(r)).not.toContain('hooks.example.com');
    const io = fakeIO();
    renderImport(io, { result: r, hosts }, [], false);
    expect(io.stderr).toContain(
      'webhook: alerts.webhookEnv reads its URL from $HA_WEBHOOK_URL (the current value is in ' +
        `lb01:${PATHS.webhookUrl}): export HA_WEBHOOK_URL=...`,
    );
    expect(again.alerts.webhook).toBe('https://hooks.example.com/ha');
    hosts[0].webhookUrl = 'https://hooks.example.com/ha';
    expect(importedPasswords({ result: r, hosts })).toEqual({
      HA_VI_1_PASS: '1111',
      HA_WEBHOOK_URL: 'https://hooks.example.com/ha',
    });
    // an older hook had the URL in itself
    delete hosts[0].webhookUrl;
    hosts[0].scripts[PATHS.notifyScript] = "WEBHOOK_URL='https://x.example/h'\n";
    expect(importedPasswords({ result: r, hosts })).toMatchObject({ HA_WEBHOOK_URL: 'https://x.example/h' });
  });
});
