/**
 * Runs the REAL `keepalived -t -f` on a rendered config, inside a private mount + network namespace (unshare):
 * the interfaces the config names exist there (bridge links), and the referenced scripts (0755) and included
 * *.conf snippets (0644: keepalived skips an executable one) exist at their real paths with safe permissions
 * (tmpfs over /etc/keepalived and /var/lib/ha-setup), so script security is checked too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeepalivedCheck {
  code: number;
  output: string;
}

const SCRIPT = `set -e
mount -t tmpfs -o mode=755 tmpfs /etc/keepalived
mkdir -p /var/lib/ha-setup && mount -t tmpfs -o mode=755 tmpfs /var/lib/ha-setup
work=$1; shift
cp "$work/conf" /etc/keepalived/keepalived.conf
while [ "$#" -gt 0 ]; do
  case "$1" in
    iface=*) i=\${1#iface=}; ip link add "$i" type bridge; ip link set "$i" up ;;
    chmod=*) spec=\${1#chmod=}; chmod "\${spec#*:}" "\${spec%%:*}" ;;
    file=*) spec=\${1#file=}; src=\${spec%%:*}; dst=\${spec#*:}; mkdir -p "$(dirname "$dst")"; cp "$work/$src" "$dst"
      case "$dst" in *.conf) chmod 644 "$dst" ;; *) chmod 755 "$dst" ;; esac ;;
  esac
  shift
done
ip link set lo up
set +e
keepalived -t -f /etc/keepalived/keepalived.conf -l -D 2>&1
`;

export function keepalivedCheck(
  conf: string,
  interfaces: string[],
  files: Record<string, string>,
  chmods: Record<string, string> = {},
): KeepalivedCheck {
  const work = mkdtempSync(join(tmpdir(), 'ka-check-'));
  try {
    writeFileSync(join(work, 'conf'), conf);
    const args: string[] = [];
    Object.entries(files).forEach(([dst, content], i) => {
      writeFileSync(join(work, `f${i}`), content);
      args.push(`file=f${i}:${dst}`);
    });
    for (const i of interfaces) args.push(`iface=${i}`);
    for (const [path, mode] of Object.entries(chmods)) args.push(`chmod=${path}:${mode}`);
    const r = spawnSync(
      'unshare',
      ['--mount', '--net', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', work, ...args],
      { encoding: 'utf8' },
    );
    return { code: r.status ?? -1, output: (r.stdout ?? '') + (r.stderr ?? '') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
