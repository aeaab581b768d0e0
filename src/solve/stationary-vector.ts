// Stationary state of linear single-site processes, frequency domain: the
// stationary solver's linear regime for sites of any number of variables (a
// scalar site is the case V = 1; there is no second path). A population's site
// carries variables x = (x_1 … x_V) (states and lets) with
//   s_a x_a = h_a + Σ_b A_ab x_b + Σ_e B_ae η_e + Σ_n c_an ξ_n + Σ_j d_aj q_j + Σ_k E_ak m_k,
// s_a = iω for a state, 1 for a let, m_k = ∫ R_k(t,s) g_k(s) ds a memory
// integral with g_k = g0 + g1·x + gq·q. At frequency ω the response of the
// site is the matrix χ(ω) = D(ω)⁻¹,
//   D(ω) = diag(s) − A − Σ_k E_k R_k(ω) g1_kᵀ,
// and a response order parameter R[f|η](ω) = f1ᵀ χ(ω) B_η closes the kernels:
// R(ω) is followed from large ω down to ω = 0 by Newton continuation (the
// causal root). The fluctuation spectra are matrices,
//   S_x(ω) = χ (B S_η B^T + c diag(D_noise) c^T) χ^†,
// with the field cross-spectra S_η[e,e'] linear in the spectra of the C
// order parameters, S_C[f,g] = f1ᵀ S_x g1 (conjugated where the covariance is
// written at (s, t)): a linear system in those spectra at each ω. The static
// (ω = 0, δ-function) part — quenched inputs, constant drives, mean fields —
// is x = c + α q + β η_s with static fields of covariance linear in the static
// correlations, closed exactly. Cov(x) = α Var(q) αᵀ + β V_s βᵀ + (1/π)∫₀^∞ Re S_x dω;
// two-time observables read C(τ) = (1/π)∫₀^∞ Re(S_x e^{iωτ}) dω on the lag grid.
//
// Stability: det D(ω) must not wind into the unstable half plane (a stable
// site with n states turns by −nπ/2 from ω = ∞ to 0), det D(0) ≠ 0 and no
// pole of R at ω = 0 (else a zero-frequency mode: the limit depends on the
// initial condition; marginal with noise), no branch point at ω = 0 (a
// stability edge: marginal), R(0) real, and the loop gain (spectral radius of the
// spectra's linear map) below 1 at every ω and at ω = 0 for the static part.
// Nothing here knows any particular model.
import { DmftError } from '../errors.ts';
import { some, type Expr } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import { constantValue } from '../expr/eval.ts';
import { complexInverse, complexSolveInPlace, solveDense } from '../numeric/linalg.ts';
import { siteAverage } from './site-average.ts';
import type { PopReading, SystemReading } from './read.ts';
import { StationaryInstabilityError, type StationaryOutcome, type StationaryResult } from './stationary-result.ts';
import { gaussLegendre } from '../numeric/rules.ts';
import { table } from '../table.ts';

const MARGIN = 1e-7;
const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(6)));

/** A covariance written as Σ w·C_k(t,s) (or C_k(s,t): swapped) + c0. */
export interface CovTerms { terms: { C: string; w: number; swapped: boolean }[]; c0: number }

interface Aff { f0: number; f1: Float64Array; fq: Float64Array }

interface VPop {
  r: PopReading;
  V: number; F: number; Q: number;
  dyn: boolean[];
  A: Float64Array; // V×V
  B: Float64Array; // V×F
  N: Float64Array; // V×V noise covariance c diag(D) cᵀ
  Dq: Float64Array; // V×Q
  h: Float64Array;
  /** memory integrals: kernel index into Rn, coefficient per variable, affine g, slot name */
  mem: { R: number; E: Float64Array; g: Aff; slot: string }[];
  q: { mean: number; var: number }[];
  /** field covariances: [e][e'] (e ≤ e'), undefined = independent */
  cov: (CovTerms | undefined)[][];
}

interface VOrd { name: string; kind: 'C' | 'M' | 'R'; pop: number; f: Aff; g: Aff; slot: number }

interface VModel {
  pops: VPop[];
  ords: Map<string, VOrd>;
  /** response kernels used by memory terms */
  Rn: string[];
  /** correlations used by field covariances */
  Cn: string[];
  params: Record<string, number>;
}

function num(e: Expr, params: Record<string, number>, what: string): number {
  const v = constantValue(e, params);
  if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
  return v;
}

function affine(F: (v: Float64Array) => number, V: number, Q: number): Aff {
  const z = new Float64Array(V + Q);
  const f0 = F(z);
  const f1 = new Float64Array(V), fq = new Float64Array(Q);
  for (let a = 0; a < V + Q; a++) { z.fill(0); z[a] = 1; const d = F(z) - f0; if (a < V) f1[a] = d; else fq[a - V] = d; }
  return { f0, f1, fq };
}

const isSym = (e: Expr, name: string) => e.k === 'sym' && e.name === name;

/** A population's field covariances as C terms, upper triangle (cov[a][b], a ≤ b, is ⟨η_a(t) η_b(s)⟩), or why not. */
export function fieldCovariances(p: SystemReading['pops'][number], rd: SystemReading): (CovTerms | undefined)[][] | string {
  const F = p.fields.length;
  const cov: (CovTerms | undefined)[][] = Array.from({ length: F }, () => new Array<CovTerms | undefined>(F).fill(undefined));
  for (let e = 0; e < F; e++) {
    const c = parseCov(p.pop.fields[e].cov, rd);
    if (typeof c === 'string') return `population ${p.name}, field ${p.fields[e]}: ${c}`;
    cov[e][e] = c;
  }
  for (const x of p.cross) {
    const c = parseCov(x.cov, rd);
    if (typeof c === 'string') return `population ${p.name}, fields ${p.fields[x.a]} and ${p.fields[x.b]}: ${c}`;
    if (x.a < x.b) cov[x.a][x.b] = c;
    else cov[x.b][x.a] = { c0: c.c0, terms: c.terms.map((t) => ({ ...t, swapped: !t.swapped })) };
  }
  return cov;
}

/** Parse a field covariance as an affine combination of C order parameters at (t, s) or (s, t). */
export function parseCov(cov: Expr, rd: SystemReading): CovTerms | string {
  const found: { C: string; swapped: boolean }[] = [];
  let bad: string | undefined;
  some(cov, (x) => {
    if (x.k !== 'op') return false;
    const o = rd.orders.get(x.name);
    const ts = x.args.length === 2 && isSym(x.args[0], 't') && isSym(x.args[1], 's');
    const st = x.args.length === 2 && isSym(x.args[0], 's') && isSym(x.args[1], 't');
    if (!o || o.op.kind !== 'C' || !(ts || st)) bad ??= `covariance term ${print(x)} is not a correlation C(t,s) of an order parameter`;
    else if (!found.some((f) => f.C === x.name && f.swapped === st)) found.push({ C: x.name, swapped: st });
    return false;
  });
  if (bad) return bad;
  if (some(mapOps(cov, () => 0), (x) => x.k === 'sym' && (x.name === 't' || x.name === 's'))) return `the covariance ${print(cov)} depends explicitly on time`;
  // evaluate with each op replaced by a number: affine ⇒ weights by unit probes
  const key = (x: Expr & { k: 'op' }) => found.findIndex((f) => f.C === x.name && f.swapped === isSym(x.args[0], 's'));
  const evalAt = (vals: number[]): number => {
    const e = mapOps(cov, (x) => vals[key(x)]);
    return num(e, rd.params, 'a field covariance');
  };
  const zero = found.map(() => 0);
  const c0 = evalAt(zero);
  const terms = found.map((f, i) => { const u = zero.slice(); u[i] = 1; return { ...f, w: evalAt(u) - c0 }; });
  // affine check: a probe at 2 must double
  const two = found.map(() => 2);
  if (Math.abs(evalAt(two) - c0 - 2 * terms.reduce((s, t) => s + t.w, 0)) > 1e-9 * (1 + Math.abs(c0) + terms.reduce((s, t) => s + Math.abs(t.w), 0))) return `the covariance ${print(cov)} is not linear in the correlations`;
  return { terms, c0 };
}

