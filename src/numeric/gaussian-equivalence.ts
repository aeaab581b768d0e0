// Gaussian-equivalence constants of a nonlinearity (the linear equivalent of
// a random feature map): for h ~ N(0, v) and z = h/√v,
//   φ(h) ≃ μ0 + μ1 z + μ* ξ,   μ0 = E φ(h),  μ1 = E[z φ(h)] = √v E φ'(h),
//   μ*² = E φ(h)² − μ0² − μ1²,  ξ ~ N(0, 1) independent of z.
// The three constants match the mean, the covariance with the projection and
// the variance of φ(h); in high dimension a matrix φ(W X) has the spectrum
// of its linear equivalent μ0 11ᵀ + μ1 W X/√v + μ* Ξ (Gaussian equivalence).
// Expectations are split at φ's kinks and jumps (./gauss.ts), so relu, abs and
// sign converge geometrically; the constants are evaluated at twice the
// default resolution and their change from the default one is the error.
import { atResolution, expect } from './gauss.ts';
import type { Piecewise } from './kinks.ts';

export interface GaussianEquivalence {
  variance: number;
  mu0: number;
  mu1: number;
  /** μ* ≥ 0 (0 for an affine φ, up to rounding) */
  muStar: number;
  /** E φ(h)² */
  second: number;
  /** estimated quadrature error of each constant (the change at twice the resolution) */
  error: { mu0: number; mu1: number; muStar: number };
}

function constants(p: Piecewise, v: number): { mu0: number; mu1: number; second: number } {
  const s = Math.sqrt(v);
  const mu0 = expect(p, 0, v);
  // E[z φ(√v z)] as E[h φ(h)]/√v: the same split rule, φ(h)·h is kinked where φ is
  const zphi: Piecewise = { f: (h) => (h * p.f(h)) / s, breaks: p.breaks, smooth: p.smooth };
  const mu1 = expect(zphi, 0, v);
  const sq: Piecewise = { f: (h) => p.f(h) ** 2, breaks: p.breaks, smooth: p.smooth };
  return { mu0, mu1, second: expect(sq, 0, v) };
}

export function gaussianEquivalence(p: Piecewise, variance = 1): GaussianEquivalence {
  if (!(variance > 0) || !Number.isFinite(variance)) throw new RangeError(`the variance of the projection must be positive and finite, got ${variance}`);
  // the values at twice the default resolution; their change from the default one bounds their error
  const a = atResolution(2, () => constants(p, variance));
  const b = constants(p, variance);
  const star = (c: typeof a) => Math.sqrt(Math.max(0, c.second - c.mu0 ** 2 - c.mu1 ** 2));
  const muStar = star(a);
  return {
    variance, mu0: a.mu0, mu1: a.mu1, muStar, second: a.second,
    error: { mu0: Math.abs(a.mu0 - b.mu0), mu1: Math.abs(a.mu1 - b.mu1), muStar: Math.abs(muStar - star(b)) },
  };
}
