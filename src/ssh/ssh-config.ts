/**
 * The parts of ~/.ssh/config ha-setup honours: Host blocks (patterns with * ? and !), HostName, User, Port,
 * IdentityFile, ProxyJump (one hop), UserKnownHostsFile, HostKeyAlias. First value wins, as in OpenSSH.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { expandHome } from '../home.js';

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  userKnownHostsFile?: string;
  hostKeyAlias?: string;
}

function glob(p: string, s: string): boolean {
  return new RegExp(
    '^' +
      p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  ).test(s);
}

export function parseSshConfig(text: string, host: string): SshHostConfig {
  const out: SshHostConfig = { identityFiles: [] };
  let active = true;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const value = m[2].trim().replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      const pats = value.split(/\s+/);
      const neg = pats.filter((p) => p.startsWith('!')).some((p) => glob(p.slice(1), host));
      active = !neg && pats.filter((p) => !p.startsWith('!')).some((p) => glob(p, host));
      continue;
    }
    if (key === 'match') {
      active = false; // Match blocks are not evaluated
      continue;
    }
    if (!active) continue;
    const tok = (s: string) => s.replace(/%h/g, host).replace(/%%/g, '%');
    if (key === 'hostname' && out.hostName === undefined) out.hostName = tok(value);
    else if (key === 'user' && out.user === undefined) out.user = value;
    else if (key === 'port' && out.port === undefined) out.port = Number(value);
    else if (key === 'identityfile') out.identityFiles.push(expandHome(tok(value)));
    else if (key === 'proxyjump' && out.proxyJump === undefined && value.toLowerCase() !== 'none')
      out.proxyJump = value;
    else if (key === 'userknownhostsfile' && out.userKnownHostsFile === undefined)
      out.userKnownHostsFile = expandHome(value.split(/\s+/)[0]);
    else if (key === 'hostkeyalias' && out.hostKeyAlias === undefined) out.hostKeyAlias = value;
  }
  return out;
}

export function loadSshConfig(host: string, file = `${homedir()}/.ssh/config`): SshHostConfig {
  const f = expandHome(file);
  if (!existsSync(f)) return { identityFiles: [] };
  return parseSshConfig(readFileSync(f, 'utf8'), host);
}
