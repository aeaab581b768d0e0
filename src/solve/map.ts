// The Gaussian closure of a discrete-time system (maps x(t+1) = F, derived by
// src/derive/discrete.ts) on its step grid t = 0, 1, …, T — exact in time:
// there is no time step to refine, so no extrapolation (docs/discrete-time.md).
//
// Every quantity of a site at step τ is written over one basis of centred
// Gaussian variables: the site's Gaussian fields at every step η_a(0 … T)
// (covariances from the closure, filled in as the steps advance), and one
// unit normal per quenched input and per random initial value. A variable is
//   - a Form: c0 + Σ_b c_b·basis_b (affine), when its map is affine in the
//     variables, fields and inputs (memory sums included): then its
//     correlations are exact bilinear forms and its response to a field η(s)
//     is exactly its coefficient on η(s);
//   - a Sym: F(u_1 … u_k), a nonlinear function of a few Forms (x(t+1) = φ(η(t))):
//     its averages are Gaussian integrals over the k Forms (tensor
//     Gauss–Hermite), its response E[Σ_j ∂F/∂u_j · ∂u_j/∂η(s)].
// A site whose quantities need more than MAX_DIM Gaussian variables (a
// nonlinear map fed back through its own past) is not Gaussian: refused with
// the reason. Everything is evaluated lazily and memoized: a variable at step
// τ asks for the order parameters its map reads, which ask for the variables
// at earlier steps (or, for the same-step response of a let, at this step).
// The t → ∞ value of a memoryless map is its equal-time fixed point solved
// directly (equalTimeFixedPoint); otherwise the geometric tail of the last steps.
// Error bars are the quadrature errors only (three times the change under a
// coarser rule; round-off for polynomials of degree ≤ 3, which Gauss–Hermite
// integrates exactly).
import { DmftError } from '../errors.ts';
import { call, mapArithmetic, num, some, sym, visit, type Expr } from '../expr/ast.ts';
import { constantValue } from '../expr/eval.ts';
import { degree, diff } from '../expr/diff.ts';
import { moments } from '../model/moments.ts';
import { compile } from '../expr/compile.ts';
import { print } from '../expr/print.ts';
import { expectTensorHermite, expectTensorSmooth, expectTensorTrapezoid } from '../numeric/normal.ts';
import { choleskySemidefinite, solveDense } from '../numeric/linalg.ts';
import type { DmftSystem, OrderParam, Population, Variable } from '../derive/system.ts';
import type { GrowthLaw, LimitStatus, SolveOptions, SolveResult, TwoTime } from './types.ts';
import { Inapplicable, solveMapStationary, type MapStationary } from './map-stationary.ts';

/** Most Gaussian variables one average may need (tensor Gauss–Hermite cost n^k). */
const MAX_DIM = 3;
/** Gauss–Hermite nodes per dimension for an average over three Gaussian variables */
const NODES_BY_DIM = [2, 160, 72, 28];
/** step of the trapezoidal rule (averages over one or two Gaussian variables), times the widest standard deviation */
const TRAPEZOID_DX = 0.3;
/** |value| beyond this is an overflow of a diverging map */
const OVERFLOW = 1e150;

class Form {
  static next = 0;
  readonly id = Form.next++;
  /** field rows times Σ·coef, cached row by row (see uRow) */
  u?: Float64Array;
  /** the field rows where coef is nonzero */
  nz?: number[];
  constructor(readonly c0: number, readonly coef: Float64Array, readonly tmax: number) {}
}
interface Sym { expr: Expr; forms: Map<number, Form> }
/** An input drawn afresh at step τ (a minibatch mask), before it is combined with what it multiplies. */
class Fresh { constructor(readonly input: number, readonly tau: number) {} }
type Val = number | Form | Sym | Fresh;

const isSym = (v: Val): v is Sym => typeof v === 'object' && !(v instanceof Form) && !(v instanceof Fresh);

/** Most distinct quantities one fresh input may multiply at one step (basis slots per input and step). */
const SLOTS = 4;

/** An input drawn afresh at every step: its law's mean and variance, and the products met per step. */
interface StepInput {
  name: string;
  mean: number;
  var: number;
  /** normal: s(t) alone is a Gaussian variable */
  normal: boolean;
  /** per step: the quantities q_j it multiplies and the representation of (s − E s)·q_j on the step's slots */
  products: { q: Form | number; rep: Float64Array }[][];
}

/** A map's site is not Gaussian, or an input is outside what the closure reads. */
export class MapClosureError extends DmftError {}

export type MapOptions = SolveOptions;

