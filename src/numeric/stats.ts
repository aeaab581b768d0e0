// Small statistics for theory-vs-simulation comparisons: Student-t tails, so
// that standard errors estimated from a handful of seeds get honest critical
// values (a z threshold would reject far too often at 4 seeds).
import { erf } from './special.ts';

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
  let lo = -1e6, hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentCdf(mid, nu) < p) lo = mid; else hi = mid;
  }
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
 * The mean of per-seed values y with control variates: per-seed values z[s] whose expectations are
 * exactly 0 (the seed's empirical moments of its random inputs minus their laws' moments). The
 * least-squares fit y = a + β·z gives a, an unbiased estimate of E y (up to O(1/n) from the fitted β)
 * whose variance is that of the part of y the controls do not explain. Controls with no spread are
 * dropped, and the controls are used only when every one of them leaves at least 4 seeds per degree
 * of freedom (n ≥ 5(m + 1)); otherwise the plain mean. `lost`: the degrees of freedom used by β.
 * The standard error is floored at 1e-13 of |a| (a value the controls explain exactly is known to rounding only).
 */
export function controlledMean(y: number[], z: number[][]): { mean: number; stderr: number; n: number; lost: number } {
  const n = y.length, plain = () => ({ ...meanStderr(y), lost: 0 });
  if (!z.length || z.length !== n) return plain();
  const m0 = z[0].length;
  const cols: number[] = [];
  for (let j = 0; j < m0; j++) {
    let mu = 0; for (const r of z) mu += r[j]; mu /= n;
    let v = 0; for (const r of z) v += (r[j] - mu) ** 2;
    if (v > 0 && Number.isFinite(v)) cols.push(j);
  }
  const m = cols.length;
  if (m === 0 || n < 5 * (m + 1)) return plain();
  // normal equations of [1, z_cols] (m + 1 unknowns), solved by Gaussian elimination with pivoting
  const k = m + 1, A = new Float64Array(k * k), b = new Float64Array(k);
  const row = new Float64Array(k);
  for (let s = 0; s < n; s++) {
    row[0] = 1; for (let j = 0; j < m; j++) row[j + 1] = z[s][cols[j]];
    for (let a = 0; a < k; a++) { b[a] += row[a] * y[s]; for (let c = 0; c < k; c++) A[a * k + c] += row[a] * row[c]; }
  }
  const inv = invertSpd(A, k);
  if (!inv) return plain();
  const beta = new Float64Array(k);
  for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) beta[a] += inv[a * k + c] * b[c];
  let rss = 0;
  for (let s = 0; s < n; s++) {
    let f = beta[0];
    for (let j = 0; j < m; j++) f += beta[j + 1] * z[s][cols[j]];
    rss += (y[s] - f) ** 2;
  }
  const sigma2 = rss / (n - k);
  const se = Math.sqrt(Math.max(0, sigma2 * inv[0]));
  if (!Number.isFinite(beta[0]) || !Number.isFinite(se)) return plain();
  return { mean: beta[0], stderr: Math.max(se, 1e-13 * Math.abs(beta[0])), n, lost: m };
}

/** inverse of a small symmetric positive definite matrix (Gauss–Jordan with pivoting); undefined when singular */
function invertSpd(a: Float64Array, k: number): Float64Array | undefined {
  const W = 2 * k, w = new Float64Array(k * W);
  for (let i = 0; i < k; i++) { for (let j = 0; j < k; j++) w[i * W + j] = a[i * k + j]; w[i * W + k + i] = 1; }
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(a[i * k + i]));
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let i = c + 1; i < k; i++) if (Math.abs(w[i * W + c]) > Math.abs(w[piv * W + c])) piv = i;
    const d = w[piv * W + c];
    if (!(Math.abs(d) > 1e-12 * scale)) return undefined;
    if (piv !== c) for (let j = 0; j < W; j++) { const t = w[c * W + j]; w[c * W + j] = w[piv * W + j]; w[piv * W + j] = t; }
    for (let j = 0; j < W; j++) w[c * W + j] /= d;
    for (let i = 0; i < k; i++) {
      if (i === c) continue;
      const f = w[i * W + c];
      if (f !== 0) for (let j = 0; j < W; j++) w[i * W + j] -= f * w[c * W + j];
    }
  }
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] = w[i * W + k + j];
  return out;
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
