// The static map of scalar sites (one variable per site) for the static
// driver (static-driver.ts): the long-time fixed point of relaxational
// dynamics, read only from the derived DmftSystem (see docs/conventions.md,
// "Fixed points of relaxational dynamics").
//
// At a fixed point every order parameter is frozen: each Gaussian field η
// becomes a static Gaussian with variance cov(q) (q = C_f at equal late
// times), each memory integral ∫R(t,s) g(x(s)) ds becomes χ·g(x) with
// χ = ∫R(t,s) ds the static susceptibility, and each mean-field slot its
// static value. The single-site fixed point x*(z) is the zero of
//   G(x) = F(x, …)        (dynamic: d/dt x = F)     or
//   G(x) = F(x, …) − x    (algebraic: x = F)
// that the one-dimensional flow d/dt x = G(x) reaches from the initial
// condition (so: a stable root, G' < 0; for a bound `>= 0` with
// multiplicative growth the boundary value, where the growth rate there is
// negative; a hard bound pins the state when the flow pushes out of range).
// q, M, χ close self-consistently; χ = ⟨f'(x*) dx*/dη⟩ with the implicit
// derivative dx*/dη = −(∂F/∂η)/G'(x*) (zero at the bound). Averages are
// quadratures over the frozen fields and the quenched inputs (Gaussian inputs
// that enter only through η + c·input are merged into one field first): the
// Gaussian trapezoid rule in z where the integrand is smooth — x*(η) can have
// branch points close to the real axis (where G′ nearly vanishes), which
// Gauss–Hermite resolves only slowly; where the fixed point switches branch
// or an average has a kink/jump (a bound, `>`, relu, abs), the breakpoints
// are located by bisection and each smooth piece gets Gauss–Legendre panels
// against the normal density. Each dimension is refined (step halved) until
// one more level changes no integral by more than QUAD_TOL. (An affine
// single-site equation without bounds has x* affine in its inputs: every
// integrand is then a polynomial and a few Gaussian nodes are exact.) The
// quadrature error is the change of the observables when the fixed point is
// solved again one level finer everywhere — responses and order parameters
// move with the map, and the observables with them.
//
// Stability (the fixed point must be the dynamics' attractor):
//  - single site: G'(x*) < 0 wherever the state is not pinned;
//  - the fluctuation (replicon / de Almeida–Thouless type) mode: a random
//    perturbation of the fields propagates as δv_e = Σ ∂cov_e/∂C ⟨(f' dx*/dη_e')²⟩ δv_e';
//    the fixed point is stable iff the spectral radius ρ of that matrix is < 1
//    (for Lotka–Volterra this is σ²φ/(1+γσ²χ)² < 1, i.e. φσ²(1+γ)² < 1 on the
//    line; for SCS g²⟨φ'(x)²⟩ < 1, which fails in the chaotic phase);
//  - the uniform (mean-field) mode: eigenvalues of ∂⟨f⟩/∂M below 1.
// Derivatives are distributional: where an order-parameter function jumps
// (sign, `>`) across a breakpoint of the frozen field, φ′ carries a δ, so the
// fluctuation eigenvalue is infinite (chaos), and responses and the mean mode
// gain the finite δ terms of the moving jump. An eigenvalue at 1 within the
// accuracy of the computation is reported as marginal (no value).
// The driver decides with these: branches from flipped seeds when mean
// fields feed back, and for degenerate fixed points (zero modes, e.g.
// gradient flow on an under-determined regression, α < 1) the proximal
// continuation −ε(x − x(0)) → 0 (a multistable site: the root is averaged over
// the initial condition, and the result flagged `initDependent`).
//
// Nothing here knows any particular model.
import { NoFixedPoint, spectralExtent, Unsupported, type SiteAssessment, type StaticOptions, type StaticSite } from './static-driver.ts';
import { Matrix, solve as mlSolve } from 'ml-matrix';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import type { Dist } from '../model/ir.ts';
import { constantValue } from '../expr/eval.ts';
import { gaussHermite } from '../numeric/rules.ts';
import { jumpAcross, jumpOf, kinkArgs } from '../numeric/kinks.ts';
import { gaussLegendre, normalTrapezoid, type Rule, visitPanels } from '../numeric/rules.ts';
import type { OrderReading, ScalarPopReading as PopReading, ScalarReading } from './read.ts';
import { table } from '../table.ts';

// ---------------------------------------------------------------------------
// quadrature rules



const point = (v: number): Rule => ({ x: Float64Array.of(v), w: Float64Array.of(1) });

/** A quenched input's law as a finite constant-parameter distribution (normal: mean and variance). */
function distParams(dist: Dist, params: Record<string, number>, what: string): Dist & { values: number[] } {
  const val = (e: Expr, name: string) => {
    const v = constantValue(e, params);
    if (v === undefined || !Number.isFinite(v)) throw new Unsupported(`the ${name} of ${what} (${print(e)}) is not a finite number`);
    return v;
  };
  switch (dist.kind) {
    case 'normal': return { ...dist, values: [val(dist.mean, 'mean'), val(dist.var, 'variance')] };
    case 'uniform': return { ...dist, values: [val(dist.lo, 'lower end'), val(dist.hi, 'upper end')] };
    case 'bernoulli': return { ...dist, values: [val(dist.p, 'probability')] };
    default: throw new Unsupported(`${what} has a ${dist.kind} distribution, which has no static quadrature`);
  }
}

