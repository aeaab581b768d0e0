// The closure's quadrature helpers: Gaussian expectations of smooth functions
// (src/numeric/normal.ts, re-exported here), and error propagation through
// an observable built from several averages.
export * from '../numeric/normal.ts';

/** outer(averages) with the averages' quadrature errors carried through it. */
export function outerWithError(outer: (vals: number[]) => number, q: { v: number; e: number }[]): { v: number; e: number } {
  const vals = q.map((x) => x.v);
  const v = outer(vals);
  let e = 0;
  q.forEach((x, i) => {
    if (!(x.e > 0)) return;
    const w = vals.slice();
    w[i] = x.v + x.e; const up = outer(w);
    w[i] = x.v - x.e; const dn = outer(w);
    e += Math.max(Math.abs(up - v), Math.abs(dn - v));
  });
  return { v, e };
}
