// The large-size limit of model-level expressions, read the same way by both
// derivation routes (and by the scaling check, src/model/scaling.ts, whose
// `splitFactors` decides what a prefactor is):
//  - a constant prefactor that contains a size (with the params beside it) is
//    folded into the coupling sum it multiplies: c·Σ_k A_ik f_k is the sum of
//    the coupling c·A, of mean c·m and variance c²·v. It is carried through
//    products and sums of terms: c·(a + Σ) = c·a + c·Σ;
//  - a sum without coupling adds up K terms: c·Σ_k f_k = (c·K)·mean(k, f_k);
//  - every other constant that contains a size is replaced by its limit as
//    the sizes grow at fixed ratios: P/D → alpha, 1/N → 0 (the term drops
//    out), and one that grows or hides a size inside a function is refused.
// The result has no size left; the coupling sums carry their prefactor in
// `scales`.
import { DmftError } from '../errors.ts';
import { children, mul, num, pow, some, sym, withChildren, type Expr } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import type { Model } from '../model/ir.ts';
import { constantTest, leading, SizeFamilies, sizeTest, splitFactors } from '../model/scaling.ts';
import { tidy } from '../expr/tidy.ts';

/** What the limit did, for the routes' traces (rule ids <route>.limit.<kind>). */
export interface LimitStep {
  kind: 'prefactor' | 'size' | 'average';
  where: string;
  before: Expr;
  after: Expr;
  /** prefactor: the coupling sum node it produced (the key of `scales`) */
  node?: Expr;
}

export class SizeLimit {
  readonly steps: LimitStep[] = [];
  /** coupling sum node of a rewritten tree → its constant prefactor */
  readonly scales = new Map<Expr, Expr>();
  private isConst: (e: Expr) => boolean;
  private hasSize: (e: Expr) => boolean;

  constructor(
    private m: Model,
    private fam: SizeFamilies,
    private isCouplingSum: (e: Expr) => boolean,
    private sizeOfIndex: (index: string) => string,
  ) {
    this.isConst = constantTest(m, fam);
    this.hasSize = sizeTest(fam);
  }

  /** The expression in the limit (see the header); `where` names the equation. */
  of(e: Expr, where: string): Expr {
    return this.push(e, [], where, e);
  }

  /** The limit of a constant (a distribution argument, a coefficient); `node` locates errors. */
  constant(e: Expr, where: string, node: Expr): Expr {
    return this.limit([e], where, node);
  }

  private active(e: Expr): boolean {
    return some(e, (x) => x.k === 'sum' || (x.k === 'sym' && this.fam.isSize(x.name)));
  }

  /** (Π c)·e in the limit. `at` is the nearest node with a source position. */
  private push(e: Expr, c: Expr[], where: string, at: Expr): Expr {
    const loc = e.span ? e : at;
    if (!this.active(e)) return times(this.limit(c, where, loc), e);
    const kids = (x: Expr) => withChildren(x, children(x).map((k) => this.push(k, [], where, loc)));
    switch (e.k) {
      case 'num': case 'sym': return this.limit([...c, e], where, loc);
      case 'mul': {
        const sp = splitFactors(e.factors, c, this.isConst, this.hasSize);
        if (!sp) return { ...e, factors: e.factors.map((f) => (this.active(f) ? this.push(f, [], where, loc) : f)) };
        const act = sp.others.filter((f) => this.active(f));
        if (act.length === 1) return rebuild(e, sp.others.map((f) => (f === act[0] ? this.push(f, sp.carry, where, loc) : f)));
        return times(this.limit(sp.carry, where, loc), rebuild(e, sp.others.map((f) => (this.active(f) ? this.push(f, [], where, loc) : f))));
      }
      case 'add': return { ...e, terms: e.terms.map((t) => this.push(t, c, where, loc)) };
      case 'sum': return this.sum(e, c, where);
      case 'mean': return { ...e, body: this.push(e.body, c, where, loc) };
      case 'pow': {
        // c·b^x = (c^(1/x)·b)^x for c made of sizes and positive numbers: (N·x)^2/N^2 is x^2
        const x = e.exp.k === 'num' ? e.exp.v : undefined;
        const positive = (f: Expr): boolean => (f.k === 'sym' ? this.fam.isSize(f.name) : f.k === 'num' ? f.v > 0
          : f.k === 'mul' ? f.factors.every(positive) : f.k === 'pow' ? positive(f.base) && !some(f.exp, (y) => y.k === 'sym')
            : f.k === 'call' && f.fn === 'sqrt' && positive(f.args[0]));
        const flat = c.flatMap(function f(y: Expr): Expr[] { return y.k === 'mul' ? y.factors.flatMap(f) : [y]; });
        const sized = flat.filter(positive), rest = flat.filter((f) => !positive(f));
        if (sized.length && x && !rest.some(this.hasSize)) {
          const inner: Expr = { ...e, base: this.push(e.base, [pow(sized.length === 1 ? sized[0] : mul(...sized), num(1 / x))], where, loc) };
          return rest.length ? mul(...rest, inner) : inner;
        }
        return times(this.limit(c, where, loc), kids(e));
      }
      default: return times(this.limit(c, where, loc), kids(e));
    }
  }

