// Stationary state of Gaussian sites with nonlinear order parameters, sites of
// any number of variables and any number of populations: the frequency domain
// on a periodic lag grid, iterated to the fixed point.
//
// The class is the Gaussian closure's: every single-site equation affine in
// the site's variables, fields and noises (no reaction through a nonlinear
// function of the site's own variables), nonlinear order parameters
// functions φ(u) of one affine combination u = c·x of a site's variables
// (./gaussian-vector.ts decides this the same way). The site is then a
// stationary Gaussian process: x = μ + x_s + y with
//   μ      the mean, D(0) μ = h(M) (h the constant drive, M the mean fields),
//   x_s    the static part, χ(0) B η_s with η_s the fields' static part
//          (covariance Q, read on the correlations' values at τ → ∞),
//   y      the fluctuation, spectrum S_y(ω) = χ(ω) (B S_η(ω) Bᵀ + N) χ(ω)^†,
// χ(ω) = D(ω)⁻¹, D(ω) = diag(s) − A (s = iω for a state, 1 for a let), N the
// white noises' covariance. The fields' covariances are linear in the
// correlations C[f](τ) = ⟨f(x(t + τ)) f(x(t))⟩, which close the loop:
//   affine f:   C(τ) = f(μ)g(μ) + f1ᵀ K(τ) g1,
//   f = φ(c·x): C(τ) = Ψ(cᵀ K(τ) c), Ψ(γ) = E φ(u₁)φ(u₂) over the pair of
//               normals of mean c·μ, variance cᵀK(0)c and covariance γ,
// with K(τ) = K_s + K_y(τ). Ψ is a Chebyshev interpolant in θ = arccos(γ/v)
// through 2-D Gaussian expectations (numeric/gauss.ts: split at kinks, rules
// refined with the resolution multiplier for the error check), so a
// sweep over the lag grid costs a few dozen of them.
//
// Numerics: the lag grid τ_j = j·h on a period L = n·h (n a power of two,
// negative lags wrapped); field spectra by FFT, S_y on the matching
// frequencies ω_k = 2πk/L, K_y by the inverse FFT. White noise makes K_y
// kinked at τ = 0: its large-ω tails A/(ω² + w²) and iBω/(ω² + w²)² are
// subtracted before the transform and their exact transforms added back.
// The fixed point in (C(τ), q, M) is found by Anderson-accelerated damped
// iteration from a fluctuating start (so a chaotic state is found rather than
// the unstable quiet fixed point). The grid is refined in both range L and
// step h until the observables stop moving; the error bar is that change plus
// the change with a finer Ψ (more Chebyshev nodes, finer quadrature).
//
// Verdicts, never numbers: a linear part that does not relax (an eigenvalue
// of the states' matrix, lets eliminated, with Re ≥ 0): no stationary state;
// a fluctuation that dies out without noise: a static fixed point, left to
// the static solver; an iteration that diverges or does not converge:
// inconclusive. Nothing here knows any particular model.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { some } from '../expr/ast.ts';
import { constantValue } from '../expr/eval.ts';
import type { InitSpec } from '../model/ir.ts';
import { Fourier } from '../numeric/fft.ts';
import { atResolution, expect2 } from '../numeric/gauss.ts';
import { complexInverse, solveDense } from '../numeric/linalg.ts';
import { lawMean } from '../model/distributions.ts';
import { table } from '../table.ts';
import { oneCombination, type Combination } from './gaussian-vector.ts';
import type { PopReading, SystemReading } from './read.ts';
import { StationaryInstabilityError, type StationaryOutcome } from './stationary-result.ts';
import { fieldCovariances, observables, tauGrid, twoTimeObservables, type CovTerms, type Law } from './stationary-vector.ts';

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(6)));

interface Aff { f0: number; f1: Float64Array }

interface NPop {
  r: PopReading;
  V: number; F: number;
  dyn: boolean[];
  /** ∂F_a/∂x_b, ∂F_a/∂η_e (row-major), the noises' covariance c diag(D) cᵀ */
  A: Float64Array; B: Float64Array; N: Float64Array;
  /** the constant drive h(M) (the right-hand sides at zero stochastic slots) */
  h: (M: Map<string, number>) => Float64Array;
  /** ⟨η_e(t) η_e2(s)⟩ for e ≤ e2 (undefined: independent) */
  cov: (CovTerms | undefined)[][];
}

interface NOrd {
  name: string; kind: 'C' | 'M'; pop: number;
  /** f = φ(c·x) (nonlinear, g = f) */
  nl?: Combination;
  f: Aff; g: Aff;
}

interface NModel {
  pops: NPop[];
  /** the C order parameters the fields read, and every M */
  Cs: NOrd[];
  Ms: NOrd[];
  params: Record<string, number>;
  noisy: boolean;
  /** the fastest rate of the linear part (≥ 1): the grid is laid out in units of 1/ws */
  ws: number;
}

/** Resolution of Ψ: Chebyshev nodes, and the quadrature's resolution multiplier. */
interface PsiRes { nc: number; res: number }
const PSI: PsiRes = { nc: 48, res: 1 };
const PSI_CHECK: PsiRes = { nc: 80, res: 2 };
const PSI_FAR: PsiRes = { nc: 24, res: 1 };

function affineOf(F: (v: Float64Array) => number, V: number): Aff {
  const z = new Float64Array(V);
  const f0 = F(z);
  const f1 = new Float64Array(V);
  for (let a = 0; a < V; a++) { z.fill(0); z[a] = 1; f1[a] = F(z) - f0; }
  return { f0, f1 };
}