/**
 * The rule of a quenched input: a normal law on the standard-normal rule `z`
 * (shifted and scaled), a uniform one on Gauss–Legendre with `nUniform`
 * nodes, a Bernoulli one exactly.
 */
function distRule(d: ReturnType<typeof distParams>, z: Rule, nUniform: number): Rule {
  switch (d.kind) {
    case 'normal': {
      const [m, v] = d.values;
      if (!(v > 0)) return point(m);
      const s = Math.sqrt(v);
      return { x: z.x.map((u) => m + s * u), w: z.w };
    }
    case 'uniform': {
      const [a, b] = d.values;
      if (!(b > a)) return point(a);
      const g = gaussLegendre(nUniform);
      return { x: g.x.map((u) => a + ((b - a) * (u + 1)) / 2), w: g.w.map((w) => w / 2) };
    }
    default: {
      const [p] = d.values;
      return { x: Float64Array.of(0, 1), w: Float64Array.of(1 - p, p) };
    }
  }
}

// ---------------------------------------------------------------------------
// the plan: everything compiled once

/**
 * Quadrature resolution: a refinement level for every dimension of every
 * population (0 = the base rules). Dimension 0 is the inner field (with the
 * Gaussian inputs merged into it), then the outer dimensions of `PopPlan.dims`.
 *   normal dimension   the Gaussian trapezoid rule in z on [−TRAP_L, TRAP_L]
 *                      with step TRAP_H0/2^level (nested: a level keeps every
 *                      node of the one below)
 *   inner, split       Gauss–Legendre panels (PANEL_GL nodes, width ≤
 *                      PANEL_W0/2^level) between the breakpoints
 *   uniform input      Gauss–Legendre, UNIFORM_N0·2^level nodes
 * Gauss–Hermite is used only where the integrands are polynomials (exact):
 * elsewhere it converges like e^{−c·d·√n} for singularities at distance d
 * from the real axis — and a single-site root x*(u) has branch points close to
 * it when the reaction term nearly cancels the leak (1 − a·φ′ ≈ 0, at
 * distance ~(1 − a)^{3/2}), where the trapezoid rule still converges like
 * e^{−2πd/h}.
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

interface FieldPlan {
  name: string;
  pop: number;
  /** position of the field among the population's fields */
  k: number;
  cov: Compiled;
  /** ∂cov/∂(C op) for every C order parameter in the covariance */
  dcov: { op: number; d: Compiled }[];
}

interface PopPlan {
  r: PopReading;
  index: number;
  dynamic: boolean;
  nq: number;
  fieldPos: number[];
  qPos: number[];
  qLaws: ReturnType<typeof distParams>[];
  /** Gaussian inputs merged into the inner field: the equation sees them only through
   *  η₀ + c·input, and nothing else reads them (their sum is one Gaussian) */
  merged: { field?: number; q?: number; c: number }[];
  /** the outer dimensions (after the inner field): unmerged fields and quenched inputs */
  dims: ({ field: number } | { q: number })[];
  meanPos: number[];
  meanOp: number[];
  dFmean: Compiled[];
  memPos: number[];
  memOp: number[];
  tPos: number;
  dFx: Compiled;
  dFfield: Compiled[];
  dFmem: Compiled[];
  init?: { spec: NonNullable<PopReading['pop']['init']> };
  /** order parameters of this population */
  ops: { op: number; o: OrderReading; slotField: number }[];
  /** C ops of this population (indices into `ops`) */
  cOps: number[];
  mOps: number[];
  /** observable averages over this population */
  avgs: { obs: number; a: number; F: Compiled }[];
  kinkRhs: Compiled[];
  kinkBody: Compiled[];
  /** affine single-site equation and polynomial integrands: Gaussian rules with this many
   *  nodes per dimension are exact (undefined otherwise) */
  poly?: number;
  /** with `poly`: the quenched inputs (uniform) the integrands are not polynomial in — the equation is
   *  affine in the Gaussian inputs with coefficients that depend on them (a per-site variance u^a):
   *  their Gauss–Legendre rule is refined adaptively, the Gaussian dimensions stay exact */
  adaptQ: Set<number>;
  // accumulator layout
  nVec: number;
  posOp: number[];
  posStab: number; // + ci * nFields + e
  posMeanB: number; // + mi * nMeans + j
  posAvg: number;
  posX2: number;
  posUnstable: number;
  posMulti: number;
  /** + ci: probability density (× weight) at which the C op's function jumps (its φ′ carries a δ) */
  posJumpC: number;
  /** δ terms that could not be resolved (the fixed point itself jumps there) */
  posJumpOpen: number;
}

