// Expectations of smooth functions over normal laws: Gauss–Hermite
// (./rules.ts) for entire functions, a variance-scaled trapezoid rule for
// functions with singularities near the real axis, Mehler/Hermite
// coefficients. Kinked functions (relu, abs, sign, comparisons) go through
// ./gauss.ts, which splits at the kinks.
import { gaussHermite, L_WIDEST, normalTrapezoid, widenedTrapezoid } from './rules.ts';

export { gaussHermite };

// ---------------------------------------------------------------------------
// Robust rules for functions with complex singularities near the real axis.
//
// Gauss–Hermite converges slowly for f = tanh(m + σz) when σ ≳ 1 (the poles
// at x = ±iπ/2 sit at |Im z| = π/(2σ)): E tanh² at variance 4 is still off by
// 2e-5 with 80 nodes. The trapezoid rule in z on [−L, L] converges like
// exp(−2π d/δz) for f analytic in the strip |Im z| < d, so choosing the step
// from σ (δz = c/σ) makes the error independent of σ: with σ·δz = 0.45 the
// error for tanh-like f (strip π/2 in x) is ~1e-10, for entire f far smaller.

export interface ZRule {
  /** nodes z_i (standard normal variable) */
  z: Float64Array;
  /** weights (Σ w = 1) */
  w: Float64Array;
}

/** Trapezoid rule in z for E over N(0,1): nodes z = L·i/nHalf, i = −nHalf..nHalf (numeric/rules.ts). */
export function zRule(nHalf: number, L = 9): ZRule {
  const r = normalTrapezoid(nHalf, L);
  return { z: r.x, w: r.w };
}

/** x-space resolution of the robust rule: σ·δz (0.45 → ~1e-10 for tanh-like f). */
export const ROBUST_DX = 0.35;

/** The robust z-rule for a normal of standard deviation sigma. */
export function robustRule(sigma: number, dx = ROBUST_DX, L = 9): ZRule {
  // δz ≤ 0.7 resolves the Gaussian weight itself to ~1e-17
  const nHalf = Math.max(Math.ceil(L / 0.7), Math.ceil((L * Math.max(sigma, 1e-300)) / dx));
  return zRule(Math.min(nHalf, 20000), L);
}

/**
 * E f(X), X ~ N(mean, variance), by the robust trapezoid rule (see above).
 * `dx` is the x-space step σ·δz: smaller for functions with singularities
 * closer to the real axis. Kinked functions (relu, abs, sign, comparisons)
 * converge only like O(dx²) here: use src/numeric/gauss.ts, which splits at
 * the kinks.
 */
export function expectNormal(f: (x: number) => number, mean: number, variance: number, dx = ROBUST_DX): number {
  if (!(variance > 0)) return f(mean);
  const s = Math.sqrt(variance);
  const nHalf = Math.max(Math.ceil(9 / 0.7), Math.ceil((9 * s) / dx));
  return widenedTrapezoid((u) => f(mean + s * u), Math.min(nHalf, 20000), 9);
}

/**
 * E f(X1, X2) for a bivariate normal by the robust rule in both directions
 * (conditional decomposition X2 | X1). Cost grows like σ1·σ_{2|1}.
 */
export function expectNormal2(
  f: (x1: number, x2: number) => number,
  m1: number, m2: number, c11: number, c12: number, c22: number, dx = ROBUST_DX,
): number {
  const a = c11 > 0 ? Math.sqrt(c11) : 0;
  const b = a > 0 ? c12 / a : 0;
  const c = Math.sqrt(Math.max(0, c22 - b * b));
  const outer = a > 0 ? robustRule(a, dx) : { z: new Float64Array([0]), w: new Float64Array([1]) };
  const inner = c > 0 ? robustRule(c, dx) : { z: new Float64Array([0]), w: new Float64Array([1]) };
  let acc = 0, abs = 0, edge = 0;
  const no = outer.z.length, ni = inner.z.length;
  for (let i = 0; i < no; i++) {
    const wi = outer.w[i];
    if (wi < 1e-300) continue;
    const x1 = m1 + a * outer.z[i];
    const base = m2 + b * outer.z[i];
    let s = 0, sa = 0, se = 0;
    for (let j = 0; j < ni; j++) {
      const v = inner.w[j] * f(x1, base + c * inner.z[j]);
      s += v; sa += Math.abs(v);
      if (j === 0 || j === ni - 1) se += Math.abs(v);
    }
    acc += wi * s; abs += wi * sa;
    edge += wi * (i === 0 || i === no - 1 ? sa : se);
  }
  // the boundary of [−9, 9]² still carries weight (e^{aX} at large variance): widen
  if (!(edge > 1e-14 * abs)) return acc;
  const F = (x: Float64Array) => f(x[0], x[1]);
  return expectTensorTrapezoid([m1, m2], [[a, 0], [b, c]], Math.min(0.7, dx / Math.max(a, c, 1e-300)), F);
}

