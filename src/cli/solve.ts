// `dmft solve MODEL [--set k=v]… [--T 50] [--dt 0.05] [--times 0.5,1,2]
//  [--method gaussian|mc|static|stationary] [--json] [-o FILE] [--quiet]`: derive
// the DMFT equations and solve them; a readable table, or JSON (docs/json.md).
import { DmftError } from '../errors.ts';
import { deriveCavity } from '../derive/cavity.ts';
import { loadModel } from '../model/load.ts';
import { METHODS, solve } from '../solve/index.ts';
import type { SolveResult } from '../solve/types.ts';
import { explainFailure, validateResult } from '../solve/validate-result.ts';
import { maxBytesOption, numberList, positive } from './options.ts';
import { progressReporter } from './progress.ts';
import { describeSolveNotes } from './describe.ts';
import { csvTable, type Cell } from '../csv.ts';
import { methodInWords } from '../solve/method-words.ts';

export interface SolveCliOptions {
  set?: Record<string, number>;
  T?: string; dt?: string; times?: string; method?: string;
  json?: boolean; csv?: boolean; maxBytes?: string; quiet?: boolean;
}

export const SOLVE_DEFAULTS = { T: 50, dt: 0.05, maxSteps: 400 } as const;

/** Parse and check the options (exported for tests). */
export function solveOptions(o: SolveCliOptions): { T: number; dt: number; times?: number[]; method?: string } {
  const times = numberList('times', o.times);
  for (const t of times ?? []) if (t < 0) throw new DmftError({ message: `--times: ${t} is negative`, hint: 'times run from 0 to --T' });
  const T = positive('T', o.T, times?.length ? Math.max(...times) || SOLVE_DEFAULTS.T : SOLVE_DEFAULTS.T);
  // two-time solvers cost O((T/dt)³): by default keep the grid to ≤ 400 steps;
  // Richardson extrapolation keeps the error far below the reported accuracy
  const dt = positive('dt', o.dt, Math.min(Math.max(SOLVE_DEFAULTS.dt, T / SOLVE_DEFAULTS.maxSteps), T / 2));
  if (dt > T) throw new DmftError({ message: `--dt ${dt} is larger than --T ${T}`, hint: 'the time step must be smaller than the final time' });
  if (times) {
    for (const t of times) {
      if (t < 0) throw new DmftError({ message: `--times: ${t} is negative`, hint: 'times run from 0 to --T' });
      if (t > T) throw new DmftError({ message: `--times: ${t} is past --T ${T}`, hint: `raise --T to at least ${t}, or drop --T (it defaults to the last time)` });
    }
  }
  if (o.method !== undefined && !(METHODS as readonly string[]).includes(o.method)) {
    throw new DmftError({ message: `--method ${o.method}: unknown method`, expected: METHODS.join(' | ') });
  }
  return { T, dt, times, method: o.method };
}

export function solveAction(out: (s: string) => void) {
  return async (file: string, o: SolveCliOptions): Promise<void> => {
    const opts = solveOptions(o);
    const model = loadModel(file, o.set ?? {}, { maxBytes: maxBytesOption(o.maxBytes) });
    const sys = deriveCavity(model).system;
    const prog = progressReporter({ quiet: o.quiet, command: 'solve' });
    let r: SolveResult;
    try {
      // no --T and no --times: only t → ∞ is asked (a forced limit method then skips the transient)
      const limitOnly = o.T === undefined && o.times === undefined;
      r = solve(sys, { params: sys.params, T: opts.T, dt: opts.dt, times: opts.times, method: opts.method, limitOnly, progress: prog.report });
    } catch (e) {
      throw explainFailure(e, sys);
    } finally {
      prog.done();
    }
    validateResult(r, sys, model.file);
    out(o.json ? JSON.stringify(solveJson(r), null, 2) + '\n' : o.csv ? solveCsv(r) : solveTable(r, file));
  };
}

