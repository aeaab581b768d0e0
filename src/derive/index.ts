// Entry point of the derivation: Model IR → DmftSystem by a chosen route.
import { DmftError } from '../errors.ts';
import type { Model } from '../model/ir.ts';
import { deriveCavity } from './cavity.ts';
import type { Derivation } from './system.ts';

export type Route = 'cavity' | 'msr';

export function derive(m: Model, route: Route = 'cavity'): Derivation {
  if (route === 'cavity') return deriveCavity(m);
  if (route === 'msr') throw new DmftError({ message: "the path-integral route (--route msr) is not implemented yet", hint: 'use --route cavity' });
  throw new DmftError({ message: `unknown route '${route}'`, expected: 'cavity or msr' });
}
