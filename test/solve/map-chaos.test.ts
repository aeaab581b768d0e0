// The order-to-chaos transition of discrete-time random networks in the
// step-grid closure (src/solve/map.ts), against fixed points computed here by
// an independent quadrature (nested trapezoidal rules of step 0.05 on ±12 in
// standard-normal coordinates, fixed points by bisection) that never calls the
// solver (docs/discrete-time.md, "Order to chaos"):
//   - x(t+1) = tanh(Σ_j J_ij x_j), J ~ N(0, g²/N) (examples/random-map.dmft):
//     q → 0 for g < 1, q → q* = E tanh(g√q* z)² > 0 for g > 1;
//   - two replicas x, y of x(t+1) = tanh(Σ_j J_ij x_j + h_i) with a quenched
//     bias h ~ N(0, σ_b²), the same J and h, correlated initial conditions (a
//     model not in examples/): their overlap c(t) → q* when
//     λ = g² E φ'(√(g²q* + σ_b²) z)² < 1 (order), and → c* < q* when λ > 1 (chaos).
// The t → ∞ values come from the equal-time fixed-point solve (Newton on the
// map of the equal-time order parameters) where it applies. The reference
// roots here are good to ~2e-15 (REF): a solver bar is checked against the
// reference plus that.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';

const REF = 2e-15;
const solveSource = (src: string, params: Record<string, number>, T: number) => {
  const sys = derive(loadModelSource(src, 'm.dmft', params), 'cavity').system;
  return solve(sys, { params: { ...sys.params, ...params }, T, dt: 1, times: [T] });
};

// E f(z), z ~ N(0, 1): trapezoid on ±12 with step 0.05
const Z = Array.from({ length: 481 }, (_, k) => -12 + 0.05 * k);
const W = Z.map((z) => (Math.exp(-z * z / 2) * 0.05) / Math.sqrt(2 * Math.PI));
const E = (f: (z: number) => number) => Z.reduce((a, z, k) => a + W[k] * f(z), 0);
const bisect = (f: (x: number) => number, lo: number, hi: number) => {
  let flo = f(lo);
  expect(flo * f(hi)).toBeLessThan(0);
  for (let k = 0; k < 200 && hi - lo > 1e-15; k++) {
    const m = (lo + hi) / 2, fm = f(m);
    if (fm * flo > 0) { lo = m; flo = fm; } else hi = m;
  }
  return (lo + hi) / 2;
};
/** q(t+1) = E tanh(√(g² q + σ_b²) z)² */
const qMap = (g: number, sb: number) => (q: number) => E((z) => Math.tanh(Math.sqrt(g * g * q + sb * sb) * z) ** 2);
/** c(t+1) = E_m (E_z tanh(m + s z))², m ~ N(0, g² c + σ_b²), s² = g²(q − c): the overlap map at fixed q */
const cMap = (g: number, sb: number, q: number) => (c: number) => {
  const sm = Math.sqrt(g * g * c + sb * sb), s = Math.sqrt(Math.max(0, g * g * (q - c)));
  return E((w) => E((z) => Math.tanh(sm * w + s * z)) ** 2);
};
/** λ = g² E φ'(√(g² q + σ_b²) z)²: the slope of the overlap map at c = q */
const slope = (g: number, sb: number, q: number) => g * g * E((z) => (1 - Math.tanh(Math.sqrt(g * g * q + sb * sb) * z) ** 2) ** 2);

const RANDOM_MAP = readFileSync('examples/random-map.dmft', 'utf8');
const REPLICAS = `model "two replicas of a biased random tanh map"
param g = 1.5, sb = 0.3, rho = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
random h[i] ~ normal(0, sb^2)
random a[i] ~ normal(0, 1)
random b[i] ~ normal(0, 1)
state x[i]
state y[i]
init x[i] = a[i]
init y[i] = rho*a[i] + sqrt(1 - rho^2)*b[i]
x[i](t+1) = tanh(sum(j, J[i,j]*x[j]) + h[i])
y[i](t+1) = tanh(sum(j, J[i,j]*y[j]) + h[i])
observe q = mean(i, x[i]^2)
observe c = mean(i, x[i]*y[i])
`;

