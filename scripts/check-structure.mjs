#!/usr/bin/env node
// Structure of src/: no function longer than 100 lines (counted from its first to its last line, nested functions
// included in their parent), and no import cycle of any length: neither between files (src/a/x.ts -> src/b/y.ts ->
// src/a/x.ts, root files included) nor between folders (a file in src/a importing src/b, one in src/b importing
// src/c, one in src/c importing src/a; a root file counts as a folder of its own). Imports are every
// `import`/`export ... from` and `import('...')` of a relative path, type-only ones included. Each offender is
// named (a cycle with the imports that close it); exit 1 when there is one. Uses the TypeScript compiler's parser.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const MAX_LINES = 100;
const ROOT = 'src';
const files = [];
(function walk(p) {
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  else if (p.endsWith('.ts')) files.push(p);
})(ROOT);

const long = [];
/** file -> Map<imported file, line of the import>, paths relative to the working directory */
const imports = new Map();
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      const lines = end - start + 1;
      if (lines > MAX_LINES) {
        const name =
          node.name?.getText(sf) ??
          (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : '(anonymous)');
        long.push(`${f}:${start + 1}: ${name} has ${lines} lines (max ${MAX_LINES})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  imports.set(f, importsOf(sf));
}

/** the files of src/ that a file imports (static, re-exports and literal dynamic imports), with their line */
function importsOf(sf) {
  const out = new Map();
  const add = (spec, node) => {
    if (!spec.startsWith('.')) return;
    const target = relative(process.cwd(), resolve(dirname(sf.fileName), spec.replace(/\.js$/, '.ts')));
    if (!out.has(target)) out.set(target, sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
  };
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, node);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node.arguments[0].text, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** strongly connected components with more than one node, or a node importing itself (Tarjan) */
function cyclicGroups(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const groups = [];
  const connect = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || graph.get(v)?.has(v)) groups.push(group.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return groups;
}

/** one shortest cycle through the group's first node (breadth first, inside the group), as its list of nodes */
function cycleIn(graph, group) {
  const inGroup = new Set(group);
  const start = group[0];
  const prev = new Map();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!inGroup.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]));
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

// the folder graph: a file in src/a importing one in src/b is an edge a -> b, with that import as its example
const folderOf = (f) => {
  const rel = relative(ROOT, f);
  return rel.includes('/') ? rel.split('/')[0] + '/' : rel;
};
const folders = new Map();
for (const [f, tos] of imports) {
  for (const [t, line] of tos) {
    const [a, b] = [folderOf(f), folderOf(t)];
    if (a === b) continue;
    if (!folders.has(a)) folders.set(a, new Map());
    if (!folders.get(a).has(b)) folders.get(a).set(b, `${f}:${line} -> ${t}`);
  }
}
const cycles = [];
for (const group of cyclicGroups(imports)) {
  const path = cycleIn(imports, group);
  const steps = path.slice(1).map((t, k) => `${path[k]}:${imports.get(path[k]).get(t)}`);
  cycles.push(`file cycle (${group.length} in it: ${group.join(', ')}): ${steps.join(' -> ')} -> ${path[0]}`);
}
for (const group of cyclicGroups(folders)) {
  const path = cycleIn(folders, group);
  const steps = path.slice(1).map((t, k) => folders.get(path[k]).get(t));
  cycles.push(`folder cycle (${group.length} in it: ${group.join(', ')}): ${path.join(' -> ')}: ${steps.join('; ')}`);
}
for (const l of long) console.error(l);
for (const c of cycles) console.error(c);
if (long.length || cycles.length) {
  console.error(
    `check-structure: ${long.length} function(s) over ${MAX_LINES} lines, ${cycles.length} import cycle(s)`,
  );
  process.exit(1);
}
