// Small dense linear algebra: linear systems by Gaussian elimination with
// partial pivoting (real and complex) and inverses by Gauss–Jordan (real and
// complex, with the determinant), for the solvers' Newton steps and
// their per-frequency and per-column systems — a handful of unknowns, solved
// many times, so the matrices are flat row-major arrays overwritten in place;
// and a Cholesky factor grown row by row with projection onto the positive
// semi-definite cone (covariances estimated from paths, Monte Carlo).

/**
 * Solve A x = b for A n×n (flat, row-major), overwriting A with its
 * elimination and b with x. False when a pivot is not above `pivotTol` in
 * modulus (singular, or too close to it to trust).
 */
export function luSolveInPlace(A: Float64Array, b: Float64Array, n: number, pivotTol = 0): boolean {
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[piv * n + c])) piv = r;
    if (!(Math.abs(A[piv * n + c]) > pivotTol)) return false;
    if (piv !== c) {
      for (let j = 0; j < n; j++) { const t = A[c * n + j]; A[c * n + j] = A[piv * n + j]; A[piv * n + j] = t; }
      const t = b[c]; b[c] = b[piv]; b[piv] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / A[c * n + c];
      if (f === 0) continue;
      for (let j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let x = b[r];
    for (let j = r + 1; j < n; j++) x -= A[r * n + j] * b[j];
    b[r] = x / A[r * n + r];
  }
  return true;
}

/** Solve A x = b (A as rows, not modified); undefined if singular (a pivot not above pivotTol). */
export function solveDense(A: number[][], b: number[], pivotTol = 0): number[] | undefined {
  const n = b.length;
  const M = new Float64Array(n * n), x = Float64Array.from(b);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i * n + j] = A[i][j];
  return luSolveInPlace(M, x, n, pivotTol) ? Array.from(x) : undefined;
}

/** Solve the complex system (Ar + i Ai) x = (br + i bi) in place (x into br, bi); false if singular. */
export function complexSolveInPlace(n: number, Ar: Float64Array, Ai: Float64Array, br: Float64Array, bi: Float64Array): boolean {
  for (let k = 0; k < n; k++) {
    let piv = k, best = -1;
    for (let i = k; i < n; i++) { const m = Ar[i * n + k] ** 2 + Ai[i * n + k] ** 2; if (m > best) { best = m; piv = i; } }
    if (!(best > 0)) return false;
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        let t = Ar[k * n + j]; Ar[k * n + j] = Ar[piv * n + j]; Ar[piv * n + j] = t;
        t = Ai[k * n + j]; Ai[k * n + j] = Ai[piv * n + j]; Ai[piv * n + j] = t;
      }
      let t = br[k]; br[k] = br[piv]; br[piv] = t;
      t = bi[k]; bi[k] = bi[piv]; bi[piv] = t;
    }
    const pr = Ar[k * n + k], pi = Ai[k * n + k], pm = pr * pr + pi * pi;
    for (let i = k + 1; i < n; i++) {
      // factor = A[i][k] / A[k][k]
      const ar = Ar[i * n + k], ai = Ai[i * n + k];
      const fr = (ar * pr + ai * pi) / pm, fi = (ai * pr - ar * pi) / pm;
      for (let j = k; j < n; j++) {
        const xr = Ar[k * n + j], xi = Ai[k * n + j];
        Ar[i * n + j] -= fr * xr - fi * xi;
        Ai[i * n + j] -= fr * xi + fi * xr;
      }
      const yr = br[k], yi = bi[k];
      br[i] -= fr * yr - fi * yi;
      bi[i] -= fr * yi + fi * yr;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let sr = br[i], si = bi[i];
    for (let j = i + 1; j < n; j++) {
      sr -= Ar[i * n + j] * br[j] - Ai[i * n + j] * bi[j];
      si -= Ar[i * n + j] * bi[j] + Ai[i * n + j] * br[j];
    }
    const pr = Ar[i * n + i], pi = Ai[i * n + i], pm = pr * pr + pi * pi;
    br[i] = (sr * pr + si * pi) / pm;
    bi[i] = (si * pr - sr * pi) / pm;
  }
  return true;
}

/**
 * A⁻¹ of an n×n real matrix (flat, row-major; not modified) into `out`, by
 * Gauss–Jordan with partial pivoting on [A | I]. False when a pivot is not
 * above `pivotTol` in modulus. Hot loops pass `work` (2n² numbers) to avoid
 * allocating.
 */