/** The model, or why this solver does not apply. */
function build(rd: SystemReading): NModel | string {
  if (!rd.gaussianState) return 'the single-site process is not Gaussian (an equation is not affine in the site\'s variables and Gaussian inputs, a variable is bounded, or a quenched input is not normal)';
  const popIndex = new Map(rd.pops.map((p, i) => [p.name, i]));
  for (const p of rd.pops) {
    if (p.memory.length) return `population ${p.name}: memory (reaction) terms with nonlinear order parameters are not handled by the nonlinear stationary solver yet`;
    if (p.quenched.length) return `population ${p.name}: quenched inputs (${p.quenched.map((q) => q.name).join(', ')}) with nonlinear order parameters are not handled by the nonlinear stationary solver yet`;
    for (const v of p.variables) {
      if (some(v.rhs, (x) => x.k === 'sym' && x.name === 't')) return `population ${p.name}: the equation of '${v.name}' depends explicitly on time, so no time-translation-invariant state`;
      if (v.kind === 'algebraic' && p.noises.some((n) => v.dF[n.name] && v.dF[n.name](new Float64Array(p.slots.length)) !== 0)) return `population ${p.name}: white noise enters the algebraic '${v.name}' directly (infinite variance)`;
    }
  }
  const Cs: NOrd[] = [], Ms: NOrd[] = [];
  const used = new Set<string>();
  for (const p of rd.pops) for (const f of p.pop.fields) some(f.cov, (x) => { if (x.k === 'op') used.add(x.name); return false; });
  for (const p of rd.pops) for (const c of p.cross) some(c.cov, (x) => { if (x.k === 'op') used.add(x.name); return false; });
  for (const p of rd.pops) for (const m of p.means) used.add(m.M);
  for (const [name, o] of rd.orders) {
    if (!used.has(name)) continue;
    if (o.op.kind === 'R') return `the response ${name} enters the equations: responses with nonlinear order parameters are not handled by the nonlinear stationary solver yet`;
    const pi = popIndex.get(o.op.pop)!;
    const V = rd.pops[pi].variables.length;
    let nl: Combination | undefined;
    for (const fn of [o, ...(o.g ? [o.g] : [])]) {
      if (fn.affine) continue;
      if (o.g) return `order parameter ${name}: a nonlinear cross-correlation is not handled (its Gaussian average needs the law of two combinations)`;
      nl = oneCombination(fn, o.slots, rd.params);
      if (!nl) return `order parameter ${name}: its function mixes the site's variables nonlinearly, not through one affine combination`;
    }
    const f = affineOf(o.F, V);
    const ord: NOrd = { name, kind: o.op.kind, pop: pi, f, g: o.g ? affineOf(o.g.F, V) : f, ...(nl ? { nl } : {}) };
    (o.op.kind === 'C' ? Cs : Ms).push(ord);
  }
  const pops: NPop[] = [];
  let ws = 1;
  for (const p of rd.pops) {
    const V = p.variables.length, F = p.fields.length;
    const idx = new Map(p.slots.map((s, i) => [s, i]));
    const at = (M: Map<string, number>) => {
      const v = new Float64Array(p.slots.length);
      for (const m of p.means) v[idx.get(m.slot)!] = M.get(m.M) ?? 0;
      return v;
    };
    const coef = (M: Map<string, number>) => {
      const v = at(M);
      const A = new Float64Array(V * V), B = new Float64Array(V * F), N = new Float64Array(V * V);
      p.variables.forEach((vr, a) => {
        const d = (s: string) => (vr.dF[s] ? vr.dF[s](v) : 0);
        for (let b = 0; b < V; b++) A[a * V + b] = d(p.variables[b].name);
        for (let e = 0; e < F; e++) B[a * F + e] = d(p.fields[e]);
      });
      for (const n of p.noises) {
        const c = p.variables.map((vr) => (vr.dF[n.name] ? vr.dF[n.name](v) : 0));
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) N[a * V + b] += c[a] * c[b] * n.D;
      }
      return { A, B, N };
    };
    const c0 = coef(new Map()), c1 = coef(new Map(p.means.map((m) => [m.M, 1.37])));
    const same = (x: Float64Array, y: Float64Array) => x.every((u, i) => Math.abs(u - y[i]) <= 1e-12 * (1 + Math.abs(u)));
    if (!same(c0.A, c1.A) || !same(c0.B, c1.B) || !same(c0.N, c1.N)) return `population ${p.name}: a coefficient of a variable, a field or a noise depends on a mean-field order parameter`;
    const cov = fieldCovariances(p, rd);
    if (typeof cov === 'string') return cov;
    for (const row of cov) for (const c of row) for (const t of c?.terms ?? []) {
      if (!Cs.some((o) => o.name === t.C)) return `population ${p.name}: the field covariance reads ${t.C}, which is not a correlation the solver tracks`;
    }
    const dyn = p.variables.map((v) => v.kind === 'dynamic');
    for (let a = 0; a < V; a++) if (dyn[a]) for (let b = 0; b < V; b++) ws = Math.max(ws, Math.abs(c0.A[a * V + b]));
    pops.push({
      r: p, V, F, dyn, A: c0.A, B: c0.B, N: c0.N, cov,
      h: (M) => { const v = at(M); return Float64Array.from(p.variables, (vr) => vr.F(v)); },
    });
  }
  const params: Record<string, number> = table();
  for (const k of Object.keys(rd.sys.params)) params[k] = rd.params[k] ?? rd.sys.params[k];
  return { pops, Cs, Ms, params, noisy: pops.some((P) => P.N.some((x) => x !== 0)), ws: Number.isFinite(ws) ? ws : 1 };
}

/** The linear part must relax: the states' matrix with the lets eliminated has its eigenvalues in Re < 0. */
function checkRelaxes(m: NModel): void {
  for (const P of m.pops) {
    const V = P.V, d = P.dyn.flatMap((x, i) => (x ? [i] : [])), l = P.dyn.flatMap((x, i) => (x ? [] : [i]));
    const a = (i: number, j: number) => P.A[i * V + j];
    // (I − A_ll) must be invertible (lets solved at equal times)
    let Aeff = d.map((i) => d.map((j) => a(i, j)));
    if (l.length) {
      const IL = l.map((i) => l.map((j) => (i === j ? 1 : 0) - a(i, j)));
      const X = d.map((j) => solveDense(IL, l.map((i) => a(i, j))));
      if (X.some((x) => !x)) throw new StationaryInstabilityError(`population ${P.r.name}: its lets cannot be solved at equal times (I − ∂F/∂(lets) is singular)`, m.params);
      Aeff = d.map((i, r) => d.map((j, c) => Aeff[r][c] + l.reduce((s, k, kk) => s + a(i, k) * X[c]![kk], 0)));
    }
    if (!d.length) continue;
    const ev = new EigenvalueDecomposition(new Matrix(Aeff));
    const worst = Math.max(...ev.realEigenvalues);
    if (!(worst < -1e-12 * m.ws)) {
      const err = new StationaryInstabilityError(`population ${P.r.name}: the linear part of the single-site equations does not relax (an eigenvalue of the states' matrix has real part ${fmt(worst)} ≥ 0), so the state grows or drifts`, m.params);
      if (Math.abs(worst) <= 1e-12 * m.ws) err.kind = 'zero-mode';
      throw err;
    }
  }
}

// ---- small complex matrices (row-major) ------------------------------------

