// One grid of the Gaussian-state closure (gaussian-vector.ts has the
// equations and the plan they are read into): the θ-method rows on
// t_0 … t_N solved one after the other. A `Level` holds the grid's arrays —
// per population m, K, G, A, Φ, X, Y and the fields' covariances, per order
// parameter its values — and each step of a row is one of its methods:
//   coef             the coefficients at row n from the mean fields there,
//   diagonal         the equal-time block (I − W Φ(n,n)) and the kernels' diagonals,
//   responseRow      G(n,·) by descending columns (the R order parameters' rows),
//   sourcesAndMeans  the memory sources, m(n) and Cov(x(n), q),
//   covRow           K(n,·), Y(n,·) by ascending columns, a fixed point per column,
//   finishRow        the nonlinear order parameters from the final m(n), K(n,·).
// `runLevelVector` is the row loop: predict row n, repeat the steps until the
// row is self-consistent (one pass for linear sites), check its health.
import { DmftError } from '../errors.ts';
import { inverse, luSolveInPlace } from '../numeric/linalg.ts';
import type { LevelData, LevelOptions } from './gaussian.ts';
import type { Affine, CovV, OpV, Plan, PopV } from './gaussian-vector.ts';

const tri = (n: number) => (n * (n + 1)) / 2;

/** Largest Hermite order for the Mehler series of nonlinear C_f. */
export const HERM_KMAX = 160;
/** Mehler series: truncated where its tail bound is below this (relative to E f²) */
const MEHLER_TOL = 1e-11;

// The O(N³) loops, as small module-level functions: each is optimized on its own
// (inside the large closures of a level they ran partly unoptimized, boxing every number).

/** y[i] += x · z[zo + i] for i < n */
function axpy(y: Float64Array, x: number, z: Float64Array, zo: number, n: number): void {
  for (let i = 0; i < n; i++) y[i] += x * z[zo + i];
}

/** Σ_{k ∈ [from, to)} a[ao + k] b[bo + k] */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += a[ao + k] * b[bo + k];
  return s;
}

/** row[j] += Σ_{k ∈ [k0, n)} A[base + k] K[k·N1 + j] for j ∈ [j0, j1) */
function rowTimesMatrix(row: Float64Array, A: Float64Array, base: number, k0: number, n: number, K: Float64Array, N1: number, j0: number, j1: number): void {
  for (let k = k0; k < n; k++) {
    const x = A[base + k];
    if (x === 0) continue;
    const off = k * N1;
    for (let j = j0; j < j1; j++) row[j] += x * K[off + j];
  }
}

/**
 * Coefficients of the trapezoidal step with the damping a* = min(0, a) of the
 * state's own linear term integrated exactly (exponential trapezoid):
 *   x_n = e^{a*h} x_{n−1} + h w1 (F_{n−1} − a* x_{n−1}) + h w0 (F_n − a* x_n) + ∫ e^{a*(t_n−u)} c dξ,
 * w0 = φ2(a*h), w1 = φ1 − φ2 (φ1 = (e^z − 1)/z, φ2 = (e^z − 1 − z)/z²).
 * Written as x_n = prev·x_{n−1} + c1 F_{n−1} + c0 F_n + noise, with `noise`
 * the variance factor per unit of c²·D (z = a*h, cHat the normalization). At
 * a* = 0 it is the plain trapezoid (1, h/2, h/2, h); for h|a*| ≫ 1 the stiff
 * mode is damped by e^{a*h} instead of flipping sign every step (the
 * trapezoid's factor → −1), so the scheme stays second order and L-stable in
 * the stiff linear part.
 */
export function stepCoefficients(h: number, a: number): { prev: number; c1: number; c0: number; noise: number; z: number; cHat: number } {
  const as = Math.min(0, a);
  const z = as * h;
  let phi1: number, phi2: number;
  if (Math.abs(z) < 1e-3) {
    phi1 = 1 + z / 2 + (z * z) / 6 + (z * z * z) / 24;
    phi2 = 0.5 + z / 6 + (z * z) / 24 + (z * z * z) / 120;
  } else {
    const em = Math.expm1(z);
    phi1 = em / z;
    phi2 = (em - z) / (z * z);
  }
  const w0 = phi2, w1 = phi1 - phi2;
  const cHat = 1 / (1 + h * w0 * as);
  return { prev: (Math.exp(z) - h * w1 * as) * cHat, c1: h * w1 * cHat, c0: h * w0 * cHat, noise: noiseFactor(h, 2 * z) * cHat * cHat, z, cHat };
}

/** ∫₀^h e^{w u/h} du = h (e^w − 1)/w: the noise variance of a step for the summed damping w = (a*_c + a*_d) h */
function noiseFactor(h: number, w: number): number {
  return Math.abs(w) < 2e-3 ? h * (1 + w / 2 + (w * w) / 6 + (w * w * w) / 24) : (h * Math.expm1(w)) / w;
}

export interface PopRunV {
  P: PopV;
  m: Float64Array[];
  /** K[a*V+b][n*N1+j] = Cov(x_a(t_n), x_b(t_j)) */
  K: Float64Array[];
  /** packed lower triangles over (n, k), blocks a*V+b */
  G: Float64Array[]; A: Float64Array[]; Phi: Float64Array[];
  /** X[a*Q+q][n] = Cov(x_a(t_n), q) */
  X: Float64Array[];
  /** Y[a*Fn+f][i*N1+j] = Cov(x_a(t_j), η_f(t_i)) */
  Y: Float64Array[];
  /** Σ[f*Fn+g][i*N1+j] = ⟨η_f(t_i) η_g(t_j)⟩ (undefined: independent) */
  S: (Float64Array | undefined)[];
  /** per time: β (V×Fn), δ with the memory parts (V×Q), ε (V), noise coefficients (V×Z) */
  beta: Float64Array; delta: Float64Array; eps: Float64Array; cn: Float64Array;
  /** per time: U0, U1, M (V×V); U·β (V×Fn) and U·δ (V×Q) */
  U0: Float64Array; U1: Float64Array; M: Float64Array;
  UB0: Float64Array; UB1: Float64Array; UD0: Float64Array; UD1: Float64Array;
  aStart: Int32Array;
  /** per row and block a*V+b: is the row of A (G) in that block nonzero anywhere (zero blocks are skipped) */
  aNZ: Uint8Array; gNZ: Uint8Array;
  slot: Float64Array;
  kap: Float64Array;
  /** per time and variable: the own coefficient ∂F_a/∂x_a, and the exponential trapezoid's z = h·min(0, ∂F_a/∂x_a) and 1/(1 + h w0 a*) */
  own: Float64Array; zs: Float64Array; chat: Float64Array;
}

/** The work arrays of one population for the row being solved. */
interface RowWork {
  cmat: Float64Array; W: Float64Array; H1: Float64Array; E: Float64Array;
  Mat: Float64Array; B: Float64Array; Ak: Float64Array; w: Float64Array;
  acc: Float64Array[]; rowK: Float64Array[]; ypart: Float64Array; Sn: Float64Array; kbase: Float64Array; knn: Float64Array;
}

/** An affine C order parameter's per-time means of f and g, covariances with the quenched inputs, and its pairs of variables. */
interface AffineC { mf: Float64Array; mg: Float64Array; xf: Float64Array; xg: Float64Array; vq: number; pairs: { ab: number; c: number }[] }

/** Per time: the Hermite coefficients of a nonlinear C's φ (and their tails), E φ², the law of u, and the rule chosen per column. */
interface HermRows { herm: Float64Array; tail: Float64Array; ef2: Float64Array; sd: Float64Array; mu: Float64Array; kord: Int32Array; done: Uint8Array; how: Uint8Array }

/** A C order parameter of a population with its affine data (its pairs of variables as typed arrays). */
interface CEntry { o: OpV; d: AffineC | undefined; K: Float64Array[]; pab: Int32Array; pc: Float64Array }

