// Stage 2 of the path-integral route: the Gaussian average over each coupling
// matrix. The action is linear in A: exp(−i Σ_ab A_ab Φ_ab) with
// Φ_ab = Σ_{sums using A} ∫dt λ(t) f(t) at the two sites the entry connects
// (λ at the site whose equation holds the sum, f at the summed site). The
// identity (msr.gaussian.average)
//   ⟨exp(−i Σ A_ab Φ_ab)⟩ = exp(−i m ΣΦ_ab − (v/2) ΣΦ_ab² − (c v/2) ΣΦ_ab Φ_ba)
// is expanded into pairing terms c · Σ_a Σ_b ∫∫ U_a(t,s) V_b(t,s), each the
// product of a bilinear U of the row site a and a bilinear V of the column
// site b. Which pairings appear — the variance (x̂x̂ · ff) of one sum, the
// covariance of two sums on the same entries (λλ' · ff': correlated fields),
// the reuse of one entry in both directions, the transpose correlation
// (x̂f · fx̂, or λλ' · ff' for two sums of one population in opposite
// orientations), the mean — follows from the orientations of the sums, not
// from a case list.
import { add, avg, call, mul, num, pow, ref, type Expr } from '../../expr/ast.ts';
import { canon } from '../../expr/canon.ts';
import { print } from '../../expr/print.ts';
import type { RandomDecl } from '../../model/ir.ts';
import { applyOrThrow, type RewriteOptions } from '../../rewrite/engine.ts';
import type { PopInfo } from '../couplings.ts';
import { tidy } from '../../expr/tidy.ts';
import { bareSum, timed } from './action.ts';
import { I, intT, prod, S, siteAt, sumOver, T, total, type SiteFn } from './notation.ts';
import { distText } from '../couplings.ts';
import { show } from '../../model/scaling.ts';
import type { MsrState, Source } from './state.ts';

/** A site bilinear u_a(t) w_a(s) (or u_a(t) for a one-time term). */
export interface Bilinear { pop: PopInfo; t: SiteFn; s?: SiteFn }

export type PairingKind = 'mean' | 'variance' | 'covariance' | 'reuse' | 'transpose' | 'transpose-covariance';

/** coef · Σ_{a ∈ U.pop} Σ_{b ∈ V.pop} ∫dt [∫ds] U_a V_b */
export interface Pairing {
  kind: PairingKind;
  A: RandomDecl;
  /** the indices a, b as declared for A */
  a: string;
  b: string;
  /** canonical coefficient (may contain I): −I m, −v/2, −v, −c v/2, −c v */
  coef: Expr;
  U: Bilinear;
  V: Bilinear;
  /** the step of the trace that wrote this pairing term */
  step?: string;
}

const conjCount = (u: Bilinear) => (u.t.conj ? 1 : 0) + (u.s?.conj ? 1 : 0);

/** Render a bilinear at site index `idx`. */
export function renderBil(st: MsrState, u: Bilinear, idx: string): Expr {
  const f = (fn: SiteFn, tau: Expr) => siteAt(fn.expr, fn.pop.index, idx, tau, st);
  return u.s ? tidy(mul(f(u.t, T), f(u.s, S))) : f(u.t, T);
}

/** Render a pairing term as it stands in the action. */
export function renderPairing(st: MsrState, p: Pairing, withCoef = true): Expr {
  const H = st.horizon;
  const body = tidy(mul(renderBil(st, p.U, p.a), renderBil(st, p.V, p.b)));
  const ints = p.U.s ? intT(H, 't', intT(H, 's', body)) : intT(H, 't', body);
  const term = sumOver(p.a, sumOver(p.b, ints));
  return withCoef ? mul(p.coef, term) : term;
}

interface Phi { src: Source; row: SiteFn; col: SiteFn }

/** Stage 2 for every coupling matrix: the pairing terms of the averaged action. */
export function averageDisorder(st: MsrState): Pairing[] {
  const out: Pairing[] = [];
  for (const A of st.m.randoms) {
    const srcs = st.sources.filter((s) => s.cs.A === A);
    if (!srcs.length) continue;
    out.push(...averageOne(st, A, srcs));
  }
  return out;
}

