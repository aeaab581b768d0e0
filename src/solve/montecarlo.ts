// Monte Carlo fixed point of the DMFT equations (Eissfeller–Opper 1992) for
// single-site processes that are not Gaussian — driven only by the derived
// DmftSystem.
//
// On a time grid t_k = k h (k = 0…K) the order parameters are arrays:
// M(t_k), C(t_k, t_l) and R(t_k, t_l) (l ≤ k; plus a δ(t − s) coefficient for
// the instantaneous responses of algebraic populations). One iteration:
//  1. every Gaussian field is sampled on the grid from its covariance kernel
//     (cov expression evaluated on the current C; Cholesky of the grid matrix,
//     semi-definite tolerant), for P paths at once;
//  2. initial conditions, quenched inputs and noise increments are sampled;
//  3. all paths advance together (one Float64Array sweep per time step):
//     Heun steps for dynamic populations, Newton solves for algebraic ones;
//     memory integrals ∫₀ᵗ R(t,s) g(x(s)) ds by the trapezoid rule on the grid
//     (the same second-order accuracy as Heun, endpoint included implicitly);
//     bounds by clipping (a clipped state is pinned: its response is zero);
//     white noise Itô (Euler–Maruyama increment, additive noise only);
//  4. M, C are sample means; R(t,s) = ⟨f'(x(t)) δx(t)/δη(s)⟩ by tangent
//     propagation: for each impulse time s the linearised single-site
//     dynamics (including the memory term's own response) is integrated along
//     each path with the same Heun/trapezoid scheme;
//  5. burn-in: undamped iterations (causality makes this a Picard iteration of
//     a Volterra problem) until the change of the kernels is at the level of
//     their Monte Carlo noise; then measurement iterations whose estimates are
//     averaged (the kernels as a running mean, so their noise shrinks too).
// Standard errors: batch means over independent blocks of paths, combined with
// the scatter across measurement iterations (which also carries the noise of
// the kernels themselves). Discretization error: the whole fixed point again
// at step 2h; Heun + trapezoid is second order, so err(h) ≈ |O_h − O_2h|/3.
// Nothing here knows any particular model.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { DmftError } from '../errors.ts';
import { mapPost, some, sym } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { Dist } from '../model/ir.ts';
import { constantValue } from '../model/parse.ts';
import { Rng } from '../simulate/rng.ts';
import type { PopReading, SystemReading } from './read.ts';
import type { SolveOptions, SolveResult, TwoTime } from './types.ts';
import { table } from '../table.ts';

export interface MonteCarloOptions extends SolveOptions {
  /** paths per measurement iteration (default 4000; `samples` of SolveOptions) */
  samples?: number;
  /** paths per burn-in iteration (default max(500, samples/4)) */
  burnSamples?: number;
  /** paths used for tangent propagation of responses (default min(samples, 800); half of it in burn-in).
   *  The tangent costs ~K³/6 per path and memory term (K = T/dt), the rest ~K²/2 per path. */
  responseSamples?: number;
  /** measurement iterations (default 4) */
  measure?: number;
  /** largest number of burn-in iterations (default 60) */
  maxBurn?: number;
  /** batch-means blocks per iteration (default 16) */
  blocks?: number;
  /** estimate the discretization error by a second solve at 2·dt (default true) */
  refine?: boolean;
  /** largest number of time steps on [0, T] (default 160): the cost grows like K³ (responses)
   *  and K² (fields, memory), so a finer dt is coarsened to T/maxSteps (reported) */
  maxSteps?: number;
}

// ---------------------------------------------------------------------------
// plan

interface FieldPlan { pos: number; cov: Compiled; ops: number[] }
interface MemPlan { pos: number; op: number; g: Compiled; dg: Compiled }
interface PopPlan {
  r: PopReading;
  index: number;
  dynamic: boolean;
  nq: number;
  fields: FieldPlan[];
  qPos: number[];
  qDists: Dist[];
  noises: { pos: number; D: number; coef: Compiled }[];
  means: { pos: number; op: number }[];
  mems: MemPlan[];
  tPos: number;
  dFx: Compiled;
  dFfield: Compiled[];
  dFmem: Compiled[];
  /** order parameters of this population */
  ops: number[];
  /** R ops of this population that some memory term needs, with their slot field */
  resp: { op: number; field: number }[];
  avgs: { obs: number; a: number; F: Compiled }[];
  lower: number;
  upper: number;
}

interface OpInfo { name: string; kind: 'C' | 'M' | 'R'; pop: number; F: Compiled; dF: Compiled; inst: boolean }

class Plan {
  readonly reading: SystemReading;
  readonly params: Record<string, number>;
  readonly ops: OpInfo[];
  readonly pops: PopPlan[];
  readonly needR: Set<number>;

  constructor(reading: SystemReading) {
    this.reading = reading;
    this.params = reading.params;
    const sys = reading.sys;
    const opIndex = new Map(sys.orderParams.map((o, i) => [o.name, i]));
    const popIndex = new Map(reading.pops.map((p, i) => [p.pop.name, i]));
    this.ops = sys.orderParams.map((o) => {
      const rd = reading.orders.get(o.name)!;
      return { name: o.name, kind: o.kind, pop: popIndex.get(o.pop)!, F: rd.F, dF: rd.dfdx, inst: !!o.instantaneous };
    });
    const opSlots = sys.orderParams.map((_, i) => `__op${i}`);
    this.needR = new Set();
    for (const p of reading.pops) for (const m of p.memory) {
      const i = opIndex.get(m.R);
      if (i === undefined || this.ops[i].kind !== 'R') throw new DmftError({ message: `Monte Carlo: the memory kernel ${m.R} is not a response function` });
      this.needR.add(i);
    }
    this.pops = reading.pops.map((r, index): PopPlan => {
      const slot = (n: string) => r.slots.indexOf(n);
      const dF = (n: string) => compile(diff(r.rhs, isVar(n)), r.slots, this.params);
      if (r.pop.kind === 'algebraic' && r.noises.length) throw new DmftError({ message: `Monte Carlo: the algebraic population ${r.pop.variable} contains white noise, which has no meaning in an instantaneous equation` });
      const noises = r.noises.map((n) => {
        const d = diff(r.rhs, isVar(n.name));
        if (degree(r.rhs, isVar(n.name)) > 1 || some(d, (x) => (x.k === 'sym' || x.k === 'ref') && x.name === r.pop.variable))
          throw new DmftError({ message: `Monte Carlo: the noise ${n.name} enters ${r.pop.variable}'s equation multiplicatively; only additive white noise is supported` });
        return { pos: slot(n.name), D: n.D, coef: compile(d, r.slots, this.params) };
      });
      const fields = r.fields.map((name, k): FieldPlan => {
        const used: number[] = [];
        const cov = mapPost(r.pop.fields[k].cov, (x) => {
          if (x.k !== 'op') return x;
          const i = opIndex.get(x.name);
          if (i === undefined) throw new DmftError({ message: `Monte Carlo: the covariance of ${name} uses ${x.name}, which is not an order parameter` });
          if (!used.includes(i)) used.push(i);
          return sym(opSlots[i]);
        });
        return { pos: slot(name), cov: compile(cov, opSlots, this.params), ops: used };
      });
      const mems = r.memory.map((m): MemPlan => ({ pos: slot(m.slot), op: opIndex.get(m.R)!, g: m.gF, dg: m.dgdx }));
      const means = r.means.map((m) => {
        const i = opIndex.get(m.M);
        if (i === undefined) throw new DmftError({ message: `Monte Carlo: the mean-field term ${m.M} is not an order parameter` });
        return { pos: slot(m.slot), op: i };
      });
      const ops = this.ops.map((o, i) => (o.pop === index ? i : -1)).filter((i) => i >= 0);
      const resp = ops.filter((i) => this.ops[i].kind === 'R' && this.needR.has(i)).map((i) => {
        const f = r.fields.indexOf(sys.orderParams[i].slot ?? '');
        if (f < 0) throw new DmftError({ message: `Monte Carlo: the response ${this.ops[i].name} is to '${sys.orderParams[i].slot}', which is not a field of ${r.pop.variable}` });
        return { op: i, field: f };
      });
      const avgs: PopPlan['avgs'] = [];
      reading.observables.forEach((ob, oi) => ob.averages.forEach((a, ai) => { if (a.pop === r.pop.name) avgs.push({ obs: oi, a: ai, F: a.F }); }));
      return {
        r, index, dynamic: r.pop.kind === 'dynamic', nq: r.quenched.length, fields,
        qPos: r.quenched.map((q) => slot(q.name)), qDists: r.quenched.map((q) => q.input.dist),
        noises, means, mems, tPos: slot('t'),
        dFx: r.dF[r.pop.variable], dFfield: r.fields.map((f) => r.dF[f]), dFmem: r.memory.map((m) => dF(m.slot)),
        ops, resp, avgs, lower: r.lower ?? -Infinity, upper: r.upper ?? Infinity,
      };
    });
  }

