// Monte Carlo solution of the DMFT transient (time-marching sweeps in
// replicas), checked against references computed independently of the solver,
// at small path counts (the full settings are in bench/montecarlo.bench.ts):
//  - SCS (Gaussian state): C_x = e^{−t−s} + ∫∫ e^{−(t−u)−(s−v)} g² C_φ(u,v), C_φ from C_x by
//    2-D Gauss–Hermite — a small deterministic fixed-point calculation;
//  - a relu network (Gaussian state, kinked rate): bench/relu_reference.py (exact bivariate
//    relu moments, Richardson in the step);
//  - a noise-driven linear network with a memory term (the tangent's memory path): the
//    Gaussian closure;
//  - gradient flow on linear regression (two populations, instantaneous response):
//    the Marchenko–Pastur formula for the test loss at finite t;
//  - random Lotka–Volterra (bounded, memory term), also at γ = 1 where the former
//    Picard iteration diverged: a direct N = 1000 RK4 integration;
//  - failures (a finite-time blow-up, a step past Heun's stability limit) are errors that
//    say what diverged and why.
import { describe, expect, it } from 'vitest';
import { lvSystem, type LvParams } from '../helpers/lotka-volterra.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { gaussExpect2 } from '../helpers/gauss-hermite.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStatic } from '../../src/solve/static.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';

/** cheap settings: 16 replicas of `paths` paths */
function mc(file: string, sets: Record<string, number>, o: { T: number; dt: number; paths: number; times: number[]; replicas?: number; responsePaths?: number }) {
  const sys = deriveCavity(loadModel(file, sets)).system;
  const R = o.replicas ?? 16;
  return solveMonteCarlo(readSystem(sys, sys.params), { params: sys.params, ...o, replicas: R, maxReplicas: R });
}

/** mean and standard error of independent samples */
const stat = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, se: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) / xs.length) };
};

describe('Monte Carlo: SCS (Gaussian state) against a deterministic closure', () => {
  it('var(t) and C(t,s) agree within 3 reported errors', () => {
    const g = 1.5, T = 3, times = [0.5, 1, 2, 3];
    const out = mc('examples/scs.dmft', { g }, { T, dt: 0.1, paths: 250, times });
    // reference: trapezoid on a grid of step 0.05, fixed-point iteration (causal ⇒ converges)
    const h = 0.05, n = Math.round(T / h) + 1;
    const t = Array.from({ length: n }, (_, k) => k * h);
    const W = Array.from({ length: n }, (_, k) => Array.from({ length: n }, (_, a) => (a > k || k === 0 ? 0 : h * (a === 0 || a === k ? 0.5 : 1) * Math.exp(-(t[k] - t[a])))));
    let C = t.map((x) => t.map((y) => Math.exp(-x - y)));
    for (let it = 0; it < 40; it++) {
      const G = C.map((row, a) => row.map((_, b) => (b > a ? 0 : g * g * gaussExpect2((x, y) => Math.tanh(x) * Math.tanh(y), 0, 0, C[a][a], C[a][b], C[b][b], 20))));
      for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) G[a][b] = G[b][a];
      const WG = W.map((row) => t.map((_, b) => row.reduce((s, w, a) => s + w * G[a][b], 0)));
      const next = t.map((x, k) => t.map((y, l) => Math.exp(-x - y) + WG[k].reduce((s, v, b) => s + v * W[l][b], 0)));
      let d = 0;
      for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) d = Math.max(d, Math.abs(next[k][l] - C[k][l]));
      C = next;
      if (d < 1e-12) break;
    }
    const ref = (a: number, b: number) => C[Math.round(a / h)][Math.round(b / h)];
    times.forEach((x, i) => {
      const err = out.error.var[i];
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(0.05);
      expect(Math.abs(out.observables.var[i] - ref(x, x))).toBeLessThan(3 * err);
    });
    const tt = out.twoTime!.C;
    expect(tt.t).toEqual(times);
    for (const [a, b] of [[0, 1], [1, 3], [0, 3]]) {
      expect(Math.abs(tt.values[a][b] - ref(times[a], times[b]))).toBeLessThan(3 * tt.error![a][b]);
    }
    // the decay of var(t) from 1 is real: the solution is not trivially right
    expect(ref(1, 1)).toBeLessThan(0.4);
    expect(out.diagnostics.replicas).toBe(16);
  });
});

