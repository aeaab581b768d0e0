// Gaussian-state closure of the DMFT equations, transient: the driver.
//
// When every population's single-site equation is affine in its stochastic
// inputs (its variables, Gaussian fields, white noise, quenched normal inputs
// and memory integrals of those), the single-site process is Gaussian for a
// Gaussian initial condition, and its law is fixed by means, covariances and
// responses on a time grid (no sampling). `gaussian-vector.ts` solves one grid
// for a site of any number of variables — a scalar population is its case
// V = 1; this file runs it on the grids 2·dt, dt, dt/2, extrapolates
// (Richardson, with the observed order where the solution is not smooth in
// time), and turns the differences into error bars; it detects growth,
// divergence and steps too coarse for a stiff variable (docs/gaussian-closure.md).
import { DmftError } from '../errors.ts';
import type { SystemReading } from './read.ts';
import { readSystem } from './read.ts';
import { vectorEngine } from './gaussian-vector.ts';
import type { SolveOptions, SolveResult, TwoTime } from './types.ts';
import { richardson } from '../numeric/extrapolate.ts';
import { table } from '../table.ts';

/** A closure on one grid and its observables (gaussian-vector.ts). The Richardson
 *  extrapolation and the error bars of `solveGaussian` are built on it. */
export interface ClosureEngine {
  observables: { name: string; twoTime: boolean }[];
  run(h: number, N: number, lo: LevelOptions): LevelData;
  /** observable `oi` at the grid times (n, j) of a level, with its quadrature error */
  observe(lv: LevelData, oi: number, n: number, j: number): Quad;
}

/** The engine for a reading (refuses with the reason what it cannot solve). */
export function closureEngine(reading: SystemReading): ClosureEngine {
  return vectorEngine(reading);
}

/** Why the Gaussian closure does not apply (undefined when it does). */
export function gaussianUnsupported(reading: SystemReading): string | undefined {
  try {
    closureEngine(reading);
    return undefined;
  } catch (e) {
    if (e instanceof DmftError) return e.message;
    throw e;
  }
}

export interface LevelData {
  /** the base step (the first block's step on a graded grid) */
  h: number;
  N: number;
  /** the node times t_0 … t_N */
  t: Float64Array;
  pops: { m: Float64Array; K: Float64Array; Xq: Float64Array[] }[];
  /** index of the last finite step (N unless the solution diverged) */
  last: number;
  diverged?: string;
  sweepsMax: number;
  sweepsMean: number;
  /** largest relative change of a row in the last sweep of a step that stopped short of the tolerance */
  residualMax: number;
  fallbackPairs: number;
  /** largest h·|∂F/∂x| (damping rates) of a variable whose population's order parameters feed fields, kernels or mean fields */
  stiffness: { value: number; variable: string; rate: number };
  /** the closure's state (gaussian-vector.ts); `pops` lists one entry per variable */
  vector?: unknown;
}

/** Time-stepping scheme of dynamic variables:
 *  'trapezoid' (implicit, second order, the variable's own damping integrated exactly; default),
 *  'euler' (explicit, first order). */
export type Scheme = 'trapezoid' | 'euler';
export const SCHEME_ORDER: Record<Scheme, number> = { trapezoid: 2, euler: 1 };

export interface LevelOptions {
  scheme: Scheme;
  /** the node times t_0 = 0 < … < t_N (default uniform, t_n = n h) */
  grid?: Float64Array;
  /** relative tolerance of the within-step fixed point */
  stepTol?: number;
  maxSweeps?: number;
  /** stop after maxSweeps without complaint (a predictor–corrector scheme of fixed cost) */
  fixedSweeps?: boolean;
  progress?: (fraction: number) => void;
}

/** a value with an estimate of its quadrature error */
export interface Quad { v: number; e: number }

/** 4-point Lagrange interpolation of a grid function at time t. */
function interp(values: (n: number) => number, h: number, N: number, t: number, abs = false): number {
  const x = t / h;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 && r >= 0 && r <= N) return values(r);
  let i0 = Math.floor(x) - 1;
  i0 = Math.max(0, Math.min(N - 3, i0));
  if (N < 3) { const a = Math.floor(x), b = Math.min(N, a + 1), u = x - a; return (1 - u) * values(a) + u * values(b); }
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let l = 1;
    for (let k = 0; k < 4; k++) if (k !== i) l *= (x - (i0 + k)) / (i - k);
    s += (abs ? Math.abs(l) : l) * values(i0 + i);
  }
  return s;
}

/**
 * An upper estimate of the error of interp() at t between grid points (0 on
 * the grid): where the four nodes resolve the solution (third difference small
 * against the first, i.e. rate·h ≲ 0.3) the cubic's distance to the quadratic
 * through the nearest three nodes; where they do not (t inside a step over
 * which a stiff variable relaxes) its distance to both nodes of that step and
 * to the linear interpolant — Richardson over the levels does not see an
 * error that does not shrink like h^p.
 */
