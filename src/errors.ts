// One error type for everything the user can get wrong. It carries where
// (file:line:col), what was found, what was expected and a hint, and formats
// itself the way compilers do, with the offending source line underlined.

export interface ErrorInfo {
  file?: string;
  line?: number;
  col?: number;
  /** length of the offending text, for the ^^^ marker */
  len?: number;
  message: string;
  expected?: string;
  hint?: string;
}

/** Exit codes of the CLI (3: `check` could not decide at its target precision). */
export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, inconclusive: 3 } as const;

export class DmftError extends Error {
  readonly info: ErrorInfo;
  /** set by whoever knows the source text, to show the line in `format` */
  sourceLine?: string;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'DmftError';
    this.info = info;
  }

  /** "file:line:col" (as much of it as is known). */
  where(): string {
    const { file, line, col } = this.info;
    if (line === undefined) return file ?? '';
    return `${file ?? '<input>'}:${line}:${col ?? 1}`;
  }

  format(): string {
    const { line, expected, hint } = this.info;
    const w = this.where();
    const out = [`${w ? w + ': ' : ''}error: ${clipWords(this.info.message)}`];
    if (this.sourceLine !== undefined && line !== undefined) {
      const gutter = `${line} | `;
      const { text, col, len } = clipLine(this.sourceLine, this.info.col ?? 1, this.info.len ?? 1);
      out.push(`  ${gutter}${escapeControl(text)}`);
      // keep tabs in the indent so that the marker lines up under the source
      const before = escapeControl(text.slice(0, col - 1)).replace(/[^\t]/g, ' ');
      const marked = escapeControl(text.slice(col - 1, col - 1 + len));
      out.push(`  ${' '.repeat(gutter.length)}${before}${'^'.repeat(Math.max(1, marked.length))}`);
    }
    if (expected) out.push(`  expected: ${clipWords(expected)}`);
    if (hint) out.push(`  hint: ${clipWords(hint)}`);
    return escapeControl(out.join('\n'));
  }
}

/** At most this many characters of a source line are shown in an error. */
export const MAX_ECHO = 200;

/** A window of at most MAX_ECHO characters of a long line around the column
 *  (… marks what is cut), with the column and marker length in the window. */
export function clipLine(line: string, col: number, len: number): { text: string; col: number; len: number } {
  const c = Math.max(1, Math.min(col, line.length + 1));
  if (line.length <= MAX_ECHO) return { text: line, col: c, len: Math.max(1, Math.min(len, line.length - c + 1)) };
  const start = Math.max(0, Math.min(c - 1 - 60, line.length - MAX_ECHO));
  const end = start + MAX_ECHO;
  const pre = start > 0 ? '…' : '';
  const text = pre + line.slice(start, end) + (end < line.length ? '…' : '');
  const wc = c - start + pre.length;
  return { text, col: wc, len: Math.max(1, Math.min(len, end - (c - 1))) };
}

/** A very long word (a 1 MB identifier, an excerpt of a line) is shortened in messages. */
export function clipWords(s: string): string {
  return s.replace(/\S{121,}/g, (w) => `${w.slice(0, 100)}…(${w.length} characters)`);
}

/** Control characters (C0 except tab and newline, DEL, C1) and bidirectional-text
 *  controls, as \u escapes: text from a received file must not drive the terminal
 *  (clear the screen, move the cursor, reorder what is shown). The escape is also
 *  valid inside a JSON string. */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Several errors found in one pass (validation reports all it finds). */
export class DmftErrors extends Error {
  readonly errors: DmftError[];
  constructor(errors: DmftError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'DmftErrors';
    this.errors = errors;
  }
  format(): string {
    return this.errors.map((e) => e.format()).join('\n\n');
  }
}

/** Attach source lines to errors so that `format` can show them. */
export function withSource<T extends DmftError | DmftErrors>(err: T, source: string): T {
  const lines = source.split(/\r?\n/);
  const list = err instanceof DmftErrors ? err.errors : [err as DmftError];
  for (const e of list) if (e.info.line !== undefined) e.sourceLine = lines[e.info.line - 1];
  return err;
}

/** Edit distance (optimal string alignment: insertions, deletions,
 *  substitutions and swaps of two neighbours each cost 1), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The closest candidate, if it is close enough to be a likely typo. One-letter
 *  names only match up to case (any other letter is "close" to them). */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  // a typo is a small edit: lengths differ by at most the limit (also keeps a
  // 100 000-character name from costing seconds per candidate)
  const limit = name.length <= 1 ? 0 : Math.max(1, Math.floor(name.length / 3));
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === name || Math.abs(c.length - name.length) > limit) continue;
    const dd = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dd < bestD) { bestD = dd; best = c; }
  }
  return best !== undefined && bestD <= limit ? best : undefined;
}
