// Monte Carlo solution of the DMFT equations (after Eissfeller–Opper 1992) for
// single-site processes that are not Gaussian — driven only by the derived
// DmftSystem. The method and its error model: docs/monte-carlo.md.
//
// On a time grid t_k = k h (k = 0…K) the order parameters are arrays: M(t_k),
// C(t_k, t_l) and R(t_k, t_l) (l ≤ k; plus a δ(t − s) coefficient for the
// instantaneous responses of algebraic populations). The equations are causal:
// the kernels at time t_k depend only on the paths up to t_k. So instead of
// iterating a guess of the whole kernels to a fixed point (a Picard iteration,
// whose error contracts only by the loop gain per iteration, and whose
// intermediate kernels can drive the responses unstable), a **sweep** marches P
// single-site paths forward in time and estimates each new kernel row from
// the paths themselves before using it:
//  1. predictor (Heun): every dynamic population's state and tangent advance
//     with the rates of step k − 1;
//  2. kernel rows at t_k from the predicted states: M(k), C(k, l ≤ k) (exact
//     Gram matrices of the paths, so the field covariances stay positive
//     semi-definite), R(k, l ≤ k) from the predicted tangents;
//  3. algebraic populations (Newton per path, their responses in closed form);
//  4. fields at t_k by extending their Cholesky factor by one row (the
//     conditional law of η(t_k) given its past), then the Heun corrector for
//     states and tangents.
// Kernels from predicted states differ from the corrected ones by O(h²), so
// the sweep is a consistent second-order scheme. Memory integrals use the
// trapezoid rule on the grid; bounds clip the state and a clipped (pinned)
// state has zero response; white noise is Itô, additive only. Responses are
// propagated along the first PR paths (the tangent costs ~K³/6 per path and
// memory term, the rest ~K²/2).
//
// Errors, each estimated and combined in quadrature (as a standard error):
//  - statistical: independent replicas (each a sweep of P paths with its own
//    kernels) — the scatter of their estimates includes the noise of the
//    kernels themselves;
//  - finite P: a sweep's kernel noise feeds back into its paths, a bias ∝ 1/P,
//    measured by replicas of P/4 (or P/2) paths;
//  - discretization: the replicas again at step 2h; err(h) ≈ |O_h − O_2h|/3;
//  - self-consistency: fresh paths driven by the averaged kernels, held fixed
//    (an Eissfeller–Opper iteration from the solution), must reproduce kernels
//    and observables within their statistical errors.
// Replicas are added until the standard error is below max(tol × scale,
// ½ discretization error), within a deterministic work budget. Failures end in
// a DmftError that says what diverged and the likely cause.
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { Dist } from '../model/ir.ts';
import { constantValue } from '../expr/eval.ts';
import { Rng } from '../numeric/rng.ts';
import { choleskyRow } from '../numeric/linalg.ts';
import {
  addRow, blockSE, blockSize, combineRows, emptyKernels, entries, heunCorrect, heunPredict, JITTER, memorySums, memorySumsOpen,
  moveEndpoint, observablesFromBlocks, scaleRows, tangentRates, tri, type KernelOp, type Kernels, type SweepPlan, type SweepResult, type SweepSettings,
} from './mc-kernels.ts';
import { VectorPlan } from './montecarlo-vector.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import { studentQuantile } from '../numeric/stats.ts';
import { scalarReading, VectorSiteError, type ScalarPopReading as PopReading, type ScalarReading, type SystemReading } from './read.ts';
import type { SolveOptions, SolveResult, TwoTime } from './types.ts';
import { table } from '../table.ts';

export interface MonteCarloOptions extends SolveOptions {
  /** paths per replica (default: what half the work budget gives the minimum replicas, 200…1000) */
  paths?: number;
  /** of which the first responsePaths carry tangents for the responses (default: all) */
  responsePaths?: number;
  /** at least this many replicas (default 8); `samples` of SolveOptions raises it to ⌈samples/paths⌉ */
  replicas?: number;
  /** at most this many replicas (default: as many as the work budget maxWork allows, at most 256) */
  maxReplicas?: number;
  /** work budget in multiply-adds for the replicas when maxReplicas is not given (default 3e9, ~10–20 s) */
  maxWork?: number;
  /** target standard error relative to each observable's scale (default 1e-2); `tol` of SolveOptions */
  tol?: number;
  /** estimate the discretization error by a second solve at 2·dt (default true) */
  refine?: boolean;
  /** the self-consistency check with frozen kernels (default true) */
  check?: boolean;
  /** estimate the finite-P bias with replicas of P/4 paths (default true) */
  biasCheck?: boolean;
  /** largest number of time steps on [0, T] (default 160): a finer dt is coarsened to T/maxSteps (reported) */
  maxSteps?: number;
  /** 'vector': sweep scalar sites with the vector sweep too (to test one against the other); default: the scalar sweep when every site is scalar */
  sweep?: 'auto' | 'vector';
}

// ---------------------------------------------------------------------------
// plan: what the derived system asks for, compiled

interface FieldPlan { pos: number; cov: Compiled; ops: number[] }
interface MemPlan { pos: number; op: number; g: Compiled; dg: Compiled }
interface PopPlan {
  r: PopReading;
  index: number;
  dynamic: boolean;
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
  /** populations whose kernels at the same time this one reads (fields, means, memory) */
  reads: Set<number>;
}

interface OpInfo extends KernelOp { pop: number; F: Compiled; dF: Compiled }

class Plan implements SweepPlan {
  readonly reading: ScalarReading;
  readonly params: Record<string, number>;
  readonly ops: OpInfo[];
  readonly pops: PopPlan[];
  /** algebraic populations in an order where each comes after those it reads */
  readonly algebraicOrder: number[];