describe('Monte Carlo: relu network (Gaussian state, kinked rate) against an exact transient', () => {
  // `python3 bench/relu_reference.py 1.2 0.1 10 1 2 5 10`: var(t) = E[x²] from the exact bivariate
  // moments of relu, Richardson in the step (errors ≤ 1.4e-5); m(t) = b(1 − e^{−t}) exactly
  const ref = { t: [1, 2, 5], var: [0.27072853, 0.17746197, 0.15993329] };
  const b = 0.1;
  it('var(t) and m(t) lie within 3 reported errors; the errors are small enough to matter', () => {
    const out = mc('examples/relu-network.dmft', {}, { T: 5, dt: 0.1, paths: 1000, times: ref.t });
    ref.t.forEach((t, i) => {
      expect(Math.abs(out.observables.var[i] - ref.var[i])).toBeLessThan(3 * out.error.var[i]);
      expect(Math.abs(out.observables.m[i] - b * (1 - Math.exp(-t)))).toBeLessThan(3 * out.error.m[i]);
      // the former solver drifted by −0.05 at t = 10
      expect(out.error.var[i]).toBeLessThan(0.02);
    });
  });
  it('with only 64 paths per replica the finite-P bias is measured and the errors still cover the reference', () => {
    const out = mc('examples/relu-network.dmft', {}, { T: 5, dt: 0.1, paths: 64, replicas: 32, times: ref.t });
    expect(out.diagnostics.finitePathBiasMax).toBeGreaterThan(0);
    ref.t.forEach((_, i) => expect(Math.abs(out.observables.var[i] - ref.var[i])).toBeLessThan(3 * out.error.var[i]));
  });
});

describe('Monte Carlo: late times near the edge of stability (loop gain 0.84) with too few paths', () => {
  it('says the value is not resolved, and its error still covers the exact fixed point', () => {
    const out = mc('examples/relu-network.dmft', {}, { T: 30, dt: 0.3, paths: 250, times: [30] });
    const sys = deriveCavity(loadModel('examples/relu-network.dmft')).system;
    const st = solveStatic(readSystem(sys), { params: sys.params, T: 0, dt: 0 });
    if ('unsupported' in st) throw new Error(st.unsupported);
    // relaxation at rate 1 − 0.84: var(30) is within 1e-2 of var(∞)
    expect(Math.abs(out.observables.var[0] - st.limit.var)).toBeLessThan(3 * out.error.var[0] + 1e-2);
    expect(String(out.diagnostics.warning)).toMatch(/var is not resolved from t = \d/);
  });
});

describe('Monte Carlo: a memory term and white noise (tangent propagation) against the Gaussian closure', () => {
  it('partially symmetric linear network: var(t) within 3 errors of the closure', () => {
    const sets = { g: 0.5, kappa: 0.8 }, times = [1, 2, 4];
    const out = mc('examples/linear-partial-sym.dmft', sets, { T: 4, dt: 0.1, paths: 200, times });
    const sys = deriveCavity(loadModel('examples/linear-partial-sym.dmft', sets)).system;
    const g = solveGaussian(readSystem(sys, sys.params), { params: sys.params, T: 4, dt: 0.05, times }).result;
    times.forEach((_, i) => {
      expect(g.error.var[i]).toBeLessThan(1e-5);
      expect(Math.abs(out.observables.var[i] - g.observables.var[i])).toBeLessThan(3 * out.error.var[i]);
    });
    // the reaction term matters: at κ = 0 (no memory term) var(4) = 0.574
    expect(g.observables.var[2]).toBeGreaterThan(0.65);
    // a deterministic response has no sampling noise: the self-consistency check must not flag rounding
    expect(out.diagnostics.kernelResidualRms).toBeLessThan(2);
  });
});

