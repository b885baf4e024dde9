/**
 * What a vrrp_script or notify command does, recognised from its command line and the script file it runs: the
 * guides' restart-then-stop check (restart nginx, check again, stop keepalived), an HTTP check (curl/wget URL), an
 * nginx process check (killall -0, pidof, pgrep, ps -C, systemctl is-active), or something else.
 */
import { URL_RE } from '../answers/schema.js';
import type { ConfNode } from './keepalived-conf.js';
import { quotedEscaped } from './keepalived-lex.js';

/**
 * `own`: ha-setup's own check script; `limit` its healthCheck.timeout as it says (keepalived's timeout for the
 * script is larger: CHECK_SCRIPT_SLACK_S)
 */
export type CheckKind =
  | { kind: 'restart-then-stop'; file?: string; own?: true; limit?: number }
  | { kind: 'http'; url: string; file?: string; tool: HttpTool; own?: true; limit?: number }
  | { kind: 'process'; file?: string; own?: true; limit?: number }
  | { kind: 'other'; what: string; file?: string };

/** the first lines of the check script ha-setup writes (templates/check_nginx.sh.ejs) */
const OWN_CHECK = /^#!\/bin\/sh\n# Managed by ha-setup: nginx health check run by keepalived/;

const INTERPRETERS = /^(?:\/usr)?(?:\/bin\/)?(?:sh|bash|dash|ksh)$/;

/** how an HTTP check's client treats what ha-setup's check treats otherwise */
export interface HttpTool {
  /** the certificate is not verified (curl -k / --insecure, wget --no-check-certificate) */
  insecure: boolean;
  /** an HTTP error (4xx, 5xx) fails the check (curl -f / --fail, wget) */
  failOnError: boolean;
}

/** what keepalived runs for a `script` or notify line, and the words after the command it does not run */
export interface Command {
  words: string[];
  /** notify lines: the user and group keepalived runs it as */
  user: string[];
  /** words keepalived reads nothing from */
  ignored: string[];
}

/**
 * the command of a script line as keepalived runs it: 2.x re-reads the line with alloc_strvec_quoted_escaped and
 * runs the words of its first value (an unquoted `script /bin/x -a` runs /bin/x alone: quote a command with
 * arguments); after it a notify line takes a user and a group. 1.x runs its first value with /bin/sh -c.
 */
export function commandOf(n: ConfNode, major: 1 | 2, notify: boolean): Command {
  if (major === 1)
    return { words: n.args.length ? (quotedEscaped(n.args[0]) ?? []) : [], user: [], ignored: n.args.slice(1) };
  const line = quotedEscaped(n.raw ?? [n.keyword, ...n.args].join(' '));
  if (!line || line.length < 2) return { words: [], user: [], ignored: [] };
  const words = quotedEscaped(line[1]) ?? [];
  const rest = line.slice(2);
  return notify ? { words, user: rest.slice(0, 2), ignored: rest.slice(2) } : { words, user: [], ignored: rest };
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

/** an executable's bytes (ELF, or any NUL byte), not a script's text */
export function isBinary(text: string): boolean {
  return text.startsWith('\x7fELF') || text.includes('\0');
}

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
  // a program (`script "/usr/bin/curl -s http://127.0.0.1/"`): the command line is the check, not the program's bytes
  const script = file !== undefined && scripts[file] !== undefined && !isBinary(scripts[file]) ? scripts[file] : null;
  const text = code(script ?? words.join(' '));
  const from = script !== null ? { file: file! } : {};
  const own = script !== null && OWN_CHECK.test(script);
  const limit = own ? /^# healthCheck\.timeout: (\d+) s\b/m.exec(script)?.[1] : undefined;
  const mine = { ...from, ...(own ? { own: true as const } : {}), ...(limit ? { limit: Number(limit) } : {}) };
  if (NGINX_START.test(text) && KEEPALIVED_STOP.test(text)) return { kind: 'restart-then-stop', ...mine };
  const http = /\b(?:curl|wget)\b/.test(text) ? urlOf(text) : null;
  if (http) return { kind: 'http', url: http.url, tool: http.tool, ...mine };
  if (PROCESS_CHECK.test(text)) return { kind: 'process', ...mine };
  const other = /killall\s+-0\s+(\S+)|pidof\s+(\S+)|pgrep\s+(?:-\w+\s+)*(\S+)/.exec(text);
  const what = other
    ? `it checks the process ${other[1] ?? other[2] ?? other[3]}, not nginx`
    : file && scripts[file] === undefined && words.length === 1
      ? `its script ${file} could not be read`
      : "it is not a check ha-setup knows (nginx process, HTTP URL, or the guides' restart-then-stop script)";
  return { kind: 'other', what, ...from };
}

/** the URL a curl/wget line fetches (http(s)://..., or wget's scheme-less HOST[:PORT]/PATH), and its flags */
function urlOf(text: string): { url: string; tool: HttpTool } | null {
  for (const line of text.split('\n')) {
    if (!/\b(?:curl|wget)\b/.test(line)) continue;
    const tool = toolOf(line);
    const m = /\bhttps?:\/\/[^\s'"`;|&)#]+/.exec(line);
    if (m && URL_RE.test(m[0])) return { url: m[0], tool };
    const bare = /(?:^|\s)((?:localhost|\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?(?:\/[^\s'"`;|&)]*)?)(?=\s|$)/.exec(line);
    if (bare && URL_RE.test(`http://${bare[1]}`)) return { url: `http://${bare[1]}`, tool };
  }
  return null;
}

/** curl's -k/--insecure and -f/--fail (also in a cluster like -sfk); wget fails on HTTP errors by itself */
function toolOf(line: string): HttpTool {
  const words = quotedEscaped(line) ?? line.split(/\s+/);
  const at = words.findIndex((w) => /(?:^|\/)(?:curl|wget)$/.test(w));
  const args = words.slice(at + 1);
  if (/(?:^|\/)wget$/.test(words[at] ?? ''))
    return { insecure: args.includes('--no-check-certificate'), failOnError: true };
  const short = (c: string) => args.some((a) => /^-[A-Za-z]+$/.test(a) && a.includes(c));
  return {
    insecure: short('k') || args.includes('--insecure'),
    failOnError: short('f') || args.includes('--fail') || args.includes('--fail-with-body'),
  };
}
