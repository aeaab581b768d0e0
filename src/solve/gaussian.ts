// Gaussian-state closure of the DMFT equations, transient.
//
// When every population's single-site equation is affine in its stochastic
// inputs (its own variable, Gaussian fields, white noise, quenched normal
// inputs and memory integrals of those), the single-site process is Gaussian
// for a Gaussian initial condition, and its law is fixed by the mean m(t),
// the connected covariance K(t,s), the covariances with quenched inputs and
// the path response G(t,s) (deterministic). The order parameters follow:
// affine f by covariance algebra, nonlinear f of the variable by quadrature
// (1-D for M and R = ⟨f'⟩G, the Mehler series for C_f(t,s), with a 2-D
// fallback) — no sampling. Nothing here knows any model: the coefficients are
// read from the compiled single-site equations of `read.ts`.
//
// Discretization (θ-method on a grid t_n = n h; θ = ½ trapezoidal, θ = 0 Euler):
//   dynamic    x_n = x_{n-1} + h[(1-θ) F_{n-1} + θ F_n] + ∫ noise
//   algebraic  x_n = F_n
//   F_i        = a_i x_i + Σ_f b_{f,i} η_{f,i} + d_i·q + e_i + Σ_j κ_{j,i} Σ_{k≤i} χ_j(i,k) g_j(x_k, q)
// where χ_j(i,k) is the discrete response (the order parameter R_j on the
// grid, including its quadrature weight; an algebraic population's response
// carries O(1) on the diagonal: the δ(t−s) part). Every population's row n is
//   x_n = Σ_{k<n} A(n,k) x_k + U1_n·src_{n-1} + U0_n·src_n + ν_n z_n,
// which gives recursions for m, K, G, Cov(x, η) and Cov(x, q) that cost O(n)
// per entry with memory terms and O(1) without. The discrete process is the
// exact DMFT of the θ-discretized finite system; the order parameters at
// row n enter row n itself when θ > 0 (or through algebraic populations), so
// each step is iterated to a fixed point from an extrapolated predictor.
// Richardson extrapolation over h, h/2 (, h/4) removes the leading error and
// its size is reported as the error.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../model/parse.ts';
import type { ObservableReading, ScalarPopReading as PopReading, ScalarReading, SystemReading } from './read.ts';
import { readSystem, scalarReading } from './read.ts';
import { isVectorReading, vectorEngine } from './gaussian-vector.ts';
import type { SolveOptions, SolveResult, TwoTime } from './types.ts';
import { expectNormal, expectNormal2, gaussHermite, hermiteInto, robustRule, ROBUST_DX } from './quadrature.ts';
import { atResolution, expect, expect2, expectDerivative, expectLines, hermiteCoefficients } from '../numeric/gauss.ts';
import { isKinked, kinkLinesOf, piecewiseOf, type Piecewise } from '../numeric/kinks.ts';
import { choleskySemidefinite, luSolveInPlace } from '../numeric/linalg.ts';
import { richardson } from '../numeric/extrapolate.ts';
import { outerWithError } from './quadrature.ts';
import { table } from '../table.ts';

// ---------------------------------------------------------------------------
// Plan: everything about the system that does not depend on the time step.

interface FieldPlan {
  name: string;
  pop: number;
  /** cov(t,s) as a function of [op values…, t, s] */
  F: Compiled;
  args: { op: string; kind: 'C' | 'M'; which: 't' | 's' | 'ts' }[];
  /** cov = lin0 + lin1·C when it is linear in a single C order parameter without explicit times */
  lin?: { op: string; c0: number; c1: number };
  expr: Expr;
}

interface MemPlan { op: string; g0: number; g1: number; gq: number[] }

interface PopPlan {
  index: number;
  name: string;
  variable: string;
  dynamic: boolean;
  reading: PopReading;
  nSlots: number;
  meanSlots: { slot: number; op: string }[];
  tSlot: number;
  /** global field ids of this population's fields, in reading.fields order */
  fields: number[];
  noises: { name: string; D: number }[];
  quenched: { name: string; mean: number; var: number }[];
  memory: MemPlan[];
  dense: boolean;
  init: { mean: number; var: number; gaussian: boolean; text: string };
  ops: string[];
}

interface OpPlan {
  name: string;
  kind: 'C' | 'M' | 'R';
  pop: number;
  affine: boolean;
  f0: number; f1: number; fq: number[];
  F: Compiled;
  dfdx: Compiled;
  /** R: index into the population's fields of the perturbed slot */
  slotField: number;
  text: string;
  /** nonlinear f as a function of the variable alone, with its breakpoints (kinks, jumps) */
  pw?: Piecewise;
  kinked: boolean;
}

interface AvgPlan {
  pop: number;
  F: Compiled;
  /** indices into [x, x@2, q…] that the body uses */
  active: number[];
  deg: number;
  nSlots: number;
  body: Expr;
  slots: string[];
  params: Record<string, number>;
  /** non-polynomial bodies of one or two Gaussian variables: the body with its breakpoints (built on first use) */
  split?: { one?: Piecewise; two?: ReturnType<typeof kinkLinesOf> | null };
}

interface ObsPlan { name: string; twoTime: boolean; avgs: AvgPlan[]; outer: Compiled }

export interface GaussianPlan {
  reading: ScalarReading;
  pops: PopPlan[];
  ops: Map<string, OpPlan>;
  opList: OpPlan[];
  fields: FieldPlan[];
  /** fields whose covariance reads a given order parameter */
  fieldsOf: Map<string, number[]>;
  observables: ObsPlan[];
  /** order in which populations are swept */
  order: number[];
  /** algebraic populations depend on each other within a step */
  cyclic: boolean;
}

const isSymIn = (names: string[]) => (x: Expr) => x.k === 'sym' && names.includes(x.name);

function evalConst(e: Expr, params: Record<string, number>, what: string): number {
  const v = constantValue(e, params);
  if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
  return v;
}

/** A closure on one grid and its observables: the scalar closure of this file,
 *  or the vector closure of gaussian-vector.ts. The Richardson extrapolation
 *  and the error bars of `solveGaussian` are the same for both. */
export interface ClosureEngine {
  observables: { name: string; twoTime: boolean }[];
  run(h: number, N: number, lo: LevelOptions): LevelData;
  /** observable `oi` at the grid times (n, j) of a level, with its quadrature error */
  observe(lv: LevelData, oi: number, n: number, j: number): Quad;
}

/** The engine for a reading: vector sites go to the vector closure (`forceVector`: scalar ones too, for cross-checks). */
export function closureEngine(reading: SystemReading, forceVector = false): ClosureEngine {
  if (forceVector || isVectorReading(reading)) return vectorEngine(reading);
  const plan = buildPlan(reading);
  return {
    observables: plan.observables.map((o) => ({ name: o.name, twoTime: o.twoTime })),
    run: (h, N, lo) => runLevel(plan, h, N, lo),
    observe: (lv, oi, n, j) => evalObservable(plan, lv, plan.observables[oi], n, j),
  };
}

/** Why the Gaussian closure does not apply (undefined when it does). */
export function gaussianUnsupported(reading: SystemReading): string | undefined {
  try {
    closureEngine(reading);
    return undefined;
  } catch (e) {
    if (e instanceof DmftError) return e.message;
    throw e;
  }
}

