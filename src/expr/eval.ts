// Numeric evaluation of expression trees: the one evaluator core.
//
//   evaluate(e, env)            → number (a tree-walking interpreter)
//   constantValue(e, params)    → number, or undefined when e is not a
//                                  constant (numbers, params, functions of them)
//
// The meaning of each node is defined once, here (pow, comparisons, the
// built-in symbols pi and inf) and in the function registry (./functions.ts);
// the compiler (./compile.ts) generates code with the same meaning for hot
// loops. Integrals (`int` nodes) use adaptive Gauss–Kronrod
// (src/numeric/integrate.ts). δ cannot be evaluated pointwise: evaluation
// throws unless `env.delta` supplies a nascent kernel. `avg` needs `env.avg`;
// refs need `env.ref`; order parameters need `env.op`; `sum`/`mean` need
// `env.size`.
import type { Expr } from './ast.ts';
import { FUNCTION_DEFS } from './functions.ts';
import { integrate, type QuadOptions } from '../numeric/integrate.ts';
import { hasOwn, own, table } from '../table.ts';

export type { QuadOptions };

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

export class EvalError extends Error {
  constructor(message: string) { super(message); this.name = 'EvalError'; }
}

/** The symbols every expression knows. */
export const BUILTIN_SYMBOLS: Readonly<Record<string, number>> = table({ pi: Math.PI, inf: Infinity });

/** b^x as every evaluator computes it (squares and reciprocals exactly). */
export const powValue = (b: number, x: number): number => (x === 2 ? b * b : x === -1 ? 1 / b : b ** x);

/** a ≶ b as 1 or 0. */
export function cmpValue(op: string, a: number, b: number): number {
  return (op === '>' ? a > b : op === '<' ? a < b : op === '>=' ? a >= b : a <= b) ? 1 : 0;
}

/** Value of an expression made of numbers, known params (no built-in
 *  symbols: a param may be named pi) and functions of them, else undefined. */
export function constantValue(e: Expr, params: Record<string, number>): number | undefined {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return own(params, e.name) ?? own(BUILTIN_SYMBOLS, e.name);
    case 'add': { let s = 0; for (const t of e.terms) { const v = constantValue(t, params); if (v === undefined) return undefined; s += v; } return s; }
    case 'mul': { let s = 1; for (const t of e.factors) { const v = constantValue(t, params); if (v === undefined) return undefined; s *= v; } return s; }
    case 'pow': { const b = constantValue(e.base, params), x = constantValue(e.exp, params); return b === undefined || x === undefined ? undefined : powValue(b, x); }
    case 'call': {
      const f = FUNCTION_DEFS[e.fn];
      if (!f || e.args.length !== f.arity) return undefined;
      const a = constantValue(e.args[0], params);
      return a === undefined ? undefined : f.value(a);
    }
    case 'cmp': {
      const a = constantValue(e.a, params), b = constantValue(e.b, params);
      return a === undefined || b === undefined ? undefined : cmpValue(e.op, a, b);
    }
    default: return undefined;
  }
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
  const b = own(BUILTIN_SYMBOLS, name);
  if (b !== undefined) return b;
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
  const f = FUNCTION_DEFS[fn];
  if (!f) throw new EvalError(`unknown function '${fn}'`);
  return f.value(x);
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
      return powValue(ev(e.base, env, sc), ev(e.exp, env, sc));
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
