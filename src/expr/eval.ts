// Numeric evaluation of expression trees.
//
//   evaluate(e, env)            → number (a tree-walking interpreter)
//   compile(e, vars, env?)      → (x) => number, for hot loops: closures
//                                  built once, x[i] is the value of vars[i]
//   integrate(f, a, b, opts)    → adaptive Gauss–Kronrod quadrature
//   erf, erfc, sigmoid, relu    → the special functions used by the language
//
// Accuracy: erf/erfc to ~1e-15 relative (series / continued fraction, see
// below; tested against 60-digit references in test/expr/eval.test.ts). Integrals (`int` nodes) use
// adaptive Gauss–Kronrod 7/15 with global error control: bisect the
// subinterval with the largest |K15 − G7| until the summed estimate is
// ≤ max(absTol, relTol·|I|) (defaults 1e-13, 1e-12) or `maxIntervals`
// (default 4000) subintervals, then throw if not converged. Exact for
// polynomials of degree ≤ 22 on each subinterval; smooth integrands reach
// 1e-12 in a handful of subintervals; kinks and narrow peaks are resolved by
// bisection. Infinite limits (`inf`, `-inf`) are mapped to a finite interval
// (x = a + u/(1−u), or x = u/(1−u²) on (−∞, ∞)).
// δ cannot be evaluated pointwise: evaluation throws unless `env.delta`
// supplies a nascent kernel. `avg` needs `env.avg`; refs need `env.ref`;
// order parameters need `env.op`; `sum`/`mean` need `env.size`.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Expr } from './ast.ts';
import { hasOwn, own, table } from '../table.ts';

export interface EvalEnv {
  /** values of symbols (parameters, sizes, times); `pi` and `inf` are built in */
  vars?: Record<string, number>;
  /** value of an indexed quantity: name, index values (1-based integers), time */
  ref?: (name: string, idx: number[], at: number | undefined) => number;
  /** value of an order parameter applied to times */
  op?: (name: string, args: number[]) => number;
  /** ⟨body⟩ over population `pop`; `evalBody(extraVars?, envOverrides?)`
   *  evaluates the body in the current scope (with integration variables and
   *  bound indices), optionally with more symbols or another resolver */
  avg?: (pop: string, body: Expr, evalBody: (extra?: Record<string, number>, env?: Partial<EvalEnv>) => number) => number;
  /** values of free index names (e.g. the site i) */
  indices?: Record<string, number>;
  /** number of sites an index runs over in sum/mean (1..n) */
  size?: (index: string) => number;
  /** a nascent δ kernel to use for delta(x); without it δ throws */
  delta?: (x: number) => number;
  /** quadrature settings for `int` */
  quad?: QuadOptions;
}

export interface QuadOptions {
  absTol?: number;
  relTol?: number;
  maxIntervals?: number;
  /** start from a partition graded geometrically toward both endpoints with
   *  this many levels (each level halves the distance): resolves features
   *  much narrower than the interval sitting at an endpoint, such as a
   *  nascent δ kernel at the upper limit, which the plain adaptive scheme
   *  can miss entirely (all 15 nodes see ~0). Default 0. */
  graded?: number;
}

export class EvalError extends Error {
  constructor(message: string) { super(message); this.name = 'EvalError'; }
}

// ---- special functions -------------------------------------------------------

const SQRT_PI = Math.sqrt(Math.PI);

/** erfc for x ≥ 1 by the continued fraction (200 levels: ~1e-16 for x ≥ 1)
 *  erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcLarge(x: number): number {
  let f = x;
  for (let n = 200; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** The error function, ~1e-15 relative. For |x| < 3 the series
 *  erf(x) = 2/√π e^{−x²} Σ 2ⁿ x^{2n+1}/(1·3·…·(2n+1)) (all terms positive:
 *  no cancellation); beyond, 1 − erfc(|x|) from the continued fraction. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (ax > 6 ? 1 : 1 - erfcLarge(ax));
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/** 1 − erf(x), ~1e-15 relative also in the tail (continued fraction for |x| ≥ 1). */
export function erfc(x: number): number {
  if (x >= 1) return x > 27 ? 0 : erfcLarge(x);
  if (x <= -1) return 2 - erfcLarge(-x);
  return 1 - erf(x);
}

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const relu = (x: number): number => (x > 0 ? x : 0);

