// Model analysis shared by the derivation routes (cavity.ts, msr.ts): the
// populations of a model (the variables of each index set), the dense
// coupling sums Σ_k A_ik f(y_k) in their equations (the *uses* of the
// matrices), the names of the Gaussian fields that will replace those sums,
// which pairs of uses give correlated fields and reaction terms, and the
// conversion of model-level site expressions to the single-site process. Nothing here is physics of one route: it is the common reading
// of the model that both routes start from (so that they can be compared).
import { DmftError } from '../errors.ts';
import { add, children, freeIndices, mapPost, mul, num, op, pow, ref, some, sym, withChildren, type Expr } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import type { CrossCovariance, GaussianField, LocalInput, OrderParam, Population, Variable } from './system.ts';
import type { Dist, InitSpec, Model, RandomDecl } from '../model/ir.ts';
import { leading, show, SizeFamilies } from '../model/scaling.ts';
import { isZeroExpr as isZero, randomMoments, type Moments } from '../model/moments.ts';
import { foldAffineCouplings } from '../model/affine.ts';
import { featureNote, linearizeFeatures, type FeatureSite } from '../model/features.ts';
import { distDef, distText as writeDist, mapDist } from '../model/distributions.ts';
import { defaultFresh, numbered, renameIndices, substSyms, type Fresh } from '../expr/subst.ts';
import type { Trace } from '../rewrite/trace.ts';
import { applyOrThrow } from '../rewrite/engine.ts';
import { canon, ckey } from '../expr/canon.ts';
import type { RuleEnv } from './registry.ts';
import './registry.ts';
import { tidy } from '../expr/tidy.ts';
import { degree } from '../expr/diff.ts';
import { SizeLimit } from './limit.ts';

/** One variable of a population: a state or a let of its index set. */
export interface VarInfo {
  name: string;
  kind: 'dynamic' | 'algebraic';
  /** a state of a map (discrete time): its equation gives var(t+1), not d/dt var */
  step?: boolean;
  /** the model-level right-hand side in the limit, written for the population's index */
  rhs: Expr;
  decl: Model['states'][number] | Model['lets'][number];
}

/** A population of the model: the sites of one index set and their
 *  variables (states in declaration order, then lets). */
export interface PopInfo {
  set: string;
  /** the representative site index: that of the first variable */
  index: string;
  vars: VarInfo[];
}

/** A dense coupling sum Σ_k A_ik f(y_k) found in a population's equation:
 *  one use of the matrix A. */
export interface CouplingSum {
  pop: PopInfo;
  /** the variable whose equation holds it */
  var: VarInfo;
  node: Extract<Expr, { k: 'sum' }>;
  A: RandomDecl;
  /** slot of A holding the site index, and the summed index */
  siteSlot: number;
  sumSlot: number;
  /** the summed population */
  sumPop: PopInfo;
  /** factors not carrying the summed index (pulled out of the sum) */
  outside: Expr[];
  /** the summand without the coupling, model level (carries the summed index;
   *  a function of the summed population's variables) */
  f: Expr;
  /** name of the Gaussian field that replaces the sum in the single-site process */
  field: string;
  /** the constant prefactor folded into the coupling (1 when there is none):
   *  the sum is one over the coupling scale·A */
  scale: Expr;
}

export function fail(m: Model, node: Expr | undefined, message: string, hint: string): never {
  throw new DmftError({ file: m.file, line: node?.span?.line, col: node?.span?.col, len: node?.span?.len, message, hint });
}

/** The common reading of a model by the derivation routes. */
export class ModelAnalysis {
  readonly fam: SizeFamilies;
  readonly randoms: Map<string, RandomDecl>;
  readonly pops: PopInfo[] = [];
  readonly sums: CouplingSum[] = [];
  /** the large-size limit of the model's expressions (prefactors, ratios) */
  readonly limit: SizeLimit;
  /** the observables in the limit */
  readonly observables: Model['observables'];
  /** remarks for the reader of the derivation (non-Gaussian couplings) */
  readonly notes: string[] = [];
  /** the sums that added several couplings, split into one sum per coupling
   *  (linearity, before the limit): where, the sum, the two sums, the term split off */
  readonly splits: { where: string; before: Expr; after: Expr; term: Expr }[] = [];
  /** index names made up by a renaming → their set */
  private madeUp = new Map<string, string>();
  private localDists = new Map<string, RandomDecl['dist']>();

  /** the model as the derivation reads it: affine couplings a + b·J folded
   *  into J (src/model/affine.ts) */
  readonly m: Model;
  /** the dynamics are maps x(t+1) = F (discrete time, docs/discrete-time.md) */
  readonly discrete: boolean;
  /** the affine couplings folded: a + b·J[…] → J[…] (rule <route>.limit.affine) */
  private affineSites: { before: Expr; after: Expr; where: string }[] = [];
  /** the features linearized by Gaussian equivalence (rules ge.*) */
  private featureSites: FeatureSite[] = [];

