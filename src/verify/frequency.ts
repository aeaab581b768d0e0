// Frequency-domain equations of linear single-site processes: R(ω) = 1/(1 + iω − κg²R(ω)),
// C(ω) = (σ² + g²C(ω))|R(ω)|². Read from the DmftSystem, never typed in:
//  - each population's right-hand side must be a linear filter: a·y(t), c∫₀ᵗK(t,s)y(s)ds
//    with K a response, b·η(t) (Gaussian fields), d·ξ(t) (noise); terms without a time
//    dependence (constants, means, quenched inputs) only act at ω = 0 and are dropped;
//  - order parameters of f = α·y + β (affine in the variable);
//  - convention y(t) = ∫ y(ω) e^{iωt} dω/2π, so d/dt → iω (the other convention, −iω,
//    is also accepted by the caller).
// Then G_p(ω) = 1/(iω − a − Σ c K(ω)) (1 − a − … for an algebraic population),
// R_f(ω) = α b G_p(ω) for the response to the field entering with weight b, and
// C_y(ω) = |G_p|² (Σ b² Ĉ_field(ω) + Σ d² D): closed equations, solved numerically at
// sample frequencies (fixed-point iteration for R, a linear solve for C) to decide whether
// a user's equation holds, and written symbolically to say which term differs.
import { add, children, mapPost, mul, num, op, pow, ref, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey, diff } from '../expr/canon.ts';
import { evaluate } from '../expr/eval.ts';
import { functionDef } from '../expr/functions.ts';
import { solveDense } from '../numeric/linalg.ts';
import type { ScalarPopulation as Population, ScalarSystem as DmftSystem } from '../derive/scalar.ts';
import { isConstant, normal, splitCoef, termsOf, type NormContext } from './normalize.ts';
import { ONE } from './resolve.ts';

export { ONE };

export const OMEGA = '§w';
export const IMAG = '§I';

const T = sym('t');
const W = sym(OMEGA);

/** A product without the factors that are 1 (for a readable expected equation). */
function times(...fs: Expr[]): Expr {
  const kept = fs.filter((f) => ckey(canon(f)) !== '1');
  return kept.length === 0 ? num(1) : kept.length === 1 ? kept[0] : mul(...kept);
}

export interface Complex { re: number; im: number }
const cx = (re: number, im = 0): Complex => ({ re, im });
const cadd = (a: Complex, b: Complex): Complex => cx(a.re + b.re, a.im + b.im);
const cmul = (a: Complex, b: Complex): Complex => cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
const cinv = (a: Complex): Complex => { const d = a.re * a.re + a.im * a.im; return cx(a.re / d, -a.im / d); };
const cabs = (a: Complex): number => Math.hypot(a.re, a.im);
function cpow(a: Complex, p: number): Complex {
  if (Number.isInteger(p)) {
    let r = cx(1), b = p < 0 ? cinv(a) : a;
    for (let k = Math.abs(p); k > 0; k >>= 1) { if (k & 1) r = cmul(r, b); b = cmul(b, b); }
    return r;
  }
  const m = cabs(a) ** p, th = Math.atan2(a.im, a.re) * p;
  return cx(m * Math.cos(th), m * Math.sin(th));
}

/** What one term of a frequency-domain equation came from (for the report's rule). */
export interface Origin { freq: Expr; time: Expr; pop: string; what: 'derivative' | 'local' | 'memory' | 'field' | 'noise' }

interface LinPop {
  pop: Population;
  id: string;
  a: Expr;
  aTerms: Expr[];
  memory: { c: Expr; op: string; time: Expr }[];
  fields: { name: string; b: Expr; time: Expr; cov: { k: Expr; op: string }[] }[];
  noises: { name: string; d: Expr; D: Expr; time: Expr }[];
}

interface LinOp { name: string; kind: 'C' | 'R' | 'M'; pop: string; alpha: Expr; slot?: string }

/** The linear-filter reading of a DmftSystem, or why there is none. */
export class Spectrum {
  private constructor(private pops: Map<string, LinPop>, private ops: Map<string, LinOp>) {}

