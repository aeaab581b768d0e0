// Stage 4 of the path-integral route: the saddle point δS = 0 and the
// single-site measure read off as a stochastic process.
//
// For a pairing c N_a N_b ∫∫ Q_U Q_V, δS/δQ̂ = 0 sets Q_U = ⟨U⟩ and
// δS/δQ = 0 sets Q̂_U = i c N_b Q_V, so the single-site action of the
// population of a gains c N_b ⟨V⟩ U (and that of b gains c N_a ⟨U⟩ V)
// (msr.saddle.decouple / conjugate). The averages are evaluated by the MSRJD
// identities: ⟨λ⟩ = 0 (normalization), ⟨λλ'⟩ = 0 (causality),
// ⟨f(t) λ_slot(s)⟩ = i R[f|slot](t,s) (the mixed correlator is the response),
// ⟨f(t) f(s)⟩ = C[f], ⟨f(t)⟩ = M[f]. The single-site action is then
//   S_eff = S⁰ − i Σ_sums ∫ λ(t) Ψ(t) − ½ Σ_sums ∫∫ λ(t) λ(s) Σ(t,s),
// whose linear terms give the deterministic part Ψ of each coupling sum
// (mean field K m M_f and reaction c K v ∫₀ᵗ R g) and whose quadratic terms
// give a Gaussian field η with covariance Σ = K v C_f (Hubbard–Stratonovich
// read backwards, msr.site.field). Reading exp(S_eff) as a δ-functional gives
// the single-site process (msr.site.process): the coupling sum is replaced by
// Ψ + η where it stood in the equation.
import { add, avg, call, integral, mapPost, mul, num, op, ref, some, sym, type Expr } from '../../expr/ast.ts';
import { canon, ckey } from '../../expr/canon.ts';
import { print } from '../../expr/print.ts';
import type { Model } from '../../model/ir.ts';
import { applyOrThrow, applyRule, type RewriteOptions } from '../../rewrite/engine.ts';
import { atTime, closureStep, fail, fName, population, toSite, type PopInfo } from '../couplings.ts';
import type { GaussianField, ObservableDef, OrderParam, Population } from '../system.ts';
import { tidy } from '../tidy.ts';
import type { Bilinear, Pairing } from './disorder.ts';
import { hasI, I, intT, prod, S, simplifyI, T, total, type SiteFn } from './notation.ts';
import { bareSiteAction, hatName, orderParam, single, singleBil } from './order.ts';
import type { MsrState, PopMsr, Source } from './state.ts';

/** A saddle-point value ⟨u⟩ of a site bilinear. */
type Value =
  | { zero: true; rule: string }
  | { zero: false; rule: string; kind: 'C' | 'M' | 'R'; factor: Expr; f: SiteFn; slot?: Source; args: Expr[] };

/** A term of a single-site action: coef · value · (site bilinear). */
interface SiteTerm { coef: Expr; val: Extract<Value, { zero: false }>; fns: Bilinear; from: Pairing }

export interface SaddleOutput {
  populations: Population[];
  orderParams: OrderParam[];
  observables: ObservableDef[];
}

export function saddlePoint(st: MsrState, pairings: Pairing[], substituted = new Map<Pairing, string>()): SaddleOutput {
  return new Saddle(st, pairings, substituted).run();
}

class Saddle {
  private orderParams = new Map<string, OrderParam>();
  private recordedAvg = new Set<string>();
  private terms = new Map<PopInfo, SiteTerm[]>();

  constructor(private st: MsrState, private pairings: Pairing[], private substituted: Map<Pairing, string>) {
    for (const p of st.an.pops) this.terms.set(p, []);
    st.allocate = (kind, index, f, slot) => {
      if (kind !== 'M' || slot) throw new Error(`@orderParam(${kind}, …): the path-integral route reads C and R off the saddle point`);
      const q = st.an.popOfSet(st.an.setOf(index));
      if (!q) throw new Error(`@orderParam: the index ${index} has no population`);
      return this.meanOf(q, atTime(toSite(st.an, st.inputs, f, q, index, T), T));
    };
  }

  private opts(where: string, more: RewriteOptions = {}): RewriteOptions {
    return { trace: this.st.trace, env: this.st.env, where, ...more };
  }

