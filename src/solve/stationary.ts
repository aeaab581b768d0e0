// Stationary-state solver: the time-translation-invariant state (t → ∞) of a
// DMFT system whose single-site processes have time-independent coefficients.
// Driven only by the structure that `readSystem` extracts — nothing here knows
// any particular model.
//
// Two regimes (see docs/conventions.md, "Numerical facts that decide accuracy"):
//
//  1. Linear (every single-site equation affine in its state, fields, noises,
//     memory integrals and quenched inputs; every order-parameter function
//     affine), sites of any number of variables, a scalar site the case of
//     one: the frequency domain, ./stationary-vector.ts (matrix responses,
//     spectra, C(τ), the static ω = 0 part).
//
//  2. Gaussian state with a nonlinear closure and no memory (SCS type): one
//     dynamic population ẋ = a x + Σ b_e η_e + Σ c_n ξ_n + h(M), a < 0. With
//     x = μ + y, Δ(τ) = ⟨y(t) y(t+τ)⟩ obeys (a² − ∂τ²) Δ = Ψ(Δ; Δ0, μ),
//     Ψ = Σ_k W_k E[f_k(x₁) f_k(x₂)] over a bivariate normal (2-D Gauss–Hermite,
//     Chebyshev-interpolated in Δ), Δ'(0⁺) = −Σc²D/2, Δ(∞) = q (the static
//     part, a saddle of the particle motion). Δ0 by shooting + bisection on the
//     separatrix (RK4); μ self-consistently from the mean-field slots. No
//     separatrix (e.g. below the transition): the static fixed-point state,
//     whose fluctuation and mean-mode gains must be < 1 (at 1 within the
//     quadrature's accuracy: marginal; a jump of φ where x has density: ∞).
//     Kinked functions (relu, abs, sign, comparisons): every average is split
//     at the kinks and Ψ is interpolated in θ = arccos(Δ/Δ0) (docs/solve.md).
//     This regime reads one scalar population; a nonlinear vector site, or
//     several populations, go to ./stationary-nonlinear.ts (the iterated
//     frequency domain on a periodic lag grid), which refuses with the reason
//     what it does not cover.
//
// Observables of both regimes are Gaussian averages over the site's law
// (./site-average.ts). Anything else returns { unsupported: reason } so a
// dispatcher can try another method.
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import { lawMean } from '../model/distributions.ts';
import { bisect as bisectBracket, brent, sameSignAsLow } from '../numeric/roots.ts';
import { isKinked, jumpAcross, kinkPoints } from '../numeric/kinks.ts';
import { expectPanels, gaussLegendre, normalTrapezoid, type Rule, type SplitResolution, splitNormalRule } from '../numeric/rules.ts';
import { scalarReading, VectorSiteError, type ObservableReading, type OrderReading, type ScalarReading, type SystemReading as VectorReading } from './read.ts';
type SystemReading = ScalarReading;
import type { Branch, SolveOptions } from './types.ts';
import { table } from '../table.ts';
import { solveStationaryVector, tauGrid } from './stationary-vector.ts';
import { StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from './stationary-result.ts';
import { siteAverage } from './site-average.ts';
import { solveStationaryNonlinear, whyNotNonlinear } from './stationary-nonlinear.ts';

export { StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from './stationary-result.ts';

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(6)));
const fmtParams = (p: Record<string, number>): string => Object.entries(p).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ');

// ===========================================================================
// entry point

export function solveStationary(vreading: VectorReading, opts: SolveOptions): StationaryOutcome {
  // linear sites, of one variable or several: the frequency domain (stationary-vector.ts)
  if (vreading.linear) return solveStationaryVector(vreading, opts);
  let reading: SystemReading;
  try {
    reading = scalarReading(vreading, 'the stationary solver');
  } catch (e) {
    // a nonlinear vector site: the iterated frequency domain (stationary-nonlinear.ts), or why not
    if (e instanceof VectorSiteError) return solveStationaryNonlinear(vreading, opts);
    throw e;
  }
  const pre = preflight(reading);
  // outside the shooting's regime (several populations): the iterated frequency domain when it applies
  if (typeof pre === 'string') return whyNotNonlinear(vreading) === undefined ? solveStationaryNonlinear(vreading, opts) : { unsupported: pre };
  return solveGaussianNonlinear(reading, pre, { tau: tauGrid(opts) });
}

// ===========================================================================
// structure common to both regimes

interface FieldCov {
  /** the covariance as Σ w·C_k(t,s) + c0 */
  terms: { C: string; w: number }[];
  c0: number;
}

interface Pre {
  fields: FieldCov[][]; // per population, per field
}

const hasSym = (e: Expr, name: string) => some(e, (x) => x.k === 'sym' && x.name === name);

