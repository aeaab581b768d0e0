// The solver dispatcher: picks the method from the structure of the derived
// system (never from the model's name) and assembles the `--json` result.
//
//   transient  gaussianState (affine single-site processes, normal inputs)
//                → Gaussian closure (./gaussian.ts), deterministic
//              otherwise → Monte Carlo fixed point (./montecarlo.ts)
//   limit      noise-driven → stationary state first, then static fixed point;
//              otherwise    → static fixed point first, then stationary state;
//              neither applies → extrapolate the Gaussian transient when it has
//              settled, else omit `limit` and say why in `limitNote`.
//
// `--method gaussian|mc` forces the transient method, `--method
// static|stationary` the limit method; each refuses clearly when it does not
// apply. Instabilities end in a DmftError that names the parameters.
import { some } from '../expr/ast.ts';
import { DmftError } from '../errors.ts';
import type { DmftSystem } from '../derive/system.ts';
import { print } from '../expr/print.ts';
import { gaussianUnsupported, solveGaussian, type GaussianOptions, type GaussianSolution } from './gaussian.ts';
import { readSystem, type SystemReading } from './read.ts';
import { expectNormal, ROBUST_DX } from './quadrature.ts';
import { solveStatic } from './static.ts';
import { solveStationary } from './stationary.ts';
import { solveMonteCarlo } from './montecarlo.ts';
import type { SolveOptions, SolveResult } from './types.ts';
import { table } from '../table.ts';

/** functions with kinks: Gaussian averages of them converge only algebraically */
const KINKED = new Set(['relu', 'abs', 'sign']);

/**
 * The Gaussian closure's quadrature is spectrally accurate for smooth
 * functions, but only O(dx²) across a kink, an error its dt-extrapolated
 * error bars do not see. For kinked order-parameter functions, measure the
 * quadrature's relative error on E f(X)² over a range of widths (against a
 * 64× finer rule) and widen every reported error by 5× it: the closure's
 * self-consistency amplifies a quadrature bias (by 1/(1 − gain); measured 2×
 * on a relu network at gain 0.84). A band-aid until the quadrature splits at
 * the kinks.
 */
function widenForKinks(reading: SystemReading, result: SolveResult): void {
  let eps = 0;
  for (const o of reading.orders.values()) {
    if (!some(o.f, (x) => x.k === 'cmp' || (x.k === 'call' && KINKED.has(x.fn)))) continue;
    const v = new Float64Array(o.slots.length);
    const f2 = (x: number) => { v[0] = x; const y = o.F(v); return y * y; };
    for (const sd of [0.3, 0.5, 1, 2]) for (const m of [-0.5 * sd, 0, 0.3 * sd]) {
      const coarse = expectNormal(f2, m, sd * sd), fine = expectNormal(f2, m, sd * sd, ROBUST_DX / 64);
      if (fine > 0) eps = Math.max(eps, Math.abs(coarse - fine) / fine);
    }
  }
  if (!(eps > 0)) return;
  for (const [k, vals] of Object.entries(result.observables)) {
    const e = result.error[k] ?? vals.map(() => 0);
    result.error[k] = vals.map((x, i) => Math.max(e[i], 5 * eps * Math.abs(x)));
  }
  result.diagnostics.quadratureRelError = +eps.toPrecision(2);
  result.diagnostics.quadratureNote = 'kinked functions (relu, abs, sign, comparisons): errors include the quadrature error of the closure';
}

export const METHODS = ['gaussian', 'mc', 'static', 'stationary'] as const;
export type Method = (typeof METHODS)[number];

export interface DispatchOptions extends SolveOptions {
  method?: string;
  /** options of the Gaussian closure (scheme, levels) */
  gaussian?: Pick<GaussianOptions, 'scheme' | 'levels' | 'twoTimePoints'>;
}

type LimitOutcome =
  | { limit: Record<string, number>; limitError?: Record<string, number>; limitNote?: string; tau?: SolveResult['tau']; diagnostics: Record<string, number | string | boolean> }
  | { unsupported: string };

