// Validation of a parsed model: names, indices, declarations, and the scaling
// analysis. Fills in the index sets of declarations. Reports every error it
// finds (not just the first), each with file:line:col and a hint.
import { DmftError, DmftErrors, didYouMean, withSource } from '../errors.ts';
import { children, freeIndices, some, withChildren, type Expr, type Span } from '../expr/ast.ts';
import { FUNCTION_NAMES as NAMES } from '../expr/functions.ts';
import { print } from '../expr/print.ts';
import { canon } from '../expr/canon.ts';
import type { Dist, Model } from './ir.ts';
import { checkScaling, SizeFamilies } from './scaling.ts';
import { foldAffineCouplings } from './affine.ts';
import { linearizeFeatures } from './features.ts';
import { constantValue } from '../expr/eval.ts';
import { distArgs, distDef } from './distributions.ts';
import { table } from '../table.ts';
import { asymmetricTerm, matrixTerms, termExpr, type MatrixTerm } from './matrix-terms.ts';
import { splitNonlinear } from './matrix-nonlinear.ts';
import { moments } from './moments.ts';

type Kind = 'param' | 'size' | 'index' | 'random' | 'noise' | 'state' | 'let' | 'observable' | 'multiplier' | 'matrix';

interface Ctx {
  /** where the expression sits, for messages */
  where: string;
  /** indices free in this statement (the site index), bound by it */
  site?: string;
  /** a second free index (the column index of a matrix statement) */
  site2?: string;
  /** time names allowed as x[i](t) arguments (observables) */
  times?: string[];
  /** may refer to dynamical quantities (states, lets, noise)? */
  dynamic: boolean;
  allowNoise: boolean;
}

export function validateModel(m: Model, source?: string): Model {
  const v = new Validator(m);
  v.run();
  if (v.errors.length || v.lastErrors.length) {
    // in source order, as compilers do (errors without a location last)
    const at = (e: DmftError) => (e.info.line ?? Infinity) * 1e6 + (e.info.col ?? 0);
    const err = new DmftErrors([...v.errors].sort((a, b) => at(a) - at(b)).concat(v.lastErrors));
    throw source !== undefined ? withSource(err, source) : err;
  }
  return m;
}

/** Apply `--set k=v` overrides; unknown names are refused with a hint.
 *  Params defined from earlier ones (param h = 2*g) are recomputed. */
export function applyOverrides(m: Model, sets: Record<string, number>): Model {
  const params = m.params.map((p) => ({ ...p }));
  for (const [k, v] of Object.entries(sets)) {
    const p = params.find((q) => q.name === k);
    if (!p) {
      const dym = didYouMean(k, params.map((q) => q.name));
      throw new DmftError({
        file: m.file, message: `--set ${k}=${v}: the model has no parameter '${k}'`,
        expected: params.length ? `one of ${params.map((q) => q.name).join(', ')}` : 'no parameters are declared',
        hint: dym ? `did you mean '${dym}'?` : 'declare it with `param' + ` ${k} = …\` or drop the --set`,
      });
    }
    if (!Number.isFinite(v)) throw new DmftError({ file: m.file, message: `--set ${k}: the value must be a finite number`, hint: `e.g. --set ${k}=1.5` });
  }
  if (!Object.keys(sets).length) return { ...m, params };
  const values: Record<string, number> = table();
  for (const p of params) {
    if (Object.prototype.hasOwnProperty.call(sets, p.name)) p.value = sets[p.name];
    else if (p.expr) {
      const v = constantValue(p.expr, values);
      if (v === undefined || !Number.isFinite(v)) {
        throw new DmftError({
          file: m.file, line: p.span?.line, col: p.span?.col, len: p.span?.len,
          message: `with ${Object.entries(sets).map(([k, x]) => `${k}=${x}`).join(', ')}, parameter '${p.name}' = ${print(p.expr)} is not a finite number`,
          hint: `choose other values, or set ${p.name} directly: --set ${p.name}=…`,
        });
      }
      p.value = v;
    }
    values[p.name] = p.value;
  }
  return { ...m, params };
}

class Validator {
  errors: DmftError[] = [];
  /** whole-model errors, reported after the located ones */
  lastErrors: DmftError[] = [];
  private kinds = new Map<string, { kind: Kind; span?: Span }>();
  private setOfIndex = new Map<string, string>();
  private fam: SizeFamilies;
  constructor(private m: Model) { this.fam = new SizeFamilies(m); }

  private err(span: Span | undefined, message: string, hint?: string, expected?: string): void {
    this.errors.push(new DmftError({ file: this.m.file, line: span?.line, col: span?.col, len: span?.len, message, hint, expected }));
  }

  private define(name: string, kind: Kind, span?: Span): void {
    const prev = this.kinds.get(name);
    if (prev) {
      const at = prev.span ? ` (line ${prev.span.line})` : '';
      this.err(span, `duplicate definition of '${name}': already declared as ${prev.kind}${at}`, 'every name is declared once; rename one of them');
      return;
    }
    this.kinds.set(name, { kind, span });
  }

