// Prints one closing line over vitest's JSON reports: "N passed, N failed" (and skipped), exit 1 if none ran.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0,
  failed = 0,
  skipped = 0;
for (const f of process.argv.slice(2)) {
  if (!existsSync(f)) {
    console.error(`test-summary: ${f} missing`);
    process.exit(1);
  }
  const r = JSON.parse(readFileSync(f, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (passed + failed === 0 || failed > 0) process.exit(1);
