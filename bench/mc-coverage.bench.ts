// Do Monte Carlo error bars mean what they say? Solve the same model with many
// seeds at fixed settings and compare the scatter of the estimates with the
// standard errors the solver reports, and the estimates with an independent
// reference (bench/mc-coverage/reference.py, plain numpy sampling of the same
// DMFT, extrapolated in dt). Results: bench/RESULTS.md, "Monte Carlo error bars".
//
// Run: npx tsx bench/mc-coverage.bench.ts [seeds=30] [replicas=40]
import { loadModel } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveMonteCarlo } from '../src/solve/montecarlo.ts';

const seeds = Number(process.argv[2] ?? 30), replicas = Number(process.argv[3] ?? 40);
const REFERENCE = 0.3865; // bench/mc-coverage/reference.py: q(5) extrapolated in dt (±0.0010)
const m = loadModel(new URL('./mc-coverage/selfexc.dmft', import.meta.url).pathname);
const sys = derive(m, 'cavity').system;
const est: number[] = [], se: number[] = [], err: number[] = [];
for (let seed = 1; seed <= seeds; seed++) {
  const r = solveMonteCarlo(readSystem(sys), { params: sys.params, T: 5, dt: 0.05, times: [5], seed, replicas, maxReplicas: replicas, paths: 1000, refine: false, check: false, biasCheck: false });
  est.push(r.observables.q[0]); err.push(r.error.q[0]); se.push(Number(r.diagnostics.mcStdErrMax));
  console.log(`seed ${seed}: q(5) = ${r.observables.q[0].toFixed(5)} ± ${r.error.q[0].toExponential(2)}`);
}
const mean = est.reduce((a, b) => a + b) / seeds;
const sd = Math.sqrt(est.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1));
const rms = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
const within = (k: number) => est.filter((v, i) => Math.abs(v - REFERENCE) <= k * err[i]).length / seeds;
console.log(`\n${seeds} seeds × ${replicas} replicas × 1000 paths, dt = 0.05 (refine, check and bias check off)`);
console.log(`mean of the estimates ${mean.toFixed(5)} (reference ${REFERENCE}); scatter between seeds ${sd.toExponential(2)}; rms reported standard error ${rms(se).toExponential(2)}; rms reported error ${rms(err).toExponential(2)}`);
console.log(`fraction within 1 error of the reference: ${within(1).toFixed(2)} (≈ 0.68 expected); within 2: ${within(2).toFixed(2)} (≈ 0.95)`);
