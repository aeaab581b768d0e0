// The graded time grid of the Gaussian closure (blocks of steps, each block's
// step twice the last one's; docs/gaussian-closure.md, "Graded grids"): its
// nodes, a linear transient against its Marchenko–Pastur closed form past
// several doublings, and a nonlinear network with a mean field against the
// uniform grid — every reported error must cover the deviation.
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { gradedGrid, solveGaussian, type GaussianOptions } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';
import { regressionLrLosses, regressionLrModel } from '../helpers/regression-lr.ts';

function run(src: string, opts: Omit<GaussianOptions, 'params'>) {
  const sys = deriveCavity(loadModelSource(src, '<test>')).system;
  return solveGaussian(readSystem(sys), { params: sys.params, ...opts }).result;
}


describe('graded grids', () => {
  it('blocks of steps doubling up to the cap, an even number of steps ending on T', () => {
    const g = gradedGrid(10, 0.1, 8, 0.4);
    expect(g[0]).toBe(0);
    expect(g[g.length - 1]).toBe(10);
    expect((g.length - 1) % 2).toBe(0);
    const steps = Array.from({ length: g.length - 1 }, (_, i) => g[i + 1] - g[i]);
    steps.forEach((s, i) => expect(s, `step ${i}`).toBeGreaterThan(0));
    expect(steps.slice(0, 8).every((s) => Math.abs(s - 0.1) < 1e-12)).toBe(true);
    expect(steps.slice(8, 16).every((s) => Math.abs(s - 0.2) < 1e-12)).toBe(true);
    expect(Math.max(...steps)).toBeLessThanOrEqual(0.4 + 1e-12);
    // uncapped, the steps keep doubling: far fewer nodes than T/dt
    expect(gradedGrid(1000, 0.25, 64).length - 1).toBeLessThan(600);
  });

  it('gradient flow on regression past three doublings: test and train losses against Marchenko–Pastur', () => {
    const alpha = 3, s2 = 0.3, eta = 0.7, s0 = 0.5, tau = 2, times = [2, 8, 20, 30];
    const r = run(regressionLrModel({ alpha, s2, eta, s0, tau }), { T: 30, dt: 0.1, block: 32, times });
    expect(r.diagnostics.grid).toBe('graded');
    expect(Number(r.diagnostics.gridMaxStep)).toBeGreaterThanOrEqual(0.4);
    times.forEach((t, k) => {
      const { test, train } = regressionLrLosses({ alpha, s2, eta, s0, tau }, t, 8000);
      expect(Math.abs(r.observables.test[k] - test), `test(${t})`).toBeLessThanOrEqual(r.error.test[k]);
      expect(Math.abs(r.observables.train[k] - train), `train(${t})`).toBeLessThanOrEqual(r.error.train[k]);
      expect(r.error.test[k] / test).toBeLessThan(1e-3);
    });
  });

  it('a tanh network with a mean coupling: the graded grid agrees with the uniform one within both bars', () => {
    const src = `model "tanh network with a mean coupling"
param g = 1.3, J0 = 0.8
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N)
state x[i]
init x[i] ~ normal(0.5, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe m = mean(i, tanh(x[i]))
observe var = mean(i, x[i]^2)`;
    const times = [1, 2.5, 4, 6];
    const u = run(src, { T: 6, dt: 0.05, grid: 'uniform', times });
    const g = run(src, { T: 6, dt: 0.05, block: 32, times });
    expect(g.diagnostics.grid).toBe('graded');
    // the own damping (rate 1) caps the steps at 0.5·2/1 on the grid dt
    expect(Number(g.diagnostics.gridMaxStep)).toBeLessThanOrEqual(1 + 1e-9);
    for (const k of ['m', 'var']) times.forEach((t, i) => {
      expect(Math.abs(g.observables[k][i] - u.observables[k][i]), `${k}(${t})`).toBeLessThanOrEqual(g.error[k][i] + u.error[k][i]);
      expect(g.error[k][i], `${k}(${t})`).toBeLessThan(1e-3);
    });
  });
});