export function invertInto(A: Float64Array, n: number, out: Float64Array, pivotTol = 0, work: Float64Array = new Float64Array(2 * n * n)): boolean {
  const W = 2 * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < W; j++) work[i * W + j] = j < n ? A[i * n + j] : j - n === i ? 1 : 0;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(work[r * W + c]) > Math.abs(work[piv * W + c])) piv = r;
    const d = work[piv * W + c];
    if (!(Math.abs(d) > pivotTol)) return false;
    if (piv !== c) for (let j = 0; j < W; j++) { const t = work[c * W + j]; work[c * W + j] = work[piv * W + j]; work[piv * W + j] = t; }
    for (let j = 0; j < W; j++) work[c * W + j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = work[r * W + c];
      if (f !== 0) for (let j = 0; j < W; j++) work[r * W + j] -= f * work[c * W + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = work[i * W + n + j];
  return true;
}

/** A⁻¹ (flat, row-major; A not modified), undefined when a pivot is not above `pivotTol` in modulus. */
export function inverse(A: Float64Array, n: number, pivotTol = 0): Float64Array | undefined {
  const out = new Float64Array(n * n);
  return invertInto(A, n, out, pivotTol) ? out : undefined;
}

/**
 * Complex Gauss–Jordan with partial pivoting on [A | B], A n×n and B n×m
 * (real and imaginary parts flat, row-major, all overwritten): B becomes
 * A⁻¹B. Returns det A, or undefined when A is singular (a zero or non-finite
 * pivot).
 */
export function complexGaussJordanInPlace(n: number, Ar: Float64Array, Ai: Float64Array, m: number, Br: Float64Array, Bi: Float64Array): { detRe: number; detIm: number } | undefined {
  let dr = 1, di = 0;
  for (let k = 0; k < n; k++) {
    let piv = k, best = -1;
    for (let i = k; i < n; i++) { const x = Ar[i * n + k] ** 2 + Ai[i * n + k] ** 2; if (x > best) { best = x; piv = i; } }
    if (!(best > 0) || !Number.isFinite(best)) return undefined;
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        let t = Ar[k * n + j]; Ar[k * n + j] = Ar[piv * n + j]; Ar[piv * n + j] = t;
        t = Ai[k * n + j]; Ai[k * n + j] = Ai[piv * n + j]; Ai[piv * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        let t = Br[k * m + j]; Br[k * m + j] = Br[piv * m + j]; Br[piv * m + j] = t;
        t = Bi[k * m + j]; Bi[k * m + j] = Bi[piv * m + j]; Bi[piv * m + j] = t;
      }
      dr = -dr; di = -di;
    }
    const pr = Ar[k * n + k], pi = Ai[k * n + k];
    const t = dr * pr - di * pi; di = dr * pi + di * pr; dr = t;
    // the pivot row times 1/pivot, then the pivot column cleared in every other row
    const pm = pr * pr + pi * pi, qr = pr / pm, qi = -pi / pm;
    scaleRow(Ar, Ai, n, k, qr, qi);
    scaleRow(Br, Bi, m, k, qr, qi);
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const fr = Ar[i * n + k], fi = Ai[i * n + k];
      if (fr === 0 && fi === 0) continue;
      subtractRow(Ar, Ai, n, i, k, fr, fi);
      subtractRow(Br, Bi, m, i, k, fr, fi);
    }
  }
  return { detRe: dr, detIm: di };
}

/** row k of a complex n-column matrix times q */
function scaleRow(Mr: Float64Array, Mi: Float64Array, n: number, k: number, qr: number, qi: number): void {
  for (let j = 0; j < n; j++) { const xr = Mr[k * n + j], xi = Mi[k * n + j]; Mr[k * n + j] = xr * qr - xi * qi; Mi[k * n + j] = xr * qi + xi * qr; }
}

/** row i −= f · row k, of a complex n-column matrix */
function subtractRow(Mr: Float64Array, Mi: Float64Array, n: number, i: number, k: number, fr: number, fi: number): void {
  for (let j = 0; j < n; j++) { const xr = Mr[k * n + j], xi = Mi[k * n + j]; Mr[i * n + j] -= fr * xr - fi * xi; Mi[i * n + j] -= fr * xi + fi * xr; }
}

/** A⁻¹ and det A of an n×n complex matrix (A not modified); undefined when singular. */
export function complexInverse(n: number, re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array; detRe: number; detIm: number } | undefined {
  const ar = re.slice(), ai = im.slice(), ir = new Float64Array(n * n), ii = new Float64Array(n * n);
  for (let i = 0; i < n; i++) ir[i * n + i] = 1;
  const det = complexGaussJordanInPlace(n, ar, ai, n, ir, ii);
  return det && { re: ir, im: ii, ...det };
}

/**
 * Extend a lower-triangular factor L (L Lᵀ = S) by row k, given S(k, 0…k) in
 * `row`. The covariances are Gram matrices of the paths, positive
 * semi-definite; a relative jitter keeps every pivot ≥ √(jitter·scale) so that
 * near-singular kernels of smooth fields (the next value almost determined by
 * the past) do not amplify rounding. Returns how far the row falls outside the
 * positive semi-definite cone (0 for a valid covariance), relative to S(k,k).
 */
export function choleskyRow(L: Float64Array, n: number, k: number, row: Float64Array, jitter: number): number {
  const rk = k * n;
  for (let l = 0; l < k; l++) {
    const rl = l * n;
    let s = row[l];
    for (let m = 0; m < l; m++) s -= L[rk + m] * L[rl + m];
    L[rk + l] = s / L[rl + l];
  }
  let d = row[k];
  for (let m = 0; m < k; m++) d -= L[rk + m] * L[rk + m];
  const floor = jitter * Math.max(Math.abs(row[k]), 1e-300);
  L[rk + k] = Math.sqrt(Math.max(d, 0) + floor);
  return d < 0 ? -d / Math.max(Math.abs(row[k]), 1e-300) : 0;
}

/**
 * Lower Cholesky factor of a covariance that may be singular (a variable
 * fully determined by others, a perfect correlation): a pivot below 1e-14 of
 * its diagonal entry is taken as 0 and its column as 0, so L·Lᵀ reproduces
 * the covariance on its range. Used to draw correlated Gaussian variables for
 * the observables' quadratures.
 */
export function choleskySemidefinite(c: number[][]): number[][] {
  const d = c.length;
  const L = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let j = 0; j < d; j++) {
    let s = c[j][j];
    for (let k = 0; k < j; k++) s -= L[j][k] * L[j][k];
    const ljj = s > 1e-14 * (Math.abs(c[j][j]) + 1e-300) ? Math.sqrt(s) : 0;
    L[j][j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = c[i][j];
      for (let k = 0; k < j; k++) t -= L[i][k] * L[j][k];
      L[i][j] = ljj > 0 ? t / ljj : 0;
    }
  }
  return L;
}
