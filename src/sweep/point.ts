// One point of a sweep: the model's parameters at the point (the model's own
// checks run again, since a value can be invalid — a negative variance, a ratio
// ≤ 0), then the same solve, failure explanation and refusal of untrustworthy
// results as `dmft solve`, on the system derived once for the whole sweep.
// Whatever goes wrong becomes the point's reason; nothing is thrown.
import { DmftError, DmftErrors } from '../errors.ts';
import { deriveCavity } from '../derive/cavity.ts';
import type { DmftSystem } from '../derive/system.ts';
import { renameTimeParams } from '../derive/time-names.ts';
import type { Model } from '../model/ir.ts';
import { applyOverrides, validateModel } from '../model/validate.ts';
import { solve } from '../solve/index.ts';
import type { LimitStatusKind, SolveResult } from '../solve/types.ts';
import { explainFailure, validateResult } from '../solve/validate-result.ts';
import { table } from '../table.ts';

/** What every point is solved with (the options of `dmft solve`). */
export interface PointSpec {
  T: number;
  dt: number;
  method?: string;
  /** report values at these times; otherwise the t → ∞ limit */
  times?: number[];
}

/** The t → ∞ verdict of one observable at one point. */
export interface LimitCell { value: number | null; error: number | null; status: LimitStatusKind; reason?: string }
/** The values of one observable at the requested times. */
export interface TimesCell { value: (number | null)[]; error: (number | null)[] }

export interface PointOutcome {
  /** the grid point: the swept and fixed parameters as given with --set */
  point: Record<string, number>;
  /** ok: every requested value is a number; failed: see reason */
  status: 'ok' | 'failed';
  reason?: string;
  /** the solver used (as `dmft solve` reports it) */
  method?: string;
  /** per one-time observable: LimitCell (limit mode) or TimesCell (times mode) */
  values: Record<string, LimitCell | TimesCell>;
  seconds: number;
}

/** Everything a worker needs: the parsed model (with its source, for the checks) and the derived system. */
export interface SweepContext { model: Model; source: string; file: string; system: DmftSystem; spec: PointSpec }

/** The context of a sweep: the equations derived once, at the first point whose
 *  values the model accepts (the derivation is symbolic in the parameters);
 *  when no point is accepted, at the model's own values (every row then says
 *  why its point was refused). The local sweep and each Slurm task build it
 *  the same way, so both solve the same system. */
export function sweepContext(model: Model, source: string, file: string, points: Record<string, number>[], spec: PointSpec): SweepContext {
  let system: DmftSystem | undefined;
  for (const p of points) {
    let m: Model;
    try { m = validateModel(applyOverrides(model, p), source); } catch { continue; }
    system = deriveCavity(m).system;
    break;
  }
  if (!system) system = deriveCavity(validateModel(model, source)).system;
  return { model, source, file, system, spec };
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** The error text of a failure (a DmftError's message and hint, or any error's message). */
export function reasonOf(e: unknown): string {
  const one = (x: DmftError) => [x.info.message, x.info.hint ? `(${x.info.hint})` : ''].filter(Boolean).join(' ');
  if (e instanceof DmftErrors) return e.errors.map(one).join('; ');
  if (e instanceof DmftError) return one(e);
  return `internal error: ${String((e as Error)?.message ?? e)}`;
}

/** The parameters of the derived system at a point (model names → derived names, computed parameters recomputed). */
export function pointParams(ctx: Pick<SweepContext, 'model' | 'source'>, point: Record<string, number>): Record<string, number> {
  const m = validateModel(applyOverrides(ctx.model, point), ctx.source);
  return table(renameTimeParams(m).model.params.map((p) => [p.name, p.value] as const));
}

/** Read the requested values out of a result. */
export function cells(r: SolveResult, spec: PointSpec): { values: Record<string, LimitCell | TimesCell>; failed?: string } {
  const values = table<LimitCell | TimesCell>();
  // (a limit-only solve has no time series: its observables are the limit's)
  const names = [...new Set([...Object.keys(r.observables), ...Object.keys(r.limitStatus ?? {})])];
  if (spec.times) {
    const idx = spec.times.map((t) => r.t.findIndex((x) => Math.abs(x - t) <= 1e-9 * Math.max(1, spec.T)));
    for (const k of names) {
      values[k] = {
        value: idx.map((i) => (i >= 0 ? finite(r.observables[k][i]) : null)),
        error: idx.map((i) => (i >= 0 ? finite(r.error[k]?.[i]) : null)),
      };
    }
    const missing = spec.times.filter((_, j) => idx[j] < 0);
    if (missing.length) return { values, failed: `the solver reported no value at t = ${missing.join(', ')}` };
    return { values };
  }
  const failed: string[] = [];
  for (const k of names) {
    const st = r.limitStatus?.[k];
    const has = st?.status === 'value' && r.limit !== undefined && k in r.limit;
    const cell: LimitCell = { value: has ? finite(r.limit![k]) : null, error: has ? finite(r.limitError?.[k]) : null, status: st?.status ?? 'absent' };
    if (st?.reason) cell.reason = st.reason;
    values[k] = cell;
    if (cell.value === null) failed.push(`${k}: ${cell.status}${st?.reason ? ` — ${st.reason}` : ''}`);
  }
  return failed.length ? { values, failed: `no t → ∞ value for ${failed.join('; ')}` } : { values };
}

/** Solve one point; never throws. */
export function solvePoint(ctx: SweepContext, point: Record<string, number>, progress?: (label: string, fraction: number) => void): PointOutcome {
  const t0 = Date.now();
  const seconds = () => +((Date.now() - t0) / 1000).toFixed(3);
  let params: Record<string, number>;
  try {
    params = pointParams(ctx, point);
  } catch (e) {
    return { point, status: 'failed', reason: reasonOf(e), values: table(), seconds: seconds() };
  }
  // the system as `dmft solve --set …` derives it: the derivation is symbolic in
  // the parameters, which enter only as values
  const sys: DmftSystem = { ...ctx.system, params };
  let r: SolveResult;
  try {
    // limit mode reads only the t → ∞ values: a forced limit method may skip the transient
    r = solve(sys, { params, T: ctx.spec.T, dt: ctx.spec.dt, times: ctx.spec.times, method: ctx.spec.method, limitOnly: !ctx.spec.times, progress });
    validateResult(r, sys, ctx.file);
  } catch (e) {
    return { point, status: 'failed', reason: reasonOf(explainFailure(e, sys)), values: table(), seconds: seconds() };
  }
  const c = cells(r, ctx.spec);
  return { point, status: c.failed ? 'failed' : 'ok', ...(c.failed ? { reason: c.failed } : {}), method: r.method, values: c.values, seconds: seconds() };
}
