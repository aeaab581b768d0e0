// check on a map: its default times, two-time grid and T-limit fall on steps;
// times that are not steps, a T that is not a number of steps and --dt are
// refused; there is no step-size check.
import { describe, expect, it } from 'vitest';
import { checkOptions, mapCheckSettings } from '../../src/cli/check.ts';

describe('check settings for maps', () => {
  it('defaults are put on the step grid, the T-limit a multiple of 16', () => {
    const s = mapCheckSettings(checkOptions({ T: '10' }), { T: '10' });
    expect(s.times).toEqual([3, 5, 8, 10]);
    expect(s.grid).toEqual([0, 3, 5, 8, 10]);
    expect(s.TLimit).toBe(48);
    for (let k = 8; k <= 16; k++) expect(Number.isInteger((s.TLimit * k) / 16)).toBe(true);
    // no time step to refine: no step check, and the report says why
    expect(s.stepCheck).toBe(false);
    expect(s.exactSteps).toBe(true);
  });

  it('refuses --dt, a T that is not a number of steps, times that are not steps and a T-limit off the grid', () => {
    expect(() => mapCheckSettings(checkOptions({ T: '10', dt: '0.1' }), { T: '10', dt: '0.1' })).toThrow(/steps once per unit of time/);
    expect(() => mapCheckSettings(checkOptions({ T: '10.5' }), { T: '10.5' })).toThrow(/number of steps/);
    expect(() => mapCheckSettings(checkOptions({ times: '2.5,5' }), { times: '2.5,5' })).toThrow(/2.5 is not a step/);
    expect(() => mapCheckSettings(checkOptions({ T: '16', TLimit: '40' }), { T: '16', TLimit: '40' })).toThrow(/late-time windows of a map must fall on steps/);
    expect(mapCheckSettings(checkOptions({ T: '16', TLimit: '64' }), { T: '16', TLimit: '64' }).TLimit).toBe(64);
  });
});

describe('the automatic T-limit of a map (runCheck without --T-limit)', () => {
  it('follows the relaxation of the theory in multiples of 16; a fast map keeps the default', async () => {
    const { runCheck } = await import('../../src/cli/check.ts');
    const o = { N: '100', seeds: '4', maxSeeds: '4', budget: '60' };
    // x(t+1) = 0.9 x + …: the mean approaches h/(1 − a) like 0.9^t, still 2 % away at t = 36
    const slow = await runCheck('test/check/models/driven-map.dmft', { ...o, set: { a: 0.9, g: 0.05 } });
    expect(slow.late!.T).toBeGreaterThan(48);
    expect(slow.late!.T % 16).toBe(0);
    expect(slow.notes.join('\n')).toMatch(new RegExp(`T-limit = ${slow.late!.T} \\(instead of 48\\)`));
    const fast = await runCheck('test/check/models/driven-map.dmft', o);
    expect(fast.late!.T).toBe(48);
  });
});
