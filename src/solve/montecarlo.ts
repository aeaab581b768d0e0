// Monte Carlo solution of the DMFT equations (after Eissfeller–Opper 1992) for
// single-site processes that are not Gaussian — driven only by the derived
// DmftSystem. The method and its error model: docs/monte-carlo.md. This file
// is the replica driver and the error model; the sweep, for sites of any
// number of variables (a scalar site is the case of one), is
// ./montecarlo-vector.ts.
//
// On a time grid t_k = k h (k = 0…K) the order parameters are arrays: M(t_k),
// C(t_k, t_l) and R(t_k, t_l) (l ≤ k; plus a δ(t − s) coefficient for the
// instantaneous responses of algebraic populations). The equations are causal:
// the kernels at time t_k depend only on the paths up to t_k. So instead of
// iterating a guess of the whole kernels to a fixed point (a Picard iteration,
// whose error contracts only by the loop gain per iteration, and whose
// intermediate kernels can drive the responses unstable), a **sweep** marches P
// single-site paths forward in time and estimates each new kernel row from
// the paths themselves before using it:
//  1. predictor (Heun): every dynamic population's state and tangent advance
//     with the rates of step k − 1;
//  2. kernel rows at t_k from the predicted states: M(k), C(k, l ≤ k) (exact
//     Gram matrices of the paths, so the field covariances stay positive
//     semi-definite), R(k, l ≤ k) from the predicted tangents;
//  3. algebraic populations (Newton per path, their responses in closed form);
//  4. fields at t_k by extending their Cholesky factor by one row (the
//     conditional law of η(t_k) given its past), then the Heun corrector for
//     states and tangents.
// Kernels from predicted states differ from the corrected ones by O(h²), so
// the sweep is a consistent second-order scheme. Memory integrals use the
// trapezoid rule on the grid; bounds clip the state and a clipped (pinned)
// state has zero response; white noise is Itô, additive only. Responses are
// propagated along the first PR paths (the tangent costs ~K³/6 per path and
// memory term, the rest ~K²/2).
//
// Errors, each estimated and combined in quadrature (as a standard error):
//  - statistical: independent replicas (each a sweep of P paths with its own
//    kernels) — the scatter of their estimates includes the noise of the
//    kernels themselves;
//  - finite P: a sweep's kernel noise feeds back into its paths, a bias ∝ 1/P,
//    measured by replicas of P/4 (or P/2) paths;
//  - discretization: the replicas again at step 2h; err(h) ≈ |O_h − O_2h|/3;
//  - self-consistency: fresh paths driven by the averaged kernels, held fixed
//    (an Eissfeller–Opper iteration from the solution), must reproduce kernels
//    and observables within their statistical errors.
// Replicas are added until the standard error is below max(tol × scale,
// ½ discretization error), within a deterministic work budget. Failures end in
// a DmftError that says what diverged and the likely cause.
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { emptyKernels, entries, type Kernels, type SweepPlan, type SweepResult } from './mc-kernels.ts';
import { VectorPlan } from './montecarlo-vector.ts';
import { MapPlan } from './montecarlo-map.ts';
import { studentQuantile } from '../numeric/stats.ts';
import type { SystemReading } from './read.ts';
import type { Accuracy, SolveOptions, SolveResult, TwoTime } from './types.ts';
import { table } from '../table.ts';

export interface MonteCarloOptions extends SolveOptions {
  /** paths per replica (default: what half the work budget gives the minimum replicas, 200…1000) */
  paths?: number;
  /** of which the first responsePaths carry tangents for the responses (default: all) */
  responsePaths?: number;
  /** at least this many replicas (default 8); `samples` of SolveOptions raises it to ⌈samples/paths⌉ */
  replicas?: number;
  /** at most this many replicas (default: as many as the work budget maxWork allows, at most 256) */
  maxReplicas?: number;
  /** work budget in multiply-adds for the replicas when maxReplicas is not given (default 3e9, ~10–20 s) */
  maxWork?: number;
  /** target standard error relative to each observable's scale (default 1e-2); `tol` of SolveOptions */
  tol?: number;
  /** estimate the discretization error by a second solve at 2·dt (default true) */
  refine?: boolean;
  /** the self-consistency check with frozen kernels (default true) */
  check?: boolean;
  /** estimate the finite-P bias with replicas of P/4 paths (default true) */
  biasCheck?: boolean;
  /** largest number of time steps on [0, T] (default 160): a finer dt is coarsened to T/maxSteps (reported) */
  maxSteps?: number;
  /** compute populations of lets that are affine exactly instead of sampling them (default true; docs/monte-carlo.md) */
  exactAffine?: boolean;
}

