// The rule-expression language: model-language expressions plus wildcards and
// the DMFT-level nodes. Full reference in docs/rules.md. Summary:
//
//   numbers, names, + - * / ^, unary minus, ( ), comparisons > < >= <=
//   f(x) for f in tanh exp log sqrt abs erf relu sigmoid sin cos sign delta
//   sum(i, body)  mean(i, body)
//   x[i,j]  x[i](t)        indexed quantity, optionally at a time
//   x(t)    x[](t)  x[]    single-site variable (ref with no index)
//   @avg(pop, body)        ⟨body⟩ over the single-site process of pop
//   @int(v, lo, hi, body)  ∫_lo^hi dv body
//   @op(name, t, s)        order parameter applied to times
//   pi, inf                reserved symbols (π, +∞)
// templates (right-hand sides) only:
//   @subst(body, v, value) body with the free symbol v replaced by value
//   @diff(body, v)         ∂body/∂v (see canon.ts `diff`)
//   @name(args…)           a registered builder (builders.ts), e.g. @limit(_c)
// wildcards (any name starting with _):
//   _a, _f, _foo   any expression          _c, _c1, _c2   constant
//   _n, _n1        numeric literal          __rest         sequence (the other
//   _              anonymous (unbound)                     terms of a + / factors of a *)
// In a NAME position (ref name, index, sum/mean index, avg population, int
// variable, op name, @subst/@diff variable) a wildcard stands for a name.
//
// Patterns are ordinary Expr trees: a wildcard is sym('_a') in expression
// positions and the string '_a' in name positions; @subst/@diff are call
// nodes with fn '@subst' / '@diff'.
import { DmftError } from '../errors.ts';
import type { CmpOp, Expr } from '../expr/ast.ts';
import { FUNCTIONS } from '../expr/functions.ts';
import { builders, getBuilder } from './builders.ts';

/** Functions allowed in rule expressions (the model language's plus δ and
 *  the functional derivative fder(f(t), eta(s)) = δf(t)/δη(s)). */
export const RULE_FUNCTIONS: Record<string, number> = { ...FUNCTIONS, delta: 1, fder: 2 };
/** Template-only meta functions and their arities. */
export const META_FUNCTIONS: Record<string, number> = { '@subst': 3, '@diff': 2 };
/** Reserved symbols: π and +∞ (an integration limit). */
export const RESERVED_SYMBOLS = ['pi', 'inf'] as const;

export type WildKind = 'any' | 'const' | 'num' | 'seq';

/** Is this name a wildcard? */
export const isWild = (name: string): boolean => name.startsWith('_');

/** The type of a wildcard from its name, or undefined for an ordinary name:
 *  `__x` sequence, `_c`/`_c1`… constant, `_n`/`_n1`… numeric literal, else any. */
export function wildKind(name: string): WildKind | undefined {
  if (!name.startsWith('_')) return undefined;
  if (name.startsWith('__')) return 'seq';
  if (/^_c\d*$/.test(name)) return 'const';
  if (/^_n\d*$/.test(name)) return 'num';
  return 'any';
}

/** Is e a wildcard in expression position? */
export const isWildExpr = (e: Expr): e is Extract<Expr, { k: 'sym' }> => e.k === 'sym' && e.name.startsWith('_');

// ---- tokenizer -----------------------------------------------------------

interface Tok { kind: 'num' | 'ident' | 'punct' | 'eof'; text: string; value?: number; pos: number }

function tokenize(src: string, file: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (/[A-Za-z_]/.test(c)) {
      const s = i;
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i])) i++;
      out.push({ kind: 'ident', text: src.slice(s, i), pos: s });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(src.slice(i))!;
      out.push({ kind: 'num', text: m[0], value: Number(m[0]), pos: i });
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) fail(src, file, i, `a number cannot be followed by a name`, 'write the product with *, e.g. 2*_a');
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '>=' || two === '<=') { out.push({ kind: 'punct', text: two, pos: i }); i += 2; continue; }
    if ('()[],+-*/^<>@'.includes(c)) { out.push({ kind: 'punct', text: c, pos: i }); i++; continue; }
    fail(src, file, i, `unexpected character '${c}'`, 'see docs/rules.md for the rule-expression syntax');
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

function fail(src: string, file: string, pos: number, message: string, hint?: string, expected?: string): never {
  const err = new DmftError({ file, line: 1, col: pos + 1, len: 1, message, hint, expected });
  err.sourceLine = src;
  throw err;
}

// ---- parser ------------------------------------------------------------------

/** Parse a rule expression (pattern or template). `file` names the source in
 *  errors, e.g. the rule id. */
export function parsePattern(src: string, file = '<pattern>'): Expr {
  const p = new PatternParser(src, file);
  const e = p.expr();
  p.end();
  return e;
}