const opSlot = (i: number) => `__op${i}`;

class StaticModel {
  readonly reading: ScalarReading;
  readonly params: Record<string, number>;
  readonly opNames: string[];
  readonly opIndex: Map<string, number>;
  readonly pops: PopPlan[];
  readonly fields: FieldPlan[] = [];
  /** fields of each population (indices into `fields`) */
  readonly popFields: number[][];
  /** evaluations of the static map so far */
  evals = 0;
  /** the quadrature resolution later solves start from (raised by `resolve`) */
  res: Resolution;
  /** a refinement was skipped for the node budget */
  capped = false;

  constructor(reading: ScalarReading) {
    this.reading = reading;
    this.params = reading.params;
    const sys = reading.sys;
    this.opNames = sys.orderParams.map((o) => o.name);
    this.opIndex = new Map(this.opNames.map((n, i) => [n, i]));
    const opSlots = this.opNames.map((_, i) => opSlot(i));
    for (const p of reading.pops) {
      if (p.noises.length) throw new Unsupported(`population ${p.pop.name} is driven by white noise (${p.noises.map((n) => n.name).join(', ')}): its long-time state is stationary, not static — use the stationary solver`);
      if (some(p.rhs, (x) => x.k === 'sym' && x.name === 't')) throw new Unsupported(`the equation of ${p.pop.variable} depends explicitly on time: no static fixed point`);
    }
    this.popFields = reading.pops.map(() => []);
    this.pops = reading.pops.map((r, index): PopPlan => {
      const slot = (name: string) => r.slots.indexOf(name);
      const dF = (name: string) => compile(diff(r.rhs, isVar(name)), r.slots, this.params);
      r.fields.forEach((name, k) => {
        const gf = r.pop.fields[k];
        const covE = mapPost(gf.cov, (x) => {
          if (x.k !== 'op') return x;
          const i = this.opIndex.get(x.name);
          if (i === undefined) throw new Unsupported(`the covariance of ${name} uses ${x.name}, which is not an order parameter`);
          return sym(opSlot(i));
        });
        const dcov: FieldPlan['dcov'] = [];
        this.opNames.forEach((n, i) => {
          if (sys.orderParams[i].kind === 'C' && some(covE, (x) => x.k === 'sym' && x.name === opSlot(i)))
            dcov.push({ op: i, d: compile(diff(covE, isVar(opSlot(i))), opSlots, this.params) });
        });
        this.popFields[index].push(this.fields.length);
        this.fields.push({ name, pop: index, k, cov: compile(covE, opSlots, this.params), dcov });
      });
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
      const qNames = r.quenched.map((q) => q.name);
      const bodySlots = [r.pop.variable, `${r.pop.variable}@2`, ...qNames];
      const avgs: PopPlan['avgs'] = [];
      reading.observables.forEach((ob, oi) => ob.averages.forEach((a, ai) => { if (a.pop === r.pop.name) avgs.push({ obs: oi, a: ai, F: a.F }); }));
      const kinkBody: Compiled[] = [];
      for (const { o } of ops) for (const k of kinkArgs(o.f)) kinkBody.push(compile(k, bodySlots, this.params));
      reading.observables.forEach((ob) => ob.averages.forEach((a) => { if (a.pop === r.pop.name) for (const k of kinkArgs(a.body)) kinkBody.push(compile(k, bodySlots, this.params)); }));
      const kinkRhs = kinkArgs(r.rhs).map((k) => compile(k, r.slots, this.params));
      for (const m of r.memory) { if (kinkArgs(m.g).length) throw new Unsupported(`the memory integrand ${print(m.g)} is not smooth`); }
      const nF = r.fields.length, nM = r.means.length;
      // x* is affine in the inputs when the equation is (no bounds, affine memory):
      // then every integrand is a polynomial of known degree
      const polyNodes = (isIn: (x: Expr) => boolean): number | undefined => {
        let D = 2;
        for (const { o } of ops) { const d = degree(o.f, isIn); D = Math.max(D, o.op.kind === 'C' ? 2 * d : d); }
        for (const a of avgs) D = Math.max(D, degree(reading.observables[a.obs].averages[a.a].body, isIn));
        return Number.isFinite(D) ? Math.ceil((D + 1) / 2) + 1 : undefined;
      };
      let poly: number | undefined;
      const adaptQ = new Set<number>();
      if (r.affine && kinkBody.length === 0 && kinkRhs.length === 0) poly = polyNodes((x) => x.k === 'sym' && bodySlots.includes(x.name));
      // affine in the Gaussian inputs given the uniform ones (u^(a/2)·η): x* is affine in the
      // Gaussian inputs at every u, so Gaussian rules stay exact there and only u needs refining
      const uniformQ = r.quenched.map((q, j) => (q.input.dist.kind === 'uniform' ? j : -1)).filter((j) => j >= 0);
      if (poly === undefined && uniformQ.length && kinkBody.length === 0 && kinkRhs.length === 0 && r.lower === undefined && r.upper === undefined) {
        const coef = new Set(uniformQ.map((j) => qNames[j]));
        const stoch = new Set([...r.slots].filter((x) => !coef.has(x) && x !== 't' && !r.means.some((mm) => mm.slot === x)));
        const isG = (x: Expr) => x.k === 'sym' && stoch.has(x.name);
        const gSlots = new Set([r.pop.variable, ...qNames.filter((q) => !coef.has(q))]);
        const affineGivenU = degree(r.rhs, isG) <= 1 && r.memory.every((mm) => degree(mm.g, (x) => x.k === 'sym' && gSlots.has(x.name)) <= 1);
        if (affineGivenU) {
          poly = polyNodes((x) => x.k === 'sym' && bodySlots.includes(x.name) && !coef.has(x.name));
          if (poly !== undefined) for (const j of uniformQ) adaptQ.add(j);
        }
      }
      const qLaws = r.quenched.map((q) => distParams(q.input.dist, this.params, q.name));
      const { merged, dims } = this.mergeInputs(r, qLaws, [...ops.map(({ o }) => o.f), ...reading.observables.flatMap((ob) => ob.averages.filter((a) => a.pop === r.pop.name).map((a) => a.body)), ...r.memory.map((mm) => mm.g)]);
      let pos = 0;
      const posOp = ops.map(() => pos++);
      const posStab = pos; pos += cOps.length * nF;
      const posMeanB = pos; pos += mOps.length * nM;
      const posAvg = pos; pos += avgs.length;
      const posX2 = pos++, posUnstable = pos++, posMulti = pos++;
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
        r, index, dynamic: r.pop.kind === 'dynamic', nq: qNames.length,
        fieldPos: r.fields.map(slot), qPos: qNames.map(slot), qLaws, merged, dims,
        meanPos: r.means.map((m) => slot(m.slot)), meanOp, dFmean: r.means.map((m) => dF(m.slot)),
        memPos: r.memory.map((m) => slot(m.slot)), memOp, tPos: slot('t'),
        dFx: r.dF[r.pop.variable], dFfield: r.fields.map((f) => r.dF[f]), dFmem: r.memory.map((m) => r.dF[m.slot]),
        init: r.pop.init ? { spec: r.pop.init } : undefined,
        ops, cOps, mOps, avgs, kinkRhs, kinkBody, poly, adaptQ,
        nVec: pos, posOp, posStab, posMeanB, posAvg, posX2, posUnstable, posMulti, posJumpC, posJumpOpen,
      };
    });    this.res = { lv: this.pops.map((pl) => [0, ...pl.dims.map(() => 0)]), fine: false, L: TRAP_L };
  }

  /** Initial-condition rule of a population (x0 = 0 for algebraic ones: the relaxation starts there). */
  initRule(pl: PopPlan, n: number): Rule {
    if (!pl.dynamic || !pl.init) return point(0);
    const s = pl.init.spec;
    if (s.kind === 'value') {
      const v = constantValue(s.value, this.params);
      if (v === undefined) throw new Unsupported(`the initial value of ${pl.r.pop.variable} (${print(s.value)}) is not a number`);
      return point(v);
    }
    return distRule(distParams(s.dist, this.params, `the initial condition of ${pl.r.pop.variable}`), gaussHermite(n), n);
  }

  /**
   * Which Gaussian inputs (other fields, normal quenched inputs) can be merged
   * into the first field: the equation depends on them only through
   * η₀ + c·input (∂F/∂input = c·∂F/∂η₀ with a constant c, checked at random
   * points, and likewise for the kink arguments of F), and no order-parameter
   * function, observable body or memory integrand reads them. Then η₀ + c·input
   * is one Gaussian and the map needs one dimension less — exactly.
   */
  mergeInputs(r: PopReading, qLaws: ReturnType<typeof distParams>[], readers: Expr[]): Pick<PopPlan, 'merged' | 'dims'> {
    const merged: PopPlan['merged'] = [], dims: PopPlan['dims'] = [];
    const cands: ({ field: number } | { q: number })[] = [...r.fields.slice(1).map((_, k) => ({ field: k + 1 })), ...r.quenched.map((_, j) => ({ q: j }))];
    if (r.fields.length === 0) return { merged, dims: cands };
    const eta0 = r.fields[0];
    const exprs = [r.rhs, ...kinkArgs(r.rhs)];
    const d0 = exprs.map((e) => compile(diff(e, isVar(eta0)), r.slots, this.params));
    // deterministic pseudo-random probe points
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 * 3 - 1.5; };
    const probes = Array.from({ length: 16 }, () => Float64Array.from(r.slots, () => rnd()));
    for (const c of cands) {
      const name = 'field' in c ? r.fields[c.field] : r.quenched[c.q].name;
      const mergeable = 'field' in c || qLaws[c.q].kind === 'normal';
      let coef: number | undefined;
      const ok = mergeable && !readers.some((e) => some(e, (x) => x.k === 'sym' && x.name === name)) && exprs.every((e, k) => {
        const d1 = compile(diff(e, isVar(name)), r.slots, this.params);
        return probes.every((v) => {
          const a = d0[k](v), b = d1(v);
          if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
          if (a === 0) return b === 0;
          if (k === 0 && coef === undefined) coef = b / a;
          return coef !== undefined && Math.abs(b - coef * a) <= 1e-12 * (Math.abs(b) + Math.abs(coef * a));
        });
      });
      if (ok && coef !== undefined && Number.isFinite(coef) && coef !== 0) merged.push({ ...c, c: coef });
      else dims.push(c);
    }
    return { merged, dims };
  }

  /** Does a mean-field order parameter enter some single-site equation (with a nonzero coefficient somewhere)? */
  meanFeedback(): boolean {
    return this.pops.some((pl) => pl.dFmean.some((d) => {
      const v = new Float64Array(pl.r.slots.length);
      for (const x of [0, 0.7, -1.3]) { v.fill(x); if (d(v) !== 0) return true; }
      return false;
    }));
  }

  /** Starting values: every order parameter evaluated at the initial condition (responses 0). */
  start(): Float64Array {
    const v = new Float64Array(this.opNames.length);
    for (const pl of this.pops) {
      const x0 = this.initRule(pl, 8);
      const qr = pl.qLaws.map((d) => distRule(d, gaussHermite(8), 8));
      const buf = new Float64Array(1 + pl.nq);
      for (const { op, o } of pl.ops) {
        if (o.op.kind === 'R') continue;
        let acc = 0;
        const rec = (j: number, w: number) => {
          if (j === pl.nq) {
            for (let i = 0; i < x0.x.length; i++) {
              buf[0] = x0.x[i];
              const f = o.F(buf);
              acc += w * x0.w[i] * (o.op.kind === 'C' ? f * f : f);
            }
            return;
          }
          for (let i = 0; i < qr[j].x.length; i++) { buf[1 + j] = qr[j].x[i]; rec(j + 1, w * qr[j].w[i]); }
        };
        rec(0, 1);
        v[op] = acc;
      }
    }
    return v;
  }
}

