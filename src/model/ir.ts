// The Model IR: what a `.dmft` file declares, typed and JSON-serializable.
// Produced by parse.ts, checked by validate.ts, read by derive and simulate.
import type { Expr, Span } from '../expr/ast.ts';

export interface Param {
  name: string;
  value: number;
  /** the defining expression when it is not a plain number (param h = 2*g);
   *  `--set` of an earlier param recomputes the value from it */
  expr?: Expr;
  span?: Span;
}

/** `index i, j in 1..N`: the indices i, j range over the set of size N. */
export interface IndexSet { size: string; indices: string[]; span?: Span }

/** `ratio P/D = alpha`: size num / size den → value as sizes → ∞. */
export interface Ratio { num: string; den: string; value: Expr; span?: Span }

export type Dist =
  | { kind: 'normal'; mean: Expr; var: Expr }
  | { kind: 'uniform'; lo: Expr; hi: Expr }
  | { kind: 'bernoulli'; p: Expr }
  | { kind: 'white'; D: Expr };

/** `random J[i,j] ~ normal(m, v)` and its options. */
export interface RandomDecl {
  name: string;
  /** the index names as written in the declaration */
  indices: string[];
  /** the size of each slot, e.g. ['N','N'] or ['P','D'] */
  sets: string[];
  dist: Dist;
  /** `, symmetric`: J[i,j] = J[j,i] */
  symmetric: boolean;
  /** `, corr(J[i,j], J[j,i]) = kappa`: correlation with the transpose */
  transposeCorr?: Expr;
  /** `random s[mu](t) ~ …`: drawn afresh at every time step */
  timeDependent: boolean;
  /** never written: set by src/model/affine.ts when every use of the matrix
   *  is a + b·X with X ~ dist; the coupling's entries are then a + b·X */
  affine?: { a: Expr; b: Expr };
  span?: Span;
}

/** `noise xi[i] ~ white(D)` */
export interface NoiseDecl { name: string; indices: string[]; sets: string[]; dist: Dist; span?: Span }

/** `state x[i]`, `state n[i] >= 0` */
export interface StateDecl { name: string; index: string; set: string; lower?: Expr; upper?: Expr; span?: Span }

export type InitSpec =
  | { kind: 'dist'; dist: Dist }
  | { kind: 'value'; value: Expr };

export interface InitDecl {
  state: string;
  /** the site index as written (init x[i] …); checked against the state's set */
  index?: string;
  init: InitSpec;
  span?: Span;
}

/** `let r[mu] = expr`: an algebraic population defined instantaneously. */
export interface LetDecl { name: string; index: string; set: string; expr: Expr; span?: Span }

/** `d/dt x[i] = rhs` (ode) or `x[i](t+1) = rhs` (map, discrete time). */
export interface Dynamics { state: string; index: string; kind: 'ode' | 'map'; rhs: Expr; span?: Span }

/** `constraint mean(i, x[i]^2) = 1 via z` */
export interface Constraint { lhs: Expr; rhs: Expr; multiplier: string; span?: Span }

/** `matrix H[i,j] = expr`: a random matrix built from the model's randoms,
 *  studied by `dmft spectrum` (its Stieltjes transform, density, outliers). */
export interface MatrixDecl {
  name: string;
  /** the two index names as written, both over `set` */
  indices: [string, string];
  /** the size of the set the matrix acts on (filled by validation) */
  set: string;
  expr: Expr;
  span?: Span;
}

/** `observe name = expr` (one-time) or `observe C(t,s) = expr` (two-time). */
export interface Observable { name: string; times: string[]; expr: Expr; span?: Span }

export interface Model {
  name: string;
  file: string;
  params: Param[];
  indexSets: IndexSet[];
  ratios: Ratio[];
  randoms: RandomDecl[];
  noises: NoiseDecl[];
  states: StateDecl[];
  inits: InitDecl[];
  lets: LetDecl[];
  dynamics: Dynamics[];
  constraints: Constraint[];
  observables: Observable[];
  /** `matrix` statements (absent when there are none, so older JSON is unchanged) */
  matrices?: MatrixDecl[];
}

export function emptyModel(file: string): Model {
  return {
    name: '', file, params: [], indexSets: [], ratios: [], randoms: [], noises: [],
    states: [], inits: [], lets: [], dynamics: [], constraints: [], observables: [],
  };
}

/** Size of the set an index ranges over, or undefined. */
export function setOfIndex(m: Model, index: string): string | undefined {
  return m.indexSets.find((s) => s.indices.includes(index))?.size;
}

export function paramValues(m: Model): Record<string, number> {
  return Object.fromEntries(m.params.map((p) => [p.name, p.value]));
}

/** Dynamics commands need states: a model of matrices only is refused with
 *  the command that studies it. Returns the message, or undefined. */
export function noStatesReason(m: Model): string | undefined {
  if (m.states.length) return undefined;
  const names = (m.matrices ?? []).map((x) => x.name).join(', ');
  return `the model declares no state, only the matrix ${names}: study its spectrum with dmft spectrum ${m.file}`;
}
