// Cost of the Gaussian closure against the final time T, uniform grid vs the
// graded grid (blocks of GRADED_BLOCK steps, each block's step twice the last
// one's; docs/gaussian-closure.md, "Graded grids"), with the accuracy at each T:
//   - gradient flow on regression with a random start and a noisy teacher
//     (linear, three memory kernels' worth of lets): test and train loss at
//     t = T/2 and T against their Marchenko–Pastur closed forms;
//   - the relu rate network (nonlinear, a stiff-capped graded grid): var(T)
//     against the uniform grid (within both bars; the exact fixed point
//     where no uniform run is made — the transient settles slowly).
// CPU seconds (process.cpuUsage) of solveGaussian alone, machine shared.
//   npx tsx bench/closure-cost.bench.ts [--quick] [--svg bench/closure-cost.svg]
import { writeFileSync } from 'node:fs';
import { deriveCavity } from '../src/derive/cavity.ts';
import { loadModel, loadModelSource } from '../src/model/load.ts';
import { erf } from '../src/numeric/special.ts';
import { GRADED_BLOCK, solveGaussian } from '../src/solve/gaussian.ts';
import { readSystem } from '../src/solve/read.ts';
import { lineFigureSvg, type Curve } from '../src/plot/lines.ts';
import { regressionLrLosses, regressionLrModel } from '../test/helpers/regression-lr.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const svgAt = args.indexOf('--svg');
const svgPath = svgAt >= 0 ? args[svgAt + 1] : undefined;

const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)), phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
function reluFixedPoint(g: number, b: number): number {
  const E2 = (s: number) => (b * b + s * s) * Phi(b / s) + b * s * phi(b / s);
  let lo = 1e-6, hi = 100;
  for (let i = 0; i < 200; i++) { const q = (lo + hi) / 2; if (E2(g * Math.sqrt(q)) > q) lo = q; else hi = q; }
  return b * b + g * g * lo;
}

function timed<T>(f: () => T): { r: T; cpu: number } {
  const t0 = process.cpuUsage();
  const r = f();
  const u = process.cpuUsage(t0);
  return { r, cpu: (u.user + u.system) / 1e6 };
}
const e2 = (x: number) => x.toExponential(1);

// ---- gradient flow on regression: Marchenko–Pastur closed forms
const alpha = 3, s2 = 0.3, eta = 0.7, s0 = 0.5, tau = 2;
const gf = deriveCavity(loadModelSource(regressionLrModel({ alpha, s2, eta, s0, tau }), '<bench>')).system;
const exact = {
  test: (t: number) => regressionLrLosses({ alpha, s2, eta, s0, tau }, t, 20000).test,
  train: (t: number) => regressionLrLosses({ alpha, s2, eta, s0, tau }, t, 20000).train,
};

// warm-up (JIT) so that the first timed row is not charged for compilation
solveGaussian(readSystem(gf), { params: gf.params, T: 5, dt: 0.25, grid: 'uniform' });

interface Row { model: string; grid: string; T: number; steps: number; cpu: number; acc: string; covered: boolean; relErr: number }
const rows: Row[] = [];
const dtGf = 0.25;
const Ts = quick ? [25, 50] : [25, 50, 100, 200, 400, 1000];
const uniformUpTo = quick ? 25 : 100;
for (const T of Ts) for (const grid of ['uniform', 'graded'] as const) {
  if (grid === 'uniform' && T > uniformUpTo) continue;
  const times = [T / 2, T];
  const { r: sol, cpu } = timed(() => solveGaussian(readSystem(gf), { params: gf.params, T, dt: dtGf, times, grid }));
  const res = sol.result;
  let covered = true, worst = 0;
  const parts: string[] = [];
  for (const k of ['test', 'train'] as const) times.forEach((t, i) => {
    const ex = exact[k](t), v = res.observables[k][i], e = res.error[k][i];
    covered &&= Math.abs(v - ex) <= e;
    worst = Math.max(worst, e / Math.abs(ex));
    if (t === T) parts.push(`${k}(T) ${v.toPrecision(10)} ± ${e2(e)} (exact ${ex.toPrecision(10)}, off ${e2(Math.abs(v - ex))})`);
  });
  rows.push({ model: 'gradient flow (MP)', grid, T, steps: Number(res.diagnostics.gridSteps ?? Math.round(T / dtGf)), cpu, acc: parts.join('; '), covered, relErr: worst });
  console.error(rows.at(-1));
}

