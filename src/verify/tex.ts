// Reading a LaTeX file as a list of display/inline math rows, each a token
// stream with file positions. Our own reader (no library): comments, math
// environments, `$$…$$`, `\[…\]`, `$…$`, `\(…\)`, zero- and n-argument
// \newcommand / \def macros, rows split at `\\`, alignment `&` removed,
// \label / \nonumber / \notag / \tag dropped, spacing and delimiter-size
// commands dropped. The expression grammar is in parse.ts.
import { DmftError } from '../errors.ts';

export interface Pos { line: number; col: number }

export type TokType =
  | 'cmd'    // \name (v = name without the backslash; single-char commands too: \{ → '{')
  | 'letter' // one letter a–z, A–Z
  | 'num'    // digits with an optional decimal point
  | 'sym'    // any other single character: + - = ( ) [ ] < > , . ' / * | ! : ;
  | 'lb' | 'rb' // { }
  | 'sup' | 'sub' // ^ _
  | 'amp'    // &
  | 'nl';    // \\ (row break)

export interface Tok { t: TokType; v: string; line: number; col: number }

/** One row of math: an equation candidate. */
export interface MathRow {
  toks: Tok[];
  /** display math (environments, $$, \[ \]) or inline $…$ */
  display: boolean;
  /** the environment (equation, align, …, $$, \[, $) */
  env: string;
  line: number;
  col: number;
  /** the row's source text (for messages) */
  text: string;
}

/** Environments whose body is math (starred variants too). */
const MATH_ENVS = new Set(['equation', 'align', 'gather', 'multline', 'eqnarray', 'flalign', 'alignat', 'displaymath', 'math', 'dmath']);
/** Environments inside math that only group rows. */
const INNER_ENVS = new Set(['aligned', 'gathered', 'split', 'alignedat', 'multlined']);

/** Commands that print nothing we need (spacing, sizes, styles). */
const DROP = new Set([
  ',', ';', ':', '!', '>', ' ', 'quad', 'qquad', 'enspace', 'thinspace', 'medspace', 'thickspace', 'negthinspace',
  'left', 'right', 'big', 'Big', 'bigg', 'Bigg', 'bigl', 'bigr', 'Bigl', 'Bigr', 'biggl', 'biggr', 'Biggl', 'Biggr', 'middle',
  'displaystyle', 'textstyle', 'scriptstyle', 'nonumber', 'notag', 'nolimits', 'limits', 'allowbreak', 'mathstrut', 'strut',
  'nobreak', 'relax', 'noindent',
]);
/** Commands with one {argument} to drop entirely. */
const DROP_ARG = new Set(['label', 'tag', 'tag*', 'hspace', 'hspace*', 'vspace', 'vspace*', 'phantom', 'hphantom', 'vphantom', 'eqref', 'ref', 'intertext', 'shortintertext']);

interface Macro { nargs: number; body: Tok[] }

/** At most this many tokens after macro expansion in one file (a "macro bomb"
 *  of ten macros each using the previous one ten times would make 10^10). */
export const MAX_EXPANDED_TOKENS = 1_000_000;
/** Macros may use macros this deep (a recursive definition never ends). */
const MAX_MACRO_DEPTH = 20;

/** Line starts, for offset → line:col. */
class Lines {
  private starts: number[] = [0];
  constructor(src: string) { for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.starts.push(i + 1); }
  offset(p: Pos): number { return this.starts[p.line - 1] + p.col - 1; }
  at(off: number): Pos {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (this.starts[mid] <= off) lo = mid; else hi = mid - 1; }
    return { line: lo + 1, col: off - this.starts[lo] + 1 };
  }
}

export function texError(file: string, pos: Pos, message: string, hint?: string, len = 1): DmftError {
  return new DmftError({ file, line: pos.line, col: pos.col, len, message, hint });
}

/** Replace % comments by spaces (positions kept). */
function stripComments(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length) { out += c + src[i + 1]; i++; continue; }
    if (c === '%') {
      while (i < src.length && src[i] !== '\n') { out += ' '; i++; }
      if (i < src.length) out += '\n';
      continue;
    }
    out += c;
  }
  return out;
}