  constructor(reading: ScalarReading) {
    this.reading = reading;
    this.params = reading.params;
    const sys = reading.sys;
    const opIndex = new Map(sys.orderParams.map((o, i) => [o.name, i]));
    const popIndex = new Map(reading.pops.map((p, i) => [p.pop.name, i]));
    this.ops = sys.orderParams.map((o) => {
      const rd = reading.orders.get(o.name)!;
      return { name: o.name, kind: o.kind, pop: popIndex.get(o.pop)!, F: rd.F, dF: rd.df[0], inst: !!o.instantaneous };
    });
    const opSlots = sys.orderParams.map((_, i) => `__op${i}`);
    const needR = new Set<number>();
    for (const p of reading.pops) for (const m of p.memory) {
      const i = opIndex.get(m.R);
      if (i === undefined || this.ops[i].kind !== 'R') throw new DmftError({ message: `Monte Carlo: the memory kernel ${m.R} is not a response function` });
      needR.add(i);
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
      const reads = new Set<number>();
      const fields = r.fields.map((name, k): FieldPlan => {
        const used: number[] = [];
        const cov = mapPost(r.pop.fields[k].cov, (x) => {
          if (x.k !== 'op') return x;
          const i = opIndex.get(x.name);
          if (i === undefined) throw new DmftError({ message: `Monte Carlo: the covariance of ${name} uses ${x.name}, which is not an order parameter` });
          if (!used.includes(i)) used.push(i);
          return sym(opSlots[i]);
        });
        for (const i of used) reads.add(this.ops[i].pop);
        return { pos: slot(name), cov: compile(cov, opSlots, this.params), ops: used };
      });
      const mems = r.memory.map((m): MemPlan => ({ pos: slot(m.slot), op: opIndex.get(m.R)!, g: m.gF, dg: m.dgdx }));
      for (const m of mems) reads.add(this.ops[m.op].pop);
      const means = r.means.map((m) => {
        const i = opIndex.get(m.M);
        if (i === undefined) throw new DmftError({ message: `Monte Carlo: the mean-field term ${m.M} is not an order parameter` });
        reads.add(this.ops[i].pop);
        return { pos: slot(m.slot), op: i };
      });
      const ops = this.ops.map((o, i) => (o.pop === index ? i : -1)).filter((i) => i >= 0);
      const resp = ops.filter((i) => this.ops[i].kind === 'R' && needR.has(i)).map((i) => {
        const f = r.fields.indexOf(sys.orderParams[i].slot ?? '');
        if (f < 0) throw new DmftError({ message: `Monte Carlo: the response ${this.ops[i].name} is to '${sys.orderParams[i].slot}', which is not a field of ${r.pop.variable}` });
        return { op: i, field: f };
      });
      const avgs: PopPlan['avgs'] = [];
      reading.observables.forEach((ob, oi) => ob.averages.forEach((a, ai) => { if (a.pop === r.pop.name) avgs.push({ obs: oi, a: ai, F: a.F }); }));
      return {
        r, index, dynamic: r.pop.kind === 'dynamic', fields,
        qPos: r.quenched.map((q) => slot(q.name)), qDists: r.quenched.map((q) => q.input.dist),
        noises, means, mems, tPos: slot('t'),
        dFx: r.dF[r.pop.variable], dFfield: r.fields.map((f) => r.dF[f]), dFmem: r.memory.map((m) => dF(m.slot)),
        ops, resp, avgs, lower: r.lower ?? -Infinity, upper: r.upper ?? Infinity, reads,
      };
    });
    // algebraic populations read each other at equal times: order them (a cycle has no causal order)
    const alg = this.pops.filter((p) => !p.dynamic).map((p) => p.index);
    const order: number[] = [];
    const pending = new Set(alg);
    while (pending.size) {
      const next = [...pending].find((i) => [...this.pops[i].reads].every((j) => j === i || !pending.has(j)));
      if (next === undefined) throw new DmftError({ message: `Monte Carlo: the algebraic populations ${[...pending].map((i) => this.pops[i].r.pop.variable).join(', ')} depend on each other at equal times`, hint: 'give one of them dynamics (a d/dt equation)' });
      order.push(next);
      pending.delete(next);
    }
    for (const i of alg) if (this.pops[i].reads.has(i) && this.pops[i].fields.some((f) => f.ops.some((o) => this.ops[o].pop === i)))
      throw new DmftError({ message: `Monte Carlo: the field of the algebraic population ${this.pops[i].r.pop.variable} depends on its own correlation at equal times`, hint: 'give it dynamics (a d/dt equation)' });
    this.algebraicOrder = order;
  }

  get observables() { return this.reading.observables; }

  sweep(st: SweepSettings): SweepResult { return sweep(this, st); }

  work() {
    return {
      hasResponses: this.pops.some((p) => p.resp.length > 0),
      kernelRows: this.pops.reduce((a, p) => a + p.fields.length + p.ops.filter((i) => this.ops[i].kind === 'C').length, 0),
      tangents: this.pops.reduce((a, p) => a + p.resp.length * Math.max(1, p.mems.length), 0),
    };
  }

  num(e: Parameters<typeof constantValue>[0], what: string): number {
    const v = constantValue(e, this.params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `Monte Carlo: ${what} (${print(e)}) is not a finite number` });
    return v;
  }

  sampler(d: Dist, what: string): (rng: Rng) => number {
    const def = distDef(d);
    if (!def.sampler) throw new DmftError({ message: `Monte Carlo: ${what} has a ${d.kind} distribution, which cannot be sampled as a site-local input` });
    const args = distArgs(d).map((e, k) => this.num(e, `the ${def.nouns[k]} of ${what}`));
    const bad = def.invalid?.(args);
    if (bad) throw new DmftError({ message: `Monte Carlo: ${what}: ${bad}` });
    return def.sampler(args);
  }
}

/** Tangent of a dynamic population for one response: Y(k, l) for impulses at l ≤ k along PR paths. */
interface DynTangent {
  ri: number;
  /** Y(k, l) at the current k (index l·PR + p) */
  Y: Float64Array;
  /** predicted Ỹ(k, l) */
  Yp: Float64Array;
  /** rate f(k, l) of the tangent at the corrected state, for the next predictor */
  fY: Float64Array;
  /** per memory term: g'(x_v) Y(v, l), triangular (v ≥ l); single precision (the memory sums
   *  stream all of it every step, so they are bandwidth-bound; 1e-7 is far below the sampling noise) */
  GY: Float32Array[];
  /** per memory term: scratch memory sums per impulse */
  mem: Float64Array[];
}

/** Tangent of an algebraic population: Y = Y_δ(l) δ(t − l) + Y_reg(t, l). */
interface AlgTangent {
  ri: number;
  YD: Float64Array;
  /** per memory term: g'(x_l) Y_δ(l) */
  GYD: Float64Array[];
  /** per memory term: g'(x_u) Y_reg(u, l), triangular, single precision */
  GY: Float32Array[];
  Yk: Float64Array;
}


class PopSim {
  readonly X: Float64Array;
  readonly pinned: Uint8Array;
  readonly xp: Float64Array;
  readonly pinP: Uint8Array;
  readonly f1: Float64Array;
  readonly dW: Float64Array;
  /** per own op: f of the predicted state per time and path (the Gram vectors of C, the means of M) */
  readonly FV: Map<number, Float64Array>;
  readonly Gm: Float64Array[];
  readonly XI: Float64Array[];
  readonly L: Float64Array[];
  readonly eta: Float64Array[];
  readonly memv: Float64Array[];
  readonly S: Float64Array[];
  readonly Q: Float64Array[];
  readonly buf: Float64Array;
  readonly gbuf: Float64Array;
  readonly covRow: Float64Array;
  readonly dyn: DynTangent[] = [];
  readonly alg: AlgTangent[] = [];
  readonly noiseRng: Rng[];
  readonly noiseSd: Float64Array;
  /** tangent coefficients at one time, per PR path */
  readonly cA: Float64Array;
  readonly cM: Float64Array[];
  readonly cG: Float64Array[];
  readonly cPin: Uint8Array;
  /** scratch per path */
  readonly memP: Float64Array[];
  readonly sFP: Float64Array;
  readonly sBE: Float64Array;
  readonly sSelf: Float64Array;
  readonly sRate: Float64Array;

