// The static solver on vector sites (src/solve/static-vector.ts) against
// independent references: the vector stationary solver (its ω = 0 part is the
// fixed point of a deterministic relaxation) and the least-squares closed
// forms on the linear examples; the scalar static solver on scalar systems
// (a scalar site is the 1×1 case of the same equations); a nonlinear
// two-variable site with correlated fields that is not an example, against a
// finite-N fixed-point computation extrapolated in 1/N
// (bench/static-vector/two_unit_ref.py). Full settings and timings:
// bench/RESULTS.md, "Static cavity of vector sites".
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStaticVector } from '../../src/solve/static-vector.ts';
import { solveStatic, type StaticResult as VectorStaticResult } from '../../src/solve/static.ts';
import { solve } from '../../src/solve/index.ts';

const opts = { params: {}, T: 1, dt: 0.1 };
const reading = (file: string, set: Record<string, number> = {}) => readSystem(derive(loadModel(file, set)).system);
const value = (out: ReturnType<typeof solveStaticVector>): VectorStaticResult => {
  if ('unsupported' in out) throw new Error(out.unsupported);
  return out;
};
/** |value − exact| within the error bar, and the bar small */
const within = (r: VectorStaticResult, k: string, exact: number, bar = 1e-6) => {
  expect(Math.abs(r.limit[k] - exact), `${k}: ${r.limit[k]} ± ${r.limitError[k]} against ${exact}`).toBeLessThanOrEqual(r.limitError[k]);
  expect(r.limitError[k], k).toBeLessThan(bar);
};

describe('linear vector sites: the least-squares fixed point', () => {
  it('momentum and a warm start reach the least-squares solution, test = σ²/(2(α − 1)), train = σ²(1 − 1/α)/2', () => {
    for (const f of ['momentum', 'warm-start']) {
      const r = value(solveStaticVector(reading(`examples/${f}.dmft`), opts));
      within(r, 'test', 0.25 / 2);
      within(r, 'train', (0.25 * (1 - 1 / 2)) / 2);
      expect(r.diagnostics.fluctuationEigenvalue as number).toBeLessThan(1);
    }
  });
  it('random features with fewer features than inputs: the same numbers as the stationary solver (ω = 0)', () => {
    const set = { gamma: 0.5, sigma2: 0.25 };
    const r = value(solveStaticVector(reading('examples/random-features.dmft', set), opts));
    const sys = derive(loadModel('examples/random-features.dmft', set)).system;
    const st = solve(sys, { params: sys.params, T: 1, dt: 0.1, times: [1], method: 'stationary' });
    for (const k of ['test', 'train']) within(r, k, st.limit![k], 1e-9);
  });
  it('zero modes (α < 1): the proximal continuation gives the min-norm point from w(0) = 0, flagged init-dependent', () => {
    // w = X⁺y: test = ((1 − α) + σ²α/(1 − α))/2, train = 0 (bench/vector/ls_limits.py)
    const r = value(solveStaticVector(reading('examples/momentum.dmft', { alpha: 0.5 }), opts));
    within(r, 'test', (0.5 + (0.25 * 0.5) / 0.5) / 2);
    within(r, 'train', 0);
    expect(r.diagnostics.initDependent).toBe(true);
    expect(r.limitNote).toMatch(/manifold/);
  });
  it('two students from random inits, α < 1: the variance over initialization survives (closed forms)', () => {
    const r = value(solveStaticVector(reading('examples/two-students.dmft', { alpha: 0.5 }), opts));
    within(r, 'test', 0.625);
    within(r, 'ensemble', 0.5);
    within(r, 'variance', 0.25);
  });
});

describe('a vector site that relaxes to 0 (not an example)', () => {
  it('every order parameter decays with the state: the zero fixed point converges (it was refused as non-converging)', () => {
    // x* = 2η (the y-loop halves the leak), so q = 4g²q: stable for g = 0.3, and q = 0
    const src = 'model "z"\nparam g = 0.3\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\nstate y[i]\ninit x[i] = 1\ninit y[i] = 0\nd/dt x[i] = -x[i] + y[i] + sum(j, J[i,j]*x[j])\nd/dt y[i] = -2*y[i] + x[i]\nobserve v = mean(i, (x[i] + y[i])^2)\n';
    const r = value(solveStatic(readSystem(derive(loadModelSource(src, 'z.dmft')).system), opts));
    expect(r.diagnostics.method).toBe('static (vector sites)');
    within(r, 'v', 0, 1e-12);
    expect(r.diagnostics.fluctuationEigenvalue as number).toBeCloseTo(0.36, 6);
  });
});

