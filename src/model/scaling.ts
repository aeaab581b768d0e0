// Scaling analysis: as the sizes go to infinity at fixed ratios, every term of
// the dynamics must stay O(1). Sizes are written as c_S·n with one base size
// per family of sizes linked by `ratio`; an expression's order is the power of
// n of its typical magnitude. A dense coupling sum Σ_k A_ik f_k has a mean part
// K·m and a fluctuating part of variance K·v; both must be O(1).
import type { Expr } from '../expr/ast.ts';
import { constantValue } from '../expr/eval.ts';
import { distText } from './distributions.ts';
import { add, children, mapPost, mul, num, pow, ref, some, sym } from '../expr/ast.ts';
import { canon } from '../expr/canon.ts';
import { negated, print } from '../expr/print.ts';
import type { Dist, Model } from './ir.ts';
import { randomMoments } from './moments.ts';

/** Leading behaviour coef·n^p of an expression built from sizes and params. */
export interface Leading { p: number; coef: Expr }

export class SizeFamilies {
  /** size name → its expression as (coefficient) × (base size) */
  private rel = new Map<string, { base: string; coef: Expr }>();
  constructor(m: Model) {
    for (const s of m.indexSets) if (!this.rel.has(s.size)) this.rel.set(s.size, { base: s.size, coef: num(1) });
    // P/D = alpha: P = alpha·D. Apply until no change (ratios may chain).
    for (let pass = 0; pass < m.ratios.length + 1; pass++) {
      for (const r of m.ratios) {
        const a = this.rel.get(r.num), b = this.rel.get(r.den);
        if (!a || !b || a.base === b.base) continue;
        // re-base a's family onto b's base: num = value·den
        const oldBase = a.base;
        const factor = times(r.value, b.coef, power(a.coef, num(-1)));
        for (const [k, v] of this.rel) if (v.base === oldBase) this.rel.set(k, { base: b.base, coef: times(factor, v.coef) });
      }
    }
  }
  isSize(name: string): boolean { return this.rel.has(name); }
  base(name: string): string | undefined { return this.rel.get(name)?.base; }
  coef(name: string): Expr { return this.rel.get(name)?.coef ?? num(1); }
  sizes(): string[] { return [...this.rel.keys()]; }
}

/** Leading order of an expression in sizes and params; undefined if not a
 *  rational function of sizes (e.g. a size inside tanh). */
export function leading(e: Expr, fam: SizeFamilies): Leading | undefined {
  switch (e.k) {
    case 'num': return { p: 0, coef: e };
    case 'sym': return fam.isSize(e.name) ? { p: 1, coef: fam.coef(e.name) } : { p: 0, coef: e };
    case 'mul': {
      let p = 0; const coefs: Expr[] = [];
      for (const f of e.factors) { const l = leading(f, fam); if (!l) return undefined; p += l.p; coefs.push(l.coef); }
      return { p, coef: times(...coefs) };
    }
    case 'pow': {
      const b = leading(e.base, fam);
      const x = constValue(e.exp);
      if (!b || x === undefined) return b && b.p === 0 ? { p: 0, coef: e } : undefined;
      return { p: b.p * x, coef: power(b.coef, num(x)) };
    }
    case 'add': {
      const nonzero = e.terms.filter((t) => !(t.k === 'num' && t.v === 0) && !(t.k === 'mul' && t.factors.some((f) => f.k === 'num' && f.v === 0)));
      if (!nonzero.length) return { p: 0, coef: num(0) };
      const ls = nonzero.map((t) => leading(t, fam));
      if (ls.some((l) => !l)) return undefined;
      const p = Math.max(...ls.map((l) => l!.p));
      const top = ls.filter((l) => l!.p === p).map((l) => l!.coef);
      return { p, coef: top.length === 1 ? top[0] : { k: 'add', terms: top } };
    }
    case 'call': {
      const a = leading(e.args[0], fam);
      if (a && e.fn === 'sqrt' && a.p !== 0) return { p: a.p / 2, coef: isOne(a.coef) ? num(1) : { k: 'call', fn: 'sqrt', args: [a.coef] } };
      return a && a.p === 0 ? { p: 0, coef: e } : undefined;
    }
    default: return undefined;
  }
}

