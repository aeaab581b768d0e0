import { describe, expect, it } from 'vitest';
import { sym } from '../../src/expr/ast.ts';
import { canon, ckey } from '../../src/expr/canon.ts';
import { printPattern } from '../../src/expr/print.ts';
import {
  RewriteError, applyRule, chain, checkConditions, compileRuleData, family, first, fixpoint, matchRule, once, parseWhen, postwalk,
  predicates, rule, rules, run, simplify, type CompiledRule, type Strategy,
} from '../../src/rewrite/engine.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';
import type { Rule } from '../../src/rewrite/rules.ts';
import { Trace } from '../../src/rewrite/trace.ts';
import { match, instantiate } from '../../src/rewrite/match.ts';

const P = (s: string) => parsePattern(s);
const C = (s: string) => canon(P(s));
const pp = (e: ReturnType<typeof canon> | null) => (e ? printPattern(e) : null);

/** an ad-hoc rule as a strategy (not in rules/, so no trace) */
function adhoc(lhs: string, rhs: string, when?: string): Strategy {
  const c: CompiledRule = compileRuleData({ id: `test.${lhs}`, lhs, rhs, when, because: 'test', family: 'test', file: '-' } as Rule);
  return (e, ctx) => {
    const b = match(c.lhs, e, {}, { bound: ctx.bound, isTime: ctx.isTime });
    if (!b) return null;
    const out = instantiate(c.rhs, b);
    return ckey(out) === ckey(e) ? null : out;
  };
}

describe('applyRule', () => {
  it('rewrites at the root, records a Step with the rule id, reason and where', () => {
    const trace = new Trace();
    const out = applyRule('simplify.int.delta-sift', P('@int(s, 0, t, delta(t - s)*@op(R, t, s)*x(s))'), { trace, where: 'population N' });
    expect(pp(out)).toBe(pp(C('@op(R, t, t)*x(t)')));
    expect(trace.steps).toHaveLength(1);
    expect(trace.steps[0]).toMatchObject({ rule: 'simplify.int.delta-sift', where: 'population N' });
    expect(trace.steps[0].because).toMatch(/counts fully/);
    expect(pp(trace.steps[0].after)).toBe(pp(out));
  });
  it('returns null when the pattern does not match or the condition fails, and records nothing', () => {
    const trace = new Trace();
    expect(applyRule('simplify.int.delta-sift', P('@int(s, 0, t, x(s))'), { trace })).toBeNull();
    // free(_a, _v) fails for every factor
    expect(applyRule('simplify.int.const-factor', P('@int(s, 0, t, x(s)*@op(R, t, s))'), { trace })).toBeNull();
    // only applies deeper: applyRule works at the root only
    expect(applyRule('simplify.tanh.odd', P('1 + tanh(-x)'), { trace })).toBeNull();
    expect(trace.steps).toHaveLength(0);
  });
  it('does not match rules inside out: the condition picks the right factor', () => {
    const out = applyRule('simplify.int.const-factor', P('@int(s, 0, t, x(s)*kappa*@op(R, t, s))'));
    expect(pp(out)).toBe(pp(C('kappa*@int(s, 0, t, x(s)*@op(R, t, s))')));
  });
  it('bind supplies computed pieces and names', () => {
    const out = applyRule('gaussian.second-moment', P('@avg(N, eta(t)^2)'), { bind: { _z: P('eta(t)'), _v: P('g^2*@op(C_phi, t, t)') } });
    expect(pp(out)).toBe(pp(C('g^2*@op(C_phi, t, t)')));
    const hs = applyRule('gaussian.hubbard-stratonovich', P('exp(k^2*q/2)'), { bind: { _z: 'eta', _p: 'N' } });
    expect(pp(hs)).toBe(pp(C('@avg(N, exp(eta*k))')));
  });
  it('refuses Gaussian rules unless the caller binds the Gaussian variable', () => {
    expect(() => applyRule('gaussian.second-moment', P('@avg(N, z^2)'), { bind: { _v: 'q' } })).toThrow(/_z is a random variable/);
  });
  it('errors name the rule', () => {
    expect(() => applyRule('gaussian.second-moment', P('@avg(N, z^2)'), { bind: { _z: 'z' } })).toThrow(/gaussian.second-moment.*_v is not bound/);
    expect(() => applyRule('no.such.rule', P('x'))).toThrow(/no rule with id/);
  });
  it('matchRule returns bindings without rewriting', () => {
    expect(matchRule('simplify.tanh.odd', P('tanh(-2*x)'))).toEqual({ _a: C('2*x') });
  });
});

