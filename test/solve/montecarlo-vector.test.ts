// Monte Carlo on vector sites (several variables per site, correlated fields,
// memory terms for every pair, initial conditions on quenched inputs), at
// cheap settings, against references computed independently of the solver:
//  - linear vector models: the vector Gaussian closure (exact for them);
//  - nonlinear vector models: finite-N simulations in numpy extrapolated in
//    1/N (bench/vector-mc/*_reference.py, their output in *_reference.json);
//  - a scalar model with a population of lets: the scalar sweep this one
//    replaced (its recorded output, bench/unify/lets-over-patterns.json);
//  - a floor (pinned states) with white noise: a numpy finite-N reference;
//  - a let inside a site of states: the finite-N reference, and the same model
//    with the let written out (two fully correlated fields);
//  - what it does not support is refused with the reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { solveMonteCarlo, type MonteCarloOptions } from '../../src/solve/montecarlo.ts';
import { readSystem, VectorSiteError } from '../../src/solve/read.ts';
import type { SolveResult } from '../../src/solve/types.ts';

const sysOf = (src: string, file: string) => deriveCavity(src.includes('\n') ? loadModelSource(src, file) : loadModel(src)).system;

function mc(src: string, o: Omit<MonteCarloOptions, 'dt' | 'params'> & { dt?: number }, R = 8): SolveResult {
  const sys = sysOf(src, 'test.dmft');
  return solveMonteCarlo(readSystem(sys), { dt: o.T / 20, replicas: R, maxReplicas: R, seed: 5, ...o, params: sys.params });
}

function closure(src: string, T: number, times: number[]): SolveResult {
  const sys = sysOf(src, 'test.dmft');
  return solveGaussian(readSystem(sys), { params: sys.params, T, dt: 0.05, times }).result;
}

/** every value of `out` within 3 combined errors of the reference, with an error small enough to matter */
function covers(out: SolveResult, ref: Record<string, { value: number[]; se: number[] }>, maxRel: number) {
  for (const [k, r] of Object.entries(ref)) r.value.forEach((v, i) => {
    const e = out.error[k][i];
    expect(Math.abs(out.observables[k][i] - v), `${k}[${i}] = ${out.observables[k][i]} ± ${e} vs ${v} ± ${r.se[i]}`).toBeLessThan(3 * Math.hypot(e, r.se[i]));
    expect(e, `${k}[${i}] error`).toBeLessThan(maxRel * Math.max(...r.value.map(Math.abs)));
  });
}

const LINEAR_PAIR = 'bench/vector-mc/linear-pair.dmft', LINEAR_STUDENTS = 'bench/vector-mc/linear-students.dmft';

describe('Monte Carlo on linear vector sites agrees with the vector Gaussian closure', () => {
  it('two states per site through J and Jᵀ (correlated fields into different variables, four memory terms, mean-field terms, noise, init on a quenched input)', () => {
    const T = 2, times = [0.5, 1, 2];
    const g = closure(LINEAR_PAIR, T, times), out = mc(LINEAR_PAIR, { T, times, paths: 200 });
    for (const k of ['qx', 'xy', 'my']) g.error[k].forEach((e) => expect(e).toBeLessThan(1e-3));
    covers(out, Object.fromEntries(['qx', 'xy', 'my'].map((k) => [k, { value: g.observables[k], se: g.error[k] }])), 0.25);
    // the two-time cross-correlation ⟨x(t) y(s)⟩ (not symmetric in t, s)
    const a = out.twoTime!.Cxy, b = g.twoTime!.Cxy;
    expect(a.t).toEqual(b.t);
    a.values.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b.values[i][j]), `Cxy(${a.t[i]}, ${a.t[j]})`).toBeLessThan(3 * a.error![i][j])));
    expect(Math.abs(b.values[2][0] - b.values[0][2])).toBeGreaterThan(0.1);
    // the cross term matters: xy is not zero
    expect(Math.abs(g.observables.xy[0])).toBeGreaterThan(0.03);
  });

  it('two students on the same data (two lets per data site with correlated fields and C[ra,rb], two states per weight site)', () => {
    const T = 2, times = [0.5, 1, 2];
    const g = closure(LINEAR_STUDENTS, T, times), out = mc(LINEAR_STUDENTS, { T, times, paths: 200 });
    for (const k of ['gap', 'train']) g.error[k].forEach((e) => expect(e).toBeLessThan(1e-3));
    covers(out, { gap: { value: g.observables.gap, se: g.error.gap }, train: { value: g.observables.train, se: g.error.train } }, 0.15);
  });
});

