/**
 * Gathering facts: the snippets of the chosen facts run in ONE round trip per host (a script given to `sh -c`,
 * its inputs passed as quoted positional parameters), each section introduced by "@@name" and read back by the one
 * section parser here.
 */
import type { Config, ResolvedNode } from '../answers/resolve.js';
import { OperationError } from '../errors.js';
import { managedFiles, PATHS } from '../paths.js';
import type { Conn } from '../conn.js';
import { FACTS, VARS, type FactName, type Facts, type FactVars } from './table.js';

/** "@@name" sections of a gather script's output (text after "@@end" is ignored) */
export function parseSections(out: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let cur: string | null = null;
  let buf: string[] = [];
  for (const l of out.split('\n')) {
    const m = /^@@([a-z0-9]+)$/.exec(l);
    if (m) {
      if (cur) sections[cur] = buf.join('\n');
      if (m[1] === 'end') return sections;
      cur = m[1];
      buf = [];
    } else buf.push(l);
  }
  if (cur) sections[cur] = buf.join('\n');
  return sections;
}

/**
 * the script gathering `names`; its inputs come from positional parameters in the order of VARS; the shell functions
 * of the facts' preludes are defined once, first
 */
export function gatherScript(names: readonly FactName[]): string {
  const vars = VARS.map((v, i) => `${v}="\${${i + 1}}"`).join('; ');
  const prelude = [...new Set(names.flatMap((n): readonly string[] => FACTS[n].prelude ?? []))];
  const body = names.map((n) => `echo "@@${n.toLowerCase()}"\n{ ${FACTS[n].sh}\n} 2>/dev/null`).join('\n');
  return `${vars}\nexport LC_ALL=C\n${prelude.map((p) => `${p}\n`).join('')}${body}\necho "@@end"\n`;
}

export function gatherArgs(vars: FactVars): string[] {
  return VARS.map((v) => vars[v] ?? '');
}

/** parse the output of gatherScript(names) */
export function parseGathered<N extends FactName>(names: readonly N[], out: string): Pick<Facts, N> {
  const s = parseSections(out);
  const result = {} as Pick<Facts, N>;
  for (const n of names) (result as Record<string, unknown>)[n] = FACTS[n].parse(s[n.toLowerCase()] ?? '');
  return result;
}

export interface GatherOptions {
  /** as root (default) or as the login user (what the session and discovery read before becoming root) */
  root?: boolean;
  timeoutMs?: number;
}

/** read `names` from a host in one round trip */
export async function gather<N extends FactName>(
  conn: Conn,
  names: readonly N[],
  vars: FactVars = {},
  opts: GatherOptions = {},
): Promise<Pick<Facts, N>> {
  const r = await conn.sh(gatherScript(names), gatherArgs(vars), {
    root: opts.root ?? true,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  if (!r.stdout.includes('@@end'))
    throw new OperationError(
      `${conn.node.name}: reading the host's facts failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
    );
  return parseGathered(names, r.stdout);
}

/** what init plans from, for every node */
export const INIT_FACTS = [
  'os',
  'capbnd',
  'systemd',
  'pkgmanager',
  'packages',
  'kaversion',
  'kacandidate',
  'kaupgrade',
  'selinux',
  'firewalld',
  'ufw',
  'interfaces',
  'files',
  'services',
  'sysctl',
  'nginxtree',
  'vipneighbors',
  'dirs',
  'nginxtest',
  'flags',
  'members',
  'kavips',
  'vrrpseen',
  'notifyscript',
  'bins',
] as const satisfies readonly FactName[];
export type InitFacts = Pick<Facts, (typeof INIT_FACTS)[number]> & {
  /** true for --offline plans: nothing was read from the host */
  assumed?: boolean;
};

/** the inputs of init's facts on a node (`probeVips: false` leaves out the VIPs' ARP probe) */
export function initVars(cfg: Config, node: ResolvedNode, opts: { probeVips?: boolean } = {}): FactVars {
  return {
    FILES: managedFiles(
      cfg.nginx.configDir,
      cfg.includeDir,
      cfg.snippets.map((s) => s.name),
    ).join(' '),
    VIPS: opts.probeVips === false ? '' : cfg.instances.flatMap((i) => i.vips.map((v) => v.address)).join(' '),
    IFACE: node.interface,
    NGINX_DIR: cfg.nginx.configDir,
    // firewalld's rules (a firewall-cmd start-up, ~0.4 s of CPU) only when system.firewall can use them
    FW_RULES: cfg.system.firewall === 'disable' ? '0' : '1',
    DIRS: [PATHS.flagDir, cfg.includeDir, cfg.metrics?.textfileDir].filter(Boolean).join(' '),
    STATE_DIR: PATHS.flagDir,
    CONF: PATHS.keepalivedConf,
    LOGFILE: cfg.logging.file,
    UPGRADE: cfg.upgrade.join(' '),
    NOTIFY_SCRIPT: cfg.notify.script ?? '',
  };
}

/** seconds the preflight listens for VRRP adverts of other routers (a router advertising every second is heard) */
export const VRRP_LISTEN_SECONDS = 1.2;
