// The Gaussian closure of vector single-site processes (several variables per
// site, correlated fields, cross-correlations, initial conditions on quenched
// inputs) against independent references: every reported error must cover the
// deviation.
//   - scalar twins: vector models whose observables equal those of a scalar
//     model solved by the scalar closure;
//   - Marchenko–Pastur mode integrals (closed forms per mode, checked against a
//     finite-D simulation in bench/closure-vector/mp_modes.py);
//   - random features: a large-D extrapolation of the exact finite-D flow
//     (bench/closure-vector/random_features.py, output committed).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { solve, whyNotGaussian } from '../../src/solve/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import type { SolveResult } from '../../src/solve/types.ts';

const opts = (T: number, dt: number, times: number[]) => ({ T, dt, times });
function runSource(src: string, params: Record<string, number>, o: { T: number; dt: number; times: number[] }): SolveResult {
  const sys = deriveCavity(loadModelSource(src, '<test>', params)).system;
  return solveGaussian(readSystem(sys, sys.params), { params: sys.params, ...o }).result;
}
function runExample(name: string, params: Record<string, number>, o: { T: number; dt: number; times: number[] }): SolveResult {
  const sys = deriveCavity(loadModel(`examples/${name}.dmft`, params)).system;
  return solveGaussian(readSystem(sys, sys.params), { params: sys.params, ...o }).result;
}
/** |a − b| within the two reported errors, and both errors small */
function same(a: SolveResult, ka: string, b: SolveResult, kb: string, rel = 2e-3) {
  a.t.forEach((t, i) => {
    const x = a.observables[ka][i], y = b.observables[kb][i];
    expect(Math.abs(x - y), `${ka}(${t}) = ${x} vs ${kb}(${t}) = ${y}`).toBeLessThanOrEqual(a.error[ka][i] + b.error[kb][i]);
    expect(a.error[ka][i] / Math.abs(x)).toBeLessThan(rel);
  });
}
function covers(r: SolveResult, k: string, exact: (t: number) => number, rel = 1e-2) {
  r.t.forEach((t, i) => {
    const e = exact(t);
    expect(Math.abs(r.observables[k][i] - e), `${k}(${t}) = ${r.observables[k][i]}, exact ${e}, error ${r.error[k][i]}`).toBeLessThanOrEqual(r.error[k][i]);
    expect(r.error[k][i] / Math.abs(e)).toBeLessThan(rel);
  });
}

/** gradient flow on linear regression, a scalar site (the twin of several vector models) */
const regression = (init: string) => `model "regression"
param alpha = 2, sigma2 = 0.25
index i in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
state w[i]
init w[i] ${init}
let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i])) - eps[mu]
d/dt w[i] = -(1/alpha) * sum(mu, X[mu,i]*r[mu])
observe test = mean(i, (w[i] - wstar[i])^2)/2
observe train = mean(mu, r[mu]^2)/2`;

