// Moments of the distributions of the language, as canonical expressions (so
// that uniform(-a, a) has mean exactly 0, whatever a is). The DMFT of dense
// i.i.d. couplings sees only their mean and variance; the fourth central
// moment decides whether a coupling is dense enough for the central limit
// theorem (see `denseOrder` in src/derive/couplings.ts).
import type { Expr } from '../expr/ast.ts';
import { canon } from '../expr/canon.ts';
import type { Dist, RandomDecl } from './ir.ts';
import { add, mul, num, pow } from '../expr/ast.ts';
import { distArgs, distDef } from './distributions.ts';

export interface Moments {
  mean: Expr;
  var: Expr;
  /** fourth central moment E[(A − mean)⁴] */
  mu4: Expr;
}

/** Mean, variance and fourth central moment of a distribution (canonical);
 *  undefined for white noise, which has no finite moments per time point. */
export function moments(d: Dist): Moments | undefined {
  const m = distDef(d).moments?.(distArgs(d));
  return m && { mean: canon(m.mean), var: canon(m.var), mu4: canon(m.mu4) };
}

/** Is a canonical expression identically zero? */
export function isZeroExpr(e: Expr): boolean {
  const c = canon(e);
  return c.k === 'num' && c.v === 0;
}

/** The moments of a random array's entries: those of its law, through the
 *  affine map a + b·X when it has one (src/model/affine.ts). */
export function randomMoments(r: RandomDecl): Moments | undefined {
  const m = moments(r.dist);
  if (!m || !r.affine) return m;
  const { a, b } = r.affine;
  return { mean: canon(add(a, mul(b, m.mean))), var: canon(mul(pow(b, num(2)), m.var)), mu4: canon(mul(pow(b, num(4)), m.mu4)) };
}
