// Entry point of the derivation: Model IR → DmftSystem by a chosen route.
// Each route returns its own system (terms in the order the derivation wrote
// them, which reads best in LaTeX); `normalizeSystem` (normalize.ts) maps both
// to one canonical form, which is what `dmft derive --format json` prints.
import { DmftError } from '../errors.ts';
import { some, type Expr } from '../expr/ast.ts';
import { print } from '../expr/print.ts';
import { noStatesReason, type Model } from '../model/ir.ts';
import { deriveCavity } from './cavity.ts';
import { deriveMsr } from './msr.ts';
import type { Derivation, DmftSystem } from './system.ts';

export type Route = 'cavity' | 'msr';

export function derive(m: Model, route: Route = 'cavity'): Derivation {
  let d: Derivation;
  const stateless = noStatesReason(m);
  if (stateless) throw new DmftError({ file: m.file, message: stateless, hint: 'derive, solve, simulate and check need dynamics (a state with d/dt or (t+1))' });
  if (route === 'cavity') d = deriveCavity(m);
  else if (route === 'msr') d = deriveMsr(m);
  else throw new DmftError({ message: `unknown route '${route}'`, expected: 'cavity or msr' });
  refuseSizes(m, d.system);
  return d;
}

/** The DMFT is the limit of infinite sizes: a derived system in which a size
 *  (N, D, P…) is left has no meaning for the solvers. The derivation takes
 *  every limit it can (src/derive/limit.ts); this is the guard behind it,
 *  naming the term. */
export function refuseSizes(m: Model, sys: DmftSystem): void {
  const sizes = new Set(m.indexSets.map((s) => s.size));
  const sizeIn = (e: Expr): string | undefined => {
    let found: string | undefined;
    some(e, (x) => { if (x.k === 'sym' && sizes.has(x.name)) { found = x.name; return true; } return false; });
    return found;
  };
  const terms = (e: Expr): Expr[] => (e.k === 'add' ? e.terms.flatMap(terms) : [e]);
  const check = (e: Expr | undefined, where: string, span?: { line: number; col: number }) => {
    if (!e) return;
    const size = sizeIn(e);
    if (!size) return;
    const term = terms(e).find((t) => sizeIn(t)) ?? e;
    throw new DmftError({
      file: m.file, line: span?.line, col: span?.col,
      message: `the derived ${where} still contains the size ${size}, in the term '${print(term)}'`,
      hint: 'the DMFT holds as the sizes go to infinity: write sizes as ratios (ratio P/D = alpha) or as the prefactor of a coupling sum (g/sqrt(N)*sum(j, …)), see "The scaling rule" in docs/model-language.md',
    });
  };
  for (const p of sys.populations) {
    let span: { line: number; col: number } | undefined;
    for (const v of p.variables) {
      const decl = m.dynamics.find((d) => d.state === v.name) ?? m.lets.find((l) => l.name === v.name);
      span ??= decl?.span;
      check(v.rhs, `equation of ${v.name}`, decl?.span);
      check(v.lower, `lower bound of ${v.name}`);
      check(v.upper, `upper bound of ${v.name}`);
    }
    for (const f of p.fields) check(f.cov, `covariance of the field ${f.name} (${f.sum})`, span);
    for (const c of p.cross) check(c.cov, `covariance of the fields ${c.a} and ${c.b}`, span);
    for (const i of p.inputs) {
      if (i.kind === 'noise') check(i.D, `strength of the noise ${i.name}`);
      else for (const a of Object.values(i.dist)) if (typeof a === 'object') check(a, `distribution of ${i.name}`);
    }
  }
  for (const o of sys.orderParams) check(o.def, `order parameter ${o.name}`);
  for (const o of sys.observables) check(o.expr, `observable ${o.name}`, m.observables.find((x) => x.name === o.name)?.span);
}