  constructor(readonly plan: Plan, readonly pl: PopPlan, readonly st: SweepSettings) {
    const n = st.K + 1, P = st.P, PR = st.PR;
    const rngFor = (purpose: number) => new Rng(st.seed, st.stream + pl.index * 4096 + purpose);
    this.X = new Float64Array(n * P);
    this.pinned = new Uint8Array(n * P);
    this.xp = new Float64Array(P);
    this.pinP = new Uint8Array(P);
    this.f1 = new Float64Array(P);
    this.dW = new Float64Array(P);
    this.FV = new Map(pl.ops.filter((i) => plan.ops[i].kind !== 'R').map((i) => [i, new Float64Array(n * P)]));
    this.Gm = pl.mems.map(() => new Float64Array(n * P));
    this.XI = pl.fields.map((_, e) => { const g = rngFor(256 + e), a = new Float64Array(n * P); g.fillNormal(a, a.length, 0, 1); return a; });
    this.L = pl.fields.map(() => new Float64Array(n * n));
    this.eta = pl.fields.map(() => new Float64Array(P));
    this.memv = pl.mems.map(() => new Float64Array(P));
    this.S = pl.mems.map(() => new Float64Array(P));
    this.Q = pl.qDists.map((d, j) => { const g = rngFor(1 + j), draw = plan.sampler(d, pl.r.quenched[j].name), a = new Float64Array(P); for (let p = 0; p < P; p++) a[p] = draw(g); return a; });
    this.buf = new Float64Array(pl.r.slots.length);
    this.gbuf = new Float64Array(1 + pl.qPos.length);
    this.covRow = new Float64Array(n);
    this.noiseRng = pl.noises.map((_, j) => rngFor(512 + j));
    this.noiseSd = Float64Array.from(pl.noises.map((nz) => Math.sqrt(Math.max(0, nz.D) * st.h)));
    const nm = pl.mems.length;
    this.cA = new Float64Array(PR);
    this.cM = pl.mems.map(() => new Float64Array(PR));
    this.cG = pl.mems.map(() => new Float64Array(PR));
    this.cPin = new Uint8Array(PR);
    this.memP = pl.mems.map(() => new Float64Array(P));
    this.sFP = new Float64Array(PR);
    this.sBE = new Float64Array(PR);
    this.sSelf = new Float64Array(PR);
    this.sRate = new Float64Array((st.K + 1) * PR);
    if (PR > 0) for (const [ri] of pl.resp.entries()) {
      if (pl.dynamic) this.dyn.push({ ri, Y: new Float64Array(n * PR), Yp: new Float64Array(n * PR), fY: new Float64Array(n * PR), GY: Array.from({ length: nm }, () => new Float32Array(tri(n) * PR)), mem: Array.from({ length: nm }, () => new Float64Array(n * PR)) });
      else this.alg.push({ ri, YD: new Float64Array(n * PR), GYD: Array.from({ length: nm }, () => new Float64Array(n * PR)), GY: Array.from({ length: nm }, () => new Float32Array(tri(n) * PR)), Yk: new Float64Array(n * PR) });
    }
  }

  clip(x: number): number { return x < this.pl.lower ? this.pl.lower : x > this.pl.upper ? this.pl.upper : x; }

  /** slot vector for path p at grid time k, state x, current fields, means of `use`, memory values mem */
  fill(use: Kernels, k: number, p: number, x: number, mem: Float64Array[] | null): void {
    const { buf, pl } = this;
    buf[0] = x;
    this.gbuf[0] = x;
    for (let e = 0; e < pl.fields.length; e++) buf[pl.fields[e].pos] = this.eta[e][p];
    for (let j = 0; j < pl.qPos.length; j++) { const q = this.Q[j][p]; buf[pl.qPos[j]] = q; this.gbuf[1 + j] = q; }
    for (let j = 0; j < pl.means.length; j++) buf[pl.means[j].pos] = use.v[pl.means[j].op][k];
    for (let j = 0; j < pl.noises.length; j++) buf[pl.noises[j].pos] = 0;
    for (let j = 0; j < pl.mems.length; j++) buf[pl.mems[j].pos] = mem ? mem[j][p] : 0;
    if (pl.tPos >= 0) buf[pl.tPos] = k * this.st.h;
  }

  /** memory values at (k, p) for endpoint state x: δ part + partial sum + trapezoid endpoint */
  memAt(use: Kernels, k: number, p: number, x: number, out: Float64Array[]): void {
    const n = this.st.K + 1, h = this.st.h;
    this.gbuf[0] = x;
    for (let j = 0; j < this.Q.length; j++) this.gbuf[1 + j] = this.Q[j][p];
    for (let j = 0; j < this.pl.mems.length; j++) {
      const m = this.pl.mems[j], gx = m.g(this.gbuf), ri = use.inst[m.op];
      out[j][p] = (ri ? ri[k] * gx : 0) + this.S[j][p] + (k > 0 ? 0.5 * h * use.v[m.op][k * n + k] * gx : 0);
    }
  }

  /** S[j] ← h Σ_{l<k} w_l R_j(k,l) g_j(x_l), w_0 = ½ */
  partial(use: Kernels, k: number): void {
    const { P } = this.st, n = this.st.K + 1, h = this.st.h;
    for (let j = 0; j < this.S.length; j++) {
      const R = use.v[this.pl.mems[j].op];
      combineRows(this.S[j], R, k * n, this.Gm[j], k, P, h);
      // trapezoid: the first point has weight ½
      if (k > 0) addRow(this.S[j], -0.5 * h * R[k * n], this.Gm[j], 0, P);
    }
  }

  /** η(t_k) for every field: one more row of each Cholesky factor, from the covariance at row k of `use` */
  sampleFields(use: Kernels, k: number, opSlots: Float64Array): number {
    const n = this.st.K + 1, P = this.st.P;
    let indefinite = 0;
    this.pl.fields.forEach((f, e) => {
      const row = this.covRow;
      for (let l = 0; l <= k; l++) {
        for (const i of f.ops) opSlots[i] = this.plan.ops[i].kind === 'M' ? use.v[i][k] : use.v[i][k * n + l];
        row[l] = f.cov(opSlots);
      }
      indefinite = Math.max(indefinite, choleskyRow(this.L[e], n, k, row, JITTER));
      combineRows(this.eta[e], this.L[e], k * n, this.XI[e], k + 1, P);
    });
    return indefinite;
  }
}

