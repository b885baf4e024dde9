/**
 * The guides' nginx load balancer, read back from `nginx -T`: the `upstream NAME { server HOST:PORT ...; }` that a
 * `proxy_pass http://NAME` of an http server uses, and that server's `listen` port(s). What ha-setup's managed
 * upstream cannot express (weights, backup servers, ip_hash, ssl, several upstreams...) is reported as a note with
 * file:line.
 */
import { isBackend } from '../answers/schema.js';

export interface NginxDirective {
  name: string;
  args: string[];
  file: string;
  line: number;
  children?: NginxDirective[];
}

export interface NginxUpstream {
  name: string;
  /** file:line of the upstream block */
  at: string;
  backends: string[];
  /** file:line of each backend's server line */
  backendsAt: string[];
  /** the first listen port of the server using it */
  listen: number;
  listens: number[];
  /** file:line of that server block */
  serverAt: string;
  /** when every server line agrees (nginx's defaults, 1 and 10 s, when none sets them) */
  maxFails?: number;
  failTimeout?: number;
}

export interface NginxNote {
  at: string;
  text: string;
}

/** the files of an `nginx -T` dump ("# configuration file PATH:" before each) */
export function splitNginxDump(dump: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  let cur: { path: string; lines: string[] } | null = null;
  const flush = () => {
    if (!cur) return;
    const lines = cur.lines;
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    files.push({ path: cur.path, text: lines.length ? `${lines.join('\n')}\n` : '' });
  };
  for (const line of dump.split('\n')) {
    const m = /^# configuration file (.+):$/.exec(line);
    if (m && (!cur || !files.some((f) => f.path === m[1]))) {
      flush();
      cur = { path: m[1], lines: [] };
    } else if (cur) cur.lines.push(line);
  }
  flush();
  return files;
}

/** nginx's tokenizer (ngx_conf_read_token), tolerant: problems become notes */
export function parseNginxText(text: string, file: string, notes: NginxNote[] = []): NginxDirective[] {
  const root: NginxDirective[] = [];
  const stack: NginxDirective[][] = [root];
  let words: { w: string; line: number }[] = [];
  let line = 1;
  let i = 0;
  const end = (block: boolean) => {
    if (!words.length) {
      if (block) notes.push({ at: `${file}:${line}`, text: "unexpected '{'" });
      return;
    }
    const d: NginxDirective = { name: words[0].w, args: words.slice(1).map((x) => x.w), file, line: words[0].line };
    stack[stack.length - 1].push(d);
    if (block) {
      d.children = [];
      stack.push(d.children);
    }
    words = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';' || c === '{') {
      end(c === '{');
      i++;
      continue;
    }
    if (c === '}') {
      if (words.length) notes.push({ at: `${file}:${line}`, text: "directive without ';' before '}'" });
      words = [];
      if (stack.length > 1) stack.pop();
      else notes.push({ at: `${file}:${line}`, text: "unexpected '}'" });
      i++;
      continue;
    }
    const r = readWord(text, i);
    words.push({ w: r.word, line });
    line += r.newlines;
    i = r.next;
  }
  if (words.length) notes.push({ at: `${file}:${line}`, text: "unexpected end of file, expecting ';' or '}'" });
  return root;
}

function readWord(text: string, start: number): { word: string; next: number; newlines: number } {
  let i = start;
  let word = '';
  let newlines = 0;
  const q = text[i];
  if (q === '"' || q === "'") {
    i++;
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\' && i + 1 < text.length) {
        const n = text[i + 1];
        word += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === q || n === '\\' ? n : `\\${n}`;
        i += 2;
        continue;
      }
      if (text[i] === '\n') newlines++;
      word += text[i++];
    }
    return { word, next: i + 1, newlines };
  }
  while (i < text.length && !/[\s;{}]/.test(text[i])) {
    if (text[i] === '$' && text[i + 1] === '{') {
      const close = text.indexOf('}', i);
      if (close > 0) {
        word += text.slice(i, close + 1);
        i = close + 1;
        continue;
      }
    }
    word += text[i++];
  }
  return { word, next: i, newlines };
}

