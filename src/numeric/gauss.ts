// Gaussian expectations of piecewise-smooth functions, split at their kinks.
//
// E f(X) for X ~ N(m, v), and E f(X1) g(X2) for a bivariate normal, where f
// and g may have kinks or jumps (relu, abs, sign, comparisons). A rule that
// does not know where the kinks are converges only algebraically across them
// (the variance-scaled trapezoid rule is O(δx²)); here every integral is
// split at the breakpoints and each smooth piece gets Gauss–Legendre panels,
// which converge geometrically for the analytic pieces.
//
//   breakpoints  the zeros of the arguments of kinked functions and of the
//                differences in comparisons (`kinkArgs`): exact for affine
//                arguments, otherwise by a sign scan and bisection
//   1-D          pieces in z = (x − m)/σ on [−L, L]; a piece of length ℓ gets
//                panels of x-width ≤ XMAX and ~3 nodes per unit of z
//   2-D          the conditional form E[f(X1) E[g(X2) | X1]]: the outer
//                variable is split at f's breakpoints, the inner one at g's
//                (they move with X1). Where g's breakpoint crosses the centre
//                of the conditional law, E[g(X2)|X1] changes on the scale of
//                the conditional standard deviation c, which can be tiny
//                (correlation near 1): the outer variable gets panels graded
//                to that scale there.
// Smooth functions without breakpoints use the variance-scaled trapezoid rule
// (spectral for analytic integrands), which is what the callers used before.
//
// Accuracy (test/numeric/gauss.test.ts, bench/RESULTS.md): ~1e-12 relative
// on relu, abs, sign and steps against closed forms, in 1-D and 2-D,
// correlations up to 1 − 1e-12.
import { type KinkLine, type Piecewise, rootsIn, withBreaks } from './kinks.ts';
import { expectTensorTrapezoid, ROBUST_DX } from './normal.ts';
import { expectPanels, gaussHermite, gaussLegendre, normalTrapezoid, type Rule, type SplitResolution, symmetricSum, widenedTrapezoid } from './rules.ts';


/** half-width of the z-range: the normal mass beyond is < 1e-18 */
export const L = 9;
const PHI0 = 1 / Math.sqrt(2 * Math.PI);
/** Gauss–Legendre nodes per unit of z, and the minimum per panel */
const NPER = 3.2, NMIN = 4, NMAX = 64;

/**
 * Resolution multiplier (1 = default): `res` > 1 refines every rule (nodes
 * per unit ×res, x-widths ÷res, smooth-rule steps ÷res). Callers that report
 * a quadrature error evaluate twice (res 1 and 2) and take the difference.
 */
let RES = 1;
/** Run f with every rule refined by the factor res. */
export function atResolution<T>(res: number, f: () => T): T {
  const old = RES;
  RES = res;
  try { return f(); } finally { RES = old; }
}

/** largest panel length in units of the piece's feature scale */
const SMAX = 9;

/**
 * Panels and nodes per panel of ∫_a^b · φ(z) dz: enough nodes per unit of z
 * for the weight (NPER/scale, scale = z-width of the integrand's features),
 * and panels of x-half-width A ≤ D (D: distance of the integrand's
 * singularities from the real axis, tanh-like) with the Gauss–Legendre order
 * that the Bernstein ellipse through them allows (error ~ ρ^{−2n}).
 */
function panelsOf(len: number, sigma: number, scale: number): { p: number; n: number } {
  const d = ANALYTIC_D / RES;
  const p = Math.max(1, Math.ceil((sigma * len) / (2 * d) - 1e-12), Math.ceil((len * RES) / scale / SMAX - 1e-12));
  const l = len / p;
  let n = Math.ceil((NPER * RES * l) / scale + NADD);
  const A = 0.5 * sigma * l;
  if (A > 0.05 * d) {
    const q = d / A, rho = q + Math.sqrt(1 + q * q);
    n = Math.max(n, Math.ceil(LOG_TOL / (2 * Math.log(rho))));
  }
  return { p, n: Math.min(NMAX, Math.max(NMIN, n)) };
}
/** distance of the pieces' singularities from the real axis that the rules assume (tanh: π/2) */
const ANALYTIC_D = Math.PI / 2;
const LOG_TOL = Math.log(1e14);
const NADD = 3;

