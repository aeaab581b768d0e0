// The LaTeX expression grammar of `dmft verify`: a math row (tex.ts) → a
// small TeX syntax tree (TNode). Names are kept as written (with their
// subscripts and primes); what a name means (parameter, variable, field,
// order parameter, user function) is decided later by align.ts / resolve.ts,
// because `x(t)` is an application and `g(1 + x)` a product, and only the
// model can tell them apart.
//
// Covered: sums, signs, implicit multiplication, \cdot, \times, /, \frac
// (also \dfrac, \tfrac, \frac12), powers, subscripts, primes, ^*, \sqrt,
// \tanh \exp \log \ln \sin \cos, \operatorname{…}, e^{…}, \delta(t-s),
// Iverson brackets [a > b], \lvert…\rvert, averages \langle…\rangle and
// \mathbb{E}[…], integrals \int_a^b with the measure before or after the
// body (ds, \mathrm{d}s, dt', d\tau), time derivatives (\dot x, \partial_t x,
// \frac{d}{dt}x, \frac{dx}{dt}, \frac{\mathrm{d}x}{\mathrm{d}t}), functional
// derivatives \frac{\delta x(t)}{\delta h(s)} and δx(t)/δh(s), \sum_j.
import type { CmpOp } from '../expr/ast.ts';
import { FUNCTION_DEFS } from '../expr/functions.ts';
import { table } from '../table.ts';
import { MAX_DEPTH } from '../model/parse.ts';
import { readMath, texError, type MathRow, type Pos, type Tok } from './tex.ts';

export interface NameNode {
  k: 'name';
  /** normalized key: x, \eta, J_{0}, C_{\tanh x}, w^{*}, var, s' */
  key: string;
  /** the base alone (x, \eta, var), normalized */
  base: string;
  /** subscript tokens as written (undefined when none) */
  sub?: Tok[];
  subKey?: string;
  primes: number;
  star: boolean;
  /** a superscript label such as ^{(1)} (part of the name) */
  supTag?: string;
  /** LaTeX as written (reconstructed from tokens) */
  tex: string;
  pos: Pos;
}

export type TNode =
  | { k: 'num'; v: number; pos: Pos }
  | NameNode
  | { k: 'apply'; head: NameNode; args: TNode[]; pos: Pos }
  | { k: 'add'; terms: TNode[]; pos: Pos }
  | { k: 'mul'; factors: TNode[]; pos: Pos }
  | { k: 'div'; num: TNode; den: TNode; pos: Pos }
  | { k: 'neg'; a: TNode; pos: Pos }
  | { k: 'pow'; base: TNode; exp: TNode; pos: Pos }
  | { k: 'fn'; fn: string; args: TNode[]; pos: Pos }
  | { k: 'avg'; body: TNode; pos: Pos }
  | { k: 'int'; v?: NameNode; lo: TNode; hi: TNode; body: TNode; pos: Pos }
  | { k: 'deriv'; target: TNode; pos: Pos }
  | { k: 'fder'; num: TNode; den: TNode; pos: Pos }
  | { k: 'cmp'; op: CmpOp; a: TNode; b: TNode; pos: Pos }
  | { k: 'sum'; index?: Tok[]; upper?: Tok[]; body: TNode; pos: Pos }
  | { k: 'dvar'; target: TNode; pos: Pos };

/** A parsed row: lhs rel rhs (rel rhs …). lhs undefined for a row that starts with a relation. */
export interface TexEquation {
  lhs?: TNode;
  rels: { rel: string; rhs: TNode; pos: Pos }[];
  row: MathRow;
}

export const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa', 'lambda',
  'mu', 'nu', 'xi', 'pi', 'varpi', 'rho', 'varrho', 'sigma', 'varsigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma', 'Upsilon', 'Phi', 'Psi', 'Omega',
]);
const GREEK_NORMAL: Record<string, string> = table({ varepsilon: 'epsilon', varphi: 'phi', vartheta: 'theta', varrho: 'rho' });
const UNICODE_GREEK: Record<string, string> = table({
  'α': 'alpha', 'β': 'beta', 'γ': 'gamma', 'δ': 'delta', 'ε': 'epsilon', 'ζ': 'zeta', 'η': 'eta', 'θ': 'theta', 'κ': 'kappa',
  'λ': 'lambda', 'μ': 'mu', 'ν': 'nu', 'ξ': 'xi', 'π': 'pi', 'ρ': 'rho', 'σ': 'sigma', 'τ': 'tau', 'φ': 'phi', 'ϕ': 'phi',
  'χ': 'chi', 'ψ': 'psi', 'ω': 'omega', 'Γ': 'Gamma', 'Δ': 'Delta', 'Σ': 'Sigma', 'Φ': 'Phi', 'Ω': 'Omega',
});

