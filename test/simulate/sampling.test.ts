// The sampled disorder matches its declaration: means, variances and the
// transpose correlation of the couplings within statistical error; sizes
// from ratios; determinism per seed; independent streams.
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/simulate/compile.ts';
import { createInstance } from '../../src/simulate/instance.ts';
import { Rng } from '../../src/numeric/rng.ts';
import { sampleInit, sampleRandoms } from '../../src/simulate/sample.ts';
import { matrixOf, mean, model, vectorOf } from './helpers.ts';

const SRC = `
model "disorder"
param g = 1.5, J0 = 2, kappa = -0.4, alpha = 0.5
index i, j in 1..N
index mu in 1..P
ratio P/N = alpha
random J[i,j] ~ normal(J0/N, g^2/N), corr(J[i,j], J[j,i]) = kappa
random S[i,j] ~ normal(0, 1/N), symmetric
random X[mu,i] ~ normal(0, 1/N)
random w[i] ~ normal(1, 4)
random u[mu] ~ uniform(-1, 3)
random B[i,j] ~ bernoulli(0.3)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + sum(j, S[i,j]*x[j]) + sum(mu, X[mu,i]*u[mu]) + w[i] + mean(j, B[i,j]*x[j])
observe v = mean(i, x[i]^2)
`;

function sampled(N: number, seed: number, f32 = false) {
  const p = plan(model(SRC), N, { precision: f32 ? 'f32' : 'f64' });
  const inst = createInstance(p, []);
  sampleRandoms(inst, seed);
  return inst;
}

/** off-diagonal pairs (i<j) of a square matrix */
function pairs(A: number[][]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < A.length; i++) for (let j = i + 1; j < A.length; j++) out.push([A[i][j], A[j][i]]);
  return out;
}

/** |estimate − target| within 4 standard errors */
const within = (est: number, target: number, se: number) => expect(Math.abs(est - target)).toBeLessThan(4 * se);