  num(e: Parameters<typeof constantValue>[0], what: string): number {
    const v = constantValue(e, this.params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `Monte Carlo: ${what} (${print(e)}) is not a finite number` });
    return v;
  }

  sampler(d: Dist, what: string): (rng: Rng) => number {
    switch (d.kind) {
      case 'normal': { const m = this.num(d.mean, `the mean of ${what}`), s = Math.sqrt(Math.max(0, this.num(d.var, `the variance of ${what}`))); return (g) => m + s * g.normal(); }
      case 'uniform': { const a = this.num(d.lo, `the lower end of ${what}`), b = this.num(d.hi, `the upper end of ${what}`); return (g) => a + (b - a) * g.uniform(); }
      case 'bernoulli': { const p = this.num(d.p, `the probability of ${what}`); return (g) => (g.uniform() < p ? 1 : 0); }
      default: throw new DmftError({ message: `Monte Carlo: ${what} has a ${d.kind} distribution, which cannot be sampled as a site-local input` });
    }
  }
}

// ---------------------------------------------------------------------------
// kernels on the grid

interface Kernels {
  K: number;
  h: number;
  /** per op: M → K+1 values; C → (K+1)² (full symmetric); R → (K+1)² lower triangle (k ≥ l) */
  v: Float64Array[];
  /** per op: R of an algebraic population → δ(t − s) coefficient per time */
  inst: (Float64Array | null)[];
}

function emptyKernels(plan: Plan, K: number, h: number): Kernels {
  const n = K + 1;
  return {
    K, h,
    v: plan.ops.map((o) => new Float64Array(o.kind === 'M' ? n : n * n)),
    inst: plan.ops.map((o) => (o.kind === 'R' && o.inst ? new Float64Array(n) : null)),
  };
}

/** Estimates of one iteration: values, block-level standard errors, observables. */
interface Estimate {
  k: Kernels;
  se: Kernels;
  /** one-time observables: per observable, per time (undefined for two-time ones) */
  obs: (Float64Array | undefined)[];
  obsSE: (Float64Array | undefined)[];
  /** two-time observables at the output grid indices: [a][b] */
  two: (Float64Array | undefined)[];
  twoSE: (Float64Array | undefined)[];
}

/** Cholesky factor of a covariance matrix on the grid. Kernels of smooth
 *  processes are numerically rank-deficient, so a jitter δ·max(diag)·I is added,
 *  starting at 1e-12 and growing tenfold until the factorisation succeeds; a
 *  matrix that needs more than 1e-5 is not a covariance (an error). */
export function cholesky(S: Float64Array, n: number): { L: Float64Array; jitter: number } {
  let maxd = 0;
  for (let i = 0; i < n; i++) maxd = Math.max(maxd, S[i * n + i]);
  const L = new Float64Array(n * n);
  if (!(maxd > 0)) return { L, jitter: 0 };
  for (let jit = 1e-12; jit <= 1e-5; jit *= 10) {
    const add = jit * maxd;
    let ok = true;
    L.fill(0);
    for (let j = 0; j < n && ok; j++) {
      let d = S[j * n + j] + add;
      for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
      if (!(d > 0)) { ok = false; break; }
      const ljj = Math.sqrt(d);
      L[j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let s = S[i * n + j];
        for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
        L[i * n + j] = s / ljj;
      }
    }
    if (ok) return { L, jitter: jit };
  }
  // A kernel estimated from Monte Carlo paths can come out slightly indefinite
  // (statistical noise ~1/√paths): project it onto the positive semi-definite
  // cone — a symmetric square root with the negative eigenvalues set to zero
  // (η = L ξ needs only L Lᵀ = S). A clearly negative eigenvalue is an error.
  const eig = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(S.subarray(i * n, (i + 1) * n)))), { assumeSymmetric: true });
  const lam = eig.realEigenvalues, V = eig.eigenvectorMatrix;
  const lamMin = Math.min(...lam);
  if (lamMin < -1e-3 * maxd) return { L, jitter: Infinity };
  L.fill(0);
  for (let k = 0; k < n; k++) {
    const r = Math.sqrt(Math.max(0, lam[k]));
    if (r === 0) continue;
    for (let i = 0; i < n; i++) L[i * n + k] = V.get(i, k) * r;
  }
  return { L, jitter: -lamMin / maxd };
}

// ---------------------------------------------------------------------------
// one iteration: sample, integrate, estimate

interface IterSettings { P: number; PR: number; B: number; seed: number; stream: number; outIdx: number[] }

/** largest Cholesky jitter used (relative to the kernel's largest variance) */
const stats = { jitter: 0 };

/**
 * The paths of one population in one iteration. Hot loops are methods (one
 * shared, optimisable function each, called many times) working on
 * Float64Arrays laid out time-major: a[k * P + p].
 */
class PopRun {
  readonly n: number;
  readonly X: Float64Array;
  readonly pinned: Uint8Array;
  /** g_m(x_l) per memory term, per path */
  readonly Gm: Float64Array[];
  /** memory values for the first PR paths (coefficients of the tangent dynamics) */
  readonly MEM: Float64Array[];
  /** partial trapezoid sums h Σ_{l<k} w_l R(k,l) g(x_l) */
  readonly S: Float64Array[];
  readonly buf: Float64Array;
  readonly gbuf: Float64Array;
  readonly Rv: Float64Array[];
  readonly Ri: (Float64Array | null)[];
  readonly Q: Float64Array[];
  readonly ETA: Float64Array[];
  readonly fieldPos: Int32Array;
  readonly qPos: Int32Array;
  readonly meanPos: Int32Array;
  readonly meanV: Float64Array[];
  readonly memPos: Int32Array;
  readonly noisePos: Int32Array;