/** Function commands and the language function they mean (from the function registry). */
const FN_CMDS: Record<string, string> = table(Object.values(FUNCTION_DEFS).flatMap((d) => (d.tex.commands ?? []).map((c) => [c, d.name] as const)));
/** Function words in \operatorname{…} / \mathrm{…} (from the function registry). */
export const FN_WORDS: Record<string, string> = table(Object.values(FUNCTION_DEFS).flatMap((d) => (d.tex.words ?? []).map((w) => [w, d.name] as const)));
const FONT_CMDS = new Set(['mathrm', 'operatorname', 'text', 'textrm', 'mathit', 'mathbf', 'boldsymbol', 'bm', 'mathsf', 'mathtt', 'textit', 'textbf', 'mathnormal', 'mbox']);
const SCRIPT_FONTS = new Set(['mathcal', 'mathscr', 'mathfrak', 'mathbb']);
const ACCENTS = new Set(['hat', 'tilde', 'bar', 'overline', 'widehat', 'widetilde', 'vec', 'check', 'breve']);

const REL_CMDS: Record<string, string> = table({
  sim: '\\sim', equiv: '=', coloneqq: '=', approx: '\\approx', simeq: '\\approx', ge: '\\ge', geq: '\\ge', le: '\\le', leq: '\\le',
  to: '\\to', rightarrow: '\\to', propto: '\\propto', neq: '\\neq', ne: '\\neq', gg: '\\gg', ll: '\\ll', mapsto: '\\to', triangleq: '=', doteq: '=',
});
export const EQUAL_RELS = new Set(['=']);

const isSym = (tk: Tok | undefined, v: string) => tk?.t === 'sym' && tk.v === v;
const isCmd = (tk: Tok | undefined, v: string) => tk?.t === 'cmd' && tk.v === v;

/** The relation a token starts (and how many tokens it takes), if any. */
export function relationAt(toks: Tok[], i: number): { rel: string; len: number } | undefined {
  const tk = toks[i];
  if (!tk) return undefined;
  if (tk.t === 'sym') {
    if (tk.v === '=') return { rel: '=', len: 1 };
    if (tk.v === ':' && isSym(toks[i + 1], '=')) return { rel: '=', len: 2 };
    if (tk.v === '<') return isSym(toks[i + 1], '=') ? { rel: '\\le', len: 2 } : { rel: '<', len: 1 };
    if (tk.v === '>') return isSym(toks[i + 1], '=') ? { rel: '\\ge', len: 2 } : { rel: '>', len: 1 };
    if (tk.v === '≈') return { rel: '\\approx', len: 1 };
    if (tk.v === '∼') return { rel: '\\sim', len: 1 };
    if (tk.v === '≥') return { rel: '\\ge', len: 1 };
    if (tk.v === '≤') return { rel: '\\le', len: 1 };
  }
  if (tk.t === 'cmd' && tk.v in REL_CMDS) return { rel: REL_CMDS[tk.v], len: 1 };
  return undefined;
}

function tokText(toks: Tok[]): string {
  let s = '';
  for (const tk of toks) {
    const piece = tk.t === 'cmd' ? '\\' + tk.v : tk.t === 'lb' ? '{' : tk.t === 'rb' ? '}' : tk.v;
    if (s && /\\[A-Za-z]+$/.test(s) && /^[A-Za-z]/.test(piece)) s += ' ';
    s += piece;
  }
  return s;
}

/** Normalized key of a token list (used for subscripts): braces dropped, spaced. */
export function tokKey(toks: Tok[]): string {
  return toks.filter((t) => t.t !== 'lb' && t.t !== 'rb').map((t) => (t.t === 'cmd' ? '\\' + (GREEK_NORMAL[t.v] ?? t.v) : t.v)).join(' ');
}

function greekKey(v: string): string {
  return '\\' + (GREEK_NORMAL[v] ?? v);
}

export class TexParser {
  private i = 0;
  /** number of enclosing integrals still waiting for a trailing measure */
  private awaitingMeasure = 0;
  /** inside |…|: a '|' closes the group instead of opening one (|R(ω)|^2) */
  private inAbs = 0;
  /** `nest`: the nesting depth, shared with the parsers of inner groups */
  constructor(private toks: Tok[], private file: string, private end: Pos, private nest = { depth: 0 }) {}

  // ---- token helpers ----------------------------------------------------
  private peek(k = 0): Tok | undefined { return this.toks[this.i + k]; }
  private next(): Tok { const t = this.toks[this.i++]; if (!t) throw this.err(this.end, 'unexpected end of the equation'); return t; }
  private here(): Pos { const t = this.peek(); return t ? { line: t.line, col: t.col } : this.end; }
  private err(pos: Pos, message: string, hint?: string): Error { return texError(this.file, pos, message, hint); }
  atEnd(): boolean { return this.i >= this.toks.length; }