  constructor(written: Model) {
    // nonlinear random features → their Gaussian-equivalent linear model (src/model/features.ts)
    const lin = linearizeFeatures(written);
    this.featureSites = lin.sites;
    for (const f of lin.features) this.notes.push(featureNote(f));
    const model = lin.model;
    const folds = foldAffineCouplings(model);
    const m = folds.model;
    this.m = m;
    this.discrete = m.dynamics.some((d) => d.kind === 'map');
    for (const s of folds.sites) {
      const d = model.dynamics.find((x) => some(x.rhs, (y) => y === s.before));
      const l = model.lets.find((x) => some(x.expr, (y) => y === s.before));
      const o = model.observables.find((x) => some(x.expr, (y) => y === s.before));
      this.affineSites.push({ ...s, where: d ? stateWhere(d.state, d.kind === 'map') : l ? `let ${l.name}` : o ? `observe ${o.name}` : '' });
    }
    this.fam = new SizeFamilies(m);
    this.randoms = new Map(m.randoms.map((r) => [r.name, r]));
    this.limit = new SizeLimit(m, this.fam, (e) => e.k === 'sum' && some(e.body, (x) => this.isCoupling(x)), (i) => this.setOf(i));
    this.refuseUnsupported();
    this.collectPopulations();
    this.observables = m.observables.map((o) => ({ ...o, expr: this.limit.of(o.expr, `observe ${o.name}`) }));
    for (const p of this.pops) for (const v of p.vars) this.collectSums(p, v);
    this.checkDense();
    this.nameFields();
  }

  /** Apply the rules <route>.limit.* through the engine to what the
   *  large-size limit did (limit.ts computes it while reading the model; the
   *  engine recomputes each step by its rule and checks it), after the splits
   *  of sums that add couplings. `stageOf` maps an equation's `where` to its
   *  stage in the trace. Returns the step that produced a coupling sum node:
   *  the one that folded its prefactor, else the split that made it. */
  recordLimit(trace: Trace, route: 'cavity' | 'msr', env: RuleEnv, stageOf: (where: string) => string): (node: Expr) => string | undefined {
    const bySum = new Map<Expr, string>();
    // a sum split off another (by its canonical form: the limit rebuilds the nodes)
    const bySplit = new Map<string, string>();
    for (const s of this.featureSites) {
      const stage = stageOf(s.where);
      applyOrThrow('ge.feature.linearize', s.before, { trace, env, where: `${s.where}: ${print(s.phi)}`, stage, bind: { _h: s.bindLinear._h, _z: s.bindLinear._z }, display: { before: s.before, after: s.linear } });
      const parent = trace.last.id;
      const b = s.bindExchange;
      if (!b || !s.projected || !s.exchanged) continue;
      applyOrThrow('ge.projection.exchange', s.projected, { trace, env, where: `${s.where}: let ${print(b._u)}[${print(b._i)}]`, stage, parent, bind: { _h: b._h, _A: b._A, _B: b._B, _i: b._i, _u: b._u }, display: { before: s.projected, after: s.exchanged } });
    }
    for (const s of this.affineSites) {
      const A = this.randoms.get((s.after as Extract<Expr, { k: 'ref' }>).name)!;
      applyOrThrow(`${route}.limit.affine`, s.before, { trace, env, where: `${s.where}: ${affineText(A)}`, stage: stageOf(s.where), bind: { _A: s.after }, display: { before: s.before, after: s.after } });
    }
    for (const s of this.splits) {
      applyOrThrow(`${route}.limit.split`, s.before, { trace, env, where: s.where, stage: stageOf(s.where), bind: { _a: s.term }, display: { before: s.before, after: s.after } });
      for (const t of (s.after as Extract<Expr, { k: 'add' }>).terms) bySplit.set(ckey(canon(t)), trace.last.id);
    }
    for (const s of this.limit.steps) {
      // nothing to rewrite: a prefactor already inside the sum (Σ_j (g/√N) J_ij x_j), a constant whose sizes cancel (N/N)
      if (ckey(canon(s.before)) === ckey(canon(s.after))) continue;
      applyOrThrow(`${route}.limit.${s.kind}`, s.before, { trace, env, where: s.where, stage: stageOf(s.where), display: { before: s.before, after: s.after } });
      if (s.node) bySum.set(s.node, trace.last.id);
    }
    return (node) => bySum.get(node) ?? (bySplit.size ? bySplit.get(ckey(canon(node))) : undefined);
  }

  /** Mean, variance and fourth central moment of a coupling's entries. */
  moments(A: RandomDecl): Moments {
    return randomMoments(A)!;
  }

  /** The coupling sums of non-Gaussian matrices must be dense: the DMFT then
   *  sees only the mean and variance of the entries (central limit theorem).
   *  With K·c²·v = O(1), the fourth cumulant of the field, K·c⁴·E[(A−m)⁴],
   *  must vanish; it does not for sparse entries (bernoulli(p) with K·p = O(1):
   *  each site sees O(1) nonzero couplings and the field is not Gaussian). */
  private checkDense(): void {
    const noted = new Set<RandomDecl>();
    for (const cs of this.sums) {
      const A = cs.A;
      if (A.dist.kind === 'normal') continue;
      const mo = this.moments(A);
      const K = cs.sumPop.set;
      const k4 = mul(sym(K), pow(cs.scale, num(4)), mo.mu4);
      const l = leading(k4, this.fam);
      const isOne = (e: Expr) => e.k === 'num' && e.v === 1;
      if (!(isZero(mo.mu4) || (l && l.p < -1e-12))) {
        fail(this.m, cs.node, `the coupling sum '${print(cs.node)}' is sparse: with ${affineText(A)}, a few terms of the sum over ${K} dominate and its fluctuations are not Gaussian (${K} × the fourth moment of the${isOne(cs.scale) ? '' : ' scaled'} entries does not vanish)`,
          `the cavity rules need dense couplings (every term small); sparse couplings need a rule family that does not exist yet. For a dense coupling, keep the probability O(1), e.g. 1/N*sum(${cs.node.index}, …) with ${A.name} ~ bernoulli(p)`);
      }
      if (noted.has(A)) continue;
      noted.add(A);
      this.notes.push(`${affineText(A)} is not Gaussian: dense i.i.d. couplings enter the DMFT only through the mean ${show(mo.mean)} and the variance ${show(mo.var)} of their entries (central limit theorem); the equations are those of ${A.affine ? `a coupling` : A.name} ~ normal(${show(mo.mean)}, ${show(mo.var)})`);
    }
  }