  constructor(readonly plan: Plan, readonly pl: PopPlan, readonly kern: Kernels, readonly P: number, readonly PR: number, Q: Float64Array[], ETA: Float64Array[]) {
    const n = (this.n = kern.K + 1);
    this.X = new Float64Array(n * P);
    this.pinned = new Uint8Array(n * P);
    this.Gm = pl.mems.map(() => new Float64Array(n * P));
    this.MEM = pl.mems.map(() => new Float64Array(n * PR));
    this.S = pl.mems.map(() => new Float64Array(P));
    this.buf = new Float64Array(pl.r.slots.length);
    this.gbuf = new Float64Array(1 + pl.nq);
    this.Rv = pl.mems.map((m) => kern.v[m.op]);
    this.Ri = pl.mems.map((m) => kern.inst[m.op]);
    this.Q = Q;
    this.ETA = ETA;
    this.fieldPos = Int32Array.from(pl.fields.map((f) => f.pos));
    this.qPos = Int32Array.from(pl.qPos);
    this.meanPos = Int32Array.from(pl.means.map((m) => m.pos));
    this.meanV = pl.means.map((m) => kern.v[m.op]);
    this.memPos = Int32Array.from(pl.mems.map((m) => m.pos));
    this.noisePos = Int32Array.from(pl.noises.map((m) => m.pos));
  }

  /** the slot vector at grid time k, path p, state x (memory slots left to the caller) */
  fill(k: number, p: number, x: number): void {
    const { buf, gbuf, P } = this;
    buf[0] = x;
    gbuf[0] = x;
    for (let e = 0; e < this.fieldPos.length; e++) buf[this.fieldPos[e]] = this.ETA[e][k * P + p];
    for (let j = 0; j < this.qPos.length; j++) { const q = this.Q[j][p]; buf[this.qPos[j]] = q; gbuf[1 + j] = q; }
    for (let j = 0; j < this.meanPos.length; j++) buf[this.meanPos[j]] = this.meanV[j][k];
    for (let j = 0; j < this.noisePos.length; j++) buf[this.noisePos[j]] = 0;
    if (this.pl.tPos >= 0) buf[this.pl.tPos] = k * this.kern.h;
  }

  /** memory value of term j at (k, p) with the endpoint value g(x_k) = gx */
  memAt(j: number, k: number, p: number, gx: number): number {
    const ri = this.Ri[j];
    return (ri ? ri[k] * gx : 0) + this.S[j][p] + (k > 0 ? 0.5 * this.kern.h * this.Rv[j][k * this.n + k] * gx : 0);
  }

  /** S[j] ← h Σ_{l<k} w_l R_j(k,l) g_j(x_l), w_0 = ½ */
  partial(k: number): void {
    const { P, n } = this, h = this.kern.h;
    for (let j = 0; j < this.S.length; j++) {
      const s = this.S[j];
      s.fill(0);
      const R = this.Rv[j], G = this.Gm[j];
      for (let l = 0; l < k; l++) {
        const c = h * (l === 0 ? 0.5 : 1) * R[k * n + l];
        if (c === 0) continue;
        const off = l * P;
        for (let p = 0; p < P; p++) s[p] += c * G[off + p];
      }
    }
  }

  clip(x: number): number { return x < this.pl.lower ? this.pl.lower : x > this.pl.upper ? this.pl.upper : x; }

  setG(k: number, p: number, x: number): void {
    this.gbuf[0] = x;
    for (let j = 0; j < this.Gm.length; j++) this.Gm[j][k * this.P + p] = this.pl.mems[j].g(this.gbuf);
  }

  /** set the memory slots for (k, p) from the current partial sums and endpoint state x */
  setMem(k: number, p: number, x: number, record: boolean): void {
    this.gbuf[0] = x;
    for (let j = 0; j < this.memPos.length; j++) {
      const v = this.memAt(j, k, p, this.pl.mems[j].g(this.gbuf));
      this.buf[this.memPos[j]] = v;
      if (record && p < this.PR) this.MEM[j][k * this.PR + p] = v;
    }
  }

  /** Heun predictor at step k → k+1 for all paths */
  predictor(k: number, f1: Float64Array, xp: Float64Array, noise: Float64Array, rngs: Rng[], sd: Float64Array): void {
    const { P, X } = this, h = this.kern.h, F = this.pl.r.F, nz = this.pl.noises;
    for (let p = 0; p < P; p++) {
      const x = X[k * P + p];
      this.fill(k, p, x);
      this.setMem(k, p, x, true);
      const f = F(this.buf);
      let nt = 0;
      for (let j = 0; j < nz.length; j++) nt += nz[j].coef(this.buf) * sd[j] * rngs[j].normal();
      f1[p] = f;
      noise[p] = nt;
      xp[p] = this.clip(x + h * f + nt);
    }
  }

  /** Heun corrector at step k → k+1 (partial sums for k+1 already in S) */
  corrector(k: number, f1: Float64Array, xp: Float64Array, noise: Float64Array): void {
    const { P, X, pinned } = this, h = this.kern.h, F = this.pl.r.F;
    for (let p = 0; p < P; p++) {
      const xt = xp[p];
      this.fill(k + 1, p, xt);
      this.setMem(k + 1, p, xt, false);
      const raw = X[k * P + p] + 0.5 * h * (f1[p] + F(this.buf)) + noise[p];
      const x = this.clip(raw);
      X[(k + 1) * P + p] = x;
      if (x !== raw) pinned[(k + 1) * P + p] = 1;
      this.setG(k + 1, p, x);
    }
  }

  runDynamic(rngFor: (purpose: number) => Rng): void {
    const { P, X, pinned, pl } = this, K = this.kern.K, h = this.kern.h, r = pl.r;
    const init = r.pop.init;
    const g0 = rngFor(0);
    let draw: () => number = () => 0;
    if (init?.kind === 'value') { const v = this.plan.num(init.value, `the initial value of ${r.pop.variable}`); draw = () => v; }
    else if (init?.kind === 'dist') { const d = this.plan.sampler(init.dist, `the initial condition of ${r.pop.variable}`); draw = () => d(g0); }
    for (let p = 0; p < P; p++) {
      this.fill(0, p, 0);
      const raw = draw(), x = this.clip(raw);
      X[p] = x;
      if (x !== raw) pinned[p] = 1;
      this.setG(0, p, x);
    }
    const rngs = pl.noises.map((_, j) => rngFor(512 + j));
    const sd = Float64Array.from(pl.noises.map((nz) => Math.sqrt(Math.max(0, nz.D) * h)));
    const f1 = new Float64Array(P), xp = new Float64Array(P), noise = new Float64Array(P);
    this.partial(0);
    for (let k = 0; k < K; k++) {
      this.predictor(k, f1, xp, noise, rngs, sd);
      this.partial(k + 1);
      this.corrector(k, f1, xp, noise);
    }
    for (let p = 0; p < this.PR; p++) { this.fill(K, p, X[K * P + p]); this.setMem(K, p, X[K * P + p], true); }
  }