const unitName = (p: PopRunV, a: number) => p.P.r.variables[a].name;

/**
 * One grid of the closure: the arrays of every population and order parameter
 * on t_0 … t_N, and the steps that solve row n from the rows before it
 * (runLevelVector runs them).
 */
class Level {
  readonly h: number; readonly N: number; readonly theta: number; readonly N1: number; readonly T1: number; readonly NN: number;
  readonly tn: Float64Array; readonly stepTol: number; readonly maxSweeps: number; readonly fixedSweeps: boolean;
  readonly pops: PopRunV[]; readonly work: RowWork[];
  readonly ops: Map<string, OpV>; readonly opList: OpV[]; readonly cOps: OpV[]; readonly mOps: OpV[]; readonly rOps: OpV[];
  readonly nlRows: Map<OpV, Float64Array>;
  /** the order parameters at row n enter row n nonlinearly or through mean fields: row n is swept to a fixed point */
  readonly needSweeps: boolean;
  /** memory kernels: the R order parameters read by memory terms (the unknowns of the response row) and their rows */
  readonly kOps: OpV[]; readonly nK: number; readonly memK: Int32Array[]; readonly kFr: Float64Array[];
  readonly chi: Float64Array; readonly chiNew: Float64Array; readonly rhs: Float64Array; readonly Mx: Float64Array;
  readonly covArgs: Float64Array; readonly covRuns: OpV[][][];
  readonly affC: Map<OpV, AffineC>;
  readonly K1: number; readonly hermData: Map<OpV, HermRows>;
  readonly cOfPop: CEntry[][]; readonly cAll: CEntry[];
  readonly snap: Float64Array; readonly opScale: Float64Array;
  /** the first sweep of a row (the Mehler series or the 2-D rule is chosen then) */
  firstSweep = true;
  fallbackPairs = 0;
  residualMax = 0;
  stiffness = { value: 0, variable: '', rate: 0 };

  constructor(plan: Plan, h: number, N: number, lo: LevelOptions) {
    const theta = lo.scheme === 'trapezoid' ? 0.5 : 0;
    const N1 = N + 1, T1 = tri(N1), NN = N1 * N1;
    // the node times: uniform t_n = n h, or a graded grid whose steps grow (lo.grid, docs/gaussian-closure.md)
    const tn = lo.grid ?? Float64Array.from({ length: N1 }, (_, n) => n * h);
    if (tn.length !== N1) throw new Error(`runLevelVector: a grid of ${tn.length} times for ${N} steps`);
    const stepTol = lo.stepTol ?? 1e-10;
    const maxSweeps = lo.maxSweeps ?? 60;
    const arrs = (k: number, len: number) => Array.from({ length: k }, () => new Float64Array(len));
    const pops: PopRunV[] = plan.pops.map((P) => {
      const { V, Fn, Q, Z } = P;
      const S: (Float64Array | undefined)[] = new Array(Fn * Fn).fill(undefined);
      for (const c of P.covs) { S[c.f * Fn + c.g] ??= new Float64Array(NN); S[c.g * Fn + c.f] ??= new Float64Array(NN); }
      return {
        P, m: arrs(V, N1), K: arrs(V * V, NN), G: arrs(V * V, T1), A: arrs(V * V, T1), Phi: arrs(V * V, T1),
        X: arrs(V * Q, N1), Y: arrs(V * Fn, NN), S,
        beta: new Float64Array(N1 * V * Fn), delta: new Float64Array(N1 * V * Q), eps: new Float64Array(N1 * V), cn: new Float64Array(N1 * V * Z),
        U0: new Float64Array(N1 * V * V), U1: new Float64Array(N1 * V * V), M: new Float64Array(N1 * V * V),
        UB0: new Float64Array(N1 * V * Fn), UB1: new Float64Array(N1 * V * Fn), UD0: new Float64Array(N1 * V * Q), UD1: new Float64Array(N1 * V * Q),
        aStart: new Int32Array(N1), aNZ: new Uint8Array(N1 * V * V), gNZ: new Uint8Array(N1 * V * V), slot: new Float64Array(P.r.slots.length), kap: new Float64Array(P.mem.length),
        own: new Float64Array(N1 * V), zs: new Float64Array(N1 * V), chat: new Float64Array(N1 * V),
      };
    });
    const ops = new Map<string, OpV>();
    for (const o of plan.ops.values()) ops.set(o.name, { ...o, v: new Float64Array(o.kind === 'M' ? N1 : o.kind === 'R' ? T1 : NN), ...(o.nl && o.kind === 'R' ? { dmean: new Float64Array(N1) } : {}) });
    const opList = [...ops.values()];
    const nlRows = new Map(opList.filter((o) => o.nl).map((o) => [o, new Float64Array(plan.pops[o.pop].V)]));
    const cOps = opList.filter((o) => o.kind === 'C');
    const mOps = opList.filter((o) => o.kind === 'M');
    const rOps = opList.filter((o) => o.kind === 'R');
    // the order parameters at row n enter row n's coefficients (mean fields) or
    // depend on the state at (n, n) nonlinearly: the ordered step is then
    // repeated to a fixed point; otherwise one ordered pass solves it exactly
    const needSweeps = plan.pops.some((P) => P.meanSlots.length > 0) || opList.some((o) => o.nl !== undefined);

    // per-row work arrays of each population
    const work = pops.map((p) => {
      const { V, Fn } = p.P, VV = V * V;
      return {
        cmat: new Float64Array(VV), W: new Float64Array(V), H1: new Float64Array(V), E: new Float64Array(V),
        Mat: new Float64Array(VV), B: new Float64Array(VV), Ak: new Float64Array(VV),
        w: new Float64Array(Math.max(1, p.P.mem.length) * V),
        acc: arrs(VV, N1), rowK: arrs(VV, N1), ypart: new Float64Array(V * Fn), Sn: new Float64Array(VV), kbase: new Float64Array(VV), knn: new Float64Array(VV),
      };
    });

    // ---- memory kernels: the R order parameters read by memory terms are the unknowns of the response row
    const kOps = [...new Set(pops.flatMap((p) => p.P.mem.map((m) => ops.get(m.op)!)))];
    const nK = kOps.length;
    const kIdx = new Map(kOps.map((o, i) => [o, i]));
    const memK = pops.map((p) => Int32Array.from(p.P.mem.map((m) => kIdx.get(ops.get(m.op)!)!)));
    const chi = new Float64Array(nK), chiNew = new Float64Array(nK), rhs = new Float64Array(nK), Mx = new Float64Array(nK * nK);
    const kFr = kOps.map((o) => new Float64Array(plan.pops[o.pop].V));
    const covArgs = new Float64Array(64);
    const covRuns = pops.map((p) => p.P.covs.map((c) => c.args.map((a) => ops.get(a.op)!)));

    // ---- affine C order parameters: per-time means and covariances with the quenched inputs
    const affC = new Map<OpV, AffineC>();
    for (const o of cOps) {
      if (o.nl) continue;
      const P = plan.pops[o.pop];
      let vq = 0;
      for (let q = 0; q < P.Q; q++) vq += o.f.fq[q] * o.g.fq[q] * P.qVar[q];
      const pairs: { ab: number; c: number }[] = [];
      for (let a = 0; a < P.V; a++) for (let b = 0; b < P.V; b++) if (o.f.f1[a] !== 0 && o.g.f1[b] !== 0) pairs.push({ ab: a * P.V + b, c: o.f.f1[a] * o.g.f1[b] });
      affC.set(o, { mf: new Float64Array(N1), mg: new Float64Array(N1), xf: new Float64Array(N1), xg: new Float64Array(N1), vq, pairs });
    }
    // Hermite data of the nonlinear C order parameters: E φ(u_n) φ(u_j) = Σ ρ^k a_k(n) a_k(j)
    const K1 = HERM_KMAX + 1;
    const hermData = new Map(cOps.filter((o) => o.nl).map((o) => [o, { herm: new Float64Array(N1 * K1), tail: new Float64Array(N1 * K1), ef2: new Float64Array(N1), sd: new Float64Array(N1), mu: new Float64Array(N1), kord: new Int32Array(N1), done: new Uint8Array(N1), how: new Uint8Array(N1) }]));
    // per population: its C order parameters with their affine data (pairs of variables as typed arrays)
    const cList = (pi: number) => cOps.filter((o) => pi < 0 || o.pop === pi).map((o) => {
      const d = affC.get(o);
      return { o, d, K: pops[o.pop].K, pab: Int32Array.from(d?.pairs.map((x) => x.ab) ?? []), pc: Float64Array.from(d?.pairs.map((x) => x.c) ?? []) };
    });
    const cOfPop = pops.map((_, pi) => cList(pi)), cAll = cList(-1);
    // row n of every order parameter before a sweep, and the largest change since, each
    // order parameter against its running magnitude (an identically zero one, e.g. M at
    // zero mean, against the others)
    const snap = new Float64Array(opList.reduce((t, o) => t + (o.kind === 'M' ? 1 : o.kind === 'R' ? N1 : 2 * N1) + (o.dmean ? 1 : 0), 0));
    const opScale = new Float64Array(opList.length);
    this.h = h; this.N = N; this.theta = theta; this.N1 = N1; this.T1 = T1; this.NN = NN;
    this.tn = tn; this.stepTol = stepTol; this.maxSweeps = maxSweeps; this.fixedSweeps = !!lo.fixedSweeps;
    this.pops = pops; this.work = work;
    this.ops = ops; this.opList = opList; this.cOps = cOps; this.mOps = mOps; this.rOps = rOps; this.nlRows = nlRows;
    this.needSweeps = needSweeps;
    this.kOps = kOps; this.nK = nK; this.memK = memK; this.kFr = kFr; this.chi = chi; this.chiNew = chiNew; this.rhs = rhs; this.Mx = Mx;
    this.covArgs = covArgs; this.covRuns = covRuns; this.affC = affC; this.K1 = K1; this.hermData = hermData;
    this.cOfPop = cOfPop; this.cAll = cAll; this.snap = snap; this.opScale = opScale;
  }