/** χ(ω) = (diag(s) − A)⁻¹ of a population. */
function chiAt(P: NPop, w: number): [Float64Array, Float64Array] {
  const V = P.V, re = new Float64Array(V * V), im = new Float64Array(V * V);
  for (let a = 0; a < V; a++) {
    for (let b = 0; b < V; b++) re[a * V + b] = -P.A[a * V + b];
    if (P.dyn[a]) im[a * V + a] += w; else re[a * V + a] += 1;
  }
  const inv = complexInverse(V, re, im);
  if (!inv) throw new Inconclusive(`the site's response χ(ω) is singular at ω = ${w}: an undamped mode`);
  return [inv.re, inv.im];
}

/** χ X χ^† for a V×V complex X. */
function sandwich(V: number, cr: Float64Array, ci: Float64Array, xr: Float64Array, xi: Float64Array, or: Float64Array, oi: Float64Array, tr = new Float64Array(V * V), ti = new Float64Array(V * V)): void {
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
    let r = 0, i = 0;
    for (let c = 0; c < V; c++) { const p = cr[a * V + c], q = ci[a * V + c], u = xr[c * V + b], v = xi[c * V + b]; r += p * u - q * v; i += p * v + q * u; }
    tr[a * V + b] = r; ti[a * V + b] = i;
  }
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
    let r = 0, i = 0;
    for (let c = 0; c < V; c++) { const p = tr[a * V + c], q = ti[a * V + c], u = cr[b * V + c], v = -ci[b * V + c]; r += p * u - q * v; i += p * v + q * u; }
    or[a * V + b] = r; oi[a * V + b] = i;
  }
}

// ---- Ψ: the correlation of φ(u) as a function of the covariance γ -------------

/** Chebyshev interpolant of Ψ(v cos θ) in θ ∈ [0, π] (Clenshaw). */
interface PsiFit { v: number; c: Float64Array }

function psiFit(comb: Combination, mean: number, v: number, r: PsiRes): PsiFit {
  const n = r.nc, vals = new Float64Array(n);
  atResolution(r.res, () => {
    for (let j = 0; j < n; j++) {
      const x = Math.cos(Math.PI * (j + 0.5) / n), th = (Math.PI / 2) * (x + 1);
      vals[j] = expect2(comb.pw, comb.pw, mean, mean, v, v * Math.cos(th), v);
    }
  });
  const c = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += vals[j] * Math.cos(Math.PI * k * (j + 0.5) / n);
    c[k] = (2 / n) * s * (k === 0 ? 0.5 : 1);
  }
  return { v, c };
}

function psiEval(P: PsiFit, g: number): number {
  const th = Math.acos(Math.max(-1, Math.min(1, P.v > 0 ? g / P.v : 1)));
  const x = (2 / Math.PI) * th - 1, c = P.c;
  let b1 = 0, b2 = 0;
  for (let k = c.length - 1; k >= 1; k--) { const t = 2 * x * b1 - b2 + c[k]; b2 = b1; b1 = t; }
  return x * b1 - b2 + c[0];
}

// ---- one grid -----------------------------------------------------------------

/** The unknowns: each tracked C on the periodic lag grid, its static value q, each M. */
interface State { C: Float64Array[]; q: Float64Array; M: Float64Array }

/** The site law that a state implies: per population μ, K_s and K_y on the lag grid. */
interface SiteLaw { mu: Float64Array[]; Ks: Float64Array[]; Ky: Float64Array[][] }

interface Grid { n: number; h: number }

/** The lag of grid index j (negative lags wrapped). */
const lagOf = (g: Grid, j: number) => (j < g.n / 2 ? j : j - g.n) * g.h;

class GridSolver {
  readonly fourier: Fourier;
  /** per population, per frequency index k: χ(ω_k) (re, im) */
  readonly chi: [Float64Array, Float64Array][][];
  readonly chi0: Float64Array[];
  /** noise tails: A = lim ω² S_N, B = lim ω³ Im S_N, per population */
  readonly tailA: Float64Array[]; readonly tailB: Float64Array[];
  /** the noise tails' shapes: 1/(ω² + w²) and ω/(ω² + w²)² on the frequencies, their transforms on the lags */
  readonly tailRe: Float64Array; readonly tailIm: Float64Array; readonly lagRe: Float64Array; readonly lagIm: Float64Array;
  constructor(readonly m: NModel, readonly g: Grid) {
    this.fourier = new Fourier(g.n);
    const L = g.n * g.h, w0 = m.ws;
    this.tailRe = new Float64Array(g.n); this.tailIm = new Float64Array(g.n); this.lagRe = new Float64Array(g.n); this.lagIm = new Float64Array(g.n);
    for (let k = 0; k < g.n; k++) {
      const w = (2 * Math.PI / L) * (k < g.n / 2 ? k : k - g.n), d = w * w + w0 * w0, tau = lagOf(g, k), ex = Math.exp(-w0 * Math.abs(tau));
      this.tailRe[k] = 1 / d; this.tailIm[k] = w / (d * d);
      this.lagRe[k] = ex / (2 * w0); this.lagIm[k] = tau * ex / (4 * w0);
    }
    this.chi = m.pops.map((P) => Array.from({ length: g.n }, (_, k) => chiAt(P, (2 * Math.PI / L) * (k < g.n / 2 ? k : k - g.n))));
    this.chi0 = m.pops.map((P) => this.chi[m.pops.indexOf(P)][0][0]);
    const W = 1e4 * m.ws;
    this.tailA = []; this.tailB = [];
    for (const P of m.pops) {
      const V = P.V, [cr, ci] = chiAt(P, W), or = new Float64Array(V * V), oi = new Float64Array(V * V);
      sandwich(V, cr, ci, P.N, new Float64Array(V * V), or, oi);
      this.tailA.push(or.map((x) => x * W * W));
      this.tailB.push(oi.map((x) => x * W * W * W));
    }
  }