const FUNCS: Record<string, (x: number) => number> = {
  tanh: Math.tanh, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs,
  erf, relu, sigmoid, sin: Math.sin, cos: Math.cos, sign: Math.sign,
};

// ---- quadrature --------------------------------------------------------------

// Gauss–Kronrod 15-point nodes/weights (QUADPACK qk15); the 7-point Gauss
// rule uses the odd-indexed nodes.
const XGK = [0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926, 0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961, 0.207784955007898467600689403773245, 0];
const WGK = [0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518, 0.140653259715525918745189590510238, 0.169004726639267902826583426598550, 0.190350578064785409913256402421014, 0.204432940075298892414161999234649, 0.209482141084727828012999174891714];
const WG = [0.129484966168869693270611432679082, 0.279705391489276667901467771423780, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327];

function gk15(f: (x: number) => number, a: number, b: number): { v: number; err: number } {
  const c = (a + b) / 2, h = (b - a) / 2;
  const fc = f(c);
  let k = fc * WGK[7], g = fc * WG[3];
  for (let j = 0; j < 7; j++) {
    const dx = h * XGK[j];
    const s = f(c - dx) + f(c + dx);
    k += WGK[j] * s;
    if (j % 2 === 1) g += WG[(j - 1) / 2] * s;
  }
  return { v: k * h, err: Math.abs((k - g) * h) };
}

export interface QuadResult { value: number; error: number; intervals: number }

/** ∫_a^b f(x) dx by adaptive Gauss–Kronrod 7/15 (see the header). Infinite
 *  limits allowed. Throws EvalError if the tolerance is not reached. */
export function integrate(f: (x: number) => number, a: number, b: number, opts: QuadOptions = {}): QuadResult {
  if (a === b) return { value: 0, error: 0, intervals: 0 };
  if (a > b) { const r = integrate(f, b, a, opts); return { ...r, value: -r.value }; }
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    if (a === -Infinity && b === Infinity) return integrate((u) => { const d = 1 - u * u; return f(u / d) * (1 + u * u) / (d * d); }, -1, 1, opts);
    if (b === Infinity) return integrate((u) => { const d = 1 - u; return f(a + u / d) / (d * d); }, 0, 1, opts);
    return integrate((u) => { const d = 1 - u; return f(b - u / d) / (d * d); }, 0, 1, opts);
  }
  const absTol = opts.absTol ?? 1e-13, relTol = opts.relTol ?? 1e-12, maxN = opts.maxIntervals ?? 4000;
  const safe = (x: number) => { const y = f(x); return Number.isFinite(y) ? y : (() => { throw new EvalError(`integrand is ${y} at ${x}`); })(); };
  type Piece = { a: number; b: number; v: number; err: number };
  const cuts = [a, b];
  for (let k = 1; k <= (opts.graded ?? 0); k++) {
    const d = (b - a) * 2 ** -(k + 1);
    if (a + d > a) cuts.push(a + d);
    if (b - d < b) cuts.push(b - d);
  }
  const pts = [...new Set(cuts)].sort((x, y) => x - y);
  const pieces: Piece[] = [];
  let total = 0, err = 0;
  for (let i = 0; i + 1 < pts.length; i++) {
    const g = gk15(safe, pts[i], pts[i + 1]);
    pieces.push({ a: pts[i], b: pts[i + 1], ...g });
    total += g.v; err += g.err;
  }
  while (err > Math.max(absTol, relTol * Math.abs(total))) {
    if (pieces.length >= maxN) throw new EvalError(`integral over [${a}, ${b}] did not converge: estimate ${total} ± ${err} after ${maxN} subintervals (relax env.quad or split the integral)`);
    // bisect the worst piece
    let wi = 0;
    for (let i = 1; i < pieces.length; i++) if (pieces[i].err > pieces[wi].err) wi = i;
    const w = pieces[wi];
    const m = (w.a + w.b) / 2;
    if (m <= w.a || m >= w.b) throw new EvalError(`integral over [${a}, ${b}] did not converge: subinterval at ${w.a} cannot be split further (a singularity?)`);
    const l = gk15(safe, w.a, m), r = gk15(safe, m, w.b);
    pieces[wi] = { a: w.a, b: m, ...l };
    pieces.push({ a: m, b: w.b, ...r });
    total += l.v + r.v - w.v;
    err += l.err + r.err - w.err;
    if (pieces.length % 64 === 0) { // refresh sums against drift
      total = 0; err = 0;
      for (const p of pieces) { total += p.v; err += p.err; }
    }
  }
  total = 0;
  for (const p of pieces) total += p.v;
  return { value: total, error: err, intervals: pieces.length };
}

