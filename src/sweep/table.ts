// The sweep's table in its three forms: readable text, CSV and JSON
// (formats: docs/json.md, docs/sweep.md). One row per grid point, in grid order.
import { csvTable } from '../csv.ts';
import type { Axis } from './grid.ts';
import type { LimitCell, PointOutcome, PointSpec, TimesCell } from './point.ts';

export interface SweepResult {
  model: string;
  file: string;
  /** the grid's parameters, as given with --set (fixed ones included) */
  axes: Axis[];
  spec: PointSpec;
  /** the one-time observables, in the model's order */
  observables: string[];
  rows: PointOutcome[];
}

export const sweepMode = (spec: PointSpec): 'limit' | 'times' => (spec.times ? 'times' : 'limit');

/** The observables that appear in any row, in order of appearance. */
export function observablesOf(rows: PointOutcome[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.values)) seen.add(k);
  return [...seen];
}

const nul = (v: number | null | undefined): number | null => (v !== null && v !== undefined && Number.isFinite(v) ? v : null);

/** The JSON of `dmft sweep --json`. */
export function sweepJson(s: SweepResult): unknown {
  const mode = sweepMode(s.spec);
  return {
    model: s.model,
    file: s.file,
    mode,
    ...(s.spec.times ? { times: s.spec.times } : {}),
    parameters: s.axes.map((a) => ({ name: a.name, kind: a.kind, values: a.values })),
    options: { T: s.spec.T, dt: s.spec.dt, method: s.spec.method ?? null },
    observables: s.observables,
    points: s.rows.length,
    failed: s.rows.filter((r) => r.status !== 'ok').length,
    rows: s.rows.map((r) => ({
      params: { ...r.point },
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      method: r.method ?? null,
      seconds: r.seconds,
      values: Object.fromEntries(s.observables.filter((k) => k in r.values).map((k) => {
        const c = r.values[k];
        if (mode === 'times') {
          const t = c as TimesCell;
          return [k, { value: t.value.map(nul), error: t.error.map(nul) }];
        }
        const l = c as LimitCell;
        return [k, { value: nul(l.value), error: nul(l.error), status: l.status, ...(l.reason ? { reason: l.reason } : {}) }];
      })),
    })),
  };
}

/** The columns of the observables: limit mode `q, q_error, q_status`; times mode `q@t, q@t_error`. */
function obsColumns(s: SweepResult): { head: string; cell: (r: PointOutcome) => string | number | null }[] {
  const cols: { head: string; cell: (r: PointOutcome) => string | number | null }[] = [];
  for (const k of s.observables) {
    if (s.spec.times) {
      s.spec.times.forEach((t, j) => {
        cols.push({ head: `${k}@${t}`, cell: (r) => (r.values[k] as TimesCell | undefined)?.value[j] ?? null });
        cols.push({ head: `${k}@${t}_error`, cell: (r) => (r.values[k] as TimesCell | undefined)?.error[j] ?? null });
      });
    } else {
      cols.push({ head: k, cell: (r) => (r.values[k] as LimitCell | undefined)?.value ?? null });
      cols.push({ head: `${k}_error`, cell: (r) => (r.values[k] as LimitCell | undefined)?.error ?? null });
      cols.push({ head: `${k}_status`, cell: (r) => (r.values[k] as LimitCell | undefined)?.status ?? null });
    }
  }
  return cols;
}

/** The CSV of `dmft sweep --csv`: a header, then one line per point. */
export function sweepCsv(s: SweepResult): string {
  const names = s.axes.map((a) => a.name);
  const obs = obsColumns(s);
  const head = [...names, ...obs.map((c) => c.head), 'status', 'method', 'reason'];
  return csvTable(head, s.rows.map((r) => [...names.map((n) => r.point[n]), ...obs.map((c) => c.cell(r) ?? undefined), r.status, r.method, r.reason]));
}

const num = (v: number | null | undefined, digits = 7) => (v !== null && v !== undefined && Number.isFinite(v) ? String(+v.toPrecision(digits)) : '—');
const err = (e: number | null | undefined) => (e !== null && e !== undefined && Number.isFinite(e) ? e.toExponential(1) : '—');

/** The readable table: fixed parameters above, one line per point, the reasons of failed points below. */
export function sweepText(s: SweepResult): string {
  const lines: string[] = [`${s.model}  (${s.file})`];
  const fixed = s.axes.filter((a) => a.values.length === 1);
  const swept = s.axes.filter((a) => a.values.length > 1);
  if (fixed.length) lines.push(`fixed: ${fixed.map((a) => `${a.name} = ${a.values[0]}`).join(', ')}`);
  lines.push(s.spec.times ? `values at t = ${s.spec.times.join(', ')} (T = ${s.spec.T})` : `t → ∞ values (T = ${s.spec.T} for the transient)`);
  const head = [...swept.map((a) => a.name)];
  const cells: ((r: PointOutcome) => string)[] = swept.map((a) => (r) => num(r.point[a.name], 6));
  for (const k of s.observables) {
    if (s.spec.times) {
      s.spec.times.forEach((t, j) => {
        head.push(`${k}(${t}) ± error`);
        cells.push((r) => { const c = r.values[k] as TimesCell | undefined; return c ? `${num(c.value[j])} ± ${err(c.error[j])}` : '—'; });
      });
    } else {
      head.push(`${k} ± error`);
      cells.push((r) => { const c = r.values[k] as LimitCell | undefined; return !c ? '—' : c.value === null ? c.status : `${num(c.value, 10)} ± ${err(c.error)}`; });
    }
  }
  head.push('status');
  cells.push((r) => r.status);
  const body = s.rows.map((r) => cells.map((f) => f(r)));
  const width = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const fmtRow = (row: string[]) => row.map((c, i) => c.padStart(width[i])).join('   ');
  lines.push('', fmtRow(head), ...body.map(fmtRow));
  const failed = s.rows.map((r, i) => ({ r, i })).filter(({ r }) => r.status !== 'ok');
  lines.push('', `${s.rows.length - failed.length} of ${s.rows.length} points ok${failed.length ? `, ${failed.length} failed:` : ''}`);
  for (const { r, i } of failed) {
    const at = swept.map((a) => `${a.name} = ${r.point[a.name]}`).join(', ');
    lines.push(`  row ${i + 1}${at ? ` (${at})` : ''}: ${r.reason ?? 'failed'}`);
  }
  return lines.join('\n') + '\n';
}