function interpError(values: (n: number) => number, h: number, N: number, t: number): number {
  const x = t / h;
  const r = Math.round(x);
  if ((Math.abs(x - r) < 1e-9 && r >= 0 && r <= N) || N < 3) return 0;
  const i0 = Math.max(0, Math.min(N - 3, Math.floor(x) - 1));
  const v = [0, 1, 2, 3].map((i) => values(i0 + i));
  const cubic = interp(values, h, N, t);
  const a = Math.max(0, Math.min(N - 1, Math.floor(x))), u = x - a;
  const linear = (1 - u) * values(a) + u * values(a + 1);
  const d1 = Math.max(Math.abs(v[1] - v[0]), Math.abs(v[2] - v[1]), Math.abs(v[3] - v[2]));
  const d3 = Math.abs(v[3] - 3 * v[2] + 3 * v[1] - v[0]);
  // unresolved: nothing between the nodes is known but that a relaxation passes from one to the
  // other, so the bar reaches both bracketing nodes
  if (d3 > 0.1 * d1) return Math.max(Math.abs(cubic - linear), Math.abs(cubic - values(a)), Math.abs(cubic - values(a + 1)));
  // the quadratic through the three nodes nearest t
  const j0 = Math.max(i0, Math.min(i0 + 1, Math.round(x) - 1)), y = x - j0;
  const w = [v[j0 - i0], v[j0 - i0 + 1], v[j0 - i0 + 2]];
  const quad = w[0] * ((y - 1) * (y - 2)) / 2 - w[1] * y * (y - 2) + w[2] * (y * (y - 1)) / 2;
  return Math.abs(cubic - quad);
}

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The solver.

/** The base step cannot resolve the fastest rate of a variable whose
 *  correlations feed back through its fields; `dt` is the largest base step
 *  that would. */
export class StiffStepError extends DmftError {
  constructor(readonly dt: number, init: ConstructorParameters<typeof DmftError>[0]) { super(init); }
}

export interface GaussianOptions extends SolveOptions {
  /** time-stepping scheme (default 'trapezoid') */
  scheme?: Scheme;
  /** number of grids h, h/2, … (default 2 for the second-order schemes, 3 for Euler) */
  levels?: number;
  /** also solve on 2·dt to estimate the error of the extrapolated value (default true) */
  errorGrid?: boolean;
  /** maximal two-time output points per axis without --times */
  twoTimePoints?: number;
  /** the time grid: 'uniform' (steps dt), or 'graded' (blocks of `block` steps, each block's
   *  step twice the last one's, up to what stiff variables allow); default graded for systems
   *  without white noise, uniform otherwise (docs/gaussian-closure.md, "Graded grids") */
  grid?: 'uniform' | 'graded';
  /** steps per block of the graded grid (even; default GRADED_BLOCK) */
  block?: number;
}

/** Steps per block of the graded grid (on the grid dt). */
export const GRADED_BLOCK = 64;

/**
 * The node times of a graded grid on [0, T]: blocks of `block` steps, the
 * first of step h0, each next one's step twice the last's but at most hMax;
 * the last block ends on T with an even number of equal steps (so that the
 * grid 2·dt, which takes every other node, ends on T too).
 */
export function gradedGrid(T: number, h0: number, block: number, hMax = Infinity): Float64Array {
  const t: number[] = [0];
  let step = h0;
  for (;;) {
    const t0 = t[t.length - 1], rest = T - t0;
    if (rest <= block * step * (1 + 1e-9)) {
      const m = 2 * Math.max(1, Math.ceil(rest / (2 * step) - 1e-9));
      for (let i = 1; i < m; i++) t.push(t0 + (rest * i) / m);
      t.push(T);
      return Float64Array.from(t);
    }
    for (let i = 1; i <= block; i++) t.push(t0 + i * step);
    if (2 * step <= hMax * (1 + 1e-12)) step *= 2;
  }
}

/**
 * How far the steps of a graded level may grow while the solution stays as
 * well resolved as on its first block: along each block of equal steps, the
 * largest second difference near the diagonal of every variable's
 * covariance row, |K(n,n) − 2K(n,n−1) + K(n,n−2)|/K(n,n), and of its mean
 * (against its largest value) — about (step/τ)² for a correlation time τ. A
 * state that settles (a fixed point, a slowing relaxation) lets it fall as
 * the steps double; a chaotic or noisy state (τ fixed) or a growing one
 * (τ = 1/rate) does not. Returns the largest step on the level's grid below
 * the first block whose second difference exceeds a quarter of the first
 * block's (undefined when every block passes).
 */
