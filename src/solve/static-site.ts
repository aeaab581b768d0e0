// The static map of a system's sites for the static driver (static-driver.ts):
// the long-time fixed point of relaxational dynamics, read only from the
// derived DmftSystem (docs/solve.md, "Static fixed points"). One evaluator for
// every site: a scalar site is the 1×1 case of a vector site.
//
// At a fixed point every order parameter is frozen. The fields of a
// population form a static Gaussian vector η (the field covariances on the
// diagonal, the cross-covariances off it, evaluated on the static C order
// parameters); each memory integral ∫R(t,s) g(x(s)) ds becomes χ·g(x) with
// χ = ∫R(t,s) ds the static susceptibility; each mean-field slot its static
// value. Given (η, quenched inputs) the site's variables solve
//   G_a(x) = F_a(x, …) = 0     (state a)       x_a = F_a(x, …)   (let a),
// at the root the flow d/dt x = G(x) reaches from the initial condition: for
// one variable the first zero the one-dimensional flow meets (a stable root,
// G′ < 0; a bound pins the state where the flow pushes out of range; with
// multiplicative growth at a bound `>= 0` the boundary value where the growth
// rate there is negative); for several, pseudo-transient continuation (damped
// flow steps that become Newton steps near the root). An x(0) on an unstable
// equilibrium is left upwards. A random x(0) is checked at each node: the
// roots from its extreme draws must agree, otherwise the node is multistable
// (the driver refuses: the basins are not resolved). Order parameters close
// self-consistently:
//   C[f,g] = ⟨f(x*) g(x*)⟩, M[f] = ⟨f(x*)⟩, R[f|η_k] = ⟨∇f · ∂x*/∂η_k⟩,
// ∂x*/∂η_k = −J⁻¹ ∂G/∂η_k (J = ∂G/∂x at the root, memory terms included; zero
// for a pinned state).
//
// Quadrature (bench/RESULTS.md, "Static cavity: one evaluator"): the Gaussian
// inputs are standard-normal coordinates z through the Cholesky factor of the
// field covariance; normal inputs (and independent fields) that the site reads
// only through η₀ + c·input are merged into the first field. The first
// coordinate is the inner dimension: the Gaussian trapezoid rule in z, whose
// nodes double as a scan for breakpoints — where the root switches branch
// (pinned ↔ free) or a kink/jump argument (relu, abs, sign, `>`) changes sign,
// the breakpoint is located by bisection and each smooth piece gets
// Gauss–Legendre panels against the normal density. The other coordinates,
// quenched inputs (uniform: Gauss–Legendre; Bernoulli: exact) are outer
// tensor rules. Each dimension is refined (step halved) until one more level
// changes no integral by more than QUAD_TOL, the z-range widened while a wider
// one changes the map. The trapezoid rule, not Gauss–Hermite: a root x*(η) has
// branch points near the real axis where its Jacobian nearly vanishes, at
// distance d the trapezoid rule converges like e^{−2πd/h}, Gauss–Hermite only
// like e^{−c·d·√n}. An affine site without bounds has x* affine in its inputs:
// every integrand is then a polynomial and a few Gauss–Hermite nodes are exact.
// The quadrature error is the change of the observables when the fixed point is
// solved again one level finer everywhere.
//
// Stability (the fixed point must be the dynamics' attractor):
//  - site: every node's root is stable (G′ < 0 where not pinned; for several
//    variables every eigenvalue of the states' Jacobian with the lets
//    eliminated in the left half plane);
//  - the fluctuation (replicon / de Almeida–Thouless type) mode: a static
//    perturbation δV of the field covariances moves C[f,g] by
//    Σ_kl ⟨(∇f·∂x*/∂η_k)(∇g·∂x*/∂η_l)⟩ δV_kl, and δV_kl by Σ ∂V_kl/∂C δC: the
//    spectral radius of that map must be < 1 (for SCS g²⟨φ′²⟩ < 1);
//  - the uniform (mean-field) mode: eigenvalues of ∂⟨f⟩/∂M below 1.
// Derivatives are distributional: where an order-parameter function jumps
// across a breakpoint of the inner field, φ′ carries a δ: for a C op the
// fluctuation eigenvalue is infinite (chaos); M and R ops gain the finite δ
// term of the moving jump, Δf·ϕ(z_b)·(∂x_a/∂θ)/(∂x_a/∂z) for a function of one
// variable x_a (otherwise, or where the root itself jumps, the jump is open and
// the driver refuses).
// Zero modes: the driver's proximal continuation, a term −ε(x − x(0)) on every
// state, averaged over the initial draw.
//
// Nothing here knows any particular model.
import { NoFixedPoint, spectralExtent, Unsupported, type SiteAssessment, type StaticOptions, type StaticSite } from './static-driver.ts';
import { EigenvalueDecomposition, Matrix, solve as mlSolve } from 'ml-matrix';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { Dist } from '../model/ir.ts';
import { constantValue } from '../expr/eval.ts';
import { choleskySemidefinite, luSolveInPlace, solveDense } from '../numeric/linalg.ts';
import { jumpAcross, jumpOf, kinkArgs } from '../numeric/kinks.ts';
import { gaussHermite, normalTrapezoid, phiDensity, type Rule, visitPanels } from '../numeric/rules.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import type { OrderReading, PopReading, SystemReading } from './read.ts';
import { table } from '../table.ts';

// ---------------------------------------------------------------------------
// quadrature rules

const point = (v: number): Rule => ({ x: Float64Array.of(v), w: Float64Array.of(1) });

/** A quenched input's law with its arguments as finite numbers (normal: mean and variance). */
function distParams(dist: Dist, params: Record<string, number>, what: string): Dist & { values: number[] } {
  const def = distDef(dist);
  if (!def.quadrature) throw new Unsupported(`${what} has a ${dist.kind} distribution, which has no static quadrature`);
  return {
    ...dist,
    values: distArgs(dist).map((e, i) => {
      const v = constantValue(e, params);
      if (v === undefined || !Number.isFinite(v)) throw new Unsupported(`the ${def.nouns[i]} of ${what} (${print(e)}) is not a finite number`);
      return v;
    }),
  };
}

/** The rule of a quenched input (the registry's quadrature of its law): `z` the
 *  standard-normal rule, `nUniform` the Gauss–Legendre nodes of a uniform law. */
const distRule = (d: ReturnType<typeof distParams>, z: Rule, nUniform: number): Rule => distDef(d).quadrature!(d.values, z, nUniform);

/**
 * Quadrature resolution: a refinement level for every dimension of every
 * population (0 = the base rules). Dimension 0 is the inner Gaussian
 * coordinate (the first field, the merged inputs with it), then the outer
 * dimensions of `PopPlan.dims`.
 *   normal dimension   the Gaussian trapezoid rule in z on [−L, L] with step
 *                      TRAP_H0/2^level (nested: a level keeps every node of the one below)
 *   inner, split       Gauss–Legendre panels (PANEL_GL nodes, width ≤
 *                      PANEL_W0/2^level) between the breakpoints
 *   uniform input      Gauss–Legendre, UNIFORM_N0·2^level nodes
 */
interface Resolution {
  lv: number[][];
  /** the error-estimate rules: also more nodes for polynomial and initial-condition rules */
  fine: boolean;
  /** half-width of the z-range of the normal dimensions (TRAP_L, widened while its edges carry weight) */
  L: number;
}
const TRAP_L = 9, TRAP_H0 = 0.5, PANEL_W0 = 1, PANEL_GL = 10, UNIFORM_N0 = 16;
/** a refinement level is kept when one more changes no integral of the map by more than this (relative) */
const QUAD_TOL = 1e-10;
const MAX_LEVEL = 7;
/** residual tolerance of the re-solve on the finer rules (the quadrature error estimate) */
const FINE_TOL = 1e-13;
/** largest number of quadrature nodes of one population's map (the product over its dimensions) */
const MAX_NODES = 400000;
/** the widest z-range: the normal weight underflows beyond ~38 */
const TRAP_L_MAX = 38;
const trapNodes = (level: number, L: number) => normalTrapezoid(Math.round(L / TRAP_H0) << level, L);
const wider = (L: number) => Math.min(TRAP_L_MAX, 1.5 * L);
/** the error-estimate resolution: every dimension one level finer and the z-range wider (a fast-growing
 *  observable, e^{aX} at large variance, has mass beyond a fixed range that no finer step sees) */
const oneFiner = (res: Resolution): Resolution => ({ lv: res.lv.map((l) => l.map((x) => x + 1)), fine: true, L: wider(res.L) });
const withLevel = (res: Resolution, p: number, d: number, level: number): Resolution =>
  ({ lv: res.lv.map((l, i) => (i === p ? l.map((x, j) => (j === d ? level : x)) : l.slice())), fine: res.fine, L: res.L });

// ---------------------------------------------------------------------------
// the plan: everything compiled once

/** A variable's initial condition: a point, or a law whose parameters may read the site's quenched inputs. */
interface InitPlan {
  kind: 'point' | 'normal' | 'uniform' | 'bernoulli';
  /** point and normal: the mean and the standard deviation over the quenched inputs */
  mean?: Compiled;
  sd?: Compiled;
  /** uniform, bernoulli: the law's constant parameters */
  law?: ReturnType<typeof distParams>;
  /** the law depends on the quenched inputs (a rule per node) */
  perNode: boolean;
}

interface VarPlan {
  name: string;
  dyn: boolean;
  lower: number;
  upper: number;
  F: Compiled;
  /** ∂F/∂x_b, ∂F/∂η_k, ∂F/∂(mean slot), ∂F/∂(memory slot) */
  dFx: Compiled[];
  dFfield: Compiled[];
  dFmean: Compiled[];
  dFmem: (Compiled | undefined)[];
  init: InitPlan;
}

