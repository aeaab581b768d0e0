// The adaptive check: solve the DMFT once, simulate every size with a first
// round of seeds (to a longer time when the theory has t → ∞ values, for the
// late-time windows), run the paired step-size check, compare; while the
// verdict is inconclusive only for want of statistics and the time budget
// allows, add seeds and compare again. Each round spends half of the
// remaining false-alarm rate, so the family-wise rate over all rounds stays
// below alpha.
import type { DmftSystem } from '../derive/system.ts';
import type { Model } from '../model/ir.ts';
import { solve, type DispatchOptions } from '../solve/index.ts';
import { SECONDS_PER_WORK, tighterTheory, type ErrorAsk } from '../solve/refine.ts';
import { studentQuantile } from '../numeric/stats.ts';
import { explainFailure, validateResult } from '../solve/validate-result.ts';
import type { SolveResult } from '../solve/types.ts';
import { estimateSeconds, plan, simulate } from '../simulate/index.ts';
import type { SimOptions } from '../simulate/types.ts';
import { compareRound, theoryLimits, type CheckRow, type SimLike, type StepCheck, type Verdict } from './compare.ts';
import { growthLaw } from '../solve/index.ts';
import { atTimes, batchOf, difference, firstSeeds, merge, summarize, type SeedBatch } from './samples.ts';

export interface CheckSettings {
  Ns: number[];
  /** seeds per size in the first round */
  seeds: number;
  T: number;
  dt: number;
  /** one-time comparison times */
  times: number[];
  /** two-time grid */
  grid: number[];
  /** target relative precision */
  target: number;
  /** wall-clock budget in seconds (the first round always runs) */
  budget: number;
  alpha: number;
  /** compare the theory's t → ∞ values with late-time windows */
  limit: boolean;
  /** the simulation's final time when limits are compared */
  TLimit: number;
  /** T-limit was not given: lengthen it (up to 4×) until the theory's own distance to its
   *  limit over the late window falls below an eighth of the target (see lateHorizon) */
  TLimitAuto?: boolean;
  /** run the paired step-size check */
  stepCheck: boolean;
  /** the simulation has no step bias (a map): no step check, and the notes say why */
  exactSteps?: boolean;
  method?: string;
  threads?: number;
  maxRounds?: number;
  /** stop adding seeds beyond this many per size (default: only the budget
   *  limits growth; tests set it with an infinite budget, to be independent
   *  of the machine's speed) */
  maxSeeds?: number;
  /** regress the seeds' control variates out of the means (default true; `--no-controls`) */
  controls?: boolean;
  /** the Monte Carlo solver's own options for the first solve (tests start from a loose theory);
   *  a tighter theory asked for by the check overrides its tol and replicas */
  theoryOptions?: Pick<DispatchOptions, 'monteCarlo'>;
  /** internal: transform the solved theory (the tests inject errors with it) */
  adjustTheory?: (r: SolveResult) => SolveResult;
}

export interface CheckReport {
  model: string;
  params: Record<string, number>;
  method: string;
  /** the populations the Monte Carlo theory computed exactly (affine), when any */
  exactPopulations?: string;
  Ns: number[];
  /** seeds per size at the end */
  seeds: Record<string, number>;
  alpha: number;
  target: number;
  /** rounds of seeds run (1 = no growth) */
  rounds: number;
  /** the level of each comparison in the last round */
  levelPerComparison: number;
  rows: CheckRow[];
  verdict: Verdict;
  /** verdict === 'agree' */
  ok: boolean;
  /** one line per remark: finite-N, step check, limits, budget */
  notes: string[];
  step?: { N: number; seeds: number; dt: number; paired: 'same seeds' | 'same seeds and Brownian paths'; largest: number };
  /** the control variates regressed out of the simulation's means in the last round (empty: plain means) */
  controls: string[];
  late?: { T: number; windows: [number, number, number] };
  seconds: { solve: number; simulate: number; total: number; budget: number };
}

/** the exact populations of a Monte Carlo theory, for the report */
export const exactOf = (d: Record<string, unknown>): { exactPopulations?: string } => (typeof d.exactPopulations === 'string' ? { exactPopulations: d.exactPopulations } : {});

const pct = (x: number) => `${(100 * x).toPrecision(2)}%`;
/** about the family-wise critical value of a comparison (a limit whose error times it exceeds the target cannot agree) */
const LIMIT_CRIT = 4;

/** the largest size the step-size check runs at (unless the smallest size is larger than 4·STEP_N) */
export const STEP_N = 250;

/**
 * `progress` is told each stage (solve, each size, the step check, each round
 * of seeds); `fraction`, when given, the fraction done within a stage (the
 * solver's and the simulator's own progress).
 */
