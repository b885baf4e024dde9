/** Local paths the user gives (an SSH key, a known_hosts file, a package file): `~/` is their home directory. */
import { homedir } from 'node:os';

export function expandHome(p: string): string {
  return p.startsWith('~/') ? homedir() + p.slice(1) : p === '~' ? homedir() : p;
}
