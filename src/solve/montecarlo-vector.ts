// The Monte Carlo sweep for vector sites: several variables per site, several
// Gaussian fields with a joint covariance over (field, time), memory terms
// R_ab for every pair, initial conditions that read the site's quenched
// inputs. The replica driver, the error model and the scheme are those of
// ./montecarlo.ts (docs/monte-carlo.md); only the single-site process is a
// vector here:
//  - fields: one Cholesky factor of the joint covariance Σ[(t_k, a), (t_l, b)]
//    (rows ordered time-major, field-minor), extended by one row per field and
//    time — the conditional law of η(t_k) given its past and the fields
//    already drawn at t_k;
//  - a dynamic population advances all its variables together (Heun); an
//    algebraic population (lets over another index) solves its variables
//    jointly by Newton at every time;
//  - responses R[f|η_b] by tangents: a vector Y_v(t, s) = δx_v(t)/δη_b(s) per
//    field b that a memory term needs, Y′ = A Y + Σ_j ∂F/∂mem_j ∫ R_j ∇g_j·Y;
//    for an algebraic population Y = Y_δ δ(t − s) + Y_reg, each from a small
//    linear system per path (I − A) Y = ….
// Lets inside a site of states (a `let h[i]` read by `d/dt x[i]`) are solved
// by Newton once the fields at t_k are drawn and eliminated from the tangents
// (Y_lets = (I − A_lets,lets)⁻¹ (A_lets,states Y_states + their memory terms));
// what that needs is checked in `checkMixed`. A population (lets or states)
// that is affine given the other populations' kernels runs on sigma paths
// instead of samples and its averages are exact (`exactness`, sigmaMean). Nothing here
// knows any particular model.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { constantValue } from '../expr/eval.ts';
import { print } from '../expr/print.ts';
import type { Dist } from '../model/ir.ts';
import { distArgs, distDef } from '../model/distributions.ts';
import { choleskyRow, invertInto } from '../numeric/linalg.ts';
import { Rng } from '../numeric/rng.ts';
import {
  addRow, blockSE, blockSize, combineRows, emptyKernels, heunCorrect, heunPredict, JITTER, memorySums, memorySumsOpen,
  observablesFromBlocks, tri, type KernelOp, type Kernels, type SweepPlan, type SweepResult, type SweepSettings,
} from './mc-kernels.ts';
import { VectorSiteError, type OrderReading, type PopReading, type SystemReading } from './read.ts';

export interface VOp extends KernelOp { pop: number; rd: OrderReading }

/** one entry Σ[(t, a), (s, b)] of the joint field covariance: a compiled function of op slots */
interface CovEntry {
  F: Compiled;
  /** op slots it reads: [op index, at (t,s) or transposed (s,t)] */
  reads: { op: number; slot: number; transposed: boolean; oneTime: 'first' | 'second' | false }[];
  /** evaluate at (s, t) instead of (t, s) (the cross-covariance is listed the other way round) */
  swap: boolean;
}

interface VMem { pos: number; op: number; variable: number; g: Compiled; dg: Compiled[] }

export interface VPop {
  r: PopReading;
  index: number;
  V: number;
  /** some variable is a state (a population of states, possibly with lets inside the site) */
  dynamic: boolean;
  /** states and lets on one index: indices of the lets (empty otherwise) */
  lets: number[];
  /** per own op: its f or g reads a let of a mixed population (estimated after the lets are solved) */
  letOp: Set<number>;
  F: number;
  fieldPos: number[];
  /** cov[a·F + b] for ⟨η_a(t) η_b(s)⟩ (absent: independent) */
  cov: (CovEntry | undefined)[];
  covSlots: number;
  qPos: number[];
  qDists: Dist[];
  /** inputs drawn afresh at every step of a map: their slots (after the quenched inputs) and laws */
  stepPos: number[];
  stepDists: Dist[];
  /** per noise: its intensity and its coefficient in every variable's equation */
  noises: { pos: number; D: number; coef: (Compiled | null)[] }[];
  means: { pos: number; op: number }[];
  mems: VMem[];
  tPos: number;
  /** dFx[v·V + w] = ∂F_v/∂x_w */
  dFx: Compiled[];
  /** dFfield[v·F + e] = ∂F_v/∂η_e */
  dFfield: Compiled[];
  /** dFmem[j] = ∂F_{variable(j)}/∂mem_j */
  dFmem: Compiled[];
  ops: number[];
  /** fields whose responses some memory term needs (one tangent each), and the R ops they give */
  tangents: { field: number; ops: number[] }[];
  avgs: { obs: number; a: number; F: Compiled }[];
  lower: number[];
  upper: number[];
  /** initial value per dynamic variable and path, from the path's quenched inputs */
  init: ((q: Float64Array, rng: Rng) => number)[];
  reads: Set<number>;
  /** computed exactly on sigma paths instead of sampled (affine, see VectorPlan.exactness) */
  exact: boolean;
  /** an algebraic population that is sampled: why it is not computed exactly */
  sampledWhy?: string;
}

const opSlot = (i: number) => `__op${i}`, opSlotT = (i: number) => `__opT${i}`;

export class VectorPlan implements SweepPlan {
  readonly reading: SystemReading;
  readonly params: Record<string, number>;
  readonly ops: VOp[];
  readonly pops: VPop[];
  readonly algebraicOrder: number[];