  // ---- what the engine cannot derive (yet) ------------------------------
  private refuseUnsupported(): void {
    const m = this.m;
    for (const d of m.dynamics) {
      for (const n of m.noises) {
        if (degree(d.rhs, (x) => x.k === 'ref' && x.name === n.name) > 1) {
          fail(m, d.rhs, `the white noise '${n.name}' enters the dynamics of ${d.state} nonlinearly`, `white noise must enter linearly (its coefficient may depend on the state, Itô): e.g. d/dt ${d.state}[${d.index}] = … + ${n.name}[${d.index}]`);
        }
      }
    }
    const ode = m.dynamics.find((d) => d.kind === 'ode');
    const map = m.dynamics.find((d) => d.kind === 'map');
    if (ode && map) fail(m, map.rhs, `the model mixes discrete-time dynamics (${map.state}[${map.index}](t+1) = …) with continuous-time ones (d/dt ${ode.state}[${ode.index}] = …)`, 'write every state as a map x[i](t+1) = … or every state as d/dt x[i] = …');
    if (map) {
      for (const n of m.noises) fail(m, { k: 'sym', name: n.name, span: n.span }, `white noise (${n.name}) has no meaning in discrete time`, `draw fresh randomness per step instead: random ${n.name}[${n.indices[0] ?? 'i'}](t) ~ normal(0, D)`);
    }
    for (const r of m.randoms) {
      if (r.timeDependent && !map) fail(m, { k: 'sym', name: r.name, span: r.span }, `randomness drawn afresh at every step (${r.name}[…](t)) has no meaning in continuous time`, 'write the dynamics as a map x[i](t+1) = …, or use white noise xi[i] ~ white(D)');
      if (r.indices.length > 2) fail(m, { k: 'sym', name: r.name, span: r.span }, `tensor couplings (${r.name} has ${r.indices.length} indices) are not supported yet by derive`, 'tensor couplings (spherical spin glasses) need the tensor rule family (cavity.field.tensor), which is planned');
    }
    for (const c of m.constraints) fail(m, c.lhs, `constraints (… via ${c.multiplier}) are not supported yet by derive`, 'spherical constraints need the Lagrange-multiplier rule family, which is planned');
  }

  /** The populations: the variables of each index set (states in declaration
   *  order, then lets), every equation written for the population's index. */
  private collectPopulations(): void {
    const m = this.m;
    const bySet = new Map<string, PopInfo>();
    const popOf = (set: string, index: string): PopInfo => {
      let p = bySet.get(set);
      if (!p) { p = { set, index, vars: [] }; bySet.set(set, p); this.pops.push(p); }
      return p;
    };
    for (const s of m.states) {
      const d = m.dynamics.find((x) => x.state === s.name)!;
      const p = popOf(s.set, s.index);
      const where = stateWhere(s.name, d.kind === 'map');
      const rhs = this.splitSums(d.index === p.index ? d.rhs : this.renameIndices(d.rhs, { [d.index]: p.index }), where);
      p.vars.push({ name: s.name, kind: 'dynamic', ...(d.kind === 'map' ? { step: true } : {}), rhs: this.limit.of(rhs, where), decl: s });
    }
    for (const l of m.lets) {
      const p = popOf(l.set, l.index);
      const where = `let ${l.name}`;
      const rhs = this.splitSums(l.index === p.index ? l.expr : this.renameIndices(l.expr, { [l.index]: p.index }), where);
      p.vars.push({ name: l.name, kind: 'algebraic', rhs: this.limit.of(rhs, where), decl: l });
    }
  }

