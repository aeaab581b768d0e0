// Expression trees shared by the model language, the derivation engine and the
// printers. Trees are plain JSON-serializable objects and are never mutated.
// `span` (source position) is carried for error messages only and is ignored
// by equality and hashing.
import { hasOwn, own } from '../table.ts';

export interface Span {
  line: number;
  col: number;
  /** length of the source text the node came from (for ^^^ markers) */
  len?: number;
}

export type CmpOp = '>' | '<' | '>=' | '<=';

export type Expr =
  /** a number */
  | { k: 'num'; v: number; span?: Span }
  /** a bare name: parameter, size, time variable, integration variable */
  | { k: 'sym'; name: string; span?: Span }
  /** an indexed quantity x[i], optionally at a time x[i](s); in the
   *  single-site process idx is empty: x(t) */
  | { k: 'ref'; name: string; idx: string[]; at?: Expr; span?: Span }
  /** n-ary sum of terms */
  | { k: 'add'; terms: Expr[]; span?: Span }
  /** n-ary product of factors (a/b is b^-1 as a factor, -a is (-1)*a) */
  | { k: 'mul'; factors: Expr[]; span?: Span }
  | { k: 'pow'; base: Expr; exp: Expr; span?: Span }
  /** elementary function: tanh, exp, … (also `delta` for Dirac δ(t-s)) */
  | { k: 'call'; fn: string; args: Expr[]; span?: Span }
  /** comparison, 1 when true and 0 when false */
  | { k: 'cmp'; op: CmpOp; a: Expr; b: Expr; span?: Span }
  /** Σ over an index (model level) */
  | { k: 'sum'; index: string; body: Expr; span?: Span }
  /** (1/|set|) Σ over an index (model level) */
  | { k: 'mean'; index: string; body: Expr; span?: Span }
  /** ⟨body⟩ over the single-site process of a population (DMFT level) */
  | { k: 'avg'; pop: string; body: Expr; span?: Span }
  /** ∫_lo^hi d(v) body (DMFT level) */
  | { k: 'int'; v: string; lo: Expr; hi: Expr; body: Expr; span?: Span }
  /** an order parameter or kernel applied to times: C_x(t,s), R(t,s), M(t)
   *  (DMFT level; `name` is a key of DmftSystem.orderParams) */
  | { k: 'op'; name: string; args: Expr[]; span?: Span };

export type ExprKind = Expr['k'];

// ---- constructors -------------------------------------------------------

export const num = (v: number): Expr => ({ k: 'num', v });
export const sym = (name: string): Expr => ({ k: 'sym', name });
export const ref = (name: string, idx: string[] = [], at?: Expr): Expr =>
  at === undefined ? { k: 'ref', name, idx } : { k: 'ref', name, idx, at };
export const add = (...terms: Expr[]): Expr => ({ k: 'add', terms });
export const mul = (...factors: Expr[]): Expr => ({ k: 'mul', factors });
export const pow = (base: Expr, exp: Expr): Expr => ({ k: 'pow', base, exp });
export const neg = (a: Expr): Expr => mul(num(-1), a);
export const sub = (a: Expr, b: Expr): Expr => add(a, neg(b));
export const div = (a: Expr, b: Expr): Expr => mul(a, pow(b, num(-1)));
export const call = (fn: string, ...args: Expr[]): Expr => ({ k: 'call', fn, args });
export const avg = (pop: string, body: Expr): Expr => ({ k: 'avg', pop, body });
export const integral = (v: string, lo: Expr, hi: Expr, body: Expr): Expr => ({ k: 'int', v, lo, hi, body });
export const op = (name: string, ...args: Expr[]): Expr => ({ k: 'op', name, args });

// ---- traversal ----------------------------------------------------------

/** The direct children of a node, in a fixed order. */
export function children(e: Expr): Expr[] {
  switch (e.k) {
    case 'num': case 'sym': return [];
    case 'ref': return e.at ? [e.at] : [];
    case 'add': return e.terms;
    case 'mul': return e.factors;
    case 'pow': return [e.base, e.exp];
    case 'call': return e.args;
    case 'cmp': return [e.a, e.b];
    case 'sum': case 'mean': case 'avg': return [e.body];
    case 'int': return [e.lo, e.hi, e.body];
    case 'op': return e.args;
  }
}

