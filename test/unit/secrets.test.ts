/**
 * Secrets never in output (issue 29): the plan of a run that rotates the VRRP password and moves the webhook masks
 * the old and the new values on every diff line, by key and by value (the host's old values too); a file that is a
 * secret as a whole only says it changes (text and --json); the webhook URL is a secret (its own 0600 file, out of
 * notify.sh, out of saved answers); authPass is what keepalived 1.x and 2.x read alike; the diff is jsdiff's in the
 * plan's format; the hosts' text is shown with its control characters escaped.
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers, type Config } from '../../src/answers/resolve.js';
import { AUTH_PASS_RE } from '../../src/answers/schema.js';
import { answersForSaving } from '../../src/answers/summary.js';
import type { InitFacts } from '../../src/facts/gather.js';
import { buildPlan } from '../../src/plan/build.js';
import { PATHS } from '../../src/paths.js';
import { lastLines, printable } from '../../src/printable.js';
import { renderNotifyScript } from '../../src/metrics/notify.js';
import { renderCheckScript, renderKeepalivedConf } from '../../src/render.js';
import { unifiedDiff } from '../../src/report/diff.js';
import { maskSecretLine, secretValuesIn } from '../../src/report/mask.js';
import { planToJson, planToText } from '../../src/report/plan.js';
import { clone, pair, type RawAnswers } from '../fixtures/answers.js';
import { allFresh, converge } from '../fixtures/facts.js';
import { rawControls } from '../helpers/control.js';
import { keepalivedCheck } from '../helpers/keepalived-check.js';

const OLD_PW = 'OLDpw123';
const NEW_PW = 'NEWpw456';
const OLD_URL = 'https://hooks.example.com/services/T0/OLD/oldsecret';
const NEW_URL = 'https://hooks.example.com/services/T0/NEW/newsecret';
const TOKEN = 'Bearer t0ken-s3cret';

/** the pair as an earlier ha-setup left it: the old password, the URL inline in notify.sh (before issue 29) */
function oldHosts(): Record<string, InitFacts> {
  const before = resolveAnswers(
    { ...clone(pair), instances: [{ ...pair.instances[0], authPass: OLD_PW }], alerts: { webhook: OLD_URL } },
    { env: {} },
  );
  const facts = converge(before, allFresh(before, 'debian'));
  for (const f of Object.values(facts)) {
    const conf = f.files[PATHS.keepalivedConf];
    // the operator noted the old password in a comment, and a line of the host's file carries escape sequences
    conf.content = conf.content!.replace(
      'vrrp_instance',
      `# rotated from ${OLD_PW}\n# \x1b]0;owned\x07\x1b[2J\nvrrp_instance`,
    );
    const hook = f.files[PATHS.notifyScript];
    hook.content = hook.content!.replace(/^WEBHOOK_URL_FILE=.*$/m, `WEBHOOK_URL='${OLD_URL}'`);
    delete f.files[PATHS.webhookUrl];
  }
  return facts;
}

function rotated(): Config {
  const a: RawAnswers = clone(pair);
  a.instances[0].authPass = NEW_PW;
  a.alerts = { webhookEnv: 'HOOK_URL', webhookHeadersEnv: 'HOOK_HEADERS' };
  return resolveAnswers(a, { env: { HOOK_URL: NEW_URL, HOOK_HEADERS: `Authorization: ${TOKEN}` } });
}

