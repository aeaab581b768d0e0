import { describe, expect, it } from 'vitest';
import { type Expr, key, num, sym, add, mul, pow, integral, avg, op, ref } from '../../src/expr/ast.ts';
import { canon, ckey, expand, diff, asRational, isCanonical } from '../../src/expr/canon.ts';
import { evaluate, type EvalEnv } from '../../src/expr/eval.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';
import { print, printPattern } from '../../src/expr/print.ts';
import { randomTree, rng } from './random-tree.ts';

const P = (s: string) => parsePattern(s);
const C = (s: string) => canon(P(s));
const same = (a: string, b: string) => expect(printPattern(C(a))).toBe(printPattern(C(b)));
const clone = (e: Expr): Expr => JSON.parse(JSON.stringify(e));

describe('canon: required equalities', () => {
  it.each([
    ['2*x/2', 'x'],
    ['x - x', '0'],
    ['x*x', 'x^2'],
    ['g^2/N * N', 'g^2'],
    ['x/3*3', 'x'],
    ['2*x/3 + x/3', 'x'],
    ['x^1', 'x'],
    ['x^0', '1'],
    ['0*tanh(x)*y', '0'],
    ['1^q', '1'],
    ['0^2', '0'],
    ['(x^2)^3', 'x^6'],
    ['(x^-1)^-1', 'x'],
    ['(2*x)^2', '4*x^2'],
    ['x^a*x^b', 'x^(a+b)'],
    ['x/x', '1'],
    ['x*x^-1*y', 'y'],
    ['2*(x+y) - 2*x - 2*y', '0'],
    ['3*x + 2*x - 5*x + y', 'y'],
    ['-(a - b)', 'b - a'],
    ['(a+b)*c - c*(b+a)', '0'],
    ['((a+b)+c)+(d*(e*f))', 'a+b+c+d*e*f'],
    ['4^(1/2)', '2'],
    ['2^(3/2)', '2*2^(1/2)'],
    ['2^(1/2)*2^(1/2)', '2'],
    ['(9/4)^(1/2)', '3/2'],
    ['exp(0) + log(1) + tanh(0) + cos(0)', '2'],
    ['sigmoid(0)', '1/2'],
    ['sqrt(9/4) + abs(-3) + sign(-2) + relu(-1)', '7/2'],
    ['(2 > 1) + (1 > 2)', '1'],
  ])('%s = %s', (a, b) => same(a, b));

  it('keeps rationals exact and prints them as fractions', () => {
    const e = C('x/3');
    expect(print(e)).toBe('x/3');
    expect(asRational(C('1/3 + 1/6'))).toEqual({ p: 1, q: 2 });
    expect(asRational(C('(2/3)^-2'))).toEqual({ p: 9, q: 4 });
    expect(C('1/3').k).toBe('pow'); // 3^-1, not 0.333…
  });
  it('treats decimals as inexact floats', () => {
    expect(print(C('0.5*x + x/2'))).toBe('x');
    expect(print(C('0.1*x'))).toBe('0.1*x');
  });
  it('distributes a numeric coefficient only over a lone sum', () => {
    expect(print(C('2*(x + y)'))).toBe('2*x + 2*y');
    expect(print(C('2*a*(x + y)'))).toBe('2*a*(x + y)'); // no expansion
    expect(print(C('(a + b)*(c + d)'))).toBe('(a + b)*(c + d)');
  });
  it('does not take non-integer powers apart', () => {
    expect(printPattern(C('(x^2)^(1/2)'))).toBe('(x^2)^2^-1');
    expect(C('(x*y)^(1/2)').k).toBe('pow');
  });
  it('does not fold 0 × a pole to 0: (x − x)/(x − x) keeps its pole and evaluates to no finite value', () => {
    const x = sym('x');
    const zero = add(x, mul(num(-1), x));
    const ratio = canon(mul(zero, pow(zero, num(-1))));
    expect(print(ratio)).toBe('0^(-1)');
    expect(Number.isFinite(evaluate(ratio, {} as EvalEnv))).toBe(false);
    // and in a sum the pole survives next to the other terms
    expect(print(canon(add(sym('y'), mul(num(0), pow(num(0), num(-1))))))).toBe('0^(-1) + y');
    expect(print(canon(mul(num(0), x)))).toBe('0');
  });
  it('sorts: coefficient first in products, constant last in sums', () => {
    expect(print(C('1 + x*3'))).toBe('3*x + 1');
    expect(print(C('sum(j, J[i,j]*tanh(x[j])) - x[i]'))).toBe('-x[i] + sum(j, J[i,j]*tanh(x[j]))');
  });
  it('equal equations compare equal whatever the order they were built in', () => {
    const a = C('-x(t) + eta(t) + J0*@op(M, t) + kappa*g^2*@int(s, 0, t, @op(R, t, s)*x(s))');
    const b = C('g^2*@int(s, 0, t, x(s)*@op(R, t, s))*kappa + @op(M, t)*J0 + eta(t) - x(t)');
    expect(key(a)).toBe(key(b));
  });
  it('canonicalizes inside int, avg, op, sum, ref times and calls', () => {
    const e = add(
      integral('s', num(0), add(sym('t'), num(0)), mul(sym('y'), sym('y'))),
      avg('N', mul(num(2), pow(sym('x'), num(1)), num(3))),
      op('C', add(sym('t'), sym('t')), sym('s')),
      { k: 'sum', index: 'j', body: add(ref('x', ['j']), ref('x', ['j'])) },
      ref('x', [], add(sym('t'), num(1), num(-1))),
      { k: 'call', fn: 'tanh', args: [mul(sym('a'), sym('a'))] },
    );
    expect(printPattern(canon(e))).toBe(printPattern(C('@int(s, 0, t, y^2) + @avg(N, 6*x) + @op(C, 2*t, s) + sum(j, 2*x[j]) + x(t) + tanh(a^2)')));
  });
  it('ckey agrees with ast key', () => {
    const r = rng(5);
    for (let i = 0; i < 50; i++) {
      const e = canon(randomTree(r, 4, { dmft: true }));
      expect(ckey(e)).toBe(key(e));
    }
  });
});

