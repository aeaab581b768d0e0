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
    const { line, col, len, expected, hint, message } = this.info;
    const w = this.where();
    const out = [`${w ? w + ': ' : ''}error: ${message}`];
    if (this.sourceLine !== undefined && line !== undefined) {
      const gutter = `${line} | `;
      out.push(`  ${gutter}${this.sourceLine}`);
      // keep tabs in the indent so that the marker lines up under the source
      const before = this.sourceLine.slice(0, Math.max(0, (col ?? 1) - 1)).replace(/[^\t]/g, ' ').padEnd(Math.max(0, (col ?? 1) - 1));
      out.push(`  ${' '.repeat(gutter.length)}${before}${'^'.repeat(Math.max(1, len ?? 1))}`);
    }
    if (expected) out.push(`  expected: ${expected}`);
    if (hint) out.push(`  hint: ${hint}`);
    return out.join('\n');
  }
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
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === name) continue;
    const dd = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dd < bestD) { bestD = dd; best = c; }
  }
  const limit = name.length <= 1 ? 0 : Math.max(1, Math.floor(name.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}
