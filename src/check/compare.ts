// Theory vs simulation, one evaluation: pair every theory value with the
// simulation (at each N, and extrapolated N → ∞ by a + b/N when there are
// several N), give each comparison a threshold from every error source, and a
// verdict: agree, disagree, zero or inconclusive. The definitions are in
// docs/check.md; in short, for one comparison
//
//   d = sim − theory,   h = c·√(s² + e_th² + (2 s_step)²) + 2|Δ_step| + |drift|
//
// s: the simulation's standard error (propagated through the N → ∞ fit),
// e_th: the theory's reported error, Δ_step ± s_step: the paired step-size
// difference (step h − step h/2; twice it bounds the bias of a scheme of order
// ≥ 1), drift: for t → ∞ comparisons, the change between the last two
// late-time windows, c: the Student-t quantile at the family-wise level.
// |d| > h is a disagreement; otherwise the comparison agrees only when it
// could have detected the target: its detectable difference h/scale ≤ target.
import type { LimitStatusKind, SolveResult } from '../solve/types.ts';
import { chiSquareCdf, studentQuantile, welchDof } from '../numeric/stats.ts';

export interface LateWindow {
  /** [start of the previous window, start of the last window, end] */
  windows: [number, number, number];
  /** per-seed mean over the last window, averaged over seeds; its standard error */
  mean: Record<string, number>;
  stderr: Record<string, number>;
  /** per-seed (last-window mean − previous-window mean), averaged; its standard error */
  drift: Record<string, number>;
  driftErr: Record<string, number>;
  /** the seeds behind these windows, when fewer than the transient's (seeds run to T-limit; the others to T only) */
  seeds?: number;
  /** the degrees of freedom of these windows' standard errors, when not the transient's */
  dof?: number;
  /** the simulation's sample times in the two windows (the transient's times may stop at T
   *  when seeds run to T only were merged in) */
  t?: number[];
}

/** Simulation summaries at one N (means and standard errors over seeds). */
export interface SimLike {
  N: number;
  /** independent seeds behind each standard error */
  seeds: number;
  /** degrees of freedom of the standard errors (seeds − 1, less one per control variate regressed out) */
  dof?: number;
  /** control variates regressed out of every mean (0 or absent: plain means) */
  controls?: number;
  t: number[];
  observables: Record<string, number[]>;
  stderr: Record<string, number[]>;
  twoTime?: Record<string, { t: number[]; mean: number[][]; stderr: number[][] }>;
  /** late-time windows, for the comparison with the theory's t → ∞ values */
  late?: LateWindow;
}

/** The paired step-size check: per-seed differences (step dt − step dt/2),
 *  summarized like a simulation (means and standard errors of the differences). */
export interface StepCheck { N: number; dt: number; diff: SimLike }

/** What the theory says about t → ∞ for one observable (the solver's
 *  `limitStatus`, see docs/solve.md). Only `value` is compared — for
 *  `branches`, the value of the branch the transient settles on, when the
 *  solver says which; every other status is reported, not compared. */
export type LimitStatus = LimitStatusKind;
export interface TheoryLimit { status: LimitStatus; value?: number; error?: number; reason?: string }

export function theoryLimits(theory: SolveResult): Record<string, TheoryLimit> {
  const out: Record<string, TheoryLimit> = {};
  const reached = theory.branches?.find((b) => b.reachedByTransient);
  for (const name of Object.keys(theory.observables)) {
    const st = theory.limitStatus?.[name];
    const v = theory.limit?.[name];
    if (st?.status === 'branches' && reached && name in reached.observables) {
      out[name] = { status: 'value', value: reached.observables[name], error: reached.errors[name] ?? 0, reason: 'the branch the transient settles on' };
    } else if (st && st.status !== 'value') out[name] = { status: st.status, reason: st.reason };
    else if (v !== undefined && Number.isFinite(v)) out[name] = { status: 'value', value: v, error: theory.limitError?.[name] ?? 0 };
    else out[name] = { status: 'absent', reason: st?.reason };
  }
  return out;
}

export type Verdict = 'agree' | 'disagree' | 'inconclusive' | 'zero';

export interface PerN { N: number; seeds: number; sim: number; simErr: number }