  /** options: exact = false samples every population (the exact path for affine populations off) */
  constructor(reading: SystemReading, opts: { exact?: boolean } = {}) {
    this.reading = reading;
    const params = (this.params = reading.params);
    const sys = reading.sys;
    const opIndex = new Map(sys.orderParams.map((o, i) => [o.name, i]));
    const popIndex = new Map(reading.pops.map((p, i) => [p.name, i]));
    this.ops = sys.orderParams.map((o) => ({ name: o.name, kind: o.kind, inst: !!o.instantaneous, pop: popIndex.get(o.pop)!, rd: reading.orders.get(o.name)! }));
    const needR = new Set<number>();
    for (const p of reading.pops) for (const m of p.memory) {
      const i = opIndex.get(m.R);
      if (i === undefined || this.ops[i].kind !== 'R') throw new DmftError({ message: `Monte Carlo: the memory kernel ${m.R} is not a response function` });
      needR.add(i);
    }
    const opRef = (x: Expr, what: string): number => {
      if (x.k !== 'op') throw new Error('not an op');
      const i = opIndex.get(x.name);
      if (i === undefined) throw new DmftError({ message: `Monte Carlo: ${what} uses ${x.name}, which is not an order parameter` });
      return i;
    };
    this.pops = reading.pops.map((r, index): VPop => {
      const V = r.variables.length, F = r.fields.length;
      const dynamic = r.variables.some((v) => v.kind === 'dynamic');
      const lets = dynamic ? r.variables.flatMap((v, i) => (v.kind === 'algebraic' ? [i] : [])) : [];
      const slot = (n: string) => r.slots.indexOf(n);
      const reads = new Set<number>();
      // the joint covariance of the fields, entry by entry
      const covSlotNames: string[] = [];
      const compileCov = (e: Expr, what: string, swap: boolean): CovEntry => {
        const readsOf: CovEntry['reads'] = [];
        const body = mapPost(e, (x) => {
          if (x.k !== 'op') return x;
          const i = opRef(x, what);
          reads.add(this.ops[i].pop);
          const a0 = x.args[0], a1 = x.args[1];
          const at = (a: Expr | undefined) => (a && a.k === 'sym' ? a.name : a && a.k === 'ref' ? a.name : undefined);
          let transposed = false, oneTime: 'first' | 'second' | false = false;
          if (this.ops[i].kind === 'M') oneTime = at(a0) === 's' ? 'second' : 'first';
          else transposed = at(a0) === 's' && at(a1) === 't';
          const name = transposed ? opSlotT(i) : oneTime === 'second' ? `${opSlot(i)}s` : opSlot(i);
          let k = covSlotNames.indexOf(name);
          if (k < 0) { k = covSlotNames.length; covSlotNames.push(name); }
          if (!readsOf.some((q) => q.slot === k)) readsOf.push({ op: i, slot: k, transposed, oneTime });
          return sym(name);
        });
        return { F: compile(body, covSlotNames, params), reads: readsOf, swap };
      };
      const covExprs: { a: number; b: number; e: Expr; swap: boolean; what: string }[] = [];
      r.pop.fields.forEach((f, e) => covExprs.push({ a: e, b: e, e: f.cov, swap: false, what: `the covariance of ${f.name}` }));
      for (const c of r.cross) {
        covExprs.push({ a: c.a, b: c.b, e: c.cov, swap: false, what: `the covariance of ${r.fields[c.a]} and ${r.fields[c.b]}` });
        covExprs.push({ a: c.b, b: c.a, e: c.cov, swap: true, what: `the covariance of ${r.fields[c.a]} and ${r.fields[c.b]}` });
      }
      // compile after every slot name is known (one slot vector for all entries)
      for (const c of covExprs) compileCov(c.e, c.what, c.swap);
      const cov: (CovEntry | undefined)[] = new Array(F * F).fill(undefined);
      for (const c of covExprs) cov[c.a * F + c.b] = compileCov(c.e, c.what, c.swap);

      const noises = r.noises.map((nz) => ({
        pos: slot(nz.name), D: nz.D,
        coef: r.variables.map((v) => {
          if (degree(v.rhs, isVar(nz.name)) === 0) return null;
          const d = diff(v.rhs, isVar(nz.name));
          if (degree(v.rhs, isVar(nz.name)) > 1 || r.variables.some((w) => some(d, (x) => (x.k === 'sym' || x.k === 'ref') && x.name === w.name)))
            throw new DmftError({ message: `Monte Carlo: the noise ${nz.name} enters ${v.name}'s equation multiplicatively; only additive white noise is supported` });
          return compile(d, r.slots, params);
        }),
      }));
      if (!dynamic && noises.length) throw new DmftError({ message: `Monte Carlo: the lets of population ${r.name} contain white noise, which has no meaning in an instantaneous equation` });
      const means = r.means.map((m) => {
        const i = opIndex.get(m.M);
        if (i === undefined) throw new DmftError({ message: `Monte Carlo: the mean-field term ${m.M} is not an order parameter` });
        reads.add(this.ops[i].pop);
        return { pos: slot(m.slot), op: i };
      });
      const mems = r.memory.map((m): VMem => {
        const op = opIndex.get(m.R)!;
        reads.add(this.ops[op].pop);
        return { pos: slot(m.slot), op, variable: m.variable, g: m.gF, dg: m.dg };
      });
      const dF = (v: number, s: string) => r.variables[v].dF[s] ?? compile(diff(r.variables[v].rhs, isVar(s)), r.slots, params);
      const dFx: Compiled[] = [], dFfield: Compiled[] = [];
      for (let v = 0; v < V; v++) {
        for (let w = 0; w < V; w++) dFx.push(dF(v, r.variables[w].name));
        for (let e = 0; e < F; e++) dFfield.push(dF(v, r.fields[e]));
      }
      const ops = this.ops.map((o, i) => (o.pop === index ? i : -1)).filter((i) => i >= 0);
      const tangents: VPop['tangents'] = [];
      for (const i of ops) {
        if (this.ops[i].kind !== 'R' || !needR.has(i)) continue;
        const f = r.fields.indexOf(sys.orderParams[i].slot ?? '');
        if (f < 0) throw new DmftError({ message: `Monte Carlo: the response ${this.ops[i].name} is to '${sys.orderParams[i].slot}', which is not a field of population ${r.name}` });
        const t = tangents.find((x) => x.field === f);
        if (t) t.ops.push(i); else tangents.push({ field: f, ops: [i] });
      }
      const avgs: VPop['avgs'] = [];
      reading.observables.forEach((ob, oi) => ob.averages.forEach((a, ai) => { if (a.pop === r.name) avgs.push({ obs: oi, a: ai, F: a.F }); }));
      const qNames = r.quenched.map((q) => q.name);
      const init = r.variables.map((v) => this.initOf(v.name, v.init, qNames));
      return {
        r, index, V, dynamic, lets, letOp: new Set(ops.filter((i) => [...this.ops[i].rd.vars, ...(this.ops[i].rd.g?.vars ?? [])].some((v) => lets.includes(v)))), F, fieldPos: r.fields.map(slot), cov, covSlots: covSlotNames.length,
        qPos: qNames.map(slot), qDists: r.quenched.map((q) => q.input.dist), stepPos: r.step.map((q) => slot(q.name)), stepDists: r.step.map((q) => q.dist), noises, means, mems, tPos: slot('t'),
        dFx, dFfield, dFmem: mems.map((m, j) => dF(m.variable, r.memory[j].slot)), ops, tangents, avgs,
        lower: r.variables.map((v) => v.lower ?? -Infinity), upper: r.variables.map((v) => v.upper ?? Infinity), init, reads,
        exact: false,
      };
    });
    this.checkMixed();
    if (opts.exact ?? true) for (const pl of this.pops) {
      pl.sampledWhy = this.exactness(pl);
      pl.exact = pl.sampledWhy === undefined;
    }
    // algebraic populations read each other at equal times: order them (a cycle has no causal order)
    const alg = this.pops.filter((p) => !p.dynamic).map((p) => p.index);
    const order: number[] = [];
    const pending = new Set(alg);
    while (pending.size) {
      const next = [...pending].find((i) => [...this.pops[i].reads].every((j) => j === i || !pending.has(j)));
      if (next === undefined) throw new DmftError({ message: `Monte Carlo: the lets of populations ${[...pending].map((i) => this.pops[i].r.name).join(', ')} depend on each other at equal times`, hint: 'an affine model is solved by the Gaussian closure; dmft simulate runs the model at finite N' });
      order.push(next);
      pending.delete(next);
    }
    for (const i of alg) if (this.pops[i].cov.some((c) => c?.reads.some((q) => this.ops[q.op].pop === i)))
      throw new DmftError({ message: `Monte Carlo: a field of the lets of population ${this.pops[i].r.name} depends on their own correlation at equal times`, hint: 'give them dynamics (a d/dt equation)' });
    this.algebraicOrder = order;
  }

  get observables() { return this.reading.observables; }

  /**
   * Lets inside a site of states are solved after the fields at each time and eliminated from the
   * tangents; that needs (refused otherwise, with the reason): memory integrands g that read states
   * only; no field or mean-field term that reads an order parameter of the lets; responses of the
   * population read only by its own memory terms, of functions of its states.
   */
  private checkMixed(): void {
    const refuse = (pl: VPop, why: string) => {
      throw new VectorSiteError({
        message: `Monte Carlo: population ${pl.r.name} has states and lets on one index (${pl.lets.map((a) => pl.r.variables[a].name).join(', ')}), and ${why}: not supported by the Monte Carlo solver yet`,
        hint: 'dmft simulate runs the model at finite N; an affine model is solved by the Gaussian closure',
      });
    };
    for (const pl of this.pops) {
      if (!pl.lets.length) continue;
      for (const m of pl.r.memory) if (m.vars.some((v) => pl.lets.includes(v))) refuse(pl, `the memory integrand ${print(m.g)} reads a let`);
      for (const nz of pl.noises) for (const a of pl.lets) if (nz.coef[a]) throw new DmftError({ message: `Monte Carlo: the let ${pl.r.variables[a].name} contains white noise, which has no meaning in an instantaneous equation` });
      for (const q of this.pops) {
        for (const c of q.cov) for (const x of c?.reads ?? []) if (pl.letOp.has(x.op)) refuse(pl, `the covariance of a field reads ${this.ops[x.op].name}, an order parameter of its lets`);
        for (const m of q.means) if (pl.letOp.has(m.op)) refuse(pl, `the mean-field term ${this.ops[m.op].name} reads its lets`);
        for (const m of q.mems) {
          if (this.ops[m.op].pop !== pl.index) continue;
          if (q !== pl) refuse(pl, `the memory term of population ${q.r.name} reads its response ${this.ops[m.op].name}`);
          if (this.ops[m.op].rd.vars.some((v) => pl.lets.includes(v))) refuse(pl, `its memory kernel ${this.ops[m.op].name} is the response of a let`);
        }
      }
    }
  }

  /**
   * Why population pl cannot be computed exactly, or undefined when it can. A population whose
   * right-hand sides are affine in its variables, fields, noise, memory terms and quenched inputs (memory
   * integrands affine, no bounds, inputs and initial draws normal, no lets inside a site of states) is,
   * given the other populations' kernels, a linear function x = μ + W ξ of the standard normals ξ of its
   * fields' Cholesky factor, its inputs, its initial draws and its noise increments (Heun is linear too):
   * the 2·dim ξ + 1 sigma paths ξ = 0, ±e_r average every polynomial of degree ≤ 3 in ξ exactly
   * (weights 1 − dim ξ and ½; docs/monte-carlo.md). So its
   * kernels and averages are exact when their functions are polynomials of degree ≤ 3 in the variables
   * (C[f, g]: deg f + deg g ≤ 3) and its responses are of affine functions (the tangent is the same on
   * every path; one carries it).
   */
  private exactness(pl: VPop): string | undefined {
    const what = pl.dynamic ? 'its equations are' : 'its lets are';
    if (pl.lets.length) return 'it has states and lets on one index';
    if (!pl.r.affine) return `${what} not affine in their variables, fields, noise and memory terms (or bounded)`;
    const qNames = pl.r.quenched.map((x) => x.name);
    for (const v of pl.r.variables) {
      const init = v.init;
      if (!init || v.kind !== 'dynamic') continue;
      if (init.kind === 'dist' ? init.dist.kind !== 'normal' || v.initInputs.length > 0 : degree(init.value, (x) => (x.k === 'sym' || x.k === 'ref') && qNames.includes(x.name)) > 1)
        return `the initial condition of ${v.name} is not a normal law with fixed arguments or affine in the inputs`;
    }
    if (pl.r.step.length) return 'it has inputs drawn at every step';
    const q = pl.r.quenched.find((x) => x.input.dist.kind !== 'normal');
    if (q) return `its input ${q.name} is not normal`;
    const deg = (e: Expr, names: string[]) => degree(e, (x) => (x.k === 'sym' || x.k === 'ref') && names.includes(x.name));
    for (const i of pl.ops) {
      const o = this.ops[i], rd = o.rd;
      const df = deg(rd.f, rd.slots), dg = rd.g ? deg(rd.g.f, rd.slots) : df;
      if (o.kind === 'R' ? df > 1 : o.kind === 'M' ? df > 3 : df + dg > 3) return `its order parameter ${o.name} is of a function beyond the exact degree`;
    }
    for (const a of pl.avgs) {
      const av = this.reading.observables[a.obs].averages[a.a];
      if (deg(av.body, av.slots) > 3) return `the observable ${this.reading.observables[a.obs].def.name} averages a function of degree above 3 over it`;
    }
    return undefined;
  }

