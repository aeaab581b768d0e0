// Nonlinear random matrices in a `matrix` statement (docs/spectrum.md,
// "Nonlinear matrices"): the terms that apply a function to a random
// projection, read into the two shapes whose limiting spectrum equals that
// of a linear equivalent:
//
//  - a feature Gram matrix  c·Σ_k φ(h_ik)·φ(h_jk)·w,  h_ik = Σ_l A[i,l]·B[k,l]
//    (two centred random matrices; w a constant), whose linear equivalent is
//    Gaussian equivalence's μ0 + μ1·h/√v + μ*·Z (rule ge.feature.linearize);
//  - a kernel matrix  c·f(Σ_l X[i,l]·X[j,l])  with entries of variance 1/size
//    of l, so that the argument is O(1/√D) off the diagonal and τ on it; its
//    linear equivalent is El Karoui's Taylor expansion (rule spectrum.ge.kernel).
//
// This module only reads the statement (shapes, refusals with positions); the
// spectrum derivation (src/derive/spectrum.ts) applies the rules, and the
// sampler (src/simulate/spectrum.ts) builds the matrix as written.
import { children, mapArithmetic, some, type Expr, type Span } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { print } from '../expr/print.ts';
import type { MatrixDecl, Model } from './ir.ts';
import type { TermIssue } from './matrix-terms.ts';

type RefNode = Extract<Expr, { k: 'ref' }>;
type SumNode = Extract<Expr, { k: 'sum' }>;

/** One side of a feature Gram term: φ(h) with h = Σ_l A[a,l]·B[k,l]. */
export interface FeatureSide {
  /** the factor as written, φ(h) */
  phi: Expr;
  h: SumNode;
  /** the matrix that carries the Gram matrix's index (a), and the one that carries the feature index k */
  A: RefNode;
  B: RefNode;
}

export interface FeatureGramTerm {
  kind: 'feature-gram';
  /** constant factor (a mean over k brings 1/size) */
  coef: Expr;
  /** the summed feature index */
  k: string;
  /** the feature at the row index and at the column index */
  left: FeatureSide;
  right: FeatureSide;
  /** the summand's constant factors besides the features */
  weight: Expr;
  /** the sum Σ_k φ·φ·w as written */
  sum: SumNode;
  span?: Span;
}

export interface KernelTerm {
  kind: 'kernel';
  coef: Expr;
  /** the factor f(h) as written */
  f: Expr;
  /** h = Σ_l X[i,l]·X[j,l] */
  h: SumNode;
  /** the matrix X */
  X: string;
  span?: Span;
}

export type NonlinearTerm = FeatureGramTerm | KernelTerm;

export interface NonlinearSplit {
  nonlinear: NonlinearTerm[];
  /** the other terms of the matrix (read by src/model/matrix-terms.ts), undefined when none */
  rest?: Expr;
  /** terms that depend on neither index (a constant c·11ᵀ), taken with the nonlinear terms' constant parts */
  constants: Expr[];
  issues: TermIssue[];
}

const isProjection = (x: Expr, matrices: Set<string>): x is SumNode => {
  if (x.k !== 'sum') return false;
  const fs = x.body.k === 'mul' ? x.body.factors : [x.body];
  return fs.length === 2 && fs.every((f) => f.k === 'ref' && matrices.has(f.name) && f.idx.length === 2 && f.idx.includes(x.index));
};

/** a sum over random matrices (a projection) under a function call or a power; a
 *  function of a bare entry is left to src/model/matrix-terms.ts, which refuses it */
export function hasNonlinearMatrix(m: Model, e: Expr): boolean {
  const matrices = new Set(m.randoms.filter((r) => r.indices.length === 2).map((r) => r.name));
  let found = false;
  const go = (x: Expr, inside: boolean): void => {
    if (found) return;
    if (inside && x.k === 'sum' && some(x.body, (y) => y.k === 'ref' && matrices.has(y.name))) { found = true; return; }
    children(x).forEach((c) => go(c, inside || x.k === 'call' || (x.k === 'pow' && !(x.exp.k === 'num' && x.exp.v === 1) && some(x.base, (y) => y.k === 'sum'))));
  };
  go(e, false);
  return found;
}

/** The terms of a matrix that apply a function to a random projection, read
 *  as feature Gram or kernel terms; the other terms are left as `rest`. */
