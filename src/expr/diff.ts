// Symbolic differentiation and polynomial degree of expression trees, as the
// numeric half needs them: tangent propagation (∂F/∂x, ∂F/∂η), linearity
// detection of single-site processes. The derivative here is the
// almost-everywhere one (sign' = 0, [a > b]' = 0, relu' = [x > 0]), which is
// what a pointwise-compiled function needs; canon.ts `diff` is the
// distributional one (sign' = 2δ) used by symbolic rules.
import { add, call, mul, num, pow, type Expr } from './ast.ts';
import { aeDerivative, functionDef } from './functions.ts';
import { tidy } from './tidy.ts';

/** Does the node stand for the variable `v`? (a bare symbol or a ref by name) */
export type VarTest = (e: Expr) => boolean;

export const isVar = (name: string): VarTest => (e) => (e.k === 'sym' && e.name === name) || (e.k === 'ref' && e.name === name);

/** d e / d v, where v is recognized by `is` (refs and syms; other nodes are
 *  treated as constants unless they contain v, which is an error for
 *  op/int/avg nodes: the caller must replace those by placeholders first). */
export function diff(e: Expr, is: VarTest): Expr {
  return tidy(d(e, is));
}

function contains(e: Expr, is: VarTest): boolean {
  if (is(e)) return true;
  switch (e.k) {
    case 'num': case 'sym': return false;
    case 'ref': return e.at ? contains(e.at, is) : false;
    case 'add': return e.terms.some((x) => contains(x, is));
    case 'mul': return e.factors.some((x) => contains(x, is));
    case 'pow': return contains(e.base, is) || contains(e.exp, is);
    case 'call': return e.args.some((x) => contains(x, is));
    case 'cmp': return contains(e.a, is) || contains(e.b, is);
    case 'sum': case 'mean': case 'avg': return contains(e.body, is);
    case 'int': return contains(e.lo, is) || contains(e.hi, is) || contains(e.body, is);
    case 'op': return e.args.some((x) => contains(x, is));
  }
}

function d(e: Expr, is: VarTest): Expr {
  if (is(e)) return num(1);
  if (!contains(e, is)) return num(0);
  switch (e.k) {
    case 'add': return add(...e.terms.map((t) => d(t, is)));
    case 'mul': {
      const terms: Expr[] = [];
      e.factors.forEach((f, i) => {
        if (!contains(f, is)) return;
        terms.push(mul(...e.factors.map((g, j) => (i === j ? d(f, is) : g))));
      });
      return add(...terms);
    }
    case 'pow': {
      if (!contains(e.exp, is)) {
        // d b^c = c b^(c-1) b'
        const c = e.exp;
        const cm1 = c.k === 'num' ? num(c.v - 1) : add(c, num(-1));
        return mul(c, pow(e.base, cm1), d(e.base, is));
      }
      // d b^c = b^c (c' log b + c b'/b)
      return mul(e, add(mul(d(e.exp, is), call('log', e.base)), mul(e.exp, d(e.base, is), pow(e.base, num(-1)))));
    }
    case 'call': {
      const a = e.args[0];
      const da = d(a, is);
      const f = functionDef(e.fn);
      if (!f) throw new Error(`diff: cannot differentiate ${e.fn}`);
      const outer = aeDerivative(f, a);
      return mul(outer, da);
    }
    case 'cmp': return num(0); // almost everywhere
    default:
      throw new Error(`diff: cannot differentiate a '${e.k}' node containing the variable`);
  }
}

/**
 * Polynomial degree of e in the variables recognized by `is`: 0 for
 * constants, 1 for affine, … ; Infinity when e is not a polynomial in them
 * (e.g. tanh(x), 1/x).
 */
export function degree(e: Expr, is: VarTest): number {
  if (is(e)) return 1;
  if (!contains(e, is)) return 0;
  switch (e.k) {
    case 'add': return Math.max(...e.terms.map((t) => degree(t, is)));
    case 'mul': return e.factors.reduce((s, f) => s + degree(f, is), 0);
    case 'pow': {
      if (e.exp.k === 'num' && Number.isInteger(e.exp.v) && e.exp.v >= 0) return degree(e.base, is) * e.exp.v;
      return Infinity;
    }
    default: return Infinity;
  }
}
