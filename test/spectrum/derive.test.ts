// The derivation of the resolvent's cavity equations: structure and refusals.
import { describe, expect, it } from 'vitest';
import { loadModelSource } from '../../src/model/load.ts';
import { deriveSpectrum } from '../../src/derive/spectrum.ts';
import { getRule } from '../../src/rewrite/rules.ts';
import { SpectrumSolver } from '../../src/solve/spectrum.ts';

const TWO = `model "two matrices"
index i, j in 1..N
random J[i,j] ~ normal(0, 1/N), symmetric
random u[i] ~ normal(0, 1/N)
matrix A[i,j] = J[i,j]
matrix B[i,j] = 2*u[i]*u[j]
`;

describe('deriveSpectrum', () => {
  it('asks which matrix when there are several, and names them', () => {
    const m = loadModelSource(TWO, 't.dmft');
    expect(() => deriveSpectrum(m)).toThrow(/declares 2 matrices \(A, B\)/);
    expect(() => deriveSpectrum(m, 'C')).toThrow(/no matrix 'C'/);
    expect(deriveSpectrum(m, 'A').matrix).toBe('A');
  });
  it('refuses a matrix with no random part (no bulk)', () => {
    expect(() => deriveSpectrum(loadModelSource(TWO, 't.dmft'), 'B')).toThrow(/has no random matrix/);
  });
  it('records every step with a rule of rules/spectrum.rules.json and its reason', () => {
    const s = deriveSpectrum(loadModelSource(TWO, 't.dmft'), 'A');
    expect(s.steps.length).toBeGreaterThan(2);
    for (const st of s.steps) expect(st.because).toBe(getRule(st.rule).because);
  });
  it('pairs a use of a square matrix with its own transpose by the declared correlation', () => {
    const m = loadModelSource(`model "partially symmetric"
param kappa = 0.3
index i, j in 1..N
random A[i,j] ~ normal(0, 1/N), corr(A[i,j], A[j,i]) = kappa
matrix H[i,j] = A[i,j] + A[j,i]
`, 't.dmft');
    const s = deriveSpectrum(m);
    // two uses; each pairs with the other (same entries, κ = 1) and with itself (transposed entries, κ)
    expect(s.uses).toHaveLength(2);
    expect(s.orderParams.map((g) => `${g.use}<-${g.partner}`).sort()).toEqual(['w1<-w1', 'w1<-w2', 'w2<-w1', 'w2<-w2']);
    // A + Aᵀ has entries of variance 2(1 + κ)/N: a semicircle, σ²m² + zm + 1 = 0
    const sig2 = 2 * (1 + 0.3);
    const v = new SpectrumSolver(s, m).stieltjes([0.4, 0.6]).m;
    const res = [sig2 * (v[0] * v[0] - v[1] * v[1]) + (0.4 * v[0] - 0.6 * v[1]) + 1, sig2 * 2 * v[0] * v[1] + (0.4 * v[1] + 0.6 * v[0])];
    expect(Math.hypot(res[0], res[1])).toBeLessThan(1e-12);
  });
});
