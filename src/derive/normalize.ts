// Canonical form of a DmftSystem, so that two derivations of the same model
// (the cavity and the path-integral routes) compare equal as JSON:
//   JSON.stringify(normalizeSystem(a)) === JSON.stringify(normalizeSystem(b)).
//
// What it does:
//  - every expression goes through `canon` (src/expr/canon.ts: flattened,
//    numbers folded exactly, like terms collected, terms and factors sorted)
//    and is rebuilt with a fixed key order and without source spans;
//  - order parameters are sorted by name; each population's fields and
//    site-local inputs are sorted by name, its cross-covariances by the pair
//    of field names; parameters by name;
//  - populations, the variables of a population and observables keep the
//    model's order (states in declaration order, then lets; observables as
//    declared) — an order that belongs to the model, not to the route;
//  - every object is rebuilt with a fixed key order; optional keys appear
//    only when set.
// Nothing semantic happens here: no rule is applied, only representation.
import type { Expr } from '../expr/ast.ts';
import { canon } from '../expr/canon.ts';
import type { Dist, InitSpec } from '../model/ir.ts';
import type { CrossCovariance, DmftSystem, GaussianField, LocalInput, ObservableDef, OrderParam, Population, Variable } from './system.ts';
import { mapDist } from '../model/distributions.ts';

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** An expression in canonical form, rebuilt with a fixed key order (no spans). */
export function normalizeExpr(e: Expr): Expr {
  return rebuild(canon(e));
}

function rebuild(e: Expr): Expr {
  switch (e.k) {
    case 'num': return { k: 'num', v: Object.is(e.v, -0) ? 0 : e.v };
    case 'sym': return { k: 'sym', name: e.name };
    case 'ref': return e.at ? { k: 'ref', name: e.name, idx: [...e.idx], at: rebuild(e.at) } : { k: 'ref', name: e.name, idx: [...e.idx] };
    case 'add': return { k: 'add', terms: e.terms.map(rebuild) };
    case 'mul': return { k: 'mul', factors: e.factors.map(rebuild) };
    case 'pow': return { k: 'pow', base: rebuild(e.base), exp: rebuild(e.exp) };
    case 'call': return { k: 'call', fn: e.fn, args: e.args.map(rebuild) };
    case 'cmp': return { k: 'cmp', op: e.op, a: rebuild(e.a), b: rebuild(e.b) };
    case 'sum': return { k: 'sum', index: e.index, body: rebuild(e.body) };
    case 'mean': return { k: 'mean', index: e.index, body: rebuild(e.body) };
    case 'avg': return { k: 'avg', pop: e.pop, body: rebuild(e.body) };
    case 'int': return { k: 'int', v: e.v, lo: rebuild(e.lo), hi: rebuild(e.hi), body: rebuild(e.body) };
    case 'op': return { k: 'op', name: e.name, args: e.args.map(rebuild) };
  }
}

const dist = (d: Dist): Dist => mapDist(d, normalizeExpr);

function init(i: InitSpec): InitSpec {
  return i.kind === 'value' ? { kind: 'value', value: normalizeExpr(i.value) } : { kind: 'dist', dist: dist(i.dist) };
}

function input(i: LocalInput): LocalInput {
  return i.kind === 'noise' ? { kind: 'noise', name: i.name, D: normalizeExpr(i.D) } : { kind: i.kind, name: i.name, dist: dist(i.dist) };
}

function field(f: GaussianField): GaussianField {
  return { name: f.name, cov: normalizeExpr(f.cov), coupling: f.coupling, sum: f.sum, pop: f.pop, variable: f.variable };
}

function cross(c: CrossCovariance): CrossCovariance {
  return { a: c.a, b: c.b, cov: normalizeExpr(c.cov) };
}

const byPair = (x: CrossCovariance, y: CrossCovariance) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0);

function variable(v: Variable): Variable {
  const out: Variable = { name: v.name, kind: v.kind, rhs: normalizeExpr(v.rhs) };
  if (v.lower) out.lower = normalizeExpr(v.lower);
  if (v.upper) out.upper = normalizeExpr(v.upper);
  if (v.init) out.init = init(v.init);
  return out;
}

function population(p: Population): Population {
  return {
    name: p.name, index: p.index,
    variables: p.variables.map(variable),
    fields: [...p.fields].sort(byName).map(field),
    cross: [...p.cross].sort(byPair).map(cross),
    inputs: [...p.inputs].sort(byName).map(input),
  };
}

function orderParam(o: OrderParam): OrderParam {
  const out: OrderParam = { name: o.name, kind: o.kind, pop: o.pop, f: normalizeExpr(o.f), ...(o.g ? { g: normalizeExpr(o.g) } : {}), def: normalizeExpr(o.def) };
  if (o.slot !== undefined) out.slot = o.slot;
  if (o.instantaneous) out.instantaneous = true;
  return out;
}

function observable(o: ObservableDef): ObservableDef {
  return { name: o.name, times: [...o.times], expr: normalizeExpr(o.expr) };
}

/** The canonical form of a DmftSystem (see the header). */
export function normalizeSystem(sys: DmftSystem): DmftSystem {
  const params = Object.fromEntries(Object.keys(sys.params).sort().map((k) => [k, sys.params[k]]));
  return {
    model: sys.model,
    ...(sys.time ? { time: sys.time } : {}),
    params,
    populations: sys.populations.map(population),
    orderParams: [...sys.orderParams].sort(byName).map(orderParam),
    observables: sys.observables.map(observable),
  };
}
