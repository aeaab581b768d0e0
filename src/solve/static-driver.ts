// The static cavity solver's driver (docs/solve.md, "Static fixed points").
// The site evaluator (static-site.ts: one variable or several, correlated
// fields, bounds, kinks and jumps resolved by split quadrature) knows how to
// evaluate the static map and solve it at a proximal ε; this file decides
// what to report:
//  A  the plain solve from the initial condition, and with mean-field
//     feedback a search for other (symmetry-broken) branches from flipped and
//     scaled seeds: several stable ones are reported, not chosen;
//  B  when the plain solve fails or is unstable only for want of a restoring
//     force, a proximal term −ε(x − x(0)) continued ε → 0 (src/solve/proximal.ts);
//  C  ε = 0 again from the continued solution (a finite susceptibility);
//  D  a manifold of fixed points (zero modes): the ε → 0 extrapolation,
//     flagged init-dependent.
// Every value carries an error bar: the quadrature error (the fixed point
// solved again on finer rules) plus the iteration error (one more step of
// the map, amplified by 1/(1 − contraction)). A fixed point at a stability
// edge within the computation's accuracy is marginal (no value).
import { extrapolateToZero, predictAt, type ProximalPoint, zeroModesAt as sharedZeroModesAt } from './proximal.ts';
import type { Branch, SolveOptions } from './types.ts';
import { table } from '../table.ts';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** The system has no static fixed point this solver can take (internal; becomes `{ unsupported }`). */
export class Unsupported extends Error {}
/** No fixed point from this start (a node without a root, a diverging or stalled iteration; internal). */
export class NoFixedPoint extends Error {}

export interface StaticResult {
  limit: Record<string, number>;
  limitError: Record<string, number>;
  /** set when the limit holds with a caveat (e.g. it depends on the initial condition) */
  limitNote?: string;
  /** every fixed point found by the branch search (when it found more than one) */
  branches?: Branch[];
  diagnostics: Record<string, number | string | boolean>;
}
/** No value: `kind: 'marginal'` at a stability edge (within the solver's accuracy);
 *  `branches` when several stable fixed points exist (the dynamics picks one). */
export type StaticOutcome = StaticResult | { unsupported: string; kind?: 'marginal'; branches?: Branch[] };

export interface StaticOptions extends SolveOptions {
  /** largest number of damped (Picard) iterations per solve (default 400) */
  maxIter?: number;
}

/** A solution of the self-consistency equations at one ε. */
export interface SiteSolution { vals: Float64Array; residual: number; iterations: number }

/** Stability and observables of a solution. */
export interface SiteAssessment {
  /** spectral radius of the fluctuation (replicon-type) map; Infinity when a transfer function jumps where its field has density */
  rho: number;
  /** largest real part of the mean-mode eigenvalues */
  meanEig: number;
  /** probability weight of nodes whose single-site fixed point is unstable */
  unstable: number;
  /** probability weight of nodes whose single-site equations are singular (a zero mode of the site) */
  singular: number;
  /** probability weight of jumps whose δ terms could not be resolved (the fixed point itself jumps there) */
  openJumps: number;
  /** probability weight of nodes whose fixed point depends on the initial draw */
  multistable: number;
  limit: Record<string, number>;
  /** max over responses of |χ|·ε (zero modes: stays O(1) as ε → 0) */
  chiEps: number;
}

