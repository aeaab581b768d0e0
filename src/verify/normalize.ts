// Normal form of an equation's right-hand side for comparison and for
// splitting into terms: functional derivatives by the chain rule down to
// δx(t)/δη(s), averages and integrals linear (sums split, constant factors
// out), averages recognized as the order parameters they define, products
// expanded, integration variables renamed by depth, canonical form
// (expr/canon.ts). Two right-hand sides equal in this form are equal; the
// converse is checked numerically (numeric.ts).
import { avg, call, children, integral, mapPost, mul, num, op, some, sym, withChildren, type Expr } from '../expr/ast.ts';
import { canon, ckey, diff, expand, hasSym } from '../expr/canon.ts';
import { substSyms } from '../expr/subst.ts';

/** An order parameter as the comparison sees it (model or user-defined). */
export interface OpInfo {
  name: string;
  kind: 'C' | 'M' | 'R' | 'X';
  pop: string;
  /** defining average, in the free times t (and s) */
  def: Expr;
  arity: number;
  /** not an order parameter of the derived system (a user definition) */
  virtual?: boolean;
  /** a one-argument form X§1 of a two-time order parameter (stationary C(τ), R(τ)) or a
   *  static value: the numeric check gives it a random function of that shape
   *  (even and positive definite for C, causal for R, a constant) */
  free?: 'even' | 'causal' | 'const' | 'smooth';
}

export interface NormContext {
  ops: Map<string, OpInfo>;
  params: Set<string>;
  /** population variables (responses propagate through them) */
  vars: Set<string>;
}

/** fder(f(x(t), …), η(s)) → Σ ∂f/∂x · fder(x(t), η(s)). */
export function fderChain(e: Expr, ctx: NormContext): Expr {
  return mapPost(e, (x) => {
    if (x.k !== 'call' || x.fn !== 'fder' || x.args.length !== 2) return x;
    const [f, h] = x.args;
    const refs = new Map<string, Expr>();
    const walk = (y: Expr): void => {
      if (y.k === 'ref' && y.at && ctx.vars.has(y.name) && !(h.k === 'ref' && h.name === y.name)) refs.set(ckey(y), y);
      children(y).forEach(walk);
    };
    walk(f);
    if (refs.size === 1 && ckey(canon(f)) === [...refs.keys()][0]) return x;
    const tmp = new Map<string, { name: string; r: Expr }>();
    let k = 0;
    for (const [kk, r] of refs) tmp.set(kk, { name: `§r${k++}`, r });
    const fs = mapPost(f, (y) => (y.k === 'ref' && tmp.has(ckey(y)) ? sym(tmp.get(ckey(y))!.name) : y));
    const parts: Expr[] = [];
    for (const { name, r } of tmp.values()) {
      const d = diff(fs, name);
      const back = substSyms(d, Object.fromEntries([...tmp.values()].map((v) => [v.name, v.r])));
      parts.push(mul(back, call('fder', r, h)));
    }
    return parts.length === 0 ? num(0) : parts.length === 1 ? parts[0] : { k: 'add', terms: parts };
  });
}

const isConstLeaf = (x: Expr, ctx: NormContext): boolean =>
  x.k === 'num' || (x.k === 'sym' && (ctx.params.has(x.name) || x.name === 'pi'));

/** A factor made of numbers and parameters only (no times, no random quantities). */
export function isConstant(e: Expr, ctx: NormContext): boolean {
  if (e.k === 'ref' || e.k === 'op' || e.k === 'avg' || e.k === 'int' || e.k === 'sum' || e.k === 'mean') return false;
  if (e.k === 'call' && (e.fn === 'fder' || e.fn === 'delta')) return false;
  if (e.k === 'sym') return isConstLeaf(e, ctx);
  if (e.k === 'num') return true;
  return children(e).every((c) => isConstant(c, ctx));
}

/** ∫(a + b) → ∫a + ∫b, ∫ c·f → c ∫ f (c free of the variable); ⟨a + b⟩, ⟨c f⟩ likewise (c constant). */
export function linear(e: Expr, ctx: NormContext): Expr {
  return mapPost(e, (x) => {
    if (x.k === 'int') return splitInt(x);
    if (x.k === 'avg') return splitAvg(x, ctx);
    return x;
  });
}

function splitInt(x: Extract<Expr, { k: 'int' }>): Expr {
  const body = canon(x.body);
  if (body.k === 'add') return canon({ k: 'add', terms: body.terms.map((t) => splitInt({ ...x, body: t })) });
  const fs = body.k === 'mul' ? body.factors : [body];
  const inside = fs.filter((f) => hasSym(f, x.v));
  const outside = fs.filter((f) => !hasSym(f, x.v));
  if (!outside.length) return { ...x, body };
  return canon(mul(...outside, integral(x.v, x.lo, x.hi, inside.length ? mul(...inside) : num(1))));
}

