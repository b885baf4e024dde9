import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadKeepalivedConfig,
  parseKeepalivedText,
  walkConf,
  type ConfNode,
  type KeepalivedConfig,
} from '../../src/import/keepalived-conf.js';
import { decomment2x, expandBraces, splitBrace2x, tokens1x, tokens2x } from '../../src/import/keepalived-lex.js';
import { FIXTURES, fixture, memoryReader, outline } from '../fixtures/import/hosts.js';

const F = '/etc/keepalived/keepalived.conf';

function find(c: KeepalivedConfig, keyword: string, arg?: string): ConfNode | undefined {
  for (const [n] of walkConf(c.tree)) if (n.keyword === keyword && (arg === undefined || n.args[0] === arg)) return n;
  return undefined;
}

describe('keepalived lexer (ported from lib/parser.c)', () => {
  it('1.x: `!` and `#` end a line even glued to a word; quotes keep blanks; braces are words', () => {
    expect(tokens1x('  router_id lb01#glued comment').words).toEqual(['router_id', 'lb01']);
    expect(tokens1x('! whole line').words).toEqual([]);
    expect(tokens1x('script "/bin/echo a # b" ! c').words).toEqual(['script', '/bin/echo a # b']);
    expect(tokens1x('vrrp_instance VI_1{').words).toEqual(['vrrp_instance', 'VI_1{']);
    expect(tokens1x('script "unterminated').unmatchedQuote).toBe(true);
  });

  it('2.x: comments outside quotes anywhere, \\# escapes, a final \\ kept for definitions', () => {
    expect(decomment2x('  fall 3!glued').text).toBe('fall 3');
    expect(decomment2x('script "/a#b" # c').text).toBe('script "/a#b"');
    expect(decomment2x('url /path\\#frag # c').text).toBe('url /path#frag');
    expect(decomment2x('$X=a \\').text).toBe('$X=a\\');
    expect(decomment2x('say "open').unterminatedQuote).toBe(true);
    expect(tokens2x('a "b c" d"e f"').words).toEqual(['a', 'b c', 'd', 'e f']);
  });

  it('2.x: the first brace outside quotes splits the line', () => {
    expect(splitBrace2x('vrrp_instance VI_1{')).toEqual({ now: 'vrrp_instance VI_1', rest: '{' });
    expect(splitBrace2x('{ 10.0.0.3 }')).toEqual({ now: '{', rest: '10.0.0.3 }' });
    expect(splitBrace2x('} }')).toEqual({ now: '}', rest: '}' });
    expect(splitBrace2x('script "{x}"')).toEqual({ now: 'script "{x}"', rest: null });
  });

  it('glob braces (GLOB_BRACE) are expanded in order', () => {
    expect(expandBraces('/etc/k/{a,b{1,2}}.conf')).toEqual(['/etc/k/a.conf', '/etc/k/b1.conf', '/etc/k/b2.conf']);
    expect(expandBraces('/etc/k/*.conf')).toEqual(['/etc/k/*.conf']);
  });
});

