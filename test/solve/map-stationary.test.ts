// The stationary state of affine maps with memory, solved directly
// (src/solve/map-stationary.ts): a noisy linear map with symmetric couplings
// (not in examples/) against its closed form over the semicircle law, at and
// past its stability edge; full-batch GD at the least-squares answer up to its
// learning-rate edge and divergent past it; the SGD noise floor against the
// exact finite-D stationary average over the masks extrapolated in 1/D
// (bench/sgd_stationary_ref.py → bench/references/sgd-stationary.json), and the
// noisy map's own edge (the noise feeding itself) reported without a number.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveMapStationary } from '../../src/solve/map-stationary.ts';

const stationary = (sys: ReturnType<typeof derive>['system'], params: Record<string, number>) => {
  const r = solveMapStationary(sys, { ...sys.params, ...params });
  const obs = (name: string) => {
    if (r.status !== 'value') throw new Error(`no value: ${r.status} (${r.reason})`);
    return r.observable(sys.observables.find((o) => o.name === name)!.expr);
  };
  return { r, obs };
};

// x(t+1) = a x + Σ_j J_ij x_j + ξ_i(t), J symmetric with semicircle spectrum on [−2g, 2g], ξ ~ N(0, v)
// fresh at every step: each eigenmode λ is an AR(1) process, q = v ∫ ρ(λ) dλ / (1 − (a + λ)²),
// stable while |a| + 2g < 1. The symmetric couplings give the site a memory (a reaction term).
const SYM = `model "noisy linear map with symmetric couplings"
param a = 0.3, g = 0.25, v = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = 1
random xi[i](t) ~ normal(0, v)
state x[i]
init x[i] = 0
x[i](t+1) = a*x[i] + sum(j, J[i,j]*x[j]) + xi[i]
observe q = mean(i, x[i]^2)
`;
/** v ∫ ρ_sc(λ)/(1 − (a + λ)²) dλ with λ = 2g cos θ (ρ dλ = (2/π) sin²θ dθ): a periodic integrand, trapezoid */
function semicircleQ(a: number, g: number, v: number): number {
  const n = 4000;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const th = (Math.PI * (k + 0.5)) / n;
    s += (2 / Math.PI) * Math.sin(th) ** 2 / (1 - (a + 2 * g * Math.cos(th)) ** 2);
  }
  return (v * s * Math.PI) / n;
}

describe('stationary state of an affine map with memory, solved directly', () => {
  for (const route of ['cavity', 'msr'] as const) {
    it(`symmetric couplings: q equals the semicircle closed form within the bar, close to the edge too (${route})`, () => {
      for (const g of route === 'cavity' ? [0.25, 0.34] : [0.25]) {
        const sys = derive(loadModelSource(SYM, 'sym.dmft', { g }), route).system;
        const { r, obs } = stationary(sys, { g });
        expect(r.status).toBe('value');
        const q = obs('q'), exact = semicircleQ(0.3, g, 1);
        expect(Math.abs(q.value - exact)).toBeLessThanOrEqual(q.error);
        expect(q.error).toBeLessThan(1e-9 * exact);
      }
    });
  }
  it('symmetric couplings past the edge (a + 2g = 1.02) are divergent; at it (a + 2g = 1, a power-law response) no value is given', () => {
    for (const [g, want] of [[0.36, /divergent/], [0.35, /inapplicable|marginal/]] as const) {
      const sys = derive(loadModelSource(SYM, 'sym.dmft', { g })).system;
      const r = solveMapStationary(sys, { ...sys.params, g });
      expect(r.status).toMatch(want);
      expect('observable' in r).toBe(false);
    }
  });
  it('full-batch GD: the least-squares limit up to the learning-rate edge 2/λ_max = 0.686, divergent past it', () => {
    const alpha = 2, sigma2 = 0.25;
    for (const lr of [0.5, 0.68]) {
      const sys = derive(loadModel('examples/gd-linear-regression.dmft', { lr })).system;
      const { obs } = stationary(sys, { lr });
      expect(Math.abs(obs('test').value - sigma2 / (2 * (alpha - 1)))).toBeLessThanOrEqual(obs('test').error);
      expect(Math.abs(obs('train').value - (sigma2 * (1 - 1 / alpha)) / 2)).toBeLessThanOrEqual(obs('train').error);
    }
    const sys = derive(loadModel('examples/gd-linear-regression.dmft', { lr: 0.69 })).system;
    const r = solveMapStationary(sys, { ...sys.params, lr: 0.69 });
    expect(r.status).toBe('divergent');
    expect(r.reason).toMatch(/grows by ×1\.0\d+ per step/);
  });
  it('the SGD noise floor agrees with the exact finite-D stationary average extrapolated in 1/D (within 3 standard errors)', () => {
    const ref = JSON.parse(readFileSync('bench/references/sgd-stationary.json', 'utf8')) as { points: { lr: number; b: number; test: number; test_se: number; train: number; train_se: number }[] };
    for (const p of ref.points.filter((x) => (x.lr === 0.3 || x.lr === 0.5 || x.lr === 0.65) && x.b === 0.5)) {
      const sys = derive(loadModel('examples/sgd-linear-regression.dmft', { lr: p.lr, b: p.b })).system;
      const { r, obs } = stationary(sys, { lr: p.lr, b: p.b });
      expect(r.status).toBe('value');
      for (const k of ['test', 'train'] as const) {
        const v = obs(k);
        expect(v.error).toBeLessThan(1e-10);
        expect(Math.abs(v.value - p[k])).toBeLessThanOrEqual(3 * p[`${k}_se`]);
      }
    }
  });
  it('SGD past its edge: the noise feeding itself (b = 0.25, lr = 0.65) and the responses growing (b = 0.5, lr = 0.7) give no number', () => {
    for (const [b, lr, why] of [[0.25, 0.65, /noise .* loop gain 1\.\d+/], [0.5, 0.7, /response grows/]] as const) {
      const sys = derive(loadModel('examples/sgd-linear-regression.dmft', { lr, b })).system;
      const r = solveMapStationary(sys, { ...sys.params, lr, b });
      expect(r.status).toBe('divergent');
      expect(r.reason).toMatch(why);
    }
  });
  it('online SGD (b = κ/α, α → ∞): the noise floor approaches the fixed point of the Gaussian-feature recursion of Bordelon & Pehlevan (2022), isotropic case', () => {
    // q(t+1) = q((1 − lr)² + lr²/κ) + lr² σ²/κ: q* = lr² σ²/κ / (1 − (1 − lr)² − lr²/κ); test = q*/2
    const lr = 0.5, kappa = 1, sigma2 = 0.25;
    const floor = (lr * lr * sigma2) / kappa / (1 - (1 - lr) ** 2 - (lr * lr) / kappa) / 2;
    const gap = (alpha: number) => {
      const sys = derive(loadModel('examples/online-sgd-linear-regression.dmft', { alpha })).system;
      const { obs } = stationary(sys, { alpha });
      return obs('test').value - floor;
    };
    const g64 = gap(64), g256 = gap(256);
    expect(Math.abs(g256)).toBeLessThan(Math.abs(g64) / 2);
    expect(Math.abs(g256)).toBeLessThan(1e-4);
  });
  it('a nonlinear map is not for this solver (the transient or the equal-time fixed point answers)', () => {
    const sys = derive(loadModel('examples/random-map.dmft')).system;
    expect(solveMapStationary(sys, sys.params).status).toBe('inapplicable');
  });
});
