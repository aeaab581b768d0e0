// Hand-built DmftSystems matching the reference results of docs/conventions.md.
// For printer tests only: the derivation's own output is golden-tested
// elsewhere. Built with the ast constructors, exactly as a route would.
import { add, avg, call, div, integral, mul, neg, num, op, pow, ref, sub, sym, type Expr } from '../../src/expr/ast.ts';
import type { DmftSystem, GaussianField, LocalInput, Population, Step } from '../../src/derive/system.ts';
import type { InitSpec } from '../../src/model/ir.ts';

/** A population with one variable, written flat (the 1×1 case of the vector population). */
function pop(p: {
  name: string; index: string; variable: string; kind: 'dynamic' | 'algebraic'; rhs: Expr; lower?: Expr; upper?: Expr; init?: InitSpec;
  fields: Omit<GaussianField, 'variable'>[]; inputs: LocalInput[];
}): Population {
  const v: Population['variables'][number] = { name: p.variable, kind: p.kind, rhs: p.rhs };
  if (p.lower) v.lower = p.lower;
  if (p.upper) v.upper = p.upper;
  if (p.init) v.init = p.init;
  return { name: p.name, index: p.index, variables: [v], fields: p.fields.map((f) => ({ ...f, variable: p.variable })), cross: [], inputs: p.inputs };
}

const t = sym('t');
const s = sym('s');
const at = (name: string, tau: Expr = t): Expr => ref(name, [], tau);
const fder = (f: Expr, field: string): Expr => call('fder', f, at(field, s));

/** SCS: ẋ = −x + J0 M_φ(t) + η, ⟨η(t)η(s)⟩ = g² C_φ(t,s), φ = tanh. */
export function scs(): DmftSystem {
  const phi = (tau: Expr) => call('tanh', at('x', tau));
  return {
    model: 'random rate network (Sompolinsky–Crisanti–Sommers)',
    params: { g: 1.5, J0: 0 },
    populations: [pop({
      name: 'N', index: 'i', variable: 'x', kind: 'dynamic',
      rhs: add(neg(at('x')), mul(sym('J0'), op('M_phi', t)), at('eta')),
      init: { kind: 'dist', dist: { kind: 'normal', mean: num(0), var: num(1) } },
      fields: [{ name: 'eta', cov: mul(pow(sym('g'), num(2)), op('C_phi', t, s)), coupling: 'J', sum: 'sum(j, J[i,j]*tanh(x[j]))', pop: 'N' }],
      inputs: [],
    })],
    orderParams: [
      { name: 'M_phi', kind: 'M', pop: 'N', f: phi(t), def: avg('N', phi(t)) },
      { name: 'C_phi', kind: 'C', pop: 'N', f: phi(t), def: avg('N', mul(phi(t), phi(s))) },
    ],
    observables: [
      { name: 'var', times: ['t'], expr: avg('N', pow(at('x'), num(2))) },
      { name: 'C', times: ['t', 's'], expr: avg('N', mul(at('x'), at('x', s))) },
    ],
  };
}

/** Partially symmetric linear network: ẋ = −x + η + κg² ∫₀ᵗ R(t,s) x(s) ds + ξ, ⟨ηη⟩ = g² C_x, ⟨ξξ⟩ = σ² δ(t−s). */
export function linearPartialSym(): DmftSystem {
  return {
    model: 'noise-driven linear network with partially symmetric couplings',
    params: { g: 0.5, kappa: 0.5, sigma2: 1 },
    populations: [pop({
      name: 'N', index: 'i', variable: 'x', kind: 'dynamic',
      rhs: add(
        neg(at('x')), at('eta'),
        mul(sym('kappa'), pow(sym('g'), num(2)), integral('s', num(0), t, mul(op('R_x', t, s), at('x', s)))),
        at('xi'),
      ),
      init: { kind: 'value', value: num(0) },
      fields: [{ name: 'eta', cov: mul(pow(sym('g'), num(2)), op('C_x', t, s)), coupling: 'J', sum: 'sum(j, J[i,j]*x[j])', pop: 'N' }],
      inputs: [{ kind: 'noise', name: 'xi', D: sym('sigma2') }],
    })],
    orderParams: [
      { name: 'C_x', kind: 'C', pop: 'N', f: at('x'), def: avg('N', mul(at('x'), at('x', s))) },
      { name: 'R_x', kind: 'R', pop: 'N', f: at('x'), slot: 'eta', def: avg('N', fder(at('x'), 'eta')) },
    ],
    observables: [{ name: 'var', times: [], expr: avg('N', pow(at('x'), num(2))) }],
  };
}

