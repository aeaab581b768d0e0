// The polynomial root finder of src/numeric/polynomial.ts against known roots.
import { describe, expect, it } from 'vitest';
import { polyRoots, polyValue, type Cx } from '../../src/numeric/polynomial.ts';

const fromRoots = (rs: Cx[]): Cx[] => {
  let c: Cx[] = [[1, 0]];
  for (const r of rs) {
    const next: Cx[] = Array.from({ length: c.length + 1 }, () => [0, 0] as Cx);
    c.forEach((a, k) => {
      next[k + 1] = [next[k + 1][0] + a[0], next[k + 1][1] + a[1]];
      next[k] = [next[k][0] - (a[0] * r[0] - a[1] * r[1]), next[k][1] - (a[0] * r[1] + a[1] * r[0])];
    });
    c = next;
  }
  return c;
};
const close = (got: Cx[], want: Cx[], tol: number) => {
  for (const w of want) expect(Math.min(...got.map((g) => Math.hypot(g[0] - w[0], g[1] - w[1])))).toBeLessThan(tol);
};

describe('polyRoots', () => {
  it('solves quadratics without cancellation (roots 1e8 and 1e-8)', () => {
    close(polyRoots(fromRoots([[1e8, 0], [1e-8, 0]])), [[1e8, 0], [1e-8, 0]], 1e-20 + 1e-8 * 1e-7);
    expect(Math.abs(polyRoots(fromRoots([[1e8, 0], [1e-8, 0]])).map((r) => r[0]).sort((a, b) => a - b)[0] - 1e-8)).toBeLessThan(1e-22);
  });
  it('finds complex roots of cubics and quartics to 1e-12', () => {
    const rs: Cx[] = [[1, 2], [-0.5, 0.25], [3, -1], [0.1, 0]];
    close(polyRoots(fromRoots(rs.slice(0, 3))), rs.slice(0, 3), 1e-12);
    close(polyRoots(fromRoots(rs)), rs, 1e-12);
  });
  it('gives roots at which the polynomial vanishes', () => {
    const c: Cx[] = [[1, 0], [0, 1], [2, -1], [0.5, 0], [1, 1]];
    for (const r of polyRoots(c)) { const v = polyValue(c, r); expect(Math.hypot(v[0], v[1])).toBeLessThan(1e-12); }
  });
});
