// Pattern matching and template instantiation for rule expressions
// (syntax: pattern.ts, docs/rules.md).
//
// Semantics, in short:
//  - Patterns and subjects are compared in canonical form (canon.ts): the
//    engine canonicalizes both; `match` itself expects canonical input.
//  - `_x` binds any subexpression; a repeated `_x` must bind equal (canonical)
//    subexpressions. Typed: `_c…` constant (see `isConstant`), `_n…` a number.
//  - Sums and products match associatively-commutatively: each ordinary
//    pattern term/factor takes exactly ONE term/factor of the subject, in any
//    order; a sequence wildcard `__r` (at most one per sum/product) takes all
//    the others, possibly none, and binds their sum/product (0 or 1 if none).
//    A sum/product pattern also matches a subject that is not a sum/product,
//    as a one-element sum/product.
//  - The numeric coefficient of a product is ONE factor (-2*x*y has the
//    factors -2, x, y). Numbers written in a product pattern must equal the
//    subject's coefficient, except -1: `-_a*_b` matches any product with a
//    negative coefficient c, leaving |c| as a factor. A number times a single
//    wildcard (`-_x`, `2*_x`) is matched by division: `-_x` matches anything
//    with a negative coefficient (_x = −subject), `2*_x` anything whose
//    coefficient is exactly 2.
//  - In name positions a wildcard binds a name: it is stored as sym(name)
//    (ref(name) when it was bound as the name of an indexed quantity, so
//    that `_x[_i] → _x(t)` and `_w[_i] → _w[]`… keep refs refs); the same
//    wildcard in an expression position then matches that symbol.
//  - A guard (the rule's side condition) is checked on each complete match;
//    when it fails the search backtracks to the next match.
import { type Expr, children } from '../expr/ast.ts';
import { asRational, canon, ckey, cadd, cmul, diff, rationalExpr, rat, splitCoef, substAtom, type Rational } from '../expr/canon.ts';
import { META_FUNCTIONS, isWild, wildKind } from './pattern.ts';
import { getBuilder, isBuilderCall } from './builders.ts';

export type Bindings = Record<string, Expr>;

export class RewriteError extends Error {
  constructor(message: string) { super(message); this.name = 'RewriteError'; }
}

export interface MatchOptions {
  /** checked on every complete match; returning false continues the search */
  guard?: (b: Bindings) => boolean;
  /** names bound by enclosing integrals (not constants) */
  bound?: ReadonlySet<string>;
  /** which free symbols are times (not constants); default `isTimeSymbol` */
  isTime?: (name: string) => boolean;
}

/** Default time symbols: t, s, u, tau, optionally followed by digits or
 *  primes spelled p (t1, s2, tp). Integration variables bound by an enclosing
 *  `int` are also non-constant. */
export const isTimeSymbol = (name: string): boolean => /^(t|s|u|tau)(\d*|p+)$/.test(name);

interface Ctx { bound: ReadonlySet<string>; isTime: (n: string) => boolean; guard?: (b: Bindings) => boolean }
type K = (b: Bindings) => Bindings | null;

/** Constant: numbers, parameters and sizes combined by arithmetic and
 *  elementary functions — no refs, order parameters, averages, integrals,
 *  sums, δ, times or integration variables. */
export function isConstant(e: Expr, bound: ReadonlySet<string> = new Set(), isTime: (n: string) => boolean = isTimeSymbol): boolean {
  switch (e.k) {
    case 'num': return true;
    case 'sym': return !bound.has(e.name) && !isTime(e.name);
    case 'add': case 'mul': case 'pow': case 'cmp': return children(e).every((c) => isConstant(c, bound, isTime));
    case 'call': return e.fn !== 'delta' && e.args.every((c) => isConstant(c, bound, isTime));
    default: return false;
  }
}

/** The name a binding stands for in a name position (sym, or ref without
 *  indices and time), else undefined. */
export function nameOf(e: Expr): string | undefined {
  if (e.k === 'sym') return e.name;
  if (e.k === 'ref' && e.idx.length === 0 && !e.at) return e.name;
  return undefined;
}

const sameExpr = (a: Expr, b: Expr): boolean => a === b || ckey(canon(a)) === ckey(canon(b));
const qEq = (a: Rational, p: number, q = 1) => a.p === p && a.q === q;

/** Normalize user-supplied bindings: strings are names; expressions are canonicalized. */
export function toBindings(b: Record<string, Expr | string> | undefined): Bindings {
  const out: Bindings = {};
  if (b) for (const [k, v] of Object.entries(b)) {
    if (!isWild(k)) throw new RewriteError(`binding '${k}': wildcard names start with '_'`);
    if (typeof v === 'string' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
      throw new RewriteError(`binding ${k}: '${v}' is not a name; strings bind names — pass an expression (e.g. parsePattern('${v}')) for anything else`);
    }
    out[k] = typeof v === 'string' ? { k: 'sym', name: v } : canon(v);
  }
  return out;
}