// ---------------------------------------------------------------------------
// replicas: independent sweeps, added until the statistical error is small enough

interface ReplicaSet {
  count: number;
  /** per observable, per replica: values on the grid (two-time: output pairs) */
  values: Float64Array[][];
  /** sums over replicas of the estimated kernels and of their squares */
  sum: Kernels;
  sum2: Kernels;
  stiffness: number;
  indefinite: number;
}

interface ReplicaPlan {
  K: number; h: number; P: number; PR: number; seed: number; outIdx: number[]; blocks: number;
}

const replicaStream = (r: number) => 0x100000 + r * 0x40000;

function addReplica(plan: SweepPlan, set: ReplicaSet, rp: ReplicaPlan): void {
  const r = plan.sweep({ ...rp, stream: replicaStream(set.count) });
  r.obs.forEach((v, oi) => set.values[oi].push(v));
  const acc = (s: Kernels, s2: Kernels, e: Kernels) => {
    e.v.forEach((v, i) => { const a = s.v[i], b = s2.v[i]; for (let j = 0; j < v.length; j++) { a[j] += v[j]; b[j] += v[j] * v[j]; } });
    e.inst.forEach((v, i) => { if (!v) return; const a = s.inst[i]!, b = s2.inst[i]!; for (let j = 0; j < v.length; j++) { a[j] += v[j]; b[j] += v[j] * v[j]; } });
  };
  acc(set.sum, set.sum2, r.est);
  set.count++;
  set.stiffness = Math.max(set.stiffness, r.stiffness);
  set.indefinite = Math.max(set.indefinite, r.indefinite);
}

/** mean over replicas and its standard error, per observable */
function summarize(set: ReplicaSet): { mean: Float64Array[]; se: Float64Array[] } {
  const R = set.count;
  const mean: Float64Array[] = [], se: Float64Array[] = [];
  for (const reps of set.values) {
    const m = reps[0].length, mu = new Float64Array(m), s = new Float64Array(m);
    for (let t = 0; t < m; t++) {
      let a = 0;
      for (const v of reps) a += v[t];
      a /= R;
      let q = 0;
      for (const v of reps) q += (v[t] - a) ** 2;
      mu[t] = a;
      s[t] = R > 1 ? Math.sqrt(q / (R - 1) / R) : Infinity;
    }
    mean.push(mu); se.push(s);
  }
  return { mean, se };
}

/** largest standard error relative to each observable's scale (its largest |value|) */
function relativeError(s: { mean: Float64Array[]; se: Float64Array[] }): number {
  let worst = 0;
  s.mean.forEach((mu, oi) => {
    let scale = 0;
    for (const x of mu) scale = Math.max(scale, Math.abs(x));
    if (!(scale > 0)) return;
    for (const e of s.se[oi]) worst = Math.max(worst, e / scale);
  });
  return worst;
}

function meanKernels(plan: SweepPlan, set: ReplicaSet): { k: Kernels; se: Kernels } {
  const R = set.count;
  const k = emptyKernels(plan, set.sum.K, set.sum.h), se = emptyKernels(plan, set.sum.K, set.sum.h);
  const fill = (s: Float64Array, s2: Float64Array, out: Float64Array, outSE: Float64Array) => {
    for (let j = 0; j < s.length; j++) {
      const m = s[j] / R;
      out[j] = m;
      outSE[j] = R > 1 ? Math.sqrt(Math.max(0, s2[j] / R - m * m) / (R - 1)) : 0;
    }
  };
  plan.ops.forEach((_, i) => {
    fill(set.sum.v[i], set.sum2.v[i], k.v[i], se.v[i]);
    if (k.inst[i]) fill(set.sum.inst[i]!, set.sum2.inst[i]!, k.inst[i]!, se.inst[i]!);
  });
  return { k, se };
}

// ---------------------------------------------------------------------------
// interpolation of grid values

