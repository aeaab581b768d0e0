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
// one the flow reaches in the common case; always from x(0), never from the
// last evaluation's root, and an x(0) on an unstable equilibrium is left
// upwards, as the scalar evaluator does); the root must be stable: the
// states' Jacobian with the lets eliminated (Schur complement) has every
// eigenvalue in the left half plane. A random x(0) is checked at each node:
// the roots from its extreme draws must agree (otherwise several attractors:
// refused, the basins are not resolved). Order parameters close self-consistently:
//   C[f,g] = ⟨f(x*) g(x*)⟩, M[f] = ⟨f(x*)⟩, R[f|η_k] = ⟨∇f · ∂x*/∂η_k⟩,
// ∂x*/∂η_k = −J⁻¹ ∂G/∂η_k (J = ∂G/∂x at the root, memory terms included).
// Averages are tensor rules over the Gaussian inputs (fields through the
// Cholesky factor of V, normal quenched inputs; a normal input the site reads
// only through η_k + c·input is merged into that field) and the exact or
// Gauss–Legendre rules of the others. An affine site has x* affine in its
// inputs, so a few Gauss–Hermite nodes are exact; otherwise one Gaussian
// dimension takes the Gaussian trapezoid rule on a z-range that widens (as the
// scalar evaluator), several take Gauss–Hermite; the rule is refined until one
// more level changes no integral by more than QUAD_TOL, and the error bar is
// the change of the observables when the fixed point is solved again one level
// finer. The scalar site is the 1×1 case of these equations; the scalar
// evaluator (static-scalar.ts) still serves scalar sites: bounds, kinks and
// jumps (breakpoints and their δ terms) and non-normal initial laws are not
// here yet, and are refused with the reason.
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
import { driveStatic, NoFixedPoint, resid, spectralExtent, Unsupported, type SiteAssessment, type StaticOutcome, type StaticSite } from './static-driver.ts';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import { choleskySemidefinite, luSolveInPlace, solveDense } from '../numeric/linalg.ts';
import { gaussHermite, gaussLegendre, normalTrapezoid } from '../numeric/rules.ts';
import { kinkArgs } from '../numeric/kinks.ts';
import type { PopReading, SystemReading, OrderReading } from './read.ts';
import type { SolveOptions } from './types.ts';
import { table } from '../table.ts';
import { distArgs } from '../model/distributions.ts';


/**
 * The Gaussian block's rule of a nonlinear site: the Gaussian trapezoid rule in
 * each standard-normal coordinate on [−L, L], step TRAP_H0/2^level (nested: a
 * level keeps every node of the one below). A root x*(η) has branch points
 * near the real axis where its Jacobian nearly vanishes (a reaction term
 * cancelling the leak); at distance d the trapezoid rule converges like
 * e^{−2πd/h}, Gauss–Hermite only like e^{−c·d·√n}. L starts at TRAP_L and is
 * widened (×1.5, up to TRAP_L_MAX, where the normal weight underflows) while a
 * wider range changes the map: a fast-growing average (e^{aX} at large
 * variance) has mass beyond any fixed range. A block of several Gaussian
 * dimensions takes tensor Gauss–Hermite with GH_LEVELS nodes per dimension: a
 * tensor trapezoid rule has 37^d nodes at level 0, and each node is a root
 * solve (the two-unit site of bench/static-vector, d = 2: 2.4 → 9 s of CPU);
 * its error bar can then be too small near such branch points
 * (bench/RESULTS.md, "Static cavity: one evaluator").
 */
const TRAP_L = 9, TRAP_H0 = 0.5, TRAP_L_MAX = 38, MAX_LEVEL = 7;
const GH_LEVELS = [12, 20, 32, 48, 64, 96];
const wider = (L: number) => Math.min(TRAP_L_MAX, 1.5 * L);
const trapHalf = (level: number, L: number) => Math.round(L / TRAP_H0) << level;
/** one more level may change no integral of the map by more than this (relative, floor MAP_FLOOR) */
const QUAD_TOL = 1e-10;
const MAP_FLOOR = 1e-4;
/** largest number of nodes of one population's rule that refinement goes to */
const MAX_NODES = 300000;
/** largest rule evaluated at all (the error estimate's rule may pass MAX_NODES) */
const HARD_NODES = 4 * MAX_NODES;