  /** algebraic: x_k = F(x_k, …) with the memory endpoint implicit — Newton per path */
  runAlgebraic(): void {
    const { P, X, pinned, pl, n } = this, K = this.kern.K, h = this.kern.h, r = pl.r;
    const nm = pl.mems.length;
    for (let k = 0; k <= K; k++) {
      this.partial(k);
      const ce = new Float64Array(nm);
      for (let j = 0; j < nm; j++) ce[j] = (this.Ri[j] ? this.Ri[j]![k] : 0) + (k > 0 ? 0.5 * h * this.Rv[j][k * n + k] : 0);
      for (let p = 0; p < P; p++) {
        let x = k > 0 ? X[(k - 1) * P + p] : 0;
        this.fill(k, p, x);
        let conv = false;
        for (let it = 0; it < 60; it++) {
          this.buf[0] = x;
          this.setMem(k, p, x, false);
          const G = r.F(this.buf) - x;
          let dG = pl.dFx(this.buf) - 1;
          for (let j = 0; j < nm; j++) if (ce[j] !== 0) dG += pl.dFmem[j](this.buf) * ce[j] * pl.mems[j].dg(this.gbuf);
          const dx = -G / dG;
          if (!Number.isFinite(dx)) break;
          x += dx;
          if (Math.abs(dx) <= 1e-13 * (1 + Math.abs(x))) { conv = true; break; }
        }
        if (!conv) throw new DmftError({ message: `Monte Carlo: the algebraic equation of ${r.pop.variable} has no solution near t = ${(k * h).toFixed(3)} (Newton failed)` });
        const xc = this.clip(x);
        if (xc !== x) pinned[k * P + p] = 1;
        X[k * P + p] = xc;
        this.setG(k, p, xc);
        if (p < this.PR) { this.buf[0] = xc; this.setMem(k, p, xc, true); }
      }
    }
  }
}

/** f(x_k) for every path and time → out (time-major) */
function evalOnPaths(F: Compiled, run: PopRun, out: Float64Array): void {
  const { P, n, X, Q, gbuf } = run;
  for (let k = 0; k < n; k++) for (let p = 0; p < P; p++) {
    gbuf[0] = X[k * P + p];
    for (let j = 0; j < Q.length; j++) gbuf[1 + j] = Q[j][p];
    out[k * P + p] = F(gbuf);
  }
}

/** block sums of Σ_p f_k f_l → mean and batch-means error, for all l ≤ k */
function correlate(fv: Float64Array, P: number, n: number, B: number, est: Float64Array, se: Float64Array): void {
  const blk = new Float64Array(B);
  const bounds = new Int32Array(B + 1);
  for (let b = 0; b <= B; b++) bounds[b] = Math.min(P, Math.ceil((b * P) / B));
  for (let k = 0; k < n; k++) for (let l = 0; l <= k; l++) {
    const a = k * P, c = l * P;
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let p = bounds[b]; p < bounds[b + 1]; p++) s += fv[a + p] * fv[c + p];
      blk[b] = s;
    }
    meanSE(blk, P, B, est, se, k * n + l);
    est[l * n + k] = est[k * n + l];
    se[l * n + k] = se[k * n + l];
  }
}

function meanOverPaths(fv: Float64Array, P: number, n: number, B: number, est: Float64Array, se: Float64Array): void {
  const blk = new Float64Array(B);
  for (let k = 0; k < n; k++) {
    blk.fill(0);
    for (let p = 0; p < P; p++) blk[Math.min(B - 1, Math.floor((p * B) / P))] += fv[k * P + p];
    meanSE(blk, P, B, est, se, k);
  }
}

/** the covariance kernel of a field on the grid, from the current order parameters */
function covMatrix(plan: Plan, f: FieldPlan, kern: Kernels, opSlots: Float64Array): Float64Array {
  const n = kern.K + 1;
  const S = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let l = 0; l <= k; l++) {
    for (let q = 0; q < f.ops.length; q++) { const i = f.ops[q]; opSlots[i] = plan.ops[i].kind === 'M' ? kern.v[i][k] : kern.v[i][k * n + l]; }
    const c = f.cov(opSlots);
    S[k * n + l] = c; S[l * n + k] = c;
  }
  return S;
}

function firstNonFinite(X: Float64Array): number {
  for (let i = 0; i < X.length; i++) if (!Number.isFinite(X[i]) || Math.abs(X[i]) > 1e12) return i;
  return -1;
}

/** η = L ξ on the grid for all paths (L Lᵀ = kernel; L lower-triangular from
 *  Cholesky, or a full symmetric square root for near-singular kernels) */
function sampleField(L: Float64Array, n: number, P: number, rng: Rng): Float64Array {
  const xi = new Float64Array(n * P);
  for (let i = 0; i < xi.length; i++) xi[i] = rng.normal();
  const eta = new Float64Array(n * P);
  for (let k = 0; k < n; k++) {
    const row = k * P;
    for (let l = 0; l < n; l++) {
      const c = L[k * n + l];
      if (c === 0) continue;
      const src = l * P;
      for (let p = 0; p < P; p++) eta[row + p] += c * xi[src + p];
    }
  }
  return eta;
}