  run(): void {
    const m = this.m;
    if (!m.name) this.err({ line: 1, col: 1 }, 'the model has no title', 'start the file with: model "my model"');
    for (const p of m.params) this.define(p.name, 'param', p.span);
    for (const s of m.indexSets) {
      if (this.kinds.get(s.size)?.kind !== 'size') this.define(s.size, 'size', s.span);
      for (const i of s.indices) { this.define(i, 'index', s.span); this.setOfIndex.set(i, s.size); }
    }
    for (const r of m.randoms) this.define(r.name, 'random', r.span);
    for (const n of m.noises) this.define(n.name, 'noise', n.span);
    for (const s of m.states) this.define(s.name, 'state', s.span);
    for (const l of m.lets) this.define(l.name, 'let', l.span);
    for (const c of m.constraints) this.define(c.multiplier, 'multiplier', c.span);
    for (const o of m.observables) this.define(o.name, 'observable', o.span);
    for (const x of m.matrices ?? []) this.define(x.name, 'matrix', x.span);

    // ratios: each links two declared sizes not yet linked, by a positive constant
    const family = new Map<string, string>();
    const root = (x: string): string => { while (family.has(x) && family.get(x) !== x) x = family.get(x)!; return x; };
    const pv = Object.fromEntries(m.params.map((p) => [p.name, p.value]));
    for (const r of m.ratios) {
      let known = true;
      for (const s of [r.num, r.den]) {
        if (this.kinds.get(s)?.kind !== 'size') { this.err(r.span, `ratio names '${s}', which is not a declared size`, `declare it: index k in 1..${s}`); known = false; }
      }
      const before = this.errors.length;
      this.constant(r.value, `the ratio ${r.num}/${r.den}`, r.span, false);
      if (this.errors.length === before) {
        const v = constantValue(r.value, pv);
        if (v !== undefined && !(v > 0 && Number.isFinite(v))) this.err(r.value.span ?? r.span, `the ratio ${r.num}/${r.den} must be a positive number, found ${v}`, 'sizes grow together at a fixed positive ratio, e.g. ratio P/D = 2');
      }
      if (!known) continue;
      if (r.num === r.den) { this.err(r.span, `ratio ${r.num}/${r.den} relates a size to itself`, 'a ratio links two different sizes, e.g. ratio P/D = alpha'); continue; }
      if (root(r.num) === root(r.den)) {
        this.err(r.span, `ratio ${r.num}/${r.den}: ${r.num} and ${r.den} are already linked by an earlier ratio`, 'link each size once; a second ratio is redundant or contradicts the first');
        continue;
      }
      family.set(root(r.num), root(r.den));
    }
    this.checkSizeFamilies();

    for (const r of m.randoms) {
      r.sets = r.indices.map((i) => this.indexSet(i, r.span) ?? '?');
      this.dist(r.dist, `the distribution of ${r.name}`, r.span, true);
      if (r.symmetric && (r.sets.length < 2 || r.sets.some((x) => x !== r.sets[0]))) {
        this.err(r.span, `'${r.name}' is declared symmetric but ${r.sets.length < 2 ? 'has a single index' : `is not square: its indices run over ${r.sets.join(' × ')}`}`,
          'symmetry needs all indices over the same set, e.g. J[i,j] (or a tensor J[i,j,k]) with i, j, k in 1..N; a rectangular X enters as X and its transpose without a declaration');
      } else if (r.transposeCorr && (r.sets.length !== 2 || r.sets[0] !== r.sets[1])) {
        this.err(r.span, `'${r.name}' is declared correlated with its transpose but is not square: its indices run over ${r.sets.join(' × ')}`,
          'corr(…) needs two indices over the same set, e.g. J[i,j] with i, j in 1..N');
      }
      if (r.symmetric && r.transposeCorr) this.err(r.span, `'${r.name}' is declared both symmetric and corr(…): give one`, `symmetric means corr(${r.name}[i,j], ${r.name}[j,i]) = 1; keep one of the two options`);
      if (r.transposeCorr) {
        this.constant(r.transposeCorr, `the correlation of ${r.name}`, r.span, false);
      }
      if (new Set(r.indices).size !== r.indices.length) this.err(r.span, `'${r.name}' repeats an index in its declaration`, `write distinct indices, e.g. ${r.name}[i,j]`);
      if (r.dist.kind === 'bernoulli' && !r.timeDependent) {
        // quenched Bernoulli disorder is allowed by the language; derive decides.
      }
    }
    for (const n of m.noises) {
      n.sets = n.indices.map((i) => this.indexSet(i, n.span) ?? '?');
      if (n.indices.length !== 1) this.err(n.span, `noise '${n.name}' must have one site index`, `write noise ${n.name}[i] ~ white(D)`);
      this.dist(n.dist, `the strength of noise ${n.name}`, n.span, false);
    }
    for (const s of m.states) {
      s.set = this.indexSet(s.index, s.span) ?? '?';
      if (s.lower) this.constant(s.lower, `the lower bound of ${s.name}`, s.span, false);
      if (s.upper) this.constant(s.upper, `the upper bound of ${s.name}`, s.span, false);
    }
    for (const l of m.lets) l.set = this.indexSet(l.index, l.span) ?? '?';

    // initial conditions
    const inited = new Set<string>();
    for (const i of m.inits) {
      const s = m.states.find((x) => x.name === i.state);
      if (!s) {
        this.err(i.span, `init for '${i.state}', which is not a state`, this.nameHint(i.state, ['state']) ?? `declare it: state ${i.state}[i]`);
        continue;
      }
      if (inited.has(i.state)) this.err(i.span, `'${i.state}' has two initial conditions`, 'keep one init line per state');
      inited.add(i.state);
      if (i.index !== undefined) {
        const set = this.indexSet(i.index, i.span);
        if (set && s.set !== '?' && set !== s.set) {
          this.err(i.span, `index mismatch: '${i.state}' lives on ${s.set} but its init is written for index '${i.index}' in 1..${set}`, `write init ${i.state}[${s.index}] …`);
        }
      }
      // an initial condition may depend on the site's quenched inputs (a warm
      // start w(0) = wstar + …): random vectors on the state's set, at its index
      const site = { set: s.set, index: i.index ?? s.index };
      if (i.init.kind === 'dist') this.dist(i.init.dist, `the initial distribution of ${i.state}`, i.span, false, site);
      else this.constant(i.init.value, `the initial value of ${i.state}`, i.span, false, site);
    }

    // the scaling analysis runs last, on well-formed equations only
    const scalingTodo: { rhs: Expr; site: string; span?: Span }[] = [];
    // dynamics
    const withDyn = new Set<string>();
    for (const d of m.dynamics) {
      const s = m.states.find((x) => x.name === d.state);
      if (!s) {
        const isLet = m.lets.some((l) => l.name === d.state);
        this.err(d.span, `dynamics for '${d.state}', which is not a state`,
          isLet ? `'${d.state}' is defined by a let (an instantaneous formula); to give it dynamics, replace the let by state ${d.state}[${d.index}]` : this.nameHint(d.state, ['state']) ?? `declare it: state ${d.state}[${d.index}]`);
        continue;
      }
      if (withDyn.has(d.state)) this.err(d.span, `'${d.state}' has two dynamics equations`, 'keep one d/dt line per state');
      withDyn.add(d.state);
      const set = this.indexSet(d.index, d.span);
      if (set && s.set !== '?' && set !== s.set) {
        this.err(d.span, `index mismatch: '${d.state}' lives on ${s.set} but the equation is written for index '${d.index}' in 1..${set}`, `write d/dt ${d.state}[${s.index}] = …`);
      }
      this.expr(d.rhs, { where: `the dynamics of ${d.state}`, site: d.index, dynamic: true, allowNoise: true });
      scalingTodo.push({ rhs: d.rhs, site: d.index, span: d.span });
    }
    for (const s of m.states) {
      if (!withDyn.has(s.name)) {
        this.err(s.span, `state '${s.name}' has no dynamics`,
          `add: d/dt ${s.name}[${s.index}] = … (or ${s.name}[${s.index}](t+1) = … in discrete time); a quantity defined by a formula is a let, and a fixed random vector is random ${s.name}[${s.index}] ~ normal(0, 1)`);
      }
    }
    for (const l of m.lets) {
      this.expr(l.expr, { where: `let ${l.name}`, site: l.index, dynamic: true, allowNoise: false });
      scalingTodo.push({ rhs: l.expr, site: l.index, span: l.span });
    }
    this.letCycles();
    for (const c of m.constraints) {
      this.expr(c.lhs, { where: 'the constraint', dynamic: true, allowNoise: false });
      this.expr(c.rhs, { where: 'the constraint', dynamic: true, allowNoise: false });
    }
    for (const o of m.observables) {
      this.expr(o.expr, { where: `observable ${o.name}`, times: o.times.length ? o.times : undefined, dynamic: true, allowNoise: false });
      if (o.times.length === 2 && o.times[0] === o.times[1]) this.err(o.span, `observable ${o.name} names the time '${o.times[0]}' twice`, 'write C(t,s)');
    }
    const matrixErrorsFrom = this.errors.length;
    for (const x of m.matrices ?? []) this.matrix(x);
    // order analysis needs well-formed equations: only when all else is right
    if (!this.errors.length) this.scaling(scalingTodo);
    if (this.errors.length === matrixErrorsFrom) for (const x of m.matrices ?? []) this.matrixShape(x);
    // a model of matrices only is studied by `dmft spectrum`
    if (!m.states.length && !(m.matrices ?? []).length) {
      this.lastErrors.push(new DmftError({ file: m.file, line: 1, col: 1, message: 'the model declares no state', hint: 'declare one: state x[i], with d/dt x[i] = …' }));
    }
  }

