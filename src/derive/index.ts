// Entry point of the derivation: Model IR → DmftSystem by a chosen route.
// Each route returns its own system (terms in the order the derivation wrote
// them, which reads best in LaTeX); `normalizeSystem` (normalize.ts) maps both
// to one canonical form, which is what `dmft derive --format json` prints.
import { DmftError } from '../errors.ts';
import type { Model } from '../model/ir.ts';
import { deriveCavity } from './cavity.ts';
import { deriveMsr } from './msr.ts';
import type { Derivation } from './system.ts';

export type Route = 'cavity' | 'msr';

export function derive(m: Model, route: Route = 'cavity'): Derivation {
  let d: Derivation;
  if (route === 'cavity') d = deriveCavity(m);
  else if (route === 'msr') d = deriveMsr(m);
  else throw new DmftError({ message: `unknown route '${route}'`, expected: 'cavity or msr' });
  return d;
}
