// The cavity route: Model IR → DmftSystem, by the general cavity rule of
// docs/conventions.md applied to every coupling sum, with no per-model code.
//
//   Σ_k A_ik f(y_k)  →  K·m·M_f(t) + η(t) + Σ_slots c_eff·K·v ∫₀ᵗ R_{f←slot}(t,s) g(x(s)) ds
//
// A "slot" is a coupling sum in the summed population's own equations that
// carries the entry A_ik (reuse of the same matrix the other way round,
// c_eff = 1) or its transpose partner A_ki (square matrix correlated with its
// transpose, c_eff = corr). Its Gaussian field marks where a perturbation
// enters, so R is the response to that field (a cross-response when the slot
// is in the equation of another variable of the site than those of f).
//
// A population's sites may carry several variables; each coupling sum is one
// use of its matrix, and the fields of two uses of one matrix in one
// population are correlated (same orientation: K·v·C[f,f'], opposite:
// c·K·v·C[f,g]): the population's fields form a Gaussian vector.
import {
  add, avg, call, integral, mapPost, mul, num, op, pow, ref, some, sym,
  type Expr,
} from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import { DmftError } from '../errors.ts';
import { noStatesReason, type Model } from '../model/ir.ts';
import { canon, ckey } from '../expr/canon.ts';
import { applyOrThrow, type RewriteOptions } from '../rewrite/engine.ts';
import { Trace } from '../rewrite/trace.ts';
import { renameTimeParams } from './time-names.ts';
import { toStepGrid } from './discrete.ts';
import {
  atTime, closureStep, correlationName, distText, dropSpans, fail, idxOf, ModelAnalysis, modelEnv, population, replaceNode, SiteInputs, toSite,
  initExprs, varNames, varWhere, type CouplingSum, type PopInfo,
} from './couplings.ts';
import type { RuleEnv } from './registry.ts';
import { isZeroExpr as isZero } from '../model/moments.ts';
import { show } from '../model/scaling.ts';
import { tidy } from '../expr/tidy.ts';
import type { CrossCovariance, Derivation, DmftSystem, GaussianField, ObservableDef, OrderParam, Population } from './system.ts';

export { atTime, dropSpans } from './couplings.ts';

const T = sym('t');
const isOne = (e: Expr) => e.k === 'num' && e.v === 1;
const S = sym('s');

export function deriveCavity(model: Model): Derivation {
  const stateless = noStatesReason(model);
  if (stateless) throw new DmftError({ file: model.file, message: stateless, hint: 'derive, solve, simulate and check need dynamics (a state with d/dt or (t+1))' });
  // a parameter named like a time (t, s) is renamed first (time-names.ts)
  const { model: m, notes } = renameTimeParams(model);
  const d = new CavityDerivation(m).run();
  return notes.length ? { ...d, notes: [...notes, ...d.notes] } : d;
}

class CavityDerivation {
  private trace = new Trace();
  private an!: ModelAnalysis;
  private pops: PopInfo[] = [];
  private sums: CouplingSum[] = [];
  private orderParams = new Map<string, OrderParam>();
  private inputs!: SiteInputs;
  /** what the rules' builders and predicates read (src/derive/registry.ts) */
  env!: RuleEnv;
  /** coupling sum node → the step that produced it (folded its prefactor, or split it off a sum of couplings) */
  private limitStep: (node: Expr) => string | undefined = () => undefined;
  /** correlation order parameter → the step of the field whose covariance it is */
  private fieldStep = new Map<string, string>();
  /** use (coupling sum) → the step that replaced it by its Gaussian field */
  private fieldOf = new Map<CouplingSum, string>();

  constructor(private m: Model) {}

