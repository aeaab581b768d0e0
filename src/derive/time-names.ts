// Parameters named like a time. The derived system writes its times as the
// symbols t, s, u and tau, so a parameter with one of these names would be
// read as a time — by the solvers as well as in the
// LaTeX (\dot M(t) = … + s + t M(t) next to C(t, s)). Before deriving, such a
// parameter is renamed t_2, s_2, … everywhere in the model (as a field is
// renamed η₂ when the model uses the name eta), and the derivation says so in
// a note. `--set t=…` still works: it applies to the model as written.
import { sym, type Expr } from '../expr/ast.ts';
import { numbered, substSyms } from '../expr/subst.ts';
import { mapDist } from '../model/distributions.ts';
import type { Model } from '../model/ir.ts';

/** The names the derived system uses for times (its two times, integration variables). */
const TIME_NAMES = new Set(['t', 's', 'u', 'tau']);
const isTimeName = (n: string): boolean => TIME_NAMES.has(n);

export function renameTimeParams(m: Model): { model: Model; notes: string[] } {
  const clash = m.params.filter((p) => isTimeName(p.name));
  if (!clash.length) return { model: m, notes: [] };
  const taken = new Set<string>([
    ...m.params.map((p) => p.name), ...m.randoms.map((r) => r.name), ...m.noises.map((n) => n.name), ...m.states.map((s) => s.name),
    ...m.lets.map((l) => l.name), ...m.observables.map((o) => o.name), ...m.indexSets.flatMap((s) => [s.size, ...s.indices]),
    ...m.constraints.map((c) => c.multiplier),
  ]);
  const map = new Map<string, string>();
  for (const p of clash) {
    const n = numbered(p.name, (x) => taken.has(x) || isTimeName(x));
    taken.add(n);
    map.set(p.name, n);
  }
  const to = Object.fromEntries([...map].map(([a, b]) => [a, sym(b)])) as Record<string, Expr>;
  const E = (e: Expr): Expr => substSyms(e, to);
  const O = (e: Expr | undefined): Expr | undefined => (e ? E(e) : e);
  // spans are kept: errors still point at the model as written
  const model: Model = {
    ...m,
    params: m.params.map((p) => ({ ...p, name: map.get(p.name) ?? p.name, expr: O(p.expr) })),
    ratios: m.ratios.map((r) => ({ ...r, value: E(r.value) })),
    randoms: m.randoms.map((r) => ({ ...r, dist: mapDist(r.dist, E), transposeCorr: O(r.transposeCorr) })),
    noises: m.noises.map((n) => ({ ...n, dist: mapDist(n.dist, E) })),
    states: m.states.map((s) => ({ ...s, lower: O(s.lower), upper: O(s.upper) })),
    inits: m.inits.map((i) => ({ ...i, init: i.init.kind === 'dist' ? { kind: 'dist', dist: mapDist(i.init.dist, E) } : { kind: 'value', value: E(i.init.value) } })),
    lets: m.lets.map((l) => ({ ...l, expr: E(l.expr) })),
    dynamics: m.dynamics.map((d) => ({ ...d, rhs: E(d.rhs) })),
    constraints: m.constraints.map((c) => ({ ...c, lhs: E(c.lhs), rhs: E(c.rhs) })),
    observables: m.observables.map((o) => ({ ...o, expr: E(o.expr) })),
  };
  const notes = [...map].map(([a, b]) => `the parameter ${a} is written ${b} in the derived system: ${a} names a time there`);
  return { model, notes };
}
