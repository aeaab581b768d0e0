// Output files, written atomically and safely in directories others can write to:
// the text goes to a new temporary file created exclusively (O_EXCL: an
// existing file or a planted symbolic link is never opened) under an
// unpredictable name in the target's directory, with the target's
// permissions, and is then renamed over the target (a symbolic link at the
// target is replaced, not followed). A failed or interrupted run leaves
// neither a half-written target nor a temporary file. A target that is a
// stream — a FIFO or a character device such as /dev/stdout or /dev/null,
// directly or through a link — is written to in place (renaming over it
// would replace the device with a file); other special files are refused.
import { accessSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { DmftError } from '../errors.ts';

const FS_REASONS: Record<string, string> = {
  ENOENT: 'the file cannot be created there',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EFBIG: 'the file is too large',
  EIO: 'input/output error',
  EXDEV: 'cannot rename across file systems',
};

/** A file-system error as a sentence ("permission denied (EACCES)"). */
export function writeReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && Object.prototype.hasOwnProperty.call(FS_REASONS, code)) return `${FS_REASONS[code]} (${code})`;
  return code ?? String((e as Error)?.message ?? e);
}

// ---- temporary files and signals -------------------------------------------
const pending = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function removePending(): void {
  for (const f of pending) { try { unlinkSync(f); } catch { /* already gone */ } }
  pending.clear();
}

/** On a signal: remove temporary files, then die of the same signal (the
 *  default action, once this handler is gone). */
function onSignal(sig: NodeJS.Signals): void {
  removePending();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, sig);
}

/** Installed before the first temporary file and kept: Node runs a signal
 *  handler between synchronous steps, so a signal that arrives during a write
 *  is handled after it (the temporary file renamed or removed, nothing left).
 *  Removing the handler after each write is not safe: a signal that arrived
 *  during the write can be dropped (Node handles it on a later turn of the
 *  event loop, after the removal). */
function holdSignals(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
}

function fail(file: string, e: unknown): never {
  throw new DmftError({ file, message: `cannot write the output: ${writeReason(e)}`, hint: 'choose another output path with -o FILE, or check the directory and its permissions' });
}

function checkName(file: string): void {
  if (file === '') throw new DmftError({ message: '-o: the output path is empty', hint: 'give a file name, e.g. -o out/result.txt, or leave -o out to print to standard output' });
  if (/[/\\]$/.test(file)) throw new DmftError({ file, message: 'cannot write the output: the path names a directory', hint: 'give a file name, e.g. -o out/result.txt' });
}

/** Before any work: fail when `file` cannot be written (an empty path, a
 *  directory, a directory that cannot be created or written to). Creates nothing. */
export function checkOutputPath(file: string): void {
  checkName(file);
  try {
    if (lstatSync(file).isDirectory()) fail(file, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
  } catch (e) {
    if (e instanceof DmftError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(file, e);
  }
  // the nearest existing ancestor must be a directory we can write to
  let dir = dirname(file);
  for (;;) {
    try {
      if (!statSync(dir).isDirectory()) fail(file, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }));
      accessSync(dir, constants.W_OK);
      return;
    } catch (e) {
      if (e instanceof DmftError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(dir) === dir) fail(file, e);
      dir = dirname(dir);
    }
  }
}

const isStream = (st: { isFIFO(): boolean; isCharacterDevice(): boolean }) => st.isFIFO() || st.isCharacterDevice();

/** What `file` (followed through links) is, when it exists and is neither a
 *  regular file nor a directory: 'stream' (FIFO, character device) or 'other'. */
function specialTarget(file: string): 'stream' | 'other' | undefined {
  try {
    const st = statSync(file);
    if (st.isFile() || st.isDirectory()) return undefined;
    return isStream(st) ? 'stream' : 'other';
  } catch {
    return undefined;
  }
}

/** Write to a FIFO or character device in place; the opened descriptor is
 *  checked again, so a target swapped for a regular file is never written. */
function writeStream(file: string, bytes: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_WRONLY);
    if (!isStream(fstatSync(fd))) throw new Error('the file changed while it was being opened');
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (e) {
    fail(file, e);
  } finally {
    if (fd !== undefined) { try { closeSync(fd); } catch { /* already failed */ } }
  }
}

/** Write `content` to `file` atomically (see the header). */
export function writeAtomic(file: string, content: string | Uint8Array): void {
  checkName(file);
  const special = specialTarget(file);
  if (special === 'other') fail(file, new Error('it is not a regular file, a FIFO or a character device'));
  if (special === 'stream') return writeStream(file, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(file, e);
  }
  // keep the permissions of an existing file; never write into a directory
  let mode = 0o666;
  try {
    const st = lstatSync(file);
    if (st.isDirectory()) fail(file, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (st.isFile()) mode = st.mode & 0o7777;
  } catch (e) {
    if (e instanceof DmftError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') fail(file, e);
  }
  const tmp = join(dir, `.${basename(file)}.${randomBytes(9).toString('hex')}.tmp`);
  let fd: number | undefined;
  holdSignals();
  pending.add(tmp);
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
    // the umask may have narrowed the mode of the new file
    if (mode !== 0o666) fchmodSync(fd, mode);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
    pending.delete(tmp);
  } catch (e) {
    if (fd !== undefined) { try { closeSync(fd); } catch { /* closing after a failed write */ } }
    try { unlinkSync(tmp); } catch { /* never created */ }
    pending.delete(tmp);
    fail(file, e);
  }
}
