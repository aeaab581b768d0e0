// Quadrature shared by the solvers: Gauss–Hermite moments, the robust rule for
// tanh-like functions at large variance, bivariate expectations and the
// Mehler (Hermite) series used for nonlinear C_f(t,s).
import { describe, expect, it } from 'vitest';
import { expectNormal, expectNormal2, gaussHermite, hermiteCoeffs, hermiteInto } from '../../src/numeric/normal.ts';
import { gaussExpect1, gaussExpect2 } from '../helpers/gauss-hermite.ts';

/** E f(X), X ~ N(m, v), by a very fine trapezoid in z (independent reference). */
function reference(f: (x: number) => number, m: number, v: number): number {
  const L = 14, n = 40000, s = Math.sqrt(v);
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const z = -L + (2 * L * i) / n;
    acc += Math.exp(-z * z / 2) * f(m + s * z) * (i === 0 || i === n ? 0.5 : 1);
  }
  return (acc * (2 * L / n)) / Math.sqrt(2 * Math.PI);
}

describe('Gauss–Hermite', () => {
  it('integrates the normal moments exactly up to degree 2n−1', () => {
    const dfact = [1, 0, 1, 0, 3, 0, 15, 0, 105, 0, 945]; // E Z^k
    for (const n of [1, 2, 3, 5, 20, 60]) {
      const { x, w } = gaussHermite(n);
      for (let k = 0; k <= Math.min(10, 2 * n - 1); k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += w[i] * x[i] ** k;
        expect(Math.abs(s - dfact[k]), `n=${n} k=${k}`).toBeLessThan(1e-11 * Math.max(1, dfact[k]));
      }
    }
  });

  it('gaussExpect1 / gaussExpect2 on polynomials and a degenerate covariance', () => {
    expect(gaussExpect1((x) => x * x, 0.5, 2, 4)).toBeCloseTo(2.25, 13);
    expect(gaussExpect2((a, b) => a * b, 1, 2, 2, 0.5, 3, 4)).toBeCloseTo(2.5, 13);
    // perfectly correlated: E[X1 X2] = c + m1 m2 with X2 = X1
    expect(gaussExpect2((a, b) => a * b, 0, 0, 1, 1, 1, 6)).toBeCloseTo(1, 13);
  });
});

describe('robust rule (tanh at large variance)', () => {
  it('E tanh²(X) to 1e-8 for variances 0.01 … 25, where Gauss–Hermite(40) is off by up to 3e-3', () => {
    const f = (x: number) => Math.tanh(x) ** 2;
    let ghWorst = 0;
    for (const v of [0.01, 0.5, 2, 4, 9, 25]) {
      const ref = reference(f, 0.3, v);
      expect(Math.abs(expectNormal(f, 0.3, v) - ref), `v=${v}`).toBeLessThan(1e-8);
      ghWorst = Math.max(ghWorst, Math.abs(gaussExpect1(f, 0.3, v, 40) - ref));
    }
    expect(ghWorst).toBeGreaterThan(1e-4); // why the robust rule exists
  });

  it('bivariate: E tanh(X1) tanh(X2) against the Mehler series', () => {
    for (const [s1, s2, rho] of [[1, 1.2, 0.3], [1.5, 1.3, 0.9], [0.7, 0.9, -0.6]]) {
      const A = hermiteCoeffs(Math.tanh, 0.2, s1, 160), B = hermiteCoeffs(Math.tanh, -0.1, s2, 160);
      let mehler = 0;
      for (let k = 0; k <= 160; k++) mehler += rho ** k * A.a[k] * B.a[k];
      const direct = expectNormal2((x, y) => Math.tanh(x) * Math.tanh(y), 0.2, -0.1, s1 * s1, rho * s1 * s2, s2 * s2);
      expect(Math.abs(mehler - direct), `${s1},${s2},${rho}`).toBeLessThan(1e-9);
    }
  });

  it('tabulated Hermite coefficients agree with the direct sum and satisfy Parseval', () => {
    const K = 96;
    const out = new Float64Array(K + 1);
    const ef2 = hermiteInto(Math.tanh, 0.2, 1.1, K, out, 0);
    const direct = hermiteCoeffs(Math.tanh, 0.2, 1.1, K);
    let worst = 0, sum = 0;
    for (let k = 0; k <= K; k++) { worst = Math.max(worst, Math.abs(out[k] - direct.a[k])); sum += out[k] ** 2; }
    expect(worst).toBeLessThan(1e-12);
    expect(Math.abs(ef2 - reference((x) => Math.tanh(x) ** 2, 0.2, 1.21))).toBeLessThan(1e-9);
    expect(Math.abs(ef2 - sum)).toBeLessThan(1e-10); // the tail beyond K = 96 is negligible at σ = 1.1
  });
});

describe('Gauss–Hermite at many nodes', () => {
  it('moments stay exact past the range where Newton on the recurrence fails (n = 200, 256, 300)', () => {
    for (const n of [151, 200, 256, 300]) {
      const { x, w } = gaussHermite(n);
      let s0 = 0, s2 = 0, s4 = 0, s6 = 0;
      for (let i = 0; i < n; i++) { s0 += w[i]; s2 += w[i] * x[i] ** 2; s4 += w[i] * x[i] ** 4; s6 += w[i] * x[i] ** 6; }
      expect(s0).toBeCloseTo(1, 12);
      expect(s2).toBeCloseTo(1, 11);
      expect(s4).toBeCloseTo(3, 10);
      expect(s6 / 15).toBeCloseTo(1, 9);
      for (let i = 1; i < n; i++) expect(x[i]).toBeGreaterThan(x[i - 1]);
    }
  });
});
