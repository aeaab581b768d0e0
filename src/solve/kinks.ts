// Kinks and jumps of transfer functions, for the t → ∞ solvers.
//
// A function built from relu, abs, sign or a comparison is smooth except
// where one of their arguments vanishes: a kink (relu, abs: the function is
// continuous, its derivative jumps) or a jump (sign, `x > 0`: the function
// itself jumps, its distributional derivative carries a δ). Gaussian averages
// of such functions converge only algebraically on a uniform rule, so the
// solvers split their quadratures at these points; and a jump changes
// stability: g²⟨φ′²⟩ with φ′ ∋ c·δ is infinite wherever the Gaussian field
// has density at the jump (see docs/solve.md, "Kinked transfer functions").
//
// Nothing here knows any particular model.
import { visit, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, isVar } from '../expr/diff.ts';

/** The arguments whose zeros are the kinks/jumps of e: relu, abs, sign and comparisons (a − b). */
export function kinkArgs(e: Expr): Expr[] {
  const out: Expr[] = [];
  visit(e, (x) => {
    if (x.k === 'cmp') out.push({ k: 'add', terms: [x.a, { k: 'mul', factors: [{ k: 'num', v: -1 }, x.b] }] });
    else if (x.k === 'call' && (x.fn === 'relu' || x.fn === 'abs' || x.fn === 'sign')) out.push(x.args[0]);
  });
  return out;
}

export const isKinked = (e: Expr): boolean => kinkArgs(e).length > 0;

/**
 * The points x where a function of the single slot `x` (its other slots held
 * at 0) has a kink or a jump, in [−range, range]: exact for arguments affine
 * in x, otherwise by a scan (4000 points) and bisection.
 */
export function kinkPoints(f: Expr, x: string, slots: string[], params: Record<string, number>, range = 1e3): number[] {
  const out: number[] = [];
  const v = new Float64Array(slots.length);
  const i = slots.indexOf(x);
  for (const a of kinkArgs(f)) {
    const A: Compiled = compile(a, slots, params);
    const at = (y: number) => { v.fill(0); v[i] = y; return A(v); };
    if (degree(a, isVar(x)) <= 1) {
      const a0 = at(0), a1 = at(1) - a0;
      if (a1 !== 0 && Number.isFinite(a0 / a1)) out.push(-a0 / a1);
      continue;
    }
    const n = 4000, lo = -Math.min(range, 50), hi = -lo;
    let x0 = lo, g0 = at(lo);
    for (let k = 1; k <= n; k++) {
      const x1 = lo + ((hi - lo) * k) / n, g1 = at(x1);
      if (g0 === 0) out.push(x0);
      else if (g0 * g1 < 0) {
        let l = x0, h = x1, gl = g0;
        for (let it = 0; it < 80 && h - l > 1e-15 * Math.max(1, Math.abs(l)); it++) {
          const m = (l + h) / 2, gm = at(m);
          if (gm * gl > 0) { l = m; gl = gm; } else h = m;
        }
        out.push((l + h) / 2);
      }
      x0 = x1; g0 = g1;
    }
  }
  const s = out.filter((y) => Number.isFinite(y) && Math.abs(y) <= range).sort((a, b) => a - b);
  return s.filter((y, k) => k === 0 || Math.abs(y - s[k - 1]) > 1e-14 * Math.max(1, Math.abs(y)));
}

// ---------------------------------------------------------------------------
// quadrature

export interface Rule { x: Float64Array; w: Float64Array }

const legendreCache = new Map<number, Rule>();
/** Gauss–Legendre on [−1, 1] (weights sum to 2). */
export function gaussLegendre(n: number): Rule {
  const hit = legendreCache.get(n);
  if (hit) return hit;
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p1 = 1, p2 = 0;
      for (let j = 1; j <= n; j++) { const p3 = p2; p2 = p1; p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j; }
      dp = (n * (z * p1 - p2)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = -z; x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  const r = { x, w };
  legendreCache.set(n, r);
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

const phiDensity = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

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

/** E f(mean + √variance·Z) split at the kinks of f (x-locations); f(mean) when variance ≤ 0. */
export function expectSplit(f: (x: number) => number, mean: number, variance: number, kinks: number[], res: SplitResolution): number {
  if (!(variance > 0)) return f(mean);
  const s = Math.sqrt(variance);
  const r = splitNormalRule(kinks.map((k) => (k - mean) / s), res);
  let acc = 0;
  for (let i = 0; i < r.x.length; i++) acc += r.w[i] * f(mean + s * r.x[i]);
  return acc;
}

/**
 * The jump of a function across a point, from its values at −2δ, −δ, +δ, +2δ:
 * a jump gives the same difference at both offsets, a kink twice as much.
 * Returns f(x⁺) − f(x⁻), or 0 when the function is continuous there.
 */
export function jumpOf(m2: number, m1: number, p1: number, p2: number): number {
  const j1 = p1 - m1, j2 = p2 - m2;
  return Math.abs(j1) > 1e-12 * (1 + Math.abs(m1)) && Math.abs(j2 - j1) < 0.25 * Math.abs(j1) ? j1 : 0;
}

/** The jump f(x⁺) − f(x⁻) of f at x (0 when continuous there). */
export function jumpAcross(f: (x: number) => number, x: number, delta = 1e-7 * Math.max(1, Math.abs(x))): number {
  return jumpOf(f(x - 2 * delta), f(x - delta), f(x + delta), f(x + 2 * delta));
}

/** Roots of f on [−L, L]: a scan of n intervals, then bisection (kink arguments are mostly affine: one root). */
export function rootsIn(f: (z: number) => number, L: number, n = 64): number[] {
  const out: number[] = [];
  let z0 = -L, f0 = f(z0);
  for (let k = 1; k <= n; k++) {
    const z1 = -L + (2 * L * k) / n, f1 = f(z1);
    if (f0 === 0) out.push(z0);
    else if (f0 * f1 < 0) {
      let lo = z0, hi = z1, flo = f0;
      for (let it = 0; it < 60 && hi - lo > 1e-14; it++) {
        const mid = (lo + hi) / 2, fm = f(mid);
        if (fm * flo > 0) { lo = mid; flo = fm; } else hi = mid;
      }
      out.push((lo + hi) / 2);
    }
    z0 = z1; f0 = f1;
  }
  return out;
}

/** E fn(Z), Z ~ N(0,1), split where any of `args` changes sign (the kinks of fn in z). */
export function expectKinkedZ(fn: (z: number) => number, args: ((z: number) => number)[], res: SplitResolution): number {
  const L = res.L, gl = gaussLegendre(res.gl);
  const bps = args.flatMap((a) => rootsIn(a, L)).sort((a, b) => a - b);
  let acc = 0, wsum = 0, a = -L;
  const piece = (lo: number, hi: number) => {
    const np = Math.max(1, Math.ceil((hi - lo) / res.panel - 1e-9)), h = (hi - lo) / np;
    for (let p = 0; p < np; p++) {
      const mid = lo + (p + 0.5) * h, half = h / 2;
      for (let i = 0; i < gl.x.length; i++) {
        const z = mid + half * gl.x[i];
        const w = half * gl.w[i] * Math.exp(-0.5 * z * z);
        acc += w * fn(z); wsum += w;
      }
    }
  };
  for (const b of bps) if (b > a && b < L) { piece(a, b); a = b; }
  piece(a, L);
  return acc / wsum;
}
