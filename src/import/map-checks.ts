/**
 * What a vrrp_script or notify command does, recognised from its command line and the script file it runs: the
 * guides' restart-then-stop check (restart nginx, check again, stop keepalived), an HTTP check (curl/wget URL), an
 * nginx process check (killall -0, pidof, pgrep, ps -C, systemctl is-active), or something else.
 */
import { URL_RE } from '../answers/schema.js';
import { splitCommand } from './collect.js';

export type CheckKind =
  | { kind: 'restart-then-stop'; file?: string }
  | { kind: 'http'; url: string; file?: string }
  | { kind: 'process'; file?: string }
  | { kind: 'other'; what: string; file?: string };

const INTERPRETERS = /^(?:\/usr)?(?:\/bin\/)?(?:sh|bash|dash|ksh)$/;

/** the words keepalived runs: 2.x splits the quoted/escaped string (all words), 1.x runs its first word with sh -c */
export function commandWords(args: string[], major: 1 | 2): string[] {
  if (major === 1) return args.length ? splitCommand(args[0]) : [];
  return args.length === 1 ? splitCommand(args[0]) : args;
}

/** the script file a command runs (itself, or the file an interpreter is given) */
export function scriptFileOf(words: string[]): string | undefined {
  if (!words.length) return undefined;
  if (words[0] === '/usr/bin/env' && words[1]) return scriptFileOf(words.slice(1));
  if (INTERPRETERS.test(words[0])) return words.slice(1).find((w) => !w.startsWith('-'));
  return words[0];
}

const any = (parts: string[]) => new RegExp(parts.map((p) => `(?:${p})`).join('|'), 'm');
const NGINX_START = any([
  String.raw`systemctl\s+(?:re)?start\s+nginx\b`,
  String.raw`service\s+nginx\s+(?:re)?start\b`,
  String.raw`/etc/init\.d/nginx\s+(?:re)?start`,
  String.raw`(?:^|[\s;&|${'`'}(])(?:/[\w./-]*/)?s?bin/nginx\s*(?:$|[;&|)${'`'}]|-c\b)`,
  String.raw`^\s*nginx\s*$`,
]);
const KEEPALIVED_STOP = any([
  String.raw`systemctl\s+(?:stop|kill)\s+keepalived\b`,
  String.raw`service\s+keepalived\s+stop\b`,
  String.raw`/etc/init\.d/keepalived\s+stop`,
  String.raw`\b(?:killall|pkill)\b[^\n]*\bkeepalived\b`,
  String.raw`\bkill\b[^\n]*keepalived`,
]);
const PROCESS_CHECK = any([
  String.raw`killall\s+-0\s+nginx\b`,
  String.raw`pidof\s+nginx\b`,
  String.raw`pgrep\b[^\n]*\bnginx\b`,
  String.raw`systemctl\s+is-active\s+(?:--quiet\s+|-q\s+)?nginx\b`,
  String.raw`ps\s+-C\s+nginx\b`,
  String.raw`\bps\b[^\n]*\|\s*grep\b[^\n]*nginx`,
]);

/** strip comment lines so a commented-out command does not count */
function code(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
}

/** recognise a health check command (its script's text from `scripts` when known) */
export function classifyCheck(words: string[], scripts: Record<string, string>): CheckKind {
  const file = scriptFileOf(words);
  const text = code(file && scripts[file] !== undefined ? scripts[file] : words.join(' '));
  const from = file && scripts[file] !== undefined ? { file } : {};
  if (NGINX_START.test(text) && KEEPALIVED_STOP.test(text)) return { kind: 'restart-then-stop', ...from };
  const http = /\b(?:curl|wget)\b/.test(text) ? urlOf(text) : null;
  if (http) return { kind: 'http', url: http, ...from };
  if (PROCESS_CHECK.test(text)) return { kind: 'process', ...from };
  const other = /killall\s+-0\s+(\S+)|pidof\s+(\S+)|pgrep\s+(?:-\w+\s+)*(\S+)/.exec(text);
  const what = other
    ? `it checks the process ${other[1] ?? other[2] ?? other[3]}, not nginx`
    : file && scripts[file] === undefined && words.length === 1
      ? `its script ${file} could not be read`
      : "it is not a check ha-setup knows (nginx process, HTTP URL, or the guides' restart-then-stop script)";
  return { kind: 'other', what, ...from };
}

/** the URL a curl/wget line fetches: http(s)://..., or wget's scheme-less HOST[:PORT]/PATH */
function urlOf(text: string): string | null {
  for (const line of text.split('\n')) {
    if (!/\b(?:curl|wget)\b/.test(line)) continue;
    const m = /\bhttps?:\/\/[^\s'"`;|&)#]+/.exec(line);
    if (m && URL_RE.test(m[0])) return m[0];
    const bare = /(?:^|\s)((?:localhost|\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?(?:\/[^\s'"`;|&)]*)?)(?=\s|$)/.exec(line);
    if (bare && URL_RE.test(`http://${bare[1]}`)) return `http://${bare[1]}`;
  }
  return null;
}
