// Stage 3 of the path-integral route: order parameters. Every pairing term
// c Σ_a Σ_b ∫∫ U_a V_b is a product of two site averages; each is introduced
// as an order parameter Q = (1/N) Σ_a U_a with a conjugate field Q̂ (a
// δ-function in Fourier form, msr.order.introduce), the pairing becomes
// c N_a N_b ∫∫ Q_U Q_V (msr.order.substitute), and the sites factorize:
// Σ_P N_P ln Z_P[Q̂] with the single-site generating functional Z_P
// (msr.order.factorize). The action is N·S[Q, Q̂] (msr.order.action).
import { add, call, mul, neg, num, op, ref, sym, type Expr } from '../../expr/ast.ts';
import { applyOrThrow, applyRule } from '../../rewrite/engine.ts';
import type { PopInfo } from '../couplings.ts';
import { tidy } from '../../expr/tidy.ts';
import { renderBil, renderPairing, type Bilinear, type Pairing } from './disorder.ts';
import { I, intT, prod, S, siteAt, singleAt, sumOver, T, total, type SiteFn } from './notation.ts';
import type { MsrState } from './state.ts';

/** An order parameter as it appears in a pairing: name, the bilinear in the
 *  named orientation, and the time arguments of this occurrence. */
export interface QRef { name: string; pop: PopInfo; named: Bilinear; args: Expr[] }

/** Q[u;w](t,s) = (1/N) Σ_a u_a(t) w_a(s): physical functions first, then conjugate sources. */
export function orderParam(u: Bilinear): QRef {
  if (!u.s) return { name: `Q[${u.t.label}]`, pop: u.pop, named: u, args: [T] };
  const swap = u.t.conj !== u.s.conj ? u.t.conj : u.t.key > u.s.key;
  const named: Bilinear = swap ? { pop: u.pop, t: u.s, s: u.t } : u;
  return { name: `Q[${named.t.label};${named.s!.label}]`, pop: u.pop, named, args: swap ? [S, T] : [T, S] };
}

export const hatName = (q: string) => `Qhat${q.slice(1)}`;

/** A site function as a single-site expression at τ. */
export function single(st: MsrState, fn: SiteFn, tau: Expr): Expr {
  return singleAt(fn.expr, fn.pop.index, tau, st.timeless);
}

/** A bilinear as a single-site expression u(t) w(s). */
export function singleBil(st: MsrState, u: Bilinear): Expr {
  return u.s ? tidy(mul(single(st, u.t, T), single(st, u.s, S))) : single(st, u.t, T);
}

/** The site part of one population's action, without couplings, its
 *  variables' quantities written by `at` (a single site, or site i of the
 *  model): Σ_vars ln p0 + ∫ Σ_vars [ i x̂ (ẋ − F|sums→0) − (D/2) b² x̂² + i ĥ h ]. */
function siteAction(st: MsrState, p: PopInfo, at: (e: Expr, tau: Expr) => Expr): Expr {
  const i = p.index;
  const logs: Expr[] = [], dens: Expr[] = [];
  for (const pm of st.varsOf(p)) {
    let F0 = pm.template;
    for (const s of st.sources.filter((x) => x.cs.var === pm.v && !x.aux)) F0 = st.an.substSyms(F0, { [s.sigma]: num(0) });
    dens.push(mul(I, at(ref(pm.hat, [i]), T), tidy(add(at(ref(pm.lhs, [i]), T), neg(at(F0, T))))));
    for (const s of st.sources.filter((x) => x.cs.var === pm.v && x.aux)) dens.push(mul(I, at(ref(s.aux!.hhat, [i]), T), at(ref(s.aux!.h, [i]), T)));
    for (const nz of pm.noises) dens.push(mul(num(-1), nz.D, { k: 'pow', base: num(2), exp: num(-1) }, { k: 'pow', base: tidy(prod(at(nz.b, T), at(ref(pm.hat, [i]), T))), exp: num(2) }));
    if (pm.p0) logs.push(call('log', ref(pm.p0, [], at(ref(pm.v.name, [i]), num(0)))));
  }
  return total(...logs, intT(st.horizon, 't', total(...dens)));
}

/** The single-site action of a population without couplings: ln p0 + ∫ [ i x̂ (ẋ − F|sums→0) − (D/2) b² x̂² + i ĥ h ]. */
export function bareSiteAction(st: MsrState, p: PopInfo): Expr {
  return siteAction(st, p, (e, tau) => singleAt(e, p.index, tau, st.timeless));
}

