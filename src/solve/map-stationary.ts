// The stationary state of an affine map with memory (gradient descent, SGD and
// its noise floor), solved directly on the step grid (docs/discrete-time.md).
//
// When every variable of every site is affine in the site's variables, fields,
// quenched inputs and memory sums Σ_{s<t} R(t,s) g(s) (plus the same-step
// R(t,t) g(t)), and an input drawn afresh at every step only multiplies an
// affine quantity, the t → ∞ state is time-translation invariant and solved in
// three linear parts:
//   1. responses: R(t,s) of an affine site depends on t − s only (its equations
//      do not involve correlations or the initial state), so R(τ) is the
//      causal impulse response, computed lag by lag until it has decayed (a
//      response that grows is a map past its stability edge: divergent; one
//      that has not decayed by MAX_LAG steps is marginal);
//   2. the static part (the δ at zero frequency): quenched inputs, constant
//      drives and the frozen part of the fields, x_s = D(1)⁻¹(…), with
//      D(z) = diag(z for a state, 1 for a let) − A − Σ E R(z) g; the static
//      correlations are linear in themselves and solved as a linear system;
//   3. the fluctuations: an input s drawn afresh multiplying q is
//      E s·q + ν, ν white noise of variance Var s·⟨q²⟩ (independent of the
//      past and of q). At z = e^{iω} the spectra of the correlations are linear
//      in themselves (through the field spectra) and in the noise levels; the
//      noise levels are linear in the equal-time moments, which are integrals
//      of the spectra over ω ∈ [0, π]: a small linear system. Its loop gain
//      must be below 1 (else the noise feeds itself and the second moments
//      grow: divergent, as SGD past its edge, or marginal at it).
// The trapezoidal rule over ω is spectrally accurate for these periodic analytic
// integrands; the grid doubles until two levels agree, and the error bar is
// their difference plus a round-off floor amplified by the loop's inverse.
// Nothing here knows a model: it reads the derived equations.
import { DmftError } from '../errors.ts';
import { some, type Expr } from '../expr/ast.ts';
import { constantValue } from '../expr/eval.ts';
import { compile } from '../expr/compile.ts';
import { degree } from '../expr/diff.ts';
import { print } from '../expr/print.ts';
import { moments } from '../model/moments.ts';
import { complexGaussJordanInPlace, inverse, solveDense } from '../numeric/linalg.ts';
import type { DmftSystem } from '../derive/system.ts';

/** most lags of the response before it must have decayed */
const MAX_LAG = 4000;
/** the window over which the response's envelope is measured */
const WINDOW = 40;
/** the largest frequency grid (points on [0, π]) before the spectra count as unresolved */
const MAX_GRID = 1 << 14;
/** loop gains within this of 1 are at the stability edge */
const EDGE = 1e-3;

export type MapStationary =
  | { status: 'value'; reason: string; observable: (e: Expr) => { value: number; error: number } }
  | { status: 'marginal' | 'divergent'; reason: string }
  | { status: 'inapplicable'; reason: string };

/** an affine quantity of a site at one step */
interface Lin {
  c: number;
  x: Float64Array;
  eta: Float64Array;
  q: Float64Array;
  /** coefficients of the white noises ν_j of the population */
  nu: Map<number, number>;
  mem: Mem[];
}
interface Mem { k: number; part: 'zero' | 'past'; coef: number; g: Lin }
interface Noise { input: number; mean: number; var: number; q: Lin; key: string }
interface CovLin { c0: number; terms: { k: number; w: number; swapped: boolean }[] }
interface Pop {
  name: string;
  vars: string[];
  dyn: boolean[];
  eqs: Lin[];
  fields: string[];
  /** field covariances [e][e'] (e ≤ e'), written ⟨η_e(t) η_e'(s)⟩ */
  cov: (CovLin | undefined)[][];
  inputs: string[];
  qMean: number[];
  qVar: number[];
  steps: { name: string; mean: number; var: number }[];
  noises: Noise[];
}
interface Imp { p: number; e: number; h: Float64Array[]; busy: number[]; g: Map<Lin, Float64Array> }
const nanArray = (n: number) => new Float64Array(n).fill(NaN);
const growNaN = (a: Float64Array, n: number) => { const b = nanArray(Math.max(2 * a.length, n)); b.set(a); return b; };
interface Kernel { name: string; pop: number; f: Lin; slot: number }
interface Corr { name: string; pop: number; f: Lin; g: Lin }

/** the system is not an affine map with memory, or an observable is not a second moment */
export class Inapplicable extends Error {}
const refuse = (why: string): never => { throw new Inapplicable(why); };

/** Solves the stationary state when the system is an affine map with memory; 'inapplicable' (with the reason) otherwise. */
export function solveMapStationary(sys: DmftSystem, params: Record<string, number>): MapStationary {
  let m: Model;
  try { m = new Model(sys, params); } catch (e) {
    if (e instanceof Inapplicable) return { status: 'inapplicable', reason: e.message };
    throw e;
  }
  return m.solve();
}

const zeros = (n: number) => new Float64Array(n);

class Model {
  pops: Pop[] = [];
  kernels: Kernel[] = [];
  corrs: Corr[] = [];
  private kIdx = new Map<string, number>();
  private cIdx = new Map<string, number>();