  /** The law of every site given the state. */
  law(s: State): SiteLaw {
    const { m, g } = this;
    const n = g.n, h = g.h;
    const Mmap = new Map(m.Ms.map((o, i) => [o.name, s.M[i]]));
    const Cidx = new Map(m.Cs.map((o, i) => [o.name, i]));
    const mu: Float64Array[] = [], Ks: Float64Array[] = [], Ky: Float64Array[][] = [];
    m.pops.forEach((P, p) => {
      const V = P.V, F = P.F;
      // the mean: D(0) μ = h(M), D(0) = diag(0 states, 1 lets) − A
      const D0 = Array.from({ length: V }, (_, a) => Array.from({ length: V }, (_, b) => (a === b && !P.dyn[a] ? 1 : 0) - P.A[a * V + b]));
      const hv = P.h(Mmap);
      mu.push(Float64Array.from(solveDense(D0, Array.from(hv)) ?? hv.map(() => NaN)));
      // the fields' static covariance Q and fluctuating spectra Ŝ_e,e2(ω_k)
      const Q = new Float64Array(F * F);
      const Sr = Array.from({ length: F * F }, () => new Float64Array(n)), Si = Array.from({ length: F * F }, () => new Float64Array(n));
      for (let e = 0; e < F; e++) for (let e2 = e; e2 < F; e2++) {
        const c = P.cov[e][e2];
        if (!c) continue;
        let qv = c.c0;
        const re = Sr[e * F + e2], im = Si[e * F + e2];
        for (const t of c.terms) {
          const k = Cidx.get(t.C)!, C = s.C[k], qk = s.q[k];
          qv += t.w * qk;
          for (let j = 0; j < n; j++) re[t.swapped ? (n - j) % n : j] += t.w * (C[j] - qk);
        }
        Q[e * F + e2] = qv; Q[e2 * F + e] = qv;
        // a correlation of a noise-driven variable has a kink at τ = 0 (a jump of its slope): the kink
        // κ·e^{−w|τ|}/(2w) is taken out before the transform (trapezoid sums of kinks converge slowly)
        // and its exact transform κ/(ω² + w²) put back
        const kappa = n >= 8 ? -(((-3 * re[0] + 4 * re[1] - re[2]) - (3 * re[0] - 4 * re[n - 1] + re[n - 2])) / (2 * h)) : 0;
        if (kappa !== 0) for (let j = 0; j < n; j++) re[j] -= kappa * this.lagRe[j];
        this.fourier.forward(re, im);
        for (let k = 0; k < n; k++) { re[k] = re[k] * h + kappa * this.tailRe[k]; im[k] *= h; }
        if (e2 !== e) { const r2 = Sr[e2 * F + e], i2 = Si[e2 * F + e]; for (let k = 0; k < n; k++) { r2[k] = re[k]; i2[k] = -im[k]; } }
      }
      // K_s = χ(0) B Q Bᵀ χ(0)ᵀ (χ(0) real)
      const c0 = this.chi0[p], BQ = new Float64Array(V * V);
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
        let t = 0;
        for (let e = 0; e < F; e++) for (let e2 = 0; e2 < F; e2++) t += P.B[a * F + e] * Q[e * F + e2] * P.B[b * F + e2];
        BQ[a * V + b] = t;
      }
      const ks = new Float64Array(V * V);
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
        let t = 0;
        for (let c = 0; c < V; c++) for (let d = 0; d < V; d++) t += c0[a * V + c] * BQ[c * V + d] * c0[b * V + d];
        ks[a * V + b] = t;
      }
      Ks.push(ks);
      // S_y(ω_k) = χ (B Ŝ Bᵀ + N) χ^† minus the noise tails, per entry, then back to lags
      const Yr = Array.from({ length: V * V }, () => new Float64Array(n)), Yi = Array.from({ length: V * V }, () => new Float64Array(n));
      const xr = new Float64Array(V * V), xi = new Float64Array(V * V), or = new Float64Array(V * V), oi = new Float64Array(V * V);
      const tr = new Float64Array(V * V), ti = new Float64Array(V * V);
      const tA = this.tailA[p], tB = this.tailB[p], { tailRe, tailIm, lagRe, lagIm } = this;
      for (let k = 0; k < n; k++) {
        for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
          let r = P.N[a * V + b], i = 0;
          for (let e = 0; e < F; e++) {
            const x = P.B[a * F + e];
            if (x === 0) continue;
            for (let e2 = 0; e2 < F; e2++) { const y = x * P.B[b * F + e2]; if (y === 0) continue; r += y * Sr[e * F + e2][k]; i += y * Si[e * F + e2][k]; }
          }
          xr[a * V + b] = r; xi[a * V + b] = i;
        }
        sandwich(V, this.chi[p][k][0], this.chi[p][k][1], xr, xi, or, oi, tr, ti);
        for (let ab = 0; ab < V * V; ab++) { Yr[ab][k] = or[ab] - tA[ab] * tailRe[k]; Yi[ab][k] = oi[ab] - tB[ab] * tailIm[k]; }
      }
      const ky: Float64Array[] = [];
      for (let ab = 0; ab < V * V; ab++) {
        this.fourier.inverse(Yr[ab], Yi[ab]);
        const out = Yr[ab], a = tA[ab], b = tB[ab];
        for (let j = 0; j < n; j++) out[j] = out[j] / h + a * lagRe[j] - b * lagIm[j];
        ky.push(out);
      }
      // ky[a*V + b][j] = Cov(y_a(t + τ_j), y_b(t))
      Ky.push(ky);
    });
    return { mu, Ks, Ky };
  }

  /** Ψ of each nonlinear C linearized in its mean and variance around a law (Newton's Jacobian products), or undefined. */
  frozen: Map<number, { mean: number; v: number; c: Float64Array; dv: Float64Array; dm: Float64Array }> | undefined;

  /** The mean and variance of the combination u = c·x of a nonlinear C under a law. */
  private moments(o: NOrd, law: SiteLaw): { mean: number; vs: number; v: number } {
    const p = o.pop, V = this.m.pops[p].V, c = o.nl!.c, mu = law.mu[p];
    let vs = 0, vy = 0;
    for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) { vs += c[a] * c[b] * law.Ks[p][a * V + b]; vy += c[a] * c[b] * law.Ky[p][a * V + b][0]; }
    return { mean: c.reduce((t, x, a) => t + x * mu[a], 0), vs, v: vs + vy };
  }

  linearizePsi(law: SiteLaw, res: PsiRes): void {
    const frozen = new Map<number, { mean: number; v: number; c: Float64Array; dv: Float64Array; dm: Float64Array }>();
    this.m.Cs.forEach((o, k) => {
      if (!o.nl) return;
      const { mean, v } = this.moments(o, law);
      const hv = 1e-5 * Math.max(v, 1e-300), hm = 1e-5 * Math.sqrt(Math.max(v, 1e-300));
      const c0 = psiFit(o.nl, mean, v, res).c, cv = psiFit(o.nl, mean, v + hv, res).c, cm = psiFit(o.nl, mean + hm, v, res).c;
      frozen.set(k, { mean, v, c: c0, dv: c0.map((x, i) => (cv[i] - x) / hv), dm: c0.map((x, i) => (cm[i] - x) / hm) });
    });
    this.frozen = frozen;
  }

  /** One application of the closure: the state the law implies. */
  map(s: State, res: PsiRes): { next: State; law: SiteLaw } {
    const law = this.law(s);
    return { next: this.closure(law, res), law };
  }

  /** The correlations and mean fields of a site law. */
  closure(law: SiteLaw, res: PsiRes): State {
    const { m, g } = this;
    const n = g.n;
    const quad = (p: number, u: Float64Array, w: Float64Array, M: Float64Array) => {
      const V = m.pops[p].V;
      let t = 0;
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) if (u[a] !== 0 && w[b] !== 0) t += u[a] * w[b] * M[a * V + b];
      return t;
    };
    /** Σ_ab u_a w_b K_y,ab(τ_j) on the whole lag grid */
    const lagQuad = (p: number, u: Float64Array, w: Float64Array) => {
      const V = m.pops[p].V, ky = law.Ky[p], out = new Float64Array(n);
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) {
        const x = u[a] * w[b];
        if (x === 0) continue;
        const row = ky[a * V + b];
        for (let j = 0; j < n; j++) out[j] += x * row[j];
      }
      return out;
    };
    const C = m.Cs.map((o, k) => {
      const p = o.pop, mu = law.mu[p];
      const out = new Float64Array(n);
      if (o.nl) {
        const c = o.nl.c, { mean, vs, v } = this.moments(o, law);
        const fz = this.frozen?.get(k);
        const fit: PsiFit = fz ? { v: Math.max(v, 0), c: fz.c.map((x, i) => x + (v - fz.v) * fz.dv[i] + (mean - fz.mean) * fz.dm[i]) } : psiFit(o.nl, mean, Math.max(v, 0), res);
        const gam = lagQuad(p, c, c);
        for (let j = 0; j < n; j++) out[j] = psiEval(fit, vs + gam[j]);
        return { out, q: psiEval(fit, vs) };
      }
      const fm = o.f.f0 + o.f.f1.reduce((t, x, a) => t + x * mu[a], 0), gm = o.g.f0 + o.g.f1.reduce((t, x, a) => t + x * mu[a], 0);
      const q = fm * gm + quad(p, o.f.f1, o.g.f1, law.Ks[p]);
      const gam = lagQuad(p, o.f.f1, o.g.f1);
      for (let j = 0; j < n; j++) out[j] = q + gam[j];
      return { out, q };
    });
    const M = Float64Array.from(m.Ms, (o) => {
      const p = o.pop, mu = law.mu[p];
      if (o.nl) {
        const { mean, v } = this.moments(o, law);
        return atResolution(res.res, () => o.nl!.mean(mean, Math.max(v, 0)));
      }
      return o.f.f0 + o.f.f1.reduce((t, x, a) => t + x * mu[a], 0);
    });
    return { C: C.map((x) => x.out), q: Float64Array.from(C, (x) => x.q), M };
  }
}

