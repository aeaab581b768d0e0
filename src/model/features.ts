// Gaussian equivalence of random features: a nonlinearity φ of a random
// projection h = Σ_i A[a,i]·B[b,i] (two centred random matrices sharing the
// summed index i; `relu(sum(i, F[k,i]*X[mu,i]))`), used inside a sum over
// one of the projection's outer indices, is replaced by its linear
// equivalent (rules/ge.rules.json, docs/random-features.md):
//
//   Σ_b φ(h_ab) f_b → μ0·Σ_b f_b + μ1/√v·Σ_b h_ab f_b + μ*·Σ_b Z_ab f_b      (ge.feature.linearize)
//   Σ_b h_ab f_b    → √(K_i·var B)·Σ_i A_ai u_i,  u_i = Σ_b B_bi f_b/√(K_i·var B)  (ge.projection.exchange)
//
// with h ~ N(0, v), v = K_i·var A·var B its variance in the limit (a number
// of order 1), μ0, μ1, μ* by quadrature (src/numeric/gaussian-equivalence.ts),
// Z a fresh matrix of independent N(0, 1) entries (one per feature matrix)
// and u an auxiliary let on the projection's index set, so that each random
// matrix enters one coupling sum. The derivation and the scaling check read
// the linearized model; the simulator keeps reading the model as written
// (real nonlinear features). Like src/model/affine.ts, this module computes
// the rewrite; the derivation records each step through the engine
// (src/derive/couplings.ts), which re-does it from the rule and checks it.
import { add, call, children, mul, num, pow, ref, some, sym, withChildren, type Expr, type Span } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { constantValue } from '../expr/eval.ts';
import { print } from '../expr/print.ts';
import { DmftError } from '../errors.ts';
import { gaussianEquivalence, type GaussianEquivalence } from '../numeric/gaussian-equivalence.ts';
import { piecewiseOf } from '../numeric/kinks.ts';
import type { LetDecl, Model, RandomDecl } from './ir.ts';
import { isZeroExpr, randomMoments } from './moments.ts';
import { leading, SizeFamilies } from './scaling.ts';

type RefNode = Extract<Expr, { k: 'ref' }>;
type SumNode = Extract<Expr, { k: 'sum' }>;

/** One feature matrix φ(A·B): its constants and the fresh matrix of its nonlinear part. */
export interface Feature {
  phi: Expr;
  projection: Expr;
  /** the variance v of the projection in the limit */
  variance: number;
  constants: GaussianEquivalence;
  /** μ0 as used: 0 when it vanishes within the quadrature's error */
  mu0: number;
  z: string;
  /** the matrix whose outer index is Z's first */
  zFirst: string;
}

/** One rewritten use: the two steps the derivation records. */
export interface FeatureSite {
  where: string;
  /** the use Σ_b φ(h) f as written, and its linear equivalent (ge.feature.linearize) */
  before: Expr;
  /** the feature as written in this use */
  phi: Expr;
  linear: Expr;
  bindLinear: Record<string, Expr>;
  /** the sum Σ_b h f inside `linear`, and its exchanged form (ge.projection.exchange); absent when μ1 = 0 */
  projected?: Expr;
  exchanged?: Expr;
  bindExchange?: Record<string, Expr>;
  feature: Feature;
}

export interface LinearizedFeatures {
  model: Model;
  features: Feature[];
  sites: FeatureSite[];
  /** the auxiliary lets added (u_i = Σ_b B_bi f_b/√(K_i var B)) */
  lets: LetDecl[];
}

/** The projection variable of φ in the quadrature. */
const X = '__h';

/** The constants of φ (an expression of the projection h) at variance v. */
export function featureConstants(phi: Expr, h: Expr, v: number): GaussianEquivalence {
  const hk = ckey(canon(h));
  const f = replaceWhere(phi, (x) => x.k === 'sum' && ckey(canon(x)) === hk, () => sym(X));
  return gaussianEquivalence(piecewiseOf(f, X), v);
}

/** μ0 is set to 0 when it vanishes within the quadrature's error (a centred feature). */
export function usedMu0(c: GaussianEquivalence): number {
  const scale = Math.sqrt(Math.max(c.second, 0));
  return Math.abs(c.mu0) <= Math.max(8 * c.error.mu0, 1e-13 * scale) ? 0 : c.mu0;
}