describe('Monte Carlo: gradient flow on linear regression (two populations, instantaneous response)', () => {
  it('test loss follows the Marchenko–Pastur formula', () => {
    const alpha = 2, s2 = 0.25, times = [0.5, 1, 2];
    const out = mc('examples/linear-regression-gf.dmft', { alpha, sigma2: s2 }, { T: 2, dt: 0.1, paths: 200, times });
    // test(t) = ½[∫ e^{−2λt} dμ + (σ²/α) ∫ (1 − e^{−λt})²/λ dμ], μ = MP of ratio c = 1/α (no atom for α > 1);
    // λ = m + (w/2)(1 − cos θ) makes the density's square roots smooth: Gauss–Legendre-free midpoint rule
    const c = 1 / alpha, lm = (1 - Math.sqrt(c)) ** 2, lp = (1 + Math.sqrt(c)) ** 2;
    const mp = (f: (l: number) => number) => {
      const M = 4000;
      let s = 0;
      for (let i = 0; i < M; i++) {
        const th = (Math.PI * (i + 0.5)) / M;
        const l = lm + ((lp - lm) / 2) * (1 - Math.cos(th));
        const dl = ((lp - lm) / 2) * Math.sin(th) * (Math.PI / M);
        s += (Math.sqrt((lp - l) * (l - lm)) / (2 * Math.PI * c * l)) * f(l) * dl;
      }
      return s;
    };
    expect(mp(() => 1)).toBeCloseTo(1, 6);
    times.forEach((t, i) => {
      const ref = 0.5 * (mp((l) => Math.exp(-2 * l * t)) + (s2 / alpha) * mp((l) => (1 - Math.exp(-l * t)) ** 2 / l));
      expect(Math.abs(out.observables.test[i] - ref)).toBeLessThan(3 * out.error.test[i]);
      expect(out.error.test[i]).toBeLessThan(0.01);
    });
    // t = 0.5 is far from both the initial 0.5 and the limit σ²/(2(α−1)) = 0.125
    expect(out.observables.test[0]).toBeGreaterThan(0.2);
    expect(out.observables.test[0]).toBeLessThan(0.28);
  });
});

describe('Monte Carlo: an algebraic population with a nonlinear loss (responses of a let, not affine)', () => {
  it('gradient flow on a tanh-loss regression agrees with N = 2000 simulations', () => {
    const src = [
      'model "gradient flow on a tanh loss"',
      'param alpha = 2',
      'index i in 1..D',
      'index mu in 1..P',
      'ratio P/D = alpha',
      'random X[mu,i] ~ normal(0, 1/D)',
      'random wstar[i] ~ normal(0, 1)',
      'state w[i]',
      'init w[i] = 0',
      'let r[mu] = sum(i, X[mu,i]*(w[i] - wstar[i]))',
      'd/dt w[i] = -(1/alpha) * sum(mu, X[mu,i]*tanh(r[mu]))',
      'observe test = mean(i, (w[i] - wstar[i])^2)/2',
      'observe loss = mean(mu, r[mu]^2)',
    ].join('\n');
    const sys = deriveCavity(loadModelSource(src, 'tanh-loss.dmft')).system;
    const times = [1, 2];
    const out = solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt: 0.1, times, paths: 400, replicas: 16, maxReplicas: 16 });
    // `dmft simulate … --N 2000 --seeds 8 --T 4 --times 1,2,4` (N = 500 agrees within its errors)
    const sim = { test: [[0.16935, 0.0027], [0.080246, 0.0013]], loss: [[0.17787, 0.0035], [0.053844, 0.0011]] };
    for (const [k, rows] of Object.entries(sim)) rows.forEach(([v, e], i) => {
      expect(Math.abs(out.observables[k][i] - v)).toBeLessThan(3 * Math.hypot(e, out.error[k][i]));
      expect(out.error[k][i]).toBeLessThan(0.1 * v);
    });
  });
});

// ---- a direct finite-N Lotka–Volterra integration (independent of the solver) ------
function lvTransient(N: number, seed: number, p: LvParams, times: number[], dt: number) {
  const lv = lvSystem(N, seed, p);
  const out: { m: number; q: number }[] = [];
  let step = 0;
  for (const t of times) {
    for (; step * dt < t - 1e-9; step++) lv.step(dt);
    let s = 0, s2 = 0;
    for (let i = 0; i < N; i++) { s += lv.n[i]; s2 += lv.n[i] * lv.n[i]; }
    out.push({ m: s / N, q: s2 / N });
  }
  return out;
}

