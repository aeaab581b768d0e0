// The solver dispatcher: picks the method from the structure of the derived
// system (never from the model's name) and assembles the `--json` result.
//
//   transient  gaussianState (affine single-site processes, normal inputs)
//                → Gaussian closure (./gaussian.ts), deterministic
//              otherwise → Monte Carlo fixed point (./montecarlo.ts)
//              The transient is always solved (only values that overflow are
//              refused); the limit is an add-on.
//   limit      noise-driven → stationary state first, then static fixed point;
//              otherwise    → static fixed point first, then stationary state;
//              neither applies → extrapolate the transient where it has settled.
//              With `--method static|stationary` and `limitOnly` (only t → ∞
//              asked: `dmft solve` without --T/--times, a `sweep` in limit
//              mode) the transient is skipped when the limit solver gives a
//              single fixed point; otherwise (several branches, no value) it is
//              solved as usual, since the statuses are read off it.
//              Every one-time observable gets a `limitStatus` (value, marginal,
//              divergent, absent, branches; docs/solve.md): a failing or
//              unstable limit solver, a marginal point, several branches or a
//              growing transient are reported there, with the measured growth
//              law, never as an error and never as a number in `limit`.
//
// `--method gaussian|mc` forces the transient method, `--method
// static|stationary` the limit method; each refuses clearly when it does not
// apply.
import { DmftError } from '../errors.ts';
import type { DmftSystem } from '../derive/system.ts';
import type { Expr } from '../expr/ast.ts';
import { functionDef } from '../expr/functions.ts';
import { print } from '../expr/print.ts';
import { gaussianUnsupported, solveGaussian, StiffStepError, type GaussianOptions, type GaussianSolution } from './gaussian.ts';
import { readSystem, VectorSiteError, type SystemReading } from './read.ts';
import { MapClosureError, solveMap } from './map.ts';
import { solveStatic } from './static.ts';
import { solveStationary } from './stationary.ts';
import { solveMonteCarlo, type MonteCarloOptions } from './montecarlo.ts';
import type { Branch, GrowthLaw, LimitStatus, SolveOptions, SolveResult } from './types.ts';
import { StationaryInstabilityError } from './stationary-result.ts';
import { table } from '../table.ts';

export const METHODS = ['gaussian', 'mc', 'static', 'stationary'] as const;
export type Method = (typeof METHODS)[number];

export interface DispatchOptions extends SolveOptions {
  method?: string;
  /** options of the Gaussian closure (scheme, levels) */
  gaussian?: Pick<GaussianOptions, 'scheme' | 'levels' | 'twoTimePoints'>;
  /** options of the Monte Carlo solver (a tighter error: `tighterTheory` in ./refine.ts) */
  monteCarlo?: Pick<MonteCarloOptions, 'tol' | 'replicas' | 'maxReplicas' | 'paths'>;
  /** only the t → ∞ values are wanted: with a forced limit method, skip the transient when the limit
   *  solver finds one fixed point (the result then has no time series) */
  limitOnly?: boolean;
}

/** What a t → ∞ solver found. */
interface LimitFound {
  limit: Record<string, number>;
  limitError?: Record<string, number>;
  limitNote?: string;
  tau?: SolveResult['tau'];
  diagnostics: Record<string, number | string | boolean>;
  /** every fixed point found, when there are several */
  branches?: Branch[];
}
/** Why a t → ∞ solver gave no value: it does not apply, the state it solves for is
 *  unstable or marginal, or several stable branches exist (listed). */
interface LimitFailed { unsupported: string; kind?: 'unstable' | 'marginal'; branches?: Branch[] }
type LimitOutcome = LimitFound | LimitFailed;

/** Why the Gaussian closure does not apply to this reading (undefined if it does). */
export function whyNotGaussian(reading: SystemReading): string | undefined {
  if (!reading.gaussianState) {
    for (const p of reading.pops) {
      const bad = p.variables.find((v) => !v.affine);
      if (!bad) continue;
      if (bad.lower !== undefined || bad.upper !== undefined) return `population ${p.name}: the state ${bad.name} is bounded, so its law is not Gaussian`;
      return `population ${p.name}: ${bad.kind === 'dynamic' ? 'd/dt ' : ''}${bad.name} = ${print(bad.rhs)} is not affine in the state and its Gaussian inputs`;
    }
    const q = reading.pops.flatMap((p) => p.quenched).find((x) => x.input.dist.kind !== 'normal');
    return q ? `the quenched input ${q.name} is not normal` : 'the single-site process is not Gaussian';
  }
  return gaussianUnsupported(reading);
}

export function validateOptions(opts: SolveOptions): void {
  if (!(Number.isFinite(opts.T) && opts.T > 0)) throw new DmftError({ message: `T = ${opts.T}: the final time must be a positive number` });
  if (!(Number.isFinite(opts.dt) && opts.dt > 0)) throw new DmftError({ message: `dt = ${opts.dt}: the time step must be a positive number` });
  if (opts.dt > opts.T) throw new DmftError({ message: `dt = ${opts.dt} is larger than T = ${opts.T}` });
  if (opts.T / opts.dt > 1e5) throw new DmftError({ message: `T/dt = ${Math.round(opts.T / opts.dt)} time steps is too many`, hint: 'use a larger --dt (the solvers refine it and extrapolate)' });
  for (const t of opts.times ?? []) {
    if (!Number.isFinite(t) || t < 0 || t > opts.T) throw new DmftError({ message: `--times: ${t} is outside [0, T] = [0, ${opts.T}]`, hint: 'raise --T or drop that time' });
  }
}

