// Symmetric states and rounding: a mean-zero initial condition keeps the exact
// DMFT solution of a network with an odd transfer function on its symmetric
// state (m ≡ 0) for all t, even where that state is unstable (a ferromagnetic
// mean coupling J0 > 1). The solver must not print rounding errors amplified
// along the unstable mode as data: symmetric quadratures keep m exactly 0 for
// tanh; where they cannot (a transfer function that is odd only up to
// rounding), the departure is detected, said and carried in the errors; and a
// mean of squares computed below 0 is flagged, never clamped.
// The models are written for this file (none is in examples/).
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { nonNegative, solve, unresolvedDeparture } from '../../src/solve/index.ts';
import { expectNormal } from '../../src/numeric/normal.ts';
import { gaussExpect1 } from '../helpers/gauss-hermite.ts';
import { expect as gaussExpect } from '../../src/numeric/gauss.ts';
import { piecewiseOf } from '../../src/numeric/kinks.ts';
import type { Branch } from '../../src/solve/types.ts';

const ferro = (phi: string) => `model "network with a ferromagnetic mean coupling"
param g = 0.5, J0 = 2
index i, j in 1..N
random J[i,j] ~ normal(J0/N, g^2/N)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*${phi})
observe var = mean(i, x[i]^2)
observe m = mean(i, x[i])
`;
function run(phi: string, sets: Record<string, number>, T: number, times: number[], dt = 0.1) {
  const sys = deriveCavity(loadModelSource(ferro(phi), 'roundoff-test.dmft', sets)).system;
  return solve(sys, { params: sys.params, T, dt, times });
}

describe('symmetric quadratures: odd functions average to exactly 0 at mean 0', () => {
  it('tanh by the trapezoid and Gauss–Hermite rules; steps split at breakpoints symmetric about the mean', () => {
    for (const v of [1e-4, 0.3, 1, 7.5]) {
      expect(expectNormal(Math.tanh, 0, v)).toBe(0);
      expect(gaussExpect1(Math.tanh, 0, v)).toBe(0);
      expect(gaussExpect(piecewiseOf(parseExpr('sign(x)'), 'x'), 0, v)).toBe(0);
      expect(gaussExpect(piecewiseOf(parseExpr('sign(x - 1) + sign(x + 1)'), 'x'), 0, v)).toBe(0);
    }
  });
});

describe('a mean-zero start on an unstable symmetric state (J0 = 2: mean-mode eigenvalue 2)', () => {
  it('tanh: m(t) stays exactly 0 and var(t) equals the J0 = 0 solution (where M plays no role), never negative', () => {
    const times = [10, 20, 30, 40];
    const r = run('tanh(x[j])', {}, 40, times);
    const r0 = run('tanh(x[j])', { J0: 0 }, 40, times);
    for (let i = 0; i < times.length; i++) {
      expect(r.observables.m[i]).toBe(0);
      expect(r.observables.var[i]).toBeGreaterThan(0);
      expect(Math.abs(r.observables.var[i] - r0.observables.var[i])).toBeLessThanOrEqual(r.error.var[i] + r0.error.var[i]);
    }
    expect(r.limitStatus!.m.status).toBe('branches');
    expect(r.limitStatus!.m.reason).toMatch(/settles on an unstable state/);
    expect(r.diagnostics.signWarning).toBeUndefined();
    expect(r.diagnostics.roundoffWarning).toBeUndefined();
  });

  it('a ramp odd only up to rounding: the departure is detected and said, and the errors cover the symmetric state', () => {
    const times = [8, 16, 24];
    const phi = '(relu(x[j] + 1) - relu(x[j] - 1) - 1)';
    const r = run(phi, {}, 24, times, 0.2);
    const r0 = run(phi, { J0: 0 }, 24, times, 0.2);
    expect(String(r.diagnostics.roundoffWarning)).toMatch(/rounding errors amplified/);
    expect(r.limitStatus!.m.reason).toMatch(/leaves it along its unstable mode/);
    expect(r.branches!.some((b) => !b.stable && /amplified rounding/.test(b.stability) && !b.reachedByTransient)).toBe(true);
    for (let i = 0; i < times.length; i++) {
      // the exact solution: m ≡ 0, var as without the mean coupling
      expect(Math.abs(r.observables.m[i])).toBeLessThanOrEqual(r.error.m[i]);
      expect(Math.abs(r.observables.var[i] - r0.observables.var[i])).toBeLessThanOrEqual(r.error.var[i] + r0.error.var[i]);
    }
  });
});

describe('the checks on their own', () => {
  const branch = (stable: boolean, m: number): Branch => ({ stable, stability: stable ? 'stable' : 'unstable', observables: { m }, errors: { m: 1e-12 }, orderParams: {} });
  const t = Array.from({ length: 41 }, (_, i) => i);
  it('a departure from an unstable state: flagged when the grids disagree, not when they resolve it', () => {
    const m = t.map((x) => 1e-15 * Math.exp(x) - (x < 10 ? Math.exp(-x) * 1e-3 : 0));
    const unresolved = { t, values: { m }, error: { m: m.map((x) => Math.abs(x)) } };
    const resolved = { t, values: { m }, error: { m: m.map((x) => 1e-6 * Math.abs(x) + 1e-18) } };
    expect(unresolvedDeparture(unresolved, [branch(true, 1), branch(false, 0)])?.index).toBe(1);
    expect(unresolvedDeparture(resolved, [branch(true, 1), branch(false, 0)])).toBeUndefined();
    // approaching the state without leaving it is no departure
    const settling = t.map((x) => Math.exp(-x));
    expect(unresolvedDeparture({ t, values: { m: settling }, error: { m: settling } }, [branch(false, 0)])).toBeUndefined();
  });

  it('nonnegative by construction: squares, even powers, abs, products of a factor with itself, their means', () => {
    const nn = (s: string) => nonNegative({ k: 'avg', pop: 'N', body: parseExpr(s) }, { g: 0.5, c: -1 });
    expect(nn('x^2')).toBe(true);
    expect(nn('x*x')).toBe(true);
    expect(nn('(x - 1)^4 + g*abs(x)')).toBe(true);
    expect(nn('relu(x)*exp(x)')).toBe(true);
    // what the function registry says: sigmoid is ≥ 0, tanh and sin are not
    expect(nn('sigmoid(x) + sqrt(x)')).toBe(true);
    expect(nn('tanh(x)')).toBe(false);
    expect(nn('sin(x)^2 + sin(x)')).toBe(false);
    expect(nn('x')).toBe(false);
    expect(nn('x^3')).toBe(false);
    expect(nn('c*x^2')).toBe(false);
    expect(nn('x*y')).toBe(false);
  });
});