interface PopPlan {
  r: PopReading;
  index: number;
  nV: number;
  vars: VarPlan[];
  nq: number;
  varPos: number[];
  fieldPos: number[];
  qPos: number[];
  qLaws: ReturnType<typeof distParams>[];
  /** field covariance entries V[k][l] over the op slots, with their ∂/∂C (C op index → compiled) */
  V: { k: number; l: number; f: Compiled; d: { op: number; f: Compiled }[] }[];
  /** Gaussian inputs merged into the inner field: the equations see them only through
   *  η₀ + c·input, and nothing else reads them (their sum is one Gaussian) */
  merged: { field?: number; q?: number; c: number }[];
  /** the fields that keep a coordinate of their own (field 0 first; the Cholesky factor is over these) */
  kept: number[];
  /** the outer dimensions (after the inner coordinate): coordinates of the kept fields, quenched inputs */
  dims: ({ col: number } | { q: number })[];
  meanPos: number[];
  meanOp: number[];
  memPos: number[];
  memOp: number[];
  tPos: number;
  /** order parameters of this population */
  ops: { op: number; o: OrderReading; slotField: number }[];
  /** C ops of this population (indices into `ops`) */
  cOps: number[];
  mOps: number[];
  /** observable averages over this population */
  avgs: { obs: number; a: number; F: Compiled }[];
  kinkRhs: Compiled[];
  /** kink arguments of the order-parameter functions (over [variables…, quenched…]) and of the observable bodies */
  kinkOp: Compiled[];
  kinkObs: Compiled[];
  /** affine site and polynomial integrands: Gaussian rules with this many nodes per dimension are exact */
  poly?: number;
  /** with `poly`: the quenched inputs (uniform) the integrands are not polynomial in — the site is
   *  affine in the Gaussian inputs with coefficients that depend on them (a per-site variance u^a):
   *  their Gauss–Legendre rule is refined adaptively, the Gaussian dimensions stay exact */
  adaptQ: Set<number>;
  // accumulator layout
  nVec: number;
  posOp: number[];
  posStab: number; // + ci * nF² + k * nF + l
  posMeanB: number; // + mi * nMeans + j
  posAvg: number;
  posUnstable: number;
  posSingular: number;
  posMulti: number;
  /** + ci: probability density (× weight) at which the C op's function jumps (its φ′ carries a δ) */
  posJumpC: number;
  /** δ terms that could not be resolved (the fixed point itself jumps there) */
  posJumpOpen: number;
}

const opSlot = (i: number) => `__op${i}`;
const zero: Compiled = () => 0;

class StaticModel {
  readonly reading: SystemReading;
  readonly params: Record<string, number>;
  readonly opNames: string[];
  readonly opIndex: Map<string, number>;
  readonly pops: PopPlan[];
  /** evaluations of the static map so far */
  evals = 0;
  /** the quadrature resolution later solves start from (raised by `resolve`) */
  res: Resolution;
  /** a refinement was skipped for the node budget */
  capped = false;