export function buildPlan(vreading: SystemReading): GaussianPlan {
  const reading = scalarReading(vreading, 'the Gaussian closure');
  const { sys, params } = reading;
  const mc = 'use --method mc (Monte Carlo), which does not need a Gaussian state';
  for (const p of reading.pops) {
    if (!p.affine) {
      const why = p.lower !== undefined || p.upper !== undefined ? `its state is bounded (${p.pop.variable} ${p.lower !== undefined ? '>= ' + p.lower : '<= ' + p.upper})` : `its equation is not affine in ${[p.pop.variable, ...p.fields, ...p.noises.map((n) => n.name), ...p.quenched.map((q) => q.name)].join(', ')}: d/dt ${p.pop.variable} = ${print(p.rhs)}`;
      throw new DmftError({ message: `the Gaussian closure needs every single-site process to be affine in its stochastic inputs; population ${p.pop.name} is not: ${why}`, hint: mc });
    }
    for (const q of p.quenched) if (q.input.dist.kind !== 'normal') throw new DmftError({ message: `the Gaussian closure needs normal quenched inputs; ${q.name} ~ ${q.input.dist.kind}`, hint: mc });
    if (p.pop.kind === 'algebraic' && p.noises.length) throw new DmftError({ message: `white noise in the algebraic population ${p.pop.variable} (a 'let') has no finite covariance`, hint: 'put the noise into a dynamic equation' });
  }
  const popIndex = new Map(reading.pops.map((p, i) => [p.pop.name, i]));

  // order parameters
  const ops = new Map<string, OpPlan>();
  for (const [name, o] of reading.orders) {
    const pi = popIndex.get(o.op.pop)!;
    const pr = reading.pops[pi];
    const nq = o.slots.length - 1;
    const z = new Float64Array(o.slots.length);
    const f0 = o.F(z);
    const fq: number[] = [];
    for (let q = 0; q < nq; q++) { z.fill(0); z[q + 1] = 1; fq.push(o.F(z) - f0); }
    z.fill(0); z[0] = 1;
    const f1 = o.affine ? o.F(z) - f0 : NaN;
    if (!o.affine && o.usesInputs) {
      throw new DmftError({ message: `order parameter ${name}: its function ${print(o.f)} is nonlinear and mixes ${pr.pop.variable} with quenched inputs; the Gaussian closure handles nonlinear functions of the variable alone`, hint: mc });
    }
    let slotField = -1;
    if (o.op.kind === 'R') {
      slotField = pr.fields.indexOf(o.op.slot ?? '');
      if (slotField < 0) throw new DmftError({ message: `response ${name}: its perturbation slot '${o.op.slot}' is not a field of population ${pr.pop.name}` });
    }
    const kinked = isKinked(o.f);
    const pw = o.affine ? undefined : piecewiseOf(o.f, o.slots[0], params, o.slots);
    ops.set(name, { name, kind: o.op.kind, pop: pi, affine: o.affine, f0, f1, fq, F: o.F, dfdx: o.df[0], slotField, text: print(o.f), pw, kinked });
  }

  // fields
  const fields: FieldPlan[] = [];
  const fieldsOf = new Map<string, number[]>();
  const popFields: number[][] = reading.pops.map(() => []);
  reading.pops.forEach((pr, pi) => {
    for (const fname of pr.fields) {
      const fd = pr.pop.fields.find((f) => f.name === fname)!;
      const args: FieldPlan['args'] = [];
      const e = mapPost(fd.cov, (x) => {
        if (x.k !== 'op') return x;
        const o = ops.get(x.name);
        if (!o) throw new DmftError({ message: `the covariance of field ${fname} uses an unknown order parameter ${x.name}` });
        if (o.kind === 'R') throw new DmftError({ message: `the covariance of field ${fname} uses a response (${x.name}); the Gaussian closure supports C and M there` });
        const a0 = x.args[0] && x.args[0].k === 'sym' ? x.args[0].name : '';
        const a1 = x.args[1] && x.args[1].k === 'sym' ? x.args[1].name : '';
        let which: 't' | 's' | 'ts';
        if (o.kind === 'C') {
          if (!((a0 === 't' && a1 === 's') || (a0 === 's' && a1 === 't'))) throw new DmftError({ message: `field ${fname}: correlation ${x.name} must be taken at (t,s), found ${print(x)}` });
          which = 'ts';
        } else {
          if (a0 !== 't' && a0 !== 's') throw new DmftError({ message: `field ${fname}: ${print(x)} must be taken at t or s` });
          which = a0 as 't' | 's';
        }
        args.push({ op: x.name, kind: o.kind as 'C' | 'M', which });
        return sym(`__c${args.length - 1}`);
      });
      let F: Compiled;
      try {
        F = compile(e, [...args.map((_, i) => `__c${i}`), 't', 's'], params);
      } catch (err) {
        throw new DmftError({ message: `the covariance of field ${fname} (${print(fd.cov)}) cannot be evaluated: ${(err as Error).message}` });
      }
      const id = fields.length;
      const fp: FieldPlan = { name: fname, pop: pi, F, args, expr: fd.cov };
      if (args.length === 1 && args[0].kind === 'C' && !some(e, (x) => x.k === 'sym' && (x.name === 't' || x.name === 's'))) {
        const v = new Float64Array(3);
        const c0 = F(v); v[0] = 1; const c1 = F(v) - c0; v[0] = 2.5; const c2 = F(v);
        if (Math.abs(c2 - (c0 + 2.5 * c1)) <= 1e-12 * (Math.abs(c2) + 1)) fp.lin = { op: args[0].op, c0, c1 };
      }
      fields.push(fp);
      popFields[pi].push(id);
      for (const a of args) { const l = fieldsOf.get(a.op) ?? []; if (!l.includes(id)) l.push(id); fieldsOf.set(a.op, l); }
    }
  });

  // populations
  const pops: PopPlan[] = reading.pops.map((pr, pi) => {
    const pop = pr.pop;
    const slotIdx = new Map(pr.slots.map((s, i) => [s, i]));
    const quenched = pr.quenched.map((q) => {
      const d = q.input.dist as { kind: 'normal'; mean: Expr; var: Expr };
      return { name: q.name, mean: evalConst(d.mean, params, `the mean of ${q.name}`), var: evalConst(d.var, params, `the variance of ${q.name}`) };
    });
    const memory: MemPlan[] = pr.memory.map((m) => {
      const nq = pr.quenched.length;
      const z = new Float64Array(1 + nq);
      const g0 = m.gF(z);
      z[0] = 1;
      const g1 = m.gF(z) - g0;
      const gq: number[] = [];
      for (let q = 0; q < nq; q++) { z.fill(0); z[q + 1] = 1; gq.push(m.gF(z) - g0); }
      if (!ops.has(m.R)) throw new DmftError({ message: `memory term of ${pop.variable}: unknown kernel ${m.R}` });
      return { op: m.R, g0, g1, gq };
    });
    let init = { mean: 0, var: 0, gaussian: true, text: 'none' };
    if (pop.kind === 'dynamic') {
      const ini = pop.init;
      if (!ini) init = { mean: 0, var: 0, gaussian: true, text: '0' };
      else if (ini.kind === 'value') init = { mean: evalConst(ini.value, params, `the initial value of ${pop.variable}`), var: 0, gaussian: true, text: print(ini.value) };
      else if (ini.dist.kind === 'normal') init = { mean: evalConst(ini.dist.mean, params, 'the initial mean'), var: evalConst(ini.dist.var, params, 'the initial variance'), gaussian: true, text: 'normal' };
      else if (ini.dist.kind === 'uniform') {
        const lo = evalConst(ini.dist.lo, params, 'the lower end of the initial range'), hi = evalConst(ini.dist.hi, params, 'the upper end of the initial range');
        init = { mean: (lo + hi) / 2, var: ((hi - lo) * (hi - lo)) / 12, gaussian: false, text: `uniform(${lo}, ${hi})` };
      } else throw new DmftError({ message: `initial condition of ${pop.variable}: a ${ini.dist.kind} law is not supported by the Gaussian closure`, hint: mc });
    }
    return {
      index: pi, name: pop.name, variable: pop.variable, dynamic: pop.kind === 'dynamic', reading: pr,
      nSlots: pr.slots.length,
      meanSlots: pr.means.map((m) => {
        if (!ops.has(m.M)) throw new DmftError({ message: `mean-field term of ${pop.variable}: unknown order parameter ${m.M}` });
        return { slot: slotIdx.get(m.slot)!, op: m.M };
      }),
      tSlot: slotIdx.get('t')!,
      fields: popFields[pi],
      noises: pr.noises,
      quenched, memory, dense: memory.length > 0, init,
      ops: [...ops.values()].filter((o) => o.pop === pi).map((o) => o.name),
    };
  });

  // non-Gaussian initial law: only second moments are exact
  const nonGaussPops = pops.filter((p) => !p.init.gaussian);
  if (nonGaussPops.length) {
    const bad = [...ops.values()].find((o) => !o.affine);
    if (bad) throw new DmftError({ message: `the initial law of ${nonGaussPops[0].variable} is ${nonGaussPops[0].init.text}, so the state is not Gaussian, and ${bad.name} needs more than its first two moments`, hint: mc });
  }

  // observables
  const observables: ObsPlan[] = reading.observables.map((o: ObservableReading) => {
    const avgs: AvgPlan[] = o.averages.map((a) => {
      const pi = popIndex.get(a.pop)!;
      const active: number[] = [];
      a.slots.forEach((s, i) => { if (some(a.body, (x) => x.k === 'sym' && x.name === s)) active.push(i); });
      const deg = degree(a.body, isSymIn(a.slots));
      const p = pops[pi];
      if (!p.init.gaussian && deg > 2) throw new DmftError({ message: `observable ${o.def.name}: ⟨${print(a.body)}⟩ needs more than two moments, but the initial law of ${p.variable} (${p.init.text}) is not Gaussian`, hint: mc });
      if (deg > 3 && active.some((i) => i >= 2) && active.length > 3) throw new DmftError({ message: `observable ${o.def.name}: ⟨${print(a.body)}⟩ is nonlinear in more than three Gaussian variables`, hint: mc });
      return { pop: pi, F: a.F, active, deg, nSlots: a.slots.length, body: a.body, slots: a.slots, params };
    });
    return { name: o.def.name, twoTime: o.def.times.length === 2, avgs, outer: o.outer };
  });

  // sweep order: dynamic populations, then algebraic ones in dependency order
  const deps = pops.map((p) => {
    const d = new Set<number>();
    for (const m of p.meanSlots) d.add(ops.get(m.op)!.pop);
    for (const m of p.memory) d.add(ops.get(m.op)!.pop);
    for (const f of p.fields) for (const a of fields[f].args) d.add(ops.get(a.op)!.pop);
    return d;
  });
  const order: number[] = pops.filter((p) => p.dynamic).map((p) => p.index);
  const alg = pops.filter((p) => !p.dynamic).map((p) => p.index);
  let cyclic = false;
  const placed = new Set<number>();
  while (placed.size < alg.length) {
    const next = alg.find((i) => !placed.has(i) && [...deps[i]].every((d) => pops[d].dynamic || placed.has(d) || d === i && false));
    if (next === undefined) { cyclic = true; for (const i of alg) if (!placed.has(i)) { placed.add(i); order.push(i); } break; }
    placed.add(next); order.push(next);
  }
  for (const i of alg) if (deps[i].has(i)) cyclic = true;

  const opList = [...ops.values()];
  return { reading, pops, ops, opList, fields, fieldsOf, observables, order, cyclic };
}

// ---------------------------------------------------------------------------
// One discretization level.

const tri = (n: number) => (n * (n + 1)) / 2;

/** Largest Hermite order for the Mehler series of nonlinear C_f. */
const HERM_KMAX = 160;
/** Hermite order used at standard deviation σ: the coefficients of functions
 *  analytic in a strip |Im x| < d decay like exp(−d√(2k)/σ), so k ∝ σ² keeps
 *  the tail (for d ≈ π/2, tanh-like) near 1e-13; beyond σ ≈ 1.3 pairs near
 *  the diagonal fall back to 2-D quadrature. */
const hermOrder = (sigma: number) => Math.min(HERM_KMAX, Math.max(48, 8 * Math.ceil((90 * sigma * sigma) / 8)));
/** bound on the neglected Mehler terms, relative to E f² */
const MEHLER_TOL = 1e-11;

interface PopRun {
  plan: PopPlan;
  m: Float64Array;
  /** full (N+1)² symmetric connected covariance */
  K: Float64Array;
  G: Float64Array;
  A: Float64Array;
  Phi: Float64Array;
  Xq: Float64Array[];
  /** per field: Yt[i*N1 + j] = Cov(x_j, η_i) */
  Yt: Float64Array[];
  a: Float64Array; e: Float64Array;
  b: Float64Array[]; c: Float64Array[]; d: Float64Array[]; kap: Float64Array[];
  delta: Float64Array[]; eps: Float64Array;
  D: Float64Array; U2: Float64Array; U1: Float64Array; U0: Float64Array; nu2: Float64Array;
  /** coefficient of x_{n−1} in row n (1/D for the plain trapezoid, e^{a*h}·… for the exponential one) */
  Ep: Float64Array;
  slot: Float64Array;
  /** first nonzero column of Φ row n and of A row n */
  phiStart: Int32Array;
  aStart: Int32Array;
}

interface OpRun {
  plan: OpPlan;
  /** C: packed lower triangle; R: packed lower triangle (discrete response); M: per time */
  v: Float64Array;
  /** nonlinear C: Hermite coefficients, tails, E f² per time */
  herm?: Float64Array;
  tail?: Float64Array;
  ef2?: Float64Array;
  kord?: Int32Array;
  /** per pair of the current row: 1 = Mehler, 2 = 2-D quadrature (fixed after the first sweep of a step) */
  how?: Uint8Array;
  /** nonlinear: f of the variable alone, as a scalar function */
  f1?: (x: number) => number;
  df1?: (x: number) => number;
  /** nonlinear R: E f'(x_n) */
  dmean?: Float64Array;
  /** nonlinear: E f(X), E f'(X) (with the δ of jumps), Hermite coefficients, E f(X1) f(X2) — split at the kinks when f has any */
  mean1?: (m: number, v: number) => number;
  dmean1?: (m: number, v: number) => number;
  herm1?: (m: number, sd: number, K: number, out: Float64Array, off: number) => number;
  pair?: (m1: number, m2: number, c11: number, c12: number, c22: number) => number;
}

export interface LevelData {
  h: number;
  N: number;
  pops: { m: Float64Array; K: Float64Array; Xq: Float64Array[] }[];
  /** index of the last finite step (N unless the solution diverged) */
  last: number;
  diverged?: string;
  sweepsMax: number;
  sweepsMean: number;
  /** largest relative change of a row in the last sweep of a step that stopped short of the tolerance */
  residualMax: number;
  fallbackPairs: number;
  /** largest h·|∂F/∂x| (damping rates) of a population whose order parameters feed fields, kernels or mean fields */
  stiffness: { value: number; variable: string; rate: number };
  /** the vector closure's state (gaussian-vector.ts); `pops` then lists one entry per variable */
  vector?: unknown;
}

/** Time-stepping scheme of dynamic populations:
 *  'trapezoid' (implicit, second order, A-stable, each step iterated to a fixed point; default),
 *  'ab2' (Adams–Bashforth 2, explicit, second order, conditionally stable),
 *  'euler' (explicit, first order). */
export type Scheme = 'ab2' | 'trapezoid' | 'euler';
export const SCHEME_ORDER: Record<Scheme, number> = { ab2: 2, trapezoid: 2, euler: 1 };

export interface LevelOptions {
  scheme: Scheme;
  /** relative tolerance of the within-step fixed point */
  stepTol?: number;
  maxSweeps?: number;
  /** trapezoid with memory terms: solve each step in column order (default true) */
  exactOrder?: boolean;
  /** stop after maxSweeps without complaint (a predictor–corrector scheme of fixed cost) */
  fixedSweeps?: boolean;
  progress?: (fraction: number) => void;
}

/** E f(X1) f(X2) for a bivariate normal (robust rule outside, conditional rule inside). */
function pairProduct(f: (x: number) => number, m1: number, m2: number, c11: number, c12: number, c22: number): number {
  const a = c11 > 0 ? Math.sqrt(c11) : 0;
  const b = a > 0 ? c12 / a : 0;
  const c = Math.sqrt(Math.max(0, c22 - b * b));
  if (a === 0) return f(m1) * expectNormal(f, m2, c22);
  const outer = robustRule(a);
  const inner = c > 0 ? robustRule(c) : undefined;
  let acc = 0;
  for (let i = 0; i < outer.z.length; i++) {
    const wi = outer.w[i];
    if (wi < 1e-18) continue;
    const f1 = f(m1 + a * outer.z[i]);
    const base = m2 + b * outer.z[i];
    let s = 0;
    if (inner) for (let j = 0; j < inner.z.length; j++) { const wj = inner.w[j]; if (wj >= 1e-18) s += wj * f(base + c * inner.z[j]); }
    else s = f(base);
    acc += wi * f1 * s;
  }
  return acc;
}

/**
 * Coefficients of the trapezoidal step with the damping a* = min(0, a) of the
 * state's own linear term integrated exactly (exponential trapezoid):
 *   x_n = e^{a*h} x_{n−1} + h w1 (F_{n−1} − a* x_{n−1}) + h w0 (F_n − a* x_n) + ∫ e^{a*(t_n−u)} c dξ,
 * w0 = φ2(a*h), w1 = φ1 − φ2 (φ1 = (e^z − 1)/z, φ2 = (e^z − 1 − z)/z²).
 * Written as x_n = prev·x_{n−1} + c1 F_{n−1} + c0 F_n + noise, with `noise`
 * the variance factor per unit of c²·D. At a* = 0 it is the plain trapezoid
 * (1, h/2, h/2, h); for h|a*| ≫ 1 the stiff mode is damped by e^{a*h} instead
 * of flipping sign every step (the trapezoid's factor → −1), so the scheme
 * stays second order and L-stable in the stiff linear part.
 */
