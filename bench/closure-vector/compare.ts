// The vector Gaussian closure against independent references: a references
// file of entries { model, params, observable, time, value, error } (default:
// bench/closure-vector/random-features.json converted, or any file in the
// format of bench/vector/references.json given as the first argument).
// Prints per entry the closure's value ± error, the reference, and
// |difference| / (closure error + reference error).
// Run: nice -n 10 npx tsx bench/closure-vector/compare.ts [references.json] [--dt 0.1] [--tmax T]
import { readFileSync } from 'node:fs';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solveGaussian } from '../../src/solve/gaussian.ts';
import { readSystem } from '../../src/solve/read.ts';

interface Entry { model: string; params: Record<string, number>; observable: string; time: number; value: number; error: number }
const args = process.argv.slice(2);
const dtAt = args.indexOf('--dt');
const dt = dtAt >= 0 ? Number(args[dtAt + 1]) : 0.1;
const tmaxAt = args.indexOf('--tmax');
const tmax = tmaxAt >= 0 ? Number(args[tmaxAt + 1]) : Infinity;
const file = args.find((a, i) => !a.startsWith('--') && i !== dtAt + 1 && i !== tmaxAt + 1);
let entries: Entry[];
if (file) entries = (JSON.parse(readFileSync(file, 'utf8')) as { entries: Entry[] }).entries;
else {
  const rf = JSON.parse(readFileSync(new URL('./random-features.json', import.meta.url), 'utf8')) as { cases: { params: Record<string, number>; times: number[]; test: { value: number; error: number }[]; train: { value: number; error: number }[] }[] };
  entries = rf.cases.flatMap((c) => c.times.flatMap((t, i) => (['test', 'train'] as const).map((k) => ({ model: 'examples/random-features.dmft', params: c.params, observable: k, time: t, value: c[k][i].value, error: c[k][i].error }))));
}
const groups = new Map<string, Entry[]>();
entries = entries.filter((e) => e.time <= tmax);
for (const e of entries) { const k = `${e.model} ${JSON.stringify(e.params)}`; groups.set(k, [...(groups.get(k) ?? []), e]); }
let worst = 0, n = 0;
for (const [k, es] of groups) {
  const { model, params } = es[0];
  const times = [...new Set(es.map((e) => e.time))].sort((a, b) => a - b);
  const T = Math.max(...times);
  const sys = deriveCavity(loadModel(model, params)).system;
  const t0 = performance.now();
  let r;
  try {
    r = solveGaussian(readSystem(sys, sys.params), { params: sys.params, T, dt, times }).result;
  } catch (e) {
    console.log(`${k}: not a Gaussian-closure model (${(e as Error).message.slice(0, 120)}…); skipped`);
    continue;
  }
  console.log(`${k}  (T = ${T}, dt = ${dt}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  for (const e of es) {
    if (!(e.observable in r.observables)) { console.log(`  ${e.observable}: not an observable of ${model}; skipped`); continue; }
    const i = times.indexOf(e.time);
    const v = r.observables[e.observable][i], err = r.error[e.observable][i];
    const z = Math.abs(v - e.value) / (err + e.error);
    worst = Math.max(worst, z); n++;
    console.log(`  ${e.observable.padEnd(9)} t = ${String(e.time).padEnd(4)} closure ${v.toPrecision(9)} ± ${err.toExponential(1)}   reference ${e.value.toPrecision(9)} ± ${e.error.toExponential(1)}   |diff|/(errors) = ${z.toFixed(2)}`);
  }
}
console.log(`${n} entries; largest |difference| / (closure error + reference error) = ${worst.toFixed(2)}`);
