// Asking a solver for a smaller error. A solver with a work knob (Monte Carlo) reports in
// `SolveResult.accuracy` what its error bars are made of and how it was run; given the error
// a caller needs at some points (`dmft check`, when the theory's own bar blocks a verdict),
// `tighterTheory` says which options buy it and at about what cost relative to the solve that
// produced the result. Deterministic solvers report no `accuracy`: their errors are far below
// any target check asks for, and there is nothing to buy.
import type { Accuracy, SolveResult } from './types.ts';
import { biasNoiseFactor, type MonteCarloOptions } from './montecarlo.ts';

/** An error wanted at one point: observable `observable` at time `t`, at most `error` (a standard error). */
export interface ErrorAsk { observable: string; t: number; error: number }

export type Tighter =
  | {
    /** options for the solver (merged over the ones the result was solved with) */
    dt: number;
    monteCarlo: Pick<MonteCarloOptions, 'tol' | 'replicas' | 'maxReplicas' | 'paths'>;
    /** projected cost relative to the solve that gave the result */
    cost: number;
    /** what changes, in words */
    what: string;
  }
  | { cannot: string };

/** the cost of halving the step: a path's work grows like K² (fields, rows) to K³ (tangents);
 *  measured ×3 on the Hopfield let chain at T = 2 (20 → 40 steps) */
const HALF_STEP_COST = 4;
/** seconds per unit of the Monte Carlo cost model's work, for a split of effort that does not
 *  depend on the machine's speed (measured 58–175 ns on the Hopfield and sigmoid let chains and a
 *  tanh network at T = 2, the spread being the parts the model leaves out: the bias replicas, the
 *  self-consistency run, the t → ∞ solvers) */
export const SECONDS_PER_WORK = 1e-7;
/** the most paths per replica asked for (memory grows with them) */
const MAX_PATHS = 8000;

/**
 * The options that bring each asked point's error below what is asked. With a paths per replica
 * and c times the replicas (a·c times the work), the statistical part falls like 1/√(a·c) (a
 * replica's scatter is its kernels' noise, ∝ 1/√paths), the finite-path bias and a
 * self-consistency residual like 1/a (a bias ∝ 1/paths: more replicas only sharpen its
 * estimate), the step part like dt² (the step is halved once when it would take more than a
 * quarter of the asked variance). The paths grow until the bias takes at most a quarter of the
 * asked variance, the replicas make the rest. Counts, not times: the result is reproducible.
 */
export function tighterTheory(theory: SolveResult, asks: ErrorAsk[]): Tighter {
  const acc = theory.accuracy;
  if (!acc) return { cannot: `the ${theory.method} solver has no work knob: its error bar is what it is` };
  const at = (name: string, t: number) => {
    const p = acc.parts[name];
    const k = theory.t.findIndex((x) => Math.abs(x - t) <= 1e-9 * Math.max(1, Math.abs(t)));
    return p && k >= 0 ? { s: p.statistical[k], b: Math.hypot(p.pathBias[k], p.residual[k]), d: p.step[k] } : undefined;
  };
  const pts = asks.map((a) => ({ a, p: at(a.observable, a.t) }));
  const missing = pts.find((x) => !x.p);
  if (missing) return { cannot: `the solver does not split its error at ${missing.a.observable}(${missing.a.t})` };
  const halve = acc.stepRefinable && 2 * acc.steps <= acc.maxSteps && pts.some(({ a, p }) => p!.d > a.error / 2);
  const rooms = pts.map(({ a, p }) => a.error ** 2 - (halve ? p!.d / 4 : p!.d) ** 2);
  const bad = rooms.findIndex((r) => !(r > 0));
  if (bad >= 0) {
    const { a, p } = pts[bad];
    return { cannot: `${a.observable}(${a.t}): its step error (${p!.d.toPrecision(2)}) alone is above the ${a.error.toPrecision(2)} asked${acc.stepRefinable ? (halve ? ' even at half the step' : ` and the grid has its largest number of steps (${acc.maxSteps})`) : ''}` };
  }
  // the bias estimate is partly the noise of the replicas it is measured from (k·s); the rest is
  // taken as a true bias ∝ 1/paths
  const k = biasNoiseFactor(acc.paths);
  const bt = pts.map(({ p }) => Math.sqrt(Math.max(0, p!.b ** 2 - (k * p!.s) ** 2)));
  // paths: the true bias within a quarter of each asked variance (bt/a ≤ √room/2), or more when
  // that is cheaper (a larger replica measures its bias with less noise); replicas: the
  // statistics and the bias estimate's noise within what the true bias leaves
  let aMin = 1;
  pts.forEach((_, i) => { aMin = Math.max(aMin, (2.2 * bt[i]) / Math.sqrt(rooms[i])); });
  const plan = (paths: number) => {
    const a = paths / acc.paths, k2 = biasNoiseFactor(paths);
    let c = 1;
    for (let i = 0; i < pts.length; i++) {
      const left = rooms[i] - (bt[i] / a) ** 2;
      if (!(left > 0)) return undefined;
      c = Math.max(c, (pts[i].p!.s ** 2 * (1 + k2 * k2)) / a / left);
    }
    return { paths, a, c };
  };
  const options = [Math.round(acc.paths * aMin), 400, 1000, 2000].filter((P) => P >= acc.paths * aMin && P <= MAX_PATHS).map(plan).filter((x) => x !== undefined);
  if (!options.length) {
    const i = bt.findIndex((b, j) => (b / (MAX_PATHS / acc.paths)) ** 2 >= rooms[j]);
    return { cannot: `${asks[Math.max(0, i)].observable}(${asks[Math.max(0, i)].t}): its finite-path bias (${bt[Math.max(0, i)].toPrecision(2)}) would need more than ${MAX_PATHS} paths per replica` };
  }
  const { paths, a, c: c0 } = options.reduce((x, y) => (y.a * y.c < x.a * x.c ? y : x));
  let c = c0;
  if (a * c <= 1 && !halve) return { cannot: 'the error asked for is already reached' };
  // a margin: the errors are themselves estimates
  if (c > 1) c *= 1.2;
  const replicas = Math.max(acc.replicas, Math.ceil(acc.replicas * c));
  const f = (paths / acc.paths) * (replicas / acc.replicas);
  const tol = acc.tol / Math.sqrt(f);
  const what = [
    ...(f > 1 ? [`${replicas} replicas of ${paths} paths instead of ${acc.replicas} of ${acc.paths}`] : []),
    ...(halve ? [`a step of ${+(acc.dt / 2).toPrecision(4)} instead of ${+acc.dt.toPrecision(4)}`] : []),
  ].join(', ');
  return { dt: halve ? acc.dt / 2 : acc.dt, monteCarlo: { tol, paths, replicas, maxReplicas: replicas }, cost: f * (halve ? HALF_STEP_COST : 1), what };
}

export type { Accuracy };
