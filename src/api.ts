// The programmatic API (`import { … } from 'dmftkit'`): the CLI's pipeline as
// functions with the CLI's defaults and the CLI's validation. Options are the
// CLI's flags as numbers and arrays; a bad value throws the DmftError the CLI
// would print (its message names the flag, e.g. "--T -1 …"). A model is a path
// to a .dmft file or a Model from `loadModel`/`parseModel`; `set` overrides
// parameters either way, and an unknown parameter name is refused, never
// ignored. Docs: docs/api.md.
import { DmftError } from './errors.ts';
import type { Model } from './model/ir.ts';
import { loadModel as loadModelFile, loadModelSource } from './model/load.ts';
import { applyOverrides, validateModel } from './model/validate.ts';
import { derive as deriveRoute, type Route } from './derive/index.ts';
import type { Derivation, DmftSystem } from './derive/system.ts';
import { solve as solveSystem } from './solve/index.ts';
import { explainFailure, validateResult } from './solve/validate-result.ts';
import type { SolveResult } from './solve/types.ts';
import { simulate as simulateModel } from './simulate/index.ts';
import type { SimResult } from './simulate/types.ts';
import { checkModel, type CheckReport } from './check/index.ts';
import { verifyTex, type VerifyReport } from './verify/index.ts';
import { renderDerivation } from './cli/derive.ts';
import { solveOptions } from './cli/solve.ts';
import { simulateOptions } from './cli/simulate.ts';
import { checkOptions } from './cli/check.ts';

export type { Model, Derivation, DmftSystem, SolveResult, SimResult, CheckReport, VerifyReport, Route };
export { DmftError };
export { VERSION } from './cli/version.ts';

/** A path to a .dmft file, or a model already loaded. */
export type ModelInput = string | Model;
/** Parameter overrides, as `--set k=v`. */
export type Sets = Record<string, number>;
/** Told the fraction done of long work, with a label ("simulating N = 2000"). */
export type ProgressFn = (label: string, fraction: number) => void;

/** Read a .dmft file, apply `set`, validate (throws DmftError with file:line:col). */
export function loadModel(file: string, opts: { set?: Sets; maxBytes?: number } = {}): Model {
  return loadModelFile(file, opts.set ?? {}, { maxBytes: opts.maxBytes });
}

/** Parse a model from its text; `file` names it in error messages (default "model.dmft"). */
export function parseModel(source: string, opts: { file?: string; set?: Sets } = {}): Model {
  return loadModelSource(source, opts.file ?? 'model.dmft', opts.set ?? {});
}

function modelOf(input: ModelInput, set: Sets | undefined): Model {
  if (typeof input === 'string') return loadModel(input, { set });
  if (!input || typeof input !== 'object' || !Array.isArray((input as Model).params)) {
    throw new DmftError({ message: 'expected a model: a path to a .dmft file or the result of loadModel/parseModel', hint: "e.g. solve('examples/scs.dmft')" });
  }
  return set && Object.keys(set).length ? validateModel(applyOverrides(input, set)) : input;
}

/** A number option as the CLI flag's text (undefined stays undefined: the CLI default applies). */
const flag = (v: number | undefined): string | undefined => (v === undefined ? undefined : String(v));
const list = (v: number[] | undefined): string | undefined => (v === undefined ? undefined : v.map(String).join(','));

/** Derive the DMFT equations (default route: cavity). */
export function derive(model: ModelInput, opts: { route?: Route; set?: Sets } = {}): Derivation {
  const route = opts.route ?? 'cavity';
  if (route !== 'cavity' && route !== 'msr') throw new DmftError({ message: `route ${String(route)}: unknown route`, expected: 'cavity | msr' });
  return deriveRoute(modelOf(model, opts.set), route);
}

/** A derivation as a document: LaTeX, a standalone HTML page, JSON or the rule trace (as `dmft derive --format`). */
export function render(d: Derivation, format: 'tex' | 'html' | 'json' | 'steps' = 'tex'): Promise<string> {
  if (!['tex', 'html', 'json', 'steps'].includes(format)) throw new DmftError({ message: `format ${String(format)}: unknown format`, expected: 'tex | html | json | steps' });
  return renderDerivation(d, format);
}