  /** `matrix H[i,j] = …`: two indices over one set; an expression of
   *  randoms, parameters and sizes with i and j free. */
  private matrix(x: NonNullable<Model['matrices']>[number]): void {
    const [a, b] = x.indices;
    const sa = this.indexSet(a, x.span), sb = this.indexSet(b, x.span);
    x.set = sa ?? '?';
    if (a === b) this.err(x.span, `matrix ${x.name}[${a},${b}] repeats its index`, `write two indices of one set, e.g. matrix ${x.name}[i,j] with index i, j in 1..N`);
    else if (sa && sb && sa !== sb) this.err(x.span, `matrix ${x.name} must be square: '${a}' runs over ${sa} and '${b}' over ${sb}`, `a spectrum is that of a square matrix; for X over ${sa} × ${sb} study sum(${a}, X[${a},…]*X[${a},…]) over one set`);
    const before = this.errors.length;
    this.expr(x.expr, { where: `matrix ${x.name}`, site: a, site2: b, dynamic: false, allowNoise: false });
    if (this.errors.length !== before) return;
    this.walkNames(x.expr, (y) => {
      if (y.k !== 'ref') return;
      const k = this.kinds.get(y.name)?.kind;
      if (k === 'state' || k === 'let' || k === 'noise') this.err(y.span ?? x.span, `matrix ${x.name} cannot use the ${k} '${y.name}'`, 'a random matrix is built from random matrices, quenched random vectors and parameters');
    });
  }

