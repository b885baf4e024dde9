#!/usr/bin/env node
// Structure of src/: no function longer than 100 lines (counted from its first to its last line, nested functions
// included in their parent), and no import cycle between folders of src/ (a file in src/a importing src/b and one
// in src/b importing src/a). Both name each offender; exit 1 when there is one. Uses the TypeScript compiler's parser.
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
const edges = new Map(); // folder -> Map<folder, example "file -> file">
const folderOf = (f) => {
  const rel = relative(ROOT, f);
  return rel.includes('/') ? rel.split('/')[0] : '.';
};
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
  for (const st of sf.statements) {
    const spec =
      (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) &&
      st.moduleSpecifier &&
      ts.isStringLiteral(st.moduleSpecifier)
        ? st.moduleSpecifier.text
        : null;
    if (!spec || !spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
    const to = folderOf(relative(process.cwd(), target));
    const from = folderOf(f);
    if (to === from || to === '.' || from === '.') continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${f} -> ${relative(process.cwd(), target)}`);
  }
}
const cycles = [];
for (const [a, tos] of edges)
  for (const [b, why] of tos)
    if (a < b && edges.get(b)?.has(a)) cycles.push(`${a} <-> ${b}: ${why}; ${edges.get(b).get(a)}`);
for (const l of long) console.error(l);
for (const c of cycles) console.error(`folder cycle ${c}`);
if (long.length || cycles.length) {
  console.error(
    `check-structure: ${long.length} function(s) over ${MAX_LINES} lines, ${cycles.length} folder cycle(s)`,
  );
  process.exit(1);
}