// ---- interpreter -------------------------------------------------------------

interface Scope { vars: Record<string, number>; idx: Record<string, number> }

/** Evaluate e numerically. Throws EvalError naming what is missing. */
export function evaluate(e: Expr, env: EvalEnv = {}): number {
  return ev(e, env, { vars: table(), idx: table() });
}

function symValue(name: string, env: EvalEnv, sc: Scope): number {
  if (hasOwn(sc.vars, name)) return sc.vars[name];
  const v = own(env.vars, name);
  if (v !== undefined) return v;
  if (name === 'pi') return Math.PI;
  if (name === 'inf') return Infinity;
  throw new EvalError(`no value for the symbol '${name}' (give it in env.vars)`);
}

function indexValue(name: string, env: EvalEnv, sc: Scope): number {
  if (hasOwn(sc.idx, name)) return sc.idx[name];
  const v = own(env.indices, name);
  if (v !== undefined) return v;
  throw new EvalError(`no value for the index '${name}' (give it in env.indices)`);
}

function callValue(fn: string, x: number, env: EvalEnv): number {
  if (fn === 'delta') {
    if (env.delta) return env.delta(x);
    throw new EvalError('delta(…) cannot be evaluated pointwise: sift it with an integral first (rule simplify.int.delta-sift), or pass env.delta, a nascent δ kernel');
  }
  const f = FUNCS[fn];
  if (!f) throw new EvalError(`unknown function '${fn}'`);
  return f(x);
}

function cmpValue(op: string, a: number, b: number): number {
  return (op === '>' ? a > b : op === '<' ? a < b : op === '>=' ? a >= b : a <= b) ? 1 : 0;
}

function ev(e: Expr, env: EvalEnv, sc: Scope): number {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return symValue(e.name, env, sc);
    case 'add': { let s = 0; for (const t of e.terms) s += ev(t, env, sc); return s; }
    case 'mul': {
      let p = 1;
      for (const f of e.factors) { p *= ev(f, env, sc); }
      return p;
    }
    case 'pow': {
      const b = ev(e.base, env, sc), x = ev(e.exp, env, sc);
      return x === 2 ? b * b : x === -1 ? 1 / b : b ** x;
    }
    case 'call': {
      if (e.args.length !== 1) throw new EvalError(`${e.fn} takes one argument`);
      return callValue(e.fn, ev(e.args[0], env, sc), env);
    }
    case 'cmp': return cmpValue(e.op, ev(e.a, env, sc), ev(e.b, env, sc));
    case 'ref': {
      if (!env.ref) throw new EvalError(`no value for ${e.name}${e.idx.length ? `[${e.idx.join(',')}]` : ''}${e.at ? '(…)' : ''}: supply env.ref`);
      return env.ref(e.name, e.idx.map((i) => indexValue(i, env, sc)), e.at ? ev(e.at, env, sc) : undefined);
    }
    case 'op': {
      if (!env.op) throw new EvalError(`no value for the order parameter ${e.name}(…): supply env.op`);
      return env.op(e.name, e.args.map((a) => ev(a, env, sc)));
    }
    case 'sum': case 'mean': {
      if (!env.size) throw new EvalError(`${e.k}(${e.index}, …) needs the number of sites: supply env.size`);
      const n = env.size(e.index);
      let s = 0;
      const inner: Scope = { vars: sc.vars, idx: Object.assign(table<number>(), sc.idx) };
      for (let k = 1; k <= n; k++) { inner.idx[e.index] = k; s += ev(e.body, env, inner); }
      return e.k === 'mean' ? s / n : s;
    }
    case 'avg': {
      if (!env.avg) throw new EvalError(`cannot evaluate the average <…> over '${e.pop}': supply env.avg`);
      return env.avg(e.pop, e.body, (extra, over) => ev(e.body, over ? { ...env, ...over } : env, extra ? { vars: Object.assign(table<number>(), sc.vars, extra), idx: sc.idx } : sc));
    }
    case 'int': {
      const lo = ev(e.lo, env, sc), hi = ev(e.hi, env, sc);
      const inner: Scope = { vars: Object.assign(table<number>(), sc.vars), idx: sc.idx };
      return integrate((x) => { inner.vars[e.v] = x; return ev(e.body, env, inner); }, lo, hi, env.quad).value;
    }
  }
}