  /** The tokens of a {group} or of a single token (TeX argument). Splits a multi-digit number (\frac12). */
  private argTokens(): Tok[] {
    const t = this.next();
    if (t.t === 'lb') {
      let d = 1;
      const start = this.i;
      while (this.i < this.toks.length) {
        const u = this.toks[this.i];
        if (u.t === 'lb') d++;
        else if (u.t === 'rb' && --d === 0) { this.i++; return this.toks.slice(start, this.i - 1); }
        this.i++;
      }
      throw this.err(t, "unbalanced '{'", "close the group with '}'");
    }
    if (t.t === 'num' && t.v.length > 1 && /^[0-9]+$/.test(t.v)) {
      // \frac12: TeX reads one digit as the argument
      this.toks.splice(this.i, 0, { ...t, v: t.v.slice(1), col: t.col + 1 });
      return [{ ...t, v: t.v[0] }];
    }
    if (t.t === 'rb') throw this.err(t, "unexpected '}'");
    return [t];
  }

  /** Parse a complete token list as one expression. */
  private parseGroup(toks: Tok[], at: Pos, what: string): TNode {
    if (!toks.length) throw this.err(at, `empty ${what}`);
    const p = new TexParser(toks, this.file, at, this.nest);
    const e = p.parseExpr();
    if (!p.atEnd()) {
      const rel = relationAt(p.toks, p.i);
      if (rel && (rel.rel === '<' || rel.rel === '>' || rel.rel === '\\ge' || rel.rel === '\\le')) {
        p.i += rel.len;
        const b = p.parseExpr();
        if (p.atEnd()) return { k: 'cmp', op: cmpOf(rel.rel), a: e, b, pos: at };
      }
      const t = p.peek()!;
      throw this.err(t, `unexpected '${t.t === 'cmd' ? '\\' + t.v : t.v}' in ${what}`);
    }
    return e;
  }

  // ---- rows ---------------------------------------------------------------
  /** lhs rel rhs rel rhs …  (lhs may be missing: a row that starts with '=') */
  parseRow(row: MathRow): TexEquation {
    const eq: TexEquation = { rels: [], row };
    if (!relationAt(this.toks, this.i)) eq.lhs = this.parseExpr();
    while (!this.atEnd()) {
      const r = relationAt(this.toks, this.i);
      if (!r) {
        const t = this.peek()!;
        throw this.err(t, `unexpected '${t.t === 'cmd' ? '\\' + t.v : t.v}'`, t.t === 'sym' && (t.v === ')' || t.v === ']') ? 'unbalanced parentheses?' : undefined);
      }
      const pos = this.here();
      this.i += r.len;
      const rhs = this.parseExpr();
      eq.rels.push({ rel: r.rel, rhs, pos });
    }
    return eq;
  }

  // ---- expressions --------------------------------------------------------
  parseExpr(): TNode {
    const pos = this.here();
    const terms: TNode[] = [];
    let sign = 1;
    if (isSym(this.peek(), '-')) { this.i++; sign = -1; } else if (isSym(this.peek(), '+')) this.i++;
    let t = this.parseTerm();
    terms.push(sign < 0 ? { k: 'neg', a: t, pos } : t);
    for (;;) {
      const p = this.peek();
      if (isSym(p, '+') || isSym(p, '-')) {
        this.i++;
        const tp = this.here();
        t = this.parseTerm();
        terms.push(p!.v === '-' ? { k: 'neg', a: t, pos: tp } : t);
      } else if (isCmd(p, 'pm') || isCmd(p, 'mp')) {
        throw this.err(p!, '\\pm is not supported', 'write the two signs as two equations');
      } else break;
    }
    return terms.length === 1 ? terms[0] : { k: 'add', terms, pos };
  }

  /** Is there a measure (d s, \mathrm{d} s) at offset k? Returns its token length. */
  private measureAt(k: number): number {
    const t = this.peek(k);
    let n = 0;
    if (t?.t === 'letter' && t.v === 'd') n = 1;
    else if (t?.t === 'cmd' && FONT_CMDS.has(t.v) && this.peek(k + 1)?.t === 'lb' && this.peek(k + 2)?.v === 'd' && this.peek(k + 3)?.t === 'rb') n = 4;
    else if (t?.t === 'cmd' && (t.v === 'mathrm' || t.v === 'text') && this.peek(k + 1)?.v === 'd' && this.peek(k + 1)?.t === 'letter') n = 2;
    else if (t?.t === 'cmd' && t.v === 'differential') n = 1;
    if (!n) return 0;
    const v = this.peek(k + n);
    if (v?.t === 'letter' || (v?.t === 'cmd' && GREEK.has(v.v))) return n;
    return 0;
  }

  private startsFactor(t: Tok | undefined): boolean {
    if (!t) return false;
    switch (t.t) {
      case 'letter': case 'num': case 'lb': return true;
      case 'sym': return t.v === '(' || t.v === '[' || (t.v === '|' && !this.inAbs) || t.v in UNICODE_GREEK;
      case 'cmd':
        if (t.v in REL_CMDS) return false;
        return !['cdot', 'times', 'rangle', 'right', 'rvert', 'rVert', 'end', 'quad', 'qquad', 'cr', '}', 'pm', 'mp', 'over', 'ast', 'star'].includes(t.v);
      default: return false;
    }
  }

