// Canonical form of expression trees, so that equal equations compare equal
// with `key` (and `equal`). Also `expand` (distribute products over sums) and
// `diff` (symbolic derivative), the two algebra helpers the rules need.
//
// What canon does (and only this — everything semantic is a named rule in
// rules/*.rules.json, so that the derivation trace shows it):
//  - flattens nested add/mul; add() → 0, mul() → 1, one child → the child;
//  - folds numbers EXACTLY when they come from integers: rationals p/q are
//    kept as the factors num(p) · pow(num(q), -1) (printed p/q), so 2*x/2 → x
//    and x/3*3 → x with no rounding. A non-integer decimal written in the
//    input (0.1) is an inexact float; anything mixed with a float is a float.
//  - collects like terms (coefficient × monomial): x - x → 0, 2x + 3x → 5x;
//  - collects like factors by summing exponents (symbolic exponents too):
//    x*x → x^2, g^2/N * N → g^2, x^a * x^b → x^(a+b), x/x → 1;
//  - (a^b)^c → a^(b·c) and (a·b)^c → a^c·b^c for INTEGER c only (always valid);
//    x^1 → x, x^0 → 1 (also 0^0), 1^x → 1, 0^(positive number) → 0, 0·… → 0;
//  - numeric base with a rational exponent: the integer part of the exponent
//    is folded into the coefficient (2^(3/2) → 2·2^(1/2)); exact roots are
//    taken (4^(1/2) → 2);
//  - distributes a numeric coefficient over a sum when the product is exactly
//    coefficient × one sum: 2*(x+y) → 2x + 2y, -(a-b) → b - a. This makes
//    "2(x+y) − 2x − 2y" vanish without expanding anything else; products of
//    sums are NOT expanded (use `expand`);
//  - folds elementary functions and comparisons only when the result is an
//    exact rational: abs/sign/relu of a rational, sqrt of a perfect square,
//    f(0) for f(0) ∈ {0, 1, 1/2} (exp, log(1), tanh, sin, cos, erf, sigmoid);
//    exp(1), tanh(0.3)… stay symbolic;
//  - sorts terms and factors by a total order (a kind rank, then the key):
//    in products the numeric coefficient comes first; in sums the constant
//    comes last, terms are ordered by their monomial (coefficient ignored);
//  - canonicalizes inside every node: ref times, call args, cmp, sum, mean,
//    avg, int (limits and body), op args.
//
// Cost: one bottom-up pass, each node once; keys are memoized per node and
// results of canon are remembered (a hidden per-node flag), so
// re-canonicalizing a tree in which one subtree changed only redoes the path
// to the root. Recursion depth = tree depth (fine to a few thousand levels).
import { type Expr, children, withChildren, mapPost } from './ast.ts';
import { substSyms } from './subst.ts';
import { functionDef } from './functions.ts';

// ---- memoized keys (same strings as ast.ts `key`) --------------------------

// Per-node memo (key string, canonical flag), stored in a non-enumerable
// symbol property: invisible to JSON, spread, Object.keys and test equality,
// and not copied by {...e} (so a modified copy is never mistaken for
// canonical). Much cheaper than WeakMap/WeakSet, whose ephemeron tables made
// GC dominate on large trees. Frozen nodes fall back to a WeakMap.
const MEMO = Symbol('dmftkit.canon');
interface Memo { key?: string; canon?: boolean }
const frozenMemo = new WeakMap<Expr, Memo>();
function memo(e: Expr): Memo {
  const m = (e as { [MEMO]?: Memo })[MEMO];
  if (m) return m;
  const fresh: Memo = {};
  if (Object.isExtensible(e)) Object.defineProperty(e, MEMO, { value: fresh, enumerable: false });
  else {
    const f = frozenMemo.get(e);
    if (f) return f;
    frozenMemo.set(e, fresh);
  }
  return fresh;
}

