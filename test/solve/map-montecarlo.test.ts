// The Monte Carlo sweep on the step grid (src/solve/montecarlo-map.ts): against
// the exact step-grid closure on an affine map with masks (minibatch SGD on
// linear regression), against an independent finite-D simulation extrapolated
// in 1/D for a map the closure refuses (SGD on a log-cosh loss: the mask
// multiplies tanh of a quantity with memory; bench/logcosh_sgd_ref.py), and the
// dispatch (the closure first, Monte Carlo when it refuses). Cheap settings:
// the error bars are wider than at the defaults, and must still cover.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { readSystem } from '../../src/solve/read.ts';

const CHEAP = { paths: 200, replicas: 8, maxReplicas: 8, tol: 0.05 };
const mc = (file: string, params: Record<string, number>, T: number) => {
  const sys = derive(loadModel(file, params), 'cavity').system;
  return solveMonteCarlo(readSystem(sys, sys.params, { discrete: true }), { params: sys.params, T, dt: 1, seed: 3, ...CHEAP });
};

describe('Monte Carlo on the step grid', () => {
  it('minibatch SGD on linear regression (b = 0.25): covers the exact step-grid closure at every step', () => {
    const file = 'examples/sgd-linear-regression.dmft', T = 4;
    const sys = derive(loadModel(file), 'cavity').system;
    const exact = solve(sys, { params: sys.params, T, dt: 1, method: 'gaussian' });
    const r = mc(file, {}, T);
    expect(r.method).toBe('montecarlo');
    for (const name of ['test', 'train']) {
      r.observables[name].forEach((v, t) => {
        // 3 error bars (the bars are 1σ-equivalent)
        expect(Math.abs(v - exact.observables[name][t]), `${name}(${t})`).toBeLessThanOrEqual(3 * r.error[name][t]);
        expect(r.error[name][t], `${name}(${t}) bar`).toBeLessThan(0.1 * exact.observables[name][0]);
      });
    }
  });

  const refFile = 'bench/references/logcosh-sgd.json';
  it.runIf(existsSync(refFile))('SGD on a log-cosh loss (mask × tanh, with memory): covers the finite-D simulation extrapolated in 1/D', () => {
    const ref = JSON.parse(readFileSync(refFile, 'utf8'));
    const T = 5;
    const r = mc('test/solve/models/logcosh-sgd.dmft', ref.params, T);
    for (const name of ['test', 'train']) {
      for (let t = 0; t <= T; t++) {
        const e = ref.extrapolated[name][t];
        const gap = Math.abs(r.observables[name][t] - e.value), bar = Math.hypot(r.error[name][t], e.se);
        expect(gap, `${name}(${t}): ${r.observables[name][t]} ± ${r.error[name][t]} vs ${e.value} ± ${e.se}`).toBeLessThanOrEqual(3 * bar);
      }
    }
    // the loss moves: a solver that ignored the dynamics would not pass
    expect(r.observables.test[T]).toBeLessThan(0.5 * r.observables.test[0]);
  });

  it('solve: the closure refuses the log-cosh map, Monte Carlo takes it and says why; --method gaussian refuses it', () => {
    const sys = derive(loadModel('test/solve/models/logcosh-sgd.dmft'), 'cavity').system;
    const r = solve(sys, { params: sys.params, T: 2, dt: 1, samples: 1600, maxReplicas: 8, paths: 200 } as Parameters<typeof solve>[1]);
    expect(r.method).toBe('montecarlo');
    expect(String(r.diagnostics.whyNotGaussian)).toMatch(/not Gaussian.*mask/);
    expect(r.limitStatus!.test.status).toBe('absent');
    expect(() => solve(sys, { params: sys.params, T: 2, dt: 1, method: 'gaussian' })).toThrow(/not Gaussian/);
    expect(() => solve(sys, { params: sys.params, T: 2, dt: 1, method: 'static' })).toThrow(/step grid/);
  });
});
