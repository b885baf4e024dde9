/**
 * The wizard in a real terminal (tmux) against fresh lab hosts, starting from no answers file: the user types only
 * the host addresses (one with a typo, asked again at once), the key, "y" to trust each host key and the web
 * backends, and presses Enter for everything else. An unknown host key is a question, not a failure (no "✖" or
 * "not connected" line for the host before it). The interface is found (host0), the VIP question proposes a free
 * address of host0's subnet (Enter takes it), a foreign VRRP router already advertising VRID 51 on the segment
 * (web02) makes the wizard propose another id, and the review says what will be applied to nginx for this Debian +
 * Rocky pair (each node keeps its own, ha-setup's load balancer on both; no "config from lb01"). The pair it builds
 * serves web01 and web02 through the proposed VIP and passes verify-failover. init --answers with the foreign
 * router's id 51 is refused with exit 2 before anything changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addr, answersFile, cli, etcSum, inHost, json, lab, labReset, ROOT, vipHolders } from '../helpers/lab.js';

const session = `ha-wizard-e2e-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-400', '-t', session).stdout;
const type = (text: string) => void tmux('send-keys', '-t', session, '-l', text);
const enter = () => void tmux('send-keys', '-t', session, 'Enter');

/** wait until the screen shows `re` after the last answer (`after`: only text after this marker counts) */
async function waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (re.test(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** wait for the active question (inquirer marks it "? ", answered ones "✔ ") */
const prompt = (re: RegExp, timeoutMs?: number) => waitFor(new RegExp(`\\? .*${re.source}`), timeoutMs);

/** an unknown host key is announced by a neutral line and asked about, never shown as a failed connection */
function expectKeyQuestionNotFailure(screenText: string, octet: number): void {
  const host = `198\\.18\\.\\d+\\.${octet}`;
  expect(screenText).toMatch(new RegExp(`${host}: host key not known yet`));
  expect(screenText).not.toMatch(new RegExp(`✖ ${host}\\b|${host}: not connected`));
}

const FOREIGN = `! a foreign VRRP router on the lab segment, started by the wizard test
vrrp_instance FOREIGN {
    state BACKUP
    interface host0
    virtual_router_id 51
    priority 50
    advert_int 1
    virtual_ipaddress {
        198.18.0.150/24
    }
}
`;

/**
 * a second foreign router that comes up later on the pair's own id (52) with the pair's settings (its VIP, no
 * password), so keepalived accepts its adverts, and a higher priority: it takes the pair's VIP over (keepalived 2.x
 * starts every instance as a backup, and a lower-priority one never advertises: it would disturb nothing)
 */
const latecomer = (vip: string) => `! a foreign VRRP router on the pair's id after init, started by the wizard test
vrrp_instance LATE {
    state MASTER
    interface host0
    virtual_router_id 52
    priority 200
    advert_int 1
    virtual_ipaddress {
        ${vip}
    }
}
`;

afterAll(() => {
  tmux('kill-session', '-t', session);
  inHost('web02', 'pkill -f "keepalived -f /tmp/foreign.conf" || true', { allowFail: true });
  inHost('web02', 'pkill -f "keepalived -f /tmp/late.conf" || true', { allowFail: true });
});

describe('the wizard connects as it goes, and builds a working pair', () => {
  it('typo, trust, found interface, free VIP and VRID, backends: the pair works, passes verify-failover', async () => {
    labReset('lb01', 'lb02', 'lb03');
    const l = lab();
    // the foreign router: keepalived on web02, advertising VRID 51 (it holds 198.18.0.150, nothing of ours)
    inHost('web02', `cat > /tmp/foreign.conf <<'EOF'\n${FOREIGN.replace(/198\.18\.0/g, l.prefix)}EOF`);
    inHost('web02', 'keepalived -f /tmp/foreign.conf -p /tmp/f.pid -r /tmp/f-vrrp.pid -c /tmp/f-chk.pid');
    const home = mkdtempSync(join(tmpdir(), 'wiz-home-'));
    const saved = join(home, 'saved.yaml');
    const done = join(home, 'done');
    const cmd =
      `cd ${home} && HOME=${home} ${process.execPath} ${join(ROOT, 'bin', 'ha-setup')} init ` +
      `--save-answers ${saved}; echo $? > ${done}; sleep 600`;
    expect(tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '60', cmd).status).toBe(0);

    await prompt(/SSH private key/);
    type(l.identityFile);
    enter();
    await prompt(/How many load balancers/);
    enter();
    // LB 1: a typo (a name that does not resolve) is caught at once and asked again
    await prompt(/LB 1: SSH address/);
    type('lb0l.invalid');
    enter();
    await prompt(/LB 1: SSH user/);
    enter();
    await waitFor(/give the address again/);
    expect(screen()).toMatch(/lb0l\.invalid.*(ENOTFOUND|cannot connect|getaddrinfo)/);
    type(addr('lb01'));
    enter();
    await prompt(/LB 1: SSH user/);
    enter();
    expectKeyQuestionNotFailure(await prompt(/Trust the host key of 198\.18\.\d+\.11/), 11);
    type('y');
    enter();
    await prompt(/known_hosts file/);
    enter(); // ~/.ssh/known_hosts in this HOME
    // every host's address first (a pair running there would be offered for takeover before the rest)
    await prompt(/LB 2: SSH address/);
    type(addr('lb02'));
    enter();
    await prompt(/LB 2: SSH user/);
    enter();
    expectKeyQuestionNotFailure(await prompt(/Trust the host key of 198\.18\.\d+\.12/), 12);
    type('y');
    enter();
    await prompt(/LB 1: name/);
    enter(); // lb01, from the host's hostname
    await prompt(/LB 1 \(lb01\): VRRP interface/);
    // each interface with its addresses of both families (the lab gives every host fd00:198:18::N/64)
    expect(screen()).toMatch(/host0 +198\.18\.\d+\.11\/24 fd00:198:18::11\/64 +UP/);
    expect(screen()).toMatch(/host1 +198\.18\.1\.11\/24 +UP/);
    enter(); // host0: the interface SSH came in on, found
    await prompt(/LB 1: priority/);
    enter();
    await prompt(/LB 2: name/);
    enter();
    await prompt(/LB 2 \(lb02\): VRRP interface/);
    enter();
    await prompt(/LB 2: priority/);
    enter();
    await prompt(/Layout/);
    enter();
    await prompt(/VI_1: master/);
    enter();
    // the load balancers have a second interface (host1): asked per instance, host0 (theirs) by default
    await prompt(/VI_1: interface of its VIPs and VRRP adverts/);
    enter();
    // the VIP question proposes a free address of host0's subnet (ARP-probed from lb01): Enter takes it
    const vipScreen = await prompt(
      /VI_1: VIP, a free address in 198\.18\.\d+\.0\/24 \(host0 of lb01\) \(198\.18\.\d+\.\d+\)/,
    );
    const vip = /VI_1: VIP, a free address in \S+ \(host0 of lb01\) \((198\.18\.\d+\.\d+)\)/.exec(vipScreen)![1];
    expect(vip.startsWith(`${l.prefix}.`)).toBe(true);
    expect(vipScreen).toMatch(new RegExp(`${vip.replace(/\./g, '\\.')} is free \\(nothing answers ARP for it\\)`));
    enter();
    // host0 has a global IPv6 address on both: a free IPv6 VIP of its prefix is offered beside it (dual stack)
    const v6Screen = await prompt(/VI_1: an IPv6 VIP beside/, 30_000);
    const vip6 = /yes: (fd00:198:18::[0-9a-f]+)\/64 \(free\)/.exec(v6Screen)![1];
    enter();
    // it listened on the segment: web02's VRID 51 is in use, so it proposes 52
    await prompt(/VI_1: virtual router id.*\(52\)/, 30_000);
    expect(screen()).toMatch(/virtual router ids in use on the segment: 51/);
    enter();
    await prompt(/VRRP password/);
    enter();
    await prompt(/preempt/);
    enter();
    await prompt(/Failover profile/);
    enter();
    await prompt(/When nginx fails on the master/);
    enter();
    await prompt(/Health-check URL/);
    enter();
    await prompt(/Web backends behind the pair/);
    type(`${addr('web01')}:80,${addr('web02')}:80`);
    enter();
    await prompt(/SELinux/);
    enter();
    await prompt(/Firewall/);
    enter();
    const review = await prompt(/Apply these answers\?/);
    expect(review).toContain(`VI_1: VRID 52, VIP ${vip}/24 ${vip6}/64, master lb01`);
    // Debian + Rocky: nginx.sync is off; the review says what will be applied, not "nginx config from lb01"
    expect(review).not.toMatch(/nginx config(uration)? (copied )?from/);
    expect(review).toContain('nginx: each node keeps its own configuration (nginx.sync: false)');
    const backends = `${addr('web01')}:80, ${addr('web02')}:80`;
    expect(review).toContain(`nginx: ha-setup's load balancer for ${backends} on every node (port 80 of the VIPs)`);
    enter(); // apply
    const end = Date.now() + 240_000;
    while (!existsSync(done) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    expect(existsSync(done), screen()).toBe(true);
    expect(readFileSync(done, 'utf8').trim(), screen()).toBe('0');

    // the pair it built
    const answers = parse(readFileSync(saved, 'utf8'));
    expect(answers.nodes.map((n: { interface: string }) => n.interface)).toEqual(['host0', 'host0']);
    expect(answers.instances[0]).toMatchObject({ virtualRouterId: 52, vips: [`${vip}/24`, `${vip6}/64`] });
    expect(
      readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect(vipHolders(vip)).toEqual(['lb01']);
    const pages = new Set<string>();
    for (let i = 0; i < 6; i++) {
      pages.add(/served by (web0[12])/.exec(inHost('client', `curl -s -m 3 http://${vip}/`).stdout)?.[1] ?? '');
    }
    expect([...pages].sort()).toEqual(['web01', 'web02']);
    // the IPv6 VIP: on the same master (its twin in one sync group), served too
    expect(vipHolders(vip6)).toEqual(['lb01']);
    expect(inHost('client', `curl -g -s -m 3 'http://[${vip6}]/'`).stdout).toMatch(/served by web0[12]/);
    const v = await cli(['verify-failover', '--answers', saved, '--scenario', 'all', '--json'], {
      env: { HOME: home },
      timeoutMs: 600_000,
    });
    expect(v.code, v.stderr).toBe(0);
    expect(json.verify(v).scenarios.every((s) => s.ok && s.restored)).toBe(true);

    // init --answers with the foreign router's id: refused before anything changes
    const taken = structuredClone(answers);
    taken.instances[0].virtualRouterId = 51;
    taken.instances[0].vips = [`${l.prefix}.101/24`];
    const before = [etcSum('lb01'), etcSum('lb02')];
    const r = await cli(['init', '--answers', answersFile(taken), '--yes'], { env: { HOME: home } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/virtualRouterId: 51 \(VI_1\) is already used on the segment by 198\.18\.\d+\.22/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect([etcSum('lb01'), etcSum('lb02')]).toEqual(before);

    // a router that appears later on the pair's own id: a re-run does not listen (every id is advertised already),
    // and still refuses, from what the nodes' keepalived heard
    inHost('web02', `cat > /tmp/late.conf <<'EOF'\n${latecomer(`${vip}/24`)}EOF`);
    inHost('web02', 'keepalived -f /tmp/late.conf -p /tmp/g.pid -r /tmp/g-vrrp.pid -c /tmp/g-chk.pid');
    try {
      // its master-down timer (3 adverts and its skew), then it advertises: lb01 hands over to it
      await new Promise((res) => setTimeout(res, 5000));
      const late = await cli(['init', '--answers', saved, '--yes'], { env: { HOME: home } });
      expect(late.code, late.stderr).toBe(2);
      expect(late.stderr).toMatch(
        new RegExp(`another VRRP router on the pair's virtual router ids \\(${addr('web02').replace(/\./g, '\\.')}\\)`),
      );
      expect([etcSum('lb01'), etcSum('lb02')]).toEqual(before);
    } finally {
      inHost('web02', 'pkill -f "keepalived -f /tmp/late.conf" || true', { allowFail: true });
    }
  });
});