  constructor(private sys: DmftSystem, private params: Record<string, number>) {
    if (sys.time !== 'discrete') refuse('not a map');
    const popIdx = new Map(sys.populations.map((p, i) => [p.name, i]));
    for (const p of sys.populations) {
      const pop: Pop = {
        name: p.name, vars: p.variables.map((v) => v.name), dyn: p.variables.map((v) => v.kind === 'dynamic'), eqs: [],
        fields: p.fields.map((f) => f.name), cov: [], inputs: [], qMean: [], qVar: [], steps: [], noises: [],
      };
      for (const v of p.variables) if (v.lower !== undefined || v.upper !== undefined) refuse(`the state ${v.name} is bounded`);
      for (const i of p.inputs) {
        const mo = i.kind === 'noise' ? undefined : moments(i.dist);
        if (!mo) refuse(`the input ${i.name} has no finite mean and variance`);
        const mean = this.num(mo!.mean), v = this.num(mo!.var);
        if (i.kind === 'step') pop.steps.push({ name: i.name, mean, var: v });
        else { pop.inputs.push(i.name); pop.qMean.push(mean); pop.qVar.push(v); }
      }
      this.pops.push(pop);
    }
    for (const o of sys.orderParams) {
      const pi = popIdx.get(o.pop)!;
      if (o.kind === 'R') { this.kIdx.set(o.name, this.kernels.length); this.kernels.push({ name: o.name, pop: pi, f: undefined as unknown as Lin, slot: this.pops[pi].fields.indexOf(o.slot!) }); }
      else if (o.kind === 'C') { this.cIdx.set(o.name, this.corrs.length); this.corrs.push({ name: o.name, pop: pi, f: undefined as unknown as Lin, g: undefined as unknown as Lin }); }
    }
    sys.populations.forEach((p, pi) => {
      const pop = this.pops[pi];
      pop.eqs = p.variables.map((v) => this.lin(v.rhs, pi, 't', true));
      pop.cov = pop.fields.map(() => pop.fields.map(() => undefined));
      p.fields.forEach((f, e) => { pop.cov[e][e] = this.covLin(f.cov); });
      for (const x of p.cross) {
        const a = pop.fields.indexOf(x.a), b = pop.fields.indexOf(x.b);
        const cl = this.covLin(x.cov);
        if (a <= b) pop.cov[a][b] = cl;
        else pop.cov[b][a] = { c0: cl.c0, terms: cl.terms.map((t) => ({ ...t, swapped: !t.swapped })) };
      }
    });
    for (const o of sys.orderParams) {
      const pi = popIdx.get(o.pop)!;
      if (o.kind === 'M') refuse('a mean order parameter (M) enters the equations');
      const f = this.lin(o.f, pi, 't', false);
      if (o.kind === 'R') this.kernels[this.kIdx.get(o.name)!].f = f;
      else { const c = this.corrs[this.cIdx.get(o.name)!]; c.f = f; c.g = o.g ? this.lin(o.g, pi, 't', false) : f; }
    }
  }

