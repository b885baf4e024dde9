/**
 * `ha-setup import`: what runs on the hosts -> an answers file that reproduces the running pair, with every
 * construct of their keepalived configurations accounted for (mapped into the answers, kept as an includeDir
 * snippet, or dropped with why), the refusals when ha-setup cannot take the pair over safely, and where the VRRP
 * passwords are (the answers name an environment variable only).
 */
import { isLinkLocal6 } from '../answers/ip.js';
import { DEFAULT_ADVERT } from '../answers/resolve.js';
import { answersSchema, isIPv4, NAME_RE, type AnswersInput } from '../answers/schema.js';
import { eachConf, type ConfNode } from './keepalived-conf.js';
import { loggingOf, notifyOf, syncGroupsOf } from './map-extras.js';
import { healthCheckOf } from './map-health.js';
import { hookAnswers, markOwn, ownGlobals, realtimeOf } from './map-own.js';
import { readHost, type HostModel } from './map-host.js';
import { declaredVersionOf } from './map-complete.js';
import { checkAgreement, instanceAnswer, rowsOf, type PairContext, type Vrid } from './map-instances.js';
import { matchInstances } from './map-units.js';
import type { ImportedHost, ImportOptions, ImportResult, Note } from './types.js';

export type { ImportedHost, ImportOptions, ImportResult, Note } from './types.js';

/** the snippet directory when the configuration had none ha-setup can keep */
export const IMPORTED_DIR = '/etc/keepalived/imported.d';

/** node names: router_id when valid and unique, else the host name, else what the user typed */
export function nodeNames(hosts: ImportedHost[]): string[] {
  const rid = (h: ImportedHost) =>
    h.config.tree.find((n) => n.keyword === 'global_defs')?.children?.find((c) => c.keyword === 'router_id')?.args[0];
  const pick = (f: (h: ImportedHost) => string | undefined) => {
    const v = hosts.map(f);
    return v.every((x) => !!x && NAME_RE.test(x)) && new Set(v).size === v.length ? (v as string[]) : null;
  };
  const short = (h: ImportedHost) => h.hostname.split('.')[0];
  const given = (h: ImportedHost, i: number) => (NAME_RE.test(h.given) ? h.given : `node${i + 1}`);
  const names = pick(rid) ?? pick(short) ?? pick((h) => h.hostname) ?? hosts.map(given);
  return names.map((n, i) => (names.indexOf(n) === i ? n : `${n}-${i + 1}`));
}

/** each host's interface: the one most of its vrrp_instances use (the first of them on a tie) */
function interfaceOf(ctx: PairContext, h: number): string {
  const host = ctx.models[h].host;
  const mine = ctx.models[h].instances;
  const used = mine.map((i) => i.interface).filter((i): i is string => !!i);
  if (!used.length) {
    if (mine.length) ctx.refusals.push(`${ctx.names[h]}: no vrrp_instance names its interface`);
    return host.interfaces.find((i) => i.name !== 'lo')?.name ?? 'eth0';
  }
  const count = (i: string) => used.filter((u) => u === i).length;
  const iface = used.reduce((b, i) => (count(i) > count(b) ? i : b), used[0]);
  for (const i of new Set(used))
    if (host.interfaces.length && !host.interfaces.some((f) => f.name === i))
      ctx.warnings.push(`${ctx.names[h]}: interface ${i} does not exist on the host now`);
  return iface;
}

/**
 * instances[].interface: an instance on another interface than its nodes' (one name on every node, as the answers
 * hold it), refused when its interface is another one on some nodes only under different names
 */
function instanceInterfaces(ctx: PairContext, vrids: Vrid[], nodes: AnswersInput['nodes'], out: Instances): void {
  vrids.forEach((x, k) => {
    const ifs = x.per.map((i, h) => i.interface ?? nodes[h].interface);
    if (ifs.every((i, h) => i === nodes[h].interface)) return;
    if (ifs.every((i) => i === ifs[0])) {
      out[k].interface = ifs[0];
      ctx.decisions.push(`instances ${out[k].name}: interface ${ifs[0]} (the nodes' is ${nodes[0].interface})`);
      return;
    }
    const each = ifs.map((i, h) => `${ctx.names[h]} ${i} (its node's ${nodes[h].interface})`).join(', ');
    ctx.refusals.push(
      `VRID ${x.vrid} (${out[k].name}): on other interfaces than its nodes', under different names (${each}): ` +
        "ha-setup's instances[].interface is one name for every node",
    );
  });
}