// ---- the relu network (nonlinear; its own damping caps the graded steps)
const relu = deriveCavity(loadModel('examples/relu-network.dmft')).system;
const qStar = reluFixedPoint(1.2, 0.1);
const dtRelu = 0.25;
const TsRelu = quick ? [25] : [25, 50, 100];
const reluUniform = new Map<number, { v: number; e: number }>();
for (const T of TsRelu) for (const grid of ['uniform', 'graded'] as const) {
  if (grid === 'uniform' && T > (quick ? 25 : 100)) continue;
  const { r: sol, cpu } = timed(() => solveGaussian(readSystem(relu), { params: relu.params, T, dt: dtRelu, times: [T], grid }));
  const res = sol.result, v = res.observables.var[0], e = res.error.var[0];
  if (grid === 'uniform') reluUniform.set(T, { v, e });
  const u = reluUniform.get(T);
  // the reference: the uniform grid's value where it was run (within both bars), else the exact fixed point once settled
  const ref = u ?? { v: qStar, e: 0 };
  const covered = Math.abs(v - ref.v) <= e + ref.e;
  const acc = `var(T) ${v.toPrecision(10)} ± ${e2(e)}; ${u ? `uniform ${u.v.toPrecision(10)} ± ${e2(u.e)}` : `fixed point ${qStar.toPrecision(10)}`}, off ${e2(Math.abs(v - ref.v))}`;
  rows.push({ model: 'relu network', grid, T, steps: Number(res.diagnostics.gridSteps ?? Math.round(T / dtRelu)), cpu, acc, covered, relErr: e / Math.abs(v) });
  console.error(rows.at(-1));
}

console.log(`graded block = ${GRADED_BLOCK} steps; dt = ${dtGf} (gradient flow), ${dtRelu} (relu); grids 2·dt, dt, dt/2\n`);
console.log('| model | grid | T | steps on dt | CPU s | accuracy at T | bars cover the reference | largest error/value |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.model} | ${r.grid} | ${r.T} | ${r.steps} | ${r.cpu.toFixed(2)} | ${r.acc} | ${r.covered ? 'yes' : '**no**'} | ${e2(r.relErr)} |`);

if (svgPath) {
  const curves: Curve[] = [];
  for (const model of ['gradient flow (MP)', 'relu network']) for (const grid of ['uniform', 'graded']) {
    const pts = rows.filter((r) => r.model === model && r.grid === grid);
    if (pts.length) curves.push({ label: `${model}, ${grid}`, points: pts.map((r) => ({ x: r.T, y: Math.log10(r.cpu) })) });
  }
  const acc: Curve[] = [];
  for (const model of ['gradient flow (MP)', 'relu network']) for (const grid of ['uniform', 'graded']) {
    const pts = rows.filter((r) => r.model === model && r.grid === grid);
    if (pts.length) acc.push({ label: `${model}, ${grid}`, points: pts.map((r) => ({ x: r.T, y: Math.log10(r.relErr) })) });
  }
  const svg = await lineFigureSvg({
    xLabel: 'T (final time)', xLog: true, legendTitle: 'model, grid',
    panels: [
      { title: 'cost of the Gaussian closure (grids 2·dt, dt, dt/2)', yLabel: 'log10 CPU seconds', curves },
      { title: 'accuracy: the largest reported error / value', yLabel: 'log10 relative error', curves: acc },
    ],
  });
  writeFileSync(svgPath, svg);
  console.error(`wrote ${svgPath}`);
}