/**
 * Append the nodes and weights (Gaussian density included) of ∫_a^b · φ(z) dz
 * to (zs, ws) from index k; returns the new end. The caller makes room (pieceCap).
 */
function pieceNodes(a: number, b: number, sigma: number, scale: number, zs: Float64Array, ws: Float64Array, k: number): number {
  const len = b - a;
  if (!(len > 0)) return k;
  const { p, n } = panelsOf(len, sigma, scale);
  const r = gaussLegendre(n);
  const l = len / p;
  for (let q = 0; q < p; q++) {
    const c = a + (q + 0.5) * l, h = 0.5 * l;
    for (let i = 0; i < n; i++) {
      const z = c + h * r.x[i];
      zs[k] = z; ws[k] = h * r.w[i] * PHI0 * Math.exp(-0.5 * z * z); k++;
    }
  }
  return k;
}

function pieceCap(a: number, b: number, sigma: number, scale: number): number {
  const len = b - a;
  if (!(len > 0)) return 0;
  const { p, n } = panelsOf(len, sigma, scale);
  return p * n;
}

let zsBuf = new Float64Array(4096), wsBuf = new Float64Array(4096);
const grow = (need: number) => {
  if (need > zsBuf.length) { const z = new Float64Array(2 * need), w = new Float64Array(2 * need); z.set(zsBuf); w.set(wsBuf); zsBuf = z; wsBuf = w; }
};

/** Split rule over the z-breakpoints `cuts` (sorted, inside (−L, L)) into (zsBuf, wsBuf) from `start`; returns the end. */
/** Are the (sorted) z-cuts symmetric about 0, to rounding? */
function mirrored(cuts: number[]): boolean {
  const n = cuts.length;
  for (let i = 0; i < n; i++) if (Math.abs(cuts[i] + cuts[n - 1 - i]) > 1e-13 * Math.max(1, Math.abs(cuts[i]))) return false;
  return true;
}

/** The split rule on [0, L] for mirrored cuts (its positive ones) into (zsBuf, wsBuf); returns the count. */
function halfRule(cuts: number[], sigma: number): number {
  const pos = cuts.filter((c) => c > 1e-13 * Math.max(1, Math.abs(c)));
  let cap = 0, a = 0;
  for (const c of pos) { cap += pieceCap(a, c, sigma, 1); a = c; }
  cap += pieceCap(a, L, sigma, 1);
  grow(cap);
  let k = 0;
  a = 0;
  for (const c of pos) { k = pieceNodes(a, c, sigma, 1, zsBuf, wsBuf, k); a = c; }
  return pieceNodes(a, L, sigma, 1, zsBuf, wsBuf, k);
}

function splitRule(cuts: ArrayLike<number>, nCuts: number, sigma: number, start: number): number {
  let cap = start, a = -L;
  for (let i = 0; i < nCuts; i++) { cap += pieceCap(a, cuts[i], sigma, 1); a = cuts[i]; }
  cap += pieceCap(a, L, sigma, 1);
  grow(cap);
  let k = start;
  a = -L;
  for (let i = 0; i < nCuts; i++) { k = pieceNodes(a, cuts[i], sigma, 1, zsBuf, wsBuf, k); a = cuts[i]; }
  return pieceNodes(a, L, sigma, 1, zsBuf, wsBuf, k);
}

// the variance-scaled trapezoid rule for smooth integrands (spectral): x-step ≤ TRAP_DX
const TRAP_DX = 0.35;
const trapHalf = (sigma: number): number => Math.min(20000, Math.ceil(RES * Math.max(L / 0.7, (L * sigma) / TRAP_DX)));
const trapRule = (sigma: number): Rule => normalTrapezoid(trapHalf(sigma), L);

/**
 * Order of a Gaussian rule that integrates h(z) = f(μ + cz) against a normal
 * weight (full or truncated) to ~1e-14, for f analytic within HERMITE_D of the
 * real axis and c small: the error is ~ n!·(c/D)^{2n}; 0 when no order ≤
 * SMALL_NMAX suffices (then the caller uses panels).
 */