/** Match a (canonical) pattern against a (canonical) expression. Returns the
 *  bindings of the first match (extending `b`), or null. */
export function match(p: Expr, e: Expr, b: Bindings = {}, opts: MatchOptions = {}): Bindings | null {
  const ctx: Ctx = { bound: opts.bound ?? new Set(), isTime: opts.isTime ?? isTimeSymbol, guard: opts.guard };
  return m(p, e, b, ctx, (bb) => (ctx.guard && !ctx.guard(bb) ? null : bb));
}

function bindExpr(name: string, e: Expr, b: Bindings, ctx: Ctx, k: K): Bindings | null {
  if (name.startsWith('_$')) return k(b); // anonymous
  const prev = b[name];
  if (prev !== undefined) return sameExpr(prev, e) ? k(b) : null;
  const kind = wildKind(name);
  if (kind === 'const' && !isConstant(e, ctx.bound, ctx.isTime)) return null;
  if (kind === 'num' && asRational(e) === undefined) return null;
  return k({ ...b, [name]: e });
}

function bindName(pn: string, en: string, fromRef: boolean, b: Bindings, k: K): Bindings | null {
  if (!isWild(pn)) return pn === en ? k(b) : null;
  if (pn.startsWith('_$')) return k(b);
  const prev = b[pn];
  if (prev !== undefined) return nameOf(prev) === en ? k(b) : null;
  return k({ ...b, [pn]: fromRef ? { k: 'ref', name: en, idx: [] } : { k: 'sym', name: en } });
}

function bindNames(ps: string[], es: string[], refAt: number, b: Bindings, k: K, i = 0): Bindings | null {
  if (i === ps.length) return k(b);
  return bindName(ps[i], es[i], i === refAt, b, (bb) => bindNames(ps, es, refAt, bb, k, i + 1));
}

function mList(ps: Expr[], es: Expr[], b: Bindings, ctx: Ctx, k: K, i = 0): Bindings | null {
  if (i === ps.length) return k(b);
  return m(ps[i], es[i], b, ctx, (bb) => mList(ps, es, bb, ctx, k, i + 1));
}

function m(p: Expr, e: Expr, b: Bindings, ctx: Ctx, k: K): Bindings | null {
  switch (p.k) {
    case 'sym':
      if (isWild(p.name)) return bindExpr(p.name, e, b, ctx, k);
      return e.k === 'sym' && e.name === p.name ? k(b) : null;
    case 'num':
      return e.k === 'num' && (e.v === p.v || (Number.isNaN(e.v) && Number.isNaN(p.v))) ? k(b) : null;
    case 'ref':
      if (e.k !== 'ref' || e.idx.length !== p.idx.length || !e.at !== !p.at) return null;
      return bindNames([p.name, ...p.idx], [e.name, ...e.idx], 0, b, (bb) => (p.at ? m(p.at, e.at!, bb, ctx, k) : k(bb)));
    case 'pow':
      if (e.k !== 'pow') return null;
      return m(p.base, e.base, b, ctx, (bb) => m(p.exp, e.exp, bb, ctx, k));
    case 'call':
      if (p.fn in META_FUNCTIONS || isBuilderCall(p)) throw new RewriteError(`${p.fn}(…) can only be used in a replacement (right-hand side), not in a pattern`);
      if (e.k !== 'call' || e.fn !== p.fn || e.args.length !== p.args.length) return null;
      return mList(p.args, e.args, b, ctx, k);
    case 'cmp':
      if (e.k !== 'cmp' || e.op !== p.op) return null;
      return m(p.a, e.a, b, ctx, (bb) => m(p.b, e.b, bb, ctx, k));
    case 'sum': case 'mean':
      if (e.k !== p.k) return null;
      return bindName(p.index, e.index, false, b, (bb) => m(p.body, e.body, bb, ctx, k));
    case 'avg':
      if (e.k !== 'avg') return null;
      return bindName(p.pop, e.pop, false, b, (bb) => m(p.body, e.body, bb, ctx, k));
    case 'int': {
      if (e.k !== 'int') return null;
      const inner: Ctx = { ...ctx, bound: new Set([...ctx.bound, e.v]) };
      return bindName(p.v, e.v, false, b, (b1) => m(p.lo, e.lo, b1, ctx, (b2) => m(p.hi, e.hi, b2, ctx, (b3) => m(p.body, e.body, b3, inner, k))));
    }
    case 'op':
      if (e.k !== 'op' || e.args.length !== p.args.length) return null;
      return bindName(p.name, e.name, false, b, (bb) => mList(p.args, e.args, bb, ctx, k));
    case 'add':
      return acAdd(p, e, b, ctx, k);
    case 'mul':
      return acMul(p, e, b, ctx, k);
  }
}

