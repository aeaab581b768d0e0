// bench/vector-mc/let-chain.dmft (a tanh let chain not in examples/) by Monte
// Carlo, the pattern population exact and all sampled, at the solver's
// defaults, against its finite-N reference extrapolated in 1/N
// (let_chain_reference.py → let_chain_reference.json): value ± error, z and
// CPU seconds.   nice -n 10 npx tsx bench/vector-mc/let-chain-exact.ts
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { readSystem } from '../../src/solve/read.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';

const ref = JSON.parse(readFileSync('bench/vector-mc/let_chain_reference.json', 'utf8'));
const sys = derive(loadModel('bench/vector-mc/let-chain.dmft'), 'cavity').system;
for (const exactAffine of [true, false]) {
  const c0 = process.cpuUsage();
  const r = solveMonteCarlo(readSystem(sys), { params: sys.params, T: 2, dt: 0.05, times: ref.times, seed: 1, exactAffine });
  const cpu = process.cpuUsage(c0), d = r.diagnostics as Record<string, unknown>;
  console.log(`${exactAffine ? `exact population ${d.exactPopulations ?? 'none'}` : 'all sampled'}: ${d.replicas} replicas × ${d.pathsPerReplica} paths, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
  for (const name of ['q', 'overlaps', 'mx']) {
    console.log(`  ${name}: ` + r.t.map((t, k) => {
      const v = r.observables[name][k], e = r.error[name][k], a = ref[name].value[k], s = ref[name].se[k];
      return `t=${t}: ${v.toPrecision(5)} ± ${e.toPrecision(2)} (${(100 * e / Math.abs(v)).toFixed(2)} %) ref ${a.toPrecision(5)} ± ${s.toPrecision(2)} z=${(Math.abs(v - a) / Math.hypot(e, s)).toFixed(2)}`;
    }).join('; '));
  }
}