function preflight(rd: SystemReading): Pre | string {
  for (const p of rd.pops) {
    const gs = [p.pop.variable, ...p.quenched.map((q) => q.name)];
    for (const m of p.memory) {
      const o = rd.orders.get(m.R);
      if (degree(m.g, (x) => x.k === 'sym' && gs.includes(x.name)) > 1 || (o && !o.affine)) {
        return `population ${p.pop.name}: memory (reaction) term ∫${m.R}(t,s)·${print(m.g)} ds with a nonlinear function: the stationary response is not closed in a Gaussian state (use the Monte Carlo solver)`;
      }
    }
    if (p.lower !== undefined || p.upper !== undefined) return `population ${p.pop.name}: the state '${p.pop.variable}' is bounded; the stationary solver handles unbounded Gaussian states only`;
    if (!p.affine) return `population ${p.pop.name}: the single-site equation of '${p.pop.variable}' is not affine in its state and inputs (${print(p.rhs)}), so its state is not Gaussian`;
    for (const q of p.quenched) if (q.input.dist.kind !== 'normal') return `population ${p.pop.name}: the quenched input '${q.name}' is not normal (${q.input.dist.kind})`;
    if (hasSym(p.rhs, 't')) return `population ${p.pop.name}: the equation of '${p.pop.variable}' depends explicitly on time, so no time-translation-invariant state`;
    if (p.pop.kind === 'algebraic' && p.noises.length) return `population ${p.pop.name}: white noise enters the algebraic '${p.pop.variable}' directly (infinite variance)`;
  }
  if (!rd.gaussianState) return 'the single-site state is not Gaussian';
  const fields: FieldCov[][] = [];
  for (const p of rd.pops) {
    const list: FieldCov[] = [];
    for (const f of p.pop.fields) {
      const c = parseCov(f.cov, rd);
      if (typeof c === 'string') return `population ${p.pop.name}, field ${f.name}: ${c}`;
      list.push(c);
    }
    fields.push(list);
    const couplings = p.pop.fields.map((f) => f.coupling);
    if (new Set(couplings).size !== couplings.length) return `population ${p.pop.name}: two fields come from the same coupling (cross-covariance not represented)`;
  }
  if (!rd.linear) {
    const hasMem = rd.pops.some((p) => p.memory.length > 0);
    if (hasMem) return 'memory (reaction) terms with a nonlinear order-parameter function: the stationary response is not closed (use the Monte Carlo solver)';
    if (rd.pops.length !== 1) return `nonlinear Gaussian closure with ${rd.pops.length} populations: the shooting method handles a single population`;
    const p = rd.pops[0];
    if (p.pop.kind !== 'dynamic') return 'nonlinear Gaussian closure of an algebraic population';
    if (p.quenched.length) return `population ${p.pop.name}: quenched inputs with a nonlinear closure (${p.quenched.map((q) => q.name).join(', ')}) are not handled by the shooting method`;
    for (const o of rd.orders.values()) if (o.usesInputs) return `order parameter ${o.op.name} depends on quenched inputs`;
  }
  return { fields };
}

/** Parse a field covariance as an affine combination of C order parameters at (t, s). */
function parseCov(cov: Expr, rd: SystemReading): FieldCov | string {
  const names: string[] = [];
  let bad: string | undefined;
  const e = mapPost(cov, (x) => {
    if (x.k !== 'op') return x;
    const o = rd.orders.get(x.name);
    if (!o || o.op.kind !== 'C' || x.args.length !== 2) {
      bad ??= `covariance term ${print(x)} is not a correlation C(t,s) of an order parameter`;
      return x;
    }
    let i = names.indexOf(x.name);
    if (i < 0) { names.push(x.name); i = names.length - 1; }
    return sym(`__cov${i}`);
  });
  if (bad) return bad;
  if (hasSym(e, 't') || hasSym(e, 's')) return `the covariance ${print(cov)} depends explicitly on time`;
  const slots = names.map((_, i) => `__cov${i}`);
  if (degree(e, (x) => x.k === 'sym' && slots.includes(x.name)) > 1) return `the covariance ${print(cov)} is not linear in the correlations`;
  let F: Compiled;
  try { F = compile(e, slots, rd.params); } catch (err) { return `cannot evaluate the covariance ${print(cov)}: ${(err as Error).message}`; }
  const z = new Float64Array(slots.length);
  const c0 = F(z);
  const terms = names.map((C, i) => { const u = new Float64Array(slots.length); u[i] = 1; return { C, w: F(u) - c0 }; });
  return { terms, c0 };
}

/** Parameters as named in errors. */
function paramList(rd: SystemReading): Record<string, number> {
  const out: Record<string, number> = table();
  for (const k of Object.keys(rd.sys.params)) out[k] = rd.params[k] ?? rd.sys.params[k];
  return out;
}

interface TauGrid { tau: number[] }

// ===========================================================================
// single-site Gaussian laws → observables

/**
 * A population's stationary single-site law: given its quenched inputs q
 * (independent normals), x(t) = mean0 + Σ alpha_j q_j + (static Gaussian of
 * variance vs) + (stationary fluctuation of covariance Cfl(τ), Cfl(0) = C0).
 */
interface PopLaw {
  mean0: number;
  alpha: number[];
  q: { mean: number; var: number }[];
  vs: number;
  C0: number;
  /** fluctuating covariance on the τ grid (Cfl[0] ≈ C0) */
  Ctau?: Float64Array;
}

/** Observables under the population laws (site-average.ts); `errors`: the averages' quadrature errors through each observable. */
function evalObservables(rd: SystemReading, laws: Map<string, PopLaw>, grid: TauGrid, withTau: boolean): { limit: Record<string, number>; errors: Record<string, number>; tau: Record<string, { tau: number[]; values: number[] }> } {
  const limit: Record<string, number> = table(), errors: Record<string, number> = table();
  const tau: Record<string, { tau: number[]; values: number[] }> = table();
  // one variable per site: slots [x(t), x(t + τ), q…]; vt = Cov(x(t), x(t + τ)) (undefined: one-time)
  const average = (av: ObservableReading['averages'][number], law: PopLaw, vt: number | undefined) => {
    const nq = law.q.length;
    const mean = [law.mean0, law.mean0, ...law.q.map((q) => q.mean)];
    const cov = Array.from({ length: 2 + nq }, () => new Array<number>(2 + nq).fill(0));
    let vx = Math.max(0, law.vs + law.C0), cx = vt ?? vx;
    law.q.forEach((q, j) => {
      mean[0] += law.alpha[j] * q.mean; mean[1] += law.alpha[j] * q.mean;
      const a2 = law.alpha[j] ** 2 * q.var;
      vx += a2; cx += a2;
      cov[2 + j][2 + j] = q.var;
      cov[0][2 + j] = cov[2 + j][0] = cov[1][2 + j] = cov[2 + j][1] = law.alpha[j] * q.var;
    });
    cov[0][0] = cov[1][1] = vx; cov[0][1] = cov[1][0] = cx;
    const active = av.slots.flatMap((s, i) => ((vt !== undefined || i !== 1) && some(av.body, (y) => y.k === 'sym' && y.name === s) ? [i] : []));
    return siteAverage(av, active, active.map((i) => mean[i]), active.map((i) => active.map((k) => cov[i][k])), 2, rd.params);
  };
  for (const ob of rd.observables) {
    const twoTime = ob.def.times.length > 1;
    if (!twoTime) {
      const r = ob.averages.map((av) => average(av, laws.get(av.pop)!, undefined));
      const vals = Float64Array.from(r, (x) => x.value);
      limit[ob.def.name] = ob.outer(vals);
      let e = 0;
      r.forEach((x, i) => { if (x.error > 0) { const w = vals.slice(); w[i] += x.error; e += Math.abs(ob.outer(w) - limit[ob.def.name]); } });
      errors[ob.def.name] = e;
    } else if (withTau) {
      const values = grid.tau.map((_, k) => ob.outer(Float64Array.from(ob.averages, (av) => {
        const law = laws.get(av.pop)!;
        return average(av, law, law.vs + (law.Ctau ? law.Ctau[k] : 0)).value;
      })));
      tau[ob.def.name] = { tau: grid.tau.slice(), values };
    }
  }
  return { limit, errors, tau };
}

