// The static map of vector sites for the static driver (static-driver.ts):
// the long-time fixed point of relaxational
// dynamics whose sites carry several variables (states and lets) driven by
// correlated Gaussian fields — read from the derived DmftSystem alone
// (docs/solve.md, "The static cavity of vector sites").
//
// At a fixed point every order parameter is frozen. The fields of a
// population form a static Gaussian vector η with covariance V_kl (the field
// covariances on the diagonal, the cross-covariances off it, both evaluated on
// the static C order parameters); each memory integral ∫R(t,s) g(x(s)) ds
// becomes χ·g(x) with χ the static susceptibility (the R order parameter,
// instantaneous part included); each mean-field slot its static value. Given
// (η, quenched inputs) the site's variables solve
//   G_a(x) = F_a(x, …) = 0     (state a)       x_a = F_a(x, …)   (let a),
// found by pseudo-transient continuation from the initial condition (damped
// steps of the flow that become Newton steps near the root, so the root is the
// one the flow reaches in the common case); the root must be stable: the
// states' Jacobian with the lets eliminated (Schur complement) has every
// eigenvalue in the left half plane. Order parameters close self-consistently:
//   C[f,g] = ⟨f(x*) g(x*)⟩, M[f] = ⟨f(x*)⟩, R[f|η_k] = ⟨∇f · ∂x*/∂η_k⟩,
// ∂x*/∂η_k = −J⁻¹ ∂G/∂η_k (J = ∂G/∂x at the root, memory terms included).
// Averages are tensor Gauss–Hermite rules over the Gaussian inputs (fields
// through the Cholesky factor of V, normal quenched inputs) and the exact or
// Gauss–Legendre rules of the others. An affine site has x* affine in its
// inputs, so a few nodes are exact; otherwise the rule is refined until one
// more level changes no integral by more than QUAD_TOL, and the error bar is
// the change of the observables when the fixed point is solved again one level
// finer. The scalar site is the 1×1 case of these equations; the scalar
// evaluator (static-scalar.ts) keeps its own quadratures (split at kinks,
// bounds, a widening z-range), which this file does not take yet: bounds and
// kinked functions in a vector site are refused with the reason.
//
// Stability (as in the scalar solver, in matrix form):
//  - site: every node's root is stable (above);
//  - fluctuation mode: a static perturbation δV of the field covariances moves
//    C[f,g] by Σ_kl ⟨(∇f·∂x*/∂η_k)(∇g·∂x*/∂η_l)⟩ δV_kl, and δV_kl by
//    Σ ∂V_kl/∂C δC: the spectral radius of that map on the C order parameters
//    must be below 1;
//  - mean mode: the eigenvalues of ∂⟨f⟩/∂M below 1 (real part).
// An eigenvalue at 1 within the accuracy of the computation is marginal.
// Zero modes (a fixed-point manifold: gradient flow with more parameters than
// data): the driver's proximal continuation, a term −ε(x − x(0)) on every
// state (x(0) drawn per node), continued to ε → 0 and extrapolated.
// Nothing here knows any particular model.
import { driveStatic, NoFixedPoint, resid, Unsupported, type SiteAssessment, type StaticOutcome, type StaticSite } from './static-driver.ts';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import { choleskySemidefinite, solveDense } from '../numeric/linalg.ts';
import { gaussHermite, gaussLegendre } from '../numeric/rules.ts';
import { kinkArgs } from '../numeric/kinks.ts';
import type { PopReading, SystemReading, OrderReading } from './read.ts';
import type { SolveOptions } from './types.ts';
import { table } from '../table.ts';


/** Gauss–Hermite nodes per Gaussian dimension at each refinement level (nonlinear sites) */
const LEVELS = [12, 20, 32, 48, 64, 96];
/** one more level may change no integral of the map by more than this (relative, floor MAP_FLOOR) */
const QUAD_TOL = 1e-10;
const MAP_FLOOR = 1e-4;
/** largest number of nodes of one population's rule */
const MAX_NODES = 300000;

const opSlot = (i: number) => `__op${i}`;

/** One dimension of a population's quadrature: a standard normal (the Gaussian block) or another input's law. */
type Dim = { kind: 'gauss' } | { kind: 'q'; q: number; law: 'uniform' | 'bernoulli'; values: number[] };

interface Plan {
  r: PopReading;
  nV: number;
  dyn: boolean[];
  /** positions in r.slots */
  fieldPos: number[];
  qPos: number[];
  meanPos: number[];
  meanOp: number[];
  memPos: number[];
  memOp: number[];
  /** field covariance entries V[k][l] over the op slots, with their ∂/∂C (C op index → compiled) */
  V: { k: number; l: number; f: Compiled; d: { op: number; f: Compiled }[] }[];
  /** normal quenched inputs: [index into r.quenched, mean, sd] */
  qNormal: { q: number; mean: number; sd: number }[];
  /** other quenched inputs (own rules) */
  qOther: Dim[];
  /** initial condition per variable: mean and sd as functions of [quenched…] (states only; lets have none) */
  init: { mean: Compiled; sd: Compiled }[];
  /** ops of this population */
  ops: { op: number; o: OrderReading; kind: 'C' | 'M' | 'R'; slotField: number }[];
  avgs: { obs: number; a: number; F: Compiled; slots: number }[];
  /** nodes per Gaussian dimension when the site is affine and its integrands polynomial (exact) */
  poly?: number;
}

