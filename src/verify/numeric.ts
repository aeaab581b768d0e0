// Numeric comparison of two right-hand sides as functionals. Each trial draws
// random admissible inputs, the same for both sides:
//  - parameter values in [0.4, 1.6] and times in [0.2, 2] (trial 0 has s < t,
//    trial 1 has s > t, so causal structure is seen both ways);
//  - a smooth random path for every variable, field and noise outside
//    averages, and an independent one per sample inside averages;
//  - averages ⟨·⟩ over an ensemble of SAMPLES sample paths (an empirical
//    measure is a probability measure, so every identity of averages holds);
//  - order parameters evaluated from their defining averages on that same
//    ensemble: C is then positive semi-definite and symmetric, M smooth, and
//    R causal, because each sample's response δx(t)/δη(s) is a random causal
//    kernel (zero for s > t);
//  - δ(t − s) replaced by a smooth even kernel (both sides see the same one).
// Two sides are equal when they agree to 1e-7 (relative) in every trial.
import { children, withChildren as withKids, type Expr } from '../expr/ast.ts';
import { ckey } from '../expr/canon.ts';
import { evaluate, type EvalEnv } from '../expr/eval.ts';
import type { OpInfo } from './normalize.ts';
import { table } from '../table.ts';
import { keyedUniform } from '../numeric/rng.ts';

export const TRIALS = 4;
export const SAMPLES = 3;
const TOL = 1e-7;

const U = (key: string, lo: number, hi: number) => lo + (hi - lo) * keyedUniform(key);

/** A smooth random path τ ↦ c0 + Σ a_k sin(ω_k τ + φ_k). */
function path(key: string, tau: number): number {
  let v = U(key + '#c', -0.8, 0.8);
  for (let k = 0; k < 3; k++) v += U(`${key}#a${k}`, -1, 1) * Math.sin(U(`${key}#w${k}`, 0.5, 3) * tau + U(`${key}#p${k}`, 0, 6.28));
  return v;
}

/** A random causal kernel (zero for s > t), smooth for s < t, not symmetric. */
function causal(key: string, t: number, s: number): number {
  if (!(t > s)) return 0;
  const lam = U(key + '#l', 0.3, 1.5);
  return Math.exp(-lam * (t - s)) * (1 + 0.5 * Math.sin(U(key + '#w', 0.5, 2.5) * s + U(key + '#p', 0, 6.28)) + U(key + '#b', -0.4, 0.4) * t);
}

/** A random function of the given shape: even and positive definite (a sum of damped
 *  cosines with positive weights), causal (zero for τ ≤ 0, decaying), or a constant. */
function freeValue(key: string, shape: 'even' | 'causal' | 'const' | 'smooth', tau: number): number {
  if (shape === 'const') return U(key + '#c', 0.2, 1.5);
  if (shape === 'smooth') return path(key, tau);
  if (shape === 'causal') return tau > 0 ? causal(key, tau, 0) : 0;
  let v = 0;
  for (let k = 0; k < 3; k++) v += U(`${key}#a${k}`, 0.1, 1) * Math.cos(U(`${key}#w${k}`, 0.3, 2.5) * tau) * Math.exp(-U(`${key}#b${k}`, 0.1, 0.8) * tau * tau);
  return v;
}

/** fder(f, h(σ)) → an op node the evaluator can call: §fder:<f without times>|<h>(times of f, σ). */
function fderToOps(e: Expr): Expr {
  if (e.k === 'call' && e.fn === 'fder' && e.args.length === 2) {
    const [f, h] = e.args;
    const times: Expr[] = [];
    const strip = (x: Expr): Expr => {
      if (x.k === 'ref' && x.at) { times.push(x.at); return { k: 'ref', name: x.name, idx: x.idx }; }
      const c = children(x);
      if (!c.length) return x;
      return withKids(x, c.map(strip));
    };
    const fk = ckey(strip(f));
    const hk = h.k === 'ref' ? h.name : ckey(h);
    const hAt = h.k === 'ref' && h.at ? [h.at] : [];
    return { k: 'op', name: `§fder:${fk}|${hk}`, args: [...times.map(fderToOps), ...hAt.map(fderToOps)] };
  }
  const c = children(e);
  return c.length ? withKids(e, c.map(fderToOps)) : e;
}


/** Free symbols of e (int binders excluded). */
function freeSyms(e: Expr, bound = new Set<string>(), out = new Set<string>()): Set<string> {
  if (e.k === 'sym') { if (!bound.has(e.name)) out.add(e.name); return out; }
  if (e.k === 'int') {
    freeSyms(e.lo, bound, out); freeSyms(e.hi, bound, out);
    const b = new Set(bound); b.add(e.v);
    freeSyms(e.body, b, out);
    return out;
  }
  for (const c of children(e)) freeSyms(c, bound, out);
  return out;
}

