// --max-seeds bounds the seeds per size, long (to T-limit) and short (to T)
// ones together. The order that once passed the cap: short seeds added first
// (transient rows open), then the late rows open and the long seeds grow.
import { describe, expect, it } from 'vitest';
import { seedsToAdd } from '../../src/check/run.ts';

describe('seeds added per round under --max-seeds', () => {
  it('short seeds already added, then the long ones grow: the total stays within the cap', () => {
    // 16 long + 16 short seeds, cap 40; the long seeds would grow ×2.5 (+24 → 56 in all)
    const { addLong, addShort } = seedsToAdd({ longNow: 16, trNow: 32, g: 2.5, gt: 1, cap: 40, late: true, transient: false });
    expect(32 + addLong + addShort).toBeLessThanOrEqual(40);
    expect(addLong).toBe(8);
  });
  it('both kinds open: long first, short seeds fill the rest up to the cap', () => {
    const { addLong, addShort } = seedsToAdd({ longNow: 16, trNow: 32, g: 2, gt: 2, cap: 50, late: true, transient: true });
    expect(addLong).toBe(16);
    expect(addShort).toBe(2);
  });
  it('without a cap: long seeds ×g, all seeds ×gt', () => {
    const { addLong, addShort } = seedsToAdd({ longNow: 16, trNow: 32, g: 2, gt: 3, cap: Infinity, late: true, transient: true });
    expect(addLong).toBe(16);
    expect(addShort).toBe(96 - 32 - 16);
  });
});