const flatten = (s: State): Float64Array => {
  const n = s.C.reduce((t, c) => t + c.length, 0) + s.q.length + s.M.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const c of s.C) { out.set(c, o); o += c.length; }
  out.set(s.q, o); o += s.q.length;
  out.set(s.M, o);
  return out;
};
const unflatten = (x: Float64Array, like: State): State => {
  let o = 0;
  const C = like.C.map((c) => { const v = x.slice(o, o + c.length); o += c.length; return v; });
  const q = x.slice(o, o + like.q.length); o += like.q.length;
  return { C, q, M: x.slice(o, o + like.M.length) };
};

interface GridOutcome { state: State; law: SiteLaw; iterations: number; residual: number; newtonSteps: number; lastStep: number }

const maxAbs = (v: Float64Array): number => { let m = 0; for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i])); return m; };

/** The iteration cannot decide: it diverges or does not converge. */
class Inconclusive extends Error {}

/**
 * GMRES (no restart) for (I − J) δ = r, J v by a forward difference of the map
 * G at x (G(x) given): the Newton correction of the fixed point x = G(x).
 */
function newtonStep(G: (x: Float64Array) => Float64Array, x: Float64Array, gx: Float64Array, r: Float64Array, maxK = 40, tol = 1e-4): Float64Array {
  const n = x.length;
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((t, a) => t + a * a, 0));
  const xs = Math.max(1e-300, maxAbs(x));
  const apply = (v: Float64Array): Float64Array => {
    const vn = maxAbs(v);
    const eps = 1e-7 * xs / vn;
    const gp = G(x.map((a, i) => a + eps * v[i]));
    return v.map((a, i) => a - (gp[i] - gx[i]) / eps);
  };
  const beta = norm(r);
  if (!(beta > 0)) return new Float64Array(n);
  const Q: Float64Array[] = [r.map((a) => a / beta)];
  const H: number[][] = [];
  const cs: number[] = [], sn: number[] = [], e = [beta];
  let k = 0;
  for (; k < maxK; k++) {
    const w = apply(Q[k]);
    const hk = new Array<number>(k + 2).fill(0);
    for (let j = 0; j <= k; j++) { let d = 0; for (let i = 0; i < n; i++) d += w[i] * Q[j][i]; hk[j] = d; for (let i = 0; i < n; i++) w[i] -= d * Q[j][i]; }
    const wn = norm(w);
    hk[k + 1] = wn;
    for (let j = 0; j < k; j++) { const t = cs[j] * hk[j] + sn[j] * hk[j + 1]; hk[j + 1] = -sn[j] * hk[j] + cs[j] * hk[j + 1]; hk[j] = t; }
    const rr = Math.hypot(hk[k], hk[k + 1]);
    cs.push(rr > 0 ? hk[k] / rr : 1); sn.push(rr > 0 ? hk[k + 1] / rr : 0);
    hk[k] = rr; hk[k + 1] = 0;
    e.push(-sn[k] * e[k]); e[k] = cs[k] * e[k];
    H.push(hk);
    if (Math.abs(e[k + 1]) <= tol * beta || !(wn > 0)) { k++; break; }
    Q.push(w.map((a) => a / wn));
  }
  // back substitution H y = e
  const y = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) { let t = e[i]; for (let j = i + 1; j < k; j++) t -= H[j][i] * y[j]; y[i] = t / H[i][i]; }
  const d = new Float64Array(n);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) d[i] += y[j] * Q[j][i];
  return d;
}