function runLimit(kind: 'static' | 'stationary', reading: SystemReading, opts: SolveOptions, forced: boolean): LimitOutcome {
  try {
    return kind === 'static' ? solveStatic(reading, opts) : solveStationary(reading, opts);
  } catch (e) {
    // a forced method reports its own failure; otherwise the limit is an add-on:
    // its failure (even an instability naming the parameters) must not take the transient with it
    if (forced) throw e;
    if (e instanceof StationaryInstabilityError) return { unsupported: e.message, kind: e.kind === 'unstable' ? 'unstable' : 'marginal' };
    if (e instanceof DmftError) return { unsupported: e.message };
    return { unsupported: `failed (${(e as Error).message})` };
  }
}

/**
 * The t → ∞ value of one-time observables from the settled end of a transient
 * (coarse grid, Richardson-extrapolated): Aitken's Δ² over the last quarter.
 */
export function limitFromSeries(series: GaussianSolution['series']): { limit: Record<string, number>; limitError: Record<string, number>; unsettled: string[] } {
  const limit: Record<string, number> = table();
  const limitError: Record<string, number> = table();
  const unsettled: string[] = [];
  const n = series.t.length - 1;
  const d = Math.max(1, Math.round(n / 8));
  const excursion = (v: number[]) => { let m = 1e-300; for (const x of v) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x)); return m; };
  const overall = Math.max(...Object.values(series.values).map(excursion));
  for (const [name, v] of Object.entries(series.values)) {
    if (n < 2 * d) { unsettled.push(name); continue; }
    const v1 = v[n - 2 * d], v2 = v[n - d], v3 = v[n];
    const e = series.error[name][n];
    const d1 = v2 - v1, d2 = v3 - v2;
    // the size of the transient's own excursion: a series decaying to 0 settles
    // relative to where it came from, not to its ever smaller last values
    const scale = excursion(v);
    // an end whose error bar spans a tenth of the excursion is not known, so not settled
    // (a change within such a bar says nothing)
    if (!(e <= 0.1 * scale) && e > 1e-12 * overall) { unsettled.push(name); continue; }
    const floor = Math.max(Number.isFinite(e) ? e : 0, 1e-13 * scale);
    if (Math.abs(d2) <= floor) { limit[name] = v3; limitError[name] = floor + Math.abs(d2); continue; }
    // a geometric approach from one side (0 < r < ½): a curve that turns round between
    // the three points (r < 0: near a minimum, e.g. a test loss about to rise) is not settling
    const r = d1 !== 0 ? d2 / d1 : NaN;
    if (r > 0 && r < 0.5 && Math.abs(d2) < 1e-2 * scale) {
      const step = (d2 * r) / (1 - r);
      limit[name] = v3 + step;
      limitError[name] = Math.abs(step) + Math.abs(d2) * Math.abs(r) + floor;
      continue;
    }
    unsettled.push(name);
  }
  return { limit, limitError, unsettled };
}

/**
 * How |v| behaves over the second half of a transient: the exponential rate
 * (d ln|v|/dt) or the power (d ln|v|/d ln t), whichever is more nearly constant
 * over its last two quarters, with the later quarter's value.
 */
export function growthLaw(t: number[], v: number[]): GrowthLaw | undefined {
  const n = t.length - 1;
  if (n < 8) return undefined;
  const i1 = Math.round(n / 2), i2 = Math.round((3 * n) / 4), i3 = n;
  const a1 = Math.abs(v[i1]), a2 = Math.abs(v[i2]), a3 = Math.abs(v[i3]);
  if (!(a1 > 0 && a2 > 0 && a3 > 0 && t[i1] > 0) || ![a1, a2, a3].every(Number.isFinite)) return undefined;
  const r1 = Math.log(a2 / a1) / (t[i2] - t[i1]), r2 = Math.log(a3 / a2) / (t[i3] - t[i2]);
  const p1 = Math.log(a2 / a1) / Math.log(t[i2] / t[i1]), p2 = Math.log(a3 / a2) / Math.log(t[i3] / t[i2]);
  const spread = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300);
  const sp = spread(p1, p2), sr = spread(r1, r2);
  const power = sp <= sr;
  const law: GrowthLaw = { law: power ? 'power' : 'exponential', rate: +(power ? p2 : r2).toPrecision(3), from: t[i1], to: t[i3] };
  // over a short window (t grows by a small factor) both laws bend alike: name both unless one is clearly straighter
  if (Math.max(sp, sr) < 2 * Math.min(sp, sr)) law.or = +(power ? r2 : p2).toPrecision(3);
  return law;
}