  /** The order parameter M_f of a population (allocated once; equal functions share it). */
  private meanOf(q: PopInfo, f: Expr): string {
    const fk = ckey(canon(f));
    for (const o of this.orderParams.values()) if (o.kind === 'M' && o.pop === q.set && ckey(canon(atTime(o.f, T))) === fk) return o.name;
    const name = `M[${fName(f)}]`;
    if (!this.orderParams.has(name)) this.orderParams.set(name, this.makeOrderParam('M', q, f, name));
    return name;
  }

  run(): SaddleOutput {
    for (const p of this.pairings) this.decouple(p);
    const populations = this.st.pops.map((pm) => this.singleSite(pm));
    const observables = this.st.an.observables.map((o) => this.observable(o));
    // site-local quenched randomness met in the single-site processes and order parameters
    for (const pm of this.st.pops) {
      for (const inp of this.st.inputs.of(pm.info.set)) {
        if (inp.kind === 'quenched') applyOrThrow('msr.site.local', ref(inp.name, [pm.info.index]), this.opts(`single site: ${pm.info.variable}`));
      }
    }
    this.closure();
    return { populations, orderParams: [...this.orderParams.values()], observables };
  }

  // ---- δS = 0 for one pairing ---------------------------------------------------
  private decouple(p: Pairing): void {
    const st = this.st;
    const H = st.horizon;
    const w = `saddle point: ${p.A.name}`;
    const qu = orderParam(p.U), qv = orderParam(p.V);
    const dbl = (e: Expr) => (p.U.s ? intT(H, 't', intT(H, 's', e)) : intT(H, 't', e));
    const before = mul(p.coef, sym(p.U.pop.set), sym(p.V.pop.set), dbl(mul(op(qu.name, ...qu.args), op(qv.name, ...qv.args))));
    const after = mul(p.coef, dbl(add(
      mul(sym(p.V.pop.set), avg(p.V.pop.set, singleBil(st, p.V)), singleBil(st, p.U)),
      mul(sym(p.U.pop.set), avg(p.U.pop.set, singleBil(st, p.U)), singleBil(st, p.V)),
    )));
    applyOrThrow('msr.saddle.decouple', before, this.opts(w, {
      parent: this.substituted.get(p),
      bind: { _k: p.coef, _Pa: p.U.pop.set, _Pb: p.V.pop.set, _QQ: mul(op(qu.name, ...qu.args), op(qv.name, ...qv.args)), _U: singleBil(st, p.U), _V: singleBil(st, p.V) },
      display: { before, after },
    }));
    const decoupled = st.trace.last.id;
    const node = st.sources.find((s) => s.cs.A === p.A)!.cs.node;
    const sides = [
      { self: p.U, partner: p.V, qs: qu, qp: qv, N: p.V.pop.set },
      { self: p.V, partner: p.U, qs: qv, qp: qu, N: p.U.pop.set },
    ];
    for (const sd of sides) {
      const qv = op(sd.qp.name, ...sd.qp.args);
      const qh = op(hatName(sd.qs.name), ...sd.qs.args);
      applyOrThrow(sd.qs.args.length === 2 ? 'msr.saddle.conjugate' : 'msr.saddle.conjugate-mean', qh, this.opts(w, {
        parent: decoupled, bind: { _k: p.coef, _N: sd.N, _QV: qv }, display: { before: qh, after: simplifyI(mul(I, p.coef, sym(sd.N), qv)) },
      }));
      const c1 = st.an.limitOf(mul(sym(sd.N), p.coef), `size ${sd.N} × the ${p.kind} coefficient of ${p.A.name}`, node);
      const val = this.value(sd.partner, decoupled);
      // a coefficient that vanishes as the sizes grow drops out (a field of a non-Gaussian coupling whose variance vanishes)
      if (!val.zero && !(c1.k === 'num' && c1.v === 0)) this.terms.get(sd.self.pop)!.push({ coef: c1, val, fns: sd.self, from: p });
    }
  }

