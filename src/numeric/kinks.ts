// Kinks and jumps of piecewise-smooth functions: where they are.
//
// A function built from relu, abs, sign or a comparison is smooth except
// where one of their arguments vanishes: a kink (relu, abs: the function is
// continuous, its derivative jumps) or a jump (sign, `x > 0`: the function
// itself jumps, its distributional derivative carries a δ). Every quadrature
// of such a function is split at these breakpoints (./gauss.ts, ./rules.ts);
// a jump also changes stability in the t → ∞ solvers (docs/solve.md).
//
//   kinkArgs      the expressions whose zeros are the breakpoints
//   piecewiseOf   a function of one slot with its breakpoints: exact for
//                 affine arguments, otherwise a sign scan and bisection
//   kinkPoints    every breakpoint of one slot in a range (eager)
//   kinkLinesOf   breakpoint lines of a function of two slots
//   rootsIn       sign changes of a scalar function on [−L, L]
//   jumpOf        the jump of a function across a point (0 at a kink)
import { visit, type Expr } from '../expr/ast.ts';
import { compile } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { KINKED_FUNCTIONS } from '../expr/functions.ts';
import { bisect, sameSignAsLow } from './roots.ts';

/** functions of the language with a kink or a jump at the zero of their argument (the registry's breakpoints) */
export { KINKED_FUNCTIONS };

/** The expressions whose zeros are breakpoints of e: arguments of kinked functions, a − b of comparisons a ≶ b. */
export function kinkArgs(e: Expr): Expr[] {
  const out: Expr[] = [];
  visit(e, (x) => {
    if (x.k === 'cmp') out.push({ k: 'add', terms: [x.a, { k: 'mul', factors: [{ k: 'num', v: -1 }, x.b] }] });
    else if (x.k === 'call' && KINKED_FUNCTIONS.has(x.fn)) out.push(x.args[0]);
  });
  return out;
}

/** Does e have kinks or jumps? */
export const isKinked = (e: Expr): boolean => kinkArgs(e).length > 0;

/** A scalar function with the breakpoints where it is not smooth. */
export interface Piecewise {
  f: (x: number) => number;
  /** sorted breakpoints in the open interval (lo, hi) */
  breaks: (lo: number, hi: number) => number[];
  /** no breakpoints anywhere */
  smooth: boolean;
}

/** A smooth function (no breakpoints). */
export const smoothFn = (f: (x: number) => number): Piecewise => ({ f, breaks: () => [], smooth: true });

/** Breakpoints given explicitly (for tests and closed-form callers). */
export function withBreaks(f: (x: number) => number, points: number[]): Piecewise {
  const pts = [...points].sort((a, b) => a - b);
  return { f, smooth: pts.length === 0, breaks: (lo, hi) => pts.filter((p) => p > lo && p < hi) };
}

/**
 * The piecewise view of e as a function of the slot `variable` (other slots
 * fixed at `fixed`, parameters from `params`). Affine kink arguments give
 * exact breakpoints; others are scanned (step SCAN) and bisected, lazily over
 * the ranges asked for.
 */
export function piecewiseOf(e: Expr, variable: string, params: Record<string, number> = {}, slots: string[] = [variable], fixed?: Float64Array): Piecewise {
  const iv = slots.indexOf(variable);
  const buf = fixed ? Float64Array.from(fixed) : new Float64Array(slots.length);
  const F = compile(e, slots, params);
  const f = (x: number) => { buf[iv] = x; return F(buf); };
  const args = kinkArgs(e);
  if (args.length === 0) return smoothFn(f);
  const exact: number[] = [];
  const scanned: ((x: number) => number)[] = [];
  for (const a of args) {
    const A = compile(a, slots, params);
    const ab = Float64Array.from(buf);
    const g = (x: number) => { ab[iv] = x; return A(ab); };
    if (degree(a, (x) => x.k === 'sym' && x.name === variable) <= 1) {
      const g0 = g(0), g1 = g(1) - g0;
      if (g1 !== 0 && Number.isFinite(g1)) exact.push(-g0 / g1 + 0);
      // a constant argument: no breakpoint in this variable
    } else scanned.push(g);
  }
  const exactU = uniqSorted(exact);
  if (scanned.length === 0) return { f, smooth: false, breaks: (lo, hi) => exactU.filter((p) => p > lo && p < hi) };
  // lazily scanned roots of the nonlinear arguments
  const found: number[] = [];
  let cLo = 0, cHi = 0, covered = false;
  const scan = (lo: number, hi: number) => {
    const n = Math.min(200000, Math.max(64, Math.ceil((hi - lo) / SCAN)));
    const dx = (hi - lo) / n;
    for (const g of scanned) {
      let xa = lo, ga = g(xa);
      for (let i = 1; i <= n; i++) {
        const xb = lo + i * dx, gb = g(xb);
        if (gb === 0) { if (ga !== 0) found.push(xb); }
        else if (ga !== 0 && (ga > 0) !== (gb > 0)) {
          let l = xa, r = xb, gl = ga;
          for (let it = 0; it < 200 && r - l > 4e-16 * Math.max(1, Math.abs(l)); it++) {
            const mid = 0.5 * (l + r), gm = g(mid);
            if (gm === 0) { l = r = mid; break; }
            if ((gm > 0) === (gl > 0)) { l = mid; gl = gm; } else r = mid;
          }
          found.push(0.5 * (l + r));
        }
        xa = xb; ga = gb;
      }
    }
  };
  const all = () => uniqSorted([...exact, ...found]);
  let sorted = all();
  return {
    f, smooth: false,
    breaks: (lo, hi) => {
      if (!covered) { const w = Math.max(hi - lo, 1); cLo = lo - w; cHi = hi + w; scan(cLo, cHi); covered = true; sorted = all(); }
      if (lo < cLo) { const nl = lo - (cHi - cLo); scan(nl, cLo); cLo = nl; sorted = all(); }
      if (hi > cHi) { const nh = hi + (cHi - cLo); scan(cHi, nh); cHi = nh; sorted = all(); }
      return sorted.filter((p) => p > lo && p < hi);
    },
  };
}