  /** A sum whose summand adds several couplings, Σ_k (A_ik + b·A_ki) f_k, is
   *  one sum per coupling term (each a use of its matrix): split by linearity,
   *  recording each split (rule <route>.limit.split). */
  private splitSums(e: Expr, where: string): Expr {
    const hasCoupling = (x: Expr) => some(x, (y) => this.isCoupling(y));
    const splitOne = (x: Extract<Expr, { k: 'sum' }>): Expr | undefined => {
      const factors = x.body.k === 'mul' ? x.body.factors : [x.body];
      const k = factors.findIndex((f) => f.k === 'add' && hasCoupling(f));
      if (k < 0) return undefined;
      const terms = (factors[k] as Extract<Expr, { k: 'add' }>).terms;
      const rest = factors.filter((_, n) => n !== k);
      const body = (t: Expr): Expr => (rest.length ? mul(...(t.k === 'mul' ? t.factors : [t]), ...rest) : t);
      const first = terms[0], others = terms.length === 2 ? terms[1] : add(...terms.slice(1));
      const after = add({ k: 'sum', index: x.index, body: body(first), span: x.span }, { k: 'sum', index: x.index, body: body(others), span: x.span });
      this.splits.push({ where, before: x, after, term: first });
      return after;
    };
    const walk = (x: Expr): Expr => {
      const y = withChildren(x, children(x).map(walk));
      if (y.k !== 'sum') return y;
      const out = splitOne(y);
      return out ? walk(out) : y;
    };
    return hasCoupling(e) ? walk(e) : e;
  }

  popOfSet(set: string): PopInfo | undefined {
    return this.pops.find((p) => p.set === set);
  }

  /** A variable of any population by name (names are global in a model). */
  varByName(name: string): VarInfo {
    const v = this.pops.flatMap((p) => p.vars).find((x) => x.name === name);
    if (!v) throw new Error(`internal: no variable ${name}`);
    return v;
  }

  /** The variable of a population by name. */
  varOf(p: PopInfo, name: string): VarInfo | undefined {
    return p.vars.find((v) => v.name === name);
  }

  // ---- pairs of uses of one matrix (docs/conventions.md, "Several uses of one matrix") ----

  /** The correlation of the Gaussian fields of two distinct uses u, w in the
   *  equations of one population: `same` orientation (the same entries A_ik:
   *  coefficient 1) or `opposite` (A_ik and A_ki of a square matrix:
   *  coefficient c = corr(A_ik, A_ki)); undefined when the fields are
   *  independent (different matrices, or c = 0). The covariance is then
   *  coef · K·v·c_u·c_w · C[f_u, f_w](t,s). */
  fieldCorrelation(u: CouplingSum, w: CouplingSum): { orientation: 'same' | 'opposite'; coef: Expr } | undefined {
    if (u === w || u.A !== w.A || u.pop !== w.pop) return undefined;
    if (u.siteSlot === w.siteSlot) return { orientation: 'same', coef: num(1) };
    const c = this.transposeCorr(u.A);
    return isZero(c) ? undefined : { orientation: 'opposite', coef: c };
  }

  /** corr(A_ik, A_ki): 1 for a symmetric matrix, the declared value, else 0 (and 0 for a rectangular matrix). */
  transposeCorr(A: RandomDecl): Expr {
    if (A.sets[0] !== A.sets[1]) return num(0);
    return A.symmetric ? num(1) : A.transposeCorr ?? num(0);
  }

  /** The slots of use u: the uses w in the summed population's equations that
   *  carry u's entries the other way (A_ki, the same entry seen from site k:
   *  reuse, coefficient 1) or their transpose partners (A_ik at site k:
   *  coefficient c). Each ordered pair (u, w) gives a reaction term in u. */
  slotsOf(u: CouplingSum): { w: CouplingSum; rule: 'cavity.reaction.reuse' | 'cavity.reaction.transpose'; coef: Expr }[] {
    const out: { w: CouplingSum; rule: 'cavity.reaction.reuse' | 'cavity.reaction.transpose'; coef: Expr }[] = [];
    for (const w of this.sums) {
      if (w.pop !== u.sumPop || w.A !== u.A || w.sumPop !== u.pop) continue;
      if (w.sumSlot === u.siteSlot) out.push({ w, rule: 'cavity.reaction.reuse', coef: num(1) });
      else {
        const c = this.transposeCorr(u.A);
        if (!isZero(c)) out.push({ w, rule: 'cavity.reaction.transpose', coef: c });
      }
    }
    return out;
  }

  /** The variables of population p that a model-level expression at site `index` refers to (at equal time). */
  private varsIn(p: PopInfo, e: Expr, index: string): Set<string> {
    const out = new Set<string>();
    some(e, (x) => { if (x.k === 'ref' && x.idx.length === 1 && x.idx[0] === index && p.vars.some((v) => v.name === x.name)) out.add(x.name); return false; });
    return out;
  }

  /** The variables of a population that a variable's equation names at the
   *  site (equal time), transitively (lets only when `lets`). */
  private equalTime(p: PopInfo, v: VarInfo, lets: boolean): VarInfo[] {
    const seen = [v];
    for (let k = 0; k < seen.length; k++) {
      for (const n of this.varsIn(p, seen[k].rhs, p.index)) {
        const u = this.varOf(p, n)!;
        if (!seen.includes(u) && (!lets || u.kind === 'algebraic')) seen.push(u);
      }
    }
    return seen;
  }

  private edges?: Map<VarInfo, Set<VarInfo>>;

