import { describe, expect, it } from 'vitest';
import { canon, ckey } from '../../src/expr/canon.ts';
import { printPattern } from '../../src/expr/print.ts';
import { type Bindings, RewriteError, instantiate, isConstant, match } from '../../src/rewrite/match.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';

const P = (s: string) => parsePattern(s);
const C = (s: string) => canon(P(s));
/** match pattern string against expression string, both canonicalized */
const M = (p: string, e: string, b: Bindings = {}, guard?: (b: Bindings) => boolean) => match(C(p), C(e), b, { guard });
const show = (b: Bindings | null) => (b ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k, printPattern(v)])) : null);

describe('basic matching', () => {
  it('binds wildcards to subexpressions', () => {
    expect(show(M('tanh(_a)', 'tanh(x + 1)'))).toEqual({ _a: 'x + 1' });
    expect(show(M('_a^_b', 'x^(t - s)'))).toEqual({ _a: 'x', _b: '-1*s + t' });
    expect(M('tanh(_a)', 'exp(x)')).toBeNull();
    expect(M('x', 'y')).toBeNull();
    expect(M('x[i](t)', 'x[i](t)')).toEqual({});
    expect(M('x[i](t)', 'x[i](s)')).toBeNull();
    expect(M('x[i]', 'x[i](t)')).toBeNull(); // a time must be matched explicitly
  });
  it('repeated wildcards must agree', () => {
    expect(M('tanh(_a)*exp(_a)', 'tanh(x)*exp(x)')).not.toBeNull();
    expect(M('tanh(_a)*exp(_a)', 'tanh(x)*exp(y)')).toBeNull();
    expect(M('@op(_C, _t, _t)', '@op(C, t, t)')).not.toBeNull();
    expect(M('@op(_C, _t, _t)', '@op(C, t, s)')).toBeNull();
    // equal up to canonical form
    expect(M('tanh(_a)*exp(_a)', 'tanh(2*(x+y))*exp(2*x+2*y)')).not.toBeNull();
  });
  it('anonymous wildcards bind nothing and need not agree', () => {
    expect(M('tanh(_)*exp(_)', 'tanh(x)*exp(y)')).toEqual({});
  });
  it('pre-bound wildcards constrain the match', () => {
    expect(M('_a*_b', 'x*y', { _a: C('y') })).toEqual({ _a: C('y'), _b: C('x') });
    expect(M('_a*_b', 'x*y', { _a: C('z') })).toBeNull();
  });
});

describe('associative-commutative matching', () => {
  it('matches sums and products in any order', () => {
    expect(show(M('_a + exp(_b)', 'exp(y) + x'))).toEqual({ _a: 'x', _b: 'y' });
    expect(show(M('exp(_b)*_a', 'x*exp(y)'))).toEqual({ _a: 'x', _b: 'y' });
    expect(M('tanh(_a) + exp(_a)', 'exp(z) + tanh(z)')).not.toBeNull();
  });
  it('needs exactly one element per ordinary wildcard', () => {
    expect(M('_a*_b', 'x*y*z')).toBeNull();
    expect(M('_a*_b', 'x')).toBeNull();
    expect(M('_a + _b', 'x')).toBeNull();
  });
  it('sequence wildcards take the rest (possibly nothing)', () => {
    expect(show(M('exp(_a)*__r', 'x*exp(y)*z'))).toEqual({ _a: 'y', __r: 'x*z' });
    expect(show(M('exp(_a)*__r', 'exp(y)'))).toEqual({ _a: 'y', __r: '1' });
    expect(show(M('exp(_a) + __r', 'exp(y)'))).toEqual({ _a: 'y', __r: '0' });
    expect(show(M('exp(_a) + __r', 'exp(y) + x + 3'))).toEqual({ _a: 'y', __r: 'x + 3' });
    expect(M('exp(_a)*__r', 'x*z')).toBeNull();
  });
  it('at most one sequence wildcard per sum/product', () => {
    expect(() => match(P('__a*__b'), C('x*y'))).toThrow(RewriteError);
  });
  it('backtracks across siblings to satisfy repeated wildcards', () => {
    // _a must be chosen so that exp(_a) is also present
    expect(show(M('tanh(_a)*exp(_a)*__r', 'tanh(x)*tanh(y)*exp(y)'))).toEqual({ _a: 'y', __r: 'tanh(x)' });
  });
  it('matches the numeric coefficient as one factor', () => {
    expect(show(M('_c*_x', '2*x'))).toEqual({ _c: '2', _x: 'x' });
    expect(show(M('_c*_x', '2*x/3'))).toEqual({ _c: '2*3^-1', _x: 'x' });
    expect(show(M('_a*_b*_c', '-2*x*y'))).toEqual({ _a: 'x', _b: 'y', _c: '-2' });
  });
  it('matches a number times one wildcard by division', () => {
    expect(show(M('tanh(-_x)', 'tanh(-2*y)'))).toEqual({ _x: '2*y' });
    expect(show(M('tanh(-_x)', 'tanh(-y*z)'))).toEqual({ _x: 'y*z' });
    expect(show(M('tanh(-_x)', 'tanh(-3)'))).toEqual({ _x: '3' });
    expect(M('tanh(-_x)', 'tanh(y)')).toBeNull();
    expect(M('tanh(-_x)', 'tanh(2*y)')).toBeNull();
    expect(show(M('2*_x', '2*y*z'))).toEqual({ _x: 'y*z' });
    expect(M('2*_x', '3*y')).toBeNull();
    expect(show(M('-_a*_b', '-3*x'))).toEqual({ _a: '3', _b: 'x' });
  });
  it('matches differences', () => {
    expect(show(M('delta(_t - _s)', 'delta(t - s)'))).toEqual({ _t: 't', _s: 's' });
    expect(show(M('delta(_t - _s)', 'delta(t - 2*s)'))).toEqual({ _t: 't', _s: '2*s' });
  });
});