/** |v| grows over the last half without decelerating in log–log (power-law growth or faster), beyond its errors. */
function grows(t: number[], v: number[], e: number[]): boolean {
  const n = t.length - 1;
  if (n < 8) return false;
  const i1 = Math.round(n / 2), i2 = Math.round((3 * n) / 4), i3 = n;
  const a1 = Math.abs(v[i1]), a2 = Math.abs(v[i2]), a3 = Math.abs(v[i3]);
  const noise = (i: number) => (Number.isFinite(e[i]) ? e[i] : 0);
  if (!(a3 - a2 > 3 * (noise(i2) + noise(i3)) + 1e-12 * a3 && a2 - a1 > 3 * (noise(i1) + noise(i2)))) return false;
  if (!(t[i1] > 0)) return true;
  const p1 = Math.log(a2 / a1) / Math.log(t[i2] / t[i1]), p2 = Math.log(a3 / a2) / Math.log(t[i3] / t[i2]);
  return p2 > 0 && p2 >= 0.95 * p1;
}

const lawText = (law: GrowthLaw['law'], rate: number) => (law === 'power' ? `t^${rate}` : `e^(${rate} t)`);

export const describeGrowth = (g: GrowthLaw): string =>
  `${g.rate > 0 ? 'grows' : 'decays'} like ${lawText(g.law, g.rate)}`
  + (g.or === undefined ? '' : ` or ${lawText(g.law === 'power' ? 'exponential' : 'power', g.or)} (too short a window to tell which)`)
  + ` (fitted on t ∈ [${+g.from.toPrecision(4)}, ${+g.to.toPrecision(4)}])`;

/** Do two sets of observable values agree within the combined errors (×k)? */
function matches(a: Record<string, number>, ea: Record<string, number>, b: Record<string, number>, eb: Record<string, number>, k = 10): boolean {
  const keys = Object.keys(a).filter((x) => x in b);
  return keys.length > 0 && keys.every((x) => Math.abs(a[x] - b[x]) <= k * ((ea[x] ?? 0) + (eb[x] ?? 0)) + 1e-9 * Math.max(1, Math.abs(a[x])));
}

/** Largest number of base steps an automatic refinement for a stiff variable may take. */
const STIFF_AUTO_STEPS = 20000;

/**
 * The closure on the requested grid; when that grid cannot resolve a stiff
 * variable that feeds back through its fields, once more on the base step the
 * closure asks for (the step is a starting point the solver refines anyway),
 * within a cost bound — and it says so in the diagnostics.
 */
function solveStiffAware(reading: SystemReading, opts: GaussianOptions): GaussianSolution {
  try {
    return solveGaussian(reading, opts);
  } catch (e) {
    if (!(e instanceof StiffStepError) || opts.T / e.dt > STIFF_AUTO_STEPS) throw e;
    const dt = opts.T / Math.ceil(opts.T / e.dt);
    const times = opts.times;
    const sol = solveGaussian(reading, { ...opts, dt, times });
    sol.result.diagnostics.stiffStepNote = `the base step was reduced from ${opts.dt} to ${+dt.toPrecision(4)} to resolve a stiff variable that feeds back through its fields`;
    return sol;
  }
}

/**
 * A map x(t+1) = F: the Gaussian closure on the step grid when the site is Gaussian, otherwise (or with
 * --method mc) the Monte Carlo sweep on the step grid, which gives the transient only (docs/discrete-time.md).
 */
function solveDiscrete(sys: DmftSystem, opts: DispatchOptions): SolveResult {
  const method = opts.method;
  if (method !== undefined && method !== 'gaussian' && method !== 'mc') throw new DmftError({ message: `--method ${method}: the dynamics are maps x(t+1) = …, solved by the Gaussian closure or Monte Carlo on the step grid`, hint: 'leave --method out (or --method gaussian | mc)' });
  let whyNot: string | undefined;
  if (method !== 'mc') {
    try { return solveMap(sys, opts); } catch (e) {
      if (method === 'gaussian' || !(e instanceof MapClosureError)) throw e;
      whyNot = e.info.message;
    }
  }
  const out = solveMonteCarlo(readSystem(sys, opts.params, { discrete: true }), { ...opts, ...(opts.monteCarlo ?? {}) });
  const noLimit = 'the Monte Carlo sweep of a map gives the transient only (no t → ∞ value)';
  out.limitNote = noLimit;
  out.limitStatus = Object.fromEntries(Object.keys(out.observables).map((k) => [k, { status: 'absent', reason: noLimit }]));
  out.diagnostics = { ...out.diagnostics, transient: out.method, ...(whyNot ? { whyNotGaussian: whyNot } : {}) };
  return out;
}