describe('sampling', () => {
  it('sizes follow the ratios from the base size', () => {
    const p = plan(model(SRC), 301, { precision: 'f64' });
    expect(p.c.base).toBe('N');
    expect(p.c.sizes).toEqual({ N: 301, P: 151 }); // round(0.5·301)
  });

  for (const f32 of [false, true]) {
    it(`couplings correlated with their transpose have the declared mean, variance and correlation${f32 ? ' (single-precision storage)' : ''}`, () => {
      const N = 500;
      const inst = sampled(N, 3, f32);
      const J = matrixOf(inst, 'J');
      const ps = pairs(J);
      const n = ps.length;
      const m = 2 / N, v = 2.25 / N, kappa = -0.4;
      const all = ps.flat();
      // mean: the two entries of a pair are correlated, so use pair averages
      const pairMean = ps.map(([a, b]) => (a + b) / 2);
      within(mean(pairMean), m, Math.sqrt(v * (1 + kappa) / 2 / n));
      const varEst = mean(all.map((x) => (x - m) ** 2));
      within(varEst, v, v * Math.sqrt(2 * (1 + kappa ** 2) / (2 * n)));
      const corr = mean(ps.map(([a, b]) => (a - m) * (b - m))) / v;
      within(corr, kappa, Math.sqrt((1 + kappa ** 2) / n));
      // diagonal: the declared marginal
      const diag = J.map((r, i) => r[i]);
      within(mean(diag), m, Math.sqrt(v / N));
    });
  }

  it("'auto' storage uses single precision only where rounding is harmless", () => {
    const m = model(`
model "precision"
index i, j in 1..N
random A[i,j] ~ normal(0, 1/N)
random B[i,j] ~ bernoulli(0.2)
random C[i,j] ~ normal(5/N, 1e-9/N)
random D[i,j] ~ uniform(-1, 1)
state x[i]
d/dt x[i] = -x[i] + sum(j, A[i,j]*x[j]) + mean(j, B[i,j]*x[j]) + sum(j, C[i,j]*x[j]) + mean(j, D[i,j]*x[j])
`);
    const p = plan(m, 100, { precision: 'auto' });
    expect(p.layout.mats.map((x) => [x.decl, x.f32])).toEqual([['A', true], ['B', true], ['C', false], ['D', true]]);
    // C: mean 0.05 with standard deviation 3e-6: single-precision rounding (3e-9) would be 1e-3 of the spread
    expect(plan(m, 100, { precision: 'f64' }).layout.mats.every((x) => !x.f32)).toBe(true);
  });

  it('symmetric couplings are exactly symmetric with the declared variance', () => {
    const N = 400;
    const S = matrixOf(sampled(N, 5), 'S');
    let asym = 0;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (S[i][j] !== S[j][i]) asym++;
    expect(asym).toBe(0);
    const up = pairs(S).map(([a]) => a);
    within(mean(up.map((x) => x * x)), 1 / N, (1 / N) * Math.sqrt(2 / up.length));
  });

  it('rectangular matrices, quenched vectors, uniform and bernoulli draws match their declarations', () => {
    const N = 400;
    const inst = sampled(N, 11);
    const X = matrixOf(inst, 'X');
    expect(X.length).toBe(200);
    expect(X[0].length).toBe(400);
    const xs = X.flat();
    within(mean(xs), 0, Math.sqrt(1 / N / xs.length));
    within(mean(xs.map((x) => x * x)), 1 / N, (1 / N) * Math.sqrt(2 / xs.length));
    const w = vectorOf(inst, 'w');
    within(mean(w), 1, Math.sqrt(4 / N));
    within(mean(w.map((x) => (x - 1) ** 2)), 4, 4 * Math.sqrt(2 / N));
    const u = vectorOf(inst, 'u');
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    within(mean(u), 1, Math.sqrt(16 / 12 / u.length));
    const B = matrixOf(inst, 'B').flat();
    expect(B.every((b) => b === 0 || b === 1)).toBe(true);
    within(mean(B), 0.3, Math.sqrt(0.21 / B.length));
  });

  it('a draw depends only on the seed and on what is drawn', () => {
    const a = sampled(60, 42), b = sampled(60, 42), c = sampled(60, 43);
    expect(matrixOf(a, 'J')).toEqual(matrixOf(b, 'J'));
    expect(vectorOf(a, 'w')).toEqual(vectorOf(b, 'w'));
    expect(matrixOf(a, 'J')).not.toEqual(matrixOf(c, 'J'));
    // streams: the couplings do not change when another declaration changes
    const other = plan(model(SRC.replace('random w[i] ~ normal(1, 4)', 'random w[i] ~ normal(5, 9)')), 60, { precision: 'f64' });
    const inst = createInstance(other, []);
    sampleRandoms(inst, 42);
    expect(matrixOf(inst, 'J')).toEqual(matrixOf(a, 'J'));
    expect(vectorOf(inst, 'w')).not.toEqual(vectorOf(a, 'w'));
  });

  it('initial conditions are drawn per seed and clipped into bounds', () => {
    const m = model(`
model "bounded"
index i in 1..N
state n[i] >= 0
init n[i] ~ normal(0, 1)
d/dt n[i] = -n[i]
`);
    const p = plan(m, 1000, { precision: 'f64' });
    const x = [new Float64Array(1000)];
    const clipped = sampleInit(p, x, 1);
    expect(Math.min(...x[0])).toBe(0);
    expect(clipped).toBeGreaterThan(400);
    expect(clipped).toBeLessThan(600);
  });

  it('the generator gives uniform and standard normal numbers', () => {
    const r = new Rng(2024);
    const n = 200_000;
    let s = 0, s2 = 0, s4 = 0, u = 0;
    for (let k = 0; k < n; k++) { const z = r.normal(); s += z; s2 += z * z; s4 += z ** 4; u += r.uniform(); }
    within(s / n, 0, Math.sqrt(1 / n));
    within(s2 / n, 1, Math.sqrt(2 / n));
    within(s4 / n, 3, Math.sqrt(96 / n));
    within(u / n, 0.5, Math.sqrt(1 / 12 / n));
  });
});