/** The quadrature resolution of a population: its refinement level and its z-range. */
export interface Resolution { level: number; L: number }
/** the error-estimate resolution: one level finer and a wider z-range */
const oneFiner = (res: Resolution[]): Resolution[] => res.map((r) => ({ level: r.level + 1, L: wider(r.L) }));

/** A rule of a population past the node budget (internal: refinement skips it, an evaluation refuses it). */
class TooManyNodes extends Unsupported {}

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
  /** normal inputs merged into a field (nonlinear sites): the site reads them only through η_k + c·input
   *  and nothing else reads them, so their sum is one Gaussian (a dimension less) */
  merged: { q: number; field: number; c: number }[];
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
  /** the quadrature resolution per population (nonlinear sites; raised by `refine`) */
  res: Resolution[];
  /** a refinement was skipped for the node budget */
  capped = false;

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
      const merged = poly === undefined ? mergeInputs(r, qNormal.map((q) => q.q), [
        ...ops.flatMap(({ o }) => [o.f, ...(o.g ? [o.g.f] : [])]),
        ...rd.observables.flatMap((ob) => ob.averages.filter((a) => a.pop === r.name).map((a) => a.body)),
        ...r.memory.map((m) => m.g),
        ...r.variables.flatMap((v) => (v.init?.kind === 'value' ? [v.init.value] : v.init?.kind === 'dist' ? distArgs(v.init.dist) : [])),
      ], this.params) : [];
      for (const a of avgs) if (kinkArgs(rd.observables[a.obs].averages[a.a].body).length && poly === undefined) throw new Unsupported(`the observable ${rd.observables[a.obs].def.name} has a kink or a jump: kinked functions in a vector site are not supported by the static solver yet`);
      return {
        r, nV: r.variables.length, dyn: r.variables.map((v) => v.kind === 'dynamic'),
        fieldPos: r.fields.map(pos), qPos: qNames.map(pos),
        meanPos: r.means.map((m) => pos(m.slot)), meanOp: r.means.map((m) => { const i = opIndex.get(m.M); if (i === undefined) throw new Unsupported(`the mean field ${m.M} is not an order parameter`); return i; }),
        memPos: r.memory.map((m) => pos(m.slot)), memOp: r.memory.map((m) => { const i = opIndex.get(m.R); if (i === undefined) throw new Unsupported(`the memory kernel ${m.R} is not an order parameter`); return i; }),
        V, qNormal, merged, qOther, init, ops, avgs, ...(poly !== undefined ? { poly } : {}),
      };
    });
    this.res = this.plans.map(() => ({ level: 0, L: TRAP_L }));
  }

  /** does a mean field feed back into the dynamics? */
  meanFeedback(): boolean { return this.plans.some((p) => p.meanPos.length > 0); }

  /**
   * The rule of population p's Gaussian block of dG dimensions at a resolution:
   * Gauss–Hermite, exact, for a
   * polynomial site; the trapezoid rule for a block of one dimension;
   * Gauss–Hermite by level otherwise.
   */
  gaussRule(p: number, res: Resolution, dG: number): { x: ArrayLike<number>; w: ArrayLike<number>; kind: string } {
    const pl = this.plans[p];
    if (pl.poly !== undefined) return { ...gaussHermite(pl.poly + res.level), kind: 'exact' };
    if (dG <= 1) return { ...normalTrapezoid(trapHalf(res.level, res.L), res.L), kind: 'trapezoid' };
    return { ...gaussHermite(GH_LEVELS[Math.min(GH_LEVELS.length - 1, res.level)]), kind: 'hermite' };
  }

  /**
   * One evaluation of the static map at op values `v`: every population's
   * averages at (proximal) ε, on the rules of resolution `res` (default: the current).
   * `start`: the order parameters of the initial condition (x = x(0), no response).
   */
  evaluate(v: Float64Array, eps: number, res: Resolution[] = this.res, start = false, cap = HARD_NODES): Eval {
    this.evals++;
    const next = Float64Array.from(v);
    const pops = this.plans.map((pl, p) => this.evalPop(pl, p, v, eps, res[p], start, next, cap));
    return { pops, next };
  }

  private evalPop(pl: Plan, p: number, v: Float64Array, eps: number, res: Resolution, start: boolean, next: Float64Array, cap: number): PopEval {
    const r = pl.r, nV = pl.nV, nF = r.fields.length, nq = r.quenched.length;
    // field covariance and its factor
    const Vm = Array.from({ length: nF }, () => new Array<number>(nF).fill(0));
    for (const e of pl.V) { const x = e.f(v); Vm[e.k][e.l] = x; Vm[e.l][e.k] = x; }
    const etaMean = new Float64Array(nF);
    for (const mg of pl.merged) { const q = pl.qNormal.find((x) => x.q === mg.q)!; Vm[mg.field][mg.field] += (mg.c * q.sd) ** 2; etaMean[mg.field] += mg.c * q.mean; }
    for (let k = 0; k < nF; k++) if (!(Vm[k][k] >= -1e-12 * Math.max(1, ...Vm.map((row) => Math.abs(row[k]))))) throw new NoFixedPoint(`the variance of the field ${r.fields[k]} is negative (${Vm[k][k].toPrecision(3)})`);
    const L = choleskySemidefinite(Vm.map((row, k) => row.map((x, l) => (k === l ? Math.max(0, x) : x))));
    // Gaussian block: field columns with a nonzero entry, normal quenched inputs with sd > 0, initial
    // conditions with sd > 0 where x(0) matters (the proximal term, the start)
    const fCols = Array.from({ length: nF }, (_, c) => c).filter((c) => L.some((row) => row[c] !== 0));
    const isMerged = (j: number) => pl.merged.some((mg) => mg.q === j);
    const qG = pl.qNormal.filter((q) => q.sd > 0 && !isMerged(q.q));
    const needInit = eps > 0 || start;
    const initDims = needInit ? pl.init.map((_, a) => a).filter((a) => pl.dyn[a]) : [];
    // an initial sd that depends on quenched inputs is evaluated node by node; a dimension is kept
    // when it can be nonzero anywhere (tested at the inputs' means)
    const initG = initDims.filter((a) => r.variables[a].init?.kind === 'dist');
    // states with a random x(0) when x(0) is not in the rule: checked node by node for multistability
    const spread = needInit ? [] : pl.init.map((_, a) => a).filter((a) => pl.dyn[a] && r.variables[a].init?.kind === 'dist');
    const ghInit = gaussHermite(8);
    const dG = fCols.length + qG.length + initG.length;
    const nOther = pl.qOther.map((d) => (d.kind === 'q' && d.law === 'bernoulli' ? 2 : Math.max(8, 2 * (pl.poly !== undefined ? pl.poly + res.level : GH_LEVELS[Math.min(GH_LEVELS.length - 1, res.level)]))));
    const gh = this.gaussRule(p, res, dG);
    const otherRules = pl.qOther.map((d, j) => {
      if (d.kind !== 'q') throw new Error('unreachable');
      if (d.law === 'bernoulli') return { x: [0, 1], w: [1 - d.values[0], d.values[0]] };
      const g = gaussLegendre(nOther[j]);
      const [a, b] = d.values;
      return { x: Array.from(g.x, (u) => a + ((b - a) * (u + 1)) / 2), w: Array.from(g.w, (w) => w / 2) };
    });
    const total = gh.x.length ** dG * otherRules.reduce((acc, ru) => acc * ru.x.length, 1);
    if (total > cap) throw new TooManyNodes(`population ${r.name}: a rule of ${gh.x.length} nodes in each of ${dG} Gaussian dimensions is ${total} nodes, beyond ${cap}`);

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
    const dFv = r.variables.map((va) => r.variables.map((vb) => va.dF[vb.name]));
    const dFm = r.variables.map((va) => r.memory.map((m) => va.dF[m.slot]));
    const nMem = r.memory.length, memD = new Float64Array(nMem);
    const dGdx = () => {
      setX();
      for (let a = 0; a < nV; a++) {
        G[a] = r.variables[a].F(buf) - (pl.dyn[a] ? eps * (x[a] - x0[a]) : x[a]);
        for (let k = 0; k < nMem; k++) { const dm = dFm[a][k]; memD[k] = dm ? dm(buf) * chi[k] : 0; }
        for (let b = 0; b < nV; b++) {
          let d = dFv[a][b](buf);
          for (let k = 0; k < nMem; k++) if (dFm[a][k]) d += memD[k] * r.memory[k].dg[b](gbuf);
          J[a][b] = d - (a === b ? (pl.dyn[a] ? eps : 1) : 0);
        }
      }
    };
    const A = new Float64Array(nV * nV), dx = new Float64Array(nV), keep = new Float64Array(nV);
    const norm = (y: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i])); return s; };
    const S = pl.dyn.map((d, a) => (d ? a : -1)).filter((a) => a >= 0), Lt = pl.dyn.map((d, a) => (d ? -1 : a)).filter((a) => a >= 0);
    /** the growth rate of the states' flow at x (J from the last dGdx), lets eliminated: the largest real part of
     *  J_ss − J_sl J_ll⁻¹ J_ls; NaN where the lets' equations are singular */
    const flowRate = (): number => {
      let schur = S.map((a) => S.map((b) => J[a][b]));
      if (Lt.length && S.length) {
        const Jll = Lt.map((a) => Lt.map((b) => J[a][b]));
        const cols = S.map((b) => solveDense(Jll, Lt.map((a) => J[a][b])));
        if (cols.some((c) => !c)) return NaN;
        schur = S.map((a) => S.map((b, j) => J[a][b] - Lt.reduce((acc, l, k) => acc + J[a][l] * cols[j]![k], 0)));
      }
      return S.length ? maxRe(schur) : -Infinity;
    };
    /** the root the flow reaches from x0: pseudo-transient continuation (states follow the flow, lets solved) */
    const root = () => {
      for (let a = 0; a < nV; a++) x[a] = x0[a];
      let tau = 0.5;
      dGdx();
      let res = norm(G);
      // x(0) on an unstable equilibrium (a symmetric state at a node where its input vanishes): the flow
      // leaves it at the slightest perturbation, so leave it upwards
      if (res <= 1e-13 * (1 + norm(x)) && flowRate() > 0) {
        for (const a of S) x[a] += 1e-9 * (1 + Math.abs(x[a]));
        dGdx();
        res = norm(G);
      }
      /** dx = (D/τ − J)⁻¹ G (D: 1 on states; τ = ∞ is a plain Newton step) into `dx`; false if singular or not finite */
      const step = (invTau: number): boolean => {
        for (let a = 0; a < nV; a++) { dx[a] = G[a]; for (let b = 0; b < nV; b++) A[a * nV + b] = (a === b && pl.dyn[a] ? invTau : 0) - J[a][b]; }
        if (!luSolveInPlace(A, dx, nV)) return false;
        for (let a = 0; a < nV; a++) if (!Number.isFinite(dx[a])) return false;
        return true;
      };
      for (let it = 0; it < 400; it++) {
        const scale = 1 + norm(x);
        if (res <= 1e-13 * scale) {
          // one plain Newton step polishes the root to rounding (quadratic convergence; exact for an affine site)
          if (step(0)) { for (let a = 0; a < nV; a++) x[a] += dx[a]; dGdx(); }
          return true;
        }
        if (!step(1 / tau)) return false;
        keep.set(x);
        for (let a = 0; a < nV; a++) x[a] += dx[a];
        dGdx();
        const r2 = norm(G);
        if (!(r2 <= res * 1.5) || !Number.isFinite(r2)) { x.set(keep); dGdx(); tau /= 4; if (tau < 1e-12) return false; continue; }
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
      // always from x(0): the root the flow reaches from the initial condition at these order parameters
      // (following each node's root from the last evaluation would keep a branch the flow no longer
      // reaches where the site is bistable, and make the map depend on its history)
      const found = () => { if (!root()) throw new NoFixedPoint(`the single-site fixed point of population ${r.name} was not found at a node of the frozen fields (the flow runs away or a Newton step is singular)`); };
      // a random x(0) outside the rule (ε = 0): the root from the mean stands for every draw when the roots
      // from the lowest and the highest node of the initial rule (every drawn state at its extreme, as the
      // scalar evaluator checks) are the same; for one state a 1-D flow keeps order, so then every draw in
      // between reaches it. Otherwise the site has several attractors, and the root is refused: the
      // average over the basins needs their edges in x(0) and the folds in η where an attractor vanishes,
      // which this evaluator does not resolve (bench/RESULTS.md, "Static cavity: one evaluator")
      const drawn = spread.map((a) => ({ a, sd: pl.init[a].sd(qbuf) })).filter((d) => d.sd > 0);
      if (drawn.length) {
        const base = Float64Array.from(x0), zx = ghInit.x[ghInit.x.length - 1];
        for (const { a, sd } of drawn) x0[a] = base[a] - sd * zx;
        found();
        const lo = Float64Array.from(x);
        for (const { a, sd } of drawn) x0[a] = base[a] + sd * zx;
        found();
        x0.set(base);
        if (!lo.every((y, b) => Math.abs(y - x[b]) <= 1e-9 * (1 + Math.abs(y)))) throw new Unsupported(`the single-site fixed point of population ${r.name} depends on the initial draw (several attractors: from the extreme initial draws at one node of the frozen fields, ${r.variables[0].name} reaches ${lo[0].toPrecision(4)} or ${x[0].toPrecision(4)}): averaging over the basins of attraction is not resolved by the static solver of vector sites`);
      }
      found();
      settle(w);
    };
    /** the contributions of the root at x (weight w) to every integral */
    const settle = (w: number) => {
      dGdx();
      // stability of the states' flow with the lets eliminated
      const rate = flowRate();
      if (Number.isNaN(rate)) { singular += w; return; }
      if (rate >= -1e-12) unstable += w;
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
        for (let k = 0; k < nF; k++) { let s = etaMean[k]; fCols.forEach((c, j) => { s += L[k][c] * gh.x[idx[j]]; }); eta[k] = s; buf[pl.fieldPos[k]] = s; }
        // (a merged input's own slot stays 0: its field carries it)
        for (const q of pl.qNormal) buf[pl.qPos[q.q]] = isMerged(q.q) ? 0 : q.mean;
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
    walk(0, 1);
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

/**
 * The normal quenched inputs that can be merged into a field: every variable's
 * equation depends on the input only through η_k + c·input (∂F_a/∂input =
 * c·∂F_a/∂η_k with one constant c, checked at pseudo-random points) and none
 * of `readers` (order-parameter functions, observable bodies, memory
 * integrands, initial conditions) reads it. Then η_k + c·input is one
 * Gaussian (mean c·μ, variance V_kk + c²σ²) — exactly.
 */
function mergeInputs(r: PopReading, normal: number[], readers: Expr[], params: Record<string, number>): Plan['merged'] {
  const out: Plan['merged'] = [];
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed / 2147483648) * 3 - 1.5; };
  const probes = Array.from({ length: 16 }, () => Float64Array.from(r.slots, () => rnd()));
  for (const j of normal) {
    const name = r.quenched[j].name;
    if (readers.some((e) => some(e, (x) => (x.k === 'sym' || x.k === 'ref') && x.name === name))) continue;
    for (let k = 0; k < r.fields.length; k++) {
      let c: number | undefined;
      const ok = r.variables.every((v) => {
        const d0 = compile(diff(v.rhs, isVar(r.fields[k])), r.slots, params), d1 = compile(diff(v.rhs, isVar(name)), r.slots, params);
        return probes.every((p) => {
          const a = d0(p), b = d1(p);
          if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
          if (a === 0) return b === 0;
          if (c === undefined) c = b / a;
          return Math.abs(b - c * a) <= 1e-12 * (Math.abs(b) + Math.abs(c * a));
        });
      });
      if (ok && c !== undefined && Number.isFinite(c) && c !== 0) { out.push({ q: j, field: k, c }); break; }
    }
  }
  return out;
}