/** Solve the derived DMFT equations: transient, limit and diagnostics (the `--json` contract). */
export function solve(sys: DmftSystem, opts: DispatchOptions): SolveResult {
  // maps x(t+1) = F: the Gaussian closure on the step grid (docs/discrete-time.md)
  if (sys.time === 'discrete') return solveDiscrete(sys, opts);
  validateOptions(opts);
  const method = opts.method;
  if (method !== undefined && !(METHODS as readonly string[]).includes(method)) {
    throw new DmftError({ message: `--method ${method}: unknown method`, expected: METHODS.join(' | ') });
  }
  const reading = readSystem(sys, opts.params);
  const noiseDriven = reading.pops.some((p) => p.noises.length > 0);

  // ---- limit first (cheap)
  let lim: LimitFound | undefined;
  const failures: LimitFailed[] = [];
  const tried: string[] = [];
  if (method === 'static' || method === 'stationary') {
    const out = runLimit(method, reading, opts, true);
    if ('unsupported' in out) {
      if (!out.branches) throw new DmftError({ message: `--method ${method} does not apply: ${out.unsupported}`, hint: method === 'static' ? 'try --method stationary, or leave --method out' : 'try --method static, or leave --method out' });
      failures.push(out);
    } else lim = out;
    if (lim && !lim.branches && opts.limitOnly) return limitOnlyResult(reading, method, lim);
  } else {
    const order: ('static' | 'stationary')[] = noiseDriven ? ['stationary', 'static'] : ['static', 'stationary'];
    for (const k of order) {
      const out = runLimit(k, reading, opts, false);
      if ('unsupported' in out) {
        tried.push(`${k}: ${out.unsupported}`); failures.push(out);
        // several stable branches: the other solver would only find one of them
        if (out.branches) break;
        continue;
      }
      lim = out;
      tried.push(`${k}: used`);
      break;
    }
  }

  // ---- transient (always)
  const whyNot = whyNotGaussian(reading);
  let transient: SolveResult;
  let gsol: GaussianSolution | undefined;
  const useGaussian = method === 'gaussian' || (method !== 'mc' && whyNot === undefined);
  if (method === 'gaussian' && whyNot) {
    throw new DmftError({ message: `--method gaussian does not apply: ${whyNot}`, hint: 'use --method mc (Monte Carlo), or leave --method out' });
  }
  let closureFailed: string | undefined;
  if (useGaussian) {
    try {
      gsol = solveStiffAware(reading, { ...opts, ...(opts.gaussian ?? {}) });
    } catch (e) {
      // the transient must be solvable: when the closure fails numerically (not an
      // overflow of a growing solution), the Monte Carlo solver takes over
      if (method === 'gaussian' || !(e instanceof DmftError) || /overflows/.test(e.message)) throw e;
      closureFailed = e.message;
    }
  }
  if (gsol) transient = gsol.result;
  else {
    try {
      transient = solveMonteCarlo(reading, { ...opts, ...(opts.monteCarlo ?? {}) });
    } catch (e) {
      // a vector site the closure cannot take: say why it cannot, not only that Monte Carlo reads scalar sites
      if (e instanceof VectorSiteError && whyNot && method !== 'mc') throw new DmftError({ message: `the transient cannot be solved: the Gaussian closure does not apply (${whyNot}), and ${e.message}`, hint: 'dmft simulate runs the model at finite N' });
      if (!closureFailed || !(e instanceof DmftError)) throw e;
      throw new DmftError({ message: `the transient could not be solved: the Gaussian closure failed (${closureFailed}) and so did the Monte Carlo fallback (${e.message})`, hint: 'try a smaller --dt or a shorter --T' });
    }
    if (whyNot && method !== 'mc') transient.diagnostics = { ...transient.diagnostics, whyNotGaussian: whyNot };
    if (closureFailed) transient.diagnostics = { ...transient.diagnostics, gaussianClosureFailed: closureFailed };
  }

  const result: SolveResult = { ...transient, diagnostics: { ...transient.diagnostics } };
  const diag = result.diagnostics;
  diag.transient = transient.method;
  const names = reading.observables.filter((o) => o.def.times.length <= 1).map((o) => o.def.name);
  const status: Record<string, LimitStatus> = {};
  const series = transientSeries(gsol, transient, names);
  const settled = limitFromSeries(series);

  // ---- assemble the limit
  if (lim) {
    result.limit = lim.limit;
    if (lim.limitError) result.limitError = lim.limitError;
    if (lim.limitNote) result.limitNote = lim.limitNote;
    if (lim.tau) result.tau = lim.tau;
    for (const [k, v] of Object.entries(lim.diagnostics)) diag[`limit.${k}`] = v;
    const limitMethod = method === 'static' || method === 'stationary' ? method : tried.find((x) => x.endsWith(': used'))!.split(':')[0];
    diag.limitMethod = limitMethod;
    result.method = `${transient.method}+${limitMethod}`;
    for (const k of names) if (k in lim.limit) status[k] = { status: 'value', reason: `${limitMethod} solution` };
    if (lim.branches) result.branches = lim.branches;
    // the transient settles on another (unstable) branch: say why
    const onBranch = lim.branches && placeTransient(lim.branches, settled);
    if (onBranch && !onBranch.stable) {
      for (const k of names) if (status[k]) status[k].reason = `${limitMethod} solution, the only stable branch; ${UNSTABLE_SETTLE}`;
      result.limitNote = [result.limitNote, UNSTABLE_SETTLE].filter(Boolean).join('; ');
    } else if (gsol) {
      // cross-check with the settled end of the transient
      const fromT = limitFromSeries(gsol.series);
      let worst = 0;
      for (const [k, v] of Object.entries(fromT.limit)) {
        if (!(k in lim.limit)) continue;
        const tolK = fromT.limitError[k] + (lim.limitError?.[k] ?? 0) + 1e-9 * Math.abs(v);
        worst = Math.max(worst, Math.abs(v - lim.limit[k]) / tolK);
      }
      if (Object.keys(fromT.limit).length) diag.limitVsTransient = +worst.toPrecision(3);
      if (worst > 10) {
        result.limitNote = [result.limitNote, `the end of the transient, extrapolated, differs from the ${limitMethod} solution by ${worst.toPrecision(3)}× the error bars: T = ${opts.T} may be too short for a slow (e.g. power-law) approach, or the dynamics settles on another attractor`].filter(Boolean).join('; ');
      }
    }
  } else {
    const branches = failures.find((f) => f.branches)?.branches;
    const fromBranch = branches ? placeTransient(branches, settled) : undefined;
    if (branches) result.branches = branches;
    const limit: Record<string, number> = {}, limitError: Record<string, number> = {};
    const growthWhy = gsol?.growth.unstable ? memo(gsol.instability) : undefined;
    for (const k of names) {
      const st = transientStatus(k, series, settled, failures, branches, fromBranch, growthWhy);
      status[k] = st;
      if (st.status !== 'value') continue;
      if (fromBranch?.stable) { limit[k] = fromBranch.observables[k]; limitError[k] = fromBranch.errors[k]; }
      else { limit[k] = settled.limit[k]; limitError[k] = settled.limitError[k]; }
    }
    if (!fromBranch?.stable) {
      const extrapolated = names.filter((k) => status[k].status === 'value' && k in limit);
      if (extrapolated.length) {
        const check = continueTransient(reading, opts, gsol, settled, extrapolated);
        diag.limitContinuation = check.note;
        for (const k of extrapolated) {
          const c = check.verdict[k];
          if (c.ok) { limit[k] = c.value; limitError[k] = c.error; status[k] = { status: 'value', reason: c.reason }; continue; }
          delete limit[k]; delete limitError[k];
          status[k] = { status: 'absent', reason: c.reason };
        }
      }
    }
    if (Object.keys(limit).length) {
      result.limit = limit;
      result.limitError = limitError;
      diag.limitMethod = fromBranch?.stable ? 'branch reached by the transient' : 'transient-extrapolation';
    }
    result.limitNote = summarize(status, tried);
  }
  // the transient reaches an unstable state and leaves it where its grids disagree:
  // rounding errors amplified along the unstable mode (say so; widen the errors)
  const allBranches = result.branches;
  const dep = allBranches ? unresolvedDeparture(series, allBranches) : undefined;
  if (dep) {
    const b = dep.branch;
    const from = +dep.from.toPrecision(3);
    const why = `the transient reaches the unstable state ${dep.index + 1} near t = ${from} and leaves it along its unstable mode where its time grids disagree (errors ≥ 10% of the departure): rounding errors amplified like e^(λt) drive it, not the initial condition — from an initial condition that keeps the exact DMFT solution there (e.g. a symmetric one) it stays for all t; the errors include the distance to that state from where each observable came closest to it`;
    b.reachedByTransient = false;
    b.stability = `${b.stability}; the transient reaches it near t = ${from} and leaves it by amplified rounding errors (not resolved)`;
    // from each observable's own closest approach on, the exact solution stays within that
    // distance of the state (it may still be approaching it): the errors include it and the
    // computed departure (an observable that sits on the state from the start, like m ≡ 0,
    // is widened from t = 0)
    for (const k of dep.names) {
      const v = result.observables[k], e = result.error[k], sv = series.values[k];
      if (!v || !e) continue;
      const d = (i: number) => Math.abs(sv[i] - b.observables[k]);
      let at = 0;
      for (let i = 1; i < sv.length; i++) if (d(i) < d(at)) at = i;
      const near = d(at) + (series.error[k]?.[at] ?? 0);
      for (let i = 0; i < v.length; i++) if (result.t[i] >= series.t[at]) e[i] = Math.max(e[i], Math.abs(v[i] - b.observables[k]) + near);
    }
    const stable = allBranches!.filter((x) => x.stable).length;
    for (const k of names) {
      if (status[k]?.status === 'value' && lim) status[k] = { status: 'value', reason: `${diag.limitMethod} solution, the only stable branch; ${why}` };
      else if (stable > 1) status[k] = { status: 'branches', reason: `${stable} stable branches; ${why}` };
      else if (status[k]?.status !== 'value') status[k] = { status: status[k]?.status ?? 'absent', reason: why };
    }
    diag.roundoffWarning = why;
    result.limitNote = lim ? [lim.limitNote, why].filter(Boolean).join('; ') : summarize(status, tried);
  }
  flagNegativeSquares(reading, result, status);
  // a safety net: a limit value contradicted by a transient that keeps growing is withdrawn
  for (const k of names) {
    const v = series.values[k];
    if (status[k]?.status !== 'value' || !result.limit || !(k in result.limit) || !v || !grows(series.t, v, series.error[k])) continue;
    // (growing toward the value is no contradiction: it must have passed it)
    const lim = result.limit[k], vT = v[v.length - 1];
    if (!(Math.abs(vT) > Math.abs(lim) + 10 * ((result.limitError?.[k] ?? 0) + (series.error[k][v.length - 1] ?? 0)))) continue;
    const law = growthLaw(series.t, v);
    status[k] = { status: 'absent', reason: `the ${diag.limitMethod ?? 'limit'} value ${+result.limit[k].toPrecision(6)} is contradicted by the transient, which ${law ? describeGrowth(law) : 'grows'} at T = ${opts.T}; increase --T to see whether it settles`, ...(law ? { growth: law } : {}) };
    delete result.limit[k];
    if (result.limitError) delete result.limitError[k];
  }
  if (result.limit && !Object.keys(result.limit).length) { delete result.limit; delete result.limitError; }
  if (names.some((k) => !status[k])) {
    for (const k of names) status[k] ??= { status: 'absent', reason: 'the limit solver gives no value for this observable' };
  }
  result.limitStatus = status;
  if (tried.length) diag.limitTried = tried.join(' | ');
  return result;
}

