// The one small dense linear algebra: LU solves and Gauss–Jordan inverses, real and complex.
import { describe, expect, it } from 'vitest';
import { complexGaussJordanInPlace, complexInverse, complexSolveInPlace, inverse, invertInto, solveDense } from '../../src/numeric/linalg.ts';
import { Rng } from '../../src/numeric/rng.ts';

const random = (n: number, seed: number): Float64Array => {
  const r = new Rng(seed);
  return Float64Array.from({ length: n * n }, () => r.normal());
};

describe('real inverse (Gauss–Jordan)', () => {
  it('A·A⁻¹ = I, and A⁻¹b agrees with the LU solve', () => {
    const n = 6, A = random(n, 1), inv = inverse(A, n)!;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * inv[k * n + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    const b = [1, -2, 0.5, 3, 0, 1];
    const x = solveDense(Array.from({ length: n }, (_, i) => Array.from(A.subarray(i * n, (i + 1) * n))), b)!;
    for (let i = 0; i < n; i++) expect(inv.subarray(i * n, (i + 1) * n).reduce((s, v, k) => s + v * b[k], 0)).toBeCloseTo(x[i], 12);
  });
  it('a singular matrix, or a pivot below the tolerance, has none', () => {
    expect(inverse(Float64Array.from([1, 2, 2, 4]), 2)).toBeUndefined();
    expect(inverse(Float64Array.from([1e-13, 0, 0, 1]), 2, 1e-12)).toBeUndefined();
    expect(inverse(Float64Array.from([1e-13, 0, 0, 1]), 2)![0]).toBeCloseTo(1e13, 0);
    const out = new Float64Array(4);
    expect(invertInto(Float64Array.from([0, 2, 4, 0]), 2, out)).toBe(true);
    expect(Array.from(out)).toEqual([0, 0.25, 0.5, 0]);
  });
});

describe('complex Gauss–Jordan', () => {
  const n = 4, Ar = random(n, 2), Ai = random(n, 3);
  it('inverse: A·A⁻¹ = I; determinant of a triangular matrix is the product of its diagonal', () => {
    const c = complexInverse(n, Ar, Ai)!;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let re = 0, im = 0;
      for (let k = 0; k < n; k++) { re += Ar[i * n + k] * c.re[k * n + j] - Ai[i * n + k] * c.im[k * n + j]; im += Ar[i * n + k] * c.im[k * n + j] + Ai[i * n + k] * c.re[k * n + j]; }
      expect(re).toBeCloseTo(i === j ? 1 : 0, 12);
      expect(im).toBeCloseTo(0, 12);
    }
    // (1 + i)·2i·(3 − i) = (−2 + 2i)(3 − i) = −4 + 8i
    const T = complexInverse(3, Float64Array.from([1, 5, 7, 0, 0, 3, 0, 0, 3]), Float64Array.from([1, 2, 0, 0, 2, 0, 0, 0, -1]))!;
    expect(T.detRe).toBeCloseTo(-4, 12);
    expect(T.detIm).toBeCloseTo(8, 12);
    const P = complexInverse(2, Float64Array.from([0, 1, 1, 0]), new Float64Array(4))!;
    // a row swap flips the sign
    expect(P.detRe).toBe(-1);
    expect(P.detIm).toBeCloseTo(0, 15);
  });
  it('A⁻¹B for several columns agrees with the LU solve of each column; singular A is refused', () => {
    const m = 3, Br = random(n, 4).slice(0, n * m), Bi = random(n, 5).slice(0, n * m);
    const xr = Br.slice(), xi = Bi.slice();
    expect(complexGaussJordanInPlace(n, Ar.slice(), Ai.slice(), m, xr, xi)).toBeDefined();
    for (let j = 0; j < m; j++) {
      const br = Float64Array.from({ length: n }, (_, i) => Br[i * m + j]), bi = Float64Array.from({ length: n }, (_, i) => Bi[i * m + j]);
      expect(complexSolveInPlace(n, Ar.slice(), Ai.slice(), br, bi)).toBe(true);
      for (let i = 0; i < n; i++) { expect(xr[i * m + j]).toBeCloseTo(br[i], 12); expect(xi[i * m + j]).toBeCloseTo(bi[i], 12); }
    }
    expect(complexInverse(2, Float64Array.from([1, 2, 2, 4]), Float64Array.from([1, 1, 2, 2]))).toBeUndefined();
  });
});
