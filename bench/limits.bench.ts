// t → ∞ limits against independent references (bench/ref_limits.py, scipy).
// Run: python3 bench/ref_limits.py > /tmp/ref_limits.json && npx tsx bench/limits.bench.ts /tmp/ref_limits.json
// Prints a markdown table for bench/RESULTS.md: model, reference, value, error, covered?
// (a status other than `value` counts as covered when it is the right verdict).
import { readFileSync } from 'node:fs';
import { deriveCavity } from '../src/derive/cavity.ts';
import { loadModelSource } from '../src/model/load.ts';
import { solve } from '../src/solve/index.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStatic } from '../src/solve/static.ts';
import { solveStationary } from '../src/solve/stationary.ts';
import type { SolveResult } from '../src/solve/types.ts';

const ref = JSON.parse(readFileSync(process.argv[2] ?? '/tmp/ref_limits.json', 'utf8')) as Record<string, number>;
const sys = (src: string, sets: Record<string, number> = {}) => deriveCavity(loadModelSource(src, 'bench.dmft', sets)).system;
const net = (phi: string, init = 'normal(0, 1)', mean = '0') => `model "net"
param g = 1.5, b = 0, J0 = 0
index i, j in 1..N
random J[i,j] ~ normal(${mean}, g^2/N)
state x[i]
init x[i] ~ ${init}
d/dt x[i] = -x[i] + b + sum(j, J[i,j]*${phi})
observe var = mean(i, x[i]^2)
observe m = mean(i, x[i])`;
const lsq = `model "lsq"
param s2 = 0.5
index i in 1..D
index mu in 1..P
ratio P/D = 1
random X[mu,i] ~ normal(0, 1/D)
random teacher[i] ~ normal(0, 1)
random noise[mu] ~ normal(0, s2)
state w[i]
init w[i] = 0
let res[mu] = sum(i, X[mu,i]*(w[i] - teacher[i])) - noise[mu]
d/dt w[i] = -sum(mu, X[mu,i]*res[mu])
observe gen = mean(i, (w[i] - teacher[i])^2)
observe fit = mean(mu, res[mu]^2)`;

const rows: string[][] = [];
const e = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : '—');
const v = (x: number) => String(+x.toPrecision(13));
function row(model: string, what: string, reference: number, value: number, error: number, cpu: number) {
  rows.push([model, what, v(reference), v(value), e(error), Math.abs(value - reference) <= error ? 'yes' : '**no**', cpu.toFixed(2)]);
}
function verdict(model: string, what: string, expected: string, got: string, cpu: number) {
  rows.push([model, what, expected, got, '', expected === got ? 'yes' : '**no**', cpu.toFixed(2)]);
}
function timed<T>(f: () => T): [T, number] {
  const c0 = process.cpuUsage();
  const out = f();
  const c = process.cpuUsage(c0);
  return [out, (c.user + c.system) / 1e6];
}
const limitSolver = (kind: 'static' | 'stationary', src: string, sets: Record<string, number>) => {
  const s = sys(src, sets);
  return timed(() => (kind === 'static' ? solveStatic : solveStationary)(readSystem(s, s.params), { params: s.params, T: 10, dt: 0.1 }));
};