/** Tokenize a stretch of math source [from, to). */
function tokenize(src: string, from: number, to: number, lines: Lines): Tok[] {
  const toks: Tok[] = [];
  let i = from;
  const push = (t: TokType, v: string, off: number) => { const p = lines.at(off); toks.push({ t, v, line: p.line, col: p.col }); };
  while (i < to) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '\\') {
      const start = i;
      if (src[i + 1] === '\\') { push('nl', '\\\\', start); i += 2; continue; }
      let j = i + 1;
      if (/[A-Za-z]/.test(src[j] ?? '')) {
        while (j < to && /[A-Za-z]/.test(src[j])) j++;
        let name = src.slice(i + 1, j);
        if (src[j] === '*' && (name === 'tag' || name === 'hspace' || name === 'vspace')) { name += '*'; j++; }
        push('cmd', name, start);
        i = j;
        continue;
      }
      // one-character command: \, \; \! \{ \} \| \  …
      push('cmd', src[i + 1] ?? '', start);
      i += 2;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i;
      while (j < to && /[0-9]/.test(src[j])) j++;
      if (src[j] === '.' && /[0-9]/.test(src[j + 1] ?? '')) { j++; while (j < to && /[0-9]/.test(src[j])) j++; }
      push('num', src.slice(i, j), i);
      i = j;
      continue;
    }
    if (/[A-Za-z]/.test(c)) { push('letter', c, i); i++; continue; }
    if (c === '{') { push('lb', c, i); i++; continue; }
    if (c === '}') { push('rb', c, i); i++; continue; }
    if (c === '^') { push('sup', c, i); i++; continue; }
    if (c === '_') { push('sub', c, i); i++; continue; }
    if (c === '&') { push('amp', c, i); i++; continue; }
    if (c === '~') { i++; continue; }
    if (c === '#') { // macro parameter (only inside macro bodies)
      const m = /^#([1-9])/.exec(src.slice(i, i + 2));
      if (m) { push('sym', '#' + m[1], i); i += 2; continue; }
    }
    // unicode letters and symbols are passed on as symbols; the parser names them
    push('sym', c, i);
    i++;
  }
  return toks;
}

/** Read a balanced {…} group starting at src[i] === '{'; returns [content start, end (index after '}')]. */
function braceGroup(src: string, i: number): [number, number] | undefined {
  if (src[i] !== '{') return undefined;
  let depth = 0;
  for (let j = i; j < src.length; j++) {
    if (src[j] === '\\') { j++; continue; }
    if (src[j] === '{') depth++;
    else if (src[j] === '}' && --depth === 0) return [i + 1, j + 1];
  }
  return undefined;
}

function skipWs(src: string, i: number): number {
  while (i < src.length && /\s/.test(src[i])) i++;
  return i;
}

/** Macro definitions anywhere in the file: \newcommand{\x}[n]{body}, \renewcommand, \def\x{body}. */
function readMacros(src: string, lines: Lines): Map<string, Macro> {
  const out = new Map<string, Macro>();
  const re = /\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand)\*?\s*|\\def\s*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    let i = m.index + m[0].length;
    let name: string | undefined;
    if (src[i] === '{') {
      const g = braceGroup(src, i);
      if (!g) continue;
      name = src.slice(g[0], g[1] - 1).trim();
      i = g[1];
    } else {
      const nm = /^\\[A-Za-z]+/.exec(src.slice(i));
      if (!nm) continue;
      name = nm[0];
      i += nm[0].length;
    }
    if (!name?.startsWith('\\')) continue;
    i = skipWs(src, i);
    let nargs = 0;
    const a = /^\[(\d)\]/.exec(src.slice(i));
    if (a) { nargs = Number(a[1]); i = skipWs(src, i + a[0].length); }
    const g = braceGroup(src, i);
    if (!g) continue;
    out.set(name.slice(1), { nargs, body: tokenize(src, g[0], g[1] - 1, lines) });
    re.lastIndex = g[1];
  }
  return out;
}

