// The finite-N simulator, driven only by the Model IR: sample the disorder,
// integrate the dynamics for several seeds (in worker threads), and report
// the observables with standard errors over seeds.
//
//   const m = loadModel('examples/scs.dmft', { g: 2 });
//   const r = await simulate(m, { N: 1000, seeds: 4, T: 50, dt: 0.05 });
//   r.observables.var, r.stderr.var, r.twoTime?.C.mean
import { availableParallelism, freemem, totalmem } from 'node:os';
import { DmftError } from '../errors.ts';
import { noStatesReason, type Model } from '../model/ir.ts';
import { plan, type Plan } from './compile.ts';
import { runSeeds, type WorkerInit } from './pool.ts';
import { runnerLengths, type RunSpec } from './run.ts';
import { instanceBytes, largestArray } from './instance.ts';
import { controlNames, controlSources } from './controls.ts';
import { stepControlNames } from './sample.ts';
import type { SimOptions, SimResult, TwoTimeResult } from './types.ts';
import { table } from '../table.ts';

export type { SimDiagnostics, SimOptions, SimResult, TwoTimeResult } from './types.ts';
export { plan, concreteSizes } from './compile.ts';
export { createInstance } from './instance.ts';
export { runSeed, runnerLengths } from './run.ts';
export { sampleRandoms, sampleInit } from './sample.ts';
export { prepare } from './pool.ts';
export { Rng } from '../numeric/rng.ts';

export const DEFAULTS = { seeds: 4, T: 50, dt: 0.05, seed0: 1, blowup: 1e12, points: 21 } as const;

/** Cost limits: integration steps per seed, and the estimated wall time of a run. */
export const LIMITS = { steps: 1e7, seconds: 24 * 3600 } as const;

/** 0, T/(n−1), …, T */
export function defaultGrid(T: number, n: number = DEFAULTS.points): number[] {
  return Array.from({ length: n }, (_, k) => (k === n - 1 ? T : +(T * k / (n - 1)).toPrecision(12)));
}

/** A rough in-process time per seed, from the work counts of the compiled
 *  programs: starting a worker thread costs ~0.5 s (loading the TypeScript
 *  toolchain), which only pays off for longer runs. */
export function estimateSeconds(p: Plan, spec: RunSpec): number {
  const stops = new Set([0, ...spec.times, ...spec.grid, spec.T]).size;
  if (p.discrete) return spec.T * (p.programs.stage.work.matrix * 0.6e-9 + p.programs.stage.work.elem * 15e-9);
  const steps = (spec.T / spec.dt + stops) * (spec.substeps ?? 1);
  const w = p.programs.stage.work;
  const perStage = w.matrix * 0.6e-9 + w.elem * 15e-9;
  const noise = p.noises.reduce((s, n) => s + n.n, 0) * 40e-9;
  return steps * ((p.noises.length ? 2 : 4) * perStage + noise);
}

/** How the rank-2 random arrays ended up stored. */
function storedPrecision(p: Plan): 'f64' | 'f32' | 'mixed' {
  const ms = p.layout.mats.filter((m) => m.dims.length === 2);
  if (ms.length && ms.every((m) => m.f32)) return 'f32';
  return ms.some((m) => m.f32) ? 'mixed' : 'f64';
}

function bad(message: string, hint?: string): never {
  throw new DmftError({ message, hint });
}

/** Sorted, unique, in [0, T]. */
function timeList(name: string, ts: number[], T: number): number[] {
  for (const t of ts) {
    if (!Number.isFinite(t) || t < 0) bad(`${name}: ${t} is not a time ≥ 0`);
    if (t > T * (1 + 1e-12)) bad(`${name}: the time ${t} is past the end of the run T = ${T}`, `raise --T to at least ${t}`);
  }
  if (!ts.length) bad(`${name}: no times given`);
  return [...new Set(ts.map((t) => Math.min(t, T)))].sort((a, b) => a - b);
}

