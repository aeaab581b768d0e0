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
//
// Each of these steps is a rule of rules/spectrum.rules.json applied by the
// rewrite engine to the expression it rewrites (the row Σ_j H_ij v_j, each
// use's sum, each order parameter), so the trace is checkable step by step
// (src/rewrite/replay.ts). The pass computes the system's rows itself and
// shows its result to the engine (display.after), which refuses a result
// that is not the rule's; the builders the rules call read SpectrumEnv.
import { DmftError } from '../errors.ts';
import { add, freeIndices, mul, num, op, ref, sym, type Expr } from '../expr/ast.ts';
import { canon, ckey } from '../expr/canon.ts';
import { print } from '../expr/print.ts';
import type { Dist, MatrixDecl, Model, RandomDecl } from '../model/ir.ts';
import { matrixTerms, termExpr, type MatrixTerm } from '../model/matrix-terms.ts';
import { moments } from '../model/moments.ts';
import { leading, SizeFamilies } from '../model/scaling.ts';
import { applyOrThrow, type RewriteOptions } from '../rewrite/engine.ts';
import { Trace, type Step } from '../rewrite/trace.ts';
import type { RuleEnv } from './registry.ts';
import './registry.ts';
import { linearEquivalent, type GrowingOutlier } from './spectrum-nonlinear.ts';

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

