// Linear models solved by Monte Carlo with every population exact (nothing
// sampled: a deterministic second-order solution whose error is the time
// step's, docs/monte-carlo.md) against the Gaussian closure (exact for them):
// the largest |MC − closure| / error over the output times, and CPU seconds.
//   nice -n 10 npx tsx bench/vector-mc/exact-linear.ts
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';

const files = ['examples/linear-partial-sym.dmft', 'examples/transpose-mix.dmft', 'examples/two-students.dmft', 'examples/momentum.dmft', 'examples/warm-start.dmft',
  'examples/linear-regression-gf.dmft', 'examples/ridge-regression.dmft', 'bench/vector-mc/linear-memory.dmft', 'bench/vector-mc/linear-pair.dmft', 'bench/vector-mc/linear-students.dmft'];
const T = 4, times = [0.5, 1, 2, 4];
for (const f of files) {
  const sys = derive(loadModel(f), 'cavity').system, rd = readSystem(sys);
  const g = solveGaussian(rd, { params: sys.params, T, dt: 0.05, times }).result;
  for (const dt of [0.1, 0.05]) {
    const c0 = process.cpuUsage();
    const m = solveMonteCarlo(rd, { params: sys.params, T, dt, times, seed: 1 });
    const cpu = process.cpuUsage(c0), d = m.diagnostics;
    let zmax = 0, where = '', relmax = 0;
    for (const k of Object.keys(g.observables)) times.forEach((t, i) => {
      const z = Math.abs(m.observables[k][i] - g.observables[k][i]) / Math.hypot(m.error[k][i], g.error[k][i]);
      relmax = Math.max(relmax, m.error[k][i] / Math.max(...g.observables[k].map(Math.abs)));
      if (z > zmax) { zmax = z; where = `${k}(${t}) = ${m.observables[k][i].toPrecision(6)} ± ${m.error[k][i].toPrecision(2)} vs ${g.observables[k][i].toPrecision(6)}`; }
    });
    console.log(`${f} dt=${dt}: exact ${d.exactPopulations ?? 'none'}, ${d.replicas} replicas, largest error ${(100 * relmax).toPrecision(2)} % of scale, max z ${zmax.toFixed(2)} at ${where}; ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
  }
}
