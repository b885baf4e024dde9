/** One lab for the whole e2e run: up before the first test file, down after the last. */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function lab(cmd: string): void {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'lab'), cmd], { stdio: 'inherit', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`lab ${cmd} failed with exit ${r.status}`);
}

export default function setup(): () => void {
  if (process.env.HA_LAB_KEEP !== '1') lab('up');
  return () => {
    if (process.env.HA_LAB_KEEP !== '1') lab('down');
  };
}