function mapOps(e: Expr, val: (x: Expr & { k: 'op' }) => number): Expr {
  const rec = (x: Expr): Expr => {
    if (x.k === 'op') return { k: 'num', v: val(x) };
    const out: Record<string, unknown> = { ...x };
    for (const [k, v] of Object.entries(x)) {
      if (Array.isArray(v)) out[k] = v.map((y) => (y && typeof y === 'object' && 'k' in y ? rec(y as Expr) : y));
      else if (v && typeof v === 'object' && 'k' in v) out[k] = rec(v as Expr);
    }
    return out as Expr;
  };
  return rec(e);
}

/** Why this solver does not apply (undefined if it does). */
function unsupported(rd: SystemReading): string | undefined {
  if (!rd.linear) return 'a vector single-site process with a nonlinear right-hand side or order-parameter function: the frequency-domain solver needs every equation and order-parameter function affine';
  for (const p of rd.pops) {
    for (const v of p.variables) {
      if (some(v.rhs, (x) => isSym(x, 't'))) return `population ${p.name}: the equation of '${v.name}' depends explicitly on time, so no time-translation-invariant state`;
      if (v.kind === 'algebraic' && p.noises.some((n) => v.dF[n.name] && v.dF[n.name](new Float64Array(p.slots.length)) !== 0)) return `population ${p.name}: white noise enters the algebraic '${v.name}' directly (infinite variance)`;
    }
  }
  return undefined;
}

function buildModel(rd: SystemReading): VModel | string {
  const why = unsupported(rd);
  if (why) return why;
  const popIndex = new Map(rd.pops.map((p, i) => [p.name, i]));
  const ords = new Map<string, VOrd>();
  for (const [name, o] of rd.orders) {
    const pi = popIndex.get(o.op.pop)!;
    const p = rd.pops[pi];
    const V = p.variables.length, Q = p.quenched.length;
    const f = affine(o.F, V, Q);
    const g = o.g ? affine(o.g.F, V, Q) : f;
    const slot = o.op.kind === 'R' ? p.fields.indexOf(o.op.slot ?? '') : -1;
    if (o.op.kind === 'R' && slot < 0) return `response ${name}: its slot '${o.op.slot}' is not a field of population ${o.op.pop}`;
    ords.set(name, { name, kind: o.op.kind, pop: pi, f, g, slot });
  }
  const Rn: string[] = [], Cn: string[] = [];
  const pops: VPop[] = [];
  for (const p of rd.pops) {
    const V = p.variables.length, F = p.fields.length, Q = p.quenched.length;
    const mem = p.memory.map((m) => {
      if (!Rn.includes(m.R)) Rn.push(m.R);
      return { R: Rn.indexOf(m.R), E: new Float64Array(V), g: affine(m.gF, V, Q), slot: m.slot };
    });
    const cov = fieldCovariances(p, rd);
    if (typeof cov === 'string') return cov;
    for (const row of cov) for (const c of row) for (const t of c?.terms ?? []) if (!Cn.includes(t.C)) Cn.push(t.C);
    const q = p.quenched.map((qq) => {
      const d = qq.input.dist as Extract<typeof qq.input.dist, { kind: 'normal' }>;
      return { mean: num(d.mean, rd.params, `the mean of ${qq.name}`), var: num(d.var, rd.params, `the variance of ${qq.name}`) };
    });
    pops.push({
      r: p, V, F, Q, dyn: p.variables.map((v) => v.kind === 'dynamic'),
      A: new Float64Array(V * V), B: new Float64Array(V * F), N: new Float64Array(V * V), Dq: new Float64Array(V * Q), h: new Float64Array(V),
      mem, q, cov,
    });
  }
  const params: Record<string, number> = table();
  for (const k of Object.keys(rd.sys.params)) params[k] = rd.params[k] ?? rd.sys.params[k];
  return { pops, ords, Rn, Cn, params };
}

/** Fill the coefficients of every population at the mean-field values M. */
function setCoefficients(m: VModel, M: Map<string, number>): void {
  for (const P of m.pops) {
    const p = P.r;
    const v = new Float64Array(p.slots.length);
    const idx = new Map(p.slots.map((s, i) => [s, i]));
    for (const x of p.means) v[idx.get(x.slot)!] = M.get(x.M) ?? 0;
    P.N.fill(0);
    p.variables.forEach((vr, a) => {
      const d = (s: string) => (vr.dF[s] ? vr.dF[s](v) : 0);
      P.h[a] = vr.F(v);
      for (let b = 0; b < P.V; b++) P.A[a * P.V + b] = d(p.variables[b].name);
      for (let e = 0; e < P.F; e++) P.B[a * P.F + e] = d(p.fields[e]);
      for (let j = 0; j < P.Q; j++) P.Dq[a * P.Q + j] = d(p.quenched[j].name);
      for (const mm of P.mem) mm.E[a] = d(mm.slot);
    });
    // c diag(D) cᵀ
    for (const n of p.noises) {
      const c = p.variables.map((vr) => (vr.dF[n.name] ? vr.dF[n.name](v) : 0));
      for (let a = 0; a < P.V; a++) for (let b = 0; b < P.V; b++) P.N[a * P.V + b] += c[a] * c[b] * n.D;
    }
  }
}

// ---- small complex matrices (row-major re, im) ---------------------------------

interface CM { re: Float64Array; im: Float64Array }
const cm = (n: number, m = n): CM => ({ re: new Float64Array(n * m), im: new Float64Array(n * m) });

/** Inverse and determinant of an n×n complex matrix (Gauss–Jordan with partial pivoting); undefined if singular. */

/** uᵀ M w for real vectors u, w and complex M (n×m). */
function bil(M: CM, n: number, m: number, u: ArrayLike<number>, w: ArrayLike<number>): [number, number] {
  let re = 0, im = 0;
  for (let a = 0; a < n; a++) { if (u[a] === 0) continue; for (let b = 0; b < m; b++) { const x = u[a] * w[b]; re += x * M.re[a * m + b]; im += x * M.im[a * m + b]; } }
  return [re, im];
}

// ---- responses -------------------------------------------------------------------

interface RState { re: Float64Array; im: Float64Array }

