// Integrate one seed: draw the disorder and the initial condition, step the
// dynamics, record one-time observables at the requested times and state
// snapshots on the two-time grid, then evaluate the two-time observables.
//
// Schemes (the step is dt or slightly less, so that every requested time is
// hit exactly: each interval between consecutive output times is cut into
// ⌈Δt/dt⌉ equal steps):
// - no noise: classical RK4 (global error O(dt⁴));
// - noise: stochastic Heun with the noise increment frozen at the start of
//   the step,  x* = x + h f(x) + g(x)ΔW,  x' = x + (h/2)(f(x) + f(x*)) + g(x)ΔW.
//   With additive noise (g independent of the state: Itô = Stratonovich) this
//   is the standard stochastic Heun scheme (weak order 2 for the linear
//   Gaussian case, bias O(dt²) in stationary variances); with multiplicative
//   noise g(x) is evaluated at the start of the step, which keeps the Itô
//   interpretation (weak order 1).
// - maps x(t+1) = F(x(t)): one step per unit of time, x ← F(x) (lets are
//   evaluated at the current step, inside F's stage program).
// Bounds (`state n[i] >= 0`) are enforced by clipping every stage and every
// step; a growth term n·(…) then keeps an extinct species at exactly 0.
import { DmftError } from '../errors.ts';
import { superlinear } from '../expr/growth.ts';
import { print } from '../expr/print.ts';
import type { Instance } from './instance.ts';
import { Rng, STREAM } from '../numeric/rng.ts';
import { sampleInit, sampleRandoms, stepDraws } from './sample.ts';
import { controlSources, controlValues } from './controls.ts';

export interface RunSpec {
  T: number;
  dt: number;
  /** one-time output times (sorted, unique, in [0, T]) */
  times: number[];
  /** two-time grid (sorted, unique, in [0, T]); empty without two-time observables */
  grid: number[];
  /** |state| above this is a blow-up */
  blowup: number;
  /** cut every step into this many equal sub-steps (default 1); with
   *  `noiseDraws` on the partner run, a paired step-size check (see SimOptions) */
  substeps?: number;
  /** draw each step's noise increment as the sum of this many normals, in
   *  consecutive passes over the sites (default 1) */
  noiseDraws?: number;
}

export interface SeedOutput {
  seed: number;
  /** one-time observables: obs[o * times.length + ti] */
  obs: Float64Array;
  /** two-time observables: two[o][a * grid.length + b] */
  two: Float64Array[];
  /** the control variates of this seed's draws (controls.ts, in the order of controlNames) */
  controls: Float64Array;
  /** a map's per-step controls (stepDraws): the standardized mean of each per-step random
   *  declaration's draw at step s = 0…T, at [d * (T + 1) + s]; empty without per-step randomness */
  stepControls: Float64Array;
  steps: number;
  clippedInit: number;
  /** wall time of the integration alone (no sampling, no two-time pass) */
  integrateSeconds: number;
  /** CPU time of the process over the integration (meaningful in-process,
   *  where it is this thread's time; used by the benchmark on busy machines) */
  integrateCpuSeconds: number;
  seconds: number;
}

/** The buffers the runner needs besides the plan's (see `runnerBuffers`). */
export function runnerLengths(inst0: { plan: Instance['plan'] }, spec: Pick<RunSpec, 'grid'>): number[] {
  const { plan } = inst0;
  const lens: number[] = [];
  const noisy = plan.noises.length > 0;
  const perState = noisy ? 4 : 6; // X, Xs, K1, K2 (+ K3, K4) per state
  for (const s of plan.states) for (let k = 0; k < perState; k++) lens.push(plan.layout.vecs[s.vec].len);
  if (plan.twoTime.length) for (let g = 0; g < spec.grid.length; g++) for (const id of plan.snapshotOf) lens.push(plan.layout.vecs[id].len);
  return lens;
}