  constructor(reading: SystemReading) {
    this.reading = reading;
    this.params = reading.params;
    const sys = reading.sys;
    this.opNames = sys.orderParams.map((o) => o.name);
    this.opIndex = new Map(this.opNames.map((n, i) => [n, i]));
    const opSlots = this.opNames.map((_, i) => opSlot(i));
    const toOps = (e: Expr, what: string) => mapPost(e, (x) => {
      if (x.k !== 'op') return x;
      const i = this.opIndex.get(x.name);
      if (i === undefined) throw new Unsupported(`${what} uses ${x.name}, which is not an order parameter`);
      return sym(opSlot(i));
    });
    for (const p of reading.pops) {
      if (p.noises.length) throw new Unsupported(`population ${p.pop.name} is driven by white noise (${p.noises.map((n) => n.name).join(', ')}): its long-time state is stationary, not static — use the stationary solver`);
      for (const v of p.variables) if (some(v.rhs, (x) => x.k === 'sym' && x.name === 't')) throw new Unsupported(`the equation of ${v.name} depends explicitly on time: no static fixed point`);
    }
    this.pops = reading.pops.map((r, index): PopPlan => {
      const slot = (name: string) => r.slots.indexOf(name);
      const nV = r.variables.length;
      if (nV > 1) for (const v of r.variables) if (v.kind === 'algebraic' && (v.lower !== undefined || v.upper !== undefined)) throw new Unsupported(`the let ${v.name} of the site ${r.name} is bounded: bounds on a let of a site of several variables are not supported by the static solver yet`);
      const qNames = r.quenched.map((q) => q.name);
      const qSlotsOf = (e: Expr) => mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 ? sym(x.name) : x));
      const dF = (e: Expr, name: string) => compile(diff(e, isVar(name)), r.slots, this.params);
      const vars = r.variables.map((v): VarPlan => ({
        name: v.name, dyn: v.kind === 'dynamic', lower: v.lower ?? -Infinity, upper: v.upper ?? Infinity, F: v.F,
        dFx: r.variables.map((w) => v.dF[w.name] ?? zero),
        dFfield: r.fields.map((f) => v.dF[f] ?? zero),
        dFmean: r.means.map((m) => dF(v.rhs, m.slot)),
        dFmem: r.memory.map((m) => (m.variable === r.variables.indexOf(v) ? v.dF[m.slot] : undefined)),
        init: this.initPlan(v, qNames, qSlotsOf),
      }));
      // the field covariance: every field's variance and the cross-covariances
      const V: PopPlan['V'] = [];
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
      const ops: PopPlan['ops'] = [];
      sys.orderParams.forEach((o, i) => {
        if (o.pop !== r.pop.name) return;
        let slotField = -1;
        if (o.kind === 'R') {
          slotField = r.fields.indexOf(o.slot ?? '');
          if (slotField < 0) throw new Unsupported(`the response ${o.name} is to '${o.slot}', which is not a field of population ${r.pop.name}`);
        }
        ops.push({ op: i, o: reading.orders.get(o.name)!, slotField });
      });
      const cOps = ops.map((_, j) => j).filter((j) => ops[j].o.op.kind === 'C');
      const mOps = ops.map((_, j) => j).filter((j) => ops[j].o.op.kind === 'M');
      const varNames = r.variables.map((v) => v.name);
      const gSlots = [...varNames, ...qNames];
      const bodySlots = [...varNames, ...varNames.map((n) => `${n}@2`), ...qNames];
      const avgs: PopPlan['avgs'] = [];
      const bodies: Expr[] = [];
      reading.observables.forEach((ob, oi) => ob.averages.forEach((a, ai) => {
        if (a.pop !== r.pop.name) return;
        bodies.push(a.body);
        if (ob.def.times.length <= 1) avgs.push({ obs: oi, a: ai, F: a.F });
      }));
      const opFns = ops.flatMap(({ o }) => [o.f, ...(o.g ? [o.g.f] : [])]);
      const kinkOp = opFns.flatMap((f) => kinkArgs(f).map((k) => compile(k, gSlots, this.params)));
      const kinkObs = bodies.flatMap((b) => kinkArgs(b).map((k) => compile(k, bodySlots, this.params)));
      const kinkRhs = r.variables.flatMap((v) => kinkArgs(v.rhs).map((k) => compile(k, r.slots, this.params)));
      for (const m of r.memory) { if (kinkArgs(m.g).length) throw new Unsupported(`the memory integrand ${print(m.g)} is not smooth`); }
      const nF = r.fields.length, nM = r.means.length;
      const kinked = kinkOp.length + kinkObs.length + kinkRhs.length > 0;
      // x* is affine in the inputs when the equations are (no bounds, affine memory):
      // then every integrand is a polynomial of known degree
      const polyNodes = (isIn: (x: Expr) => boolean): number | undefined => {
        let D = 2;
        for (const { o } of ops) { const d = degree(o.f, isIn); D = Math.max(D, o.op.kind === 'C' ? d + (o.g ? degree(o.g.f, isIn) : d) : d); }
        for (const b of bodies) D = Math.max(D, degree(b, isIn));
        return Number.isFinite(D) ? Math.ceil((D + 1) / 2) + 1 : undefined;
      };
      let poly: number | undefined;
      const adaptQ = new Set<number>();
      if (r.affine && !kinked) poly = polyNodes((x) => x.k === 'sym' && bodySlots.includes(x.name));
      // affine in the Gaussian inputs given the uniform ones (u^(a/2)·η): x* is affine in the
      // Gaussian inputs at every u, so Gaussian rules stay exact there and only u needs refining
      const uniformQ = r.quenched.map((q, j) => (q.input.dist.kind === 'uniform' ? j : -1)).filter((j) => j >= 0);
      if (poly === undefined && uniformQ.length && !kinked && r.variables.every((v) => v.lower === undefined && v.upper === undefined)) {
        const coef = new Set(uniformQ.map((j) => qNames[j]));
        const stoch = new Set([...r.slots].filter((x) => !coef.has(x) && x !== 't' && !r.means.some((mm) => mm.slot === x)));
        const isG = (x: Expr) => x.k === 'sym' && stoch.has(x.name);
        const gIn = new Set([...varNames, ...qNames.filter((q) => !coef.has(q))]);
        const affineGivenU = r.variables.every((v) => degree(v.rhs, isG) <= 1) && r.memory.every((mm) => degree(mm.g, (x) => x.k === 'sym' && gIn.has(x.name)) <= 1);
        if (affineGivenU) {
          poly = polyNodes((x) => x.k === 'sym' && bodySlots.includes(x.name) && !coef.has(x.name));
          if (poly !== undefined) for (const j of uniformQ) adaptQ.add(j);
        }
      }
      const qLaws = r.quenched.map((q) => distParams(q.input.dist, this.params, q.name));
      const initReaders = r.variables.flatMap((v) => (v.init?.kind === 'value' ? [qSlotsOf(v.init.value)] : v.init?.kind === 'dist' ? distArgs(v.init.dist).map(qSlotsOf) : []));
      const { merged, dims, kept } = this.mergeInputs(r, qLaws, [...opFns, ...bodies, ...r.memory.map((mm) => mm.g), ...initReaders]);
      let pos = 0;
      const posOp = ops.map(() => pos++);
      const posStab = pos; pos += cOps.length * nF * nF;
      const posMeanB = pos; pos += mOps.length * nM;
      const posAvg = pos; pos += avgs.length;
      const posUnstable = pos++, posSingular = pos++, posMulti = pos++;
      const posJumpC = pos; pos += cOps.length;
      const posJumpOpen = pos++;
      const memOp = r.memory.map((m) => {
        const i = this.opIndex.get(m.R);
        if (i === undefined || sys.orderParams[i].kind !== 'R') throw new Unsupported(`memory kernel ${m.R} is not a response function`);
        return i;
      });
      const meanOp = r.means.map((m) => {
        const i = this.opIndex.get(m.M);
        if (i === undefined) throw new Unsupported(`mean-field term ${m.M} is not an order parameter`);
        return i;
      });
      return {
        r, index, nV, vars, nq: qNames.length,
        varPos: varNames.map(slot), fieldPos: r.fields.map(slot), qPos: qNames.map(slot), qLaws, V, merged, kept, dims,
        meanPos: r.means.map((m) => slot(m.slot)), meanOp,
        memPos: r.memory.map((m) => slot(m.slot)), memOp, tPos: slot('t'),
        ops, cOps, mOps, avgs, kinkRhs, kinkOp, kinkObs, poly, adaptQ,
        nVec: pos, posOp, posStab, posMeanB, posAvg, posUnstable, posSingular, posMulti, posJumpC, posJumpOpen,
      };
    });
    this.res = { lv: this.pops.map((pl) => [0, ...pl.dims.map(() => 0)]), fine: false, L: TRAP_L };
  }

  /** The initial condition of a variable (x(0) = 0 for a let and a state without one: the relaxation starts there). */
  private initPlan(v: PopReading['variables'][number], qNames: string[], qSlotsOf: (e: Expr) => Expr): InitPlan {
    const perNode = v.initInputs.length > 0;
    const c = (e: Expr) => compile(qSlotsOf(e), qNames, this.params);
    if (v.kind === 'algebraic' || !v.init) return { kind: 'point', mean: zero, perNode: false };
    const s = v.init;
    if (s.kind === 'value') {
      if (!perNode) {
        const x = constantValue(s.value, this.params);
        if (x === undefined) throw new Unsupported(`the initial value of ${v.name} (${print(s.value)}) is not a number`);
        return { kind: 'point', mean: () => x, perNode };
      }
      return { kind: 'point', mean: c(s.value), perNode };
    }
    const what = `the initial condition of ${v.name}`;
    if (s.dist.kind === 'normal' && perNode) return { kind: 'normal', mean: c(s.dist.mean), sd: compile({ k: 'call', fn: 'sqrt', args: [qSlotsOf(s.dist.var)] } as Expr, qNames, this.params), perNode };
    const law = distParams(s.dist, this.params, what);
    if (law.kind === 'normal') {
      const [m, va] = law.values;
      return { kind: 'normal', mean: () => m, sd: () => (va > 0 ? Math.sqrt(va) : 0), perNode };
    }
    return { kind: law.kind as 'uniform' | 'bernoulli', law, perNode };
  }

  /** The rule of x(0) of variable `v` with n nodes, at the quenched inputs `q`. */
  initRule(v: VarPlan, n: number, q: Float64Array, gh = gaussHermite(n)): Rule {
    const ip = v.init;
    switch (ip.kind) {
      case 'point': return point(ip.mean!(q));
      case 'normal': {
        const m = ip.mean!(q), s = ip.sd!(q);
        if (!(s > 0)) return point(m);
        return { x: gh.x.map((u) => m + s * u), w: gh.w };
      }
      default: return distRule(ip.law!, gh, n);
    }
  }

  /**
   * Which Gaussian inputs (other fields, normal quenched inputs) can be merged
   * into the first field: every equation depends on them only through
   * η₀ + c·input (∂F/∂input = c·∂F/∂η₀ with a constant c, checked at random
   * points, and likewise for the kink arguments of F), no order-parameter
   * function, observable body, memory integrand or initial condition reads
   * them, and a field has no cross-covariance. Then η₀ + c·input is one
   * Gaussian and the map needs one dimension less — exactly.
   */
  mergeInputs(r: PopReading, qLaws: ReturnType<typeof distParams>[], readers: Expr[]): Pick<PopPlan, 'merged' | 'dims' | 'kept'> {
    const merged: PopPlan['merged'] = [], kept: number[] = [], rest: ({ field: number } | { q: number })[] = [];
    const cands: ({ field: number } | { q: number })[] = [...r.fields.slice(1).map((_, k) => ({ field: k + 1 })), ...r.quenched.map((_, j) => ({ q: j }))];
    const toDims = () => rest.map((c) => ('field' in c ? { col: kept.indexOf(c.field) } : c));
    if (r.fields.length === 0) { rest.push(...cands); return { merged, dims: toDims(), kept }; }
    kept.push(0);
    const eta0 = r.fields[0];
    const exprs = r.variables.flatMap((v) => [v.rhs, ...kinkArgs(v.rhs)]);
    const isRhs = r.variables.flatMap((v) => [true, ...kinkArgs(v.rhs).map(() => false)]);
    const d0 = exprs.map((e) => compile(diff(e, isVar(eta0)), r.slots, this.params));
    const crossed = (k: number) => r.cross.some((c) => c.a === k || c.b === k);
    // deterministic pseudo-random probe points
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 * 3 - 1.5; };
    const probes = Array.from({ length: 16 }, () => Float64Array.from(r.slots, () => rnd()));
    for (const c of cands) {
      const name = 'field' in c ? r.fields[c.field] : r.quenched[c.q].name;
      const mergeable = ('field' in c ? !crossed(c.field) && !crossed(0) : qLaws[c.q].kind === 'normal');
      let coef: number | undefined;
      const ok = mergeable && !readers.some((e) => some(e, (x) => (x.k === 'sym' || x.k === 'ref') && x.name === name)) && exprs.every((e, k) => {
        const d1 = compile(diff(e, isVar(name)), r.slots, this.params);
        return probes.every((v) => {
          const a = d0[k](v), b = d1(v);
          if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
          if (a === 0) return b === 0;
          if (isRhs[k] && coef === undefined) coef = b / a;
          return coef !== undefined && Math.abs(b - coef * a) <= 1e-12 * (Math.abs(b) + Math.abs(coef * a));
        });
      });
      if (ok && coef !== undefined && Number.isFinite(coef) && coef !== 0) merged.push({ ...c, c: coef });
      else { rest.push(c); if ('field' in c) kept.push(c.field); }
    }
    return { merged, dims: toDims(), kept };
  }

  /** Does a mean-field order parameter enter some single-site equation (with a nonzero coefficient somewhere)? */
  meanFeedback(): boolean {
    return this.pops.some((pl) => pl.vars.some((va) => va.dFmean.some((d) => {
      const v = new Float64Array(pl.r.slots.length);
      for (const x of [0, 0.7, -1.3]) { v.fill(x); if (d(v) !== 0) return true; }
      return false;
    })));
  }

  /** Starting values: every order parameter evaluated at the initial condition (responses 0). */
  start(): Float64Array {
    const v = new Float64Array(this.opNames.length);
    for (const pl of this.pops) {
      const qr = pl.qLaws.map((d) => distRule(d, gaussHermite(8), 8));
      const gbuf = new Float64Array(pl.nV + pl.nq), qb = new Float64Array(pl.nq);
      const acc = new Float64Array(pl.ops.length);
      const rec = (j: number, w: number) => {
        if (j === pl.nq) {
          for (let i = 0; i < pl.nq; i++) qb[i] = gbuf[pl.nV + i];
          const rules = pl.vars.map((va) => this.initRule(va, 8, qb));
          forEachPoint(rules, (x0, w0) => {
            gbuf.set(x0);
            pl.ops.forEach(({ o }, k) => {
              if (o.op.kind === 'R') return;
              const f = o.F(gbuf);
              acc[k] += w * w0 * (o.op.kind === 'C' ? f * (o.g ? o.g.F(gbuf) : f) : f);
            });
          });
          return;
        }
        for (let i = 0; i < qr[j].x.length; i++) { gbuf[pl.nV + j] = qr[j].x[i]; rec(j + 1, w * qr[j].w[i]); }
      };
      rec(0, 1);
      pl.ops.forEach(({ op }, k) => { v[op] = acc[k]; });
    }
    return v;
  }
}

/** Visit every point of the tensor product of per-variable rules (x and the product weight). */
function forEachPoint(rules: Rule[], visit: (x: Float64Array, w: number) => void): void {
  const x = new Float64Array(rules.length);
  const rec = (a: number, w: number) => {
    if (a === rules.length) { visit(x, w); return; }
    const r = rules[a];
    for (let i = 0; i < r.x.length; i++) { x[a] = r.x[i]; rec(a + 1, w * r.w[i]); }
  };
  rec(0, 1);
}

function maxRe(A: number[][]): number {
  if (!A.length) return -Infinity;
  if (A.length === 1) return A[0][0];
  if (A.length === 2) {
    // the two eigenvalues: tr/2 ± √(tr²/4 − det) (complex: real part tr/2)
    const h = 0.5 * (A[0][0] + A[1][1]), disc = h * h - (A[0][0] * A[1][1] - A[0][1] * A[1][0]);
    return disc > 0 ? h + Math.sqrt(disc) : h;
  }
  return Math.max(...new EigenvalueDecomposition(new Matrix(A)).realEigenvalues);
}