describe('strategies', () => {
  it('once rewrites the first match in pre-order', () => {
    const trace = new Trace();
    const out = run(once(rule('simplify.tanh.odd')), P('tanh(-a) + exp(tanh(-tanh(-b)))'), { trace });
    // pre-order: the sum's terms in canonical order (exp(…) before tanh(…)),
    // outer calls before inner ones
    expect(trace.steps).toHaveLength(1);
    expect(pp(out)).toBe(pp(C('tanh(-a) + exp(-tanh(tanh(-b)))')));
  });
  it('postwalk applies bottom-up at every node, once per node', () => {
    const trace = new Trace();
    const out = run(postwalk(rule('simplify.tanh.odd')), P('tanh(-tanh(-b)) + tanh(-a)'), { trace });
    // inner tanh(-b) → -tanh(b) makes the outer tanh(tanh(b)) — no further match
    expect(pp(out)).toBe(pp(C('tanh(tanh(b)) - tanh(a)')));
    expect(trace.steps.map((s) => s.rule)).toEqual(['simplify.tanh.odd', 'simplify.tanh.odd']);
  });
  it('fixpoint(postwalk(family)) simplifies a reaction-term integral', () => {
    const trace = new Trace();
    const e = P('@int(s, 0, t, g^2*(delta(t - s)*x(s) + kappa*@op(R, t, s)*x(s)))');
    const out = simplify(e, { trace, where: 'test' });
    // g^2 comes out first (a factor of the whole body); products of sums are not expanded
    expect(pp(out)).toBe(pp(C('g^2*(x(t) + kappa*@int(s, 0, t, x(s)*@op(R, t, s)))')));
    const used = new Set(trace.steps.map((s) => s.rule));
    expect(used).toContain('simplify.int.delta-sift');
    expect(used).toContain('simplify.int.const-factor');
    // the result is a fixpoint
    expect(pp(simplify(out))).toBe(pp(out));
  });
  it('simplify reaches normal forms that several rules cooperate on', () => {
    expect(pp(simplify(P('exp(a)*exp(b)/exp(a+b)')))).toBe('1');
    expect(pp(simplify(P('@avg(N, 2*g*x(t) + @op(M, t))')))).toBe(pp(C('2*g*@avg(N, x(t)) + @op(M, t)')));
    expect(pp(simplify(P('@int(s, 0, t, 3)')))).toBe('3*t');
    expect(pp(simplify(P('sin(-w*t)^2 + cos(w*t)^2')))).toBe('1');
  });
  it('rules / first / chain compose', () => {
    const trace = new Trace();
    const s = chain(once(rules('simplify.sin.odd', 'simplify.tanh.odd')), once(first(rule('simplify.cos.even'), rule('simplify.tanh.odd'))));
    const out = run(s, P('tanh(-a) + cos(-b)'), { trace });
    expect(pp(out)).toBe(pp(C('-tanh(a) + cos(b)')));
    expect(trace.steps.map((x) => x.rule)).toEqual(['simplify.tanh.odd', 'simplify.cos.even']);
    expect(run(chain(), P('x'))).toEqual(sym('x'));
    expect(() => family('nope')).toThrow(/no rules in family/);
  });
  it('fixpoint reports a cycle with the rules involved', () => {
    const s = fixpoint(postwalk(first(adhoc('tanh(_a)', 'sin(_a)'), adhoc('sin(_a)', 'tanh(_a)'))));
    expect(() => run(s, P('tanh(x)'))).toThrow(RewriteError);
    expect(() => run(s, P('tanh(x)'))).toThrow(/cycle/);
  });
  it('fixpoint stops at the step cap with a clear error', () => {
    const grow = fixpoint(postwalk(adhoc('exp(_a)', 'exp(_a + 1)')), { maxSteps: 25 });
    expect(() => run(grow, P('exp(x)'))).toThrow(/no fixpoint after 25 passes/);
  });
  it('postwalk remembers finished subtrees per context (a shared node inside and outside an integral)', () => {
    const shared = P('exp(w)');
    // the integral is visited first (canonical order), so the shared node is
    // finished there under {w} — but not outside, where w is a constant
    const e = { k: 'add', terms: [{ k: 'int', v: 'w', lo: { k: 'num', v: 0 }, hi: { k: 'num', v: 1 }, body: shared }, { k: 'cmp', op: '>', a: shared, b: { k: 'num', v: 0 } }] } as const;
    const s = fixpoint(postwalk(adhoc('exp(_c)', 'E')));
    expect(pp(run(s, e as never))).toBe(pp(C('@int(w, 0, 1, exp(w)) + (E > 0)')));
  });
  it('the integration variable is not a constant inside int bodies during traversal', () => {
    const s = once(adhoc('exp(_c)', 'E'));
    expect(pp(run(s, P('@int(w, 0, 1, exp(w))')))).toBe(pp(C('@int(w, 0, 1, exp(w))')));
    expect(pp(run(s, P('@int(w, 0, 1, exp(q))')))).toBe(pp(C('@int(w, 0, 1, E)')));
    expect(pp(run(s, P('exp(w)')))).toBe('E');
  });
});