  parseTerm(): TNode {
    const pos = this.here();
    const factors: TNode[] = [this.parseFactor()];
    for (;;) {
      const p = this.peek();
      if (this.awaitingMeasure > 0 && this.measureAt(0)) break;
      if (isCmd(p, 'cdot') || isCmd(p, 'times') || isSym(p, '*') || isCmd(p, 'ast')) {
        this.i++;
        factors.push(this.parseFactor());
        continue;
      }
      if (isSym(p, '/')) {
        this.i++;
        const den = this.parseFactor();
        const last = factors[factors.length - 1];
        if (last.k === 'dvar' && den.k === 'dvar') factors[factors.length - 1] = { k: 'fder', num: last.target, den: den.target, pos: last.pos };
        else if (last.k === 'dvar' || den.k === 'dvar') throw this.err(den.pos, 'a functional derivative is written δf(t)/δh(s)');
        else factors[factors.length - 1] = { k: 'div', num: last, den, pos: last.pos };
        continue;
      }
      if (this.startsFactor(p)) { factors.push(this.parseFactor()); continue; }
      break;
    }
    for (const f of factors) if (f.k === 'dvar') throw this.err(f.pos, "a differential δ… must be part of a functional derivative δf(t)/δh(s)");
    return factors.length === 1 ? factors[0] : { k: 'mul', factors, pos };
  }

  /** A primary with its postfix. Every nesting (a group, a bracket, a function,
   *  a fraction, a sign) passes here: the depth is limited as in the model
   *  language (MAX_DEPTH levels), so that no input exhausts the call stack. */
  parseFactor(): TNode {
    this.nest.depth++;
    try {
      if (this.nest.depth > MAX_DEPTH + 1) {
        throw this.err(this.here(), `the equation is nested too deeply (more than ${MAX_DEPTH} levels of groups, brackets, functions and signs)`, 'split it into several equations');
      }
      return this.factor();
    } finally {
      this.nest.depth--;
    }
  }

  private factor(): TNode {
    const t = this.peek();
    if (!t) throw this.err(this.end, 'expected a term, found the end of the equation');
    if (isSym(t, '-')) { // a sign inside a product: a \cdot -b
      this.i++;
      return { k: 'neg', a: this.parseFactor(), pos: t };
    }
    let e = this.parsePrimary();
    // postfix powers (and an ignored subscript on averages)
    for (;;) {
      const p = this.peek();
      if (p?.t === 'sup') {
        this.i++;
        const at = this.here();
        const toks = this.argTokens();
        if (toks.length === 1 && (isSym(toks[0], '*') || isCmd(toks[0], 'ast') || isCmd(toks[0], 'star')) && e.k === 'name') {
          e = this.nameWith(e, { star: true });
          continue;
        }
        const ex = this.parseGroup(toks, at, 'exponent');
        e = { k: 'pow', base: e, exp: ex, pos: e.pos };
        continue;
      }
      if (p?.t === 'sub' && e.k === 'avg') { this.i++; this.argTokens(); continue; }
      break;
    }
    return e;
  }

  private nameWith(n: NameNode, o: { star?: boolean }): NameNode {
    const out = { ...n, star: n.star || !!o.star };
    out.key = nameKey(out);
    out.tex = out.tex + (o.star ? '^*' : '');
    return out;
  }

  /** After a base name: subscripts, primes, ^* / ^\prime / ^{(1)}, then (args) → apply. */
  private nameTail(base: string, tex: string, pos: Pos, opts: { noApply?: boolean } = {}): TNode {
    const n: NameNode = { k: 'name', key: '', base, primes: 0, star: false, tex, pos };
    let supTag: string | undefined;
    for (;;) {
      const p = this.peek();
      if (p?.t === 'sub') {
        this.i++;
        const toks = this.argTokens();
        n.sub = [...(n.sub ?? []), ...toks];
        n.tex += `_{${tokText(toks)}}`;
        continue;
      }
      if (isSym(p, "'")) { this.i++; n.primes++; n.tex += "'"; continue; }
      if (p?.t === 'sup') {
        const q = this.peek(1);
        if (isCmd(q, 'prime')) { this.i += 2; n.primes++; n.tex += "'"; continue; }
        if (isSym(q, '*') || isCmd(q, 'ast') || isCmd(q, 'star')) { this.i += 2; n.star = true; n.tex += '^*'; continue; }
        if (q?.t === 'lb') {
          // ^{*}, ^{\prime}, ^{\prime\prime}, ^{(1)}
          let j = this.i + 2;
          const inner: Tok[] = [];
          while (this.toks[j] && this.toks[j].t !== 'rb') inner.push(this.toks[j++]);
          if (inner.length && inner.every((x) => isCmd(x, 'prime') || isSym(x, "'"))) { this.i = j + 1; n.primes += inner.length; n.tex += "'".repeat(inner.length); continue; }
          if (inner.length === 1 && (isSym(inner[0], '*') || isCmd(inner[0], 'ast') || isCmd(inner[0], 'star'))) { this.i = j + 1; n.star = true; n.tex += '^*'; continue; }
          if (inner.length >= 3 && isSym(inner[0], '(') && isSym(inner[inner.length - 1], ')')) { this.i = j + 1; supTag = tokKey(inner.slice(1, -1)); n.tex += `^{${tokText(inner)}}`; continue; }
        }
      }
      break;
    }
    if (n.sub) n.subKey = tokKey(n.sub);
    if (supTag) n.supTag = supTag;
    n.key = nameKey(n);
    if (!opts.noApply && (isSym(this.peek(), '('))) {
      const args = this.parseArgs();
      return { k: 'apply', head: n, args, pos };
    }
    return n;
  }