  /** The variables each variable's single-site equation depends on: those it
   *  names at the site, and those of the summands of its uses' slots (through
   *  the memory terms ∫ R_{f←slot} g), but only for the slots f responds to.
   *  Responses and memory terms depend on each other across populations: the
   *  least relation that closes both (a perturbation reaches a variable only
   *  along a chain of terms that carry it). */
  private dependencies(): Map<VarInfo, Set<VarInfo>> {
    if (this.edges) return this.edges;
    const edges = new Map<VarInfo, Set<VarInfo>>();
    for (const p of this.pops) for (const v of p.vars) edges.set(v, new Set(this.equalTime(p, v, false)));
    const reach = (v: VarInfo): Set<VarInfo> => {
      const seen = new Set([v]);
      const todo = [v];
      while (todo.length) for (const u of edges.get(todo.pop()!)!) if (!seen.has(u)) { seen.add(u); todo.push(u); }
      return seen;
    };
    this.edges = edges;
    for (let changed = true; changed;) {
      changed = false;
      for (const u of this.sums) {
        for (const { w } of this.slotsOf(u)) {
          const q = u.sumPop;
          const fVars = [...this.varsIn(q, u.f, u.node.index)].map((n) => this.varOf(q, n)!);
          if (!fVars.some((x) => reach(x).has(w.var))) continue;
          for (const n of this.varsIn(u.pop, w.f, w.node.index)) {
            const g = this.varOf(u.pop, n)!;
            if (!edges.get(u.var)!.has(g)) { edges.get(u.var)!.add(g); changed = true; }
          }
        }
      }
    }
    const closed = new Map<VarInfo, Set<VarInfo>>();
    for (const v of edges.keys()) closed.set(v, reach(v));
    this.edges = closed;
    return closed;
  }

  /** Does a function of q's variables (named in `names`) respond to the field
   *  of the use `slot` (in q's equations)? Not when no variable it depends on
   *  has the slot in its equation: the response is then identically zero. */
  responds(q: PopInfo, names: Iterable<string>, slot: CouplingSum): boolean {
    const deps = this.dependencies();
    for (const n of names) {
      const v = this.varOf(q, n);
      if (v && deps.get(v)!.has(slot.var)) return true;
    }
    return false;
  }

  private instants?: Map<VarInfo, Set<CouplingSum>>;

  /** The uses whose fields reach each let at equal time: those in its
   *  equation, those of the lets it names at the site, and those reaching the
   *  lets of the summands of its uses' slots when the memory kernel between
   *  them is itself instantaneous (∫₀ᵗ δ(t−s) g(s) ds = g(t)). A state never
   *  responds at equal time. The least relation that closes these. */
  private instantaneous(): Map<VarInfo, Set<CouplingSum>> {
    if (this.instants) return this.instants;
    const inst = new Map<VarInfo, Set<CouplingSum>>();
    for (const p of this.pops) for (const v of p.vars) if (v.kind === 'algebraic') inst.set(v, new Set(this.sums.filter((s) => s.var === v)));
    const letsIn = (q: PopInfo, e: Expr, index: string) => [...this.varsIn(q, e, index)].map((n) => this.varOf(q, n)!).filter((x) => x.kind === 'algebraic');
    for (let changed = true; changed;) {
      changed = false;
      const merge = (into: Set<CouplingSum>, from: Set<CouplingSum>) => { for (const x of from) if (!into.has(x)) { into.add(x); changed = true; } };
      for (const p of this.pops) {
        for (const v of p.vars.filter((x) => x.kind === 'algebraic')) {
          const mine = inst.get(v)!;
          for (const u of letsIn(p, v.rhs, p.index)) merge(mine, inst.get(u)!);
          for (const s of this.sums.filter((x) => x.var === v)) {
            for (const { w } of this.slotsOf(s)) {
              if (!letsIn(s.sumPop, s.f, s.node.index).some((x) => inst.get(x)!.has(w))) continue;
              for (const u of letsIn(p, w.f, w.node.index)) merge(mine, inst.get(u)!);
            }
          }
        }
      }
    }
    this.instants = inst;
    return inst;
  }

  /** Does a function of q's variables respond to the slot's field at equal
   *  time (δ(t−s) in R)? When it names a let that the slot reaches at equal
   *  time (see `instantaneous`). */
  respondsInstantly(q: PopInfo, names: Iterable<string>, slot: CouplingSum): boolean {
    const inst = this.instantaneous();
    for (const n of names) {
      const v = this.varOf(q, n);
      if (v && v.kind === 'algebraic' && inst.get(v)!.has(slot)) return true;
    }
    return false;
  }

  /** The use whose Gaussian field is `field`. */
  useOf(field: string): CouplingSum | undefined {
    return this.sums.find((s) => s.field === field);
  }

  setOf(index: string): string {
    return this.m.indexSets.find((s) => s.indices.includes(index))?.size ?? this.madeUp.get(index)!;
  }

  /** Capture-safe renaming of free indices (src/expr/subst.ts); a summation
   *  index that must give way is renamed to another index of its own set. */
  renameIndices(e: Expr, map: Record<string, string>): Expr {
    return renameIndices(e, map, this.freshIndex);
  }

  /** Capture-safe substitution of symbols (src/expr/subst.ts), summation
   *  indices renamed as by `renameIndices`. */
  substSyms(e: Expr, map: Record<string, Expr>): Expr {
    return substSyms(e, map, defaultFresh, this.freshIndex);
  }

