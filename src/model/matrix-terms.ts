// Reading a `matrix H[i,j] = …` statement as a sum of terms the spectrum
// derivation understands (docs/spectrum.md, "How a matrix is read"):
//
//  - a chain  c · D0(i) M1(i,k1) D1(k1) M2(k1,k2) … Mn(k_{n-1},j) Dn(j), with
//    the bound indices k summed, each M a random matrix of the model (in its
//    declared orientation or transposed) and each D a product of functions of
//    the quenched vectors at that index (a population covariance, a weight);
//  - a rank-one term  c · a(i) b(j)  with no random matrix (a spike).
//
// Anything else (a function of a matrix entry, an entry used twice at one
// index, a loop) is refused with its position. The reading works on the
// expression tree only; sizes and variances are judged by the spectrum
// derivation, which needs the laws of the quenched vectors.
import { children, freeIndices, mapArithmetic, mul, num, pow, ref, some, sym, type Expr, type Span } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import { canon } from '../expr/canon.ts';
import type { MatrixDecl, Model } from './ir.ts';

/** One random matrix met along a chain: its name, and which slot of its
 *  declaration holds the chain index on the `i` side (0: M[k_{m-1},k_m] as
 *  declared, 1: transposed, written M[k_m,k_{m-1}]). */
export interface Link { matrix: string; outPos: 0 | 1; span?: Span }

export interface ChainTerm {
  kind: 'chain';
  /** constant factor: numbers, parameters, sizes */
  coef: Expr;
  /** the chain's indices k0 = i, k1, …, kn = j (bound ones renamed apart) */
  indices: string[];
  /** the set each chain index runs over */
  sets: string[];
  /** D_m, the factors at index k_m (1 when none), written with index k_m */
  diag: Expr[];
  /** M_1 … M_n */
  links: Link[];
  span?: Span;
}

export interface RankOneTerm {
  kind: 'rank-one';
  coef: Expr;
  /** a(i), written with index i */
  left: Expr;
  /** b(j), written with index j */
  right: Expr;
  span?: Span;
}

export type MatrixTerm = ChainTerm | RankOneTerm;

/** Why a term could not be read: where, what, a hint. */
export interface TermIssue { span?: Span; message: string; hint: string }

interface Product { factors: Expr[]; bound: string[]; span?: Span }