export function solveMap(sys: DmftSystem, opts: MapOptions): SolveResult {
  const t0 = performance.now();
  const T = opts.T;
  if (!Number.isInteger(T) || T < 1) throw new DmftError({ message: `T = ${T}: the dynamics are maps x(t+1) = …, so T is a number of steps (an integer ≥ 1)`, hint: 'e.g. --T 50' });
  const times = opts.times ?? defaultSteps(T);
  for (const t of times) if (!Number.isInteger(t)) throw new DmftError({ message: `--times: ${t} is not a step: the dynamics are maps, whose times are the integers 0 … T`, hint: `give integer times, e.g. ${Math.floor(t)}` });
  const c = new MapClosure(sys, opts.params, T);
  const observables: Record<string, number[]> = {}, error: Record<string, number[]> = {};
  const twoTime: Record<string, TwoTime> = {};
  for (const o of sys.observables) {
    if (o.times.length === 2) {
      const grid = times.length > 41 ? thin(times, 41) : times;
      const values: number[][] = [], err: number[][] = [];
      for (const a of grid) {
        const row = grid.map((b) => c.observable(o.expr, { [o.times[0]]: a, [o.times[1]]: b }));
        values.push(row.map((x) => x.value)); err.push(row.map((x) => x.error));
      }
      twoTime[o.name] = { t: grid, values, error: err };
      continue;
    }
    const tn = o.times[0] ?? 't';
    const r = times.map((t) => c.observable(o.expr, { [tn]: t }));
    observables[o.name] = r.map((x) => x.value);
    error[o.name] = r.map((x) => x.error);
  }
  const limitStatus: Record<string, LimitStatus> = {};
  const limit: Record<string, number> = {}, limitError: Record<string, number> = {};
  let fixed: ReturnType<typeof equalTimeFixedPoint>;
  try { fixed = equalTimeFixedPoint(sys, opts.params, c, T); } catch (e) {
    if (!(e instanceof DmftError)) throw e;
    fixed = { note: `the equal-time fixed point was not solved directly (${e.message})` };
  }
  // a map with memory (GD, SGD): its stationary state solved directly when the sites are affine
  let stationary: MapStationary | undefined;
  if (!(fixed && 'value' in fixed)) stationary = solveMapStationary(sys, opts.params);
  for (const o of sys.observables.filter((x) => x.times.length < 2)) {
    // the late steps, one by one (the output times may skip steps)
    const tn = o.times[0] ?? 't';
    const late = Array.from({ length: Math.min(T + 1, 8) }, (_, k) => T - Math.min(T, 7) + k).map((t) => c.observable(o.expr, { [tn]: t }));
    let st = tailStatus(late.map((x) => x.value), T);
    let direct = false;
    if (fixed && 'value' in fixed) {
      const v = fixed.observable(o.expr, tn);
      st = { status: { status: 'value', reason: fixed.reason }, value: v.value, error: v.error };
    } else if (stationary && stationary.status !== 'inapplicable') {
      const d = stationaryLimit(stationary, o.expr);
      // a transient already growing keeps its measured growth law; the direct verdict is added to its reason
      if (d && d.status.status === 'divergent' && st.status.status === 'divergent') st.status.reason = `${st.status.reason}; the stationary solve agrees: ${d.status.reason}`;
      else if (d) { st = d; direct = true; }
      else st.status.reason = `${st.status.reason}; the stationary state was not solved directly (the observable is not a second moment of the site)`;
    }
    limitStatus[o.name] = st.status;
    // the limit read off the last steps carries their quadrature error on top of the tail
    const quad = (fixed && 'value' in fixed) || direct ? 0 : Math.max(...late.map((x) => x.error));
    if (st.value !== undefined) { limit[o.name] = st.value; limitError[o.name] = st.error! + quad; }
  }
  if (fixed && !('value' in fixed) && fixed.note) {
    for (const st of Object.values(limitStatus)) st.reason = `${st.reason}; ${fixed.note}`;
  }
  const res: SolveResult = {
    model: sys.model, params: opts.params, method: 'map-closure', t: times, observables, error,
    limitStatus,
    diagnostics: {
      steps: T, maxGaussianDim: c.maxDim, quadrature: c.maxDim <= 2 ? 'trapezoid in standard-normal coordinates' : 'tensor Gauss–Hermite',
      quadratureMaxError: c.maxQuadError, seconds: +((performance.now() - t0) / 1000).toFixed(3),
    },
  };
  if (Object.keys(limit).length) { res.limit = limit; res.limitError = limitError; }
  else res.limitNote = Object.values(limitStatus).map((s) => s.reason).filter(Boolean)[0];
  if (Object.keys(twoTime).length) res.twoTime = twoTime;
  return res;
}

/**
 * The t → ∞ verdict of the direct stationary solve for one observable: its
 * value, or the marginal/divergent status (never a number near a stability
 * edge); undefined when the observable is not a second moment of the site.
 */
function stationaryLimit(s: Exclude<MapStationary, { status: 'inapplicable' }>, e: Expr): { status: LimitStatus; value?: number; error?: number } | undefined {
  if (s.status !== 'value') return { status: { status: s.status, reason: s.reason } };
  try {
    const v = s.observable(e);
    if (!Number.isFinite(v.value) || !Number.isFinite(v.error)) return { status: { status: 'absent', reason: `the stationary solve gave ${v.value} (not a number)` } };
    return { status: { status: 'value', reason: s.reason }, value: v.value, error: v.error };
  } catch (err) {
    if (err instanceof Inapplicable) return undefined;
    throw err;
  }
}

/** Every step 0 … T when there are at most 100, else about 51 steps spread over them. */
function defaultSteps(T: number): number[] {
  if (T <= 100) return Array.from({ length: T + 1 }, (_, k) => k);
  return [...new Set(Array.from({ length: 51 }, (_, k) => Math.round((T * k) / 50)))];
}

function thin(ts: number[], n: number): number[] {
  return [...new Set(Array.from({ length: n }, (_, k) => ts[Math.round(((ts.length - 1) * k) / (n - 1))]))];
}

/**
 * The t → ∞ status of an observable from its last steps: settled (differences
 * at round-off), a geometric approach (ratios of successive differences steady
 * below 1: the limit is within the remaining geometric tail, whose size is the
 * error bar), a geometric growth (divergent: the map is past its stability
 * edge), or not settled by T.
 */
export function tailStatus(v: number[], T: number): { status: LimitStatus; value?: number; error?: number } {
  const n = v.length;
  if (n < 5) return { status: { status: 'absent', reason: `too few steps (T = ${T}) to tell whether the map settles` } };
  const d = v.slice(1).map((x, k) => x - v[k]);
  const last = v[n - 1];
  const scale = Math.max(...v.map(Math.abs), 1e-300);
  if (d.slice(-3).every((x) => Math.abs(x) <= 1e-13 * scale)) return { status: { status: 'value', reason: 'settled on the step grid' }, value: last, error: 1e-13 * scale + Math.abs(d[d.length - 1]) };
  const rho = d.slice(-4).map((x, k, a) => (k === 0 ? NaN : x / a[k - 1])).slice(1);
  const steady = rho.every((r) => Number.isFinite(r) && Math.abs(r - rho[rho.length - 1]) <= 0.05 * Math.abs(rho[rho.length - 1]));
  const r = rho[rho.length - 1];
  if (steady && r > 1.001) {
    const growth: GrowthLaw = { law: 'exponential', rate: Math.log(r), from: T - rho.length - 1, to: T };
    return { status: { status: 'divergent', reason: `the map is unstable: the distance between successive steps grows by ×${r.toPrecision(4)} per step (past the stability edge, e.g. a learning rate too large for the curvature)`, growth } };
  }
  if (steady && Math.abs(r) < 0.95) {
    const tail = Math.abs((d[d.length - 1] * r) / (1 - r));
    return { status: { status: 'value', reason: `geometric approach (×${r.toPrecision(3)} per step): the last step plus the remaining geometric tail` }, value: last + (d[d.length - 1] * r) / (1 - r), error: 2 * tail + 1e-13 * scale };
  }
  return { status: { status: 'absent', reason: `not settled within T = ${T} steps (the approach is not yet geometric); raise --T` } };
}

