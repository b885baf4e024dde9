/**
 * keepalived's configuration language as keepalived itself reads it (1.3.5 of CentOS 7 and 2.x), ported from its
 * lib/parser.c: comments, quoting, blocks, `include GLOB` anywhere (textual inclusion, a relative glob taken from
 * the directory of the file that includes it), and in 2.x the `@id` / `@^id` conditional lines, `$NAME=value`
 * definitions and their substitution, multiline definitions, `~SEQ(...)` and `~LST(...)`.
 *
 * The result is a syntax tree read by context as keepalived reads it (keepalived-tree.ts): a node per keyword line,
 * with the lines of its `{ }` block as children. How keepalived reads what it does not expect is reported with
 * file:line (the parser never throws on any input).
 * Included files are read through an injected function, so the same code reads a local tree or a host over SSH.
 */
import { decomment2x, expandBraces, includeOf1x, includeOf2x, splitBrace2x } from './keepalived-lex.js';
import {
  definitionUse,
  parseDefinition,
  parseLst,
  parseSeq,
  standardDefinitions,
  type Definition,
  type LineGenerator,
} from './keepalived-defs.js';
import { TreeBuilder, type ConfAt, type ConfProblem, type Item } from './keepalived-tree.js';
import type { ConfNode } from './keepalived-tree.js';

export type { ConfAt, ConfNode, ConfProblem } from './keepalived-tree.js';

export interface KeepalivedConfig {
  tree: ConfNode[];
  /** every file read, main file first */
  files: string[];
  problems: ConfProblem[];
}

/** one file an include read; `skip`: why keepalived does not read it (a directory, an executable file...) */
export interface IncludedFile {
  path: string;
  text: string;
  skip?: string;
}

/** expand a glob (relative: from `fromDir`) and read every matching file, in glob(3) order */
export type ReadIncluded = (globOrPath: string, fromDir: string) => Promise<IncludedFile[]>;

export interface KeepalivedReadOptions {
  /** keepalived's major version: 1 reads as 1.3.5 does, 2 (default) as 2.x */
  major?: 1 | 2;
  /** keepalived's release ("2.2.7"): a 2.x keyword newer than it is unknown to it (default: every 2.x keyword) */
  version?: string | null;
  /** keepalived's config id (`-i`) for `@id` lines; 2.x defaults to the short host name, 1.x has none */
  configId?: string;
  /** deepest include nesting followed (default 12) */
  maxIncludeDepth?: number;
}

interface Frame {
  files: IncludedFile[];
  fileIdx: number;
  lines: string[];
  idx: number;
  dir: string;
}

interface Pending {
  lines: string[];
  at: ConfAt;
  savedDepth: number;
}

const MAX_LINE = 16_384;

export function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

function cacheKey(glob: string, fromDir: string): string {
  return glob.startsWith('/') ? glob : `${fromDir}\n${glob}`;
}

/** reads the lines of the main file and its includes as keepalived's read_line() does */
class LineReader {
  readonly problems: ConfProblem[] = [];
  readonly files: string[] = [];
  readonly missing: { glob: string; fromDir: string }[] = [];
  private frames: Frame[] = [];
  private residue: { text: string; at: ConfAt } | null = null;
  private defs = standardDefinitions();
  private gens: (LineGenerator & { at: ConfAt })[] = [];
  private pending: Pending[] = [];
  private multilineSeqDepth = 0;
  private multilineDef: Definition | null = null;
  private at: ConfAt = { file: '', line: 0 };
  private readonly major: 1 | 2;

  constructor(
    private readonly cache: Map<string, IncludedFile[]>,
    private readonly opts: KeepalivedReadOptions,
  ) {
    this.major = opts.major ?? 2;
  }

  problem(at: ConfAt, message: string, level: ConfProblem['level'] = 'error'): void {
    this.problems.push({ at: { ...at }, message, level });
  }

  /** open a glob (the main file or an include); returns the paths opened */
  open(glob: string, fromDir: string, at: ConfAt | null): string[] {
    const patterns = this.major === 2 ? expandBraces(glob) : [glob];
    const found: IncludedFile[] = [];
    for (const pattern of patterns) {
      const hit = this.cache.get(cacheKey(pattern, fromDir));
      if (hit === undefined) this.missing.push({ glob: pattern, fromDir });
      else found.push(...hit);
    }
    const where = at ?? { file: glob, line: 0 };
    const usable = found.filter((f) => this.usable(f, where));
    if (!found.length && patterns.every((p) => this.cache.has(cacheKey(p, fromDir)))) {
      if (!at) this.problem(where, `configuration file ${glob}: not found (keepalived runs without it)`);
      else
        this.problem(
          where,
          this.major === 1
            ? `include ${glob}: no file matches; keepalived 1.x stops with "Unable to find config file(s)"`
            : `include ${glob}: no file matches (keepalived 2.x reads nothing for it)`,
          this.major === 1 ? 'error' : 'info',
        );
    }
    if (usable.length) this.frames.push({ files: usable, fileIdx: -1, lines: [], idx: 0, dir: fromDir });
    if (usable.length) this.nextFile();
    return usable.map((f) => f.path);
  }

