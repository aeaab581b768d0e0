// Quadrature rules: Gauss–Legendre, the Gaussian trapezoid rule, and
// Gauss–Legendre panels against the normal density split at breakpoints.
//
// For E h(Z), Z ~ N(0,1):
//   normalTrapezoid  nodes z = L·i/n on [−L, L], weights ∝ φ(z): for h analytic
//                    in the strip |Im z| < d the error is ~ e^{−2πd/δz}, far
//                    better than Gauss–Hermite when h has singularities near
//                    the real axis (Gauss–Hermite converges like e^{−c·d·√n});
//                    halving δz keeps every node (nested levels)
//   splitNormalRule  Gauss–Legendre panels on [−L, L] with edges at the
//                    breakpoints of a piecewise-smooth h (geometric
//                    convergence on each smooth piece)
//   expectPanels     the same, summed directly (no allocation per call)
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface Rule { x: Float64Array; w: Float64Array }

const glCache = new Map<number, Rule>();

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on the recurrence; weights sum to 2). */
export function gaussLegendre(n: number): Rule {
  const hit = glCache.get(n);
  if (hit) return hit;
  const x = new Float64Array(n), w = new Float64Array(n);
  const m = Math.floor((n + 1) / 2);
  for (let i = 0; i < m; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5)), pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = 1, p2 = 0;
      for (let j = 0; j < n; j++) { const p3 = p2; p2 = p1; p1 = ((2 * j + 1) * z * p2 - j * p3) / (j + 1); }
      pp = (n * (z * p1 - p2)) / (z * z - 1);
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-16) break;
    }
    x[i] = -z; x[n - 1 - i] = z;
    w[i] = 2 / ((1 - z * z) * pp * pp); w[n - 1 - i] = w[i];
  }
  const r = { x, w };
  glCache.set(n, r);
  return r;
}

const trapCache = new Map<string, Rule>();

/** The trapezoid rule for E h(Z), Z ~ N(0,1): nodes z_i = L·i/nHalf, i = −nHalf…nHalf, weights ∝ e^{−z²/2} (Σ w = 1). */
export function normalTrapezoid(nHalf: number, L = 9): Rule {
  const key = `${nHalf}:${L}`;
  const hit = trapCache.get(key);
  if (hit) return hit;
  const n = 2 * nHalf + 1;
  const x = new Float64Array(n), w = new Float64Array(n);
  let sw = 0;
  for (let i = 0; i < n; i++) { x[i] = (L * (i - nHalf)) / nHalf; w[i] = Math.exp(-0.5 * x[i] * x[i]); sw += w[i]; }
  for (let i = 0; i < n; i++) w[i] /= sw;
  const r = { x, w };
  if (trapCache.size > 512) trapCache.clear();
  trapCache.set(key, r);
  return r;
}

export interface SplitResolution {
  /** Gauss–Legendre nodes per panel */
  gl: number;
  /** widest panel */
  panel: number;
  /** half-width of the integration range (in standard deviations) */
  L: number;
}

/** the standard normal density */
export const phiDensity = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/**
 * A rule for E h(Z), Z ~ N(0,1), with h smooth except at `breaks`: Gauss–
 * Legendre panels against the normal density on [−L, L], with panel edges at
 * the breaks and, around each, panels growing geometrically from `w0` (so a
 * transition of width w0 next to a break is resolved). `symmetric`: the
 * breaks are mirrored and the node set is symmetric about 0 (node i and
 * node n−1−i are ±z), which callers use to pair h(z) with h(−z).
 */
export function splitNormalRule(breaks: number[], res: SplitResolution, w0 = res.panel, symmetric = false): Rule {
  const L = res.L;
  let bs = breaks.filter((b) => Math.abs(b) < L);
  if (symmetric) bs = bs.map(Math.abs);
  const edges = new Set<number>([symmetric ? 0 : -L, L]);
  const grade = Math.max(1e-9, Math.min(w0, res.panel));
  for (const b of bs) {
    edges.add(b);
    for (const dir of [1, -1]) {
      for (let w = grade; w < res.panel; w *= 2) {
        const e = b + dir * w;
        if ((symmetric ? e > 0 : e > -L) && e < L) edges.add(e);
      }
    }
  }
  const sorted = [...edges].sort((a, b) => a - b);
  // fill the gaps with panels no wider than res.panel
  const all: number[] = [sorted[0]];
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1], b = sorted[k];
    const np = Math.max(1, Math.ceil((b - a) / res.panel - 1e-9));
    for (let p = 1; p <= np; p++) all.push(a + ((b - a) * p) / np);
  }
  const gl = gaussLegendre(res.gl);
  const xs: number[] = [], ws: number[] = [];
  for (let k = 1; k < all.length; k++) {
    const a = all[k - 1], b = all[k];
    if (!(b > a)) continue;
    const c = (a + b) / 2, h = (b - a) / 2;
    for (let i = 0; i < gl.x.length; i++) { const z = c + h * gl.x[i]; xs.push(z); ws.push(h * gl.w[i] * phiDensity(z)); }
  }
  if (symmetric) {
    // mirror [0, L] onto [−L, 0]
    const n = xs.length;
    const x = new Float64Array(2 * n), w = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) { x[n - 1 - i] = -xs[i]; w[n - 1 - i] = ws[i]; x[n + i] = xs[i]; w[n + i] = ws[i]; }
    return normalize({ x, w });
  }
  return normalize({ x: Float64Array.from(xs), w: Float64Array.from(ws) });
}