/** `key(e)` from ast.ts, memoized per node (trees are immutable). */
export function ckey(e: Expr): string {
  if (e.k === 'sym') return e.name;
  if (e.k === 'num') return Object.is(e.v, -0) ? '0' : String(e.v);
  const mm = memo(e);
  if (mm.key !== undefined) return mm.key;
  let s: string;
  switch (e.k) {
    case 'ref': s = `${e.name}[${e.idx.join(',')}]` + (e.at ? `(${ckey(e.at)})` : ''); break;
    case 'add': s = `(+ ${e.terms.map(ckey).join(' ')})`; break;
    case 'mul': s = `(* ${e.factors.map(ckey).join(' ')})`; break;
    case 'pow': s = `(^ ${ckey(e.base)} ${ckey(e.exp)})`; break;
    case 'call': s = `${e.fn}(${e.args.map(ckey).join(',')})`; break;
    case 'cmp': s = `(${e.op} ${ckey(e.a)} ${ckey(e.b)})`; break;
    case 'sum': s = `(sum ${e.index} ${ckey(e.body)})`; break;
    case 'mean': s = `(mean ${e.index} ${ckey(e.body)})`; break;
    case 'avg': s = `<${e.pop}| ${ckey(e.body)}>`; break;
    case 'int': s = `(int ${e.v} ${ckey(e.lo)} ${ckey(e.hi)} ${ckey(e.body)})`; break;
    case 'op': s = `${e.name}{${e.args.map(ckey).join(',')}}`; break;
  }
  mm.key = s;
  return s;
}

// ---- exact rationals ---------------------------------------------------

/** A number p/q: q a positive integer; when p is not an integer (an inexact
 *  float) q is 1. */
export interface Rational { p: number; q: number }

const ONE: Rational = { p: 1, q: 1 };
const ZERO: Rational = { p: 0, q: 1 };
const SAFE = Number.MAX_SAFE_INTEGER;

function gcd(a: number, b: number): number {
  a = Math.abs(a); b = Math.abs(b);
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}
const exact = (r: Rational): boolean => Number.isInteger(r.p) && Number.isInteger(r.q);

export function rat(p: number, q = 1): Rational {
  if (q < 0) { p = -p; q = -q; }
  if (Number.isInteger(p) && Number.isInteger(q) && q !== 0) {
    if (Math.abs(p) > SAFE || q > SAFE) return { p: p / q, q: 1 };
    const g = gcd(p, q) || 1;
    return { p: p / g + 0, q: q / g };
  }
  return { p: p / q + 0, q: 1 };
}
const qIsInt = (r: Rational) => r.q === 1 && Number.isInteger(r.p);
const qEq = (a: Rational, b: Rational) => a.p === b.p && a.q === b.q;
const qVal = (r: Rational) => r.p / r.q;
function qmul(a: Rational, b: Rational): Rational {
  if (exact(a) && exact(b)) {
    const p = a.p * b.p, q = a.q * b.q;
    if (Math.abs(p) <= SAFE && q <= SAFE) return rat(p, q);
  }
  return rat(qVal(a) * qVal(b));
}
function qadd(a: Rational, b: Rational): Rational {
  if (exact(a) && exact(b)) {
    const p = a.p * b.q + b.p * a.q, q = a.q * b.q;
    if (Math.abs(p) <= SAFE && q <= SAFE) return rat(p, q);
  }
  return rat(qVal(a) + qVal(b));
}
/** r^n for an integer n; undefined for 0^negative. */
function qpowInt(r: Rational, n: number): Rational | undefined {
  if (r.p === 0 && n < 0) return undefined;
  if (exact(r)) {
    const p = r.p ** Math.abs(n), q = r.q ** Math.abs(n);
    if (Math.abs(p) <= SAFE && q <= SAFE) return n >= 0 ? rat(p, q) : rat(q, p);
  }
  return rat(qVal(r) ** n);
}

