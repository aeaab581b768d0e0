// Compile an expression into a fast JS function of a slot vector, for hot
// numeric loops (Monte Carlo paths, quadrature). Slots are named leaves:
// a bare symbol or a ref by name (its indices and time are ignored: the
// caller maps "x at time τ" to a slot before compiling). Unlike eval.ts's
// closure compiler, this one generates straight-line JS source: the solvers
// call it millions of times per solve.
import type { Expr } from './ast.ts';
import { BUILTIN_SYMBOLS } from './eval.ts';
import { FN_HELPERS, functionJs } from './functions.ts';
import { hasOwn } from '../table.ts';

export type Compiled = (v: Float64Array | number[]) => number;

/**
 * Compile `e` with the given slot names; constants looks up remaining bare
 * symbols (parameters). Unknown leaves are an error naming the leaf.
 */
export function compile(e: Expr, slots: string[], constants: Record<string, number> = {}): Compiled {
  const index = new Map(slots.map((s, i) => [s, i]));
  const leaf = (name: string): string => {
    const i = index.get(name);
    if (i !== undefined) return `v[${i}]`;
    if (hasOwn(constants, name)) return `(${constants[name]})`;
    if (hasOwn(BUILTIN_SYMBOLS, name)) return `(${BUILTIN_SYMBOLS[name]})`;
    throw new Error(`compile: no value for '${name}'`);
  };
  const js = (x: Expr): string => {
    switch (x.k) {
      case 'num': return `(${x.v})`;
      case 'sym': return leaf(x.name);
      case 'ref': return leaf(x.name);
      case 'add': return x.terms.length ? `(${x.terms.map(js).join('+')})` : '0';
      case 'mul': return x.factors.length ? `(${x.factors.map(js).join('*')})` : '1';
      case 'pow': {
        if (x.exp.k === 'num') {
          const b = js(x.base);
          if (x.exp.v === 2) return `((t=${b}),t*t)`;
          if (x.exp.v === -1) return `(1/${b})`;
          if (x.exp.v === 0.5) return `Math.sqrt(${b})`;
        }
        return `Math.pow(${js(x.base)},${js(x.exp)})`;
      }
      case 'call': {
        const f = x.args.length === 1 ? functionJs(x.fn, js(x.args[0])) : undefined;
        if (f === undefined) throw new Error(`compile: cannot evaluate function '${x.fn}' pointwise`);
        return f;
      }
      case 'cmp': return `((${js(x.a)})${x.op}(${js(x.b)})?1:0)`;
      default: throw new Error(`compile: a '${x.k}' node must be replaced by a slot before compiling`);
    }
  };
  // squares use a temporary to avoid evaluating the base twice
  const body = js(e);
  const usesT = body.includes('(t=');
  const src = `${usesT ? 'let t;' : ''}return ${body};`;
  const f = new Function('v', 'F', src) as (v: Float64Array | number[], helpers: typeof FN_HELPERS) => number;
  return (v) => f(v, FN_HELPERS);
}
