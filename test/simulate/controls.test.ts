// The simulator's control variates are the sample moments of each seed's
// draws: checked against observables that read the same draws.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { simulate } from '../../src/simulate/index.ts';

const text = `model "controls"
index i in 1..N
index mu in 1..P
ratio P/N = 2
random b[i] ~ normal(0.5, 4)
random u[mu] ~ uniform(-1, 3)
random X[mu,i] ~ normal(0, 1/N)
state x[i]
init x[i] ~ normal(1, 0.25)
state y[i] >= 0
init y[i] ~ normal(1, 0.25)
let p[mu] = sum(i, X[mu,i]*(b[i] - 0.5))
let q[i] = sum(mu, X[mu,i]*(u[mu] - 1))
d/dt x[i] = -x[i] + b[i]
d/dt y[i] = -y[i]
observe bm = mean(i, b[i])
observe b2 = mean(i, (b[i] - 0.5)^2)
observe x0 = mean(i, x[i])
observe um = mean(mu, u[mu])
observe pp = mean(mu, p[mu]^2)
observe qq = mean(i, q[i]^2)
`;

describe('control variates of the draws', () => {
  it('are the standardized sample moments of each random array and free initial condition, and of matrix-vector products', async () => {
    const m = loadModelSource(text, 'controls.dmft');
    const r = await simulate(m, { N: 50, seeds: 3, T: 0.1, dt: 0.1, times: [0], keepSeeds: true, threads: 0 });
    const ps = r.perSeed!;
    // y has bounds (its initial values may be clipped): no control
    expect(ps.controlNames).toEqual(['b.mean', 'b.var', 'u.mean', 'u.var', 'X.mean', 'X.var', 'x(0).mean', 'x(0).var', 'X·b.var', 'Xᵀ·u.var', 'X·x(0).var']);
    const sdU = 4 / Math.sqrt(12);
    ps.controls.forEach((c, s) => {
      const o = (k: string) => ps.observables[k][s][0];
      expect(o('bm')).toBeCloseTo(0.5 + 2 * c[0], 10);
      expect(o('b2')).toBeCloseTo(4 * (1 + c[1]), 10);
      expect(o('um')).toBeCloseTo(1 + sdU * c[2], 10);
      expect(o('x0')).toBeCloseTo(1 + 0.5 * c[6], 10);
      // (X (b − 0.5))_μ has variance N·(1/N)·4 = 4; (Xᵀ(u − 1))_i has variance P·(1/N)·sdU²
      expect(o('pp')).toBeCloseTo(4 * (1 + c[8]), 6);
      expect(o('qq')).toBeCloseTo(2 * sdU ** 2 * (1 + c[9]), 6);
      // X: 100 × 50 entries: its moments are small but not zero
      expect(Math.abs(c[4])).toBeLessThan(0.1);
      expect(c[5]).not.toBe(0);
    });
  });
});
