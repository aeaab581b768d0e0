// The `matrix` statement: parsed, validated, and read as chains of random
// matrices and rank-one spikes (src/model/matrix-terms.ts).
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { matrixTerms, termExpr } from '../../src/model/matrix-terms.ts';
import { print } from '../../src/expr/print.ts';
import { DmftErrors } from '../../src/errors.ts';

const HEAD = `model "m"
param alpha = 0.5, theta = 2
index i, j, k in 1..D
index mu, nu in 1..P
ratio P/D = alpha
random X[mu,i] ~ normal(0, 1/D)
random Y[mu,i] ~ normal(0, 1/D)
random J[i,j] ~ normal(0, 1/D), symmetric
random lam[mu] ~ uniform(1, 2)
random c[i] ~ uniform(0.5, 1.5)
random u[i] ~ normal(0, 1/D)
`;
const load = (line: string) => loadModelSource(HEAD + line + '\n', 'm.dmft');
const terms = (line: string) => { const m = load(line); return matrixTerms(m, m.matrices![0]).terms; };

describe('matrix statement', () => {
  it('reads a sample covariance as one chain X^T X over P', () => {
    const [t] = terms('matrix S[i,j] = sum(mu, X[mu,i]*X[mu,j])');
    expect(t.kind).toBe('chain');
    if (t.kind !== 'chain') return;
    expect(t.indices).toEqual(['i', 'mu', 'j']);
    expect(t.sets).toEqual(['D', 'P', 'D']);
    expect(t.links.map((l) => [l.matrix, l.outPos])).toEqual([['X', 1], ['X', 0]]);
  });
  it('puts a population covariance and a weight on the chain indices', () => {
    const [t] = terms('matrix S[i,j] = sqrt(c[i])*sum(mu, X[mu,i]*lam[mu]*X[mu,j])*sqrt(c[j])');
    if (t.kind !== 'chain') throw new Error('not a chain');
    expect(t.diag.map(print)).toEqual(['sqrt(c[i])', 'lam[mu]', 'sqrt(c[j])']);
  });
  it('splits sums of blocks and spikes into terms', () => {
    const ts = terms('matrix H[i,j] = J[i,j] + sum(mu, X[mu,i]*X[mu,j]) + theta*u[i]*u[j]');
    expect(ts.map((t) => t.kind)).toEqual(['chain', 'chain', 'rank-one']);
    expect(print(termExpr(ts[2]))).toBe('theta*u[i]*u[j]');
  });
  it('reads products of blocks (J S + S J) as longer chains', () => {
    const ts = terms('matrix H[i,j] = sum(k, J[i,k]*sum(mu, X[mu,k]*X[mu,j])) + sum(k, sum(mu, X[mu,i]*X[mu,k])*J[k,j])');
    expect(ts.map((t) => (t.kind === 'chain' ? t.links.map((l) => l.matrix).join('') : ''))).toEqual(['JXX', 'XXJ']);
  });
  it('accepts the symmetrized sum of two independent blocks', () => {
    expect(() => load('matrix H[i,j] = sum(mu, X[mu,i]*Y[mu,j]) + sum(mu, Y[mu,i]*X[mu,j])')).not.toThrow();
  });
  it('refuses an asymmetric product of blocks', () => {
    expect(() => load('matrix H[i,j] = sum(mu, X[mu,i]*Y[mu,j])')).toThrow(DmftErrors);
  });
  it('refuses a centred-less matrix with a hint about spikes', () => {
    const src = HEAD.replace('random J[i,j] ~ normal(0, 1/D)', 'random J[i,j] ~ normal(1/D, 1/D)') + 'matrix H[i,j] = J[i,j]\n';
    expect(() => loadModelSource(src, 'm.dmft')).toThrow(/must have mean 0/);
  });
});