describe('scalar twins: vector models against the scalar closure', () => {
  it('two students: each student\'s test loss is the scalar regression\'s from a normal(0, 1) start (α = 1.5, σ² = 0.4)', () => {
    const p = { alpha: 1.5, sigma2: 0.4 }, o = opts(3, 0.2, [0.6, 3]);
    same(runExample('two-students', p, o), 'test', runSource(regression('~ normal(0, 1)'), p, o), 'test');
  });

  it('warm start at ρ = 0, s0 = 1 is the scalar regression from a normal(0, 1) start (test and train)', () => {
    const o = opts(3, 0.15, [0, 3]);
    const a = runExample('warm-start', { rho: 0, s0: 1, alpha: 3 }, o), b = runSource(regression('~ normal(0, 1)'), { alpha: 3 }, o);
    same(a, 'test', b, 'test');
    same(a, 'train', b, 'train');
  });

  it('J + b·Jᵀ with transpose correlation κ is one coupling with g\' = g√(1 + b² + 2bκ), κ\' = (κ(1 + b²) + 2b)/(1 + b² + 2bκ)', () => {
    const g = 0.5, b = 0.6, kappa = -0.4, o = opts(4, 0.2, [0.4, 4]);
    const n = 1 + b * b + 2 * b * kappa;
    const mix = runExample('transpose-mix', { g, b, kappa }, o);
    const one = runExample('linear-partial-sym', { g: g * Math.sqrt(n), kappa: (kappa * (1 + b * b) + 2 * b) / n, sigma2: 1 }, o);
    same(mix, 'var', one, 'var');
  });

  it('a let chain inside a site (u = x/2, v = u + b, the field sums v) is the scalar model with v written out', () => {
    const head = `param g = 0.6, s2 = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
random b[i] ~ normal(0, s2)
state x[i]
init x[i] ~ normal(0, 1)
`;
    const chain = runSource(`model "chain"\n${head}let u[i] = 0.5*x[i]\nlet v[i] = u[i] + b[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*v[j])\nobserve var = mean(i, x[i]^2)\nobserve vv = mean(i, v[i]^2)`, {}, opts(3, 0.15, [0.6, 3]));
    const twin = runSource(`model "twin"\n${head}d/dt x[i] = -x[i] + sum(j, J[i,j]*(0.5*x[j] + b[j]))\nobserve var = mean(i, x[i]^2)\nobserve vv = mean(i, (0.5*x[i] + b[i])^2)`, {}, opts(3, 0.15, [0.6, 3]));
    same(chain, 'var', twin, 'var');
    same(chain, 'vv', twin, 'vv');
  });

  it('a nonlinear order parameter of one variable in a vector site (tanh network with a linear follower y) is the scalar network\'s', () => {
    const head = `param g = 1.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))
observe q = mean(i, tanh(x[i])^2)
`;
    const o = opts(1.6, 0.2, [0.4, 1.6]);
    const vec = runSource(`model "follower"\n${head}state y[i]\ninit y[i] = 0\nd/dt y[i] = -2*y[i] + x[i]\nobserve yy = mean(i, y[i]^2)`, {}, o);
    same(vec, 'q', runSource(`model "tanh"\n${head}`, {}, o), 'q');
    expect(vec.observables.yy[1]).toBeGreaterThan(0);
  });

  it('the same coupling written as two sums, J x and b Jᵀ x, gives the same var(t)', () => {
    const src = `model "two sums"
param g = 0.5, b = 0.6, kappa = -0.4, sigma2 = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N), corr(J[i,j], J[j,i]) = kappa
noise xi[i] ~ white(sigma2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + b*sum(j, J[j,i]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)`;
    const o = opts(4, 0.2, [0.4, 4]);
    same(runSource(src, {}, o), 'var', runExample('transpose-mix', { g: 0.5, b: 0.6, kappa: -0.4 }, o), 'var');
  });
});

/** ∫ f dμ for the eigenvalues ν of XᵀX/α (X ∈ R^{P×D}, N(0, 1/D) entries, P = αD):
 *  Marchenko–Pastur of ratio c = 1/α, with the atom 1 − α at ν = 0 when α < 1 (f0 = lim f there) */
function mp(alpha: number, f: (nu: number) => number, f0 = 0, n = 4000): number {
  const c = 1 / alpha, mid = 1 + c, rad = 2 * Math.sqrt(c);
  let s = 0;
  for (let k = 0; k < n; k++) {
    const th = (Math.PI * (k + 0.5)) / n, nu = mid + rad * Math.cos(th);
    s += ((Math.PI / n) * rad * rad * Math.sin(th) ** 2) / (2 * Math.PI * c * nu) * f(nu);
  }
  return s + (alpha < 1 ? (1 - alpha) * f0 : 0);
}
/** per mode ν: v(t) = h v(0) + (1 − h) f/ν, Var f = σ²ν/α; test = ½∫[var0 h² + σ²(1 − h)²/(αν)] dμ */
const testLoss = (alpha: number, s2: number, var0: number, h: (nu: number) => number) =>
  0.5 * mp(alpha, (nu) => var0 * h(nu) ** 2 + (s2 / alpha) * (1 - h(nu)) ** 2 / nu, var0);