  /** the populations computed exactly, and the populations of lets that are sampled and why */
  exactNotes(): { exact: string[]; sampled: string[] } {
    return {
      exact: this.pops.filter((p) => p.exact).map((p) => p.r.name),
      sampled: this.pops.filter((p) => !p.dynamic && p.sampledWhy).map((p) => `${p.r.name}: ${p.sampledWhy}`),
    };
  }

  work() {
    const sampled = this.pops.filter((p) => !p.exact), exact = this.pops.filter((p) => p.exact);
    return {
      hasResponses: this.pops.some((p) => p.tangents.length > 0),
      deterministic: sampled.length === 0,
      kernelRows: sampled.reduce((a, p) => a + p.F * p.F + p.ops.filter((i) => this.ops[i].kind === 'C').length, 0),
      tangents: sampled.reduce((a, p) => a + p.tangents.length * p.V * Math.max(1, p.mems.length), 0),
      // per sweep, whatever P: the exact populations' sigma paths (one carries the tangents)
      fixed: (K: number) => exact.reduce((a, p) => a + (2 * ((K + 1) * p.F + p.qDists.length + p.V + K * p.noises.length) + 1) * (K * K / 2) * Math.max(1, p.F * p.F + p.ops.filter((i) => this.ops[i].kind === 'C').length)
        + (K ** 3 / 6) * p.tangents.length * p.V * Math.max(1, p.mems.length), 0),
    };
  }

  sweep(st: SweepSettings): SweepResult { return vectorSweep(this, st); }

  num(e: Expr, what: string): number {
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

  /** the initial value of a variable as a function of a path's quenched inputs (a draw when it is a law) */
  private initOf(name: string, init: PopReading['variables'][number]['init'], qNames: string[]): (q: Float64Array, rng: Rng) => number {
    if (!init) return () => 0;
    const what = `the initial condition of ${name}`;
    const onSite = (e: Expr): Compiled => {
      const f = mapPost(e, (x) => (x.k === 'ref' ? sym(x.name) : x));
      const free = new Set<string>();
      some(f, (x) => { if (x.k === 'sym' && !(x.name in this.params) && !qNames.includes(x.name) && constantValue(x, this.params) === undefined) free.add(x.name); return false; });
      if (free.size) throw new DmftError({ message: `Monte Carlo: ${what} reads ${[...free].join(', ')}, which is neither a parameter nor a quenched input of the site` });
      return compile(f, qNames, this.params);
    };
    if (init.kind === 'value') {
      const f = onSite(init.value);
      return (q) => f(q);
    }
    const def = distDef(init.dist);
    if (!def.sampler) throw new DmftError({ message: `Monte Carlo: ${what} has a ${init.dist.kind} distribution, which cannot be sampled` });
    const args = distArgs(init.dist).map(onSite);
    const a = new Array<number>(args.length);
    return (q, rng) => {
      for (let j = 0; j < args.length; j++) a[j] = args[j](q);
      const bad = def.invalid?.(a);
      if (bad) throw new DmftError({ message: `Monte Carlo: ${what}: ${bad} at a site's quenched inputs` });
      return def.sampler!(a)(rng);
    };
  }
}

/** inverse of a small V×V matrix (row-major) into out; false when singular */
export const invertSmall = (a: Float64Array, V: number, out: Float64Array, work: Float64Array): boolean =>
  invertInto(a, V, out, 1e-300, work) && Number.isFinite(out[0]);

/** a bound on the spectral radius of A (its ∞-norm; |a| for one variable) */
function radius(a: Float64Array, V: number): number {
  let m = 0;
  for (let i = 0; i < V; i++) { let s = 0; for (let j = 0; j < V; j++) s += Math.abs(a[i * V + j]); m = Math.max(m, s); }
  return m;
}

/** one tangent: the vector response of the site to an impulse in one field */
interface Tangent {
  field: number;
  ops: number[];
  /** per variable: Y_v(k, l) (regular part), index l·PR + p; dynamic: the predicted and the rates too */
  Y: Float64Array[];
  Yp: Float64Array[];
  fY: Float64Array[];
  /** per memory term: ∇g_j·Y(u, l), triangular (u ≥ l), single precision */
  GY: Float32Array[];
  mem: Float64Array[];
  /** algebraic: the δ part Y_δ,v(l) and ∇g_j·Y_δ(l) */
  YD: Float64Array[];
  GYD: Float64Array[];
}

export class VecSim {
  readonly n: number;
  readonly X: Float64Array[];
  readonly pinned: Uint8Array[];
  readonly xp: Float64Array[];
  readonly pinP: Uint8Array[];
  readonly f1: Float64Array[];
  readonly dW: Float64Array[];
  readonly FV: Map<number, Float64Array>;
  readonly GV: Map<number, Float64Array>;
  readonly Gm: Float64Array[];
  readonly XI: Float64Array;
  readonly L: Float64Array;
  readonly eta: Float64Array[];
  readonly memv: Float64Array[];
  readonly memP: Float64Array[];
  readonly S: Float64Array[];
  readonly Q: Float64Array[];
  /** per input drawn afresh at every step: its value at (step k, path p), index k·P + p */
  readonly steps: Float64Array[];
  readonly buf: Float64Array;
  readonly gbuf: Float64Array;
  readonly covSlots: Float64Array;
  readonly covRow: Float64Array;
  readonly tangents: Tangent[] = [];
  readonly noiseRng: Rng[];
  readonly noiseSd: Float64Array;
  /** tangent coefficients per PR path: A[(v·V + w)], ∂F/∂mem_j, ∇g_j [(j·V + w)], pinned per variable */
  readonly cA: Float64Array[];
  readonly cM: Float64Array[];
  /** ∂F/∂mem_j's weight in the rate of state v, lets eliminated: cMv[j·V + v] */
  readonly cMv: Float64Array[];
  /** lets inside the site: (A_DA (I − A_AA)⁻¹)[v·V + a], how a let's δ impulse moves state v */
  readonly cLet: Float64Array[];
  readonly cG: Float64Array[];
  readonly cPin: Uint8Array[];
  readonly scratch: Float64Array[];
  readonly initRng: Rng[];
  /** this population's paths and tangent-carrying paths (st.P, st.PR; for an exact population its sigma paths, one tangent) */
  readonly P: number;
  readonly PR: number;
  /** the paths are the sigma paths of an exact population (pl.exact): averages by sigmaMean, not over samples */
  readonly exact: boolean;
  /** averages over this population's paths (a block mean, or sigmaMean) */
  readonly mean: BlockMean;
  /** exact: the sigma direction of each variable's initial draw (−1: none), the first noise direction */
  readonly initDir: number[];
  readonly noiseDir0: number;

