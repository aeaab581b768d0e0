// Populations of lets that are affine are computed exactly inside the Monte
// Carlo sweep (sigma paths, docs/monte-carlo.md), at cheap settings:
//  - given the same kernels of the sampled populations, the exact population's
//    kernels agree with many sampled paths and carry no sampling error (lets
//    with a normal input; states with white noise and a normal initial draw);
//  - a linear let chain agrees with the vector Gaussian closure (exact for it),
//    a tanh let chain with its numpy finite-N reference (bench/vector-mc/);
//  - which populations are exact is decided from the system's structure and
//    said in the diagnostics (a let read through a nonlinear function stays sampled).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { VectorPlan } from '../../src/solve/montecarlo-vector.ts';
import { readSystem } from '../../src/solve/read.ts';

const LINEAR = 'bench/vector-mc/linear-memory.dmft';
// the same with a normal input of the pattern population (one more sigma direction)
const WITH_INPUT = readFileSync(LINEAR, 'utf8').replace('random xi[mu,i] ~ normal(0, 1/N)', 'random xi[mu,i] ~ normal(0, 1/N)\nrandom u[mu] ~ normal(0.2, 0.5)').replace('= sum(i, xi[mu,i]*x[i])', '= sum(i, xi[mu,i]*x[i]) + u[mu]');
const readingOf = (file: string) => { const sys = deriveCavity(loadModel(file)).system; return { sys, rd: readSystem(sys) }; };

