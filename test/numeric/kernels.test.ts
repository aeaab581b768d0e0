// The small numeric kernels of src/numeric against closed forms.
import { describe, expect, it } from 'vitest';
import { richardson } from '../../src/numeric/extrapolate.ts';
import { bisect, brent, sameSignAsLow } from '../../src/numeric/roots.ts';

describe('richardson', () => {
  it('removes the h and h² terms of a first-order method exactly', () => {
    const f = (h: number) => 2 + 3 * h - 5 * h * h;
    const r = richardson([f(0.1), f(0.05), f(0.025)], 1);
    expect(r.value).toBeCloseTo(2, 13);
    // the error estimate is the change from the linear extrapolation
    expect(r.error).toBeCloseTo(Math.abs(2 - (2 * f(0.025) - f(0.05))), 13);
  });
  it('one level: the value, error unknown', () => {
    const r = richardson([1.5], 2);
    expect(r.value).toBe(1.5);
    expect(Number.isNaN(r.error)).toBe(true);
  });
});

describe('brent', () => {
  it('finds √2 and cos x = x to the tolerance', () => {
    const g = (x: number) => x * x - 2;
    expect(Math.abs(brent(g, 0, 2, g(0), g(2), 1e-14).x - Math.SQRT2)).toBeLessThan(1e-13);
    const h = (x: number) => Math.cos(x) - x;
    const r = brent(h, 0, 1, h(0), h(1), 1e-14);
    expect(Math.abs(r.x - 0.7390851332151607)).toBeLessThan(1e-13);
    expect(r.evals).toBeLessThan(20);
  });
});

describe('bisect', () => {
  it('brackets √2 to the width asked, and stops at maxIt halvings', () => {
    const [lo, hi] = bisect((x) => x * x < 2, 0, 2, (a, b) => b - a <= 1e-12, 100);
    expect(lo).toBeLessThan(Math.SQRT2);
    expect(hi).toBeGreaterThanOrEqual(Math.SQRT2);
    expect(hi - lo).toBeLessThanOrEqual(1e-12);
    const [a, b] = bisect((x) => x < 0.3, 0, 1, () => false, 3);
    expect([a, b]).toEqual([0.25, 0.375]);
  });
  it('a sign change of a function, from either sign at the low end', () => {
    const f = (x: number) => Math.cos(x) - x;
    const [lo, hi] = bisect(sameSignAsLow(f, f(0)), 0, 1, (a, b) => b - a <= 1e-14, 200);
    expect(Math.abs((lo + hi) / 2 - 0.7390851332151607)).toBeLessThan(1e-13);
    const g = (x: number) => x - Math.cos(x);
    const [l2, h2] = bisect(sameSignAsLow(g, g(0)), 0, 1, (a, b) => b - a <= 1e-14, 200);
    expect(Math.abs((l2 + h2) / 2 - 0.7390851332151607)).toBeLessThan(1e-13);
  });
});