/**
 * The fixed point on one grid: the damped map, with Anderson mixing (depth 6)
 * once the residual is below 1e-2 (safeguarded) down to 1e-4, then Newton–Krylov steps (GMRES on a
 * difference Jacobian) until a step changes nothing at 1e-13. The chaotic
 * state has a slowly contracting mode under plain iteration, so the size of
 * the last Newton step, not the residual, bounds the distance to the fixed
 * point. Throws `Inconclusive` when it diverges or does not converge.
 */
function solveGrid(gs: GridSolver, start: State, res: PsiRes): GridOutcome {
  const MAXIT = 600, DEPTH = 6, BETA = 0.5, SWITCH = 1e-4, STEP_TOL = 1e-13, ANDERSON_FROM = 1e-2;
  let x = flatten(start);
  const G = (y: Float64Array) => flatten(gs.map(unflatten(y, start), res).next);
  const hist: { x: Float64Array; f: Float64Array }[] = [];
  let best = Infinity, stall = 0, newton = 0, lastStep = Infinity, prevStep = Infinity;
  let scale0: number | undefined;
  let prev: { x: Float64Array; r: Float64Array; rn: number; scale: number } | undefined, andersonStep = false;
  // far from the fixed point a coarse Ψ (24 nodes) steers as well: the fine one only from the Newton phase on
  let far = true;
  for (let it = 1; it <= MAXIT; it++) {
    const { next, law } = gs.map(unflatten(x, start), far ? PSI_FAR : res);
    const fx = flatten(next);
    let rn = 0, scale = 1e-300;
    for (let i = 0; i < x.length; i++) { rn = Math.max(rn, Math.abs(fx[i] - x[i])); scale = Math.max(scale, Math.abs(fx[i])); }
    // an Anderson step that collapses the correlations or blows up the residual left the physical states
    // (a negative variance reads as the quiet state): take the plain damped step from before it instead
    if (prev && andersonStep && (scale < 0.7 * prev.scale || rn > 4 * prev.rn)) {
      x = prev.x.map((v, i) => v + BETA * prev!.r[i]);
      hist.length = 0; andersonStep = false;
      continue;
    }
    scale0 ??= scale;
    // everything decays (a quiet fixed point): converged once it is negligible against the start
    if (scale <= 1e-13 * scale0) return { state: next, law, iterations: it, residual: rn / scale0, newtonSteps: newton, lastStep: 0 };
    if (!Number.isFinite(rn) || scale > 1e150) throw new Inconclusive(`the iteration diverges (the correlations grow to ${fmt(scale)} after ${it} steps): the fields' variance feeds back with a loop gain above 1, or the start is far from a stationary state`);
    const r = fx.map((v, i) => v - x[i]);
    if (rn <= SWITCH * scale && far) { far = false; hist.length = 0; prev = undefined; continue; }
    if (rn <= SWITCH * scale) {
      // converged; or at the map's own noise floor (adaptive quadrature): steps stop shrinking well below the
      // grid's and Ψ's errors — the last step then goes into the error bar (lastStep)
      const floor = lastStep <= 1e-9 * scale && lastStep > 0.3 * prevStep;
      if ((lastStep <= STEP_TOL * scale && rn <= STEP_TOL * scale) || floor) return { state: next, law, iterations: it, residual: rn / scale, newtonSteps: newton, lastStep: lastStep / scale };
      if (newton >= 12) throw new Inconclusive(`Newton's method does not converge (last step ${(lastStep / scale).toExponential(2)} relative after ${newton} steps)`);
      // the Jacobian's products see Ψ linearized in (mean, variance) at x: exact to first order, and cheap
      gs.linearizePsi(law, res);
      let d: Float64Array;
      try { d = newtonStep(G, x, fx, r); } finally { gs.frozen = undefined; }
      newton++;
      prevStep = lastStep;
      lastStep = maxAbs(d);
      x = x.map((v, i) => v + d[i]);
      continue;
    }
    if (rn < best * 0.999) { best = rn; stall = 0; } else if (++stall > 60) throw new Inconclusive(`the iteration does not converge (residual ${(rn / scale).toExponential(2)} relative after ${it} steps)`);
    prev = { x, r, rn, scale };
    hist.push({ x, f: r });
    if (hist.length > DEPTH + 1) hist.shift();
    // Anderson: minimize ‖r − ΔR γ‖ over the differences of the last residuals
    const k = hist.length - 1;
    let xn = x.map((v, i) => v + BETA * r[i]);
    andersonStep = false;
    // Anderson only near the fixed point: far from it, its extrapolation can leave the physical states
    if (k >= 1 && rn <= ANDERSON_FROM * scale) {
      const dR = Array.from({ length: k }, (_, j) => hist[j + 1].f.map((v, i) => v - hist[j].f[i]));
      const dX = Array.from({ length: k }, (_, j) => hist[j + 1].x.map((v, i) => v - hist[j].x[i]));
      const Gm = dR.map((a) => dR.map((b) => a.reduce((t, v, i) => t + v * b[i], 0)));
      const rhs = dR.map((a) => a.reduce((t, v, i) => t + v * r[i], 0));
      const tr = Gm.reduce((t, row, i) => t + row[i], 0);
      for (let i = 0; i < k; i++) Gm[i][i] += 1e-12 * tr + 1e-300;
      const gam = solveDense(Gm, rhs);
      if (gam && gam.every(Number.isFinite)) {
        andersonStep = true;
        xn = x.map((v, i) => {
          let t = v + BETA * r[i];
          for (let j = 0; j < k; j++) t -= gam[j] * (dX[j][i] + BETA * dR[j][i]);
          return t;
        });
      }
    }
    x = xn;
  }
  throw new Inconclusive(`the iteration does not converge within ${MAXIT} steps`);
}

/** The mean of a declared initial condition (0 when none): the dynamics' branch of a symmetry-broken mean starts there. */
function initialMean(init: InitSpec | undefined, params: Record<string, number>): number {
  if (!init) return 0;
  if (init.kind === 'value') return constantValue(init.value, params) ?? 0;
  return lawMean(init.dist, params) ?? 0;
}