/** The terms of a matrix, or the issues that keep it from being read. */
export function matrixTerms(m: Model, d: MatrixDecl): { terms: MatrixTerm[]; issues: TermIssue[] } {
  const setOf = (i: string) => m.indexSets.find((s) => s.indices.includes(i))?.size;
  const issues: TermIssue[] = [];
  const terms: MatrixTerm[] = [];
  const boundSet = new Map<string, string>();
  let fresh = 0;
  const [I, J] = d.indices;
  const declared = new Set(m.indexSets.flatMap((s) => s.indices));
  const products = expandProducts(d.expr, (k) => {
    // bound indices renamed apart (mu, mu2, …), so that products of sums never clash
    let name = k;
    while (boundSet.has(name) || (name !== k && declared.has(name))) name = `${k}${++fresh + 1}`;
    boundSet.set(name, setOf(k) ?? '?');
    return name;
  }, (k) => setOf(k) ?? '?');
  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  for (const p of products) {
    const coef: Expr[] = [];
    const atIndex = new Map<string, Expr[]>();
    const links: { factor: Expr & { k: 'ref' }; a: string; b: string }[] = [];
    let bad = false;
    for (const f of p.factors) {
      const free = [...freeIndices(f)];
      if (f.k === 'ref' && randoms.get(f.name)?.indices.length === 2 && free.length === 2) {
        if (f.idx[0] === f.idx[1]) {
          issues.push({ span: f.span ?? p.span, message: `'${print(f)}' is a diagonal entry of ${f.name}: a term of a matrix uses each random matrix as a matrix`, hint: `write a chain such as sum(mu, X[mu,i]*X[mu,j]), or ${f.name}[i,j]` });
          bad = true; continue;
        }
        links.push({ factor: f, a: f.idx[0], b: f.idx[1] });
        continue;
      }
      if (some(f, (x) => x.k === 'sum' || x.k === 'mean')) {
        issues.push({ span: f.span ?? p.span, message: `cannot read '${print(f)}' in a matrix: a sum inside a function or a power`, hint: 'a matrix is a sum of products of random matrices and quenched vectors; expand the expression' });
        bad = true; continue;
      }
      const matrixInside = findRef(f, (r) => (randoms.get(r.name)?.indices.length ?? 0) >= 2);
      if (matrixInside) {
        issues.push({ span: f.span ?? p.span, message: `cannot read '${print(f)}' in a matrix: the entries of ${matrixInside.name} enter only linearly, as factors of a product`, hint: `a nonlinear function of a random matrix is not a chain of matrices; write products such as sum(mu, X[mu,i]*X[mu,j])` });
        bad = true; continue;
      }
      const vector = findRef(f, (r) => !randoms.has(r.name) || randoms.get(r.name)!.indices.length !== 1 || randoms.get(r.name)!.timeDependent);
      if (vector) {
        issues.push({ span: vector.span ?? f.span ?? p.span, message: `a matrix may use random matrices, quenched random vectors and parameters; '${print(vector)}' is none of these`, hint: 'states, lets, noise and fresh-every-step randoms have no place in a fixed random matrix' });
        bad = true; continue;
      }
      if (free.length === 0) coef.push(f);
      else if (free.length === 1) { const l = atIndex.get(free[0]) ?? []; l.push(f); atIndex.set(free[0], l); }
      else {
        issues.push({ span: f.span ?? p.span, message: `cannot read '${print(f)}' in a matrix: a factor that is not a matrix entry depends on ${free.join(' and ')}`, hint: 'each factor is a random matrix entry, or depends on one index (a quenched vector such as u[i])' });
        bad = true;
      }
    }
    if (bad) continue;
    const product = (l: Expr[] | undefined): Expr => (!l || !l.length ? num(1) : l.length === 1 ? l[0] : mul(...l));
    if (!links.length) {
      const stray = p.bound.find((k) => atIndex.has(k));
      if (stray || p.bound.length) {
        issues.push({ span: p.span, message: `a term of ${d.name} sums over '${(stray ?? p.bound[0])}' but holds no random matrix to carry the sum`, hint: 'a term without a random matrix is a rank-one spike such as theta*u[i]*u[j]; take averages out of the matrix (as parameters)' });
        continue;
      }
      if (!atIndex.has(I) || !atIndex.has(J)) {
        issues.push({ span: p.span, message: `a term of ${d.name} without a random matrix must depend on both ${I} and ${J} (a rank-one spike a[${I}]*b[${J}])`, hint: `a term that depends on ${atIndex.has(I) ? `${I} only` : atIndex.has(J) ? `${J} only` : 'neither index'} is rank one along the all-ones vector: write it as a spike, e.g. theta*u[${I}]*u[${J}] with random u[${I}] ~ normal(0, 1/N)` });
        continue;
      }
      terms.push({ kind: 'rank-one', coef: product(coef), left: product(atIndex.get(I)), right: product(atIndex.get(J)), span: p.span });
      continue;
    }
    // walk the chain from i to j
    const chain = [I];
    const used = new Set<number>();
    const out: Link[] = [];
    let at = I;
    while (at !== J) {
      const next = links.findIndex((l, n) => !used.has(n) && (l.a === at || l.b === at));
      if (next < 0) break;
      used.add(next);
      const l = links[next];
      const other = l.a === at ? l.b : l.a;
      out.push({ matrix: l.factor.name, outPos: l.a === at ? 0 : 1, span: l.factor.span });
      if (chain.includes(other)) break;
      chain.push(other);
      at = other;
    }
    const leftover = links.filter((_, n) => !used.has(n));
    const unchained = p.bound.filter((k) => !chain.includes(k));
    if (at !== J || leftover.length || unchained.length) {
      const f = leftover[0]?.factor;
      issues.push({ span: f?.span ?? p.span,
        message: `cannot read a term of ${d.name} as a chain of random matrices from ${I} to ${J}${f ? `: '${print(f)}' is left over` : ''}`,
        hint: `each term links ${I} to ${J} through random matrices, each summed index shared by two of them, e.g. sum(mu, X[mu,${I}]*X[mu,${J}]) or J[${I},${J}]` });
      continue;
    }
    const misplaced = [...atIndex.keys()].find((k) => !chain.includes(k));
    if (misplaced) {
      issues.push({ span: atIndex.get(misplaced)![0].span ?? p.span, message: `'${print(atIndex.get(misplaced)![0])}' depends on '${misplaced}', which the term does not use`, hint: `use the indices of the term (${chain.join(', ')})` });
      continue;
    }
    const sets = chain.map((k) => boundSet.get(k) ?? setOf(k) ?? '?');
    terms.push({ kind: 'chain', coef: product(coef), indices: chain, sets, diag: chain.map((k) => product(atIndex.get(k))), links: out, span: p.span });
  }
  return { terms, issues };
}

/** A term written back as an expression (the chain's indices as renamed). */
export function termExpr(t: MatrixTerm): Expr {
  const f: Expr[] = [];
  const push = (e: Expr) => { if (!(e.k === 'num' && e.v === 1)) f.push(e); };
  push(t.coef);
  if (t.kind === 'rank-one') { push(t.left); push(t.right); }
  else {
    t.diag.forEach((d, m) => {
      push(d);
      const l = t.links[m];
      if (l) { const a = t.indices[m], b = t.indices[m + 1]; f.push(ref(l.matrix, l.outPos === 0 ? [a, b] : [b, a])); }
    });
  }
  let e: Expr = f.length === 0 ? num(1) : f.length === 1 ? f[0] : mul(...f);
  if (t.kind === 'chain') for (const k of t.indices.slice(1, -1).reverse()) e = { k: 'sum', index: k, body: e };
  return e;
}

