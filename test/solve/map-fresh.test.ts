// Inputs drawn afresh at every step of a map (random s[mu](t) ~ …) in the
// step-grid closure (src/solve/map.ts): closed forms of linear networks with a
// mask on the summed population and with additive per-step noise (models not
// in examples/), minibatch SGD at b = 1 against the Marchenko–Pastur closed
// form of full-batch GD, SGD at b < 1 against the exact finite-D
// mask average extrapolated in 1/D (bench/sgd_linear_regression_ref.py), the
// divergence past the stability edge, the refusal of nonlinear averages of
// masked quantities, and the continuous-time limit (small lr at fixed b: gradient flow).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import { DmftError } from '../../src/errors.ts';

const solveSource = (src: string, params: Record<string, number>, T: number, route: 'cavity' | 'msr' = 'cavity', method?: string) => {
  const sys = derive(loadModelSource(src, 'm.dmft', params), route).system;
  return solve(sys, { params: { ...sys.params, ...params }, T, dt: 1, method });
};
const solveFile = (file: string, params: Record<string, number>, T: number) => {
  const sys = derive(loadModel(file, params), 'msr').system;
  return solve(sys, { params: { ...sys.params, ...params }, T, dt: 1 });
};

// x(t+1) = (g/b) Σ_j J_ij s_j(t) x_j, J non-symmetric: no reaction term, the field variance is
// g² E[(s x/b)²] = (g²/b) q(t), so q(t) = (g²/b)^t from x(0) ~ N(0, 1)
const MASKED = `model "masked linear network"
param g = 0.6, b = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, 1/N)
random s[j](t) ~ bernoulli(b)
state x[i]
init x[i] ~ normal(0, 1)
x[i](t+1) = g/b * sum(j, J[i,j]*s[j]*x[j])
observe q = mean(i, x[i]^2)
`;
// x(t+1) = g Σ_j J_ij x_j + z_i(t), z ~ N(0, v) fresh each step: q(t) = v (1 − g^{2t})/(1 − g²)
const NOISY = `model "noisy linear network"
param g = 0.8, v = 0.3
index i, j in 1..N
random J[i,j] ~ normal(0, 1/N)
random z[i](t) ~ normal(0, v)
state x[i]
init x[i] = 0
x[i](t+1) = g * sum(j, J[i,j]*x[j]) + z[i]
observe q = mean(i, x[i]^2)
`;

describe('step-grid closure with inputs drawn afresh at every step: closed forms', () => {
  for (const route of ['cavity', 'msr'] as const) {
    it(`a Bernoulli mask on the summed population: q(t) = (g²/b)^t, stable below g² = b and divergent above (${route})`, () => {
      for (const [g, b] of [[0.6, 0.5], [0.9, 0.3]]) {
        const r = solveSource(MASKED, { g, b }, 20, route);
        r.observables.q.forEach((v, t) => expect(Math.abs(v - (g * g / b) ** t), `g=${g} b=${b} q(${t})`).toBeLessThanOrEqual(1e-13 * (g * g / b) ** t + r.error.q[t]));
      }
      expect(solveSource(MASKED, { g: 0.6, b: 0.5 }, 30, route).limitStatus!.q.status).toBe('value');
      const up = solveSource(MASKED, { g: 0.9, b: 0.3 }, 30, route).limitStatus!.q;
      expect(up.status).toBe('divergent');
      expect(up.reason).toMatch(/×2\.70/);
    });
    it(`additive Gaussian noise drawn each step: q(t) = v (1 − g^{2t})/(1 − g²) and its limit v/(1 − g²) (${route})`, () => {
      const g = 0.8, v = 0.3;
      const r = solveSource(NOISY, { g, v }, 40, route);
      r.observables.q.forEach((x, t) => expect(Math.abs(x - (v * (1 - g ** (2 * t))) / (1 - g * g)), `q(${t})`).toBeLessThanOrEqual(1e-14 + r.error.q[t]));
      expect(Math.abs(r.limit!.q - v / (1 - g * g))).toBeLessThanOrEqual(r.limitError!.q);
    });
  }
  it('a mask multiplying a nonlinear function, averaged nonlinearly, is refused by the closure with the reason (Monte Carlo takes it: map-montecarlo.test.ts)', () => {
    const src = MASKED.replace('x[i](t+1) = g/b * sum(j, J[i,j]*s[j]*x[j])', 'x[i](t+1) = tanh(g/b * sum(j, J[i,j]*s[j]*x[j]))');
    expect(() => solveSource(src, {}, 5, 'cavity', 'gaussian')).toThrow(DmftError);
    expect(() => solveSource(src, {}, 5, 'cavity', 'gaussian')).toThrow(/drawn afresh at every step \(s\) multiplies a quantity of the site.*not for nonlinear averages/);
  });
});