/** D_p(ω) and its inverse for every population, given the kernels. */
function responses(m: VModel, w: number, R: RState): { D: CM; inv: CM; detRe: number; detIm: number }[] | undefined {
  const out: { D: CM; inv: CM; detRe: number; detIm: number }[] = [];
  for (const P of m.pops) {
    const V = P.V, D = cm(V);
    for (let a = 0; a < V; a++) {
      for (let b = 0; b < V; b++) D.re[a * V + b] = -P.A[a * V + b];
      if (P.dyn[a]) D.im[a * V + a] += w; else D.re[a * V + a] += 1;
    }
    for (const mm of P.mem) {
      const rr = R.re[mm.R], ri = R.im[mm.R];
      for (let a = 0; a < V; a++) {
        if (mm.E[a] === 0) continue;
        for (let b = 0; b < V; b++) { const x = mm.E[a] * mm.g.f1[b]; D.re[a * V + b] -= x * rr; D.im[a * V + b] -= x * ri; }
      }
    }
    const c = complexInverse(V, D.re, D.im);
    if (!c) return undefined;
    out.push({ D, inv: { re: c.re, im: c.im }, detRe: c.detRe, detIm: c.detIm });
  }
  return out;
}

/** The column B[:, e] of population P. */
const bcol = (P: VPop, e: number) => Float64Array.from({ length: P.V }, (_, a) => P.B[a * P.F + e]);

/** Newton on H_m = R_m − f_mᵀ χ_p B_m at frequency w (R updated in place). */
function newtonR(m: VModel, w: number, R: RState): boolean {
  const n = m.Rn.length;
  if (n === 0) return true;
  const Jr = new Float64Array(n * n), Ji = new Float64Array(n * n), br = new Float64Array(n), bi = new Float64Array(n);
  for (let it = 0; it < 60; it++) {
    const rs = responses(m, w, R);
    if (!rs) return false;
    Jr.fill(0); Ji.fill(0);
    let rn = 0;
    for (let k = 0; k < n; k++) {
      const o = m.ords.get(m.Rn[k])!, P = m.pops[o.pop], inv = rs[o.pop].inv, V = P.V;
      const b = bcol(P, o.slot);
      const [vr, vi] = bil(inv, V, V, o.f.f1, b);
      br[k] = -(R.re[k] - vr); bi[k] = -(R.im[k] - vi);
      rn += R.re[k] ** 2 + R.im[k] ** 2;
      Jr[k * n + k] += 1;
      // ∂(fᵀ D⁻¹ b)/∂R_j = Σ_mem (fᵀ D⁻¹ E)(g1ᵀ D⁻¹ b)
      for (const mm of P.mem) {
        const [ur, ui] = bil(inv, V, V, o.f.f1, mm.E);
        const [zr, zi] = bil(inv, V, V, mm.g.f1, b);
        Jr[k * n + mm.R] -= ur * zr - ui * zi;
        Ji[k * n + mm.R] -= ur * zi + ui * zr;
      }
    }
    if (!complexSolveInPlace(n, Jr, Ji, br, bi)) return false;
    let dn = 0;
    for (let k = 0; k < n; k++) { R.re[k] += br[k]; R.im[k] += bi[k]; dn += br[k] ** 2 + bi[k] ** 2; }
    if (!Number.isFinite(dn)) return false;
    if (dn <= 1e-30 * (rn + 1e-280)) return true;
  }
  return false;
}

/**
 * Spectral radius of a small real matrix, as lim ‖Tⁿ‖^{1/n} by repeated
 * squaring (n = 2⁴⁸, renormalized at each squaring, in logarithms). Unlike an
 * eigenvalue iteration it always terminates: ml-matrix's QR iteration never
 * returned on a reducible 8×8 gain matrix with entries from 1e-10 to 2e9 (the
 * random-features model at α = 0.5 near ω = 0). A Jordan block of size j
 * biases the estimate by ~j·33/2⁴⁸ relative: far below the marginal tolerance.
 */
function spectralRadius(T: number[][]): number {
  const n = T.length;
  if (!n) return 0;
  if (!T.every((row) => row.every(Number.isFinite))) return Infinity;
  if (n === 1) return Math.abs(T[0][0]);
  if (n === 2) {
    // the eigenvalues of a 2×2 matrix in closed form (one correlation spectrum: its real and imaginary part)
    const tr = T[0][0] + T[1][1], det = T[0][0] * T[1][1] - T[0][1] * T[1][0], disc = tr * tr / 4 - det;
    return disc >= 0 ? Math.abs(tr / 2) + Math.sqrt(disc) : Math.sqrt(Math.max(0, det));
  }
  let M = T.map((row) => Float64Array.from(row));
  let logScale = 0;
  const SQUARINGS = 48;
  for (let k = 0; k < SQUARINGS; k++) {
    const P = Array.from({ length: n }, () => new Float64Array(n));
    let big = 0;
    for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) {
      const mac = M[a][c];
      if (mac === 0) continue;
      for (let b = 0; b < n; b++) P[a][b] += mac * M[c][b];
    }
    for (const row of P) for (const x of row) big = Math.max(big, Math.abs(x));
    if (big === 0 || !Number.isFinite(big)) return big === 0 ? 0 : Infinity;
    for (const row of P) for (let b = 0; b < n; b++) row[b] /= big;
    // M_{k+1} = M_k² / big, so ln‖T^{2^{k+1}}‖ = 2·(ln‖T^{2^k}‖) + ln big
    logScale = 2 * logScale + Math.log(big);
    M = P;
  }
  return Math.exp(logScale / 2 ** SQUARINGS);
}

interface Sweep {
  /** per population, per frequency: Re S_x and Im S_x (V×V) */
  S: Float64Array[][];
  Si: Float64Array[][];
  rhoMax: number; rhoArg: number;
  R0: RState;
  D0: { D: CM; inv: CM; detRe: number; detIm: number }[];
  dphase: Float64Array; phase0: Float64Array;
}

/** Per population p: the spectral matrix S_x given the correlation spectra s (complex, per Cn). */
function spectraOf(m: VModel, rs: { inv: CM }[], sr: Float64Array, si: Float64Array, withNoise: boolean): CM[] {
  return m.pops.map((P, p) => {
    const V = P.V, F = P.F, chi = rs[p].inv;
    // S_η (F×F Hermitian)
    const Se = cm(F);
    for (let e = 0; e < F; e++) for (let e2 = e; e2 < F; e2++) {
      const c = P.cov[e][e2];
      if (!c) continue;
      let re = 0, im = 0;
      for (const t of c.terms) { const k = m.Cn.indexOf(t.C); re += t.w * sr[k]; im += t.w * (t.swapped ? -si[k] : si[k]); }
      Se.re[e * F + e2] = re; Se.im[e * F + e2] = im;
      if (e2 !== e) { Se.re[e2 * F + e] = re; Se.im[e2 * F + e] = -im; }
    }
    // input spectrum B S_η Bᵀ + N
    const In = cm(V);
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
      let re = withNoise ? P.N[a * V + b] : 0, im = 0;
      for (let e = 0; e < F; e++) { const x = P.B[a * F + e]; if (x === 0) continue; for (let e2 = 0; e2 < F; e2++) { const y = x * P.B[b * F + e2]; re += y * Se.re[e * F + e2]; im += y * Se.im[e * F + e2]; } }
      In.re[a * V + b] = re; In.im[a * V + b] = im;
    }
    // χ In χ^†
    const T = cm(V), S = cm(V);
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
      let re = 0, im = 0;
      for (let c = 0; c < V; c++) { const xr = chi.re[a * V + c], xi = chi.im[a * V + c], yr = In.re[c * V + b], yi = In.im[c * V + b]; re += xr * yr - xi * yi; im += xr * yi + xi * yr; }
      T.re[a * V + b] = re; T.im[a * V + b] = im;
    }
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
      let re = 0, im = 0;
      // (χ^†)_cb = conj(χ_bc)
      for (let c = 0; c < V; c++) { const xr = T.re[a * V + c], xi = T.im[a * V + c], yr = chi.re[b * V + c], yi = -chi.im[b * V + c]; re += xr * yr - xi * yi; im += xr * yi + xi * yr; }
      S.re[a * V + b] = re; S.im[a * V + b] = im;
    }
    return S;
  });
}

