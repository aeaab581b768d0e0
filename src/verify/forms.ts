// Equivalent forms of the DMFT that are not two-time equations, brought to a form in which
// they compare with the derived two-time system:
//  - stationary (time-translation invariant): the ansatz C(t,s) = C(t − s), R(t,s) = R(t − s),
//    M(t) = M, memory integrals from the infinite past, substituted on both sides. C and δ are
//    even (C(−τ) = C(τ)); R is not. ∫_{−∞}^{a} f(v) dv and ∫_{a}^{∞} f(v) dv are written
//    ∫_0^∞ f(a ∓ u) du, so ∫_{−∞}^t R(t − s)x(s)ds and ∫_0^∞ R(τ)x(t − τ)dτ are the same term;
//  - static (the t → ∞ fixed point of relaxational dynamics): every variable and field frozen
//    at its fixed-point value, C(t,s) → q (the equal-time value of a frozen state), M(t) → M,
//    and a memory integral ∫₀ᵗ R(t,s) f(x(s)) ds → χ f(x*) with χ = ∫₀^∞ R(τ)dτ.
import { add, children, integral, mapPost, mul, num, op, withChildren, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { substSyms } from '../expr/subst.ts';
import type { OpInfo } from './normalize.ts';
import { ONE } from './resolve.ts';

/** suffix of a mean in the stationary state (a constant) */
export const CONST = '§0';
/** suffixes of the static values of a correlation (q) and a response (χ = ∫R) */
export const QSTAT = '§q';
export const CHI = '§chi';
/** the time of the fixed point */
export const FIXED = '§fix';

const isInf = (e: Expr, sign: 1 | -1) => e.k === 'num' && e.v === sign * Infinity;

/** Does e use a stationary form: a two-time order parameter with one argument, or an integral
 *  over an infinite range? */
export function isStationaryForm(e: Expr): boolean {
  if (e.k === 'op' && e.name.endsWith(ONE)) return true;
  if (e.k === 'int' && (isInf(e.lo, -1) || isInf(e.hi, 1))) return true;
  return children(e).some(isStationaryForm);
}

/** The representative of ±a (for even functions). */
function evenArg(a: Expr): Expr {
  const p = canon(a), m = canon(mul(num(-1), a));
  const neg = (x: Expr) => x.k === 'mul' && x.factors[0]?.k === 'num' && x.factors[0].v < 0;
  if (neg(p) !== neg(m)) return neg(p) ? m : p; // prefer C(τ) to C(−τ)
  return ckey(p) <= ckey(m) ? p : m;
}

let fresh = 0;

/** The stationary ansatz (see the header). Averages should be folded into order parameters first. */
export function stationarize(e: Expr, ops: Map<string, OpInfo>): Expr {
  const x1 = mapPost(e, (x) => {
    if (x.k === 'op') {
      const o = ops.get(x.name);
      if (!o) return x;
      if (x.name.endsWith(ONE)) return o.kind === 'C' && x.args.length === 1 ? { ...x, args: [evenArg(x.args[0])] } : x;
      if (o.arity === 2 && x.args.length === 2) {
        const d = add(x.args[0], mul(num(-1), x.args[1]));
        return op(x.name + ONE, o.kind === 'C' ? evenArg(d) : canon(d));
      }
      if (o.arity === 1 && o.kind === 'M' && ops.has(x.name + CONST)) return op(x.name + CONST);
      return x;
    }
    if (x.k === 'call' && x.fn === 'delta' && x.args.length === 1) return { ...x, args: [evenArg(x.args[0])] };
    // memory integrals ∫_0^t start in the infinite past
    if (x.k === 'int' && x.lo.k === 'num' && x.lo.v === 0 && !isInf(x.hi, 1)) return { ...x, lo: num(-Infinity) };
    return x;
  });
  return mapPost(x1, (x) => {
    if (x.k !== 'int') return x;
    const u = `§u${++fresh}`;
    const U = { k: 'sym', name: u } as Expr;
    if (isInf(x.lo, -1) && !isInf(x.hi, 1)) return integral(u, num(0), num(Infinity), canon(substSyms(x.body, { [x.v]: add(x.hi, mul(num(-1), U)) })));
    if (isInf(x.hi, 1) && !isInf(x.lo, -1) && !(x.lo.k === 'num' && x.lo.v === 0)) return integral(u, num(0), num(Infinity), canon(substSyms(x.body, { [x.v]: add(x.lo, U) })));
    return x;
  });
}

/** The static (fixed-point) form of e; see the header. Averages should be folded first. */
export function staticize(e: Expr, ops: Map<string, OpInfo>): Expr {
  const baseOf = (name: string) => (name.endsWith(ONE) ? name.slice(0, -ONE.length) : name.endsWith(CONST) ? name.slice(0, -CONST.length) : name);
  const kindOf = (name: string) => ops.get(baseOf(name))?.kind;
  const go = (x: Expr): Expr => {
    if (x.k === 'int') {
      // ∫ R(t, v) f(x(v)) dv (or ∫_0^∞ R(u) du): χ · f(x*)
      const body = canon(x.body);
      const fs = body.k === 'mul' ? body.factors : [body];
      const r = fs.find((f) => f.k === 'op' && kindOf(f.name) === 'R' && f.args.some((a) => a.k === 'sym' && a.name === x.v));
      if (r && r.k === 'op') {
        const rest = fs.filter((f) => f !== r).map(go);
        if (rest.every((f) => !mentionsSym(f, x.v))) return mul(op(baseOf(r.name) + CHI), ...rest);
      }
      return { ...x, lo: go(x.lo), hi: go(x.hi), body: go(x.body) };
    }
    if (x.k === 'ref' && x.at) return { ...x, at: { k: 'sym', name: FIXED } };
    if (x.k === 'op' && ops.has(baseOf(x.name))) {
      const k = kindOf(x.name);
      if (k === 'C') return op(baseOf(x.name) + QSTAT);
      if (k === 'M') return op(baseOf(x.name) + CONST);
    }
    const c = children(x);
    return c.length ? withChildren(x, c.map(go)) : x;
  };
  return canon(go(e));
}

function mentionsSym(e: Expr, name: string): boolean {
  if (e.k === 'sym') return e.name === name;
  return children(e).some((c) => mentionsSym(c, name));
}