/** `onProgress(fraction)` is called about twice a second at most during the integration. */
export function runSeed(inst: Instance, spec: RunSpec, seed: number, onProgress?: (fraction: number) => void): SeedOutput {
  const t0 = performance.now();
  const { plan, V } = inst;
  const S = plan.states.length;
  const noisy = plan.noises.length > 0;
  const perState = noisy ? 4 : 6;
  // carve the runner's buffers out of inst.extra, in the order of runnerLengths
  let e = 0;
  const X: Float64Array[] = [], Xs: Float64Array[] = [], Ks: Float64Array[][] = [[], [], [], []];
  for (let s = 0; s < S; s++) {
    X.push(inst.extra[e++]); Xs.push(inst.extra[e++]);
    for (let k = 0; k < perState - 2; k++) Ks[k].push(inst.extra[e++]);
  }
  const snaps: Float64Array[][] = [];
  if (plan.twoTime.length) for (let g = 0; g < spec.grid.length; g++) snaps.push(plan.snapshotOf.map(() => inst.extra[e++]));

  sampleRandoms(inst, seed);
  for (const b of [...X, ...Xs]) b.fill(0);
  const clippedInit = sampleInit(plan, X, seed, inst.V);
  const controls = controlValues(inst, controlSources(plan), X);
  const noiseRng = plan.noises.map((nz) => new Rng(seed, STREAM.noise(nz.decl)));

  const stateIds = plan.states.map((s) => s.vec);
  const setStage = (xs: Float64Array[], ks: Float64Array[]) => {
    for (let s = 0; s < S; s++) { V[stateIds[s]] = xs[s]; V[plan.deriv[s]] = ks[s]; }
  };
  const lo = plan.states.map((s) => (s.lower === undefined ? -Infinity : s.lower));
  const hi = plan.states.map((s) => (s.upper === undefined ? Infinity : s.upper));
  const bounded = plan.states.map((s) => s.lower !== undefined || s.upper !== undefined);
  const thr = spec.blowup;

  let t = 0, steps = 0;
  const check = (tt: number) => {
    for (let s = 0; s < S; s++) {
      const x = X[s], n = plan.states[s].n;
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (!(v <= thr && v >= -thr)) blowUp(inst, s, i, v, tt, seed, spec);
      }
    }
  };

  const rk4 = (h: number) => {
    const [K1, K2, K3, K4] = Ks;
    setStage(X, K1); inst.stage(t);
    axpyClip(Xs, X, K1, h / 2, lo, hi, bounded, plan);
    setStage(Xs, K2); inst.stage(t + h / 2);
    axpyClip(Xs, X, K2, h / 2, lo, hi, bounded, plan);
    setStage(Xs, K3); inst.stage(t + h / 2);
    axpyClip(Xs, X, K3, h, lo, hi, bounded, plan);
    setStage(Xs, K4); inst.stage(t + h);
    for (let s = 0; s < S; s++) {
      const x = X[s], k1 = K1[s], k2 = K2[s], k3 = K3[s], k4 = K4[s], n = plan.states[s].n, c = h / 6, l = lo[s], u = hi[s];
      if (bounded[s]) for (let i = 0; i < n; i++) { const v = x[i] + c * (k1[i] + 2 * (k2[i] + k3[i]) + k4[i]); x[i] = v < l ? l : v > u ? u : v; }
      else for (let i = 0; i < n; i++) x[i] = x[i] + c * (k1[i] + 2 * (k2[i] + k3[i]) + k4[i]);
    }
  };

  const draws = spec.noiseDraws ?? 1;
  const heun = (h: number) => {
    const [K1, K2] = Ks;
    plan.noises.forEach((nz, q) => {
      const w = V[nz.vec], sd = Math.sqrt((nz.D * h) / draws), r = noiseRng[q];
      for (let i = 0; i < nz.n; i++) w[i] = sd * r.normal();
      for (let k = 1; k < draws; k++) for (let i = 0; i < nz.n; i++) w[i] += sd * r.normal();
    });
    setStage(X, K1); inst.stage(t); inst.diffusion!(t);
    for (let s = 0; s < S; s++) {
      const x = X[s], xs = Xs[s], k1 = K1[s], n = plan.states[s].n, l = lo[s], u = hi[s];
      const g = plan.diffusion[s] >= 0 ? V[plan.diffusion[s]] : null;
      for (let i = 0; i < n; i++) { const v = x[i] + h * k1[i] + (g ? g[i] : 0); xs[i] = v < l ? l : v > u ? u : v; }
    }
    setStage(Xs, K2); inst.stage(t + h);
    for (let s = 0; s < S; s++) {
      const x = X[s], k1 = K1[s], k2 = K2[s], n = plan.states[s].n, c = h / 2, l = lo[s], u = hi[s];
      const g = plan.diffusion[s] >= 0 ? V[plan.diffusion[s]] : null;
      for (let i = 0; i < n; i++) { const v = x[i] + c * (k1[i] + k2[i]) + (g ? g[i] : 0); x[i] = v < l ? l : v > u ? u : v; }
    }
  };
  // a map: x(t+1) = F(x(t)), the stage program writes F into the derivative buffers;
  // per-step randomness s(t) is drawn on arriving at step t (so the lets and
  // observables at t and the step t → t+1 see the same draw)
  const freshDraw = plan.discrete ? stepDraws(inst, seed) : undefined;
  const nFresh = freshDraw ? plan.randoms.filter((r) => r.decl.timeDependent).length : 0;
  const stepsTotal = plan.discrete ? Math.round(spec.T) + 1 : 0;
  const stepControls = new Float64Array(nFresh * stepsTotal);
  let drawn = 0;
  const fresh = freshDraw && (() => {
    const z = freshDraw();
    if (drawn < stepsTotal) z.forEach((v, d) => { stepControls[d * stepsTotal + drawn] = v; });
    drawn++;
  });
  fresh?.();
  const mapStep = () => {
    const [K1] = Ks;
    setStage(X, K1); inst.stage(t);
    for (let s = 0; s < S; s++) {
      const x = X[s], k1 = K1[s], n = plan.states[s].n, l = lo[s], u = hi[s];
      if (bounded[s]) for (let i = 0; i < n; i++) { const v = k1[i]; x[i] = v < l ? l : v > u ? u : v; }
      else x.set(k1.subarray(0, n));
    }
    fresh?.();
  };
  const step = plan.discrete ? mapStep : noisy ? heun : rk4;

  // output schedule
  const nT = spec.times.length, nO = plan.oneTime.length;
  const obs = new Float64Array(nO * nT);
  const stops = [...new Set([0, ...spec.times, ...spec.grid, spec.T])].sort((a, b) => a - b);
  let ti = 0, gi = 0;
  const record = (tt: number) => {
    const wantObs = ti < nT && spec.times[ti] === tt;
    const wantSnap = gi < spec.grid.length && spec.grid[gi] === tt;
    if (!wantObs && !wantSnap) return;
    for (let s = 0; s < S; s++) V[stateIds[s]] = X[s];
    inst.lets(tt);
    if (wantObs) {
      inst.observe(tt);
      for (let o = 0; o < nO; o++) {
        const v = inst.O[o];
        if (!Number.isFinite(v)) badObservable(inst, plan.oneTime[o].name, v, tt, seed);
        obs[o * nT + ti] = v;
      }
      ti++;
    }
    if (wantSnap) {
      plan.snapshotOf.forEach((id, q) => { const src = q < S ? X[q] : V[id]; snaps[gi][q].set(src.subarray(0, plan.layout.vecs[id].n)); });
      gi++;
    }
  };

  const tInt = performance.now();
  const cpu0 = process.cpuUsage();
  let nextReport = tInt + 500;
  check(0);
  record(0);
  for (let q = 1; q < stops.length; q++) {
    const t1 = stops[q];
    // a map takes one step per unit of time (the times are integers, simulate checks)
    const n = plan.discrete ? Math.round(t1 - t) : Math.max(1, Math.ceil((t1 - t) / spec.dt - 1e-9)) * (spec.substeps ?? 1);
    const h = (t1 - t) / n;
    const tStart = t;
    for (let k = 0; k < n; k++) {
      step(h);
      steps++;
      t = k === n - 1 ? t1 : tStart + (k + 1) * h;
      check(t);
      if (onProgress && performance.now() > nextReport) { nextReport = performance.now() + 500; onProgress(t / spec.T); }
    }
    record(t1);
  }
  const integrateSeconds = (performance.now() - tInt) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const integrateCpuSeconds = (cpu.user + cpu.system) / 1e6;

  // two-time observables on the grid
  const G = spec.grid.length;
  const two = plan.twoTime.map((tt, o) => {
    const out = new Float64Array(G * G);
    for (let a = 0; a < G; a++) {
      for (let b = 0; b < G; b++) {
        tt.snapIds[0].forEach((id, q) => { V[id] = snaps[a][q]; });
        tt.snapIds[1].forEach((id, q) => { V[id] = snaps[b][q]; });
        inst.twoTime[o](spec.grid[Math.max(a, b)]);
        const v = inst.O2[0];
        if (!Number.isFinite(v)) badObservable(inst, tt.name, v, spec.grid[Math.max(a, b)], seed);
        out[a * G + b] = v;
      }
    }
    return out;
  });
  return { seed, obs, two, controls, stepControls, steps, clippedInit, integrateSeconds, integrateCpuSeconds, seconds: (performance.now() - t0) / 1000 };
}

