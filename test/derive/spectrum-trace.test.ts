// The spectrum derivation's trace is true, as the dynamics' is
// (test/derive/trace.test.ts): every step of `deriveSpectrum` is a rule of
// rules/spectrum.rules.json applied by the engine — `before` matches the
// pattern with the recorded bindings and `after` is the replacement
// instantiated with them — and the steps form a tree. Over the spectrum
// examples and matrix models that are not in examples/.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import type { Model } from '../../src/model/ir.ts';
import { deriveSpectrum } from '../../src/derive/spectrum.ts';
import { stepProblem } from '../../src/rewrite/replay.ts';
import type { Step } from '../../src/rewrite/trace.ts';
import { canon } from '../../src/expr/canon.ts';
import { num, ref, sym } from '../../src/expr/ast.ts';

const MODELS: Record<string, string> = {
  'Wishart (sample covariance)': `model "wishart"
param alpha = 0.7
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
matrix S[i,j] = sum(mu, X[mu,i]*X[mu,j])
`,
  'Wigner plus Wishart': `model "wigner plus wishart"
param g = 0.8, alpha = 2
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random J[i,j] ~ normal(0, g^2/D), symmetric
random X[mu,i] ~ normal(0, 1/D)
matrix H[i,j] = J[i,j] + 0.5*sum(mu, X[mu,i]*X[mu,j])
`,
  'two spikes on a Wigner matrix': `model "two spikes"
param t1 = 2, t2 = 1.5
index i, j in 1..N
random J[i,j] ~ normal(0, 1/N), symmetric
random u[i] ~ normal(0, 1/N)
random e[i] ~ bernoulli(0.5)
matrix H[i,j] = J[i,j] + t1*u[i]*u[j] + t2*e[i]*e[j]/N
`,
  'product of independent blocks, symmetrized': `model "product"
param alpha = 2
index i, j, k in 1..D
index mu in 1..P
ratio P/D = alpha
random J[i,j] ~ normal(0, 1/D), symmetric
random X[mu,i] ~ normal(0, 1/D)
matrix H[i,j] = sum(k, J[i,k]*sum(mu, X[mu,k]*X[mu,j])) + sum(k, sum(mu, X[mu,i]*X[mu,k])*J[k,j])
`,
  'population covariance through a quenched vector': `model "population covariance"
param alpha = 1.5
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random lam[mu] ~ uniform(1, 2)
matrix S[i,j] = sum(mu, X[mu,i]*lam[mu]*X[mu,j])
`,
  'partially symmetric A + Aᵀ': `model "partially symmetric"
param kappa = 0.3
index i, j in 1..N
random A[i,j] ~ normal(0, 1/N), corr(A[i,j], A[j,i]) = kappa
matrix H[i,j] = A[i,j] + A[j,i]
`,
  // unit-variance entries: the 1/D of the sum is folded into the chain's constant (spectrum.chain.scale)
  'unit-variance entries scaled by the prefactor': `model "prefactor"
param alpha = 0.5
index i, j in 1..D
index mu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1)
matrix S[i,j] = sum(mu, X[mu,i]*X[mu,j])/D
`,
  // nonlinear matrices through their linear equivalents (rules ge.feature.linearize, spectrum.ge.*)
  'centred tanh features, weighted Gram matrix': `model "tanh gram"
param c = 0.7
index i in 1..D
index k in 1..P
index mu, nu in 1..n
ratio P/D = 0.5
ratio n/D = 1.5
random X[mu,i] ~ normal(0, 2/D)
random F[k,i] ~ normal(0, 1)
matrix G[mu,nu] = c*sum(k, tanh(sum(i, F[k,i]*X[mu,i]))*tanh(sum(i, F[k,i]*X[nu,i])))/P
`,
  'kernel with an O(1) constant part (an outlier growing like n) and a linear block': `model "cosh kernel"
index i, j in 1..D
index mu, nu in 1..n
index q in 1..Q
ratio n/D = 0.5
ratio Q/D = 2
random X[mu,i] ~ normal(0, 1/D)
random Y[q,mu] ~ normal(0, 1/Q)
matrix K[mu,nu] = sin(sum(i, X[mu,i]*X[nu,i])) + 0.5*exp(sum(i, X[mu,i]*X[nu,i])) + sum(q, Y[q,mu]*Y[q,nu])
`,
};