describe('minibatch SGD on linear regression (examples/sgd-linear-regression.dmft)', () => {
  it('b = 1 is full-batch GD: the Marchenko–Pastur closed form at every step to solver precision', () => {
    const gd = JSON.parse(readFileSync('bench/references/gd-linear-regression.json', 'utf8'));
    const r = solveFile('examples/sgd-linear-regression.dmft', { b: 1, lr: 0.5 }, gd.T);
    for (const k of ['test', 'train']) r.observables[k].forEach((v, t) => expect(Math.abs(v - gd.runs['0.5'][k][t]), `${k}(${t})`).toBeLessThanOrEqual(r.error[k][t] + 1e-11));
  });
  it('b < 1 raises the losses above GD and lowers the stability edge: lr = 0.5 is stable for GD, divergent at b = 0.1', () => {
    const gd = solveFile('examples/sgd-linear-regression.dmft', { b: 1, lr: 0.5 }, 10);
    const sgd = solveFile('examples/sgd-linear-regression.dmft', { b: 0.25, lr: 0.5 }, 10);
    for (let t = 1; t <= 10; t++) expect(sgd.observables.test[t]).toBeGreaterThan(gd.observables.test[t]);
    const st = solveFile('examples/sgd-linear-regression.dmft', { b: 0.1, lr: 0.5 }, 40).limitStatus!.test;
    expect(st.status).toBe('divergent');
  });
  it('t → ∞: b = 1 settles at GD\'s closed-form limits, b = 0.25 on a noise floor above them', () => {
    const alpha = 2, sigma2 = 0.25;
    const gd = solveFile('examples/sgd-linear-regression.dmft', { b: 1, lr: 0.5 }, 40);
    // test σ²/(2α)·∫λ⁻¹ dμ_MP = σ²/(2(α − 1)), train σ²(1 − 1/α)/2
    expect(Math.abs(gd.limit!.test - sigma2 / (2 * (alpha - 1)))).toBeLessThanOrEqual(gd.limitError!.test);
    expect(Math.abs(gd.limit!.train - (sigma2 * (1 - 1 / alpha)) / 2)).toBeLessThanOrEqual(gd.limitError!.train);
    const sgd = solveFile('examples/sgd-linear-regression.dmft', { b: 0.25, lr: 0.5 }, 40);
    for (const k of ['test', 'train']) {
      expect(sgd.limitStatus![k].status).toBe('value');
      expect(sgd.limit![k] - sgd.limitError![k]).toBeGreaterThan(gd.limit![k] + gd.limitError![k]);
    }
  });
  it('online limit (examples/online-sgd-linear-regression.dmft): at fixed kappa = alpha·b the test loss approaches the online recursion as 1/alpha', () => {
    const lr = 0.5, kappa = 1, sigma2 = 0.25, T = 10;
    // fresh samples every step: q(t+1) = q(t)((1 − lr)² + lr²/kappa) + lr² sigma2/kappa, test = q/2
    const online = [0.5];
    for (let t = 0; t < T; t++) online.push(online[t] * ((1 - lr) ** 2 + lr ** 2 / kappa) + (lr ** 2 * sigma2) / kappa / 2);
    const gap = (alpha: number) => {
      const r = solveFile('examples/online-sgd-linear-regression.dmft', { alpha, kappa, lr }, T);
      // the first step meets every sample once: equal to online SGD exactly
      expect(Math.abs(r.observables.test[1] - online[1])).toBeLessThanOrEqual(r.error.test[1] + 1e-15);
      return Math.max(...[2, 5, 10].map((t) => Math.abs(r.observables.test[t] - online[t])));
    };
    const g16 = gap(16), g64 = gap(64), g256 = gap(256);
    expect(g64 / g16).toBeLessThan(0.3);
    expect(g256 / g64).toBeLessThan(0.3);
    expect(g256).toBeLessThan(3e-4);
  });
  const refFile = 'bench/references/sgd-linear-regression.json';
  it('b < 1 against the exact finite-D mask average extrapolated in 1/D (within 3 standard errors)', () => {
    expect(existsSync(refFile)).toBe(true);
    const ref = JSON.parse(readFileSync(refFile, 'utf8'));
    for (const run of Object.values(ref.runs) as { lr: number; b: number; extrapolated: Record<string, number[]> }[]) {
      const r = solveFile('examples/sgd-linear-regression.dmft', { b: run.b, lr: run.lr }, ref.T);
      for (const k of ['test', 'train']) {
        for (const t of [1, 2, 5, 10, ref.T]) {
          const se = run.extrapolated[`${k}_se`][t];
          expect(Math.abs(r.observables[k][t] - run.extrapolated[k][t]), `lr=${run.lr} b=${run.b} ${k}(${t}) ± ${se}`).toBeLessThanOrEqual(3 * se + r.error[k][t]);
        }
      }
    }
  });
});