/** Expand user macros in a token list (depth- and size-limited). Positions: the use site. */
function expandMacros(toks: Tok[], macros: Map<string, Macro>, file: string, budget: { left: number }, depth = 0): Tok[] {
  if (!macros.size) return toks;
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const tk = toks[i];
    const mac = tk.t === 'cmd' ? macros.get(tk.v) : undefined;
    if (!mac) { out.push(tk); continue; }
    if (depth > MAX_MACRO_DEPTH) throw texError(file, tk, `macro \\${tk.v} expands too deeply (recursive definition?)`, `macros may use other macros at most ${MAX_MACRO_DEPTH} levels deep`);
    const args: Tok[][] = [];
    for (let a = 0; a < mac.nargs; a++) {
      const nx = toks[i + 1];
      if (!nx) throw texError(file, tk, `macro \\${tk.v} needs ${mac.nargs} argument(s)`);
      if (nx.t === 'lb') {
        let d = 0, j = i + 1;
        for (; j < toks.length; j++) { if (toks[j].t === 'lb') d++; else if (toks[j].t === 'rb' && --d === 0) break; }
        args.push(toks.slice(i + 2, j));
        i = j;
      } else { args.push([nx]); i++; }
    }
    const body: Tok[] = [];
    for (const b of mac.body) {
      const pm = b.t === 'sym' && /^#([1-9])$/.exec(b.v);
      const put = pm ? (args[Number(pm[1]) - 1] ?? []) : [{ ...b, line: tk.line, col: tk.col }];
      budget.left -= put.length;
      if (budget.left < 0) {
        throw texError(file, tk, `the macros expand to more than ${MAX_EXPANDED_TOKENS} tokens (from \\${tk.v})`, 'a macro that uses another one many times multiplies the text; define the symbols directly');
      }
      for (const x of put) body.push(x);
    }
    for (const x of expandMacros(body, macros, file, budget, depth + 1)) out.push(x);
  }
  return out;
}

/** Drop spacing/size commands, \label{…}-like commands, inner environments. */
function clean(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const tk = toks[i];
    if (tk.t === 'cmd') {
      if ((tk.v === 'left' || tk.v === 'right' || tk.v.startsWith('big') || tk.v.startsWith('Big')) && toks[i + 1]?.t === 'sym' && toks[i + 1].v === '.') { i++; continue; }
      if (DROP.has(tk.v)) {
        // \quad and \qquad are kept as markers (the row reader cuts trailing remarks at them)
        if (tk.v === 'quad' || tk.v === 'qquad') out.push(tk);
        continue;
      }
      if (DROP_ARG.has(tk.v) && toks[i + 1]?.t === 'lb') {
        let d = 0, j = i + 1;
        for (; j < toks.length; j++) { if (toks[j].t === 'lb') d++; else if (toks[j].t === 'rb' && --d === 0) break; }
        i = j;
        continue;
      }
      if (tk.v === 'mathop' && toks[i + 1]?.t === 'lb' && toks[i + 2]?.t === 'rb') { i += 2; continue; }
      if ((tk.v === 'begin' || tk.v === 'end') && toks[i + 1]?.t === 'lb') {
        // \begin{aligned} … : drop the markers (and an optional [t] / {n} argument)
        let j = i + 2, name = '';
        while (j < toks.length && toks[j].t !== 'rb') { name += toks[j].v; j++; }
        if (INNER_ENVS.has(name.replace(/\*$/, ''))) {
          i = j;
          if (toks[i + 1]?.t === 'sym' && toks[i + 1].v === '[') { while (i < toks.length && !(toks[i].t === 'sym' && toks[i].v === ']')) i++; }
          if (name.startsWith('alignedat') && toks[i + 1]?.t === 'lb') i += 3;
          continue;
        }
      }
    }
    out.push(tk);
  }
  return out;
}

/** Split a math body into rows at `\\` (skipping a `[2pt]` spacing argument). Alignment
 *  points `&` are removed; column breaks (the 2nd, 4th, … `&` of a row: `a &= b & c &= d`)
 *  are kept as an 'amp' token, which separates two equations (not in eqnarray: `a &=& b`). */
function splitRows(toks: Tok[], columns: boolean): Tok[][] {
  const rows: Tok[][] = [[]];
  let amps = 0;
  for (let i = 0; i < toks.length; i++) {
    const tk = toks[i];
    if (tk.t === 'nl' || (tk.t === 'cmd' && tk.v === 'cr')) {
      rows.push([]);
      amps = 0;
      if (toks[i + 1]?.t === 'sym' && toks[i + 1].v === '[') {
        let j = i + 1;
        while (j < toks.length && !(toks[j].t === 'sym' && toks[j].v === ']')) j++;
        i = j;
      }
      continue;
    }
    if (tk.t === 'amp') {
      amps++;
      if (columns && amps % 2 === 0) rows[rows.length - 1].push(tk);
      continue;
    }
    rows[rows.length - 1].push(tk);
  }
  return rows.filter((r) => r.length > 0);
}

/**
 * Every math row of a LaTeX source, in order. Display math (equation, align,
 * gather, multline, eqnarray, flalign, `$$…$$`, `\[…\]`) and inline math
 * (`$…$`, `\(…\)`) are both returned, flagged.
 */
