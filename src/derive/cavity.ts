// The cavity route: Model IR → DmftSystem, by the general cavity rule of
// ../shared/physics.md applied to every coupling sum, with no per-model code.
//
//   Σ_k A_ik f(y_k)  →  K·m·M_f(t) + η(t) + Σ_slots c_eff·K·v ∫₀ᵗ R_{f←slot}(t,s) g(x(s)) ds
//
// A "slot" is a coupling sum in the summed population's own equation that
// carries the entry A_ik (reuse of the same matrix the other way round,
// c_eff = 1) or its transpose partner A_ki (square matrix correlated with its
// transpose, c_eff = corr). Its Gaussian field marks where a perturbation
// enters, so R is the response to that field.
import { DmftError } from '../errors.ts';
import {
  add, avg, call, children, freeIndices, integral, mapPost, mul, num, op, ref, some, sym, withChildren,
  type Expr,
} from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import type { Model, RandomDecl } from '../model/ir.ts';
import { leading, SizeFamilies } from '../model/scaling.ts';
import { Trace } from '../rewrite/trace.ts';
import { tidy } from './tidy.ts';
import type { Derivation, DmftSystem, GaussianField, LocalInput, ObservableDef, OrderParam, Population } from './system.ts';

const T = sym('t');
const S = sym('s');

/** A population of the model: the sites of one index set and their variable. */
interface PopInfo {
  set: string;
  index: string;
  variable: string;
  kind: 'dynamic' | 'algebraic';
  /** the model-level right-hand side, written for site `index` */
  rhs: Expr;
  decl: Model['states'][number] | Model['lets'][number];
}

/** A dense coupling sum Σ_k A_ik f(y_k) found in a population's equation. */
interface CouplingSum {
  pop: PopInfo;
  node: Extract<Expr, { k: 'sum' }>;
  A: RandomDecl;
  /** slot of A holding the site index, and the summed index */
  siteSlot: number;
  sumSlot: number;
  /** the summed population */
  sumPop: PopInfo;
  /** factors not carrying the summed index (pulled out of the sum) */
  outside: Expr[];
  /** the summand without the coupling, model level (carries the summed index) */
  f: Expr;
  field: string;
}

function fail(m: Model, node: Expr | undefined, message: string, hint: string): never {
  throw new DmftError({ file: m.file, line: node?.span?.line, col: node?.span?.col, len: node?.span?.len, message, hint });
}

export function deriveCavity(m: Model): Derivation {
  return new CavityDerivation(m).run();
}

class CavityDerivation {
  private trace = new Trace();
  private fam: SizeFamilies;
  private pops: PopInfo[] = [];
  private sums: CouplingSum[] = [];
  private orderParams = new Map<string, OrderParam>();
  private inputs = new Map<string, LocalInput[]>();
  private randoms: Map<string, RandomDecl>;

  constructor(private m: Model) {
    this.fam = new SizeFamilies(m);
    this.randoms = new Map(m.randoms.map((r) => [r.name, r]));
  }

  run(): Derivation {
    this.refuseUnsupported();
    this.collectPopulations();
    for (const p of this.pops) this.collectSums(p);
    this.nameFields();
    const populations = this.pops.map((p) => this.singleSite(p));
    const observables = this.m.observables.map((o) => this.observable(o));
    const system: DmftSystem = {
      model: this.m.name,
      params: Object.fromEntries(this.m.params.map((p) => [p.name, p.value])),
      populations,
      orderParams: [...this.orderParams.values()],
      observables,
    };
    this.closure(system);
    return { route: 'cavity', system: dropSpans(system), steps: dropSpans(this.trace.steps) };
  }

  // ---- what the engine cannot derive (yet) ------------------------------
  private refuseUnsupported(): void {
    const m = this.m;
    for (const d of m.dynamics) {
      if (d.kind === 'map') fail(m, d.rhs, `discrete-time dynamics (${d.state}[${d.index}](t+1) = …) are not supported yet by derive`, 'write continuous-time dynamics d/dt; discrete-time DMFT is planned');
    }
    for (const r of m.randoms) {
      if (r.timeDependent) fail(m, { k: 'sym', name: r.name, span: r.span }, `fresh randomness per step (${r.name}[…](t)) is not supported yet by derive`, 'SGD-style minibatch noise needs the discrete-time rule family, which is planned');
      if (r.indices.length > 2) fail(m, { k: 'sym', name: r.name, span: r.span }, `tensor couplings (${r.name} has ${r.indices.length} indices) are not supported yet by derive`, 'p-spin couplings need the tensor rule family (cavity.field.tensor), which is planned');
      if (r.indices.length === 2 && r.dist.kind !== 'normal') {
        fail(m, { k: 'sym', name: r.name, span: r.span }, `coupling ${r.name} is ${r.dist.kind}, not Gaussian`, 'the cavity rules (cavity.field.dense) assume Gaussian couplings; declare normal(mean, var)');
      }
    }
    for (const c of m.constraints) fail(m, c.lhs, `constraints (… via ${c.multiplier}) are not supported yet by derive`, 'spherical constraints need the Lagrange-multiplier rule family, which is planned');
  }

