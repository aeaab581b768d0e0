// The Taylor constants of a kernel matrix's linear equivalent (El Karoui
// 2010; docs/spectrum.md, "Nonlinear matrices"): for K_ij = f(h_ij) with
// h_ij = O(1/√D) off the diagonal and h_ii → τ,
//   K ≈ [f(0) + f''(0)·s²/2]·11ᵀ + f'(0)·h + [f(τ) − f(0) − τ·f'(0)]·I.
// The derivatives are symbolic (src/expr/canon.ts `diff`), evaluated at 0;
// f must be smooth at 0 (no kink or jump of relu, abs, sign, comparisons
// there) and continuous at τ, otherwise the expansion does not hold and the
// caller refuses with the reason.
import { mapArithmetic, type Expr } from '../expr/ast.ts';
import { diff } from '../expr/canon.ts';
import { constantValue } from '../expr/eval.ts';
import { piecewiseOf } from './kinks.ts';

export interface KernelConstants { f0: number; f1: number; f2: number; ftau: number; tau: number }

/** Why f(x) (of the variable `x`) has no Taylor linear equivalent, or its constants. */
export function kernelConstants(f: Expr, x: string, tau: number): KernelConstants | { refusal: string } {
  const p = piecewiseOf(f, x);
  const near = p.breaks(-1e-6, 1e-6);
  if (near.length) return { refusal: `it is not differentiable at 0 (a kink or jump at ${near[0]})` };
  const jump = p.breaks(tau - 1e-9 * Math.max(1, tau), tau + 1e-9 * Math.max(1, tau));
  if (jump.length) return { refusal: `it has a kink or jump at the diagonal's value τ = ${tau}` };
  const at0 = (e: Expr): number | undefined => constantValue(substitute(e, x), {});
  let d1: Expr, d2: Expr;
  try { d1 = diff(f, x); d2 = diff(d1, x); } catch (e) { return { refusal: `its derivatives at 0 cannot be taken (${(e as Error).message})` }; }
  const f0 = at0(f), f1 = at0(d1), f2 = at0(d2), ftau = p.f(tau);
  const bad = ([['f(0)', f0], ["f'(0)", f1], ["f''(0)", f2], ['f(τ)', ftau]] as const).find(([, v]) => v === undefined || !Number.isFinite(v));
  if (bad) return { refusal: `${bad[0]} is not a finite number` };
  return { f0: f0!, f1: f1!, f2: f2!, ftau, tau };
}

/** e with the symbol x set to 0 */
function substitute(e: Expr, x: string): Expr {
  const go = (y: Expr): Expr => (y.k === 'sym' && y.name === x ? { k: 'num', v: 0 } : mapArithmetic(y, go));
  return go(e);
}
