// Moments of the distributions of the language, as canonical expressions (so
// that uniform(-a, a) has mean exactly 0, whatever a is). The DMFT of dense
// i.i.d. couplings sees only their mean and variance; the fourth central
// moment decides whether a coupling is dense enough for the central limit
// theorem (see `denseOrder` in src/derive/couplings.ts).
import { add, mul, neg, num, pow, type Expr } from '../expr/ast.ts';
import { canon } from '../expr/canon.ts';
import type { Dist } from './ir.ts';

export interface Moments {
  mean: Expr;
  var: Expr;
  /** fourth central moment E[(A − mean)⁴] */
  mu4: Expr;
}

const frac = (a: number, b: number): Expr => mul(num(a), pow(num(b), num(-1)));

/** Mean, variance and fourth central moment of a distribution (canonical);
 *  undefined for white noise, which has no finite moments per time point. */
export function moments(d: Dist): Moments | undefined {
  switch (d.kind) {
    case 'normal':
      return { mean: canon(d.mean), var: canon(d.var), mu4: canon(mul(num(3), pow(d.var, num(2)))) };
    case 'uniform': {
      const width = add(d.hi, neg(d.lo));
      return {
        mean: canon(mul(frac(1, 2), add(d.lo, d.hi))),
        var: canon(mul(frac(1, 12), pow(width, num(2)))),
        mu4: canon(mul(frac(1, 80), pow(width, num(4)))),
      };
    }
    case 'bernoulli': {
      const q = add(num(1), neg(d.p));
      // p q (1 − 3 p q)
      return { mean: canon(d.p), var: canon(mul(d.p, q)), mu4: canon(mul(d.p, q, add(num(1), mul(num(-3), d.p, q)))) };
    }
    case 'white':
      return undefined;
  }
}

/** Is a canonical expression identically zero? */
export function isZeroExpr(e: Expr): boolean {
  const c = canon(e);
  return c.k === 'num' && c.v === 0;
}