class PatternParser {
  private toks: Tok[];
  private i = 0;
  private anon = 0;
  constructor(private src: string, private file: string) { this.toks = tokenize(src, file); }

  private get t(): Tok { return this.toks[this.i]; }
  private is(text: string): boolean { return this.t.kind === 'punct' && this.t.text === text; }
  private accept(text: string): boolean { if (this.is(text)) { this.i++; return true; } return false; }
  private err(message: string, hint?: string, expected?: string): never { return fail(this.src, this.file, this.t.pos, message, hint, expected); }
  private expect(text: string, hint?: string): void {
    if (!this.accept(text)) this.err(`expected '${text}', found ${this.t.kind === 'eof' ? 'end of input' : `'${this.t.text}'`}`, hint, `'${text}'`);
  }
  end(): void { if (this.t.kind !== 'eof') this.err(`unexpected '${this.t.text}' after the end of the expression`); }

  /** a name position: an identifier (possibly a wildcard) */
  private name(what: string): string {
    if (this.t.kind !== 'ident') this.err(`expected ${what}, found ${this.t.kind === 'eof' ? 'end of input' : `'${this.t.text}'`}`, undefined, what);
    const n = this.t.text;
    this.i++;
    return n === '_' ? `_$${++this.anon}` : n;
  }

  expr(): Expr {
    const a = this.additive();
    for (const op of ['>=', '<=', '>', '<'] as CmpOp[]) {
      if (this.accept(op)) return { k: 'cmp', op, a, b: this.additive() };
    }
    return a;
  }

  private additive(): Expr {
    const terms = [this.multiplicative()];
    for (;;) {
      if (this.accept('+')) terms.push(this.multiplicative());
      else if (this.accept('-')) terms.push(negate(this.multiplicative()));
      else break;
    }
    return terms.length === 1 ? terms[0] : { k: 'add', terms };
  }

  private multiplicative(): Expr {
    const factors = [this.unary()];
    for (;;) {
      if (this.accept('*')) factors.push(this.unary());
      else if (this.accept('/')) factors.push({ k: 'pow', base: this.unary(), exp: { k: 'num', v: -1 } });
      else break;
    }
    return factors.length === 1 ? factors[0] : { k: 'mul', factors };
  }

  private unary(): Expr {
    if (this.accept('-')) return negate(this.unary());
    if (this.accept('+')) return this.unary();
    const base = this.primary();
    if (this.accept('^')) return { k: 'pow', base, exp: this.unary() };
    return base;
  }

  private args(): Expr[] {
    this.expect('(');
    const out = [this.expr()];
    while (this.accept(',')) out.push(this.expr());
    this.expect(')');
    return out;
  }

  private primary(): Expr {
    const t = this.t;
    if (t.kind === 'num') { this.i++; return { k: 'num', v: t.value! }; }
    if (this.accept('(')) { const e = this.expr(); this.expect(')', 'unbalanced parenthesis'); return e; }
    if (this.accept('@')) return this.dmftNode();
    if (t.kind !== 'ident') this.err(`expected an expression, found ${t.kind === 'eof' ? 'end of input' : `'${t.text}'`}`);
    this.i++;
    const name = t.text === '_' ? `_$${++this.anon}` : t.text;
    if ((name === 'sum' || name === 'mean') && this.is('(')) {
      this.i++;
      const index = this.name('the summation index');
      this.expect(',', `write ${name}(j, body)`);
      const body = this.expr();
      this.expect(')');
      return { k: name, index, body };
    }
    if (name in RULE_FUNCTIONS && this.is('(')) {
      const args = this.args();
      if (args.length !== RULE_FUNCTIONS[name]) fail(this.src, this.file, t.pos, `${name} takes ${RULE_FUNCTIONS[name]} argument(s), found ${args.length}`);
      return { k: 'call', fn: name, args };
    }
    if (this.accept('[')) {
      const idx: string[] = [];
      if (!this.is(']')) {
        idx.push(this.name('an index name'));
        while (this.accept(',')) idx.push(this.name('an index name'));
      }
      this.expect(']');
      if (this.is('(')) {
        const a = this.args();
        if (a.length !== 1) fail(this.src, this.file, t.pos, `a variable takes one time, found ${a.length}`, `for an order parameter write @op(${name}, …)`);
        return { k: 'ref', name, idx, at: a[0] };
      }
      return { k: 'ref', name, idx };
    }
    if (this.is('(')) {
      const a = this.args();
      if (a.length !== 1) {
        fail(this.src, this.file, t.pos, `'${name}(…)' with ${a.length} arguments: unknown function`,
          `a single-site variable at a time is x(t); an order parameter is @op(${name}, ${a.map(() => '…').join(', ')})`);
      }
      return { k: 'ref', name, idx: [], at: a[0] };
    }
    return { k: 'sym', name };
  }

