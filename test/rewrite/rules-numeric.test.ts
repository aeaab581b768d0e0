// Numeric soundness of every closed-form rule in rules/*.rules.json, whatever
// its family: random values for the wildcards (test/rewrite/sampler.ts), both
// sides evaluated, agreement to a relative tolerance of 1e-9 — except rules
// with δ (1e-5: δ is a kernel of width 1e-7 whose bias is ~ε·|f′|).
// Gaussian averages use 160-node Gauss–Hermite quadrature (error < 1e-12 for
// the random integrands used here); integrals use adaptive Gauss–Kronrod
// (1e-12).
import { describe, expect, it } from 'vitest';
import { allRules } from '../../src/rewrite/rules.ts';
import { compileRule } from '../../src/rewrite/engine.ts';
import { evaluate } from '../../src/expr/eval.ts';
import { printPattern } from '../../src/expr/print.ts';
import { hashString, rng, sampleInstance } from './sampler.ts';

const TRIALS = 6;
const closed = allRules().filter((r) => r.closedForm);

describe('closed-form rules hold numerically', () => {
  it('covers the closed-form rules of every family', () => {
    expect(closed.length).toBeGreaterThanOrEqual(35);
    expect(new Set(closed.map((r) => r.family)).size).toBeGreaterThanOrEqual(2);
  });
  for (const r of closed) {
    it(`${r.id}: ${r.lhs}  =  ${r.rhs}`, () => {
      const c = compileRule(r.id);
      const rand = rng(hashString(r.id));
      for (let trial = 0; trial < TRIALS; trial++) {
        const inst = sampleInstance(c, rand);
        const L = evaluate(inst.lhs, inst.env);
        const R = evaluate(inst.rhs, inst.env);
        const what = `${r.id} trial ${trial}: ${printPattern(inst.lhs)} = ${L}  vs  ${printPattern(inst.rhs)} = ${R}  (tolerance ${inst.tol}: ${inst.tolReason})`;
        expect(Number.isFinite(L) && Number.isFinite(R), what).toBe(true);
        expect(Math.abs(L - R), what).toBeLessThanOrEqual(inst.tol * Math.max(Math.abs(L), Math.abs(R)) + 1e-12);
      }
    });
  }
});

describe('the numeric check has teeth', () => {
  // a wrong rule must fail the same check
  it('rejects wrong identities', async () => {
    const { compileRuleData } = await import('../../src/rewrite/engine.ts');
    const wrong = [
      { lhs: 'tanh(-_a)', rhs: 'tanh(_a)' },
      { lhs: '@int(_s, _lo, _t, delta(_t - _s)*__f)', rhs: '@subst(__f, _s, _t)/2' },
      { lhs: '@avg(_p, exp(__a*_z))', rhs: 'exp(__a^2*_v)', random: { _z: 'normal(0, _v)' }, when: 'free(__a, _z), nonrandom(__a)' },
      { lhs: '@avg(_p, _a*__f)', rhs: '_a*@avg(_p, __f)' /* no nonrandom condition */ },
      { lhs: '@avg(_p, _z*__f)', rhs: '_v*@avg(_p, __f)', random: { _z: 'normal(0, _v)' } },
      { lhs: '@int(_v, _lo, _hi, _a*__f)', rhs: '_a*@int(_v, _lo, _hi, __f)' /* no free condition */ },
    ];
    for (const [n, w] of wrong.entries()) {
      const c = compileRuleData({ id: `test.wrong.${n}`, because: 'wrong on purpose', closedForm: true, family: 'test', file: '-', ...w });
      const rand = rng(1234 + n);
      let caught = false;
      for (let trial = 0; trial < 12 && !caught; trial++) {
        const inst = sampleInstance(c, rand);
        const L = evaluate(inst.lhs, inst.env), R = evaluate(inst.rhs, inst.env);
        if (Math.abs(L - R) > inst.tol * Math.max(Math.abs(L), Math.abs(R)) + 1e-12) caught = true;
      }
      expect(caught, `wrong rule ${w.lhs} = ${w.rhs} passed the numeric check`).toBe(true);
    }
  });
});