export interface SpectrumSystem {
  matrix: string;
  /** the declared matrix's two indices */
  indices: [string, string];
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
  /** the rules applied, as the engine recorded them (checkable: src/rewrite/replay.ts) */
  steps: Step[];
  /** outliers that grow like the size (the constant part of a linear equivalent with O(1) entries): λ ≈ κ·n, leading order */
  growing: GrowingOutlier[];
  /** the constants of the linear equivalents of nonlinear terms, one line each (empty for a linear matrix) */
  equivalents: string[];
  /** the same as rows of an align environment */
  equivalentsTex: string[];
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

export function deriveSpectrum(m0: Model, name?: string): SpectrumSystem {
  const declared = pickMatrix(m0, name);
  // a nonlinear matrix is replaced by its linear equivalent (src/derive/spectrum-nonlinear.ts)
  const eq = linearEquivalent(m0, declared);
  const m = eq?.model ?? m0;
  const d = eq?.decl ?? declared;
  const read = matrixTerms(m, d);
  const issues = read.issues;
  if (issues.length) throw new DmftError({ file: m.file, line: issues[0].span?.line, col: issues[0].span?.col, message: issues[0].message, hint: issues[0].hint });
  const terms: MatrixTerm[] = [...read.terms, ...(eq?.spikes ?? [])];
  const fam = new SizeFamilies(m);
  const randoms = new Map(m.randoms.map((r) => [r.name, r]));
  const env = new SpectrumEnv(m, d, terms, fam);
  // every step is a rule applied by the engine (docs/rules.md): the pass
  // decides where, binds what a pattern cannot see, and shows its own result
  // (display.after), which the engine checks against the rule's
  const trace = new Trace();
  const apply = (id: string, e: Expr, o: RewriteOptions): string => { applyOrThrow(id, e, { trace, env, ...o }); return trace.last.id; };
  const [I, J] = d.indices;
  apply('spectrum.resolvent.response', { k: 'mean', index: I, body: ref('G', [I, I]) }, { where: `m(z) = (1/${d.set}) tr (${d.name} − z)⁻¹`, stage: 'm(z)', bind: { _P: d.set, _v: 'v', _b: 'b' } });
  eq?.record((id, e, o) => { const out = applyOrThrow(id, e, { trace, env, ...o }); return { id: trace.last.id, out }; });
  const vStage = `(${d.name} − z) v = b`;
  const termsStep = apply('spectrum.resolvent.terms', { k: 'sum', index: J, body: mul(ref(d.name, [I, J]), ref('v', [J])) }, { where: `${vStage}, row ${I}`, stage: vStage, bind: { _v: 'v' } });

  const site = (e: Expr): Expr => siteExpr(e);
  const vectors = new Map<string, { name: string; set: string; dist: Dist }>();
  const noteVectors = (e: Expr) => walkRefs(e, (n) => {
    const r = randoms.get(n)!;
    if (!vectors.has(n)) vectors.set(n, { name: n, set: r.sets[0], dist: r.dist });
  });

  const uses: SpectrumUse[] = [];
  /** each use's defining sum Σ M·D·x and the step that named it */
  const definition = new Map<string, { sum: Expr; step: string }>();
  const vRow: SpectrumEntry[] = [{ col: 'v', weight: num(-1), times: 'z' }];
  // a multiple of the identity (a kernel's diagonal) shifts the spectrum
  if (eq && !(eq.shift.k === 'num' && eq.shift.v === 0)) vRow.push({ col: 'v', weight: eq.shift, times: 'one' });
  const spikes: SpectrumSpike[] = [];
  const chains: { text: string; coef: Expr }[] = [];
  terms.forEach((t: MatrixTerm, ti) => {
    if (t.kind === 'rank-one') {
      // a constant part c·11ᵀ (of a linear equivalent) is named with its direction
      const ones = t.left.k === 'num' && t.right.k === 'num';
      spikes.push({ coef: t.coef, left: site(t.left), right: site(t.right), text: ones ? `(${print(t.coef)})*1[${I}]*1[${J}]` : print(termExpr(t)), expr: termExpr(t) });
      noteVectors(t.left); noteVectors(t.right);
      apply('spectrum.spike.low-rank', appliedTerm(t, 'v', J), { where: `${vStage}: ${print(termExpr(t))}`, stage: vStage, parent: termsStep, bind: { _v: 'v' } });
      return;
    }
    const n = t.links.length;
    // use m (1-based) reads M_m from index k_m into output index k_{m-1}
    const names = t.links.map((_, k) => `w${uses.length + 1 + k}`);
    const where = `${vStage}: ${print(termExpr(t))}`;
    let excess: Expr = num(1);
    for (let k = 0; k < n; k++) {
      const l = t.links[k];
      const r = randoms.get(l.matrix)!;
      const inSet = t.sets[k + 1];
      const raw = mul(sym(inSet), moments(r.dist)!.var);
      const lead = leading(raw, fam);
      if (!lead) throw new DmftError({ file: m.file, line: l.span?.line, col: l.span?.col, message: `cannot take the large-size limit of the variance of ${l.matrix}`, hint: 'the variance is a rational function of the sizes, e.g. g^2/N' });
      const scale = canon(lead.coef);
      const grow = mul({ k: 'pow', base: raw, exp: num(0.5) }, { k: 'pow', base: scale, exp: num(-0.5) });
      excess = mul(excess, grow);
      uses.push({
        name: names[k], matrix: l.matrix, term: ti, outSet: t.sets[k], inSet,
        input: k + 1 < n ? names[k + 1] : 'v', weight: site(t.diag[k + 1]), scale, outPos: l.outPos,
      });
      noteVectors(t.diag[k + 1]);
    }
    noteVectors(t.diag[0]);
    // the auxiliary variables, innermost use first: w_m[k_{m-1}] = Σ_{k_m} M_m D_m x
    let parent = termsStep;
    for (let k = n - 1; k >= 0; k--) {
      const sum: Expr = { k: 'sum', index: t.indices[k + 1], body: mul(linkEntry(t, k), t.diag[k + 1], ref(uses[uses.length - n + k].input, [t.indices[k + 1]])) };
      parent = apply('spectrum.chain.auxiliary', sum, { where, stage: vStage, parent, bind: { _x: uses[uses.length - n + k].input, _w: names[k], _i: t.indices[k] } });
      definition.set(names[k], { sum: canon(sum), step: parent });
    }
    // the chain's constant with the sizes of its matrices folded in (c·Π√(K·var)/√s → O(1))
    // the same expression the rule's @limit(_c*_r) reads, so that both round alike
    const lc = leading(canon(mul(t.coef, canon(excess))), fam);
    // validation judges the declared terms; a linear equivalent's chains are judged here
    if (lc && lc.p > 1e-9) {
      throw new DmftError({ file: m.file, line: declared.span?.line, col: declared.span?.col, message: `scaling: the term '${print(termExpr(t))}'${eq ? ` of the linear equivalent of ${d.name}` : ''} grows like N^${Number(lc.p.toFixed(6))}: its eigenvalues would grow with the sizes`,
        hint: eq ? 'normalize the feature Gram matrix by the number of features (mean(k, …) or /P), or the kernel by a constant' : 'each random matrix of a chain is O(1) when its summed size × variance = O(1)' });
    }
    const coef = canon(lc && Math.abs(lc.p) < 1e-12 ? lc.coef : t.coef);
    if (ckey(coef) !== ckey(canon(t.coef))) apply('spectrum.chain.scale', t.coef, { where: `${where}: constant`, stage: vStage, parent, bind: { _r: canon(excess) }, display: { after: coef } });
    chains.push({ text: print(termExpr(t)), coef });
    vRow.push({ col: names[0], weight: canon(mul(coef, site(t.diag[0]))), times: 'one' });
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
    const def = definition.get(u.name)!;
    const use = (where: string): RewriteOptions => ({ where: `${u.name}: ${where}`, stage: u.name, parent: def.step });
    apply('spectrum.cavity.field', def.sum, { ...use('the sum over the other sites'), bind: { _eta: `eta_${u.name}` } });
    for (const p of uses) {
      if (p.matrix !== u.matrix) continue;
      const same = p.outPos !== u.outPos;
      const kappa: Expr | undefined = same || r.symmetric ? num(1) : r.transposeCorr;
      if (!kappa || (kappa.k === 'num' && kappa.v === 0)) continue;
      const g = `g${orderParams.length + 1}`;
      orderParams.push({ name: g, set: u.inSet, use: u.name, partner: p.name, weight: u.weight, input: u.input, source: p.name, kappa });
      rows.get(u.name)!.entries.push({ col: p.input, weight: canon(mul(num(-1), kappa, u.scale, p.weight)), times: g });
      const y = canon(mul(p.weight, ref(p.input, [])));
      const reaction = apply(same ? 'spectrum.cavity.reaction' : 'spectrum.cavity.transpose', def.sum, {
        ...use(`reaction through ${p.name} (${u.matrix})`), bind: { _g: g, _y: y }, display: { after: canon(mul(kappa, u.scale, op(g), y)) },
      });
      apply('spectrum.site.response', op(g), { where: `${g} over ${u.inSet}`, stage: `closure ${g}`, parent: reaction, bind: { _P: u.inSet, _d: u.weight, _x: u.input, _h: `eta_${p.name}` } });
    }
  }

  const sets = [...new Set([d.set, ...uses.map((u) => u.outSet), ...uses.map((u) => u.inSet)])];
  const populations: SpectrumPopulation[] = sets.map((s) => {
    const prs: SpectrumRow[] = [];
    if (s === d.set) prs.push({ variable: 'v', entries: vRow, source: 'b' });
    for (const u of uses) if (u.outSet === s) prs.push(rows.get(u.name)!);
    const vs = new Set<string>();
    for (const r of prs) for (const e of r.entries) walkRefs(e.weight, (n) => vs.add(n));
    return { set: s, variables: prs.map((r) => r.variable), rows: prs, vectors: [...vs] };
  });
  // the outlier condition: bᵣᵀ (H₀ − λ)⁻¹ aₛ for every pair of spikes
  const spikeTerms = terms.filter((t): t is Extract<MatrixTerm, { kind: 'rank-one' }> => t.kind === 'rank-one');
  for (const r of spikeTerms) {
    for (const s of spikeTerms) {
      const bilinear: Expr = { k: 'sum', index: J, body: mul(r.right, { k: 'sum', index: I, body: mul(ref('G', [J, I]), s.left) }) };
      apply('spectrum.outlier.secular', bilinear, { where: `outliers: ${print(termExpr(r))} with ${print(termExpr(s))}`, stage: 'outliers', bind: { _P: d.set } });
    }
  }
  return {
    growing: eq?.growing ?? [], equivalents: eq?.notes ?? [], equivalentsTex: eq?.tex ?? [],
    matrix: d.name, indices: [d.indices[0], d.indices[1]], set: d.set, text: print(declared.expr), vectors: [...vectors.values()], populations, uses, orderParams, spikes, chains, steps: trace.steps,
    sizes: fam.sizes().map((s) => ({ name: s, coef: fam.coef(s) })),
  };
}

/** The entry of the k-th random matrix of a chain, M[k_k, k_{k+1}] (or transposed). */
function linkEntry(t: Extract<MatrixTerm, { kind: 'chain' }>, k: number): Expr {
  const l = t.links[k];
  const [a, b] = [t.indices[k], t.indices[k + 1]];
  return ref(l.matrix, l.outPos === 0 ? [a, b] : [b, a]);
}

/** A term of the matrix applied to the vector x at the output index:
 *  a chain c·D0 Σ M1 D1 Σ M2 … Σ Mn Dn x (sums nested from the right), a spike
 *  c·a(i)·Σ_j b(j) x(j). */
function appliedTerm(t: MatrixTerm, x: string, col: string): Expr {
  if (t.kind === 'rank-one') {
    // a spike along the all-ones vector (a constant part) has no index of its own
    const j = [...freeIndices(t.right)][0] ?? col;
    return canon(mul(t.coef, t.left, { k: 'sum', index: j, body: mul(t.right, ref(x, [j])) }));
  }
  const n = t.links.length;
  let inner: Expr = ref(x, [t.indices[n]]);
  for (let k = n - 1; k >= 0; k--) inner = { k: 'sum', index: t.indices[k + 1], body: mul(linkEntry(t, k), t.diag[k + 1], inner) };
  return canon(mul(t.coef, t.diag[0], inner));
}

/** What the spectrum rules' builders and predicates read (src/derive/registry.ts):
 *  the matrix's terms, the sizes of the chains' indices, the laws of the
 *  random matrices. The dynamics' builders are not available here. */
class SpectrumEnv implements RuleEnv {
  private randoms: Map<string, RandomDecl>;
  private sets = new Map<string, string>();
  constructor(private m: Model, private d: MatrixDecl, private terms: MatrixTerm[], private fam: SizeFamilies) {
    this.randoms = new Map(m.randoms.map((r) => [r.name, r]));
    for (const s of m.indexSets) for (const i of s.indices) this.sets.set(i, s.size);
    for (const t of terms) if (t.kind === 'chain') t.indices.forEach((i, k) => this.sets.set(i, t.sets[k]));
  }
  couplingOf(e: Expr): RandomDecl | undefined {
    const r = e.k === 'ref' ? this.randoms.get(e.name) : undefined;
    return r && r.indices.length === 2 ? r : undefined;
  }
  sizeOf(index: string): string {
    const s = this.sets.get(index);
    if (!s) throw new Error(`the index ${index} belongs to no set`);
    return s;
  }
  isSize(name: string): boolean { return this.fam.isSize(name); }
  limit(e: Expr): Expr {
    const l = leading(canon(e), this.fam);
    if (!l) throw new Error('the limit of a constant that is not a rational function of the sizes');
    if (l.p < -1e-12) return num(0);
    if (l.p > 1e-12) throw new Error('the constant grows with the sizes');
    return canon(l.coef);
  }
  moments(A: RandomDecl): { mean: Expr; var: Expr } { return moments(A.dist)!; }
  matrixTerms(name: string, i: string, v: string): Expr {
    if (name !== this.d.name || i !== this.d.indices[0]) throw new Error(`@terms: the pass reads ${this.d.name}[${this.d.indices[0]}, …]`);
    return canon(add(...this.terms.map((t) => appliedTerm(t, v, this.d.indices[1]))));
  }
  useScale(A: Expr, index: string): Expr {
    const r = this.couplingOf(A);
    if (!r) throw new Error('@scale: not an entry of a random matrix');
    const lead = leading(mul(sym(this.sizeOf(index)), moments(r.dist)!.var), this.fam);
    if (!lead) throw new Error(`@scale: cannot take the large-size limit of the variance of ${r.name}`);
    return canon(lead.coef);
  }
  quenched(e: Expr): Expr { return siteExpr(e); }
  isConjugate(): boolean { return false; }
  orderParam(): string { return unavailable('@orderParam'); }
  correlation(): { name: string; swapped: boolean } { return unavailable('@orderParam'); }
  site(): Expr { return unavailable('@site'); }
  at(): Expr { return unavailable('@at'); }
  local(): Expr { return unavailable('@local'); }
  reduceI(): Expr { return unavailable('@reduceI'); }
}

const unavailable = (what: string): never => { throw new Error(`${what}: a builder of the dynamics, not of the spectrum derivation`); };

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