  private num(e: Expr): number {
    const v = constantValue(e, this.params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${print(e)} is not a finite number at the given parameters` });
    return v;
  }

  private blank(p: number): Lin {
    const P = this.pops[p];
    return { c: 0, x: zeros(P.vars.length), eta: zeros(P.fields.length), q: zeros(P.inputs.length), nu: new Map(), mem: [] };
  }

  private scale(a: Lin, s: number): Lin {
    return { c: a.c * s, x: a.x.map((v) => v * s), eta: a.eta.map((v) => v * s), q: a.q.map((v) => v * s), nu: new Map([...a.nu].map(([k, v]) => [k, v * s])), mem: a.mem.map((m) => ({ ...m, coef: m.coef * s })) };
  }

  private plus(a: Lin, b: Lin): Lin {
    const nu = new Map(a.nu);
    for (const [k, v] of b.nu) nu.set(k, (nu.get(k) ?? 0) + v);
    return { c: a.c + b.c, x: a.x.map((v, i) => v + b.x[i]), eta: a.eta.map((v, i) => v + b.eta[i]), q: a.q.map((v, i) => v + b.q[i]), nu, mem: [...a.mem, ...b.mem] };
  }

  private isConst(e: Expr): boolean { return !some(e, (x) => x.k === 'ref' || x.k === 'op' || x.k === 'int' || x.k === 'avg'); }

  /** the white noise ν = (s − E s)·q of a step input s times an affine q (one per distinct q) */
  private noise(p: number, input: number, q: Lin): Lin {
    if (q.nu.size || q.mem.length) refuse('an input drawn at every step multiplies a memory sum or another such input');
    const P = this.pops[p], s = P.steps[input];
    const key = `${input}|${q.c}|${q.x.join(',')}|${q.eta.join(',')}|${q.q.join(',')}`;
    let j = P.noises.findIndex((n) => n.key === key);
    if (j < 0) { j = P.noises.length; P.noises.push({ input, mean: s.mean, var: s.var, q, key }); }
    const out = this.scale(q, s.mean);
    out.nu.set(j, 1);
    return out;
  }

  /** An expression of population p at time tv as an affine quantity (refused when it is not). */
  private lin(e: Expr, p: number, tv: string, allowMem: boolean): Lin {
    const P = this.pops[p];
    if (this.isConst(e)) { const l = this.blank(p); l.c = this.num(e); return l; }
    const atT = (x: Expr & { k: 'ref' }) => x.at?.k === 'sym' && x.at.name === tv;
    switch (e.k) {
      case 'ref': {
        const l = this.blank(p);
        let i: number;
        if ((i = P.vars.indexOf(e.name)) >= 0 && atT(e)) { l.x[i] = 1; return l; }
        if ((i = P.fields.indexOf(e.name)) >= 0 && atT(e)) { l.eta[i] = 1; return l; }
        if ((i = P.inputs.indexOf(e.name)) >= 0 && !e.at) { l.q[i] = 1; return l; }
        if ((i = P.steps.findIndex((s) => s.name === e.name)) >= 0 && atT(e)) { l.c = 1; return this.noise(p, i, l); }
        return refuse(`${print(e)} is not a variable, field or input of the site at step ${tv}`);
      }
      case 'add': return e.terms.map((t) => this.lin(t, p, tv, allowMem)).reduce((a, b) => this.plus(a, b));
      case 'mul': {
        let c = 1;
        const rest: Expr[] = [];
        for (const f of e.factors) if (this.isConst(f)) c *= this.num(f); else rest.push(f);
        if (rest.length === 0) { const l = this.blank(p); l.c = c; return l; }
        const stepIn = rest.findIndex((f) => f.k === 'ref' && P.steps.some((s) => s.name === f.name));
        if (stepIn >= 0) {
          const f = rest[stepIn] as Expr & { k: 'ref' };
          if (!atT(f)) refuse(`${print(f)} is not at step ${tv}`);
          const others = rest.filter((_, k) => k !== stepIn);
          const q = others.length ? this.lin(others.length === 1 ? others[0] : { k: 'mul', factors: others }, p, tv, false) : (() => { const l = this.blank(p); l.c = 1; return l; })();
          return this.scale(this.noise(p, P.steps.findIndex((s) => s.name === f.name), q), c);
        }
        const opAt = rest.findIndex((f) => f.k === 'op');
        if (opAt >= 0) {
          const o = rest[opAt] as Expr & { k: 'op' };
          const k = this.kIdx.get(o.name);
          const args = o.args.map((a) => (a.k === 'sym' ? a.name : '?'));
          if (!allowMem || k === undefined || args[0] !== tv || args[1] !== tv) return refuse(`${print(o)} in a site's equation is not a same-step response`);
          const others = rest.filter((_, j) => j !== opAt);
          const g = others.length ? this.lin(others.length === 1 ? others[0] : { k: 'mul', factors: others }, p, tv, false) : (() => { const l = this.blank(p); l.c = 1; return l; })();
          const l = this.blank(p); l.mem.push({ k, part: 'zero', coef: c, g }); return l;
        }
        if (rest.length !== 1) return refuse(`${print(e)} is not affine`);
        return this.scale(this.lin(rest[0], p, tv, allowMem), c);
      }
      case 'int': {
        if (!allowMem) refuse('a memory sum inside a memory sum');
        const lo = constantValue(e.lo, this.params);
        const hi = e.hi;
        const hiOk = hi.k === 'add' && hi.terms.length === 2 && hi.terms.some((x) => x.k === 'sym' && x.name === tv) && hi.terms.some((x) => x.k === 'num' && x.v === -1);
        if (lo !== 0 || !hiOk) refuse(`the sum ${print(e)} is not over the past steps 0 … ${tv} − 1`);
        const body = e.body.k === 'mul' ? e.body.factors : [e.body];
        const at = body.findIndex((f) => f.k === 'op' && this.kIdx.has(f.name) && f.args.length === 2 && f.args[0].k === 'sym' && f.args[0].name === tv && f.args[1].k === 'sym' && f.args[1].name === e.v);
        if (at < 0) refuse(`the memory sum ${print(e)} has no response kernel R(${tv}, ${e.v})`);
        const others = body.filter((_, j) => j !== at);
        const g = this.lin(others.length === 1 ? others[0] : { k: 'mul', factors: others }, p, e.v, false);
        const l = this.blank(p); l.mem.push({ k: this.kIdx.get((body[at] as Expr & { k: 'op' }).name)!, part: 'past', coef: 1, g }); return l;
      }
      default: return refuse(`${print(e)} is not affine in the site's variables`);
    }
  }

  /** a field covariance as Σ w·C_k(t,s) (or (s,t)) + constant */
  private covLin(e: Expr): CovLin {
    const out: CovLin = { c0: 0, terms: [] };
    const walk = (x: Expr, w: number): void => {
      if (this.isConst(x)) { out.c0 += w * this.num(x); return; }
      if (x.k === 'add') { x.terms.forEach((t) => walk(t, w)); return; }
      if (x.k === 'mul') {
        let c = w; const rest = x.factors.filter((f) => { if (this.isConst(f)) { c *= this.num(f); return false; } return true; });
        if (rest.length === 1) { walk(rest[0], c); return; }
      }
      if (x.k === 'op' && this.cIdx.has(x.name) && x.args.length === 2 && x.args.every((a) => a.k === 'sym')) {
        const [a, b] = x.args.map((y) => (y as Expr & { k: 'sym' }).name);
        if (a === 't' && b === 's') { out.terms.push({ k: this.cIdx.get(x.name)!, w, swapped: false }); return; }
        if (a === 's' && b === 't') { out.terms.push({ k: this.cIdx.get(x.name)!, w, swapped: true }); return; }
      }
      refuse(`the field covariance ${print(e)} is not a linear combination of correlations C(t, s)`);
    };
    walk(e, 1);
    return out;
  }

  // ---- 1. responses, lag by lag -----------------------------------------------------
  R: Float64Array[] = [];
  L = 0;
  /** impulse responses of the variables (and of the memory sums' bodies) of population p to its field e at lag 0 */
  private imps = new Map<string, Imp>();

  private imp(p: number, e: number): Imp {
    const key = `${p}|${e}`;
    let i = this.imps.get(key);
    if (!i) { i = { p, e, h: this.pops[p].vars.map(() => nanArray(64)), busy: this.pops[p].vars.map(() => -1), g: new Map() }; this.imps.set(key, i); }
    return i;
  }

  /** the value at lag τ of the impulse response of a Lin */
  private resp(imp: Imp, l: Lin, tau: number): number {
    let v = tau === 0 ? l.eta[imp.e] : 0;
    for (let a = 0; a < l.x.length; a++) if (l.x[a] !== 0) v += l.x[a] * this.hv(imp, a, tau);
    for (const m of l.mem) {
      if (m.part === 'zero') { v += m.coef * this.kernelAt(m.k, 0) * this.resp(imp, m.g, tau); continue; }
      if (tau === 0) continue;
      this.kernelAt(m.k, tau);
      const R = this.R[m.k];
      const g = this.gvals(imp, m.g, tau - 1);
      let s = 0;
      for (let sg = 1; sg <= tau; sg++) s += R[sg] * g[tau - sg];
      v += m.coef * s;
    }
    return v;
  }

  /** the body of a memory sum at lags 0 … upto */
  private gvals(imp: Imp, g: Lin, upto: number): Float64Array {
    let arr = imp.g.get(g) ?? nanArray(64);
    if (upto >= arr.length) arr = growNaN(arr, upto + 1);
    imp.g.set(g, arr);
    for (let t = 0; t <= upto; t++) if (Number.isNaN(arr[t])) arr[t] = this.resp(imp, g, t);
    return arr;
  }

  private hv(imp: Imp, a: number, tau: number): number {
    if (tau >= imp.h[a].length) imp.h[a] = growNaN(imp.h[a], tau + 1);
    const hit = imp.h[a][tau];
    if (!Number.isNaN(hit)) return hit;
    const P = this.pops[imp.p];
    let v: number;
    if (P.dyn[a]) v = tau === 0 ? 0 : this.resp(imp, P.eqs[a], tau - 1);
    else {
      if (imp.busy[a] === tau) refuse(`the lets at one step depend on each other (${P.vars[a]})`);
      imp.busy[a] = tau;
      v = this.resp(imp, P.eqs[a], tau);
      imp.busy[a] = -1;
    }
    imp.h[a][tau] = v;
    return v;
  }

  private kernelAt(k: number, tau: number): number {
    if (tau < this.R[k].length && !Number.isNaN(this.R[k][tau])) return this.R[k][tau];
    if (tau >= this.R[k].length) this.R[k] = growNaN(this.R[k], tau + 1);
    const K = this.kernels[k];
    const v = this.resp(this.imp(K.pop, K.slot), K.f, tau);
    this.R[k][tau] = v;
    return v;
  }

  /** R(τ) for every kernel until it has decayed; undefined when it did, else the verdict */
  private responses(): MapStationary | undefined {
    this.R = this.kernels.map(() => nanArray(64));
    if (!this.kernels.length) { this.L = 0; return undefined; }
    let peak = 0, prevWin = NaN, grow = 0;
    const wins: number[] = [];
    for (let tau = 0; ; tau++) {
      let mx = 0;
      for (let k = 0; k < this.kernels.length; k++) mx = Math.max(mx, Math.abs(this.kernelAt(k, tau)));
      if (!Number.isFinite(mx)) return { status: 'divergent', reason: `the response overflows at lag ${tau}: the map is past its stability edge` };
      peak = Math.max(peak, mx);
      if ((tau + 1) % WINDOW === 0) {
        const w = Math.max(...this.kernels.map((_, k) => Math.max(...Array.from(this.R[k].subarray(tau + 1 - WINDOW, tau + 1), Math.abs))));
        wins.push(w);
        // drop memoized impulse values older than every sum can still need? (all are needed: sums reach lag 0)
        if (w <= 1e-17 * peak || (w === 0)) { this.L = tau; return undefined; }
        const ratio = w / prevWin;
        grow = ratio > 1 + 1e-9 ? grow + 1 : 0;
        if (grow >= 4 && w > 1e3 * wins[0]) {
          const perStep = ratio ** (1 / WINDOW);
          return { status: 'divergent', reason: `the map's response grows by ×${perStep.toPrecision(4)} per step: past its stability edge (e.g. a learning rate too large for the curvature)` };
        }
        prevWin = w;
        // a response that will not decay within MAX_LAG lags at its present rate: stop early
        if (wins.length >= 8 && ratio < 1) {
          const perStep = ratio ** (1 / WINDOW);
          const need = tau + Math.log((1e-17 * peak) / w) / Math.log(perStep);
          if (need > MAX_LAG) return this.tooSlow(perStep);
        }
      }
      if (tau >= MAX_LAG) return this.tooSlow((wins[wins.length - 1] / wins[wins.length - 2]) ** (1 / WINDOW));
    }
  }

  /**
   * A response that does not decay within MAX_LAG lags: flat (within 1e-4 per
   * step of no decay at all) is a stability edge, marginal; a clear but slow
   * decay (a small step, a power-law tail) is left to the transient's tail.
   */
  private tooSlow(perStep: number): MapStationary {
    if (perStep > 1 - 1e-4) return { status: 'marginal', reason: `the map's response does not decay (×${perStep.toPrecision(6)} per step over the last ${WINDOW} lags): at its stability edge, no stationary value is trusted` };
    return { status: 'inapplicable', reason: `the response decays too slowly (×${perStep.toPrecision(4)} per step) to be resolved within ${MAX_LAG} lags` };
  }

  /** R_k(z) = Σ_τ R_k(τ) z^−τ at z = e^{iω}: [full re, full im] */
  kernelZ(k: number, w: number): [number, number] {
    let re = 0, im = 0;
    const R = this.R[k];
    const c = Math.cos(w), s = Math.sin(w);
    let zr = 1, zi = 0; // e^{−iωτ}
    for (let t = 0; t <= this.L; t++) {
      re += R[t] * zr; im += R[t] * zi;
      const nr = zr * c + zi * s; zi = zi * c - zr * s; zr = nr;
    }
    return [re, im];
  }

  // ---- 2. the static part ------------------------------------------------------------
  /** per population: x_s = mean + Xq·(q − E q) + Xη·η_s (real), from D(1) */
  private staticForms(Rz1: number[]): { mean: Float64Array; Xq: Float64Array[]; Xe: Float64Array[] }[] | string {
    return this.pops.map((P, p) => {
      const V = P.vars.length, F = P.fields.length, Q = P.inputs.length;
      const D = Array.from({ length: V }, () => zeros(V));
      const b0 = zeros(V);
      const Bq = Array.from({ length: V }, () => zeros(Q)), Be = Array.from({ length: V }, () => zeros(F));
      P.eqs.forEach((l, a) => {
        D[a][a] += 1;
        const add = (g: Lin, w: number) => {
          b0[a] += w * g.c;
          for (let b = 0; b < V; b++) D[a][b] -= w * g.x[b];
          for (let i = 0; i < Q; i++) Bq[a][i] += w * g.q[i];
          for (let e = 0; e < F; e++) Be[a][e] += w * g.eta[e];
        };
        add(l, 1);
        for (const m of l.mem) add(m.g, m.coef * (m.part === 'zero' ? this.R[m.k][0] : Rz1[m.k] - this.R[m.k][0]));
      });
      const inv = invertReal(D);
      if (!inv) return `the site of ${P.name} has a zero mode at zero frequency (D(1) is singular): its limit depends on the initial state`;
      const mv = (M: number[][], v: ArrayLike<number>) => Float64Array.from(M, (r) => r.reduce((s, x, j) => s + x * v[j], 0));
      const rhs0 = Float64Array.from(b0, (v, a) => v + Bq[a].reduce((s, x, i) => s + x * P.qMean[i], 0));
      return {
        mean: mv(inv, rhs0),
        Xq: Array.from({ length: Q }, (_, i) => mv(inv, Bq.map((r) => r[i]))),
        Xe: Array.from({ length: F }, (_, e) => mv(inv, Be.map((r) => r[e]))),
      };
    }) as never;
  }

  // ---- the solve ---------------------------------------------------------------------
  solve(): MapStationary {
    let verdict: MapStationary | undefined;
    try { verdict = this.responses(); } catch (e) {
      if (e instanceof Inapplicable) return { status: 'inapplicable', reason: e.message };
      throw e;
    }
    if (verdict) return verdict;
    const Rz1 = this.kernels.map((_, k) => this.kernelZ(k, 0)[0]);
    const forms = this.staticForms(Rz1);
    if (typeof forms === 'string') return { status: 'marginal', reason: forms };
    // static field covariances K_s and correlations C_s: C_s = c + L·C_s
    const nC = this.corrs.length;
    const Ks = (Cs: number[]) => this.pops.map((P) => P.fields.map((_, e) => P.fields.map((_, f) => {
      const cl = P.cov[Math.min(e, f)][Math.max(e, f)];
      return cl ? cl.c0 + cl.terms.reduce((s, t) => s + t.w * Cs[t.k], 0) : 0;
    })));
    /** static mean, quenched coefficients and static-field coefficients of a Lin */
    const stat = (p: number, l: Lin) => {
      const P = this.pops[p], fm = forms[p];
      let mean = l.c + l.q.reduce((s, x, i) => s + x * P.qMean[i], 0);
      const q = Float64Array.from(l.q), e = Float64Array.from(l.eta);
      l.x.forEach((x, a) => { if (x === 0) return; mean += x * fm.mean[a]; fm.Xq.forEach((col, i) => { q[i] += x * col[a]; }); fm.Xe.forEach((col, f) => { e[f] += x * col[a]; }); });
      return { mean, q, e };
    };
    const moment = (p: number, a: Lin, b: Lin, K: number[][][]) => {
      const P = this.pops[p], sa = stat(p, a), sb = stat(p, b);
      let v = sa.mean * sb.mean;
      sa.q.forEach((x, i) => { v += x * sb.q[i] * P.qVar[i]; });
      sa.e.forEach((x, e) => sb.e.forEach((y, f) => { v += x * y * K[p][e][f]; }));
      return v;
    };
    const Cmap = (Cs: number[]) => { const K = Ks(Cs); return this.corrs.map((c) => moment(c.pop, c.f, c.g, K)); };
    const c0 = Cmap(new Array(nC).fill(0));
    const Lm = this.corrs.map((_, j) => Cmap(this.corrs.map((_, i) => (i === j ? 1 : 0))).map((v, i) => v - c0[i]));
    const Lrows = this.corrs.map((_, i) => this.corrs.map((_, j) => Lm[j][i]));
    const staticGain = spectralRadius(Lrows);
    if (staticGain >= 1 - EDGE) return { status: staticGain > 1 + EDGE ? 'divergent' : 'marginal', reason: `the static (frozen) part of the correlations feeds itself with loop gain ${staticGain.toPrecision(4)}: at or past a stability edge` };
    const Cs = nC ? solveReal(Lrows.map((r, i) => r.map((x, j) => (i === j ? 1 : 0) - x)), c0) : [];
    if (!Cs) return { status: 'marginal', reason: 'the static correlations are singular' };
    const K = Ks(Cs);
    // 3. fluctuations driven by the noises (none: the stationary state is static)
    const pairs: { p: number; j: number; k: number }[] = [];
    this.pops.forEach((P, p) => P.noises.forEach((n, j) => P.noises.forEach((m, k) => { if (k >= j && m.input === n.input) pairs.push({ p, j, k }); })));
    const m0 = pairs.map(({ p, j, k }) => moment(p, this.pops[p].noises[j].q, this.pops[p].noises[k].q, K));
    const staticCov = (p: number) => {
      const P = this.pops[p], fm = forms[p], V = P.vars.length, Q = P.inputs.length;
      // atoms [x; q]: mean and covariance
      const mean = [...fm.mean, ...P.qMean];
      const cov = Array.from({ length: V + Q }, () => new Array(V + Q).fill(0));
      const coefQ = (a: number, i: number) => (a < V ? fm.Xq[i][a] : a - V === i ? 1 : 0);
      const coefE = (a: number, e: number) => (a < V ? fm.Xe[e][a] : 0);
      for (let a = 0; a < V + Q; a++) for (let b = 0; b < V + Q; b++) {
        let v = 0;
        for (let i = 0; i < Q; i++) v += coefQ(a, i) * coefQ(b, i) * P.qVar[i];
        for (let e = 0; e < P.fields.length; e++) for (let f = 0; f < P.fields.length; f++) v += coefE(a, e) * coefE(b, f) * K[p][e][f];
        cov[a][b] = v;
      }
      return { mean, cov };
    };
    const base = this.pops.map((_, p) => staticCov(p));
    if (!pairs.length) {
      return this.answer(base, 0, 'the stationary state of the map is static (no input drawn afresh at every step): the fixed point of its responses and frozen fields, solved directly');
    }
    let prev: ReturnType<Model['fluct']> | undefined;
    const acc = new Accumulator(this, pairs, K);
    for (let N = 32; N <= MAX_GRID; N *= 2) {
      acc.refine(N);
      const cur = this.fluct(acc, pairs, m0);
      if (typeof cur === 'string') return { status: cur.startsWith('divergent') ? 'divergent' : 'marginal', reason: cur.replace(/^(divergent|marginal): /, '') };
      if (prev && typeof prev !== 'string') {
        const before = prev;
        const rel = (a: number, b: number, scale: number) => Math.abs(a - b) / Math.max(1e-300, scale);
        const diff = Math.max(...cur.m.map((v, i) => rel(v, before.m[i], Math.abs(v))),
          ...cur.dyn.flatMap((P, p) => P.flatMap((r, a) => r.map((v, b) => rel(v, before.dyn[p][a][b], Math.sqrt(Math.abs(base[p].cov[a][a] + cur.dyn[p][a][a]) * Math.abs(base[p].cov[b][b] + cur.dyn[p][b][b])))))));
        if (diff < 1e-11) {
          const withCov = (src: typeof cur) => base.map((b, p) => ({ mean: b.mean, cov: b.cov.map((r, a) => r.map((v, c) => v + (a < this.pops[p].vars.length && c < this.pops[p].vars.length ? src.dyn[p][a][c] : 0))) }));
          const fine = withCov(cur), coarse = withCov(before);
          return this.answer(fine, 0, `the stationary state of the map solved directly: responses R(τ) to lag ${this.L}, the static part at zero frequency, the fluctuations of the inputs drawn at every step on ${N + 1} frequencies (noise loop gain ${cur.gain.toPrecision(3)})`, coarse, cur.amp);
        }
      }
      prev = cur;
    }
    return { status: 'marginal', reason: `the stationary spectra are not resolved on ${MAX_GRID + 1} frequencies: a relaxation too slow (near a stability edge) for a trusted value` };
  }

  /** the noise levels from the integrated spectra: (I − Var·K) m = m0; and the fluctuation covariances of the variables */
  private fluct(acc: Accumulator, pairs: { p: number; j: number; k: number }[], m0: number[]): { m: number[]; dyn: number[][][]; gain: number; amp: number } | string {
    if (acc.pointGain >= 1 - EDGE) return `${acc.pointGain > 1 + EDGE ? 'divergent' : 'marginal'}: the fluctuating correlations feed themselves through the fields with loop gain ${acc.pointGain.toPrecision(4)}`;
    const n = pairs.length;
    const A = pairs.map((pp, i) => pairs.map((_, j) => acc.Km[i][j] * this.pops[pairs[j].p].noises[pairs[j].j].var));
    const gain = spectralRadius(A);
    if (gain >= 1 - EDGE) return `${gain > 1 + EDGE ? 'divergent' : 'marginal'}: the noise of the inputs drawn at every step feeds itself with loop gain ${gain.toPrecision(4)} (the second moments grow step after step: past the stability edge of the noisy map)`;
    const M = A.map((r, i) => r.map((x, j) => (i === j ? 1 : 0) - x));
    const m = solveReal(M, m0);
    if (!m) return 'marginal: the noise levels are singular';
    const inv = pairs.map((_, k) => solveReal(M, pairs.map((_, i) => (i === k ? 1 : 0)))!);
    const amp = Math.max(...pairs.map((_, i) => inv.reduce((s, col) => s + Math.abs(col[i]), 0)));
    const nlev = m.map((v, i) => v * this.pops[pairs[i].p].noises[pairs[i].j].var);
    const dyn = this.pops.map((P, p) => P.vars.map((_, a) => P.vars.map((_, b) => acc.X[p][a][b].reduce((s, x, i) => s + x * nlev[i], 0))));
    return { m, dyn, gain, amp: amp * (n ? 1 : 0) };
  }

  /** the observables from the atoms' means and covariances */
  private answer(st: { mean: number[]; cov: number[][] }[], _x: number, reason: string, coarse?: { mean: number[]; cov: number[][] }[], amp = 1): MapStationary {
    const avgOf = (s: { mean: number[]; cov: number[][] }[], pop: string, body: Expr) => {
      const p = this.pops.findIndex((P) => P.name === pop);
      const P = this.pops[p];
      const slots = [...P.vars, ...P.inputs];
      if (some(body, (x) => x.k === 'ref' && !slots.includes(x.name)) || some(body, (x) => x.k === 'op' || x.k === 'int')) throw new Inapplicable(`the average ${print(body)} reads more than the site's variables and quenched inputs`);
      if (degree(body, (x) => x.k === 'ref') > 2) throw new Inapplicable(`the average ${print(body)} is not quadratic: its stationary value needs more than second moments`);
      const fn = compile(body, slots, this.params);
      const mu = s[p].mean, C = s[p].cov, n = slots.length;
      const at = (d: number[]) => fn(Float64Array.from(mu, (v, i) => v + d[i]));
      const f0 = at(new Array(n).fill(0));
      let v = f0;
      const unit = (i: number, j: number) => Array.from({ length: n }, (_, k) => (k === i ? 1 : 0) + (k === j ? 1 : 0));
      const fi = Array.from({ length: n }, (_, i) => at(unit(i, -1)));
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        if (C[i][j] === 0) continue;
        const H = at(unit(i, j)) - fi[i] - fi[j] + f0;
        v += 0.5 * H * C[i][j];
      }
      return v;
    };
    const value = (s: typeof st, e: Expr): number => {
      const sub = (x: Expr): Expr => {
        if (x.k === 'avg') return { k: 'num', v: avgOf(s, x.pop, x.body) };
        switch (x.k) {
          case 'add': return { ...x, terms: x.terms.map(sub) };
          case 'mul': return { ...x, factors: x.factors.map(sub) };
          case 'pow': return { ...x, base: sub(x.base), exp: sub(x.exp) };
          case 'call': return { ...x, args: x.args.map(sub) };
          default: return x;
        }
      };
      const v = constantValue(sub(e), this.params);
      if (v === undefined) throw new Inapplicable(`the observable ${print(e)} has no stationary value`);
      return v;
    };
    return {
      status: 'value', reason,
      observable: (e) => {
        const v = value(st, e);
        const quad = coarse ? Math.abs(v - value(coarse, e)) : 0;
        return { value: v, error: quad + 1e-12 * Math.max(1, amp) * Math.abs(v) + 1e-300 };
      },
    };
  }
}