// ---------------------------------------------------------------------------
// one evaluation of the static map Φ: order-parameter values → new values

interface PopEval { vec: Float64Array }
interface PhiEval { next: Float64Array; pops: PopEval[] }


/** A root of a node: the variables, whether a bounded one is pinned, ∂G/∂x there (one variable) and its branch label. */
interface Root { x: Float64Array; pinned: boolean; gp: number; label: string; pinnedAt?: Uint8Array }

function evalPop(m: StaticModel, pl: PopPlan, vals: Float64Array, eps: number, res: Resolution, scale: number): PopEval {
  const lv = res.lv[pl.index];
  // polynomial integrands: Gauss–Hermite (and Gauss–Legendre) with np nodes are exact
  const np = pl.poly === undefined ? 0 : pl.poly + (res.fine ? 2 : 0);
  const r = pl.r, nV = pl.nV, nq = pl.nq;
  const buf = new Float64Array(r.slots.length);
  const gbuf = new Float64Array(nV + nq);
  const bbuf = new Float64Array(2 * nV + nq);
  const qbuf = new Float64Array(nq);
  const chi = pl.memOp.map((i) => vals[i]);
  for (let j = 0; j < pl.meanPos.length; j++) buf[pl.meanPos[j]] = vals[pl.meanOp[j]];
  if (pl.tPos >= 0) buf[pl.tPos] = 0;
  const nF = pl.fieldPos.length, nM = pl.meanPos.length, nMem = pl.memPos.length;
  const ridge = eps > 0;
  const x0 = new Float64Array(nV);

  const setX = (x: ArrayLike<number>) => {
    for (let a = 0; a < nV; a++) { buf[pl.varPos[a]] = x[a]; gbuf[a] = x[a]; }
    for (let j = 0; j < nMem; j++) buf[pl.memPos[j]] = chi[j] * r.memory[j].gF(gbuf);
  };
  /** G_a at the last setX (algebraic: F − x; proximal: −ε(x − x(0)) on states) */
  const Ga = (a: number, x: number) => {
    const va = pl.vars[a];
    let g = va.F(buf);
    if (!va.dyn) g -= x;
    else if (ridge) g -= eps * (x - x0[a]);
    return g;
  };
  /** ∂G_a/∂x_b at the last setX, memory terms through the chain rule */
  const Jab = (a: number, b: number) => {
    const va = pl.vars[a];
    let d = va.dFx[b](buf);
    for (let j = 0; j < nMem; j++) { const dm = va.dFmem[j], c = chi[j]; if (dm && c !== 0) d += dm(buf) * c * r.memory[j].dg[b](gbuf); }
    if (a === b) { if (!va.dyn) d -= 1; else if (ridge) d -= eps; }
    return d;
  };

  // ---- one variable: the first zero the one-dimensional flow meets from x(0)
  const x1 = new Float64Array(1);
  const G1 = (x: number) => { x1[0] = x; setX(x1); return Ga(0, x); };
  const lower = pl.vars[0]?.lower ?? -Infinity, upper = pl.vars[0]?.upper ?? Infinity;
  const flowRoot = (start: number): Root => {
    x0[0] = start;
    let a = Math.min(upper, Math.max(lower, start));
    let ga = G1(a);
    if (!Number.isFinite(ga)) throw new NoFixedPoint(`the single-site equation is not finite at x = ${a}`);
    const finish = (x: number, pinned: boolean): Root => {
      G1(x);
      return { x: Float64Array.of(x), pinned, gp: Jab(0, 0), label: x === lower || x === upper ? 'b' : 'i' };
    };
    if (ga === 0) {
      const gp = Jab(0, 0);
      if (gp <= 0 || a === lower || a === upper) return finish(a, false);
      // an unstable equilibrium: leave it upwards
      a += 1e-9 * scale; ga = G1(a);
    }
    const dir = ga > 0 ? 1 : -1;
    let step = 1e-2 * scale;
    for (let it = 0; it < 2000; it++) {
      let b = a + dir * step;
      let atBound = false;
      if (b <= lower) { b = lower; atBound = true; } else if (b >= upper) { b = upper; atBound = true; }
      const gb = G1(b);
      if (!Number.isFinite(gb)) throw new NoFixedPoint(`the single-site equation is not finite at x = ${b}`);
      if (gb * dir <= 0) {
        let hi = b; // G(lo)·dir > 0, G(hi)·dir < 0
        if (gb === 0) {
          // an exact zero (e.g. the boundary of multiplicative growth): the first one
          // the flow meets only if G keeps its sign on the way, i.e. G'(b) < 0
          if (!(Jab(0, 0) > 0)) return finish(b, false);
          let c = b, gc = 0;
          for (let k = 1; k < 60 && !(gc * dir < 0); k++) { c = b - dir * Math.abs(b - a) * 2 ** -k; gc = G1(c); }
          if (!(gc * dir < 0)) return finish(b, false);
          hi = c;
        }
        // refine in the bracket: safeguarded Newton
        let lo = a;
        let x = 0.5 * (lo + hi);
        for (let k = 0; k < 200; k++) {
          const gx = G1(x);
          if (gx === 0) break;
          if (gx * dir > 0) lo = x; else hi = x;
          const d = Jab(0, 0);
          let xn = d !== 0 ? x - gx / d : NaN;
          if (!(xn > Math.min(lo, hi) && xn < Math.max(lo, hi))) xn = 0.5 * (lo + hi);
          if (Math.abs(xn - x) <= 1e-15 * (Math.abs(x) + 1e-300) || Math.abs(hi - lo) <= 4e-16 * Math.max(Math.abs(lo), Math.abs(hi))) { x = xn; break; }
          x = xn;
        }
        return finish(x, false);
      }
      if (atBound) return finish(b, true); // the flow pushes out of range: pinned at the bound
      a = b;
      step = Math.min(step * 2, 0.5 * scale + 0.25 * Math.abs(a - start));
      if (Math.abs(a - start) > 1e9 * scale) break;
    }
    throw new NoFixedPoint(`the single-site flow of ${pl.vars[0].name} runs away (no finite fixed point) at a node of the frozen field`);
  };

  // ---- several variables: pseudo-transient continuation from x(0) (states follow the flow, lets solved)
  const x = new Float64Array(nV), G = new Float64Array(nV);
  const J = Array.from({ length: nV }, () => new Array<number>(nV).fill(0));
  const dGdx = () => {
    setX(x);
    for (let a = 0; a < nV; a++) { G[a] = Ga(a, x[a]); for (let b = 0; b < nV; b++) J[a][b] = Jab(a, b); }
  };
  const A = new Float64Array(nV * nV), dx = new Float64Array(nV), keep = new Float64Array(nV);
  const norm = (y: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i])); return s; };
  const S = pl.vars.map((v, a) => (v.dyn ? a : -1)).filter((a) => a >= 0), Lt = pl.vars.map((v, a) => (v.dyn ? -1 : a)).filter((a) => a >= 0);
  /** the growth rate of the states' flow at the last dGdx, lets eliminated: the largest real part of
   *  J_ss − J_sl J_ll⁻¹ J_ls; NaN where the lets' equations are singular */
  const flowRate = (pinnedAt?: Uint8Array): number => {
    const Sf = pinnedAt ? S.filter((a) => !pinnedAt[a]) : S;
    let schur = Sf.map((a) => Sf.map((b) => J[a][b]));
    if (Lt.length && Sf.length) {
      const Jll = Lt.map((a) => Lt.map((b) => J[a][b]));
      const cols = Sf.map((b) => solveDense(Jll, Lt.map((a) => J[a][b])));
      if (cols.some((c) => !c)) return NaN;
      schur = Sf.map((a) => Sf.map((b, j) => J[a][b] - Lt.reduce((acc, l, k) => acc + J[a][l] * cols[j]![k], 0)));
    }
    return Sf.length ? maxRe(schur) : -Infinity;
  };
  const LL = new Float64Array(Lt.length * Lt.length), dl = new Float64Array(Lt.length);
  /** the lets solved (Newton) at the current states, and G, J there: false where that fails */
  const solveLets = (): boolean => {
    dGdx();
    for (let it = 0; it < 60; it++) {
      let res = 0;
      for (const l of Lt) res = Math.max(res, Math.abs(G[l]));
      if (res <= 1e-14 * (1 + norm(x))) return true;
      Lt.forEach((l, i) => { dl[i] = -G[l]; Lt.forEach((k, j) => { LL[i * Lt.length + j] = J[l][k]; }); });
      if (!luSolveInPlace(LL, dl, Lt.length)) return false;
      Lt.forEach((l, i) => { x[l] += dl[i]; });
      dGdx();
      if (!x.every(Number.isFinite)) return false;
    }
    let res = 0;
    for (const l of Lt) res = Math.max(res, Math.abs(G[l]));
    return res <= 1e-10 * (1 + norm(x));
  };
  const lo = pl.vars.map((v) => v.lower), hi = pl.vars.map((v) => v.upper);
  const bounded = S.filter((a) => lo[a] > -Infinity || hi[a] < Infinity);
  const pinned = new Uint8Array(nV);
  /** the states' residual: free states, and a pinned one only where the flow pushes it back into range */
  const stateRes = () => {
    let s = 0;
    for (const a of S) s = Math.max(s, pinned[a] ? Math.max(0, x[a] === lo[a] ? G[a] : -G[a]) : Math.abs(G[a]));
    return s;
  };
  /** the root the flow reaches from x(0): pseudo-transient continuation of the states (damped flow steps that
   *  become Newton steps near the root), the lets solved exactly after every step; a bounded state that a step
   *  carries out of range stops at its bound, pinned there while the flow pushes outwards */
  const ptcRoot = (start: ArrayLike<number>): Root => {
    const fail = () => new NoFixedPoint(`the single-site fixed point of population ${r.name} was not found at a node of the frozen fields (the flow runs away or a Newton step is singular)`);
    pinned.fill(0);
    for (let a = 0; a < nV; a++) { x0[a] = start[a]; x[a] = Math.min(hi[a], Math.max(lo[a], start[a])); }
    let tau = 0.5;
    if (!solveLets()) throw fail();
    for (const a of bounded) if ((x[a] === lo[a] && G[a] < 0) || (x[a] === hi[a] && G[a] > 0)) pinned[a] = 1;
    let rs = stateRes();
    // x(0) on an unstable equilibrium: the flow leaves it at the slightest perturbation, so leave it upwards
    if (rs <= 1e-13 * (1 + norm(x)) && flowRate(pinned) > 0) {
      for (const a of S) if (!pinned[a]) x[a] = Math.min(hi[a], x[a] + 1e-9 * (1 + Math.abs(x[a])));
      if (!solveLets()) throw fail();
      rs = stateRes();
    }
    /** dx = (D/τ − J)⁻¹ G (D: 1 on states; τ = ∞ is a plain Newton step; a pinned state does not move); false if singular or not finite */
    const step = (invTau: number): boolean => {
      for (let a = 0; a < nV; a++) {
        dx[a] = pinned[a] ? 0 : G[a];
        for (let b = 0; b < nV; b++) A[a * nV + b] = pinned[a] ? (a === b ? 1 : 0) : (a === b && pl.vars[a].dyn ? invTau : 0) - J[a][b];
      }
      if (!luSolveInPlace(A, dx, nV)) return false;
      for (let a = 0; a < nV; a++) if (!Number.isFinite(dx[a])) return false;
      return true;
    };
    const done = (): Root => {
      // a state that converged onto its bound (multiplicative growth at 0: the root is the bound itself) sits there
      for (const a of bounded) {
        const tolB = 1e-12 * (1 + Math.abs(x[a]));
        if (!pinned[a] && (Math.abs(x[a] - lo[a]) <= tolB || Math.abs(x[a] - hi[a]) <= tolB)) { x[a] = Math.abs(x[a] - lo[a]) <= tolB ? lo[a] : hi[a]; solveLets(); }
      }
      let label = 'i';
      if (bounded.length) label = Array.from(S, (a) => (x[a] === lo[a] || x[a] === hi[a] ? 'b' : 'i')).join('');
      return { x: Float64Array.from(x), pinned: false, gp: NaN, label, pinnedAt: bounded.length ? Uint8Array.from(pinned) : undefined };
    };
    for (let it = 0; it < 400; it++) {
      if (rs <= 1e-13 * (1 + norm(x))) {
        // a pinned state the flow pushes back into range is released
        let released = false;
        for (const a of bounded) if (pinned[a] && ((x[a] === lo[a] && G[a] > 0) || (x[a] === hi[a] && G[a] < 0))) { pinned[a] = 0; released = true; }
        if (released) { rs = stateRes(); if (rs > 1e-13 * (1 + norm(x))) continue; }
        // a state converging onto its bound: where the bound is itself a root (multiplicative growth at 0) the
        // convergence is only linear near a transcritical point, so try the bound: it is the root the flow
        // reaches when the growth rate there, ∂G/∂x, is not positive (the one-variable flow's rule)
        let snapped = false;
        for (const a of bounded) {
          if (pinned[a]) continue;
          const b = Math.abs(x[a] - lo[a]) <= Math.abs(x[a] - hi[a]) ? lo[a] : hi[a];
          if (!(Math.abs(x[a] - b) <= 1e-6 * scale) || x[a] === b) continue;
          keep.set(x);
          x[a] = b;
          const out = b === lo[a] ? -1 : 1;
          if (solveLets() && G[a] * out >= 0 && J[a][a] <= 0) { pinned[a] = 1; snapped = true; } else { x.set(keep); dGdx(); }
        }
        if (snapped) { rs = stateRes(); if (rs > 1e-13 * (1 + norm(x))) continue; }
        // plain Newton steps polish the root to rounding: quadratic convergence (one step, exact for an affine
        // site), only linear near a double root (a transcritical point at a bound), where a residual of 1e-13
        // still leaves x off by ~1e-7 and the jump test at a breakpoint would see a jump that is not there
        for (let k = 0; k < 60 && step(0); k++) {
          keep.set(x);
          for (let a = 0; a < nV; a++) x[a] += dx[a];
          if (bounded.some((a) => x[a] < lo[a] || x[a] > hi[a]) || !solveLets()) { x.set(keep); dGdx(); break; }
          if (norm(dx) <= 1e-15 * (1 + norm(x))) break;
        }
        return done();
      }
      if (!step(1 / tau)) throw fail();
      keep.set(x);
      const pinKeep = Uint8Array.from(pinned);
      let r2 = NaN;
      for (const a of S) {
        x[a] += dx[a];
        if (x[a] <= lo[a]) { x[a] = lo[a]; pinned[a] = 1; } else if (x[a] >= hi[a]) { x[a] = hi[a]; pinned[a] = 1; }
      }
      if (solveLets()) {
        // a state stopped at its bound stays pinned only where the flow pushes outwards
        for (const a of bounded) if (pinned[a] && !pinKeep[a] && ((x[a] === lo[a] && G[a] > 0) || (x[a] === hi[a] && G[a] < 0))) pinned[a] = 0;
        r2 = stateRes();
      }
      if (!(r2 <= rs * 1.5)) { x.set(keep); pinned.set(pinKeep); dGdx(); tau /= 4; if (tau < 1e-12) throw fail(); continue; }
      tau = r2 < rs ? Math.min(tau * 4, 1e12) : tau;
      rs = r2;
    }
    if (rs <= 1e-10 * (1 + norm(x))) return done();
    throw fail();
  };
  const root = (start: ArrayLike<number>): Root => (nV === 1 ? flowRoot(start[0]) : ptcRoot(start));

  /** ∂x* by ∂η_k and by ∂M_s at a root (false: the site's equations are singular there) */
  const dxdEta = Array.from({ length: nF }, () => new Float64Array(nV));
  const dxdM = Array.from({ length: nM }, () => new Float64Array(nV));
  const derivatives = (rt: Root): boolean => {
    setX(rt.x);
    if (nV === 1) {
      const ok = !rt.pinned && Math.abs(rt.gp) > 1e-300;
      const inv = ok ? -1 / rt.gp : 0;
      for (let e = 0; e < nF; e++) dxdEta[e][0] = ok ? pl.vars[0].dFfield[e](buf) * inv : 0;
      for (let j = 0; j < nM; j++) dxdM[j][0] = ok ? pl.vars[0].dFmean[j](buf) * inv : 0;
      return true;
    }
    // a pinned state does not move with the inputs
    const pm = rt.pinnedAt;
    for (let a = 0; a < nV; a++) for (let b = 0; b < nV; b++) J[a][b] = pm?.[a] ? (a === b ? 1 : 0) : Jab(a, b);
    for (let k = 0; k < nF; k++) {
      const s = solveDense(J, pl.vars.map((va, a) => (pm?.[a] ? 0 : -va.dFfield[k](buf))));
      if (!s) return false;
      for (let a = 0; a < nV; a++) dxdEta[k][a] = s[a];
    }
    for (let j = 0; j < nM; j++) {
      const s = solveDense(J, pl.vars.map((va, a) => (pm?.[a] ? 0 : -va.dFmean[j](buf))));
      if (!s) return false;
      for (let a = 0; a < nV; a++) dxdM[j][a] = s[a];
    }
    return true;
  };

  const vec = new Float64Array(pl.nVec);
  const nInit = np || (res.fine ? 12 : 8);
  const ghInit = gaussHermite(nInit);
  const constRules = pl.vars.every((v) => !v.init.perNode) ? pl.vars.map((v) => m.initRule(v, nInit, qbuf, ghInit)) : undefined;
  const initRules = () => constRules ?? pl.vars.map((v) => m.initRule(v, nInit, qbuf, ghInit));
  const nodeSig: string[] = [];

  const nOps = pl.ops.length;
  const grads = pl.ops.map(() => new Float64Array(nV)), ggrads = pl.ops.map(() => new Float64Array(nV));
  const D = new Float64Array(nF), Dg = new Float64Array(nF);
  const contrib = (rt: Root, w: number, acc: Float64Array | null) => {
    setX(rt.x);
    for (let a = 0; a < nV; a++) { bbuf[a] = rt.x[a]; bbuf[nV + a] = rt.x[a]; }
    for (let j = 0; j < nq; j++) bbuf[2 * nV + j] = gbuf[nV + j];
    let sig = rt.label;
    for (const k of pl.kinkRhs) sig += k(buf) > 0 ? '+' : '-';
    for (const k of pl.kinkOp) sig += k(gbuf) > 0 ? '+' : '-';
    for (const k of pl.kinkObs) sig += k(bbuf) > 0 ? '+' : '-';
    nodeSig.push(sig);
    if (!acc) return;
    // stability of the root (one variable: G′ < 0 unless pinned; several: the states' flow with the lets eliminated)
    if (nV === 1) { if (!rt.pinned && !(rt.gp < 0)) acc[pl.posUnstable] += w; }
    else {
      for (let a = 0; a < nV; a++) for (let b = 0; b < nV; b++) J[a][b] = Jab(a, b);
      const rate = flowRate(rt.pinnedAt);
      if (Number.isNaN(rate)) { acc[pl.posSingular] += w; return; }
      if (rate >= -1e-12) acc[pl.posUnstable] += w;
    }
    if (!derivatives(rt)) { acc[pl.posSingular] += w; return; }
    for (let j = 0; j < nOps; j++) {
      const { o, slotField } = pl.ops[j];
      const gr = grads[j];
      for (let a = 0; a < nV; a++) gr[a] = o.df[a](gbuf);
      const f = o.F(gbuf);
      const kind = o.op.kind;
      let val: number;
      if (kind === 'M') val = f;
      else if (kind === 'C') val = f * (o.g ? o.g.F(gbuf) : f);
      else { val = 0; for (let a = 0; a < nV; a++) val += gr[a] * dxdEta[slotField][a]; }
      acc[pl.posOp[j]] += w * val;
    }
    for (let ci = 0; ci < pl.cOps.length; ci++) {
      const j = pl.cOps[ci], o = pl.ops[j].o, gr = grads[j];
      let gg = gr;
      if (o.g) { gg = ggrads[j]; for (let a = 0; a < nV; a++) gg[a] = o.g.df[a](gbuf); }
      for (let k = 0; k < nF; k++) {
        let d = 0, dg = 0;
        for (let a = 0; a < nV; a++) { d += gr[a] * dxdEta[k][a]; dg += gg[a] * dxdEta[k][a]; }
        D[k] = d; Dg[k] = dg;
      }
      const base = pl.posStab + ci * nF * nF;
      for (let k = 0; k < nF; k++) for (let l = 0; l < nF; l++) acc[base + k * nF + l] += w * D[k] * Dg[l];
    }
    for (let mi = 0; mi < pl.mOps.length; mi++) {
      const gr = grads[pl.mOps[mi]];
      for (let s = 0; s < nM; s++) { let d = 0; for (let a = 0; a < nV; a++) d += gr[a] * dxdM[s][a]; acc[pl.posMeanB + mi * nM + s] += w * d; }
    }
    for (let i = 0; i < pl.avgs.length; i++) acc[pl.posAvg + i] += w * pl.avgs[i].F(bbuf);
  };

  const sameRoot = (a: Root, b: Root) => a.label === b.label && a.x.every((y, i) => Math.abs(y - b.x[i]) <= 1e-9 * scale);
  /** the fixed point at the current field/input values (with the proximal term: averaged over the initial draw) */
  const node = (w: number, acc: Float64Array | null): string => {
    nodeSig.length = 0;
    for (let j = 0; j < nq; j++) qbuf[j] = buf[pl.qPos[j]];
    const rules = initRules();
    const random = rules.some((ru) => ru.x.length > 1);
    if (!ridge && random) {
      // the roots from the extreme draws (every drawn state at its lowest, then its highest node): a 1-D flow
      // preserves order, so equal roots from both ends ⇒ the same root from every x(0) in between
      const ends = (hi: boolean) => Float64Array.from(rules, (ru) => (hi ? ru.x.reduce((p, q) => Math.max(p, q)) : ru.x.reduce((p, q) => Math.min(p, q))));
      const r1 = root(ends(false)), r2 = root(ends(true));
      // several attractors: flagged, and the driver refuses the fixed point (the basins are not resolved);
      // the root from the lowest draw stands in for the map meanwhile (no average over draws it cannot weigh)
      if (!sameRoot(r1, r2) && acc) acc[pl.posMulti] += w;
      contrib(r1, w, acc);
      return nodeSig.join('|');
    }
    forEachPoint(rules, (xs, w0) => contrib(root(xs), w * w0, acc));
    return nodeSig.join('|');
  };

  // the field covariance over the kept fields (the merged ones folded into the first), its factor
  const Vm = Array.from({ length: nF }, () => new Array<number>(nF).fill(0));
  for (const e of pl.V) { const y = e.f(vals); Vm[e.k][e.l] = y; Vm[e.l][e.k] = y; }
  const sd = Vm.map((row, k) => Math.sqrt(Math.max(0, row[k])));
  const nK = pl.kept.length;
  const etaMean = new Float64Array(nK);
  let Lk: number[][];
  if (r.cross.length === 0) {
    // independent fields: a diagonal factor (the merged inputs widen the first)
    Lk = pl.kept.map((k, i) => pl.kept.map((_, j) => (i === j ? sd[k] : 0)));
    if (nK > 0) {
      let innerVar = sd[0] ** 2;
      for (const mg of pl.merged) {
        if (mg.field !== undefined) innerVar += (mg.c * sd[mg.field]) ** 2;
        else { const [mu, v] = pl.qLaws[mg.q!].values; etaMean[0] += mg.c * mu; innerVar += mg.c * mg.c * Math.max(0, v); }
      }
      Lk[0][0] = Math.sqrt(innerVar);
    }
  } else {
    const Vk = pl.kept.map((k) => pl.kept.map((l) => (k === l ? Math.max(0, Vm[k][l]) : Vm[k][l])));
    for (const mg of pl.merged) { const [mu, v] = pl.qLaws[mg.q!].values; etaMean[0] += mg.c * mu; Vk[0][0] += mg.c * mg.c * Math.max(0, v); }
    Lk = choleskySemidefinite(Vk);
  }
  const innerSd = nK > 0 ? Lk[0][0] : 0;
  const innerCol = Lk.map((row) => row[0]);
  const zc = new Float64Array(nK);
  const base = new Float64Array(nK);
  /** the kept fields at the outer coordinates (before the inner one) */
  const setOuter = () => {
    for (let i = 0; i < nK; i++) { let s = etaMean[i]; for (let c = 1; c < nK; c++) if (Lk[i][c] !== 0) s += Lk[i][c] * zc[c]; base[i] = s; }
  };
  // (a merged input's own slot stays 0: the inner field carries it)
  const setInner = (z: number) => { for (let i = 0; i < nK; i++) buf[pl.fieldPos[pl.kept[i]]] = innerCol[i] !== 0 ? base[i] + innerCol[i] * z : base[i]; };
  const syncQ = () => { for (let j = 0; j < nq; j++) gbuf[nV + j] = buf[pl.qPos[j]]; };

  // dimensions: the inner coordinate (split at breakpoints), then the outer tensor rules
  const zRule = (level: number): Rule => (np ? gaussHermite(np) : trapNodes(level, res.L));
  const outer: { set: (u: number) => void; rule: Rule }[] = pl.dims.map((d, k) => {
    const level = lv[1 + k];
    if ('col' in d) {
      const c = d.col;
      return { set: (u: number) => { zc[c] = u; }, rule: Lk.some((row) => row[c] !== 0) ? zRule(level) : point(0) };
    }
    const p = pl.qPos[d.q];
    return { set: (u: number) => { buf[p] = u; }, rule: distRule(pl.qLaws[d.q], zRule(level), np && !pl.adaptQ.has(d.q) ? np : UNIFORM_N0 << level) };
  });

  // Jumps of an order-parameter function across a breakpoint z_b of the inner
  // coordinate (distributional derivative): φ′ ∋ Δf·δ, so for a C op
  // ⟨(φ′ dx*/dη)²⟩ is infinite (flagged), and for M and R ops of one variable
  // x_a, ⟨∂f/∂θ⟩ gains Δf·ϕ(z_b)·(∂x_a/∂θ)/(∂x_a/∂z), the motion of the jump with θ.
  const x0mid = () => Float64Array.from(initRules(), (ru) => ru.x.reduce((acc, y, i) => acc + ru.w[i] * y, 0));
  const sample = (z: number) => {
    setInner(z);
    const rt = root(x0mid());
    const ok = derivatives(rt);
    setX(rt.x);
    const dz = Float64Array.from({ length: nV }, (_, a) => { let s = 0; for (let i = 0; i < nK; i++) s += dxdEta[pl.kept[i]][a] * innerCol[i]; return s; });
    return {
      x: rt.x, ok, dz,
      f: pl.ops.map(({ o }) => o.F(gbuf)), g: pl.ops.map(({ o }) => (o.g ? o.g.F(gbuf) : 0)),
      de: Array.from({ length: nF }, (_, k) => Float64Array.from(dxdEta[k])), dm: Array.from({ length: nM }, (_, j) => Float64Array.from(dxdM[j])),
    };
  };
  const jumpTerms = (bp: number, w: number) => {
    if (nF === 0 || !(innerSd > 0)) return;
    const dz = 1e-7 * Math.max(1, Math.abs(bp));
    const pts = [bp - 2 * dz, bp - dz, bp + dz, bp + 2 * dz].map(sample);
    const jump = (get: (p: ReturnType<typeof sample>) => number) => jumpOf(get(pts[0]), get(pts[1]), get(pts[2]), get(pts[3]));
    let xJumps = false;
    for (let a = 0; a < nV; a++) if (jump((p) => p.x[a]) !== 0) xJumps = true;
    const dens = w * phiDensity(bp);
    pl.ops.forEach(({ o, slotField }, j) => {
      const df = jump((p) => p.f[j]);
      if (df === 0 && !(o.g && jump((p) => p.g[j]) !== 0)) return;
      const kind = o.op.kind;
      if (kind === 'C') { vec[pl.posJumpC + pl.cOps.indexOf(j)] += dens; return; }
      // the jump sits at a threshold of the one variable f reads; it moves with θ like that variable
      const a = o.vars.length === 1 ? o.vars[0] : -1;
      const dxdz = a < 0 ? 0 : 0.5 * (pts[1].dz[a] + pts[2].dz[a]);
      if (xJumps || a < 0 || !pts.every((p) => p.ok) || !(Math.abs(dxdz) > 0)) { vec[pl.posJumpOpen] += dens; return; }
      if (kind === 'M') {
        const mi = pl.mOps.indexOf(j);
        for (let k = 0; k < nM; k++) vec[pl.posMeanB + mi * nM + k] += (df * dens * 0.5 * (pts[1].dm[k][a] + pts[2].dm[k][a])) / dxdz;
      } else {
        vec[pl.posOp[j]] += (df * dens * 0.5 * (pts[1].de[slotField][a] + pts[2].de[slotField][a])) / dxdz;
      }
    });
  };

  const tmp = new Float64Array(pl.nVec);
  const inner = (w: number) => {
    syncQ();
    setOuter();
    if (nF === 0 || innerSd === 0) {
      setInner(0); node(w, vec);
      // a frozen state sitting exactly on a jump of a C op's function responds at O(1) to any perturbation
      const s = sample(0);
      pl.cOps.forEach((j, ci) => {
        const o = pl.ops[j].o;
        const fns = o.g ? [o.F, o.g.F] : [o.F];
        const jumps = fns.some((F) => s.x.some((xa, a) => jumpAcross((u) => { gbuf.set(s.x); gbuf[a] = u; return F(gbuf); }, xa) !== 0));
        if (jumps) vec[pl.posJumpC + ci] += w;
      });
      return;
    }
    // the smooth rule first; its nodes double as the scan for breakpoints
    const g = zRule(lv[0]);
    const n = g.x.length;
    tmp.fill(0);
    const zs: number[] = [], sigs: string[] = [];
    for (let i = 0; i < n; i++) { setInner(g.x[i]); zs.push(g.x[i]); sigs.push(node(g.w[i], tmp)); }
    if (np) { for (let i = 0; i < tmp.length; i++) vec[i] += w * tmp[i]; return; }
    const bps: number[] = [];
    for (let i = 0; i + 1 < n; i++) {
      const sa = sigs[i], sb = sigs[i + 1];
      if (sa === sb) continue;
      // every component (branch label, each kink's sign) that changes gets its own
      // breakpoint: several may fall in one scan interval
      const comps: ((sg: string) => boolean)[] = [];
      if (sa.length === sb.length) { for (let c = 0; c < sa.length; c++) if (sa[c] !== sb[c]) comps.push((sg) => sg[c] === sa[c]); }
      else comps.push((sg) => sg === sa);
      for (const same of comps) {
        let lo = zs[i], hi = zs[i + 1];
        for (let k = 0; k < 60 && hi - lo > 1e-13; k++) {
          const mid = 0.5 * (lo + hi);
          setInner(mid);
          if (same(node(1, null))) lo = mid; else hi = mid;
        }
        const bp = 0.5 * (lo + hi);
        if (!bps.some((b) => Math.abs(b - bp) < 1e-12)) bps.push(bp);
      }
    }
    if (bps.length === 0) {
      for (let i = 0; i < tmp.length; i++) vec[i] += w * tmp[i];
      return;
    }
    bps.sort((a, b) => a - b);
    for (const bp of bps) jumpTerms(bp, w);
    visitPanels(bps, res.L, PANEL_W0 / 2 ** lv[0], PANEL_GL, (z, u) => { setInner(z); node(w * u * phiDensity(z), vec); });
  };

  const rec = (d: number, w: number) => {
    if (d === outer.length) { inner(w); return; }
    const { set, rule } = outer[d];
    for (let i = 0; i < rule.x.length; i++) { set(rule.x[i]); rec(d + 1, w * rule.w[i]); }
  };
  rec(0, 1);
  return { vec };
}