  /** A new name for a summation index: another index of its set. */
  private freshIndex: Fresh = (b, taken, preferred) => {
    const set = this.setOf(b);
    const same = [...preferred, ...this.m.indexSets.filter((s) => s.size === set).flatMap((s) => s.indices)];
    const pick = same.find((i) => !taken(i) && this.setOf(i) === set);
    if (pick) return pick;
    const made = numbered(b, (n) => taken(n) || this.madeUp.has(n) || this.takenNames().has(n) || this.m.indexSets.some((s) => s.indices.includes(n)));
    this.madeUp.set(made, set);
    return made;
  };

  /** The distribution of a site-local random vector in the limit (sizes in its arguments taken to infinity). */
  localDist(r: RandomDecl): RandomDecl['dist'] {
    const known = this.localDists.get(r.name);
    if (known) return known;
    const where = `the distribution of ${r.name}`;
    const node: Expr = { k: 'sym', name: r.name, span: r.span };
    const lim = (e: Expr) => this.limit.constant(e, where, node);
    const d = r.dist;
    const out: RandomDecl['dist'] = distDef(d).pointwise ? mapDist(d, lim) : d;
    this.localDists.set(r.name, out);
    return out;
  }

  isCoupling(e: Expr): e is Extract<Expr, { k: 'ref' }> {
    return e.k === 'ref' && e.idx.length >= 2 && this.randoms.has(e.name);
  }

  /** Find the coupling sums of a variable's equation. */
  private collectSums(p: PopInfo, v: VarInfo): void {
    const m = this.m;
    const walk = (e: Expr): void => {
      if (e.k === 'sum' && some(e.body, (x) => this.isCoupling(x))) {
        this.sums.push(this.couplingSum(p, v, e));
        return;
      }
      if (this.isCoupling(e)) fail(m, e, `the coupling '${print(e)}' appears outside a sum over one of its indices`, 'a dense coupling enters as sum(j, J[i,j]*f(x[j]))');
      for (const c of children(e)) walk(c);
    };
    walk(v.rhs);
  }

  private couplingSum(p: PopInfo, v: VarInfo, e: Extract<Expr, { k: 'sum' }>): CouplingSum {
    const m = this.m;
    const factors = e.body.k === 'mul' ? e.body.factors : [e.body];
    const direct = factors.filter((f) => this.isCoupling(f)) as Extract<Expr, { k: 'ref' }>[];
    const bad = factors.find((f) => !this.isCoupling(f) && some(f, (x) => this.isCoupling(x)));
    if (bad) fail(m, bad, `the coupling enters nonlinearly in '${print(bad)}'`, 'the cavity rules (cavity.field.dense) need the coupling to enter linearly: sum(j, J[i,j]*f(x[j])); powers or functions of couplings need a rule family that does not exist yet');
    if (direct.length !== 1) fail(m, e, `the sum '${print(e)}' has ${direct.length} coupling factors`, 'a dense coupling sum has exactly one random-matrix factor (products of couplings need a higher-order rule family)');
    const Aref = direct[0];
    const A = this.randoms.get(Aref.name)!;
    const siteSlot = Aref.idx.indexOf(p.index);
    const sumSlot = Aref.idx.indexOf(e.index);
    if (siteSlot < 0 || sumSlot < 0 || siteSlot === sumSlot || Aref.idx.length !== 2) {
      fail(m, Aref, `the coupling '${print(Aref)}' must carry the site index '${p.index}' and the summed index '${e.index}'`, `write ${Aref.name}[${p.index},${e.index}] or ${Aref.name}[${e.index},${p.index}]`);
    }
    const sumSet = A.sets[sumSlot];
    const sumPop = this.popOfSet(sumSet);
    if (!sumPop) fail(m, e, `the sum over '${e.index}' runs over ${sumSet}, which has no state or let`, `declare the summed quantity as a state or let on ${sumSet}`);
    const outside: Expr[] = [], inside: Expr[] = [];
    for (const f of factors) {
      if (f === Aref) continue;
      const fi = freeIndices(f);
      if (fi.has(e.index) && fi.has(p.index)) fail(m, f, `the factor '${print(f)}' depends on both '${p.index}' and '${e.index}'`, 'beyond the coupling, the summand must depend on the summed site only (or on site i only, then it factors out)');
      if (fi.has(e.index)) inside.push(f); else outside.push(f);
    }
    if (inside.some((f) => some(f, (x) => x.k === 'sum' && some(x.body, (y) => this.isCoupling(y))))) {
      fail(m, e, `nested coupling sums in '${print(e)}' are not supported`, 'introduce a let population for the inner sum');
    }
    const f = inside.length === 0 ? num(1) : inside.length === 1 ? inside[0] : mul(...inside);
    return { pop: p, var: v, node: e, A, siteSlot, sumSlot, sumPop, outside, f, field: '', scale: this.limit.scales.get(e) ?? num(1) };
  }

  /** Names taken by the model (parameters, randoms, noises, states, lets). */
  takenNames(): Set<string> {
    return new Set<string>([
      ...this.m.params.map((x) => x.name), ...this.m.randoms.map((x) => x.name), ...this.m.noises.map((x) => x.name),
      ...this.m.states.map((x) => x.name), ...this.m.lets.map((x) => x.name),
    ]);
  }

  private nameFields(): void {
    const taken = this.takenNames();
    const fresh = (base: string) => { let n = base; let k = 2; while (taken.has(n)) n = `${base}_${k++}`; taken.add(n); return n; };
    if (this.sums.length === 1) this.sums[0].field = fresh('eta');
    else this.sums.forEach((s, n) => { s.field = fresh(`eta_${n + 1}`); });
  }