/**
 * Normalized Hermite coefficients of f(m + σz): a_k = E[f(m+σZ) He_k(Z)]/√k!,
 * k = 0..K, so that for a bivariate normal with correlation ρ (Mehler)
 *   E f(m1+σ1 Z1) g(m2+σ2 Z2) = Σ_k ρ^k a_k(f) a_k(g).
 * Also returns E f² (for the tail bound Σ_{j>k} a_j² = E f² − Σ_{j≤k} a_j²).
 */
export function hermiteCoeffs(f: (x: number) => number, m: number, sigma: number, K: number, dx = ROBUST_DX): { a: Float64Array; ef2: number } {
  const a = new Float64Array(K + 1);
  if (!(sigma > 0)) {
    const v = f(m);
    a[0] = v;
    return { a, ef2: v * v };
  }
  // the oscillations of He_K need δz ≲ 1.2/√K; the mass of He_K² φ reaches |z| ≈ 2√K
  const L = 2 * Math.sqrt(K) + 8;
  const dz = Math.min(dx / sigma, 1.2 / Math.sqrt(K + 1), 0.5);
  const nHalf = Math.ceil(L / dz);
  const { z, w } = zRule(nHalf, L);
  let ef2 = 0;
  for (let i = 0; i < z.length; i++) {
    const wi = w[i];
    if (wi < 1e-300) continue;
    const zi = z[i];
    const fv = f(m + sigma * zi) * wi;
    ef2 += fv * f(m + sigma * zi);
    let h0 = 1, h1 = zi;
    a[0] += fv;
    if (K >= 1) a[1] += fv * h1;
    for (let k = 1; k < K; k++) {
      const h2 = (zi * h1 - Math.sqrt(k) * h0) / Math.sqrt(k + 1);
      h0 = h1; h1 = h2;
      a[k + 1] += fv * h2;
    }
  }
  return { a, ef2 };
}

/** A trapezoid z-grid with the normalized Hermite values premultiplied by the weights. */
export interface HermiteTable {
  K: number;
  z: Float64Array;
  w: Float64Array;
  /** hw[i*(K+1)+k] = w_i He_k(z_i)/√k! */
  hw: Float64Array;
}

const hCache = new Map<string, HermiteTable>();

/** The table for Hermite coefficients up to order K of f(m + σz) (cached; nodes depend on σ). */
export function hermiteTable(K: number, sigma: number, dx = ROBUST_DX): HermiteTable {
  const L = 2 * Math.sqrt(K) + 7;
  const dz = Math.min(dx / Math.max(sigma, 1e-300), 1.2 / Math.sqrt(K + 1), 0.5);
  // quantize the node count so that nearby σ share a table
  const nHalf = Math.min(40000, Math.ceil(Math.ceil(L / dz) / 16) * 16);
  const key = `${K}:${nHalf}`;
  const hit = hCache.get(key);
  if (hit) return hit;
  const { z, w } = zRule(nHalf, L);
  // drop nodes whose weighted Hermite values are all negligible
  const keep: number[] = [];
  const K1 = K + 1;
  const rows: Float64Array[] = [];
  for (let i = 0; i < z.length; i++) {
    const row = new Float64Array(K1);
    const zi = z[i];
    let h0 = 1, h1 = zi, mx = w[i];
    row[0] = w[i];
    if (K >= 1) { row[1] = w[i] * h1; mx = Math.max(mx, Math.abs(row[1])); }
    for (let k = 1; k < K; k++) {
      const h2 = (zi * h1 - Math.sqrt(k) * h0) / Math.sqrt(k + 1);
      h0 = h1; h1 = h2;
      row[k + 1] = w[i] * h2;
      const a = Math.abs(row[k + 1]);
      if (a > mx) mx = a;
    }
    if (mx > 1e-18) { keep.push(i); rows.push(row); }
  }
  const hw = new Float64Array(keep.length * K1);
  const zz = new Float64Array(keep.length), ww = new Float64Array(keep.length);
  keep.forEach((i, r) => { zz[r] = z[i]; ww[r] = w[i]; hw.set(rows[r], r * K1); });
  const t = { K, z: zz, w: ww, hw };
  if (hCache.size > 256) hCache.clear();
  hCache.set(key, t);
  return t;
}

/**
 * Hermite coefficients a[0..K] of f(m + σz) into `out` (offset `off`), using a
 * table; returns E f² on the same grid. σ = 0 gives a[0] = f(m).
 */
export function hermiteInto(f: (x: number) => number, m: number, sigma: number, K: number, out: Float64Array, off: number, dx = ROBUST_DX): number {
  const K1 = K + 1;
  for (let k = 0; k < K1; k++) out[off + k] = 0;
  if (!(sigma > 0)) {
    const v = f(m);
    out[off] = v;
    return v * v;
  }
  const t = hermiteTable(K, sigma, dx);
  const { z, w, hw } = t;
  let ef2 = 0;
  for (let i = 0; i < z.length; i++) {
    const fv = f(m + sigma * z[i]);
    ef2 += w[i] * fv * fv;
    const base = i * K1;
    for (let k = 0; k < K1; k++) out[off + k] += fv * hw[base + k];
  }
  return ef2;
}

