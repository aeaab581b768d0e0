// Accuracy and cost of the Monte Carlo solver at its default settings:
// `npx tsx bench/montecarlo.bench.ts [case…]`.
// Every case is compared with a reference that is independent of the solver:
//  - relu network (Gaussian state, kinked rate): bench/relu_reference.py (exact bivariate
//    relu moments, Richardson in the step; errors ≤ 1.4e-5), m(t) = b(1 − e^{−t}) exactly;
//  - SCS network and a partially symmetric linear network with noise and a memory term
//    (Gaussian states forced through Monte Carlo): the Gaussian closure (errors ≤ 1e-5);
//  - Lotka–Volterra at γ = 1, σ = 0.6 and the consumer–resource model (bounded, memory terms):
//    finite-N simulations extrapolated in 1/N (bench/finite_n_reference.py, JSON in
//    bench/references/);
//  - vector sites (bench/vector-mc/): linear ones against the vector Gaussian closure, nonlinear
//    ones (two units through J and Jᵀ, two students with a tanh loss, a let inside the site)
//    against numpy finite-N simulations extrapolated in 1/N (bench/vector-mc/*_reference.py).
// Prints one markdown row per observable and time: value ± error, reference ± error,
// |difference| / error, and whether the reference lies within 1, 2 or 3 reported errors.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../src/derive/cavity.ts';
import { loadModel } from '../src/model/load.ts';
import { solveGaussian } from '../src/solve/gaussian.ts';
import { solveMonteCarlo } from '../src/solve/montecarlo.ts';
import { readSystem } from '../src/solve/read.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
type Ref = Record<string, [number, number][]>;
interface Case { name: string; file: string; sets?: Record<string, number>; T: number; times: number[]; ref: () => Ref }

const finiteN = (file: string): Ref => {
  const j = JSON.parse(readFileSync(join(root, 'bench/references', file), 'utf8')) as { extrapolated: Record<string, { value: number; stderr: number }[]> };
  return Object.fromEntries(Object.entries(j.extrapolated).map(([k, v]) => [k, v.map((e) => [e.value, e.stderr] as [number, number])]));
};
const vectorRef = (name: string): Ref => {
  const j = JSON.parse(readFileSync(join(root, 'bench/vector-mc', `${name}_reference.json`), 'utf8')) as Record<string, { value: number[]; se: number[] }>;
  return Object.fromEntries(Object.entries(j).filter(([, v]) => typeof v === 'object' && 'value' in v).map(([k, v]) => [k, v.value.map((x, i) => [x, v.se[i]] as [number, number])]));
};
const modelPath = (file: string) => join(root, file.includes('/') ? file : join('examples', file));
const closure = (file: string, sets: Record<string, number>, T: number, times: number[]): Ref => {
  const sys = deriveCavity(loadModel(modelPath(file), sets)).system;
  const r = solveGaussian(readSystem(sys, sys.params), { params: sys.params, T, dt: 0.05, times }).result;
  return Object.fromEntries(Object.entries(r.observables).map(([k, v]) => [k, v.map((x, i) => [x, r.error[k][i]] as [number, number])]));
};

