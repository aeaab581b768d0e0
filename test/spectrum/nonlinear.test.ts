// Nonlinear random matrices (docs/spectrum.md, "Nonlinear matrices"): what the
// linear equivalent is refused for, with the reason and the position.
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { spectrumToTex } from '../../src/latex/spectrum.ts';
import { validateKatex } from '../../src/latex/katex.ts';
import { deriveSpectrum } from '../../src/derive/spectrum.ts';
import { SpectrumSolver } from '../../src/solve/spectrum.ts';
import { sampleMatrix } from '../../src/simulate/spectrum.ts';

const kernel = (f: string, v = '1/D') => `model "kernel"
index i in 1..D
index mu, nu in 1..n
ratio n/D = 0.5
random X[mu,i] ~ normal(0, ${v})
matrix K[mu,nu] = ${f}
`;
const derive = (src: string) => () => deriveSpectrum(loadModelSource(src, 'k.dmft'));

describe('kernel matrices that have no linear equivalent are refused with the reason', () => {
  it('a kernel not differentiable at 0 (relu of the inner product)', () => {
    expect(derive(kernel('relu(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/not differentiable at 0 \(a kink or jump at 0\)/);
  });
  it('an inner product that does not vanish off the diagonal (unit-variance rows summed without 1/D)', () => {
    expect(derive(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))', '1'))).toThrow(/must be of order 1 on the diagonal and vanish off it/);
  });
  it("a kernel with f'(0) = 0 and no other random part (its bulk is a point mass)", () => {
    expect(derive(kernel('cos(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/no random part/);
  });
  it('a function of random matrices that is neither a feature Gram nor a kernel matrix', () => {
    expect(derive(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))*tanh(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/kernel matrix|feature Gram/);
  });
  it('a smooth kernel is accepted: tanh has f(0) = f\'\'(0) = 0, so no constant part and no outlier', () => {
    const s = deriveSpectrum(loadModelSource(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))'), 'k.dmft'));
    expect(s.spikes).toHaveLength(0);
    expect(s.growing).toHaveLength(0);
    expect(s.equivalents[0]).toMatch(/f'\(0\) = 1/);
  });
});

describe('feature Gram matrices that are refused', () => {
  const gram = (body: string, v = '1/D') => `model "gram"
index i in 1..D
index k in 1..P
index mu, nu in 1..n
ratio P/D = 0.5
ratio n/D = 1.5
random X[mu,i] ~ normal(0, ${v})
random F[k,i] ~ normal(0, 1)
matrix G[mu,nu] = ${body}
`;
  it('not normalized by the number of features: its linear equivalent grows with the sizes', () => {
    expect(derive(gram('sum(k, tanh(sum(i, F[k,i]*X[mu,i]))*tanh(sum(i, F[k,i]*X[nu,i])))'))).toThrow(/scaling: the term .* of the linear equivalent of G grows like N\^1/);
  });
  it('a projection whose variance grows (unit-variance examples)', () => {
    expect(derive(gram('mean(k, tanh(sum(i, F[k,i]*X[mu,i]))*tanh(sum(i, F[k,i]*X[nu,i])))', '1'))).toThrow(/variance of the projection .* is not a positive number in the limit/);
  });
  it('two different functions on the two sides', () => {
    expect(derive(gram('mean(k, tanh(sum(i, F[k,i]*X[mu,i]))*erf(sum(i, F[k,i]*X[nu,i])))'))).toThrow(/different functions/);
  });
});

describe('the linear equivalents in the LaTeX', () => {
  for (const f of ['examples/spectrum/relu-feature-gram.dmft', 'examples/spectrum/kernel-matrix.dmft']) {
    it(`${f}: the constants are shown and KaTeX renders the equations`, () => {
      const tex = spectrumToTex(deriveSpectrum(loadModel(f)));
      expect(tex).toMatch(f.includes('relu') ? /\\mu_0 = 0\.3989422804,\\; \\mu_1 = 0\.5,/ : /f'\(0\) = 1,\\; f''\(0\) = 1,/);
      const body = tex.slice(tex.indexOf('\\begin{align}'), tex.indexOf('\\end{align}') + '\\end{align}'.length);
      expect(() => validateKatex(body)).not.toThrow();
    });
  }
});

describe('the kernel example against Marchenko–Pastur in closed form', () => {
  // K ≈ XXᵀ + (e − 2 + θ)·I + (1/2 + θ)/D·11ᵀ with n = D: MP of ratio 1 on [0, 4], shifted; the
  // spike of strength 3 along 1/√n has its outlier where 1 + 3·m_MP(λ) = 0, m_MP(z) = (−z + √(z² − 4z))/(2z): λ = 4.5
  const m = loadModel('examples/spectrum/kernel-matrix.dmft');
  const solver = new SpectrumSolver(deriveSpectrum(m), m);
  const shift = Math.E - 2 + 2.5;
  it('m(z) off the axis is the shifted Marchenko–Pastur transform', () => {
    for (const z of [[5, 0.5], [2, 1], [8, 0.2]] as [number, number][]) {
      const w: [number, number] = [z[0] - shift, z[1]];
      // (−w + √(w² − 4w))/(2w) on the branch with Im m > 0
      const sq = csqrt(cmul(w, [w[0] - 4, w[1]]));
      let r = cdiv([-w[0] + sq[0], -w[1] + sq[1]], [2 * w[0], 2 * w[1]]);
      if (r[1] < 0) r = cdiv([-w[0] - sq[0], -w[1] - sq[1]], [2 * w[0], 2 * w[1]]);
      const v = solver.stieltjes(z);
      expect(Math.hypot(v.m[0] - r[0], v.m[1] - r[1])).toBeLessThan(1e-8);
    }
  });
  it('the spike along 1 gives the outlier 4.5 + shift', () => {
    // the right edge at 4 + shift (the density's own bisection is tested with the linear examples)
    expect(solver.stieltjes([4 + shift - 0.01, 0]).m[1]).toBeGreaterThan(0.01);
    expect(solver.stieltjes([4 + shift + 0.01, 0]).m[1]).toBeLessThan(1e-9);
    const out = solver.outliers([[shift, 4 + shift]]);
    expect(out).toHaveLength(1);
    expect(out[0].lambda).toBeCloseTo(4.5 + shift, 8);
  });
});

type Cx = [number, number];
const cmul = (a: Cx, b: Cx): Cx => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: Cx, b: Cx): Cx => { const d = b[0] ** 2 + b[1] ** 2; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; };
const csqrt = (a: Cx): Cx => { const r = Math.hypot(a[0], a[1]); const re = Math.sqrt((r + a[0]) / 2); const im = Math.sign(a[1] || 1) * Math.sqrt((r - a[0]) / 2); return [re, im]; };

describe('nonlinear matrices are sampled as written', () => {
  it('ReLU features: the diagonal averages E relu(h)² = 1/2, the off-diagonal entries μ0² = 1/(2π)', () => {
    const m = loadModel('examples/spectrum/relu-feature-gram.dmft');
    const s = sampleMatrix(m, 'G', 120, 3);
    let diag = 0, off = 0;
    for (let a = 0; a < s.n; a++) for (let b = 0; b < s.n; b++) { if (a === b) diag += s.H[a * s.n + b]; else off += s.H[a * s.n + b]; expect(s.H[a * s.n + b]).toBe(s.H[b * s.n + a]); }
    expect(diag / s.n).toBeCloseTo(0.5, 1);
    // the off-diagonal mean fluctuates by ~0.004 from seed to seed at this size (numpy: 0.153–0.162)
    expect(Math.abs(off / (s.n * (s.n - 1)) - 1 / (2 * Math.PI))).toBeLessThan(0.015);
  });
  it('a kernel: the diagonal is f(|x|²) ≈ f(1) = e − 1 + theta, the spike vector is the all-ones vector', () => {
    const m = loadModel('examples/spectrum/kernel-matrix.dmft');
    const s = sampleMatrix(m, 'K', 150, 4);
    let diag = 0;
    for (let a = 0; a < s.n; a++) diag += s.H[a * s.n + a];
    expect(diag / s.n).toBeCloseTo(Math.E - 1 + 2.5, 1);
    expect([...s.spikeVectors[0]].every((x) => x === 1)).toBe(true);
  });
});