export function checkOptions(opts: SimOptions): void {
  const { N, seeds, T, dt } = opts;
  if (!Number.isInteger(N) || N < 2) bad(`--N ${N}: the size must be an integer ≥ 2`, 'e.g. --N 1000');
  if (!Number.isInteger(seeds) || seeds < 1) bad(`--seeds ${seeds}: need an integer ≥ 1`, 'e.g. --seeds 4');
  if (!Number.isFinite(T) || T <= 0) bad(`--T ${T}: the final time must be a positive number`);
  if (!Number.isFinite(dt) || dt <= 0) bad(`--dt ${dt}: the step must be a positive number`);
  if (opts.seed0 !== undefined && (!Number.isInteger(opts.seed0) || opts.seed0 < 0)) bad(`--seed ${opts.seed0}: need an integer ≥ 0`);
  // seeds are distinct integers only below 2^53
  if ((opts.seed0 ?? DEFAULTS.seed0) + seeds - 1 > Number.MAX_SAFE_INTEGER) bad(`--seed ${opts.seed0}: the seeds ${opts.seed0}, … , ${opts.seed0}+${seeds - 1} must stay below 2^53 = ${Number.MAX_SAFE_INTEGER + 1}`, 'use a smaller --seed');
  if (T / dt > LIMITS.steps) bad(`--dt ${dt}: T/dt = ${(T / dt).toPrecision(3)} time steps per seed is too many (at most ${LIMITS.steps.toExponential(0)})`, `use a larger --dt (at least ${+(T / LIMITS.steps).toPrecision(2)} for --T ${T}, if the dynamics allow it) or a smaller --T (at most ${+(LIMITS.steps * dt).toPrecision(2)} at --dt ${dt})`);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 0)) bad(`threads ${opts.threads}: need an integer ≥ 0`);
  if (opts.blowup !== undefined && !(opts.blowup > 0)) bad(`blowup ${opts.blowup}: need a positive number`);
  for (const k of ['substeps', 'noiseDraws'] as const) if (opts[k] !== undefined && !(Number.isInteger(opts[k]) && opts[k]! >= 1)) bad(`${k} ${opts[k]}: need an integer ≥ 1`);
}

/** Memory this process may still use: what the system has available, within a container's limit. */
export function availableMemory(): number {
  let avail = freemem();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (limit && limit > 0 && limit < 2 ** 60) avail = Math.min(avail, limit - process.memoryUsage().rss);
  return Math.max(0, avail);
}

const GiB = (b: number) => `${(b / 2 ** 30).toPrecision(3)} GiB`;
function duration(s: number): string {
  const two = (x: number) => String(Number(x.toPrecision(2))); // 360, not 3.6e+2
  if (s < 90) return `${two(s)} s`;
  if (s < 5400) return `${two(s / 60)} min`;
  if (s < 2 * 86400) return `${two(s / 3600)} h`;
  return `${two(s / 86400)} days`;
}

/**
 * Before a run: does it fit? Each worker thread holds a full copy of the
 * couplings (and the in-process run one), so the memory need is the instance
 * size times the threads. Refuses (DmftError, with the numbers) what does not
 * fit in `memory` bytes even on one thread, or would take longer than
 * LIMITS.seconds; runs on fewer threads when that fits. Returns the threads to
 * use and a note for long runs.
 */
export function costGuard(p: Plan, spec: RunSpec, seeds: number, threads: number, memory: number): { threads: number; seconds: number; bytes: number; note?: string } {
  const bytes = instanceBytes(p, runnerLengths({ plan: p }, spec));
  const big = largestArray(p);
  const sizes = Object.entries(p.c.sizes).map(([k, v]) => `${k} = ${v}`).join(', ');
  if (bytes > memory) {
    throw new DmftError({
      file: p.model.file,
      message: `simulate: ${sizes} needs ${GiB(bytes)} of memory for the random arrays and buffers of one seed; ${GiB(memory)} is available (of ${GiB(totalmem())})`,
      hint: `reduce --N${big ? ` (the largest random array is ${big})` : ''}`,
    });
  }
  const cores = Math.max(1, availableParallelism());
  let W = Math.min(Math.max(threads, 1), seeds, cores);
  const notes: string[] = [];
  const fit = Math.max(1, Math.floor(memory / bytes));
  if (threads > 1 && W > fit) {
    notes.push(`running ${fit} seed${fit === 1 ? '' : 's'} at a time instead of ${W}: each needs ${GiB(bytes)} and ${GiB(memory)} is available`);
    W = fit;
  }
  const perSeed = estimateSeconds(p, spec);
  const seconds = perSeed * Math.ceil(seeds / W);
  if (seconds > LIMITS.seconds) {
    throw new DmftError({
      file: p.model.file,
      message: `simulate: ${sizes}, T = ${spec.T}, dt = ${spec.dt} would take about ${duration(seconds)} (${duration(perSeed)} per seed, ${seeds} seed${seeds === 1 ? '' : 's'} on ${W} thread${W === 1 ? '' : 's'}); the limit is ${duration(LIMITS.seconds)}`,
      hint: `reduce --N${big ? ` (the largest random array is ${big})` : ''}, --T or --seeds, or raise --dt`,
    });
  }
  if (seconds > 10) notes.push(`estimated time about ${duration(seconds)} (${seeds} seed${seeds === 1 ? '' : 's'} on ${W} thread${W === 1 ? '' : 's'}, ${GiB(bytes * W)} of memory)`);
  return { threads: threads <= 1 ? threads : W, seconds, bytes, note: notes.length ? notes.join('; ') : undefined };
}