/**
 * Gradient flow on linear regression (two populations, bipartite):
 *   r(t) = ζ(t) − ε − (1/α) ∫₀ᵗ R_v(t,s) r(s) ds,   ⟨ζζ⟩ = C_v,
 *   ẇ(t) = −(1/α) ξ(t) − ∫₀ᵗ R_r(t,s) (w(s) − w*) ds,  ⟨ξξ⟩ = α C_r,
 * with v = w − w*, and the instantaneous response of the algebraic r.
 */
export function regression(): DmftSystem {
  const v = (tau: Expr) => sub(at('w', tau), ref('wstar'));
  return {
    model: 'gradient flow on linear regression',
    params: { alpha: 2, sigma2: 0.25 },
    populations: [
      pop({
        name: 'D', index: 'i', variable: 'w', kind: 'dynamic',
        rhs: add(
          mul(num(-1), pow(sym('alpha'), num(-1)), at('xi')),
          neg(integral('s', num(0), t, mul(op('R_r', t, s), v(s)))),
        ),
        init: { kind: 'value', value: num(0) },
        fields: [{ name: 'xi', cov: mul(sym('alpha'), op('C_r', t, s)), coupling: 'X^T', sum: 'sum(mu, X[mu,i]*r[mu])', pop: 'D' }],
        inputs: [{ kind: 'quenched', name: 'wstar', dist: { kind: 'normal', mean: num(0), var: num(1) } }],
      }),
      pop({
        name: 'P', index: 'mu', variable: 'r', kind: 'algebraic',
        rhs: add(
          at('zeta'), neg(ref('eps')),
          mul(num(-1), div(num(1), sym('alpha')), integral('s', num(0), t, mul(op('R_v', t, s), at('r', s)))),
        ),
        fields: [{ name: 'zeta', cov: op('C_v', t, s), coupling: 'X', sum: 'sum(i, X[mu,i]*(w[i] - wstar[i]))', pop: 'P' }],
        inputs: [{ kind: 'quenched', name: 'eps', dist: { kind: 'normal', mean: num(0), var: sym('sigma2') } }],
      }),
    ],
    orderParams: [
      { name: 'C_v', kind: 'C', pop: 'D', f: v(t), def: avg('D', mul(v(t), v(s))) },
      { name: 'R_v', kind: 'R', pop: 'D', f: v(t), slot: 'xi', def: avg('D', fder(v(t), 'xi')) },
      { name: 'C_r', kind: 'C', pop: 'P', f: at('r'), def: avg('P', mul(at('r'), at('r', s))) },
      { name: 'R_r', kind: 'R', pop: 'P', f: at('r'), slot: 'zeta', def: avg('P', fder(at('r'), 'zeta')), instantaneous: true },
    ],
    observables: [
      { name: 'test', times: [], expr: mul(num(0.5), avg('D', pow(v(t), num(2)))) },
      { name: 'train', times: [], expr: div(avg('P', pow(at('r'), num(2))), num(2)) },
    ],
  };
}

/**
 * A made-up system exercising the rest of the printer: bounds, uniform and
 * Bernoulli inputs, two responses of the same f in different slots, a name
 * that needs \frac{d}{dt}, comparisons, nested integrals, exp and erf.
 */
