// `dmft simulate MODEL --N 1000 [--seeds 4] [--set k=v]… [--T 50] [--dt 0.05]
//  [--times 0.5,1,2] [--seed 1] [--couplings auto|f64|f32] [--threads n] [--json]
//  [-o FILE] [--quiet]`: the finite-N simulation of a model, as a table (mean ±
// standard error over seeds) or as JSON (docs/json.md).
import { DmftError } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import { checkOptions, DEFAULTS, simulate } from '../simulate/index.ts';
import type { SimResult } from '../simulate/types.ts';
import { integer, maxBytesOption, numberList, positive } from './options.ts';
import { progressReporter } from './progress.ts';
import { csvTable, type Cell } from '../csv.ts';

export interface SimulateCliOptions {
  set?: Record<string, number>;
  N?: string; seeds?: string; T?: string; dt?: string; times?: string; seed?: string; couplings?: string; threads?: string;
  json?: boolean; csv?: boolean; maxBytes?: string; quiet?: boolean;
}

/** Parse and check the options (exported for tests). */
export function simulateOptions(o: SimulateCliOptions) {
  const N = integer('N', o.N, 1000, 2, 'the number of sites, e.g. --N 1000');
  const seeds = integer('seeds', o.seeds, DEFAULTS.seeds, 1, 'e.g. --seeds 4');
  const seed0 = integer('seed', o.seed, DEFAULTS.seed0, 0, 'the first random seed, e.g. --seed 1 (seeds are integers below 2^53)');
  const threads = o.threads === undefined ? undefined : integer('threads', o.threads, 0, 0, 'worker threads, e.g. --threads 2 (0 runs in-process)', 1024);
  const times = numberList('times', o.times);
  const T = positive('T', o.T, times?.length ? Math.max(...times) || DEFAULTS.T : DEFAULTS.T);
  const dt = positive('dt', o.dt, DEFAULTS.dt);
  if (times) {
    for (const t of times) {
      if (t < 0) throw new DmftError({ message: `--times: ${t} is negative`, hint: 'times run from 0 to --T' });
      if (t > T) throw new DmftError({ message: `--times: ${t} is past --T ${T}`, hint: `raise --T to at least ${t}, or drop --T (it defaults to the last time)` });
    }
  }
  const couplingPrecision = o.couplings ?? 'auto';
  if (couplingPrecision !== 'auto' && couplingPrecision !== 'f64' && couplingPrecision !== 'f32') {
    throw new DmftError({ message: `--couplings ${o.couplings}: expected auto, f64 or f32`, hint: 'auto (default) stores a random matrix in single precision when rounding is harmless (error < 1e-6 of its spread), f64/f32 force one; arithmetic is always double' });
  }
  const opts = { N, seeds, seed0, T, dt, times, threads, couplingPrecision: couplingPrecision as 'auto' | 'f64' | 'f32' };
  checkOptions(opts); // the simulator's own limits (seeds below 2^53, steps), before the model is read
  return opts;
}

export function simulateAction(out: (s: string) => void) {
  return async (file: string, o: SimulateCliOptions): Promise<void> => {
    const opts = simulateOptions(o);
    const model = loadModel(file, o.set ?? {}, { maxBytes: maxBytesOption(o.maxBytes) });
    if (o.dt !== undefined && model.dynamics.some((d) => d.kind === 'map')) {
      throw new DmftError({ message: `--dt ${o.dt}: the dynamics are a map x(t+1) = …, which steps once per unit of time`, hint: 'leave --dt out; --T is the number of steps' });
    }
    const progress = progressReporter({ quiet: o.quiet, command: 'simulate' });
    let r: SimResult;
    try {
      r = await simulate(model, { ...opts, progress });
    } finally {
      progress.done();
    }
    out(o.json ? JSON.stringify(simJson(r), null, 2) + '\n' : o.csv ? simCsv(r) : simTable(r, file));
  };
}

/** The JSON of `dmft simulate --json` (NaN standard errors become null). */
export function simJson(r: SimResult): unknown {
  return {
    model: r.model, params: r.params, N: r.N, sizes: r.sizes, seeds: r.seeds,
    t: r.t, observables: r.observables, stderr: r.stderr,
    ...(r.twoTime ? { twoTime: r.twoTime } : {}),
    diagnostics: r.diagnostics,
  };
}

/** `dmft simulate --csv`: observable, t, mean, stderr over seeds (N and seeds in the columns too); two-time observables are in --json only. */
export function simCsv(r: SimResult): string {
  const rows: Cell[][] = [];
  for (const [name, vals] of Object.entries(r.observables)) vals.forEach((v, i) => rows.push([name, r.t[i], v, r.stderr[name]?.[i], r.N, r.seeds]));
  return csvTable(['observable', 't', 'mean', 'stderr', 'N', 'seeds'], rows);
}

const num = (v: number, digits = 5) => (Number.isFinite(v) ? String(+v.toPrecision(digits)) : '—');
const pm = (m: number, s: number) => `${num(m)} ± ${Number.isFinite(s) ? (s === 0 ? '0' : s.toPrecision(2)) : '—'}`;

export function simTable(r: SimResult, file: string): string {
  const d = r.diagnostics;
  const L: string[] = [];
  L.push(`model "${r.model}"  (${file})`);
  const sizes = Object.entries(r.sizes).map(([k, v]) => `${k} = ${v}`).join(', ');
  L.push(`  ${sizes}; ${r.seeds} seed${r.seeds === 1 ? '' : 's'} from ${d.seed0}; ${d.scheme}, dt = ${d.dt}, ${d.steps} steps; ${d.kernels} (${d.couplingPrecision} couplings), ${d.threads ? `${d.threads} threads` : d.matvecThreads > 1 ? 'in-process, mat-vecs on 2 threads' : 'in-process'}; ${d.wallSeconds.toFixed(2)} s`);
  const ps = Object.entries(r.params);
  if (ps.length) L.push(`  params: ${ps.map(([k, v]) => `${k} = ${v}`).join(', ')}`);
  if (d.clippedInit) L.push(`  note: ${d.clippedInit} initial values were clipped into the state bounds`);
  L.push(`  mean ± standard error over seeds${r.seeds < 2 ? ' (one seed: no error estimate)' : ''}`);
  L.push('');
  const names = Object.keys(r.observables);
  if (names.length) {
    const rows = r.t.map((t, i) => [num(t, 6), ...names.map((n) => pm(r.observables[n][i], r.stderr[n][i]))]);
    const head = ['     t', ...names];
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
    L.push(head.map((h, c) => h.padStart(w[c])).join('   '));
    for (const row of rows) L.push(row.map((x, c) => x.padStart(w[c])).join('   '));
  }
  for (const [name, tt] of Object.entries(r.twoTime ?? {})) {
    const G = tt.t.length;
    const every = Math.ceil(G / 11);
    const idx = tt.t.map((_, k) => k).filter((k) => k % every === 0 || k === G - 1);
    L.push('');
    L.push(`${name}(t, s): mean over seeds, rows t, columns s${every > 1 ? ` (every ${every}${every === 2 ? 'nd' : every === 3 ? 'rd' : 'th'} grid point; --json has all)` : ''}`);
    const cells = idx.map((a) => [num(tt.t[a], 5), ...idx.map((b) => num(tt.mean[a][b], 4))]);
    const head = ['t \\ s', ...idx.map((b) => num(tt.t[b], 5))];
    const w = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
    L.push(head.map((h, c) => h.padStart(w[c])).join('  '));
    for (const row of cells) L.push(row.map((x, c) => x.padStart(w[c])).join('  '));
  }
  return L.join('\n') + '\n';
}