type TimeEnv = Record<string, number>;

/**
 * The t → ∞ state of a memoryless map, solved directly. It applies when every
 * state at t + 1 reads only the Gaussian fields at t, quenched inputs and
 * parameters (through lets too): no memory sums, no order parameter in the
 * site's equations, no state read back, no input drawn at every step, and the
 * field covariances read order parameters at (t, s) only. Then the equal-time
 * order parameters in the field covariances, v, follow a finite-dimensional
 * map v(t+1) = F(v(t)) (F: seed step 0 of a one-step closure with v, read
 * step 1), and the limit of the transient is a fixed point of F. Newton's
 * method from the last step finds it; it is accepted only when it attracts
 * (spectral radius of F′ below 1) and the transient is approaching it, and its
 * error bar is the quadrature error of F amplified by (1 − F′)⁻¹.
 * Returns undefined when the system is not of this kind.
 */
function equalTimeFixedPoint(sys: DmftSystem, params: Record<string, number>, transient: MapClosure, T: number):
  | { value: true; reason: string; observable: (e: Expr, tn: string) => { value: number; error: number } }
  | { note?: string } | undefined {
  const vars = new Map(sys.populations.flatMap((p) => p.variables.map((v) => [v.name, v] as const)));
  const stepInputs = new Set(sys.populations.flatMap((p) => p.inputs.filter((i) => i.kind === 'step').map((i) => i.name)));
  const memoryless = (e: Expr, seen: Set<string>): boolean => !some(e, (x) => {
    if (x.k === 'int' || x.k === 'op' || x.k === 'avg') return true;
    if (x.k !== 'ref') return false;
    if (stepInputs.has(x.name)) return true;
    const v = vars.get(x.name);
    if (!v) return false;
    if (v.kind === 'dynamic') return true;
    if (seen.has(v.name)) return false;
    seen.add(v.name);
    return !memoryless(v.rhs, seen);
  });
  for (const v of vars.values()) if (v.kind === 'dynamic' && !memoryless(v.rhs, new Set())) return undefined;
  const covs = sys.populations.flatMap((p) => [...p.fields.map((f) => f.cov), ...p.cross.map((x) => x.cov)]);
  const names: string[] = [];
  let ok = true;
  for (const e of covs) visit(e, (x) => {
    if (x.k !== 'op') return;
    const times = x.args.map((a) => (a.k === 'sym' ? a.name : '?')).sort().join(',');
    const o = sys.orderParams.find((q) => q.name === x.name);
    if (!o || o.kind !== 'C' || (times !== 's,t' && times !== 't,t' && times !== 's,s')) ok = false;
    else if (!names.includes(x.name)) names.push(x.name);
  });
  if (!ok || !names.length || T < 8) return undefined;
  const oneStep = (v: number[]) => {
    const c = new MapClosure(sys, params, 1);
    names.forEach((n, k) => c.seed(n, [0, 0], v[k]));
    return c;
  };
  const F = (v: number[]) => { const c = oneStep(v); return names.map((n) => c.orderParam(n, [1, 1])); };
  const n = names.length;
  // an autocorrelation at equal times is a variance: it stays ≥ 0 (the closure would clip a negative one)
  const variance = names.map((nm) => sys.orderParams.find((q) => q.name === nm)!.g === undefined);
  /** ∂g/∂v_k by central differences, forward ones where v − h would make a variance negative */
  const partial = (g: (w: number[]) => number[], v: number[], k: number): number[] => {
    const h = 1e-5 * Math.max(1e-3, Math.abs(v[k]));
    const up = g(v.map((x, j) => (j === k ? x + h : x)));
    if (!(variance[k] && v[k] - h < 0)) {
      const dn = g(v.map((x, j) => (j === k ? x - h : x)));
      return up.map((x, i) => (x - dn[i]) / (2 * h));
    }
    const mid = g(v);
    return up.map((x, i) => (x - mid[i]) / h);
  };
  const jac = (v: number[]) => {
    const cols = names.map((_, k) => partial(F, v, k));
    return names.map((_, i) => cols.map((col) => col[i]));
  };
  const history = [T - 4, T].map((t) => names.map((nm) => transient.orderParam(nm, [t, t])));
  let v = history[1].slice();
  let J = jac(v);
  // Newton until the residual vanishes or stops shrinking (round-off)
  let last = Infinity;
  for (let it = 0; it < 40; it++) {
    const g = F(v).map((x, i) => x - v[i]);
    const r = Math.max(...g.map(Math.abs));
    if (r === 0 || r > 0.5 * last) break;
    last = r;
    const step = solveDense(J.map((r, i) => r.map((x, k) => (i === k ? 1 : 0) - x)), g, 1e-12);
    if (!step) return { note: 'the equal-time fixed point is singular (a transition): not solved directly' };
    v = v.map((x, i) => (variance[i] ? Math.max(0, x + step[i]) : x + step[i]));
    if (!v.every(Number.isFinite)) return { note: 'Newton on the equal-time fixed point diverged' };
    J = jac(v);
  }
  const resid = Math.max(...F(v).map((x, i) => Math.abs(x - v[i])));
  const scale = Math.max(1e-300, ...v.map(Math.abs));
  if (resid > 1e-12 * Math.max(1, scale)) return { note: 'Newton on the equal-time fixed point did not converge' };
  // spectral radius of F′ by Gelfand's formula: ‖J^64‖^(1/64)
  let P = J.map((r) => r.slice());
  for (let k = 0; k < 6; k++) P = P.map((r) => P[0].map((_, j) => r.reduce((a, x, m) => a + x * P[m][j], 0)));
  const rho = Math.max(...P.map((r) => r.reduce((a, x) => a + Math.abs(x), 0))) ** (1 / 64);
  if (!(rho < 0.999)) return { note: `the equal-time fixed point near the transient is ${rho < 1.001 ? 'marginal' : 'repelling'} (spectral radius ${rho.toPrecision(4)} of the linearized map): not reported` };
  const dist = (w: number[]) => Math.max(...w.map((x, i) => Math.abs(x - v[i])));
  // the transient moves towards it, or already sits on it (settled: equal distances at round-off)
  if (!(dist(history[1]) < dist(history[0]) || dist(history[1]) <= 1e-9 * scale)) return { note: 'the transient is not approaching the equal-time fixed point found by Newton: not reported' };
  const at = oneStep(v);
  names.forEach((nm) => at.orderParam(nm, [1, 1]));
  // the quadrature error of F(v*) and the last residual, amplified by ‖(1 − F′)⁻¹‖∞ (first order in the error)
  const inv = names.map((_, k) => solveDense(J.map((r, i) => r.map((x, m) => (i === m ? 1 : 0) - x)), names.map((_, i) => (i === k ? 1 : 0)), 1e-12)!);
  const amp = Math.max(...names.map((_, i) => inv.reduce((a, col) => a + Math.abs(col[i]), 0)));
  // (plus round-off in F: a few ulps of the sums over the quadrature nodes)
  const dv = amp * (at.maxQuadError + resid + 1e-15 * Math.max(scale, ...history[1].map(Math.abs)));
  return {
    value: true,
    reason: `fixed point of the equal-time map (${names.join(', ')}) by Newton, attracting (spectral radius ${rho.toPrecision(3)} of the linearized map)`,
    observable: (e, tn) => {
      const base = at.observable(e, { [tn]: 1 });
      // sensitivity of the observable to v, by central differences
      let sens = 0;
      for (let k = 0; k < n; k++) sens += Math.abs(partial((w) => [oneStep(w).observable(e, { [tn]: 1 }).value], v, k)[0]);
      return { value: base.value, error: base.error + sens * dv };
    },
  };
}

