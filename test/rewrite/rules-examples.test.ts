// Every rule in rules/*.rules.json (all families) compiles, and every example
// input matches its rule at the root; when an output is given, applying the
// rule produces it (compared in canonical form). Builders and predicates read
// the rule environment of a fixture model (example-env.ts).
import { describe, expect, it } from 'vitest';
import { allRules } from '../../src/rewrite/rules.ts';
import { applyRule, compileRule, matchRule } from '../../src/rewrite/engine.ts';
import { parsePattern } from '../../src/rewrite/pattern.ts';
import { canon, ckey } from '../../src/expr/canon.ts';
import { printPattern } from '../../src/expr/print.ts';
import { Trace } from '../../src/rewrite/trace.ts';
import type { Expr } from '../../src/expr/ast.ts';
import { exampleEnv } from './example-env.ts';

const rules = allRules();

describe('rule files', () => {
  it('load, with my families present', () => {
    const fams = new Set(rules.map((r) => r.family));
    expect(fams.has('simplify')).toBe(true);
    expect(fams.has('gaussian')).toBe(true);
  });
  for (const r of rules) {
    it(`${r.id} compiles (lhs, rhs, when)`, () => {
      const c = compileRule(r.id);
      expect(c.lhs).toBeDefined();
      expect(r.because.length).toBeGreaterThan(5);
    });
  }
});

describe('rule examples', () => {
  for (const r of rules) {
    for (const [n, ex] of (r.examples ?? []).entries()) {
      it(`${r.id} example ${n + 1}: ${ex.input}`, () => {
        const input = parsePattern(ex.input, `${r.id} example`);
        const bind: Record<string, Expr> = {};
        for (const [w, v] of Object.entries(ex.bind ?? {})) bind[w] = parsePattern(v, `${r.id} example bind`);
        const env = exampleEnv();
        const b = matchRule(r.id, input, { bind, env });
        expect(b, `${r.id}: the example input does not match the pattern ${r.lhs}`).not.toBeNull();
        if (ex.output !== undefined) {
          const trace = new Trace();
          const out = applyRule(r.id, input, { bind, trace, where: 'example', env, keepSame: true });
          expect(out, `${r.id}: rule did not rewrite its example`).not.toBeNull();
          const want = canon(parsePattern(ex.output, `${r.id} example output`));
          expect(printPattern(out!)).toBe(printPattern(want));
          expect(ckey(out!)).toBe(ckey(want));
          expect(trace.steps).toHaveLength(1);
          expect(trace.steps[0].rule).toBe(r.id);
          expect(trace.steps[0].because).toBe(r.because);
        }
      });
    }
  }
});
