// The static cavity solver on tanh networks with a quenched bias and
// partially symmetric couplings, against an independent reference
// (bench/ref_static_bias.py: scipy quad + brentq, cross-checked by a fine
// trapezoid rule, optionally by finite-N fixed points).
// Run: python3 bench/ref_static_bias.py > /tmp/ref_static_bias.json && npx tsx bench/static-bias.bench.ts /tmp/ref_static_bias.json
// Prints a markdown table for bench/RESULTS.md ("covered?" = |dmftkit − reference| ≤ error, or the right refusal).
import { readFileSync } from 'node:fs';
import { deriveCavity } from '../src/derive/cavity.ts';
import { loadModelSource } from '../src/model/load.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStatic } from '../src/solve/static.ts';

interface Ref { g: number; s2: number; kappa: number; q: number; chi: number; var: number; replicon: number; finiteN?: { extrapolated: number; extrapolatedSE: number } }
const refs = JSON.parse(readFileSync(process.argv[2] ?? '/tmp/ref_static_bias.json', 'utf8')) as Ref[];

// the bias observed as well (⟨x b⟩): b is then read by an observable, so it stays its own quadrature dimension
const model = (kappa: number, observeBias: boolean) => `model "tanh network with a quenched bias"
param g = 0.7, s2 = 0.1
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)${kappa === 1 ? ', symmetric' : kappa === 0 ? '' : `, corr(J[i,j], J[j,i]) = ${kappa}`}
random b[i] ~ normal(0, s2)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + b[i]
observe var = mean(i, x[i]^2)
${observeBias ? 'observe xb = mean(i, x[i]*b[i])' : ''}`;

const rows: string[][] = [];
const v = (x: number) => String(+x.toPrecision(13));
for (const r of refs) {
  for (const observeBias of [false, true]) {
    const sys = deriveCavity(loadModelSource(model(r.kappa, observeBias), 'bench.dmft', { g: r.g, s2: r.s2 })).system;
    const c0 = process.cpuUsage();
    const out = solveStatic(readSystem(sys, sys.params), { params: sys.params, T: 0, dt: 0 });
    const c = process.cpuUsage(c0);
    const cpu = ((c.user + c.system) / 1e6).toFixed(2);
    const name = `g = ${r.g}, s2 = ${r.s2}, κ = ${r.kappa}${observeBias ? ' (2-D)' : ''}`;
    if ('unsupported' in out) {
      const right = r.replicon >= 1;
      rows.push([name, 'var', right ? `refused (replicon ${r.replicon.toFixed(3)})` : v(r.var), 'refused', '', right ? 'yes' : '**no**', cpu, '']);
      continue;
    }
    const d = out.diagnostics;
    for (const [what, ref, val, err] of [
      ['var', r.var, out.limit.var, out.limitError!.var],
      ['χ = R', r.chi, d['R[tanh(x)|eta]'] as number, NaN],
    ] as [string, number, number, number][]) {
      if (val === undefined) continue; // κ = 0: no reaction term, no response order parameter
      const covered = Number.isNaN(err) ? '' : r.replicon >= 1 ? '**no** (should refuse)' : Math.abs(val - ref) <= err ? 'yes' : '**no**';
      rows.push([name, what, v(ref), v(val), Number.isNaN(err) ? '' : err.toExponential(1), covered, what === 'var' ? cpu : '', what === 'var' ? String(d.quadratureLevels) : '']);
    }
  }
}
console.log('| model | quantity | reference | dmftkit | error | covered? | CPU s | levels |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const fn = refs.filter((r) => r.finiteN);
if (fn.length) {
  console.log('\nfinite N (N = 500 … 4000, extrapolated in 1/N) against the cavity var:');
  for (const r of fn) console.log(`  g = ${r.g}, s2 = ${r.s2}, κ = ${r.kappa}: ${r.finiteN!.extrapolated.toFixed(5)} ± ${r.finiteN!.extrapolatedSE.toFixed(5)} vs ${r.var.toFixed(6)}`);
}
