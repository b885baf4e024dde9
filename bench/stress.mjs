// ha-setup stress benchmark (npm run bench -- --stress; root, the lab). How often does a pair fail over for nothing
// when its master is busy or loses adverts, and how long are split brains then?
//
// Three configurations side by side, each on its own pair of Debian lab hosts (lb01/lb02 the guides', lb03/lb04
// ha-setup standard, lb05/lb06 ha-setup fast), under four conditions one after the other, each for WINDOW seconds
// with no fault injected:
//   cpu       every master's processes in a cgroup (cpuset) of their own on CPU 1, with a CPU hog (stress-ng --cpu 1)
//             in it; the backups run on CPU 0, so they are not starved
//   loss1     1 % of the master's VRRP adverts dropped at random (nft in the master's network namespace)
//   loss5     5 %
//   cpuLoss1  both cpu and loss1
// and two shorter ones:
//   rt        a real-time competitor on the master's CPU (stress-ng under chrt -r 10): the one kind of CPU pressure
//             that starves keepalived's ordinary scheduling (a CFS hog does not: keepalived sleeps most of the time)
//   loss25    25 % advert loss, to check the loss model the README's advert-interval table comes from: a backup
//             takes over after 3 lost adverts in a row, so flaps/hour = 3600 / advert x (1 - loss) x loss^3
// A false failover ("flap") is the VIP appearing on the backup; split-brain time is the time both hold it. Both
// are read from `ip monitor address` on the hosts (the kernel's own events, one clock). Then the four failover
// scenarios are measured under the cpu condition and compared with the idle figures.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONDITIONS = ['cpu', 'loss1', 'loss5', 'cpuLoss1'];
export const SHORT_CONDITIONS = ['rt', 'loss25'];

export function stressPlan(ROOT) {
  const labSh = join(ROOT, 'scripts', 'lab');
  const inHost = (h, script) => spawnSync('bash', [labSh, 'exec', h, 'sh', '-c', script], { encoding: 'utf8' });
  const must = (h, script) => {
    const r = inHost(h, script);
    if (r.status !== 0) throw new Error(`${h}: ${script}: exit ${r.status}: ${r.stderr}`);
    return r.stdout;
  };

  /** every process of a lab host into a cpuset cgroup of its own, on `cpu` (new processes inherit it) */
  function pin(host, cpu) {
    const cs = `/sys/fs/cgroup/cpuset/ha-stress-${host}`;
    spawnSync('mkdir', ['-p', cs]);
    spawnSync('sh', ['-c', `echo ${cpu} > ${cs}/cpuset.cpus && echo 0 > ${cs}/cpuset.mems`]);
    const pids = spawnSync('sh', ['-c', `cat $(find /sys/fs/cgroup/unified/ha-lab/${host} -name cgroup.procs)`], {
      encoding: 'utf8',
    }).stdout;
    for (const pid of pids.split('\n').filter(Boolean)) {
      spawnSync('sh', ['-c', `echo ${pid} > ${cs}/cgroup.procs`], { stdio: 'ignore' });
    }
  }
  function unpin(host) {
    const cs = `/sys/fs/cgroup/cpuset/ha-stress-${host}`;
    spawnSync('sh', [
      '-c',
      `for p in $(cat ${cs}/cgroup.procs 2>/dev/null); do echo $p > /sys/fs/cgroup/cpuset/cgroup.procs; done; ` +
        `rmdir ${cs} 2>/dev/null; true`,
    ]);
  }
  // stress-ng --cpu N in the master's cgroup (BENCH_STRESS_HOGS, default 1: the CPU is saturated). Started by the
  // host's own systemd, so it is one of the host's processes (a command entered from outside with nsenter would
  // not be in its cgroup: seen on both cores, starving the backups too); taskset on top of the cpuset
  const hogs = Number(process.env.BENCH_STRESS_HOGS ?? 1);
  const hog = (host) =>
    must(
      host,
      `systemd-run --quiet --collect --unit=ha-stress-hog taskset -c 1 stress-ng --cpu ${hogs} --timeout 3600s`,
    );
  const unhog = (host) =>
    inHost(host, 'systemctl stop ha-stress-hog ha-stress-rt 2>/dev/null; pkill -x stress-ng; true');
  const loss = (host, pct) =>
    must(
      host,
      `nft delete table inet hastress 2>/dev/null; nft add table inet hastress && ` +
        `nft 'add chain inet hastress out { type filter hook output priority 0 ; }' && ` +
        `nft add rule inet hastress out ip protocol vrrp numgen random mod 100 '<' ${pct} drop`,
    );
  const unloss = (host) => inHost(host, 'nft delete table inet hastress 2>/dev/null; true');

  const rtHog = (host) =>
    must(
      host,
      'systemd-run --quiet --collect --unit=ha-stress-rt taskset -c 1 chrt -r 10 stress-ng --cpu 1 --timeout 3600s',
    );

  function apply(condition, masters, backups) {
    if (condition === 'cpu' || condition === 'cpuLoss1' || condition === 'rt') {
      for (const b of backups) pin(b, 0);
      for (const m of masters) {
        pin(m, 1);
        if (condition === 'rt') rtHog(m);
        else hog(m);
      }
    }
    if (condition === 'loss1' || condition === 'cpuLoss1') for (const m of masters) loss(m, 1);
    if (condition === 'loss5') for (const m of masters) loss(m, 5);
    if (condition === 'loss25') for (const m of masters) loss(m, 25);
  }
  function clear(masters, backups) {
    for (const m of masters) {
      unhog(m);
      unloss(m);
      unpin(m);
    }
    for (const b of backups) unpin(b);
  }

  /** `ip monitor address` on hosts: returns stop() -> events {t (ms), host, vip, added} */
  function watch(hosts, vips) {
    const procs = hosts.map((h) => {
      const p = spawn('bash', [labSh, 'exec', h, 'ip', '-ts', '-o', 'monitor', 'address', 'dev', 'host0'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      return { h, p, out: () => out };
    });
    return () => {
      const events = [];
      for (const { h, p, out } of procs) {
        p.kill('SIGTERM');
        for (const line of out().split('\n')) {
          const m = /^\[(\S+)\] (Deleted )?\d+: \S+\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
          if (!m || !vips.includes(m[3])) continue;
          events.push({ t: Date.parse(`${m[1].slice(0, 23)}Z`), host: h, vip: m[3], added: !m[2] });
        }
      }
      spawnSync('sh', ['-c', 'pkill -f "ip -ts -o monitor address" || true']);
      return events.sort((a, b) => a.t - b.t);
    };
  }

  /** flaps (the VIP appearing on the backup) and split-brain ms for one pair from the monitor events */
  function count(events, vip, master, backup, start, end) {
    const holds = { [master]: true, [backup]: false };
    let flaps = 0;
    let split = 0;
    let since = null;
    for (const e of events.filter((x) => x.vip === vip && x.t >= start && x.t <= end)) {
      if (e.host === backup && e.added && !holds[backup]) flaps++;
      holds[e.host] = e.added;
      const both = holds[master] && holds[backup];
      if (both && since === null) since = e.t;
      if (!both && since !== null) {
        split += e.t - since;
        since = null;
      }
    }
    if (since !== null) split += end - since;
    return { flaps, splitBrainMs: Math.round(split) };
  }

  return { apply, clear, watch, count, inHost, must };
}

export function readLab() {
  return JSON.parse(readFileSync('/run/ha-setup-lab/lab.json', 'utf8'));
}
