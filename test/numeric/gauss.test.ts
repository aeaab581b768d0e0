// Gaussian expectations split at kinks (src/numeric/gauss.ts), against closed
// forms: truncated normal moments, arcsine/arc-cosine kernels, Hermite
// coefficients of steps and ramps, and an adaptive-quadrature reference
// (src/expr/eval.ts `integrate`, cut at the soft points) for non-zero means.
import { describe, expect, it } from 'vitest';
import { parseExpr } from '../../src/model/parse.ts';
import { erf } from '../../src/numeric/special.ts';
import { integrate } from '../../src/numeric/integrate.ts';
import { expectNormal } from '../../src/numeric/normal.ts';
import { expect as E, expect2, expectDerivative, expectLines, hermiteCoefficients } from '../../src/numeric/gauss.ts';
import { isKinked, kinkArgs, piecewiseOf, withBreaks } from '../../src/numeric/kinks.ts';

const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const relu = withBreaks((x) => (x > 0 ? x : 0), [0]);
const sign = withBreaks(Math.sign, [0]);
/** E relu(m + sZ) */
const eRelu = (m: number, s: number) => m * Phi(m / s) + s * phi(m / s);

describe('breakpoints from expressions', () => {
  it('kink arguments of relu, abs, sign and comparisons; affine ones exactly, others by scan', () => {
    expect(kinkArgs(parseExpr('relu(x - 1) + abs(x) + (x > 2)*x + tanh(x)')).length).toBe(3);
    expect(isKinked(parseExpr('tanh(x)^2'))).toBe(false);
    const p = piecewiseOf(parseExpr('relu(2*x - 1) + sign(x + a)'), 'x', { a: 0.25 });
    expect(p.breaks(-5, 5)).toEqual([-0.25, 0.5]);
    // nonlinear argument: tanh(x) = 1/2 at atanh(1/2); nested kink relu(relu(x) - 1) at 0 and 1
    const q = piecewiseOf(parseExpr('relu(tanh(x) - 0.5)'), 'x');
    expect(q.breaks(-3, 3)[0]).toBeCloseTo(Math.atanh(0.5), 14);
    const r = piecewiseOf(parseExpr('relu(relu(x) - 1)'), 'x');
    expect(r.breaks(-3, 3)).toEqual([0, 1]);
    expect(piecewiseOf(parseExpr('tanh(x)'), 'x').smooth).toBe(true);
  });
});

describe('1-D expectations split at kinks', () => {
  it('relu, relu², sign, abs and E sign′ = 2φ(m/σ)/σ (the δ) to 1e-13 over widths 1e-3 … 20', () => {
    const relu2 = withBreaks((x) => (x > 0 ? x * x : 0), [0]);
    const abs = withBreaks(Math.abs, [0]);
    let worst = 0;
    for (const m of [-1, -0.2, 0, 0.1, 0.7]) for (const s of [1e-3, 0.05, 0.3, 1, 2, 5, 20]) {
      const sc = Math.abs(m) + s;
      worst = Math.max(worst,
        Math.abs(E(relu, m, s * s) - eRelu(m, s)) / sc,
        Math.abs(E(relu2, m, s * s) - ((m * m + s * s) * Phi(m / s) + m * s * phi(m / s))) / (sc * sc),
        Math.abs(E(sign, m, s * s) - (2 * Phi(m / s) - 1)),
        Math.abs(E(abs, m, s * s) - (m * (2 * Phi(m / s) - 1) + 2 * s * phi(m / s))) / sc,
        Math.abs(expectDerivative(sign, () => 0, m, s * s) - (2 * phi(m / s)) / s) * s,
        Math.abs(expectDerivative(relu, (x) => (x > 0 ? 1 : 0), m, s * s) - Phi(m / s)));
    }
    expect(worst).toBeLessThan(1e-13);
  });

  it('a kink inside a tanh network function: E[(x > 0.3)·tanh(x)] against adaptive quadrature', () => {
    const f = withBreaks((x) => (x > 0.3 ? Math.tanh(x) : 0), [0.3]);
    for (const [m, s] of [[0, 1], [0.3, 0.2], [-1, 3]]) {
      const ref = integrate((x) => Math.tanh(x) * phi((x - m) / s) / s, 0.3, m + 14 * s, { absTol: 1e-16, relTol: 1e-15 }).value;
      expect(Math.abs(E(f, m, s * s) - ref)).toBeLessThan(1e-13);
    }
  });
});