/** Why the Gaussian closure does not apply to this reading (undefined if it does). */
export function whyNotGaussian(reading: SystemReading): string | undefined {
  if (!reading.gaussianState) {
    const bad = reading.pops.find((p) => !p.affine);
    if (bad) {
      if (bad.lower !== undefined || bad.upper !== undefined) return `population ${bad.pop.name}: the state ${bad.pop.variable} is bounded, so its law is not Gaussian`;
      return `population ${bad.pop.name}: d/dt ${bad.pop.variable} = ${print(bad.rhs)} is not affine in the state and its Gaussian inputs`;
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
    // a user-facing error (an instability naming its parameters) ends the solve;
    // an internal failure of an optional limit solver must not take the transient with it
    if (e instanceof DmftError || forced) throw e;
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
  for (const [name, v] of Object.entries(series.values)) {
    if (n < 2 * d) { unsettled.push(name); continue; }
    const v1 = v[n - 2 * d], v2 = v[n - d], v3 = v[n];
    const e = series.error[name][n];
    const d1 = v2 - v1, d2 = v3 - v2;
    const scale = Math.max(Math.abs(v3), Math.abs(v1), 1e-300);
    const floor = Math.max(Number.isFinite(e) ? e : 0, 1e-13 * scale);
    if (Math.abs(d2) <= floor) { limit[name] = v3; limitError[name] = floor + Math.abs(d2); continue; }
    const r = d1 !== 0 ? d2 / d1 : NaN;
    if (Number.isFinite(r) && Math.abs(r) < 0.5 && Math.abs(d2) < 1e-2 * scale) {
      const step = (d2 * r) / (1 - r);
      limit[name] = v3 + step;
      limitError[name] = Math.abs(step) + Math.abs(d2) * Math.abs(r) + floor;
      continue;
    }
    unsettled.push(name);
  }
  return { limit, limitError, unsettled };
}

/** Solve the derived DMFT equations: transient, limit and diagnostics (the `--json` contract). */
export function solve(sys: DmftSystem, opts: DispatchOptions): SolveResult {
  validateOptions(opts);
  const method = opts.method;
  if (method !== undefined && !(METHODS as readonly string[]).includes(method)) {
    throw new DmftError({ message: `--method ${method}: unknown method`, expected: METHODS.join(' | ') });
  }
  const reading = readSystem(sys, opts.params);
  const noiseDriven = reading.pops.some((p) => p.noises.length > 0);

  // ---- limit first (cheap, and an instability is best reported from there)
  let lim: LimitOutcome | undefined;
  const tried: string[] = [];
  if (method === 'static' || method === 'stationary') {
    const out = runLimit(method, reading, opts, true);
    if ('unsupported' in out) throw new DmftError({ message: `--method ${method} does not apply: ${out.unsupported}`, hint: method === 'static' ? 'try --method stationary, or leave --method out' : 'try --method static, or leave --method out' });
    lim = out;
  } else {
    const order: ('static' | 'stationary')[] = noiseDriven ? ['stationary', 'static'] : ['static', 'stationary'];
    for (const k of order) {
      const out = runLimit(k, reading, opts, false);
      if ('unsupported' in out) { tried.push(`${k}: ${out.unsupported}`); continue; }
      lim = out;
      tried.push(`${k}: used`);
      break;
    }
  }

  // ---- transient
  const whyNot = whyNotGaussian(reading);
  let transient: SolveResult;
  let gsol: GaussianSolution | undefined;
  const useGaussian = method === 'gaussian' || (method !== 'mc' && whyNot === undefined);
  if (method === 'gaussian' && whyNot) {
    throw new DmftError({ message: `--method gaussian does not apply: ${whyNot}`, hint: 'use --method mc (Monte Carlo), or leave --method out' });
  }
  if (useGaussian) {
    gsol = solveGaussian(reading, { ...opts, ...(opts.gaussian ?? {}) });
    transient = gsol.result;
  } else {
    transient = solveMonteCarlo(reading, opts);
    if (whyNot && method !== 'mc') transient.diagnostics = { ...transient.diagnostics, whyNotGaussian: whyNot };
  }

  const result: SolveResult = { ...transient, diagnostics: { ...transient.diagnostics } };
  const diag = result.diagnostics;
  diag.transient = transient.method;
  if (useGaussian) widenForKinks(reading, result);

  // ---- assemble the limit
  if (lim && !('unsupported' in lim)) {
    result.limit = lim.limit;
    if (lim.limitError) result.limitError = lim.limitError;
    if (lim.limitNote) result.limitNote = lim.limitNote;
    if (lim.tau) result.tau = lim.tau;
    for (const [k, v] of Object.entries(lim.diagnostics)) diag[`limit.${k}`] = v;
    const limitMethod = method === 'static' || method === 'stationary' ? method : tried.find((x) => x.endsWith(': used'))!.split(':')[0];
    diag.limitMethod = limitMethod;
    result.method = `${transient.method}+${limitMethod}`;
    // cross-check with the settled end of the transient
    if (gsol) {
      const fromT = limitFromSeries(gsol.series);
      let worst = 0;
      for (const [k, v] of Object.entries(fromT.limit)) {
        if (!(k in lim.limit)) continue;
        const tolK = fromT.limitError[k] + (lim.limitError?.[k] ?? 0) + 1e-9 * Math.abs(v);
        worst = Math.max(worst, Math.abs(v - lim.limit[k]) / tolK);
      }
      if (Object.keys(fromT.limit).length) diag.limitVsTransient = +worst.toPrecision(3);
      if (worst > 10) {
        // the closure averages kinked functions by quadrature whose error its
        // dt-extrapolated error bars do not see: widen them to the disagreement
        const kinked = [...reading.orders.values()].some((o) => some(o.f, (x) => x.k === 'cmp' || (x.k === 'call' && KINKED.has(x.fn))));
        if (kinked) {
          for (const [k, v] of Object.entries(fromT.limit)) {
            if (!(k in lim.limit) || !result.error[k]) continue;
            const d = Math.abs(v - lim.limit[k]);
            result.error[k] = result.error[k].map((e) => Math.max(e, d));
          }
        }
        const why = kinked
          ? `several attractors, T too short, or the quadrature error of the transient closure for kinked functions (relu, abs, sign, comparisons) — transient error bars widened to the difference`
          : 'several attractors, or T too short';
        result.limitNote = [result.limitNote, `the transient settles elsewhere than the ${limitMethod} solution within T = ${opts.T} (|difference| = ${worst.toPrecision(3)}× the error bars): ${why}`].filter(Boolean).join('; ');
      }
    }
  } else if (gsol) {
    const fromT = limitFromSeries(gsol.series);
    // a linear system that keeps growing without settling is past its stability edge
    if (reading.linear && fromT.unsettled.length && gsol.growth.weakUnstable) {
      throw gsol.instability();
    }
    if (Object.keys(fromT.limit).length) {
      result.limit = fromT.limit;
      result.limitError = fromT.limitError;
      diag.limitMethod = 'transient-extrapolation';
    }
    const notes: string[] = [];
    if (tried.length) notes.push(`no static or stationary solution (${tried.join('; ')})`);
    if (fromT.unsettled.length) notes.push(`${fromT.unsettled.join(', ')} ${fromT.unsettled.length > 1 ? 'have' : 'has'} not settled by T = ${opts.T}; increase --T`);
    else notes.push(`limit extrapolated from the settled end of the transient (T = ${opts.T})`);
    result.limitNote = notes.join('; ');
  } else {
    if (transient.limit) { /* the Monte Carlo solver gave its own */ }
    else result.limitNote = `no static or stationary solution (${tried.join('; ')})`;
  }
  if (tried.length) diag.limitTried = tried.join(' | ');
  return result;
}

export { solveGaussian } from './gaussian.ts';