  /** ⟨u⟩ at the saddle point, recording the identity used (once per average). */
  private value(u: Bilinear, parent?: string): Value {
    const st = this.st;
    let v: Value;
    if (!u.s) {
      v = u.t.conj ? { zero: true, rule: 'msr.saddle.normalization' } : { zero: false, rule: 'msr.saddle.mean', kind: 'M', factor: num(1), f: u.t, args: [T] };
    } else if (u.t.conj && u.s.conj) {
      v = { zero: true, rule: 'msr.saddle.causality' };
    } else if (!u.t.conj && !u.s.conj) {
      if (u.t.key !== u.s.key) throw new Error(`internal: cross-correlation ${u.t.label}, ${u.s.label} at the saddle (should have been refused)`);
      v = { zero: false, rule: 'msr.saddle.correlation', kind: 'C', factor: num(1), f: u.t, args: [T, S] };
    } else {
      const phys = u.t.conj ? u.s : u.t, conj = u.t.conj ? u.t : u.s;
      v = { zero: false, rule: 'msr.saddle.response', kind: 'R', factor: I, f: phys, slot: st.sources[conj.source!], args: u.t.conj ? [S, T] : [T, S] };
    }
    const before = avg(u.pop.set, singleBil(st, u));
    const k = ckey(canon(before));
    if (!this.recordedAvg.has(k)) {
      this.recordedAvg.add(k);
      const after = v.zero ? num(0) : prod(v.factor, op(this.opName(v), ...v.args));
      const bind: Record<string, Expr | string> = {};
      if (!v.zero) {
        // order-parameter names (R[f|slot]) are not identifiers: bind them as symbols
        if (v.kind === 'R') { bind._R = sym(this.opName(v)); bind._t = v.args[0]; }
        else bind[v.kind === 'C' ? '_C' : '_M'] = sym(this.opName(v));
      }
      applyOrThrow(v.rule, before, this.opts(`saddle point: ${u.pop.set}`, { parent, bind, display: { before, after } }));
    }
    return v;
  }

  private opName(v: Extract<Value, { zero: false }>): string {
    const fn = fName(this.fSite(v.f));
    return v.kind === 'R' ? `R[${fn}|${v.slot!.cs.field}]` : `${v.kind}[${fn}]`;
  }

  /** A physical site function in the single-site process at t (registering its inputs). */
  private fSite(f: SiteFn): Expr {
    return toSite(this.st.an, this.st.inputs, f.expr, f.pop, f.pop.index, T);
  }

  /** Register the order parameter behind a value (once) and return its name. */
  private register(v: Extract<Value, { zero: false }>): string {
    const name = this.opName(v);
    if (!this.orderParams.has(name)) this.orderParams.set(name, this.makeOrderParam(v.kind, v.f.pop, this.fSite(v.f), name, v.slot));
    return name;
  }

  private makeOrderParam(kind: OrderParam['kind'], pop: PopInfo, f: Expr, name: string, slot?: Source): OrderParam {
    const ft = atTime(f, T), fs = atTime(f, S);
    const def = kind === 'C' ? avg(pop.set, mul(ft, fs)) : kind === 'M' ? avg(pop.set, ft) : avg(pop.set, call('fder', ft, ref(slot!.cs.field, [], S)));
    const o: OrderParam = { name, kind, pop: pop.set, f, def };
    if (kind === 'R') { o.slot = slot!.cs.field; if (pop.kind === 'algebraic') o.instantaneous = true; }
    return o;
  }