  private usable(f: IncludedFile, at: ConfAt): boolean {
    if (f.skip) {
      this.problem(at, `${f.path}: keepalived skips it (${f.skip})`);
      return false;
    }
    const depth = this.frames.length;
    if (this.frames.some((fr) => fr.files[fr.fileIdx]?.path === f.path)) {
      const chain = [...this.frames.map((fr) => fr.files[fr.fileIdx].path), f.path].join(' -> ');
      this.problem(at, `include cycle: ${chain}; keepalived would read it again and again: not followed`);
      return false;
    }
    if (depth >= (this.opts.maxIncludeDepth ?? 12)) {
      this.problem(at, `${f.path}: includes nested deeper than ${this.opts.maxIncludeDepth ?? 12}: not followed`);
      return false;
    }
    return true;
  }

  /** move the top frame to its next file, or pop it */
  private nextFile(): void {
    const fr = this.frames[this.frames.length - 1];
    fr.fileIdx++;
    if (fr.fileIdx >= fr.files.length) {
      this.frames.pop();
      return;
    }
    const f = fr.files[fr.fileIdx];
    const lines = f.text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    fr.lines = lines;
    fr.idx = 0;
    if (f.path.includes('/')) fr.dir = dirnameOf(f.path);
    if (!this.files.includes(f.path)) this.files.push(f.path);
  }

  /** the next physical line of the current file, with its position (null at the end of everything) */
  private physical(): { raw: string; at: ConfAt } | null {
    while (this.frames.length) {
      const fr = this.frames[this.frames.length - 1];
      if (fr.idx >= fr.lines.length) {
        this.nextFile();
        continue;
      }
      const raw = fr.lines[fr.idx++];
      this.at = { file: fr.files[fr.fileIdx].path, line: fr.idx };
      return { raw, at: { ...this.at } };
    }
    return null;
  }

  private currentDir(): string {
    return this.frames.length ? this.frames[this.frames.length - 1].dir : '/';
  }

  next(): Item | null {
    return this.major === 1 ? this.next1x() : this.next2x();
  }

  /** 1.3.5 read_line(): `@id` lines, includes; the rest is for alloc_strvec() */
  private next1x(): Item | null {
    for (;;) {
      const p = this.physical();
      if (!p) return null;
      let line = p.raw;
      if (line.endsWith('\n') || line.endsWith('\r')) line = line.slice(0, -1);
      if (line.endsWith('\n') || line.endsWith('\r')) line = line.slice(0, -1);
      if (line[0] === '@') {
        const kept = this.conditional1x(line, p.at);
        if (kept === null) continue;
        line = kept;
      }
      const inc = includeOf1x(line);
      if (inc) return this.include(inc.kind, inc.glob, p.at);
      return { kind: 'line', text: line, at: p.at };
    }
  }

  private conditional1x(line: string, at: ConfAt): string | null {
    const sp = line.search(/[ \t]/);
    const id = this.opts.configId;
    if (!id || sp < 0 || line.slice(1, sp) !== id) {
      this.problem(at, `line for config id ${line.slice(1, sp < 0 ? undefined : sp)} only: skipped`, 'info');
      return null;
    }
    return line.slice(sp + 1);
  }

  private include(kind: string, glob: string, at: ConfAt): Item {
    const node: ConfNode = { keyword: kind, args: [glob], at: { ...at } };
    node.included = this.open(glob, this.currentDir(), at);
    if (kind !== 'include')
      this.problem(at, `${kind}: read as include (its error checking is not reproduced here)`, 'info');
    return { kind: 'include', node };
  }

  /** 2.x read_line() */
  private next2x(): Item | null {
    for (;;) {
      const src = this.source2x();
      if (!src) return null;
      let { text } = src;
      const { at } = src;
      if (this.multilineDef) {
        this.appendMultiline(text);
        continue;
      }
      if (!text) continue;
      text = this.expand2x(text, at);
      if (!text) continue;
      const inc = includeOf2x(text);
      if (inc) return this.include(inc.kind, inc.glob, at);
      const { now, rest } = splitBrace2x(text);
      if (rest !== null) this.residue = { text: rest, at };
      if (now) return { kind: 'line', text: now, at };
    }
  }

