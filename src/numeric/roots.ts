// Root finding on a bracket.

/** Brent's root finder on [a, b] with f(a)·f(b) < 0. */
export function brent(f: (x: number) => number, a: number, b: number, fa: number, fb: number, xtol: number): { x: number; evals: number } {
  let c = a, fc = fa, d = b - a, e = d, evals = 0;
  for (let it = 0; it < 200; it++) {
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) { c = a; fc = fa; d = b - a; e = d; }
    if (Math.abs(fc) < Math.abs(fb)) { a = b; b = c; c = a; fa = fb; fb = fc; fc = fa; }
    const tol = 2 * Number.EPSILON * Math.abs(b) + xtol / 2;
    const mm = (c - b) / 2;
    if (Math.abs(mm) <= tol || fb === 0) return { x: b, evals };
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      let p: number, q: number;
      const s = fb / fa;
      if (a === c) { p = 2 * mm * s; q = 1 - s; }
      else {
        const qq = fa / fc, r = fb / fc;
        p = s * (2 * mm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q; else p = -p;
      if (2 * p < Math.min(3 * mm * q - Math.abs(tol * q), Math.abs(e * q))) { e = d; d = p / q; }
      else { d = mm; e = d; }
    } else { d = mm; e = d; }
    a = b; fa = fb;
    b += Math.abs(d) > tol ? d : mm > 0 ? tol : -tol;
    fb = f(b); evals++;
  }
  return { x: b, evals };
}
