// The environment the rule examples are checked in: the rule environment of a
// small fixture model (couplings J with a mean and a transpose correlation,
// a rectangular X with P/N = alpha, a quenched vector, a white noise, a let),
// with the path-integral notation (x̂, r̂, ĥ … are the response fields).
import { freeIndices, mapPost, type Expr } from '../../src/expr/ast.ts';
import { loadModelSource } from '../../src/model/load.ts';
import { cavityEnv } from '../../src/derive/cavity.ts';
import { simplifyI } from '../../src/derive/msr/notation.ts';
import type { RuleEnv } from '../../src/derive/registry.ts';

export const FIXTURE = `model "rule examples"
param g = 1, J0 = 0.5, kappa = 0.3, alpha = 2
index i, j in 1..N
index mu in 1..P
ratio P/N = alpha
random J[i,j] ~ normal(J0/N, g^2/N), corr(J[i,j], J[j,i]) = kappa
random X[mu,i] ~ normal(0, 1/N)
random wstar[i] ~ normal(0, 1)
noise xi[i] ~ white(1)
state x[i]
let r[mu] = sum(i, X[mu,i]*x[i])
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) - sum(mu, X[mu,i]*r[mu]) + xi[i] + wstar[i]
`;

let env: RuleEnv | undefined;

export function exampleEnv(): RuleEnv {
  if (env) return env;
  const base = cavityEnv(loadModelSource(FIXTURE, 'fixture.dmft'));
  env = {
    ...base,
    // a site function written at site idx and time tau; the quenched vector wstar keeps no time
    at: (e: Expr, idx: string, tau: Expr) => {
      const [from] = [...freeIndices(e)];
      return mapPost(e, (x) => {
        if (x.k !== 'ref' || x.idx.length !== 1 || x.idx[0] !== from) return x;
        return x.name === 'wstar' || x.at ? { ...x, idx: [idx] } : { ...x, idx: [idx], at: tau };
      });
    },
    isConjugate: (name: string) => name.endsWith('hat'),
    reduceI: simplifyI,
  };
  return env;
}