/** The rational value of a numeric canonical expression (num, 1/q, p/q). */
export function asRational(e: Expr): Rational | undefined {
  if (e.k === 'num') return rat(e.v);
  if (e.k === 'pow' && e.base.k === 'num' && e.exp.k === 'num' && e.exp.v === -1 && Number.isInteger(e.base.v) && e.base.v > 1) return { p: 1, q: e.base.v };
  if (e.k === 'mul' && e.factors.length === 2 && e.factors[0].k === 'num' && Number.isInteger(e.factors[0].v)) {
    const d = asRational(e.factors[1]);
    if (d && d.p === 1 && d.q > 1) return rat(e.factors[0].v, d.q);
  }
  return undefined;
}

/** Canonical factors of a coefficient: [num(p)] and/or [pow(num(q), -1)]. */
function coefFactors(r: Rational): Expr[] {
  const out: Expr[] = [];
  if (r.p !== 1) out.push({ k: 'num', v: r.p });
  if (r.q !== 1) out.push({ k: 'pow', base: { k: 'num', v: r.q }, exp: { k: 'num', v: -1 } });
  return out;
}

/** The canonical expression of a rational number. */
export function rationalExpr(r: Rational): Expr {
  const f = coefFactors(r);
  if (f.length === 0) return mark({ k: 'num', v: 1 });
  if (f.length === 1) return mark(f[0]);
  return mark({ k: 'mul', factors: f });
}

/** Is this canonical factor part of a product's numeric coefficient? */
function isCoefFactor(f: Expr): boolean {
  return f.k === 'num' || (f.k === 'pow' && f.base.k === 'num' && f.exp.k === 'num' && f.exp.v === -1 && Number.isInteger(f.base.v) && f.base.v > 1);
}

/** Split a canonical term into numeric coefficient and the rest (monomial;
 *  undefined for a pure number). */
export function splitCoef(e: Expr): { coef: Rational; rest: Expr | undefined } {
  const r = asRational(e);
  if (r) return { coef: r, rest: undefined };
  if (e.k !== 'mul') return { coef: ONE, rest: e };
  let coef = ONE;
  let i = 0;
  while (i < e.factors.length && isCoefFactor(e.factors[i])) {
    const f = e.factors[i];
    coef = qmul(coef, f.k === 'num' ? rat(f.v) : { p: 1, q: (f as { base: { v: number } }).base.v });
    i++;
  }
  if (i === 0) return { coef, rest: e };
  const rest = e.factors.slice(i);
  return { coef, rest: rest.length === 1 ? rest[0] : mark({ k: 'mul', factors: rest }) };
}

// ---- ordering ------------------------------------------------------------

function rank(e: Expr): number {
  switch (e.k) {
    case 'num': return 0;
    case 'sym': return 1;
    case 'ref': return 2;
    case 'op': return 3;
    case 'pow': return rank(e.base);
    case 'call': return 5;
    case 'sum': case 'mean': return 6;
    case 'avg': return 7;
    case 'int': return 8;
    case 'cmp': return 9;
    case 'add': return 10;
    case 'mul': {
      const f = e.factors.find((x) => !isCoefFactor(x));
      return f ? rank(f) : 0;
    }
  }
}

