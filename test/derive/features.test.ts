// Gaussian equivalence of random features as rules (rules/ge.rules.json,
// src/model/features.ts): a model written with the nonlinear features
// themselves derives and solves to the numbers of its Gaussian-equivalent
// linear model written by hand, for several nonlinearities; and the features
// where the equivalence does not apply are refused with the reason.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { derive, solve } from '../../src/api.ts';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { constantValue } from '../../src/expr/eval.ts';
import { gaussianEquivalence } from '../../src/numeric/gaussian-equivalence.ts';
import { piecewiseOf } from '../../src/numeric/kinks.ts';
import { DmftErrors } from '../../src/errors.ts';
import { featuresTex, validateKatex } from '../../src/latex/index.ts';

const limitOf = (m: Parameters<typeof solve>[0]) => {
  const r = solve(m, { T: 0.4, dt: 0.1 }); // the limit is the static solution: a short transient is enough
  expect(r.limit, r.limitNote).toBeDefined();
  // and the gradient flow's transient at the last time
  const last = (o: string) => r.observables[o][r.observables[o].length - 1];
  return { test: r.limit!.test, train: r.limit!.train, testT: last('test'), trainT: last('train') };
};

describe('ReLU random features written directly (examples/rf-relu-features.dmft)', () => {
  const direct = loadModel('examples/rf-relu-features.dmft');

  it('derives with the rule ge.feature.linearize, its constants in the trace and in a note', () => {
    const d = derive(direct);
    const ge = d.steps.filter((s) => s.rule === 'ge.feature.linearize');
    expect(ge.length).toBe(3); // r, d/dt a and the test set's e
    const built = Object.fromEntries(ge[0].built!.map((b) => [(b.call as { fn: string }).fn, b.value]));
    // relu's μ1 = 1/2 comes out of the quadrature exactly, and is kept exact (quadratureNum)
    expect(constantValue(built['@gemu1'], {})).toBe(0.5);
    expect(Math.abs((built['@gemustar'] as { v: number }).v - Math.sqrt(1 / 4 - 1 / (2 * Math.PI)))).toBeLessThan(1e-14);
    expect(built['@gemu0']).toEqual({ k: 'num', v: 0 });
    expect(d.steps.filter((s) => s.rule === 'ge.projection.exchange').length).toBe(3);
    expect(d.notes.join('\n')).toMatch(/μ1 = E\[\(h\/√v\) φ\(h\)\] = 0\.5000000000/);
  });

  it('states the constants and the convention in the LaTeX, valid for KaTeX', () => {
    const tex = featuresTex(derive(direct).steps);
    const blocks = [...tex.matchAll(/\\\[([\s\S]*?)\\\]/g)].map((m) => m[1]);
    expect(blocks.length).toBe(4); // two feature matrices (training and test inputs), two lines each
    for (const b of blocks) expect(() => validateKatex(b)).not.toThrow();
    expect(blocks[1]).toMatch(/\\mu_1 = \\mathbb\{E\}.* = 0\.5/);
    expect(blocks[0]).toMatch(/\\operatorname\{relu\}\(h\)/);
  });

  it('solves to the numbers of the hand-written Gaussian-equivalent model (examples/rf-relu-ridge.dmft): gradient flow and its t → ∞ limit', () => {
    const a = limitOf(direct), b = limitOf(loadModel('examples/rf-relu-ridge.dmft'));
    expect(Math.abs(a.test - b.test)).toBeLessThan(1e-10);
    expect(Math.abs(a.train - b.train)).toBeLessThan(1e-10);
    expect(Math.abs(a.testT - b.testT)).toBeLessThan(1e-9);
    expect(Math.abs(a.trainT - b.trainT)).toBeLessThan(1e-9);
  });
  // (the hand model is checked against ridge on real ReLU features in test/sweep/risk-curves.test.ts)
});

/** random features φ(F x) trained by gradient flow with a ridge, a test set, and (hand) its linear equivalent */
const featureModel = (phi: (h: string) => string) => `model "random features"
param alpha = 2, gamma = 0.7, sigma2 = 0.2, lam = 0.05
index i in 1..D
index k in 1..M
index mu in 1..P
index nu in 1..Q
ratio P/D = alpha
ratio M/D = gamma
ratio Q/D = 3
random X[mu,i] ~ normal(0, 1/D)
random Xt[nu,i] ~ normal(0, 1/D)
random W[k,i] ~ normal(0, 4)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
state a[k]
init a[k] = 0
let r[mu] = sum(k, ${phi('sum(i, W[k,i]*X[mu,i])')}*a[k])/sqrt(D) - sum(i, X[mu,i]*wstar[i]) - eps[mu]
let e[nu] = sum(k, ${phi('sum(i, W[k,i]*Xt[nu,i])')}*a[k])/sqrt(D) - sum(i, Xt[nu,i]*wstar[i])
d/dt a[k] = -sum(mu, ${phi('sum(i, W[k,i]*X[mu,i])')}*r[mu])/sqrt(D) - lam*a[k]
observe test = mean(nu, e[nu]^2)/2
observe train = mean(mu, r[mu]^2)/2
`;

