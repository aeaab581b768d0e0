// `dmft check MODEL [--N 500,1000,2000] [--seeds 8] [--T 10] [--dt 0.05]
//  [--times …] [--target 2%] [--budget 120] [--max-seeds n] [--T-limit 40] [--no-limit]
//  [--no-step-check] [--no-controls] [--set k=v]… [--json]`: solve the derived DMFT, simulate
// the finite-N system, compare every observable (docs/check.md). Exit 0:
// agree, 1: disagree, 3: inconclusive (could not decide at the target within
// the budget), 2: bad input.
import { DmftError, EXIT } from '../errors.ts';
import { loadModelText, readModelText, type ModelText } from '../model/load.ts';
import { derive } from '../derive/index.ts';
import { checkModel, formatReport, type CheckReport, type CheckSettings } from '../check/index.ts';
import type { SolveResult } from '../solve/types.ts';
import { integer, maxBytesOption, numberList, positive } from './options.ts';
import { csvTable } from '../csv.ts';
import { progressReporter } from './progress.ts';

export interface CheckCliOptions {
  set?: Record<string, number>;
  /** parameters overridden for the theory only (a deliberately wrong theory: what would check notice?) */
  theorySet?: Record<string, number>;
  N?: string; seeds?: string; T?: string; dt?: string; times?: string; method?: string;
  target?: string; budget?: string; maxSeeds?: string; alpha?: string; TLimit?: string;
  /** commander's --no-limit / --no-step-check / --no-controls */
  limit?: boolean; stepCheck?: boolean; controls?: boolean;
  json?: boolean; csv?: boolean; maxBytes?: string; quiet?: boolean;
}

export const CHECK_DEFAULTS = { N: [1000], seeds: 8, T: 10, dt: 0.05, target: 0.02, budget: 120, alpha: 0.01, TLimitFactor: 4 } as const;

/** "2%" or "0.02" */
function fraction(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const m = /^\s*([0-9.eE+-]+)\s*(%?)\s*$/.exec(raw);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v > 0 && v < 1)) throw new DmftError({ message: `--${name} ${raw}: expected a fraction in (0, 1) or a percentage`, hint: `e.g. --${name} 2% or --${name} 0.02` });
  return v;
}

export function checkOptions(o: CheckCliOptions): CheckSettings {
  const Ns = numberList('N', o.N, '500,1000,2000') ?? [...CHECK_DEFAULTS.N];
  for (const n of Ns) if (!Number.isInteger(n) || n < 2) throw new DmftError({ message: `--N ${o.N}: every size must be an integer ≥ 2`, hint: 'e.g. --N 500,1000,2000' });
  const seeds = integer('seeds', o.seeds, CHECK_DEFAULTS.seeds, 3, 'standard errors from fewer seeds make a t-test all but powerless; 8 is the default');
  const times = numberList('times', o.times);
  const T = positive('T', o.T, times?.length ? Math.max(...times) : CHECK_DEFAULTS.T);
  const dt = positive('dt', o.dt, CHECK_DEFAULTS.dt);
  if (times?.some((t) => t < 0 || t > T)) throw new DmftError({ message: `--times must lie in [0, ${T}]`, hint: 'raise --T or drop the late times' });
  const TLimit = positive('T-limit', o.TLimit, CHECK_DEFAULTS.TLimitFactor * T);
  if (TLimit < T) throw new DmftError({ message: `--T-limit ${o.TLimit} is shorter than --T ${T}`, hint: 'the late-time windows lie in [T-limit/2, T-limit]; give a T-limit of at least T' });
  const budget = o.budget !== undefined && Number(o.budget) === 0 ? 0 : positive('budget', o.budget, CHECK_DEFAULTS.budget);
  const maxSeeds = o.maxSeeds === undefined ? undefined : integer('max-seeds', o.maxSeeds, seeds, seeds, `must be an integer ≥ --seeds (${seeds})`);
  return {
    Ns: [...new Set(Ns)].sort((a, b) => a - b), seeds, T, dt,
    times: times ?? [0.25, 0.5, 0.75, 1].map((f) => +(f * T).toFixed(6)),
    grid: [0, 0.25, 0.5, 0.75, 1].map((f) => +(f * T).toFixed(6)),
    target: fraction('target', o.target, CHECK_DEFAULTS.target), budget, maxSeeds, alpha: fraction('alpha', o.alpha, CHECK_DEFAULTS.alpha),
    limit: o.limit !== false, TLimit, TLimitAuto: o.TLimit === undefined, stepCheck: o.stepCheck !== false, controls: o.controls !== false, method: o.method,
  };
}

/** A map's times are steps: the default times, two-time grid and T-limit are
 *  put on the step grid (the late-time windows lie at T-limit·k/16, so the
 *  T-limit is rounded up to a multiple of 16); given times that are not steps
 *  are refused, as is --dt (a map steps once per unit of time); there is no
 *  step-size check (nothing to refine). Without --T-limit, the T-limit
 *  follows the theory's relaxation as for flows, in multiples of 16. */
