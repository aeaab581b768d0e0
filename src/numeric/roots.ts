// Root finding on a bracket.

/**
 * Bisection of [lo, hi] for the point where `low` stops holding: `low(x)` says
 * x lies on lo's side. Halves until `done(lo, hi)` or `maxIt` halvings and
 * returns the last bracket.
 */
export function bisect(low: (x: number) => boolean, lo: number, hi: number, done: (lo: number, hi: number) => boolean, maxIt: number): [number, number] {
  for (let it = 0; it < maxIt && !done(lo, hi); it++) {
    const mid = (lo + hi) / 2;
    if (low(mid)) lo = mid; else hi = mid;
  }
  return [lo, hi];
}

/** A sign change of f on [lo, hi] (f(lo) = flo ≠ 0) bisected: `low` for `bisect`, moving flo along. */
export function sameSignAsLow(f: (x: number) => number, flo: number): (x: number) => boolean {
  return (x) => { const fx = f(x); if (fx * flo > 0) { flo = fx; return true; } return false; };
}

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
