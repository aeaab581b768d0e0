// Stationary-state solver: the time-translation-invariant state (t → ∞) of a
// DMFT system whose single-site processes have time-independent coefficients.
// Driven only by the structure that `readSystem` extracts — nothing here knows
// any particular model.
//
// Two regimes (see docs/conventions.md, "Numerical facts that decide accuracy"):
//
//  1. Linear (every single-site equation affine in its state, fields, noises,
//     memory integrals and quenched inputs; every order-parameter function
//     affine). Frequency domain: the responses R(ω) solve the rational
//     self-consistency R_m = β_m / D_p(ω), D_p = s_p(ω) − a_p − Σ_j K_pj R_j
//     (s = iω for dynamic, 1 for algebraic populations), followed from large ω
//     down to ω = 0 by Newton continuation (the causal root). The fluctuation
//     spectra solve the linear system S_p = |χ_p|² (Σ_n c_n² D_n + Σ_e b_e²
//     S_ηe), S_ηe = Σ w f1² S_p'. The static (ω = 0, δ-function) part — driven
//     by quenched inputs, constant drives and mean fields — is an affine
//     representation in independent Gaussian sources, closed exactly.
//     C(0) = ∫S dω/π by composite Gauss–Legendre on ω = ω_s tan θ (graded
//     toward θ = 0, refined until two levels agree; ω_s = the fastest rate of
//     the responses, at least 1); C(τ) by a trapezoid cosine sum after
//     subtracting the A/(ω²+1) tail analytically (only for two-time observables).
//     Stability: the loop gain ρ(A(ω)) of the fluctuations must stay below
//     1, D_p(ω) may not wind into the unstable half plane (counted from
//     ω = ∞, where D ~ iω), R(0) must be real;
//     otherwise a StationaryInstabilityError names the parameters.
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
//
// A vector reading (several variables per site, correlated fields,
// cross-correlations) goes to the matrix form of regime 1,
// ./stationary-vector.ts. Anything else returns { unsupported: reason } so a
// dispatcher can try another method.
import { DmftError } from '../errors.ts';
import { mapPost, some, sym, type Expr } from '../expr/ast.ts';
import { compile, type Compiled } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import { complexSolveInPlace, solveDense } from '../numeric/linalg.ts';
import { brent } from '../numeric/roots.ts';
import { gaussHermite } from '../numeric/rules.ts';
import { expectTensorTrapezoid } from '../numeric/normal.ts';
import { expectKinkedZ } from '../numeric/gauss.ts';
import { isKinked, jumpAcross, kinkArgs, kinkPoints } from '../numeric/kinks.ts';
import { expectPanels, gaussLegendre, normalTrapezoid, type Rule, type SplitResolution, splitNormalRule } from '../numeric/rules.ts';
import { scalarReading, VectorSiteError, type ObservableReading, type OrderReading, type ScalarPopReading as PopReading, type ScalarReading, type SystemReading as VectorReading } from './read.ts';
type SystemReading = ScalarReading;
import type { Branch, SolveOptions } from './types.ts';
import { table } from '../table.ts';
import { solveStationaryVector } from './stationary-vector.ts';

export interface StationaryResult {
  /** t → ∞ value of every one-time observable */
  limit: Record<string, number>;
  /** every stationary state found, when the one from the initial mean is unstable in the mean mode */
  branches?: Branch[];
  /** estimated numerical error of `limit` */
  limitError?: Record<string, number>;
  /** stationary two-time observables as functions of the lag τ ≥ 0 */
  tau?: Record<string, { tau: number[]; values: number[] }>;
  diagnostics: Record<string, number | string | boolean>;
}
/** `kind: 'marginal'`: the state has a zero-frequency mode (a stability edge), so there is no unique stationary value. */
export type StationaryOutcome = StationaryResult | { unsupported: string; kind?: 'marginal'; branches?: Branch[] };

/** The model is inside the solver's regime but has no stationary state. */
export class StationaryInstabilityError extends DmftError {
  readonly params: Record<string, number>;
  /** 'unstable': past a stability edge; 'zero-mode': a zero-frequency mode makes the long-time state depend on the initial condition;
   *  'marginal': a loop gain is 1 within the solver's accuracy (at the edge: no value) */
  kind: 'unstable' | 'zero-mode' | 'marginal' = 'unstable';
  constructor(message: string, params: Record<string, number>, hint?: string) {
    const named = Object.entries(params).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ');
    super({
      message: `no stationary state: ${message}${named ? ` (at ${named})` : ''}`,
      hint: hint ?? 'the system is past its stability edge; solve the transient instead, or change the parameters',
    });
    this.name = 'StationaryInstabilityError';
    this.params = params;
  }
}

/** a loop gain within this of 1 is a stability edge (the gains are exact algebra up to rounding) */
const MARGIN = 1e-7;
const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(6)));
const fmtParams = (p: Record<string, number>): string => Object.entries(p).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ');

// ===========================================================================
// entry point