/**
 * The result of a forced limit method when only t → ∞ is asked: the fixed point's values, no time
 * series. Nothing here compares the limit with a transient (none was solved): the result says so.
 */
function limitOnlyResult(reading: SystemReading, method: 'static' | 'stationary', lim: LimitFound): SolveResult {
  const names = reading.observables.filter((o) => o.def.times.length <= 1).map((o) => o.def.name);
  const diagnostics: SolveResult['diagnostics'] = { transient: 'skipped (only t → ∞ was asked)', limitMethod: method };
  for (const [k, v] of Object.entries(lim.diagnostics)) diagnostics[`limit.${k}`] = v;
  const result: SolveResult = {
    model: reading.sys.model, params: reading.params, method, t: [], observables: {}, error: {},
    limit: { ...lim.limit }, diagnostics,
  };
  if (lim.limitError) result.limitError = { ...lim.limitError };
  if (lim.limitNote) result.limitNote = lim.limitNote;
  if (lim.tau) result.tau = lim.tau;
  const status: Record<string, LimitStatus> = {};
  for (const k of names) status[k] = k in lim.limit ? { status: 'value', reason: `${method} solution` } : { status: 'absent', reason: `the ${method} solver gives no value for this observable` };
  flagNegativeSquares(reading, result, status);
  result.limitStatus = status;
  return result;
}