describe('Monte Carlo on nonlinear vector sites against finite-N simulations extrapolated in 1/N', () => {
  const ref = (name: string) => JSON.parse(readFileSync(`bench/vector-mc/${name}_reference.json`, 'utf8'));

  it('two tanh units per site through J and Jᵀ with corr κ (bench/vector-mc/pair.dmft)', () => {
    const r = ref('pair');
    const out = mc('bench/vector-mc/pair.dmft', { T: 3, times: r.times, paths: 200 });
    covers(out, { qx: r.qx, xy: r.xy }, 0.3);
  });

  it('two students with a tanh loss on the same data (bench/vector-mc/students.dmft)', () => {
    const r = ref('students');
    const out = mc('bench/vector-mc/students.dmft', { T: 2, times: r.times, paths: 200 });
    covers(out, { test_a: r.test_a, overlap: r.overlap, loss: r.loss }, 0.3);
  });
});

describe('Monte Carlo on a vector site with a floor and white noise', () => {
  it('a rectified unit and a tanh unit through J and Jᵀ (bench/vector-mc/bounded-pair.dmft): pinned states do not respond', () => {
    const r = JSON.parse(readFileSync('bench/vector-mc/bounded_pair_reference.json', 'utf8'));
    const out = mc('bench/vector-mc/bounded-pair.dmft', { T: 3, times: r.times, paths: 200 });
    covers(out, { mx: r.mx, qy: r.qy, frac: r.frac }, 0.2);
  });
});

describe('scalar sites are sites of one variable: the numbers of the scalar sweep this code replaced', () => {
  it('a rate network with a population of lets (instantaneous responses, memory through a let)', () => {
    const src = readFileSync('bench/unify/lets-over-patterns.dmft', 'utf8');
    // bench/unify/lets-over-patterns.json: the scalar sweep (deleted) at 32 replicas of 1000 paths
    const ref = JSON.parse(readFileSync('bench/unify/lets-over-patterns.json', 'utf8')) as { times: number[]; observables: Record<string, number[]>; error: Record<string, number[]> };
    const times = ref.times;
    const v = mc(src, { T: 2, times, paths: 200 });
    for (const k of ['q', 'mm']) times.forEach((_, i) => {
      expect(Math.abs(ref.observables[k][i] - v.observables[k][i]), `${k}[${i}]`).toBeLessThan(3 * Math.hypot(ref.error[k][i], v.error[k][i]));
      expect(v.error[k][i]).toBeLessThan(0.2 * Math.abs(ref.observables[k][i]));
    });
  });
});

describe('Monte Carlo with a let inside a site of states', () => {
  it('a saturating response to a partially symmetric field (bench/vector-mc/let-in-site.dmft): the finite-N reference, and the same model with the let written out (two fully correlated fields)', () => {
    const r = JSON.parse(readFileSync('bench/vector-mc/let_in_site_reference.json', 'utf8'));
    const out = mc('bench/vector-mc/let-in-site.dmft', { T: 3, times: r.times, paths: 200 });
    covers(out, { q: r.q }, 0.1);
    covers(out, { m: r.m }, 0.5);
    const src = readFileSync('bench/vector-mc/let-in-site.dmft', 'utf8')
      .replace(/^let h.*$/m, '')
      .replace('2*h[i]/(1 + h[i]^2)', '2*sum(j, J[i,j]*tanh(x[j]))/(1 + sum(j, J[i,j]*tanh(x[j]))^2)');
    const w = mc(src, { T: 3, times: r.times, paths: 200 });
    expect(Object.keys(w.observables)).toEqual(['q', 'm']);
    for (const k of ['q', 'm']) r.times.forEach((_: number, i: number) => {
      expect(Math.abs(w.observables[k][i] - out.observables[k][i]), `${k}[${i}]`).toBeLessThan(3 * Math.hypot(w.error[k][i], out.error[k][i]));
    });
  });
});

describe('Monte Carlo on vector sites: refusals', () => {
  it('a let inside a site whose correlation drives a field is refused with the reason', () => {
    const src = [
      'model "a field driven by a let of the site"',
      'param g = 0.8',
      'index i, j in 1..N',
      'random J[i,j] ~ normal(0, g^2/N)',
      'random K[i,j] ~ normal(0, g^2/N)',
      'state x[i]',
      'init x[i] = 0.5',
      'let h[i] = sum(j, J[i,j]*x[j])',
      'd/dt x[i] = -x[i] + sum(j, K[i,j]*tanh(h[j]))',
      'observe q = mean(i, x[i]^2)',
    ].join('\n');
    expect(() => mc(src, { T: 1, times: [1], paths: 64 })).toThrow(VectorSiteError);
    expect(() => mc(src, { T: 1, times: [1], paths: 64 })).toThrow(/states and lets on one index .*the covariance of a field reads C\[tanh\(h\)\]/);
  });

  it('lets of two populations that read each other at equal times (random features) are refused with the reason', () => {
    expect(() => mc('examples/random-features.dmft', { T: 1, times: [1], paths: 64 })).toThrow(/the lets of populations D, P depend on each other at equal times/);
  });
});
