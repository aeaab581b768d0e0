// Stage 1 of the path-integral route: the MSRJD generating functional
//   Z = ∫ Dx Dx̂ exp(S),  S = Σ_i [ ln p0(x_i(0)) + ∫dt ( i x̂_i (ẋ_i − F_i) − (D/2) b² x̂_i² ) ]
// for every population (a `let` population r = G enters through the
// δ-functional i r̂ (r − G) with its own conjugate field). Each coupling sum
// Σ_k A_ik f_k becomes a source term −i λ_i Σ_k A_ik f_k with λ_i = b_i x̂_i,
// b = ∂F/∂(sum) when the equation is affine in the sum; otherwise the sum is
// named as a local field h_i with its own conjugate ĥ_i (λ = ĥ).
import { DmftError } from '../../errors.ts';
import { add, avg, call, mapPost, mul, neg, num, ref, some, sym, type Expr } from '../../expr/ast.ts';
import { degree, diff, isVar, type VarTest } from '../../expr/diff.ts';
import { print } from '../../expr/print.ts';
import { applyOrThrow, applyRule } from '../../rewrite/engine.ts';
import { fail, replaceNode, varWhere, type CouplingSum, type VarInfo } from '../couplings.ts';
import { tidy } from '../../expr/tidy.ts';
import { I, intT, prod, sumOver, T, total } from './notation.ts';
import type { MsrState, VarMsr, Source } from './state.ts';

/** Every single-index site quantity put at time τ (couplings and quenched vectors keep no time). */
export function timed(st: MsrState, e: Expr, tau: Expr): Expr {
  return mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 1 && !x.at && !st.timeless(x.name) ? { ...x, at: tau } : x));
}

/** The bare coupling sum Σ_k A_ik f_k (outside factors removed), model level. */
export function bareSum(cs: CouplingSum): Expr {
  const idx = ['', ''];
  idx[cs.siteSlot] = cs.pop.index;
  idx[cs.sumSlot] = cs.node.index;
  const A = ref(cs.A.name, idx);
  return { k: 'sum', index: cs.node.index, body: cs.f.k === 'num' && cs.f.v === 1 ? A : mul(A, cs.f) };
}

const where = (v: VarInfo) => `action: ${varWhere(v)}`;

/** Build the populations' templates and sources (no trace). */
export function prepare(st: MsrState): void {
  const { an } = st;
  for (const p of an.pops) {
    for (const v of p.vars) {
      const hat = st.names.fresh(`${v.name}hat`);
      // the left-hand side of the equation E = lhs − F: ẋ for a flow, x(t+1) for a map
      const lhs = v.kind === 'dynamic' ? st.names.fresh(v.step ? `${v.name}next` : `${v.name}dot`) : v.name;
      const pm: VarMsr = { pop: p, v, hat, lhs, template: v.rhs, noises: [] };
      if (v.kind === 'dynamic') pm.p0 = st.names.fresh(`p0_${v.name}`);
      st.vars.push(pm);
    }
  }
  an.sums.forEach((cs, n) => {
    st.sources.push({ n, cs, sigma: `σ${n}`, b: num(1), lambda: undefined!, f: st.siteFn(cs.sumPop, cs.f, cs.node.index, false) });
  });
  for (const pm of st.vars) {
    const mine = st.sources.filter((s) => s.cs.var === pm.v);
    let tpl = pm.v.rhs;
    for (const s of mine) tpl = replaceNode(tpl, s.cs.node, prod(...s.cs.outside, sym(s.sigma)));
    const isSigma: VarTest = (e) => e.k === 'sym' && mine.some((s) => s.sigma === e.name);
    const noiseNames = new Set(an.m.noises.map((n) => n.name));
    const isNoise: VarTest = (e) => e.k === 'ref' && noiseNames.has(e.name);
    // a sum is "direct" when the equation is affine in it with a coefficient
    // free of every sum and noise; otherwise it gets a local field
    const aux = new Set<Source>();
    for (const s of mine) {
      const deg = degree(tpl, isVar(s.sigma));
      const b = deg <= 1 ? diff(tpl, isVar(s.sigma)) : undefined;
      if (!b || degree(b, isSigma) > 0 || degree(b, isNoise) > 0) aux.add(s);
      else s.b = b;
    }
    const numbered = mine.length > 1 || st.sources.length > 1;
    for (const s of mine) {
      if (aux.has(s)) {
        const base = numbered ? `h${s.n + 1}` : 'h';
        const h = st.names.fresh(base);
        s.aux = { h, hhat: st.names.fresh(`${h}hat`) };
        s.b = num(1);
        tpl = an.substSyms(tpl, { [s.sigma]: ref(h, [pm.pop.index]) });
        s.lambda = st.siteFn(pm.pop, ref(s.aux.hhat, [pm.pop.index]), pm.pop.index, true, s.n);
      } else {
        s.lambda = st.siteFn(pm.pop, tidy(prod(s.b, ref(pm.hat, [pm.pop.index]))), pm.pop.index, true, s.n);
      }
    }
    pm.template = tpl;
    // two sums with the same conjugate source expression (J and Jᵀ entering
    // alike): tell their order parameters apart in the trace by the field name
    const dup = mine.filter((s) => mine.some((o) => o !== s && o.lambda.label === s.lambda.label));
    for (const s of dup) s.lambda = { ...s.lambda, label: `${s.lambda.label}|${s.cs.field}` };
    // white noise must enter linearly for the Gaussian average of stage 1
    const noisy = an.m.noises.filter((nz) => some(tpl, (x) => x.k === 'ref' && x.name === nz.name));
    for (const nz of noisy) {
      const node = findRef(pm.v.rhs, nz.name) ?? pm.v.rhs;
      if (pm.v.kind === 'algebraic') {
        fail(an.m, node, `white noise '${nz.name}' in the algebraic variable '${pm.v.name}' is not supported by the path-integral route`, 'white noise needs a dynamic equation d/dt …; use --route cavity to pass it through unchanged');
      }
      if (nz.dist.kind !== 'white') fail(an.m, node, `noise '${nz.name}' is not white`, 'declare noise … ~ white(D)');
      if (degree(tpl, isNoise) > 1 || degree(diff(tpl, isVar(nz.name)), isNoise) > 0) {
        fail(an.m, node, `the white noise '${nz.name}' enters the equation of ${pm.v.name} nonlinearly ('${print(pm.v.rhs)}'): its Gaussian average is not closed`, 'the MSRJD noise average needs d/dt x = F + b·ξ with b free of noise; use --route cavity, which passes the noise through unchanged');
      }
      pm.noises.push({ name: nz.name, D: nz.dist.D, b: diff(tpl, isVar(nz.name)) });
    }
  }
}