/** Solves A x = b for a small dense A by Gaussian elimination with partial pivoting; undefined when singular. */

class MapClosure {
  maxDim = 0;
  maxQuadError = 0;
  private nZ: number;
  private B: number;
  private fieldIdx = new Map<string, number>();
  private fieldPop: string[] = [];
  private fieldNames: string[] = [];
  private fieldCovExpr: Expr[] = [];
  /** cross-covariances by "a|b" (a before b in the system) */
  private cross = new Map<string, Expr>();
  private sigma: Float64Array;
  private nF: number;
  private vars = new Map<string, { v: Variable; pop: Population }>();
  private quenched = new Map<string, Form>();
  private initZ = new Map<string, number>();
  private ops = new Map<string, OrderParam>();
  private memoNode = new Map<string, Val>();
  private busy = new Set<string>();
  private memoOp = new Map<string, number>();
  private memoFn = new Map<string, Val>();
  /** inputs drawn afresh at every step; their slots (unit variables, uncorrelated with everything else) follow the field rows */
  private steps: StepInput[] = [];
  private stepIdx = new Map<string, number>();
  private slot0 = 0;
  /** basis slots whose variable is not Gaussian (it reproduces second moments only) */
  private nonGaussian: Uint8Array;

  constructor(private sys: DmftSystem, private params: Record<string, number>, private T: number) {
    // the unit normals: one per random initial value, then one per quenched input
    let z = 0;
    for (const p of sys.populations) {
      for (const v of p.variables) {
        if (v.lower !== undefined || v.upper !== undefined) throw new MapClosureError({ message: `the state ${v.name} is bounded: its law on the step grid is not Gaussian`, hint: 'dmft simulate runs the model at finite N' });
        this.vars.set(v.name, { v, pop: p });
        if (v.kind === 'dynamic' && v.init?.kind === 'dist') this.initZ.set(v.name, z++);
      }
    }
    for (const p of sys.populations) {
      for (const i of p.inputs) {
        if (i.kind === 'step') {
          const m = moments(i.dist);
          if (!m) throw new MapClosureError({ message: `the input ${i.name} drawn at every step has no finite mean and variance` });
          this.stepIdx.set(i.name, this.steps.length);
          this.steps.push({ name: i.name, mean: this.number(m.mean, `the mean of ${i.name}`), var: this.number(m.var, `the variance of ${i.name}`), normal: i.dist.kind === 'normal', products: Array.from({ length: T + 1 }, () => []) });
          continue;
        }
        if (i.kind !== 'quenched') throw new MapClosureError({ message: `the input ${i.name} is not a quenched random variable`, hint: 'maps take quenched inputs, inputs drawn afresh at every step and Gaussian fields' });
        if (i.dist.kind !== 'normal') throw new MapClosureError({ message: `the quenched input ${i.name} is not normal: the step-grid closure reads Gaussian sites only`, hint: 'dmft simulate runs the model at finite N' });
        z++;
      }
    }
    this.nZ = z;
    const fields = sys.populations.flatMap((p) => p.fields.map((f) => ({ f, p })));
    this.nF = fields.length;
    fields.forEach(({ f, p }, a) => { this.fieldIdx.set(f.name, a); this.fieldNames.push(f.name); this.fieldPop.push(p.name); this.fieldCovExpr.push(f.cov); });
    for (const p of sys.populations) for (const x of p.cross) this.cross.set(`${x.a}|${x.b}`, x.cov);
    this.slot0 = this.nZ + this.nF * (T + 1);
    this.B = this.slot0 + this.steps.length * (T + 1) * SLOTS;
    this.nonGaussian = new Uint8Array(this.B);
    const R = this.nF * (T + 1);
    this.sigma = new Float64Array(R * R).fill(NaN);
    for (const o of sys.orderParams) this.ops.set(o.name, o);
    // quenched inputs: mean + sd·z
    let k = this.initZ.size;
    for (const p of sys.populations) for (const i of p.inputs) {
      if (i.kind !== 'quenched' || i.dist.kind !== 'normal') continue;
      const m = this.number(i.dist.mean, `the mean of ${i.name}`), v = this.number(i.dist.var, `the variance of ${i.name}`);
      const coef = new Float64Array(this.B); coef[k++] = Math.sqrt(v);
      this.quenched.set(i.name, new Form(m, coef, -1));
    }
  }

