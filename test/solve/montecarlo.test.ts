// Monte Carlo (Eissfeller–Opper) fixed point of the DMFT transient, checked
// against references computed here independently of the solver:
//  - SCS (Gaussian state): C_x = e^{−t−s} + ∫∫ e^{−(t−u)−(s−v)} g² C_φ(u,v), C_φ from C_x by
//    2-D Gauss–Hermite — a small deterministic fixed-point calculation;
//  - gradient flow on linear regression (two populations, instantaneous response):
//    the Marchenko–Pastur formula for the test loss at finite t (physics.md);
//  - random Lotka–Volterra (bounded, memory term): a direct N = 1000 RK4 integration;
//  - a finite-time blow-up must be reported as a divergence.
import { describe, expect, it } from 'vitest';
import { lvSystem, type LvParams } from '../helpers/lotka-volterra.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { gaussExpect2 } from '../../src/solve/quadrature.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveStatic } from '../../src/solve/static.ts';

function mc(file: string, sets: Record<string, number>, o: { T: number; dt: number; samples: number; times: number[]; seed?: number; refine?: boolean }) {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return solveMonteCarlo(readSystem(sys, sys.params), { params: sys.params, ...o });
}

describe('Monte Carlo: SCS (Gaussian state) against a deterministic closure', () => {
  it('var(t) and C(t,s) agree within 3 reported errors', () => {
    const g = 1.5, T = 3, times = [0.5, 1, 2, 3];
    const out = mc('examples/scs.dmft', { g }, { T, dt: 0.1, samples: 3000, times });
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
      expect(Math.abs(out.observables.var[i] - ref(x, x))).toBeLessThan(3 * err + 1e-3);
    });
    const tt = out.twoTime!.C;
    expect(tt.t).toEqual(times);
    for (const [a, b] of [[0, 1], [1, 3], [0, 3]]) {
      expect(Math.abs(tt.values[a][b] - ref(times[a], times[b]))).toBeLessThan(3 * tt.error![a][b] + 1e-3);
    }
    // the decay of var(t) from 1 is real: the solution is not trivially right
    expect(ref(1, 1)).toBeLessThan(0.4);
    expect(out.diagnostics.converged).toBe(true);
  });
});

describe('Monte Carlo: gradient flow on linear regression (two populations, instantaneous response)', () => {
  it('test loss follows the Marchenko–Pastur formula', () => {
    const alpha = 2, s2 = 0.25, times = [0.5, 1, 2];
    const out = mc('examples/linear-regression-gf.dmft', { alpha, sigma2: s2 }, { T: 2, dt: 0.1, samples: 2000, times });
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
      expect(Math.abs(out.observables.test[i] - ref)).toBeLessThan(3 * out.error.test[i] + 1e-3);
    });
    // t = 0.5 is far from both the initial 0.5 and the limit σ²/(2(α−1)) = 0.125
    expect(out.observables.test[0]).toBeGreaterThan(0.2);
    expect(out.observables.test[0]).toBeLessThan(0.28);
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
    const out = mc('examples/lotka-volterra.dmft', { sigma: p.sigma, gamma: p.gamma }, { T: 6, dt: 0.1, samples: 3000, times });
    const N = 1000, seeds = 6;
    const runs = Array.from({ length: seeds }, (_, s) => lvTransient(N, 500 + s, p, times, 0.1));
    const stat = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { mean, se: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) / xs.length) };
    };
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
    expect(out.diagnostics.converged).toBe(true);
    expect(typeof out.diagnostics.discretizationErrorMax).toBe('number');
  });
});

describe('Monte Carlo: a hard floor (clipped states) relaxes to the static fixed point', () => {
  it('rectified network: the transient at T = 10 sits on the static limit', () => {
    const out = mc('examples/rectified-network.dmft', {}, { T: 10, dt: 0.2, samples: 2000, times: [1, 10] });
    const sys = deriveCavity(loadModel('examples/rectified-network.dmft')).system;
    const st = solveStatic(readSystem(sys), { params: sys.params, T: 0, dt: 0 });
    if ('unsupported' in st) throw new Error(st.unsupported);
    for (const k of ['active', 'rate', 'q']) {
      // residual relaxation at T = 10 is ≲ 2e-3 (it decays slowly near the floor)
      expect(Math.abs(out.observables[k][1] - st.limit[k])).toBeLessThan(3 * out.error[k][1] + 3e-3);
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
    expect(() => solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt: 0.1, samples: 200, refine: false })).toThrow(/diverges/);
    expect(() => solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt: 0.1, samples: 200, refine: false })).toThrow(DmftError);
  });
});

describe('Monte Carlo field sampling: square roots of covariance kernels', () => {
  it('a near-singular smooth kernel gets a factor with L Lᵀ = S; a clearly indefinite one is refused', async () => {
    const { cholesky } = await import('../../src/solve/montecarlo.ts');
    const n = 60;
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = Math.exp(-(((i - j) / 20) ** 2));
    const { L, jitter } = cholesky(S, n);
    expect(Number.isFinite(jitter)).toBe(true);
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += L[i * n + k] * L[j * n + k];
      err = Math.max(err, Math.abs(s - S[i * n + j]));
    }
    expect(err).toBeLessThan(1e-4);
    const bad = new Float64Array([1, 2, 2, 1]); // eigenvalues 3 and −1
    expect(cholesky(bad, 2).jitter).toBe(Infinity);
    // slightly indefinite (eigenvalues 1 ± 1.0002·1): projected onto the PSD cone
    const noisy = new Float64Array([1, 1.0002, 1.0002, 1]);
    const f = cholesky(noisy, 2);
    expect(Number.isFinite(f.jitter)).toBe(true);
    const l = f.L;
    expect(Math.abs(l[0] * l[0] + l[1] * l[1] - 1)).toBeLessThan(2e-4);
    expect(Math.abs(l[0] * l[2] + l[1] * l[3] - 1.0002)).toBeLessThan(2e-4);
  });
});