function phi(m: StaticModel, vals: Float64Array, eps: number, res: Resolution, scales: number[]): PhiEval {
  m.evals++;
  const next = new Float64Array(vals.length);
  const pops = m.pops.map((pl, i) => evalPop(m, pl, vals, eps, res, scales[i]));
  m.pops.forEach((pl, i) => pl.ops.forEach(({ op }, j) => { next[op] = pops[i].vec[pl.posOp[j]]; }));
  return { next, pops };
}

// ---------------------------------------------------------------------------
// the self-consistent solve at one ε

const resid = (a: Float64Array, b: Float64Array) => {
  // root-mean-square relative residual
  let r = 0;
  for (let i = 0; i < a.length; i++) r += ((a[i] - b[i]) / Math.max(1e-6, Math.abs(a[i]), Math.abs(b[i]))) ** 2;
  return Math.sqrt(r / Math.max(1, a.length));
};

interface Solved { vals: Float64Array; ev: PhiEval; iterations: number; residual: number; res: Resolution }

/** the self-consistent iteration diverges or stalls */
class Diverged extends NoFixedPoint {}

function solveAt(m: StaticModel, start: Float64Array, eps: number, tol: number, maxIter: number, scales: number[], res = m.res): Solved {
  let v: Float64Array = Float64Array.from(start);
  let ev = phi(m, v, eps, res, scales);
  let r = resid(ev.next, v);
  let a = 0.5, iterations = 1;
  const finiteAll = (x: Float64Array) => x.every((y) => Number.isFinite(y) && Math.abs(y) < 1e12);
  // autocorrelations stay non-negative; a cross-correlation C[f,g] may have either sign
  const isC = m.reading.sys.orderParams.map((o) => o.kind === 'C' && !m.reading.orders.get(o.name)?.g);
  const clampC = (x: Float64Array): Float64Array => { for (let i = 0; i < x.length; i++) if (isC[i] && x[i] < 0) x[i] = 0; return x; };
  // damped Picard with adaptive damping
  let prev = Infinity;
  while (r > 1e-2 && iterations < Math.min(40, maxIter)) {
    if (!finiteAll(ev.next)) throw new Diverged('the order parameters diverge');
    if (r > prev * 1.05) a = Math.max(0.02, a * 0.5); else if (r < prev * 0.7) a = Math.min(1, a * 1.25);
    prev = r;
    const nv = clampC(v.map((x, i) => x + a * (ev.next[i] - x)));
    v = nv;
    ev = phi(m, v, eps, res, scales);
    r = resid(ev.next, v);
    iterations++;
  }
  if (!finiteAll(ev.next)) throw new Diverged('the order parameters diverge');
  // Newton on Φ(v) − v with a finite-difference Jacobian
  const n = v.length;
  for (let it = 0; it < 25 && r > tol; it++) {
    const F0 = ev.next.map((x, i) => x - v[i]);
    const J = new Matrix(n, n);
    for (let j = 0; j < n; j++) {
      const h = 1e-7 * Math.max(1e-3, Math.abs(v[j]));
      const vj = Float64Array.from(v); vj[j] += h;
      const e2 = phi(m, vj, eps, res, scales);
      iterations++;
      for (let i = 0; i < n; i++) J.set(i, j, (e2.next[i] - vj[i] - F0[i]) / h);
    }
    let step: Float64Array;
    try {
      step = Float64Array.from(mlSolve(J, Matrix.columnVector(Array.from(F0))).to1DArray()).map((x) => -x);
    } catch {
      break;
    }
    if (!step.every(Number.isFinite)) break;
    // keep correlations positive: shrink the step so that no C falls below a tenth of its value
    let lambda = 1, accepted = false;
    for (let i = 0; i < n; i++) if (isC[i] && step[i] < 0 && v[i] > 0) lambda = Math.min(lambda, (0.9 * v[i]) / -step[i]);
    for (let ls = 0; ls < 12; ls++) {
      const nv = clampC(v.map((x, i) => x + lambda * step[i]));
      let e2: PhiEval;
      try { e2 = phi(m, nv, eps, res, scales); } catch (e) { if (e instanceof NoFixedPoint) { lambda /= 2; continue; } throw e; }
      iterations++;
      const r2 = resid(e2.next, nv);
      if (r2 < r) { v = nv; ev = e2; r = r2; accepted = true; break; }
      lambda /= 2;
    }
    if (!accepted) break;
  }
  // fall back to more damped iterations if Newton stalled
  let extra = 0, best = r, sinceBest = 0;
  while (r > tol && extra < maxIter) {
    v = clampC(v.map((x, i) => x + 0.5 * (ev.next[i] - x)));
    ev = phi(m, v, eps, res, scales);
    r = resid(ev.next, v);
    iterations++; extra++;
    if (!finiteAll(ev.next)) throw new Diverged('the order parameters diverge');
    if (r < 0.9 * best) { best = r; sinceBest = 0; } else if (++sinceBest > 20) break;
  }
  if (!(r <= Math.max(tol, 1e-7))) throw new Diverged(`the self-consistent iteration does not converge (residual ${r.toExponential(2)} after ${iterations} evaluations)`);
  return { vals: v, ev, iterations, residual: r, res };
}