function gradingCap(lv: LevelData): number | undefined {
  const t = lv.t, last = lv.last, N1 = lv.N + 1;
  const mMax = Math.max(1e-300, ...lv.pops.map((p) => Math.max(...Array.from(p.m.subarray(0, last + 1), Math.abs))));
  const kMax = Math.max(1e-300, ...lv.pops.map((p) => { let m = 0; for (let n = 0; n <= last; n++) m = Math.max(m, Math.abs(p.K[n * N1 + n])); return m; }));
  const delta = (n: number): number => {
    let d = 0;
    for (const p of lv.pops) {
      const knn = p.K[n * N1 + n];
      if (Math.abs(knn) > 1e-12 * kMax) d = Math.max(d, Math.abs(knn - 2 * p.K[n * N1 + n - 1] + p.K[n * N1 + n - 2]) / Math.abs(knn));
      d = Math.max(d, Math.abs(p.m[n] - 2 * p.m[n - 1] + p.m[n - 2]) / mMax);
    }
    return d;
  };
  // blocks: runs of rows whose last two steps are equal
  const blocks: { step: number; d: number }[] = [];
  for (let n = 2; n <= last; n++) {
    const s1 = t[n] - t[n - 1], s0 = t[n - 1] - t[n - 2];
    if (Math.abs(s1 - s0) > 1e-9 * s1) continue;
    const b = blocks[blocks.length - 1];
    if (b && Math.abs(b.step - s1) <= 1e-9 * s1) b.d = Math.max(b.d, delta(n));
    else blocks.push({ step: s1, d: delta(n) });
  }
  for (let b = 1; b < blocks.length; b++) {
    if (blocks[b].step > blocks[b - 1].step * (1 + 1e-9) && blocks[b].d > 0.25 * blocks[0].d) return blocks[b - 1].step;
  }
  return undefined;
}

/** The grid whose steps are those of `g` split into f (f = 1, 2, 4 …), or merged in pairs (f = ½). */
function refineGrid(g: Float64Array, f: number): Float64Array {
  if (f === 0.5) return g.filter((_, i) => i % 2 === 0);
  const out = new Float64Array((g.length - 1) * f + 1);
  for (let i = 0; i + 1 < g.length; i++) for (let k = 0; k < f; k++) out[i * f + k] = g[i] + ((g[i + 1] - g[i]) * k) / f;
  out[out.length - 1] = g[g.length - 1];
  return out;
}

/** 4-point Lagrange interpolation of a function on the nodes `x` (increasing) at t; `abs`: the sum of |weights|·values. */
function interpNodes(values: (n: number) => number, x: Float64Array, t: number, abs = false): number {
  const N = x.length - 1;
  let lo = 0, hi = N;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (x[mid] <= t) lo = mid; else hi = mid; }
  const tol = 1e-9 * (x[Math.min(N, lo + 1)] - x[lo]);
  if (Math.abs(t - x[lo]) <= tol) return values(lo);
  if (lo + 1 <= N && Math.abs(t - x[lo + 1]) <= tol) return values(lo + 1);
  if (N < 3) { const u = (t - x[lo]) / (x[lo + 1] - x[lo]); return (1 - u) * values(lo) + u * values(lo + 1); }
  const i0 = Math.max(0, Math.min(N - 3, lo - 1));
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let l = 1;
    for (let k = 0; k < 4; k++) if (k !== i) l *= (t - x[i0 + k]) / (x[i0 + i] - x[i0 + k]);
    s += (abs ? Math.abs(l) : l) * values(i0 + i);
  }
  return s;
}

/** interpError on the nodes x: the cubic's distance to the quadratic through the nearest three nodes,
 *  or, where the four nodes do not resolve the solution, to both bracketing nodes and the linear interpolant */
