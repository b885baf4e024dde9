/**
 * Watching the pair on the lab: init with metrics.install installs the distribution's node_exporter (apt on lb01,
 * the lab's RPM through dnf on lb02) and ha-setup's series are there through port 9100 with the values `status`
 * shows; a webhook receiver on the client host gets one JSON body per transition (the token header from the
 * environment); keepalived stopped on the master turns the backup's state series to 2 at once (the notify hook) and
 * moves the transitions counter; a split brain made by hand (VRRP dropped on the backup) is reported by both nodes,
 * and the shipped rules fire on the scraped values in `promtool test rules`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { addr, answersFile, cli, inHost, json, lab, labAnswers, labReset, vipHolders } from '../helpers/lab.js';

const VIP = () => `${lab().prefix}.100`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ha_setup_* samples from a node's node_exporter: "name{labels}" -> value */
function scrape(host: string): Map<string, number> {
  const r = spawnSync('curl', ['-s', '-m', '5', `http://${addr(host)}:9100/metrics`], { encoding: 'utf8' });
  const out = new Map<string, number>();
  for (const l of r.stdout.split('\n')) {
    const m = /^(ha_setup_[a-z_]+\{[^}]*\}) (\S+)$/.exec(l);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}
const get = (m: Map<string, number>, name: string, labels: string) =>
  [...m.entries()].find(([k]) => k.startsWith(`${name}{`) && labels.split(',').every((l) => k.includes(l)))?.[1];

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(500);
  }
}

const RECEIVER = `import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open('/tmp/hooks.log', 'a') as f:
            f.write(json.dumps({'auth': self.headers.get('Authorization'), 'body': json.loads(body)}) + '\\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('0.0.0.0', 8088), H).serve_forever()
`;

const hooks = () =>
  inHost('client', 'cat /tmp/hooks.log 2>/dev/null || true')
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { auth: string | null; body: Record<string, unknown> });