  /** ( a, b, … ) */
  private parseArgs(): TNode[] {
    const open = this.next();
    const args: TNode[] = [];
    if (isSym(this.peek(), ')')) { this.i++; return args; }
    const saved = this.awaitingMeasure;
    this.awaitingMeasure = 0;
    for (;;) {
      args.push(this.parseExpr());
      const p = this.peek();
      if (isSym(p, ',')) { this.i++; continue; }
      if (isSym(p, ')')) { this.i++; break; }
      this.awaitingMeasure = saved;
      throw this.err(p ?? open, p ? `expected ',' or ')' in the argument list, found '${p.t === 'cmd' ? '\\' + p.v : p.v}'` : "unclosed '('", p ? undefined : "add ')'");
    }
    this.awaitingMeasure = saved;
    return args;
  }

  /** Parse until a closing token; for ( [ \{ \langle | groups. */
  private parseDelimited(close: (t: Tok | undefined) => boolean, open: Tok, what: string): TNode {
    const saved = this.awaitingMeasure;
    this.awaitingMeasure = 0;
    const e = this.parseExpr();
    let out: TNode = e;
    const r = relationAt(this.toks, this.i);
    if (r && (r.rel === '<' || r.rel === '>' || r.rel === '\\ge' || r.rel === '\\le')) {
      this.i += r.len;
      const b = this.parseExpr();
      out = { k: 'cmp', op: cmpOf(r.rel), a: e, b, pos: open };
    }
    this.awaitingMeasure = saved;
    if (!close(this.peek())) {
      const p = this.peek();
      throw this.err(p ?? open, p ? `expected the end of ${what}, found '${p.t === 'cmd' ? '\\' + p.v : p.v}'` : `unclosed ${what}`);
    }
    this.i++;
    return out;
  }

  private parsePrimary(): TNode {
    const t = this.next();
    const pos: Pos = { line: t.line, col: t.col };
    switch (t.t) {
      case 'num': return { k: 'num', v: Number(t.v), pos };
      case 'letter': return this.nameTail(t.v, t.v, pos);
      case 'lb': {
        this.i--;
        const toks = this.argTokens();
        const inner = this.parseGroup(toks, pos, 'group');
        // a braced name can still take subscripts/arguments: {x}_i(t)
        if (inner.k === 'name' && (this.peek()?.t === 'sub' || isSym(this.peek(), '('))) return this.nameTail(inner.base, inner.tex, pos);
        return inner;
      }
      case 'sym': {
        if (t.v === '(') return this.parseDelimited((x) => isSym(x, ')'), t, "'(…)'");
        if (t.v === '[') return this.parseDelimited((x) => isSym(x, ']'), t, "'[…]'");
        if (t.v === '|') {
          this.inAbs++;
          try { return { k: 'fn', fn: 'abs', args: [this.parseDelimited((x) => isSym(x, '|'), t, "'|…|'")], pos }; } finally { this.inAbs--; }
        }
        if (t.v in UNICODE_GREEK) return this.nameTail(greekKey(UNICODE_GREEK[t.v]), '\\' + UNICODE_GREEK[t.v], pos);
        if (t.v === '∞') return { k: 'num', v: Infinity, pos };
        throw this.err(t, `unexpected '${t.v}'`);
      }
      case 'cmd': return this.parseCommand(t, pos);
      case 'rb': throw this.err(t, "unexpected '}'");
      case 'sup': case 'sub': throw this.err(t, `unexpected '${t.v}' (nothing to attach it to)`);
      default: throw this.err(t, `unexpected '${t.v}'`);
    }
  }