/** Is the matrix symmetric, term by term (a chain read backwards, or a
 *  spike with its factors swapped, is a term of the matrix)? When not,
 *  the first term whose transpose is missing. */
export function asymmetricTerm(m: Model, terms: MatrixTerm[]): MatrixTerm | undefined {
  const symmetric = new Set(m.randoms.filter((r) => r.symmetric).map((r) => r.name));
  const keyOf = (t: MatrixTerm, reversed: boolean): string => {
    if (t.kind === 'rank-one') {
      const [a, b] = reversed ? [t.right, t.left] : [t.left, t.right];
      return `R|${print(canon(t.coef))}|${at(a)}|${at(b)}`;
    }
    const n = t.links.length;
    const parts: string[] = [`C|${print(canon(t.coef))}`];
    for (let s = 0; s <= n; s++) {
      const m2 = reversed ? n - s : s;
      parts.push(at(t.diag[m2]));
      if (s < n) {
        const l = reversed ? t.links[n - 1 - s] : t.links[s];
        const pos = symmetric.has(l.matrix) ? 0 : reversed ? 1 - l.outPos : l.outPos;
        parts.push(`${l.matrix}${pos}`);
      }
    }
    return parts.join('|');
  };
  const count = new Map<string, number>();
  for (const t of terms) { const k = keyOf(t, false); count.set(k, (count.get(k) ?? 0) + 1); }
  const countRev = new Map<string, number>();
  for (const t of terms) { const k = keyOf(t, true); countRev.set(k, (countRev.get(k) ?? 0) + 1); }
  return terms.find((t) => count.get(keyOf(t, true)) !== countRev.get(keyOf(t, true)));
}

/** A factor printed with its (single) index replaced by '#'. */
function at(e: Expr): string {
  const rename = (x: Expr): Expr => {
    if (x.k === 'ref') return { ...x, idx: x.idx.map(() => '#'), span: undefined };
    const c = children(x);
    if (!c.length) return x;
    switch (x.k) {
      case 'add': return { k: 'add', terms: x.terms.map(rename) };
      case 'mul': return { k: 'mul', factors: x.factors.map(rename) };
      case 'pow': return { k: 'pow', base: rename(x.base), exp: rename(x.exp) };
      case 'call': return { k: 'call', fn: x.fn, args: x.args.map(rename) };
      case 'cmp': return { k: 'cmp', op: x.op, a: rename(x.a), b: rename(x.b) };
      default: return x;
    }
  };
  return print(canon(rename(e)));
}

/** The expression as a sum of products of atomic factors, each product with
 *  the indices it sums over (mean(k, …) brings a factor 1/size). */
function expandProducts(e: Expr, bind: (k: string) => string, sizeOf: (k: string) => string): Product[] {
  const go = (x: Expr, rename: Map<string, string>): Product[] => {
    switch (x.k) {
      case 'num': return [{ factors: x.v === 1 ? [] : [x], bound: [], span: x.span }];
      case 'add': return x.terms.flatMap((t) => go(t, rename));
      case 'mul': {
        let acc: Product[] = [{ factors: [], bound: [], span: x.span }];
        for (const f of x.factors) {
          const ps = go(f, rename);
          acc = acc.flatMap((a) => ps.map((b) => ({ factors: [...a.factors, ...b.factors], bound: [...a.bound, ...b.bound], span: x.span ?? a.span })));
        }
        return acc;
      }
      case 'sum': case 'mean': {
        const name = bind(x.index);
        const inner = new Map(rename); inner.set(x.index, name);
        return go(x.body, inner).map((p) => ({
          factors: x.k === 'mean' ? [pow(sym(sizeOf(x.index)), num(-1)), ...p.factors] : p.factors,
          bound: [name, ...p.bound], span: x.span ?? p.span,
        }));
      }
      case 'pow':
        // an integer power of a sum is a product (e.g. (A + B)^2 is not a chain; keep it atomic)
        return [{ factors: [renameIn(x, rename)], bound: [], span: x.span }];
      default:
        return [{ factors: [renameIn(x, rename)], bound: [], span: x.span }];
    }
  };
  return go(e, new Map());
}

function renameIn(e: Expr, rename: Map<string, string>): Expr {
  if (!rename.size) return e;
  const go = (x: Expr): Expr => (x.k === 'ref' ? { ...x, idx: x.idx.map((i) => rename.get(i) ?? i) } : mapArithmetic(x, go));
  return go(e);
}

function findRef(e: Expr, p: (r: Expr & { k: 'ref' }) => boolean): (Expr & { k: 'ref' }) | undefined {
  if (e.k === 'ref' && p(e)) return e;
  for (const c of children(e)) { const r = findRef(c, p); if (r) return r; }
  return undefined;
}
