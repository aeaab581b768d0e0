// The cavity equations of a random matrix's resolvent (docs/spectrum.md).
//
// The resolvent G(z) = (H − z)⁻¹ is the static linear response of the linear
// system (H − z) v = b: G_ii = ∂v_i/∂b_i and m(z) = (1/N) tr G = ⟨∂v/∂b⟩.
// Each term of H is a chain c·D0 M1 D1 … Mn Dn (src/model/matrix-terms.ts);
// each random matrix met along a chain (a *use*) gets an auxiliary variable
// w = Σ M·D·x, so that every equation is linear in one use of one matrix.
// The cavity rule then turns each use into a Gaussian field plus the site's
// own feedback through the uses that read the same entries (its *partners*):
//
//   w_U = η_U + Σ_{U'} κ·s_U·g_{UU'}·D_{U'}·x_{U'},  g_{UU'} = ⟨D_U ∂x_U/∂h_{U'}⟩,
//
// with s_U = (size summed by U) × variance of M. The single-site equations of
// each population are linear, so the responses are the inverse of a small
// site matrix: the self-consistency is algebraic in the g's, with complex z.
// Nothing here is specific to a kind of matrix; the solver
// (src/solve/spectrum.ts) reads this structure.
import { DmftError } from '../errors.ts';
import { mul, num, ref, sym, type Expr } from '../expr/ast.ts';
import { canon } from '../expr/canon.ts';
import { print } from '../expr/print.ts';
import type { Dist, MatrixDecl, Model } from '../model/ir.ts';
import { matrixTerms, termExpr, type MatrixTerm } from '../model/matrix-terms.ts';
import { moments } from '../model/moments.ts';
import { leading, SizeFamilies } from '../model/scaling.ts';
import { getRule } from '../rewrite/rules.ts';

/** One coefficient of a site row: weight × (1 | z | an order parameter). */
export interface SpectrumEntry { col: string; weight: Expr; times: 'one' | 'z' | string }

/** A linear equation of the single-site process: Σ entries·col = source. */
export interface SpectrumRow { variable: string; entries: SpectrumEntry[]; source: 'b' | 'field' }

export interface SpectrumPopulation {
  set: string;
  variables: string[];
  rows: SpectrumRow[];
  /** quenched vectors of this set that the rows read */
  vectors: string[];
}

/** A use of a random matrix: w_out = Σ_in M·weight·input. */
export interface SpectrumUse {
  name: string; matrix: string; term: number;
  outSet: string; inSet: string; input: string;
  /** D at the summed index, a single-site expression */
  weight: Expr;
  /** s = size summed × variance, in the limit (no sizes) */
  scale: Expr;
  /** slot of the output index in the declaration */
  outPos: 0 | 1;
}

/** g = ⟨weight · ∂input/∂(source of partner's row)⟩ over `set`. */
export interface SpectrumOrderParam { name: string; set: string; use: string; partner: string; weight: Expr; input: string; source: string; kappa: Expr }

/** A rank-one term c·a(i)·b(j) (evaluated at a large size by the solver). */
export interface SpectrumSpike { coef: Expr; left: Expr; right: Expr; text: string; /** the term as written, with its indices */ expr: Expr }

export interface SpectrumStep { id: string; because: string; where: string; result: string }

export interface SpectrumSystem {
  matrix: string;
  set: string;
  /** the declared matrix, as written */
  text: string;
  /** the quenched vectors the system reads, with their laws */
  vectors: { name: string; set: string; dist: Dist }[];
  populations: SpectrumPopulation[];
  uses: SpectrumUse[];
  orderParams: SpectrumOrderParam[];
  spikes: SpectrumSpike[];
  /** how each chain's constant factor and matrices were normalized, for the record */
  chains: { text: string; coef: Expr }[];
  steps: SpectrumStep[];
  /** sizes of the model relative to the base size (for spikes, evaluated at a large size) */
  sizes: { name: string; coef: Expr }[];
}

/** The model's matrix to study: by name, or the only one. */
export function pickMatrix(m: Model, name?: string): MatrixDecl {
  const ms = m.matrices ?? [];
  if (!ms.length) {
    throw new DmftError({ file: m.file, message: 'the model declares no matrix', hint: 'declare one: matrix H[i,j] = … (docs/model-language.md, "matrix")' });
  }
  if (name === undefined) {
    if (ms.length > 1) throw new DmftError({ file: m.file, message: `the model declares ${ms.length} matrices (${ms.map((x) => x.name).join(', ')})`, hint: `choose one with --matrix ${ms[0].name}` });
    return ms[0];
  }
  const d = ms.find((x) => x.name === name);
  if (!d) throw new DmftError({ file: m.file, message: `the model has no matrix '${name}'`, expected: `one of ${ms.map((x) => x.name).join(', ')}` });
  return d;
}