  /** The limit of a size-dependent coefficient (K·m, K·v): its O(1) part, 0
   *  when it vanishes, or a located error when it grows. */
  limitOf(e: Expr, what: string, node: Expr): Expr {
    const l = leading(e, this.fam);
    if (!l || l.p > 1e-12) fail(this.m, node, `${what} is not O(1) (${print(e)})`, 'see the scaling check of the model language (docs/model-language.md, "The scaling rule")');
    return l.p < -1e-12 ? num(0) : tidy(l.coef);
  }
}

/** The site-local randomness met while writing single-site expressions,
 *  per population (in order of first occurrence). */
export class SiteInputs {
  private bySet = new Map<string, LocalInput[]>();
  constructor(pops: PopInfo[]) { for (const p of pops) this.bySet.set(p.set, []); }
  add(set: string, inp: LocalInput): void {
    const list = this.bySet.get(set)!;
    if (!list.some((x) => x.name === inp.name)) list.push(inp);
  }
  of(set: string): LocalInput[] { return this.bySet.get(set)!; }
}

/** A model-level expression of population q (index `idx`) as a single-site
 *  expression at time τ, registering the site-local inputs it meets. */
export function toSite(an: ModelAnalysis, inputs: SiteInputs, e: Expr, q: PopInfo, idx: string, tau: Expr): Expr {
  const m = an.m;
  return mapPost(e, (x) => {
    if (x.k !== 'ref') return x;
    if (x.idx.length !== 1 || x.idx[0] !== idx) return x;
    const time = x.at ?? tau;
    if (q.vars.some((v) => v.name === x.name)) return ref(x.name, [], time);
    const r = an.randoms.get(x.name);
    if (r?.timeDependent) { inputs.add(q.set, { kind: 'step', name: r.name, dist: an.localDist(r) }); return ref(x.name, [], time); }
    if (r) { inputs.add(q.set, { kind: 'quenched', name: r.name, dist: an.localDist(r) }); return ref(x.name); }
    const nz = m.noises.find((n) => n.name === x.name);
    if (nz && nz.dist.kind === 'white') { inputs.add(q.set, { kind: 'noise', name: nz.name, D: nz.dist.D }); return ref(x.name, [], time); }
    return fail(m, x, `'${print(x)}' cannot be expressed in the single-site process of ${q.vars.map((v) => v.name).join(', ')}`, 'a site quantity of another population must enter through a coupling sum');
  });
}

/** A deep copy without source spans (they belong to the model, not the theory). */
export function dropSpans<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'span' ? undefined : v)));
}

/** Replace the time of every single-site variable ref(x, [], τ) by `tau`. */
export function atTime(e: Expr, tau: Expr): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 0 && x.at ? { ...x, at: tau } : x));
}

/** Replace one node (by identity) in a tree. */
export function replaceNode(e: Expr, target: Expr, by: Expr): Expr {
  if (e === target) return by;
  const c = children(e);
  if (!c.length) return e;
  let changed = false;
  const nc = c.map((x) => { const y = replaceNode(x, target, by); if (y !== x) changed = true; return y; });
  return changed ? withChildren(e, nc) : e;
}

/** The index list of a coupling sum's matrix entry, e.g. [i, j] for J[i,j]. */
export function idxOf(cs: CouplingSum): string[] {
  const idx = ['', ''];
  idx[cs.siteSlot] = cs.pop.index;
  idx[cs.sumSlot] = cs.node.index;
  return idx;
}

/** The printed name of a site function (times dropped): tanh(x), w - wstar. */
export function fName(f: Expr): string {
  return print(mapPost(f, (x) => (x.k === 'ref' && x.at ? ref(x.name, x.idx) : x)));
}

/** A population of the DmftSystem: the single-site equations of its
 *  variables (`rhs`, in the order of p.vars) with their bounds and initial
 *  conditions, its fields and their cross-covariances (both routes build it). */
export function population(an: ModelAnalysis, inputs: SiteInputs, p: PopInfo, rhs: Expr[], fields: GaussianField[], cross: CrossCovariance[]): Population {
  const variables = p.vars.map((v, n): Variable => {
    const out: Variable = { name: v.name, kind: v.kind, rhs: rhs[n] };
    if (v.kind === 'dynamic') {
      const decl = v.decl as Model['states'][number];
      if (decl.lower) out.lower = decl.lower;
      if (decl.upper) out.upper = decl.upper;
      out.init = initOf(an, inputs, p, v);
    }
    return out;
  });
  return { name: p.set, index: p.index, variables, fields, cross, inputs: inputs.of(p.set) };
}

/** The initial condition of a state in the single-site process (0 when not
 *  declared); site-local quenched inputs in it (a warm start w(0) = w* + …)
 *  become inputs of the population. */
export function initOf(an: ModelAnalysis, inputs: SiteInputs, p: PopInfo, v: VarInfo): InitSpec {
  const init = an.m.inits.find((i) => i.state === v.name);
  if (!init) return { kind: 'value', value: num(0) };
  const idx = init.index ?? (v.decl as Model['states'][number]).index;
  const site = (e: Expr) => toSite(an, inputs, idx === p.index ? e : an.renameIndices(e, { [idx]: p.index }), p, p.index, num(0));
  if (init.init.kind === 'value') return { kind: 'value', value: site(init.init.value) };
  const d = init.init.dist;
  const dist: Dist = distDef(d).pointwise ? mapDist(d, site) : d;
  return { kind: 'dist', dist };
}

