// Per-seed batches in check: seeds run to T only (for the transient rows) are
// merged with the long seeds cut at T, control variates and all; each summary
// counts its own seeds and the degrees of freedom its controls cost.
import { describe, expect, it } from 'vitest';
import { atTimes, merge, summarize, type SeedBatch } from '../../src/check/samples.ts';
import { Rng } from '../../src/numeric/rng.ts';

// y(t) = 5 + 2c + 0.01 e per seed, with one control c of expectation 0
function batch(seed0: number, n: number, t: number[]): SeedBatch {
  const rng = new Rng(seed0, 3);
  const seeds: number[] = [], controls: number[][] = [], y: number[][] = [];
  for (let s = 0; s < n; s++) {
    const c = rng.normal();
    seeds.push(seed0 + s); controls.push([c]);
    y.push(t.map(() => 5 + 2 * c + 0.01 * rng.normal()));
  }
  return { N: 100, t, seeds, observables: { y }, controls, controlNames: ['c'] };
}

describe('check samples', () => {
  it('long seeds cut at T and short seeds merge with their controls; the late windows keep the long seeds and their own dof', () => {
    const long = batch(1, 20, [0, 1, 2, 3, 4]), short = batch(21, 12, [0, 1]);
    const tr = summarize(merge(atTimes(long, short.t), short));
    expect(tr.t).toEqual([0, 1]);
    expect([tr.seeds, tr.controls, tr.dof]).toEqual([32, 1, 30]);
    // the control explains all but 0.01 of the spread (sd 2 without it)
    for (const [k, v] of tr.observables.y.entries()) {
      expect(tr.stderr.y[k]).toBeLessThan(0.01);
      expect(Math.abs(v - 5)).toBeLessThan(5 * tr.stderr.y[k]);
    }
    const late = summarize(long, [2, 3, 4]).late!;
    expect([late.seeds, late.dof]).toEqual([20, 18]);
    // the windows' own sample times (the merged transient's stop at T)
    expect(late.t).toEqual([2, 3, 4]);
    // too few seeds for the control (n − p − 1 < 8): the plain mean, n − 1 dof
    const few = summarize(batch(40, 9, [0, 1]));
    expect([few.controls, few.dof]).toEqual([undefined, 8]);
    expect(few.stderr.y[0]).toBeGreaterThan(0.1);
  });
});
