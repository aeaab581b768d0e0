// Maps x(t+1) = F(x(t)) in the simulator: one step per unit of time, the lets
// at the current step, deterministic per seed; exact against a direct
// iteration of full-batch gradient descent on the same sampled data.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { prepare } from '../../src/simulate/pool.ts';
import { runSeed, type RunSpec } from '../../src/simulate/run.ts';
import { simulate } from '../../src/simulate/index.ts';
import { DmftError } from '../../src/errors.ts';
import { matrixOf, model, vectorOf } from './helpers.ts';

describe('maps in the simulator', () => {
  it('full-batch gradient descent equals a direct iteration on the same sampled data (train and test loss at every step)', () => {
    const m = loadModel('examples/gd-linear-regression.dmft', { lr: 0.7 });
    const D = 60, T = 12;
    const times = Array.from({ length: T + 1 }, (_, k) => k);
    const spec: RunSpec = { T, dt: 1, times, grid: [], blowup: 1e12 };
    const inst = prepare({ model: m, N: D, planOpts: { precision: 'f64' }, spec, wasm: true });
    expect(inst.plan.discrete).toBe(true);
    const out = runSeed(inst, spec, 3);
    const X = matrixOf(inst, 'X'), ws = vectorOf(inst, 'wstar'), eps = vectorOf(inst, 'eps');
    const P = X.length, alpha = 2, lr = 0.7;
    let w = new Array(D).fill(0);
    const resid = (w: number[]) => X.map((row, mu) => row.reduce((s, x, i) => s + x * (w[i] - ws[i]), 0) - eps[mu]);
    const nT = times.length;
    for (let t = 0; t <= T; t++) {
      const r = resid(w);
      const test = w.reduce((s, wi, i) => s + (wi - ws[i]) ** 2, 0) / D / 2;
      const train = r.reduce((s, x) => s + x * x, 0) / P / 2;
      expect(out.obs[0 * nT + t]).toBeCloseTo(test, 10);
      expect(out.obs[1 * nT + t]).toBeCloseTo(train, 10);
      w = w.map((wi, i) => wi - (lr / alpha) * r.reduce((s, rm, mu) => s + X[mu][i] * rm, 0));
    }
    expect(out.steps).toBe(T);
  });

  it('is deterministic per seed, and seeds differ', async () => {
    const m = loadModel('examples/random-map.dmft');
    const a = await simulate(m, { N: 200, seeds: 2, T: 6, dt: 0.05, threads: 0 });
    const b = await simulate(m, { N: 200, seeds: 2, T: 6, dt: 0.05, threads: 0 });
    const c = await simulate(m, { N: 200, seeds: 2, T: 6, dt: 0.05, threads: 0, seed0: 7 });
    expect(a.t).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(a.observables.q).toEqual(b.observables.q);
    expect(a.observables.q).not.toEqual(c.observables.q);
    expect(a.diagnostics.scheme).toBe('map');
    expect(a.diagnostics.steps).toBe(6);
  });

  it('a linear map is a geometric sequence, exactly', async () => {
    const m = model(`model "geometric"\nparam a = 0.5\nindex i in 1..N\nstate x[i]\ninit x[i] = 2\nx[i](t+1) = a*x[i]\nobserve q = mean(i, x[i]^2)\n`);
    const r = await simulate(m, { N: 10, seeds: 1, T: 5, dt: 1, threads: 0 });
    expect(r.observables.q).toEqual([0, 1, 2, 3, 4, 5].map((t) => 4 * 0.25 ** t));
  });

  it('refuses a non-integer number of steps, non-integer times, and a model mixing maps and flows', async () => {
    const m = loadModel('examples/random-map.dmft');
    await expect(simulate(m, { N: 50, seeds: 1, T: 2.5, dt: 1 })).rejects.toThrow(/T is a number of steps/);
    await expect(simulate(m, { N: 50, seeds: 1, T: 4, dt: 1, times: [0, 1.5] })).rejects.toThrow(/1.5 is not a step/);
    const mixed = model(`model "mixed"\nindex i in 1..N\nstate x[i]\nstate y[i]\nx[i](t+1) = 0.5*x[i]\nd/dt y[i] = -y[i]\nobserve q = mean(i, x[i]^2)\n`);
    await expect(simulate(mixed, { N: 50, seeds: 1, T: 4, dt: 1 })).rejects.toThrow(DmftError);
  });
});

