// The simulator's control variates are the sample moments of each seed's
// draws: checked against observables that read the same draws.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { simulate } from '../../src/simulate/index.ts';

const text = `model "controls"
param s = 2
index i in 1..N
index mu in 1..P
ratio P/N = 2
random b[i] ~ normal(0.5, 4)
random X[mu,i] ~ uniform(-1, 3)
state x[i]
init x[i] ~ normal(1, 0.25)
state y[i] >= 0
init y[i] ~ normal(1, 0.25)
d/dt x[i] = -x[i] + b[i] + sum(mu, X[mu,i])/N
d/dt y[i] = -y[i]
observe bm = mean(i, b[i])
observe b2 = mean(i, (b[i] - 0.5)^2)
observe x0 = mean(i, x[i])
`;

describe('control variates of the draws', () => {
  it('are the standardized sample mean and second moment of each random array and free initial condition', async () => {
    const m = loadModelSource(text, 'controls.dmft');
    const r = await simulate(m, { N: 50, seeds: 3, T: 0.1, dt: 0.1, times: [0], keepSeeds: true, threads: 0 });
    const ps = r.perSeed!;
    // y has bounds (its initial values may be clipped): no control
    expect(ps.controlNames).toEqual(['b.mean', 'b.var', 'X.mean', 'X.var', 'x(0).mean', 'x(0).var']);
    ps.controls.forEach((c, s) => {
      expect(ps.observables.bm[s][0]).toBeCloseTo(0.5 + 2 * c[0], 10);
      expect(ps.observables.b2[s][0]).toBeCloseTo(4 * (1 + c[1]), 10);
      expect(ps.observables.x0[s][0]).toBeCloseTo(1 + 0.5 * c[4], 10);
      // X: 100 × 50 entries of mean 1 and sd 4/√12: the moments are small but not zero
      expect(Math.abs(c[2])).toBeLessThan(0.1);
      expect(Math.abs(c[3])).toBeLessThan(0.1);
      expect(c[2]).not.toBe(0);
    });
  });
});