// ---------------------------------------------------------------------------
// one evaluation of the static map Φ: order-parameter values → new values

interface PopEval { vec: Float64Array; scale: number }
interface PhiEval { next: Float64Array; pops: PopEval[] }

const phiDensity = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

function evalPop(m: StaticModel, pl: PopPlan, vals: Float64Array, eps: number, res: Resolution, scaleIn: number): PopEval {
  const lv = res.lv[pl.index];
  // polynomial integrands: Gauss–Hermite (and Gauss–Legendre) with np nodes are exact
  const np = pl.poly === undefined ? 0 : pl.poly + (res.fine ? 2 : 0);
  const r = pl.r;
  const nS = r.slots.length;
  const buf = new Float64Array(nS);
  const gbuf = new Float64Array(1 + pl.nq);
  const bbuf = new Float64Array(2 + pl.nq);
  const chi = pl.memOp.map((i) => vals[i]);
  for (let j = 0; j < pl.meanPos.length; j++) buf[pl.meanPos[j]] = vals[pl.meanOp[j]];
  if (pl.tPos >= 0) buf[pl.tPos] = 0;
  const fieldSd = m.popFields[pl.index].map((fi) => Math.sqrt(Math.max(0, m.fields[fi].cov(vals))));
  const lower = r.lower ?? -Infinity, upper = r.upper ?? Infinity;
  const alg = !pl.dynamic;
  const ridge = pl.dynamic && eps > 0;
  const scale = scaleIn;
  const nF = pl.fieldPos.length, nM = pl.meanPos.length;
  let x0cur = 0;

  const setX = (x: number) => {
    buf[0] = x; gbuf[0] = x;
    for (let j = 0; j < pl.memPos.length; j++) buf[pl.memPos[j]] = chi[j] * r.memory[j].gF(gbuf);
  };
  const G = (x: number) => {
    setX(x);
    let g = r.F(buf);
    if (alg) g -= x;
    if (ridge) g -= eps * (x - x0cur);
    return g;
  };
  /** G'(x) at the last setX */
  const Gp = () => {
    let d = pl.dFx(buf);
    for (let j = 0; j < pl.memPos.length; j++) { const c = chi[j]; if (c !== 0) d += pl.dFmem[j](buf) * c * r.memory[j].dgdx(gbuf); }
    if (alg) d -= 1;
    if (ridge) d -= eps;
    return d;
  };

  interface Root { x: number; pinned: boolean; gp: number; label: string }
  /** The zero of G reached by the flow d/dt x = G(x) from x0. */
  const flowRoot = (x0: number): Root => {
    x0cur = x0;
    let a = Math.min(upper, Math.max(lower, x0));
    let ga = G(a);
    if (!Number.isFinite(ga)) throw new NoFixedPoint(`the single-site equation is not finite at x = ${a}`);
    const finish = (x: number, pinned: boolean): Root => {
      G(x);
      const gp = Gp();
      return { x, pinned, gp, label: x === lower || x === upper ? 'b' : 'i' };
    };
    if (ga === 0) {
      G(a);
      const gp = Gp();
      if (gp <= 0 || a === lower || a === upper) return finish(a, false);
      // an unstable equilibrium: leave it upwards
      a += 1e-9 * scale; ga = G(a);
    }
    const dir = ga > 0 ? 1 : -1;
    let step = 1e-2 * scale;
    for (let it = 0; it < 2000; it++) {
      let b = a + dir * step;
      let atBound = false;
      if (b <= lower) { b = lower; atBound = true; } else if (b >= upper) { b = upper; atBound = true; }
      const gb = G(b);
      if (!Number.isFinite(gb)) throw new NoFixedPoint(`the single-site equation is not finite at x = ${b}`);
      if (gb * dir <= 0) {
        let hi = b; // G(lo)·dir > 0, G(hi)·dir < 0
        if (gb === 0) {
          // an exact zero (e.g. the boundary of multiplicative growth): the first one
          // the flow meets only if G keeps its sign on the way, i.e. G'(b) < 0
          if (!(Gp() > 0)) return finish(b, false);
          let c = b, gc = 0;
          for (let k = 1; k < 60 && !(gc * dir < 0); k++) { c = b - dir * Math.abs(b - a) * 2 ** -k; gc = G(c); }
          if (!(gc * dir < 0)) return finish(b, false);
          hi = c;
        }
        // refine in the bracket: safeguarded Newton
        let lo = a;
        let x = 0.5 * (lo + hi);
        for (let k = 0; k < 200; k++) {
          const gx = G(x);
          if (gx === 0) break;
          if (gx * dir > 0) lo = x; else hi = x;
          const d = Gp();
          let xn = d !== 0 ? x - gx / d : NaN;
          if (!(xn > Math.min(lo, hi) && xn < Math.max(lo, hi))) xn = 0.5 * (lo + hi);
          if (Math.abs(xn - x) <= 1e-15 * (Math.abs(x) + 1e-300) || Math.abs(hi - lo) <= 4e-16 * Math.max(Math.abs(lo), Math.abs(hi))) { x = xn; break; }
          x = xn;
        }
        return finish(x, false);
      }
      if (atBound) return finish(b, true); // the flow pushes out of range: pinned at the bound
      a = b;
      step = Math.min(step * 2, 0.5 * scale + 0.25 * Math.abs(a - x0));
      if (Math.abs(a - x0) > 1e9 * scale) break;
    }
    throw new NoFixedPoint(`the single-site flow of ${r.pop.variable} runs away (no finite fixed point) at a node of the frozen field`);
  };

  const vec = new Float64Array(pl.nVec);
  const initR = m.initRule(pl, np || (res.fine ? 12 : 8));
  const xlo = initR.x.reduce((a, b) => Math.min(a, b)), xhi = initR.x.reduce((a, b) => Math.max(a, b));
  const nodeSig: string[] = [];

  const nOps = pl.ops.length;
  const dxdEta = new Float64Array(nF), dxdM = new Float64Array(nM), fps = new Float64Array(nOps);
  const contrib = (rt: Root, w: number, acc: Float64Array | null) => {
    setX(rt.x);
    bbuf[0] = rt.x; bbuf[1] = rt.x;
    for (let j = 0; j < pl.nq; j++) bbuf[2 + j] = gbuf[1 + j];
    let sig = rt.label;
    for (const k of pl.kinkRhs) sig += k(buf) > 0 ? '+' : '-';
    for (const k of pl.kinkBody) sig += k(bbuf) > 0 ? '+' : '-';
    nodeSig.push(sig);
    if (!acc) return;
    const ok = !rt.pinned && Math.abs(rt.gp) > 1e-300;
    const inv = ok ? -1 / rt.gp : 0;
    for (let e = 0; e < nF; e++) dxdEta[e] = ok ? pl.dFfield[e](buf) * inv : 0;
    for (let j = 0; j < nM; j++) dxdM[j] = ok ? pl.dFmean[j](buf) * inv : 0;
    for (let j = 0; j < nOps; j++) {
      const { o, slotField } = pl.ops[j];
      const f = o.F(gbuf), fp = o.df[0](gbuf);
      fps[j] = fp;
      const kind = o.op.kind;
      acc[pl.posOp[j]] += w * (kind === 'M' ? f : kind === 'C' ? f * f : fp * dxdEta[slotField]);
    }
    for (let ci = 0; ci < pl.cOps.length; ci++) { const j = pl.cOps[ci]; for (let e = 0; e < nF; e++) { const d = fps[j] * dxdEta[e]; acc[pl.posStab + ci * nF + e] += w * d * d; } }
    for (let mi = 0; mi < pl.mOps.length; mi++) { const j = pl.mOps[mi]; for (let s = 0; s < nM; s++) acc[pl.posMeanB + mi * nM + s] += w * fps[j] * dxdM[s]; }
    for (let i = 0; i < pl.avgs.length; i++) acc[pl.posAvg + i] += w * pl.avgs[i].F(bbuf);
    acc[pl.posX2] += w * rt.x * rt.x;
    if (!rt.pinned && !(rt.gp < 0)) acc[pl.posUnstable] += w;
  };

  /** the fixed point at the current field/input values, averaged over the initial condition where it matters */
  const node = (w: number, acc: Float64Array | null): string => {
    nodeSig.length = 0;
    if (!ridge && initR.x.length > 1) {
      const r1 = flowRoot(xlo), r2 = flowRoot(xhi);
      // 1-D flows preserve order: equal roots from both ends ⇒ the same root from every x0 in between
      if (Math.abs(r1.x - r2.x) <= 1e-9 * scale && r1.label === r2.label) { contrib(r1, w, acc); return nodeSig.join('|'); }
      if (acc) acc[pl.posMulti] += w;
    }
    for (let i = 0; i < initR.x.length; i++) contrib(flowRoot(initR.x[i]), w * initR.w[i], acc);
    return nodeSig.join('|');
  };

  // dimensions: the first field with the inputs merged into it (inner: split at
  // breakpoints), then the other fields and quenched inputs (outer tensor rules)
  const zRule = (level: number): Rule => (np ? gaussHermite(np) : trapNodes(level, res.L));
  const outer: { pos: number; rule: Rule }[] = pl.dims.map((d, k) => {
    const level = lv[1 + k];
    if ('field' in d) {
      const sd = fieldSd[d.field], z = zRule(level);
      return { pos: pl.fieldPos[d.field], rule: sd > 0 ? { x: z.x.map((u) => sd * u), w: z.w } : point(0) };
    }
    return { pos: pl.qPos[d.q], rule: distRule(pl.qLaws[d.q], zRule(level), np && !pl.adaptQ.has(d.q) ? np : UNIFORM_N0 << level) };
  });
  let innerVar = nF > 0 ? fieldSd[0] ** 2 : 0, innerMean = 0;
  for (const mg of pl.merged) {
    if (mg.field !== undefined) innerVar += (mg.c * fieldSd[mg.field]) ** 2;
    else { const [mu, v] = pl.qLaws[mg.q!].values; innerMean += mg.c * mu; innerVar += mg.c * mg.c * Math.max(0, v); }
  }
  const innerSd = Math.sqrt(innerVar);
  // (a merged input's own slot stays 0: the inner field carries it)
  const setInner = (z: number) => { if (nF > 0) buf[pl.fieldPos[0]] = innerMean + innerSd * z; };
  const syncQ = () => { for (let j = 0; j < pl.nq; j++) gbuf[1 + j] = buf[pl.qPos[j]]; };

  // Jumps of an order-parameter function across a breakpoint z_b of the inner
  // field (distributional derivative): φ′ ∋ Δf·δ, so for a C op ⟨(φ′ dx*/dη)²⟩
  // is infinite (flagged), and for M and R ops ⟨∂f/∂θ⟩ gains
  // Δf_z·ϕ(z_b)·(∂x*/∂θ)/(∂x*/∂z), the motion of the jump with θ.
  const x0mid = initR.x.reduce((acc, x, i) => acc + initR.w[i] * x, 0);
  const sample = (z: number) => {
    setInner(z);
    const rt = flowRoot(x0mid);
    setX(rt.x);
    const ok = !rt.pinned && Math.abs(rt.gp) > 1e-300;
    const inv = ok ? -1 / rt.gp : 0;
    return { x: rt.x, f: pl.ops.map(({ o }) => o.F(gbuf)), de: pl.dFfield.map((d) => (ok ? d(buf) * inv : 0)), dm: pl.dFmean.map((d) => (ok ? d(buf) * inv : 0)) };
  };
  const jumpTerms = (bp: number, w: number) => {
    if (nF === 0 || !(innerSd > 0)) return;
    const dz = 1e-7 * Math.max(1, Math.abs(bp));
    const pts = [bp - 2 * dz, bp - dz, bp + dz, bp + 2 * dz].map(sample);
    const jump = (get: (p: ReturnType<typeof sample>) => number) => jumpOf(get(pts[0]), get(pts[1]), get(pts[2]), get(pts[3]));
    const xJumps = jump((p) => p.x) !== 0;
    const dens = w * phiDensity(bp);
    const dxdz = 0.5 * (pts[1].de[0] + pts[2].de[0]) * innerSd;
    pl.ops.forEach(({ o, slotField }, j) => {
      const df = jump((p) => p.f[j]);
      if (df === 0) return;
      const kind = o.op.kind;
      if (kind === 'C') { vec[pl.posJumpC + pl.cOps.indexOf(j)] += dens; return; }
      if (xJumps || !(Math.abs(dxdz) > 0)) { vec[pl.posJumpOpen] += dens; return; }
      if (kind === 'M') {
        const mi = pl.mOps.indexOf(j);
        for (let k = 0; k < nM; k++) vec[pl.posMeanB + mi * nM + k] += (df * dens * 0.5 * (pts[1].dm[k] + pts[2].dm[k])) / dxdz;
      } else {
        vec[pl.posOp[j]] += (df * dens * 0.5 * (pts[1].de[slotField] + pts[2].de[slotField])) / dxdz;
      }
    });
  };

  const tmp = new Float64Array(pl.nVec);
  const inner = (w: number) => {
    syncQ();
    if (nF === 0 || innerSd === 0) {
      setInner(0); node(w, vec);
      // a frozen state sitting exactly on a jump of a C op's function responds at O(1) to any perturbation
      const x = sample(0).x;
      pl.cOps.forEach((j, ci) => {
        if (jumpAcross((y) => { gbuf[0] = y; return pl.ops[j].o.F(gbuf); }, x) !== 0) vec[pl.posJumpC + ci] += w;
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
    const { pos, rule } = outer[d];
    for (let i = 0; i < rule.x.length; i++) { buf[pos] = rule.x[i]; rec(d + 1, w * rule.w[i]); }
  };
  rec(0, 1);
  const x2 = vec[pl.posX2];
  return { vec, scale: Math.max(1e-12, Math.sqrt(Math.max(0, x2))) };
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
  const isC = m.reading.sys.orderParams.map((o) => o.kind === 'C');
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
  const nF = m.fields.length;
  const A = Array.from({ length: nF }, () => new Array<number>(nF).fill(0));
  m.fields.forEach((fe, e) => {
    for (const { op, d } of fe.dcov) {
      const dc = d(vals);
      const b = m.pops.findIndex((pl) => pl.ops.some((x) => x.op === op));
      const pl = m.pops[b];
      const ci = pl.cOps.findIndex((j) => pl.ops[j].op === op);
      const nFb = pl.fieldPos.length;
      m.popFields[b].forEach((fi, k) => { A[e][fi] += dc * ev.pops[b].vec[pl.posStab + ci * nFb + k]; });
    }
  });
  const nO = m.opNames.length;
  const B = Array.from({ length: nO }, () => new Array<number>(nO).fill(0));
  const mIdx: number[] = [];
  m.pops.forEach((pl, b) => pl.mOps.forEach((j, mi) => {
    const i = pl.ops[j].op;
    mIdx.push(i);
    pl.meanOp.forEach((opj, s) => { B[i][opj] += ev.pops[b].vec[pl.posMeanB + mi * pl.meanPos.length + s]; });
  }));
  const Bm = mIdx.map((i) => mIdx.map((j) => B[i][j]));
  // a C op whose function jumps where its field has density feeds an infinite
  // ⟨φ′²⟩ into every field whose covariance reads it
  let jumps = false;
  m.fields.forEach((fe) => {
    for (const { op, d } of fe.dcov) {
      const b = m.pops.findIndex((pl) => pl.ops.some((x) => x.op === op));
      const pl = m.pops[b];
      const ci = pl.cOps.findIndex((j) => pl.ops[j].op === op);
      if (ev.pops[b].vec[pl.posJumpC + ci] > 0 && d(vals) !== 0) jumps = true;
    }
  });
  const rho = jumps ? Infinity : spectralExtent(A).mod;
  const meanEig = spectralExtent(Bm).re;
  let unstable = 0, multistable = 0;
  let openJumps = 0;
  m.pops.forEach((pl, b) => {
    unstable = Math.max(unstable, ev.pops[b].vec[pl.posUnstable]); multistable = Math.max(multistable, ev.pops[b].vec[pl.posMulti]);
    openJumps = Math.max(openJumps, ev.pops[b].vec[pl.posJumpOpen]);
  });
  const limit = observablesOf(m, ev);
  let chiEps = 0;
  m.reading.sys.orderParams.forEach((o, i) => { if (o.kind === 'R') chiEps = Math.max(chiEps, Math.abs(vals[i]) * eps); });
  return { rho, meanEig, unstable, singular: 0, multistable, openJumps, limit, chiEps };
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

/** A population of scalar sites: its static map on the rules above, solved by damped iteration and Newton. */
export class ScalarStaticSite implements StaticSite<Solved> {
  readonly opNames: string[];
  readonly opKinds: string[];
  readonly params: Record<string, number>;
  /** (floor: the rounding of sums over a few hundred nodes) */
  readonly roundingFloor = { relative: 1e-14, absolute: 0 };
  private readonly scales: number[];
  private readonly maxIter: number;

  constructor(private readonly m: StaticModel, maxIter: number) {
    this.opNames = m.opNames;
    this.opKinds = m.reading.sys.orderParams.map((o) => o.kind);
    this.params = m.params;
    this.maxIter = maxIter;
    // the typical size of the initial condition: the first step of each single-site flow
    this.scales = m.pops.map((pl) => {
      const r = m.initRule(pl, 8);
      let s = 0;
      for (let i = 0; i < r.x.length; i++) s += r.w[i] * r.x[i] * r.x[i];
      return Math.max(1, Math.sqrt(s));
    });
  }

  /** @throws Unsupported when the system has no static map this site can evaluate */
  static of(reading: ScalarReading, opts: StaticOptions): ScalarStaticSite {
    return new ScalarStaticSite(new StaticModel(reading), opts.maxIter ?? 400);
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