const gf = (t: number) => (nu: number) => Math.exp(-nu * t);
/** heavy ball: ḧ + βḣ + νh = 0, h(0) = 1, ḣ(0) = 0 */
const heavy = (beta: number, t: number) => (nu: number) => {
  const d = beta * beta / 4 - nu, e = Math.exp(-beta * t / 2);
  if (Math.abs(d) < 1e-12) return e * (1 + beta * t / 2);
  if (d > 0) { const w = Math.sqrt(d); return e * (Math.cosh(w * t) + (beta / 2) * Math.sinh(w * t) / w); }
  const w = Math.sqrt(-d);
  return e * (Math.cos(w * t) + (beta / 2) * Math.sin(w * t) / w);
};

describe('scalar sites are the case V = 1: the numbers of the scalar closure this code replaced', () => {
  // bench/unify/closure-baseline.json: the scalar closure's results (npx tsx bench/unify/closure-ab.ts record,
  // run before it was deleted); its own error bars must cover the difference
  const base = JSON.parse(readFileSync('bench/unify/closure-baseline.json', 'utf8')) as Record<string, { one: Record<string, number[]>; err: Record<string, number[]> }>;
  for (const name of ['gf-alpha1-ridge', 'linear-quenched-bias', 'rate-tanh-paper', 'mean-tanh-branch-sym']) {
    it(name, () => {
      const sys = deriveCavity(loadModel(`test/trust/models/${name}.dmft`)).system;
      const r = solveGaussian(readSystem(sys, sys.params), { params: sys.params, T: 5, dt: 0.1 }).result;
      const b = base[`trust/${name}.dmft`];
      for (const k of Object.keys(b.one)) b.one[k].forEach((x, i) => {
        expect(Math.abs(r.observables[k][i] - x), `${k}(${r.t[i]}) = ${r.observables[k][i]}, scalar closure ${x} ± ${b.err[k][i]}`).toBeLessThanOrEqual(0.1 * b.err[k][i]);
      });
    });
  }
});

describe('Marchenko–Pastur closed forms', () => {
  it('two students (α = 2 and α = 0.5): test, ensemble and variance over initializations', () => {
    for (const alpha of [2, 0.5]) {
      const s2 = 0.25;
      const r = runExample('two-students', { alpha, sigma2: s2 }, opts(3, 0.2, [0.4, 3]));
      // v_a(0) = z_a − w*: var 2 each, covariance 1; (v1 + v2)/2 starts with variance 3/2; v1 − v2 carries no noise
      covers(r, 'test', (t) => testLoss(alpha, s2, 2, gf(t)));
      covers(r, 'ensemble', (t) => testLoss(alpha, s2, 1.5, gf(t)));
      covers(r, 'variance', (t) => 0.5 * mp(alpha, (nu) => gf(t)(nu) ** 2, 1));
    }
  });

  it('two students on independent label noise (α = 2, s0 = 1; α = 0.5, s0 = 0.6): test, ensemble and variance over the noise', () => {
    for (const [alpha, s0] of [[2, 1], [0.5, 0.6]]) {
      const s2 = 0.25;
      const r = runExample('label-noise', { alpha, sigma2: s2, s0 }, opts(3, 0.2, [0.4, 3]));
      // the same start s0 z: v(0) = s0 z − w* has variance 1 + s0²; the noise parts f1, f2 are independent,
      // so (v1 + v2)/2 keeps half of the noise term and v1 − v2 = (1 − h)(f1 − f2)/ν is the noise alone
      covers(r, 'test', (t) => testLoss(alpha, s2, 1 + s0 * s0, gf(t)));
      covers(r, 'ensemble', (t) => 0.5 * mp(alpha, (nu) => (1 + s0 * s0) * gf(t)(nu) ** 2 + (s2 / (2 * alpha)) * (1 - gf(t)(nu)) ** 2 / nu, 1 + s0 * s0));
      covers(r, 'variance', (t) => 0.5 * mp(alpha, (nu) => (s2 / alpha) * (1 - gf(t)(nu)) ** 2 / nu));
    }
  });

  it('heavy-ball momentum (α = 2, β = 0.5; α = 0.5, β = 1): damped oscillators per mode, test and train', () => {
    for (const [alpha, beta] of [[2, 0.5], [0.5, 1]]) {
      const s2 = 0.25;
      const r = runExample('momentum', { alpha, beta, sigma2: s2 }, opts(6, 0.2, [0.4, 2, 6]));
      covers(r, 'test', (t) => testLoss(alpha, s2, 1, heavy(beta, t)));
      // r = Xv − ε: ½[∫ var0 ν h² + (σ²/α) h² dμ + σ²(1 − 1/α)] for α > 1
      if (alpha > 1) covers(r, 'train', (t) => 0.5 * (mp(alpha, (nu) => nu * heavy(beta, t)(nu) ** 2 + (s2 / alpha) * heavy(beta, t)(nu) ** 2) + s2 * (1 - 1 / alpha)));
    }
  });

  it('warm start w(0) = ρ w* + s0 z (α = 0.5, ρ = 1, s0 = 0.2; α = 3, ρ = 0.3, s0 = 0.7)', () => {
    for (const [alpha, rho, s0] of [[0.5, 1, 0.2], [3, 0.3, 0.7]]) {
      const s2 = 0.25;
      const r = runExample('warm-start', { alpha, rho, s0, sigma2: s2 }, opts(5, 0.2, [0, 1, 5]));
      covers(r, 'test', (t) => testLoss(alpha, s2, (1 - rho) ** 2 + s0 * s0, gf(t)));
    }
  });
});