// ===========================================================================
// 2. Gaussian state, nonlinear closure, no memory: shooting on Δ(τ)

/**
 * The Gaussian trapezoid rule with step ≈ h on [−L, L] (numeric/rules.ts):
 * for integrands analytic in a strip of half-width d it converges like
 * exp(−2πd/h) — far better than Gauss–Hermite when f has singularities near
 * the real axis (tanh at large variance: GH with 96 nodes is only good to 1e-5).
 */
const normalTrap = (h: number, L = 9): Rule => normalTrapezoid(Math.round(L / h), L);

function expectRule(f: (x: number) => number, mean: number, variance: number, r: Rule): number {
  if (!(variance > 0)) return f(mean);
  const s = Math.sqrt(variance);
  let acc = 0;
  for (let i = 0; i < r.x.length; i++) acc += r.w[i] * f(mean + s * r.x[i]);
  return acc;
}

interface NLModel {
  a: number;
  /** Σ_n c_n² D_n */
  Dn: number;
  /** Ψ = c0 + Σ_k W_k C_{f_k} */
  c0: number;
  Cs: { F: Compiled; dfdx: Compiled; W: number; name: string; kinks: number[]; jumps: boolean }[];
  /** h(M): the constant part of the equation, given the mean-field slot values */
  h: (Mv: number[]) => number;
  Ms: { F: Compiled; name: string; kinks: number[] }[];
  mu0: number;
  /** some C or M function has kinks or jumps: quadratures split there, Ψ interpolated in θ = arccos(Δ/Δ0) */
  kinked: boolean;
}

/** `rule` (smooth functions) or `split` panels (kinked ones); Chebyshev degree of Ψ */
interface Res { rule: Rule; nc: number; split: SplitResolution }

/**
 * Chebyshev interpolant of Ψ: in Δ on [−Δ0, Δ0] for smooth functions; for
 * kinked ones in θ = arccos(Δ/Δ0) on [0, π/2] (Δ ∈ [0, Δ0], all that the
 * separatrix between Δ0 and q ≥ 0 visits), where the (1 − ρ)^(n+½) edge terms
 * at ρ = Δ/Δ0 → 1 (arcsin for a jump) are analytic in θ. (Near ρ = −1 a kink
 * off the mean gives e^(−c/(1+ρ)) terms, which no polynomial follows well.)
 */
interface Psi {
  D0: number; c: Float64Array; theta?: boolean;
  /** Ψ(0) = c0 + Σ W (E f)², computed directly (the interpolant is only good to ~1e-11 for kinked functions) */
  at0?: number;
}

/** Chebyshev coefficients of the interpolant through values at the nodes cos(π(j + ½)/n), j = 0…n−1. */
function chebCoefficients(vals: Float64Array): Float64Array {
  const nc = vals.length;
  const c = new Float64Array(nc);
  for (let k = 0; k < nc; k++) {
    let s = 0;
    for (let j = 0; j < nc; j++) s += vals[j] * Math.cos(Math.PI * k * (j + 0.5) / nc);
    c[k] = (2 / nc) * s * (k === 0 ? 0.5 : 1);
  }
  return c;
}

function psiEval(P: Psi, d: number): number {
  const x = P.theta ? (4 / Math.PI) * Math.acos(Math.max(-1, Math.min(1, d / P.D0))) - 1 : d / P.D0;
  const c = P.c;
  let b1 = 0, b2 = 0;
  const x2 = 2 * x;
  for (let k = c.length - 1; k >= 1; k--) { const t = x2 * b1 - b2 + c[k]; b2 = b1; b1 = t; }
  return x * b1 - b2 + c[0];
}

/**
 * Ψ(Δ) = c0 + Σ_k W_k E[f_k(μ + y₁) f_k(μ + y₂)], (y₁, y₂) centred normal with
 * variances Δ0 and covariance Δ, in the form ∫Dz [∫Dx f(μ + √(Δ0−|Δ|) x ± √|Δ| z)]
 * [∫Dx f(μ + √(Δ0−|Δ|) x + √|Δ| z)], at Chebyshev nodes (±Δ share the inner integrals).
 */
function buildPsi(m: NLModel, D0: number, mu: number, res: Res): Psi {
  if (m.kinked) return buildPsiKinked(m, D0, mu, res);
  const { rule, nc } = res;
  const n = rule.x.length;
  const vals = new Float64Array(nc);
  const inner = new Float64Array(n);
  const v = new Float64Array(1);
  for (let j = 0; j < nc / 2; j++) {
    const d = D0 * Math.cos(Math.PI * (j + 0.5) / nc); // > 0; node nc−1−j is −d
    const s1 = Math.sqrt(Math.max(0, D0 - d)), s2 = Math.sqrt(d);
    let pos = m.c0, neg = m.c0;
    for (const C of m.Cs) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const base = mu + s2 * rule.x[i];
        for (let l = 0; l < n; l++) { v[0] = base + s1 * rule.x[l]; s += rule.w[l] * C.F(v); }
        inner[i] = s;
      }
      let ap = 0, an = 0;
      for (let i = 0; i < n; i++) { ap += rule.w[i] * inner[i] * inner[i]; an += rule.w[i] * inner[i] * inner[n - 1 - i]; }
      pos += C.W * ap; neg += C.W * an;
    }
    vals[j] = pos; vals[nc - 1 - j] = neg;
  }
  const c = chebCoefficients(vals);
  return { D0, c };
}