const files = ['examples/spectrum'].flatMap((d) =>
  readdirSync(d).filter((f) => f.endsWith('.dmft')).sort().map((f): [string, () => Model] => [`${d}/${f}`, () => loadModel(`${d}/${f}`)]));
const inline = Object.entries(MODELS).map(([label, src]): [string, () => Model] => [label, () => loadModelSource(src, 'inline.dmft')]);

function expectTree(steps: Step[]): void {
  const seen = new Set<string>();
  steps.forEach((s, n) => {
    expect(s.id).toBe(`s${n + 1}`);
    expect(s.stage.length).toBeGreaterThan(0);
    if (s.parent !== s.stage) expect(seen.has(s.parent), `${s.id} (${s.rule}): parent ${s.parent} is neither an earlier step nor the stage ${s.stage}`).toBe(true);
    seen.add(s.id);
  });
}

describe('every recorded step of the spectrum derivation is its rule applied', () => {
  for (const [label, model] of [...files, ...inline]) {
    it(label, () => {
      const m = model();
      for (const d of m.matrices ?? []) {
        const s = deriveSpectrum(m, d.name);
        const untrue = s.steps.map((x) => [x, stepProblem(x)] as const).filter(([, p]) => p).map(([x, p]) => `${x.id} [${x.rule}] ${x.where}: ${p}`);
        expect(untrue).toEqual([]);
        expectTree(s.steps);
        const rules = new Set(s.steps.map((x) => x.rule));
        for (const r of ['spectrum.resolvent.response', 'spectrum.resolvent.terms', 'spectrum.chain.auxiliary', 'spectrum.cavity.field', 'spectrum.site.response']) expect(rules.has(r), r).toBe(true);
        // one field per use, one closure per order parameter, one outlier condition per pair of spikes
        expect(s.steps.filter((x) => x.rule === 'spectrum.cavity.field')).toHaveLength(s.uses.length);
        expect(s.steps.filter((x) => x.rule === 'spectrum.site.response')).toHaveLength(s.orderParams.length);
        expect(s.steps.filter((x) => x.rule === 'spectrum.outlier.secular')).toHaveLength(s.spikes.length ** 2);
      }
    });
  }
  it('a chain whose sums carry more than their O(1) scale records the folding of its constant', () => {
    const s = deriveSpectrum(loadModelSource(MODELS['unit-variance entries scaled by the prefactor'], 'inline.dmft'));
    const fold = s.steps.filter((x) => x.rule === 'spectrum.chain.scale');
    expect(fold).toHaveLength(1);
    expect(canon(fold[0].after)).toEqual(canon(num(1)));
    expect(s.chains[0].coef).toEqual(canon(num(1)));
  });
});