/** Total order on canonical expressions (kind rank, then key). */
export function compareExpr(a: Expr, b: Expr): number {
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra - rb;
  const ka = ckey(a), kb = ckey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

// ---- canon -----------------------------------------------------------------

function mark<T extends Expr>(e: T): T { if (e.k !== 'num' && e.k !== 'sym') memo(e).canon = true; return e; }
const isMarked = (e: Expr): boolean => (e as { [MEMO]?: Memo })[MEMO]?.canon === true || (!Object.isExtensible(e) && frozenMemo.get(e)?.canon === true);
const N0 = (): Expr => mark({ k: 'num', v: 0 });
const N1 = (): Expr => mark({ k: 'num', v: 1 });

/** Is e already known to be canonical (produced by canon)? */
export function isCanonical(e: Expr): boolean { return e.k === 'sym' || (e.k === 'num' && !Object.is(e.v, -0)) || isMarked(e); }

/** The canonical form of e (see the header for what it normalizes). */
export function canon(e: Expr): Expr {
  // leaves are canonical as they are (but -0 → 0); they are not marked
  if (e.k === 'sym') return e;
  if (e.k === 'num') return Object.is(e.v, -0) ? { ...e, v: 0 } : e;
  if (isMarked(e)) return e;
  let out: Expr;
  switch (e.k) {
    case 'add':
      out = canonAdd(e.terms.map(canon));
      break;
    case 'mul':
      out = canonMul(e.factors.map(canon));
      break;
    case 'pow':
      out = canonPow(canon(e.base), canon(e.exp));
      break;
    case 'call':
      out = canonCall(e, e.args.map(canon));
      break;
    case 'cmp':
      out = canonCmp(e, canon(e.a), canon(e.b));
      break;
    default: {
      const c = children(e);
      if (c.length === 0) { out = e; break; }
      const cc = c.map(canon);
      out = cc.every((x, i) => x === c[i]) ? e : withChildren(e, cc);
    }
  }
  return mark(out);
}

/** add of canonical terms → canonical */
function canonAdd(terms: Expr[]): Expr {
  let constant = ZERO;
  const groups = new Map<string, { mono: Expr; coef: Rational }>();
  const push = (t: Expr) => {
    if (t.k === 'add') { for (const x of t.terms) push(x); return; }
    const { coef, rest } = splitCoef(t);
    if (rest === undefined) { constant = qadd(constant, coef); return; }
    const k = ckey(rest);
    const g = groups.get(k);
    if (g) g.coef = qadd(g.coef, coef);
    else groups.set(k, { mono: rest, coef });
  };
  for (const t of terms) push(t);
  const kept: { mono: Expr; coef: Rational }[] = [];
  for (const g of groups.values()) if (g.coef.p !== 0) kept.push(g);
  kept.sort((a, b) => compareExpr(a.mono, b.mono));
  const out: Expr[] = kept.map((g) => withCoef(g.coef, g.mono));
  if (constant.p !== 0) out.push(rationalExpr(constant));
  if (out.length === 0) return N0();
  if (out.length === 1) return out[0];
  return mark({ k: 'add', terms: out });
}

/** coef × canonical monomial (which has no numeric factors and is not an add). */
function withCoef(coef: Rational, mono: Expr): Expr {
  if (coef.p === 0) return N0();
  if (qEq(coef, ONE)) return mono;
  const cf = coefFactors(coef);
  if (mono.k === 'add') {
    // only reachable through expand/diff helpers: distribute
    return canonAdd(mono.terms.map((t) => { const s = splitCoef(t); return s.rest === undefined ? rationalExpr(qmul(coef, s.coef)) : withCoef(qmul(coef, s.coef), s.rest); }));
  }
  const fs = mono.k === 'mul' ? mono.factors : [mono];
  return mark({ k: 'mul', factors: [...cf, ...fs] });
}

/** mul of canonical factors → canonical */
function canonMul(factors: Expr[]): Expr {
  let coef = ONE;
  const groups = new Map<string, { base: Expr; exps: Expr[] }>();
  let again = false;
  let zero = false;
  const push = (f: Expr): boolean => {
    if (f.k === 'mul') { for (const x of f.factors) if (!push(x)) return false; return true; }
    if (f.k === 'num') {
      if (f.v === 0) { zero = true; return true; }
      coef = qmul(coef, rat(f.v));
      return true;
    }
    let base: Expr = f, ex: Expr | undefined;
    if (f.k === 'pow') { base = f.base; ex = f.exp; }
    if (ex && base.k === 'num') {
      const x = asRational(ex);
      if (x && qIsInt(x)) {
        const v = qpowInt(rat(base.v), x.p);
        if (v) { coef = qmul(coef, v); return true; }
      }
    }
    const k = ckey(base);
    const g = groups.get(k);
    if (g) g.exps.push(ex ?? N1());
    else groups.set(k, { base, exps: [ex ?? N1()] });
    return true;
  };
  for (const f of factors) if (!push(f)) return N0();
  if (zero) {
    // 0 × anything is 0, except 0 × a pole (0^(-k), as in (x − x)/(x − x)): that
    // product has no value, so the pole is kept and evaluates to ±∞, never to a silent 0
    const poles = [...groups.values()].filter((g) => g.base.k === 'num' && g.base.v === 0);
    if (poles.length === 0) return N0();
    return canonMul(poles.map((g) => mark({ k: 'pow', base: g.base, exp: canonAdd(g.exps) })));
  }
  const rest: Expr[] = [];
  for (const { base, exps } of groups.values()) {
    if (exps.length === 1 && !(exps[0].k === 'num' && exps[0].v === 1)) {
      rest.push(mark({ k: 'pow', base, exp: exps[0] }));
      continue;
    }
    if (exps.length === 1) { rest.push(base); continue; }
    const p = canonPow(base, canonAdd(exps));
    if (p.k === 'num' || p.k === 'mul' || (p.k === 'pow' && (p.base.k === 'pow' || p.base.k === 'mul'))) again = true;
    rest.push(p);
  }
  if (again) return canonMul([rationalExpr(coef), ...rest]);
  if (coef.p === 0) return N0();
  rest.sort(compareExpr);
  if (rest.length === 0) return rationalExpr(coef);
  if (rest.length === 1) {
    if (rest[0].k === 'add' && !qEq(coef, ONE)) return withCoef(coef, rest[0]);
    if (qEq(coef, ONE)) return rest[0];
  }
  return mark({ k: 'mul', factors: [...coefFactors(coef), ...rest] });
}

/** Exact integer c-th root of a non-negative safe integer, if there is one. */
function intRoot(n: number, c: number): number | undefined {
  const r = Math.round(n ** (1 / c));
  for (const x of [r - 1, r, r + 1]) if (x >= 0 && x ** c === n) return x;
  return undefined;
}

/** pow of canonical base and exponent → canonical */
function canonPow(b: Expr, x: Expr): Expr {
  const xq = asRational(x);
  if (xq && xq.p === 0) return N1();
  if (xq && qEq(xq, ONE)) return b;
  const bq = asRational(b);
  if (bq && qEq(bq, ONE)) return N1();
  if (bq && xq) {
    if (qIsInt(xq)) {
      const v = qpowInt(bq, xq.p);
      if (v) return rationalExpr(v);
    } else if (!exact(bq) || !exact(xq)) {
      const v = qVal(bq) ** qVal(xq);
      if (Number.isFinite(v)) return mark({ k: 'num', v: v + 0 });
    } else if (bq.p > 0) {
      // exact base, non-integer rational exponent a/c
      const a = xq.p, c = xq.q;
      const rp = intRoot(bq.p, c), rq = intRoot(bq.q, c);
      if (rp !== undefined && rq !== undefined) {
        const v = qpowInt(rat(rp, rq), a);
        if (v) return rationalExpr(v);
      }
      if (bq.q === 1) {
        const n = Math.floor(a / c);
        if (n !== 0) {
          const frac = rat(a - n * c, c);
          const whole = qpowInt(bq, n)!;
          return canonMul([rationalExpr(whole), mark({ k: 'pow', base: b, exp: rationalExpr(frac) })]);
        }
      }
    } else if (bq.p === 0 && qVal(xq) > 0) {
      return N0();
    }
    return mark({ k: 'pow', base: b, exp: x });
  }
  if (bq && bq.p === 0 && xq && qVal(xq) > 0) return N0();
  if (xq && qIsInt(xq)) {
    if (b.k === 'pow') return canonPow(b.base, canonMul([b.exp, x]));
    if (b.k === 'mul') return canonMul(b.factors.map((f) => canonPow(f, x)));
  }
  return mark({ k: 'pow', base: b, exp: x });
}

function canonCall(e: Extract<Expr, { k: 'call' }>, args: Expr[]): Expr {
  const same = args.every((a, i) => a === e.args[i]);
  const node = same ? e : { ...e, args };
  if (args.length !== 1) return node;
  const r = asRational(args[0]);
  if (!r || !exact(r)) return node;
  const v = functionDef(e.fn)?.exact?.(r.p, r.q);
  return v ? rationalExpr(rat(v[0], v[1])) : node;
}

function canonCmp(e: Extract<Expr, { k: 'cmp' }>, a: Expr, b: Expr): Expr {
  const ra = asRational(a), rb = asRational(b);
  if (ra && rb) {
    const x = qVal(ra), y = qVal(rb);
    const t = e.op === '>' ? x > y : e.op === '<' ? x < y : e.op === '>=' ? x >= y : x <= y;
    return mark({ k: 'num', v: t ? 1 : 0 });
  }
  return a === e.a && b === e.b ? e : { ...e, a, b };
}

// ---- constructors that return canonical trees ------------------------------

/** Canonical sum of canonical (or not) terms. */
export const cadd = (...terms: Expr[]): Expr => canonAdd(terms.map(canon));
/** Canonical product. */
export const cmul = (...factors: Expr[]): Expr => canonMul(factors.map(canon));
/** Canonical power. */
export const cpow = (base: Expr, exp: Expr): Expr => canonPow(canon(base), canon(exp));

// ---- expand ----------------------------------------------------------------

/** Largest number of terms `expand` will build before refusing. */
export const EXPAND_LIMIT = 20000;

/** Distribute products over sums and positive integer powers of sums
 *  (up to exponent 32), everywhere in the tree; the result is canonical. */
export function expand(e: Expr): Expr {
  return mapPost(canon(e), (x) => {
    const c = canon(x);
    if (c.k === 'mul' && c.factors.some((f) => f.k === 'add')) return expandProduct(c.factors);
    if (c.k === 'pow' && c.base.k === 'add') {
      const n = asRational(c.exp);
      if (n && qIsInt(n) && n.p > 1 && n.p <= 32) return expandProduct(Array(n.p).fill(c.base));
    }
    return c;
  });
}

function expandProduct(factors: Expr[]): Expr {
  let acc: Expr[] = [N1()];
  for (const f of factors) {
    const ts = f.k === 'add' ? f.terms : [f];
    if (acc.length * ts.length > EXPAND_LIMIT) throw new Error(`expand: more than ${EXPAND_LIMIT} terms; expand a smaller subexpression`);
    const next: Expr[] = [];
    for (const a of acc) for (const t of ts) next.push(canonMul([a, t]));
    acc = next;
  }
  return canonAdd(acc);
}

// ---- derivative ------------------------------------------------------------

/** Does e contain a free occurrence of the symbol `name` (int binders shadow)? */
export function hasSym(e: Expr, name: string): boolean {
  switch (e.k) {
    case 'sym': return e.name === name;
    case 'num': return false;
    case 'int': return hasSym(e.lo, name) || hasSym(e.hi, name) || (e.v !== name && hasSym(e.body, name));
    default: return children(e).some((c) => hasSym(c, name));
  }
}

/** ∂e/∂v. `v` is a symbol (a name or sym: a time, an integration or
 *  Gaussian variable, a parameter) or any other atom, typically a
 *  single-site variable such as eta(t): then every occurrence equal to it is
 *  the variable and everything else — including the same ref at other times
 *  — is held fixed (a partial derivative). Refs and order parameters whose
 *  arguments involve a symbol `v` are opaque: error.
 *  Derivatives in the distributional sense: sign' = 2δ, (a > b)' = δ(a − b)·(a − b)',
 *  relu' = (x > 0), abs' = sign. The result is canonical. */
export function diff(e: Expr, v: string | Expr): Expr {
  if (typeof v === 'string') return canon(d(canon(e), v));
  if (v.k === 'sym') return canon(d(canon(e), v.name));
  const tmp = '$d';
  const replaced = substAtom(canon(e), v, { k: 'sym', name: tmp });
  return canon(substAtom(canon(d(canon(replaced), tmp)), { k: 'sym', name: tmp }, canon(v)));
}

/** Replace every occurrence of the subexpression `atom` (compared in
 *  canonical form) by `value`; for a symbol, only free occurrences. */
export function substAtom(e: Expr, atom: Expr, value: Expr): Expr {
  if (atom.k === 'sym') return substSyms(e, { [atom.name]: value });
  const k = ckey(canon(atom));
  const go = (x: Expr): Expr => {
    if (x.k !== 'num' && x.k !== 'sym' && ckey(canon(x)) === k) return value;
    const c = children(x);
    if (!c.length) return x;
    const cc = c.map(go);
    return cc.every((y, i) => y === c[i]) ? x : withChildren(x, cc);
  };
  return go(e);
}

function d(e: Expr, x: string): Expr {
  if (!hasSym(e, x)) return N0();
  const D = (a: Expr) => d(a, x);
  switch (e.k) {
    case 'sym': return N1();
    case 'add': return canonAdd(e.terms.map(D));
    case 'mul': {
      const terms: Expr[] = [];
      e.factors.forEach((f, i) => {
        const df = D(f);
        if (df.k === 'num' && df.v === 0) return;
        terms.push(canonMul([...e.factors.slice(0, i), df, ...e.factors.slice(i + 1)]));
      });
      return canonAdd(terms);
    }
    case 'pow': {
      const { base: b, exp: n } = e;
      if (!hasSym(n, x)) return canonMul([n, canonPow(b, canonAdd([n, rationalExpr(rat(-1))])), D(b)]);
      // b^n (n' log b + n b'/b)
      return canonMul([e, canonAdd([canonMul([D(n), canonCall({ k: 'call', fn: 'log', args: [b] }, [b])]), canonMul([n, D(b), canonPow(b, rationalExpr(rat(-1)))])])]);
    }
    case 'call': {
      if (e.args.length !== 1) throw new Error(`diff: cannot differentiate ${e.fn} with ${e.args.length} arguments`);
      const a = e.args[0];
      const da = D(a);
      const f = functionDef(e.fn);
      if (!f) throw new Error(`diff: no derivative rule for ${e.fn}()`);
      const outer = canon(f.derivative(a));
      return canonMul([outer, da]);
    }
    case 'cmp': {
      const diffArg = canonAdd([e.a, canonMul([rationalExpr(rat(-1)), e.b])]);
      const sgn = e.op === '>' || e.op === '>=' ? 1 : -1;
      const dd = canonCall({ k: 'call', fn: 'delta', args: [diffArg] }, [diffArg]);
      return canonMul([rationalExpr(rat(sgn)), dd, D(diffArg)]);
    }
    case 'sum': case 'mean': case 'avg':
      return canon(withChildren(e, [D(e.body)]));
    case 'int': {
      // Leibniz: f(hi)·hi' − f(lo)·lo' + ∫ ∂f/∂x
      const parts: Expr[] = [];
      if (e.v !== x) {
        parts.push(canon({ ...e, body: D(e.body) }));
      }
      const at = (lim: Expr) => canon(substSyms(e.body, { [e.v]: lim }));
      parts.push(canonMul([at(e.hi), D(e.hi)]));
      parts.push(canonMul([rationalExpr(rat(-1)), at(e.lo), D(e.lo)]));
      return canonAdd(parts);
    }
    case 'ref': case 'op':
      throw new Error(`diff: ${e.k === 'ref' ? 'the variable' : 'the order parameter'} '${e.name}' depends on '${x}' through its arguments; its derivative is not known symbolically`);
    case 'num':
      return N0();
  }
}
