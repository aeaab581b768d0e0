// The derived transforms verify compares frequency-domain equations against, checked
// against closed forms (not against the code that wrote them): for the partially symmetric
// linear network, R(ω) = (z − √(z² − 4κg²))/(2κg²) with z = 1 + iω (the causal root), and
// C(ω) = σ²|R|²/(1 − g²|R|²); with a leak λ, z = λ + iω.
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { Spectrum } from '../../src/verify/frequency.ts';
import type { NormContext } from '../../src/verify/normalize.ts';
import { scalarSystem } from '../../src/derive/scalar.ts';

function spectrum(file: string, set: Record<string, number> = {}) {
  const sys = scalarSystem(derive(loadModel(file, set), 'cavity').system, 'the test');
  const ops = new Map(sys.orderParams.map((o) => [o.name, { name: o.name, kind: o.kind, pop: o.pop, def: o.def, arity: o.kind === 'M' ? 1 : 2 }]));
  const ctx: NormContext = { ops, params: new Set(Object.keys(sys.params)), vars: new Set(sys.populations.map((p) => p.variable)) };
  return { sys, sp: Spectrum.read(sys, ctx) };
}

/** The causal root of κg²R² − zR + 1 = 0. */
function closed(lam: number, g: number, kappa: number, noise: number, w: number) {
  const a = kappa * g * g;
  const zr = lam, zi = w;
  const qr = zr * zr - zi * zi - 4 * a, qi = 2 * zr * zi;
  const m = Math.hypot(qr, qi);
  const sr = Math.sqrt((m + qr) / 2), si = Math.sign(qi) * Math.sqrt((m - qr) / 2);
  const R = a === 0 ? { re: zr / (zr * zr + zi * zi), im: -zi / (zr * zr + zi * zi) } : { re: (zr - sr) / (2 * a), im: (zi - si) / (2 * a) };
  const R2 = R.re * R.re + R.im * R.im;
  return { R, C: (noise * R2) / (1 - g * g * R2) };
}

describe('frequency-domain transforms of linear processes', () => {
  it('partially symmetric network: R(ω) and C(ω) are the closed forms', () => {
    for (const [g, kappa] of [[0.5, 0.5], [0.6, -0.7], [0.4, 1]]) {
      const { sys, sp } = spectrum('examples/linear-partial-sym.dmft', { g, kappa });
      if (typeof sp === 'string') throw new Error(sp);
      for (const w of [0.1, 0.9, 3.7]) {
        const v = sp.values(sys.params, w)!;
        const ref = closed(1, g, kappa, sys.params.sigma2, w);
        expect(v.get('R[x|eta]')!.re).toBeCloseTo(ref.R.re, 12);
        expect(v.get('R[x|eta]')!.im).toBeCloseTo(ref.R.im, 12);
        expect(v.get('C[x]')!.re).toBeCloseTo(ref.C, 12);
      }
    }
  });

  it('a leaky network outside the examples', () => {
    const { sys, sp } = spectrum('test/verify/models/leaky-ou-net.dmft');
    if (typeof sp === 'string') throw new Error(sp);
    const { lambda, g, kappa, D } = sys.params;
    const v = sp.values(sys.params, 1.3)!;
    const ref = closed(lambda, g, kappa, D, 1.3);
    expect(v.get('R[x|eta]')!.re).toBeCloseTo(ref.R.re, 12);
    expect(v.get('C[x]')!.re).toBeCloseTo(ref.C, 12);
  });

  it('past the stability edge g(1 + κ) ≥ 1 the transforms are refused, not returned', () => {
    const { sys, sp } = spectrum('examples/linear-partial-sym.dmft', { g: 0.7, kappa: 0.6 });
    if (typeof sp === 'string') throw new Error(sp);
    // no positive stationary spectral density near ω = 0: the solver says so
    expect(sp.values(sys.params, 0.01)).toBeUndefined();
    // and below the edge it answers
    expect(spectrum('examples/linear-partial-sym.dmft', { g: 0.6, kappa: 0.6 }).sp).not.toBeTypeOf('string');
  });

  it('nonlinear and bounded processes have no closed frequency-domain equations', () => {
    expect(typeof spectrum('examples/scs.dmft').sp).toBe('string');
    expect(typeof spectrum('examples/lotka-volterra.dmft').sp).toBe('string');
  });
});
