// A t → ∞ value extrapolated from the end of a transient must not come from a
// plateau before a late change. Here a unit relaxes slowly toward 5 and a
// steep threshold observable tanh(20(u − c)) stays at −1 (to double
// precision) until u nears c, long after T; an unstable second population
// keeps the static and stationary solvers out, so only the transient speaks.
// Its limit is kept only when continuing the transient to 2T confirms it.
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import { theoryLimits } from '../../src/check/compare.ts';

const MODEL = `model "a threshold crossed late, next to an unstable population"
param g = 0.05, eps = 0.1, c = 3.5, r = 0.2
index i, j in 1..N
index a, b in 1..M
ratio M/N = 1
random J[i,j] ~ normal(0, g^2/N)
random K[a,b] ~ normal(0, g^2/M)
state u[i]
state w[a]
init u[i] ~ normal(0, 0.0001)
init w[a] ~ normal(0, 1)
d/dt u[i] = eps*(5 - u[i]) + sum(j, J[i,j]*u[j])
d/dt w[a] = r*w[a] + sum(b, K[a,b]*w[b])
observe sat = mean(i, tanh(20*(u[i] - c)))
`;
const run = (sets: Record<string, number>, T: number) => {
  const sys = deriveCavity(loadModelSource(MODEL, 'plateau.dmft', sets)).system;
  return solve(sys, { params: sys.params, T, dt: 0.1 });
};

describe('transient extrapolation is verified by continuing the transient', () => {
  it('a plateau at −1 before a late threshold crossing is not reported as the limit', () => {
    const r = run({}, 5);
    // the plateau really is flat at T = 5 (what fooled the settledness test)
    const v = r.observables.sat;
    expect(Math.abs(v[v.length - 1] + 1)).toBeLessThan(1e-9);
    expect(r.limit?.sat).toBeUndefined();
    expect(r.limitStatus?.sat.status).toBe('absent');
    expect(r.limitStatus?.sat.reason).toMatch(/looks settled at T = 5 .* continued to T = 10 .*increase --T/);
    // check does not compare it
    expect(theoryLimits(r).sat.status).toBe('absent');
  });

  it('a limit the continuation confirms is reported, and covers the closed form', () => {
    // eps = 2: u relaxes in ~0.5 to u* = 5 + η/eps, η ~ N(0, g² q), q = 25/(1 − g²/eps²)
    const eps = 2, g = 0.05, c = 3.5;
    const r = run({ eps }, 5);
    const q = 25 / (1 - (g * g) / (eps * eps)), sd = Math.sqrt((g * g * q) / (eps * eps));
    // E tanh(20(u* − c)) by the trapezoid rule over ±14 sd
    let ref = 0; const n = 20000;
    for (let k = 0; k <= n; k++) {
      const z = -14 + (28 * k) / n, w = (k === 0 || k === n ? 0.5 : 1) * (28 / n) * Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
      ref += w * Math.tanh(20 * (5 + sd * z - c));
    }
    expect(r.limitStatus?.sat.status).toBe('value');
    expect(r.limitStatus?.sat.reason).toMatch(/confirmed by continuing it from T = 5 to 10/);
    expect(Math.abs(r.limit!.sat - ref)).toBeLessThanOrEqual(r.limitError!.sat);
  });
});

describe('Monte Carlo transients: a settled-looking end is not a limit without continuation', () => {
  // n decays like e^(−m t) and crosses the threshold 0.001 near t ≈ 23: alive is 1 until then, 0 later
  const decline = `model "a bounded population declining late"
param g = 0.2, m = 0.3
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state n[i] >= 0
init n[i] ~ uniform(0.5, 1.5)
d/dt n[i] = n[i]*(sum(j, J[i,j]*n[j]) - m)
observe alive = mean(i, n[i] > 0.001)
`;
  it('the plateau alive = 1 at T = 3 is withheld, with the value and the --T to compare', () => {
    const sys = deriveCavity(loadModelSource(decline, 'decline.dmft')).system;
    const r = solve(sys, { params: sys.params, T: 3, dt: 0.1 });
    expect(r.method).toMatch(/montecarlo/);
    expect(r.limit?.alive).toBeUndefined();
    expect(r.limitStatus?.alive.status).toBe('absent');
    expect(r.limitStatus?.alive.reason).toMatch(/looks settled at T = 3 \(near 1 ± .*too costly.*--T 6/);
    expect(theoryLimits(r).alive.status).toBe('absent');
  });
});