  static read(sys: DmftSystem, ctx: NormContext): Spectrum | string {
    const pops = new Map<string, LinPop>();
    for (const p of sys.populations) {
      if (p.lower || p.upper) return `population ${p.name} is bounded (${p.variable} ≥ …), so its process is not linear`;
      const lp: LinPop = { pop: p, id: p.kind === 'dynamic' ? `d/dt ${p.variable}` : p.variable, a: num(0), aTerms: [], memory: [], fields: [], noises: [] };
      const fieldNames = new Set(p.fields.map((f) => f.name));
      const noiseNames = new Map(p.inputs.filter((i) => i.kind === 'noise').map((i) => [i.name, i as Extract<typeof i, { kind: 'noise' }>]));
      for (const term of termsOf(normal(p.rhs, ctx, false))) {
        const { coef, struct } = splitCoef(term, ctx);
        if (struct.k === 'ref' && struct.at && ckey(struct.at) === 't') {
          if (struct.name === p.variable) { lp.a = canon(add(lp.a, coef)); lp.aTerms.push(term); continue; }
          if (fieldNames.has(struct.name)) {
            const f = p.fields.find((x) => x.name === struct.name)!;
            const cov: { k: Expr; op: string }[] = [];
            for (const ct of termsOf(normal(f.cov, ctx, false))) {
              const s = splitCoef(ct, ctx);
              if (s.struct.k === 'op' && s.struct.args.length === 2 && ckey(s.struct.args[0]) === 't' && ckey(s.struct.args[1]) === 's') cov.push({ k: s.coef, op: s.struct.name });
              else if (mentions(s.struct, 's') || hasTimeDependence(s.struct)) return `the covariance of ${f.name} has a term (${ckey(ct)}) that is not a correlation C(t, s)`;
            }
            lp.fields.push({ name: f.name, b: coef, time: term, cov });
            continue;
          }
          if (noiseNames.has(struct.name)) { lp.noises.push({ name: struct.name, d: coef, D: noiseNames.get(struct.name)!.D, time: term }); continue; }
        }
        if (struct.k === 'int' && ckey(struct.lo) === '0' && ckey(struct.hi) === 't') {
          const body = struct.body;
          const fs = body.k === 'mul' ? body.factors : [body];
          const k = fs.find((f) => f.k === 'op' && f.args.length === 2 && ckey(f.args[0]) === 't' && f.args[1].k === 'sym' && f.args[1].name === struct.v);
          const y = fs.find((f) => f.k === 'ref' && f.name === p.variable && f.at?.k === 'sym' && f.at.name === struct.v);
          if (k && y && fs.length === 2 && k.k === 'op') { lp.memory.push({ c: coef, op: k.name, time: term }); continue; }
          if (!fs.some((f) => f.k === 'ref' && f.at)) continue; // ∫K(t,s)ds times a constant: acts at ω = 0 only
        }
        if (hasTimeDependence(struct)) return `the term ${ckey(term)} of the equation of ${p.variable} is not linear in ${p.variable}`;
      }
      pops.set(p.name, lp);
    }
    const ops = new Map<string, LinOp>();
    for (const o of sys.orderParams) {
      const p = sys.populations.find((x) => x.name === o.pop)!;
      const y = ref(p.variable, [], T);
      const alpha = diff(o.f, y);
      const beta = canon(add(o.f, mul(num(-1), alpha, y)));
      if (!isConstant(alpha, ctx) || hasTimeDependence(beta)) continue; // C_{tanh x}: no closed equation
      ops.set(o.name, { name: o.name, kind: o.kind, pop: o.pop, alpha, slot: o.slot });
    }
    for (const lp of pops.values()) {
      for (const m of lp.memory) if (!ops.has(m.op)) return `the memory kernel ${m.op} is not the response of a linear function`;
      for (const f of lp.fields) for (const c of f.cov) if (!ops.has(c.op)) return `the covariance of ${f.name} involves ${c.op}, not a correlation of a linear function`;
    }
    return new Spectrum(pops, ops);
  }

  /** Has the order parameter a frequency-domain equation here? */
  has(name: string): boolean {
    const o = this.ops.get(name);
    return !!o && o.kind !== 'M';
  }

  /** 1/G_p(ω) as written: iω − a − Σ c K(ω), with each term's origin. */
  private inverseFilter(lp: LinPop, w: Expr): { e: Expr; origins: Origin[] } {
    const parts: Origin[] = [];
    const s = lp.pop.kind === 'dynamic' ? mul(sym(IMAG), w) : num(1);
    parts.push({ freq: s, time: lp.pop.kind === 'dynamic' ? sym('§dot') : num(0), pop: lp.pop.name, what: 'derivative' });
    if (ckey(lp.a) !== '0') parts.push({ freq: canon(mul(num(-1), lp.a)), time: lp.aTerms[0], pop: lp.pop.name, what: 'local' });
    for (const m of lp.memory) parts.push({ freq: mul(num(-1), m.c, op(m.op + ONE, w)), time: m.time, pop: lp.pop.name, what: 'memory' });
    return { e: add(...parts.map((p) => p.freq)), origins: parts };
  }