export interface CheckRow {
  observable: string;
  /** 'transient': at the times t; 'limit': the theory's t → ∞ value against
   *  the simulation's late-time window; 'window': the theory's transient
   *  averaged over that window (added when its own distance to its limit
   *  there exceeds a quarter of the target) */
  kind: 'transient' | 'limit' | 'window';
  /** time(s) of the comparison (empty for the limit; [start, end] of a window) */
  t: number[];
  /** the size compared: the only N, or 'N→∞' (the a + b/N fit) */
  N: number | 'N→∞';
  theory: number;
  theoryErr: number;
  sim: number;
  /** standard error of `sim` (of the fitted a with several N) */
  simErr: number;
  /** sim − theory */
  diff: number;
  /** the observable's magnitude: largest |theory| or |sim| over its comparisons */
  scale: number;
  /** |diff| above this is a disagreement */
  threshold: number;
  /** threshold / scale: the smallest relative difference this comparison would flag */
  detectable: number;
  /** the family-wise Student-t critical value and its degrees of freedom */
  crit: number;
  dof: number;
  /** step-size allowance 2|Δ| (0 without the step check) */
  stepBias: number;
  /** every allowance added to c·S in the threshold: step bias, late-time drift or the theory's remaining relaxation */
  allowance: number;
  /** t → ∞ only: drift between the last two windows and its standard error */
  drift?: number;
  driftErr?: number;
  /** t → ∞ and window rows, when the theory's transient covers the windows:
   *  its mean over the last window, that mean minus the limit (the theory's
   *  own remaining relaxation), and minus its mean over the previous window */
  theoryWindow?: number;
  relaxation?: number;
  theoryDrift?: number;
  verdict: Verdict;
  /** why the verdict is inconclusive (or other remarks) */
  reason?: string;
  /** inconclusive only for want of statistics: more seeds would help */
  growable: boolean;
  perN: PerN[];
}

export interface CompareOptions {
  /** family-wise false-alarm rate over all comparisons and all rounds */
  alpha?: number;
  /** the round of the adaptive loop (0, 1, …): round r spends alpha/2^(r+1) */
  round?: number;
  /** target relative precision (default 0.02) */
  target?: number;
  step?: StepCheck;
}

export interface Comparison {
  rows: CheckRow[];
  /** the level each comparison is tested at (alpha/2^(round+1)/k) */
  levelPerComparison: number;
  verdict: Verdict;
}

/** A point of comparison and how to read it from the theory and from a simulation. */
interface Key {
  observable: string;
  kind: 'transient' | 'limit' | 'window';
  t: number[];
  theory: number;
  theoryErr: number;
  /** the simulation's value and standard error (n, dof: its seeds and degrees of freedom, when not the SimLike's own) */
  read: (s: SimLike) => { v: number; e: number; n?: number; dof?: number } | undefined;
  drift?: (s: SimLike) => { v: number; e: number; n?: number; dof?: number } | undefined;
  /** the theory's transient averaged over the late window (limit and window keys) */
  win?: { mean: number; err: number; relaxation: number; drift: number };
}

function interp(ts: number[], ys: number[], t: number): number | undefined {
  if (!ts.length || !ys.length || t < ts[0] - 1e-9 || t > ts[ts.length - 1] + 1e-9) return undefined;
  if (ts.length === 1) return ys[0];
  let k = 0;
  while (k < ts.length - 2 && ts[k + 1] < t) k++;
  const w = Math.min(1, Math.max(0, (t - ts[k]) / (ts[k + 1] - ts[k] || 1)));
  // at a grid point, its value alone (a non-finite neighbour must not leak in)
  return w === 0 ? ys[k] : w === 1 ? ys[k + 1] : ys[k] + w * (ys[k + 1] - ys[k]);
}

/** Bilinear interpolation of a two-time function m[a][b] = f(ts[a], ts[b]). */
function interp2(ts: number[], m: number[][], ta: number, tb: number): number | undefined {
  const row = ts.map((_, k) => interp(ts, m[k], tb));
  if (row.some((x) => x === undefined)) return undefined;
  return interp(ts, row as number[], ta);
}