  /** where read_line() takes its next text from: residue, ~SEQ/~LST, a multiline definition, the files */
  private source2x(): { text: string; at: ConfAt } | null {
    if (this.residue) {
      const r = this.residue;
      this.residue = null;
      return r;
    }
    if (this.gens.length > this.multilineSeqDepth) {
      const g = this.gens[this.gens.length - 1];
      const values = g.values.shift()!;
      g.vars.forEach((v, i) => this.setDef(v, values[i] ?? ''));
      if (!g.values.length) this.gens.pop();
      return { text: g.text, at: g.at };
    }
    if (this.pending.length) {
      const top = this.pending[this.pending.length - 1];
      const text = top.lines.shift()!;
      if (!top.lines.length) {
        this.pending.pop();
        this.multilineSeqDepth = this.pending.length ? top.savedDepth : 0;
      }
      return { text, at: top.at };
    }
    for (;;) {
      const p = this.physical();
      if (!p) return null;
      const raw = p.raw.replace(/[\r\n]+$/, '');
      if (!raw) {
        if (this.multilineDef) this.endMultiline();
        continue;
      }
      const d = decomment2x(raw);
      if (d.unterminatedQuote) this.problem(p.at, `unterminated quote: ${raw.trim()}`);
      if (d.text) return { text: d.text, at: p.at };
    }
  }

  private setDef(name: string, value: string): void {
    const old = this.defs.get(name);
    this.defs.set(name, { name, value, multiline: false, maxParams: old?.fn ? 0 : (old?.maxParams ?? 0) });
  }

  private appendMultiline(text: string): void {
    const def = this.multilineDef!;
    let line = text;
    let more = false;
    if (line.endsWith('\\')) {
      line = `${line.slice(0, -1).replace(/[ \t]+$/, '')}\n`;
      more = true;
    }
    if (!more) this.endMultiline();
    if (line.length >= 2 || (line.length && !more)) def.value += line;
  }

  private endMultiline(): void {
    const def = this.multilineDef!;
    if (!def.value) def.multiline = false;
    this.multilineDef = null;
  }

  /** @id lines, definitions, ~SEQ/~LST, $substitution (the do { } while (recheck) loop of read_line) */
  private expand2x(input: string, at: ConfAt): string {
    let buf = input;
    for (let round = 0; round < 100; round++) {
      if (buf[0] === '@') {
        const kept = this.conditional2x(buf, at);
        if (kept === null) return '';
        buf = kept;
      }
      const def = buf[0] === '$' ? parseDefinition(buf) : null;
      if (def) {
        const d: Definition = { name: def.name, value: def.value, multiline: def.multiline, maxParams: 0 };
        this.defs.set(def.name, d);
        if (def.multiline) this.multilineDef = d;
        return '';
      }
      if (buf.startsWith('~SEQ') || buf.startsWith('~LST')) {
        const g = buf[1] === 'S' ? parseSeq(buf, (s) => this.replace(s, at, true).buf) : parseLst(buf);
        if (typeof g === 'string') this.problem(at, g);
        else if (g.values.length) this.gens.push({ ...g, at: { ...at } });
        return '';
      }
      if (buf[0] === '~' || !buf.includes('$')) return buf;
      const r = this.replace(buf, at, false);
      if (!r.replaced) return r.buf;
      buf = decomment2x(r.buf).text;
      if (buf[0] !== '@' && !buf.includes('$')) return buf;
    }
    this.problem(at, 'definitions keep expanding: line not read', 'unsupported');
    return '';
  }

  private conditional2x(buf: string, at: ConfAt): string | null {
    const rev = buf[1] === '^';
    const ofs = rev ? 2 : 1;
    const sp = buf.slice(ofs).search(/[ \t]/);
    const id = this.opts.configId;
    const word = sp < 0 ? buf.slice(ofs) : buf.slice(ofs, ofs + sp);
    const match = !!id && sp >= 0 && word === id;
    if (sp < 0 || match === rev) {
      const who = rev ? `every config id but ${word}` : `config id ${word}`;
      this.problem(at, `line for ${who} only: skipped (config id here: ${id ?? 'none'})`, 'info');
      return null;
    }
    return buf.slice(ofs + sp).replace(/^[ \t]+/, '');
  }