function smallHermiteOrder(c: number): number {
  const r = ((c * RES) / HERMITE_D) ** 2;
  let t = 1;
  for (let n = 1; n <= SMALL_NMAX; n++) {
    t *= n * r;
    if (n >= 2 && t < 1e-14) return n;
  }
  return 0;
}
const HERMITE_D = ANALYTIC_D;
const SMALL_NMAX = 12;

/** E f(m + cZ) for a smooth f (mirror nodes summed in pairs: exactly 0 for f odd at m = 0). */
function smoothExpect(f: (x: number) => number, m: number, c: number): number {
  if (!(c > 0)) return f(m);
  const n = smallHermiteOrder(c);
  if (n > 0) { const { x, w } = gaussHermite(n); return symmetricSum((z) => f(m + c * z), x, w); }
  return widenedTrapezoid((z) => f(m + c * z), trapHalf(c), L);
}

const zCuts = (p: Piecewise, m: number, s: number): number[] => {
  const br = p.breaks(m - L * s, m + L * s);
  const out: number[] = [];
  for (const k of br) { const z = (k - m) / s; if (z > -L && z < L && (out.length === 0 || z > out[out.length - 1])) out.push(z); }
  return out;
};

/** E f(X), X ~ N(mean, variance), split at the breakpoints of f. */
export function expect(p: Piecewise, mean: number, variance: number): number {
  if (!(variance > 0)) return p.f(mean);
  const s = Math.sqrt(variance);
  if (p.smooth) return smoothExpect(p.f, mean, s);
  const cuts = zCuts(p, mean, s);
  if (cuts.length === 0) return smoothExpect(p.f, mean, s);
  let acc = 0;
  if (mirrored(cuts)) {
    // breakpoints symmetric about the mean: a rule on [0, L] and its mirror image,
    // summed in pairs (exactly 0 for f odd about the mean, as for smooth f)
    const n = halfRule(cuts, s);
    for (let i = 0; i < n; i++) acc += wsBuf[i] * (p.f(mean + s * zsBuf[i]) + p.f(mean - s * zsBuf[i]));
    return acc;
  }
  const n = splitRule(cuts, cuts.length, s, 0);
  for (let i = 0; i < n; i++) acc += wsBuf[i] * p.f(mean + s * zsBuf[i]);
  return acc;
}

/**
 * E[Z f(m + σZ)]/σ = E f'(X) (Stein): the derivative in the sense of
 * distributions, so a jump of f contributes its δ (sign' = 2δ), which the
 * pointwise derivative misses. For σ = 0, the pointwise derivative `df` at m.
 */
export function expectDerivative(p: Piecewise, df: (x: number) => number, mean: number, variance: number): number {
  if (!(variance > 0)) return df(mean);
  const s = Math.sqrt(variance);
  // subtract f(m): E Z = 0, and it removes the cancellation at small σ
  const f0 = p.f(mean);
  const g = (x: number) => p.f(x) - f0;
  if (p.smooth) return smoothExpectZ(g, mean, s) / s;
  const cuts = zCuts(p, mean, s);
  if (cuts.length === 0) return smoothExpectZ(g, mean, s) / s;
  let acc = 0;
  if (mirrored(cuts)) {
    const n = halfRule(cuts, s);
    for (let i = 0; i < n; i++) acc += wsBuf[i] * zsBuf[i] * (g(mean + s * zsBuf[i]) - g(mean - s * zsBuf[i]));
    return acc / s;
  }
  const n = splitRule(cuts, cuts.length, s, 0);
  for (let i = 0; i < n; i++) acc += wsBuf[i] * zsBuf[i] * g(mean + s * zsBuf[i]);
  return acc / s;
}

function smoothExpectZ(g: (x: number) => number, m: number, c: number): number {
  const n = smallHermiteOrder(c);
  if (n > 0) {
    const { x, w } = gaussHermite(n + 1);
    let s = 0;
    for (let i = 0; i <= n; i++) s += w[i] * x[i] * g(m + c * x[i]);
    return s;
  }
  return widenedTrapezoid((z) => z * g(m + c * z), trapHalf(c), L, 1e-300);
}

// ---------------------------------------------------------------------------
// Bivariate normal expectations with breakpoints along lines.

/** Graded cuts of the outer variable around a point where an inner breakpoint crosses the conditional mean, in units of the feature width. */
const WINDOW = [7];

