// The trust corpus: models of test/trust/models/ with independent references
// (test/trust/references.json, written by bench/trust/*.py), the settings each
// is solved with, and the judge that decides, row by row, whether the tool's
// answer covers the reference. Shared by test/trust/trust.test.ts and
// bench/trust.bench.ts.
//
// A row is one reference: an observable at a time, a two-time value, or the
// t → ∞ limit. Verdicts:
//   covered  |value − ref| ≤ reported error + reference uncertainty, or the
//            tool reported the status the reference expects (marginal,
//            divergent, the list of branches)
//   hedged   a limit the tool declined to give (absent / inconclusive, with a
//            note): not an answer, but not a wrong one either
//   wrong    a value whose error bar misses the reference, a value where the
//            reference says marginal / divergent / several branches, or a
//            status that contradicts the reference
//   missing  the observable or time is absent from the result
//   refused  load, derive or solve threw a DmftError / DmftErrors (a clear refusal)
//   crash    any other exception
import type { MonteCarloOptions } from '../../src/solve/montecarlo.ts';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { DmftError, DmftErrors } from '../../src/errors.ts';
import { loadModel } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';
import type { SolveResult } from '../../src/solve/types.ts';

export const TRUST_DIR = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// references.json

export interface RefPoint { t: number; value: number; unc: number }
export interface RefPoint2 { t: number; s: number; value: number; unc: number }
export interface RefBranch { value: number; unc: number; stable: boolean }
export interface RefLimit {
  value?: number;
  unc?: number;
  status?: 'marginal' | 'divergent' | 'branches';
  branches?: RefBranch[];
  /** index into branches of the state the transient converges to (null: an unstable one) */
  reached?: number | null;
  growthRate?: number;
  note?: string;
  provenance: string;
}
export interface RefObservable {
  transient?: { points: RefPoint[]; provenance: string };
  twoTime?: { points: RefPoint2[]; provenance: string };
  limit?: RefLimit;
}
export interface RefModel { file: string; observables: Record<string, RefObservable> }

export function loadReferences(): Record<string, RefModel> {
  return JSON.parse(readFileSync(join(TRUST_DIR, 'references.json'), 'utf8')).models;
}

// ---------------------------------------------------------------------------
// solve settings: cheap but adequate (T covers every reference time)

export interface Settings {
  T: number; dt: number; samples?: number;
  /** the suite's cheaper Monte Carlo work budget (multiply-adds; default 3e9) for the slowest models; the benchmark keeps the default */
  suiteWork?: number;
  /** the suite's larger Monte Carlo target standard error (relative; default 1e-2) */
  suiteTol?: number;
}
const DEFAULT: Settings = { T: 5, dt: 0.1 };
/** per-model settings where the default does not fit */
export const SETTINGS: Record<string, Settings> = {
  'linear-iid-marginal': { T: 10, dt: 0.2 },
  'linear-iid-edge-noise': { T: 10, dt: 0.2 },
  'linear-iid-unstable': { T: 4, dt: 0.1 },
  'linear-partial-unstable': { T: 8, dt: 0.2 },
  'linear-stiff-noise': { T: 0.02, dt: 0.0005 },
  'rate-stiff-decay': { T: 0.005, dt: 0.0001 },
  'linear-stiff-coarse': { T: 0.5, dt: 0.05 },
  'gf-alpha1-noisy': { T: 10, dt: 0.2 },
  'gf-alpha1-clean': { T: 10, dt: 0.2 },
  'rate-tanh-marginal': { T: 10, dt: 0.2 },
  // Monte Carlo transients (bounded or non-Gaussian states): short and few samples
  'lv-asym': { T: 2, dt: 0.1, samples: 1000 },
  'lv-antisym': { T: 2, dt: 0.1, samples: 1000 },
  'lv-symmetric': { T: 2, dt: 0.1, samples: 1000 },
  'lv-quenched-k': { T: 2, dt: 0.1, samples: 1000 },
  'rectified-antisym': { T: 2, dt: 0.1, samples: 1000 },
  'rectified-iid': { T: 2, dt: 0.1, samples: 1000 },
  'rectified-late': { T: 20, dt: 0.1, samples: 1000, suiteWork: 8e8 },
  'rate-tanh-bias-sym': { T: 2, dt: 0.1, samples: 1000 },
  'rate-tanh-bias-partial': { T: 2, dt: 0.1, samples: 1000, suiteTol: 0.03 },
};
export const settingsOf = (model: string): Settings => SETTINGS[model] ?? DEFAULT;