describe('nonlinear matrices: the linear equivalent is recorded step by step', () => {
  it('ReLU features: both sides linearized, the mean part dropped from the bulk as rank one, its outlier growing like n', () => {
    const s = deriveSpectrum(loadModel('examples/spectrum/relu-feature-gram.dmft'));
    const count = (r: string) => s.steps.filter((x) => x.rule === r).length;
    // the first side once, the second in each of the three sums it leaves (μ0, μ1 and μ* parts)
    expect(count('ge.feature.linearize')).toBe(4);
    expect(count('spectrum.ge.mean-low-rank')).toBe(3);
    expect(count('spectrum.outlier.growing')).toBe(1);
    // relu's μ0 = 1/√(2π): λ/n → μ0²
    expect(s.growing).toHaveLength(1);
    const k = s.growing[0].kappa;
    expect(k.k === 'num' ? k.v : NaN).toBeCloseTo(1 / (2 * Math.PI), 12);
    // the nonlinear part is a fresh matrix Z of the features' shape
    expect(s.uses.some((u) => u.matrix === 'Z')).toBe(true);
  });
  it('a kernel: El Karoui\'s expansion, the diagonal as a shift, the constant part as a spike along 1', () => {
    const s = deriveSpectrum(loadModel('examples/spectrum/kernel-matrix.dmft'));
    expect(s.steps.filter((x) => x.rule === 'spectrum.ge.kernel')).toHaveLength(2);
    expect(s.spikes).toHaveLength(1);
    expect(s.growing).toHaveLength(0);
    // (e − 2) + theta·(1 − 0 − 0) on the diagonal
    const v = s.populations.find((p) => p.set === 'n')!.rows[0];
    expect(v.entries.some((e) => e.col === 'v' && e.times === 'one')).toBe(true);
  });
  it('a kernel step with a wrong derivative is caught', () => {
    const s = deriveSpectrum(loadModel('examples/spectrum/kernel-matrix.dmft'));
    const k = s.steps.find((x) => x.rule === 'spectrum.ge.kernel')!;
    expect(stepProblem(k)).toBeUndefined();
    const built = k.built!.map((b) => (JSON.stringify(b.call).includes('kernel1') ? { ...b, value: num(2) } : b));
    expect(built).not.toEqual(k.built);
    expect(stepProblem({ ...k, built })).toMatch(/after is not the replacement/);
  });
});

describe('the check can fail (spectrum steps)', () => {
  const s = deriveSpectrum(loadModel('examples/spectrum/marchenko-pastur-spike.dmft'));
  const reaction = s.steps.find((x) => x.rule === 'spectrum.cavity.reaction')!;
  it('a reaction whose result was changed is caught', () => {
    expect(stepProblem(reaction)).toBeUndefined();
    expect(stepProblem({ ...reaction, after: canon({ k: 'mul', factors: [num(2), reaction.after] }) })).toMatch(/after is not the replacement/);
  });
  it('a recorded builder value that is not the rule\'s is caught', () => {
    // the reaction's scale s = K·var(X) → alpha, replayed from the step: a wrong value changes the result
    const built = reaction.built!.map((b) => ({ ...b, value: sym('beta') }));
    expect(stepProblem({ ...reaction, built })).toMatch(/after is not the replacement/);
  });
  it('a step recorded under a rule whose pattern it does not match is caught', () => {
    const spike = s.steps.find((x) => x.rule === 'spectrum.spike.low-rank')!;
    expect(stepProblem(spike)).toBeUndefined();
    expect(stepProblem({ ...spike, rule: 'spectrum.chain.auxiliary' })).toMatch(/does not match the pattern/);
    const aux = s.steps.find((x) => x.rule === 'spectrum.chain.auxiliary')!;
    // the auxiliary variable must read the bound input of the chain, not another one
    expect(stepProblem({ ...aux, before: canon({ k: 'sum', index: 'j', body: { k: 'mul', factors: [ref('X', ['mu', 'j']), ref('y', ['j'])] } }) })).toMatch(/does not match the pattern/);
  });
  it('a step whose bindings were changed is caught', () => {
    const field = s.steps.find((x) => x.rule === 'spectrum.cavity.field')!;
    expect(stepProblem(field)).toBeUndefined();
    expect(stepProblem({ ...field, bind: { ...field.bind, _eta: sym('xi') } })).toMatch(/after is not/);
    const closure = s.steps.find((x) => x.rule === 'spectrum.site.response')!;
    expect(stepProblem({ ...closure, bind: { ...closure.bind, _x: sym('w9') } })).toMatch(/after is not/);
  });
});