/** E f(c + s·X), X ~ N(0,1), by Gauss–Legendre panels split where c + s·x crosses a kink of f. */
function splitExpect(F: Compiled, v: Float64Array, c: number, s: number, kinks: number[], res: SplitResolution): number {
  if (!(s > 0)) { v[0] = c; return F(v); }
  return expectPanels((z) => { v[0] = c + s * z; return F(v); }, kinks.map((k) => (k - c) / s), res);
}

/**
 * Ψ for kinked functions: nodes in θ = arccos(Δ/Δ0); the inner average split
 * at the kinks, the outer one split where μ + √|Δ| z crosses a kink, with
 * panels graded down to the width √(Δ0 − |Δ|)/√|Δ| of the smoothed step there.
 */
function buildPsiKinked(m: NLModel, D0: number, mu: number, res: Res): Psi {
  const { nc, split } = res;
  const vals = new Float64Array(nc);
  const v = new Float64Array(1);
  for (let j = 0; j < nc; j++) {
    // node t_j ∈ (−1, 1) ↦ θ = (t + 1)π/4 ∈ (0, π/2) ↦ Δ = Δ0 cos θ ∈ (0, Δ0)
    const th = ((Math.cos(Math.PI * (j + 0.5) / nc) + 1) * Math.PI) / 4;
    const d = D0 * Math.cos(th);
    const s1 = Math.sqrt(Math.max(0, D0 - d)), s2 = Math.sqrt(d);
    let pos = m.c0;
    for (const C of m.Cs) {
      const breaks = C.kinks.map((k) => (k - mu) / s2);
      const outer = splitNormalRule(breaks, split, Math.max(1e-7, 0.25 * (s1 / s2)));
      let ap = 0;
      for (let i = 0; i < outer.x.length; i++) { const g = splitExpect(C.F, v, mu + s2 * outer.x[i], s1, C.kinks, split); ap += outer.w[i] * g * g; }
      pos += C.W * ap;
    }
    vals[j] = pos;
  }
  const c = chebCoefficients(vals);
  let at0 = m.c0;
  for (const C of m.Cs) { const e = splitExpect(C.F, v, mu, Math.sqrt(D0), C.kinks, split); at0 += C.W * e * e; }
  return { D0, c, theta: true, at0 };
}

/** E f(μ + √var z) for an order-parameter function: split at its kinks, or the smooth rule. */
function expectOp(F: Compiled, kinks: number[], mean: number, variance: number, res: Res, sq = false): number {
  const v = new Float64Array(1);
  const G: Compiled = sq ? (u) => { const y = F(u); return y * y; } : F;
  if (kinks.length) return splitExpect(G, v, mean, Math.sqrt(Math.max(0, variance)), kinks, res.split);
  return expectRule((x) => { v[0] = x; return G(v); }, mean, variance, res.rule);
}

/** The mean μ = −h(M)/a with M = E f(μ + √Δ0 z): damped relaxation from `start` (follows the stable branch), Newton polish. */
function solveMu(m: NLModel, D0: number, start: number, res: Res): number {
  if (m.Ms.length === 0) return -m.h([]) / m.a;
  const Mv = (mu: number) => m.Ms.map((M) => expectOp(M.F, M.kinks, mu, D0, res));
  const phi = (mu: number) => -m.h(Mv(mu)) / m.a;
  let mu = start;
  for (let it = 0; it < 5000; it++) {
    const step = phi(mu) - mu;
    mu += 0.5 * step;
    if (Math.abs(step) <= 1e-12 * (1 + Math.abs(mu))) break;
  }
  for (let it = 0; it < 20; it++) {
    const r = mu - phi(mu);
    const hh = 1e-6 * (1 + Math.abs(mu));
    const dr = 1 - (phi(mu + hh) - phi(mu - hh)) / (2 * hh);
    if (!(Math.abs(dr) > 1e-12)) break;
    const st = r / dr;
    mu -= st;
    if (Math.abs(st) <= 1e-15 * (1 + Math.abs(mu))) break;
  }
  return mu;
}

/**
 * q = Δ(∞): the largest root of G(q) = Ψ(q)/a² − q in [0, Δ0) that is a saddle
 * of the particle motion (G' < 0); the smallest root when there is none.
 */
function solveQ(P: Psi, a2: number): { q: number; lambda2: number } {
  const D0 = P.D0;
  const G = (q: number) => psiEval(P, q) / a2 - q;
  const dG = (q: number) => {
    const h = 1e-6 * D0, hi = Math.min(D0, q + h), lo = Math.max(-D0, q - h);
    return (G(hi) - G(lo)) / (hi - lo);
  };
  const roots: number[] = [];
  const scale = Math.abs(psiEval(P, D0)) / a2 + D0;
  const zeroRoot = P.at0 !== undefined ? Math.abs(P.at0 / a2) <= 1e-14 * scale : Math.abs(G(0)) <= 1e-11 * scale;
  if (zeroRoot) roots.push(0);
  const n = 400;
  let x0 = 0, g0 = G(0);
  for (let i = 1; i <= n; i++) {
    const x1 = (D0 * i) / n, g1 = G(x1);
    if (g0 !== 0 && g0 * g1 < 0) {
      const [lo, hi] = bisectBracket(sameSignAsLow(G, g0), x0, x1, (a, b) => !(b - a > 1e-16 * D0), 200);
      const r = (lo + hi) / 2;
      if (r < D0 * (1 - 1e-9) && !(zeroRoot && r < 1e-6 * D0)) roots.push(r);
    }
    x0 = x1; g0 = g1;
  }
  let q: number | undefined;
  for (const r of roots) if (dG(r) < 0 && (q === undefined || r > q)) q = r;
  if (q === undefined) q = roots.length ? Math.min(...roots) : 0;
  return { q, lambda2: -a2 * dG(q) };
}

type Outcome = 'over' | 'under' | 'undecided';

interface Trial { D0: number; mu: number; psi: Psi; q: number; lambda2: number }

function trial(m: NLModel, D0: number, muStart: number, res: Res): Trial {
  const mu = solveMu(m, D0, muStart, res);
  const psi = buildPsi(m, D0, mu, res);
  const { q, lambda2 } = solveQ(psi, m.a * m.a);
  return { D0, mu, psi, q, lambda2 };
}

