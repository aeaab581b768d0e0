// One average of an observable over a site's stationary Gaussian law: the
// stationary solver's (linear sites in the frequency domain and the nonlinear
// shooting regime alike) way of turning a law into numbers.
//
// The body is a function of the slots [variables at the first time…,
// variables at the second time…, quenched inputs…] (read.ts); the law is the
// mean and covariance of the slots the body uses. Three rules, by the body:
//  - a polynomial of degree ≤ 8: tensor Gauss–Hermite, exact; rounding bound
//    1e-14·s^(deg/2) with s = the largest mean² + variance (an average that
//    cancels to 0 still carries it; relative to the law's own scale, so a
//    small law gets a small bound);
//  - kinked (relu, abs, sign, comparisons): nested 1-D integrals in the
//    whitened coordinates, the quenched inputs outermost, each split where a
//    kink argument changes sign with the dimensions not yet integrated at
//    their conditional means (exact splits for kinks in the innermost
//    variables); 1e-13 relative;
//  - smooth otherwise: the tensor trapezoid rule in the whitened coordinates
//    (spectrally accurate for bodies analytic in a strip, where Gauss–Hermite
//    converges slowly at large variance), its range widened until the ends
//    carry no weight (the mass of E e^{aX} at large variance is never cut
//    off); error from the doubled step.
// Nothing here knows any particular model.
import type { Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { choleskySemidefinite } from '../numeric/linalg.ts';
import { expectTensorHermite, expectTensorTrapezoid } from '../numeric/normal.ts';
import { expectKinkedZ } from '../numeric/gauss.ts';
import { isKinked, kinkArgs } from '../numeric/kinks.ts';
import type { SplitResolution } from '../numeric/rules.ts';

export interface AveragedBody { body: Expr; F: Compiled; slots: string[] }

/** split resolution of the state's dimensions and of the quenched inputs' (outer, smoother) ones */
const SPLIT_X: SplitResolution = { gl: 12, panel: 0.75, L: 9 };
const SPLIT_Q: SplitResolution = { gl: 10, panel: 1, L: 8.5 };
/** trapezoid steps in z (the check, the value) by the number of Gaussian dimensions: 1, 2, 3, more (≤ 4e6 points) */
const SMOOTH_DZ: [number, number][] = [[0.1, 0.05], [0.2, 0.1], [0.4, 0.2], [0.6, 0.45]];

const kinkArgCache = new WeakMap<object, Compiled[]>();

/**
 * E body over the Gaussian law of the slots `active` (indices into av.slots):
 * mean[r], cov[r][c] for active[r], active[c]. `firstQuenched`: the first slot
 * index of the quenched inputs (integrated outermost when the body is kinked).
 */
export function siteAverage(av: AveragedBody, active: number[], mean: number[], cov: number[][], firstQuenched: number, params: Record<string, number>): { value: number; error: number } {
  const v = new Float64Array(av.slots.length);
  const d = active.length;
  if (!d) return { value: av.F(v), error: 0 };
  const scale = Math.max(...active.map((_, r) => mean[r] ** 2 + Math.abs(cov[r][r])));
  if (isKinked(av.body)) {
    // quenched inputs outermost, then the state at the first and the second time
    const order = active.map((_, r) => r).sort((a, b) => Number(active[b] >= firstQuenched) - Number(active[a] >= firstQuenched));
    const value = kinkedAverage(av, order.map((r) => active[r]), order.map((r) => mean[r]), choleskySemidefinite(order.map((r) => order.map((c) => cov[r][c]))), firstQuenched, params);
    return { value, error: 1e-13 * Math.abs(value) };
  }
  const L = choleskySemidefinite(cov);
  const at = (x: Float64Array) => { for (let r = 0; r < d; r++) v[active[r]] = x[r]; return av.F(v); };
  const deg = degree(av.body, (y) => y.k === 'sym' && av.slots.includes(y.name));
  if (Number.isFinite(deg) && deg <= 8) {
    return { value: expectTensorHermite(mean, L, Math.max(2, Math.ceil((deg + 1) / 2)), at), error: 1e-14 * scale ** (deg / 2) };
  }
  // the trapezoid rule in z converges like e^{−2πδ/dz} for bodies analytic in a strip of half-width δ
  // (tanh at large variance: Gauss–Hermite with 40 nodes is off by 1e-3); the step and its double
  // give the value and a conservative error, the range widened until its ends carry no weight
  const [coarse, fine] = SMOOTH_DZ[Math.min(d, SMOOTH_DZ.length) - 1];
  const c1 = expectTensorTrapezoid(mean, L, coarse, at), c2 = expectTensorTrapezoid(mean, L, fine, at);
  return { value: c2, error: Math.abs(c2 - c1) + 1e-13 * Math.abs(c2) };
}

/** Nested split integration of a kinked body in the whitened coordinates z (x = mean + L z). */
function kinkedAverage(av: AveragedBody, slots: number[], mean: number[], L: number[][], firstQuenched: number, params: Record<string, number>): number {
  let args = kinkArgCache.get(av);
  if (!args) { args = kinkArgs(av.body).map((a) => compile(a, av.slots, params)); kinkArgCache.set(av, args); }
  const d = slots.length;
  const v = new Float64Array(av.slots.length);
  const z = new Float64Array(d);
  // a dimension no slot depends on (a singular law) is not integrated
  const used = Array.from({ length: d }, (_, k) => L.some((row) => (row[k] ?? 0) !== 0));
  const fill = (upto: number) => {
    for (let k = upto + 1; k < d; k++) z[k] = 0;
    for (let r = 0; r < d; r++) { let s = mean[r]; for (let k = 0; k <= r; k++) s += L[r][k] * z[k]; v[slots[r]] = s; }
  };
  const rec = (j: number): number => {
    if (j === d) { fill(d - 1); return av.F(v); }
    if (!used[j]) { z[j] = 0; return rec(j + 1); }
    const set = (x: number) => { z[j] = x; fill(j); };
    const argFns = args!.map((f) => (x: number) => { set(x); return f(v); });
    return expectKinkedZ((x) => { z[j] = x; return rec(j + 1); }, argFns, slots[j] >= firstQuenched ? SPLIT_Q : SPLIT_X);
  };
  return rec(0);
}
