// expectTensorSmooth: Gauss–Hermite where it resolves the integrand, the
// widened trapezoid where the mass lies beyond the Gauss–Hermite nodes.
import { describe, expect, it } from 'vitest';
import { expectTensorHermite, expectTensorSmooth, expectTensorTrapezoid } from '../../src/numeric/normal.ts';

const rel = (a: number, b: number) => Math.abs(a / b - 1);

describe('expectTensorSmooth', () => {
  it('E e^{3X} for Var X up to 25: exact (Gauss–Hermite alone is off by up to 100 %)', () => {
    for (const v of [1, 4, 11.5, 25]) {
      const f = (x: Float64Array) => Math.exp(3 * x[0]);
      const exact = Math.exp(4.5 * v);
      expect(rel(expectTensorSmooth([0], [[Math.sqrt(v)]], 40, f), exact)).toBeLessThan(1e-12);
    }
    // the failure it guards against: the plain rule at order 40 misses the mass at Var X = 25
    expect(rel(expectTensorHermite([0], [[5]], 40, (x) => Math.exp(3 * x[0])), Math.exp(112.5))).toBeGreaterThan(0.9);
  });

  it('two correlated variables: E e^{a·X} = e^{a·μ + aᵀCa/2}', () => {
    const mu = [0.3, -0.2], C = [[9, 4], [4, 6]];
    const l11 = 3, l21 = 4 / 3, l22 = Math.sqrt(6 - l21 * l21);
    const a = [1.5, 1];
    const quad = a[0] * a[0] * C[0][0] + 2 * a[0] * a[1] * C[0][1] + a[1] * a[1] * C[1][1];
    const exact = Math.exp(a[0] * mu[0] + a[1] * mu[1] + quad / 2);
    const got = expectTensorSmooth(mu, [[l11, 0], [l21, l22]], 24, (x) => Math.exp(a[0] * x[0] + a[1] * x[1]));
    expect(rel(got, exact)).toBeLessThan(1e-10);
  });

  it('an integrand the Gauss–Hermite rule resolves gives exactly its value (no fallback)', () => {
    const f = (x: Float64Array) => Math.tanh(x[0]) * Math.tanh(x[1]);
    const L = [[1.2, 0], [0.5, 0.9]];
    expect(expectTensorSmooth([0.1, 0.2], L, 24, f)).toBe(expectTensorHermite([0.1, 0.2], L, 24, f));
  });

  it('mass beyond where the normal weight underflows: not finite (callers refuse it), never a wrong number', () => {
    const got = expectTensorSmooth([0], [[1]], 40, (x) => Math.exp(60 * x[0]));
    expect(Number.isFinite(got)).toBe(false);
  });
});

describe('expectTensorTrapezoid', () => {
  it('a kink (relu of a correlated pair) to second order, a singular covariance, a widened range', () => {
    // E relu(X1 + X2), X1 + X2 ~ N(0, s²): s/√(2π)
    const L = [[1, 0], [0.6, 0.8]];
    const s = Math.hypot(1 + 0.6, 0.8);
    const f = (x: Float64Array) => Math.max(0, x[0] + x[1]);
    expect(Math.abs(expectTensorTrapezoid([0, 0], L, 0.05, f) - s / Math.sqrt(2 * Math.PI))).toBeLessThan(1e-4);
    // perfectly correlated: one direction only (a zero column), E e^{X1+X2} with X2 = X1 ~ N(0, 4)
    expect(rel(expectTensorTrapezoid([0, 0], [[2, 0], [2, 0]], 0.1, (x) => Math.exp(x[0] + x[1])), Math.exp(8))).toBeLessThan(1e-12);
    // the mass at z = 12, beyond the first range
    expect(rel(expectTensorTrapezoid([0], [[1]], 0.25, (x) => Math.exp(12 * x[0])), Math.exp(72))).toBeLessThan(1e-12);
  });
});
