// The DmftSystem IR: the single contract between the symbolic half (derive)
// and the numeric half (solve, check), and what the printers render.
//
// Conventions inside expressions (see docs/conventions.md):
//  - free times are the symbols `t` and `s`; integration variables are bound
//    by `int` nodes (the reaction term integrates over `s'`… named by derive);
//  - a variable of the population at time τ is ref(var, [], τ);
//  - a Gaussian field is ref(fieldName, [], τ);
//  - a site-local random input is ref(name) (quenched: no time) or
//    ref(name, [], τ) (white noise; in a map, randomness drawn afresh each step);
//  - order parameters are op(name, τ1[, τ2]) with name a key of `orderParams`.
import type { Expr } from '../expr/ast.ts';
import type { Dist, InitSpec } from '../model/ir.ts';

/** One rule application, for the derivation trace (defined with the trace, src/rewrite/trace.ts). */
export type { Step } from '../rewrite/trace.ts';
import type { Step } from '../rewrite/trace.ts';

/** A zero-mean Gaussian field η(t) replacing a coupling sum (one *use* of a
 *  matrix). The fields of a population form a Gaussian vector: `cov` is the
 *  field's own covariance, the population's `cross` lists the covariances
 *  between distinct fields. */
export interface GaussianField {
  name: string;
  /** ⟨η(t)η(s)⟩ as an expression in t, s (order parameters of the summed population) */
  cov: Expr;
  /** the coupling that produced it, e.g. "J" or "X^T" */
  coupling: string;
  /** the model-level sum it replaced (printed), for traces and docs */
  sum: string;
  /** population the field lives in (whose equation contains it) */
  pop: string;
  /** the variable whose equation contains it */
  variable: string;
}

/** ⟨η_a(t) η_b(s)⟩ between two distinct fields of one population (a before b
 *  by name); ⟨η_b(t) η_a(s)⟩ is the same expression with t and s exchanged. */
export interface CrossCovariance {
  a: string;
  b: string;
  cov: Expr;
}

/** Site-local randomness that passes to the single-site process unchanged. */
export type LocalInput =
  | { kind: 'quenched'; name: string; dist: Dist }
  | { kind: 'noise'; name: string; D: Expr }
  /** drawn afresh at every step of a map (`random s[mu](t) ~ …`): ref(name, [], τ), independent across steps */
  | { kind: 'step'; name: string; dist: Dist };

/** One variable of a population's site: a state (dynamic) or a let (algebraic). */
export interface Variable {
  name: string;
  kind: 'dynamic' | 'algebraic';
  /** dynamic: d/dt var(t) = rhs (var(t+1) = rhs in a discrete-time system);  algebraic: var(t) = rhs */
  rhs: Expr;
  lower?: Expr;
  upper?: Expr;
  /** dynamic only; its expressions may contain the population's quenched inputs */
  init?: InitSpec;
}

/** A population: the sites of one index set, each carrying a vector of
 *  variables (states and lets, in declaration order: states first), driven
 *  by a vector of Gaussian fields and by site-local inputs. A scalar
 *  population is the case of one variable and no cross-covariance. */
export interface Population {
  /** id: the size of the index set (N, D, P) */
  name: string;
  /** representative site index in the model (i, mu) */
  index: string;
  variables: Variable[];
  fields: GaussianField[];
  /** covariances between distinct fields; a pair not listed is independent */
  cross: CrossCovariance[];
  inputs: LocalInput[];
}

export type OrderParamKind = 'C' | 'M' | 'R';

export interface OrderParam {
  name: string;
  kind: OrderParamKind;
  /** population whose single-site average defines it */
  pop: string;
  /** the function f of the population's variables (and local inputs) whose
   *  correlation / mean / response this is; written with the variables at `t` */
  f: Expr;
  /** C only, when it differs from f: C[f,g](t,s) = ⟨f(t) g(s)⟩ (a cross-correlation) */
  g?: Expr;
  /** R only: the field whose insertion point is the perturbation slot;
   *  R(t,s) = ⟨δ f(t) / δ field(s)⟩ (a cross-response when the slot is in the
   *  equation of another variable than those of f) */
  slot?: string;
  /** the defining single-site average, e.g. avg(N, tanh(x(t)) tanh(x(s))) */
  def: Expr;
  /** f responds instantaneously to the slot (through a let whose equation
   *  contains it): R carries δ(t−s) */
  instantaneous?: boolean;
}

export interface ObservableDef {
  name: string;
  /** [] or ['t'] for one-time, ['t','s'] for two-time */
  times: string[];
  /** the observable as single-site averages (avg nodes) and parameters */
  expr: Expr;
}

export interface DmftSystem {
  model: string;
  /** 'discrete': the states follow maps var(t+1) = rhs on the integer step
   *  grid t = 0, 1, 2, …, and every `int(s, lo, hi, f)` node is the sum of f
   *  over the steps s = lo … hi (docs/discrete-time.md); absent: continuous time */
  time?: 'discrete';
  /** parameter defaults (overridable by --set) */
  params: Record<string, number>;
  /** ratios of sizes, as parameters of the limit (e.g. P/D = alpha) */
  populations: Population[];
  orderParams: OrderParam[];
  observables: ObservableDef[];
}

export interface Derivation {
  route: 'cavity' | 'msr';
  system: DmftSystem;
  steps: Step[];
  /** remarks for the reader, e.g. that non-Gaussian couplings entered
   *  through their mean and variance only */
  notes: string[];
}