export function stepCoefficients(h: number, a: number): { prev: number; c1: number; c0: number; noise: number } {
  const as = Math.min(0, a);
  const z = as * h;
  let phi1: number, phi2: number, psi2: number;
  if (Math.abs(z) < 1e-3) {
    phi1 = 1 + z / 2 + (z * z) / 6 + (z * z * z) / 24;
    phi2 = 0.5 + z / 6 + (z * z) / 24 + (z * z * z) / 120;
    psi2 = 1 + z + (2 * z * z) / 3 + (z * z * z) / 3;
  } else {
    const em = Math.expm1(z);
    phi1 = em / z;
    phi2 = (em - z) / (z * z);
    psi2 = Math.expm1(2 * z) / (2 * z);
  }
  const w0 = phi2, w1 = phi1 - phi2;
  const cHat = 1 / (1 + h * w0 * as);
  return { prev: (Math.exp(z) - h * w1 * as) * cHat, c1: h * w1 * cHat, c0: h * w0 * cHat, noise: h * psi2 * cHat * cHat };
}

/** Snapshots of row n of every order parameter and the largest relative change
 *  since the last one (each order parameter against its running magnitude; an
 *  identically-zero one, e.g. M at zero mean, against the others). */
function rowSnapshots(ops: Map<string, OpRun>, N: number): { take: (n: number) => void; diff: (n: number) => number } {
  const snapLen = (n: number) => { let s = 0; for (const r of ops.values()) s += r.plan.kind === 'M' ? 1 : n + 1; return s; };
  const snap = new Float64Array(snapLen(N) + 8);
  const take = (n: number) => {
    let o = 0;
    for (const r of ops.values()) {
      if (r.plan.kind === 'M') snap[o++] = r.v[n];
      else { snap.set(r.v.subarray(tri(n), tri(n) + n + 1), o); o += n + 1; }
    }
  };
  const opScale = new Map<string, number>();
  const diff = (n: number): number => {
    let o = 0, worst = 0, global = 0;
    for (const v of opScale.values()) global = Math.max(global, v);
    for (const r of ops.values()) {
      const row = r.plan.kind === 'M' ? r.v.subarray(n, n + 1) : r.v.subarray(tri(n), tri(n) + n + 1);
      let scale = opScale.get(r.plan.name) ?? 0, d = 0;
      for (let j = 0; j < row.length; j++) { scale = Math.max(scale, Math.abs(row[j])); d = Math.max(d, Math.abs(row[j] - snap[o + j])); }
      opScale.set(r.plan.name, scale);
      o += row.length;
      const ref = Math.max(scale, 1e-4 * global, 1e-300);
      worst = Math.max(worst, d / ref);
      if (!Number.isFinite(d)) worst = Infinity;
    }
    return worst;
  };
  return { take, diff };
}

/** Why row n of a level cannot be data (non-finite, overflow, a negative variance,
 *  a covariance that breaks Cauchy–Schwarz), or undefined. */
function rowTrouble(pops: PopRun[], n: number, N1: number, h: number): { why: string; at: number } | undefined {
  for (let at = 0; at < pops.length; at++) {
    const why = popTrouble(pops[at], n, N1, h);
    if (why) return { why, at };
  }
  return undefined;
}

function popTrouble(p: PopRun, n: number, N1: number, h: number): string | undefined {
  const knn = p.K[n * N1 + n], mn = p.m[n];
  if (!Number.isFinite(knn) || !Number.isFinite(mn) || Math.abs(knn) > 1e200 || Math.abs(mn) > 1e100) {
    return `population ${p.plan.variable}: ${Number.isFinite(knn) && Number.isFinite(mn) ? 'overflow' : 'non-finite values'} at t = ${(n * h).toPrecision(4)}`;
  }
  if (knn < -1e-8 * (1 + Math.abs(mn) ** 2)) {
    return `population ${p.plan.variable}: negative variance ${knn.toExponential(2)} at t = ${(n * h).toPrecision(4)} (the time step is too large for the dynamics)`;
  }
  // a covariance must obey Cauchy–Schwarz: |K(t,s)|² ≤ K(t,t) K(s,s)
  const tol = 1e-9 * (1 + Math.abs(knn));
  for (let j = 0; j < n; j++) {
    const kjj = p.K[j * N1 + j], knj = p.K[n * N1 + j];
    if (knj * knj > Math.max(0, knn) * Math.max(0, kjj) * (1 + 1e-7) + tol * (1 + Math.abs(kjj))) {
      return `population ${p.plan.variable}: the covariance violates Cauchy–Schwarz at t = ${(n * h).toPrecision(4)}, s = ${(j * h).toPrecision(4)} (|K(t,s)|² = ${(knj * knj).toExponential(3)} > K(t,t)K(s,s) = ${(knn * kjj).toExponential(3)}; the time step is too large for the dynamics)`;
    }
  }
  return undefined;
}

