// How fast an expression can grow with its variables: a term that grows
// faster than linearly (x^3, x*y, exp(x)) can carry a dynamics to infinity in
// finite time, which a linear instability cannot. Used to explain blow-ups.
import { children, type Expr } from './ast.ts';
import { functionDef } from './functions.ts';

/** Functions that stay bounded (or grow at most linearly) whatever their argument. */
const tame = (fn: string): boolean => functionDef(fn)?.growth === 'at-most-linear';

/** A term of e that grows faster than linearly in what `dep` marks (a product
 *  of two such factors, a power above 1, an exponential), if any. */
export function superlinear(e: Expr, dep: (x: Expr) => boolean): Expr | undefined {
  const has = (x: Expr): boolean => dep(x) || (!(x.k === 'call' && tame(x.fn)) && x.k !== 'cmp' && children(x).some(has));
  if (!has(e)) return undefined;
  if (e.k === 'mul' && e.factors.filter(has).length >= 2) return e;
  if (e.k === 'pow' && has(e.base) && !(e.exp.k === 'num' && e.exp.v <= 1)) return e;
  if (e.k === 'call' && functionDef(e.fn)?.growth === 'superlinear') return e;
  for (const c of children(e)) { const f = superlinear(c, dep); if (f) return f; }
  return undefined;
}