describe('metrics through node_exporter, alerts to a webhook, the rules on real values', () => {
  const env = { HA_HOOK_HEADERS: 'Authorization: Bearer lab-token-9' };
  let file = '';
  afterAll(() => {
    inHost('lb02', 'nft delete table inet hasplit 2>/dev/null || true', { allowFail: true });
    inHost('client', 'systemctl stop ha-hook 2>/dev/null || true', { allowFail: true });
  });

  it('init installs node_exporter and the series match status', async () => {
    labReset('lb01:debian', 'lb02:rocky', 'lb03:debian');
    inHost(
      'client',
      `cat > /tmp/hook.py <<'EOF'\n${RECEIVER}EOF\n` +
        'rm -f /tmp/hooks.log; systemd-run --unit ha-hook /usr/bin/python3 /tmp/hook.py',
    );
    const a = labAnswers({
      metrics: { install: true },
      alerts: { webhook: `http://${addr('client')}:8088/hook`, webhookHeadersEnv: 'HA_HOOK_HEADERS' },
    });
    file = answersFile(a);
    const r = await cli(['init', '--answers', file, '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('lab-token-9');
    expect(inHost('lb01', 'stat -c %a /etc/keepalived/ha-setup/webhook.headers').stdout.trim()).toBe('600');
    const s = json.status(await cli(['status', '--answers', file, '--json']));
    for (const n of ['lb01', 'lb02']) {
      const m = await until(`${n} series`, () => {
        const x = scrape(n);
        return x.size ? x : undefined;
      });
      const st = s.nodes.find((x) => x.node === n)!;
      expect(get(m, 'ha_setup_vrrp_state', `node="${n}"`)).toBe(st.instances[0].state === 'MASTER' ? 2 : 1);
      expect(get(m, 'ha_setup_vip_held', `node="${n}"`)).toBe(st.addresses.includes(VIP()) ? 1 : 0);
      expect(get(m, 'ha_setup_nginx_up', `node="${n}"`)).toBe(1);
      expect(get(m, 'ha_setup_maintenance', `node="${n}"`)).toBe(0);
      expect(get(m, 'ha_setup_check_ok', `node="${n}"`)).toBe(1);
    }
  });

  it('keepalived stopped on the master: the backup reports master at once, a webhook per transition', async () => {
    const before = get(scrape('lb02'), 'ha_setup_vrrp_transitions_total', 'node="lb02"') ?? 0;
    inHost('lb01', 'systemctl stop keepalived');
    await until('lb02 master in its series', () =>
      get(scrape('lb02'), 'ha_setup_vrrp_state', 'node="lb02"') === 2 ? true : undefined,
    );
    expect(get(scrape('lb02'), 'ha_setup_vrrp_transitions_total', 'node="lb02"')).toBeGreaterThan(before);
    const h = await until('webhooks', () => {
      const x = hooks();
      return x.some((e) => e.body.node === 'lb02' && e.body.state === 'MASTER') ? x : undefined;
    });
    const lb02 = h.find((e) => e.body.node === 'lb02' && e.body.state === 'MASTER')!;
    expect(lb02.auth).toBe('Bearer lab-token-9');
    expect(lb02.body).toMatchObject({ instance: 'VI_1', vips: [VIP()] });
    expect(typeof lb02.body.priority).toBe('number');
    expect(String(lb02.body.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
    inHost('lb01', 'systemctl start keepalived');
    await until('lb01 back', () => (vipHolders(VIP()).join() === 'lb01' ? true : undefined));
    await until('a webhook from lb01', () => (hooks().some((e) => e.body.node === 'lb01') ? true : undefined));
  });

  it('a split brain made by hand: both report the VIP, and the rules fire on those values', async () => {
    inHost(
      'lb02',
      'nft add table inet hasplit && nft add chain inet hasplit in "{ type filter hook input priority 0; }" && ' +
        'nft add rule inet hasplit in ip protocol vrrp drop',
    );
    await until('both hold the VIP', () => (vipHolders(VIP()).length === 2 ? true : undefined));
    await sleep(16_000); // the timer's next run on the node that had no transition
    const series: { series: string; values: string }[] = [];
    for (const n of ['lb01', 'lb02']) {
      const m = scrape(n);
      expect(get(m, 'ha_setup_vip_held', `node="${n}"`)).toBe(1);
      expect(get(m, 'ha_setup_vrrp_state', `node="${n}"`)).toBe(2);
      const scraped = (k: string) => k.replace('}', `,instance="${n}:9100",job="node"}`);
      for (const [k, v] of m)
        if (k.startsWith('ha_setup_vip_held{') || k.startsWith('ha_setup_vrrp_state{'))
          series.push({ series: scraped(k), values: `${v}x20` });
      series.push({
        series: scraped(`ha_setup_metrics_last_run_timestamp_seconds{node="${n}"}`),
        values: '0+15x20',
      });
    }
    inHost('lb02', 'nft delete table inet hasplit');
    const dir = mkdtempSync(join(tmpdir(), 'ha-rules-'));
    const rules = await cli(['metrics', 'rules', '--answers', file, '--out', join(dir, 'rules.yml')]);
    expect(rules.code, rules.stderr).toBe(0);
    expect(spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')]).status).toBe(0);
    const vip = VIP();
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          input_series: series,
          alert_rule_test: [
            {
              eval_time: '2m',
              alertname: 'HaSetupSplitBrain',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', vip, vrrp_instance: 'VI_1' },
                  exp_annotations: {
                    summary: `Split brain: VIP ${vip} (VI_1) is held by 2 nodes`,
                    description:
                      `More than one load balancer has VIP ${vip} on an interface: clients reach whichever ` +
                      `answered ARP last. ha_setup_vip_held{vip="${vip}"} names the nodes; \`ha-setup status\` ` +
                      'the expected one.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'test.yml'), stringify(test));
    const t = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8' });
    expect(t.status, t.stdout + t.stderr).toBe(0);
    await until('the split brain heals', () => (vipHolders(VIP()).join() === 'lb01' ? true : undefined));
  });
});