/**
 * Energy of the particle above the saddle q: ε = ½Δ'(0)² + ∫_q^{Δ0} (Ψ(Δ) − a²Δ) dΔ
 * (Δ'' = −V'(Δ) with V' = Ψ − a²Δ, integrated numerically from the interpolant —
 * no closed-form potential). ε = 0 on the separatrix, > 0 overshoot, < 0 turn-back.
 */
function energy(m: NLModel, t: Trial): number {
  const gl = gaussLegendre(64);
  const a2 = m.a * m.a;
  if (t.psi.theta) {
    // Δ = Δ0 cos θ: the integrand is smooth in θ even where Ψ has a (1 − ρ)^½ edge
    const th = Math.acos(Math.max(-1, Math.min(1, t.q / t.D0))), h = th / 2;
    let s = 0;
    for (let i = 0; i < gl.x.length; i++) {
      const u = h * (gl.x[i] + 1), d = t.D0 * Math.cos(u);
      s += gl.w[i] * (psiEval(t.psi, d) - a2 * d) * t.D0 * Math.sin(u);
    }
    return 0.5 * (m.Dn / 2) ** 2 + h * s;
  }
  const lo = t.q, hi = t.D0, half = (hi - lo) / 2, mid = (hi + lo) / 2;
  let s = 0;
  for (let i = 0; i < gl.x.length; i++) { const d = mid + half * gl.x[i]; s += gl.w[i] * (psiEval(t.psi, d) - a2 * d); }
  return 0.5 * (m.Dn / 2) ** 2 + half * s;
}

/** Integrate Δ'' = a²Δ − Ψ(Δ) from (Δ0, −Dn/2) with RK4 step h until the outcome is decided. */
function shoot(m: NLModel, t: Trial, h: number, tMax: number, sample?: { every: number; out: number[] }): Outcome {
  const a2 = m.a * m.a;
  const acc = (d: number) => a2 * d - psiEval(t.psi, Math.max(-t.D0, Math.min(t.D0, d)));
  let d = t.D0, v = -m.Dn / 2;
  const steps = Math.ceil(tMax / h);
  if (sample) sample.out.push(d);
  const rk4 = (hh: number) => {
    const k1d = v, k1v = acc(d);
    const k2d = v + 0.5 * hh * k1v, k2v = acc(d + 0.5 * hh * k1d);
    const k3d = v + 0.5 * hh * k2v, k3v = acc(d + 0.5 * hh * k2d);
    const k4d = v + hh * k3v, k4v = acc(d + hh * k3d);
    d += (hh / 6) * (k1d + 2 * k2d + 2 * k3d + k4d);
    v += (hh / 6) * (k1v + 2 * k2v + 2 * k3v + k4v);
  };
  for (let s = 1; s <= steps; s++) {
    // kinked functions: Ψ has a square-root edge at Δ0, where the right-hand side is not
    // Lipschitz; resolve the first steps finely (RK4 keeps its order away from the edge)
    if (t.psi.theta && s <= 16) for (let k = 0; k < 256; k++) rk4(h / 256);
    else rk4(h);
    if (sample && s % sample.every === 0) sample.out.push(d);
    if (!Number.isFinite(d) || !Number.isFinite(v)) return 'undecided';
    if (d < t.q) return 'over';
    if (v > 0) return 'under';
  }
  return 'undecided';
}

/** Bisection on the shooting outcome (fallback when the energy has no sign change). */
function bisect(m: NLModel, lo: Trial, olo: Outcome, hi: Trial, h: number, res: Res): { lo: Trial; hi: Trial; shots: number } {
  let shots = 0;
  for (let it = 0; it < 80; it++) {
    if (hi.D0 - lo.D0 <= 2e-15 * hi.D0) break;
    const mid = trial(m, (lo.D0 + hi.D0) / 2, m.mu0, res);
    const o = shoot(m, mid, h, 4000);
    shots++;
    if (o === 'undecided') { lo = mid; hi = mid; break; }
    if (o === olo) lo = mid; else hi = mid;
  }
  return { lo, hi, shots };
}

/**
 * The nonlinear stationary state reached from the declared initial mean, and —
 * when a mean field feeds back and that state is unstable in the mean mode
 * (gain J0⟨f′⟩-type ≥ 1, e.g. symmetric chaos from a mean-zero initial
 * condition) — the states reached from flipped and scaled seeds of the mean,
 * as branches with their stability.
 */
function solveGaussianNonlinear(rd: SystemReading, pre: Pre, grid: TauGrid): StationaryOutcome {
  const base = solveNonlinearFrom(rd, pre, grid);
  if (!rd.pops[0].means.length || 'unsupported' in base) return base;
  const gainOf = (r: StationaryResult) => Number(r.diagnostics.meanModeGain ?? 0);
  const stabilityOf = (r: StationaryResult): string | undefined => {
    const g = gainOf(r);
    if (Math.abs(1 - g) <= 1e-6) return `marginal in the mean mode (gain ${g.toPrecision(10)})`;
    return g >= 1 ? `unstable in the mean mode: gain ${fmt(g)} ≥ 1 (at ${fmtParams(paramList(rd))})` : undefined;
  };
  if (!stabilityOf(base)) return base;
  const size = Math.max(1, Math.abs(Number(base.diagnostics.mu)), Math.sqrt(Math.max(0, Number(base.diagnostics.Delta0))));
  const found: StationaryResult[] = [base];
  for (const f of [0.5, 2]) for (const sg of [1, -1]) {
    const r = solveNonlinearFrom(rd, pre, grid, sg * f * size);
    if ('unsupported' in r) continue;
    const same = (a: StationaryResult) => Math.abs(Number(a.diagnostics.mu) - Number(r.diagnostics.mu)) <= 1e-6 * (1 + Math.abs(Number(r.diagnostics.mu)))
      && Math.abs(Number(a.diagnostics.Delta0) - Number(r.diagnostics.Delta0)) <= 1e-6 * (1 + Number(r.diagnostics.Delta0));
    if (!found.some(same)) found.push(r);
  }
  const branches: Branch[] = found.map((r) => {
    const why = stabilityOf(r);
    return {
      stable: !why, stability: why ?? `stable in the mean mode (gain ${fmt(gainOf(r))} < 1), ${r.diagnostics.state}`,
      observables: r.limit, errors: r.limitError ?? {},
      orderParams: { mu: Number(r.diagnostics.mu), Delta0: Number(r.diagnostics.Delta0), q: Number(r.diagnostics.q) },
    };
  });
  const stable = found.filter((_, i) => branches[i].stable);
  if (stable.length === 1) return { ...stable[0], branches };
  if (stable.length > 1) return { unsupported: `${stable.length} stable stationary states (symmetry-broken branches; at ${fmtParams(paramList(rd))}): which one the dynamics reaches depends on the initial condition`, branches };
  return { unsupported: `the stationary state is ${stabilityOf(base)} and no stable one was found from other starting means` };
}