function interpErrorNodes(values: (n: number) => number, x: Float64Array, t: number): number {
  const N = x.length - 1;
  if (N < 3) return 0;
  let lo = 0, hi = N;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (x[mid] <= t) lo = mid; else hi = mid; }
  const a = Math.min(lo, N - 1), tol = 1e-9 * (x[a + 1] - x[a]);
  if (Math.abs(t - x[a]) <= tol || Math.abs(t - x[a + 1]) <= tol) return 0;
  const i0 = Math.max(0, Math.min(N - 3, a - 1));
  const v = [0, 1, 2, 3].map((i) => values(i0 + i));
  const cubic = interpNodes(values, x, t);
  const u = (t - x[a]) / (x[a + 1] - x[a]);
  const linear = (1 - u) * values(a) + u * values(a + 1);
  // the first and third differences scaled to the stencil's mean spacing H (divided differences:
  // on uneven nodes the plain third difference of a straight line is not zero)
  const xs = [0, 1, 2, 3].map((i) => x[i0 + i]), H = (xs[3] - xs[0]) / 3;
  const dd1 = [0, 1, 2].map((i) => (v[i + 1] - v[i]) / (xs[i + 1] - xs[i]));
  const dd2 = [0, 1].map((i) => (dd1[i + 1] - dd1[i]) / (xs[i + 2] - xs[i]));
  const dd3 = (dd2[1] - dd2[0]) / (xs[3] - xs[0]);
  const d1 = Math.max(...dd1.map(Math.abs)) * H, d3 = Math.abs(dd3) * 6 * H * H * H;
  if (d3 > 0.1 * d1) return Math.max(Math.abs(cubic - linear), Math.abs(cubic - values(a)), Math.abs(cubic - values(a + 1)));
  // the quadratic through the three nodes nearest t
  const near = t - x[a] < x[a + 1] - t ? a : a + 1;
  const j0 = Math.max(i0, Math.min(i0 + 1, near - 1));
  let quad = 0;
  for (let i = 0; i < 3; i++) {
    let l = 1;
    for (let k = 0; k < 3; k++) if (k !== i) l *= (t - x[j0 + k]) / (x[j0 + i] - x[j0 + k]);
    quad += l * values(j0 + i);
  }
  return Math.abs(cubic - quad);
}

export interface GaussianSolution {
  result: SolveResult;
  /** extrapolated one-time observables on the coarse grid (for limits) */
  series: { t: number[]; values: Record<string, number[]>; error: Record<string, number[]> };
  /** growth diagnostics of the coarse level: `unstable` (clear exponential growth),
   *  `weakUnstable` (still growing, not decelerating, over the last half) */
  growth: { rate: number; ratio: number; unstable: boolean; weakUnstable: boolean };
  /** why the transient grows, naming the parameters that drive it (computed on demand: it re-solves) */
  instability: () => string;
}

const fmt = (x: number) => +x.toPrecision(4);
/** largest (damping rate)·(finest dt) for which the closure resolves a variable whose correlations feed back */
const STIFF_MAX = 0.5;
/** an observed order this far below the scheme's marks the grids as not in the asymptotic regime */
const ORDER_SLACK = 0.3;

/** Growth of the second moments over the last half of a level. */
function growthOf(lv: LevelData, graded: boolean): { rate: number; ratio: number; accel: number; unstable: boolean; weakUnstable: boolean } {
  const N1 = lv.N + 1;
  const last = lv.last;
  const S = (n: number) => Math.max(...lv.pops.map((p) => p.K[n * N1 + n] + p.m[n] * p.m[n]));
  if (last < 8) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  // the nodes at a half and three quarters of the time reached (of the steps, on a uniform grid)
  const at = (frac: number) => {
    if (!graded) return Math.round(last * frac);
    let i = 0;
    while (i < last && lv.t[i + 1] <= frac * lv.t[last]) i++;
    return i;
  };
  const n3 = last, n2 = at(0.75), n1 = at(0.5);
  const span = (a: number, b: number) => (graded ? lv.t[b] - lv.t[a] : (b - a) * lv.h);
  const dt = span(n2, n3);
  const s1 = S(n1), s2 = S(n2), s3 = S(n3);
  if (!(s3 > 0) || !(s2 > 0) || !(s1 > 0)) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  const r2 = Math.log(s3 / s2) / dt, r1 = Math.log(s2 / s1) / span(n1, n2);
  const unstable = s3 > 1.5 * s2 && r2 > 0 && r2 >= 0.7 * r1;
  const weakUnstable = s3 > s2 * (1 + 1e-6) && r2 > 0 && (r1 <= 0 || r2 >= 0.9 * r1);
  return { rate: r2, ratio: s3 / s2, accel: r1 > 0 ? r2 / r1 : NaN, unstable, weakUnstable };
}

