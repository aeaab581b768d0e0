// The spectrum against sampled matrices (docs/spectrum.md, "Checking"):
// m(z) at points above the bulk (the smoothed density, which converges like
// 1/N), and each outlier above or below the bulk with the squared overlap of
// its eigenvector with the spike, from the eigenvalues of matrices drawn at
// several sizes. With two sizes or more the sample means are extrapolated
// as a + b/N (weighted least squares); a value agrees when the theory lies
// within t standard errors of the extrapolation (Student-t, Bonferroni over
// the table: 1% false alarms), and the verdict is inconclusive when t
// standard errors exceed the target (it could not have seen a difference of
// that size).
import { fitInverseN } from '../numeric/stats.ts';
import type { Model } from '../model/ir.ts';
import type { SpectrumSystem } from '../derive/spectrum.ts';
import type { C, SpectrumSolution, SpectrumSolver } from '../solve/spectrum.ts';
import { sampleMatrix, symmetricEigen } from '../simulate/spectrum.ts';
import { chiSquareCdf, studentQuantile } from '../numeric/stats.ts';

export interface SpectrumCheckRow {
  what: string;
  theory: number; theoryError: number;
  /** the extrapolated (or single-size) sample mean and its standard error */
  sample: number; se: number;
  /** per size: mean and standard error */
  bySize: { N: number; mean: number; se: number }[];
  N: number | null;
  verdict: 'agree' | 'disagree' | 'inconclusive';
}

export interface SpectrumCheck { verdict: 'agree' | 'disagree' | 'inconclusive'; rows: SpectrumCheckRow[]; text: string[] }

export interface SpectrumCheckOptions { N: number[]; seeds: number; seed: number; target?: number }

