// dmft spectrum against independent references: the closed forms of the
// semicircle and Marchenko–Pastur laws (with their BBP outliers and
// overlaps), a population covariance solved by a separate fixed-point
// iteration, sums of independent blocks, and the closed-form polynomial.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { deriveSpectrum } from '../../src/derive/spectrum.ts';
import { SpectrumSolver, solveSpectrum, type C } from '../../src/solve/spectrum.ts';
import { closedForm } from '../../src/solve/spectrum-closed.ts';

const solver = (src: string, set: Record<string, number> = {}) => {
  const m = loadModelSource(src, 'test.dmft', set);
  return new SpectrumSolver(deriveSpectrum(m), m);
};
const cx = {
  mul: (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]],
  div: (a: C, b: C): C => { const d = b[0] ** 2 + b[1] ** 2; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; },
  sqrt: (a: C): C => { const r = Math.hypot(a[0], a[1]); const y = Math.sqrt(Math.max(0, (r - a[0]) / 2)); return [Math.sqrt((r + a[0]) / 2), a[1] < 0 ? -y : y]; },
};
const dist = (a: C, b: C) => Math.hypot(a[0] - b[0], a[1] - b[1]);
/** the root of a z m² + b m + c = 0 that is a Stieltjes transform at z (Im m > 0 above the axis; |m| → 0 far out on it) */
function quadRoot(a: C, b: C, c: C, z: C): C {
  // on the real axis: the limit from above (the root with Im m > 0 at z + iε)
  if (z[1] === 0) { const e = 1e-13; return quadRoot([a[0], a[1] + (a === z ? e : 0)], [b[0], b[1] + (b === z ? e : 0)], c, [z[0], e]); }
  const disc = cx.sqrt([b[0] ** 2 - b[1] ** 2 - 4 * (a[0] * c[0] - a[1] * c[1]), 2 * b[0] * b[1] - 4 * (a[0] * c[1] + a[1] * c[0])]);
  const r1 = cx.div([-b[0] + disc[0], -b[1] + disc[1]], [2 * a[0], 2 * a[1]]);
  const r2 = cx.div([-b[0] - disc[0], -b[1] - disc[1]], [2 * a[0], 2 * a[1]]);
  return r1[1] > r2[1] ? r1 : r2;
}

const WIGNER = `model "spiked Wigner"
param sigma = 1.3, theta = 2
index i, j in 1..N
random J[i,j] ~ normal(0, sigma^2/N), symmetric
random u[i] ~ normal(0, 1/N)
matrix H[i,j] = J[i,j] + theta*u[i]*u[j]
`;
const WISHART = `model "spiked sample covariance"
param alpha = 0.4, theta = 3
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random u[i] ~ normal(0, 1/D)
matrix S[i,j] = sum(mu, X[mu,i]*X[mu,j]) + theta*u[i]*u[j]
`;