/** The index of t in ts (simulation times are exact), else undefined. */
function at(ts: number[], t: number): number | undefined {
  const k = ts.findIndex((x) => Math.abs(x - t) <= 1e-9 * Math.max(1, Math.abs(t)));
  return k < 0 ? undefined : k;
}

/** The points of comparison: transient times, two-time grid, t → ∞. */
function keys(theory: SolveResult, sim0: SimLike, times: number[] | undefined, target: number): Key[] {
  const out: Key[] = [];
  const ts = times ?? sim0.t;
  for (const [name, th] of Object.entries(theory.observables)) {
    const thErr = theory.error[name] ?? th.map(() => 0);
    for (const t of ts) {
      const v = interp(theory.t, th, t);
      if (v === undefined || at(sim0.t, t) === undefined) continue;
      out.push({
        observable: name, kind: 'transient', t: [t], theory: v, theoryErr: interp(theory.t, thErr, t) ?? 0,
        read: (s) => { const k = at(s.t, t); const x = s.observables[name]; return k === undefined || !x ? undefined : { v: x[k], e: s.stderr[name]?.[k] ?? NaN }; },
      });
    }
  }
  for (const [name, th] of Object.entries(theory.twoTime ?? {})) {
    const g = sim0.twoTime?.[name];
    if (!g) continue;
    // a coarse subset (≤ 5 × 5) of the simulation grid that the theory covers
    const idx = g.t.map((_, k) => k).filter((k) => g.t[k] <= th.t[th.t.length - 1] + 1e-9);
    const step = Math.max(1, Math.floor(idx.length / 4));
    for (let a = 0; a < idx.length; a += step) for (let b = 0; b <= a; b += step) {
      const ta = g.t[idx[a]], tb = g.t[idx[b]];
      const v = interp2(th.t, th.values, ta, tb);
      if (v === undefined) continue;
      const e = th.error ? interp2(th.t, th.error, ta, tb) ?? 0 : 0;
      out.push({
        observable: name, kind: 'transient', t: [ta, tb], theory: v, theoryErr: e,
        read: (s) => {
          const m = s.twoTime?.[name];
          if (!m) return undefined;
          const ia = at(m.t, ta), ib = at(m.t, tb);
          return ia === undefined || ib === undefined ? undefined : { v: m.mean[ia][ib], e: m.stderr[ia][ib] };
        },
      });
    }
  }
  if (sim0.late) {
    const [w0, w1, w2] = sim0.late.windows;
    // the simulation's sample times in the two windows: the theory is averaged at the same times
    const lateT = sim0.late.t ?? sim0.t;
    const inLast = lateT.filter((t) => t >= w1 - 1e-9 && t <= w2 + 1e-9);
    const inPrev = lateT.filter((t) => t >= w0 - 1e-9 && t < w1 - 1e-9);
    for (const [name, lim] of Object.entries(theoryLimits(theory))) {
      if (lim.status !== 'value' || !(name in sim0.late.mean)) continue;
      const own = (s: SimLike) => (s.late?.seeds !== undefined ? { n: s.late.seeds, dof: s.late.dof } : { n: s.seeds, dof: s.dof });
      const read = (s: SimLike) => (s.late && name in s.late.mean ? { v: s.late.mean[name], e: s.late.stderr[name], ...own(s) } : undefined);
      const drift = (s: SimLike) => (s.late && name in s.late.drift ? { v: s.late.drift[name], e: s.late.driftErr[name], ...own(s) } : undefined);
      const th = theory.observables[name], thErr = theory.error[name];
      // only at the theory's own times (no interpolation)
      const mean = (ts: number[]) => {
        const vals = ts.map((t) => { const k = at(theory.t, t); return th && k !== undefined ? th[k] : NaN; });
        return ts.length && vals.every(Number.isFinite) ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
      };
      const last = mean(inLast), prev = mean(inPrev);
      let win: Key['win'];
      if (Number.isFinite(last) && Number.isFinite(prev)) {
        // the errors of neighbouring times are correlated: their mean bounds the error of the mean
        const err = inLast.reduce((a, t) => a + Math.abs(thErr?.[at(theory.t, t) ?? -1] ?? 0), 0) / inLast.length;
        win = { mean: last, err, relaxation: last - lim.value!, drift: last - prev };
      }
      out.push({ observable: name, kind: 'limit', t: [], theory: lim.value!, theoryErr: lim.error ?? 0, read, drift, ...(win ? { win } : {}) });
      // a theory still relaxing over the window (by more than a quarter of the
      // target of the observable's magnitude): the limit row loses power, so
      // the window is also compared with the theory's own mean over it, which
      // is exact at finite time
      const mag = Math.max(Math.abs(lim.value!), ...out.filter((k) => k.observable === name).map((k) => Math.abs(k.theory)).filter(Number.isFinite));
      if (win && Math.abs(win.relaxation) > (target * mag) / 4) {
        out.push({ observable: name, kind: 'window', t: [w1, w2], theory: win.mean, theoryErr: win.err, read, win });
      }
    }
  }
  return out;
}

