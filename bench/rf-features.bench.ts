// Random features with erf and sign features written directly (the derivation
// applies Gaussian equivalence, rules/ge.rules.json): the t → ∞ test error on
// a fresh input against ridge on the real nonlinear features at finite D,
// extrapolated in 1/D (bench/rf_features_reference.py →
// bench/references/rf-features.json).
// Run: npx tsx bench/rf-features.bench.ts   (a few seconds a point)
import { readFileSync } from 'node:fs';
import { solve } from '../src/api.ts';
import { loadModelSource } from '../src/model/load.ts';

const model = (phi: string, p: { alpha: number; gamma: number; sigma2: number; lam: number }) => {
  const f = (X: string, a: string) => `${phi}(sum(i, W[k,i]*${X}[${a},i]))`;
  return `model "${phi} random features, ridge readout"
param alpha = ${p.alpha}, gamma = ${p.gamma}, sigma2 = ${p.sigma2}, lam = ${p.lam}
index i in 1..D
index k in 1..M
index mu in 1..P
index nu in 1..Q
ratio P/D = alpha
ratio M/D = gamma
ratio Q/D = 1
random X[mu,i] ~ normal(0, 1/D)
random Xt[nu,i] ~ normal(0, 1/D)
random W[k,i] ~ normal(0, 1)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
state a[k]
init a[k] = 0
let r[mu] = sum(k, ${f('X', 'mu')}*a[k])/sqrt(D) - sum(i, X[mu,i]*wstar[i]) - eps[mu]
let e[nu] = sum(k, ${f('Xt', 'nu')}*a[k])/sqrt(D) - sum(i, Xt[nu,i]*wstar[i])
d/dt a[k] = -sum(mu, ${f('X', 'mu')}*r[mu])/sqrt(D) - lam*a[k]
observe test = mean(nu, e[nu]^2)/2
`;
};

const ref = JSON.parse(readFileSync('bench/references/rf-features.json', 'utf8'));
let worst = 0;
for (const r of ref) {
  const t0 = performance.now();
  const out = solve(loadModelSource(model(r.phi, r), `${r.phi}.dmft`), { T: 1, dt: 0.05 });
  const v = out.limit!.test, e = out.limitError?.test ?? 0;
  const z = (v - r.test) / r.error;
  worst = Math.max(worst, Math.abs(z));
  console.log(`${r.phi.padEnd(4)} alpha = ${r.alpha}, gamma = ${r.gamma}, lam = ${r.lam}: dmftkit ${v.toPrecision(8)} ± ${e.toExponential(1)}   real features D → ∞ ${r.test.toPrecision(5)} ± ${r.error.toExponential(1)}   (${z.toFixed(2)}σ, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`largest deviation ${worst.toFixed(2)}σ`);