describe('a scalar site is the 1×1 case', () => {
  it('the tanh network with a bias: the same fixed point as the scalar static solver', () => {
    const rd = reading('test/check/models/tanh-bias.dmft');
    const v = value(solveStaticVector(rd, opts));
    const s = solveStatic(rd, opts);
    if ('unsupported' in s) throw new Error(s.unsupported);
    for (const k of ['a', 'q']) expect(Math.abs(v.limit[k] - s.limit[k]), k).toBeLessThanOrEqual(v.limitError[k] + s.limitError![k]);
    expect(Math.abs((v.diagnostics.fluctuationEigenvalue as number) - (s.diagnostics.fluctuationEigenvalue as number))).toBeLessThan(1e-6);
  });
});

describe('a scalar site read as a 1×1 vector site: what the vector evaluator took from the scalar one', () => {
  const bias = (g: number, s2: number) => readSystem(derive(loadModelSource(`model "tanh network with a quenched bias"
param g = 0.7, s2 = 0.1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), symmetric
random b[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + b[i]
observe var = mean(i, x[i]^2)
`, 'bias.dmft', { g, s2 })).system);

  it('a near-singular root (branch points near the real axis): the bias merged into the field, the trapezoid rule, the scalar value within the bars', () => {
    // Gauss–Hermite over (η, b) reported 0.7196540897 ± 7.2e-13 here; the scalar site (and the independent
    // reference of test/solve/static.test.ts) 0.7196540893
    const rd = bias(0.7, 0.1);
    const v = value(solveStaticVector(rd, opts)), s = value(solveStatic(rd, opts));
    expect(s.diagnostics.method).toBe('static');
    expect(Math.abs(v.limit.var - s.limit.var), `${v.limit.var} ± ${v.limitError.var} against ${s.limit.var} ± ${s.limitError.var}`).toBeLessThanOrEqual(v.limitError.var + s.limitError.var);
    expect(v.limitError.var).toBeLessThan(1e-8);
  });

  it('a root that depends on the initial draw (two attractors) is refused, not averaged over a rule that cannot see the basins', () => {
    const src = 'model "bistable"\nparam g = 0.3\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0.2, 1)\nd/dt x[i] = x[i] - x[i]^3 + sum(j, J[i,j]*x[j])\nobserve m = mean(i, x[i])\n';
    const out = solveStaticVector(readSystem(derive(loadModelSource(src, 'bistable.dmft')).system), opts);
    expect('unsupported' in out && out.unsupported).toMatch(/depends on the initial draw \(several attractors/);
  });
});

describe('a nonlinear site with two variables and correlated fields (not an example)', () => {
  it('agrees with the finite-N fixed points extrapolated in 1/N', () => {
    const ref = JSON.parse(readFileSync('bench/static-vector/references.json', 'utf8'))['two-unit'];
    const r = value(solveStaticVector(reading('bench/static-vector/two-unit.dmft'), opts));
    for (const [k, x] of Object.entries(ref.extrapolated as Record<string, { value: number; se: number }>)) {
      // the reference's own statistical error dominates: 4 standard errors
      expect(Math.abs(r.limit[k] - x.value), `${k}: ${r.limit[k]} against ${x.value} ± ${x.se}`).toBeLessThan(4 * x.se + r.limitError[k]);
      expect(r.limitError[k]).toBeLessThan(1e-6);
    }
  });
});

describe('refusals name the reason', () => {
  it('white noise: stationary, not static', () => {
    const out = solveStaticVector(reading('examples/transpose-mix.dmft'), opts);
    expect('unsupported' in out && out.unsupported).toMatch(/driven by white noise/);
  });
  it('a bounded variable in a vector site', () => {
    const src = 'model "b"\nparam g = 0.3\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i] >= 0\nstate y[i]\ninit x[i] = 1\ninit y[i] = 0\nd/dt x[i] = x[i]*(1 - x[i] - y[i])\nd/dt y[i] = -y[i] + sum(j, J[i,j]*x[j])\nobserve m = mean(i, x[i])\n';
    const out = solveStaticVector(readSystem(derive(loadModelSource(src, 'b.dmft')).system), opts);
    expect('unsupported' in out && out.unsupported).toMatch(/bounded: bounds in a vector site are not supported by the static solver yet/);
  });
});