  private parseCommand(t: Tok, pos: Pos): TNode {
    const v = t.v;
    if (GREEK.has(v)) {
      if (v === 'delta') return this.parseDelta(pos);
      return this.nameTail(greekKey(v), '\\' + v, pos);
    }
    if (v in FN_CMDS) return this.parseFunction(FN_CMDS[v], pos);
    switch (v) {
      case 'frac': case 'dfrac': case 'tfrac': case 'cfrac': return this.parseFrac(pos);
      case 'sqrt': {
        if (isSym(this.peek(), '[')) {
          this.i++;
          const deg = this.parseDelimited((x) => isSym(x, ']'), t, "the root's degree");
          const arg = this.parseGroup(this.argTokens(), pos, '\\sqrt argument');
          return { k: 'pow', base: arg, exp: { k: 'div', num: { k: 'num', v: 1, pos }, den: deg, pos }, pos };
        }
        return { k: 'fn', fn: 'sqrt', args: [this.parseGroup(this.argTokens(), pos, '\\sqrt argument')], pos };
      }
      case 'langle': {
        const body = this.parseDelimited((x) => isCmd(x, 'rangle') || isSym(x, '⟩'), t, '\\langle … \\rangle');
        return { k: 'avg', body, pos };
      }
      case 'int': case 'intop': return this.parseIntegral(pos);
      case 'sum': return this.parseSum(pos);
      case 'dot': {
        const toks = this.argTokens();
        const inner = this.parseGroup(toks, pos, '\\dot argument');
        if (inner.k !== 'name') throw this.err(pos, '\\dot applies to a variable name', 'write \\dot{x}(t)');
        const target = this.nameTail(inner.base, inner.tex, pos);
        return { k: 'deriv', target, pos };
      }
      case 'partial': {
        if (this.peek()?.t === 'sub') {
          this.i++;
          this.argTokens(); // the time: ∂_t
          const target = this.parseFactor();
          return { k: 'deriv', target, pos };
        }
        throw this.err(pos, '\\partial is read as \\partial_t x(t) or in \\frac{\\partial x}{\\partial t}');
      }
      case 'infty': return { k: 'num', v: Infinity, pos };
      case 'lvert': case 'vert': case 'lVert':
        return { k: 'fn', fn: 'abs', args: [this.parseDelimited((x) => isCmd(x, 'rvert') || isCmd(x, 'vert') || isCmd(x, 'rVert'), { ...t }, '\\lvert … \\rvert')], pos };
      case '{': return this.parseDelimited((x) => isCmd(x, '}'), t, '\\{ … \\}');
      case 'lbrack': return this.parseDelimited((x) => isCmd(x, 'rbrack'), t, '\\lbrack … \\rbrack');
      case 'ell': case 'hbar': case 'imath': return this.nameTail('\\' + v, '\\' + v, pos);
    }
    if (FONT_CMDS.has(v)) {
      const toks = this.argTokens();
      // an escaped underscore is part of a word: \mathrm{\_\_x} is the name __x
      const word = toks.map((x) => (x.t === 'cmd' && x.v === '_' ? '_' : x.v)).join('');
      if (toks.every((x) => x.t === 'letter' || x.t === 'num' || (x.t === 'sym' && x.v === ' ') || (x.t === 'cmd' && x.v === '_'))) {
        if (word in FN_WORDS && (v === 'operatorname' || v === 'mathrm' || v === 'text')) return this.parseFunction(FN_WORDS[word], pos);
        const written = `\\${v}{${word.replace(/_/g, '\\_')}}`;
        if (word.length === 1) return this.nameTail(word, written, pos);
        if (word === 'e' || word === 'd') return this.nameTail(word, word, pos);
        return this.nameTail(word, written, pos);
      }
      // \mathbf{\eta}, \boldsymbol{\xi}: the font is dropped
      if (toks.length === 1 && toks[0].t === 'cmd' && GREEK.has(toks[0].v)) return this.nameTail(greekKey(toks[0].v), '\\' + toks[0].v, pos);
      return this.parseGroup(toks, pos, `\\${v}{…}`);
    }
    if (SCRIPT_FONTS.has(v)) {
      const toks = this.argTokens();
      const word = toks.map((x) => x.v).join('');
      if (v === 'mathbb' && word === 'E') return this.parseExpectation(pos);
      return this.nameTail(`\\${v}{${word}}`, `\\${v}{${word}}`, pos);
    }
    if (ACCENTS.has(v)) {
      const toks = this.argTokens();
      const inner = this.parseGroup(toks, pos, `\\${v} argument`);
      if (inner.k !== 'name') throw this.err(pos, `\\${v} applies to a name`);
      const acc = v === 'widehat' ? 'hat' : v === 'widetilde' ? 'tilde' : v === 'overline' ? 'bar' : v;
      return this.nameTail(`\\${acc}{${inner.key}}`, `\\${v}{${inner.tex}}`, pos);
    }
    if (v === 'E' || v === 'Exp' || v === 'EE') return this.parseExpectation(pos);
    // any other command is a name (\Theta(t-s), a user symbol); the resolver decides
    if (['cdot', 'times', 'rangle', 'rvert', 'end', 'begin'].includes(v)) throw this.err(t, `unexpected '\\${v}'`);
    return this.nameTail('\\' + v, '\\' + v, pos);
  }

