// Public types of the finite-N simulator.

export interface SimOptions {
  /** the base size (the size the other sizes follow from through the ratios) */
  N: number;
  /** number of independent seeds (disorder, initial condition and noise) */
  seeds: number;
  /** final time */
  T: number;
  /** largest internal step (each output interval is cut into equal steps ≤ dt) */
  dt: number;
  /** one-time output times in [0, T]; default 21 points 0, T/20, …, T */
  times?: number[];
  /** seeds used are seed0, seed0+1, …; default 1 */
  seed0?: number;
  /** time grid of two-time observables; default 21 points 0, T/20, …, T */
  twoTimeGrid?: number[];
  /** worker threads; 0 or 1 runs in-process. Default: min(seeds, available
   *  cores) when the run is estimated to take over ~1 s in-process (starting a
   *  worker costs ~0.5 s), else in-process. When fewer seeds than threads
   *  run in-process (one seed, threads ≥ 2 or the default on ≥ 2 cores), each
   *  large mat-vec is split over two threads instead. Results do not depend
   *  on it (bit for bit). */
  threads?: number;
  /** storage of rank-2 random arrays; arithmetic is always double precision.
   *  'auto' (default): single precision for each matrix whose entries round
   *  with an error below 1e-6 of their standard deviation (zero-mean
   *  couplings, 0/1 entries: half the memory traffic of the matrix–vector
   *  products), double otherwise; 'f64', 'f32': force one. */
  couplingPrecision?: 'auto' | 'f64' | 'f32';
  /** |state| beyond this is reported as a blow-up; default 1e12 */
  blowup?: number;
  /** use the WebAssembly SIMD kernels when available (default true) */
  wasm?: boolean;
  /** also return every seed's one- and two-time observables (`perSeed`) */
  keepSeeds?: boolean;
  /** Paired step-size check: a run with `substeps: 2` and one with
   *  `noiseDraws: 2` (same seeds, same dt) integrate the same disorder, initial
   *  condition and Brownian path, at step h/2 and h; their per-seed difference
   *  measures the integrator's step bias without the sampling noise. */
  substeps?: number;
  noiseDraws?: number;
  /** told the fraction done (about twice a second at most) and one-off notes
   *  (the time estimate of a long run, fewer threads to fit in memory) */
  progress?: SimProgress;
  /** bytes of memory the run may use (default: what the system has available) */
  memoryBytes?: number;
}

export interface SimProgress {
  report: (label: string, fraction: number) => void;
  note: (text: string) => void;
}

export interface SimDiagnostics {
  /** 'rk4', 'stochastic-heun', or 'map' (discrete time: one step per unit of time) */
  scheme: string;
  /** the requested largest step (output intervals are cut into equal steps ≤ dt) */
  dt: number;
  /** integration steps per seed */
  steps: number;
  seed0: number;
  /** worker threads used (0: in-process) */
  threads: number;
  /** in-process runs: threads that computed the mat-vecs (2 when split) */
  matvecThreads: number;
  kernels: 'wasm-simd' | 'js';
  /** how the random matrices were stored */
  couplingPrecision: 'f64' | 'f32' | 'mixed';
  /** the noise coefficient depends on the state */
  multiplicativeNoise: boolean;
  /** initial values clipped into the state bounds (all seeds) */
  clippedInit: number;
  /** wall time of the whole call, seconds */
  wallSeconds: number;
  /** mean integration time per seed, seconds (sampling excluded) */
  integrateSeconds: number;
  /** N_total·steps / integrateSeconds, site updates per second per seed */
  siteUpdatesPerSecond: number;
}

export interface TwoTimeResult { t: number[]; mean: number[][]; stderr: number[][] }

export interface SimResult {
  /** the model's title */
  model: string;
  params: Record<string, number>;
  N: number;
  /** every size at this N */
  sizes: Record<string, number>;
  seeds: number;
  t: number[];
  /** one-time observables: mean over seeds at each t */
  observables: Record<string, number[]>;
  /** standard error of the mean over seeds (NaN with a single seed) */
  stderr: Record<string, number[]>;
  twoTime?: Record<string, TwoTimeResult>;
  /** with `keepSeeds`: each seed's values, [seed][time] and [seed][a][b] */
  perSeed?: {
    seeds: number[]; observables: Record<string, number[][]>; twoTime?: Record<string, number[][][]>;
    /** each seed's control variates ([seed][control], names in `controlNames`): sample moments
     *  of its random draws whose expectation is exactly 0 (src/simulate/controls.ts) */
    controls: number[][]; controlNames: string[];
    /** a map's per-step controls: for each per-step random declaration (names in
     *  `stepControlNames`), the standardized mean of its draw at each step s = 0…T,
     *  [seed][declaration][s] (exactly 0 in expectation; absent without per-step randomness) */
    stepControls?: number[][][]; stepControlNames?: string[];
  };
  diagnostics: SimDiagnostics;
}