/** one sweep (a replica, or with frozen kernels a self-consistency check) */
function sweep(plan: Plan, st: SweepSettings): SweepResult {
  const { K, h, P, PR, blocks: B } = st;
  const n = K + 1;
  const est = emptyKernels(plan, K, h);
  const use = st.frozen ?? est;
  const frozen = !!st.frozen;
  const estSE = frozen ? emptyKernels(plan, K, h) : undefined;
  const sims = plan.pops.map((pl) => new PopSim(plan, pl, st));
  const opSlots = new Float64Array(plan.ops.length);
  let stiffness = 0, indefinite = 0;
  const blockOf = (p: number, m: number) => Math.min(B - 1, Math.floor((p * B) / m));
  const blk = new Float64Array(B);
  /** mean over the first m paths of a[aOff + p]·b[bOff + p] → out[at] (and its batch-means error into se[at]) */
  const dotMean = (a: Float64Array, aOff: number, b: Float64Array, bOff: number, m: number, out: Float64Array, at: number, se?: Float64Array) => {
    let s = 0;
    if (!se) {
      for (let p = 0; p < m; p++) s += a[aOff + p] * b[bOff + p];
      out[at] = s / m;
      return;
    }
    blk.fill(0);
    for (let p = 0; p < m; p++) { const v = a[aOff + p] * b[bOff + p]; s += v; blk[blockOf(p, m)] += v; }
    out[at] = s / m;
    se[at] = blockSE(blk, m, B, s / m);
  };
  const ones = new Float64Array(Math.max(P, PR)).fill(1);

  const fail = (pl: PopPlan, what: string, k: number) => {
    const stiff = stiffness > 1.5 ? ` h·max|∂F/∂x| reached ${stiffness.toPrecision(3)} (Heun is stable below 2):` : '';
    return new DmftError({
      message: `Monte Carlo: ${what} of ${pl.r.pop.variable} diverges at t = ${(k * h).toFixed(3)}`,
      hint: stiff ? `the time step is too large for the fastest relaxation along the paths —${stiff} lower --dt (or shorten --T: the grid has at most maxSteps steps)` : 'the single-site process is unstable at these parameters (a linear instability or a finite-time blow-up)',
    });
  };

  // ---- rows at time k from the states each population has at that stage
  const rowsMC = (sim: PopSim, k: number, x: Float64Array) => {
    const pl = sim.pl;
    for (const i of pl.ops) {
      const o = plan.ops[i];
      if (o.kind === 'R') continue;
      const fv = sim.FV.get(i)!, off = k * P, gb = sim.gbuf;
      for (let p = 0; p < P; p++) {
        gb[0] = x[p];
        for (let j = 0; j < sim.Q.length; j++) gb[1 + j] = sim.Q[j][p];
        fv[off + p] = o.F(gb);
      }
      if (o.kind === 'M') dotMean(fv, off, ones, 0, P, est.v[i], k, estSE?.v[i]);
      else {
        const C = est.v[i], se = estSE?.v[i];
        for (let l = 0; l <= k; l++) {
          dotMean(fv, off, fv, l * P, P, C, k * n + l, se);
          C[l * n + k] = C[k * n + l];
          if (se) se[l * n + k] = se[k * n + l];
        }
      }
    }
  };

  /** tangent coefficients along the first PR paths at state x (row k): A, ∂F/∂mem, g', pinned */
  const coefs = (sim: PopSim, k: number, x: Float64Array, pin: Uint8Array, mems: Float64Array[]) => {
    const pl = sim.pl, nm = pl.mems.length;
    for (let p = 0; p < PR; p++) {
      sim.fill(use, k, p, x[p], mems);
      const pinned = pin[p] === 1;
      sim.cPin[p] = pinned ? 1 : 0;
      let a = pl.dFx(sim.buf);
      for (let j = 0; j < nm; j++) {
        const c = pl.dFmem[j](sim.buf), gp = pl.mems[j].dg(sim.gbuf);
        sim.cM[j][p] = pinned ? 0 : c;
        sim.cG[j][p] = gp;
        const ri = use.inst[pl.mems[j].op];
        if (ri) a += c * ri[k] * gp;
      }
      stiffness = Math.max(stiffness, h * Math.abs(a));
      sim.cA[p] = pinned ? 0 : a;
    }
  };

  for (let k = 0; k <= K; k++) {
    // kernels not yet estimated at row k start from row k − 1 (read only by equal-time
    // terms of unusual models, e.g. a field entering nonlinearly into ∂F/∂η)
    if (!frozen && k > 0) plan.ops.forEach((o, i) => {
      const v = est.v[i];
      if (o.kind === 'M') v[k] = v[k - 1];
      else { for (let l = 0; l < k; l++) v[k * n + l] = v[(k - 1) * n + l]; v[k * n + k] = v[(k - 1) * n + k - 1]; }
      const ri = est.inst[i];
      if (ri) ri[k] = ri[k - 1];
    });

    // ---- 1. dynamic populations: predictor (or initial condition), rows from the predicted state
    for (const sim of sims) {
      const pl = sim.pl;
      if (!pl.dynamic) continue;
      const { X, pinned, xp, pinP } = sim;
      if (k === 0) {
        const init = pl.r.pop.init;
        const g0 = new Rng(st.seed, st.stream + pl.index * 4096);
        let draw: () => number = () => 0;
        if (init?.kind === 'value') { const v = plan.num(init.value, `the initial value of ${pl.r.pop.variable}`); draw = () => v; }
        else if (init?.kind === 'dist') { const d = plan.sampler(init.dist, `the initial condition of ${pl.r.pop.variable}`); draw = () => d(g0); }
        for (let p = 0; p < P; p++) { const raw = draw(), x = sim.clip(raw); X[p] = x; xp[p] = x; pinned[p] = pinP[p] = x !== raw ? 1 : 0; }
      } else {
        const nz = pl.noises, off = (k - 1) * P;
        for (let p = 0; p < P; p++) {
          let w = 0;
          if (nz.length) {
            sim.fill(use, k - 1, p, X[off + p], sim.memv);
            for (let j = 0; j < nz.length; j++) w += nz[j].coef(sim.buf) * sim.noiseSd[j] * sim.noiseRng[j].normal();
          }
          sim.dW[p] = w;
          const raw = X[off + p] + h * sim.f1[p] + w, x = sim.clip(raw);
          xp[p] = x;
          pinP[p] = x !== raw ? 1 : 0;
        }
        for (const t of sim.dyn) heunPredict(t.Yp, t.Y, t.fY, pinP, k, PR, h);
      }
      rowsMC(sim, k, xp);
      // responses: R(k, l < k) from the predicted tangents; R(k, k) = ⟨f'(x) ∂F/∂η⟩ at the predicted state
      for (const t of sim.dyn) {
        const ri = pl.resp[t.ri], o = plan.ops[ri.op], R = est.v[ri.op];
        const fp = sim.sFP, be = sim.sBE;
        for (let p = 0; p < PR; p++) {
          sim.fill(use, k, p, xp[p], sim.memv);
          fp[p] = o.dF(sim.gbuf);
          be[p] = pinP[p] ? 0 : pl.dFfield[ri.field](sim.buf);
        }
        for (let l = 0; l < k; l++) dotMean(fp, 0, t.Yp, l * PR, PR, R, k * n + l, estSE?.v[ri.op]);
        dotMean(fp, 0, be, 0, PR, R, k * n + k, estSE?.v[ri.op]);
      }
    }

    // ---- 2. algebraic populations, each after the ones it reads
    for (const ai of plan.algebraicOrder) {
      const sim = sims[ai], pl = sim.pl, { X, pinned } = sim;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k, opSlots));
      sim.partial(use, k);
      const nm = pl.mems.length;
      const ce = new Float64Array(nm);
      for (let j = 0; j < nm; j++) { const m = pl.mems[j]; ce[j] = (use.inst[m.op] ? use.inst[m.op]![k] : 0) + (k > 0 ? 0.5 * h * use.v[m.op][k * n + k] : 0); }
      const off = k * P;
      for (let p = 0; p < P; p++) {
        let x = k > 0 ? X[off - P + p] : 0;
        sim.fill(use, k, p, x, null);
        let conv = false;
        for (let it = 0; it < 60; it++) {
          sim.buf[0] = x; sim.gbuf[0] = x;
          for (let j = 0; j < nm; j++) sim.buf[pl.mems[j].pos] = sim.S[j][p] + ce[j] * pl.mems[j].g(sim.gbuf);
          const G = pl.r.F(sim.buf) - x;
          let dG = pl.dFx(sim.buf) - 1;
          for (let j = 0; j < nm; j++) if (ce[j] !== 0) dG += pl.dFmem[j](sim.buf) * ce[j] * pl.mems[j].dg(sim.gbuf);
          const dx = -G / dG;
          if (!Number.isFinite(dx)) break;
          x += dx;
          if (Math.abs(dx) <= 1e-13 * (1 + Math.abs(x))) { conv = true; break; }
        }
        if (!conv) throw new DmftError({ message: `Monte Carlo: the algebraic equation of ${pl.r.pop.variable} has no solution near t = ${(k * h).toFixed(3)} (Newton failed)` });
        const xc = sim.clip(x);
        X[off + p] = xc;
        pinned[off + p] = xc !== x ? 1 : 0;
        sim.gbuf[0] = xc;
        for (let j = 0; j < nm; j++) { sim.Gm[j][off + p] = pl.mems[j].g(sim.gbuf); sim.memv[j][p] = sim.S[j][p] + ce[j] * sim.Gm[j][off + p]; }
      }
      const xk = X.subarray(off, off + P);
      rowsMC(sim, k, xk);
      if (sim.alg.length) algebraicTangent(sim, k, xk, pinned.subarray(off, off + P));
    }

    // ---- 3. dynamic populations: fields at t_k, corrector for states and tangents
    for (const sim of sims) {
      const pl = sim.pl;
      if (!pl.dynamic) continue;
      const { X, pinned, xp, pinP } = sim;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k, opSlots));
      sim.partial(use, k);
      const off = k * P;
      const memP = sim.memP;
      for (let p = 0; p < P; p++) sim.memAt(use, k, p, xp[p], memP);
      if (k > 0) {
        for (let p = 0; p < P; p++) {
          sim.fill(use, k, p, xp[p], memP);
          const raw = X[off - P + p] + 0.5 * h * (sim.f1[p] + pl.r.F(sim.buf)) + sim.dW[p], x = sim.clip(raw);
          X[off + p] = x;
          pinned[off + p] = x !== raw ? 1 : 0;
        }
      }
      const xk = X.subarray(off, off + P), pk = pinned.subarray(off, off + P);
      for (let p = 0; p < P; p++) {
        sim.memAt(use, k, p, xk[p], sim.memv);
        sim.gbuf[0] = xk[p];
        for (let j = 0; j < sim.Q.length; j++) sim.gbuf[1 + j] = sim.Q[j][p];
        for (let j = 0; j < pl.mems.length; j++) sim.Gm[j][off + p] = pl.mems[j].g(sim.gbuf);
        sim.fill(use, k, p, xk[p], sim.memv);
        sim.f1[p] = pl.r.F(sim.buf);
        // the stiffness h·|∂F/∂x| on a few free paths (Heun is stable below 2)
        if (p < 32 && !pk[p]) stiffness = Math.max(stiffness, h * Math.abs(pl.dFx(sim.buf)));
        if (!Number.isFinite(sim.f1[p]) || !Number.isFinite(xk[p]) || Math.abs(xk[p]) > 1e12) throw fail(pl, 'the state', k);
      }
      if (!sim.dyn.length) continue;
      // tangent corrector with the coefficients at the predicted state
      const nm = pl.mems.length;
      if (k > 0) {
        coefs(sim, k, xp, pinP, memP);
        for (const t of sim.dyn) {
          for (let j = 0; j < nm; j++) {
            scaleRows(t.GY[j], tri(k) * PR, sim.cG[j], t.Yp, k, PR);
            memorySums(t.mem[j], t.GY[j], use.v[pl.mems[j].op], k, n, h, PR);
          }
          tangentRates(sim.sRate, t.Yp, sim.cA, sim.cM, t.mem, k, PR);
          heunCorrect(t.Y, t.fY, sim.sRate, pk, k, PR, h);
        }
      }
      // rates at the corrected state: new impulse Y(k, k) = ∂F/∂η, the endpoint of the memory sums moved to Y(k, l)
      coefs(sim, k, xk, pk, sim.memv);
      for (const t of sim.dyn) {
        const ri = pl.resp[t.ri], ko = k * PR;
        for (let p = 0; p < PR; p++) { sim.fill(use, k, p, xk[p], sim.memv); t.Y[ko + p] = pk[p] ? 0 : pl.dFfield[ri.field](sim.buf); }
        // the corrector's memory sums had the predicted endpoint: move it to the corrected one
        for (let j = 0; j < nm; j++) moveEndpoint(t.mem[j], t.GY[j], sim.cG[j], t.Y, 0.5 * h * use.v[pl.mems[j].op][k * n + k], k, PR);
        tangentRates(t.fY, t.Y, sim.cA, sim.cM, t.mem, k + 1, PR);
      }
    }

    // ---- responses that grow without bound: a linear instability, or a step too large
    for (const sim of sims) for (const r of sim.pl.resp) {
      const R = est.v[r.op];
      for (let l = 0; l <= k; l++) if (!(Math.abs(R[k * n + l]) < 1e8)) throw fail(sim.pl, `the response ${plan.ops[r.op].name}`, k);
    }
  }

  // ---- observables from the corrected paths
  const obs: Float64Array[] = [], obsSE: Float64Array[] = [];
  const oneTime = plan.reading.observables.map((ob) => ob.def.times.length <= 1);
  const nOut = st.outIdx.length;
  const avgBlocks = plan.reading.observables.map((ob, oi) => ob.averages.map(() => new Float64Array(B * (oneTime[oi] ? n : nOut * nOut))));
  for (const sim of sims) {
    const bbuf = new Float64Array(2 + sim.Q.length);
    for (const a of sim.pl.avgs) {
      const acc = avgBlocks[a.obs][a.a];
      if (oneTime[a.obs]) {
        for (let k = 0; k < n; k++) for (let p = 0; p < P; p++) {
          const x = sim.X[k * P + p];
          bbuf[0] = x; bbuf[1] = x;
          for (let j = 0; j < sim.Q.length; j++) bbuf[2 + j] = sim.Q[j][p];
          acc[blockOf(p, P) * n + k] += a.F(bbuf);
        }
      } else {
        for (let ia = 0; ia < nOut; ia++) for (let ib = 0; ib < nOut; ib++) for (let p = 0; p < P; p++) {
          bbuf[0] = sim.X[st.outIdx[ia] * P + p]; bbuf[1] = sim.X[st.outIdx[ib] * P + p];
          for (let j = 0; j < sim.Q.length; j++) bbuf[2 + j] = sim.Q[j][p];
          acc[blockOf(p, P) * nOut * nOut + ia * nOut + ib] += a.F(bbuf);
        }
      }
    }
  }
  observablesFromBlocks(plan.reading.observables, avgBlocks, oneTime, n, nOut, P, B, obs, obsSE);
  return { est, obs, obsSE, estSE, stiffness, indefinite };

  /** the response of an algebraic population at row k: δ part and regular part for impulses at l ≤ k */
  function algebraicTangent(sim: PopSim, k: number, x: Float64Array, pin: Uint8Array) {
    const pl = sim.pl, nm = pl.mems.length;
    coefs(sim, k, x, pin, sim.memv);
    for (const t of sim.alg) {
      const ri = pl.resp[t.ri], o = plan.ops[ri.op], R = est.v[ri.op], inst = est.inst[ri.op];
      if (!inst) throw new DmftError({ message: `Monte Carlo: the response ${o.name} of the algebraic population ${pl.r.pop.variable} is not marked instantaneous in the derived system` });
      const fp = sim.sFP, d0 = sim.sBE, ko = k * PR;
      for (let p = 0; p < PR; p++) {
        sim.fill(use, k, p, x[p], sim.memv);
        fp[p] = o.dF(sim.gbuf);
        d0[p] = sim.cPin[p] ? 1 : 1 - sim.cA[p];
        t.YD[ko + p] = sim.cPin[p] ? 0 : pl.dFfield[ri.field](sim.buf) / d0[p];
        for (let j = 0; j < nm; j++) t.GYD[j][ko + p] = sim.cG[j][p] * t.YD[ko + p];
      }
      dotMean(fp, 0, t.YD, ko, PR, inst, k, estSE?.inst[ri.op] ?? undefined);
      // d0 Y_reg(k,l) = Σ_j ∂F/∂mem_j [R_j(k,l) g'_j Y_δ(l) + ∫_l^k R_j(k,u) g'_j Y_reg(u,l) du]
      const Yk = t.Yk;
      Yk.fill(0, 0, (k + 1) * PR);
      const self = sim.sSelf.fill(0);
      for (let j = 0; j < nm; j++) {
        const Rj = use.v[pl.mems[j].op], cm = sim.cM[j], part = sim.sRate;
        memorySumsOpen(part, t.GY[j], Rj, k, n, h, PR);
        for (let l = 0; l <= k; l++) {
          const rkl = Rj[k * n + l], dst = l * PR, gyd = t.GYD[j];
          for (let p = 0; p < PR; p++) Yk[dst + p] += cm[p] * (rkl * gyd[dst + p] + part[dst + p]);
        }
        const e = k > 0 ? 0.5 * h * Rj[k * n + k] : 0;
        for (let p = 0; p < PR; p++) self[p] += cm[p] * e * sim.cG[j][p];
      }
      for (let l = 0; l <= k; l++) {
        const dst = l * PR;
        for (let p = 0; p < PR; p++) Yk[dst + p] = sim.cPin[p] ? 0 : Yk[dst + p] / (d0[p] - (l < k ? self[p] : 0));
        dotMean(fp, 0, Yk, dst, PR, R, k * n + l, estSE?.v[ri.op]);
        for (let j = 0; j < nm; j++) { const G = t.GY[j], g = sim.cG[j], o2 = (tri(k) + l) * PR; for (let p = 0; p < PR; p++) G[o2 + p] = g[p] * Yk[dst + p]; }
      }
    }
  }
}