let zoBuf = new Float64Array(2048), woBuf = new Float64Array(2048);
const cutBuf = new Float64Array(256);

/** Outer nodes over [−L, L] cut at `hard` points and graded around the windows (centre s, width w); σ: x-scale per unit z. */
function outerRule(hard: number[], windows: { s: number; w: number }[], sigma: number): number {
  const pts: number[] = [];
  for (const z of hard) if (z > -L && z < L) pts.push(z);
  for (const { s, w } of windows) {
    if (s > -L && s < L) pts.push(s);
    for (const d of WINDOW) for (const z of [s - d * w, s + d * w]) if (z > -L && z < L) pts.push(z);
  }
  pts.sort((x, y) => x - y);
  const cuts = [-L];
  for (const z of pts) if (z > cuts[cuts.length - 1] + 1e-14 * L) cuts.push(z);
  if (L > cuts[cuts.length - 1]) cuts.push(L);
  let k = 0;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i], b = cuts[i + 1], mid = 0.5 * (a + b);
    let scale = 1;
    for (const { s, w } of windows) if (w < scale && Math.abs(mid - s) <= WINDOW[WINDOW.length - 1] * w) scale = w;
    const cap = k + pieceCap(a, b, sigma, scale);
    if (cap > zoBuf.length) { const z = new Float64Array(2 * cap), ww = new Float64Array(2 * cap); z.set(zoBuf); ww.set(woBuf); zoBuf = z; woBuf = ww; }
    k = pieceNodes(a, b, sigma, scale, zoBuf, woBuf, k);
  }
  return k;
}

/**
 * E F(X1, X2) for (X1, X2) normal with means m1, m2 and covariance
 * [[c11, c12], [c12, c22]], where F is smooth except across the given lines.
 * F is `outer(x1)·inner(x1, x2)` (outer optional: a product f(X1)g(X2) passes
 * f as outer, so it is evaluated once per outer node).
 */
