// Stationary solver: accuracy against exact references and timings.
// Run: npx tsx bench/stationary.bench.ts [--quick]
// Prints a markdown section for bench/RESULTS.md ("## Stationary solver").
//
//  1. partially symmetric linear network vs the exact finite-N Lyapunov
//     covariance (A Σ + Σ Aᵀ + σ² I = 0, A = −I + J, J sampled with the
//     declared statistics) at N = 500 and N = 1000, several samples, with a
//     1/N extrapolation;
//  2. closed forms at κ = 0 and κ = 1;
//  3. SCS stationary variance Δ0 vs the energy-conservation result (Φ = log cosh);
//  4. timings of the other regimes.
import { loadModel, loadModelSource } from '../src/model/load.ts';
import { deriveCavity } from '../src/derive/cavity.ts';
import { readSystem } from '../src/solve/read.ts';
import { solveStationary, type StationaryResult } from '../src/solve/stationary.ts';
import { lyapunovTraceMean, sampleCoupling } from '../test/solve/stationary-lyapunov.ts';

const quick = process.argv.includes('--quick');

function solve(file: string, sets: Record<string, number>, src?: string): { r: StationaryResult; ms: number } {
  const model = src ? loadModelSource(src, file, sets) : loadModel(file, sets);
  const sys = deriveCavity(model).system;
  const rd = readSystem(sys, sys.params);
  const t0 = performance.now();
  const r = solveStationary(rd, { params: sys.params, T: 20, dt: 0.05 });
  const ms = performance.now() - t0;
  if ('unsupported' in r) throw new Error(r.unsupported);
  return { r, ms };
}
const e = (x: number) => x.toExponential(2);
const out: string[] = [];
const log = (s: string) => { out.push(s); console.log(s); };

log('## Stationary solver');
log('');
log(`\`npx tsx bench/stationary.bench.ts${quick ? ' --quick' : ''}\` — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`);
log('');

// --- 1. finite-N Lyapunov ---------------------------------------------------
log('### Partially symmetric linear network vs exact finite-N Lyapunov covariance');
log('');
log('C(0) = tr Σ / N, σ² = 1. DMFT: frequency domain. Lyapunov: Cayley transform + squared Smith iteration, samples of J with the declared statistics; extrapolation: least-squares fit a + b/N of all samples.');
log('');
log('| g | κ | DMFT C(0) | N | samples | mean ± s.e. | rel. diff | time/sample |');
log('|---|---|---|---|---|---|---|---|');
const cases: [number, number][] = [[0.5, 0.5], [1.2, -0.5]];
const Ns = quick ? [300, 600] : [500, 1000];
const nSamples = quick ? [3, 2] : [6, 4];
const extrap: string[] = [];
for (const [g, kappa] of cases) {
  const { r } = solve('examples/linear-partial-sym.dmft', { g, kappa, sigma2: 1 });
  const dmft = r.limit.var;
  const pts: { N: number; v: number }[] = [];
  Ns.forEach((N, ni) => {
    const vals: number[] = [];
    const t0 = performance.now();
    for (let s = 0; s < nSamples[ni]; s++) vals.push(lyapunovTraceMean(N, sampleCoupling(N, g, kappa, 7000 + 31 * s + N), 1).value);
    const dt = (performance.now() - t0) / vals.length / 1000;
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const se = vals.length > 1 ? Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1) / vals.length) : NaN;
    vals.forEach((v) => pts.push({ N, v }));
    log(`| ${g} | ${kappa} | ${dmft.toFixed(6)} | ${N} | ${vals.length} | ${m.toFixed(5)} ± ${se.toFixed(5)} | ${e((m - dmft) / dmft)} | ${dt.toFixed(1)} s |`);
  });
  // least squares v = a + b/N
  const n = pts.length, sx = pts.reduce((s, p) => s + 1 / p.N, 0), sy = pts.reduce((s, p) => s + p.v, 0);
  const sxx = pts.reduce((s, p) => s + 1 / p.N ** 2, 0), sxy = pts.reduce((s, p) => s + p.v / p.N, 0);
  const b = (n * sxy - sx * sy) / (n * sxx - sx * sx), a = (sy - b * sx) / n;
  // standard error of the intercept from the residual scatter
  const res = pts.reduce((s, p) => s + (p.v - a - b / p.N) ** 2, 0) / Math.max(1, n - 2);
  const seA = Math.sqrt(res * sxx / (n * sxx - sx * sx));
  extrap.push(`| ${g} | ${kappa} | ${dmft.toFixed(6)} | ${a.toFixed(5)} ± ${seA.toFixed(5)} | ${b.toFixed(2)} | ${e((a - dmft) / dmft)} |`);
}
log('');
log('| g | κ | DMFT C(0) | extrapolated N → ∞ (± s.e.) | slope b (C ≈ a + b/N) | rel. diff |');
log('|---|---|---|---|---|---|');
for (const x of extrap) log(x);
log('');

