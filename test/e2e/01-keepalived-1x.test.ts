/**
 * Every keepalived.conf variant, rendered for keepalived 1.3.5 (CentOS 7's, which the guides install), checked by
 * the REAL 1.3.5 the lab built from the vendored source, with the check ha-setup runs on such hosts (1.3.5 has no
 * -t: templates/validate-keepalived-1x.sh starts it on the file in a private namespace and reads its log). Unit tests
 * do the same for 2.x with `keepalived -t`. In the e2e project because the 1.3.5 binary comes with the lab.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Config, type ResolvedNode } from '../../src/answers/resolve.js';
import { vrrpInstancesOf } from '../../src/answers/targets.js';
import { PATHS } from '../../src/paths.js';
import { DEFAULT_RENDER_PATHS, renderCheckScript, renderFlagScript, renderKeepalivedConf } from '../../src/render.js';
import { renderNotifyScript } from '../../src/metrics/notify.js';
import { fast, variants } from '../fixtures/answers.js';
import { keepalivedCheckAsync } from '../helpers/keepalived-check.js';
import { fullLab } from '../helpers/lab.js';

function binary(): string {
  const l = fullLab();
  if (!l.keepalived135) {
    throw new Error(
      `the lab has no keepalived 1.3.5: ${l.rpms.el7Missing ?? 'not built'} (see scripts/lab.d/README.md)`,
    );
  }
  return l.keepalived135;
}

// the scripts a 1.x configuration runs: the check, the notify hook, and flag.sh for ha-setup's state flags
const scripts = (cfg: Config, node: ResolvedNode = cfg.nodes[0]) => ({
  [PATHS.checkScript]: renderCheckScript(cfg),
  [PATHS.notifyScript]: renderNotifyScript(cfg, node),
  [PATHS.flagScript]: renderFlagScript(),
});

describe('keepalived.conf rendered for 1.3.5 passes the real 1.3.5', () => {
  it('every variant on every node (checked side by side: each check runs keepalived for seconds)', async () => {
    const bin = binary();
    const jobs: { name: string; run: () => Promise<{ code: number; output: string }> }[] = [];
    for (const [name, answers] of Object.entries(variants)) {
      const cfg = resolveAnswers(answers, { env: {} });
      for (const node of cfg.nodes) {
        const conf = renderKeepalivedConf(cfg, node, DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: ['1.3.5'] });
        const files: Record<string, string> = scripts(cfg, node);
        if (cfg.includeDir) files[`${cfg.includeDir}/00-ha-setup.conf`] = '! placeholder\n';
        const ifaces = [...new Set([node.interface, ...vrrpInstancesOf(cfg, node).map((v) => v.iface)])];
        jobs.push({ name: `${name} on ${node.name}`, run: () => keepalivedCheckAsync(conf, ifaces, files, bin) });
      }
    }
    const results: { name: string; code: number; output: string }[] = [];
    for (let i = 0; i < jobs.length; i += 6) {
      const batch = jobs.slice(i, i + 6);
      results.push(...(await Promise.all(batch.map(async (j) => ({ name: j.name, ...(await j.run()) })))));
    }
    const bad = results.filter((r) => r.code !== 0 || !/keepalived 1\.3\.5 accepted/.test(r.output));
    expect(bad.map((b) => `${b.name}: ${b.output}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
  });

  it('the check is real: the 2.x fast profile (track_file) and a typo are refused by 1.3.5', async () => {
    const bin = binary();
    const cfg = resolveAnswers(fast, { env: {} });
    const node = cfg.nodes[0];
    const two = renderKeepalivedConf(cfg, node);
    expect(two).toContain('track_file');
    const [r2, typo] = await Promise.all([
      keepalivedCheckAsync(two, [node.interface], scripts(cfg), bin),
      keepalivedCheckAsync(
        renderKeepalivedConf(cfg, node, DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: [] }).replace(
          'advert_int',
          'advert_intt',
        ),
        [node.interface],
        scripts(cfg),
        bin,
      ),
    ]);
    expect(r2.code).toBe(1);
    expect(r2.output).toMatch(/Unknown keyword 'track_file'/);
    expect(typo.code).toBe(1);
    expect(typo.output).toMatch(/Unknown keyword 'advert_intt'/);
  });

  it('an include that matches no file is fatal for 1.3.5 (why ha-setup keeps a placeholder there)', async () => {
    const cfg = resolveAnswers(variants.syncGroup, { env: {} });
    const conf = renderKeepalivedConf(cfg, cfg.nodes[0], DEFAULT_RENDER_PATHS, { self: '1.3.5', peers: [] });
    const r = await keepalivedCheckAsync(conf, [cfg.nodes[0].interface], scripts(cfg), binary());
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/Unable to find config file|did not complete/);
  });
});