export function expectLines(
  inner: (x1: number, x2: number) => number, lines: KinkLine[],
  m1: number, m2: number, c11: number, c12: number, c22: number,
  outer?: (x1: number) => number,
): number {
  const a = c11 > 0 ? Math.sqrt(c11) : 0;
  const F = outer ? (x1: number, x2: number) => outer(x1) * inner(x1, x2) : inner;
  if (a === 0) {
    // X1 = m1: one variable, lines a0 + a1 m1 + a2 x2 = 0
    const pts = lines.filter((l) => l.a2 !== 0).map((l) => -(l.a0 + l.a1 * m1) / l.a2);
    return expect(withBreaks((x2) => F(m1, x2), pts), m2, c22);
  }
  // X1 = m1 + a z1, X2 = m2 + b z1 + c z2; a line is A + B z1 + C z2 = 0
  const b = c12 / a;
  const c = Math.sqrt(Math.max(0, c22 - b * b));
  const scale2 = Math.sqrt(Math.max(c22, 0));
  const A = lines.map((l) => l.a0 + l.a1 * m1 + l.a2 * m2), B = lines.map((l) => l.a1 * a + l.a2 * b), C = lines.map((l) => l.a2 * c);
  const sigmaOut = Math.max(a, Math.abs(b));
  if (c <= 1e-15 * scale2 || c === 0) {
    // perfectly correlated: one variable z1
    const pts = lines.map((_, i) => (B[i] !== 0 ? -A[i] / B[i] : NaN)).filter((z) => Number.isFinite(z));
    return expect(withBreaks((z) => F(m1 + a * z, m2 + b * z), pts), 0, 1);
  }
  const hard: number[] = [];
  const windows: { s: number; w: number }[] = [];
  const soft: number[] = [];
  lines.forEach((_, i) => {
    const sizeB = Math.abs(B[i]), sizeC = Math.abs(C[i]);
    if (sizeC === 0) { if (sizeB > 0) hard.push(-A[i] / B[i]); return; }
    soft.push(i);
    if (sizeB > 0) {
      const w = sizeC / sizeB;
      if (w < 1) windows.push({ s: -A[i] / B[i], w });
    }
  });
  const nOut = outerRule(hard, windows, sigmaOut);
  const nSmall = smallHermiteOrder(c);
  const ghSmall = gaussHermite(Math.max(1, nSmall));
  const trapInner = trapRule(c);
  let acc = 0, abs = 0, edge = 0;
  // the outer rule's extreme nodes (its pieces are not in order)
  let zLo = Infinity, zHi = -Infinity;
  for (let i = 0; i < nOut; i++) { zLo = Math.min(zLo, zoBuf[i]); zHi = Math.max(zHi, zoBuf[i]); }
  for (let i = 0; i < nOut; i++) {
    const wi = woBuf[i];
    if (wi < 1e-300) continue;
    const z1 = zoBuf[i];
    const x1 = m1 + a * z1;
    const fo = outer ? outer(x1) : 1;
    if (fo === 0) continue;
    const mu = m2 + b * z1;
    // inner cuts in z2
    let nc = 0;
    for (const j of soft) {
      const z = -(A[j] + B[j] * z1) / C[j];
      if (z > -L && z < L) cutBuf[nc++] = z;
    }
    let s = 0;
    if (nc === 0) {
      if (nSmall > 0) { const x = ghSmall.x, w = ghSmall.w; for (let j = 0; j < nSmall; j++) s += w[j] * inner(x1, mu + c * x[j]); }
      else {
        const x = trapInner.x, w = trapInner.w, n = x.length;
        let ends = 0;
        for (let j = 0; j < n; j++) {
          const wj = w[j];
          if (!(wj > 1e-300)) continue;
          const v = wj * inner(x1, mu + c * x[j]);
          s += v;
          if (j === 0 || j === n - 1) ends += Math.abs(v);
        }
        // the inner rule's end nodes: weight on the boundary of its range
        edge += Math.abs(wi * fo) * ends;
      }
    }
    else {
      if (nc > 1) cutBuf.subarray(0, nc).sort();
      if (nSmall > 0) {
        // narrow conditional law: Gauss rules for the truncated normal on the two ends
        s = upperTail(inner, x1, mu, -c, -cutBuf[0], nSmall) + upperTail(inner, x1, mu, c, cutBuf[nc - 1], nSmall);
        if (nc > 1) {
          let k = 0, cap = 0;
          for (let j = 0; j + 1 < nc; j++) cap += pieceCap(cutBuf[j], cutBuf[j + 1], c, 1);
          grow(cap);
          for (let j = 0; j + 1 < nc; j++) k = pieceNodes(cutBuf[j], cutBuf[j + 1], c, 1, zsBuf, wsBuf, k);
          for (let j = 0; j < k; j++) s += wsBuf[j] * inner(x1, mu + c * zsBuf[j]);
        }
      } else {
        const n = splitRule(cutBuf, nc, c, 0);
        for (let j = 0; j < n; j++) s += wsBuf[j] * inner(x1, mu + c * zsBuf[j]);
      }
    }
    acc += wi * fo * s;
    abs += Math.abs(wi * fo * s);
    if (z1 === zLo || z1 === zHi) edge += Math.abs(wi * fo * s);
  }
  // mass at the edge of [−L, L]² (e^{aX} at large variance): the widened tensor trapezoid —
  // spectral for a smooth F; second order across lines, so with lines only when the edge is
  // no longer negligible (1e-6), its step refined with the resolution like the rules above
  if (edge > (lines.length ? 1e-6 : 1e-14) * abs) return expectTensorTrapezoid([m1, m2], [[a, 0], [b, c]], Math.min(0.25, ROBUST_DX / Math.max(a, c)) / RES, (x) => F(x[0], x[1]));
  return acc;
}

/** E f(X1) g(X2) for a bivariate normal, split at the breakpoints of f and g. */
export function expect2(pf: Piecewise, pg: Piecewise, m1: number, m2: number, c11: number, c12: number, c22: number): number {
  const s1 = Math.sqrt(Math.max(c11, 0)), s2 = Math.sqrt(Math.max(c22, 0));
  const lines: KinkLine[] = [];
  if (!pf.smooth) for (const k of pf.breaks(m1 - L * s1, m1 + L * s1)) lines.push({ a0: -k, a1: 1, a2: 0 });
  if (!pg.smooth) for (const k of pg.breaks(m2 - L * s2, m2 + L * s2)) lines.push({ a0: -k, a1: 0, a2: 1 });
  const g = pg.f;
  return expectLines((_x1, x2) => g(x2), lines, m1, m2, c11, c12, c22, pf.f);
}

