import { describe, expect, it } from 'vitest';
import { all, create, type BigNumber } from 'mathjs';
import { constantValue, evaluate, type EvalEnv } from '../../src/expr/eval.ts';
import { compile } from '../../src/expr/compile.ts';
import { erf, erfc, sigmoid } from '../../src/numeric/special.ts';
import { gaussHermite } from '../../src/numeric/rules.ts';
import { integrate } from '../../src/numeric/integrate.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';
import { canon } from '../../src/expr/canon.ts';
import { randomTree, rng } from './random-tree.ts';

const P = (s: string) => parsePattern(s);

// 70-digit decimals (mathjs BigNumber = decimal.js) for reference values
const big = create(all, { number: 'BigNumber', precision: 70 });
type Decimal = BigNumber;
const Decimal = (x: number | string): Decimal => big.bignumber(x);
Decimal.acos = (x: number): Decimal => big.acos(big.bignumber(x)) as Decimal;
/** erf by its Taylor series in 70-digit arithmetic */
function erfRef(x: number): Decimal {
  const X = Decimal(x), x2 = X.mul(X);
  let sum = Decimal(0), term = X;
  for (let n = 0; ; n++) {
    const t = term.div(2 * n + 1);
    sum = sum.add(t);
    if (t.abs().lt('1e-64')) break;
    term = term.mul(x2).neg().div(n + 1);
  }
  return sum.mul(2).div(Decimal.acos(-1).sqrt());
}

describe('special functions', () => {
  it('erf is accurate to 1e-14 relative on [-7, 7]', () => {
    let worst = 0;
    for (let x = -7; x <= 7; x += 0.0371) {
      const r = erfRef(x).toNumber();
      worst = Math.max(worst, Math.abs(erf(x) - r) / Math.max(Math.abs(r), 1e-300));
    }
    expect(worst).toBeLessThan(1e-14);
    expect(erf(0)).toBe(0);
    expect(erf(-30)).toBe(-1);
  });
  it('erfc is accurate to 1e-13 relative in the tail', () => {
    let worst = 0;
    for (let x = -2; x <= 8; x += 0.0437) {
      const r = Decimal(1).sub(erfRef(x)).toNumber();
      worst = Math.max(worst, Math.abs(erfc(x) - r) / r);
    }
    expect(worst).toBeLessThan(1e-13);
  });
  it('sigmoid is stable at large |x|', () => {
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
  });
});

describe('quadrature', () => {
  it('Gauss–Kronrod is exact for polynomials of degree ≤ 22 on one interval', () => {
    for (let k = 0; k <= 22; k++) {
      const r = integrate((x) => x ** k, -1, 1, { maxIntervals: 1, absTol: 1e300 });
      expect(Math.abs(r.value - (k % 2 ? 0 : 2 / (k + 1)))).toBeLessThan(1e-14);
    }
  });
  it('adaptive integration reaches 1e-12 on smooth, kinked and infinite integrals', () => {
    expect(Math.abs(integrate(Math.exp, 0, 1).value - (Math.E - 1))).toBeLessThan(1e-13);
    expect(Math.abs(integrate((x) => Math.abs(x - 0.3), 0, 1).value - (0.045 + 0.245))).toBeLessThan(1e-12);
    expect(Math.abs(integrate((x) => Math.exp(-x * x / 2), -Infinity, Infinity).value - Math.sqrt(2 * Math.PI))).toBeLessThan(1e-11);
    expect(Math.abs(integrate((x) => Math.exp(-x), 0, Infinity).value - 1)).toBeLessThan(1e-12);
    expect(Math.abs(integrate((x) => x * x, 1, 0).value + 1 / 3)).toBeLessThan(1e-15);
  });
  it('graded partitions resolve a kernel of width 1e-7 at the upper limit (plain adaptive misses it)', () => {
    const eps = 1e-7, t = 1.3;
    const f = (s: number) => Math.exp(-(t - s) / eps) / eps * Math.cos(s);
    expect(Math.abs(integrate(f, 0, t, { graded: 60 }).value - Math.cos(t))).toBeLessThan(1e-6);
    expect(integrate(f, 0, t).value).toBeLessThan(0.1); // documents why `graded` exists
  });
  it('throws on non-convergence and on NaN integrands', () => {
    expect(() => integrate((x) => Math.abs(x - 0.3141) ** -0.9, 0, 1, { maxIntervals: 50 })).toThrow(/did not converge/);
    expect(() => integrate((x) => Math.log(x - 0.25), 0, 1)).toThrow(/integrand is NaN/);
  });
  it('Gauss–Hermite moments and Gaussian expectations', () => {
    const { x, w } = gaussHermite(40);
    const E = (f: (z: number) => number) => { let s = 0; for (let i = 0; i < x.length; i++) s += w[i] * f(x[i]); return s; };
    expect(Math.abs(E(() => 1) - 1)).toBeLessThan(1e-14);
    expect(Math.abs(E((z) => z * z) - 1)).toBeLessThan(1e-13);
    expect(Math.abs(E((z) => z ** 4) - 3)).toBeLessThan(1e-12);
    expect(Math.abs(E((z) => z ** 6) - 15)).toBeLessThan(1e-11);
    expect(Math.abs(E((z) => Math.cos(1.3 * z)) - Math.exp(-1.69 / 2))).toBeLessThan(1e-14);
    const big = gaussHermite(160);
    let s = 0;
    for (let i = 0; i < 160; i++) s += big.w[i] * big.x[i] * Math.tanh(big.x[i]) - big.w[i] * (1 - Math.tanh(big.x[i]) ** 2);
    expect(Math.abs(s)).toBeLessThan(1e-13); // Stein for tanh
  });
});

