// Reading a .tex file into the relations it states (rows split at the top
// level, prose dropped), and small helpers on the reader's trees.
import { DmftError, withSource } from '../errors.ts';
import { readMath, type MathRow, type Tok } from './tex.ts';
import { FN_WORDS, TexParser, relationAt, type NameNode, type TexEquation, type TNode } from './parse.ts';
import { hasOwn } from '../table.ts';
/** One relation the user wrote: lhs rel rhs, with where it is. */
export interface UEq { lhs: TNode; rel: string; rhs: TNode; row: MathRow; line: number; handled?: boolean }

// ---- reading rows ------------------------------------------------------------

export const isSymTok = (t: Tok | undefined, v: string) => t?.t === 'sym' && t.v === v;
export const isCmdTok = (t: Tok | undefined, v: string) => t?.t === 'cmd' && t.v === v;
export const TEXT_CMDS = new Set(['text', 'mbox', 'textrm', 'textnormal', 'textit', 'textbf']);
/** words in \text{…} that are math, not prose (besides the function words) */
export const TEXT_WORDS = new Set(['var', 'test', 'train']);

/** Split a row into the equations it holds (separated at the top level by ',',
 *  \quad, \qquad or prose \text{…} after a relation); drop prose and punctuation. */
export function prepRow(toks: Tok[]): Tok[][] {
  const segs: Tok[][] = [];
  let out: Tok[] = [];
  let depth = 0;
  let relSeen = false;
  let afterRel = 0;
  const close = (keep: boolean) => {
    while (out.length && (isSymTok(out[out.length - 1], '.') || isSymTok(out[out.length - 1], ',') || isSymTok(out[out.length - 1], ';'))) out.pop();
    // a fragment without a relation is kept only as the whole row (a continuation: + b)
    if (keep && out.length && (relSeen || (segs.length === 0 && (isSymTok(out[0], '+') || isSymTok(out[0], '-'))))) segs.push(out);
    out = [];
    relSeen = false;
    afterRel = 0;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.t === 'cmd' && TEXT_CMDS.has(t.v) && toks[i + 1]?.t === 'lb') {
      let j = i + 2, d = 1;
      const inner: Tok[] = [];
      for (; j < toks.length; j++) { if (toks[j].t === 'lb') d++; else if (toks[j].t === 'rb' && --d === 0) break; inner.push(toks[j]); }
      const word = inner.map((x) => x.v).join('');
      if ((inner.length === 1 && inner[0].t === 'letter') || (TEXT_WORDS.has(word) || hasOwn(FN_WORDS, word))) { out.push(...toks.slice(i, j + 1)); i = j; continue; }
      // prose ends the equation before it (a remark row without a relation is dropped)
      if (depth === 0) { close(relSeen); i = j; continue; }
      i = j;
      continue;
    }
    if (t.t === 'cmd' && (t.v === 'quad' || t.v === 'qquad')) {
      if (relSeen && depth === 0 && afterRel > 0) close(true);
      continue;
    }
    if (t.t === 'amp') { close(relSeen); continue; } // an alignment column break
    if (t.t === 'lb' || isSymTok(t, '(') || isSymTok(t, '[') || isCmdTok(t, 'langle') || isCmdTok(t, '{')) depth++;
    else if (t.t === 'rb' || isSymTok(t, ')') || isSymTok(t, ']') || isCmdTok(t, 'rangle') || isCmdTok(t, '}')) depth--;
    if (depth === 0 && (isSymTok(t, ',') || isSymTok(t, ';')) && relSeen) { close(true); continue; }
    if (depth === 0 && relationAt(toks, i)) { relSeen = true; afterRel = 0; out.push(t); continue; }
    if (relSeen) afterRel++;
    out.push(t);
  }
  close(true);
  return segs;
}

/** The left-hand side of a row that did not parse as a whole (if that part parses). */
export function lhsOf(toks: Tok[], file: string): TNode | undefined {
  let depth = 0, k = -1;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.t === 'lb' || isSymTok(t, '(') || isSymTok(t, '[') || isCmdTok(t, 'langle')) depth++;
    else if (t.t === 'rb' || isSymTok(t, ')') || isSymTok(t, ']') || isCmdTok(t, 'rangle')) depth--;
    else if (depth === 0 && relationAt(toks, i)) { k = i; break; }
  }
  if (k <= 0) return undefined;
  try {
    return new TexParser(toks.slice(0, k), file, { line: 0, col: 0 }).parseExpr();
  } catch {
    return undefined;
  }
}

/** A row that could not be read, kept until the symbols are known. */
export interface Unreadable { err: DmftError; lhs: TNode; row: MathRow }