  /** the step that ends at node n */
  hAt(n: number): number {
    const { tn } = this;
    return n > 0 ? tn[n] - tn[n - 1] : tn.length > 1 ? tn[1] - tn[0] : this.h;
  }

  /** ⟨∂f/∂x_a⟩ = c_a E φ'(u(t_n)) of a nonlinear order parameter (Stein) */
  nlRow(o: OpV, n: number): Float64Array { const r = this.nlRows.get(o)!; for (let a = 0; a < r.length; a++) r[a] = o.nl!.c[a] * o.dmean![n]; return r; }

  /** the kernel's f-row at row n: ∂f/∂x_a, or E f'(x_a(t_n)) for a nonlinear f (current value) */
  frAt(o: OpV, out: Float64Array, n: number): void {
    if (o.nl) { for (let a = 0; a < out.length; a++) out[a] = o.nl.c[a] * o.dmean![n]; } else out.set(o.f.f1);
  }

  /** a field covariance at (t_ti, t_si) from its order parameters */
  covAt(c: CovV, runs: OpV[], ti: number, si: number): number {
    const { N1, tn, covArgs } = this;
    const na = c.args.length;
    for (let q = 0; q < na; q++) {
      const w = c.args[q].at, o = runs[q];
      const t0 = w[0] === 0 ? ti : si;
      covArgs[q] = o.kind === 'M' ? o.v[t0] : o.v[t0 * N1 + (w[1] === 0 ? ti : si)];
    }
    covArgs[na] = tn[ti]; covArgs[na + 1] = tn[si];
    return c.F(covArgs);
  }

  /** population `only`'s (or every population's) field covariances at (n, j) and (j, n) */
  fieldsAt(n: number, j: number, only = -1): void {
    const { N1, pops, covRuns } = this;
    for (let pi = 0; pi < pops.length; pi++) {
      if (only >= 0 && pi !== only) continue;
      const p = pops[pi], { Fn } = p.P, covs = p.P.covs;
      for (let ci = 0; ci < covs.length; ci++) {
        const c = covs[ci], runs = covRuns[pi][ci];
        let a: number, b: number;
        if (c.lin) { const v = runs[0].v; a = c.lin.c0 + c.lin.c1 * v[n * N1 + j]; b = c.lin.c0 + c.lin.c1 * v[j * N1 + n]; }
        else { a = this.covAt(c, runs, n, j); b = j === n ? a : this.covAt(c, runs, j, n); }
        const fg = p.S[c.f * Fn + c.g]!, gf = p.S[c.g * Fn + c.f]!;
        fg[n * N1 + j] = a; fg[j * N1 + n] = b;
        // ⟨η_g(t_i) η_f(t_j)⟩ = ⟨η_f(t_j) η_g(t_i)⟩
        gf[j * N1 + n] = a; gf[n * N1 + j] = b;
      }
    }
  }

  /** the mean of an affine function of a population's variables and quenched inputs at time i */
  meanOf(A: Affine, p: PopRunV, i: number): number {
    let s = A.f0;
    for (let a = 0; a < p.P.V; a++) s += A.f1[a] * p.m[a][i];
    for (let q = 0; q < p.P.Q; q++) s += A.fq[q] * p.P.qMean[q];
    return s;
  }

  /** per-time data of the affine C order parameters and the affine means at time n (after m(n), X(n)) */
  affineAt(n: number): void {
    const { pops, mOps, affC } = this;
    for (const [o, d] of affC) {
      const p = pops[o.pop], { V, Q } = p.P;
      d.mf[n] = this.meanOf(o.f, p, n); d.mg[n] = this.meanOf(o.g, p, n);
      // Cov(f's variables at t, g's quenched part) and the reverse
      let xf = 0, xg = 0;
      for (let a = 0; a < V; a++) for (let q = 0; q < Q; q++) { const x = p.X[a * Q + q][n]; xf += o.f.f1[a] * o.g.fq[q] * x; xg += o.g.f1[a] * o.f.fq[q] * x; }
      d.xf[n] = xf; d.xg[n] = xg;
    }
    for (const o of mOps) if (!o.nl) o.v[n] = this.meanOf(o.f, pops[o.pop], n);
  }

  /** mean of the combination u = c·(x(t_i), q) of a nonlinear order parameter */
  uMean(o: OpV, i: number): number {
    const { pops } = this;
    const c = o.nl!.c, p = pops[o.pop], { V, Q } = p.P;
    let s = 0;
    for (let a = 0; a < V; a++) if (c[a] !== 0) s += c[a] * p.m[a][i];
    for (let q = 0; q < Q; q++) s += c[V + q] * p.P.qMean[q];
    return s;
  }

  /** Cov(u(t_i), u(t_j)) of a nonlinear order parameter's combination u */
  uCov(o: OpV, i: number, j: number): number {
    const { N1, pops } = this;
    const c = o.nl!.c, p = pops[o.pop], { V, Q } = p.P;
    let s = 0;
    for (let a = 0; a < V; a++) {
      if (c[a] === 0) continue;
      for (let b = 0; b < V; b++) if (c[b] !== 0) s += c[a] * c[b] * p.K[a * V + b][i * N1 + j];
      for (let q = 0; q < Q; q++) s += c[a] * c[V + q] * (p.X[a * Q + q][i] + p.X[a * Q + q][j]);
    }
    for (let q = 0; q < Q; q++) s += c[V + q] * c[V + q] * p.P.qVar[q];
    return s;
  }