  // ---- the single-site process of one population -----------------------------------
  private singleSite(pm: PopMsr): Population {
    const st = this.st;
    const p = pm.info;
    const H = st.horizon;
    const w = `saddle point: ${p.kind === 'dynamic' ? 'd/dt ' : ''}${p.variable}`;
    const mine = st.sources.filter((s) => s.cs.pop === p);
    // orient every term with its conjugate source at t, then collect
    const lin = new Map<string, { src: Source; coef: Expr; val: Extract<Value, { zero: false }>; g?: SiteFn }>();
    const quad = new Map<string, { src: Source; coef: Expr; val: Extract<Value, { zero: false }> }>();
    for (const term of this.terms.get(p)!) {
      let { fns, val } = term;
      if (fns.s && !fns.t.conj && fns.s.conj) {
        fns = { pop: fns.pop, t: fns.s, s: fns.t };
        val = { ...val, args: val.args.map((a) => (a.k === 'sym' && a.name === 't' ? S : a.k === 'sym' && a.name === 's' ? T : a)) };
      }
      if (!fns.t.conj) throw new Error(`internal: a saddle term without conjugate source in ${p.variable}: ${print(singleBil(st, fns))}`);
      const src = st.sources[fns.t.source!];
      if (!fns.s || !fns.s.conj) {
        const key = `${src.n}|${val.kind}|${this.opName(val)}|${val.args.map(ckey).join(',')}|${fns.s?.key ?? ''}`;
        const prev = lin.get(key);
        const coef = mul(term.coef, val.factor);
        if (prev) prev.coef = add(prev.coef, coef); else lin.set(key, { src, coef, val, g: fns.s });
      } else {
        if (fns.s.source !== fns.t.source) throw new Error('internal: correlated fields at the saddle (should have been refused)');
        const key = `${src.n}|${this.opName(val)}|${val.args.map(ckey).join(',')}`;
        const prev = quad.get(key);
        const coef = mul(term.coef, val.factor);
        if (prev) prev.coef = add(prev.coef, coef); else quad.set(key, { src, coef, val });
      }
    }

    // Ψ and Σ of every coupling sum of this population
    const psi = new Map<Source, { oneTime: Expr[]; memory: Expr[]; display: Expr[] }>();
    const sigma = new Map<Source, Expr>();
    for (const s of mine) psi.set(s, { oneTime: [], memory: [], display: [] });
    for (const { src, coef, val, g } of lin.values()) {
      // −i λ(t) Ψ(t): Ψ = (coef/(−i)) · value = i · coef · value
      const c = simplifyI(mul(I, coef));
      if (hasI(c)) throw new Error(`internal: the source term of ${src.cs.field} is not of the form −i λ Ψ (coefficient ${print(c)})`);
      if (c.k === 'num' && c.v === 0) continue;
      const name = this.register(val);
      const entry = psi.get(src)!;
      if (!g) {
        entry.oneTime.push(tidy(mul(c, op(name, ...val.args))));
        entry.display.push(tidy(mul(c, op(name, ...val.args))));
      } else {
        const gs = toSite(st.an, st.inputs, g.expr, g.pop, g.pop.index, S);
        const full = integral('s', num(0), sym(H), mul(op(name, ...val.args), gs));
        const limited = applyRule('msr.saddle.causal-limit', full, { where: w, trace: st.trace, bind: { _t: 't' } });
        if (!limited) throw new Error(`internal: msr.saddle.causal-limit did not apply to ${print(full)}`);
        const mem = integral('s', num(0), T, mul(op(name, ...val.args), gs));
        if (ckey(canon(mem)) !== ckey(limited)) throw new Error(`internal: causal limit ${print(limited)} ≠ ${print(mem)}`);
        entry.memory.push(tidy(mul(c, mem)));
        entry.display.push(tidy(mul(c, mem)));
      }
    }
    for (const { src, coef, val } of quad.values()) {
      // −½ λ(t) λ(s) Σ(t,s): Σ = −2 · coef · value
      const c = simplifyI(mul(num(-2), coef));
      if (hasI(c)) throw new Error(`internal: the quadratic term of ${src.cs.field} is not real (coefficient ${print(c)})`);
      if (c.k === 'num' && c.v === 0) continue;
      const name = this.register(val);
      const prev = sigma.get(src);
      const term = tidy(mul(c, op(name, ...val.args)));
      sigma.set(src, prev ? tidy(add(prev, term)) : term);
    }

    // the single-site action at the saddle point
    const lam = (s: Source, tau: Expr) => single(st, s.lambda, tau);
    const effTerms: Expr[] = [bareSiteAction(st, pm)];
    for (const s of mine) {
      const e = psi.get(s)!;
      if (e.display.length) effTerms.push(mul(num(-1), I, intT(H, 't', mul(lam(s, T), total(...e.display)))));
      const sg = sigma.get(s);
      if (sg) effTerms.push(mul(num(-1), { k: 'pow', base: num(2), exp: num(-1) }, intT(H, 't', intT(H, 's', mul(lam(s, T), lam(s, S), sg)))));
    }
    const Seff = total(...effTerms);
    const before = st.siteActions.get(p)!;
    applyOrThrow('msr.saddle.single-site', call('exp', before), this.opts(w, { parent: st.factorized.get(p), keepSame: true, bind: { _Seff: Seff }, display: { before: call('exp', before), after: call('exp', Seff) } }));
    // the process is read off the single-site action: its steps hang from it
    const eff = st.trace.last.id;

    // read the measure as a process: fields (HS backwards), noise, local inputs, δ-functional
    const fields: GaussianField[] = [];
    for (const s of mine) {
      const sg = sigma.get(s);
      if (!sg) continue;
      const fb = mul(num(-1), { k: 'pow', base: num(2), exp: num(-1) }, intT(H, 't', intT(H, 's', mul(lam(s, T), lam(s, S), sg))));
      applyOrThrow('msr.site.field', fb, this.opts(w, { parent: eff, bind: { _lam: lam(s, T), _eta: s.cs.field }, display: { before: fb, after: mul(num(-1), I, intT(H, 't', mul(lam(s, T), ref(s.cs.field, [], T)))) } }));
      fields.push({ name: s.cs.field, cov: sg, coupling: s.cs.siteSlot === 0 ? s.cs.A.name : `${s.cs.A.name}^T`, sum: print(s.cs.node), pop: p.set });
    }
    for (const nz of pm.noises) {
      const bx = tidy(prod(single(st, { ...s0(pm), expr: nz.b }, T), ref(pm.hat, [], T)));
      const nb = mul(num(-1), nz.D, { k: 'pow', base: num(2), exp: num(-1) }, intT(H, 't', { k: 'pow', base: bx, exp: num(2) }));
      applyOrThrow('msr.site.noise', nb, this.opts(w, {
        parent: eff,
        bind: { _b: single(st, { ...s0(pm), expr: nz.b }, T), _xhat: pm.hat, _xi: nz.name },
        display: { before: nb, after: mul(num(-1), I, intT(H, 't', mul(bx, ref(nz.name, [], T)))) },
      }));
    }
    // each coupling sum → Ψ + η where it stood
    let rhs = pm.template;
    for (const s of mine) {
      const e = psi.get(s)!;
      const parts = [...e.oneTime, ...(sigma.has(s) ? [ref(s.cs.field, [], T)] : []), ...e.memory];
      const rep = parts.length === 0 ? num(0) : parts.length === 1 ? parts[0] : add(...parts);
      rhs = s.aux
        ? mapPost(rhs, (x) => (x.k === 'ref' && x.name === s.aux!.h ? rep : x))
        : st.an.substSyms(rhs, { [s.sigma]: rep });
    }
    rhs = toSite(st.an, st.inputs, rhs, p, p.index, T);
    rhs = this.selfAverage(rhs, w);
    rhs = tidy(rhs);
    const delta = mul(I, ref(pm.hat, [], T), add(ref(pm.lhs, [], T), mul(num(-1), rhs)));
    const proc = applyRule('msr.site.process', delta, { where: w, trace: st.trace, parent: eff, bind: { _xhat: pm.hat, _y: pm.lhs } });
    if (!proc || ckey(proc) !== ckey(canon(rhs))) throw new Error(`internal: msr.site.process gave ${proc && print(proc)} for ${print(rhs)}`);

    return population(st.m, p, rhs, fields, st.inputs.of(p.set));
  }