  private collectPopulations(): void {
    const m = this.m;
    for (const s of m.states) {
      const d = m.dynamics.find((x) => x.state === s.name)!;
      // write the equation for the state's declared index
      const rhs = d.index === s.index ? d.rhs : renameFree(d.rhs, d.index, s.index);
      this.pops.push({ set: s.set, index: s.index, variable: s.name, kind: 'dynamic', rhs, decl: s });
    }
    for (const l of m.lets) this.pops.push({ set: l.set, index: l.index, variable: l.name, kind: 'algebraic', rhs: l.expr, decl: l });
    const seen = new Map<string, PopInfo>();
    for (const p of this.pops) {
      const q = seen.get(p.set);
      if (q) fail(m, p.decl.span ? { k: 'sym', name: p.variable, span: p.decl.span } : undefined, `'${q.variable}' and '${p.variable}' both live on ${p.set}: several variables per site are not supported yet by derive`, 'a population with a vector of variables needs matrix-valued order parameters, which are planned');
      seen.set(p.set, p);
    }
    for (const p of this.pops) this.inputs.set(p.set, []);
  }

  private popOfSet(set: string): PopInfo | undefined {
    return this.pops.find((p) => p.set === set);
  }

  private isCoupling(e: Expr): e is Extract<Expr, { k: 'ref' }> {
    return e.k === 'ref' && e.idx.length >= 2 && this.randoms.has(e.name);
  }

  /** Find the coupling sums of a population's equation. */
  private collectSums(p: PopInfo): void {
    const m = this.m;
    const walk = (e: Expr): void => {
      if (e.k === 'sum' && some(e.body, (x) => this.isCoupling(x))) {
        this.sums.push(this.couplingSum(p, e));
        return;
      }
      if (this.isCoupling(e)) fail(m, e, `the coupling '${print(e)}' appears outside a sum over one of its indices`, 'a dense coupling enters as sum(j, J[i,j]*f(x[j]))');
      for (const c of children(e)) walk(c);
    };
    walk(p.rhs);
  }

  private couplingSum(p: PopInfo, e: Extract<Expr, { k: 'sum' }>): CouplingSum {
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
    return { pop: p, node: e, A, siteSlot, sumSlot, sumPop, outside, f, field: '' };
  }

  private nameFields(): void {
    const taken = new Set<string>([
      ...this.m.params.map((x) => x.name), ...this.m.randoms.map((x) => x.name), ...this.m.noises.map((x) => x.name),
      ...this.m.states.map((x) => x.name), ...this.m.lets.map((x) => x.name),
    ]);
    const fresh = (base: string) => { let n = base; let k = 2; while (taken.has(n)) n = `${base}_${k++}`; taken.add(n); return n; };
    if (this.sums.length === 1) this.sums[0].field = fresh('eta');
    else this.sums.forEach((s, n) => { s.field = fresh(`eta_${n + 1}`); });
  }

  // ---- order parameters ---------------------------------------------------
  private orderParam(kind: OrderParam['kind'], pop: PopInfo, f: Expr, slot?: string): string {
    const fname = print(mapPost(f, (x) => (x.k === 'ref' && x.at ? ref(x.name, x.idx) : x)));
    const name = kind === 'R' ? `R[${fname}|${slot}]` : `${kind}[${fname}]`;
    if (!this.orderParams.has(name)) {
      const ft = atTime(f, T), fs = atTime(f, S);
      const def = kind === 'C' ? avg(pop.set, mul(ft, fs)) : kind === 'M' ? avg(pop.set, ft) : avg(pop.set, call('fder', ft, ref(slot!, [], S)));
      const o: OrderParam = { name, kind, pop: pop.set, f, def };
      if (kind === 'R') { o.slot = slot; if (pop.kind === 'algebraic' && this.sums.some((s) => s.field === slot && s.pop === pop)) o.instantaneous = true; }
      this.orderParams.set(name, o);
    }
    return name;
  }

