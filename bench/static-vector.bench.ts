// The static cavity of vector sites (src/solve/static-site.ts) against
// independent references: the vector stationary solver's ω = 0 part, the
// least-squares closed forms (bench/vector/ls_limits.py), the minimum-norm
// random-features readout at finite D (bench/static-vector/rf_minnorm_ref.py,
// values below), and the finite-N two-unit reference (references.json).
// Run: nice -n 10 npx tsx bench/static-vector.bench.ts
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStatic } from '../src/solve/static.ts';
import { solveStationary } from '../src/solve/stationary.ts';

const ls = (alpha: number, s2: number): Record<string, number> => ({ test: s2 / (2 * (alpha - 1)), train: (s2 * (1 - 1 / alpha)) / 2 });
const twoUnit = JSON.parse(readFileSync('bench/static-vector/references.json', 'utf8'))['two-unit'].extrapolated as Record<string, { value: number; se: number }>;
const cases: { file: string; set?: Record<string, number>; ref?: Record<string, number | string>; refName: string }[] = [
  { file: 'examples/momentum.dmft', ref: ls(2, 0.25), refName: 'closed form' },
  { file: 'examples/warm-start.dmft', ref: ls(2, 0.25), refName: 'closed form' },
  { file: 'examples/two-students.dmft', ref: { ...ls(2, 0.25), ensemble: 0.125, variance: 0 }, refName: 'closed form' },
  { file: 'examples/two-students.dmft', set: { alpha: 3, sigma2: 0.5 }, ref: { test: 0.125, ensemble: 0.125, variance: 0 }, refName: 'closed form' },
  { file: 'examples/two-students.dmft', set: { alpha: 0.5 }, ref: { test: 0.625, ensemble: 0.5, variance: 0.25 }, refName: 'closed form (zero modes keep the init)' },
  { file: 'examples/momentum.dmft', set: { alpha: 0.5 }, ref: { test: 0.375, train: 0 }, refName: 'closed form (min-norm from 0)' },
  { file: 'examples/random-features.dmft', set: { gamma: 0.5, sigma2: 0.25 }, refName: 'stationary solver' },
  { file: 'examples/random-features.dmft', refName: 'exact (β = w*)', ref: { test: 0, train: 0 } },
  { file: 'examples/random-features.dmft', set: { alpha: 0.5, sigma2: 0.25 }, refName: 'finite-D min-norm, rf_minnorm_ref.py 0.5 1.5 0.25', ref: { test: 'see RESULTS.md' } },
  { file: 'bench/static-vector/two-unit.dmft', refName: 'finite N, two_unit_ref.py (± SE)', ref: Object.fromEntries(Object.entries(twoUnit).map(([k, x]) => [k, `${x.value.toFixed(5)} ± ${x.se.toFixed(5)}`])) },
];
console.log('| model | set | observable | static ± error | reference | which | s |\n|---|---|---|---|---|---|---|');
for (const c of cases) {
  const rd = readSystem(derive(loadModel(c.file, c.set ?? {})).system);
  const t0 = performance.now();
  const out = solveStatic(rd, { params: {}, T: 1, dt: 0.1 });
  const sec = ((performance.now() - t0) / 1000).toFixed(1);
  let ref = c.ref;
  if (!ref) {
    const st = solveStationary(rd, { params: {}, T: 1, dt: 0.1 });
    ref = 'unsupported' in st ? {} : st.limit;
  }
  const set = Object.entries(c.set ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—';
  if ('unsupported' in out) { console.log(`| ${c.file} | ${set} | — | refused: ${out.unsupported} | | | ${sec} |`); continue; }
  for (const [k, v] of Object.entries(out.limit)) {
    const r = ref[k];
    console.log(`| ${c.file.replace(/^.*\//, '')} | ${set} | ${k} | ${v.toPrecision(10)} ± ${out.limitError[k].toExponential(1)} | ${typeof r === 'number' ? r.toPrecision(10) : r ?? '—'} | ${c.refName} | ${sec} |`);
  }
}