export function readMath(source: string, file: string): MathRow[] {
  const lines = new Lines(source);
  const src = stripComments(source);
  const macros = readMacros(src, lines);
  const budget = { left: MAX_EXPANDED_TOKENS };
  const rows: MathRow[] = [];
  const emit = (from: number, to: number, display: boolean, env: string) => {
    const toks = clean(expandMacros(tokenize(src, from, to, lines), macros, file, budget));
    for (const r0 of splitRows(toks, !env.startsWith('eqnarray'))) {
      // a row that starts or ends with a column break: drop it there
      const r = r0.filter((t, k) => t.t !== 'amp' || (k > 0 && k < r0.length - 1));
      if (!r.length) continue;
      const first = r[0];
      const startOff = lines.offset(first);
      const last = r[r.length - 1];
      const endOff = lines.offset(last) + Math.max(1, last.v.length + (last.t === 'cmd' ? 1 : 0));
      rows.push({ toks: r, display, env, line: first.line, col: first.col, text: source.slice(startOff, Math.min(endOff, source.length)).replace(/\s+/g, ' ').trim() });
    }
  };
  let i = 0;
  // skip the preamble's macro definitions (their bodies are not equations)
  const skipRanges: [number, number][] = [];
  {
    const re = /\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand)\*?\s*(\{\\[A-Za-z]+\}|\\[A-Za-z]+)\s*(\[\d\])?\s*|\\def\s*\\[A-Za-z]+\s*/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(src))) {
      const g = braceGroup(src, m.index + m[0].length);
      if (g) { skipRanges.push([m.index, g[1]]); re.lastIndex = g[1]; }
    }
  }
  // ranges are sorted and disjoint, and k only grows: one pointer finds them
  let r = 0;
  const skipped = (k: number): number | undefined => {
    while (r < skipRanges.length && skipRanges[r][1] <= k) r++;
    return r < skipRanges.length && k >= skipRanges[r][0] ? skipRanges[r][1] : undefined;
  };
  while (i < src.length) {
    const sk = skipped(i);
    if (sk !== undefined) { i = sk; continue; }
    const c = src[i];
    if (c === '\\') {
      const rest = src.slice(i, i + 40);
      const begin = /^\\begin\s*\{([A-Za-z]+\*?)\}/.exec(rest);
      // math environments; also aligned/gathered/split standing alone (KaTeX display input)
      if (begin && (MATH_ENVS.has(begin[1].replace(/\*$/, '')) || INNER_ENVS.has(begin[1].replace(/\*$/, '')))) {
        const env = begin[1];
        const start = i + begin[0].length;
        const endRe = new RegExp(`\\\\end\\s*\\{${env.replace('*', '\\*')}\\}`, 'g');
        endRe.lastIndex = start;
        const e = endRe.exec(src);
        if (!e) throw texError(file, lines.at(i), `\\begin{${env}} is never closed`, `add \\end{${env}}`, begin[0].length);
        let bodyStart = start;
        if (env.startsWith('alignat')) { const g = braceGroup(src, skipWs(src, start)); if (g) bodyStart = g[1]; }
        emit(bodyStart, e.index, env !== 'math', env);
        i = e.index + e[0].length;
        continue;
      }
      if (src[i + 1] === '[' || src[i + 1] === '(') {
        const close = src[i + 1] === '[' ? '\\]' : '\\)';
        const end = src.indexOf(close, i + 2);
        if (end < 0) throw texError(file, lines.at(i), `${src.slice(i, i + 2)} is never closed`, `add ${close}`, 2);
        emit(i + 2, end, src[i + 1] === '[', src.slice(i, i + 2));
        i = end + 2;
        continue;
      }
      i += 2;
      continue;
    }
    if (c === '$') {
      const dbl = src[i + 1] === '$';
      const open = dbl ? '$$' : '$';
      let j = i + open.length;
      let end = -1;
      for (; j < src.length; j++) {
        if (src[j] === '\\') { j++; continue; }
        if (src[j] === '$') { if (!dbl || src[j + 1] === '$') { end = j; break; } }
      }
      if (end < 0) throw texError(file, lines.at(i), `${open} is never closed`, `add the closing ${open}`, open.length);
      emit(i + open.length, end, dbl, open);
      i = end + open.length;
      continue;
    }
    i++;
  }
  return rows;
}