/** integrals below this size count absolutely (to QUAD_TOL·MAP_FLOOR): a state at 0 by symmetry has only rounding there */
const MAP_FLOOR = 1e-4;

/** The largest relative change between two evaluations of the map, over every integral it accumulates. */
function mapChange(a: PhiEval, b: PhiEval): number {
  let worst = 0;
  a.pops.forEach((pa, p) => {
    const x = pa.vec, y = b.pops[p].vec;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(MAP_FLOOR, Math.abs(x[i]), Math.abs(y[i])));
  });
  return worst;
}

/** Quadrature nodes of one evaluation of a population's map at a resolution (inner dimension: its smooth rule). */
function nodesOf(m: StaticModel, p: number, res: Resolution): number {
  const pl = m.pops[p];
  if (pl.poly !== undefined && !pl.adaptQ.size) return 0;
  return res.lv[p].reduce((acc, l, d) => {
    const dim = d === 0 ? undefined : pl.dims[d - 1];
    if (pl.poly !== undefined) return acc * (dim && 'q' in dim && pl.adaptQ.has(dim.q) ? UNIFORM_N0 << l : pl.poly + 2);
    const n = dim && 'q' in dim && pl.qLaws[dim.q].kind === 'uniform' ? UNIFORM_N0 << l : 2 * (Math.round(res.L / TRAP_H0) << l) + 1;
    return acc * n;
  }, 1);
}