describe('typed wildcards', () => {
  it('_c is a constant: no refs, times, integration variables, averages', () => {
    expect(M('_c*__f', 'g^2*x(t)')).not.toBeNull();
    expect(show(M('_c*__f', 'g^2*x(t)'))!._c).toBe('g^2');
    expect(M('exp(_c)', 'exp(x(t))')).toBeNull();
    expect(M('exp(_c)', 'exp(t)')).toBeNull();
    expect(M('exp(_c)', 'exp(@op(C, t, t))')).toBeNull();
    expect(M('exp(_c)', 'exp(sqrt(2)*g/N)')).not.toBeNull();
    expect(isConstant(C('g*u'), new Set(['u']))).toBe(false);
    // inside an integral the integration variable is not constant
    expect(M('@int(_v, 0, 1, exp(_c))', '@int(w, 0, 1, exp(w))')).toBeNull();
    expect(M('@int(_v, 0, 1, exp(_c))', '@int(w, 0, 1, exp(q))')).not.toBeNull();
  });
  it('_n is a number', () => {
    expect(show(M('_x^_n', 'x^3'))).toEqual({ _x: 'x', _n: '3' });
    expect(show(M('_x^_n', 'x^(1/2)'))).toEqual({ _x: 'x', _n: '2^-1' });
    expect(M('_x^_n', 'x^a')).toBeNull();
    expect(M('_x^_n', 'x')).toBeNull(); // no implicit ^1
  });
});

describe('names', () => {
  it('binds names of refs, indices and binders', () => {
    const b = M('sum(_k, _A[_i,_k]*_f)', 'sum(j, J[i,j]*tanh(x[j]))')!;
    expect(show(b)).toEqual({ _k: 'j', _A: 'J[]', _i: 'i', _f: 'tanh(x[j])' });
    expect(M('sum(_k, _A[_i,_k]*_f)', 'sum(mu, X[mu,i]*r[mu])')).toBeNull(); // the transpose
    expect(M('sum(_k, _A[_k,_i]*_f)', 'sum(mu, X[mu,i]*r[mu])')).not.toBeNull();
    expect(show(M('@avg(_p, _f)', '@avg(N, x(t))'))).toEqual({ _p: 'N', _f: 'x(t)' });
    expect(show(M('@op(_R, t, s)', '@op(R_x, t, s)'))).toEqual({ _R: 'R_x' });
  });
  it('a name bound in a binder is the symbol elsewhere', () => {
    expect(M('@int(_s, 0, _t, delta(_t - _s)*__f)', '@int(u, 0, t, delta(t - u)*x(u))')).not.toBeNull();
    expect(M('@int(_s, 0, _t, delta(_t - _s)*__f)', '@int(u, 0, t, delta(u - t)*x(u))')).toBeNull();
    expect(M('@int(_s, 0, _t, delta(_t - _s)*__f)', '@int(u, 0, t, delta(t - s)*x(u))')).toBeNull();
  });
  it('literal binder names match only themselves', () => {
    expect(M('@int(s, 0, t, _f)', '@int(s, 0, t, x(s))')).not.toBeNull();
    expect(M('@int(s, 0, t, _f)', '@int(u, 0, t, x(u))')).toBeNull();
  });
});