describe('Monte Carlo: random Lotka–Volterra transient against a direct N = 1000 integration', () => {
  it('⟨n⟩(t) and q(t) agree within 3 combined errors + O(1/N)', () => {
    // σ = 0.7, γ = 0.5: the reaction term matters (without it, ⟨n⟩(2) ≈ 0.567 instead of ≈ 0.61)
    const p = { mu: 1, sigma: 0.7, gamma: 0.5, k: 1 };
    const times = [1, 2, 4, 6];
    const out = mc('examples/lotka-volterra.dmft', { sigma: p.sigma, gamma: p.gamma }, { T: 6, dt: 0.1, paths: 250, times });
    const N = 1000, seeds = 6;
    const runs = Array.from({ length: seeds }, (_, s) => lvTransient(N, 500 + s, p, times, 0.1));
    times.forEach((_, i) => {
      for (const [key, get] of [['abundance', (r: { m: number; q: number }) => r.m], ['q', (r: { m: number; q: number }) => r.q]] as const) {
        const sim = stat(runs.map((r) => get(r[i])));
        const err = Math.hypot(sim.se, out.error[key][i]);
        expect(Math.abs(out.observables[key][i] - sim.mean)).toBeLessThan(3 * err + 2 / N);
      }
    });
    // the transient is still far from both its start and the static limit at t = 1
    expect(out.observables.abundance[0]).toBeLessThan(0.7);
    expect(out.observables.abundance[0]).toBeGreaterThan(0.63);
    expect(typeof out.diagnostics.discretizationErrorMax).toBe('number');
  });
});

describe('Monte Carlo: symmetric Lotka–Volterra (γ = 1), where the former Picard iteration diverged', () => {
  it('a long transient (T = 30) solves and agrees with a direct N = 500 integration', () => {
    const p = { mu: 1, sigma: 0.6, gamma: 1, k: 1 };
    const times = [3, 30];
    const out = mc('examples/lotka-volterra.dmft', { sigma: p.sigma, gamma: p.gamma }, { T: 30, dt: 0.3, paths: 100, times });
    const N = 500, seeds = 4;
    const runs = Array.from({ length: seeds }, (_, s) => lvTransient(N, 700 + s, p, times, 0.1));
    times.forEach((_, i) => {
      for (const [key, get] of [['abundance', (r: { m: number; q: number }) => r.m], ['q', (r: { m: number; q: number }) => r.q]] as const) {
        const sim = stat(runs.map((r) => get(r[i])));
        expect(Math.abs(out.observables[key][i] - sim.mean)).toBeLessThan(3 * Math.hypot(sim.se, out.error[key][i]) + 2 / N);
        expect(out.error[key][i]).toBeLessThan(0.15 * sim.mean);
      }
    });
  });
});

describe('Monte Carlo: two bounded populations coupled through c and cᵀ (consumer–resource)', () => {
  // finite-N simulations at N = 250…2000 extrapolated in 1/N (bench/finite_n_reference.py;
  // bench/references/consumer-resource-finite-n.json): value ± standard error of the fit
  const ref: Record<string, [number, number][]> = {
    consumers: [[1.81297, 0.00514], [1.38327, 0.00311]],
    resources: [[0.41747, 0.00278], [0.26700, 0.00256]],
    qn: [[4.73445, 0.03603], [3.21483, 0.02464]],
  };
  it('every observable within 3 combined errors of the N → ∞ extrapolation', () => {
    const out = mc('examples/consumer-resource.dmft', {}, { T: 5, dt: 0.125, paths: 400, times: [2, 5] });
    for (const [k, rows] of Object.entries(ref)) rows.forEach(([v, e], i) => {
      expect(Math.abs(out.observables[k][i] - v)).toBeLessThan(3 * Math.hypot(e, out.error[k][i]));
      expect(out.error[k][i]).toBeLessThan(0.05 * v);
    });
  });
});

