// The Gaussian-state closure against closed forms: stationary variances of the
// partially symmetric linear network (κ = 0 and κ = 1), gradient flow on linear
// regression against Marchenko–Pastur spectral integrals (α = 2 and α = 0.5),
// SCS below the transition, the mean-field term of SCS with J0 ≠ 0, and the
// stability edge. Every reported error must cover the actual deviation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveGaussian, type GaussianOptions } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';
import { expectNormal } from '../../src/numeric/normal.ts';

const ex = (f: string) => join(__dirname, '../../examples', f);

function run(file: string, sets: Record<string, number>, o: Omit<GaussianOptions, 'params'>) {
  const sys = deriveCavity(loadModel(file, sets)).system;
  return solveGaussian(readSystem(sys, sys.params), { params: sys.params, ...o });
}

/** Spectral integrals of the Marchenko–Pastur law of ratio γ = 1/α (the law of XᵀX/α,
 *  X ∈ R^{P×D} with N(0, 1/D) entries), atom 1 − α at 0 when α < 1, by the
 *  substitution λ = 1 + γ + 2√γ cos θ (smooth periodic integrand: the midpoint
 *  rule in θ converges geometrically; 4000 points give ~1e-15). */
function mpLosses(alpha: number, sigma2: number, t: number) {
  const g = 1 / alpha, c = 1 + g, r = 2 * Math.sqrt(g), n = 4000;
  let e2 = 0, noise = 0, le2 = 0;
  for (let k = 0; k < n; k++) {
    const th = (Math.PI * (k + 0.5)) / n;
    const lam = c + r * Math.cos(th);
    const w = ((Math.PI / n) * r * r * Math.sin(th) ** 2) / (2 * Math.PI * g * lam);
    e2 += w * Math.exp(-2 * lam * t);
    noise += (w * (1 - Math.exp(-lam * t)) ** 2) / lam;
    le2 += w * lam * Math.exp(-2 * lam * t);
  }
  e2 += Math.max(0, 1 - alpha); // the atom at λ = 0
  // test  = ½[∫e^{−2λt}dμ + (σ²/α)∫(1−e^{−λt})²/λ dμ]
  // train = ½[∫λe^{−2λt}dμ + (σ²/α)∫e^{−2λt}dμ + σ²(1 − 1/α)]   (derived: r(t) = −e^{−St}(Xw* + ε), S = XXᵀ/α)
  return { test: 0.5 * (e2 + (sigma2 / alpha) * noise), train: 0.5 * (le2 + (sigma2 / alpha) * e2 + sigma2 * (1 - 1 / alpha)) };
}

describe('partially symmetric linear network: stationary variance', () => {
  it('κ = 0: σ²/(2√(1−g²)) to 1e-4 relative', () => {
    const g = 0.4;
    const r = run(ex('linear-partial-sym.dmft'), { g, kappa: 0, sigma2: 1 }, { T: 20, dt: 0.1, times: [20] });
    const exact = 1 / (2 * Math.sqrt(1 - g * g));
    const v = r.result.observables.var[0], e = r.result.error.var[0];
    expect(Math.abs(v - exact) / exact).toBeLessThan(1e-4);
    expect(e / exact).toBeLessThan(1e-4); // the claimed accuracy
    expect(Math.abs(v - exact)).toBeLessThan(e + 1e-8); // and it covers the deviation (transient tail e^{−2(1−g)T} ≈ 4e-11)
  });

  it('κ = 1: (σ²/2)·G_sc(1) to 1e-4 relative', () => {
    const g = 0.4;
    const r = run(ex('linear-partial-sym.dmft'), { g, kappa: 1, sigma2: 1 }, { T: 24, dt: 0.1, times: [12, 24] });
    const Gsc = (z: number) => (z - Math.sqrt(z * z - 4 * g * g)) / (2 * g * g);
    const exact = 0.5 * Gsc(1);
    const v = r.result.observables.var[1];
    expect(Math.abs(v - exact) / exact).toBeLessThan(1e-4);
    expect(r.result.error.var[1] / exact).toBeLessThan(1e-5);
    // still approaching from below: the transient tail, not the discretization, is what is left
    expect(r.result.observables.var[0]).toBeLessThan(v);
  });
});