// ---- compiler ---------------------------------------------------------------

type Fn = (x: ArrayLike<number>) => number;

/** Compile e into a function of the values of `vars` (in order). Symbols
 *  not in `vars` are read from env.vars once, at compile time. Integrals are
 *  compiled with their variable in a scratch slot; sum/mean/avg fall back
 *  to the interpreter. */
export function compile(e: Expr, vars: string[], env: EvalEnv = {}): (x: ArrayLike<number>) => number {
  const slots = new Map(vars.map((v, i) => [v, i]));
  const width = { n: vars.length };
  const scratch: number[] = [];
  const fn = comp(e, slots, env, width, scratch);
  if (width.n === vars.length) return fn;
  // integrals need extra slots: copy the arguments into a scratch buffer
  const buf = new Float64Array(width.n);
  return (x) => {
    for (let i = 0; i < vars.length; i++) buf[i] = x[i];
    return fn(buf);
  };
}

function comp(e: Expr, slots: Map<string, number>, env: EvalEnv, width: { n: number }, scratch: number[]): Fn {
  const C = (x: Expr) => comp(x, slots, env, width, scratch);
  switch (e.k) {
    case 'num': { const v = e.v; return () => v; }
    case 'sym': {
      const i = slots.get(e.name);
      if (i !== undefined) return (x) => x[i];
      const v = symValue(e.name, env, { vars: table(), idx: table() });
      return () => v;
    }
    case 'add': {
      const fs = e.terms.map(C);
      if (fs.length === 2) { const [a, b] = fs; return (x) => a(x) + b(x); }
      return (x) => { let s = 0; for (let i = 0; i < fs.length; i++) s += fs[i](x); return s; };
    }
    case 'mul': {
      const fs = e.factors.map(C);
      if (fs.length === 2) { const [a, b] = fs; return (x) => a(x) * b(x); }
      return (x) => { let p = 1; for (let i = 0; i < fs.length; i++) p *= fs[i](x); return p; };
    }
    case 'pow': {
      const b = C(e.base);
      if (e.exp.k === 'num') {
        const n = e.exp.v;
        if (n === 2) return (x) => { const v = b(x); return v * v; };
        if (n === -1) return (x) => 1 / b(x);
        if (n === 0.5) return (x) => Math.sqrt(b(x));
        return (x) => b(x) ** n;
      }
      const p = C(e.exp);
      return (x) => b(x) ** p(x);
    }
    case 'call': {
      const a = C(e.args[0]);
      if (e.fn === 'delta') {
        if (!env.delta) return () => callValue('delta', 0, env);
        const d = env.delta;
        return (x) => d(a(x));
      }
      const f = FUNCS[e.fn];
      if (!f) throw new EvalError(`unknown function '${e.fn}'`);
      return (x) => f(a(x));
    }
    case 'cmp': {
      const a = C(e.a), b = C(e.b), op = e.op;
      return (x) => cmpValue(op, a(x), b(x));
    }
    case 'ref': {
      if (!env.ref) throw new EvalError(`no value for ${e.name}: supply env.ref`);
      const r = env.ref, name = e.name;
      const idx = e.idx.map((i) => indexValue(i, env, { vars: table(), idx: table() }));
      const at = e.at ? C(e.at) : undefined;
      return (x) => r(name, idx, at ? at(x) : undefined);
    }
    case 'op': {
      if (!env.op) throw new EvalError(`no value for the order parameter ${e.name}: supply env.op`);
      const o = env.op, name = e.name, args = e.args.map(C);
      return (x) => o(name, args.map((a) => a(x)));
    }
    case 'int': {
      const lo = C(e.lo), hi = C(e.hi);
      const slot = width.n++;
      const inner = new Map(slots);
      inner.set(e.v, slot);
      const body = comp(e.body, inner, env, width, scratch);
      const q = env.quad;
      return (x) => {
        const xs = x as unknown as Float64Array; // compile() guarantees a writable buffer when integrals exist
        return integrate((v) => { xs[slot] = v; return body(xs); }, lo(x), hi(x), q).value;
      };
    }
    case 'sum': case 'mean': case 'avg': {
      const names = [...slots.keys()];
      return (x) => {
        const vars = Object.assign(table<number>(), env.vars);
        for (const n of names) vars[n] = x[slots.get(n)!];
        return evaluate(e, { ...env, vars });
      };
    }
  }
}

