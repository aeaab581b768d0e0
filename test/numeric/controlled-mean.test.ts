// Control variates (controlledMean, used by check on each seed's moments of its
// random inputs): the mean of y = a + b·z + ε with E z = 0 known exactly is
// estimated with the spread of ε only, its 1σ interval covers a about 68 % of
// the time, and with too few seeds per control the plain mean is returned.
import { describe, expect, it } from 'vitest';
import { controlledMean, meanStderr } from '../../src/numeric/stats.ts';
import { Rng } from '../../src/numeric/rng.ts';

describe('controlledMean', () => {
  it('removes the part explained by mean-zero controls, with honest 1σ coverage', () => {
    const rng = new Rng(11, 5);
    let covered = 0, ratio = 0;
    const reps = 400, n = 40;
    for (let r = 0; r < reps; r++) {
      const z = Array.from({ length: n }, () => [rng.normal(), rng.normal()]);
      const y = z.map((c) => 2 + 3 * c[0] - c[1] + 0.1 * rng.normal());
      const c = controlledMean(y, z), p = meanStderr(y);
      expect(c.lost).toBe(2);
      if (Math.abs(c.mean - 2) <= c.stderr) covered++;
      ratio += c.stderr / p.stderr / reps;
    }
    // ε carries 0.1² of the variance 3² + 1 + 0.1²: the error falls about 30-fold
    expect(ratio).toBeLessThan(0.05);
    // Student-t with 37 dof: P(|t| ≤ 1) = 0.676; binomial sd over 400 repetitions 0.023
    expect(covered / reps).toBeGreaterThan(0.6);
    expect(covered / reps).toBeLessThan(0.76);
  });
  it('falls back to the plain mean with fewer than 5 seeds per degree of freedom, or controls without spread', () => {
    const y = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(controlledMean(y, y.map((v) => [v, -v]))).toEqual({ ...meanStderr(y), lost: 0 });
    const z = Array.from({ length: 30 }, () => [0]);
    const y30 = Array.from({ length: 30 }, (_, i) => i % 3);
    expect(controlledMean(y30, z)).toEqual({ ...meanStderr(y30), lost: 0 });
  });
});