type Instances = AnswersInput['instances'];

/** a host's own address of one family for unicast: its unicast_src_ip (one for every instance), else its interface's */
function addressOf(ctx: PairContext, h: number, vrids: Vrid[], family: 4 | 6, iface: string): string | undefined {
  const rows = vrids.flatMap(rowsOf).filter((r) => r[h].family === family);
  const srcs = [...new Set(rows.map((r) => r[h].unicastSrc).filter((s): s is string => !!s))];
  if (srcs.length > 1)
    ctx.refusals.push(
      `${ctx.names[h]}: unicast_src_ip ${srcs.join(' and ')}: ha-setup sends the IPv${family} adverts of every ` +
        `instance from one address of the node (nodes[].${family === 4 ? 'address' : 'address6'})`,
    );
  if (srcs.length) return srcs[0];
  const host = ctx.models[h].host;
  const on = family === 4 ? iface : (rows[0]?.[h].interface ?? iface);
  const vips = new Set(vrids.flatMap((x) => rowsOf(x).flatMap((r) => r[h].vips.map((v) => v.address))));
  const a = host.interfaces
    .find((i) => i.name === on)
    ?.ips.find((x) => x.family === family && !x.secondary && !vips.has(x.address) && !isLinkLocal6(x.address));
  return a?.address;
}

function nodesOf(ctx: PairContext, vrids: Vrid[], opts: ImportOptions): AnswersInput['nodes'] {
  const unicast = (family: 4 | 6) =>
    vrids.some((x) => rowsOf(x).some((r) => r[0].family === family && r.some((i) => i.unicastPeers.length)));
  const nodes = ctx.models.map((m, h) => {
    const iface = interfaceOf(ctx, h);
    const node: AnswersInput['nodes'][number] = {
      name: ctx.names[h],
      host: m.host.given,
      ...(opts.ssh.port ? { port: opts.ssh.port } : {}),
      ...(opts.ssh.user ? { user: opts.ssh.user } : {}),
      interface: iface,
      priority: vrids[0]?.per[h].run.priority ?? 100,
    };
    const address = addressOf(ctx, h, vrids, 4, iface);
    if (address && (unicast(4) || !isIPv4(m.host.given))) node.address = address;
    if (unicast(6)) {
      const address6 = addressOf(ctx, h, vrids, 6, iface);
      if (address6) node.address6 = address6;
      else
        ctx.refusals.push(
          `${ctx.names[h]}: no IPv6 address to send the IPv6 unicast adverts from (no unicast_src_ip, no global ` +
            'address on the interface): ha-setup needs one (nodes[].address6)',
        );
    }
    return node;
  });
  if (unicast(4) || unicast(6)) checkPeers(ctx, vrids, nodes);
  return nodes;
}

/** unicast_peer: the other imported nodes; the node itself (keepalived sends itself adverts); or a foreign host */
function checkPeers(ctx: PairContext, vrids: Vrid[], nodes: AnswersInput['nodes']): void {
  for (const row of vrids.flatMap(rowsOf))
    row.forEach((i, h) => {
      const m = ctx.models[h];
      const own = (n: AnswersInput['nodes'][number]) => (i.family === 4 ? n.address : n.address6);
      const others = nodes.filter((_, k) => k !== h).map(own);
      const self = new Set([own(nodes[h]), ...m.host.interfaces.flatMap((f) => f.ips.map((a) => a.address))]);
      for (const p of i.unicastPeers) {
        if (others.includes(p.address)) continue;
        if (self.has(p.address)) {
          m.fates.set(p.node, 'mapped');
          ctx.decisions.push(
            `${m.fates.at(p.node)}: unicast_peer ${p.address} is ${ctx.names[h]} itself: ` +
              'ha-setup lists the other nodes',
          );
        } else
          m.fates.set(
            p.node,
            'mapped',
            'not one of the imported hosts: ha-setup sends its adverts to the imported nodes only',
            'dropped',
          );
      }
    });
}

