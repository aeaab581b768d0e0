// Line plots as SVG, rendered in Node by Vega (a Vega-Lite spec compiled to
// Vega, drawn by `view.toSVG()`; no browser, no canvas, no network). One panel
// per quantity, stacked; in each, one curve per series with its points, and
// the error as a band (many points) or as bars (few points) where it is visible
// at the panel's scale. A missing value (a failed point) breaks the curve
// instead of being bridged. Knows nothing about DMFT: the sweep and the later
// HTML report give it numbers.
import type { TopLevelSpec } from 'vega-lite';
import { vegaLiteSvg } from './svg.ts';

export interface Point { x: number; y: number | null; error?: number | null }
/** 'line' (default): points joined by a line; 'points': markers only (measurements, e.g. a simulation next to a theory curve). */
export interface Curve { label: string; points: Point[]; style?: 'line' | 'points' }
export interface Panel { title: string; yLabel: string; curves: Curve[] }
export interface LineFigure {
  xLabel: string;
  /** logarithmic x axis (positive x only) */
  xLog?: boolean;
  /** what the curves' labels name (the legend's title); no legend for a single unlabelled curve */
  legendTitle?: string;
  panels: Panel[];
  width?: number;
  height?: number;
}

/** A title Vega can show. Vega fails ("Operator not defined") on a title that
 *  is exactly the name of an Object.prototype member (toString, constructor,
 *  __proto__ — legal parameter and observable names): such a title gets a
 *  zero-width space appended, which shows nothing. */
export function safeTitle(s: string): string {
  return s === '__proto__' || Object.prototype.hasOwnProperty.call(Object.prototype, s) ? `${s}\u200b` : s;
}

/** An error is drawn when it spans at least this fraction of the panel's y range. */
export const VISIBLE_ERROR = 2e-3;
/** Up to this many points per curve the error is drawn as bars, beyond as a band. */
const BARS_UP_TO = 12;

interface Row { x: number; y: number; lo: number; hi: number; curve: string; segment: string; markers: boolean; band: boolean }

/** The rows of one panel: curves split into segments at missing values; each row knows whether its curve is
 *  drawn as markers and whether its error is a band (a line of many points) or bars. */
function panelRows(p: Panel): { rows: Row[]; errorRows: Row[] } {
  const rows: Row[] = [];
  for (const c of p.curves) {
    let seg = 0;
    const markers = c.style === 'points';
    const band = !markers && c.points.length > BARS_UP_TO;
    for (const pt of c.points) {
      if (pt.y === null || !Number.isFinite(pt.y) || !Number.isFinite(pt.x)) { seg++; continue; }
      const e = pt.error !== null && pt.error !== undefined && Number.isFinite(pt.error) ? Math.abs(pt.error) : 0;
      rows.push({ x: pt.x, y: pt.y, lo: pt.y - e, hi: pt.y + e, curve: c.label, segment: `${c.label} · part ${seg + 1}`, markers, band });
    }
  }
  const ys = rows.flatMap((r) => [r.lo, r.hi]);
  const span = ys.length ? Math.max(...ys) - Math.min(...ys) : 0;
  const scale = span > 0 ? span : Math.max(1e-300, ...rows.map((r) => Math.abs(r.y)));
  const errorRows = rows.filter((r) => r.hi - r.lo >= VISIBLE_ERROR * scale);
  return { rows, errorRows };
}

/** The Vega-Lite spec of a figure (exported for tests and for the HTML report). */
export function lineFigureSpec(fig: LineFigure): TopLevelSpec {
  const legend = fig.legendTitle !== undefined || fig.panels.some((p) => p.curves.length > 1);
  const x = { field: 'x', type: 'quantitative' as const, title: safeTitle(fig.xLabel), scale: fig.xLog ? { type: 'log' as const } : { zero: false } };
  const color = legend
    ? { field: 'curve', type: 'nominal' as const, title: fig.legendTitle !== undefined ? safeTitle(fig.legendTitle) : null, sort: null }
    : { value: '#4c78a8' };
  const panels = fig.panels.map((p) => {
    const { rows, errorRows } = panelRows(p);
    const y = { field: 'y', type: 'quantitative' as const, title: safeTitle(p.yLabel), scale: { zero: false } };
    const layers: object[] = [];
    const err = { x, y: { field: 'lo', type: 'quantitative' as const, title: safeTitle(p.yLabel) }, y2: { field: 'hi' }, color, detail: { field: 'segment' } };
    const bands = errorRows.filter((r) => r.band), bars = errorRows.filter((r) => !r.band);
    if (bands.length) layers.push({ data: { values: bands }, mark: { type: 'errorband', opacity: 0.25 }, encoding: err });
    if (bars.length) layers.push({ data: { values: bars }, mark: { type: 'errorbar', ticks: true }, encoding: err });
    const lines = rows.filter((r) => !r.markers), markers = rows.filter((r) => r.markers);
    // markers on a line only when its points are few enough to be seen one by one
    const dense = lines.length > 0 && lines.every((r) => r.band);
    if (lines.length) layers.push({ data: { values: lines }, mark: { type: 'line', point: dense ? false : { size: 18 }, strokeWidth: 1.5 }, encoding: { x, y, color, detail: { field: 'segment' }, order: { field: 'x' } } });
    if (markers.length) layers.push({ data: { values: markers }, mark: { type: 'point', filled: true, size: 40, shape: 'diamond' }, encoding: { x, y, color } });
    return { title: safeTitle(p.title), width: fig.width ?? 420, height: fig.height ?? 240, layer: layers };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    // no per-point ARIA labels (most of the SVG's size otherwise); legend labels long enough for "simulation N = 2000 (8 seeds)"
    config: { font: 'sans-serif', axis: { grid: true, gridOpacity: 0.5 }, legend: { orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1, labelLimit: 360 }, aria: false },
    vconcat: panels,
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** Render a figure to a standalone SVG document. */
export function lineFigureSvg(fig: LineFigure): Promise<string> {
  return vegaLiteSvg(lineFigureSpec(fig));
}
