// Scripting dmftkit from Node: the stationary variance of the random rate
// network (examples/scs.dmft) across the transition at g = 1.
// Run from the repository: node examples/api-sweep.mjs [g1,g2,…]
import { loadModel, solve } from 'dmftkit';

const gs = (process.argv[2] ?? '0.5,0.9,1.2,1.5,2').split(',').map(Number);
const model = loadModel(new URL('./scs.dmft', import.meta.url).pathname);
console.log('g\tvar(∞)\terror\tstatus');
for (const g of gs) {
  // T = 20 is enough for the limit solvers; they report the status of each limit
  const r = solve(model, { set: { g }, T: 20 });
  const st = r.limitStatus?.var;
  const value = r.limit?.var;
  console.log([g, value ?? '—', r.limitError?.var ?? '—', st?.status ?? '—'].join('\t'));
}