function averageOne(st: MsrState, A: RandomDecl, srcs: Source[]): Pairing[] {
  const { trace } = st;
  const H = st.horizon;
  const w = `disorder average: ${A.name}`;
  const [a, b] = A.indices;
  // only the mean and the variance of the entries enter (msr.disorder.cumulants for non-Gaussian ones)
  const dist = st.an.moments(A);
  const square = A.sets[0] === A.sets[1];
  const c: Expr = !square ? num(0) : A.symmetric ? num(1) : A.transposeCorr ?? num(0);
  const rowPop = st.an.popOfSet(A.sets[0])!, colPop = st.an.popOfSet(A.sets[1])!;

  // Φ_ab: each sum contributes ∫dt λ(t) f(t), λ at its own site, f at the summed site
  // (a sum with a prefactor c is one over the coupling c·A: c enters its Φ term)
  const phis: Phi[] = srcs.map((src) => (src.cs.siteSlot === 0 ? { src, row: src.lambda, col: src.f } : { src, row: src.f, col: src.lambda }));
  const at = (fn: SiteFn, idx: string, tau: Expr) => siteAt(fn.expr, fn.pop.index, idx, tau, st);
  const Phi = total(...phis.map((ph) => intT(H, 't', prod(ph.src.cs.scale, at(ph.row, a, T), at(ph.col, b, T)))));

  const opts = (more: RewriteOptions): RewriteOptions => ({ trace, env: st.env, where: w, ...more });
  // isolate the coupling terms of every sum: −i Σ_i ∫ λ_i Σ_k A_ik f_k  →  −i Σ_i Σ_k A_ik ∫ λ_i f_k
  let parent = st.actionStep;
  for (const s of srcs) {
    const before = mul(num(-1), I, sumOver(s.cs.pop.index, intT(H, 't', prod(s.cs.scale, at(s.lambda, s.cs.pop.index, T), timed(st, bareSum(s.cs), T)))));
    applyOrThrow('msr.disorder.isolate', before, opts({ parent: st.actionStep, display: { before } }));
    parent = trace.last.id;
  }
  // … which together are −i Σ_ab A_ab Φ_ab
  const isolated = mul(num(-1), I, sumOver(a, sumOver(b, mul(ref(A.name, [a, b]), Phi))));
  const exact = avg(A.name, call('exp', isolated));
  if (A.dist.kind !== 'normal') {
    applyOrThrow('msr.disorder.cumulants', exact, opts({ where: `${w} ~ ${distText(A.dist)}: mean ${show(dist.mean)}, variance ${show(dist.var)}`, parent, display: { before: exact, after: exact } }));
    parent = trace.last.id;
  }
  // the Gaussian average
  const PhiT = st.an.renameIndices(Phi, { [a]: b, [b]: a });
  applyOrThrow('msr.gaussian.average', exact, opts({ parent, bind: { _m: dist.mean, _v: dist.var, _c: c, _PhiT: PhiT } }));
  const averageStep = trace.last.id;

  // expand into pairings: ordered pairs of sums, then combined under the
  // relabelings t↔s (both integrals run over [0,T]) and a↔b (square A); the
  // weight w of a pairing adds up the prefactors of the sums (products for
  // pairs) that give it, and its coefficient is (mean, variance or c-term factor)·w
  type Part = 'mean' | 'var' | 'tr';
  const acc = new Map<string, Pairing & { part: Part; w: Expr }>();
  const addTerm = (part: Part, w: Expr, U: Bilinear, V: Bilinear) => {
    // combine under the relabelings; keep the first-seen (natural) orientation for display
    const key = `${part}|${canonicalKey(U, V, rowPop === colPop)}`;
    const prev = acc.get(key);
    if (prev) prev.w = canon(add(prev.w, w));
    else acc.set(key, { part, kind: 'mean', A, a, b, coef: num(0), w: canon(w), U, V });
  };
  const mean = canon(dist.mean);
  if (!(mean.k === 'num' && mean.v === 0)) {
    for (const ph of phis) addTerm('mean', ph.src.cs.scale, { pop: rowPop, t: ph.row }, { pop: colPop, t: ph.col });
  }
  const halfV = mul(num(-1), pow(num(2), num(-1)), dist.var);
  for (const p1 of phis) for (const p2 of phis) {
    // Φ_ab Φ_ab: row functions at a, column functions at b
    addTerm('var', mul(p1.src.cs.scale, p2.src.cs.scale), { pop: rowPop, t: p1.row, s: p2.row }, { pop: colPop, t: p1.col, s: p2.col });
  }
  const cz = canon(c);
  if (!(cz.k === 'num' && cz.v === 0)) {
    for (const p1 of phis) for (const p2 of phis) {
      // Φ_ab Φ_ba: the second factor has its row function at b and its column function at a
      addTerm('tr', mul(p1.src.cs.scale, p2.src.cs.scale), { pop: rowPop, t: p1.row, s: p2.col }, { pop: colPop, t: p1.col, s: p2.row });
    }
  }

  const pairings: Pairing[] = [];
  const parts: Record<Part, Expr> = {
    mean: mul(num(-1), I, dist.mean, sumOver(a, sumOver(b, Phi))),
    var: mul(halfV, sumOver(a, sumOver(b, pow(Phi, num(2))))),
    tr: mul(c, halfV, sumOver(a, sumOver(b, mul(Phi, PhiT)))),
  };
  const factor: Record<Part, Expr> = { mean: canon(mul(num(-1), I, dist.mean)), var: canon(halfV), tr: canon(mul(c, halfV)) };
  for (const p of acc.values()) {
    p.coef = canon(mul(factor[p.part], p.w));
    if (p.coef.k === 'num' && p.coef.v === 0) continue;
    const nu = conjCount(p.U), nv = conjCount(p.V);
    if (p.part === 'mean') p.kind = 'mean';
    else if (nu === 1 && nv === 1) p.kind = p.part === 'var' ? 'reuse' : 'transpose';
    else {
      // two conjugate sources on one site: the variance of one sum's field, or
      // the covariance of the fields of two sums (same entries, or transposed ones)
      const both = p.U.t.conj ? p.U : p.V;
      p.kind = both.t.source === both.s!.source ? 'variance' : p.part === 'var' ? 'covariance' : 'transpose-covariance';
    }
    const rule = `msr.gaussian.${p.kind}`;
    const fns: Record<string, Expr> = p.U.s ? { _u1: p.U.t.expr, _u2: p.U.s.expr, _v1: p.V.t.expr, _v2: p.V.s!.expr } : { _u: p.U.t.expr, _v: p.V.t.expr };
    applyOrThrow(rule, parts[p.part], opts({ parent: averageStep, keepSame: true, bind: { _w: p.w, _T: H, ...fns }, display: { before: parts[p.part], after: renderPairing(st, p) } }));
    const { part: _part, w: _w, ...pairing } = p;
    pairings.push({ ...pairing, step: trace.last.id });
  }
  return pairings;
}

function bilKey(u: Bilinear): string {
  return `${u.pop.set}:${u.t.key}|${u.s?.key ?? ''}`;
}

/** A key of (U, V) invariant under t↔s and (same population) a↔b. */
function canonicalKey(U: Bilinear, V: Bilinear, swapSites: boolean): string {
  const flip = (u: Bilinear): Bilinear => (u.s ? { pop: u.pop, t: u.s, s: u.t } : u);
  const cands: [Bilinear, Bilinear][] = [[U, V]];
  if (U.s) cands.push([flip(U), flip(V)]);
  if (swapSites) for (const [x, y] of [...cands]) cands.push([y, x]);
  return cands.map(([x, y]) => `${bilKey(x)}#${bilKey(y)}`).sort()[0];
}


