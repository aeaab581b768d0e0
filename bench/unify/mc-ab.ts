// The scalar Monte Carlo sweep against the vector sweep on scalar sites, run
// before the unification of issue 12 deleted the scalar sweep (its output is in
// bench/RESULTS.md; the `sweep` option it used is gone, so today it compares
// the one sweep with itself): `npx tsx bench/unify/mc-ab.ts [name-filter]`. Every model that goes to Monte
// Carlo among the examples and the trust corpus (and the examples' nonlinear
// Gaussian models, forced), at cheap fixed settings (8 replicas of 300 paths,
// T = 2, dt = 0.1): the largest |Δ| over hypot(errors) per model, and the CPU
// seconds of each sweep. Both are valid estimates of the same equations with
// different random streams, so |Δ| ≲ 3·hypot is expected.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveMonteCarlo } from '../../src/solve/montecarlo.ts';
import { readSystem, scalarReading } from '../../src/solve/read.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const only = process.argv[2];
const files = [
  ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.dmft')).map((f) => join('examples', f)),
  ...readdirSync(join(root, 'test', 'trust', 'models')).filter((f) => /^(lv-|rectified-|rate-tanh-bias|rate-tanh-paper|rate-relu-bias-in)/.test(f)).map((f) => join('test', 'trust', 'models', f)),
];
for (const f of files) {
  if (only && !f.includes(only)) continue;
  let rd;
  try { rd = readSystem(deriveCavity(loadModel(join(root, f))).system); scalarReading(rd, 'bench'); } catch { continue; }
  if (rd.sys.time === 'discrete' || rd.linear) continue;
  const o = { params: rd.params, T: 2, dt: 0.1, times: [0.5, 1, 2], paths: 300, replicas: 8, maxReplicas: 8, seed: 7 };
  const run = (sweep: 'auto' | 'vector') => {
    const c0 = process.cpuUsage();
    try {
      const r = solveMonteCarlo(rd, { ...o, seed: sweep === 'auto' ? o.seed : o.seed + 1 });
      return { r, cpu: process.cpuUsage(c0).user / 1e6 };
    } catch (e) { return { err: (e as Error).message.slice(0, 140), cpu: process.cpuUsage(c0).user / 1e6 }; }
  };
  const a = run('auto'), b = run('vector');
  if (!('r' in a) || !('r' in b) || !a.r || !b.r) { console.log(`${f}: scalar ${'err' in a ? a.err : 'ok'} | vector ${'err' in b ? b.err : 'ok'}`); continue; }
  let worst = 0, where = '';
  for (const k of Object.keys(a.r.observables)) a.r.observables[k].forEach((x, i) => {
    const z = Math.abs(x - b.r!.observables[k][i]) / Math.hypot(a.r!.error[k][i], b.r!.error[k][i]);
    if (z > worst) { worst = z; where = `${k}(${o.times[i]}) ${x.toPrecision(5)} ± ${a.r!.error[k][i].toPrecision(2)} vs ${b.r!.observables[k][i].toPrecision(5)} ± ${b.r!.error[k][i].toPrecision(2)}`; }
  });
  console.log(`${f}: max |Δ|/hypot(err) ${worst.toFixed(2)} [${where}], cpu scalar ${a.cpu.toFixed(2)} s, vector ${b.cpu.toFixed(2)} s`);
}