  /** the Hermite coefficients of φ at time n from the current mean and variance of u; returns E φ(u_n)² */
  hermOne(o: OpV, n: number): number {
    const { K1, hermData } = this;
    const d = hermData.get(o)!;
    const sd = Math.sqrt(Math.max(0, this.uCov(o, n, n))), mu = this.uMean(o, n);
    // unchanged law of u(t_n) (the start of a sweep after the diagonal of the last one): nothing to do
    if (d.done[n] && sd === d.sd[n] && mu === d.mu[n]) return d.ef2[n];
    const hb = n * K1, kn = o.nl!.order(sd);
    d.sd[n] = sd; d.mu[n] = mu; d.kord[n] = kn; d.done[n] = 1;
    const e2 = o.nl!.herm(mu, sd, kn, d.herm, hb);
    d.ef2[n] = e2;
    let cum = 0;
    for (let k = 0; k <= kn; k++) { cum += d.herm[hb + k] ** 2; d.tail[hb + k] = Math.max(0, e2 - cum); }
    return e2;
  }

  /** E φ(u_n) φ(u_j) of a nonlinear C: the Mehler series Σ ρ^k a_k(n) a_k(j), or the 2-D rule where it converges too slowly */
  mehler(o: OpV, n: number, j: number): number {
    const { K1, hermData } = this;
    const d = hermData.get(o)!, { herm, tail } = d;
    const denom = d.sd[n] * d.sd[j];
    let rho = denom > 0 ? this.uCov(o, n, j) / denom : 0;
    if (rho > 1) rho = 1; else if (rho < -1) rho = -1;
    const hb = n * K1, jb = j * K1, km = Math.min(d.kord[n], d.kord[j]), tol = MEHLER_TOL * Math.max(d.ef2[n], 1e-300), ar = Math.abs(rho);
    // the choice between the series and the 2-D rule is made at a step's first sweep,
    // so the within-step iteration cannot cycle between two rules that differ by their errors
    if (this.firstSweep || d.how[j] === 1) {
      let sum = 0, rk = 1, ok = false;
      for (let k = 0; k <= km; k++) {
        sum += rk * herm[hb + k] * herm[jb + k];
        if (Math.abs(rk) * ar * Math.sqrt(tail[hb + k] * tail[jb + k]) <= tol) { ok = true; break; }
        rk *= rho;
      }
      if (this.firstSweep) d.how[j] = ok ? 1 : 2;
      if (d.how[j] === 1) return sum;
    }
    this.fallbackPairs++;
    return o.nl!.pair(this.uMean(o, n), this.uMean(o, j), d.sd[n] ** 2, this.uCov(o, n, j), d.sd[j] ** 2);
  }

  /** C order parameters (of population `only`, or all) at (n, j) and (j, n) */
  cAt(n: number, j: number, only = -1): void {
    const { N1, cOfPop, cAll } = this;
    const list = only >= 0 ? cOfPop[only] : cAll;
    for (let e = 0; e < list.length; e++) {
      const { o, d, K, pab, pc } = list[e];
      if (d) {
        const nj = n * N1 + j, jn = j * N1 + n;
        let s = d.mf[n] * d.mg[j] + d.xf[n] + d.xg[j] + d.vq, t = d.mf[j] * d.mg[n] + d.xf[j] + d.xg[n] + d.vq;
        for (let q = 0; q < pab.length; q++) { const Kq = K[pab[q]]; s += pc[q] * Kq[nj]; t += pc[q] * Kq[jn]; }
        o.v[nj] = s; o.v[jn] = t;
        continue;
      }
      // a nonlinear C (f = φ(u)) is left to finishRow: its row is computed once per sweep from the
      // final m(n), K(n, ·), as the fields of this sweep read the last sweep's (a Jacobi step; the
      // sweeps repeat the row until it is consistent)
    }
  }

  /** row n, step 1: a population's coefficients (β, δ, ε, noise, ∂F/∂x and the step weights) from the mean fields at row n */
  coef(p: PopRunV, wk: RowWork, n: number): void {
    const { theta, tn, ops } = this;
    const P = p.P, r = P.r;
    const { V, Fn, Q, Z } = P;
    const v = p.slot;
    v.fill(0);
    for (const ms of P.meanSlots) v[ms.slot] = ops.get(ms.op)!.v[n];
    v[P.tSlot] = tn[n];
    const h = this.hAt(n);
    for (let a = 0; a < V; a++) {
      const vr = r.variables[a];
      p.eps[n * V + a] = vr.F(v);
      for (let b = 0; b < V; b++) wk.cmat[a * V + b] = vr.dF[r.variables[b].name](v);
      for (let f = 0; f < Fn; f++) p.beta[(n * V + a) * Fn + f] = vr.dF[r.fields[f]](v);
      for (let q = 0; q < Q; q++) p.delta[(n * V + a) * Q + q] = vr.dF[r.quenched[q].name](v);
      for (let z = 0; z < Z; z++) p.cn[(n * V + a) * Z + z] = vr.dF[r.noises[z].name](v);
      const own = wk.cmat[a * V + a];
      p.own[n * V + a] = own;
      if (!P.dyn[a]) { wk.W[a] = 1; wk.H1[a] = 0; wk.E[a] = 0; }
      else if (n === 0) { wk.W[a] = 0; wk.H1[a] = 0; wk.E[a] = 0; }
      else if (theta === 0) { wk.W[a] = 0; wk.H1[a] = h; wk.E[a] = 1; p.zs[n * V + a] = 0; p.chat[n * V + a] = 1; }
      else {
        // the trapezoid with the variable's own damping integrated exactly (stepCoefficients)
        const sc = stepCoefficients(h, own);
        wk.W[a] = sc.c0; wk.H1[a] = sc.c1; wk.E[a] = sc.prev; p.zs[n * V + a] = sc.z; p.chat[n * V + a] = sc.cHat;
      }
    }
    P.mem.forEach((m, j) => { p.kap[j] = r.variables[m.owner].dF[m.slot](v); });
  }