function splitAvg(x: Extract<Expr, { k: 'avg' }>, ctx: NormContext): Expr {
  const body = canon(x.body);
  if (body.k === 'add') return canon({ k: 'add', terms: body.terms.map((t) => splitAvg({ ...x, body: t }, ctx)) });
  const fs = body.k === 'mul' ? body.factors : [body];
  const inside = fs.filter((f) => !isConstant(f, ctx));
  const outside = fs.filter((f) => isConstant(f, ctx));
  if (!outside.length) return { ...x, body };
  return canon(mul(...outside, inside.length ? avg(x.pop, mul(...inside)) : num(1)));
}

/** The distinct times at which refs occur in e. */
function timesIn(e: Expr): Expr[] {
  const out = new Map<string, Expr>();
  const walk = (y: Expr): void => {
    if (y.k === 'ref' && y.at) out.set(ckey(y.at), y.at);
    children(y).forEach(walk);
  };
  walk(e);
  return [...out.values()];
}

/** ⟨tanh(x(τ)) tanh(x(σ))⟩ → C_{tanh x}(τ, σ) when it is an order parameter's defining average. */
export function foldAverages(e: Expr, ctx: NormContext): Expr {
  const defs = [...ctx.ops.values()].map((o) => ({ o, key: ckey(canon(o.def)) }));
  return mapPost(e, (x) => {
    if (x.k !== 'avg') return x;
    const k = ckey(canon(x));
    const ts = timesIn(x);
    for (const { o } of defs) {
      if (o.arity === 1) {
        for (const a of ts) if (ckey(canon(substSyms(o.def, { t: a }))) === k) return op(o.name, a);
      } else {
        for (const a of ts) for (const b of ts) if (ckey(canon(substSyms(o.def, { t: a, s: b }))) === k) return op(o.name, a, b);
      }
    }
    return x;
  });
}

/** Rename integration variables by nesting depth, by default to §1, §2, …
 *  (α-equivalent integrals become equal); `name` may keep a variable. */
export function renameBinders(e: Expr, name: (depth: number, v: string) => string = (d) => `§${d}`): Expr {
  const go = (x: Expr, depth: number): Expr => {
    if (x.k === 'int') {
      const v = name(depth, x.v);
      const body = substSyms(x.body, { [x.v]: sym(v) });
      return { ...x, v, lo: go(x.lo, depth), hi: go(x.hi, depth), body: go(body, depth + 1) };
    }
    const c = children(x);
    return c.length ? withChildren(x, c.map((y) => go(y, depth))) : x;
  };
  return go(e, 1);
}

/** ∫_lo^hi dv δ(v − a) f(v) = f(a) when a is one of the limits. The instantaneous
 *  part of a response counts fully: the derivation's ∫₀ᵗ R(t,s) v(s) ds includes the
 *  δ(t−s) that R carries for an algebraic population, so R = δ + R̃ gives v(t) + ∫R̃ v. */
export function deltaIntegrals(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.k !== 'int') return x;
    const body = canon(x.body);
    const fs = body.k === 'mul' ? body.factors : [body];
    const i = fs.findIndex((f) => f.k === 'call' && f.fn === 'delta' && f.args.length === 1);
    if (i < 0) return x;
    const arg = (fs[i] as Extract<Expr, { k: 'call' }>).args[0];
    // arg = ±(v − a): a = v ∓ arg, free of v
    const dv = diff(arg, x.v);
    if (!(dv.k === 'num' && Math.abs(dv.v) === 1)) return x;
    const a = canon({ k: 'add', terms: [sym(x.v), mul(num(-dv.v), arg)] });
    if (hasSym(a, x.v)) return x;
    const k = ckey(a);
    if (k !== ckey(canon(x.hi)) && k !== ckey(canon(x.lo))) return x;
    const rest = fs.filter((_, j) => j !== i);
    return canon(substSyms(rest.length ? mul(...rest) : num(1), { [x.v]: a }));
  });
}

/** The normal form (see the header). `fold`: recognize order parameters in averages. */
export function normal(e: Expr, ctx: NormContext, fold = true): Expr {
  let x = canon(fderChain(e, ctx));
  x = canon(linear(expand(x), ctx));
  x = canon(deltaIntegrals(x));
  if (fold) x = canon(foldAverages(x, ctx));
  x = canon(linear(expand(x), ctx));
  return canon(renameBinders(x));
}

/** The additive terms of a normal form. */
export function termsOf(e: Expr): Expr[] {
  if (e.k === 'num' && e.v === 0) return [];
  return e.k === 'add' ? e.terms : [e];
}

/** coefficient (numbers and parameters) × structure (everything else). */
export function splitCoef(t: Expr, ctx: NormContext): { coef: Expr; struct: Expr } {
  const fs = t.k === 'mul' ? t.factors : [t];
  const c = fs.filter((f) => isConstant(f, ctx));
  const s = fs.filter((f) => !isConstant(f, ctx));
  return { coef: canon(c.length ? mul(...c) : num(1)), struct: canon(s.length ? mul(...s) : num(1)) };
}

/** Does e mention a time-dependent quantity (so that it is a "term" rather than a constant)? */
export function isDynamic(e: Expr): boolean {
  return some(e, (x) => x.k === 'ref' || x.k === 'op' || x.k === 'avg' || x.k === 'int');
}