// ---------------------------------------------------------------------------
// replicas: independent sweeps, added until the statistical error is small enough

interface ReplicaSet {
  count: number;
  /** per observable, per replica: values on the grid (two-time: output pairs) */
  values: Float64Array[][];
  /** sums over replicas of the estimated kernels and of their squares */
  sum: Kernels;
  sum2: Kernels;
  stiffness: number;
  indefinite: number;
}

interface ReplicaPlan {
  K: number; h: number; P: number; PR: number; seed: number; outIdx: number[]; blocks: number;
}

const replicaStream = (r: number) => 0x100000 + r * 0x40000;

function addReplica(plan: SweepPlan, set: ReplicaSet, rp: ReplicaPlan): void {
  const r = plan.sweep({ ...rp, stream: replicaStream(set.count) });
  r.obs.forEach((v, oi) => set.values[oi].push(v));
  const acc = (s: Kernels, s2: Kernels, e: Kernels) => {
    e.v.forEach((v, i) => { const a = s.v[i], b = s2.v[i]; for (let j = 0; j < v.length; j++) { a[j] += v[j]; b[j] += v[j] * v[j]; } });
    e.inst.forEach((v, i) => { if (!v) return; const a = s.inst[i]!, b = s2.inst[i]!; for (let j = 0; j < v.length; j++) { a[j] += v[j]; b[j] += v[j] * v[j]; } });
  };
  acc(set.sum, set.sum2, r.est);
  set.count++;
  set.stiffness = Math.max(set.stiffness, r.stiffness);
  set.indefinite = Math.max(set.indefinite, r.indefinite);
}

