// Plain Gauss–Hermite expectations over one and two normal variables, written
// out here as independent references for the tests (the solvers use
// src/numeric/normal.ts: expectTensorHermite/Smooth, the robust rules).
import { gaussHermite, symmetricSum } from '../../src/numeric/rules.ts';

/** E f(X), X ~ N(mean, variance). variance ≤ 0 (within rounding) gives f(mean). */
export function gaussExpect1(f: (x: number) => number, mean: number, variance: number, n = 40): number {
  if (!(variance > 0)) return f(mean);
  const { x, w } = gaussHermite(n);
  const s = Math.sqrt(variance);
  return symmetricSum((z) => f(mean + s * z), x, w);
}

/**
 * E f(X1, X2) for (X1, X2) jointly normal with means m1, m2 and covariance
 * [[c11, c12], [c12, c22]]. Uses the Cholesky factor, so a singular
 * (perfectly correlated or degenerate) covariance is fine.
 */
export function gaussExpect2(
  f: (x1: number, x2: number) => number,
  m1: number,
  m2: number,
  c11: number,
  c12: number,
  c22: number,
  n = 24,
): number {
  const a = c11 > 0 ? Math.sqrt(c11) : 0;
  // X1 = m1 + a z1 ; X2 = m2 + b z1 + c z2
  let b: number, c: number;
  if (a > 0) {
    b = c12 / a;
    c = Math.sqrt(Math.max(0, c22 - b * b));
  } else {
    b = 0;
    c = c22 > 0 ? Math.sqrt(c22) : 0;
  }
  if (a === 0 && c === 0 && b === 0) return f(m1, m2);
  const { x, w } = gaussHermite(n);
  let acc = 0;
  if (c === 0) {
    for (let i = 0; i < x.length; i++) acc += w[i] * f(m1 + a * x[i], m2 + b * x[i]);
    return acc;
  }
  if (a === 0) {
    for (let j = 0; j < x.length; j++) acc += w[j] * f(m1, m2 + c * x[j]);
    return acc;
  }
  for (let i = 0; i < x.length; i++) {
    const x1 = m1 + a * x[i];
    const base = m2 + b * x[i];
    let inner = 0;
    for (let j = 0; j < x.length; j++) inner += w[j] * f(x1, base + c * x[j]);
    acc += w[i] * inner;
  }
  return acc;
}