for (const g of [0.5, 1.5]) {
  const [r, cpu] = limitSolver('stationary', net('sign(x[j])'), { g });
  if ('unsupported' in r) throw new Error(r.unsupported);
  row(`sign, g = ${g}`, 'var = Δ0 (chaos)', ref[`sign_g${g}_Delta0`], r.limit.var, r.limitError!.var, cpu);
  const [st, cpu2] = limitSolver('static', net('sign(x[j])'), { g });
  verdict(`sign, g = ${g}`, 'static fixed point', 'refused (δ in φ′)', 'unsupported' in st && /δ/.test(st.unsupported) ? 'refused (δ in φ′)' : 'accepted', cpu2);
}
{
  const [r, cpu] = limitSolver('stationary', net('(x[j] > 0)'), { g: 1.5 });
  if ('unsupported' in r) throw new Error(r.unsupported);
  row('step, g = 1.5', 'var = Δ0 (chaos)', ref['step_g1.5_Delta0'], r.limit.var, r.limitError!.var, cpu);
  row('step, g = 1.5', 'm = 0', 0, r.limit.m, r.limitError!.m, 0);
}
{
  const ht = net('(relu(x[j] + 1) - relu(x[j] - 1) - 1)');
  const [r, cpu] = limitSolver('stationary', ht, { g: 2 });
  if ('unsupported' in r) throw new Error(r.unsupported);
  row('hard tanh, g = 2', 'var = Δ0 (chaos)', ref.hardtanh_g2_Delta0, r.limit.var, r.limitError!.var, cpu);
  const [st, cpu2] = limitSolver('static', ht, { g: 1 });
  verdict('hard tanh, g = 1', 'limit', 'marginal', 'unsupported' in st && st.kind === 'marginal' ? 'marginal' : 'value', cpu2);
}
{
  const [r, cpu] = limitSolver('static', net('relu(x[j])'), { g: 1.3, b: 0.1 });
  if ('unsupported' in r) throw new Error(r.unsupported);
  row('relu, g = 1.3, b = 0.1', 'var (fixed point)', ref['relu_g1.3_b0.1_var'], r.limit.var, r.limitError!.var, cpu);
  rows.push(['relu, g = 1.3, b = 0.1', 'eigenvalue g²P(x > 0)', v(ref['relu_g1.3_b0.1_eigenvalue']), v(r.diagnostics.fluctuationEigenvalue as number), '', Math.abs((r.diagnostics.fluctuationEigenvalue as number) - ref['relu_g1.3_b0.1_eigenvalue']) < 1e-9 ? 'yes' : '**no**', '']);
}
{
  const [r, cpu] = limitSolver('stationary', net('tanh(x[j])', 'normal(0, 1)', 'J0/N'), { g: 3, J0: 4 });
  const bs = 'unsupported' in r ? r.branches ?? [] : [];
  const sym = bs.find((b) => !b.stable);
  verdict('tanh chaos, g = 3, J0 = 4', 'stationary verdict', '2 stable branches', `${bs.filter((b) => b.stable).length} stable branches`, cpu);
  if (sym) {
    row('tanh chaos, g = 3, J0 = 4', 'symmetric branch var = Δ0', ref.scs_g3_Delta0, sym.observables.var, sym.errors.var, 0);
    const gain = Number(/gain ([\d.]+)/.exec(sym.stability)?.[1]);
    rows.push(['tanh chaos, g = 3, J0 = 4', 'its mean-mode gain J0⟨sech²⟩', v(ref.scs_g3_J0_4_meangain), String(gain), '', Math.abs(gain - ref.scs_g3_J0_4_meangain) < 1e-5 ? 'yes' : '**no**', '']);
  }
}
const full = (src: string, sets: Record<string, number>, T: number, method?: string): [SolveResult, number] => {
  const s = sys(src, sets);
  return timed(() => solve(s, { params: s.params, T, dt: 0.1, method }));
};
{
  for (const init of ['normal(0, 1)', 'normal(1, 1)']) {
    const [r, cpu] = full(net('tanh(x[j])', init, 'J0/N'), { g: 0.5, J0: 2 }, 15);
    const b = r.branches!.find((x) => x.stable && x.observables.m > 0)!;
    row(`rank-one tanh, init ${init}`, 'm, + branch', ref.rankone_g0_5_J0_2_m ?? ref['rankone_g0.5_J0_2_m'], b.observables.m, b.errors.m, cpu);
    row(`rank-one tanh, init ${init}`, 'var, + branch', ref['rankone_g0.5_J0_2_var'], b.observables.var, b.errors.var, 0);
    verdict(`rank-one tanh, init ${init}`, 'status of m', init === 'normal(0, 1)' ? 'branches' : 'value', r.limitStatus!.m.status, 0);
  }
}
{
  const [r1, cpu1] = full(net('x[j]'), { g: 1 }, 20);
  const k = r1.t.length - 1;
  row('linear, g = 1', 'var(20) (transient)', ref.linear_g1_var_t20, r1.observables.var[k], r1.error.var[k], cpu1);
  verdict('linear, g = 1', 'limit', 'marginal', r1.limitStatus!.var.status, 0);
  const [r2, cpu2] = full(net('x[j]'), { g: 1.1 }, 20);
  verdict('linear, g = 1.1', 'limit', 'divergent', r2.limitStatus!.var.status, cpu2);
  row('linear, g = 1.1', 'growth rate on [15, 20]', ref['linear_g1.1_rate_15_20'], r2.limitStatus!.var.growth!.rate, 5e-4, 0);
}
{
  const [r, cpu] = full(lsq, {}, 12, 'gaussian');
  const k = r.t.length - 1;
  row('least squares, P = D', 'gen(12) (transient)', ref.lsq_gen_t12, r.observables.gen[k], r.error.gen[k], cpu);
  verdict('least squares, P = D', 'gen limit', 'divergent', r.limitStatus!.gen.status, 0);
  row('least squares, P = D', 'power on [9, 12]', ref.lsq_power_9_12, r.limitStatus!.gen.growth!.rate, 5e-4, 0);
  verdict('least squares, P = D', 'fit limit', 'marginal', r.limitStatus!.fit.status, 0);
}

console.log('| model | quantity | reference | dmftkit | error | covered? | CPU s |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