function findRef(e: Expr, name: string): Expr | undefined {
  let out: Expr | undefined;
  some(e, (x) => { if (x.k === 'ref' && x.name === name) { out = x; return true; } return false; });
  return out;
}

/** The model-level right-hand side as the action displays it: local fields in
 *  place of the sums that have one, the other sums as written. */
function displayRhs(st: MsrState, pm: VarMsr): Expr {
  let e = pm.v.rhs;
  for (const s of st.sources.filter((x) => x.cs.var === pm.v && x.aux)) {
    e = replaceNode(e, s.cs.node, prod(...s.cs.outside, ref(s.aux!.h, [pm.pop.index])));
  }
  return e;
}

/** Stage 1: the action S, with its steps in the trace. Returns S (canonical). */
export function buildAction(st: MsrState): Expr {
  const { trace } = st;
  const H = st.horizon;
  const siteTerms: Expr[] = [];
  for (const pm of st.vars) {
    const v = pm.v;
    const i = pm.pop.index;
    const w = where(v);
    const dens: Expr[] = [];
    // local fields for sums that enter nonlinearly
    for (const s of st.sources.filter((x) => x.cs.var === v && x.aux)) {
      const sumT = timed(st, bareSum(s.cs), T);
      applyOrThrow('msr.action.local-field', sumT, { trace, env: st.env, where: w, bind: { _h: s.aux!.h, _i: i }, display: { before: sumT } });
      dens.push(mul(I, ref(s.aux!.hhat, [i], T), add(ref(s.aux!.h, [i], T), neg(sumT))));
    }
    // the δ-functional of the equation
    const E = add(ref(pm.lhs, [i], T), neg(timed(st, displayRhs(st, pm), T)));
    const rf = applyRule(st.an.discrete ? 'discrete.action.response-field' : 'msr.action.response-field', E, { where: w, trace, bind: { _y: pm.lhs, _i: i, _t: 't', _yhat: pm.hat } });
    if (!rf) throw new Error(`internal: the response-field rule did not apply to ${print(E)}`);
    dens.unshift(rf);
    // white noise: Gaussian average
    for (const nz of pm.noises) {
      const src = avg(nz.name, call('exp', mul(num(-1), I, intT(H, 't', mul(ref(pm.hat, [i], T), timed(st, nz.b, T), ref(nz.name, [i], T))))));
      const out = applyRule('msr.action.noise', src, { where: w, trace, bind: { _D: nz.D } });
      if (!out || out.k !== 'call' || out.fn !== 'exp') throw new Error(`internal: msr.action.noise did not apply to ${print(src)}`);
      const integral = out.args[0];
      dens.push(stripInt(integral));
    }
    const terms: Expr[] = [intT(H, 't', total(...dens))];
    if (pm.p0) {
      const init = applyRule('msr.action.init', ref(v.name, [i], num(0)), { where: `action: init ${v.name}`, trace, bind: { _p0: pm.p0 } });
      if (!init) throw new Error('internal: msr.action.init did not apply');
      terms.unshift(init);
    }
    siteTerms.push(sumOver(i, total(...terms)));
  }
  const S = total(...siteTerms);
  const Z = applyRule('msr.action.generating-functional', sym('Z'), { where: 'action: Z = ∫ Dx Dxhat exp(S)', trace, bind: { _S: S } });
  if (!Z || Z.k !== 'call') throw new Error('internal: msr.action.generating-functional did not apply');
  st.actionStep = trace.last.id;
  return Z.args[0];
}

/** The integrand of c·∫_0^T dt f, as c·f (for assembling one ∫dt per population). */
function stripInt(e: Expr): Expr {
  if (e.k === 'int') return e.body;
  if (e.k === 'mul') {
    const k = e.factors.findIndex((f) => f.k === 'int');
    if (k >= 0) {
      const body = (e.factors[k] as Extract<Expr, { k: 'int' }>).body;
      return mul(...e.factors.filter((_, j) => j !== k), body);
    }
  }
  throw new DmftError({ message: `internal: expected an integral, found ${print(e)}` });
}

export { T };