interface PopEval {
  /** op values (indexed by global op index; only this population's entries set) */
  ops: Map<number, number>;
  /** ⟨D^f_k D^g_l⟩ per C op of this population: [k*nF + l] */
  stab: Map<number, Float64Array>;
  /** ∂⟨f⟩/∂(mean slot s): per M op, per mean slot */
  meanB: Map<number, Float64Array>;
  avgs: Float64Array;
  unstable: number;
  singular: number;
  /** every integral, for the convergence test */
  all: number[];
}
interface Eval { pops: PopEval[]; next: Float64Array }

export class VectorStaticModel {
  readonly rd: SystemReading;
  readonly params: Record<string, number>;
  readonly opNames: string[];
  readonly plans: Plan[];
  evals = 0;
  /** the roots of the last evaluation, node by node, per population and rule: the next evaluation
   *  (the order parameters moved a little) follows each root from there (continuation of the branch
   *  first reached from the initial condition) */
  private roots = new Map<string, Float64Array[]>();
  /** refinement level per population (nonlinear sites) */
  level: number[];

  constructor(rd: SystemReading) {
    this.rd = rd;
    this.params = rd.params;
    const sys = rd.sys;
    this.opNames = sys.orderParams.map((o) => o.name);
    const opIndex = new Map(this.opNames.map((n, i) => [n, i]));
    const opSlots = this.opNames.map((_, i) => opSlot(i));
    const toOps = (e: Expr, what: string) => mapPost(e, (x) => {
      if (x.k !== 'op') return x;
      const i = opIndex.get(x.name);
      if (i === undefined) throw new Unsupported(`${what} uses ${x.name}, which is not an order parameter`);
      return sym(opSlot(i));
    });
    const num = (e: Expr, what: string) => {
      const v = constantValue(e, this.params);
      if (v === undefined || !Number.isFinite(v)) throw new Unsupported(`${what} (${print(e)}) is not a finite number`);
      return v;
    };
    this.plans = rd.pops.map((r): Plan => {
      if (r.noises.length) throw new Unsupported(`population ${r.name} is driven by white noise (${r.noises.map((n) => n.name).join(', ')}): its long-time state is stationary, not static — use the stationary solver`);
      for (const v of r.variables) {
        if (some(v.rhs, (x) => x.k === 'sym' && x.name === 't')) throw new Unsupported(`the equation of ${v.name} depends explicitly on time: no static fixed point`);
        if (v.lower !== undefined || v.upper !== undefined) throw new Unsupported(`the variable ${v.name} of the vector site ${r.name} is bounded: bounds in a vector site are not supported by the static solver yet`);
        if (kinkArgs(v.rhs).length) throw new Unsupported(`the equation of ${v.name} has a kink or a jump (${print(kinkArgs(v.rhs)[0])} = 0): kinked functions in a vector site are not supported by the static solver yet`);
      }
      const pos = (n: string) => r.slots.indexOf(n);
      const nF = r.fields.length;
      const V: Plan['V'] = [];
      const entry = (k: number, l: number, cov: Expr, what: string) => {
        const e = toOps(cov, what);
        const d: { op: number; f: Compiled }[] = [];
        sys.orderParams.forEach((o, i) => {
          if (o.kind === 'C' && some(e, (x) => x.k === 'sym' && x.name === opSlot(i))) d.push({ op: i, f: compile(diff(e, isVar(opSlot(i))), opSlots, this.params) });
        });
        V.push({ k, l, f: compile(e, opSlots, this.params), d });
      };
      r.pop.fields.forEach((f, k) => entry(k, k, f.cov, `the covariance of ${f.name}`));
      r.cross.forEach((c) => entry(c.a, c.b, c.cov, `the covariance of ${r.fields[c.a]} and ${r.fields[c.b]}`));
      const qNormal: Plan['qNormal'] = [], qOther: Dim[] = [];
      r.quenched.forEach((q, j) => {
        const d = q.input.dist;
        if (d.kind === 'normal') qNormal.push({ q: j, mean: num(d.mean, `the mean of ${q.name}`), sd: Math.sqrt(Math.max(0, num(d.var, `the variance of ${q.name}`))) });
        else if (d.kind === 'uniform') qOther.push({ kind: 'q', q: j, law: 'uniform', values: [num(d.lo, `the lower end of ${q.name}`), num(d.hi, `the upper end of ${q.name}`)] });
        else if (d.kind === 'bernoulli') qOther.push({ kind: 'q', q: j, law: 'bernoulli', values: [num(d.p, `the probability of ${q.name}`)] });
        else throw new Unsupported(`the quenched input ${q.name} has a ${d.kind} distribution, which has no static quadrature`);
      });
      const qNames = r.quenched.map((q) => q.name);
      const qSlotsOf = (e: Expr) => mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 ? sym(x.name) : x));
      const init = r.variables.map((v) => {
        const zero = compile({ k: 'num', v: 0 }, qNames, this.params);
        if (v.kind === 'algebraic' || !v.init) return { mean: zero, sd: zero };
        if (v.init.kind === 'value') return { mean: compile(qSlotsOf(v.init.value), qNames, this.params), sd: zero };
        const d = v.init.dist;
        // x(0) is needed node by node (the start, the proximal continuation)
        if (d.kind !== 'normal') throw new Unsupported(`the initial law of ${v.name} is ${d.kind}: the static solver of vector sites takes normal or fixed initial conditions`);
        return { mean: compile(qSlotsOf(d.mean), qNames, this.params), sd: compile({ k: 'call', fn: 'sqrt', args: [qSlotsOf(d.var)] } as Expr, qNames, this.params) };
      });
      const ops: Plan['ops'] = [];
      sys.orderParams.forEach((o, i) => {
        if (o.pop !== r.pop.name) return;
        const rd0 = rd.orders.get(o.name)!;
        for (const fn of [rd0.f, rd0.g?.f]) if (fn && kinkArgs(fn).length) throw new Unsupported(`the order parameter ${o.name} has a kink or a jump: kinked functions in a vector site are not supported by the static solver yet`);
        const slotField = o.kind === 'R' ? r.fields.indexOf(o.slot ?? '') : -1;
        if (o.kind === 'R' && slotField < 0) throw new Unsupported(`the response ${o.name} is to '${o.slot}', which is not a field of population ${r.name}`);
        ops.push({ op: i, o: rd0, kind: o.kind as 'C' | 'M' | 'R', slotField });
      });
      const avgs: Plan['avgs'] = [];
      rd.observables.forEach((ob, oi) => {
        if (ob.def.times.length > 1) return;
        ob.averages.forEach((a, ai) => { if (a.pop === r.name) avgs.push({ obs: oi, a: ai, F: a.F, slots: a.slots.length }); });
      });
      // affine site, no bounds: x* affine in every input; polynomial integrands of degree P need ⌊P/2⌋ + 1 nodes
      let poly: number | undefined;
      const inputSlots = [...r.variables.map((v) => v.name), ...qNames];
      const isIn = (x: Expr) => x.k === 'sym' && inputSlots.includes(x.name);
      if (r.affine) {
        let P = 2;
        let ok = true;
        for (const { o } of ops) for (const fn of [o.f, o.g?.f]) {
          if (!fn) continue;
          const d = degree(fn, isIn);
          if (!Number.isFinite(d)) ok = false; else P = Math.max(P, 2 * d);
        }
        rd.observables.forEach((ob) => ob.averages.forEach((a) => {
          if (a.pop !== r.name) return;
          const d = degree(a.body, (x) => x.k === 'sym' && a.slots.includes(x.name));
          if (!Number.isFinite(d)) ok = false; else P = Math.max(P, d);
        }));
        for (const m of r.memory) { const d = degree(m.g, isIn); if (!(d <= 1)) ok = false; }
        if (ok) poly = Math.floor(P / 2) + 1;
      }
      for (const a of avgs) if (kinkArgs(rd.observables[a.obs].averages[a.a].body).length && poly === undefined) throw new Unsupported(`the observable ${rd.observables[a.obs].def.name} has a kink or a jump: kinked functions in a vector site are not supported by the static solver yet`);
      return {
        r, nV: r.variables.length, dyn: r.variables.map((v) => v.kind === 'dynamic'),
        fieldPos: r.fields.map(pos), qPos: qNames.map(pos),
        meanPos: r.means.map((m) => pos(m.slot)), meanOp: r.means.map((m) => { const i = opIndex.get(m.M); if (i === undefined) throw new Unsupported(`the mean field ${m.M} is not an order parameter`); return i; }),
        memPos: r.memory.map((m) => pos(m.slot)), memOp: r.memory.map((m) => { const i = opIndex.get(m.R); if (i === undefined) throw new Unsupported(`the memory kernel ${m.R} is not an order parameter`); return i; }),
        V, qNormal, qOther, init, ops, avgs, ...(poly !== undefined ? { poly } : {}),
      };
    });
    this.level = this.plans.map(() => 0);
  }

  /** does a mean field feed back into the dynamics? */
  meanFeedback(): boolean { return this.plans.some((p) => p.meanPos.length > 0); }

  /** nodes per Gaussian dimension of population p at a level offset */
  nodes(p: number, up: number): number {
    const pl = this.plans[p];
    return pl.poly !== undefined ? pl.poly + up : LEVELS[Math.min(LEVELS.length - 1, this.level[p] + up)];
  }

  /**
   * One evaluation of the static map at op values `v`: every population's
   * averages at (proximal) ε, with its rule `up` levels finer than the current.
   * `start`: the order parameters of the initial condition (x = x(0), no response).
   */
  evaluate(v: Float64Array, eps: number, up = 0, start = false): Eval {
    this.evals++;
    const next = Float64Array.from(v);
    const pops = this.plans.map((pl, p) => this.evalPop(pl, p, v, eps, this.nodes(p, up), start, next));
    return { pops, next };
  }

  private evalPop(pl: Plan, p: number, v: Float64Array, eps: number, nGH: number, start: boolean, next: Float64Array): PopEval {
    const r = pl.r, nV = pl.nV, nF = r.fields.length, nq = r.quenched.length;
    // field covariance and its factor
    const Vm = Array.from({ length: nF }, () => new Array<number>(nF).fill(0));
    for (const e of pl.V) { const x = e.f(v); Vm[e.k][e.l] = x; Vm[e.l][e.k] = x; }
    for (let k = 0; k < nF; k++) if (!(Vm[k][k] >= -1e-12 * Math.max(1, ...Vm.map((row) => Math.abs(row[k]))))) throw new NoFixedPoint(`the variance of the field ${r.fields[k]} is negative (${Vm[k][k].toPrecision(3)})`);
    const L = choleskySemidefinite(Vm.map((row, k) => row.map((x, l) => (k === l ? Math.max(0, x) : x))));
    // Gaussian block: field columns with a nonzero entry, normal quenched inputs with sd > 0, initial
    // conditions with sd > 0 where x(0) matters (the proximal term, the start)
    const fCols = Array.from({ length: nF }, (_, c) => c).filter((c) => L.some((row) => row[c] !== 0));
    const qG = pl.qNormal.filter((q) => q.sd > 0);
    const needInit = eps > 0 || start;
    const initDims = needInit ? pl.init.map((_, a) => a).filter((a) => pl.dyn[a]) : [];
    // an initial sd that depends on quenched inputs is evaluated node by node; a dimension is kept
    // when it can be nonzero anywhere (tested at the inputs' means)
    const initG = initDims.filter((a) => r.variables[a].init?.kind === 'dist');
    const dG = fCols.length + qG.length + initG.length;
    const gh = gaussHermite(nGH);
    const otherRules = pl.qOther.map((d) => {
      if (d.kind !== 'q') throw new Error('unreachable');
      if (d.law === 'bernoulli') return { x: [0, 1], w: [1 - d.values[0], d.values[0]] };
      const g = gaussLegendre(Math.max(8, 2 * nGH));
      const [a, b] = d.values;
      return { x: Array.from(g.x, (u) => a + ((b - a) * (u + 1)) / 2), w: Array.from(g.w, (w) => w / 2) };
    });
    const total = gh.x.length ** dG * otherRules.reduce((acc, ru) => acc * ru.x.length, 1);
    if (total > MAX_NODES) throw new Unsupported(`population ${r.name}: a rule of ${nGH} nodes in each of ${dG} Gaussian dimensions is ${total} nodes, beyond ${MAX_NODES}`);

    const buf = new Float64Array(r.slots.length);
    const gbuf = new Float64Array(nV + nq);
    const qbuf = new Float64Array(nq);
    const obsBuf = new Float64Array(2 * nV + nq);
    pl.meanPos.forEach((p, s) => { buf[p] = v[pl.meanOp[s]]; });
    const chi = pl.memOp.map((i) => v[i]);
    const ops = new Map<number, number>();
    for (const o of pl.ops) ops.set(o.op, 0);
    const cOps = pl.ops.filter((o) => o.kind === 'C'), mOps = pl.ops.filter((o) => o.kind === 'M');
    const stab = new Map(cOps.map((o) => [o.op, new Float64Array(nF * nF)]));
    const meanB = new Map(mOps.map((o) => [o.op, new Float64Array(pl.meanPos.length)]));
    const avgs = new Float64Array(pl.avgs.length);
    let unstable = 0, singular = 0;
    const x0 = new Float64Array(nV), x = new Float64Array(nV);
    const eta = new Float64Array(nF);
    const idx = new Int32Array(dG + otherRules.length);
    const setG = () => { for (let a = 0; a < nV; a++) gbuf[a] = x[a]; for (let j = 0; j < nq; j++) gbuf[nV + j] = buf[pl.qPos[j]]; };
    const setX = () => { for (let a = 0; a < nV; a++) buf[a] = x[a]; setG(); for (let m = 0; m < pl.memPos.length; m++) buf[pl.memPos[m]] = chi[m] * r.memory[m].gF(gbuf); };
    /** G and J = ∂G/∂x at x (memory terms through the chain rule; proximal term on states) */
    const G = new Float64Array(nV);
    const J = Array.from({ length: nV }, () => new Array<number>(nV).fill(0));
    const dGdx = () => {
      setX();
      for (let a = 0; a < nV; a++) {
        const va = r.variables[a];
        G[a] = va.F(buf) - (pl.dyn[a] ? eps * (x[a] - x0[a]) : x[a]);
        for (let b = 0; b < nV; b++) {
          let d = va.dF[r.variables[b].name](buf);
          r.memory.forEach((m, k) => { const dm = va.dF[m.slot]; if (dm) d += dm(buf) * chi[k] * m.dg[b](gbuf); });
          J[a][b] = d - (a === b ? (pl.dyn[a] ? eps : 1) : 0);
        }
      }
    };
    const norm = (y: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i])); return s; };
    /** the root the flow reaches from x0: pseudo-transient continuation (states follow the flow, lets solved) */
    const root = (warm?: Float64Array) => {
      for (let a = 0; a < nV; a++) x[a] = warm ? warm[a] : x0[a];
      let tau = warm ? 1e3 : 0.5;
      dGdx();
      let res = norm(G);
      for (let it = 0; it < 400; it++) {
        const scale = 1 + norm(x);
        if (res <= 1e-13 * scale) {
          // one plain Newton step polishes the root to rounding (quadratic convergence; exact for an affine site)
          const dx = solveDense(J.map((row) => row.map((y) => -y)), Array.from(G));
          if (dx && dx.every(Number.isFinite)) { for (let a = 0; a < nV; a++) x[a] += dx[a]; dGdx(); }
          return true;
        }
        const A = J.map((row, a) => row.map((y, b) => (a === b && pl.dyn[a] ? 1 / tau : 0) - y));
        const dx = solveDense(A, Array.from(G));
        if (!dx || !dx.every(Number.isFinite)) return false;
        const keep = Float64Array.from(x);
        for (let a = 0; a < nV; a++) x[a] += dx[a];
        dGdx();
        const r2 = norm(G);
        if (!(r2 <= res * 1.5) || !Number.isFinite(r2)) { for (let a = 0; a < nV; a++) x[a] = keep[a]; dGdx(); tau /= 4; if (tau < 1e-12) return false; continue; }
        tau = r2 < res ? Math.min(tau * 4, 1e12) : tau;
        res = r2;
      }
      return res <= 1e-10 * (1 + norm(x));
    };

    const dxdEta = Array.from({ length: nF }, () => new Float64Array(nV));
    const dxdM = Array.from({ length: pl.meanPos.length }, () => new Float64Array(nV));
    const grads = pl.ops.map(() => new Float64Array(nV));
    const node = (w: number) => {
      // x(0) at the node (its mean, or the Gaussian draw when that dimension is in the rule)
      for (let j = 0; j < nq; j++) qbuf[j] = buf[pl.qPos[j]];
      for (let a = 0; a < nV; a++) x0[a] = pl.init[a].mean(qbuf);
      initG.forEach((a, j) => { x0[a] += pl.init[a].sd(qbuf) * gh.x[idx[fCols.length + qG.length + j]]; });
      if (start) {
        for (let a = 0; a < nV; a++) x[a] = x0[a];
        // lets are solved at x(0) of the states
        if (pl.dyn.some((d) => !d)) {
          for (let it = 0; it < 100; it++) {
            setX();
            let ch = 0;
            for (let a = 0; a < nV; a++) if (!pl.dyn[a]) { const y = r.variables[a].F(buf); ch = Math.max(ch, Math.abs(y - x[a])); x[a] = y; }
            if (ch < 1e-13) break;
          }
        }
        setX();
        for (const o of pl.ops) {
          const f = o.o.F(gbuf);
          ops.set(o.op, ops.get(o.op)! + w * (o.kind === 'M' ? f : o.kind === 'C' ? f * (o.o.g ? o.o.g.F(gbuf) : f) : 0));
        }
        return;
      }
      const my = nodeNo++;
      const warm = cache?.[my];
      if (!root(warm) && !(warm && root())) throw new NoFixedPoint(`the single-site fixed point of population ${r.name} was not found at a node of the frozen fields (the flow runs away or a Newton step is singular)`);
      fresh[my] = Float64Array.from(x);
      dGdx();
      // stability of the states' flow with the lets eliminated: J_ss − J_sl J_ll⁻¹ J_ls
      const S = pl.dyn.map((d, a) => (d ? a : -1)).filter((a) => a >= 0), Lt = pl.dyn.map((d, a) => (d ? -1 : a)).filter((a) => a >= 0);
      let schur = S.map((a) => S.map((b) => J[a][b]));
      if (Lt.length && S.length) {
        const Jll = Lt.map((a) => Lt.map((b) => J[a][b]));
        const cols = S.map((b) => solveDense(Jll, Lt.map((a) => J[a][b])));
        if (cols.some((c) => !c)) { singular += w; return; }
        schur = S.map((a) => S.map((b, j) => J[a][b] - Lt.reduce((acc, l, k) => acc + J[a][l] * cols[j]![k], 0)));
      }
      if (S.length && maxRe(schur) >= -1e-12) unstable += w;
      // ∂x/∂η_k and ∂x/∂M_s: −J⁻¹ ∂G/∂(slot)
      const Jm = J;
      for (let k = 0; k < nF; k++) {
        const rhs = r.variables.map((va) => -(va.dF[r.fields[k]]?.(buf) ?? 0));
        const s = solveDense(Jm, rhs);
        if (!s) { singular += w; return; }
        for (let a = 0; a < nV; a++) dxdEta[k][a] = s[a];
      }
      for (let s0 = 0; s0 < pl.meanPos.length; s0++) {
        // ∂F/∂(mean slot): differentiate numerically (mean slots are not stochastic slots of the reading)
        const p = pl.meanPos[s0], h = 1e-6 * Math.max(1, Math.abs(buf[p]));
        const base = r.variables.map((va) => va.F(buf));
        buf[p] += h;
        const up = r.variables.map((va) => va.F(buf));
        buf[p] -= h;
        const s = solveDense(Jm, up.map((u, a) => -(u - base[a]) / h));
        if (!s) { singular += w; return; }
        for (let a = 0; a < nV; a++) dxdM[s0][a] = s[a];
      }
      setG();
      pl.ops.forEach((o, j) => {
        const gr = grads[j];
        for (let a = 0; a < nV; a++) gr[a] = o.o.df[a](gbuf);
        const f = o.o.F(gbuf);
        let val: number;
        if (o.kind === 'M') val = f;
        else if (o.kind === 'C') val = f * (o.o.g ? o.o.g.F(gbuf) : f);
        else { val = 0; for (let a = 0; a < nV; a++) val += gr[a] * dxdEta[o.slotField][a]; }
        ops.set(o.op, ops.get(o.op)! + w * val);
      });
      cOps.forEach((o) => {
        const gr = grads[pl.ops.indexOf(o)];
        const gg = o.o.g ? Array.from({ length: nV }, (_, a) => o.o.g!.df[a](gbuf)) : gr;
        const acc = stab.get(o.op)!;
        for (let k = 0; k < nF; k++) {
          let dk = 0;
          for (let a = 0; a < nV; a++) dk += gr[a] * dxdEta[k][a];
          for (let l = 0; l < nF; l++) {
            let dl = 0;
            for (let a = 0; a < nV; a++) dl += gg[a] * dxdEta[l][a];
            acc[k * nF + l] += w * dk * dl;
          }
        }
      });
      mOps.forEach((o) => {
        const gr = grads[pl.ops.indexOf(o)];
        const acc = meanB.get(o.op)!;
        for (let s0 = 0; s0 < pl.meanPos.length; s0++) { let d = 0; for (let a = 0; a < nV; a++) d += gr[a] * dxdM[s0][a]; acc[s0] += w * d; }
      });
      for (let a = 0; a < nV; a++) { obsBuf[a] = x[a]; obsBuf[nV + a] = x[a]; }
      for (let j = 0; j < nq; j++) obsBuf[2 * nV + j] = buf[pl.qPos[j]];
      pl.avgs.forEach((a, i) => { avgs[i] += w * a.F(obsBuf); });
    };

    // the tensor rule: Gaussian dimensions (fields through L, normal inputs, initial draws), then the others
    const nG = gh.x.length;
    const walk = (d: number, w: number) => {
      if (d === dG + otherRules.length) {
        for (let k = 0; k < nF; k++) { let s = 0; fCols.forEach((c, j) => { s += L[k][c] * gh.x[idx[j]]; }); eta[k] = s; buf[pl.fieldPos[k]] = s; }
        for (const q of pl.qNormal) buf[pl.qPos[q.q]] = q.mean;
        qG.forEach((q, j) => { buf[pl.qPos[q.q]] = q.mean + q.sd * gh.x[idx[fCols.length + j]]; });
        pl.qOther.forEach((dd, j) => { if (dd.kind === 'q') buf[pl.qPos[dd.q]] = otherRules[j].x[idx[dG + j]]; });
        node(w);
        return;
      }
      const n = d < dG ? nG : otherRules[d - dG].x.length;
      for (let i = 0; i < n; i++) {
        idx[d] = i;
        const wi = d < dG ? gh.w[i] : otherRules[d - dG].w[i];
        if (wi === 0) continue;
        walk(d + 1, w * wi);
      }
    };
    const key = `${p}:${nGH}:${dG}:${otherRules.map((o) => o.x.length).join(',')}`;
    const cache = start ? undefined : this.roots.get(key);
    const fresh: Float64Array[] = [];
    let nodeNo = 0;
    walk(0, 1);
    if (!start) this.roots.set(key, fresh);
    for (const [op, val] of ops) next[op] = val;
    const all = [...ops.values(), ...avgs, ...[...stab.values()].flatMap((a) => Array.from(a)), ...[...meanB.values()].flatMap((a) => Array.from(a))];
    return { ops, stab, meanB, avgs, unstable, singular, all };
  }

  observables(ev: Eval): Record<string, number> {
    const out: Record<string, number> = table();
    this.rd.observables.forEach((ob, oi) => {
      if (ob.def.times.length > 1) return;
      const slots = new Float64Array(ob.averages.length);
      this.plans.forEach((pl, p) => pl.avgs.forEach((a, i) => { if (a.obs === oi) slots[a.a] = ev.pops[p].avgs[i]; }));
      out[ob.def.name] = ob.outer(slots);
    });
    return out;
  }
}

