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

describe('lateHorizon on a map (a step grid)', () => {
  it('a geometric approach x = 1 + 0.5·0.9^t, fitted on the window [24, 48] of the default horizon: rounded up to a multiple of 16', () => {
    const t = Array.from({ length: 9 }, (_, j) => (48 * (8 + j)) / 16);
    const th = { ...theoryOf(() => 0, 1), t, observables: { x: t.map((k) => 1 + 0.5 * 0.9 ** k) }, error: { x: t.map(() => 1e-12) } } as SolveResult;
    // scale 1.0399 (t = 24): 0.5·0.9^t ≤ 0.0025·1.0399 from t* = 49.9; 4/3·t* = 66.6 → 80
    const h = lateHorizon(th, 48, 48, 0.02, 16);
    expect(h.TL).toBe(80);
    expect(h.note).toMatch(/T-limit = 80 \(instead of 48\)/);
    // already within target/8 over the window: the default stays
    expect(lateHorizon({ ...th, observables: { x: t.map((k) => 1 + 0.5 * 0.7 ** k) } } as SolveResult, 48, 48, 0.02, 16).TL).toBe(48);
  });
});

describe('the automatic T-limit is on only when --T-limit is not given', () => {
  it('checkOptions and mapCheckSettings', async () => {
    const { checkOptions, mapCheckSettings } = await import('../../src/cli/check.ts');
    expect(checkOptions({}).TLimitAuto).toBe(true);
    expect(checkOptions({ TLimit: '40' }).TLimitAuto).toBe(false);
    // a map: automatic too (fitted on the window's steps of the default horizon, in multiples of 16)
    expect(mapCheckSettings(checkOptions({ T: '10' }), { T: '10' }).TLimitAuto).toBe(true);
    expect(mapCheckSettings(checkOptions({ T: '16', TLimit: '64' }), { T: '16', TLimit: '64' }).TLimitAuto).toBe(false);
  });
});
