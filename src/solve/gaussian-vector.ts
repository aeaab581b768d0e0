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
// ascending columns: a `Level` holds one grid, one method per step, and
// `runLevelVector` runs its rows), exactly in one pass for linear sites,
// repeated to a fixed point where mean fields or nonlinear order parameters
// enter. The outer Richardson extrapolation over h and the error bars are
// gaussian.ts's.
import { DmftError } from '../errors.ts';
import { choleskySemidefinite, inverse, luSolveInPlace } from '../numeric/linalg.ts';
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

/** Does this reading need the vector closure (several variables, correlated fields, cross-correlations, init on quenched inputs)? */
export function isVectorReading(rd: SystemReading): boolean {
  return rd.pops.some((p) => p.variables.length > 1 || p.cross.length > 0 || p.variables.some((v) => v.initInputs.length > 0))
    || [...rd.orders.values()].some((o) => o.g !== undefined);
}

const tri = (n: number) => (n * (n + 1)) / 2;

/** f0 + f1·x + fq·q of an affine site function compiled over [variables…, quenched…]. */
interface Affine { f0: number; f1: Float64Array; fq: Float64Array }

function affineParts(F: Compiled, V: number, Q: number): Affine {
  const z = new Float64Array(V + Q);
  const f0 = F(z);
  const f1 = new Float64Array(V), fq = new Float64Array(Q);
  for (let a = 0; a < V; a++) { z.fill(0); z[a] = 1; f1[a] = F(z) - f0; }
  for (let q = 0; q < Q; q++) { z.fill(0); z[V + q] = 1; fq[q] = F(z) - f0; }
  return { f0, f1, fq };
}

interface OpV {
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
interface CovV {
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

interface PopV {
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

interface Plan {
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

/** Largest Hermite order for the Mehler series of nonlinear C_f. */
const HERM_KMAX = 160;
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

/** Mehler series: truncated where its tail bound is below this (relative to E f²) */
const MEHLER_TOL = 1e-11;

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

/** Invert a small dense V×V matrix (Gauss–Jordan, partial pivoting); undefined when singular. */

// ---------------------------------------------------------------------------
// One discretization level.

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

interface PopRunV {
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
  dq: Float64Array;
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
      const { V, Fn, Q } = p.P, VV = V * V;
      return {
        cmat: new Float64Array(VV), W: new Float64Array(V), H1: new Float64Array(V), E: new Float64Array(V),
        Mat: new Float64Array(VV), B: new Float64Array(VV), Ak: new Float64Array(VV),
        w: new Float64Array(Math.max(1, p.P.mem.length) * V),
        acc: arrs(VV, N1), rowK: arrs(VV, N1), ypart: new Float64Array(V * Fn), Sn: new Float64Array(VV), kbase: new Float64Array(VV), knn: new Float64Array(VV),
        dq: new Float64Array(V * Q),
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