function maxRe(A: number[][]): number {
  if (!A.length) return -Infinity;
  if (A.length === 1) return A[0][0];
  return Math.max(...new EigenvalueDecomposition(new Matrix(A)).realEigenvalues);
}
function spectral(A: number[][]): { mod: number; re: number } {
  if (!A.length) return { mod: 0, re: -Infinity };
  const ed = new EigenvalueDecomposition(new Matrix(A));
  let mod = 0, re = -Infinity;
  ed.realEigenvalues.forEach((x, i) => { mod = Math.max(mod, Math.hypot(x, ed.imaginaryEigenvalues[i])); re = Math.max(re, x); });
  return { mod, re };
}


interface Solved { vals: Float64Array; ev: Eval; residual: number; iterations: number }

/**
 * The self-consistent fixed point at ε: damped iteration of the map, then
 * Newton on the order parameters (Jacobian by differences) when the iteration
 * is slow. Throws NoFixedPoint when neither converges.
 */
function solveAt(m: VectorStaticModel, v0: Float64Array, eps: number, tol: number, up = 0): Solved {
  let v = Float64Array.from(v0);
  let ev = m.evaluate(v, eps, up);
  let r = resid(v, ev.next);
  let damp = 1, iterations = 0;
  for (; iterations < 60 && r > tol; iterations++) {
    const nv = v.map((x, i) => (1 - damp) * x + damp * ev.next[i]);
    let e2: Eval;
    try { e2 = m.evaluate(nv, eps, up); } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; damp /= 2; if (damp < 1e-3) break; continue; }
    const r2 = resid(nv, e2.next);
    if (!(r2 < r) && damp > 0.05) { damp /= 2; }
    const ratio = r2 / r;
    v = nv; ev = e2; r = r2;
    if (ratio < 0.5) damp = Math.min(1, damp * 1.5);
    // a slow or oscillating iteration (a loop gain near −1 between populations): Newton does better
    else if (iterations >= 4 && r < 1) break;
  }
  // Newton on H(v) = Φ(v) − v
  for (let it = 0; it < 40 && r > tol; it++, iterations++) {
    const n = v.length;
    const H0 = ev.next.map((x, i) => x - v[i]);
    const Jc: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let j = 0; j < n; j++) {
      const h = 1e-7 * Math.max(1e-3, Math.abs(v[j]));
      const vp = Float64Array.from(v); vp[j] += h;
      const ep = m.evaluate(vp, eps, up);
      for (let i = 0; i < n; i++) Jc[i][j] = (ep.next[i] - vp[i] - H0[i]) / h;
    }
    const step = solveDense(Jc, Array.from(H0, (x) => -x));
    if (!step) throw new NoFixedPoint('the self-consistency equations are singular at the current point (Newton step)');
    let lam = 1, done = false;
    for (let k = 0; k < 12; k++, lam /= 2) {
      const nv = v.map((x, i) => x + lam * step[i]);
      try {
        const e2 = m.evaluate(nv, eps, up);
        const r2 = resid(nv, e2.next);
        if (r2 < r) { v = nv; ev = e2; r = r2; done = true; break; }
      } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; }
    }
    if (!done) break;
  }
  if (!(r <= Math.max(tol, 1e-7)) || !v.every(Number.isFinite)) throw new NoFixedPoint(`the self-consistent iteration does not converge (residual ${r.toExponential(2)})`);
  return { vals: v, ev, residual: r, iterations };
}