export function splitNonlinear(m: Model, d: MatrixDecl): NonlinearSplit {
  const matrices = new Set(m.randoms.filter((r) => r.indices.length === 2 && !r.timeDependent).map((r) => r.name));
  const [I, J] = d.indices;
  const issues: TermIssue[] = [];
  const nonlinear: NonlinearTerm[] = [];
  const rest: Expr[] = [];
  const flat = (e: Expr): Expr[] => (e.k === 'add' ? e.terms.flatMap(flat) : [e]);
  const factors = (e: Expr): Expr[] => (e.k === 'mul' ? e.factors.flatMap(factors) : [e]);
  const isConst = (e: Expr) => !some(e, (y) => y.k === 'ref' || y.k === 'sum' || y.k === 'mean' || (y.k === 'sym' && y.name === I) || (y.k === 'sym' && y.name === J));
  const sizeOf = (i: string) => m.indexSets.find((s) => s.indices.includes(i))?.size;
  const fail = (span: Span | undefined, message: string, hint: string) => { issues.push({ span: span ?? d.span, message, hint }); };
  const example = `sum(k, relu(sum(l, F[k,l]*X[${I},l]))*relu(sum(l, F[k,l]*X[${J},l])))/P or tanh(sum(l, X[${I},l]*X[${J},l]))`;
  for (const term of flat(d.expr)) {
    if (!hasNonlinearMatrix(m, term)) { rest.push(term); continue; }
    const fs = factors(term);
    const consts = fs.filter(isConst);
    const others = fs.filter((f) => !isConst(f));
    const sums = others.filter((f): f is Extract<Expr, { k: 'sum' | 'mean' }> => f.k === 'sum' || f.k === 'mean');
    const calls = others.filter((f) => f.k !== 'sum' && f.k !== 'mean');
    const coefOf = (extra: Expr[]): Expr => canon({ k: 'mul', factors: [{ k: 'num', v: 1 }, ...consts, ...extra] });
    if (sums.length === 1 && !calls.length) {
      // a feature Gram term c·Σ_k φ(h_ik)·φ(h_jk)·w
      const s = sums[0];
      const k = s.index;
      const body = factors(s.body);
      const feats = body.filter((f) => !isConst(f));
      const weight = body.filter(isConst);
      const sides = feats.map((f) => featureSide(f, k, matrices));
      if (feats.length !== 2 || sides.some((x) => !x)) {
        fail(s.span ?? term.span, `cannot read '${print(term)}' as a feature Gram matrix Σ_${k} φ(h_${I}${k})·φ(h_${J}${k}): each factor of the summand must be a function of one random projection sum(l, A[${I},l]*B[${k},l]), or a constant`,
          `write the two features as functions of projections, e.g. ${example}`);
        continue;
      }
      let [left, right] = sides as FeatureSide[];
      const at = (x: FeatureSide) => x.A.idx.find((q) => q !== x.h.index);
      if (at(left) === J && at(right) === I) [left, right] = [right, left];
      if (at(left) !== I || at(right) !== J) {
        fail(s.span ?? term.span, `the features of '${print(term)}' must carry the matrix's two indices, ${I} on one and ${J} on the other`, `e.g. ${example}`);
        continue;
      }
      if (left.A.name !== right.A.name || left.B.name !== right.B.name) {
        fail(s.span ?? term.span, `the two features of '${print(term)}' project different matrices (${left.A.name}·${left.B.name} and ${right.A.name}·${right.B.name})`, 'a feature Gram matrix is Φᵀ Φ for one feature matrix Φ = φ(B·Aᵀ)');
        continue;
      }
      if (functionKey(left) !== functionKey(right)) {
        fail(s.span ?? term.span, `the two features of '${print(term)}' are different functions of their projections`, 'a feature Gram matrix is Φᵀ Φ: write the same function on both sides');
        continue;
      }
      nonlinear.push({ kind: 'feature-gram', coef: coefOf(s.k === 'mean' ? [{ k: 'pow', base: { k: 'sym', name: sizeOf(k) ?? k }, exp: { k: 'num', v: -1 } }] : []), k, left, right,
        weight: canon({ k: 'mul', factors: [{ k: 'num', v: 1 }, ...weight] }), sum: { k: 'sum', index: k, body: s.body, span: s.span }, span: term.span });
      continue;
    }
    if (!sums.length && calls.length === 1) {
      // a kernel term c·f(Σ_l X[i,l]·X[j,l])
      const f = calls[0];
      const hs: SumNode[] = [];
      some(f, (y) => { if (isProjection(y, matrices)) hs.push(y); return false; });
      const h = hs[0];
      const ok = h && hs.every((y) => ckey(canon(y)) === ckey(canon(h)));
      const refs = ok ? (h.body as Extract<Expr, { k: 'mul' }>).factors as RefNode[] : [];
      const outer = refs.map((r) => r.idx.find((q) => q !== h.index));
      if (!ok || refs[0].name !== refs[1].name || !((outer[0] === I && outer[1] === J) || (outer[0] === J && outer[1] === I)) || refs.some((r) => r.idx[1] !== h.index)) {
        fail(f.span ?? term.span, `cannot read '${print(term)}' as a kernel matrix f(Σ_l X[${I},l]·X[${J},l]): the function's argument must be the inner product of two rows of one random matrix, written sum(l, X[${I},l]*X[${J},l])`,
          `e.g. ${example}`);
        continue;
      }
      const stray = findStray(f, h);
      if (stray) {
        fail(stray.span ?? f.span ?? term.span, `the kernel '${print(f)}' depends on '${print(stray)}' besides the inner product ${print(h)}`,
          'the kernel is a function of the inner product alone, with numbers as constants; a parameter may multiply it outside the function');
        continue;
      }
      nonlinear.push({ kind: 'kernel', coef: coefOf([]), f, h, X: refs[0].name, span: term.span });
      continue;
    }
    fail(term.span, `cannot read '${print(term)}' in matrix ${d.name}: a function of random matrices is read as a feature Gram matrix c·Σ_k φ(h_${I}k)·φ(h_${J}k) or a kernel matrix c·f(Σ_l X[${I},l]·X[${J},l])`,
      `e.g. ${example}`);
  }
  // with a nonlinear term, a constant term joins its constant part (both are c·11ᵀ)
  const constants = nonlinear.length ? rest.filter(isConst) : [];
  const linear = rest.filter((t) => !constants.includes(t));
  const restExpr = !linear.length ? undefined : linear.length === 1 ? linear[0] : { k: 'add' as const, terms: linear };
  return { nonlinear, rest: restExpr, constants, issues };
}

