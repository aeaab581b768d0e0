// Gaussian-state closure of vector single-site processes, transient.
//
// A population's site carries a vector x = (x_1 … x_V) of variables (states
// and lets), driven by a vector of Gaussian fields η with a full covariance
// Σ_fg(t,s) (its own covariances and the cross-covariances between fields),
// white noise, quenched normal inputs q and memory integrals
// ∫ χ_j(t,s) g_j(x(s), q) ds with g_j affine in several variables. When every
// right-hand side is affine in these, x is jointly Gaussian with q and the
// fields, and its law is fixed by
//   m_a(t)                 the means,
//   K_ab(t,s)              the connected covariance between variables,
//   G_ab(t,s)              the path response of x_a(t) to a unit source
//                          inserted in x_b's equation at s,
//   Y_af(t,s)              Cov(x_a(t), η_f(s)),
//   X_aq(t)                Cov(x_a(t), q).
// A cross-response R[f|η](t,s) = Σ_ab ∂f/∂x_a G_ab(t,s) β_bη(s) (β_bη the
// coefficient of η in x_b's equation), a cross-correlation
// C[f,g](t,s) = ⟨f(x(t)) g(x(s))⟩ follows by covariance algebra for affine
// f and g; a nonlinear f = φ(c·(x, q)) of one affine combination by Gaussian
// averages over that combination's (pair) law. Other nonlinear f of several
// variables are refused.
//
// Discretization: θ-method rows (θ = ½ trapezoid, θ = 0 Euler) on t_n = n h,
//   dynamic    x_a(n) = x_a(n−1) + h[(1−θ) F_a(n−1) + θ F_a(n)] + ∫ noise
//   algebraic  x_a(n) = F_a(n)
//   F_a(i)     = Σ_b Σ_{k≤i} Φ_ab(i,k) x_b(k) + Σ_f β_af(i) η_f(i) + δ_a(i)·q + ε_a(i)
// with Φ_ab(i,i) holding the equal-time coupling ∂F_a/∂x_b (a let chain) and
// the memory kernels' diagonal. Solving the equal-time block (I − W Φ(n,n))
// by a V×V linear solve gives every row as
//   x(n) = Σ_{k<n} A(n,k) x(k) + U1(n) src(n−1) + U0(n) src(n) + M(n) ζ(n)
// (matrices over the variables; ζ the noise increment, or the initial draw at
// n = 0), which gives the recursions for m, K, G, Y and X. The order
// parameters at row n enter row n itself (θ > 0, or through lets); row n is
// solved in causal order (the response by descending, the covariance by
// ascending columns; one grid's solve is gaussian-level.ts), exactly in one
// pass for linear sites, repeated to a fixed point where mean fields or
// nonlinear order parameters enter. The outer Richardson extrapolation over h and the error bars are
// gaussian.ts's.
import { DmftError } from '../errors.ts';
import { choleskySemidefinite } from '../numeric/linalg.ts';
import { expectTensorHermite, expectTensorSmooth } from '../numeric/normal.ts';
import { degree, diff, isVar } from '../expr/diff.ts';
import { mapPost, mul, num, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import type { PopReading, SiteFunction, SystemReading } from './read.ts';
import type { ClosureEngine, LevelData, LevelOptions, Quad } from './gaussian.ts';
import { expectNormal, expectNormal2, hermiteInto, outerWithError, robustRule, ROBUST_DX } from './quadrature.ts';
import { atResolution, expect, expect2, expectDerivative, expectLines, hermiteCoefficients } from '../numeric/gauss.ts';
import { isKinked, kinkArgs, kinkLinesOf, piecewiseOf, type KinkLine, type Piecewise } from '../numeric/kinks.ts';
import { HERM_KMAX, runLevelVector, type PopRunV } from './gaussian-level.ts';

/** Does this reading need the vector closure (several variables, correlated fields, cross-correlations, init on quenched inputs)? */
export function isVectorReading(rd: SystemReading): boolean {
  return rd.pops.some((p) => p.variables.length > 1 || p.cross.length > 0 || p.variables.some((v) => v.initInputs.length > 0))
    || [...rd.orders.values()].some((o) => o.g !== undefined);
}

/** f0 + f1·x + fq·q of an affine site function compiled over [variables…, quenched…]. */
export interface Affine { f0: number; f1: Float64Array; fq: Float64Array }

function affineParts(F: Compiled, V: number, Q: number): Affine {
  const z = new Float64Array(V + Q);
  const f0 = F(z);
  const f1 = new Float64Array(V), fq = new Float64Array(Q);
  for (let a = 0; a < V; a++) { z.fill(0); z[a] = 1; f1[a] = F(z) - f0; }
  for (let q = 0; q < Q; q++) { z.fill(0); z[V + q] = 1; fq[q] = F(z) - f0; }
  return { f0, f1, fq };
}

export interface OpV {
  name: string;
  kind: 'C' | 'M' | 'R';
  pop: number;
  f: Affine;
  g: Affine;
  /** R: index of the perturbed field in its population */
  slotField: number;
  /** f nonlinear (g = f) through one affine combination u = c·(x, q) of the site's variables and
   *  quenched inputs: f = φ(u), with φ and φ' as functions of u */
  nl?: Combination;
  /** nonlinear R: E f'(x_a(t_n)) per time */
  dmean?: Float64Array;
  /** C: full (N1)², v[n*N1+j] = ⟨f(t_n) g(t_j)⟩; R: packed lower triangle; M: per time */
  v: Float64Array;
}

/** A covariance ⟨η_f(t) η_g(s)⟩ of a population's fields as a function of order parameters and t, s. */
export interface CovV {
  f: number;
  g: number;
  F: Compiled;
  /** per op argument: the order parameter and which times (0 = t, 1 = s) it is taken at */
  args: { op: string; at: number[] }[];
  /** c0 + c1·C(t,s) of one correlation (the common case, without a call per entry) */
  lin?: { c0: number; c1: number };
}

/** x_a(0) = mean0 + ι·q + a draw of variance `var`; `law` names a non-normal draw (uniform), whose
 *  state is then exact in its first two moments only */
interface InitV { mean0: number; iota: Float64Array; var: number; law?: string }

/** ⟨body⟩ of an observable over the slots [x(t_n)…, x(t_j)…, q…] of a population; `split` caches the
 *  body split at its kinks in the one or two variables it reads */
interface AvgV {
  pop: number; F: Compiled; nSlots: number; active: number[]; deg: number;
  body: Expr; slots: string[]; params: Record<string, number>;
  split?: { one?: Piecewise; two?: ((x0: number, x1: number, y0: number, y1: number) => KinkLine[]) | null };
}

export interface PopV {
  r: PopReading;
  V: number; Fn: number; Q: number; Z: number;
  dyn: boolean[];
  qMean: Float64Array; qVar: Float64Array;
  init: InitV[];
  mem: { op: string; owner: number; g: Affine; slot: string }[];
  meanSlots: { slot: number; op: string }[];
  tSlot: number;
  covs: CovV[];
  noiseD: number[];
  ops: string[];
}

export interface Plan {
  rd: SystemReading;
  pops: PopV[];
  ops: Map<string, { name: string; kind: 'C' | 'M' | 'R'; pop: number; f: Affine; g: Affine; slotField: number; nl?: OpV['nl'] }>;
  observables: { name: string; twoTime: boolean; avgs: AvgV[]; outer: Compiled }[];
}

function evalConst(e: Expr, params: Record<string, number>, what: string): number {
  const v = constantValue(e, params);
  if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
  return v;
}

/** f(x, q) = φ(u) with u = c·(x, q): the combination c (over [variables…, quenched…]), φ split at its
 *  kinks, φ', and φ's Gaussian averages over u ~ N(m, v): E φ, E φ' (Stein: jumps count), its Hermite
 *  coefficients up to `order(sd)` (returning E φ²), E φ(u1) φ(u2) over a pair */
export interface Combination {
  c: Float64Array; pw: Piecewise; df: (u: number) => number;
  mean: (m: number, v: number) => number;
  dmean: (m: number, v: number) => number;
  herm: (m: number, sd: number, K: number, out: Float64Array, off: number) => number;
  order: (sd: number) => number;
  pair: (m1: number, m2: number, c11: number, c12: number, c22: number) => number;
}

/** Hermite order used at standard deviation σ for a smooth φ: the coefficients of functions
 *  analytic in a strip |Im x| < d decay like exp(−d√(2k)/σ), so k ∝ σ² keeps
 *  the tail (for d ≈ π/2, tanh-like) near 1e-13; beyond σ ≈ 1.3 pairs near
 *  the diagonal fall back to 2-D quadrature. A kinked φ's coefficients decay only
 *  algebraically: all HERM_KMAX are taken. */
const hermOrder = (sigma: number) => Math.min(HERM_KMAX, Math.max(48, 8 * Math.ceil((90 * sigma * sigma) / 8)));

/** E f(X1) f(X2) for a bivariate normal and a smooth f (robust rule outside, conditional rule inside). */
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

/** The averages of φ: split at its kinks (src/numeric/gauss.ts) when it has any, else the
 *  variance-scaled trapezoid rule and Mehler data of src/numeric/normal.ts, spectrally accurate for smooth φ. */
function averagesOf(phi: Expr, params: Record<string, number>): Omit<Combination, 'c'> {
  const dphi = compile(diff(phi, isVar('__u')), ['__u'], params);
  const ub = new Float64Array(1);
  const df = (u: number) => { ub[0] = u; return dphi(ub); };
  const pw = piecewiseOf(phi, '__u', params, ['__u']);
  if (isKinked(phi)) {
    return {
      pw, df,
      mean: (m, v) => expect(pw, m, v),
      dmean: (m, v) => expectDerivative(pw, df, m, v),
      herm: (m, sd, K, out, off) => hermiteCoefficients(pw, m, sd, K, out, off),
      order: () => HERM_KMAX,
      pair: (m1, m2, c11, c12, c22) => expect2(pw, pw, m1, m2, c11, c12, c22),
    };
  }
  const f = pw.f;
  return {
    pw, df,
    mean: (m, v) => expectNormal(f, m, v),
    dmean: (m, v) => expectNormal(df, m, v),
    herm: (m, sd, K, out, off) => hermiteInto(f, m, sd, K, out, off),
    order: hermOrder,
    pair: (m1, m2, c11, c12, c22) => pairProduct(f, m1, m2, c11, c12, c22),
  };
}

/**
 * Is the nonlinear site function f a function of one affine combination of
 * its slots, f = φ(c·z)? Then its Gaussian averages are those of one normal
 * variable u = c·z. The direction c is f's gradient (or, for a step, its
 * kink argument's) at probe points; the representation is verified at them.
 */
export function oneCombination(fn: SiteFunction, slots: string[], params: Record<string, number>): Combination | undefined {
  const S = slots.length;
  const grads = slots.map((v) => compile(diff(fn.f, isVar(v)), slots, params));
  let seed = 987654321;
  const probes = Array.from({ length: 8 }, () => Float64Array.from({ length: S }, () => { seed = (seed * 1103515245 + 12345) % 2147483648; return 3 * (seed / 2147483648) - 1.5; }));
  const gradAt = (G: Compiled[], z: Float64Array) => Float64Array.from(G, (g) => g(z));
  const norm = (g: Float64Array) => Math.max(...Array.from(g, Math.abs));
  let g0 = probes.map((z) => gradAt(grads, z)).reduce((a, b) => (norm(b) > norm(a) ? b : a));
  if (!(norm(g0) > 0)) {
    // a step function: its gradient vanishes almost everywhere; its jump lies along a kink argument
    const arg = kinkArgs(fn.f)[0];
    if (!arg) return undefined;
    g0 = gradAt(slots.map((v) => compile(diff(arg, isVar(v)), slots, params)), probes[0]);
  }
  if (!(norm(g0) > 0) || !g0.every(Number.isFinite)) return undefined;
  let imax = 0;
  g0.forEach((x, i) => { if (Math.abs(x) > Math.abs(g0[imax])) imax = i; });
  const c = Float64Array.from(g0, (x) => x / g0[imax]);
  const c2 = c.reduce((t, x) => t + x * x, 0);
  // f(z) = φ(c·z) with φ(u) = f(u c/|c|²): check it at the probes
  const zu = new Float64Array(S);
  for (const z of probes) {
    const u = z.reduce((t, x, i) => t + x * c[i], 0);
    for (let i = 0; i < S; i++) zu[i] = (u * c[i]) / c2;
    const a = fn.F(z), b = fn.F(zu);
    if (!(Math.abs(a - b) <= 1e-10 * (1 + Math.abs(a)))) return undefined;
  }
  const phi = mapPost(fn.f, (x) => {
    const i = x.k === 'sym' ? slots.indexOf(x.name) : -1;
    return i >= 0 ? (c[i] === 0 ? num(0) : c[i] / c2 === 1 ? sym('__u') : mul(num(c[i] / c2), sym('__u'))) : x;
  });
  return { c, ...averagesOf(phi, params) };
}

const MC = 'use --method mc (Monte Carlo), which does not need a Gaussian state';

function buildPlan(rd: SystemReading): Plan {
  const params = rd.params;
  const popIndex = new Map(rd.pops.map((p, i) => [p.name, i]));
  for (const p of rd.pops) {
    for (const v of p.variables) {
      if (v.affine) continue;
      const why = v.lower !== undefined || v.upper !== undefined ? `${v.name} is bounded` : `${v.kind === 'dynamic' ? 'd/dt ' : ''}${v.name} = ${print(v.rhs)} is not affine in the site's variables and Gaussian inputs`;
      throw new DmftError({ message: `the Gaussian closure needs every single-site process to be affine in its stochastic inputs; population ${p.name} is not: ${why}`, hint: MC });
    }
    for (const q of p.quenched) if (q.input.dist.kind !== 'normal') throw new DmftError({ message: `the Gaussian closure needs normal quenched inputs; ${q.name} ~ ${q.input.dist.kind}`, hint: MC });
    p.variables.forEach((v) => {
      if (v.kind === 'algebraic' && p.noises.some((n) => v.dF[n.name] && isNonZero(v.dF[n.name], p.slots.length))) {
        throw new DmftError({ message: `white noise in the algebraic variable ${v.name} (a 'let') has no finite covariance`, hint: 'put the noise into a dynamic equation' });
      }
    });
    // a let that names another let of the same site at the same time: order them; a cycle is refused
    const alg = p.variables.map((v, i) => (v.kind === 'algebraic' ? i : -1)).filter((i) => i >= 0);
    const dep = (a: number, b: number) => isNonZero(p.variables[a].dF[p.variables[b].name], p.slots.length, true);
    const state = new Map<number, number>();
    const visit = (a: number, path: number[]): void => {
      if (state.get(a) === 2) return;
      if (state.get(a) === 1) {
        const cyc = [...path.slice(path.indexOf(a)), a].map((i) => p.variables[i].name).join(' → ');
        throw new DmftError({ message: `the lets of population ${p.name} depend on each other at equal times (${cyc}): an equal-time cycle has no causal order`, hint: 'give one of them dynamics (a d/dt equation)' });
      }
      state.set(a, 1);
      for (const b of alg) if (b !== a && dep(a, b)) visit(b, [...path, a]);
      state.set(a, 2);
    };
    for (const a of alg) visit(a, []);
  }

  const ops: Plan['ops'] = new Map();
  for (const [name, o] of rd.orders) {
    const pi = popIndex.get(o.op.pop)!;
    const pr = rd.pops[pi];
    const V = pr.variables.length, Q = pr.quenched.length;
    let nl: OpV['nl'];
    for (const fn of [o, ...(o.g ? [o.g] : [])]) {
      if (fn.affine) continue;
      // a nonlinear f of one affine combination u of the site's variables and quenched inputs:
      // Gaussian averages over u's marginal (pair) law
      const comb = o.g ? undefined : oneCombination(fn, o.slots, params);
      if (comb) { nl = comb; continue; }
      const names = [...fn.vars.map((i) => pr.variables[i].name), ...(fn.usesInputs ? ['quenched inputs'] : [])].join(', ');
      const how = o.g ? 'is nonlinear in a cross-correlation' : `mixes ${names} nonlinearly, not through one affine combination`;
      throw new DmftError({ message: `order parameter ${name}: its function ${print(fn.f)} ${how}; the Gaussian closure of a vector single-site process handles affine functions and nonlinear functions of one affine combination of the site's variables (its Gaussian average over several variables per pair of times is not implemented)`, hint: MC });
    }
    let slotField = -1;
    if (o.op.kind === 'R') {
      slotField = pr.fields.indexOf(o.op.slot ?? '');
      if (slotField < 0) throw new DmftError({ message: `response ${name}: its perturbation slot '${o.op.slot}' is not a field of population ${pr.name}` });
    }
    const f = affineParts(o.F, V, Q);
    ops.set(name, { name, kind: o.op.kind, pop: pi, f, g: o.g ? affineParts(o.g.F, V, Q) : f, slotField, ...(nl ? { nl } : {}) });
  }

  const compileCov = (e: Expr, what: string): Pick<CovV, 'F' | 'args' | 'lin'> => {
    const args: CovV['args'] = [];
    const body = mapPost(e, (x) => {
      if (x.k !== 'op') return x;
      const o = ops.get(x.name);
      if (!o) throw new DmftError({ message: `the covariance ${what} uses an unknown order parameter ${x.name}` });
      if (o.kind === 'R') throw new DmftError({ message: `the covariance ${what} uses a response (${x.name}); the Gaussian closure supports C and M there` });
      const at = x.args.map((a) => (a.k === 'sym' && a.name === 't' ? 0 : a.k === 'sym' && a.name === 's' ? 1 : -1));
      if (at.some((i) => i < 0) || at.length !== (o.kind === 'C' ? 2 : 1)) throw new DmftError({ message: `the covariance ${what}: ${print(x)} must be taken at the times t, s` });
      args.push({ op: x.name, at });
      return sym(`__c${args.length - 1}`);
    });
    try {
      const F = compile(body, [...args.map((_, i) => `__c${i}`), 't', 's'], params);
      if (args.length === 1 && args[0].at.join() === '0,1' && ops.get(args[0].op)!.kind === 'C' && degree(body, (x) => x.k === 'sym' && (x.name === 't' || x.name === 's')) === 0) {
        const v = new Float64Array(3);
        const c0 = F(v); v[0] = 1; const c1 = F(v) - c0; v[0] = 2.5; const c2 = F(v);
        if (Math.abs(c2 - (c0 + 2.5 * c1)) <= 1e-12 * (Math.abs(c2) + 1)) return { F, args, lin: { c0, c1 } };
      }
      return { F, args };
    } catch (err) {
      throw new DmftError({ message: `the covariance ${what} (${print(e)}) cannot be evaluated: ${(err as Error).message}` });
    }
  };

  const pops = rd.pops.map((pr, pi): PopV => {
    const V = pr.variables.length, Q = pr.quenched.length, Fn = pr.fields.length;
    const slotIdx = new Map(pr.slots.map((s, i) => [s, i]));
    const quenched = pr.quenched.map((q) => {
      const d = q.input.dist as { kind: 'normal'; mean: Expr; var: Expr };
      return { mean: evalConst(d.mean, params, `the mean of ${q.name}`), var: evalConst(d.var, params, `the variance of ${q.name}`) };
    });
    const qs = pr.quenched.map((q) => q.name);
    const init = pr.variables.map((v): InitV => {
      const zero: InitV = { mean0: 0, iota: new Float64Array(Q), var: 0 };
      if (v.kind !== 'dynamic' || !v.init) return zero;
      // affine in the quenched inputs: value(q) = mean0 + ι·q
      const affineIn = (e: Expr, what: string): { c0: number; c: Float64Array } => {
        if (degree(e, (x) => (x.k === 'ref' || x.k === 'sym') && qs.includes(x.name)) > 1) throw new DmftError({ message: `${what} of ${v.name} (${print(e)}) is not affine in the site's quenched inputs, so the initial state is not Gaussian`, hint: MC });
        const F = compile(mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 ? sym(x.name) : x)), qs, params);
        const z = new Float64Array(Q);
        const c0 = F(z), c = new Float64Array(Q);
        for (let q = 0; q < Q; q++) { z.fill(0); z[q] = 1; c[q] = F(z) - c0; }
        if (!Number.isFinite(c0) || c.some((x) => !Number.isFinite(x))) throw new DmftError({ message: `${what} of ${v.name} (${print(e)}) is not a finite number at the given parameters` });
        return { c0, c };
      };
      if (v.init.kind === 'value') { const a = affineIn(v.init.value, 'the initial value'); return { mean0: a.c0, iota: a.c, var: 0 }; }
      if (v.init.dist.kind === 'normal') {
        const a = affineIn(v.init.dist.mean, 'the initial mean');
        if (v.initInputs.length && degree(v.init.dist.var, (x) => (x.k === 'ref' || x.k === 'sym') && qs.includes(x.name)) > 0) throw new DmftError({ message: `the initial variance of ${v.name} depends on the site's quenched inputs: the initial state is not Gaussian`, hint: MC });
        return { mean0: a.c0, iota: a.c, var: evalConst(v.init.dist.var, params, `the initial variance of ${v.name}`) };
      }
      if (v.init.dist.kind === 'uniform' && !v.initInputs.length) {
        // not Gaussian, but an affine site carries its first two moments exactly
        const lo = evalConst(v.init.dist.lo, params, 'the lower end of the initial range'), hi = evalConst(v.init.dist.hi, params, 'the upper end of the initial range');
        return { mean0: (lo + hi) / 2, iota: new Float64Array(Q), var: ((hi - lo) * (hi - lo)) / 12, law: `uniform(${lo}, ${hi})` };
      }
      throw new DmftError({ message: `initial condition of ${v.name}: a ${v.init.dist.kind} law is not supported by the Gaussian closure`, hint: MC });
    });
    const mem = pr.memory.map((m) => {
      if (!ops.has(m.R)) throw new DmftError({ message: `memory term of ${pr.variables[m.variable].name}: unknown kernel ${m.R}` });
      if (ops.get(m.R)!.kind !== 'R') throw new DmftError({ message: `memory term of ${pr.variables[m.variable].name}: its kernel ${m.R} is not a response` });
      return { op: m.R, owner: m.variable, g: affineParts(m.gF, V, Q), slot: m.slot };
    });
    const covs: CovV[] = pr.pop.fields.map((fd, f) => ({ f, g: f, ...compileCov(fd.cov, `of field ${fd.name}`) }));
    for (const c of pr.cross) covs.push({ f: c.a, g: c.b, ...compileCov(c.cov, `between fields ${pr.fields[c.a]} and ${pr.fields[c.b]}`) });
    return {
      r: pr, V, Fn, Q, Z: pr.noises.length,
      dyn: pr.variables.map((v) => v.kind === 'dynamic'),
      qMean: Float64Array.from(quenched.map((q) => q.mean)), qVar: Float64Array.from(quenched.map((q) => q.var)),
      init, mem,
      meanSlots: pr.means.map((m) => {
        if (!ops.has(m.M)) throw new DmftError({ message: `mean-field term of population ${pr.name}: unknown order parameter ${m.M}` });
        return { slot: slotIdx.get(m.slot)!, op: m.M };
      }),
      tSlot: slotIdx.get('t')!,
      covs, noiseD: pr.noises.map((n) => n.D),
      ops: [...ops.values()].filter((o) => o.pop === pi).map((o) => o.name),
    };
  });

  // a non-Gaussian initial law: only second moments are exact, so every order parameter must be affine
  for (const P of pops) {
    const law = P.init.find((i) => i.law);
    if (!law) continue;
    const bad = [...ops.values()].find((o) => o.nl);
    if (bad) throw new DmftError({ message: `the initial law of population ${P.r.name} is ${law.law}, so the state is not Gaussian, and ${bad.name} needs more than its first two moments`, hint: MC });
  }

  const observables = rd.observables.map((o) => ({
    name: o.def.name,
    twoTime: o.def.times.length === 2,
    outer: o.outer,
    avgs: o.averages.map((a) => {
      const pi = popIndex.get(a.pop)!;
      const isSlot = (x: Expr) => x.k === 'sym' && a.slots.includes(x.name);
      const active: number[] = [];
      a.slots.forEach((s, i) => { if (degree(a.body, (x) => x.k === 'sym' && x.name === s) > 0) active.push(i); });
      const deg = degree(a.body, isSlot);
      if (!(Number.isFinite(deg) && deg <= 8) && active.length > 3) throw new DmftError({ message: `observable ${o.def.name}: ⟨${print(a.body)}⟩ is not a polynomial and mixes more than three Gaussian variables`, hint: MC });
      const law = pops[pi].init.find((i) => i.law)?.law;
      if (law && deg > 2) throw new DmftError({ message: `observable ${o.def.name}: ⟨${print(a.body)}⟩ needs more than two moments, but the initial law of population ${pops[pi].r.name} (${law}) is not Gaussian`, hint: MC });
      return { pop: pi, F: a.F, nSlots: a.slots.length, active, deg, body: a.body, slots: a.slots, params };
    }),
  }));
  return { rd, pops, ops, observables };
}

