// What the stationary solver returns, for both of its regimes (stationary.ts:
// the entry and the nonlinear shooting; stationary-vector.ts: linear sites).
import { DmftError } from '../errors.ts';
import type { Branch } from './types.ts';

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(6)));

export interface StationaryResult {
  /** t → ∞ value of every one-time observable */
  limit: Record<string, number>;
  /** every stationary state found, when the one from the initial mean is unstable in the mean mode */
  branches?: Branch[];
  /** estimated numerical error of `limit` */
  limitError?: Record<string, number>;
  /** stationary two-time observables as functions of the lag τ ≥ 0 */
  tau?: Record<string, { tau: number[]; values: number[] }>;
  diagnostics: Record<string, number | string | boolean>;
}
/** `kind: 'marginal'`: the state has a zero-frequency mode (a stability edge), so there is no unique stationary value. */
export type StationaryOutcome = StationaryResult | { unsupported: string; kind?: 'marginal'; branches?: Branch[] };

/** The model is inside the solver's regime but has no stationary state. */
export class StationaryInstabilityError extends DmftError {
  readonly params: Record<string, number>;
  /** 'unstable': past a stability edge; 'zero-mode': a zero-frequency mode makes the long-time state depend on the initial condition;
   *  'marginal': a loop gain is 1 within the solver's accuracy (at the edge: no value) */
  kind: 'unstable' | 'zero-mode' | 'marginal' = 'unstable';
  constructor(message: string, params: Record<string, number>, hint?: string) {
    const named = Object.entries(params).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ');
    super({
      message: `no stationary state: ${message}${named ? ` (at ${named})` : ''}`,
      hint: hint ?? 'the system is past its stability edge; solve the transient instead, or change the parameters',
    });
    this.name = 'StationaryInstabilityError';
    this.params = params;
  }
}
