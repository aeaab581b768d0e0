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
import { atTime, closureStep, correlationName, fail, fName, population, toSite, varNames, varWhere, type PopInfo } from '../couplings.ts';
import type { CrossCovariance, GaussianField, ObservableDef, OrderParam, Population } from '../system.ts';
import { tidy } from '../../expr/tidy.ts';
import type { Bilinear, Pairing } from './disorder.ts';
import { hasI, I, intT, prod, S, simplifyI, T, total, type SiteFn } from './notation.ts';
import { bareSiteAction, hatName, orderParam, single, singleBil } from './order.ts';
import type { MsrState, VarMsr, Source } from './state.ts';

/** A saddle-point value ⟨u⟩ of a site bilinear. */
type Value =
  | { zero: true; rule: string }
  | { zero: false; rule: string; kind: 'C' | 'M' | 'R'; factor: Expr; f: SiteFn; g?: SiteFn; slot?: Source; args: Expr[] };

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
    const populations = this.st.an.pops.map((p) => this.singleSite(p));
    const observables = this.st.an.observables.map((o) => this.observable(o));
    // site-local quenched randomness met in the single-site processes and order parameters
    for (const p of this.st.an.pops) {
      for (const inp of this.st.inputs.of(p.set)) {
        if (inp.kind === 'quenched') applyOrThrow('msr.site.local', ref(inp.name, [p.index]), this.opts(`single site: ${p.vars.map((v) => v.name).join(', ')}`));
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
      if (u.t.key === u.s.key) v = { zero: false, rule: 'msr.saddle.correlation', kind: 'C', factor: num(1), f: u.t, args: [T, S] };
      else {
        // ⟨f(t) g(s)⟩ of two functions: the cross-correlation, named in canonical order
        const swapped = correlationName(this.fSite(u.t), this.fSite(u.s)).swapped;
        v = swapped ? { zero: false, rule: 'msr.saddle.cross-correlation', kind: 'C', factor: num(1), f: u.s, g: u.t, args: [S, T] }
          : { zero: false, rule: 'msr.saddle.cross-correlation', kind: 'C', factor: num(1), f: u.t, g: u.s, args: [T, S] };
      }
    } else {
      const phys = u.t.conj ? u.s : u.t, conj = u.t.conj ? u.t : u.s;
      const slot = st.sources[conj.source!];
      v = st.an.responds(phys.pop, varNames(phys.pop, this.fSite(phys)), slot.cs)
        ? { zero: false, rule: 'msr.saddle.response', kind: 'R', factor: I, f: phys, slot, args: u.t.conj ? [S, T] : [T, S] }
        : { zero: true, rule: 'msr.saddle.unresponsive' };
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
        else if (v.g) { bind._C = sym(this.opName(v)); bind._t1 = v.args[0]; bind._t2 = v.args[1]; }
        else bind[v.kind === 'C' ? '_C' : '_M'] = sym(this.opName(v));
      }
      applyOrThrow(v.rule, before, this.opts(`saddle point: ${u.pop.set}`, { parent, bind, display: { before, after } }));
    }
    return v;
  }

  private opName(v: Extract<Value, { zero: false }>): string {
    if (v.g) return correlationName(this.fSite(v.f), this.fSite(v.g)).name;
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
    if (!this.orderParams.has(name)) this.orderParams.set(name, this.makeOrderParam(v.kind, v.f.pop, this.fSite(v.f), name, v.slot, v.g && this.fSite(v.g)));
    return name;
  }

  private makeOrderParam(kind: OrderParam['kind'], pop: PopInfo, f: Expr, name: string, slot?: Source, g?: Expr): OrderParam {
    const ft = atTime(f, T), fs = atTime(g ?? f, S);
    const def = kind === 'C' ? avg(pop.set, mul(ft, fs)) : kind === 'M' ? avg(pop.set, ft) : avg(pop.set, call('fder', ft, ref(slot!.cs.field, [], S)));
    const o: OrderParam = g ? { name, kind, pop: pop.set, f, g, def } : { name, kind, pop: pop.set, f, def };
    if (kind === 'R') {
      o.slot = slot!.cs.field;
      if (this.st.an.respondsInstantly(pop, varNames(pop, f), slot!.cs)) o.instantaneous = true;
    }
    return o;
  }

  // ---- the single-site process of one population -----------------------------------
  private singleSite(p: PopInfo): Population {
    const st = this.st;
    const H = st.horizon;
    const wp = `saddle point: ${p.vars.map(varWhere).join(', ')}`;
    const wv = (s: Source) => `saddle point: ${varWhere(s.cs.var)}`;
    const mine = st.sources.filter((s) => s.cs.pop === p);
    const swapTimes = (args: Expr[]) => args.map((a) => (a.k === 'sym' && a.name === 't' ? S : a.k === 'sym' && a.name === 's' ? T : a));
    // orient every term with its conjugate source at t (the source of the
    // first field by name at t when both times carry one), then collect
    const lin = new Map<string, { src: Source; coef: Expr; val: Extract<Value, { zero: false }>; g?: SiteFn }>();
    const quad = new Map<string, { a: Source; b: Source; coef: Expr; val: Extract<Value, { zero: false }> }>();
    for (const term of this.terms.get(p)!) {
      let { fns, val } = term;
      const flip = fns.s && (!fns.t.conj || (fns.s.conj && st.sources[fns.s.source!].cs.field < st.sources[fns.t.source!].cs.field));
      if (fns.s && flip) {
        fns = { pop: fns.pop, t: fns.s, s: fns.t };
        val = { ...val, args: swapTimes(val.args) };
      }
      if (!fns.t.conj) throw new Error(`internal: a saddle term without conjugate source in ${p.set}: ${print(singleBil(st, fns))}`);
      const src = st.sources[fns.t.source!];
      const coef = mul(term.coef, val.factor);
      if (!fns.s || !fns.s.conj) {
        const key = `${src.n}|${val.kind}|${this.opName(val)}|${val.args.map(ckey).join(',')}|${fns.s?.key ?? ''}`;
        const prev = lin.get(key);
        if (prev) prev.coef = add(prev.coef, coef); else lin.set(key, { src, coef, val, g: fns.s });
      } else {
        const other = st.sources[fns.s.source!];
        const key = `${src.n}|${other.n}|${this.opName(val)}|${val.args.map(ckey).join(',')}`;
        const prev = quad.get(key);
        if (prev) prev.coef = add(prev.coef, coef); else quad.set(key, { a: src, b: other, coef, val });
      }
    }

    // Ψ of every coupling sum of this population, and the covariances Σ of their fields
    const psi = new Map<Source, { oneTime: Expr[]; memory: Expr[]; display: Expr[] }>();
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
        const limited = applyRule('msr.saddle.causal-limit', full, { where: wv(src), trace: st.trace, bind: { _t: 't' } });
        if (!limited) throw new Error(`internal: msr.saddle.causal-limit did not apply to ${print(full)}`);
        const mem = integral('s', num(0), T, mul(op(name, ...val.args), gs));
        if (ckey(canon(mem)) !== ckey(limited)) throw new Error(`internal: causal limit ${print(limited)} ≠ ${print(mem)}`);
        entry.memory.push(tidy(mul(c, mem)));
        entry.display.push(tidy(mul(c, mem)));
      }
    }
    // −½ Σ_ab ∫∫ λ_a(t) λ_b(s) Σ_ab(t,s) over ordered pairs: a term coef·λ_a(t) λ_b(s)
    // gives Σ_aa = −2·coef·value on the diagonal, Σ_ab = −coef·value off it (Σ_ba(t,s) = Σ_ab(s,t))
    const sigma = new Map<string, { a: Source; b: Source; cov: Expr }>();
    for (const { a, b, coef, val } of quad.values()) {
      const c = simplifyI(mul(num(a === b ? -2 : -1), coef));
      if (hasI(c)) throw new Error(`internal: the quadratic term of ${a.cs.field}, ${b.cs.field} is not real (coefficient ${print(c)})`);
      if (c.k === 'num' && c.v === 0) continue;
      const name = this.register(val);
      const key = `${a.n}|${b.n}`;
      const prev = sigma.get(key);
      const term = tidy(mul(c, op(name, ...val.args)));
      sigma.set(key, { a, b, cov: prev ? tidy(add(prev.cov, term)) : term });
    }
    const auto = (s: Source) => sigma.get(`${s.n}|${s.n}`)?.cov;
    const pairs = [...sigma.values()].filter((x) => x.a !== x.b);

    // the single-site action at the saddle point
    const lam = (s: Source, tau: Expr) => single(st, s.lambda, tau);
    const half = { k: 'pow', base: num(2), exp: num(-1) } as const;
    const quadTerm = (x: { a: Source; b: Source; cov: Expr }) => (x.a === x.b
      ? mul(num(-1), half, intT(H, 't', intT(H, 's', mul(lam(x.a, T), lam(x.a, S), x.cov))))
      : mul(num(-1), intT(H, 't', intT(H, 's', mul(lam(x.a, T), lam(x.b, S), x.cov)))));
    const effTerms: Expr[] = [bareSiteAction(st, p)];
    for (const s of mine) {
      const e = psi.get(s)!;
      if (e.display.length) effTerms.push(mul(num(-1), I, intT(H, 't', mul(lam(s, T), total(...e.display)))));
      const sg = auto(s);
      if (sg) effTerms.push(quadTerm({ a: s, b: s, cov: sg }));
    }
    for (const x of pairs) effTerms.push(quadTerm(x));
    const Seff = total(...effTerms);
    const before = st.siteActions.get(p)!;
    applyOrThrow('msr.saddle.single-site', call('exp', before), this.opts(wp, { parent: st.factorized.get(p), keepSame: true, bind: { _Seff: Seff }, display: { before: call('exp', before), after: call('exp', Seff) } }));
    // the process is read off the single-site action: its steps hang from it
    const eff = st.trace.last.id;

    // read the measure as a process: fields (HS backwards, one Gaussian vector
    // per group of correlated fields), noise, local inputs, δ-functional
    const fields: GaussianField[] = [];
    const withField = mine.filter((s) => auto(s));
    const done = new Set<Source>();
    for (const s of withField) {
      if (done.has(s)) continue;
      // the group of fields correlated with s (connected by cross-covariances)
      const group = [s];
      for (let k = 0; k < group.length; k++) {
        for (const x of pairs) for (const y of [x.a, x.b]) if ((x.a === group[k] || x.b === group[k]) && !group.includes(y) && withField.includes(y)) group.push(y);
      }
      group.sort((x, y) => x.n - y.n);
      group.forEach((x) => done.add(x));
      const linear = total(...group.map((x) => mul(lam(x, T), ref(x.cs.field, [], T))));
      const after = mul(num(-1), I, intT(H, 't', linear));
      if (group.length === 1) {
        const fb = quadTerm({ a: s, b: s, cov: auto(s)! });
        applyOrThrow('msr.site.field', fb, this.opts(wv(s), { parent: eff, bind: { _lam: lam(s, T), _eta: s.cs.field }, display: { before: fb, after } }));
      } else {
        const terms = [...group.map((x) => ({ a: x, b: x, cov: auto(x)! })), ...pairs.filter((x) => group.includes(x.a) && group.includes(x.b))];
        const fb = intT(H, 't', intT(H, 's', tidy(total(...terms.map((x) => (x.a === x.b ? mul(num(-1), half, lam(x.a, T), lam(x.a, S), x.cov) : mul(num(-1), lam(x.a, T), lam(x.b, S), x.cov)))))));
        applyOrThrow('msr.site.fields', fb, this.opts(wp, { parent: eff, bind: { _ls: linear }, display: { before: fb, after } }));
      }
      for (const x of group) {
        fields.push({ name: x.cs.field, cov: auto(x)!, coupling: x.cs.siteSlot === 0 ? x.cs.A.name : `${x.cs.A.name}^T`, sum: print(x.cs.node), pop: p.set, variable: x.cs.var.name });
      }
    }
    const cross: CrossCovariance[] = pairs.map((x) => ({ a: x.a.cs.field, b: x.b.cs.field, cov: x.cov }));

    const rhss: Expr[] = [];
    for (const pm of st.varsOf(p)) {
      const w = `saddle point: ${varWhere(pm.v)}`;
      for (const nz of pm.noises) {
        const bx = tidy(prod(single(st, { ...s0(pm), expr: nz.b }, T), ref(pm.hat, [], T)));
        const nb = mul(num(-1), nz.D, half, intT(H, 't', { k: 'pow', base: bx, exp: num(2) }));
        applyOrThrow('msr.site.noise', nb, this.opts(w, {
          parent: eff,
          bind: { _b: single(st, { ...s0(pm), expr: nz.b }, T), _xhat: pm.hat, _xi: nz.name },
          display: { before: nb, after: mul(num(-1), I, intT(H, 't', mul(bx, ref(nz.name, [], T)))) },
        }));
      }
      // each coupling sum → Ψ + η where it stood
      let rhs = pm.template;
      for (const s of mine.filter((x) => x.cs.var === pm.v)) {
        const e = psi.get(s)!;
        const parts = [...e.oneTime, ...(auto(s) ? [ref(s.cs.field, [], T)] : []), ...e.memory];
        const rep = parts.length === 0 ? num(0) : parts.length === 1 ? parts[0] : add(...parts);
        rhs = s.aux
          ? mapPost(rhs, (x) => (x.k === 'ref' && x.name === s.aux!.h ? rep : x))
          : st.an.substSyms(rhs, { [s.sigma]: rep });
      }
      rhs = toSite(st.an, st.inputs, rhs, p, p.index, T);
      rhs = this.selfAverage(rhs, w);
      rhs = tidy(rhs);
      const delta = mul(I, ref(pm.hat, [], T), add(ref(pm.lhs, [], T), mul(num(-1), rhs)));
      const proc = applyRule(st.an.discrete ? 'discrete.site.process' : 'msr.site.process', delta, { where: w, trace: st.trace, parent: eff, bind: { _xhat: pm.hat, _y: pm.lhs } });
      if (!proc || ckey(proc) !== ckey(canon(rhs))) throw new Error(`internal: the single-site process rule gave ${proc && print(proc)} for ${print(rhs)}`);
      rhss.push(rhs);
    }
    return population(st.an, st.inputs, p, rhss, fields, cross);
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

/** A placeholder site function of a variable's population (to render one of its expressions). */
function s0(pm: VarMsr): SiteFn {
  return { pop: pm.pop, conj: false, expr: num(0), key: '', label: '' };
}
