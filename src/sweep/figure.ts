// The sweep's plot: each observable against the first swept parameter, one
// curve per value of the other swept parameters (src/plot draws it).
import type { Curve, LineFigure, Panel } from '../plot/lines.ts';
import { sweptAxes } from './grid.ts';
import type { LimitCell, TimesCell } from './point.ts';
import type { SweepResult } from './table.ts';

/** The figure of a sweep; undefined when nothing is swept. */
export function sweepFigure(s: SweepResult): LineFigure | undefined {
  const swept = sweptAxes(s.axes);
  if (!swept.length) return undefined;
  const [xAxis, ...others] = swept;
  const curveKey = (p: Record<string, number>) => others.map((a) => `${a.name} = ${p[a.name]}`).join(', ');
  // rows of one curve, in grid order (the first swept parameter varies fastest)
  const groups = new Map<string, typeof s.rows>();
  for (const r of s.rows) {
    const k = curveKey(r.point);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const panels: Panel[] = [];
  const series = (pick: (r: (typeof s.rows)[number]) => { y: number | null; error: number | null }): Curve[] =>
    [...groups].map(([label, rows]) => ({ label: label || s.model, points: rows.map((r) => ({ x: r.point[xAxis.name], ...pick(r) })) }));
  for (const k of s.observables) {
    if (s.spec.times) {
      s.spec.times.forEach((t, j) => {
        panels.push({ title: `${k} at t = ${t}`, yLabel: k, curves: series((r) => { const c = r.values[k] as TimesCell | undefined; return { y: c?.value[j] ?? null, error: c?.error[j] ?? null }; }) });
      });
    } else {
      panels.push({ title: `${k} (t → ∞)`, yLabel: k, curves: series((r) => { const c = r.values[k] as LimitCell | undefined; return { y: c?.value ?? null, error: c?.error ?? null }; }) });
    }
  }
  return { xLabel: xAxis.name, xLog: xAxis.kind === 'log', ...(others.length ? { legendTitle: others.map((a) => a.name).join(', ') } : {}), panels };
}