  /** Read the model (populations, coupling sums, field names — shared with the msr route). */
  prepare(): this {
    this.an = new ModelAnalysis(this.m);
    this.pops = this.an.pops;
    this.sums = this.an.sums;
    this.inputs = new SiteInputs(this.pops);
    this.env = {
      ...modelEnv(this.an, this.inputs),
      orderParam: (kind, index, f, slot) => {
        const q = this.popOfSet(this.setOf(index));
        if (!q) throw new Error(`@orderParam: the index ${index} has no population`);
        return this.orderParam(kind, q, atTime(this.site(f, q, index, T), T), slot);
      },
      correlation: (index, f, g) => {
        const q = this.popOfSet(this.setOf(index));
        if (!q) throw new Error(`@orderParam: the index ${index} has no population`);
        return this.correlation(q, atTime(this.site(f, q, index, T), T), atTime(this.site(g, q, index, T), T));
      },
      at: () => { throw new Error('@at is notation of the path-integral route'); },
      isConjugate: () => false,
      reduceI: (e) => e,
    };
    return this;
  }

  /** The stage of the trace an equation's steps hang from. */
  private stageOf = (where: string): string => {
    const v = this.pops.flatMap((p) => p.vars).find((x) => where === varWhere(x) || where === `let ${x.name}`);
    return v ? varWhere(v) : where;
  };

  private opts(where: string, stage: string, more: RewriteOptions = {}): RewriteOptions {
    return { trace: this.trace, env: this.env, where, stage, ...more };
  }

  run(): Derivation {
    this.prepare();
    this.limitStep = this.an.recordLimit(this.trace, 'cavity', this.env, this.stageOf);
    const populations = this.pops.map((p) => this.singleSite(p));
    const observables = this.an.observables.map((o) => this.observable(o));
    const system: DmftSystem = {
      model: this.m.name,
      params: Object.fromEntries(this.m.params.map((p) => [p.name, p.value])),
      populations,
      orderParams: [...this.orderParams.values()],
      observables,
    };
    this.closure(system);
    const out = this.an.discrete ? toStepGrid(system, this.trace, this.env, (name) => varWhere(this.an.varByName(name))) : system;
    return { route: 'cavity', system: dropSpans(out), steps: dropSpans(this.trace.steps), notes: [...this.an.notes] };
  }

  private popOfSet(set: string): PopInfo | undefined {
    return this.an.popOfSet(set);
  }

  // ---- order parameters ---------------------------------------------------
  private orderParam(kind: OrderParam['kind'], pop: PopInfo, f: Expr, slot?: string): string {
    // allocated once: an order parameter of an equal function (in canonical form) is the same one
    const fk = ckey(canon(atTime(f, T)));
    for (const o of this.orderParams.values()) {
      if (o.kind === kind && !o.g && o.pop === pop.set && o.slot === slot && ckey(canon(atTime(o.f, T))) === fk) return o.name;
    }
    const fname = print(mapPost(f, (x) => (x.k === 'ref' && x.at ? ref(x.name, x.idx) : x)));
    const name = kind === 'R' ? `R[${fname}|${slot}]` : `${kind}[${fname}]`;
    if (!this.orderParams.has(name)) {
      const ft = atTime(f, T), fs = atTime(f, S);
      const def = kind === 'C' ? avg(pop.set, mul(ft, fs)) : kind === 'M' ? avg(pop.set, ft) : avg(pop.set, call('fder', ft, ref(slot!, [], S)));
      const o: OrderParam = { name, kind, pop: pop.set, f, def };
      if (kind === 'R') {
        o.slot = slot;
        const use = this.an.useOf(slot!);
        if (use && this.an.respondsInstantly(pop, varNames(pop, f), use)) o.instantaneous = true;
      }
      this.orderParams.set(name, o);
    }
    return name;
  }