/** every time a reference asks for (one-time points and both times of two-time points) */
export function timesOf(ref: RefModel): number[] {
  const ts = new Set<number>();
  for (const o of Object.values(ref.observables)) {
    for (const p of o.transient?.points ?? []) ts.add(p.t);
    for (const p of o.twoTime?.points ?? []) { ts.add(p.t); ts.add(p.s); }
  }
  return [...ts].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------
// running one model

export type Outcome = { result: SolveResult; seconds: number } | { error: unknown; seconds: number };

export function runModel(model: string, ref: RefModel, suite = false): Outcome {
  const s = settingsOf(model);
  const t0 = performance.now();
  try {
    const sys = deriveCavity(loadModel(join(TRUST_DIR, '..', '..', ref.file))).system;
    const times = timesOf(ref);
    // (the options reach the Monte Carlo solver as they are: MonteCarloOptions extends SolveOptions)
    const opts: MonteCarloOptions = { params: sys.params, T: s.T, dt: s.dt, times: times.length ? times : undefined, samples: s.samples };
    if (suite && s.suiteWork) opts.maxWork = s.suiteWork;
    if (suite && s.suiteTol) opts.tol = s.suiteTol;
    const result = solve(sys, opts);
    return { result, seconds: (performance.now() - t0) / 1000 };
  } catch (error) {
    return { error, seconds: (performance.now() - t0) / 1000 };
  }
}

// ---------------------------------------------------------------------------
// the status adapter: what the tool says about t → ∞ for one observable

export type LimitStatus = 'value' | 'marginal' | 'divergent' | 'absent' | 'branches';
export interface LimitReading {
  status: LimitStatus;
  value?: number;
  error?: number;
  branches?: { value: number; error: number; stable?: boolean }[];
  note?: string;
}

/**
 * The t → ∞ statement of a result for one observable: its `limitStatus`
 * (value | marginal | divergent | absent | branches, with the reason) and,
 * where the solver found several fixed points, every branch with its value,
 * error and stability (docs/solve.md).
 */
export function statusOf(result: SolveResult, obs: string): LimitReading {
  const value = result.limit?.[obs];
  const error = result.limitError?.[obs];
  const st = result.limitStatus?.[obs];
  const note = st?.reason ?? result.limitNote;
  const branches = (result.branches ?? [])
    .filter((b) => obs in b.observables)
    .map((b) => ({ value: b.observables[obs], error: b.errors[obs] ?? 0, stable: b.stable }));
  if (st?.status === 'branches' || (branches.length > 1 && st?.status !== 'marginal' && st?.status !== 'divergent')) {
    return { status: 'branches', branches, value, error, note };
  }
  if (st) return { status: st.status, value, error, note };
  if (value !== undefined) return { status: 'value', value, error, note };
  return { status: 'absent', note };
}

/** what a thrown error says about t → ∞ (a refusal that names a divergence is a statement about the limit) */
function statusOfError(e: unknown): LimitReading {
  const msg = e instanceof Error ? e.message : String(e);
  if (/diverg|grows without bound|past its stability edge|unstable|blows up/i.test(msg)) return { status: 'divergent', note: msg };
  return { status: 'absent', note: msg };
}

// ---------------------------------------------------------------------------
// judging

export type Verdict = 'covered' | 'hedged' | 'wrong' | 'missing' | 'refused' | 'crash';
export interface Row {
  model: string;
  observable: string;
  /** 't = 1', 't,s = 2,1', 't → ∞' */
  at: string;
  ref: string;
  got: string;
  verdict: Verdict;
  why?: string;
}
export const rowId = (r: Pick<Row, 'model' | 'observable' | 'at'>) => `${r.observable} ${r.at}`;
export const PASS: readonly Verdict[] = ['covered', 'hedged'];

const fmt = (x: number | undefined): string => {
  if (x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? String(+x.toPrecision(8)) : x.toExponential(6);
};
const fmtE = (e: number | undefined): string => (e === undefined || !Number.isFinite(e) ? '—' : e === 0 ? '0' : e.toExponential(1));
const pm = (v: number | undefined, e: number | undefined) => `${fmt(v)} ± ${fmtE(e)}`;

function within(value: number | undefined, error: number | undefined, ref: number, unc: number): boolean {
  if (value === undefined || !Number.isFinite(value)) return false;
  const e = error !== undefined && Number.isFinite(error) && error >= 0 ? error : 0;
  return Math.abs(value - ref) <= e + unc;
}

function refLimitText(l: RefLimit): string {
  if (l.status === 'branches') return `branches ${l.branches!.map((b) => `${fmt(b.value)}${b.stable ? '' : ' (unstable)'}`).join(', ')}`;
  if (l.status === 'divergent') return 'divergent';
  if (l.status === 'marginal') return `marginal (→ ${fmt(l.value)})`;
  return pm(l.value, l.unc);
}

function gotLimitText(s: LimitReading): string {
  if (s.status === 'value') return pm(s.value, s.error);
  if (s.status === 'branches') return `branches ${s.branches!.map((b) => `${pm(b.value, b.error)}${b.stable === false ? ' (unstable)' : ''}`).join(', ')}`;
  return s.status;
}

function judgeLimit(ref: RefLimit, s: LimitReading): { verdict: Verdict; why?: string } {
  if (ref.status === 'branches') {
    const stable = ref.branches!.filter((b) => b.stable);
    if (s.status === 'branches') {
      const unmatched = stable.filter((b) => !s.branches!.some((x) => x.stable !== false && within(x.value, x.error, b.value, b.unc)));
      const spurious = s.branches!.filter((x) => x.stable !== false && !ref.branches!.some((b) => b.stable && within(x.value, x.error, b.value, b.unc)));
      if (!unmatched.length && !spurious.length) return { verdict: 'covered' };
      return { verdict: 'wrong', why: [unmatched.length ? `stable branch(es) ${unmatched.map((b) => fmt(b.value)).join(', ')} not reported` : '', spurious.length ? `reported stable branch(es) ${spurious.map((b) => fmt(b.value)).join(', ')} not stable states` : ''].filter(Boolean).join('; ') };
    }
    if (s.status === 'value') {
      const reached = ref.reached === null || ref.reached === undefined ? undefined : ref.branches![ref.reached];
      if (reached && reached.stable && within(s.value, s.error, reached.value, reached.unc)) return { verdict: 'covered', why: 'the branch the transient reaches' };
      if (reached && !reached.stable) return { verdict: 'wrong', why: `missing status: reports the unstable state the symmetric start sits on (${fmt(reached.value)}) as the limit, without saying it is unstable or naming the stable branches` };
      return { verdict: 'wrong', why: 'value matches no stable branch the transient reaches' };
    }
    if (s.status === 'absent') return { verdict: 'hedged', why: s.note };
    return { verdict: 'wrong', why: `reports ${s.status} for a state with several fixed points` };
  }
  if (ref.status === 'divergent') {
    if (s.status === 'divergent') return { verdict: 'covered' };
    if (s.status === 'absent') return { verdict: 'hedged', why: s.note };
    return { verdict: 'wrong', why: `missing status: reports ${s.status === 'value' ? `a finite limit ${pm(s.value, s.error)}` : s.status} where the solution grows without bound` };
  }
  if (ref.status === 'marginal') {
    if (s.status === 'marginal') return { verdict: 'covered' };
    if (s.status === 'value' && within(s.value, s.error, ref.value!, ref.unc ?? 0)) return { verdict: 'covered', why: 'value covers the true limit' };
    if (s.status === 'absent') return { verdict: 'hedged', why: s.note };
    return { verdict: 'wrong', why: s.status === 'value' ? `missing status: ${pm(s.value, s.error)} at a marginal point whose limit is ${fmt(ref.value)}` : `reports ${s.status} at a marginal point` };
  }
  // a finite, well-defined limit
  if (s.status === 'value') return within(s.value, s.error, ref.value!, ref.unc ?? 0) ? { verdict: 'covered' } : { verdict: 'wrong', why: `off by ${fmt(Math.abs(s.value! - ref.value!))}, ${fmtE(Math.abs(s.value! - ref.value!) / Math.max(s.error ?? 0, 1e-300))}× the error bar` };
  if (s.status === 'absent') return { verdict: 'hedged', why: s.note };
  if (s.status === 'branches') {
    const stable = s.branches!.filter((x) => x.stable !== false);
    return stable.length === 1 && within(stable[0].value, stable[0].error, ref.value!, ref.unc ?? 0) ? { verdict: 'covered' } : { verdict: 'wrong', why: 'reports several stable branches where the limit is unique' };
  }
  return { verdict: 'wrong', why: `reports ${s.status} where the limit is finite` };
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);

/** Judge every reference row of one model against the outcome of its solve. */
export function judge(model: string, ref: RefModel, out: Outcome): Row[] {
  const rows: Row[] = [];
  for (const [obs, o] of Object.entries(ref.observables)) {
    const add = (at: string, refText: string, got: string, v: { verdict: Verdict; why?: string }) => rows.push({ model, observable: obs, at, ref: refText, got, ...v });
    const failed = 'error' in out ? out.error : undefined;
    const failVerdict: Verdict = failed instanceof DmftError || failed instanceof DmftErrors ? 'refused' : 'crash';
    for (const p of o.transient?.points ?? []) {
      const at = `t = ${p.t}`;
      if (failed) { add(at, pm(p.value, p.unc), failVerdict, { verdict: failVerdict, why: errText(failed) }); continue; }
      const r = (out as { result: SolveResult }).result;
      const i = r.t.findIndex((t) => Math.abs(t - p.t) <= 1e-9 * Math.max(1, p.t));
      const v = i >= 0 ? r.observables[obs]?.[i] : undefined;
      const e = i >= 0 ? r.error[obs]?.[i] : undefined;
      if (v === undefined) { add(at, pm(p.value, p.unc), '—', { verdict: 'missing', why: `no ${obs} at t = ${p.t} in the result` }); continue; }
      add(at, pm(p.value, p.unc), pm(v, e), within(v, e, p.value, p.unc) ? { verdict: 'covered' } : { verdict: 'wrong', why: `off by ${fmt(Math.abs(v - p.value))}, ${fmtE(Math.abs(v - p.value) / Math.max(e ?? 0, 1e-300))}× the error bar` });
    }
    for (const p of o.twoTime?.points ?? []) {
      const at = `t,s = ${p.t},${p.s}`;
      if (failed) { add(at, pm(p.value, p.unc), failVerdict, { verdict: failVerdict, why: errText(failed) }); continue; }
      const tt = (out as { result: SolveResult }).result.twoTime?.[obs];
      const a = tt ? tt.t.findIndex((t) => Math.abs(t - p.t) <= 1e-9 * Math.max(1, p.t)) : -1;
      const b = tt ? tt.t.findIndex((t) => Math.abs(t - p.s) <= 1e-9 * Math.max(1, p.s)) : -1;
      if (!tt || a < 0 || b < 0) { add(at, pm(p.value, p.unc), '—', { verdict: 'missing', why: `no ${obs}(${p.t}, ${p.s}) in the result` }); continue; }
      const v = tt.values[a][b], e = tt.error?.[a]?.[b];
      add(at, pm(p.value, p.unc), pm(v, e), within(v, e, p.value, p.unc) ? { verdict: 'covered' } : { verdict: 'wrong', why: `off by ${fmt(Math.abs(v - p.value))}, ${fmtE(Math.abs(v - p.value) / Math.max(e ?? 0, 1e-300))}× the error bar` });
    }
    if (o.limit) {
      const at = 't → ∞';
      if (failed) {
        const s = statusOfError(failed);
        if (failed instanceof DmftError && s.status === 'divergent' && o.limit.status === 'divergent') add(at, refLimitText(o.limit), 'refused: divergent', { verdict: 'covered', why: errText(failed) });
        else add(at, refLimitText(o.limit), failVerdict, { verdict: failVerdict, why: errText(failed) });
        continue;
      }
      const s = statusOf((out as { result: SolveResult }).result, obs);
      add(at, refLimitText(o.limit), gotLimitText(s), judgeLimit(o.limit, s));
    }
  }
  return rows;
}

/** The markdown table of judged rows. */
export function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| model | observable | at | reference ± unc | value ± error | covered? | why |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.model} | ${r.observable} | ${r.at} | ${esc(r.ref)} | ${esc(r.got)} | ${r.verdict === 'covered' ? 'yes' : r.verdict === 'hedged' ? 'hedged' : `**no: ${r.verdict}**`} | ${esc(r.why ?? '')} |`);
  return lines.join('\n');
}