describe('init --dry-run after a rotation: no secret in the plan, old or new', () => {
  const cfg = rotated();
  const plan = buildPlan({ cfg, facts: oldHosts(), skipNetworkChecks: true });
  const text = planToText(plan, cfg.secrets, { offline: false, showContent: false });
  const json = planToJson(plan, cfg.secrets, false);
  const all = `${text}\n${JSON.stringify(json)}`;

  it('the auth_pass lines are masked on both sides of the diff', () => {
    expect(plan.refusals).toEqual([]);
    expect(text).toMatch(/^-\s+auth_pass \*{8}$/m);
    expect(text).toMatch(/^\+\s+auth_pass \*{8}$/m);
    // the old value elsewhere in the host's file: it is a secret though no answers know it any more
    expect(text).toMatch(/^-# rotated from \*{8}$/m);
    for (const s of [OLD_PW, NEW_PW]) expect(all).not.toContain(s);
  });

  it('the webhook: its URL and headers files only "changed (secret)", the old URL masked in the old notify.sh', () => {
    expect(text).toContain(`--- ${PATHS.webhookUrl} (mode 600, new): changed (secret) ---`);
    expect(text).toContain(`--- ${PATHS.webhookHeaders} (mode 600, new): changed (secret) ---`);
    expect(text).toMatch(/^-WEBHOOK_URL=\*{8}$/m);
    expect(text).toMatch(/^\+WEBHOOK_URL_FILE='\/etc\/keepalived\/ha-setup\/webhook\.url'$/m);
    const files = json.nodes[0].files.filter((f) => f.path === PATHS.webhookUrl || f.path === PATHS.webhookHeaders);
    expect(files).toEqual([
      { path: PATHS.webhookUrl, mode: '600', secret: true, content: null, diff: null },
      { path: PATHS.webhookHeaders, mode: '600', secret: true, content: null, diff: null },
    ]);
    for (const s of [OLD_URL, NEW_URL, 'oldsecret', 'newsecret', TOKEN, 't0ken']) expect(all).not.toContain(s);
  });

  it("the host's text in a diff has its control characters escaped", () => {
    expect(text).toContain('-# \\x1b]0;owned\\x07\\x1b[2J');
    expect(rawControls(all)).toEqual([]);
  });

  it('the offline plan (content shown) masks the same way', () => {
    const offline = planToText(plan, cfg.secrets, { offline: true, showContent: true });
    expect(offline).toMatch(/^\s+auth_pass \*{8}$/m);
    expect(offline).not.toContain(NEW_PW);
    expect(offline).not.toContain(NEW_URL);
  });
});

describe('the webhook URL is a secret', () => {
  it('notify.sh reads it from a root-only file: the URL is in neither notify.sh nor the run log', () => {
    const cfg = rotated();
    const hook = renderNotifyScript(cfg, cfg.nodes[0]);
    expect(hook).not.toContain('newsecret');
    expect(hook).toContain(`WEBHOOK_URL_FILE='${PATHS.webhookUrl}'`);
    // every output and the run log redact cfg.secrets
    expect(cfg.secrets).toEqual(expect.arrayContaining([NEW_URL, TOKEN]));
  });

  it('alerts.webhookEnv: the variable must be set (init) and hold an http(s) URL; never both keys', () => {
    const a: RawAnswers = { ...clone(pair), alerts: { webhookEnv: 'HOOK_URL' } };
    const problems = (x: unknown, env: NodeJS.ProcessEnv) => {
      try {
        resolveAnswers(x, { env });
        return [];
      } catch (e) {
        return (e as { details: string[] }).details;
      }
    };
    expect(problems(a, {})).toEqual(['alerts.webhookEnv: environment variable HOOK_URL is not set']);
    expect(problems(a, { HOOK_URL: 'ftp://x/secret1' })).toEqual([
      'alerts.webhookEnv: the value of HOOK_URL must be an http(s) URL without quotes or spaces',
    ]);
    expect(problems({ ...a, alerts: { webhook: NEW_URL, webhookEnv: 'HOOK_URL' } }, { HOOK_URL: NEW_URL })).toEqual([
      'alerts: give webhook or webhookEnv, not both',
    ]);
    // a status or switchover (no configuration written) needs no variable
    expect(resolveAnswers(a, { env: {}, needSecrets: false }).alerts.webhook).toBeNull();
  });

  it('a bad alerts.webhook is refused without quoting it', () => {
    const a: RawAnswers = { ...clone(pair), alerts: { webhook: 'https://x/"secret1' } };
    expect(() => resolveAnswers(a, { env: {} })).toThrow();
    try {
      resolveAnswers(a, { env: {} });
    } catch (e) {
      expect((e as { details: string[] }).details).toEqual([
        'alerts.webhook: must be an http(s) URL without quotes or spaces',
      ]);
    }
  });

  it('saved answers leave it out, and say so', () => {
    const saved = answersForSaving({ ...clone(pair), alerts: { webhook: NEW_URL } });
    expect(saved).not.toContain('newsecret');
    expect(saved).toContain('# alerts.webhook was left out on purpose');
  });

  it('removed from the host when the answers no longer have a webhook', () => {
    const cfg = resolveAnswers(pair, { env: {} });
    const facts = converge(rotated(), allFresh(rotated(), 'debian'));
    const plan = buildPlan({ cfg, facts, skipNetworkChecks: true });
    const removed = plan.nodes[0].steps
      .flatMap((s) => s.changes)
      .filter((c) => c.kind === 'remove-file')
      .map((c) => (c as { path: string }).path);
    expect(removed).toEqual(expect.arrayContaining([PATHS.webhookUrl, PATHS.webhookHeaders]));
  });
});

describe('masking by key', () => {
  it('every line that sets a secret, whatever is before the key; the values for redaction', () => {
    const cases: [string, string][] = [
      ['-        auth_pass OLDPW', '-        auth_pass ********'],
      ['+auth_pass x', '+auth_pass ********'],
      [' authentication { auth_type PASS auth_pass pw}} }', ' authentication { auth_type PASS auth_pass ********'],
      ['    auth_pass "a b c"', '    auth_pass ********'],
      ["-WEBHOOK_URL='https://h/x'", '-WEBHOOK_URL=********'],
      ['    auth_type PASS', '    auth_type PASS'],
      ['+# auth_pass', '+# auth_pass'],
    ];
    for (const [line, masked] of cases) expect(maskSecretLine(line), line).toBe(masked);
    const old = 'auth_pass OLDpw123\nauth_pass "a b c d"\n{ auth_pass xy }\nWEBHOOK_URL=\'https://h/x\'\n';
    expect(secretValuesIn(old)).toEqual(['OLDpw123', 'a b c d', 'https://h/x']);
  });
});

describe('unifiedDiff (jsdiff) in the plan format', () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

  it('--- on host / +++ ha-setup, @@ hunks with 3 lines of context, far changes in separate hunks', () => {
    const after = before.replace('line 2\n', 'line two\n').replace('line 18\n', '');
    expect(unifiedDiff(before, after, '/etc/x.conf').split('\n')).toEqual([
      '--- /etc/x.conf (on host)',
      '+++ /etc/x.conf (ha-setup)',
      '@@ -1,5 +1,5 @@',
      ' line 1',
      '-line 2',
      '+line two',
      ' line 3',
      ' line 4',
      ' line 5',
      '@@ -15,6 +15,5 @@',
      ' line 15',
      ' line 16',
      ' line 17',
      '-line 18',
      ' line 19',
      ' line 20',
    ]);
  });

  it('a new file starts at line 0 as diff -u writes it; the same texts give no hunk', () => {
    expect(unifiedDiff('', 'a\n', '/x').split('\n').slice(2)).toEqual(['@@ -0,0 +1,1 @@', '+a']);
    expect(unifiedDiff(before, before, '/x')).toBe('--- /x (on host)\n+++ /x (ha-setup)');
  });
});

