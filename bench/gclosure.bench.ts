// Accuracy and cost of the Gaussian closure on kinked networks (relu, sign):
// the relu-network example settling at its closed-form fixed point, and
// transients against independent references. CPU seconds (process.cpuUsage)
// because the machine is shared.
//   npx tsx bench/gclosure.bench.ts
// The Python reference for the cases with a bias: bench/gauss_closure_ref.py.
import { deriveCavity } from '../src/derive/cavity.ts';
import { erf } from '../src/numeric/special.ts';
import { loadModel, loadModelSource } from '../src/model/load.ts';
import { limitFromSeries } from '../src/solve/index.ts';
import { solveGaussian } from '../src/solve/gaussian.ts';
import { readSystem } from '../src/solve/read.ts';

const Phi = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)), phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

function reluFixedPoint(g: number, b: number): number {
  const E2 = (s: number) => (b * b + s * s) * Phi(b / s) + b * s * phi(b / s);
  let lo = 1e-6, hi = 100;
  for (let i = 0; i < 200; i++) { const q = (lo + hi) / 2; if (E2(g * Math.sqrt(q)) > q) lo = q; else hi = q; }
  return b * b + g * g * lo;
}

function timed<T>(f: () => T): { r: T; cpu: number } {
  const t0 = process.cpuUsage();
  const r = f();
  const u = process.cpuUsage(t0);
  return { r, cpu: (u.user + u.system) / 1e6 };
}

const rows: string[] = [];
{
  const sys = deriveCavity(loadModel('examples/relu-network.dmft')).system;
  const exact = reluFixedPoint(1.2, 0.1);
  for (const [T, dt] of [[60, 0.2], [100, 0.5]]) {
    const { r: sol, cpu } = timed(() => solveGaussian(readSystem(sys), { params: sys.params, T, dt, times: [T] }));
    const lim = limitFromSeries(sol.series);
    const v = sol.result.observables.var[0], e = sol.result.error.var[0];
    rows.push(`| relu-network example (g = 1.2, b = 0.1), T = ${T}, dt = ${dt} | var(T) = ${v.toFixed(10)} ± ${e.toExponential(1)} | limit from the transient ${lim.limit.var?.toFixed(10)} ± ${lim.limitError.var?.toExponential(1)} | exact ${exact.toFixed(10)} | |limit − exact| = ${Math.abs(lim.limit.var - exact).toExponential(1)} | ${cpu.toFixed(1)} s |`);
  }
}
{
  const src = (phi: string, g: number, b: number, v0: number) => `model "${phi}"
param g = ${g}, b = ${b}
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
state x[i]
init x[i] ~ normal(0, ${v0})
d/dt x[i] = -x[i] + b + sum(j, J[i,j]*${phi}(x[j]))
observe var = mean(i, x[i]^2)`;
  for (const [phi, g, b, v0, T, dt] of [['sign', 1.5, 0.2, 1, 3, 0.1], ['relu', 1.2, 0.1, 1, 3, 0.1]] as const) {
    const sys = deriveCavity(loadModelSource(src(phi, g, b, v0), '<bench>')).system;
    const { r: sol, cpu } = timed(() => solveGaussian(readSystem(sys), { params: sys.params, T, dt, times: [1, 2, 3] }));
    rows.push(`| ${phi} network g = ${g}, b = ${b}, v0 = ${v0}, dt = ${dt} | var(1, 2, 3) = ${sol.result.observables.var.map((x, i) => `${x.toFixed(9)} ± ${sol.result.error.var[i].toExponential(1)}`).join(', ')} | | | | ${cpu.toFixed(1)} s |`);
  }
}
console.log(rows.join('\n'));
