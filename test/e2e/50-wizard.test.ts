/**
 * The wizard in a real terminal (tmux) against fresh lab hosts, starting from no answers file: the user types only
 * the host addresses (one with a typo, asked again at once), the key, "y" to trust each host key, a VIP and the web
 * backends, and presses Enter for everything else. The interface is found (host0), a foreign VRRP router already
 * advertising VRID 51 on the segment (web02) makes the wizard propose another id, and the pair it builds serves
 * web01 and web02 through the VIP and passes verify-failover. init --answers with the foreign router's id 51 is
 * refused with exit 2 before anything changes.
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

afterAll(() => {
  tmux('kill-session', '-t', session);
  inHost('web02', 'pkill -f "keepalived -f /tmp/foreign.conf" || true', { allowFail: true });
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
    await prompt(/Trust the host key of 198\.18\.\d+\.11/);
    type('y');
    enter();
    await prompt(/known_hosts file/);
    enter(); // ~/.ssh/known_hosts in this HOME
    await prompt(/LB 1: name/);
    enter(); // lb01, from the host's hostname
    await prompt(/LB 1 \(lb01\): VRRP interface/);
    expect(screen()).toMatch(/host0 +198\.18\.\d+\.11\/24 +UP/);
    enter(); // host0: the interface SSH came in on, found
    await prompt(/LB 1: priority/);
    enter();
    await prompt(/LB 2: SSH address/);
    type(addr('lb02'));
    enter();
    await prompt(/LB 2: SSH user/);
    enter();
    await prompt(/Trust the host key of 198\.18\.\d+\.12/);
    type('y');
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
    await prompt(/VI_1: VIP, a free address in 198\.18\.\d+\.0\/24 \(host0 of lb01\)/);
    type(`${l.prefix}.100`);
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
    await prompt(/Apply these answers\?/);
    expect(screen()).toMatch(/VI_1: VRID 52, VIP 198\.18\.\d+\.100\/24, master lb01/);
    enter(); // apply
    const end = Date.now() + 240_000;
    while (!existsSync(done) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    expect(existsSync(done), screen()).toBe(true);
    expect(readFileSync(done, 'utf8').trim(), screen()).toBe('0');

    // the pair it built
    const answers = parse(readFileSync(saved, 'utf8'));
    expect(answers.nodes.map((n: { interface: string }) => n.interface)).toEqual(['host0', 'host0']);
    expect(answers.instances[0]).toMatchObject({ virtualRouterId: 52, vips: [`${l.prefix}.100/24`] });
    expect(
      readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect(vipHolders(`${l.prefix}.100`)).toEqual(['lb01']);
    const pages = new Set<string>();
    for (let i = 0; i < 6; i++) {
      pages.add(
        /served by (web0[12])/.exec(inHost('client', `curl -s -m 3 http://${l.prefix}.100/`).stdout)?.[1] ?? '',
      );
    }
    expect([...pages].sort()).toEqual(['web01', 'web02']);
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
  });
});