/** What the driver needs of a site's static map. `NoFixedPoint` is thrown where a solve fails. */
export interface StaticSite<S extends SiteSolution> {
  readonly opNames: string[];
  readonly opKinds: string[];
  readonly params: Record<string, number>;
  /** evaluations of the static map so far */
  readonly evals: number;
  /** error bars are at least `relative`·|value| and `absolute` (the rounding of the sums and the root solves) */
  readonly roundingFloor: { relative: number; absolute: number };
  /** order parameters of the initial condition (responses 0) */
  start(): Float64Array;
  /** does a mean-field order parameter feed back into a site equation? */
  meanFeedback(): boolean;
  /** the self-consistent fixed point at ε from v on the current rules */
  solve(v: Float64Array, eps: number, tol: number): S;
  /** the rules refined until one more level changes no integral of the map at the solution, and the fixed point solved again */
  refine(sol: S, eps: number, tol: number): S;
  /** the same fixed point with every rule one level finer, converged tightly (the quadrature error) */
  solveFiner(sol: S, eps: number): S;
  /** the observables of a solution */
  observables(sol: S): Record<string, number>;
  /** the observables of the map at sol's order parameters on the finer rules */
  observablesFiner(sol: S, eps: number): Record<string, number>;
  /** the observables of one more step of the map from sol (the iteration error) */
  observablesStep(sol: S, eps: number): Record<string, number>;
  assess(sol: S, eps: number): SiteAssessment;
  /** as `assess`, on the finer rules (how far the eigenvalues can be trusted) */
  assessFiner(sol: S, eps: number): SiteAssessment;
  /** the site's own diagnostics of a solution (its quadrature) */
  diagnostics(sol: S): Record<string, number | string | boolean>;
}

/** The spectral radius and the largest real part of the eigenvalues of a small square matrix (an empty one: 0, −∞):
 *  the fluctuation and mean-mode eigenvalues of every site. */
export function spectralExtent(A: number[][]): { mod: number; re: number } {
  if (A.length === 0) return { mod: 0, re: -Infinity };
  const ed = new EigenvalueDecomposition(new Matrix(A));
  const re = ed.realEigenvalues, im = ed.imaginaryEigenvalues;
  let mod = 0, mre = -Infinity;
  for (let i = 0; i < re.length; i++) { mod = Math.max(mod, Math.hypot(re[i], im[i])); mre = Math.max(mre, re[i]); }
  return { mod, re: mre };
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(3));

/** relative residual between two op vectors (floor 1e-6 of the largest entry's scale, and 1e-6 absolute:
 *  a fixed point at 0 — every order parameter decaying with the state — converges absolutely) */
export function resid(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0, sc = 1;
  for (let i = 0; i < a.length; i++) sc = Math.max(sc, Math.abs(a[i]), Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 1e-6 * sc));
  return s;
}

/** The proximal ε above which a continuation step is solved loosely (it only seeds the next). */
const LOOSE_EPS = 5e-4;
/** the continuation looks for zero modes from this ε down */
const ZERO_MODE_EPS = 2.5e-4;

/**
 * The t → ∞ fixed point of relaxational dynamics on a site's static map.
 * Returns `{ unsupported }` (with the reason) when there is none this solver
 * can trust: chaotic or multistable (fluctuation mode unstable), several
 * stable branches, unbounded growth, a diverging iteration, a marginal edge.
 */