describe('2-D expectations split at kinks', () => {
  it('zero means: arc-cosine kernel of relu and (2/π) arcsin ρ of sign, correlations up to 1 − 1e-12', () => {
    let worst = 0;
    for (const [s1, s2] of [[1, 1], [0.5, 0.5], [2, 0.3]]) for (const rho of [-0.95, 0, 0.5, 0.9, 0.99, 0.9999, 1 - 1e-8, 1 - 1e-12]) {
      const th = Math.acos(rho);
      const ar = (s1 * s2 / (2 * Math.PI)) * (Math.sin(th) + (Math.PI - th) * Math.cos(th));
      worst = Math.max(worst, Math.abs(expect2(relu, relu, 0, 0, s1 * s1, rho * s1 * s2, s2 * s2) - ar) / (s1 * s2));
      // sign is scale-free; unequal widths near ρ = 1 are limited by the rounding of the covariance itself
      if (s1 === s2) worst = Math.max(worst, Math.abs(expect2(sign, sign, 0, 0, s1 * s1, rho * s1 * s2, s2 * s2) - (2 / Math.PI) * Math.asin(rho)));
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('non-zero means: relu against a 1-D adaptive reference with the closed-form conditional mean', () => {
    const ref = (m1: number, m2: number, s1: number, s2: number, rho: number) => {
      const c = s2 * Math.sqrt(1 - rho * rho);
      const g = (z: number) => { const x = m1 + s1 * z; return x <= 0 ? 0 : x * eRelu(m2 + rho * s2 * z, c) * phi(z); };
      const zs = -m2 / (rho * s2), w = c / Math.abs(rho * s2);
      const cuts = [-m1 / s1, ...[-8, -3, -1, 0, 1, 3, 8].map((d) => zs + d * w)].filter((z) => z > -m1 / s1 && z < 12).sort((a, b) => a - b);
      let a = Math.max(-12, -m1 / s1), tot = 0;
      for (const p of [...cuts, 12]) { if (p > a) tot += integrate(g, a, p, { absTol: 1e-16, relTol: 1e-15, maxIntervals: 20000 }).value; a = Math.max(a, p); }
      return tot;
    };
    let worst = 0;
    for (const [m1, m2] of [[0.1, 0.12], [-0.3, 0.5], [0.2, 0.19]]) for (const [s1, s2] of [[1, 1], [0.5, 0.51], [0.05, 0.05]]) for (const rho of [0.5, 0.99, 0.999999, -0.9]) {
      worst = Math.max(worst, Math.abs(expect2(relu, relu, m1, m2, s1 * s1, rho * s1 * s2, s2 * s2) - ref(m1, m2, s1, s2, rho)) / (s1 * s2));
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('a slanted kink line: E relu(X1 + X2 − 0.2) equals the 1-D expectation of the sum', () => {
    const m1 = 0.1, m2 = -0.3, c11 = 0.8, c12 = 0.35, c22 = 0.5;
    const v = expectLines((x1, x2) => Math.max(0, x1 + x2 - 0.2), [{ a0: -0.2, a1: 1, a2: 1 }], m1, m2, c11, c12, c22);
    const s = Math.sqrt(c11 + 2 * c12 + c22);
    expect(Math.abs(v - eRelu(m1 + m2 - 0.2, s))).toBeLessThan(1e-12);
  });
});

describe('Hermite coefficients of kinked functions', () => {
  it('match the closed forms a_k(sign) = 2φ(z0)He_{k−1}(z0)/√k!, a_k(relu) = σφ(z0)He_{k−2}(z0)/√k! up to k = 160', () => {
    let worst = 0;
    for (const [m, s] of [[0.1, 0.48], [0, 1], [-0.5, 2], [1.2, 0.3]]) {
      const K = 160, z0 = -m / s;
      const h = new Float64Array(K + 1); h[0] = 1; h[1] = z0;
      for (let k = 1; k < K; k++) h[k + 1] = (z0 * h[k] - Math.sqrt(k) * h[k - 1]) / Math.sqrt(k + 1); // He_k/√k!
      const ar = new Float64Array(K + 1), as = new Float64Array(K + 1);
      const e2 = hermiteCoefficients(relu, m, s, K, ar, 0);
      hermiteCoefficients(sign, m, s, K, as, 0);
      for (let k = 2; k <= K; k++) worst = Math.max(worst, Math.abs(ar[k] - (s * phi(z0) * h[k - 2]) / Math.sqrt(k * (k - 1))) / s);
      for (let k = 1; k <= K; k++) worst = Math.max(worst, Math.abs(as[k] - (2 * phi(z0) * h[k - 1]) / Math.sqrt(k)));
      worst = Math.max(worst, Math.abs(e2 - ((m * m + s * s) * Phi(m / s) + m * s * phi(m / s))) / (s * s));
    }
    expect(worst).toBeLessThan(1e-13);
  });
});

describe('fast-growing integrands: the range widens to where the mass is', () => {
  // E e^{aX}, X ~ N(m, v), is e^{am + a²v/2}: the mass sits at z = a√v, outside
  // the default range [−9, 9] for a√v > 9 (a fixed range gave 3e59 for e^200)
  const pw = (src: string) => piecewiseOf(parseExpr(src), 'x', {});
  it.each([[20, 0, 1], [5, 0.3, 2], [12, -1, 0.81], [1, 0, 1]])('E exp(%d x), mean %d, variance %d', (a, m, v) => {
    const exact = Math.exp(a * m + (a * a * v) / 2);
    expect(Math.abs(E(pw(`exp(${a}*x)`), m, v) / exact - 1)).toBeLessThan(1e-11);
    expect(Math.abs(expectNormal((x) => Math.exp(a * x), m, v) / exact - 1)).toBeLessThan(1e-11);
  });
  it('E[Z g(σZ)] (Stein) for g = exp(15 x): σ·15·e^{112.5σ²}... at σ = 1', () => {
    const exact = 15 * Math.exp(112.5);
    expect(Math.abs(expectDerivative(pw('exp(15*x)'), (x) => 15 * Math.exp(15 * x), 0, 1) / exact - 1)).toBeLessThan(1e-11);
  });
  it('E exp(c x²) = 1/√(1 − 2c): resolved while the mass fits, not a finite number when it spreads past the range', () => {
    expect(Math.abs(E(pw('exp(0.4*x^2)'), 0, 1) / Math.sqrt(1 / 0.2) - 1)).toBeLessThan(1e-11);
    // c = 0.49: standard deviation 7 under the integrand, tails to |z| ~ 60
    expect(Number.isFinite(E(pw('exp(0.49*x^2)'), 0, 1))).toBe(false);
    expect(Number.isFinite(expectNormal((x) => Math.exp(0.49 * x * x), 0, 1))).toBe(false);
  });
});