describe('parseKeepalivedText: blocks and comments', () => {
  const text = [
    '! comment',
    'global_defs {   # brace on the same line',
    '  router_id lb01 ! trailing comment',
    '}',
    'vrrp_instance VI_1',
    '{',
    '  virtual_ipaddress { 10.0.0.3/24 dev eth0 label eth0:1 }',
    '  authentication {auth_type PASS',
    '    auth_pass "1 1"}',
    '}}',
  ].join('\n');

  it('2.x reads braces on the same line, on the next line, and glued to words', () => {
    const c = parseKeepalivedText(text, F);
    expect(outline(c.tree)).toEqual([
      'global_defs',
      '  router_id lb01',
      'vrrp_instance VI_1',
      '  virtual_ipaddress',
      '    10.0.0.3/24 dev eth0 label eth0:1',
      '  authentication',
      '    auth_type PASS',
      '    auth_pass 1 1',
    ]);
    expect(find(c, 'vrrp_instance')!.at).toEqual({ file: F, line: 5 });
    expect(find(c, 'auth_pass')!.at.line).toBe(9);
    expect(c.problems.map((p) => `${p.at.line}: ${p.message}`)).toEqual(["10: extra '}' found: keepalived ignores it"]);
  });

  it('1.x reads the same text as keepalived 1.3.5 does: one-line blocks are not blocks', () => {
    const c = parseKeepalivedText(text, F, { major: 1 });
    // virtual_ipaddress ignores its line and reads the next lines as VIPs up to a line starting with '}'
    expect(outline(c.tree)).toEqual([
      'global_defs',
      '  router_id lb01',
      'vrrp_instance VI_1',
      '  virtual_ipaddress',
      '    authentication {auth_type PASS',
      // after a quoted word, '}' is a word of its own; '}}' is one word, not two braces
      '    auth_pass 1 1 }',
      '    }}',
    ]);
    expect(c.problems.map((p) => p.at.line)).toEqual([7, 5, 7]);
    expect(c.problems[0].message).toContain("ignores what follows 'virtual_ipaddress'");
    expect(c.problems[1].message).toContain("'vrrp_instance VI_1' block is never closed");
  });

  it('a missing { after a keyword that has a block: keepalived reads the next lines as its block anyway', () => {
    const c = parseKeepalivedText('vrrp_script chk\n  interval 2\n}\n', F);
    expect(outline(c.tree)).toEqual(['vrrp_script chk', '  interval 2']);
    expect(c.problems[0].message).toContain("missing '{' after 'vrrp_script chk'");
  });

  it("a vrrp_instance's track_file block is a value block (2.x), whatever its values", () => {
    const c = parseKeepalivedText('vrrp_instance V {\n  track_file {\n    f weight 0\n  }\n  priority 9\n}\n', F);
    expect(outline(c.tree)).toEqual(['vrrp_instance V', '  track_file', '    f weight 0', '  priority 9']);
  });

  it('an unclosed block and an unexpected { are reported with file:line', () => {
    const c = parseKeepalivedText('{\n}\nvrrp_instance V {\n  state MASTER\n', F);
    expect(c.problems.map((p) => `${p.at.line} ${p.message.slice(0, 30)}`)).toEqual([
      "1 unexpected '{': keepalived ign",
      "2 extra '}' found: keepalived ig",
      "3 'vrrp_instance V' block is nev",
    ]);
  });

  it('full-width spaces are not blanks for keepalived: they stay in the value (the guides priority 110\u3000)', () => {
    const c = parseKeepalivedText(fixture('004-keepalived-first.conf'), F);
    expect(find(c, 'state')!.args).toEqual(['MASTER\u3000\u3000\u3000\u3000']);
    expect(find(c, 'priority')!.args).toEqual(['110\u3000\u3000\u3000\u3000']);
  });
});

describe('keepalived 2.x extras', () => {
  const v2 = fixture('v2-constructs.conf');

  it('$definitions, ${definitions}, multiline definitions, ~SEQ, ~LST and @id lines', () => {
    const c = parseKeepalivedText(v2, F, { configId: 'lb01' });
    expect(outline(c.tree)).toEqual([
      'global_defs',
      '  router_id lb01',
      'vrrp_instance VI_1',
      '  state BACKUP',
      '  interface eth0',
      '  virtual_router_id 60',
      '  priority 150',
      '  advert_int 1',
      '  unicast_src_ip 192.168.50.11',
      '  unicast_peer',
      '    192.168.50.11',
      '    192.168.50.12',
      '  virtual_ipaddress',
      '    192.168.50.100/24',
      '    192.168.50.101/24',
      '    192.168.50.102/24',
      '  notify /usr/local/bin/notify.sh',
      'vrrp_script chk_VI_2',
      '  script /bin/true 61',
      'vrrp_script chk_VI_3',
      '  script /bin/true 62',
      'vrrp_script chk_random',
      '  script /bin/sleep 0',
    ]);
    expect(find(c, 'unicast_peer')!.children!.map((n) => n.at.line)).toEqual([22, 22]);
    expect(find(c, 'virtual_ipaddress')!.children!.map((n) => n.at.line)).toEqual([25, 25, 25]);
    const unsupported = c.problems.filter((p) => p.level === 'unsupported');
    expect(unsupported.map((p) => `${p.at.line} ${p.message}`)).toEqual([
      '32 ${_RANDOM}: a random number; the value keepalived used is not known',
    ]);
  });

  it('@^id lines are for every other host; without a config id no @id line is read', () => {
    const other = parseKeepalivedText(v2, F, { configId: 'lb02' });
    expect(find(other, 'priority')!.args).toEqual(['100']);
    expect(find(other, 'router_id')!.args).toEqual(['lb02']);
    const none = parseKeepalivedText('@lb01 priority 1\npriority 2\n', F);
    expect(outline(none.tree)).toEqual(['priority 2']);
    expect(none.problems[0]).toMatchObject({ level: 'info', at: { line: 1 } });
  });

  it('$NAME is replaced only before a blank , ) or the end: ${NAME} elsewhere (as keepalived does)', () => {
    const c = parseKeepalivedText('$D=/etc\ninclude_me $D/x ${D}/y $D "$D"\n', F);
    expect(find(c, 'include_me')!.args).toEqual(['$D/x', '/etc/y', '/etc', '$D']);
  });

  it('a definition is not a definition with a blank before =', () => {
    const c = parseKeepalivedText('$X = 1\n', F);
    expect(outline(c.tree)).toEqual(['$X = 1']);
  });

  it('keepalived 1.x has none of them: the lines are keywords (the mapper drops them as unknown)', () => {
    const c = parseKeepalivedText(v2, F, { major: 1, configId: 'lb01' });
    expect(c.tree.map((n) => n.keyword).slice(0, 4)).toEqual([
      '$IFACE=eth0',
      '$VIP_BASE=192.168.50',
      '$PEERS=\\',
      '192.168.50.11',
    ]);
  });

  it('self-referencing definitions stop with a problem instead of looping', () => {
    const c = parseKeepalivedText('$A=x $A\nkw $A\n', F);
    expect(c.problems.some((p) => /maximum line length|keep expanding/.test(p.message))).toBe(true);
  });
});