  constructor(readonly plan: VectorPlan, readonly pl: VPop, readonly st: SweepSettings, exact = false, mean?: BlockMean) {
    const n = (this.n = st.K + 1), V = pl.V, F = pl.F;
    this.exact = exact && pl.exact;
    // an exact population's directions: the (K + 1)·F normals of its fields, one per quenched input,
    // one per initial draw (a variable with a normal law), one per noise and step k ≥ 1
    const nQ = pl.qDists.length;
    this.initDir = pl.r.variables.map(() => -1);
    let dims = n * F + nQ;
    if (exact && pl.exact) pl.r.variables.forEach((v, i) => { if (v.kind === 'dynamic' && v.init?.kind === 'dist') this.initDir[i] = dims++; });
    this.noiseDir0 = dims;
    if (exact && pl.exact) dims += pl.noises.length * st.K;
    const P = (this.P = this.exact ? 2 * dims + 1 : st.P), PR = (this.PR = this.exact ? Math.min(st.PR, 1) : st.PR);
    this.mean = this.exact ? sigmaMean : mean ?? blockMean(st.blocks);
    const rngFor = (purpose: number) => new Rng(st.seed, st.stream + pl.index * 4096 + purpose);
    const arr = (m: number, c: number) => Array.from({ length: c }, () => new Float64Array(m));
    this.X = arr(n * P, V);
    this.pinned = Array.from({ length: V }, () => new Uint8Array(n * P));
    this.xp = arr(P, V);
    this.pinP = Array.from({ length: V }, () => new Uint8Array(P));
    this.f1 = arr(P, V);
    this.dW = arr(P, V);
    this.FV = new Map(pl.ops.filter((i) => plan.ops[i].kind !== 'R').map((i) => [i, new Float64Array(n * P)]));
    this.GV = new Map(pl.ops.filter((i) => plan.ops[i].kind === 'C' && plan.ops[i].rd.g).map((i) => [i, new Float64Array(n * P)]));
    this.Gm = arr(n * P, pl.mems.length);
    // standard normals of the joint factor, row k·F + e drawn from field e's stream
    // sigma paths (exact): path 0 has ξ = 0, paths 2r + 1 and 2r + 2 have ξ = +e_r and −e_r (sampleFields
    // reads the factor's row directly, no XI)
    this.XI = new Float64Array(this.exact ? 0 : n * F * P);
    if (!this.exact) for (let e = 0; e < F; e++) {
      const g = rngFor(256 + e), a = new Float64Array(n * P);
      g.fillNormal(a, a.length, 0, 1);
      for (let k = 0; k < n; k++) this.XI.set(a.subarray(k * P, (k + 1) * P), (k * F + e) * P);
    }
    this.L = new Float64Array(n * F * n * F);
    this.eta = arr(P, F);
    this.memv = arr(P, pl.mems.length);
    this.memP = arr(P, pl.mems.length);
    this.S = arr(P, pl.mems.length);
    this.Q = pl.qDists.map((d, j) => {
      const a = new Float64Array(P);
      if (this.exact) {
        // a normal input: its mean, and ± one standard deviation on its own pair of sigma paths
        const [m, v] = distArgs(d).map((e, i) => plan.num(e, `the ${i ? 'variance' : 'mean'} of ${pl.r.quenched[j].name}`));
        a.fill(m);
        a[2 * (n * F + j) + 1] = m + Math.sqrt(v); a[2 * (n * F + j) + 2] = m - Math.sqrt(v);
        return a;
      }
      const g = rngFor(1 + j), draw = plan.sampler(d, pl.r.quenched[j].name);
      for (let p = 0; p < P; p++) a[p] = draw(g);
      return a;
    });
    this.buf = new Float64Array(pl.r.slots.length);
    this.gbuf = new Float64Array(V + pl.qPos.length + pl.stepPos.length);
    // a map's inputs drawn afresh at every step, per step and path, each from its own stream
    this.steps = pl.stepDists.map((d, j) => { const g = rngFor(1024 + j), draw = plan.sampler(d, pl.r.step[j].name), a = new Float64Array(n * P); for (let q = 0; q < a.length; q++) a[q] = draw(g); return a; });
    this.covSlots = new Float64Array(pl.covSlots);
    this.covRow = new Float64Array(n * F);
    this.noiseRng = pl.noises.map((_, j) => rngFor(512 + j));
    this.noiseSd = Float64Array.from(pl.noises.map((nz) => Math.sqrt(Math.max(0, nz.D) * st.h)));
    this.initRng = Array.from({ length: V }, (_, v) => rngFor(768 + v));
    const nm = pl.mems.length;
    this.cA = arr(PR, V * V);
    this.cM = arr(PR, nm);
    this.cMv = arr(PR, nm * V);
    this.cLet = arr(PR, pl.lets.length ? V * V : 0);
    this.cG = arr(PR, nm * V);
    this.cPin = Array.from({ length: V }, () => new Uint8Array(PR));
    this.scratch = arr(Math.max(n * PR, V), V + 2);
    if (PR > 0) for (const t of pl.tangents) {
      this.tangents.push({
        field: t.field, ops: t.ops,
        Y: arr(n * PR, V), Yp: pl.dynamic ? arr(n * PR, V) : [], fY: pl.dynamic ? arr(n * PR, V) : [],
        GY: Array.from({ length: nm }, () => new Float32Array(tri(n) * PR)), mem: arr(n * PR, nm),
        YD: pl.dynamic ? [] : arr(n * PR, V), GYD: pl.dynamic ? [] : arr(n * PR, nm),
      });
    }
  }

  /** ξ_d on sigma path p: +1, −1 on the pair of direction d, else 0 */
  private sigma(d: number, p: number): number { return p === 2 * d + 1 ? 1 : p === 2 * d + 2 ? -1 : 0; }

  /** the initial value of variable v on path p (quenched inputs q): a draw, or on sigma paths mean ± sd */
  initial(v: number, q: Float64Array, p: number): number {
    const d = this.initDir[v], init = this.pl.r.variables[v].init;
    if (d < 0 || init?.kind !== 'dist') return this.pl.init[v](q, this.initRng[v]);
    const [m, va] = distArgs(init.dist).map((e, i) => this.plan.num(e, `the ${i ? 'variance' : 'mean'} of the initial condition of ${this.pl.r.variables[v].name}`));
    return m + Math.sqrt(va) * this.sigma(d, p);
  }

  /** the standard normal of noise j over the step ending at k ≥ 1 on path p (drawn, or on sigma paths ±1 / 0) */
  noiseNormal(j: number, k: number, p: number): number {
    return this.exact ? this.sigma(this.noiseDir0 + j * this.st.K + k - 1, p) : this.noiseRng[j].normal();
  }

  clip(v: number, x: number): number { return x < this.pl.lower[v] ? this.pl.lower[v] : x > this.pl.upper[v] ? this.pl.upper[v] : x; }

  /** Step 0 of every path: each state drawn from its initial law (on the path's quenched inputs; on sigma
   *  paths mean ± sd), clipped to
   *  its bounds into X (rows 0…P − 1) and `also` (the predictor's copy), pinned where clipped. */
  drawInitial(also?: { x: Float64Array[]; pinned: Uint8Array[] }): void {
    const pl = this.pl, P = this.P, q = new Float64Array(this.Q.length);
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < q.length; j++) q[j] = this.Q[j][p];
      for (let v = 0; v < pl.V; v++) {
        const raw = this.initial(v, q, p), x = this.clip(v, raw);
        if (!Number.isFinite(raw)) throw new DmftError({ message: `Monte Carlo: the initial value of ${pl.r.variables[v].name} is not a finite number at a site` });
        const pin = x !== raw ? 1 : 0;
        this.X[v][p] = x; this.pinned[v][p] = pin;
        if (also) { also.x[v][p] = x; also.pinned[v][p] = pin; }
      }
    }
  }

  /** gbuf = [variables at (xs, off + p)…, quenched inputs of path p…, inputs drawn at the step (off + p)…] */
  site(xs: Float64Array[], off: number, p: number): void {
    const V = this.pl.V, gb = this.gbuf;
    for (let v = 0; v < V; v++) gb[v] = xs[v][off + p];
    for (let j = 0; j < this.Q.length; j++) gb[V + j] = this.Q[j][p];
    for (let j = 0; j < this.steps.length; j++) gb[V + this.Q.length + j] = this.steps[j][off + p];
  }

  /** slot vector for path p at time k with the state xs[v][off + p] */
  fill(use: Kernels, k: number, p: number, xs: Float64Array[], off: number, mem: Float64Array[] | null): void {
    const { buf, pl } = this;
    this.site(xs, off, p);
    for (let v = 0; v < pl.V; v++) buf[v] = this.gbuf[v];
    for (let e = 0; e < pl.F; e++) buf[pl.fieldPos[e]] = this.eta[e][p];
    for (let j = 0; j < pl.qPos.length; j++) buf[pl.qPos[j]] = this.Q[j][p];
    for (let j = 0; j < pl.means.length; j++) buf[pl.means[j].pos] = use.v[pl.means[j].op][k];
    for (let j = 0; j < pl.noises.length; j++) buf[pl.noises[j].pos] = 0;
    for (let j = 0; j < pl.mems.length; j++) buf[pl.mems[j].pos] = mem ? mem[j][p] : 0;
    if (pl.tPos >= 0) buf[pl.tPos] = k * this.st.h;
  }

  /** memory values at (k, p) for the endpoint state xs: δ part + partial sum + trapezoid endpoint */
  memAt(use: Kernels, k: number, p: number, xs: Float64Array[], off: number, out: Float64Array[]): void {
    const n = this.n, h = this.st.h;
    this.site(xs, off, p);
    for (let j = 0; j < this.pl.mems.length; j++) {
      const m = this.pl.mems[j], gx = m.g(this.gbuf), ri = use.inst[m.op];
      out[j][p] = (ri ? ri[k] * gx : 0) + this.S[j][p] + (k > 0 ? 0.5 * h * use.v[m.op][k * n + k] * gx : 0);
    }
  }

  /** S[j] ← h Σ_{l<k} w_l R_j(k,l) g_j(x_l), w_0 = ½ */
  partial(use: Kernels, k: number): void {
    const P = this.P, n = this.n, h = this.st.h;
    for (let j = 0; j < this.S.length; j++) {
      const R = use.v[this.pl.mems[j].op];
      combineRows(this.S[j], R, k * n, this.Gm[j], k, P, h);
      if (k > 0) addRow(this.S[j], -0.5 * h * R[k * n], this.Gm[j], 0, P);
    }
  }

  /** value of an op at grid times (a, b) for a covariance entry */
  private opAt(use: Kernels, i: number, a: number, b: number, q: CovEntry['reads'][number]): number {
    const o = this.plan.ops[i], n = this.n;
    if (o.kind === 'M') return use.v[i][q.oneTime === 'second' ? b : a];
    const [x, y] = q.transposed ? [b, a] : [a, b];
    if (o.kind === 'R' && y > x) return 0;
    return use.v[i][x * n + y];
  }

  /** η(t_k) for every field: F more rows of the joint Cholesky factor (time-major, field-minor) */
  sampleFields(use: Kernels, k: number): number {
    const { pl } = this, F = pl.F, nF = this.n * F, P = this.P;
    let indefinite = 0;
    const row = this.covRow, cs = this.covSlots;
    for (let e = 0; e < F; e++) {
      const r = k * F + e;
      for (let c = 0; c <= r; c++) {
        const l = Math.floor(c / F), e2 = c % F;
        const ent = pl.cov[e * F + e2];
        if (!ent) { row[c] = 0; continue; }
        // ⟨η_e(t_k) η_e2(t_l)⟩; a cross-covariance listed as (e2, e) is evaluated at (t_l, t_k)
        const [a, b] = ent.swap ? [l, k] : [k, l];
        for (const q of ent.reads) cs[q.slot] = this.opAt(use, q.op, a, b, q);
        row[c] = ent.F(cs);
      }
      indefinite = Math.max(indefinite, choleskyRow(this.L, nF, r, row, JITTER));
      if (this.exact) {
        // η_e(t_k) on the sigma paths: ±L[r, c] on the pair of direction c ≤ r, 0 elsewhere
        const eta = this.eta[e];
        eta.fill(0);
        for (let c = 0; c <= r; c++) { const w = this.L[r * nF + c]; eta[2 * c + 1] = w; eta[2 * c + 2] = -w; }
      } else combineRows(this.eta[e], this.L, r * nF, this.XI, r + 1, P);
    }
    return indefinite;
  }
}