describe('exact affine populations in the Monte Carlo sweep', () => {
  it('given the sampled population\'s kernels, the exact let population (with a normal input of its own) agrees with 10000 sampled paths and has no sampling error', () => {
    const rd = readSystem(deriveCavity(loadModelSource(WITH_INPUT, 'test.dmft')).system);
    const exact = new VectorPlan(rd), sampled = new VectorPlan(rd, { exact: false });
    expect(exact.pops.map((p) => p.exact)).toEqual([true, true]);
    const K = 12, h = 1 / 6, outIdx = [0, 6, 12];
    // kernels of one small replica: any kernels will do, both sweeps are driven by the same ones
    const frozen = exact.sweep({ K, h, P: 100, PR: 100, seed: 3, stream: 1, outIdx, blocks: 16 }).est;
    const a = exact.sweep({ K, h, P: 100, PR: 100, seed: 4, stream: 2, outIdx, blocks: 16, frozen });
    const b = sampled.sweep({ K, h, P: 10000, PR: 100, seed: 4, stream: 2, outIdx, blocks: 16, frozen });
    const n = K + 1;
    exact.ops.forEach((o, i) => {
      for (const j of [n * n - 1, 8 * n + 3, 12 * n + 6, 5 * n + 5]) {
        expect(a.estSE!.v[i][j], `${o.name} SE`).toBe(0);
        const z = Math.abs(a.est.v[i][j] - b.est.v[i][j]) / b.estSE!.v[i][j];
        if (o.kind === 'C') expect(z, `${o.name}[${j}] = ${a.est.v[i][j]} vs ${b.est.v[i][j]} ± ${b.estSE!.v[i][j]}`).toBeLessThan(4);
        // a response of an affine population is the same on every path: equal to rounding
        else expect(Math.abs(a.est.v[i][j] - b.est.v[i][j])).toBeLessThan(1e-9);
      }
    });
    // the observables averaged over it (degree 2 and 3) within the sampled errors
    for (const name of ['overlaps', 'skew']) {
      const oi = rd.observables.findIndex((o) => o.def.name === name);
      for (const k of [4, 12]) expect(Math.abs(a.obs[oi][k] - b.obs[oi][k]), `${name}(${k})`).toBeLessThan(4 * b.obsSE[oi][k]);
    }
  });

  it('an affine population of states (white noise, a normal initial draw, a memory term) driven by sampled overlaps agrees with 10000 sampled paths and has no sampling error', () => {
    const { rd } = readingOf('bench/vector-mc/linear-units.dmft');
    const exact = new VectorPlan(rd), sampled = new VectorPlan(rd, { exact: false });
    expect(exact.exactNotes().exact).toEqual(['N']);
    const K = 12, h = 1 / 6, outIdx = [0, 6, 12], n = K + 1;
    const frozen = sampled.sweep({ K, h, P: 200, PR: 200, seed: 3, stream: 1, outIdx, blocks: 16 }).est;
    const a = exact.sweep({ K, h, P: 200, PR: 200, seed: 4, stream: 2, outIdx, blocks: 16, frozen });
    const b = sampled.sweep({ K, h, P: 10000, PR: 100, seed: 4, stream: 2, outIdx, blocks: 16, frozen });
    exact.ops.forEach((o, i) => {
      if (o.pop !== 0) return;
      for (const j of [n * n - 1, 8 * n + 3, 12 * n + 6, 5 * n + 5]) {
        expect(a.estSE!.v[i][j], `${o.name} SE`).toBe(0);
        if (o.kind === 'C') expect(Math.abs(a.est.v[i][j] - b.est.v[i][j]), `${o.name}[${j}]`).toBeLessThan(4 * b.estSE!.v[i][j]);
        else expect(Math.abs(a.est.v[i][j] - b.est.v[i][j])).toBeLessThan(1e-9);
      }
    });
    for (const name of ['q', 'mx']) {
      const oi = rd.observables.findIndex((o) => o.def.name === name);
      for (const k of [4, 12]) {
        expect(a.obsSE[oi][k]).toBeLessThan(1e-12);
        expect(Math.abs(a.obs[oi][k] - b.obs[oi][k]), `${name}(${k})`).toBeLessThan(4 * b.obsSE[oi][k]);
      }
    }
  });

  it('a linear let chain solved by Monte Carlo (both populations affine: nothing sampled) agrees with the vector Gaussian closure', () => {
    const { sys, rd } = readingOf(LINEAR);
    const T = 2, times = [0.5, 1, 2];
    const g = solveGaussian(rd, { params: sys.params, T, dt: 0.05, times }).result;
    const out = solveMonteCarlo(rd, { params: sys.params, T, dt: 0.1, times, replicas: 8, maxReplicas: 8, paths: 200, seed: 5 });
    // both populations are affine: nothing is sampled, the error is the time step's
    expect(out.diagnostics.exactPopulations).toBe('N, P');
    expect(out.diagnostics.mcStdErrMax).toBeLessThan(1e-12);
    for (const k of ['q', 'overlaps']) times.forEach((_, i) => {
      const e = out.error[k][i];
      expect(Math.abs(out.observables[k][i] - g.observables[k][i]), `${k}(${times[i]}) = ${out.observables[k][i]} ± ${e} vs ${g.observables[k][i]}`).toBeLessThan(3 * Math.hypot(e, g.error[k][i]));
      expect(e).toBeLessThan(0.2 * Math.abs(g.observables[k][i]));
    });
    expect(Math.max(...out.observables.skew.map(Math.abs), ...out.error.skew)).toBeLessThan(1e-12);
  });

  it('a tanh let chain with a gain and a biased start (bench/vector-mc/let-chain.dmft) agrees with its finite-N reference extrapolated in 1/N', () => {
    const r = JSON.parse(readFileSync('bench/vector-mc/let_chain_reference.json', 'utf8'));
    const { sys, rd } = readingOf('bench/vector-mc/let-chain.dmft');
    const out = solveMonteCarlo(rd, { params: sys.params, T: 2, dt: 0.1, times: r.times, replicas: 8, maxReplicas: 8, paths: 200, seed: 5 });
    expect(out.diagnostics.exactPopulations).toBe('P');
    for (const k of ['q', 'overlaps', 'mx']) r.times.forEach((t: number, i: number) => {
      const e = out.error[k][i], v = r[k].value[i], se = r[k].se[i];
      expect(Math.abs(out.observables[k][i] - v), `${k}(${t}) = ${out.observables[k][i]} ± ${e} vs ${v} ± ${se}`).toBeLessThan(3 * Math.hypot(e, se));
      expect(e).toBeLessThan(0.25 * Math.max(...r[k].value.map(Math.abs)));
    });
  });

  it('a let population with a nonlinear memory integrand, a nonlinear observable or an input that is not normal is sampled, and the diagnostics say why', () => {
    const src = readFileSync('bench/unify/lets-over-patterns.dmft', 'utf8');
    const plan = new VectorPlan(readSystem(deriveCavity(loadModelSource(src, 'test.dmft')).system));
    expect(plan.pops.some((p) => p.exact)).toBe(false);
    expect(plan.exactNotes()).toEqual({ exact: [], sampled: ['P: its lets are not affine in their variables, fields, noise and memory terms (or bounded)'] });
    const tanhObs = readFileSync(LINEAR, 'utf8') + 'observe tq = mean(mu, tanh(m[mu])^2)\n';
    const p1 = new VectorPlan(readSystem(deriveCavity(loadModelSource(tanhObs, 'test.dmft')).system));
    expect(p1.exactNotes()).toEqual({ exact: ['N'], sampled: ['P: the observable tq averages a function of degree above 3 over it'] });
    const uniform = WITH_INPUT.replace('u[mu] ~ normal(0.2, 0.5)', 'u[mu] ~ uniform(-1, 1)');
    const p2 = new VectorPlan(readSystem(deriveCavity(loadModelSource(uniform, 'test.dmft')).system));
    expect(p2.exactNotes()).toEqual({ exact: ['N'], sampled: ['P: its input u is not normal'] });
  });
});