  /** A model-level expression of population q (index q.index or `idx`) as a
   *  single-site expression at time τ (registering site-local inputs). */
  private site(e: Expr, q: PopInfo, idx: string, tau: Expr): Expr {
    const m = this.m;
    return mapPost(e, (x) => {
      if (x.k !== 'ref') return x;
      if (x.idx.length !== 1 || x.idx[0] !== idx) return x;
      const time = x.at ?? tau;
      if (x.name === q.variable) return ref(x.name, [], time);
      const r = this.randoms.get(x.name);
      if (r) { this.addInput(q, { kind: 'quenched', name: r.name, dist: r.dist }); return ref(x.name); }
      const nz = m.noises.find((n) => n.name === x.name);
      if (nz && nz.dist.kind === 'white') { this.addInput(q, { kind: 'noise', name: nz.name, D: nz.dist.D }); return ref(x.name, [], time); }
      return fail(m, x, `'${print(x)}' cannot be expressed in the single-site process of ${q.variable}`, 'a site quantity of another population must enter through a coupling sum');
    });
  }

  private addInput(q: PopInfo, inp: LocalInput): void {
    const list = this.inputs.get(q.set)!;
    if (!list.some((x) => x.name === inp.name)) list.push(inp);
  }

  private coef(e: Expr, what: string, node: Expr): Expr {
    const l = leading(e, this.fam);
    if (!l || Math.abs(l.p) > 1e-12) fail(this.m, node, `${what} is not O(1) (${print(e)})`, 'see the scaling check of the model language');
    return tidy(l.coef);
  }

  // ---- the single-site process -------------------------------------------
  private singleSite(p: PopInfo): Population {
    const where = `${p.kind === 'dynamic' ? 'd/dt ' : ''}${p.variable}`;
    let rhs = p.rhs;
    const fields: GaussianField[] = [];
    for (const cs of this.sums.filter((s) => s.pop === p)) {
      const before = rhs;
      const { replacement, field } = this.replaceSum(cs, where);
      rhs = replaceNode(rhs, cs.node, replacement);
      fields.push(field);
      void before;
    }
    // remaining site quantities: the variable itself and site-local inputs
    const beforeLocal = rhs;
    const local = this.site(rhs, p, p.index, T);
    if (some(beforeLocal, (x) => x.k === 'ref' && x.name === p.variable)) {
      this.trace.record('cavity.site.single', where, ref(p.variable, [p.index]), ref(p.variable, [], T));
    }
    for (const inp of this.inputs.get(p.set)!) {
      if (some(beforeLocal, (x) => x.k === 'ref' && x.name === inp.name)) {
        this.trace.record('cavity.local.passthrough', where, ref(inp.name, [p.index]), inp.kind === 'noise' ? ref(inp.name, [], T) : ref(inp.name));
      }
    }
    rhs = this.selfAverage(local, where);
    const decl = p.decl as Model['states'][number];
    const pop: Population = {
      name: p.set, index: p.index, variable: p.variable, kind: p.kind, rhs: tidy(rhs), fields,
      inputs: this.inputs.get(p.set)!,
    };
    if (p.kind === 'dynamic') {
      if (decl.lower) pop.lower = decl.lower;
      if (decl.upper) pop.upper = decl.upper;
      const init = this.m.inits.find((i) => i.state === p.variable);
      pop.init = init ? init.init : { kind: 'value', value: num(0) };
    }
    return pop;
  }

  /** mean(j, f) over a population → M_f(t). */
  private selfAverage(e: Expr, where: string): Expr {
    return mapPost(e, (x) => {
      if (x.k !== 'mean') return x;
      const q = this.popOfSet(this.setOf(x.index));
      if (!q) return fail(this.m, x, `mean over '${x.index}' has no population`, 'declare a state or let on that set');
      const f = this.site(x.body, q, x.index, T);
      const name = this.orderParam('M', q, atTime(f, T));
      const after = op(name, T);
      this.trace.record('cavity.mean.self-average', where, x, after);
      return after;
    });
  }

  private setOf(index: string): string {
    return this.m.indexSets.find((s) => s.indices.includes(index))!.size;
  }