/** nginx: the upstream (the master's), sync only when every host's configuration is the same */
function nginxOf(ctx: PairContext, ref: number, dropped: Note[]): AnswersInput['nginx'] {
  const hosts = ctx.models.map((m) => m.host);
  hosts.forEach((h, i) => {
    for (const n of h.nginx?.notes ?? []) dropped.push({ at: `${ctx.names[i]}:${n.at}`, text: `nginx: ${n.text}` });
  });
  const key = (h: ImportedHost) => JSON.stringify(h.nginx?.files ?? null);
  const same = hosts.every((h) => h.nginx && h.nginx.ok && key(h) === key(hosts[0]));
  const families = new Set(hosts.map((h) => h.osFamily));
  const out: NonNullable<AnswersInput['nginx']> = { sync: same && families.size === 1 };
  ctx.decisions.push(
    out.sync
      ? `nginx.sync: true (every host's nginx -T is the same; copied from ${ctx.names[ref]})`
      : "nginx.sync: false (the hosts' nginx configurations differ, or one is missing): each node keeps its own",
  );
  if (out.sync) out.syncFrom = ctx.names[ref];
  const conf = hosts[ref].nginx?.files[0]?.path;
  if (conf && /^\/[\w./-]+\/nginx\.conf$/.test(conf) && !conf.startsWith('/etc/nginx/'))
    out.configDir = conf.replace(/\/nginx\.conf$/, '');
  const withUp = [ref, ...hosts.keys()].find((i) => hosts[i].nginx?.upstream);
  if (withUp === undefined) return out;
  const up = hosts[withUp].nginx!.upstream!;
  out.upstream = { backends: up.backends, listen: up.listen };
  if (up.maxFails !== undefined) out.upstream.maxFails = Math.min(100, up.maxFails);
  if (up.failTimeout !== undefined) out.upstream.failTimeout = Math.min(3600, up.failTimeout);
  hosts.forEach((h, i) => {
    const u = h.nginx?.upstream;
    if (i !== withUp && u && u.backends.join() !== up.backends.join())
      ctx.warnings.push(`nginx upstream: ${ctx.names[i]}'s backends differ from ${ctx.names[withUp]}'s (imported)`);
  });
  ctx.decisions.push(
    `nginx.upstream: ${up.name} (${ctx.names[withUp]}:${up.at}) used by the server at ${up.serverAt}; ha-setup ` +
      'writes its own server on the VIPs for these backends, the server above stays as it is',
  );
  return out;
}

