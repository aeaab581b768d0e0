// A two-time function as a heatmap SVG (Vega-Lite rect marks, rendered by
// Vega in Node): one cell per (t, s) grid point, a continuous colour scale
// with its legend. Knows nothing about DMFT.
import type { TopLevelSpec } from 'vega-lite';
import { vegaLiteSvg } from './svg.ts';

export interface Heatmap {
  title: string;
  xLabel: string;
  yLabel: string;
  /** grid along each axis (ascending) */
  x: number[];
  y: number[];
  /** z[i][j] at (x[j], y[i]); null or non-finite cells are left empty */
  z: (number | null)[][];
  zLabel: string;
  size?: number;
}

export function heatmapSpec(h: Heatmap): TopLevelSpec {
  const values: { x: number; y: number; z: number }[] = [];
  h.z.forEach((row, i) => row.forEach((v, j) => { if (v !== null && Number.isFinite(v)) values.push({ x: h.x[j], y: h.y[i], z: v }); }));
  // cells as bands: the grid may be non-uniform, so x and y are ordinal positions labelled with their values
  const fmt = (v: number) => String(+v.toPrecision(4));
  const axis = (vals: number[]) => ({ labelExpr: 'datum.label', values: vals.filter((_, k) => k % Math.max(1, Math.ceil(vals.length / 8)) === 0).map(fmt) });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: h.title,
    width: h.size ?? 300,
    height: h.size ?? 300,
    // no per-cell ARIA labels: they would make up most of the SVG
    config: { font: 'sans-serif', view: { stroke: null }, aria: false },
    data: { values: values.map((v) => ({ ...v, xs: fmt(v.x), ys: fmt(v.y) })) },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'xs', type: 'ordinal', sort: h.x.map(fmt), title: h.xLabel, axis: axis(h.x) },
      y: { field: 'ys', type: 'ordinal', sort: [...h.y].reverse().map(fmt), title: h.yLabel, axis: axis(h.y) },
      color: { field: 'z', type: 'quantitative', title: h.zLabel, scale: { scheme: 'viridis' } },
    },
  } as TopLevelSpec;
}

export function heatmapSvg(h: Heatmap): Promise<string> {
  return vegaLiteSvg(heatmapSpec(h));
}