interface Estimate {
  v: number;
  /** standard error */
  e: number;
  /** degrees of freedom of e */
  dof: number;
  /** the finite-size trend does not fit a + b/N (reason), if tested and rejected */
  misfit?: string;
}

/**
 * The N → ∞ value from per-N means by the weighted fit v = a + b/N.
 * The weights N·seeds are fixed (the inverse variance of a self-averaging
 * observable), not estimated, so a zero spread at some N cannot make the fit
 * singular; a is a linear combination Σ c_N v_N whose error is propagated
 * exactly from the per-N errors. Each per-N error is floored by the pooled
 * self-averaging estimate σ̂/√(N·seeds): a zero spread at one N (a
 * discrete-valued observable that did not move in any seed) is a sampling
 * accident, not an exact value.
 */
export function extrapolate(pts: { N: number; n: number; v: number; e: number; dof?: number }[], level: number): Estimate {
  // the degrees of freedom of each size's error (seeds − 1 less the control variates regressed out)
  const nu = (p: { n: number; dof?: number }) => p.dof ?? p.n - 1;
  if (pts.length === 1) {
    const p = pts[0];
    return { v: p.v, e: Number.isFinite(p.e) ? p.e : NaN, dof: nu(p) };
  }
  let num = 0, den = 0;
  for (const p of pts) if (nu(p) > 0 && Number.isFinite(p.e)) { num += nu(p) * p.N * p.n * p.e * p.e; den += nu(p); }
  const sigma = den > 0 ? Math.sqrt(num / den) : 0;
  const eff = pts.map((p) => Math.max(Number.isFinite(p.e) ? p.e : 0, sigma / Math.sqrt(p.N * p.n)));
  let S = 0, Sx = 0, Sxx = 0;
  for (const p of pts) { const w = p.N * p.n, x = 1 / p.N; S += w; Sx += w * x; Sxx += w * x * x; }
  const det = S * Sxx - Sx * Sx;
  const c = pts.map((p) => (p.N * p.n * (Sxx - Sx / p.N)) / det);
  const cb = pts.map((p) => (p.N * p.n * (S / p.N - Sx)) / det);
  const a = pts.reduce((s, p, i) => s + c[i] * p.v, 0);
  const b = pts.reduce((s, p, i) => s + cb[i] * p.v, 0);
  const e = Math.sqrt(pts.reduce((s, _, i) => s + (c[i] * eff[i]) ** 2, 0));
  const dof = welchDof(pts.map((p, i) => [(c[i] * eff[i]) ** 2, nu(p)]));
  let misfit: string | undefined;
  if (pts.length >= 3) {
    // is a + b/N an adequate description of the per-N means?
    let chi2 = 0;
    for (let i = 0; i < pts.length; i++) {
      const r = pts[i].v - a - b / pts[i].N;
      if (Math.abs(r) <= 1e-12 * (Math.abs(pts[i].v) + Math.abs(a))) continue; // rounding of an exact fit
      chi2 += eff[i] > 0 ? (r / eff[i]) ** 2 : Infinity;
    }
    const k = pts.length - 2;
    if (1 - chiSquareCdf(chi2, k) < level) misfit = `the finite-size trend is not a + b/N (χ² = ${chi2.toPrecision(3)} for ${k} degree${k > 1 ? 's' : ''} of freedom)`;
  }
  return { v: a, e, dof, misfit };
}