  /** The derived frequency-domain equation of an order parameter: its right-hand side, in
   *  op(X§1, ω), IMAG and OMEGA, and where each of its terms comes from. */
  symbolic(name: string): { rhs: Expr; origins: Origin[]; denominator?: Expr } | undefined {
    const o = this.ops.get(name);
    if (!o || o.kind === 'M') return undefined;
    const lp = this.pops.get(o.pop)!;
    if (o.kind === 'R') {
      const f = lp.fields.find((x) => x.name === o.slot);
      if (!f) return undefined;
      const inv = this.inverseFilter(lp, W);
      const k = canon(mul(o.alpha, f.b));
      return { rhs: times(k, pow(inv.e, num(-1))), origins: inv.origins.map((x) => ({ ...x, freq: canon(mul(x.freq, pow(k, num(-1)))) })), denominator: canon(mul(inv.e, pow(k, num(-1)))) };
    }
    // C: α² |G|² (Σ b² Ĉ + Σ d² D), |G|² through the population's response when there is one
    const r = [...this.ops.values()].find((x) => x.kind === 'R' && x.pop === o.pop && lp.fields.some((f) => f.name === x.slot));
    let gg: Expr;
    if (r) {
      const rb = canon(mul(r.alpha, lp.fields.find((f) => f.name === r.slot)!.b));
      gg = times(op(r.name + ONE, W), op(r.name + ONE, mul(num(-1), W)), pow(rb, num(-2)));
    } else {
      gg = mul(pow(this.inverseFilter(lp, W).e, num(-1)), pow(this.inverseFilter(lp, mul(num(-1), W)).e, num(-1)));
    }
    const origins: Origin[] = [];
    const src: Expr[] = [];
    for (const f of lp.fields) {
      for (const c of f.cov) {
        const a = this.ops.get(c.op)!;
        const t = times(pow(f.b, num(2)), c.k, pow(a.alpha, num(-2)), op(c.op + ONE, W));
        src.push(t);
        origins.push({ freq: canon(times(pow(o.alpha, num(2)), gg, t)), time: f.time, pop: lp.pop.name, what: 'field' });
      }
    }
    for (const n of lp.noises) {
      const t = times(pow(n.d, num(2)), n.D);
      src.push(t);
      origins.push({ freq: canon(times(pow(o.alpha, num(2)), gg, t)), time: n.time, pop: lp.pop.name, what: 'noise' });
    }
    if (!src.length) return undefined;
    return { rhs: times(pow(o.alpha, num(2)), gg, src.length === 1 ? src[0] : add(...src)), origins };
  }

  /** The equation id a frequency-domain equation of this order parameter is reported under. */
  popOf(name: string): string | undefined { return this.ops.get(name)?.pop; }

  /** Values of the Fourier transforms of every linear order parameter at frequency w
   *  (undefined when the response iteration does not converge: an unstable or marginal system). */
  values(params: Record<string, number>, w: number): Map<string, Complex> | undefined {
    const ev = (e: Expr) => evaluate(e, { vars: params });
    const R = new Map<string, Complex>();
    const rOps = [...this.ops.values()].filter((o) => o.kind === 'R');
    const weight = new Map<string, number>();
    for (const o of rOps) {
      const lp = this.pops.get(o.pop)!;
      const f = lp.fields.find((x) => x.name === o.slot);
      if (!f) return undefined;
      weight.set(o.name, ev(o.alpha) * ev(f.b));
      R.set(o.name, cx(0));
    }
    const G = (lp: LinPop): Complex => {
      let inv = lp.pop.kind === 'dynamic' ? cx(0, w) : cx(1);
      inv = cadd(inv, cx(-ev(lp.a)));
      for (const m of lp.memory) inv = cadd(inv, cmul(cx(-ev(m.c)), R.get(m.op) ?? cx(0)));
      return cinv(inv);
    };
    let converged = rOps.length === 0;
    for (let it = 0; it < 20000 && !converged; it++) {
      let delta = 0;
      for (const o of rOps) {
        const g = G(this.pops.get(o.pop)!);
        const next = cmul(cx(weight.get(o.name)!), g);
        const old = R.get(o.name)!;
        const upd = cx(0.5 * old.re + 0.5 * next.re, 0.5 * old.im + 0.5 * next.im);
        delta = Math.max(delta, cabs(cadd(upd, cx(-old.re, -old.im))) / Math.max(1e-300, cabs(upd)));
        R.set(o.name, upd);
      }
      if (!Number.isFinite(delta)) return undefined;
      if (delta < 1e-15) converged = true;
    }
    if (!converged) return undefined;
    // correlations of the populations' variables: C_p = |G_p|² (Σ_f b² Σ κ α_q² C_q + Σ d² D)
    const names = [...this.pops.keys()];
    const n = names.length;
    const A = names.map(() => new Array(n + 1).fill(0));
    names.forEach((pn, i) => {
      const lp = this.pops.get(pn)!;
      const g2 = cabs(G(lp)) ** 2;
      A[i][i] += 1;
      for (const f of lp.fields) for (const c of f.cov) {
        const q = this.ops.get(c.op)!;
        A[i][names.indexOf(q.pop)] -= g2 * ev(f.b) ** 2 * ev(c.k) * ev(q.alpha) ** 2;
      }
      for (const nz of lp.noises) A[i][n] += g2 * ev(nz.d) ** 2 * ev(nz.D);
    });
    const Cp = solveLinear(A);
    // a spectral density is positive: anything else means no stationary state (past a stability edge)
    if (!Cp || Cp.some((c, i) => !Number.isFinite(c) || (c <= 0 && A[i][n] > 0))) return undefined;
    const out = new Map<string, Complex>();
    for (const o of this.ops.values()) {
      if (o.kind === 'R') out.set(o.name, R.get(o.name)!);
      else if (o.kind === 'C') out.set(o.name, cx(ev(o.alpha) ** 2 * Cp[names.indexOf(o.pop)]));
    }
    return out;
  }
}