/** Name the parameters that drive a growth: growth-rate sensitivities on the coarse grid. */
function describeInstability(reading: SystemReading, opts: GaussianOptions, h: number, N: number, scheme: Scheme, rate: number, divergedAt?: number): { message: string; hint: string } {
  const T = (divergedAt ?? N) * h;
  const Np = Math.max(16, Math.round(Math.min(T, opts.T) / h));
  const base = probeRate(reading.sys, opts.params, h, Np, scheme);
  const sens: { name: string; s: number; value: number }[] = [];
  if (Number.isFinite(base)) {
    for (const [name, value] of Object.entries(opts.params)) {
      if (value === 0 || !Number.isFinite(value)) continue;
      const eps = 0.05;
      let r: number;
      try { r = probeRate(reading.sys, { ...opts.params, [name]: value * (1 - eps) }, h, Np, scheme); } catch { continue; }
      if (!Number.isFinite(r)) continue;
      const s = (base - r) / eps;
      sens.push({ name, s, value });
    }
  }
  sens.sort((a, b) => b.s - a.s);
  const top = sens.length ? sens[0].s : 0;
  const drivers = sens.filter((x) => x.s > 0.1 * top && x.s > 1e-3);
  const named = drivers.map((x) => `${x.name} = ${x.value} (d rate/d ln ${x.name} ≈ ${fmt(x.s)})`).join(', ');
  const rateTxt = Number.isFinite(rate) ? `the second moment grows like e^(${fmt(rate)} t)` : 'the solution overflows';
  return {
    message: `${reading.linear ? 'the linear system is past its stability edge: ' : ''}${rateTxt} instead of settling${divergedAt !== undefined ? ` (diverged by t = ${fmt(divergedAt * h)})` : ''}` +
      (drivers.length ? `; the growth is driven by ${named}` : ''),
    hint: drivers.length ? `reduce ${drivers.map((x) => x.name).join(' or ')} below the edge` : 'check the signs of the restoring terms',
  };
}

function probeRate(sys: SystemReading['sys'], params: Record<string, number>, h: number, N: number, scheme: Scheme): number {
  const lv = closureEngine(readSystem(sys, params)).run(h, N, { scheme });
  const last = lv.last;
  if (last < 8) return NaN;
  const N1 = lv.N + 1;
  const S = (n: number) => Math.max(...lv.pops.map((p) => p.K[n * N1 + n] + p.m[n] * p.m[n]));
  const n2 = Math.round(last * 0.75);
  return Math.log(S(last) / S(n2)) / ((last - n2) * h);
}