/** one sweep of the vector sites (a replica, or with frozen kernels a self-consistency check) */
function vectorSweep(plan: VectorPlan, st: SweepSettings): SweepResult {
  // paths per population: sim.P, sim.PR (an exact population has its own sigma paths)
  const { K, h, blocks: B } = st;
  const n = K + 1;
  const est = emptyKernels(plan, K, h);
  const use = st.frozen ?? est;
  const frozen = !!st.frozen;
  const estSE = frozen ? emptyKernels(plan, K, h) : undefined;
  const blocks = blockMean(B);
  const sims = plan.pops.map((pl) => new VecSim(plan, pl, st, true, blocks));
  let stiffness = 0, indefinite = 0;
  const prod = new Float64Array(Math.max(...sims.map((s) => Math.max(s.P, s.PR))));
  const fail = (pl: VPop, what: string, k: number) => {
    const stiff = stiffness > 1.5 ? ` h·|∂F/∂x| reached ${stiffness.toPrecision(3)} (Heun is stable below 2):` : '';
    return new DmftError({
      message: `Monte Carlo: ${what} of ${pl.r.variables.map((v) => v.name).join(', ')}${pl.r.variables.length > 1 ? ` (population ${pl.r.name})` : ''} diverges at t = ${(k * h).toFixed(3)}`,
      hint: stiff ? `the time step is too large for the fastest relaxation along the paths —${stiff} lower --dt (or shorten --T: the grid has at most maxSteps steps)` : 'the single-site process is unstable at these parameters (a linear instability or a finite-time blow-up)',
    });
  };

  // ---- rows at time k of the population's C and M from the states xs[v][off + p]
  const rowsMC = (sim: VecSim, k: number, xs: Float64Array[], off: number, letOps = false) => {
    for (const i of sim.pl.ops) {
      const o = plan.ops[i];
      if (o.kind === 'R' || sim.pl.letOp.has(i) !== letOps) continue;
      const P = sim.P, fv = sim.FV.get(i)!, gv = sim.GV.get(i), ko = k * P;
      for (let p = 0; p < P; p++) {
        sim.site(xs, off, p);
        fv[ko + p] = o.rd.F(sim.gbuf);
        if (gv) gv[ko + p] = o.rd.g!.F(sim.gbuf);
      }
      orderRow(o.kind, fv, gv, k, n, P, est.v[i], estSE?.v[i], prod, sim.mean);
    }
  };

  /** tangent coefficients along the first PR paths at the state xs (row k): A, ∂F/∂mem, ∇g, pinned */
  const coefs = (sim: VecSim, k: number, xs: Float64Array[], off: number, pin: Uint8Array[], pinOff: number, mems: Float64Array[]) => {
    const pl = sim.pl, V = pl.V, nm = pl.mems.length, PR = sim.PR;
    const a = sim.scratch[0];
    for (let p = 0; p < PR; p++) {
      sim.fill(use, k, p, xs, off, mems);
      for (let v = 0; v < V; v++) sim.cPin[v][p] = pin[v][pinOff + p];
      for (let v = 0; v < V; v++) for (let w = 0; w < V; w++) a[v * V + w] = pl.dFx[v * V + w](sim.buf);
      for (let j = 0; j < nm; j++) {
        const m = pl.mems[j], c = pl.dFmem[j](sim.buf), ri = use.inst[m.op];
        sim.cM[j][p] = sim.cPin[m.variable][p] ? 0 : c;
        for (let w = 0; w < V; w++) {
          const gp = m.dg[w](sim.gbuf);
          sim.cG[j * V + w][p] = gp;
          if (ri) a[m.variable * V + w] += c * ri[k] * gp;
        }
      }
      if (pl.lets.length) eliminateLets(sim, p, a);
      else for (let j = 0; j < nm; j++) for (let v = 0; v < V; v++) sim.cMv[j * V + v][p] = v === pl.mems[j].variable ? sim.cM[j][p] : 0;
      stiffness = Math.max(stiffness, h * radius(a, V));
      for (let v = 0; v < V; v++) for (let w = 0; w < V; w++) sim.cA[v * V + w][p] = sim.cPin[v][p] ? 0 : a[v * V + w];
    }
  };

  /**
   * Lets inside a site: Y_A = Z (A_AD Y_D + Σ_{j of a let} ∂F/∂mem_j mem_j), Z = (I − A_AA)⁻¹, so the states'
   * tangent obeys Y_D′ = (A_DD + A_DA Z A_AD) Y_D + Σ_j w_j mem_j: a is overwritten with that effective matrix
   * (rows and columns of lets zero), cMv with the weights w_j, cLet with A_DA Z.
   */
  const letMats = new Map<number, { z: Float64Array; zi: Float64Array; work: Float64Array; az: Float64Array; eff: Float64Array }>();
  const eliminateLets = (sim: VecSim, p: number, a: Float64Array) => {
    const pl = sim.pl, V = pl.V, A = pl.lets, nA = A.length, nm = pl.mems.length;
    let m = letMats.get(pl.index);
    if (!m) { m = { z: new Float64Array(nA * nA), zi: new Float64Array(nA * nA), work: new Float64Array(2 * nA * nA), az: new Float64Array(V * V), eff: new Float64Array(V * V) }; letMats.set(pl.index, m); }
    // a pinned let does not respond: its row of I − A_AA is the identity
    for (let x = 0; x < nA; x++) for (let y = 0; y < nA; y++) m.z[x * nA + y] = (x === y ? 1 : 0) - (sim.cPin[A[x]][p] ? 0 : a[A[x] * V + A[y]]);
    if (!invertSmall(m.z, nA, m.zi, m.work)) throw new DmftError({ message: `Monte Carlo: the lets ${A.map((i) => pl.r.variables[i].name).join(', ')} of population ${pl.r.name} do not determine their response (I − ∂F/∂x of the lets is singular)` });
    // az = A_DA Z (rows: states, columns: lets)
    m.az.fill(0);
    for (let v = 0; v < V; v++) {
      if (A.includes(v)) continue;
      for (let y = 0; y < nA; y++) { let s = 0; for (let x = 0; x < nA; x++) s += a[v * V + A[x]] * m.zi[x * nA + y]; m.az[v * V + A[y]] = s; }
    }
    m.eff.fill(0);
    for (let v = 0; v < V; v++) {
      if (A.includes(v)) continue;
      for (let w = 0; w < V; w++) {
        if (A.includes(w)) continue;
        let s = a[v * V + w];
        for (const b of A) if (!sim.cPin[b][p]) s += m.az[v * V + b] * a[b * V + w];
        m.eff[v * V + w] = s;
      }
    }
    for (let j = 0; j < nm; j++) {
      const u = pl.mems[j].variable, c = sim.cM[j][p];
      for (let v = 0; v < V; v++) sim.cMv[j * V + v][p] = A.includes(v) ? 0 : A.includes(u) ? (sim.cPin[u][p] ? 0 : m.az[v * V + u] * c) : v === u ? c : 0;
    }
    for (let q = 0; q < V * V; q++) { sim.cLet[q][p] = m.az[q]; a[q] = m.eff[q]; }
  };

  /** rates out_v(l) = Σ_w A_vw Y_w(l) + Σ_{j of v} ∂F/∂mem_j mem_j(l), l < rows */
  const rates = (sim: VecSim, out: Float64Array[], Y: Float64Array[], mem: Float64Array[], rows: number) => {
    const pl = sim.pl, V = pl.V, PR = sim.PR;
    for (let v = 0; v < V; v++) {
      const o = out[v];
      o.fill(0, 0, rows * PR);
      for (let w = 0; w < V; w++) {
        const A = sim.cA[v * V + w], y = Y[w];
        for (let l = 0; l < rows; l++) { const b = l * PR; for (let p = 0; p < PR; p++) o[b + p] += A[p] * y[b + p]; }
      }
      pl.mems.forEach((m, j) => {
        if (!pl.lets.length && m.variable !== v) return;
        const c = sim.cMv[j * V + v], mj = mem[j];
        for (let l = 0; l < rows; l++) { const b = l * PR; for (let p = 0; p < PR; p++) o[b + p] += c[p] * mj[b + p]; }
      });
    }
  };

  /** G(k, l) = ∇g_j·Y(k, l) into out (index l·PR + p), l < rows */
  const gradDot = (sim: VecSim, j: number, Y: Float64Array[], rows: number, out: Float64Array) => {
    const V = sim.pl.V, PR = sim.PR;
    out.fill(0, 0, rows * PR);
    for (let w = 0; w < V; w++) {
      const g = sim.cG[j * V + w], y = Y[w];
      for (let l = 0; l < rows; l++) { const b = l * PR; for (let p = 0; p < PR; p++) out[b + p] += g[p] * y[b + p]; }
    }
  };

  /** R(k, l) = ⟨Σ_v ∂f/∂x_v Y_v(k, l)⟩ over the first PR paths for the tangent's ops, from fp (per op, per variable) */
  const responseRow = (sim: VecSim, ops: number[], fp: Float64Array[][], Y: Float64Array[], yOff: number, out: (i: number) => Float64Array, at: number, se: (i: number) => Float64Array | undefined) => {
    const PR = sim.PR;
    ops.forEach((i, q) => {
      prod.fill(0, 0, PR);
      fp[q].forEach((f, v) => { const y = Y[v]; for (let p = 0; p < PR; p++) prod[p] += f[p] * y[yOff + p]; });
      sim.mean(prod, PR, out(i), at, se(i));
    });
  };
  const fpOf = (sim: VecSim, ops: number[], xs: Float64Array[], off: number): Float64Array[][] => ops.map((i) => {
    const rd = plan.ops[i].rd, PR = sim.PR;
    return rd.df.map((d) => { const a = new Float64Array(PR); for (let p = 0; p < PR; p++) { sim.site(xs, off, p); a[p] = d(sim.gbuf); } return a; });
  });

  /** lets inside a site of states, at path p: Newton on the lets with the states xs[·][off + p] held */
  const solveLets = (sim: VecSim, k: number, p: number, xs: Float64Array[], pin: Uint8Array[], off: number, mem: Float64Array[]) => {
    const pl = sim.pl, V = pl.V, A = pl.lets, nA = A.length;
    const lm = letNewton.get(pl.index) ?? { G: new Float64Array(nA), J: new Float64Array(nA * nA), Ji: new Float64Array(nA * nA), work: new Float64Array(2 * nA * nA) };
    letNewton.set(pl.index, lm);
    sim.fill(use, k, p, xs, off, mem);
    let conv = false;
    for (let it = 0; it < 60 && !conv; it++) {
      for (let x = 0; x < nA; x++) {
        const a = A[x];
        lm.G[x] = pl.r.variables[a].F(sim.buf) - sim.buf[a];
        for (let y = 0; y < nA; y++) lm.J[x * nA + y] = pl.dFx[a * V + A[y]](sim.buf) - (x === y ? 1 : 0);
      }
      if (!invertSmall(lm.J, nA, lm.Ji, lm.work)) break;
      let big = 0;
      for (let x = 0; x < nA; x++) {
        let d = 0;
        for (let y = 0; y < nA; y++) d -= lm.Ji[x * nA + y] * lm.G[y];
        sim.buf[A[x]] += d;
        big = Math.max(big, Math.abs(d) / (1 + Math.abs(sim.buf[A[x]])));
      }
      if (!Number.isFinite(big)) break;
      conv = big <= 1e-13;
    }
    if (!conv) throw new DmftError({ message: `Monte Carlo: the lets ${A.map((a) => pl.r.variables[a].name).join(', ')} of population ${pl.r.name} have no solution near t = ${(k * h).toFixed(3)} (Newton failed)` });
    for (const a of A) { const x = sim.clip(a, sim.buf[a]); xs[a][off + p] = x; pin[a][off + p] = x !== sim.buf[a] ? 1 : 0; }
  };
  const letNewton = new Map<number, { G: Float64Array; J: Float64Array; Ji: Float64Array; work: Float64Array }>();

  /** Y(k, k) of a tangent for an impulse in field e: ∂F_v/∂η_e for each state v, plus (lets inside the site)
   *  the lets' δ response carried into the states, Σ_a (A_DA Z)_{va} ∂F_a/∂η_e; coefs at this state must be current */
  const impulse = (sim: VecSim, k: number, e: number, xs: Float64Array[], off: number, pin: Uint8Array[], pinOff: number, mem: Float64Array[], out: Float64Array[], outOff: number) => {
    const pl = sim.pl, V = pl.V, PR = sim.PR;
    const d = sim.scratch[V + 1 < sim.scratch.length ? V + 1 : 0];
    for (let p = 0; p < PR; p++) {
      sim.fill(use, k, p, xs, off, mem);
      for (let v = 0; v < V; v++) d[v] = pl.dFfield[v * pl.F + e](sim.buf);
      for (let v = 0; v < V; v++) {
        let y = pl.lets.includes(v) ? 0 : d[v];
        if (pl.lets.length && y === y) for (const a of pl.lets) if (!pin[a][pinOff + p]) y += sim.cLet[v * V + a][p] * d[a];
        out[v][outOff + p] = pin[v][pinOff + p] || pl.lets.includes(v) ? 0 : y;
      }
    }
  };

  for (let k = 0; k <= K; k++) {
    if (!frozen && k > 0) plan.ops.forEach((o, i) => {
      const v = est.v[i];
      if (o.kind === 'M') v[k] = v[k - 1];
      else {
        for (let l = 0; l < k; l++) { v[k * n + l] = v[(k - 1) * n + l]; if (o.kind === 'C') v[l * n + k] = v[l * n + k - 1]; }
        v[k * n + k] = v[(k - 1) * n + k - 1];
      }
      const ri = est.inst[i];
      if (ri) ri[k] = ri[k - 1];
    });

    // ---- 1. dynamic populations: predictor (or initial condition), rows from the predicted state
    for (const sim of sims) {
      const pl = sim.pl, V = pl.V, P = sim.P, PR = sim.PR;
      if (!pl.dynamic) continue;
      const { X, pinned, xp, pinP } = sim;
      if (k === 0) sim.drawInitial({ x: xp, pinned: pinP });
      else {
        const nz = pl.noises, off = (k - 1) * P;
        for (let p = 0; p < P; p++) {
          for (let v = 0; v < V; v++) sim.dW[v][p] = 0;
          if (nz.length) {
            sim.fill(use, k - 1, p, X, off, sim.memv);
            for (let j = 0; j < nz.length; j++) {
              const z = sim.noiseSd[j] * sim.noiseNormal(j, k, p);
              for (let v = 0; v < V; v++) { const c = nz[j].coef[v]; if (c) sim.dW[v][p] += c(sim.buf) * z; }
            }
          }
          for (let v = 0; v < V; v++) {
            // a let inside the site starts from its last value (it is solved once the fields are drawn)
            const raw = pl.lets.includes(v) ? X[v][off + p] : X[v][off + p] + h * sim.f1[v][p] + sim.dW[v][p], x = sim.clip(v, raw);
            xp[v][p] = x;
            pinP[v][p] = x !== raw ? 1 : 0;
          }
        }
        for (const t of sim.tangents) for (let v = 0; v < V; v++) heunPredict(t.Yp[v], t.Y[v], t.fY[v], pinP[v], k, PR, h);
      }
      rowsMC(sim, k, xp, 0);
      // responses: R(k, l < k) from the predicted tangents; R(k, k) = ⟨∇f·∂F/∂η⟩ at the predicted state
      // (with lets inside the site: once they are solved, in step 3)
      for (const t of sim.tangents) {
        const fp = fpOf(sim, t.ops, xp, 0);
        for (let l = 0; l < k; l++) responseRow(sim, t.ops, fp, t.Yp, l * PR, (i) => est.v[i], k * n + l, (i) => estSE?.v[i]);
        if (pl.lets.length) continue;
        const be = sim.scratch.slice(0, V);
        for (let p = 0; p < PR; p++) {
          sim.fill(use, k, p, xp, 0, sim.memv);
          for (let v = 0; v < V; v++) be[v][p] = pinP[v][p] ? 0 : pl.dFfield[v * pl.F + t.field](sim.buf);
        }
        responseRow(sim, t.ops, fp, be, 0, (i) => est.v[i], k * n + k, (i) => estSE?.v[i]);
      }
    }

    // ---- 2. populations of lets, each after the ones it reads: fields, Newton per path, rows, responses
    for (const ai of plan.algebraicOrder) {
      const sim = sims[ai], pl = sim.pl, V = pl.V, nm = pl.mems.length, { X, pinned } = sim, P = sim.P;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k));
      sim.partial(use, k);
      const ce = new Float64Array(nm);
      for (let j = 0; j < nm; j++) { const m = pl.mems[j]; ce[j] = (use.inst[m.op] ? use.inst[m.op]![k] : 0) + (k > 0 ? 0.5 * h * use.v[m.op][k * n + k] : 0); }
      const off = k * P;
      const x = new Float64Array(V), G = new Float64Array(V), J = new Float64Array(V * V), Ji = new Float64Array(V * V), work = new Float64Array(2 * V * V);
      for (let p = 0; p < P; p++) {
        for (let v = 0; v < V; v++) { x[v] = k > 0 ? X[v][off - P + p] : 0; X[v][off + p] = x[v]; }
        sim.fill(use, k, p, X, off, null);
        let conv = false;
        for (let it = 0; it < 60; it++) {
          for (let v = 0; v < V; v++) { sim.buf[v] = x[v]; sim.gbuf[v] = x[v]; }
          for (let j = 0; j < nm; j++) sim.buf[pl.mems[j].pos] = sim.S[j][p] + ce[j] * pl.mems[j].g(sim.gbuf);
          for (let v = 0; v < V; v++) {
            G[v] = pl.r.variables[v].F(sim.buf) - x[v];
            for (let w = 0; w < V; w++) J[v * V + w] = pl.dFx[v * V + w](sim.buf) - (v === w ? 1 : 0);
          }
          for (let j = 0; j < nm; j++) if (ce[j] !== 0) {
            const m = pl.mems[j], c = pl.dFmem[j](sim.buf) * ce[j];
            for (let w = 0; w < V; w++) J[m.variable * V + w] += c * m.dg[w](sim.gbuf);
          }
          const big = newtonUpdate(J, G, x, V, Ji, work);
          if (big === undefined) break;
          if (big <= 1e-13) { conv = true; break; }
        }
        if (!conv) throw new DmftError({ message: `Monte Carlo: the lets ${pl.r.variables.map((v) => v.name).join(', ')} have no solution near t = ${(k * h).toFixed(3)} (Newton failed)` });
        for (let v = 0; v < V; v++) { const xc = sim.clip(v, x[v]); X[v][off + p] = xc; pinned[v][off + p] = xc !== x[v] ? 1 : 0; }
        sim.site(X, off, p);
        for (let j = 0; j < nm; j++) { sim.Gm[j][off + p] = pl.mems[j].g(sim.gbuf); sim.memv[j][p] = sim.S[j][p] + ce[j] * sim.Gm[j][off + p]; }
      }
      rowsMC(sim, k, X, off);
      if (sim.tangents.length) algebraicTangent(sim, k, off);
    }

    // ---- 3. dynamic populations: fields at t_k, corrector for states and tangents
    for (const sim of sims) {
      const pl = sim.pl, V = pl.V, nm = pl.mems.length, P = sim.P, PR = sim.PR;
      if (!pl.dynamic) continue;
      const { X, pinned, xp } = sim;
      indefinite = Math.max(indefinite, sim.sampleFields(use, k));
      sim.partial(use, k);
      const off = k * P, memP = sim.memP;
      for (let p = 0; p < P; p++) { sim.memAt(use, k, p, xp, 0, memP); if (pl.lets.length) solveLets(sim, k, p, xp, sim.pinP, 0, memP); }
      if (pl.lets.length) for (const t of sim.tangents) {
        // R(k, k) at the predicted state: the impulse moves the states directly and through the lets' δ response
        coefs(sim, k, xp, 0, sim.pinP, 0, memP);
        const fp = fpOf(sim, t.ops, xp, 0), be = sim.scratch.slice(0, V);
        impulse(sim, k, t.field, xp, 0, sim.pinP, 0, memP, be, 0);
        responseRow(sim, t.ops, fp, be, 0, (i) => est.v[i], k * n + k, (i) => estSE?.v[i]);
      }
      if (k > 0) {
        for (let p = 0; p < P; p++) {
          sim.fill(use, k, p, xp, 0, memP);
          for (let v = 0; v < V; v++) {
            if (pl.lets.includes(v)) { X[v][off + p] = xp[v][p]; continue; }
            const raw = X[v][off - P + p] + 0.5 * h * (sim.f1[v][p] + pl.r.variables[v].F(sim.buf)) + sim.dW[v][p], x = sim.clip(v, raw);
            X[v][off + p] = x;
            pinned[v][off + p] = x !== raw ? 1 : 0;
          }
        }
      }
      if (k === 0) for (const a of pl.lets) for (let p = 0; p < P; p++) X[a][p] = xp[a][p];
      for (let p = 0; p < P; p++) {
        sim.memAt(use, k, p, X, off, sim.memv);
        for (let j = 0; j < nm; j++) sim.Gm[j][off + p] = pl.mems[j].g(sim.gbuf);
        if (pl.lets.length) solveLets(sim, k, p, X, pinned, off, sim.memv);
        sim.fill(use, k, p, X, off, sim.memv);
        for (let v = 0; v < V; v++) {
          const f = pl.r.variables[v].F(sim.buf);
          sim.f1[v][p] = f;
          if (!Number.isFinite(f) || !Number.isFinite(X[v][off + p]) || Math.abs(X[v][off + p]) > 1e12) throw fail(pl, 'the state', k);
        }
        if (p < 32) {
          const a = sim.scratch[0];
          for (let v = 0; v < V; v++) for (let w = 0; w < V; w++) a[v * V + w] = pinned[v][off + p] || pl.lets.includes(v) ? 0 : pl.dFx[v * V + w](sim.buf);
          stiffness = Math.max(stiffness, h * radius(a, V));
        }
      }
      if (pl.lets.length) rowsMC(sim, k, X, off, true);
      if (!sim.tangents.length) continue;
      const gk = sim.scratch[V];
      if (k > 0) {
        coefs(sim, k, xp, 0, sim.pinP, 0, memP);
        for (const t of sim.tangents) {
          for (let j = 0; j < nm; j++) {
            // row k of ∇g·Y from the predicted tangent, then the memory sums with it as endpoint
            gradDot(sim, j, t.Yp, k, gk);
            const G = t.GY[j], base = tri(k) * PR;
            for (let q = 0; q < k * PR; q++) G[base + q] = gk[q];
            memorySums(t.mem[j], G, use.v[pl.mems[j].op], k, n, h, PR);
          }
          const rate = sim.scratch.slice(0, V);
          rates(sim, rate, t.Yp, t.mem, k);
          for (let v = 0; v < V; v++) heunCorrect(t.Y[v], t.fY[v], rate[v], pinned[v].subarray(off, off + P), k, PR, h);
        }
      }
      // rates at the corrected state: new impulse Y(k, k) = ∂F/∂η, the endpoint of the memory sums moved to Y(k, l)
      coefs(sim, k, X, off, pinned, off, sim.memv);
      for (const t of sim.tangents) {
        const ko = k * PR;
        impulse(sim, k, t.field, X, off, pinned, off, sim.memv, t.Y, ko);
        for (let j = 0; j < nm; j++) {
          const e = 0.5 * h * use.v[pl.mems[j].op][k * n + k], G = t.GY[j], base = tri(k) * PR, mem = t.mem[j];
          gradDot(sim, j, t.Y, k + 1, gk);
          for (let q = 0; q < (k + 1) * PR; q++) {
            if (q < k * PR) mem[q] += e * (gk[q] - G[base + q]); else mem[q] = 0;
            G[base + q] = gk[q];
          }
        }
        rates(sim, t.fY, t.Y, t.mem, k + 1);
      }
    }

    // ---- responses that grow without bound: a linear instability, or a step too large
    for (const sim of sims) for (const t of sim.pl.tangents) for (const i of t.ops) {
      const R = est.v[i];
      for (let l = 0; l <= k; l++) if (!(Math.abs(R[k * n + l]) < 1e8)) throw fail(sim.pl, `the response ${plan.ops[i].name}`, k);
    }
  }

  // ---- observables from the corrected paths
  const obs: Float64Array[] = [], obsSE: Float64Array[] = [];
  averageObservables(plan, sims, st.outIdx, n, st.P, B, obs, obsSE);
  return { est, obs, obsSE, estSE, stiffness, indefinite };

  /** the responses of a population of lets at row k: δ part and regular part for impulses at l ≤ k */
  function algebraicTangent(sim: VecSim, k: number, off: number) {
    const pl = sim.pl, V = pl.V, nm = pl.mems.length, PR = sim.PR;
    coefs(sim, k, sim.X, off, sim.pinned, off, sim.memv);
    // per path: (I − A)⁻¹ for the δ part and (I − A − S)⁻¹ for the regular part (S: the memory sums' endpoint at k)
    const inv0 = new Float64Array(PR * V * V), inv1 = new Float64Array(PR * V * V);
    const m0 = new Float64Array(V * V), m1 = new Float64Array(V * V), tmp = new Float64Array(V * V), work = new Float64Array(2 * V * V);
    for (let p = 0; p < PR; p++) {
      for (let v = 0; v < V; v++) for (let w = 0; w < V; w++) { m0[v * V + w] = (v === w ? 1 : 0) - sim.cA[v * V + w][p]; m1[v * V + w] = m0[v * V + w]; }
      if (k > 0) for (let j = 0; j < nm; j++) {
        const m = pl.mems[j], e = 0.5 * h * use.v[m.op][k * n + k] * sim.cM[j][p];
        for (let w = 0; w < V; w++) m1[m.variable * V + w] -= e * sim.cG[j * V + w][p];
      }
      for (let v = 0; v < V; v++) if (sim.cPin[v][p]) for (let w = 0; w < V; w++) { m0[v * V + w] = m1[v * V + w] = v === w ? 1 : 0; }
      if (!invertSmall(m0, V, tmp, work)) throw new DmftError({ message: `Monte Carlo: the response of the lets ${pl.r.variables.map((v) => v.name).join(', ')} is singular at t = ${(k * h).toFixed(3)} (I − ∂F/∂x is not invertible)` });
      inv0.set(tmp, p * V * V);
      if (!invertSmall(m1, V, tmp, work)) throw new DmftError({ message: `Monte Carlo: the response of the lets ${pl.r.variables.map((v) => v.name).join(', ')} is singular at t = ${(k * h).toFixed(3)}` });
      inv1.set(tmp, p * V * V);
    }
    const rhs = sim.scratch.slice(0, V), ko = k * PR;
    const fp = (t: Tangent) => fpOf(sim, t.ops, sim.X, off);
    for (const t of sim.tangents) {
      const f = fp(t);
      // δ part: (I − A) Y_δ(k) = ∂F/∂η_b
      for (let p = 0; p < PR; p++) {
        sim.fill(use, k, p, sim.X, off, sim.memv);
        const b = new Float64Array(V);
        for (let v = 0; v < V; v++) b[v] = sim.cPin[v][p] ? 0 : pl.dFfield[v * pl.F + t.field](sim.buf);
        for (let v = 0; v < V; v++) { let s = 0; for (let w = 0; w < V; w++) s += inv0[p * V * V + v * V + w] * b[w]; t.YD[v][ko + p] = s; }
        for (let j = 0; j < nm; j++) { let s = 0; for (let w = 0; w < V; w++) s += sim.cG[j * V + w][p] * t.YD[w][ko + p]; t.GYD[j][ko + p] = s; }
      }
      // the δ part of each response (a response the derivation did not mark instantaneous must have none)
      const scratchInst = new Float64Array(n);
      responseRow(sim, t.ops, f, t.YD, ko, (i) => est.inst[i] ?? scratchInst.fill(0), k, (i) => estSE?.inst[i] ?? undefined);
      for (const i of t.ops) if (!est.inst[i]) {
        responseRow(sim, [i], [f[t.ops.indexOf(i)]], t.YD, ko, () => scratchInst, k, () => undefined);
        if (Math.abs(scratchInst[k]) > 1e-9) throw new DmftError({ message: `Monte Carlo: the response ${plan.ops[i].name} of the lets of population ${pl.r.name} has an instantaneous part (${scratchInst[k].toPrecision(3)} at t = ${(k * h).toFixed(3)}) that the derived system does not carry` });
      }
      // regular part: (I − A − S) Y_reg(k, l) = Σ_j ∂F/∂mem_j [R_j(k, l) ∇g_j·Y_δ(l) + h Σ_{u<k} R_j(k, u) ∇g_j·Y_reg(u, l)]
      for (let v = 0; v < V; v++) rhs[v].fill(0, 0, (k + 1) * PR);
      for (let j = 0; j < nm; j++) {
        const m = pl.mems[j], Rj = use.v[m.op], cm = sim.cM[j], part = t.mem[j], r = rhs[m.variable], gyd = t.GYD[j];
        memorySumsOpen(part, t.GY[j], Rj, k, n, h, PR);
        for (let l = 0; l <= k; l++) {
          const rkl = Rj[k * n + l], dst = l * PR;
          for (let p = 0; p < PR; p++) r[dst + p] += cm[p] * (rkl * gyd[dst + p] + part[dst + p]);
        }
      }
      for (let l = 0; l <= k; l++) {
        const dst = l * PR;
        for (let p = 0; p < PR; p++) {
          const inv = l < k ? inv1 : inv0, o = p * V * V;
          for (let v = 0; v < V; v++) {
            let s = 0;
            for (let w = 0; w < V; w++) s += inv[o + v * V + w] * rhs[w][dst + p];
            t.Y[v][dst + p] = sim.cPin[v][p] ? 0 : s;
          }
        }
        responseRow(sim, t.ops, f, t.Y, dst, (i) => est.v[i], k * n + l, (i) => estSE?.v[i]);
        for (let j = 0; j < nm; j++) {
          const G = t.GY[j], o2 = (tri(k) + l) * PR;
          for (let p = 0; p < PR; p++) { let s = 0; for (let w = 0; w < V; w++) s += sim.cG[j * V + w][p] * t.Y[w][dst + p]; G[o2 + p] = s; }
        }
      }
    }
  }
}

