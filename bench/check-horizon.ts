// The T-limit `check` picks from the theory's relaxation when --T-limit is not
// given (lateHorizon in src/check/run.ts), for the examples with t → ∞ values.
// Run: nice -n 10 npx tsx bench/check-horizon.ts [example…]
import { loadModel } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { solve } from '../src/solve/index.ts';
import { lateHorizon } from '../src/check/run.ts';
import { CHECK_DEFAULTS } from '../src/cli/check.ts';

const files = process.argv.slice(2).length ? process.argv.slice(2) : ['momentum', 'two-students', 'warm-start', 'random-features', 'transpose-mix'];
const T = CHECK_DEFAULTS.T, dt = CHECK_DEFAULTS.dt;
console.log('| example | limit method | T-limit (default 40) | why |\n|---|---|---|---|');
for (const f of files) {
  const sys = derive(loadModel(`examples/${f}.dmft`)).system;
  const times = Array.from({ length: 17 }, (_, j) => (T * (16 + j)) / 32);
  const r = solve(sys, { params: sys.params, T, dt, times });
  const h = lateHorizon(r, T, CHECK_DEFAULTS.TLimitFactor * T, CHECK_DEFAULTS.target);
  console.log(`| ${f} | ${r.diagnostics.limitMethod ?? '—'} | ${h.TL} | ${h.TL > 40 ? h.note.replace(/^t → ∞: /, '') : 'the default suffices'} |`);
}