/** The JSON of `dmft solve --json` (non-finite numbers become null). */
export function solveJson(r: SolveResult): unknown {
  return JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

/**
 * `dmft solve --csv`: observable, t, value, error, status, note: one row per
 * one-time observable and grid time, then its t → ∞ row (t = inf) with the
 * limit's status (value, marginal, divergent, absent, branches) and reason.
 * Two-time observables and branches are in --json only.
 */
export function solveCsv(r: SolveResult): string {
  const rows: Cell[][] = [];
  const status = r.limitStatus ?? {};
  // a limit-only solve (--method static without --T/--times) has t → ∞ rows only
  const names = [...new Set([...Object.keys(r.observables), ...Object.keys(status)])];
  for (const name of names) {
    (r.observables[name] ?? []).forEach((v, i) => rows.push([name, r.t[i], v, r.error[name]?.[i], '', '']));
    const st = status[name];
    if (st || (r.limit && name in r.limit)) rows.push([name, Infinity, r.limit?.[name], r.limitError?.[name], st?.status ?? 'value', st?.reason ?? '']);
  }
  return csvTable(['observable', 't', 'value', 'error', 'status', 'note'], rows);
}

const num = (v: number, digits = 7) => (Number.isFinite(v) ? String(+v.toPrecision(digits)) : '—');
const err = (e: number | undefined) => (e !== undefined && Number.isFinite(e) ? e.toExponential(1) : '—');

/** The readable table of a solve. */
export function solveTable(r: SolveResult, file: string): string {
  const lines: string[] = [];
  lines.push(`${r.model}  (${file})`);
  const ps = Object.entries(r.params).map(([k, v]) => `${k} = ${v}`).join(', ');
  if (ps) lines.push(`parameters: ${ps}`);
  lines.push(`method: ${r.method} (${methodInWords(r.method, r.diagnostics?.exactPopulations)})`);
  // sampled errors are standard errors, not bounds: say so where they are printed
  if (/^(montecarlo|mc)\b/.test(r.method)) lines.push('errors: one standard error of the sampling, with the time-step and finite-path errors added (the exact value lies within ±2 errors about 95% of the time)');
  const names = Object.keys(r.observables);
  if (names.length && r.t.length) {
    // at most ~21 rows: every k-th grid time, always the last
    const n = r.t.length;
    const step = Math.max(1, Math.ceil((n - 1) / 20));
    const rows: number[] = [];
    for (let i = 0; i < n; i += step) rows.push(i);
    if (rows[rows.length - 1] !== n - 1) rows.push(n - 1);
    const head = ['t', ...names.map((x) => `${x} ± error`)];
    const body = rows.map((i) => [num(r.t[i], 6), ...names.map((x) => `${num(r.observables[x][i])} ± ${err(r.error[x]?.[i])}`)]);
    const width = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
    const fmtRow = (cells: string[]) => cells.map((c, i) => c.padStart(width[i])).join('   ');
    lines.push('');
    lines.push(fmtRow(head));
    for (const b of body) lines.push(fmtRow(b));
    if (rows.length < n) lines.push(`(${rows.length} of ${n} times shown; --json has all)`);
  }
  lines.push(...limitLines(r));
  for (const [k, tt] of Object.entries(r.twoTime ?? {})) lines.push(`two-time ${k}(t,s): ${tt.t.length}×${tt.t.length} matrix on t ∈ [${num(tt.t[0])}, ${num(tt.t[tt.t.length - 1])}] (see --json)`);
  for (const [k, tt] of Object.entries(r.tau ?? {})) lines.push(`stationary ${k}(τ): ${tt.tau.length} lags up to τ = ${num(tt.tau[tt.tau.length - 1])} (see --json)`);
  lines.push(...describeSolveNotes(r.diagnostics));
  const d = r.diagnostics;
  const show = (v: unknown) => (typeof v === 'number' ? String(+v.toPrecision(4)) : String(v));
  const brief = ['dt', 'finestDt', 'levels', 'scheme', 'seconds'].filter((k) => k in d).map((k) => `${k} = ${show(d[k])}`).join(', ');
  if (brief) lines.push(`diagnostics: ${brief}`);
  return lines.join('\n') + '\n';
}

/**
 * The t → ∞ block: one line per one-time observable with its value or its
 * status (marginal, divergent, absent, branches) and the reason, then every
 * branch when several fixed points were found.
 */
export function limitLines(r: SolveResult): string[] {
  const lines: string[] = [];
  const status = r.limitStatus ?? {};
  const names = [...new Set([...Object.keys(r.limit ?? {}), ...Object.keys(status)])];
  if (!names.length && !r.limitNote) return lines;
  lines.push('');
  lines.push('t → ∞:');
  const notes = new Set<string>();
  for (const k of names) {
    const st = status[k];
    if (r.limit && k in r.limit) {
      lines.push(`  ${k} = ${num(r.limit[k], 10)} ± ${err(r.limitError?.[k])}${st?.reason ? `   (${st.reason})` : ''}`);
    } else if (st) {
      lines.push(`  ${k}: ${st.status}${st.reason ? ` — ${st.reason}` : ''}`);
      if (st.reason) notes.add(st.reason);
    }
  }
  // the free-text note only when it says something the lines above do not
  if (r.limitNote && ![...notes].some((n) => r.limitNote!.includes(n))) lines.push(`  note: ${r.limitNote}`);
  if (r.branches?.length) {
    lines.push(`branches (${r.branches.length} states of the t → ∞ equations):`);
    r.branches.forEach((b, i) => {
      const vals = Object.entries(b.observables).map(([k, v]) => `${k} = ${num(v, 10)} ± ${err(b.errors[k])}`).join(', ');
      lines.push(`  ${i + 1}. ${b.stable ? 'stable' : 'unstable'}${b.reachedByTransient ? ' — the transient settles here' : ''}: ${vals}`);
      if (!b.stable) lines.push(`     ${b.stability}`);
    });
  }
  return lines;
}