/**
 * Refine the quadrature until it is converged at the solution: for every
 * dimension of every population, one level finer may not change any integral
 * of the map by more than QUAD_TOL (relative); the dimensions that do are
 * refined and the fixed point is solved again, until none does (or the node
 * budget is spent: the error estimate then shows it).
 */
function resolve(m: StaticModel, sol: Solved, eps: number, tol: number, maxIter: number, scales: number[]): Solved {
  let cur = sol;
  for (let round = 0; round < MAX_LEVEL; round++) {
    let res = cur.res;
    m.pops.forEach((pl, p) => {
      if (pl.poly !== undefined && !pl.adaptQ.size) return;
      cur.res.lv[p].forEach((l, d) => {
        if (l >= MAX_LEVEL || (d > 0 && 'q' in pl.dims[d - 1] && pl.qLaws[(pl.dims[d - 1] as { q: number }).q].kind === 'bernoulli')) return;
        // exact Gaussian rules: only the adaptively refined uniform inputs
        if (pl.poly !== undefined && !(d > 0 && 'q' in pl.dims[d - 1] && pl.adaptQ.has((pl.dims[d - 1] as { q: number }).q))) return;
        const up = withLevel(cur.res, p, d, l + 1);
        if (nodesOf(m, p, up) > MAX_NODES) { m.capped = true; return; }
        if (mapChange(phi(m, cur.vals, eps, up, scales), cur.ev) > QUAD_TOL) res = withLevel(res, p, d, l + 1);
      });
    });
    // the z-range: widened while a wider one changes the map or an observable (mass beyond the range)
    if (cur.res.L < TRAP_L_MAX) {
      const up: Resolution = { ...cur.res, L: wider(cur.res.L) };
      if (m.pops.every((pl, p) => pl.poly !== undefined || nodesOf(m, p, up) <= MAX_NODES) && mapChange(phi(m, cur.vals, eps, up, scales), cur.ev) > QUAD_TOL) res = { ...res, L: up.L };
    }
    if (res === cur.res) break;
    cur = solveAt(m, cur.vals, eps, tol, maxIter, scales, res);
  }
  // later solves start from the finest resolution any solution needed
  m.res = { lv: m.res.lv.map((l, p) => l.map((x, d) => Math.max(x, cur.res.lv[p][d]))), fine: false, L: Math.max(m.res.L, cur.res.L) };
  return cur;
}