export function solveGaussian(reading: SystemReading, opts: GaussianOptions): GaussianSolution {
  const engine = closureEngine(reading);
  const scheme: Scheme = opts.scheme ?? 'trapezoid';
  if (!(scheme in SCHEME_ORDER)) throw new DmftError({ message: `unknown time-stepping scheme '${scheme}'`, expected: Object.keys(SCHEME_ORDER).join(' | ') });
  const order = SCHEME_ORDER[scheme];
  const levels = Math.max(1, Math.min(4, opts.levels ?? (order === 2 ? 2 : 3)));
  if (!(opts.T > 0) || !(opts.dt > 0)) throw new DmftError({ message: `T and dt must be positive (T = ${opts.T}, dt = ${opts.dt})` });
  const N0 = Math.max(2, Math.round(opts.T / opts.dt));
  const h0 = opts.T / N0;
  const times = opts.times;
  if (times) for (const t of times) if (!(t >= -1e-12 && t <= opts.T * (1 + 1e-12))) throw new DmftError({ message: `--times: ${t} is outside [0, T = ${opts.T}]` });
  const tOut = times ? times.slice() : Array.from({ length: N0 + 1 }, (_, i) => i * h0);
  // the graded grid (steps doubling block by block) where it is shorter than the uniform one:
  // for systems without white noise by default (their correlations smooth out as they settle)
  const noiseDriven = reading.pops.some((p) => p.noises.length > 0);
  const block = opts.block ?? GRADED_BLOCK;
  if (!(Number.isInteger(block) && block >= 2 && block % 2 === 0)) throw new DmftError({ message: `the graded grid's block must be an even number of steps ≥ 2 (got ${block})` });
  const graded = (opts.grid ?? (noiseDriven ? 'uniform' : 'graded')) === 'graded' && opts.T > block * h0 * (1 + 1e-9);
  let hMax = Infinity;
  /** the nodes of the grid dt (graded) */
  let g0 = graded ? gradedGrid(opts.T, h0, block, hMax) : new Float64Array(0);
  const M0 = () => (graded ? g0.length - 1 : N0);
  /** the node of the grid dt nearest to t */
  const nodeOf = (t: number): number => {
    if (!graded) return Math.round(t / h0);
    let best = 0;
    for (let i = 1; i < g0.length; i++) if (Math.abs(g0[i] - t) < Math.abs(g0[best] - t)) best = i;
    return best;
  };
  const obsList = engine.observables.map((o, index) => ({ ...o, index }));
  const one = obsList.filter((o) => !o.twoTime);
  const two = obsList.filter((o) => o.twoTime);
  // two-time output: requested times snapped to the coarse grid, or a subsample
  const maxPts = opts.twoTimePoints ?? 41;
  const twoIdxOf = (M: number) => times
    ? times.map(nodeOf)
    : Array.from(new Set(Array.from({ length: Math.min(maxPts, M + 1) }, (_, i) => Math.round((i * M) / Math.max(1, Math.min(maxPts, M + 1) - 1)))));
  let twoIdx = twoIdxOf(M0());

  const oneVals: number[][][] = one.map(() => []); // [obs][level][k]
  const serVals: number[][][] = one.map(() => []); // coarse grid
  // quadrature errors of the same values
  const oneQ: number[][][] = one.map(() => []);
  const serQ: number[][][] = one.map(() => []);
  const twoQ: number[][][][] = two.map(() => []);
  const diag: Record<string, number | string | boolean> = {};
  let growth = { rate: NaN, ratio: NaN, unstable: false, weakUnstable: false };
  let coarse: { h: number; N: number } = { h: h0, N: N0 };
  const started = Date.now();

  // grids: an extra coarser one (2·dt, cost ≈ 1/8 of dt's) for the error of
  // the extrapolated value, then dt, dt/2, …
  const extra = (opts.errorGrid ?? true) && M0() % 2 === 0 && M0() >= 8;
  const factors = [...(extra ? [0.5] : []), ...Array.from({ length: levels }, (_, l) => 2 ** l)];
  const twoLevels: number[][][][] = two.map(() => []);
  let restarts = 0;
  for (let l = 0; l < factors.length; l++) {
    const f = factors[l];
    const h = h0 / f, N = Math.round(M0() * f);
    const grid = graded ? refineGrid(g0, f) : undefined;
    let lv: LevelData;
    try {
      lv = engine.run(h, N, {
        scheme, grid,
        progress: opts.progress ? (x) => opts.progress!(`gaussian closure, grid ${l + 1}/${factors.length} (dt = ${fmt(h)})`, x) : undefined,
      });
    } catch (e) {
      // a step that fails on the grown steps (an implicit step that does not converge): the base step throughout
      if (!(graded && e instanceof DmftError && hMax > h0 * (1 + 1e-9))) throw e;
      hMax = h0;
      g0 = gradedGrid(opts.T, h0, block, hMax);
      twoIdx = twoIdxOf(M0());
      l = -1;
      continue;
    }
    const tag = f === 0.5 ? 'E' : String(Math.log2(f));
    diag[`sweepsMax_${tag}`] = lv.sweepsMax;
    diag[`sweepsMean_${tag}`] = fmt(lv.sweepsMean);
    if (lv.residualMax > 0) diag[`stepResidual_${tag}`] = +lv.residualMax.toExponential(2);
    if (lv.fallbackPairs) diag[`quadrature2dPairs_${tag}`] = lv.fallbackPairs;
    if (l === 0) {
      const g = growthOf(lv, graded);
      growth = { rate: g.rate, ratio: g.ratio, unstable: g.unstable, weakUnstable: g.weakUnstable };
      coarse = { h, N: graded ? Math.round(opts.T / h) : N };
    }
    if (l === 0 && lv.stiffness.value > 0) {
      // the stiff linear part is integrated exactly, but the fields built from
      // this variable's correlations vary on the scale 1/rate too: unresolved
      // on the grid, an error Richardson does not see
      const finest = h0 / 2 ** (levels - 1);
      const st = lv.stiffness;
      // on a graded grid: the largest rate·(local step) of the finest grid
      const worst = graded ? (st.value * f) / 2 ** (levels - 1) : st.rate * finest;
      if (graded && worst > STIFF_MAX && st.rate * finest <= STIFF_MAX && restarts < 4) {
        // the steps may grow only as far as the stiff variable is resolved: cap them, start again
        hMax = Math.min(hMax, (STIFF_MAX * 2 ** (levels - 1)) / st.rate);
        g0 = gradedGrid(opts.T, h0, block, hMax);
        twoIdx = twoIdxOf(M0());
        restarts++;
        l = -1;
        continue;
      }
      if (graded ? worst > STIFF_MAX * (1 + 1e-9) : worst > STIFF_MAX) {
        const need = (STIFF_MAX * 2 ** (levels - 1)) / st.rate;
        throw new StiffStepError(need, {
          message: `the time step does not resolve the fastest rate of ${st.variable}: |∂F/∂${st.variable}| reaches ${fmt(st.rate)}, so ${st.variable}'s correlations, which feed back through its fields, change on the time scale ${fmt(1 / st.rate)}, while the finest grid has dt = ${fmt(finest)}; the closure's error would be uncontrolled`,
          hint: `use --dt ${fmt(need)} or smaller (${Math.ceil(opts.T / need)} steps for T = ${opts.T})${opts.T / need > 1e5 ? ', with a shorter --T' : ''}`,
        });
      }
    }
    if (graded && l === 0 && lv.diverged && hMax > h0 * (1 + 1e-9)) {
      // a solution that overflows is not settling: the base step throughout, as on a uniform grid
      hMax = h0;
      g0 = gradedGrid(opts.T, h0, block, hMax);
      twoIdx = twoIdxOf(M0());
      l = -1;
      continue;
    }
    if (graded && l === 0 && !lv.diverged && restarts < 4) {
      // the steps may grow only while the solution settles (gradingCap): else cap them, start again
      const cap = gradingCap(lv);
      if (cap !== undefined && cap * f < hMax * (1 - 1e-9)) {
        hMax = cap * f;
        g0 = gradedGrid(opts.T, h0, block, hMax);
        twoIdx = twoIdxOf(M0());
        restarts++;
        l = -1;
        continue;
      }
    }
    if (lv.diverged) {
      // a growing transient is reported (with its growth law) as long as it is
      // representable; only values that overflow are refused
      const tEnd = graded ? lv.t[Math.min(lv.N, lv.last + 1)] : (lv.last + 1) * h;
      if (l === 0 && lv.last >= 8 && /overflow|non-finite/.test(lv.diverged)) {
        const why = describeInstability(reading, opts, h, coarse.N, scheme, growth.rate, graded ? Math.round(lv.t[lv.last] / h) : lv.last);
        throw new DmftError({ message: `the transient overflows by t = ${fmt(tEnd)}: ${why.message} (rate measured on the grid dt = ${fmt(h)}, where rate·dt = ${fmt(growth.rate * h)})`, hint: `solve up to a shorter time (--T ${fmt(0.8 * tEnd)} is representable), or ${why.hint}` });
      }
      throw new DmftError({ message: `the Gaussian closure diverged: ${lv.diverged}`, hint: 'the dynamics may be unstable at these parameters; try a shorter --T or a smaller --dt' });
    }
    one.forEach((o, oi) => {
      const cache = new Map<number, Quad>();
      const q = (n: number) => { let v = cache.get(n); if (v === undefined) { v = engine.observe(lv, o.index, n, n); cache.set(n, v); } return v; };
      const at = (n: number) => q(n).v, err = (n: number) => q(n).e;
      const ip = (fn: (n: number) => number, t: number, abs = false) => (graded ? interpNodes(fn, lv.t, t, abs) : interp(fn, h, N, t, abs));
      const ie = (t: number) => (graded ? interpErrorNodes(at, lv.t, t) : interpError(at, h, N, t));
      oneVals[oi].push(tOut.map((t) => ip(at, t)));
      serVals[oi].push(Array.from({ length: N0 + 1 }, (_, k) => ip(at, k * h0)));
      // the interpolation error at output times between grid points rides with the quadrature error
      // (and at the series' times between the nodes of a graded grid)
      oneQ[oi].push(tOut.map((t) => ip(err, t, true) + ie(t)));
      serQ[oi].push(Array.from({ length: N0 + 1 }, (_, k) => ip(err, k * h0, true) + (graded ? ie(k * h0) : 0)));
    });
    if (f >= 1) two.forEach((o, oi) => {
      const q = twoIdx.map((a) => twoIdx.map((b) => engine.observe(lv, o.index, a * f, b * f)));
      twoLevels[oi].push(q.map((r) => r.map((x) => x.v)));
      twoQ[oi].push(q.map((r) => r.map((x) => x.e)));
    });
  }

  // The observed order of convergence, from the differences between the
  // grids 2·dt, dt, dt/2 summed over the coarse series: a solution that is not
  // smooth in time (e.g. a jump in f with white noise: C_f(t,s) has a √|t−s|
  // cusp, the step error is O(dt^{3/2})) converges more slowly than the
  // scheme's order, and extrapolating with the nominal order would leave an
  // error its bar does not see.
  let observedOrder = order;
  if (extra) {
    let num = 0, den = 0, scale = 0;
    serVals.forEach((lv) => {
      for (let k = 1; k <= N0; k++) { num += Math.abs(lv[0][k] - lv[1][k]); den += Math.abs(lv[1][k] - lv[2][k]); scale += Math.abs(lv[2][k]); }
    });
    // only where the grids differ well above the tolerance of the within-step iteration
    if (den > 1e-7 * scale && num > 0) {
      const p = Math.log2(num / den);
      if (p < order - ORDER_SLACK) observedOrder = Math.max(0.5, p);
    }
    if (observedOrder !== order) {
      diag.observedOrder = fmt(observedOrder);
      diag.orderNote = `the grids converge like dt^${fmt(observedOrder)}, slower than the scheme's order ${order} (the solution is not smooth in time): extrapolated with the observed order, errors include the difference to the nominal one`;
    }
  }
  /** value from the grids dt, dt/2, …; error = its distance from the extrapolation that also uses 2·dt
   *  (without that grid: the size of the last Richardson correction); with a
   *  lower observed order, extrapolated with it and the difference to the
   *  nominal extrapolation added to the error */
  const combine = (vals: number[]): { value: number; error: number } => {
    const main = richardson(extra ? vals.slice(1) : vals, order);
    if (!extra) return main;
    const all = richardson(vals, order);
    if (observedOrder === order) return { value: main.value, error: Math.abs(all.value - main.value) };
    const mainP = richardson(vals.slice(1), observedOrder), allP = richardson(vals, observedOrder);
    return { value: mainP.value, error: Math.abs(allP.value - mainP.value) + Math.abs(mainP.value - main.value) };
  };
  /** the quadrature error of an extrapolated value: Σ |c_l|·e_l over the Richardson weights c_l of the grids used */
  const weights = (n: number, skipFirst: boolean): number[] => Array.from({ length: n }, (_, l) => {
    if (skipFirst && l === 0) return 0;
    const unit = Array.from({ length: n }, (_, k) => (k === l ? 1 : 0));
    return Math.abs(richardson(skipFirst ? unit.slice(1) : unit, order).value);
  });
  const quadOf = (errs: number[], skipFirst: boolean): number => {
    const w = weights(errs.length, skipFirst);
    return errs.reduce((s, e, l) => s + w[l] * e, 0);
  };
  /** errors at neighbouring times: a zero crossing of the leading error term must not pass for accuracy */
  const widen = (e: number[], w: number): number[] => e.map((_, i) => {
    let m = 0;
    for (let k = Math.max(0, i - w); k <= Math.min(e.length - 1, i + w); k++) if (Number.isFinite(e[k])) m = Math.max(m, e[k]);
    return Number.isFinite(e[i]) ? m : e[i];
  });

  const observables: Record<string, number[]> = table();
  const error: Record<string, number[]> = table();
  const series: GaussianSolution['series'] = { t: Array.from({ length: N0 + 1 }, (_, k) => k * h0), values: table(), error: table() };
  const floor = (v: number) => 1e-9 * Math.abs(v) + 1e-15;
  one.forEach((o, oi) => {
    // quadrature errors of the observable's averages ride along with the dt error
    const sx = series.t.map((_, k) => { const c = combine(serVals[oi].map((lv) => lv[k])); return { value: c.value, error: c.error + quadOf(serQ[oi].map((lv) => lv[k]), extra) }; });
    series.values[o.name] = sx.map((x) => x.value);
    series.error[o.name] = widen(sx.map((x) => x.error + floor(x.value)), 2);
    const ex = tOut.map((_, k) => { const c = combine(oneVals[oi].map((lv) => lv[k])); return { value: c.value, error: c.error + quadOf(oneQ[oi].map((lv) => lv[k]), extra) }; });
    observables[o.name] = ex.map((x) => x.value);
    // the error at an output time: its own estimate, and the series' around it
    error[o.name] = ex.map((x, k) => {
      const i = Math.min(N0, Math.max(0, Math.round(tOut[k] / h0)));
      return Math.max(x.error + floor(x.value), series.error[o.name][i], series.error[o.name][Math.min(N0, i + 1)], series.error[o.name][Math.max(0, i - 1)]);
    });
  });
  const twoTime: Record<string, TwoTime> = table();
  two.forEach((o, oi) => {
    const tt = twoIdx.map((i) => (graded ? g0[i] : i * h0));
    const vals = tt.map((_, a) => tt.map((_, b) => {
      const v = twoLevels[oi].map((lv) => lv[a][b]);
      const r = richardson(v, order);
      if (observedOrder === order) return r;
      const rp = richardson(v, observedOrder);
      return { value: rp.value, error: r.error + Math.abs(rp.value - r.value) };
    }));
    const quad = tt.map((_, a) => tt.map((_, b) => quadOf(twoQ[oi].map((lv) => lv[a][b]), false)));
    twoTime[o.name] = { t: tt, values: vals.map((r) => r.map((x) => x.value)), error: vals.map((r, a) => r.map((x, b) => x.error + quad[a][b] + floor(x.value))) };
  });
  diag.scheme = scheme;
  diag.levels = levels;
  diag.errorGrid = extra;
  diag.dt = h0;
  diag.finestDt = h0 / 2 ** (levels - 1);
  if (graded) {
    diag.grid = 'graded';
    diag.gridSteps = M0();
    diag.gridBlock = block;
    diag.gridMaxStep = fmt(Math.max(...Array.from({ length: M0() }, (_, i) => g0[i + 1] - g0[i])));
  }
  diag.order = order;
  diag.seconds = fmt((Date.now() - started) / 1000);
  const result: SolveResult = {
    model: reading.sys.model,
    params: { ...opts.params },
    method: 'gaussian',
    t: tOut,
    observables,
    error,
    diagnostics: diag,
  };
  if (two.length) result.twoTime = twoTime;
  return { result, series, growth, instability: () => describeInstability(reading, opts, coarse.h, coarse.N, scheme, growth.rate).message };
}
