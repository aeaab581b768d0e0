// The stationary state of minibatch SGD on linear regression solved directly
// (src/solve/map-stationary.ts; examples/sgd-linear-regression.dmft, alpha = 2,
// sigma2 = 0.25): the noise floor over a grid of learning rates and batch
// fractions, the learning-rate edge of each b by bisection on the direct
// solver's verdict, and the direct value against the transient's geometric
// tail at T = 100. Results in bench/RESULTS.md; the exact finite-D reference is
// bench/sgd_stationary_ref.py.
// Run: npx tsx bench/map-stationary.bench.ts
import { derive } from '../src/derive/index.ts';
import { loadModel } from '../src/model/load.ts';
import { solveMapStationary } from '../src/solve/map-stationary.ts';
import { solve } from '../src/solve/index.ts';
import { tailStatus } from '../src/solve/map.ts';

const at = (lr: number, b: number) => {
  const sys = derive(loadModel('examples/sgd-linear-regression.dmft', { lr, b })).system;
  const t0 = performance.now();
  const r = solveMapStationary(sys, { ...sys.params, lr, b });
  const sec = (performance.now() - t0) / 1000;
  const obs = (k: string) => (r.status === 'value' ? r.observable(sys.observables.find((o) => o.name === k)!.expr) : undefined);
  return { r, sys, sec, test: obs('test'), train: obs('train') };
};

console.log('noise floor (test loss at t → ∞, ± the solver\'s bar; seconds):');
console.log('| b | lr = 0.2 | 0.3 | 0.4 | 0.5 | 0.6 | 0.65 |');
console.log('|---|---|---|---|---|---|---|');
for (const b of [1, 0.5, 0.25, 0.1]) {
  const cells = [0.2, 0.3, 0.4, 0.5, 0.6, 0.65].map((lr) => {
    const x = at(lr, b);
    return x.test ? `${x.test.value.toFixed(6)} ± ${x.test.error.toExponential(0)} (${x.sec.toFixed(1)} s)` : `${x.r.status}`;
  });
  console.log(`| ${b} | ${cells.join(' | ')} |`);
}

console.log('\nlearning-rate edge (bisection on the verdict: divergent/marginal above; below: a value, or a response too slow to resolve, left to the transient):');
for (const b of [1, 0.5, 0.25, 0.1]) {
  let lo = 0.05, hi = 0.8;
  for (let k = 0; k < 12; k++) { const mid = (lo + hi) / 2; if (!['divergent', 'marginal'].includes(at(mid, b).r.status)) lo = mid; else hi = mid; }
  const above = at(hi, b).r, below = at(lo, b).r;
  console.log(`b = ${b}: edge in [${lo.toFixed(4)}, ${hi.toFixed(4)}]; just below: ${below.status}; just above: ${above.status} (${above.reason.slice(0, 110)})`);
}

console.log('\ndirect vs the transient\'s geometric tail (T = 100):');
for (const [lr, b] of [[0.5, 0.5], [0.5, 0.25], [0.3, 0.5]]) {
  const x = at(lr, b);
  const tr = solve(x.sys, { params: { ...x.sys.params, lr, b }, T: 100, dt: 1 });
  const late = tr.observables.test.slice(-8);
  const tail = tailStatus(late, 100);
  console.log(`lr = ${lr}, b = ${b}: direct ${x.test!.value.toFixed(9)} ± ${x.test!.error.toExponential(1)}; tail ${tail.value?.toFixed(9)} ± ${tail.error?.toExponential(1)} (${tail.status.status})`);
}