// ---------------------------------------------------------------------------
// Gauss rules for the truncated normal weight φ(z)·1{z > z0}, tabulated on a
// grid of z0 (step TRUNC_DZ); a cut between grid points is bridged by a short
// Gauss–Legendre panel. Built by the discretized Stieltjes procedure and
// Golub–Welsch, lazily.

const TRUNC_DZ = 1 / 8;
const truncCache: (Rule | undefined)[] = [];

function truncRule(k: number, n: number): Rule {
  const key = k * (SMALL_NMAX + 1) + n;
  const hit = truncCache[key];
  if (hit) return hit;
  const z0 = -L + k * TRUNC_DZ;
  // fine discretization of the weight on [z0, L + 1]
  const M = 240, P = 6;
  const g = gaussLegendre(M / P);
  const zs = new Float64Array(M), ws = new Float64Array(M);
  const len = L + 1 - z0, h = len / P / 2;
  for (let p = 0, i = 0; p < P; p++) {
    const c = z0 + (2 * p + 1) * h;
    for (let j = 0; j < M / P; j++, i++) { zs[i] = c + h * g.x[j]; ws[i] = h * g.w[j] * PHI0 * Math.exp(-0.5 * zs[i] * zs[i]); }
  }
  // Stieltjes: monic orthogonal polynomials on the discrete measure
  const alpha = new Float64Array(n), beta = new Float64Array(n);
  let p0 = new Float64Array(M), p1 = new Float64Array(M).fill(1);
  let nPrev = 1;
  for (let j = 0; j < n; j++) {
    let nrm = 0, mom = 0;
    for (let i = 0; i < M; i++) { const q = ws[i] * p1[i] * p1[i]; nrm += q; mom += q * zs[i]; }
    alpha[j] = mom / nrm;
    beta[j] = j === 0 ? nrm : nrm / nPrev;
    nPrev = nrm;
    const p2 = new Float64Array(M);
    for (let i = 0; i < M; i++) p2[i] = (zs[i] - alpha[j]) * p1[i] - (j === 0 ? 0 : beta[j]) * p0[i];
    p0 = p1; p1 = p2;
  }
  const { x, v0 } = symTridiagEigen(alpha, beta);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = beta[0] * v0[i] * v0[i];
  const r = { x, w };
  truncCache[key] = r;
  return r;
}

/** Eigenvalues and first eigenvector components of the Jacobi matrix (diag α, off-diag √β[1..]) by implicit QL. */
function symTridiagEigen(alpha: Float64Array, beta: Float64Array): { x: Float64Array; v0: Float64Array } {
  const n = alpha.length;
  const d = Float64Array.from(alpha), e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = Math.sqrt(beta[i]);
  const z = new Float64Array(n); z[0] = 1; // first row of the eigenvector matrix
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) { const dd = Math.abs(d[m]) + Math.abs(d[m + 1]); if (Math.abs(e[m]) <= 2.3e-16 * dd) break; }
      if (m === l) break;
      if (++iter > 60) throw new Error('symTridiagEigen: no convergence');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) { d[i + 1] -= p; e[m] = 0; break; }
        s = f / r; c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        f = z[i + 1];
        z[i + 1] = s * z[i] + c * f;
        z[i] = c * z[i] - s * f;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p; e[l] = g; e[m] = 0;
    }
  }
  const order = Array.from(d.keys()).sort((a, b) => d[a] - d[b]);
  return { x: Float64Array.from(order.map((i) => d[i])), v0: Float64Array.from(order.map((i) => z[i])) };
}

/**
 * ∫_{z0}^{∞} F(x1, μ + κz) φ(z) dz for an integrand nearly polynomial in z:
 * the order-n Gauss rule of the truncated weight at the grid point above z0,
 * plus a short Gauss–Legendre bridge from z0 to it.
 */