describe('authPass: what keepalived 1.x and 2.x read the same way', () => {
  it('8 printable ASCII characters without space { } " ! # $ \\', () => {
    for (const ok of ['a', '12345678', "%&'()*+,", '-./:;<=>', '?@[]^_`|', '~Az09'])
      expect(AUTH_PASS_RE.test(ok), ok).toBe(true);
    for (const bad of ['', '123456789', 'a b', 'pw}}', 'x{}', 'a"b', 'a!b', 'a#b', 'a$_PWD', 'ab\\', 'é', 'a\tb'])
      expect(AUTH_PASS_RE.test(bad), bad).toBe(false);
  });

  it('one line naming the key, exit 2 (a ValidationError), without the value', () => {
    const a: RawAnswers = clone(pair);
    a.instances[0].authPass = 'pw}}';
    try {
      resolveAnswers(a, { env: {} });
      expect.unreachable();
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
      expect((e as { details: string[] }).details).toEqual([
        'instances[0].authPass: must be 1-8 printable ASCII characters without spaces or { } " ! # $ \\',
      ]);
    }
  });

  it('the real keepalived 2.x: the allowed characters pass -t as they are; $ and } do not read as written', () => {
    const conf = (pw: string) => {
      const a: RawAnswers = clone(pair);
      a.instances[0].authPass = '12345678';
      const cfg = resolveAnswers(a, { env: {} });
      const text = renderKeepalivedConf(cfg, cfg.nodes[0]).replace('auth_pass 12345678', `auth_pass ${pw}`);
      const scripts = {
        [PATHS.checkScript]: renderCheckScript(cfg),
        [PATHS.notifyScript]: renderNotifyScript(cfg, cfg.nodes[0]),
      };
      return keepalivedCheck(text, ['ens33'], scripts);
    };
    for (const pw of ["%&'()*+,", '-./:;<=>', '?@[]^_`|']) {
      const r = conf(pw);
      expect(r.output, pw).not.toMatch(/WARNING|Unknown keyword|Truncating|Extra/i);
      expect(r.code, r.output).toBe(0);
    }
    // 2.x substitutes $_PWD (the directory): 7 characters as written, more than 8 as read
    expect(conf('ab$_PWD').output).toMatch(/Truncating auth_pass to 8 characters/);
    // 2.x splits the line on braces: the instance ends there
    expect(conf('pw}}').output).toMatch(/Extra '}' found|Unknown keyword/);
  });
});

describe('printable: control characters from a host escaped, the rest kept', () => {
  it('C0 (but tab), ESC, DEL, C1 as \\xNN; text, tab and non-ASCII letters as they are', () => {
    expect(printable('ok\tété')).toBe('ok\tété');
    expect(printable('a\x1b[31mred\x1b[0m\r\nfake: ok\x07\x7f\u009b2J')).toBe(
      'a\\x1b[31mred\\x1b[0m\\x0d\\x0afake: ok\\x07\\x7f\\x9b2J',
    );
  });

  it("lastLines: a program's last lines on one line, escaped", () => {
    expect(lastLines('x\n\x1b[2Jfirst\n\n  \nsec\rond\r\n', 2)).toBe('\\x1b[2Jfirst | sec\\x0dond');
  });
});