export function mapCheckSettings(s: CheckSettings, o: CheckCliOptions): CheckSettings {
  if (o.dt !== undefined) throw new DmftError({ message: `--dt ${o.dt}: the dynamics are a map x(t+1) = …, which steps once per unit of time`, hint: 'leave --dt out; --T is the number of steps' });
  if (!Number.isInteger(s.T)) throw new DmftError({ message: `--T ${s.T}: the dynamics are a map x(t+1) = …, so T is a number of steps (an integer)`, hint: `e.g. --T ${Math.max(1, Math.round(s.T))}` });
  const steps = (ts: number[]) => [...new Set(ts.map(Math.round))].sort((a, b) => a - b);
  const bad = o.times !== undefined ? s.times.find((t) => !Number.isInteger(t)) : undefined;
  if (bad !== undefined) throw new DmftError({ message: `--times: ${bad} is not a step of the map`, hint: 'give integer times' });
  let TLimit = s.TLimit;
  if (o.TLimit === undefined) TLimit = 16 * Math.ceil(s.TLimit / 16);
  else if (s.limit && TLimit % 16 !== 0) throw new DmftError({ message: `--T-limit ${o.TLimit}: the late-time windows of a map must fall on steps (T-limit·k/16)`, hint: `give a multiple of 16, e.g. --T-limit ${16 * Math.ceil(TLimit / 16)}` });
  // a map has no time step, so the dt against dt/2 check would compare identical runs; without
  // --T-limit the horizon follows the theory's relaxation, on the step grid (checkModel)
  return { ...s, times: o.times !== undefined ? s.times : steps(s.times), grid: steps(s.grid), TLimit, TLimitAuto: o.TLimit === undefined, stepCheck: false, exactSteps: true };
}

/** Run the whole check (exported for tests; `adjustTheory` injects errors).
 *  The model is a path (or `-`), or its text already read. */
export async function runCheck(input: string | ModelText, o: CheckCliOptions, progress?: (s: string) => void, adjustTheory?: (r: SolveResult) => SolveResult, fraction?: (label: string, f: number) => void): Promise<CheckReport> {
  const base = checkOptions(o);
  // read once: the theory at --theory-set parameters is loaded from the same text (stdin cannot be read twice)
  const text = typeof input === 'string' ? readModelText(input, { maxBytes: maxBytesOption(o.maxBytes) }) : input;
  const model = loadModelText(text, o.set ?? {});
  const s = model.dynamics.some((d) => d.kind === 'map') ? mapCheckSettings(base, o) : base;
  const theorySet = o.theorySet ?? {};
  const sys = derive(Object.keys(theorySet).length ? loadModelText(text, { ...(o.set ?? {}), ...theorySet }) : model, 'cavity').system;
  return checkModel(model, sys, { ...s, adjustTheory }, progress, fraction);
}

/**
 * `dmft check --csv`: one row per comparison: observable, t (inf for the t → ∞
 * row), s (the second time of a two-time comparison), N (or N→∞ for the a + b/N
 * fit), theory ± error, simulation ± standard error, difference, the smallest
 * relative difference the row would flag, verdict and reason. The overall
 * verdict is the exit code (and --json).
 */
export function checkCsv(r: CheckReport): string {
  const rows = r.rows.map((w) => [
    w.observable, w.kind === 'limit' ? Infinity : w.t[0], w.t[1], w.N, w.theory, w.theoryErr, w.sim, w.simErr, w.diff, w.detectable, w.verdict, w.reason ?? '',
  ]);
  return csvTable(['observable', 't', 's', 'N', 'theory', 'theory_error', 'simulation', 'simulation_error', 'difference', 'detectable', 'verdict', 'reason'], rows);
}

export const exitCodeOf = (r: CheckReport): number => (r.verdict === 'disagree' ? EXIT.checkFailed : r.verdict === 'inconclusive' ? EXIT.inconclusive : EXIT.ok);

export function checkAction(out: (s: string) => void) {
  return async (file: string, o: CheckCliOptions): Promise<number> => {
    // the model is read once (a file or standard input) and routed by what it declares
    const text = readModelText(file, { maxBytes: maxBytesOption(o.maxBytes) });
    const m = loadModelText(text, o.set ?? {});
    // a model of matrices only: its spectrum against sampled matrices (docs/spectrum.md)
    if (!m.states.length && m.matrices?.length) {
      const { spectrumAction } = await import('./spectrum.ts');
      return spectrumAction(out)(text, { set: o.set, maxBytes: o.maxBytes, quiet: o.quiet, check: true, N: o.N, seeds: o.seeds, json: o.json, csv: o.csv, theorySet: o.theorySet });
    }
    // each stage of the check (solve, each size, the step check, each round of seeds) is a line on stderr
    const prog = progressReporter({ quiet: o.quiet, command: 'check' });
    const r = await runCheck(text, o, (s) => prog.note(s), undefined, prog.report).finally(prog.done);
    out(o.json ? JSON.stringify(r, null, 2) + '\n' : o.csv ? checkCsv(r) : formatReport(r));
    return exitCodeOf(r);
  };
}
