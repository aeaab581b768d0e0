// Stiff single-site equations (a damping rate k ≫ 1/dt): the closure
// integrates the stiff linear part exactly (exponential trapezoid), so it
// never reports the trapezoid's (−1)^n oscillation as negative variances;
// where the stiff variable's own correlations feed back through its fields
// (unresolved on the grid) it refuses and names the dt it needs. References:
// closed forms, independent of the solver. (The transient only: the limit
// solvers are not under test here.)
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { integrate } from '../../src/numeric/integrate.ts';
import { DmftError } from '../../src/errors.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve, solveGaussian } from '../../src/solve/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { stepCoefficients } from '../../src/solve/gaussian-level.ts';

const model = (body: string, params: string) => deriveCavity(loadModelSource(`model "stiff"
param ${params}
index i, j in 1..N
${body}
observe var = mean(i, x[i]^2)
`, '<test>')).system;

/** I0(x)·e^{−x} by its series (x ≤ 50) */
const i0e = (x: number) => { let s = 0, t = 1; for (let m = 0; m < 400; m++) { if (m > 0) t *= (x / 2) ** 2 / (m * m); s += t; if (t < 1e-18 * s) break; } return s * Math.exp(-x); };

describe('stiff linear part', () => {
  it('step coefficients: the plain trapezoid at a = 0, exact decay and noise for a constant rate', () => {
    const t = stepCoefficients(0.1, 0);
    expect([t.prev, t.c1, t.c0, t.noise]).toEqual([1, 0.05, 0.05, 0.1]);
    // x' = a x + ξ: x_n = prev x_{n−1} + (c0 + c1)·a·(…) is exact for the homogeneous part
    const a = -1000, h = 0.1, s = stepCoefficients(h, a);
    // F = a x: x_n (1 − c0 a) = (prev + c1 a) x_{n−1}
    expect((s.prev + s.c1 * a) / (1 - s.c0 * a)).toBeCloseTo(Math.exp(a * h), 14);
    expect(s.noise / (1 - s.c0 * a) ** 2).toBeCloseTo(-Math.expm1(2 * a * h) / (-2 * a), 14);
  });

  it('an isolated stiff variable (k = 1000, dt = 0.1): var(t) = D(1 − e^{−2kt})/(2k), never negative', () => {
    const sys = model('noise xi[i] ~ white(D)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -k*x[i] + xi[i]', 'k = 1000, D = 1');
    const times = [0.1, 0.5, 1, 2];
    const r = solveGaussian(readSystem(sys), { params: sys.params, T: 2, dt: 0.1, times }).result;
    times.forEach((t, i) => {
      const exact = Math.exp(-2000 * t) + (1 - Math.exp(-2000 * t)) / 2000;
      expect(r.observables.var[i]).toBeGreaterThan(0);
      expect(Math.abs(r.observables.var[i] - exact), `t = ${t}`).toBeLessThanOrEqual(r.error.var[i]);
    });
  });

  it('a stiff network whose fields come from its own correlations: refused at dt = 0.1, naming the dt it needs', () => {
    const sys = model('random J[i,j] ~ normal(0, g^2/N)\nnoise xi[i] ~ white(D)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -k*x[i] + sum(j, J[i,j]*tanh(x[j])) + xi[i]', 'g = 1.5, k = 1000, D = 1');
    let err: unknown;
    try { solveGaussian(readSystem(sys), { params: sys.params, T: 2, dt: 0.1 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DmftError);
    expect((err as DmftError).message).toMatch(/does not resolve the fastest rate of x/);
    expect(String((err as DmftError).info.hint)).toMatch(/--dt 0\.001/);
  });

  it('resolved: a stiff linear network (k = 200, g = 100, white noise) against σ²∫₀ᵗ e^{−2ku} I₀(2gu) du', () => {
    const k = 200, g = 100;
    const sys = model('random J[i,j] ~ normal(0, g^2/N)\nnoise xi[i] ~ white(D)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -k*x[i] + sum(j, J[i,j]*x[j]) + xi[i]', `g = ${g}, k = ${k}, D = 1`);
    const times = [0.005, 0.02, 0.05];
    const r = solveGaussian(readSystem(sys), { params: sys.params, T: 0.05, dt: 0.001, times }).result;
    times.forEach((t, i) => {
      const exact = integrate((u) => Math.exp(-2 * (k - g) * u) * i0e(2 * g * u), 0, t, { absTol: 1e-17, relTol: 1e-14 }).value;
      expect(Math.abs(r.observables.var[i] - exact), `t = ${t}`).toBeLessThanOrEqual(r.error.var[i]);
      expect(r.error.var[i]).toBeLessThan(1e-3 * exact);
    });
  });

  it('solve() refines the base step itself: the same stiff network at dt = 0.05 against σ²∫₀ᵗ e^{−2ku} I₀(2gu) du, with a note', () => {
    const k = 200, g = 100;
    const sys = model('random J[i,j] ~ normal(0, g^2/N)\nnoise xi[i] ~ white(D)\nstate x[i]\ninit x[i] = 0\nd/dt x[i] = -k*x[i] + sum(j, J[i,j]*x[j]) + xi[i]', `g = ${g}, k = ${k}, D = 1`);
    const times = [0.05, 0.1];
    const r = solve(sys, { params: sys.params, T: 0.1, dt: 0.05, times });
    expect(String(r.diagnostics.stiffStepNote)).toMatch(/reduced from 0\.05 to/);
    times.forEach((t, i) => {
      const exact = integrate((u) => Math.exp(-2 * (k - g) * u) * i0e(2 * g * u), 0, t, { absTol: 1e-17, relTol: 1e-14 }).value;
      expect(Math.abs(r.observables.var[i] - exact), `t = ${t}`).toBeLessThanOrEqual(r.error.var[i]);
      expect(r.error.var[i]).toBeLessThan(1e-3 * exact);
    });
  });

  it('an explicit scheme past its stability limit ends in an error, not in negative variances', () => {
    const sys = model('noise xi[i] ~ white(D)\nstate x[i]\ninit x[i] ~ normal(0, 1)\nd/dt x[i] = -k*x[i] + xi[i]', 'k = 1000, D = 1');
    expect(() => solveGaussian(readSystem(sys), { params: sys.params, T: 1, dt: 0.01, scheme: 'euler' })).toThrow(DmftError);
  });
});
