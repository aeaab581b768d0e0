// The scaling-law example (examples/power-law-ridge.dmft: ridge on inputs whose
// coordinate i has variance s_i = u_i^a, u_i ~ uniform(0, 1)) solved at t → ∞ by
// the static solver, against the deterministic equivalent of ridge computed here
// independently: the effective regularization κ solves κ(α − E[s/(s + κ)]) = λ
// (plain bisection), and the excess risk is κ² E[s/(s + κ)²] / (1 − E[s²/(s + κ)²]/α),
// with the expectations over u in closed form for a = 1 and a = 2 (elementary
// integrals of rational functions of u). Each value must lie within the
// solver's own error bar. The site is affine in its Gaussian inputs with the
// coefficient u^(a/2): Gaussian rules are exact there and only u is refined.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { deriveCavity } from '../../src/derive/cavity.ts';
import { loadModel } from '../../src/model/load.ts';
import { solve } from '../../src/solve/index.ts';

const file = join(__dirname, '../../examples/power-law-ridge.dmft');

/** E[s/(s+κ)], E[s/(s+κ)²], E[s²/(s+κ)²] over s = u^a, u ~ uniform(0, 1), in closed form. */
function moments(k: number, a: 1 | 2): [number, number, number] {
  if (a === 1) {
    const L = Math.log1p(1 / k);
    return [1 - k * L, L - 1 / (1 + k), 1 - 2 * k * L + k / (1 + k)];
  }
  // ∫₀¹ du/(u² + κ) = A, ∫₀¹ du/(u² + κ)² = B
  const A = Math.atan(1 / Math.sqrt(k)) / Math.sqrt(k);
  const B = 1 / (2 * k * (1 + k)) + A / (2 * k);
  return [1 - k * A, A - k * B, 1 - 2 * k * A + k * k * B];
}

function deterministicEquivalent(alpha: number, lam: number, a: 1 | 2): number {
  // κ(α − E[s/(s+κ)]) − λ rises from −λ at κ = 0 (α > 0): bisect on (0, λ/α + λ]
  const f = (k: number) => k * (alpha - moments(k, a)[0]) - lam;
  let lo = 0, hi = lam / Math.max(alpha - 1, 1e-3) + lam;
  while (f(hi) < 0) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-300; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (f(mid) < 0) lo = mid; else hi = mid;
  }
  const k = 0.5 * (lo + hi);
  const [, e2, e3] = moments(k, a);
  return (k * k * e2) / (1 - e3 / alpha);
}

describe('power-law ridge (scaling law) at t → ∞ against the deterministic equivalent', () => {
  const base = deriveCavity(loadModel(file)).system;

  it.each([
    [2, 1, 0.1], [2, 2, 0.1], [2, 4, 0.1], [1, 1, 0.1], [1, 4, 0.1], [2, 2, 0.5],
  ] as const)('a = %s, α = %s, λ = %s: within the solver\'s error bar, the transient skipped', (a, alpha, lam) => {
    const params = { ...base.params, a, alpha, lam };
    const r = solve({ ...base, params }, { params, T: 50, dt: 0.05, method: 'static', limitOnly: true });
    expect(r.method).toBe('static');
    expect(r.t).toEqual([]);
    expect(r.limitStatus?.test.status).toBe('value');
    const v = r.limit!.test, e = r.limitError!.test;
    const ref = deterministicEquivalent(alpha, lam, a);
    expect(e).toBeGreaterThan(0);
    expect(e).toBeLessThan(1e-9 * ref);
    expect(Math.abs(v - ref)).toBeLessThanOrEqual(e);
  });

  it('the reference reproduces the example\'s documented value and, for a = 2, the exponent −(1 + 1/a) at large α', () => {
    expect(deterministicEquivalent(2, 0.1, 2)).toBeCloseTo(0.014094098251637644, 15);
    const slope = Math.log(deterministicEquivalent(1e6, 0.1, 2) / deterministicEquivalent(1e5, 0.1, 2)) / Math.log(10);
    expect(slope).toBeCloseTo(-1.5, 2);
  });

  it('dmft sweep --method static in limit mode skips the transient at every point', async () => {
    const out: string[] = [];
    expect(await main(['node', 'dmft', 'sweep', file, '--set', 'alpha=2,4', '--method', 'static', '--jobs', '1', '--csv', '-q'], (x) => out.push(x))).toBe(0);
    const [head, ...rows] = out.join('').trim().split('\n').map((l) => l.split(','));
    const col = (name: string) => head.indexOf(name);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row[col('method')]).toBe('static');
      const alpha = Number(row[col('alpha')]);
      expect(Math.abs(Number(row[col('test')]) - deterministicEquivalent(alpha, 0.1, 2))).toBeLessThanOrEqual(Number(row[col('test_error')]));
    }
  });
});
