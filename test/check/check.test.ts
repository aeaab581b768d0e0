// Theory vs simulation: the statistics of the comparison, the verdict on a
// real model, and that a wrong theory is caught.
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { solve } from '../../src/solve/index.ts';
import { simulate } from '../../src/simulate/index.ts';
import { compare, type SimLike } from '../../src/check/index.ts';
import { studentCdf, studentQuantile } from '../../src/check/stats.ts';
import type { SolveResult } from '../../src/solve/types.ts';

describe('Student-t critical values', () => {
  it('match reference quantiles (scipy.stats.t.ppf)', () => {
    expect(studentQuantile(0.975, 3)).toBeCloseTo(3.18244630528, 6);
    expect(studentQuantile(0.975, 7)).toBeCloseTo(2.36462425159, 6);
    expect(studentQuantile(0.995, 10)).toBeCloseTo(3.16927267262, 6);
    expect(studentQuantile(0.975, Infinity)).toBeCloseTo(1.95996398454, 6);
    expect(studentCdf(2, 5)).toBeCloseTo(0.94903026059, 7);
  });
});

describe('compare', () => {
  const model = loadModel('examples/scs.dmft');
  const theory = (v: number[]): SolveResult => ({ model: 'm', params: {}, method: 'x', t: [1, 2], observables: { var: v }, error: { var: [0, 0] }, diagnostics: {} });
  const sim = (N: number, v: number[], e = 0.01): SimLike => ({ N, seeds: 8, t: [1, 2], observables: { var: v }, stderr: { var: [e, e] } });
  it('agrees within errors and flags a deviation of many standard errors', () => {
    expect(compare(model, theory([1, 2]), [sim(1000, [1.01, 1.99])]).ok).toBe(true);
    const bad = compare(model, theory([1, 2]), [sim(1000, [1.2, 2])]);
    expect(bad.ok).toBe(false);
    expect(bad.rows.find((r) => !r.ok)?.t).toEqual([1]);
  });
  it('with several N, judges the extrapolation a + b/N', () => {
    // sim(N) = theory + 5/N: biased at every finite N, right in the limit
    const sims = [250, 500, 1000].map((N) => sim(N, [1 + 5 / N, 2 + 5 / N], 1e-4));
    const r = compare(model, theory([1, 2]), sims);
    const inf = r.rows.filter((x) => x.N === 'N→∞');
    expect(inf).toHaveLength(2);
    expect(inf[0].sim).toBeCloseTo(1, 6);
    expect(r.ok).toBe(true);
  });
});

describe('theory vs simulation on the SCS network', () => {
  const model = loadModel('examples/scs.dmft');
  const times = [1, 2, 4, 6];
  const grid = [0, 2, 4, 6];
  it('one- and two-time observables agree at N = 2000; a theory at the wrong g is caught', async () => {
    const sys = derive(model, 'cavity').system;
    const th = solve(sys, { params: sys.params, T: 6, dt: 0.05, times });
    const sim = await simulate(model, { N: 2000, seeds: 8, T: 6, dt: 0.05, times, twoTimeGrid: grid, threads: 1 });
    const r = compare(model, th, [sim]);
    expect(r.rows.some((x) => x.observable === 'C' && x.t[0] !== x.t[1])).toBe(true);
    expect(r.ok).toBe(true);
    // the bar: C(t,s) within 3 standard errors at N = 2000
    for (const x of r.rows.filter((y) => y.observable === 'C')) expect(Math.abs(x.z), `C(${x.t})`).toBeLessThan(3);
    const wrong = derive(loadModel('examples/scs.dmft', { g: 1.2 }), 'cavity').system;
    const thWrong = solve(wrong, { params: wrong.params, T: 6, dt: 0.05, times });
    expect(compare(model, thWrong, [sim]).ok).toBe(false);
  });
});

describe('static cavity vs long simulation (bounded state, nonzero-mean couplings)', () => {
  it('Lotka–Volterra fixed point: survivors, abundance and q', async () => {
    const model = loadModel('examples/lotka-volterra.dmft', { sigma: 0.7, gamma: 0.5 });
    const sys = derive(model, 'cavity').system;
    const th = solve(sys, { params: sys.params, T: 2, dt: 0.1, method: 'static' });
    const sim = await simulate(model, { N: 800, seeds: 8, T: 80, dt: 0.05, times: [80], threads: 1 });
    const crit = studentQuantile(1 - 0.01 / 6, 7);
    for (const name of ['survivors', 'abundance', 'q']) {
      if (process.env.DEBUG_CHECK) console.log(name, th.limit![name], sim.observables[name][0], sim.stderr[name][0]);
      // finite-N bias allowance: one part in 100 (1/N corrections at N = 800)
      expect(Math.abs(sim.observables[name][0] - th.limit![name]), name).toBeLessThan(crit * sim.stderr[name][0] + 0.01 * Math.abs(th.limit![name]));
    }
  });
});