export function runLevel(plan: GaussianPlan, h: number, N: number, lo: LevelOptions): LevelData {
  const scheme = lo.scheme;
  const theta = scheme === 'trapezoid' ? 0.5 : 0;
  const N1 = N + 1;
  const T1 = tri(N1);
  const stepTol = lo.stepTol ?? 1e-10;
  const maxSweeps = lo.maxSweeps ?? 60;
  const pops: PopRun[] = plan.pops.map((p) => {
    const nf = p.fields.length;
    const arr = (k: number) => Array.from({ length: k }, () => new Float64Array(N1));
    return {
      plan: p,
      m: new Float64Array(N1), K: new Float64Array(N1 * N1), G: new Float64Array(T1), A: new Float64Array(T1), Phi: new Float64Array(T1),
      Xq: arr(p.quenched.length), Yt: Array.from({ length: nf }, () => new Float64Array(N1 * N1)),
      a: new Float64Array(N1), e: new Float64Array(N1), b: arr(nf), c: arr(p.noises.length), d: arr(p.quenched.length), kap: arr(p.memory.length),
      delta: arr(p.quenched.length), eps: new Float64Array(N1),
      D: new Float64Array(N1).fill(1), U2: new Float64Array(N1), U1: new Float64Array(N1), U0: new Float64Array(N1), nu2: new Float64Array(N1), Ep: new Float64Array(N1),
      slot: new Float64Array(p.nSlots),
      phiStart: new Int32Array(N1), aStart: new Int32Array(N1),
    };
  });
  const ops = new Map<string, OpRun>();
  for (const o of plan.opList) {
    const r: OpRun = { plan: o, v: new Float64Array(o.kind === 'M' ? N1 : T1) };
    if (!o.affine) {
      const fv = new Float64Array(1 + plan.pops[o.pop].quenched.length);
      r.f1 = (x: number) => { fv[0] = x; return o.F(fv); };
      r.df1 = (x: number) => { fv[0] = x; return o.dfdx(fv); };
      const f1 = r.f1, df1 = r.df1, pw = o.pw!;
      if (o.kinked) {
        r.mean1 = (m, v) => expect(pw, m, v);
        r.dmean1 = (m, v) => expectDerivative(pw, df1, m, v);
        r.herm1 = (m, sd, K, out, off) => hermiteCoefficients(pw, m, sd, K, out, off);
        r.pair = (m1, m2, c11, c12, c22) => expect2(pw, pw, m1, m2, c11, c12, c22);
      } else {
        r.mean1 = (m, v) => expectNormal(f1, m, v);
        r.dmean1 = (m, v) => expectNormal(df1, m, v);
        r.herm1 = (m, sd, K, out, off) => hermiteInto(f1, m, sd, K, out, off);
        r.pair = (m1, m2, c11, c12, c22) => pairProduct(f1, m1, m2, c11, c12, c22);
      }
      if (o.kind === 'C') { r.herm = new Float64Array(N1 * (HERM_KMAX + 1)); r.tail = new Float64Array(N1 * (HERM_KMAX + 1)); r.ef2 = new Float64Array(N1); r.kord = new Int32Array(N1); r.how = new Uint8Array(N1); }
      if (o.kind === 'R') r.dmean = new Float64Array(N1);
    }
    ops.set(o.name, r);
  }
  const cov = plan.fields.map(() => new Float64Array(T1));
  const fieldArgs = plan.fields.map((f) => ({ vals: new Float64Array(f.args.length + 2), runs: f.args.map((a) => ops.get(a.op)!) }));
  let fallbackPairs = 0;

  // ---- field covariances ------------------------------------------------
  const refreshField = (fid: number, n: number) => {
    const f = plan.fields[fid];
    const out = cov[fid];
    const base = tri(n);
    if (f.lin) {
      const src = ops.get(f.lin.op)!.v;
      const { c0, c1 } = f.lin;
      for (let j = 0; j <= n; j++) out[base + j] = c0 + c1 * src[base + j];
      return;
    }
    const { vals, runs } = fieldArgs[fid];
    const na = f.args.length;
    vals[na] = n * h;
    for (let j = 0; j <= n; j++) {
      for (let q = 0; q < na; q++) {
        const a = f.args[q];
        const r = runs[q].v;
        vals[q] = a.which === 'ts' ? r[base + j] : a.which === 't' ? r[n] : r[j];
      }
      vals[na + 1] = j * h;
      out[base + j] = f.F(vals);
    }
  };
  const refreshFieldsOfPop = (p: PopRun, n: number) => {
    const done = new Set<number>();
    for (const on of p.plan.ops) for (const fid of plan.fieldsOf.get(on) ?? []) if (!done.has(fid)) { done.add(fid); refreshField(fid, n); }
  };
  const covAt = (fid: number, i: number, j: number) => (i >= j ? cov[fid][tri(i) + j] : cov[fid][tri(j) + i]);

  // ---- phases of one population at row n -------------------------------
  const phaseCoef = (p: PopRun, n: number) => { coefOnly(p, n); phiFromKernels(p, n); };
  /** the coefficients of the affine single-site equation at row n (mean-field slots at their current values) */
  const coefOnly = (p: PopRun, n: number) => {
    const P = p.plan;
    const pr = P.reading;
    const v = p.slot;
    v.fill(0);
    for (const ms of P.meanSlots) v[ms.slot] = ops.get(ms.op)!.v[n];
    v[P.tSlot] = n * h;
    p.e[n] = pr.F(v);
    p.a[n] = pr.dF[P.variable](v);
    pr.fields.forEach((fn, i) => { p.b[i][n] = pr.dF[fn](v); });
    P.noises.forEach((nz, i) => { p.c[i][n] = pr.dF[nz.name](v); });
    P.quenched.forEach((q, i) => { p.d[i][n] = pr.dF[q.name](v); });
    pr.memory.forEach((m, j) => { p.kap[j][n] = pr.dF[m.slot](v); });
  };

  /** δ_n and ε_n (the memory terms' constant and quenched parts) from the kernel
   *  rows R at row n; with `Phi`, also the memory terms' part of Φ row n. */
  const memorySources = (p: PopRun, n: number, Phi?: Float64Array) => {
    const P = p.plan;
    const base = tri(n);
    let eps = p.e[n];
    for (let q = 0; q < P.quenched.length; q++) p.delta[q][n] = p.d[q][n];
    P.memory.forEach((m, j) => {
      const kap = p.kap[j][n];
      if (kap === 0) return;
      const chi = ops.get(m.op)!.v;
      let S = 0;
      if (Phi) {
        const c = kap * m.g1;
        for (let k = 0; k <= n; k++) { const x = chi[base + k]; S += x; Phi[base + k] += c * x; }
      } else {
        for (let k = 0; k <= n; k++) S += chi[base + k];
      }
      eps += kap * m.g0 * S;
      for (let q = 0; q < P.quenched.length; q++) p.delta[q][n] += kap * m.gq[q] * S;
    });
    p.eps[n] = eps;
  };

  /** Φ row n, δ_n, ε_n from the current kernel rows (the order parameters R at row n). */
  const phiFromKernels = (p: PopRun, n: number) => {
    const base = tri(n);
    const Phi = p.Phi;
    for (let k = 0; k <= n; k++) Phi[base + k] = 0;
    memorySources(p, n, Phi);
    Phi[base + n] += p.a[n];
    let ps = 0;
    while (ps < n && Phi[base + ps] === 0) ps++;
    p.phiStart[n] = ps;
  };

  const phaseState = (p: PopRun, n: number) => {
    const P = p.plan;
    const base = tri(n);
    const A = p.A, G = p.G, Phi = p.Phi;
    if (P.dynamic && n === 0) {
      p.m[0] = P.init.mean;
      for (const x of p.Xq) x[0] = 0;
      G[0] = 0; p.D[0] = 1; p.U2[0] = 0; p.U1[0] = 0; p.U0[0] = 0; p.nu2[0] = 0; p.aStart[0] = 0;
      return;
    }
    let D = 1, U2 = 0, U1 = 0, U0 = 0;
    if (P.dynamic) {
      // x_n = x_{n-1} + U2 F_{n-2} + U1 F_{n-1} + U0 F_n (+ noise), divided by D for the implicit part
      let prev = 1, noise = h;
      if (scheme === 'trapezoid') {
        const sc = stepCoefficients(h, p.a[n]);
        D = 1 - sc.c0 * Phi[base + n]; U1 = sc.c1 / D; U0 = sc.c0 / D; prev = sc.prev; noise = sc.noise;
      } else if (scheme === 'ab2' && n >= 2) { U1 = 1.5 * h; U2 = -0.5 * h; }
      else U1 = h;
      const bp = tri(n - 1);
      let k0 = Math.min(n - 1, p.phiStart[n - 1]);
      if (U0 !== 0) k0 = Math.min(k0, p.phiStart[n]);
      if (U2 !== 0) k0 = Math.min(k0, p.phiStart[n - 2]);
      const bq = U2 !== 0 ? tri(n - 2) : 0;
      for (let k = 0; k < k0; k++) A[base + k] = 0;
      for (let k = k0; k < n; k++) {
        let a = U1 * Phi[bp + k];
        if (U0 !== 0) a += U0 * Phi[base + k];
        if (U2 !== 0 && k <= n - 2) a += U2 * Phi[bq + k];
        A[base + k] = a;
      }
      p.Ep[n] = prev / D;
      A[base + n - 1] += p.Ep[n];
      p.aStart[n] = k0;
      let nu2 = 0;
      P.noises.forEach((nz, i) => { const cb = (1 - theta) * p.c[i][n - 1] + theta * p.c[i][n]; nu2 += cb * cb * nz.D * noise; });
      p.nu2[n] = nu2 / (D * D);
    } else {
      D = 1 - Phi[base + n];
      U0 = 1 / D;
      const k0 = Math.min(n, p.phiStart[n]);
      for (let k = 0; k < n; k++) A[base + k] = k >= k0 ? U0 * Phi[base + k] : 0;
      p.aStart[n] = k0;
      p.nu2[n] = 0;
    }
    if (!Number.isFinite(D) || Math.abs(D) < 1e-12) {
      throw new DmftError({ message: `population ${P.variable}: the implicit step is singular at t = ${(n * h).toPrecision(4)} (1 − h·∂F/∂${P.variable} = ${D.toPrecision(3)})`, hint: 'try a smaller --dt' });
    }
    p.D[n] = D; p.U2[n] = U2; p.U1[n] = U1; p.U0[n] = U0;
    // response row
    for (let i = 0; i <= n; i++) G[base + i] = 0;
    const k0 = p.aStart[n];
    for (let k = k0; k < n; k++) {
      const a = A[base + k];
      if (a === 0) continue;
      const bk = tri(k);
      for (let i = 0; i <= k; i++) G[base + i] += a * G[bk + i];
    }
    if (U2 !== 0) G[base + n - 2] += U2;
    if (U1 !== 0) G[base + n - 1] += U1;
    G[base + n] += U0;
    // mean and covariance with quenched inputs
    let m = 0;
    for (let k = k0; k < n; k++) m += A[base + k] * p.m[k];
    const srcMean = (i: number) => { let s = p.eps[i]; P.quenched.forEach((q, qi) => { s += p.delta[qi][i] * q.mean; }); return s; };
    if (U2 !== 0) m += U2 * srcMean(n - 2);
    if (U1 !== 0) m += U1 * srcMean(n - 1);
    if (U0 !== 0) m += U0 * srcMean(n);
    p.m[n] = m;
    P.quenched.forEach((q, qi) => {
      const X = p.Xq[qi], dl = p.delta[qi];
      let s = 0;
      for (let k = k0; k < n; k++) s += A[base + k] * X[k];
      s += ((U2 !== 0 ? U2 * dl[n - 2] : 0) + (U1 !== 0 ? U1 * dl[n - 1] : 0) + U0 * dl[n]) * q.var;
      X[n] = s;
    });
  };

  /** Cov(x_j, η_n) for j ≤ n (column n of Y). */
  const phaseYCol = (p: PopRun, n: number) => {
    const P = p.plan;
    const aStart = p.aStart, A = p.A, U2 = p.U2, U1 = p.U1, U0 = p.U0;
    const dyn = P.dynamic;
    for (let fi = 0; fi < P.fields.length; fi++) {
      const fid = P.fields[fi];
      const Yt = p.Yt[fi];
      const bcoef = p.b[fi];
      const off = n * N1;
      const cv = cov[fid];
      const bn = tri(n);
      for (let j = 0; j <= n; j++) {
        if (dyn && j === 0) { Yt[off] = 0; continue; }
        const bj = tri(j);
        let s = 0;
        for (let k = aStart[j]; k < j; k++) s += A[bj + k] * Yt[off + k];
        // Cη(j-2|j-1|j, n) sit in row n of the packed covariance
        if (U2[j] !== 0) s += U2[j] * bcoef[j - 2] * cv[bn + j - 2];
        if (U1[j] !== 0) s += U1[j] * bcoef[j - 1] * cv[bn + j - 1];
        if (U0[j] !== 0) s += U0[j] * bcoef[j] * cv[bn + j];
        Yt[off + j] = s;
      }
    }
  };

  /** Cov(x_n, η_i) for i = n-2, n-1 (the entries below the diagonal that the next rows need). */
  const phaseYSub = (p: PopRun, n: number) => {
    const P = p.plan;
    const base = tri(n);
    const U2 = p.U2[n], U1 = p.U1[n], U0 = p.U0[n];
    for (let fi = 0; fi < P.fields.length; fi++) {
      const fid = P.fields[fi];
      const Yt = p.Yt[fi];
      const bcoef = p.b[fi];
      for (let i = Math.max(0, n - 2); i < n; i++) {
        if (P.dynamic && n === 0) continue;
        const off = i * N1;
        let s = 0;
        for (let k = p.aStart[n]; k < n; k++) s += p.A[base + k] * Yt[off + k];
        if (U2 !== 0) s += U2 * bcoef[n - 2] * covAt(fid, n - 2, i);
        if (U1 !== 0) s += U1 * bcoef[n - 1] * covAt(fid, n - 1, i);
        if (U0 !== 0) s += U0 * bcoef[n] * covAt(fid, n, i);
        Yt[off + n] = s;
      }
    }
  };

  const rowK = new Float64Array(N1);
  const phaseK = (p: PopRun, n: number) => {
    const P = p.plan;
    const K = p.K;
    if (P.dynamic && n === 0) { K[0] = P.init.var; return; }
    const base = tri(n);
    const A = p.A;
    for (let j = 0; j < n; j++) rowK[j] = 0;
    const k0 = p.aStart[n];
    for (let k = k0; k < n; k++) {
      const a = A[base + k];
      if (a === 0) continue;
      const off = k * N1;
      for (let j = 0; j < n; j++) rowK[j] += a * K[off + j];
    }
    const U2 = p.U2[n], U1 = p.U1[n], U0 = p.U0[n];
    const nf = P.fields.length, nq = P.quenched.length;
    const terms: [number, number][] = [];
    if (U2 !== 0) terms.push([U2, n - 2]);
    if (U1 !== 0) terms.push([U1, n - 1]);
    if (U0 !== 0) terms.push([U0, n]);
    for (const [u, i] of terms) {
      for (let fi = 0; fi < nf; fi++) {
        const c = u * p.b[fi][i];
        if (c === 0) continue;
        const Yt = p.Yt[fi], off = i * N1;
        for (let j = 0; j < n; j++) rowK[j] += c * Yt[off + j];
      }
      for (let qi = 0; qi < nq; qi++) {
        const c = u * p.delta[qi][i];
        if (c === 0) continue;
        const X = p.Xq[qi];
        for (let j = 0; j < n; j++) rowK[j] += c * X[j];
      }
    }
    const offn = n * N1;
    for (let j = 0; j < n; j++) { K[offn + j] = rowK[j]; K[j * N1 + n] = rowK[j]; }
    let knn = 0;
    for (let k = k0; k < n; k++) knn += A[base + k] * rowK[k];
    for (const [u, i] of terms) {
      for (let fi = 0; fi < nf; fi++) knn += u * p.b[fi][i] * p.Yt[fi][i * N1 + n];
      for (let qi = 0; qi < nq; qi++) knn += u * p.delta[qi][i] * p.Xq[qi][n];
    }
    knn += p.nu2[n];
    K[offn + n] = knn;
  };

  const K1 = HERM_KMAX + 1;
  let firstSweep = true;
  /** Hermite data of a nonlinear C order parameter at time n (from the current m_n, K_nn); returns E f² */
  const diagNonlinear = (r: OpRun, n: number): number => {
    const p = pops[r.plan.pop];
    const mn = p.m[n], knn = Math.max(0, p.K[n * N1 + n]), sd = Math.sqrt(knn);
    const herm = r.herm!, tail = r.tail!, kord = r.kord!;
    const hb = n * K1;
    // kinked f: the coefficients decay only algebraically, take all
    const kn = r.plan.kinked ? HERM_KMAX : hermOrder(sd);
    kord[n] = kn;
    const e2 = r.herm1!(mn, sd, kn, herm, hb);
    r.ef2![n] = e2;
    let cum = 0;
    for (let k = 0; k <= kn; k++) { cum += herm[hb + k] * herm[hb + k]; tail[hb + k] = Math.max(0, e2 - cum); }
    return e2;
  };
  /** E f(x_n) f(x_j) by the Mehler series (Hermite data at n and j must be current) */
  const mehlerAt = (r: OpRun, p: PopRun, n: number, j: number): number => {
    const herm = r.herm!, tail = r.tail!, kord = r.kord!;
    const knn = Math.max(0, p.K[n * N1 + n]);
    const kjj = Math.max(0, p.K[j * N1 + j]);
    const denom = Math.sqrt(knn * kjj);
    let rho = denom > 0 ? p.K[n * N1 + j] / denom : 0;
    if (rho > 1) rho = 1; else if (rho < -1) rho = -1;
    const hb = n * K1, jb = j * K1;
    const km = Math.min(kord[n], kord[j]);
    const tol = MEHLER_TOL * Math.max(r.ef2![n], 1e-300);
    let s = 0, rk = 1, ok = false;
    const ar = Math.abs(rho);
    const how = r.how!;
    // the choice between the series and 2-D quadrature is made once per step, so the
    // within-step iteration cannot cycle between two rules that differ by their errors
    if (firstSweep || how[j] === 1) {
      for (let k = 0; k <= km; k++) {
        s += rk * herm[hb + k] * herm[jb + k];
        const bound = Math.abs(rk) * ar * Math.sqrt(tail[hb + k] * tail[jb + k]);
        if (bound <= tol) { ok = true; break; }
        rk *= rho;
      }
      if (!firstSweep) ok = true;
      how[j] = ok ? 1 : 2;
    }
    if (!ok) {
      fallbackPairs++;
      s = r.pair!(p.m[n], p.m[j], knn, p.K[n * N1 + j], kjj);
    }
    return s;
  };

  const phaseOps = (p: PopRun, n: number) => {
    const P = p.plan;
    const base = tri(n);
    const mn = p.m[n];
    const knn = Math.max(0, p.K[n * N1 + n]);
    const sd = Math.sqrt(knn);
    for (const name of P.ops) {
      const r = ops.get(name)!;
      const o = r.plan;
      const out = r.v;
      if (o.affine) {
        const mf = (i: number) => { let s = o.f0 + o.f1 * p.m[i]; P.quenched.forEach((q, qi) => { s += o.fq[qi] * q.mean; }); return s; };
        if (o.kind === 'M') { out[n] = mf(n); continue; }
        if (o.kind === 'R') {
          const b = p.b[o.slotField];
          const G = p.G;
          for (let i = 0; i <= n; i++) out[base + i] = o.f1 * G[base + i] * b[i];
          continue;
        }
        // C
        let vq = 0;
        P.quenched.forEach((q, qi) => { vq += o.fq[qi] * o.fq[qi] * q.var; });
        let xqn = 0;
        P.quenched.forEach((_, qi) => { xqn += o.fq[qi] * p.Xq[qi][n]; });
        const mfn = mf(n);
        const f1 = o.f1, f11 = f1 * f1;
        const offn = n * N1;
        for (let j = 0; j <= n; j++) {
          let xqj = 0;
          for (let qi = 0; qi < P.quenched.length; qi++) xqj += o.fq[qi] * p.Xq[qi][j];
          out[base + j] = mfn * mf(j) + f11 * p.K[offn + j] + f1 * (xqn + xqj) + vq;
        }
        continue;
      }
      // nonlinear in the variable: x_n ~ N(m_n, K_nn)
      if (o.kind === 'M') { out[n] = r.mean1!(mn, knn); continue; }
      if (o.kind === 'R') {
        const dm = r.dmean1!(mn, knn);
        r.dmean![n] = dm;
        const b = p.b[o.slotField];
        for (let i = 0; i <= n; i++) out[base + i] = dm * p.G[base + i] * b[i];
        continue;
      }
      // C via Mehler: Σ ρ^k a_k(n) a_k(j), with the tail bound; 2-D quadrature when it does not converge
      out[base + n] = diagNonlinear(r, n);
      for (let j = 0; j < n; j++) out[base + j] = mehlerAt(r, p, n, j);
    }
    refreshFieldsOfPop(p, n);
  };


  // ---- exactly ordered implicit step (trapezoid with memory terms) ---------
  // Within row n, the response G(n,i) depends on row-n entries of the kernels
  // at columns ≥ i only, and the covariance K(n,j) on row-n entries at columns
  // ≤ j only: solving the response row by descending and the covariance row by
  // ascending columns (a small linear system across populations per column)
  // gives the implicit step exactly, in one pass, instead of repeated sweeps.
  const nP = pops.length;
  const kernels = pops.map((p) => p.plan.memory.map((m) => {
    const o = ops.get(m.op)!;
    return { run: o, q: pops[o.plan.pop], sf: o.plan.slotField };
  }));
  const acc = pops.map(() => new Float64Array(N1));
  const smallM = new Float64Array(nP * nP);
  const smallB = new Float64Array(nP);
  /** solve (I − M) g = b in place (b ← g), tiny dense system with partial pivoting */
  const smallSolve = (): boolean => {
    const M = smallM, P = nP;
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) M[i * P + j] = (i === j ? 1 : 0) - M[i * P + j];
    return luSolveInPlace(M, smallB, P, 1e-14);
  };
  /** the factor s(k) of a kernel: χ(n,k) = s(k)·G_q(n,k) */
  const kernelScale = (kr: { run: OpRun; q: PopRun; sf: number }, n: number, k: number) =>
    (kr.run.plan.affine ? kr.run.plan.f1 : kr.run.dmean![n]) * kr.q.b[kr.sf][k];

  const solveResponseRow = (n: number) => {
    const base = tri(n);
    // diagonal: D_n of every population (coupled through χ(n,n) = s(n)·U0_q)
    const U0 = new Float64Array(nP), D = new Float64Array(nP);
    const sc = pops.map((p) => stepCoefficients(h, p.a[n]));
    for (let pi = 0; pi < nP; pi++) D[pi] = pops[pi].D[n] || 1;
    for (let it = 0; it < 200; it++) {
      let change = 0;
      for (let pi = 0; pi < nP; pi++) { const p = pops[pi]; U0[pi] = p.plan.dynamic ? (n === 0 ? 0 : sc[pi].c0 / D[pi]) : 1 / D[pi]; }
      for (let pi = 0; pi < nP; pi++) {
        const p = pops[pi];
        let phi = p.a[n];
        kernels[pi].forEach((kr, j) => { phi += p.kap[j][n] * p.plan.memory[j].g1 * kernelScale(kr, n, n) * U0[kr.q.plan.index]; });
        const d = p.plan.dynamic ? (n === 0 ? 1 : 1 - sc[pi].c0 * phi) : 1 - phi;
        change = Math.max(change, Math.abs(d - D[pi]));
        D[pi] = d;
      }
      if (change <= 1e-15 * 4) break;
      if (it === 199) throw new DmftError({ message: `the implicit step at t = ${(n * h).toPrecision(4)} has no consistent diagonal (the algebraic populations respond to each other too strongly)`, hint: 'try a smaller --dt' });
    }
    for (let pi = 0; pi < nP; pi++) {
      const p = pops[pi];
      const d = D[pi];
      if (!Number.isFinite(d) || Math.abs(d) < 1e-12) throw new DmftError({ message: `population ${p.plan.variable}: the implicit step is singular at t = ${(n * h).toPrecision(4)}`, hint: 'try a smaller --dt' });
      p.D[n] = d;
      p.U0[n] = p.plan.dynamic ? (n === 0 ? 0 : sc[pi].c0 / d) : 1 / d;
      p.U1[n] = p.plan.dynamic && n > 0 ? sc[pi].c1 / d : 0;
      p.Ep[n] = p.plan.dynamic && n > 0 ? sc[pi].prev / d : 0;
      p.U2[n] = 0;
      p.G[base + n] = p.U0[n];
      acc[pi].fill(0, 0, n);
      let nu2 = 0;
      if (p.plan.dynamic && n > 0) p.plan.noises.forEach((nz, i) => { const cb = (1 - theta) * p.c[i][n - 1] + theta * p.c[i][n]; nu2 += cb * cb * nz.D * sc[pi].noise; });
      p.nu2[n] = nu2 / (d * d);
    }
    // R rows and Φ(n,n) at the diagonal
    for (let pi = 0; pi < nP; pi++) {
      const p = pops[pi];
      let phi = p.a[n];
      kernels[pi].forEach((kr, j) => { phi += p.kap[j][n] * p.plan.memory[j].g1 * kernelScale(kr, n, n) * kr.q.U0[n]; });
      p.Phi[base + n] = phi;
    }
    const known = new Float64Array(nP);
    // per population and kernel: c = κ g1 and the slot coefficients s(k) = (f1 | ⟨f'⟩)·b_q(k)
    const kc = pops.map((p, pi) => kernels[pi].map((kr, j) => ({
      c: p.kap[j][n] * p.plan.memory[j].g1,
      sc: kr.run.plan.affine ? kr.run.plan.f1 : kr.run.dmean![n],
      b: kr.q.b[kr.sf], G: kr.q.G, qi: kr.q.plan.index,
    })).filter((x) => x.c !== 0 && x.sc !== 0));
    const single = nP === 1;
    for (let k = n - 1; k >= 0; k--) {
      // right-hand sides from rows > k (accumulated) and the known part of A(n,k)
      for (let pi = 0; pi < nP; pi++) {
        const p = pops[pi];
        let kn = 0;
        if (p.plan.dynamic && n > 0) { kn = p.U1[n] * p.Phi[tri(n - 1) + k]; if (k === n - 1) kn += p.Ep[n]; }
        known[pi] = kn;
        const gkk = p.G[tri(k) + k];
        smallB[pi] = acc[pi][k] + kn * gkk + (k === n - 1 ? p.U1[n] : 0);
        for (let qi = 0; qi < nP; qi++) smallM[pi * nP + qi] = 0;
        if (gkk !== 0) {
          const u = p.U0[n] * gkk;
          for (const x of kc[pi]) smallM[pi * nP + x.qi] += u * x.c * x.sc * x.b[k];
        }
      }
      if (single) {
        const d = 1 - smallM[0];
        if (!(Math.abs(d) > 1e-14)) throw new DmftError({ message: `the implicit response step is singular at t = ${(n * h).toPrecision(4)}`, hint: 'try a smaller --dt' });
        smallB[0] /= d;
      } else if (!smallSolve()) throw new DmftError({ message: `the implicit response step is singular at t = ${(n * h).toPrecision(4)}`, hint: 'try a smaller --dt' });
      for (let pi = 0; pi < nP; pi++) pops[pi].G[base + k] = smallB[pi];
      // Φ(n,k), A(n,k), and the contribution of row k to the columns below
      for (let pi = 0; pi < nP; pi++) {
        const p = pops[pi];
        let phi = 0;
        for (const x of kc[pi]) phi += x.c * x.sc * x.b[k] * x.G[base + k];
        p.Phi[base + k] = phi;
        const a = known[pi] + p.U0[n] * phi;
        p.A[base + k] = a;
        if (a !== 0 && k > 0) {
          const bk = tri(k), ac = acc[pi], G = p.G;
          for (let i = 0; i < k; i++) ac[i] += a * G[bk + i];
        }
      }
    }
    // first nonzero of every A row; the R order parameters at row n
    for (const p of pops) {
      let k0 = 0;
      while (k0 < n && p.A[base + k0] === 0) k0++;
      p.aStart[n] = k0;
      let ps = 0;
      while (ps < n && p.Phi[base + ps] === 0) ps++;
      p.phiStart[n] = ps;
    }
    for (const r of ops.values()) {
      if (r.plan.kind !== 'R') continue;
      const q = pops[r.plan.pop];
      const sc = r.plan.affine ? r.plan.f1 : r.dmean![n];
      const b = q.b[r.plan.slotField];
      for (let i = 0; i <= n; i++) r.v[base + i] = sc * q.G[base + i] * b[i];
    }
    // δ_n, ε_n from the final kernel rows
    for (const p of pops) memorySources(p, n);
  };

  const meansRow = (p: PopRun, n: number) => {
    const P = p.plan;
    if (P.dynamic && n === 0) { p.m[0] = P.init.mean; for (const x of p.Xq) x[0] = 0; return; }
    const base = tri(n), A = p.A, k0 = p.aStart[n];
    const U1 = p.U1[n], U0 = p.U0[n];
    const srcMean = (i: number) => { let s = p.eps[i]; P.quenched.forEach((q, qi) => { s += p.delta[qi][i] * q.mean; }); return s; };
    let m = 0;
    for (let k = k0; k < n; k++) m += A[base + k] * p.m[k];
    if (U1 !== 0) m += U1 * srcMean(n - 1);
    if (U0 !== 0) m += U0 * srcMean(n);
    p.m[n] = m;
    P.quenched.forEach((q, qi) => {
      const X = p.Xq[qi], dl = p.delta[qi];
      let s = 0;
      for (let k = k0; k < n; k++) s += A[base + k] * X[k];
      s += ((U1 !== 0 ? U1 * dl[n - 1] : 0) + U0 * dl[n]) * q.var;
      X[n] = s;
    });
  };

  // affine C order parameters: per-time mean of f and f's covariance with the quenched inputs
  const affC = new Map<OpRun, { mf: Float64Array; xq: Float64Array; vq: number; qmean: number }>();
  for (const r of ops.values()) {
    const o = r.plan;
    if (o.kind !== 'C' || !o.affine) continue;
    const P = plan.pops[o.pop];
    let vq = 0, qmean = 0;
    P.quenched.forEach((q, qi) => { vq += o.fq[qi] * o.fq[qi] * q.var; qmean += o.fq[qi] * q.mean; });
    affC.set(r, { mf: new Float64Array(N1), xq: new Float64Array(N1), vq, qmean });
  }
  /** refresh the per-time data of affine C order parameters at time n (after m_n and Cov(x_n, q)) */
  const affineAt = (n: number) => {
    for (const [r, a] of affC) {
      const o = r.plan, p = pops[o.pop];
      a.mf[n] = o.f0 + o.f1 * p.m[n] + a.qmean;
      let x = 0;
      for (let qi = 0; qi < o.fq.length; qi++) x += o.fq[qi] * p.Xq[qi][n];
      a.xq[n] = x;
    }
  };
  /** C order parameters at (n, j) from the current state (affine: covariance algebra; nonlinear: Mehler with the current K_nn) */
  const opAt = (r: OpRun, n: number, j: number): number => {
    const o = r.plan;
    const p = pops[o.pop];
    const a = affC.get(r);
    if (a) return a.mf[n] * a.mf[j] + o.f1 * o.f1 * p.K[n * N1 + j] + o.f1 * (a.xq[n] + a.xq[j]) + a.vq;
    return mehlerAt(r, p, n, j);
  };

  const cSlots = plan.fields.map((f) => f.args.map((a) => ({ ...a, run: ops.get(a.op)! })));
  const fieldVals = plan.fields.map((f) => new Float64Array(f.args.length + 2));
  /** Cη_f(n, j) from the order parameters stored at (n, j) */
  const covEntry = (fid: number, n: number, j: number): number => {
    const f = plan.fields[fid];
    const base = tri(n);
    if (f.lin) return f.lin.c0 + f.lin.c1 * ops.get(f.lin.op)!.v[base + j];
    const vals = fieldVals[fid];
    const args = cSlots[fid];
    for (let q = 0; q < args.length; q++) {
      const a = args[q];
      vals[q] = a.which === 'ts' ? a.run.v[base + j] : a.which === 't' ? a.run.v[n] : a.run.v[j];
    }
    vals[args.length] = n * h;
    vals[args.length + 1] = j * h;
    return f.F(vals);
  };
  const cOps = plan.opList.filter((o) => o.kind === 'C').map((o) => ops.get(o.name)!);
  const popCOps = pops.map((p) => cOps.filter((r) => r.plan.pop === p.plan.index));

  const rowKs = pops.map(() => new Float64Array(N1));
  const ypart = pops.map((p) => new Array<number>(p.plan.fields.length).fill(0));
  /** order parameters that depend on the final m_n, K_nn (means, nonlinear functions), then the fields */
  const finishOps = (n: number) => {
    const base = tri(n);
    for (const r of ops.values()) {
      const o = r.plan;
      const p = pops[o.pop];
      const mn = p.m[n], knn = Math.max(0, p.K[n * N1 + n]);
      if (o.kind === 'M') {
        if (o.affine) { let s = o.f0 + o.f1 * mn; p.plan.quenched.forEach((q, qi) => { s += o.fq[qi] * q.mean; }); r.v[n] = s; }
        else r.v[n] = r.mean1!(mn, knn);
      } else if (!o.affine && o.kind === 'R') {
        const dm = r.dmean1!(mn, knn);
        r.dmean![n] = dm;
        const b = p.b[o.slotField];
        for (let i = 0; i <= n; i++) r.v[base + i] = dm * p.G[base + i] * b[i];
      } else if (!o.affine && o.kind === 'C') {
        r.v[base + n] = diagNonlinear(r, n);
        for (let j = 0; j < n; j++) r.v[base + j] = mehlerAt(r, p, n, j);
      }
    }
    for (let fid = 0; fid < plan.fields.length; fid++) refreshField(fid, n);
  };

  const covRowExact = (n: number) => {
    for (const r of cOps) if (!r.plan.affine) diagNonlinear(r, n);
    const base = tri(n);
    // parts of K(n,j) that do not involve row n: A(n,·)·K and the U1 sources
    for (const p of pops) {
      const K = p.K, A = p.A, k0 = p.aStart[n];
      for (let j = 0; j < n; j++) rowKs[p.plan.index][j] = 0;
      const row = rowKs[p.plan.index];
      for (let k = k0; k < n; k++) {
        const a = A[base + k];
        if (a === 0) continue;
        const off = k * N1;
        for (let j = 0; j < n; j++) row[j] += a * K[off + j];
      }
      const U1 = p.U1[n];
      if (U1 !== 0) {
        for (let fi = 0; fi < p.plan.fields.length; fi++) {
          const c = U1 * p.b[fi][n - 1];
          if (c === 0) continue;
          const Yt = p.Yt[fi], off = (n - 1) * N1;
          for (let j = 0; j < n; j++) row[j] += c * Yt[off + j];
        }
        for (let qi = 0; qi < p.plan.quenched.length; qi++) {
          const c = U1 * p.delta[qi][n - 1];
          if (c === 0) continue;
          const X = p.Xq[qi];
          for (let j = 0; j < n; j++) row[j] += c * X[j];
        }
      }
    }
    // ascending columns j < n, then the diagonal
    for (let j = 0; j <= n; j++) {
      // the parts of Y(j, n) = Cov(x_j, η_n) that do not involve Cη(j, n)
      for (const p of pops) {
        const P = p.plan;
        for (let fi = 0; fi < P.fields.length; fi++) {
          const fid = P.fields[fi];
          const Yt = p.Yt[fi], off = n * N1, bj = tri(j);
          let s = 0;
          if (!(P.dynamic && j === 0)) {
            for (let k = p.aStart[j]; k < j; k++) s += p.A[bj + k] * Yt[off + k];
            if (p.U1[j] !== 0) s += p.U1[j] * p.b[fi][j - 1] * cov[fid][base + j - 1];
          }
          ypart[P.index][fi] = s;
        }
      }
      // small fixed point: K(n,j) → C(n,j) → Cη(j,n) → Y(j,n) → K(n,j)
      let prev = NaN;
      for (let it = 0; it < 60; it++) {
        for (let fid = 0; fid < plan.fields.length; fid++) cov[fid][base + j] = covEntry(fid, n, j);
        let change = 0, scale = 0;
        for (const p of pops) {
          const P = p.plan;
          const U0n = p.U0[n];
          let k: number;
          if (j < n) {
            k = rowKs[P.index][j];
            for (let fi = 0; fi < P.fields.length; fi++) {
              const fid = P.fields[fi];
              const y = ypart[P.index][fi] + (P.dynamic && j === 0 ? 0 : p.U0[j] * p.b[fi][j] * cov[fid][base + j]);
              p.Yt[fi][n * N1 + j] = y;
              if (U0n !== 0) k += U0n * p.b[fi][n] * y;
            }
            for (let qi = 0; qi < P.quenched.length; qi++) if (U0n !== 0) k += U0n * p.delta[qi][n] * p.Xq[qi][j];
          } else {
            // diagonal: Y(n,n), the two entries below it, and K(n,n)
            const A = p.A, k0 = p.aStart[n];
            for (let fi = 0; fi < P.fields.length; fi++) {
              const fid = P.fields[fi];
              const Yt = p.Yt[fi];
              Yt[n * N1 + n] = ypart[P.index][fi] + (P.dynamic && n === 0 ? 0 : p.U0[n] * p.b[fi][n] * cov[fid][base + n]);
              for (let i = Math.max(0, n - 2); i < n; i++) {
                const off = i * N1;
                let s = 0;
                for (let kk = k0; kk < n; kk++) s += A[base + kk] * Yt[off + kk];
                if (p.U1[n] !== 0) s += p.U1[n] * p.b[fi][n - 1] * covAt(fid, n - 1, i);
                s += p.U0[n] * p.b[fi][n] * covAt(fid, n, i);
                Yt[off + n] = s;
              }
            }
            if (P.dynamic && n === 0) k = P.init.var;
            else {
              k = 0;
              for (let kk = k0; kk < n; kk++) k += A[base + kk] * p.K[n * N1 + kk];
              const terms: [number, number][] = [];
              if (p.U1[n] !== 0) terms.push([p.U1[n], n - 1]);
              if (p.U0[n] !== 0) terms.push([p.U0[n], n]);
              for (const [u, i] of terms) {
                for (let fi = 0; fi < P.fields.length; fi++) k += u * p.b[fi][i] * p.Yt[fi][i * N1 + n];
                for (let qi = 0; qi < P.quenched.length; qi++) k += u * p.delta[qi][i] * p.Xq[qi][n];
              }
              k += p.nu2[n];
            }
          }
          const old = p.K[n * N1 + j];
          change = Math.max(change, Math.abs(k - old));
          scale = Math.max(scale, Math.abs(k));
          p.K[n * N1 + j] = k;
          p.K[j * N1 + n] = k;
          // Gauss–Seidel: the next population sees this one's new order parameters
          for (const r of popCOps[P.index]) {
            r.v[base + j] = j === n && !r.plan.affine ? diagNonlinear(r, n) : opAt(r, n, j);
            for (const fid of plan.fieldsOf.get(r.plan.name) ?? []) cov[fid][base + j] = covEntry(fid, n, j);
          }
        }
        if (change <= 1e-15 * scale || (it > 0 && change === 0)) break;
        if (it > 6 && change > 0.9 * prev) { if (change > 1e-9 * scale) throw new DmftError({ message: `the implicit covariance step does not converge at t = ${(n * h).toPrecision(4)}`, hint: 'try a smaller --dt' }); break; }
        prev = change;
      }
    }
    for (let fid = 0; fid < plan.fields.length; fid++) cov[fid][base + n] = covEntry(fid, n, n);
  };

  // ---- predictor for implicit steps -------------------------------------
  const predict = (n: number) => {
    for (const r of ops.values()) {
      const v = r.v;
      if (r.plan.kind === 'M') { v[n] = n >= 3 ? 3 * v[n - 1] - 3 * v[n - 2] + v[n - 3] : n >= 1 ? v[n - 1] : 0; continue; }
      const b = tri(n);
      if (n === 0) { v[0] = 0; continue; }
      const b1 = tri(n - 1);
      if (n < 3) { for (let j = 0; j <= n; j++) v[b + j] = v[b1 + Math.max(0, j - 1)]; continue; }
      const b2 = tri(n - 2), b3 = tri(n - 3);
      // quadratic extrapolation along t at fixed s off the diagonal, along the
      // diagonal near it (kinks, δ parts and end weights live there)
      for (let j = 0; j <= n; j++) {
        let x: number;
        if (j <= n - 4) x = 3 * v[b1 + j] - 3 * v[b2 + j] + v[b3 + j];
        else if (j >= 3) x = 3 * v[b1 + j - 1] - 3 * v[b2 + j - 2] + v[b3 + j - 3];
        else x = v[b1 + Math.max(0, j - 1)];
        v[b + j] = x;
      }
    }
    for (let fid = 0; fid < plan.fields.length; fid++) refreshField(fid, n);
    // the state's variance and the nonlinear mean slopes, for the exactly ordered step
    const ex3 = (v: Float64Array, at: (i: number) => number) => (n >= 3 ? 3 * at(n - 1) - 3 * at(n - 2) + at(n - 3) : n >= 1 ? at(n - 1) : v[0]);
    for (const p of pops) p.K[n * N1 + n] = ex3(p.K, (i) => p.K[i * N1 + i]);
    for (const r of ops.values()) if (r.dmean) r.dmean[n] = ex3(r.dmean, (i) => r.dmean![i]);
  };

  // row n of every order parameter before and after a sweep (the within-step convergence test)
  const { take: takeSnap, diff: snapDiff } = rowSnapshots(ops, N);

  const explicit = scheme !== 'trapezoid' && !plan.cyclic;
  const exactMode = scheme === 'trapezoid' && (lo.exactOrder ?? true) && plan.pops.some((p) => p.dense);
  // with constant-coefficient affine equations and affine order parameters one ordered pass is exact
  const rowExact = plan.pops.every((p) => p.meanSlots.length === 0) && plan.opList.every((o) => o.affine);
  const popOrder = plan.order.map((i) => pops[i]);
  let sweepsMax = 0, sweepsTotal = 0, last = N, residualMax = 0;
  let stiffness = { value: 0, variable: '', rate: 0 };
  let diverged: string | undefined;
  const reportEvery = Math.max(1, Math.floor(N / 50));

  for (let n = 0; n <= N; n++) {
    firstSweep = true;
    if (exactMode) {
      predict(n);
      let s = 0, dPrev = Infinity;
      for (;;) {
        firstSweep = s === 0;
        takeSnap(n);
        for (const p of pops) coefOnly(p, n);
        solveResponseRow(n);
        for (const p of pops) meansRow(p, n);
        affineAt(n);
        covRowExact(n);
        finishOps(n);
        s++;
        if (rowExact) break;
        const d = snapDiff(n);
        if (d <= stepTol || !Number.isFinite(d)) break;
        if (d < 1e-7 && s >= 3 && d > 0.5 * dPrev) { if (d > residualMax) residualMax = d; break; }
        dPrev = d;
        if (s >= maxSweeps) {
          if (lo.fixedSweeps) { if (d > residualMax) residualMax = d; break; }
          throw new DmftError({ message: `the within-step iteration did not converge at t = ${(n * h).toPrecision(4)} (change ${d.toExponential(2)} after ${s} sweeps)`, hint: 'try a smaller --dt' });
        }
      }
      sweepsMax = Math.max(sweepsMax, s); sweepsTotal += s;
    } else if (explicit) {
      for (const p of popOrder) {
        if (p.plan.dynamic) {
          phaseState(p, n);
          phaseYSub(p, n);
          phaseK(p, n);
          phaseOps(p, n);
        } else {
          phaseCoef(p, n);
          phaseState(p, n);
          phaseYCol(p, n);
          phaseYSub(p, n);
          phaseK(p, n);
          phaseOps(p, n);
        }
      }
      for (const p of popOrder) if (p.plan.dynamic) {
        phaseCoef(p, n);
        phaseYCol(p, n);
      }
      sweepsMax = Math.max(sweepsMax, 1); sweepsTotal += 1;
    } else {
      predict(n);
      let s = 0, dPrev = Infinity;
      for (;;) {
        firstSweep = s === 0;
        takeSnap(n);
        for (const p of popOrder) {
          phaseCoef(p, n);
          phaseState(p, n);
          phaseYCol(p, n);
          phaseYSub(p, n);
          phaseK(p, n);
          phaseOps(p, n);
        }
        s++;
        const d = snapDiff(n);
        if (d <= stepTol) break;
        if (!Number.isFinite(d)) break;
        // stagnation at the level of the quadrature errors: accept, and report it
        if (d < 1e-7 && s >= 3 && d > 0.5 * dPrev) { if (d > residualMax) residualMax = d; break; }
        dPrev = d;
        if (s >= maxSweeps && d > residualMax) residualMax = d;
        if (s >= maxSweeps) {
          if (lo.fixedSweeps) break;
          throw new DmftError({ message: `the within-step iteration did not converge at t = ${(n * h).toPrecision(4)} (change ${d.toExponential(2)} after ${s} sweeps)`, hint: 'try a smaller --dt' });
        }
      }
      sweepsMax = Math.max(sweepsMax, s); sweepsTotal += s;
    }
    // divergence
    const trouble = rowTrouble(pops, n, N1, h);
    diverged = trouble?.why;
    // the stiffness of the populations checked before a troubled one
    for (const p of trouble ? pops.slice(0, trouble.at) : pops) if (p.plan.dynamic && p.plan.ops.length && p.a[n] < 0 && -p.a[n] * h > stiffness.value) stiffness = { value: -p.a[n] * h, variable: p.plan.variable, rate: -p.a[n] };
    if (diverged) { last = n - 1; break; }
    if (lo.progress && n % reportEvery === 0) lo.progress(n / N);
  }
  return {
    h, N, last, diverged, sweepsMax, residualMax, sweepsMean: sweepsTotal / Math.max(1, last + 1), fallbackPairs, stiffness,
    pops: pops.map((p) => ({ m: p.m, K: p.K, Xq: p.Xq })),
  };
}