function isSeq(p: Expr): p is Extract<Expr, { k: 'sym' }> {
  return p.k === 'sym' && p.name.startsWith('__');
}

// per-pattern-node analysis, computed once (patterns are long-lived)
interface NaryInfo { fixed: Expr[]; seq?: string; pc: Rational }
const naryCache = new WeakMap<Expr, NaryInfo>();
function naryInfo(p: Extract<Expr, { k: 'add' | 'mul' }>): NaryInfo {
  let info = naryCache.get(p);
  if (info) return info;
  if (p.k === 'add') info = { ...splitPattern(p.terms, 'sum'), pc: rat(1) };
  else {
    let pc: Rational = rat(1);
    const rest: Expr[] = [];
    for (const f of p.factors) {
      const r = asRational(f);
      if (r) pc = rat(pc.p * r.p, pc.q * r.q); else rest.push(f);
    }
    info = { ...splitPattern(rest, 'product'), pc };
  }
  naryCache.set(p, info);
  return info;
}

function splitPattern(items: Expr[], what: string): { fixed: Expr[]; seq?: string } {
  const fixed: Expr[] = [];
  let seq: string | undefined;
  for (const x of items) {
    if (isSeq(x)) {
      if (seq !== undefined) throw new RewriteError(`a ${what} pattern may have one sequence wildcard, found ${seq} and ${x.name}`);
      seq = x.name;
    } else fixed.push(x);
  }
  // most constrained first: no wildcard at the top, then typed, then plain wildcards
  const prio = (x: Expr) => (x.k !== 'sym' || !isWild(x.name) ? 0 : wildKind(x.name) === 'any' ? 2 : 1);
  fixed.sort((a, c) => prio(a) - prio(c));
  return { fixed, seq };
}

function acAdd(p: Extract<Expr, { k: 'add' }>, e: Expr, b: Bindings, ctx: Ctx, k: K): Bindings | null {
  const { fixed, seq } = naryInfo(p);
  const elems = e.k === 'add' ? e.terms : e.k === 'num' && e.v === 0 ? [] : [e];
  return acMatch(fixed, elems, seq, 'add', b, ctx, k);
}

function acMul(p: Extract<Expr, { k: 'mul' }>, e: Expr, b: Bindings, ctx: Ctx, k: K): Bindings | null {
  // the pattern's numeric coefficient and elements
  const { fixed, seq, pc } = naryInfo(p);
  const { coef: d, rest: eRest } = splitCoef(e);
  const ef = eRest === undefined ? [] : eRest.k === 'mul' ? eRest.factors : [eRest];
  const hasPc = !qEq(pc, 1);
  const dNeg = d.p < 0;
  // a number times a single wildcard: match by division
  if (hasPc && seq === undefined && fixed.length === 1 && fixed[0].k === 'sym' && isWild(fixed[0].name)) {
    let left: Rational;
    if (d.p === pc.p && d.q === pc.q) left = rat(1);
    else if (qEq(pc, -1) && dNeg) left = rat(-d.p, d.q);
    else return null;
    const value = cmul(rationalExpr(left), eRest ?? { k: 'num', v: 1 });
    return bindExpr(fixed[0].name, value, b, ctx, k);
  }
  let elems = ef;
  if (hasPc) {
    if (d.p === pc.p && d.q === pc.q) elems = ef;
    else if (qEq(pc, -1) && dNeg) elems = qEq(d, -1) ? ef : [rationalExpr(rat(-d.p, d.q)), ...ef];
    else return null;
  } else if (!qEq(d, 1)) elems = [rationalExpr(d), ...ef];
  return acMatch(fixed, elems, seq, 'mul', b, ctx, k);
}

function acMatch(ps: Expr[], es: Expr[], seq: string | undefined, op: 'add' | 'mul', b: Bindings, ctx: Ctx, k: K): Bindings | null {
  if (seq === undefined ? ps.length !== es.length : ps.length > es.length) return null;
  const used = new Array<boolean>(es.length).fill(false);
  const rec = (i: number, bb: Bindings): Bindings | null => {
    if (i === ps.length) {
      if (seq === undefined) return k(bb);
      const left = es.filter((_, j) => !used[j]);
      const value = op === 'add' ? cadd(...left) : cmul(...left);
      return bindExpr(seq, value, bb, ctx, k);
    }
    const tried = new Set<string>();
    for (let j = 0; j < es.length; j++) {
      if (used[j]) continue;
      const kj = ckey(es[j]);
      if (tried.has(kj)) continue; // identical elements give identical results
      tried.add(kj);
      used[j] = true;
      const r = m(ps[i], es[j], bb, ctx, (b2) => rec(i + 1, b2));
      used[j] = false;
      if (r) return r;
    }
    return null;
  };
  return rec(0, b);
}

