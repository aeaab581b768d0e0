// Solver timings: `npx tsx bench/solve.bench.ts [--quick]`.
// Solves every example through the dispatcher (the same path as `dmft solve`)
// and reports wall and CPU time, the method, and the accuracy reached: the
// largest reported error of the transient relative to max(|value|, 1e-3·scale)
// over the output times, and of the t → ∞ limit. Appends (or refreshes) the
// section "## Solver timings" of bench/RESULTS.md, leaving other sections alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCavity } from '../src/derive/cavity.ts';
import { DmftError } from '../src/errors.ts';
import { loadModel } from '../src/model/load.ts';
import { solve } from '../src/solve/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

interface Case { file: string; sets?: Record<string, number>; T: number; dt: number; times: number[]; note: string }

const cases: Case[] = [
  { file: 'scs.dmft', T: 50, dt: 0.05, times: [1, 5, 10, 20, 50], note: 'CLI defaults (chaotic, g = 1.5)' },
  { file: 'scs.dmft', sets: { g: 0.8 }, T: 20, dt: 0.1, times: [1, 5, 10, 20], note: 'below the transition' },
  { file: 'scs-mean.dmft', T: 50, dt: 0.05, times: [1, 5, 10, 20, 50], note: 'CLI defaults' },
  { file: 'linear-partial-sym.dmft', T: 30, dt: 0.1, times: [1, 5, 10, 30], note: 'memory kernel, 1e-4 target' },
  { file: 'linear-partial-sym.dmft', T: 50, dt: 0.05, times: [1, 5, 10, 50], note: 'CLI defaults (memory kernel: O(N³))' },
  { file: 'linear-regression-gf.dmft', T: 10, dt: 0.05, times: [0.5, 1, 2, 5, 10], note: 'two populations, 1e-4 target' },
  { file: 'linear-regression-gf.dmft', T: 50, dt: 0.05, times: [1, 5, 10, 50], note: 'CLI defaults' },
  { file: 'lotka-volterra.dmft', T: 20, dt: 0.05, times: [1, 5, 20], note: 'bounded state → Monte Carlo (not the Gaussian closure)' },
];

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(d) : x.toExponential(1)) : '—');

const rows: string[] = [];
for (const c of quick ? cases.filter((x) => x.T * (1 / x.dt) <= 400) : cases) {
  const sys = deriveCavity(loadModel(join(root, 'examples', c.file), c.sets ?? {})).system;
  const label = `${c.file}${c.sets ? ' ' + Object.entries(c.sets).map(([k, v]) => `${k}=${v}`).join(',') : ''}`;
  const t0 = performance.now(), c0 = process.cpuUsage();
  try {
    const r = solve(sys, { params: sys.params, T: c.T, dt: c.dt, times: c.times });
    const wall = (performance.now() - t0) / 1000, cpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
    let worst = 0;
    for (const [k, v] of Object.entries(r.observables)) {
      const scale = Math.max(...v.map(Math.abs));
      v.forEach((x, i) => { worst = Math.max(worst, (r.error[k]?.[i] ?? NaN) / Math.max(Math.abs(x), 1e-3 * scale, 1e-300)); });
    }
    let limWorst = NaN;
    if (r.limit) for (const [k, v] of Object.entries(r.limit)) { const e = r.limitError?.[k]; if (e !== undefined) limWorst = Math.max(Number.isFinite(limWorst) ? limWorst : 0, e / Math.max(Math.abs(v), 1e-12)); }
    rows.push(`| ${label} | ${c.note} | T=${c.T}, dt=${c.dt} | ${r.method} | ${fmt(wall)} | ${fmt(cpu)} | ${fmt(worst, 2)} | ${fmt(limWorst, 2)} |`);
  } catch (e) {
    const wall = (performance.now() - t0) / 1000;
    const msg = e instanceof DmftError ? e.message : (e as Error).message;
    rows.push(`| ${label} | ${c.note} | T=${c.T}, dt=${c.dt} | error: ${msg.replace(/\|/g, '/').slice(0, 120)} | ${fmt(wall)} | — | — | — |`);
  }
  process.stderr.write(rows[rows.length - 1] + '\n');
}

const section = [
  '## Solver timings',
  '',
  `\`npx tsx bench/solve.bench.ts\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  'Each case goes through `solve()` (the path of `dmft solve`). Transient error: the largest reported error',
  '(Richardson over dt, dt/2 with a 2·dt grid for the error estimate) relative to the value; limit error: the',
  'same for the t → ∞ values from the static/stationary solvers. Wall time depends on machine load; CPU time',
  'is the process total. The Gaussian closure costs O(N²) per grid without memory terms and O(N³) with them (N = T/dt).',
  '',
  '| example | case | settings | method | wall s | CPU s | max rel. error (transient) | max rel. error (limit) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');

const file = join(root, 'bench', 'RESULTS.md');
let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
// refresh our own section only (from its heading to the next "## " heading)
const start = text.indexOf('## Solver timings');
if (start >= 0) {
  const next = text.indexOf('\n## ', start + 1);
  text = text.slice(0, start) + (next >= 0 ? text.slice(next + 1) : '');
}
if (!text.endsWith('\n')) text += '\n';
text = text.replace(/\n*$/, '\n\n') + section;
writeFileSync(file, text);
process.stdout.write(section);
