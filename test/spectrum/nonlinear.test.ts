// Nonlinear random matrices (docs/spectrum.md, "Nonlinear matrices"): what the
// linear equivalent is refused for, with the reason and the position.
import { describe, expect, it } from 'vitest';
import { loadModel, loadModelSource } from '../../src/model/load.ts';
import { spectrumToTex } from '../../src/latex/spectrum.ts';
import { validateKatex } from '../../src/latex/katex.ts';
import { deriveSpectrum } from '../../src/derive/spectrum.ts';

const kernel = (f: string, v = '1/D') => `model "kernel"
index i in 1..D
index mu, nu in 1..n
ratio n/D = 0.5
random X[mu,i] ~ normal(0, ${v})
matrix K[mu,nu] = ${f}
`;
const derive = (src: string) => () => deriveSpectrum(loadModelSource(src, 'k.dmft'));

describe('kernel matrices that have no linear equivalent are refused with the reason', () => {
  it('a kernel not differentiable at 0 (relu of the inner product)', () => {
    expect(derive(kernel('relu(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/not differentiable at 0 \(a kink or jump at 0\)/);
  });
  it('an inner product that does not vanish off the diagonal (unit-variance rows summed without 1/D)', () => {
    expect(derive(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))', '1'))).toThrow(/must be of order 1 on the diagonal and vanish off it/);
  });
  it("a kernel with f'(0) = 0 and no other random part (its bulk is a point mass)", () => {
    expect(derive(kernel('cos(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/no random part/);
  });
  it('a function of random matrices that is neither a feature Gram nor a kernel matrix', () => {
    expect(derive(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))*tanh(sum(i, X[mu,i]*X[nu,i]))'))).toThrow(/kernel matrix|feature Gram/);
  });
  it('a smooth kernel is accepted: tanh has f(0) = f\'\'(0) = 0, so no constant part and no outlier', () => {
    const s = deriveSpectrum(loadModelSource(kernel('tanh(sum(i, X[mu,i]*X[nu,i]))'), 'k.dmft'));
    expect(s.spikes).toHaveLength(0);
    expect(s.growing).toHaveLength(0);
    expect(s.equivalents[0]).toMatch(/f'\(0\) = 1/);
  });
});

describe('the linear equivalents in the LaTeX', () => {
  for (const f of ['examples/spectrum/relu-feature-gram.dmft', 'examples/spectrum/kernel-matrix.dmft']) {
    it(`${f}: the constants are shown and KaTeX renders the equations`, () => {
      const tex = spectrumToTex(deriveSpectrum(loadModel(f)));
      expect(tex).toMatch(f.includes('relu') ? /\\mu_0 = 0\.3989422804,\\; \\mu_1 = 0\.5,/ : /f'\(0\) = 1,\\; f''\(0\) = 1,/);
      const body = tex.slice(tex.indexOf('\\begin{align}'), tex.indexOf('\\end{align}') + '\\end{align}'.length);
      expect(() => validateKatex(body)).not.toThrow();
    });
  }
});