/** φ(h) with h = Σ_l A[a,l]·B[k,l]: the factor read as a feature of index k, if it is one. */
function featureSide(f: Expr, k: string, matrices: Set<string>): FeatureSide | undefined {
  const hs: SumNode[] = [];
  some(f, (y) => { if (isProjection(y, matrices)) hs.push(y); return false; });
  if (!hs.length || !hs.every((y) => ckey(canon(y)) === ckey(canon(hs[0])))) return undefined;
  const h = hs[0];
  const [r1, r2] = (h.body as Extract<Expr, { k: 'mul' }>).factors as RefNode[];
  if (r1.name === r2.name) return undefined;
  const B = r1.idx.includes(k) ? r1 : r2.idx.includes(k) ? r2 : undefined;
  if (!B) return undefined;
  const A = B === r1 ? r2 : r1;
  if (findStray(f, h)) return undefined;
  return { phi: f, h, A, B };
}

/** a name in f besides the projection h (refs, sums, symbols other than pi) */
function findStray(f: Expr, h: Expr): Expr | undefined {
  const hk = ckey(canon(h));
  let stray: Expr | undefined;
  const go = (y: Expr): void => {
    if (stray) return;
    if (y.k === 'sum' && ckey(canon(y)) === hk) return;
    if (y.k === 'ref' || y.k === 'sum' || y.k === 'mean' || (y.k === 'sym' && y.name !== 'pi')) { stray = y; return; }
    children(y).forEach(go);
  };
  go(f);
  return stray;
}

/** φ as a function of its projection, free of index names */
function functionKey(s: FeatureSide): string {
  const hk = ckey(canon(s.h));
  const rep = (y: Expr): Expr => (y.k === 'sum' && ckey(canon(y)) === hk ? { k: 'sym', name: '__h' } : mapArithmetic(y, rep));
  return ckey(canon(rep(s.phi)));
}

