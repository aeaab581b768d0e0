import { describe, expect, it } from 'vitest';
import { key } from '../../src/expr/ast.ts';
import { canon } from '../../src/expr/canon.ts';
import { printPattern } from '../../src/expr/print.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { parsePattern, wildKind, wildcards } from '../../src/rewrite/pattern.ts';
import { DmftError } from '../../src/errors.ts';
import { randomTree, rng } from '../expr/random-tree.ts';

const P = (s: string) => parsePattern(s);

describe('rule-expression syntax', () => {
  it('reads model-language expressions exactly as the model parser does', () => {
    for (const s of ['-x[i] + sum(j, J[i,j]*tanh(x[j]))', '-(1/alpha)*sum(mu, X[mu,i]*r[mu])', 'a - b/c^2', 'x[i](t)*x[i](s) + (n[i] > 0.001)', '2^-1*g', '-x^2', 'a^b^c', 'mean(i, (w[i] - wstar[i])^2)/2']) {
      const { stripSpans } = { stripSpans: (e: unknown) => JSON.parse(JSON.stringify(e, (k, v) => (k === 'span' ? undefined : v))) };
      expect(P(s)).toEqual(stripSpans(parseExpr(s)));
    }
  });
  it('reads DMFT nodes and single-site variables', () => {
    expect(P('@avg(N, x(t))')).toEqual({ k: 'avg', pop: 'N', body: { k: 'ref', name: 'x', idx: [], at: { k: 'sym', name: 't' } } });
    expect(P('@int(s, 0, t, x[](s))')).toEqual({ k: 'int', v: 's', lo: { k: 'num', v: 0 }, hi: { k: 'sym', name: 't' }, body: { k: 'ref', name: 'x', idx: [], at: { k: 'sym', name: 's' } } });
    expect(P('@op(C_x, t, s)')).toEqual({ k: 'op', name: 'C_x', args: [{ k: 'sym', name: 't' }, { k: 'sym', name: 's' }] });
    expect(P('wstar[]')).toEqual({ k: 'ref', name: 'wstar', idx: [] });
    expect(P('delta(t - s)').k).toBe('call');
    expect(P('@subst(_f, _s, _t)')).toMatchObject({ k: 'call', fn: '@subst' });
  });
  it('classifies wildcards by name and records name positions', () => {
    expect(['_a', '_f_t', '_c', '_c2', '_n', '_n1', '__r', '_cx'].map(wildKind)).toEqual(['any', 'any', 'const', 'const', 'num', 'num', 'seq', 'any']);
    expect(wildKind('x')).toBeUndefined();
    const w = wildcards(P('sum(_k, _A[_i,_k]*__f) + @int(_s, 0, _t, delta(_t - _s))'));
    expect(w.get('_k')).toMatchObject({ asName: true, asExpr: false });
    expect(w.get('_s')).toMatchObject({ asName: true, asExpr: true });
    expect(w.get('__f')).toMatchObject({ kind: 'seq', asExpr: true });
    expect(P('tanh(_)*exp(_)')).not.toEqual(P('tanh(_a)*exp(_a)')); // anonymous wildcards are distinct
  });
  it('reports errors with a position and a hint', () => {
    const err = (s: string) => { try { P(s); } catch (e) { return e as DmftError; } throw new Error('no error'); };
    expect(err('tanh(x, y)').message).toMatch(/tanh takes 1 argument/);
    expect(err('C(t, s)').info.hint).toMatch(/@op\(C/);
    expect(err('@foo(x)').message).toMatch(/unknown node '@foo'/);
    expect(err('x +').message).toMatch(/expected an expression/);
    expect(err('2x').info.hint).toMatch(/2\*_a/);
    expect(err('a $ b').info.col).toBe(3);
    expect(err('(a + b').message).toMatch(/expected '\)'/);
  });
});

describe('printPattern', () => {
  it('round-trips random trees node for node (raw and canonical)', () => {
    const r = rng(21);
    for (let i = 0; i < 300; i++) {
      const e = randomTree(r, 5, { dmft: true, fractionalPowers: true });
      expect(key(P(printPattern(e))), printPattern(e)).toBe(key(e));
      const c = canon(e);
      expect(key(P(printPattern(c)))).toBe(key(c));
    }
  });
  it('round-trips the rules themselves', () => {
    for (const s of ['@int(_s, _lo, _t, delta(_t - _s)*__f)', 'sum(_k, _A[_i,_k]*_f)', '_x(t)', 'exp(-__k^2*_v/2)', '@subst(__f, _s, _t)', 'sum[](t) + mean[]']) {
      expect(printPattern(P(printPattern(P(s))))).toBe(printPattern(P(s)));
      expect(key(P(printPattern(P(s))))).toBe(key(P(s)));
    }
  });
});