/** Refine each nonlinear population's rule until one more level changes no integral by more than QUAD_TOL. */
function refine(m: VectorStaticModel, sol: Solved, eps: number, tol: number): Solved {
  let cur = sol;
  for (let round = 0; round < LEVELS.length; round++) {
    const fine = m.evaluate(cur.vals, eps, 1);
    let changed = false;
    m.plans.forEach((pl, p) => {
      if (pl.poly !== undefined || m.level[p] + 1 >= LEVELS.length) return;
      const a = cur.ev.pops[p].all, b = fine.pops[p].all;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(MAP_FLOOR, Math.abs(a[i]), Math.abs(b[i])));
      if (worst > QUAD_TOL) { m.level[p]++; changed = true; }
    });
    if (!changed) break;
    cur = solveAt(m, cur.vals, eps, tol);
  }
  return cur;
}

function assess(m: VectorStaticModel, vals: Float64Array, ev: Eval, eps: number): SiteAssessment {
  const sys = m.rd.sys;
  const cIdx = sys.orderParams.map((o, i) => (o.kind === 'C' ? i : -1)).filter((i) => i >= 0);
  const pos = new Map(cIdx.map((c, i) => [c, i]));
  const T = cIdx.map(() => new Array<number>(cIdx.length).fill(0));
  m.plans.forEach((pl, p) => {
    const nF = pl.r.fields.length;
    for (const [c, A] of ev.pops[p].stab) {
      for (const e of pl.V) {
        // V_kl and V_lk (the same entry) both move
        const wgt = e.k === e.l ? A[e.k * nF + e.l] : A[e.k * nF + e.l] + A[e.l * nF + e.k];
        for (const d of e.d) T[pos.get(c)!][pos.get(d.op)!] += wgt * d.f(vals);
      }
    }
  });
  const mIdx = sys.orderParams.map((o, i) => (o.kind === 'M' ? i : -1)).filter((i) => i >= 0);
  const mpos = new Map(mIdx.map((c, i) => [c, i]));
  const B = mIdx.map(() => new Array<number>(mIdx.length).fill(0));
  m.plans.forEach((pl, p) => {
    for (const [mo, row] of ev.pops[p].meanB) pl.meanOp.forEach((op, s) => { B[mpos.get(mo)!][mpos.get(op)!] += row[s]; });
  });
  let chiEps = 0;
  sys.orderParams.forEach((o, i) => { if (o.kind === 'R') chiEps = Math.max(chiEps, Math.abs(vals[i]) * eps); });
  return {
    rho: spectral(T).mod, meanEig: spectral(B).re,
    unstable: Math.max(0, ...ev.pops.map((p) => p.unstable)), singular: Math.max(0, ...ev.pops.map((p) => p.singular)), openJumps: 0, multistable: 0,
    limit: m.observables(ev), chiEps,
  };
}

