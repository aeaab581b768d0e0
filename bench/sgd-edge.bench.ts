// The learning-rate edge of minibatch SGD on linear regression
// (examples/sgd-linear-regression.dmft, alpha = 2): the step-grid closure's
// t → ∞ status at T = 80 steps over a grid of lr for several batch fractions b.
// Full-batch GD (b = 1) is stable up to 2/λ_max = 0.686. Results in bench/RESULTS.md.
// Run: npx tsx bench/sgd-edge.bench.ts
import { derive } from '../src/derive/index.ts';
import { loadModel } from '../src/model/load.ts';
import { solve } from '../src/solve/index.ts';

const T = 80;
const LRS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7];
console.log(`| b | ${LRS.map((lr) => `lr = ${lr}`).join(' | ')} |`);
console.log(`|---|${LRS.map(() => '---').join('|')}|`);
for (const b of [1, 0.5, 0.25, 0.1]) {
  const cells: string[] = [];
  for (const lr of LRS) {
    const params = { lr, b };
    const sys = derive(loadModel('examples/sgd-linear-regression.dmft', params), 'cavity').system;
    let cell: string;
    try {
      const r = solve(sys, { params: { ...sys.params, ...params }, T, dt: 1 });
      const st = r.limitStatus!.test;
      cell = st.status === 'value' ? `test ${r.limit!.test.toPrecision(3)}` : st.status === 'divergent' ? `divergent ×${Math.exp(st.growth!.rate).toFixed(3)}/step` : st.status;
    } catch (e) {
      cell = /overflow|diverges/.test(String(e)) ? 'overflow (divergent)' : `error: ${String(e).slice(0, 60)}`;
    }
    cells.push(cell);
  }
  console.log(`| ${b} | ${cells.join(' | ')} |`);
}