/** The exact average over the sigma paths of an exact population (VectorPlan.exactness):
 *  v_0 + ½ Σ_{p≥1} (v_p − v_0) (the weights 1 − dim ξ and ½, summed stably); no sampling error. */
export const sigmaMean: BlockMean = (vals, m, out, at, se) => {
  const v0 = vals[0];
  let s = 0;
  for (let p = 1; p < m; p++) s += vals[p] - v0;
  out[at] = v0 + 0.5 * s;
  if (se) se[at] = 0;
};

/** The mean of vals[0..m) into out[at] and, when `se` is given, its standard
 *  error from B contiguous blocks of paths into se[at]. */
export type BlockMean = (vals: Float64Array, m: number, out: Float64Array, at: number, se?: Float64Array) => void;
export function blockMean(B: number): BlockMean {
  const blk = new Float64Array(B);
  const blockOf = (p: number, m: number) => Math.min(B - 1, Math.floor((p * B) / m));
  return (vals, m, out, at, se) => {
    let s = 0;
    if (!se) { for (let p = 0; p < m; p++) s += vals[p]; out[at] = s / m; return; }
    blk.fill(0);
    for (let p = 0; p < m; p++) { s += vals[p]; blk[blockOf(p, m)] += vals[p]; }
    out[at] = s / m;
    se[at] = blockSE(blk, m, B, s / m);
  };
}