const isOne = (e: Expr) => e.k === 'num' && e.v === 1;
/** A product with factors of 1 dropped and nested products flattened. */
function times(...fs: Expr[]): Expr {
  const out: Expr[] = [];
  const add = (f: Expr) => { if (f.k === 'mul') f.factors.forEach(add); else if (!isOne(f)) out.push(f); };
  fs.forEach(add);
  return out.length === 0 ? num(1) : out.length === 1 ? out[0] : mul(...out);
}
/** A power with the trivial cases 1^x and x^1 removed. */
function power(b: Expr, x: Expr): Expr {
  if (isOne(b) || (x.k === 'num' && x.v === 0)) return num(1);
  if (isOne(x)) return b;
  return pow(b, x);
}

/** Is the expression identically zero (in canonical form)? */
export function isZero(e: Expr): boolean {
  const c = canon(e);
  return c.k === 'num' && c.v === 0;
}

export interface ScalingIssue {
  node: Expr;
  message: string;
  hint: string;
  /** for a mis-scaled coupling: one key per declaration and fix (random name,
   *  part and number of summed indices), so that callers can report a
   *  declaration once however many sums use it */
  key?: string;
}

function grows(p: number, size: string): string {
  const q = Math.abs(p);
  const pw = q === 1 ? size : `${size}^${+q.toFixed(3)}`;
  return p > 0 ? `grows like ${pw}` : `vanishes like 1/${pw}`;
}
/** "grows like" → "grow like" (for a plural subject) */
const plural = (s: string) => s.replace(/^grows/, 'grow').replace(/^vanishes/, 'vanish');

/** A coefficient for messages: numbers folded, factors of 1 dropped. */
function tidyCoef(e: Expr): Expr {
  const v = constValue(e);
  if (v !== undefined) return num(+v.toPrecision(12));
  if (e.k === 'mul') {
    const fs: Expr[] = [];
    let c = 1;
    const flat = (x: Expr) => { if (x.k === 'mul') x.factors.forEach(flat); else fs.push(tidyCoef(x)); };
    e.factors.forEach(flat);
    const rest = fs.filter((f) => { const fv = constValue(f); if (fv === undefined) return true; c *= fv; return false; });
    if (!rest.length) return num(c);
    return c === 1 ? (rest.length === 1 ? rest[0] : mul(...rest)) : mul(num(c), ...rest);
  }
  if (e.k === 'pow') {
    const b = tidyCoef(e.base);
    if (e.exp.k === 'num' && e.exp.v === 1) return b;
    return pow(b, tidyCoef(e.exp));
  }
  if (e.k === 'add') return { k: 'add', terms: e.terms.map(tidyCoef) };
  return e;
}
/** Value of a coefficient made of numbers only. */
const constValue = (e: Expr): number | undefined => constantValue(e, {});

/** `c/K` for a coefficient c and a product of sizes K, printed. */
function over(c: Expr, sizes: string[]): string {
  const inv = pow(powerProduct(sizes), num(-1));
  const cc = tidyCoef(c);
  const v = constValue(cc);
  if (v !== undefined) return v < 0 ? `-${print(mul(num(-v), inv))}` : print(mul(num(v), inv));
  return print(mul(...(cc.k === 'mul' ? cc.factors : [cc]), inv));
}
/** N·N·P → N^2*P */
function powerProduct(sizes: string[]): Expr {
  const counts = new Map<string, number>();
  for (const s of sizes) counts.set(s, (counts.get(s) ?? 0) + 1);
  const fs = [...counts].map(([s, n]) => (n === 1 ? sym(s) : pow(sym(s), num(n))));
  return fs.length === 1 ? fs[0] : mul(...fs);
}
function sizeText(sizes: string[]): string {
  return print(powerProduct(sizes));
}

