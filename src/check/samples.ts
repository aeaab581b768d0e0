// Per-seed simulation values, kept so that rounds of seeds can be merged
// exactly, late-time windows averaged per seed (their error then comes from
// the spread across independent seeds, whatever the correlation in time), and
// step-size runs differenced seed by seed.
import type { SimResult } from '../simulate/types.ts';
import type { SimLike } from './compare.ts';
import { controlFit } from '../numeric/stats.ts';

export interface SeedBatch {
  N: number;
  t: number[];
  seeds: number[];
  /** [seed][time] */
  observables: Record<string, number[][]>;
  twoTime?: { t: number[]; values: Record<string, number[][][]> };
  /** [seed][control]: sample moments of each seed's draws with expectation 0 (src/simulate/controls.ts) */
  controls?: number[][];
  controlNames?: string[];
}

export function batchOf(r: SimResult): SeedBatch {
  if (!r.perSeed) throw new Error('internal: the simulation was run without keepSeeds');
  const b: SeedBatch = { N: r.N, t: r.t, seeds: r.perSeed.seeds, observables: r.perSeed.observables, controls: r.perSeed.controls, controlNames: r.perSeed.controlNames };
  if (r.perSeed.twoTime && r.twoTime) {
    const g = Object.values(r.twoTime)[0].t;
    b.twoTime = { t: g, values: r.perSeed.twoTime };
  }
  return b;
}

export function merge(a: SeedBatch, b: SeedBatch): SeedBatch {
  const cat = <T>(x: Record<string, T[]>, y: Record<string, T[]>) => Object.fromEntries(Object.keys(x).map((k) => [k, [...x[k], ...(y[k] ?? [])]]));
  return {
    N: a.N, t: a.t, seeds: [...a.seeds, ...b.seeds], observables: cat(a.observables, b.observables),
    ...(a.controls && b.controls ? { controls: [...a.controls, ...b.controls], controlNames: a.controlNames } : {}),
    ...(a.twoTime && b.twoTime ? { twoTime: { t: a.twoTime.t, values: cat(a.twoTime.values, b.twoTime.values) } } : {}),
  };
}

/** The first n seeds of a batch. */
export function firstSeeds(a: SeedBatch, n: number): SeedBatch {
  const cut = <T>(x: Record<string, T[]>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.slice(0, n)]));
  return { N: a.N, t: a.t, seeds: a.seeds.slice(0, n), observables: cut(a.observables), ...(a.controls ? { controls: a.controls.slice(0, n), controlNames: a.controlNames } : {}), ...(a.twoTime ? { twoTime: { t: a.twoTime.t, values: cut(a.twoTime.values) } } : {}) };
}

/** The batch at the times ts only (a subset of its times), its two-time grid kept. */
export function atTimes(a: SeedBatch, ts: number[]): SeedBatch {
  const idx = ts.map((t) => a.t.findIndex((x) => Math.abs(x - t) <= 1e-9 * Math.max(1, Math.abs(t))));
  if (idx.some((i) => i < 0)) throw new Error('internal: a time missing from the batch');
  const observables = Object.fromEntries(Object.entries(a.observables).map(([k, rows]) => [k, rows.map((r) => idx.map((i) => r[i]))]));
  return { ...a, t: ts, observables };
}

/** Seed-by-seed a − b (the same seeds, in the same order; the difference has no controls: both runs drew the same). */
export function difference(a: SeedBatch, b: SeedBatch): SeedBatch {
  if (a.seeds.join() !== b.seeds.join()) throw new Error('internal: paired runs with different seeds');
  const sub2 = (x: number[][], y: number[][]) => x.map((r, i) => r.map((v, j) => v - y[i][j]));
  const observables = Object.fromEntries(Object.keys(a.observables).map((k) => [k, sub2(a.observables[k], b.observables[k])]));
  const out: SeedBatch = { N: a.N, t: a.t, seeds: a.seeds, observables };
  if (a.twoTime && b.twoTime) {
    out.twoTime = { t: a.twoTime.t, values: Object.fromEntries(Object.keys(a.twoTime.values).map((k) => [k, a.twoTime!.values[k].map((m, s) => sub2(m, b.twoTime!.values[k][s]))])) };
  }
  return out;
}

