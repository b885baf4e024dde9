/**
 * Files ha-setup writes on the controller for the operator (the answers and snippets of an import): never through a
 * symbolic link, never over a file that is there. A new file is created with O_CREAT|O_EXCL|O_NOFOLLOW; a name that
 * is taken (a file, a link even a dangling one, a directory) is refused, naming it, before anything is written,
 * unless its content is already exactly what would be written (nothing to lose: it is left as it is). `force`
 * replaces atomically instead: a new temp file in the same directory, renamed over the name (which replaces a link
 * itself, never what it points to).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './errors.js';

export interface LocalFile {
  path: string;
  text: string;
  /** the mode of a new file (the umask applies) */
  mode: number;
}

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;

/** the regular file (not a link) at `path` holds exactly `text` */
function holds(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    return fstatSync(fd).isFile() && readFileSync(fd, 'utf8') === text;
  } finally {
    closeSync(fd);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function writeNew(path: string, text: string, mode: number): void {
  const fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function replace(f: LocalFile): void {
  const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
  writeNew(tmp, f.text, f.mode);
  try {
    renameSync(tmp, f.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Write every file, or none when one is in the way (without `force`); `replaceHow` ends the refusal's message (how
 * to go on: "give --force to replace them").
 */
export function writeLocalFiles(files: LocalFile[], opts: { force: boolean; replaceHow: string }): void {
  const todo = opts.force ? files : files.filter((f) => !holds(f.path, f.text));
  const taken = opts.force ? [] : todo.filter((f) => exists(f.path)).map((f) => f.path);
  if (taken.length) throw new UsageError(`${taken.join(', ')}: already there, not overwritten (${opts.replaceHow})`);
  for (const f of todo) {
    try {
      if (opts.force) replace(f);
      else writeNew(f.path, f.text, f.mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP')
        throw new UsageError(`${f.path}: appeared while writing, not overwritten (${opts.replaceHow})`);
      throw new UsageError(`${f.path}: cannot write it: ${code ?? (e as Error).message}`);
    }
  }
}
