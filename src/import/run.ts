/**
 * `ha-setup import HOST...`: connect to each host as every command does (SSH options, ~/.ssh/config, sudo, host
 * keys), read what runs there (collect.ts), and map it to answers that reproduce the running pair (map.ts). Nothing
 * on the hosts changes: what keepalived allows in an included snippet is returned as snippet files, which the
 * answers name (keepalived.snippets) and init installs. Returns the result; the command renders it.
 */
import type { ResolvedNode } from '../answers/resolve.js';
import { answersSchema } from '../answers/schema.js';
import { PreconditionError } from '../errors.js';
import type { IO } from '../io.js';
import { openSession } from '../ssh/session.js';
import { collectHost } from './collect.js';
import { mapImport, type ImportResult } from './map.js';
import type { ImportedHost } from './types.js';

export interface ImportOptions {
  hosts: string[];
  user?: string;
  port?: number;
  /** each host's own login (the wizard's nodes), in the order of `hosts`; else `user` and `port` for all */
  logins?: { user: string; port: number }[];
  identityFile?: string;
  knownHostsFile?: string;
  askPassword?: (message: string) => Promise<string>;
}

export interface ImportOutcome {
  result: ImportResult;
  hosts: ImportedHost[];
}

function nodesOf(opts: ImportOptions): ResolvedNode[] {
  return opts.hosts.map((h, i) => ({
    name: h,
    host: h,
    port: opts.logins?.[i]?.port ?? opts.port ?? 22,
    user: opts.logins?.[i]?.user ?? opts.user ?? 'root',
    interface: 'lo',
    priority: 1,
  }));
}

export async function runImport(io: IO, opts: ImportOptions): Promise<ImportOutcome> {
  const shape = answersSchema.shape.ssh.parse({
    ...(opts.identityFile ? { identityFile: opts.identityFile } : {}),
    ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}),
  });
  const session = await openSession(
    io,
    { nodes: nodesOf(opts), secrets: [], answers: { ssh: shape } },
    { askPassword: opts.askPassword },
  );
  try {
    const hosts = await Promise.all(opts.hosts.map((h) => collectHost(h, session.conns[h])));
    const result = mapImport(hosts, {
      ssh: {
        ...(opts.user ? { user: opts.user } : {}),
        ...(opts.port ? { port: opts.port } : {}),
        ...(opts.identityFile ? { identityFile: opts.identityFile } : {}),
        ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}),
      },
    });
    for (const h of hosts) {
      for (const n of h.notes ?? []) result.decisions.push(`${h.given}: ${n}`);
      for (const w of h.warnings ?? []) result.warnings.push(`${h.given}: ${w}`);
    }
    if (result.refusals.length)
      throw new PreconditionError('import: ha-setup cannot take this pair over safely', result.refusals);
    return { result, hosts };
  } finally {
    session.close();
  }
}