/** All relations of the file, with continuation rows (+ … / = …) merged. */
export function readEquations(source: string, file: string, notes: string[], unreadable: Unreadable[]): UEq[] {
  const rows = readMath(source, file);
  const out: UEq[] = [];
  let last: UEq | undefined;
  let lastRow: MathRow | undefined;
  for (const row of rows) {
    const segs = prepRow(row.toks);
    segs.forEach((toks, si) => {
      let eq: TexEquation;
      try {
        const end = { line: row.line, col: row.col + row.text.length };
        const p = new TexParser(toks, file, end);
        eq = p.parseRow(row);
      } catch (e) {
        if (!(e instanceof DmftError)) throw e;
        // unreadable: fatal (exit 2) for a displayed equation whose left-hand side is one
        // of those verify compares (decided once the symbols are aligned); otherwise a note
        const lhs = row.display ? lhsOf(toks, file) : undefined;
        if (lhs) unreadable.push({ err: withSource(e, source), lhs, row });
        else notes.push(`line ${e.info.line ?? row.line}: not read (${e.message}): ${row.text}`);
        return;
      }
      const line = toks[0].line;
      const sameBlock = si === 0 && lastRow && lastRow.env === row.env && row.line - lastRow.line <= 3 && row.display;
      if (eq.lhs && eq.rels.length === 0) {
        // a continuation row: + b, - c (added to the previous right-hand side)
        const first = toks[0];
        if (last && sameBlock && (isSymTok(first, '+') || isSymTok(first, '-'))) last.rhs = { k: 'add', terms: [last.rhs, eq.lhs], pos: last.rhs.pos };
        return;
      }
      let lhs = eq.lhs;
      if (!lhs) {
        if (!last || !sameBlock) { notes.push(`line ${line}: a row starting with '${eq.rels[0]?.rel}' has no left-hand side; not compared`); return; }
        lhs = last.lhs;
      }
      // chains a = b = c compare a with b and a with c
      for (const r of eq.rels) {
        const u: UEq = { lhs, rel: r.rel, rhs: r.rhs, row, line };
        out.push(u);
        last = u;
      }
    });
    lastRow = row;
  }
  return out;
}

// ---- TeX tree helpers ----------------------------------------------------------

export function tkids(n: TNode): TNode[] {
  switch (n.k) {
    case 'apply': return [n.head, ...n.args];
    case 'add': return n.terms;
    case 'mul': return n.factors;
    case 'div': return [n.num, n.den];
    case 'neg': return [n.a];
    case 'pow': return [n.base, n.exp];
    case 'fn': return n.args;
    case 'avg': return [n.body];
    case 'int': return [n.lo, n.hi, n.body];
    case 'deriv': return [n.target];
    case 'fder': return [n.num, n.den];
    case 'cmp': return [n.a, n.b];
    case 'sum': return [n.body];
    case 'dvar': return [n.target];
    default: return [];
  }
}
export function tsome(n: TNode, p: (x: TNode) => boolean): boolean {
  return p(n) || tkids(n).some((c) => tsome(c, p));
}
export function tfind<T extends TNode['k']>(n: TNode, k: T): Extract<TNode, { k: T }> | undefined {
  if (n.k === k) return n as Extract<TNode, { k: T }>;
  for (const c of tkids(n)) { const r = tfind(c, k); if (r) return r; }
  return undefined;
}
export const headOf = (n: TNode): NameNode | undefined => (n.k === 'name' ? n : n.k === 'apply' ? n.head : undefined);
/** The names of a TeX tree used as heads of applications or bare. */
export function namesIn(n: TNode, out: NameNode[] = []): NameNode[] {
  if (n.k === 'name') out.push(n);
  if (n.k === 'int') { tkids(n).forEach((c) => namesIn(c, out)); return out; }
  for (const c of tkids(n)) namesIn(c, out);
  return out;
}

/** Names read as a frequency: an order parameter applied to ω is a Fourier transform. */
export const FREQ_KEYS = new Set(['\\omega', '\\Omega', '\\nu']);
/** Does the row hold a frequency-domain form: something applied to ω (R(ω), C(-\omega))? */
export function isFrequencyRow(u: { lhs: TNode; rhs: TNode }): boolean {
  const p = (n: TNode) => n.k === 'apply' && n.args.some((a) => tsome(a, (x) => x.k === 'name' && FREQ_KEYS.has(x.key)));
  return tsome(u.lhs, p) || tsome(u.rhs, p);
}

/** ⟨A(τ1) A(τ2)⟩ (also ⟨A(τ)^2⟩): the head and the times. */
export function covarianceLhs(n: TNode): { head: NameNode; times: TNode[] } | undefined {
  if (n.k !== 'avg') return undefined;
  const b = n.body;
  if (b.k === 'mul' && b.factors.length === 2 && b.factors.every((f) => f.k === 'apply' && f.args.length === 1)) {
    const [a, c] = b.factors as Extract<TNode, { k: 'apply' }>[];
    if (a.head.key === c.head.key) return { head: a.head, times: [a.args[0], c.args[0]] };
  }
  return undefined;
}