function maxRe(A: number[][]): number {
  if (!A.length) return -Infinity;
  if (A.length === 1) return A[0][0];
  return Math.max(...new EigenvalueDecomposition(new Matrix(A)).realEigenvalues);
}


interface Solved { vals: Float64Array; ev: Eval; residual: number; iterations: number }

/**
 * The self-consistent fixed point at ε: damped iteration of the map, then
 * Newton on the order parameters (Jacobian by differences) when the iteration
 * is slow. Throws NoFixedPoint when neither converges.
 */
function solveAt(m: VectorStaticModel, v0: Float64Array, eps: number, tol: number, res = m.res): Solved {
  let v = Float64Array.from(v0);
  let ev = m.evaluate(v, eps, res);
  let r = resid(v, ev.next);
  let damp = 1, iterations = 0;
  for (; iterations < 60 && r > tol; iterations++) {
    const nv = v.map((x, i) => (1 - damp) * x + damp * ev.next[i]);
    let e2: Eval;
    try { e2 = m.evaluate(nv, eps, res); } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; damp /= 2; if (damp < 1e-3) break; continue; }
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
      const ep = m.evaluate(vp, eps, res);
      for (let i = 0; i < n; i++) Jc[i][j] = (ep.next[i] - vp[i] - H0[i]) / h;
    }
    const step = solveDense(Jc, Array.from(H0, (x) => -x));
    if (!step) throw new NoFixedPoint('the self-consistency equations are singular at the current point (Newton step)');
    let lam = 1, done = false;
    for (let k = 0; k < 12; k++, lam /= 2) {
      const nv = v.map((x, i) => x + lam * step[i]);
      try {
        const e2 = m.evaluate(nv, eps, res);
        const r2 = resid(nv, e2.next);
        if (r2 < r) { v = nv; ev = e2; r = r2; done = true; break; }
      } catch (e) { if (!(e instanceof NoFixedPoint)) throw e; }
    }
    if (!done) break;
  }
  if (!(r <= Math.max(tol, 1e-7)) || !v.every(Number.isFinite)) throw new NoFixedPoint(`the self-consistent iteration does not converge (residual ${r.toExponential(2)})`);
  return { vals: v, ev, residual: r, iterations };
}

