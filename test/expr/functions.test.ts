// Every entry of the function registry is usable by every consumer: the
// parser reads it, the evaluators and both compilers agree with its value,
// both derivatives agree with finite differences (and differ only by the
// registered jump's δ), canon's exact folding and the ranges are right, the
// LaTeX printer's output reads back to the same function. A new entry is
// checked here without touching this file.
import { describe, expect, it } from 'vitest';
import { call, mul, num, pow, sym, type Expr } from '../../src/expr/ast.ts';
import { canon, ckey, diff as exactDiff } from '../../src/expr/canon.ts';
import { compile } from '../../src/expr/compile.ts';
import { diff as aeDiff, isVar } from '../../src/expr/diff.ts';
import { constantValue, evaluate } from '../../src/expr/eval.ts';
import { FN_HELPERS, FUNCTION_DEFS, FUNCTION_NAMES, FUNCTIONS, functionJs, KINKED_FUNCTIONS } from '../../src/expr/functions.ts';
import { superlinear } from '../../src/expr/growth.ts';
import { toLatex } from '../../src/latex/print.ts';
import { parseExpr } from '../../src/model/parse.ts';
import { jumpAcross, kinkArgs } from '../../src/numeric/kinks.ts';
import { parseFragment, type TNode } from '../../src/verify/parse.ts';

const X = sym('x');
/** points inside the domain of every function (log, sqrt want x > 0), away from 0 */
const pointsFor = (name: string): number[] =>
  ['log', 'sqrt'].includes(name) ? [0.07, 0.5, 1.3, 2.9, 7.5] : [-3.1, -1.2, -0.4, 0.3, 0.9, 2.2, 4.7];

/** The language function a LaTeX node stands for: \fn(…), e^{…} (exp). */
function fnOf(t: TNode): string | undefined {
  if (t.k === 'fn') return t.fn;
  if (t.k === 'pow' && t.base.k === 'name' && t.base.base === 'e') return 'exp';
  return undefined;
}

