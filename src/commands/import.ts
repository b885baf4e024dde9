/**
 * `ha-setup import HOST...`: an answers file that reproduces the pair running on the hosts, with every line of
 * their keepalived configurations accounted for (stderr: one line each for what was kept as a snippet or dropped,
 * and where each VRRP password is); exit 2 when ha-setup cannot take the pair over safely.
 */
import { dirname, resolve } from 'node:path';
import { answersForSaving } from '../answers/summary.js';
import { HOST_RE, isIPv4, LOCAL_PATH_RE, USER_RE } from '../answers/schema.js';
import { UsageError } from '../errors.js';
import { snippetFiles } from '../import/files.js';
import { runImport } from '../import/run.js';
import type { IO } from '../io.js';
import { writeLocalFiles } from '../local-files.js';
import { passwordPrompt } from '../password-prompt.js';
import { renderImport } from '../report/import.js';

export interface ImportCommandOptions {
  user?: string;
  port?: string;
  identity?: string;
  knownHosts?: string;
  out?: string;
  json?: boolean;
  force?: boolean;
}

function checkOptions(hosts: string[], opts: ImportCommandOptions): number | undefined {
  if (hosts.length < 2) throw new UsageError('import: give every host of the pair (at least two)');
  for (const h of hosts)
    if (!isIPv4(h) && !HOST_RE.test(h)) throw new UsageError(`import: "${h}" is not an IPv4 address or a host name`);
  if (new Set(hosts).size !== hosts.length) throw new UsageError('import: a host is given twice');
  if (opts.user && !USER_RE.test(opts.user))
    throw new UsageError(`--user: must be a plain user name (got ${opts.user})`);
  for (const [k, v] of [
    ['--identity', opts.identity],
    ['--known-hosts', opts.knownHosts],
    ['--out', opts.out],
  ] as const)
    if (v !== undefined && !LOCAL_PATH_RE.test(v)) throw new UsageError(`${k}: must be a file path of safe characters`);
  if (opts.port === undefined) return undefined;
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--port: must be 1..65535 (got ${opts.port})`);
  return port;
}

export async function importCommand(io: IO, hosts: string[], opts: ImportCommandOptions): Promise<number> {
  const port = checkOptions(hosts, opts);
  const out = await runImport(io, {
    hosts,
    user: opts.user,
    port,
    identityFile: opts.identity,
    knownHostsFile: opts.knownHosts,
    askPassword: passwordPrompt(io),
  });
  const { result } = out;
  // snippets go beside the answers file (the current directory when the answers go to stdout), named by it; no file
  // that is there is overwritten (--force replaces them), and none is written when one is in the way
  const answersFile = opts.out ? resolve(io.cwd, opts.out) : null;
  const snippets = snippetFiles(result.answers, result.snippets, answersFile ? dirname(answersFile) : io.cwd);
  const yaml = answersForSaving(result.answers, { imported: true });
  writeLocalFiles([...snippets, ...(answersFile ? [{ path: answersFile, text: yaml, mode: 0o600 }] : [])], {
    force: !!opts.force,
    replaceHow: 'give --force to replace',
  });
  if (opts.out) io.err(`wrote ${opts.out}`);
  else if (!opts.json) io.out(yaml);
  const written = snippets.map((f) => f.path);
  renderImport(io, out, written, !!opts.json);
  return 0;
}
