// The Hopfield let chain by Monte Carlo with the pattern population computed
// exactly (affine given the sampled kernels: sigma paths, docs/monte-carlo.md)
// against the same solve with it sampled (exactAffine: false, the previous
// behaviour), at the solver's defaults (T = 10, dt = 0.05), both parameter
// points of the independent large-N reference (bench/vector/references.json,
// bench/vector/hopfield.py). Prints value ± error at t = 1, 2, 5, 10, the
// reference, z = |value − reference| / error, and the CPU seconds of each solve.
//   nice -n 10 npx tsx bench/vector-mc/hopfield-exact.ts [alpha,beta …] [T=10] [dt=0.05] [paths=…] [only-exact=1]
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';

const refs = (JSON.parse(readFileSync('bench/vector/references.json', 'utf8')).entries as { model: string; params: Record<string, number>; observable: string; time: number; value: number; error: number }[])
  .filter((e) => e.model === 'examples/hopfield.dmft');
const sys = derive(loadModel('examples/hopfield.dmft'), 'cavity').system;
const args = process.argv.slice(2), opt = (k: string, d: number) => Number(args.find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d);
const T = opt('T', 10), dt = opt('dt', 0.05), paths = args.some((a) => a.startsWith('paths=')) ? opt('paths', 200) : undefined, times = [1, 2, 5, 10].filter((t) => t <= T);
const pts = args.filter((a) => !a.includes('='));
const points = pts.length ? pts.map((s) => s.split(',').map(Number)) : [[0.2, 2], [0.05, 1]];
for (const [alpha, beta] of points) {
  const params = { ...sys.params, alpha, beta };
  for (const exactAffine of opt('only-exact', 0) ? [true] : [true, false]) {
    const c0 = process.cpuUsage();
    const r = solveMonteCarlo(readSystem(sys, params), { params, T, dt, times, seed: 1, exactAffine, paths, ...(paths ? { replicas: 16, maxReplicas: 16 } : {}) });
    const cpu = process.cpuUsage(c0), d = r.diagnostics as Record<string, unknown>;
    console.log(`alpha = ${alpha}, beta = ${beta}, ${exactAffine ? `exact population ${d.exactPopulations ?? 'none'}` : 'all sampled'}: ${d.replicas} replicas × ${d.pathsPerReplica} paths, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU; largest error parts: statistics ${Number(d.mcStdErrMax).toPrecision(2)}, finite-P bias ${Number(d.finitePathBiasMax).toPrecision(2)}, dt ${Number(d.discretizationErrorMax).toPrecision(2)}`);
    for (const name of ['overlaps', 'q']) {
      const cells = r.t.map((t, k) => {
        const ref = refs.find((e) => e.params.alpha === alpha && e.params.beta === beta && e.observable === name && e.time === t);
        const v = r.observables[name][k], e = r.error[name][k];
        return `t=${t}: ${v.toPrecision(5)} ± ${e.toPrecision(2)} (${(100 * e / Math.abs(v)).toFixed(2)} %)` + (ref ? ` ref ${ref.value.toPrecision(5)} ± ${ref.error.toPrecision(2)} z=${(Math.abs(v - ref.value) / Math.hypot(e, ref.error)).toFixed(2)}` : '');
      });
      console.log(`  ${name}: ${cells.join('; ')}`);
    }
  }
}