// ---- instantiation ---------------------------------------------------------

/** How builder calls are evaluated during an instantiation: with the
 *  caller's environment (each call and its value appended to `built`), or
 *  replayed from a recorded step (`replay` returns the recorded value). */
export interface InstCtx {
  env?: unknown;
  built?: { call: Expr; value: Expr }[];
  replay?: (call: Expr) => Expr | undefined;
}

/** Replace the wildcards of a template by their bindings, evaluate @subst,
 *  @diff and builder calls, and canonicalize. Throws RewriteError on an
 *  unbound wildcard (supply it with `bind`) or a name position bound to a
 *  non-name. */
export function instantiate(t: Expr, b: Bindings, ic: InstCtx = {}): Expr {
  return canon(inst(t, b, ic));
}

function build(t: Extract<Expr, { k: 'call' }>, b: Bindings, ic: InstCtx): Expr {
  const call: Expr = { k: 'call', fn: t.fn, args: t.args.map((a) => canon(inst(a, b, ic))) };
  if (ic.replay) {
    const v = ic.replay(call);
    if (v === undefined) throw new RewriteError(`no recorded value for ${t.fn}(…) with these arguments`);
    return v;
  }
  const entry = getBuilder(t.fn.slice(1));
  if (!entry) throw new RewriteError(`unknown builder ${t.fn}`);
  const value = canon(entry.fn((call as Extract<Expr, { k: 'call' }>).args, ic.env));
  ic.built?.push({ call, value });
  return value;
}

function instName(n: string, b: Bindings): string {
  if (!isWild(n)) return n;
  const v = b[n];
  if (v === undefined) throw new RewriteError(`wildcard ${n} is not bound (it appears only in the replacement: supply it with bind: { ${n}: … })`);
  const name = nameOf(v);
  if (name === undefined) throw new RewriteError(`wildcard ${n} stands for a name here but is bound to an expression (${ckey(v)})`);
  return name;
}

function inst(t: Expr, b: Bindings, ic: InstCtx): Expr {
  switch (t.k) {
    case 'num': return t;
    case 'sym': {
      if (!isWild(t.name)) return t;
      if (t.name.startsWith('_$')) throw new RewriteError(`the anonymous wildcard _ cannot be used in a replacement`);
      const v = b[t.name];
      if (v === undefined) throw new RewriteError(`wildcard ${t.name} is not bound (it appears only in the replacement: supply it with bind: { ${t.name}: … })`);
      return v;
    }
    case 'ref': {
      const out: Expr = { k: 'ref', name: instName(t.name, b), idx: t.idx.map((i) => instName(i, b)) };
      return t.at ? { ...out, at: inst(t.at, b, ic) } : out;
    }
    case 'sum': case 'mean': return { k: t.k, index: instName(t.index, b), body: inst(t.body, b, ic) };
    case 'avg': return { k: 'avg', pop: instName(t.pop, b), body: inst(t.body, b, ic) };
    case 'int': return { k: 'int', v: instName(t.v, b), lo: inst(t.lo, b, ic), hi: inst(t.hi, b, ic), body: inst(t.body, b, ic) };
    case 'op': return { k: 'op', name: instName(t.name, b), args: t.args.map((a) => inst(a, b, ic)) };
    case 'call': {
      if (t.fn === '@subst' || t.fn === '@diff') {
        // the variable: a literal name, or a wildcard bound to a symbol (a
        // name) or to an atom such as eta(t)
        const v = t.args[1];
        if (v.k !== 'sym') throw new RewriteError(`${t.fn}: the second argument must be a name or a wildcard`);
        let atom: Expr = v;
        if (isWild(v.name)) {
          const bv = b[v.name];
          if (bv === undefined) throw new RewriteError(`wildcard ${v.name} is not bound (it appears only in the replacement: supply it with bind: { ${v.name}: … })`);
          atom = bv;
        }
        const body = canon(inst(t.args[0], b, ic));
        return t.fn === '@subst' ? substAtom(body, atom, canon(inst(t.args[2], b, ic))) : diff(body, atom);
      }
      if (isBuilderCall(t)) return build(t as Extract<Expr, { k: 'call' }>, b, ic);
      return { k: 'call', fn: t.fn, args: t.args.map((a) => inst(a, b, ic)) };
    }
    case 'add': return { k: 'add', terms: t.terms.map((x) => inst(x, b, ic)) };
    case 'mul': return { k: 'mul', factors: t.factors.map((x) => inst(x, b, ic)) };
    case 'pow': return { k: 'pow', base: inst(t.base, b, ic), exp: inst(t.exp, b, ic) };
    case 'cmp': return { k: 'cmp', op: t.op, a: inst(t.a, b, ic), b: inst(t.b, b, ic) };
  }
}