  /** step 2: the equal-time block (I − W Φ(n,n)) and its inverse M, with the kernels' diagonals χ(n,n) = f·U0_q(n)·β_q(n), consistent across populations */
  diagonal(n: number): void {
    const { tn, pops, work, kOps, nK, memK, chi, chiNew, kFr } = this;
    const base = tri(n);
    for (let r = 0; r < nK; r++) { chi[r] = kOps[r].v[base + n]; this.frAt(kOps[r], kFr[r], n); }
    for (let it = 0; ; it++) {
      for (let pi = 0; pi < pops.length; pi++) {
        const p = pops[pi], wk = work[pi], P = p.P, V = P.V, VV = V * V, o = n * VV;
        const Mat = wk.Mat;
        for (let ab = 0; ab < VV; ab++) Mat[ab] = wk.cmat[ab];
        P.mem.forEach((m, j) => {
          const x = p.kap[j] * chi[memK[pi][j]];
          if (x !== 0) for (let b = 0; b < V; b++) Mat[m.owner * V + b] += x * m.g.f1[b];
        });
        for (let ab = 0; ab < VV; ab++) p.Phi[ab][base + n] = Mat[ab];
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) Mat[a * V + b] = (a === b ? 1 : 0) - wk.W[a] * Mat[a * V + b];
        const M = inverse(Mat, V, 1e-12);
        if (!M) throw new DmftError({ message: `population ${P.r.name}: the implicit step is singular at t = ${tn[n].toPrecision(4)} (the equal-time block 1 − h·∂F/∂x has no inverse)`, hint: 'try a smaller --dt' });
        p.M.set(M, o);
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) { p.U0[o + a * V + b] = M[a * V + b] * wk.W[b]; p.U1[o + a * V + b] = M[a * V + b] * wk.H1[b]; }
      }
      let change = 0, scale = 0;
      for (let r = 0; r < nK; r++) {
        const o = kOps[r], p = pops[o.pop], { V, Fn } = p.P, fr = kFr[r], off = n * V * V;
        let s = 0;
        for (let a = 0; a < V; a++) {
          if (fr[a] === 0) continue;
          for (let b = 0; b < V; b++) s += fr[a] * p.U0[off + a * V + b] * p.beta[(n * V + b) * Fn + o.slotField];
        }
        chiNew[r] = s;
        change = Math.max(change, Math.abs(s - chi[r])); scale = Math.max(scale, Math.abs(s));
      }
      chi.set(chiNew);
      if (change <= 4e-16 * scale || change === 0) break;
      if (it >= 200) throw new DmftError({ message: `the implicit step at t = ${tn[n].toPrecision(4)} has no consistent diagonal (the equal-time responses of the populations feed each other too strongly)`, hint: 'try a smaller --dt' });
    }
  }

  // step 3: the response row, in descending columns. G(n,k) depends on
  // row n only through the kernels χ(n,k') at columns k' ≥ k: at each column
  // a small linear system in the kernels' values χ(n,k) closes it exactly.
  /** step 3: the response row G(n,·), A(n,·), Φ(n,·) and the R order parameters' rows */
  responseRow(n: number): void {
    const { tn, pops, rOps, work, kOps, nK, memK, rhs, Mx, kFr } = this;
    const base = tri(n), bp = n > 0 ? tri(n - 1) : 0;
    for (let pi = 0; pi < pops.length; pi++) { const acc = work[pi].acc; for (const x of acc) x.fill(0, 0, n); }
    for (let k = n - 1; k >= 0; k--) {
      const bk = tri(k);
      // per population: B = acc(k) + A_known(n,k) G(k,k) (+ U1 at k = n−1), and w_j = G(k,k)ᵀ g1_j
      for (let pi = 0; pi < pops.length; pi++) {
        const p = pops[pi], wk = work[pi], P = p.P, V = P.V, VV = V * V, o = n * VV;
        const { Ak, B, acc, H1, E, w } = wk;
        // A_known(n,k) = M [H1 Φ(n−1,k) + E δ_{k,n−1}]
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
          let s = 0;
          for (let c = 0; c < V; c++) {
            let inner = H1[c] !== 0 ? H1[c] * p.Phi[c * V + b][bp + k] : 0;
            if (k === n - 1 && c === b) inner += E[c];
            if (inner !== 0) s += p.M[o + a * V + c] * inner;
          }
          Ak[a * V + b] = s;
        }
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
          let s = acc[a * V + b][k];
          for (let c = 0; c < V; c++) { const x = Ak[a * V + c]; if (x !== 0) s += x * p.G[c * V + b][bk + k]; }
          if (k === n - 1) s += p.U1[o + a * V + b];
          B[a * V + b] = s;
        }
        for (let j = 0; j < P.mem.length; j++) {
          const g1 = P.mem[j].g.f1;
          for (let b = 0; b < V; b++) { let s = 0; for (let c = 0; c < V; c++) if (g1[c] !== 0) s += g1[c] * p.G[c * V + b][bk + k]; w[j * V + b] = s; }
        }
      }
      // the kernels at (n,k): (I − Mx) χ = rhs
      if (nK > 0) {
        Mx.fill(0);
        for (let r = 0; r < nK; r++) {
          const o = kOps[r], qi = o.pop, p = pops[qi], wk = work[qi], { V, Fn } = p.P, fr = kFr[r], off = n * V * V;
          const bo = k * V * Fn + o.slotField; // β_bη(k) at bo + b·Fn
          let s = 0;
          for (let a = 0; a < V; a++) { if (fr[a] === 0) continue; for (let b = 0; b < V; b++) s += fr[a] * wk.B[a * V + b] * p.beta[bo + b * Fn]; }
          rhs[r] = s;
          const mem = p.P.mem;
          for (let j = 0; j < mem.length; j++) {
            let fu = 0;
            for (let a = 0; a < V; a++) if (fr[a] !== 0) fu += fr[a] * p.U0[off + a * V + mem[j].owner];
            if (fu === 0) continue;
            let wb = 0;
            for (let b = 0; b < V; b++) wb += wk.w[j * V + b] * p.beta[bo + b * Fn];
            Mx[r * nK + memK[qi][j]] += fu * p.kap[j] * wb;
          }
        }
        for (let r = 0; r < nK; r++) for (let c = 0; c < nK; c++) Mx[r * nK + c] = (r === c ? 1 : 0) - Mx[r * nK + c];
        if (!luSolveInPlace(Mx, rhs, nK, 1e-14)) throw new DmftError({ message: `the implicit response step is singular at t = ${tn[n].toPrecision(4)}`, hint: 'try a smaller --dt' });
      }
      // G, Φ and A at (n,k), then row k's contribution to the columns below
      for (let pi = 0; pi < pops.length; pi++) {
        const p = pops[pi], wk = work[pi], P = p.P, V = P.V, VV = V * V, o = n * VV;
        const { Ak, B, acc, w } = wk;
        for (let ab = 0; ab < VV; ab++) { p.G[ab][base + k] = B[ab]; p.A[ab][base + k] = Ak[ab]; p.Phi[ab][base + k] = 0; }
        for (let j = 0; j < P.mem.length; j++) {
          const x = rhs[memK[pi][j]] * p.kap[j];
          if (x === 0) continue;
          const owner = P.mem[j].owner, g1 = P.mem[j].g.f1;
          for (let b = 0; b < V; b++) p.Phi[owner * V + b][base + k] += x * g1[b];
          for (let a = 0; a < V; a++) {
            const u = x * p.U0[o + a * V + owner];
            if (u === 0) continue;
            for (let b = 0; b < V; b++) { p.G[a * V + b][base + k] += u * w[j * V + b]; p.A[a * V + b][base + k] += u * g1[b]; }
          }
        }
        if (k === 0) continue;
        for (let c = 0; c < V; c++) for (let b = 0; b < V; b++) {
          if (!p.gNZ[k * VV + c * V + b]) continue;
          const Gc = p.G[c * V + b];
          for (let a = 0; a < V; a++) {
            const x = p.A[a * V + c][base + k];
            if (x === 0) continue;
            axpy(acc[a * V + b], x, Gc, bk, k);
          }
        }
      }
    }
    // the diagonal, the first nonzero A column, the R order parameters' rows
    for (const p of pops) {
      const { V } = p.P, VV = V * V, o = n * VV;
      for (let ab = 0; ab < VV; ab++) {
        p.G[ab][base + n] = p.U0[o + ab]; p.A[ab][base + n] = 0;
        const A = p.A[ab], G = p.G[ab];
        let az = 0, gz = 0;
        for (let k = 0; k <= n; k++) { if (A[base + k] !== 0) az = 1; if (G[base + k] !== 0) gz = 1; }
        p.aNZ[n * VV + ab] = az; p.gNZ[n * VV + ab] = gz;
      }
      let k0 = n;
      for (let k = 0; k < n && k0 === n; k++) for (let ab = 0; ab < VV; ab++) if (p.A[ab][base + k] !== 0) { k0 = k; break; }
      p.aStart[n] = k0;
    }
    for (const o of rOps) this.rRow(o, n);
  }

  /** R[f|η](n,i) = Σ_ab ∂f/∂x_a G_ab(n,i) β_bη(i); ∂f/∂x_a averaged (Stein) for a nonlinear f */
  rRow(o: OpV, n: number): void {
    const { pops } = this;
    const p = pops[o.pop], { V, Fn } = p.P, base = tri(n);
    const f1 = o.nl ? this.nlRow(o, n) : o.f.f1;
    for (let i = 0; i <= n; i++) {
      let s = 0;
      for (let b = 0; b < V; b++) {
        const bb = p.beta[(i * V + b) * Fn + o.slotField];
        if (bb === 0) continue;
        let g = 0;
        for (let a = 0; a < V; a++) if (f1[a] !== 0) g += f1[a] * p.G[a * V + b][base + i];
        s += g * bb;
      }
      o.v[base + i] = s;
    }
  }

  /** step 4: memory sources, U·β, U·δ, means and covariances with q at row n */
  sourcesAndMeans(n: number): void {
    const { pops, ops } = this;
    const base = tri(n);
    for (const p of pops) {
      const P = p.P, { V, Fn, Q } = P, o = n * V * V;
      // the memory terms' constant and quenched parts
      P.mem.forEach((m, j) => {
        const kap = p.kap[j];
        if (kap === 0) return;
        const chiRow = ops.get(m.op)!.v;
        let Ssum = 0;
        for (let k = 0; k <= n; k++) Ssum += chiRow[base + k];
        p.eps[n * V + m.owner] += kap * m.g.f0 * Ssum;
        for (let q = 0; q < Q; q++) p.delta[(n * V + m.owner) * Q + q] += kap * m.g.fq[q] * Ssum;
      });
      const M = p.M.subarray(o, o + V * V);
      for (let a = 0; a < V; a++) {
        for (let f = 0; f < Fn; f++) {
          let s0 = 0, s1 = 0;
          for (let c = 0; c < V; c++) {
            s0 += p.U0[o + a * V + c] * p.beta[(n * V + c) * Fn + f];
            if (n > 0) s1 += p.U1[o + a * V + c] * p.beta[((n - 1) * V + c) * Fn + f];
          }
          p.UB0[(n * V + a) * Fn + f] = s0; p.UB1[(n * V + a) * Fn + f] = s1;
        }
        for (let q = 0; q < Q; q++) {
          let s0 = 0, s1 = 0;
          for (let c = 0; c < V; c++) {
            s0 += p.U0[o + a * V + c] * p.delta[(n * V + c) * Q + q];
            if (n > 0) s1 += p.U1[o + a * V + c] * p.delta[((n - 1) * V + c) * Q + q];
          }
          // the initial value's dependence on q enters row 0 like a source
          if (n === 0) for (let c = 0; c < V; c++) if (P.dyn[c]) s0 += M[a * V + c] * P.init[c].iota[q];
          p.UD0[(n * V + a) * Q + q] = s0; p.UD1[(n * V + a) * Q + q] = s1;
        }
      }
      const srcMean = (i: number, c: number) => { let s = p.eps[i * V + c]; for (let q = 0; q < Q; q++) s += p.delta[(i * V + c) * Q + q] * P.qMean[q]; return s; };
      const aStart = p.aStart[n];
      for (let a = 0; a < V; a++) {
        let m = 0;
        for (let c = 0; c < V; c++) {
          const Ac = p.A[a * V + c], mc = p.m[c];
          for (let k = aStart; k < n; k++) m += Ac[base + k] * mc[k];
          m += p.U0[o + a * V + c] * srcMean(n, c);
          if (n > 0) m += p.U1[o + a * V + c] * srcMean(n - 1, c);
          if (n === 0 && P.dyn[c]) { let i0 = P.init[c].mean0; for (let q = 0; q < Q; q++) i0 += P.init[c].iota[q] * P.qMean[q]; m += M[a * V + c] * i0; }
        }
        p.m[a][n] = m;
        for (let q = 0; q < Q; q++) {
          let s = 0;
          for (let c = 0; c < V; c++) { const Ac = p.A[a * V + c], Xc = p.X[c * Q + q]; for (let k = aStart; k < n; k++) s += Ac[base + k] * Xc[k]; }
          s += (p.UD0[(n * V + a) * Q + q] + p.UD1[(n * V + a) * Q + q]) * P.qVar[q];
          p.X[a * Q + q][n] = s;
        }
      }
    }
    this.affineAt(n);
  }

  // step 5: the covariance row in ascending columns. K(n,j) depends on
  // row n only through the fields' covariances at (n,j), which depend on the
  // order parameters at (n,j): a small fixed point per column.
  /** step 5: the covariance row K(n,·), Y(n,·) and the C order parameters' rows */
  covRow(n: number): void {
    this.covKnownPart(n);
    for (let j = 0; j <= n; j++) {
      this.covColumnBase(n, j);
      this.covColumnFixedPoint(n, j);
    }
    this.fieldsAt(n, n);
  }

  /** the parts of K(n,j) that do not involve row n: A(n,·)·K(·,j), the t_{n−1} fields, the quenched inputs (into rowK) */
  covKnownPart(n: number): void {
    const { N1, pops, work } = this;
    const base = tri(n);
    // the parts of K(n,j) that do not involve row n: A(n,·)·K(·,j), the t_{n−1} fields, the quenched inputs
    for (let pi = 0; pi < pops.length; pi++) {
      const p = pops[pi], wk = work[pi], { V, Fn, Q } = p.P, aStart = p.aStart[n];
      for (let ab = 0; ab < V * V; ab++) wk.rowK[ab].fill(0, 0, n);
      // Σ_k A(n,k) K(k,·): each row of K read once for every a, in column blocks that stay in cache
      for (let j0 = 0; j0 < n; j0 += 512) {
        const j1 = Math.min(n, j0 + 512);
        for (let c = 0; c < V; c++) for (let b = 0; b < V; b++) {
          const Kc = p.K[c * V + b];
          for (let a = 0; a < V; a++) {
            if (!p.aNZ[n * V * V + a * V + c]) continue;
            const Ac = p.A[a * V + c], row = wk.rowK[a * V + b];
            rowTimesMatrix(row, Ac, base, aStart, n, Kc, N1, j0, j1);
          }
        }
      }
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
        const row = wk.rowK[a * V + b];
        if (n > 0) for (let f = 0; f < Fn; f++) {
          const c1 = p.UB1[(n * V + a) * Fn + f];
          if (c1 === 0) continue;
          const Yb = p.Y[b * Fn + f], off = (n - 1) * N1;
          for (let j = 0; j < n; j++) row[j] += c1 * Yb[off + j];
        }
        for (let q = 0; q < Q; q++) {
          const d = p.UD0[(n * V + a) * Q + q] + p.UD1[(n * V + a) * Q + q];
          if (d === 0) continue;
          const Xb = p.X[b * Q + q];
          for (let j = 0; j < n; j++) row[j] += d * Xb[j];
        }
      }
    }
  }

  /** column j: Y(n,j) without the part from Σ(j,n) (into ypart), and at j = n the base of K(n,n) */
  covColumnBase(n: number, j: number): void {
    const { N1, pops, work } = this;
    const bj = tri(j);
    // Y(n,j) = Cov(x(t_j), η(t_n)) without the part from Σ(j,n)
    for (let pi = 0; pi < pops.length; pi++) {
      const p = pops[pi], wk = work[pi], { V, Fn } = p.P, aj = p.aStart[j];
      for (let a = 0; a < V; a++) for (let f = 0; f < Fn; f++) {
        let s = 0;
        for (let c = 0; c < V; c++) {
          if (!p.aNZ[j * V * V + a * V + c]) continue;
          s += dot(p.A[a * V + c], bj, p.Y[c * Fn + f], n * N1, aj, j);
        }
        if (j > 0) for (let g = 0; g < Fn; g++) { const Sg = p.S[g * Fn + f]; if (Sg) s += p.UB1[(j * V + a) * Fn + g] * Sg[(j - 1) * N1 + n]; }
        wk.ypart[a * Fn + f] = s;
      }
      if (j === n) this.equalTimeBase(p, wk, n);
    }
  }

  /** Cov(x(t_n), η(t_{n−1})) from row n's columns below, and K(n,n) without its Y(n,n) part (into kbase) */
  equalTimeBase(p: PopRunV, wk: RowWork, n: number): void {
    const { theta, N1 } = this;
    const base = tri(n), { V, Fn } = p.P;
    const { Q, Z } = p.P, VV = V * V, aStart = p.aStart[n], M = p.M.subarray(n * VV, n * VV + VV);
    if (n > 0) for (let a = 0; a < V; a++) for (let f = 0; f < Fn; f++) {
      let s = 0;
      for (let c = 0; c < V; c++) { const Ac = p.A[a * V + c], Yc = p.Y[c * Fn + f], off = (n - 1) * N1; for (let k = aStart; k < n; k++) s += Ac[base + k] * Yc[off + k]; }
      for (let g = 0; g < Fn; g++) {
        const Sg = p.S[g * Fn + f];
        if (Sg) s += p.UB0[(n * V + a) * Fn + g] * Sg[n * N1 + n - 1] + p.UB1[(n * V + a) * Fn + g] * Sg[(n - 1) * N1 + n - 1];
      }
      p.Y[a * Fn + f][(n - 1) * N1 + n] = s;
    }
    // noise (and the initial draw at n = 0): M diag(…) Mᵀ
    const Sn = wk.Sn;
    Sn.fill(0);
    if (n === 0) { for (let c = 0; c < V; c++) if (p.P.dyn[c]) Sn[c * V + c] = p.P.init[c].var; }
    else {
      for (let c = 0; c < V; c++) for (let d = 0; d < V; d++) {
        if (!p.P.dyn[c] || !p.P.dyn[d]) continue;
        let s = 0;
        for (let z = 0; z < Z; z++) {
          const cc = (1 - theta) * p.cn[((n - 1) * V + c) * Z + z] + theta * p.cn[(n * V + c) * Z + z];
          const cd = (1 - theta) * p.cn[((n - 1) * V + d) * Z + z] + theta * p.cn[(n * V + d) * Z + z];
          s += cc * cd * p.P.noiseD[z];
        }
        // ∫₀^h e^{(a*_c + a*_d) u} du, with the exponential trapezoid's normalization
        Sn[c * V + d] = s * noiseFactor(this.hAt(n), p.zs[n * V + c] + p.zs[n * V + d]) * p.chat[n * V + c] * p.chat[n * V + d];
      }
    }
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
      let s = 0;
      for (let c = 0; c < V; c++) { const Ac = p.A[a * V + c], Kb = p.K[b * V + c], off = n * N1; for (let k = aStart; k < n; k++) s += Ac[base + k] * Kb[off + k]; }
      if (n > 0) for (let f = 0; f < Fn; f++) s += p.UB1[(n * V + a) * Fn + f] * p.Y[b * Fn + f][(n - 1) * N1 + n];
      for (let q = 0; q < Q; q++) s += (p.UD0[(n * V + a) * Q + q] + p.UD1[(n * V + a) * Q + q]) * p.X[b * Q + q][n];
      for (let c = 0; c < V; c++) for (let d = 0; d < V; d++) { const x = Sn[c * V + d]; if (x !== 0) s += M[a * V + c] * x * M[b * V + d]; }
      wk.kbase[a * V + b] = s;
    }
  }

  /** column j: the fixed point K(n,j) → C(n,j) → Σ(j,n) → Y(n,j) → K(n,j), Gauss–Seidel over the populations */
  covColumnFixedPoint(n: number, j: number): void {
    const { N1, tn, pops, needSweeps, work } = this;
    let prev = Infinity;
    for (let it = 0; ; it++) {
      let change = 0, scale = 0;
      // Gauss–Seidel over the populations: each sees the others' new order parameters
      for (let pi = 0; pi < pops.length; pi++) {
        const p = pops[pi], wk = work[pi], { V, Fn } = p.P;
        this.fieldsAt(n, j, pi);
        for (let a = 0; a < V; a++) for (let f = 0; f < Fn; f++) {
          let s = wk.ypart[a * Fn + f];
          for (let g = 0; g < Fn; g++) { const Sg = p.S[g * Fn + f]; if (Sg) s += p.UB0[(j * V + a) * Fn + g] * Sg[j * N1 + n]; }
          p.Y[a * Fn + f][n * N1 + j] = s;
        }
        if (j < n) {
          for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
            let s = wk.rowK[a * V + b][j];
            for (let f = 0; f < Fn; f++) s += p.UB0[(n * V + a) * Fn + f] * p.Y[b * Fn + f][n * N1 + j];
            const old = p.K[a * V + b][n * N1 + j];
            change = Math.max(change, Math.abs(s - old)); scale = Math.max(scale, Math.abs(s));
            p.K[a * V + b][n * N1 + j] = s; p.K[b * V + a][j * N1 + n] = s;
          }
        } else {
          const knn = wk.knn;
          for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
            let s = wk.kbase[a * V + b];
            for (let f = 0; f < Fn; f++) s += p.UB0[(n * V + a) * Fn + f] * p.Y[b * Fn + f][n * N1 + n];
            knn[a * V + b] = s;
          }
          for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
            const s = 0.5 * (knn[a * V + b] + knn[b * V + a]), old = p.K[a * V + b][n * N1 + n];
            change = Math.max(change, Math.abs(s - old)); scale = Math.max(scale, Math.abs(s));
            p.K[a * V + b][n * N1 + n] = s;
          }
        }
        this.cAt(n, j, pi);
      }
      // (a first pass that leaves K unchanged may still have moved C, and with it the fields: at least two)
      if (it > 0 && change <= 1e-15 * scale) break;
      // the within-step sweeps repeat the whole row anyway: one pass per column and sweep
      if (needSweeps) break;
      if (it > 6 && change > 0.9 * prev) {
        if (change > 1e-9 * scale) throw new DmftError({ message: `the implicit covariance step does not converge at t = ${tn[n].toPrecision(4)} (the fields feed back on themselves at equal times too strongly)`, hint: 'try a smaller --dt' });
        break;
      }
      if (it >= 100) throw new DmftError({ message: `the implicit covariance step does not converge at t = ${tn[n].toPrecision(4)}`, hint: 'try a smaller --dt' });
      prev = change;
    }
  }

  /** step 6: the order parameters that need the final m(n), K(n,n) (and the nonlinear rows again with them, so that a sweep ends on a row consistent with its own m(n), K(n, ·)) */
  finishRow(n: number): void {
    const { N1, opList } = this;
    for (const o of opList) {
      if (!o.nl) continue;
      const mn = this.uMean(o, n), vn = Math.max(0, this.uCov(o, n, n));
      if (o.kind === 'M') o.v[n] = o.nl.mean(mn, vn);
      else if (o.kind === 'R') { o.dmean![n] = o.nl.dmean(mn, vn); this.rRow(o, n); }
      else {
        o.v[n * N1 + n] = this.hermOne(o, n);
        for (let j = 0; j < n; j++) { const c = this.mehler(o, n, j); o.v[n * N1 + j] = c; o.v[j * N1 + n] = c; }
      }
    }
  }

  /** cubic extrapolation of a per-time sequence to time n (constant at the start) */
  ex(at: (i: number) => number, n: number): number { return n >= 3 ? 3 * at(n - 1) - 3 * at(n - 2) + at(n - 3) : n >= 1 ? at(n - 1) : at(0); }

  /** the predictor of row n (its values start the within-step iteration) */
  predict(n: number): void {
    const { N1, pops, opList } = this;
    if (n === 0) return;
    for (const o of opList) {
      if (o.kind === 'M') { o.v[n] = this.ex((i) => o.v[i], n); if (o.dmean) o.dmean[n] = this.ex((i) => o.dmean![i], n); continue; }
      if (o.kind === 'R') { const b = tri(n), b1 = tri(n - 1); for (let j = 0; j <= n; j++) o.v[b + j] = o.v[b1 + Math.max(0, j - 1)]; if (o.dmean) o.dmean[n] = this.ex((i) => o.dmean![i], n); continue; }
      // quadratic extrapolation along the diagonal (the cusp of white noise lies along it), along t near s = 0
      const v = o.v;
      for (let j = 0; j <= n; j++) {
        if (n < 3) { const jj = Math.max(0, j - 1); v[n * N1 + j] = v[(n - 1) * N1 + jj]; v[j * N1 + n] = v[jj * N1 + n - 1]; continue; }
        if (j >= 3) {
          v[n * N1 + j] = 3 * v[(n - 1) * N1 + j - 1] - 3 * v[(n - 2) * N1 + j - 2] + v[(n - 3) * N1 + j - 3];
          v[j * N1 + n] = 3 * v[(j - 1) * N1 + n - 1] - 3 * v[(j - 2) * N1 + n - 2] + v[(j - 3) * N1 + n - 3];
        } else {
          v[n * N1 + j] = 3 * v[(n - 1) * N1 + j] - 3 * v[(n - 2) * N1 + j] + v[(n - 3) * N1 + j];
          v[j * N1 + n] = 3 * v[j * N1 + n - 1] - 3 * v[j * N1 + n - 2] + v[j * N1 + n - 3];
        }
      }
    }
    // the equal-time covariances (every pair of variables), read by nonlinear order parameters before they are solved
    for (const p of pops) for (const K of p.K) K[n * N1 + n] = this.ex((i) => K[i * N1 + i], n);
  }

  /** row n of the order parameters into `snap` (take) or the largest change against it, each against its running magnitude */
  rowPass(n: number, take: boolean): number {
    const { N1, opList, snap, opScale } = this;
    let at = 0, global = 0;
    if (!take) for (let oi = 0; oi < opList.length; oi++) global = Math.max(global, opScale[oi]);
    let worst = 0;
    for (let oi = 0; oi < opList.length; oi++) {
      const o = opList[oi], v = o.v;
      let lo = 0, hi = 0, stride = 1, lo2 = -1, stride2 = 0;
      if (o.kind === 'M') { lo = n; hi = n + 1; }
      else if (o.kind === 'R') { lo = tri(n); hi = lo + n + 1; }
      else { lo = n * N1; hi = lo + n + 1; lo2 = n; stride2 = N1; }
      let scale = opScale[oi], d = 0;
      for (let pass = 0; pass < 3; pass++) {
        // pass 0: the row (n, ·); pass 1: the column (·, n) of a C; pass 2: ⟨f'⟩ of a nonlinear R or M
        if (pass === 1 && lo2 < 0) continue;
        if (pass === 2 && !o.dmean) continue;
        const arr = pass === 2 ? o.dmean! : v;
        const first = pass === 0 ? lo : pass === 1 ? lo2 : n, cnt = pass === 0 ? hi - lo : pass === 1 ? n + 1 : 1, st = pass === 1 ? stride2 : stride;
        for (let k = 0; k < cnt; k++) {
          const x = arr[first + k * st];
          if (take) snap[at++] = x;
          else { const ax = Math.abs(x); if (ax > scale) scale = ax; const e = Math.abs(x - snap[at++]); if (!(e <= d)) d = e; }
        }
      }
      if (take) continue;
      opScale[oi] = scale;
      if (!Number.isFinite(d)) return Infinity;
      worst = Math.max(worst, d / Math.max(scale, 1e-4 * global, 1e-300));
    }
    return worst;
  }

  /** row n solved: the steps in causal order, repeated to the self-consistent row where needed; returns the number of sweeps */
  solveRow(n: number): number {
    const { pops, work, needSweeps, tn } = this;
    let s = 0, dPrev = Infinity;
    for (;;) {
      this.firstSweep = s === 0;
      if (needSweeps) this.rowPass(n, true);
      pops.forEach((p, pi) => this.coef(p, work[pi], n));
      this.diagonal(n);
      this.responseRow(n);
      this.sourcesAndMeans(n);
      this.covRow(n);
      this.finishRow(n);
      s++;
      if (!needSweeps) return s;
      const d = this.rowPass(n, false);
      if (d <= this.stepTol || !Number.isFinite(d)) return s;
      // stagnation at the level of the quadrature errors: accept, and report it
      if (d < 1e-7 && s >= 3 && d > 0.5 * dPrev) { this.residualMax = Math.max(this.residualMax, d); return s; }
      dPrev = d;
      if (s >= this.maxSweeps) {
        if (this.fixedSweeps) { this.residualMax = Math.max(this.residualMax, d); return s; }
        throw new DmftError({ message: `the within-step iteration did not converge at t = ${tn[n].toPrecision(4)} (change ${d.toExponential(2)} after ${s} sweeps)`, hint: 'try a smaller --dt' });
      }
    }
  }

  /** divergence at row n (the reason, or undefined), and the fastest damping rate of a dynamic variable so far (stiffness) */
  rowHealth(n: number): string | undefined {
    const { N1, tn, pops } = this;
    let diverged: string | undefined;
    for (const p of pops) {
      const { V } = p.P;
      for (let a = 0; a < V; a++) {
        const knn = p.K[a * V + a][n * N1 + n], mn = p.m[a][n];
        if (!Number.isFinite(knn) || !Number.isFinite(mn) || Math.abs(knn) > 1e200 || Math.abs(mn) > 1e100) {
          diverged = `variable ${unitName(p, a)}: ${Number.isFinite(knn) && Number.isFinite(mn) ? 'overflow' : 'non-finite values'} at t = ${tn[n].toPrecision(4)}`;
          break;
        }
        if (knn < -1e-8 * (1 + mn * mn)) { diverged = `variable ${unitName(p, a)}: negative variance ${knn.toExponential(2)} at t = ${tn[n].toPrecision(4)} (the time step is too large for the dynamics)`; break; }
        // a covariance must obey Cauchy–Schwarz: |K(t,s)|² ≤ K(t,t) K(s,s)
        const Kaa = p.K[a * V + a], tol = 1e-9 * (1 + Math.abs(knn));
        for (let j = 0; j < n && !diverged; j++) {
          const kjj = Kaa[j * N1 + j], knj = Kaa[n * N1 + j];
          if (knj * knj > Math.max(0, knn) * Math.max(0, kjj) * (1 + 1e-7) + tol * (1 + Math.abs(kjj))) diverged = `variable ${unitName(p, a)}: the covariance violates Cauchy–Schwarz at t = ${tn[n].toPrecision(4)}, s = ${tn[j].toPrecision(4)} (the time step is too large for the dynamics)`;
        }
        if (diverged) break;
        // a stiff variable matters only where its correlations feed back (its population has order parameters)
        const rate = -p.own[n * V + a];
        if (p.P.dyn[a] && p.P.ops.length > 0 && rate > 0 && rate * this.hAt(n) > this.stiffness.value) this.stiffness = { value: rate * this.hAt(n), variable: unitName(p, a), rate };
      }
      if (diverged) break;
    }
    return diverged;
  }
}