/** Is a compiled coefficient nonzero somewhere (probed at zero and at random slot values)? */
function isNonZero(F: Compiled | undefined, nSlots: number, probe = false): boolean {
  if (!F) return false;
  const v = new Float64Array(nSlots);
  if (F(v) !== 0) return true;
  if (!probe) return false;
  let seed = 12345;
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < nSlots; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; v[i] = seed / 2147483648 - 0.5; }
    if (F(v) !== 0) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Observables: ⟨body⟩ over the joint Gaussian (x(t_n), x(t_j), q).


/**
 * ⟨body⟩ for the jointly Gaussian (x(t_n), x(t_j), q) of a population on a level, with its
 * quadrature error: zero for polynomial bodies (exact Gauss–Hermite), else the change from the
 * default rule to one twice as fine (the finer value is returned). Bodies of one or two variables
 * are split at their kinks; a kink along a curve in both falls back to the robust rule.
 */
function average(lv: LevelData, a: AvgV, n: number, j: number): Quad {
  const p = (lv.vector as PopRunV[])[a.pop];
  const { V, Q } = p.P;
  const N1 = lv.N + 1;
  // slot s: [0, V) x_a(t_n); [V, 2V) x_a(t_j); [2V, 2V+Q) q
  const time = (s: number) => (s < V ? n : j);
  const mean = (s: number) => (s < 2 * V ? p.m[s % V][time(s)] : p.P.qMean[s - 2 * V]);
  const cov = (s: number, u: number): number => {
    if (s >= 2 * V && u >= 2 * V) return s === u ? p.P.qVar[s - 2 * V] : 0;
    if (s >= 2 * V) return cov(u, s);
    if (u >= 2 * V) return p.X[(s % V) * Q + (u - 2 * V)][time(s)];
    return p.K[(s % V) * V + (u % V)][time(s) * N1 + time(u)];
  };
  const act = a.active, d = act.length;
  const v = new Float64Array(a.nSlots);
  if (d === 0) return { v: a.F(v), e: 0 };
  const mu = act.map(mean);
  const C = act.map((s) => act.map((u) => cov(s, u)));
  const polynomial = Number.isFinite(a.deg) && a.deg <= 8;
  if (!polynomial && d <= 2) {
    const twice = (f: () => number): Quad => { const c = f(), fine = atResolution(2, f); return { v: fine, e: Math.abs(fine - c) }; };
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
  const L = choleskySemidefinite(C);
  const tensor = (nn: number): number => expectTensorHermite(mu, L, nn, (x) => { for (let r = 0; r < d; r++) v[act[r]] = x[r]; return a.F(v); });
  // polynomial bodies: exact Gauss–Hermite; others (three or more variables): the change to a finer rule is the error
  if (polynomial) return { v: tensor(Math.max(2, Math.ceil((a.deg + 1) / 2))), e: 0 };
  // (with a tail check: where the mass lies beyond the Gauss–Hermite nodes both orders would miss it alike)
  const smooth = (nn: number): number => expectTensorSmooth(mu, L, nn, (x) => { for (let r = 0; r < d; r++) v[act[r]] = x[r]; return a.F(v); });
  const c = smooth(24), fine = smooth(40);
  return { v: fine, e: Math.abs(fine - c) + 1e-13 * Math.abs(fine) };
}

/** The closure engine for vector single-site processes (refuses with the reason what it cannot do). */
export function vectorEngine(rd: SystemReading): ClosureEngine {
  const plan = buildPlan(rd);
  return {
    observables: plan.observables.map((o) => ({ name: o.name, twoTime: o.twoTime })),
    run: (h, N, lo) => runLevelVector(plan, h, N, lo),
    observe: (lv, oi, n, j) => {
      const o = plan.observables[oi];
      return outerWithError(o.outer, o.avgs.map((a) => average(lv, a, n, j)));
    },
  };
}
