// Minibatch SGD on linear regression (examples/sgd-linear-regression.dmft):
// the step-grid closure against (a) the exact finite-D average over the masks,
// extrapolated in 1/D (bench/sgd_linear_regression_ref.py, numpy, independent of
// dmftkit), and (b) `dmft simulate` (masks sampled) at several N, extrapolated
// in 1/N. Results in bench/RESULTS.md.
// Run: python3 bench/sgd_linear_regression_ref.py; npx tsx bench/sgd.bench.ts
import { fitInverseN } from '../src/numeric/stats.ts';
import { readFileSync } from 'node:fs';
import { derive } from '../src/derive/index.ts';
import { loadModel } from '../src/model/load.ts';
import { solve } from '../src/solve/index.ts';
import { simulate } from '../src/simulate/index.ts';

const FILE = 'examples/sgd-linear-regression.dmft';
/** (lr, b) as in bench/sgd_linear_regression_ref.py */
const RUNS = [[0.5, 0.5], [0.5, 0.25], [0.3, 0.25], [0.2, 0.1]];
const T = 20;
const STEPS = [1, 5, 10, 20].filter((t) => t <= T);
const NS = [200, 400, 800];
const SEEDS = 48;

/** the N → ∞ intercept of a + b/N and its standard error (src/numeric/stats.ts) */
function fit(Ns: number[], y: number[], se: number[]): { a: number; sa: number } {
  const f = fitInverseN(Ns.map((N, k) => ({ N, mean: y[k], se: se[k] })));
  return { a: f.a, sa: f.se };
}

const rows: string[] = [];
let worst = 0;
const results = [];
for (const [lr, b] of RUNS) {
  const params = { lr, b };
  const m = loadModel(FILE, params);
  const sys = derive(m, 'cavity').system;
  const t0 = performance.now();
  const r = solve(sys, { params: { ...sys.params, ...params }, T, dt: 1 });
  const solveSeconds = (performance.now() - t0) / 1000;
  const sims = [];
  for (const N of NS) sims.push(await simulate(loadModel(FILE, params), { N, seeds: SEEDS, T, dt: 1, times: Array.from({ length: T + 1 }, (_, k) => k), threads: 1 }));
  console.error(`lr = ${lr}, b = ${b}: solved in ${solveSeconds.toFixed(2)} s, simulated`);
  results.push({ lr, b, r, sims });
}
// the reference is read last: it may be computed while the simulations run
const ref = JSON.parse(readFileSync('bench/references/sgd-linear-regression.json', 'utf8'));
if (ref.T < T) throw new Error(`the reference has ${ref.T} steps, fewer than ${T}`);
for (const { lr, b, r, sims } of results) {
  const run = ref.runs[`lr=${lr},b=${b}`] as { lr: number; b: number; extrapolated: Record<string, number[]> };
  for (const k of ['test', 'train']) {
    for (const t of STEPS) {
      const th = r.observables[k][t], err = r.error[k][t];
      const nx = run.extrapolated[k][t], nse = run.extrapolated[`${k}_se`][t];
      const f = fit(NS, sims.map((s) => s.observables[k][t]), sims.map((s) => s.stderr[k][t]));
      const z1 = Math.abs(th - nx) / nse, z2 = Math.abs(th - f.a) / f.sa;
      worst = Math.max(worst, z1, z2);
      rows.push(`| ${run.lr} | ${run.b} | ${k} | ${t} | ${th.toPrecision(6)} ± ${err.toExponential(0)} | ${nx.toPrecision(5)} ± ${nse.toPrecision(2)} | ${z1.toFixed(2)} | ${f.a.toPrecision(5)} ± ${f.sa.toPrecision(2)} | ${z2.toFixed(2)} |`);
    }
  }
}
console.log(`## minibatch SGD on linear regression (alpha = 2, sigma2 = 0.25): closure vs finite size extrapolated`);
console.log(`numpy: exact average over the masks at D = ${Object.keys(ref.samples).join(', ')} (${Object.values(ref.samples).join(', ')} data draws), excess over GD fit a + c/D plus the Marchenko–Pastur GD; simulate: \`dmft simulate\` (masks sampled), N = ${NS.join(', ')}, ${SEEDS} seeds each, fit a + c/N`);
console.log('');
console.log('| lr | b | observable | step | closure ± err | numpy D → ∞ ± s.e. | abs(diff)/s.e. | simulate N → ∞ ± s.e. | abs(diff)/s.e. |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(`\nlargest abs(diff)/s.e.: ${worst.toFixed(2)} over ${rows.length * 2} comparisons`);
