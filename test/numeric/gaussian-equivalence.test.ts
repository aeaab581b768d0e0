// Gaussian-equivalence constants (src/numeric/gaussian-equivalence.ts) against
// closed forms (relu, sign, erf, abs, a Gaussian bump), against Stein's
// identity (tanh: μ1 = √v (1 − E tanh²)), and against adaptive quadrature by
// scipy (bench/gaussian_equivalence_reference.py).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gaussianEquivalence } from '../../src/numeric/gaussian-equivalence.ts';
import { piecewiseOf } from '../../src/numeric/kinks.ts';
import { parseExpr } from '../../src/model/parse.ts';

const ge = (phi: string, v = 1) => gaussianEquivalence(piecewiseOf(parseExpr(phi), 'x'), v);
const PI = Math.PI;

describe('closed forms', () => {
  for (const v of [1, 0.5, 2]) {
    const s = Math.sqrt(v);
    it(`relu, v = ${v}`, () => {
      const c = ge('relu(x)', v);
      expect(c.mu0).toBeCloseTo(s / Math.sqrt(2 * PI), 12);
      expect(c.mu1).toBeCloseTo(s / 2, 12);
      expect(c.muStar).toBeCloseTo(s * Math.sqrt(1 / 2 - 1 / 4 - 1 / (2 * PI)), 12);
    });
    it(`sign, v = ${v} (a jump: μ1 = √(2/π) whatever v)`, () => {
      const c = ge('sign(x)', v);
      expect(Math.abs(c.mu0)).toBeLessThan(1e-13);
      expect(c.mu1).toBeCloseTo(Math.sqrt(2 / PI), 12);
      expect(c.muStar).toBeCloseTo(Math.sqrt(1 - 2 / PI), 12);
    });
    it(`erf, v = ${v}`, () => {
      const c = ge('erf(x)', v);
      expect(Math.abs(c.mu0)).toBeLessThan(1e-13);
      // E[z erf(√v z)] = 2√v/√(π(1 + 2v)); E erf² = (2/π) arcsin(2v/(1 + 2v))
      expect(c.mu1).toBeCloseTo((2 * s) / Math.sqrt(PI * (1 + 2 * v)), 12);
      expect(c.second).toBeCloseTo((2 / PI) * Math.asin((2 * v) / (1 + 2 * v)), 12);
    });
    it(`abs and a Gaussian bump, v = ${v}`, () => {
      const a = ge('abs(x)', v);
      expect(a.mu0).toBeCloseTo(s * Math.sqrt(2 / PI), 12);
      expect(Math.abs(a.mu1)).toBeLessThan(1e-13);
      expect(a.muStar).toBeCloseTo(s * Math.sqrt(1 - 2 / PI), 12);
      const g = ge('exp(-x^2)', v);
      expect(g.mu0).toBeCloseTo(1 / Math.sqrt(1 + 2 * v), 12);
      expect(g.second).toBeCloseTo(1 / Math.sqrt(1 + 4 * v), 12);
    });
  }
  it('tanh: Stein\'s identity μ1 = √v (1 − E tanh²)', () => {
    for (const v of [0.3, 1, 4]) {
      const c = ge('tanh(x)', v);
      expect(c.mu1).toBeCloseTo(Math.sqrt(v) * (1 - c.second), 12);
      expect(Math.abs(c.mu0)).toBeLessThan(1e-13);
    }
  });
  it('an affine φ has μ* = 0', () => {
    const c = ge('2*x + 1', 0.7);
    expect(c.mu0).toBeCloseTo(1, 13);
    expect(c.mu1).toBeCloseTo(2 * Math.sqrt(0.7), 12);
    expect(c.muStar).toBeLessThan(1e-6);
  });
});

describe('against adaptive quadrature (scipy)', () => {
  const ref = JSON.parse(readFileSync('bench/references/gaussian_equivalence.json', 'utf8')) as { phi: string; variance: number; mu0: number; mu1: number; second: number }[];
  it('has the reference rows', () => { expect(ref.length).toBe(21); });
  for (const r of ref) {
    it(`${r.phi}, v = ${r.variance}`, () => {
      const c = ge(r.phi, r.variance);
      expect(Math.abs(c.mu0 - r.mu0)).toBeLessThan(1e-10);
      expect(Math.abs(c.mu1 - r.mu1)).toBeLessThan(1e-10);
      expect(Math.abs(c.second - r.second)).toBeLessThan(1e-10);
      // the reported quadrature error is small and honest
      expect(c.error.mu0).toBeLessThan(1e-9);
    });
  }
});

describe('bad input', () => {
  it('a non-positive variance is refused', () => {
    expect(() => ge('tanh(x)', 0)).toThrow(/positive/);
    expect(() => ge('tanh(x)', NaN)).toThrow(/positive/);
  });
});