export function solveStationary(vreading: VectorReading, opts: SolveOptions): StationaryOutcome {
  let reading: SystemReading;
  try {
    reading = scalarReading(vreading, 'the stationary solver');
  } catch (e) {
    // a vector site: the linear vector solver (stationary-vector.ts), which refuses what it cannot do
    if (e instanceof VectorSiteError) {
      return solveStationaryVector(vreading);
    }
    throw e;
  }
  const pre = preflight(reading);
  if (typeof pre === 'string') return { unsupported: pre };
  const grid = tauGrid(opts);
  if (!reading.linear) return solveGaussianNonlinear(reading, pre, grid);
  try {
    return solveLinear(reading, pre, grid);
  } catch (e) {
    // a zero-frequency mode: the limit exists but remembers the initial condition — the transient solver's job
    if (e instanceof StationaryInstabilityError && e.kind === 'zero-mode') return { unsupported: `${e.message}; the long-time limit depends on the initial condition`, kind: 'marginal' };
    if (e instanceof StationaryInstabilityError && e.kind === 'marginal') return { unsupported: e.message, kind: 'marginal' };
    throw e;
  }
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

function num(e: Expr, params: Record<string, number>, what: string): number {
  const v = constantValue(e, params);
  if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
  return v;
}

interface TauGrid { tau: number[] }
function tauGrid(opts: SolveOptions): TauGrid {
  const T = opts.T > 0 ? opts.T : 50;
  let dt = opts.dt > 0 ? opts.dt : 0.05;
  if (T / dt > 20000) dt = T / 20000;
  const n = Math.floor(T / dt + 1e-9) + 1;
  return { tau: Array.from({ length: n }, (_, k) => k * dt) };
}

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

/**
 * Expectation rule per dimension: Gauss–Hermite (exact) for polynomial bodies,
 * the Gaussian trapezoid rule otherwise (spectrally accurate for bodies
 * analytic in a strip, where Gauss–Hermite converges slowly at large variance).
 */
function ruleFor(deg: number, dims: number): Rule {
  if (Number.isFinite(deg)) return gaussHermite(Math.max(1, Math.ceil((deg + 1) / 2)));
  return dims <= 1 ? normalTrap(0.1, 9) : dims === 2 ? normalTrap(0.2, 8.5) : dims === 3 ? normalTrap(0.4, 8) : normalTrap(0.6, 7.2);
}

/** E[body(x(t), x(t+τ), q…)] under a population law; vt = covariance at lag τ (undefined: one-time). */
function lawAverage(av: ObservableReading['averages'][number], law: PopLaw, vt: number | undefined, params: Record<string, number>): number {
  if (isKinked(av.body)) return kinkedLawAverage(av, law, vt, params);
  const nq = law.q.length;
  const isQ = (y: Expr) => y.k === 'sym' && av.slots.includes(y.name);
  const deg = degree(av.body, isQ);
  const twoTime = vt !== undefined;
  if (!Number.isFinite(deg)) return smoothLawAverage(av, law, vt, nq);
  const gx = ruleFor(deg, (twoTime ? 2 : 1) + nq);
  const nx = gx.x.length;
  const gq = gx;
  const v0 = Math.max(0, law.vs + law.C0);
  const v = new Float64Array(2 + nq);
  let acc = 0;
  const inner = (m: number): number => {
    let s = 0;
    if (!twoTime) {
      const sd = Math.sqrt(v0);
      for (let i = 0; i < nx; i++) { v[0] = v[1] = m + sd * gx.x[i]; s += gx.w[i] * av.F(v); }
      return s;
    }
    // x1 = m + A z1, x2 = m + B z1 + Cc z2
    const A = Math.sqrt(v0);
    const B = A > 0 ? vt / A : 0;
    const Cc = Math.sqrt(Math.max(0, v0 - B * B));
    for (let i = 0; i < nx; i++) {
      v[0] = m + A * gx.x[i];
      const base = m + B * gx.x[i];
      for (let j = 0; j < nx; j++) { v[1] = base + Cc * gx.x[j]; s += gx.w[i] * gx.w[j] * av.F(v); }
    }
    return s;
  };
  if (nq === 0) return inner(law.mean0);
  // tensor product over the quenched inputs
  const idx = new Array(nq).fill(0);
  const nqn = gq.x.length;
  for (;;) {
    let w = 1, m = law.mean0;
    for (let j = 0; j < nq; j++) {
      const qv = law.q[j].mean + Math.sqrt(Math.max(0, law.q[j].var)) * gq.x[idx[j]];
      v[2 + j] = qv;
      w *= gq.w[idx[j]];
      m += law.alpha[j] * qv;
    }
    acc += w * inner(m);
    let j = 0;
    while (j < nq && ++idx[j] === nqn) { idx[j] = 0; j++; }
    if (j === nq) break;
  }
  return acc;
}

/** trapezoid step in z by the number of Gaussian dimensions (spectrally accurate for analytic bodies) */
const SMOOTH_DZ = [0.1, 0.1, 0.2, 0.4, 0.6];

/**
 * lawAverage for a smooth non-polynomial body: one tensor trapezoid rule over
 * the quenched inputs and the state's own Gaussian parts, its range widened
 * until the boundary carries no weight (a fixed range missed the mass of
 * e^{aX} at large variance: e^{3x} at Var x = 11.5 came out 8× too small).
 */
function smoothLawAverage(av: ObservableReading['averages'][number], law: PopLaw, vt: number | undefined, nq: number): number {
  // slots [x(t), x(t+τ), q…] = μ + L·z with z = (z_q…, z1, z2)
  const n = 2 + nq;
  const v0 = Math.max(0, law.vs + law.C0);
  const A = Math.sqrt(v0);
  const B = vt === undefined ? A : A > 0 ? vt / A : 0;
  const Cc = vt === undefined ? 0 : Math.sqrt(Math.max(0, v0 - B * B));
  const mu = new Array<number>(n).fill(0);
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let m = law.mean0;
  for (let j = 0; j < nq; j++) {
    const qs = Math.sqrt(Math.max(0, law.q[j].var));
    mu[2 + j] = law.q[j].mean;
    L[2 + j][j] = qs;
    m += law.alpha[j] * law.q[j].mean;
    L[0][j] = L[1][j] = law.alpha[j] * qs;
  }
  mu[0] = mu[1] = m;
  L[0][nq] = A; L[1][nq] = B; L[1][nq + 1] = Cc;
  const dims = (vt === undefined ? 1 : 2) + nq;
  return expectTensorTrapezoid(mu, L, SMOOTH_DZ[Math.min(dims, SMOOTH_DZ.length - 1)], (x) => av.F(x));
}

const kinkArgCache = new WeakMap<object, Compiled[]>();
const SPLIT_X: SplitResolution = { gl: 12, panel: 0.75, L: 9 };
const SPLIT_Q: SplitResolution = { gl: 10, panel: 1, L: 8.5 };

/**
 * lawAverage for a kinked body (relu, abs, sign, comparisons): every
 * dimension (quenched inputs, then x(t), then x(t+τ)) is split where a kink
 * argument changes sign, with the dimensions not yet integrated at their
 * conditional means (exact splits for kinks in the innermost variables).
 */
function kinkedLawAverage(av: ObservableReading['averages'][number], law: PopLaw, vt: number | undefined, params: Record<string, number>): number {
  let args = kinkArgCache.get(av);
  if (!args) { args = kinkArgs(av.body).map((a) => compile(a, av.slots, params)); kinkArgCache.set(av, args); }
  const nq = law.q.length;
  const v = new Float64Array(2 + nq);
  const v0 = Math.max(0, law.vs + law.C0);
  const A = Math.sqrt(v0);
  const B = vt === undefined ? A : A > 0 ? vt / A : 0;
  const Cc = vt === undefined ? 0 : Math.sqrt(Math.max(0, v0 - B * B));
  const at = (f: Compiled) => (z: number, set: (z: number) => void) => { set(z); return f(v); };
  const rec = (j: number, m: number): number => {
    if (j < nq) {
      const sd = Math.sqrt(Math.max(0, law.q[j].var));
      const set = (z: number) => { for (let k = j + 1; k < nq; k++) v[2 + k] = law.q[k].mean; const qv = law.q[j].mean + sd * z; v[2 + j] = qv; const mm = m + law.alpha[j] * qv + law.alpha.slice(j + 1).reduce((acc, a, k) => acc + a * law.q[j + 1 + k].mean, 0); v[0] = v[1] = mm; };
      return expectKinkedZ((z) => { const qv = law.q[j].mean + sd * z; v[2 + j] = qv; return rec(j + 1, m + law.alpha[j] * qv); }, args!.map((f) => (z: number) => at(f)(z, set)), SPLIT_Q);
    }
    // x1 = m + A z1, x2 = m + B z1 + Cc z2 (one-time: x2 = x1)
    const set1 = (z: number) => { v[0] = m + A * z; v[1] = m + B * z; };
    return expectKinkedZ((z1) => {
      if (!(Cc > 0)) { set1(z1); return av.F(v); }
      const x1 = m + A * z1, base = m + B * z1;
      const set2 = (z2: number) => { v[0] = x1; v[1] = base + Cc * z2; };
      return expectKinkedZ((z2) => { set2(z2); return av.F(v); }, args!.map((f) => (z: number) => at(f)(z, set2)), SPLIT_X);
    }, args!.map((f) => (z: number) => at(f)(z, set1)), SPLIT_X);
  };
  return rec(0, law.mean0);
}

function evalObservables(rd: SystemReading, laws: Map<string, PopLaw>, grid: TauGrid, withTau: boolean): { limit: Record<string, number>; tau: Record<string, { tau: number[]; values: number[] }> } {
  const limit: Record<string, number> = table();
  const tau: Record<string, { tau: number[]; values: number[] }> = table();
  for (const ob of rd.observables) {
    const twoTime = ob.def.times.length > 1;
    if (!twoTime) {
      const vals = ob.averages.map((av) => lawAverage(av, laws.get(av.pop)!, undefined, rd.params));
      limit[ob.def.name] = ob.outer(vals);
    } else if (withTau) {
      const values = grid.tau.map((_, k) => {
        const vals = ob.averages.map((av) => {
          const law = laws.get(av.pop)!;
          const c = law.Ctau ? law.Ctau[k] : 0;
          return lawAverage(av, law, law.vs + c, rd.params);
        });
        return ob.outer(vals);
      });
      tau[ob.def.name] = { tau: grid.tau.slice(), values };
    }
  }
  return { limit, tau };
}

/** Largest change of each observable under perturbed inputs (an error estimate). */
function observableErrors(base: Record<string, number>, perturbed: Record<string, number>[]): Record<string, number> {
  const err: Record<string, number> = table();
  for (const k of Object.keys(base)) {
    let e = 0;
    for (const p of perturbed) if (k in p) e = Math.max(e, Math.abs(p[k] - base[k]));
    err[k] = e;
  }
  return err;
}

// ===========================================================================
// 1. linear systems, frequency domain

interface PopLin {
  r: PopReading;
  dynamic: boolean;
  slotIdx: Map<string, number>;
  noiseD: number[];
  q: { mean: number; var: number }[];
  fields: FieldCov[];
  mem: { R: string; g0: number; g1: number; gq: number[] }[];
}

interface Coef { a: number; b: number[]; c: number[]; d: number[]; e: number[]; h: number }

interface OrdLin { name: string; pop: number; f0: number; f1: number; fq: number[] }

interface LinModel {
  pops: PopLin[];
  coefs: Coef[];
  /** unknown kernels (R order parameters used by memory terms) */
  Rn: string[];
  beta: number[];
  Rpop: number[];
  /** K[p][j]: coefficient of R_j in D_p */
  K: number[][];
  /** fluctuation coupling without |χ_p|²: Afl[p][p'] */
  Afl: number[][];
  src: number[];
}

function buildPopLin(rd: SystemReading, p: PopReading, fields: FieldCov[]): PopLin {
  const slotIdx = new Map(p.slots.map((s, i) => [s, i]));
  const gs = [p.pop.variable, ...p.quenched.map((q) => q.name)];
  const mem = p.memory.map((m) => {
    const z = new Float64Array(gs.length);
    const g0 = m.gF(z);
    const g1 = m.dgdx(z);
    const gq = p.quenched.map((_, j) => { const u = new Float64Array(gs.length); u[1 + j] = 1; return m.gF(u) - g0; });
    return { R: m.R, g0, g1, gq };
  });
  const q = p.quenched.map((qq) => {
    const d = qq.input.dist as Extract<typeof qq.input.dist, { kind: 'normal' }>;
    return { mean: num(d.mean, rd.params, `the mean of ${qq.name}`), var: num(d.var, rd.params, `the variance of ${qq.name}`) };
  });
  return { r: p, dynamic: p.pop.kind === 'dynamic', slotIdx, noiseD: p.noises.map((n) => n.D), q, fields, mem };
}

function coefAt(P: PopLin, M: Map<string, number>): Coef {
  const p = P.r;
  const v = new Float64Array(p.slots.length);
  for (const m of p.means) v[P.slotIdx.get(m.slot)!] = M.get(m.M) ?? 0;
  const d = (s: string) => p.dF[s](v);
  return {
    a: d(p.pop.variable),
    b: p.fields.map(d),
    c: p.noises.map((n) => d(n.name)),
    d: p.quenched.map((q) => d(q.name)),
    e: p.memory.map((m) => d(m.slot)),
    h: p.F(v),
  };
}

function ordLin(rd: SystemReading, popIndex: Map<string, number>): Map<string, OrdLin> {
  const out = new Map<string, OrdLin>();
  for (const [name, o] of rd.orders) {
    const z = new Float64Array(o.slots.length);
    const f0 = o.F(z);
    const f1 = o.df[0](z);
    const fq = o.slots.slice(1).map((_, j) => { const u = new Float64Array(o.slots.length); u[1 + j] = 1; return o.F(u) - f0; });
    out.set(name, { name, pop: popIndex.get(o.op.pop)!, f0, f1, fq });
  }
  return out;
}

function buildLinModel(rd: SystemReading, pops: PopLin[], ords: Map<string, OrdLin>, M: Map<string, number>): LinModel {
  const coefs = pops.map((P) => coefAt(P, M));
  const Rn: string[] = [];
  for (const P of pops) for (const m of P.mem) if (!Rn.includes(m.R)) Rn.push(m.R);
  const beta: number[] = [];
  const Rpop: number[] = [];
  for (const name of Rn) {
    const o = rd.orders.get(name)!;
    const ol = ords.get(name)!;
    const P = pops[ol.pop];
    const fi = P.r.fields.indexOf(o.op.slot ?? '');
    if (fi < 0) throw new DmftError({ message: `response ${name}: its slot '${o.op.slot}' is not a field of population ${o.op.pop}` });
    beta.push(ol.f1 * coefs[ol.pop].b[fi]);
    Rpop.push(ol.pop);
  }
  const K = pops.map((P, p) => {
    const row = new Array(Rn.length).fill(0);
    P.mem.forEach((m, k) => { row[Rn.indexOf(m.R)] += coefs[p].e[k] * m.g1; });
    return row;
  });
  const Afl = pops.map((P, p) => {
    const row = new Array(pops.length).fill(0);
    P.fields.forEach((f, e) => {
      const b2 = coefs[p].b[e] ** 2;
      for (const t of f.terms) { const o = ords.get(t.C)!; row[o.pop] += b2 * t.w * o.f1 * o.f1; }
    });
    return row;
  });
  const src = pops.map((P, p) => P.noiseD.reduce((s, D, n) => s + coefs[p].c[n] ** 2 * D, 0));
  return { pops, coefs, Rn, beta, Rpop, K, Afl, src };
}

// ---- small dense linear algebra ------------------------------------------

/** Spectral radius of a small nonnegative matrix (Collatz–Wielandt upper bound after power iteration). */
function spectralRadiusNonneg(A: number[][]): number {
  const n = A.length;
  if (n === 0) return 0;
  if (n === 1) return Math.abs(A[0][0]);
  if (n === 2) {
    const tr = A[0][0] + A[1][1], det = A[0][0] * A[1][1] - A[0][1] * A[1][0];
    const disc = Math.max(0, tr * tr / 4 - det);
    return Math.abs(tr / 2) + Math.sqrt(disc);
  }
  let v = new Array(n).fill(1);
  let hi = Infinity;
  for (let it = 0; it < 200; it++) {
    const w = A.map((row) => row.reduce((s, a, j) => s + a * v[j], 0) + 1e-300);
    let mx = 0, mn = Infinity;
    for (let i = 0; i < n; i++) { const r = w[i] / v[i]; mx = Math.max(mx, r); mn = Math.min(mn, r); }
    hi = mx;
    const norm = Math.max(...w);
    v = w.map((x) => x / norm + 1e-14);
    if (mx - mn <= 1e-12 * mx) break;
  }
  return hi;
}

// ---- response continuation -------------------------------------------------

interface RState { re: Float64Array; im: Float64Array }

/** D_p(ω) for every population, given the kernels. */
function dValues(L: LinModel, w: number, R: RState, Dr: Float64Array, Di: Float64Array): void {
  for (let p = 0; p < L.pops.length; p++) {
    let re = (L.pops[p].dynamic ? 0 : 1) - L.coefs[p].a, im = L.pops[p].dynamic ? w : 0;
    const K = L.K[p];
    for (let j = 0; j < K.length; j++) { re -= K[j] * R.re[j]; im -= K[j] * R.im[j]; }
    Dr[p] = re; Di[p] = im;
  }
}

/** Newton on H_m = R_m − β_m / D_{p(m)} at frequency w, starting from R (updated in place). */
function newtonR(L: LinModel, w: number, R: RState): boolean {
  const n = L.Rn.length;
  if (n === 0) return true;
  const np = L.pops.length;
  const Dr = new Float64Array(np), Di = new Float64Array(np);
  const Jr = new Float64Array(n * n), Ji = new Float64Array(n * n);
  const br = new Float64Array(n), bi = new Float64Array(n);
  for (let it = 0; it < 60; it++) {
    dValues(L, w, R, Dr, Di);
    Jr.fill(0); Ji.fill(0);
    let rn = 0;
    for (let m = 0; m < n; m++) {
      const p = L.Rpop[m];
      const dm = Dr[p] * Dr[p] + Di[p] * Di[p];
      if (!(dm > 0) || !Number.isFinite(dm)) return false;
      // 1/D
      const ir = Dr[p] / dm, ii = -Di[p] / dm;
      const bt = L.beta[m];
      br[m] = -(R.re[m] - bt * ir);
      bi[m] = -(R.im[m] - bt * ii);
      rn += R.re[m] ** 2 + R.im[m] ** 2;
      // 1/D²
      const i2r = ir * ir - ii * ii, i2i = 2 * ir * ii;
      for (let j = 0; j < n; j++) {
        const k = L.K[p][j];
        Jr[m * n + j] = (m === j ? 1 : 0) - bt * k * i2r;
        Ji[m * n + j] = -bt * k * i2i;
      }
    }
    if (!complexSolveInPlace(n, Jr, Ji, br, bi)) return false;
    let dn = 0;
    for (let m = 0; m < n; m++) { R.re[m] += br[m]; R.im[m] += bi[m]; dn += br[m] ** 2 + bi[m] ** 2; }
    if (!Number.isFinite(dn)) return false;
    if (dn <= 1e-30 * (rn + 1e-280)) return true;
  }
  return false;
}

/** The large-ω start of the continuation: fixed-point iteration from the bare response. */
function startR(L: LinModel, w: number, params: Record<string, number>): RState {
  const n = L.Rn.length;
  const R: RState = { re: new Float64Array(n), im: new Float64Array(n) };
  const np = L.pops.length;
  const Dr = new Float64Array(np), Di = new Float64Array(np);
  for (let it = 0; it < 100; it++) {
    dValues(L, w, R, Dr, Di);
    for (let m = 0; m < n; m++) {
      const p = L.Rpop[m];
      const dm = Dr[p] * Dr[p] + Di[p] * Di[p];
      R.re[m] = L.beta[m] * Dr[p] / dm;
      R.im[m] = -L.beta[m] * Di[p] / dm;
    }
  }
  if (!newtonR(L, w, R)) throw new StationaryInstabilityError(`the response equations have no solution even at large frequency ω = ${fmt(w)}`, params);
  return R;
}

interface Sweep {
  /** S[p][i]: fluctuation spectrum of population p at omegas[i] */
  S: Float64Array[];
  rhoMax: number;
  rhoArg: number;
  /** R at the last frequency (ω = 0) */
  R0: RState;
  D0r: Float64Array;
  D0i: Float64Array;
  /** unwrapped phase change of D_p from the first to the last frequency */
  dphase: Float64Array;
  /** phase of D_p at the first (largest) frequency */
  phase0: Float64Array;
}

/**
 * Follow R(ω) along `omegas` (strictly decreasing, ending at 0) by Newton
 * continuation, with step halving where Newton fails; compute the spectra,
 * the fluctuation loop gain and the winding of each D_p.
 */
function sweep(L: LinModel, omegas: ArrayLike<number>, params: Record<string, number>): Sweep {
  const np = L.pops.length;
  const nw = omegas.length;
  const S = L.pops.map(() => new Float64Array(nw));
  const R = startR(L, omegas[0], params);
  const Dr = new Float64Array(np), Di = new Float64Array(np);
  const phase = new Float64Array(np), phase0 = new Float64Array(np), dphase = new Float64Array(np);
  let rhoMax = 0, rhoArg = omegas[0];
  const A = L.pops.map(() => new Array(np).fill(0));
  const rhs = new Array(np).fill(0);
  const I_A = L.pops.map(() => new Array(np).fill(0));
  let prevW = omegas[0];
  const advance = (from: number, to: number, depth: number): void => {
    const save: RState = { re: R.re.slice(), im: R.im.slice() };
    if (newtonR(L, to, R)) return;
    R.re.set(save.re); R.im.set(save.im);
    if (depth > 40) {
      const err = new StationaryInstabilityError(`the response equations lose their causal solution near ω = ${fmt(to)} (a zero-frequency mode, or a branch point on the real axis)`, params);
      // the causal root is lost only at ω → 0: the spectrum of the response reaches zero frequency
      if (to < 1e-3 * rateScale(L)) err.kind = 'zero-mode';
      throw err;
    }
    const mid = from > 0 && to > 0 ? Math.sqrt(from * to) : (from + to) / 2;
    advance(from, mid, depth + 1);
    advance(mid, to, depth + 1);
  };
  for (let i = 0; i < nw; i++) {
    const w = omegas[i];
    if (i > 0) advance(prevW, w, 0);
    prevW = w;
    dValues(L, w, R, Dr, Di);
    for (let p = 0; p < np; p++) {
      const ph = Math.atan2(Di[p], Dr[p]);
      if (i === 0) { phase[p] = ph; phase0[p] = ph; }
      else {
        let d = ph - (phase[p] % (2 * Math.PI));
        d = ((d + Math.PI) % (2 * Math.PI) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
        dphase[p] += d;
        phase[p] = ph;
      }
    }
    for (let p = 0; p < np; p++) {
      const g = 1 / (Dr[p] * Dr[p] + Di[p] * Di[p]);
      for (let q = 0; q < np; q++) A[p][q] = L.Afl[p][q] * g;
      rhs[p] = L.src[p] * g;
    }
    const rho = spectralRadiusNonneg(A);
    if (rho > rhoMax) { rhoMax = rho; rhoArg = w; }
    if (rho < 1) {
      for (let p = 0; p < np; p++) for (let q = 0; q < np; q++) I_A[p][q] = (p === q ? 1 : 0) - A[p][q];
      const s = np === 1 ? [rhs[0] / I_A[0][0]] : solveDense(I_A, rhs);
      if (s) for (let p = 0; p < np; p++) S[p][i] = s[p];
    }
  }
  dValues(L, omegas[nw - 1], R, Dr, Di);
  return { S, rhoMax, rhoArg, R0: R, D0r: Dr.slice(), D0i: Di.slice(), dphase, phase0 };
}

/** Throw if a sweep shows that no stationary state exists. */
function checkSweep(rd: SystemReading, L: LinModel, sw: Sweep): void {
  const params = paramList(rd);
  for (let j = 0; j < L.Rn.length; j++) {
    const re = sw.R0.re[j], im = sw.R0.im[j];
    if (!Number.isFinite(re) || Math.abs(im) > 1e-7 * (Math.abs(re) + 1e-12)) {
      throw new StationaryInstabilityError(`the static response ${L.Rn[j]}(ω=0) is not real (${fmt(re)} + ${fmt(im)}i): the response spectrum reaches zero frequency`, params);
    }
  }
  L.pops.forEach((P, p) => {
    const d0 = sw.D0r[p];
    const v = P.r.pop.variable;
    if (!(Math.abs(d0) > 1e-12 * (1 + Math.abs(L.coefs[p].a)))) {
      const err = new StationaryInstabilityError(`'${v}' has a zero-frequency mode (its inverse response D(0) = ${fmt(d0)} vanishes), so the long-time state is not unique`, params);
      err.kind = 'zero-mode';
      throw err;
    }
    if (P.dynamic) {
      // a stable dynamic response winds from arg = π/2 (ω → ∞) to 0 (ω = 0): D(0) > 0.
      // The winding counts from ω = ∞ (D ~ iω), not from the first frequency of the
      // sweep, where D need not have reached its asymptote
      const winding = sw.dphase[p] + (sw.phase0[p] - Math.PI / 2);
      if (d0 < 0 || Math.abs(winding + Math.PI / 2) > 0.5) {
        throw new StationaryInstabilityError(`the response of '${v}' has a mode in the unstable half plane (D(0) = ${fmt(d0)}, phase change from ω = ∞: ${fmt(winding)})`, params);
      }
    } else if (Math.abs(sw.dphase[p]) > 0.5) {
      throw new StationaryInstabilityError(`the instantaneous response of '${v}' winds around zero (phase change ${fmt(sw.dphase[p])})`, params);
    }
  });
  // the loop gain is exact algebra at each ω (rounding only): within 1e-7 of 1 the
  // variance is not determined (a stability edge), whatever the quadrature says
  if (Math.abs(1 - sw.rhoMax) <= MARGIN) {
    const err = new StationaryInstabilityError(`the state is marginal: the loop gain of the fluctuations reaches ${sw.rhoMax.toPrecision(12)} at ω = ${fmt(sw.rhoArg)}, 1 within the solver's accuracy ${MARGIN}`, params, 'at a stability edge the stationary variance is not finite; the transient shows how it grows');
    err.kind = 'marginal';
    throw err;
  }
  if (sw.rhoMax >= 1) {
    throw new StationaryInstabilityError(`the loop gain of the fluctuations, K·v·|χ(ω)|², reaches ${fmt(sw.rhoMax)} ≥ 1 at ω = ${fmt(sw.rhoArg)}: the stationary variance diverges`, params);
  }
}

// ---- frequency quadrature --------------------------------------------------

/**
 * Quadrature for (1/π)∫₀^∞ S(ω) dω on θ ∈ (0, π/2), ω = ws·tan θ: panels
 * graded geometrically toward θ = 0 (resolves narrow peaks at ω = 0), each
 * split into m equal parts, 16-point Gauss–Legendre. Nodes sorted by
 * decreasing ω; weights include dω/dθ and 1/π.
 */
export function omegaRule(ws: number, m: number): { w: Float64Array; wt: Float64Array } {
  const Kp = 40;
  const bounds = [0];
  for (let k = Kp - 1; k >= 0; k--) bounds.push((Math.PI / 2) * 2 ** -k);
  const gl = gaussLegendre(16);
  const th: number[] = [], wt: number[] = [];
  for (let b = 0; b < bounds.length - 1; b++) {
    const lo = bounds[b], hi = bounds[b + 1];
    const h = (hi - lo) / m;
    for (let s = 0; s < m; s++) {
      const a = lo + s * h;
      for (let i = 0; i < 16; i++) { th.push(a + (gl.x[i] + 1) * h / 2); wt.push(gl.w[i] * h / 2); }
    }
  }
  const order = th.map((_, i) => i).sort((i, j) => th[j] - th[i]);
  const w = new Float64Array(order.length + 1), W = new Float64Array(order.length + 1);
  order.forEach((i, k) => {
    const c = Math.cos(th[i]);
    w[k] = ws * Math.tan(th[i]);
    W[k] = wt[i] * ws / (c * c) / Math.PI;
  });
  w[order.length] = 0; W[order.length] = 0; // ω = 0 closes every sweep (static response)
  return { w, wt: W };
}

// ---- the linear solve --------------------------------------------------------

interface StaticPart {
  /** per population: X_p = c + Σ alpha_j q_j + Σ_e beta_e ζ_e */
  c: number[];
  alpha: number[][];
  beta: number[][];
  /** static field variances V[p][e] */
  V: number[][];
  /** static variance of x_p from the static fields */
  vs: number[];
  /** updated mean-field values */
  M: Map<string, number>;
  rhoStatic: number;
}

function staticPart(rd: SystemReading, L: LinModel, ords: Map<string, OrdLin>, sw: Sweep): StaticPart {
  const R0 = (name: string) => sw.R0.re[L.Rn.indexOf(name)];
  const c: number[] = [], alpha: number[][] = [], beta: number[][] = [];
  L.pops.forEach((P, p) => {
    const cf = L.coefs[p];
    const D0 = sw.D0r[p];
    let num0 = cf.h;
    const al = cf.d.slice();
    P.mem.forEach((m, k) => {
      const r = R0(m.R) * cf.e[k];
      num0 += r * m.g0;
      m.gq.forEach((g, j) => { al[j] += r * g; });
    });
    c.push(num0 / D0);
    alpha.push(al.map((x) => x / D0));
    beta.push(cf.b.map((x) => x / D0));
  });
  // static f of order k: mean and variance parts
  const fStats = (o: OrdLin, V: number[][]) => {
    const p = o.pop, P = L.pops[p];
    let mean = o.f0 + o.f1 * c[p];
    let varQ = 0;
    P.q.forEach((qq, j) => { const co = o.f1 * alpha[p][j] + (o.fq[j] ?? 0); mean += co * qq.mean; varQ += co * co * qq.var; });
    let varF = 0;
    beta[p].forEach((bb, e) => { varF += (o.f1 * bb) ** 2 * V[p][e]; });
    return { mean, second: mean * mean + varQ + varF };
  };
  // V = b + A V over all (p, e)
  const idx: [number, number][] = [];
  L.pops.forEach((P, p) => P.fields.forEach((_, e) => idx.push([p, e])));
  const nv = idx.length;
  const zeroV = () => L.pops.map((P) => P.fields.map(() => 0));
  const evalV = (V: number[][]) => idx.map(([p, e]) => {
    const f = L.pops[p].fields[e];
    let s = f.c0;
    for (const t of f.terms) s += t.w * fStats(ords.get(t.C)!, V).second;
    return s;
  });
  const b = evalV(zeroV());
  const A = idx.map(() => new Array(nv).fill(0));
  for (let k = 0; k < nv; k++) {
    const U = zeroV();
    U[idx[k][0]][idx[k][1]] = 1;
    const col = evalV(U);
    for (let i = 0; i < nv; i++) A[i][k] = col[i] - b[i];
  }
  const rhoStatic = spectralRadiusNonneg(A.map((r) => r.map(Math.abs)));
  let Vflat: number[] = [];
  if (nv) {
    const IA = A.map((r, i) => r.map((a, j) => (i === j ? 1 : 0) - a));
    const sol = solveDense(IA, b);
    if (Math.abs(1 - rhoStatic) <= MARGIN) {
      const err = new StationaryInstabilityError(`the static (zero-frequency) variances are marginal: loop gain ${rhoStatic.toPrecision(12)}, 1 within the solver's accuracy ${MARGIN}`, paramList(rd));
      err.kind = 'marginal';
      throw err;
    }
    if (!sol || sol.some((x) => !(x >= -1e-14 * (1 + Math.abs(x)))) || rhoStatic >= 1) {
      throw new StationaryInstabilityError(`the static (zero-frequency) variances have no nonnegative solution (loop gain ${fmt(rhoStatic)})`, paramList(rd));
    }
    Vflat = sol.map((x) => Math.max(0, x));
  }
  const V = zeroV();
  idx.forEach(([p, e], k) => { V[p][e] = Vflat[k]; });
  const vs = L.pops.map((_, p) => beta[p].reduce((s, bb, e) => s + bb * bb * V[p][e], 0));
  const M = new Map<string, number>();
  for (const o of rd.orders.values()) if (o.op.kind === 'M') M.set(o.op.name, fStats(ords.get(o.op.name)!, V).mean);
  return { c, alpha, beta, V, vs, M, rhoStatic };
}

/**
 * The frequency scale of the responses: the largest damping |a_p| of a
 * dynamic population and √|K·β| of its memory kernels (the rate they set when
 * the damping is small), at least 1. The frequency rules are laid out in
 * ω/ws, so a fast damping (k = 1000) is resolved like k = 1.
 */
function rateScale(L: LinModel): number {
  let w = 1;
  L.pops.forEach((P, p) => {
    if (!P.dynamic) return;
    w = Math.max(w, Math.abs(L.coefs[p].a));
    L.K[p].forEach((k, j) => { w = Math.max(w, Math.sqrt(Math.abs(k * L.beta[j]))); });
  });
  return Number.isFinite(w) ? w : 1;
}

function solveLinear(rd: SystemReading, pre: Pre, grid: TauGrid): StationaryResult {
  const popIndex = new Map(rd.pops.map((p, i) => [p.pop.name, i]));
  const pops = rd.pops.map((p, i) => buildPopLin(rd, p, pre.fields[i]));
  const ords = ordLin(rd, popIndex);
  const Mnames: string[] = [];
  for (const p of rd.pops) for (const m of p.means) if (!Mnames.includes(m.M)) Mnames.push(m.M);
  // the frequency scale: the fastest rate of the responses (a damping k moves the
  // spectrum's width and the response's phase to ω ~ k), never below 1
  const ws = rateScale(buildLinModel(rd, pops, ords, new Map(Mnames.map((n) => [n, 0]))));
  const coarse = omegaRule(ws, 1);

  // --- mean fields: Newton on M = Φ(M) (one pass when there are none) -----
  const evalAt = (u: number[]) => {
    const M = new Map(Mnames.map((n, i) => [n, u[i]]));
    const L = buildLinModel(rd, pops, ords, M);
    const sw = sweep(L, coarse.w, paramList(rd));
    checkSweep(rd, L, sw);
    const st = staticPart(rd, L, ords, sw);
    return { L, sw, st, next: Mnames.map((n) => st.M.get(n) ?? 0) };
  };
  let u = Mnames.map(() => 0);
  let cur = evalAt(u);
  let mIter = 0, mResidual = 0;
  if (Mnames.length) {
    for (mIter = 1; mIter <= 60; mIter++) {
      const r = cur.next.map((x, i) => x - u[i]);
      mResidual = Math.max(...r.map(Math.abs));
      if (mResidual <= 1e-14 * (1 + Math.max(...u.map(Math.abs)))) break;
      const n = u.length;
      const J = Array.from({ length: n }, () => new Array(n).fill(0));
      for (let j = 0; j < n; j++) {
        const h = 1e-6 * (1 + Math.abs(u[j]));
        const up = u.slice(); up[j] += h;
        const rp = evalAt(up).next.map((x, i) => x - up[i]);
        for (let i = 0; i < n; i++) J[i][j] = (rp[i] - r[i]) / h;
      }
      const step = solveDense(J, r.map((x) => -x));
      if (!step) throw new DmftError({ message: 'stationary solver: the mean-field equations are singular' });
      u = u.map((x, i) => x + step[i]);
      cur = evalAt(u);
    }
    if (mResidual > 1e-9 * (1 + Math.max(...u.map(Math.abs)))) throw new DmftError({ message: `stationary solver: the mean-field iteration did not converge (residual ${mResidual})` });
  }
  const { L, st } = cur;
  const np = pops.length;

  // --- C̃_p(0) = (1/π)∫ S_p dω, refined until two levels agree -------------
  const integrate = (rule: { w: Float64Array; wt: Float64Array }, done?: Sweep) => {
    const sw = done ?? sweep(L, rule.w, paramList(rd));
    checkSweep(rd, L, sw);
    return { I: L.pops.map((_, p) => { let s = 0; for (let i = 0; i < rule.w.length; i++) s += rule.wt[i] * sw.S[p][i]; return s; }), sw };
  };
  const noisy = L.src.some((s) => s > 0);
  let C0 = new Array(np).fill(0), C0err = new Array(np).fill(0);
  let level = 1, lastSweep = cur.sw, lastRule = coarse;
  if (noisy) {
    let prev = integrate(coarse, cur.sw);
    for (level = 2; level <= 128; level *= 2) {
      const rule = omegaRule(ws, level);
      const nx = integrate(rule);
      const diff = nx.I.map((x, p) => Math.abs(x - prev.I[p]));
      prev = nx; lastSweep = nx.sw; lastRule = rule;
      if (diff.every((d, p) => d <= 1e-13 * Math.abs(nx.I[p]) + 1e-300)) { C0err = diff; break; }
      C0err = diff;
    }
    C0 = prev.I;
    level = Math.min(level, 128);
  }

  // --- C̃_p(τ) on the grid --------------------------------------------------
  const Ctau = L.pops.map(() => new Float64Array(grid.tau.length));
  let tauNote = 'no fluctuating part';
  let tauGridError = 0;
  // (only two-time observables read C(τ): a slow mode makes its grid long)
  const twoTime = rd.observables.some((ob) => ob.def.times.length > 1);
  if (!twoTime) tauNote = 'not needed (no two-time observable)';
  if (noisy && twoTime) {
    // tail A_p = lim ω² S_p(ω), and the half width of the spectra
    const big = 1e6 * ws;
    const tail = sweep(L, [1e8 * ws, big], paramList(rd));
    const Atail = L.pops.map((_, p) => tail.S[p][1] * big * big);
    let wh = Infinity;
    const wgrid = lastRule.w, S = lastSweep.S;
    for (let p = 0; p < np; p++) {
      const s0 = S[p][wgrid.length - 1];
      if (!(s0 > 0)) continue;
      for (let i = wgrid.length - 1; i >= 0; i--) if (S[p][i] < s0 / 2) { wh = Math.min(wh, wgrid[i]); break; }
    }
    if (!Number.isFinite(wh)) wh = ws;
    const T = grid.tau[grid.tau.length - 1];
    const Lper = T + 60 / wh + 20;
    let dw = 2 * Math.PI / Lper;
    const Om = 400 * Math.max(ws, wh);
    let M = Math.ceil(Om / dw);
    const Mcap = 1 << 19;
    if (M > Mcap) { M = Mcap; dw = Om / M; }
    const ws2: number[] = [1e8 * ws, 1e6 * ws, 1e4 * ws];
    for (let j = M; j >= 0; j--) ws2.push(j * dw);
    const sw = sweep(L, ws2, paramList(rd));
    checkSweep(rd, L, sw);
    const off = 3;
    const nt = grid.tau.length;
    const dtau = nt > 1 ? grid.tau[1] - grid.tau[0] : 0;
    for (let p = 0; p < np; p++) {
      const out = Ctau[p];
      const Ap = Atail[p];
      // trapezoid: (dω/π)[½ S_rem(0) + Σ_{j≥1} S_rem(ω_j) cos(ω_j τ)] + A e^{−τ}/2
      for (let j = 0; j <= M; j++) {
        const w = j * dw;
        const srem = sw.S[p][off + (M - j)] - Ap / (w * w + 1);
        const wt = (j === 0 ? 0.5 : 1) * dw / Math.PI * srem;
        if (wt === 0) continue;
        // cos(k θ) by the Chebyshev recurrence
        const c1 = Math.cos(w * dtau);
        let cm = 1, cc = c1;
        out[0] += wt;
        if (nt > 1) out[1] += wt * c1;
        for (let k = 2; k < nt; k++) { const cn = 2 * c1 * cc - cm; cm = cc; cc = cn; out[k] += wt * cn; }
      }
      for (let k = 0; k < nt; k++) out[k] += Ap * Math.exp(-grid.tau[k]) / 2;
      tauGridError = Math.max(tauGridError, Math.abs(out[0] - C0[p]));
    }
    tauNote = `trapezoid cosine sum, ${M + 1} frequencies, dω = ${fmt(dw)}, period ${fmt(2 * Math.PI / dw)}`;
  }

  // --- laws and observables --------------------------------------------------
  const laws = new Map<string, PopLaw>();
  const lawsPert = [new Map<string, PopLaw>()];
  pops.forEach((P, p) => {
    const law: PopLaw = { mean0: st.c[p], alpha: st.alpha[p], q: P.q, vs: st.vs[p], C0: C0[p], Ctau: Ctau[p] };
    laws.set(P.r.pop.name, law);
    lawsPert[0].set(P.r.pop.name, { ...law, C0: C0[p] + C0err[p] });
  });
  const { limit, tau } = evalObservables(rd, laws, grid, true);
  const pert = lawsPert.map((lw) => evalObservables(rd, lw, grid, false).limit);
  const limitError = observableErrors(limit, pert);
  // rounding floor: 1e-14 relative; 1e-13 for averages of non-polynomial bodies, whose value
  // amplifies the rounding of the law (E e^{aX} moves by a²/2·δVar X)
  const smoothSlots = (av: ObservableReading['averages'][number]) => degree(av.body, (y) => y.k === 'sym' && av.slots.includes(y.name));
  const floorOf = new Map(rd.observables.map((ob) => [ob.def.name, ob.averages.some((av) => !Number.isFinite(smoothSlots(av))) ? 1e-13 : 1e-14]));
  for (const k of Object.keys(limitError)) limitError[k] = Math.max(limitError[k], (floorOf.get(k) ?? 1e-14) * Math.abs(limit[k]));

  const diagnostics: Record<string, number | string | boolean> = {
    method: 'stationary (frequency domain, linear)',
    regime: 'linear',
    loopGainMax: Math.max(cur.sw.rhoMax, lastSweep.rhoMax),
    loopGainStatic: st.rhoStatic,
    quadratureLevel: level,
    tau: tauNote,
    tauGridErrorAt0: tauGridError,
    meanFieldIterations: mIter,
  };
  pops.forEach((P, p) => {
    const v = P.r.pop.variable;
    diagnostics[`C0fluct[${v}]`] = C0[p];
    diagnostics[`C0fluctError[${v}]`] = C0err[p];
    diagnostics[`staticVar[${v}]`] = st.vs[p];
    diagnostics[`staticMean[${v}]`] = st.c[p];
  });
  L.Rn.forEach((n, j) => { diagnostics[`chi0[${n}]`] = cur.sw.R0.re[j]; });
  for (const [n, v] of st.M) diagnostics[`M[${n}]`] = v;
  return { limit, limitError, tau, diagnostics };
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
      let lo = x0, hi = x1, glo = g0;
      for (let it = 0; it < 200 && hi - lo > 1e-16 * D0; it++) {
        const mid = (lo + hi) / 2, gm = G(mid);
        if (gm * glo > 0) { lo = mid; glo = gm; } else hi = mid;
      }
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

function solveNonlinearFrom(rd: SystemReading, pre: Pre, grid: TauGrid, muStart?: number): StationaryOutcome {
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
    const d = init.dist;
    if (d.kind === 'normal') mu0 = constantValue(d.mean, rd.params) ?? 0;
    else if (d.kind === 'uniform') mu0 = ((constantValue(d.lo, rd.params) ?? 0) + (constantValue(d.hi, rd.params) ?? 0)) / 2;
  }
  const kinked = Cs.some((C) => C.kinks.length > 0) || Ms.some((M) => M.kinks.length > 0);
  if (muStart !== undefined) mu0 = muStart;
  const m: NLModel = { a, Dn, c0, Cs, h: (Mv) => P.F(vAt(Mv)), Ms, mu0, kinked };
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
    const { limit, tau } = evalObservables(rd, laws, grid, true);
    const check = evalObservables(rd, new Map([[P.pop.name, { mean0: fpCheck.mu, alpha: [], q: [], vs: fpCheck.q, C0: 0 } as PopLaw]]), grid, false).limit;
    const limitError: Record<string, number> = table();
    for (const k of Object.keys(limit)) limitError[k] = Math.abs(limit[k] - check[k]) + 1e-12 * (Math.abs(limit[k]) + 1 + q + mu * mu);
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
  const { limit, tau } = evalObservables(rd, laws, grid, true);
  const alt = trial(m, D0 + shift, mu0, finer);
  const lawAlt = new Map([[P.pop.name, { mean0: alt.mu, alpha: [], q: [], vs: alt.q, C0: alt.D0 - alt.q } as PopLaw]]);
  const limitAlt = evalObservables(rd, lawAlt, grid, false).limit;
  const limitError: Record<string, number> = table();
  // (rounding floor on the scale of the state: an observable that vanishes by symmetry is 0 ± that)
  for (const k of Object.keys(limit)) limitError[k] = Math.abs(limit[k] - limitAlt[k]) + 1e-12 * (Math.abs(limit[k]) + 1 + D0 + mu * mu);
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