  private replaceSum(cs: CouplingSum, where: string): { replacement: Expr; field: GaussianField } {
    const { A, sumPop: q, node } = cs;
    const dist = A.dist as Extract<RandomDecl['dist'], { kind: 'normal' }>;
    const K = sym(q.set);
    const fSite = this.site(cs.f, q, node.index, T);
    const terms: Expr[] = [];
    const bareSum: Expr = { k: 'sum', index: node.index, body: cs.f.k === 'num' && cs.f.v === 1 ? ref(A.name, idxOf(cs)) : mul(ref(A.name, idxOf(cs)), cs.f) };
    if (cs.outside.length) this.trace.record('cavity.sum.factor-out', where, node, mul(...cs.outside, bareSum));

    // mean-field term K·m·M_f(t)
    if (!(dist.mean.k === 'num' && dist.mean.v === 0)) {
      const Km = this.coef(mul(K, dist.mean), `size ${q.set} × mean of ${A.name}`, node);
      if (!(Km.k === 'num' && Km.v === 0)) {
        const M = this.orderParam('M', q, fSite);
        const t = tidy(mul(Km, op(M, T)));
        this.trace.record('cavity.sum.mean-field', where, bareSum, t);
        terms.push(t);
      }
    }
    // Gaussian field η(t), ⟨η(t)η(s)⟩ = K·v·C_f(t,s)
    const Kv = this.coef(mul(K, dist.var), `size ${q.set} × variance of ${A.name}`, node);
    const C = this.orderParam('C', q, fSite);
    const field: GaussianField = {
      name: cs.field, cov: tidy(mul(Kv, op(C, T, S))), coupling: cs.siteSlot === 0 ? A.name : `${A.name}^T`,
      sum: print(node), pop: cs.pop.set,
    };
    const eta = ref(cs.field, [], T);
    this.trace.record('cavity.field.dense', where, bareSum, eta);
    terms.push(eta);

    // reaction terms: slots in the summed population's equation carrying A_ik or A_ki
    for (const slot of this.sums.filter((s) => s.pop === q && s.A === A && s.sumPop === cs.pop)) {
      let ceff: Expr;
      let rule: string;
      if (slot.sumSlot === cs.siteSlot) { ceff = num(1); rule = 'cavity.reaction.reuse'; }
      else if (A.symmetric) { ceff = num(1); rule = 'cavity.reaction.transpose'; }
      else if (A.transposeCorr) { ceff = A.transposeCorr; rule = 'cavity.reaction.transpose'; }
      else continue; // independent A_ik, A_ki: no reaction
      if (ceff.k === 'num' && ceff.v === 0) continue;
      const R = this.orderParam('R', q, fSite, slot.field);
      const sv = 's';
      const g = this.site(slot.f, cs.pop, slot.node.index, S);
      const integrand = mul(op(R, T, sym(sv)), g);
      const t = tidy(mul(ceff, Kv, integral(sv, num(0), T, integrand)));
      this.trace.record(rule, where, bareSum, t);
      terms.push(t);
    }
    const total = terms.length === 1 ? terms[0] : add(...terms);
    const replacement = cs.outside.length ? mul(...cs.outside, total) : total;
    return { replacement, field };
  }

  // ---- closure and observables ---------------------------------------------
  private closure(sys: DmftSystem): void {
    for (const o of sys.orderParams) {
      const id = o.kind === 'C' ? 'cavity.closure.correlation' : o.kind === 'M' ? 'cavity.closure.mean' : 'cavity.closure.response';
      this.trace.record(id, `closure ${o.name}`, o.kind === 'M' ? op(o.name, T) : op(o.name, T, S), o.def);
    }
  }

  private observable(o: Model['observables'][number]): ObservableDef {
    const where = `observe ${o.name}`;
    const times = o.times.length ? o.times : ['t'];
    const expr = mapPost(o.expr, (x) => {
      if (x.k === 'sum') return fail(this.m, x, `sums in observables are not supported by derive ('${print(x)}')`, 'observe averages over sites with mean(i, …)');
      if (x.k !== 'mean') return x;
      const q = this.popOfSet(this.setOf(x.index))!;
      const body = this.site(x.body, q, x.index, sym(times[0]));
      const after = avg(q.set, body);
      this.trace.record('cavity.observable.average', where, x, after);
      return after;
    });
    if (some(expr, (x) => x.k === 'ref' && x.idx.length > 0)) fail(this.m, o.expr, `observable ${o.name} has site quantities outside mean(…)`, 'observables are functions of site averages: mean(i, …)');
    return { name: o.name, times: o.times, expr: tidy(expr) };
  }
}

function idxOf(cs: CouplingSum): string[] {
  const idx = ['', ''];
  idx[cs.siteSlot] = cs.pop.index;
  idx[cs.sumSlot] = cs.node.index;
  return idx;
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
function replaceNode(e: Expr, target: Expr, by: Expr): Expr {
  if (e === target) return by;
  const c = children(e);
  if (!c.length) return e;
  let changed = false;
  const nc = c.map((x) => { const y = replaceNode(x, target, by); if (y !== x) changed = true; return y; });
  return changed ? withChildren(e, nc) : e;
}

/** Rename a free index in a model-level expression. */
function renameFree(e: Expr, from: string, to: string): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.idx.includes(from) ? { ...x, idx: x.idx.map((i) => (i === from ? to : i)) } : x));
}