/** Start: each variable fluctuating with unit variance, decaying like e^{−|τ|}, at its declared initial mean (the closure's own map then sets every tracked C). */
function startState(gs: GridSolver, res: PsiRes, amp: number): State {
  const { m, g } = gs;
  const n = g.n;
  const law: SiteLaw = {
    mu: m.pops.map((P) => Float64Array.from(P.r.variables, (v) => initialMean(v.init, m.params))),
    Ks: m.pops.map((P) => new Float64Array(P.V * P.V)),
    Ky: m.pops.map((P) => Array.from({ length: P.V * P.V }, (_, ab) => Float64Array.from({ length: n }, (_, j) => (Math.floor(ab / P.V) === ab % P.V ? amp * Math.exp(-Math.abs(lagOf(g, j))) : 0)))),
  };
  return gs.closure(law, res);
}

/** Resample a state to another grid (linear interpolation in the lag; outside the old range: the static value). */
function resample(s: State, from: Grid, to: Grid): State {
  const C = s.C.map((c, k) => Float64Array.from({ length: to.n }, (_, j) => {
    const tau = lagOf(to, j), x = tau / from.h;
    if (Math.abs(x) >= from.n / 2 - 1) return s.q[k];
    const i0 = Math.floor(x), fr = x - i0, at = (i: number) => c[((i % from.n) + from.n) % from.n];
    return at(i0) * (1 - fr) + at(i0 + 1) * fr;
  }));
  return { C, q: s.q.slice(), M: s.M.slice() };
}

// ---- entry ----------------------------------------------------------------------

/** Why this solver does not apply to a reading (undefined if it does). */
export function whyNotNonlinear(rd: SystemReading): string | undefined {
  const b = build(rd);
  return typeof b === 'string' ? b : undefined;
}

/** The stationary state of a Gaussian site with nonlinear order parameters (refuses with the reason when it does not apply). */
export function solveStationaryNonlinear(rd: SystemReading, opts?: { T: number; dt: number }): StationaryOutcome {
  const built = build(rd);
  if (typeof built === 'string') return { unsupported: built };
  const m = built;
  checkRelaxes(m);
  const tau = tauGrid(opts);
  const twoTime = rd.observables.some((o) => o.def.times.length > 1);
  // the step divides the output grid's, the period covers twice its range
  const dtOut = tau.length > 1 ? tau[1] - tau[0] : 0.1;
  let h = 0.1 / m.ws;
  if (twoTime) h = dtOut / Math.ceil(dtOut / h - 1e-9);
  const minPeriod = Math.max(256 / m.ws, twoTime ? 2 * (tau[tau.length - 1] + 20 / m.ws) : 0);
  const sizeFor = (hh: number) => 2 ** Math.max(8, Math.ceil(Math.log2(minPeriod / hh - 1e-9)));
  const MAXN = 1 << 17;

  const params = m.params;
  const named = Object.entries(params).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ');
  const run = (g: Grid, warm: { s: State; g: Grid } | undefined, res: PsiRes) => {
    const gs = new GridSolver(m, g);
    const start = warm ? resample(warm.s, warm.g, g) : startState(gs, res, 1);
    return { gs, g, out: solveGrid(gs, start, res) };
  };
  const lawsOf = (law: SiteLaw): Law[] => m.pops.map((P, p) => ({
    mean: law.mu[p].slice(),
    cov: Array.from({ length: P.V }, (_, a) => Float64Array.from({ length: P.V }, (_, b) => law.Ks[p][a * P.V + b] + law.Ky[p][a * P.V + b][0])),
  }));
  const obsOf = (law: SiteLaw) => observables(rd, lawsOf(law));

  let base: ReturnType<typeof run>;
  try {
    let g: Grid = { n: sizeFor(h), h };
    base = run(g, undefined, PSI);
    // flat: no fluctuation and no noise — a static fixed point, the static solver's
    const fl = m.pops.map((P, p) => { let t = 0; for (let a = 0; a < P.V; a++) t = Math.max(t, base.out.law.Ky[p][a * P.V + a][0]); return t; });
    const sc = m.pops.map((P, p) => { let t = 1e-300; for (let a = 0; a < P.V; a++) t = Math.max(t, base.out.law.Ks[p][a * P.V + a] + base.out.law.mu[p][a] ** 2); return t; });
    // (against the static part, or the unit variance the iteration starts from when the state decays to 0)
    if (!m.noisy && fl.every((x, p) => x <= 1e-9 * Math.max(sc[p], 1))) {
      return { unsupported: `the stationary state is static (the fluctuation dies out, C(τ) is flat): a fixed point, which the static solver gives${named ? ` (at ${named})` : ''}` };
    }
    const meanWhy = meanModeUnstable(m, base.gs, base.out.law);
    if (meanWhy) return { unsupported: `the stationary state found from the declared initial means is ${meanWhy}; the dynamics leaves it for another (symmetry-broken) state${named ? ` (at ${named})` : ''}` };
    // refine the range and the step until the observables stop moving
    let errL = Infinity, errH = Infinity;
    for (;;) {
      const v0 = obsOf(base.out.law).values;
      const longer = run({ n: 2 * g.n, h: g.h }, { s: base.out.state, g }, PSI);
      const finer = run({ n: 2 * g.n, h: g.h / 2 }, { s: base.out.state, g }, PSI);
      const vL = obsOf(longer.out.law).values, vH = obsOf(finer.out.law).values;
      errL = 0; errH = 0;
      for (const k of Object.keys(v0)) {
        errL = Math.max(errL, Math.abs(vL[k] - v0[k]) / (1 + Math.abs(v0[k])));
        errH = Math.max(errH, Math.abs(vH[k] - v0[k]) / (1 + Math.abs(v0[k])));
      }
      const ok = errL <= 1e-8 && errH <= 1e-8;
      if (ok || 4 * g.n > MAXN) {
        const diag = { gridRangeChange: errL, gridStepChange: errH };
        return finish(rd, m, base, longer, finer, diag, ok, tau, twoTime, run, lawsOf, obsOf);
      }
      if (errL > 1e-8 && errH > 1e-8) { g = { n: 4 * g.n, h: g.h / 2 }; base = run(g, { s: finer.out.state, g: finer.g }, PSI); }
      else if (errL > 1e-8) { g = longer.g; base = longer; }
      else { g = finer.g; base = finer; }
    }
  } catch (e) {
    if (e instanceof Inconclusive) return { unsupported: `inconclusive: ${e.message}${named ? ` (at ${named})` : ''}` };
    throw e;
  }
}

type Run = { gs: GridSolver; g: Grid; out: GridOutcome };

/**
 * The mean mode: a perturbation δμ of the means at fixed fluctuation statistics
 * moves the mean fields, d δμ/dt = (A + ∂h/∂M ∂M/∂μ) δμ over every variable of
 * every population (lets eliminated). Unstable when an eigenvalue has Re ≥ 0:
 * the reason, else undefined.
 */