function normalize(r: Rule): Rule {
  let s = 0;
  for (let i = 0; i < r.w.length; i++) s += r.w[i];
  for (let i = 0; i < r.w.length; i++) r.w[i] /= s;
  return r;
}

/** E f(mean + √variance·Z) by `splitNormalRule` cut at the kinks of f (x-locations); f(mean) when variance ≤ 0. */
export function expectSplit(f: (x: number) => number, mean: number, variance: number, kinks: number[], res: SplitResolution): number {
  if (!(variance > 0)) return f(mean);
  const s = Math.sqrt(variance);
  const r = splitNormalRule(kinks.map((k) => (k - mean) / s), res);
  let acc = 0;
  for (let i = 0; i < r.x.length; i++) acc += r.w[i] * f(mean + s * r.x[i]);
  return acc;
}

/**
 * Visit the Gauss–Legendre nodes of panels no wider than `panel` (n nodes
 * each) on [−L, L] cut at the ascending breakpoints `cuts`: visit(z, w) with
 * w the Legendre weight times the panel's half-width (no density). Builds no
 * rule: callers run it for every node of outer integrals.
 */
export function visitPanels(cuts: ArrayLike<number>, L: number, panel: number, n: number, visit: (z: number, w: number) => void): void {
  const gl = gaussLegendre(n);
  const piece = (lo: number, hi: number) => {
    const np = Math.max(1, Math.ceil((hi - lo) / panel - 1e-9)), len = (hi - lo) / np;
    for (let p = 0; p < np; p++) {
      const mid = lo + (p + 0.5) * len, half = len / 2;
      for (let i = 0; i < gl.x.length; i++) visit(mid + half * gl.x[i], half * gl.w[i]);
    }
  };
  let a = -L;
  for (let k = 0; k < cuts.length; k++) { const b = cuts[k]; if (b > a && b < L) { piece(a, b); a = b; } }
  piece(a, L);
}

/**
 * E h(Z), Z ~ N(0,1), by Gauss–Legendre panels (≤ res.panel wide, res.gl
 * nodes) on [−L, L] cut at the ascending z-breakpoints `cuts`, normalized by
 * the rule's own mass.
 */
export function expectPanels(h: (z: number) => number, cuts: ArrayLike<number>, res: SplitResolution): number {
  let acc = 0, wsum = 0;
  visitPanels(cuts, res.L, res.panel, res.gl, (z, u) => { const w = u * Math.exp(-0.5 * z * z); acc += w * h(z); wsum += w; });
  return acc / wsum;
}

/**
 * Σ w_i h(x_i) over a rule symmetric about 0 (x_{n−1−i} = −x_i, equal
 * weights: Gauss–Hermite, Gauss–Legendre, the trapezoid rule), mirror pairs
 * summed first. For h odd the sum is then exactly 0: a state symmetric under
 * x → −x (a mean-zero law with odd transfer functions) stays exactly
 * symmetric, instead of receiving rounding errors (~1e-17) that an unstable
 * symmetry-breaking mode amplifies like e^{λt}.
 */
/** widest z-range of the widening trapezoid: φ(z) underflows beyond ~38.6 */
export const L_WIDEST = 38;

/**
 * E h(Z), Z ~ N(0, 1), by the trapezoid rule of step δz = L0/nHalf on
 * [−L, L], starting at L = L0 and widened (×1.5, keeping δz, up to L_WIDEST)
 * while the end nodes still carry weight. A fixed range misses integrands
 * that grow fast: E e^{aZ} has its mass near z = a, outside [−9, 9] for
 * a > 9 (e.g. mean(exp(20x)) came out as 3e59 against e^200 = 7e86, with a
 * resolution-difference error that missed it too). Mirror nodes are summed
 * in pairs (exactly 0 for h odd).
 */