const cases: Case[] = [
  {
    name: 'relu network (issue: late drift)', file: 'relu-network.dmft', T: 10, times: [1, 2, 5, 10],
    ref: () => ({ var: [[0.27072853, 9e-7], [0.17746197, 2.5e-6], [0.15993329, 7.4e-6], [0.19052414, 1.4e-5]], m: [1, 2, 5, 10].map((t) => [0.1 * (1 - Math.exp(-t)), 0]) }),
  },
  { name: 'SCS g = 1.5 (forced MC)', file: 'scs.dmft', T: 10, times: [1, 2, 5, 10], ref: () => closure('scs.dmft', {}, 10, [1, 2, 5, 10]) },
  { name: 'partial-sym g = 0.5, κ = 0.8, noise (forced MC)', file: 'linear-partial-sym.dmft', sets: { g: 0.5, kappa: 0.8 }, T: 10, times: [1, 2, 5, 10], ref: () => closure('linear-partial-sym.dmft', { g: 0.5, kappa: 0.8 }, 10, [1, 2, 5, 10]) },
  { name: 'Lotka–Volterra γ = 1, σ = 0.6 (issue: R diverged)', file: 'lotka-volterra.dmft', sets: { gamma: 1, sigma: 0.6 }, T: 50, times: [5, 10, 30, 50], ref: () => finiteN('lotka-volterra-g1-s0.6-finite-n.json') },
  { name: 'consumer–resource (issue: 1.16 ± 0.74)', file: 'consumer-resource.dmft', T: 30, times: [5, 10, 20, 30], ref: () => finiteN('consumer-resource-T30-finite-n.json') },
  { name: 'vector: two linear units through J, Jᵀ (forced MC)', file: 'bench/vector-mc/linear-pair.dmft', T: 3, times: [0.5, 1, 2, 3], ref: () => closure('bench/vector-mc/linear-pair.dmft', {}, 3, [0.5, 1, 2, 3]) },
  { name: 'vector: two linear students (forced MC)', file: 'bench/vector-mc/linear-students.dmft', T: 3, times: [0.5, 1, 2, 3], ref: () => closure('bench/vector-mc/linear-students.dmft', {}, 3, [0.5, 1, 2, 3]) },
  { name: 'vector: two tanh units through J, Jᵀ', file: 'bench/vector-mc/pair.dmft', T: 3, times: [0.5, 1, 2, 3], ref: () => vectorRef('pair') },
  { name: 'vector: two students, tanh loss', file: 'bench/vector-mc/students.dmft', T: 2, times: [0.5, 1, 2], ref: () => vectorRef('students') },
  { name: 'vector: a floor and noise (rectified x, tanh y)', file: 'bench/vector-mc/bounded-pair.dmft', T: 3, times: [0.5, 1, 2, 3], ref: () => vectorRef('bounded_pair') },
  { name: 'vector: a let inside the site', file: 'bench/vector-mc/let-in-site.dmft', T: 3, times: [0.5, 1, 2, 3], ref: () => vectorRef('let_in_site') },
];

const only = process.argv.slice(2);
const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toPrecision(4) : x.toExponential(2));
console.log('| case | observable | t | Monte Carlo | reference | |diff|/error | covered |');
console.log('|---|---|---|---|---|---|---|');
const summary: string[] = [];
for (const c of cases) {
  if (only.length && !only.some((o) => c.file.includes(o) || c.name.includes(o))) continue;
  const ref = c.ref();
  const sys = deriveCavity(loadModel(modelPath(c.file), c.sets ?? {})).system;
  // the CLI's default step: dt = max(0.05, T/400)
  const dt = Math.max(0.05, c.T / 400);
  const t0 = performance.now(), c0 = process.cpuUsage();
  const r = solveMonteCarlo(readSystem(sys, sys.params), { params: sys.params, T: c.T, dt, times: c.times });
  const cpu = process.cpuUsage(c0);
  let n = 0, in1 = 0, in2 = 0, in3 = 0;
  for (const [k, rows] of Object.entries(ref)) {
    if (!r.observables[k]) continue;
    rows.forEach(([v, e], i) => {
      const x = r.observables[k][i], err = r.error[k][i];
      const z = Math.abs(x - v) <= 1e-12 * Math.max(1, Math.abs(v)) ? 0 : Math.abs(x - v) / Math.hypot(err, e);
      n++; if (z <= 1) in1++; if (z <= 2) in2++; if (z <= 3) in3++;
      console.log(`| ${c.name} | ${k} | ${c.times[i]} | ${fmt(x)} ± ${fmt(err)} | ${fmt(v)} ± ${fmt(e)} | ${z.toFixed(2)} | ${z <= 1 ? '1σ' : z <= 2 ? '2σ' : z <= 3 ? '3σ' : 'NO'} |`);
    });
  }
  const d = r.diagnostics;
  summary.push(`| ${c.name} | T = ${c.T}, h = ${(+d.dt).toPrecision(3)} (${d.steps} steps) | ${d.replicas} × ${d.pathsPerReplica} (${d.responsePathsPerReplica} tangents) | ${fmt(+d.mcStdErrMax)} | ${typeof d.finitePathBiasMax === 'number' ? fmt(d.finitePathBiasMax) : '—'} | ${typeof d.discretizationErrorMax === 'number' ? fmt(d.discretizationErrorMax) : d.discretizationErrorMax} | ${d.residualToNoise} | ${in1}/${in2}/${in3} of ${n} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
}
console.log('\n| case | grid | replicas × paths | largest statistical error | largest finite-P bias | largest discretization error | residual (σ) | within 1σ/2σ/3σ | CPU s | wall s |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const s of summary) console.log(s);