/** Correlation spectra s_C = f1ᵀ S_x g1 of the Cn order parameters. */
function corrSpectra(m: VModel, S: CM[]): [Float64Array, Float64Array] {
  const n = m.Cn.length, re = new Float64Array(n), im = new Float64Array(n);
  m.Cn.forEach((c, k) => { const o = m.ords.get(c)!; const V = m.pops[o.pop].V; [re[k], im[k]] = bil(S[o.pop], V, V, o.f.f1, o.g.f1); });
  return [re, im];
}

function sweep(m: VModel, omegas: ArrayLike<number>): Sweep {
  const zeroScale = rateScale(m);
  const nw = omegas.length, np = m.pops.length, nc = m.Cn.length;
  const S = m.pops.map(() => [] as Float64Array[]), Si = m.pops.map(() => [] as Float64Array[]);
  const R: RState = { re: new Float64Array(m.Rn.length), im: new Float64Array(m.Rn.length) };
  // large-ω start: fixed-point iteration from 0, then Newton
  for (let it = 0; it < 100; it++) {
    const rs = responses(m, omegas[0], R);
    if (!rs) break;
    m.Rn.forEach((name, k) => { const o = m.ords.get(name)!; const P = m.pops[o.pop]; [R.re[k], R.im[k]] = bil(rs[o.pop].inv, P.V, P.V, o.f.f1, bcol(P, o.slot)); });
  }
  if (!newtonR(m, omegas[0], R)) throw new StationaryInstabilityError(`the response equations have no solution even at large frequency ω = ${fmt(omegas[0])}`, m.params);
  const phase = new Float64Array(np), phase0 = new Float64Array(np), dphase = new Float64Array(np);
  let rhoMax = 0, rhoArg = omegas[0];
  let prevW = omegas[0];
  // Newton attempts of one continuation step: bisection can branch (both halves
  // failing near a branch point), so the total is bounded, not only the depth
  let attempts = 0;
  // accepted frequencies and |R| there: how R grows toward the point where the causal root is lost
  const trail: { w: number; r: number }[] = [];
  const advance = (from: number, to: number, depth: number): void => {
    if (depth === 0) attempts = 0;
    const save = { re: R.re.slice(), im: R.im.slice() };
    if (newtonR(m, to, R)) { if (to > 0) trail.push({ w: to, r: Math.hypot(...R.re, ...R.im) }); return; }
    R.re.set(save.re); R.im.set(save.im);
    if (depth > 40 || ++attempts > 400) {
      const err = new StationaryInstabilityError(`the response equations lose their causal solution near ω = ${fmt(to)} (a zero-frequency mode, or a branch point on the real axis)`, m.params);
      // lost only near ω = 0: a pole or a branch point of the responses reaches zero frequency
      if (to < 1e-2 * zeroScale) {
        err.kind = 'zero-mode';
        // R ~ ω^s on the last decade: a pole (s = −1) is a zero mode, which keeps part of the
        // initial condition; a weaker growth (a branch point, e.g. a spectrum edge touching 0,
        // R ~ ω^(−1/2)) is a stability edge: the state relaxes algebraically, no stationary value
        const last = trail[trail.length - 1];
        const before = last && [...trail].reverse().find((x) => x.w >= 10 * last.w);
        const slope = last && before ? Math.log(last.r / before.r) / Math.log(last.w / before.w) : -1;
        if (slope > -0.8) {
          const edge = new StationaryInstabilityError(`the state is marginal: the responses have a branch point at zero frequency (R grows like ω^${slope.toFixed(2)} toward ω = 0, the causal solution is lost near ω = ${fmt(to)}), so the state relaxes algebraically`, m.params, 'at a stability edge there is no stationary value; the transient shows how the state approaches or grows');
          edge.kind = 'marginal';
          throw edge;
        }
      }
      throw err;
    }
    const mid = from > 0 && to > 0 ? Math.sqrt(from * to) : (from + to) / 2;
    advance(from, mid, depth + 1);
    advance(mid, to, depth + 1);
  };
  let rs = responses(m, omegas[0], R)!;
  const zr = new Float64Array(nc), zi = new Float64Array(nc);
  for (let i = 0; i < nw; i++) {
    const w = omegas[i];
    if (i > 0) advance(prevW, w, 0);
    prevW = w;
    const r = responses(m, w, R);
    if (!r) {
      const err = new StationaryInstabilityError(`a site's response matrix D(ω) is singular at ω = ${fmt(w)}`, m.params);
      if (w === 0) err.kind = 'zero-mode';
      throw err;
    }
    rs = r;
    for (let p = 0; p < np; p++) {
      const ph = Math.atan2(rs[p].detIm, rs[p].detRe);
      if (i === 0) { phase[p] = ph; phase0[p] = ph; }
      else {
        let d = ph - phase[p];
        d = ((d + Math.PI) % (2 * Math.PI) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
        dphase[p] += d; phase[p] = ph;
      }
    }
    // the affine map s ↦ T s + u of the correlation spectra, as a real 2nc map
    let Sx: CM[];
    if (nc === 0) Sx = spectraOf(m, rs, zr, zi, true);
    else {
      const [ur, ui] = corrSpectra(m, spectraOf(m, rs, zr, zi, true));
      const T = Array.from({ length: 2 * nc }, () => new Array<number>(2 * nc).fill(0));
      for (let j = 0; j < 2 * nc; j++) {
        const er = new Float64Array(nc), ei = new Float64Array(nc);
        if (j < nc) er[j] = 1; else ei[j - nc] = 1;
        const [tr, ti] = corrSpectra(m, spectraOf(m, rs, er, ei, false));
        for (let k = 0; k < nc; k++) { T[k][j] = tr[k]; T[nc + k][j] = ti[k]; }
      }
      const rho = spectralRadius(T);
      if (rho > rhoMax) { rhoMax = rho; rhoArg = w; }
      const IT = T.map((row, a) => row.map((x, b) => (a === b ? 1 : 0) - x));
      const s = rho < 1 ? solveDense(IT, [...ur, ...ui]) : undefined;
      Sx = spectraOf(m, rs, Float64Array.from(s ? s.slice(0, nc) : zr), Float64Array.from(s ? s.slice(nc) : zi), true);
      if (!s) for (const X of Sx) { X.re.fill(0); X.im.fill(0); }
    }
    for (let p = 0; p < np; p++) { S[p].push(Sx[p].re.slice()); Si[p].push(Sx[p].im.slice()); }
  }
  return { S, Si, rhoMax, rhoArg, R0: R, D0: rs, dphase, phase0 };
}

function checkSweep(m: VModel, sw: Sweep): void {
  m.Rn.forEach((name, j) => {
    const re = sw.R0.re[j], im = sw.R0.im[j];
    if (!Number.isFinite(re) || Math.abs(im) > 1e-7 * (Math.abs(re) + 1e-12)) throw new StationaryInstabilityError(`the static response ${name}(ω=0) is not real (${fmt(re)} + ${fmt(im)}i): the response spectrum reaches zero frequency`, m.params);
  });
  m.pops.forEach((P, p) => {
    const d = sw.D0[p], V = P.V;
    const names = P.r.variables.map((v) => v.name).join(', ');
    // |det D(0)| against the product of its rows' norms: a vanishing determinant is a zero mode
    let scale = 1;
    for (let a = 0; a < V; a++) { let s = 0; for (let b = 0; b < V; b++) s += d.D.re[a * V + b] ** 2 + d.D.im[a * V + b] ** 2; scale *= Math.sqrt(s); }
    if (!(Math.hypot(d.detRe, d.detIm) > 1e-10 * scale)) {
      const err = new StationaryInstabilityError(`the site of population ${P.r.name} (${names}) has a zero-frequency mode (det D(0) = ${fmt(d.detRe)} vanishes): part of the initial condition is never forgotten`, m.params);
      err.kind = 'zero-mode';
      throw err;
    }
    const nd = P.dyn.filter(Boolean).length;
    // from ω = ∞ (det D ~ (iω)^nd · const) to ω = 0 a stable site turns by −nd·π/2
    const atInf = nd * Math.PI / 2 + Math.PI * Math.round((sw.phase0[p] - nd * Math.PI / 2) / Math.PI);
    const winding = sw.dphase[p] + (sw.phase0[p] - atInf);
    if (Math.abs(winding + nd * Math.PI / 2) > 0.5) {
      throw new StationaryInstabilityError(`the response of population ${P.r.name} (${names}) has a mode in the unstable half plane (det D turns by ${fmt(winding)} from ω = ∞ to 0, a stable site by ${fmt(-nd * Math.PI / 2)})`, m.params);
    }
  });
  if (Math.abs(1 - sw.rhoMax) <= MARGIN) {
    const err = new StationaryInstabilityError(`the state is marginal: the loop gain of the fluctuations reaches ${sw.rhoMax.toPrecision(12)} at ω = ${fmt(sw.rhoArg)}, 1 within the solver's accuracy ${MARGIN}`, m.params, 'at a stability edge the stationary variance is not finite; the transient shows how it grows');
    err.kind = 'marginal';
    throw err;
  }
  if (sw.rhoMax >= 1) {
    // what the gain is, in the words of the site: K·v·|χ(ω)|² for one variable and one field
    const scalar = m.pops.every((P) => P.V === 1 && P.F <= 1);
    const gain = scalar ? 'the loop gain of the fluctuations, K·v·|χ(ω)|²,' : 'the loop gain of the fluctuations (the spectral radius of the map from the correlation spectra to themselves)';
    throw new StationaryInstabilityError(`${gain} reaches ${fmt(sw.rhoMax)} ≥ 1 at ω = ${fmt(sw.rhoArg)}: the stationary variance diverges`, m.params);
  }
}

// ---- static part -----------------------------------------------------------------

interface StaticLaw {
  /** per population: mean c (V), α (V×Q), static covariance β V_s βᵀ (V×V) */
  c: Float64Array[]; alpha: Float64Array[]; cov: Float64Array[];
  M: Map<string, number>;
  rho: number;
}

function staticPart(m: VModel, sw: Sweep): StaticLaw {
  const c: Float64Array[] = [], alpha: Float64Array[] = [], beta: Float64Array[] = [];
  m.pops.forEach((P, p) => {
    const V = P.V, inv = sw.D0[p].inv.re; // D(0) real
    const rhs = P.h.slice(), al = P.Dq.slice();
    for (const mm of P.mem) {
      const r = sw.R0.re[mm.R];
      for (let a = 0; a < V; a++) {
        if (mm.E[a] === 0) continue;
        rhs[a] += mm.E[a] * r * mm.g.f0;
        for (let j = 0; j < P.Q; j++) al[a * P.Q + j] += mm.E[a] * r * mm.g.fq[j];
      }
    }
    const mul = (X: Float64Array, k: number) => { const Y = new Float64Array(V * k); for (let a = 0; a < V; a++) for (let j = 0; j < k; j++) { let s = 0; for (let b = 0; b < V; b++) s += inv[a * V + b] * X[b * k + j]; Y[a * k + j] = s; } return Y; };
    c.push(mul(rhs, 1)); alpha.push(mul(al, P.Q)); beta.push(mul(P.B, P.F));
  });
  // static correlations of the Cn: mean·mean + q part + (f1ᵀβ) V_s (βᵀ g1), V_s linear in them
  const nc = m.Cn.length;
  const fStat = (o: VOrd) => {
    const P = m.pops[o.pop], V = P.V, Q = P.Q;
    const co = (f: Aff) => {
      let mean = f.f0; for (let a = 0; a < V; a++) mean += f.f1[a] * c[o.pop][a];
      const q = new Float64Array(Q);
      for (let j = 0; j < Q; j++) { let s = f.fq[j]; for (let a = 0; a < V; a++) s += f.f1[a] * alpha[o.pop][a * Q + j]; q[j] = s; mean += s * P.q[j].mean; }
      const e = new Float64Array(P.F);
      for (let k = 0; k < P.F; k++) { let s = 0; for (let a = 0; a < V; a++) s += f.f1[a] * beta[o.pop][a * P.F + k]; e[k] = s; }
      return { mean, q, e };
    };
    return { f: co(o.f), g: co(o.g) };
  };
  const Vs = (p: number, cv: Float64Array) => {
    const P = m.pops[p], F = P.F, out = new Float64Array(F * F);
    for (let e = 0; e < F; e++) for (let e2 = e; e2 < F; e2++) {
      const cc = P.cov[e][e2];
      if (!cc) continue;
      let s = cc.c0;
      for (const t of cc.terms) s += t.w * cv[m.Cn.indexOf(t.C)];
      out[e * F + e2] = s; out[e2 * F + e] = s;
    }
    return out;
  };
  const evalC = (cv: Float64Array, withMean: boolean) => Float64Array.from(m.Cn, (name) => {
    const o = m.ords.get(name)!, P = m.pops[o.pop], st = fStat(o), vs = Vs(o.pop, cv);
    let s = withMean ? st.f.mean * st.g.mean : 0;
    if (withMean) for (let j = 0; j < P.Q; j++) s += st.f.q[j] * st.g.q[j] * P.q[j].var;
    for (let e = 0; e < P.F; e++) for (let e2 = 0; e2 < P.F; e2++) s += st.f.e[e] * vs[e * P.F + e2] * st.g.e[e2];
    return s;
  });
  let rho = 0;
  let cv = new Float64Array(nc);
  if (nc) {
    // c0 belongs to the source: the operator part is evalC(unit) − evalC(0) without means
    const b = evalC(new Float64Array(nc), true);
    const z = evalC(new Float64Array(nc), false);
    const A = Array.from({ length: nc }, () => new Array<number>(nc).fill(0));
    for (let j = 0; j < nc; j++) { const u = new Float64Array(nc); u[j] = 1; const col = evalC(u, false); for (let k = 0; k < nc; k++) A[k][j] = col[k] - z[k]; }
    rho = spectralRadius(A);
    if (Math.abs(1 - rho) <= MARGIN) {
      const err = new StationaryInstabilityError(`the static (zero-frequency) correlations are marginal: loop gain ${rho.toPrecision(12)}, 1 within the solver's accuracy ${MARGIN}`, m.params);
      err.kind = 'marginal';
      throw err;
    }
    const sol = rho < 1 ? solveDense(A.map((r, i) => r.map((x, j) => (i === j ? 1 : 0) - x)), Array.from(b)) : undefined;
    if (!sol) throw new StationaryInstabilityError(`the static (zero-frequency) correlations have no solution (loop gain ${fmt(rho)})`, m.params);
    cv = Float64Array.from(sol);
  }
  const cov = m.pops.map((P, p) => {
    const V = P.V, F = P.F, vs = Vs(p, cv), be = beta[p], out = new Float64Array(V * V);
    for (let a = 0; a < V; a++) for (let b2 = 0; b2 < V; b2++) { let s = 0; for (let e = 0; e < F; e++) for (let e2 = 0; e2 < F; e2++) s += be[a * F + e] * vs[e * F + e2] * be[b2 * F + e2]; out[a * V + b2] = s; }
    return out;
  });
  // a static field covariance must be positive semidefinite
  m.pops.forEach((P, p) => {
    const vs = Vs(p, cv);
    for (let e = 0; e < P.F; e++) if (vs[e * P.F + e] < -1e-12 * (1 + Math.abs(vs[e * P.F + e]))) throw new StationaryInstabilityError(`the static variance of the field ${P.r.fields[e]} comes out negative (${fmt(vs[e * P.F + e])})`, m.params);
  });
  const M = new Map<string, number>();
  for (const o of m.ords.values()) if (o.kind === 'M') M.set(o.name, fStat(o).f.mean);
  return { c, alpha, cov, M, rho };
}

// ---- observables -------------------------------------------------------------------

export interface Law { mean: Float64Array; cov: Float64Array[] }


/** One-time observables: ⟨body(x, q)⟩ over each population's joint Gaussian law of (x, q) (site-average.ts). */
export function observables(rd: SystemReading, laws: Law[]): { values: Record<string, number>; errors: Record<string, number> } {
  const values: Record<string, number> = table(), errors: Record<string, number> = table();
  const popIndex = new Map(rd.pops.map((p, i) => [p.name, i]));
  for (const ob of rd.observables) {
    if (ob.def.times.length > 1) continue;
    const avg: number[] = [], err: number[] = [];
    for (const a of ob.averages) {
      const p = popIndex.get(a.pop)!, V = rd.pops[p].variables.length, law = laws[p];
      // slots: [x…, x@2…, q…]; one-time bodies use x and q only
      const active = a.slots.flatMap((s, i) => ((i < V || i >= 2 * V) && some(a.body, (y) => y.k === 'sym' && y.name === s) ? [i] : []));
      const li = (s: number) => (s < V ? s : V + (s - 2 * V));
      const r = siteAverage(a, active, active.map((s) => law.mean[li(s)]), active.map((s) => active.map((u) => law.cov[li(s)][li(u)] ?? 0)), 2 * V, rd.params);
      if (!Number.isFinite(r.value)) throw new DmftError({ message: `observable ${ob.def.name}: the Gaussian average of ${print(a.body)} could not be resolved (its mass lies beyond the quadrature's widest range)` });
      avg.push(r.value); err.push(r.error);
    }
    const val = ob.outer(Float64Array.from(avg));
    let e = 0;
    err.forEach((x, i) => { if (x > 0) { const w = Float64Array.from(avg); w[i] += x; e += Math.abs(ob.outer(w) - val); } });
    values[ob.def.name] = val; errors[ob.def.name] = e;
  }
  return { values, errors };
}

/**
 * Two-time observables on the lag grid: ⟨body(x(s + τ), x(s), q)⟩ (the first
 * time the later one) over the joint law of the two times, whose cross block
 * is the static covariance plus the fluctuating C(τ).
 */
export function twoTimeObservables(rd: SystemReading, laws: Law[], cross: (p: number, k: number) => Float64Array[], tau: number[]): Record<string, { tau: number[]; values: number[] }> {
  const out: Record<string, { tau: number[]; values: number[] }> = table();
  const popIndex = new Map(rd.pops.map((p, i) => [p.name, i]));
  for (const ob of rd.observables) {
    if (ob.def.times.length < 2) continue;
    const values = tau.map((_, k) => {
      const avg = ob.averages.map((a) => {
        const p = popIndex.get(a.pop)!, V = rd.pops[p].variables.length, law = laws[p], Ck = cross(p, k);
        const active = a.slots.flatMap((s, i) => (some(a.body, (y) => y.k === 'sym' && y.name === s) ? [i] : []));
        // slot i ↦ (which time, index into the one-time law [x…, q…])
        const of = (i: number): [number, number] => (i < V ? [0, i] : i < 2 * V ? [1, i - V] : [-1, V + (i - 2 * V)]);
        const mean = active.map((i) => law.mean[of(i)[1]]);
        const cov = active.map((i) => active.map((j) => {
          const [ti, a1] = of(i), [tj, b1] = of(j);
          if (ti >= 0 && tj >= 0 && ti !== tj) return ti === 0 ? Ck[a1][b1] : Ck[b1][a1];
          return law.cov[a1][b1] ?? 0;
        }));
        return siteAverage(a, active, mean, cov, 2 * V, rd.params).value;
      });
      return ob.outer(Float64Array.from(avg));
    });
    out[ob.def.name] = { tau: tau.slice(), values };
  }
  return out;
}

// ---- entry ---------------------------------------------------------------------------

/**
 * The lag grid of two-time outputs: [0, T] in steps of dt (at most 20000
 * steps), from the solve options (T = 50, dt = 0.05 without them).
 */
export function tauGrid(opts?: { T: number; dt: number }): number[] {
  const T = opts && opts.T > 0 ? opts.T : 50;
  let dt = opts && opts.dt > 0 ? opts.dt : 0.05;
  if (T / dt > 20000) dt = T / 20000;
  const n = Math.floor(T / dt + 1e-9) + 1;
  return Array.from({ length: n }, (_, k) => k * dt);
}

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

/** The stationary state of a linear system, sites of any number of variables (refuses with the reason when it does not apply). */
export function solveStationaryVector(rd: SystemReading, opts?: { T: number; dt: number }): StationaryOutcome {
  const built = buildModel(rd);
  if (typeof built === 'string') return { unsupported: built };
  const m = built;
  try {
    return solve(rd, m, tauGrid(opts));
  } catch (e) {
    // a zero-frequency mode keeps part of the initial condition: with noise it diffuses (marginal, no
    // stationary state); without noise the state settles where the initial condition puts it — the
    // stationary equations do not fix it, the transient does (the dispatcher extrapolates it)
    if (e instanceof StationaryInstabilityError && e.kind === 'zero-mode') {
      const noisy = m.pops.some((P) => P.r.noises.length > 0);
      return noisy
        ? { unsupported: `${e.message}; with noise along it the state diffuses`, kind: 'marginal' }
        : { unsupported: `${e.message}; without noise the long-time state keeps that part of the initial condition, which the stationary equations do not fix` };
    }
    if (e instanceof StationaryInstabilityError && e.kind === 'marginal') return { unsupported: e.message, kind: 'marginal' };
    throw e;
  }
}

/**
 * The frequency scale of the responses: the largest rate |A_ab| of a dynamic
 * variable and √|E·g1·f1·B| of its memory kernels (the rate they set when the
 * damping is small), at least 1. The frequency rules are laid out in ω/ws,
 * so a fast damping (k = 1000) is resolved like k = 1.
 */
function rateScale(m: VModel): number {
  let w = 1;
  for (const P of m.pops) {
    for (let a = 0; a < P.V; a++) if (P.dyn[a]) for (let b = 0; b < P.V; b++) w = Math.max(w, Math.abs(P.A[a * P.V + b]));
    for (const mm of P.mem) {
      const o = m.ords.get(m.Rn[mm.R])!, Q = m.pops[o.pop];
      let e = 0, g = 0, beta = 0;
      for (let a = 0; a < P.V; a++) if (P.dyn[a]) e += Math.abs(mm.E[a]);
      for (let b = 0; b < P.V; b++) g += Math.abs(mm.g.f1[b]);
      for (let a = 0; a < Q.V; a++) beta += Math.abs(o.f.f1[a] * Q.B[a * Q.F + o.slot]);
      w = Math.max(w, Math.sqrt(e * g * beta));
    }
  }
  return Number.isFinite(w) ? w : 1;
}
function solve(rd: SystemReading, m: VModel, tau: number[]): StationaryResult {
  const Mnames: string[] = [];
  for (const p of rd.pops) for (const x of p.means) if (!Mnames.includes(x.M)) Mnames.push(x.M);
  setCoefficients(m, new Map(Mnames.map((n) => [n, 0])));
  const ws = rateScale(m);
  const coarse = omegaRule(ws, 1);
  const evalAt = (u: number[]) => {
    setCoefficients(m, new Map(Mnames.map((n, i) => [n, u[i]])));
    const sw = sweep(m, coarse.w);
    checkSweep(m, sw);
    const st = staticPart(m, sw);
    return { sw, st, next: Mnames.map((n) => st.M.get(n) ?? 0) };
  };
  let u = Mnames.map(() => 0);
  let cur = evalAt(u);
  let mIter = 0;
  if (Mnames.length) {
    let res = Infinity;
    for (mIter = 1; mIter <= 60; mIter++) {
      const r = cur.next.map((x, i) => x - u[i]);
      res = Math.max(...r.map(Math.abs));
      if (res <= 1e-14 * (1 + Math.max(...u.map(Math.abs)))) break;
      const J = u.map(() => new Array<number>(u.length).fill(0));
      for (let j = 0; j < u.length; j++) {
        const hh = 1e-6 * (1 + Math.abs(u[j]));
        const up = u.slice(); up[j] += hh;
        const rp = evalAt(up).next.map((x, i) => x - up[i]);
        for (let i = 0; i < u.length; i++) J[i][j] = (rp[i] - r[i]) / hh;
      }
      const step = solveDense(J, r.map((x) => -x));
      if (!step) throw new DmftError({ message: 'stationary solver: the mean-field equations are singular' });
      u = u.map((x, i) => x + step[i]);
      cur = evalAt(u);
    }
    if (res > 1e-9 * (1 + Math.max(...u.map(Math.abs)))) throw new DmftError({ message: `stationary solver: the mean-field iteration did not converge (residual ${res})` });
  }
  const st = cur.st;
  // fluctuating covariance (1/π)∫₀^∞ Re S_x dω, refined until two levels agree
  const integrate = (rule: { w: Float64Array; wt: Float64Array }, done?: Sweep) => {
    const sw = done ?? sweep(m, rule.w);
    checkSweep(m, sw);
    return { I: m.pops.map((P, p) => { const out = new Float64Array(P.V * P.V); for (let i = 0; i < rule.w.length; i++) for (let k = 0; k < out.length; k++) out[k] += rule.wt[i] * sw.S[p][i][k]; return out; }), sw };
  };
  const noisy = m.pops.some((P) => P.N.some((x) => x !== 0));
  let C0 = m.pops.map((P) => new Float64Array(P.V * P.V)), C0err = m.pops.map((P) => new Float64Array(P.V * P.V));
  let level = 1, rhoMax = cur.sw.rhoMax, lastSweep = cur.sw, lastRule = coarse;
  if (noisy) {
    let prev = integrate(coarse, cur.sw);
    for (level = 2; level <= 64; level *= 2) {
      const rule = omegaRule(ws, level);
      const nx = integrate(rule);
      rhoMax = Math.max(rhoMax, nx.sw.rhoMax);
      const diff = nx.I.map((X, p) => X.map((x, k) => Math.abs(x - prev.I[p][k])));
      prev = nx; lastSweep = nx.sw; lastRule = rule;
      C0err = diff;
      if (diff.every((X, p) => X.every((d, k) => d <= 1e-12 * Math.abs(nx.I[p][k]) + 1e-14 * Math.max(...nx.I[p].map(Math.abs)) + 1e-300))) break;
    }
    C0 = prev.I;
    level = Math.min(level, 64);
  }
  const lawOf = (p: number, C: Float64Array[]): Law => {
    const P = m.pops[p], V = P.V, Q = P.Q, n = V + Q;
    const mean = new Float64Array(n), cov = Array.from({ length: n }, () => new Float64Array(n));
    for (let a = 0; a < V; a++) { let s = st.c[p][a]; for (let j = 0; j < Q; j++) s += st.alpha[p][a * Q + j] * P.q[j].mean; mean[a] = s; }
    for (let j = 0; j < Q; j++) mean[V + j] = P.q[j].mean;
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
      let s = st.cov[p][a * V + b] + C[p][a * V + b];
      for (let j = 0; j < Q; j++) s += st.alpha[p][a * Q + j] * st.alpha[p][b * Q + j] * P.q[j].var;
      cov[a][b] = s;
    }
    for (let a = 0; a < V; a++) for (let j = 0; j < Q; j++) { const x = st.alpha[p][a * Q + j] * P.q[j].var; cov[a][V + j] = x; cov[V + j][a] = x; }
    for (let j = 0; j < Q; j++) cov[V + j][V + j] = P.q[j].var;
    return { mean, cov: cov as unknown as Float64Array[] };
  };
  const laws = m.pops.map((_, p) => lawOf(p, C0));
  const { values: limit, errors } = observables(rd, laws);
  // quadrature error: the change of the observables when C0 moves by its error estimate
  const pert = observables(rd, m.pops.map((_, p) => lawOf(p, C0.map((X, q) => X.map((x, k) => x + C0err[q][k]))))).values;
  const limitError: Record<string, number> = table();
  for (const k of Object.keys(limit)) limitError[k] = errors[k] + Math.abs(pert[k] - limit[k]) + 1e-14 * Math.abs(limit[k]);
  // two-time observables: the fluctuating C(τ) on the lag grid (only then: a slow mode makes the grid long)
  const twoTime = rd.observables.some((ob) => ob.def.times.length > 1);
  let tauOut: Record<string, { tau: number[]; values: number[] }> = table();
  let tauNote = twoTime ? 'no fluctuating part' : 'not needed (no two-time observable)', tauGridError = 0;
  if (twoTime) {
    const Cfl = noisy ? fluctuatingCtau(m, ws, lastRule.w, lastSweep, tau) : undefined;
    if (Cfl) {
      tauNote = Cfl.note;
      m.pops.forEach((P, p) => { for (let a = 0; a < P.V; a++) tauGridError = Math.max(tauGridError, Math.abs(Cfl.C[p][0][a * P.V + a] - C0[p][a * P.V + a])); });
    }
    // Cov(x_a(s + τ), x_b(s)) = static part + C_ab(τ)
    const cross = (p: number, k: number): Float64Array[] => {
      const P = m.pops[p], V = P.V, Q = P.Q;
      return Array.from({ length: V }, (_, a) => Float64Array.from({ length: V }, (_, b) => {
        let s = st.cov[p][a * V + b] + (Cfl ? Cfl.C[p][k][a * V + b] : 0);
        for (let j = 0; j < Q; j++) s += st.alpha[p][a * Q + j] * st.alpha[p][b * Q + j] * P.q[j].var;
        return s;
      }));
    };
    tauOut = twoTimeObservables(rd, laws, cross, tau);
  }
  const diagnostics: Record<string, number | string | boolean> = {
    method: 'stationary (frequency domain, linear, vector sites)',
    regime: 'linear-vector',
    loopGainMax: rhoMax,
    loopGainStatic: st.rho,
    quadratureLevel: level,
    tau: tauNote,
    tauGridErrorAt0: tauGridError,
    meanFieldIterations: mIter,
  };
  m.pops.forEach((P, p) => P.r.variables.forEach((v, a) => {
    diagnostics[`C0fluct[${v.name}]`] = C0[p][a * P.V + a];
    diagnostics[`C0fluctError[${v.name}]`] = C0err[p][a * P.V + a];
    diagnostics[`staticVar[${v.name}]`] = st.cov[p][a * P.V + a];
    diagnostics[`staticMean[${v.name}]`] = st.c[p][a];
  }));
  m.Rn.forEach((n, j) => { diagnostics[`chi0[${n}]`] = cur.sw.R0.re[j]; });
  for (const [n, v] of st.M) diagnostics[`M[${n}]`] = v;
  return { limit, limitError, tau: tauOut, diagnostics };
}