function iterate(plan: Plan, kern: Kernels, st: IterSettings): Estimate {
  const { K, h } = kern;
  const n = K + 1;
  const est = emptyKernels(plan, K, h);
  const se = emptyKernels(plan, K, h);
  const oneTime = plan.reading.observables.map((ob) => ob.def.times.length <= 1);
  const nOut = st.outIdx.length;
  // per observable, per average slot: block sums over time (one-time) or over output pairs (two-time)
  const avgBlocks = plan.reading.observables.map((ob, oi) => ob.averages.map(() => new Float64Array(st.B * (oneTime[oi] ? n : nOut * nOut))));
  const opSlots = new Float64Array(plan.ops.length);
  const { P, PR, B } = st;

  plan.pops.forEach((pl, pi) => {
    const r = pl.r;
    const rngFor = (purpose: number) => new Rng(st.seed, st.stream + pi * 4096 + purpose);
    // --- site-local inputs
    const Q = pl.qDists.map((d, j) => {
      const g = rngFor(1 + j), draw = plan.sampler(d, r.quenched[j].name), a = new Float64Array(P);
      for (let p = 0; p < P; p++) a[p] = draw(g);
      return a;
    });
    // --- fields: η = L ξ on the grid
    const ETA = pl.fields.map((f, e) => {
      const { L, jitter } = cholesky(covMatrix(plan, f, kern, opSlots), n);
      if (!Number.isFinite(jitter)) throw new DmftError({ message: `Monte Carlo: the covariance kernel of ${r.fields[e]} is not positive semi-definite` });
      stats.jitter = Math.max(stats.jitter, jitter);
      return sampleField(L, n, P, rngFor(256 + e));
    });
    // --- the paths
    const run = new PopRun(plan, pl, kern, P, PR, Q, ETA);
    if (pl.dynamic) run.runDynamic(rngFor); else run.runAlgebraic();
    const bad = firstNonFinite(run.X);
    if (bad >= 0) {
      const k = Math.floor(bad / P);
      throw new DmftError({ message: `Monte Carlo: the single-site process of ${r.pop.variable} diverges (at t = ${(k * h).toFixed(3)})`, hint: 'the system may be unstable at these parameters, or the time step too large' });
    }
    // --- estimates: M, C
    const fv = new Float64Array(n * P);
    for (const i of pl.ops) {
      const o = plan.ops[i];
      if (o.kind === 'R') continue;
      evalOnPaths(o.F, run, fv);
      if (o.kind === 'M') meanOverPaths(fv, P, n, B, est.v[i], se.v[i]);
      else correlate(fv, P, n, B, est.v[i], se.v[i]);
    }
    // --- observables
    for (const a of pl.avgs) {
      const acc = avgBlocks[a.obs][a.a];
      if (oneTime[a.obs]) accumulateOneTime(a.F, run, B, acc);
      else accumulateTwoTime(a.F, run, B, st.outIdx, acc);
    }
    // --- responses by tangent propagation
    if (pl.resp.length) tangent(plan, pl, kern, est, se, run, B);
  });

  // observables from the averages (outer function per block → batch means)
  const obs: Estimate['obs'] = [], obsSE: Estimate['obsSE'] = [], two: Estimate['two'] = [], twoSE: Estimate['twoSE'] = [];
  plan.reading.observables.forEach((ob, oi) => {
    const m = oneTime[oi] ? n : nOut * nOut;
    const val = new Float64Array(m), err = new Float64Array(m);
    const slots = new Float64Array(ob.averages.length);
    const perBlock = new Float64Array(B);
    const na = ob.averages.length;
    for (let t = 0; t < m; t++) {
      for (let b = 0; b < B; b++) {
        for (let ai = 0; ai < na; ai++) slots[ai] = avgBlocks[oi][ai][b * m + t] / blockSize(b, P, B);
        perBlock[b] = ob.outer(slots);
      }
      for (let ai = 0; ai < na; ai++) {
        let s = 0;
        for (let b = 0; b < B; b++) s += avgBlocks[oi][ai][b * m + t];
        slots[ai] = s / P;
      }
      val[t] = ob.outer(slots);
      let mu = 0, v = 0;
      for (let b = 0; b < B; b++) mu += perBlock[b] / B;
      for (let b = 0; b < B; b++) v += (perBlock[b] - mu) ** 2;
      err[t] = Math.sqrt(v / (B - 1) / B);
    }
    if (oneTime[oi]) { obs.push(val); obsSE.push(err); two.push(undefined); twoSE.push(undefined); }
    else { obs.push(undefined); obsSE.push(undefined); two.push(val); twoSE.push(err); }
  });
  return { k: est, se, obs, obsSE, two, twoSE };
}

function accumulateOneTime(F: Compiled, run: PopRun, B: number, acc: Float64Array): void {
  const { P, n, X, Q } = run;
  const bbuf = new Float64Array(2 + Q.length);
  for (let k = 0; k < n; k++) for (let p = 0; p < P; p++) {
    const x = X[k * P + p];
    bbuf[0] = x; bbuf[1] = x;
    for (let j = 0; j < Q.length; j++) bbuf[2 + j] = Q[j][p];
    acc[Math.min(B - 1, Math.floor((p * B) / P)) * n + k] += F(bbuf);
  }
}

function accumulateTwoTime(F: Compiled, run: PopRun, B: number, outIdx: number[], acc: Float64Array): void {
  const { P, X, Q } = run;
  const m = outIdx.length;
  const bbuf = new Float64Array(2 + Q.length);
  for (let ia = 0; ia < m; ia++) for (let ib = 0; ib < m; ib++) {
    const ka = outIdx[ia], kb = outIdx[ib];
    for (let p = 0; p < P; p++) {
      bbuf[0] = X[ka * P + p]; bbuf[1] = X[kb * P + p];
      for (let j = 0; j < Q.length; j++) bbuf[2 + j] = Q[j][p];
      acc[Math.min(B - 1, Math.floor((p * B) / P)) * m * m + ia * m + ib] += F(bbuf);
    }
  }
}

const blockSize = (b: number, P: number, B: number) => Math.ceil(((b + 1) * P) / B) - Math.ceil((b * P) / B);

/** mean and batch-means standard error from block sums */
function meanSE(blk: Float64Array, P: number, B: number, out: Float64Array, outSE: Float64Array, at: number) {
  let s = 0;
  for (let b = 0; b < B; b++) s += blk[b];
  const mean = s / P;
  let v = 0;
  for (let b = 0; b < B; b++) v += (blk[b] / blockSize(b, P, B) - mean) ** 2;
  out[at] = mean;
  outSE[at] = Math.sqrt(v / (B - 1) / B);
}


/**
 * R(t_k, t_l) = ⟨f'(x_k) Y(k, l)⟩ with Y(·, l) the response of the path to a unit
 * impulse in the slot field at t_l, integrated along the first PR paths:
 *  dynamic:   Y(l⁺, l) = ∂F/∂η(l);  dY/dt = a Y + Σ_m ∂F/∂mem_m ∫_l^t R_m(t,u) g_m'(x_u) Y(u,l) du,
 *             a = ∂F/∂x + Σ_m ∂F/∂mem_m R_m^δ(t) g_m'(x)   (Heun + trapezoid, as the state);
 *  algebraic: Y = Y_δ(l) δ(t − l) + Y_reg,  Y_δ = ∂F/∂η / d0,  d0 = 1 − ∂F/∂x − Σ ∂F/∂mem_m R_m^δ g_m',
 *             d0 Y_reg(k,l) = Σ_m ∂F/∂mem_m [R_m(k,l) g_m'(x_l) Y_δ(l) + ∫_l^t R_m(t,u) g_m'(x_u) Y_reg(u,l) du].
 * Pinned (clipped) states respond with zero.
 */
function tangent(plan: Plan, pl: PopPlan, kern: Kernels, est: Kernels, se: Kernels, d: PopRun, B: number) {
  const { K, h } = kern;
  const n = K + 1;
  const { PR } = d;
  const nm = pl.mems.length;
  const Rv = pl.mems.map((m) => kern.v[m.op]);
  const Ri = pl.mems.map((m) => kern.inst[m.op]);
  // coefficients along the paths (pinned states: zero)
  const A = new Float64Array(n * PR);
  const Cm = pl.mems.map(() => new Float64Array(n * PR));
  const GP = pl.mems.map(() => new Float64Array(n * PR));
  const nr = pl.resp.length;
  const FP = pl.resp.map(() => new Float64Array(n * PR));
  const BE = pl.resp.map(() => new Float64Array(n * PR));
  const PIN = new Uint8Array(n * PR);
  for (let k = 0; k < n; k++) coefRow(plan, pl, d, k, { A, Cm, GP, FP, BE, PIN, Ri });
  const ctx: TangentCtx = {
    n, K, h, PR, B, nm, Rv, Ri, A, Cm, GP, PIN,
    Y: new Float64Array(n * PR), GY: pl.mems.map(() => new Float64Array(n * PR)), part: pl.mems.map(() => new Float64Array(PR)),
    blk: new Float64Array(B), tmpV: new Float64Array(1), tmpS: new Float64Array(1),
  };
  for (let i = 0; i < nr; i++) {
    const op = pl.resp[i].op;
    if (pl.dynamic) propagateDynamic(ctx, BE[i], FP[i], est.v[op], se.v[op]);
    else {
      const inst = est.inst[op], instSE = se.inst[op];
      if (!inst || !instSE) throw new DmftError({ message: `Monte Carlo: the response ${plan.ops[op].name} of the algebraic population ${pl.r.pop.variable} is not marked instantaneous in the derived system` });
      propagateAlgebraic(ctx, BE[i], FP[i], est.v[op], se.v[op], inst, instSE);
    }
  }
}

