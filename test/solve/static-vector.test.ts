// The static solver on vector sites (src/solve/static-site.ts) against
// independent references: the vector stationary solver (its ω = 0 part is the
// fixed point of a deterministic relaxation) and the least-squares closed
// forms on the linear examples; a scalar site written with a let (two
// variables: the root by pseudo-transient continuation, the Jacobian with the
// let eliminated) against the same site with one variable; a nonlinear
// two-variable site with correlated fields that is not an example, against a
// finite-N fixed-point computation extrapolated in 1/N
// (bench/static-vector/two_unit_ref.py). Full settings and timings:
// bench/RESULTS.md, "Static cavity of vector sites".
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStatic, type StaticResult as VectorStaticResult } from '../../src/solve/static.ts';
import { solve } from '../../src/solve/index.ts';

const opts = { params: {}, T: 1, dt: 0.1 };
const reading = (file: string, set: Record<string, number> = {}) => readSystem(derive(loadModel(file, set)).system);
const value = (out: ReturnType<typeof solveStatic>): VectorStaticResult => {
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
      const r = value(solveStatic(reading(`examples/${f}.dmft`), opts));
      within(r, 'test', 0.25 / 2);
      within(r, 'train', (0.25 * (1 - 1 / 2)) / 2);
      expect(r.diagnostics.fluctuationEigenvalue as number).toBeLessThan(1);
    }
  });
  it('random features with fewer features than inputs: the same numbers as the stationary solver (ω = 0)', () => {
    const set = { gamma: 0.5, sigma2: 0.25 };
    const r = value(solveStatic(reading('examples/random-features.dmft', set), opts));
    const sys = derive(loadModel('examples/random-features.dmft', set)).system;
    const st = solve(sys, { params: sys.params, T: 1, dt: 0.1, times: [1], method: 'stationary' });
    for (const k of ['test', 'train']) within(r, k, st.limit![k], 1e-9);
  });
  it('zero modes (α < 1): the proximal continuation gives the min-norm point from w(0) = 0, flagged init-dependent', () => {
    // w = X⁺y: test = ((1 − α) + σ²α/(1 − α))/2, train = 0 (bench/vector/ls_limits.py)
    const r = value(solveStatic(reading('examples/momentum.dmft', { alpha: 0.5 }), opts));
    within(r, 'test', (0.5 + (0.25 * 0.5) / 0.5) / 2);
    within(r, 'train', 0);
    expect(r.diagnostics.initDependent).toBe(true);
    expect(r.limitNote).toMatch(/manifold/);
  });
  it('two students from random inits, α < 1: the variance over initialization survives (closed forms)', () => {
    const r = value(solveStatic(reading('examples/two-students.dmft', { alpha: 0.5 }), opts));
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
    expect(r.diagnostics.method).toBe('static');
    within(r, 'v', 0, 1e-12);
    expect(r.diagnostics.fluctuationEigenvalue as number).toBeCloseTo(0.36, 6);
  });
});

describe('a scalar site written with a let: two variables, the same fixed point', () => {
  // y = tanh(x) as a let: the site has two variables (the root by pseudo-transient continuation, the
  // response through the Jacobian, stability with the let eliminated); written inline it has one
  // (the first zero of the one-dimensional flow, the response −(∂F/∂η)/G′)
  const model = (withLet: boolean, extra: string) => readSystem(derive(loadModelSource(`model "tanh network with a bias"
param g = 0.7, s2 = 0.1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)${extra}
random b[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
${withLet ? 'let y[i] = tanh(x[i])\nd/dt x[i] = -x[i] + sum(j, J[i,j]*y[j]) + b[i]' : 'd/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + b[i]'}
observe var = mean(i, x[i]^2)
observe a = mean(i, tanh(x[i]))
`, 'bias.dmft')).system);
  for (const [what, extra] of [['i.i.d. couplings', ''], ['symmetric couplings (a reaction term; branch points of the root near the real axis)', ', symmetric']]) {
    it(what, () => {
      const one = value(solveStatic(model(false, extra), opts)), two = value(solveStatic(model(true, extra), opts));
      for (const k of ['var', 'a']) {
        expect(Math.abs(one.limit[k] - two.limit[k]), `${k}: ${one.limit[k]} ± ${one.limitError[k]} against ${two.limit[k]} ± ${two.limitError[k]}`).toBeLessThanOrEqual(one.limitError[k] + two.limitError[k]);
        expect(two.limitError[k]).toBeLessThan(1e-8);
      }
      expect(Math.abs((one.diagnostics.fluctuationEigenvalue as number) - (two.diagnostics.fluctuationEigenvalue as number))).toBeLessThan(1e-6);
    });
  }
  it('a root that depends on the initial draw (two attractors) is refused, not averaged over a rule that cannot see the basins', () => {
    const src = 'model "bistable"\nparam g = 0.3\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\ninit x[i] ~ normal(0.2, 1)\nlet y[i] = x[i] - x[i]^3\nd/dt x[i] = y[i] + sum(j, J[i,j]*x[j])\nobserve m = mean(i, x[i])\n';
    const out = solveStatic(readSystem(derive(loadModelSource(src, 'bistable.dmft')).system), opts);
    expect('unsupported' in out && out.unsupported).toMatch(/depends on the initial draw \(several attractors/);
  });
});

describe('a nonlinear site with two variables and correlated fields (not an example)', () => {
  it('agrees with the finite-N fixed points extrapolated in 1/N', () => {
    const ref = JSON.parse(readFileSync('bench/static-vector/references.json', 'utf8'))['two-unit'];
    const r = value(solveStatic(reading('bench/static-vector/two-unit.dmft'), opts));
    for (const [k, x] of Object.entries(ref.extrapolated as Record<string, { value: number; se: number }>)) {
      // the reference's own statistical error dominates: 4 standard errors
      expect(Math.abs(r.limit[k] - x.value), `${k}: ${r.limit[k]} against ${x.value} ± ${x.se}`).toBeLessThan(4 * x.se + r.limitError[k]);
      expect(r.limitError[k]).toBeLessThan(1e-6);
    }
  });
});

describe('refusals name the reason', () => {
  it('white noise: stationary, not static', () => {
    const out = solveStatic(reading('examples/transpose-mix.dmft'), opts);
    expect('unsupported' in out && out.unsupported).toMatch(/driven by white noise/);
  });
});

describe('bounds and kinks in models that are in no example (independent references: bench/staticone/reference.py)', () => {
  const ref = JSON.parse(readFileSync('bench/staticone/references.json', 'utf8'));
  it('a bounded grower driven through a second variable, symmetric couplings (a bound in a site of two variables, a reaction term)', () => {
    const r = value(solveStatic(reading('bench/staticone/bounded-two.dmft'), opts));
    for (const k of ['m', 'q', 'alive']) within(r, k, ref['bounded-two'][k], 1e-8);
    expect(Math.abs((r.diagnostics['R[x|eta]'] as number) - ref['bounded-two'].chi)).toBeLessThan(1e-8);
  });
  it('a bounded rate with a kinked self-coupling and a uniform threshold (pinned at 0, a kink at x = 1 in the equation, a jumping observable)', () => {
    const r = value(solveStatic(reading('bench/staticone/kinked-bounded.dmft'), opts));
    for (const k of ['m', 'q', 'above']) within(r, k, ref['kinked-bounded'][k], 1e-8);
  });
});