export function deriveSpectrum(m: Model, name?: string): SpectrumSystem {
  const d = pickMatrix(m, name);
  const { terms, issues } = matrixTerms(m, d);
  if (issues.length) throw new DmftError({ file: m.file, line: issues[0].span?.line, col: issues[0].span?.col, message: issues[0].message, hint: issues[0].hint });
  const fam = new SizeFamilies(m);
  const steps: SpectrumStep[] = [];
  const step = (id: string, where: string, result: string) => steps.push({ id, because: getRule(id).because, where, result });
  step('spectrum.resolvent.response', `${d.name}[${d.indices.join(',')}] = ${print(d.expr)}`,
    `m(z) = (1/${d.set}) tr (${d.name} − z)⁻¹ = ⟨∂v/∂b⟩, with (${d.name} − z) v = b`);

  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  const site = (e: Expr): Expr => siteExpr(e);
  const vectors = new Map<string, { name: string; set: string; dist: Dist }>();
  const noteVectors = (e: Expr) => walkRefs(e, (n) => {
    const r = randoms.get(n)!;
    if (!vectors.has(n)) vectors.set(n, { name: n, set: r.sets[0], dist: r.dist });
  });

  const uses: SpectrumUse[] = [];
  const vRow: SpectrumEntry[] = [{ col: 'v', weight: num(-1), times: 'z' }];
  const spikes: SpectrumSpike[] = [];
  const chains: { text: string; coef: Expr }[] = [];
  terms.forEach((t: MatrixTerm, ti) => {
    if (t.kind === 'rank-one') {
      spikes.push({ coef: t.coef, left: site(t.left), right: site(t.right), text: print(termExpr(t)), expr: termExpr(t) });
      noteVectors(t.left); noteVectors(t.right);
      step('spectrum.spike.low-rank', print(termExpr(t)), 'left out of the bulk equation (rank one); enters the outlier equation');
      return;
    }
    const n = t.links.length;
    // use m (1-based) reads M_m from index k_m into output index k_{m-1}
    const names = t.links.map(() => `w${uses.length + 1 + 0}`).map((_, k) => `w${uses.length + 1 + k}`);
    let magnitude: Expr = t.coef;
    for (let k = 0; k < n; k++) {
      const l = t.links[k];
      const r = randoms.get(l.matrix)!;
      const inSet = t.sets[k + 1];
      const raw = mul(sym(inSet), moments(r.dist)!.var);
      const lead = leading(raw, fam);
      if (!lead) throw new DmftError({ file: m.file, line: l.span?.line, col: l.span?.col, message: `cannot take the large-size limit of the variance of ${l.matrix}`, hint: 'the variance is a rational function of the sizes, e.g. g^2/N' });
      const scale = canon(lead.coef);
      magnitude = mul(magnitude, { k: 'pow', base: raw, exp: num(0.5) }, { k: 'pow', base: scale, exp: num(-0.5) });
      uses.push({
        name: names[k], matrix: l.matrix, term: ti, outSet: t.sets[k], inSet,
        input: k + 1 < n ? names[k + 1] : 'v', weight: site(t.diag[k + 1]), scale, outPos: l.outPos,
      });
      noteVectors(t.diag[k + 1]);
    }
    noteVectors(t.diag[0]);
    // the chain's constant with the sizes of its matrices folded in (c·Π√(K·var)/√s → O(1))
    const lc = leading(magnitude, fam);
    const coef = canon(lc && Math.abs(lc.p) < 1e-12 ? lc.coef : t.coef);
    chains.push({ text: print(termExpr(t)), coef });
    vRow.push({ col: names[0], weight: canon(mul(coef, site(t.diag[0]))), times: 'one' });
    step('spectrum.chain.auxiliary', print(termExpr(t)),
      names.map((w, k) => `${w}[${t.indices[k]}] = sum(${t.indices[k + 1]}, ${print(mul(ref(t.links[k].matrix, t.links[k].outPos === 0 ? [t.indices[k], t.indices[k + 1]] : [t.indices[k + 1], t.indices[k]]), ...(print(t.diag[k + 1]) === '1' ? [] : [t.diag[k + 1]]), ref(k + 1 < n ? names[k + 1] : 'v', [t.indices[k + 1]])))})`).join('; '));
  });
  if (!uses.length) {
    throw new DmftError({ file: m.file, line: d.span?.line, col: d.span?.col, message: `matrix ${d.name} has no random matrix: it is a fixed low-rank matrix with no bulk spectrum`, hint: 'add a random part, e.g. J[i,j] with random J[i,j] ~ normal(0, 1/N), symmetric' });
  }

  // partners: uses of one matrix reading the same entries (κ = 1), or, for a
  // square matrix, the transposed entries (κ = the correlation with the transpose)
  const orderParams: SpectrumOrderParam[] = [];
  const rows = new Map<string, SpectrumRow>();
  for (const u of uses) rows.set(u.name, { variable: u.name, entries: [{ col: u.name, weight: num(1), times: 'one' }], source: 'field' });
  for (const u of uses) {
    const r = randoms.get(u.matrix)!;
    for (const p of uses) {
      if (p.matrix !== u.matrix) continue;
      const kappa: Expr | undefined = p.outPos !== u.outPos || r.symmetric ? num(1) : r.transposeCorr;
      if (!kappa || (kappa.k === 'num' && kappa.v === 0)) continue;
      const g = `g${orderParams.length + 1}`;
      orderParams.push({ name: g, set: u.inSet, use: u.name, partner: p.name, weight: u.weight, input: u.input, source: p.name, kappa });
      rows.get(u.name)!.entries.push({ col: p.input, weight: canon(mul(num(-1), kappa, u.scale, p.weight)), times: g });
      step('spectrum.cavity.reaction', `${u.name} ← ${p.name} (${u.matrix})`,
        `${u.name} = eta_${u.name} + ${print(canon(mul(kappa, u.scale, sym(g), p.weight, sym(p.input))))},  ${g} = <${print(canon(mul(u.weight, sym(`d${u.input}/dh_${p.name}`))))}> over ${u.inSet}`);
    }
  }
  step('spectrum.site.response', 'each population', 'the site equations are linear: the responses are the inverse of the site matrix');

  const sets = [...new Set([d.set, ...uses.map((u) => u.outSet), ...uses.map((u) => u.inSet)])];
  const populations: SpectrumPopulation[] = sets.map((s) => {
    const prs: SpectrumRow[] = [];
    if (s === d.set) prs.push({ variable: 'v', entries: vRow, source: 'b' });
    for (const u of uses) if (u.outSet === s) prs.push(rows.get(u.name)!);
    const vs = new Set<string>();
    for (const r of prs) for (const e of r.entries) walkRefs(e.weight, (n) => vs.add(n));
    return { set: s, variables: prs.map((r) => r.variable), rows: prs, vectors: [...vs] };
  });
  if (spikes.length) step('spectrum.outlier.secular', spikes.map((s) => s.text).join(' + '), 'an eigenvalue λ outside the bulk solves det(1 + Θ·N⟨b a G_vv(λ)⟩) = 0');
  return {
    matrix: d.name, set: d.set, text: print(d.expr), vectors: [...vectors.values()], populations, uses, orderParams, spikes, chains, steps,
    sizes: fam.sizes().map((s) => ({ name: s, coef: fam.coef(s) })),
  };
}

/** A site-level expression: quenched vectors u[i] become single-site u[]. */
function siteExpr(e: Expr): Expr {
  const go = (x: Expr): Expr => {
    switch (x.k) {
      case 'ref': return ref(x.name, []);
      case 'add': return { k: 'add', terms: x.terms.map(go) };
      case 'mul': return { k: 'mul', factors: x.factors.map(go) };
      case 'pow': return { k: 'pow', base: go(x.base), exp: go(x.exp) };
      case 'call': return { k: 'call', fn: x.fn, args: x.args.map(go) };
      case 'cmp': return { k: 'cmp', op: x.op, a: go(x.a), b: go(x.b) };
      default: return x;
    }
  };
  return canon(go(e));
}

function walkRefs(e: Expr, f: (name: string) => void): void {
  if (e.k === 'ref') f(e.name);
  const kids = e.k === 'add' ? e.terms : e.k === 'mul' ? e.factors : e.k === 'pow' ? [e.base, e.exp] : e.k === 'call' ? e.args : e.k === 'cmp' ? [e.a, e.b] : e.k === 'ref' && e.at ? [e.at] : [];
  for (const c of kids) walkRefs(c, f);
}