/** Row k of an order parameter from its functions' values on the P paths
 *  (fv, gv: [step·P + path]): M(k), or C(k, l) = ⟨f(t_k) g(t_l)⟩ and
 *  C(l, k) = ⟨f(t_l) g(t_k)⟩ for l ≤ k (the same when g = f). */
export function orderRow(kind: 'M' | 'C', fv: Float64Array, gv: Float64Array | undefined, k: number, n: number, P: number, out: Float64Array, se: Float64Array | undefined, prod: Float64Array, mean: BlockMean): void {
  const ko = k * P;
  if (kind === 'M') { mean(fv.subarray(ko, ko + P), P, out, k, se); return; }
  const g = gv ?? fv;
  for (let l = 0; l <= k; l++) {
    const lo = l * P;
    for (let p = 0; p < P; p++) prod[p] = fv[ko + p] * g[lo + p];
    mean(prod, P, out, k * n + l, se);
    if (gv) {
      for (let p = 0; p < P; p++) prod[p] = fv[lo + p] * gv[ko + p];
      mean(prod, P, out, l * n + k, se);
    } else {
      out[l * n + k] = out[k * n + l];
      if (se) se[l * n + k] = se[k * n + l];
    }
  }
}

/** The observables' averages over the paths of every population (one-time
 *  ones at every step, two-time ones on the output grid outIdx), with their
 *  block standard errors, into obs/obsSE. Reads each path's variables at the
 *  two times, its quenched inputs and its per-step inputs (maps) at the first. */