/** coefficients of the tangent dynamics at grid time k for the first PR paths */
function coefRow(plan: Plan, pl: PopPlan, d: PopRun, k: number, o: { A: Float64Array; Cm: Float64Array[]; GP: Float64Array[]; FP: Float64Array[]; BE: Float64Array[]; PIN: Uint8Array; Ri: (Float64Array | null)[] }): void {
  const { X, MEM, pinned, PR, buf, gbuf, P } = d;
  const nm = pl.mems.length, nr = pl.resp.length;
  for (let p = 0; p < PR; p++) {
    const x = X[k * P + p];
    d.fill(k, p, x);
    for (let j = 0; j < nm; j++) buf[pl.mems[j].pos] = MEM[j][k * PR + p];
    const pin = pinned[k * P + p] === 1;
    o.PIN[k * PR + p] = pin ? 1 : 0;
    let a = pl.dFx(buf);
    for (let j = 0; j < nm; j++) {
      const c = pl.dFmem[j](buf), gp = pl.mems[j].dg(gbuf);
      o.Cm[j][k * PR + p] = pin ? 0 : c;
      o.GP[j][k * PR + p] = gp;
      const ri = o.Ri[j];
      if (ri) a += c * ri[k] * gp;
    }
    o.A[k * PR + p] = pin ? 0 : a;
    for (let i = 0; i < nr; i++) {
      o.FP[i][k * PR + p] = plan.ops[pl.resp[i].op].dF(gbuf);
      o.BE[i][k * PR + p] = pin ? 0 : pl.dFfield[pl.resp[i].field](buf);
    }
  }
}

interface TangentCtx {
  n: number; K: number; h: number; PR: number; B: number; nm: number;
  Rv: Float64Array[]; Ri: (Float64Array | null)[];
  A: Float64Array; Cm: Float64Array[]; GP: Float64Array[]; PIN: Uint8Array;
  Y: Float64Array; GY: Float64Array[]; part: Float64Array[];
  blk: Float64Array; tmpV: Float64Array; tmpS: Float64Array;
}

/** ⟨f'(x_k) Y(k)⟩ with its batch-means error → out[at] */
function accumulate(c: TangentCtx, FP: Float64Array, k: number, out: Float64Array, outSE: Float64Array, at: number) {
  const { PR, B, Y, blk } = c;
  blk.fill(0);
  const off = k * PR;
  for (let p = 0; p < PR; p++) blk[Math.min(B - 1, Math.floor((p * B) / PR))] += FP[off + p] * Y[off + p];
  meanSE(blk, PR, B, out, outSE, at);
}

/** part[j] ← h Σ_{u=l}^{k−1} w_u R_j(k, u) GY_j(u), w = ½ at u = l */
function partialSums(c: TangentCtx, k: number, l: number) {
  const { n, h, PR } = c;
  for (let j = 0; j < c.nm; j++) {
    const s = c.part[j], R = c.Rv[j], G = c.GY[j];
    s.fill(0);
    for (let u = l; u < k; u++) {
      const w = h * (u === l ? 0.5 : 1) * R[k * n + u];
      if (w === 0) continue;
      const off = u * PR;
      for (let p = 0; p < PR; p++) s[p] += w * G[off + p];
    }
  }
}

function setGY(c: TangentCtx, k: number) {
  const off = k * c.PR;
  for (let j = 0; j < c.nm; j++) {
    const G = c.GY[j], gp = c.GP[j];
    for (let p = 0; p < c.PR; p++) G[off + p] = gp[off + p] * c.Y[off + p];
  }
}

function propagateDynamic(c: TangentCtx, BE: Float64Array, FP: Float64Array, out: Float64Array, outSE: Float64Array) {
  const { n, K, PR, nm, Y, part } = c;
  const Yt = new Float64Array(PR), f1 = new Float64Array(PR);
  for (let l = 0; l < n; l++) {
    Y.set(BE.subarray(l * PR, (l + 1) * PR), l * PR);
    setGY(c, l);
    accumulate(c, FP, l, out, outSE, l * n + l);
    for (let j = 0; j < nm; j++) part[j].fill(0);
    for (let k = l; k < K; k++) {
      dynStep(c, l, k, Yt, f1);
      setGY(c, k + 1);
      accumulate(c, FP, k + 1, out, outSE, (k + 1) * n + l);
    }
  }
}

/** one Heun step k → k+1 of the response to an impulse at l (part holds h Σ_{u<k}) */
function dynStep(c: TangentCtx, l: number, k: number, Yt: Float64Array, f1: Float64Array): void {
  const { n, h, PR, nm, Rv, A, Cm, GP, PIN, Y, GY, part } = c;
  const o0 = k * PR, o1 = (k + 1) * PR;
  // predictor: the endpoint u = k enters the memory integral with weight ½ (k > l)
  for (let p = 0; p < PR; p++) f1[p] = A[o0 + p] * Y[o0 + p];
  for (let j = 0; j < nm; j++) {
    const C = Cm[j], pj = part[j], G = GY[j];
    const e = k > l ? 0.5 * h * Rv[j][k * n + k] : 0;
    for (let p = 0; p < PR; p++) f1[p] += C[o0 + p] * (pj[p] + e * G[o0 + p]);
  }
  for (let p = 0; p < PR; p++) Yt[p] = Y[o0 + p] + h * f1[p];
  partialSums(c, k + 1, l);
  // corrector
  for (let p = 0; p < PR; p++) Y[o1 + p] = A[o1 + p] * Yt[p];
  for (let j = 0; j < nm; j++) {
    const C = Cm[j], pj = part[j], gp = GP[j];
    const e = 0.5 * h * Rv[j][(k + 1) * n + k + 1];
    for (let p = 0; p < PR; p++) Y[o1 + p] += C[o1 + p] * (pj[p] + e * gp[o1 + p] * Yt[p]);
  }
  for (let p = 0; p < PR; p++) Y[o1 + p] = PIN[o1 + p] ? 0 : Y[o0 + p] + 0.5 * h * (f1[p] + Y[o1 + p]);
}