/** The largest relative change between two evaluations of population p's map, over every integral it accumulates. */
function mapChange(a: Eval, b: Eval, p: number): number {
  const x = a.pops[p].all, y = b.pops[p].all;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(MAP_FLOOR, Math.abs(x[i]), Math.abs(y[i])));
  return worst;
}

/**
 * Refine each nonlinear population's rule until it is converged at the
 * solution: one level finer, and a wider z-range, may change no integral of the
 * map by more than QUAD_TOL; a population that fails either is refined and the
 * fixed point solved again (a refinement past MAX_NODES is skipped: the error
 * estimate then shows it).
 */
function refine(m: VectorStaticModel, sol: Solved, eps: number, tol: number): Solved {
  let cur = sol;
  for (let round = 0; round < MAX_LEVEL; round++) {
    const next = m.res.map((r) => ({ ...r }));
    const tryRes = (p: number, r: Resolution): boolean => {
      const res = m.res.map((x, q) => (q === p ? r : x));
      try { return mapChange(cur.ev, m.evaluate(cur.vals, eps, res, false, MAX_NODES), p) > QUAD_TOL; } catch (e) { if (e instanceof TooManyNodes) { m.capped = true; return false; } throw e; }
    };
    m.plans.forEach((pl, p) => {
      if (pl.poly !== undefined) return;
      const r = m.res[p];
      if (r.level < MAX_LEVEL && tryRes(p, { level: r.level + 1, L: r.L })) next[p].level++;
      if (r.L < TRAP_L_MAX && tryRes(p, { level: r.level, L: wider(r.L) })) next[p].L = wider(r.L);
    });
    if (next.every((r, p) => r.level === m.res[p].level && r.L === m.res[p].L)) break;
    m.res = next;
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
    rho: spectralExtent(T).mod, meanEig: spectralExtent(B).re,
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
  start(): Float64Array { return this.m.evaluate(new Float64Array(this.m.opNames.length), 0, this.m.res, true).next; }
  meanFeedback(): boolean { return this.m.meanFeedback(); }
  solve(v: Float64Array, eps: number, tol: number): Solved { return solveAt(this.m, v, eps, tol); }
  refine(sol: Solved, eps: number, tol: number): Solved { return refine(this.m, sol, eps, tol); }
  solveFiner(sol: Solved, eps: number): Solved { return solveAt(this.m, sol.vals, eps, 1e-13, oneFiner(this.m.res)); }
  observables(sol: Solved): Record<string, number> { return this.m.observables(sol.ev); }
  observablesFiner(sol: Solved, eps: number): Record<string, number> { return this.m.observables(this.m.evaluate(sol.vals, eps, oneFiner(this.m.res))); }
  observablesStep(sol: Solved, eps: number): Record<string, number> { return this.m.observables(this.m.evaluate(sol.ev.next, eps)); }
  assess(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, sol.ev, eps); }
  assessFiner(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, this.m.evaluate(sol.vals, eps, oneFiner(this.m.res)), eps); }
  diagnostics(): Record<string, number | string | boolean> {
    const d: Record<string, number | string | boolean> = { quadratureLevels: JSON.stringify(this.m.res.map((r, p) => (this.m.plans[p].poly !== undefined ? 'exact' : `${r.level} (z in ±${r.L})`))) };
    if (this.m.capped) d.quadratureCapped = `a refinement past ${MAX_NODES} nodes per evaluation was skipped (the error estimate includes what it would have changed)`;
    return d;
  }
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