export function kitchenSink(): DmftSystem {
  const n = (tau: Expr = t) => at('n', tau);
  return {
    model: 'kitchen sink: bounded, two slots & <odd> "names"',
    params: { mu: 1, sigma: 0.5, gamma: 0.3 },
    populations: [pop({
      name: 'N', index: 'i', variable: 'n', kind: 'dynamic',
      rhs: add(
        mul(n(), sub(sym('k'), n())),
        neg(mul(sym('mu'), op('M_n', t))),
        at('eta_1'), at('eta_2'),
        mul(sym('gamma'), pow(sym('sigma'), num(2)), integral('s', num(0), t, integral("s'", num(0), s,
          mul(op('R1', t, sym("s'")), call('exp', neg(sub(s, sym("s'")))), n(sym("s'")))))),
        mul(num(-0.25), call('erf', div(n(), call('sqrt', num(2))))),
      ),
      lower: num(0), upper: sym('K'),
      init: { kind: 'dist', dist: { kind: 'uniform', lo: num(0.5), hi: num(1.5) } },
      fields: [
        { name: 'eta_1', cov: mul(pow(sym('sigma'), num(2)), op('C_n', t, s)), coupling: 'A', sum: 'sum(j, A[i,j]*n[j])', pop: 'N' },
        { name: 'eta_2', cov: op('C_n', t, s), coupling: 'B', sum: 'sum(j, B[i,j]*n[j])', pop: 'N' },
      ],
      inputs: [
        { kind: 'quenched', name: 'b', dist: { kind: 'bernoulli', p: num(0.5) } },
        { kind: 'noise', name: 'xi', D: num(1) },
      ],
    }), pop({
      name: 'M', index: 'a', variable: 'lr', kind: 'dynamic',
      rhs: add(neg(at('lr')), mul(op('M_n', t), cmpGt(at('lr'), num(0.001)))),
      fields: [], inputs: [],
    })],
    orderParams: [
      { name: 'M_n', kind: 'M', pop: 'N', f: n(), def: avg('N', n()) },
      { name: 'C_n', kind: 'C', pop: 'N', f: n(), def: avg('N', mul(n(), n(s))) },
      { name: 'R1', kind: 'R', pop: 'N', f: n(), slot: 'eta_1', def: avg('N', fder(n(), 'eta_1')) },
      { name: 'R2', kind: 'R', pop: 'N', f: n(), slot: 'eta_2', def: avg('N', fder(n(), 'eta_2')) },
    ],
    observables: [
      { name: 'survivors', times: [], expr: avg('N', cmpGt(n(), num(0.001))) },
      { name: 'q', times: ['t'], expr: sub(avg('N', pow(n(), num(2))), pow(op('M_n', t), num(2))) },
    ],
  };
}

function cmpGt(a: Expr, b: Expr): Expr {
  return { k: 'cmp', op: '>', a, b };
}

export const FIXTURES: Record<string, () => DmftSystem> = { scs, linearPartialSym, regression, kitchenSink };

/** A few derivation steps in the shape the cavity route records. */
export function scsSteps(): Step[] {
  const J = ref('J', ['i', 'j']);
  const sumJ: Expr = { k: 'sum', index: 'j', body: mul(J, call('tanh', ref('x', ['j']))) };
  return [
    { id: 's1', parent: 'd/dt x', stage: 'd/dt x', bind: {}, rule: 'cavity.sum.mean-field', because: 'the mean of the couplings gives K·m·⟨f⟩ <as a "mean field">', where: 'd/dt x', before: sumJ, after: mul(sym('J0'), op('M_phi', t)) },
    { id: 's2', parent: 'd/dt x', stage: 'd/dt x', bind: {}, rule: 'cavity.field.dense', because: 'central limit theorem & cavity independence', where: 'd/dt x', before: sumJ, after: at('eta') },
    { id: 's3', parent: 'd/dt x', stage: 'd/dt x', bind: {}, rule: 'cavity.site.single', because: 'site i becomes a representative site', where: 'd/dt x', before: ref('x', ['i']), after: at('x') },
    { id: 's4', parent: 'closure', stage: 'closure', bind: {}, rule: 'cavity.closure.correlation', because: 'C is an average over the single-site process', where: 'closure C_phi', before: op('C_phi', t, s), after: avg('N', mul(call('tanh', at('x')), call('tanh', at('x', s)))) },
    { id: 's5', parent: 'observe var', stage: 'observe var', bind: {}, rule: 'cavity.observable.average', because: 'a site average is a single-site average', where: 'observe var', before: { k: 'mean', index: 'i', body: pow(ref('x', ['i']), num(2)) }, after: avg('N', pow(at('x'), num(2))) },
  ];
}