const printDist = (d: Dist): string => distText(d, show);

type SumNode = Extract<Expr, { k: 'sum' }>;
type RefNode = Extract<Expr, { k: 'ref' }>;
/** One product term of a (nested) sum: Σ over binders of Π factors. */
interface Monomial { binders: string[]; factors: Expr[] }

/** Expand a sum into monomials: nested sums (directly or as factors) are
 *  pulled out, sums over a sum of terms are split. A sum of terms inside a
 *  product is split only when it holds a random array or a sum (a coupling may
 *  hide there, as in (J[i,j] + J[j,i])*x[j]); otherwise it stays one O(1)
 *  factor, however many there are ((x[j]+1)*…*(x[j]+7)). */
function monomials(e: Expr, random: (x: Expr) => boolean, limit = 64): Monomial[] {
  switch (e.k) {
    case 'sum': return monomials(e.body, random, limit).map((m) => ({ binders: [e.index, ...m.binders], factors: m.factors }));
    case 'add': {
      const out = e.terms.flatMap((t) => monomials(t, random, limit));
      return out.length > limit ? [{ binders: [], factors: [e] }] : out;
    }
    case 'mul': {
      let acc: Monomial[] = [{ binders: [], factors: [] }];
      for (const f of e.factors) {
        const split = f.k === 'mul' || f.k === 'sum' || (f.k === 'add' && random(f));
        const ms = split ? monomials(f, random, limit) : [{ binders: [], factors: [f] }];
        if (acc.length * ms.length > limit) return [{ binders: [], factors: [e] }];
        acc = acc.flatMap((a) => ms.map((b) => ({ binders: [...a.binders, ...b.binders], factors: [...a.factors, ...b.factors] })));
      }
      return acc;
    }
    default: return [{ binders: [], factors: [e] }];
  }
}

/** A test for constants of a model: numbers, params and sizes combined by
 *  arithmetic and functions (no site quantity, time, multiplier or sum). */
export function constantTest(m: Model, fam: SizeFamilies): (e: Expr) => boolean {
  const params = new Set(m.params.map((p) => p.name));
  return (e) => !some(e, (x) => (x.k === 'sym' ? !params.has(x.name) && !fam.isSize(x.name) : x.k !== 'num' && x.k !== 'add' && x.k !== 'mul' && x.k !== 'pow' && x.k !== 'call'));
}
/** Does an expression contain a size? */
export function sizeTest(fam: SizeFamilies): (e: Expr) => boolean {
  return (e) => some(e, (x) => x.k === 'sym' && fam.isSize(x.name));
}

/**
 * How a product's constant factors reach the sums inside it (the same reading
 * in the scaling check and in the derivation, src/derive/limit.ts): a constant
 * prefactor that contains a size, together with the params beside it, is
 * carried down to the sum it multiplies (through products and sums of terms)
 * and scales its coupling: c·Σ_k A_ik f_k is a sum with the coupling c·A.
 * Constants without sizes stay where they are written.
 */
export function splitFactors(factors: Expr[], carried: Expr[], isConst: (e: Expr) => boolean, hasSize: (e: Expr) => boolean):
  { carry: Expr[]; others: Expr[] } | undefined {
  const consts = factors.filter(isConst);
  if (!carried.length && !consts.some(hasSize)) return undefined;
  return { carry: [...carried, ...consts], others: factors.filter((f) => !isConst(f)) };
}