/** Rebuild a node with new children (same order as `children`). */
export function withChildren(e: Expr, c: Expr[]): Expr {
  switch (e.k) {
    case 'num': case 'sym': return e;
    case 'ref': return c.length ? { ...e, at: c[0] } : e;
    case 'add': return { ...e, terms: c };
    case 'mul': return { ...e, factors: c };
    case 'pow': return { ...e, base: c[0], exp: c[1] };
    case 'call': return { ...e, args: c };
    case 'cmp': return { ...e, a: c[0], b: c[1] };
    case 'sum': case 'mean': case 'avg': return { ...e, body: c[0] };
    case 'int': return { ...e, lo: c[0], hi: c[1], body: c[2] };
    case 'op': return { ...e, args: c };
  }
}

/** e with f applied to the operands of an arithmetic node (add, mul, pow, call, cmp); any other node
 *  is returned as it is — a map that stays out of sums, integrals, averages and reference times. */
export function mapArithmetic(e: Expr, f: (x: Expr) => Expr): Expr {
  switch (e.k) {
    case 'add': return { ...e, terms: e.terms.map(f) };
    case 'mul': return { ...e, factors: e.factors.map(f) };
    case 'pow': return { ...e, base: f(e.base), exp: f(e.exp) };
    case 'call': return { ...e, args: e.args.map(f) };
    case 'cmp': return { ...e, a: f(e.a), b: f(e.b) };
    default: return e;
  }
}

/** Bottom-up map: f sees each node after its children were mapped. */
export function mapPost(e: Expr, f: (x: Expr) => Expr): Expr {
  const c = children(e);
  const mapped = c.length ? withChildren(e, c.map((x) => mapPost(x, f))) : e;
  return f(mapped);
}

/** Pre-order visit; return false from f to skip a node's children. */
export function visit(e: Expr, f: (x: Expr, parents: Expr[]) => boolean | void, parents: Expr[] = []): void {
  if (f(e, parents) === false) return;
  const p = [...parents, e];
  for (const c of children(e)) visit(c, f, p);
}

export function some(e: Expr, pred: (x: Expr) => boolean): boolean {
  let found = false;
  visit(e, (x) => {
    if (found) return false;
    if (pred(x)) { found = true; return false; }
  });
  return found;
}

/** Structural equality, ignoring spans. */
export function equal(a: Expr, b: Expr): boolean {
  return key(a) === key(b);
}

/** A canonical string for a tree (spans dropped); equal trees, equal keys. */
export function key(e: Expr): string {
  switch (e.k) {
    case 'num': return Object.is(e.v, -0) ? '0' : String(e.v);
    case 'sym': return e.name;
    case 'ref': return `${e.name}[${e.idx.join(',')}]` + (e.at ? `(${key(e.at)})` : '');
    case 'add': return `(+ ${e.terms.map(key).join(' ')})`;
    case 'mul': return `(* ${e.factors.map(key).join(' ')})`;
    case 'pow': return `(^ ${key(e.base)} ${key(e.exp)})`;
    case 'call': return `${e.fn}(${e.args.map(key).join(',')})`;
    case 'cmp': return `(${e.op} ${key(e.a)} ${key(e.b)})`;
    case 'sum': return `(sum ${e.index} ${key(e.body)})`;
    case 'mean': return `(mean ${e.index} ${key(e.body)})`;
    case 'avg': return `<${e.pop}| ${key(e.body)}>`;
    case 'int': return `(int ${e.v} ${key(e.lo)} ${key(e.hi)} ${key(e.body)})`;
    case 'op': return `${e.name}{${e.args.map(key).join(',')}}`;
  }
}

/** Drop source spans (for JSON output and golden comparisons). */
export function stripSpans(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.span === undefined) return x;
    const { span: _s, ...rest } = x as Expr & { span?: Span };
    return rest as Expr;
  });
}

/** Free indices of a model-level expression (those not bound by sum/mean). */
export function freeIndices(e: Expr): Set<string> {
  const out = new Set<string>();
  const go = (x: Expr, bound: Set<string>): void => {
    if (x.k === 'ref') for (const i of x.idx) if (!bound.has(i)) out.add(i);
    if (x.k === 'sum' || x.k === 'mean') {
      const b = new Set(bound); b.add(x.index);
      go(x.body, b);
      return;
    }
    for (const c of children(x)) go(c, bound);
  };
  go(e, new Set());
  return out;
}
