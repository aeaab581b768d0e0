// `dmft spectrum` against independent references: the textbook closed forms
// and numpy samples (bench/spectrum_reference.py → bench/references/spectrum.json),
// extrapolated as a + b/N; and the cost of the solver and of the sampled check.
// Run: python3 bench/spectrum_reference.py && npx tsx bench/spectrum.bench.ts
import { readFileSync } from 'node:fs';
import { cpuUsage } from 'node:process';
import { loadModel } from '../src/model/load.ts';
import { deriveSpectrum } from '../src/derive/spectrum.ts';
import { SpectrumSolver, solveSpectrum } from '../src/solve/spectrum.ts';
import { checkSpectrum } from '../src/check/spectrum.ts';

interface Row { N: number; seeds: number; lambda_max: [number, number]; overlap: [number, number]; stieltjes: Record<string, { re: [number, number]; im: [number, number] }> }
const ref = JSON.parse(readFileSync('bench/references/spectrum.json', 'utf8'));

function extrapolate(pts: { N: number; m: number; se: number }[]): [number, number] {
  let S = 0, Sx = 0, Sxx = 0, Sy = 0, Sxy = 0;
  for (const p of pts) { const w = 1 / p.se ** 2, x = 1 / p.N; S += w; Sx += w * x; Sxx += w * x * x; Sy += w * p.m; Sxy += w * x * p.m; }
  const det = S * Sxx - Sx * Sx;
  return [(Sxx * Sy - Sx * Sxy) / det, Math.sqrt(Sxx / det)];
}
const f = (x: number, d = 7) => Number(x.toPrecision(d)).toString();
/** python's str(complex): '(1+0.4j)', '(-1+0.4j)', '0.4j' */
const parseZ = (k: string): [number, number] => {
  const m = /^\(?(-?[\d.]+(?=[+-]))?([+-]?[\d.]+)j\)?$/.exec(k);
  if (!m) throw new Error(`cannot read the complex number ${k}`);
  return [m[1] === undefined ? 0 : Number(m[1]), Number(m[2])];
};

console.log('| model | quantity | dmftkit | closed form | numpy, a + b/N (± se) | (dmftkit − numpy)/se |');
console.log('|---|---|---|---|---|---|');
for (const name of ['semicircle-spike', 'marchenko-pastur-spike']) {
  const model = loadModel(`examples/spectrum/${name}.dmft`);
  const sys = deriveSpectrum(model);
  const t0 = performance.now(), c0 = cpuUsage();
  const s = new SpectrumSolver(sys, model);
  const sol = solveSpectrum(s);
  const c1 = cpuUsage(c0), t1 = performance.now();
  const r = ref[name];
  const rows: Row[] = r.samples;
  const line = (what: string, theory: number, closed: number, pick: (x: Row) => [number, number]) => {
    const [a, se] = extrapolate(rows.map((x) => ({ N: x.N, m: pick(x)[0], se: pick(x)[1] })));
    console.log(`| ${name} | ${what} | ${f(theory, 10)} | ${f(closed, 10)} | ${f(a)} ± ${f(se, 2)} | ${f((theory - a) / se, 2)} |`);
  };
  line('λ_max', sol.outliers[0].lambda, r.closed.lambda_max, (x) => x.lambda_max);
  line('overlap²', sol.outliers[0].overlaps[0], r.closed.overlap, (x) => x.overlap);
  for (const k of Object.keys(r.closed.stieltjes)) {
    const z = parseZ(k);
    const m = s.stieltjes(z).m;
    line(`Re m(${z[0]}+${z[1]}i)`, m[0], r.closed.stieltjes[k][0], (x) => x.stieltjes[k].re);
    line(`Im m(${z[0]}+${z[1]}i)`, m[1], r.closed.stieltjes[k][1], (x) => x.stieltjes[k].im);
  }
  console.log(`\n${name}: support ${sol.support.map(([a, b]) => `[${f(a, 12)}, ${f(b, 12)}]`).join(' ∪ ')}, mass ${f(sol.mass, 10)}; solve (201-point density, edges, outliers): ${f((t1 - t0) / 1000, 3)} s wall, ${f((c1.user + c1.system) / 1e6, 3)} s CPU`);
  const c2 = cpuUsage(), t2 = performance.now();
  const chk = checkSpectrum(model, sys, s, sol, { N: [200, 400, 800], seeds: 8, seed: 1 });
  const c3 = cpuUsage(c2), t3 = performance.now();
  console.log(chk.text.join('\n'));
  console.log(`sampled check (N = 200, 400, 800; 8 seeds; ml-matrix eigenvectors): ${f((t3 - t2) / 1000, 3)} s wall, ${f((c3.user + c3.system) / 1e6, 3)} s CPU\n`);
}