/** regular response at k to an impulse at l (algebraic population) */
function algStep(c: TangentCtx, l: number, k: number, D0: Float64Array, YD: Float64Array, rhs: Float64Array, self: Float64Array): void {
  const { n, h, PR, nm, Rv, Cm, GP, PIN, Y, part } = c;
  partialSums(c, k, l);
  rhs.fill(0); self.fill(0);
  const ok = k * PR, ol = l * PR;
  for (let j = 0; j < nm; j++) {
    const C = Cm[j], pj = part[j], g = GP[j];
    const Rkl = Rv[j][k * n + l], e = k > l ? 0.5 * h * Rv[j][k * n + k] : 0;
    for (let p = 0; p < PR; p++) {
      const cc = C[ok + p];
      rhs[p] += cc * (Rkl * g[ol + p] * YD[ol + p] + pj[p]);
      self[p] += cc * e * g[ok + p];
    }
  }
  for (let p = 0; p < PR; p++) Y[ok + p] = PIN[ok + p] ? 0 : rhs[p] / (D0[ok + p] - self[p]);
}

function propagateAlgebraic(c: TangentCtx, BE: Float64Array, FP: Float64Array, out: Float64Array, outSE: Float64Array, inst: Float64Array, instSE: Float64Array) {
  const { n, PR, A, PIN, Y, tmpV, tmpS } = c;
  // instantaneous part: Y_δ = ∂F/∂η / d0, d0 = 1 − ∂F/∂x − Σ ∂F/∂mem R^δ g'
  const D0 = new Float64Array(n * PR), YD = new Float64Array(n * PR);
  for (let i = 0; i < n * PR; i++) {
    const d0 = PIN[i] ? 1 : 1 - A[i];
    D0[i] = d0;
    YD[i] = BE[i] / d0;
  }
  for (let k = 0; k < n; k++) {
    Y.set(YD.subarray(k * PR, (k + 1) * PR), k * PR);
    accumulate(c, FP, k, tmpV, tmpS, 0);
    inst[k] = tmpV[0];
    instSE[k] = tmpS[0];
  }
  // regular part, impulse at l
  const rhs = new Float64Array(PR), self = new Float64Array(PR);
  for (let l = 0; l < n; l++) {
    for (let k = l; k < n; k++) {
      algStep(c, l, k, D0, YD, rhs, self);
      setGY(c, k);
      accumulate(c, FP, k, out, outSE, k * n + l);
    }
  }
}

// ---------------------------------------------------------------------------
// the fixed point

interface Run {
  kern: Kernels;
  obs: (Float64Array | undefined)[];
  obsSE: (Float64Array | undefined)[];
  two: (Float64Array | undefined)[];
  twoSE: (Float64Array | undefined)[];
  burn: number;
  converged: boolean;
  ratio: number;
}

function distance(a: Kernels, b: Kernels, se: Kernels): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.v.length; i++) {
    const x = a.v[i], y = b.v[i], s = se.v[i];
    for (let j = 0; j < x.length; j++) { num += (x[j] - y[j]) ** 2; den += s[j] * s[j]; }
    const xi = a.inst[i], yi = b.inst[i], si = se.inst[i];
    if (xi && yi && si) for (let j = 0; j < xi.length; j++) { num += (xi[j] - yi[j]) ** 2; den += si[j] * si[j]; }
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

function checkFinite(plan: Plan, k: Kernels) {
  k.v.forEach((v, i) => {
    for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j]) || Math.abs(v[j]) > 1e12) {
      const n = k.K + 1, t = plan.ops[i].kind === 'M' ? j : Math.floor(j / n);
      throw new DmftError({ message: `Monte Carlo: the order parameter ${plan.ops[i].name} diverges (at t = ${(t * k.h).toFixed(3)})`, hint: 'the system may be unstable at these parameters' });
    }
  });
}

function solveFixedPoint(plan: Plan, K: number, h: number, opts: Required<Pick<MonteCarloOptions, 'samples' | 'burnSamples' | 'responseSamples' | 'measure' | 'maxBurn' | 'blocks'>> & { seed: number; stream: number; outIdx: number[]; start?: Kernels; progress?: SolveOptions['progress']; label: string }): Run {
  // start: no fields, no memory, no mean field — causality makes the iteration a
  // Picard iteration of a Volterra problem, exact on [0, t] after finitely many steps
  let kern = opts.start ?? emptyKernels(plan, K, h);
  let it = 0, ratio = Infinity, converged = false;
  const base = { B: opts.blocks, seed: opts.seed, outIdx: opts.outIdx };
  for (; it < opts.maxBurn; it++) {
    const P = opts.burnSamples;
    const e = iterate(plan, kern, { ...base, P, PR: Math.min(P, Math.max(100, Math.floor(opts.responseSamples / 2))), stream: opts.stream + it * 0x10000 });
    checkFinite(plan, e.k);
    ratio = distance(e.k, kern, e.se);
    kern = e.k;
    opts.progress?.(`${opts.label}: burn-in`, Math.min(1, (it + 1) / opts.maxBurn));
    if (it >= 1 && ratio < 2) { converged = true; it++; break; }
  }
  // measurement: running means of kernels and observables
  const m = opts.measure;
  const runs: Estimate[] = [];
  let acc: Kernels | undefined;
  for (let j = 0; j < m; j++) {
    const P = opts.samples;
    const e = iterate(plan, kern, { ...base, P, PR: Math.min(P, opts.responseSamples), stream: opts.stream + (1000 + j) * 0x10000 });
    checkFinite(plan, e.k);
    runs.push(e);
    if (!acc) acc = e.k;
    else {
      const w = 1 / (j + 1);
      acc = { ...acc, v: acc.v.map((v, i) => v.map((x, q) => x + w * (e.k.v[i][q] - x))), inst: acc.inst.map((v, i) => (v ? v.map((x, q) => x + w * (e.k.inst[i]![q] - x)) : null)) };
    }
    kern = acc;
    opts.progress?.(`${opts.label}: measurement`, (j + 1) / m);
  }
  // observables: mean over measurement iterations; SE² = (batch-means SE)²/m + scatter across iterations /m
  const comb = (get: (e: Estimate) => Float64Array | undefined, getSE: (e: Estimate) => Float64Array | undefined) => {
    const first = get(runs[0]);
    if (!first) return { v: undefined, s: undefined };
    const v = new Float64Array(first.length), s = new Float64Array(first.length);
    for (let t = 0; t < first.length; t++) {
      let mu = 0, se2 = 0;
      for (const e of runs) { mu += get(e)![t] / m; se2 += getSE(e)![t] ** 2 / (m * m); }
      let sc = 0;
      for (const e of runs) sc += (get(e)![t] - mu) ** 2;
      const scatter = m > 1 ? sc / (m - 1) / m : 0;
      v[t] = mu;
      s[t] = Math.sqrt(se2 + scatter);
    }
    return { v, s };
  };
  const obs: Run['obs'] = [], obsSE: Run['obsSE'] = [], two: Run['two'] = [], twoSE: Run['twoSE'] = [];
  plan.reading.observables.forEach((_, oi) => {
    const a = comb((e) => e.obs[oi], (e) => e.obsSE[oi]);
    const b = comb((e) => e.two[oi], (e) => e.twoSE[oi]);
    obs.push(a.v); obsSE.push(a.s); two.push(b.v); twoSE.push(b.s);
  });
  return { kern: kern!, obs, obsSE, two, twoSE, burn: it, converged, ratio };
}