describe('linear random features: the large-D limit of the exact finite-D flow', () => {
  const ref = JSON.parse(readFileSync(new URL('../../bench/closure-vector/random-features.json', import.meta.url), 'utf8')) as {
    cases: { params: Record<string, number>; times: number[]; test: { value: number; error: number }[]; train: { value: number; error: number }[] }[];
  };
  for (const c of ref.cases) {
    it(`α = ${c.params.alpha}, γ = ${c.params.gamma}: test and train within the reference's error + the closure's`, () => {
      const r = runExample('random-features', c.params, opts(Math.max(...c.times), 0.2, c.times));
      c.times.forEach((t, i) => {
        for (const k of ['test', 'train'] as const) {
          const x = r.observables[k][i], e = c[k][i];
          expect(Math.abs(x - e.value), `${k}(${t}) = ${x} vs ${e.value} ± ${e.error}`).toBeLessThanOrEqual(r.error[k][i] + 3 * e.error);
        }
      });
    });
  }
});

/** a rate network whose transfer function reads two variables of a site */
const mixed = (body: string, lets = '', observe = '') => `model "mixed"
param g = 1.2
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
state y[i]
init x[i] ~ normal(0, 1)
init y[i] = 0
${lets}d/dt x[i] = -x[i] + sum(j, J[i,j]*${body})
d/dt y[i] = -y[i] + x[i]
observe xx = mean(i, x[i]^2)
${observe}`;

describe('nonlinear order parameters of one affine combination of a site\'s variables', () => {
  it('tanh(x + y): q = E tanh(u)² and Var x against the impulse-response reference (bench/closure-vector/combination_ref.py)', () => {
    const ref = JSON.parse(readFileSync(new URL('../../bench/closure-vector/combination.json', import.meta.url), 'utf8')) as { params: { g: number }; observables: Record<string, { time: number; value: number; error: number }[]> };
    const times = ref.observables.q.map((e) => e.time);
    const r = runSource(mixed('tanh(x[j] + y[j])', '', 'observe q = mean(i, tanh(x[i] + y[i])^2)'), ref.params, opts(Math.max(...times), 0.1, times));
    for (const k of ['q', 'xx']) {
      ref.observables[k].forEach((e, i) => {
        const x = r.observables[k][i];
        expect(Math.abs(x - e.value), `${k}(${e.time}) = ${x} ± ${r.error[k][i]} vs ${e.value} ± ${e.error}`).toBeLessThanOrEqual(r.error[k][i] + 3 * e.error);
        expect(r.error[k][i] / e.value).toBeLessThan(1e-2);
      });
    }
  });

  it('tanh(x + y) read through the combination u = x + y equals the model with u a let (a nonlinear function of one variable)', () => {
    const o = opts(1.6, 0.2, [0.4, 1.6]);
    const direct = runSource(mixed('tanh(x[j] + y[j])', '', 'observe q = mean(i, tanh(x[i] + y[i])^2)'), {}, o);
    const twin = runSource(mixed('tanh(u[j])', 'let u[i] = x[i] + y[i]\n', 'observe q = mean(i, tanh(u[i])^2)'), {}, o);
    same(direct, 'xx', twin, 'xx');
    same(direct, 'q', twin, 'q');
  });

  it('a scalar site with relu(x + b), b a quenched bias, is solved by the closure and equals the model with the argument as a let', () => {
    const net = (arg: string, let_: string) => `model "relu network with quenched biases"
param g = 1.2, s2 = 0.25
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
random b[i] ~ normal(0.2, s2)
state x[i]
init x[i] ~ normal(0, 1)
${let_}d/dt x[i] = -x[i] + sum(j, J[i,j]*relu(${arg.replace(/i\]/g, 'j]')}))
observe var = mean(i, x[i]^2)
observe act = mean(i, relu(${arg}))
`;
    const o = { T: 1, dt: 0.25, times: [0.5, 1] };
    const scalar = deriveCavity(loadModelSource(net('x[i] + b[i]', ''), '<test>', {})).system;
    // the dispatcher's test (Monte Carlo ran it before: the scalar closure refused f mixing x and b)
    expect(whyNotGaussian(readSystem(scalar))).toBeUndefined();
    const r = solveGaussian(readSystem(scalar), { params: scalar.params, ...o }).result;
    const twin = runSource(net('u[i]', 'let u[i] = x[i] + b[i]\n'), {}, o);
    same(r, 'var', twin, 'var');
    same(r, 'act', twin, 'act');
  });
});