describe('randomness drawn afresh at every step of a map', () => {
  const counter = (b: number) => model(`model "counter"\nparam b = ${b}\nindex i in 1..N\nrandom s[i](t) ~ bernoulli(b)\nstate x[i]\ninit x[i] = 0\nlet u[i] = s[i]\nx[i](t+1) = x[i] + u[i]\nobserve m = mean(i, x[i])\nobserve v = mean(i, x[i]^2) - mean(i, x[i])^2\nobserve now = mean(i, s[i])\n`);

  it('a counter of bernoulli(b) draws is binomial(t, b): mean b·t and variance b(1 − b)·t within the sampling error', async () => {
    const b = 0.3, N = 4000, T = 20;
    const r = await simulate(counter(b), { N, seeds: 2, T, dt: 1, threads: 0 });
    for (const t of [5, 10, 20]) {
      const k = r.t.indexOf(t);
      // site-to-site: the standard error of the mean of N binomials is sqrt(b(1−b)t/N)
      expect(Math.abs(r.observables.m[k] - b * t)).toBeLessThan(5 * Math.sqrt((b * (1 - b) * t) / N / 2));
      // the variance of a sample variance of N draws: about 2σ⁴/N
      expect(Math.abs(r.observables.v[k] - b * (1 - b) * t)).toBeLessThan(5 * Math.sqrt(2 / N / 2) * b * (1 - b) * t);
    }
    // the draws change from step to step (a frozen mask would count 0 or t)
    expect(r.observables.now.slice(0, 5).every((x) => Math.abs(x - b) < 0.05)).toBe(true);
  });

  it('records the realized fraction of each step, standardized, as a per-step control (expectation 0)', async () => {
    const b = 0.3, T = 6;
    const r = await simulate(counter(b), { N: 500, seeds: 3, T, dt: 1, threads: 0, keepSeeds: true });
    const ps = r.perSeed!;
    expect(ps.stepControlNames).toEqual(['s(t).mean']);
    for (let k = 0; k < 3; k++) {
      const z = ps.stepControls![k][0];
      expect(z.length).toBe(T + 1);
      // `now` = mean(i, s[i]) at step t is b + sqrt(b(1 − b))·z(t)
      for (let t = 0; t <= T; t++) expect(b + Math.sqrt(b * (1 - b)) * z[t]).toBeCloseTo(ps.observables.now[k][t], 12);
    }
    // without per-step randomness: none
    const gd = await simulate(loadModel('examples/gd-linear-regression.dmft'), { N: 40, seeds: 1, T: 2, dt: 1, threads: 0, keepSeeds: true });
    expect(gd.perSeed!.stepControls).toBeUndefined();
  });

  it('the lets, the map and the observables at step t see the same draw, and each seed gives the same draws', async () => {
    const m = model(`model "same draw"\nindex i in 1..N\nrandom s[i](t) ~ bernoulli(0.5)\nstate x[i]\nstate y[i]\ninit x[i] = 0\ninit y[i] = 0\nlet u[i] = s[i]\nx[i](t+1) = x[i] + u[i] - s[i]\ny[i](t+1) = y[i] + s[i]\nobserve d = mean(i, x[i]^2)\nobserve c = mean(i, y[i])\n`);
    const a = await simulate(m, { N: 300, seeds: 2, T: 8, dt: 1, threads: 0 });
    const b = await simulate(m, { N: 300, seeds: 2, T: 8, dt: 1, threads: 0 });
    expect(a.observables.d.every((x) => x === 0)).toBe(true);
    expect(a.observables.c).toEqual(b.observables.c);
    expect(a.observables.c[8]).toBeGreaterThan(3);
  });

  it('bernoulli(1) masks leave full-batch gradient descent unchanged', async () => {
    const src = readFileSync('examples/gd-linear-regression.dmft', 'utf8');
    const sgd = src.replace('random eps[mu] ~ normal(0, sigma2)', 'random eps[mu] ~ normal(0, sigma2)\nrandom s[mu](t) ~ bernoulli(1)').replace('sum(mu, X[mu,i]*r[mu])', 'sum(mu, s[mu]*X[mu,i]*r[mu])');
    expect(sgd).not.toBe(src);
    const full = await simulate(model(src), { N: 80, seeds: 2, T: 10, dt: 1, threads: 0, couplingPrecision: 'f64' });
    const masked = await simulate(model(sgd), { N: 80, seeds: 2, T: 10, dt: 1, threads: 0, couplingPrecision: 'f64' });
    expect(masked.observables.test).toEqual(full.observables.test);
  });

  it('is refused in continuous time', async () => {
    const m = model(`model "flow"\nindex i in 1..N\nrandom s[i](t) ~ bernoulli(0.5)\nstate x[i]\nd/dt x[i] = -x[i] + s[i]\nobserve m = mean(i, x[i])\n`);
    await expect(simulate(m, { N: 10, seeds: 1, T: 1, dt: 0.05, threads: 0 })).rejects.toThrow(/continuous-time/);
  });
});
