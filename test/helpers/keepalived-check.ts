/**
 * Runs the REAL `keepalived -t -f` on a rendered config, inside a private mount + network namespace (unshare):
 * the interfaces the config names exist there (bridge links), and the referenced scripts (0755) and included
 * *.conf snippets (0644: keepalived skips an executable one) exist at their real paths with safe permissions
 * (tmpfs over /etc/keepalived and /var/lib/ha-setup), so script security is checked too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeepalivedCheck {
  code: number;
  output: string;
}

const SCRIPT = `set -e
n=0
mount -t tmpfs -o mode=755 tmpfs /etc/keepalived
mkdir -p /var/lib/ha-setup && mount -t tmpfs -o mode=755 tmpfs /var/lib/ha-setup
work=$1; shift
cp "$work/conf" /etc/keepalived/keepalived.conf
while [ "$#" -gt 0 ]; do
  case "$1" in
    iface=*) i=\${1#iface=}; ip link add "$i" type bridge; ip link set "$i" up
      n=$((n + 1)); ip addr add "10.254.$n.1/24" dev "$i" ;;
    addr=*) spec=\${1#addr=}; ip addr add "\${spec#*@}" dev "\${spec%%@*}" nodad 2>/dev/null ||
      ip addr add "\${spec#*@}" dev "\${spec%%@*}" ;;
    chmod=*) spec=\${1#chmod=}; chmod "\${spec#*:}" "\${spec%%:*}" ;;
    file=*) spec=\${1#file=}; src=\${spec%%:*}; dst=\${spec#*:}; mkdir -p "$(dirname "$dst")"; cp "$work/$src" "$dst"
      case "$dst" in *.conf) chmod 644 "$dst" ;; *) chmod 755 "$dst" ;; esac ;;
  esac
  shift
done
ip link set lo up
set +e
if [ -n "$KA1X" ]; then
  # keepalived 1.x has no -t: ha-setup's own check (the script it runs on such hosts) with the real binary
  bash "$VALIDATE" /etc/keepalived/keepalived.conf "$KA1X" 2 2>&1
else
  keepalived -t -f /etc/keepalived/keepalived.conf -l -D 2>&1
fi
`;

function prepare(
  conf: string,
  interfaces: string[],
  files: Record<string, string>,
  chmods: Record<string, string>,
  keepalived1x?: string,
) {
  const work = mkdtempSync(join(tmpdir(), 'ka-check-'));
  writeFileSync(join(work, 'conf'), conf);
  const args: string[] = [];
  Object.entries(files).forEach(([dst, content], i) => {
    writeFileSync(join(work, `f${i}`), content);
    args.push(`file=f${i}:${dst}`);
  });
  for (const i of interfaces) args.push(`iface=${i}`);
  // each unicast instance's source address on its interface, as on the host it is rendered for (keepalived 1.x
  // sends its adverts from it while it is checked)
  for (const b of conf.split(/^vrrp_instance /m).slice(1)) {
    const iface = /^\s*interface (\S+)/m.exec(b)?.[1];
    const src = /^\s*unicast_src_ip (\S+)/m.exec(b)?.[1];
    // with the prefix a host has it on (the peers on the link: 1.x sends its unicast adverts from it to them)
    if (iface && src && interfaces.includes(iface)) args.push(`addr=${iface}@${src}/${src.includes(':') ? 64 : 24}`);
  }
  for (const [path, mode] of Object.entries(chmods)) args.push(`chmod=${path}:${mode}`);
  return {
    work,
    argv: ['--mount', '--net', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', work, ...args],
    env: {
      ...process.env,
      KA1X: keepalived1x ?? '',
      VALIDATE: join(__dirname, '..', '..', 'templates', 'validate-keepalived-1x.sh'),
    },
  };
}

export function keepalivedCheck(
  conf: string,
  interfaces: string[],
  files: Record<string, string>,
  chmods: Record<string, string> = {},
  /** the path of a keepalived 1.x binary: check with ha-setup's 1.x validation instead of -t */
  keepalived1x?: string,
): KeepalivedCheck {
  const p = prepare(conf, interfaces, files, chmods, keepalived1x);
  try {
    const r = spawnSync('unshare', p.argv, { encoding: 'utf8', env: p.env });
    return { code: r.status ?? -1, output: (r.stdout ?? '') + (r.stderr ?? '') };
  } finally {
    rmSync(p.work, { recursive: true, force: true });
  }
}

/** the same, without blocking: the 1.x check runs keepalived for seconds, so many run side by side */
export function keepalivedCheckAsync(
  conf: string,
  interfaces: string[],
  files: Record<string, string>,
  keepalived1x?: string,
): Promise<KeepalivedCheck> {
  const p = prepare(conf, interfaces, files, {}, keepalived1x);
  return new Promise((resolve) => {
    const c = spawn('unshare', p.argv, { env: p.env });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => {
      rmSync(p.work, { recursive: true, force: true });
      resolve({ code: code ?? -1, output: out });
    });
  });
}
