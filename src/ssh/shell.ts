/** POSIX shell quoting: every value that reaches a remote shell goes through here. */
export function q(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function cmd(argv: readonly string[]): string {
  return argv.map(q).join(' ');
}