function quoteArg(a: string): string {
  return a === '' || /[\s"!#{}]/.test(a) ? `"${a.replace(/"/g, '')}"` : a;
}

/** keepalived text of nodes (definitions already expanded, comments gone) */
export function printConf(nodes: ConfNode[], indent = '', keep: (n: ConfNode) => boolean = () => true): string {
  return nodes
    .filter(keep)
    .map((n) => {
      const head = `${indent}${[n.keyword, ...n.args].map(quoteArg).join(' ')}`;
      if (!n.children) return `${head}\n`;
      return `${head} {\n${printConf(n.children, `${indent}    `, keep)}${indent}}\n`;
    })
    .join('');
}

/** includeDir and the snippets of kept constructs */
/** the files keepalived reads through a directory: those in it, and whatever they include */
function filesThrough(m: HostModel, dir: string): Set<string> {
  const files = new Set(m.host.config.files.filter((f) => f.startsWith(`${dir}/`)));
  for (let grew = true; grew;) {
    grew = false;
    eachConf(m.host.config.tree, (n) => {
      if (n.included && files.has(n.at.file))
        for (const f of n.included)
          if (!files.has(f)) {
            files.add(f);
            grew = true;
          }
    });
  }
  return files;
}

function snippetsOf(ctx: PairContext, kept: Note[]): { includeDir?: string; snippets: ImportResult['snippets'] } {
  const dirs = [...new Set(ctx.models.flatMap((m) => m.includeDirs.map((d) => d.dir)))];
  let includeDir: string | undefined = dirs[0];
  let through = ctx.models.map((m) => (includeDir ? filesThrough(m, includeDir) : new Set<string>()));
  if (includeDir) {
    const busy = ctx.models.flatMap((m, h) =>
      m.host.config.tree
        .filter((n) => !n.included && through[h].has(n.at.file) && m.fates.get(n)?.how === 'mapped')
        .map((n) => `${n.keyword} ${n.args.join(' ')}`.trim()),
    );
    if (busy.length) {
      ctx.warnings.push(
        `keepalived.includeDir: ${includeDir} holds what ha-setup now writes itself ` +
          `(${[...new Set(busy)].join(', ')}); ` +
          `ha-setup's keepalived.conf includes ${IMPORTED_DIR} instead, with what it cannot express from ${includeDir}`,
      );
      includeDir = undefined;
      through = ctx.models.map(() => new Set<string>());
    }
  }
  if (dirs.length > 1) ctx.warnings.push(`include: several snippet directories (${dirs.join(', ')}); ${dirs[0]} kept`);
  const texts = ctx.models.map((m, h) => snippetText(ctx, m, h, { dir: includeDir, files: through[h] }, kept));
  const snippets: ImportResult['snippets'] = [];
  const head = (who: string) => `! imported by ha-setup from ${who}: what the answers cannot express\n`;
  if (texts.every((t) => t === texts[0]) && texts[0])
    snippets.push({ name: 'imported.conf', text: head(ctx.names.join(', ')) + texts[0] });
  else
    texts.forEach((t, h) => {
      if (t) snippets.push({ name: `imported-${ctx.names[h]}.conf`, text: head(ctx.names[h]) + t, node: ctx.names[h] });
    });
  if (snippets.length && !includeDir) includeDir = IMPORTED_DIR;
  for (const n of kept)
    if (n.text.endsWith('@snippet'))
      n.text = n.text.replace('@snippet', `kept as a snippet in includeDir: ${snippetName(snippets, n, includeDir!)}`);
  return { includeDir, snippets };
}

function snippetName(snippets: ImportResult['snippets'], n: Note, dir: string): string {
  const mine = snippets.find((s) => s.node && n.at.startsWith(`${s.node}:`));
  return `${dir}/${(mine ?? snippets[0])?.name ?? 'imported.conf'}`;
}

function snippetText(
  ctx: PairContext,
  m: HostModel,
  h: number,
  stay: { dir?: string; files: Set<string> },
  kept: Note[],
): string {
  const tops: ConfNode[] = [];
  const globals: ConfNode[] = [];
  for (const n of m.keptGlobals) m.fates.default(n, 'kept');
  for (const n of m.keptRoots) m.fates.default(n, 'kept');
  eachConf(m.host.config.tree, (n, parents) => {
    if (m.fates.get(n)?.how !== 'kept' || (parents.length && m.fates.get(parents[parents.length - 1])?.how === 'kept'))
      return;
    const at = `${ctx.names[h]}:${n.at.file}:${n.at.line}`;
    const text = m.fates.get(n)?.text;
    if (stay.dir && stay.files.has(n.at.file)) {
      kept.push({ at, text: `${n.keyword}: ${text ?? `stays in ${stay.dir} (keepalived.includeDir)`}` });
      return;
    }
    kept.push({ at, text: `${n.keyword}: ${text ? `${text}; ` : ''}@snippet` });
    if (parents.length) globals.push(n);
    else tops.push(n);
  });
  if (!tops.length && !globals.length) return '';
  const keep = (n: ConfNode) => m.fates.get(n)?.how !== 'dropped';
  const block = { keyword: 'global_defs', args: [], at: (globals[0] ?? tops[0]).at, children: globals };
  return (globals.length ? printConf([block], '', keep) : '') + printConf(tops, '', keep);
}

