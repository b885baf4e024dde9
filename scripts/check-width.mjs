#!/usr/bin/env node
// House style: no line of code wider than 120 characters. Prettier wraps code at 120 but leaves long strings and
// comments alone; this check fails on them, naming each file:line. Default roots: src, test, scripts, bin and bench.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'test', 'scripts', 'bin', 'bench'];
const exts = /\.(ts|mjs|js)$|^ha-setup$/;
const bad = [];
function walk(p) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'out') walk(join(p, e));
    return;
  }
  if (!exts.test(p.split('/').pop())) return;
  readFileSync(p, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if ([...line].length > MAX) bad.push(`${p}:${i + 1}: ${[...line].length} characters (max ${MAX})`);
    });
}
for (const r of roots) walk(r);
if (bad.length) {
  console.error(bad.join('\n'));
  console.error(`check-width: ${bad.length} line(s) over ${MAX} characters`);
  process.exit(1);
}
