// Where the Monte Carlo error of the Hopfield let chain comes from: the error
// sources of `overlaps` and `q` at T = 5 for paths per replica P = 200 (the
// default at this work budget) and P = 800 at the same number of replicas.
//   nice -n 10 npx tsx bench/hopfield-mc-paths.ts
import { loadModel } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveMonteCarlo } from '../src/solve/montecarlo.ts';

const sys = derive(loadModel('examples/hopfield.dmft'), 'cavity').system;
for (const paths of [200, 800]) {
  const t0 = performance.now();
  const r = solveMonteCarlo(readSystem(sys), { params: sys.params, T: 5, dt: 0.05, times: [5], paths, replicas: 16, maxReplicas: 16, seed: 1 });
  const d = r.diagnostics as Record<string, unknown>;
  const k = r.t.length - 1;
  const f = (name: string) => `${name}(5) = ${r.observables[name][k].toPrecision(5)} ± ${r.error[name][k].toPrecision(2)} (${(100 * r.error[name][k] / Math.abs(r.observables[name][k])).toFixed(1)} %)`;
  console.log(`P = ${paths}: ${f('overlaps')}, ${f('q')}; stat ${d.mcStdErrMax}, finite-P bias ${d.finitePathBiasMax}, dt ${d.discretizationErrorMax}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