/** The per-frequency linear algebra, accumulated by the trapezoidal rule on [0, π] as the grid doubles. */
class Accumulator {
  /** Km[i][j]: the integrated moment of noise pair i per unit level of pair j */
  Km: number[][];
  /** X[p][a][b][j]: integrated covariance of variables a, b per unit level of pair j */
  X: number[][][][];
  pointGain = 0;
  private sumEnds: { Km: number[][]; X: number[][][][] };
  private sumIn: { Km: number[][]; X: number[][][][] };
  private N = 0;

  constructor(private m: Model, private pairs: { p: number; j: number; k: number }[], private K: number[][][]) {
    const z = () => ({ Km: pairs.map(() => pairs.map(() => 0)), X: m.pops.map((P) => P.vars.map(() => P.vars.map(() => pairs.map(() => 0)))) });
    this.sumEnds = z(); this.sumIn = z();
    this.Km = z().Km; this.X = z().X;
  }

  refine(N: number): void {
    if (this.N === 0) {
      this.point(0, this.sumEnds, 0.5); this.point(Math.PI, this.sumEnds, 0.5);
      for (let j = 1; j < N; j++) this.point((Math.PI * j) / N, this.sumIn, 1);
    } else for (let j = 1; j < N; j += 2) this.point((Math.PI * j) / N, this.sumIn, 1);
    this.N = N;
    this.Km = this.sumEnds.Km.map((r, i) => r.map((v, j) => (v + this.sumIn.Km[i][j]) / N));
    this.X = this.sumEnds.X.map((P, p) => P.map((r, a) => r.map((c, b) => c.map((v, j) => (v + this.sumIn.X[p][a][b][j]) / N))));
  }