/** One grid: row by row, the predictor, the self-consistent row, its health check. */
export function runLevelVector(plan: Plan, h: number, N: number, lo: LevelOptions): LevelData {
  const lv = new Level(plan, h, N, lo);
  let sweepsMax = 0, sweepsTotal = 0, last = N;
  let diverged: string | undefined;
  const reportEvery = Math.max(1, Math.floor(N / 50));
  for (let n = 0; n <= N; n++) {
    lv.predict(n);
    const s = lv.solveRow(n);
    sweepsMax = Math.max(sweepsMax, s); sweepsTotal += s;
    diverged = lv.rowHealth(n);
    if (diverged) { last = n - 1; break; }
    if (lo.progress && n % reportEvery === 0) lo.progress(n / N);
  }
  const pops = lv.pops;
  const units = pops.flatMap((p) => p.P.r.variables.map((_, a) => ({ m: p.m[a], K: p.K[a * p.P.V + a], Xq: p.P.r.quenched.map((__, q) => p.X[a * p.P.Q + q]) })));
  return {
    h, N, t: lv.tn, last, diverged, sweepsMax, sweepsMean: sweepsTotal / Math.max(1, last + 1), residualMax: lv.residualMax, fallbackPairs: lv.fallbackPairs, stiffness: lv.stiffness,
    pops: units, vector: pops,
  };
}