  private number(e: Expr, what: string): number {
    const v = constantValue(e, this.params);
    if (v === undefined || !Number.isFinite(v)) throw new DmftError({ message: `${what} (${print(e)}) is not a finite number at the given parameters` });
    return v;
  }

  // ---- the basis ------------------------------------------------------------
  private row(a: number, tau: number): number { return a * (this.T + 1) + tau; }

  /** ⟨η_a(τ) η_b(τ')⟩ from the field covariances (lazily). */
  private sig(i: number, j: number): number {
    const R = this.nF * (this.T + 1);
    const cached = this.sigma[i * R + j];
    if (!Number.isNaN(cached)) return cached;
    const a = Math.floor(i / (this.T + 1)), ta = i % (this.T + 1);
    const b = Math.floor(j / (this.T + 1)), tb = j % (this.T + 1);
    let v = 0;
    if (this.fieldPop[a] === this.fieldPop[b]) {
      const na = this.fieldNames[a], nb = this.fieldNames[b];
      if (a === b) v = this.scalar(this.fieldCovExpr[a], { t: ta, s: tb });
      else if (this.cross.has(`${na}|${nb}`)) v = this.scalar(this.cross.get(`${na}|${nb}`)!, { t: ta, s: tb });
      else if (this.cross.has(`${nb}|${na}`)) v = this.scalar(this.cross.get(`${nb}|${na}`)!, { t: tb, s: ta });
    }
    if (!Number.isFinite(v)) throw new DmftError({ message: `the covariance of the fields at steps ${ta}, ${tb} is ${v}: the map overflowed`, hint: 'the iteration diverges at these parameters (past its stability edge); lower --T to see the growth' });
    this.sigma[i * R + j] = v; this.sigma[j * R + i] = v;
    return v;
  }

  /** Cov(a, b) of two Forms: the unit normals' part plus the fields' bilinear form. */
  private cov(a: Form, b: Form): number {
    let s = 0;
    for (let k = 0; k < this.nZ; k++) s += a.coef[k] * b.coef[k];
    for (let k = this.slot0; k < this.B; k++) s += a.coef[k] * b.coef[k];
    const [p, q] = a.tmax <= b.tmax ? [a, b] : [b, a];
    if (p.tmax < 0) return s;
    const T1 = this.T + 1;
    for (let f = 0; f < this.nF; f++) for (let tau = 0; tau <= p.tmax; tau++) {
      const x = p.coef[this.nZ + f * T1 + tau];
      if (x !== 0) s += x * this.uRow(q, f * T1 + tau);
    }
    return s;
  }

  /** Row i of Σ·coef, cached per row and computed only when asked: an eager fill of every row up to
   *  the form's last step would ask for field covariances the product does not need, at the current
   *  step (a let of one population read at the same step by another), and loop through them. */
  private uRow(q: Form, i: number): number {
    if (!q.u) { q.u = new Float64Array(this.nF * (this.T + 1)).fill(NaN); q.nz = []; for (let j = 0; j < this.nF * (this.T + 1); j++) if (q.coef[this.nZ + j] !== 0) q.nz.push(j); }
    const hit = q.u[i];
    if (!Number.isNaN(hit)) return hit;
    let s = 0;
    for (const j of q.nz!) s += this.sig(i, j) * q.coef[this.nZ + j];
    q.u[i] = s;
    return s;
  }

  // ---- values ---------------------------------------------------------------
  private form(c0: number, coef: Float64Array): Form {
    let tmax = -1;
    const T1 = this.T + 1;
    for (let j = this.nF * T1 - 1; j >= 0; j--) if (coef[this.nZ + j] !== 0) { tmax = Math.max(tmax, j % T1); }
    return new Form(c0, coef, tmax);
  }

  private toExpr(v: Val, forms: Map<number, Form>): Expr {
    v = this.plain(v);
    if (typeof v === 'number') return num(v);
    if (v instanceof Form) {
      if (v.coef.every((x) => x === 0)) return num(v.c0);
      forms.set(v.id, v);
      return sym(`u${v.id}`);
    }
    for (const [k, f] of v.forms) forms.set(k, f);
    return v.expr;
  }

  private symOf(build: (ex: (v: Val) => Expr) => Expr): Sym {
    const forms = new Map<number, Form>();
    const expr = build((v) => this.toExpr(v, forms));
    return { expr, forms };
  }

  private add(vals: Val[]): Val {
    vals = vals.map((v) => this.plain(v));
    if (vals.some(isSym)) return this.symOf((ex) => ({ k: 'add', terms: vals.map(ex) }));
    let c0 = 0;
    let coef: Float64Array | undefined;
    for (const v of vals) {
      if (typeof v === 'number') { c0 += v; continue; }
      const f = v as Form;
      c0 += f.c0;
      coef ??= new Float64Array(this.B);
      for (let k = 0; k < this.B; k++) coef[k] += f.coef[k];
    }
    return coef ? this.form(c0, coef) : c0;
  }

  private mul(vals: Val[]): Val {
    let c = 1;
    let rest: Val[] = [];
    for (const v of vals) if (typeof v === 'number') c *= v; else rest.push(v);
    if (rest.length === 0) return c;
    const fresh = rest.filter((v): v is Fresh => v instanceof Fresh);
    if (fresh.length) {
      // an input drawn afresh at this step times one affine quantity: its second moments exactly
      const others = rest.filter((v) => !(v instanceof Fresh));
      if (fresh.length === 1 && others.length <= 1 && others.every((v) => v instanceof Form)) return this.freshTimes(fresh[0], c, (others[0] as Form | undefined) ?? 1);
      rest = rest.map((v) => this.plain(v));
    }
    if (rest.length === 1 && rest[0] instanceof Form) {
      const f = rest[0];
      const coef = new Float64Array(this.B);
      for (let k = 0; k < this.B; k++) coef[k] = c * f.coef[k];
      return this.form(c * f.c0, coef);
    }
    return this.symOf((ex) => ({ k: 'mul', factors: [num(c), ...rest.map(ex)] }));
  }

