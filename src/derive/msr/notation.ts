// Notation of the path-integral (MSRJD) route, shared by its stages.
//
// Expression-tree conventions (docs/path-integral.md):
//   I                  the imaginary unit i (sym 'I'; I^2 = -1 is the rule
//                      msr.algebra.i-power, applied by `simplifyI`)
//   xhat[i](t)         the response (conjugate) field x̂_i(t) of the variable x
//   xdot[i](t)         the time derivative ẋ_i(t)
//   h[i](t), hhat[i](t) a local field h_i = Σ_k A_ik f_k(t) and its conjugate,
//                      introduced only when a coupling sum enters its equation
//                      nonlinearly (tanh(Σ_j J_ij x_j) …)
//   p0_x(x[i](0))      the density of the initial condition of x
//   T                  the time horizon: every action integral is ∫_0^T dt
//   @avg(J, …)         the average over the coupling matrix J (its name as the
//                      "population" of the avg node)
//   Q[u;w](t,s)        the order parameter (1/N) Σ_a u_a(t) w_a(s) of the sites
//                      a of one population (Q[u](t) for one time), and
//   Qhat[u;w](t,s)     its conjugate (Hubbard–Stratonovich / δ-function) field
//   Z_x                the single-site generating functional of population x
// Names that would collide with the model's get a numeric suffix, except I,
// which is reserved (a model that declares a name I is refused).
import { DmftError } from '../../errors.ts';
import { add, mapPost, mul, num, ref, sym, type Expr } from '../../expr/ast.ts';
import { canon } from '../../expr/canon.ts';
import { fixpoint, postwalk, rules, run } from '../../rewrite/engine.ts';
import type { ModelAnalysis, PopInfo } from '../couplings.ts';

export const IMAG = 'I';
export const I = sym(IMAG);
export const T = sym('t');
export const S = sym('s');

/** Fresh names for the route's auxiliary fields (never colliding with the model's). */
export class Names {
  private taken: Set<string>;
  readonly horizon: string;
  constructor(an: ModelAnalysis) {
    const m = an.m;
    this.taken = new Set<string>([
      ...an.takenNames(), ...m.indexSets.flatMap((s) => [s.size, ...s.indices]), ...m.observables.map((o) => o.name),
      ...an.sums.map((s) => s.field), 't', 's',
    ]);
    if (this.taken.has(IMAG)) {
      const d = [...m.params, ...m.randoms, ...m.noises, ...m.states, ...m.lets].find((x) => x.name === IMAG);
      throw new DmftError({
        file: m.file, line: d?.span?.line, col: d?.span?.col,
        message: `the name '${IMAG}' is reserved for the imaginary unit by the path-integral route (--route msr)`,
        hint: `rename it (e.g. ${IMAG}0), or use --route cavity`,
      });
    }
    this.taken.add(IMAG);
    this.horizon = this.fresh('T');
  }
  fresh(base: string): string {
    let n = base;
    for (let k = 2; this.taken.has(n); k++) n = `${base}_${k}`;
    this.taken.add(n);
    return n;
  }
}

/** Powers of I reduced with the rules msr.algebra.i-power / i-inverse (no trace: bookkeeping). */
export function simplifyI(e: Expr): Expr {
  return run(fixpoint(postwalk(rules('msr.algebra.i-power', 'msr.algebra.i-inverse'))), canon(e));
}

/** Does e contain the imaginary unit? */
export function hasI(e: Expr): boolean {
  let found = false;
  mapPost(e, (x) => { if (x.k === 'sym' && x.name === IMAG) found = true; return x; });
  return found;
}

/** A site function of one population: a model-level expression in the
 *  population's representative index, without times. `conj` functions carry
 *  one response field (the conjugate source λ of a coupling sum). */
export interface SiteFn {
  pop: PopInfo;
  conj: boolean;
  expr: Expr;
  /** canonical key (for equality and ordering) */
  key: string;
  /** plain-text name, times and index dropped: tanh(x), xhat, -n*nhat */
  label: string;
  /** conj only: the coupling sum whose source this is (index into the route's sources) */
  source?: number;
}

/** Names of quantities without time dependence (quenched site vectors). */
export type Timeless = (name: string) => boolean;

/** A model-level site expression with its index renamed to `idx` and every
 *  time-dependent site quantity put at time τ: x[i] → x[j](τ). */
export function siteAt(e: Expr, from: string, idx: string, tau: Expr, st: { timeless: Timeless; an: ModelAnalysis }): Expr {
  const renamed = from === idx ? e : st.an.renameIndices(e, { [from]: idx });
  return mapPost(renamed, (x) => (x.k === 'ref' && x.idx.length === 1 && x.idx[0] === idx && !x.at && !st.timeless(x.name) ? { ...x, at: tau } : x));
}

/** A model-level site expression of one population as a single-site
 *  expression at time τ (no index): x[i] → x(τ), wstar[i] → wstar. */
export function singleAt(e: Expr, index: string, tau: Expr, timeless: Timeless): Expr {
  return mapPost(e, (x) => {
    if (x.k !== 'ref' || x.idx.length !== 1 || x.idx[0] !== index) return x;
    return timeless(x.name) ? ref(x.name) : ref(x.name, [], x.at ?? tau);
  });
}

/** ∫_0^T dτ body */
export const intT = (horizon: string, v: string, body: Expr): Expr => ({ k: 'int', v, lo: num(0), hi: sym(horizon), body });

/** Σ_i body */
export const sumOver = (index: string, body: Expr): Expr => ({ k: 'sum', index, body });

/** Product that drops unit factors (display). */
export function prod(...fs: Expr[]): Expr {
  const keep = fs.filter((f) => !(f.k === 'num' && f.v === 1));
  return keep.length === 0 ? num(1) : keep.length === 1 ? keep[0] : mul(...keep);
}

/** Sum that drops zero terms (display). */
export function total(...ts: Expr[]): Expr {
  const keep = ts.filter((t) => !(t.k === 'num' && t.v === 0));
  return keep.length === 0 ? num(0) : keep.length === 1 ? keep[0] : add(...keep);
}