describe('what the vector closure cannot do is said, with the reason', () => {
  it('a nonlinear order parameter of two variables that is not a function of one combination goes to Monte Carlo, the note naming the function and the variables', () => {
    const sys = deriveCavity(loadModelSource(mixed('tanh(x[j])*y[j]'), '<test>')).system;
    // cheap Monte Carlo settings (passed through to the solver)
    const r = solve(sys, { params: sys.params, T: 1, dt: 0.1, paths: 64, replicas: 4, maxReplicas: 4 } as Parameters<typeof solve>[1]);
    // the transient by Monte Carlo (the t → ∞ limit, where the static solver finds a fixed point, adds '+static')
    expect(r.method).toMatch(/^montecarlo(\+static)?$/);
    expect(String(r.diagnostics.whyNotGaussian)).toMatch(/order parameter C\[tanh\(x\)\*y\]: its function tanh\(x\)\*y mixes x, y nonlinearly, not through one affine combination/);
  });
});

describe('two-time observables of a vector site', () => {
  it('two students: Cov(w1(t) − w*, w2(s) − w*) is the Marchenko–Pastur form ∫[h(t)h(s) + (1 − h(t))(1 − h(s)) σ²/(αν)] dμ (α = 2, σ² = 0.25)', () => {
    const alpha = 2, s2 = 0.25;
    const src = `${readFileSync('examples/two-students.dmft', 'utf8')}\nobserve C12(t,s) = mean(i, (w1[i](t) - wstar[i])*(w2[i](s) - wstar[i]))\n`;
    const sys = deriveCavity(loadModelSource(src, '<test>', { alpha, sigma2: s2 })).system;
    const r = solveGaussian(readSystem(sys, sys.params), { params: sys.params, T: 2, dt: 0.2, twoTimePoints: 6 }).result;
    const c = r.twoTime!.C12, err = c.error!;
    // the shared start: Cov(z1 − w*, z2 − w*) = Var w* = 1; the shared noise part through the data
    const exact = (t: number, s: number) => mp(alpha, (nu) => gf(t)(nu) * gf(s)(nu) + (1 - gf(t)(nu)) * (1 - gf(s)(nu)) * s2 / (alpha * nu));
    expect(c.t.length).toBeGreaterThan(3);
    c.t.forEach((t, a) => c.t.forEach((s, b) => {
      const e = exact(t, s);
      expect(Math.abs(c.values[a][b] - e), `C12(${t}, ${s}) = ${c.values[a][b]} ± ${err[a][b]}, exact ${e}`).toBeLessThanOrEqual(err[a][b]);
      expect(err[a][b] / e).toBeLessThan(1e-2);
    }));
    // not symmetric in general, but here w1 and w2 are exchangeable: C12(t, s) = C12(s, t)
    expect(Math.abs(c.values[1][3] - c.values[3][1])).toBeLessThanOrEqual(err[1][3] + err[3][1]);
  });
});
