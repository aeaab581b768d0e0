// The power-law scaling law of examples/power-law-ridge.dmft: the static t → ∞
// test error over α against the deterministic equivalent of
// bench/power_law_reference.py (bench/references/power-law-ridge.json), and the
// local slopes of the curve against the exponent −(1 + 1/a).
// Run: npx tsx bench/power-law.bench.ts   (0.1–0.3 s of CPU per point; six cheap points are in
// test/solve/power-law-static.test.ts)
import { readFileSync } from 'node:fs';
import { deriveCavity } from '../src/derive/cavity.ts';
import { loadModel } from '../src/model/load.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStatic } from '../src/solve/static.ts';

const ref = JSON.parse(readFileSync('bench/references/power-law-ridge.json', 'utf8'));
const sys = deriveCavity(loadModel('examples/power-law-ridge.dmft')).system;
let worst = 0;
for (const curve of ref.curves) {
  const vals: number[] = [];
  for (let k = 0; k < curve.alpha.length; k++) {
    const params = { ...sys.params, alpha: curve.alpha[k], a: curve.a, lam: ref.lam };
    const out = solveStatic(readSystem(sys, params), { params, T: 1, dt: 0.05 });
    if ('unsupported' in out) throw new Error(out.unsupported);
    const v = out.limit.test, e = out.limitError?.test ?? 0;   // the excess risk, as the reference
    const rel = Math.abs(v - curve.test[k]) / curve.test[k];
    worst = Math.max(worst, rel);
    vals.push(v);
    console.log(`a = ${curve.a}, alpha = ${curve.alpha[k].toPrecision(4)}: dmftkit ${v.toPrecision(10)} ± ${e.toExponential(1)}   closed form ${curve.test[k].toPrecision(10)}   relative difference ${rel.toExponential(1)}`);
  }
  const n = vals.length;
  const slope = Math.log(vals[n - 1] / vals[n - 3]) / Math.log(curve.alpha[n - 1] / curve.alpha[n - 3]);
  console.log(`a = ${curve.a}: slope on alpha in [${curve.alpha[n - 3].toPrecision(3)}, ${curve.alpha[n - 1].toPrecision(3)}] = ${slope.toFixed(4)}; exponent -(1 + 1/a) = ${curve.exponent.toFixed(4)}`);
}
console.log(`largest relative difference from the closed form: ${worst.toExponential(1)}`);