export function driveStatic<S extends SiteSolution>(m: StaticSite<S>, opts: { tol?: number; method: string; t0: number }): StaticOutcome {
  const tol = Math.min(opts.tol ?? 1e-10, 1e-8);
  const diag: Record<string, number | string | boolean> = { method: opts.method };
  const paramList = Object.entries(m.params).map(([k, v]) => `${k}=${v}`).join(', ');
  /** a fixed point at ε = 0 on converged rules (the proximal continuation's points keep the rules they find) */
  const solve0 = (v: Float64Array) => {
    const s = m.solve(v, 0, tol);
    // a multistable site is refused whatever the rules: no refinement spent on it
    return m.assess(s, 0).multistable > 0 ? s : m.refine(s, 0, tol);
  };
  const attempt = <T>(f: () => T): T | undefined => { try { return f(); } catch (e) { if (e instanceof NoFixedPoint) return undefined; throw e; } };

  const finish = (sol: S, a: SiteAssessment, eps: number, extra: { limit?: Record<string, number>; limitError?: Record<string, number>; note?: string; ridge?: boolean } = {}): StaticResult => {
    const kappa = Math.min(0.99, Math.max(0, Number.isFinite(a.rho) ? a.rho : 0, Number.isFinite(a.meanEig) ? Math.abs(a.meanEig) : 0));
    // quadrature error: the fixed point solved again on finer rules, so that the error of
    // every integral (responses included) moves the order parameters and, with them, the observables
    let fineLimit = a.limit;
    if (!extra.ridge) {
      const fine = attempt(() => m.solveFiner(sol, eps));
      if (fine) fineLimit = m.observables(fine);
      else {
        // the finer map at the same point, amplified like a perturbation of the map
        const mapFine = m.observablesFiner(sol, eps);
        fineLimit = Object.fromEntries(Object.entries(a.limit).map(([k, v]) => [k, v + (mapFine[k] - v) / (1 - kappa)]));
        diag.quadratureErrorFrom = 'the finer map at the base solution (its solve failed), amplified by 1/(1 − contraction)';
      }
    }
    // iteration error: the effect of one more step of the map on the observables,
    // amplified by 1/(1 − κ) for a map contracting at rate κ (the distance left to its fixed point)
    const stepLimit = extra.ridge ? a.limit : m.observablesStep(sol, eps);
    const limit = extra.limit ?? a.limit;
    const limitError: Record<string, number> = table();
    for (const k of Object.keys(limit)) {
      const quad = extra.ridge ? 0 : Math.abs(fineLimit[k] - a.limit[k]);
      // the residual is relative with a floor of 1e-6 (see resid): an absolute part near 0
      const iter = sol.residual * (Math.max(1e-12, Math.abs(limit[k])) + 1e-6 * Math.sqrt(Math.max(1, sol.vals.length)))
        + (2 * Math.abs(stepLimit[k] - a.limit[k])) / (1 - kappa);
      limitError[k] = Math.max(quad + iter + (extra.limitError?.[k] ?? 0), m.roundingFloor.relative * Math.abs(limit[k]), m.roundingFloor.absolute);
    }
    m.opNames.forEach((n, i) => { diag[n] = sol.vals[i]; });
    Object.assign(diag, {
      iterations: sol.iterations, evaluations: m.evals, residual: sol.residual,
      fluctuationEigenvalue: a.rho, meanModeEigenvalue: Number.isFinite(a.meanEig) ? a.meanEig : 0,
      multistableSingleSite: a.multistable > 0,
      quadratureError: extra.ridge ? 'n/a (extrapolated)' : Math.max(0, ...Object.keys(a.limit).map((k) => Math.abs(fineLimit[k] - a.limit[k]))),
      ...m.diagnostics(sol),
      seconds: (performance.now() - opts.t0) / 1000,
    });
    if (a.multistable > 0) diag.multistableFraction = a.multistable;
    const out: StaticResult = { limit, limitError, diagnostics: diag };
    if (extra.note) out.limitNote = extra.note;
    return out;
  };

  /**
   * A fixed point whose fluctuation or mean-mode eigenvalue is 1 within the
   * accuracy of the computation (quadrature: the change on the finer rules;
   * iteration: the residual) is marginal: neither its value nor its stability
   * can be trusted (e.g. i.i.d. linear couplings at g = 1, where q = g²q holds
   * for every q).
   */
  const marginalReason = (sol: S, a: SiteAssessment, eps: number): string | undefined => {
    const near = (x: number) => Number.isFinite(x) && Math.abs(1 - x) < 1e-3;
    if (!near(a.rho) && !near(a.meanEig)) return undefined;
    const fine = m.assessFiner(sol, eps);
    const tl = (x: number, y: number) => 1e-7 + 100 * sol.residual + 10 * Math.abs(x - y);
    const tr = tl(a.rho, fine.rho), tm = tl(a.meanEig, fine.meanEig);
    diag.eigenvalueTolerance = Math.max(tr, Number.isFinite(tm) ? tm : 0);
    if (Math.abs(1 - a.rho) <= tr) return `the fixed point is marginal: its fluctuation (replicon-type) eigenvalue is ${a.rho.toPrecision(12)}, 1 within the solver's accuracy ${tr.toExponential(1)} (at ${paramList})`;
    if (Math.abs(1 - a.meanEig) <= tm) return `the fixed point is marginal: its mean-mode eigenvalue is ${a.meanEig.toPrecision(12)}, 1 within the solver's accuracy ${tm.toExponential(1)} (at ${paramList})`;
    return undefined;
  };

  const stableReason = (a: SiteAssessment): string | undefined => {
    if (a.singular > 1e-9) return `the single-site equations are singular on a fraction ${fmt(a.singular)} of the frozen-field distribution (a zero mode of the site)`;
    if (a.unstable > 1e-9) return `the single-site fixed point is unstable on a fraction ${fmt(a.unstable)} of the frozen-field distribution`;
    if (a.openJumps > 0) return `an order-parameter function jumps where the single-site fixed point itself jumps: the response and the stability there are not resolved (at ${paramList})`;
    if (a.rho === Infinity) return `the fixed point is unstable to fluctuations: a transfer function jumps where the frozen field has density, so its derivative carries a δ and the replicon-type eigenvalue (g²⟨φ′²⟩ type) is infinite (a chaotic phase; at ${paramList})`;
    if (a.rho >= 1) return `the fixed point is unstable to fluctuations: the replicon-type eigenvalue is ${fmt(a.rho)} ≥ 1 (a chaotic phase or multiple attractors; at ${paramList})`;
    if (a.meanEig >= 1) return `the fixed point is unstable in the uniform (mean-field) mode: eigenvalue ${fmt(a.meanEig)} ≥ 1 (at ${paramList})`;
    return undefined;
  };

  // a single-site equation with several attractors: which one a site reaches depends on its initial
  // draw, and the average over the basins is not resolved (a rule across the basin edge put the mean
  // of x − x³ + η from x(0) ~ N(0.2, 1) at −0.47 ± 0.13 against 0.118): refused, never averaged
  const multistableReason = (a: SiteAssessment) =>
    `the single-site fixed point depends on the initial draw (several attractors, probability weight ${fmt(a.multistable)} of the frozen fields): averaging over the basins of attraction is not resolved by the static solver (at ${paramList}); the transient (Monte Carlo) still applies`;

  /** a solution at ε = 0: the result when it is stable; a marginal one is refused; otherwise undefined */
  const accept = (sol: S, how: Record<string, boolean>, a = m.assess(sol, 0)): StaticOutcome | undefined => {
    const marginal = marginalReason(sol, a, 0);
    if (marginal) return { unsupported: marginal, kind: 'marginal' };
    if (stableReason(a)) return undefined;
    if (a.multistable > 0) return { unsupported: multistableReason(a) };
    Object.assign(diag, { fixedPoint: 'unique', ...how, initDependent: false });
    return finish(sol, a, 0);
  };

  const start = m.start();
  // A: the plain solve (from the initial condition), and when mean fields feed
  // back, a search for other (symmetry-broken) branches from several seeds
  let failA = '';
  let solA: S | undefined;
  try { solA = solve0(start); } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; failA = e.message; }
  if (m.meanFeedback()) {
    const found = searchBranches(m, start, solA, solve0);
    if (found.length > 1 || (found.length === 1 && !solA)) {
      const branches = found.map((b) => {
        const why = marginalReason(b.sol, b.a, 0) ?? stableReason(b.a);
        const f = finish(b.sol, b.a, 0);
        const orderParams: Record<string, number> = {};
        m.opNames.forEach((n, i) => { orderParams[n] = b.sol.vals[i]; });
        return { stable: !why, stability: why ?? 'stable (fluctuation and mean-mode eigenvalues < 1, single-site fixed points stable)', observables: f.limit, errors: f.limitError, orderParams } as Branch;
      });
      diag.branches = branches.length;
      const stable = branches.filter((b) => b.stable);
      if (stable.length > 1) return { unsupported: `${stable.length} stable fixed points (symmetry-broken branches; at ${paramList}): which one the dynamics reaches depends on the initial condition`, branches };
      if (stable.length === 1) {
        const b = found[branches.indexOf(stable[0])];
        if (b.a.multistable > 0) return { unsupported: multistableReason(b.a), branches };
        diag.fixedPoint = 'the only stable branch';
        diag.initDependent = false;
        const out = finish(b.sol, b.a, 0);
        out.branches = branches;
        return out;
      }
    }
  }
  if (solA) {
    const a = m.assess(solA, 0);
    const done = accept(solA, {}, a);
    if (done) return done;
    const why = stableReason(a)!;
    // an unstable fixed point whose sites are fine has no restoring force missing: no continuation
    if (a.unstable <= 1e-9 && a.singular <= 1e-9) return { unsupported: `no stable fixed point: ${why}` };
    failA = why;
  }

  // B: continuation in a proximal term ε(x − x(0)), ε → 0 (halving ε; at least down to
  // 2^-12, further while the susceptibility shows zero modes and the ε → 0
  // extrapolation improves)
  const ridge: { eps: number; sol: S; a: SiteAssessment }[] = [];
  const points = (): ProximalPoint[] => ridge.map((r) => ({ eps: r.eps, vals: r.sol.vals, chiEps: r.a.chiEps, limit: r.a.limit }));
  const zeroModesAt = (k: number) => sharedZeroModesAt(points(), k);
  let v = start;
  let best: { limit: Record<string, number>; limitError: Record<string, number>; err: number; at: number; worse: number } | undefined;
  for (let eps = 1; ; eps /= 2) {
    // predictor: extrapolate the last two solutions in log ε (power laws such as χ ∝ 1/ε exactly)
    if (ridge.length >= 2) v = Float64Array.from(predictAt(eps, points()));
    let sol: S;
    try { sol = m.solve(v, eps, eps > LOOSE_EPS ? 1e-8 : tol); } catch (e) {
      if (!(e instanceof NoFixedPoint)) throw e;
      // zero modes already seen and extrapolated: the smallest ε are ill-conditioned (χ ∝ 1/ε), stop there
      if (best && ridge.length >= 4 && zeroModesAt(ridge.length - 1)) break;
      return { unsupported: `no stable fixed point (${failA}; continuation from a proximal term failed at ε = ${eps.toExponential(2)}: ${e.message})` };
    }
    v = sol.vals;
    ridge.push({ eps, sol, a: m.assess(sol, eps) });
    // the plain solve may have failed only for its start (e.g. R = 0: a gradient-flow site has no
    // restoring force there): from ε = 1/8 try ε = 0 once; a finite susceptibility ends the continuation
    if (eps === 0.125) {
      const sol0 = attempt(() => solve0(sol.vals));
      const done = sol0 && accept(sol0, { continuation: true });
      if (done) return done;
    }
    if (eps > ZERO_MODE_EPS) continue;
    if (!zeroModesAt(ridge.length - 1)) {
      // χ·ε halves per step for a finite susceptibility; in between (ε near the
      // smallest restoring rate) keep going until it is clearly one or the other
      const k = ridge.length - 1, x = ridge[k].a.chiEps, y = ridge[k - 1].a.chiEps;
      if (x > 1e-6 && x > 0.6 * y && eps > 1e-10) continue;
      break;
    }
    // the extrapolation from the smallest ε is not always the best: the solves' residuals, amplified by
    // χ ∝ 1/ε, grow as ε falls; keep the one with the smallest error and stop once it stops improving
    const ex = extrapolateToZero(points());
    const err = Math.max(...Object.keys(ex.limit).map((k) => ex.limitError[k] / Math.max(1, Math.abs(ex.limit[k]))));
    if (!best || err < best.err) best = { ...ex, err, at: ridge.length, worse: 0 };
    else best.worse++;
    if (err <= 1e-9 || eps < 1e-10 || best.worse >= 4) break;
  }
  // C: ε = 0 again, started from the continued solution (unless the susceptibility
  // already shows zero modes, χ ∝ 1/ε: then ε = 0 is degenerate)
  const last = ridge[ridge.length - 1];
  const zeroModes = zeroModesAt(ridge.length - 1);
  if (!zeroModes) {
    const sol = attempt(() => solve0(v));
    const done = sol && accept(sol, { continuation: true });
    if (done) return done;
  }
  // D: a degenerate fixed-point manifold: extrapolate ε → 0. Stability is judged at the first ε
  // where zero modes are looked for, not at the smallest: there χ ∝ 1/ε and the nearly singular
  // covariances cost the fluctuation eigenvalue its accuracy
  const judged = ridge.find((x) => x.eps <= ZERO_MODE_EPS) ?? last;
  diag.stabilityJudgedAtEpsilon = judged.eps;
  const why = stableReason(judged.a);
  if (why || !zeroModes) return { unsupported: `no stable fixed point: ${failA}${why ? `; near ε → 0, ${why}` : ''}` };
  const { limit, limitError } = best ?? extrapolateToZero(points());
  Object.assign(diag, { fixedPoint: 'manifold', initDependent: true, zeroModes: true, epsilonMin: ridge[(best?.at ?? ridge.length) - 1].eps, chiTimesEpsilon: judged.a.chiEps });
  const names = m.opNames.filter((_, i) => m.opKinds[i] === 'R').join(', ');
  return finish(last.sol, last.a, last.eps, {
    limit, limitError, ridge: true,
    note: `the fixed points form a manifold (zero modes: the susceptibility ${names} diverges like 1/ε); the limit is the fixed point nearest to the initial condition — the one gradient flow reaches for a linear/quadratic problem (e.g. the min-norm solution from x(0) = 0) — and depends on the initial condition`,
  });
}