  /** The value of a single-site expression at the steps in `env`. */
  private ev(e: Expr, env: TimeEnv): Val {
    switch (e.k) {
      case 'num': return e.v;
      case 'sym': {
        if (Object.hasOwn(env, e.name)) return env[e.name];
        return this.number(e, `the parameter ${e.name}`);
      }
      case 'ref': {
        const q = this.quenched.get(e.name);
        if (q && !e.at) return q;
        const tau = e.at ? this.scalar(e.at, env) : NaN;
        const k = this.stepIdx.get(e.name);
        if (k !== undefined) {
          if (!(Number.isInteger(tau) && tau >= 0 && tau <= this.T)) throw new Error(`internal: input ${e.name} at step ${tau}`);
          return new Fresh(k, tau);
        }
        if (this.vars.has(e.name)) return this.node(e.name, tau);
        const a = this.fieldIdx.get(e.name);
        if (a !== undefined) {
          if (!(tau >= 0 && tau <= this.T)) throw new Error(`internal: field ${e.name} at step ${tau}`);
          const coef = new Float64Array(this.B); coef[this.nZ + this.row(a, tau)] = 1;
          return new Form(0, coef, tau);
        }
        throw new DmftError({ message: `the step-grid closure cannot read '${print(e)}'` });
      }
      case 'add': return this.add(e.terms.map((x) => this.ev(x, env)));
      case 'mul': return this.mul(e.factors.map((x) => this.ev(x, env)));
      case 'pow': {
        const b0 = this.ev(e.base, env), x = this.plain(this.ev(e.exp, env));
        if (typeof x === 'number' && x === 1) return b0;
        const b = this.plain(b0);
        if (typeof b === 'number' && typeof x === 'number') return b ** x;
        if (typeof x === 'number' && x === 1) return b;
        return this.symOf((ex) => ({ k: 'pow', base: ex(b), exp: ex(x) }));
      }
      case 'call': {
        const args = e.args.map((x) => this.plain(this.ev(x, env)));
        if (args.every((x) => typeof x === 'number')) {
          const v = constantValue(call(e.fn, ...args.map((x) => num(x as number))), {});
          if (v === undefined) throw new DmftError({ message: `${e.fn}(${args.join(', ')}) has no value` });
          return v;
        }
        return this.symOf((ex) => ({ k: 'call', fn: e.fn, args: args.map(ex) }));
      }
      case 'int': {
        // on the step grid an int node is the sum over the steps lo … hi (src/derive/discrete.ts)
        const lo = this.scalar(e.lo, env), hi = this.scalar(e.hi, env);
        const terms: Val[] = [];
        for (let k = lo; k <= hi; k++) terms.push(this.ev(e.body, { ...env, [e.v]: k }));
        return terms.length ? this.add(terms) : 0;
      }
      case 'op': {
        const args = e.args.map((x) => this.scalar(x, env));
        return this.op(e.name, args);
      }
      case 'avg': return this.expect(this.ev(e.body, env)).value;
      default:
        throw new DmftError({ message: `the step-grid closure cannot read '${print(e)}'` });
    }
  }

  private scalar(e: Expr, env: TimeEnv): number {
    const v = this.ev(e, env);
    if (typeof v !== 'number') throw new Error(`internal: ${print(e)} is not a number`);
    return v;
  }

  /** A variable at step τ: a state from its map at τ − 1 (its init at 0), a let from its equation at τ. */
  private node(name: string, tau: number): Val {
    const key = `${name}@${tau}`;
    const hit = this.memoNode.get(key);
    if (hit !== undefined) return hit;
    if (!(Number.isInteger(tau) && tau >= 0 && tau <= this.T)) throw new Error(`internal: ${name} at step ${tau}`);
    if (this.busy.has(key)) throw new MapClosureError({ message: `the equations at step ${tau} are implicit: ${name}(${tau}) depends on itself through the order parameters of the same step`, hint: 'dmft simulate runs the model at finite N' });
    this.busy.add(key);
    const { v } = this.vars.get(name)!;
    let out: Val;
    if (v.kind === 'algebraic') out = this.ev(v.rhs, { t: tau });
    else if (tau > 0) out = this.ev(v.rhs, { t: tau - 1 });
    else out = this.init(v);
    out = this.plain(out);
    this.busy.delete(key);
    if (isSym(out)) {
      const dim = this.dedupe(out).forms.size;
      if (dim > MAX_DIM) throw new MapClosureError({ message: `the site is not Gaussian: ${name}(${tau}) is a nonlinear function of ${dim} Gaussian variables (a nonlinear map fed back through its own past); the step-grid closure reads sites whose variables are affine in their Gaussian inputs, or a nonlinear function of at most ${MAX_DIM} of them`, hint: 'dmft simulate runs the model at finite N' });
    } else if (out instanceof Form ? !Number.isFinite(out.c0) || Math.abs(out.c0) > OVERFLOW : !Number.isFinite(out) || Math.abs(out) > OVERFLOW) {
      throw new DmftError({ message: `${name}(${tau}) overflows: the map diverges at these parameters (past its stability edge)`, hint: 'lower --T to see the growth, or change the parameters' });
    }
    this.memoNode.set(key, out);
    return out;
  }

  private init(v: Variable): Val {
    const init = v.init;
    if (!init) return 0;
    if (init.kind === 'value') return this.ev(init.value, { t: 0 });
    const d = init.dist;
    if (d.kind !== 'normal') throw new MapClosureError({ message: `the initial law of ${v.name} is ${d.kind}: the step-grid closure reads Gaussian sites only`, hint: 'dmft simulate runs the model at finite N' });
    const m = this.ev(d.mean, { t: 0 });
    const s2 = this.ev(d.var, { t: 0 });
    if (typeof s2 !== 'number' || s2 < 0) throw new MapClosureError({ message: `the initial variance of ${v.name} is not a constant ≥ 0` });
    const coef = new Float64Array(this.B); coef[this.initZ.get(v.name)!] = Math.sqrt(s2);
    return this.add([m, new Form(0, coef, -1)]);
  }

