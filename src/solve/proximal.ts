// The proximal continuation of the static driver (static-driver.ts; the
// sites in static-site.ts): a fixed point with zero modes
// (a gradient flow without a restoring force in some directions) is the
// ε → 0 limit of the fixed points with a proximal term −ε(x − x(0)), solved at
// ε = 1, 1/2, 1/4, … . These are the steps of that loop that do not depend on
// how a site is solved.
import { richardson } from '../numeric/extrapolate.ts';
import { table } from '../table.ts';

/** one solved point of the continuation: its ε, its order parameters, max |χ|·ε and its observables */
export interface ProximalPoint { eps: number; vals: ArrayLike<number>; chiEps: number; limit: Record<string, number> }

/** the last two points show zero modes: |χ|·ε stays O(1) and settles (χ ∝ 1/ε) */
export function zeroModesAt(pts: ProximalPoint[], k: number): boolean {
  const x = pts[k].chiEps, y = pts[k - 1].chiEps;
  return x > 1e-2 && y > 1e-2 && Math.abs(x - y) < 0.1 * x;
}

/** quadratic Richardson extrapolation to ε = 0 from the last three points; error: the larger of
 *  (quadratic − linear) and the change from the previous triple */
export function extrapolateToZero(pts: ProximalPoint[]): { limit: Record<string, number>; limitError: Record<string, number> } {
  const [s0, s1, s2, s3] = pts.slice(-4);
  const limit: Record<string, number> = table(), limitError: Record<string, number> = table();
  for (const k of Object.keys(s3.limit)) {
    const q1 = s1.limit[k], q2 = s2.limit[k], q3 = s3.limit[k];
    ({ value: limit[k], error: limitError[k] } = richardson([q1, q2, q3], 1));
    if (s0) limitError[k] = Math.max(limitError[k], Math.abs(limit[k] - richardson([s0.limit[k], q1, q2], 1).value));
  }
  return { limit, limitError };
}

/** the start at ε from the last two points, extrapolated in log ε (power laws such as χ ∝ 1/ε exactly) */
export function predictAt(eps: number, pts: ProximalPoint[]): number[] {
  const a1 = pts[pts.length - 1], a2 = pts[pts.length - 2];
  const f = Math.log(eps / a1.eps) / Math.log(a1.eps / a2.eps);
  return Array.from(a1.vals, (x, i) => {
    const y = a2.vals[i];
    if (x * y > 0) return Math.sign(x) * Math.exp(Math.log(Math.abs(x)) + f * (Math.log(Math.abs(x)) - Math.log(Math.abs(y))));
    return x + f * (x - y);
  });
}
