// Minibatch SGD on linear random features as a map (examples/sgd-random-features.dmft):
// three populations and several variables per site (beta and g on the input
// sites) on the step grid, against exact finite-D linear algebra averaged over
// draws and masks and extrapolated in 1/D (bench/rf_map_ref.py, stored in
// bench/references/rf-map.json), for full batch (b = 1) and b = 0.5.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';

const ref = JSON.parse(readFileSync('bench/references/rf-map.json', 'utf8'));

describe('minibatch SGD on linear random features (a map with vector sites)', () => {
  for (const [b, run] of Object.entries(ref.runs) as [string, Record<string, Record<string, number>>][]) {
    it(`b = ${b}: test and train losses within 3 standard errors of the finite-D extrapolation`, () => {
      const params = { ...ref.params, b: +b };
      const sys = derive(loadModel('examples/sgd-random-features.dmft', params), 'msr').system;
      const r = solve(sys, { params: { ...sys.params, ...params }, T: 10, dt: 1 });
      for (const k of ['test', 'train']) for (const t of ref.steps as number[]) {
        const se = run[`${k}_se`][t];
        expect(se).toBeLessThan(3e-3);
        expect(Math.abs(r.observables[k][t] - run[k][t]), `${k}(${t}) ± ${se}`).toBeLessThanOrEqual(3 * se + r.error[k][t]);
      }
    });
  }

  it('step 1 equals its closed form by free probability: ½(1 − 2 lr αγ + lr² (α² + α)(γ² + γ)) + ½ lr² (1 − b)/b · αγ(1 + γ)', () => {
    // β(1) − w* = (lr K X^T (S/b) X − 1) w*, K = F^T F, S the mask: K and X^T X are asymptotically free, with
    // normalized traces τ(K) = γ, τ(K²) = γ² + γ, τ(XᵀX) = α, τ((XᵀX)²) = α² + α; the mask adds the variance
    // (1 − b)/b per sample, Σ_μ (X_μ·w*)² X_μᵀ K² X_μ / D → α τ(K²)
    for (const [alpha, gamma, lr, b] of [[0.5, 1.1, 0.2, 0.5], [2, 0.7, 0.1, 0.25], [1.5, 3, 0.05, 1]]) {
      const params = { alpha, gamma, lr, b, sigma2: 0 };
      const sys = derive(loadModel('examples/sgd-random-features.dmft', params), 'cavity').system;
      const r = solve(sys, { params: { ...sys.params, ...params }, T: 1, dt: 1 });
      const exact = (1 - 2 * lr * alpha * gamma + lr ** 2 * (alpha ** 2 + alpha) * (gamma ** 2 + gamma)) / 2 + (lr ** 2 * (1 - b) / b * alpha * (gamma ** 2 + gamma)) / 2;
      expect(Math.abs(r.observables.test[1] - exact), `α=${alpha} γ=${gamma} lr=${lr} b=${b}`).toBeLessThanOrEqual(r.error.test[1] + 1e-14);
    }
  });

  it('the masks raise both losses above full batch at every step', () => {
    const at = (b: number) => {
      const sys = derive(loadModel('examples/sgd-random-features.dmft', { b }), 'cavity').system;
      return solve(sys, { params: { ...sys.params, b }, T: 10, dt: 1 });
    };
    const full = at(1), half = at(0.5);
    for (const k of ['test', 'train']) for (let t = 1; t <= 10; t++) expect(half.observables[k][t], `${k}(${t})`).toBeGreaterThan(full.observables[k][t] + 1e-3);
  });
});
