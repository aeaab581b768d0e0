// The simulator's matrix–vector product alone, as memory bandwidth: bytes of
// the coupling matrix read per second (N² × 4 or 8 bytes per product), for
// dmftkit's WASM SIMD kernels (f32 and f64 storage, one thread) and for
// numpy/OpenBLAS gemv (bench/matvec_numpy.py, one thread), interleaved, both
// per CPU-second of the process (on a shared machine wall time mostly
// measures the other jobs; CPU time does not, though they still share the
// caches and the memory bus). A mat-vec reads every coupling once and does one
// multiply–add per 4 or 8 bytes, so at N ≥ 2000 (J larger than the caches)
// is limited by memory bandwidth: the fraction of numpy's rate that the
// simulator reaches is what the kernels leave on the table.
//
//   npx tsx bench/matvec.bench.ts [--reps 5] [--N 500,2000,8000]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { loadModel } from '../src/model/load.ts';
import { prepare } from '../src/simulate/pool.ts';

const argv = process.argv;
const opt = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i > 0 ? argv[i + 1] : dflt; };
const reps = Number(opt('reps', '5'));
const sizes = opt('N', '500,2000,8000').split(',').map(Number);
const dt = 0.05;

/** GB/s of matrix read by our kernel per CPU-second of this process (best of the rounds). */
function ours(N: number, f32: boolean): () => number {
  const inst = prepare({ model: loadModel('examples/scs.dmft'), N, planOpts: { precision: f32 ? 'f32' : 'f64' }, spec: { T: dt, dt, times: [dt], grid: [], blowup: 1e12 }, wasm: true });
  const m = inst.M[0];
  for (let i = 0; i < m.length; i++) m[i] = Math.sin(i) * 0.01;
  const [u, out] = inst.extra;
  for (let i = 0; i < N; i++) u[i] = Math.cos(i);
  const inner = Math.max(3, Math.round(2e8 / (N * N)));
  return () => {
    const c0 = process.cpuUsage();
    for (let k = 0; k < inner; k++) inst.K.mv(0, u, out);
    const c = process.cpuUsage(c0);
    const s = (c.user + c.system) / 1e6 / inner;
    return (N * N * (f32 ? 4 : 8)) / s / 1e9;
  };
}

function numpy(N: number): { f64: number; f32: number } {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  return JSON.parse(execFileSync('python3', ['bench/matvec_numpy.py', '--N', String(N)], { env, encoding: 'utf8' }));
}

const load0 = loadavg()[0];
const lines: string[] = [];
for (const N of sizes) {
  const o64 = ours(N, false), o32 = ours(N, true);
  const best = { o64: 0, o32: 0, n64: 0, n32: 0 };
  for (let r = 0; r < reps; r++) {
    best.o64 = Math.max(best.o64, o64());
    const a = numpy(N); best.n64 = Math.max(best.n64, a.f64); best.n32 = Math.max(best.n32, a.f32);
    best.o32 = Math.max(best.o32, o32());
  }
  const f = (x: number) => x.toFixed(1);
  const line = `| ${N} | ${f(best.o64)} | ${f(best.n64)} | ${(best.o64 / best.n64).toFixed(2)} | ${f(best.o32)} | ${f(best.n32)} | ${(best.o32 / best.n32).toFixed(2)} |`;
  console.log(line);
  lines.push(line);
}
console.log(`\nGB/s of couplings read per CPU-second, one thread, best of ${reps} interleaved; ${cpus().length} × ${cpus()[0]?.model}; load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}; ${new Date().toISOString().slice(0, 16)} UTC`);
console.log('| N | dmftkit f64 | numpy f64 | ratio | dmftkit f32 (f64 accumulation) | numpy f32 (sgemv, f32 accumulation) | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const l of lines) console.log(l);