describe('continuous-time limit of minibatch SGD', () => {
  // The mask noise adds lr²·(1 − b)/b·⟨r²⟩ to the weights' variance per step, so
  // over n = t/lr steps it adds O(lr): at fixed b and t = n·lr, SGD approaches
  // gradient flow (examples/linear-regression-gf.dmft) to first order in lr,
  // the noise and the step each contributing a term linear in lr.
  it('at fixed b the test loss at step t/lr approaches gradient flow at t: the gap is c1·lr + O(lr²), and the noise part (SGD − GD) is O(lr) too', () => {
    const gfSys = derive(loadModel('examples/linear-regression-gf.dmft'), 'cavity').system;
    const gf = solve(gfSys, { params: gfSys.params, T: 2, dt: 0.05, times: [1, 2] });
    const lrs = [0.1, 0.05, 0.025];
    for (const b of [0.5, 0.25]) {
      const runs = lrs.map((lr) => [solveFile('examples/sgd-linear-regression.dmft', { lr, b }, Math.round(2 / lr)), solveFile('examples/gd-linear-regression.dmft', { lr }, Math.round(2 / lr))]);
      [1, 2].forEach((t, k) => {
        const at = (r: ReturnType<typeof solve>, lr: number) => r.observables.test[Math.round(t / lr)];
        const gap = runs.map(([sgd], j) => at(sgd, lrs[j]) - gf.observables.test[k]);
        const noise = runs.map(([sgd, gd], j) => at(sgd, lrs[j]) - at(gd, lrs[j]));
        const tag = `b = ${b}, t = ${t}`;
        // first order at the smallest steps: halving lr halves the gap and the noise part
        expect(gap[2] / gap[1], tag).toBeGreaterThan(0.4);
        expect(gap[2] / gap[1], tag).toBeLessThan(0.6);
        for (let j = 1; j < 3; j++) {
          expect(noise[j] / noise[j - 1], tag).toBeGreaterThan(0.4);
          expect(noise[j] / noise[j - 1], tag).toBeLessThan(0.6);
        }
        expect(noise[2], tag).toBeGreaterThan(0);
        // the remainder after removing the linear term (2·gap(lr/2) − gap(lr)) is second order: it shrinks ~4×
        const rem = [2 * gap[1] - gap[0], 2 * gap[2] - gap[1]];
        expect(Math.abs(rem[1] / rem[0]), tag).toBeGreaterThan(0.15);
        expect(Math.abs(rem[1] / rem[0]), tag).toBeLessThan(0.35);
        // all of this is far above the flow's own error bar
        expect(Math.abs(gap[2]), tag).toBeGreaterThan(100 * gf.error.test[k]);
      });
    }
  });
});