  private dmftNode(): Expr {
    const kw = this.t;
    const what = this.name('avg, int, op, subst or diff after @');
    this.expect('(', `write @${what}(…)`);
    let out: Expr;
    switch (what) {
      case 'avg': {
        const pop = this.name('a population name');
        this.expect(',', 'write @avg(pop, body)');
        out = { k: 'avg', pop, body: this.expr() };
        break;
      }
      case 'int': {
        const v = this.name('the integration variable');
        this.expect(',', 'write @int(v, lo, hi, body)');
        const lo = this.expr();
        this.expect(',', 'write @int(v, lo, hi, body)');
        const hi = this.expr();
        this.expect(',', 'write @int(v, lo, hi, body)');
        out = { k: 'int', v, lo, hi, body: this.expr() };
        break;
      }
      case 'op': {
        const name = this.name('an order-parameter name');
        const args: Expr[] = [];
        while (this.accept(',')) args.push(this.expr());
        out = { k: 'op', name, args };
        break;
      }
      case 'subst': {
        const body = this.expr();
        this.expect(',', 'write @subst(body, v, value)');
        const v = this.name('the variable to replace');
        this.expect(',', 'write @subst(body, v, value)');
        out = { k: 'call', fn: '@subst', args: [body, { k: 'sym', name: v }, this.expr()] };
        break;
      }
      case 'diff': {
        const body = this.expr();
        this.expect(',', 'write @diff(body, v)');
        const v = this.name('the variable to differentiate by');
        out = { k: 'call', fn: '@diff', args: [body, { k: 'sym', name: v }] };
        break;
      }
      default: {
        // a named builder (src/rewrite/builders.ts), replacement only
        const b = getBuilder(what);
        if (!b) {
          fail(this.src, this.file, kw.pos, `unknown node '@${what}'`, `one of @avg(pop, body), @int(v, lo, hi, body), @op(name, t, …), @subst(body, v, value), @diff(body, v), or a registered builder${builders().length ? ` (${builders().map((x) => x.name).join(', ')})` : ''}; the derivation's builders are registered by src/derive/registry.ts`);
        }
        const args: Expr[] = [];
        if (!this.is(')')) {
          args.push(this.expr());
          while (this.accept(',')) args.push(this.expr());
        }
        if (args.length < b.arity[0] || args.length > b.arity[1]) fail(this.src, this.file, kw.pos, `@${what} takes ${b.arity[0]}${b.arity[1] !== b.arity[0] ? `–${b.arity[1]}` : ''} argument(s), found ${args.length}`);
        out = { k: 'call', fn: `@${what}`, args };
      }
    }
    this.expect(')');
    return out;
  }
}

function negate(e: Expr): Expr {
  if (e.k === 'num') return { k: 'num', v: -e.v };
  return { k: 'mul', factors: [{ k: 'num', v: -1 }, e] };
}

// ---- inspection helpers ----------------------------------------------------

export interface WildcardUse {
  name: string;
  kind: WildKind;
  /** occurs in an expression position */
  asExpr: boolean;
  /** occurs in a name position (ref name, index, binder, population, op name) */
  asName: boolean;
}

/** Every wildcard of a pattern or template, with how it is used. */
export function wildcards(p: Expr): Map<string, WildcardUse> {
  const out = new Map<string, WildcardUse>();
  const use = (name: string, asExpr: boolean) => {
    if (!isWild(name)) return;
    const u = out.get(name) ?? { name, kind: wildKind(name)!, asExpr: false, asName: false };
    if (asExpr) u.asExpr = true; else u.asName = true;
    out.set(name, u);
  };
  const go = (e: Expr): void => {
    switch (e.k) {
      case 'sym': use(e.name, true); return;
      case 'ref': use(e.name, false); e.idx.forEach((i) => use(i, false)); break;
      case 'sum': case 'mean': use(e.index, false); break;
      case 'avg': use(e.pop, false); break;
      case 'int': use(e.v, false); break;
      case 'op': use(e.name, false); break;
      case 'call':
        if (e.fn in META_FUNCTIONS) {
          go(e.args[0]);
          const v = e.args[1];
          if (v.k === 'sym') use(v.name, false);
          if (e.args[2]) go(e.args[2]);
          return;
        }
    }
    switch (e.k) {
      case 'ref': if (e.at) go(e.at); return;
      case 'add': e.terms.forEach(go); return;
      case 'mul': e.factors.forEach(go); return;
      case 'pow': go(e.base); go(e.exp); return;
      case 'call': e.args.forEach(go); return;
      case 'cmp': go(e.a); go(e.b); return;
      case 'sum': case 'mean': case 'avg': go(e.body); return;
      case 'int': go(e.lo); go(e.hi); go(e.body); return;
      case 'op': e.args.forEach(go); return;
      default: return;
    }
  };
  go(p);
  return out;
}