export function checkSpectrum(model: Model, sys: SpectrumSystem, solver: SpectrumSolver, sol: SpectrumSolution, o: SpectrumCheckOptions): SpectrumCheck {
  const target = o.target ?? 0.02;
  // probe points: above the middle and the quartiles of the support, at a height of a tenth of its width
  const probes: C[] = [];
  if (sol.support.length) {
    const a = sol.support[0][0], b = sol.support[sol.support.length - 1][1];
    const h = 0.1 * (b - a);
    // rounded to a millionth of the width (a midpoint at 1e-13 is 0)
    const q = 1e-6 * (b - a);
    for (const f of [0.25, 0.5, 0.75]) probes.push([Math.round((a + f * (b - a)) / q) * q, h]);
  }
  const theory = probes.map((z) => solver.stieltjes(z));
  const above = sol.outliers.filter((x) => sol.support.length && x.lambda > sol.support[sol.support.length - 1][1]).sort((x, y) => y.lambda - x.lambda);
  const below = sol.outliers.filter((x) => sol.support.length && x.lambda < sol.support[0][0]).sort((x, y) => x.lambda - y.lambda);
  /** scale: what "2 % of the value" means (|m(z)| for both parts of m, so that Re m ≈ 0 is judged fairly) */
  type Series = { what: string; theory: number; theoryError: number; scale: number; values: Map<number, number[]> };
  const series: Series[] = [];
  probes.forEach((z, k) => {
    const scale = Math.hypot(theory[k].m[0], theory[k].m[1]);
    series.push({ what: `Re m(${fmtZ(z)})`, theory: theory[k].m[0], theoryError: theory[k].error, scale, values: new Map() });
    series.push({ what: `Im m(${fmtZ(z)})`, theory: theory[k].m[1], theoryError: theory[k].error, scale, values: new Map() });
  });
  // outliers that grow like the size sit beyond the spikes' ones: λ/n is compared with its limit κ
  const grows = sol.growing.map((g) => ({ g, top: g.kappa > 0 }));
  const topOffset = grows.filter((x) => x.top).length, bottomOffset = grows.length - topOffset;
  grows.forEach(({ g, top }) => series.push({ what: `outlier ${top ? 'λ_max' : 'λ_min'}/${g.size}`, theory: g.kappa, theoryError: 1e-9, scale: Math.abs(g.kappa), values: new Map() }));
  const outl = [...above.map((x, k) => ({ x, k, top: true })), ...below.map((x, k) => ({ x, k, top: false }))];
  for (const { x, k, top } of outl) {
    series.push({ what: `outlier ${top ? 'λ_max' : 'λ_min'}${k ? `-${k}` : ''}`, theory: x.lambda, theoryError: 1e-9, scale: Math.abs(x.lambda), values: new Map() });
    if (sys.spikes.length === 1) series.push({ what: `overlap² (${top ? 'λ_max' : 'λ_min'}${k ? `-${k}` : ''}, ${x.spikes[0]})`, theory: x.overlaps[0], theoryError: 1e-7, scale: Math.abs(x.overlaps[0]), values: new Map() });
  }
  for (const N of o.N) {
    for (let s = 0; s < o.seeds; s++) {
      const sample = sampleMatrix(model, sys.matrix, N, o.seed + s);
      const e = symmetricEigen(sample, outl.length > 0);
      const n = sample.n;
      let idx = 0;
      const push = (v: number) => { const m = series[idx++].values; if (!m.has(N)) m.set(N, []); m.get(N)!.push(v); };
      for (const z of probes) {
        let re = 0, im = 0;
        for (const l of e.values) { const dr = l - z[0], di = -z[1]; const d = dr * dr + di * di; re += dr / d; im += -di / d; }
        push(re / n); push(im / n);
      }
      let gt = 0, gb = 0;
      grows.forEach(({ top }) => push(e.values[top ? n - 1 - gt++ : gb++] / n));
      for (const { k, top } of outl) {
        const col = top ? n - 1 - k - topOffset : k + bottomOffset;
        push(e.values[col]);
        if (sys.spikes.length === 1) {
          const a = sample.spikeVectors[0];
          let dot = 0, a2 = 0;
          for (let i = 0; i < n; i++) { dot += a[i] * e.vectors!.get(i, col); a2 += a[i] * a[i]; }
          push((dot * dot) / a2);
        }
      }
    }
  }
  // standard errors from few seeds: Student-t critical values, with a Bonferroni
  // correction so that the whole table has a 1% false-alarm rate
  const dof = Math.max(1, o.N.length * (o.seeds - 1) - (o.N.length >= 2 ? 1 : 0));
  const crit = studentQuantile(1 - 0.01 / (2 * Math.max(1, series.length)), dof);
  const misfits: string[] = [], orderDecides: string[] = [];
  const slowCorrections = sys.equivalents.length > 0;
  const rows: SpectrumCheckRow[] = series.map((s) => {
    const bySize = o.N.map((N) => { const v = s.values.get(N)!; const mean = v.reduce((a, b) => a + b, 0) / v.length; const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1)); return { N, mean, se: sd / Math.sqrt(v.length) }; });
    const fit = o.N.length >= 2 ? extrapolate(bySize) : { a: bySize[0].mean, se: bySize[0].se };
    const err = Math.hypot(fit.se, s.theoryError);
    const diff = Math.abs(fit.a - s.theory);
    const scale = Math.max(s.scale, 1e-12);
    // with three sizes or more, the a + b/N model itself is tested: when the sample means do not
    // follow it (corrections of another order, e.g. 1/√N for a kernel's expansion), the
    // extrapolation cannot judge the theory either way
    const misfit = o.N.length >= 3 && 1 - chiSquareCdf(fitChi2(bySize, fit.a), o.N.length - 2) < 0.01 / Math.max(1, series.length);
    if (misfit) misfits.push(s.what);
    let verdict: SpectrumCheckRow['verdict'] = misfit ? 'inconclusive' : diff > crit * err && diff > 1e-12 ? 'disagree' : crit * err > target * scale ? 'inconclusive' : 'agree';
    // a nonlinear matrix's linear equivalent drops terms of norm ~1/√N, so its finite-size
    // corrections may be of order 1/√N: the row must hold under a + b/√N as well, and is only
    // called disagree when both extrapolations disagree (otherwise the order decides, and two
    // sizes cannot tell it)
    if (slowCorrections && o.N.length >= 2 && verdict !== 'inconclusive') {
      const alt = extrapolate(bySize.map((b) => ({ ...b, N: Math.sqrt(b.N) })));
      const altErr = Math.hypot(alt.se, s.theoryError), altDiff = Math.abs(alt.a - s.theory);
      const altVerdict = altDiff > crit * altErr && altDiff > 1e-12 ? 'disagree' : crit * altErr > target * scale ? 'inconclusive' : 'agree';
      if (altVerdict !== verdict) { verdict = 'inconclusive'; orderDecides.push(s.what); }
    }
    return { what: s.what, theory: s.theory, theoryError: s.theoryError, sample: fit.a, se: fit.se, bySize, N: o.N.length >= 2 ? null : o.N[0], verdict };
  });
  const verdict = rows.some((r) => r.verdict === 'disagree') ? 'disagree' : rows.some((r) => r.verdict === 'inconclusive') ? 'inconclusive' : 'agree';
  const text: string[] = [];
  text.push(`check against sampled matrices: N = ${o.N.join(', ')} (base size), ${o.seeds} seeds each; ${o.N.length >= 2 ? 'extrapolated as a + b/N' : 'one size: no extrapolation (finite-size bias ~1/N not removed)'}`);
  text.push('  quantity                              theory           sample (± se)                 verdict');
  for (const r of rows) text.push(`  ${r.what.padEnd(36)}  ${fmt(r.theory).padEnd(15)}  ${`${fmt(r.sample)} ± ${fmt(r.se, 2)}`.padEnd(28)}  ${r.verdict}`);
  text.push(`verdict: ${verdict} (a row agrees within ${crit.toFixed(2)} standard errors: Student-t with ${dof} degrees of freedom, 1% for the whole table)${verdict === 'inconclusive' ? `; inconclusive rows could not have seen a ${target * 100}% difference: more seeds or larger N` : ''}`);
  if (misfits.length) text.push(`note: the sample means of ${misfits.join(', ')} do not follow a + b/N over N = ${o.N.join(', ')} (χ² test, 1% for the table): their finite-size corrections are of another order at these sizes, so those rows are inconclusive — try larger N`);
  if (orderDecides.length) text.push(`note: ${orderDecides.join(', ')}: a + b/N and a + b/√N extrapolations give different verdicts (a nonlinear matrix's finite-size corrections may be of order 1/√N), so those rows are inconclusive — use larger N`);
  if (sys.equivalents.some((e) => e.startsWith('kernel'))) text.push("note: a kernel's linear equivalent neglects terms of norm ~1/√D: at a few hundred rows m(z) near the edges can sit several standard errors from its limit (bench/RESULTS.md, \"Nonlinear random matrices\"); use three sizes or more, and larger N");
  return { verdict, rows, text };
}

const extrapolate = fitInverseN;

/** χ² of the weighted fit a + b/N (b by least squares given a) to the sample means */
function fitChi2(pts: { N: number; mean: number; se: number }[], a: number): number {
  let num = 0, den = 0;
  for (const p of pts) { const w = 1 / Math.max(p.se, 1e-15) ** 2, x = 1 / p.N; num += w * x * (p.mean - a); den += w * x * x; }
  const b = num / den;
  return pts.reduce((c, p) => c + ((p.mean - a - b / p.N) / Math.max(p.se, 1e-15)) ** 2, 0);
}

const fmt = (x: number, d = 8) => Number(x.toPrecision(d)).toString();
const fmtZ = (z: C) => `${fmt(z[0], 4)}+${fmt(z[1], 3)}i`;