/**
 * The fluctuating covariance C_ab(τ) = ⟨x_a(s + τ) x_b(s)⟩ on the lag grid:
 * (1/π)∫₀^∞ [Re S_ab cos ωτ − Im S_ab sin ωτ] dω by the trapezoid rule on a
 * uniform frequency grid whose period covers the grid and the slowest decay
 * (the spectra's half width), after subtracting the large-ω tails
 * A/(ω² + 1) (Re) and Bω/(ω² + 1)² (Im), whose transforms A e^{−τ}/2 and
 * B τ e^{−τ}/4 are added back exactly.
 */
function fluctuatingCtau(m: VModel, ws: number, wgrid: Float64Array, last: Sweep, tau: number[]): { C: Float64Array[][]; note: string } {
  const np = m.pops.length;
  const big = 1e6 * ws;
  const tail = sweep(m, [1e8 * ws, big]);
  const A = m.pops.map((_, p) => tail.S[p][1].map((x) => x * big * big));
  const B = m.pops.map((_, p) => tail.Si[p][1].map((x) => x * big * big * big));
  // half width: where a variable's spectrum falls below half its ω = 0 value
  let wh = Infinity;
  m.pops.forEach((P, p) => {
    for (let a = 0; a < P.V; a++) {
      const S = last.S[p], s0 = S[wgrid.length - 1][a * P.V + a];
      if (!(s0 > 0)) continue;
      for (let i = wgrid.length - 1; i >= 0; i--) if (S[i][a * P.V + a] < s0 / 2) { wh = Math.min(wh, wgrid[i]); break; }
    }
  });
  if (!Number.isFinite(wh)) wh = ws;
  const T = tau[tau.length - 1];
  const Lper = T + 60 / wh + 20;
  let dw = 2 * Math.PI / Lper;
  const Om = 400 * Math.max(ws, wh);
  let M = Math.ceil(Om / dw);
  const Mcap = 1 << 19;
  if (M > Mcap) { M = Mcap; dw = Om / M; }
  const ws2: number[] = [1e8 * ws, 1e6 * ws, 1e4 * ws];
  for (let j = M; j >= 0; j--) ws2.push(j * dw);
  const sw = sweep(m, ws2);
  checkSweep(m, sw);
  const off = 3, nt = tau.length, dtau = nt > 1 ? tau[1] - tau[0] : 0;
  const C = m.pops.map((P) => Array.from({ length: nt }, () => new Float64Array(P.V * P.V)));
  for (let p = 0; p < np; p++) {
    const VV = m.pops[p].V ** 2, Ap = A[p], Bp = B[p], out = C[p];
    const cr = new Float64Array(VV), ci = new Float64Array(VV);
    for (let j = 0; j <= M; j++) {
      const w = j * dw, half = j === 0 ? 0.5 : 1;
      let any = false;
      for (let k = 0; k < VV; k++) {
        cr[k] = half * dw / Math.PI * (sw.S[p][off + (M - j)][k] - Ap[k] / (w * w + 1));
        ci[k] = half * dw / Math.PI * (sw.Si[p][off + (M - j)][k] - Bp[k] * w / (w * w + 1) ** 2);
        if (cr[k] !== 0 || ci[k] !== 0) any = true;
      }
      if (!any) continue;
      // cos(nθ), sin(nθ) by the Chebyshev recurrences
      const c1 = Math.cos(w * dtau), s1 = Math.sin(w * dtau);
      let cm = 1, cc = c1, sm = 0, sc = s1;
      for (let k = 0; k < VV; k++) out[0][k] += cr[k];
      if (nt > 1) for (let k = 0; k < VV; k++) out[1][k] += cr[k] * c1 - ci[k] * s1;
      for (let n = 2; n < nt; n++) {
        const cn = 2 * c1 * cc - cm, sn = 2 * c1 * sc - sm;
        cm = cc; cc = cn; sm = sc; sc = sn;
        const o = out[n];
        for (let k = 0; k < VV; k++) o[k] += cr[k] * cn - ci[k] * sn;
      }
    }
    for (let n = 0; n < nt; n++) for (let k = 0; k < VV; k++) out[n][k] += Ap[k] * Math.exp(-tau[n]) / 2 - Bp[k] * tau[n] * Math.exp(-tau[n]) / 4;
  }
  return { C, note: `trapezoid cosine sum, ${M + 1} frequencies, dω = ${fmt(dw)}, period ${fmt(2 * Math.PI / dw)}` };
}