/** x^(1/2) → sqrt(x), x^(-1/2) → 1/sqrt(x), for messages. */
function withSqrt(e: Expr): Expr {
  return mapPost(e, (x) => {
    if (x.k !== 'pow') return x;
    const r = x.exp.k === 'num' ? x.exp.v : x.exp.k === 'mul' && x.exp.factors.length === 2 && x.exp.factors[0].k === 'num' && x.exp.factors[1].k === 'pow' && x.exp.factors[1].base.k === 'num' && x.exp.factors[1].exp.k === 'num' && x.exp.factors[1].exp.v === -1 ? x.exp.factors[0].v / x.exp.factors[1].base.v : undefined;
    if (r === 0.5) return { k: 'call', fn: 'sqrt', args: [x.base] };
    if (r === -0.5) return pow({ k: 'call', fn: 'sqrt', args: [x.base] }, num(-1));
    return x;
  });
}
/** A constant printed for a message, in canonical form: sizes with their
 *  powers collected, 1/N rather than N^(-1), sqrt(N) for N^(1/2). */
export function show(e: Expr): string {
  const powers = mapPost(e, (x) => (x.k === 'call' && x.fn === 'sqrt' ? pow(x.args[0], mul(num(1), pow(num(2), num(-1)))) : x));
  const t = withSqrt(canon(powers));
  const lone = (x: Expr) => (x.k === 'pow' && x.exp.k === 'num' && x.exp.v < 0 ? mul(num(1), x) : x);
  const n = negated(t);
  return n ? `-${print(lone(n))}` : print(lone(t));
}

/**
 * Order analysis of a dynamics / let right-hand side. Returns the issues found:
 * coupling sums whose fluctuating or mean-field part is not O(1), sums that
 * grow with the sizes for lack of a coupling, and terms that grow with N.
 *
 * A coupling is a random array with two or more indices that carries a summed
 * index. In Σ_B A·f, each summed index is "owned" by the coupling that
 * carries it (for J[i,j]·K[j,k] summed over j and k: J owns j, K owns k; for a
 * tensor J[i,j,k] summed over j and k: J owns both). With K the product of the
 * sizes a coupling owns and c its constant prefactor (see `splitFactors`), its
 * fluctuating part is O(√(K·c²·var)) and its mean part O(K·c·mean).
 * Gaussian couplings: both must be O(1) (a nonzero part that vanishes is an
 * error too). Other distributions: neither may grow, and one must be O(1).
 */
