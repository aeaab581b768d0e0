// Output times between grid points: the interpolation error is in the bar,
// also inside a step over which a stiff unit relaxes (k·dt ≫ 1), where
// Richardson over the levels does not see it. Closed form of the OU unit
// d/dt x = −k x + ξ, ⟨ξξ⟩ = s2 δ, x(0) ~ N(0, v0):
//   ⟨x²⟩(t) = v0 e^{−2kt} + s2 (1 − e^{−2kt}) / (2k).
import { describe, expect, it } from 'vitest';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';

const OU = `model "independent OU units"
param k = 1, s2 = 1
index i in 1..N
noise xi[i] ~ white(s2)
state x[i]
init x[i] ~ normal(0, 0.5)
d/dt x[i] = -k*x[i] + xi[i]
observe v = mean(i, x[i]^2)
`;
const exact = (k: number, t: number) => 0.5 * Math.exp(-2 * k * t) + (1 - Math.exp(-2 * k * t)) / (2 * k);

describe('every requested time’s bar covers the closed form', () => {
  // inside the first step (dt = 0.05), on and between later grid points
  const times = [0.0005, 0.001, 0.003, 0.02, 0.05, 0.07, 0.13, 0.5, 1];
  for (const k of [2, 50, 500]) {
    it(`OU unit with k = ${k} (k·dt = ${k * 0.05})`, () => {
      const sys = deriveCavity(loadModelSource(OU, 'ou.dmft', { k })).system;
      const r = solve(sys, { params: sys.params, T: 1, dt: 0.05, times, method: 'gaussian' });
      r.t.forEach((t, i) => {
        const v = r.observables.v[i], e = r.error.v[i];
        expect(Math.abs(v - exact(k, t)), `k = ${k}, t = ${t}: ${v} ± ${e} vs ${exact(k, t)}`).toBeLessThanOrEqual(e);
      });
    });
  }
});

describe('a stiff coupled unit inside its first step', () => {
  // k = 500, init variance 0.01, white noise s2 = 1, tanh coupling g = 1: the coupling adds ~1e-8 at
  // t = 0.001, so ⟨x²⟩ ≈ 0.01 e^{−1} + (1 − e^{−1})/1000; references from dt = 5e-5 (0.004310919 ± 4.3e-10 at t = 0.001)
  const text = `model "stiff noisy tanh network"
param g = 1, k = 500, s2 = 1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(s2)
state x[i]
init x[i] ~ normal(0, 0.01)
d/dt x[i] = -k*x[i] + sum(j, J[i,j]*tanh(x[j])) + xi[i]
observe v = mean(i, x[i]^2)
`;
  it('the bar at t = 0.001, inside a step of the automatically refined grid, covers the fine-step value', () => {
    const sys = deriveCavity(loadModelSource(text, 'stiff-tanh.dmft')).system;
    const r = solve(sys, { params: sys.params, T: 0.2, dt: 0.05, times: [0.001, 0.01, 0.2] });
    const ref = [0.004310919, 0.001000411, 0.001000002]; // dt = 5e-5 at 0.001, 0.01; the stationary value at 0.2
    r.t.forEach((t, i) => expect(Math.abs(r.observables.v[i] - ref[i]), `t = ${t}`).toBeLessThanOrEqual(r.error.v[i] + 1e-9));
  });
});
