// Reading the files a user names (a .dmft model, a .tex derivation), which may
// come from someone else: only regular files or standard input (`-`), at most
// `maxBytes` bytes, UTF-8 with an optional byte-order mark. Every failure is a
// DmftError naming the path and the reason.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { DmftError } from './errors.ts';

/** Default cap on an input file's size (documented as --max-bytes). */
export const DEFAULT_MAX_BYTES = 1_000_000;

export interface ReadOptions {
  /** refuse more than this many bytes (default DEFAULT_MAX_BYTES) */
  maxBytes?: number;
  /** what the file should be, for hints: 'a .dmft model', 'a LaTeX derivation' */
  what?: string;
  /** an example path for hints */
  example?: string;
  /** what the file is called in 'is a directory, not a …' (default 'file') */
  noun?: string;
}

/** The name an input is reported under (`-` is standard input). */
export function inputName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  ENXIO: 'no such device',
  EIO: 'input/output error',
};

/** "no such file", "permission denied", … for a Node file-system error. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && Object.prototype.hasOwnProperty.call(REASONS, code)) return REASONS[code];
  return code ? `cannot be read (${code})` : `cannot be read (${(e as Error)?.message ?? String(e)})`;
}

function tooBig(file: string, size: string, max: number): DmftError {
  return new DmftError({
    file: inputName(file),
    message: `the input is larger than ${max} bytes (${size})`,
    hint: `models and derivations are small text files; if this one really is this large, raise the limit with --max-bytes ${Math.max(max * 10, 10_000_000)}`,
  });
}

/** Sleep without an event loop (stdin that is momentarily empty). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Read up to max+1 bytes from an open descriptor. */
function readAll(fd: number, file: string, max: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, Math.min(buf.length, max + 1 - total), null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { pause(5); continue; }
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw new DmftError({ file: inputName(file), message: fsReason(e) });
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > max) throw tooBig(file, 'more was given', max);
  }
  return Buffer.concat(chunks, total);
}

/** The text of a file, or of standard input for `-`. */
export function readInput(file: string, opts: ReadOptions = {}): string {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const hint = `give the path of ${opts.what ?? 'an input file'}${opts.example ? `, e.g. ${opts.example}` : ''}, or - for standard input`;
  if (file === '') throw new DmftError({ message: 'the input path is empty', hint });
  let bytes: Buffer;
  if (file === '-') {
    bytes = readAll(0, file, max);
  } else {
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below)
      fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
    } catch (e) {
      throw new DmftError({ file, message: fsReason(e), hint });
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new DmftError({ file, message: `is a directory, not a ${opts.noun ?? 'file'}`, hint });
      if (!st.isFile()) {
        const kind = st.isFIFO() ? 'a pipe' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
        throw new DmftError({ file, message: `is ${kind}, not a regular file`, hint: 'give a file, or pipe the text into standard input and name the input -' });
      }
      if (st.size > max) throw tooBig(file, `${st.size} bytes`, max);
      bytes = readAll(fd, file, max);
    } finally {
      closeSync(fd);
    }
  }
  const text = bytes.toString('utf8');
  // a byte-order mark (written by some editors) is not part of the text
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
