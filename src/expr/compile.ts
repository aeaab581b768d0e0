// Compile an expression into a fast JS function of a slot vector, for hot
// numeric loops (Monte Carlo paths, quadrature). Slots are named leaves:
// a bare symbol or a ref by name (its indices and time are ignored: the
// caller maps "x at time τ" to a slot before compiling). Unlike eval.ts's
// closure compiler, this one generates straight-line JS source: the solvers
// call it millions of times per solve.
import type { Expr } from './ast.ts';
import { erf } from './eval.ts';
import { hasOwn } from '../table.ts';

export type Compiled = (v: Float64Array | number[]) => number;

const FN: Record<string, string> = {
  tanh: 'Math.tanh', exp: 'Math.exp', log: 'Math.log', sqrt: 'Math.sqrt', abs: 'Math.abs',
  sin: 'Math.sin', cos: 'Math.cos', sign: 'Math.sign', erf: 'erf',
};

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
        const a = x.args.map(js);
        if (x.fn === 'relu') return `Math.max(0,${a[0]})`;
        if (x.fn === 'sigmoid') return `(1/(1+Math.exp(-${a[0]})))`;
        const f = FN[x.fn];
        if (!f) throw new Error(`compile: cannot evaluate function '${x.fn}' pointwise`);
        return `${f}(${a.join(',')})`;
      }
      case 'cmp': return `((${js(x.a)})${x.op}(${js(x.b)})?1:0)`;
      default: throw new Error(`compile: a '${x.k}' node must be replaced by a slot before compiling`);
    }
  };
  // squares use a temporary to avoid evaluating the base twice
  const body = js(e);
  const usesT = body.includes('(t=');
  const src = `${usesT ? 'let t;' : ''}return ${body};`;
  const f = new Function('v', 'erf', src) as (v: Float64Array | number[], erfFn: typeof erf) => number;
  return (v) => f(v, erf);
}
