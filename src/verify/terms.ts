// Expression helpers of the verifier (no verifier state).
import { add, children, mapPost, mul, num, pow, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import type { NameNode, TNode } from './parse.ts';
import { tkids } from './rows.ts';
import { isConstant, normal, renameBinders, splitCoef, type NormContext } from './normalize.ts';

/** the two times of the derived equations */
export const T = sym('t');
export const S = sym('s');

/** canon, with parameters taken as positive: (g^2)^{1/2} = g, (√D)^{-2} = 1/D. Used only
 *  for the amplitude of a rescaled field (an amplitude is a positive parameter, and the
 *  numeric check draws parameters in [0.4, 1.6]). */
export function positiveCanon(e: Expr, ctx: NormContext, positiveOp: (x: Expr) => boolean = () => false): Expr {
  const pos = (f: Expr): boolean => isConstant(f, ctx) || positiveOp(f) || (f.k === 'pow' && pos(f.base));
  const go = (x: Expr): Expr => {
    if (x.k === 'call' && x.fn === 'sqrt' && pos(x.args[0])) return go(canon(pow(x.args[0], num(1 / 2))));
    if (x.k !== 'pow' || x.exp.k !== 'num') return x;
    const q = x.exp.v;
    const b = x.base;
    if (b.k === 'pow' && b.exp.k === 'num' && ((b.base.k === 'sym' && ctx.params.has(b.base.name)) || positiveOp(b.base))) return canon(pow(b.base, num(b.exp.v * q)));
    if (b.k === 'mul' && b.factors.every(pos)) return canon(mul(...b.factors.map((f) => go(canon(pow(f, num(q)))))));
    return x;
  };
  let cur = canon(e);
  for (let k = 0; k < 4; k++) {
    const next = canon(mapPost(cur, go));
    if (ckey(next) === ckey(cur)) break;
    cur = next;
  }
  return cur;
}



/** f written at time t (order parameters keep f with the variable at t). */
export function atT(f: Expr): Expr {
  return mapPost(f, (x) => (x.k === 'ref' && x.idx.length === 0 && x.at ? { ...x, at: T } : x));
}

export function substTimeRefs(f: Expr, tau: Expr): Expr {
  return mapPost(f, (x) => (x.k === 'ref' && x.at ? { ...x, at: tau } : x));
}

export function someRefOrOp(e: Expr): boolean {
  if (e.k === 'ref' || e.k === 'op' || e.k === 'avg' || e.k === 'int') return true;
  return children(e).some(someRefOrOp);
}

export function someRef(e: Expr, p: (name: string) => boolean): boolean {
  if (e.k === 'ref' && p(e.name)) return true;
  return children(e).some((c) => someRef(c, p));
}

export function firstVarRef(e: Expr, vars: Set<string>): string | undefined {
  if (e.k === 'ref' && vars.has(e.name)) return e.name;
  for (const c of children(e)) { const r = firstVarRef(c, vars); if (r) return r; }
  return undefined;
}

/** a/D + b/D → (a + b)/D: a sum whose terms share the factors (…)^(-k) (an expanded fraction). */
export function commonDenominator(e: Expr): Expr {
  if (e.k !== 'add') return e;
  const factorsOf = (t: Expr) => (t.k === 'mul' ? t.factors : [t]);
  const isDen = (f: Expr) => f.k === 'pow' && f.exp.k === 'num' && f.exp.v < 0;
  const first = factorsOf(e.terms[0]).filter(isDen);
  const common = first.filter((f) => e.terms.every((t) => factorsOf(t).some((g) => ckey(g) === ckey(f))));
  if (!common.length) return e;
  const keys = new Set(common.map(ckey));
  const rest = e.terms.map((t) => { const fs = factorsOf(t).filter((g) => !keys.has(ckey(g))); return fs.length ? mul(...fs) : num(1); });
  return mul(...common, add(...rest));
}

/** e = N/D: the factors (a sum)^(-1) are the denominator. */
export function fraction(e: Expr): [Expr, Expr] {
  const c = canon(e);
  const fs = c.k === 'mul' ? c.factors : [c];
  const den = fs.filter((f) => f.k === 'pow' && f.exp.k === 'num' && f.exp.v < 0);
  const numr = fs.filter((f) => !den.includes(f));
  const inv = (f: Expr) => { const p = f as Extract<Expr, { k: 'pow' }>; return pow(p.base, num(-(p.exp as Extract<Expr, { k: 'num' }>).v)); };
  return [canon(numr.length ? mul(...numr) : num(1)), canon(den.length ? mul(...den.map(inv)) : num(1))];
}

/** k·D^{-1}: a constant over a sum. */
export function isReciprocal(e: Expr): boolean {
  const fs = e.k === 'mul' ? e.factors : [e];
  return fs.some((f) => f.k === 'pow' && f.exp.k === 'num' && f.exp.v === -1 && f.base.k === 'add');
}

/** Do two terms involve the same transforms (for naming the rule of a changed term)? */
export function similarOps(a: Expr, b: Expr): boolean {
  const ops = (e: Expr, out = new Set<string>()): Set<string> => { if (e.k === 'op') out.add(e.name); children(e).forEach((c) => ops(c, out)); return out; };
  const A = ops(a), B = ops(b);
  return A.size === B.size && [...A].every((x) => B.has(x));
}

/** The time variable of a stationary definition X(τ) = ⟨…⟩. */
export const TAU_ST = '§tau';

/** How many distinct times the variables, fields and noises of e are taken at. */
export function distinctTimes(e: Expr): number {
  const ts = new Set<string>();
  const walk = (x: Expr): void => { if (x.k === 'ref' && x.at) ts.add(ckey(canon(x.at))); children(x).forEach(walk); };
  walk(e);
  return ts.size;
}

export function someOpExpr(e: Expr): boolean {
  return e.k === 'op' || children(e).some(someOpExpr);
}

export function someAvg(e: Expr): boolean {
  return e.k === 'avg' || children(e).some(someAvg);
}

export function someOp(e: Expr, name: string): boolean {
  if (e.k === 'op' && e.name === name) return true;
  return children(e).some((c) => someOp(c, name));
}

export function someCall(e: Expr, fn: string): boolean {
  return !!findCall(e, fn);
}

export function findCall(e: Expr, fn: string): Extract<Expr, { k: 'call' }> | undefined {
  if (e.k === 'call' && e.fn === fn) return e;
  for (const c of children(e)) { const r = findCall(c, fn); if (r) return r; }
  return undefined;
}

export function applyHeads(n: TNode, out: NameNode[] = []): NameNode[] {
  if (n.k === 'apply') out.push(n.head);
  for (const c of tkids(n)) if (!(n.k === 'apply' && c === n.head)) applyHeads(c, out);
  return out;
}

export function size(e: Expr): number {
  return 1 + children(e).reduce((a, c) => a + size(c), 0);
}

export function isConstExpr(e: Expr, ctx: NormContext): boolean {
  const { struct } = splitCoef(e, ctx);
  return struct.k === 'num';
}

export function normalTerms(e: Expr, ctx: NormContext): Expr[] {
  const n = normal(e, ctx, true);
  return n.k === 'add' ? n.terms : n.k === 'num' && n.v === 0 ? [] : [n];
}

/** Integration variables §1, §2 … back to readable names. */
export function renameBack(e: Expr, pick: (depth: number) => string): Expr {
  return renameBinders(e, (depth, v) => (/^§\d+$/.test(v) || v.startsWith('§i') || v.startsWith('§u') ? pick(depth) : v));
}

/** A displayed row as the user would quote it: alignment marks and trailing punctuation dropped. */
export function rowText(t: string): string {
  return t.replace(/&/g, '').replace(/\\nonumber|\\notag/g, '').replace(/[\s,.;]+$/, '').replace(/\s+/g, ' ').trim();
}
