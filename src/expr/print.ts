// Plain-text printing of expression trees in the model language's own syntax
// (extended with DMFT-level nodes), for error messages and step traces.
import type { Expr } from './ast.ts';
import { FUNCTION_NAMES } from './functions.ts';

// precedence: higher binds tighter
const PREC = { add: 1, mul: 2, unary: 3, pow: 4, atom: 5 } as const;

function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(+v.toPrecision(12));
}

/** Is this factor a negative power (printed in the denominator)? */
function isDenominator(f: Expr): f is Extract<Expr, { k: 'pow' }> {
  return f.k === 'pow' && f.exp.k === 'num' && f.exp.v < 0;
}

export function print(e: Expr): string {
  return p(e, 0);
}

function p(e: Expr, ctx: number): string {
  const wrap = (s: string, prec: number) => (prec < ctx ? `(${s})` : s);
  switch (e.k) {
    case 'num':
      return e.v < 0 ? wrap(fmtNum(e.v), PREC.unary) : fmtNum(e.v);
    case 'sym':
      return e.name;
    case 'ref': {
      const base = e.idx.length ? `${e.name}[${e.idx.join(',')}]` : e.name;
      return e.at ? `${base}(${p(e.at, 0)})` : base;
    }
    case 'add': {
      if (e.terms.length === 0) return '0';
      let s = p(e.terms[0], PREC.add);
      for (const t of e.terms.slice(1)) {
        const neg = negated(t);
        s += neg ? ` - ${p(neg, PREC.add + 1)}` : ` + ${p(t, PREC.add + 1)}`;
      }
      return wrap(s, PREC.add);
    }
    case 'mul': {
      if (e.factors.length === 0) return '1';
      const n = negated(e);
      if (n) return wrap(`-${p(n, PREC.unary)}`, PREC.unary);
      const numer = e.factors.filter((f) => !isDenominator(f));
      const denom = e.factors.filter(isDenominator).map((f) =>
        f.exp.k === 'num' && f.exp.v === -1 ? f.base : { ...f, exp: { k: 'num', v: -(f.exp as { v: number }).v } as Expr });
      const top = numer.length ? numer.map((f) => p(f, PREC.mul + 0.5)).join('*') : '1';
      if (!denom.length) return wrap(top, PREC.mul);
      const bottom = denom.length === 1 ? p(denom[0], PREC.pow) : `(${denom.map((f) => p(f, PREC.mul + 0.5)).join('*')})`;
      return wrap(`${top}/${bottom}`, PREC.mul);
    }
    case 'pow':
      return wrap(`${p(e.base, PREC.pow + 1)}^${p(e.exp, PREC.pow)}`, PREC.pow);
    case 'call':
      return `${e.fn}(${e.args.map((a) => p(a, 0)).join(', ')})`;
    case 'cmp':
      return wrap(`${p(e.a, PREC.add)} ${e.op} ${p(e.b, PREC.add)}`, 0.5);
    case 'sum':
      return `sum(${e.index}, ${p(e.body, 0)})`;
    case 'mean':
      return `mean(${e.index}, ${p(e.body, 0)})`;
    case 'avg':
      return `<${p(e.body, 0)}>`;
    case 'int':
      return `int(${e.v}=${p(e.lo, 0)}..${p(e.hi, 0)}, ${p(e.body, 0)})`;
    case 'op':
      return `${e.name}(${e.args.map((a) => p(a, 0)).join(',')})`;
  }
}

/** If e is -x (a product with a leading -1 or a negative number), return x. */
export function negated(e: Expr): Expr | undefined {
  if (e.k === 'num' && e.v < 0) return { k: 'num', v: -e.v };
  if (e.k !== 'mul' || e.factors.length === 0) return undefined;
  const f0 = e.factors[0];
  if (f0.k !== 'num' || f0.v >= 0) return undefined;
  const rest = e.factors.slice(1);
  if (f0.v === -1) return rest.length === 1 ? rest[0] : rest.length === 0 ? { k: 'num', v: 1 } : { k: 'mul', factors: rest };
  return { k: 'mul', factors: [{ k: 'num', v: -f0.v }, ...rest] };
}

// ---- rule-expression syntax (docs/rules.md) -----------------------------------

const PATTERN_FUNCTIONS = new Set([...FUNCTION_NAMES, 'delta', 'sum', 'mean']);

/** Print any tree (or pattern) in the rule-expression syntax of
 *  docs/rules.md, structurally exact: parsePattern(printPattern(e)) rebuilds
 *  e node for node (no sugar for a - b or a/b; DMFT nodes as @avg, @int, @op;
 *  single-site variables as x(t) or x[]). */
export function printPattern(e: Expr): string {
  const q = printPattern;
  const atom = (x: Expr): string => (x.k === 'add' || x.k === 'mul' || x.k === 'cmp' || x.k === 'pow' || (x.k === 'num' && (x.v < 0 || Object.is(x.v, -0))) ? `(${q(x)})` : q(x));
  switch (e.k) {
    case 'num': return Object.is(e.v, -0) ? '0' : String(e.v);
    case 'sym': return e.name;
    case 'ref': {
      const at = e.at ? `(${q(e.at)})` : '';
      if (e.idx.length) return `${e.name}[${e.idx.join(',')}]${at}`;
      return e.at && !PATTERN_FUNCTIONS.has(e.name) ? `${e.name}${at}` : `${e.name}[]${at}`;
    }
    case 'add':
      if (e.terms.length < 2) return e.terms.length ? `(${q(e.terms[0])})` : '0';
      return e.terms.map((t) => (t.k === 'add' || t.k === 'cmp' ? `(${q(t)})` : q(t))).join(' + ');
    case 'mul':
      if (e.factors.length < 2) return e.factors.length ? `(${q(e.factors[0])})` : '1';
      return e.factors.map((f) => (f.k === 'add' || f.k === 'mul' || f.k === 'cmp' ? `(${q(f)})` : q(f))).join('*');
    case 'pow': {
      const x = e.exp;
      const ex = x.k === 'add' || x.k === 'mul' || x.k === 'cmp' ? `(${q(x)})` : q(x);
      return `${atom(e.base)}^${ex}`;
    }
    case 'call':
      if (e.fn === '@subst' || e.fn === '@diff') return `${e.fn}(${e.args.map(q).join(', ')})`;
      return `${e.fn}(${e.args.map(q).join(', ')})`;
    case 'cmp': {
      const side = (x: Expr) => (x.k === 'cmp' ? `(${q(x)})` : q(x));
      return `${side(e.a)} ${e.op} ${side(e.b)}`;
    }
    case 'sum': case 'mean': return `${e.k}(${e.index}, ${q(e.body)})`;
    case 'avg': return `@avg(${e.pop}, ${q(e.body)})`;
    case 'int': return `@int(${e.v}, ${q(e.lo)}, ${q(e.hi)}, ${q(e.body)})`;
    case 'op': return `@op(${[e.name, ...e.args.map(q)].join(', ')})`;
  }
}
