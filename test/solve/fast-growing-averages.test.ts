// Averages of fast-growing functions at large variance, in every solver: the
// Gaussian mass of e^{aX} sits near z = a·sd(X), beyond the fixed ranges and
// the Gauss–Hermite nodes that the solvers used to integrate over (a 1–100 %
// error with a tiny error bar). The states here are Gaussian with mean 0, so
// E e^{aX} = e^{a² Var X / 2} from the solver's own variance observable is the
// reference; every value must lie within its error bar of it (models that are
// in no example).
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/derive/index.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';

const solveSource = (src: string, T: number, dt: number) => {
  const sys = derive(loadModelSource(src, 'm.dmft'), 'cavity').system;
  return solve(sys, { params: sys.params, T, dt });
};

/** |value − exact| ≤ error at every reported time, and the value is close (not only covered) */
const covered = (values: number[], errors: number[], exact: number[]) => {
  values.forEach((v, k) => {
    expect(Math.abs(v - exact[k])).toBeLessThanOrEqual(errors[k]);
    expect(Math.abs(v / exact[k] - 1)).toBeLessThan(1e-6);
  });
};

describe('averages of fast-growing functions at large variance', () => {
  it('map (step-grid closure): E e^{x} with Var x = 25 at step 0', () => {
    const r = solveSource(`model "wide linear map"
param g = 0.5, a = 0.6
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, 25)
x[i](t+1) = a*x[i] + sum(j, J[i,j]*x[j])
observe v = mean(i, x[i]^2)
observe e = mean(i, exp(x[i]))
`, 4, 1);
    covered(r.observables.e, r.error.e, r.observables.v.map((v) => Math.exp(v / 2)));
  });
});
