// Theory vs simulation: solve the derived DMFT, simulate the finite-N system,
// and compare every observable with a tolerance set by both error estimates.
// With several N, the finite-size trend sim(N) = a + b/N is fitted and the
// extrapolated a is compared with the theory.
import type { Model } from '../model/ir.ts';
import type { SolveResult } from '../solve/types.ts';
import { studentQuantile } from './stats.ts';

export interface SimLike {
  N: number;
  /** independent seeds behind each standard error */
  seeds: number;
  t: number[];
  observables: Record<string, number[]>;
  stderr: Record<string, number[]>;
  twoTime?: Record<string, { t: number[]; mean: number[][]; stderr: number[][] }>;
}

export interface CheckRow {
  observable: string;
  /** time(s) of the comparison */
  t: number[];
  N: number | 'N→∞';
  theory: number;
  theoryErr: number;
  sim: number;
  simErr: number;
  /** (sim − theory) / combined error */
  z: number;
  /** |z| above this is a disagreement: the Student-t quantile for the seeds' degrees of freedom */
  crit: number;
  ok: boolean;
}

export interface CheckReport {
  model: string;
  params: Record<string, number>;
  method: string;
  Ns: number[];
  /** family-wise false-alarm rate: each of the k comparisons is tested at alpha/k */
  alpha: number;
  comparisons: number;
  rows: CheckRow[];
  ok: boolean;
}

function interp(ts: number[], ys: number[], t: number): number | undefined {
  if (!ts.length || t < ts[0] - 1e-9 || t > ts[ts.length - 1] + 1e-9) return undefined;
  let k = 0;
  while (k < ts.length - 2 && ts[k + 1] < t) k++;
  if (ts.length === 1) return ys[0];
  const w = (t - ts[k]) / (ts[k + 1] - ts[k] || 1);
  return ys[k] + Math.min(1, Math.max(0, w)) * (ys[k + 1] - ys[k]);
}

/** Bilinear interpolation of a two-time function m[a][b] = f(ts[a], ts[b]). */
function interp2(ts: number[], m: number[][], ta: number, tb: number): number | undefined {
  const row = ts.map((_, k) => interp(ts, m[k], tb));
  if (row.some((x) => x === undefined)) return undefined;
  return interp(ts, row as number[], ta);
}

interface Pair { observable: string; t: number[]; theory: number; theoryErr: number; sims: { N: number; seeds: number; v: number; e: number }[] }

/** Pair theory and simulations at common times. */
function pairs(theory: SolveResult, sims: SimLike[]): Pair[] {
  const out: Pair[] = [];
  for (const [name, th] of Object.entries(theory.observables)) {
    const thErr = theory.error[name] ?? th.map(() => 0);
    for (const t of sims[0].t) {
      const v = interp(theory.t, th, t);
      if (v === undefined) continue;
      const e = interp(theory.t, thErr, t) ?? 0;
      const list = sims.map((s) => ({ N: s.N, seeds: s.seeds, v: interp(s.t, s.observables[name] ?? [], t)!, e: interp(s.t, s.stderr[name] ?? [], t) ?? 0 }));
      if (list.some((x) => x.v === undefined || !Number.isFinite(x.v))) continue;
      out.push({ observable: name, t: [t], theory: v, theoryErr: e, sims: list });
    }
  }
  for (const [name, th] of Object.entries(theory.twoTime ?? {})) {
    const sim0 = sims[0].twoTime?.[name];
    if (!sim0) continue;
    // compare on a coarse subset of the simulation grid that the theory covers
    const idx = sim0.t.map((_, k) => k).filter((k) => sim0.t[k] <= th.t[th.t.length - 1] + 1e-9);
    const step = Math.max(1, Math.floor(idx.length / 4));
    for (let a = 0; a < idx.length; a += step) for (let b = 0; b <= a; b += step) {
      const ta = sim0.t[idx[a]], tb = sim0.t[idx[b]];
      const v = interp2(th.t, th.values, ta, tb);
      if (v === undefined) continue;
      const thErr = th.error ? interp2(th.t, th.error, ta, tb) ?? 0 : 0;
      const list = sims.map((s) => { const m = s.twoTime![name]; return { N: s.N, seeds: s.seeds, v: m.mean[idx[a]][idx[b]], e: m.stderr[idx[a]][idx[b]] }; });
      out.push({ observable: name, t: [ta, tb], theory: v, theoryErr: thErr, sims: list });
    }
  }
  return out;
}