/** cubic Lagrange interpolation of grid values (step h) at time t */
function interp(v: Float64Array, h: number, t: number): number {
  const n = v.length;
  const x = t / h;
  if (n < 4) { const i = Math.min(n - 1, Math.round(x)); return v[i]; }
  const i0 = Math.max(0, Math.min(n - 4, Math.floor(x) - 1));
  let s = 0;
  for (let a = 0; a < 4; a++) {
    let w = 1;
    for (let b = 0; b < 4; b++) if (b !== a) w *= (x - (i0 + b)) / (a - b);
    s += w * v[i0 + a];
  }
  return s;
}
function interpLinear(v: Float64Array, h: number, t: number): number {
  if (v.length === 1) return v[0];
  const x = t / h, i = Math.min(v.length - 2, Math.max(0, Math.floor(x)));
  const f = x - i;
  return (1 - f) * v[i] + f * v[i + 1];
}

// ---------------------------------------------------------------------------
// the solve

/** the paths per replica of the smaller replicas that measure the finite-P bias (P/2 below 400
 *  paths, where P/4 leaves the 1/P regime) */
export const biasPaths = (P: number): number => Math.floor(P >= 400 ? P / 4 : P / 2);
/** the noise of that bias estimate, |Ō_Pq − Ō_P|·Pq/(P − Pq), in units of the statistical error
 *  of Ō_P (the smaller replicas' error is √(P/Pq) times larger) */
export const biasNoiseFactor = (P: number): number => { const q = biasPaths(P); return (q / (P - q)) * Math.sqrt(1 + P / q); };


/**
 * Monte Carlo solution of the DMFT transient on [0, T]. Works for any derived
 * system (nonlinear, bounded, several populations, memory terms, additive
 * noise); reports every observable with an error that combines the
 * replicas' standard error, the self-consistency residual and the
 * discretization error (solve again at 2·dt).
 */