// ---------------------------------------------------------------------------
// Observables on a level.


/** a value with an estimate of its quadrature error */
export interface Quad { v: number; e: number }

/**
 * ⟨body⟩ for a jointly Gaussian (x(t_n), x(t_j), q…) on a level, with its
 * quadrature error: zero for polynomial bodies (exact Gauss–Hermite), else
 * the change from the default rule to one twice as fine (the finer value is
 * returned). Bodies of one or two variables are split at their kinks.
 */
function evalAverage(plan: GaussianPlan, lv: LevelData, a: AvgPlan, n: number, j: number): Quad {
  const P = plan.pops[a.pop];
  const S = lv.pops[a.pop];
  const N1 = lv.N + 1;
  const mean = (s: number) => (s === 0 ? S.m[n] : s === 1 ? S.m[j] : P.quenched[s - 2].mean);
  const cv = (s: number, u: number): number => {
    if (s > u) return cv(u, s);
    if (s <= 1 && u <= 1) { const ti = s === 0 ? n : j, tj = u === 0 ? n : j; return S.K[ti * N1 + tj]; }
    if (s <= 1) return S.Xq[u - 2][s === 0 ? n : j];
    return s === u ? P.quenched[s - 2].var : 0;
  };
  const act = a.active;
  const d = act.length;
  const v = new Float64Array(a.nSlots);
  if (d === 0) return { v: a.F(v), e: 0 };
  const mu = act.map(mean);
  const C = act.map((s) => act.map((u) => cv(s, u)));
  const twice = (f: () => number): Quad => { const c = f(), fine = atResolution(2, f); return { v: fine, e: Math.abs(fine - c) }; };
  const polynomial = Number.isFinite(a.deg) && a.deg <= 5;
  if (!polynomial && d <= 2) {
    a.split ??= {};
    if (d === 1) {
      const pw = (a.split.one ??= piecewiseOf(a.body, a.slots[act[0]], a.params, a.slots));
      return twice(() => expect(pw, mu[0], C[0][0]));
    }
    if (a.split.two === undefined) a.split.two = kinkLinesOf(a.body, a.slots[act[0]], a.slots[act[1]], a.params, a.slots) ?? null;
    const F2 = (x: number, y: number) => { v[act[0]] = x; v[act[1]] = y; return a.F(v); };
    const lines = a.split.two;
    if (lines) {
      const s0 = Math.sqrt(Math.max(C[0][0], 0)), s1 = Math.sqrt(Math.max(C[1][1], 0));
      const ls = lines(mu[0] - 10 * s0, mu[0] + 10 * s0, mu[1] - 10 * s1, mu[1] + 10 * s1);
      return twice(() => expectLines(F2, ls, mu[0], mu[1], C[0][0], C[0][1], C[1][1]));
    }
    // a kink along a curve in both variables: the robust rule (O(δx²) across it), its error measured
    const c = expectNormal2(F2, mu[0], mu[1], C[0][0], C[0][1], C[1][1]);
    const fine = expectNormal2(F2, mu[0], mu[1], C[0][0], C[0][1], C[1][1], ROBUST_DX / 4);
    return { v: fine, e: Math.abs(fine - c) };
  }
  // tensor Gauss–Hermite: exact for polynomial bodies of degree ≤ 2n−1
  const tensor = (nn: number): number => {
    const { x: gx, w: gw } = gaussHermite(nn);
    const L = choleskySemidefinite(C);
    const idx = new Array<number>(d).fill(0);
    let acc = 0;
    const z = new Array<number>(d).fill(0);
    for (;;) {
      let w = 1;
      for (let k = 0; k < d; k++) { z[k] = gx[idx[k]]; w *= gw[idx[k]]; }
      for (let r = 0; r < d; r++) { let s = mu[r]; for (let k = 0; k <= r; k++) s += L[r][k] * z[k]; v[act[r]] = s; }
      acc += w * a.F(v);
      let k = 0;
      while (k < d && ++idx[k] === nn) { idx[k] = 0; k++; }
      if (k === d) break;
    }
    return acc;
  };
  if (polynomial) return { v: tensor(a.deg <= 3 ? 2 : 3), e: 0 };
  if (Number.isFinite(a.deg)) return { v: tensor(Math.ceil((a.deg + 1) / 2)), e: 0 };
  // non-polynomial in three or more variables
  const c = tensor(24), fine = tensor(40);
  return { v: fine, e: Math.abs(fine - c) };
}