/** Xs = clip(X + c·K). */
function axpyClip(Xs: Float64Array[], X: Float64Array[], K: Float64Array[], c: number, lo: number[], hi: number[], bounded: boolean[], plan: Instance['plan']): void {
  for (let s = 0; s < Xs.length; s++) {
    const xs = Xs[s], x = X[s], k = K[s], n = plan.states[s].n;
    if (bounded[s]) { const l = lo[s], u = hi[s]; for (let i = 0; i < n; i++) { const v = x[i] + c * k[i]; xs[i] = v < l ? l : v > u ? u : v; } }
    else for (let i = 0; i < n; i++) xs[i] = x[i] + c * k[i];
  }
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(3) : String(v));

function paramText(inst: Instance): string {
  const ps = Object.entries(inst.plan.c.params);
  return ps.length ? ` (${ps.map(([k, v]) => `${k} = ${v}`).join(', ')})` : '';
}

function blowUp(inst: Instance, s: number, i: number, v: number, t: number, seed: number, spec: RunSpec): never {
  const st = inst.plan.states[s];
  const when = `t = ${+t.toFixed(6)} (seed ${seed})`;
  if (Number.isNaN(v)) {
    throw new DmftError({
      file: inst.plan.model.file,
      message: `simulation produced NaN in state ${st.name}[${i + 1}] at ${when}`,
      hint: 'a function left its domain (log or sqrt of a negative number, 0/0) or the state overflowed; check the dynamics and the parameters' + paramText(inst),
    });
  }
  const m = inst.plan.model;
  const rhs = m.dynamics.find((d) => d.state === st.name)?.rhs;
  const dependent = new Set([...m.states.map((x) => x.name), ...m.lets.map((x) => x.name)]);
  const fast = rhs && superlinear(rhs, (x) => x.k === 'ref' && dependent.has(x.name));
  throw new DmftError({
    file: m.file,
    message: `simulation blew up at ${when}: state ${st.name} reached |${st.name}| = ${fmt(Math.abs(v))} (limit ${fmt(spec.blowup)})`,
    hint: (fast
      ? `likely cause: the term ${print(fast)} grows faster than linearly in the state, so the state can reach infinity in finite time for these parameters${paramText(inst)} or initial values; `
      : `likely cause: the dynamics are past the stability edge for these parameters${paramText(inst)}, where a linear instability grows exponentially; `) +
      `if the model should be stable, try a smaller --dt (now ${spec.dt})`,
  });
}

function badObservable(inst: Instance, name: string, v: number, t: number, seed: number): never {
  throw new DmftError({
    file: inst.plan.model.file,
    message: `observable ${name} is ${v} at t = ${+t.toFixed(6)} (seed ${seed})`,
    hint: 'its expression left its domain (log or sqrt of a negative number, division by zero) or overflowed',
  });
}