function upperTail(F: (x1: number, x2: number) => number, x1: number, mu: number, kappa: number, z0: number, n: number): number {
  if (z0 >= L) return 0;
  const k = Math.max(0, Math.ceil((z0 + L) / TRUNC_DZ - 1e-12));
  const zg = -L + k * TRUNC_DZ;
  let s = 0;
  if (zg < L) { const r = truncRule(k, n), x = r.x, w = r.w; for (let i = 0; i < n; i++) s += w[i] * F(x1, mu + kappa * x[i]); }
  if (zg > z0) {
    const c = 0.5 * (z0 + zg), hw = 0.5 * (zg - z0), x = BRIDGE.x, w = BRIDGE.w;
    for (let i = 0; i < BRIDGE_N; i++) { const z = c + hw * x[i]; s += hw * w[i] * PHI0 * Math.exp(-0.5 * z * z) * F(x1, mu + kappa * z); }
  }
  return s;
}
const BRIDGE_N = 4;
const BRIDGE = gaussLegendre(BRIDGE_N);

// ---------------------------------------------------------------------------
// Hermite coefficients of a piecewise-smooth function.

let hzBuf = new Float64Array(4096), hwBuf = new Float64Array(4096);

/**
 * Normalized Hermite coefficients a_k = E[f(m + σZ) He_k(Z)]/√k!, k = 0..K,
 * into out[off..off+K], by the split rule on z ∈ [−(2√K + 7), 2√K + 7] with
 * panels that resolve the oscillations of He_K; returns E f² on the same
 * nodes. With these, E f(X1) f(X2) = Σ ρ^k a_k(1) a_k(2) (Mehler) and
 * Σ_{j>k} a_j² = E f² − Σ_{j≤k} a_j² bounds the neglected terms.
 */
export function hermiteCoefficients(p: Piecewise, m: number, sigma: number, K: number, out: Float64Array, off: number): number {
  const K1 = K + 1;
  for (let k = 0; k < K1; k++) out[off + k] = 0;
  if (!(sigma > 0)) { const v = p.f(m); out[off] = v; return v * v; }
  const Lk = 2 * Math.sqrt(K) + 7;
  // z-scale of He_K's oscillations
  const scale = Math.min(1, HERMITE_OSC / Math.sqrt(K + 1));
  const br = p.smooth ? [] : p.breaks(m - Lk * sigma, m + Lk * sigma);
  const cuts = [-Lk];
  for (const b of br) { const z = (b - m) / sigma; if (z > cuts[cuts.length - 1] && z < Lk) cuts.push(z); }
  cuts.push(Lk);
  let cap = 0;
  for (let i = 0; i + 1 < cuts.length; i++) cap += pieceCap(cuts[i], cuts[i + 1], sigma, scale);
  if (cap > hzBuf.length) { hzBuf = new Float64Array(2 * cap); hwBuf = new Float64Array(2 * cap); }
  let n = 0;
  for (let i = 0; i + 1 < cuts.length; i++) n = pieceNodes(cuts[i], cuts[i + 1], sigma, scale, hzBuf, hwBuf, n);
  let ef2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = hwBuf[i];
    if (wi < 1e-300) continue;
    const z = hzBuf[i];
    const f = p.f(m + sigma * z);
    const fw = f * wi;
    ef2 += fw * f;
    let h0 = 1, h1 = z;
    out[off] += fw;
    if (K >= 1) out[off + 1] += fw * z;
    for (let k = 1; k < K; k++) {
      const h2 = (z * h1 - SQRT[k] * h0) * ISQRT[k + 1];
      h0 = h1; h1 = h2;
      out[off + k + 1] += fw * h2;
    }
  }
  return ef2;
}
/** nodes per oscillation of He_K: the z-scale of a piece is HERMITE_OSC/√(K+1) */
const HERMITE_OSC = 5;
const SQRT = Float64Array.from({ length: 1025 }, (_, k) => Math.sqrt(k));
const ISQRT = Float64Array.from({ length: 1025 }, (_, k) => (k > 0 ? 1 / Math.sqrt(k) : 0));

/** E h(Z), Z ~ N(0,1), by `expectPanels` cut wherever one of `args` changes sign on [−L, L] (the kinks of h in z). */
export function expectKinkedZ(h: (z: number) => number, args: ((z: number) => number)[], res: SplitResolution): number {
  return expectPanels(h, args.flatMap((a) => rootsIn(a, res.L)).sort((a, b) => a - b), res);
}
