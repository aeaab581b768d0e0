// The mean with control variates (controlFit): unbiased at the controls'
// expectation, the spread explained by the controls removed, and a standard
// error that is calibrated (its coverage over many repetitions).
import { describe, expect, it } from 'vitest';
import { controlFit, meanStderr, studentQuantile } from '../../src/numeric/stats.ts';
import { Rng } from '../../src/numeric/rng.ts';

describe('controlFit', () => {
  it('removes the part of the spread linear in the controls; the error bars cover the true mean at their level', () => {
    // y = 3 + 2 c₁ + c₁² − 1 + 0.5 e: c₁ ~ N(0, 1), c₂ = c₁² − 1 (both mean 0), and an irrelevant c₃
    const rng = new Rng(7, 1);
    const n = 40, reps = 600;
    let covered = 0, cvVar = 0, plainVar = 0;
    const q = studentQuantile(0.975, n - 4);
    for (let r = 0; r < reps; r++) {
      const C: number[][] = [], y: number[] = [];
      for (let i = 0; i < n; i++) {
        const c1 = rng.normal(), c3 = rng.normal();
        C.push([c1, c1 * c1 - 1, c3]);
        y.push(3 + 2 * c1 + (c1 * c1 - 1) + 0.5 * rng.normal());
      }
      const fit = controlFit(C);
      expect(fit.p).toBe(3);
      const est = fit.estimate(y);
      expect(est.dof).toBe(n - 4);
      if (Math.abs(est.mean - 3) <= q * est.stderr) covered++;
      cvVar += (est.mean - 3) ** 2 / reps;
      plainVar += (meanStderr(y).mean - 3) ** 2 / reps;
    }
    // 95 % intervals: 570 of 600 expected, binomial sd ≈ 5.3
    expect(covered).toBeGreaterThan(550);
    expect(covered).toBeLessThan(590);
    // var of the plain mean: (4 + 2 + 0.25)/n; with the controls ≈ 0.25/n · (n − 2)/(n − 5)
    expect(plainVar / cvVar).toBeGreaterThan(15);
  });

  it('drops constant and collinear controls (decided on the controls alone); none: the plain mean', () => {
    const C = [[1, 0, 2], [2, 0, 4], [4, 0, 8], [3, 0, 6], [5, 0, 10]];
    const y = [1, 2, 3, 4, 6];
    const fit = controlFit(C);
    expect(fit.p).toBe(1);
    const none = controlFit(y.map(() => []));
    expect(none.p).toBe(0);
    const plain = meanStderr(y);
    expect(none.estimate(y)).toEqual({ mean: plain.mean, stderr: plain.stderr, dof: 4 });
    // y exactly linear in the control: the mean at c = 0 with zero error
    const lin = controlFit([[-1], [0], [1], [2]]).estimate([1, 3, 5, 7]);
    expect(lin.mean).toBeCloseTo(3, 12);
    expect(lin.stderr).toBeLessThan(1e-12);
  });
});