export interface SolveApiOptions {
  set?: Sets;
  /** final time (default 50, or the last of `times`) */
  T?: number;
  /** time step of the two-time grid (default max(0.05, T/400), at most T/2) */
  dt?: number;
  /** times at which one-time observables are reported (default: the grid) */
  times?: number[];
  /** force a method: gaussian | mc | static | stationary (default: chosen from the equations' structure) */
  method?: string;
  progress?: ProgressFn;
}

/** Derive (cavity route) and solve, as `dmft solve`: a result that failed validation throws instead of returning. */
export function solve(model: ModelInput, opts: SolveApiOptions = {}): SolveResult {
  const o = solveOptions({ T: flag(opts.T), dt: flag(opts.dt), times: list(opts.times), method: opts.method });
  const m = modelOf(model, opts.set);
  const sys = deriveRoute(m, 'cavity').system;
  let r: SolveResult;
  try {
    r = solveSystem(sys, { params: sys.params, T: o.T, dt: o.dt, times: o.times, method: o.method, progress: opts.progress });
  } catch (e) {
    throw explainFailure(e, sys);
  }
  validateResult(r, sys, m.file);
  return r;
}

export interface SimulateApiOptions {
  set?: Sets;
  /** number of sites of the first declared size (default 1000) */
  N?: number;
  /** independent seeds (default 4) */
  seeds?: number;
  /** first seed (default 1) */
  seed?: number;
  T?: number;
  dt?: number;
  times?: number[];
  /** worker threads (default: by size; 0 runs in-process) */
  threads?: number;
  couplings?: 'auto' | 'f64' | 'f32';
  progress?: ProgressFn;
}

/** Simulate the finite-N system, as `dmft simulate`: mean and standard error over seeds. */
export function simulate(model: ModelInput, opts: SimulateApiOptions = {}): Promise<SimResult> {
  const o = simulateOptions({
    N: flag(opts.N), seeds: flag(opts.seeds), seed: flag(opts.seed), T: flag(opts.T), dt: flag(opts.dt),
    times: list(opts.times), threads: flag(opts.threads), couplings: opts.couplings,
  });
  const report = opts.progress;
  return simulateModel(modelOf(model, opts.set), { ...o, progress: report ? { report, note: () => {} } : undefined });
}

export interface CheckApiOptions {
  set?: Sets;
  /** sizes (default [1000]) */
  N?: number[];
  /** seeds per size in the first round (default 8) */
  seeds?: number;
  T?: number;
  dt?: number;
  times?: number[];
  method?: string;
  /** relative difference that must be detectable (default 0.02) */
  target?: number;
  /** wall-clock budget in seconds for adding seeds (default 120) */
  budget?: number;
  maxSeeds?: number;
  /** family-wise false-alarm rate (default 0.01) */
  alpha?: number;
  /** final time of the late-time simulation (default 4 T) */
  TLimit?: number;
  /** compare t → ∞ values (default true) */
  limit?: boolean;
  /** run the paired step-size check (default true) */
  stepCheck?: boolean;
  /** told what the check is doing (one line per stage) */
  progress?: (message: string) => void;
}

/** Theory against simulation, as `dmft check`: `report.verdict` is agree, disagree or inconclusive. */
export function check(model: ModelInput, opts: CheckApiOptions = {}): Promise<CheckReport> {
  const s = checkOptions({
    N: list(opts.N), seeds: flag(opts.seeds), T: flag(opts.T), dt: flag(opts.dt), times: list(opts.times), method: opts.method,
    target: flag(opts.target), budget: flag(opts.budget), maxSeeds: flag(opts.maxSeeds), alpha: flag(opts.alpha), TLimit: flag(opts.TLimit),
    limit: opts.limit, stepCheck: opts.stepCheck,
  });
  const m = modelOf(model, opts.set);
  return checkModel(m, deriveRoute(m, 'cavity').system, s, opts.progress);
}

/** Verify a hand derivation (LaTeX source) against the derived equations, as `dmft verify`. */
export function verify(model: ModelInput, tex: string, opts: { set?: Sets; map?: string; strict?: boolean; texName?: string } = {}): VerifyReport {
  if (typeof tex !== 'string') throw new DmftError({ message: 'verify: expected the LaTeX source of the derivation as a string', hint: "read the file first, e.g. readFileSync('derivation.tex', 'utf8')" });
  const m = modelOf(model, opts.set);
  return verifyTex(m, deriveRoute(m, 'cavity'), tex, opts.texName ?? 'derivation.tex', { map: opts.map, strict: opts.strict });
}