const UNSTABLE_SETTLE = 'the transient settles on an unstable state: its initial condition keeps it there exactly in the DMFT (e.g. a symmetric, mean-zero initial condition keeps the mean field at 0), while any asymmetry, finite N included, leads to a stable branch';

const memo = <T>(f: () => T): (() => T) => { let v: T | undefined; let done = false; return () => { if (!done) { v = f(); done = true; } return v as T; }; };

/**
 * The transient comes within 1e-6 (relative to each observable's natural size:
 * its excursion, the distance between branches) of an unstable branch, then
 * leaves it — at T more than 10 times its closest approach, and well above
 * rounding — and at T its time grids disagree on the departure (the error of
 * the most departed observable is ≥ 10% of its distance from the branch): a
 * perturbation too small to resolve — rounding — grown along the unstable
 * mode. A departure the grids resolve (a genuinely asymmetric initial
 * condition) is not reported.
 */
export function unresolvedDeparture(series: GaussianSolution['series'], branches: Branch[]): { branch: Branch; index: number; from: number; names: string[] } | undefined {
  const n = series.t.length - 1;
  if (n < 8) return undefined;
  for (const [index, b] of branches.entries()) {
    if (b.stable) continue;
    const keys = Object.keys(b.observables).filter((k) => series.values[k] && Number.isFinite(b.observables[k]));
    if (!keys.length) continue;
    // each observable against its natural size: its excursion, the branch, the distance to the other branches
    const scale = keys.map((k) => Math.max(1e-300, Math.abs(b.observables[k]), ...series.values[k].filter(Number.isFinite).map(Math.abs),
      ...branches.map((o) => Math.abs((o.observables[k] ?? b.observables[k]) - b.observables[k])).filter(Number.isFinite)));
    const rel = (k: number, i: number) => Math.abs(series.values[keys[k]][i] - b.observables[keys[k]]) / scale[k];
    const dist = series.t.map((_, i) => Math.max(...keys.map((_k, k) => rel(k, i))));
    let iMin = 0;
    for (let i = 1; i <= n; i++) if (dist[i] < dist[iMin]) iMin = i;
    if (!(dist[iMin] <= 1e-6) || !(dist[n] > 10 * dist[iMin] && dist[n] > 1e-12)) continue;
    let worst = 0;
    for (let k = 1; k < keys.length; k++) if (rel(k, n) > rel(worst, n)) worst = k;
    const k = keys[worst];
    const e = series.error[k]?.[n];
    if (!(e >= 0.1 * Math.abs(series.values[k][n] - b.observables[k]))) continue;
    return { branch: b, index, from: series.t[iMin], names: keys };
  }
  return undefined;
}

/** Is e ≥ 0 for every value of its variables (a square, an even power, a function the registry marks nonnegative — abs, relu, exp, … —, and sums, products and averages of those)? */
export function nonNegative(e: Expr, params: Record<string, number>): boolean {
  switch (e.k) {
    case 'num': return e.v >= 0;
    case 'sym': return e.name in params && params[e.name] >= 0;
    case 'pow': return (e.exp.k === 'num' && Number.isInteger(e.exp.v) && e.exp.v % 2 === 0) || nonNegative(e.base, params);
    case 'call': return !!functionDef(e.fn)?.nonnegative;
    case 'add': return e.terms.every((t) => nonNegative(t, params));
    case 'mul': {
      // a product of nonnegative factors, or with every other factor paired with an identical one (x·x)
      const rest = e.factors.filter((f) => !nonNegative(f, params));
      const key = rest.map((f) => JSON.stringify(f, (k, v) => (k === 'span' ? undefined : v))).sort();
      return key.length % 2 === 0 && key.every((x, i) => (i % 2 === 0 ? x === key[i + 1] : true));
    }
    case 'avg': case 'mean': case 'sum': return nonNegative(e.body, params);
    default: return false;
  }
}