export function checkScaling(rhs: Expr, m: Model, fam: SizeFamilies, setOf: (idx: string) => string | undefined, site?: string): ScalingIssue[] {
  const issues: ScalingIssue[] = [];
  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  // the same model with every size its own base: coefficients free of ratio
  // constants, for suggesting a variance in the user's own sizes
  const raw = new SizeFamilies({ ...m, ratios: [] });
  const isConst = constantTest(m, fam), hasSize = sizeTest(fam);
  const hasSum = (e: Expr) => some(e, (x) => x.k === 'sum');
  const flagged = new Set<Expr>();
  /** `at`: where to point (a prefactor and its sum), when not at `node` */
  const report = (node: Expr, message: string, hint: string, key?: string, at: Expr = node) => {
    flagged.add(node);
    issues.push(key ? { node: at, message, hint, key } : { node: at, message, hint });
  };
  const baseName = (s: string) => fam.base(s) ?? s;
  /** a sum in e whose summand multiplies two different random matrices that both carry the summed index (a projection F x;
   *  a random vector with the index — a quenched input u[j] or a mask s[j](t) — is a site input, not a second matrix) */
  const randomProjection = (e: Expr): Expr | undefined => {
    let found: Expr | undefined;
    some(e, (x) => {
      if (x.k !== 'sum') return false;
      const names = new Set<string>();
      some(x.body, (y) => { if (y.k === 'ref' && randoms.has(y.name) && y.idx.length >= 2 && y.idx.includes(x.index)) names.add(y.name); return false; });
      if (names.size >= 2) found = x;
      return !!found;
    });
    return found;
  };
  const product = (fs: Expr[]): Expr => (fs.length === 0 ? num(1) : fs.length === 1 ? fs[0] : mul(...fs));
  /** a random array or a sum somewhere inside */
  const holdsRandom = (e: Expr): boolean => e.k === 'sum' || (e.k === 'ref' && randoms.has(e.name)) || children(e).some(holdsRandom);
  const constOrd = (fs: Expr[]): number => (fs.length ? leading(product(fs), fam)?.p ?? 0 : 0);

  /** the order of (Π pre)·e; `at` is the product where the prefactor pre starts */
  const ord = (e: Expr, pre: Expr[] = [], at?: Expr): number => {
    switch (e.k) {
      case 'num': case 'sym': return constOrd([...pre, e]);
      case 'mul': {
        const sp = splitFactors(e.factors, pre, isConst, hasSize);
        if (!sp) return e.factors.reduce((s, f) => s + ord(f), 0);
        const act = sp.others.filter((f) => hasSum(f) || hasSize(f));
        if (act.length === 1) return ord(act[0], sp.carry, pre.length ? at : e) + sp.others.filter((f) => f !== act[0]).reduce((s, f) => s + ord(f), 0);
        return constOrd(sp.carry) + sp.others.reduce((s, f) => s + ord(f), 0);
      }
      case 'add': return Math.max(...e.terms.map((t) => ord(t, pre, at)));
      case 'sum': return sumOrder(e, pre, at);
      case 'mean': return ord(e.body, pre, at);
      case 'ref': {
        if (e.at) ord(e.at);
        const r = randoms.get(e.name);
        const mo = r && randomMoments(r);
        if (!mo) return constOrd(pre);
        const lm = leading(mo.mean, fam), lv = leading(mo.var, fam);
        const pm = lm && !isZero(mo.mean) ? lm.p : -Infinity;
        const pv = lv && !isZero(mo.var) ? lv.p / 2 : -Infinity;
        const o = Math.max(pm, pv);
        return constOrd(pre) + (o === -Infinity ? 0 : o);
      }
      case 'pow': {
        const b = ord(e.base);
        const x = constValue(e.exp);
        if (x !== undefined) return constOrd(pre) + b * x;
        ord(e.exp);
        return constOrd(pre);
      }
      case 'call': {
        const h = e.args.map(randomProjection).find((x) => x);
        if (h) {
          // features φ(F x) that Gaussian equivalence (./features.ts) did not linearize: validation reads the
          // linearized model, so a feature left here is one the rule does not cover
          report(e, `'${print(e)}' is a nonlinear function of the random projection '${print(h)}' (a random feature): the cavity rules need random matrices to enter linearly`,
            'Gaussian equivalence applies to a centred feature of a projection of variance of order 1 inside a sum over the features or the examples, e.g. sum(k, (relu(sum(i, F[k,i]*X[mu,i])) - 0.3989422804014327)*a[k])/sqrt(D) (docs/random-features.md)');
          return constOrd(pre);
        }
        e.args.forEach((a) => ord(a));
        return constOrd(pre);
      }
      case 'cmp': ord(e.a); ord(e.b); return constOrd(pre);
      default: return constOrd(pre);
    }
  };

  const sumOrder = (S: SumNode, pre: Expr[], at?: Expr): number => {
    let best = -Infinity;
    for (const mono of monomials(S, holdsRandom)) best = Math.max(best, monoOrder(S, mono, pre, at));
    if (best > 1e-12 && !flagged.has(S) && !containsFlagged(S)) {
      const K = setOf(S.index) ?? '?';
      const body = print(S.body);
      const coupled = site ? `sum(${S.index}, J[${site},${S.index}]*${body.length > 40 ? '…' : body})` : `sum(${S.index}, J[i,${S.index}]*…)`;
      const prefixed = pre.some(hasSize) ? `${print(product(pre))}*` : '';
      report(S, `the sum '${prefixed}${print(S)}' ${grows(best, K)}: it adds up ${K} terms of order 1 with no 1/${K} coupling`,
        `for an average write mean(${S.index}, ${body.length > 40 ? '…' : body}); for a random coupling write ${coupled} with random J[${site ?? 'i'},${S.index}] ~ normal(0, g^2/${K})`, undefined, prefixed ? at : S);
    }
    return best;
  };

  const monoOrder = (S: SumNode, mono: Monomial, pre: Expr[], at?: Expr): number => {
    const B = new Set(mono.binders);
    const isCoupling = (f: Expr): f is RefNode => {
      if (f.k !== 'ref' || f.idx.length < 2 || !f.idx.some((i) => B.has(i))) return false;
      const r = randoms.get(f.name);
      return !!r && !!randomMoments(r);
    };
    const couplings = mono.factors.filter(isCoupling);
    // constant factors inside the summand scale the coupling like a prefactor
    const consts = mono.factors.filter((f) => !isCoupling(f) && isConst(f));
    const rest = mono.factors.filter((f) => !couplings.includes(f as RefNode) && !consts.includes(f));
    const scale = [...pre, ...consts];
    const restOrd = rest.reduce((s, f) => s + ord(f), 0);
    // the same matrix twice (J[i,j]*J[j,i]) is a correlation, not two fields
    if (couplings.length !== 1 && (!couplings.length || new Set(couplings.map((c) => c.name)).size !== couplings.length)) {
      return constOrd(scale) + mono.binders.length + couplings.reduce((s, c) => s + ord(c), 0) + restOrd;
    }
    // assign each summed index to one coupling that carries it
    const owned = new Map<RefNode, string[]>(couplings.map((c) => [c, []]));
    const carriers = (b: string) => couplings.filter((c) => c.idx.includes(b));
    const pending: string[] = [];
    for (const b of mono.binders) {
      const cs = carriers(b);
      if (cs.length === 1) owned.get(cs[0])!.push(b);
      else if (cs.length > 1) pending.push(b);
    }
    for (const b of pending) {
      const cs = carriers(b);
      const c = cs.find((x) => owned.get(x)!.length === 0) ?? cs[0];
      owned.get(c)!.push(b);
    }
    const ownedAll = new Set([...owned.values()].flat());
    let o = restOrd + mono.binders.filter((b) => !ownedAll.has(b)).length;
    // a single coupling takes the prefactor; several keep it apart
    const single = couplings.length === 1;
    if (!single) o += constOrd(scale);
    for (const c of couplings) {
      const own = owned.get(c)!;
      if (!own.length) { o += ord(c, single ? scale : []); continue; }
      o += couplingOrder(S, c, own, single ? scale : [], pre.length ? at : undefined);
    }
    return o;
  };

  const couplingOrder = (S: SumNode, c: RefNode, own: string[], scale: Expr[], at?: Expr): number => {
    const A = randoms.get(c.name)!;
    const mo = randomMoments(A)!;
    const normal = A.dist.kind === 'normal';
    const decl = `random ${A.name}[${A.indices.join(',')}]`;
    const sizes = own.map((b) => setOf(b) ?? '?');
    const pK = own.length;
    const Ktext = sizeText(sizes);
    const unit = sizes.every((s) => s === sizes[0]) ? sizes[0] : baseName(sizes[0]);
    const over1 = own.length === 1 ? `the sum over ${own[0]} is` : `the sums over ${own.join(', ')} are`;
    const lv = leading(mo.var, fam), lm = leading(mo.mean, fam);
    const rv = leading(mo.var, raw), rm = leading(mo.mean, raw);
    const mean = show(mo.mean), variance = show(mo.var);
    // the constant prefactor (shown only when it carries a size)
    const sized = scale.some(hasSize);
    // point at the prefactor and its sum when the prefactor stands outside the sum
    const where = sized && at ? at : S;
    const pre = product(scale);
    const ls = sized ? leading(pre, fam) : { p: 0, coef: pre };
    const rs = sized ? leading(pre, raw) : { p: 0, coef: pre };
    const what = sized ? `'${print(pre)}*${print(S)}'` : `'${print(S)}'`;
    const preText = sized ? `(prefactor ${print(pre)})^2 × ` : '';
    const preMean = sized ? `prefactor ${print(pre)} × ` : '';
    const withPre = sized ? `with its prefactor ${print(pre)}, ` : '';
    if (!ls || !rs) {
      report(S, `cannot tell how the prefactor ${print(pre)} of '${print(S)}' scales with the sizes`, 'write the prefactor as params times powers of sizes, e.g. g/sqrt(N)');
      return 0;
    }
    // a size power that undoes an order q: unit^(-q)
    const unitPow = (q: number): Expr => pow(sym(unit), num(-q));
    let field = -Infinity, meanOrd = -Infinity;
    if (!isZero(mo.var)) {
      if (!lv || !rv) {
        report(S, `cannot tell how the variance ${variance} of ${A.name} scales with the sizes`,
          normal ? `write the variance as params times a power of sizes, e.g. ${decl} ~ normal(${mean}, g^2/${Ktext})` : 'write the arguments of the distribution as params times powers of sizes');
        return 0;
      }
      field = (pK + lv.p) / 2 + ls.p;
    }
    if (!isZero(mo.mean)) {
      if (!lm || !rm) {
        report(S, `cannot tell how the mean ${mean} of ${A.name} scales with the sizes`,
          normal ? `write the mean as params times a power of sizes, e.g. ${decl} ~ normal(J0/${Ktext}, ${variance})` : 'write the arguments of the distribution as params times powers of sizes');
        return 0;
      }
      meanOrd = pK + lm.p + ls.p;
    }
    // an affine coupling a + b·X (src/model/affine.ts): named as written, and the hint is about its moments
    const named = A.affine ? `the coupling ${show(add(A.affine.a, mul(A.affine.b, ref(A.name, A.indices))))} (${A.name} ~ ${printDist(A.dist)})` : A.name;
    const fieldMsg = () => `the fluctuations of ${what} ${plural(grows(field, unit))}: ${preText}size ${Ktext} × variance ${variance} of ${named} ${grows(2 * field, unit)}`;
    const meanMsg = () => `the mean-field part of ${what} ${grows(meanOrd, unit)}: ${preMean}size ${Ktext} × mean ${mean} of ${named} ${grows(meanOrd, unit)}`;
    if (A.affine) {
      const hint = `${named} has mean ${mean} and variance ${variance}; ${over1} O(1) when ${Ktext} × ${sized ? 'prefactor × ' : ''}mean and ${Ktext} × ${sized ? 'prefactor^2 × ' : ''}variance are at most O(1), one of them exactly${normal ? ' (both, for a Gaussian coupling)' : ''}: centre the coupling (its mean is a + b·E ${A.name}) or change the prefactor`;
      const off = (o: number) => o !== -Infinity && Math.abs(o) > 1e-12;
      const top = Math.max(field, meanOrd);
      // Gaussian: both parts O(1); other laws: neither grows, one is O(1) (as below)
      if (normal ? off(field) || off(meanOrd) : off(top)) {
        report(S, field > 1e-12 || (off(field) && !off(meanOrd)) ? fieldMsg() : off(meanOrd) ? meanMsg() : `${what} drops out as the sizes grow`, hint, undefined, where);
      }
      const o = Math.max(field, meanOrd);
      return o === -Infinity ? 0 : o;
    }
    if (normal) {
      if (field !== -Infinity && Math.abs(field) > 1e-12) {
        // keep the user's coefficient; only the size powers change
        const fix = sized ? show(mul(rv!.coef, pow(powerProduct(sizes), num(-1)), pow(sym(unit), num(-2 * rs.p)))) : over(rv!.coef, sizes);
        const alt = sized ? `, or keep the variance and write the prefactor as ${show(mul(rs.coef, pow(sym(unit), num(rs.p - field))))}` : '';
        report(S, fieldMsg(),
          `${withPre}${over1} O(1) when ${Ktext} × ${sized ? 'prefactor^2 × ' : ''}variance = O(1): declare ${decl} ~ normal(${mean}, ${fix})${alt}` +
          (field < 0 ? ` (as written, ${A.name} drops out of the dynamics as the sizes grow)` : ''), `${A.name}:field:${pK}:${rs.p}`, where);
      }
      if (meanOrd !== -Infinity && Math.abs(meanOrd) > 1e-12) {
        const fix = sized ? show(mul(rm!.coef, pow(powerProduct(sizes), num(-1)), pow(sym(unit), num(-rs.p)))) : over(rm!.coef, sizes);
        report(S, meanMsg(),
          `${withPre}the mean part is O(1) when ${Ktext} × ${sized ? 'prefactor × ' : ''}mean = O(1): declare ${decl} ~ normal(${fix}, ${variance})` +
          (meanOrd < 0 ? ` (as written, the mean of ${A.name} drops out; write normal(0, …) if that is intended)` : ''), `${A.name}:mean:${pK}:${rs.p}`, where);
      }
    } else {
      // other distributions: one prefactor sets both parts; neither may grow,
      // and the coupling must not drop out altogether
      const top = Math.max(field, meanOrd);
      const fixPre = show(mul(...scale, unitPow(top)));
      // uniform(lo, hi) scales by scaling its ends
      const ends = A.dist.kind === 'uniform' && !sized ? `declare ${decl} ~ uniform(${show(mul(A.dist.lo, unitPow(top)))}, ${show(mul(A.dist.hi, unitPow(top)))}), or ` : '';
      const hint = `${A.name} ~ ${printDist(A.dist)} has mean ${mean} and variance ${variance}; ${over1} O(1) when ${Ktext} × ${sized ? 'prefactor × ' : ''}mean and ${Ktext} × ${sized ? 'prefactor^2 × ' : ''}variance are at most O(1), one of them exactly: ${ends}write ${fixPre}*${print(S)}${sized ? ` in place of ${print(pre)}*${print(S)}` : ''}`;
      // (the hint rewrites this sum: no shared key)
      if (field > 1e-12) report(S, fieldMsg(), hint, undefined, where);
      else if (meanOrd > 1e-12) report(S, meanMsg(), hint, undefined, where);
      else if (top < -1e-12) {
        report(S, `${what} drops out as the sizes grow: its mean-field part ${meanOrd === -Infinity ? 'is 0' : grows(meanOrd, unit)} and its fluctuations ${field === -Infinity ? 'are 0' : plural(grows(field, unit))}`, hint, undefined, where);
      }
    }
    const o = Math.max(field, meanOrd);
    return o === -Infinity ? 0 : o;
  };

  const containsFlagged = (e: Expr): boolean => [...flagged].some((f) => f !== e && containsNode(e, f));

  const flat: Expr[] = [];
  const collect = (e: Expr) => { if (e.k === 'add') e.terms.forEach(collect); else flat.push(e); };
  collect(rhs);
  for (const t of flat) {
    const o = ord(t);
    if (o > 1e-12 && !flagged.has(t) && !containsFlagged(t)) {
      const size = fam.sizes()[0] ?? 'N';
      report(t, `the term '${print(t)}' ${grows(o, baseName(size))} as the sizes go to infinity`,
        'every term of an equation must stay O(1) as the sizes grow: divide by the size, use a ratio (ratio P/D = alpha), or average with mean(j, …)');
    }
  }
  return issues;
}

function containsNode(hay: Expr, needle: Expr): boolean {
  if (hay === needle) return true;
  const stack: Expr[] = [hay];
  while (stack.length) {
    const x = stack.pop()!;
    if (x === needle) return true;
    for (const v of Object.values(x)) {
      if (v && typeof v === 'object') {
        if (Array.isArray(v)) for (const c of v) { if (c && typeof c === 'object' && 'k' in c) stack.push(c); }
        else if ('k' in v) stack.push(v as Expr);
      }
    }
  }
  return false;
}
