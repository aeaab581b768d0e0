// Paper notation and non-Gaussian couplings against independent references.
// Run: npx tsx bench/paper-notation.bench.ts [--quick]
// Prints a markdown section for bench/RESULTS.md ("## Paper notation, non-Gaussian couplings").
//
// Two linear networks written as papers write them, with uniform entries of
// variance 1 and the scale g/sqrt(N) in front, driven by white noise of
// strength 1: i.i.d. entries and symmetric ones. Their DMFT (derived by both
// routes, solved in the frequency domain) is compared with the closed forms of
// the Gaussian ensembles of the same variance — C(0) = 1/(2√(1−g²)) and
// C(0) = (1/2)(1 − √(1−4g²))/(2g²) — and with exact finite-N covariances of
// sampled uniform matrices (bench/nongaussian_reference.py: Lyapunov equation
// and eigenvalues, numpy/scipy), extrapolated in 1/N.
import { execFileSync } from 'node:child_process';
import { loadModelSource } from '../src/model/load.ts';
import { derive } from '../src/derive/index.ts';
import { normalizeSystem } from '../src/derive/normalize.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStationary } from '../src/solve/stationary.ts';

const quick = process.argv.includes('--quick');
const model = (g: number, opt: string) => `model "uniform couplings, paper notation"
param g = ${g}
index i, j in 1..N
random J[i,j] ~ uniform(-sqrt(3), sqrt(3))${opt}
noise xi[i] ~ white(1)
state x[i]
init x[i] = 0
d/dt x[i] = -x[i] + g/sqrt(N)*sum(j, J[i,j]*x[j]) + xi[i]
observe var = mean(i, x[i]^2)
`;

function dmft(src: string): { value: number; error: number; ms: number } {
  const m = loadModelSource(src, 'paper.dmft');
  const c = derive(m, 'cavity'), p = derive(m, 'msr');
  if (JSON.stringify(normalizeSystem(c.system)) !== JSON.stringify(normalizeSystem(p.system))) throw new Error('the routes disagree');
  const rd = readSystem(c.system, c.system.params);
  const t0 = performance.now();
  const r = solveStationary(rd, { params: c.system.params, T: 20, dt: 0.05 });
  if ('unsupported' in r) throw new Error(r.unsupported);
  return { value: r.limit.var, error: r.limitError?.var ?? NaN, ms: performance.now() - t0 };
}

const gIid = 0.6, gSym = 0.45;
const Ns = quick ? [200, 400] : [400, 800, 1600];
const samples = quick ? 2 : 4;
const ref = JSON.parse(execFileSync('python3', ['bench/nongaussian_reference.py', '--Ns', Ns.join(','), '--samples', String(samples), '--g-iid', String(gIid), '--g-sym', String(gSym)], { encoding: 'utf8' }));

const e = (x: number) => x.toExponential(2);
const out: string[] = [];
const log = (s: string) => { out.push(s); console.log(s); };
log('## Paper notation, non-Gaussian couplings');
log('');
log(`\`npx tsx bench/paper-notation.bench.ts${quick ? ' --quick' : ''}\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`);
log('');
log('ẋ = −x + g/√N Σ_j J_ij x_j + ξ, J_ij ~ uniform(−√3, √3) (variance 1), ⟨ξξ⟩ = δ; C(0) = ⟨x²⟩ stationary. DMFT: derived by both routes (identical), solved in the frequency domain; it is the DMFT of Gaussian couplings of variance g²/N. Finite N: exact covariances of sampled uniform matrices (`bench/nongaussian_reference.py`), least-squares fit a + b/N.');
log('');
log('| ensemble | g | closed form (Gaussian) | DMFT C(0) ± err | N | samples | finite-N mean ± s.e. | rel. diff to DMFT |');
log('|---|---|---|---|---|---|---|---|');
const extrap: string[] = [];
for (const [name, g, opt, exact] of [
  ['i.i.d.', gIid, '', 1 / (2 * Math.sqrt(1 - gIid * gIid))],
  ['symmetric', gSym, ', symmetric', 0.5 * (1 - Math.sqrt(1 - 4 * gSym * gSym)) / (2 * gSym * gSym)],
] as [string, number, string, number][]) {
  const d = dmft(model(g, opt));
  const key = name === 'i.i.d.' ? 'iid' : 'sym';
  const pts: { N: number; v: number }[] = [];
  for (const N of Ns) {
    const vals: number[] = ref[key][String(N)];
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const se = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1) / vals.length);
    vals.forEach((v) => pts.push({ N, v }));
    log(`| ${name} | ${g} | ${exact.toFixed(8)} | ${d.value.toFixed(8)} ± ${e(d.error)} | ${N} | ${vals.length} | ${m.toFixed(5)} ± ${se.toFixed(5)} | ${e((m - d.value) / d.value)} |`);
  }
  const n = pts.length, sx = pts.reduce((s, p) => s + 1 / p.N, 0), sy = pts.reduce((s, p) => s + p.v, 0);
  const sxx = pts.reduce((s, p) => s + 1 / p.N ** 2, 0), sxy = pts.reduce((s, p) => s + p.v / p.N, 0);
  const b = (n * sxy - sx * sy) / (n * sxx - sx * sx), a = (sy - b * sx) / n;
  const res = pts.reduce((s, p) => s + (p.v - a - b / p.N) ** 2, 0) / Math.max(1, n - 2);
  const seA = Math.sqrt(res * sxx / (n * sxx - sx * sx));
  extrap.push(`| ${name} | ${g} | ${exact.toFixed(8)} | ${d.value.toFixed(8)} | ${e(Math.abs(d.value - exact) / exact)} | ${a.toFixed(5)} ± ${seA.toFixed(5)} | ${((a - d.value) / seA).toFixed(2)} |`);
}
log('');
log('| ensemble | g | closed form | DMFT | DMFT rel. error | finite N extrapolated to ∞ (± s.e.) | (extrapolated − DMFT)/s.e. |');
log('|---|---|---|---|---|---|---|');
for (const x of extrap) log(x);
log('');