/**
 * A one-time observable that is nonnegative by construction (a mean of
 * squares) computed below 0: rounding or an unresolved solution. Never
 * clamped (the value is what the solver computed) but flagged: in the
 * observable's status reason (printed with its t → ∞ line) and in
 * `diagnostics.signWarning`.
 */
function flagNegativeSquares(reading: SystemReading, result: SolveResult, status: Record<string, LimitStatus>): void {
  const notes: string[] = [];
  for (const ob of reading.observables) {
    const name = ob.def.name;
    if (ob.def.times.length > 1 || !nonNegative(ob.def.expr, reading.params)) continue;
    const v = result.observables[name], e = result.error[name];
    const neg: number[] = [];
    v?.forEach((x, i) => { if (x < 0) neg.push(i); });
    const limNeg = result.limit && name in result.limit && result.limit[name] < 0;
    if (!neg.length && !limNeg) continue;
    const beyond = neg.filter((i) => -v[i] > (e?.[i] ?? 0));
    const at = neg.slice(0, 3).map((i) => `t = ${+result.t[i].toPrecision(4)}`).join(', ') + (neg.length > 3 ? ` and ${neg.length - 3} more times` : '');
    const text = `${name} is a mean of squares (≥ 0) but its computed value is ${neg.length ? `negative at ${at}` : 'negative at t → ∞'}: ${beyond.length ? `at ${beyond.length} of these times by more than its error — the solution there is not reliable` : 'within its error of 0'}`;
    notes.push(text);
    if (status[name]) status[name] = { ...status[name], reason: [status[name].reason, text].filter(Boolean).join('; ') };
  }
  if (notes.length) result.diagnostics.signWarning = notes.join('; ');
}

/** One-time observables of the transient on a fine grid: the Gaussian closure's coarse series, else the output times. */
function transientSeries(gsol: GaussianSolution | undefined, r: SolveResult, names: string[]): GaussianSolution['series'] {
  if (gsol) return gsol.series;
  const values: Record<string, number[]> = {}, error: Record<string, number[]> = {};
  for (const k of names) if (r.observables[k]) { values[k] = r.observables[k]; error[k] = r.error[k] ?? r.observables[k].map(() => 0); }
  return { t: r.t, values, error };
}

/** The branch the transient has settled on (marked), if any. */
function placeTransient(branches: Branch[], settled: ReturnType<typeof limitFromSeries>): Branch | undefined {
  if (!Object.keys(settled.limit).length) return undefined;
  const hit = branches.find((b) => matches(b.observables, b.errors, settled.limit, settled.limitError));
  if (hit) hit.reachedByTransient = true;
  return hit;
}

/** Largest number of steps (on the requested grid) the Gaussian closure may take to continue a transient to 2T. */
export const CONTINUATION_MAX_STEPS = 2000;

interface ContinuationVerdict { ok: boolean; value: number; error: number; reason: string }

/**
 * The end of a transient that looks settled may be a plateau before a late
 * change (a slow variable driven by a fast one, a threshold not yet reached):
 * a value extrapolated from it is kept only when the transient continued to 2T
 * extrapolates to the same value within the errors (the 2T value is reported,
 * its error widened by the difference). When the continuation is too costly
 * (the Monte Carlo solver, or a closure over CONTINUATION_MAX_STEPS steps) the
 * value is withheld and the reason says so — with the value, and the --T to try.
 */
