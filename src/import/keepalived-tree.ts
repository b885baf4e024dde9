/**
 * keepalived's process_stream(), ported from its lib/parser.c (1.3.5 and 2.x): the lines read_line() returns become
 * a tree, read by context as keepalived reads them. Each block has its own keyword table (keepalived-keywords.ts):
 * a keyword with a sub-level opens a block of keywords, a value keyword reads the lines of its block as values
 * (alloc_value_block), any other keyword is one line. What keepalived does with the rest is reproduced: a keyword it
 * does not know there is logged and ignored, a `{` it does not expect is ignored (so the `}` meant for it ends the
 * enclosing block, and the lines after that are read one level up), a block whose handler refuses it is skipped by
 * counting braces (skip_block). The tree is what keepalived ran; every such reading is a problem with file:line.
 */
import { lookupKeyword, NAMED_BLOCKS, rootTable, type KeywordTable } from './keepalived-keywords.js';
import { tokens1x, tokens2x } from './keepalived-lex.js';

export interface ConfAt {
  file: string;
  line: number;
}

export interface ConfNode {
  keyword: string;
  args: string[];
  at: ConfAt;
  /** the lines of its `{ }` block */
  children?: ConfNode[];
  /** an include node: the files it read (in keepalived's order) */
  included?: string[];
  /** keepalived does not know this keyword where it stands: it logs "Unknown keyword" and ignores the line */
  unknown?: true;
  /** keepalived skips this block (its handler called skip_block): why; its lines are kept as they were read */
  skipped?: string;
  /** 2.x: a script line as read_line() gave it (keepalived re-reads it with quotes and escapes to run it) */
  raw?: string;
  /** read one level up from where it is written: the block it was written in ended early (why) */
  misplaced?: string;
}

export interface ConfProblem {
  at: ConfAt;
  message: string;
  /** error: keepalived rejects or misreads it; unsupported: not understood here; info: how it was read */
  level: 'error' | 'unsupported' | 'info';
}

export type Item = { kind: 'line'; text: string; at: ConfAt } | { kind: 'include'; node: ConfNode };

type Mode = 'keywords' | 'values' | 'line-values' | 'word-values' | 'skip';

interface Frame {
  node: ConfNode | null;
  children: ConfNode[];
  table: KeywordTable;
  mode: Mode;
  /** the `{` that should open this block is still to come */
  needBob: boolean;
  /** skip mode: brace depth (-1: the `{` is still to come) */
  depth: number;
  /** `{` keepalived ignored in this block: the `}` meant for each ends this block instead */
  strays: { at: ConfAt }[];
  /** the last keyword line of this block */
  last: ConfNode | null;
  /** a `group` of a sync group was read (a second one is skipped) */
  group?: boolean;
  /** skip mode: the skipped keyword reads values (its skip ran in the enclosing block's stream) */
  valueSkip?: boolean;
  /** a block inside this one ended early: the lines read here from then on were written inside it */
  misplaced?: string;
}

type Problem = (at: ConfAt, message: string, level?: ConfProblem['level']) => void;

/**
 * top-level blocks keepalived's VRRP process does not read (their keywords are installed inactive there: 2.x reads
 * global_defs in the parent process only, the checker's blocks in the checker): it skips them by counting braces,
 * so where their braces do not balance it sees their end elsewhere than the process that reads them
 */
const NOT_VRRP: Record<1 | 2, Set<string>> = {
  1: new Set(['SSL', 'virtual_server_group', 'virtual_server']),
  2: new Set(['global_defs', 'SSL', 'virtual_server_group', 'virtual_server']),
};

function label(n: ConfNode | null): string {
  return n ? `'${[n.keyword, ...n.args.slice(0, 1)].join(' ')}'` : 'the top level';
}