describe('side conditions (guards) backtrack', () => {
  it('tries other assignments when the guard fails', () => {
    const free = (b: Bindings) => !ckey(b._g).includes('j');
    const b = M('sum(_k, _g*_A[_i,_k]*_f)', 'sum(j, x[j]*J[i,j]*y[i])', {}, free);
    expect(show(b)).toMatchObject({ _g: 'y[i]', _f: 'x[j]' });
    expect(M('sum(_k, _g*_A[_i,_k]*_f)', 'sum(j, x[j]*J[i,j]*y[j])', {}, free)).toBeNull();
  });
});

describe('instantiate', () => {
  it('substitutes bindings and canonicalizes', () => {
    const b = M('exp(_a)*exp(_b)*__r', 'exp(x)*exp(-x)*y')!;
    expect(printPattern(instantiate(P('exp(_a + _b)*__r'), b))).toBe('y');
  });
  it('rebuilds names: refs, times, binders, op names', () => {
    const b = M('_x[_i]', 'x[i]')!;
    expect(printPattern(instantiate(P('_x(t)'), b))).toBe('x(t)');
    expect(printPattern(instantiate(P('_x'), b))).toBe('x[]');
    expect(printPattern(instantiate(P('@avg(_P, @op(_M, t)*_x(s))'), { ...b, _P: C('N'), _M: C('M_x') }))).toBe('@avg(N, x(s)*@op(M_x, t))');
  });
  it('@subst and @diff', () => {
    const b = M('@int(_s, _lo, _t, delta(_t - _s)*__f)', '@int(u, 0, t, delta(t - u)*@op(R, t, u)*x(u))')!;
    expect(printPattern(instantiate(P('@subst(__f, _s, _t)'), b))).toBe('x(t)*@op(R, t, t)');
    expect(printPattern(instantiate(P('@diff(_f, z)'), { _f: C('z^3 + tanh(z)') }))).toBe(printPattern(C('3*z^2 + 1 - tanh(z)^2')));
    // integrals binding the variable shadow it
    expect(printPattern(instantiate(P('@subst(_f, s, 2)'), { _f: C('s + @int(s, 0, 1, s)') }))).toBe(printPattern(C('2 + @int(s, 0, 1, s)')));
  });
  it('fails clearly on unbound wildcards and non-names', () => {
    expect(() => instantiate(P('_K*_m'), { _K: C('N') })).toThrow(/_m is not bound.*bind/);
    expect(() => instantiate(P('@op(_M, t)'), { _M: C('a + b') })).toThrow(/stands for a name/);
    expect(() => match(P('@subst(_a, s, t)'), C('x'))).toThrow(/only be used in a replacement/);
  });
});

describe('efficiency', () => {
  it('matches in wide products and sums without blowing up', () => {
    const fs = Array.from({ length: 300 }, (_, i) => `a${i}`);
    const e = C(fs.join('*') + '*exp(q)');
    let t0 = performance.now();
    expect(show(M('exp(_x)*__r', printPattern(e)))!._x).toBe('q');
    expect(performance.now() - t0).toBeLessThan(500);
    // 8 distinct structured elements in a shuffled order
    const parts = ['tanh(a)', 'exp(b)', 'sin(c)', 'cos(d)', 'erf(e)', 'abs(f)', 'sign(g)', 'sigmoid(h)'];
    const pat = C('tanh(_1)*exp(_2)*sin(_3)*cos(_4)*erf(_5)*abs(_6)*sign(_7)*sigmoid(_8)');
    t0 = performance.now();
    expect(match(pat, C([...parts].reverse().join('*')))).not.toBeNull();
    // failure has to explore, but only over consistent choices
    expect(match(C('tanh(_a)*exp(_a)*sin(_a)*cos(_a)*__r'), C('tanh(a)*tanh(b)*tanh(c)*exp(a)*exp(b)*exp(c)*sin(a)*sin(b)*sin(c)*cos(d)*x'))).toBeNull();
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