/** mean over replicas and its standard error, per observable */
function summarize(set: ReplicaSet): { mean: Float64Array[]; se: Float64Array[] } {
  const R = set.count;
  const mean: Float64Array[] = [], se: Float64Array[] = [];
  for (const reps of set.values) {
    const m = reps[0].length, mu = new Float64Array(m), s = new Float64Array(m);
    for (let t = 0; t < m; t++) {
      let a = 0;
      for (const v of reps) a += v[t];
      a /= R;
      let q = 0;
      for (const v of reps) q += (v[t] - a) ** 2;
      mu[t] = a;
      s[t] = R > 1 ? Math.sqrt(q / (R - 1) / R) : Infinity;
    }
    mean.push(mu); se.push(s);
  }
  return { mean, se };
}

/** largest standard error relative to each observable's scale (its largest |value|) */
function relativeError(s: { mean: Float64Array[]; se: Float64Array[] }): number {
  let worst = 0;
  s.mean.forEach((mu, oi) => {
    let scale = 0;
    for (const x of mu) scale = Math.max(scale, Math.abs(x));
    if (!(scale > 0)) return;
    for (const e of s.se[oi]) worst = Math.max(worst, e / scale);
  });
  return worst;
}

function meanKernels(plan: SweepPlan, set: ReplicaSet): { k: Kernels; se: Kernels } {
  const R = set.count;
  const k = emptyKernels(plan, set.sum.K, set.sum.h), se = emptyKernels(plan, set.sum.K, set.sum.h);
  const fill = (s: Float64Array, s2: Float64Array, out: Float64Array, outSE: Float64Array) => {
    for (let j = 0; j < s.length; j++) {
      const m = s[j] / R;
      out[j] = m;
      outSE[j] = R > 1 ? Math.sqrt(Math.max(0, s2[j] / R - m * m) / (R - 1)) : 0;
    }
  };
  plan.ops.forEach((_, i) => {
    fill(set.sum.v[i], set.sum2.v[i], k.v[i], se.v[i]);
    if (k.inst[i]) fill(set.sum.inst[i]!, set.sum2.inst[i]!, k.inst[i]!, se.inst[i]!);
  });
  return { k, se };
}

// ---------------------------------------------------------------------------
// interpolation of grid values

/** cubic Lagrange interpolation of grid values (step h) at time t */
function interp(v: Float64Array, h: number, t: number): number {
  const n = v.length;
  const x = t / h;
  if (n < 4) { const i = Math.min(n - 1, Math.round(x)); return v[i]; }
  const i0 = Math.max(0, Math.min(n - 4, Math.floor(x) - 1));
  let s = 0;
  for (let a = 0; a < 4; a++) {
    let w = 1;
    for (let b = 0; b < 4; b++) if (b !== a) w *= (x - (i0 + b)) / (a - b);
    s += w * v[i0 + a];
  }
  return s;
}
function interpLinear(v: Float64Array, h: number, t: number): number {
  if (v.length === 1) return v[0];
  const x = t / h, i = Math.min(v.length - 2, Math.max(0, Math.floor(x)));
  const f = x - i;
  return (1 - f) * v[i] + f * v[i + 1];
}

// ---------------------------------------------------------------------------
// the solve

/** The scalar sweep reads sites of one variable (its numbers are the reference); vector sites go to the vector sweep. */
function monteCarloPlan(reading: SystemReading, which: MonteCarloOptions['sweep']): SweepPlan {
  if (which === 'vector') return new VectorPlan(reading);
  let scalar: ScalarReading;
  try {
    scalar = scalarReading(reading, 'the Monte Carlo solver');
  } catch (e) {
    if (e instanceof VectorSiteError) return new VectorPlan(reading);
    throw e;
  }
  return new Plan(scalar);
}

/**
 * Monte Carlo solution of the DMFT transient on [0, T]. Works for any derived
 * system (nonlinear, bounded, several populations, memory terms, additive
 * noise); reports every observable with an error that combines the
 * replicas' standard error, the self-consistency residual and the
 * discretization error (solve again at 2·dt).
 */