describe('semicircle with a spike', () => {
  const s = solver(WIGNER);
  const sig = 1.3, th = 2;
  it('m(z) equals the closed form to 1e-12 on and off the axis', () => {
    for (const z of [[0.3, 0.7], [-2, 0.05], [1, 0], [-2.5, 0], [3.1, 1e-3]] as C[]) {
      const v = s.stieltjes(z);
      expect(v.converged).toBe(true);
      const want = quadRoot([sig * sig, 0], z, [1, 0], z);
      expect(dist(v.m, want)).toBeLessThan(1e-11 + v.error);
      expect(v.error).toBeLessThan(1e-10);
    }
  });
  it('finds the edges ±2σ, unit mass, the outlier θ + σ²/θ and the overlap 1 − σ²/θ²', () => {
    const sol = solveSpectrum(s, { from: -3.5, to: 3.5, points: 71 });
    expect(sol.support.length).toBe(1);
    expect(Math.abs(sol.support[0][0] + 2 * sig)).toBeLessThanOrEqual(sol.edgeError);
    expect(Math.abs(sol.support[0][1] - 2 * sig)).toBeLessThanOrEqual(sol.edgeError);
    expect(Math.abs(sol.mass - 1)).toBeLessThan(1e-8);
    expect(sol.outliers.length).toBe(1);
    expect(Math.abs(sol.outliers[0].lambda - (th + sig * sig / th))).toBeLessThan(1e-10);
    expect(Math.abs(sol.outliers[0].overlaps[0] - (1 - sig * sig / (th * th)))).toBeLessThan(1e-8);
  });
  it('has no outlier below the BBP threshold θ < σ', () => {
    const below = solver(WIGNER, { theta: 1.2 });
    expect(solveSpectrum(below, { from: -3, to: 3, points: 41 }).outliers).toEqual([]);
  });
  it('recovers the quadratic σ²m² + zm + 1 = 0 as its closed form', () => {
    const cf = closedForm(s)!;
    expect(cf.degree).toBe(2);
    expect(cf.zDegree).toBe(1);
    // normalized to the constant term: 1 + z m + σ² m²
    expect(cf.coefficients[0][0]).toBe(1);
    expect(Math.abs(cf.coefficients[1][1] - 1)).toBeLessThan(1e-10);
    expect(Math.abs(cf.coefficients[2][0] - sig * sig)).toBeLessThan(1e-10);
    expect(cf.agreement).toBeLessThan(1e-10);
  });
});

describe('Marchenko–Pastur with a spike', () => {
  const s = solver(WISHART);
  const a = 0.4, th = 3;
  const mp = (z: C): C => { const w: C = z[1] === 0 ? [z[0], 1e-13] : z; return quadRoot(w, [1 - a + w[0], w[1]], [1, 0], w); };
  it('m(z) equals the closed form z m² + (1 − α + z) m + 1 = 0', () => {
    for (const z of [[1, 0.2], [0.5, 0], [2, 0], [-0.5, 0], [0.01, 0.01]] as C[]) {
      const v = s.stieltjes(z);
      expect(v.converged).toBe(true);
      expect(dist(v.m, mp(z))).toBeLessThan(1e-11);
    }
  });
  it('edges (1 ± √α)², continuous mass α (an atom 1 − α at 0), outlier and overlap', () => {
    const sol = solveSpectrum(s, { from: -0.5, to: 3.5, points: 81 });
    const lo = (1 - Math.sqrt(a)) ** 2, hi = (1 + Math.sqrt(a)) ** 2;
    expect(sol.support.length).toBe(1);
    expect(Math.abs(sol.support[0][0] - lo)).toBeLessThanOrEqual(sol.edgeError);
    expect(Math.abs(sol.support[0][1] - hi)).toBeLessThanOrEqual(sol.edgeError);
    expect(Math.abs(sol.mass - a)).toBeLessThan(1e-8);
    // m(λ) = −1/θ in the closed form: λ = θ(θ − 1 + α)/(θ − 1); overlap 1/(θ² m'(λ))
    const lam = (th * (th - 1 + a)) / (th - 1);
    const m = -1 / th;
    const dm = -(m * m + m) / (2 * lam * m + 1 - a + lam);
    expect(sol.outliers.length).toBe(1);
    expect(Math.abs(sol.outliers[0].lambda - lam)).toBeLessThan(1e-10);
    expect(Math.abs(sol.outliers[0].overlaps[0] - 1 / (th * th * dm))).toBeLessThan(1e-8);
  });
});

