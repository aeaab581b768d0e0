// Light, order-preserving clean-up of derived expressions for display:
// flatten sums and products, fold numbers, merge powers of the same base,
// drop neutral elements, and distribute constant coefficients over sums
// (−(1/α)(η + α∫…) → −(1/α)η − ∫…). Equality of systems uses the full
// canonical form (src/expr/canon.ts); this keeps the user's term order.
import { key, some, type Expr } from './ast.ts';

const isConstant = (e: Expr): boolean => !some(e, (x) => x.k === 'ref' || x.k === 'op' || x.k === 'int' || x.k === 'avg' || x.k === 'sum' || x.k === 'mean');

/** The factors of a product, with an integer power of a product spread over
 *  its factors ((αb)⁻¹ → α⁻¹ b⁻¹), so that α·R/(αb) shows as R/b. */
function flatFactors(f: Expr): Expr[] {
  if (f.k === 'mul') return f.factors.flatMap(flatFactors);
  if (f.k === 'pow' && f.base.k === 'mul' && f.exp.k === 'num' && Number.isInteger(f.exp.v)) {
    const n = f.exp.v;
    return f.base.factors.flatMap((g) => flatFactors(g.k === 'pow' && g.exp.k === 'num' ? { k: 'pow', base: g.base, exp: { k: 'num', v: g.exp.v * n } } : { k: 'pow', base: g, exp: { k: 'num', v: n } }));
  }
  return [f];
}

function tidyMul(factors: Expr[]): Expr {
  let c = 1;
  // base key → [base, summed numeric exponent]; keep first-seen order
  const groups = new Map<string, { base: Expr; exp: number | undefined; raw: Expr[] }>();
  for (const f of factors.flatMap(flatFactors)) {
    if (f.k === 'num') { c *= f.v; continue; }
    const base = f.k === 'pow' && f.exp.k === 'num' ? f.base : f;
    const e = f.k === 'pow' && f.exp.k === 'num' ? f.exp.v : f.k === 'pow' ? undefined : 1;
    const k = key(base);
    const g = groups.get(k);
    if (!g) groups.set(k, { base, exp: e, raw: [f] });
    else if (g.exp !== undefined && e !== undefined) { g.exp += e; g.raw.push(f); }
    else groups.set(`${k}#${groups.size}`, { base, exp: e, raw: [f] });
  }
  if (c === 0) return { k: 'num', v: 0 };
  const rest: Expr[] = [];
  for (const g of groups.values()) {
    if (g.exp === undefined) { rest.push(...g.raw); continue; }
    if (g.exp === 0) continue;
    rest.push(g.exp === 1 ? g.base : { k: 'pow', base: g.base, exp: { k: 'num', v: g.exp } });
  }
  const out = c === 1 ? rest : [{ k: 'num', v: c } as Expr, ...rest];
  if (out.length === 0) return { k: 'num', v: 1 };
  if (out.length === 1) return out[0];
  // distribute constant coefficients over a single sum factor
  const sums = out.filter((f) => f.k === 'add');
  if (sums.length === 1 && out.every((f) => f.k === 'add' || isConstant(f))) {
    const coef = out.filter((f) => f.k !== 'add');
    return tidyAdd((sums[0] as Extract<Expr, { k: 'add' }>).terms.map((t) => tidyMul([...coef, t])));
  }
  return { k: 'mul', factors: out };
}

function tidyAdd(terms: Expr[]): Expr {
  let c = 0;
  const rest: Expr[] = [];
  for (const t of terms.flatMap((t) => (t.k === 'add' ? t.terms : [t]))) {
    if (t.k === 'num') c += t.v; else rest.push(t);
  }
  const out = c === 0 ? rest : [...rest, { k: 'num', v: c } as Expr];
  return out.length === 0 ? { k: 'num', v: 0 } : out.length === 1 ? out[0] : { k: 'add', terms: out };
}

export function tidy(e: Expr): Expr {
  switch (e.k) {
    case 'num': case 'sym': return e;
    case 'ref': return e.at ? { ...e, at: tidy(e.at) } : e;
    case 'add': return tidyAdd(e.terms.map(tidy));
    case 'mul': return tidyMul(e.factors.map(tidy));
    case 'pow': {
      const base = tidy(e.base), exp = tidy(e.exp);
      if (exp.k === 'num' && exp.v === 1) return base;
      if (exp.k === 'num' && exp.v === 0) return { k: 'num', v: 1 };
      // fold a number's power only when the result is exact (2^3 → 8): 2^-1
      // stays 1/2 rather than the float 0.5, which canon treats as inexact
      if (base.k === 'num' && exp.k === 'num' && Number.isInteger(base.v) && Number.isInteger(exp.v) && exp.v >= 0 && Number.isSafeInteger(base.v ** exp.v)) return { k: 'num', v: base.v ** exp.v };
      if (base.k === 'pow' && base.exp.k === 'num' && exp.k === 'num' && Number.isInteger(exp.v)) return tidy({ k: 'pow', base: base.base, exp: { k: 'num', v: base.exp.v * exp.v } });
      return { ...e, base, exp };
    }
    case 'call': return { ...e, args: e.args.map(tidy) };
    case 'cmp': return { ...e, a: tidy(e.a), b: tidy(e.b) };
    case 'sum': case 'mean': case 'avg': return { ...e, body: tidy(e.body) };
    case 'int': return { ...e, lo: tidy(e.lo), hi: tidy(e.hi), body: tidy(e.body) };
    case 'op': return { ...e, args: e.args.map(tidy) };
  }
}
