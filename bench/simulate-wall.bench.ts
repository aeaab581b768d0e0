// Whole-process wall time of one simulated seed, dmftkit against the numpy
// peer (bench/simulate_numpy.py: the same RK4 on SCS, J ~ N(0, g²/N), g = 1.5,
// dt = 0.05), as a user runs them: `dmft simulate … --seeds 1` with its
// default threads (each mat-vec split over two threads, src/simulate/split.ts)
// and with `--threads 1` (one thread), numpy with its default BLAS threads and
// with one. Interleaved rounds, median; needs an idle machine (wall time
// measures whatever else runs). Prints a markdown table.
//
//   npx tsx bench/simulate-wall.bench.ts [--reps 5] [--N 500,2000,8000]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

const argv = process.argv;
const opt = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i > 0 ? argv[i + 1] : dflt; };
const reps = Number(opt('reps', '5'));
const sizes = opt('N', '500,2000,8000').split(',').map(Number);
const dt = 0.05;

function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  execFileSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t0) / 1000;
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}; load average at start ${loadavg()[0].toFixed(2)}`);
const rows: string[] = [];
for (const N of sizes) {
  const T = N >= 8000 ? 2 : 20, steps = Math.round(T / dt);
  const runs: Record<string, () => number> = {
    'dmftkit (split)': () => wall('node', ['bin/dmft.mjs', 'simulate', 'examples/scs.dmft', '--N', String(N), '--seeds', '1', '--T', String(T), '-q']),
    'dmftkit --threads 1': () => wall('node', ['bin/dmft.mjs', 'simulate', 'examples/scs.dmft', '--N', String(N), '--seeds', '1', '--T', String(T), '-q', '--threads', '1']),
    'numpy (default threads)': () => wall('python3', ['bench/simulate_numpy.py', '--model', 'scs', '--N', String(N), '--steps', String(steps), '--reps', '1']),
    'numpy (1 thread)': () => wall('python3', ['bench/simulate_numpy.py', '--model', 'scs', '--N', String(N), '--steps', String(steps), '--reps', '1'], { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }),
  };
  const t: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let r = 0; r < reps; r++) for (const [k, f] of Object.entries(runs)) t[k].push(f());
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  rows.push(`| ${N} | ${T} (${steps} steps) | ${Object.values(m).map((x) => x.toFixed(2)).join(' | ')} | ${(m['dmftkit (split)'] / m['numpy (default threads)']).toFixed(2)} |`);
  console.log(rows[rows.length - 1]);
}
console.log(`\n| N | T | ${['dmftkit (split)', 'dmftkit --threads 1', 'numpy (default threads)', 'numpy (1 thread)'].join(' | ')} | ratio split / numpy |`);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(`load average at end ${loadavg()[0].toFixed(2)}`);