/** Compare theory with simulations at one or more sizes. */
export function compare(model: Model, theory: SolveResult, sims: SimLike[], alpha = 0.01): CheckReport {
  const ps = pairs(theory, sims);
  const multiN = sims.length >= 2;
  const k = Math.max(1, ps.length);
  // standard errors come from a few seeds: Student-t with seeds − 1 degrees of freedom
  const crit = (dof: number) => studentQuantile(1 - alpha / (2 * k), Math.max(1, dof));
  const rows: CheckRow[] = [];
  for (const p of ps) {
    for (const s of p.sims) {
      const err = Math.hypot(s.e, p.theoryErr) || 1e-300;
      const z = (s.v - p.theory) / err;
      // with several N, single-N rows are informative; the verdict is on N→∞
      const c = crit(s.seeds - 1);
      rows.push({ observable: p.observable, t: p.t, N: s.N, theory: p.theory, theoryErr: p.theoryErr, sim: s.v, simErr: s.e, z, crit: c, ok: multiN || Math.abs(z) <= c });
    }
    if (multiN) {
      // weighted least squares fit v = a + b/N
      let S = 0, Sx = 0, Sxx = 0, Sy = 0, Sxy = 0;
      for (const s of p.sims) { const w = 1 / Math.max(s.e * s.e, 1e-30); const x = 1 / s.N; S += w; Sx += w * x; Sxx += w * x * x; Sy += w * s.v; Sxy += w * x * s.v; }
      const det = S * Sxx - Sx * Sx;
      const a = (Sxx * Sy - Sx * Sxy) / det;
      const aErr = Math.sqrt(Sxx / det);
      const err = Math.hypot(aErr, p.theoryErr) || 1e-300;
      const z = (a - p.theory) / err;
      const c = crit(p.sims.reduce((n, s) => n + s.seeds, 0) - 2);
      rows.push({ observable: p.observable, t: p.t, N: 'N→∞', theory: p.theory, theoryErr: p.theoryErr, sim: a, simErr: aErr, z, crit: c, ok: Math.abs(z) <= c });
    }
  }
  return {
    model: model.name, params: theory.params, method: theory.method, Ns: sims.map((s) => s.N), alpha, comparisons: k, rows,
    ok: rows.length > 0 && rows.every((r) => r.ok),
  };
}

const fmt = (x: number, d = 5) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(d - 2) : x.toFixed(d));

const fmtErr = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : '—');

/** The agreement table. */
export function formatReport(r: CheckReport): string {
  const L: string[] = [];
  L.push(`check: ${r.model}   params ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}   method ${r.method}`);
  L.push(`tolerance: |z| <= crit, the Student-t quantile for the seeds' degrees of freedom at family-wise false-alarm rate ${r.alpha} over ${r.comparisons} comparisons${r.Ns.length > 1 ? '; the verdict is on the N→∞ fit a + b/N' : ''}`);
  L.push(['observable', 't', 'N', 'theory', '± err', 'simulation', '± s.e.', 'z', 'crit', ''].map((h, i) => h.padEnd([12, 12, 7, 12, 10, 12, 10, 8, 7, 4][i])).join(''));
  for (const x of r.rows) {
    L.push([
      x.observable.padEnd(12), x.t.map((v) => +v.toFixed(3)).join(',').padEnd(12), String(x.N).padEnd(7),
      fmt(x.theory).padEnd(12), fmtErr(x.theoryErr).padEnd(10), fmt(x.sim).padEnd(12), fmtErr(x.simErr).padEnd(10),
      x.z.toFixed(2).padEnd(8), x.crit.toFixed(2).padEnd(7), x.ok ? 'ok' : (r.Ns.length > 1 && x.N !== 'N→∞' ? '' : 'FAIL'),
    ].join(''));
  }
  L.push(r.ok ? 'agreement: theory and simulation agree within errors' : 'DISAGREEMENT: see rows marked FAIL');
  return L.join('\n') + '\n';
}