  /** mean(j, f) over a population in the dynamics → M_f(t). */
  private selfAverage(e: Expr, w: string): Expr {
    const st = this.st;
    return mapPost(e, (x) => {
      if (x.k !== 'mean') return x;
      const q = st.an.popOfSet(st.an.setOf(x.index));
      if (!q) return fail(st.m, x, `mean over '${x.index}' has no population`, 'declare a state or let on that set');
      const f = toSite(st.an, st.inputs, x.body, q, x.index, T);
      const name = this.meanOf(q, atTime(f, T));
      const after = op(name, T);
      applyOrThrow('msr.mean.self-average', x, this.opts(w, { display: { before: x, after } }));
      return after;
    });
  }

  private closure(): void {
    for (const o of this.orderParams.values()) closureStep(this.st.trace, 'msr', o, this.st.env);
  }

  private observable(o: Model['observables'][number]): ObservableDef {
    const st = this.st;
    const where = `observe ${o.name}`;
    const times = o.times.length ? o.times : ['t'];
    const expr = mapPost(o.expr, (x) => {
      if (x.k === 'sum') return fail(st.m, x, `sums in observables are not supported by derive ('${print(x)}')`, 'observe averages over sites with mean(i, …)');
      if (x.k !== 'mean') return x;
      const q = st.an.popOfSet(st.an.setOf(x.index))!;
      const body = toSite(st.an, st.inputs, x.body, q, x.index, sym(times[0]));
      const after = avg(q.set, body);
      applyOrThrow('msr.observable.average', x, this.opts(where, { bind: { _P: q.set, _t: times[0] }, display: { before: x, after } }));
      return after;
    });
    if (some(expr, (x) => x.k === 'ref' && x.idx.length > 0)) fail(st.m, o.expr, `observable ${o.name} has site quantities outside mean(…)`, 'observables are functions of site averages: mean(i, …)');
    return { name: o.name, times: o.times, expr: tidy(expr) };
  }
}

/** A placeholder site function of a population (to render one of its expressions). */
function s0(pm: PopMsr): SiteFn {
  return { pop: pm.info, conj: false, expr: num(0), key: '', label: '' };
}
