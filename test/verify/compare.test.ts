// The comparison layer of `dmft verify`: the random admissible inputs of the
// numeric check (C symmetric positive semi-definite, R causal), equal
// expressions written differently compare equal, different ones do not, and
// the diagnosis names the kind of difference.
import { describe, expect, it } from 'vitest';
import { add, avg, call, integral, mul, num, op, pow, ref, sym, type Expr } from '../../src/expr/ast.ts';
import { ckey } from '../../src/expr/canon.ts';
import { loadModel } from '../../src/model/load.ts';
import { derive } from '../../src/derive/index.ts';
import { normal, type NormContext, type OpInfo } from '../../src/verify/normalize.ts';
import { Numeric, TRIALS } from '../../src/verify/numeric.ts';
import { diagnose } from '../../src/verify/diagnose.ts';

const d = derive(loadModel('examples/linear-partial-sym.dmft'), 'cavity');
const ops = new Map<string, OpInfo>(d.system.orderParams.map((o) => [o.name, { name: o.name, kind: o.kind, pop: o.pop, def: o.def, arity: o.kind === 'M' ? 1 : 2 }]));
// a correlation of tanh(x) too, to tell order parameters apart
const tanhC = avg('N', mul(call('tanh', ref('x', [], sym('t'))), call('tanh', ref('x', [], sym('s')))));
ops.set('C[tanh(x)]', { name: 'C[tanh(x)]', kind: 'C', pop: 'N', def: tanhC, arity: 2 });
const ctx: NormContext = { ops, params: new Set(['g', 'kappa', 'sigma2']), vars: new Set(['x']) };
const numeric = new Numeric({ ops, params: ['g', 'kappa', 'sigma2'] });

const t = sym('t'), s = sym('s'), u = sym('u');
const x = (tau: Expr) => ref('x', [], tau);
const C = (a: Expr, b: Expr) => op('C[x]', a, b);
const R = (a: Expr, b: Expr) => op('R[x|eta]', a, b);
const same = (a: Expr, b: Expr) => ckey(normal(a, ctx)) === ckey(normal(b, ctx)) || numeric.equal(normal(a, ctx), normal(b, ctx)) === true;

describe('random admissible inputs', () => {
  const grid = [0.15, 0.5, 0.9, 1.4, 1.95];
  const kernel = (k: (a: Expr, b: Expr) => Expr) => {
    const es = grid.flatMap((a) => grid.map((b) => k(num(a), num(b))));
    const v = numeric.values(es);
    return (trial: number) => grid.map((_, i) => grid.map((__, j) => v[i * grid.length + j][trial]));
  };
  it('C(t, s) is symmetric and positive semi-definite in every trial', () => {
    const Cm = kernel(C);
    for (let k = 0; k < TRIALS; k++) {
      const m = Cm(k);
      for (let i = 0; i < grid.length; i++) for (let j = 0; j < grid.length; j++) expect(m[i][j]).toBeCloseTo(m[j][i], 12);
      for (let r = 0; r < 20; r++) {
        const vvec = grid.map((_, i) => Math.sin(7.1 * (r + 1) * (i + 1)));
        const q = vvec.reduce((acc, vi, i) => acc + vi * vvec.reduce((a2, vj, j) => a2 + m[i][j] * vj, 0), 0);
        expect(q).toBeGreaterThanOrEqual(-1e-12);
      }
    }
  });
  it('R(t, s) is causal: zero for s > t, non-zero and not symmetric for s < t', () => {
    const Rm = kernel(R);
    for (let k = 0; k < TRIALS; k++) {
      const m = Rm(k);
      for (let i = 0; i < grid.length; i++) for (let j = i + 1; j < grid.length; j++) {
        expect(m[i][j]).toBe(0); // t = grid[i] < s = grid[j]
        expect(Math.abs(m[j][i])).toBeGreaterThan(1e-6);
      }
    }
  });
  it('the same inputs are drawn for both sides (deterministic)', () => {
    expect(numeric.values([C(t, s)])).toEqual(numeric.values([C(t, s)]));
  });
});