/**
 * An observable outer(⟨…⟩, ⟨…⟩, …) with its quadrature error: each average's
 * error carried through `outer` (the change of outer when that average moves
 * by its error, either way).
 */
function evalObservable(plan: GaussianPlan, lv: LevelData, o: ObsPlan, n: number, j: number): Quad {
  return outerWithError(o.outer, o.avgs.map((a) => evalAverage(plan, lv, a, n, j)));
}


/** 4-point Lagrange interpolation of a grid function at time t. */
function interp(values: (n: number) => number, h: number, N: number, t: number, abs = false): number {
  const x = t / h;
  const r = Math.round(x);
  if (Math.abs(x - r) < 1e-9 && r >= 0 && r <= N) return values(r);
  let i0 = Math.floor(x) - 1;
  i0 = Math.max(0, Math.min(N - 3, i0));
  if (N < 3) { const a = Math.floor(x), b = Math.min(N, a + 1), u = x - a; return (1 - u) * values(a) + u * values(b); }
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let l = 1;
    for (let k = 0; k < 4; k++) if (k !== i) l *= (x - (i0 + k)) / (i - k);
    s += (abs ? Math.abs(l) : l) * values(i0 + i);
  }
  return s;
}

/**
 * An upper estimate of the error of interp() at t between grid points (0 on
 * the grid): where the four nodes resolve the solution (third difference small
 * against the first, i.e. rate·h ≲ 0.3) the cubic's distance to the quadratic
 * through the nearest three nodes; where they do not (t inside a step over
 * which a stiff variable relaxes) its distance to both nodes of that step and
 * to the linear interpolant — Richardson over the levels does not see an
 * error that does not shrink like h^p.
 */