describe('Monte Carlo: a hard floor (clipped states) relaxes to the static fixed point', () => {
  it('rectified network: the transient at T = 10 sits on the static limit', () => {
    const out = mc('examples/rectified-network.dmft', {}, { T: 10, dt: 0.2, paths: 250, times: [1, 10] });
    const sys = deriveCavity(loadModel('examples/rectified-network.dmft')).system;
    const st = solveStatic(readSystem(sys), { params: sys.params, T: 0, dt: 0 });
    if ('unsupported' in st) throw new Error(st.unsupported);
    for (const k of ['active', 'rate', 'q']) {
      // residual relaxation at T = 10 is ≲ 2e-3 (it decays slowly near the floor)
      expect(Math.abs(out.observables[k][1] - st.limit[k])).toBeLessThan(3 * out.error[k][1] + 2e-3);
      // …while at t = 1 it is still far away
      expect(Math.abs(out.observables[k][0] - st.limit[k])).toBeGreaterThan(0.01);
    }
  });
});

describe('Monte Carlo: failures', () => {
  it('a finite-time blow-up is a DmftError naming the divergence', () => {
    const src = [
      'model "blow-up"',
      'param g = 0.5',
      'index i, j in 1..N',
      'random J[i,j] ~ normal(0, g^2/N)',
      'state x[i]',
      'init x[i] ~ normal(1, 0.01)',
      'd/dt x[i] = x[i]^2 + sum(j, J[i,j]*x[j])',
      'observe m = mean(i, x[i])',
    ].join('\n');
    const sys = deriveCavity(loadModelSource(src, 'blowup.dmft')).system;
    const run = () => solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt: 0.1, paths: 100, replicas: 4, refine: false });
    expect(run).toThrow(DmftError);
    expect(run).toThrow(/the state of x diverges/);
  });

  it('a step past Heun\'s stability limit is an error that names the step, not a number', () => {
    const src = [
      'model "stiff relaxation"',
      'param k = 40, g = 0.5',
      'index i, j in 1..N',
      'random J[i,j] ~ normal(0, g^2/N)',
      'state x[i]',
      'init x[i] ~ normal(0, 1)',
      'd/dt x[i] = -k*x[i] + sum(j, J[i,j]*tanh(x[j]))',
      'observe var = mean(i, x[i]^2)',
    ].join('\n');
    const sys = deriveCavity(loadModelSource(src, 'stiff.dmft')).system;
    // h·k = 4 > 2: Heun's iteration multiplies the deviation by 1 − 4 + 8 = 5 per step
    const run = (dt: number) => solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt, paths: 50, replicas: 4, refine: false, check: false, biasCheck: false });
    let err: unknown;
    try { run(0.1); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DmftError);
    expect((err as DmftError).info.message).toMatch(/diverges/);
    expect((err as DmftError).info.hint).toMatch(/time step is too large/);
    // the same model at a step inside the stability region solves
    expect(run(0.04).observables.var.every(Number.isFinite)).toBe(true);
  });
});

describe('Monte Carlo field sampling: a Cholesky factor grown one row at a time', () => {
  it('reproduces a near-singular smooth kernel and reports an indefinite one', async () => {
    const { choleskyRow } = await import('../../src/numeric/linalg.ts');
    const n = 60;
    const S = (i: number, j: number) => Math.exp(-(((i - j) / 20) ** 2));
    const L = new Float64Array(n * n), row = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      for (let l = 0; l <= k; l++) row[l] = S(k, l);
      expect(choleskyRow(L, n, k, row, 1e-10)).toBe(0);
    }
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += L[i * n + k] * L[j * n + k];
      err = Math.max(err, Math.abs(s - S(i, j)));
    }
    expect(err).toBeLessThan(1e-6);
    // [[1, 2], [2, 1]] has eigenvalues 3 and −1: the second row lies outside the PSD cone by 3 (relative to S(1,1) = 1)
    const B = new Float64Array(4);
    choleskyRow(B, 2, 0, new Float64Array([1]), 1e-10);
    expect(choleskyRow(B, 2, 1, new Float64Array([2, 1]), 1e-10)).toBeCloseTo(3, 6);
  });
});