/** every node's fate, and the kept/dropped notes and warnings from it */
function ledgerOf(ctx: PairContext, dropped: Note[]): ImportResult['ledger'] {
  const ledger: ImportResult['ledger'] = [];
  ctx.models.forEach((m, h) => {
    eachConf(m.host.config.tree, (n, parents) => {
      const at = `${ctx.names[h]}:${n.at.file}:${n.at.line}`;
      let fate = m.fates.get(n);
      if (!fate) {
        fate = { how: 'dropped', text: 'not handled by the importer' };
        m.fates.set(n, fate.how, fate.text);
      }
      ledger.push({ at, keyword: n.keyword, how: fate.how });
      if (!fate.text || fate.how === 'kept') return;
      const parentDropped = parents.length && m.fates.get(parents[parents.length - 1])?.how === 'dropped';
      if (fate.how === 'dropped' && !parentDropped) dropped.push({ at, text: `${n.keyword}: ${fate.text}` });
      else if (fate.how === 'mapped' && fate.part === 'dropped')
        dropped.push({ at, text: `${n.keyword}: ${fate.text}` });
      else if (fate.how === 'mapped') ctx.warnings.push(`${at}: ${n.keyword}: ${fate.text}`);
    });
  });
  return ledger;
}

function problemsOf(ctx: PairContext, dropped: Note[]): void {
  ctx.models.forEach((m, h) => {
    for (const p of m.host.config.problems) {
      const at = `${ctx.names[h]}:${p.at.file}:${p.at.line}`;
      if (p.level === 'unsupported') dropped.push({ at, text: `not understood: ${p.message}` });
      else if (p.level === 'error') ctx.warnings.push(`${at}: ${p.message}`);
      else ctx.decisions.push(`${at}: ${p.message}`);
    }
    for (const l of m.host.latent) ctx.warnings.push(`${ctx.names[h]}: latent fault: ${l}`);
  });
}

/** hosts as they run now -> the answers that reproduce the pair */
export function mapImport(hosts: ImportedHost[], opts: ImportOptions): ImportResult {
  const names = nodeNames(hosts);
  const ctx: PairContext = {
    models: hosts.map((h, i) => readHost(h, names[i])),
    names,
    refusals: [],
    warnings: [],
    decisions: [],
    secrets: [],
    passwordEnvPrefix: opts.passwordEnvPrefix ?? 'HA_',
  };
  if (hosts.length < 2) ctx.refusals.push(`ha-setup needs two or more hosts (got ${hosts.length})`);
  ctx.decisions.push(`node names: ${names.join(', ')} (router_id when valid and unique, else the host name)`);
  const dropped: Note[] = [];
  const kept: Note[] = [];
  problemsOf(ctx, dropped);
  for (const m of ctx.models) ctx.refusals.push(...m.fatal);
  const vrids = matchInstances(ctx);
  vrids.forEach((x) => checkAgreement(ctx, x));
  if (!vrids.length && hosts.length > 1)
    ctx.refusals.push('no vrrp_instance common to the hosts: nothing to take over');
  const versions = hosts.map((h, i) => `${names[i]} ${h.keepalivedVersion ?? `${h.keepalivedMajor}.x`}`);
  ctx.decisions.push(`keepalived: ${versions.join(', ')} (each configuration read with its version's rules)`);
  const answers = buildAnswers(ctx, vrids, opts, dropped);
  const { includeDir, snippets } = snippetsOf(ctx, kept);
  if (includeDir) answers.keepalived = { includeDir };
  const ledger = ledgerOf(ctx, dropped);
  const parsed = answersSchema.safeParse(answers);
  if (!parsed.success && !ctx.refusals.length)
    for (const i of parsed.error.issues) ctx.refusals.push(`answers: ${i.path.join('.')}: ${i.message}`);
  return {
    answers,
    kept,
    dropped,
    refusals: ctx.refusals,
    warnings: ctx.warnings,
    secrets: ctx.secrets,
    snippets,
    ledger,
    decisions: ctx.decisions,
  };
}

