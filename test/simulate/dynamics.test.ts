// Integration behaviour: bounds and extinction, step-size bias, the noise
// scheme on an exactly solvable process, determinism, worker threads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { simulate } from '../../src/simulate/index.ts';
import { runSeeds } from '../../src/simulate/pool.ts';
import { model } from './helpers.ts';

describe('bounded states', () => {
  it('Lotka–Volterra: abundances stay ≥ 0 and some species go extinct', async () => {
    const src = readFileSync('examples/lotka-volterra.dmft', 'utf8') +
      '\nobserve negative = mean(i, n[i] < 0)\nobserve extinct = mean(i, n[i] < 0.000001)\n';
    for (const sigma of [0.5, 0.9]) {
      const m = loadModelSource(src, 'lv', { sigma });
      const r = await simulate(m, { N: 200, seeds: 2, T: 200, dt: 0.05, times: [0, 10, 50, 100, 200], threads: 0 });
      console.info(`Lotka–Volterra N=200 sigma=${sigma}:`, JSON.stringify({ t: r.t, ...r.observables }));
      const last = r.t.length - 1;
      expect(r.observables.negative.every((v) => v === 0)).toBe(true);
      expect(r.observables.survivors[0]).toBe(1);
      expect(r.observables.survivors[last]).toBeLessThan(1);
      expect(r.observables.extinct[last]).toBeGreaterThan(0);
      // species are lost, never regained from the boundary
      for (let k = 1; k < r.t.length; k++) expect(r.observables.survivors[k]).toBeLessThanOrEqual(r.observables.survivors[k - 1]);
      if (sigma === 0.9) expect(r.observables.survivors[last]).toBeLessThan(0.85);
    }
  });

  it('a state driven into its bound stops exactly there', async () => {
    const m = model(`
model "drain"
index i in 1..N
state n[i] >= 0
init n[i] ~ uniform(0, 1)
d/dt n[i] = -1
observe total = mean(i, n[i])
observe negative = mean(i, n[i] < 0)
`);
    const r = await simulate(m, { N: 50, seeds: 1, T: 2, dt: 0.05, times: [0.5, 1.5, 2], threads: 0 });
    expect(r.observables.total[1]).toBe(0);
    expect(r.observables.total[2]).toBe(0);
    expect(r.observables.negative.every((v) => v === 0)).toBe(true);
    expect(r.stderr.total.every((v) => Number.isNaN(v))).toBe(true); // one seed: no error bar
  });
});

describe('step size', () => {
  it('RK4 at dt = 0.05 has no visible bias on the SCS network at g = 2 (same J and initial condition as at dt/4)', async () => {
    const m = loadModel('examples/scs.dmft', { g: 2 });
    const opts = { N: 300, seeds: 2, T: 8, times: [2, 4, 6, 8], threads: 0 };
    const a = await simulate(m, { ...opts, dt: 0.05 });
    const b = await simulate(m, { ...opts, dt: 0.0125 });
    const diffs = a.observables.var.map((v, k) => Math.abs(v - b.observables.var[k]));
    console.info(`SCS g=2: var at dt=0.05 ${a.observables.var.map((v) => v.toFixed(6)).join(', ')}; at dt=0.0125 ${b.observables.var.map((v) => v.toFixed(6)).join(', ')}; max |diff| ${Math.max(...diffs).toExponential(2)}; stderr ${a.stderr.var.map((v) => v.toFixed(3)).join(', ')}`);
    // pathwise (same trajectories) the difference is tiny; the statistical error is 1e4 times larger
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
    expect(Math.min(...a.stderr.var)).toBeGreaterThan(1e-3);
  });

  it('stochastic Heun on an Ornstein–Uhlenbeck process: stationary variance D/(2a) within the statistical error', async () => {
    const m = model(`
model "ou"
param a = 0.5, D = 2
index i in 1..N
noise xi[i] ~ white(D)
state x[i]
init x[i] ~ normal(0, 2)
d/dt x[i] = -a*x[i] + xi[i]
observe v = mean(i, x[i]^2)
`);
    // starting in the stationary law (variance D/(2a) = 2), every time is stationary
    const times = Array.from({ length: 40 }, (_, k) => 5 * (k + 1));
    const r = await simulate(m, { N: 2000, seeds: 4, T: 200, dt: 0.05, times, threads: 0 });
    const all = r.observables.v;
    const est = all.reduce((s, x) => s + x, 0) / all.length;
    // samples 5 apart (correlation time of x² is 1/(2a) = 1): independent
    const se = Math.sqrt(all.reduce((s, x) => s + (x - est) ** 2, 0) / (all.length - 1) / all.length);
    console.info(`OU: stationary variance ${est.toFixed(5)} ± ${se.toFixed(5)} vs exact 2 (Heun bias at dt=0.05 ≈ −1e-4)`);
    expect(Math.abs(est - 2)).toBeLessThan(3 * se);
    expect(se).toBeLessThan(0.01);
    expect(r.diagnostics.scheme).toBe('stochastic-heun');
    expect(r.diagnostics.multiplicativeNoise).toBe(false);
  });
});

describe('determinism and threads', () => {
  it('a seed always gives the same result, in-process or in worker threads', async () => {
    const m = loadModel('examples/scs-mean.dmft');
    const opts = { N: 200, seeds: 3, T: 4, dt: 0.05, times: [1, 2, 4], seed0: 10 };
    const a = await simulate(m, { ...opts, threads: 0 });
    const b = await simulate(m, { ...opts, threads: 2 });
    expect(b.diagnostics.threads).toBe(2);
    expect(b.observables).toEqual(a.observables);
    expect(b.stderr).toEqual(a.stderr);
    expect(b.twoTime).toEqual(a.twoTime);
    const c = await simulate(m, { ...opts, seed0: 11, threads: 0 });
    expect(c.observables.var).not.toEqual(a.observables.var);
  });

  it('falls back to in-process when worker threads cannot start', async () => {
    const m = loadModel('examples/scs.dmft');
    const spec = { T: 1, dt: 0.05, times: [1], grid: [], blowup: 1e12 };
    const init = { model: m, N: 50, planOpts: { precision: 'auto' as const }, spec, wasm: true };
    const broken = await runSeeds(init, [1, 2, 3], 2, new URL('./no-such-worker.mjs', import.meta.url));
    expect(broken.threads).toBe(0);
    const direct = await runSeeds(init, [1, 2, 3], 0);
    expect(broken.outputs.map((o) => Array.from(o.obs))).toEqual(direct.outputs.map((o) => Array.from(o.obs)));
  });

  it('reports the two-time observable as a symmetric matrix on the grid with C(t,t) = var(t)', async () => {
    const m = loadModel('examples/scs.dmft');
    const grid = [0, 1, 2, 3];
    const r = await simulate(m, { N: 100, seeds: 2, T: 3, dt: 0.05, times: grid, twoTimeGrid: grid, threads: 0 });
    const C = r.twoTime!.C;
    expect(C.t).toEqual(grid);
    for (let a = 0; a < 4; a++) {
      expect(C.mean[a][a]).toBeCloseTo(r.observables.var[a], 12);
      for (let b = 0; b < 4; b++) expect(C.mean[a][b]).toBeCloseTo(C.mean[b][a], 12);
    }
  });
});
