// KaTeX: render and validate. Every equation the printers emit must render
// with throwOnError (and strict: 'error', so that input LaTeX itself would
// reject — e.g. a trailing % comment — is caught here too).
import katex from 'katex';

export class KatexError extends Error {
  readonly tex: string;
  /** character offset in `tex` where KaTeX stopped, when it says */
  readonly position?: number;
  constructor(message: string, tex: string, position?: number) {
    super(message);
    this.name = 'KatexError';
    this.tex = tex;
    this.position = position;
  }
}

export interface KatexOptions {
  /** display style (default true) */
  displayMode?: boolean;
  /** the input is paper-flavor LaTeX: drop \label{…} (KaTeX has no \label) before rendering */
  paper?: boolean;
}

/** Remove \label{…} (balanced braces) from paper-flavor LaTeX. */
export function stripLabels(tex: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const k = tex.indexOf('\\label{', i);
    if (k < 0) return out + tex.slice(i);
    out += tex.slice(i, k);
    let depth = 0;
    let j = k + '\\label'.length;
    for (; j < tex.length; j++) {
      if (tex[j] === '{') depth++;
      else if (tex[j] === '}' && --depth === 0) break;
    }
    i = j + 1;
  }
}

function snippet(tex: string, pos?: number): string {
  const one = tex.replace(/\s+/g, ' ');
  if (pos === undefined || one.length <= 160) return one.length <= 160 ? one : one.slice(0, 157) + '...';
  const a = Math.max(0, pos - 70);
  return (a > 0 ? '...' : '') + one.slice(a, a + 140) + (a + 140 < one.length ? '...' : '');
}

/** Render to an HTML string (throws KatexError when KaTeX cannot render the input). */
export function renderKatex(tex: string, opts: KatexOptions = {}): string {
  const src = opts.paper ? stripLabels(tex) : tex;
  try {
    return katex.renderToString(src, { throwOnError: true, displayMode: opts.displayMode ?? true, strict: 'error', output: 'htmlAndMathml' });
  } catch (e) {
    if (e instanceof katex.ParseError) {
      const pos = typeof e.position === 'number' ? e.position : undefined;
      const raw = e.rawMessage || e.message;
      throw new KatexError(`KaTeX cannot render this LaTeX: ${raw}${pos !== undefined ? ` (at character ${pos})` : ''}\n  in: ${snippet(src, pos)}`, src, pos);
    }
    throw e;
  }
}

/** Throw a KatexError with a clear message if KaTeX cannot render `tex`. */
export function validateKatex(tex: string, opts: KatexOptions = {}): void {
  renderKatex(tex, opts);
}