  /** one frequency: spectra of the correlations per unit noise pair, then the moments they imply */
  private point(w: number, into: { Km: number[][]; X: number[][][][] }, wt: number): void {
    const m = this.m;
    const Rz = m.kernels.map((_, k) => m.kernelZ(k, w));
    const R0 = m.kernels.map((_, k) => m.R[k][0]);
    const zr = Math.cos(w), zi = Math.sin(w);
    // per population: T = D⁻¹ [Bη Bν] (complex V × (F + J)), and the input map of a Lin
    const sites = m.pops.map((P) => {
      const V = P.vars.length, F = P.fields.length, J = P.noises.length, U = F + J;
      const Dr = Array.from({ length: V }, () => zeros(V)), Di = Array.from({ length: V }, () => zeros(V));
      const Br = Array.from({ length: V }, () => zeros(U)), Bi = Array.from({ length: V }, () => zeros(U));
      P.eqs.forEach((l, a) => {
        if (P.dyn[a]) { Dr[a][a] += zr; Di[a][a] += zi; } else Dr[a][a] += 1;
        const add = (g: Lin, cr: number, ci: number) => {
          for (let b = 0; b < V; b++) { Dr[a][b] -= cr * g.x[b]; Di[a][b] -= ci * g.x[b]; }
          for (let e = 0; e < F; e++) { Br[a][e] += cr * g.eta[e]; Bi[a][e] += ci * g.eta[e]; }
          for (const [j, v] of g.nu) { Br[a][F + j] += cr * v; Bi[a][F + j] += ci * v; }
        };
        add(l, 1, 0);
        for (const mm of l.mem) {
          const [re, im] = mm.part === 'zero' ? [R0[mm.k], 0] : [Rz[mm.k][0] - R0[mm.k], Rz[mm.k][1]];
          add(mm.g, mm.coef * re, mm.coef * im);
        }
      });
      const T = complexSolveMatrix(Dr, Di, Br, Bi);
      const phi = (l: Lin): [Float64Array, Float64Array] => {
        const re = zeros(U), im = zeros(U);
        for (let e = 0; e < F; e++) re[e] += l.eta[e];
        for (const [j, v] of l.nu) re[F + j] += v;
        for (let a = 0; a < V; a++) if (l.x[a] !== 0) for (let u = 0; u < U; u++) { re[u] += l.x[a] * T.re[a][u]; im[u] += l.x[a] * T.im[a][u]; }
        return [re, im];
      };
      return { V, F, J, U, T, phi };
    });
    const corrPhi = m.corrs.map((c) => [sites[c.pop].phi(c.f), sites[c.pop].phi(c.g)] as const);
    const nC = m.corrs.length;
    /** S_in of each population from the correlation spectra S (re, im) and a noise matrix per population */
    const spectra = (Sr: number[], Si: number[], noise: number[][][]) => m.pops.map((P, p) => {
      const { F, J, U } = sites[p];
      const re = Array.from({ length: U }, () => zeros(U)), im = Array.from({ length: U }, () => zeros(U));
      for (let e = 0; e < F; e++) for (let f = e; f < F; f++) {
        const cl = P.cov[e][f];
        if (!cl) continue;
        let r = 0, i = 0;
        for (const t of cl.terms) { r += t.w * Sr[t.k]; i += t.w * (t.swapped ? -Si[t.k] : Si[t.k]); }
        re[e][f] = r; im[e][f] = i;
        if (f !== e) { re[f][e] = r; im[f][e] = -i; }
      }
      for (let j = 0; j < J; j++) for (let k = 0; k < J; k++) re[F + j][F + k] = noise[p][j][k];
      return { re, im };
    });
    /** φ1 S φ2^H */
    const quad = (a: readonly [Float64Array, Float64Array], S: { re: Float64Array[]; im: Float64Array[] }, b: readonly [Float64Array, Float64Array]): [number, number] => {
      let r = 0, i = 0;
      const n = a[0].length;
      for (let u = 0; u < n; u++) {
        if (a[0][u] === 0 && a[1][u] === 0) continue;
        // (S b^H)_u = Σ_v S[u][v] conj(b_v)
        let tr = 0, ti = 0;
        for (let v = 0; v < n; v++) {
          const sr = S.re[u][v], si = S.im[u][v];
          if (sr === 0 && si === 0) continue;
          tr += sr * b[0][v] + si * b[1][v]; ti += si * b[0][v] - sr * b[1][v];
        }
        r += a[0][u] * tr - a[1][u] * ti; i += a[0][u] * ti + a[1][u] * tr;
      }
      return [r, i];
    };
    const corrOf = (S: ReturnType<typeof spectra>) => { const r: number[] = [], i: number[] = []; m.corrs.forEach((c, k) => { const v = quad(corrPhi[k][0], S[c.pop], corrPhi[k][1]); r.push(v[0]); i.push(v[1]); }); return [r, i]; };
    const noNoise = m.pops.map((P) => P.noises.map(() => new Array(P.noises.length).fill(0)));
    // the real-linear map S ↦ S' (2 nC × 2 nC) through the field spectra
    const Mx = Array.from({ length: 2 * nC }, () => new Array(2 * nC).fill(0));
    for (let c = 0; c < 2 * nC; c++) {
      const Sr = new Array(nC).fill(0), Si = new Array(nC).fill(0);
      if (c < nC) Sr[c] = 1; else Si[c - nC] = 1;
      const [r, i] = corrOf(spectra(Sr, Si, noNoise));
      for (let k = 0; k < nC; k++) { Mx[k][c] = r[k]; Mx[nC + k][c] = i[k]; }
    }
    this.pointGain = Math.max(this.pointGain, spectralRadius(Mx));
    const IM = Mx.map((r, i) => r.map((x, j) => (i === j ? 1 : 0) - x));
    const pairNoise = (i: number) => {
      const { p, j, k } = this.pairs[i];
      const nz = m.pops.map((P) => P.noises.map(() => new Array(P.noises.length).fill(0)));
      nz[p][j][k] = 1; nz[p][k][j] = 1;
      return nz;
    };
    const rows = m.pops.map((P, p) => P.vars.map((_, a) => { const l = { c: 0, x: zeros(P.vars.length), eta: zeros(P.fields.length), q: zeros(P.inputs.length), nu: new Map(), mem: [] } as Lin; l.x[a] = 1; return sites[p].phi(l); }));
    const qphi = this.pairs.map((pq) => { const P = m.pops[pq.p]; return [sites[pq.p].phi(P.noises[pq.j].q), sites[pq.p].phi(P.noises[pq.k].q)] as const; });
    this.pairs.forEach((_, i) => {
      const nz = pairNoise(i);
      const [gr, gi] = corrOf(spectra(new Array(nC).fill(0), new Array(nC).fill(0), nz));
      const sol = nC ? solveReal(IM, [...gr, ...gi]) : [];
      if (!sol) { this.pointGain = Math.max(this.pointGain, 1); return; }
      const S = spectra(sol.slice(0, nC), sol.slice(nC), nz);
      // moments of the noise pairs' quantities
      this.pairs.forEach((pq, i2) => { into.Km[i2][i] += wt * quad(qphi[i2][0], S[pq.p], qphi[i2][1])[0]; });
      // covariances of the variables
      m.pops.forEach((P, p) => {
        for (let a = 0; a < P.vars.length; a++) for (let b = 0; b < P.vars.length; b++) into.X[p][a][b][i] += wt * quad(rows[p][a], S[p], rows[p][b])[0];
      });
    });
  }
}

