// Small statistics for theory-vs-simulation comparisons: Student-t tails, so
// that standard errors estimated from a handful of seeds get honest critical
// values (a z threshold would reject far too often at 4 seeds).
import { erf } from './special.ts';
import { bisect } from './roots.ts';

function logGamma(x: number): number {
  // Lanczos approximation, g = 607/128 with 14 terms (Numerical Recipes, 3rd
  // ed., gammln): |error| < 1e-14 relative for x > 0. (The common g = 7, 9-term
  // table is only good to ~1e-8 here.)
  const c = [57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4,
    0.465236289270485756e-4, -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3, 0.217439618115212643e-3,
    -0.164318106536763890e-3, 0.844182239838527433e-4, -0.261908384015814087e-4, 0.368991826595316234e-5];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  let y = x, tmp = x + 5.2421875;
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.999999999999997092;
  for (const cj of c) ser += cj / ++y;
  return tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
export function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  return x < (a + 1) / (a + b + 2) ? Math.exp(lbt) * betacf(a, b, x) / a : 1 - Math.exp(lbt) * betacf(b, a, 1 - x) / b;
}

/** P(T ≤ t) for Student's t with ν degrees of freedom (ν = ∞: normal). */
export function studentCdf(t: number, nu: number): number {
  if (!Number.isFinite(nu)) return 0.5 * (1 + erf(t / Math.SQRT2));
  const tail = 0.5 * betaInc(nu / (nu + t * t), nu / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with ν degrees of freedom (bisection, 1e-12). */
export function studentQuantile(p: number, nu: number): number {
  const [lo, hi] = bisect((t) => studentCdf(t, nu) < p, -1e6, 1e6, (a, b) => !(b - a > 1e-12 * Math.max(1, Math.abs(b))), 200);
  return (lo + hi) / 2;
}

/** Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (!Number.isFinite(x)) return 1;
  const lg = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a, del = sum;
    for (let n = 1; n < 500; n++) { del *= x / (a + n); sum += del; if (Math.abs(del) < Math.abs(sum) * 1e-15) break; }
    return sum * Math.exp(-x + a * Math.log(x) - lg);
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b; if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return 1 - Math.exp(-x + a * Math.log(x) - lg) * h;
}

/** P(X ≤ x) for a chi-square variable with k degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  return gammaP(k / 2, x / 2);
}

/** Mean and standard error of the mean of a sample (NaN error below two values). */
export function meanStderr(xs: number[]): { mean: number; stderr: number; n: number } {
  const n = xs.length;
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  if (n < 2) return { mean: m, stderr: NaN, n };
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return { mean: m, stderr: Math.sqrt(v / (n - 1) / n), n };
}

/**
 * The mean of samples y₁ … yₙ with control variates: each sample i comes
 * with controls c_i (a p-vector) whose expectation is exactly 0. The
 * least-squares fit y = m + βᵀc (over the samples) gives the mean at the
 * controls' expectation, m̂ = ȳ − β̂ᵀc̄, unbiased for E y whatever the
 * dependence of y on c, with the regression's standard error of the
 * intercept, √(RSS/(n − p − 1) · (1/n + c̄ᵀ S⁻¹ c̄)) (S: the centred
 * controls' cross-product matrix), on n − p − 1 degrees of freedom. The part
 * of y's spread that is linear in the controls is removed.
 *
 * The fit is set up once per set of controls (`controlFit(C)`, C[i] = c_i)
 * and applied to any number of sample vectors. Controls that are constant or
 * linear combinations of earlier ones are dropped (Gram–Schmidt on the
 * centred controls, tolerance 1e-9 of each column's norm) — a choice made on
 * the controls alone, never on y, so the error bar stays honest.
 */
export function controlFit(C: number[][]): { p: number; estimate(y: number[]): { mean: number; stderr: number; dof: number } } {
  const n = C.length, P = n ? C[0].length : 0;
  const cbar = Array.from({ length: P }, (_, k) => C.reduce((s, c) => s + c[k], 0) / Math.max(n, 1));
  // orthonormal basis Q of the kept centred columns, X_kept = Q R
  const Q: Float64Array[] = [], Rcols: number[][] = [], kept: number[] = [];
  for (let k = 0; k < P; k++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = C[i][k] - cbar[k];
    const norm0 = Math.hypot(...v);
    if (!(norm0 > 0) || Q.length + 2 >= n) continue;
    const r = new Array<number>(Q.length).fill(0);
    for (let pass = 0; pass < 2; pass++) {
      Q.forEach((q, j) => { let d = 0; for (let i = 0; i < n; i++) d += q[i] * v[i]; r[j] += d; for (let i = 0; i < n; i++) v[i] -= d * q[i]; });
    }
    const norm = Math.hypot(...v);
    if (!(norm > 1e-9 * norm0)) continue;
    for (let i = 0; i < n; i++) v[i] /= norm;
    Q.push(v); Rcols.push([...r, norm]); kept.push(k);
  }
  const p = Q.length;
  // u = R⁻ᵀ c̄ (forward substitution; R upper triangular, column j = Rcols[j])
  const u = new Array<number>(p).fill(0);
  for (let j = 0; j < p; j++) {
    let s = cbar[kept[j]];
    for (let l = 0; l < j; l++) s -= Rcols[j][l] * u[l];
    u[j] = s / Rcols[j][j];
  }
  const u2 = u.reduce((s, x) => s + x * x, 0);
  return {
    p,
    estimate(y: number[]) {
      const plain = meanStderr(y);
      if (!p) return { mean: plain.mean, stderr: plain.stderr, dof: n - 1 };
      const a = Q.map((q) => { let d = 0; for (let i = 0; i < n; i++) d += q[i] * y[i]; return d; });
      let ss = 0;
      for (const x of y) ss += (x - plain.mean) ** 2;
      const rss = Math.max(0, ss - a.reduce((s, x) => s + x * x, 0));
      const dof = n - p - 1;
      return { mean: plain.mean - a.reduce((s, x, j) => s + x * u[j], 0), stderr: Math.sqrt((rss / dof) * (1 / n + u2)), dof };
    },
  };
}

/** Welch–Satterthwaite degrees of freedom of a sum of independent variance
 *  terms, each `[variance, dof]` (dof = ∞ for a known variance). */
export function welchDof(terms: [number, number][]): number {
  let num = 0, den = 0;
  for (const [v, nu] of terms) { num += v; if (Number.isFinite(nu) && v > 0) den += (v * v) / Math.max(nu, 1); }
  if (!(num > 0)) {
    // every term is exactly zero: the smallest finite dof, as a floor
    const finite = terms.map((t) => t[1]).filter(Number.isFinite);
    return finite.length ? Math.max(1, Math.min(...finite)) : Infinity;
  }
  return den > 0 ? Math.max(1, (num * num) / den) : Infinity;
}

/** Inverse-variance weighted least squares of mean = a + b/N (means with standard errors at sizes N,
 *  errors floored at 1e-15): the N → ∞ intercept a and its standard error. */
export function fitInverseN(pts: { N: number; mean: number; se: number }[]): { a: number; se: number } {
  let S = 0, Sx = 0, Sxx = 0, Sy = 0, Sxy = 0;
  for (const p of pts) {
    const w = 1 / Math.max(p.se, 1e-15) ** 2, x = 1 / p.N;
    S += w; Sx += w * x; Sxx += w * x * x; Sy += w * p.mean; Sxy += w * x * p.mean;
  }
  const det = S * Sxx - Sx * Sx;
  return { a: (Sxx * Sy - Sx * Sxy) / det, se: Math.sqrt(Sxx / det) };
}