function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, close).replace(/^!/, '^')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** the main file's tree with every `include` replaced by the trees of the dumped files it matches */
export function resolveNginxIncludes(files: { path: string; text: string }[], notes: NginxNote[]): NginxDirective[] {
  if (!files.length) return [];
  const parsed = new Map(files.map((f) => [f.path, parseNginxText(f.text, f.path, notes)]));
  const prefix = files[0].path.replace(/\/[^/]*$/, '') || '/';
  const expand = (nodes: NginxDirective[], depth: number): NginxDirective[] =>
    nodes.flatMap((n) => {
      if (n.name === 'include' && n.args.length === 1 && !n.children) {
        if (depth > 10) return [];
        const glob = n.args[0].startsWith('/') ? n.args[0] : `${prefix}/${n.args[0]}`;
        const re = globRegex(glob);
        const hits = files.map((f) => f.path).filter((p) => re.test(p));
        return hits.sort().flatMap((p) => expand(parsed.get(p)!, depth + 1));
      }
      return [{ ...n, children: n.children ? expand(n.children, depth) : undefined }];
    });
  return expand(parsed.get(files[0].path)!, 0);
}

const at = (d: NginxDirective) => `${d.file}:${d.line}`;

/** seconds of an nginx time ("20s", "1m", "30", "1m30s"); null when not whole seconds */
export function nginxSeconds(v: string): number | null {
  if (/^\d+$/.test(v)) return Number(v);
  const m = /^(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+)s)?$/.exec(v);
  if (!m || (!m[1] && !m[2] && !m[3])) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function proxyPasses(nodes: NginxDirective[]): NginxDirective[] {
  return nodes.flatMap((n) => [
    ...(n.name === 'proxy_pass' ? [n] : []),
    ...(n.children && n.name !== 'server' ? proxyPasses(n.children) : []),
  ]);
}

function listenPorts(server: NginxDirective, notes: NginxNote[]): number[] {
  const ports: number[] = [];
  for (const l of server.children!.filter((d) => d.name === 'listen')) {
    const v = l.args[0] ?? '';
    const m = /^(?:\[[^\]]*\]:|[^:]*:)?(\d+)$/.exec(v) ?? /^(\d+)$/.exec(v);
    if (!m) {
      notes.push({ at: at(l), text: `listen ${l.args.join(' ')}: not a port ha-setup can listen on` });
      continue;
    }
    if (/^[\d.]+:/.test(v) && !v.startsWith('0.0.0.0') && !v.startsWith('*'))
      notes.push({ at: at(l), text: `listen ${v}: ha-setup's server listens on the VIPs instead of this address` });
    if (l.args.includes('ssl')) notes.push({ at: at(l), text: `listen ${l.args.join(' ')}: ssl is not reproduced` });
    if (!ports.includes(Number(m[1]))) ports.push(Number(m[1]));
  }
  return ports.length ? ports : [80];
}

/** the upstream a proxy_pass of an http server uses, with that server's listen port(s) */
export function findNginxUpstream(dump: string): { upstream: NginxUpstream | null; notes: NginxNote[] } {
  const notes: NginxNote[] = [];
  const tree = resolveNginxIncludes(splitNginxDump(dump), notes);
  const http = tree.filter((d) => d.name === 'http').flatMap((d) => d.children ?? []);
  for (const s of tree.filter((d) => d.name === 'stream'))
    notes.push({ at: at(s), text: 'stream (TCP/UDP) load balancing is not reproduced' });
  const upstreams = new Map(http.filter((d) => d.name === 'upstream' && d.children).map((d) => [d.args[0], d]));
  const uses: { server: NginxDirective; pass: NginxDirective; upstream: NginxDirective }[] = [];
  for (const server of http.filter((d) => d.name === 'server' && d.children)) {
    for (const pass of proxyPasses(server.children!)) {
      const m = /^https?:\/\/([^/:$]+)(\/.*)?$/.exec(pass.args[0] ?? '');
      const up = m ? upstreams.get(m[1]) : undefined;
      if (up) {
        uses.push({ server, pass, upstream: up });
        if (m![2] && m![2] !== '/')
          notes.push({ at: at(pass), text: `proxy_pass ${pass.args[0]}: its URI is dropped` });
        if (pass.args[0].startsWith('https:'))
          notes.push({ at: at(pass), text: 'proxy_pass https: ha-setup proxies with plain http' });
      }
    }
  }
  if (!uses.length) return { upstream: null, notes };
  const chosen = uses.find((u) => listenPorts(u.server, []).includes(80)) ?? uses[0];
  for (const u of uses)
    if (u.upstream !== chosen.upstream && !notes.some((n) => n.at === at(u.upstream)))
      notes.push({
        at: at(u.upstream),
        text: `upstream ${u.upstream.args[0]}: a second upstream in use, not imported`,
      });
  const up = readUpstream(chosen.upstream, notes);
  serverNotes(chosen.server, notes);
  const listens = listenPorts(chosen.server, notes);
  return {
    upstream: { ...up, listen: listens[0], listens, serverAt: at(chosen.server) },
    notes,
  };
}