describe('gradient flow on linear regression vs Marchenko–Pastur', () => {
  const times = [0.5, 1, 2, 5];
  for (const alpha of [2, 0.5]) {
    it(`α = ${alpha}: test and train loss curves to 1e-4`, () => {
      const sigma2 = 0.25;
      const r = run(ex('linear-regression-gf.dmft'), { alpha, sigma2 }, { T: 5, dt: 0.05, times });
      for (const k of ['test', 'train'] as const) {
        times.forEach((t, i) => {
          const exact = mpLosses(alpha, sigma2, t)[k];
          const v = r.result.observables[k][i], e = r.result.error[k][i];
          expect(Math.abs(v - exact) / exact, `${k}(${t})`).toBeLessThan(1e-4);
          expect(Math.abs(v - exact), `${k}(${t}) within its error bar`).toBeLessThanOrEqual(e + 1e-12);
        });
      }
    });
  }
});

describe('SCS', () => {
  it('g < 1: the variance decays to 0', () => {
    const r = run(ex('scs.dmft'), { g: 0.8 }, { T: 16, dt: 0.1, times: [0, 4, 8, 16] });
    const v = r.result.observables.var;
    expect(v[0]).toBeCloseTo(1, 12); // init N(0, 1)
    expect(v[1]).toBeLessThan(v[0]);
    expect(v[2]).toBeLessThan(v[1]);
    expect(v[3]).toBeLessThan(1e-3);
    // linearized decay: var ∝ e^{−2(1−g)t} up to a power law; check the rate over the last stretch
    const rate = Math.log(v[2] / v[3]) / 8;
    expect(rate).toBeGreaterThan(2 * (1 - 0.8) * 0.9);
    expect(rate).toBeLessThan(2 * (1 - 0.8) * 1.6);
  });

  it('g = 0, J0 ≠ 0: M(t) against an independent 1-D computation', () => {
    // x(t) = x0 e^{−t} + μ(t) − e^{−t}: Gaussian with variance e^{−2t}, and
    // μ' = −μ + J0 E tanh(μ + e^{−t} z) — an ODE, integrated here by RK4.
    const J0 = 1.2;
    const times = [0.5, 1, 2, 4];
    const r = run(ex('scs-mean.dmft'), { g: 0, J0 }, { T: 4, dt: 0.05, times });
    const F = (t: number, mu: number) => -mu + J0 * expectNormal(Math.tanh, mu, Math.exp(-2 * t));
    let mu = 1, t = 0;
    const h = 1e-3;
    const ref: number[] = [];
    for (const tt of times) {
      while (t < tt - 1e-12) {
        const k1 = F(t, mu), k2 = F(t + h / 2, mu + (h / 2) * k1), k3 = F(t + h / 2, mu + (h / 2) * k2), k4 = F(t + h, mu + h * k3);
        mu += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
        t += h;
      }
      ref.push(expectNormal(Math.tanh, mu, Math.exp(-2 * tt)));
    }
    times.forEach((tt, i) => {
      expect(Math.abs(r.result.observables.m[i] - ref[i]), `m(${tt})`).toBeLessThan(1e-7);
      expect(Math.abs(r.result.observables.m[i] - ref[i])).toBeLessThanOrEqual(r.result.error.m[i] + 1e-10);
    });
  });

  it('g = 1.5, J0 = 1.2: the mean obeys ⟨x⟩(t) = ⟨x⟩(0)e^{−t} + J0 ∫ e^{−(t−s)} M(s) ds', () => {
    // the same model, written in the language with one more observable (⟨x⟩)
    const dir = mkdtempSync(join(tmpdir(), 'dmft-gauss-'));
    const file = join(dir, 'scs-mean-x.dmft');
    writeFileSync(file, [
      'model "random rate network with mean coupling, mean state observed"',
      'param g = 1.5, J0 = 1.2',
      'index i, j in 1..N',
      'random J[i,j] ~ normal(J0/N, g^2/N)',
      'state x[i]',
      'init x[i] ~ normal(1, 1)',
      'd/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j]))',
      'observe m = mean(i, tanh(x[i]))',
      'observe mx = mean(i, x[i])',
      'observe var = mean(i, x[i]^2)',
      '',
    ].join('\n'));
    const T = 6, dt = 0.05;
    const r = run(file, {}, { T, dt });
    const { t, observables: o, error } = r.result;
    expect(t.length).toBe(Math.round(T / dt) + 1);
    // trapezoid of e^{s} M(s) on the output grid (error ~dt²/12·|f''| ≈ 1e-4 relative): a loose but independent check
    let integral = 0;
    for (let k = 1; k < t.length; k++) {
      integral += (dt / 2) * (Math.exp(t[k - 1]) * o.m[k - 1] + Math.exp(t[k]) * o.m[k]);
      if (k % 20 === 0) {
        const predicted = Math.exp(-t[k]) * (1 + 1.2 * integral);
        expect(Math.abs(o.mx[k] - predicted), `⟨x⟩(${t[k]})`).toBeLessThan(2e-4);
      }
    }
    // and M is not trivially zero, the fluctuations are O(1)
    expect(o.m[t.length - 1]).toBeGreaterThan(0.01);
    expect(o.var[t.length - 1] - o.mx[t.length - 1] ** 2).toBeGreaterThan(0.3);
    expect(Math.max(...error.m)).toBeLessThan(1e-4);
  });
});