/** A⁻¹ (rows); undefined when a pivot is not above 1e-12 of A's largest entry */
function invertReal(A: Float64Array[]): number[][] | undefined {
  const n = A.length;
  const inv = inverse(Float64Array.from(A.flatMap((r) => Array.from(r))), n, 1e-12 * Math.max(1e-300, ...A.map((r) => Math.max(...Array.from(r, Math.abs)))));
  return inv && Array.from({ length: n }, (_, i) => Array.from(inv.subarray(i * n, (i + 1) * n)));
}

/** A x = b; undefined when a pivot is not above 1e-12 of A's largest entry (nearly singular) */
function solveReal(A: number[][], b: number[]): number[] | undefined {
  return solveDense(A, b, 1e-12 * Math.max(1e-300, ...A.flat().map(Math.abs)));
}

/** complex D⁻¹B for small dense D (V × V) and B (V × U) */
function complexSolveMatrix(Dr: Float64Array[], Di: Float64Array[], Br: Float64Array[], Bi: Float64Array[]): { re: Float64Array[]; im: Float64Array[] } {
  const V = Dr.length, U = Br[0]?.length ?? 0;
  const flat = (M: Float64Array[]) => Float64Array.from(M.flatMap((r) => Array.from(r)));
  const br = flat(Br), bi = flat(Bi);
  if (!complexGaussJordanInPlace(V, flat(Dr), flat(Di), U, br, bi)) throw new Inapplicable('the site is singular at a frequency on the unit circle');
  const rows = (M: Float64Array) => Array.from({ length: V }, (_, a) => M.slice(a * U, (a + 1) * U));
  return { re: rows(br), im: rows(bi) };
}

/** spectral radius by Gelfand's formula ‖M^(2^8)‖^(1/2^8), rescaled each squaring */
function spectralRadius(M: number[][]): number {
  const n = M.length;
  if (!n) return 0;
  let P = M.map((r) => r.slice());
  let logScale = 0;
  for (let k = 0; k < 8; k++) {
    P = P.map((r) => P[0].map((_, j) => r.reduce((a, x, m) => a + x * P[m][j], 0)));
    logScale *= 2;
    const s = Math.max(...P.map((r) => r.reduce((a, x) => a + Math.abs(x), 0)));
    if (!(s > 0)) return 0;
    P = P.map((r) => r.map((x) => x / s));
    logScale += Math.log(s);
  }
  return Math.exp(logScale / 256);
}
