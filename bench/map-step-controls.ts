// Does the realized batch fraction of each step explain the seed-to-seed
// spread of minibatch SGD's losses? Each seed records, per step, the
// standardized mean of its mask draw (exactly 0 in expectation: a valid
// control variate). The losses at step t are regressed across seeds on the
// quenched controls of `check` (src/simulate/controls.ts) with and without the
// per-step controls of steps 0…t, and the standard errors of the means are
// compared (controlFit, src/numeric/stats.ts).
//
//   nice -n 10 npx tsx bench/map-step-controls.ts [examples/sgd-linear-regression.dmft] [N 1000] [seeds 96] [T 10]
import { loadModel } from '../src/model/load.ts';
import { simulate } from '../src/simulate/index.ts';
import { controlFit } from '../src/numeric/stats.ts';

const [file = 'examples/sgd-linear-regression.dmft', N = '1000', seeds = '96', T = '10'] = process.argv.slice(2);
const model = loadModel(file);
const times = Array.from({ length: +T + 1 }, (_, i) => i);
const t0 = performance.now();
const r = await simulate(model, { N: +N, seeds: +seeds, seed0: 1, T: +T, dt: 1, times, twoTimeGrid: [], keepSeeds: true });
const ps = r.perSeed!;
if (!ps.stepControls) throw new Error(`${file} draws nothing afresh at every step`);
console.log(`${file}: N = ${N}, ${seeds} seeds, ${((performance.now() - t0) / 1000).toFixed(0)} s; quenched controls: ${ps.controlNames.join(', ')}; per step: ${ps.stepControlNames!.join(', ')}`);
console.log('| observable | t | mean | s.e. plain | s.e. quenched controls | s.e. quenched + per-step (steps 0…t) |');
console.log('|---|---|---|---|---|---|');
for (const [name, rows] of Object.entries(ps.observables)) {
  for (const ti of [1, 2, 3, 5, +T]) {
    const y = rows.map((row) => row[ti]);
    const se = (C: number[][]) => controlFit(C).estimate(y);
    const plain = se(ps.controls.map(() => []));
    const quenched = se(ps.controls);
    const both = se(ps.controls.map((c, i) => [...c, ...ps.stepControls![i].flatMap((d) => d.slice(0, ti + 1))]));
    console.log(`| ${name} | ${ti} | ${plain.mean.toPrecision(5)} | ${plain.stderr.toExponential(2)} | ${quenched.stderr.toExponential(2)} | ${both.stderr.toExponential(2)} |`);
  }
}