  /** replace_param(): every $NAME / ${NAME} with its value (values are expanded again) */
  private replace(input: string, at: ConfAt, noMultiline: boolean): { buf: string; replaced: boolean } {
    let buf = input;
    let pos = 0;
    let replaced = false;
    for (let guard = 0; ; guard++) {
      const i = buf.indexOf('$', pos);
      if (i < 0 || i + 1 >= buf.length) break;
      const use = definitionUse(buf, i + 1, this.defs);
      if (!use) {
        pos = i + 1;
        continue;
      }
      if (guard > 1000 || buf.length > MAX_LINE) {
        this.problem(at, 'parameter substitution would exceed the maximum line length', 'error');
        return { buf, replaced: false };
      }
      replaced = true;
      let value = this.valueOf(use.def, at);
      if (use.def.multiline && !noMultiline) {
        const lines = value.split('\n');
        value = lines[0];
        const rest = lines.slice(1);
        if (rest.length) {
          const saved = this.multilineSeqDepth;
          this.pending.push({ lines: rest, at: { ...at }, savedDepth: saved });
          this.multilineSeqDepth = this.gens.length;
        }
      }
      buf = buf.slice(0, i) + value + buf.slice(i + 1 + use.length);
      if (use.def.value.replace(/^[ \t]+/, '')[0] === '~') break;
    }
    return { buf, replaced };
  }

  private valueOf(def: Definition, at: ConfAt): string {
    if (def.fn === 'pwd') return this.currentDir();
    if (def.fn === 'instance') return this.opts.configId ?? '';
    if (def.fn === 'random') {
      this.problem(at, '${_RANDOM}: a random number; the value keepalived used is not known', 'unsupported');
      return '0';
    }
    return def.value;
  }
}

/** one pass over the main file and whatever of its includes is in `cache` */
function readPass(
  mainPath: string,
  cache: Map<string, IncludedFile[]>,
  opts: KeepalivedReadOptions,
): { config: KeepalivedConfig; missing: { glob: string; fromDir: string }[] } {
  const reader = new LineReader(cache, opts);
  const builder = new TreeBuilder(opts.major ?? 2, opts.version ?? null, (at, m, level) =>
    reader.problem(at, m, level),
  );
  reader.open(mainPath, dirnameOf(mainPath), null);
  let guard = 0;
  for (let item = reader.next(); item; item = reader.next()) {
    builder.add(item);
    if (++guard > 1_000_000) {
      reader.problem({ file: mainPath, line: 0 }, 'more than a million lines: reading stopped', 'unsupported');
      break;
    }
  }
  builder.finish();
  return { config: { tree: builder.tree, files: reader.files, problems: reader.problems }, missing: reader.missing };
}

/** parse one file's text (an include in it is kept as a node and not followed) */
export function parseKeepalivedText(text: string, file: string, opts: KeepalivedReadOptions = {}): KeepalivedConfig {
  const cache = new Map<string, IncludedFile[]>([[cacheKey(file, dirnameOf(file)), [{ path: file, text }]]]);
  const { config, missing } = readPass(file, cache, opts);
  for (const m of missing)
    config.problems.push({
      at: { file, line: 0 },
      message: `include ${m.glob}: not followed (one file parsed)`,
      level: 'info',
    });
  return config;
}

/**
 * read the main file and its includes as keepalived does: each round reads what the files known so far include
 * (one `read` per glob, all of a round at once), so a host is asked once per include level
 */
export async function loadKeepalivedConfig(
  mainPath: string,
  read: ReadIncluded,
  opts: KeepalivedReadOptions = {},
): Promise<KeepalivedConfig> {
  const cache = new Map<string, IncludedFile[]>();
  const readProblems: ConfProblem[] = [];
  const rounds = (opts.maxIncludeDepth ?? 12) + 2;
  for (let round = 0; ; round++) {
    const { config, missing } = readPass(mainPath, cache, opts);
    if (!missing.length || round >= rounds) {
      config.problems.unshift(...readProblems);
      return config;
    }
    await Promise.all(
      missing.map(async (m) => {
        const key = cacheKey(m.glob, m.fromDir);
        if (cache.has(key)) return;
        try {
          cache.set(key, await read(m.glob, m.fromDir));
        } catch (e) {
          cache.set(key, []);
          readProblems.push({
            at: { file: m.glob, line: 0 },
            message: `cannot read ${m.glob}: ${(e as Error).message}`,
            level: 'error',
          });
        }
      }),
    );
  }
}

/**
 * every node of a tree, depth first, with its parents (the fast form of walkConf: `parents` is one array, changed
 * as the walk goes on: copy it to keep it)
 */
export function eachConf(nodes: ConfNode[], fn: (n: ConfNode, parents: readonly ConfNode[]) => void): void {
  const parents: ConfNode[] = [];
  const walk = (list: ConfNode[]) => {
    for (const n of list) {
      fn(n, parents);
      if (n.children?.length) {
        parents.push(n);
        walk(n.children);
        parents.pop();
      }
    }
  };
  walk(nodes);
}

/** every node of a tree, depth first, with its parents */
export function* walkConf(nodes: ConfNode[], parents: ConfNode[] = []): Generator<[ConfNode, ConfNode[]]> {
  for (const n of nodes) {
    yield [n, parents];
    if (n.children) yield* walkConf(n.children, [...parents, n]);
  }
}