describe('explicit time dependence', () => {
  it('a periodically driven network: the mean follows m\' = −m + cos(ωt) exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmft-gauss-'));
    const file = join(dir, 'driven.dmft');
    writeFileSync(file, [
      'model "driven linear network"',
      'param g = 0.5, w = 2',
      'index i, j in 1..N',
      'random J[i,j] ~ normal(0, g^2/N)',
      'state x[i]',
      'init x[i] = 0',
      'd/dt x[i] = -x[i] + cos(w*t) + sum(j, J[i,j]*x[j])',
      'observe m = mean(i, x[i])',
      'observe var = mean(i, x[i]^2)',
      '',
    ].join('\n'));
    const times = [1, 2, 5];
    const r = run(file, {}, { T: 5, dt: 0.05, times });
    const w = 2;
    times.forEach((t, i) => {
      const exact = (Math.cos(w * t) + w * Math.sin(w * t) - Math.exp(-t)) / (1 + w * w);
      expect(Math.abs(r.result.observables.m[i] - exact), `m(${t})`).toBeLessThan(1e-6);
      expect(Math.abs(r.result.observables.m[i] - exact)).toBeLessThanOrEqual(r.result.error.m[i]);
      // the field is driven by the mean: var ≥ m², and grows from 0
      expect(r.result.observables.var[i]).toBeGreaterThan(exact * exact);
    });
  });
});

describe('stability edge', () => {
  it('a linear network with g(1+κ) > 1: the transient is solved, its growth is flagged and explained naming g and κ', () => {
    const sol = run(ex('linear-partial-sym.dmft'), { g: 0.8, kappa: 0.5 }, { T: 20, dt: 0.2, times: [1] });
    expect(sol.result.observables.var.every(Number.isFinite)).toBe(true);
    expect(sol.growth.unstable).toBe(true);
    expect(sol.growth.rate).toBeGreaterThan(0);
    const msg = sol.instability();
    expect(msg).toMatch(/stability edge/);
    expect(msg).toMatch(/\bg = 0\.8\b/);
    expect(msg).toMatch(/\bkappa = 0\.5\b/);
    expect(msg).not.toMatch(/sigma2 =/); // the noise strength does not drive the growth
  });
});