export function solveMonteCarlo(reading: SystemReading, opts: MonteCarloOptions): SolveResult {
  const t0 = performance.now();
  // one sweep for every site: a scalar population is the case of one variable (montecarlo-vector.ts);
  // a map x(t+1) = F has its own sweep on the step grid (montecarlo-map.ts), exact in time
  const discrete = reading.sys.time === 'discrete';
  const plan: SweepPlan = discrete ? new MapPlan(reading) : new VectorPlan(reading, { exact: opts.exactAffine });
  if (discrete && !(Number.isInteger(opts.T) && opts.T >= 1)) throw new DmftError({ message: `Monte Carlo: T = ${opts.T}: the dynamics are maps x(t+1) = …, so T is a number of steps (an integer ≥ 1)` });
  if (!(opts.T > 0) || !(discrete || opts.dt > 0)) throw new DmftError({ message: `Monte Carlo: T and dt must be positive (got T = ${opts.T}, dt = ${opts.dt})` });
  let K = discrete ? opts.T : Math.max(2, Math.ceil(opts.T / opts.dt - 1e-9));
  const maxSteps = Math.max(4, opts.maxSteps ?? 160);
  const coarsened = !discrete && K > maxSteps;
  if (coarsened) K = maxSteps;
  if (K % 2 && !discrete) K++;
  const h = discrete ? 1 : opts.T / K;
  // Work of one path (multiply-adds): fields and correlation rows ~K²/2 each, the tangent ~K³/6 per
  // response and memory term. Tangents go on every path by default: the responses' sampling noise
  // feeds back through the memory terms, and at equal work fewer, fully tangent-carrying paths
  // give the same variance with a smaller finite-P bias. The replicas stop at a work budget
  // (~10–20 s of one core), deterministic so that a seed reproduces the result.
  const { hasResponses, kernelRows: nKernelRows, tangents: nTangents, fixed: fixedWork, deterministic } = plan.work();
  const perPath = (K * K) / 2 * Math.max(1, nKernelRows), perTangent = (K ** 3) / 6 * nTangents;
  // populations computed exactly cost the same whatever P (their sigma paths)
  const fixed = fixedWork?.(K) ?? 0;
  const budget = opts.maxWork ?? 3e9;
  // nothing sampled (every population exact): the replicas are all the same, two say so
  const minR = deterministic ? 2 : Math.max(4, opts.replicas ?? 16, Math.ceil((opts.samples ?? 0) / (opts.paths ?? 1e9)));
  const P = Math.max(64, Math.round(opts.paths ?? Math.min(1000, Math.max(200, (budget / 2 / minR - fixed) / (perPath + perTangent)))));
  const PR = hasResponses ? Math.min(P, Math.max(16, Math.round(opts.responsePaths ?? P))) : 0;
  const work = P * perPath + PR * perTangent + fixed;
  const maxR = Math.max(minR, opts.maxReplicas ?? Math.min(256, Math.floor(budget / work)));
  const tol = opts.tol ?? 1e-2;
  const seed = opts.seed ?? 1;
  const blocks = 16;
  const warnings: string[] = [];
  const finerStep = coarsened ? `the grid has at most ${maxSteps} steps: a shorter --T gives a finer step` : 'lower --dt';

  // output times
  const times = opts.times ?? Array.from({ length: K + 1 }, (_, k) => k * h);
  for (const t of times) if (t < -1e-12 || t > opts.T + 1e-9) throw new DmftError({ message: `Monte Carlo: requested time ${t} is outside [0, T = ${opts.T}]` });
  if (discrete) for (const t of times) if (!Number.isInteger(t)) throw new DmftError({ message: `Monte Carlo: ${t} is not a step: the dynamics are maps, whose times are the integers 0 … T` });
  const twoTimes = opts.times ?? Array.from({ length: Math.min(K, 20) + 1 }, (_, a) => (discrete ? Math.round((a * K) / Math.min(K, 20)) : (a * opts.T) / Math.min(K, 20)));
  const outIdx = twoTimes.map((t) => Math.round(t / h));
  // on the 2h grid, an odd fine index is the average of its two neighbours
  const coarseLo = outIdx.map((k) => Math.floor(k / 2)), coarseHi = outIdx.map((k) => Math.ceil(k / 2));
  const outIdxCoarse = [...coarseLo, ...coarseHi];

  const newSet = (Kc: number, hc: number): ReplicaSet => ({ count: 0, values: reading.observables.map(() => []), sum: emptyKernels(plan, Kc, hc), sum2: emptyKernels(plan, Kc, hc), stiffness: 0, indefinite: 0 });

  // ---- fine solve and the same replicas at step 2h (common initial conditions and inputs),
  // replicas added until the standard error is below max(tol × scale, ½ discretization error):
  // more paths cannot make the answer better than the time step allows
  // a map has no time step to refine
  const refine = !discrete && (opts.refine ?? true);
  const fineRP: ReplicaPlan = { K, h, P, PR, seed, outIdx, blocks };
  const coarseRP: ReplicaPlan = { K: K / 2, h: 2 * h, P, PR, seed, outIdx: outIdxCoarse, blocks };
  const fine = newSet(K, h), cset = newSet(K / 2, 2 * h);
  let coarseFailed: string | undefined;
  const oneTimeObs = reading.observables.map((ob) => ob.def.times.length <= 1);
  let target = minR, statNeed = 0;
  for (;;) {
    while (fine.count < target) {
      addReplica(plan, fine, fineRP);
      opts.progress?.('Monte Carlo', fine.count / maxR);
    }
    if (refine && !coarseFailed) {
      try {
        while (cset.count < fine.count) addReplica(plan, cset, coarseRP);
      } catch (e) {
        if (!(e instanceof DmftError)) throw e;
        coarseFailed = `the solve at 2·dt = ${(2 * h).toPrecision(3)} failed (${e.info.message.replace(/^Monte Carlo: /, '')}): the step is near the stability limit; ${finerStep}`;
      }
    }
    const fsum = summarize(fine), csum = refine && !coarseFailed ? summarize(cset) : undefined;
    let need = 0;
    fsum.mean.forEach((mu, oi) => {
      let scale = 0;
      for (const x of mu) scale = Math.max(scale, Math.abs(x));
      if (!(scale > 0)) return;
      for (let j = 0; j < mu.length; j++) {
        const disc = csum && oneTimeObs[oi] ? Math.abs(mu[j] - interp(csum.mean[oi], 2 * h, j * h)) / 3 : 0;
        need = Math.max(need, (fsum.se[oi][j] / Math.max(tol * scale, disc / 2)) ** 2);
      }
    });
    if (need <= 1 || fine.count >= maxR) { statNeed = need; break; }
    // the standard error falls like 1/√replicas
    target = Math.min(maxR, Math.max(fine.count + 2, Math.ceil(fine.count * need * 1.1)));
  }
  const fs = summarize(fine);
  const coarse = refine && !coarseFailed ? summarize(cset) : undefined;
  if (coarseFailed) warnings.push(`discretization error not estimated: ${coarseFailed}`);
  // 1σ-equivalent coverage with the replicas' degrees of freedom
  const tq = studentQuantile(0.8413447, fine.count - 1);
  const statRel = relativeError(fs);
  if (statNeed > 1) warnings.push(`the statistical error (up to ${statRel.toPrecision(2)} of an observable's scale) is above its target after ${fine.count} replicas of ${P} paths (the solver's work budget); it is in the error bars`);

  // ---- finite-P bias: a sweep's kernels carry the noise of its own P paths, which feeds back
  // into the paths (a bias ∝ 1/P, largest near the edge of stability). The same number of
  // replicas with Pq = P/4 paths each (P/2 below 400 paths, where P/4 leaves the 1/P regime)
  // measures it: bias(P) = b/P ≈ (Ō_Pq − Ō_P)·Pq/(P − Pq).
  let small: { mean: Float64Array[]; se: Float64Array[] } | undefined;
  const Pq = biasPaths(P), PRq = PR ? Math.max(4, Math.floor((PR * Pq) / P)) : 0;
  const biasFactor = Pq / (P - Pq);
  if ((opts.biasCheck ?? true) && Pq >= 32) {
    const qs = newSet(K, h);
    for (let r = 0; r < fine.count; r++) { addReplica(plan, qs, { K, h, P: Pq, PR: PRq, seed: seed + 7919, outIdx, blocks }); opts.progress?.(`Monte Carlo (${Pq} paths)`, (r + 1) / fine.count); }
    small = summarize(qs);
  }

  // ---- self-consistency: fresh paths driven by the replicas' averaged kernels, held fixed (an
  // Eissfeller–Opper iteration from the solution): kernels and observables must come back
  const doCheck = opts.check ?? true;
  let check: SweepResult | undefined;
  const mk = meanKernels(plan, fine);
  if (doCheck) {
    const n = K + 1;
    const Pc = Math.max(P, Math.min(P * fine.count, Math.floor(2e6 / n), 4000)), PRc = PR ? Math.min(Pc, 2 * PR) : 0;
    check = plan.sweep({ K, h, P: Pc, PR: PRc, seed, stream: 0x7000000, outIdx, blocks, frozen: mk.k });
    opts.progress?.('Monte Carlo (check)', 1);
  }
  const kernelZ = check ? kernelResidual(plan, mk.k, mk.se, check) : undefined;

  // ---- assemble: error = t·SE ⊕ finite-P bias ⊕ |O_h − O_2h|/3 ⊕ significant residual
  const observables: Record<string, number[]> = table(), error: Record<string, number[]> = table();
  const parts: Accuracy['parts'] = table();
  const twoTime: Record<string, TwoTime> = table();
  let maxSE = 0, maxDisc = 0, maxResidZ = 0, maxResid = 0, maxBias = 0;
  const RESID_Z = 4;
  const residualAt = (oi: number, at: number): number => {
    if (!check) return 0;
    const d = check.obs[oi][at] - fs.mean[oi][at];
    // an observable of exact populations only has no sampling error: rounding is its noise
    const z = Math.abs(d) / Math.hypot(check.obsSE[oi][at], fs.se[oi][at], 1e-9 * Math.abs(fs.mean[oi][at]));
    if (Number.isFinite(z)) maxResidZ = Math.max(maxResidZ, z);
    if (z > RESID_Z) { maxResid = Math.max(maxResid, Math.abs(d)); return Math.abs(d); }
    return 0;
  };
  reading.observables.forEach((ob, oi) => {
    const name = ob.def.name;
    const v = fs.mean[oi], s = fs.se[oi], vq = small?.mean[oi];
    const seAt = (j: number) => tq * s[j];
    // the finite-P bias: measured by the smaller replicas, and at least its natural size, a
    // second-order effect of each replica's own scatter sd (≈ sd²/|value|, |value| floored at a
    // tenth of the observable's scale) — the smaller replicas can leave the 1/P regime near the
    // edge of stability, where the scatter is large
    let scale = 0;
    for (const x of v) scale = Math.max(scale, Math.abs(x));
    const natural = (j: number) => { const d = Math.max(Math.abs(v[j]), 0.1 * scale); return d > 0 ? (s[j] * s[j] * fine.count) / d : 0; };
    const biasAt = (j: number) => Math.max(vq ? Math.abs(vq[j] - v[j]) * biasFactor : 0, natural(j));
    if (ob.def.times.length <= 1) {
      const cv = coarse?.mean[oi];
      const se1 = Float64Array.from(s, (_, j) => seAt(j)), b1 = Float64Array.from(s, (_, j) => biasAt(j));
      // nothing sampled: the second-order error (O_h − O_2h)/3 is extrapolated away (Richardson); the
      // error stays the unextrapolated one, a margin over the O(h³) that remains
      observables[name] = times.map((t) => { const a = interp(v, h, t); return deterministic && cv ? a + (a - interp(cv, 2 * h, t)) / 3 : a; });
      const pt: Accuracy['parts'][string] = parts[name] = { statistical: [], pathBias: [], step: [], residual: [] };
      error[name] = times.map((t) => {
        const se = interpLinear(se1, h, t), bias = interpLinear(b1, h, t);
        const disc = cv ? Math.abs(interp(v, h, t) - interp(cv, 2 * h, t)) / 3 : 0;
        const res = residualAt(oi, Math.round(t / h));
        maxSE = Math.max(maxSE, se); maxDisc = Math.max(maxDisc, disc); maxBias = Math.max(maxBias, bias);
        pt.statistical.push(se); pt.pathBias.push(bias); pt.step.push(disc); pt.residual.push(res);
        return Math.sqrt(se * se + bias * bias + disc * disc + res * res);
      });
    } else {
      const m = outIdx.length, mc = outIdxCoarse.length;
      const values: number[][] = [], errs: number[][] = [];
      const cv = coarse?.mean[oi];
      const coarseAt = (a: number, b: number) => {
        let s2 = 0;
        for (const ia of [a, a + m]) for (const ib of [b, b + m]) s2 += cv![ia * mc + ib];
        return s2 / 4;
      };
      for (let a = 0; a < m; a++) {
        values.push([]); errs.push([]);
        for (let b = 0; b < m; b++) {
          const j = a * m + b;
          const se = seAt(j), bias = biasAt(j);
          const disc = cv ? Math.abs(v[j] - coarseAt(a, b)) / 3 : 0;
          const res = residualAt(oi, j);
          maxSE = Math.max(maxSE, se); maxDisc = Math.max(maxDisc, disc); maxBias = Math.max(maxBias, bias);
          values[a].push(deterministic && cv ? v[j] + (v[j] - coarseAt(a, b)) / 3 : v[j]);
          errs[a].push(Math.sqrt(se * se + bias * bias + disc * disc + res * res));
        }
      }
      twoTime[name] = { t: outIdx.map((k) => k * h), values, error: errs };
    }
  });
  // an error comparable to the value is not a result: say from when on
  for (const [name, vals] of Object.entries(observables)) {
    const scale = Math.max(...vals.map(Math.abs));
    const i = error[name].findIndex((e) => e > 0.25 * scale);
    if (scale > 0 && i >= 0) warnings.push(`${name} is not resolved from t = ${+times[i].toPrecision(4)} on: its error (${error[name][i].toPrecision(2)}) exceeds a quarter of its scale (${scale.toPrecision(3)}); more paths (work) or a shorter --T would help`);
  }
  if (maxResid > 0) warnings.push(`the solution is not self-consistent within its statistical error: paths driven by its kernels differ from it by up to ${maxResidZ.toPrecision(3)} standard errors (|difference| ≤ ${maxResid.toPrecision(3)}, added to the errors)`);
  if (kernelZ && kernelZ.rms > 2) warnings.push(`the kernels are not self-consistent within their statistical error (rms residual ${kernelZ.rms.toPrecision(3)} standard errors; worst ${kernelZ.worst})`);
  if (fine.stiffness > 1.5) warnings.push(`the time step is close to Heun's stability limit (h·max|∂F/∂x| = ${fine.stiffness.toPrecision(3)}, unstable above 2); ${finerStep}`);
  if (fine.indefinite > 1e-6) warnings.push(`a field covariance fell outside the positive semi-definite cone by ${fine.indefinite.toPrecision(2)} (relative); the fields were sampled from the nearest valid covariance`);

  const diagnostics: Record<string, number | string | boolean> = {
    method: 'montecarlo',
    dt: h, steps: K, replicas: fine.count, pathsPerReplica: P, responsePathsPerReplica: PR,
    statErrRelMax: +statRel.toPrecision(3), mcStdErrMax: maxSE, finitePathBiasMax: maxBias,
    discretizationErrorMax: discrete ? 'none (a map is stepped exactly)' : refine ? (coarse ? maxDisc : 'not estimated (the 2·dt solve failed)') : 'not estimated (refine: false)',
    statErrTarget: tol,
    ...(deterministic ? { deterministicNote: `every population is exact: nothing is sampled; the values are extrapolated from dt and 2·dt (Richardson), the errors are the time step's before extrapolation` } : {}),
    residualToNoise: check ? +maxResidZ.toPrecision(3) : 'not checked (check: false)',
    stiffness: +fine.stiffness.toPrecision(3),
    seconds: (performance.now() - t0) / 1000,
  };
  const ex = plan.exactNotes?.();
  if (ex?.exact.length) {
    diagnostics.exactPopulations = ex.exact.join(', ');
    diagnostics.exactNote = `population${ex.exact.length > 1 ? 's' : ''} ${ex.exact.join(', ')} ${ex.exact.length > 1 ? 'are' : 'is'} affine given the sampled populations' kernels: computed exactly (sigma paths), not sampled`;
  }
  if (ex?.sampled.length) diagnostics.sampledLetsNote = `sampled, not computed exactly: ${ex.sampled.join('; ')}`;
  if (kernelZ) { diagnostics.kernelResidualRms = +kernelZ.rms.toPrecision(3); diagnostics.kernelResidualWorst = kernelZ.worst; }
  if (coarsened) diagnostics.dtNote = `dt = ${opts.dt} would need ${Math.ceil(opts.T / opts.dt)} steps; the Monte Carlo grid uses ${K} steps (dt = ${h.toPrecision(4)}), its error is in discretizationErrorMax`;
  if (warnings.length) diagnostics.warning = warnings.join('; ');
  const out: SolveResult = {
    model: reading.sys.model, params: reading.params, method: 'montecarlo',
    t: times, observables, error, diagnostics,
    accuracy: { parts, tol, replicas: fine.count, paths: P, dt: h, steps: K, maxSteps, stepRefinable: refine && !discrete, work: fine.count * work, seconds: diagnostics.seconds as number },
  };
  if (Object.keys(twoTime).length) out.twoTime = twoTime;
  return out;
}