  /** The correlation ⟨f(t) g(s)⟩ of two functions of population q: C[f] when
   *  they are equal, else the cross-correlation C[f,g] (allocated once, named
   *  in canonical order: `swapped` when it is C[g,f](s,t)). */
  private correlation(pop: PopInfo, f: Expr, g: Expr): { name: string; swapped: boolean } {
    const c = correlationName(f, g);
    if (!c.g) return { name: this.orderParam('C', pop, f), swapped: false };
    if (!this.orderParams.has(c.name)) {
      this.orderParams.set(c.name, { name: c.name, kind: 'C', pop: pop.set, f: c.f, g: c.g, def: avg(pop.set, mul(atTime(c.f, T), atTime(c.g, S))) });
    }
    return { name: c.name, swapped: c.swapped };
  }

  /** A model-level expression of population q (index q.index or `idx`) as a
   *  single-site expression at time τ (registering site-local inputs). */
  private site(e: Expr, q: PopInfo, idx: string, tau: Expr): Expr {
    return toSite(this.an, this.inputs, e, q, idx, tau);
  }

  private coef(e: Expr, what: string, node: Expr): Expr {
    return this.an.limitOf(e, what, node);
  }

  // ---- the single-site process -------------------------------------------
  private singleSite(p: PopInfo): Population {
    const rhss: Expr[] = [];
    const fields: GaussianField[] = [];
    for (const v of p.vars) {
      const where = varWhere(v);
      let rhs = v.rhs;
      for (const cs of this.sums.filter((s) => s.var === v)) {
        const { replacement, field } = this.replaceSum(cs, where);
        rhs = replaceNode(rhs, cs.node, replacement);
        if (field) fields.push(field);
      }
      // remaining site quantities: the variables themselves and site-local inputs
      const beforeLocal = rhs;
      const local = this.site(rhs, p, p.index, T);
      for (const u of p.vars) {
        if (some(beforeLocal, (x) => x.k === 'ref' && x.name === u.name)) {
          applyOrThrow('cavity.site.single', ref(u.name, [p.index]), this.opts(where, where));
        }
      }
      for (const inp of this.inputs.of(p.set)) {
        if (some(beforeLocal, (x) => x.k === 'ref' && x.name === inp.name)) {
          applyOrThrow('cavity.local.passthrough', ref(inp.name, [p.index]), this.opts(where, where));
        }
      }
      rhss.push(tidy(this.selfAverage(local, where)));
    }
    // site-local inputs met only in an initial condition (a warm start w(0) = w* + …)
    const before = new Set(this.inputs.of(p.set).map((i) => i.name));
    const pop = population(this.an, this.inputs, p, rhss, fields, this.crossCovariances(p));
    for (const inp of pop.inputs.filter((i) => !before.has(i.name))) {
      const v = p.vars.find((x) => initExprs(this.m, x.name).some((e) => some(e, (y) => y.k === 'ref' && y.name === inp.name)))!;
      applyOrThrow('cavity.local.passthrough', ref(inp.name, [p.index]), this.opts(`init ${v.name}`, varWhere(v)));
    }
    return pop;
  }

