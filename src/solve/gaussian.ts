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
  h: number;
  N: number;
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
function growthOf(lv: LevelData): { rate: number; ratio: number; accel: number; unstable: boolean; weakUnstable: boolean } {
  const N1 = lv.N + 1;
  const last = lv.last;
  const S = (n: number) => Math.max(...lv.pops.map((p) => p.K[n * N1 + n] + p.m[n] * p.m[n]));
  if (last < 8) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  const n3 = last, n2 = Math.round(last * 0.75), n1 = Math.round(last * 0.5);
  const dt = (n3 - n2) * lv.h;
  const s1 = S(n1), s2 = S(n2), s3 = S(n3);
  if (!(s3 > 0) || !(s2 > 0) || !(s1 > 0)) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  const r2 = Math.log(s3 / s2) / dt, r1 = Math.log(s2 / s1) / ((n2 - n1) * lv.h);
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
  const obsList = engine.observables.map((o, index) => ({ ...o, index }));
  const one = obsList.filter((o) => !o.twoTime);
  const two = obsList.filter((o) => o.twoTime);
  // two-time output: requested times snapped to the coarse grid, or a subsample
  const maxPts = opts.twoTimePoints ?? 41;
  const twoIdx = times
    ? times.map((t) => Math.round(t / h0))
    : Array.from(new Set(Array.from({ length: Math.min(maxPts, N0 + 1) }, (_, i) => Math.round((i * N0) / Math.max(1, Math.min(maxPts, N0 + 1) - 1)))));

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
  const extra = (opts.errorGrid ?? true) && N0 % 2 === 0 && N0 >= 8;
  const factors = [...(extra ? [0.5] : []), ...Array.from({ length: levels }, (_, l) => 2 ** l)];
  const twoLevels: number[][][][] = two.map(() => []);
  for (let l = 0; l < factors.length; l++) {
    const f = factors[l];
    const h = h0 / f, N = Math.round(N0 * f);
    const lv = engine.run(h, N, {
      scheme,
      progress: opts.progress ? (x) => opts.progress!(`gaussian closure, grid ${l + 1}/${factors.length} (dt = ${fmt(h)})`, x) : undefined,
    });
    const tag = f === 0.5 ? 'E' : String(Math.log2(f));
    diag[`sweepsMax_${tag}`] = lv.sweepsMax;
    diag[`sweepsMean_${tag}`] = fmt(lv.sweepsMean);
    if (lv.residualMax > 0) diag[`stepResidual_${tag}`] = +lv.residualMax.toExponential(2);
    if (lv.fallbackPairs) diag[`quadrature2dPairs_${tag}`] = lv.fallbackPairs;
    if (l === 0) {
      const g = growthOf(lv);
      growth = { rate: g.rate, ratio: g.ratio, unstable: g.unstable, weakUnstable: g.weakUnstable };
      coarse = { h, N };
    }
    if (l === 0 && lv.stiffness.value > 0) {
      // the stiff linear part is integrated exactly, but the fields built from
      // this variable's correlations vary on the scale 1/rate too: unresolved
      // on the grid, an error Richardson does not see
      const finest = h0 / 2 ** (levels - 1);
      const st = lv.stiffness;
      if (st.rate * finest > STIFF_MAX) {
        const need = (STIFF_MAX * 2 ** (levels - 1)) / st.rate;
        throw new StiffStepError(need, {
          message: `the time step does not resolve the fastest rate of ${st.variable}: |∂F/∂${st.variable}| reaches ${fmt(st.rate)}, so ${st.variable}'s correlations, which feed back through its fields, change on the time scale ${fmt(1 / st.rate)}, while the finest grid has dt = ${fmt(finest)}; the closure's error would be uncontrolled`,
          hint: `use --dt ${fmt(need)} or smaller (${Math.ceil(opts.T / need)} steps for T = ${opts.T})${opts.T / need > 1e5 ? ', with a shorter --T' : ''}`,
        });
      }
    }
    if (lv.diverged) {
      // a growing transient is reported (with its growth law) as long as it is
      // representable; only values that overflow are refused
      const tEnd = (lv.last + 1) * h;
      if (l === 0 && lv.last >= 8 && /overflow|non-finite/.test(lv.diverged)) {
        const why = describeInstability(reading, opts, h, N, scheme, growth.rate, lv.last);
        throw new DmftError({ message: `the transient overflows by t = ${fmt(tEnd)}: ${why.message} (rate measured on the grid dt = ${fmt(h)}, where rate·dt = ${fmt(growth.rate * h)})`, hint: `solve up to a shorter time (--T ${fmt(0.8 * tEnd)} is representable), or ${why.hint}` });
      }
      throw new DmftError({ message: `the Gaussian closure diverged: ${lv.diverged}`, hint: 'the dynamics may be unstable at these parameters; try a shorter --T or a smaller --dt' });
    }
    one.forEach((o, oi) => {
      const cache = new Map<number, Quad>();
      const q = (n: number) => { let v = cache.get(n); if (v === undefined) { v = engine.observe(lv, o.index, n, n); cache.set(n, v); } return v; };
      const at = (n: number) => q(n).v, err = (n: number) => q(n).e;
      oneVals[oi].push(tOut.map((t) => interp(at, h, N, t)));
      serVals[oi].push(Array.from({ length: N0 + 1 }, (_, k) => interp(at, h, N, k * h0)));
      // the interpolation error at output times between grid points rides with the quadrature error
      oneQ[oi].push(tOut.map((t) => interp(err, h, N, t, true) + interpError(at, h, N, t)));
      serQ[oi].push(Array.from({ length: N0 + 1 }, (_, k) => interp(err, h, N, k * h0, true)));
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
    const tt = twoIdx.map((i) => i * h0);
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