describe('rule compilation and side conditions', () => {
  const compile = (lhs: string, rhs: string, when?: string) => compileRuleData({ id: 'test.x', lhs, rhs, when, because: 'b', family: 'test', file: '-' } as Rule);
  it('rejects rules that canon already performs', () => {
    expect(() => compile('_a + 0', '_a')).toThrow(/canon already performs/);
    expect(() => compile('_a*1', '_a')).toThrow(/bare wildcard/);
  });
  it('rejects meta functions in patterns and bad syntax, naming the rule', () => {
    expect(() => compile('@diff(_a, x)', '_a')).toThrow(/only allowed in the replacement/);
    expect(() => compile('tanh(_a', '_a')).toThrow(/test.x/);
  });
  it('parses predicate conditions, treats prose as documentation, rejects unknown predicates', () => {
    expect(parseWhen('const(_c), free(_f, _s) && nonzero(_a) and positive(_b)', 'id')!.map((c) => c.name)).toEqual(['const', 'free', 'nonzero', 'positive']);
    expect(parseWhen('A has mean m with K·m = O(1)', 'id')).toBeUndefined();
    expect(() => parseWhen('cnst(_c)', 'id')).toThrow(/unknown predicate 'cnst'/);
    expect(() => parseWhen('free(_f)', 'id')).toThrow(/takes 2\+ argument/);
    expect(predicates().map((p) => p.name)).toEqual(expect.arrayContaining(['const', 'free', 'nonrandom', 'positive']));
  });
  it('predicates decide what they claim', () => {
    const check = (when: string, lhs: string, e: string) => matchRuleData(compile(lhs, 'q', when), e);
    expect(check('positive(_a)', 'tanh(_a)', 'tanh(exp(x) + 2)')).toBe(true);
    expect(check('positive(_a)', 'tanh(_a)', 'tanh(x)')).toBe(false);
    expect(check('nonneg(_a)', 'tanh(_a)', 'tanh((x - y)^2 + abs(z))')).toBe(true);
    expect(check('nonzero(_a)', 'tanh(_a)', 'tanh(-3*exp(x))')).toBe(true);
    expect(check('free(_a, s)', 'tanh(_a)', 'tanh(x(s))')).toBe(false);
    expect(check('free(_a, s)', 'tanh(_a)', 'tanh(@int(s, 0, t, x(s)))')).toBe(true);
    expect(check('free(_a, j)', 'tanh(_a)', 'tanh(sum(j, J[i,j]))')).toBe(true);
    expect(check('free(_a, j)', 'tanh(_a)', 'tanh(J[i,j])')).toBe(false);
    expect(check('nonrandom(_a)', 'tanh(_a)', 'tanh(@op(C, t, t)*@avg(N, x(t)))')).toBe(true);
    expect(check('nonrandom(_a)', 'tanh(_a)', 'tanh(x(t))')).toBe(false);
    expect(check('integer(_a)', 'tanh(_a)', 'tanh(3)')).toBe(true);
    expect(check('integer(_a)', 'tanh(_a)', 'tanh(1/3)')).toBe(false);
    expect(check('distinct(_a, _b)', '_a^_b', 'x^y')).toBe(true);
    expect(check('distinct(_a, _b)', '_a^_b', 'x^x')).toBe(false);
    expect(check('has(_a, eta(t))', 'tanh(_a)', 'tanh(2*eta(t))')).toBe(true);
  });
});

/** does the compiled rule's pattern match e with its side condition? */
function matchRuleData(c: CompiledRule, e: string): boolean {
  const ctx = { bound: new Set<string>(), isTime: () => false };
  return match(c.lhs, C(e), {}, { guard: (b) => checkConditions(c.conds!, b, ctx, c.rule.id) }) !== null;
}
