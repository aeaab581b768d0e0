// The automatic T-limit of `check` (lateHorizon): the late window must lie
// where the theory is within target/8 of its limit.
import { describe, expect, it } from 'vitest';
import { lateHorizon } from '../../src/check/run.ts';
import type { SolveResult } from '../../src/solve/types.ts';

const theoryOf = (f: (t: number) => number, limit: number, T = 10): SolveResult => {
  const t = Array.from({ length: 33 }, (_, i) => (T * i) / 32);
  return {
    model: 'm', params: {}, method: 'gaussian', t, observables: { x: t.map(f) }, error: { x: t.map(() => 1e-9) },
    limit: { x: limit }, limitError: { x: 1e-12 }, limitStatus: { x: { status: 'value' } }, diagnostics: {},
  } as unknown as SolveResult;
};

describe('lateHorizon', () => {
  it('a power-law approach x = 1 + 0.5/t: the window starts where 0.5/t ≤ (2%/8)·scale', () => {
    const h = lateHorizon(theoryOf((t) => 1 + 0.5 / Math.max(t, 0.5), 1), 10, 40, 0.02);
    // scale 2 (x(0.5) = 2): 0.5/t* = 0.0025·2 ⇒ t* = 100, T-limit = 4/3·100 = 134, capped at 4 × 40 = 160
    expect(h.TL).toBe(134);
    expect(h.note).toMatch(/T-limit = 134 \(instead of 40\).*t\^-1/);
  });
  it('a fast exponential approach keeps the default', () => {
    expect(lateHorizon(theoryOf((t) => 1 + Math.exp(-2 * t), 1), 10, 40, 0.02).TL).toBe(40);
  });
  it('a slow approach is capped at 4× the default, and the note says so', () => {
    const h = lateHorizon(theoryOf((t) => 1 + 0.5 / Math.sqrt(Math.max(t, 0.25)), 1), 10, 40, 0.02);
    expect(h.TL).toBe(160);
    expect(h.note).toMatch(/capped at 4× the default/);
  });
});

describe('the automatic T-limit is on only when --T-limit is not given', () => {
  it('checkOptions and mapCheckSettings', async () => {
    const { checkOptions, mapCheckSettings } = await import('../../src/cli/check.ts');
    expect(checkOptions({}).TLimitAuto).toBe(true);
    expect(checkOptions({ TLimit: '40' }).TLimitAuto).toBe(false);
    // a map's late windows must fall on steps: no automatic horizon
    expect(mapCheckSettings(checkOptions({ T: '10' }), { T: '10' }).TLimitAuto).toBe(false);
  });
});