export async function checkModel(model: Model, sys: DmftSystem, s: CheckSettings, progress?: (msg: string) => void, fraction?: (label: string, f: number) => void): Promise<CheckReport> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const solveTo = (T: number, times: number[], more: Partial<DispatchOptions> = {}) => {
    try {
      return solve(sys, { params: sys.params, T, dt: s.dt, times, method: s.method, progress: fraction, ...more, monteCarlo: { ...s.theoryOptions?.monteCarlo, ...more.monteCarlo } });
    } catch (e) {
      throw explainFailure(e, sys);
    }
  };
  progress?.('solving the DMFT equations');
  // (a dense tail of output times, for the relaxation law that sets an automatic T-limit; a map's
  // is fitted on its window steps instead, below)
  const tail = s.limit && s.TLimitAuto && !s.exactSteps ? Array.from({ length: 17 }, (_, j) => +((s.T * (16 + j)) / 32).toPrecision(12)) : [];
  const solveTimes = new Map<number, number>();
  let theory = solveTo(s.T, [...new Set([...s.times, ...tail])].sort((a, b) => a - b));
  solveTimes.set(s.T, elapsed());
  // the time a solve to T took (projected as T² from the longest one measured)
  const solveSecondsAt = (T: number) => { const [T0, sec] = [...solveTimes].sort((a, b) => b[0] - a[0])[0]; return sec * (T / T0) ** 2; };
  // a theory with undefined or non-finite values is refused, not compared
  validateResult(theory, sys, model.file);
  const notes: string[] = [];

  const lims = theoryLimits(theory);
  const limitValues = Object.entries(lims).filter(([, l]) => l.status === 'value');
  const wantLimit = s.limit && limitValues.length > 0;
  let TL = wantLimit ? Math.max(s.TLimit, s.T) : s.T;
  const winTimesOf = (TL: number) => Array.from({ length: 9 }, (_, j) => +((TL * (8 + j)) / 16).toPrecision(12));
  const simTimesOf = (TL: number) => [...new Set([...s.times, ...(wantLimit ? winTimesOf(TL) : [])])].sort((a, b) => a - b);
  let longSolve: SolveResult | undefined;
  if (wantLimit && s.TLimitAuto && !s.exactSteps) {
    const h = lateHorizon(theory, s.T, TL, s.target);
    if (h.TL > TL) { notes.push(h.note); TL = h.TL; }
  } else if (wantLimit && s.TLimitAuto && s.exactSteps && TL > s.T && elapsed() * (1 + (TL / s.T) ** 2) <= s.budget) {
    // A map: [T/2, T] holds too few steps to fit the relaxation (6 at T = 10), but its transient
    // to the default T-limit is an exact recursion, solved anyway for the windows: the relaxation
    // is fitted on the window's steps there, and the T-limit rounded up to a multiple of 16 (the
    // windows' sample times T-limit·k/16 must be steps)
    try {
      const t1 = elapsed();
      const pre = solveTo(TL, simTimesOf(TL));
      solveTimes.set(TL, elapsed() - t1);
      validateResult(pre, sys, model.file);
      const h = lateHorizon(pre, TL, TL, s.target, 16);
      if (h.TL > TL) { notes.push(h.note); TL = h.TL; } else longSolve = pre;
    } catch {
      // the windows' own solve below says what went wrong
    }
  }
  const windows: [number, number, number] | undefined = wantLimit ? [TL / 2, (3 * TL) / 4, TL] : undefined;
  const simTimes = simTimesOf(TL);
  // with t → ∞ comparisons the theory's transient is solved on to T-limit, at
  // the simulation's sample times in the windows: the late windows are then
  // judged by the theory's own relaxation there. Within the budget only: the
  // cost is projected as (T-limit/T)² times the first solve's
  if (longSolve) theory = longSolve;
  else if (wantLimit && TL > s.T) {
    const projected = solveSecondsAt(TL);
    if (elapsed() + projected <= s.budget) {
      progress?.(`solving the DMFT equations to T-limit = ${TL}`);
      try {
        const t1 = elapsed();
        const long = solveTo(TL, simTimes);
        solveTimes.set(TL, elapsed() - t1);
        validateResult(long, sys, model.file);
        theory = long;
      } catch (e) {
        // the long transient may fail where the short one does not (a growing solution overflows)
        notes.push(`t → ∞: the theory's transient could not be solved to T-limit = ${TL} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): the late windows are judged by the simulation's drift`);
      }
    } else notes.push(`t → ∞: the theory's transient was not solved on to T-limit = ${TL} (projected ${Math.ceil(projected)} s, beyond the --budget): the late windows are judged by the simulation's drift`);
  }
  // a t → ∞ value read off the theory's own transient (a geometric tail) can carry an error bar
  // above the target that no number of seeds helps with: the transient solved further makes it
  // sharper. Up to two doublings of the horizon, within the budget (projected as for T-limit)
  if (wantLimit) {
    const loose = () => Object.entries(theoryLimits(theory)).filter(([name, l]) => {
      if (l.status !== 'value' || !theory.observables[name]) return false;
      const scale = Math.max(Math.abs(l.value!), ...theory.observables[name].map(Math.abs));
      return LIMIT_CRIT * (l.error ?? 0) > s.target * scale;
    }).map(([name]) => name);
    let horizon = Math.max(TL, s.T);
    for (let k = 0; k < 2 && loose().length; k++) {
      const before = loose();
      const Tk = 2 * horizon, t1 = elapsed(), last = solveSecondsAt(horizon);
      const projected = last * 4;
      if (t1 + projected > s.budget) { notes.push(`t → ∞ (${before.join(', ')}): the theory's limit has an error bar above the target; solving its transient to t = ${Tk} to sharpen it was projected beyond the --budget`); break; }
      progress?.(`solving the DMFT equations to t = ${Tk} (a sharper t → ∞ value for ${before.join(', ')})`);
      let longer: SolveResult;
      try { longer = solveTo(Tk, [Tk]); validateResult(longer, sys, model.file); } catch { break; }
      solveTimes.set(Tk, elapsed() - t1);
      theory = { ...theory, limit: longer.limit, limitError: longer.limitError, limitStatus: longer.limitStatus, ...(longer.limitNote ? { limitNote: longer.limitNote } : {}) };
      notes.push(`t → ∞ (${before.join(', ')}): the limits are those of the theory's transient solved to t = ${Tk} (at t = ${horizon} their error bars were above the target)`);
      horizon = Tk;
    }
  }
  if (s.adjustTheory) theory = s.adjustTheory(theory);
  // the seconds the solve that gave the theory's transient took (a tighter theory is projected from it)
  let theorySeconds = solveSecondsAt(Math.max(...theory.t));
  let solveSeconds = elapsed();
  const simT = TL;
  if (!s.limit) notes.push('t → ∞: not compared (--no-limit)');
  else if (!limitValues.length) notes.push(`t → ∞: the theory gives no values to compare${theory.limitNote ? ` (${theory.limitNote})` : ''}`);
  for (const [name, l] of Object.entries(lims)) if (l.status !== 'value' && l.status !== 'absent') notes.push(`t → ∞: ${name}: the theory reports ${l.status}${l.reason ? ` (${l.reason})` : ''}; not compared`);

  let simSeconds = 0;
  const perSeedCost = new Map<number, number>();
  const run = async (N: number, seed0: number, n: number, extra: Partial<SimOptions> = {}): Promise<SeedBatch> => {
    const w0 = performance.now();
    const r = await simulate(model, { N, seeds: n, seed0, T: simT, dt: s.dt, times: simTimes, twoTimeGrid: s.grid, keepSeeds: true, threads: s.threads, ...(fraction ? { progress: { report: fraction, note: () => {} } } : {}), ...extra });
    const sec = (performance.now() - w0) / 1000;
    simSeconds += sec;
    if (!extra.substeps && !extra.noiseDraws) perSeedCost.set(N, sec / n);
    return batchOf(r);
  };

  const batches = new Map<number, SeedBatch>();
  for (const N of s.Ns) {
    progress?.(`simulating N = ${N} (${s.seeds} seeds, T = ${simT})`);
    batches.set(N, await run(N, 1, s.seeds));
  }

  // the paired step-size check, at the smallest size but at most STEP_N (or a
  // quarter of it): the step bias of a self-averaging observable is a property
  // of the large-N dynamics, and the check costs three seeds at twice the steps,
  // which at N = 1000 is most of a first round of 8
  let step: StepCheck | undefined;
  let stepInfo: CheckReport['step'];
  if (s.stepCheck) {
    const N = Math.min(s.Ns[0], Math.max(STEP_N, Math.ceil(s.Ns[0] / 4))), nc = Math.min(3, s.seeds);
    const noisy = model.noises.length > 0;
    progress?.(`step-size check at N = ${N} (${nc} seeds, dt = ${s.dt} against ${s.dt / 2})`);
    // without noise a seed fixes the whole run: the first round's runs are the coarse partners (at the same size)
    const coarse = noisy ? await run(N, 1, nc, { noiseDraws: 2 }) : batches.has(N) ? firstSeeds(batches.get(N)!, nc) : await run(N, 1, nc);
    const fine = await run(N, 1, nc, { substeps: 2 });
    step = { N, dt: s.dt, diff: summarize(difference(coarse, fine), windows) };
    stepInfo = { N, seeds: nc, dt: s.dt, paired: noisy ? 'same seeds and Brownian paths' : 'same seeds', largest: 0 };
  }

  // One size: what cheaper settings would cost, as options to rerun with. The
  // spread of a self-averaging observable falls like 1/√N, so N/4 needs about
  // 4× the seeds; each is cheaper by the simulator's own cost estimate (dense
  // couplings: ~16×). Its finite-size bias is ~4× larger and, with one size, not
  // estimated (measuring it to a fraction of the target costs more than the
  // check: docs/check.md). The seconds are those the seeds still needed would
  // take at this size, times N/N′ seeds, each cheaper by the ratio. A step twice as long is proposed only when the
  // measured step bias, grown by 2^p (p: RK4 counted as 2, for kinks; stochastic
  // Heun as 1), stays below an eighth of the target; the run at that step
  // bounds its own step bias again.
  const cheaper = (seedsNeeded: number, cost: number, rows: CheckRow[]): string => {
    const N = s.Ns[0], perSeed = perSeedCost.get(N) ?? 0;
    if (s.Ns.length !== 1 || !(perSeed > 0)) return '';
    const Nq = N >= 400 ? Math.round(N / 4) : N;
    const stepRel = Math.max(0, ...rows.map((r) => (r.scale > 0 ? r.stepBias / r.scale : 0)));
    const order = model.noises.length ? 1 : 2;
    const dt2 = s.stepCheck && !s.exactSteps && stepRel * 2 ** order <= s.target / 8 ? 2 * s.dt : s.dt;
    if (Nq === N && dt2 === s.dt) return '';
    try {
      const spec = (dt: number) => ({ T: simT, dt, times: simTimes, grid: s.grid.filter((t) => t <= simT), blowup: 1e12 });
      const ratio = estimateSeconds(plan(model, Nq, { precision: 'auto' }), spec(dt2)) / estimateSeconds(plan(model, N, { precision: 'auto' }), spec(s.dt));
      const n = Math.ceil((seedsNeeded * N) / Nq), sec = (cost * N * ratio) / Nq;
      if (!Number.isFinite(sec) || ratio >= 0.5) return '';
      const why = [
        ...(Nq < N ? ['its finite-size bias, ~4× larger, is not estimated with one size'] : []),
        ...(dt2 > s.dt ? [`a step of ${dt2}: the step check bounds the bias at ${s.dt} by ${stepRel.toPrecision(1)} of the scale, and the run at ${dt2} bounds its own`] : []),
      ];
      const total = Math.ceil(elapsed() + sec);
      return `; at${Nq < N ? ` --N ${Nq}` : ''}${dt2 > s.dt ? ` --dt ${dt2}` : ''} about ${n} seeds (≈ ${total} s; ${why.join('; ')}): rerun with${Nq < N ? ` --N ${Nq}` : ''}${dt2 > s.dt ? ` --dt ${dt2}` : ''} --max-seeds ${n} --budget ${Math.ceil(1.5 * total)}; or`;
    } catch {
      return '';
    }
  };

  // the simulator's cost model for one seed at size N to time T (deterministic)
  const modelCache = new Map<string, number>();
  const modelSeconds = (N: number, T: number): number => {
    const key = `${N}:${T}`;
    if (!modelCache.has(key)) {
      let v = 0;
      try { v = estimateSeconds(plan(model, N, { precision: 'auto' }), { T, dt: s.dt, times: simTimes.filter((t) => t <= T), grid: s.grid.filter((t) => t <= T), blowup: 1e12 }); } catch { v = 0; }
      modelCache.set(key, v);
    }
    return modelCache.get(key)!;
  };
  const maxRounds = s.maxRounds ?? 8;
  let round = 0;
  // Seeds added for the transient rows alone run to T, not to T-limit: the late windows need the long
  // runs, the transient rows only their first T (the cost of a seed grows with its horizon). The
  // transient rows read every seed (the long ones cut at T and the short ones); the t → ∞ and window
  // rows read the long ones only, with their own count of seeds.
  const shortTimes = s.times.filter((t) => t <= s.T + 1e-9);
  const split = !!windows && simT > s.T && s.grid.every((t) => t <= s.T + 1e-9) && shortTimes.length === s.times.length;
  const shorts = new Map<number, SeedBatch>();
  const shortCost = new Map<number, number>();
  const nextSeed = new Map(s.Ns.map((N) => [N, s.seeds + 1]));
  // --no-controls: plain means (the batches keep their controls, the summaries ignore them)
  const useCv = s.controls !== false;
  const cv = (b: SeedBatch): SeedBatch => (useCv ? b : { ...b, controls: undefined });
  const simLike = (N: number): SimLike => {
    const long = cv(batches.get(N)!), short = shorts.get(N);
    if (!short) return summarize(long, windows);
    return { ...summarize(merge(atTimes(long, short.t), cv(short))), late: summarize(long, windows).late };
  };
  let sims: SimLike[] = [];
  const compareNow = () => {
    sims = s.Ns.map(simLike);
    return compareRound(theory, sims, { alpha: s.alpha, round, target: s.target, step, times: s.times });
  };
  let cmp = compareNow();
  let projection: string | undefined;
  // what a theory whose own bar blocks rows would need, when it was not bought (a note)
  let theoryNeed: string | undefined;
  let refinements = 0;
  while (cmp.verdict === 'inconclusive' && round + 1 < maxRounds) {
    // A theory whose own error bar takes more than its share of the rows' room (all of it: the
    // rows cannot agree whatever the seeds) is asked for a smaller one, when its solver has a work
    // knob and the budget pays for it (at most twice); the seeds are then planned against it.
    let refined = false;
    // (no more seeds to be had under --max-seeds: the theory must make the rest of the room)
    const capped = s.Ns.every((N) => batches.get(N)!.seeds.length + (shorts.get(N)?.seeds.length ?? 0) >= Math.floor(s.maxSeeds ?? Infinity));
    // the split between theory and seeds is made on the solver's and the simulator's own cost
    // models, not on measured seconds, so that it does not depend on the machine's speed or load
    const simModel = s.Ns.reduce((sum, N) => sum + modelSeconds(N, simT) * batches.get(N)!.seeds.length + modelSeconds(N, s.T) * (shorts.get(N)?.seeds.length ?? 0), 0);
    const thModel = theory.accuracy ? theory.accuracy.work * SECONDS_PER_WORK : theorySeconds;
    const asks = refinements < 2 ? theoryAsks(cmp, s.target, thModel, capped ? Infinity : simModel) : [];
    if (asks.length) {
      let tt = tighterTheory(theory, asks);
      // the solve's own seconds grow with the work factor; the rest of the first solve (the t → ∞
      // solvers) is paid once
      const own = Math.min(theorySeconds, theory.accuracy?.seconds ?? theorySeconds);
      const costOf = (factor: number) => own * factor + (theorySeconds - own);
      // the best split may cost more than the budget has left: then the tightest theory that three
      // quarters of what is left pays for, as long as it leaves the seeds a share (each ask at most `most`)
      const left = s.budget - elapsed();
      if (!('cannot' in tt) && costOf(tt.cost) > left) {
        for (const m of [1.25, 1.5, 2, 3, 4, 6]) {
          const looser = asks.map((a) => ({ ...a, error: Math.min(a.error * m, a.most) }));
          const t2 = tighterTheory(theory, looser);
          if ('cannot' in t2) break;
          if (costOf(t2.cost) <= 0.75 * left) { tt = t2; break; }
          if (looser.every((a) => a.error >= a.most)) break;
        }
      }
      const rowsText = asks.map((a) => `${a.observable}(${a.t})`).join(', ');
      if ('cannot' in tt) theoryNeed = `the theory's own error bar takes most of the room of ${rowsText}, and a smaller one cannot be asked for: ${tt.cannot}`;
      else {
        const projected = costOf(tt.cost);
        if (elapsed() + projected > s.budget) {
          theoryNeed = `the theory's own error bar takes most of the room of ${rowsText}; a theory with ${tt.what} would take ≈ ${Math.ceil(projected)} s of solve (≈ ${Math.ceil(elapsed() + projected)} s in all before more seeds): rerun with a larger --budget`;
        } else {
          progress?.(`solving the DMFT equations again for a smaller error (${rowsText})`);
          const before = asks.map((a) => `${a.observable}(${a.t}) ± ${rel(cmp, a)}`);
          const t1 = elapsed();
          try {
            const r = solveTo(Math.max(...theory.t), theory.t, { dt: tt.dt, monteCarlo: tt.monteCarlo });
            validateResult(r, sys, model.file);
            // the transient is replaced; the t → ∞ values stay those solved (and sharpened) above
            let next: SolveResult = { ...theory, method: r.method, t: r.t, observables: r.observables, error: r.error, diagnostics: r.diagnostics, ...(r.twoTime ? { twoTime: r.twoTime } : {}), ...(r.accuracy ? { accuracy: r.accuracy } : {}) };
            if (s.adjustTheory) next = s.adjustTheory(next);
            theory = next;
            theorySeconds = elapsed() - t1;
            solveSeconds += theorySeconds;
            refinements++;
            refined = true;
            cmp = compareNow();
            notes.push(`theory: its own error bar took most of the room of ${rowsText}: solved again with ${tt.what} (${Math.ceil(theorySeconds)} s): ${before.join(', ')} → ${asks.map((a) => rel(cmp, a)).join(', ')} of the scale`);
          } catch (e) {
            theoryNeed = `the theory's own error bar takes most of the room of ${rowsText}; solving it again with ${tt.what} failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
          }
        }
      }
    }
    // rows that seeds cannot decide (the theory's error, the step bias, an
    // unsettled simulation) stay inconclusive with their reason; the others
    // still get their seeds: they may yet agree, or reveal a disagreement
    const open = cmp.rows.filter((r) => r.verdict === 'inconclusive' && r.growable);
    if (!open.length && !refined) break;
    // how many times the seeds would reach the target (errors ∝ 1/√seeds)
    const factorOf = (rows: CheckRow[]) => {
      let factor = 1;
      for (const r of rows) {
        const room = s.target * r.scale - r.allowance;
        const sStar2 = (room / r.crit) ** 2 - r.theoryErr ** 2;
        const sNow2 = Math.max(0, (r.threshold - r.allowance) ** 2 / r.crit ** 2 - r.theoryErr ** 2);
        factor = Math.max(factor, sStar2 > 0 ? sNow2 / sStar2 : Infinity);
      }
      return factor;
    };
    const lateOpen = split ? open.filter((r) => r.kind !== 'transient') : open;
    const trOpen = split ? open.filter((r) => r.kind === 'transient') : [];
    const fLate = factorOf(lateOpen), fTr = factorOf(trOpen), factor = Math.max(fLate, fTr);
    const longNow = batches.get(s.Ns[0])!.seeds.length, trNow = longNow + (shorts.get(s.Ns[0])?.seeds.length ?? 0);
    const longCost = (N: number) => perSeedCost.get(N) ?? 0;
    const shortOf = (N: number) => shortCost.get(N) ?? longCost(N) * Math.min(1, (1.5 * s.T) / simT);
    // seeds to add per size: long ones (growth g of the long seeds) and short ones (the transient rows' growth gt)
    const cap = Math.floor(s.maxSeeds ?? Infinity);
    const seedPlan = (g: number, gt: number) => {
      const { addLong, addShort } = seedsToAdd({ longNow, trNow, g, gt, cap, late: lateOpen.length > 0, transient: trOpen.length > 0 });
      return { addLong, addShort, cost: s.Ns.reduce((sum, N) => sum + addLong * longCost(N) + addShort * shortOf(N), 0) };
    };
    const seedsNow = split ? trNow : longNow;
    const need = seedPlan(Math.max(2, fLate), Math.max(2, fTr)).cost;
    const blocked = cmp.rows.some((r) => r.verdict === 'inconclusive' && !r.growable);
    projection = Number.isFinite(factor)
      ? `${blocked ? 'the rows that seeds can decide need' : 'reaching the target needs'} about ${Math.ceil(factor * seedsNow)} seeds per size (≈ ${Math.ceil(elapsed() + need)} s in all)${cheaper(factor * seedsNow, need, cmp.rows) || ':'} raise --budget, or loosen --target`
      : undefined;
    // multiply the seeds by 2 to 4 (less for a last round up to --max-seeds)
    const gMax = Math.min(4, cap / longNow), gtMax = Math.min(4, cap / trNow);
    const grows = (g: number, gt: number) => (lateOpen.length && g * longNow >= longNow + 1) || (trOpen.length && gt * trNow >= trNow + 1);
    const fits = (g: number, gt: number) => elapsed() + seedPlan(g, gt).cost <= s.budget;
    const want = [Math.min(gMax, Math.max(2, Math.ceil(fLate * 1.1))), Math.min(gtMax, Math.max(2, Math.ceil(fTr * 1.1)))] as const;
    const least = [Math.min(gMax, 2), Math.min(gtMax, 2)] as const;
    const pick = !open.length ? undefined : grows(...want) && fits(...want) ? want : grows(...least) && fits(...least) ? least : undefined;
    if (!pick && !refined) break;
    const { addLong, addShort } = pick ? seedPlan(...pick) : { addLong: 0, addShort: 0 };
    if (addLong + addShort === 0 && !refined) break;
    // (a new theory compared with the same seeds is a new look at them: it spends a round's share of alpha)
    round++;
    for (const N of s.Ns) {
      if (addLong) {
        progress?.(`round ${round + 1}: N = ${N}, ${addLong} more seeds`);
        batches.set(N, merge(batches.get(N)!, await run(N, nextSeed.get(N)!, addLong)));
        nextSeed.set(N, nextSeed.get(N)! + addLong);
      }
      if (addShort) {
        progress?.(`round ${round + 1}: N = ${N}, ${addShort} more seeds to T = ${s.T} (for the transient rows)`);
        const w0 = performance.now();
        const r = await simulate(model, { N, seeds: addShort, seed0: nextSeed.get(N)!, T: s.T, dt: s.dt, times: shortTimes, twoTimeGrid: s.grid, keepSeeds: true, threads: s.threads, ...(fraction ? { progress: { report: fraction, note: () => {} } } : {}) });
        const sec = (performance.now() - w0) / 1000;
        simSeconds += sec;
        shortCost.set(N, sec / addShort);
        const b = batchOf(r), had = shorts.get(N);
        shorts.set(N, had ? merge(had, b) : b);
        nextSeed.set(N, nextSeed.get(N)! + addShort);
      }
    }
    cmp = compareNow();
  }

  if (s.Ns.length === 1) notes.push(`one size (N = ${s.Ns[0]}): the finite-size bias is not estimated; give several sizes (e.g. --N ${Math.round(s.Ns[0] / 2)},${s.Ns[0]},${2 * s.Ns[0]}) to extrapolate N → ∞`);
  if (stepInfo) {
    stepInfo.largest = Math.max(0, ...cmp.rows.map((r) => (r.scale > 0 ? r.stepBias / r.scale : 0)));
    notes.push(`step check: N = ${stepInfo.N}, ${stepInfo.seeds} seeds, dt = ${s.dt} against ${s.dt / 2} (${stepInfo.paired}): allowance 2|Δ| up to ${pct(stepInfo.largest)} of the observable's scale`);
  } else notes.push(s.exactSteps ? 'step check: not needed: a map is iterated exactly (there is no time step to refine)' : 'step check: off (--no-step-check): the simulation\'s step bias is not bounded');
  const b0 = batches.get(s.Ns[0])!;
  const cvNames = sims.some((x) => x.controls) ? b0.controlNames ?? [] : [];
  if (cvNames.length) notes.push(`control variates: the seeds' sample moments ${cvNames.join(', ')} (exact expectation 0) regressed out of every mean (docs/check.md)`);
  else if (useCv && b0.controlNames?.length) notes.push(`control variates: not used (${Math.min(...sims.map((x) => x.seeds))} seeds are too few to regress out ${b0.controlNames.length})`);
  if (windows) notes.push(...lateNotes(cmp.rows, windows, s.target));
  if (cmp.verdict === 'inconclusive' && projection && cmp.rows.some((r) => r.verdict === 'inconclusive' && r.growable)) notes.push(projection);
  if (cmp.verdict === 'inconclusive' && theoryNeed) notes.push(theoryNeed);
  const seeds = Object.fromEntries(s.Ns.map((N) => [String(N), batches.get(N)!.seeds.length + (shorts.get(N)?.seeds.length ?? 0)]));
  if (shorts.size) notes.push(`seeds: ${s.Ns.map((N) => `N = ${N}: ${batches.get(N)!.seeds.length} to T-limit = ${simT}, ${shorts.get(N)?.seeds.length ?? 0} more to T = ${s.T}`).join('; ')} (the transient rows read all of them, the t → ∞ rows the long ones)`);
  return {
    model: model.name, params: theory.params, method: theory.method, ...exactOf(theory.diagnostics), Ns: s.Ns, seeds, alpha: s.alpha, target: s.target,
    rounds: round + 1, levelPerComparison: cmp.levelPerComparison, rows: cmp.rows, verdict: cmp.verdict, ok: cmp.verdict === 'agree', notes,
    ...(stepInfo ? { step: stepInfo } : {}), controls: cvNames, ...(windows ? { late: { T: TL, windows } } : {}),
    seconds: { solve: +solveSeconds.toFixed(2), simulate: +simSeconds.toFixed(2), total: +elapsed().toFixed(2), budget: s.budget },
  };
}

/**
 * Seeds to add per size in one round: long ones (to T-limit) multiply the long
 * seeds by g when late rows are open; short ones (to T) bring all seeds to gt
 * times their number when transient rows are open. `cap` (--max-seeds) bounds
 * long and short seeds together.
 */
export function seedsToAdd(p: { longNow: number; trNow: number; g: number; gt: number; cap: number; late: boolean; transient: boolean }): { addLong: number; addShort: number } {
  const addLong = p.late ? Math.max(0, Math.min(Math.floor((p.g - 1) * p.longNow), p.cap - p.trNow)) : 0;
  const addShort = p.transient ? Math.max(0, Math.min(Math.ceil(p.gt * p.trNow) - p.trNow - addLong, p.cap - p.trNow - addLong)) : 0;
  return { addLong, addShort };
}

/** a row's theory error relative to its scale, in words */
function rel(cmp: { rows: CheckRow[] }, a: ErrorAsk): string {
  const r = cmp.rows.find((x) => x.kind === 'transient' && x.t.length === 1 && x.observable === a.observable && Math.abs(x.t[0] - a.t) <= 1e-9 * Math.max(1, a.t));
  return r ? pct(r.theoryErr / r.scale) : '?';
}

/**
 * The one-time rows whose theory error takes more than its share of the room the target leaves,
 * with the error each would need. The room: (target·scale − allowances)/c at the critical value
 * c of two rounds on (normal), less the step check's share. The share: splitting that variance between
 * the theory (e²) and the simulation (s²) so as to spend the least time on both — each costs
 * W/variance, W = seconds × variance of what was run so far — gives e² ∝ √W_theory and
 * s² ∝ √W_simulation. A row is asked for when its theory error is above 1.5 times its share
 * (a theory that blocks the row whatever the seeds always is). The seconds are the solver's and
 * the simulator's cost models' (reproducible), not the clock's. `most` is the loosest error
 * still worth buying when the budget cannot pay for the best split. With no more seeds to be had
 * (`simSeconds` infinite) the theory gets all the room the simulation's error leaves.
 */
export function theoryAsks(cmp: { rows: CheckRow[]; levelPerComparison: number }, target: number, theorySeconds: number, simSeconds: number): (ErrorAsk & { most: number })[] {
  const asks: (ErrorAsk & { most: number })[] = [];
  for (const r of cmp.rows) {
    if (r.verdict !== 'inconclusive' || r.kind !== 'transient' || r.t.length !== 1 || !(r.theoryErr > 0) || !Number.isFinite(r.simErr)) continue;
    const S = (r.threshold - r.allowance) / r.crit;
    const stepVar = Math.max(0, S * S - r.simErr ** 2 - r.theoryErr ** 2);
    // the critical value the row will likely be decided at: two rounds on, with many seeds (an
    // early round's few degrees of freedom would ask the theory for far more than it needs)
    const critNext = studentQuantile(1 - cmp.levelPerComparison / 8, Infinity);
    const room = target * r.scale - r.allowance;
    const B2 = (room / critNext) ** 2 - stepVar;
    if (!(B2 > 0)) continue;
    if (!Number.isFinite(simSeconds)) {
      const left = B2 - r.simErr ** 2;
      if (left > 0 && r.theoryErr ** 2 > left) asks.push({ observable: r.observable, t: r.t[0], error: 0.95 * Math.sqrt(left), most: 0.95 * Math.sqrt(left) });
      continue;
    }
    const wTh = Math.sqrt(Math.max(theorySeconds, 1e-3) * r.theoryErr ** 2), wSim = Math.sqrt(Math.max(simSeconds, 1e-3) * r.simErr ** 2);
    const share = Math.min(0.9, wTh / (wTh + wSim));
    const e = Math.sqrt(B2 * share);
    // (`most`: the loosest theory still worth asking for, 80 % of the variance, when the best split costs too much)
    if (r.theoryErr > 1.5 * e) asks.push({ observable: r.observable, t: r.t[0], error: e, most: Math.max(e, Math.sqrt(0.8 * B2)) });
  }
  return asks;
}

/** What the late-time rows compared, in words. */
function lateNotes(rows: CheckRow[], w: [number, number, number], target: number): string[] {
  const span = `t ∈ [${w[1]}, ${w[2]}]`;
  const lim = rows.filter((r) => r.kind === 'limit');
  const byTheory = lim.filter((r) => r.relaxation !== undefined), byDrift = lim.filter((r) => r.relaxation === undefined);
  const names = (rs: CheckRow[]) => [...new Set(rs.map((r) => r.observable))].join(', ');
  const out: string[] = [];
  if (byTheory.length) out.push(`t → ∞ (${names(byTheory)}): the theory's limit against each seed's mean over ${span}; allowed for: the theory's own distance to its limit over the same window (its transient is solved to t = ${w[2]}), at most twice its drift from [${w[0]}, ${w[1]})`);
  if (byDrift.length) out.push(`t → ∞ (${names(byDrift)}): the theory's limit against each seed's mean over ${span}; the simulation's drift from [${w[0]}, ${w[1]}) is allowed for (twice when significant) and must stay below half the target`);
  const win = rows.filter((r) => r.kind === 'window');
  if (win.length) {
    const list = win.map((r) => `${r.observable} (${pct(Math.abs(r.relaxation ?? NaN) / r.scale)})`).join(', ');
    out.push(`t ∈ [${w[1]}, ${w[2]}] rows: over that window the theory's own transient is still this far from its limit: ${list} — more than a quarter of the target ${pct(target)}; the window is also compared with the theory's transient averaged over it (exact at finite time). Raise --T-limit to sharpen the t → ∞ rows`);
  }
  return out;
}

/**
 * The simulation's horizon for the t → ∞ rows, from the theory's own
 * relaxation: the window [3/4, 1]·T-limit must lie where the theory is within
 * target/8 of its limit (so that the allowance for the remaining relaxation
 * leaves the statistics most of the target). The distance |θ(t) − limit| over
 * the second half of the solved transient is fitted by a power or exponential
 * law (growthLaw) and followed forward; T-limit grows from its default by at
 * most 4×. A transient that is not approaching its limit keeps the default
 * (its rows then say why). `multiple`: the T-limit is rounded up to a multiple
 * of it (a map's window times T-limit·k/16 must be steps).
 */
export function lateHorizon(theory: SolveResult, T: number, TL0: number, target: number, multiple = 1): { TL: number; note: string } {
  const lims = theoryLimits(theory);
  let need = TL0;
  const why: string[] = [];
  for (const [name, l] of Object.entries(lims)) {
    if (l.status !== 'value' || l.value === undefined) continue;
    const v = theory.observables[name];
    if (!v) continue;
    const idx = theory.t.map((t, i) => (t >= T / 2 - 1e-12 ? i : -1)).filter((i) => i >= 0);
    if (idx.length < 9) continue;
    const t = idx.map((i) => theory.t[i]), d = idx.map((i) => v[i] - l.value!);
    const scale = Math.max(Math.abs(l.value), ...v.map(Math.abs));
    const goal = (target / 8) * scale, dT = Math.abs(d[d.length - 1]);
    if (!(scale > 0) || dT <= goal) continue;
    const law = growthLaw(t, d);
    if (!law || !(law.rate < 0)) continue;
    const tStar = law.law === 'power' ? T * (goal / dT) ** (1 / law.rate) : T + Math.log(goal / dT) / law.rate;
    const want = Math.min(4 * TL0, multiple * Math.ceil(Math.ceil((4 / 3) * tStar) / multiple));
    if (want > need) need = want;
    why.push(`${name} ${law.law === 'power' ? `~ t^${law.rate}` : `~ e^(${law.rate} t)`}, within ${(100 * target / 8).toPrecision(2)}% of its limit from t ≈ ${+tStar.toPrecision(3)}`);
  }
  return { TL: need, note: `t → ∞: T-limit = ${need} (instead of ${TL0}) from the theory's relaxation towards its limit (${why.join('; ')})${need >= 4 * TL0 ? '; capped at 4× the default: give --T-limit to go further' : ''}` };
}