/**
 * Fixed points reached from seeds that flip and scale the mean-field order
 * parameters (±½, ±2 times their typical size, each sign pattern of up to
 * three of them), besides the plain solve `first`: a rank-one structure on
 * random couplings orders in either direction, and the plain solve from a
 * symmetric initial condition finds only the symmetric (possibly unstable)
 * state. Distinct converged solutions, the plain one first.
 */
function searchBranches<S extends SiteSolution>(m: StaticSite<S>, start: Float64Array, first: S | undefined, solve0: (v: Float64Array) => S): { sol: S; a: SiteAssessment }[] {
  const mIdx = m.opKinds.map((k, i) => (k === 'M' ? i : -1)).filter((i) => i >= 0);
  const cIdx = m.opKinds.map((k, i) => (k === 'C' ? i : -1)).filter((i) => i >= 0);
  const size = Math.max(1, ...mIdx.map((i) => Math.abs(start[i])), ...cIdx.map((i) => Math.sqrt(Math.max(0, start[i]))));
  const patterns: number[][] = [mIdx.map(() => 1)];
  if (mIdx.length > 1 && mIdx.length <= 3) for (let b = 1; b < 2 ** mIdx.length - 1; b++) patterns.push(mIdx.map((_, j) => ((b >> j) & 1 ? 1 : -1)));
  const out: { sol: S; a: SiteAssessment }[] = [];
  const add = (s: S) => { if (!out.some((o) => resid(o.sol.vals, s.vals) < 1e-6)) out.push({ sol: s, a: m.assess(s, 0) }); };
  if (first) add(first);
  for (const f of [0.5, 2]) for (const sg of [1, -1]) for (const p of patterns) {
    const v = Float64Array.from(start);
    mIdx.forEach((i, j) => { v[i] = sg * p[j] * f * size; });
    try { add(solve0(v)); } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; }
  }
  return out;
}