/** z-scores of the kernels re-estimated from paths driven by the averaged kernels */
function kernelResidual(plan: SweepPlan, center: Kernels, se: Kernels, check: SweepResult): { rms: number; worst: string } {
  let s2 = 0, cnt = 0, worstZ = 0, worst = '';
  const n = center.K + 1;
  plan.ops.forEach((o, i) => {
    const a = check.est.v[i], b = center.v[i], sa = check.estSE!.v[i], sb = se.v[i];
    // a kernel that is the same on every path (a linear response) has no sampling noise: rounding is its error
    let scale = 0;
    for (const x of b) scale = Math.max(scale, Math.abs(x));
    const floor = 1e-9 * scale;
    for (const j of entries(o, n)) {
      const sd = Math.hypot(sa[j], sb[j], floor);
      if (!(sd > 0)) continue;
      const z = (a[j] - b[j]) / sd;
      s2 += z * z; cnt++;
      if (Math.abs(z) > worstZ) { worstZ = Math.abs(z); worst = `${o.name} at t = ${((o.kind === 'M' ? j : Math.floor(j / n)) * center.h).toPrecision(3)}${o.kind === 'M' ? '' : `, s = ${((j % n) * center.h).toPrecision(3)}`}: ${worstZ.toPrecision(3)}`; }
    }
  });
  return { rms: cnt ? Math.sqrt(s2 / cnt) : 0, worst };
}