describe('equal but differently written', () => {
  const cases: [string, Expr, Expr][] = [
    ['distributing over a sum', mul(sym('g'), add(x(t), num(1))), add(mul(sym('g'), x(t)), sym('g'))],
    ['splitting an integral', integral('s', num(0), t, mul(R(t, s), add(x(s), num(1)))), add(integral('u', num(0), t, mul(R(t, u), x(u))), integral('s', num(0), t, R(t, s)))],
    ['a constant out of an integral', integral('s', num(0), t, mul(sym('kappa'), R(t, s), x(s))), mul(sym('kappa'), integral('v', num(0), t, mul(x(sym('v')), R(t, sym('v')))))],
    ['an average and the order parameter it defines', mul(sym('g'), avg('N', mul(x(t), x(s)))), mul(sym('g'), C(t, s))],
    ['C is symmetric', C(t, s), C(s, t)],
    ['tanh identities (numerically)', add(num(1), mul(num(-1), pow(call('tanh', x(t)), num(2)))), mul(add(num(1), call('tanh', x(t))), add(num(1), mul(num(-1), call('tanh', x(t)))))],
    ['the chain rule in a response', avg('N', call('fder', call('tanh', x(t)), ref('eta', [], s))), avg('N', mul(add(num(1), mul(num(-1), pow(call('tanh', x(t)), num(2)))), call('fder', x(t), ref('eta', [], s))))],
    ['δ(t − s) is even', call('delta', add(t, mul(num(-1), s))), call('delta', add(s, mul(num(-1), t)))],
  ];
  for (const [name, a, b] of cases) it(name, () => expect(same(a, b)).toBe(true));
});

describe('different expressions are told apart', () => {
  const cases: [string, Expr, Expr][] = [
    ['R(t, s) and R(s, t) under the memory integral', integral('s', num(0), t, mul(R(t, s), x(s))), integral('s', num(0), t, mul(R(s, t), x(s)))],
    ['∫₀ᵗ and ∫₀ˢ', integral('u', num(0), t, mul(R(t, u), x(u))), integral('u', num(0), s, mul(R(t, u), x(u)))],
    ['C(t, s) and C(t, t)', C(t, s), C(t, t)],
    ['C and R', C(t, s), R(t, s)],
    ['C_x and C_tanh(x)', C(t, s), op('C[tanh(x)]', t, s)],
    ['g and g²', mul(sym('g'), C(t, s)), mul(pow(sym('g'), num(2)), C(t, s))],
    ['a response to another time', avg('N', call('fder', x(t), ref('eta', [], s))), avg('N', call('fder', x(s), ref('eta', [], t)))],
  ];
  for (const [name, a, b] of cases) it(name, () => expect(same(a, b)).toBe(false));
});

describe('diagnosis', () => {
  const kinds = (e: Expr, f: Expr) => diagnose(normal(e, ctx), normal(f, ctx), ctx, numeric).map((x) => x.kind).sort();
  const react = (k: Expr, a: Expr, b: Expr, hi: Expr = t) => mul(k, integral('u', num(0), hi, mul(R(a, b), x(u))));
  const base = (extra: Expr) => add(mul(num(-1), x(t)), ref('eta', [], t), extra);
  const good = base(react(sym('kappa'), t, u));
  it('equal sides have no findings', () => expect(kinds(good, base(react(sym('kappa'), t, u)))).toEqual([]));
  it('a missing term', () => expect(kinds(good, base(num(0)))).toEqual(['missing-term']));
  it('an extra term', () => expect(kinds(base(num(0)), good)).toEqual(['extra-term']));
  it('a wrong coefficient', () => expect(kinds(good, base(react(mul(num(2), sym('kappa')), t, u)))).toEqual(['coefficient']));
  it('a wrong sign', () => expect(kinds(good, base(react(mul(num(-1), sym('kappa')), t, u)))).toEqual(['sign']));
  it('wrong time arguments', () => expect(kinds(good, base(react(sym('kappa'), u, t)))).toEqual(['time-arguments']));
  it('wrong integration limits', () => expect(kinds(good, base(react(sym('kappa'), t, u, s)))).toEqual(['integration-limits']));
  it('another order parameter', () => {
    const f = base(mul(sym('kappa'), integral('u', num(0), t, mul(C(t, u), x(u)))));
    expect(kinds(good, f)).toEqual(['order-parameter']);
  });
  it('two mistakes, two findings', () => expect(kinds(good, add(x(t), ref('eta', [], t), react(sym('g'), t, u)))).toEqual(['coefficient', 'sign']));
});