function interpError(values: (n: number) => number, h: number, N: number, t: number): number {
  const x = t / h;
  const r = Math.round(x);
  if ((Math.abs(x - r) < 1e-9 && r >= 0 && r <= N) || N < 3) return 0;
  const i0 = Math.max(0, Math.min(N - 3, Math.floor(x) - 1));
  const v = [0, 1, 2, 3].map((i) => values(i0 + i));
  const cubic = interp(values, h, N, t);
  const a = Math.max(0, Math.min(N - 1, Math.floor(x))), u = x - a;
  const linear = (1 - u) * values(a) + u * values(a + 1);
  const d1 = Math.max(Math.abs(v[1] - v[0]), Math.abs(v[2] - v[1]), Math.abs(v[3] - v[2]));
  const d3 = Math.abs(v[3] - 3 * v[2] + 3 * v[1] - v[0]);
  // unresolved: nothing between the nodes is known but that a relaxation passes from one to the
  // other, so the bar reaches both bracketing nodes
  if (d3 > 0.1 * d1) return Math.max(Math.abs(cubic - linear), Math.abs(cubic - values(a)), Math.abs(cubic - values(a + 1)));
  // the quadratic through the three nodes nearest t
  const j0 = Math.max(i0, Math.min(i0 + 1, Math.round(x) - 1)), y = x - j0;
  const w = [v[j0 - i0], v[j0 - i0 + 1], v[j0 - i0 + 2]];
  const quad = w[0] * ((y - 1) * (y - 2)) / 2 - w[1] * y * (y - 2) + w[2] * (y * (y - 1)) / 2;
  return Math.abs(cubic - quad);
}

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The solver.

/** The base step cannot resolve the fastest rate of a variable whose
 *  correlations feed back through its fields; `dt` is the largest base step
 *  that would. */
export class StiffStepError extends DmftError {
  constructor(readonly dt: number, init: ConstructorParameters<typeof DmftError>[0]) { super(init); }
}

export interface GaussianOptions extends SolveOptions {
  /** time-stepping scheme (default 'trapezoid') */
  scheme?: Scheme;
  /** number of grids h, h/2, … (default 2 for the second-order schemes, 3 for Euler) */
  levels?: number;
  /** also solve on 2·dt to estimate the error of the extrapolated value (default true) */
  errorGrid?: boolean;
  /** maximal two-time output points per axis without --times */
  twoTimePoints?: number;
  /** solve a scalar system with the vector closure too (its V = 1 case; for cross-checks) */
  forceVector?: boolean;
}

export interface GaussianSolution {
  result: SolveResult;
  /** extrapolated one-time observables on the coarse grid (for limits) */
  series: { t: number[]; values: Record<string, number[]>; error: Record<string, number[]> };
  /** growth diagnostics of the coarse level: `unstable` (clear exponential growth),
   *  `weakUnstable` (still growing, not decelerating, over the last half) */
  growth: { rate: number; ratio: number; unstable: boolean; weakUnstable: boolean };
  /** why the transient grows, naming the parameters that drive it (computed on demand: it re-solves) */
  instability: () => string;
}

const fmt = (x: number) => +x.toPrecision(4);
/** largest (damping rate)·(finest dt) for which the closure resolves a variable whose correlations feed back */
const STIFF_MAX = 0.5;
/** an observed order this far below the scheme's marks the grids as not in the asymptotic regime */
const ORDER_SLACK = 0.3;

/** Growth of the second moments over the last half of a level. */
function growthOf(lv: LevelData): { rate: number; ratio: number; accel: number; unstable: boolean; weakUnstable: boolean } {
  const N1 = lv.N + 1;
  const last = lv.last;
  const S = (n: number) => Math.max(...lv.pops.map((p) => p.K[n * N1 + n] + p.m[n] * p.m[n]));
  if (last < 8) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  const n3 = last, n2 = Math.round(last * 0.75), n1 = Math.round(last * 0.5);
  const dt = (n3 - n2) * lv.h;
  const s1 = S(n1), s2 = S(n2), s3 = S(n3);
  if (!(s3 > 0) || !(s2 > 0) || !(s1 > 0)) return { rate: NaN, ratio: NaN, accel: NaN, unstable: false, weakUnstable: false };
  const r2 = Math.log(s3 / s2) / dt, r1 = Math.log(s2 / s1) / ((n2 - n1) * lv.h);
  const unstable = s3 > 1.5 * s2 && r2 > 0 && r2 >= 0.7 * r1;
  const weakUnstable = s3 > s2 * (1 + 1e-6) && r2 > 0 && (r1 <= 0 || r2 >= 0.9 * r1);
  return { rate: r2, ratio: s3 / s2, accel: r1 > 0 ? r2 / r1 : NaN, unstable, weakUnstable };
}

/** Name the parameters that drive a growth: growth-rate sensitivities on the coarse grid. */
function describeInstability(reading: SystemReading, opts: GaussianOptions, h: number, N: number, scheme: Scheme, rate: number, divergedAt?: number): { message: string; hint: string } {
  const T = (divergedAt ?? N) * h;
  const Np = Math.max(16, Math.round(Math.min(T, opts.T) / h));
  const base = probeRate(reading.sys, opts.params, h, Np, scheme);
  const sens: { name: string; s: number; value: number }[] = [];
  if (Number.isFinite(base)) {
    for (const [name, value] of Object.entries(opts.params)) {
      if (value === 0 || !Number.isFinite(value)) continue;
      const eps = 0.05;
      let r: number;
      try { r = probeRate(reading.sys, { ...opts.params, [name]: value * (1 - eps) }, h, Np, scheme); } catch { continue; }
      if (!Number.isFinite(r)) continue;
      const s = (base - r) / eps;
      sens.push({ name, s, value });
    }
  }
  sens.sort((a, b) => b.s - a.s);
  const top = sens.length ? sens[0].s : 0;
  const drivers = sens.filter((x) => x.s > 0.1 * top && x.s > 1e-3);
  const named = drivers.map((x) => `${x.name} = ${x.value} (d rate/d ln ${x.name} ≈ ${fmt(x.s)})`).join(', ');
  const rateTxt = Number.isFinite(rate) ? `the second moment grows like e^(${fmt(rate)} t)` : 'the solution overflows';
  return {
    message: `${reading.linear ? 'the linear system is past its stability edge: ' : ''}${rateTxt} instead of settling${divergedAt !== undefined ? ` (diverged by t = ${fmt(divergedAt * h)})` : ''}` +
      (drivers.length ? `; the growth is driven by ${named}` : ''),
    hint: drivers.length ? `reduce ${drivers.map((x) => x.name).join(' or ')} below the edge` : 'check the signs of the restoring terms',
  };
}

function probeRate(sys: SystemReading['sys'], params: Record<string, number>, h: number, N: number, scheme: Scheme): number {
  const lv = closureEngine(readSystem(sys, params)).run(h, N, { scheme });
  const last = lv.last;
  if (last < 8) return NaN;
  const N1 = lv.N + 1;
  const S = (n: number) => Math.max(...lv.pops.map((p) => p.K[n * N1 + n] + p.m[n] * p.m[n]));
  const n2 = Math.round(last * 0.75);
  return Math.log(S(last) / S(n2)) / ((last - n2) * h);
}