export function widenedTrapezoid(h: (z: number) => number, nHalf: number, L0: number, minWeight = 0): number {
  const dz = L0 / nHalf;
  for (let L = L0; ; L = Math.min(L_WIDEST, L * 1.5)) {
    const k = Math.round(L / dz);
    const { x, w } = normalTrapezoid(k, k * dz);
    const n = x.length;
    let acc = 0, abs = 0;
    for (let i = 0, j = n - 1; i < j; i++, j--) {
      if (w[i] <= minWeight) continue;
      const a = h(x[i]), b = h(x[j]);
      acc += w[i] * (a + b);
      abs += w[i] * (Math.abs(a) + Math.abs(b));
    }
    { const c = (n - 1) / 2; const a = h(x[c]); acc += w[c] * a; abs += w[c] * Math.abs(a); }
    const ends = w[0] * (Math.abs(h(x[0])) + Math.abs(h(x[n - 1])));
    // the end terms bound the neglected tail (it decays at least as fast beyond the range)
    if (!(ends > 1e-14 * abs)) return acc;
    if (L >= L_WIDEST) return NaN; // the mass lies beyond where the normal weight underflows
  }
}

export function symmetricSum(h: (x: number) => number, x: ArrayLike<number>, w: ArrayLike<number>): number {
  const n = x.length;
  let acc = 0;
  for (let i = 0, j = n - 1; i < j; i++, j--) acc += w[i] * (h(x[i]) + h(x[j]));
  if (n % 2 === 1) { const c = (n - 1) / 2; acc += w[c] * h(x[c]); }
  return acc;
}

// ---------------------------------------------------------------------------
// Gauss–Hermite (the only implementation)

const ghCache = new Map<number, { x: Float64Array; w: Float64Array }>();

/** n-point Gauss–Hermite rule for E[f(z)], z ~ N(0, 1): Σ w_i f(x_i) with
 *  Σ w_i = 1 (probabilists' normalization). Exact for polynomials of degree
 *  ≤ 2n − 1; for f analytic in a strip |Im z| < d the error decays like
 *  exp(−2d√(2n)). Nodes by Newton's method on the orthonormal Hermite
 *  recurrence (stable to n ≈ 300). */
export function gaussHermite(n: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`gaussHermite: n must be a positive integer, got ${n}`);
  const hit = ghCache.get(n);
  if (hit) return hit;
  // Newton on the recurrence loses its starting guesses and underflows past
  // ~190 nodes: use Golub–Welsch there
  if (n > 150) { const gw = golubWelschHermite(n); ghCache.set(n, gw); return gw; }
  // physicists' nodes/weights for weight e^{-t²} (Numerical Recipes gauher)
  const t = new Float64Array(n), wt = new Float64Array(n);
  const PIM4 = Math.PI ** -0.25;
  const m = Math.floor((n + 1) / 2);
  let z = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * (2 * n + 1) ** -0.16667;
    else if (i === 1) z -= (1.14 * n ** 0.426) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * t[0];
    else if (i === 3) z = 1.91 * z - 0.91 * t[1];
    else z = 2 * z - t[i - 2];
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = PIM4, p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-15 * Math.max(1, Math.abs(z))) break;
    }
    t[i] = z; t[n - 1 - i] = -z;
    wt[i] = 2 / (pp * pp); wt[n - 1 - i] = wt[i];
  }
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < n; i++) { x[i] = Math.SQRT2 * t[n - 1 - i]; w[i] = wt[n - 1 - i] / Math.sqrt(Math.PI); }
  const out = { x, w };
  ghCache.set(n, out);
  return out;
}

/** Golub–Welsch: nodes are the eigenvalues of the Jacobi matrix of the
 *  probabilists' Hermite polynomials (off-diagonal √k), weights the squared
 *  first components of its normalized eigenvectors. */
function golubWelschHermite(n: number): { x: Float64Array; w: Float64Array } {
  const J = new Matrix(n, n);
  for (let k = 1; k < n; k++) { J.set(k, k - 1, Math.sqrt(k)); J.set(k - 1, k, Math.sqrt(k)); }
  const eig = new EigenvalueDecomposition(J, { assumeSymmetric: true });
  const V = eig.eigenvectorMatrix;
  const order = eig.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const x = new Float64Array(n), w = new Float64Array(n);
  let sw = 0;
  order.forEach(([v, i], k) => { x[k] = v; w[k] = V.get(0, i) ** 2; sw += w[k]; });
  for (let k = 0; k < n; k++) w[k] /= sw;
  // exact symmetry about 0
  for (let k = 0; k < n >> 1; k++) { const a = (x[n - 1 - k] - x[k]) / 2, b = (w[k] + w[n - 1 - k]) / 2; x[k] = -a; x[n - 1 - k] = a; w[k] = b; w[n - 1 - k] = b; }
  if (n % 2) x[n >> 1] = 0;
  return { x, w };
}