describe('evaluate', () => {
  const env: EvalEnv = {
    vars: { g: 1.5, t: 0.7, s: 0.2 },
    ref: (name, idx, at) => (name === 'x' ? (at ?? 0) * 2 + (idx[0] ?? 0) : 10 * (idx[0] ?? 0) + (idx[1] ?? 0)),
    op: (name, a) => (name === 'C' ? Math.exp(-Math.abs(a[0] - a[1])) : 0),
    size: () => 3,
    indices: { i: 2 },
  };
  it('evaluates arithmetic, functions, comparisons, refs and order parameters', () => {
    expect(evaluate(P('g^2/2 - 1'), env)).toBeCloseTo(0.125, 15);
    expect(evaluate(P('tanh(1) + erf(1) + relu(-1) + sigmoid(0) + sign(-2) + abs(-3)'), env)).toBeCloseTo(Math.tanh(1) + erf(1) + 0.5 - 1 + 3, 14);
    expect(evaluate(P('(g > 1) + (g < 1)'), env)).toBe(1);
    expect(evaluate(P('x(t) + x[i](s) + @op(C, t, s)'), env)).toBeCloseTo(1.4 + 2.4 + Math.exp(-0.5), 14);
    expect(evaluate(P('pi'), env)).toBe(Math.PI);
  });
  it('evaluates sum and mean over index sets', () => {
    expect(evaluate(P('sum(j, J[i,j])'), env)).toBe(21 + 22 + 23);
    expect(evaluate(P('mean(j, sum(k, J[j,k]))'), env)).toBe((36 + 66 + 96) / 3);
  });
  it('evaluates integrals, nested, with the integration variable in refs and limits', () => {
    expect(Math.abs(evaluate(P('@int(u, 0, t, exp(-u))'), env) - (1 - Math.exp(-0.7)))).toBeLessThan(1e-14);
    expect(Math.abs(evaluate(P('@int(u, 0, t, @int(v, 0, u, u*v))'), env) - 0.7 ** 4 / 8)).toBeLessThan(1e-14);
    expect(Math.abs(evaluate(P('@int(u, 0, t, x(u))'), env) - 0.49)).toBeLessThan(1e-14);
    expect(Math.abs(evaluate(P('@int(z, -inf, inf, exp(-z^2/2))/sqrt(2*pi)'), env) - 1)).toBeLessThan(1e-11);
  });
  it('delegates averages to env.avg with the current scope', () => {
    const e = P('@int(u, 0, 1, @avg(N, u*w))');
    const v = evaluate(e, { ...env, avg: (_pop, _body, ev) => (ev({ w: 1 }) + ev({ w: 3 })) / 2 });
    expect(v).toBeCloseTo(1, 13);
  });
  it('fails clearly on δ, missing symbols, missing resolvers', () => {
    expect(() => evaluate(P('delta(t - s)'), env)).toThrow(/cannot be evaluated pointwise/);
    expect(evaluate(P('delta(t - s)'), { ...env, delta: (x) => (Math.abs(x) < 1 ? 0.5 : 0) })).toBe(0.5);
    expect(() => evaluate(P('q + 1'), env)).toThrow(/no value for the symbol 'q'/);
    expect(() => evaluate(P('@avg(N, x(t))'), env)).toThrow(/env.avg/);
    expect(() => evaluate(P('x(t)'))).toThrow(/env.ref/);
    expect(() => evaluate(P('sum(j, J[i,j])'), { ...env, size: undefined })).toThrow(/env.size/);
  });
});

describe('compile (the JS compiler) and constantValue agree with evaluate', () => {
  it('on random trees', () => {
    const r = rng(11);
    const vars = ['x', 'y', 'g'];
    for (let i = 0; i < 300; i++) {
      const e = canon(randomTree(r, 4, { syms: ['x', 'y', 'g', 'N'] }));
      const f = compile(e, vars, { N: 1.7 });
      for (let j = 0; j < 3; j++) {
        const xs = [r() * 2 - 1, r() * 2 - 1, r() + 0.5];
        const a = evaluate(e, { vars: { x: xs[0], y: xs[1], g: xs[2], N: 1.7 } });
        const b = f(Float64Array.from(xs));
        const c = constantValue(e, { x: xs[0], y: xs[1], g: xs[2], N: 1.7 })!;
        if (!Number.isFinite(a)) { expect(b).toBe(a); expect(c).toBe(a); continue; }
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(a)));
        expect(Math.abs(a - c)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(a)));
      }
    }
  });
  it('the built-in symbols pi and inf; constantValue says undefined for what is not constant', () => {
    expect(compile(P('2*pi + x'), ['x'])([1])).toBe(2 * Math.PI + 1);
    expect(evaluate(P('2*pi + x'), { vars: { x: 1 } })).toBe(2 * Math.PI + 1);
    expect(constantValue(P('2*x + tanh(x)'), { x: 0.5 })).toBe(1 + Math.tanh(0.5));
    expect(constantValue(P('2*x + y'), { x: 0.5 })).toBeUndefined();
    expect(constantValue(P('x(t)'), { x: 0.5 })).toBeUndefined();
    expect(() => compile(P('@int(u, 0, t, u)'), ['t'])).toThrow(/must be replaced by a slot/);
  });
});