// --- 2. closed forms ---------------------------------------------------------
log('### Closed forms (linear, frequency domain)');
log('');
log('| case | exact | solver | rel. error | reported error | time |');
log('|---|---|---|---|---|---|');
for (const g of [0.3, 0.6, 0.9, 0.99]) {
  const { r, ms } = solve('examples/linear-partial-sym.dmft', { g, kappa: 0, sigma2: 1 });
  const ex = 1 / (2 * Math.sqrt(1 - g * g));
  log(`| κ = 0, g = ${g} | ${ex.toFixed(10)} | ${r.limit.var.toFixed(10)} | ${e(Math.abs(r.limit.var - ex) / ex)} | ${e(r.limitError!.var)} | ${ms.toFixed(0)} ms |`);
}
for (const g of [0.25, 0.45, 0.495]) {
  const { r, ms } = solve('examples/linear-partial-sym.dmft', { g, kappa: 1, sigma2: 1 });
  const ex = 0.5 * (1 - Math.sqrt(1 - 4 * g * g)) / (2 * g * g);
  log(`| κ = 1, g = ${g} | ${ex.toFixed(10)} | ${r.limit.var.toFixed(10)} | ${e(Math.abs(r.limit.var - ex) / ex)} | ${e(r.limitError!.var)} | ${ms.toFixed(0)} ms |`);
}
for (const alpha of [1.5, 2, 4]) {
  const { r, ms } = solve('examples/linear-regression-gf.dmft', { alpha, sigma2: 0.25 });
  const ex = 0.25 / (2 * (alpha - 1));
  log(`| regression test loss, α = ${alpha} | ${ex.toFixed(10)} | ${r.limit.test.toFixed(10)} | ${e(Math.abs(r.limit.test - ex) / ex)} | ${e(r.limitError!.test)} | ${ms.toFixed(0)} ms |`);
}
log('');

// --- 3. SCS --------------------------------------------------------------------
log('### SCS stationary chaos: Δ0 vs the energy condition V(Δ0) = V(0) (Φ = log cosh, reference only)');
log('');
const lc = (x: number) => { const a = Math.abs(x); return a < 15 ? Math.log(Math.cosh(a)) : a - Math.LN2 + Math.log1p(Math.exp(-2 * a)); };
function scsRef(g: number): number {
  const h = 0.02, xs: number[] = [], ws: number[] = [];
  for (let k = -600; k <= 600; k++) { const x = k * h; xs.push(x); ws.push(h * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)); }
  const F = (D: number) => {
    const s = Math.sqrt(D); let m = 0, m2 = 0;
    for (let i = 0; i < xs.length; i++) { const v = lc(s * xs[i]); m += ws[i] * v; m2 += ws[i] * v * v; }
    return -D * D / 2 + g * g * (m2 - m * m);
  };
  let lo = 1e-2, hi = 100;
  for (let i = 0; i < 200; i++) { const mid = (lo + hi) / 2; if (F(mid) > 0) lo = mid; else hi = mid; }
  return (lo + hi) / 2;
}
log('| g | reference Δ0 | solver Δ0 | rel. error | reported error | decay rate | time |');
log('|---|---|---|---|---|---|---|');
for (const g of [1.05, 1.2, 1.5, 2, 3, 5]) {
  const { r, ms } = solve('examples/scs.dmft', { g });
  const ref = scsRef(g);
  const D0 = r.diagnostics.Delta0 as number;
  log(`| ${g} | ${ref.toFixed(12)} | ${D0.toFixed(12)} | ${e(Math.abs(D0 - ref) / ref)} | ${e(r.diagnostics.Delta0Error as number)} | ${(r.diagnostics.decayRate as number).toFixed(5)} | ${ms.toFixed(0)} ms |`);
}
log('');

// --- 4. other regimes ------------------------------------------------------------
log('### Other regimes (timings)');
log('');
log('| model | result | diagnostics | time |');
log('|---|---|---|---|');
{
  const { r, ms } = solve('examples/scs-mean.dmft', { g: 3, J0: 4 });
  log(`| scs-mean g = 3, J0 = 4 (ordered chaos) | m = ${r.limit.m.toFixed(8)}, var = ${r.limit.var.toFixed(8)} | Δ0 = ${(r.diagnostics.Delta0 as number).toFixed(8)}, q = ${(r.diagnostics.q as number).toFixed(8)}, μ = ${(r.diagnostics.mu as number).toFixed(8)} | ${ms.toFixed(0)} ms |`);
}
{
  const { r, ms } = solve('examples/scs-mean.dmft', { g: 1.5, J0: 3 });
  log(`| scs-mean g = 1.5, J0 = 3 (static ordered) | m = ${r.limit.m.toFixed(8)}, var = ${r.limit.var.toFixed(8)} | state ${r.diagnostics.state}, gain ${(r.diagnostics.stabilityGain as number).toFixed(4)} | ${ms.toFixed(0)} ms |`);
}
{
  const src = `model "noisy rate network"
param g = 1.5, D = 0.5
index i, j in 1..N
random J[i,j] ~ normal(0, g^2/N)
noise xi[i] ~ white(D)
state x[i]
init x[i] ~ normal(0, 1)
d/dt x[i] = -x[i] + sum(j, J[i,j]*tanh(x[j])) + xi[i]
observe var = mean(i, x[i]^2)
observe C(t,s) = mean(i, x[i](t)*x[i](s))
`;
  const { r, ms } = solve('noisy.dmft', {}, src);
  log(`| SCS + white noise D = 0.5, g = 1.5 | var = ${r.limit.var.toFixed(8)} | ${r.diagnostics.state}, ${r.diagnostics.separatrix} | ${ms.toFixed(0)} ms |`);
}
{
  const { r, ms } = solve('examples/linear-partial-sym.dmft', { g: 0.66, kappa: 0.5, sigma2: 1 });
  log(`| partial-sym g = 0.66, κ = 0.5 (loop gain ${(r.diagnostics.loopGainMax as number).toFixed(3)}) | var = ${r.limit.var.toFixed(8)} | ${r.diagnostics.tau} | ${ms.toFixed(0)} ms |`);
}
log('');