/**
 * E f(X) for X = μ + L·Z, Z a standard normal d-vector, by the tensor-product
 * Gauss–Hermite rule of order nn per dimension (exact for polynomials of
 * degree ≤ 2nn − 1 in each variable). `f` receives the point x (reused buffer).
 */
export function expectTensorHermite(mu: ArrayLike<number>, L: number[][], nn: number, f: (x: Float64Array) => number): number {
  const { x, w } = gaussHermite(nn);
  return tensorSum(mu, L, allColumns(mu.length), x, w, f).acc;
}

/** 0 … d − 1 */
const allColumns = (d: number): number[] => Array.from({ length: d }, (_, k) => k);

/**
 * Σ w·f(μ + L·z) over the tensor grid of one rule (nodes zs, weights ws) in
 * the coordinates `cols` of Z (the others 0), with Σ|w f| and the part of it
 * on the outermost nodes of any coordinate (the tail check of the callers).
 */
function tensorSum(mu: ArrayLike<number>, L: number[][], cols: number[], zs: ArrayLike<number>, ws: ArrayLike<number>, f: (x: Float64Array) => number): { acc: number; abs: number; edge: number } {
  const d = mu.length, m = cols.length, n = zs.length;
  const x = new Float64Array(d);
  const idx = new Array<number>(m).fill(0);
  let acc = 0, abs = 0, edge = 0;
  for (;;) {
    let w = 1, outer = false;
    for (let c = 0; c < m; c++) { w *= ws[idx[c]]; if (idx[c] === 0 || idx[c] === n - 1) outer = true; }
    for (let r = 0; r < d; r++) { let s = mu[r]; for (let c = 0; c < m; c++) s += (L[r][cols[c]] ?? 0) * zs[idx[c]]; x[r] = s; }
    const v = w > 0 ? w * f(x) : 0; // (an overflowing f where the weight underflows adds nothing)
    acc += v; abs += Math.abs(v);
    if (outer) edge += Math.abs(v);
    let c = 0;
    while (c < m && ++idx[c] === n) { idx[c] = 0; c++; }
    if (c === m) break;
  }
  return { acc, abs, edge };
}

/** share of Σ|w f| that the outermost Gauss–Hermite nodes may carry before the rule is not trusted */
const TAIL_SHARE = 1e-12;
/** largest tensor grid of the widened trapezoid fallback (points) */
const MAX_TENSOR_POINTS = 4e6;

/**
 * E f(X) for X = μ + L·Z and f smooth but not a polynomial: the tensor
 * Gauss–Hermite rule of order nn when it resolves the integrand, else the
 * widened tensor trapezoid rule. Gauss–Hermite nodes end near |z| ≈ √(4nn); an
 * integrand whose mass lies beyond them (E e^{3X} at Var X = 25 has it at
 * z = 15) gets a confident wrong answer that a second, finer Gauss–Hermite rule
 * reproduces (both miss the mass). So the outermost nodes' share of Σ|w f| is
 * watched; above 1e-12 the trapezoid rule in z, its step scaled to the widest
 * standard deviation and its range widened until the end nodes carry no
 * weight (as `widenedTrapezoid` in one dimension), takes over. NaN when even
 * that cannot resolve it (mass beyond |z| = 38, or a grid beyond 4e6 points):
 * callers refuse non-finite averages.
 */
export function expectTensorSmooth(mu: ArrayLike<number>, L: number[][], nn: number, f: (x: Float64Array) => number): number {
  const { x: gx, w: gw } = gaussHermite(nn);
  const { acc, abs, edge } = tensorSum(mu, L, allColumns(mu.length), gx, gw, f);
  if (edge <= TAIL_SHARE * abs) return acc;
  const sd = Math.max(1, ...L.map((row) => Math.hypot(...row)));
  return expectTensorTrapezoid(mu, L, Math.min(0.5, ROBUST_DX / sd), f);
}

/**
 * E f(μ + L·Z) by the tensor trapezoid rule of step dz in each coordinate of
 * Z, on [−9, 9] widened (×1.5, up to 38) until the boundary nodes carry no
 * weight: spectrally accurate for analytic f, second order across a kink.
 * NaN when the mass lies beyond |z| = 38 or the grid would exceed 4e6 points.
 */
export function expectTensorTrapezoid(mu: ArrayLike<number>, L: number[][], dz: number, f: (x: Float64Array) => number): number {
  const d = mu.length;
  // only the directions the factor uses (a singular covariance has zero columns)
  const cols = Array.from({ length: d }, (_, k) => k).filter((k) => L.some((row) => (row[k] ?? 0) !== 0));
  const m = cols.length;
  for (let Lz = 9; ; Lz = Math.min(L_WIDEST, Lz * 1.5)) {
    const K = Math.ceil(Lz / dz), n = 2 * K + 1;
    if (n ** m > MAX_TENSOR_POINTS) return NaN;
    const { x: zs, w: ws } = normalTrapezoid(K, K * dz);
    const { acc, abs, edge } = tensorSum(mu, L, cols, zs, ws, f);
    if (!(edge > 1e-14 * abs)) return acc;
    if (Lz >= L_WIDEST) return NaN;
  }
}