/** the tree of one configuration as keepalived `major` (release `version`) reads it */
export class TreeBuilder {
  readonly tree: ConfNode[] = [];
  private readonly stack: Frame[];
  private readonly names = new Map<string, Set<string>>();
  /** the VRRP process skipping a block it does not read: its brace depth (-1: the `{` is still to come) */
  private vrrpSkip: { depth: number; from: ConfNode } | null = null;

  constructor(
    private readonly major: 1 | 2,
    private readonly version: string | null,
    private readonly problem: Problem,
  ) {
    this.stack = [this.frame(null, this.tree, rootTable(major), 'keywords', false)];
  }

  private frame(node: ConfNode | null, children: ConfNode[], table: KeywordTable, mode: Mode, needBob: boolean): Frame {
    return { node, children, table, mode, needBob, depth: 0, strays: [], last: null };
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1];
  }

  add(item: Item): void {
    if (item.kind === 'include') {
      this.top().children.push(item.node);
      return;
    }
    if (this.major === 2) this.line2x(item.text, item.at);
    else this.line1x(item.text, item.at);
  }

  /** 2.x: read_line() has split the line at its first brace: a `{` or `}` is a line of its own */
  private line2x(text: string, at: ConfAt): void {
    const { words, unmatchedQuote } = tokens2x(text);
    if (unmatchedQuote) this.problem(at, `unmatched quote: ${text}`);
    if (!words.length) return;
    this.vrrpView(words, at);
    const f = this.top();
    if (f.mode === 'skip') return this.skipLine(f, words, at, text);
    if (f.mode === 'values') return this.valueLine2x(f, words, at);
    if (f.needBob) {
      f.needBob = false;
      if (words[0] === '{') return;
      this.problem(at, `missing '{' after ${label(f.node)}: keepalived reads the lines below as its block anyway`);
    } else if (words[0] === '{') return this.stray(f, at);
    if (words[0] === '}') return this.close(f, at);
    this.keyword(f, words, at, false, text);
  }

  /** 2.x alloc_value_block(): a `{` first, then one value a line to a line ending with `}` */
  private valueLine2x(f: Frame, words: string[], at: ConfAt): void {
    let w = words;
    if (f.needBob) {
      f.needBob = false;
      if (w[0] === '{') {
        if (w.length === 1) return;
        w = w.slice(1);
      } else
        this.problem(at, `'{' missing at the beginning of ${label(f.node)}: keepalived reads this line as a value`);
    }
    const end = w[w.length - 1] === '}';
    if (end) w = w.slice(0, -1);
    if (w.length) {
      if (w[0] === '{') this.problem(at, `'{' inside the values of ${label(f.node)}: read as a value`);
      this.value(f, w, at);
    }
    if (end) this.stack.pop();
  }

  /** 1.x: words of the whole line; a brace is a brace only as a word of its own */
  private line1x(text: string, at: ConfAt): void {
    const { words, unmatchedQuote } = tokens1x(text);
    if (unmatchedQuote) this.problem(at, `unmatched quote: ${text.trim()} (keepalived 1.x keeps the words before it)`);
    if (!words.length) return;
    this.vrrpView(words, at);
    const f = this.top();
    if (f.mode === 'skip') return this.skipLine(f, words, at, text);
    if (f.mode === 'word-values') return this.wordValues1x(f, words, at);
    if (f.mode === 'line-values') {
      if (words[0] === '}') return this.close1x(f, words, at);
      if (words[0] === '{') this.problem(at, `keepalived 1.x reads this '{' as a value of ${label(f.node)}`);
      return this.value(f, words, at);
    }
    if (f.needBob) {
      f.needBob = false;
      if (words[0] === '{' && f.node) {
        if (words.length > 1) this.problem(at, `keepalived 1.x ignores what follows '{': ${words.slice(1).join(' ')}`);
        return;
      }
      this.problem(at, `missing '{' after ${label(f.node)}: keepalived reads the lines below as its block anyway`);
    } else if (words[0] === '{') {
      if (words.length > 1) this.problem(at, `keepalived 1.x ignores what follows '{': ${words.slice(1).join(' ')}`);
      return this.stray(f, at);
    }
    if (words[0] === '}') return this.close1x(f, words, at);
    this.keyword(f, words, at, true);
  }

  private close1x(f: Frame, words: string[], at: ConfAt): void {
    if (words.length > 1) this.problem(at, `keepalived 1.x ignores what follows '}': ${words.slice(1).join(' ')}`);
    this.close(f, at);
  }

  /** a keyword line of a block of keywords */
  private keyword(f: Frame, words: string[], at: ConfAt, oneX: boolean, text?: string): void {
    const spec = lookupKeyword(f.table, words[0], this.major === 2 ? this.version : null);
    // 1.x: `{` opens a block only as the last word of the line (a keyword without a block ignores it)
    const brace = oneX && words.length > 1 && words[words.length - 1] === '{';
    const used = brace ? words.slice(0, -1) : words;
    if (oneX && !spec?.values && used.slice(1).some((w) => w === '{' || w === '}'))
      this.problem(
        at,
        "keepalived 1.x reads '{' only as the last word of a line and '}' only as the first: " +
          `here they are read as values (${used.join(' ')})`,
      );
    const n: ConfNode = { keyword: used[0], args: used.slice(1), at: { ...at } };
    if (f.misplaced) n.misplaced = f.misplaced;
    if (!f.node) this.vrrpRoot(n, brace || !oneX);
    if (text !== undefined && /script|notify/.test(n.keyword)) n.raw = text;
    f.children.push(n);
    f.last = n;
    if (!spec) {
      // "Unknown keyword": the mapper says so on the node
      n.unknown = true;
      if (brace) this.stray(f, at);
      return;
    }
    if (spec.block) return this.open(f, n, spec.block, oneX ? !brace : true, at);
    if (spec.values === 'lines') return this.openValues(n, words, at, oneX);
    if (spec.values === 'words') return this.openWords1x(n, words.slice(1), at);
    if (brace) this.stray(f, at);
  }

  /** a keyword with a block of keywords (its handler may skip the block) */
  private open(f: Frame, n: ConfNode, table: KeywordTable, needBob: boolean, at: ConfAt): void {
    n.children = [];
    const skip = this.skipReason(f, n);
    if (skip) {
      n.skipped = skip;
      this.problem(at, `${label(n)}: ${skip}`);
      // 2.x skip_block(true) waits for the `{`; 1.3.5's skip_block() counts from the keyword line's own `{`
      this.stack.push(this.skipFrame(n, table, this.major === 2 ? -1 : 1));
      return;
    }
    this.stack.push(this.frame(n, n.children, table, 'keywords', needBob));
  }

  private skipReason(f: Frame, n: ConfNode): string | null {
    const parent = f.node?.keyword;
    if (n.keyword === 'group' && (parent === 'vrrp_sync_group' || parent === 'track_group')) {
      if (f.group) return `a second group list in ${parent} ${f.node!.args[0] ?? ''}: keepalived skips it`;
      f.group = true;
      return null;
    }
    if (f.node || !NAMED_BLOCKS.has(n.keyword)) return null;
    if (n.args.length !== 1)
      return `keepalived skips the whole block: ${n.keyword} takes exactly one name (here ${n.args.length})`;
    const seen = this.names.get(n.keyword) ?? new Set<string>();
    this.names.set(n.keyword, seen);
    if (seen.has(n.args[0])) return `keepalived skips the whole block: a second ${n.keyword} ${n.args[0]}`;
    seen.add(n.args[0]);
    return null;
  }

  /** a value keyword (alloc_value_block): 2.x wants `{` next, 1.x reads the lines below to one starting with `}` */
  private openValues(n: ConfNode, words: string[], at: ConfAt, oneX: boolean): void {
    n.children = [];
    const skip = this.skipReason(this.top(), n);
    if (skip) {
      n.skipped = skip;
      this.problem(at, `${label(n)}: ${skip}`);
      this.stack.push(this.skipFrame(n, null, this.major === 2 ? -1 : 1));
      return;
    }
    const extra = n.keyword === 'virtual_server_group' ? n.args.slice(1) : n.args;
    n.args = n.keyword === 'virtual_server_group' ? n.args.slice(0, 1) : [];
    const shown = extra.filter((w, i) => !(oneX && w === '{' && i === extra.length - 1));
    if (shown.length)
      this.problem(
        at,
        oneX
          ? `keepalived 1.x ignores what follows '${words[0]}' on its line: ${shown.join(' ')}`
          : `block ${words[0]} has extra parameters: keepalived ignores ${shown.join(' ')}`,
      );
    this.stack.push(this.frame(n, n.children, rootTable(this.major), oneX ? 'line-values' : 'values', !oneX));
  }

  /** 1.x read_value_block(): `{` first (on the keyword's line or the next), then words to a `}` anywhere */
  private openWords1x(n: ConfNode, rest: string[], at: ConfAt): void {
    n.children = [];
    const skip = this.skipReason(this.top(), n);
    if (skip) {
      n.skipped = skip;
      this.problem(at, `${label(n)}: ${skip}`);
      this.stack.push(this.skipFrame(n, null, 1));
      return;
    }
    n.args = [];
    const f = this.frame(n, n.children, rootTable(1), 'word-values', true);
    this.stack.push(f);
    if (rest.length) this.wordValues1x(f, rest, at);
  }

  private wordValues1x(f: Frame, words: string[], at: ConfAt): void {
    let rest = words;
    if (f.needBob) {
      f.needBob = false;
      if (rest[0] === '{') rest = rest.slice(1);
      else this.problem(at, `'{' missing at the beginning of ${label(f.node)}`);
    }
    const end = rest.indexOf('}');
    const values = end < 0 ? rest : rest.slice(0, end);
    if (values.length) this.value(f, values, at);
    if (end >= 0) {
      if (end < rest.length - 1) this.problem(at, `extra characters after '}': ${rest.slice(end + 1).join(' ')}`);
      this.stack.pop();
    }
  }

  /** a skipped block: `table` null for a value keyword's (its handler returned without reading the block) */
  private skipFrame(n: ConfNode, table: KeywordTable | null, depth: number): Frame {
    const f = this.frame(n, n.children!, table ?? rootTable(this.major), 'skip', false);
    f.depth = depth;
    f.valueSkip = !table;
    return f;
  }

  /** a skipped block: braces counted to the end of it (the words of its lines kept as they were) */
  private skipLine(f: Frame, words: string[], at: ConfAt, text: string): void {
    if (f.depth === -1) {
      if (words[0] === '{') {
        f.depth = 1;
        return;
      }
      // the skipped keyword had no block after all
      this.stack.pop();
      this.problem(at, `${label(f.node)} has no block: nothing skipped`, 'info');
      return this.major === 2 ? this.line2x(text, at) : this.line1x(text, at);
    }
    f.children.push({ keyword: words[0], args: words.slice(1), at: { ...at } });
    for (const w of words) {
      if (w === '{') f.depth++;
      else if (w === '}' && --f.depth === 0) break;
    }
    if (f.depth > 0) return;
    f.children.pop();
    this.stack.pop();
    if (this.major === 2) {
      // 2.x returns from the stream the skip ran in: a value keyword's skip ends the block it stands in
      if (f.valueSkip && this.stack.length > 1) {
        const up = this.stack.pop()!;
        this.problem(at, `this '}' ends the skipped ${label(f.node)} and ${label(up.node)} with it`);
      }
      return;
    }
    // 1.3.5 goes on in the block's own stream: the lines up to its next `}` are read as its keywords
    if (!f.valueSkip) {
      this.problem(
        at,
        `keepalived 1.x goes on reading the lines after the skipped ${label(f.node)} as its keywords up to the ` +
          'next "}" (it applies them to the block before it): not reproduced',
        'unsupported',
      );
      this.stack.push(this.frame(f.node, f.children, f.table, 'keywords', false));
    }
  }

  private value(f: Frame, words: string[], at: ConfAt): void {
    f.children.push({ keyword: words[0], args: words.slice(1), at: { ...at } });
  }

  /** a `{` keepalived does not expect: "Unexpected '{' - ignoring"; the `}` meant for it ends this block */
  private stray(f: Frame, at: ConfAt): void {
    f.strays.push({ at: { ...at } });
    const why = f.last?.unknown ? 'which keepalived does not know there' : 'which has no block';
    this.problem(
      at,
      `unexpected '{'${f.last ? ` after '${f.last.keyword}' (${why})` : ''}: keepalived ignores it and reads ` +
        'the lines below as ' +
        (f.node ? `${label(f.node)} keywords; the '}' meant for it ends ${label(f.node)}` : 'top-level keywords'),
    );
  }

  private close(f: Frame, at: ConfAt): void {
    if (this.stack.length === 1) {
      // the `}` of the block that ended early: what follows is where it was written again
      f.misplaced = undefined;
      this.problem(at, "extra '}' found: keepalived ignores it");
      return;
    }
    if (f.strays.length) {
      const s = f.strays[0];
      const up = this.stack[this.stack.length - 2];
      const where = `${label(f.node)} ended at line ${at.line}`;
      up.misplaced = `${where} with the '}' meant for the '{' ignored at line ${s.at.line}`;
      this.problem(
        at,
        `this '}' (meant for the '{' of line ${s.at.line}) ends ${label(f.node)}: keepalived reads the lines ` +
          `after it as ${up.node ? `${label(up.node)} keywords` : 'top-level keywords'}`,
      );
    } else if (f.misplaced) this.stack[this.stack.length - 2].misplaced = f.misplaced;
    this.stack.pop();
  }

  /** a top-level keyword: the VRRP process skips it (inside a block it counts braces in), or starts skipping it */
  private vrrpRoot(n: ConfNode, braceNext: boolean): void {
    const v = this.vrrpSkip;
    if (v && v.depth !== 0) {
      n.skipped =
        `keepalived's VRRP process never reads it: it counts it inside ${label(v.from)} (line ${v.from.at.line}), ` +
        'whose braces do not balance';
      return;
    }
    if (NOT_VRRP[this.major].has(n.keyword))
      this.vrrpSkip = { depth: this.major === 2 || !braceNext ? -1 : 1, from: n };
  }

  /** the VRRP process's brace count over a block it skips (skip_sublevel in process_stream) */
  private vrrpView(words: string[], at: ConfAt): void {
    const v = this.vrrpSkip;
    if (!v) return;
    if (v.depth === -1) {
      v.depth = words[0] === '{' ? 1 : 0;
      if (!v.depth) this.vrrpSkip = null;
      return;
    }
    for (const w of words) {
      if (w === '{') v.depth++;
      else if (w === '}' && --v.depth === 0) break;
    }
    if (v.depth > 0) return;
    this.vrrpSkip = null;
    // the block is still open for the process that reads it: the VRRP process reads what follows at the top level
    if (this.stack.some((f) => f.node === v.from) && this.stack[this.stack.length - 1].node !== v.from)
      this.problem(
        at,
        `the braces of ${label(v.from)} do not balance: keepalived's VRRP process reads the lines after this one ` +
          'at the top level (not reproduced here)',
        'unsupported',
      );
  }

  finish(): void {
    for (const f of this.stack.slice(1))
      if (f.node)
        this.problem(
          f.node.at,
          `${label(f.node)} block is never closed: a '}' is missing (keepalived reads to the end)`,
        );
  }
}