const handModel = (mu1: number, muStar: number, v: number) => `model "random features, Gaussian-equivalent linear model by hand"
param alpha = 2, gamma = 0.7, sigma2 = 0.2, lam = 0.05
param c1 = ${mu1 / Math.sqrt(v)}, cs = ${muStar}
index i in 1..D
index k in 1..M
index mu in 1..P
ratio P/D = alpha
ratio M/D = gamma
random X[mu,i] ~ normal(0, 1/D)
random G[k,i] ~ normal(0, ${v}/D)
random Z[mu,k] ~ normal(0, 1/D)
random wstar[i] ~ normal(0, 1)
random eps[mu] ~ normal(0, sigma2)
state a[k]
init a[k] = 0
let beta[i] = sum(k, G[k,i]*a[k])
let g[i] = sum(mu, X[mu,i]*r[mu])
let r[mu] = sum(i, X[mu,i]*(c1*beta[i] - wstar[i])) + cs*sum(k, Z[mu,k]*a[k]) - eps[mu]
d/dt a[k] = -c1*sum(i, G[k,i]*g[i]) - cs*sum(mu, Z[mu,k]*r[mu]) - lam*a[k]
observe test = (mean(i, (c1*beta[i] - wstar[i])^2) + cs^2*gamma*mean(k, a[k]^2))/2
observe train = mean(mu, r[mu]^2)/2
`;

describe('other nonlinearities: the rule against the linear equivalent written by hand', () => {
  // the projections have variance 4 (W of variance 4, inputs of variance 1/D): the constants depend on it
  it('tanh: same t → ∞ test and training errors', () => {
    const direct = loadModelSource(featureModel((h) => `tanh(${h})`), 'features.dmft');
    const c = gaussianEquivalence(piecewiseOf(parseExpr('tanh(x)'), 'x'), 4);
    const hand = loadModelSource(handModel(c.mu1, c.muStar, 4), 'hand.dmft');
    const a = limitOf(direct), b = limitOf(hand);
    expect(Math.abs(a.test - b.test)).toBeLessThan(1e-9);
    expect(Math.abs(a.train - b.train)).toBeLessThan(1e-9);
  });

  it('an even φ (centred |h|, μ1 = 0): the projection drops out, only the fresh Gaussian part is left', () => {
    // (pure-noise labels: with μ1 = 0 nothing of the model lives on the input sites)
    const src = featureModel((h) => `(abs(${h}) - 1.5957691216057308)`).replace(/ - sum\(i, Xt?\[(mu|nu),i\]\*wstar\[i\]\)/g, '').replace('random wstar[i] ~ normal(0, 1)\n', '');
    const d = derive(loadModelSource(src, 'features.dmft'));
    expect(d.steps.filter((s) => s.rule === 'ge.feature.linearize').length).toBe(3);
    expect(d.steps.some((s) => s.rule === 'ge.projection.exchange')).toBe(false);
    const c = gaussianEquivalence(piecewiseOf(parseExpr('abs(x)'), 'x'), 4);
    // μ*² = Var |h| = 4 (1 − 2/π)
    expect(Math.abs(c.muStar ** 2 - 4 * (1 - 2 / Math.PI))).toBeLessThan(1e-13);
    expect(d.notes.join('\n')).toMatch(new RegExp(`μ\\* = \\(E φ\\(h\\)² − μ0² − μ1²\\)\\^½ = ${c.muStar.toPrecision(10).replace('.', '\\.')}`));
  });
});

describe('where Gaussian equivalence does not apply: refused with the reason', () => {
  const refused = (phi: (h: string) => string, decl = 'random W[k,i] ~ normal(0, 4)', extra = '') => {
    const src = featureModel(phi).replace('random W[k,i] ~ normal(0, 4)', decl) + extra;
    try { loadModelSource(src, 'bad.dmft'); } catch (e) { expect(e).toBeInstanceOf(DmftErrors); return (e as Error).message; }
    throw new Error('not refused');
  };
  it('a parameter inside the nonlinearity', () => {
    expect(refused((h) => `tanh(lam*${h})`)).toMatch(/contains 'lam', a parameter/);
  });
  it('a projection whose variance grows with the sizes', () => {
    expect(refused((h) => `tanh(${h})`, 'random W[k,i] ~ normal(0, D)')).toMatch(/variance of the random projection .* grows like D\^1/);
  });
  it('a projection of a non-centred matrix', () => {
    expect(refused((h) => `tanh(${h})`, 'random W[k,i] ~ normal(1, 4)')).toMatch(/Gaussian equivalence needs centred matrices/);
  });
  it('an uncentred feature (its mean part grows with the sizes)', () => {
    expect(refused((h) => `relu(${h})`)).toMatch(/has mean μ0 = E φ\(h\) = 0\.797884560/);
  });
  it('a feature outside a sum over the features or the examples', () => {
    expect(refused((h) => `tanh(${h})`, undefined, 'observe f = mean(k, mean(mu, tanh(sum(i, W[k,i]*X[mu,i]))))\n')).toMatch(/inside a nonlinearity that is not summed over the features or the examples/);
  });
});