describe('canon: properties on random trees', () => {
  const env = (vals: Record<string, number>): EvalEnv => ({
    vars: vals,
    ref: (name, _idx, at) => (name === 'x' ? Math.sin(at! + 0.3) : Math.cos(2 * at!)),
    op: (_n, a) => Math.exp(-Math.abs(a[0] - a[1])),
    avg: (_p, _b, ev) => ev(),
  });
  it('is idempotent (also on fresh copies without memo)', () => {
    const r = rng(1);
    for (let i = 0; i < 400; i++) {
      const e = randomTree(r, 5, { dmft: i % 2 === 0, fractionalPowers: i % 3 === 0 });
      const c1 = canon(e);
      const c2 = canon(clone(c1));
      expect(key(c2), print(e)).toBe(key(c1));
      expect(canon(c1)).toBe(c1); // remembered
      expect(isCanonical(c1)).toBe(true);
    }
  });
  it('does not change the value (positive symbols, rational powers)', () => {
    const r = rng(2);
    let compared = 0;
    for (let i = 0; i < 600; i++) {
      const e = randomTree(r, 5, { dmft: i % 2 === 0, fractionalPowers: true });
      const vals = { x: 0.3 + 1.5 * r(), y: 0.3 + 1.5 * r(), g: 0.3 + 1.5 * r(), N: 0.3 + 1.5 * r(), t: 0.2 + r(), s: 0.1 + r() };
      let a: number;
      try { a = evaluate(e, env(vals)); } catch { continue; } // e.g. a NaN integrand in the original
      if (!Number.isFinite(a) || Math.abs(a) > 1e8) continue;
      const b = evaluate(canon(e), env(vals));
      expect(Math.abs(a - b), `${print(e)}  →  ${print(canon(e))}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
  });
  it('does not change the value (signed symbols, integer powers)', () => {
    const r = rng(3);
    let compared = 0;
    for (let i = 0; i < 600; i++) {
      const e = randomTree(r, 5);
      const vals = { x: 2 * r() - 1, y: 2 * r() - 1, g: -0.5 - r(), N: 0.5 + r() };
      let a: number;
      try { a = evaluate(e, env(vals)); } catch { continue; } // e.g. a NaN integrand in the original
      if (!Number.isFinite(a) || Math.abs(a) > 1e8) continue;
      const b = evaluate(canon(e), env(vals));
      expect(Math.abs(a - b), `${print(e)}  →  ${print(canon(e))}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
  });
});

describe('canon: cost', () => {
  it('is linear-ish: a 60k-node sum canonicalizes fast, and re-canon of a mostly canonical tree is cheap', () => {
    const terms: Expr[] = [];
    for (let i = 0; i < 20000; i++) terms.push(mul(num(i % 7 - 3), sym(`a${i % 5000}`), pow(sym(`b${i % 13}`), num(i % 3))));
    const big = add(...terms);
    // CPU time of this (single-threaded) process, not wall time: a guard
    // against quadratic blow-up (minutes), not a speed benchmark, and immune
    // to other jobs on the machine
    const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    let t0 = cpuMs();
    const c = canon(big);
    const t1 = cpuMs() - t0;
    expect(t1).toBeLessThan(3000);
    expect(c.k).toBe('add');
    // change one leaf deep inside: only the path is redone
    const changed = { ...c, terms: [...(c as { terms: Expr[] }).terms.slice(1), sym('zz')] } as Expr;
    t0 = cpuMs();
    canon(changed);
    expect(cpuMs() - t0).toBeLessThan(Math.max(200, t1));
  });
  it('handles deep nesting', () => {
    let e: Expr = sym('x');
    for (let i = 0; i < 1500; i++) e = i % 2 ? add(e, num(1)) : mul(num(2), e);
    expect(() => canon(e)).not.toThrow();
  });
});

describe('expand and diff', () => {
  it('expand distributes products and integer powers of sums', () => {
    same(printPattern(expand(P('(x + 1)^2 - x^2'))), '2*x + 1');
    same(printPattern(expand(P('(a + b)*(a - b)'))), 'a^2 - b^2');
    expect(key(expand(P('(a+b)^3')))).toBe(key(C('a^3 + 3*a^2*b + 3*a*b^2 + b^3')));
    expect(key(expand(P('@int(s, 0, t, (x(s) + 1)*(x(s) - 1))')))).toBe(key(C('@int(s, 0, t, x(s)^2 - 1)')));
  });
  it('diff differentiates and agrees with finite differences', () => {
    const cases = ['tanh(a*z)^2 + z^3*exp(z)', 'log(1 + z^2)*sigmoid(z)', 'sqrt(2 + sin(z))/erf(z + 2)', 'z^z', 'abs(z - 5)*cos(3*z)', '@int(u, 0, z, u*exp(z*u))'];
    for (const s of cases) {
      const e = P(s), d = diff(e, 'z');
      for (const z of [0.3, 0.9, 1.7]) {
        const f = (v: number) => evaluate(e, { vars: { z: v, a: 0.7 } });
        const h = 1e-5;
        const fd = (f(z + h) - f(z - h)) / (2 * h);
        expect(Math.abs(evaluate(d, { vars: { z, a: 0.7 } }) - fd), `${s} at ${z}: ${print(d)}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      }
    }
    expect(print(diff(P('relu(z)'), 'z'))).toBe('z > 0');
    expect(() => diff(P('x(z)'), 'z')).toThrow(/depends on 'z'/);
    expect(key(diff(P('x(t)*g'), 'g'))).toBe(key(C('x(t)')));
  });
});

describe('diff by an atom', () => {
  it('differentiates by a single-site variable, holding other refs fixed', () => {
    const e = P('tanh(eta(t))^2 + eta(t)*eta(s) + x(t)');
    expect(printPattern(diff(e, P('eta(t)')))).toBe(printPattern(C('2*tanh(eta(t))*(1 - tanh(eta(t))^2) + eta(s)')));
    expect(printPattern(diff(P('exp(z[]*k)'), P('z[]')))).toBe(printPattern(C('k*exp(k*z[])')));
    expect(printPattern(diff(P('q^2'), sym('q')))).toBe(printPattern(C('2*q')));
  });
});
