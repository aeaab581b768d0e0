// Affine couplings: a coupling written a + b·J[i,j] inside the sums, with J
// declared random and a, b constants (numbers and params), is itself a
// random matrix with i.i.d. entries — the same entries, with mean a + b·m,
// variance b²·v and fourth central moment b⁴·μ₄ (m, v, μ₄ those of J). The
// DMFT sees only those, so (J[i,j] − 1) with J ~ normal(1, 1), or
// (2·J[i,j] − 1) with J ~ bernoulli(1/2), is a centred coupling of
// variance 1. When every use of J in the model is the same a + b·J, the
// derivation and the scaling check read the model with each a + b·J[…]
// replaced by J[…] and the declaration of J carrying the affine map
// (RandomDecl.affine; moments by `randomMoments` in ./moments.ts). The
// simulator keeps reading the model as written.
import { children, some, withChildren, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import type { Model, RandomDecl } from './ir.ts';
import { moments, isZeroExpr } from './moments.ts';
import { add, mul, num } from '../expr/ast.ts';

type RefNode = Extract<Expr, { k: 'ref' }>;

/** One affine use: the node a + b·J[…], and the reference J[…] in it. */
interface AffineUse { node: Expr; ref: RefNode; a: Expr; b: Expr }

/** The model with its affine couplings folded, and what was folded. */
export interface AffineFolds {
  model: Model;
  /** an expression of the model with every folded a + b·J[…] replaced by J[…] */
  rewrite: (e: Expr) => Expr;
  /** per folded coupling: its name, a and b */
  folded: { name: string; a: Expr; b: Expr }[];
  /** every rewritten node: before (a + b·J[…]) and after (J[…]) */
  sites: { before: Expr; after: Expr }[];
}

/** The expressions of a model that may use a coupling. */
function exprsOf(m: Model): Expr[] {
  return [...m.dynamics.map((d) => d.rhs), ...m.lets.map((l) => l.expr), ...m.observables.map((o) => o.expr), ...m.constraints.flatMap((c) => [c.lhs, c.rhs])];
}

/** a + b·R[…] with a, b constants free of sizes and a ≠ 0 absent: undefined. */
function affineOf(e: Expr, isRandom: (name: string) => boolean, isConst: (x: Expr) => boolean): AffineUse | undefined {
  if (e.k !== 'add') return undefined;
  const hasRandom = (x: Expr) => some(x, (y) => y.k === 'ref' && isRandom(y.name));
  const withR = e.terms.filter(hasRandom);
  if (withR.length !== 1) return undefined;
  const t = withR[0];
  const consts = e.terms.filter((x) => x !== t);
  if (!consts.length || !consts.every(isConst)) return undefined;
  let r: RefNode | undefined; const bs: Expr[] = [];
  if (t.k === 'ref') r = t;
  else if (t.k === 'mul') {
    for (const f of t.factors) {
      if (f.k === 'ref' && isRandom(f.name) && !r) r = f;
      else if (isConst(f)) bs.push(f);
      else return undefined;
    }
  }
  if (!r || !isRandom(r.name) || (r.at !== undefined)) return undefined;
  return { node: e, ref: r, a: consts.length === 1 ? consts[0] : add(...consts), b: bs.length === 0 ? num(1) : bs.length === 1 ? bs[0] : mul(...bs) };
}

/** Fold the affine couplings of a model (see the header). */
export function foldAffineCouplings(m: Model): AffineFolds {
  const params = new Set(m.params.map((p) => p.name));
  const sizes = new Set(m.indexSets.map((s) => s.size));
  // numbers and params combined by arithmetic and functions: no size, site quantity or time
  const isConst = (x: Expr): boolean => !some(x, (y) => (y.k === 'sym' ? !params.has(y.name) || sizes.has(y.name) : y.k !== 'num' && y.k !== 'add' && y.k !== 'mul' && y.k !== 'pow' && y.k !== 'call'));
  const candidates = new Set(m.randoms.filter((r) => r.indices.length >= 2 && !r.timeDependent && !r.affine && moments(r.dist)).map((r) => r.name));
  const uses = new Map<string, AffineUse[]>();
  const refs = new Map<string, number>();
  const walk = (e: Expr): void => {
    if (e.k === 'ref' && candidates.has(e.name)) refs.set(e.name, (refs.get(e.name) ?? 0) + 1);
    const u = affineOf(e, (n) => candidates.has(n), isConst);
    if (u) { const l = uses.get(u.ref.name) ?? []; l.push(u); uses.set(u.ref.name, l); }
    children(e).forEach(walk);
  };
  exprsOf(m).forEach(walk);
  const folded: AffineFolds['folded'] = [];
  const foldOf = new Map<string, { a: Expr; b: Expr }>();
  for (const [name, us] of uses) {
    // every use of the matrix is the same affine form (else its uses would be different matrices of the same entries)
    if (us.length !== refs.get(name)) continue;
    const k = (u: AffineUse) => `${ckey(canon(u.a))}|${ckey(canon(u.b))}`;
    if (!us.every((u) => k(u) === k(us[0])) || isZeroExpr(us[0].b)) continue;
    folded.push({ name, a: us[0].a, b: us[0].b });
    foldOf.set(name, { a: us[0].a, b: us[0].b });
  }
  const sites: AffineFolds['sites'] = [];
  const rewrite = (e: Expr): Expr => {
    if (!foldOf.size) return e;
    const go = (x: Expr): Expr => {
      const u = affineOf(x, (n) => foldOf.has(n), isConst);
      if (u) {
        const after: Expr = { ...u.ref, span: x.span ?? u.ref.span };
        sites.push({ before: x, after });
        return after;
      }
      const kids = children(x);
      if (!kids.length) return x;
      const next = kids.map(go);
      return next.every((c, i) => c === kids[i]) ? x : withChildren(x, next);
    };
    return go(e);
  };
  if (!foldOf.size) return { model: m, rewrite, folded, sites };
  const model: Model = {
    ...m,
    randoms: m.randoms.map((r): RandomDecl => (foldOf.has(r.name) ? { ...r, affine: foldOf.get(r.name)! } : r)),
    dynamics: m.dynamics.map((d) => ({ ...d, rhs: rewrite(d.rhs) })),
    lets: m.lets.map((l) => ({ ...l, expr: rewrite(l.expr) })),
    observables: m.observables.map((o) => ({ ...o, expr: rewrite(o.expr) })),
    constraints: m.constraints.map((c) => ({ ...c, lhs: rewrite(c.lhs), rhs: rewrite(c.rhs) })),
  };
  return { model, rewrite, folded, sites };
}