// ---------------------------------------------------------------------------
// the site as the driver (static-driver.ts) reads it

export class VectorStaticSite implements StaticSite<Solved> {
  readonly opNames: string[];
  readonly opKinds: string[];
  readonly params: Record<string, number>;
  /** (floor: the rounding of the Newton solves, of the sums over the nodes and of the order-parameter solve) */
  readonly roundingFloor = { relative: 1e-12, absolute: 1e-15 };
  constructor(private readonly m: VectorStaticModel) {
    this.opNames = m.opNames;
    this.opKinds = m.rd.sys.orderParams.map((o) => o.kind);
    this.params = m.params;
  }
  /** @throws Unsupported when the system has no static map this site can evaluate */
  static of(rd: SystemReading): VectorStaticSite { return new VectorStaticSite(new VectorStaticModel(rd)); }
  get evals(): number { return this.m.evals; }
  start(): Float64Array { return this.m.evaluate(new Float64Array(this.m.opNames.length), 0, 0, true).next; }
  meanFeedback(): boolean { return this.m.meanFeedback(); }
  solve(v: Float64Array, eps: number, tol: number): Solved { return solveAt(this.m, v, eps, tol); }
  refine(sol: Solved, eps: number, tol: number): Solved { return refine(this.m, sol, eps, tol); }
  solveFiner(sol: Solved, eps: number): Solved { return solveAt(this.m, sol.vals, eps, 1e-13, 1); }
  observables(sol: Solved): Record<string, number> { return this.m.observables(sol.ev); }
  observablesFiner(sol: Solved, eps: number): Record<string, number> { return this.m.observables(this.m.evaluate(sol.vals, eps, 1)); }
  observablesStep(sol: Solved, eps: number): Record<string, number> { return this.m.observables(this.m.evaluate(sol.ev.next, eps)); }
  assess(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, sol.ev, eps); }
  assessFiner(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, this.m.evaluate(sol.vals, eps, 1), eps); }
  diagnostics(): Record<string, number | string | boolean> { return { quadratureNodes: JSON.stringify(this.m.plans.map((_, p) => this.m.nodes(p, 0))) }; }
}

/**
 * The t → ∞ fixed point with every site read as a vector site (any system: a
 * scalar site is the 1×1 case, without the scalar site's kinks and bounds).
 * `{ unsupported }` with the reason when it has none this solver can trust.
 */
export function solveStaticVector(rd: SystemReading, opts: SolveOptions): StaticOutcome {
  const t0 = performance.now();
  try { return driveStatic(VectorStaticSite.of(rd), { tol: opts.tol, method: 'static (vector sites)', t0 }); } catch (e) { if (e instanceof Unsupported) return { unsupported: e.message }; throw e; }
}