function continueTransient(reading: SystemReading, opts: DispatchOptions, gsol: GaussianSolution | undefined,
  first: ReturnType<typeof limitFromSeries>, keys: string[]): { note: string; verdict: Record<string, ContinuationVerdict> } {
  const T = opts.T, T2 = 2 * T;
  const fmt = (v: number, e: number) => `${+v.toPrecision(6)} ± ${e.toExponential(1)}`;
  const verdict: Record<string, ContinuationVerdict> = {};
  const steps = Math.ceil(T2 / opts.dt);
  if (!gsol || steps > CONTINUATION_MAX_STEPS) {
    const why = !gsol ? 'continuing the Monte Carlo transient is too costly' : `continuing the closure to T = ${+T2.toPrecision(4)} (${steps} steps) is too costly`;
    for (const k of keys) {
      verdict[k] = { ok: false, value: NaN, error: NaN, reason: `the end of the transient looks settled at T = ${+T.toPrecision(4)} (near ${fmt(first.limit[k], first.limitError[k])}), but a plateau can precede a late change and ${why}, so it is not reported as the limit; compare with --T ${+T2.toPrecision(4)}` };
    }
    return { note: `not verified: ${why}`, verdict };
  }
  let second: ReturnType<typeof limitFromSeries> | undefined;
  let failed: string | undefined;
  try {
    const sol = solveStiffAware(reading, { ...opts, ...(opts.gaussian ?? {}), T: T2, times: undefined, progress: undefined });
    second = limitFromSeries(sol.series);
  } catch (e) {
    if (!(e instanceof DmftError)) throw e;
    failed = e.message;
  }
  for (const k of keys) {
    const a = first.limit[k], ea = first.limitError[k];
    if (!second || !(k in second.limit)) {
      verdict[k] = { ok: false, value: NaN, error: NaN, reason: `the end of the transient looks settled at T = ${+T.toPrecision(4)} (near ${fmt(a, ea)}) but ${failed ? `continuing it to T = ${+T2.toPrecision(4)} failed (${failed})` : `continued to T = ${+T2.toPrecision(4)} it has not settled`}: not settled by T; increase --T (e.g. --T ${+(2 * T2).toPrecision(4)})` };
      continue;
    }
    const b = second.limit[k], eb = second.limitError[k];
    const diff = Math.abs(a - b);
    if (diff <= ea + eb + 1e-12 * Math.max(Math.abs(a), Math.abs(b))) {
      verdict[k] = { ok: true, value: b, error: eb + diff, reason: `extrapolated from the settled end of the transient, confirmed by continuing it from T = ${+T.toPrecision(4)} to ${+T2.toPrecision(4)}` };
    } else {
      verdict[k] = { ok: false, value: NaN, error: NaN, reason: `the end of the transient looks settled at T = ${+T.toPrecision(4)} (near ${fmt(a, ea)}) but continued to T = ${+T2.toPrecision(4)} it extrapolates to ${fmt(b, eb)}: a plateau, not the limit; increase --T (e.g. --T ${+(2 * T2).toPrecision(4)})` };
    }
  }
  return { note: second ? `continued to T = ${+T2.toPrecision(4)}` : `continuation to T = ${+T2.toPrecision(4)} failed: ${failed}`, verdict };
}

/** The status of one observable when no limit solver gave a value: from the branches, the transient and the solvers' verdicts. */
function transientStatus(k: string, series: GaussianSolution['series'], settled: ReturnType<typeof limitFromSeries>, failures: LimitFailed[],
  branches: Branch[] | undefined, onBranch: Branch | undefined, growthWhy: (() => string) | undefined): LimitStatus {
  const v = series.values[k], e = series.error[k];
  const law = v ? growthLaw(series.t, v) : undefined;
  const marginal = failures.find((f) => f.kind === 'marginal');
  const T = series.t[series.t.length - 1];
  if (branches) {
    const stable = branches.filter((b) => b.stable).length;
    if (onBranch?.stable) return { status: 'value', reason: `the transient settles on one of ${stable} stable branches (see branches)` };
    if (onBranch) return { status: 'branches', reason: `${stable} stable branches; ${UNSTABLE_SETTLE}` };
    return { status: 'branches', reason: `${stable} stable branches and the transient has not settled on one by T = ${+T.toPrecision(4)}`, ...(law ? { growth: law } : {}) };
  }
  if (v && grows(series.t, v, e)) {
    // a growing transient is called divergent only when a limit solver found the state
    // unstable or marginal, or the second moments grow exponentially; otherwise it may
    // still be approaching a limit slowly
    if (failures.some((f) => f.kind === 'unstable' || f.kind === 'marginal') || growthWhy) {
      const what = growthWhy ? growthWhy() : `${k} ${law ? describeGrowth(law) : 'grows'} without settling`;
      return { status: 'divergent', reason: what, ...(law ? { growth: law } : {}) };
    }
  }
  if (marginal) {
    // conservative: a transient that looks settled at a marginal point may still be creeping
    const creeping = law && !(k in settled.limit) ? law : undefined;
    return { status: 'marginal', reason: `${marginal.unsupported}${creeping ? `; the transient ${describeGrowth(creeping)}` : ''}`, ...(creeping ? { growth: creeping } : {}) };
  }
  if (k in settled.limit) return { status: 'value', reason: `extrapolated from the settled end of the transient (T = ${+T.toPrecision(4)})` };
  const solvers = failures.map((f) => f.unsupported).join('; ');
  return {
    status: 'absent',
    reason: `${k} has not settled by T = ${+T.toPrecision(4)}${law ? ` (it ${describeGrowth(law)})` : ''}; increase --T${solvers ? `; no static or stationary solution (${solvers})` : ''}`,
    ...(law ? { growth: law } : {}),
  };
}

/** The free-text `limitNote`: one clause per status other than value. */
function summarize(status: Record<string, LimitStatus>, tried: string[]): string | undefined {
  const parts: string[] = [];
  const byReason = new Map<string, string[]>();
  for (const [k, s] of Object.entries(status)) {
    if (s.status === 'value' && !/extrapolated/.test(s.reason ?? '')) continue;
    const key = `${s.status}: ${s.reason ?? ''}`;
    byReason.set(key, [...(byReason.get(key) ?? []), k]);
  }
  for (const [key, ks] of byReason) parts.push(`${ks.join(', ')} — ${key}`);
  if (!parts.length && tried.length) parts.push(`no static or stationary solution (${tried.join('; ')})`);
  return parts.length ? parts.join('; ') : undefined;
}

export { solveGaussian } from './gaussian.ts';