/**
 * Whether a batch of n seeds is large enough to regress out p control
 * variates: each costs a degree of freedom of the error bar, and estimating
 * their coefficients inflates the variance of an observable they do not
 * explain by (n − 2)/(n − p − 2); they are used only once the residual
 * degrees of freedom n − p − 1 are at least max(8, 4p) (inflation ≤ ~25 %) —
 * a rule on n and p alone, fixed before any observable is seen.
 */
export const useControls = (n: number, p: number): boolean => p > 0 && n - p - 1 >= Math.max(8, 4 * p);

/**
 * Means and standard errors over seeds — with the seeds' control variates
 * regressed out when there are enough seeds (`useControls`, `controlFit`):
 * the mean at the controls' exact expectation, with the regression's error
 * and degrees of freedom. With `windows` = [w0, w1, w2], also each seed's
 * mean over the last window [w1, w2] and its drift from the previous window
 * [w0, w1), estimated the same way.
 */
export function summarize(b: SeedBatch, windows?: [number, number, number]): SimLike {
  const n = b.seeds.length;
  const C = b.controls && b.controls.length === n && b.controls[0]?.length && useControls(n, b.controls[0].length) ? b.controls : undefined;
  const fit = controlFit(C ?? b.seeds.map(() => []));
  const meanStderr = (y: number[]) => fit.estimate(y);
  const observables: Record<string, number[]> = {}, stderr: Record<string, number[]> = {};
  for (const [name, rows] of Object.entries(b.observables)) {
    const ms = b.t.map((_, ti) => meanStderr(rows.map((r) => r[ti])));
    observables[name] = ms.map((m) => m.mean);
    stderr[name] = ms.map((m) => m.stderr);
  }
  const out: SimLike = { N: b.N, seeds: n, t: b.t, observables, stderr, dof: n - 1 - fit.p, ...(fit.p ? { controls: fit.p } : {}) };
  if (b.twoTime) {
    out.twoTime = {};
    for (const [name, per] of Object.entries(b.twoTime.values)) {
      const G = b.twoTime.t.length;
      const mean: number[][] = [], se: number[][] = [];
      for (let a = 0; a < G; a++) {
        const row = Array.from({ length: G }, (_, c) => meanStderr(per.map((m) => m[a][c])));
        mean.push(row.map((x) => x.mean)); se.push(row.map((x) => x.stderr));
      }
      out.twoTime[name] = { t: b.twoTime.t, mean, stderr: se };
    }
  }
  if (windows) {
    const [w0, w1, w2] = windows;
    const prev = b.t.map((t, i) => (t >= w0 - 1e-9 && t < w1 - 1e-9 ? i : -1)).filter((i) => i >= 0);
    const last = b.t.map((t, i) => (t >= w1 - 1e-9 && t <= w2 + 1e-9 ? i : -1)).filter((i) => i >= 0);
    const avg = (r: number[], idx: number[]) => idx.reduce((s, i) => s + r[i], 0) / idx.length;
    const late: NonNullable<SimLike['late']> = { windows, mean: {}, stderr: {}, drift: {}, driftErr: {}, seeds: n, dof: n - 1 - fit.p, t: [...prev, ...last].map((i) => b.t[i]) };
    if (prev.length && last.length) {
      for (const [name, rows] of Object.entries(b.observables)) {
        const m = meanStderr(rows.map((r) => avg(r, last)));
        const d = meanStderr(rows.map((r) => avg(r, last) - avg(r, prev)));
        late.mean[name] = m.mean; late.stderr[name] = m.stderr; late.drift[name] = d.mean; late.driftErr[name] = d.stderr;
      }
    }
    out.late = late;
  }
  return out;
}
