/**
 * writeLocalFiles (src/local-files.ts): the files import and the wizard's takeover write for the operator are
 * created new (O_EXCL, no link followed); a name that is taken refuses the whole set (exit 2, naming each) unless it
 * already holds exactly that text; --force replaces atomically (the link itself, never its target).
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { writeLocalFiles } from '../../src/local-files.js';

const HOW = 'give --force to replace';

function refusal(f: () => void): UsageError {
  try {
    f();
  } catch (e) {
    return e as UsageError;
  }
  throw new Error('not refused');
}

describe('writeLocalFiles', () => {
  it('creates new files with their mode', () => {
    const d = mkdtempSync(join(tmpdir(), 'local-files-'));
    writeLocalFiles(
      [
        { path: join(d, 'a.yaml'), text: 'a\n', mode: 0o600 },
        { path: join(d, 'b.conf'), text: 'b\n', mode: 0o644 },
      ],
      { force: false, replaceHow: HOW },
    );
    expect(readFileSync(join(d, 'a.yaml'), 'utf8')).toBe('a\n');
    expect(statSync(join(d, 'a.yaml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'b.conf')).mode & 0o777).toBe(0o644);
  });

  it('a file, a link (even one to nothing) or a directory in the way: all named, exit 2, nothing written', () => {
    const d = mkdtempSync(join(tmpdir(), 'local-files-'));
    writeFileSync(join(d, 'taken'), 'mine\n');
    writeFileSync(join(d, 'secret'), 'keep\n');
    symlinkSync(join(d, 'secret'), join(d, 'link'));
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
    mkdirSync(join(d, 'dir'));
    const files = ['new', 'taken', 'link', 'dangling', 'dir'].map((n) => ({
      path: join(d, n),
      text: 'x\n',
      mode: 0o644,
    }));
    const e = refusal(() => writeLocalFiles(files, { force: false, replaceHow: HOW }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      `${['taken', 'link', 'dangling', 'dir'].map((n) => join(d, n)).join(', ')}: ` +
        `already there, not overwritten (${HOW})`,
    );
    expect(readdirSync(d).sort()).toEqual(['dangling', 'dir', 'link', 'secret', 'taken']);
    expect(readFileSync(join(d, 'secret'), 'utf8')).toBe('keep\n');
    expect(readFileSync(join(d, 'taken'), 'utf8')).toBe('mine\n');
    // a link to a file that holds exactly the text is still a link: refused, never read through
    writeFileSync(join(d, 'secret'), 'x\n');
    expect(() => writeLocalFiles([files[2]], { force: false, replaceHow: HOW })).toThrow(/already there/);
    // even --force does not replace a directory
    expect(() => writeLocalFiles([files[4]], { force: true, replaceHow: HOW })).toThrow(/dir: cannot write it: E/);
    expect(readdirSync(d).sort()).toEqual(['dangling', 'dir', 'link', 'secret', 'taken']);
  });

  it('a regular file that already holds the text is no conflict (a re-run): left as it is', () => {
    const d = mkdtempSync(join(tmpdir(), 'local-files-'));
    writeFileSync(join(d, 'same'), 'x\n', { mode: 0o640 });
    writeLocalFiles([{ path: join(d, 'same'), text: 'x\n', mode: 0o644 }], { force: false, replaceHow: HOW });
    expect(statSync(join(d, 'same')).mode & 0o777).toBe(0o640);
  });

  it('force: replaced through a temp file and a rename; a link is replaced, its target untouched', () => {
    const d = mkdtempSync(join(tmpdir(), 'local-files-'));
    writeFileSync(join(d, 'target'), 'keep\n');
    symlinkSync(join(d, 'target'), join(d, 'link'));
    writeFileSync(join(d, 'old'), 'old\n');
    writeLocalFiles(
      [
        { path: join(d, 'link'), text: 'new link\n', mode: 0o644 },
        { path: join(d, 'old'), text: 'new\n', mode: 0o600 },
      ],
      { force: true, replaceHow: HOW },
    );
    expect(lstatSync(join(d, 'link')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'link'), 'utf8')).toBe('new link\n');
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('keep\n');
    expect(readFileSync(join(d, 'old'), 'utf8')).toBe('new\n');
    expect(statSync(join(d, 'old')).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).sort()).toEqual(['link', 'old', 'target']);
  });
});