/** Compare theory with simulations at one or several N (one round of the adaptive check). */
export function compareRound(theory: SolveResult, sims: SimLike[], opts: CompareOptions & { times?: number[] } = {}): Comparison {
  const alpha = opts.alpha ?? 0.01, target = opts.target ?? 0.02, round = opts.round ?? 0;
  const sorted = [...sims].sort((a, b) => a.N - b.N);
  const ks = keys(theory, sorted[0], opts.times, target);
  const k = Math.max(1, ks.length);
  const level = alpha / 2 ** (round + 1) / k;
  const multiN = sorted.length >= 2;
  const step = opts.step;

  interface Partial { key: Key; est: Estimate; perN: PerN[]; drift?: Estimate; stepD?: { v: number; e: number; n: number } }
  const parts: Partial[] = [];
  for (const key of ks) {
    const perN: PerN[] = [];
    const pts: { N: number; n: number; v: number; e: number; dof?: number }[] = [];
    const dpts: { N: number; n: number; v: number; e: number; dof?: number }[] = [];
    for (const s of sorted) {
      const r = key.read(s);
      const v = r?.v ?? NaN, e = r?.e ?? NaN, n = r?.n ?? s.seeds, dof = r?.n !== undefined ? r.dof : s.dof;
      perN.push({ N: s.N, seeds: n, sim: v, simErr: e });
      pts.push({ N: s.N, n, v, e, dof });
      if (key.drift) { const d = key.drift(s); dpts.push({ N: s.N, n, v: d?.v ?? NaN, e: d?.e ?? NaN, dof }); }
    }
    const est = pts.some((p) => !Number.isFinite(p.v)) ? { v: NaN, e: NaN, dof: 1 } : extrapolate(pts, level);
    const drift = key.drift ? (dpts.some((p) => !Number.isFinite(p.v)) ? { v: NaN, e: NaN, dof: 1 } : extrapolate(dpts, level)) : undefined;
    const sd = step ? key.read(step.diff) : undefined;
    parts.push({ key, est, perN, drift, stepD: sd && Number.isFinite(sd.v) ? { v: sd.v, e: Number.isFinite(sd.e) ? sd.e : 0, n: step!.diff.seeds } : undefined });
  }

  // the observable's magnitude, and whether the theory says it is exactly zero
  const scaleOf = new Map<string, number>(), zeroOf = new Map<string, boolean>();
  for (const p of parts) {
    const m = Math.max(Number.isFinite(p.key.theory) ? Math.abs(p.key.theory) : 0, Number.isFinite(p.est.v) ? Math.abs(p.est.v) : 0);
    scaleOf.set(p.key.observable, Math.max(scaleOf.get(p.key.observable) ?? 0, m));
  }
  for (const [name] of scaleOf) {
    const mine = parts.filter((p) => p.key.observable === name);
    const simMag = Math.max(0, ...mine.map((p) => (Number.isFinite(p.est.v) ? Math.abs(p.est.v) + (p.est.e || 0) : 0)));
    zeroOf.set(name, mine.every((p) => (p.key.theory === 0 && p.key.theoryErr === 0) || Math.abs(p.key.theory) + p.key.theoryErr <= 1e-10 * simMag));
  }

  const rows: CheckRow[] = parts.map(({ key, est, perN, drift: simDrift, stepD }) => {
    const scale = scaleOf.get(key.observable)!;
    const zero = zeroOf.get(key.observable)!;
    // t → ∞ with the theory's transient over the late window: its remaining
    // relaxation there is known exactly and replaces the simulation's drift
    const win = key.win;
    const drift = win ? undefined : simDrift;
    const stepBias = stepD ? 2 * Math.abs(stepD.v) : 0;
    const stepErr = stepD ? 2 * stepD.e : 0;
    const terms: [number, number][] = [[est.e ** 2, est.dof], [key.theoryErr ** 2, Infinity]];
    if (stepD) terms.push([stepErr ** 2, Math.max(1, stepD.n - 1)]);
    const S = Math.sqrt(terms.reduce((s, t) => s + t[0], 0));
    const dof = welchDof(terms);
    const crit = studentQuantile(1 - level / 2, dof);
    // the remaining relaxation after the last window: a drift within its errors
    // is allowed for as it is; a significant one twice (a geometric approach
    // with ratio ≤ 2/3 per window leaves at most twice the last drift to go)
    const driftSignificant = !!drift && Math.abs(drift.v) > studentQuantile(1 - level / 2, drift.dof) * drift.e;
    const driftAllow = drift && Number.isFinite(drift.v) ? (driftSignificant ? 2 : 1) * Math.abs(drift.v) : 0;
    // how far the theory's transient may still move after the window: its
    // own distance to its limit, unless that is more than a geometric approach
    // (ratio ≤ 2/3 per window) could still cover — twice the theory's drift
    // between the two windows. A limit inconsistent with the settled transient
    // then shows as a difference between the simulation and the limit.
    const relaxAllow = win && key.kind === 'limit' ? Math.min(Math.abs(win.relaxation), 2 * Math.abs(win.drift)) : 0;
    const threshold = crit * S + stepBias + driftAllow + relaxAllow;
    const diff = est.v - key.theory;
    const detectable = scale > 0 ? threshold / scale : Infinity;
    const row: CheckRow = {
      observable: key.observable, kind: key.kind, t: key.t, N: multiN ? 'N→∞' : sorted[0].N,
      theory: key.theory, theoryErr: key.theoryErr, sim: est.v, simErr: est.e, diff, scale, threshold, detectable, crit, dof, stepBias,
      allowance: stepBias + driftAllow + relaxAllow,
      ...(simDrift ? { drift: simDrift.v, driftErr: simDrift.e } : {}),
      ...(win ? { theoryWindow: win.mean, relaxation: win.relaxation, theoryDrift: win.drift } : {}),
      verdict: 'inconclusive', growable: false, perN,
    };
    if (!Number.isFinite(key.theory) || !Number.isFinite(key.theoryErr)) {
      row.reason = 'the theory has no finite value or error here';
      return row;
    }
    if (!Number.isFinite(est.v) || !Number.isFinite(threshold)) {
      row.reason = Number.isFinite(est.v) ? 'too few seeds for an error estimate' : 'no simulation value at this point';
      row.growable = Number.isFinite(est.v);
      return row;
    }
    if (drift) {
      if (!Number.isFinite(drift.v) || (driftSignificant && driftAllow > (target * scale) / 2)) {
        row.reason = 'the simulation has not settled: it drifts between the last two late-time windows (raise --T-limit)';
        return row;
      }
      if (drift.misfit) { row.reason = `late-time drift: ${drift.misfit}`; return row; }
    }
    if (est.misfit) { row.reason = est.misfit; return row; }
    if (Math.abs(diff) > threshold) { row.verdict = 'disagree'; return row; }
    if (zero) { row.verdict = 'zero'; row.reason = 'the theory is exactly zero: compared in absolute terms'; return row; }
    if (detectable <= target) { row.verdict = 'agree'; return row; }
    // inconclusive: which part of the threshold keeps it above the target?
    const room = target * scale;
    // (the reasons carry no numbers, so that the table can group rows by reason)
    if (crit * key.theoryErr >= room) row.reason = "the theory's own error bar, at this confidence, is above the target: more seeds cannot help";
    else if (stepBias + crit * stepErr >= room) row.reason = "the simulation's step bias is above the target: lower --dt";
    else if (driftAllow >= room) { row.reason = 'the late-time drift (within its errors) is above the target: more seeds, or a longer --T-limit'; row.growable = true; }
    else if (relaxAllow >= room) row.reason = "the theory's own transient has not settled by the late window (its remaining relaxation is above the target): raise --T-limit";
    else { row.reason = 'the detectable difference is above the target: more seeds needed'; row.growable = true; }
    return row;
  });

  const verdict: Verdict = rows.length === 0 ? 'inconclusive'
    : rows.some((r) => r.verdict === 'disagree') ? 'disagree'
      : rows.every((r) => r.verdict === 'agree' || r.verdict === 'zero') ? 'agree' : 'inconclusive';
  return { rows, levelPerComparison: level, verdict };
}

export function fmtNum(x: number, d = 5): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(d - 2) : x.toFixed(d);
}