  // ---- order parameters -------------------------------------------------------
  private op(name: string, args: number[]): number {
    const o = this.ops.get(name);
    if (!o) throw new DmftError({ message: `unknown order parameter ${name}` });
    const [a, b] = args;
    if (o.kind === 'R' && (b > a || (b === a && !o.instantaneous))) return 0; // causality on the step grid
    const key = `${name}|${args.join(',')}`;
    const hit = this.memoOp.get(key);
    if (hit !== undefined) return hit;
    let v: number;
    if (o.kind === 'M') v = this.expect(this.fnAt(o, 'f', a)).value;
    else if (o.kind === 'C') {
      const f = this.fnAt(o, 'f', a), g = this.fnAt(o, 'g', b);
      v = f instanceof Form && g instanceof Form ? f.c0 * g.c0 + this.cov(f, g) : this.expect(this.mul([f, g])).value;
    } else v = this.response(this.fnAt(o, 'f', a), o.slot!, b);
    if (!(Math.abs(v) <= OVERFLOW)) throw new DmftError({ message: `${name}(${args.join(', ')}) is ${v}: the map diverges at these parameters (past its stability edge)`, hint: 'lower --T to see the growth, or change the parameters' });
    this.memoOp.set(key, v);
    return v;
  }

  /** The function f (or g) of an order parameter at step τ, once per step (a Form keeps its cached Σ·coef). */
  private fnAt(o: OrderParam, which: 'f' | 'g', tau: number): Val {
    const key = `${o.name}|${which}|${tau}`;
    const hit = this.memoFn.get(key);
    if (hit !== undefined) return hit;
    const v = this.plain(this.ev(which === 'g' ? o.g ?? o.f : o.f, { t: tau }));
    this.memoFn.set(key, v);
    return v;
  }

  /** ⟨δf/δη_slot(s)⟩: the coefficient of η_slot(s) through each Gaussian variable f depends on. */
  private response(f: Val, slot: string, s: number): number {
    f = this.plain(f);
    const a = this.fieldIdx.get(slot);
    if (a === undefined) throw new DmftError({ message: `unknown field ${slot}` });
    const k = this.nZ + this.row(a, s);
    if (typeof f === 'number') return 0;
    if (f instanceof Form) return f.coef[k];
    const g = this.dedupe(f);
    let out = 0;
    for (const [id, u] of g.forms) {
      if (u.coef[k] === 0) continue;
      const d = diff(g.expr, (x) => x.k === 'sym' && x.name === `u${id}`);
      out += this.expect({ expr: d, forms: g.forms }).value * u.coef[k];
    }
    return out;
  }

  /** The same Form met twice (equal coefficients) is one Gaussian variable. */
  private dedupe(s: Sym): Sym {
    const byKey = new Map<string, Form>();
    const rename = new Map<string, Expr>();
    const forms = new Map<number, Form>();
    for (const [id, f] of s.forms) {
      const key = `${f.c0}|${f.coef.join(',')}`;
      const seen = byKey.get(key);
      if (seen) rename.set(`u${id}`, sym(`u${seen.id}`));
      else { byKey.set(key, f); forms.set(id, f); }
    }
    if (!rename.size) return s;
    const sub = (e: Expr): Expr => (e.k === 'sym' ? rename.get(e.name) ?? e : mapArithmetic(e, sub));
    return { expr: sub(s.expr), forms };
  }

  /** E[v] over the site's Gaussian variables, with the quadrature error. */
  private expect(v: Val): { value: number; error: number } {
    v = this.plain(v);
    if (typeof v === 'number') return { value: v, error: 0 };
    if (v instanceof Form) return { value: v.c0, error: 0 };
    const s = this.dedupe(v);
    const forms = [...s.forms.values()];
    const d = forms.length;
    if (d > MAX_DIM) throw new MapClosureError({ message: `an average over ${d} Gaussian variables: the site is not Gaussian enough for the step-grid closure (at most ${MAX_DIM})`, hint: 'dmft simulate runs the model at finite N' });
    this.refuseNonGaussian(s);
    this.maxDim = Math.max(this.maxDim, d);
    const mu = forms.map((f) => f.c0);
    const C = forms.map((f) => forms.map((g) => this.cov(f, g)));
    const L = choleskySemidefinite(C);
    const slots = forms.map((f) => `u${f.id}`);
    const fn = compile(s.expr, slots, this.params);
    const poly = degree(s.expr, (x) => x.k === 'sym' && slots.includes(x.name)) <= 3;
    let value: number, error: number;
    if (poly) {
      value = expectTensorHermite(mu, L, 2, fn);
      error = 4e-16 * Math.abs(value);
    } else if (d <= 2) {
      // the trapezoidal rule in standard-normal coordinates, its step scaled to the widest
      // variable: spectrally accurate for analytic integrands (Gauss–Hermite is slow when the
      // variance is large), second order across a kink; three times the change from a
      // step 1.25 times longer bounds both
      const scale = Math.max(1, ...L.map((r) => Math.hypot(...r)));
      const h = TRAPEZOID_DX / scale;
      value = expectTensorTrapezoid(mu, L, h, fn);
      // (+ a rounding floor: the two rules agree to rounding for analytic integrands)
      error = 3 * Math.abs(value - expectTensorTrapezoid(mu, L, 1.25 * h, fn)) + 1e-13 * Math.abs(value);
    } else {
      const n = NODES_BY_DIM[d];
      value = expectTensorSmooth(mu, L, n, fn);
      error = 3 * Math.abs(value - expectTensorSmooth(mu, L, Math.round(0.75 * n), fn)) + 1e-13 * Math.abs(value);
    }
    if (Number.isNaN(value) && mu.every(Number.isFinite) && L.every((r) => r.every(Number.isFinite))) {
      throw new DmftError({ message: `the average of ${print(s.expr)} cannot be resolved by quadrature: its mass lies beyond 38 standard deviations of its Gaussian variables, or the grid it needs is too large`, hint: 'a function that grows this fast (e.g. exp of a large multiple) is not averaged reliably at these variances; dmft simulate runs the model at finite N' });
    }
    if (!Number.isFinite(value)) throw new DmftError({ message: `an average of ${print(s.expr)} is ${value}: the map diverges at these parameters (past its stability edge)`, hint: 'lower --T to see the growth, or change the parameters' });
    this.maxQuadError = Math.max(this.maxQuadError, error);
    return { value, error };
  }

  // ---- inputs drawn afresh at every step ------------------------------------------
  /** s(τ) on its own: c·s(τ) = E s + (s − E s)·1 (a Gaussian slot when s is normal). */
  private plain(v: Val): Exclude<Val, Fresh> {
    return v instanceof Fresh ? this.freshTimes(v, 1, 1) as Exclude<Val, Fresh> : v;
  }