/** sorted, without duplicates (a root met by several arguments, or both by the scan and exactly) */
function uniqSorted(v: number[]): number[] {
  const s = v.map((x) => x + 0).sort((a, b) => a - b);
  const out: number[] = [];
  for (const x of s) if (out.length === 0 || x - out[out.length - 1] > 1e-12 * Math.max(1, Math.abs(x))) out.push(x);
  return out;
}

/** x-step of the scan for breakpoints of nonlinear kink arguments */
const SCAN = 1 / 256;

/**
 * The points x where a function of the single slot `x` (other slots held at
 * 0) has a kink or a jump, in [−range, range]: exact for arguments affine in
 * x, otherwise by a scan (4000 points on [−50, 50]) and bisection.
 */
export function kinkPoints(f: Expr, x: string, slots: string[], params: Record<string, number>, range = 1e3): number[] {
  const out: number[] = [];
  const v = new Float64Array(slots.length);
  const i = slots.indexOf(x);
  for (const a of kinkArgs(f)) {
    const A = compile(a, slots, params);
    const at = (y: number) => { v.fill(0); v[i] = y; return A(v); };
    if (degree(a, (e) => e.k === 'sym' && e.name === x) <= 1) {
      const a0 = at(0), a1 = at(1) - a0;
      if (a1 !== 0 && Number.isFinite(a0 / a1)) out.push(-a0 / a1);
      continue;
    }
    const lim = Math.min(range, 50);
    out.push(...rootsIn(at, lim, 4000, 1e-15));
  }
  const s = out.filter((y) => Number.isFinite(y) && Math.abs(y) <= range).sort((a, b) => a - b);
  return s.filter((y, k) => k === 0 || Math.abs(y - s[k - 1]) > 1e-14 * Math.max(1, Math.abs(y)));
}

/**
 * Sign changes (and exact zeros at scan points) of f on [−L, L]: a scan of n
 * intervals, then bisection to a relative width `rel` (absolute below 1).
 */
export function rootsIn(f: (z: number) => number, L: number, n = 64, rel = 1e-14): number[] {
  const out: number[] = [];
  let z0 = -L, f0 = f(z0);
  for (let k = 1; k <= n; k++) {
    const z1 = -L + (2 * L * k) / n, f1 = f(z1);
    if (f0 === 0) out.push(z0);
    else if (f0 * f1 < 0) {
      const [lo, hi] = bisect(sameSignAsLow(f, f0), z0, z1, (a, b) => !(b - a > rel * Math.max(1, Math.abs(a))), 80);
      out.push((lo + hi) / 2);
    }
    z0 = z1; f0 = f1;
  }
  return out;
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

/** A breakpoint line a0 + a1·x1 + a2·x2 = 0 of a function of two variables. */
export interface KinkLine { a0: number; a1: number; a2: number }

// ---------------------------------------------------------------------------
// Breakpoint lines of a function of two slots.

/**
 * The breakpoint lines of e as a function of two slots (others fixed at
 * `fixed`): an argument of one slot only gives lines at its roots (found over
 * the ranges asked for), an argument affine in both a slanted line.
 * Undefined when an argument depends nonlinearly on both slots.
 */
export function kinkLinesOf(e: Expr, slotA: string, slotB: string, params: Record<string, number>, slots: string[], fixed?: Float64Array):
  ((loA: number, hiA: number, loB: number, hiB: number) => KinkLine[]) | undefined {
  const ia = slots.indexOf(slotA), ib = slots.indexOf(slotB);
  const isA = (x: Expr) => x.k === 'sym' && x.name === slotA, isB = (x: Expr) => x.k === 'sym' && x.name === slotB;
  const parts: ((loA: number, hiA: number, loB: number, hiB: number) => KinkLine[])[] = [];
  for (const arg of kinkArgs(e)) {
    const dA = degree(arg, isA), dB = degree(arg, isB);
    const stepOf: Expr = { k: 'call', fn: 'sign', args: [arg] };
    if (dA === 0 && dB === 0) continue;
    if (dB === 0) { const p = piecewiseOf(stepOf, slotA, params, slots, fixed); parts.push((lo, hi) => p.breaks(lo, hi).map((k) => ({ a0: -k, a1: 1, a2: 0 }))); continue; }
    if (dA === 0) { const p = piecewiseOf(stepOf, slotB, params, slots, fixed); parts.push((_a, _b, lo, hi) => p.breaks(lo, hi).map((k) => ({ a0: -k, a1: 0, a2: 1 }))); continue; }
    if (degree(arg, (x) => isA(x) || isB(x)) > 1) return undefined;
    const A = compile(arg, slots, params);
    const v = fixed ? Float64Array.from(fixed) : new Float64Array(slots.length);
    v[ia] = 0; v[ib] = 0; const a0 = A(v);
    v[ia] = 1; const a1 = A(v) - a0;
    v[ia] = 0; v[ib] = 1; const a2 = A(v) - a0;
    parts.push(() => [{ a0, a1, a2 }]);
  }
  return (loA, hiA, loB, hiB) => parts.flatMap((p) => p(loA, hiA, loB, hiB));
}