  private sum(e: Extract<Expr, { k: 'sum' }>, c: Expr[], where: string): Expr {
    const factors = e.body.k === 'mul' ? e.body.factors : [e.body];
    const coupling = this.isCouplingSum(e);
    const sp = splitFactors(factors, c, this.isConst, this.hasSize);
    const inner = (fs: Expr[]) => fs.map((f) => (this.active(f) ? this.push(f, [], where, e) : f));
    const body = (fs: Expr[]) => (fs.length === 0 ? num(1) : fs.length === 1 ? fs[0] : rebuild(e.body, fs));
    if (coupling) {
      if (!sp) return { ...e, body: body(inner(factors)) };
      const node: Expr = { ...e, body: body(inner(sp.others)) };
      // the sign of a numeric factor stays in the equation (−g/√N·Σ is −(Σ over
      // the coupling g/√N·A), as −Σ with variance g²/N would be written)
      const flat = sp.carry.flatMap(function f(x: Expr): Expr[] { return x.k === 'mul' ? x.factors.flatMap(f) : [x]; });
      const negative = flat.filter((x) => x.k === 'num' && x.v < 0).length % 2 === 1;
      const kept = flat.map((x) => (x.k === 'num' && x.v < 0 ? num(-x.v) : x)).filter((x) => !(x.k === 'num' && x.v === 1));
      const scale = kept.length === 0 ? num(1) : kept.length === 1 ? kept[0] : mul(...kept);
      this.scales.set(node, scale);
      const before = c.length ? tidy(mul(...c, e)) : e;
      const after: Expr = { ...e, body: tidy(mul(scale, ...sp.others)) };
      this.steps.push({ kind: 'prefactor', where, before, after: negative ? mul(num(-1), after) : after, node });
      return negative ? mul(num(-1), node) : node;
    }
    // a sum without coupling: K times an average
    const K = sym(this.sizeOfIndex(e.index));
    const carry = sp ? sp.carry : c;
    const avg: Expr = { k: 'mean', index: e.index, body: body(inner(sp ? sp.others : factors)), span: e.span };
    const coef = this.limit([...carry, K], where, e);
    this.steps.push({ kind: 'average', where, before: carry.length ? tidy(mul(...carry, e)) : e, after: times(coef, { k: 'mean', index: e.index, body: e.body }) });
    return times(coef, avg);
  }

  /** The limit of a product of constants. */
  private limit(c: Expr[], where: string, node: Expr): Expr {
    if (!c.length) return num(1);
    const P = c.length === 1 ? c[0] : mul(...c);
    if (!this.hasSize(P)) return P;
    const l = leading(P, this.fam);
    const fail = (message: string, hint: string): never => {
      throw new DmftError({ file: this.m.file, line: node.span?.line, col: node.span?.col, len: node.span?.len, message, hint });
    };
    if (!l) fail(`in ${where}, cannot take the limit of '${print(P)}' as the sizes grow`, 'sizes enter as powers and ratios (1/N, 1/sqrt(N), P/D), not inside functions');
    if (l!.p > 1e-12) fail(`in ${where}, '${print(P)}' grows like n^${+l!.p.toFixed(3)} as the sizes grow`, 'every term must stay O(1) as the sizes grow: divide by a size, or use a ratio (ratio P/D = alpha)');
    const lim = l!.p < -1e-12 ? num(0) : tidy(l!.coef);
    this.steps.push({ kind: 'size', where, before: P, after: lim });
    return lim;
  }
}

/** A product, dropping factors of 1; 0 if a factor is 0. */
function times(k: Expr, e: Expr): Expr {
  if (k.k === 'num' && k.v === 0) return num(0);
  if (k.k === 'num' && k.v === 1) return e;
  return mul(k, e);
}

/** A mul node with new factors (its position kept); one factor stands alone. */
function rebuild(e: Expr, factors: Expr[]): Expr {
  if (factors.length === 1) return factors[0];
  return e.k === 'mul' ? { ...e, factors } : mul(...factors);
}