function treeFiles(): Record<string, string> {
  const root = join(FIXTURES, 'tree');
  const files: Record<string, string> = {};
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else files[`/${relative(root, p)}`] = readFileSync(p, 'utf8');
  };
  walk(root);
  return files;
}

describe('loadKeepalivedConfig: includes', () => {
  it('follows a conf.d glob, a relative include from the including file, an include inside a block', async () => {
    const { read, calls } = memoryReader(treeFiles());
    const c = await loadKeepalivedConfig(F, read);
    expect(c.files).toEqual([
      F,
      '/etc/keepalived/extra/vips.ka',
      '/etc/keepalived/conf.d/10-check.conf',
      '/etc/keepalived/conf.d/20-lvs.conf',
      '/etc/keepalived/extra/routes.ka',
      '/etc/keepalived/loop/a.conf',
      '/etc/keepalived/loop/b.conf',
    ]);
    const vips = find(c, 'virtual_ipaddress')!.children!;
    expect(vips.map((n) => `${n.keyword} ${n.at.file}:${n.at.line}`)).toEqual([
      'include /etc/keepalived/keepalived.conf:14',
      '10.0.0.10/24 /etc/keepalived/extra/vips.ka:2',
      '10.0.0.11/24 /etc/keepalived/extra/vips.ka:3',
    ]);
    expect(find(c, 'include', 'conf.d/*.conf')!.included).toEqual([
      '/etc/keepalived/conf.d/10-check.conf',
      '/etc/keepalived/conf.d/20-lvs.conf',
    ]);
    expect(find(c, 'static_routes')!.at.file).toBe('/etc/keepalived/extra/routes.ka');
    // one round per include level: main, then extra/ conf.d/ loop/, then routes.ka and b.conf, then a.conf again
    expect(calls).toEqual([
      '/etc/keepalived /etc/keepalived/keepalived.conf',
      '/etc/keepalived extra/vips.ka',
      '/etc/keepalived conf.d/*.conf',
      '/etc/keepalived loop/a.conf',
      '/etc/keepalived/conf.d ../extra/routes.ka',
      '/etc/keepalived/loop b.conf',
      '/etc/keepalived/loop a.conf',
    ]);
  });

  it('an include cycle is reported once and not followed', async () => {
    const { read } = memoryReader(treeFiles());
    const c = await loadKeepalivedConfig(F, read);
    const cycle = c.problems.filter((p) => p.message.startsWith('include cycle'));
    expect(cycle).toHaveLength(1);
    expect(cycle[0].at).toEqual({ file: '/etc/keepalived/loop/b.conf', line: 5 });
    expect(cycle[0].message).toContain('loop/a.conf -> /etc/keepalived/loop/b.conf -> /etc/keepalived/loop/a.conf');
  });

  it('directories and executable files are skipped as keepalived skips them; a glob with no match', async () => {
    const files = { [F]: 'include conf.d/*\ninclude none/*.conf\n', '/etc/keepalived/conf.d/x.sh': 'priority 1\n' };
    const { read } = memoryReader(files, {
      dirs: ['/etc/keepalived/conf.d/sub'],
      modes: { '/etc/keepalived/conf.d/x.sh': '755' },
    });
    const c2 = await loadKeepalivedConfig(F, read);
    expect(c2.problems.map((p) => `${p.level} ${p.message}`)).toEqual([
      'error /etc/keepalived/conf.d/sub: keepalived skips it (a directory)',
      'error /etc/keepalived/conf.d/x.sh: keepalived skips it ' +
        '(executable (mode 755): keepalived reads only non-executable files)',
      'info include none/*.conf: no file matches (keepalived 2.x reads nothing for it)',
    ]);
    const c1 = await loadKeepalivedConfig(F, read, { major: 1 });
    expect(c1.problems[2]).toMatchObject({ level: 'error' });
    expect(c1.problems[2].message).toContain('keepalived 1.x stops');
  });

  it('nesting deeper than the bound is not followed; a failing reader is a problem, not a crash', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`/k/${i}.conf`] = `include /k/${i + 1}.conf\n`;
    const { read } = memoryReader(files);
    const c = await loadKeepalivedConfig('/k/0.conf', read, { maxIncludeDepth: 5 });
    expect(c.files).toHaveLength(5);
    expect(c.problems.some((p) => p.message.includes('nested deeper than 5'))).toBe(true);
    const failing = await loadKeepalivedConfig(F, async () => {
      throw new Error('connection lost');
    });
    expect(failing.problems.map((p) => p.message)).toEqual([
      `cannot read ${F}: connection lost`,
      `configuration file ${F}: not found (keepalived runs without it)`,
    ]);
  });

  it('2.x takes the rest of an include line as the glob, quotes and all; 1.x takes its second word', async () => {
    const files = { [F]: 'include "/etc/keepalived/conf.d/*.conf"\n', '/etc/keepalived/conf.d/a.conf': 'priority 1\n' };
    const { read } = memoryReader(files);
    const c2 = await loadKeepalivedConfig(F, read);
    expect(c2.files).toEqual([F]);
    expect(c2.problems[0].message).toBe(
      'include "/etc/keepalived/conf.d/*.conf": no file matches (keepalived 2.x reads nothing for it)',
    );
    const c1 = await loadKeepalivedConfig(F, read, { major: 1 });
    expect(c1.files).toEqual([F, '/etc/keepalived/conf.d/a.conf']);
  });

  it('parseKeepalivedText keeps an include as a node and says it was not followed', () => {
    const c = parseKeepalivedText('include /etc/keepalived/conf.d/*.conf\n', F);
    expect(c.tree).toEqual([
      { keyword: 'include', args: ['/etc/keepalived/conf.d/*.conf'], at: { file: F, line: 1 }, included: [] },
    ]);
    expect(c.problems[0].message).toContain('not followed');
  });
});