export function averageObservables(plan: VectorPlan, sims: VecSim[], outIdx: number[], n: number, P: number, B: number, obs: Float64Array[], obsSE: Float64Array[]): void {
  const blockOf = (p: number) => Math.min(B - 1, Math.floor((p * B) / P));
  const oneTime = plan.reading.observables.map((ob) => ob.def.times.length <= 1);
  const nOut = outIdx.length;
  const avgBlocks = plan.reading.observables.map((ob, oi) => ob.averages.map(() => new Float64Array(B * (oneTime[oi] ? n : nOut * nOut))));
  const sizes = Float64Array.from({ length: B }, (_, b) => blockSize(b, P, B));
  for (const sim of sims) {
    const V = sim.pl.V, nq = sim.Q.length, bbuf = new Float64Array(2 * V + nq + sim.steps.length), Ps = sim.P;
    const at = (ka: number, kb: number, p: number) => {
      for (let v = 0; v < V; v++) { bbuf[v] = sim.X[v][ka * Ps + p]; bbuf[V + v] = sim.X[v][kb * Ps + p]; }
      for (let j = 0; j < nq; j++) bbuf[2 * V + j] = sim.Q[j][p];
      for (let j = 0; j < sim.steps.length; j++) bbuf[2 * V + nq + j] = sim.steps[j][ka * Ps + p];
    };
    // an exact population: its exact average counted in every block (it adds no sampling error)
    const vals = new Float64Array(sim.exact ? Ps : 0), one = new Float64Array(1);
    const add = (acc: Float64Array, m: number, t: number, ka: number, kb: number, F: (b: Float64Array) => number) => {
      if (sim.exact) {
        for (let p = 0; p < Ps; p++) { at(ka, kb, p); vals[p] = F(bbuf); }
        sigmaMean(vals, Ps, one, 0);
        for (let b = 0; b < B; b++) acc[b * m + t] += one[0] * sizes[b];
      } else for (let p = 0; p < Ps; p++) { at(ka, kb, p); acc[blockOf(p) * m + t] += F(bbuf); }
    };
    for (const a of sim.pl.avgs) {
      const acc = avgBlocks[a.obs][a.a];
      if (oneTime[a.obs]) for (let k = 0; k < n; k++) add(acc, n, k, k, k, a.F);
      else for (let ia = 0; ia < nOut; ia++) for (let ib = 0; ib < nOut; ib++) add(acc, nOut * nOut, ia * nOut + ib, outIdx[ia], outIdx[ib], a.F);
    }
  }
  observablesFromBlocks(plan.reading.observables, avgBlocks, oneTime, n, nOut, P, B, obs, obsSE);
}

/** One Newton update x ← x − J⁻¹G of a small system of V equations (J⁻¹ into
 *  Ji): the largest relative change, or undefined when J is singular or the
 *  step is not finite. */
export function newtonUpdate(J: Float64Array, G: Float64Array, x: Float64Array, V: number, Ji: Float64Array, work: Float64Array): number | undefined {
  if (!invertSmall(J, V, Ji, work)) return undefined;
  let big = 0;
  for (let v = 0; v < V; v++) {
    let d = 0;
    for (let w = 0; w < V; w++) d -= Ji[v * V + w] * G[w];
    if (!Number.isFinite(d)) return undefined;
    x[v] += d;
    big = Math.max(big, Math.abs(d) / (1 + Math.abs(x[v])));
  }
  return big;
}
