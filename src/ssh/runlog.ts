/** Local log of a run: every remote command and its exit code, secrets masked. */
import { appendFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { redact } from '../answers/resolve.js';

export class RunLog {
  readonly path: string;
  constructor(
    runId: string,
    private readonly secrets: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const base = env.HA_SETUP_LOG_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'ha-setup');
    mkdirSync(base, { recursive: true, mode: 0o700 });
    this.path = join(base, `${runId}.log`);
  }
  write = (line: string): void => {
    appendFileSync(this.path, `${new Date().toISOString()} ${redact(line, this.secrets)}\n`, { mode: 0o600 });
  };
}