function buildAnswers(ctx: PairContext, vrids: Vrid[], opts: ImportOptions, dropped: Note[]): AnswersInput {
  // an IPv6 instance runs VRRPv3 whatever the profile: the IPv4 instances decide it (else what the IPv6 ones ask)
  const v4 = vrids.filter((x) => x.per[0].family === 4);
  const versions = new Set(
    (v4.length ? v4 : vrids).flatMap((x) => x.per.map((i, h) => declaredVersionOf(ctx.models[h], i))),
  );
  if (versions.size > 1) ctx.refusals.push('the instances mix VRRP versions 2 and 3; ha-setup runs one profile');
  const fast = versions.has(3);
  const hook = markOwn(ctx);
  const nodePrio = ctx.models.map((_, h) => vrids[0]?.per[h].run.priority ?? 100);
  const nodes = nodesOf(ctx, vrids, opts);
  const instances = vrids.map((x) => instanceAnswer(ctx, x, nodePrio));
  instanceInterfaces(ctx, vrids, nodes, instances);
  for (const i of instances) {
    const a = i.advertInt ?? 1;
    if (!fast && (!Number.isInteger(a) || a < 1 || a > 255))
      ctx.refusals.push(
        `${i.name}: advert_int ${a} with VRRPv2: ha-setup's standard profile needs whole seconds 1..255`,
      );
    if (fast && (Math.abs(Math.round(a * 100) - a * 100) > 1e-6 || a < 0.01 || a > 40.95))
      ctx.refusals.push(
        `${i.name}: advert_int ${a} with VRRPv3: ha-setup's fast and ultra profiles need 0.01..40.95 s`,
      );
  }
  const ref = vrids[0]?.master ?? 0;
  const answers: AnswersInput = { nodes, instances, profile: fast ? 'fast' : 'standard' };
  const ssh: NonNullable<AnswersInput['ssh']> = {};
  if (opts.ssh.identityFile) ssh.identityFile = opts.ssh.identityFile;
  if (opts.ssh.knownHostsFile) ssh.knownHostsFile = opts.ssh.knownHostsFile;
  if (Object.keys(ssh).length) answers.ssh = ssh;
  const syncGroups = syncGroupsOf(ctx, vrids, instances);
  if (syncGroups?.length) answers.syncGroups = syncGroups;
  const hc = healthCheckOf(ctx, vrids, ref);
  if (hc) answers.healthCheck = hc;
  // ultra is fast at its 0.02 s adverts, where every node runs keepalived 2.x and a failed check moves the VIP
  const ultra =
    fast &&
    instances.every((i) => i.advertInt === DEFAULT_ADVERT.ultra) &&
    ctx.models.every((m) => m.host.keepalivedMajor === 2) &&
    (hc?.mode ?? 'weight') === 'weight';
  if (ultra) answers.profile = 'ultra';
  if (fast) ctx.decisions.push(`profile: ${answers.profile} (VRRPv3: vrrp_version 3)`);
  answers.nginx = nginxOf(ctx, ref, dropped);
  answers.system = { selinux: 'leave', firewall: 'leave', multicast: true };
  ctx.decisions.push('system: selinux and firewall left as they are (the pair runs with them now)');
  const logging = loggingOf(ctx, dropped);
  if (logging) answers.logging = logging;
  const notify = notifyOf(ctx, ref, hook);
  if (hook) hookAnswers(ctx, ref, answers, notify);
  if (notify.email?.length || notify.emailFrom || notify.smtpServer || notify.script) answers.notify = notify;
  const realtime = realtimeOf(ctx, ref);
  if (realtime) answers.failover = { realtime };
  ownGlobals(ctx, answers);
  for (const m of ctx.models) mcastNotes(m, nodes);
  return answers;
}

function mcastNotes(m: HostModel, nodes: AnswersInput['nodes']): void {
  const mine = nodes.find((n) => n.name === m.fates.host);
  for (const i of m.instances)
    if (i.mcastSrc) {
      const same = i.mcastSrc.args[0] && i.mcastSrc.args[0] === (i.family === 4 ? mine?.address : mine?.address6);
      m.fates.default(
        i.mcastSrc,
        same ? 'mapped' : 'dropped',
        same ? undefined : 'ha-setup sends from the node address',
      );
    }
}
