// The linear equivalent of a nonlinear random matrix (docs/spectrum.md,
// "Nonlinear matrices"): the feature Gram and kernel terms read by
// src/model/matrix-nonlinear.ts are replaced by matrices the cavity
// derivation reads — chains of random matrices (with a fresh Gaussian Z for
// a feature's nonlinear part), a multiple of the identity (a kernel's
// diagonal), and rank-one parts: an O(1) spike c·11ᵀ (a BBP outlier) or, when
// its entries are O(1), an outlier that grows like the size.
//
// The constants are computed here with the functions the rules' builders call
// (μ0, μ1, μ* by quadrature, src/model/features.ts; f(0), f'(0), f''(0), f(τ)
// by symbolic derivatives, src/numeric/kernel-equivalence.ts), so that the
// matrix handed to the derivation is the one the recorded steps produce;
// `record` applies the rules through the engine.
import { add, mapArithmetic, mul, num, ref, some, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { constantValue } from '../expr/eval.ts';
import { print } from '../expr/print.ts';
import { DmftError } from '../errors.ts';
import { featureConstants, quadratureNum, usedMu0 } from '../model/features.ts';
import type { MatrixDecl, Model, RandomDecl } from '../model/ir.ts';
import type { RankOneTerm } from '../model/matrix-terms.ts';
import { splitNonlinear, type FeatureGramTerm, type KernelTerm } from '../model/matrix-nonlinear.ts';
import { isZeroExpr, randomMoments } from '../model/moments.ts';
import { leading, SizeFamilies } from '../model/scaling.ts';
import { kernelConstants } from '../numeric/kernel-equivalence.ts';
import type { RewriteOptions } from '../rewrite/engine.ts';

type SumNode = Extract<Expr, { k: 'sum' }>;
/** apply a rule through the engine: the step's id and the rewritten expression */
export type Apply = (id: string, e: Expr, o: RewriteOptions) => { id: string; out: Expr };

/** An outlier whose eigenvalue grows like the size: λ ≈ κ·n (leading order). */
export interface GrowingOutlier {
  /** λ/size → κ (an expression of the parameters) */
  kappa: Expr;
  size: string;
  text: string;
}

export interface LinearEquivalent {
  /** the model with the fresh matrices of the features' nonlinear parts */
  model: Model;
  /** the matrix with its nonlinear terms replaced by their linear equivalents' chains */
  decl: MatrixDecl;
  /** the multiple of the identity (a kernel's diagonal), 0 when none */
  shift: Expr;
  /** O(1) constant parts c·11ᵀ (spikes along the all-ones vector) */
  spikes: RankOneTerm[];
  growing: GrowingOutlier[];
  /** the constants, one line per nonlinear term, for the reader */
  notes: string[];
  /** the same as LaTeX equations (an align row each) */
  tex: string[];
  /** apply the rules (the engine records the steps) */
  record(apply: Apply): void;
}

const g10 = (x: number) => Number(x.toPrecision(10)).toString();

/** The linear equivalent of the matrix, or undefined when it has no nonlinear term. */
export function linearEquivalent(m: Model, d: MatrixDecl): LinearEquivalent | undefined {
  const split = splitNonlinear(m, d);
  const fail = (span: { line?: number; col?: number } | undefined, message: string, hint: string): never => {
    throw new DmftError({ file: m.file, line: span?.line, col: span?.col, message, hint });
  };
  if (split.issues.length) fail(split.issues[0].span, split.issues[0].message, split.issues[0].hint);
  if (!split.nonlinear.length) return undefined;
  const fam = new SizeFamilies(m);
  const [I, J] = d.indices;
  const setOf = (i: string) => m.indexSets.find((s) => s.indices.includes(i))!.size;
  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  const limitNum = (e: Expr): { value: number; p: number } | undefined => {
    const l = leading(canon(e), fam);
    if (!l) return undefined;
    const v = constantValue(canon(l.coef), Object.fromEntries(m.params.map((p) => [p.name, p.value])));
    return v === undefined ? undefined : { value: v, p: l.p };
  };
  const taken = new Set<string>([...m.params.map((p) => p.name), ...m.indexSets.flatMap((s) => [s.size, ...s.indices]), ...m.randoms.map((r) => r.name), ...(m.matrices ?? []).map((x) => x.name)]);
  const fresh = (base: string) => { let n = base, k = 1; while (taken.has(n)) n = `${base}${++k}`; taken.add(n); return n; };
  const zDecls: RandomDecl[] = [];
  const bulk: Expr[] = split.rest ? [split.rest] : [];
  const shift: Expr[] = [];
  const spikes: RankOneTerm[] = [];
  const growing: GrowingOutlier[] = [];
  const notes: string[] = [];
  const tex: string[] = [];
  const tn = (x: number) => g10(x).replace(/e([+-]?\d+)/, '\\times 10^{$1}');
  const records: ((apply: Apply) => void)[] = [];
  const stage = `linear equivalent of ${d.name}`;
  const sumJ = (body: Expr): Expr => ({ k: 'sum', index: J, body });
  const vJ = ref('v', [J]);
  /** the constant part c·11ᵀ: an O(1) spike, or an outlier growing like the size */
  const constantPart = (c: Expr, where: string, parent: () => string, span: FeatureGramTerm['span']): 'growing' | 'spike' | 'none' => {
    if (isZeroExpr(canon(c))) return 'none';
    const l = limitNum(c);
    if (!l) fail(span, `cannot take the large-size limit of the constant part ${print(canon(c))} of ${d.name}`, 'write the sizes as declared ratios');
    if (l!.p > 1e-12) fail(span, `the constant part ${print(canon(c))} of ${d.name} grows with the sizes: its entries must be O(1) or smaller`, 'normalize the matrix, e.g. by the number of features');
    if (Math.abs(l!.p) < 1e-12 && l!.value !== 0) {
      const kappa = canon(leading(canon(c), fam)!.coef);
      growing.push({ kappa, size: setOf(I), text: where });
      records.push((apply) => {
        const p = parent();
        apply('spectrum.ge.mean-low-rank', mul(c, sumJ(vJ)), { where: `${where}: the constant part`, stage, parent: p, bind: { _i: I } });
        apply('spectrum.outlier.growing', mul(c, sumJ(vJ)), { where: `${where}: its outlier`, stage: 'outliers', parent: p });
      });
      return 'growing';
    }
    spikes.push({ kind: 'rank-one', coef: canon(c), left: num(1), right: num(1), span });
    return 'spike';
  };

  /** the constant parts c·11ᵀ of every term, taken together (one direction, one outlier) */
  const constantTerms: Expr[] = [...split.constants];
  let lastStep = () => '';
  let featureMean: FeatureGramTerm | undefined;
  for (const t of split.nonlinear) {
    if (t.kind === 'feature-gram') featureTerm(t);
    else kernelTerm(t);
  }
  const kind = constantPart(canon(add(num(0), ...constantTerms)), `${d.name}`, lastStep, split.nonlinear[0].span);
  if (kind === 'spike' && featureMean) {
    fail(featureMean.span, `the mean part of '${print(featureMean.sum)}' is a spike of order 1 along the all-ones vector, correlated with the features: its outlier is not derived`, 'centre the feature: subtract its mean μ0 on both sides');
  }
  if (!bulk.length) {
    fail(d.span, `the linear equivalent of ${d.name} has no random part (every kernel has f'(0) = 0): its bulk is a point mass with no density of order 1`,
      "the linear equivalent's random part is f'(0)·XXᵀ; a kernel with f'(0) = 0 needs the next (quadratic) order, which is not derived");
  }

  function featureTerm(t: FeatureGramTerm): void {
    const { left, right, k } = t;
    const h = left.h;
    const [A, B] = [randoms.get(left.A.name)!, randoms.get(left.B.name)!];
    const mA = randomMoments(A), mB = randomMoments(B);
    for (const [r, mo] of [[A, mA], [B, mB]] as const) {
      if (!mo || !isZeroExpr(mo.mean)) fail(left.A.span ?? t.span, `the features of ${d.name} project ${r.name}, whose entries ${mo ? `have mean ${print(mo.mean)}` : 'have no usable mean and variance'}: Gaussian equivalence needs centred matrices`, `declare ${r.name} ~ normal(0, v)`);
    }
    const Kl = setOf(h.index);
    const vl = limitNum(mul(sym(Kl), mA!.var, mB!.var));
    if (!vl || Math.abs(vl.p) > 1e-12 || !(vl.value > 0)) {
      fail(h.span ?? t.span, `the variance of the projection '${print(h)}' (${Kl} × var ${A.name} × var ${B.name}) is not a positive number in the limit: Gaussian equivalence needs a projection of variance of order 1`,
        `scale the matrices so that ${Kl}·var ${A.name}·var ${B.name} is a number, e.g. random ${A.name}[…] ~ normal(0, 1/${Kl}) and random ${B.name}[…] ~ normal(0, 1)`);
    }
    const v = vl!.value;
    const c = featureConstants(left.phi, h, v);
    if (![c.mu0, c.mu1, c.muStar].every(Number.isFinite)) fail(left.phi.span ?? t.span, `the Gaussian-equivalence constants of '${print(left.phi)}' are not finite`, 'use a nonlinearity with a finite second moment under a Gaussian');
    const mu0 = usedMu0(c);
    const z = fresh('Z');
    zDecls.push({ name: z, indices: [I, k], sets: [setOf(I), setOf(k)], dist: { kind: 'normal', mean: num(0), var: num(1) }, symmetric: false, timeDependent: false });
    // the linear part at each side: μ1/√v·h + μ*·Z (as the rule's template builds it)
    const lin = (side: typeof left, at: string): Expr => add(mul(quadratureNum(c.mu1 / Math.sqrt(v)), side.h), mul(quadratureNum(c.muStar), ref(z, [at, k])));
    bulk.push(mul(t.coef, { k: 'sum', index: k, body: mul(t.weight, lin(left, I), lin(right, J)) }));
    const where = `${d.name}: ${print(t.sum)}`;
    notes.push(`Gaussian equivalence (rule ge.feature.linearize): ${print(left.phi)} ≈ μ0 + μ1·h/√v + μ*·${z}[${I},${k}], h = ${print(h)} ~ N(0, v), v = ${g10(v)}, `
      + `μ0 = ${mu0 === 0 ? '0' : g10(mu0)}, μ1 = ${g10(c.mu1)}, μ* = ${g10(c.muStar)} (by quadrature; errors ${c.error.mu1.toExponential(1)}, ${c.error.muStar.toExponential(1)}); ${z} has independent N(0, 1) entries`);
    tex.push(`  \\varphi(h) &\\simeq \\mu_0 + \\mu_1 \\frac{h}{\\sqrt{v}} + \\mu_* ${z}, && \\mu_0 = ${tn(mu0)},\\; \\mu_1 = ${tn(c.mu1)},\\; \\mu_* = ${tn(c.muStar)},\\; v = ${tn(v)} \\quad \\text{(Gaussian equivalence, by quadrature)}`);
    let first = '';
    let firstOut: Expr = num(0);
    records.push((apply) => {
      ({ id: first, out: firstOut } = apply('ge.feature.linearize', t.sum, { where, stage, bind: { _h: h, _z: ref(z, [I, k]) } }));
    });
    // the second side, in each of the three sums the first application left
    records.push((apply) => {
      const after = firstOut;
      const hJ = ckey(canon(right.h));
      const sums: SumNode[] = [];
      some(after, (y) => { if (y.k === 'sum' && y.index === k && some(y.body, (q) => q.k === 'sum' && ckey(canon(q)) === hJ)) sums.push(y); return false; });
      for (const s of sums) apply('ge.feature.linearize', s, { where, stage, parent: first, bind: { _h: right.h, _z: ref(z, [J, k]) } });
    });
    if (mu0 !== 0) {
      // the rank-one terms of the mean: μ0²·c·w·K_k·11ᵀ, μ0·c·Σ_k w·L(h_i)·1ᵀ and its transpose
      const linI = lin(left, I), linJ = lin(right, J);
      const q = quadratureNum(mu0);
      constantTerms.push(canon(mul(t.coef, q, q, t.weight, sym(setOf(k)))));
      lastStep = () => first;
      featureMean = t;
      records.push((apply) => {
        apply('spectrum.ge.mean-low-rank', mul(t.coef, q, sumJ(mul({ k: 'sum', index: k, body: mul(t.weight, linJ) }, vJ))), { where: `${where}: the mean times the features at ${J}`, stage, parent: first, bind: { _i: I } });
        apply('spectrum.ge.mean-low-rank', mul(t.coef, q, { k: 'sum', index: k, body: mul(t.weight, linI) }, sumJ(vJ)), { where: `${where}: the features at ${I} times the mean`, stage, parent: first, bind: { _i: I } });
      });
    }
  }

  function kernelTerm(t: KernelTerm): void {
    const X = randoms.get(t.X)!;
    const mo = randomMoments(X);
    if (!mo || !isZeroExpr(mo.mean)) fail(t.h.span ?? t.span, `the kernel's inner product uses ${X.name}, whose entries ${mo ? `have mean ${print(mo.mean)}` : 'have no usable mean and variance'}: its expansion needs centred entries`, `declare ${X.name} ~ normal(0, 1/${setOf(t.h.index)})`);
    const Kl = setOf(t.h.index);
    const tau = limitNum(mul(sym(Kl), mo!.var));
    const s2 = limitNum(mul(sym(Kl), mo!.var, mo!.var));
    if (!tau || Math.abs(tau.p) > 1e-12 || !(tau.value > 0) || !s2 || !(s2.p < -1e-12)) {
      fail(t.h.span ?? t.span, `the inner product '${print(t.h)}' must be of order 1 on the diagonal and vanish off it (${Kl}·var ${X.name} a number): the kernel's linear equivalent expands f about 0`,
        `declare random ${X.name}[…] ~ normal(0, 1/${Kl}), so that the argument is x_${I}·x_${J}/${Kl} for rows of variance 1`);
    }
    const fh = replaceSum(t.f, t.h, '__h');
    const c = kernelConstants(fh, '__h', tau!.value);
    if ('refusal' in c) {
      fail(t.f.span ?? t.span, `the kernel '${print(t.f)}' has no linear equivalent: ${c.refusal}`,
        `El Karoui's expansion f(h) ≈ f(0) + f'(0)·h needs f smooth at 0 (the off-diagonal entries are O(1/√${Kl})); a kernel with a kink at 0 such as relu or abs of the inner product is not covered`);
    }
    const k = c as Exclude<typeof c, { refusal: string }>;
    const s2e = canon(mul(sym(Kl), mo!.var, mo!.var));
    const k0 = canon(add(quadratureNum(k.f0), mul(quadratureNum(k.f2 / 2), s2e)));
    const diag = quadratureNum(k.ftau - k.f0 - k.tau * k.f1);
    if (k.f1 !== 0) bulk.push(mul(t.coef, quadratureNum(k.f1), t.h));
    shift.push(mul(t.coef, diag));
    const where = `${d.name}: ${print(t.f)}`;
    notes.push(`kernel linear equivalent (rule spectrum.ge.kernel): ${print(t.f)} ≈ [f(0) + f''(0)·s²/2]·11ᵀ + f'(0)·h + [f(τ) − f(0) − τ·f'(0)]·I, h = ${print(t.h)}, τ = ${g10(k.tau)}, s² = ${print(s2e)}, `
      + `f(0) = ${g10(k.f0)}, f'(0) = ${g10(k.f1)}, f''(0) = ${g10(k.f2)}, f(τ) = ${g10(k.ftau)} (derivatives symbolic)`);
    tex.push(`  f(h) &\\simeq \\big[f(0) + \\tfrac12 f''(0)\\,s^2\\big]\\,\\mathbf{1}\\mathbf{1}^\\top + f'(0)\\,h + \\big[f(\\tau) - f(0) - \\tau f'(0)\\big]\\,I, && f(0) = ${tn(k.f0)},\\; f'(0) = ${tn(k.f1)},\\; f''(0) = ${tn(k.f2)},\\; f(\\tau) = ${tn(k.ftau)},\\; \\tau = ${tn(k.tau)} \\quad \\text{(kernel, El Karoui)}`);
    let step = '';
    records.push((apply) => {
      step = apply('spectrum.ge.kernel', sumJ(mul(t.coef, t.f, vJ)), { where, stage, bind: { _h: t.h, _i: I } }).id;
    });
    constantTerms.push(canon(mul(t.coef, k0)));
    lastStep = () => step;
  }

  const model: Model = { ...m, randoms: [...m.randoms, ...zDecls] };
  const expr: Expr = bulk.length === 1 ? bulk[0] : { k: 'add', terms: bulk };
  const decl: MatrixDecl = { ...d, expr };
  model.matrices = (m.matrices ?? []).map((x) => (x === d ? decl : x));
  return { model, decl, shift: canon(add(num(0), ...shift)), spikes, growing, notes, tex, record(apply) { for (const r of records) r(apply); } };
}

function replaceSum(e: Expr, h: Expr, name: string): Expr {
  const key = ckey(canon(h));
  const go = (x: Expr): Expr => (x.k === 'sum' && ckey(canon(x)) === key ? sym(name) : mapArithmetic(x, go));
  return go(e);
}
