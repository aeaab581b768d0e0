// Transients of the Gaussian closure on models that are not among the
// examples, against closed forms (random-matrix spectral integrals): every
// reported error must cover the deviation.
//   - i.i.d. linear network with white noise: var(t) = σ² ∫₀ᵗ e^{−2u} I₀(2gu) du
//   - symmetric linear network (κ = 1) with a quenched bias: semicircle law
//   - gradient flow on regression with a learning rate, a random start and a
//     teacher of variance τ: Marchenko–Pastur
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { integrate } from '../../src/numeric/integrate.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';
import { regressionLrLosses, regressionLrModel } from '../helpers/regression-lr.ts';

function run(src: string, T: number, dt: number, times: number[]) {
  const sys = deriveCavity(loadModelSource(src, '<test>')).system;
  return solveGaussian(readSystem(sys), { params: sys.params, T, dt, times }).result;
}

/** I₀(x)e^{−x} (series; x ≤ 60) */
const i0e = (x: number) => { let s = 0, t = 1; for (let m = 0; m < 500; m++) { if (m > 0) t *= (x / 2) ** 2 / (m * m); s += t; if (t < 1e-18 * s) break; } return s * Math.exp(-x); };

/** ∫ f(λ) dμ_sc(λ), semicircle of radius 2g (λ = 2g cos θ; the midpoint rule in θ converges geometrically) */
const semicircle = (g: number, f: (l: number) => number, n = 4000) => {
  let s = 0;
  for (let k = 0; k < n; k++) { const th = (Math.PI * (k + 0.5)) / n; s += (2 / n) * Math.sin(th) ** 2 * f(2 * g * Math.cos(th)); }
  return s;
};


describe('linear networks: transients against random-matrix closed forms', () => {
  it('i.i.d. couplings with white noise (g = 0.8, σ² = 0.5): var(t) = σ²∫₀ᵗ e^{−2u} I₀(2gu) du', () => {
    const g = 0.8, s2 = 0.5, times = [1, 3, 8];
    const r = run(`model "noisy linear network"
param g = ${g}, s2 = ${s2}
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)`, 8, 0.1, times);
    times.forEach((t, k) => {
      const exact = s2 * integrate((u) => Math.exp(-2 * (1 - g) * u) * i0e(2 * g * u), 0, t, { absTol: 1e-16, relTol: 1e-14 }).value;
      expect(Math.abs(r.observables.var[k] - exact), `t = ${t}`).toBeLessThanOrEqual(r.error.var[k]);
      expect(r.error.var[k] / exact).toBeLessThan(1e-5);
    });
  });

  it('symmetric couplings (κ = 1, g = 0.4) with a quenched bias: var(t) = s² ∫ [(1 − e^{−(1−λ)t})/(1−λ)]² dμ_sc', () => {
    const g = 0.4, s2 = 1.3, times = [2, 5, 12];
    const r = run(`model "symmetric linear network with a quenched bias"
param g = ${g}, s2 = ${s2}
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = 1
random b[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + b[i]
observe var = mean(i, x[i]^2)`, 12, 0.2, times);
    times.forEach((t, k) => {
      const exact = s2 * semicircle(g, (l) => (-Math.expm1(-(1 - l) * t) / (1 - l)) ** 2);
      expect(Math.abs(r.observables.var[k] - exact), `t = ${t}`).toBeLessThanOrEqual(r.error.var[k]);
      expect(r.error.var[k] / exact).toBeLessThan(1e-4);
    });
  });
});

describe('gradient flow on regression, learning rate η, random start, teacher variance τ', () => {
  it('test and train losses against Marchenko–Pastur (α = 3)', () => {
    const alpha = 3, s2 = 0.3, eta = 0.7, s0 = 0.5, tau = 2, times = [0.5, 2, 6];
    const r = run(regressionLrModel({ alpha, s2, eta, s0, tau }), 6, 0.1, times);
    times.forEach((t, k) => {
      // v = w − w* starts with variance s0 + τ; S = XᵀX/α; v(t) = e^{−ηSt}v(0) − (1 − e^{−ηSt})S⁻¹Xᵀε/α
      const { test, train } = regressionLrLosses({ alpha, s2, eta, s0, tau }, t);
      expect(Math.abs(r.observables.test[k] - test), `test(${t})`).toBeLessThanOrEqual(r.error.test[k]);
      expect(Math.abs(r.observables.train[k] - train), `train(${t})`).toBeLessThanOrEqual(r.error.train[k]);
      expect(r.error.test[k] / test).toBeLessThan(1e-4);
    });
  });
});
