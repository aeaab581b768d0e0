// Models the derivation cannot handle get a clear error naming the term and
// what would be needed — never a wrong derivation. Both routes refuse.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { DmftError } from '../../src/errors.ts';
import { normalizeSystem } from '../../src/derive/normalize.ts';

const head = 'model "m"\nparam g = 0.5, kappa = 0.5\nindex i, j in 1..N\n';
const cases: [string, string, RegExp][] = [
  ['a coupling entering nonlinearly', `${head}random J[i,j] ~ normal(0, g^2/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]^2*x[j])\n`, /the coupling enters nonlinearly in 'J\[i,j\]\^2'/],
  ['sparse couplings (bernoulli(c/N): a few terms dominate, the field is not Gaussian)', `${head}random J[i,j] ~ bernoulli(3/N)\nstate x[i]\nd/dt x[i] = -x[i] + sum(j, J[i,j]*x[j])\n`, /is sparse: .* its fluctuations are not Gaussian/],
  ['white noise entering nonlinearly', `${head}noise xi[i] ~ white(1)\nstate x[i]\nd/dt x[i] = -x[i] + tanh(xi[i])\n`, /white noise 'xi' enters the dynamics of x nonlinearly/],
  ['discrete-time and continuous-time dynamics in one model', `${head}state x[i]\nstate y[i]\nx[i](t+1) = 0.5*x[i]\nd/dt y[i] = -y[i]\n`, /mixes discrete-time dynamics .* with continuous-time ones/],
  ['white noise in a map', `${head}noise xi[i] ~ white(1)\nstate x[i]\nx[i](t+1) = 0.5*x[i] + xi[i]\n`, /white noise \(xi\) has no meaning in discrete time/],
  ['randomness drawn afresh at every step in continuous time', `${head}random u[i](t) ~ bernoulli(0.5)\nstate x[i]\nd/dt x[i] = -x[i] + u[i]\n`, /drawn afresh at every step \(u\[…\]\(t\)\) has no meaning in continuous time/],
  ['a constraint', `${head}state x[i]\nd/dt x[i] = -x[i]\nconstraint mean(i, x[i]^2) = 1 via z\n`, /constraints .* not supported yet by derive/],
];

describe('derive refuses what it cannot derive', () => {
  for (const [what, src, msg] of cases) {
    for (const route of ['cavity', 'msr'] as const) {
      it(`${what} (${route})`, () => {
        const m = loadModelSource(src, 'm.dmft');
        let err: unknown;
        try { derive(m, route); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(DmftError);
        const e = err as DmftError;
        expect(e.message).toMatch(msg);
        expect(e.info.hint ?? '').not.toBe('');
      });
    }
  }
});

describe('a sum that adds couplings is split into one use per coupling', () => {
  it('sum(j, (J[i,j] + J[j,i])*x[j]) derives to the system of the two sums (one field and one reaction per pair of uses)', () => {
    const src = 'model "m"\nparam g = 0.5\nindex i, j in 1..N\nrandom J[i,j] ~ normal(0, g^2/N)\nstate x[i]\n';
    for (const route of ['cavity', 'msr'] as const) {
      const one = derive(loadModelSource(`${src}d/dt x[i] = -x[i] + sum(j, (J[i,j] + J[j,i])*x[j])\n`, 'm.dmft'), route);
      const two = derive(loadModelSource(`${src}d/dt x[i] = -x[i] + sum(j, J[i,j]*x[j]) + sum(j, J[j,i]*x[j])\n`, 'm.dmft'), route);
      expect(JSON.stringify(normalizeSystem(one.system))).toBe(JSON.stringify(normalizeSystem(two.system)));
      expect(one.steps.filter((s) => s.rule === `${route}.limit.split`)).toHaveLength(1);
      // J + Jᵀ acts as a symmetric coupling of variance 2g²/N: two fields (independent, c = 0), two reaction terms
      expect(one.system.populations[0].fields).toHaveLength(2);
      expect(one.system.populations[0].cross).toEqual([]);
      if (route === 'cavity') expect(one.steps.filter((s) => s.rule === 'cavity.reaction.reuse')).toHaveLength(2);
    }
  });
});