// ---------------------------------------------------------------------------
// stability and observables of a solution


function assess(m: StaticModel, vals: Float64Array, ev: PhiEval, eps: number): SiteAssessment {
  const sys = m.reading.sys;
  // the fluctuation map on the C order parameters: δC_c = Σ_kl ⟨D^c_k D^c_l⟩ δV_kl, δV_kl = Σ ∂V_kl/∂C_c′ δC_c′
  const cIdx = sys.orderParams.map((o, i) => (o.kind === 'C' ? i : -1)).filter((i) => i >= 0);
  const cPos = new Map(cIdx.map((c, i) => [c, i]));
  const T = cIdx.map(() => new Array<number>(cIdx.length).fill(0));
  // a C op whose function jumps where its field has density feeds an infinite
  // ⟨φ′²⟩ into every field whose covariance reads it
  const jumping = new Set<number>();
  m.pops.forEach((pl, p) => pl.cOps.forEach((j, ci) => { if (ev.pops[p].vec[pl.posJumpC + ci] > 0) jumping.add(pl.ops[j].op); }));
  let jumps = false;
  m.pops.forEach((pl, p) => {
    const nF = pl.fieldPos.length, vec = ev.pops[p].vec;
    for (const e of pl.V) for (const d of e.d) if (jumping.has(d.op) && d.f(vals) !== 0) jumps = true;
    pl.cOps.forEach((j, ci) => {
      const base = pl.posStab + ci * nF * nF, row = T[cPos.get(pl.ops[j].op)!];
      for (const e of pl.V) {
        // V_kl and V_lk (the same entry) both move
        const wgt = e.k === e.l ? vec[base + e.k * nF + e.l] : vec[base + e.k * nF + e.l] + vec[base + e.l * nF + e.k];
        for (const d of e.d) row[cPos.get(d.op)!] += wgt * d.f(vals);
      }
    });
  });
  const mIdx = sys.orderParams.map((o, i) => (o.kind === 'M' ? i : -1)).filter((i) => i >= 0);
  const mPos = new Map(mIdx.map((c, i) => [c, i]));
  const B = mIdx.map(() => new Array<number>(mIdx.length).fill(0));
  m.pops.forEach((pl, p) => pl.mOps.forEach((j, mi) => {
    const row = B[mPos.get(pl.ops[j].op)!];
    pl.meanOp.forEach((opj, s) => { row[mPos.get(opj)!] += ev.pops[p].vec[pl.posMeanB + mi * pl.meanPos.length + s]; });
  }));
  const rho = jumps ? Infinity : spectralExtent(T).mod;
  const meanEig = spectralExtent(B).re;
  let unstable = 0, singular = 0, multistable = 0, openJumps = 0;
  m.pops.forEach((pl, p) => {
    const vec = ev.pops[p].vec;
    unstable = Math.max(unstable, vec[pl.posUnstable]); singular = Math.max(singular, vec[pl.posSingular]);
    multistable = Math.max(multistable, vec[pl.posMulti]); openJumps = Math.max(openJumps, vec[pl.posJumpOpen]);
  });
  const limit = observablesOf(m, ev);
  let chiEps = 0;
  sys.orderParams.forEach((o, i) => { if (o.kind === 'R') chiEps = Math.max(chiEps, Math.abs(vals[i]) * eps); });
  return { rho, meanEig, unstable, singular, multistable, openJumps, limit, chiEps };
}

function observablesOf(m: StaticModel, ev: PhiEval): Record<string, number> {
  const out: Record<string, number> = table();
  m.reading.observables.forEach((ob, oi) => {
    if (ob.def.times.length > 1) return;
    const slots = new Float64Array(ob.averages.length);
    m.pops.forEach((pl, b) => pl.avgs.forEach((a, i) => { if (a.obs === oi) slots[a.a] = ev.pops[b].vec[pl.posAvg + i]; }));
    out[ob.def.name] = ob.outer(slots);
  });
  return out;
}

// ---------------------------------------------------------------------------
// the site as the driver (static-driver.ts) reads it

/** The sites of a system (one variable or several): their static map on the rules above, solved by damped iteration and Newton. */
export class StaticSiteMap implements StaticSite<Solved> {
  readonly opNames: string[];
  readonly opKinds: string[];
  readonly params: Record<string, number>;
  /** floor: the rounding of sums over a few hundred nodes; with several variables per site also of the
   *  Newton solves of their roots and of the order-parameter solve */
  readonly roundingFloor: { relative: number; absolute: number };
  private readonly scales: number[];
  private readonly maxIter: number;

  constructor(private readonly m: StaticModel, maxIter: number) {
    this.opNames = m.opNames;
    this.opKinds = m.reading.sys.orderParams.map((o) => o.kind);
    this.params = m.params;
    this.maxIter = maxIter;
    this.roundingFloor = m.pops.every((pl) => pl.nV === 1) ? { relative: 1e-14, absolute: 0 } : { relative: 1e-12, absolute: 1e-15 };
    // the typical size of the initial condition: the first step of each single-site flow
    this.scales = m.pops.map((pl) => {
      const q = Float64Array.from(pl.qLaws, (d) => (d.kind === 'uniform' ? 0.5 * (d.values[0] + d.values[1]) : d.values[0]));
      let s = 0;
      for (const va of pl.vars) {
        const r = m.initRule(va, 8, q);
        let sv = 0;
        for (let i = 0; i < r.x.length; i++) sv += r.w[i] * r.x[i] * r.x[i];
        s = Math.max(s, sv);
      }
      return Math.max(1, Math.sqrt(s));
    });
  }

  /** @throws Unsupported when the system has no static map this site can evaluate */
  static of(reading: SystemReading, opts: StaticOptions): StaticSiteMap {
    return new StaticSiteMap(new StaticModel(reading), opts.maxIter ?? 400);
  }

  get evals(): number { return this.m.evals; }
  start(): Float64Array { return this.m.start(); }
  meanFeedback(): boolean { return this.m.meanFeedback(); }
  solve(v: Float64Array, eps: number, tol: number): Solved { return solveAt(this.m, v, eps, tol, this.maxIter, this.scales); }
  refine(sol: Solved, eps: number, tol: number): Solved { return resolve(this.m, sol, eps, tol, this.maxIter, this.scales); }
  // converged far below the quadrature differences it measures (a residual
  // within the base tolerance would leave the order parameters where they were)
  solveFiner(sol: Solved, eps: number): Solved { return solveAt(this.m, sol.vals, eps, FINE_TOL, this.maxIter, this.scales, oneFiner(sol.res)); }
  observables(sol: Solved): Record<string, number> { return observablesOf(this.m, sol.ev); }
  observablesFiner(sol: Solved, eps: number): Record<string, number> { return observablesOf(this.m, phi(this.m, sol.vals, eps, oneFiner(sol.res), this.scales)); }
  observablesStep(sol: Solved, eps: number): Record<string, number> { return observablesOf(this.m, phi(this.m, sol.ev.next, eps, sol.res, this.scales)); }
  assess(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, sol.ev, eps); }
  assessFiner(sol: Solved, eps: number): SiteAssessment { return assess(this.m, sol.vals, phi(this.m, sol.vals, eps, oneFiner(sol.res), this.scales), eps); }
  diagnostics(sol: Solved): Record<string, number | string | boolean> {
    const d: Record<string, number | string | boolean> = { quadratureLevels: JSON.stringify(sol.res.lv) };
    if (this.m.capped) d.quadratureCapped = `a refinement past ${MAX_NODES} nodes per evaluation was skipped (the error estimate includes what it would have changed)`;
    return d;
  }
}