export function solveGaussian(reading: SystemReading, opts: GaussianOptions): GaussianSolution {
  const engine = closureEngine(reading, opts.forceVector);
  const scheme: Scheme = opts.scheme ?? 'trapezoid';
  if (!(scheme in SCHEME_ORDER)) throw new DmftError({ message: `unknown time-stepping scheme '${scheme}'`, expected: Object.keys(SCHEME_ORDER).join(' | ') });
  const order = SCHEME_ORDER[scheme];
  const levels = Math.max(1, Math.min(4, opts.levels ?? (order === 2 ? 2 : 3)));
  if (!(opts.T > 0) || !(opts.dt > 0)) throw new DmftError({ message: `T and dt must be positive (T = ${opts.T}, dt = ${opts.dt})` });
  const N0 = Math.max(2, Math.round(opts.T / opts.dt));
  const h0 = opts.T / N0;
  const times = opts.times;
  if (times) for (const t of times) if (!(t >= -1e-12 && t <= opts.T * (1 + 1e-12))) throw new DmftError({ message: `--times: ${t} is outside [0, T = ${opts.T}]` });
  const tOut = times ? times.slice() : Array.from({ length: N0 + 1 }, (_, i) => i * h0);
  const obsList = engine.observables.map((o, index) => ({ ...o, index }));
  const one = obsList.filter((o) => !o.twoTime);
  const two = obsList.filter((o) => o.twoTime);
  // two-time output: requested times snapped to the coarse grid, or a subsample
  const maxPts = opts.twoTimePoints ?? 41;
  const twoIdx = times
    ? times.map((t) => Math.round(t / h0))
    : Array.from(new Set(Array.from({ length: Math.min(maxPts, N0 + 1) }, (_, i) => Math.round((i * N0) / Math.max(1, Math.min(maxPts, N0 + 1) - 1)))));

  const oneVals: number[][][] = one.map(() => []); // [obs][level][k]
  const serVals: number[][][] = one.map(() => []); // coarse grid
  // quadrature errors of the same values
  const oneQ: number[][][] = one.map(() => []);
  const serQ: number[][][] = one.map(() => []);
  const twoQ: number[][][][] = two.map(() => []);
  const diag: Record<string, number | string | boolean> = {};
  let growth = { rate: NaN, ratio: NaN, unstable: false, weakUnstable: false };
  let coarse: { h: number; N: number } = { h: h0, N: N0 };
  const started = Date.now();

  // grids: an extra coarser one (2·dt, cost ≈ 1/8 of dt's) for the error of
  // the extrapolated value, then dt, dt/2, …
  const extra = (opts.errorGrid ?? true) && N0 % 2 === 0 && N0 >= 8;
  const factors = [...(extra ? [0.5] : []), ...Array.from({ length: levels }, (_, l) => 2 ** l)];
  const twoLevels: number[][][][] = two.map(() => []);
  for (let l = 0; l < factors.length; l++) {
    const f = factors[l];
    const h = h0 / f, N = Math.round(N0 * f);
    const lv = engine.run(h, N, {
      scheme,
      progress: opts.progress ? (x) => opts.progress!(`gaussian closure, grid ${l + 1}/${factors.length} (dt = ${fmt(h)})`, x) : undefined,
    });
    const tag = f === 0.5 ? 'E' : String(Math.log2(f));
    diag[`sweepsMax_${tag}`] = lv.sweepsMax;
    diag[`sweepsMean_${tag}`] = fmt(lv.sweepsMean);
    if (lv.residualMax > 0) diag[`stepResidual_${tag}`] = +lv.residualMax.toExponential(2);
    if (lv.fallbackPairs) diag[`quadrature2dPairs_${tag}`] = lv.fallbackPairs;
    if (l === 0) {
      const g = growthOf(lv);
      growth = { rate: g.rate, ratio: g.ratio, unstable: g.unstable, weakUnstable: g.weakUnstable };
      coarse = { h, N };
    }
    if (l === 0 && lv.stiffness.value > 0) {
      // the stiff linear part is integrated exactly, but the fields built from
      // this variable's correlations vary on the scale 1/rate too: unresolved
      // on the grid, an error Richardson does not see
      const finest = h0 / 2 ** (levels - 1);
      const st = lv.stiffness;
      if (st.rate * finest > STIFF_MAX) {
        const need = (STIFF_MAX * 2 ** (levels - 1)) / st.rate;
        throw new StiffStepError(need, {
          message: `the time step does not resolve the fastest rate of ${st.variable}: |∂F/∂${st.variable}| reaches ${fmt(st.rate)}, so ${st.variable}'s correlations, which feed back through its fields, change on the time scale ${fmt(1 / st.rate)}, while the finest grid has dt = ${fmt(finest)}; the closure's error would be uncontrolled`,
          hint: `use --dt ${fmt(need)} or smaller (${Math.ceil(opts.T / need)} steps for T = ${opts.T})${opts.T / need > 1e5 ? ', with a shorter --T' : ''}`,
        });
      }
    }
    if (lv.diverged) {
      // a growing transient is reported (with its growth law) as long as it is
      // representable; only values that overflow are refused
      const tEnd = (lv.last + 1) * h;
      if (l === 0 && lv.last >= 8 && /overflow|non-finite/.test(lv.diverged)) {
        const why = describeInstability(reading, opts, h, N, scheme, growth.rate, lv.last);
        throw new DmftError({ message: `the transient overflows by t = ${fmt(tEnd)}: ${why.message} (rate measured on the grid dt = ${fmt(h)}, where rate·dt = ${fmt(growth.rate * h)})`, hint: `solve up to a shorter time (--T ${fmt(0.8 * tEnd)} is representable), or ${why.hint}` });
      }
      throw new DmftError({ message: `the Gaussian closure diverged: ${lv.diverged}`, hint: 'the dynamics may be unstable at these parameters; try a shorter --T or a smaller --dt' });
    }
    one.forEach((o, oi) => {
      const cache = new Map<number, Quad>();
      const q = (n: number) => { let v = cache.get(n); if (v === undefined) { v = engine.observe(lv, o.index, n, n); cache.set(n, v); } return v; };
      const at = (n: number) => q(n).v, err = (n: number) => q(n).e;
      oneVals[oi].push(tOut.map((t) => interp(at, h, N, t)));
      serVals[oi].push(Array.from({ length: N0 + 1 }, (_, k) => interp(at, h, N, k * h0)));
      // the interpolation error at output times between grid points rides with the quadrature error
      oneQ[oi].push(tOut.map((t) => interp(err, h, N, t, true) + interpError(at, h, N, t)));
      serQ[oi].push(Array.from({ length: N0 + 1 }, (_, k) => interp(err, h, N, k * h0, true)));
    });
    if (f >= 1) two.forEach((o, oi) => {
      const q = twoIdx.map((a) => twoIdx.map((b) => engine.observe(lv, o.index, a * f, b * f)));
      twoLevels[oi].push(q.map((r) => r.map((x) => x.v)));
      twoQ[oi].push(q.map((r) => r.map((x) => x.e)));
    });
  }

  // The observed order of convergence, from the differences between the
  // grids 2·dt, dt, dt/2 summed over the coarse series: a solution that is not
  // smooth in time (e.g. a jump in f with white noise: C_f(t,s) has a √|t−s|
  // cusp, the step error is O(dt^{3/2})) converges more slowly than the
  // scheme's order, and extrapolating with the nominal order would leave an
  // error its bar does not see.
  let observedOrder = order;
  if (extra) {
    let num = 0, den = 0, scale = 0;
    serVals.forEach((lv) => {
      for (let k = 1; k <= N0; k++) { num += Math.abs(lv[0][k] - lv[1][k]); den += Math.abs(lv[1][k] - lv[2][k]); scale += Math.abs(lv[2][k]); }
    });
    // only where the grids differ well above the tolerance of the within-step iteration
    if (den > 1e-7 * scale && num > 0) {
      const p = Math.log2(num / den);
      if (p < order - ORDER_SLACK) observedOrder = Math.max(0.5, p);
    }
    if (observedOrder !== order) {
      diag.observedOrder = fmt(observedOrder);
      diag.orderNote = `the grids converge like dt^${fmt(observedOrder)}, slower than the scheme's order ${order} (the solution is not smooth in time): extrapolated with the observed order, errors include the difference to the nominal one`;
    }
  }
  /** value from the grids dt, dt/2, …; error = its distance from the extrapolation that also uses 2·dt
   *  (without that grid: the size of the last Richardson correction); with a
   *  lower observed order, extrapolated with it and the difference to the
   *  nominal extrapolation added to the error */
  const combine = (vals: number[]): { value: number; error: number } => {
    const main = richardson(extra ? vals.slice(1) : vals, order);
    if (!extra) return main;
    const all = richardson(vals, order);
    if (observedOrder === order) return { value: main.value, error: Math.abs(all.value - main.value) };
    const mainP = richardson(vals.slice(1), observedOrder), allP = richardson(vals, observedOrder);
    return { value: mainP.value, error: Math.abs(allP.value - mainP.value) + Math.abs(mainP.value - main.value) };
  };
  /** the quadrature error of an extrapolated value: Σ |c_l|·e_l over the Richardson weights c_l of the grids used */
  const weights = (n: number, skipFirst: boolean): number[] => Array.from({ length: n }, (_, l) => {
    if (skipFirst && l === 0) return 0;
    const unit = Array.from({ length: n }, (_, k) => (k === l ? 1 : 0));
    return Math.abs(richardson(skipFirst ? unit.slice(1) : unit, order).value);
  });
  const quadOf = (errs: number[], skipFirst: boolean): number => {
    const w = weights(errs.length, skipFirst);
    return errs.reduce((s, e, l) => s + w[l] * e, 0);
  };
  /** errors at neighbouring times: a zero crossing of the leading error term must not pass for accuracy */
  const widen = (e: number[], w: number): number[] => e.map((_, i) => {
    let m = 0;
    for (let k = Math.max(0, i - w); k <= Math.min(e.length - 1, i + w); k++) if (Number.isFinite(e[k])) m = Math.max(m, e[k]);
    return Number.isFinite(e[i]) ? m : e[i];
  });

  const observables: Record<string, number[]> = table();
  const error: Record<string, number[]> = table();
  const series: GaussianSolution['series'] = { t: Array.from({ length: N0 + 1 }, (_, k) => k * h0), values: table(), error: table() };
  const floor = (v: number) => 1e-9 * Math.abs(v) + 1e-15;
  one.forEach((o, oi) => {
    // quadrature errors of the observable's averages ride along with the dt error
    const sx = series.t.map((_, k) => { const c = combine(serVals[oi].map((lv) => lv[k])); return { value: c.value, error: c.error + quadOf(serQ[oi].map((lv) => lv[k]), extra) }; });
    series.values[o.name] = sx.map((x) => x.value);
    series.error[o.name] = widen(sx.map((x) => x.error + floor(x.value)), 2);
    const ex = tOut.map((_, k) => { const c = combine(oneVals[oi].map((lv) => lv[k])); return { value: c.value, error: c.error + quadOf(oneQ[oi].map((lv) => lv[k]), extra) }; });
    observables[o.name] = ex.map((x) => x.value);
    // the error at an output time: its own estimate, and the series' around it
    error[o.name] = ex.map((x, k) => {
      const i = Math.min(N0, Math.max(0, Math.round(tOut[k] / h0)));
      return Math.max(x.error + floor(x.value), series.error[o.name][i], series.error[o.name][Math.min(N0, i + 1)], series.error[o.name][Math.max(0, i - 1)]);
    });
  });
  const twoTime: Record<string, TwoTime> = table();
  two.forEach((o, oi) => {
    const tt = twoIdx.map((i) => i * h0);
    const vals = tt.map((_, a) => tt.map((_, b) => {
      const v = twoLevels[oi].map((lv) => lv[a][b]);
      const r = richardson(v, order);
      if (observedOrder === order) return r;
      const rp = richardson(v, observedOrder);
      return { value: rp.value, error: r.error + Math.abs(rp.value - r.value) };
    }));
    const quad = tt.map((_, a) => tt.map((_, b) => quadOf(twoQ[oi].map((lv) => lv[a][b]), false)));
    twoTime[o.name] = { t: tt, values: vals.map((r) => r.map((x) => x.value)), error: vals.map((r, a) => r.map((x, b) => x.error + quad[a][b] + floor(x.value))) };
  });
  diag.scheme = scheme;
  diag.levels = levels;
  diag.errorGrid = extra;
  diag.dt = h0;
  diag.finestDt = h0 / 2 ** (levels - 1);
  diag.order = order;
  diag.seconds = fmt((Date.now() - started) / 1000);
  const result: SolveResult = {
    model: reading.sys.model,
    params: { ...opts.params },
    method: 'gaussian',
    t: tOut,
    observables,
    error,
    diagnostics: diag,
  };
  if (two.length) result.twoTime = twoTime;
  return { result, series, growth, instability: () => describeInstability(reading, opts, coarse.h, coarse.N, scheme, growth.rate).message };
}
