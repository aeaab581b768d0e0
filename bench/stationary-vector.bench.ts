// Stationary solver on vector sites (src/solve/stationary-vector.ts): agreement and timings.
// Run: npx tsx bench/stationary-vector.bench.ts [--refs bench/vector/references.json]
// Prints markdown rows for bench/RESULTS.md ("Stationary state of vector sites").
//  1. transpose-mix (J + b·Jᵀ) vs the scalar partially symmetric network with effective (g', κ'),
//     and vs the "inf" rows of an independent reference file when --refs is given;
//  2. an OU-driven network (two states per site, not in examples/) vs its closed form;
//  3. gradient flow (two students, momentum) vs the Marchenko–Pastur least-squares limits.
import { existsSync, readFileSync } from 'node:fs';
import { loadModel, loadModelSource } from '../src/model/load.ts';
import { deriveCavity } from '../src/derive/cavity.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStationary, type StationaryResult } from '../src/solve/stationary.ts';

function run(file: string, sets: Record<string, number>, src?: string): { r: StationaryResult; ms: number } {
  const sys = deriveCavity(src ? loadModelSource(src, file, sets) : loadModel(file, sets)).system;
  const t0 = performance.now();
  const r = solveStationary(readSystem(sys, sys.params), { params: sys.params, T: 10, dt: 0.1 });
  const ms = performance.now() - t0;
  if ('unsupported' in r) throw new Error(r.unsupported);
  return { r, ms };
}
const e = (x: number) => x.toExponential(2);
const rows: string[] = ['| case | observable | solver (± bar) | reference | |difference| | ms |', '|---|---|---|---|---|---|'];
const row = (c: string, k: string, r: StationaryResult, ref: number, ms: number, what: string) =>
  rows.push(`| ${c} | ${k} | ${r.limit[k].toPrecision(13)} ± ${e(r.limitError![k])} | ${ref.toPrecision(13)} (${what}) | ${e(Math.abs(r.limit[k] - ref))} | ${ms.toFixed(0)} |`);

const eff = (g: number, b: number, kappa: number) => { const s = 1 + b * b + 2 * b * kappa; return { g: g * Math.sqrt(s), kappa: (kappa * (1 + b * b) + 2 * b) / s }; };
const refsArg = process.argv.indexOf('--refs');
const refs = refsArg > 0 && existsSync(process.argv[refsArg + 1]) ? JSON.parse(readFileSync(process.argv[refsArg + 1], 'utf8')).entries as { model: string; params: Record<string, number>; observable: string; time: unknown; value: number | null; kind: string }[] : [];
for (const [g, b, kappa] of [[0.5, 0.3, 0.2], [0.6, -0.5, 0.5], [0.3, 1.5, -0.4]]) {
  const { r, ms } = run('examples/transpose-mix.dmft', { g, b, kappa });
  const s = run('examples/linear-partial-sym.dmft', eff(g, b, kappa)).r;
  const c = `transpose-mix g=${g} b=${b} κ=${kappa}`;
  row(c, 'var', r, s.limit.var, ms, "scalar twin (g', κ')");
  const ref = refs.find((x) => x.model.endsWith('transpose-mix.dmft') && x.params.g === g && x.params.b === b && x.params.kappa === kappa && x.time === 'inf' && x.kind === 'large-N closed form' && x.value !== null);
  if (ref) row(c, 'var', r, ref.value!, ms, 'references.json closed form');
}
const OU = readFileSync(new URL('./vector/ou-network.dmft', import.meta.url), 'utf8');
for (const [g, k, D] of [[0.6, 0.5, 1], [0.9, 3, 0.4]]) {
  const { r, ms } = run('ou-network.dmft', { g, k, D }, OU);
  const a = Math.sqrt(1 - g * g);
  row(`OU-driven network g=${g} k=${k} D=${D}`, 'var', r, D / (2 * k * a * (k + a)), ms, 'D/(2ka(k+a))');
  row(`OU-driven network g=${g} k=${k} D=${D}`, 'xu', r, D / (2 * k * (1 + k)), ms, 'D/(2k(1+k))');
}
for (const [alpha, sigma2] of [[2, 0.25], [3, 0.5]]) {
  const test = sigma2 / (2 * (alpha - 1)), train = (sigma2 * (1 - 1 / alpha)) / 2;
  const t = run('examples/two-students.dmft', { alpha, sigma2 });
  row(`two-students α=${alpha} σ²=${sigma2}`, 'test', t.r, test, t.ms, 'σ²/(2(α−1))');
  row(`two-students α=${alpha} σ²=${sigma2}`, 'variance', t.r, 0, t.ms, '0');
  const m = run('examples/momentum.dmft', { alpha, sigma2, beta: 0.3 });
  row(`momentum α=${alpha} σ²=${sigma2} β=0.3`, 'test', m.r, test, m.ms, 'σ²/(2(α−1))');
  row(`momentum α=${alpha} σ²=${sigma2} β=0.3`, 'train', m.r, train, m.ms, 'σ²(1−1/α)/2');
}
console.log(rows.join('\n'));