describe('order to chaos: x(t+1) = tanh(Σ J x), J ~ N(0, g²/N)', () => {
  for (const g of [0.8, 1.2, 1.5, 2]) {
    it(`g = ${g}: the t → ∞ value of q contains ${g < 1 ? '0 (the zero fixed point is stable: g² φ\'(0)² < 1)' : 'the fixed point q* > 0 of q = E tanh(g√q z)²'}`, () => {
      const r = solveSource(RANDOM_MAP, { g }, 30);
      const qstar = g < 1 ? 0 : bisect((q) => qMap(g, 0)(q) - q, 1e-6, 1);
      if (g > 1) expect(qstar).toBeGreaterThan(0.05);
      expect(r.limitStatus!.q.status).toBe('value');
      expect(Math.abs(r.limit!.q - qstar)).toBeLessThanOrEqual(r.limitError!.q + REF);
      expect(r.limitStatus!.q.reason).toMatch(/fixed point of the equal-time map/);
      expect(r.limitError!.q).toBeLessThan(1e-8);
    });
  }

  it('below g = 1 the zero fixed point attracts: the linearized map is g² (its spectral radius is reported)', () => {
    const r = solveSource(RANDOM_MAP, { g: 0.8 }, 30);
    expect(r.limitStatus!.q.reason).toMatch(/attracting \(spectral radius 0\.640 /);
  });

  it('near the transition (g = 1.05, ×0.91 per step) the fixed point is solved directly, far tighter than the geometric tail', () => {
    const g = 1.05;
    const qstar = bisect((q) => qMap(g, 0)(q) - q, 1e-6, 1);
    const r = solveSource(RANDOM_MAP, { g }, 30);
    expect(Math.abs(r.limit!.q - qstar)).toBeLessThanOrEqual(r.limitError!.q + REF);
    expect(r.limitError!.q).toBeLessThan(1e-12);
    // the transient itself is still 1e-4 away after 30 steps
    expect(Math.abs(r.observables.q[0] - qstar)).toBeGreaterThan(1e-5);
  });

  it('at g = 1 the fixed point q = 0 is marginal: not reported as a fixed point, and the tail bar contains 0', () => {
    const r = solveSource(RANDOM_MAP, { g: 1 }, 30);
    expect(r.limitStatus!.q.reason).toMatch(/marginal/);
    if (r.limitStatus!.q.status === 'value') expect(Math.abs(r.limit!.q)).toBeLessThanOrEqual(r.limitError!.q);
  });

  it('a transient already settled on the fixed point (g = 2, 40 steps) is accepted as approaching it', () => {
    const r = solveSource(RANDOM_MAP, { g: 2 }, 40);
    expect(r.limitStatus!.q.reason).toMatch(/fixed point of the equal-time map/);
  });

  it('a map with memory sums (full-batch GD) is not solved as an equal-time fixed point (its stationary state is, by src/solve/map-stationary.ts)', () => {
    const src = readFileSync('examples/gd-linear-regression.dmft', 'utf8');
    const r = solveSource(src, { lr: 0.5 }, 40);
    expect(r.limitStatus!.test.reason).not.toMatch(/equal-time map/);
    expect(r.limitStatus!.test.reason).toMatch(/stationary state of the map/);
  });
});

describe('order to chaos: two replicas with a quenched bias (overlap c, self-overlap q)', () => {
  const sb = 0.3;
  it('g = 0.8 (λ < 1, ordered): the replicas converge, c → q*', () => {
    const g = 0.8;
    const qstar = bisect((q) => qMap(g, sb)(q) - q, 1e-6, 1);
    expect(slope(g, sb, qstar)).toBeLessThan(1);
    const r = solveSource(REPLICAS, { g, sb }, 20);
    for (const k of ['q', 'c']) {
      expect(r.limitStatus![k].status).toBe('value');
      expect(Math.abs(r.limit![k] - qstar), k).toBeLessThanOrEqual(r.limitError![k] + REF);
    }
  });

  it('g = 2 (λ > 1, chaotic): the replicas decorrelate to c* < q*, the stable root of the overlap map below q*', () => {
    const g = 2;
    const qstar = bisect((q) => qMap(g, sb)(q) - q, 1e-6, 1);
    expect(slope(g, sb, qstar)).toBeGreaterThan(1);
    const cstar = bisect((c) => cMap(g, sb, qstar)(c) - c, 0, qstar * (1 - 1e-3));
    expect(cstar).toBeLessThan(0.5 * qstar);
    const r = solveSource(REPLICAS, { g, sb }, 30);
    expect(Math.abs(r.limit!.q - qstar)).toBeLessThanOrEqual(r.limitError!.q + REF);
    expect(r.limitStatus!.c.status).toBe('value');
    expect(r.limitStatus!.c.reason).toMatch(/attracting/);
    expect(Math.abs(r.limit!.c - cstar)).toBeLessThanOrEqual(r.limitError!.c + REF);
    expect(r.limitError!.c).toBeLessThan(1e-6);
  });
});
