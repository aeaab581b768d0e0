// What every solver takes and returns (the `--json` contract: docs/json.md).
export interface SolveOptions {
  /** parameter values (defaults merged with --set) */
  params: Record<string, number>;
  /** final time of the transient */
  T: number;
  /** base time step (solvers refine it and extrapolate) */
  dt: number;
  /** times at which one-time observables are reported (default: the solver grid) */
  times?: number[];
  /** relative tolerance for iterations */
  tol?: number;
  /** Monte Carlo samples, where relevant */
  samples?: number;
  seed?: number;
  /** report progress of long steps (fraction in [0,1]) */
  progress?: (label: string, fraction: number) => void;
}

export interface TwoTime {
  t: number[];
  /** values[a][b] = observable(t[a], t[b]) */
  values: number[][];
  error?: number[][];
}

export interface SolveResult {
  model: string;
  params: Record<string, number>;
  method: string;
  t: number[];
  observables: Record<string, number[]>;
  error: Record<string, number[]>;
  /** t → ∞ value of one-time observables, where the solver can determine it */
  limit?: Record<string, number>;
  limitError?: Record<string, number>;
  /** why `limit` is missing (or partial) */
  limitNote?: string;
  /** what is known about the t → ∞ value of each one-time observable (see docs/solve.md) */
  limitStatus?: Record<string, LimitStatus>;
  /** every fixed point found when the limit has several (symmetry-broken) branches */
  branches?: Branch[];
  twoTime?: Record<string, TwoTime>;
  /** stationary correlation functions indexed by the lag τ */
  tau?: Record<string, { tau: number[]; values: number[] }>;
  diagnostics: Record<string, number | string | boolean>;
  /** a solver with a work knob (Monte Carlo) says what its errors are made of and how it was run,
   *  so that a caller can ask it for a smaller error (`tighterTheory`, used by `dmft check`) */
  accuracy?: Accuracy;
}

/**
 * The parts of a solver's error that more work shrinks, and the knobs that set them. `parts` are
 * at the result's times `t`, for the one-time observables, each as a standard error (they combine
 * in quadrature to `error`): `statistical` and `pathBias` fall like 1/√replicas, `step` like dt²
 * (absent for an exact step), `residual` is a self-consistency residual beyond the statistics.
 */
export interface Accuracy {
  parts: Record<string, { statistical: number[]; pathBias: number[]; step: number[]; residual: number[] }>;
  /** the statistical target relative to each observable's scale, the replicas and paths per replica run */
  tol: number;
  replicas: number;
  paths: number;
  /** the grid's step and steps (a map: 1 and T) and the largest number of steps allowed */
  dt: number;
  steps: number;
  maxSteps: number;
  /** the step error can be lowered by a finer grid (false for a map, stepped exactly) */
  stepRefinable: boolean;
  /** the solve's work by the solver's own cost model (multiply-adds of the replicas at dt), a
   *  deterministic measure of its cost (seconds depend on the machine and its load) */
  work: number;
  /** the seconds the solver itself took (the work that more paths and replicas multiply) */
  seconds: number;
}

/**
 * The t → ∞ verdict for one observable. Only `value` puts a number in
 * `limit`; every other status says why there is none.
 *   value      the limit, within `limitError`
 *   marginal   the long-time state sits at a stability edge (an eigenvalue 1 or
 *              a zero mode within the solver's accuracy): no value is trusted
 *   divergent  the transient grows without settling (`growth` has the law)
 *   absent     no limit could be determined (not settled by T, no applicable solver)
 *   branches   several stable states; the dynamics from the declared initial
 *              condition does not select one (see `branches`)
 */
export type LimitStatusKind = 'value' | 'marginal' | 'divergent' | 'absent' | 'branches';

/** How a transient behaves near T: |v| ∝ e^(rate·t) or t^rate, fitted on [from, to]. */
export interface GrowthLaw {
  law: 'exponential' | 'power';
  rate: number;
  from: number;
  to: number;
  /** the other law's rate, when the window is too short to tell the two apart */
  or?: number;
}

export interface LimitStatus {
  status: LimitStatusKind;
  /** one sentence: why this status (which solver, which test) */
  reason?: string;
  /** the measured growth or decay of the transient where it did not settle */
  growth?: GrowthLaw;
}

/** One fixed point (branch) of the t → ∞ equations. */
export interface Branch {
  /** stable: an attractor of the dynamics; unstable: the named mode grows */
  stable: boolean;
  stability: string;
  /** one-time observables and their numerical errors on this branch */
  observables: Record<string, number>;
  errors: Record<string, number>;
  /** the order parameters of the branch (e.g. the mean-field values) */
  orderParams: Record<string, number>;
  /** the transient from the declared initial condition settles here */
  reachedByTransient?: boolean;
}