function replaceWhere(e: Expr, hit: (x: Expr) => boolean, by: (x: Expr) => Expr): Expr {
  if (hit(e)) return by(e);
  const kids = children(e);
  if (!kids.length) return e;
  const next = kids.map((c) => replaceWhere(c, hit, by));
  return next.every((c, i) => c === kids[i]) ? e : withChildren(e, next);
}

/** A constant computed in floating point, as an expression: a value that is
 *  exactly a fraction with a power-of-two denominator (relu's μ1 = 0.5) is
 *  that exact fraction. canon takes an integer-valued float as exact, so a
 *  float 0.5 would become exact on one route (0.5 + 0.5 = 1, then halved)
 *  and stay a float on the other, and the two routes' systems would differ. */
export function quadratureNum(v: number): Expr {
  for (let d = 1; d <= 256; d *= 2) if (Number.isSafeInteger(v * d)) return d === 1 ? num(v * d) : mul(num(v * d), pow(num(d), num(-1)));
  return num(v);
}

const product = (fs: Expr[]): Expr => (fs.length === 0 ? num(1) : fs.length === 1 ? fs[0] : mul(...fs));

/** Linearize every feature of the model (see the header). Throws a located
 *  DmftError where Gaussian equivalence does not apply. */
export function linearizeFeatures(m: Model): LinearizedFeatures {
  const matrices = new Map(m.randoms.filter((r) => r.indices.length === 2 && !r.timeDependent).map((r) => [r.name, r]));
  const setOf = (i: string) => m.indexSets.find((s) => s.indices.includes(i))?.size;
  const fam = new SizeFamilies(m);
  const params = new Set(m.params.map((p) => p.name));
  const fail = (node: Expr, message: string, hint: string): never => {
    const s: Span | undefined = node.span;
    throw new DmftError({ file: m.file, line: s?.line, col: s?.col, len: s?.len, message, hint });
  };
  /** the two matrices of a projection Σ_i A[a,i]·B[b,i], if the sum is one */
  const projectionOf = (x: Expr): { A: RefNode; B: RefNode } | undefined => {
    if (x.k !== 'sum') return undefined;
    const fs = x.body.k === 'mul' ? x.body.factors : [x.body];
    const mats = fs.filter((f): f is RefNode => f.k === 'ref' && matrices.has(f.name) && f.idx.includes(x.index));
    if (mats.length !== 2 || mats[0].name === mats[1].name) return undefined;
    return fs.length === 2 ? { A: mats[0], B: mats[1] } : undefined;
  };
  /** a sum whose summand multiplies two random matrices carrying its index (possibly with other factors) */
  const looksLikeProjection = (x: Expr): boolean => {
    if (x.k !== 'sum') return false;
    const names = new Set<string>();
    some(x.body, (y) => { if (y.k === 'ref' && matrices.has(y.name) && y.idx.includes(x.index)) names.add(y.name); return false; });
    return names.size >= 2;
  };
  /** a projection somewhere under a function call (a feature) */
  const underCall = (e: Expr): Expr | undefined => {
    let found: Expr | undefined;
    const go = (x: Expr, inCall: boolean): void => {
      if (found) return;
      if (inCall && looksLikeProjection(x)) { found = x; return; }
      children(x).forEach((c) => go(c, inCall || x.k === 'call' || (x.k === 'pow' && x.base.k === 'sum')));
    };
    go(e, false);
    return found;
  };

  const features = new Map<string, Feature>();
  const byPair = new Map<string, Feature>();
  const sites: FeatureSite[] = [];
  const lets: LetDecl[] = [];
  const zDecls: RandomDecl[] = [];
  const taken = new Set<string>([...m.params.map((p) => p.name), ...m.indexSets.flatMap((s) => [s.size, ...s.indices]), ...m.randoms.map((r) => r.name),
    ...m.noises.map((r) => r.name), ...m.states.map((s) => s.name), ...m.lets.map((l) => l.name), ...m.observables.map((o) => o.name), ...(m.matrices ?? []).map((x) => x.name)]);
  const fresh = (base: string): string => {
    let n = base, k = 1;
    while (taken.has(n)) n = `${base}${++k}`;
    taken.add(n);
    return n;
  };

  /** the linear equivalent of one use S = Σ_b (…φ(h)…) f */
  const linearizeUse = (S: SumNode, where: string): Expr => {
    const hs = new Map<string, Expr>();
    some(S.body, (y) => { if (looksLikeProjection(y)) hs.set(ckey(canon(y)), y); return false; });
    const h = [...hs.values()][0];
    if (hs.size > 1) fail(S, `the sum '${print(S)}' holds several random projections: Gaussian equivalence is applied to one feature matrix per sum`, 'write each feature matrix in a sum of its own (a let per feature)');
    const pr = projectionOf(h);
    if (!pr) fail(h, `'${print(h)}' is not a projection Σ_i A[a,i]·B[b,i] of two random matrices`, `write the projection as sum(i, F[k,i]*X[mu,i]) (constant factors outside the sum, inside the nonlinearity)`);
    const { A: A0, B: B0 } = pr!;
    const i = (h as SumNode).index;
    const outer = (r: RefNode) => r.idx.find((x) => x !== i);
    // B carries the summed outer index b, A the other one (the site)
    const b = S.index;
    const [A, B] = outer(B0) === b ? [A0, B0] : outer(A0) === b ? [B0, A0] : [undefined, undefined];
    if (!A || !B) fail(S, `the sum over ${b} in '${print(S)}' does not run over an index of the features '${print(h)}'`, 'Gaussian equivalence applies to a feature matrix φ(A·B) summed over the features or over the examples, e.g. sum(k, relu(sum(i, F[k,i]*X[mu,i]))*a[k])');
    const a = outer(A!)!;
    const fs = S.body.k === 'mul' ? S.body.factors : [S.body];
    const phis = fs.filter((f) => some(f, (y) => y === h || (y.k === 'sum' && ckey(canon(y)) === ckey(canon(h)))));
    if (phis.length !== 1) fail(S, `the features in '${print(S)}' are not one factor of the summand`, 'write the feature as one function of the projection, e.g. (relu(h) - c)*a[k]');
    const phi = phis[0];
    const rest = product(fs.filter((f) => f !== phi));
    // φ: a function of the projection alone, with numbers only (its constants are numbers of the derivation)
    const hkey = ckey(canon(h));
    const inPhi = (y: Expr): void => {
      if (y.k === 'sum' && ckey(canon(y)) === hkey) return;
      if (y.k === 'ref' || y.k === 'sum' || y.k === 'mean') fail(phi, `the feature '${print(phi)}' depends on '${print(y)}' besides its projection '${print(h)}'`, 'Gaussian equivalence replaces a function of the projection alone; move other factors out of it');
      if (y.k === 'sym' && y.name !== 'pi') {
        fail(phi, `the feature '${print(phi)}' contains '${y.name}'${params.has(y.name) ? ', a parameter' : ''}: its Gaussian-equivalence constants are numbers computed when the equations are derived`,
          'write the nonlinearity with numbers only (relu(h) - 0.5, tanh(2*h)); a parameter may multiply the feature outside the function');
      }
      children(y).forEach(inPhi);
    };
    inPhi(phi);
    if (some(rest, (y) => y.k === 'ref' && y.idx.includes(i)) || some(rest, (y) => y.k === 'sym' && y.name === i)) {
      fail(S, `the summand of '${print(S)}' uses the projection's index ${i} outside the feature`, 'rename the index of the projection');
    }
    if (some(rest, (y) => y.k === 'ref' && y.idx.includes(a))) {
      fail(S, `the factor '${print(rest)}' of '${print(S)}' carries the index ${a} of the features' other side: Gaussian equivalence needs Σ_${b} φ(h_${a}${b}) f_${b} with f free of ${a}`, `move the factors that carry ${a} out of the sum`);
    }
    // both matrices centred, the projection's variance a number of order 1
    const dA = matrices.get(A!.name)!, dB = matrices.get(B!.name)!;
    const mA = randomMoments(dA), mB = randomMoments(dB);
    for (const [r, mo] of [[dA, mA], [dB, mB]] as const) {
      if (!mo) fail(h, `the entries of ${r.name} have no mean and variance the derivation can use`, 'declare it normal(0, v)');
      if (!isZeroExpr(mo!.mean)) fail(h, `the random projection '${print(h)}' uses ${r.name}, whose entries have mean ${print(mo!.mean)}: Gaussian equivalence needs centred matrices`, `declare ${r.name} with mean 0`);
    }
    const Ki = setOf(i)!;
    const vExpr = canon(mul(sym(Ki), mA!.var, mB!.var));
    const lv = leading(vExpr, fam);
    const vNum = lv && lv.p === 0 ? constantValue(canon(lv.coef), {}) : undefined;
    if (!lv || lv.p !== 0 || vNum === undefined || !(vNum > 0)) {
      const why = lv && lv.p !== 0 ? `grows like ${Ki}^${lv.p}` : 'is not a number';
      fail(h, `the variance of the random projection '${print(h)}' (${Ki} × var ${A!.name} × var ${B!.name} = ${print(vExpr)}) ${why}: Gaussian equivalence needs a projection of variance of order 1, given as a number`,
        `scale the matrices so that ${Ki}·var ${A!.name}·var ${B!.name} is a number, e.g. random ${B!.name}[…] ~ normal(0, 1/${Ki}) and random ${A!.name}[…] ~ normal(0, 1); a parameter may scale the projection inside the function: relu(2*sum(…))`);
    }
    const v = vNum!;
    // one fresh matrix per feature matrix φ(A·B), in the order of the two names
    const pairKey = [A!.name, B!.name].sort().join('|');
    // φ as a function of its projection, free of the index names of this use
    const fkey = `${pairKey}|${ckey(canon(replaceWhere(phi, (x) => x.k === 'sum' && ckey(canon(x)) === hkey, () => sym(X))))}`;
    let feat = features.get(fkey);
    if (!feat) {
      const other = byPair.get(pairKey);
      if (other) fail(phi, `two different functions of the projection ${print(h)} ('${print(other.phi)}' and '${print(phi)}'): their nonlinear parts are correlated`, 'use one feature map per pair of matrices');
      const c = featureConstants(phi, h, v);
      if (!Number.isFinite(c.mu0) || !Number.isFinite(c.mu1) || !Number.isFinite(c.muStar)) fail(phi, `the Gaussian-equivalence constants of '${print(phi)}' are not finite at variance ${v}`, 'use a nonlinearity with a finite second moment under a Gaussian');
      const mu0 = usedMu0(c);
      if (mu0 !== 0) {
        fail(phi, `the feature '${print(phi)}' has mean μ0 = E φ(h) = ${c.mu0.toPrecision(10)} (h ~ N(0, ${v})): its mean part μ0·Σ_${b} f_${b} is a rank-one term that grows with the sizes`,
          `centre the feature: write (${print(phi)} - ${c.mu0.toPrecision(17)})`);
      }
      // named and oriented by the first use (not by the user's names: renaming a model changes nothing)
      const z = fresh('Z');
      const zIdx = [a, b];
      zDecls.push({ name: z, indices: zIdx, sets: [setOf(zIdx[0])!, setOf(zIdx[1])!], dist: { kind: 'normal', mean: num(0), var: num(1) }, symmetric: false, timeDependent: false });
      feat = { phi, projection: h, variance: v, constants: c, mu0, z, zFirst: A!.name };
      features.set(fkey, feat);
      byPair.set(pairKey, feat);
    }
    const zRef = ref(feat.z, feat.zFirst === A!.name ? [a, b] : [b, a]);
    const c = feat.constants;
    // the replacements of the two rules, built as their templates are (the derivation has the engine redo and check them)
    const sumB = (body: Expr): Expr => ({ k: 'sum', index: b, body });
    const bindLinear: Record<string, Expr> = { _b: sym(b), _phi: canon(phi), __f: canon(rest), _h: canon(h), _z: zRef };
    const linear = canon(add(mul(quadratureNum(feat.mu0), sumB(rest)), mul(quadratureNum(c.mu1), pow(call('sqrt', quadratureNum(v)), num(-1)), sumB(mul(h, rest))), mul(quadratureNum(c.muStar), sumB(mul(zRef, rest)))));
    // the projected sum Σ_b h f of the linear form, exchanged through an auxiliary let u_i
    const projected = (linear.k === 'add' ? linear.terms : [linear]).flatMap((t) => (t.k === 'mul' ? t.factors : [t])).find((t) => t.k === 'sum' && some(t.body, (y) => y.k === 'sum' && ckey(y) === ckey(canon(h))));
    const uBody = canon(mul({ k: 'sum', index: b, body: mul(B!, rest) }, pow(call('sqrt', mul(sym(Ki), mB!.var)), num(-1))));
    // μ1 = 0 (an even φ): the projection drops out, nothing to exchange
    if (!projected) {
      sites.push({ where, before: S, phi, linear, bindLinear, feature: feat });
      return linear;
    }
    let u = lets.find((l) => ckey(l.expr) === ckey(uBody) && l.index === i);
    if (!u) {
      u = { name: fresh('u'), index: i, set: Ki, expr: uBody, span: S.span };
      lets.push(u);
    }
    const bindExchange: Record<string, Expr> = { _b: sym(b), _h: canon(h), __f: canon(rest), _A: canon(A!), _B: canon(B!), _i: sym(i), _u: ref(u.name) };
    const exchanged = canon(mul(call('sqrt', mul(sym(Ki), mB!.var)), { k: 'sum', index: i, body: mul(A!, ref(u.name, [i])) }));
    sites.push({ where, before: S, phi, linear, bindLinear, projected, exchanged, bindExchange, feature: feat });
    return canon(replaceWhere(linear, (x) => x === projected, () => exchanged));
  };

  const rewrite = (e: Expr, where: string): Expr => {
    const go = (x: Expr): Expr => {
      if (x.k === 'sum' && underCall(x.body) && !looksLikeProjection(x)) return linearizeUse(x, where);
      const kids = children(x);
      if (!kids.length) return x;
      const next = kids.map(go);
      return next.every((c, k) => c === kids[k]) ? x : withChildren(x, next);
    };
    const out = go(e);
    const left = underCall(out);
    if (left) {
      fail(left, `'${print(left)}' is a random projection inside a nonlinearity that is not summed over the features or the examples`,
        'Gaussian equivalence applies to a feature matrix φ(A·B) inside a sum over one of its outer indices, e.g. sum(k, relu(sum(i, F[k,i]*X[mu,i]))*a[k])/sqrt(D)');
    }
    return out;
  };

  const dynamics = m.dynamics.map((d) => ({ ...d, rhs: rewrite(d.rhs, `${d.kind === 'map' ? `${d.state}(t+1)` : `d/dt ${d.state}`}`) }));
  const ls = m.lets.map((l) => ({ ...l, expr: rewrite(l.expr, `let ${l.name}`) }));
  const observables = m.observables.map((o) => ({ ...o, expr: rewrite(o.expr, `observe ${o.name}`) }));
  if (!sites.length) return { model: m, features: [], sites: [], lets: [] };
  const model: Model = { ...m, randoms: [...m.randoms, ...zDecls], lets: [...ls, ...lets], dynamics, observables };
  return { model, features: [...features.values()], sites, lets };
}

/** A note for the reader: the constants of each feature and their convention. */
export function featureNote(f: Feature): string {
  const c = f.constants;
  const g = (x: number) => x.toPrecision(10);
  return `Gaussian equivalence (rule ge.feature.linearize): ${print(f.phi)} ≈ μ0 + μ1·h/√v + μ*·${f.z}, h = ${print(f.projection)} ~ N(0, v), v = ${g(f.variance)}, `
    + `μ0 = E φ(h) = ${f.mu0 === 0 ? `0 (${g(c.mu0)}, within the quadrature's error)` : g(f.mu0)}, μ1 = E[(h/√v) φ(h)] = ${g(c.mu1)}, μ* = (E φ(h)² − μ0² − μ1²)^½ = ${g(c.muStar)} `
    + `(quadrature errors ${c.error.mu1.toExponential(1)}, ${c.error.muStar.toExponential(1)}); ${f.z} has independent N(0, 1) entries, fresh for this feature matrix`;
}