  /** The matrix read as chains of random matrices and rank-one spikes
   *  (src/model/matrix-terms.ts); symmetric, as a spectrum on the real line needs. */
  private matrixShape(x0: NonNullable<Model['matrices']>[number]): void {
    // the terms that apply a function to random projections (feature Gram, kernel) are
    // read on their own (src/model/matrix-nonlinear.ts); their scaling is judged when
    // `dmft spectrum` derives their linear equivalent
    const split = splitNonlinear(this.m, x0);
    for (const i of split.issues) this.err(i.span ?? x0.span, i.message, i.hint);
    if (split.issues.length || !split.rest) return;
    const x = { ...x0, expr: split.rest };
    const { terms, issues } = matrixTerms(this.m, x);
    for (const i of issues) this.err(i.span ?? x.span, i.message, i.hint);
    if (issues.length) return;
    for (const t of terms) {
      if (t.kind !== 'chain') continue;
      for (const l of t.links) {
        const r = this.m.randoms.find((y) => y.name === l.matrix)!;
        const mean = constantValue(moments(r.dist)?.mean ?? { k: 'num', v: 0 },
          { ...Object.fromEntries(this.m.params.map((p) => [p.name, p.value])), ...Object.fromEntries(this.m.indexSets.map((s) => [s.size, 1e6])) });
        if (mean !== 0) {
          this.err(l.span ?? x.span, `the entries of '${l.matrix}' in matrix ${x.name} must have mean 0`, `declare ${l.matrix} with mean 0; a mean adds a low-rank part to the matrix, which is written as a spike term such as theta*u[${x.indices[0]}]*u[${x.indices[1]}]`);
          return;
        }
      }
    }
    for (const t of terms) {
      const grows = this.termOrder(t);
      if (grows === undefined || Math.abs(grows) < 1e-6) continue;
      const how = grows > 0 ? `grows like N^${fmtPow(grows)}` : `vanishes like 1/N^${fmtPow(-grows)}`;
      this.err(t.span ?? x.span, `scaling: the ${t.kind === 'chain' ? 'term' : 'spike'} '${print(termExpr(t))}' of matrix ${x.name} ${how}: its eigenvalues would ${grows > 0 ? 'grow' : 'vanish'} with the sizes`,
        t.kind === 'chain' ? 'each random matrix of a chain is O(1) when its summed size × variance = O(1): e.g. random X[mu,i] ~ normal(0, 1/D) in sum(mu, X[mu,i]*X[mu,j]), J[i,j] ~ normal(0, 1/N)'
          : `a spike theta*u[${x.indices[0]}]*u[${x.indices[1]}] is O(1) when |u|² = O(1): declare random u[${x.indices[0]}] ~ normal(0, 1/N)`);
      return;
    }
    const t = asymmetricTerm(this.m, terms);
    if (t) {
      this.err(t.span ?? x.span, `matrix ${x.name} is not symmetric: the transpose of this term is not a term of ${x.name}`,
        `dmft spectrum studies symmetric matrices (real eigenvalues): add the transposed term, or symmetrize, e.g. (A[${x.indices[0]},${x.indices[1]}] + A[${x.indices[1]},${x.indices[0]}])/2`);
    }
  }