/** Subsample kernels from step h on K to step 2h on K/2 (warm start of the coarse solve). */
function coarsen(plan: Plan, k: Kernels): Kernels {
  const K2 = k.K / 2, n = k.K + 1, n2 = K2 + 1;
  const out = emptyKernels(plan, K2, 2 * k.h);
  plan.ops.forEach((o, i) => {
    if (o.kind === 'M') for (let a = 0; a < n2; a++) out.v[i][a] = k.v[i][2 * a];
    else for (let a = 0; a < n2; a++) for (let b = 0; b < n2; b++) out.v[i][a * n2 + b] = k.v[i][2 * a * n + 2 * b];
    if (out.inst[i]) for (let a = 0; a < n2; a++) out.inst[i]![a] = k.inst[i]![2 * a];
  });
  return out;
}

/** cubic Lagrange interpolation of grid values (step h) at time t */
function interp(v: Float64Array, h: number, t: number): number {
  const n = v.length;
  const x = t / h;
  let i0 = Math.floor(x) - 1;
  i0 = Math.max(0, Math.min(n - 4, i0));
  if (n < 4) { const i = Math.min(n - 1, Math.round(x)); return v[i]; }
  let s = 0;
  for (let a = 0; a < 4; a++) {
    let w = 1;
    for (let b = 0; b < 4; b++) if (b !== a) w *= (x - (i0 + b)) / (a - b);
    s += w * v[i0 + a];
  }
  return s;
}
function interpLinear(v: Float64Array, h: number, t: number): number {
  const x = t / h, i = Math.min(v.length - 2, Math.max(0, Math.floor(x)));
  const f = x - i;
  return v.length === 1 ? v[0] : (1 - f) * v[i] + f * v[i + 1];
}

/**
 * Monte Carlo (Eissfeller–Opper) solution of the DMFT transient on [0, T].
 * Works for any derived system (nonlinear, bounded, several populations,
 * memory terms, additive noise); reports every observable with its standard
 * error (batch means) combined with a discretization-error estimate (solve
 * again at 2·dt).
 */
export function solveMonteCarlo(reading: SystemReading, opts: MonteCarloOptions): SolveResult {
  const t0 = performance.now();
  stats.jitter = 0;
  const plan = new Plan(reading);
  if (!(opts.T > 0) || !(opts.dt > 0)) throw new DmftError({ message: `Monte Carlo: T and dt must be positive (got T = ${opts.T}, dt = ${opts.dt})` });
  let K = Math.max(2, Math.ceil(opts.T / opts.dt - 1e-9));
  const maxSteps = Math.max(4, opts.maxSteps ?? 160);
  const coarsened = K > maxSteps;
  if (coarsened) K = maxSteps;
  if (K % 2) K++;
  const h = opts.T / K;
  const samples = opts.samples ?? 4000;
  const settings = {
    samples,
    burnSamples: opts.burnSamples ?? Math.max(500, Math.floor(samples / 4)),
    responseSamples: opts.responseSamples ?? Math.min(samples, 800),
    measure: opts.measure ?? 4,
    maxBurn: opts.maxBurn ?? 60,
    blocks: opts.blocks ?? 16,
  };
  const seed = opts.seed ?? 1;
  // output times
  const times = opts.times ?? Array.from({ length: K + 1 }, (_, k) => k * h);
  for (const t of times) if (t < -1e-12 || t > opts.T + 1e-9) throw new DmftError({ message: `Monte Carlo: requested time ${t} is outside [0, T = ${opts.T}]` });
  const twoTimes = opts.times ?? Array.from({ length: Math.min(K, 20) + 1 }, (_, a) => (a * opts.T) / Math.min(K, 20));
  const outIdx = twoTimes.map((t) => Math.round(t / h));
  const outIdxCoarse = twoTimes.map((t) => Math.round(t / (2 * h)));

  const fine = solveFixedPoint(plan, K, h, { ...settings, seed, stream: 0x100000, outIdx, progress: opts.progress, label: 'Monte Carlo' });
  let coarse: Run | undefined;
  const refine = opts.refine ?? true;
  if (refine) {
    // same seed and streams: initial conditions and quenched inputs are common random
    // numbers, so the difference O_h − O_2h carries less sampling noise
    coarse = solveFixedPoint(plan, K / 2, 2 * h, { ...settings, maxBurn: Math.min(settings.maxBurn, 20), seed, stream: 0x100000, outIdx: outIdxCoarse, start: coarsen(plan, fine.kern), progress: opts.progress, label: 'Monte Carlo (2·dt)' });
  }

  const observables: Record<string, number[]> = table(), error: Record<string, number[]> = table();
  const twoTime: Record<string, TwoTime> = table();
  let maxSE = 0, maxDisc = 0;
  reading.observables.forEach((ob, oi) => {
    const name = ob.def.name;
    const v = fine.obs[oi];
    if (v) {
      const s = fine.obsSE[oi]!;
      const cv = coarse?.obs[oi];
      observables[name] = times.map((t) => interp(v, h, t));
      error[name] = times.map((t) => {
        const se = interpLinear(s, h, t);
        const disc = cv ? Math.abs(interp(v, h, t) - interp(cv, 2 * h, t)) / 3 : 0;
        maxSE = Math.max(maxSE, se); maxDisc = Math.max(maxDisc, disc);
        return Math.sqrt(se * se + disc * disc);
      });
    } else {
      const tv = fine.two[oi]!, ts = fine.twoSE[oi]!, ct = coarse?.two[oi];
      const m = outIdx.length;
      const values: number[][] = [], errs: number[][] = [];
      for (let a = 0; a < m; a++) {
        values.push([]); errs.push([]);
        for (let b = 0; b < m; b++) {
          const x = tv[a * m + b];
          const disc = ct ? Math.abs(x - ct[a * m + b]) / 3 : 0;
          values[a].push(x);
          errs[a].push(Math.sqrt(ts[a * m + b] ** 2 + disc * disc));
        }
      }
      twoTime[name] = { t: outIdx.map((k) => k * h), values, error: errs };
    }
  });
  const diagnostics: Record<string, number | string | boolean> = {
    method: 'montecarlo',
    dt: h, steps: K, samples: settings.samples, measureIterations: settings.measure,
    responseSamples: settings.responseSamples,
    burnInIterations: fine.burn, converged: fine.converged, residualToNoise: fine.ratio,
    mcStdErrMax: maxSE, choleskyJitter: stats.jitter,
    discretizationErrorMax: refine ? maxDisc : 'not estimated (refine: false)',
    seconds: (performance.now() - t0) / 1000,
  };
  if (coarse) diagnostics.coarseConverged = coarse.converged;
  if (!fine.converged) diagnostics.warning = `burn-in stopped after ${fine.burn} iterations with the kernels still changing by ${fine.ratio.toPrecision(3)}× their Monte Carlo noise; raise maxBurn or shorten T`;
  if (coarsened) diagnostics.dtNote = `dt = ${opts.dt} would need ${Math.ceil(opts.T / opts.dt)} steps; the Monte Carlo grid uses ${K} steps (dt = ${h.toPrecision(4)}), see discretizationErrorMax`;
  const out: SolveResult = {
    model: reading.sys.model, params: reading.params, method: 'montecarlo',
    t: times, observables, error, diagnostics,
  };
  if (Object.keys(twoTime).length) out.twoTime = twoTime;
  return out;
}