export function solveMonteCarlo(reading: SystemReading, opts: MonteCarloOptions): SolveResult {
  const t0 = performance.now();
  const plan = monteCarloPlan(reading, opts.sweep);
  if (!(opts.T > 0) || !(opts.dt > 0)) throw new DmftError({ message: `Monte Carlo: T and dt must be positive (got T = ${opts.T}, dt = ${opts.dt})` });
  let K = Math.max(2, Math.ceil(opts.T / opts.dt - 1e-9));
  const maxSteps = Math.max(4, opts.maxSteps ?? 160);
  const coarsened = K > maxSteps;
  if (coarsened) K = maxSteps;
  if (K % 2) K++;
  const h = opts.T / K;
  // Work of one path (multiply-adds): fields and correlation rows ~K²/2 each, the tangent ~K³/6 per
  // response and memory term. Tangents go on every path by default: the responses' sampling noise
  // feeds back through the memory terms, and at equal work fewer, fully tangent-carrying paths
  // give the same variance with a smaller finite-P bias. The replicas stop at a work budget
  // (~10–20 s of one core), deterministic so that a seed reproduces the result.
  const { hasResponses, kernelRows: nKernelRows, tangents: nTangents } = plan.work();
  const perPath = (K * K) / 2 * Math.max(1, nKernelRows), perTangent = (K ** 3) / 6 * nTangents;
  const budget = opts.maxWork ?? 3e9;
  const minR = Math.max(4, opts.replicas ?? 16, Math.ceil((opts.samples ?? 0) / (opts.paths ?? 1e9)));
  const P = Math.max(64, Math.round(opts.paths ?? Math.min(1000, Math.max(200, budget / 2 / minR / (perPath + perTangent)))));
  const PR = hasResponses ? Math.min(P, Math.max(16, Math.round(opts.responsePaths ?? P))) : 0;
  const work = P * perPath + PR * perTangent;
  const maxR = Math.max(minR, opts.maxReplicas ?? Math.min(256, Math.floor(budget / work)));
  const tol = opts.tol ?? 1e-2;
  const seed = opts.seed ?? 1;
  const blocks = 16;
  const warnings: string[] = [];
  const finerStep = coarsened ? `the grid has at most ${maxSteps} steps: a shorter --T gives a finer step` : 'lower --dt';

  // output times
  const times = opts.times ?? Array.from({ length: K + 1 }, (_, k) => k * h);
  for (const t of times) if (t < -1e-12 || t > opts.T + 1e-9) throw new DmftError({ message: `Monte Carlo: requested time ${t} is outside [0, T = ${opts.T}]` });
  const twoTimes = opts.times ?? Array.from({ length: Math.min(K, 20) + 1 }, (_, a) => (a * opts.T) / Math.min(K, 20));
  const outIdx = twoTimes.map((t) => Math.round(t / h));
  // on the 2h grid, an odd fine index is the average of its two neighbours
  const coarseLo = outIdx.map((k) => Math.floor(k / 2)), coarseHi = outIdx.map((k) => Math.ceil(k / 2));
  const outIdxCoarse = [...coarseLo, ...coarseHi];

  const newSet = (Kc: number, hc: number): ReplicaSet => ({ count: 0, values: reading.observables.map(() => []), sum: emptyKernels(plan, Kc, hc), sum2: emptyKernels(plan, Kc, hc), stiffness: 0, indefinite: 0 });

  // ---- fine solve and the same replicas at step 2h (common initial conditions and inputs),
  // replicas added until the standard error is below max(tol × scale, ½ discretization error):
  // more paths cannot make the answer better than the time step allows
  const refine = opts.refine ?? true;
  const fineRP: ReplicaPlan = { K, h, P, PR, seed, outIdx, blocks };
  const coarseRP: ReplicaPlan = { K: K / 2, h: 2 * h, P, PR, seed, outIdx: outIdxCoarse, blocks };
  const fine = newSet(K, h), cset = newSet(K / 2, 2 * h);
  let coarseFailed: string | undefined;
  const oneTimeObs = reading.observables.map((ob) => ob.def.times.length <= 1);
  let target = minR, statNeed = 0;
  for (;;) {
    while (fine.count < target) {
      addReplica(plan, fine, fineRP);
      opts.progress?.('Monte Carlo', fine.count / maxR);
    }
    if (refine && !coarseFailed) {
      try {
        while (cset.count < fine.count) addReplica(plan, cset, coarseRP);
      } catch (e) {
        if (!(e instanceof DmftError)) throw e;
        coarseFailed = `the solve at 2·dt = ${(2 * h).toPrecision(3)} failed (${e.info.message.replace(/^Monte Carlo: /, '')}): the step is near the stability limit; ${finerStep}`;
      }
    }
    const fsum = summarize(fine), csum = refine && !coarseFailed ? summarize(cset) : undefined;
    let need = 0;
    fsum.mean.forEach((mu, oi) => {
      let scale = 0;
      for (const x of mu) scale = Math.max(scale, Math.abs(x));
      if (!(scale > 0)) return;
      for (let j = 0; j < mu.length; j++) {
        const disc = csum && oneTimeObs[oi] ? Math.abs(mu[j] - interp(csum.mean[oi], 2 * h, j * h)) / 3 : 0;
        need = Math.max(need, (fsum.se[oi][j] / Math.max(tol * scale, disc / 2)) ** 2);
      }
    });
    if (need <= 1 || fine.count >= maxR) { statNeed = need; break; }
    // the standard error falls like 1/√replicas
    target = Math.min(maxR, Math.max(fine.count + 2, Math.ceil(fine.count * need * 1.1)));
  }
  const fs = summarize(fine);
  const coarse = refine && !coarseFailed ? summarize(cset) : undefined;
  if (coarseFailed) warnings.push(`discretization error not estimated: ${coarseFailed}`);
  // 1σ-equivalent coverage with the replicas' degrees of freedom
  const tq = studentQuantile(0.8413447, fine.count - 1);
  const statRel = relativeError(fs);
  if (statNeed > 1) warnings.push(`the statistical error (up to ${statRel.toPrecision(2)} of an observable's scale) is above its target after ${fine.count} replicas of ${P} paths (the solver's work budget); it is in the error bars`);

  // ---- finite-P bias: a sweep's kernels carry the noise of its own P paths, which feeds back
  // into the paths (a bias ∝ 1/P, largest near the edge of stability). The same number of
  // replicas with Pq = P/4 paths each (P/2 below 400 paths, where P/4 leaves the 1/P regime)
  // measures it: bias(P) = b/P ≈ (Ō_Pq − Ō_P)·Pq/(P − Pq).
  let small: { mean: Float64Array[]; se: Float64Array[] } | undefined;
  const Pq = Math.floor(P >= 400 ? P / 4 : P / 2), PRq = PR ? Math.max(4, Math.floor((PR * Pq) / P)) : 0;
  const biasFactor = Pq / (P - Pq);
  if ((opts.biasCheck ?? true) && Pq >= 32) {
    const qs = newSet(K, h);
    for (let r = 0; r < fine.count; r++) { addReplica(plan, qs, { K, h, P: Pq, PR: PRq, seed: seed + 7919, outIdx, blocks }); opts.progress?.(`Monte Carlo (${Pq} paths)`, (r + 1) / fine.count); }
    small = summarize(qs);
  }

  // ---- self-consistency: fresh paths driven by the replicas' averaged kernels, held fixed (an
  // Eissfeller–Opper iteration from the solution): kernels and observables must come back
  const doCheck = opts.check ?? true;
  let check: SweepResult | undefined;
  const mk = meanKernels(plan, fine);
  if (doCheck) {
    const n = K + 1;
    const Pc = Math.max(P, Math.min(P * fine.count, Math.floor(2e6 / n), 4000)), PRc = PR ? Math.min(Pc, 2 * PR) : 0;
    check = plan.sweep({ K, h, P: Pc, PR: PRc, seed, stream: 0x7000000, outIdx, blocks, frozen: mk.k });
    opts.progress?.('Monte Carlo (check)', 1);
  }
  const kernelZ = check ? kernelResidual(plan, mk.k, mk.se, check) : undefined;

  // ---- assemble: error = t·SE ⊕ finite-P bias ⊕ |O_h − O_2h|/3 ⊕ significant residual
  const observables: Record<string, number[]> = table(), error: Record<string, number[]> = table();
  const twoTime: Record<string, TwoTime> = table();
  let maxSE = 0, maxDisc = 0, maxResidZ = 0, maxResid = 0, maxBias = 0;
  const RESID_Z = 4;
  const residualAt = (oi: number, at: number): number => {
    if (!check) return 0;
    const d = check.obs[oi][at] - fs.mean[oi][at];
    const z = Math.abs(d) / Math.hypot(check.obsSE[oi][at], fs.se[oi][at]);
    if (Number.isFinite(z)) maxResidZ = Math.max(maxResidZ, z);
    if (z > RESID_Z) { maxResid = Math.max(maxResid, Math.abs(d)); return Math.abs(d); }
    return 0;
  };
  reading.observables.forEach((ob, oi) => {
    const name = ob.def.name;
    const v = fs.mean[oi], s = fs.se[oi], vq = small?.mean[oi];
    const seAt = (j: number) => tq * s[j];
    // the finite-P bias: measured by the smaller replicas, and at least its natural size, a
    // second-order effect of each replica's own scatter sd (≈ sd²/|value|, |value| floored at a
    // tenth of the observable's scale) — the smaller replicas can leave the 1/P regime near the
    // edge of stability, where the scatter is large
    let scale = 0;
    for (const x of v) scale = Math.max(scale, Math.abs(x));
    const natural = (j: number) => { const d = Math.max(Math.abs(v[j]), 0.1 * scale); return d > 0 ? (s[j] * s[j] * fine.count) / d : 0; };
    const biasAt = (j: number) => Math.max(vq ? Math.abs(vq[j] - v[j]) * biasFactor : 0, natural(j));
    if (ob.def.times.length <= 1) {
      const cv = coarse?.mean[oi];
      const se1 = Float64Array.from(s, (_, j) => seAt(j)), b1 = Float64Array.from(s, (_, j) => biasAt(j));
      observables[name] = times.map((t) => interp(v, h, t));
      error[name] = times.map((t) => {
        const se = interpLinear(se1, h, t), bias = interpLinear(b1, h, t);
        const disc = cv ? Math.abs(interp(v, h, t) - interp(cv, 2 * h, t)) / 3 : 0;
        const res = residualAt(oi, Math.round(t / h));
        maxSE = Math.max(maxSE, se); maxDisc = Math.max(maxDisc, disc); maxBias = Math.max(maxBias, bias);
        return Math.sqrt(se * se + bias * bias + disc * disc + res * res);
      });
    } else {
      const m = outIdx.length, mc = outIdxCoarse.length;
      const values: number[][] = [], errs: number[][] = [];
      const cv = coarse?.mean[oi];
      const coarseAt = (a: number, b: number) => {
        let s2 = 0;
        for (const ia of [a, a + m]) for (const ib of [b, b + m]) s2 += cv![ia * mc + ib];
        return s2 / 4;
      };
      for (let a = 0; a < m; a++) {
        values.push([]); errs.push([]);
        for (let b = 0; b < m; b++) {
          const j = a * m + b;
          const se = seAt(j), bias = biasAt(j);
          const disc = cv ? Math.abs(v[j] - coarseAt(a, b)) / 3 : 0;
          const res = residualAt(oi, j);
          maxSE = Math.max(maxSE, se); maxDisc = Math.max(maxDisc, disc); maxBias = Math.max(maxBias, bias);
          values[a].push(v[j]);
          errs[a].push(Math.sqrt(se * se + bias * bias + disc * disc + res * res));
        }
      }
      twoTime[name] = { t: outIdx.map((k) => k * h), values, error: errs };
    }
  });
  // an error comparable to the value is not a result: say from when on
  for (const [name, vals] of Object.entries(observables)) {
    const scale = Math.max(...vals.map(Math.abs));
    const i = error[name].findIndex((e) => e > 0.25 * scale);
    if (scale > 0 && i >= 0) warnings.push(`${name} is not resolved from t = ${+times[i].toPrecision(4)} on: its error (${error[name][i].toPrecision(2)}) exceeds a quarter of its scale (${scale.toPrecision(3)}); more paths (work) or a shorter --T would help`);
  }
  if (maxResid > 0) warnings.push(`the solution is not self-consistent within its statistical error: paths driven by its kernels differ from it by up to ${maxResidZ.toPrecision(3)} standard errors (|difference| ≤ ${maxResid.toPrecision(3)}, added to the errors)`);
  if (kernelZ && kernelZ.rms > 2) warnings.push(`the kernels are not self-consistent within their statistical error (rms residual ${kernelZ.rms.toPrecision(3)} standard errors; worst ${kernelZ.worst})`);
  if (fine.stiffness > 1.5) warnings.push(`the time step is close to Heun's stability limit (h·max|∂F/∂x| = ${fine.stiffness.toPrecision(3)}, unstable above 2); ${finerStep}`);
  if (fine.indefinite > 1e-6) warnings.push(`a field covariance fell outside the positive semi-definite cone by ${fine.indefinite.toPrecision(2)} (relative); the fields were sampled from the nearest valid covariance`);

  const diagnostics: Record<string, number | string | boolean> = {
    method: 'montecarlo',
    dt: h, steps: K, replicas: fine.count, pathsPerReplica: P, responsePathsPerReplica: PR,
    statErrRelMax: +statRel.toPrecision(3), mcStdErrMax: maxSE, finitePathBiasMax: maxBias,
    discretizationErrorMax: refine ? (coarse ? maxDisc : 'not estimated (the 2·dt solve failed)') : 'not estimated (refine: false)',
    statErrTarget: tol,
    residualToNoise: check ? +maxResidZ.toPrecision(3) : 'not checked (check: false)',
    stiffness: +fine.stiffness.toPrecision(3),
    seconds: (performance.now() - t0) / 1000,
  };
  if (kernelZ) { diagnostics.kernelResidualRms = +kernelZ.rms.toPrecision(3); diagnostics.kernelResidualWorst = kernelZ.worst; }
  if (coarsened) diagnostics.dtNote = `dt = ${opts.dt} would need ${Math.ceil(opts.T / opts.dt)} steps; the Monte Carlo grid uses ${K} steps (dt = ${h.toPrecision(4)}), its error is in discretizationErrorMax`;
  if (warnings.length) diagnostics.warning = warnings.join('; ');
  const out: SolveResult = {
    model: reading.sys.model, params: reading.params, method: 'montecarlo',
    t: times, observables, error, diagnostics,
  };
  if (Object.keys(twoTime).length) out.twoTime = twoTime;
  return out;
}