  /** \mathbb{E}[…], \mathbb{E}\left[…\right], \mathbb{E}_{η}[…], \mathbb{E}\{…\} */
  private parseExpectation(pos: Pos): TNode {
    if (this.peek()?.t === 'sub') { this.i++; this.argTokens(); }
    const o = this.next();
    if (isSym(o, '[')) return { k: 'avg', body: this.parseDelimited((x) => isSym(x, ']'), o, '\\mathbb{E}[…]'), pos };
    if (isSym(o, '(')) return { k: 'avg', body: this.parseDelimited((x) => isSym(x, ')'), o, '\\mathbb{E}(…)'), pos };
    if (isCmd(o, '{')) return { k: 'avg', body: this.parseDelimited((x) => isCmd(x, '}'), o, '\\mathbb{E}\\{…\\}'), pos };
    throw this.err(o, '\\mathbb{E} must be followed by […]', 'write \\mathbb{E}[x(t)x(s)]');
  }

  /** \tanh(x), \tanh x, \tanh^2(x), \exp\left(…\right), \log x(t) */
  private parseFunction(fn: string, pos: Pos): TNode {
    let power: TNode | undefined;
    if (this.peek()?.t === 'sup') {
      this.i++;
      const at = this.here();
      power = this.parseGroup(this.argTokens(), at, 'exponent');
    }
    let arg: TNode;
    const p = this.peek();
    if (isSym(p, '(')) {
      this.i++;
      arg = this.parseDelimited((x) => isSym(x, ')'), p!, `\\${fn}(…)`);
    } else if (isSym(p, '[')) {
      this.i++;
      arg = this.parseDelimited((x) => isSym(x, ']'), p!, `\\${fn}[…]`);
    } else if (p?.t === 'lb') {
      arg = this.parseGroup(this.argTokens(), this.here(), `\\${fn}{…}`);
    } else {
      arg = this.parseFactor();
    }
    const call: TNode = { k: 'fn', fn, args: [arg], pos };
    return power ? { k: 'pow', base: call, exp: power, pos } : call;
  }

  /** \delta(t - s) (Dirac), or a differential δx(t) of a functional derivative. */
  private parseDelta(pos: Pos): TNode {
    if (isSym(this.peek(), '(')) {
      this.i++;
      const arg = this.parseDelimited((x) => isSym(x, ')'), { t: 'sym', v: '(', ...pos }, '\\delta(…)');
      return { k: 'fn', fn: 'delta', args: [arg], pos };
    }
    if (this.peek()?.t === 'sub') throw this.err(pos, 'Kronecker deltas \\delta_{ij} belong to the model, not to the single-site process', 'the verifier reads single-site equations');
    const target = this.parseFactor();
    return { k: 'dvar', target, pos };
  }

  private isDiff(toks: Tok[], k: number): number {
    const t = toks[k];
    if (!t) return 0;
    if (t.t === 'letter' && t.v === 'd') return 1;
    if (t.t === 'cmd' && t.v === 'partial') return 1;
    if (t.t === 'cmd' && FONT_CMDS.has(t.v)) {
      if (toks[k + 1]?.t === 'lb' && toks[k + 2]?.v === 'd' && toks[k + 3]?.t === 'rb') return 4;
      if (toks[k + 1]?.t === 'letter' && toks[k + 1].v === 'd') return 2;
    }
    return 0;
  }

  /** \frac{A}{B}: a time derivative, a functional derivative or a quotient. */
  private parseFrac(pos: Pos): TNode {
    const A = this.argTokens();
    const B = this.argTokens();
    const dB = this.isDiff(B, 0);
    // d/dt: B = d t (the time may be any single name)
    if (dB && B.length - dB >= 1 && B.length - dB <= 3) {
      const dA = this.isDiff(A, 0);
      if (dA && dA === A.length) {
        // operator form \frac{d}{dt} x(t)
        const target = this.parseFactor();
        return { k: 'deriv', target, pos };
      }
      if (dA) {
        const target = this.parseGroup(A.slice(dA), pos, 'derivative numerator');
        return { k: 'deriv', target, pos };
      }
    }
    if (isCmd(A[0], 'delta') && !isSym(A[1], '(') && isCmd(B[0], 'delta')) {
      const num = this.parseGroup(A.slice(1), pos, 'functional derivative numerator');
      const den = this.parseGroup(B.slice(1), pos, 'functional derivative denominator');
      return { k: 'fder', num, den, pos };
    }
    if (isCmd(A[0], 'partial') && isCmd(B[0], 'partial') && A.length > 1) {
      const num = this.parseGroup(A.slice(1), pos, 'derivative numerator');
      const den = this.parseGroup(B.slice(1), pos, 'derivative denominator');
      return { k: 'fder', num, den, pos };
    }
    const num = this.parseGroup(A, pos, '\\frac numerator');
    const den = this.parseGroup(B, pos, '\\frac denominator');
    return { k: 'div', num, den, pos };
  }