  /** The power of the size with which a term's typical eigenvalue scales,
   *  measured at two sizes: each random matrix contributes √(size × variance),
   *  each quenched vector its root mean square, a spike the size (|a|·|b| = N·rms). */
  private termOrder(t: MatrixTerm): number | undefined {
    const pv = Object.fromEntries(this.m.params.map((p) => [p.name, p.value]));
    const mag = (n: number): number | undefined => {
      const env = { ...pv, ...Object.fromEntries(this.m.indexSets.map((s) => [s.size, n])) };
      const rms = (e: Expr): number | undefined => {
        const sub = (y: Expr): Expr => {
          if (y.k === 'ref') {
            const r = this.m.randoms.find((q) => q.name === y.name)!;
            const a = distArgs(r.dist).map((z) => constantValue(z, env));
            if (a.some((z) => z === undefined)) return { k: 'num', v: NaN };
            const [mu, sd] = distDef(r.dist).meanSd!(a as number[]);
            return { k: 'num', v: Math.sqrt(mu * mu + sd * sd) };
          }
          return withChildren(y, children(y).map(sub));
        };
        const v = constantValue(sub(e), env);
        return v === undefined ? undefined : Math.abs(v);
      };
      const c = constantValue(t.coef, env);
      if (c === undefined || c === 0) return undefined;
      let out = Math.abs(c);
      if (t.kind === 'rank-one') {
        const a = rms(t.left), b = rms(t.right);
        return a === undefined || b === undefined ? undefined : out * n * a * b;
      }
      for (const d of t.diag) { const v = rms(d); if (v === undefined) return undefined; out *= v; }
      for (const l of t.links) {
        const r = this.m.randoms.find((q) => q.name === l.matrix)!;
        const v = constantValue(moments(r.dist)?.var ?? { k: 'num', v: NaN }, env);
        if (v === undefined) return undefined;
        out *= Math.sqrt(n * v);
      }
      return out;
    };
    const a = mag(1e3), b = mag(1e6);
    if (!a || !b || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
    return Math.log(b / a) / Math.log(1e3);
  }

  private nameHint(name: string, kinds: Kind[]): string | undefined {
    const cands = [...this.kinds].filter(([, v]) => kinds.includes(v.kind)).map(([k]) => k);
    const d = didYouMean(name, cands);
    return d ? `did you mean '${d}'?` : undefined;
  }

  private indexSet(i: string, span?: Span): string | undefined {
    const s = this.setOfIndex.get(i);
    if (!s) {
      const k = this.kinds.get(i);
      const known = [...this.setOfIndex].map(([j, set]) => `${j} in 1..${set}`);
      const dym = this.nameHint(i, ['index']);
      if (k) this.err(span, `'${i}' is ${article(k.kind)} ${k.kind}, not an index`, dym ?? (known.length ? `use a declared index: ${known.join(', ')}` : 'declare the indices first: index i, j in 1..N'));
      else this.err(span, `index '${i}' is not declared`, dym ?? `declare it: index ${i} in 1..N${known.length ? ` (declared: ${known.join(', ')})` : ''}`);
    }
    return s;
  }

  /** All sizes must grow together: each one linked to the first by ratios. */
  private checkSizeFamilies(): void {
    const sizes = this.fam.sizes();
    if (!sizes.length) return;
    const first = sizes[0];
    const reported = new Set<string>();
    for (const s of this.m.indexSets) {
      const b = this.fam.base(s.size);
      if (b === this.fam.base(first) || reported.has(b!)) continue;
      reported.add(b!);
      this.err(s.span, `the size ${s.size} is not linked to ${first} by a ratio`,
        `declare how they grow together, e.g. ratio ${s.size}/${first} = alpha (with param alpha = …)`);
    }
  }

  /** An expression of numbers, params and sizes only (and, with `site`, the
   *  quenched random vectors of that set at that index: an initial condition). */
  private constant(e: Expr, where: string, span: Span | undefined, allowSizes: boolean, site?: { set: string; index: string }): void {
    const made = `made of numbers${allowSizes ? ', params and sizes' : ' and params'}${site ? `, and random vectors on ${site.set} at the site (wstar[${site.index}])` : ''}`;
    const go = (x: Expr): void => {
      if (x.k === 'ref') {
        const r = site && this.m.randoms.find((y) => y.name === x.name);
        if (r && site && r.indices.length === 1 && !r.timeDependent && r.sets[0] === site.set && x.idx.length === 1 && x.idx[0] === site.index && !x.at) return;
        this.err(x.span ?? span, `${where} must not depend on '${print(x)}'`, `it is fixed before the dynamics start: ${made}`);
        return;
      }
      if (x.k === 'sum' || x.k === 'mean') {
        this.err(x.span ?? span, `${where} cannot contain ${x.k}(…)`, `it is fixed before the dynamics start: ${made}`);
        return;
      }
      if (x.k === 'sym') {
        const k = this.kinds.get(x.name)?.kind;
        if (k === 'param') return;
        if (k === 'size' && allowSizes) return;
        if (k === 'size') { this.err(x.span ?? span, `${where} cannot depend on the size '${x.name}'`, 'only the mean and variance of a random coupling scale with sizes; use a param'); return; }
        if (k) { this.err(x.span ?? span, `${where} cannot depend on ${article(k)} ${k} '${x.name}'`, `it is ${made}`); return; }
        this.unknown(x.name, x.span ?? span, k, ['param', ...(allowSizes ? ['size' as Kind] : [])]);
        return;
      }
      for (const c of children(x)) go(c);
    };
    go(e);
  }

  private dist(d: Dist, where: string, span: Span | undefined, allowSizes: boolean, site?: { set: string; index: string }): void {
    const before = this.errors.length;
    for (const a of distArgs(d)) this.constant(a, where, span, allowSizes, site);
    if (this.errors.length === before) this.distRange(d, where, span);
  }

  /** Arguments out of the law's range at the declared parameter values (a negative
   *  variance, p outside [0, 1]): refused when they are out of range for every size
   *  (sizes are tried small and large, as the arguments usually scale like 1/N). */
  private distRange(d: Dist, where: string, span: Span | undefined): void {
    const def = distDef(d);
    if (!def.invalid) return;
    const pv: Record<string, number> = Object.fromEntries(this.m.params.map((p) => [p.name, p.value]));
    const sizes = this.m.indexSets.map((s) => s.size);
    const why = [10, 1e6].map((n) => {
      const env = { ...pv, ...Object.fromEntries(sizes.map((s) => [s, n])) };
      const args = distArgs(d).map((a) => constantValue(a, env));
      return args.every((x) => x !== undefined && Number.isFinite(x)) ? def.invalid!(args as number[]) : undefined;
    });
    if (why[0] && why[1]) {
      // point at the last written argument (the variance, the probability, the upper end)
      const at = [...distArgs(d)].reverse().find((a) => a.span)?.span ?? span;
      const usesParams = distArgs(d).some((a) => some(a, (x) => x.k === 'sym' && x.name in pv));
      const shown = usesParams ? ` at the parameter values (${this.m.params.map((p) => `${p.name} = ${p.value}`).join(', ')})` : '';
      this.err(at, `${where}${shown}: ${why[0]}`, def.help);
    }
  }

  private unknown(name: string, span: Span | undefined, kind: Kind | undefined, allowed: Kind[], indexed = false): void {
    if (kind) {
      const idx = this.declaredIndices(name);
      const hint = kind === 'state' || kind === 'let' || kind === 'random' || kind === 'noise'
        ? `'${name}' lives on sites: write ${name}[${idx?.join(',') ?? 'i'}]` : kind === 'index' ? 'indices appear inside brackets, e.g. x[i], or as the first argument of sum(j, …) and mean(i, …)'
          : kind === 'observable' ? 'an observable is an output; it cannot be used in other expressions (repeat its expression instead)'
            : `allowed here: ${allowed.map((k) => k + 's').join(', ')}`;
      this.err(span, `${article(kind)} ${kind} '${name}' cannot appear here`, hint);
      return;
    }
    const looksLikeSize = /^[A-Z]$/.test(name);
    const dym = this.nameHint(name, allowed);
    if (indexed) {
      this.err(span, `unknown name '${name}'`, dym ?? `declare it, e.g. state ${name}[i], let ${name}[i] = … or random ${name}[i] ~ normal(0, 1)`);
      return;
    }
    if (FUNCTION_NAMES.has(name)) {
      this.err(span, `'${name}' is a function and needs an argument`, `write ${name}(x)`);
      return;
    }
    this.err(span, `unknown name '${name}'`,
      dym ?? (looksLikeSize ? `if ${name} is a size, declare it: index k in 1..${name}` : `declare it: param ${name} = …`));
  }

  private walkNames(e: Expr, f: (x: Expr) => void): void {
    f(e);
    for (const c of children(e)) this.walkNames(c, f);
  }

  /** Check an expression in a statement: names, arities, index sets, binding. */
  private expr(e: Expr, ctx: Ctx): void {
    const go = (x: Expr, bound: Set<string>): void => {
      switch (x.k) {
        case 'sym': {
          const k = this.kinds.get(x.name)?.kind;
          if (k === 'param' || k === 'size' || k === 'multiplier') return;
          if (ctx.times?.includes(x.name)) return;
          if (x.name === 't' && ctx.dynamic) return; // explicit time dependence
          this.unknown(x.name, x.span, k, ['param', 'size']);
          return;
        }
        case 'ref': {
          const k = this.kinds.get(x.name)?.kind;
          if (!k) { this.unknown(x.name, x.span, undefined, ['state', 'let', 'random', 'noise'], true); return; }
          const declared = this.declaredSets(x.name);
          if (!declared) { this.err(x.span, `${article(k)} ${k} '${x.name}' has no indices`, `write ${x.name} without brackets`); return; }
          if (k === 'noise' && !ctx.allowNoise) this.err(x.span, `noise '${x.name}' can only enter dynamics (d/dt)`, 'noise drives states; it is not observable');
          if (x.idx.length !== declared.length) {
            this.err(x.span, `'${x.name}' has ${declared.length} ${declared.length === 1 ? 'index' : 'indices'}, found ${x.idx.length}`, `write ${x.name}[${this.declaredIndices(x.name)!.join(',')}]`);
            return;
          }
          const sets = x.idx.map((i) => this.setOfIndex.get(i));
          const bad = x.idx.filter((i, n) => sets[n] !== undefined && declared[n] !== '?' && sets[n] !== declared[n]);
          if (bad.length) {
            const decl = `${x.name}[${this.declaredIndices(x.name)!.join(',')}]`;
            // the same indices in another order, if that fits the declaration
            const fix = permuteToFit(x.idx, sets, declared);
            this.err(x.span, `index mismatch in '${print(x)}': ${x.name} is declared ${decl}, over ${declared.join(' × ')}, but here ${x.idx.map((i, n) => `'${i}' runs over ${sets[n] ?? '?'}`).join(' and ')}`,
              fix ? `write ${x.name}[${fix.join(',')}]: indices go in the order of the declaration` : `each slot of ${x.name} takes an index of its set: ${declared.map((d) => `1..${d}`).join(', ')}`);
          }
          x.idx.forEach((i) => {
            const s = this.setOfIndex.get(i);
            if (!s) { this.indexSet(i, x.span); return; }
            if (!bound.has(i) && i !== ctx.site && i !== ctx.site2) {
              this.err(x.span, `index '${i}' in '${print(x)}' is free in ${ctx.where}`,
                ctx.site ? `only '${ctx.site}' is free here; bind '${i}' with sum(${i}, …) or mean(${i}, …)` : `bind it with mean(${i}, …)`);
            }
          });
          if (x.at) {
            if (!ctx.times) {
              const plain = `${x.name}[${x.idx.join(',')}]`;
              this.err(x.at.span ?? x.span, `a time argument '${print(x)}' is only allowed in an observable that names its times, such as C(t,s)`,
                `elsewhere quantities are at the current time: write ${plain}` + (x.at.k === 'sym' ? '' : `; for a product write ${plain}*(…)`));
            }
            else this.expr(x.at, { ...ctx, dynamic: false });
          } else if (ctx.times && ctx.times.length > 1 && !(k === 'random' && !this.m.randoms.find((r) => r.name === x.name)?.timeDependent)) {
            // quenched randomness has no time; everything else must say which time
            this.err(x.span, `in ${ctx.where}, which has two times, '${print(x)}' needs a time argument`, `write ${x.name}[${x.idx.join(',')}](${ctx.times[0]}) or ${x.name}[${x.idx.join(',')}](${ctx.times[1]})`);
          }
          return;
        }
        case 'sum': case 'mean': {
          const s = this.setOfIndex.get(x.index);
          if (!s) { this.indexSet(x.index, x.span); return; }
          if (bound.has(x.index) || x.index === ctx.site || x.index === ctx.site2) {
            const free = this.m.indexSets.find((q) => q.size === s)?.indices.filter((j) => j !== ctx.site && !bound.has(j) && j !== x.index) ?? [];
            this.err(x.span, `${x.k}(${x.index}, …) rebinds the index '${x.index}', which is already in use ${x.index === ctx.site ? `as the site index of ${ctx.where}` : 'by an enclosing sum'}`,
              free.length ? `${x.k} over another index of ${s}, e.g. ${x.k}(${free[0]}, …)` : `declare another index of the same set: index ${[...(this.m.indexSets.find((q) => q.size === s)?.indices ?? [x.index]), x.index === 'k' ? 'l' : 'k'].join(', ')} in 1..${s}`);
            return;
          }
          if (!freeIndices(x.body).has(x.index)) {
            const eg = x.k === 'sum' ? `sum(${x.index}, J[${ctx.site && ctx.site !== x.index ? ctx.site : 'i'},${x.index}]*x[${x.index}])` : `mean(${x.index}, x[${x.index}]^2)`;
            this.err(x.span, `${x.k} over '${x.index}' but the summand does not carry '${x.index}'`, `the summand must depend on ${x.index}, e.g. ${eg}; a term that does not depend on ${x.index} goes outside the ${x.k}`);
          }
          const b = new Set(bound); b.add(x.index);
          go(x.body, b);
          return;
        }
        case 'pow': {
          // a divisor that is identically zero ((a − a), 0*b) has no value for any
          // parameters; later clean-ups would cancel it against its numerator
          const exp = canon(x.exp), base = canon(x.base);
          if (exp.k === 'num' && exp.v < 0 && base.k === 'num' && base.v === 0) {
            this.err(x.span ?? x.base.span, `division by zero: '${print(x.base)}' is identically 0`, 'remove the factor or write the intended expression');
          }
          for (const c of children(x)) go(c, bound);
          return;
        }
        default:
          for (const c of children(x)) go(c, bound);
      }
    };
    go(e, new Set());
  }

  private declaredSets(name: string): string[] | undefined {
    const m = this.m;
    return m.randoms.find((r) => r.name === name)?.sets ?? m.noises.find((r) => r.name === name)?.sets
      ?? (() => { const s = m.states.find((r) => r.name === name) ?? m.lets.find((r) => r.name === name); return s ? [s.set] : undefined; })();
  }
  private declaredIndices(name: string): string[] | undefined {
    const m = this.m;
    return m.randoms.find((r) => r.name === name)?.indices ?? m.noises.find((r) => r.name === name)?.indices
      ?? (() => { const s = m.states.find((r) => r.name === name); if (s) return [s.index]; const l = m.lets.find((r) => r.name === name); return l ? [l.index] : undefined; })();
  }

  /** Scaling issues of all equations, in source order. A mis-scaled coupling
   *  is reported once, at its first use, naming the other sums it also fixes. */
  private scaling(todo: { rhs: Expr; site: string; span?: Span }[]): void {
    const found: { span?: Span; message: string; hint: string; key?: string }[] = [];
    // nonlinear random features are read as their Gaussian-equivalent linear model (./features.ts)
    let lin;
    try { lin = linearizeFeatures(this.m); } catch (e) {
      if (!(e instanceof DmftError)) throw e;
      this.errors.push(e);
      return;
    }
    if (lin.sites.length) {
      todo = [...lin.model.dynamics.map((d) => ({ rhs: d.rhs, site: d.index, span: d.span })), ...lin.model.lets.map((l) => ({ rhs: l.expr, site: l.index, span: l.span }))];
    }
    // affine couplings a + b·J are read as the coupling they are (mean a + b·m, variance b²·v)
    const folds = foldAffineCouplings(lin.model);
    for (const t of todo) {
      for (const is of checkScaling(folds.rewrite(t.rhs), folds.model, this.fam, (i) => this.setOfIndex.get(i), t.site)) {
        found.push({ span: is.node.span ?? t.span, message: is.message, hint: is.hint, key: is.key });
      }
    }
    const pos = (x: { span?: Span }) => (x.span?.line ?? 0) * 1e6 + (x.span?.col ?? 0);
    found.sort((a, b) => pos(a) - pos(b));
    const first = new Map<string, { alsoAt: number[] }>();
    const out: { span?: Span; message: string; hint: string; key?: string; alsoAt: number[] }[] = [];
    for (const f of found) {
      if (f.key && first.has(f.key)) { if (f.span) first.get(f.key)!.alsoAt.push(f.span.line); continue; }
      const item = { ...f, alsoAt: [] as number[] };
      if (f.key) first.set(f.key, item);
      out.push(item);
    }
    for (const o of out) {
      const lines = [...new Set(o.alsoAt)];
      const n = o.alsoAt.length;
      const also = n ? `; this also fixes the other sum${n > 1 ? 's' : ''} over ${o.key!.split(':')[0]} (line${lines.length > 1 ? 's' : ''} ${lines.join(', ')})` : '';
      this.err(o.span, `scaling: ${o.message}`, o.hint + also);
    }
  }

  private letCycles(): void {
    const lets = new Map(this.m.lets.map((l) => [l.name, l]));
    const deps = (e: Expr, out: Set<string>) => this.walkNames(e, (x) => { if (x.k === 'ref' && lets.has(x.name)) out.add(x.name); });
    for (const l of this.m.lets) {
      const seen = new Set<string>();
      const stack = [l.name];
      while (stack.length) {
        const n = stack.pop()!;
        const d = new Set<string>();
        deps(lets.get(n)!.expr, d);
        if (d.has(l.name)) {
          this.err(l.span, `let '${l.name}' depends on itself${n === l.name ? '' : ` through '${n}'`}`, 'a let is an instantaneous definition; a feedback loop needs a state with dynamics');
          break;
        }
        for (const x of d) if (!seen.has(x)) { seen.add(x); stack.push(x); }
      }
    }
  }
}

/** 0.5, 1, 1.5: an exponent as the messages print it. */
function fmtPow(p: number): string {
  return String(Math.round(p * 100) / 100);
}

function article(kind: string): string {
  return /^[aeio]/.test(kind) ? 'an' : 'a';
}

const FUNCTION_NAMES = new Set(NAMES);

/** A reordering of the indices `idx` (over `sets`) that fits the declared slot
 *  sets, if there is one (e.g. X[i,mu] → X[mu,i] for X declared X[mu,i]). */
function permuteToFit(idx: string[], sets: (string | undefined)[], declared: string[]): string[] | undefined {
  const used = new Set<number>();
  const out: string[] = [];
  for (const d of declared) {
    const n = sets.findIndex((s, k) => !used.has(k) && s === d);
    if (n < 0) return undefined;
    used.add(n);
    out.push(idx[n]);
  }
  return out;
}