function readUpstream(
  block: NginxDirective,
  notes: NginxNote[],
): Omit<NginxUpstream, 'listen' | 'listens' | 'serverAt'> {
  const backends: string[] = [];
  const backendsAt: string[] = [];
  const fails = new Set<number>();
  const timeouts = new Set<number | null>();
  for (const d of block.children!) {
    if (d.name !== 'server') {
      const what = [d.name, ...d.args].join(' ');
      notes.push({ at: at(d), text: `upstream ${block.args[0]}: ${what} is not reproduced` });
      continue;
    }
    const addr = d.args[0] ?? '';
    const params = new Map(
      d.args.slice(1).map((p) => {
        const eq = p.indexOf('=');
        return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      }),
    );
    if (params.has('down')) {
      notes.push({ at: at(d), text: `server ${addr} is marked down: left out` });
      continue;
    }
    if (!isBackend(addr)) {
      notes.push({ at: at(d), text: `server ${addr}: not HOST[:PORT], left out` });
      continue;
    }
    backends.push(addr);
    backendsAt.push(at(d));
    fails.add(params.has('max_fails') ? Number(params.get('max_fails')) : 1);
    timeouts.add(params.has('fail_timeout') ? nginxSeconds(params.get('fail_timeout')!) : 10);
    for (const [k, v] of params) {
      if (k === 'max_fails' || k === 'fail_timeout' || (k === 'weight' && v === '1')) continue;
      const what = k === 'weight' ? `weight=${v} (ha-setup's upstream weighs all backends the same)` : k;
      notes.push({
        at: at(d),
        text: `server ${addr}: ${what}${k === 'backup' ? ' (a backup server)' : ''} is dropped`,
      });
    }
  }
  const out: Omit<NginxUpstream, 'listen' | 'listens' | 'serverAt'> = {
    name: block.args[0],
    at: at(block),
    backends,
    backendsAt,
  };
  if (fails.size === 1) out.maxFails = [...fails][0];
  else if (fails.size > 1) notes.push({ at: at(block), text: `max_fails differs between servers: not imported` });
  const t = [...timeouts];
  if (t.length === 1 && t[0] !== null && t[0] >= 1) out.failTimeout = t[0];
  else if (t.length)
    notes.push({ at: at(block), text: `fail_timeout differs between servers or is not whole seconds` });
  return out;
}

const REPRODUCED = new Set(['listen', 'location', 'proxy_pass', 'proxy_set_header']);

function serverNotes(server: NginxDirective, notes: NginxNote[]): void {
  for (const d of server.children!) {
    if (REPRODUCED.has(d.name)) {
      if (d.name === 'location' && d.children)
        for (const c of d.children)
          if (!REPRODUCED.has(c.name))
            notes.push({ at: at(c), text: `location ${d.args.join(' ')}: ${c.name} is not reproduced` });
      continue;
    }
    const text =
      d.name === 'server_name'
        ? `server_name ${d.args.join(' ')}: ha-setup's server answers any name on the VIPs`
        : d.name.startsWith('ssl')
          ? `${d.name}: ssl is not reproduced`
          : `${[d.name, ...d.args].join(' ')}: not reproduced by ha-setup's managed server`;
    notes.push({ at: at(d), text });
  }
}