  /**
   * c·s(τ)·q for an input s drawn afresh at step τ and an affine q of the site:
   * c·(E s·q + (s − E s)·q). The fluctuation (s − E s)·q has mean 0, is
   * uncorrelated with everything that does not contain it (s(τ) is independent
   * of the past and of q(τ)), and E[(s − E s)² q q'] = Var s · E[q q'] for two
   * quantities it multiplies at the same step. So the fluctuations of the step
   * are written over the step's own unit slots by a Cholesky factor of
   * Var s · E[q_j q_k] (raw second moments), grown one quantity at a time: every
   * second moment and response of an affine site is then exact. The slots are
   * not Gaussian unless s is normal and multiplies a constant; averages of
   * nonlinear functions of them are refused (refuseNonGaussian).
   */
  private freshTimes(f: Fresh, c: number, q: Form | number): Val {
    const inp = this.steps[f.input];
    const list = inp.products[f.tau];
    const same = (a: Form | number) => (typeof a === 'number' || typeof q === 'number' ? a === q : a.c0 === q.c0 && a.coef.every((x, k) => x === q.coef[k]));
    let hit = list.find((x) => same(x.q));
    if (!hit) {
      if (list.length === SLOTS) throw new MapClosureError({ message: `the input ${inp.name} multiplies more than ${SLOTS} distinct quantities at one step: the step-grid closure keeps at most ${SLOTS}`, hint: 'dmft simulate runs the model at finite N' });
      const raw = (a: Form | number, b: Form | number) => {
        const ca = typeof a === 'number' ? a : a.c0, cb = typeof b === 'number' ? b : b.c0;
        return ca * cb + (typeof a === 'number' || typeof b === 'number' ? 0 : this.cov(a, b));
      };
      const n = list.length;
      const rep = new Float64Array(SLOTS);
      for (let j = 0; j < n; j++) {
        const Ljj = list[j].rep[j];
        let m = inp.var * raw(q, list[j].q);
        for (let k = 0; k < j; k++) m -= rep[k] * list[j].rep[k];
        rep[j] = Ljj > 1e-300 ? m / Ljj : 0;
      }
      let d = inp.var * raw(q, q);
      for (let k = 0; k < n; k++) d -= rep[k] * rep[k];
      rep[n] = Math.sqrt(Math.max(0, d));
      const slot = this.slot0 + (f.input * (this.T + 1) + f.tau) * SLOTS + n;
      if (!(inp.normal && typeof q === 'number')) this.nonGaussian[slot] = 1;
      hit = { q, rep };
      list.push(hit);
    }
    const coef = new Float64Array(this.B);
    const base = this.slot0 + (f.input * (this.T + 1) + f.tau) * SLOTS;
    for (let j = 0; j < SLOTS; j++) coef[base + j] = c * hit.rep[j];
    if (typeof q !== 'number') for (let k = 0; k < this.B; k++) coef[k] += c * inp.mean * q.coef[k];
    return this.form(c * inp.mean * (typeof q === 'number' ? q : q.c0), coef);
  }

  /** An average over variables that carry a non-Gaussian slot is exact for polynomials of degree ≤ 2 only. */
  private refuseNonGaussian(s: Sym): void {
    const carries = [...s.forms.values()].some((f) => { for (let k = this.slot0; k < this.B; k++) if (f.coef[k] !== 0 && this.nonGaussian[k]) return true; return false; });
    if (!carries) return;
    const slots = [...s.forms.keys()].map((id) => `u${id}`);
    if (degree(s.expr, (x) => x.k === 'sym' && slots.includes(x.name)) <= 2) return;
    const names = this.steps.filter((x) => !x.normal || x.products.some((l) => l.some((p) => typeof p.q !== 'number'))).map((x) => x.name).join(', ');
    throw new MapClosureError({
      message: `the site is not Gaussian: an input drawn afresh at every step (${names}) multiplies a quantity of the site, and here it enters a nonlinear function (${print(s.expr)}); the step-grid closure is exact for the second moments of sites linear in the masked quantities (losses), not for nonlinear averages`,
      hint: 'dmft simulate runs the model at finite N',
    });
  }

  /** Fixes an order parameter at the given steps (the equal-time fixed-point solve seeds step 0 with it). */
  seed(name: string, args: number[], value: number): void { this.memoOp.set(`${name}|${args.join(',')}`, value); }
  /** An order parameter at the given steps. */
  orderParam(name: string, args: number[]): number { return this.op(name, args); }

  // ---- observables ------------------------------------------------------------
  /** An observable at the given steps: its averages, and the quadrature error propagated to first order. */
  observable(e: Expr, env: TimeEnv): { value: number; error: number } {
    const avgs: { value: number; error: number }[] = [];
    const outer = (x: Expr): Expr => {
      if (x.k === 'avg') { avgs.push(this.expect(this.ev(x.body, env))); return sym(`__avg${avgs.length - 1}`); }
      switch (x.k) {
        case 'add': return { ...x, terms: x.terms.map(outer) };
        case 'mul': return { ...x, factors: x.factors.map(outer) };
        case 'pow': return { ...x, base: outer(x.base), exp: outer(x.exp) };
        case 'call': return { ...x, args: x.args.map(outer) };
        default: return x;
      }
    };
    const o = outer(e);
    const vars = (vals: number[]) => ({ ...this.params, ...env, ...Object.fromEntries(vals.map((v, k) => [`__avg${k}`, v])) });
    const at = (vals: number[]) => {
      const v = constantValue(o, vars(vals));
      if (v === undefined) throw new DmftError({ message: `the observable ${print(e)} has no value at step ${Object.values(env).join(', ')}` });
      return v;
    };
    const base = avgs.map((a) => a.value);
    const value = at(base);
    let error = 0;
    avgs.forEach((a, k) => {
      // the order parameters' quadrature error feeds every later average: count it once more, conservatively
      const h = a.error + this.maxQuadError;
      if (h === 0) return;
      const up = base.slice(); up[k] += h;
      error += Math.abs(at(up) - value);
    });
    error += 4e-16 * Math.abs(value);
    return { value, error };
  }
}
