// The state threaded through the stages of the path-integral route.
import { ckey, canon } from '../../expr/canon.ts';
import { mapPost, ref, type Expr } from '../../expr/ast.ts';
import { print } from '../../expr/print.ts';
import type { Model } from '../../model/ir.ts';
import { Trace } from '../../rewrite/trace.ts';
import { freeIndices } from '../../expr/ast.ts';
import type { CouplingSum, ModelAnalysis, PopInfo, VarInfo } from '../couplings.ts';
import { modelEnv, SiteInputs } from '../couplings.ts';
import type { RuleEnv } from '../registry.ts';
import { Names, simplifyI, siteAt, type SiteFn, type Timeless } from './notation.ts';

/** A variable of a population as the action sees it. */
export interface VarMsr {
  pop: PopInfo;
  v: VarInfo;
  /** response field x̂ (dynamic) or r̂ (let) */
  hat: string;
  /** the quantity the δ-functional fixes: ẋ (dynamic, a fresh `xdot`) or the let variable itself */
  lhs: string;
  /** initial density p0_x (dynamic populations) */
  p0?: string;
  /** model-level right-hand side with every coupling sum replaced by
   *  outside·σ (σ a placeholder symbol) or, for a sum entering
   *  nonlinearly, outside·h[i] (its local field) */
  template: Expr;
  /** white noises of the equation: F = … + b·ξ */
  noises: { name: string; D: Expr; b: Expr }[];
}

/** One coupling sum Σ_k A_ik f_k as a source term of the action. */
export interface Source {
  n: number;
  cs: CouplingSum;
  /** placeholder symbol of the bare sum in the population's template */
  sigma: string;
  /** local field and its conjugate, when the sum enters nonlinearly */
  aux?: { h: string; hhat: string };
  /** ∂F/∂σ (model level): the conjugate source is λ = b·x̂ (1·ĥ with a local field) */
  b: Expr;
  /** λ_i: the conjugate source on the site population */
  lambda: SiteFn;
  /** f_k: the summed function on the summed population */
  f: SiteFn;
}

export class MsrState {
  readonly trace = new Trace();
  readonly names: Names;
  readonly inputs: SiteInputs;
  /** every variable of every population, in model order */
  readonly vars: VarMsr[] = [];
  readonly sources: Source[] = [];
  /** single-site actions S_P[Q̂] of stage 3 (display) */
  readonly siteActions = new Map<PopInfo, Expr>();
  readonly timeless: Timeless;
  /** what the rules' builders and predicates read (src/derive/registry.ts) */
  readonly env: RuleEnv;
  /** how stage 4 allocates an order parameter (set by the saddle-point stage) */
  allocate?: RuleEnv['orderParam'];
  /** the step that wrote the generating functional (stage 2 rewrites its exponent) */
  actionStep?: string;
  /** population → the step that factorized its sites (stage 4 reads its single-site action) */
  readonly factorized = new Map<PopInfo, string>();

  constructor(readonly an: ModelAnalysis) {
    this.names = new Names(an);
    this.inputs = new SiteInputs(an.pops);
    const quenched = new Set(an.m.randoms.filter((r) => r.indices.length === 1 && !r.timeDependent).map((r) => r.name));
    this.timeless = (n) => quenched.has(n);
    this.env = {
      ...modelEnv(an, this.inputs),
      orderParam: (kind, index, f, slot) => {
        if (!this.allocate) throw new Error('@orderParam: order parameters are allocated at the saddle point');
        return this.allocate(kind, index, f, slot);
      },
      at: (e, idx, tau) => {
        const from = [...freeIndices(e)];
        if (from.length > 1) throw new Error(`@at: ${print(e)} is not a site function (indices ${from.join(', ')})`);
        return siteAt(e, from[0] ?? idx, idx, tau, this);
      },
      correlation: () => { throw new Error('@orderParam(C, …, f, g, …): the path-integral route reads correlations off the saddle point'); },
      isConjugate: (name) => this.vars.some((p) => p.hat === name) || this.sources.some((s) => s.aux?.hhat === name),
      reduceI: simplifyI,
    };
  }

  get m(): Model { return this.an.m; }
  get horizon(): string { return this.names.horizon; }

  /** The variables of a population. */
  varsOf(p: PopInfo): VarMsr[] { return this.vars.filter((x) => x.pop === p); }

  /** A site function of population `pop` from a model-level expression in `fromIndex`. */
  siteFn(pop: PopInfo, expr: Expr, fromIndex: string, conj: boolean, source?: number): SiteFn {
    // the expression is kept as written (order-parameter names are printed
    // from it, as the cavity route does); equality goes by canonical key
    const e = fromIndex === pop.index ? expr : this.an.renameIndices(expr, { [fromIndex]: pop.index });
    const label = print(mapPost(e, (x) => (x.k === 'ref' && x.idx.length === 1 && x.idx[0] === pop.index ? ref(x.name) : x)));
    // conjugate sources of different sums are different variables even when
    // their expressions coincide (J and Jᵀ entering alike): the key says whose
    const key = ckey(canon(e)) + (conj ? `#${source}` : '');
    return { pop, conj, expr: e, key, label, source };
  }
}