/** The site part of the stage-1 action at site `index` (model level, couplings removed). */
function siteActionModel(st: MsrState, p: PopInfo): Expr {
  return prod(siteAction(st, p, (e, tau) => siteAt(e, p.index, p.index, tau, st)));
}

/** Stage 3: order parameters, their conjugates, the factorized action.
 *  Returns, for every pairing, the step that substituted its order parameters. */
export function introduceOrderParams(st: MsrState, pairings: Pairing[]): Map<Pairing, string> {
  const substituted = new Map<Pairing, string>();
  const { trace } = st;
  const H = st.horizon;
  const w = 'order parameters';
  const seen = new Map<string, QRef>();
  const dbl = (body: Expr) => intT(H, 't', intT(H, 's', body));
  const opOf = (q: QRef) => op(q.name, ...q.args);
  const qTerms: Expr[] = [];
  for (const p of pairings) {
    const qu = orderParam(p.U), qv = orderParam(p.V);
    for (const [q, idx] of [[qu, p.a], [qv, p.b]] as const) {
      if (seen.has(q.name)) continue;
      seen.set(q.name, q);
      const before: Expr = { k: 'mean', index: idx, body: renderBil(st, q.named, idx) };
      applyOrThrow('msr.order.introduce', before, { trace, env: st.env, where: w, parent: p.step, bind: { _Q: q.named.s ? op(q.name, T, S) : op(q.name, T) }, display: { before } });
    }
    const body = mul(opOf(qu), opOf(qv));
    const J = p.U.s ? dbl(body) : intT(H, 't', body);
    const after = mul(p.coef, sym(qu.pop.set), sym(qv.pop.set), J);
    const before = renderPairing(st, p);
    applyOrThrow('msr.order.substitute', before, { trace, env: st.env, where: w, parent: p.step, bind: { _J: J }, display: { before, after } });
    substituted.set(p, trace.last.id);
    qTerms.push(after);
  }
  // δ-functions in Fourier form: i N ∫∫ Q̂ (Q − (1/N) Σ_a U_a); the Σ_a part goes to the sites
  const conj: Expr[] = [];
  for (const q of seen.values()) {
    const qq = q.named.s ? op(q.name, T, S) : op(q.name, T);
    const qh = q.named.s ? op(hatName(q.name), T, S) : op(hatName(q.name), T);
    conj.push(mul(I, sym(q.pop.set), q.named.s ? dbl(mul(qh, qq)) : intT(H, 't', mul(qh, qq))));
  }
  // the sites factorize: Σ_a [S_a^0 − i ∫∫ Q̂ U_a] → N ln Z_1[Q̂]
  const logs: Expr[] = [];
  for (const p of st.an.pops) {
    const mine = [...seen.values()].filter((q) => q.pop === p);
    const siteDens = mine.map((q) => {
      const qh = q.named.s ? op(hatName(q.name), T, S) : op(hatName(q.name), T);
      const u = renderBil(st, q.named, p.index);
      return mul(num(-1), I, q.named.s ? dbl(mul(qh, u)) : intT(H, 't', mul(qh, u)));
    });
    const site = total(siteActionModel(st, p), ...siteDens);
    const Zp = `Z_${p.vars.map((v) => v.name).join('_')}`;
    const before = sumOver(p.index, site);
    applyOrThrow('msr.order.factorize', before, { trace, env: st.env, where: `sites of ${p.set}`, bind: { _Z: Zp }, display: { before, after: mul(sym(p.set), call('log', sym(Zp))) } });
    st.factorized.set(p, trace.last.id);
    logs.push(mul(sym(p.set), call('log', sym(Zp))));
    const single1 = total(bareSiteAction(st, p), ...mine.map((q) => {
      const qh = q.named.s ? op(hatName(q.name), T, S) : op(hatName(q.name), T);
      return mul(num(-1), I, q.named.s ? dbl(mul(qh, singleBil(st, q.named))) : intT(H, 't', mul(qh, singleBil(st, q.named))));
    }));
    st.siteActions.set(p, single1);
  }
  const action = total(...qTerms, ...conj, ...logs);
  const out = applyRule('msr.order.action', sym('Z'), { where: 'action N·S[Q, Qhat]', trace, bind: { _N: num(1), _S: action } });
  if (!out) throw new Error('internal: msr.order.action did not apply');
  return substituted;
}

