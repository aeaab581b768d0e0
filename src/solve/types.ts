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
  twoTime?: Record<string, TwoTime>;
  /** stationary correlation functions indexed by the lag τ */
  tau?: Record<string, { tau: number[]; values: number[] }>;
  diagnostics: Record<string, number | string | boolean>;
}