export interface NumericContext {
  ops: Map<string, OpInfo>;
  params: string[];
  /** responses with a finite value at equal steps (instantaneous ones in a map: R(t,t) of a let
   *  is finite, not the δ(t − s) of continuous time); a random value there, so a dropped or
   *  extra same-step term is seen */
  sameStep?: Set<string>;
}

export class Numeric {
  private defs = new Map<string, Expr>();
  constructor(private ctx: NumericContext) {}

  /** An order parameter's definition, ready to evaluate (ops may be added after construction). */
  private defOf(name: string): Expr | undefined {
    let d = this.defs.get(name);
    if (!d) {
      const o = this.ctx.ops.get(name);
      if (!o) return undefined;
      d = fderToOps(o.def);
      this.defs.set(name, d);
    }
    return d;
  }

  /** Values of the free symbols in trial k. */
  private vars(trial: number, e: Expr[]): Record<string, number> {
    const v = table<number>();
    for (const p of this.ctx.params) v[p] = U(`${trial}|param|${p}`, 0.4, 1.6);
    const ts = trial === 0 ? [1.3, 0.7] : trial === 1 ? [0.6, 1.4] : [U(`${trial}|t`, 0.2, 2), U(`${trial}|s`, 0.2, 2)];
    v.t = ts[0];
    v.s = ts[1];
    for (const x of e) for (const s of freeSyms(x)) if (!(s in v) && s !== 'pi' && s !== 'inf') v[s] = U(`${trial}|sym|${s}`, 0.2, 2);
    return v;
  }

  private env(trial: number, vars: Record<string, number>): EvalEnv {
    const opCache = new Map<string, number>();
    const sampleEnv = (sample: number): Partial<EvalEnv> => ({
      ref: (name, _idx, at) => (at === undefined ? U(`${trial}|${sample}|q|${name}`, -1, 1) : path(`${trial}|${sample}|p|${name}`, at)),
      op: (name, args) => opValue(name, args, sample),
    });
    const opValue = (name: string, args: number[], sample: number): number => {
      if (name.startsWith('§fder:')) {
        const n = args.length;
        return causal(`${trial}|${sample}|${name}`, args[0], args[n - 1]);
      }
      if (this.ctx.sameStep?.has(name) && args.length === 2 && args[0] === args[1]) return U(`${trial}|same-step|${name}`, 0.3, 1.2);
      const free = this.ctx.ops.get(name)?.free;
      if (free) return freeValue(`${trial}|${name}`, free, args[0] ?? 0);
      const ck = `${name}|${args.join(',')}`;
      const hit = opCache.get(ck);
      if (hit !== undefined) return hit;
      const def = this.defOf(name);
      if (!def) throw new Error(`no definition for the order parameter ${name}`);
      const v = evaluate(def, { ...base, vars: { ...vars, t: args[0], s: args[1] ?? vars.s } });
      opCache.set(ck, v);
      return v;
    };
    const base: EvalEnv = {
      vars,
      ref: sampleEnv(-1).ref,
      op: (name, args) => opValue(name, args, -1),
      avg: (_pop, _body, evalBody) => {
        let s = 0;
        for (let k = 0; k < SAMPLES; k++) s += evalBody(undefined, sampleEnv(k));
        return s / SAMPLES;
      },
      delta: (x) => Math.exp(-(x * x) / 0.36) / (0.6 * Math.sqrt(Math.PI)),
      quad: { absTol: 1e-11, relTol: 1e-10, maxIntervals: 3000 },
    };
    return base;
  }

  /** The values of the expressions in every trial (NaN where evaluation fails). */
  values(es: Expr[]): number[][] {
    const ee = es.map(fderToOps);
    const out: number[][] = es.map(() => []);
    for (let trial = 0; trial < TRIALS; trial++) {
      const vars = this.vars(trial, ee);
      const env = this.env(trial, vars);
      ee.forEach((e, i) => {
        let v: number;
        try { v = evaluate(e, env); } catch { v = NaN; }
        out[i].push(v);
      });
    }
    return out;
  }

  /** Are a and b equal as functionals? undefined when either cannot be evaluated. */
  equal(a: Expr, b: Expr): boolean | undefined {
    const [va, vb] = this.values([a, b]);
    let ok = true;
    for (let k = 0; k < TRIALS; k++) {
      if (!Number.isFinite(va[k]) || !Number.isFinite(vb[k])) return undefined;
      if (Math.abs(va[k] - vb[k]) > TOL * Math.max(1, Math.abs(va[k]), Math.abs(vb[k]))) ok = false;
    }
    return ok;
  }

  /** Is e identically zero? */
  zero(e: Expr): boolean | undefined {
    const [v] = this.values([e]);
    if (v.some((x) => !Number.isFinite(x))) return undefined;
    return v.every((x) => Math.abs(x) <= TOL);
  }
}