describe('the corpus: every guide configuration parses', () => {
  const confs = readdirSync(FIXTURES).filter((f) => /^\d{3}-.*\.conf$/.test(f) && !f.includes('web.conf'));

  it.each(confs)('%s parses with the 1.x and 2.x rules and has its VRRP parts', (name) => {
    const text = fixture(name);
    expect(text.split('\n')[0]).toMatch(/^(?: {4})?! source: shared\/seeds\/\d{3}_[0-9a-f]+\.txt, "/);
    for (const major of [1, 2] as const) {
      const c = parseKeepalivedText(text, `/etc/keepalived/${name}`, { major });
      const keywords = [...walkConf(c.tree)].map(([n]) => n.keyword);
      expect(keywords.some((k) => /^(vrrp_instance|vrrp_script|global_defs)$/.test(k))).toBe(true);
      expect(c.problems.filter((p) => p.level === 'unsupported')).toEqual([]);
    }
  });

  it('never throws, whatever the input', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['{', '}', '"', '!', '#', '\\', '$', '@', '~SEQ(', ')', ',', '\n', ' ', 'a', '=', 'include x'];
    for (let i = 0; i < 300; i++) {
      let t = '';
      for (let j = 0; j < 80; j++) t += alphabet[Math.floor(rnd() * alphabet.length)];
      for (const major of [1, 2] as const) expect(() => parseKeepalivedText(t, F, { major })).not.toThrow();
    }
  });
});