/** z-scores of the kernels re-estimated from paths driven by the averaged kernels */
function kernelResidual(plan: SweepPlan, center: Kernels, se: Kernels, check: SweepResult): { rms: number; worst: string } {
  let s2 = 0, cnt = 0, worstZ = 0, worst = '';
  const n = center.K + 1;
  plan.ops.forEach((o, i) => {
    const a = check.est.v[i], b = center.v[i], sa = check.estSE!.v[i], sb = se.v[i];
    // a kernel that is the same on every path (a linear response) has no sampling noise: rounding is its error
    let scale = 0;
    for (const x of b) scale = Math.max(scale, Math.abs(x));
    const floor = 1e-9 * scale;
    for (const j of entries(o, n)) {
      const sd = Math.hypot(sa[j], sb[j], floor);
      if (!(sd > 0)) continue;
      const z = (a[j] - b[j]) / sd;
      s2 += z * z; cnt++;
      if (Math.abs(z) > worstZ) { worstZ = Math.abs(z); worst = `${o.name} at t = ${((o.kind === 'M' ? j : Math.floor(j / n)) * center.h).toPrecision(3)}${o.kind === 'M' ? '' : `, s = ${((j % n) * center.h).toPrecision(3)}`}: ${worstZ.toPrecision(3)}`; }
    }
  });
  return { rms: cnt ? Math.sqrt(s2 / cnt) : 0, worst };
}