  /** _{j} or _{j=1}^{N} then the summand (a product). */
  private parseSum(pos: Pos): TNode {
    let index: Tok[] | undefined, upper: Tok[] | undefined;
    for (let n = 0; n < 2; n++) {
      const p = this.peek();
      if (p?.t === 'sub') { this.i++; index = this.argTokens(); } else if (p?.t === 'sup') { this.i++; upper = this.argTokens(); }
    }
    const body = this.parseTerm();
    return upper ? { k: 'sum', index, upper, body, pos } : { k: 'sum', index, body, pos };
  }

  /** \int_lo^hi, measure before (ds\, f) or after (f\, ds) the body. */
  private parseIntegral(pos: Pos): TNode {
    let lo: TNode | undefined, hi: TNode | undefined;
    for (let n = 0; n < 2; n++) {
      const p = this.peek();
      if (p?.t === 'sub' && !lo) { this.i++; const at = this.here(); lo = this.parseGroup(this.argTokens(), at, 'lower limit'); }
      else if (p?.t === 'sup' && !hi) { this.i++; const at = this.here(); hi = this.parseGroup(this.argTokens(), at, 'upper limit'); }
    }
    if (!lo || !hi) throw this.err(pos, 'an integral needs both limits', 'write \\int_0^t ds\\, …');
    let v: NameNode | undefined;
    const m = this.measureAt(0);
    if (m) {
      this.i += m;
      v = this.parseMeasureVar();
      const body = this.parseTerm();
      return { k: 'int', v, lo, hi, body, pos };
    }
    this.awaitingMeasure++;
    let body: TNode;
    try {
      body = this.parseTerm();
      // a trailing measure may also close a sum: \int_0^t a(s) + b(s)\, ds
      const terms: TNode[] = [body];
      while ((isSym(this.peek(), '+') || isSym(this.peek(), '-')) && this.trailingMeasureLater()) {
        const sg = this.next();
        const tp = this.here();
        const tt = this.parseTerm();
        terms.push(sg.v === '-' ? { k: 'neg', a: tt, pos: tp } : tt);
      }
      if (terms.length > 1) body = { k: 'add', terms, pos: terms[0].pos };
    } finally {
      this.awaitingMeasure--;
    }
    const m2 = this.measureAt(0);
    if (m2) { this.i += m2; v = this.parseMeasureVar(); }
    return { k: 'int', v, lo, hi, body, pos };
  }

  /** Is a measure ahead before the end of the current group (at depth 0)? */
  private trailingMeasureLater(): boolean {
    let d = 0;
    for (let j = this.i; j < this.toks.length; j++) {
      const t = this.toks[j];
      if (t.t === 'lb' || isSym(t, '(') || isSym(t, '[') || isCmd(t, 'langle')) d++;
      else if (t.t === 'rb' || isSym(t, ')') || isSym(t, ']') || isCmd(t, 'rangle')) { if (--d < 0) return false; }
      else if (d === 0 && relationAt(this.toks, j)) return false;
      else if (d === 0 && isCmd(t, 'int')) return false;
      else if (d === 0) {
        const save = this.i;
        this.i = j;
        const m = this.measureAt(0);
        this.i = save;
        if (m) return true;
      }
    }
    return false;
  }

  private parseMeasureVar(): NameNode {
    const t = this.next();
    const pos: Pos = { line: t.line, col: t.col };
    let n: TNode;
    if (t.t === 'letter') n = this.nameTail(t.v, t.v, pos, { noApply: true });
    else if (t.t === 'cmd' && GREEK.has(t.v)) n = this.nameTail(greekKey(t.v), '\\' + t.v, pos, { noApply: true });
    else throw this.err(t, 'expected the integration variable after d');
    return n as NameNode;
  }
}

function cmpOf(rel: string): CmpOp {
  return rel === '\\ge' ? '>=' : rel === '\\le' ? '<=' : (rel as CmpOp);
}

export function nameKey(n: Pick<NameNode, 'base' | 'subKey' | 'star' | 'primes' | 'supTag'>): string {
  let k = n.base;
  if (n.subKey !== undefined) k += `_{${n.subKey}}`;
  if (n.star) k += '^{*}';
  if (n.supTag !== undefined) k += `^{(${n.supTag})}`;
  k += "'".repeat(n.primes);
  return k;
}

/** Parse a stand-alone LaTeX fragment (e.g. a --map entry or our printer's output). */
export function parseFragment(tex: string, file = '<fragment>'): TNode {
  // reuse the file reader for tokenization: wrap in \[ \]
  const rows = readMath(`\\[${tex}\\]`, file);
  if (rows.length !== 1) throw new Error(`cannot read '${tex}' as one expression`);
  const row = rows[0];
  const p = new TexParser(row.toks, file, { line: row.line, col: row.col + row.text.length });
  const e = p.parseExpr();
  if (!p.atEnd()) throw new Error(`cannot read '${tex}' as one expression`);
  return e;
}
