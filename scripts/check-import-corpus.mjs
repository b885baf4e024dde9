#!/usr/bin/env node
// Reads every file of the given directories with ha-setup import's keepalived parser (the built dist/import, so run
// `npm run build` first) and maps each as one host: one line per file (ok, or the number of problems; mapped / kept /
// dropped constructs). A file that makes the parser or the mapper throw is a failure: exit 1. Includes are followed
// inside the file system (relative to the including file). Usage: node scripts/check-import-corpus.mjs DIR...
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

const { loadKeepalivedConfig } = await import('../dist/import/keepalived-conf.js');
const { mapImport } = await import('../dist/import/map.js');
const { parseDaemonArgs } = await import('../dist/import/daemon-options.js');

const dirs = process.argv.slice(2);
if (!dirs.length || dirs.some((d) => d === '-h' || d === '--help')) {
  console.log('usage: node scripts/check-import-corpus.mjs DIR...   (after npm run build)');
  process.exit(dirs.length ? 0 : 2);
}

function walk(p, out = []) {
  const st = statSync(p);
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e), out);
  else if (st.isFile()) out.push(resolve(p));
  return out;
}

function globRe(glob) {
  const re = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

/** glob(3) on the local file system: the directory part literal, the last part may have * and ? */
async function read(glob, fromDir) {
  const abs = resolve(fromDir, glob);
  const dir = dirname(abs);
  const re = globRe(basename(abs));
  let names;
  try {
    names = readdirSync(dir).filter((n) => re.test(n) && !n.startsWith('.'));
  } catch {
    return [];
  }
  return names.sort().map((n) => {
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) return { path: p, text: '', skip: 'a directory' };
    if (st.mode & 0o111) return { path: p, text: '', skip: 'executable: keepalived reads only non-executable files' };
    return { path: p, text: readFileSync(p, 'utf8') };
  });
}

function hostOf(file, config, major) {
  return {
    given: 'corpus',
    hostname: 'corpus',
    osFamily: 'other',
    keepalivedVersion: major === 1 ? '1.3.5' : '2.2.7',
    keepalivedMajor: major,
    daemonOptions: { ...parseDaemonArgs(['-D'], major), source: 'corpus' },
    configPath: file,
    interfaces: [],
    holds: [],
    config,
    scripts: {},
    services: { keepalived: 'active', nginx: 'inactive' },
    latent: [],
  };
}

let crashed = 0;
let total = 0;
const sums = { mapped: 0, kept: 0, dropped: 0, problems: 0 };
for (const d of dirs) {
  for (const file of walk(d)) {
    total++;
    const name = relative(process.cwd(), file) || file;
    try {
      const one = await loadKeepalivedConfig(file, read, { major: 1, configId: 'corpus' });
      const config = await loadKeepalivedConfig(file, read, { major: 2, configId: 'corpus' });
      const r = mapImport([hostOf(file, config, 2)], { ssh: {} });
      const n = { mapped: 0, kept: 0, dropped: 0 };
      for (const l of r.ledger) n[l.how]++;
      const errors = config.problems.filter((p) => p.level !== 'info');
      for (const k of Object.keys(n)) sums[k] += n[k];
      sums.problems += errors.length;
      const status = errors.length ? `${errors.length} problem(s)` : 'ok';
      const first = errors[0] ? ` (first: line ${errors[0].at.line}: ${errors[0].message})` : '';
      console.log(
        `${status.padEnd(14)} ${name}: ${config.files.length} file(s), ${r.ledger.length} construct(s): ` +
          `${n.mapped} mapped, ${n.kept} kept, ${n.dropped} dropped; ` +
          `1.x reading: ${one.problems.length} note(s)${first}`,
      );
    } catch (e) {
      crashed++;
      console.log(`CRASH          ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
}
console.log(
  `${total} file(s): ${crashed} crash(es); ${sums.mapped} mapped, ${sums.kept} kept, ${sums.dropped} dropped, ` +
    `${sums.problems} problem(s) reported`,
);
process.exit(crashed ? 1 : 0);