/** The scalar site read as the shooting's model: the relaxation rate a, the noise Dn, the
 *  correlations it is driven by (with their kinks), the mean-field order parameters and the
 *  start of the mean; a site whose coefficients depend on a mean is not this regime. */
function shootingModel(rd: SystemReading, pre: Pre, muStart?: number): NLModel | { unsupported: string } {
  const P = rd.pops[0];
  const params = paramList(rd);
  const slotIdx = new Map(P.slots.map((s, i) => [s, i]));
  const vAt = (Mv: number[]) => {
    const v = new Float64Array(P.slots.length);
    P.means.forEach((mm, i) => { v[slotIdx.get(mm.slot)!] = Mv[i]; });
    return v;
  };
  const coefs = (Mv: number[]) => {
    const v = vAt(Mv);
    return [P.dF[P.pop.variable](v), ...P.fields.map((f) => P.dF[f](v)), ...P.noises.map((n) => P.dF[n.name](v))];
  };
  const c0s = coefs(P.means.map(() => 0)), c1s = coefs(P.means.map(() => 1.37));
  if (c0s.some((x, i) => Math.abs(x - c1s[i]) > 1e-12 * (1 + Math.abs(x)))) {
    return { unsupported: 'a coefficient of the state, a field or a noise depends on a mean-field order parameter' };
  }
  const a = c0s[0];
  const b = c0s.slice(1, 1 + P.fields.length);
  const cN = c0s.slice(1 + P.fields.length);
  if (!(a < 0)) {
    throw new StationaryInstabilityError(`the single-site equation of '${P.pop.variable}' does not relax (coefficient of the state ${fmt(a)} ≥ 0)`, params);
  }
  const Wmap = new Map<string, number>();
  let c0 = 0;
  pre.fields[0].forEach((f, e) => {
    c0 += b[e] ** 2 * f.c0;
    for (const t of f.terms) Wmap.set(t.C, (Wmap.get(t.C) ?? 0) + b[e] ** 2 * t.w);
  });
  const kinksOf = (o: OrderReading) => (isKinked(o.f) ? kinkPoints(o.f, o.slots[0], o.slots, rd.params) : []);
  const Cs = [...Wmap].filter(([, W]) => W !== 0).map(([name, W]) => {
    const o = rd.orders.get(name) as OrderReading;
    const kinks = kinksOf(o);
    const v = new Float64Array(1);
    return { F: o.F, dfdx: o.df[0], W, name, kinks, jumps: kinks.some((k) => jumpAcross((x) => { v[0] = x; return o.F(v); }, k) !== 0) };
  });
  const Ms = P.means.map((mm) => { const o = rd.orders.get(mm.M)!; return { F: o.F, name: mm.M, kinks: kinksOf(o) }; });
  const Dn = P.noises.reduce((s, n, i) => s + cN[i] ** 2 * n.D, 0);
  let mu0 = 0;
  const init = P.pop.init;
  if (init?.kind === 'value') mu0 = constantValue(init.value, rd.params) ?? 0;
  else if (init?.kind === 'dist') {
    // the law's mean (a start for the shooting)
    mu0 = lawMean(init.dist, rd.params) ?? 0;
  }
  const kinked = Cs.some((C) => C.kinks.length > 0) || Ms.some((M) => M.kinks.length > 0);
  if (muStart !== undefined) mu0 = muStart;
  return { a, Dn, c0, Cs, h: (Mv) => P.F(vAt(Mv)), Ms, mu0, kinked };
}