/** The expressions of a state's declared initial condition (its value, or the arguments of its law). */
export function initExprs(m: Model, state: string): Expr[] {
  const init = m.inits.find((i) => i.state === state);
  if (!init) return [];
  if (init.init.kind === 'value') return [init.init.value];
  return Object.values(init.init.dist).filter((a): a is Expr => typeof a === 'object');
}

/** The names of the variables of q a single-site function refers to. */
export function varNames(q: PopInfo, f: Expr): string[] {
  const out = new Set<string>();
  some(f, (x) => { if (x.k === 'ref' && x.idx.length === 0 && q.vars.some((v) => v.name === x.name)) out.add(x.name); return false; });
  return [...out];
}

/** The name of the correlation of two single-site functions and whether its
 *  times are exchanged: C[f] when they are equal, else C[f,g] with f, g in
 *  canonical order, so that ⟨f(t) g(s)⟩ = C[f,g](t,s) or C[g,f](s,t) (the
 *  same name whatever the order of the pair; both routes name it so). */
export function correlationName(f: Expr, g: Expr): { name: string; f: Expr; g?: Expr; swapped: boolean } {
  const kf = ckey(canon(atTime(f, sym('t')))), kg = ckey(canon(atTime(g, sym('t'))));
  if (kf === kg) return { name: `C[${fName(f)}]`, f, swapped: false };
  const swapped = kg < kf;
  const [a, b] = swapped ? [g, f] : [f, g];
  return { name: `C[${fName(a)},${fName(b)}]`, f: a, g: b, swapped };
}

/** A distribution as written in the language. */
export const distText = (d: RandomDecl['dist']): string => writeDist(d, print);

/** The part of a RuleEnv (registry.ts) that reads the model, shared by both
 *  routes; each route adds how it allocates order parameters (and the
 *  path-integral notation). */
export function modelEnv(an: ModelAnalysis, inputs: SiteInputs): Pick<RuleEnv, 'couplingOf' | 'sizeOf' | 'isSize' | 'limit' | 'moments' | 'site' | 'local'> {
  return {
    couplingOf: (e) => (an.isCoupling(e) ? an.randoms.get(e.name) : undefined),
    sizeOf: (index) => an.setOf(index),
    isSize: (name) => an.fam.isSize(name),
    limit: (e) => an.limitOf(e, 'a coefficient', e),
    moments: (A) => an.moments(A),
    site: (e, index, tau) => {
      const q = an.popOfSet(an.setOf(index));
      if (!q) throw new Error(`@site: the index ${index} has no population`);
      return toSite(an, inputs, e, q, index, tau);
    },
    local: (name) => {
      const r = an.randoms.get(name);
      return r && r.indices.length === 1 && !r.timeDependent ? ref(name) : ref(name, [], sym('t'));
    },
  };
}

/** The trace stage (and `where`) of a variable's equation: d/dt x, x(t+1) for a map, or r for a let. */
export const varWhere = (v: VarInfo): string => (v.kind === 'dynamic' ? stateWhere(v.name, !!v.step) : v.name);

/** The trace stage of a state's equation: d/dt x, or x(t+1) for a map. */
export const stateWhere = (name: string, map: boolean): string => (map ? `${name}(t+1)` : `d/dt ${name}`);

/** The closure of an order parameter, by the rule <route>.closure.*: its
 *  defining single-site average (both routes). Its parent is the step that
 *  introduced the order parameter: `parent`, else the first step whose
 *  output contains it. */
export function closureStep(trace: Trace, route: 'cavity' | 'msr', o: OrderParam, env: RuleEnv, parent?: string): void {
  const id = o.kind === 'C' ? `${route}.closure.correlation` : o.kind === 'M' ? `${route}.closure.mean` : `${route}.closure.response`;
  const t = sym('t'), s = sym('s');
  const before = o.kind === 'M' ? op(o.name, t) : op(o.name, t, s);
  const bind: Record<string, Expr | string> = { _P: o.pop, _f_t: atTime(o.f, t), _f_s: atTime(o.g ?? o.f, s) };
  if (o.kind === 'R') bind._eta = o.slot!;
  parent ??= trace.steps.find((x) => some(x.after, (y) => y.k === 'op' && y.name === o.name))?.id;
  applyOrThrow(id, before, { trace, env, where: `closure ${o.name}`, stage: 'closure', parent, bind, display: { before, after: o.def } });
}

/** A coupling's law as the derivation reads it: J ~ normal(0, 1), or, for an
 *  affine coupling, its entries 2*J - 1 with J ~ bernoulli(1/2). */
export function affineText(A: RandomDecl): string {
  const law = `${A.name} ~ ${distText(A.dist)}`;
  if (!A.affine) return law;
  return `the coupling ${show(add(A.affine.a, mul(A.affine.b, ref(A.name, A.indices))))} with ${law} (mean ${show(randomMoments(A)!.mean)}, variance ${show(randomMoments(A)!.var)})`;
}