describe('population covariances and sums of blocks', () => {
  const POP = (law: string) => `model "population covariance"
param alpha = 1.5
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random lam[mu] ~ ${law}
matrix S[i,j] = sum(mu, X[mu,i]*lam[mu]*X[mu,j])
`;
  it('lam ~ bernoulli(p) is Marchenko–Pastur with ratio α·p (and has a quadratic closed form)', () => {
    const s = solver(POP('bernoulli(0.4)'));
    const a = 1.5 * 0.4;
    for (const z of [[1, 0.3], [0.7, 1e-9]] as C[]) expect(dist(s.stieltjes(z).m, quadRoot(z, [1 - a + z[0], z[1]], [1, 0], z))).toBeLessThan(1e-8);
    expect(closedForm(s)?.degree).toBe(2);
  });
  it('lam ~ uniform(1, 2) matches a separate solution of m = 1/(−z + α⟨lam/(1 + lam m)⟩)', () => {
    const s = solver(POP('uniform(1, 2)'));
    expect(s.algebraic).toBe(false);
    for (const z of [[1.5, 0.5], [3, 0.2]] as C[]) {
      // independent reference: damped fixed point with a 2000-point midpoint rule
      let m: C = [0, 0.1];
      for (let it = 0; it < 300; it++) {
        let er = 0, ei = 0;
        for (let k = 0; k < 2000; k++) { const l = 1 + (k + 0.5) / 2000; const q = cx.div([l, 0], [1 + l * m[0], l * m[1]]); er += q[0] / 2000; ei += q[1] / 2000; }
        const next = cx.div([1, 0], [-z[0] + 1.5 * er, -z[1] + 1.5 * ei]);
        m = [0.5 * m[0] + 0.5 * next[0], 0.5 * m[1] + 0.5 * next[1]];
      }
      const v = s.stieltjes(z);
      expect(dist(v.m, m)).toBeLessThan(1e-6);
      expect(v.error).toBeLessThan(1e-6);
    }
  });
  it('two independent Wigner blocks add their variances', () => {
    const s = solver(`model "two blocks"
param a = 0.6, b = 0.8
index i, j in 1..N
random J[i,j] ~ normal(0, a^2/N), symmetric
random K[i,j] ~ normal(0, b^2/N), symmetric
matrix H[i,j] = J[i,j] + K[i,j]
`);
    for (const z of [[0.2, 0.5], [1.5, 0]] as C[]) expect(dist(s.stieltjes(z).m, quadRoot([1, 0], z, [1, 0], z))).toBeLessThan(1e-11);
  });
  it('a symmetrized non-symmetric block (A + Aᵀ)/√2 is a semicircle', () => {
    const s = solver(`model "symmetrized"
index i, j in 1..N
random A[i,j] ~ normal(0, 1/N)
matrix H[i,j] = (A[i,j] + A[j,i])/sqrt(2)
`);
    for (const z of [[0.2, 0.5], [-1.2, 0]] as C[]) expect(dist(s.stieltjes(z).m, quadRoot([1, 0], z, [1, 0], z))).toBeLessThan(1e-11);
  });
});

describe('a model with no closed form: the symmetrized product J·S + S·J', () => {
  it('matches the eigenvalues of sampled matrices (N = 250, 3 seeds) to finite-size accuracy', async () => {
    const { sampleMatrix, symmetricEigen } = await import('../../src/simulate/spectrum.ts');
    const src = `model "product"
param alpha = 2
index i, j, k in 1..D
index mu in 1..P
ratio P/D = alpha
random J[i,j] ~ normal(0, 1/D), symmetric
random X[mu,i] ~ normal(0, 1/D)
matrix H[i,j] = sum(k, J[i,k]*sum(mu, X[mu,k]*X[mu,j])) + sum(k, sum(mu, X[mu,i]*X[mu,k])*J[k,j])
`;
    const m = loadModelSource(src, 'product.dmft');
    const s = new SpectrumSolver(deriveSpectrum(m), m);
    const zs: C[] = [[0.5, 0.5], [2, 0.5], [-1, 0.3]];
    const acc = zs.map(() => [0, 0]);
    const N = 250, S = 3;
    for (let seed = 1; seed <= S; seed++) {
      const e = symmetricEigen(sampleMatrix(m, 'H', N, seed));
      zs.forEach((z, k) => { for (const l of e.values) { const dr = l - z[0], di = -z[1], d = dr * dr + di * di; acc[k][0] += dr / d / N / S; acc[k][1] += -di / d / N / S; } });
    }
    // finite-size deviations: ≤ 3e-3 at N = 300 (measured with 4 seeds)
    zs.forEach((z, k) => expect(dist(s.stieltjes(z).m, acc[k] as C)).toBeLessThan(1.5e-2));
  });
});