function solveNonlinearFrom(rd: SystemReading, pre: Pre, grid: TauGrid, muStart?: number): StationaryOutcome {
  const m = shootingModel(rd, pre, muStart);
  if ('unsupported' in m) return m;
  const P = rd.pops[0];
  const params = paramList(rd);
  const { a, Dn, c0, Cs, Ms, mu0, kinked } = m;
  /** the mean mode: d/dμ of −h(M(μ))/a at a fixed equal-time variance (a perturbation of the mean at fixed fluctuations) */
  const meanModeGain = (mu: number, variance: number, res: Res): number => {
    if (!Ms.length) return 0;
    const phiMu = (u: number) => -m.h(Ms.map((M) => expectOp(M.F, M.kinks, u, variance, res))) / m.a;
    const hh = 1e-5 * (1 + Math.abs(mu));
    return (phiMu(mu + hh) - phiMu(mu - hh)) / (2 * hh);
  };
  const a2 = a * a;
  // (kinked functions: Chebyshev in θ on [0, π/2] needs fewer nodes than in Δ on [−Δ0, Δ0])
  const coarse: Res = { rule: normalTrap(0.5), nc: kinked ? 16 : 24, split: { gl: 8, panel: 2, L: 8 } };
  const fine: Res = { rule: normalTrap(0.15, 8.5), nc: kinked ? 32 : 48, split: { gl: 16, panel: 2, L: 9 } };
  const finer: Res = { rule: normalTrap(0.08), nc: kinked ? 40 : 64, split: { gl: 20, panel: 1.5, L: 9.5 } };

  // --- bracket: scan Δ0 over decades with a coarse Ψ, shooting with RK4 -------
  const scan: { D0: number; o: Outcome; mu: number }[] = [];
  // every trial relaxes μ from the declared initial mean (the branch the dynamics selects)
  for (let k = 20; k >= -20; k--) {
    const D0 = 10 ** (k / 4);
    const t = trial(m, D0, mu0, coarse);
    scan.push({ D0, o: shoot(m, t, 0.02, 1000), mu: t.mu });
  }
  let br: [number, number] | undefined; // indices [lower Δ0, higher Δ0]
  for (let i = 0; i + 1 < scan.length; i++) {
    if (scan[i].o !== 'undecided' && scan[i + 1].o !== 'undecided' && scan[i].o !== scan[i + 1].o) { br = [i + 1, i]; break; }
  }
  const laws = new Map<string, PopLaw>();
  const diagnostics: Record<string, number | string | boolean> = { method: 'stationary (Gaussian closure, shooting)', regime: 'gaussian-nonlinear' };
  const nt = grid.tau.length;
  const dtau = nt > 1 ? grid.tau[1] - grid.tau[0] : 0.05;

  /** The static fixed-point state Δ(τ) ≡ Δ0 = q (no separatrix, or a degenerate one at Δ0 = q). */
  const staticState = (why: string): StationaryOutcome => {
    if (Dn > 0) return { unsupported: 'the shooting found no stationary correlation function (no separatrix) although noise is present' };
    const fixedPoint = (res: Res) => {
      let q = 0, mu = mu0;
      for (let it = 0; it < 10000; it++) {
        mu = solveMu(m, q, mu, res);
        let psi = c0;
        for (const C of Cs) psi += C.W * expectOp(C.F, C.kinks, mu, q, res, true);
        const nq = psi / a2;
        if (Math.abs(nq - q) <= 1e-15 * (1 + q)) { q = nq; break; }
        q = nq;
      }
      // fluctuation gain Σ W⟨f′²⟩/a²: infinite when f jumps (f′ ∋ δ) where x has density
      let gain = 0;
      // (or where x sits: x ≡ μ on a jump responds at O(1) to any perturbation)
      const onJump = (C: NLModel['Cs'][number]) => C.jumps && (q > 0 || C.kinks.some((k) => Math.abs(k - mu) <= 1e-12 * (1 + Math.abs(k))));
      for (const C of Cs) gain += onJump(C) ? Infinity : C.W * expectOp(C.dfdx, C.kinks, mu, q, res, true);
      gain /= a2;
      return { q, mu, gain, meanGain: meanModeGain(mu, q, res) };
    };
    const fp = fixedPoint(fine), fpCheck = fixedPoint(finer);
    const { q, mu, gain, meanGain } = fp;
    diagnostics.state = 'static';
    diagnostics.note = (q === 0 ? 'the state decays to the fixed point x = 0' : 'the state is a static random fixed point') + ` (${why})`;
    Object.assign(diagnostics, { Delta0: q, q, mu, stabilityGain: gain, meanModeGain: meanGain });
    // an eigenvalue at 1 within the quadrature's accuracy: marginal
    const tolOf = (x: number, y: number) => 1e-7 + 10 * (Number.isFinite(x - y) ? Math.abs(x - y) : 0);
    if (Math.abs(1 - gain) <= tolOf(gain, fpCheck.gain)) return { unsupported: `the static fixed point is marginal: its fluctuation gain is ${gain.toPrecision(12)}, 1 within the solver's accuracy (at ${fmtParams(params)})`, kind: 'marginal' };
    if (Math.abs(1 - meanGain) <= tolOf(meanGain, fpCheck.meanGain)) return { unsupported: `the static fixed point is marginal: its mean-mode gain is ${meanGain.toPrecision(12)}, 1 within the solver's accuracy (at ${fmtParams(params)})`, kind: 'marginal' };
    if (gain === Infinity) return { unsupported: 'the static fixed point is unstable (a transfer function jumps where the state has density: infinite fluctuation gain) and the shooting found no stationary fluctuating solution' };
    if (gain >= 1) return { unsupported: `the static fixed point is unstable (gain ${fmt(gain)} ≥ 1) and the shooting found no stationary fluctuating solution` };
    laws.set(P.pop.name, { mean0: mu, alpha: [], q: [], vs: q, C0: 0, Ctau: new Float64Array(nt) });
    const { limit, errors, tau } = evalObservables(rd, laws, grid, true);
    const check = evalObservables(rd, new Map([[P.pop.name, { mean0: fpCheck.mu, alpha: [], q: [], vs: fpCheck.q, C0: 0 } as PopLaw]]), grid, false).limit;
    const limitError: Record<string, number> = table();
    for (const k of Object.keys(limit)) limitError[k] = errors[k] + Math.abs(limit[k] - check[k]) + 1e-12 * (Math.abs(limit[k]) + 1 + q + mu * mu);
    return { limit, limitError, tau, diagnostics };
  };
  if (!br) return staticState('no chaotic solution: no separatrix between Δ0 = 1e-5 and 1e5');

  // --- the separatrix: root of the energy ε(Δ0), validated by shooting --------
  // (coarse Brent inside the scan bracket, then fine Brent in a narrow bracket)
  const h1 = dtau / Math.max(1, Math.ceil(dtau / 0.01));
  const oLo = scan[br[0]].o;
  let D0 = NaN, method = '', shots = scan.length, evals = 0;
  const trials = new Map<number, Trial>();
  const muGuess = mu0;
  const eAt = (D: number, res: Res) => {
    const t = trial(m, D, muGuess, res);
    evals++;
    if (res === fine) trials.set(D, t);
    return energy(m, t);
  };
  let slope = NaN;
  const cLo = scan[br[0]].D0, cHi = scan[br[1]].D0;
  const ecLo = eAt(cLo, coarse), ecHi = eAt(cHi, coarse);
  if (ecLo * ecHi < 0) {
    const D0c = brent((D) => eAt(D, coarse), cLo, cHi, ecLo, ecHi, 1e-10 * cHi).x;
    const tc = trial(m, D0c, muGuess, coarse);
    if (D0c - tc.q <= 1e-5 * D0c) return staticState('the separatrix degenerates to Δ0 = q: no fluctuating solution');
    for (let w = 1e-3; w < 1 && !(D0 >= 0); w *= 8) {
      const a0 = Math.max(cLo, D0c * (1 - w)), b0 = Math.min(cHi, D0c * (1 + w));
      const ea = eAt(a0, fine), eb = eAt(b0, fine);
      if (ea * eb < 0) {
        slope = (eb - ea) / (b0 - a0);
        // kinked: Ψ is good to ~1e-11, so a tighter root only bisects noise
        D0 = brent((D) => eAt(D, fine), a0, b0, ea, eb, (kinked ? 1e-12 : 1e-15) * b0).x;
      }
      if (a0 === cLo && b0 === cHi) break;
    }
  }
  let sideLo: Trial | undefined, sideHi: Trial | undefined;
  if (D0 >= 0) {
    method = `energy root (Brent), validated by RK4 shooting`;
    // validation: shots just below and above give the bracket's two outcomes
    for (let eta = 1e-13; eta <= 1e-6; eta *= 10) {
      const tl = trial(m, D0 * (1 - eta), muGuess, fine), th = trial(m, D0 * (1 + eta), muGuess, fine);
      const ol = shoot(m, tl, h1, 4000), oh = shoot(m, th, h1, 4000);
      shots += 2;
      if (ol === oLo && oh !== oLo && oh !== 'undecided') { sideLo = tl; sideHi = th; break; }
    }
  }
  if (!sideLo || !sideHi) {
    // fallback: bisection on the shooting outcome
    let lo = trial(m, cLo, mu0, fine), hi = trial(m, cHi, mu0, fine);
    for (let k = 0; k < 20 && shoot(m, lo, h1, 4000) === shoot(m, hi, h1, 4000); k++) { lo = trial(m, lo.D0 / 1.5, mu0, fine); hi = trial(m, hi.D0 * 1.5, mu0, fine); }
    const bf = bisect(m, lo, shoot(m, lo, h1, 4000), hi, h1, fine);
    shots += bf.shots;
    D0 = (bf.lo.D0 + bf.hi.D0) / 2;
    sideLo = bf.lo; sideHi = bf.hi;
    method = 'bisection on the RK4 shooting outcome';
  }
  const fin = trials.get(D0) ?? trial(m, D0, mu0, fine);
  const mu = fin.mu;
  if (D0 - fin.q <= 1e-6 * D0) return staticState('the separatrix degenerates to Δ0 = q: no fluctuating solution');
  // quadrature error: the energy with a finer Ψ, moved to Δ0 by the slope of ε
  if (!Number.isFinite(slope) || slope === 0) {
    const dD = 1e-5 * D0;
    slope = (eAt(D0 + dD, fine) - eAt(D0 - dD, fine)) / (2 * dD);
  }
  const eFiner = eAt(D0, finer);
  const shift = Number.isFinite(slope) && slope !== 0 ? -eFiner / slope : 0;
  const D0err = Math.abs(shift) + Math.abs(sideHi.D0 - sideLo.D0) / 2;

  // --- Δ(τ): the separatrix between the two sides, then its exponential tail ---
  const every = Math.max(1, Math.round(dtau / h1));
  const tl: number[] = [], th: number[] = [];
  shoot(m, sideLo, h1, grid.tau[nt - 1] + dtau, { every, out: tl });
  shoot(m, sideHi, h1, grid.tau[nt - 1] + dtau, { every, out: th });
  const Delta = new Float64Array(nt);
  const lam = Math.sqrt(Math.max(0, fin.lambda2));
  let last = -1;
  for (let k = 0; k < nt; k++) {
    if (k < tl.length && k < th.length && Math.abs(tl[k] - th[k]) <= 1e-7 * D0 && last === k - 1) {
      Delta[k] = (tl[k] + th[k]) / 2; last = k;
    } else {
      const ds = last >= 0 ? Delta[last] - fin.q : 0;
      Delta[k] = fin.q + ds * Math.exp(-lam * (grid.tau[k] - grid.tau[Math.max(0, last)]));
    }
  }
  Delta[0] = D0;
  const Ctau = new Float64Array(nt);
  for (let k = 0; k < nt; k++) Ctau[k] = Delta[k] - fin.q;
  laws.set(P.pop.name, { mean0: mu, alpha: [], q: [], vs: fin.q, C0: D0 - fin.q, Ctau });
  const { limit, errors, tau } = evalObservables(rd, laws, grid, true);
  const alt = trial(m, D0 + shift, mu0, finer);
  const lawAlt = new Map([[P.pop.name, { mean0: alt.mu, alpha: [], q: [], vs: alt.q, C0: alt.D0 - alt.q } as PopLaw]]);
  const limitAlt = evalObservables(rd, lawAlt, grid, false).limit;
  const limitError: Record<string, number> = table();
  // (rounding floor on the scale of the state: an observable that vanishes by symmetry is 0 ± that)
  for (const k of Object.keys(limit)) limitError[k] = errors[k] + Math.abs(limit[k] - limitAlt[k]) + 1e-12 * (Math.abs(limit[k]) + 1 + D0 + mu * mu);
  Object.assign(diagnostics, {
    state: m.Dn > 0 ? 'noise-driven' : 'chaotic',
    separatrix: method,
    Delta0: D0, Delta0Error: D0err, q: fin.q, mu, decayRate: lam, meanModeGain: meanModeGain(mu, D0, fine),
    shots, energyEvaluations: evals, rk4Step: h1,
    separatrixReliableUntil: last >= 0 ? grid.tau[last] : 0,
    quadrature: kinked
      ? `split at the kinks: Gauss–Legendre ${fine.split.gl} per panel ≤ ${fine.split.panel} on [−${fine.split.L}, ${fine.split.L}], graded toward each kink; Ψ Chebyshev ${fine.nc} in θ = arccos(Δ/Δ0); error check ${finer.split.gl}/${finer.split.panel}, ${finer.nc}`
      : `trapezoid h = 0.15 on [−8.5, 8.5] (${fine.rule.x.length}²), Chebyshev ${fine.nc}; error check h = 0.08, ${finer.nc}`,
  });
  return { limit, limitError, tau, diagnostics };
}