function meanModeUnstable(m: NModel, gs: GridSolver, law: SiteLaw): string | undefined {
  if (!m.Ms.length) return undefined;
  const off: number[] = [];
  let nv = 0;
  for (const P of m.pops) { off.push(nv); nv += P.V; }
  const Mof = (mu: Float64Array[]) => gs.closure({ mu, Ks: law.Ks, Ky: law.Ky }, PSI).M;
  const rhs = (mu: Float64Array[]) => {
    const M = new Map(m.Ms.map((o, i) => [o.name, Mof(mu)[i]]));
    const out = new Float64Array(nv);
    m.pops.forEach((P, p) => {
      const h = P.h(M);
      for (let a = 0; a < P.V; a++) { let t = h[a]; for (let b = 0; b < P.V; b++) t += P.A[a * P.V + b] * mu[p][b]; out[off[p] + a] = t; }
    });
    return out;
  };
  const J = Array.from({ length: nv }, () => new Array<number>(nv).fill(0));
  m.pops.forEach((P, p) => {
    for (let b = 0; b < P.V; b++) {
      const dh = 1e-6 * (1 + Math.abs(law.mu[p][b]));
      const up = law.mu.map((x) => x.slice()), dn = law.mu.map((x) => x.slice());
      up[p][b] += dh; dn[p][b] -= dh;
      const fu = rhs(up), fd = rhs(dn);
      for (let i = 0; i < nv; i++) J[i][off[p] + b] = (fu[i] - fd[i]) / (2 * dh);
    }
  });
  const dyn = m.pops.flatMap((P) => P.dyn);
  const d = dyn.flatMap((x, i) => (x ? [i] : [])), l = dyn.flatMap((x, i) => (x ? [] : [i]));
  let Jeff = d.map((i) => d.map((j) => J[i][j]));
  if (l.length) {
    const IL = l.map((i) => l.map((j) => (i === j ? 1 : 0) - J[i][j]));
    const X = d.map((j) => solveDense(IL, l.map((i) => J[i][j])));
    if (X.some((x) => !x)) return 'singular in the mean mode (its lets cannot be solved)';
    Jeff = d.map((i, r) => d.map((j, c) => Jeff[r][c] + l.reduce((t, k, kk) => t + J[i][k] * X[c]![kk], 0)));
  }
  if (!d.length) return undefined;
  const worst = Math.max(...new EigenvalueDecomposition(new Matrix(Jeff)).realEigenvalues);
  return worst >= -1e-9 ? `unstable in the mean mode (an eigenvalue of the means' linearized flow has real part ${fmt(worst)} ≥ 0)` : undefined;
}

function finish(
  rd: SystemReading, m: NModel, base: Run, longer: Run, finer: Run, gridDiag: Record<string, number>, converged: boolean,
  tau: number[], twoTime: boolean,
  run: (g: Grid, warm: { s: State; g: Grid } | undefined, res: PsiRes) => Run,
  lawsOf: (law: SiteLaw) => Law[], obsOf: (law: SiteLaw) => { values: Record<string, number>; errors: Record<string, number> },
): StationaryOutcome {
  const { values: limit, errors } = obsOf(base.out.law);
  const vL = obsOf(longer.out.law).values, vH = obsOf(finer.out.law).values;
  // the change with a finer Ψ (more Chebyshev nodes, finer 2-D quadrature), on the same grid
  const check = run(base.g, { s: base.out.state, g: base.g }, PSI_CHECK);
  const vQ = obsOf(check.out.law).values;
  const limitError: Record<string, number> = table();
  for (const k of Object.keys(limit)) {
    // (the last Newton step, relative to the correlations' scale, bounds the distance to the fixed point)
    // (the step's change counted twice: the remaining error of a first-order convergence, the slowest seen —
    // noise-driven sites converge like h^1.7 after the kink and tail corrections, smooth chaotic ones spectrally)
    limitError[k] = errors[k] + Math.abs(vL[k] - limit[k]) + 2 * Math.abs(vH[k] - limit[k]) + Math.abs(vQ[k] - limit[k]) + (1e-12 + 10 * base.out.lastStep) * (1 + Math.abs(limit[k]));
  }
  const law = base.out.law;
  let tauOut: Record<string, { tau: number[]; values: number[] }> = table();
  if (twoTime) {
    const step = Math.round((tau.length > 1 ? tau[1] - tau[0] : base.g.h) / base.g.h);
    const cross = (p: number, k: number): Float64Array[] => {
      const V = m.pops[p].V;
      return Array.from({ length: V }, (_, a) => Float64Array.from({ length: V }, (_, b) => law.Ks[p][a * V + b] + law.Ky[p][a * V + b][k * step]));
    };
    tauOut = twoTimeObservables(rd, lawsOf(law), cross, tau);
  }
  const diagnostics: Record<string, number | string | boolean> = {
    method: 'stationary (frequency domain, nonlinear closure, vector sites)',
    regime: 'gaussian-nonlinear-vector',
    state: m.noisy ? 'noise-driven' : 'chaotic',
    iterations: base.out.iterations,
    newtonSteps: base.out.newtonSteps,
    lastNewtonStep: base.out.lastStep,
    residual: base.out.residual,
    gridPoints: base.g.n, gridStep: base.g.h, gridPeriod: base.g.n * base.g.h,
    ...gridDiag,
    gridConverged: converged,
    psi: `Chebyshev ${PSI.nc} in θ = arccos(γ/v); check ${PSI_CHECK.nc} at quadrature resolution ×${PSI_CHECK.res}`,
  };
  m.pops.forEach((P, p) => P.r.variables.forEach((v, a) => {
    const V = P.V;
    diagnostics[`Delta0[${v.name}]`] = law.Ks[p][a * V + a] + law.Ky[p][a * V + a][0];
    diagnostics[`q[${v.name}]`] = law.Ks[p][a * V + a];
    diagnostics[`mu[${v.name}]`] = law.mu[p][a];
  }));
  if (!converged) {
    const worst = Object.keys(limit).map((k) => limitError[k] / (1 + Math.abs(limit[k]))).reduce((a, b) => Math.max(a, b), 0);
    diagnostics.note = `the lag grid did not converge to 1e-8 within ${base.g.n} points; the error bars carry the change under refinement (relative ${worst.toExponential(2)})`;
  }
  return { limit, limitError, tau: tauOut, diagnostics };
}