/** Does e involve a variable, field or noise at a time (else it acts at ω = 0 only)? */
function hasTimeDependence(e: Expr): boolean {
  if (e.k === 'ref') return !!e.at;
  return children(e).some(hasTimeDependence);
}

function mentions(e: Expr, name: string): boolean {
  if (e.k === 'sym') return e.name === name;
  return children(e).some((c) => mentions(c, name));
}

/** Solve an augmented n × (n+1) system; undefined when singular. */
function solveLinear(A: number[][]): number[] | undefined {
  const n = A.length;
  return solveDense(A.map((r) => r.slice(0, n)), A.map((r) => r[n]), 1e-14);
}

/** |E|² → E·E*: for transforms of real functions, E* is E with i → −i and every X(a) → X(−a). */
export function expandModulus(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.k !== 'pow' || x.exp.k !== 'num' || x.exp.v !== 2 || x.base.k !== 'call' || x.base.fn !== 'abs') return x;
    const z = x.base.args[0];
    return mul(z, conjugate(z));
  });
}

export function conjugate(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.k === 'sym' && x.name === IMAG) return mul(num(-1), x);
    if (x.k === 'op' && x.name.endsWith(ONE)) return { ...x, args: x.args.map((a) => canon(mul(num(-1), a))) };
    return x;
  });
}

/** Evaluate a frequency-domain expression: parameters, ω, i, transforms op(X§1, ±ω). */
export function evalComplex(e: Expr, env: { params: Record<string, number>; w: number; at: (name: string, w: number) => Complex | undefined; imag: number }): Complex {
  const go = (x: Expr): Complex => {
    switch (x.k) {
      case 'num': return cx(x.v);
      case 'sym':
        if (x.name === IMAG) return cx(0, env.imag);
        if (x.name === OMEGA) return cx(env.w);
        if (x.name === 'pi') return cx(Math.PI);
        if (x.name in env.params) return cx(env.params[x.name]);
        throw new Error(`no value for ${x.name}`);
      case 'add': return x.terms.map(go).reduce(cadd, cx(0));
      case 'mul': return x.factors.map(go).reduce(cmul, cx(1));
      case 'pow': {
        const b = go(x.base), p = go(x.exp);
        if (Math.abs(p.im) > 0) throw new Error('complex exponent');
        return cpow(b, p.re);
      }
      case 'call': {
        const a = x.args.map(go);
        if (x.fn === 'abs') return cx(cabs(a[0]));
        if (x.fn === 'sqrt') return cpow(a[0], 0.5);
        // any other function of the language on a real argument
        const f = functionDef(x.fn);
        if (f && a.length === 1 && a[0].im === 0) return cx(f.value(a[0].re));
        throw new Error(`${x.fn} in a frequency-domain equation`);
      }
      case 'op': {
        if (!x.name.endsWith(ONE) || x.args.length !== 1) throw new Error(`${x.name} is not a transform`);
        const a = go(x.args[0]);
        if (Math.abs(a.im) > 1e-12) throw new Error('complex frequency');
        const v = env.at(x.name.slice(0, -ONE.length), a.re);
        if (!v) throw new Error(`no value for ${x.name}`);
        return v;
      }
      default: throw new Error(`${x.k} in a frequency-domain equation`);
    }
  };
  return go(e);
}

export { cabs };