/** The steps 0 … T of a map, every one when there are at most 2·n of them, else about n integers spread over them. */
export function stepGrid(T: number, n: number = DEFAULTS.points): number[] {
  if (T <= 2 * n) return Array.from({ length: T + 1 }, (_, k) => k);
  return [...new Set(defaultGrid(T, n).map(Math.round))];
}

/** A map's times must be steps (integers). */
function stepList(name: string, ts: number[], T: number): number[] {
  const bad1 = ts.find((t) => !Number.isInteger(t));
  if (bad1 !== undefined) bad(`${name}: ${bad1} is not a step: the dynamics are a map x(t+1) = …, whose times are the integers 0, 1, …, T`, `give integer times, e.g. ${Math.floor(bad1)}`);
  return timeList(name, ts, T);
}

export async function simulate(model: Model, given: SimOptions): Promise<SimResult> {
  const stateless = noStatesReason(model);
  if (stateless) throw new DmftError({ file: model.file, message: stateless, hint: 'simulate needs dynamics (a state with d/dt or (t+1))' });
  const wall0 = performance.now();
  // a map steps once per unit of time: T is a number of steps and the step is 1 (dt does not apply)
  const discrete = model.dynamics.some((d) => d.kind === 'map');
  if (discrete && !(Number.isInteger(given.T) && given.T >= 1)) bad(`--T ${given.T}: the dynamics are a map x(t+1) = …, so T is a number of steps (an integer ≥ 1)`, 'e.g. --T 50');
  // nor sub-steps: a step-size check of a map compares two identical runs (its step bias is zero)
  const opts = discrete ? { ...given, dt: 1, substeps: undefined } : given;
  checkOptions(opts);
  const { N, seeds, T, dt } = opts;
  const seed0 = opts.seed0 ?? DEFAULTS.seed0;
  const list = discrete ? stepList : timeList;
  const times = list('--times', opts.times ?? (discrete ? stepGrid(T) : defaultGrid(T)), T);
  const hasTwo = model.observables.some((o) => o.times.length === 2);
  const grid = hasTwo ? list('two-time grid', opts.twoTimeGrid ?? (discrete ? stepGrid(T) : defaultGrid(T)), T) : [];
  const planOpts = { precision: opts.couplingPrecision ?? 'auto' } as const;
  const p = plan(model, N, planOpts); // compile here first: errors before any thread starts
  const spec: RunSpec = { T, dt, times, grid, blowup: opts.blowup ?? DEFAULTS.blowup, substeps: opts.substeps, noiseDraws: opts.noiseDraws };
  const seedList = Array.from({ length: seeds }, (_, s) => seed0 + s);
  const secondsPerSeed = estimateSeconds(p, spec);
  const cores = availableParallelism();
  const wanted = opts.threads ?? (secondsPerSeed * seeds > 1 ? Math.min(seeds, cores) : 0);
  const cost = costGuard(p, spec, seeds, wanted, opts.memoryBytes ?? availableMemory());
  // one seed in-process leaves the other cores idle: split its mat-vecs over two threads
  const split = cost.threads <= 1 && seeds === 1 && cores >= 2 && (opts.threads ?? (secondsPerSeed > 0.5 ? 2 : 0)) >= 2;
  const init: WorkerInit = { model, N, planOpts, spec, wasm: opts.wasm !== false, split };
  if (cost.note) opts.progress?.note(cost.note);
  const label = `simulating N = ${N} (${seeds} seed${seeds === 1 ? '' : 's'})`;
  const pool = await runSeeds(init, seedList, cost.threads, undefined, opts.progress && ((f) => opts.progress!.report(label, f)));
  const outs = pool.outputs;

  const S = outs.length, nT = times.length;
  const meanSe = (get: (o: (typeof outs)[number]) => number): [number, number] => {
    let m = 0;
    for (const o of outs) m += get(o);
    m /= S;
    if (S < 2) return [m, NaN];
    let v = 0;
    for (const o of outs) v += (get(o) - m) ** 2;
    return [m, Math.sqrt(v / (S - 1) / S)];
  };
  const observables: Record<string, number[]> = table();
  const stderr: Record<string, number[]> = table();
  p.oneTime.forEach((o, j) => {
    const ms = times.map((_, ti) => meanSe((x) => x.obs[j * nT + ti]));
    observables[o.name] = ms.map((x) => x[0]);
    stderr[o.name] = ms.map((x) => x[1]);
  });
  let twoTime: Record<string, TwoTimeResult> | undefined;
  if (p.twoTime.length) {
    twoTime = table();
    const G = grid.length;
    p.twoTime.forEach((o, j) => {
      const mean: number[][] = [], se: number[][] = [];
      for (let a = 0; a < G; a++) {
        const row = Array.from({ length: G }, (_, b) => meanSe((x) => x.two[j][a * G + b]));
        mean.push(row.map((x) => x[0]));
        se.push(row.map((x) => x[1]));
      }
      twoTime![o.name] = { t: grid, mean, stderr: se };
    });
  }
  let perSeed: SimResult['perSeed'];
  if (opts.keepSeeds) {
    const G = grid.length;
    perSeed = { seeds: outs.map((o) => o.seed), observables: table(), controls: outs.map((o) => Array.from(o.controls)), controlNames: controlNames(controlSources(p)) };
    const stepNames = stepControlNames(p);
    if (stepNames.length) {
      const L = outs[0].stepControls.length / stepNames.length;
      perSeed.stepControls = outs.map((o) => stepNames.map((_, d) => Array.from(o.stepControls.subarray(d * L, (d + 1) * L))));
      perSeed.stepControlNames = stepNames;
    }
    p.oneTime.forEach((o, j) => { perSeed!.observables[o.name] = outs.map((x) => Array.from(x.obs.subarray(j * nT, (j + 1) * nT))); });
    if (p.twoTime.length) {
      perSeed.twoTime = table();
      p.twoTime.forEach((o, j) => { perSeed!.twoTime![o.name] = outs.map((x) => Array.from({ length: G }, (_, a) => Array.from(x.two[j].subarray(a * G, (a + 1) * G)))); });
    }
  }
  const steps = outs[0].steps;
  const integrateSeconds = outs.reduce((s, o) => s + o.integrateSeconds, 0) / S;
  const totalSites = p.states.reduce((s, st) => s + st.n, 0);
  return {
    model: model.name,
    params: p.c.params,
    N,
    sizes: p.c.sizes,
    seeds,
    t: times,
    observables,
    stderr,
    ...(twoTime ? { twoTime } : {}),
    ...(perSeed ? { perSeed } : {}),
    diagnostics: {
      scheme: p.discrete ? 'map' : p.noises.length ? 'stochastic-heun' : 'rk4',
      dt: Math.min(dt, T),
      steps,
      seed0,
      threads: pool.threads,
      matvecThreads: pool.splitProducts ? 2 : 1,
      kernels: pool.kernels,
      couplingPrecision: storedPrecision(p),
      multiplicativeNoise: p.multiplicative,
      clippedInit: outs.reduce((s, o) => s + o.clippedInit, 0),
      wallSeconds: (performance.now() - wall0) / 1000,
      integrateSeconds,
      siteUpdatesPerSecond: integrateSeconds > 0 ? (totalSites * steps) / integrateSeconds : NaN,
    },
  };
}
