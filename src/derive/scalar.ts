// The one-variable view of a DmftSystem, for the consumers that do not read
// vector populations yet (the solvers, through src/solve/read.ts, and verify):
// each population as its single variable with its equation, bounds, initial
// condition and independent fields. A system with several variables on one
// index set, or with correlated fields, is refused with a clear message
// instead of being read wrongly. The scalar case of the DmftSystem is the
// 1×1 case of the vector one: this view renames nothing and loses nothing.
import { DmftError } from '../errors.ts';
import type { Expr } from '../expr/ast.ts';
import type { InitSpec } from '../model/ir.ts';
import type { DmftSystem, GaussianField, LocalInput } from './system.ts';

/** A population with one variable and independent fields. */
export interface ScalarPopulation {
  name: string;
  index: string;
  variable: string;
  kind: 'dynamic' | 'algebraic';
  rhs: Expr;
  lower?: Expr;
  upper?: Expr;
  init?: InitSpec;
  fields: GaussianField[];
  inputs: LocalInput[];
}

/** What a scalar reader cannot read in this system, or undefined. */
export function vectorFeature(sys: DmftSystem): string | undefined {
  for (const p of sys.populations) {
    if (p.variables.length !== 1) return `population ${p.name} carries several variables per site (${p.variables.map((v) => v.name).join(', ')})`;
    if (p.cross.length) return `the Gaussian fields ${p.cross[0].a} and ${p.cross[0].b} of population ${p.name} are correlated`;
  }
  for (const o of sys.orderParams) if (o.g) return `the cross-correlation ${o.name} is an order parameter`;
  return undefined;
}

/** The populations as scalar ones; `who` names the reader in the refusal
 *  ("the solvers", "verify"). */
export function scalarPopulations(sys: DmftSystem, who: string, opts: { discrete?: boolean } = {}): ScalarPopulation[] {
  if (sys.time === 'discrete' && !opts.discrete) {
    throw new DmftError({ message: `the model's dynamics are maps x(t+1) = …: discrete-time systems are not supported by ${who} yet`, hint: 'dmft derive prints its equations (docs/discrete-time.md)' });
  }
  const why = vectorFeature(sys);
  if (why) {
    throw new DmftError({
      message: `${why}: a vector single-site process is not supported by ${who} yet`,
      hint: 'dmft derive prints its equations (several variables per site and correlated fields derive by both routes); dmft simulate runs the model at finite N',
    });
  }
  return sys.populations.map((p) => {
    const v = p.variables[0];
    const out: ScalarPopulation = { name: p.name, index: p.index, variable: v.name, kind: v.kind, rhs: v.rhs, fields: p.fields, inputs: p.inputs };
    if (v.lower) out.lower = v.lower;
    if (v.upper) out.upper = v.upper;
    if (v.init) out.init = v.init;
    return out;
  });
}

/** A DmftSystem whose populations are all scalar. */
export interface ScalarSystem extends Omit<DmftSystem, 'populations'> {
  populations: ScalarPopulation[];
}

/** The system as a scalar one (refused as by `scalarPopulations`; `discrete`: a reader of maps, whose dynamic variable's rhs is x(t+1)). */
export function scalarSystem(sys: DmftSystem, who: string, opts: { discrete?: boolean } = {}): ScalarSystem {
  return { ...sys, populations: scalarPopulations(sys, who, opts) };
}