  /** The covariances between the fields of two uses of one matrix in this
   *  population's equations (docs/conventions.md, "Several uses of one
   *  matrix"): ⟨η_a(t) η_b(s)⟩ = K·v·c_a·c_b·C[f_a,f_b](t,s) for the same
   *  orientation, c·K·v·c_a·c_b·C[f_a,f_b](t,s) for opposite ones. */
  private crossCovariances(p: PopInfo): CrossCovariance[] {
    const out: CrossCovariance[] = [];
    const uses = this.sums.filter((s) => s.pop === p && this.fieldOf.has(s));
    for (let x = 0; x < uses.length; x++) for (let y = x + 1; y < uses.length; y++) {
      // a before b by field name
      const [u, w] = uses[x].field < uses[y].field ? [uses[x], uses[y]] : [uses[y], uses[x]];
      const corr = this.an.fieldCorrelation(u, w);
      if (!corr) continue;
      const { A, sumPop: q, node } = u;
      const K = sym(q.set);
      const coef = this.coef(mul(K, this.an.moments(A).var, u.scale, w.scale), `size ${q.set} × variance of ${A.name} × prefactors`, node);
      if (isZero(coef)) continue;
      const fu = this.site(u.f, q, node.index, T);
      const gw = this.an.renameIndices(w.f, { [w.node.index]: node.index });
      const c = this.correlation(q, fu, this.site(gw, q, node.index, T));
      const cov = tidy(mul(...(corr.orientation === 'opposite' ? [corr.coef] : []), coef, c.swapped ? op(c.name, S, T) : op(c.name, T, S)));
      const before = avg(p.set, mul(ref(u.field, [], T), ref(w.field, [], S)));
      const rule = corr.orientation === 'same' ? 'cavity.field.cross-covariance' : 'cavity.field.transpose-covariance';
      applyOrThrow(rule, before, this.opts(`${varWhere(u.var)}: fields ${u.field}, ${w.field}`, varWhere(u.var), {
        parent: this.fieldOf.get(u), bind: { _A: ref(A.name, idxOf(u)), _k: node.index, _c1: u.scale, _c2: w.scale, _f1: u.f, _f2: gw }, display: { before, after: cov },
      }));
      if (!this.fieldStep.has(c.name)) this.fieldStep.set(c.name, this.trace.last.id);
      out.push({ a: u.field, b: w.field, cov });
    }
    return out;
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
      applyOrThrow('cavity.mean.self-average', x, this.opts(where, where, { display: { before: x, after } }));
      return after;
    });
  }

  private setOf(index: string): string {
    return this.an.setOf(index);
  }

  /** One use of a matrix, Σ_k A_ik f(y_k): the rules of the cavity method
   *  give its terms (mean field, Gaussian field, one reaction per slot). The
   *  pass decides which apply (the mean or the variance may vanish; which
   *  sums are the slots) and applies them through the engine. */
  private replaceSum(cs: CouplingSum, where: string): { replacement: Expr; field?: GaussianField } {
    const { A, sumPop: q, node, scale } = cs;
    const mo = this.an.moments(A);
    const K = sym(q.set);
    const fSite = this.site(cs.f, q, node.index, T);
    const terms: Expr[] = [];
    const bareSum: Expr = { k: 'sum', index: node.index, body: cs.f.k === 'num' && cs.f.v === 1 ? ref(A.name, idxOf(cs)) : mul(ref(A.name, idxOf(cs)), cs.f) };
    // the steps of this sum hang from the one that folded its prefactor (else from the equation)
    let parent = this.limitStep(node);
    if (cs.outside.length) {
      // factors that do not carry the summed index come out, one per step
      let cur: Expr = node;
      for (let n = 0; n < cs.outside.length; n++) {
        const out = applyOrThrow('cavity.sum.factor-out', cur, this.opts(where, where, { parent, display: n === 0 ? { before: node } : undefined }));
        parent = this.trace.last.id;
        const inner = out.k === 'mul' ? out.factors.find((f) => f.k === 'sum') : undefined;
        if (!inner) throw new Error(`internal: cavity.sum.factor-out gave ${print(out)}`);
        cur = inner;
      }
      if (ckey(canon(cur)) !== ckey(canon(bareSum))) throw new Error(`internal: factoring out ${print(node)} left ${print(cur)}`);
    }
    const use = (more: RewriteOptions) => this.opts(where, where, { parent, ...more });
    if (A.dist.kind !== 'normal') {
      applyOrThrow('cavity.field.universal', bareSum, use({ where: `${where}: ${A.name} ~ ${distText(A.dist)}, mean ${show(mo.mean)}, variance ${show(mo.var)}`, display: { before: bareSum, after: bareSum } }));
    }
    // with a prefactor c the coupling is c·A: mean c·m, variance c²·v
    const scaled = isOne(scale) ? [] : [scale];
    const scaled2 = isOne(scale) ? [] : [pow(scale, num(2))];

    // mean-field term K·c·m·M_f(t)
    if (!isZero(mo.mean)) {
      const Km = this.coef(mul(K, ...scaled, mo.mean), `size ${q.set} × mean of ${A.name}`, node);
      if (!isZero(Km)) {
        const M = this.orderParam('M', q, fSite);
        const t = tidy(mul(Km, op(M, T)));
        applyOrThrow('cavity.sum.mean-field', bareSum, use({ bind: { _c: scale }, display: { before: bareSum, after: t } }));
        terms.push(t);
      }
    }
    // Gaussian field η(t), ⟨η(t)η(s)⟩ = K·c²·v·C_f(t,s); none when it vanishes
    const Kv = this.coef(mul(K, ...scaled2, mo.var), `size ${q.set} × variance of ${A.name}`, node);
    let field: GaussianField | undefined;
    if (!isZero(Kv)) {
      const C = this.orderParam('C', q, fSite);
      field = {
        name: cs.field, cov: tidy(mul(Kv, op(C, T, S))), coupling: cs.siteSlot === 0 ? A.name : `${A.name}^T`,
        sum: print(node), pop: cs.pop.set, variable: cs.var.name,
      };
      const eta = ref(cs.field, [], T);
      applyOrThrow('cavity.field.dense', bareSum, use({ bind: { _eta: cs.field }, display: { before: bareSum, after: eta } }));
      if (!this.fieldStep.has(C)) this.fieldStep.set(C, this.trace.last.id);
      this.fieldOf.set(cs, this.trace.last.id);
      terms.push(eta);

      // reaction terms, one per slot: the uses in the summed population's equations carrying A_ik or A_ki
      for (const { w: slot, rule, coef: ceff } of this.an.slotsOf(cs)) {
        // the two sums scale their couplings by c and c_slot: K·v·c·c_slot
        const pair = isOne(scale) && isOne(slot.scale) ? Kv : this.coef(mul(K, mo.var, scale, slot.scale), `size ${q.set} × variance of ${A.name} × prefactors`, node);
        if (isZero(pair)) continue;
        if (!this.an.responds(q, varNames(q, fSite), slot)) {
          // f does not depend on the variable whose equation holds the slot: R_{f←slot} ≡ 0
          applyOrThrow('cavity.reaction.unresponsive', bareSum, use({ where: `${where}: slot ${slot.field}`, bind: { _slot: slot.field }, display: { before: bareSum, after: num(0) } }));
          continue;
        }
        const R = this.orderParam('R', q, fSite, slot.field);
        const sv = 's';
        const g = this.site(slot.f, cs.pop, slot.node.index, S);
        const integrand = mul(op(R, T, sym(sv)), g);
        const t = tidy(mul(ceff, pair, integral(sv, num(0), T, integrand)));
        applyOrThrow(rule, bareSum, use({ bind: { _c: scale, _c2: slot.scale, _slot: slot.field, _g: slot.f, _l: slot.node.index }, display: { before: bareSum, after: t } }));
        terms.push(t);
      }
    }
    const total = terms.length === 0 ? num(0) : terms.length === 1 ? terms[0] : add(...terms);
    const replacement = cs.outside.length ? mul(...cs.outside, total) : total;
    return { replacement, field };
  }

  // ---- closure and observables ---------------------------------------------
  private closure(sys: DmftSystem): void {
    for (const o of sys.orderParams) closureStep(this.trace, 'cavity', o, this.env, this.fieldStep.get(o.name));
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
      applyOrThrow('cavity.observable.average', x, this.opts(where, where, { bind: { _P: q.set, _t: times[0] }, display: { before: x, after } }));
      return after;
    });
    if (some(expr, (x) => x.k === 'ref' && x.idx.length > 0)) fail(this.m, o.expr, `observable ${o.name} has site quantities outside mean(…)`, 'observables are functions of site averages: mean(i, …)');
    return { name: o.name, times: o.times, expr: tidy(expr) };
  }
}

/** A cavity derivation's rule environment for a model (for tests of rules). */
export function cavityEnv(m: Model): RuleEnv {
  return new CavityDerivation(m).prepare().env;
}
