// The step-grid closure of maps (src/solve/map.ts) against independent
// references: the Marchenko–Pastur closed form of full-batch gradient descent
// and its finite-D simulation extrapolated in 1/D (bench/gd_linear_regression_ref.py --sim),
// and the discrete-time random network against its recursion by another
// quadrature and a finite-N numpy simulation (bench/random_map_ref.py --sim).
// Run: python3 bench/gd_linear_regression_ref.py --sim; python3 bench/random_map_ref.py --sim;
//      npx tsx bench/map.bench.ts
import { fitInverseN } from '../src/numeric/stats.ts';
import { readFileSync } from 'node:fs';
import { derive } from '../src/derive/index.ts';
import { loadModel, loadModelSource } from '../src/model/load.ts';
import { solve } from '../src/solve/index.ts';

const solveAt = (file: string, params: Record<string, number>, T: number) => {
  // the random network with its two-time correlation observed
  const m = file === 'random-map+c0' ? loadModelSource(readFileSync('examples/random-map.dmft', 'utf8') + 'observe c0(t, s) = mean(i, x[i](t)*x[i](s))\n', 'random-map.dmft', params) : loadModel(file, params);
  const sys = derive(m, 'msr').system;
  const t0 = performance.now();
  const r = solve(sys, { params: { ...sys.params, ...params }, T, dt: 1 });
  return { r, seconds: (performance.now() - t0) / 1000 };
};

/** the N → ∞ intercept of a + b/N and its standard error (src/numeric/stats.ts) */
function fit(Ns: number[], y: number[], se: number[]): { a: number; sa: number } {
  const f = fitInverseN(Ns.map((N, k) => ({ N, mean: y[k], se: se[k] })));
  return { a: f.a, sa: f.se };
}

const gd = JSON.parse(readFileSync('bench/references/gd-linear-regression.json', 'utf8'));
console.log('## full-batch GD on linear regression (alpha = 2, sigma2 = 0.25): closure vs Marchenko–Pastur');
console.log('| lr | steps | max abs(closure − MP) (test, train) | max error bar | solve s |');
console.log('|---|---|---|---|---|');
for (const lr of Object.keys(gd.runs)) {
  const { r, seconds } = solveAt('examples/gd-linear-regression.dmft', { lr: +lr }, gd.T);
  let d = 0, e = 0;
  for (const k of ['test', 'train']) r.observables[k].forEach((v, t) => { d = Math.max(d, Math.abs(v - gd.runs[lr][k][t])); e = Math.max(e, r.error[k][t]); });
  console.log(`| ${lr} | ${gd.T} | ${d.toExponential(1)} | ${e.toExponential(1)} | ${seconds.toFixed(2)} |`);
}
for (const lr of [0.68, 0.69, 0.75]) {
  const { r } = solveAt('examples/gd-linear-regression.dmft', { lr }, 60);
  console.log(`lr = ${lr} (edge ${gd.edge.toFixed(4)}): test t → ∞ ${r.limitStatus!.test.status}${r.limitStatus!.test.status === 'value' ? ` ${r.limit!.test.toPrecision(6)} ± ${r.limitError!.test.toExponential(1)}` : ` (${r.limitStatus!.test.reason})`}`);
}
if (gd['simulation_lr0.5']) {
  console.log('\n## GD lr = 0.5: closure vs finite-D simulation (numpy, 20 seeds per D), fit a + b/D');
  const Ds = Object.keys(gd['simulation_lr0.5']).map(Number);
  const { r } = solveAt('examples/gd-linear-regression.dmft', { lr: 0.5 }, gd.T);
  console.log(`| observable | t | closure ± err | ${Ds.map((D) => `D = ${D}`).join(' | ')} | D → ∞ fit | abs(fit − closure) / s.e. |`);
  console.log(`|---|---|---|${Ds.map(() => '---').join('|')}|---|---|`);
  for (const k of ['test', 'train']) for (const t of [1, 5, 10, 20, 30]) {
    const y = Ds.map((D) => gd['simulation_lr0.5'][D][k][t]), se = Ds.map((D) => gd['simulation_lr0.5'][D][`${k}_se`][t]);
    const f = fit(Ds, y, se);
    console.log(`| ${k} | ${t} | ${r.observables[k][t].toPrecision(6)} ± ${r.error[k][t].toExponential(0)} | ${y.map((v, j) => `${v.toPrecision(5)} ± ${se[j].toPrecision(2)}`).join(' | ')} | ${f.a.toPrecision(5)} ± ${f.sa.toPrecision(2)} | ${(Math.abs(f.a - r.observables[k][t]) / f.sa).toFixed(2)} |`);
  }
}

const rm = JSON.parse(readFileSync('bench/references/random-map.json', 'utf8'));
console.log('\n## discrete-time random network x(t+1) = tanh(Σ J x): closure vs the recursion by the trapezoidal rule');
console.log('| g | steps | max abs(closure − reference) (q, C) | max error bar | solve s |');
console.log('|---|---|---|---|---|');
for (const g of Object.keys(rm.runs)) {
  const { r, seconds } = solveAt('random-map+c0', { g: +g }, rm.T);
  let d = 0, e = 0;
  r.observables.q.forEach((v, t) => { d = Math.max(d, Math.abs(v - rm.runs[g].q[t])); e = Math.max(e, r.error.q[t]); });
  const C = r.twoTime!.c0;
  C.t.forEach((a, i) => C.t.forEach((b, j) => { d = Math.max(d, Math.abs(C.values[i][j] - rm.runs[g].C[a][b])); e = Math.max(e, C.error![i][j]); }));
  console.log(`| ${g} | ${rm.T} | ${d.toExponential(1)} | ${e.toExponential(1)} | ${seconds.toFixed(2)} |`);
}
if (rm['simulation_g1.5']) {
  const sims = rm['simulation_g1.5'];
  const Ns = Object.keys(sims).map(Number);
  const { r } = solveAt('examples/random-map.dmft', { g: 1.5 }, rm.T);
  console.log(`\n## random network g = 1.5: closure vs finite-N numpy simulation (20 seeds per N), fit a + b/N`);
  console.log(`| t | closure ± err | ${Ns.map((N) => `N = ${N}`).join(' | ')} | N → ∞ fit | abs(fit − closure) / s.e. |`);
  console.log(`|---|---|${Ns.map(() => '---').join('|')}|---|---|`);
  for (const t of [1, 2, 4, 8, 12]) {
    const y = Ns.map((N) => sims[N].q[t]), se = Ns.map((N) => sims[N].q_se[t]);
    const f = fit(Ns, y, se);
    console.log(`| ${t} | ${r.observables.q[t].toPrecision(6)} ± ${r.error.q[t].toExponential(0)} | ${y.map((v, j) => `${v.toPrecision(5)} ± ${se[j].toPrecision(2)}`).join(' | ')} | ${f.a.toPrecision(5)} ± ${f.sa.toPrecision(2)} | ${(Math.abs(f.a - r.observables.q[t]) / f.sa).toFixed(2)} |`);
  }
}