describe('the function registry', () => {
  it('has the functions of the language, each with one argument', () => {
    expect(FUNCTION_NAMES.length).toBeGreaterThanOrEqual(11);
    for (const n of FUNCTION_NAMES) expect(FUNCTIONS[n]).toBe(1);
    expect(FUNCTION_DEFS.constructor).toBeUndefined();
  });

  for (const name of FUNCTION_NAMES) {
    const d = FUNCTION_DEFS[name];
    describe(name, () => {
      it('parses, evaluates, folds and compiles to the registered value', () => {
        const e = parseExpr(`${name}(x)`);
        expect(e).toMatchObject({ k: 'call', fn: name });
        const js = new Function('F', 'x', `return ${functionJs(name, 'x')};`) as (F: typeof FN_HELPERS, x: number) => number;
        const f = compile(e, ['x']);
        for (const x of pointsFor(name)) {
          const v = d.value(x);
          expect(Number.isFinite(v)).toBe(true);
          expect(evaluate(e, { vars: { x } })).toBe(v);
          expect(constantValue(e, { x })).toBe(v);
          // generated code (solvers and simulator) may use another formula: agree to rounding
          expect(Math.abs(f([x]) - v)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(v)));
          expect(Math.abs(js(FN_HELPERS, x) - v)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(v)));
        }
        expect(Number.isNaN(js(FN_HELPERS, NaN))).toBe(true);
      });

      it('both derivatives agree with central differences', () => {
        // the exact derivative of a jump carries δ(x), which has no pointwise value
        const exact = !d.breakpoint || d.breakpoint.jump === 0 ? compile(exactDiff(call(name, X), 'x'), ['x']) : undefined;
        const ae = compile(aeDiff(call(name, X), isVar('x')), ['x']);
        for (const x of pointsFor(name)) {
          const h = 1e-5 * Math.max(1, Math.abs(x));
          const fd = (d.value(x + h) - d.value(x - h)) / (2 * h);
          const tol = 1e-7 * Math.max(1, Math.abs(fd));
          expect(Math.abs(ae([x]) - fd)).toBeLessThan(tol);
          if (exact) expect(Math.abs(exact([x]) - fd)).toBeLessThan(tol);
        }
      });

      it('the exact derivative is the almost-everywhere one plus jump·δ at the breakpoint', () => {
        const jump = d.breakpoint?.jump ?? 0;
        const a = mul(num(3), X);
        const expected = canon(mul(num(3), (d.aeDerivative ?? d.derivative)(a)));
        const withDelta = jump === 0 ? expected : canon({ k: 'add', terms: [expected, mul(num(3 * jump), call('delta', a))] });
        expect(ckey(exactDiff(call(name, a), 'x'))).toBe(ckey(withDelta));
      });

      it('its breakpoint (if any) is where the registry says, with the registered jump', () => {
        const args = kinkArgs(call(name, X));
        expect(KINKED_FUNCTIONS.has(name)).toBe(!!d.breakpoint);
        expect(args.length).toBe(d.breakpoint ? 1 : 0);
        if (d.breakpoint) expect(jumpAcross(d.value, 0)).toBeCloseTo(d.breakpoint.jump, 12);
        else for (const x of pointsFor(name)) expect(jumpAcross(d.value, x)).toBe(0);
      });

      it('exact folding, range, growth and sign claims hold on samples', () => {
        if (d.exact) {
          for (const [p, q] of [[0, 1], [1, 1], [-1, 1], [4, 9], [-3, 2], [2, 1]] as const) {
            const r = d.exact(p, q);
            if (r) expect(Math.abs(r[0] / r[1] - d.value(p / q))).toBeLessThan(1e-15);
          }
        }
        if (d.domain) {
          // undefined below the domain (and at its open end), finite inside
          expect(Number.isFinite(d.value(d.domain.lo - 0.5))).toBe(false);
          expect(Number.isFinite(d.value(d.domain.lo))).toBe(d.domain.closed);
          expect(Number.isFinite(d.value(d.domain.lo + 0.5))).toBe(true);
        } else for (const x of [-50, -1, 0, 1, 50]) expect(Number.isFinite(d.value(x))).toBe(true);
        const xs = [...pointsFor(name), ...pointsFor(name).map((x) => 10 * x)];
        if (d.range) {
          const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
          const [rlo, rhi] = d.range(lo, hi);
          for (const x of xs) { expect(d.value(x)).toBeGreaterThanOrEqual(rlo - 1e-12); expect(d.value(x)).toBeLessThanOrEqual(rhi + 1e-12); }
        }
        const big = Math.abs(d.value(60)) / 60;
        if (d.growth === 'superlinear') { expect(big).toBeGreaterThan(1e3); expect(superlinear(call(name, X), (e) => e.k === 'sym' && e.name === 'x')).toBeDefined(); }
        else { expect(big).toBeLessThan(2); expect(superlinear(call(name, X), (e) => e.k === 'sym' && e.name === 'x')).toBeUndefined(); }
        for (const x of xs) {
          if (d.nonnegative) expect(d.value(x)).toBeGreaterThanOrEqual(0);
          if (d.positive === 'always' || (d.positive === 'if-arg-positive' && x > 0) || (d.positive === 'if-arg-nonzero' && x !== 0)) expect(d.value(x)).toBeGreaterThan(0);
        }
      });

      it('prints to LaTeX and reads back, also as a power and under every accepted name', () => {
        const arg: Expr = { k: 'add', terms: [X, num(1)] };
        expect(fnOf(parseFragment(toLatex(call(name, X))))).toBe(name);
        expect(fnOf(parseFragment(toLatex(call(name, arg))))).toBe(name);
        const sq = parseFragment(toLatex(pow(call(name, arg), num(2))));
        expect(sq.k).toBe('pow');
        if (sq.k === 'pow') expect(fnOf(sq.base)).toBe(name);
        for (const c of d.tex.commands ?? []) expect(fnOf(parseFragment(`\\${c}(x)`))).toBe(name);
        for (const w of d.tex.words ?? []) expect(fnOf(parseFragment(`\\operatorname{${w}}(x)`))).toBe(name);
      });
    });
  }
});