// ---- Gauss–Hermite -------------------------------------------------------------

const ghCache = new Map<number, { x: Float64Array; w: Float64Array }>();

/** n-point Gauss–Hermite rule for E[f(z)], z ~ N(0, 1): Σ w_i f(x_i) with
 *  Σ w_i = 1 (probabilists' normalization). Exact for polynomials of degree
 *  ≤ 2n − 1; for f analytic in a strip |Im z| < d the error decays like
 *  exp(−2d√(2n)). Nodes by Newton's method on the orthonormal Hermite
 *  recurrence (stable to n ≈ 300). */
export function gaussHermite(n: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`gaussHermite: n must be a positive integer, got ${n}`);
  const hit = ghCache.get(n);
  if (hit) return hit;
  // Newton on the recurrence loses its starting guesses and underflows past
  // ~190 nodes: use Golub–Welsch there
  if (n > 150) { const gw = golubWelschHermite(n); ghCache.set(n, gw); return gw; }
  // physicists' nodes/weights for weight e^{-t²} (Numerical Recipes gauher)
  const t = new Float64Array(n), wt = new Float64Array(n);
  const PIM4 = Math.PI ** -0.25;
  const m = Math.floor((n + 1) / 2);
  let z = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * (2 * n + 1) ** -0.16667;
    else if (i === 1) z -= (1.14 * n ** 0.426) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * t[0];
    else if (i === 3) z = 1.91 * z - 0.91 * t[1];
    else z = 2 * z - t[i - 2];
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = PIM4, p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-15 * Math.max(1, Math.abs(z))) break;
    }
    t[i] = z; t[n - 1 - i] = -z;
    wt[i] = 2 / (pp * pp); wt[n - 1 - i] = wt[i];
  }
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < n; i++) { x[i] = Math.SQRT2 * t[n - 1 - i]; w[i] = wt[n - 1 - i] / Math.sqrt(Math.PI); }
  const out = { x, w };
  ghCache.set(n, out);
  return out;
}

/** Golub–Welsch: nodes are the eigenvalues of the Jacobi matrix of the
 *  probabilists' Hermite polynomials (off-diagonal √k), weights the squared
 *  first components of its normalized eigenvectors. */
function golubWelschHermite(n: number): { x: Float64Array; w: Float64Array } {
  const J = new Matrix(n, n);
  for (let k = 1; k < n; k++) { J.set(k, k - 1, Math.sqrt(k)); J.set(k - 1, k, Math.sqrt(k)); }
  const eig = new EigenvalueDecomposition(J, { assumeSymmetric: true });
  const V = eig.eigenvectorMatrix;
  const order = eig.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const x = new Float64Array(n), w = new Float64Array(n);
  let sw = 0;
  order.forEach(([v, i], k) => { x[k] = v; w[k] = V.get(0, i) ** 2; sw += w[k]; });
  for (let k = 0; k < n; k++) w[k] /= sw;
  // exact symmetry about 0
  for (let k = 0; k < n >> 1; k++) { const a = (x[n - 1 - k] - x[k]) / 2, b = (w[k] + w[n - 1 - k]) / 2; x[k] = -a; x[n - 1 - k] = a; w[k] = b; w[n - 1 - k] = b; }
  if (n % 2) x[n >> 1] = 0;
  return { x, w };
}
