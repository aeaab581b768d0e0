// The Gaussian closure on networks with kinked or discontinuous transfer
// functions (sign, relu): its quadrature splits at the kinks, so its error
// bars (Richardson over dt) are honest without any widening. References are
// independent of the solver: a grid integration of the closure with the
// closed-form arcsine / arc-cosine kernels (closure-reference.ts), and the
// closed-form fixed point of a relu network with a bias.
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { erf } from '../../src/numeric/special.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { readSystem } from '../../src/solve/read.ts';
import { limitFromSeries, solve, solveGaussian } from '../../src/solve/index.ts';
import { referenceVariance, reluKernel, signKernel } from './closure-reference.ts';

const network = (phi: string, g: number, v0: number, bias = 0, more = '') => deriveCavity(loadModelSource(`model "${phi} network"
param g = ${g}, b = ${bias}
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, ${v0})
d/dt x[i] = -x[i] + b + sum(j, J[i,j]*${phi}(x[j]))
observe var = mean(i, x[i]^2)
observe m = mean(i, x[i])
${more}
`, '<test>')).system;
const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)), phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

describe('kinked transfer functions: transients against an independent closure integration', () => {
  it('sign network (g = 1.5): var(t) within its error bar of the arcsine-kernel reference', () => {
    const sys = network('sign', 1.5, 1);
    const times = [1, 2, 3];
    const r = solve(sys, { params: sys.params, T: 3, dt: 0.1, times });
    const ref = referenceVariance(signKernel, 1.5, 1, 3, 0.02, times);
    times.forEach((_, k) => {
      expect(Math.abs(r.observables.var[k] - ref.value[k]), `t = ${times[k]}`).toBeLessThanOrEqual(r.error.var[k] + ref.error[k]);
      expect(r.error.var[k]).toBeLessThan(1e-4);
    });
  });

  it('relu network (g = 1.3): var(t), a step average and a ratio of kinked averages within their error bars of the arc-cosine-kernel reference', () => {
    const sys = network('relu', 1.3, 2, 0, 'observe act = mean(i, x[i] > 0.3)\nobserve ratio = mean(i, relu(x[i] - 0.2))/mean(i, abs(x[i]))');
    const times = [1, 2, 4];
    const r = solve(sys, { params: sys.params, T: 4, dt: 0.1, times });
    const ref = referenceVariance(reluKernel, 1.3, 2, 4, 0.02, times);
    times.forEach((_, k) => {
      expect(Math.abs(r.observables.var[k] - ref.value[k]), `t = ${times[k]}`).toBeLessThanOrEqual(r.error.var[k] + ref.error[k]);
      expect(r.error.var[k]).toBeLessThan(3e-5);
      // x(t) ~ N(0, var): P(x > 0.3) = Φ(−0.3/σ); E relu(x − 0.2)/E|x| = (σφ(0.2/σ) − 0.2Φ(−0.2/σ))/(σ√(2/π))
      const s = Math.sqrt(ref.value[k]), ds = (r.error.var[k] + ref.error[k]) / (2 * s);
      const act = Phi(-0.3 / s), ratio = (s * phi(0.2 / s) - 0.2 * Phi(-0.2 / s)) / (s * Math.sqrt(2 / Math.PI));
      expect(Math.abs(r.observables.act[k] - act), `act at t = ${times[k]}`).toBeLessThanOrEqual(r.error.act[k] + phi(0.3 / s) * 0.3 / (s * s) * ds);
      expect(Math.abs(r.observables.ratio[k] - ratio), `ratio at t = ${times[k]}`).toBeLessThanOrEqual(r.error.ratio[k] + ds);
      expect(r.error.act[k]).toBeLessThan(1e-4);
    });
  });
});

describe('a jump with white noise: the closure converges more slowly than the scheme order', () => {
  it('sign network with noise (g = 1.5, D = 0.5): C_sign has a √|t−s| cusp; the bars still cover the reference', () => {
    const sys = deriveCavity(loadModelSource(`model "noisy sign network"
param g = 1.5, D = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*sign(x[j])) + xi[i]
observe var = mean(i, x[i]^2)`, '<test>')).system;
    const times = [1, 2, 3];
    const r = solveGaussian(readSystem(sys), { params: sys.params, T: 3, dt: 0.1, times }).result;
    // the reference's own grids: leading error terms h^{3/2} and h²
    const ref = referenceVariance(signKernel, 1.5, 1, 3, 0.01, times, 0.5, [1.5, 2]);
    expect(r.diagnostics.observedOrder).toBeLessThan(1.7);
    times.forEach((_, k) => {
      expect(Math.abs(r.observables.var[k] - ref.value[k]), `t = ${times[k]}`).toBeLessThanOrEqual(r.error.var[k] + ref.error[k]);
      expect(r.error.var[k]).toBeLessThan(2e-3);
    });
  });
});

describe('kinked transfer functions: the settled transient at the exact fixed point', () => {
  it('relu network with a bias (g = 0.9, b = 0.3): the transient extrapolates to the closed-form fixed point within a small bar', () => {
    const g = 0.9, b = 0.3;
    const sys = network('relu', g, 0.5, b);
    const sol = solveGaussian(readSystem(sys), { params: sys.params, T: 48, dt: 0.5 });
    const lim = limitFromSeries(sol.series);
    // fixed point: x = b + g√q z, q = E relu(x)², var = b² + g² q
    const E2 = (s: number) => (b * b + s * s) * Phi(b / s) + b * s * phi(b / s);
    let lo = 1e-3, hi = 10;
    for (let i = 0; i < 200; i++) { const q = (lo + hi) / 2; if (E2(g * Math.sqrt(q)) > q) lo = q; else hi = q; }
    const exact = b * b + g * g * lo;
    expect(lim.unsettled).toEqual([]);
    expect(Math.abs(lim.limit.var - exact)).toBeLessThanOrEqual(lim.limitError.var);
    expect(lim.limitError.var).toBeLessThan(1e-6);
  });
});
