// The Gaussian closure on the step grid (src/solve/map.ts) against independent
// references: full-batch gradient descent on linear regression against its
// Marchenko–Pastur closed form, and the discrete-time random network against
// its DMFT recursion computed by another quadrature (bench/*_ref.py, stored in
// bench/references/). Every value must lie within its error bar of the reference.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import { DmftError } from '../../src/errors.ts';

const gd = JSON.parse(readFileSync('bench/references/gd-linear-regression.json', 'utf8'));
const rmap = JSON.parse(readFileSync('bench/references/random-map.json', 'utf8'));

// the random network with its two-time correlation observed
const RANDOM_MAP = readFileSync('examples/random-map.dmft', 'utf8') + 'observe c0(t, s) = mean(i, x[i](t)*x[i](s))\n';

const run = (file: string, params: Record<string, number>, T: number, route: 'cavity' | 'msr' = 'cavity') => {
  const m = file === 'random-map+c0' ? loadModelSource(RANDOM_MAP, 'random-map.dmft', params) : loadModel(file, params);
  const sys = derive(m, route).system;
  return solve(sys, { params: { ...sys.params, ...params }, T, dt: 1 });
};

describe('step-grid closure: full-batch gradient descent on linear regression', () => {
  for (const lr of ['0.3', '0.5', '0.65']) {
    it(`lr = ${lr}: test and train loss at every step equal the Marchenko–Pastur closed form within the error bars`, () => {
      const r = run('examples/gd-linear-regression.dmft', { lr: +lr }, gd.T);
      expect(r.t).toEqual(Array.from({ length: gd.T + 1 }, (_, k) => k));
      for (const k of ['test', 'train']) {
        const ref: number[] = gd.runs[lr][k];
        r.observables[k].forEach((v, t) => {
          // the reference is an adaptive quadrature to ~1e-13
          expect(Math.abs(v - ref[t]), `${k}(${t})`).toBeLessThanOrEqual(r.error[k][t] + 1e-11);
          expect(r.error[k][t]).toBeLessThan(1e-12);
        });
      }
    });
  }

  it('the limit at lr = 0.5 contains the least-squares answer: test σ²/(2(α − 1)), train σ²(1 − 1/α)/2', () => {
    const r = run('examples/gd-linear-regression.dmft', { lr: 0.5 }, 60, 'msr');
    expect(r.limitStatus!.test.status).toBe('value');
    expect(Math.abs(r.limit!.test - 0.125)).toBeLessThanOrEqual(r.limitError!.test);
    expect(Math.abs(r.limit!.train - 0.0625)).toBeLessThanOrEqual(r.limitError!.train);
  });

  it('past the stability edge lr = 2/λ_max the map is reported divergent, with no limit', () => {
    expect(gd.edge).toBeCloseTo(0.6863, 4);
    const r = run('examples/gd-linear-regression.dmft', { lr: 0.75 }, 40);
    expect(r.limitStatus!.test.status).toBe('divergent');
    expect(r.limitStatus!.test.reason).toMatch(/unstable/);
    expect(r.limit?.test).toBeUndefined();
    // growth per step of the distance between steps: |1 − lr·λ_max|² for the slowest-decaying mode
    const lmax = (1 + 1 / Math.sqrt(2)) ** 2;
    expect(Math.exp(r.limitStatus!.test.growth!.rate)).toBeGreaterThan(1);
    expect(Math.exp(r.limitStatus!.test.growth!.rate)).toBeLessThan((0.75 * lmax - 1) ** 2 * 1.1);
    // below the edge: no divergence
    expect(run('examples/gd-linear-regression.dmft', { lr: 0.65 }, 40).limitStatus!.test.status).not.toBe('divergent');
  });

  it('a learning rate far past the edge overflows into a clear error, not data', () => {
    expect(() => run('examples/gd-linear-regression.dmft', { lr: 20 }, 60)).toThrow(/diverges|overflow/);
  });
});

describe('step-grid closure: discrete-time random network x(t+1) = tanh(Σ J x)', () => {
  for (const g of ['0.8', '1.5', '3']) {
    it(`g = ${g}: q(t) and C(t, s) equal the reference recursion within the error bars`, () => {
      // (g = 3 over fewer steps: its wide fields need the most quadrature points)
      const r = run('random-map+c0', { g: +g }, g === '3' ? 8 : rmap.T);
      const ref = rmap.runs[g === '3' ? '3.0' : g];
      r.observables.q.forEach((v, t) => expect(Math.abs(v - ref.q[t]), `q(${t})`).toBeLessThanOrEqual(r.error.q[t] + 1e-12));
      const C = r.twoTime!.c0;
      C.t.forEach((a, i) => C.t.forEach((b, j) => expect(Math.abs(C.values[i][j] - ref.C[a][b]), `C(${a},${b})`).toBeLessThanOrEqual(C.error![i][j] + 1e-12)));
      expect(Math.max(...r.error.q)).toBeLessThan(1e-5);
    });
  }
});

describe('step-grid closure: what it refuses', () => {
  it('a nonlinear map fed back through its own past is not Gaussian: the closure refuses it with the reason', () => {
    const src = `model "leaky"\nparam g = 1.2\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nx[i](t+1) = 0.5*x[i] + tanh(sum(j, J[i,j]*x[j]))\nobserve q = mean(i, x[i]^2)\n`;
    const sys = derive(loadModelSource(src, 'leaky.dmft'), 'cavity').system;
    expect(() => solve(sys, { params: sys.params, T: 10, dt: 1, method: 'gaussian' })).toThrow(/not Gaussian/);
  });

  it('a non-integer number of steps, non-integer times and a continuous-time method are refused', () => {
    const sys = derive(loadModel('examples/random-map.dmft'), 'cavity').system;
    expect(() => solve(sys, { params: sys.params, T: 2.5, dt: 1 })).toThrow(DmftError);
    expect(() => solve(sys, { params: sys.params, T: 4, dt: 1, times: [0.5] })).toThrow(/not a step/);
    expect(() => solve(sys, { params: sys.params, T: 4, dt: 1, method: 'static' })).toThrow(/step grid/);
  });
});

describe('continuous-time limit', () => {
  it('gradient descent with a small learning rate approaches gradient flow: the gap at t = n·lr shrinks linearly in lr', () => {
    const gfSys = derive(loadModel('examples/linear-regression-gf.dmft'), 'cavity').system;
    const gf = solve(gfSys, { params: gfSys.params, T: 2, dt: 0.05, times: [1, 2] });
    const gaps = [0.2, 0.1, 0.05].map((lr) => {
      const r = run('examples/gd-linear-regression.dmft', { lr }, Math.round(2 / lr));
      return [1, 2].map((t, k) => Math.abs(r.observables.test[Math.round(t / lr)] - gf.observables.test[k]));
    });
    for (let k = 0; k < 2; k++) {
      // first order in lr: halving lr halves the gap (the flow's own error bars are far smaller)
      expect(gaps[1][k] / gaps[0][k]).toBeGreaterThan(0.4);
      expect(gaps[1][k] / gaps[0][k]).toBeLessThan(0.6);
      expect(gaps[2][k] / gaps[1][k]).toBeGreaterThan(0.4);
      expect(gaps[2][k] / gaps[1][k]).toBeLessThan(0.6);
      expect(gaps[2][k]).toBeGreaterThan(10 * gf.error.test[k]);
    }
  });
});
